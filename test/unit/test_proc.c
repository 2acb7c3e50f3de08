/* Unit tests for lib/proc.c: exit codes, signals, exec failures, timeouts, process groups, output limits. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#include "proc.h"

static char *tmp;

static void setup(void)
{
        tmp = unit_tmpdir();
}

static void teardown(void)
{
        unit_rmrf(tmp);
        free(tmp);
        tmp = NULL;
}

static uint64_t mono_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/* A script in the test's temporary directory; the caller frees the path. */
static char *script(const char *name, const char *body)
{
        size_t n = strlen(body) + 32;
        char *text = malloc(n);
        ck_assert_ptr_nonnull(text);
        snprintf(text, n, "#!/bin/sh\n%s\n", body);
        char *p = unit_write(tmp, name, text, 0755);
        free(text);
        return p;
}

static char *tmp_path(const char *name)
{
        size_t n = strlen(tmp) + strlen(name) + 2;
        char *p = malloc(n);
        ck_assert_ptr_nonnull(p);
        snprintf(p, n, "%s/%s", tmp, name);
        return p;
}

/* Runs argv to completion with the given options filled in. */
static void run(struct proc_opts *o, char *const *argv, struct proc_result *r)
{
        o->argv = argv;
        ck_assert_int_eq(proc_run(o, r), 0);
        ck_assert_ptr_nonnull(r->output);
}

static void run_script(const char *body, struct proc_result *r)
{
        char *p = script("s", body);
        char *argv[] = { p, NULL };
        struct proc_opts o = { .timeout_usec = 20000000 };
        run(&o, argv, r);
        free(p);
}

/* Dead means: no such process, or a zombie waiting for its (new) parent. */
static bool pid_gone(pid_t pid)
{
        char path[64], buf[256];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return true;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *rp = strrchr(buf, ')');
        return !rp || rp[1] == '\0' || rp[2] == 'Z' || rp[2] == 'X';
}

static bool wait_gone(pid_t pid, int ms)
{
        for (int i = 0; i < ms / 10; i++) {
                if (pid_gone(pid))
                        return true;
                usleep(10000);
        }
        return pid_gone(pid);
}

static pid_t read_pid(const char *path)
{
        for (int i = 0; i < 500; i++) {
                FILE *f = fopen(path, "re");
                if (f) {
                        int pid = 0;
                        int n = fscanf(f, "%d", &pid);
                        fclose(f);
                        if (n == 1 && pid > 0)
                                return (pid_t)pid;
                }
                usleep(10000);
        }
        ck_abort_msg("no pid in %s", path);
        return -1;
}

static int count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        ck_assert_ptr_nonnull(d);
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

START_TEST(test_proc_exit_codes)
{
        static const int codes[] = { 0, 1, 2, 3, 42 };
        char *p = script("exit", "exit $1");
        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
                char code[16], desc[64];
                snprintf(code, sizeof(code), "%d", codes[i]);
                char *argv[] = { p, code, NULL };
                struct proc_opts o = { 0 };
                struct proc_result r;
                run(&o, argv, &r);
                ck_assert_int_eq(r.exited, 1);
                ck_assert_int_eq(r.status, codes[i]);
                ck_assert_int_eq(r.signal, 0);
                ck_assert_int_eq(r.exec_errno, 0);
                ck_assert(!r.timed_out);
                ck_assert_int_gt(r.pid, 0);
                ck_assert_uint_ge(r.end_usec, r.start_usec);
                proc_describe(&r, desc, sizeof(desc));
                char want[32];
                snprintf(want, sizeof(want), "exit %d", codes[i]);
                ck_assert_str_eq(desc, want);
                proc_result_clear(&r);
        }
        free(p);
}
END_TEST

START_TEST(test_proc_killed_by_signal)
{
        struct proc_result r;
        char desc[64];

        run_script("kill -KILL $$; exit 0", &r);
        ck_assert_int_eq(r.exited, 0);
        ck_assert_int_eq(r.signal, SIGKILL);
        proc_describe(&r, desc, sizeof(desc));
        ck_assert_str_eq(desc, "killed by SIGKILL");
        proc_result_clear(&r);

        run_script("ulimit -c 0; kill -SEGV $$; exit 0", &r);
        ck_assert_int_eq(r.exited, 0);
        ck_assert_int_eq(r.signal, SIGSEGV);
        ck_assert(!r.timed_out);
        proc_result_clear(&r);
}
END_TEST

