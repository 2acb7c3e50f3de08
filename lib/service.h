/* The effective state of one service over time: its checks plus the host-wide ones (lib/fsm.c), then
 * start-up gating, failback delay and flap damping on a clock the caller passes in. Pure: no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "fsm.h"
#include "state.h"

#define SVC_CHANGES_MAX 64

enum svc_hold {
        HOLD_NONE,
        HOLD_START,             /* start = "withdrawn": a check has not passed rise times yet */
        HOLD_FAILBACK,          /* recovered, waiting failback_delay */
        HOLD_FLAP,              /* too many changes: held for flap_hold */
};

struct svc_state {
        enum fo_state target;           /* decided; STATE_INVALID before the first decision */
        enum fo_state raw;              /* what checks and drain alone say */
        int why;                        /* the index (into the caller's checks) that decided raw, or -1 */
        enum svc_hold hold;             /* why target is below raw */
        double hold_until;              /* when the hold ends (HOLD_FAILBACK, HOLD_FLAP), else 0 */
        double better_since;            /* raw better than target since then; < 0: not */
        double flap_until;
        double changes[SVC_CHANGES_MAX];        /* times of the latest changes, oldest first */
        size_t n_changes;
        bool gate_open;                 /* start gating is over */
        bool by_drain;                  /* target is low because of a drain: a resume is not a failback */
        bool flap_started;              /* damping began in this call: the caller logs it once */
        unsigned flap_count;            /* the changes counted when it began */
        bool drain_demote;              /* set by the caller: a drain's first phase holds it at most demoted */
};

void svc_state_init(struct svc_state *st);

/* The decision for service sv at time now (seconds, monotonic). checks[i] and rise[i] are the n checks that
 * guard it (its own and the host-wide ones). Returns true when target changed. *next gets the time at
 * which to decide again although nothing else changes (a hold ending), or 0. */
bool svc_decide(const struct service *sv, struct svc_state *st, const struct check_state *checks,
                const int *rise, size_t n, bool drained, double now, double *next);

const char *svc_hold_name(enum svc_hold h);
/* Better means more traffic: primary > secondary > demoted > withdrawn. */
bool state_better(enum fo_state a, enum fo_state b);
