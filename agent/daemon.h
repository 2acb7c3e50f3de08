/* The manager: the daemon's one owner of decisions. It runs the checks, decides the effective state, drives
 * the apply queue (agent/queue.h) and publishes every change (agent/outputs.h); the watch and the control
 * socket only report events to it (agent/events.h). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "conf.h"
#include "events.h"
#include "queue.h"
#include "services.h"
#include "snapshot.h"
#include "state.h"

struct addresses;
struct check;
struct control;
struct drain;
struct outputs;
struct watch;

/* The manager's life (agent/daemon.c's set_phase(): every change logged, the allowed ones in a table). */
enum manager_phase {
        PHASE_STARTING,         /* not every check has given its first result: nothing decided */
        PHASE_STARTED,          /* deciding; READY=1 once the first apply was tried */
        PHASE_READY,            /* READY=1 sent */
        PHASE_RELOADING,        /* RELOADING=1 sent: READY=1 owed once the reload's apply was tried */
        PHASE_STOPPING,         /* SIGTERM: exits once the apply in flight is done (stop_timer bounds it) */
        PHASE_STOP_WITHDRAW,    /* on_stop = "withdraw": exits once every service is withdrawn in bgpd */
        _PHASE_MAX,
};

const char *manager_phase_name(enum manager_phase p);
/* Whether the manager may go from one phase to the other (a unit test walks the table). */
bool manager_phase_allowed(enum manager_phase from, enum manager_phase to);

struct manager {
        sd_event *event;
        char *conf_path;
        struct conf *conf;
        struct check **checks;          /* parallel to conf->check */
        size_t n_checks;
        struct agent_sink sink;         /* what the watch and the control socket report to */
        struct watch *watch;            /* NULL until manager_attach (and in unit tests) */
        struct control *control;
        struct outputs *outputs;
        struct addresses *addresses;    /* addresses = "manage" (agent/addresses.c); NULL otherwise */
        unsigned stop_reads;            /* addresses_on_stop = "remove": bgpd reads since the withdrawal was in */

        enum manager_phase phase;
        sd_event_source *stop_timer;    /* lives as long as PHASE_STOPPING or PHASE_STOP_WITHDRAW */
        struct conf *pending_conf;      /* a valid reload waiting for the apply in flight */
        char *reload_error;

        struct services *services;      /* per conf->services[i] (agent/services.c) */

        enum fo_state target;           /* the best state of any service: the host's headline */
        enum fo_state previous;
        char reason[768];
        double target_since;            /* unix time of the last decision */
        unsigned transitions;

        struct drain *drain;            /* every drain, host and per service (agent/drain.c) */

        struct apply_queue queue;
};

/* Loads the configuration and sets up the loop (signals, watchdog) and the apply queue. */
int manager_init(struct manager *m, const char *path);
/* Starts the watch and the control socket (not in unit tests). */
int manager_attach(struct manager *m);
/* Builds and starts the checks; with none, decides at once. */
int manager_start(struct manager *m);
void manager_done(struct manager *m);
/* Reads the configuration again; it takes over at once, or when the apply in flight ends. 0 or -errno. */
int manager_reload(struct manager *m);
/* The agent_sink's report (agent/events.h), for tests too. */
int manager_report(struct manager *m, enum agent_event ev, const char *detail);
/* The state every output renders; the caller clears it. */
void manager_snapshot(struct manager *m, struct snapshot *s);
