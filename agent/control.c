/* The control socket (docs/control-protocol.md): requests become events for the manager (agent/events.h),
 * which asks agent/drain.c for drains; the status JSON renders the manager's snapshot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "clock.h"
#include "ctl.h"
#include "ctl_format.h"
#include "ctl_json.h"
#include "ctl_server.h"
#include "control.h"
#include "file.h"
#include "log.h"
#include "snapshot.h"

struct control {
        sd_event *event;
        const struct conf *conf;
        struct agent_sink sink;
        struct ctl_server *ctl;
        uint64_t event_seq;             /* of the last record of the events stream */
};

/* The kind of a logged event, from its journal fields, else from its words. */
static const char *event_kind(const char *const *fields, const char *msg)
{
        static const struct {
                const char *field, *kind;
        } by_field[] = { { "FAILOVERD_STATE=", "state" }, { "FAILOVERD_CHECK=", "check" },
                         { "FAILOVERD_PEER=", "bgp-session" }, { "FAILOVERD_WATCH=", "bgpd" },
                         { "FAILOVERD_FAILSAFE=", "failsafe" } };
        for (size_t i = 0; fields && fields[i]; i++)
                for (size_t k = 0; k < sizeof(by_field) / sizeof(by_field[0]); k++)
                        if (strncmp(fields[i], by_field[k].field, strlen(by_field[k].field)) == 0)
                                return by_field[k].kind;
        if (strstr(msg, "drain") || strstr(msg, "resume"))
                return "drain";
        if (strstr(msg, "reload"))
                return "reload";
        if (strstr(msg, "apply") || strstr(msg, "fast path") || strstr(msg, "read-back"))
                return "apply";
        return "log";
}

static bool events_followed(void *userdata)
{
        const struct control *c = userdata;
        return ctl_server_streams(c->ctl) > 0;
}

/* Every message at info or above, as one record of `failoverctl events` (only while someone follows). */
static void on_log(int level, const char *const *fields, const char *msg, void *userdata)
{
        static const char *const levels[] = { "emerg", "alert", "crit", "error", "warning", "notice", "info" };
        struct control *c = userdata;

        json_object *o = json_object_new_object();
        if (!o)
                return;
        json_object_object_add(o, "seq", json_object_new_int64((int64_t)++c->event_seq));
        json_object_object_add(o, "mono", json_object_new_double(clock_mono_usec() / 1e6));
        json_object_object_add(o, "time", json_object_new_double(clock_real_sec()));
        json_object_object_add(o, "level", json_object_new_string(level >= 0 && level <= 6 ? levels[level] : "?"));
        json_object_object_add(o, "kind", json_object_new_string(event_kind(fields, msg)));
        json_object *f = NULL;
        for (size_t i = 0; fields && fields[i]; i++) {
                const char *eq = strchr(fields[i], '=');
                if (!eq || strncmp(fields[i], "FAILOVERD_", 10) != 0)
                        continue;
                char key[64];
                snprintf(key, sizeof(key), "%.*s", (int)(eq - fields[i] - 10), fields[i] + 10);
                for (char *k = key; *k; k++)
                        *k = (char)(*k >= 'A' && *k <= 'Z' ? *k - 'A' + 'a' : *k);
                if (!f)
                        f = json_object_new_object();
                if (f)
                        json_object_object_add(f, key, json_object_new_string(eq + 1));
        }
        if (f)
                json_object_object_add(o, "fields", f);
        json_object_object_add(o, "text", json_object_new_string(msg));
        struct buf b;
        buf_init(&b);
        if (ctl_json_serialize(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &b) == 0)
                ctl_server_publish(c->ctl, b.data);
        buf_free(&b);
        json_object_put(o);
}

static int report(struct control *c, enum agent_event ev, const char *detail)
{
        return c->sink.report(c->sink.userdata, ev, detail);
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
                /* --service NAME: that service alone (agent/drain.c persists it); an unknown name changes
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
                /* Answered from memory; agent/drain.c saves the file off the loop (a failure is logged and in
                 * STATUS=). */
                const char *why = t.reason;
                log_notice("drain requested by uid %ld%s%s", uid, why ? ": " : "", why ? why : "");
                report(c, EVENT_DRAIN_REQUESTED, why);
                /* What the drain does, in its order (agent/drain.c): demoted first with drain_delay or drain_check. */
                char order[160] = "withdrawn";
                const char *peer = c->conf->drain_check ? "only while drain_check says the other host is healthy" : "";
                if (c->conf->drain_delay > 0)
                        snprintf(order, sizeof(order), "demoted first, withdrawn after %.3g s (drain_delay)%s%s,",
                                 c->conf->drain_delay, *peer ? " and " : "", peer);
                else if (*peer)
                        snprintf(order, sizeof(order), "demoted first, withdrawn %s,", peer);
                *reply = message("drained%s%s: the shared addresses are %s until failoverctl resume",
                                 why ? ": " : "", why ? why : "", order);
                return 0;
        }
        if (strcmp(command, "resume") == 0) {
                int services = report(c, EVENT_SERVICE_RESUME, NULL);
                if (report(c, EVENT_RESUME_REQUESTED, NULL) == -EALREADY) {
                        if (services > 0) {
                                log_notice("resume requested by uid %ld: every service", uid);
                                *reply = message("resumed %d service%s", services, services == 1 ? "" : "s");
                        } else {
                                *reply = refusal("not drained");
                        }
                        return 0;
                }
                log_notice("resume requested by uid %ld", uid);
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
        r = file_mkdir_p(c->conf->runtime_directory, 0750);
        if (r < 0) {
                log_err("cannot create %s: %s", c->conf->runtime_directory, strerror(-r));
                return r;
        }
        r = ctl_socket_path(c->conf->runtime_directory, &path);
        if (r >= 0)
                r = ctl_server_new(c->event, path, handler, c, &c->ctl);
        if (r >= 0) {
                set_access(c);
                log_set_tap(on_log, events_followed, c);
        }
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

struct control *control_free(struct control *c)
{
        if (!c)
                return NULL;
        log_set_tap(NULL, NULL, NULL);
        c->ctl = ctl_server_free(c->ctl);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}
