/* Unit tests for lib/metrics.c: the output is read back by a checker of the Prometheus text format 0.0.4. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "unit.h"

/* ---- a small checker of the exposition format (promtool is not available here) ---- */

struct sample {
        char *series;           /* name{labels} as printed */
        char *name;
        char *labels;           /* unescaped "k=v,k=v", "" when none */
        double value;
};

struct expo {
        struct sample *s;
        size_t n;
        char err[512];
};

static void expo_free(struct expo *e)
{
        for (size_t i = 0; i < e->n; i++) {
                free(e->s[i].series);
                free(e->s[i].name);
                free(e->s[i].labels);
        }
        free(e->s);
        memset(e, 0, sizeof(*e));
}

static bool name_char(char c, bool first)
{
        return isalpha((unsigned char)c) || c == '_' || c == ':' || (!first && isdigit((unsigned char)c));
}

static size_t scan_name(const char *p, bool colon)
{
        size_t n = 0;
        while (name_char(p[n], n == 0) && (colon || p[n] != ':'))
                n++;
        return n;
}

static bool parse_value(const char *p, double *v)
{
        if (strcmp(p, "NaN") == 0 || strcmp(p, "+Inf") == 0 || strcmp(p, "-Inf") == 0) {
                *v = strcmp(p, "NaN") == 0 ? NAN : p[0] == '+' ? INFINITY : -INFINITY;
                return true;
        }
        char *end;
        if (!*p || isspace((unsigned char)*p))
                return false;
        *v = strtod(p, &end);
        return *end == '\0' && !isnan(*v) && !isinf(*v);
}

#define FAIL(...) do { snprintf(e->err, sizeof(e->err), __VA_ARGS__); free(text); return false; } while (0)

