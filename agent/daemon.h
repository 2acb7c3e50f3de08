/* The daemon's one object: the loop, the configuration, the checks and the state of the announcement. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "apply.h"
#include "conf.h"
#include "state.h"

struct check;

struct manager {
        sd_event *event;
        char *conf_path;
        int verbose;
        struct conf *conf;
        struct check **checks;          /* parallel to conf->check */
        size_t n_checks;

        bool started;                   /* every check has given its first result */
        bool ready;                     /* READY=1 sent */
        bool reloading;                 /* READY=1 owed after the reload's apply */
        bool stopping;
        bool need_full;                 /* a full apply is owed (start, reload, bgpd restart, failure) */

        enum fo_state target;           /* the effective state decided from checks and drain */
        enum fo_state previous;
        enum fo_state applied;          /* what FRR was last verified to run; STATE_INVALID: unknown */
        char reason[768];
        double target_since;            /* unix time of the last decision */
        uint64_t decided_usec;          /* CLOCK_MONOTONIC of the last decision */
        unsigned transitions;

        struct apply *apply;            /* in flight, or NULL */
        enum apply_kind apply_kind;
        enum fo_state apply_state;
        sd_event_source *retry_timer;
        unsigned retry_ms;
        uint64_t last_apply_usec;
        char *last_apply_error;
        char *reload_error;

        bool drained;
        char *drain_reason;
};

uint64_t now_mono(void);
int manager_init(struct manager *m, const char *path, int verbose);
int manager_start(struct manager *m);
void manager_done(struct manager *m);
void manager_evaluate(struct manager *m);
void manager_update_status(struct manager *m);
void manager_request_full(struct manager *m);
int manager_reload(struct manager *m);
