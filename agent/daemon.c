/* The manager: one sd-event loop owning signals, checks, the decision, the apply queue and systemd
 * notification; the watch and the control socket report to it through agent/events.h. */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "addresses.h"
#include "check.h"
#include "checkset.h"
#include "clock.h"
#include "control.h"
#include "daemon.h"
#include "drain.h"
#include "failoverd.h"
#include "log.h"
#include "outputs.h"
#include "timer.h"
#include "watch.h"

static const char *const phase_names[_PHASE_MAX] = {
        [PHASE_STARTING] = "starting",
        [PHASE_STARTED] = "started",
        [PHASE_READY] = "ready",
        [PHASE_RELOADING] = "reloading",
        [PHASE_STOPPING] = "stopping",
        [PHASE_STOP_WITHDRAW] = "stop-withdraw",
};

/* from -> to; a phase going to itself is no change. Stopping is for good. */
static const bool phase_allowed[_PHASE_MAX][_PHASE_MAX] = {
        [PHASE_STARTING] = { [PHASE_STARTED] = true, [PHASE_STOPPING] = true },
        [PHASE_STARTED] = { [PHASE_READY] = true, [PHASE_STOPPING] = true, [PHASE_STOP_WITHDRAW] = true },
        [PHASE_READY] = { [PHASE_RELOADING] = true, [PHASE_STOPPING] = true, [PHASE_STOP_WITHDRAW] = true },
        [PHASE_RELOADING] = { [PHASE_READY] = true, [PHASE_STOPPING] = true, [PHASE_STOP_WITHDRAW] = true },
};

const char *manager_phase_name(enum manager_phase p)
{
        return p >= 0 && p < _PHASE_MAX ? phase_names[p] : "?";
}

bool manager_phase_allowed(enum manager_phase from, enum manager_phase to)
{
        return from >= 0 && from < _PHASE_MAX && to >= 0 && to < _PHASE_MAX && phase_allowed[from][to];
}

static bool stopping(const struct manager *m)
{
        return m->phase == PHASE_STOPPING || m->phase == PHASE_STOP_WITHDRAW;
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata);

/* The one place the manager's phase changes; the stop phases own the stop timer (their bound: the apply in
 * flight, or it and the withdrawal, each within frr.timeout, below the unit's TimeoutStopSec). */
static void set_phase(struct manager *m, enum manager_phase to, const char *reason)
{
        enum manager_phase from = m->phase;

        if (from == to)
                return;
        assert(manager_phase_allowed(from, to));
        log_info("manager: %s -> %s (%s)", phase_names[from], phase_names[to], reason);
        m->phase = to;
        if (to == PHASE_STOPPING || to == PHASE_STOP_WITHDRAW) {
                double secs = to == PHASE_STOP_WITHDRAW ? 2 * m->conf->frr.timeout + 2 + m->conf->drain_delay
                                                        : m->conf->frr.timeout + 2;
                int r = timer_arm(m->event, &m->stop_timer, (uint64_t)(secs * 1e6), 100000, on_stop_timeout, m);
                if (r < 0) {
                        log_err("cannot bound the stop with a timer: %s; stopping now", strerror(-r));
                        sd_event_exit(m->event, 0);
                }
        }
}

