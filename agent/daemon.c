/* The daemon: one sd-event loop owning signals, checks, applies to FRR and systemd notification (SPEC 7). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "apply.h"
#include "check.h"
#include "checkset.h"
#include "clock.h"
#include "daemon.h"
#include "failoverd.h"
#include "log.h"

#define RETRY_MIN_MS 500
#define RETRY_MAX_MS 10000

static void kick(struct manager *m);

static void cancel_retry(struct manager *m)
{
        m->retry_timer = sd_event_source_disable_unref(m->retry_timer);
        m->retry_ms = 0;
}

void manager_update_status(struct manager *m)
{
        char line[512];
        size_t up = 0;

        for (size_t i = 0; i < m->n_checks; i++)
                if (check_get_state(m->checks[i])->health == HEALTH_UP)
                        up++;
        char since[32] = "";
        if (m->target_since > 0) {
                struct tm tm;
                time_t t = (time_t)m->target_since;
                localtime_r(&t, &tm);
                strftime(since, sizeof(since), " since %H:%M:%S", &tm);
        }
        int n = snprintf(line, sizeof(line), "%s%s%s; checks %zu/%zu up",
                         m->target == STATE_INVALID ? "starting" : state_name(m->target),
                         m->drained ? " (drained)" : "", since, up, m->n_checks);
        watch_status_line(m, line + n, sizeof(line) - (size_t)n);
        /* With bgpd away the watch's "bgpd unreachable, retrying" says it all. */
        if (m->last_apply_error && !(m->bgpd_known && !m->bgpd_reachable))
                snprintf(line + strlen(line), sizeof(line) - strlen(line), "; apply failed, retrying");
        if (m->stopping)
                snprintf(line + strlen(line), sizeof(line) - strlen(line), "; stopping");
        if (m->reload_error)
                snprintf(line + strlen(line), sizeof(line) - strlen(line), "; reload failed: %s",
                         m->reload_error);
        if (m->drain_save_error)
                snprintf(line + strlen(line), sizeof(line) - strlen(line), "; drain state not saved: %s",
                         m->drain_save_error);
        sd_notifyf(0, "STATUS=%s", line);
}

/* The reason for a state, from the check that decided it. */
static void describe_reason(struct manager *m, enum fo_state st, int why)
{
        if (m->drained) {
                snprintf(m->reason, sizeof(m->reason), "drained%s%s", m->drain_reason ? ": " : "",
                         m->drain_reason ? m->drain_reason : "");
        } else if (why >= 0) {
                const struct check_result *r = check_get_result(m->checks[why]);
                snprintf(m->reason, sizeof(m->reason), "check %s %s: %s%s%s", check_name(m->checks[why]),
                         st == STATE_DEMOTED ? "degraded" : "failed", r->description, r->message[0] ? ": " : "",
                         r->message);
        } else {
                snprintf(m->reason, sizeof(m->reason), "%s", m->n_checks ? "all checks up" : "no checks");
        }
}

/* Recomputes the effective state; a change is logged as old -> new (reason) and applied at once. */
void manager_evaluate(struct manager *m)
{
        struct check_state *cs;
        int why = -1;

        /* No decision before every check's first result (a reload or a drain may come earlier), and none
         * while stopping. */
        if (!m->started || m->stopping) {
                manager_update_status(m);
                return;
        }
        cs = calloc(m->n_checks ? m->n_checks : 1, sizeof(*cs));
        if (!cs)
                return;
        for (size_t i = 0; i < m->n_checks; i++)
                cs[i] = *check_get_state(m->checks[i]);
        enum fo_state st = fsm_effective(m->conf->role, m->drained, cs, m->n_checks, &why);
        free(cs);

        describe_reason(m, st, why);
        if (st != m->target) {
                char f1[64], f2[64];
                snprintf(f1, sizeof(f1), "FAILOVERD_STATE=%s", state_name(st));
                snprintf(f2, sizeof(f2), "FAILOVERD_PREVIOUS=%s", state_name(m->target));
                const char *fields[] = { f1, f2, NULL };
                log_fields(LOG_NOTICE, fields, "%s -> %s (%s)",
                           m->target == STATE_INVALID ? "start" : state_name(m->target), state_name(st), m->reason);
                m->previous = m->target;
                m->target = st;
                m->target_since = clock_real_sec();
                m->decided_usec = clock_mono_usec();
                m->transitions++;
                /* A backoff belongs to the failed attempt, not to this new decision: go now. */
                cancel_retry(m);
                kick(m);        /* the fast path first: the hook and the metrics can wait a millisecond */
                control_state_changed(m);
        }
        manager_update_status(m);
        kick(m);
}

