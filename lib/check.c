/* Health-check runner: schedules each check's child on sd-event, grades it, feeds rise/fall. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "check_native.h"
#include "clock.h"
#include "conf_checks.h"
#include "file.h"
#include "proc.h"

#define KILL_GRACE_USEC         1000000ULL      /* SIGKILL 1 s after SIGTERM (failoverd.conf(5)) */
#define TIMER_ACCURACY_USEC     1000ULL
#define TIMER_SLACK_MAX_USEC    100000ULL      /* a run may start this late: see schedule_next() */

struct check {
        sd_event *event;
        struct check_conf conf;         /* our own copy */
        check_result_fn cb;
        void *userdata;
        sd_event_source *timer;         /* armed only while no child runs: runs never overlap */
        struct proc *proc;
        struct native *native;          /* native checks (check_native.h): no process */
        bool native_starting;           /* native_run() is on the stack: its result waits for it */
        bool native_done;
        struct check_state state;
        struct check_result result;
        uint64_t last_start_usec;       /* CLOCK_MONOTONIC; 0: never started */
        bool in_cb;
        bool free_pending;
};

static int check_conf_copy(struct check_conf *dst, const struct check_conf *src)
{
        memset(dst, 0, sizeof(*dst));
        /* A user that was not resolved at load must not silently run as the daemon's user. */
        if ((!src->native && (!src->argv || !src->argv[0])) || !(src->interval > 0) || src->timeout < 0 ||
            (src->user && !src->cred))
                return -EINVAL;
        *dst = (struct check_conf){
                .name = xstrdup(src->name ? src->name : src->argv ? src->argv[0] : "native"),
                .script = xstrdup(src->script),
                .argv = strv_copy(src->argv),
                .conf_file = xstrdup(src->conf_file),
                .interval = src->interval,
                .timeout = src->timeout,
                .rise = src->rise,
                .fall = src->fall,
                .user = xstrdup(src->user),
                .cred = proc_cred_dup(src->cred),
                .native = check_native_conf_dup(src->native),
        };
        if (!dst->name || (src->argv && !dst->argv) || (src->native && !dst->native) ||
            (src->script && !dst->script) || (src->conf_file && !dst->conf_file) ||
            (src->user && !dst->user) || (src->cred && !dst->cred)) {
                conf_check_clear(dst);
                return -ENOMEM;
        }
        return 0;
}

static uint64_t loop_now(struct check *c)
{
        uint64_t now = 0;
        if (sd_event_now(c->event, CLOCK_MONOTONIC, &now) < 0)
                now = clock_mono_usec();
        return now;
}

static uint64_t period_usec(const struct check *c)
{
        double s = c->conf.interval;
        if (fsm_changing(&c->state))
                s /= 4;         /* ExaBGP's fast interval while a streak is under way */
        uint64_t u = (uint64_t)(s * 1e6);
        return u > 0 ? u : 1;
}

