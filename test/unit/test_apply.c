/* Unit tests for lib/apply.c that need no FRR: leftovers, what a full apply touches in frr's directory,
 * and frr.conf's fsync does not stop the loop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "file.h"
#include "render.h"
#include "unit.h"

static struct conf *load(const char *dir, const char *config, const char *extra)
{
        char text[3000];
        struct diag d;
        struct conf *c = NULL;

        snprintf(text, sizeof(text), "role = \"primary\";\nshared_ips = [\"198.51.100.10\"];\n"
                 "bgp = { route_servers = [\"192.0.2.1\"]; };\nfrr = { config = \"%s\"; %s };\n"
                 "checks = { directory = \"%s/none\"; };\nruntime_directory = \"%s/run\";\n", config,
                 extra ? extra : "", dir, dir);
        char *conf = unit_write(dir, "failoverd.conf", text, 0644);
        diag_init(&d);
        int r = conf_load(conf, &c, &d);
        ck_assert_msg(r == 0, "conf_load: %s", d.n ? d.msgs[0].text : "?");
        diag_free(&d);
        free(conf);
        return c;
}

static void path_of(char *out, size_t len, const char *dir, const char *name)
{
        snprintf(out, len, "%s/%s", dir, name);
}

START_TEST(test_apply_remove_leftovers)
{
        char *dir = unit_tmpdir(), frr[600], run[600], priv[700], victim[700], link[700];

        path_of(frr, sizeof(frr), dir, "frr");
        path_of(run, sizeof(run), dir, "run");
        ck_assert_int_eq(mkdir(frr, 0750), 0);
        ck_assert_int_eq(mkdir(run, 0750), 0);
        char *keep = unit_write(frr, "frr.conf", "kept\n", 0640);
        free(unit_write(frr, ".frr.conf" FILE_TEMP_INFIX "Ab12Cd", "x\n", 0600));
        free(unit_write(frr, ".frr.conf.candidate", "x\n", 0600));       /* an older version's */
        char *swp = unit_write(frr, ".frr.conf.swp", "an editor's\n", 0600);
        char *rsync = unit_write(frr, ".frr.conf.XyZ123", "rsync's\n", 0600);
        char *other = unit_write(frr, ".other.conf.candidate", "kept\n", 0640);
        path_of(priv, sizeof(priv), run, "apply.Qw3rTy");
        ck_assert_int_eq(mkdir(priv, 0700), 0);
        free(unit_write(priv, "candidate.conf", "x\n", 0600));
        free(unit_write(priv, "frr.conf", "x\n", 0600));
        /* Planted by the frr user: the old reload directory's name, as a link to somewhere else. */
        path_of(victim, sizeof(victim), dir, "victim");
        ck_assert_int_eq(mkdir(victim, 0755), 0);
        char *vfile = unit_write(victim, "frr.conf", "not failoverd's\n", 0644);
        char *vtemp = unit_write(victim, ".frr.conf.Ab12Cd", "not failoverd's\n", 0644);
        path_of(link, sizeof(link), frr, ".failoverd-reload");
        ck_assert_int_eq(symlink(victim, link), 0);
        struct conf *c = load(dir, keep, NULL);

        ck_assert_int_eq(apply_remove_leftovers(c), 5);
        ck_assert_int_eq(access(priv, F_OK), -1);               /* the private directory is gone */
        ck_assert_int_eq(access(keep, F_OK), 0);                /* frr.conf itself stays */
        ck_assert_int_eq(access(other, F_OK), 0);               /* so does anything not ours */
        ck_assert_int_eq(access(swp, F_OK), 0);
        ck_assert_int_eq(access(rsync, F_OK), 0);
        ck_assert_int_eq(access(vfile, F_OK), 0);               /* nothing through the link */
        ck_assert_int_eq(access(vtemp, F_OK), 0);
        ck_assert_int_eq(apply_remove_leftovers(c), 0);

        /* The old reload directory, really ours: removed. */
        ck_assert_int_eq(unlink(link), 0);
        ck_assert_int_eq(mkdir(link, 0700), 0);
        free(unit_write(link, "frr.conf", "x\n", 0600));
        ck_assert_int_eq(apply_remove_leftovers(c), 2);
        ck_assert_int_eq(access(link, F_OK), -1);
        conf_free(c);
        free(keep);
        free(swp);
        free(rsync);
        free(other);
        free(vfile);
        free(vtemp);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

