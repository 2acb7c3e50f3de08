/* Every drain (the host's and each service's), in memory and on disk: loaded at start, saved off the loop,
 * one save at a time per drain so that the file always ends as the last request left it. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "drain.h"
#include "file.h"
#include "log.h"
#include "proc.h"

#define HOST_FILE "drain"               /* state_directory/drain; a service's: state_directory/drain.NAME */

struct drain_one {
        struct drain *owner;
        char *name;                     /* NULL: the host */
        bool on;
        char *reason;
        struct file_job *job;           /* the file being written or removed */
        bool dirty;                     /* save again once job is done */
        uint64_t since_usec;            /* CLOCK_MONOTONIC of the drain in this run; 0: from before this start */
};

struct drain {
        sd_event *event;
        const struct conf *conf;
        struct drain_one *host;
        struct drain_one **svc;         /* parallel to conf->services (services form only) */
        size_t n_svc;
        char *save_error;               /* the host's last save failed: why */
        drain_changed_fn changed;
        void *userdata;
        /* The order (drain_delay, drain_check). */
        bool stopping;                  /* drain_stop(): every service, since stop_usec */
        uint64_t stop_usec;
        sd_event_source *order_timer;   /* a drain_delay ends, or the drain check is due */
        struct proc *check;             /* the drain check running */
        int peer;                       /* its last verdict: 1 the other host is healthy, 0 not, -1 not known */
        uint64_t next_check_usec;
        void (*order_changed)(void *userdata);
        void *order_userdata;
};

static void reschedule(struct drain *d);

