/* The effective state of one service over time: start-up gating, failback delay and flap damping
 * (failoverd.conf(5)). Pure: the clock is the caller's. */
#include <string.h>

#include "service.h"

void svc_state_init(struct svc_state *st)
{
        memset(st, 0, sizeof(*st));
        st->target = st->raw = STATE_INVALID;
        st->why = -1;
        st->better_since = -1;
}

const char *svc_hold_name(enum svc_hold h)
{
        switch (h) {
        case HOLD_NONE:
                return "none";
        case HOLD_START:
                return "start";
        case HOLD_FAILBACK:
                return "failback delay";
        case HOLD_FLAP:
                return "flap damping";
        }
        return "invalid";
}

bool state_better(enum fo_state a, enum fo_state b)
{
        /* The enum is ordered from most to least traffic. */
        return a != STATE_INVALID && (b == STATE_INVALID || a < b);
}

static void record_change(struct svc_state *st, double now)
{
        if (st->n_changes == SVC_CHANGES_MAX) {
                memmove(st->changes, st->changes + 1, (SVC_CHANGES_MAX - 1) * sizeof(st->changes[0]));
                st->n_changes--;
        }
        st->changes[st->n_changes++] = now;
}

static size_t changes_within(const struct svc_state *st, double now, double window)
{
        size_t n = 0;
        for (size_t i = 0; i < st->n_changes; i++)
                if (now - st->changes[i] <= window)
                        n++;
        return n;
}

static bool gate_passed(const struct check_state *checks, const int *rise, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (checks[i].health != HEALTH_UP || checks[i].ok_streak < rise[i])
                        return false;
        return true;
}

static bool set_target(struct svc_state *st, enum fo_state to, bool drained, bool count, double now)
{
        st->target = to;
        st->by_drain = drained;
        st->better_since = -1;
        st->hold = HOLD_NONE;
        st->hold_until = 0;
        if (count)
                record_change(st, now);
        return true;
}

bool svc_decide(const struct service *sv, struct svc_state *st, const struct check_state *checks,
                const int *rise, size_t n, bool drained, double now, double *next)
{
        enum fo_state prev = st->target;

        *next = 0;
        st->flap_started = false;
        st->raw = fsm_effective(sv->role, drained, checks, n, &st->why);
        /* An ordered drain demotes first (agent/drain.c); like a drain, it is no failback and no flap. */
        if (st->drain_demote && state_better(st->raw, STATE_DEMOTED))
                st->raw = STATE_DEMOTED;
        if (sv->start == START_WITHDRAWN && !st->gate_open && !drained) {
                if (!gate_passed(checks, rise, n)) {
                        if (prev != STATE_WITHDRAWN)
                                set_target(st, STATE_WITHDRAWN, false, false, now);
                        st->hold = st->raw == STATE_WITHDRAWN ? HOLD_NONE : HOLD_START;
                        return prev != STATE_WITHDRAWN;
                }
                st->gate_open = true;
                if (prev == STATE_WITHDRAWN)
                        st->by_drain = true;    /* the end of gating is no failback either */
        }
        drained = drained || st->drain_demote;
        if (prev == STATE_INVALID)
                return set_target(st, st->raw, drained, false, now);
        if (st->flap_until > 0 && now >= st->flap_until) {
                /* The hold is over: the flapping before it does not count again. */
                st->flap_until = 0;
                st->n_changes = 0;
        }
        if (st->raw == prev) {
                st->better_since = -1;
                st->hold = HOLD_NONE;
                st->hold_until = 0;
                return false;
        }
        if (!state_better(st->raw, prev))
                return set_target(st, st->raw, drained, !drained, now);

        /* Recovery. A resume or the end of start-up gating takes effect at once. */
        if (st->by_drain)
                return set_target(st, st->raw, drained, false, now);
        if (sv->flap_limit > 0) {
                if (st->flap_until > now) {
                        st->hold = HOLD_FLAP;
                        *next = st->hold_until = st->flap_until;
                        return false;
                }
                size_t k = changes_within(st, now, sv->flap_window) + 1;
                if (k >= (size_t)sv->flap_limit) {
                        st->flap_until = now + sv->flap_hold;
                        st->flap_started = true;
                        st->flap_count = (unsigned)k;
                        st->hold = HOLD_FLAP;
                        st->better_since = -1;
                        *next = st->hold_until = st->flap_until;
                        return false;
                }
        }
        if (sv->failback_delay > 0) {
                if (st->better_since < 0)
                        st->better_since = now;
                if (now - st->better_since < sv->failback_delay) {
                        st->hold = HOLD_FAILBACK;
                        *next = st->hold_until = st->better_since + sv->failback_delay;
                        return false;
                }
        }
        return set_target(st, st->raw, drained, true, now);
}
