/* Unit tests for services: parsing and every error (lib/conf_services.c), the decision per service with
 * host-wide and bound checks, failback delay, flap damping and start gating on a fake clock (lib/service.c),
 * and the fast path of a multi-service change (lib/render.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "unit.h"

#include "conf.h"
#include "ctl_format.h"
#include "metrics.h"
#include "render.h"
#include "service.h"

#define HEAD "datacenter = 4;\nhostname = \"h1\";\n"
#define TWO                                                                                                   \
        "services = (\n"                                                                                      \
        "  { name = \"web\"; shared_ips = [\"198.51.100.10\", \"2001:db8:e001:1b8c::/64\"]; role = \"primary\";\n" \
        "    checks = [\"web\"]; failback_delay = 3; flap_limit = 4; flap_window = 20; flap_hold = 6; },\n"  \
        "  { name = \"db\"; shared_ips = [\"198.51.100.11\"]; role = \"secondary\"; checks = [\"db\"];\n"     \
        "    start = \"withdrawn\"; }\n"                                                                      \
        ");\n"

static char *tdir;
static struct diag d;
static struct conf *c;

static void setup(void)
{
        tdir = unit_tmpdir();
        diag_init(&d);
        c = NULL;
        char dir[512];
        snprintf(dir, sizeof(dir), "%s/conf.d", tdir);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        const char *names[] = { "web", "db", "disk" };
        for (int i = 0; i < 3; i++) {
                char n[64];
                snprintf(n, sizeof(n), "conf.d/%s", names[i]);
                free(unit_write(tdir, n, "#!/bin/sh\nexit 0\n", 0755));
        }
}

static void teardown(void)
{
        c = conf_free(c);
        diag_free(&d);
        unit_rmrf(tdir);
        free(tdir);
        tdir = NULL;
}

/* Loads HEAD + text + a checks group pointing at the test's conf.d (line numbers of text start at 3). */
static int load(const char *text)
{
        struct buf b;
        buf_init(&b);
        buf_puts(&b, HEAD);
        buf_puts(&b, text);
        buf_printf(&b, "checks = { directory = \"%s/conf.d\"; };\n", tdir);
        char *path = unit_write(tdir, "failoverd.conf", b.data, 0644);
        c = conf_free(c);
        diag_free(&d);
        diag_init(&d);
        int r = conf_load(path, &c, &d);
        free(path);
        buf_free(&b);
        return r;
}

static char *dump(void)
{
        struct buf b;
        buf_init(&b);
        buf_puts(&b, "");
        for (size_t i = 0; i < d.n; i++)
                buf_printf(&b, "\n  [%d] %s", d.msgs[i].level, d.msgs[i].text);
        return buf_steal(&b);
}

/* Asserts an error whose text is TDIR/failoverd.conf followed by suffix. */
static void expect_err(const char *suffix)
{
        char want[1024];
        snprintf(want, sizeof(want), "%s/failoverd.conf%s", tdir, suffix);
        for (size_t i = 0; i < d.n; i++)
                if (d.msgs[i].level == DIAG_ERROR && strcmp(d.msgs[i].text, want) == 0)
                        return;
        char *all = dump();
        ck_abort_msg("missing error: %s\ngot:%s", want, all);
}

static void expect_fail(int r, size_t n)
{
        if (r != -EINVAL || d.n_errors != n) {
                char *all = dump();
                ck_abort_msg("expected -EINVAL with %zu errors, got %d with %zu:%s", n, r, d.n_errors, all);
        }
}

