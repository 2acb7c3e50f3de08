/* Unit tests for lib/apply.c that need no FRR: what a killed apply leaves behind is removed at start. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply.h"
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

Suite *apply_suite(void)
{
        Suite *s = suite_create("apply");
        TCase *tc = tcase_create("apply");
        tcase_add_test(tc, test_apply_remove_leftovers);
        suite_add_tcase(s, tc);
        return s;
}
