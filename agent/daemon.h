/* The daemon's one object: the loop, the configuration, the checks and the state of the announcement. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "apply.h"
#include "bgpd.h"
#include "conf.h"
#include "state.h"

struct check;
struct ctl_server;
struct file_job;
struct notify_child;
struct proc;
struct vtysock;

struct manager {
        sd_event *event;
        char *conf_path;
        int verbose;
        struct conf *conf;
        struct check **checks;          /* parallel to conf->check */
        size_t n_checks;

        bool started;                   /* every check has given its first result */
        bool ready;                     /* READY=1 sent: checks in and the first apply tried */
        bool reloading;                 /* READY=1 owed after the reload's apply attempt */
        bool stopping;                  /* SIGTERM: exits once the apply in flight is done */
        sd_event_source *stop_timer;    /* the bound on that wait */
        struct conf *pending_conf;      /* a valid reload waiting for the apply in flight */
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
        struct file_job *drain_job;     /* the drain file being written or removed (agent/control.c) */
        bool drain_dirty;               /* drain or resume again once drain_job is done */
        char *drain_save_error;         /* the last save failed: why */

        /* The bgpd watch (agent/watch.c). */
        sd_event_source *watch_timer;
        struct vtysock *watch_query;
        struct proc *watch_proc;        /* vtysh fallback */
        char **watch_cmds;              /* the poll in flight: fixed commands, then one per shared prefix */
        size_t watch_n;
        char **watch_outputs;           /* vtysh fallback: replies so far */
        size_t watch_step;
        bool watch_vtysh;               /* FAILOVERD_WATCH=vtysh: read bgpd through vtysh children */
        bool bgpd_known;                /* the watch has answered at least once */
        bool bgpd_reachable;
        bool bgpd_busy;                 /* the last poll got no whole answer, but bgpd did not go away */
        uint64_t bgpd_busy_total;       /* such polls since the start */
        char bgpd_busy_why[64];
        long bgpd_pid;
        struct bgpd_prefix *table;      /* each shared prefix in bgpd's table, as last read */
        char (*table_names)[64];
        size_t n_table;
        struct vtysock *revalidate_query;
        uint64_t revalidate_next_usec;  /* CLOCK_MONOTONIC: no re-entry of a network statement before */
        unsigned revalidate_ms;         /* backoff between re-entries */
        char *metrics_last;             /* what the metrics file holds: written again only when it changes */
        uint64_t revalidate_total;
        struct bgpd_status bgpd;        /* sessions as last read */
        struct bgpd_running running;    /* network statements as last read */
        bool running_valid;
        size_t established;
        char *warned_router_id;
        bool *assigned;                 /* per shared prefix (SPEC 9.5) */
        size_t n_unassigned;
        bool assigned_known;

        /* Control socket, notify hook (agent/control.c). */
        struct ctl_server *ctl;
        sd_event_source *reload_defer;
        struct notify_child **notify_children;  /* running notify hooks */
        size_t n_notify_children;
};

int manager_init(struct manager *m, const char *path, int verbose);
int manager_start(struct manager *m);
void manager_done(struct manager *m);
void manager_evaluate(struct manager *m);
void manager_update_status(struct manager *m);
void manager_request_full(struct manager *m);
int manager_reload(struct manager *m);
bool manager_busy(const struct manager *m);

/* agent/watch.c */
int watch_init(struct manager *m);
void watch_done(struct manager *m);
void watch_check_addresses(struct manager *m, bool log_all);
void watch_soon(struct manager *m);
void watch_status_line(const struct manager *m, char *out, size_t len);
/* What bgpd does with shared prefix i of the current config (lib/bgpd.h); why and n_to as there. */
enum bgpd_announcement watch_announcement(const struct manager *m, size_t i, size_t *n_to, char *why, size_t len);

/* agent/control.c */
int control_init(struct manager *m);
void control_done(struct manager *m);
/* The new m->conf's control.read_group and control.admin_group take effect (after a reload). */
void control_set_access(struct manager *m);
void control_state_changed(struct manager *m);
void control_write_metrics(struct manager *m);