void manager_snapshot(struct manager *m, struct snapshot *s)
{
        memset(s, 0, sizeof(*s));
        s->conf = m->conf;
        s->conf_path = m->conf_path;
        s->target = m->target;
        s->previous = m->previous;
        s->applied = queue_applied(&m->queue);
        s->reason = m->reason;
        s->since = m->target_since;
        s->transitions = m->transitions;
        s->drained = drain_host(m->drain, &s->drain_reason);
        s->drain_save_error = drain_save_error(m->drain);
        s->reload_error = m->reload_error;
        s->stopping = stopping(m);
        s->queue = queue_state_name(queue_get_state(&m->queue));
        s->last_apply_error = queue_last_error(&m->queue);
        s->last_apply_usec = queue_last_apply_usec(&m->queue);
        s->checks = calloc(m->n_checks + 1, sizeof(*s->checks));
        for (size_t i = 0; s->checks && i < m->n_checks; i++)
                s->checks[i] = (struct snapshot_check){
                        .name = check_name(m->checks[i]),
                        .state = check_get_state(m->checks[i]),
                        .result = check_get_result(m->checks[i]),
                        .conf = check_get_conf(m->checks[i]),
                };
        s->n_checks = s->checks ? m->n_checks : 0;
        services_snapshot(m->services, queue_applied_each(&m->queue), s);
        if (m->watch)
                watch_snapshot(m->watch, s);
        if (m->addresses)
                addresses_snapshot(m->addresses, s);
}

/* The one "state changed" event: every output follows from one snapshot (what: OUTPUT_* flags). */
static void publish(struct manager *m, unsigned what)
{
        struct snapshot s;
        manager_snapshot(m, &s);
        outputs_publish(m->outputs, &s, what);
        snapshot_clear(&s);
}

/* Publishes each service's change: its notify hook run, the metrics and STATUS=. */
static void notify_changed(struct manager *m)
{
        for (size_t s = 0; s < services_count(m->services); s++) {
                if (!services_take_changed(m->services, s))
                        continue;
                struct snapshot snap;
                manager_snapshot(m, &snap);
                if (s < snap.n_services) {
                        const struct snapshot_service *v = &snap.services[s];
                        snap.target = v->target;
                        snap.previous = services_get(m->services, s)->previous;
                        snap.reason = v->reason;
                        snap.notify_service = v->name;
                        snap.notify_role = v->conf->role;
                }
                outputs_publish(m->outputs, &snap, OUTPUT_NOTIFY);
                snapshot_clear(&snap);
        }
}

/* The headline the services decided: only the manager writes it. */
static void set_headline(struct manager *m, enum fo_state best, const struct services_headline *h)
{
        snprintf(m->reason, sizeof(m->reason), "%s", h->reason);
        if (best != m->target) {
                m->previous = m->target;
                m->target = best;
        }
        if (h->changed)
                m->target_since = h->since;
        m->transitions = h->transitions;
}

/* Decides every service (agent/services.c); a change is logged as old -> new (reason), handed to the apply
 * queue at once, then published. */
static void evaluate(struct manager *m)
{
        /* No decision before every check's first result (a reload or a drain may come earlier), and none
         * while stopping. */
        if (m->phase == PHASE_STARTING || stopping(m)) {
                publish(m, OUTPUT_STATUS);
                return;
        }
        struct services_headline h = { .target = m->target };
        set_headline(m, services_evaluate(m->services, m->checks, m->n_checks, &h), &h);
        enum fo_state targets[CONF_MAX_SERVICES];
        if (h.changed) {
                services_targets(m->services, targets);
                /* the fast path first: the hook and the metrics can wait a millisecond */
                queue_decide_each(&m->queue, targets, m->target);
                notify_changed(m);
        }
        publish(m, h.changed ? OUTPUT_METRICS | OUTPUT_STATUS : OUTPUT_STATUS);
}

/* A failback delay or a flap hold ended. */
static void on_services_due(struct services *ss, void *userdata)
{
        (void)ss;
        evaluate(userdata);
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
        if (m->phase == PHASE_STARTING) {
                /* Nothing is announced before every check has given its first result. */
                if (!all_checks_ran(m))
                        return;
                set_phase(m, PHASE_STARTED, "every check has given its first result");
                queue_owe_full(&m->queue);
        }
        /* An unchanged result changes nothing in STATUS= either ("checks N/M up" moves only with health):
         * rebuilding it per result cost more than a native check's own run. */
        /* start = "withdrawn" waits for rise passes in a row: each one counts, changed or not. */
        if (changed || m->target == STATE_INVALID || services_gated(m->services))
                evaluate(m);
}