START_TEST(test_parse_two)
{
        int r = load(TWO "on_stop = \"withdraw\";\n");
        if (r != 0) {
                char *all = dump();
                ck_abort_msg("load failed:%s", all);
        }
        ck_assert(c->services_form);
        ck_assert(c->on_stop_withdraw);
        ck_assert_uint_eq(c->n_services, 2);
        ck_assert_uint_eq(c->n_shared_ips, 3);
        const struct service *web = &c->services[0], *db = &c->services[1];
        ck_assert_str_eq(web->name, "web");
        ck_assert_int_eq(web->role, ROLE_PRIMARY);
        ck_assert_uint_eq(web->n_prefixes, 2);
        ck_assert_ptr_eq(web->prefixes, c->shared_ips);
        ck_assert_str_eq(web->prefixes[1].text, "2001:db8:e001:1b8c::/64");
        ck_assert_str_eq(web->checks[0], "web");
        ck_assert_ptr_null(web->checks[1]);
        ck_assert(web->failback_delay == 3);
        ck_assert_int_eq(web->flap_limit, 4);
        ck_assert(web->flap_window == 20 && web->flap_hold == 6);
        ck_assert_int_eq(web->start, START_CHECKS);
        ck_assert_str_eq(db->name, "db");
        ck_assert_int_eq(db->role, ROLE_SECONDARY);
        ck_assert_uint_eq(db->n_prefixes, 1);
        ck_assert_ptr_eq(db->prefixes, c->shared_ips + 2);
        ck_assert_str_eq(db->prefixes[0].text, "198.51.100.11/32");
        ck_assert(db->failback_delay == 0);
        ck_assert_int_eq(db->flap_limit, 0);
        ck_assert_int_eq(db->start, START_WITHDRAWN);
        ck_assert_int_eq(conf_find_service(c, "db"), 1);
        ck_assert_int_eq(conf_find_service(c, "mail"), -1);
        ck_assert_uint_eq(conf_prefix_service(c, 0), 0);
        ck_assert_uint_eq(conf_prefix_service(c, 1), 0);
        ck_assert_uint_eq(conf_prefix_service(c, 2), 1);
        /* web guards web, db guards db, disk is bound to none: it guards both. */
        ck_assert(conf_check_guards(c, 0, "web"));
        ck_assert(!conf_check_guards(c, 0, "db"));
        ck_assert(conf_check_guards(c, 0, "disk"));
        ck_assert(conf_check_guards(c, 1, "db"));
        ck_assert(!conf_check_guards(c, 1, "web"));
        ck_assert(conf_check_guards(c, 1, "disk"));
}
END_TEST

START_TEST(test_parse_top_level)
{
        ck_assert_int_eq(load("role = \"secondary\";\nshared_ips = [\"198.51.100.10\"];\n"), 0);
        ck_assert(!c->services_form);
        ck_assert(!c->on_stop_withdraw);
        ck_assert_uint_eq(c->n_services, 1);
        ck_assert_str_eq(c->services[0].name, "default");
        ck_assert_int_eq(c->services[0].role, ROLE_SECONDARY);
        ck_assert(c->services[0].failback_delay == 0);
        ck_assert_int_eq(c->services[0].flap_limit, 0);
        ck_assert(conf_check_guards(c, 0, "web"));
}
END_TEST

START_TEST(test_err_no_address)
{
        expect_fail(load("services = (\n  { name = \"web\"; role = \"primary\"; }\n);\n"), 1);
        expect_err(":4: services[0].shared_ips: required key is missing: a service needs an address");
        expect_fail(load("services = (\n  { name = \"web\"; role = \"primary\";\n    shared_ips = []; }\n);\n"), 1);
        expect_err(":5: services[0].shared_ips: must list at least one address");
}
END_TEST

START_TEST(test_err_address_twice)
{
        expect_fail(load("services = (\n"
                         "  { name = \"web\"; role = \"primary\"; shared_ips = [\"198.51.100.10\"]; },\n"
                         "  { name = \"db\"; role = \"primary\";\n"
                         "    shared_ips = [\"198.51.100.11\", \"198.51.100.10/32\"]; }\n"
                         ");\n"), 1);
        expect_err(":6: services[1].shared_ips[1]: \"198.51.100.10/32\": 198.51.100.10/32 is already in service "
                   "\"web\": an address belongs to one service");
}
END_TEST

