/* The daemon's services (docs/design.md): each one's decided state, drain, timers and what FRR runs for it. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "service.h"

struct manager;
struct file_job;

struct svc_rt {
        char *name;                     /* a copy: a reload frees the configuration */
        struct svc_state st;
        enum fo_state previous;
        enum fo_state applied;          /* what FRR was last verified to run; STATE_INVALID: unknown */
        enum fo_state apply_state;      /* in flight */
        double since;                   /* unix time of the last decision */
        unsigned transitions;
        char reason[768];
        bool drained;                   /* this service alone (m->drained drains them all) */
        char *drain_reason;
        struct file_job *drain_job;
        void *drain_ctx;                /* the job's callback context */
        bool drain_dirty;
        bool notify_pending;            /* changed: the hook runs after the apply has started */
};

/* Builds m->svc for m->conf, keeping the state of services that keep their name (prev: the configuration
 * before a reload, or NULL). Loads per-service drains at start-up. Returns 0 or -ENOMEM. */
int services_rebuild(struct manager *m, const struct conf *prev);
void services_done(struct manager *m);
/* Decides every service; logs, notifies and counts each change. Sets m->target (the best state of any
 * service: the host's headline), m->reason and m->target_since. Returns true when a service changed. */
bool services_evaluate(struct manager *m);
/* Runs the notify hook and rewrites the metrics for each service that changed. */
void services_notify(struct manager *m);
/* The states to apply and, for the fast path, which services changed. Returns true when one differs from
 * what FRR runs. */
bool services_wanted(const struct manager *m, enum fo_state *states, bool *changed);
/* An apply of states started / was verified / failed. */
void services_apply_started(struct manager *m, const enum fo_state *states);
bool services_apply_verified(struct manager *m, const enum fo_state *running);
void services_applied_unknown(struct manager *m);
/* Whether bgpd's network statements (m->running) are what was applied to every service; *runs gets the
 * state of the first that differs. */
bool services_running_match(const struct manager *m, enum fo_state *runs, size_t *which);
/* "web primary, db secondary" for STATUS=, or "" for the one default service. */
void services_summary(const struct manager *m, char *out, size_t len);
/* on_stop = "withdraw": every service's target becomes withdrawn. */
void services_withdraw_all(struct manager *m);
/* failoverctl drain/resume for one service (name) or, with name NULL, the host. arg: the rest of the
 * request. Returns a reply message in out and 0, or -ENOENT (no such service) / -EALREADY (not drained). */
int services_drain(struct manager *m, const char *arg, bool drain, char *out, size_t len);
/* Ends every service's own drain; returns how many there were. */
int services_resume_all(struct manager *m);
/* Finishes drain files being written (stopping). */
void services_flush(struct manager *m);
