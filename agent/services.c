/* The daemon's services: each one's decision (lib/service.c), drain, timers and applied state
 * (docs/design.md). The host's headline state is the best of them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "clock.h"
#include "daemon.h"
#include "drain.h"
#include "log.h"
#include "services.h"

static double now_real(void)
{
        return clock_real_sec();
}

static double mono_sec(void)
{
        return (double)clock_mono_usec() / 1e6;
}

/* The one service of the top-level form logs and reports as failoverd always did. */
static bool single(const struct manager *m)
{
        return !m->conf->services_form;
}

static void svc_clear(struct svc_rt *v)
{
        free(v->name);
}

int services_rebuild(struct manager *m, const struct conf *prev)
{
        size_t n = m->conf->n_services;
        struct svc_rt *v = calloc(n, sizeof(*v));
        (void)prev;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *name = m->conf->services[i].name;
                struct svc_rt *old = NULL;
                for (size_t j = 0; j < m->n_svc; j++)
                        if (m->svc[j].name && strcmp(m->svc[j].name, name) == 0)
                                old = &m->svc[j];
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
        for (size_t j = 0; j < m->n_svc; j++)
                svc_clear(&m->svc[j]);
        free(m->svc);
        m->svc = v;
        m->n_svc = n;
        return 0;
}

void services_done(struct manager *m)
{
        m->svc_timer = sd_event_source_disable_unref(m->svc_timer);
        for (size_t i = 0; i < m->n_svc; i++)
                svc_clear(&m->svc[i]);
        free(m->svc);
        m->svc = NULL;
        m->n_svc = 0;
}