static int reload_commit(struct manager *m, struct conf *c);

/* READY=1 once every check has reported and the first apply was tried, whatever its outcome (with bgpd
 * not running yet the queue waits for it, and STATUS= says so); after a reload, once its apply was tried. */
static void apply_tried(struct manager *m, const char *why)
{
        if (m->phase != PHASE_STARTED && m->phase != PHASE_RELOADING)
                return;
        set_phase(m, PHASE_READY, why);
        publish(m, OUTPUT_STATUS);
        sd_notify(0, "READY=1");
}

static bool withdrawn_everywhere(const struct manager *m)
{
        const enum fo_state *each = queue_applied_each(&m->queue);
        if (!each || queue_full_owed(&m->queue))
                return false;
        for (size_t s = 0; s < services_count(m->services) && s < CONF_MAX_SERVICES; s++)
                if (each[s] != STATE_WITHDRAWN)
                        return false;
        return true;
}

/* on_stop = "withdraw": every service to the state the drain's order gives it now (demoted, then withdrawn). */
static void stop_order(struct manager *m)
{
        enum fo_state targets[CONF_MAX_SERVICES];
        enum fo_state best = services_withdraw_all(m->services);
        if (best != m->target) {
                m->previous = m->target;
                m->target = best;
        }
        services_targets(m->services, targets);
        queue_decide_each(&m->queue, targets, m->target);
        notify_changed(m);
        publish(m, OUTPUT_STATUS | OUTPUT_METRICS);
}

static void stop_exit(void *userdata)
{
        struct manager *m = userdata;
        m->stop_timer = sd_event_source_disable_unref(m->stop_timer);
        log_info("stopping: every service is withdrawn in bgpd");
        sd_event_exit(m->event, 0);
}

/* on_stop = "withdraw" is in bgpd. With addresses_on_stop = "remove" the addresses leave lo once a read of
 * bgpd begun after that has none of them in its table (the withdrawal is on its way to every route server),
 * plus the route servers' own time (ADDRESSES_SETTLE_USEC): a removal before would blackhole the traffic
 * still arriving. Then the loop ends; the stop timer bounds the wait and leaves them on lo. */
#define ADDRESSES_SETTLE_USEC 1000000
static void stop_withdrawn(struct manager *m)
{
        if (m->addresses && m->conf->addresses_remove && m->watch) {
                if (m->stop_reads < 2 || !watch_withdrawal_sent(m->watch)) {
                        if (m->stop_reads == 0)
                                m->stop_reads = 1;
                        watch_soon(m->watch);
                        return;
                }
                m->stop_reads = 0;
                if (addresses_remove_later(m->addresses, ADDRESSES_SETTLE_USEC, stop_exit, m) >= 0)
                        return;
                addresses_remove_all(m->addresses);
        }
        stop_exit(m);
}

static void stop_exit_bgpd_down(void *userdata)
{
        struct manager *m = userdata;
        m->stop_timer = sd_event_source_disable_unref(m->stop_timer);
        sd_event_exit(m->event, 0);
}

/* on_stop = "withdraw" with bgpd down: nothing can be withdrawn, and nothing is announced either (its BGP
 * sessions closed with it; the frr.conf failoverd writes has no graceful restart, so the route servers drop
 * its paths then). addresses_on_stop = "remove" goes on without a read of bgpd, after the same settle. */
static void stop_bgpd_down(struct manager *m)
{
        queue_stop(&m->queue);
        if (!m->addresses || !m->conf->addresses_remove) {
                log_warn("stopping: bgpd is down, nothing can be withdrawn");
                stop_exit_bgpd_down(m);
                return;
        }
        log_warn("stopping: bgpd is down, nothing can be withdrawn or is announced; the shared addresses leave lo");
        if (addresses_remove_later(m->addresses, ADDRESSES_SETTLE_USEC, stop_exit_bgpd_down, m) >= 0)
                return;
        addresses_remove_all(m->addresses);
        stop_exit_bgpd_down(m);
}

