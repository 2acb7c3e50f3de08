/* Unit tests for lib/path.c: the directory and last component of absolute, relative and bare names. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "path.h"

static void dir_is(const char *path, const char *want)
{
        char *d = path_dir(path);
        ck_assert_ptr_nonnull(d);
        ck_assert_msg(strcmp(d, want) == 0, "path_dir(\"%s\") = \"%s\", want \"%s\"", path, d, want);
        free(d);
}

START_TEST(test_path_dir)
{
        dir_is("/etc/frr/frr.conf", "/etc/frr");
        dir_is("/frr.conf", "/");
        dir_is("frr.conf", ".");
        dir_is("conf.d/web", "conf.d");
        dir_is("/run/failoverd/", "/run/failoverd");
        dir_is("", ".");
}
END_TEST

START_TEST(test_path_base)
{
        const char *p = "/usr/bin/vtysh";
        ck_assert_ptr_eq(path_base(p), p + 9);
        ck_assert_str_eq(path_base("/vtysh"), "vtysh");
        ck_assert_str_eq(path_base("vtysh"), "vtysh");
        ck_assert_str_eq(path_base("/etc/frr/"), "");
        ck_assert_str_eq(path_base(""), "");
}
END_TEST

Suite *path_suite(void)
{
        Suite *s = suite_create("path");
        TCase *tc = tcase_create("split");
        tcase_add_test(tc, test_path_dir);
        tcase_add_test(tc, test_path_base);
        suite_add_tcase(s, tc);
        return s;
}
