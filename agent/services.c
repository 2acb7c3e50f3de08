/* The daemon's services: each one's decision (lib/service.c), drain, timers and applied state
 * (docs/design.md). The host's headline state is the best of them. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "clock.h"
#include "drain.h"
#include "log.h"
#include "services.h"
#include "snapshot.h"

struct services {
        sd_event *event;
        const struct conf *conf;
        const struct drain *drain;
        struct check *const *checks;    /* of the last services_evaluate() */
        size_t n_checks;
        struct svc_rt *svc;             /* per conf->services[i] */
        size_t n_svc;
        sd_event_source *timer;         /* a failback delay or flap hold ends */
        services_due_fn due;
        void *userdata;
};

static double now_real(void)
{
        return clock_real_sec();
}

static double mono_sec(void)
{
        return (double)clock_mono_usec() / 1e6;
}

/* The one service of the top-level form logs and reports as failoverd always did. */
static bool single(const struct services *ss)
{
        return !ss->conf->services_form;
}

static void svc_clear(struct svc_rt *v)
{
        free(v->name);
}

int services_new(sd_event *e, const struct drain *drain, services_due_fn due, void *userdata, struct services **ret)
{
        struct services *ss = calloc(1, sizeof(*ss));
        if (!ss)
                return -ENOMEM;
        ss->event = sd_event_ref(e);
        ss->drain = drain;
        ss->due = due;
        ss->userdata = userdata;
        *ret = ss;
        return 0;
}

int services_rebuild(struct services *ss, const struct conf *c)
{
        size_t n = c->n_services;
        struct svc_rt *v = calloc(n, sizeof(*v));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *name = c->services[i].name;
                struct svc_rt *old = NULL;
                for (size_t j = 0; j < ss->n_svc; j++)
                        if (ss->svc[j].name && strcmp(ss->svc[j].name, name) == 0)
                                old = &ss->svc[j];
                if (old) {
                        v[i] = *old;
                        memset(old, 0, sizeof(*old));
                        continue;
                }
                svc_state_init(&v[i].st);
                v[i].previous = STATE_INVALID;
                if (!(v[i].name = strdup(name))) {
                        for (size_t k = 0; k <= i; k++)
                                svc_clear(&v[k]);
                        free(v);
                        return -ENOMEM;
                }
        }
        for (size_t j = 0; j < ss->n_svc; j++)
                svc_clear(&ss->svc[j]);
        free(ss->svc);
        ss->svc = v;
        ss->n_svc = n;
        ss->conf = c;
        ss->checks = NULL;      /* they point into the old configuration's checks */
        ss->n_checks = 0;
        return 0;
}

struct services *services_free(struct services *ss)
{
        if (!ss)
                return NULL;
        ss->timer = sd_event_source_disable_unref(ss->timer);
        for (size_t i = 0; i < ss->n_svc; i++)
                svc_clear(&ss->svc[i]);
        free(ss->svc);
        sd_event_unref(ss->event);
        free(ss);
        return NULL;
}

size_t services_count(const struct services *ss)
{
        return ss->n_svc;
}

const struct svc_rt *services_get(const struct services *ss, size_t s)
{
        assert(s < ss->n_svc);
        return &ss->svc[s];
}

static void describe(struct services *ss, size_t s, const size_t *idx)
{
        struct svc_rt *v = &ss->svc[s];
        const struct service *sv = &ss->conf->services[s];
        char *r = v->reason;
        size_t len = sizeof(v->reason);

        const char *why = NULL;
        double left = drain_demote_left(ss->drain, s);
        if (v->st.drain_demote && left > 0) {
                (void)(drain_host(ss->drain, &why) || drain_service(ss->drain, s, &why));
                snprintf(r, len, "draining: demoted, withdrawn in %.1f s (drain_delay)%s%s", left, why ? ": " : "",
                         why ? why : "");
        } else if (v->st.drain_demote) {
                (void)(drain_host(ss->drain, &why) || drain_service(ss->drain, s, &why));
                snprintf(r, len, "draining: demoted until drain_check says the other host is healthy%s%s",
                         why ? ": " : "", why ? why : "");
        } else if (drain_host(ss->drain, &why) || drain_service(ss->drain, s, &why)) {
                snprintf(r, len, "drained%s%s", why ? ": " : "", why ? why : "");
        } else if (v->standby) {
                snprintf(r, len, "standby: bgp.secondary = \"silent\" and drain_check says the other host is healthy");
        } else if (v->st.why >= 0) {
                struct check *c = ss->checks[idx[v->st.why]];
                const struct check_result *cr = check_get_result(c);
                snprintf(r, len, "check %s %s: %s%s%s", check_name(c),
                         v->st.raw == STATE_DEMOTED ? "degraded" : "failed", cr->description,
                         cr->message[0] ? ": " : "", cr->message);
        } else {
                snprintf(r, len, "%s", ss->n_checks ? "all checks up" : "no checks");
        }
        size_t n = strlen(r);
        switch (v->st.hold) {
        case HOLD_START:
                snprintf(r + n, len - n, "; start: withdrawn until every check has passed rise times");
                break;
        case HOLD_FAILBACK:
                snprintf(r + n, len - n, "; failback delay: %s in %.1f s", state_name(v->st.raw),
                         v->st.hold_until - mono_sec() > 0 ? v->st.hold_until - mono_sec() : 0);
                break;
        case HOLD_FLAP:
                snprintf(r + n, len - n, "; flap damping: held %s for %.0f s more after %u changes within %g s",
                         state_name(v->st.target), v->st.hold_until - mono_sec() > 0 ? v->st.hold_until - mono_sec() : 0,
                         v->st.flap_count, sv->flap_window);
                break;
        case HOLD_NONE:
                break;
        }
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct services *ss = userdata;
        (void)s;
        (void)usec;
        ss->timer = sd_event_source_disable_unref(ss->timer);
        ss->due(ss, ss->userdata);
        return 0;
}

