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
#include "file.h"
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

static void drain_path(const struct manager *m, const char *name, char *out, size_t len)
{
        snprintf(out, len, "%s/drain.%s", m->conf->state_directory, name);
}

static void load_drain(struct manager *m, struct svc_rt *v)
{
        char path[4300], *text = NULL;

        drain_path(m, v->name, path, sizeof(path));
        int r = file_read(path, 4096, &text, NULL);
        if (r == -ENOENT)
                return;
        v->drained = true;
        if (r == 0) {
                text[strcspn(text, "\n")] = '\0';
                v->drain_reason = *text ? strdup(text) : NULL;
        }
        free(text);
        log_notice("service %s drained since before this start%s%s (failoverctl resume %s to end it)", v->name,
                   v->drain_reason ? ": " : "", v->drain_reason ? v->drain_reason : "", v->name);
}

struct drain_ctx {
        struct manager *m;
        char *name;
};

static void svc_clear(struct svc_rt *v)
{
        /* A service a reload removed: its drain file write runs to its end on its thread, unobserved. */
        if (v->drain_job) {
                v->drain_job = file_job_cancel(v->drain_job);
                struct drain_ctx *x = v->drain_ctx;
                free(x->name);
                free(x);
        }
        free(v->name);
        free(v->drain_reason);
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
                if (!single(m))
                        load_drain(m, &v[i]);
        }
        for (size_t j = 0; j < m->n_svc; j++)
                svc_clear(&m->svc[j]);
        free(m->svc);
        m->svc = v;
        m->n_svc = n;
        return 0;
}

void services_flush(struct manager *m)
{
        for (size_t i = 0; i < m->n_svc; i++)
                for (int k = 0; m->svc[i].drain_job && k < 3; k++)
                        if (!file_job_finish(m->svc[i].drain_job, 10000))
                                m->svc[i].drain_job = NULL;
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

        if (m->drained || v->drained) {
                const char *why = m->drained ? m->drain_reason : v->drain_reason;
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
                bool changed = svc_decide(sv, &v->st, cs, rise, n, m->drained || v->drained, now, &next);
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
                snap->services[s] = (struct snapshot_service){
                        .conf = &m->conf->services[s],
                        .name = v->name,
                        .target = v->st.target,
                        .applied = m->queue.applied == STATE_INVALID || s >= CONF_MAX_SERVICES
                                           ? STATE_INVALID : m->queue.applied_each[s],
                        .reason = v->reason,
                        .since = v->since,
                        .transitions = v->transitions,
                        .drained = m->drained || v->drained,
                        .drain_reason = m->drained ? m->drain_reason : v->drain_reason,
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
                                 m->drained || v->drained ? " (drained)" : "",
                                 v->st.hold == HOLD_FAILBACK ? " (failback delay)" :
                                 v->st.hold == HOLD_FLAP ? " (flap damping)" : "");
                if (k < 0)
                        break;
                n += (size_t)k;
        }
}

void services_withdraw_all(struct manager *m)
{
        for (size_t s = 0; s < m->n_svc; s++) {
                struct svc_rt *v = &m->svc[s];
                if (v->st.target == STATE_WITHDRAWN)
                        continue;
                v->previous = v->st.target;
                v->st.target = STATE_WITHDRAWN;
                v->since = now_real();
                v->transitions++;
                snprintf(v->reason, sizeof(v->reason), "stopping (on_stop = \"withdraw\")");
                log_change(m, s);
                v->notify_pending = true;
        }
        m->previous = m->target;
        m->target = STATE_WITHDRAWN;
}

static void save_drain(struct manager *m, struct svc_rt *v);

static void on_saved(struct file_job *j, int error, bool changed, void *userdata)
{
        struct drain_ctx *x = userdata;
        struct manager *m = x->m;
        (void)j;
        (void)changed;

        int s = conf_find_service(m->conf, x->name);
        struct svc_rt *v = s >= 0 && (size_t)s < m->n_svc ? &m->svc[s] : NULL;
        if (error < 0)
                log_err("cannot %s the drain file of service %s: %s; it holds until failoverd stops",
                        v && v->drained ? "write" : "remove", x->name, strerror(-error));
        if (v) {
                v->drain_job = NULL;
                v->drain_ctx = NULL;
                if (v->drain_dirty)
                        save_drain(m, v);
        }
        free(x->name);
        free(x);
}

static void save_drain(struct manager *m, struct svc_rt *v)
{
        char path[4300];
        int r;

        if (v->drain_job) {
                v->drain_dirty = true;
                return;
        }
        v->drain_dirty = false;
        struct drain_ctx *x = calloc(1, sizeof(*x));
        if (!x || !(x->name = strdup(v->name))) {
                free(x);
                log_err("cannot save the drain of service %s: %s", v->name, strerror(ENOMEM));
                return;
        }
        x->m = m;
        drain_path(m, v->name, path, sizeof(path));
        if (v->drained) {
                char line[1100];
                snprintf(line, sizeof(line), "%s\n", v->drain_reason ? v->drain_reason : "");
                r = file_write_async(m->event, path, line, strlen(line), 0640, FILE_DURABLE, on_saved, x, &v->drain_job);
        } else {
                r = file_remove_async(m->event, path, FILE_DURABLE, on_saved, x, &v->drain_job);
        }
        if (r < 0) {
                log_err("cannot save the drain state in %s: %s", path, strerror(-r));
                free(x->name);
                free(x);
        } else {
                v->drain_ctx = x;
        }
}

static void evaluate_now(struct manager *m)
{
        manager_evaluate(m);
}

int services_resume_all(struct manager *m)
{
        int n = 0;
        for (size_t s = 0; s < m->n_svc; s++) {
                struct svc_rt *v = &m->svc[s];
                if (!v->drained)
                        continue;
                v->drained = false;
                v->drain_reason = (free(v->drain_reason), NULL);
                save_drain(m, v);
                n++;
        }
        if (n)
                evaluate_now(m);
        return n;
}

int services_drain(struct manager *m, const char *arg, bool drain)
{
        char name[64];
        size_t w = arg ? strcspn(arg, " ") : 0;

        /* The top-level form's one service is the host: its drain is the host's. */
        if (single(m) || !arg || w == 0 || w >= sizeof(name))
                return -ENOENT;
        snprintf(name, sizeof(name), "%.*s", (int)w, arg);
        int s = conf_find_service(m->conf, name);
        if (s < 0 || (size_t)s >= m->n_svc)
                return -ENOENT;
        const char *reason = arg[w] ? arg + w + 1 : NULL;
        struct svc_rt *v = &m->svc[s];
        if (!drain && !v->drained)
                return -EALREADY;
        v->drained = drain;
        free(v->drain_reason);
        v->drain_reason = drain && reason && *reason ? strdup(reason) : NULL;
        save_drain(m, v);
        evaluate_now(m);
        return 0;
}
