/* The apply queue: one state machine, one transition function, every transition logged. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "queue.h"
#include "timer.h"
#include "vtysock.h"

#define RETRY_MIN_MS 500
#define RETRY_MAX_MS 10000
#define PROBE_MS 250            /* while bgpd is away: it gets its config within a quarter second of answering */

static const char *const queue_names[_QUEUE_MAX] = {
        [QUEUE_STARTING] = "starting",
        [QUEUE_IDLE] = "idle",
        [QUEUE_APPLYING] = "applying",
        [QUEUE_RETRY_WAIT] = "retry-wait",
        [QUEUE_BGPD_WAIT] = "bgpd-wait",
        [QUEUE_STOPPED] = "stopped",
};

const char *queue_state_name(enum queue_state s)
{
        return s >= 0 && s < _QUEUE_MAX ? queue_names[s] : "?";
}

static const char *kind_name(enum apply_kind k)
{
        return k == APPLY_FULL ? "full apply" : k == APPLY_REANNOUNCE ? "re-announce" : "fast path";
}

const char *queue_apply_name(const struct apply_queue *q)
{
        return kind_name(q->apply_kind);
}

static const char *kind_word(enum apply_kind k)
{
        return k == APPLY_FULL ? "full" : k == APPLY_REANNOUNCE ? "re-announce" : "fast";
}

/* A re-announce is owed for some prefix whose service is announced (a withdrawn one has no statement). */
static bool reannounce_owed(const struct apply_queue *q)
{
        for (size_t i = 0; i < q->n_reannounce; i++)
                if (q->reannounce[i])
                        return true;
        return false;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata);
static int on_probe(sd_event_source *s, uint64_t usec, void *userdata);

static void arm(struct apply_queue *q, sd_event_source **src, uint64_t usec, sd_event_time_handler_t fn)
{
        if (timer_arm(q->event, src, usec, 10000, fn, q) < 0)
                log_err("apply queue: cannot arm a timer; waiting for the next event");
}

/* The one place the state changes. A state's timer lives exactly as long as the state. */
static void transition(struct apply_queue *q, enum queue_state to, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void transition(struct apply_queue *q, enum queue_state to, const char *fmt, ...)
{
        enum queue_state from = q->state;
        char reason[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        log_info("apply queue: %s -> %s (%s)", queue_names[from], queue_names[to], reason);
        q->state = to;
        if (from == QUEUE_RETRY_WAIT)
                q->retry_timer = sd_event_source_disable_unref(q->retry_timer);
        if (from == QUEUE_BGPD_WAIT)
                q->probe_timer = sd_event_source_disable_unref(q->probe_timer);
        if (to == QUEUE_RETRY_WAIT) {
                q->retry_ms = q->retry_ms ? q->retry_ms * 2 : RETRY_MIN_MS;
                if (q->retry_ms > RETRY_MAX_MS)
                        q->retry_ms = RETRY_MAX_MS;
                arm(q, &q->retry_timer, (uint64_t)q->retry_ms * 1000, on_retry);
        }
        if (to == QUEUE_BGPD_WAIT)
                arm(q, &q->probe_timer, PROBE_MS * 1000, on_probe);
}

int queue_probe_bgpd(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path));
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
        close(fd);
        /* A full backlog is a busy bgpd, not a gone one. */
        return r == -ENOENT || r == -ECONNREFUSED ? r : 0;
}

static size_t n_services(const struct apply_queue *q)
{
        return q->conf && q->conf->n_services < CONF_MAX_SERVICES ? q->conf->n_services : CONF_MAX_SERVICES;
}

/* Whether a service's target differs from what FRR runs; changed[i] says which. */
static bool differs(const struct apply_queue *q, bool *changed)
{
        bool any = false;
        for (size_t i = 0; i < n_services(q); i++) {
                bool c = q->applied_each[i] != q->targets[i];
                if (changed)
                        changed[i] = c;
                any |= c;
        }
        return any;
}

/* Which apply is owed, if any. */
static bool owed(const struct apply_queue *q, enum apply_kind *kind)
{
        if (q->target == STATE_INVALID)
                return false;
        if (q->need_full || q->applied == STATE_INVALID)
                *kind = APPLY_FULL;
        else if (q->applied != q->target || differs(q, NULL))
                *kind = APPLY_FAST;
        else if (reannounce_owed(q))
                *kind = APPLY_REANNOUNCE;
        else
                return false;
        return true;
}