START_TEST(test_err_unknown_check)
{
        expect_fail(load("services = (\n"
                         "  { name = \"web\"; role = \"primary\"; shared_ips = [\"198.51.100.10\"];\n"
                         "    checks = [\"web\", \"nginx\"]; }\n"
                         ");\n"), 1);
        char want[1024];
        snprintf(want, sizeof(want), ":4: services[0].checks[1]: \"nginx\": no such check in %s/conf.d", tdir);
        expect_err(want);
}
END_TEST

START_TEST(test_err_two_names)
{
        expect_fail(load("services = (\n"
                         "  { name = \"web\"; role = \"primary\"; shared_ips = [\"198.51.100.10\"]; },\n"
                         "  { name = \"web\"; role = \"secondary\"; shared_ips = [\"198.51.100.11\"]; }\n"
                         ");\n"), 1);
        expect_err(":5: services[1].name: \"web\": two services with one name: names must be unique");
}
END_TEST

START_TEST(test_err_mixed)
{
        expect_fail(load("role = \"primary\";\n"
                         "services = (\n"
                         "  { name = \"web\"; role = \"primary\"; shared_ips = [\"198.51.100.10\"]; }\n"
                         ");\n"
                         "shared_ips = [\"198.51.100.11\"];\n"), 2);
        expect_err(":3: role: cannot be used together with services (line 4): put it in each service");
        expect_err(":7: shared_ips: cannot be used together with services (line 4): put it in each service");
}
END_TEST

START_TEST(test_err_values)
{
        expect_fail(load("services = (\n"
                         "  { name = \"web site\"; role = \"main\"; shared_ips = [\"198.51.100.10\"];\n"
                         "    start = \"later\"; flap_limit = -1; failback_delay = -2; colour = 1; }\n"
                         ");\n"
                         "on_stop = \"linger\";\n"), 7);
        expect_err(":4: services[0].name: \"web site\": must be 1 to 32 letters, digits, '_' or '-'");
        expect_err(":4: services[0].role: \"main\": must be \"primary\" or \"secondary\"");
        expect_err(":5: services[0].start: \"later\": must be \"withdrawn\" or \"checks\"");
        expect_err(":5: services[0].flap_limit: \"-1\": must be between 0 and 1000");
        expect_err(":5: services[0].failback_delay: \"-2\": must be between 0.01 and 86400 seconds");
        expect_err(":5: services[0].colour: unknown key");
        expect_err(":7: on_stop: \"linger\": must be \"keep\" or \"withdraw\"");
        expect_fail(load("services = ();\n"), 1);
        expect_err(":3: services: must list at least one service");
        expect_fail(load("services = { name = \"web\"; };\n"), 1);
        expect_err(":3: services: must be a list of groups: services = ( { ... }, { ... } )");
}
END_TEST

/* ---- the decision on a fake clock ---- */

static struct service svc(enum role role)
{
        struct service s = { .name = "web", .role = role, .flap_window = 60, .flap_hold = 120 };
        return s;
}

static struct check_state up(int streak)
{
        struct check_state s = { .health = HEALTH_UP, .severity = SEV_OK, .ok_streak = streak };
        return s;
}

static struct check_state down(enum severity sev)
{
        struct check_state s = { .health = HEALTH_DOWN, .severity = sev, .bad_streak = 1 };
        return s;
}

static const int rise[4] = { 3, 3, 3, 3 };

