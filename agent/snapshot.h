/* One snapshot of the daemon's state that every output renders: the status JSON (failoverctl status), the
 * metrics file and systemd's STATUS= line. The manager builds it (agent/daemon.c) with the watch's and the
 * control socket's parts; it points into their live state and is valid until the loop runs again. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "bgpd.h"
#include "buf.h"
#include "check.h"
#include "conf.h"
#include "state.h"

struct snapshot_prefix {
        const char *prefix;
        int assigned;                   /* on a local interface: 1, 0, or -1 when not known */
        enum bgpd_announcement announcement;
        size_t sent_to;                 /* route servers it goes to */
        char why[96];                   /* why it is configured but not announced; "" otherwise */
        int configured;                 /* bgpd has its network statement: 1, 0, or -1 when not read */
        const char *route_map;          /* of that statement; NULL: none */
};

struct snapshot_address {
        const char *prefix;             /* the shared_ips entry */
        const char *address;            /* its form on lo (IPv6: an address inside the prefix, its length) */
        int present;                    /* on lo: 1, 0, or -1 when not known (not watched now) */
        uint64_t restored;              /* removed by someone and put back */
        const char *error;              /* why putting it on lo fails, while it does; NULL */
};

struct snapshot_check {
        const char *name;
        const struct check_state *state;
        const struct check_result *result;
        const struct check_conf *conf;
};

struct snapshot_peer {
        const char *address;
        const struct bgpd_peer *peer;   /* NULL: not known */
};

struct snapshot_service {
        const struct service *conf;
        const char *name;
        enum fo_state target;           /* decided; STATE_INVALID: starting */
        enum fo_state applied;
        const char *reason;
        double since;
        unsigned transitions;
        bool drained;                   /* on its own or with the host */
        const char *drain_reason;
        const char *hold;               /* why it is held below what its checks say, or NULL */
        double hold_seconds;
};

struct snapshot {
        /* The manager's part. */
        const struct conf *conf;
        const char *conf_path;
        enum fo_state target;           /* decided; STATE_INVALID: starting */
        enum fo_state previous;
        enum fo_state applied;          /* verified in FRR; STATE_INVALID: unknown */
        const char *reason;
        double since;                   /* unix time of the last decision; 0: none */
        unsigned transitions;
        bool drained;
        const char *drain_reason;
        const char *reload_error;
        bool stopping;
        const char *queue;              /* the apply queue's state (agent/queue.h) */
        const char *last_apply_error;
        uint64_t last_apply_usec;
        struct snapshot_check *checks;
        size_t n_checks;
        struct snapshot_service *services;      /* one per service of conf (agent/services.c) */
        size_t n_services;
        char summary[256];              /* "web primary, db secondary"; "" for the one default service */
        const char *notify_service;     /* OUTPUT_NOTIFY for this service: target, previous and reason are its */
        enum role notify_role;
        /* The control socket's part. */
        const char *drain_save_error;
        /* The watch's part. */
        bool bgpd_known;                /* the watch has answered at least once */
        bool bgpd_reachable;
        bool bgpd_busy;
        const char *bgpd_busy_why;
        uint64_t bgpd_slow_polls;
        uint64_t revalidations;
        size_t established;
        size_t n_unassigned;
        struct snapshot_prefix *prefixes;       /* one per shared prefix of conf */
        size_t n_prefixes;
        struct snapshot_peer *peers;    /* one per route server of conf */
        size_t n_peers;
        /* The shared addresses' part (agent/addresses.c; addresses = "manage" only). */
        bool addresses_managed;
        size_t addresses_missing;       /* not on lo right now */
        uint64_t addresses_restored;    /* removed by someone and put back */
        bool addresses_watching;        /* lo is watched and was read: addresses[].present is known */
        struct snapshot_address *addresses;     /* one per address failoverd puts on lo */
        size_t n_addresses;
};

void snapshot_clear(struct snapshot *s);
/* The status JSON of `failoverctl status --json` (docs/control-protocol.md). */
json_object *snapshot_json(const struct snapshot *s);
/* The Prometheus textfile (docs/metrics.md). Returns 0 or -ENOMEM. */
int snapshot_metrics(const struct snapshot *s, struct buf *out);
/* systemd's STATUS= line. */
void snapshot_status_line(const struct snapshot *s, char *out, size_t len);