/* Checks text line by line; fills e with the samples. False with e->err naming the line on any violation. */
static bool expo_parse(const char *input, struct expo *e)
{
        char *text = strdup(input);
        char help[64][96] = { { 0 } }, type[64][96] = { { 0 } }, done[64][96] = { { 0 } };
        size_t nh = 0, nt = 0, nd = 0;
        char current[96] = "";
        int lineno = 0;

        memset(e, 0, sizeof(*e));
        ck_assert_ptr_nonnull(text);
        if (!*text || text[strlen(text) - 1] != '\n')
                FAIL("output does not end with a newline");
        for (char *line = text, *nl; *line; line = nl + 1) {
                nl = strchr(line, '\n');
                *nl = '\0';
                lineno++;
                if (line[0] == '#') {
                        char kw[8], name[96];
                        int off = 0;
                        if (sscanf(line, "# %7s %95s %n", kw, name, &off) < 2 || off == 0)
                                FAIL("%d: bad comment \"%s\"", lineno, line);
                        if (scan_name(name, true) != strlen(name))
                                FAIL("%d: bad metric name \"%s\"", lineno, name);
                        if (strcmp(name, current) != 0) {
                                /* A new family starts: the old one must never come back. */
                                for (size_t i = 0; i < nd; i++)
                                        if (strcmp(done[i], name) == 0)
                                                FAIL("%d: family %s split", lineno, name);
                                if (current[0])
                                        snprintf(done[nd++], sizeof(done[0]), "%s", current);
                                snprintf(current, sizeof(current), "%s", name);
                        }
                        if (strcmp(kw, "HELP") == 0) {
                                for (size_t i = 0; i < nh; i++)
                                        if (strcmp(help[i], name) == 0)
                                                FAIL("%d: second HELP for %s", lineno, name);
                                if (!line[off])
                                        FAIL("%d: empty HELP for %s", lineno, name);
                                snprintf(help[nh++], sizeof(help[0]), "%s", name);
                        } else if (strcmp(kw, "TYPE") == 0) {
                                const char *t = line + off;
                                if (strcmp(t, "counter") && strcmp(t, "gauge") && strcmp(t, "untyped") &&
                                    strcmp(t, "summary") && strcmp(t, "histogram"))
                                        FAIL("%d: bad TYPE \"%s\"", lineno, t);
                                if (strcmp(t, "counter") == 0 && (strlen(name) < 6 ||
                                                                  strcmp(name + strlen(name) - 6, "_total")))
                                        FAIL("%d: counter %s does not end in _total", lineno, name);
                                for (size_t i = 0; i < nt; i++)
                                        if (strcmp(type[i], name) == 0)
                                                FAIL("%d: second TYPE for %s", lineno, name);
                                snprintf(type[nt++], sizeof(type[0]), "%s", name);
                        } else {
                                FAIL("%d: unknown comment keyword %s", lineno, kw);
                        }
                        continue;
                }
                /* name{label="value",...} value */
                size_t n = scan_name(line, true);
                if (n == 0 || n >= 96)
                        FAIL("%d: bad sample name in \"%s\"", lineno, line);
                char name[96];
                snprintf(name, sizeof(name), "%.*s", (int)n, line);
                if (strcmp(name, current) != 0)
                        FAIL("%d: sample of %s outside its family (in %s)", lineno, name, current);
                bool h = false, t = false;
                for (size_t i = 0; i < nh; i++)
                        h |= strcmp(help[i], name) == 0;
                for (size_t i = 0; i < nt; i++)
                        t |= strcmp(type[i], name) == 0;
                if (!h || !t)
                        FAIL("%d: %s has no HELP or TYPE before it", lineno, name);
                const char *p = line + n;
                char labels[512] = "";
                size_t ll = 0;
                if (*p == '{') {
                        p++;
                        while (*p != '}') {
                                size_t k = scan_name(p, false);
                                if (k == 0 || p[k] != '=' || p[k + 1] != '"')
                                        FAIL("%d: bad label in \"%s\"", lineno, line);
                                ll += (size_t)snprintf(labels + ll, sizeof(labels) - ll, "%s%.*s=", ll ? "," : "",
                                                       (int)k, p);
                                for (p += k + 2; *p != '"'; p++) {
                                        char c = *p;
                                        if (!c)
                                                FAIL("%d: unterminated label value", lineno);
                                        if (c == '\\') {
                                                c = *++p;
                                                if (c == 'n')
                                                        c = '\n';
                                                else if (c != '\\' && c != '"')
                                                        FAIL("%d: bad escape \\%c", lineno, c ? c : '0');
                                        }
                                        if (ll + 1 < sizeof(labels)) {
                                                labels[ll++] = c;
                                                labels[ll] = '\0';
                                        }
                                }
                                p++;
                                if (*p == ',')
                                        p++;
                                else if (*p != '}')
                                        FAIL("%d: expected , or } in \"%s\"", lineno, line);
                        }
                        p++;
                }
                if (*p != ' ')
                        FAIL("%d: no space before the value in \"%s\"", lineno, line);
                double v;
                if (!parse_value(p + 1, &v))
                        FAIL("%d: bad value \"%s\"", lineno, p + 1);
                char *series = strndup(line, (size_t)(p - line));
                for (size_t i = 0; i < e->n; i++)
                        if (strcmp(e->s[i].series, series) == 0) {
                                free(series);
                                FAIL("%d: duplicate series", lineno);
                        }
                e->s = realloc(e->s, (e->n + 1) * sizeof(*e->s));
                ck_assert_ptr_nonnull(e->s);
                e->s[e->n++] = (struct sample){ series, strdup(name), strdup(labels), v };
        }
        free(text);
        return true;
}

/* The value of a series spelled as printed, e.g. failoverd_state{state="primary"}; NAN when absent. */
static double val(const struct expo *e, const char *series)
{
        for (size_t i = 0; i < e->n; i++)
                if (strcmp(e->s[i].series, series) == 0)
                        return e->s[i].value;
        return NAN;
}

static bool has(const struct expo *e, const char *series)
{
        return !isnan(val(e, series));
}

static char *render(const struct metrics_snapshot *s, struct expo *e)
{
        struct buf b;
        buf_init(&b);
        ck_assert_int_eq(metrics_render(s, &b), 0);
        char *text = buf_steal(&b);
        ck_assert_msg(expo_parse(text, e), "%s\n--- output ---\n%s", e->err, text);
        return text;
}

/* ---- the tests ---- */