static void describe(struct manager *m, size_t s, const size_t *idx)
{
        struct svc_rt *v = &m->svc[s];
        const struct service *sv = &m->conf->services[s];
        char *r = v->reason;
        size_t len = sizeof(v->reason);

        const char *why = NULL;
        double left = drain_demote_left(m->drain, s);
        if (v->st.drain_demote && left > 0) {
                (void)(drain_host(m->drain, &why) || drain_service(m->drain, s, &why));
                snprintf(r, len, "draining: demoted, withdrawn in %.1f s (drain_delay)%s%s", left, why ? ": " : "",
                         why ? why : "");
        } else if (v->st.drain_demote) {
                (void)(drain_host(m->drain, &why) || drain_service(m->drain, s, &why));
                snprintf(r, len, "draining: demoted until drain_check says the other host is healthy%s%s",
                         why ? ": " : "", why ? why : "");
        } else if (drain_host(m->drain, &why) || drain_service(m->drain, s, &why)) {
                snprintf(r, len, "drained%s%s", why ? ": " : "", why ? why : "");
        } else if (v->st.why >= 0) {
                struct check *c = m->checks[idx[v->st.why]];
                const struct check_result *cr = check_get_result(c);
                snprintf(r, len, "check %s %s: %s%s%s", check_name(c),
                         v->st.raw == STATE_DEMOTED ? "degraded" : "failed", cr->description,
                         cr->message[0] ? ": " : "", cr->message);
        } else {
                snprintf(r, len, "%s", m->n_checks ? "all checks up" : "no checks");
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
        struct manager *m = userdata;
        (void)s;
        (void)usec;
        m->svc_timer = sd_event_source_disable_unref(m->svc_timer);
        manager_evaluate(m);
        return 0;
}

static void log_change(struct manager *m, size_t s)
{
        struct svc_rt *v = &m->svc[s];
        char f1[64], f2[64], f3[96];
        snprintf(f1, sizeof(f1), "FAILOVERD_STATE=%s", state_name(v->st.target));
        snprintf(f2, sizeof(f2), "FAILOVERD_PREVIOUS=%s", state_name(v->previous));
        snprintf(f3, sizeof(f3), "FAILOVERD_SERVICE=%s", v->name);
        const char *fields[] = { f1, f2, f3, NULL };
        const char *from = v->previous == STATE_INVALID ? "start" : state_name(v->previous);
        if (single(m))
                log_fields(LOG_NOTICE, fields, "%s -> %s (%s)", from, state_name(v->st.target), v->reason);
        else
                log_fields(LOG_NOTICE, fields, "%s: %s -> %s (%s)", v->name, from, state_name(v->st.target),
                           v->reason);
}

bool services_evaluate(struct manager *m)
{
        size_t *idx = calloc(m->n_checks + 1, sizeof(*idx));
        struct check_state *cs = calloc(m->n_checks + 1, sizeof(*cs));
        int *rise = calloc(m->n_checks + 1, sizeof(*rise));
        bool any = false;
        double now = mono_sec(), next_all = 0;

        if (!idx || !cs || !rise) {
                free(idx);
                free(cs);
                free(rise);
                return false;
        }
        for (size_t s = 0; s < m->n_svc && s < m->conf->n_services; s++) {
                struct svc_rt *v = &m->svc[s];
                const struct service *sv = &m->conf->services[s];
                size_t n = 0;
                double next;
                for (size_t i = 0; i < m->n_checks; i++) {
                        if (!conf_check_guards(m->conf, s, check_name(m->checks[i])))
                                continue;
                        idx[n] = i;
                        cs[n] = *check_get_state(m->checks[i]);
                        rise[n] = check_get_conf(m->checks[i])->rise;
                        n++;
                }
                enum fo_state before = v->st.target;
                enum drain_phase ph = drain_phase(m->drain, s);
                bool drained = ph == DRAIN_WITHDRAW;
                v->st.drain_demote = ph == DRAIN_DEMOTE;
                bool changed = svc_decide(sv, &v->st, cs, rise, n, drained, now, &next);
                if (next > 0 && (next_all == 0 || next < next_all))
                        next_all = next;
                describe(m, s, idx);
                if (v->st.flap_started) {
                        char f[96];
                        snprintf(f, sizeof(f), "FAILOVERD_SERVICE=%s", v->name);
                        const char *fields[] = { f, NULL };
                        log_fields(LOG_WARNING, fields, "%s%sflapping: %u state changes within %g s; held %s for "
                                   "%g s", single(m) ? "" : v->name, single(m) ? "" : ": ", v->st.flap_count,
                                   sv->flap_window, state_name(v->st.target), sv->flap_hold);
                }
                if (!changed)
                        continue;
                v->previous = before;
                v->since = now_real();
                v->transitions++;
                log_change(m, s);
                any = true;
                v->notify_pending = true;
        }
        free(idx);
        free(cs);
        free(rise);

        m->svc_timer = sd_event_source_disable_unref(m->svc_timer);
        if (next_all > 0) {
                double in = next_all - now;
                sd_event_add_time_relative(m->event, &m->svc_timer, CLOCK_MONOTONIC,
                                           in > 0 ? (uint64_t)(in * 1e6) + 1000 : 1000, 1000, on_timer, m);
        }

        /* The headline: the best state of any service, its latest change. */
        enum fo_state best = STATE_INVALID;
        double since = 0;
        unsigned transitions = 0;
        for (size_t s = 0; s < m->n_svc; s++) {
                if (m->svc[s].st.target != STATE_INVALID && state_better(m->svc[s].st.target, best))
                        best = m->svc[s].st.target;
                if (m->svc[s].since > since)
                        since = m->svc[s].since;
                transitions += m->svc[s].transitions;
        }
        if (single(m) && m->n_svc)
                snprintf(m->reason, sizeof(m->reason), "%s", m->svc[0].reason);
        else
                services_summary(m, m->reason, sizeof(m->reason));
        if (best != m->target) {
                m->previous = m->target;
                m->target = best;
        }
        if (any)
                m->target_since = since;
        m->transitions = transitions;
        return any;
}

void services_notify(struct manager *m)
{
        for (size_t s = 0; s < m->n_svc; s++)
                if (m->svc[s].notify_pending) {
                        m->svc[s].notify_pending = false;
                        manager_service_changed(m, s);
                }
}

void services_targets(const struct manager *m, enum fo_state *targets)
{
        for (size_t s = 0; s < m->n_svc && s < CONF_MAX_SERVICES; s++)
                targets[s] = m->svc[s].st.target;
}

void services_snapshot(const struct manager *m, struct snapshot *snap)
{
        snap->services = calloc(m->n_svc + 1, sizeof(*snap->services));
        double now = mono_sec();
        for (size_t s = 0; snap->services && s < m->n_svc && s < m->conf->n_services; s++) {
                const struct svc_rt *v = &m->svc[s];
                const char *why = NULL;
                bool drained = drain_host(m->drain, &why) || drain_service(m->drain, s, &why);
                snap->services[s] = (struct snapshot_service){
                        .conf = &m->conf->services[s],
                        .name = v->name,
                        .target = v->st.target,
                        .applied = m->queue.applied == STATE_INVALID || s >= CONF_MAX_SERVICES
                                           ? STATE_INVALID : m->queue.applied_each[s],
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
        services_summary(m, snap->summary, sizeof(snap->summary));
}

void services_summary(const struct manager *m, char *out, size_t len)
{
        size_t n = 0;
        out[0] = '\0';
        if (single(m))
                return;
        for (size_t s = 0; s < m->n_svc && n < len; s++) {
                const struct svc_rt *v = &m->svc[s];
                int k = snprintf(out + n, len - n, "%s%s %s%s%s", s ? ", " : "", v->name,
                                 v->st.target == STATE_INVALID ? "starting" : state_name(v->st.target),
                                 drain_host(m->drain, NULL) || drain_service(m->drain, s, NULL) ? " (drained)" : "",
                                 v->st.hold == HOLD_FAILBACK ? " (failback delay)" :
                                 v->st.hold == HOLD_FLAP ? " (flap damping)" : "");
                if (k < 0)
                        break;
                n += (size_t)k;
        }
}

void services_withdraw_all(struct manager *m)
{
        enum fo_state best = STATE_WITHDRAWN;
        for (size_t s = 0; s < m->n_svc; s++) {
                struct svc_rt *v = &m->svc[s];
                /* In the drain's order (agent/drain.c): demoted for drain_delay first, then withdrawn. */
                enum fo_state to = drain_phase(m->drain, s) == DRAIN_DEMOTE ? STATE_DEMOTED : STATE_WITHDRAWN;
                if (!state_better(v->st.target, to)) {
                        if (state_better(v->st.target, best))
                                best = v->st.target;
                        continue;
                }
                v->previous = v->st.target;
                v->st.target = to;
                v->since = now_real();
                v->transitions++;
                if (to == STATE_DEMOTED && drain_demote_left(m->drain, s) > 0)
                        snprintf(v->reason, sizeof(v->reason), "stopping (on_stop = \"withdraw\"): demoted, withdrawn in "
                                 "%.1f s (drain_delay)", drain_demote_left(m->drain, s));
                else if (to == STATE_DEMOTED)
                        snprintf(v->reason, sizeof(v->reason), "stopping (on_stop = \"withdraw\"): demoted until "
                                 "drain_check says the other host is healthy");
                else
                        snprintf(v->reason, sizeof(v->reason), "stopping (on_stop = \"withdraw\")");
                log_change(m, s);
                v->notify_pending = true;
                if (state_better(to, best))
                        best = to;
        }
        if (best != m->target) {
                m->previous = m->target;
                m->target = best;
        }
}