static bool all_checks_ran(const struct manager *m)
{
        for (size_t i = 0; i < m->n_checks; i++)
                if (check_get_state(m->checks[i])->health == HEALTH_UNKNOWN)
                        return false;
        return true;
}

static void on_check(struct check *c, bool changed, void *userdata)
{
        struct manager *m = userdata;
        const struct check_result *r = check_get_result(c);
        const struct check_state *s = check_get_state(c);

        if (changed) {
                char f[96];
                snprintf(f, sizeof(f), "FAILOVERD_CHECK=%s", check_name(c));
                const char *fields[] = { f, NULL };
                log_fields(s->health == HEALTH_UP ? LOG_NOTICE : LOG_WARNING, fields, "check %s: %s (%s)%s%s",
                           check_name(c), s->health == HEALTH_UP ? "up" : severity_name(s->severity),
                           r->description, r->message[0] ? ": " : "", r->message);
        } else {
                log_debug("check %s: %s%s%s", check_name(c), r->description, r->message[0] ? ": " : "",
                          r->message);
        }
        if (!m->started) {
                /* Nothing is announced before every check has given its first result. */
                if (!all_checks_ran(m))
                        return;
                m->started = true;
                m->need_full = true;
        }
        if (changed || m->target == STATE_INVALID)
                manager_evaluate(m);
        else
                manager_update_status(m);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct manager *m = userdata;
        (void)s;
        (void)usec;
        m->retry_timer = sd_event_source_disable_unref(m->retry_timer);
        kick(m);
        return 0;
}

static void schedule_retry(struct manager *m)
{
        m->retry_ms = m->retry_ms ? m->retry_ms * 2 : RETRY_MIN_MS;
        if (m->retry_ms > RETRY_MAX_MS)
                m->retry_ms = RETRY_MAX_MS;
        if (!m->retry_timer)
                sd_event_add_time_relative(m->event, &m->retry_timer, CLOCK_MONOTONIC,
                                           (uint64_t)m->retry_ms * 1000, 10 * 1000, on_retry, m);
}

static int reload_commit(struct manager *m, struct conf *c);

/* READY=1 once every check has reported and the first apply was tried, whatever its outcome (with bgpd
 * not running yet the retries go on, and STATUS= says so); after a reload, once its apply was tried. */
static void apply_tried(struct manager *m)
{
        if (m->ready && !m->reloading)
                return;
        m->ready = true;
        m->reloading = false;
        manager_update_status(m);
        sd_notify(0, "READY=1");
}

/* What follows an apply: the stop or the reload that waited for it, else the next apply. */
static void apply_ended(struct manager *m)
{
        if (m->stopping) {
                m->stop_timer = sd_event_source_disable_unref(m->stop_timer);
                log_info("stopping; the announcement stays as it is");
                sd_event_exit(m->event, 0);
                return;
        }
        if (m->pending_conf) {
                struct conf *c = m->pending_conf;
                m->pending_conf = NULL;
                reload_commit(m, c);     /* READY=1 after the new configuration's apply */
                return;
        }
        apply_tried(m);
        kick(m);
}