START_TEST(test_effective_bound_and_host_wide)
{
        /* web guards {web, disk}, db guards {db, disk}: what the daemon passes to svc_decide. */
        ck_assert_int_eq(load(TWO), 0);
        struct svc_state w, b;
        double next;
        svc_state_init(&w);
        svc_state_init(&b);
        /* db's own check fails: db withdrawn, web untouched. */
        struct check_state web_checks[2] = { up(5), up(5) };    /* disk, web */
        struct check_state db_checks[2] = { down(SEV_FAILED), up(5) };  /* db, disk */
        struct service db = c->services[1];
        db.start = START_CHECKS;
        ck_assert(svc_decide(&c->services[0], &w, web_checks, rise, 2, false, 0, &next));
        ck_assert(svc_decide(&db, &b, db_checks, rise, 2, false, 0, &next));
        ck_assert_int_eq(w.target, STATE_PRIMARY);
        ck_assert_int_eq(b.target, STATE_WITHDRAWN);
        ck_assert_int_eq(b.why, 0);
        /* The host-wide disk warns: both demoted (db stays withdrawn: the worse wins). */
        web_checks[0] = down(SEV_DEGRADED);
        db_checks[1] = down(SEV_DEGRADED);
        ck_assert(svc_decide(&c->services[0], &w, web_checks, rise, 2, false, 1, &next));
        ck_assert(!svc_decide(&db, &b, db_checks, rise, 2, false, 1, &next));
        ck_assert_int_eq(w.target, STATE_DEMOTED);
        ck_assert_int_eq(w.why, 0);
        ck_assert_int_eq(b.target, STATE_WITHDRAWN);
        /* db recovers; disk still warns: db demoted too. */
        db_checks[0] = up(1);
        ck_assert(svc_decide(&db, &b, db_checks, rise, 2, false, 2, &next));
        ck_assert_int_eq(b.target, STATE_DEMOTED);
        /* A drain of db alone. */
        ck_assert(svc_decide(&db, &b, db_checks, rise, 2, true, 3, &next));
        ck_assert_int_eq(b.target, STATE_WITHDRAWN);
}
END_TEST

START_TEST(test_failback_delay)
{
        struct service s = svc(ROLE_PRIMARY);
        struct svc_state st;
        struct check_state k[1] = { up(3) };
        double next;
        s.failback_delay = 3;
        svc_state_init(&st);
        ck_assert(svc_decide(&s, &st, k, rise, 1, false, 100, &next));
        ck_assert_int_eq(st.target, STATE_PRIMARY);     /* the first decision is not delayed */
        k[0] = down(SEV_FAILED);
        ck_assert(svc_decide(&s, &st, k, rise, 1, false, 101, &next));   /* worse: at once */
        ck_assert_int_eq(st.target, STATE_WITHDRAWN);
        ck_assert(next == 0);
        k[0] = up(3);
        ck_assert(!svc_decide(&s, &st, k, rise, 1, false, 110, &next));
        ck_assert_int_eq(st.target, STATE_WITHDRAWN);
        ck_assert_int_eq(st.hold, HOLD_FAILBACK);
        ck_assert(next == 113);
        ck_assert(!svc_decide(&s, &st, k, rise, 1, false, 112.9, &next));
        ck_assert(next == 113);
        /* A relapse restarts the delay. */
        k[0] = down(SEV_FAILED);
        ck_assert(!svc_decide(&s, &st, k, rise, 1, false, 112.95, &next));
        ck_assert_int_eq(st.hold, HOLD_NONE);
        k[0] = up(3);
        ck_assert(!svc_decide(&s, &st, k, rise, 1, false, 113, &next));
        ck_assert(next == 116);
        ck_assert(svc_decide(&s, &st, k, rise, 1, false, 116, &next));
        ck_assert_int_eq(st.target, STATE_PRIMARY);
        ck_assert_int_eq(st.hold, HOLD_NONE);
        /* A resume is not a failback: at once. */
        ck_assert(svc_decide(&s, &st, k, rise, 1, true, 120, &next));
        ck_assert_int_eq(st.target, STATE_WITHDRAWN);
        ck_assert(svc_decide(&s, &st, k, rise, 1, false, 121, &next));
        ck_assert_int_eq(st.target, STATE_PRIMARY);
}
END_TEST