/* The queue's attempt ended: publish, then the stop or the reload that waited for it, else the next apply. */
static void on_queue_ended(struct apply_queue *q, void *userdata)
{
        struct manager *m = userdata;

        publish(m, OUTPUT_STATUS | OUTPUT_METRICS);
        if (m->watch)
                watch_soon(m->watch);   /* status shows what bgpd does now */
        if (m->phase == PHASE_STOP_WITHDRAW && !withdrawn_everywhere(m)) {
                if (queue_get_state(q) == QUEUE_BGPD_WAIT) {
                        stop_bgpd_down(m);
                        return;
                }
                queue_apply_owed(q, "on_stop = withdraw");      /* or its retry, within the stop timer */
                return;
        }
        if (stopping(m)) {
                queue_stop(q);
                if (m->phase == PHASE_STOP_WITHDRAW) {
                        stop_withdrawn(m);
                        return;
                }
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
        apply_tried(m, "an apply was tried");
        queue_apply_owed(q, "owed since the last apply began");
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
                m->reload_error = strdup("cannot build the checks (out of memory?)");
                conf_free(c);
                bool owed = m->phase == PHASE_RELOADING;
                if (owed)
                        set_phase(m, PHASE_READY, "reload failed");
                publish(m, OUTPUT_STATUS);
                if (owed)
                        sd_notify(0, "READY=1");
                queue_apply_owed(&m->queue, "reload failed");
                return r;
        }
        m->reload_error = (free(m->reload_error), NULL);
        struct conf *old = m->conf;
        m->conf = c;
        if (drain_set_conf(m->drain, c) < 0)
                log_err("reload: cannot keep the services' drains: out of memory");
        if (services_rebuild(m->services, c) < 0)
                log_err("reload: cannot keep the services' state: out of memory");
        queue_set_conf(&m->queue, c);
        if (m->control)
                control_set_conf(m->control, c);
        if (m->addresses && c->addresses_manage)
                addresses_set_conf(m->addresses, c);
        else if (m->addresses)
                m->addresses = addresses_free(m->addresses);    /* "external" again: left on lo as they are */
        else if (c->addresses_manage && m->control && addresses_new(m->event, c, &m->addresses) < 0)
                log_err("reload: cannot manage the shared addresses: rtnetlink socket refused");
        if (m->watch)
                watch_set_conf(m->watch, c);
        conf_free(old);
        if (m->phase == PHASE_STARTING && all_checks_ran(m))
                set_phase(m, PHASE_STARTED, "every check has given its first result");
        /* One full apply, to the state the new configuration decides. */
        queue_owe_full(&m->queue);
        evaluate(m);
        queue_request_full(&m->queue, false, "reload");
        /* No apply could start (bgpd is away, or nothing is decided yet): the reload is done as far as it
         * can be, and systemctl reload must not hang until bgpd is back. */
        if (queue_get_state(&m->queue) != QUEUE_APPLYING)
                apply_tried(m, "reloaded; no apply can start now");
        return 0;
}

