/* The bgpd watch (SPEC 7.4, 6 reconcile, 9.4, 9.5): sessions, restarts, drift and shared addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "check.h"
#include "daemon.h"
#include "file.h"
#include "ifaddr.h"
#include "log.h"
#include "proc.h"
#include "vty.h"
#include "vtysock.h"

#define WATCH_TIMEOUT_USEC (5 * 1000000ULL)

/* "enable" first: a fresh vty connection may run show commands, but not show running-config (measured). */
static char *const watch_cmds[] = {
        (char *)"enable",
        (char *)"show bgp neighbors json",
        (char *)"show bgp summary json",
        (char *)"show running-config",
        NULL,
};
#define N_WATCH_CMDS 4

static void schedule(struct manager *m);

static long read_pid(const struct manager *m)
{
        char path[512], *text = NULL;
        long pid = 0;
        const char *ps = m->conf->frr.pathspace;

        snprintf(path, sizeof(path), "/var/run/frr%s%s/bgpd.pid", *ps ? "/" : "", ps);
        if (file_read(path, 64, &text, NULL) == 0)
                pid = strtol(text, NULL, 10);
        free(text);
        return pid;
}

void watch_check_addresses(struct manager *m, bool log_all)
{
        size_t n = m->conf->n_shared_ips;
        bool *now = calloc(n ? n : 1, sizeof(*now));

        if (!now)
                return;
        int r = ifaddr_check(m->conf->shared_ips, n, now);
        if (r < 0) {
                free(now);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                bool was = m->assigned_known && m->assigned && m->assigned[i];
                if (!now[i] && (log_all || !m->assigned_known || was))
                        log_err("shared address %s is not assigned to any local interface: bgpd's import-check "
                                "will not announce it (put it on lo)", m->conf->shared_ips[i].text);
                else if (now[i] && m->assigned_known && m->assigned && !m->assigned[i])
                        log_notice("shared address %s is assigned again", m->conf->shared_ips[i].text);
        }
        free(m->assigned);
        m->assigned = now;
        m->n_unassigned = (size_t)r;
        m->assigned_known = true;
}

void watch_status_line(const struct manager *m, char *out, size_t len)
{
        if (!m->bgpd_known)
                snprintf(out, len, "; route servers: not read yet");
        else if (!m->bgpd_reachable)
                snprintf(out, len, "; bgpd unreachable, retrying");
        else
                snprintf(out, len, "; route servers %zu/%zu established", m->established,
                         strv_len(m->conf->bgp.route_servers));
        if (m->n_unassigned)
                snprintf(out + strlen(out), len - strlen(out), "; %zu shared address%s not on any interface",
                         m->n_unassigned, m->n_unassigned == 1 ? "" : "es");
}

