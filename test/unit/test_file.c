/* Unit tests for lib/file.c: atomic replacement, unchanged skip, mode and owner, failure leaves the old file. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "unit.h"

static int count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;
        ck_assert_ptr_nonnull(d);
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

START_TEST(test_file_write_and_skip)
{
        char *dir = unit_tmpdir();
        char *path = unit_write(dir, "frr.conf", "old\n", 0600);
        bool changed = false;
        struct stat st1, st2;
        char *text;

        ck_assert_int_eq(file_write_atomic(path, "new\n", 4, 0640, FILE_DURABLE, &changed), 0);
        ck_assert(changed);
        ck_assert_int_eq(file_read(path, 1024, &text, NULL), 0);
        ck_assert_str_eq(text, "new\n");
        free(text);
        ck_assert_int_eq(stat(path, &st1), 0);
        ck_assert_int_eq(st1.st_mode & 07777, 0640);

        /* Same content: nothing is written, the inode stays. */
        ck_assert_int_eq(file_write_atomic(path, "new\n", 4, 0640, FILE_DURABLE, &changed), 0);
        ck_assert(!changed);
        ck_assert_int_eq(stat(path, &st2), 0);
        ck_assert_int_eq(st1.st_ino, st2.st_ino);
        ck_assert_int_eq(count_entries(dir), 1);        /* no temporary file left */

        /* Without FILE_DURABLE: still atomic (rename), just no fsync. */
        ck_assert_int_eq(file_write_atomic(path, "scrape\n", 7, 0644, 0, &changed), 0);
        ck_assert(changed);
        ck_assert_int_eq(file_read(path, 1024, &text, NULL), 0);
        ck_assert_str_eq(text, "scrape\n");
        free(text);
        ck_assert_int_eq(count_entries(dir), 1);
        unit_rmrf(dir);
        free(dir);
        free(path);
}
END_TEST

START_TEST(test_file_keeps_owner)
{
        if (geteuid() != 0)
                return;
        char *dir = unit_tmpdir();
        char *path = unit_write(dir, "frr.conf", "old\n", 0640);
        struct stat st;
        ck_assert_int_eq(chown(path, 65534, 65534), 0);
        ck_assert_int_eq(file_write_atomic(path, "x\n", 2, 0640, FILE_DURABLE, NULL), 0);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_uid, 65534);
        ck_assert_int_eq(st.st_gid, 65534);
        unit_rmrf(dir);
        free(dir);
        free(path);
}
END_TEST

START_TEST(test_file_failure_keeps_old)
{
        char *dir = unit_tmpdir();
        char *path = unit_write(dir, "frr.conf", "old\n", 0640);
        char *text;

        /* A directory that cannot take a new file (as root, chmod is not enough: use a missing one). */
        ck_assert_int_eq(file_write_atomic("/nonexistent-failoverd/frr.conf", "x", 1, 0640, FILE_DURABLE, NULL), -ENOENT);
        ck_assert_int_eq(file_write_atomic(dir, "x", 1, 0640, FILE_DURABLE, NULL) < 0, 1);   /* path is a directory */
        ck_assert_int_eq(file_read(path, 1024, &text, NULL), 0);
        ck_assert_str_eq(text, "old\n");
        free(text);
        ck_assert_int_eq(count_entries(dir), 1);
        ck_assert_int_eq(file_read(path, 2, &text, NULL), -EFBIG);
        unit_rmrf(dir);
        free(dir);
        free(path);
}
END_TEST

Suite *file_suite(void)
{
        Suite *s = suite_create("file");
        TCase *tc = tcase_create("file");
        tcase_add_test(tc, test_file_write_and_skip);
        tcase_add_test(tc, test_file_keeps_owner);
        tcase_add_test(tc, test_file_failure_keeps_old);
        suite_add_tcase(s, tc);
        return s;
}
