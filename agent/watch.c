/* The bgpd watch (SPEC 7.4, 6 reconcile, 9.4, 9.5): sessions, restarts, drift and shared addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "check.h"
#include "clock.h"
#include "daemon.h"
#include "file.h"
#include "ifaddr.h"
#include "log.h"
#include "proc.h"
#include "vty.h"
#include "vtysock.h"

/* "enable" first: a fresh vty connection may run show commands, but not show running-config (measured).
 * Then one `show bgp <af> unicast P json` per shared prefix: what bgpd really sends, not what it was told. */
static const char *const watch_fixed[] = {
        "enable",
        "show bgp neighbors json",
        "show bgp summary json",
        "show running-config",
};
#define N_WATCH_FIXED 4
#define REVALIDATE_MIN_MS 1000
#define REVALIDATE_MAX_MS 8000

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

static const struct bgpd_prefix *table_find(const struct manager *m, const char *prefix)
{
        for (size_t i = 0; i < m->n_table; i++)
                if (strcmp(m->table_names[i], prefix) == 0)
                        return &m->table[i];
        return NULL;
}

static const struct bgpd_network *running_find(const struct manager *m, const char *prefix)
{
        for (size_t j = 0; m->running_valid && j < m->running.n_networks; j++)
                if (strcmp(m->running.networks[j].prefix, prefix) == 0)
                        return &m->running.networks[j];
        return NULL;
}

enum bgpd_announcement watch_announcement(const struct manager *m, size_t i, size_t *n_to, char *why, size_t len)
{
        const char *prefix = m->conf->shared_ips[i].text;

        *n_to = 0;
        why[0] = '\0';
        if (!m->bgpd_known || !m->bgpd_reachable || !m->running_valid)
                return ANNOUNCE_UNKNOWN;
        return bgpd_announcement_of(running_find(m, prefix) != NULL, table_find(m, prefix), m->conf->bgp.route_servers,
                                    &m->bgpd, n_to, why, len);
}