static void on_apply(struct apply *a, struct apply_result *r, void *userdata);

static void start(struct apply_queue *q, enum apply_kind kind, const char *why)
{
        bool changed[CONF_MAX_SERVICES];
        differs(q, changed);
        int r = apply_start(q->event, q->conf, q->targets, kind, true, on_apply, q, &q->apply);
        if (r >= 0 && kind == APPLY_REANNOUNCE && (r = apply_set_reannounce(q->apply, q->reannounce)) < 0)
                q->apply = apply_free(q->apply);
        if (r < 0) {
                log_err("cannot start apply: %s", strerror(-r));
                transition(q, QUEUE_RETRY_WAIT, "cannot start an apply: %s", strerror(-r));
                q->ended(q, q->userdata);
                return;
        }
        if (kind == APPLY_FAST)
                apply_set_fast_only(q->apply, changed);
        memcpy(q->apply_each, q->targets, sizeof(q->apply_each));
        /* A full apply enters every statement anew: the watch says again if one stays invalid. */
        if (kind == APPLY_FULL || kind == APPLY_REANNOUNCE)
                memset(q->reannounce, 0, q->n_reannounce * sizeof(*q->reannounce));
        q->need_full = false;
        q->apply_kind = kind;
        q->apply_state = q->target;
        q->apply_after_wait = q->state == QUEUE_BGPD_WAIT;
        q->attempts++;
        transition(q, QUEUE_APPLYING, "%s to %s: %s", kind_word(kind), state_name(q->target), why);
        log_debug("%s to %s started", kind_name(kind), state_name(q->target));
}

/* An attempt failed: wait for bgpd when its socket is gone, else retry after the back-off. */
static void after_failure(struct apply_queue *q, const char *what)
{
        int r = queue_probe_bgpd(q->vty_path);
        if (r < 0)
                transition(q, QUEUE_BGPD_WAIT, "%s; bgpd's vty socket: %s", what, strerror(-r));
        else
                transition(q, QUEUE_RETRY_WAIT, "%s", what);
}

static void on_apply(struct apply *a, struct apply_result *r, void *userdata)
{
        struct apply_queue *q = userdata;
        const char *kind = kind_name(q->apply_kind);
        (void)a;

        q->apply = NULL;
        q->last_apply_usec = r->usec;
        if (r->warning)
                log_warn("%s", r->warning);
        if (r->output && *r->output)
                log_debug("%s output: %s", kind, r->output);
        if (r->error) {
                log_err("%s to %s failed: %s", kind, state_name(q->apply_state), r->message);
                free(q->last_apply_error);
                q->last_apply_error = strdup(r->message ? r->message : "?");
                /* vtysh stops at the first refused -c (a "no network" bgpd no longer has, after a hand
                 * edit or a restart): whatever failed, a full apply is what repairs it. */
                q->need_full = true;
                q->applied = STATE_INVALID;     /* unknown: the next attempt decides again */
                after_failure(q, "the attempt failed");
                q->ended(q, q->userdata);
                return;
        }
        q->last_apply_error = (free(q->last_apply_error), NULL);
        bool same = r->readback_ok;
        for (size_t i = 0; same && i < n_services(q); i++)
                same = r->running[i] == q->apply_each[i];
        if (!same) {
                log_err("%s to %s: read-back shows %s; retrying", kind, state_name(q->apply_state),
                        r->readback_ok ? state_name(r->running[0]) : "nothing");
                free(q->last_apply_error);      /* the status names the failure: never a bare "failed" */
                q->last_apply_error = strdup(r->readback_ok ? "the read-back shows another state than applied"
                                                            : "the read-back of bgpd's configuration failed");
                q->need_full = true;
                q->applied = STATE_INVALID;
                q->retry_ms = 0;
                after_failure(q, "the read-back differs");
                q->ended(q, q->userdata);
                return;
        }
        q->retry_ms = 0;
        q->applied = q->apply_state;
        memcpy(q->applied_each, q->apply_each, sizeof(q->applied_each));
        transition(q, QUEUE_IDLE, "verified: bgpd runs %s", state_name(q->applied));
        char each[256] = "";
        for (size_t i = 0; q->conf->services_form && i < n_services(q); i++)
                snprintf(each + strlen(each), sizeof(each) - strlen(each), "%s%s %s", i ? ", " : " (",
                         q->conf->services[i].name, state_name(q->applied_each[i]));
        if (each[0])
                snprintf(each + strlen(each), sizeof(each) - strlen(each), ")");
        char in_bgpd[64] = "";
        if (r->tool_done_mono > q->decided_usec)
                snprintf(in_bgpd, sizeof(in_bgpd), ", in bgpd %.2f ms after the decision",
                         (r->tool_done_mono - q->decided_usec) / 1000.0);
        log_info("%s: %s%s in effect after %.1f ms (tool %.1f ms%s, %.1f ms after the decision)%s", kind,
                 state_name(q->applied), each, r->usec / 1000.0, r->tool_usec / 1000.0, in_bgpd,
                 (clock_mono_usec() - q->decided_usec) / 1000.0, r->file_changed ? "; frr.conf rewritten" : "");
        q->ended(q, q->userdata);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct apply_queue *q = userdata;
        enum apply_kind kind;
        (void)s;
        (void)usec;

        if (owed(q, &kind))
                start(q, kind, "retry");
        else
                transition(q, QUEUE_IDLE, "nothing owed any more");
        return 0;
}

