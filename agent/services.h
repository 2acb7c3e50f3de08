/* The daemon's services (docs/design.md): an object of their own with each one's decided state and its
 * timer; it hands the manager the headline and never writes the manager's state. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "service.h"

struct check;
struct drain;
struct snapshot;

struct svc_rt {
        char *name;                     /* a copy: a reload frees the configuration */
        struct svc_state st;
        enum fo_state previous;
        double since;                   /* unix time of the last decision */
        unsigned transitions;
        char reason[768];
        bool notify_pending;            /* changed: the hook runs after the apply has started */
        bool standby;                   /* bgp.secondary = "silent" withdraws it: the other host is healthy */
};

struct services;
/* A hold (failback delay, flap damping) ended: the owner decides again (services_evaluate). */
typedef void (*services_due_fn)(struct services *ss, void *userdata);

/* The host's headline, the best state of any service: services_evaluate() fills it, the manager keeps it. */
struct services_headline {
        enum fo_state target;
        bool changed;                   /* some service changed */
        char reason[768];
        double since;                   /* unix time of the latest service change */
        unsigned transitions;           /* of every service */
};

/* drain must outlive the services. Returns 0 or -ENOMEM. */
int services_new(sd_event *e, const struct drain *drain, services_due_fn due, void *userdata, struct services **ret);
struct services *services_free(struct services *ss);
/* One service per c->services[i], keeping the state of services that keep their name; c must stay valid
 * until the next rebuild. Returns 0 or -ENOMEM. */
int services_rebuild(struct services *ss, const struct conf *c);
/* Decides every service on checks (parallel to the configuration's checks; they must stay valid until the
 * next call or rebuild); logs and counts each change and arms the timer for the next end of a hold.
 * Returns the headline state, also in h->target (which comes in as the current one: kept when out of memory). */
enum fo_state services_evaluate(struct services *ss, struct check *const *checks, size_t n_checks,
                                struct services_headline *h);
/* Some service waits for its checks' rise passes (start = "withdrawn"): every result counts. */
bool services_gated(const struct services *ss);
/* Whether service s changed since the last call (its notify hook is owed); clears the mark. */
bool services_take_changed(struct services *ss, size_t s);
size_t services_count(const struct services *ss);
const struct svc_rt *services_get(const struct services *ss, size_t s);
/* The decided state of each service, for the apply queue. */
void services_targets(const struct services *ss, enum fo_state *targets);
/* The services' part of the snapshot (agent/snapshot.h); applied_each: what bgpd runs per service, or NULL. */
void services_snapshot(const struct services *ss, const enum fo_state *applied_each, struct snapshot *snap);
/* "web primary, db secondary" for STATUS=, or "" for the one default service. */
void services_summary(const struct services *ss, char *out, size_t len);
/* on_stop = "withdraw": every service's target becomes withdrawn, in the drain's order (demoted for
 * drain_delay first: agent/drain.c); call again when that order moves on. Returns the headline. */
enum fo_state services_withdraw_all(struct services *ss);