START_TEST(test_flap_damping)
{
        struct service s = svc(ROLE_PRIMARY);
        struct svc_state st;
        struct check_state k[1] = { up(3) };
        double next, t = 0;
        s.flap_limit = 4;
        s.flap_window = 20;
        s.flap_hold = 6;
        svc_state_init(&st);
        ck_assert(svc_decide(&s, &st, k, rise, 1, false, t, &next));
        /* warning / ok every 0.5 s: demoted, primary, demoted, then held. */
        k[0] = down(SEV_DEGRADED);
        ck_assert(svc_decide(&s, &st, k, rise, 1, false, t += 0.5, &next));
        k[0] = up(1);
        ck_assert(svc_decide(&s, &st, k, rise, 1, false, t += 0.5, &next));
        ck_assert_int_eq(st.target, STATE_PRIMARY);
        k[0] = down(SEV_DEGRADED);
        ck_assert(svc_decide(&s, &st, k, rise, 1, false, t += 0.5, &next));
        k[0] = up(1);
        ck_assert(!svc_decide(&s, &st, k, rise, 1, false, t += 0.5, &next));
        ck_assert_int_eq(st.target, STATE_DEMOTED);
        ck_assert_int_eq(st.hold, HOLD_FLAP);
        ck_assert(st.flap_started);
        ck_assert_uint_eq(st.flap_count, 4);
        ck_assert(next == t + 6);
        double until = next;
        /* Still flapping: held, logged once. */
        for (int i = 0; i < 8; i++) {
                k[0] = i % 2 ? up(1) : down(SEV_DEGRADED);
                ck_assert(!svc_decide(&s, &st, k, rise, 1, false, t += 0.5, &next));
                ck_assert_int_eq(st.target, STATE_DEMOTED);
                ck_assert(!st.flap_started);
        }
        /* A worse state still goes through at once. */
        k[0] = down(SEV_FAILED);
        ck_assert(svc_decide(&s, &st, k, rise, 1, false, t += 0.5, &next));
        ck_assert_int_eq(st.target, STATE_WITHDRAWN);
        k[0] = up(1);
        ck_assert(!svc_decide(&s, &st, k, rise, 1, false, t += 0.1, &next));
        ck_assert_int_eq(st.hold, HOLD_FLAP);
        ck_assert(next == until);
        /* The hold is over: back, and the earlier flapping does not count again. */
        ck_assert(svc_decide(&s, &st, k, rise, 1, false, until, &next));
        ck_assert_int_eq(st.target, STATE_PRIMARY);
        k[0] = down(SEV_DEGRADED);
        ck_assert(svc_decide(&s, &st, k, rise, 1, false, until + 0.5, &next));
        k[0] = up(1);
        ck_assert(svc_decide(&s, &st, k, rise, 1, false, until + 1, &next));
        ck_assert_int_eq(st.target, STATE_PRIMARY);
        /* Outside the window, changes do not count. */
        k[0] = down(SEV_DEGRADED);
        ck_assert(svc_decide(&s, &st, k, rise, 1, false, until + 30, &next));
        k[0] = up(1);
        ck_assert(svc_decide(&s, &st, k, rise, 1, false, until + 60, &next));
        ck_assert_int_eq(st.target, STATE_PRIMARY);
}
END_TEST

START_TEST(test_start_gating)
{
        struct service s = svc(ROLE_SECONDARY);
        struct svc_state st;
        struct check_state k[2] = { up(1), up(1) };
        double next;
        s.start = START_WITHDRAWN;
        s.failback_delay = 10;
        svc_state_init(&st);
        /* The first results are ok, but not rise (3) of them yet. */
        ck_assert(svc_decide(&s, &st, k, rise, 2, false, 0, &next));
        ck_assert_int_eq(st.target, STATE_WITHDRAWN);
        ck_assert_int_eq(st.hold, HOLD_START);
        k[0] = up(3);
        ck_assert(!svc_decide(&s, &st, k, rise, 2, false, 1, &next));
        ck_assert_int_eq(st.target, STATE_WITHDRAWN);
        /* Every check passed rise times: announced at once, no failback delay. */
        k[1] = up(3);
        ck_assert(svc_decide(&s, &st, k, rise, 2, false, 2, &next));
        ck_assert_int_eq(st.target, STATE_SECONDARY);
        /* Gating is over for good: a later failure and recovery go the usual way. */
        k[1] = down(SEV_FAILED);
        ck_assert(svc_decide(&s, &st, k, rise, 2, false, 3, &next));
        k[1] = up(1);
        ck_assert(!svc_decide(&s, &st, k, rise, 2, false, 4, &next));
        ck_assert_int_eq(st.hold, HOLD_FAILBACK);

        /* start = "checks" (the default): the first result decides. */
        s.start = START_CHECKS;
        svc_state_init(&st);
        k[0] = up(1);
        ck_assert(svc_decide(&s, &st, k, rise, 2, false, 0, &next));
        ck_assert_int_eq(st.target, STATE_SECONDARY);
}
END_TEST

