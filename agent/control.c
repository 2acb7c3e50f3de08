/* The daemon's outside: control socket and status JSON (SPEC 7.7), persisted drain (SPEC 5), notify hook
 * (SPEC 7.5) and metrics textfile (SPEC 7.6). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "check.h"
#include "clock.h"
#include "ctl_server.h"
#include "daemon.h"
#include "file.h"
#include "log.h"
#include "metrics.h"
#include "proc.h"

#define DRAIN_FILE "drain"

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

static void drain_path(const struct manager *m, char *out, size_t len)
{
        snprintf(out, len, "%s/" DRAIN_FILE, m->conf->state_directory);
}

/* The drain survives restarts and reboots: a file in state_directory holding the reason. */
static void load_drain(struct manager *m)
{
        char path[4200], *text = NULL;

        drain_path(m, path, sizeof(path));
        int r = file_read(path, 4096, &text, NULL);
        if (r == -ENOENT)
                return;
        m->drained = true;
        if (r == 0) {
                text[strcspn(text, "\n")] = '\0';
                m->drain_reason = *text ? strdup(text) : NULL;
        }
        free(text);
        log_notice("drained since before this start%s%s (failoverctl resume to end it)",
                   m->drain_reason ? ": " : "", m->drain_reason ? m->drain_reason : "");
}

static void save_drain(struct manager *m);

static void on_drain_saved(struct file_job *j, int error, bool changed, void *userdata)
{
        struct manager *m = userdata;
        (void)j;
        (void)changed;

        m->drain_job = NULL;
        if (error < 0) {
                char path[4200];
                drain_path(m, path, sizeof(path));
                log_err("cannot %s %s: %s; the %s holds until failoverd stops", m->drained ? "write" : "remove",
                        path, strerror(-error), m->drained ? "drain" : "resume");
                if (!m->drain_save_error || strcmp(m->drain_save_error, strerror(-error)) != 0) {
                        free(m->drain_save_error);
                        m->drain_save_error = strdup(strerror(-error));
                        manager_update_status(m);
                }
        } else if (m->drain_save_error) {
                m->drain_save_error = (free(m->drain_save_error), NULL);
                manager_update_status(m);
        }
        if (m->drain_dirty)
                save_drain(m);
}

/* Writes (and syncs) or removes the drain file off the loop, one at a time: a resume that comes while
 * the drain is being written is saved after it, so the file always ends as the last request left it. */
static void save_drain(struct manager *m)
{
        char path[4200];
        int r;

        if (m->drain_job) {
                m->drain_dirty = true;
                return;
        }
        m->drain_dirty = false;
        drain_path(m, path, sizeof(path));
        if (m->drained) {
                char line[1100];
                snprintf(line, sizeof(line), "%s\n", m->drain_reason ? m->drain_reason : "");
                r = file_write_async(m->event, path, line, strlen(line), 0640, FILE_DURABLE, on_drain_saved, m,
                                     &m->drain_job);
        } else {
                r = file_remove_async(m->event, path, FILE_DURABLE, on_drain_saved, m, &m->drain_job);
        }
        if (r < 0)
                log_err("cannot save the drain state in %s: %s", path, strerror(-r));
}

static json_object *jstr(const char *s)
{
        return s ? json_object_new_string(s) : NULL;
}

static const char *community_of(const struct manager *m)
{
        switch (m->target) {
        case STATE_PRIMARY:
                return m->conf->bgp.community_primary;
        case STATE_SECONDARY:
        case STATE_DEMOTED:
                return m->conf->bgp.community_secondary;
        default:
                return NULL;
        }
}

static double mono_to_age(uint64_t mono)
{
        return mono ? (double)(clock_mono_usec() - mono) / 1e6 : -1;
}