START_TEST(test_proc_exec_failure)
{
        struct proc_result r;
        struct proc_opts o = { 0 };
        char desc[128];

        char *missing[] = { "/nonexistent/failoverd-check", NULL };
        run(&o, missing, &r);
        ck_assert_int_eq(r.exec_errno, ENOENT);
        ck_assert_str_eq(r.exec_step, "exec");
        ck_assert_int_eq(r.exited, 1);     /* status 127, but valgrind rewrites a forked child's exit code */
        proc_describe(&r, desc, sizeof(desc));
        ck_assert_str_eq(desc, "exec failed: No such file or directory");
        proc_result_clear(&r);

        char *p = unit_write(tmp, "noexec", "#!/bin/sh\nexit 0\n", 0644);
        char *noexec[] = { p, NULL };
        run(&o, noexec, &r);
        ck_assert_int_eq(r.exec_errno, EACCES);
        proc_result_clear(&r);
        free(p);

        /* A relative name is not searched in PATH. */
        char *relative[] = { "true", NULL };
        run(&o, relative, &r);
        ck_assert_int_eq(r.exec_errno, ENOENT);
        proc_result_clear(&r);
}
END_TEST

START_TEST(test_proc_timeout_term)
{
        struct proc_result r;
        char *p = script("slow", "sleep 30");
        char *argv[] = { p, NULL };
        struct proc_opts o = { .timeout_usec = 200000, .kill_grace_usec = 5000000 };
        uint64_t t0 = mono_usec();
        run(&o, argv, &r);
        uint64_t took = mono_usec() - t0;
        ck_assert(r.timed_out);
        ck_assert_int_eq(r.signal, SIGTERM);
        ck_assert_uint_ge(took, 190000);
        ck_assert_uint_lt(took, 4000000);       /* well before the grace: SIGTERM worked */
        char desc[64];
        proc_describe(&r, desc, sizeof(desc));
        ck_assert_str_eq(desc, "timed out after 0.2 s");
        proc_result_clear(&r);
        free(p);
}
END_TEST

START_TEST(test_proc_timeout_ignores_term)
{
        struct proc_result r;
        char *p = script("stubborn", "trap '' TERM; sleep 30; exit 0");
        char *argv[] = { p, NULL };
        struct proc_opts o = { .timeout_usec = 300000, .kill_grace_usec = 300000 };
        uint64_t t0 = mono_usec();
        run(&o, argv, &r);
        uint64_t took = mono_usec() - t0;
        ck_assert(r.timed_out);
        ck_assert_int_eq(r.signal, SIGKILL);
        ck_assert_uint_ge(took, 550000);        /* timeout + grace */
        ck_assert_uint_lt(took, 10000000);
        proc_result_clear(&r);
        free(p);
}
END_TEST

START_TEST(test_proc_grandchild_killed)
{
        struct proc_result r;
        char *pidfile = tmp_path("gc.pid");
        char body[512];

        /* Grandchild with its own stdout: the exit of the leader must still take it down. */
        snprintf(body, sizeof(body), "sleep 30 >/dev/null 2>&1 </dev/null & echo $! > %s; exit 0", pidfile);
        run_script(body, &r);
        ck_assert_int_eq(r.exited, 1);
        ck_assert_int_eq(r.status, 0);
        pid_t gc = read_pid(pidfile);
        ck_assert_msg(wait_gone(gc, 3000), "grandchild %d survived", (int)gc);
        proc_result_clear(&r);
        unlink(pidfile);

        /* Grandchild holding the output pipe: no waiting for its EOF, it dies with the group. */
        snprintf(body, sizeof(body), "sleep 30 & echo $! > %s; echo started; exit 0", pidfile);
        uint64_t t0 = mono_usec();
        run_script(body, &r);
        ck_assert_uint_lt(mono_usec() - t0, 5000000);
        ck_assert_int_eq(r.status, 0);
        ck_assert_str_eq(r.output, "started\n");
        gc = read_pid(pidfile);
        ck_assert_msg(wait_gone(gc, 3000), "grandchild %d survived", (int)gc);
        proc_result_clear(&r);
        free(pidfile);
}
END_TEST

