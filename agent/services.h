/* The daemon's services (docs/design.md): each one's decided state, timers and what FRR runs for it. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "service.h"

struct manager;
struct snapshot;

struct svc_rt {
        char *name;                     /* a copy: a reload frees the configuration */
        struct svc_state st;
        enum fo_state previous;
        double since;                   /* unix time of the last decision */
        unsigned transitions;
        char reason[768];
        bool notify_pending;            /* changed: the hook runs after the apply has started */
};

/* Builds m->svc for m->conf, keeping the state of services that keep their name (prev: the configuration
 * before a reload, or NULL). Returns 0 or -ENOMEM. */
int services_rebuild(struct manager *m, const struct conf *prev);
void services_done(struct manager *m);
/* Decides every service; logs, notifies and counts each change. Sets m->target (the best state of any
 * service: the host's headline), m->reason and m->target_since. Returns true when a service changed. */
bool services_evaluate(struct manager *m);
/* Runs the notify hook and rewrites the metrics for each service that changed. */
void services_notify(struct manager *m);
/* The decided state of each service, for the apply queue. */
void services_targets(const struct manager *m, enum fo_state *targets);
/* The services' part of the snapshot (agent/snapshot.h). */
void services_snapshot(const struct manager *m, struct snapshot *snap);
/* "web primary, db secondary" for STATUS=, or "" for the one default service. */
void services_summary(const struct manager *m, char *out, size_t len);
/* on_stop = "withdraw": every service's target becomes withdrawn, in the drain's order (demoted for
 * drain_delay first: agent/drain.c); call again when that order moves on. */
void services_withdraw_all(struct manager *m);