/* ---- the fast path of a multi-service change ---- */

static char *join(char **v)
{
        struct buf b;
        buf_init(&b);
        for (char **p = v; p && *p; p++)
                buf_printf(&b, "%s\n", *p);
        strv_free(v);
        return buf_steal(&b);
}

START_TEST(test_fast_path_services)
{
        ck_assert_int_eq(load(TWO), 0);
        enum fo_state states[2] = { STATE_WITHDRAWN, STATE_SECONDARY };
        bool only_web[2] = { true, false }, only_db[2] = { false, true }, both[2] = { true, true };

        char *t = join(render_fast_path_only(c, states, only_web));
        ck_assert_str_eq(t, "configure terminal\nrouter bgp 65001\n"
                            "address-family ipv4 unicast\nno network 198.51.100.10/32\nexit-address-family\n"
                            "address-family ipv6 unicast\nno network 2001:db8:e001:1b8c::/64\nexit-address-family\n"
                            "end\n");
        free(t);
        t = join(render_fast_path_only(c, states, only_db));
        ck_assert_str_eq(t, "configure terminal\nrouter bgp 65001\n"
                            "address-family ipv4 unicast\nnetwork 198.51.100.11/32 route-map secondary\n"
                            "exit-address-family\nend\n");
        free(t);
        /* Both changed: one transaction. */
        t = join(render_fast_path_only(c, states, both));
        ck_assert_str_eq(t, "configure terminal\nrouter bgp 65001\n"
                            "address-family ipv4 unicast\nno network 198.51.100.10/32\n"
                            "network 198.51.100.11/32 route-map secondary\nexit-address-family\n"
                            "address-family ipv6 unicast\nno network 2001:db8:e001:1b8c::/64\nexit-address-family\n"
                            "end\n");
        char *all = join(render_fast_path(c, states));
        ck_assert_str_eq(t, all);
        free(t);
        free(all);
}
END_TEST

/* ---- metrics and the status screen ---- */

START_TEST(test_metrics_services)
{
        struct metrics_service sv[2] = {
                { .name = "web", .state = STATE_WITHDRAWN, .drained = true, .transitions = 3,
                  .last_change_timestamp = 1700000000.5 },
                { .name = "db", .state = STATE_SECONDARY, .transitions = 1, .last_change_timestamp = 1700000000 },
        };
        struct metrics_snapshot snap = { .hostname = "h1", .state = STATE_SECONDARY, .services = sv, .n_services = 2 };
        struct buf b;
        buf_init(&b);
        ck_assert_int_eq(metrics_render(&snap, &b), 0);
        const char *want[] = {
                "failoverd_service_state{service=\"db\",state=\"secondary\"} 1\n",
                "failoverd_service_state{service=\"db\",state=\"primary\"} 0\n",
                "failoverd_service_state{service=\"web\",state=\"withdrawn\"} 1\n",
                "failoverd_service_drained{service=\"web\"} 1\n",
                "failoverd_service_drained{service=\"db\"} 0\n",
                "failoverd_service_transitions_total{service=\"web\"} 3\n",
                "failoverd_service_last_change_timestamp_seconds{service=\"web\"} 1700000000.5\n",
        };
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                ck_assert_msg(strstr(b.data, want[i]), "missing %s in:\n%s", want[i], b.data);
        /* Sorted by service name: db before web. */
        ck_assert(strstr(b.data, "service=\"db\",state=\"primary\"") < strstr(b.data, "service=\"web\",state=\"primary\""));
        buf_free(&b);
}
END_TEST