static void on_apply(struct apply *a, struct apply_result *r, void *userdata)
{
        struct manager *m = userdata;
        const char *kind = m->apply_kind == APPLY_FULL ? "full apply" : "fast path";
        (void)a;

        m->apply = NULL;
        m->last_apply_usec = r->usec;
        if (r->warning)
                log_warn("%s", r->warning);
        if (r->output && *r->output)
                log_debug("%s output: %s", kind, r->output);
        if (r->error) {
                log_err("%s to %s failed: %s", kind, state_name(m->apply_state), r->message);
                free(m->last_apply_error);
                m->last_apply_error = xstrdup(r->message);
                /* vtysh stops at the first refused -c (a "no network" bgpd no longer has, after a hand
                 * edit or a restart): whatever failed, a full apply is what repairs it. */
                m->need_full = true;
                m->applied = STATE_INVALID;     /* unknown: the next attempt decides again */
                schedule_retry(m);
                watch_soon(m);                  /* is bgpd there at all? STATUS= says it soon */
                manager_update_status(m);
                apply_ended(m);
                return;
        }
        m->retry_ms = 0;
        m->last_apply_error = (free(m->last_apply_error), NULL);
        bool verified = r->readback_ok && r->running[0] == m->apply_state;
        control_write_metrics(m);
        if (!verified) {
                log_err("%s to %s: read-back shows %s; retrying", kind, state_name(m->apply_state),
                        r->readback_ok ? state_name(r->running[0]) : "nothing");
                m->need_full = true;
                m->applied = STATE_INVALID;
                schedule_retry(m);
                manager_update_status(m);
                apply_ended(m);
                return;
        }
        m->applied = m->apply_state;
        watch_soon(m);
        char in_bgpd[64] = "";
        if (r->tool_done_mono > m->decided_usec)
                snprintf(in_bgpd, sizeof(in_bgpd), ", in bgpd %.2f ms after the decision",
                         (r->tool_done_mono - m->decided_usec) / 1000.0);
        log_info("%s: %s in effect after %.1f ms (tool %.1f ms%s, %.1f ms after the decision)%s", kind,
                 state_name(m->applied), r->usec / 1000.0, r->tool_usec / 1000.0, in_bgpd,
                 (clock_mono_usec() - m->decided_usec) / 1000.0, r->file_changed ? "; frr.conf rewritten" : "");
        manager_update_status(m);
        apply_ended(m);
}

/* Starts the next apply when none is in flight: a pending full apply first, else the fast path. */
static void kick(struct manager *m)
{
        if (m->apply || m->retry_timer || !m->started || m->target == STATE_INVALID || m->stopping)
                return;
        enum apply_kind kind;
        if (m->need_full)
                kind = APPLY_FULL;
        else if (m->applied != m->target)
                kind = m->applied == STATE_INVALID ? APPLY_FULL : APPLY_FAST;
        else
                return;
        enum fo_state states[1] = { m->target };
        int r = apply_start(m->event, m->conf, states, kind, true, on_apply, m, &m->apply);
        if (r < 0) {
                log_err("cannot start apply: %s", strerror(-r));
                schedule_retry(m);
                apply_tried(m);
                return;
        }
        m->need_full = false;
        m->apply_kind = kind;
        m->apply_state = m->target;
        log_debug("%s to %s started", kind == APPLY_FULL ? "full apply" : "fast path", state_name(m->target));
}

bool manager_busy(const struct manager *m)
{
        return m->apply || m->retry_timer || m->need_full || m->target != m->applied;
}

void manager_request_full(struct manager *m)
{
        /* Called when something changed (bgpd is back, restarted, drifted): try at once. */
        cancel_retry(m);
        m->need_full = true;
        kick(m);
}

static void free_checks(struct manager *m)
{
        for (size_t i = 0; i < m->n_checks; i++)
                check_free(m->checks[i]);
        free(m->checks);
        m->checks = NULL;
        m->n_checks = 0;
}

static void on_checkset_note(const char *name, enum checkset_change what, void *userdata)
{
        (void)userdata;
        log_info("check %s %s", name, what == CHECKSET_ADDED ? "added" : what == CHECKSET_CHANGED ? "changed"
                                                                                                  : "removed");
}

/* Builds the check objects of c, reusing (and so keeping the state of) those of m that still exist.
 * m->checks[j] belongs to m->conf->check[j]; prev is NULL at start-up. */
