/* The Prometheus textfile (docs/metrics.md) rendered from a snapshot of the daemon's state: pure, testable. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "fsm.h"
#include "state.h"

struct metrics_check {
        const char *name;
        enum health health;
        enum severity severity;
        double duration_seconds;        /* last run */
        int last_exit;                  /* exit code, or -1 for signal / timeout / exec failure */
        uint64_t runs;
};

struct metrics_peer {
        const char *address;
        bool up;
        double uptime_seconds;
        uint64_t prefixes_sent;
        const char *bfd;                /* the session's BFD state ("Up", "Down", ...), NULL without BFD */
        const char *state;              /* bgpd's bgpState ("Established", "Active", ...), NULL when unknown */
};

struct metrics_prefix {
        const char *prefix;
        const char *announcement;       /* "announced", "configured", "withdrawn"; NULL: not read yet */
};

struct metrics_service {
        const char *name;
        enum fo_state state;            /* decided; STATE_INVALID before the first decision */
        bool drained;
        uint64_t transitions;
        double last_change_timestamp;   /* unix time; 0 before the first change */
};

struct metrics_snapshot {
        const char *hostname;
        const char *group;              /* conf's group: a label on every series; NULL: none */
        bool reload_refused;            /* the last reload was refused */
        bool failsafe;                  /* written by failoverd --failsafe, not by the daemon */
        enum role role;
        enum fo_state state;            /* effective state decided */
        bool drained;
        uint64_t transitions;
        double apply_seconds;           /* duration of the last apply */
        bool last_apply_ok;
        double last_change_timestamp;   /* unix time */
        const struct metrics_check *checks;
        size_t n_checks;
        const struct metrics_peer *peers;
        size_t n_peers;
        size_t shared_unassigned;       /* not on a local interface: import-check hides them */
        const struct metrics_prefix *prefixes;  /* what bgpd really does with each shared prefix */
        size_t n_prefixes;
        bool bgpd_reachable;
        bool bgpd_busy;                 /* the last poll got no whole answer from a bgpd that did not go away */
        uint64_t bgpd_slow_polls;
        uint64_t revalidations;         /* network statements entered again because bgpd did not announce them */
        bool addresses_managed;         /* addresses = "manage": the two series below are rendered */
        size_t addresses_missing;
        uint64_t addresses_restored;
        const struct metrics_service *services; /* per service: failoverd_service_* series with a service label */
        size_t n_services;
};

/* Appends the Prometheus text exposition format to out, with # HELP and # TYPE for each metric family.
 * Label values are escaped. Returns 0 or -ENOMEM. */
int metrics_render(const struct metrics_snapshot *s, struct buf *out);