/* Next tick on the grid of the last start: ticks that passed while the child ran are skipped. */
static int schedule_next(struct check *c)
{
        if (!c->timer || c->proc || native_busy(c->native))
                return 0;
        uint64_t now = loop_now(c), period = period_usec(c), next;
        if (c->last_start_usec == 0)
                next = now;
        else {
                next = c->last_start_usec + period;
                if (next <= now)
                        next = c->last_start_usec + period * ((now - c->last_start_usec) / period + 1);
        }
        /* A tenth of the period (at most 100 ms) of slack lets sd-event start checks that fall due close together
         * in one wake-up instead of one each (docs/bench.md: wake-ups are most of the daemon's idle CPU). */
        uint64_t slack = period / 10 < TIMER_SLACK_MAX_USEC ? period / 10 : TIMER_SLACK_MAX_USEC;
        int r = sd_event_source_set_time_accuracy(c->timer, slack > TIMER_ACCURACY_USEC ? slack : TIMER_ACCURACY_USEC);
        if (r >= 0)
                r = sd_event_source_set_time(c->timer, next);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static void check_destroy(struct check *c)
{
        c->proc = proc_free(c->proc);
        c->native = native_free(c->native);
        c->timer = sd_event_source_disable_unref(c->timer);
        conf_check_clear(&c->conf);
        sd_event_unref(c->event);
        free(c);
}

/* Feeds the graded result, re-arms and tells the owner. */
static void check_finish(struct check *c)
{
        c->result.runs++;
        c->result.end_realtime_usec = clock_real_usec();
        bool changed = fsm_feed(&c->state, c->result.severity, c->conf.rise, c->conf.fall);
        (void)schedule_next(c);
        if (c->cb) {
                c->in_cb = true;
                c->cb(c, changed, c->userdata);
                c->in_cb = false;
        }
        if (c->free_pending)
                check_destroy(c);
}

static void result_reset(struct check *c)
{
        uint64_t runs = c->result.runs;
        memset(&c->result, 0, sizeof(c->result));
        c->result.runs = runs;
}

static void on_proc_done(struct proc *p, struct proc_result *r, void *userdata)
{
        struct check *c = userdata;
        (void)p;

        c->proc = NULL;
        result_reset(c);
        if (r->exec_errno || r->timed_out)
                c->result.severity = SEV_FAILED;
        else
                c->result.severity = severity_of_exit(r->exited, r->status);  /* a signal: not exited */
        c->result.exited = r->exited;
        c->result.status = r->status;
        c->result.signal = r->signal;
        c->result.timed_out = r->timed_out;
        c->result.exec_errno = r->exec_errno;
        proc_describe(r, c->result.description, sizeof(c->result.description));
        size_t n = r->output_len < CHECK_MESSAGE_MAX ? r->output_len : CHECK_MESSAGE_MAX;
        memcpy(c->result.message, r->output, n);
        while (n > 0 && (c->result.message[n - 1] == '\r' || c->result.message[n - 1] == ' ' ||
                         c->result.message[n - 1] == '\t'))
                n--;
        c->result.message[n] = '\0';
        c->result.duration_usec = r->end_usec > r->start_usec ? r->end_usec - r->start_usec : 0;
        c->result.end_usec = r->end_usec;
        check_finish(c);
}

/* True when the check would run as root while we are root: then the script security rule applies. */
static bool runs_as_root(const struct check_conf *cc)
{
        if (geteuid() != 0)
                return false;
        return !cc->cred || cc->cred->uid == 0;   /* resolved at load: no NSS on the loop */
}

int check_conf_secure(const struct check_conf *cc, char *why, size_t whylen, const char **what)
{
        const char *paths[] = { cc->conf_file, cc->script, cc->argv ? cc->argv[0] : NULL };
        const char *names[] = { "insecure configuration", "insecure script", "insecure script" };

        *what = NULL;
        if (why && whylen)
                why[0] = '\0';
        /* A native check is done by the daemon itself, as root whoever reads its file: NAME.conf alone decides. */
        if (cc->native ? geteuid() != 0 : !runs_as_root(cc))
                return 0;
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                if (!paths[i] || (i == 2 && cc->script && strcmp(paths[i], cc->script) == 0))
                        continue;
                int r = check_script_secure(paths[i], why, whylen);
                if (r < 0) {
                        *what = names[i];
                        /* A NAME.conf that cannot be examined any more was read at load: refuse it all the same. */
                        return i == 0 ? -EPERM : r;
                }
        }
        /* Whoever can write the CA file can make the check pass against a server of theirs. */
        if (cc->native && cc->native->ca_file && check_script_secure(cc->native->ca_file, why, whylen) == -EPERM) {
                *what = "insecure CA file";
                return -EPERM;
        }
        return 0;
}