int manager_reload(struct manager *m)
{
        struct diag d;
        struct conf *c = NULL;
        char buf[64];

        if (stopping(m)) {
                log_info("reload ignored: stopping");
                return -ESHUTDOWN;
        }
        /* Before the first READY=1 a reload owes none of its own. */
        if (m->phase == PHASE_READY || m->phase == PHASE_RELOADING) {
                snprintf(buf, sizeof(buf), "MONOTONIC_USEC=%llu", (unsigned long long)clock_mono_usec());
                sd_notifyf(0, "RELOADING=1\n%s", buf);
                set_phase(m, PHASE_RELOADING, "reload requested");
        }
        log_info("reloading %s", m->conf_path);

        diag_init(&d);
        int r = conf_load(m->conf_path, &c, &d);
        log_diag(&d);
        bool applying = queue_get_state(&m->queue) == QUEUE_APPLYING;
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
                publish(m, OUTPUT_STATUS);
                if (m->phase == PHASE_RELOADING && !m->pending_conf && !applying) {
                        set_phase(m, PHASE_READY, "reload refused");
                        sd_notify(0, "READY=1");
                }
                return r;
        }
        diag_free(&d);
        if (applying) {
                /* Killing vtysh or frr-reload.py mid-way could leave FRR half-changed: the apply finishes
                 * first (bounded by frr.timeout), then the new configuration takes over. */
                log_info("reload: the new configuration takes over once the %s in flight is done",
                         queue_apply_name(&m->queue));
                conf_free(m->pending_conf);
                m->pending_conf = c;
                m->reload_error = (free(m->reload_error), NULL);
                publish(m, OUTPUT_STATUS);
                return 0;
        }
        return reload_commit(m, c);
}

/* failoverctl drain/resume for one service: detail is "SERVICE [REASON]"; resume without one ends every
 * service's own drain and returns how many there were. */
static int service_drain(struct manager *m, bool on, const char *detail)
{
        char name[64];
        size_t w = detail ? strcspn(detail, " ") : 0;
        int r;

        if (!detail && !on) {
                r = drain_resume_services(m->drain);
        } else {
                if (w == 0 || w >= sizeof(name))
                        return -ENOENT;
                snprintf(name, sizeof(name), "%.*s", (int)w, detail);
                r = drain_set_service(m->drain, name, on, detail[w] ? detail + w + 1 : NULL);
        }
        if (r > 0 || (r == 0 && detail))
                evaluate(m);
        return r;
}

/* agent/drain.c: a drain's order moved on (its drain_delay ended, the drain check answered). */
static void on_drain_order(void *userdata)
{
        struct manager *m = userdata;
        if (m->phase == PHASE_STOP_WITHDRAW)
                stop_order(m);
        else
                evaluate(m);
}

/* agent/drain.c: a drain file could not be saved, or can again. */
static void on_drain_changed(struct drain *d, void *userdata)
{
        (void)d;
        publish(userdata, OUTPUT_STATUS);
}

int manager_report(struct manager *m, enum agent_event ev, const char *detail)
{
        int r;

        log_debug("event: %s%s%s", agent_event_name(ev), detail ? ": " : "", detail ? detail : "");
        switch (ev) {
        case EVENT_BGPD_READ:
                publish(m, OUTPUT_STATUS | OUTPUT_METRICS);
                if (m->stop_reads > 0) {
                        m->stop_reads++;
                        stop_withdrawn(m);
                }
                return 0;
        case EVENT_BGPD_GONE:
                queue_bgpd_gone(&m->queue, detail ? detail : "not running");
                return 0;
        case EVENT_BGPD_BACK:
                queue_bgpd_back(&m->queue, agent_event_name(ev));
                return 0;
        case EVENT_BGPD_RESTARTED:
        case EVENT_DRIFT_SEEN:
                queue_request_full(&m->queue, true, agent_event_name(ev));
                return 0;
        case EVENT_PREFIX_STUCK:
                for (size_t i = 0; detail && i < m->conf->n_shared_ips; i++)
                        if (strcmp(m->conf->shared_ips[i].text, detail) == 0) {
                                queue_reannounce(&m->queue, i, agent_event_name(ev));
                                return 0;
                        }
                return -ENOENT;
        case EVENT_DRAIN_REQUESTED:
        case EVENT_RESUME_REQUESTED:
                r = drain_set_host(m->drain, ev == EVENT_DRAIN_REQUESTED, detail);
                if (r >= 0)
                        evaluate(m);
                return r;
        case EVENT_RELOAD_REQUESTED:
                return manager_reload(m);
        case EVENT_SERVICE_DRAIN:
        case EVENT_SERVICE_RESUME:
                return service_drain(m, ev == EVENT_SERVICE_DRAIN, detail);
        case _EVENT_MAX:
                break;
        }
        return -EINVAL;
}