static int on_probe(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct apply_queue *q = userdata;
        (void)usec;

        q->probes++;
        if (queue_probe_bgpd(q->vty_path) < 0) {
                assert(s == q->probe_timer);
                arm(q, &q->probe_timer, PROBE_MS * 1000, on_probe);
                return 0;
        }
        q->need_full = true;            /* a bgpd that was gone runs nothing of ours */
        q->applied = STATE_INVALID;
        if (q->target == STATE_INVALID)
                transition(q, QUEUE_IDLE, "bgpd's vty socket answers");
        else
                start(q, APPLY_FULL, "bgpd's vty socket answers");
        return 0;
}

void queue_init(struct apply_queue *q, sd_event *e, const struct conf *c, queue_ended_fn ended, void *userdata)
{
        memset(q, 0, sizeof(*q));
        q->event = e;
        q->state = QUEUE_STARTING;
        q->target = q->applied = STATE_INVALID;
        q->ended = ended;
        q->userdata = userdata;
        queue_set_conf(q, c);
}

void queue_set_conf(struct apply_queue *q, const struct conf *c)
{
        bool *v = calloc(c->n_shared_ips ? c->n_shared_ips : 1, sizeof(*v));
        /* A new configuration numbers its prefixes anew: what was owed is the watch's to say again. */
        free(q->reannounce);
        q->reannounce = v;
        q->n_reannounce = v ? c->n_shared_ips : 0;
        q->conf = c;
        if (!q->vty_path_fixed && vtysock_path(c->frr.pathspace, "bgpd", q->vty_path, sizeof(q->vty_path)) < 0)
                q->vty_path[0] = '\0';
}

void queue_done(struct apply_queue *q)
{
        q->apply = apply_free(q->apply);
        q->retry_timer = sd_event_source_disable_unref(q->retry_timer);
        q->probe_timer = sd_event_source_disable_unref(q->probe_timer);
        q->last_apply_error = (free(q->last_apply_error), NULL);
        q->reannounce = (free(q->reannounce), NULL);
        q->n_reannounce = 0;
}

void queue_apply_owed(struct apply_queue *q, const char *why)
{
        enum apply_kind kind;

        if (q->state != QUEUE_IDLE && q->state != QUEUE_STARTING)
                return;
        if (owed(q, &kind))
                start(q, kind, why);
        else if (q->state == QUEUE_STARTING && q->target != STATE_INVALID)
                transition(q, QUEUE_IDLE, "bgpd already runs %s", state_name(q->target));
}