int check_conf_refusals(const struct conf *c, struct diag *d)
{
        char why[CHECK_MESSAGE_MAX + 1];
        const char *what;
        int n = 0;

        for (size_t i = 0; i < c->n_checks; i++) {
                const struct check_conf *k = &c->check[i];
                int r = check_conf_secure(k, why, sizeof(why), &what);
                if (r == -EPERM) {
                        diag_add(d, DIAG_ERROR, "check %s: %s, it would not run: %s", k->name, what, why);
                        n++;
                } else if (r < 0) {
                        diag_add(d, DIAG_ERROR, "check %s: cannot run %s: %s", k->name,
                                 k->script ? k->script : k->argv[0], strerror(-r));
                        n++;
                }
        }
        if (c->notify && geteuid() == 0 && check_script_secure(c->notify[0], why, sizeof(why)) < 0) {
                diag_add(d, DIAG_ERROR, "notify %s: insecure script, it would not run: %s", c->notify[0], why);
                n++;
        }
        if (c->drain_check && geteuid() == 0 && check_script_secure(c->drain_check[0], why, sizeof(why)) < 0) {
                diag_add(d, DIAG_ERROR, "drain_check %s: insecure script, it would not run: %s", c->drain_check[0], why);
                n++;
        }
        return n;
}

static void on_native_done(struct native *n, const struct native_result *nr, void *userdata)
{
        struct check *c = userdata;
        (void)n;

        result_reset(c);
        c->result.severity = nr->severity;
        c->result.exited = 1;
        c->result.status = nr->severity == SEV_OK ? 0 : nr->severity == SEV_DEGRADED ? 1 : 2;
        snprintf(c->result.description, sizeof(c->result.description), "%s", nr->description);
        snprintf(c->result.message, sizeof(c->result.message), "%s", nr->message);
        c->result.end_usec = loop_now(c);
        c->result.duration_usec = c->result.end_usec > c->last_start_usec ? c->result.end_usec - c->last_start_usec : 0;
        if (c->native_starting)
                c->native_done = true;  /* check_run() finishes it once native_run() returned */
        else
                check_finish(c);
}