static void log_change(struct services *ss, size_t s)
{
        struct svc_rt *v = &ss->svc[s];
        char f1[64], f2[64], f3[96];
        snprintf(f1, sizeof(f1), "FAILOVERD_STATE=%s", state_name(v->st.target));
        snprintf(f2, sizeof(f2), "FAILOVERD_PREVIOUS=%s", state_name(v->previous));
        snprintf(f3, sizeof(f3), "FAILOVERD_SERVICE=%s", v->name);
        const char *fields[] = { f1, f2, f3, NULL };
        const char *from = v->previous == STATE_INVALID ? "start" : state_name(v->previous);
        if (single(ss))
                log_fields(LOG_NOTICE, fields, "%s -> %s (%s)", from, state_name(v->st.target), v->reason);
        else
                log_fields(LOG_NOTICE, fields, "%s: %s -> %s (%s)", v->name, from, state_name(v->st.target),
                           v->reason);
}

enum fo_state services_evaluate(struct services *ss, struct check *const *checks, size_t n_checks,
                                struct services_headline *h)
{
        ss->checks = checks;
        ss->n_checks = n_checks;
        h->changed = false;

        size_t *idx = calloc(ss->n_checks + 1, sizeof(*idx));
        struct check_state *cs = calloc(ss->n_checks + 1, sizeof(*cs));
        int *rise = calloc(ss->n_checks + 1, sizeof(*rise));
        bool any = false;
        double now = mono_sec(), next_all = 0;

        if (!idx || !cs || !rise) {
                free(idx);
                free(cs);
                free(rise);
                return h->target;       /* unchanged: out of memory */
        }
        for (size_t s = 0; s < ss->n_svc && s < ss->conf->n_services; s++) {
                struct svc_rt *v = &ss->svc[s];
                const struct service *sv = &ss->conf->services[s];
                size_t n = 0;
                double next;
                for (size_t i = 0; i < ss->n_checks; i++) {
                        if (!conf_check_guards(ss->conf, s, check_name(ss->checks[i])))
                                continue;
                        idx[n] = i;
                        cs[n] = *check_get_state(ss->checks[i]);
                        rise[n] = check_get_conf(ss->checks[i])->rise;
                        n++;
                }
                enum fo_state before = v->st.target;
                enum drain_phase ph = drain_phase(ss->drain, s);
                /* A silent secondary stands by as a drain does: withdrawn, no failback delay, no flap count. */
                v->standby = ss->conf->bgp.secondary_silent && sv->role == ROLE_SECONDARY &&
                             drain_peer_healthy(ss->drain);
                bool drained = ph == DRAIN_WITHDRAW || v->standby;
                v->st.drain_demote = ph == DRAIN_DEMOTE;
                bool changed = svc_decide(sv, &v->st, cs, rise, n, drained, now, &next);
                if (next > 0 && (next_all == 0 || next < next_all))
                        next_all = next;
                describe(ss, s, idx);
                if (v->st.flap_started) {
                        char f[96];
                        snprintf(f, sizeof(f), "FAILOVERD_SERVICE=%s", v->name);
                        const char *fields[] = { f, NULL };
                        log_fields(LOG_WARNING, fields, "%s%sflapping: %u state changes within %g s; held %s for "
                                   "%g s", single(ss) ? "" : v->name, single(ss) ? "" : ": ", v->st.flap_count,
                                   sv->flap_window, state_name(v->st.target), sv->flap_hold);
                }
                if (!changed)
                        continue;
                v->previous = before;
                v->since = now_real();
                v->transitions++;
                log_change(ss, s);
                any = true;
                v->notify_pending = true;
        }
        free(idx);
        free(cs);
        free(rise);

        ss->timer = sd_event_source_disable_unref(ss->timer);
        if (next_all > 0) {
                double in = next_all - now;
                int r = sd_event_add_time_relative(ss->event, &ss->timer, CLOCK_MONOTONIC,
                                                   in > 0 ? (uint64_t)(in * 1e6) + 1000 : 1000, 1000, on_timer, ss);
                if (r < 0)
                        log_err("cannot arm the timer for the end of a hold: %s; decided again at the next check "
                                "result", strerror(-r));
        }