START_TEST(test_proc_escaped_grandchild_no_hang)
{
        struct proc_result r;
        char *pidfile = tmp_path("esc.pid");
        char body[512];

        /* setsid leaves the group; it keeps the pipe open: completion must not wait for its EOF. */
        snprintf(body, sizeof(body), "/usr/bin/setsid /usr/bin/sleep 30 & echo $! > %s; echo hi; exit 5",
                 pidfile);
        uint64_t t0 = mono_usec();
        run_script(body, &r);
        uint64_t took = mono_usec() - t0;
        pid_t gc = read_pid(pidfile);
        kill(gc, SIGKILL);
        ck_assert_uint_lt(took, 5000000);
        ck_assert_int_eq(r.status, 5);
        ck_assert_str_eq(r.output, "hi\n");
        proc_result_clear(&r);
        free(pidfile);
}
END_TEST

START_TEST(test_proc_large_output)
{
        struct proc_result r;
        char *p = script("big", "/usr/bin/yes | /usr/bin/head -c 1048576; exit 7");
        char *argv[] = { p, NULL };

        struct proc_opts o = { .timeout_usec = 30000000 };
        run(&o, argv, &r);
        ck_assert(!r.timed_out);
        ck_assert_int_eq(r.status, 7);
        ck_assert_uint_eq(r.output_len, 64 * 1024);
        ck_assert_uint_eq(strlen(r.output), 64 * 1024);
        ck_assert(r.output_truncated);
        ck_assert_int_eq(memcmp(r.output, "y\ny\n", 4), 0);
        proc_result_clear(&r);

        struct proc_opts small = { .timeout_usec = 30000000, .output_max = 1000 };
        run(&small, argv, &r);
        ck_assert(!r.timed_out);
        ck_assert_int_eq(r.status, 7);
        ck_assert_uint_eq(r.output_len, 1000);
        ck_assert(r.output_truncated);
        proc_result_clear(&r);

        char *q = script("fits", "echo one; echo two >&2");
        char *argv2[] = { q, NULL };
        struct proc_opts d = { 0 };
        run(&d, argv2, &r);
        ck_assert_str_eq(r.output, "one\ntwo\n");       /* stdout and stderr share the pipe */
        ck_assert_uint_eq(r.output_len, 8);
        ck_assert(!r.output_truncated);
        proc_result_clear(&r);
        free(p);
        free(q);
}
END_TEST

START_TEST(test_proc_first_line_only)
{
        struct proc_result r;
        struct proc_opts o = { .first_line_only = true, .output_max = 512 };

        char *p = script("lines", "echo 'OK - all fine'; echo second; /usr/bin/yes | /usr/bin/head -c 200000");
        char *argv[] = { p, NULL };
        run(&o, argv, &r);
        ck_assert_str_eq(r.output, "OK - all fine");
        ck_assert(!r.output_truncated);
        ck_assert_int_eq(r.status, 0);
        proc_result_clear(&r);

        char *q = script("long", "/usr/bin/head -c 2000 /dev/zero | /usr/bin/tr '\\0' x; echo; echo next");
        char *argv2[] = { q, NULL };
        run(&o, argv2, &r);
        ck_assert_uint_eq(r.output_len, 512);
        ck_assert_uint_eq(strlen(r.output), 512);
        ck_assert(r.output_truncated);
        ck_assert_int_eq(r.output[0], 'x');
        proc_result_clear(&r);

        char *z = script("none", "exit 2");
        char *argv3[] = { z, NULL };
        run(&o, argv3, &r);
        ck_assert_str_eq(r.output, "");
        ck_assert_uint_eq(r.output_len, 0);
        proc_result_clear(&r);
        free(p);
        free(q);
        free(z);
}
END_TEST

/* What systemd handed the daemon alone never reaches a child (a check, the notify hook, vtysh): neither from
 * the inherited environment nor from an explicit one. */
START_TEST(test_proc_env_clean)
{
        static const char *const names[] = { "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS",
                                             "LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM" };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                ck_assert_int_eq(setenv(names[i], "leaked", 1), 0);
        ck_assert_int_eq(setenv("FAILOVERD_TEST_KEPT", "yes", 1), 0);

        struct proc_result r;
        struct proc_opts o = { 0 };
        char *argv[] = { "/usr/bin/env", NULL };
        run(&o, argv, &r);
        ck_assert_int_eq(r.status, 0);
        ck_assert_msg(strstr(r.output, "FAILOVERD_TEST_KEPT=yes\n"), "%s", r.output);
        ck_assert_msg(!strstr(r.output, "=leaked"), "a child inherited: %s", r.output);
        proc_result_clear(&r);

        char *env[] = { "NOTIFY_SOCKET=/run/systemd/notify", "WATCHDOG_PID=1", "A=1", NULL };
        o.envp = env;
        run(&o, argv, &r);
        ck_assert_str_eq(r.output, "A=1\n");
        proc_result_clear(&r);
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                unsetenv(names[i]);
        unsetenv("FAILOVERD_TEST_KEPT");
}
END_TEST