static const struct metrics_check checks[] = {
        { "nginx", HEALTH_UP, SEV_OK, 0.012, 0, 40 },
        { "disk", HEALTH_DOWN, SEV_DEGRADED, 1.5, 1, 7 },
        { "pg", HEALTH_UNKNOWN, SEV_OK, 0, 0, 0 },
        { "dns", HEALTH_DOWN, SEV_FAILED, 1.0, -1, 3 },
};

static const struct metrics_peer peers[] = {
        { "2001:db8:f0::2", false, 12.0, 0 },
        { "2001:db8:f0::1", true, 3600.5, 2 },
};

static struct metrics_snapshot snapshot(enum fo_state st)
{
        struct metrics_snapshot s = {
                .hostname = "atl-bgp-1",
                .role = ROLE_PRIMARY,
                .state = st,
                .drained = false,
                .transitions = 3,
                .apply_seconds = 0.1,
                .last_apply_ok = true,
                .last_change_timestamp = 1795465509.25,
                .checks = checks,
                .n_checks = 4,
                .peers = peers,
                .n_peers = 2,
                .shared_unassigned = 1,
        };
        return s;
}

START_TEST(test_metrics_values)
{
        struct metrics_snapshot s = snapshot(STATE_PRIMARY);
        struct expo e;
        char *text = render(&s, &e);

        ck_assert(val(&e, "failoverd_state{state=\"primary\"}") == 1);
        ck_assert(val(&e, "failoverd_state{state=\"secondary\"}") == 0);
        ck_assert(val(&e, "failoverd_state{state=\"demoted\"}") == 0);
        ck_assert(val(&e, "failoverd_state{state=\"withdrawn\"}") == 0);
        ck_assert(val(&e, "failoverd_role{role=\"primary\"}") == 1);
        ck_assert(val(&e, "failoverd_role{role=\"secondary\"}") == 0);
        ck_assert(val(&e, "failoverd_info{hostname=\"atl-bgp-1\",version=\"" VERSION "\"}") == 1);
        ck_assert(val(&e, "failoverd_drained") == 0);
        ck_assert(val(&e, "failoverd_transitions_total") == 3);
        ck_assert(val(&e, "failoverd_last_change_timestamp_seconds") == 1795465509.25);
        ck_assert(val(&e, "failoverd_apply_duration_seconds") == 0.1);
        ck_assert_ptr_nonnull(strstr(text, "\nfailoverd_apply_duration_seconds 0.1\n"));    /* shortest form */
        ck_assert(val(&e, "failoverd_last_apply_success") == 1);

        ck_assert(val(&e, "failoverd_check_up{check=\"nginx\"}") == 1);
        ck_assert(val(&e, "failoverd_check_up{check=\"disk\"}") == 0);
        ck_assert(val(&e, "failoverd_check_up{check=\"dns\"}") == 0);
        ck_assert(!has(&e, "failoverd_check_up{check=\"pg\"}"));          /* unknown: no sample */
        ck_assert(val(&e, "failoverd_check_severity{check=\"nginx\"}") == 0);
        ck_assert(val(&e, "failoverd_check_severity{check=\"disk\"}") == 1);
        ck_assert(val(&e, "failoverd_check_severity{check=\"dns\"}") == 2);
        ck_assert(!has(&e, "failoverd_check_severity{check=\"pg\"}"));
        ck_assert(val(&e, "failoverd_check_duration_seconds{check=\"disk\"}") == 1.5);
        ck_assert(val(&e, "failoverd_check_last_exit{check=\"disk\"}") == 1);
        ck_assert(val(&e, "failoverd_check_last_exit{check=\"dns\"}") == -1);
        ck_assert(!has(&e, "failoverd_check_last_exit{check=\"pg\"}"));   /* never ran */
        ck_assert(!has(&e, "failoverd_check_duration_seconds{check=\"pg\"}"));
        ck_assert(val(&e, "failoverd_check_runs_total{check=\"pg\"}") == 0);
        ck_assert(val(&e, "failoverd_check_runs_total{check=\"nginx\"}") == 40);

        ck_assert(val(&e, "failoverd_route_server_up{peer=\"2001:db8:f0::1\"}") == 1);
        ck_assert(val(&e, "failoverd_route_server_up{peer=\"2001:db8:f0::2\"}") == 0);
        ck_assert(val(&e, "failoverd_route_server_uptime_seconds{peer=\"2001:db8:f0::1\"}") == 3600.5);
        ck_assert(val(&e, "failoverd_route_server_uptime_seconds{peer=\"2001:db8:f0::2\"}") == 0); /* down */
        ck_assert(val(&e, "failoverd_route_server_prefixes_sent{peer=\"2001:db8:f0::1\"}") == 2);
        ck_assert(val(&e, "failoverd_route_servers") == 2);
        ck_assert(val(&e, "failoverd_route_servers_established") == 1);
        ck_assert(val(&e, "failoverd_shared_addresses_unassigned") == 1);

        /* Sorted by label value within each family. */
        ck_assert(strstr(text, "check_runs_total{check=\"disk\"}") < strstr(text, "check_runs_total{check=\"dns\"}"));
        ck_assert(strstr(text, "up{peer=\"2001:db8:f0::1\"}") < strstr(text, "up{peer=\"2001:db8:f0::2\"}"));
        expo_free(&e);
        free(text);
}
END_TEST