static int path_of(const struct drain *d, const struct drain_one *o, char *out, size_t len)
{
        int n = o->name ? snprintf(out, len, "%s/" HOST_FILE ".%s", d->conf->state_directory, o->name)
                        : snprintf(out, len, "%s/" HOST_FILE, d->conf->state_directory);
        return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static struct drain_one *one_new(struct drain *d, const char *name)
{
        struct drain_one *o = calloc(1, sizeof(*o));
        if (!o)
                return NULL;
        o->owner = d;
        if (name && !(o->name = strdup(name))) {
                free(o);
                return NULL;
        }
        return o;
}

static struct drain_one *one_free(struct drain_one *o)
{
        if (!o)
                return NULL;
        /* A service a reload removed: its file write runs to its end on its thread, unobserved. */
        o->job = file_job_cancel(o->job);
        free(o->name);
        free(o->reason);
        free(o);
        return NULL;
}

static void load(struct drain *d, struct drain_one *o)
{
        char path[4300], *text = NULL;

        if (path_of(d, o, path, sizeof(path)) < 0) {
                log_err("%s: the drain file's path is too long", d->conf->state_directory);
                return;
        }
        int r = file_read(path, 4096, &text, NULL);
        if (r == -ENOENT)
                return;
        o->on = true;
        if (r == 0) {
                text[strcspn(text, "\n")] = '\0';
                o->reason = *text ? strdup(text) : NULL;
        }
        free(text);
        if (o->name)
                log_notice("service %s drained since before this start%s%s (failoverctl resume %s to end it)",
                           o->name, o->reason ? ": " : "", o->reason ? o->reason : "", o->name);
        else
                log_notice("drained since before this start%s%s (failoverctl resume to end it)",
                           o->reason ? ": " : "", o->reason ? o->reason : "");
}

static void save(struct drain_one *o);

static void on_saved(struct file_job *j, int error, bool changed, void *userdata)
{
        struct drain_one *o = userdata;
        struct drain *d = o->owner;
        (void)j;
        (void)changed;

        o->job = NULL;
        if (error < 0) {
                if (o->name)
                        log_err("cannot %s the drain file of service %s: %s; it holds until failoverd stops",
                                o->on ? "write" : "remove", o->name, strerror(-error));
                else {
                        char path[4300];
                        (void)path_of(d, o, path, sizeof(path));
                        log_err("cannot %s %s: %s; the %s holds until failoverd stops", o->on ? "write" : "remove",
                                path, strerror(-error), o->on ? "drain" : "resume");
                }
        }
        if (!o->name) {
                const char *now = error < 0 ? strerror(-error) : NULL;
                bool differs = now ? !d->save_error || strcmp(d->save_error, now) != 0 : d->save_error != NULL;
                if (differs) {
                        free(d->save_error);
                        d->save_error = now ? strdup(now) : NULL;
                        if (d->changed)
                                d->changed(d, d->userdata);
                }
        }
        if (o->dirty)
                save(o);
}

/* Writes (and syncs) or removes the drain file off the loop. */
static void save(struct drain_one *o)
{
        struct drain *d = o->owner;
        char path[4300];
        int r;

        if (o->job) {
                o->dirty = true;
                return;
        }
        o->dirty = false;
        r = path_of(d, o, path, sizeof(path));
        if (r >= 0 && o->on) {
                char line[1100];
                snprintf(line, sizeof(line), "%s\n", o->reason ? o->reason : "");
                r = file_write_async(d->event, path, line, strlen(line), 0640, FILE_DURABLE, on_saved, o, &o->job);
        } else if (r >= 0) {
                r = file_remove_async(d->event, path, FILE_DURABLE, on_saved, o, &o->job);
        }
        if (r < 0)
                log_err("cannot save the drain state in %s/%s%s%s: %s", d->conf->state_directory, HOST_FILE,
                        o->name ? "." : "", o->name ? o->name : "", strerror(-r));
}

static int set(struct drain_one *o, bool on, const char *reason)
{
        if (!on && !o->on)
                return -EALREADY;
        char *copy = on && reason && *reason ? strdup(reason) : NULL;
        if (on && reason && *reason && !copy)
                return -ENOMEM;
        if (on && !o->on)
                o->since_usec = clock_mono_usec();
        o->on = on;
        free(o->reason);
        o->reason = copy;
        save(o);
        reschedule(o->owner);
        return 0;
}

int drain_new(sd_event *e, const struct conf *c, drain_changed_fn changed, void *userdata, struct drain **ret)
{
        struct drain *d = calloc(1, sizeof(*d));

        *ret = NULL;
        if (!d)
                return -ENOMEM;
        d->event = sd_event_ref(e);
        d->conf = c;
        d->peer = -1;
        d->changed = changed;
        d->userdata = userdata;
        if (!(d->host = one_new(d, NULL))) {
                drain_free(d);
                return -ENOMEM;
        }
        /* Now, before the loop runs: a drain is then saved without creating directories. A failure shows
         * when a drain is saved. */
        (void)file_mkdir_p(c->state_directory, 0750);
        load(d, d->host);
        int r = drain_set_conf(d, c);
        if (r < 0) {
                drain_free(d);
                return r;
        }
        *ret = d;
        return 0;
}

int drain_set_conf(struct drain *d, const struct conf *c)
{
        size_t n = c->services_form ? c->n_services : 0;
        struct drain_one **v = calloc(n + 1, sizeof(*v));

        if (!v)
                return -ENOMEM;
        d->conf = c;
        for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < d->n_svc && !v[i]; j++)
                        if (d->svc[j] && strcmp(d->svc[j]->name, c->services[i].name) == 0) {
                                v[i] = d->svc[j];
                                d->svc[j] = NULL;
                        }
                if (v[i])
                        continue;
                if (!(v[i] = one_new(d, c->services[i].name))) {
                        for (size_t k = 0; k < i; k++)
                                v[k] = one_free(v[k]);      /* kept ones are lost too: out of memory */
                        free(v);
                        return -ENOMEM;
                }
                load(d, v[i]);
        }
        for (size_t j = 0; j < d->n_svc; j++)
                one_free(d->svc[j]);
        free(d->svc);
        d->svc = v;
        d->n_svc = n;
        reschedule(d);
        return 0;
}

struct drain *drain_free(struct drain *d)
{
        if (!d)
                return NULL;
        /* Stopping: a drain or resume already answered must reach the disk before we exit. */
        struct drain_one *all[1 + CONF_MAX_SERVICES + 1] = { d->host };
        size_t n = 1;
        for (size_t i = 0; i < d->n_svc && n < sizeof(all) / sizeof(all[0]); i++)
                all[n++] = d->svc[i];
        d->changed = NULL;              /* its owner is going away */
        d->order_timer = sd_event_source_disable_unref(d->order_timer);
        d->check = proc_free(d->check);
        /* The loop has ended: a request that came while a save was in flight ("dirty") is saved again on a
         * loop of our own that never runs; file_job_finish() waits on the job itself, bounded as the first. */
        sd_event *own = NULL;
        if (sd_event_new(&own) >= 0) {
                sd_event_unref(d->event);
                d->event = own;
        }
        for (size_t i = 0; i < n; i++)
                for (int k = 0; all[i] && all[i]->job && k < 3; k++)
                        if (!file_job_finish(all[i]->job, 10000))
                                all[i]->job = NULL;     /* cancelled: the disk did not answer in 10 s */
        for (size_t i = 0; i < d->n_svc; i++)
                one_free(d->svc[i]);
        free(d->svc);
        one_free(d->host);
        free(d->save_error);
        sd_event_unref(d->event);
        free(d);
        return NULL;
}