START_TEST(test_proc_closed_stdout)
{
        struct proc_result r;
        uint64_t t0 = mono_usec();
        run_script("exec >&- 2>&-; sleep 0.2; exit 0", &r);
        ck_assert_int_eq(r.exited, 1);
        ck_assert_int_eq(r.status, 0);
        ck_assert_uint_ge(mono_usec() - t0, 150000);
        ck_assert_str_eq(r.output, "");
        proc_result_clear(&r);
}
END_TEST

START_TEST(test_proc_stdin_devnull)
{
        struct proc_result r;
        run_script("readlink /proc/$$/fd/0; cat; echo end", &r);
        ck_assert_str_eq(r.output, "/dev/null\nend\n");
        proc_result_clear(&r);
}
END_TEST

START_TEST(test_proc_no_inherited_fds)
{
        int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int b = open("/dev/null", O_RDONLY);
        ck_assert_int_ge(a, 0);
        ck_assert_int_ge(b, 0);
        ck_assert_int_eq(dup3(a, 50, O_CLOEXEC), 50);
        ck_assert_int_eq(dup2(b, 51), 51);      /* no CLOEXEC: only the child's closing keeps it out */

        struct proc_result r;
        struct proc_opts o = { 0 };
        char *argv[] = { "/usr/bin/ls", "/proc/self/fd", NULL };
        run(&o, argv, &r);
        /* 0-2 and ls's own directory descriptor. */
        ck_assert_str_eq(r.output, "0\n1\n2\n3\n");
        proc_result_clear(&r);
        close(a);
        close(b);
        close(50);
        close(51);
}
END_TEST

START_TEST(test_proc_no_parent_fd_leak)
{
        char *argv[] = { "/bin/true", NULL };
        char *failing[] = { "/nonexistent", NULL };
        struct proc_opts o = { .timeout_usec = 10000000 };
        struct proc_result r;

        run(&o, argv, &r);      /* lets libraries open what they keep open */
        proc_result_clear(&r);
        int before = count_fds();
        for (int i = 0; i < 50; i++) {
                run(&o, i % 5 == 4 ? failing : argv, &r);
                proc_result_clear(&r);
        }
        ck_assert_int_eq(count_fds(), before);
}
END_TEST

START_TEST(test_proc_signal_mask_reset)
{
        sigset_t term, old;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, &term, &old), 0);
        struct sigaction ign = { .sa_handler = SIG_IGN }, old_usr1;
        sigemptyset(&ign.sa_mask);
        ck_assert_int_eq(sigaction(SIGUSR1, &ign, &old_usr1), 0);

        struct proc_result r;
        run_script("kill -TERM $$; sleep 5; exit 0", &r);
        ck_assert_int_eq(r.signal, SIGTERM);
        proc_result_clear(&r);

        run_script("kill -USR1 $$; sleep 5; exit 0", &r);
        ck_assert_int_eq(r.signal, SIGUSR1);
        proc_result_clear(&r);

        sigaction(SIGUSR1, &old_usr1, NULL);
        sigprocmask(SIG_SETMASK, &old, NULL);
}
END_TEST