START_TEST(test_metrics_states)
{
        for (int st = 0; st < _STATE_MAX; st++) {
                struct metrics_snapshot s = snapshot((enum fo_state)st);
                struct expo e;
                s.role = st == STATE_SECONDARY ? ROLE_SECONDARY : ROLE_PRIMARY;
                s.drained = st == STATE_WITHDRAWN;
                char *text = render(&s, &e);
                double sum = 0;
                for (int o = 0; o < _STATE_MAX; o++) {
                        char series[96];
                        snprintf(series, sizeof(series), "failoverd_state{state=\"%s\"}", state_name((enum fo_state)o));
                        ck_assert(val(&e, series) == (o == st));
                        sum += val(&e, series);
                }
                ck_assert(sum == 1);
                ck_assert(val(&e, "failoverd_drained") == (st == STATE_WITHDRAWN));
                ck_assert(val(&e, "failoverd_role{role=\"secondary\"}") == (st == STATE_SECONDARY));
                expo_free(&e);
                free(text);
        }
        /* Before any decision: every state 0, still well formed. */
        struct metrics_snapshot s = snapshot(STATE_INVALID);
        struct expo e;
        char *text = render(&s, &e);
        ck_assert(val(&e, "failoverd_state{state=\"primary\"}") == 0);
        ck_assert(val(&e, "failoverd_state{state=\"withdrawn\"}") == 0);
        expo_free(&e);
        free(text);
}
END_TEST

