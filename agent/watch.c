/* The bgpd watch: sessions, restarts, drift and shared addresses, read from bgpd's vty socket each poll and
 * reported to the manager as events (agent/events.h); it never changes the apply state itself. */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "file.h"
#include "ifaddr.h"
#include "log.h"
#include "proc.h"
#include "vty.h"
#include "vtysock.h"
#include "watch.h"

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

struct watch {
        sd_event *event;
        const struct conf *conf;
        struct agent_sink sink;
        sd_event_source *timer;
        struct vtysock *query;
        struct proc *proc;              /* vtysh fallback */
        char **cmds;                    /* the poll in flight: fixed commands, then one per shared prefix */
        size_t n_cmds;
        char **outputs;                 /* vtysh fallback: replies so far */
        size_t step;
        bool vtysh_mode;                /* FAILOVERD_WATCH=vtysh: read bgpd through vtysh children */
        enum watch_bgpd bgpd;           /* what the last poll found (set_bgpd()) */
        enum watch_bgpd busy_from;      /* WATCH_BGPD_BUSY: what it was before */
        uint64_t busy_total;            /* such polls since the start */
        char busy_why[64];
        long pid;
        struct bgpd_prefix *table;      /* each shared prefix in bgpd's table, as last read */
        char (*table_names)[64];
        size_t n_table;
        uint64_t revalidate_next_usec;  /* CLOCK_MONOTONIC: no report of a stuck prefix before */
        unsigned revalidate_ms;         /* backoff between reports */
        uint64_t revalidate_total;
        struct bgpd_status peers;       /* sessions as last read */
        struct bgpd_running running;    /* network statements as last read */
        bool running_valid;
        size_t established;
        char *warned_router_id;
        bool *assigned;                 /* per shared prefix: on a local interface */
        size_t n_unassigned;
        bool assigned_known;
        char socket_path[512];          /* bgpd's vty socket */
        char pid_path[512];             /* bgpd's pid file: a new pid is a restart */
        bool paths_fixed;               /* set by watch_use_paths(): not derived from frr.pathspace */
};

static const char *const bgpd_names[_WATCH_BGPD_MAX] = {
        [WATCH_BGPD_UNKNOWN] = "unknown",
        [WATCH_BGPD_UP] = "up",
        [WATCH_BGPD_BUSY] = "busy",
        [WATCH_BGPD_GONE] = "gone",
};

/* Once known, never unknown again; the rest goes either way. */
static const bool bgpd_allowed[_WATCH_BGPD_MAX][_WATCH_BGPD_MAX] = {
        [WATCH_BGPD_UNKNOWN] = { [WATCH_BGPD_UP] = true, [WATCH_BGPD_BUSY] = true, [WATCH_BGPD_GONE] = true },
        [WATCH_BGPD_UP] = { [WATCH_BGPD_BUSY] = true, [WATCH_BGPD_GONE] = true },
        [WATCH_BGPD_BUSY] = { [WATCH_BGPD_UP] = true, [WATCH_BGPD_GONE] = true },
        [WATCH_BGPD_GONE] = { [WATCH_BGPD_UP] = true, [WATCH_BGPD_BUSY] = true },
};

const char *watch_bgpd_name(enum watch_bgpd b)
{
        return b >= 0 && b < _WATCH_BGPD_MAX ? bgpd_names[b] : "?";
}

bool watch_bgpd_allowed(enum watch_bgpd from, enum watch_bgpd to)
{
        return from >= 0 && from < _WATCH_BGPD_MAX && to >= 0 && to < _WATCH_BGPD_MAX && bgpd_allowed[from][to];
}

/* The one place bgpd's state changes. */
static void set_bgpd(struct watch *w, enum watch_bgpd to, const char *reason)
{
        if (w->bgpd == to)
                return;
        assert(watch_bgpd_allowed(w->bgpd, to));
        log_info("bgpd: %s -> %s (%s)", bgpd_names[w->bgpd], bgpd_names[to], reason);
        if (to == WATCH_BGPD_BUSY)
                w->busy_from = w->bgpd;
        w->bgpd = to;
}