static json_object *status_json(struct manager *m)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "schema", json_object_new_int(1));
        json_object_object_add(o, "version", json_object_new_string(VERSION));
        json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
        json_object_object_add(o, "hostname", json_object_new_string(m->conf->hostname));
        json_object_object_add(o, "role", json_object_new_string(role_name(m->conf->role)));
        json_object_object_add(o, "state", json_object_new_string(m->target == STATE_INVALID ? "starting"
                                                                                              : state_name(m->target)));
        json_object_object_add(o, "applied", jstr(m->applied == STATE_INVALID ? NULL : state_name(m->applied)));
        json_object_object_add(o, "community", jstr(community_of(m)));
        json_object_object_add(o, "reason", json_object_new_string(m->reason));
        json_object_object_add(o, "since", m->target_since > 0 ? json_object_new_double(m->target_since) : NULL);
        json_object_object_add(o, "drained", json_object_new_boolean(m->drained));
        json_object_object_add(o, "drain_reason", jstr(m->drain_reason));

        json_object *cfg = json_object_new_object();
        json_object_object_add(cfg, "path", json_object_new_string(m->conf_path));
        json_object_object_add(cfg, "reload_error", jstr(m->reload_error));
        json_object_object_add(o, "config", cfg);

        json_object *ips = json_object_new_array();
        for (size_t i = 0; i < m->conf->n_shared_ips; i++) {
                const struct prefix *p = &m->conf->shared_ips[i];
                const struct bgpd_network *net = NULL;
                for (size_t j = 0; m->running_valid && j < m->running.n_networks; j++)
                        if (strcmp(m->running.networks[j].prefix, p->text) == 0)
                                net = &m->running.networks[j];
                json_object *e = json_object_new_object();
                json_object_object_add(e, "prefix", json_object_new_string(p->text));
                json_object_object_add(e, "assigned", m->assigned_known ? json_object_new_boolean(m->assigned[i])
                                                                         : NULL);
                /* announced: bgpd sends it to a route server, not merely has the network statement. */
                size_t to;
                char why[96];
                enum bgpd_announcement a = watch_announcement(m, i, &to, why, sizeof(why));
                json_object_object_add(e, "announced", a == ANNOUNCE_UNKNOWN ? NULL
                                                                             : json_object_new_boolean(a == ANNOUNCE_ANNOUNCED));
                json_object_object_add(e, "announcement", jstr(a == ANNOUNCE_UNKNOWN ? NULL : bgpd_announcement_name(a)));
                json_object_object_add(e, "configured", m->running_valid ? json_object_new_boolean(net != NULL) : NULL);
                json_object_object_add(e, "not_announced_why", jstr(why[0] ? why : NULL));
                json_object_object_add(e, "route_servers_sent", a == ANNOUNCE_UNKNOWN ? NULL
                                                                                       : json_object_new_int((int)to));
                json_object_object_add(e, "route_map", jstr(net && net->route_map[0] ? net->route_map : NULL));
                json_object_array_add(ips, e);
        }
        json_object_object_add(o, "shared_ips", ips);

        json_object *checks = json_object_new_array();
        for (size_t i = 0; i < m->n_checks; i++) {
                const struct check_state *s = check_get_state(m->checks[i]);
                const struct check_result *r = check_get_result(m->checks[i]);
                const struct check_conf *cc = check_get_conf(m->checks[i]);
                json_object *e = json_object_new_object();
                json_object_object_add(e, "name", json_object_new_string(check_name(m->checks[i])));
                json_object_object_add(e, "health", json_object_new_string(health_name(s->health)));
                json_object_object_add(e, "severity", json_object_new_string(severity_name(s->severity)));
                json_object_object_add(e, "last_exit", r->runs ? json_object_new_string(r->description) : NULL);
                json_object_object_add(e, "message", r->runs ? json_object_new_string(r->message) : NULL);
                json_object_object_add(e, "last_run_age", r->end_usec ? json_object_new_double(mono_to_age(r->end_usec))
                                                                      : NULL);
                json_object_object_add(e, "duration", r->runs ? json_object_new_double(r->duration_usec / 1e6) : NULL);
                json_object_object_add(e, "interval", json_object_new_double(cc->interval));
                json_object_object_add(e, "rise", json_object_new_int(cc->rise));
                json_object_object_add(e, "fall", json_object_new_int(cc->fall));
                json_object_object_add(e, "ok_streak", json_object_new_int(s->ok_streak));
                json_object_object_add(e, "bad_streak", json_object_new_int(s->bad_streak));
                json_object_array_add(checks, e);
        }
        json_object_object_add(o, "checks", checks);

        json_object *rss = json_object_new_array();
        for (char **rs = m->conf->bgp.route_servers; rs && *rs; rs++) {
                const struct bgpd_peer *p = m->bgpd_reachable ? bgpd_find_peer(&m->bgpd, *rs) : NULL;
                json_object *e = json_object_new_object();
                json_object_object_add(e, "address", json_object_new_string(*rs));
                json_object_object_add(e, "state", jstr(p ? p->state : NULL));
                json_object_object_add(e, "up", json_object_new_boolean(p && p->established));
                json_object_object_add(e, "uptime", p && p->established ? json_object_new_double(p->uptime_msec / 1e3)
                                                                        : NULL);
                json_object_object_add(e, "prefixes_sent", p ? json_object_new_int64((int64_t)p->prefixes_sent) : NULL);
                json_object_object_add(e, "last_reset", jstr(p && p->last_reset[0] ? p->last_reset : NULL));
                json_object_array_add(rss, e);
        }
        json_object_object_add(o, "route_servers", rss);

        json_object *b = json_object_new_object();
        json_object_object_add(b, "reachable", m->bgpd_known ? json_object_new_boolean(m->bgpd_reachable) : NULL);
        json_object_object_add(b, "busy", json_object_new_boolean(m->bgpd_busy));
        json_object_object_add(b, "busy_why", jstr(m->bgpd_busy ? m->bgpd_busy_why : NULL));
        json_object_object_add(b, "slow_polls", json_object_new_int64((int64_t)m->bgpd_busy_total));
        json_object_object_add(b, "revalidations", json_object_new_int64((int64_t)m->revalidate_total));
        json_object_object_add(b, "established", json_object_new_int((int)m->established));
        json_object_object_add(b, "total", json_object_new_int((int)strv_len(m->conf->bgp.route_servers)));
        json_object_object_add(b, "last_apply_ok", json_object_new_boolean(!m->last_apply_error &&
                                                                          m->applied != STATE_INVALID));
        json_object_object_add(b, "last_apply_error", jstr(m->last_apply_error));
        json_object_object_add(b, "last_apply_ms", json_object_new_double(m->last_apply_usec / 1000.0));
        json_object_object_add(o, "bgpd", b);
        json_object_object_add(o, "transitions", json_object_new_int((int)m->transitions));
        return o;
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