static int build_checks(struct manager *m, const struct conf *prev, const struct conf *c)
{
        return checkset_rebuild(m->event, &m->checks, &m->n_checks, prev, c, on_check, on_checkset_note, m);
}

/* Puts a valid new configuration in place of the running one. No apply may be in flight: it points into
 * the old one. */
static int reload_commit(struct manager *m, struct conf *c)
{
        /* All or nothing: a set of checks that cannot be built leaves the old configuration running. */
        int r = build_checks(m, m->conf, c);
        if (r < 0) {
                log_err("reload failed, keeping the running configuration: cannot build the checks: %s",
                        strerror(-r));
                free(m->reload_error);
                m->reload_error = xstrdup("cannot build the checks (out of memory?)");
                conf_free(c);
                m->reloading = false;
                manager_update_status(m);
                if (m->ready)
                        sd_notify(0, "READY=1");
                kick(m);
                return r;
        }
        m->reload_error = (free(m->reload_error), NULL);
        m->retry_timer = sd_event_source_disable_unref(m->retry_timer);
        m->retry_ms = 0;
        struct conf *old = m->conf;
        m->conf = c;
        control_set_access(m);
        m->assigned = (free(m->assigned), NULL);
        m->assigned_known = false;
        watch_check_addresses(m, true);
        conf_free(old);
        m->need_full = true;
        if (!m->started && all_checks_ran(m))
                m->started = true;
        manager_evaluate(m);
        return 0;
}

int manager_reload(struct manager *m)
{
        struct diag d;
        struct conf *c = NULL;
        char buf[64];

        if (m->stopping) {
                log_info("reload ignored: stopping");
                return -ESHUTDOWN;
        }
        /* Before the first READY=1 a reload owes none of its own. */
        if (m->ready) {
                snprintf(buf, sizeof(buf), "MONOTONIC_USEC=%llu", (unsigned long long)clock_mono_usec());
                sd_notifyf(0, "RELOADING=1\n%s", buf);
                m->reloading = true;
        }
        log_info("reloading %s", m->conf_path);

        diag_init(&d);
        int r = conf_load(m->conf_path, &c, &d);
        log_diag(&d);
        if (r < 0) {
                char msg[512];
                const char *first = NULL;
                for (size_t i = 0; i < d.n && !first; i++)
                        if (d.msgs[i].level == DIAG_ERROR)
                                first = d.msgs[i].text;
                snprintf(msg, sizeof(msg), "%s%s", first ? first : strerror(-r),
                         d.n_errors > 1 ? " (and more, see the log)" : "");
                log_err("reload failed, keeping the running configuration: %zu error%s", d.n_errors,
                        d.n_errors == 1 ? "" : "s");
                free(m->reload_error);
                m->reload_error = strdup(msg);
                diag_free(&d);
                manager_update_status(m);
                if (m->reloading && !m->pending_conf && !m->apply) {
                        m->reloading = false;
                        sd_notify(0, "READY=1");
                }
                return r;
        }
        diag_free(&d);
        if (m->apply) {
                /* Killing vtysh or frr-reload.py mid-way could leave FRR half-changed: the apply finishes
                 * first (bounded by frr.timeout), then the new configuration takes over. */
                log_info("reload: the new configuration takes over once the %s in flight is done",
                         m->apply_kind == APPLY_FULL ? "full apply" : "fast path");
                conf_free(m->pending_conf);
                m->pending_conf = c;
                m->reload_error = (free(m->reload_error), NULL);
                manager_update_status(m);
                return 0;
        }
        return reload_commit(m, c);
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct manager *m = userdata;
        (void)s;
        (void)usec;
        log_err("the apply in flight did not end within frr.timeout: stopping anyway");
        sd_event_exit(m->event, 0);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct manager *m = userdata;
        const char *sig = strsignal((int)si->ssi_signo);
        (void)s;

        if (si->ssi_signo == SIGHUP) {
                manager_reload(m);
                return 0;
        }
        if (m->stopping) {
                log_info("%s: already stopping, once the apply in flight is done", sig);
                return 0;
        }
        m->stopping = true;
        sd_notify(0, "STOPPING=1");
        m->retry_timer = sd_event_source_disable_unref(m->retry_timer);
        m->pending_conf = conf_free(m->pending_conf);
        if (m->apply) {
                /* SIGKILLing vtysh or frr-reload.py mid-way could leave one address family switched and the
                 * other not: the apply finishes first. Each of its steps is bounded by frr.timeout; the
                 * deadline covers the one in flight (the unit's TimeoutStopSec is above it). */
                double secs = m->conf->frr.timeout + 2;
                log_info("%s: stopping once the %s in flight is done (at most %.0f s); the announcement stays "
                         "as it is", sig, m->apply_kind == APPLY_FULL ? "full apply" : "fast path", secs);
                manager_update_status(m);
                int r = sd_event_add_time_relative(m->event, &m->stop_timer, CLOCK_MONOTONIC,
                                                   (uint64_t)(secs * 1e6), 100000, on_stop_timeout, m);
                if (r < 0)
                        sd_event_exit(m->event, 0);
                return 0;
        }
        log_info("%s: stopping; the announcement stays as it is", sig);
        sd_event_exit(m->event, 0);
        return 0;
}

