/* Health of checks (rise/fall) and the effective state of a service: pure functions. */
#include "fsm.h"

static const char *const health_names[_HEALTH_MAX] = {
        [HEALTH_UNKNOWN] = "unknown",
        [HEALTH_UP] = "up",
        [HEALTH_DOWN] = "down",
};

const char *health_name(enum health h)
{
        return h >= 0 && h < _HEALTH_MAX ? health_names[h] : "invalid";
}

const char *severity_name(enum severity s)
{
        switch (s) {
        case SEV_OK:
                return "ok";
        case SEV_DEGRADED:
                return "degraded";
        case SEV_FAILED:
                return "failed";
        }
        return "invalid";
}

enum severity severity_of_exit(int exited, int status)
{
        if (!exited)
                return SEV_FAILED;
        if (status == 0)
                return SEV_OK;
        if (status == 1)
                return SEV_DEGRADED;
        return SEV_FAILED;      /* 2 CRITICAL, 3 UNKNOWN, anything else */
}

bool fsm_feed(struct check_state *s, enum severity result, int rise, int fall)
{
        enum health old_health = s->health;
        enum severity old_sev = s->severity;

        if (result == SEV_OK) {
                s->ok_streak++;
                s->bad_streak = 0;
        } else {
                s->bad_streak++;
                s->ok_streak = 0;
        }

        switch (s->health) {
        case HEALTH_UNKNOWN:
                /* The first result decides, so the first announcement reflects real health. */
                s->health = result == SEV_OK ? HEALTH_UP : HEALTH_DOWN;
                s->severity = result;
                break;
        case HEALTH_UP:
                if (result != SEV_OK && s->bad_streak >= fall) {
                        s->health = HEALTH_DOWN;
                        s->severity = result;
                }
                break;
        case HEALTH_DOWN:
                if (result == SEV_OK && s->ok_streak >= rise) {
                        s->health = HEALTH_UP;
                        s->severity = SEV_OK;
                } else if (result != SEV_OK) {
                        s->severity = result;   /* while down, severity follows the latest result */
                }
                break;
        default:
                break;
        }
        return s->health != old_health || s->severity != old_sev;
}

bool fsm_changing(const struct check_state *s)
{
        return (s->health == HEALTH_UP && s->bad_streak > 0) || (s->health == HEALTH_DOWN && s->ok_streak > 0);
}

enum fo_state fsm_effective(enum role role, bool drained, const struct check_state *checks, size_t n, int *decider)
{
        int degraded = -1;

        if (decider)
                *decider = -1;
        if (drained)
                return STATE_WITHDRAWN;
        for (size_t i = 0; i < n; i++) {
                if (checks[i].health != HEALTH_DOWN)
                        continue;
                if (checks[i].severity == SEV_FAILED) {
                        if (decider)
                                *decider = (int)i;
                        return STATE_WITHDRAWN;
                }
                if (checks[i].severity == SEV_DEGRADED && degraded < 0)
                        degraded = (int)i;
        }
        if (degraded >= 0) {
                if (decider)
                        *decider = degraded;
                return STATE_DEMOTED;
        }
        return state_of_role(role);
}