bool drain_host(const struct drain *d, const char **reason)
{
        assert(d && d->host);
        if (reason)
                *reason = d->host->on ? d->host->reason : NULL;
        return d->host->on;
}

bool drain_service(const struct drain *d, size_t s, const char **reason)
{
        const struct drain_one *o = s < d->n_svc ? d->svc[s] : NULL;
        if (reason)
                *reason = o && o->on ? o->reason : NULL;
        return o && o->on;
}

int drain_set_host(struct drain *d, bool on, const char *reason)
{
        return set(d->host, on, reason);
}

int drain_set_service(struct drain *d, const char *name, bool on, const char *reason)
{
        for (size_t s = 0; name && s < d->n_svc; s++)
                if (strcmp(d->svc[s]->name, name) == 0)
                        return set(d->svc[s], on, reason);
        return -ENOENT;
}

int drain_resume_services(struct drain *d)
{
        int n = 0;
        for (size_t s = 0; s < d->n_svc; s++)
                if (set(d->svc[s], false, NULL) == 0)
                        n++;
        return n;
}

const char *drain_save_error(const struct drain *d)
{
        return d->save_error;
}

/* bgp.secondary = "silent" with a secondary service: the drain check runs all the time, not only for a drain. */
static bool standby(const struct drain *d)
{
        if (!d->conf->bgp.secondary_silent || !d->conf->drain_check)
                return false;
        for (size_t s = 0; s < d->conf->n_services; s++)
                if (d->conf->services[s].role == ROLE_SECONDARY)
                        return true;
        return false;
}

bool drain_peer_healthy(const struct drain *d)
{
        return d->peer == 1;
}

static uint64_t delay_usec(const struct drain *d)
{
        return (uint64_t)(d->conf->drain_delay * 1e6);
}

/* One drain's phase: demoted until its delay is over, then until the drain check says yes (if any). */
static enum drain_phase phase_one(const struct drain *d, bool on, uint64_t since, uint64_t now)
{
        if (!on)
                return DRAIN_NONE;
        if (since && now < since + delay_usec(d))
                return DRAIN_DEMOTE;
        return d->conf->drain_check && d->peer != 1 ? DRAIN_DEMOTE : DRAIN_WITHDRAW;
}

static enum drain_phase worst(enum drain_phase a, enum drain_phase b)
{
        return a > b ? a : b;
}

enum drain_phase drain_phase(const struct drain *d, size_t s)
{
        uint64_t now = clock_mono_usec();
        const struct drain_one *o = s < d->n_svc ? d->svc[s] : NULL;
        enum drain_phase p = phase_one(d, d->host->on, d->host->since_usec, now);
        if (o)
                p = worst(p, phase_one(d, o->on, o->since_usec, now));
        return worst(p, phase_one(d, d->stopping, d->stop_usec, now));
}

double drain_demote_left(const struct drain *d, size_t s)
{
        uint64_t now = clock_mono_usec(), end = 0;
        const struct drain_one *all[] = { d->host, s < d->n_svc ? d->svc[s] : NULL };
        for (size_t i = 0; i < 2; i++)
                if (all[i] && all[i]->on && all[i]->since_usec && all[i]->since_usec + delay_usec(d) > end)
                        end = all[i]->since_usec + delay_usec(d);
        if (d->stopping && d->stop_usec + delay_usec(d) > end)
                end = d->stop_usec + delay_usec(d);
        return end > now ? (double)(end - now) / 1e6 : 0;
}

static void order_changed(struct drain *d)
{
        if (d->order_changed)
                d->order_changed(d->order_userdata);
}

