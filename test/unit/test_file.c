/* Unit tests for lib/file.c: atomic replacement, unchanged skip, mode and owner, failure leaves the old file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <signal.h>
#include <stdio.h>
#include <time.h>

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

        /* A FIFO where a file is read (bgpd.pid in frr's /run/frr): refused at once, not waited on. */
        char fifo[600];
        snprintf(fifo, sizeof(fifo), "%s/bgpd.pid", dir);
        ck_assert_int_eq(mkfifo(fifo, 0644), 0);
        ck_assert_int_eq(file_read(fifo, 64, &text, NULL), -EINVAL);
        ck_assert_int_eq(file_read(dir, 64, &text, NULL), -EINVAL);
        unit_rmrf(dir);
        free(dir);
        free(path);
}
END_TEST

/* /etc/frr is frr:frr 0750 and failoverd writes there as root: whatever the frr user plants there must not
 * make root write, chown or read anywhere else. Here "frr" is nobody, and dir plays /etc/frr. */
START_TEST(test_file_planted_symlinks)
{
        if (geteuid() != 0)
                return;
        char *top = unit_tmpdir(), dir[600], elsewhere[600], path[700], victim[700], text_path[700];
        char *text;
        struct stat st;

        snprintf(dir, sizeof(dir), "%s/frr", top);
        snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", top);
        ck_assert_int_eq(mkdir(dir, 0750), 0);
        ck_assert_int_eq(chown(dir, 65534, 65534), 0);
        ck_assert_int_eq(mkdir(elsewhere, 0755), 0);
        char *v = unit_write(elsewhere, "shadow", "secret\n", 0640);
        snprintf(victim, sizeof(victim), "%s", v);
        free(v);
        ck_assert_int_eq(chown(victim, 0, 42), 0);

        /* frr.conf replaced by a link to a file of root's: no write through it, no owner copied from it,
         * the link is not replaced either. */
        snprintf(path, sizeof(path), "%s/frr.conf", dir);
        ck_assert_int_eq(symlink(victim, path), 0);
        ck_assert_int_eq(file_write_atomic(path, "x\n", 2, 0640, FILE_DURABLE, NULL), -ELOOP);
        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert(S_ISLNK(st.st_mode));
        ck_assert_int_eq(file_read(victim, 1024, &text, NULL), 0);
        ck_assert_str_eq(text, "secret\n");
        free(text);
        ck_assert_int_eq(file_read_at(AT_FDCWD, path, 1024, &text, NULL), -ELOOP);
        ck_assert_int_eq(count_entries(dir), 1);
        ck_assert_int_eq(unlink(path), 0);

        /* A FIFO under the name: no hang reading it for the unchanged test; it is replaced. */
        ck_assert_int_eq(mkfifo(path, 0644), 0);
        ck_assert_int_eq(file_write_atomic(path, "y\n", 2, 0640, FILE_DURABLE, NULL), 0);
        ck_assert_int_eq(file_read(path, 1024, &text, NULL), 0);
        ck_assert_str_eq(text, "y\n");
        free(text);

        /* A directory on the way (as in /etc/frr/NAME/frr.conf) swapped for a link: refused. */
        snprintf(text_path, sizeof(text_path), "%s/NAME", dir);
        ck_assert_int_eq(symlink(elsewhere, text_path), 0);
        snprintf(path, sizeof(path), "%s/NAME/frr.conf", dir);
        ck_assert_int_eq(file_write_atomic(path, "z\n", 2, 0640, FILE_DURABLE, NULL), -ELOOP);
        ck_assert_int_eq(count_entries(elsewhere), 1);
        ck_assert_int_lt(file_open_dir(text_path), 0);

        /* The same link made by root in root's own directory is the administrator's: followed. */
        snprintf(text_path, sizeof(text_path), "%s/link", top);
        ck_assert_int_eq(symlink(elsewhere, text_path), 0);
        snprintf(path, sizeof(path), "%s/link/frr.conf", top);
        ck_assert_int_eq(file_write_atomic(path, "w\n", 2, 0640, FILE_DURABLE, NULL), 0);
        ck_assert_int_eq(count_entries(elsewhere), 2);
        int fd = file_open_dir(text_path);
        ck_assert_int_ge(fd, 0);
        close(fd);

        ck_assert(file_is_temp_name(".frr.conf" FILE_TEMP_INFIX "Ab12Cd", "frr.conf"));
        ck_assert(!file_is_temp_name(".frr.conf.swp", "frr.conf"));
        ck_assert(!file_is_temp_name(".frr.conf.Ab12Cd", "frr.conf"));
        ck_assert(!file_is_temp_name(".frr.conf" FILE_TEMP_INFIX "Ab12C", "frr.conf"));
        ck_assert(!file_is_temp_name(".frr.conf" FILE_TEMP_INFIX "Ab12Cd.swp", "frr.conf"));
        ck_assert(!file_is_temp_name(".drain" FILE_TEMP_INFIX "Ab12Cd", "frr.conf"));
        unit_rmrf(top);
        free(top);
}
END_TEST

