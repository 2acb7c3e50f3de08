/* The control socket (docs/control-protocol.md) and the drain that survives restarts: requests become
 * events for the manager (agent/events.h); the status JSON renders the manager's snapshot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "clock.h"
#include "ctl.h"
#include "ctl_format.h"
#include "ctl_server.h"
#include "control.h"
#include "file.h"
#include "log.h"
#include "snapshot.h"

#define DRAIN_FILE "drain"

struct control {
        sd_event *event;
        const struct conf *conf;
        struct agent_sink sink;
        struct ctl_server *ctl;
        bool drained;                   /* what the drain file says, or will once saved */
        char *drain_reason;
        struct file_job *drain_job;     /* the drain file being written or removed */
        bool drain_dirty;               /* drain or resume again once drain_job is done */
        char *drain_save_error;         /* the last save failed: why */
};

static int mkdir_p(const char *path, mode_t mode)
{
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s", path);
        for (char *p = tmp + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int report(struct control *c, enum agent_event ev, const char *detail)
{
        return c->sink.report(c->sink.userdata, ev, detail);
}

static void drain_path(const struct control *c, char *out, size_t len)
{
        snprintf(out, len, "%s/" DRAIN_FILE, c->conf->state_directory);
}

/* The drain survives restarts and reboots: a file in state_directory holding the reason. */
static void load_drain(struct control *c)
{
        char path[4200], *text = NULL;

        drain_path(c, path, sizeof(path));
        int r = file_read(path, 4096, &text, NULL);
        if (r == -ENOENT)
                return;
        c->drained = true;
        if (r == 0) {
                text[strcspn(text, "\n")] = '\0';
                c->drain_reason = *text ? strdup(text) : NULL;
        }
        free(text);
        log_notice("drained since before this start%s%s (failoverctl resume to end it)",
                   c->drain_reason ? ": " : "", c->drain_reason ? c->drain_reason : "");
        report(c, EVENT_DRAIN_REQUESTED, c->drain_reason);
}

static void save_drain(struct control *c);

static void on_drain_saved(struct file_job *j, int error, bool changed, void *userdata)
{
        struct control *c = userdata;
        (void)j;
        (void)changed;

        c->drain_job = NULL;
        if (error < 0) {
                char path[4200];
                drain_path(c, path, sizeof(path));
                log_err("cannot %s %s: %s; the %s holds until failoverd stops", c->drained ? "write" : "remove",
                        path, strerror(-error), c->drained ? "drain" : "resume");
                if (!c->drain_save_error || strcmp(c->drain_save_error, strerror(-error)) != 0) {
                        free(c->drain_save_error);
                        c->drain_save_error = strdup(strerror(-error));
                        report(c, EVENT_DRAIN_SAVED, c->drain_save_error);
                }
        } else if (c->drain_save_error) {
                c->drain_save_error = (free(c->drain_save_error), NULL);
                report(c, EVENT_DRAIN_SAVED, NULL);
        }
        if (c->drain_dirty)
                save_drain(c);
}

/* Writes (and syncs) or removes the drain file off the loop, one at a time: a resume that comes while
 * the drain is being written is saved after it, so the file always ends as the last request left it. */
static void save_drain(struct control *c)
{
        char path[4200];
        int r;

        if (c->drain_job) {
                c->drain_dirty = true;
                return;
        }
        c->drain_dirty = false;
        drain_path(c, path, sizeof(path));
        if (c->drained) {
                char line[1100];
                snprintf(line, sizeof(line), "%s\n", c->drain_reason ? c->drain_reason : "");
                r = file_write_async(c->event, path, line, strlen(line), 0640, FILE_DURABLE, on_drain_saved, c,
                                     &c->drain_job);
        } else {
                r = file_remove_async(c->event, path, FILE_DURABLE, on_drain_saved, c, &c->drain_job);
        }
        if (r < 0)
                log_err("cannot save the drain state in %s: %s", path, strerror(-r));
}

static json_object *message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_object *message(const char *fmt, ...)
{
        char text[1200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "ok", json_object_new_boolean(1));
        json_object_object_add(o, "message", json_object_new_string(text));
        return o;
}

static json_object *refusal(const char *text)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "ok", json_object_new_boolean(0));
        json_object_object_add(o, "error", json_object_new_string(text));
        return o;
}

