/* Every drain (the host's and each service's), in memory and on disk: loaded at start, saved off the loop,
 * one save at a time per drain so that the file always ends as the last request left it. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drain.h"
#include "file.h"
#include "log.h"

#define HOST_FILE "drain"               /* state_directory/drain; a service's: state_directory/drain.NAME */

struct drain_one {
        struct drain *owner;
        char *name;                     /* NULL: the host */
        bool on;
        char *reason;
        struct file_job *job;           /* the file being written or removed */
        bool dirty;                     /* save again once job is done */
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
};

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
        o->on = on;
        free(o->reason);
        o->reason = copy;
        save(o);
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