START_TEST(test_proc_user)
{
        struct proc_result r;
        struct proc_cred *cred = NULL;
        char *argv[] = { "/usr/bin/id", "-u", NULL };

        ck_assert_int_eq(proc_cred_lookup("nonexistent-failoverd-user", &cred), -ENOENT);
        ck_assert_ptr_null(cred);
        if (geteuid() != 0)
                return;
        struct passwd *pw = getpwnam("nobody");
        if (!pw)
                return;
        ck_assert_int_eq(proc_cred_lookup("nobody", &cred), 0);
        ck_assert_uint_eq(cred->uid, pw->pw_uid);
        ck_assert_uint_eq(cred->gid, pw->pw_gid);
        struct proc_cred *copy = proc_cred_dup(cred);
        ck_assert(proc_cred_equal(cred, copy));
        copy->uid++;
        ck_assert(!proc_cred_equal(cred, copy));
        ck_assert(!proc_cred_equal(cred, NULL));
        ck_assert(proc_cred_equal(NULL, NULL));
        free(copy);

        char want[32];
        snprintf(want, sizeof(want), "%u\n", (unsigned)pw->pw_uid);
        struct proc_opts o = { .cred = cred };
        run(&o, argv, &r);
        ck_assert_int_eq(r.exec_errno, 0);
        ck_assert_int_eq(r.status, 0);
        ck_assert_str_eq(r.output, want);
        proc_result_clear(&r);

        char *groups[] = { "/usr/bin/id", "-G", NULL };
        run(&o, groups, &r);
        ck_assert_ptr_null(strstr(r.output, "0 "));     /* root's supplementary groups are dropped */
        ck_assert_str_ne(r.output, "0\n");
        proc_result_clear(&r);
        /* Only the child changed: the parent (every thread of it) is still root. */
        ck_assert_int_eq(geteuid(), 0);
        ck_assert_int_eq(getegid(), 0);

        free(cred);
}
END_TEST

/* Asynchronous use on a caller's loop. */
struct async {
        int calls;
        int order;
        char out[64];
        struct proc_result r;
};

static int order_counter;

static void async_done(struct proc *p, struct proc_result *r, void *userdata)
{
        struct async *a = userdata;
        ck_assert_ptr_nonnull(p);
        a->calls++;
        a->order = ++order_counter;
        snprintf(a->out, sizeof(a->out), "%s", r->output);
        a->r = *r;
        a->r.output = NULL;
        ck_assert_ptr_null(proc_free(p));       /* ignored from inside the callback */
}

static void block_sigchld(sigset_t *old)
{
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGCHLD);
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, &s, old), 0);
}

START_TEST(test_proc_two_at_once)
{
        sigset_t old;
        block_sigchld(&old);
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);

        /* slow ends only once fast's callback has run: the order does not depend on the machine's load */
        char *go = tmp_path("go"), body[1024];
        snprintf(body, sizeof(body), "while [ ! -e %s ]; do sleep 0.01; done; echo a; exit 1", go);
        char *slow = script("slow", body);
        char *fast = script("fast", "echo b; exit 2");
        char *argv_slow[] = { slow, NULL }, *argv_fast[] = { fast, NULL };
        struct proc_opts os = { .argv = argv_slow, .timeout_usec = 20000000 };
        struct proc_opts of = { .argv = argv_fast, .timeout_usec = 20000000 };
        struct async a = { 0 }, b = { 0 };
        struct proc *pa = NULL, *pb = NULL;
        order_counter = 0;
        ck_assert_int_eq(proc_spawn(e, &os, async_done, &a, &pa), 0);
        ck_assert_int_eq(proc_spawn(e, &of, async_done, &b, &pb), 0);
        ck_assert_int_gt(proc_pid(pa), 0);
        ck_assert_int_ne(proc_pid(pa), proc_pid(pb));
        ck_assert_int_eq(a.calls + b.calls, 0);         /* never called from inside proc_spawn */

        uint64_t t0 = mono_usec();
        while ((a.calls == 0 || b.calls == 0) && mono_usec() - t0 < 20000000) {
                ck_assert_int_ge(sd_event_run(e, 100000), 0);
                if (b.calls)
                        close(open(go, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        }
        /* A little more running must not call anything twice. */
        for (int i = 0; i < 5; i++)
                sd_event_run(e, 10000);
        ck_assert_int_eq(a.calls, 1);
        ck_assert_int_eq(b.calls, 1);
        ck_assert_str_eq(a.out, "a\n");
        ck_assert_str_eq(b.out, "b\n");
        ck_assert_int_eq(a.r.status, 1);
        ck_assert_int_eq(b.r.status, 2);
        ck_assert_int_lt(b.order, a.order);
        /* Both reaped. */
        ck_assert_int_eq(kill(a.r.pid, 0), -1);
        ck_assert_int_eq(kill(b.r.pid, 0), -1);

        sd_event_unref(e);
        sigprocmask(SIG_SETMASK, &old, NULL);
        free(slow);
        free(go);
        free(fast);
}
END_TEST

START_TEST(test_proc_free_cancels)
{
        sigset_t old;
        block_sigchld(&old);
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);

        char *pidfile = tmp_path("cancel.pid");
        char body[512];
        snprintf(body, sizeof(body), "sleep 30 & echo $! > %s; sleep 30", pidfile);
        char *p = script("cancel", body);
        char *argv[] = { p, NULL };
        struct proc_opts o = { .argv = argv, .timeout_usec = 60000000 };
        struct async a = { 0 };
        struct proc *pr = NULL;
        ck_assert_int_eq(proc_spawn(e, &o, async_done, &a, &pr), 0);
        pid_t pid = proc_pid(pr);

        for (int i = 0; i < 50; i++)
                sd_event_run(e, 10000);
        pid_t gc = read_pid(pidfile);
        ck_assert_ptr_null(proc_free(pr));
        /* proc_free() never waits (a child in uninterruptible sleep would hang the loop): the child is
         * killed but not reaped yet... */
        ck_assert_int_eq(kill(pid, 0), 0);
        ck_assert_msg(wait_gone(gc, 3000), "grandchild %d survived", (int)gc);
        /* ...until the loop sees it die. */
        uint64_t t0 = mono_usec();
        while (kill(pid, 0) == 0 && mono_usec() - t0 < 20000000)
                ck_assert_int_ge(sd_event_run(e, 10000), 0);
        ck_assert_int_eq(kill(pid, 0), -1);
        ck_assert_int_eq(errno, ESRCH);
        for (int i = 0; i < 5; i++)
                sd_event_run(e, 10000);
        ck_assert_int_eq(a.calls, 0);

        /* The loop freed while a cancelled child still runs: nothing leaks (the sanitizer build checks). */
        struct proc_opts ol = { .argv = argv, .timeout_usec = 60000000 };
        ck_assert_int_eq(proc_spawn(e, &ol, async_done, &a, &pr), 0);
        ck_assert_ptr_null(proc_free(pr));

        ck_assert_ptr_null(proc_free(NULL));
        sd_event_unref(e);
        sigprocmask(SIG_SETMASK, &old, NULL);
        free(p);
        free(pidfile);
}
END_TEST

