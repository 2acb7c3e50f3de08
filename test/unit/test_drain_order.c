/* Unit tests for the ordered drain in agent/drain.c: demoted for drain_delay, then withdrawn; with a
 * drain_check, withdrawn only while it says the other host is healthy; a stop in the same order. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "drain.h"
#include "unit.h"

static struct conf *load_conf_as(const char *dir, const char *role, const char *bgp, const char *extra)
{
        char text[2000], path[600];
        struct conf *c = NULL;
        struct diag d;

        snprintf(text, sizeof(text),
                 "role = \"%s\";\nshared_ips = [\"198.51.100.10\"];\n"
                 "bgp = { route_servers = [\"192.0.2.1\"]; poll_interval = 0.1; %s };\n"
                 "checks = { directory = \"%s/none\"; };\nruntime_directory = \"%s/run\";\n"
                 "state_directory = \"%s/state\";\n%s\n", role, bgp, dir, dir, dir, extra);
        free(unit_write(dir, "failoverd.conf", text, 0644));
        snprintf(path, sizeof(path), "%s/failoverd.conf", dir);
        diag_init(&d);
        int r = conf_load(path, &c, &d);
        for (size_t i = 0; r < 0 && i < d.n; i++)
                fprintf(stderr, "%s\n", d.msgs[i].text);
        diag_free(&d);
        ck_assert_int_eq(r, 0);
        return c;
}

static struct conf *load_conf(const char *dir, const char *extra)
{
        return load_conf_as(dir, "primary", "", extra);
}

static int order_calls;

static void on_order(void *userdata)
{
        (void)userdata;
        order_calls++;
}

/* Runs e until service 0's phase is want, at most secs; returns the seconds it took, or -1. */
static double run_until(sd_event *e, struct drain *d, enum drain_phase want, double secs)
{
        uint64_t t0 = clock_mono_usec();
        while (drain_phase(d, 0) != want) {
                if (clock_mono_usec() - t0 > secs * 1e6)
                        return -1;
                sd_event_run(e, 20000);
        }
        return (clock_mono_usec() - t0) / 1e6;
}

START_TEST(test_drain_order_delay)
{
        char *dir = unit_tmpdir();
        sd_event *e = NULL;
        struct drain *d = NULL;
        struct conf *c = load_conf(dir, "drain_delay = 0.4;");

        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);
        drain_on_order(d, on_order, NULL);
        order_calls = 0;
        ck_assert_int_eq(drain_phase(d, 0), DRAIN_NONE);
        uint64_t t0 = clock_mono_usec();
        ck_assert_int_eq(drain_set_host(d, true, "test"), 0);
        ck_assert_int_eq(drain_phase(d, 0), DRAIN_DEMOTE);
        ck_assert(drain_demote_left(d, 0) > 0.3);
        ck_assert(run_until(e, d, DRAIN_WITHDRAW, 5) >= 0);
        double took = (clock_mono_usec() - t0) / 1e6;
        ck_assert_msg(took >= 0.4, "withdrawn after %.3f s, before drain_delay 0.4", took);
        ck_assert_int_ge(order_calls, 1);
        ck_assert(drain_demote_left(d, 0) == 0);
        /* Resume, drain again: the delay counts from the new drain. */
        ck_assert_int_eq(drain_set_host(d, false, NULL), 0);
        ck_assert_int_eq(drain_phase(d, 0), DRAIN_NONE);
        ck_assert_int_eq(drain_set_host(d, true, NULL), 0);
        ck_assert_int_eq(drain_phase(d, 0), DRAIN_DEMOTE);
        d = drain_free(d);

        /* A drain saved before this start is past its delay: withdrawn at once, not demoted again. */
        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);
        ck_assert(drain_host(d, NULL));
        ck_assert_int_eq(drain_phase(d, 0), DRAIN_WITHDRAW);
        d = drain_free(d);
        conf_free(c);
        sd_event_unref(e);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

/* Without drain_delay a drain withdraws at once, as before; a stop orders every service the same way. */
START_TEST(test_drain_order_stop)
{
        char *dir = unit_tmpdir();
        sd_event *e = NULL;
        struct drain *d = NULL;
        struct conf *c = load_conf(dir, "");

        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);
        ck_assert_int_eq(drain_set_host(d, true, NULL), 0);
        ck_assert_int_eq(drain_phase(d, 0), DRAIN_WITHDRAW);
        ck_assert_int_eq(drain_set_host(d, false, NULL), 0);
        d = drain_free(d);
        conf_free(c);

        c = load_conf(dir, "drain_delay = 0.3;");
        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);
        drain_stop(d);
        ck_assert_int_eq(drain_phase(d, 0), DRAIN_DEMOTE);
        ck_assert(!drain_host(d, NULL));        /* a stop is no drain that outlives the process */
        ck_assert(run_until(e, d, DRAIN_WITHDRAW, 5) >= 0);
        d = drain_free(d);
        conf_free(c);
        sd_event_unref(e);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

/* A drain_check program in dir that exits with the number in dir/peer (written as code: 0 says the other host
 * is healthy); extra gets prefix and the drain_check line. SIGCHLD is blocked for sd-event's child sources.
 * Returns the program's path, malloc'd. */
static char *peer_check(const char *dir, int code, const char *prefix, char *extra, size_t len)
{
        char flag[600], text[16];
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        snprintf(flag, sizeof(flag), "%s/peer", dir);
        snprintf(text, sizeof(text), "%d\n", code);
        free(unit_write(dir, "peer", text, 0644));
        char *script = unit_write(dir, "peer-check", "#!/bin/sh\nread code < \"$1\"\nexit \"$code\"\n", 0755);
        snprintf(extra, len, "%sdrain_check = [\"%s\", \"%s\"];", prefix, script, flag);
        return script;
}