static int sink_report(void *userdata, enum agent_event ev, const char *detail)
{
        return manager_report(userdata, ev, detail);
}

static enum fo_state sink_applied(void *userdata)
{
        const struct manager *m = userdata;
        return queue_applied(&m->queue);
}

static enum fo_state sink_applied_service(void *userdata, size_t s)
{
        const struct manager *m = userdata;
        const enum fo_state *each = queue_applied_each(&m->queue);
        return !each || s >= CONF_MAX_SERVICES ? STATE_INVALID : each[s];
}

static bool sink_busy(void *userdata)
{
        const struct manager *m = userdata;
        return queue_busy(&m->queue);
}

static void sink_snapshot(void *userdata, struct snapshot *out)
{
        manager_snapshot(userdata, out);
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct manager *m = userdata;
        const char *why = queue_last_error(&m->queue);
        (void)s;
        (void)usec;
        if (m->phase == PHASE_STOP_WITHDRAW && queue_get_state(&m->queue) != QUEUE_APPLYING)
                log_err("on_stop = \"withdraw\": not every service was withdrawn in time (apply queue %s%s%s): "
                        "stopping anyway", queue_state_name(queue_get_state(&m->queue)), why ? ": " : "", why ? why : "");
        else
                log_err("the %s in flight did not end within frr.timeout: stopping anyway", queue_apply_name(&m->queue));
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
        if (stopping(m)) {
                log_info("%s: already stopping, once the apply in flight is done", sig);
                return 0;
        }
        sd_notify(0, "STOPPING=1");
        m->pending_conf = conf_free(m->pending_conf);
        if (m->conf->on_stop_withdraw && m->phase != PHASE_STARTING && m->target != STATE_INVALID) {
                /* on_stop = "withdraw": the traffic moves off before the process exits. Bounded by two applies
                 * (the one in flight and the withdrawal), below the unit's TimeoutStopSec. */
                double secs = 2 * m->conf->frr.timeout + 2 + m->conf->drain_delay;
                set_phase(m, PHASE_STOP_WITHDRAW, sig);
                log_info("%s: withdrawing every service before exiting (on_stop = \"withdraw\"%s, at most %.0f s)",
                         sig, m->conf->drain_delay > 0 ? ", demoted for drain_delay first" : "", secs);
                /* The unit's TimeoutStopSec covers two applies; a drain_delay gets systemd's extension. */
                if (m->conf->drain_delay > 0)
                        sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu", (unsigned long long)((secs + 5) * 1e6));
                drain_stop(m->drain);
                stop_order(m);
                if (queue_get_state(&m->queue) != QUEUE_APPLYING && withdrawn_everywhere(m)) {
                        stop_withdrawn(m);
                } else if (queue_get_state(&m->queue) == QUEUE_BGPD_WAIT) {
                        stop_bgpd_down(m);
                }
                return 0;
        }
        set_phase(m, PHASE_STOPPING, sig);
        queue_stop(&m->queue);
        if (queue_get_state(&m->queue) == QUEUE_APPLYING) {
                /* SIGKILLing vtysh or frr-reload.py mid-way could leave one address family switched and the
                 * other not: the apply finishes first. Each of its steps is bounded by frr.timeout; the
                 * deadline covers the one in flight (the unit's TimeoutStopSec is above it). */
                log_info("%s: stopping once the %s in flight is done (at most %.0f s); the announcement stays "
                         "as it is", sig, queue_apply_name(&m->queue), m->conf->frr.timeout + 2);
                publish(m, OUTPUT_STATUS);
                return 0;
        }
        log_info("%s: stopping; the announcement stays as it is", sig);
        sd_event_exit(m->event, 0);
        return 0;
}