START_TEST(test_proc_spawn_needs_sigchld_blocked)
{
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        char *argv[] = { "/bin/true", NULL };
        struct proc_opts o = { .argv = argv };
        struct proc *p = NULL;
        struct async a = { 0 };
        sigset_t chld, old;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_UNBLOCK, &chld, &old);
        /* Refused before any fork on every libsystemd (newer sd-event would accept it): nothing left behind. */
        ck_assert_int_eq(proc_spawn(e, &o, async_done, &a, &p), -EBUSY);
        ck_assert_ptr_null(p);
        sigprocmask(SIG_SETMASK, &old, NULL);
        ck_assert_int_eq(proc_spawn(NULL, &o, async_done, &a, &p), -EINVAL);
        struct proc_opts empty = { 0 };
        ck_assert_int_eq(proc_spawn(e, &empty, async_done, &a, &p), -EINVAL);
        sd_event_unref(e);
}
END_TEST

Suite *proc_suite(void)
{
        Suite *s = suite_create("proc");
        TCase *tc = tcase_create("run");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_proc_exit_codes);
        tcase_add_test(tc, test_proc_killed_by_signal);
        tcase_add_test(tc, test_proc_exec_failure);
        tcase_add_test(tc, test_proc_timeout_term);
        tcase_add_test(tc, test_proc_timeout_ignores_term);
        tcase_add_test(tc, test_proc_grandchild_killed);
        tcase_add_test(tc, test_proc_escaped_grandchild_no_hang);
        tcase_add_test(tc, test_proc_large_output);
        tcase_add_test(tc, test_proc_first_line_only);
        tcase_add_test(tc, test_proc_closed_stdout);
        tcase_add_test(tc, test_proc_stdin_devnull);
        tcase_add_test(tc, test_proc_no_inherited_fds);
        tcase_add_test(tc, test_proc_no_parent_fd_leak);
        tcase_add_test(tc, test_proc_signal_mask_reset);
        tcase_add_test(tc, test_proc_user);
        tcase_add_test(tc, test_proc_two_at_once);
        tcase_add_test(tc, test_proc_free_cancels);
        tcase_add_test(tc, test_proc_spawn_needs_sigchld_blocked);
        tcase_add_test(tc, test_proc_env_clean);
        suite_add_tcase(s, tc);
        return s;
}