/* bgpd has answered (or refused) at least once. */
static bool known(const struct watch *w)
{
        return w->bgpd == WATCH_BGPD_UP || w->bgpd == WATCH_BGPD_GONE ||
               (w->bgpd == WATCH_BGPD_BUSY && w->busy_from != WATCH_BGPD_UNKNOWN);
}

/* It answered wholly the last time it answered at all. */
static bool reachable(const struct watch *w)
{
        return w->bgpd == WATCH_BGPD_UP || (w->bgpd == WATCH_BGPD_BUSY && w->busy_from == WATCH_BGPD_UP);
}

static void report(struct watch *w, enum agent_event ev, const char *detail)
{
        w->sink.report(w->sink.userdata, ev, detail);
}

static void schedule(struct watch *w);

static void set_paths(struct watch *w)
{
        const char *ps = w->conf->frr.pathspace;

        if (w->paths_fixed)
                return;
        if (vtysock_path(ps, "bgpd", w->socket_path, sizeof(w->socket_path)) < 0 ||
            vtysock_pid_path(ps, "bgpd", w->pid_path, sizeof(w->pid_path)) < 0) {
                /* frr.pathspace is validated short: this cannot happen */
                log_err("frr.pathspace %s: bgpd's paths are too long", ps);
                w->socket_path[0] = w->pid_path[0] = '\0';
        }
}

static long read_pid(const struct watch *w)
{
        char *text = NULL;
        long pid = 0;

        if (file_read(w->pid_path, 64, &text, NULL) == 0)
                pid = strtol(text, NULL, 10);
        free(text);
        return pid;
}

static void check_addresses(struct watch *w, bool log_all)
{
        size_t n = w->conf->n_shared_ips;
        bool *now = calloc(n ? n : 1, sizeof(*now));

        if (!now)
                return;
        int r = ifaddr_check(w->conf->shared_ips, n, now);
        if (r < 0) {
                free(now);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                bool was = w->assigned_known && w->assigned && w->assigned[i];
                char near[128];
                if (!now[i] && (log_all || !w->assigned_known || was) &&
                    ifaddr_near_miss(&w->conf->shared_ips[i], near, sizeof(near)) > 0)
                        log_err("shared address %s: only %s is inside it: bgpd's import-check needs the connected "
                                "/%d route and will not announce it (add the address with the prefix length, "
                                "/%d)", w->conf->shared_ips[i].text, near, w->conf->shared_ips[i].len,
                                w->conf->shared_ips[i].len);
                else if (!now[i] && (log_all || !w->assigned_known || was))
                        log_err("shared address %s is not assigned to any local interface: bgpd's import-check "
                                "will not announce it (put it on lo)", w->conf->shared_ips[i].text);
                else if (now[i] && w->assigned_known && w->assigned && !w->assigned[i])
                        log_notice("shared address %s is assigned again", w->conf->shared_ips[i].text);
        }
        free(w->assigned);
        w->assigned = now;
        w->n_unassigned = (size_t)r;
        w->assigned_known = true;
}

static const struct bgpd_prefix *table_find(const struct watch *w, const char *prefix)
{
        for (size_t i = 0; i < w->n_table; i++)
                if (strcmp(w->table_names[i], prefix) == 0)
                        return &w->table[i];
        return NULL;
}

static const struct bgpd_network *running_find(const struct watch *w, const char *prefix)
{
        for (size_t j = 0; w->running_valid && j < w->running.n_networks; j++)
                if (strcmp(w->running.networks[j].prefix, prefix) == 0)
                        return &w->running.networks[j];
        return NULL;
}

/* What bgpd does with shared prefix i of the current config (lib/bgpd.h). */
static enum bgpd_announcement announcement_of(const struct watch *w, size_t i, size_t *n_to, char *why, size_t len)
{
        const char *prefix = w->conf->shared_ips[i].text;