/* A watched unit or file changed between runs: run now rather than at the next tick. */
static void on_native_changed(struct native *n, void *userdata)
{
        struct check *c = userdata;
        (void)n;

        if (!c->timer || c->proc || native_busy(c->native))
                return;
        if (sd_event_source_set_time(c->timer, loop_now(c)) >= 0)
                (void)sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static void check_run_native(struct check *c)
{
        c->native_starting = true;
        c->native_done = false;
        int r = native_run(c->native, (uint64_t)(c->conf.timeout * 1e6));
        c->native_starting = false;
        if (r < 0) {
                result_reset(c);
                c->result.severity = SEV_FAILED;
                snprintf(c->result.description, sizeof(c->result.description), "start failed: %s", strerror(-r));
                c->result.end_usec = c->last_start_usec;
                check_finish(c);
        } else if (c->native_done)
                check_finish(c);
}

static void check_run(struct check *c)
{
        char why[sizeof(c->result.message)];
        const char *what = NULL;
        int r;

        c->last_start_usec = loop_now(c);
        if ((r = check_conf_secure(&c->conf, why, sizeof(why), &what)) < 0) {
                result_reset(c);
                c->result.severity = SEV_FAILED;
                if (r == -EPERM) {
                        c->result.insecure = true;
                        snprintf(c->result.description, sizeof(c->result.description), "%s", what);
                } else {
                        /* Missing or unreadable: what exec would have said, without running it. */
                        c->result.exec_errno = -r;
                        snprintf(c->result.description, sizeof(c->result.description), "exec failed: %s",
                                 strerror(-r));
                }
                snprintf(c->result.message, sizeof(c->result.message), "%s", why);
                c->result.end_usec = c->last_start_usec;
                check_finish(c);
                return;
        }
        if (c->native) {
                check_run_native(c);
                return;
        }

        struct proc_opts o = {
                .argv = c->conf.argv,
                .cred = c->conf.cred,
                .timeout_usec = (uint64_t)(c->conf.timeout * 1e6),
                .kill_grace_usec = KILL_GRACE_USEC,
                .output_max = CHECK_MESSAGE_MAX,
                .first_line_only = true,
        };
        r = proc_spawn(c->event, &o, on_proc_done, c, &c->proc);
        if (r < 0) {
                c->proc = NULL;
                result_reset(c);
                c->result.severity = SEV_FAILED;
                c->result.exec_errno = -r;
                snprintf(c->result.description, sizeof(c->result.description), "start failed: %s",
                         strerror(-r));
                c->result.end_usec = c->last_start_usec;
                check_finish(c);
        }
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct check *c = userdata;
        (void)s;
        (void)usec;

        if (c->proc || native_busy(c->native))
                return 0;       /* cannot happen: the timer is re-armed only when the run is done */
        check_run(c);
        return 0;
}

int check_new(sd_event *e, const struct check_conf *cc, check_result_fn cb, void *userdata, struct check **ret)
{
        if (!e || !cc || !ret)
                return -EINVAL;
        struct check *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        int r = check_conf_copy(&c->conf, cc);
        if (r < 0) {
                free(c);
                return r;
        }
        c->event = sd_event_ref(e);
        c->cb = cb;
        c->userdata = userdata;
        if (c->conf.native &&
            ((r = native_new(e, c->conf.native, on_native_done, on_native_changed, c, &c->native)) < 0 ||
             (r = native_set_cred(c->native, c->conf.cred)) < 0)) {
                check_destroy(c);
                return r;
        }
        *ret = c;
        return 0;
}

struct check *check_free(struct check *c)
{
        if (!c)
                return NULL;
        if (c->in_cb) {
                c->free_pending = true;         /* freed when the callback returns */
                return NULL;
        }
        check_destroy(c);
        return NULL;
}

int check_start(struct check *c)
{
        if (!c)
                return -EINVAL;
        if (c->timer)
                return 0;
        return sd_event_add_time(c->event, &c->timer, CLOCK_MONOTONIC, loop_now(c), TIMER_ACCURACY_USEC,
                                 on_timer, c);
}

int check_update_conf(struct check *c, const struct check_conf *cc)
{
        struct check_conf n;
        if (!c || !cc)
                return -EINVAL;
        int r = check_conf_copy(&n, cc);
        if (r < 0)
                return r;
        struct native *nn = NULL;
        if (!check_native_conf_equal(c->conf.native, n.native) && n.native &&
            (r = native_new(c->event, n.native, on_native_done, on_native_changed, c, &nn)) < 0) {
                conf_check_clear(&n);
                return r;
        }
        /* Checked before anything changes: the user applies to the native kept or to the new one. */
        if ((r = native_set_cred(nn ? nn : c->native, n.cred)) < 0) {
                native_free(nn);
                conf_check_clear(&n);
                return r;
        }
        if (!check_native_conf_equal(c->conf.native, n.native)) {
                c->native = native_free(c->native);     /* a run in flight is dropped: the next one is due */
                c->native = nn;
        }
        conf_check_clear(&c->conf);
        c->conf = n;
        if (c->last_start_usec != 0)
                return schedule_next(c);
        return 0;
}

void check_take_conf(struct check *c, struct check *from)
{
        struct check_conf t = c->conf;
        c->conf = from->conf;
        from->conf = t;
        if (!check_native_conf_equal(c->conf.native, from->conf.native)) {
                /* New native settings: from's native (never run) replaces ours; a run in flight is dropped. */
                struct native *nt = c->native;
                c->native = from->native;
                from->native = nt;
                if (c->native)
                        native_set_userdata(c->native, c);
        } else
                native_swap_cred(c->native, from->native);     /* the new user; from's got it in check_new() */
        check_free(from);
        if (c->last_start_usec != 0)
                (void)schedule_next(c);
}

const char *check_name(const struct check *c)
{
        return c ? c->conf.name : NULL;
}

const struct check_conf *check_get_conf(const struct check *c)
{
        return c ? &c->conf : NULL;
}

const struct check_state *check_get_state(const struct check *c)
{
        return c ? &c->state : NULL;
}

const struct check_result *check_get_result(const struct check *c)
{
        return c ? &c->result : NULL;
}

bool check_running(const struct check *c)
{
        return c && (c->proc || native_busy(c->native));
}

int check_script_secure(const char *path, char *why, size_t whylen)
{
        return file_root_only(path, why, whylen);
}