static void set_access(struct control *c);

static int handler(const char *command, const char *arg, json_object **reply, void *userdata)
{
        struct control *c = userdata;
        const struct ucred *who = ctl_server_peer(c->ctl);
        long uid = who ? (long)who->uid : -1;

        if (strcmp(command, "status-json") == 0 || strcmp(command, "status") == 0 || strcmp(command, "checks") == 0) {
                struct snapshot snap = { 0 };
                c->sink.snapshot(c->sink.userdata, &snap);
                json_object *st = snapshot_json(&snap);
                snapshot_clear(&snap);
                if (strcmp(command, "status-json") == 0) {
                        *reply = st;
                        return st ? 0 : -ENOMEM;
                }
                /* The screens of failoverctl status and checks, for a line on the socket (lib/ctl_format.c). */
                int r = ctl_format_reply(command, st, clock_real_sec(), reply);
                json_object_put(st);
                return r;
        }
        struct ctl_target t;
        char err[256];
        if ((strcmp(command, "drain") == 0 || strcmp(command, "resume") == 0) &&
            ctl_parse_target(command, arg, &t, err, sizeof(err)) < 0) {
                *reply = refusal(err);
                return 0;
        }
        if ((strcmp(command, "drain") == 0 || strcmp(command, "resume") == 0) && t.service[0]) {
                /* --service NAME: that service alone (agent/services.c persists it); an unknown name changes
                 * nothing. */
                bool drain = command[0] == 'd';
                char detail[CTL_SERVICE_MAX + CTL_REQUEST_MAX];
                snprintf(detail, sizeof(detail), "%s%s%s", t.service, t.reason ? " " : "", t.reason ? t.reason : "");
                int r = report(c, drain ? EVENT_SERVICE_DRAIN : EVENT_SERVICE_RESUME, detail);
                if (r >= 0) {
                        log_notice("%s requested by uid %ld: service %s%s%s", command, uid, t.service,
                                   t.reason ? ": " : "", t.reason ? t.reason : "");
                        struct snapshot snap = { 0 };
                        c->sink.snapshot(c->sink.userdata, &snap);
                        *reply = message("%s: %s%s%s (now %s)", drain ? "drained" : "resumed", t.service,
                                         t.reason ? ": " : "", t.reason ? t.reason : "", snap.summary);
                        snapshot_clear(&snap);
                        return 0;
                }
                if (r == -EALREADY)
                        snprintf(err, sizeof(err), "service %s is not drained on its own", t.service);
                else if (r == -ENOENT)
                        snprintf(err, sizeof(err), "no such service: %s (nothing changed; failoverctl status lists the "
                                 "services)", t.service);
                else
                        snprintf(err, sizeof(err), "%s --service %s: %s", command, t.service, strerror(-r));
                *reply = refusal(err);
                return 0;
        }
        if (strcmp(command, "drain") == 0) {
                /* Answered from memory; the file follows off the loop (a failure is logged and in STATUS=). */
                const char *why = t.reason;
                free(c->drain_reason);
                c->drained = true;
                c->drain_reason = why ? strdup(why) : NULL;
                save_drain(c);
                log_notice("drain requested by uid %ld%s%s", uid, why ? ": " : "", why ? why : "");
                report(c, EVENT_DRAIN_REQUESTED, why);
                *reply = message("drained%s%s: the shared addresses are withdrawn until failoverctl resume",
                                 why ? ": " : "", why ? why : "");
                return 0;
        }
        if (strcmp(command, "resume") == 0) {
                int services = report(c, EVENT_SERVICE_RESUME, NULL);
                if (!c->drained && services > 0) {
                        log_notice("resume requested by uid %ld: every service", uid);
                        *reply = message("resumed %d service%s", services, services == 1 ? "" : "s");
                        return 0;
                }
                if (!c->drained) {
                        *reply = refusal("not drained");
                        return 0;
                }
                c->drained = false;
                c->drain_reason = (free(c->drain_reason), NULL);
                save_drain(c);
                log_notice("resume requested by uid %ld", uid);
                report(c, EVENT_RESUME_REQUESTED, NULL);
                struct snapshot snap = { 0 };
                c->sink.snapshot(c->sink.userdata, &snap);
                *reply = message("resumed: state %s (%s)", state_name(snap.target), snap.reason);
                snapshot_clear(&snap);
                return 0;
        }
        if (strcmp(command, "reload") == 0) {
                /* Answered with the outcome, so `failoverctl reload` (the unit's ExecReload=) fails for a
                 * refused config; reading the config here is what SIGHUP does on the loop too. */
                log_info("reload requested by uid %ld", uid);
                int r = report(c, EVENT_RELOAD_REQUESTED, NULL);
                if (r == -ESHUTDOWN) {
                        *reply = refusal("failoverd is stopping");
                        return 0;
                }
                struct snapshot snap = { 0 };
                c->sink.snapshot(c->sink.userdata, &snap);
                if (r < 0)
                        *reply = refusal(snap.reload_error ? snap.reload_error : strerror(-r));
                else
                        *reply = message("reloaded %s", snap.conf_path);
                snapshot_clear(&snap);
                return 0;
        }
        return -EOPNOTSUPP;
}