        *n_to = 0;
        why[0] = '\0';
        if (!known(w) || !reachable(w) || !w->running_valid)
                return ANNOUNCE_UNKNOWN;
        return bgpd_announcement_of(running_find(w, prefix) != NULL, table_find(w, prefix), w->conf->bgp.route_servers,
                                    &w->peers, n_to, why, len);
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
static void update_peers(struct watch *w, struct bgpd_status *now)
{
        size_t est = 0;

        for (char **rs = w->conf->bgp.route_servers; rs && *rs; rs++) {
                const struct bgpd_peer *n = bgpd_find_peer(now, *rs);
                const struct bgpd_peer *o = bgpd_find_peer(&w->peers, *rs);
                bool up = n && n->established, was = o && o->established;
                if (up)
                        est++;
                if (up && !was)
                        log_peer(LOG_NOTICE, *rs, "route server %s: session up%s", *rs,
                                 known(w) ? "" : " (found established)");
                else if (!up && (was || !known(w))) {
                        char why[256];
                        bgpd_peer_why(n, why, sizeof(why));     /* BFD down, no TCP session, the last reset */
                        log_peer(was ? LOG_WARNING : LOG_INFO, *rs, "route server %s: session %s (%s)%s%s", *rs,
                                 was ? "down" : "not established", n ? n->state : "not configured",
                                 why[0] ? ": " : "", why);
                }
        }
        size_t total = strv_len(w->conf->bgp.route_servers);
        if (est == 0 && total && (w->established > 0 || !known(w)) && w->sink.applied(w->sink.userdata) != STATE_INVALID)
                log_warn("no route-server session is established: this host's announcement reaches nobody");
        w->established = est;
        bgpd_status_clear(&w->peers);
        w->peers = *now;
        memset(now, 0, sizeof(*now));
}

static void check_router_id(struct watch *w, const char *json)
{
        struct bgpd_status s = { 0 };
        unsigned char a[16];

        if (bgpd_parse_router_id(json, &s) < 0 || !s.router_id[0] || inet_pton(AF_INET, s.router_id, a) != 1) {
                bgpd_status_clear(&s);
                return;
        }
        for (size_t i = 0; i < w->conf->n_shared_ips; i++) {
                if (!prefix_host_equal(&w->conf->shared_ips[i], AF_INET, a))
                        continue;
                if (!w->warned_router_id || strcmp(w->warned_router_id, s.router_id) != 0) {
                        log_warn("bgpd's router-id is %s, a shared address: every member of the group has the "
                                 "same router-id; set bgp.router_id (failoverd.conf(5))", s.router_id);
                        free(w->warned_router_id);
                        w->warned_router_id = strdup(s.router_id);
                }
        }
        bgpd_status_clear(&s);
}

/* After a zebra restart a kept network statement can stay "inaccessible" until removed and entered again in
 * one call (docs/frr-facts.md, "zebra restart"); only for addresses on a local interface. */
static bool needs_revalidation(const struct watch *w, size_t i)
{
        const struct prefix *p = &w->conf->shared_ips[i];
        const struct bgpd_prefix *t = table_find(w, p->text);
        return running_find(w, p->text) && t && !t->local_valid && w->assigned_known && w->assigned && w->assigned[i];
}

/* Reports each prefix kept invalid for a second (a statement just entered is validated within
 * milliseconds) to the manager, whose apply queue re-announces it; backs off 1 s doubling to 8 s. */
static void revalidate(struct watch *w)
{
        size_t found = 0;
        uint64_t now = clock_mono_usec();

        for (size_t i = 0; i < w->conf->n_shared_ips; i++)
                found += needs_revalidation(w, i);
        if (!found) {
                w->revalidate_ms = 0;
                w->revalidate_next_usec = 0;
                return;
        }
        if (!w->revalidate_next_usec)
                w->revalidate_next_usec = now + REVALIDATE_MIN_MS * 1000ULL;
        if (now < w->revalidate_next_usec)
                return;
        for (size_t i = 0; i < w->conf->n_shared_ips; i++) {
                const struct prefix *p = &w->conf->shared_ips[i];
                const struct bgpd_prefix *t = table_find(w, p->text);
                if (!needs_revalidation(w, i))
                        continue;
                log_notice("%s is configured but bgpd does not announce it (%s): entering its network statement "
                           "again", p->text, t->local ? "import check: no route to it in zebra" : "not in bgpd's table");
                report(w, EVENT_PREFIX_STUCK, p->text);
        }
        w->revalidate_total++;
        w->revalidate_ms = w->revalidate_ms ? w->revalidate_ms * 2 : REVALIDATE_MIN_MS;
        if (w->revalidate_ms > REVALIDATE_MAX_MS)
                w->revalidate_ms = REVALIDATE_MAX_MS;
        w->revalidate_next_usec = now + w->revalidate_ms * 1000ULL;
}

/* Compares what bgpd originates with what was applied; drift (a hand edit, a restart) is re-applied. */
static void reconcile(struct watch *w)
{
        enum fo_state applied = w->sink.applied(w->sink.userdata);
        if (!w->running_valid || w->sink.busy(w->sink.userdata) || applied == STATE_INVALID)
                return;
        /* Each service on its own: bgpd runs what was applied to it. */
        enum fo_state runs = STATE_INVALID, want = applied;
        size_t s;
        for (s = 0; s < w->conf->n_services; s++) {
                runs = w->running.has_router ? bgpd_service_state(&w->running, w->conf, s) : STATE_INVALID;
                want = w->sink.applied_service ? w->sink.applied_service(w->sink.userdata, s) : applied;
                if (runs != want)
                        break;
        }
        if (s == w->conf->n_services) {
                if (applied != STATE_WITHDRAWN)
                        revalidate(w);
                return;
        }
        log_warn("drift: bgpd runs %s%s%s, failoverd applied %s; re-applying",
                 w->running.has_router ? (runs == STATE_INVALID ? "an inconsistent set of network statements"
                                                                : state_name(runs))
                                       : "no router bgp", w->conf->services_form ? " for service " : "",
                 w->conf->services_form ? w->conf->services[s].name : "", state_name(want));
        report(w, EVENT_DRIFT_SEEN, "drift seen");
}

static void table_clear(struct watch *w)
{
        for (size_t i = 0; i < w->n_table; i++)
                bgpd_prefix_clear(&w->table[i]);
        free(w->table);
        free(w->table_names);
        w->table = NULL;
        w->table_names = NULL;
        w->n_table = 0;
}

/* Keeps what the table says about each prefix queried (cmds[i] is "show bgp AF unicast P json"). */
static void read_table(struct watch *w, char **cmds, char **out, size_t n)
{
        table_clear(w);
        if (n == 0)
                return;
        w->table = calloc(n, sizeof(*w->table));
        w->table_names = calloc(n, sizeof(*w->table_names));
        if (!w->table || !w->table_names) {
                table_clear(w);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                char prefix[64];
                if (sscanf(cmds[i], "show bgp %*s unicast %63s json", prefix) != 1 ||
                    bgpd_parse_prefix(out[i], &w->table[w->n_table]) < 0) {
                        log_debug("cannot parse bgpd's answer to %s", cmds[i]);
                        continue;
                }
                memcpy(w->table_names[w->n_table++], prefix, sizeof(prefix));
        }
}

/* A whole answer to every command of the poll. */
static void read_answer(struct watch *w, char **out)
{
        struct bgpd_status st = { 0 };
        long pid = read_pid(w);

        bool was_busy = w->bgpd == WATCH_BGPD_BUSY;
        if (was_busy)
                log_notice("bgpd answers again after %llu slow poll%s in all (pid %ld%s)",
                           (unsigned long long)w->busy_total, w->busy_total == 1 ? "" : "s", pid,
                           pid && pid == w->pid ? ", unchanged: not a restart" : "");
        if (known(w) && !reachable(w)) {
                log_notice("bgpd answers again: full apply");
                report(w, EVENT_BGPD_BACK, "bgpd answers again");
        } else if (known(w) && w->pid && pid && pid != w->pid) {
                log_notice("bgpd restarted (pid %ld -> %ld): full apply", w->pid, pid);
                report(w, EVENT_BGPD_RESTARTED, "bgpd restarted");
        }
        w->pid = pid;

        if (bgpd_parse_neighbors(out[1], &st) == 0)
                update_peers(w, &st);
        else
                log_debug("cannot parse bgpd's neighbors JSON");
        bgpd_status_clear(&st);
        check_router_id(w, out[2]);
        bgpd_running_clear(&w->running);
        w->running_valid = bgpd_parse_running(out[3], w->conf->bgp.asn, &w->running) == 0;
        read_table(w, w->cmds + N_WATCH_FIXED, out + N_WATCH_FIXED, w->n_cmds - N_WATCH_FIXED);
        set_bgpd(w, WATCH_BGPD_UP, was_busy ? "a whole answer again" : "a whole answer");
        reconcile(w);
}

/* No whole answer, but bgpd did not go away (a full backlog, a slow answer, a hang-up): what it runs is
 * unchanged, so nothing is re-applied; a restart shows as a refused connection or a new pid. */
static void mark_busy(struct watch *w, const char *why)
{
        if (w->bgpd != WATCH_BGPD_BUSY)
                log_warn("bgpd is busy (%s): not a restart, nothing re-applied; retrying", why);
        else
                log_info("bgpd is still busy (%s)", why);
        set_bgpd(w, WATCH_BGPD_BUSY, why);
        w->busy_total++;
        snprintf(w->busy_why, sizeof(w->busy_why), "%s", why);
}

/* bgpd's socket is missing or refuses (or vtysh could not reach it): bgpd is not running. */
static void mark_gone(struct watch *w, const char *why)
{
        if (!known(w) || reachable(w))
                log_warn("bgpd unreachable: %s", why);
        set_bgpd(w, WATCH_BGPD_GONE, why);
        w->established = 0;
        w->running_valid = false;
        report(w, EVENT_BGPD_GONE, why);
}

static void watch_cmds_free(struct watch *w)
{
        for (size_t i = 0; w->outputs && i < w->n_cmds; i++)
                free(w->outputs[i]);
        free(w->outputs);
        strv_free(w->cmds);
        w->outputs = NULL;
        w->cmds = NULL;
        w->n_cmds = 0;
}

/* The commands of one poll: the fixed ones, then one per shared prefix of the current config. */
static int watch_cmds_build(struct watch *w)
{
        size_t n = N_WATCH_FIXED + w->conf->n_shared_ips;

        watch_cmds_free(w);
        w->cmds = calloc(n + 1, sizeof(*w->cmds));
        w->outputs = calloc(n + 1, sizeof(*w->outputs));
        if (!w->cmds || !w->outputs) {
                watch_cmds_free(w);
                return -ENOMEM;
        }
        w->n_cmds = n;
        for (size_t i = 0; i < n; i++) {
                char c[128];
                if (i < N_WATCH_FIXED) {
                        snprintf(c, sizeof(c), "%s", watch_fixed[i]);
                } else {
                        const struct prefix *p = &w->conf->shared_ips[i - N_WATCH_FIXED];
                        snprintf(c, sizeof(c), "show bgp %s unicast %s json", p->family == AF_INET ? "ipv4" : "ipv6",
                                 p->text);
                }
                if (!(w->cmds[i] = strdup(c))) {
                        watch_cmds_free(w);
                        return -ENOMEM;
                }
        }
        return 0;
}

/* A poll ended, whatever its outcome: the manager refreshes status and metrics; the next poll is set. */
static void poll_ended(struct watch *w)
{
        check_addresses(w, false);
        report(w, EVENT_BGPD_READ, NULL);
        schedule(w);
}

static void on_query(struct vtysock *q, int error, char **outputs, const int *status, void *userdata)
{
        struct watch *w = userdata;
        (void)q;

        w->query = NULL;
        if (error == -ENOENT || error == -ECONNREFUSED)
                mark_gone(w, strerror(-error));
        else if (error == -EAGAIN)
                mark_busy(w, "its socket's backlog is full");
        else if (error == -ETIMEDOUT)
                mark_busy(w, "no whole answer in frr.timeout");
        else if (error)
                mark_busy(w, strerror(-error));
        else if (status[1] != 0 || status[3] != 0)
                mark_gone(w, "bgpd refused the show commands");
        else
                read_answer(w, outputs);
        poll_ended(w);
}

/* The vtysh fallback: one child per command (the JSON and the text cannot share one output). */
static void vtysh_next(struct watch *w);

static void on_vtysh(struct proc *p, struct proc_result *r, void *userdata)
{
        struct watch *w = userdata;
        (void)p;

        w->proc = NULL;
        if (!r->exited || r->status != 0) {
                char what[160];
                proc_describe(r, what, sizeof(what));
                for (size_t i = 0; i < w->n_cmds; i++)
                        w->outputs[i] = (free(w->outputs[i]), NULL);
                if (r->timed_out)
                        mark_busy(w, "no whole answer in frr.timeout");
                else
                        mark_gone(w, what);
                poll_ended(w);
                return;
        }
        w->outputs[w->step++] = r->output;
        r->output = NULL;
        vtysh_next(w);
}

static void vtysh_next(struct watch *w)
{
        if (w->step == w->n_cmds) {
                read_answer(w, w->outputs);
                for (size_t i = 0; i < w->n_cmds; i++)
                        w->outputs[i] = (free(w->outputs[i]), NULL);
                poll_ended(w);
                return;
        }
        if (w->step == 0) {       /* "enable" is for the socket only */
                w->outputs[w->step++] = strdup("");
                vtysh_next(w);
                return;
        }
        char **argv = vty_argv_show(w->conf, w->cmds[w->step]);
        struct proc_opts o = {
                .argv = argv,
                .timeout_usec = (uint64_t)(w->conf->frr.timeout * 1e6),
                .output_max = 8 * 1024 * 1024,
        };
        int r = argv ? proc_spawn(w->event, &o, on_vtysh, w, &w->proc) : -ENOMEM;
        strv_free(argv);
        if (r < 0) {
                mark_gone(w, strerror(-r));
                poll_ended(w);
        }
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct watch *w = userdata;
        (void)s;
        (void)usec;

        if (w->query || w->proc)
                return 0;
        int r = watch_cmds_build(w);
        if (r >= 0 && w->vtysh_mode) {
                w->step = 0;
                vtysh_next(w);
                return 0;
        }
        /* The real timeout only: a reply is read to its end (closing mid-reply can crash FRR 10.2-10.3.1). */
        if (r >= 0)
                r = vtysock_query(w->event, w->socket_path, w->cmds, (uint64_t)(w->conf->frr.timeout * 1e6), on_query, w,
                                  &w->query);
        if (r < 0) {
                mark_gone(w, strerror(-r));
                poll_ended(w);
        }
        return 0;
}

static void schedule(struct watch *w)
{
        uint64_t usec = (uint64_t)(w->conf->bgp.poll_interval * 1e6);
        /* While bgpd is away, knock often (a refused connect costs nothing): it gets its config back
         * within a quarter second of answering. */
        if (known(w) && !reachable(w) && usec > 250000)
                usec = 250000;
        /* A busy bgpd is asked again soon, but not hammered. */
        if (w->bgpd == WATCH_BGPD_BUSY && usec > 1000000)
                usec = 1000000;
        if (!w->timer) {
                int r = sd_event_add_time_relative(w->event, &w->timer, CLOCK_MONOTONIC, usec, 10000, on_timer, w);
                if (r < 0)
                        log_err("cannot arm the bgpd watch's timer: %s; bgpd is not watched until the next reload",
                                strerror(-r));
                return;
        }
        sd_event_source_set_time_relative(w->timer, usec);
        sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
}

/* The next read in a moment rather than at the next poll (after an apply, so status is current). */
void watch_soon(struct watch *w)
{
        if (!w->timer || w->query || w->proc)
                return;
        sd_event_source_set_time_relative(w->timer, 50000);
        sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
}

int watch_new(sd_event *e, const struct conf *c, const struct agent_sink *sink, struct watch **ret)
{
        struct watch *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        const char *mode = getenv("FAILOVERD_WATCH");
        w->event = sd_event_ref(e);
        w->conf = c;
        w->sink = *sink;
        w->vtysh_mode = mode && strcmp(mode, "vtysh") == 0;
        set_paths(w);
        w->pid = read_pid(w);
        check_addresses(w, true);
        schedule(w);
        *ret = w;
        return 0;
}

void watch_set_conf(struct watch *w, const struct conf *c)
{
        w->conf = c;
        set_paths(w);
        w->assigned = (free(w->assigned), NULL);
        w->assigned_known = false;
        check_addresses(w, true);
        if (!w->timer)
                schedule(w);    /* arming it failed before */
}

void watch_use_paths(struct watch *w, const char *vty_socket, const char *pid_file)
{
        int a = snprintf(w->socket_path, sizeof(w->socket_path), "%s", vty_socket);
        int b = snprintf(w->pid_path, sizeof(w->pid_path), "%s", pid_file);
        assert(a > 0 && (size_t)a < sizeof(w->socket_path) && b > 0 && (size_t)b < sizeof(w->pid_path));
        w->paths_fixed = true;
        w->pid = read_pid(w);
}

bool watch_withdrawal_sent(const struct watch *w)
{
        if (w->bgpd != WATCH_BGPD_UP || !w->running_valid)
                return false;
        for (size_t i = 0; i < w->conf->n_shared_ips; i++) {
                const char *p = w->conf->shared_ips[i].text;
                const struct bgpd_prefix *t = table_find(w, p);
                if (running_find(w, p))
                        return false;
                for (char *const *rs = w->conf->bgp.route_servers; t && rs && *rs; rs++)
                        if (bgpd_prefix_advertised_to(t, *rs))
                                return false;
        }
        return true;
}

void watch_snapshot(const struct watch *w, struct snapshot *s)
{
        const struct conf *c = w->conf;
        size_t nrs = strv_len(c->bgp.route_servers);

        s->bgpd_known = known(w);
        s->bgpd_reachable = reachable(w);
        s->bgpd_busy = w->bgpd == WATCH_BGPD_BUSY;
        s->bgpd_busy_why = w->busy_why;
        s->bgpd_slow_polls = w->busy_total;
        s->revalidations = w->revalidate_total;
        s->established = w->established;
        s->n_unassigned = w->n_unassigned;
        s->prefixes = calloc(c->n_shared_ips + 1, sizeof(*s->prefixes));
        s->peers = calloc(nrs + 1, sizeof(*s->peers));
        for (size_t i = 0; s->prefixes && i < c->n_shared_ips; i++) {
                struct snapshot_prefix *p = &s->prefixes[i];
                const struct bgpd_network *net = running_find(w, c->shared_ips[i].text);
                p->prefix = c->shared_ips[i].text;
                p->assigned = w->assigned_known && w->assigned ? w->assigned[i] : -1;
                p->announcement = announcement_of(w, i, &p->sent_to, p->why, sizeof(p->why));
                p->configured = w->running_valid ? net != NULL : -1;
                p->route_map = net && net->route_map[0] ? net->route_map : NULL;
        }
        s->n_prefixes = s->prefixes ? c->n_shared_ips : 0;
        for (size_t i = 0; s->peers && i < nrs; i++) {
                s->peers[i].address = c->bgp.route_servers[i];
                s->peers[i].peer = reachable(w) ? bgpd_find_peer(&w->peers, c->bgp.route_servers[i]) : NULL;
        }
        s->n_peers = s->peers ? nrs : 0;
}

struct watch *watch_free(struct watch *w)
{
        if (!w)
                return NULL;
        w->timer = sd_event_source_disable_unref(w->timer);
        w->query = vtysock_free(w->query);
        w->proc = proc_free(w->proc);
        watch_cmds_free(w);
        table_clear(w);
        bgpd_status_clear(&w->peers);
        bgpd_running_clear(&w->running);
        free(w->warned_router_id);
        free(w->assigned);
        sd_event_unref(w->event);
        free(w);
        return NULL;
}