/* drain_check: withdrawn only while it exits 0 ("the other host is healthy"); demoted again when it stops
 * saying so, as long as the drain lasts. */
START_TEST(test_drain_order_check)
{
        char *dir = unit_tmpdir();
        char extra[1200];
        sd_event *e = NULL;
        struct drain *d = NULL;
        char *script = peer_check(dir, 1, "drain_delay = 0.2;\n", extra, sizeof(extra));
        struct conf *c = load_conf(dir, extra);

        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);
        ck_assert_int_eq(drain_set_host(d, true, NULL), 0);
        /* Past the delay, the check says no: it stays demoted. */
        uint64_t t0 = clock_mono_usec();
        while (clock_mono_usec() - t0 < 800000)
                sd_event_run(e, 20000);
        ck_assert_int_eq(drain_phase(d, 0), DRAIN_DEMOTE);
        /* The other host is healthy: withdrawn at the next check (every poll_interval). */
        free(unit_write(dir, "peer", "0\n", 0644));
        ck_assert(run_until(e, d, DRAIN_WITHDRAW, 5) >= 0);
        /* It is not any more: demoted again while the drain lasts. */
        free(unit_write(dir, "peer", "2\n", 0644));
        ck_assert(run_until(e, d, DRAIN_DEMOTE, 5) >= 0);
        /* A check anyone may rewrite is not run as root, and its silence is no "yes". */
        free(unit_write(dir, "peer", "0\n", 0644));
        if (geteuid() == 0) {
                ck_assert_int_eq(chmod(script, 0777), 0);
                t0 = clock_mono_usec();
                while (clock_mono_usec() - t0 < 600000)
                        sd_event_run(e, 20000);
                ck_assert_int_eq(drain_phase(d, 0), DRAIN_DEMOTE);
                ck_assert_int_eq(chmod(script, 0755), 0);
                ck_assert(run_until(e, d, DRAIN_WITHDRAW, 5) >= 0);
        }
        d = drain_free(d);
        conf_free(c);
        sd_event_unref(e);
        free(script);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

/* bgp.secondary = "silent": on a secondary the drain check runs with no drain (agent/services.c withdraws
 * while it says yes); on a primary it does not run. */
START_TEST(test_drain_order_standby)
{
        char *dir = unit_tmpdir();
        char extra[1200];
        sd_event *e = NULL;
        struct drain *d = NULL;
        char *script = peer_check(dir, 0, "", extra, sizeof(extra));
        ck_assert_int_ge(sd_event_new(&e), 0);

        struct conf *c = load_conf_as(dir, "secondary", "secondary = \"silent\";", extra);
        ck_assert(c->bgp.secondary_silent);
        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);
        uint64_t t0 = clock_mono_usec();
        while (!drain_peer_healthy(d) && clock_mono_usec() - t0 < 5000000)
                sd_event_run(e, 20000);
        ck_assert(drain_peer_healthy(d));
        ck_assert_int_eq(drain_phase(d, 0), DRAIN_NONE);
        free(unit_write(dir, "peer", "2\n", 0644));
        t0 = clock_mono_usec();
        while (drain_peer_healthy(d) && clock_mono_usec() - t0 < 5000000)
                sd_event_run(e, 20000);
        ck_assert(!drain_peer_healthy(d));
        d = drain_free(d);
        conf_free(c);

        free(unit_write(dir, "peer", "0\n", 0644));
        c = load_conf_as(dir, "primary", "secondary = \"silent\";", extra);
        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);
        t0 = clock_mono_usec();
        while (clock_mono_usec() - t0 < 500000)
                sd_event_run(e, 20000);
        ck_assert(!drain_peer_healthy(d));
        d = drain_free(d);
        conf_free(c);
        sd_event_unref(e);
        free(script);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

/* The keys: refused with the file, the line and the value. */
START_TEST(test_drain_order_conf)
{
        static const char *const bad[][2] = {
                { "drain_delay = -1;", "drain_delay" },
                { "drain_delay = 7200;", "drain_delay" },
                { "drain_check = [\"peer-check\"];", "drain_check[0]" },
                { "drain_check = [];", "drain_check" },
                { "drain_check = \"/bin/true\";", "drain_check" },
        };
        char *dir = unit_tmpdir();
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char text[1000], path[600];
                struct conf *c = NULL;
                struct diag d;
                snprintf(text, sizeof(text), "role = \"primary\";\nshared_ips = [\"198.51.100.10\"];\n"
                         "bgp = { route_servers = [\"192.0.2.1\"]; };\nchecks = { directory = \"%s/none\"; };\n%s\n",
                         dir, bad[i][0]);
                free(unit_write(dir, "failoverd.conf", text, 0644));
                snprintf(path, sizeof(path), "%s/failoverd.conf", dir);
                diag_init(&d);
                ck_assert_int_eq(conf_load(path, &c, &d), -EINVAL);
                bool named = false;
                for (size_t k = 0; k < d.n; k++)
                        named = named || (strstr(d.msgs[k].text, "failoverd.conf:5:") && strstr(d.msgs[k].text, bad[i][1]));
                ck_assert_msg(named, "%s: %s", bad[i][0], d.n ? d.msgs[0].text : "no message");
                diag_free(&d);
        }
        unit_rmrf(dir);
        free(dir);
}
END_TEST

Suite *drain_order_suite(void)
{
        Suite *s = suite_create("drain_order");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_drain_order_delay);
        tcase_add_test(tc, test_drain_order_stop);
        tcase_add_test(tc, test_drain_order_check);
        tcase_add_test(tc, test_drain_order_standby);
        tcase_add_test(tc, test_drain_order_conf);
        suite_add_tcase(s, tc);
        return s;
}