START_TEST(test_metrics_escaping)
{
        /* The configuration forbids such names; the renderer does not rely on it. */
        struct metrics_check c[] = {
                { "we\"ird\\name\nx", HEALTH_UP, SEV_OK, 0.5, 0, 1 },
                { "}, evil=\"1", HEALTH_DOWN, SEV_FAILED, 0.5, 2, 1 },
                { NULL, HEALTH_UP, SEV_OK, 0, 0, 1 },
        };
        struct metrics_peer p[] = { { "a\"b", true, 1, 1 } };
        struct metrics_snapshot s = snapshot(STATE_DEMOTED);
        s.hostname = "host\nname";
        s.checks = c;
        s.n_checks = 3;
        s.peers = p;
        s.n_peers = 1;
        struct expo e;
        char *text = render(&s, &e);

        ck_assert_ptr_nonnull(strstr(text, "failoverd_check_up{check=\"we\\\"ird\\\\name\\nx\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(text, "failoverd_check_up{check=\"}, evil=\\\"1\"} 0\n"));
        ck_assert_ptr_nonnull(strstr(text, "failoverd_check_up{check=\"\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(text, "failoverd_route_server_up{peer=\"a\\\"b\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(text, "hostname=\"host\\nname\""));
        /* Read back, the label values are the original bytes. */
        bool found = false;
        for (size_t i = 0; i < e.n; i++)
                if (strcmp(e.s[i].name, "failoverd_check_severity") == 0 &&
                    strcmp(e.s[i].labels, "check=we\"ird\\name\nx") == 0)
                        found = true;
        ck_assert(found);
        expo_free(&e);
        free(text);
}
END_TEST

START_TEST(test_metrics_deterministic)
{
        struct metrics_snapshot s = snapshot(STATE_SECONDARY);
        struct metrics_check rc[4];
        struct metrics_peer rp[2];
        struct buf a, b;

        for (size_t i = 0; i < 4; i++)
                rc[i] = checks[3 - i];
        rp[0] = peers[1];
        rp[1] = peers[0];
        buf_init(&a);
        buf_init(&b);
        ck_assert_int_eq(metrics_render(&s, &a), 0);
        s.checks = rc;
        s.peers = rp;
        ck_assert_int_eq(metrics_render(&s, &b), 0);
        ck_assert_str_eq(a.data, b.data);       /* input order does not matter */

        /* Appends to what is there. */
        buf_reset(&b);
        buf_puts(&b, "# previous\n");
        ck_assert_int_eq(metrics_render(&s, &b), 0);
        ck_assert_int_eq(strncmp(b.data, "# previous\n", 11), 0);
        ck_assert_str_eq(b.data + 11, a.data);
        buf_free(&a);
        buf_free(&b);
}
END_TEST

START_TEST(test_metrics_edges)
{
        /* Duplicate names collapse to one series; empty lists keep their HELP/TYPE; odd doubles are spelled
         * the Prometheus way. */
        struct metrics_check c[] = { { "a", HEALTH_UP, SEV_OK, NAN, 0, 1 }, { "a", HEALTH_DOWN, SEV_FAILED, 1, 2, 2 } };
        struct metrics_peer p[] = { { "x", true, INFINITY, 0 }, { "x", true, 1, 0 } };
        struct metrics_snapshot s = { 0 };
        struct expo e;

        s.state = STATE_WITHDRAWN;
        s.apply_seconds = 1e300;
        s.last_change_timestamp = -0.5;
        char *text = render(&s, &e);
        ck_assert_ptr_nonnull(strstr(text, "# TYPE failoverd_check_up gauge\n"));
        ck_assert_ptr_nonnull(strstr(text, "failoverd_info{hostname=\"\","));
        ck_assert(val(&e, "failoverd_apply_duration_seconds") == 1e300);
        ck_assert(val(&e, "failoverd_last_change_timestamp_seconds") == -0.5);
        ck_assert(val(&e, "failoverd_route_servers") == 0);
        expo_free(&e);
        free(text);

        s.checks = c;
        s.n_checks = 2;
        s.peers = p;
        s.n_peers = 2;
        text = render(&s, &e);
        ck_assert_ptr_nonnull(strstr(text, "failoverd_check_duration_seconds{check=\"a\"} NaN\n"));
        ck_assert_ptr_nonnull(strstr(text, "failoverd_route_server_uptime_seconds{peer=\"x\"} +Inf\n"));
        ck_assert(val(&e, "failoverd_route_servers") == 1);
        ck_assert(val(&e, "failoverd_route_servers_established") == 1);
        expo_free(&e);
        free(text);
}
END_TEST

START_TEST(test_metrics_checker)
{
        /* The checker itself refuses what Prometheus refuses. */
        static const char *bad[] = {
                "failoverd_x 1\n",                                              /* no HELP/TYPE */
                "# HELP a h\n# TYPE a gauge\na 1",                              /* no final newline */
                "# HELP a h\n# TYPE a gauge\na{l=\"v} 1\n",
                "# HELP a h\n# TYPE a gauge\na{l=\"\\t\"} 1\n",                 /* bad escape */
                "# HELP a h\n# TYPE a gauge\na 1\na 2\n",                       /* duplicate */
                "# HELP a h\n# TYPE a gauge\na one\n",
                "# HELP a h\n# TYPE a counter\na 1\n",                          /* counter without _total */
                "# HELP a h\n# TYPE a gauge\na 1\n# HELP b h\n# TYPE b gauge\nb 1\na{x=\"1\"} 1\n",
                "# HELP a h\n# TYPE a gauge\na  1\n",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct expo e;
                ck_assert_msg(!expo_parse(bad[i], &e), "checker accepted case %zu", i);
                expo_free(&e);
        }
        struct expo e;
        ck_assert(expo_parse("# HELP a_total h\n# TYPE a_total counter\na_total{x=\"1\",y=\"\\\"\"} 2\n", &e));
        ck_assert_str_eq(e.s[0].labels, "x=1,y=\"");
        expo_free(&e);
}
END_TEST

/* What bgpd really does with each prefix, one-hot; and a busy bgpd is reachable, busy, counted. */
START_TEST(test_metrics_announcement_and_busy)
{
        static const struct metrics_prefix prefixes[] = {
                { "198.51.100.10/32", "configured" },
                { "2001:db8:e001:1b8c::/64", "announced" },
                { "203.0.113.0/24", NULL },     /* not read yet: no sample */
        };
        struct metrics_snapshot s = snapshot(STATE_PRIMARY);
        struct expo e;

        s.prefixes = prefixes;
        s.n_prefixes = 3;
        s.bgpd_reachable = true;
        s.bgpd_busy = true;
        s.bgpd_slow_polls = 4;
        s.revalidations = 2;
        char *text = render(&s, &e);
        ck_assert(val(&e, "failoverd_shared_prefix_announcement{prefix=\"198.51.100.10/32\",announcement=\"configured\"}") == 1);
        ck_assert(val(&e, "failoverd_shared_prefix_announcement{prefix=\"198.51.100.10/32\",announcement=\"announced\"}") == 0);
        ck_assert(val(&e, "failoverd_shared_prefix_announcement{prefix=\"198.51.100.10/32\",announcement=\"withdrawn\"}") == 0);
        ck_assert(val(&e, "failoverd_shared_prefix_announcement{prefix=\"2001:db8:e001:1b8c::/64\",announcement=\"announced\"}") == 1);
        ck_assert(!has(&e, "failoverd_shared_prefix_announcement{prefix=\"203.0.113.0/24\",announcement=\"announced\"}"));
        ck_assert(val(&e, "failoverd_bgpd_reachable") == 1);
        ck_assert(val(&e, "failoverd_bgpd_busy") == 1);
        ck_assert(val(&e, "failoverd_bgpd_slow_polls_total") == 4);
        ck_assert(val(&e, "failoverd_revalidations_total") == 2);
        expo_free(&e);
        free(text);
}
END_TEST

/* group = "..." labels every series of the file, so one Prometheus tells the hosts of each group apart; a
 * refused reload and the fail-safe's file read as such. */
START_TEST(test_metrics_group)
{
        static const struct metrics_prefix prefixes[] = { { "198.51.100.10/32", "announced" } };
        static const struct metrics_service services[] = { { "web", STATE_PRIMARY, false, 2, 1795465509.0 } };
        struct metrics_snapshot s = snapshot(STATE_PRIMARY);
        struct expo e;

        s.group = "atl-web";
        s.prefixes = prefixes;
        s.n_prefixes = 1;
        s.services = services;
        s.n_services = 1;
        char *text = render(&s, &e);
        ck_assert_uint_gt(e.n, 40);
        for (size_t i = 0; i < e.n; i++)
                ck_assert_msg(strncmp(e.s[i].labels, "group=atl-web", 13) == 0 &&
                                      (e.s[i].labels[13] == '\0' || e.s[i].labels[13] == ','),
                              "%s has no group label first", e.s[i].series);
        ck_assert(val(&e, "failoverd_info{group=\"atl-web\",hostname=\"atl-bgp-1\",version=\"" VERSION "\"}") == 1);
        ck_assert(val(&e, "failoverd_drained{group=\"atl-web\"}") == 0);
        ck_assert(val(&e, "failoverd_check_up{group=\"atl-web\",check=\"nginx\"}") == 1);
        ck_assert(val(&e, "failoverd_service_state{group=\"atl-web\",service=\"web\",state=\"primary\"}") == 1);
        ck_assert(val(&e, "failoverd_shared_prefix_announcement{group=\"atl-web\",prefix=\"198.51.100.10/32\","
                          "announcement=\"announced\"}") == 1);
        ck_assert(val(&e, "failoverd_last_reload_success{group=\"atl-web\"}") == 1);
        ck_assert(val(&e, "failoverd_failsafe_ran{group=\"atl-web\"}") == 0);
        expo_free(&e);
        free(text);

        /* Without a group no label is made up: the file is what it was. */
        s.group = NULL;
        s.reload_refused = true;
        s.failsafe = true;
        text = render(&s, &e);
        ck_assert_ptr_null(strstr(text, "group="));
        ck_assert(val(&e, "failoverd_last_reload_success") == 0);
        ck_assert(val(&e, "failoverd_failsafe_ran") == 1);
        expo_free(&e);
        free(text);
}
END_TEST

/* Per-peer BFD: a sample only for the sessions that have BFD. */
START_TEST(test_metrics_bfd)
{
        struct metrics_peer p[] = { { "2001:db8:f0::1", true, 5, 2, "Up", "Established" },
                                    { "2001:db8:f0::2", false, 0, 0, "Down", "Idle" },
                                    { "192.0.2.1", true, 5, 2, NULL, NULL } };
        struct metrics_snapshot s = snapshot(STATE_PRIMARY);
        struct expo e;
        s.peers = p;
        s.n_peers = 3;
        char *text = render(&s, &e);
        ck_assert(val(&e, "failoverd_route_server_bfd_up{peer=\"2001:db8:f0::1\"}") == 1);
        ck_assert(val(&e, "failoverd_route_server_bfd_up{peer=\"2001:db8:f0::2\"}") == 0);
        ck_assert(!has(&e, "failoverd_route_server_bfd_up{peer=\"192.0.2.1\"}"));
        /* The session's BGP state, one-hot; none while unknown. */
        ck_assert(val(&e, "failoverd_route_server_state{peer=\"2001:db8:f0::1\",state=\"Established\"}") == 1);
        ck_assert(val(&e, "failoverd_route_server_state{peer=\"2001:db8:f0::1\",state=\"Idle\"}") == 0);
        ck_assert(val(&e, "failoverd_route_server_state{peer=\"2001:db8:f0::2\",state=\"Idle\"}") == 1);
        ck_assert(val(&e, "failoverd_route_server_state{peer=\"2001:db8:f0::2\",state=\"Active\"}") == 0);
        ck_assert(!has(&e, "failoverd_route_server_state{peer=\"192.0.2.1\",state=\"Idle\"}"));
        expo_free(&e);
        free(text);
}
END_TEST

START_TEST(test_metrics_documented)
{
        /* docs/metrics.md names every family the renderer writes. */
        struct metrics_snapshot s = snapshot(STATE_PRIMARY);
        struct buf b;
        FILE *f = fopen(TEST_DIR "/../docs/metrics.md", "re");
        char chunk[4096];
        size_t n;

        ck_assert_ptr_nonnull(f);
        buf_init(&b);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                buf_append(&b, chunk, n);
        fclose(f);
        char *doc = buf_steal(&b);
        ck_assert_int_eq(metrics_render(&s, &b), 0);
        for (char *p = b.data; (p = strstr(p, "# TYPE ")); p++) {
                char name[96], want[100];
                ck_assert_int_eq(sscanf(p, "# TYPE %95s", name), 1);
                snprintf(want, sizeof(want), "`%s`", name);
                ck_assert_msg(strstr(doc, want) != NULL, "%s is not in docs/metrics.md", name);
        }
        buf_free(&b);
        free(doc);
}
END_TEST

Suite *metrics_suite(void)
{
        Suite *s = suite_create("metrics");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_metrics_values);
        tcase_add_test(tc, test_metrics_bfd);
        tcase_add_test(tc, test_metrics_states);
        tcase_add_test(tc, test_metrics_escaping);
        tcase_add_test(tc, test_metrics_deterministic);
        tcase_add_test(tc, test_metrics_edges);
        tcase_add_test(tc, test_metrics_checker);
        tcase_add_test(tc, test_metrics_documented);
        tcase_add_test(tc, test_metrics_group);
        tcase_add_test(tc, test_metrics_announcement_and_busy);
        suite_add_tcase(s, tc);
        return s;
}
