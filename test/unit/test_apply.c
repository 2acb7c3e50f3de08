/* Unit tests for lib/apply.c that need no FRR: what a killed apply leaves behind is removed at start, and
 * frr.conf's fsync does not stop the loop. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "render.h"
#include "unit.h"

START_TEST(test_apply_remove_leftovers)
{
        char *dir = unit_tmpdir(), path[600], text[1200];
        struct diag d;
        struct conf *c = NULL;

        snprintf(path, sizeof(path), "%s/.failoverd-reload", dir);
        ck_assert_int_eq(mkdir(path, 0700), 0);
        free(unit_write(path, "frr.conf", "x\n", 0600));
        free(unit_write(path, ".frr.conf.Ab12Cd", "x\n", 0600));
        free(unit_write(dir, ".frr.conf.candidate", "x\n", 0600));
        free(unit_write(dir, ".frr.conf.XyZ123", "x\n", 0600));
        char *keep = unit_write(dir, "frr.conf", "kept\n", 0640);
        char *other = unit_write(dir, ".other.conf.candidate", "kept\n", 0640);
        snprintf(text, sizeof(text), "role = \"primary\";\nshared_ips = [\"198.51.100.10\"];\n"
                 "bgp = { route_servers = [\"192.0.2.1\"]; };\nfrr = { config = \"%s\"; };\n"
                 "checks = { directory = \"%s/none\"; };\n", keep, dir);
        char *conf = unit_write(dir, "failoverd.conf", text, 0644);
        diag_init(&d);
        ck_assert_int_eq(conf_load(conf, &c, &d), 0);
        diag_free(&d);

        ck_assert_int_eq(apply_remove_leftovers(c), 4);
        ck_assert_int_eq(access(path, F_OK), -1);               /* the private directory is gone */
        ck_assert_int_eq(access(keep, F_OK), 0);                /* frr.conf itself stays */
        ck_assert_int_eq(access(other, F_OK), 0);               /* so does anything not ours */
        ck_assert_int_eq(apply_remove_leftovers(c), 0);
        conf_free(c);
        free(keep);
        free(other);
        free(conf);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

struct ticker {
        int ticks;
        int ticks_while_stalled;
        bool done;
        int error;
};

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct ticker *t = userdata;
        t->ticks++;
        if (atomic_load(&unit_fsync_waiting) > 0)
                t->ticks_while_stalled++;
        sd_event_source_set_time(s, usec + 20000);
        return 0;
}

static void on_applied(struct apply *a, struct apply_result *r, void *userdata)
{
        struct ticker *t = userdata;
        (void)a;
        t->done = true;
        t->error = r->error;
}

/* The fast path installs frr.conf with an fsync of the file and of its directory: a stalled disk must not
 * stop the loop (timers, the control socket, the watchdog) meanwhile. */
START_TEST(test_apply_install_off_loop)
{
        char *dir = unit_tmpdir(), text[1200], frr[600];
        struct diag d;
        struct conf *c = NULL;

        snprintf(frr, sizeof(frr), "%s/frr.conf", dir);
        snprintf(text, sizeof(text), "role = \"primary\";\nshared_ips = [\"198.51.100.10\"];\n"
                 "bgp = { route_servers = [\"192.0.2.1\"]; };\n"
                 "frr = { config = \"%s\"; vtysh = \"/bin/true\"; timeout = 30; };\n"
                 "checks = { directory = \"%s/none\"; };\n", frr, dir);
        char *conf = unit_write(dir, "failoverd.conf", text, 0644);
        diag_init(&d);
        ck_assert_int_eq(conf_load(conf, &c, &d), 0);
        diag_free(&d);

        sigset_t chld, old;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, &chld, &old), 0);
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct ticker t = { 0 };
        sd_event_source *tick = NULL;
        ck_assert_int_ge(sd_event_add_time_relative(e, &tick, CLOCK_MONOTONIC, 20000, 1000, on_tick, &t), 0);
        ck_assert_int_ge(sd_event_source_set_enabled(tick, SD_EVENT_ON), 0);

        atomic_store(&unit_fsync_stall, 1);
        enum fo_state st[1] = { STATE_PRIMARY };
        ck_assert_int_eq(apply_start(e, c, st, APPLY_FAST, false, on_applied, &t, NULL), 0);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        time_t end = ts.tv_sec + 40;
        /* Ten ticks of the loop while frr.conf's fsync is stalled, then let the disk answer. */
        while (!t.done && t.ticks_while_stalled < 10 && ts.tv_sec < end) {
                ck_assert_int_ge(sd_event_run(e, 100000), 0);
                clock_gettime(CLOCK_MONOTONIC, &ts);
        }
        atomic_store(&unit_fsync_stall, 0);
        ck_assert_msg(t.ticks_while_stalled >= 10, "the loop stood still while frr.conf was synced (%d ticks)",
                      t.ticks_while_stalled);
        ck_assert(!t.done);                     /* the apply waits for the install */
        while (!t.done && ts.tv_sec < end) {
                ck_assert_int_ge(sd_event_run(e, 100000), 0);
                clock_gettime(CLOCK_MONOTONIC, &ts);
        }
        ck_assert(t.done);
        ck_assert_int_eq(t.error, 0);
        char *rendered = NULL;
        ck_assert_int_eq(render_frr_conf(c, st, &rendered), 0);
        FILE *f = fopen(frr, "re");
        ck_assert_ptr_nonnull(f);
        char got[8192];
        size_t n = fread(got, 1, sizeof(got) - 1, f);
        got[n] = '\0';
        fclose(f);
        ck_assert_str_eq(got, rendered);        /* on disk once done, not before */
        free(rendered);

        sd_event_source_disable_unref(tick);
        sd_event_unref(e);
        sigprocmask(SIG_SETMASK, &old, NULL);
        conf_free(c);
        free(conf);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

Suite *apply_suite(void)
{
        Suite *s = suite_create("apply");
        TCase *tc = tcase_create("apply");
        tcase_add_test(tc, test_apply_remove_leftovers);
        tcase_add_test(tc, test_apply_install_off_loop);
        suite_add_tcase(s, tc);
        return s;
}
