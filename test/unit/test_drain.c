/* Unit tests for agent/drain.c, the one owner of every drain: host and per-service drains in memory and
 * on disk, kept across a restart and a reload, refused for an unknown service. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "drain.h"
#include "file.h"
#include "unit.h"

static struct conf *load_conf(const char *dir, const char *services)
{
        char text[2000], path[600];
        struct conf *c = NULL;
        struct diag d;

        snprintf(text, sizeof(text),
                 "%s\nbgp = { route_servers = [\"192.0.2.1\"]; };\n"
                 "checks = { directory = \"%s/none\"; };\nruntime_directory = \"%s/run\";\n"
                 "state_directory = \"%s/state/sub\";\n", services, dir, dir, dir);
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

static char *read_state(const char *dir, const char *name)
{
        char path[700], *text = NULL;
        snprintf(path, sizeof(path), "%s/state/sub/%s", dir, name);
        return file_read(path, 4096, &text, NULL) == 0 ? text : NULL;
}

#define TWO "services = ( { name = \"web\"; role = \"primary\"; shared_ips = [\"198.51.100.10\"]; }, " \
            "{ name = \"db\"; role = \"secondary\"; shared_ips = [\"198.51.100.20\"]; } );"

/* A drain is answered from memory, reaches the disk, and holds after a restart. */
START_TEST(test_drain_survives_restart)
{
        char *dir = unit_tmpdir();
        sd_event *e = NULL;
        struct drain *d = NULL;
        const char *why = NULL;
        struct conf *c = load_conf(dir, TWO);

        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);
        ck_assert(!drain_host(d, &why));
        ck_assert_int_eq(drain_set_host(d, false, NULL), -EALREADY);
        ck_assert_int_eq(drain_set_host(d, true, "kernel upgrade"), 0);
        ck_assert_int_eq(drain_set_service(d, "db", true, "disk swap"), 0);
        ck_assert_int_eq(drain_set_service(d, "wbe", true, NULL), -ENOENT);     /* a typo drains nothing */
        ck_assert_int_eq(drain_set_service(d, "web", false, NULL), -EALREADY);
        ck_assert(drain_host(d, &why));
        ck_assert_str_eq(why, "kernel upgrade");
        ck_assert(!drain_service(d, 0, NULL));
        ck_assert(drain_service(d, 1, &why));
        ck_assert_str_eq(why, "disk swap");
        d = drain_free(d);      /* stopping: the files are written before it returns */
        char *t = read_state(dir, "drain");
        ck_assert_str_eq(t, "kernel upgrade\n");
        free(t);
        t = read_state(dir, "drain.db");
        ck_assert_str_eq(t, "disk swap\n");
        free(t);
        ck_assert_ptr_null(read_state(dir, "drain.wbe"));

        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);
        ck_assert(drain_host(d, &why));
        ck_assert_str_eq(why, "kernel upgrade");
        ck_assert(drain_service(d, 1, &why));
        ck_assert_str_eq(why, "disk swap");
        ck_assert_int_eq(drain_resume_services(d), 1);
        ck_assert_int_eq(drain_set_host(d, false, NULL), 0);
        d = drain_free(d);
        ck_assert_ptr_null(read_state(dir, "drain"));
        ck_assert_ptr_null(read_state(dir, "drain.db"));

        conf_free(c);
        sd_event_unref(e);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

/* A reload keeps the drain of a service that keeps its name, forgets a removed one's; the top-level form
 * has no service drains (its one service is the host). */
START_TEST(test_drain_reload)
{
        char *dir = unit_tmpdir();
        sd_event *e = NULL;
        struct drain *d = NULL;
        struct conf *c = load_conf(dir, TWO);

        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);
        ck_assert_int_eq(drain_set_service(d, "db", true, NULL), 0);
        struct conf *c2 = load_conf(dir, "services = ( { name = \"db\"; role = \"secondary\"; shared_ips = [\"198.51.100.20\"]; } );");
        ck_assert_int_eq(drain_set_conf(d, c2), 0);
        ck_assert(drain_service(d, 0, NULL));
        ck_assert(!drain_service(d, 1, NULL));
        struct conf *c3 = load_conf(dir, "role = \"primary\";\nshared_ips = [\"198.51.100.10\"];");
        ck_assert_int_eq(drain_set_conf(d, c3), 0);
        ck_assert_int_eq(drain_set_service(d, "db", true, NULL), -ENOENT);
        ck_assert_int_eq(drain_resume_services(d), 0);
        d = drain_free(d);
        conf_free(c);
        conf_free(c2);
        conf_free(c3);
        sd_event_unref(e);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