START_TEST(test_status_services)
{
        json_object *st = json_tokener_parse(
                "{\"schema\":2,\"version\":\"0.1.0\",\"hostname\":\"h1\",\"role\":\"mixed\",\"state\":\"secondary\","
                "\"reason\":\"web withdrawn, db secondary\","
                "\"shared_ips\":[{\"prefix\":\"198.51.100.10/32\",\"service\":\"web\",\"assigned\":true,\"announced\":false},"
                "{\"prefix\":\"198.51.100.11/32\",\"service\":\"db\",\"assigned\":true,\"announced\":false}],"
                "\"checks\":[{\"name\":\"disk\",\"health\":\"up\",\"severity\":\"ok\"},"
                "{\"name\":\"web\",\"health\":\"down\",\"severity\":\"failed\"}],"
                "\"bgpd\":{\"reachable\":true},"
                "\"services\":[{\"name\":\"web\",\"role\":\"primary\",\"state\":\"withdrawn\",\"since\":1700000000,"
                "\"reason\":\"check web failed: exit 2\",\"hold\":null,\"shared_ips\":[\"198.51.100.10/32\"],"
                "\"checks\":[\"disk\",\"web\"]},"
                "{\"name\":\"db\",\"role\":\"secondary\",\"state\":\"secondary\",\"reason\":\"all checks up\","
                "\"hold\":\"failback delay\",\"shared_ips\":[\"198.51.100.11/32\"],\"checks\":[\"disk\"]}]}");
        struct buf b;
        ck_assert_ptr_nonnull(st);
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(st, 1700000010, &b), 0);
        ck_assert_msg(strstr(b.data, "services:\n  web: WITHDRAWN (role primary) since "), "%s", b.data);
        ck_assert_msg(strstr(b.data, "(10.0s ago): check web failed: exit 2\n    addresses: 198.51.100.10/32\n"
                                     "    checks: disk (up), web (failed)\n"), "%s", b.data);
        ck_assert_msg(strstr(b.data, "  db: SECONDARY (role secondary): all checks up\n    held: failback delay\n"
                                     "    addresses: 198.51.100.11/32\n    checks: disk (up)\n"), "%s", b.data);
        /* web is withdrawn, so its prefix not being announced is no warning; db's is. */
        ck_assert_msg(!strstr(b.data, "WARNING: 198.51.100.10/32 should be announced"), "%s", b.data);
        ck_assert_msg(strstr(b.data, "WARNING: 198.51.100.11/32 should be announced"), "%s", b.data);
        buf_free(&b);
        json_object_put(st);
}
END_TEST

Suite *services_suite(void)
{
        Suite *s = suite_create("services");
        TCase *tc = tcase_create("conf");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_parse_two);
        tcase_add_test(tc, test_parse_top_level);
        tcase_add_test(tc, test_err_no_address);
        tcase_add_test(tc, test_err_address_twice);
        tcase_add_test(tc, test_err_unknown_check);
        tcase_add_test(tc, test_err_two_names);
        tcase_add_test(tc, test_err_mixed);
        tcase_add_test(tc, test_err_values);
        tcase_add_test(tc, test_effective_bound_and_host_wide);
        tcase_add_test(tc, test_fast_path_services);
        suite_add_tcase(s, tc);
        tc = tcase_create("decide");
        tcase_add_test(tc, test_failback_delay);
        tcase_add_test(tc, test_flap_damping);
        tcase_add_test(tc, test_start_gating);
        tcase_add_test(tc, test_metrics_services);
        tcase_add_test(tc, test_status_services);
        suite_add_tcase(s, tc);
        return s;
}
