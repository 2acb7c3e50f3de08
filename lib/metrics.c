/* The Prometheus textfile (docs/metrics.md) rendered from a snapshot of the daemon's state: pure, testable. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

/* Shortest text that reads back as the same double; Prometheus spells the specials NaN, +Inf, -Inf. */
static void fmt_double(char *out, size_t size, double v)
{
        if (isnan(v)) {
                snprintf(out, size, "NaN");
                return;
        }
        if (isinf(v)) {
                snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
                return;
        }
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(out, size, "%.*g", prec, v);
                if (strtod(out, NULL) == v)
                        return;
        }
}

/* Label values: the exposition format escapes exactly backslash, double quote and line feed. */
static void put_label_value(struct buf *b, const char *s)
{
        for (const char *p = s ? s : ""; *p; p++) {
                if (*p == '\\')
                        buf_puts(b, "\\\\");
                else if (*p == '"')
                        buf_puts(b, "\\\"");
                else if (*p == '\n')
                        buf_puts(b, "\\n");
                else
                        buf_append(b, p, 1);
        }
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
        buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{ and the group label when there is one (every series carries it); with_more: a label follows. Returns
 * whether a brace was opened. */
static bool open_labels(struct buf *b, const char *name, const char *group, bool with_more)
{
        buf_puts(b, name);
        if (!group && !with_more)
                return false;
        buf_puts(b, "{");
        if (group) {
                buf_puts(b, "group=\"");
                put_label_value(b, group);
                buf_puts(b, with_more ? "\"," : "\"");
        }
        return true;
}

/* name{[group="G",]label="value"} (no braces when neither), then the value is appended by the caller. */
static void series(struct buf *b, const char *group, const char *name, const char *label, const char *value)
{
        if (open_labels(b, name, group, label != NULL)) {
                if (label) {
                        buf_printf(b, "%s=\"", label);
                        put_label_value(b, value);
                        buf_puts(b, "\"");
                }
                buf_puts(b, "}");
        }
        buf_puts(b, " ");
}

static void sample_u(struct buf *b, const char *group, const char *name, const char *label, const char *lv,
                     uint64_t v)
{
        series(b, group, name, label, lv);
        buf_printf(b, "%" PRIu64 "\n", v);
}

static void sample_d(struct buf *b, const char *group, const char *name, const char *label, const char *lv,
                     double v)
{
        char num[40];
        fmt_double(num, sizeof(num), v);
        series(b, group, name, label, lv);
        buf_printf(b, "%s\n", num);
}

static const char *str(const char *s)
{
        return s ? s : "";
}

static const char *check_name(const void *c)
{
        return str(((const struct metrics_check *)c)->name);
}

static const char *peer_address(const void *p)
{
        return str(((const struct metrics_peer *)p)->address);
}

static int check_cmp(const void *x, const void *y)
{
        const void *const *a = x, *const *b = y;
        int c = strcmp(check_name(*a), check_name(*b));
        /* Same name: the caller's order (elements of one array), so the first one given wins. */
        return c ? c : *a < *b ? -1 : *a > *b;
}

static int peer_cmp(const void *x, const void *y)
{
        const void *const *a = x, *const *b = y;
        int c = strcmp(peer_address(*a), peer_address(*b));
        /* Same name: the caller's order (elements of one array), so the first one given wins. */
        return c ? c : *a < *b ? -1 : *a > *b;
}

/* Pointers to the items sorted by name, one per name: a series must not appear twice, whatever the caller
 * passed. Returns the count kept, or -ENOMEM. */
static long sorted_unique(const void *items, size_t n, size_t size, const char *(*name)(const void *),
                          int (*cmp)(const void *, const void *), const void ***ret)
{
        *ret = NULL;
        if (n == 0)
                return 0;
        const void **v = calloc(n, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = (const char *)items + i * size;
        qsort(v, n, sizeof(*v), cmp);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (k == 0 || strcmp(name(v[k - 1]), name(v[i])) != 0)
                        v[k++] = v[i];
        *ret = v;
        return (long)k;
}

static int service_cmp(const void *x, const void *y)
{
        const struct metrics_service *const *a = x, *const *b = y;
        int c = strcmp(str((*a)->name), str((*b)->name));
        return c ? c : *a < *b ? -1 : *a > *b;
}

/* name{[group="G",]service="S"[,state="X"]} */
static void service_series(struct buf *b, const char *group, const char *name, const char *service,
                           const char *state)
{
        open_labels(b, name, group, true);
        buf_puts(b, "service=\"");
        put_label_value(b, service);
        if (state)
                buf_printf(b, "\",state=\"%s", state);
        buf_puts(b, "\"} ");
}

/* Each service's own state (docs/metrics.md): the same one-hot form as failoverd_state, labelled service. */
static void render_services(const struct metrics_snapshot *s, struct buf *out)
{
        const struct metrics_service **v = s->n_services ? calloc(s->n_services, sizeof(*v)) : NULL;
        size_t n = 0;

        for (size_t i = 0; v && i < s->n_services; i++)
                v[n++] = &s->services[i];
        if (n)
                qsort(v, n, sizeof(*v), service_cmp);
        family(out, "failoverd_service_state", "gauge",
               "Effective state of each service: 1 for the current state, 0 for the others.");
        for (size_t i = 0; i < n; i++) {
                if (i && strcmp(str(v[i]->name), str(v[i - 1]->name)) == 0)
                        continue;
                for (int k = 0; k < _STATE_MAX; k++) {
                        service_series(out, s->group, "failoverd_service_state", str(v[i]->name), state_name((enum fo_state)k));
                        buf_printf(out, "%d\n", v[i]->state == (enum fo_state)k);
                }
        }
        family(out, "failoverd_service_drained", "gauge", "1 while the service is drained (on its own or with the host).");
        for (size_t i = 0; i < n; i++)
                if (!i || strcmp(str(v[i]->name), str(v[i - 1]->name)) != 0) {
                        service_series(out, s->group, "failoverd_service_drained", str(v[i]->name), NULL);
                        buf_printf(out, "%d\n", v[i]->drained);
                }
        family(out, "failoverd_service_transitions_total", "counter", "State changes of the service since the start.");
        for (size_t i = 0; i < n; i++)
                if (!i || strcmp(str(v[i]->name), str(v[i - 1]->name)) != 0) {
                        service_series(out, s->group, "failoverd_service_transitions_total", str(v[i]->name), NULL);
                        buf_printf(out, "%" PRIu64 "\n", v[i]->transitions);
                }
        family(out, "failoverd_service_last_change_timestamp_seconds", "gauge",
               "Unix time of the service's last state change.");
        for (size_t i = 0; i < n; i++)
                if (!i || strcmp(str(v[i]->name), str(v[i - 1]->name)) != 0) {
                        char num[40];
                        fmt_double(num, sizeof(num), v[i]->last_change_timestamp);
                        service_series(out, s->group, "failoverd_service_last_change_timestamp_seconds", str(v[i]->name), NULL);
                        buf_printf(out, "%s\n", num);
                }
        free(v);
}

#define CHECK(i) ((const struct metrics_check *)cv[i])
#define PEER(i) ((const struct metrics_peer *)pv[i])

int metrics_render(const struct metrics_snapshot *s, struct buf *out)
{
        const void **cv, **pv;
        long nc = sorted_unique(s->checks, s->checks ? s->n_checks : 0, sizeof(*s->checks), check_name, check_cmp,
                                &cv);
        long np = sorted_unique(s->peers, s->peers ? s->n_peers : 0, sizeof(*s->peers), peer_address, peer_cmp,
                                &pv);
        if (nc < 0 || np < 0) {
                free(cv);
                free(pv);
                return -ENOMEM;
        }

        const char *g = s->group;
        family(out, "failoverd_info", "gauge", "Always 1; labels carry the host name and the failoverd version.");
        open_labels(out, "failoverd_info", g, true);
        buf_puts(out, "hostname=\"");
        put_label_value(out, s->hostname);
        buf_puts(out, "\",version=\"");
        put_label_value(out, VERSION);
        buf_puts(out, "\"} 1\n");

        family(out, "failoverd_state", "gauge",
               "Effective state of the shared addresses: 1 for the current state, 0 for the others.");
        for (int i = 0; i < _STATE_MAX; i++)
                sample_u(out, g, "failoverd_state", "state", state_name((enum fo_state)i), s->state == (enum fo_state)i);

        family(out, "failoverd_role", "gauge", "Configured role: 1 for the configured role, 0 for the other.");
        sample_u(out, g, "failoverd_role", "role", role_name(ROLE_PRIMARY), s->role == ROLE_PRIMARY);
        sample_u(out, g, "failoverd_role", "role", role_name(ROLE_SECONDARY), s->role == ROLE_SECONDARY);

        family(out, "failoverd_drained", "gauge", "1 while drained by failoverctl drain, else 0.");
        sample_u(out, g, "failoverd_drained", NULL, NULL, s->drained);

        family(out, "failoverd_transitions_total", "counter", "Effective-state changes since the daemon started.");
        sample_u(out, g, "failoverd_transitions_total", NULL, NULL, s->transitions);

        family(out, "failoverd_last_change_timestamp_seconds", "gauge",
               "Unix time of the last effective-state change (or of the start).");
        sample_d(out, g, "failoverd_last_change_timestamp_seconds", NULL, NULL, s->last_change_timestamp);

        family(out, "failoverd_apply_duration_seconds", "gauge", "Duration of the last apply to FRR.");
        sample_d(out, g, "failoverd_apply_duration_seconds", NULL, NULL, s->apply_seconds);

        family(out, "failoverd_last_apply_success", "gauge", "1 when the last apply to FRR succeeded, else 0.");
        sample_u(out, g, "failoverd_last_apply_success", NULL, NULL, s->last_apply_ok);

        family(out, "failoverd_last_reload_success", "gauge",
               "0 while the last reload was refused (the running configuration kept), else 1.");
        sample_u(out, g, "failoverd_last_reload_success", NULL, NULL, !s->reload_refused);

        family(out, "failoverd_failsafe_ran", "gauge",
               "1 when the fail-safe wrote this file (failoverd.service failed for good), 0 when the daemon did.");
        sample_u(out, g, "failoverd_failsafe_ran", NULL, NULL, s->failsafe);

        /* A check with no result yet has no up/severity sample rather than a NaN that alerts would misread. */
        family(out, "failoverd_check_up", "gauge", "1 while the check is up, 0 while down; absent before its first result.");
        for (long i = 0; i < nc; i++)
                if (CHECK(i)->health == HEALTH_UP || CHECK(i)->health == HEALTH_DOWN)
                        sample_u(out, g, "failoverd_check_up", "check", CHECK(i)->name, CHECK(i)->health == HEALTH_UP);

        family(out, "failoverd_check_severity", "gauge",
               "What the check contributes to the state: 0 ok, 1 degraded, 2 failed; absent before its first result.");
        for (long i = 0; i < nc; i++)
                if (CHECK(i)->health == HEALTH_UP || CHECK(i)->health == HEALTH_DOWN)
                        sample_u(out, g, "failoverd_check_severity", "check", CHECK(i)->name,
                                 CHECK(i)->severity == SEV_OK ? 0 : CHECK(i)->severity == SEV_DEGRADED ? 1 : 2);

        family(out, "failoverd_check_duration_seconds", "gauge", "Duration of the check's last run; absent before it ran.");
        for (long i = 0; i < nc; i++)
                if (CHECK(i)->runs > 0)
                        sample_d(out, g, "failoverd_check_duration_seconds", "check", CHECK(i)->name,
                                 CHECK(i)->duration_seconds);

        family(out, "failoverd_check_last_exit", "gauge",
               "Exit code of the check's last run, -1 for a signal, timeout or exec failure; absent before it ran.");
        for (long i = 0; i < nc; i++)
                if (CHECK(i)->runs > 0)
                        sample_d(out, g, "failoverd_check_last_exit", "check", CHECK(i)->name, CHECK(i)->last_exit);

        family(out, "failoverd_check_runs_total", "counter", "Runs of the check since the daemon started.");
        for (long i = 0; i < nc; i++)
                sample_u(out, g, "failoverd_check_runs_total", "check", CHECK(i)->name, CHECK(i)->runs);

        uint64_t established = 0;
        family(out, "failoverd_route_server_up", "gauge", "1 while the BGP session with the route server is Established.");
        for (long i = 0; i < np; i++) {
                sample_u(out, g, "failoverd_route_server_up", "peer", PEER(i)->address, PEER(i)->up);
                established += PEER(i)->up;
        }

        family(out, "failoverd_route_server_uptime_seconds", "gauge",
               "Time the BGP session has been Established; 0 while it is not.");
        for (long i = 0; i < np; i++)
                sample_d(out, g, "failoverd_route_server_uptime_seconds", "peer", PEER(i)->address,
                         PEER(i)->up ? PEER(i)->uptime_seconds : 0.0);

        family(out, "failoverd_route_server_prefixes_sent", "gauge", "Prefixes bgpd sends to the route server.");
        for (long i = 0; i < np; i++)
                sample_u(out, g, "failoverd_route_server_prefixes_sent", "peer", PEER(i)->address,
                         PEER(i)->prefixes_sent);

        /* One-hot over BGP's FSM states (RFC 4271 8.2.2), as bgpd names them; absent while bgpd is not read. */
        static const char *const bgp_states[] = { "Idle", "Connect", "Active", "OpenSent", "OpenConfirm",
                                                  "Established", NULL };
        family(out, "failoverd_route_server_state", "gauge",
               "1 for the BGP state bgpd reports for the session (Idle, Connect, Active, OpenSent, OpenConfirm, "
               "Established), 0 for the others.");
        for (long i = 0; i < np; i++)
                for (const char *const *st = bgp_states; PEER(i)->state && *st; st++) {
                        open_labels(out, "failoverd_route_server_state", g, true);
                        buf_puts(out, "peer=\"");
                        put_label_value(out, PEER(i)->address);
                        buf_printf(out, "\",state=\"%s\"} %d\n", *st, strcmp(PEER(i)->state, *st) == 0);
                }

        family(out, "failoverd_route_server_bfd_up", "gauge",
               "1 while the session's BFD is Up, 0 while not; absent for a session without BFD.");
        for (long i = 0; i < np; i++)
                if (PEER(i)->bfd)
                        sample_u(out, g, "failoverd_route_server_bfd_up", "peer", PEER(i)->address,
                                 strcmp(PEER(i)->bfd, "Up") == 0);

        family(out, "failoverd_route_servers", "gauge", "Route servers configured.");
        sample_u(out, g, "failoverd_route_servers", NULL, NULL, (uint64_t)np);

        family(out, "failoverd_route_servers_established", "gauge", "Route servers with an Established session.");
        sample_u(out, g, "failoverd_route_servers_established", NULL, NULL, established);

        family(out, "failoverd_shared_addresses_unassigned", "gauge",
               "Shared addresses not assigned to any local interface: bgpd will not announce them (import-check).");
        sample_u(out, g, "failoverd_shared_addresses_unassigned", NULL, NULL, (uint64_t)s->shared_unassigned);

        /* One-hot per prefix, like failoverd_state; a prefix bgpd was not read for yet has no sample. */
        static const char *const announcements[] = { "announced", "configured", "withdrawn" };
        family(out, "failoverd_shared_prefix_announcement", "gauge",
               "What bgpd does with the shared prefix: announced (sent to a route server), configured (network "
               "statement but not announced) or withdrawn; 1 for the current one.");
        for (size_t i = 0; i < s->n_prefixes; i++) {
                if (!s->prefixes[i].announcement)
                        continue;
                for (size_t k = 0; k < sizeof(announcements) / sizeof(announcements[0]); k++) {
                        open_labels(out, "failoverd_shared_prefix_announcement", g, true);
                        buf_puts(out, "prefix=\"");
                        put_label_value(out, str(s->prefixes[i].prefix));
                        buf_printf(out, "\",announcement=\"%s\"} %d\n", announcements[k],
                                   strcmp(s->prefixes[i].announcement, announcements[k]) == 0);
                }
        }

        family(out, "failoverd_bgpd_reachable", "gauge", "1 while bgpd's vty socket answers (busy included), else 0.");
        sample_u(out, g, "failoverd_bgpd_reachable", NULL, NULL, s->bgpd_reachable);

        family(out, "failoverd_bgpd_busy", "gauge",
               "1 while bgpd gives no whole answer in time but did not go away (full backlog, slow answer).");
        sample_u(out, g, "failoverd_bgpd_busy", NULL, NULL, s->bgpd_busy);

        family(out, "failoverd_bgpd_slow_polls_total", "counter", "Polls of bgpd that got no whole answer in time.");
        sample_u(out, g, "failoverd_bgpd_slow_polls_total", NULL, NULL, s->bgpd_slow_polls);

        family(out, "failoverd_revalidations_total", "counter",
               "Network statements entered again because bgpd kept them without announcing them.");
        sample_u(out, g, "failoverd_revalidations_total", NULL, NULL, s->revalidations);

        if (s->addresses_managed) {
                family(out, "failoverd_managed_addresses_missing", "gauge",
                       "Shared addresses failoverd manages that are not on lo right now (addresses = \"manage\").");
                sample_u(out, g, "failoverd_managed_addresses_missing", NULL, NULL, (uint64_t)s->addresses_missing);
                family(out, "failoverd_managed_addresses_restored_total", "counter",
                       "Shared addresses someone removed from lo and failoverd put back.");
                sample_u(out, g, "failoverd_managed_addresses_restored_total", NULL, NULL, s->addresses_restored);
        }

        render_services(s, out);
        free(cv);
        free(pv);
        return out->oom ? -ENOMEM : 0;
}