static int handler(const char *command, const char *arg, json_object **reply, void *userdata)
{
        struct manager *m = userdata;
        const struct ucred *who = ctl_server_peer(m->ctl);
        long uid = who ? (long)who->uid : -1;

        if (strcmp(command, "status-json") == 0) {
                *reply = status_json(m);
                return 0;
        }
        if (strcmp(command, "drain") == 0) {
                /* Answered from memory; the file follows off the loop (a failure is logged and in STATUS=). */
                free(m->drain_reason);
                m->drained = true;
                m->drain_reason = arg ? strdup(arg) : NULL;
                save_drain(m);
                log_notice("drain requested by uid %ld%s%s", uid, arg ? ": " : "", arg ? arg : "");
                manager_evaluate(m);
                *reply = message("drained%s%s: the shared addresses are withdrawn until failoverctl resume",
                                 arg ? ": " : "", arg ? arg : "");
                return 0;
        }
        if (strcmp(command, "resume") == 0) {
                if (!m->drained) {
                        *reply = refusal("not drained");
                        return 0;
                }
                m->drained = false;
                m->drain_reason = (free(m->drain_reason), NULL);
                save_drain(m);
                log_notice("resume requested by uid %ld", uid);
                manager_evaluate(m);
                *reply = message("resumed: state %s (%s)", state_name(m->target), m->reason);
                return 0;
        }
        if (strcmp(command, "reload") == 0) {
                /* Answered with the outcome, so `failoverctl reload` (the unit's ExecReload=) fails for a
                 * refused config; reading the config here is what SIGHUP does on the loop too. */
                log_info("reload requested by uid %ld", uid);
                int r = manager_reload(m);
                if (r == -ESHUTDOWN) {
                        *reply = refusal("failoverd is stopping");
                        return 0;
                }
                if (r < 0) {
                        *reply = refusal(m->reload_error ? m->reload_error : strerror(-r));
                        return 0;
                }
                *reply = message("reloaded %s", m->conf_path);
                return 0;
        }
        return -EOPNOTSUPP;
}

