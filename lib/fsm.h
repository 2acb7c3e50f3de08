/* Health of checks (rise/fall) and the effective state of a service: pure functions. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

enum severity {
        SEV_OK,                 /* exit 0 */
        SEV_DEGRADED,           /* exit 1: WARNING */
        SEV_FAILED,             /* exit 2, 3, anything else, signal, timeout, exec failure, insecure script */
};

enum health {
        HEALTH_UNKNOWN,         /* no result yet */
        HEALTH_UP,
        HEALTH_DOWN,
        _HEALTH_MAX,
};

struct check_state {
        enum health health;
        enum severity severity;         /* what the check contributes: SEV_OK while up, latest non-OK while down */
        int ok_streak;                  /* consecutive OK results */
        int bad_streak;                 /* consecutive non-OK results */
};

const char *health_name(enum health h);
const char *severity_name(enum severity s);
/* Nagios/monitoring-plugins grading of an exit code: 0 ok, 1 degraded, anything else failed. */
enum severity severity_of_exit(int exited, int status);

/* Feeds one result; the first result decides at once, later ones go through rise/fall.
 * Returns true when health or the contributed severity changed. */
bool fsm_feed(struct check_state *s, enum severity result, int rise, int fall);
/* True while a streak is moving the check towards the other state: run at interval/4. */
bool fsm_changing(const struct check_state *s);

/* The effective state of a service (the table in failoverd(8)). checks[i] may be HEALTH_UNKNOWN: it does not count.
 * *decider gets the index of the check that decided a non-healthy state, or -1. */
enum fo_state fsm_effective(enum role role, bool drained, const struct check_state *checks, size_t n, int *decider);