int manager_init(struct manager *m, const char *path)
{
        struct diag d;
        int r;

        memset(m, 0, sizeof(*m));
        m->target = m->previous = STATE_INVALID;
        m->conf_path = strdup(path);
        if (!m->conf_path)
                return -ENOMEM;
        m->sink = (struct agent_sink){
                .userdata = m,
                .report = sink_report,
                .applied = sink_applied,
                .applied_service = sink_applied_service,
                .busy = sink_busy,
                .snapshot = sink_snapshot,
        };

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
        r = drain_new(m->event, m->conf, on_drain_changed, m, &m->drain);
        if (r < 0)
                return r;
        drain_on_order(m->drain, on_drain_order, m);
        r = services_new(m->event, m->drain, on_services_due, m, &m->services);
        if (r >= 0)
                r = services_rebuild(m->services, m->conf);
        if (r < 0)
                return r;
        queue_init(&m->queue, m->event, m->conf, on_queue_ended, m);
        r = outputs_new(m->event, &m->outputs);
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

int manager_attach(struct manager *m)
{
        /* Before the checks start, so before the first announcement. */
        if (m->conf->addresses_manage) {
                int r = addresses_new(m->event, m->conf, &m->addresses);
                if (r < 0) {
                        log_err("addresses = \"manage\": cannot open an rtnetlink socket: %s", strerror(-r));
                        return r;
                }
        }
        int r = control_new(m->event, m->conf, &m->sink, &m->control);
        if (r >= 0)
                r = watch_new(m->event, m->conf, &m->sink, &m->watch);
        return r;
}

int manager_start(struct manager *m)
{
        char what[32];
        if (m->conf->services_form)
                snprintf(what, sizeof(what), "%zu service%s", m->conf->n_services, m->conf->n_services == 1 ? "" : "s");
        else
                snprintf(what, sizeof(what), "role %s", role_name(m->conf->role));
        log_info("failoverd %s starting: %s, %zu shared prefix%s, %zu check%s", VERSION, what,
                 m->conf->n_shared_ips, m->conf->n_shared_ips == 1 ? "" : "es", m->conf->n_checks,
                 m->conf->n_checks == 1 ? "" : "s");
        sd_notify(0, "STATUS=starting: running every check once");
        int r = build_checks(m, NULL, m->conf);
        if (r < 0)
                return r;
        if (m->n_checks == 0) {
                /* No checks at all: always healthy. */
                set_phase(m, PHASE_STARTED, "no checks");
                queue_owe_full(&m->queue);
                evaluate(m);
        }
        return 0;
}

void manager_done(struct manager *m)
{
        m->watch = watch_free(m->watch);
        m->control = control_free(m->control);
        m->addresses = addresses_free(m->addresses);
        queue_done(&m->queue);
        m->outputs = outputs_free(m->outputs);
        m->stop_timer = sd_event_source_disable_unref(m->stop_timer);
        m->pending_conf = conf_free(m->pending_conf);
        free_checks(m);
        m->drain = drain_free(m->drain);
        m->services = services_free(m->services);
        m->conf = conf_free(m->conf);
        free(m->conf_path);
        free(m->reload_error);
        m->event = sd_event_unref(m->event);
}

int daemon_main(const char *path, int verbose)
{
        struct manager m;
        sigset_t mask;
        (void)verbose;

        /* Signals are blocked before anything else and handled only through the loop (signalfd). */
        sigemptyset(&mask);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        int r = manager_init(&m, path);
        if (r >= 0)
                r = manager_attach(&m);
        if (r >= 0)
                r = manager_start(&m);
        if (r >= 0)
                r = sd_event_loop(m.event);
        if (r < 0)
                log_err("failoverd: %s", strerror(-r));
        manager_done(&m);
        return r < 0 ? 1 : 0;
}