int control_init(struct manager *m)
{
        char *path = NULL;
        int r;

        load_drain(m);
        /* Now, before the loop runs: a drain is then saved without creating directories. A failure shows
         * when a drain is saved. */
        (void)mkdir_p(m->conf->state_directory, 0750);
        r = mkdir_p(m->conf->runtime_directory, 0750);
        if (r < 0) {
                log_err("cannot create %s: %s", m->conf->runtime_directory, strerror(-r));
                return r;
        }
        r = ctl_socket_path(m->conf->runtime_directory, &path);
        if (r >= 0)
                r = ctl_server_new(m->event, path, handler, m, &m->ctl);
        if (r >= 0)
                control_set_access(m);
        if (r == -EADDRINUSE)
                log_err("%s: another failoverd answers on this control socket", path);
        else if (r < 0)
                log_err("cannot listen on %s: %s", path ? path : m->conf->runtime_directory, strerror(-r));
        free(path);
        return r;
}

void control_set_access(struct manager *m)
{
        if (!m->ctl)
                return;
        int r = ctl_server_set_access(m->ctl, m->conf->control.read_gid, m->conf->control.admin_gid);
        if (r < 0)
                log_err("control socket: cannot set access for control.read_group/admin_group: %s", strerror(-r));
}

/* A running notify hook. It carries its own argv: a reload may free the configuration it came from. */
struct notify_child {
        struct manager *m;
        struct proc *proc;
        char **argv;
};

static struct notify_child *notify_child_free(struct notify_child *n)
{
        if (n) {
                proc_free(n->proc);
                strv_free(n->argv);
                free(n);
        }
        return NULL;
}