/* Something changed: go now, whatever the back-off; while bgpd is away only if its socket answers. */
static void wake(struct apply_queue *q, const char *why)
{
        enum apply_kind kind;

        switch (q->state) {
        case QUEUE_RETRY_WAIT:
                q->retry_ms = 0;
                if (owed(q, &kind))
                        start(q, kind, why);
                else
                        transition(q, QUEUE_IDLE, "%s: nothing owed", why);
                return;
        case QUEUE_BGPD_WAIT:
                if (queue_probe_bgpd(q->vty_path) == 0 && owed(q, &kind))
                        start(q, APPLY_FULL, why);
                return;
        case QUEUE_STARTING:
        case QUEUE_IDLE:
                queue_apply_owed(q, why);
                return;
        case QUEUE_APPLYING:
        case QUEUE_STOPPED:
        case _QUEUE_MAX:
                return;
        }
}

void queue_decide(struct apply_queue *q, enum fo_state target)
{
        enum fo_state t[CONF_MAX_SERVICES];
        for (size_t i = 0; i < CONF_MAX_SERVICES; i++)
                t[i] = target;
        queue_decide_each(q, t, target);
}

void queue_decide_each(struct apply_queue *q, const enum fo_state *targets, enum fo_state target)
{
        char why[64];

        memcpy(q->targets, targets, n_services(q) * sizeof(*targets));
        q->target = target;
        q->decided_usec = clock_mono_usec();
        snprintf(why, sizeof(why), "decided %s", state_name(target));
        if (q->state == QUEUE_BGPD_WAIT)
                log_info("apply queue: %s waits for bgpd's vty socket", state_name(target));
        wake(q, why);
}

void queue_request_full(struct apply_queue *q, bool forget, const char *why)
{
        q->need_full = true;
        if (forget)
                q->applied = STATE_INVALID;
        wake(q, why);
}

void queue_reannounce(struct apply_queue *q, size_t i, const char *why)
{
        if (i >= q->n_reannounce)
                return;
        q->reannounce[i] = true;
        log_info("apply queue: re-announce of %s owed (%s)", q->conf->shared_ips[i].text, why);
        wake(q, why);
}

void queue_bgpd_gone(struct apply_queue *q, const char *why)
{
        if (q->state == QUEUE_RETRY_WAIT)
                transition(q, QUEUE_BGPD_WAIT, "bgpd gone: %s", why);
}

void queue_bgpd_back(struct apply_queue *q, const char *why)
{
        /* The full apply that the answering socket started already covers it. */
        if (q->state == QUEUE_APPLYING && q->apply_after_wait && q->apply_kind == APPLY_FULL)
                return;
        queue_request_full(q, true, why);
}

void queue_stop(struct apply_queue *q)
{
        if (q->state != QUEUE_APPLYING && q->state != QUEUE_STOPPED)
                transition(q, QUEUE_STOPPED, "stopping");
}

bool queue_busy(const struct apply_queue *q)
{
        return q->state == QUEUE_APPLYING || q->state == QUEUE_RETRY_WAIT || q->state == QUEUE_BGPD_WAIT ||
               q->need_full || q->target != q->applied || differs(q, NULL) || reannounce_owed(q);
}

void queue_owe_full(struct apply_queue *q)
{
        q->need_full = true;
}

enum queue_state queue_get_state(const struct apply_queue *q)
{
        return q->state;
}

enum fo_state queue_applied(const struct apply_queue *q)
{
        return q->applied;
}

const enum fo_state *queue_applied_each(const struct apply_queue *q)
{
        return q->applied == STATE_INVALID ? NULL : q->applied_each;
}

bool queue_full_owed(const struct apply_queue *q)
{
        return q->need_full;
}

uint64_t queue_last_apply_usec(const struct apply_queue *q)
{
        return q->last_apply_usec;
}

enum apply_kind queue_apply_kind(const struct apply_queue *q)
{
        return q->apply_kind;
}

uint64_t queue_attempts(const struct apply_queue *q)
{
        return q->attempts;
}

uint64_t queue_probes(const struct apply_queue *q)
{
        return q->probes;
}

unsigned queue_retry_ms(const struct apply_queue *q)
{
        return q->retry_ms;
}

const char *queue_last_error(const struct apply_queue *q)
{
        return q->last_apply_error;
}

void queue_use_vty_path(struct apply_queue *q, const char *path)
{
        int n = snprintf(q->vty_path, sizeof(q->vty_path), "%s", path);
        assert(n > 0 && (size_t)n < sizeof(q->vty_path));
        q->vty_path_fixed = true;
}