static void on_check_done(struct proc *p, struct proc_result *r, void *userdata)
{
        struct drain *d = userdata;
        char what[160];
        (void)p;

        d->check = NULL;
        int verdict = r->exited && r->status == 0;
        proc_describe(r, what, sizeof(what));
        if (verdict != d->peer) {
                if (verdict)
                        log_notice("drain check: the other host is healthy (%s): a drain past drain_delay withdraws%s",
                                   what, standby(d) ? ", a silent secondary stands by" : "");
                else
                        log_warn("drain check: the other host is not known to be healthy (%s%s%s): drained services "
                                 "stay demoted%s, checked again every %g s", what, r->output && *r->output ? ": " : "",
                                 r->output ? r->output : "", standby(d) ? ", a silent secondary announces" : "",
                                 d->conf->bgp.poll_interval);
        }
        d->peer = verdict;
        d->next_check_usec = clock_mono_usec() + (uint64_t)(d->conf->bgp.poll_interval * 1e6);
        reschedule(d);
        order_changed(d);
}

static void run_check(struct drain *d)
{
        char why[CHECK_MESSAGE_MAX + 1];

        /* It runs as root: the rule the checks and the notify hook get (failoverd --check refuses the same).
         * Not run means no "yes": drained services stay demoted. */
        if (geteuid() == 0 && check_script_secure(d->conf->drain_check[0], why, sizeof(why)) < 0) {
                if (d->peer != 0)
                        log_warn("drain check %s: not run, insecure script: %s; drained services stay demoted",
                                 d->conf->drain_check[0], why);
                d->peer = 0;
                d->next_check_usec = clock_mono_usec() + (uint64_t)(d->conf->bgp.poll_interval * 1e6);
                return;
        }
        struct proc_opts o = {
                .argv = d->conf->drain_check,
                .timeout_usec = (uint64_t)(d->conf->checks.timeout * 1e6),
                .first_line_only = true,
        };
        int r = proc_spawn(d->event, &o, on_check_done, d, &d->check);
        if (r < 0) {
                log_err("drain check: cannot start %s: %s", d->conf->drain_check[0], strerror(-r));
                d->next_check_usec = clock_mono_usec() + (uint64_t)(d->conf->bgp.poll_interval * 1e6);
        }
}

static int on_order_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct drain *d = userdata;
        (void)s;
        (void)usec;
        d->order_timer = sd_event_source_disable_unref(d->order_timer);
        reschedule(d);
        order_changed(d);
        return 0;
}

/* Arms the timer for the next end of a delay and runs the drain check when one is due. */
static void reschedule(struct drain *d)
{
        uint64_t now = clock_mono_usec(), next = 0;
        bool past = standby(d);         /* a drain is past its delay, or a standby: the drain check decides */
        const struct drain_one *all[1 + CONF_MAX_SERVICES];
        size_t n = 0;

        all[n++] = d->host;
        for (size_t i = 0; i < d->n_svc && n < sizeof(all) / sizeof(all[0]); i++)
                all[n++] = d->svc[i];
        for (size_t i = 0; i <= n; i++) {
                bool on = i < n ? all[i]->on : d->stopping;
                uint64_t since = i < n ? all[i]->since_usec : d->stop_usec;
                if (!on)
                        continue;
                uint64_t end = since ? since + delay_usec(d) : 0;
                if (end > now && (!next || end < next))
                        next = end;
                past = past || end <= now;
        }
        if (!past) {
                d->peer = -1;           /* a verdict is about one drain: the next one asks again */
                d->check = proc_free(d->check);
        } else if (d->conf->drain_check && !d->check) {
                if (d->next_check_usec <= now)
                        run_check(d);
                /* Not started (refused, or the spawn failed): the next try is due then. */
                if (!d->check && (!next || d->next_check_usec < next))
                        next = d->next_check_usec;
        }
        d->order_timer = sd_event_source_disable_unref(d->order_timer);
        if (next && sd_event_add_time(d->event, &d->order_timer, CLOCK_MONOTONIC, next, 1000, on_order_timer, d) < 0)
                log_err("drain: cannot arm the drain_delay timer: the drain withdraws at the next decision");
}

void drain_on_order(struct drain *d, void (*fn)(void *userdata), void *userdata)
{
        d->order_changed = fn;
        d->order_userdata = userdata;
}

void drain_stop(struct drain *d)
{
        if (d->stopping)
                return;
        d->stopping = true;
        d->stop_usec = clock_mono_usec();
        reschedule(d);
}