static void on_notify_done(struct proc *p, struct proc_result *r, void *userdata)
{
        struct notify_child *n = userdata;
        struct manager *m = n->m;
        char what[160];
        (void)p;

        for (size_t i = 0; i < m->n_notify_children; i++)
                if (m->notify_children[i] == n)
                        m->notify_children[i] = m->notify_children[--m->n_notify_children];
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

/* Runs the notify hook (SPEC 7.5) with the change in its environment; argv only, no shell. */
static void run_notify(struct manager *m)
{
        extern char **environ;
        size_t n = strv_len(environ);
        char **env = calloc(n + 5, sizeof(char *));

        if (!env)
                return;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (strncmp(environ[i], "FAILOVERD_", 10) != 0 && strncmp(environ[i], "NOTIFY_SOCKET=", 14) != 0)
                        env[k++] = strdup(environ[i]);
        env[k++] = env_pair("FAILOVERD_STATE", state_name(m->target));
        env[k++] = env_pair("FAILOVERD_PREVIOUS", m->previous == STATE_INVALID ? "none" : state_name(m->previous));
        env[k++] = env_pair("FAILOVERD_ROLE", role_name(m->conf->role));
        env[k++] = env_pair("FAILOVERD_REASON", m->reason);
        struct notify_child *child = calloc(1, sizeof(*child));
        struct notify_child **v = realloc(m->notify_children, (m->n_notify_children + 1) * sizeof(*v));
        if (v)
                m->notify_children = v;
        if (child)
                child->argv = strv_copy(m->conf->notify);
        if (!v || !child || !child->argv) {
                log_err("cannot run notify %s: %s", m->conf->notify[0], strerror(ENOMEM));
                notify_child_free(child);
                strv_free(env);
                return;
        }
        child->m = m;
        struct proc_opts o = {
                .argv = child->argv,
                .envp = env,
                .timeout_usec = (uint64_t)(m->conf->frr.timeout * 1e6),
                .output_max = 512,
                .first_line_only = true,
        };
        int r = proc_spawn(m->event, &o, on_notify_done, child, &child->proc);
        if (r < 0) {
                log_err("cannot run notify %s: %s", child->argv[0], strerror(-r));
                notify_child_free(child);
        } else {
                m->notify_children[m->n_notify_children++] = child;
        }
        strv_free(env);
}

void control_state_changed(struct manager *m)
{
        if (m->conf->notify)
                run_notify(m);
        control_write_metrics(m);
}

void control_write_metrics(struct manager *m)
{
        struct metrics_check *mc;
        struct metrics_peer *mp;
        size_t nrs = strv_len(m->conf->bgp.route_servers);
        struct buf b;

        if (!m->conf->metrics_file)
                return;
        mc = calloc(m->n_checks + 1, sizeof(*mc));
        mp = calloc(nrs + 1, sizeof(*mp));
        if (!mc || !mp) {
                free(mc);
                free(mp);
                return;
        }
        for (size_t i = 0; i < m->n_checks; i++) {
                const struct check_state *s = check_get_state(m->checks[i]);
                const struct check_result *r = check_get_result(m->checks[i]);
                mc[i] = (struct metrics_check){
                        .name = check_name(m->checks[i]),
                        .health = s->health,
                        .severity = s->severity,
                        .duration_seconds = r->duration_usec / 1e6,
                        .last_exit = r->exited ? r->status : -1,
                        .runs = r->runs,
                };
        }
        for (size_t i = 0; i < nrs; i++) {
                const struct bgpd_peer *p = m->bgpd_reachable ? bgpd_find_peer(&m->bgpd, m->conf->bgp.route_servers[i])
                                                              : NULL;
                mp[i] = (struct metrics_peer){
                        .address = m->conf->bgp.route_servers[i],
                        .up = p && p->established,
                        .uptime_seconds = p && p->established ? p->uptime_msec / 1e3 : 0,
                        .prefixes_sent = p ? p->prefixes_sent : 0,
                };
        }
        struct metrics_prefix *mx = calloc(m->conf->n_shared_ips + 1, sizeof(*mx));
        for (size_t i = 0; mx && i < m->conf->n_shared_ips; i++) {
                size_t to;
                char why[96];
                enum bgpd_announcement a = watch_announcement(m, i, &to, why, sizeof(why));
                mx[i].prefix = m->conf->shared_ips[i].text;
                mx[i].announcement = a == ANNOUNCE_UNKNOWN ? NULL : bgpd_announcement_name(a);
        }
        struct metrics_snapshot snap = {
                .hostname = m->conf->hostname,
                .role = m->conf->role,
                .state = m->target,
                .drained = m->drained,
                .transitions = m->transitions,
                .apply_seconds = m->last_apply_usec / 1e6,
                .last_apply_ok = !m->last_apply_error && m->applied != STATE_INVALID,
                .last_change_timestamp = m->target_since,
                .checks = mc,
                .n_checks = m->n_checks,
                .peers = mp,
                .n_peers = nrs,
                .shared_unassigned = m->n_unassigned,
                .prefixes = mx,
                .n_prefixes = mx ? m->conf->n_shared_ips : 0,
                .bgpd_reachable = m->bgpd_known && m->bgpd_reachable,
                .bgpd_busy = m->bgpd_busy,
                .bgpd_slow_polls = m->bgpd_busy_total,
                .revalidations = m->revalidate_total,
        };
        /* The file's path, a newline, then its text: a reload that moves the file writes it anew. */
        buf_init(&b);
        buf_printf(&b, "%s\n", m->conf->metrics_file);
        size_t head = b.len;
        int r = metrics_render(&snap, &b);
        bool same = r >= 0 && !b.oom && m->metrics_last && strcmp(m->metrics_last, b.data) == 0;
        if (r >= 0 && b.oom)
                r = -ENOMEM;
        if (r >= 0 && !same)
                /* Rewritten when it changes and read by a scraper: atomic, but no fsync on the loop. */
                r = file_write_atomic(m->conf->metrics_file, b.data + head, b.len - head, 0644, 0, NULL);
        if (r < 0)
                log_warn("cannot write %s: %s", m->conf->metrics_file, strerror(-r));
        if (r >= 0 && !same) {
                free(m->metrics_last);
                m->metrics_last = buf_steal(&b);
        }
        buf_free(&b);
        free(mc);
        free(mp);
        free(mx);
}

void control_done(struct manager *m)
{
        /* Stopping: a drain or resume already answered must reach the disk before we exit. */
        for (int i = 0; m->drain_job && i < 3; i++)
                if (!file_job_finish(m->drain_job, 10000))
                        m->drain_job = NULL;    /* cancelled: the disk did not answer in 10 s */
        m->ctl = ctl_server_free(m->ctl);
        m->metrics_last = (free(m->metrics_last), NULL);
        m->reload_defer = sd_event_source_disable_unref(m->reload_defer);
        for (size_t i = 0; i < m->n_notify_children; i++)
                notify_child_free(m->notify_children[i]);
        free(m->notify_children);
        m->notify_children = NULL;
        m->n_notify_children = 0;
}