/* A full apply with a stand-in vtysh and frr-reload.py, frr's directory seeded with what the frr user could
 * plant: the reload copy goes to runtime_directory, nothing is written or removed through a link, an
 * editor's swap file survives. */
START_TEST(test_apply_full_stays_out_of_frr_dir)
{
        if (geteuid() != 0)
                return;
        char *dir = unit_tmpdir(), frr[600], victim[700], link[700], text[2000], conffile[700], record[700];

        path_of(frr, sizeof(frr), dir, "frr");
        path_of(victim, sizeof(victim), dir, "victim");
        path_of(record, sizeof(record), dir, "reload.args");
        ck_assert_int_eq(mkdir(frr, 0750), 0);
        ck_assert_int_eq(chown(frr, 65534, 65534), 0);
        ck_assert_int_eq(mkdir(victim, 0755), 0);
        char *vfile = unit_write(victim, "frr.conf", "not failoverd's\n", 0644);
        path_of(link, sizeof(link), frr, ".failoverd-reload");
        ck_assert_int_eq(symlink(victim, link), 0);
        path_of(link, sizeof(link), frr, ".frr.conf.candidate");
        ck_assert_int_eq(symlink(vfile, link), 0);
        char *swp = unit_write(frr, ".frr.conf.swp", "an editor's\n", 0600);
        path_of(conffile, sizeof(conffile), frr, "frr.conf");
        char *vtysh = unit_write(dir, "vtysh", "#!/bin/sh\nexit 0\n", 0755);
        snprintf(text, sizeof(text), "#!/bin/sh\nfor a in \"$@\"; do f=$a; echo \"$a\"; done > %s\n"
                 "cat \"$f\" >> %s\n", record, record);
        char *reload = unit_write(dir, "frr-reload.py", text, 0755);
        snprintf(text, sizeof(text), "vtysh = \"%s\"; reload = \"%s\";", vtysh, reload);
        struct conf *c = load(dir, conffile, text);
        enum fo_state states[1] = { STATE_PRIMARY };
        struct apply_result r;

        ck_assert_int_eq(apply_run(c, states, APPLY_FULL, false, &r), 0);
        ck_assert_msg(r.error == 0, "apply: %s", r.message ? r.message : "?");
        apply_result_clear(&r);
        char *got = NULL;
        ck_assert_int_eq(file_read(record, 100000, &got, NULL), 0);
        snprintf(text, sizeof(text), "--confdir\n%s/run/apply.", dir);
        ck_assert_msg(strstr(got, text), "frr-reload.py was not given a private confdir in run/:\n%s", got);
        ck_assert_ptr_nonnull(strstr(got, "route-map primary"));  /* it read the rendering there */
        free(got);
        ck_assert_int_eq(file_read(vfile, 1000, &got, NULL), 0);
        ck_assert_str_eq(got, "not failoverd's\n");
        free(got);
        ck_assert_int_eq(file_read(swp, 1000, &got, NULL), 0);
        ck_assert_str_eq(got, "an editor's\n");
        free(got);
        ck_assert_int_eq(file_read(conffile, 100000, &got, NULL), 0);
        ck_assert_ptr_nonnull(strstr(got, "route-map primary"));
        free(got);
        path_of(link, sizeof(link), dir, "run");
        ck_assert_int_eq(rmdir(link), 0);               /* the private directory was removed: run/ is empty */
        conf_free(c);
        free(vfile);
        free(swp);
        free(vtysh);
        free(reload);
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
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_apply_remove_leftovers);
        tcase_add_test(tc, test_apply_full_stays_out_of_frr_dir);
        tcase_add_test(tc, test_apply_install_off_loop);
        suite_add_tcase(s, tc);
        return s;
}
