/* Unit tests for lib/checkset.c: start-up, a reload that keeps state, and a failed reload that changes nothing. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unit.h"

#include "checkset.h"

static sigset_t old_mask;
static char *const true_argv[] = { (char *)"/bin/true", NULL };
static char *const false_argv[] = { (char *)"/bin/false", NULL };

struct notes {
        char text[512];
        int results;
};

static void setup(void)
{
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGCHLD);
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, &s, &old_mask), 0);
}

static void teardown(void)
{
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
}

static struct check_conf cc(const char *name, char *const *argv, double interval)
{
        return (struct check_conf){
                .name = (char *)name, .argv = (char **)argv, .interval = interval, .timeout = 5, .rise = 2, .fall = 2,
        };
}

static void on_result(struct check *c, bool changed, void *userdata)
{
        struct notes *n = userdata;
        (void)c;
        (void)changed;
        n->results++;
}

static void on_note(const char *name, enum checkset_change what, void *userdata)
{
        struct notes *n = userdata;
        size_t len = strlen(n->text);
        snprintf(n->text + len, sizeof(n->text) - len, "%s %s;", name,
                 what == CHECKSET_ADDED ? "added" : what == CHECKSET_CHANGED ? "changed" : "removed");
}

static uint64_t mono_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/* Runs the loop until every check has a first result. */
static void run_until_known(sd_event *e, struct check **v, size_t n)
{
        uint64_t end = mono_usec() + 20 * 1000000ULL;
        for (;;) {
                bool all = true;
                for (size_t i = 0; i < n; i++)
                        all &= check_get_state(v[i])->health != HEALTH_UNKNOWN;
                if (all)
                        return;
                ck_assert_msg(mono_usec() < end, "checks gave no result in 20 s");
                ck_assert_int_ge(sd_event_run(e, 50000), 0);
        }
}

static void free_all(struct check **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                check_free(v[i]);
        free(v);
}

/* At start-up every check is new; on reload a kept one keeps its state, a changed one its state and takes
 * the new settings, a removed one goes, a new one starts. */
START_TEST(test_checkset_reload_keeps_state)
{
        sd_event *e = NULL;
        struct notes nt = { "", 0 };
        struct check **v = NULL;
        size_t n = 0;
        ck_assert_int_ge(sd_event_new(&e), 0);

        struct check_conf c1[] = { cc("a", true_argv, 0.05), cc("b", true_argv, 0.05), cc("c", false_argv, 0.05) };
        struct conf prev = { .check = c1, .n_checks = 3 };
        ck_assert_int_eq(checkset_rebuild(e, &v, &n, NULL, &prev, on_result, on_note, &nt), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_str_eq(nt.text, "");          /* start-up is not a change */
        run_until_known(e, v, n);
        struct check *a = v[0], *b = v[1];
        ck_assert_int_eq(check_get_state(a)->health, HEALTH_UP);

        struct check_conf c2[] = { cc("a", true_argv, 0.5), cc("b", true_argv, 0.05), cc("d", true_argv, 0.05) };
        struct conf next = { .check = c2, .n_checks = 3 };
        ck_assert_int_eq(checkset_rebuild(e, &v, &n, &prev, &next, on_result, on_note, &nt), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_ptr_eq(v[0], a);
        ck_assert_ptr_eq(v[1], b);
        ck_assert_int_eq(check_get_state(a)->health, HEALTH_UP);
        ck_assert(check_get_conf(a)->interval == 0.5);
        ck_assert_str_eq(check_name(v[2]), "d");
        ck_assert_str_eq(nt.text, "a changed;d added;c removed;");
        run_until_known(e, v, n);

        free_all(v, n);
        sd_event_unref(e);
}
END_TEST

/* A rebuild that cannot complete (here a check that cannot be created, as out of memory would) leaves
 * the old set exactly as it was: no NULL, no check lost, no settings changed, nothing new running. */
START_TEST(test_checkset_failed_rebuild_changes_nothing)
{
        sd_event *e = NULL;
        struct notes nt = { "", 0 };
        struct check **v = NULL;
        size_t n = 0;
        ck_assert_int_ge(sd_event_new(&e), 0);

        struct check_conf c1[] = { cc("a", true_argv, 0.05), cc("b", true_argv, 0.05) };
        struct conf prev = { .check = c1, .n_checks = 2 };
        ck_assert_int_eq(checkset_rebuild(e, &v, &n, NULL, &prev, on_result, on_note, &nt), 0);
        run_until_known(e, v, n);
        struct check **before = v, *a = v[0], *b = v[1];

        /* "a" changed, "z" cannot be created (interval 0): the change to "a" must not happen either. */
        struct check_conf c2[] = { cc("a", false_argv, 0.5), cc("b", true_argv, 0.05), cc("z", true_argv, 0) };
        struct conf next = { .check = c2, .n_checks = 3 };
        ck_assert_int_lt(checkset_rebuild(e, &v, &n, &prev, &next, on_result, on_note, &nt), 0);
        ck_assert_ptr_eq(v, before);
        ck_assert_uint_eq(n, 2);
        ck_assert_ptr_eq(v[0], a);
        ck_assert_ptr_eq(v[1], b);
        ck_assert_str_eq(check_get_conf(a)->argv[0], "/bin/true");
        ck_assert(check_get_conf(a)->interval == 0.05);

        /* "a" cannot take its new settings, "b" is gone from next: b must survive the failure. */
        struct check_conf c3[] = { cc("a", true_argv, 0) };
        struct conf bad = { .check = c3, .n_checks = 1 };
        ck_assert_int_lt(checkset_rebuild(e, &v, &n, &prev, &bad, on_result, on_note, &nt), 0);
        ck_assert_ptr_eq(v, before);
        ck_assert_uint_eq(n, 2);
        ck_assert_ptr_eq(v[0], a);
        ck_assert_ptr_eq(v[1], b);
        ck_assert(check_get_conf(a)->interval == 0.05);
        ck_assert_str_eq(nt.text, "");          /* nothing was announced as done */

        /* The old set still runs. */
        int from = nt.results;
        uint64_t end = mono_usec() + 20 * 1000000ULL;
        while (nt.results < from + 4 && mono_usec() < end)
                ck_assert_int_ge(sd_event_run(e, 50000), 0);
        ck_assert_int_ge(nt.results, from + 4);

        free_all(v, n);
        sd_event_unref(e);
}
END_TEST

Suite *checkset_suite(void)
{
        Suite *s = suite_create("checkset");
        TCase *tc = tcase_create("rebuild");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_checkset_reload_keeps_state);
        tcase_add_test(tc, test_checkset_failed_rebuild_changes_nothing);
        suite_add_tcase(s, tc);
        return s;
}