struct job_rec {
        int calls;
        int error;
        bool changed;
};

static void on_job(struct file_job *j, int error, bool changed, void *userdata)
{
        struct job_rec *r = userdata;
        ck_assert_ptr_nonnull(j);
        ck_assert_ptr_null(file_job_cancel(j));         /* ignored from inside done */
        r->calls++;
        r->error = error;
        r->changed = changed;
}

static void run_until(sd_event *e, const struct job_rec *r, int calls)
{
        for (int i = 0; i < 3000 && r->calls < calls; i++)
                ck_assert_int_ge(sd_event_run(e, 10000), 0);
        ck_assert_int_eq(r->calls, calls);
}

START_TEST(test_file_async)
{
        char *dir = unit_tmpdir();
        char *path = unit_write(dir, "drain", "old\n", 0600);
        sd_event *e = NULL;
        struct file_job *j = NULL;
        struct job_rec r = { 0 };
        char *text;

        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(file_write_async(e, path, "new\n", 4, 0640, FILE_DURABLE, on_job, &r, &j), 0);
        ck_assert_int_eq(r.calls, 0);                   /* never from inside the call */
        run_until(e, &r, 1);
        ck_assert_int_eq(r.error, 0);
        ck_assert(r.changed);
        ck_assert_int_eq(file_read(path, 1024, &text, NULL), 0);
        ck_assert_str_eq(text, "new\n");
        free(text);

        ck_assert_int_eq(file_write_async(e, path, "new\n", 4, 0640, FILE_DURABLE, on_job, &r, &j), 0);
        run_until(e, &r, 2);
        ck_assert(!r.changed);                          /* same content: not rewritten */

        ck_assert_int_eq(file_remove_async(e, path, FILE_DURABLE, on_job, &r, &j), 0);
        run_until(e, &r, 3);
        ck_assert_int_eq(r.error, 0);
        ck_assert(r.changed);
        ck_assert_int_eq(access(path, F_OK), -1);
        ck_assert_int_eq(file_remove_async(e, path, FILE_DURABLE, on_job, &r, &j), 0);
        run_until(e, &r, 4);
        ck_assert_int_eq(r.error, 0);                   /* already gone: fine */
        ck_assert(!r.changed);

        char missing[600];
        snprintf(missing, sizeof(missing), "%s/no/such/dir/drain", dir);
        ck_assert_int_eq(file_write_async(e, missing, "x", 1, 0640, FILE_DURABLE, on_job, &r, &j), 0);
        run_until(e, &r, 5);
        ck_assert_int_eq(r.error, -ENOENT);

        /* Cancelled: done is not called, the write still completes on its thread, nothing leaks. */
        ck_assert_int_eq(file_write_async(e, path, "late\n", 5, 0640, FILE_DURABLE, on_job, &r, &j), 0);
        ck_assert_ptr_null(file_job_cancel(j));
        for (int i = 0; i < 300 && access(path, F_OK) < 0; i++)
                ck_assert_int_ge(sd_event_run(e, 10000), 0);
        ck_assert_int_eq(file_read(path, 1024, &text, NULL), 0);
        ck_assert_str_eq(text, "late\n");
        free(text);
        ck_assert_int_eq(r.calls, 5);

        /* At shutdown a job in flight can be waited for. */
        ck_assert_int_eq(file_write_async(e, path, "last\n", 5, 0640, FILE_DURABLE, on_job, &r, &j), 0);
        ck_assert(file_job_finish(j, 20000));
        ck_assert_int_eq(r.calls, 6);
        ck_assert_int_eq(r.error, 0);
        ck_assert_int_eq(file_read(path, 1024, &text, NULL), 0);
        ck_assert_str_eq(text, "last\n");
        free(text);

        sd_event_unref(e);
        free(path);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

/* The fsync of a durable write happens on the job's thread: the loop runs on while the disk stalls. */
START_TEST(test_file_async_sync_off_loop)
{
        char *dir = unit_tmpdir();
        char path[600];
        sd_event *e = NULL;
        struct file_job *j = NULL;
        struct job_rec r = { 0 };

        snprintf(path, sizeof(path), "%s/frr.conf", dir);
        ck_assert_int_ge(sd_event_new(&e), 0);
        atomic_store(&unit_fsync_stall, 1);
        ck_assert_int_eq(file_write_async(e, path, "x\n", 2, 0640, FILE_DURABLE, on_job, &r, &j), 0);
        int spins = 0;
        for (int i = 0; i < 2000 && atomic_load(&unit_fsync_waiting) == 0; i++)
                ck_assert_int_ge(sd_event_run(e, 10000), 0);
        ck_assert_int_eq(atomic_load(&unit_fsync_waiting), 1);
        for (; spins < 10; spins++)
                ck_assert_int_ge(sd_event_run(e, 10000), 0);    /* returns: the loop is not the one waiting */
        ck_assert_int_eq(r.calls, 0);
        atomic_store(&unit_fsync_stall, 0);
        run_until(e, &r, 1);
        ck_assert_int_eq(r.error, 0);
        ck_assert_int_eq(access(path, F_OK), 0);
        sd_event_unref(e);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

/* The thread runs fn(arg) detached, with every signal blocked (they belong to the loop's signalfd). */
struct thread_probe {
        int efd;
        int term_blocked, chld_blocked;
};

static void *probe_thread(void *arg)
{
        struct thread_probe *p = arg;
        sigset_t cur;
        uint64_t one = 1;

        pthread_sigmask(SIG_SETMASK, NULL, &cur);
        p->term_blocked = sigismember(&cur, SIGTERM);
        p->chld_blocked = sigismember(&cur, SIGCHLD);
        ck_assert_int_eq(write(p->efd, &one, sizeof(one)), (ssize_t)sizeof(one));
        return NULL;
}

START_TEST(test_file_thread_detached)
{
        struct thread_probe p = { .efd = eventfd(0, EFD_CLOEXEC) };
        sigset_t mine;
        uint64_t v;

        ck_assert_int_ge(p.efd, 0);
        ck_assert_int_eq(file_thread_detached(probe_thread, &p), 0);
        ck_assert_int_eq(read(p.efd, &v, sizeof(v)), (ssize_t)sizeof(v));   /* blocks until the thread ran */
        ck_assert_int_eq(p.term_blocked, 1);
        ck_assert_int_eq(p.chld_blocked, 1);
        pthread_sigmask(SIG_SETMASK, NULL, &mine);
        ck_assert_int_eq(sigismember(&mine, SIGTERM), 0);     /* the caller's own mask is given back */
        close(p.efd);
}
END_TEST

Suite *file_suite(void)
{
        Suite *s = suite_create("file");
        TCase *tc = tcase_create("file");
        tcase_add_test(tc, test_file_write_and_skip);
        tcase_add_test(tc, test_file_keeps_owner);
        tcase_add_test(tc, test_file_failure_keeps_old);
        tcase_add_test(tc, test_file_planted_symlinks);
        tcase_add_test(tc, test_file_async);
        tcase_add_test(tc, test_file_async_sync_off_loop);
        tcase_add_test(tc, test_file_thread_detached);
        suite_add_tcase(s, tc);
        return s;
}
