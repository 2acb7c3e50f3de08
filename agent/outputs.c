/* STATUS=, the metrics file and the notify hook, from one snapshot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "check.h"
#include "file.h"
#include "log.h"
#include "outputs.h"
#include "proc.h"

/* A running notify hook. It carries its own argv: a reload may free the configuration it came from. */
struct notify_child {
        struct outputs *owner;
        struct proc *proc;
        char **argv;
};

struct outputs {
        sd_event *event;
        struct notify_child **children;
        size_t n_children;
        int metrics_error;              /* the last write's -errno, logged once until it changes */
};

int outputs_new(sd_event *e, struct outputs **ret)
{
        struct outputs *o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->event = sd_event_ref(e);
        *ret = o;
        return 0;
}

static struct notify_child *notify_child_free(struct notify_child *n)
{
        if (n) {
                proc_free(n->proc);
                strv_free(n->argv);
                free(n);
        }
        return NULL;
}

struct outputs *outputs_free(struct outputs *o)
{
        if (!o)
                return NULL;
        for (size_t i = 0; i < o->n_children; i++)
                notify_child_free(o->children[i]);
        free(o->children);
        sd_event_unref(o->event);
        free(o);
        return NULL;
}

static void on_notify_done(struct proc *p, struct proc_result *r, void *userdata)
{
        struct notify_child *n = userdata;
        struct outputs *o = n->owner;
        char what[160];
        (void)p;

        for (size_t i = 0; i < o->n_children; i++)
                if (o->children[i] == n)
                        o->children[i] = o->children[--o->n_children];
        proc_describe(r, what, sizeof(what));
        if (!r->exited || r->status != 0)
                log_warn("notify %s: %s%s%s", n->argv[0], what, r->output[0] ? ": " : "", r->output);
        n->proc = NULL;         /* freed by proc after this callback */
        notify_child_free(n);
}

static char *env_pair(const char *k, const char *v)
{
        struct buf b;
        buf_init(&b);
        buf_printf(&b, "%s=%s", k, v);
        return buf_steal(&b);
}

/* Runs the notify hook (failoverd.conf(5), notify) with the change in its environment; argv only, no shell. */
static void run_notify(struct outputs *o, const struct snapshot *s)
{
        extern char **environ;
        char why[CHECK_MESSAGE_MAX + 1];

        /* It runs as root: the rule the checks get (failoverd --check refuses the same). */
        if (geteuid() == 0 && check_script_secure(s->conf->notify[0], why, sizeof(why)) < 0) {
                log_warn("notify %s: not run, insecure script: %s", s->conf->notify[0], why);
                return;
        }
        size_t n = strv_len(environ);
        char **env = calloc(n + 6, sizeof(char *));

        if (!env)
                return;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                /* Not the way to the BGP password either (systemd credentials, failoverd.conf(5)). */
                if (strncmp(environ[i], "FAILOVERD_", 10) != 0 && strncmp(environ[i], "NOTIFY_SOCKET=", 14) != 0 &&
                    strncmp(environ[i], "CREDENTIALS_DIRECTORY=", 22) != 0)
                        env[k++] = strdup(environ[i]);
        env[k++] = env_pair("FAILOVERD_STATE", state_name(s->target));
        env[k++] = env_pair("FAILOVERD_PREVIOUS", s->previous == STATE_INVALID ? "none" : state_name(s->previous));
        env[k++] = env_pair("FAILOVERD_ROLE", role_name(s->notify_service ? s->notify_role : s->conf->role));
        env[k++] = env_pair("FAILOVERD_REASON", s->reason);
        env[k++] = env_pair("FAILOVERD_SERVICE", s->notify_service ? s->notify_service : "default");
        struct notify_child *child = calloc(1, sizeof(*child));
        struct notify_child **v = realloc(o->children, (o->n_children + 1) * sizeof(*v));
        if (v)
                o->children = v;
        if (child)
                child->argv = strv_copy(s->conf->notify);
        if (!v || !child || !child->argv) {
                log_err("cannot run notify %s: %s", s->conf->notify[0], strerror(ENOMEM));
                notify_child_free(child);
                strv_free(env);
                return;
        }
        child->owner = o;
        struct proc_opts po = {
                .argv = child->argv,
                .envp = env,
                .timeout_usec = (uint64_t)(s->conf->frr.timeout * 1e6),
                .output_max = 512,
                .first_line_only = true,
        };
        int r = proc_spawn(o->event, &po, on_notify_done, child, &child->proc);
        if (r < 0) {
                log_err("cannot run notify %s: %s", child->argv[0], strerror(-r));
                notify_child_free(child);
        } else {
                o->children[o->n_children++] = child;
        }
        strv_free(env);
}

static void write_metrics(struct outputs *o, const struct snapshot *s)
{
        struct buf b;

        buf_init(&b);
        int r = snapshot_metrics(s, &b);
        if (r >= 0)
                /* Rewritten at every watch and read by a scraper: atomic, but no fsync on the loop. */
                r = file_write_atomic(s->conf->metrics_file, b.data, b.len, 0644, 0, NULL);
        /* Written at every watch (a few times a second): one line when it starts failing, one when it works. */
        if (r < 0 && r != o->metrics_error)
                log_warn("cannot write %s: %s (said once until it changes)", s->conf->metrics_file, strerror(-r));
        else if (r >= 0 && o->metrics_error < 0)
                log_notice("%s written again", s->conf->metrics_file);
        o->metrics_error = r < 0 ? r : 0;
        buf_free(&b);
}

void outputs_publish(struct outputs *o, const struct snapshot *s, unsigned what)
{
        /* The fast path went out before this: the hook and the metrics can wait a millisecond. */
        if (what & OUTPUT_NOTIFY && s->conf->notify)
                run_notify(o, s);
        if (what & OUTPUT_METRICS && s->conf->metrics_file)
                write_metrics(o, s);
        if (what & OUTPUT_STATUS) {
                char line[1024];
                snapshot_status_line(s, line, sizeof(line));
                sd_notifyf(0, "STATUS=%s", line);
        }
}