        /* The headline: the best state of any service, its latest change. */
        enum fo_state best = STATE_INVALID;
        double since = 0;
        unsigned transitions = 0;
        for (size_t s = 0; s < ss->n_svc; s++) {
                if (ss->svc[s].st.target != STATE_INVALID && state_better(ss->svc[s].st.target, best))
                        best = ss->svc[s].st.target;
                if (ss->svc[s].since > since)
                        since = ss->svc[s].since;
                transitions += ss->svc[s].transitions;
        }
        if (single(ss) && ss->n_svc)
                snprintf(h->reason, sizeof(h->reason), "%s", ss->svc[0].reason);
        else
                services_summary(ss, h->reason, sizeof(h->reason));
        h->changed = any;
        h->since = since;
        h->transitions = transitions;
        h->target = best;
        return best;
}

bool services_gated(const struct services *ss)
{
        for (size_t s = 0; s < ss->n_svc; s++)
                if (ss->svc[s].st.hold == HOLD_START)
                        return true;
        return false;
}

bool services_take_changed(struct services *ss, size_t s)
{
        assert(s < ss->n_svc);
        bool was = ss->svc[s].notify_pending;
        ss->svc[s].notify_pending = false;
        return was;
}

void services_targets(const struct services *ss, enum fo_state *targets)
{
        for (size_t s = 0; s < ss->n_svc && s < CONF_MAX_SERVICES; s++)
                targets[s] = ss->svc[s].st.target;
}

void services_snapshot(const struct services *ss, const enum fo_state *applied_each, struct snapshot *snap)
{
        snap->services = calloc(ss->n_svc + 1, sizeof(*snap->services));
        double now = mono_sec();
        for (size_t s = 0; snap->services && s < ss->n_svc && s < ss->conf->n_services; s++) {
                const struct svc_rt *v = &ss->svc[s];
                const char *why = NULL;
                bool drained = drain_host(ss->drain, &why) || drain_service(ss->drain, s, &why);
                snap->services[s] = (struct snapshot_service){
                        .conf = &ss->conf->services[s],
                        .name = v->name,
                        .target = v->st.target,
                        .applied = !applied_each || s >= CONF_MAX_SERVICES ? STATE_INVALID : applied_each[s],
                        .reason = v->reason,
                        .since = v->since,
                        .transitions = v->transitions,
                        .drained = drained,
                        .drain_reason = why,
                        .hold = v->st.hold == HOLD_NONE ? NULL : svc_hold_name(v->st.hold),
                        .hold_seconds = v->st.hold_until > now ? v->st.hold_until - now : 0,
                };
                snap->n_services++;
        }
        services_summary(ss, snap->summary, sizeof(snap->summary));
}

void services_summary(const struct services *ss, char *out, size_t len)
{
        size_t n = 0;
        out[0] = '\0';
        if (single(ss))
                return;
        for (size_t s = 0; s < ss->n_svc && n < len; s++) {
                const struct svc_rt *v = &ss->svc[s];
                int k = snprintf(out + n, len - n, "%s%s %s%s%s", s ? ", " : "", v->name,
                                 v->st.target == STATE_INVALID ? "starting" : state_name(v->st.target),
                                 drain_host(ss->drain, NULL) || drain_service(ss->drain, s, NULL) ? " (drained)" : "",
                                 v->st.hold == HOLD_FAILBACK ? " (failback delay)" :
                                 v->st.hold == HOLD_FLAP ? " (flap damping)" : "");
                if (k < 0)
                        break;
                n += (size_t)k;
        }
}

enum fo_state services_withdraw_all(struct services *ss)
{
        enum fo_state best = STATE_WITHDRAWN;
        for (size_t s = 0; s < ss->n_svc; s++) {
                struct svc_rt *v = &ss->svc[s];
                /* In the drain's order (agent/drain.c): demoted for drain_delay first, then withdrawn. */
                enum fo_state to = drain_phase(ss->drain, s) == DRAIN_DEMOTE ? STATE_DEMOTED : STATE_WITHDRAWN;
                if (!state_better(v->st.target, to)) {
                        if (state_better(v->st.target, best))
                                best = v->st.target;
                        continue;
                }
                v->previous = v->st.target;
                v->st.target = to;
                v->since = now_real();
                v->transitions++;
                if (to == STATE_DEMOTED && drain_demote_left(ss->drain, s) > 0)
                        snprintf(v->reason, sizeof(v->reason), "stopping (on_stop = \"withdraw\"): demoted, withdrawn in "
                                 "%.1f s (drain_delay)", drain_demote_left(ss->drain, s));
                else if (to == STATE_DEMOTED)
                        snprintf(v->reason, sizeof(v->reason), "stopping (on_stop = \"withdraw\"): demoted until "
                                 "drain_check says the other host is healthy");
                else
                        snprintf(v->reason, sizeof(v->reason), "stopping (on_stop = \"withdraw\")");
                log_change(ss, s);
                v->notify_pending = true;
                if (state_better(to, best))
                        best = to;
        }
        return best;
}