void watch_status_line(const struct manager *m, char *out, size_t len)
{
        size_t announced = 0, configured = 0;
        char why[96];

        for (size_t i = 0; i < m->conf->n_shared_ips; i++) {
                size_t to;
                switch (watch_announcement(m, i, &to, why, sizeof(why))) {
                case ANNOUNCE_ANNOUNCED:
                        announced++;
                        break;
                case ANNOUNCE_CONFIGURED:
                        configured++;
                        break;
                default:
                        break;
                }
        }
        if (!m->bgpd_known)
                snprintf(out, len, "; route servers: not read yet");
        else if (!m->bgpd_reachable)
                snprintf(out, len, "; bgpd unreachable, retrying");
        else
                snprintf(out, len, "; route servers %zu/%zu established", m->established,
                         strv_len(m->conf->bgp.route_servers));
        if (m->bgpd_busy)
                snprintf(out + strlen(out), len - strlen(out), "; bgpd busy (%s, %llu slow polls), retrying",
                         m->bgpd_busy_why, (unsigned long long)m->bgpd_busy_total);
        if (configured)
                snprintf(out + strlen(out), len - strlen(out), "; %zu prefix%s configured but NOT announced",
                         configured, configured == 1 ? "" : "es");
        else if (announced)
                snprintf(out + strlen(out), len - strlen(out), "; %zu prefix%s announced", announced,
                         announced == 1 ? "" : "es");
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

static void on_revalidated(struct vtysock *q, int error, char **outputs, const int *status, void *userdata)
{
        struct manager *m = userdata;
        (void)q;

        m->revalidate_query = NULL;
        for (size_t i = 0; !error && outputs[i]; i++)
                if (status[i] != 0) {
                        log_warn("re-entering the network statements: bgpd refused a command: %s", outputs[i]);
                        break;
                }
        if (error)
                log_warn("re-entering the network statements: %s", strerror(-error));
        watch_soon(m);
}

/* FRR 8.4.4 after a zebra restart: a network statement entered again in a later call stays "inaccessible"
 * (its import-check entry is never registered with the new zebra); removing and entering it in one call
 * registers it anew (docs/frr-facts.md, "zebra restart"). Only for prefixes on a local interface: without
 * the address the import check is right. */
static bool needs_revalidation(const struct manager *m, size_t i)
{
        const struct prefix *p = &m->conf->shared_ips[i];
        const struct bgpd_prefix *t = table_find(m, p->text);
        return running_find(m, p->text) && t && !t->local_valid && m->assigned_known && m->assigned && m->assigned[i];
}

static void revalidate(struct manager *m)
{
        char *cmds[256 + 1], text[4][160];
        size_t n = 0, found = 0;
        uint64_t now = clock_mono_usec();

        for (size_t i = 0; i < m->conf->n_shared_ips; i++)
                found += needs_revalidation(m, i);
        if (!found) {
                m->revalidate_ms = 0;
                m->revalidate_next_usec = 0;
                return;
        }
        /* A statement just entered is validated within milliseconds: only one invalid for a second counts. */
        if (!m->revalidate_next_usec)
                m->revalidate_next_usec = now + REVALIDATE_MIN_MS * 1000ULL;
        if (m->revalidate_query || now < m->revalidate_next_usec)
                return;
        found = 0;
        for (size_t i = 0; i < m->conf->n_shared_ips && n + 8 < 256; i++) {
                const struct prefix *p = &m->conf->shared_ips[i];
                const struct bgpd_network *net = running_find(m, p->text);
                const struct bgpd_prefix *t = table_find(m, p->text);
                if (!needs_revalidation(m, i))
                        continue;
                if (found++ == 0) {
                        cmds[n++] = strdup("enable");
                        cmds[n++] = strdup("configure terminal");
                        snprintf(text[0], sizeof(text[0]), "router bgp %lld", m->conf->bgp.asn);
                        cmds[n++] = strdup(text[0]);
                }
                snprintf(text[1], sizeof(text[1]), "address-family %s unicast", p->family == AF_INET ? "ipv4" : "ipv6");
                snprintf(text[2], sizeof(text[2]), "no network %s", p->text);
                if (net->route_map[0])
                        snprintf(text[3], sizeof(text[3]), "network %s route-map %s", p->text, net->route_map);
                else
                        snprintf(text[3], sizeof(text[3]), "network %s", p->text);
                cmds[n++] = strdup(text[1]);
                cmds[n++] = strdup(text[2]);
                cmds[n++] = strdup(text[3]);
                cmds[n++] = strdup("exit-address-family");
                log_notice("%s is configured but bgpd does not announce it (%s): entering its network statement "
                           "again", p->text, t->local ? "import check: no route to it in zebra" : "not in bgpd's table");
        }
        cmds[n++] = strdup("end");
        cmds[n] = NULL;
        bool oom = false;
        for (size_t i = 0; i < n; i++)
                oom |= !cmds[i];
        char path[512];
        int r = oom ? -ENOMEM : vtysock_path(m->conf->frr.pathspace, "bgpd", path, sizeof(path));
        if (r >= 0)
                r = vtysock_query(m->event, path, cmds, (uint64_t)(m->conf->frr.timeout * 1e6), on_revalidated, m,
                                  &m->revalidate_query);
        for (size_t i = 0; i < n; i++)
                free(cmds[i]);
        if (r < 0)
                log_warn("cannot re-enter the network statements: %s", strerror(-r));
        m->revalidate_total++;
        m->revalidate_ms = m->revalidate_ms ? m->revalidate_ms * 2 : REVALIDATE_MIN_MS;
        if (m->revalidate_ms > REVALIDATE_MAX_MS)
                m->revalidate_ms = REVALIDATE_MAX_MS;
        m->revalidate_next_usec = now + m->revalidate_ms * 1000ULL;
}

/* Compares what bgpd originates with what was applied; drift (a hand edit, a restart) is re-applied. */
static void reconcile(struct manager *m)
{
        if (!m->running_valid || manager_busy(m) || m->applied == STATE_INVALID)
                return;
        enum fo_state runs = m->running.has_router ? bgpd_service_state(&m->running, m->conf, 0) : STATE_INVALID;
        if (runs == m->applied) {
                if (runs != STATE_WITHDRAWN)
                        revalidate(m);
                return;
        }
        log_warn("drift: bgpd runs %s, failoverd applied %s; re-applying",
                 m->running.has_router ? (runs == STATE_INVALID ? "an inconsistent set of network statements"
                                                                : state_name(runs))
                                       : "no router bgp", state_name(m->applied));
        m->applied = STATE_INVALID;
        manager_request_full(m);
}

static void table_clear(struct manager *m)
{
        for (size_t i = 0; i < m->n_table; i++)
                bgpd_prefix_clear(&m->table[i]);
        free(m->table);
        free(m->table_names);
        m->table = NULL;
        m->table_names = NULL;
        m->n_table = 0;
}

/* Keeps what the table says about each prefix queried (cmds[i] is "show bgp AF unicast P json"). */
static void read_table(struct manager *m, char **cmds, char **out, size_t n)
{
        table_clear(m);
        if (n == 0)
                return;
        m->table = calloc(n, sizeof(*m->table));
        m->table_names = calloc(n, sizeof(*m->table_names));
        if (!m->table || !m->table_names) {
                table_clear(m);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                char prefix[64];
                if (sscanf(cmds[i], "show bgp %*s unicast %63s json", prefix) != 1 ||
                    bgpd_parse_prefix(out[i], &m->table[m->n_table]) < 0) {
                        log_debug("cannot parse bgpd's answer to %s", cmds[i]);
                        continue;
                }
                memcpy(m->table_names[m->n_table++], prefix, sizeof(prefix));
        }
}

static void answered(struct manager *m, char **out)
{
        struct bgpd_status st = { 0 };
        long pid = read_pid(m);

        if (m->bgpd_busy)
                log_notice("bgpd answers again after %llu slow poll%s in all (pid %ld%s)",
                           (unsigned long long)m->bgpd_busy_total, m->bgpd_busy_total == 1 ? "" : "s", pid,
                           pid && pid == m->bgpd_pid ? ", unchanged: not a restart" : "");
        m->bgpd_busy = false;
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
        read_table(m, m->watch_cmds + N_WATCH_FIXED, out + N_WATCH_FIXED, m->watch_n - N_WATCH_FIXED);
        m->bgpd_known = true;
        reconcile(m);
}

/* No whole answer, but bgpd did not go away (a full backlog, a slow answer, a hang-up): what it runs is
 * unchanged, so nothing is re-applied; a restart shows as a refused connection or a new pid. */
static void busy(struct manager *m, const char *why)
{
        if (!m->bgpd_busy)
                log_warn("bgpd is busy (%s): not a restart, nothing re-applied; retrying", why);
        else
                log_info("bgpd is still busy (%s)", why);
        m->bgpd_busy = true;
        m->bgpd_busy_total++;
        snprintf(m->bgpd_busy_why, sizeof(m->bgpd_busy_why), "%s", why);
}

static void unreachable(struct manager *m, const char *why)
{
        if (!m->bgpd_known || m->bgpd_reachable)
                log_warn("bgpd unreachable: %s", why);
        m->bgpd_known = true;
        m->bgpd_reachable = false;
        m->bgpd_busy = false;
        m->established = 0;
        m->running_valid = false;
}

static void watch_cmds_free(struct manager *m)
{
        for (size_t i = 0; m->watch_outputs && i < m->watch_n; i++)
                free(m->watch_outputs[i]);
        free(m->watch_outputs);
        strv_free(m->watch_cmds);
        m->watch_outputs = NULL;
        m->watch_cmds = NULL;
        m->watch_n = 0;
}

/* The commands of one poll: the fixed ones, then one per shared prefix of the current config. */
static int watch_cmds_build(struct manager *m)
{
        size_t n = N_WATCH_FIXED + m->conf->n_shared_ips;

        watch_cmds_free(m);
        m->watch_cmds = calloc(n + 1, sizeof(*m->watch_cmds));
        m->watch_outputs = calloc(n + 1, sizeof(*m->watch_outputs));
        if (!m->watch_cmds || !m->watch_outputs) {
                watch_cmds_free(m);
                return -ENOMEM;
        }
        m->watch_n = n;
        for (size_t i = 0; i < n; i++) {
                char c[128];
                if (i < N_WATCH_FIXED) {
                        snprintf(c, sizeof(c), "%s", watch_fixed[i]);
                } else {
                        const struct prefix *p = &m->conf->shared_ips[i - N_WATCH_FIXED];
                        snprintf(c, sizeof(c), "show bgp %s unicast %s json", p->family == AF_INET ? "ipv4" : "ipv6",
                                 p->text);
                }
                if (!(m->watch_cmds[i] = strdup(c))) {
                        watch_cmds_free(m);
                        return -ENOMEM;
                }
        }
        return 0;
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
        if (error == -ENOENT || error == -ECONNREFUSED)
                unreachable(m, strerror(-error));
        else if (error == -EAGAIN)
                busy(m, "its socket's backlog is full");
        else if (error == -ETIMEDOUT)
                busy(m, "no whole answer in frr.timeout");
        else if (error)
                busy(m, strerror(-error));
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
                for (size_t i = 0; i < m->watch_n; i++)
                        m->watch_outputs[i] = (free(m->watch_outputs[i]), NULL);
                if (r->timed_out)
                        busy(m, "no whole answer in frr.timeout");
                else
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
        if (m->watch_step == m->watch_n) {
                answered(m, m->watch_outputs);
                for (size_t i = 0; i < m->watch_n; i++)
                        m->watch_outputs[i] = (free(m->watch_outputs[i]), NULL);
                finish_watch(m);
                return;
        }
        if (m->watch_step == 0) {       /* "enable" is for the socket only */
                m->watch_outputs[m->watch_step++] = strdup("");
                vtysh_next(m);
                return;
        }
        char **argv = vty_argv_show(m->conf, m->watch_cmds[m->watch_step]);
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
        int r = watch_cmds_build(m);
        if (r >= 0 && m->watch_vtysh) {
                m->watch_step = 0;
                vtysh_next(m);
                return 0;
        }
        if (r >= 0)
                r = vtysock_path(m->conf->frr.pathspace, "bgpd", path, sizeof(path));
        /* The real timeout only: a reply is read to its end (closing mid-reply can crash FRR 10.2-10.3.1). */
        if (r >= 0)
                r = vtysock_query(m->event, path, m->watch_cmds, (uint64_t)(m->conf->frr.timeout * 1e6), on_query, m,
                                  &m->watch_query);
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
        /* A busy bgpd is asked again soon, but not hammered. */
        if (m->bgpd_busy && usec > 1000000)
                usec = 1000000;
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
        m->revalidate_query = vtysock_free(m->revalidate_query);
        watch_cmds_free(m);
        table_clear(m);
        bgpd_status_clear(&m->bgpd);
        bgpd_running_clear(&m->running);
        free(m->warned_router_id);
        free(m->assigned);
}