int control_new(sd_event *e, const struct conf *conf, const struct agent_sink *sink, struct control **ret)
{
        char *path = NULL;
        struct control *c = calloc(1, sizeof(*c));
        int r;

        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        c->conf = conf;
        c->sink = *sink;
        *ret = c;
        load_drain(c);
        /* Now, before the loop runs: a drain is then saved without creating directories. A failure shows
         * when a drain is saved. */
        (void)mkdir_p(c->conf->state_directory, 0750);
        r = mkdir_p(c->conf->runtime_directory, 0750);
        if (r < 0) {
                log_err("cannot create %s: %s", c->conf->runtime_directory, strerror(-r));
                return r;
        }
        r = ctl_socket_path(c->conf->runtime_directory, &path);
        if (r >= 0)
                r = ctl_server_new(c->event, path, handler, c, &c->ctl);
        if (r >= 0)
                set_access(c);
        if (r == -EADDRINUSE)
                log_err("%s: another failoverd answers on this control socket", path);
        else if (r < 0)
                log_err("cannot listen on %s: %s", path ? path : c->conf->runtime_directory, strerror(-r));
        free(path);
        return r;
}

static void set_access(struct control *c)
{
        if (!c->ctl)
                return;
        int r = ctl_server_set_access(c->ctl, c->conf->control.read_gid, c->conf->control.admin_gid);
        if (r < 0)
                log_err("control socket: cannot set access for control.read_group/admin_group: %s", strerror(-r));
}

void control_set_conf(struct control *c, const struct conf *conf)
{
        c->conf = conf;
        set_access(c);
}

void control_snapshot(const struct control *c, struct snapshot *s)
{
        s->drain_save_error = c->drain_save_error;
}

struct control *control_free(struct control *c)
{
        if (!c)
                return NULL;
        /* Stopping: a drain or resume already answered must reach the disk before we exit. */
        for (int i = 0; c->drain_job && i < 3; i++)
                if (!file_job_finish(c->drain_job, 10000))
                        c->drain_job = NULL;    /* cancelled: the disk did not answer in 10 s */
        c->ctl = ctl_server_free(c->ctl);
        free(c->drain_reason);
        free(c->drain_save_error);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}