static int by_name(const void *a, const void *b)
{
        return strcmp(a, b);
}

/* The names in the state directory, sorted, joined by spaces: no temporary file may be left behind. */
static void list_state(const char *dir, char *out, size_t len)
{
        char path[700], names[8][256];
        size_t n = 0;
        snprintf(path, sizeof(path), "%s/state/sub", dir);
        DIR *dh = opendir(path);
        ck_assert_ptr_nonnull(dh);
        for (struct dirent *de; (de = readdir(dh));)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        snprintf(names[n < 8 ? n++ : 7], sizeof(names[0]), "%s", de->d_name);
        closedir(dh);
        qsort(names, n, sizeof(names[0]), by_name);
        out[0] = '\0';
        for (size_t i = 0; i < n; i++)
                snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? " " : "", names[i]);
}

/* Asks for on, then, while that save is held in fsync, for !on; the loop then ends (as failoverd's does at
 * a stop) before it has seen the first save end. */
static void flip_while_saving(struct drain *d, sd_event *e, bool on, const char *reason, const char *service)
{
        atomic_store(&unit_fsync_stall, 1);
        if (service)
                ck_assert_int_eq(drain_set_service(d, service, on, reason), 0);
        else
                ck_assert_int_eq(drain_set_host(d, on, reason), 0);
        struct timespec ms1 = { 0, 1000000 };
        for (int i = 0; i < 20000 && atomic_load(&unit_fsync_waiting) == 0; i++)
                nanosleep(&ms1, NULL);
        ck_assert_int_eq(atomic_load(&unit_fsync_waiting), 1);          /* the first save is in flight */
        if (service)
                ck_assert_int_eq(drain_set_service(d, service, !on, on ? NULL : "second thoughts"), 0);
        else
                ck_assert_int_eq(drain_set_host(d, !on, on ? NULL : "second thoughts"), 0);
        ck_assert_int_ge(sd_event_exit(e, 0), 0);
        ck_assert_int_ge(sd_event_loop(e), 0);
        ck_assert_int_eq(sd_event_get_state(e), SD_EVENT_FINISHED);
        atomic_store(&unit_fsync_stall, 0);
}

/* A stop while a save is in flight: the last request reaches the disk, whole, though the loop has ended
 * (drain then resume must not come back drained after a restart, nor resume then drain resumed). */
START_TEST(test_drain_last_request_survives_stop)
{
        char *dir = unit_tmpdir();
        sd_event *e = NULL;
        struct drain *d = NULL;
        const char *why = NULL;
        char names[600];
        struct conf *c = load_conf(dir, TWO);

        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);
        flip_while_saving(d, e, true, "kernel upgrade", NULL);
        d = drain_free(d);
        list_state(dir, names, sizeof(names));
        ck_assert_str_eq(names, "");
        e = sd_event_unref(e);

        /* The reverse, and a service's drain the same way. */
        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);
        ck_assert_int_eq(drain_set_host(d, true, "first"), 0);
        ck_assert_int_eq(drain_set_service(d, "db", true, "disk swap"), 0);
        d = drain_free(d);
        e = sd_event_unref(e);
        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);
        ck_assert(drain_host(d, NULL));
        flip_while_saving(d, e, false, NULL, NULL);
        d = drain_free(d);
        e = sd_event_unref(e);
        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);
        flip_while_saving(d, e, false, NULL, "db");
        d = drain_free(d);
        list_state(dir, names, sizeof(names));
        ck_assert_str_eq(names, "drain drain.db");
        char *t = read_state(dir, "drain");
        ck_assert_str_eq(t, "second thoughts\n");
        free(t);
        t = read_state(dir, "drain.db");
        ck_assert_str_eq(t, "second thoughts\n");
        free(t);
        e = sd_event_unref(e);

        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(drain_new(e, c, NULL, NULL, &d), 0);     /* the restart sees what was asked last */
        ck_assert(drain_host(d, &why));
        ck_assert_str_eq(why, "second thoughts");
        ck_assert(drain_service(d, 1, &why));
        ck_assert_str_eq(why, "second thoughts");
        d = drain_free(d);

        conf_free(c);
        sd_event_unref(e);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

Suite *drain_suite(void)
{
        Suite *s = suite_create("drain");
        TCase *tc = tcase_create("drain");
        tcase_add_test(tc, test_drain_survives_restart);
        tcase_add_test(tc, test_drain_reload);
        tcase_add_test(tc, test_drain_last_request_survives_stop);
        suite_add_tcase(s, tc);
        return s;
}