static void log_peer(int level, const char *address, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void log_peer(int level, const char *address, const char *fmt, ...)
{
        char f[96], msg[512];
        va_list ap;
        snprintf(f, sizeof(f), "FAILOVERD_PEER=%s", address);
        const char *fields[] = { f, NULL };
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        log_fields(level, fields, "%s", msg);
}

/* Logs session transitions against the previous read; keeps the new one. */
static void update_peers(struct manager *m, struct bgpd_status *now)
{
        size_t est = 0;

        for (char **rs = m->conf->bgp.route_servers; rs && *rs; rs++) {
                const struct bgpd_peer *n = bgpd_find_peer(now, *rs);
                const struct bgpd_peer *o = bgpd_find_peer(&m->bgpd, *rs);
                bool up = n && n->established, was = o && o->established;
                if (up)
                        est++;
                if (up && !was)
                        log_peer(LOG_NOTICE, *rs, "route server %s: session up%s", *rs,
                                 m->bgpd_known ? "" : " (found established)");
                else if (!up && (was || !m->bgpd_known))
                        log_peer(was ? LOG_WARNING : LOG_INFO, *rs, "route server %s: session %s (%s)%s%s", *rs,
                                 was ? "down" : "not established", n ? n->state : "not configured",
                                 n && n->last_reset[0] ? ", last reset: " : "", n ? n->last_reset : "");
        }
        size_t total = strv_len(m->conf->bgp.route_servers);
        if (est == 0 && total && (m->established > 0 || !m->bgpd_known) && m->applied != STATE_INVALID)
                log_warn("no route-server session is established: this host's announcement reaches nobody");
        m->established = est;
        bgpd_status_clear(&m->bgpd);
        m->bgpd = *now;
        memset(now, 0, sizeof(*now));
}

static void check_router_id(struct manager *m, const char *json)
{
        struct bgpd_status s = { 0 };
        unsigned char a[16];

        if (bgpd_parse_router_id(json, &s) < 0 || !s.router_id[0] || inet_pton(AF_INET, s.router_id, a) != 1) {
                bgpd_status_clear(&s);
                return;
        }
        for (size_t i = 0; i < m->conf->n_shared_ips; i++) {
                if (!prefix_host_equal(&m->conf->shared_ips[i], AF_INET, a))
                        continue;
                if (!m->warned_router_id || strcmp(m->warned_router_id, s.router_id) != 0) {
                        log_warn("bgpd's router-id is %s, a shared address: every member of the group has the "
                                 "same router-id; set bgp.router_id (SPEC 9.4)", s.router_id);
                        free(m->warned_router_id);
                        m->warned_router_id = strdup(s.router_id);
                }
        }
        bgpd_status_clear(&s);
}

/* Compares what bgpd originates with what was applied; drift (a hand edit, a restart) is re-applied. */
static void reconcile(struct manager *m)
{
        if (!m->running_valid || manager_busy(m) || m->applied == STATE_INVALID)
                return;
        enum fo_state runs = m->running.has_router ? bgpd_service_state(&m->running, m->conf, 0) : STATE_INVALID;
        if (runs == m->applied)
                return;
        log_warn("drift: bgpd runs %s, failoverd applied %s; re-applying",
                 m->running.has_router ? (runs == STATE_INVALID ? "an inconsistent set of network statements"
                                                                : state_name(runs))
                                       : "no router bgp", state_name(m->applied));
        m->applied = STATE_INVALID;
        manager_request_full(m);
}

static void answered(struct manager *m, char **out)
{
        struct bgpd_status st = { 0 };
        long pid = read_pid(m);

        if (m->bgpd_known && !m->bgpd_reachable) {
                log_notice("bgpd answers again: full apply");
                m->bgpd_reachable = true;
                m->applied = STATE_INVALID;
                manager_request_full(m);
        } else if (m->bgpd_known && m->bgpd_pid && pid && pid != m->bgpd_pid) {
                log_notice("bgpd restarted (pid %ld -> %ld): full apply", m->bgpd_pid, pid);
                m->applied = STATE_INVALID;
                manager_request_full(m);
        }
        m->bgpd_pid = pid;
        m->bgpd_reachable = true;

        if (bgpd_parse_neighbors(out[1], &st) == 0)
                update_peers(m, &st);
        else
                log_debug("cannot parse bgpd's neighbors JSON");
        bgpd_status_clear(&st);
        check_router_id(m, out[2]);
        bgpd_running_clear(&m->running);
        m->running_valid = bgpd_parse_running(out[3], m->conf->bgp.asn, &m->running) == 0;
        m->bgpd_known = true;
        reconcile(m);
}

static void unreachable(struct manager *m, const char *why)
{
        if (!m->bgpd_known || m->bgpd_reachable)
                log_warn("bgpd unreachable: %s", why);
        m->bgpd_known = true;
        m->bgpd_reachable = false;
        m->established = 0;
        m->running_valid = false;
}

static void finish_watch(struct manager *m)
{
        watch_check_addresses(m, false);
        manager_update_status(m);
        control_write_metrics(m);
        schedule(m);
}

static void on_query(struct vtysock *q, int error, char **outputs, const int *status, void *userdata)
{
        struct manager *m = userdata;
        (void)q;

        m->watch_query = NULL;
        if (error)
                unreachable(m, strerror(-error));
        else if (status[1] != 0 || status[3] != 0)
                unreachable(m, "bgpd refused the show commands");
        else
                answered(m, outputs);
        finish_watch(m);
}

/* The vtysh fallback: one child per command (the JSON and the text cannot share one output). */
static void vtysh_next(struct manager *m);

static void on_vtysh(struct proc *p, struct proc_result *r, void *userdata)
{
        struct manager *m = userdata;
        (void)p;

        m->watch_proc = NULL;
        if (!r->exited || r->status != 0) {
                char what[160];
                proc_describe(r, what, sizeof(what));
                for (size_t i = 0; i < N_WATCH_CMDS; i++)
                        m->watch_outputs[i] = (free(m->watch_outputs[i]), NULL);
                unreachable(m, what);
                finish_watch(m);
                return;
        }
        m->watch_outputs[m->watch_step++] = r->output;
        r->output = NULL;
        vtysh_next(m);
}

static void vtysh_next(struct manager *m)
{
        if (m->watch_step == N_WATCH_CMDS) {
                answered(m, m->watch_outputs);
                for (size_t i = 0; i < N_WATCH_CMDS; i++)
                        m->watch_outputs[i] = (free(m->watch_outputs[i]), NULL);
                finish_watch(m);
                return;
        }
        if (m->watch_step == 0) {       /* "enable" is for the socket only */
                m->watch_outputs[m->watch_step++] = strdup("");
                vtysh_next(m);
                return;
        }
        char **argv = vty_argv_show(m->conf, watch_cmds[m->watch_step]);
        struct proc_opts o = {
                .argv = argv,
                .timeout_usec = (uint64_t)(m->conf->frr.timeout * 1e6),
                .output_max = 8 * 1024 * 1024,
        };
        int r = argv ? proc_spawn(m->event, &o, on_vtysh, m, &m->watch_proc) : -ENOMEM;
        strv_free(argv);
        if (r < 0) {
                unreachable(m, strerror(-r));
                finish_watch(m);
        }
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct manager *m = userdata;
        char path[512];
        (void)s;
        (void)usec;

        if (m->watch_query || m->watch_proc)
                return 0;
        if (m->watch_vtysh) {
                m->watch_step = 0;
                vtysh_next(m);
                return 0;
        }
        int r = vtysock_path(m->conf->frr.pathspace, "bgpd", path, sizeof(path));
        if (r >= 0)
                r = vtysock_query(m->event, path, watch_cmds, WATCH_TIMEOUT_USEC, on_query, m, &m->watch_query);
        if (r < 0) {
                unreachable(m, strerror(-r));
                finish_watch(m);
        }
        return 0;
}

static void schedule(struct manager *m)
{
        uint64_t usec = (uint64_t)(m->conf->bgp.poll_interval * 1e6);
        /* While bgpd is away, knock often (a refused connect costs nothing): it gets its config back
         * within a quarter second of answering. */
        if (m->bgpd_known && !m->bgpd_reachable && usec > 250000)
                usec = 250000;
        if (!m->watch_timer) {
                sd_event_add_time_relative(m->event, &m->watch_timer, CLOCK_MONOTONIC, usec, 10000, on_timer, m);
                return;
        }
        sd_event_source_set_time_relative(m->watch_timer, usec);
        sd_event_source_set_enabled(m->watch_timer, SD_EVENT_ONESHOT);
}

/* The next read in a moment rather than at the next poll (after an apply, so status is current). */
void watch_soon(struct manager *m)
{
        if (!m->watch_timer || m->watch_query || m->watch_proc)
                return;
        sd_event_source_set_time_relative(m->watch_timer, 50000);
        sd_event_source_set_enabled(m->watch_timer, SD_EVENT_ONESHOT);
}

int watch_init(struct manager *m)
{
        const char *mode = getenv("FAILOVERD_WATCH");
        m->watch_vtysh = mode && strcmp(mode, "vtysh") == 0;
        m->bgpd_pid = read_pid(m);
        watch_check_addresses(m, true);
        schedule(m);
        return 0;
}

void watch_done(struct manager *m)
{
        m->watch_timer = sd_event_source_disable_unref(m->watch_timer);
        m->watch_query = vtysock_free(m->watch_query);
        m->watch_proc = proc_free(m->watch_proc);
        for (size_t i = 0; i < N_WATCH_CMDS; i++)
                m->watch_outputs[i] = (free(m->watch_outputs[i]), NULL);
        bgpd_status_clear(&m->bgpd);
        bgpd_running_clear(&m->running);
        free(m->warned_router_id);
        free(m->assigned);
}
