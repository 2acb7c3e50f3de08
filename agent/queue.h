/* The manager's apply queue: one explicit state machine taking FRR from what it runs to what the manager
 * decided, one apply at a time (docs/design.md, "The apply queue"). Only the manager drives it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "apply.h"
#include "conf.h"
#include "state.h"

enum queue_state {
        QUEUE_STARTING,         /* no decision yet: nothing is applied before every check has reported */
        QUEUE_IDLE,             /* no apply in flight or waiting */
        QUEUE_APPLYING,         /* one apply in flight (a full apply or the fast path, then the read-back) */
        QUEUE_RETRY_WAIT,       /* the last attempt failed: the next after a back-off (0.5 s doubling to 10 s) */
        QUEUE_BGPD_WAIT,        /* bgpd's vty socket is missing or refuses: a connect each poll, no vtysh */
        QUEUE_STOPPED,          /* stopping: nothing more starts */
        _QUEUE_MAX,
};

struct apply_queue;
/* An attempt ended (whatever its outcome), or could not start: the manager's turn (a stop or a reload
 * waiting for it, READY=1); it calls queue_apply_owed() to go on. */
typedef void (*queue_ended_fn)(struct apply_queue *q, void *userdata);

struct apply_queue {
        sd_event *event;
        const struct conf *conf;
        enum queue_state state;
        enum fo_state target;           /* what the manager decided (the best service's); STATE_INVALID: nothing yet */
        enum fo_state applied;          /* what FRR was last verified to run; STATE_INVALID: unknown */
        enum fo_state targets[CONF_MAX_SERVICES];       /* per service of conf */
        enum fo_state applied_each[CONF_MAX_SERVICES];  /* valid while applied is not STATE_INVALID */
        enum fo_state apply_each[CONF_MAX_SERVICES];    /* in flight */
        bool need_full;                 /* a full apply is owed (start, reload, bgpd back or restarted, drift, failure) */
        bool *reannounce;               /* per conf->shared_ips: a re-announce is owed (the watch saw it stuck) */
        size_t n_reannounce;
        uint64_t decided_usec;          /* CLOCK_MONOTONIC of the last decision */

        struct apply *apply;            /* in flight, or NULL */
        enum apply_kind apply_kind;
        enum fo_state apply_state;
        bool apply_after_wait;          /* started because bgpd's socket answered: a later "bgpd back" is this one */
        sd_event_source *retry_timer;
        unsigned retry_ms;
        sd_event_source *probe_timer;   /* QUEUE_BGPD_WAIT */
        char vty_path[512];             /* bgpd's vty socket */
        bool vty_path_fixed;            /* set by a test: not derived from frr.pathspace */

        uint64_t last_apply_usec;
        char *last_apply_error;
        uint64_t attempts;              /* applies started */
        uint64_t probes;                /* connects to bgpd's socket while waiting for it */

        queue_ended_fn ended;
        void *userdata;
};

const char *queue_state_name(enum queue_state s);
/* "full apply", "fast path" or "re-announce": the apply in flight, or the last one. */
const char *queue_apply_name(const struct apply_queue *q);

void queue_init(struct apply_queue *q, sd_event *e, const struct conf *c, queue_ended_fn ended, void *userdata);
/* Cancels the apply in flight (its tool is killed) and every timer. */
void queue_done(struct apply_queue *q);
/* A new configuration; no apply may be in flight (it points into the old one). */
void queue_set_conf(struct apply_queue *q, const struct conf *c);

/* A new decision: goes now (a back-off belongs to the failed attempt), after the apply in flight, or when
 * bgpd's socket answers again. */
void queue_decide(struct apply_queue *q, enum fo_state target);
/* The same with one state per service of conf (targets[i]) and target, the host's headline. The fast path
 * then re-enters the network statements of the services that changed alone. */
void queue_decide_each(struct apply_queue *q, const enum fo_state *targets, enum fo_state target);
/* A full apply is owed (a reload, drift, bgpd restarted or back): tried at once. forget: what FRR runs is
 * no longer known. */
void queue_request_full(struct apply_queue *q, bool forget, const char *why);
/* The watch found shared prefix i of conf configured in bgpd but kept invalid: a re-announce (its network
 * statement removed and entered again) is owed, after any apply in flight or owed. */
void queue_reannounce(struct apply_queue *q, size_t i, const char *why);
/* The watch found bgpd gone: no more attempts until its socket answers. */
void queue_bgpd_gone(struct apply_queue *q, const char *why);
/* The watch found bgpd back (after it was gone): a full apply. */
void queue_bgpd_back(struct apply_queue *q, const char *why);
/* Starts the next apply when one is owed and none is in flight or waiting. */
void queue_apply_owed(struct apply_queue *q, const char *why);
/* Nothing more starts; the apply in flight (if any) still ends through ended. */
void queue_stop(struct apply_queue *q);

/* An apply is in flight, waiting or owed. */
bool queue_busy(const struct apply_queue *q);

/* Read-only accessors, for the status and for tests. */
enum queue_state queue_get_state(const struct apply_queue *q);
/* What FRR was last verified to run; STATE_INVALID: unknown. */
enum fo_state queue_applied(const struct apply_queue *q);
/* The same per service of conf (CONF_MAX_SERVICES of them), or NULL while unknown. */
const enum fo_state *queue_applied_each(const struct apply_queue *q);
/* A full apply is owed: what FRR runs is not what the queue last verified. */
bool queue_full_owed(const struct apply_queue *q);
/* CLOCK_MONOTONIC of the last apply that ended, 0: none yet. */
uint64_t queue_last_apply_usec(const struct apply_queue *q);
/* The kind of the apply in flight, or of the last one. */
enum apply_kind queue_apply_kind(const struct apply_queue *q);
uint64_t queue_attempts(const struct apply_queue *q);
uint64_t queue_probes(const struct apply_queue *q);
/* The current back-off of retry-wait, 0 outside it. */
unsigned queue_retry_ms(const struct apply_queue *q);
/* Why the last apply failed, or NULL. */
const char *queue_last_error(const struct apply_queue *q);
/* For tests: bgpd's vty socket somewhere else than frr.pathspace says. */
void queue_use_vty_path(struct apply_queue *q, const char *path);

/* 0 when something listens on bgpd's vty socket (also with a full backlog: busy, not gone); -ENOENT or
 * -ECONNREFUSED when bgpd is not running. One non-blocking connect. */
int queue_probe_bgpd(const char *path);

/* A full apply is owed, without starting it now (the decision that follows starts it). */
void queue_owe_full(struct apply_queue *q);