int manager_init(struct manager *m, const char *path, int verbose)
{
        struct diag d;
        int r;

        memset(m, 0, sizeof(*m));
        m->target = m->applied = m->previous = STATE_INVALID;
        m->conf_path = strdup(path);
        m->verbose = verbose;

        diag_init(&d);
        r = conf_load(path, &m->conf, &d);
        log_diag(&d);
        diag_free(&d);
        if (r < 0) {
                log_err("%s: configuration is invalid", path);
                return r;
        }
        apply_remove_leftovers(m->conf);
        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        static const int sigs[] = { SIGHUP, SIGTERM, SIGINT };
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
                r = sd_event_add_signal(m->event, NULL, sigs[i], on_signal, m);
                if (r < 0)
                        return r;
        }
        /* Pings WATCHDOG=1 at half of WATCHDOG_USEC from the loop itself: a stuck loop gets us restarted. */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                return r;
        return 0;
}

int manager_start(struct manager *m)
{
        log_info("failoverd %s starting: role %s, %zu shared prefix%s, %zu check%s", VERSION,
                 role_name(m->conf->role), m->conf->n_shared_ips, m->conf->n_shared_ips == 1 ? "" : "es",
                 m->conf->n_checks, m->conf->n_checks == 1 ? "" : "s");
        sd_notify(0, "STATUS=starting: running every check once");
        int r = build_checks(m, NULL, m->conf);
        if (r < 0)
                return r;
        if (m->n_checks == 0) {
                /* No checks at all: always healthy. */
                m->started = true;
                m->need_full = true;
                manager_evaluate(m);
        }
        return 0;
}

void manager_done(struct manager *m)
{
        m->apply = apply_free(m->apply);
        m->retry_timer = sd_event_source_disable_unref(m->retry_timer);
        m->stop_timer = sd_event_source_disable_unref(m->stop_timer);
        m->pending_conf = conf_free(m->pending_conf);
        free_checks(m);
        m->conf = conf_free(m->conf);
        free(m->conf_path);
        free(m->reload_error);
        free(m->last_apply_error);
        free(m->drain_reason);
        free(m->drain_save_error);
        m->event = sd_event_unref(m->event);
}

int daemon_main(const char *path, int verbose)
{
        struct manager m;
        sigset_t mask;

        /* Signals are blocked before anything else and handled only through the loop (signalfd). */
        sigemptyset(&mask);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        int r = manager_init(&m, path, verbose);
        if (r >= 0)
                r = control_init(&m);
        if (r >= 0)
                r = watch_init(&m);
        if (r >= 0)
                r = manager_start(&m);
        if (r >= 0)
                r = sd_event_loop(m.event);
        if (r < 0)
                log_err("failoverd: %s", strerror(-r));
        watch_done(&m);
        control_done(&m);
        manager_done(&m);
        return r < 0 ? 1 : 0;
}
