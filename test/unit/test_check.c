/* Unit tests for lib/check.c: scheduling, rise/fall through real scripts, no overlap, grading, security. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#include "check.h"
#include "check_native.h"
#include "proc.h"

#define MAX_RESULTS 256

static char *tmp;
static sigset_t old_mask;

struct rec {
        int n;                                  /* results seen */
        int changes;
        uint64_t start[MAX_RESULTS];            /* CLOCK_MONOTONIC start of each run */
        int status[MAX_RESULTS];
        enum health health[MAX_RESULTS];
        enum severity severity[MAX_RESULTS];
        bool free_in_cb;
};

static void setup(void)
{
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGCHLD);
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, &s, &old_mask), 0);
        tmp = unit_tmpdir();
}

static void teardown(void)
{
        unit_rmrf(tmp);
        free(tmp);
        tmp = NULL;
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
}

static uint64_t mono_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static char *path_in(const char *dir, const char *name)
{
        size_t n = strlen(dir) + strlen(name) + 2;
        char *p = malloc(n);
        ck_assert_ptr_nonnull(p);
        snprintf(p, n, "%s/%s", dir, name);
        return p;
}

static char *script(const char *dir, const char *name, const char *body)
{
        size_t n = strlen(body) + 32;
        char *text = malloc(n);
        ck_assert_ptr_nonnull(text);
        snprintf(text, n, "#!/bin/sh\n%s\n", body);
        char *p = unit_write(dir, name, text, 0755);
        free(text);
        return p;
}

static void set_flag(const char *flag, const char *value)
{
        /* Atomic replacement: a running script never reads a half-written flag. */
        char *t = path_in(tmp, "flag.tmp");
        free(unit_write(tmp, "flag.tmp", value, 0644));
        ck_assert_int_eq(rename(t, flag), 0);
        free(t);
}

static void on_result(struct check *c, bool changed, void *userdata)
{
        struct rec *r = userdata;
        const struct check_result *res = check_get_result(c);
        const struct check_state *st = check_get_state(c);
        ck_assert_ptr_nonnull(res);
        ck_assert(!check_running(c));
        if (r->n < MAX_RESULTS) {
                r->start[r->n] = res->end_usec - res->duration_usec;
                r->status[r->n] = res->exited ? res->status : -1;
                r->health[r->n] = st->health;
                r->severity[r->n] = st->severity;
        }
        r->n++;
        ck_assert_uint_eq(res->runs, (uint64_t)r->n);
        if (changed)
                r->changes++;
        if (r->free_in_cb)
                ck_assert_ptr_null(check_free(c));
}

/* Runs the loop until pred holds or ms pass; returns whether pred held. */
static bool loop_until(sd_event *e, bool (*pred)(const struct rec *, const void *), const struct rec *r,
                       const void *arg, int ms)
{
        uint64_t end = mono_usec() + (uint64_t)ms * 1000;
        while (!pred(r, arg)) {
                if (mono_usec() > end)
                        return false;
                ck_assert_int_ge(sd_event_run(e, 50000), 0);
        }
        return true;
}

static bool has_n(const struct rec *r, const void *arg)
{
        return r->n >= *(const int *)arg;
}

static bool has_health(const struct rec *r, const void *arg)
{
        return r->n > 0 && r->health[(r->n - 1) % MAX_RESULTS] == *(const enum health *)arg;
}

static void run_for(sd_event *e, int ms)
{
        uint64_t end = mono_usec() + (uint64_t)ms * 1000;
        while (mono_usec() < end)
                ck_assert_int_ge(sd_event_run(e, 20000), 0);
}

static struct check_conf conf_of(char **argv, double interval, double timeout, int rise, int fall)
{
        return (struct check_conf){
                .name = "t", .argv = argv, .interval = interval, .timeout = timeout, .rise = rise, .fall = fall,
        };
}

/* Results since index from whose exit status was bad (non-zero) before health turned `want`. */
static int streak_before(const struct rec *r, int from, enum health want, bool bad)
{
        int n = 0;
        for (int i = from; i < r->n && i < MAX_RESULTS; i++) {
                if (bad ? r->status[i] != 0 : r->status[i] == 0)
                        n++;
                else
                        n = 0;
                if (r->health[i] == want)
                        return n;
        }
        return -1;
}

START_TEST(test_check_rise_fall)
{
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        char *flag = path_in(tmp, "flag");
        set_flag(flag, "0");
        char body[256];
        snprintf(body, sizeof(body), "echo \"status $(cat %s)\"; exit $(cat %s)", flag, flag);
        char *s = script(tmp, "flagcheck", body);
        char *argv[] = { s, NULL };
        struct check_conf cc = conf_of(argv, 0.05, 5, 3, 2);
        struct rec r = { 0 };
        struct check *c = NULL;
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_str_eq(check_name(c), "t");
        ck_assert_int_eq(check_get_state(c)->health, HEALTH_UNKNOWN);
        ck_assert_uint_eq(check_get_result(c)->runs, 0);
        ck_assert_int_eq(check_start(c), 0);
        ck_assert_int_eq(r.n, 0);               /* never from inside check_start */

        /* The first result decides at once. */
        int one = 1;
        ck_assert(loop_until(e, has_n, &r, &one, 10000));
        ck_assert_int_eq(r.health[0], HEALTH_UP);
        ck_assert_int_eq(r.changes, 1);
        ck_assert_str_eq(check_get_result(c)->message, "status 0");
        ck_assert_str_eq(check_get_result(c)->description, "exit 0");
        ck_assert_int_eq(check_get_result(c)->severity, SEV_OK);
        ck_assert_uint_gt(check_get_result(c)->end_realtime_usec, 0);

        /* CRITICAL: down after exactly fall=2 bad results. */
        int from = r.n;
        set_flag(flag, "2");
        enum health down = HEALTH_DOWN, up = HEALTH_UP;
        ck_assert(loop_until(e, has_health, &r, &down, 10000));
        ck_assert_int_eq(streak_before(&r, from, HEALTH_DOWN, true), 2);
        ck_assert_int_eq(check_get_state(c)->severity, SEV_FAILED);
        ck_assert_str_eq(check_get_result(c)->message, "status 2");

        /* WARNING while down: the severity follows the latest result at once. */
        set_flag(flag, "1");
        int n = r.n + 2;
        ck_assert(loop_until(e, has_n, &r, &n, 10000));
        ck_assert_int_eq(check_get_state(c)->health, HEALTH_DOWN);
        ck_assert_int_eq(check_get_state(c)->severity, SEV_DEGRADED);

        /* Up again after exactly rise=3 OK results. */
        from = r.n;
        set_flag(flag, "0");
        ck_assert(loop_until(e, has_health, &r, &up, 10000));
        ck_assert_int_eq(streak_before(&r, from, HEALTH_UP, false), 3);
        ck_assert_int_eq(check_get_state(c)->severity, SEV_OK);

        ck_assert_ptr_null(check_free(c));
        ck_assert_ptr_null(check_free(NULL));
        sd_event_unref(e);
        free(s);
        free(flag);
}
END_TEST

START_TEST(test_check_no_overlap)
{
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        char *lock = path_in(tmp, "lock");
        char *overlap = path_in(tmp, "overlap");
        char *runs = path_in(tmp, "runs");
        char body[1024];
        snprintf(body, sizeof(body),
                 "mkdir %s 2>/dev/null || echo overlap >> %s\necho run >> %s\nsleep 0.25\nrmdir %s\nexit 0",
                 lock, overlap, runs, lock);
        char *s = script(tmp, "slow", body);
        char *argv[] = { s, NULL };
        struct check_conf cc = conf_of(argv, 0.05, 10, 1, 1);
        struct rec r = { 0 };
        struct check *c = NULL;
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        ck_assert_int_eq(check_start(c), 0);    /* twice is harmless */
        bool seen_running = false;
        /* At least 1.5 s, and on until two runs ended (a loaded machine starts the script slowly). */
        uint64_t start = mono_usec();
        while (mono_usec() < start + 1500000 || (r.n < 2 && mono_usec() < start + 30000000)) {
                ck_assert_int_ge(sd_event_run(e, 20000), 0);
                seen_running |= check_running(c);
        }
        ck_assert(seen_running);
        ck_assert_int_ge(r.n, 2);
        ck_assert_int_eq(access(overlap, F_OK), -1);
        /* Each run starts after the previous one ended. */
        for (int i = 1; i < r.n && i < MAX_RESULTS; i++)
                ck_assert_uint_ge(r.start[i] - r.start[i - 1], 250000);
        ck_assert_ptr_null(check_free(c));
        sd_event_unref(e);
        free(s);
        free(lock);
        free(overlap);
        free(runs);
}
END_TEST

START_TEST(test_check_fast_interval_while_changing)
{
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        char *flag = path_in(tmp, "flag");
        set_flag(flag, "0");
        char body[256];
        snprintf(body, sizeof(body), "exit $(cat %s)", flag);
        char *s = script(tmp, "flagcheck", body);
        char *argv[] = { s, NULL };
        /* interval 1 s, fast interval 0.25 s; bounds below leave a wide margin on a busy machine. */
        struct check_conf cc = conf_of(argv, 1.0, 5, 2, 4);
        struct rec r = { 0 };
        struct check *c = NULL;
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        int three = 3;
        ck_assert(loop_until(e, has_n, &r, &three, 15000));
        ck_assert_int_eq(r.health[2], HEALTH_UP);
        for (int i = 1; i < 3; i++)
                ck_assert_uint_ge(r.start[i] - r.start[i - 1], 900000);

        int from = r.n;
        set_flag(flag, "2");
        enum health down = HEALTH_DOWN;
        ck_assert(loop_until(e, has_health, &r, &down, 15000));
        /* After the first bad result the check runs at interval/4 until fall=4 is reached. */
        int first_bad = -1;
        for (int i = from; i < r.n; i++)
                if (r.status[i] != 0) {
                        first_bad = i;
                        break;
                }
        ck_assert_int_ge(first_bad, 0);
        ck_assert_int_ge(r.n - first_bad, 4);
        for (int i = first_bad + 1; i < first_bad + 4; i++) {
                uint64_t gap = r.start[i] - r.start[i - 1];
                ck_assert_msg(gap >= 200000 && gap < 750000, "fast gap %llu us", (unsigned long long)gap);
        }
        ck_assert_ptr_null(check_free(c));
        sd_event_unref(e);
        free(s);
        free(flag);
}
END_TEST

/* Runs a one-shot check until its first result and returns the result's copy. */
static struct check_result first_result(char **argv, double timeout, const char *user, struct check_state *st)
{
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct check_conf cc = conf_of(argv, 10, timeout, 3, 2);
        cc.user = (char *)user;
        if (user)
                ck_assert_int_eq(proc_cred_lookup(user, &cc.cred), 0);
        struct rec r = { 0 };
        struct check *c = NULL;
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        int one = 1;
        ck_assert(loop_until(e, has_n, &r, &one, 20000));
        struct check_result res = *check_get_result(c);
        if (st)
                *st = *check_get_state(c);
        check_free(c);
        sd_event_unref(e);
        free(cc.cred);
        return res;
}

START_TEST(test_check_grading)
{
        static const struct {
                const char *body;
                enum severity sev;
                const char *desc;
                const char *msg;
        } cases[] = {
                { "echo 'OK - fine'; exit 0", SEV_OK, "exit 0", "OK - fine" },
                { "echo 'WARNING - slow\r'; echo more; exit 1", SEV_DEGRADED, "exit 1", "WARNING - slow" },
                { "echo 'CRITICAL - down'; exit 2", SEV_FAILED, "exit 2", "CRITICAL - down" },
                { "echo 'UNKNOWN - ?' >&2; exit 3", SEV_FAILED, "exit 3", "UNKNOWN - ?" },
                { "exit 42", SEV_FAILED, "exit 42", "" },
                { "kill -KILL $$", SEV_FAILED, "killed by SIGKILL", "" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *s = script(tmp, "grade", cases[i].body);
                char *argv[] = { s, NULL };
                struct check_state st;
                struct check_result res = first_result(argv, 5, NULL, &st);
                ck_assert_int_eq(res.severity, cases[i].sev);
                ck_assert_str_eq(res.description, cases[i].desc);
                ck_assert_str_eq(res.message, cases[i].msg);
                ck_assert_int_eq(st.health, cases[i].sev == SEV_OK ? HEALTH_UP : HEALTH_DOWN);
                ck_assert_int_eq(st.severity, cases[i].sev);
                free(s);
        }

        char *missing[] = { "/nonexistent/check", NULL };
        struct check_result res = first_result(missing, 5, NULL, NULL);
        ck_assert_int_eq(res.severity, SEV_FAILED);
        ck_assert_int_eq(res.exec_errno, ENOENT);
        ck_assert(!res.insecure);
        ck_assert_str_eq(res.description, "exec failed: No such file or directory");

        /* A long first line is cut at 512 bytes. */
        char *s = script(tmp, "long", "/usr/bin/head -c 3000 /dev/zero | /usr/bin/tr '\\0' m; echo; exit 0");
        char *argv[] = { s, NULL };
        res = first_result(argv, 5, NULL, NULL);
        ck_assert_uint_eq(strlen(res.message), CHECK_MESSAGE_MAX);
        free(s);
}
END_TEST

START_TEST(test_check_timeout)
{
        char *s = script(tmp, "hang", "echo started; trap '' TERM; sleep 30");
        char *argv[] = { s, NULL };
        uint64_t t0 = mono_usec();
        struct check_state st;
        struct check_result res = first_result(argv, 0.2, NULL, &st);
        uint64_t took = mono_usec() - t0;
        ck_assert(res.timed_out);
        ck_assert_int_eq(res.severity, SEV_FAILED);
        ck_assert_str_eq(res.description, "timed out after 0.2 s");
        ck_assert_str_eq(res.message, "started");
        ck_assert_int_eq(st.health, HEALTH_DOWN);
        ck_assert_uint_ge(took, 1100000);       /* 0.2 s timeout + 1 s grace before SIGKILL */
        ck_assert_uint_lt(took, 15000000);
        ck_assert_uint_ge(res.duration_usec, 1100000);
        free(s);
}
END_TEST

START_TEST(test_check_update_conf_keeps_state)
{
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        char *ok = script(tmp, "ok", "echo first; exit 0");
        char *warn = script(tmp, "warn", "echo second; exit 1");
        char *argv[] = { ok, NULL };
        struct check_conf cc = conf_of(argv, 0.05, 5, 3, 2);
        struct rec r = { 0 };
        struct check *c = NULL;
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        int three = 3;
        ck_assert(loop_until(e, has_n, &r, &three, 10000));
        ck_assert_int_eq(check_get_state(c)->health, HEALTH_UP);
        ck_assert_int_ge(check_get_state(c)->ok_streak, 3);

        char *argv2[] = { warn, NULL };
        struct check_conf cc2 = conf_of(argv2, 0.06, 4, 5, 3);
        ck_assert_int_eq(check_update_conf(c, &cc2), 0);
        ck_assert_int_eq(check_get_state(c)->health, HEALTH_UP);        /* kept */
        ck_assert_int_eq(check_get_conf(c)->fall, 3);
        ck_assert_str_eq(check_get_conf(c)->argv[0], warn);
        enum health down = HEALTH_DOWN;
        int from = r.n;
        ck_assert(loop_until(e, has_health, &r, &down, 10000));
        /* No fresh first-result decision: the new fall=3 applied (the run in flight may be the old one). */
        int bad = 0;
        for (int i = from; i < r.n; i++)
                bad += r.status[i] == 1;
        ck_assert_int_eq(bad, 3);
        ck_assert_str_eq(check_get_result(c)->message, "second");
        ck_assert_int_eq(check_get_state(c)->severity, SEV_DEGRADED);

        struct check_conf bad_conf = conf_of(NULL, 1, 1, 1, 1);
        ck_assert_int_eq(check_update_conf(c, &bad_conf), -EINVAL);
        ck_assert_str_eq(check_get_conf(c)->argv[0], warn);             /* the old one stays */

        ck_assert_ptr_null(check_free(c));
        sd_event_unref(e);
        free(ok);
        free(warn);
}
END_TEST

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

START_TEST(test_check_free_cancels_and_from_callback)
{
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        char *pidfile = path_in(tmp, "pid");
        char body[256];
        snprintf(body, sizeof(body), "echo $$ > %s; sleep 30", pidfile);
        char *s = script(tmp, "long", body);
        char *argv[] = { s, NULL };
        struct check_conf cc = conf_of(argv, 0.05, 60, 1, 1);
        struct rec r = { 0 };
        struct check *c = NULL;
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        pid_t pid = 0;
        uint64_t end = mono_usec() + 10000000;
        while (pid <= 0 && mono_usec() < end) {
                sd_event_run(e, 20000);
                FILE *f = fopen(pidfile, "re");
                if (f) {
                        int v = 0;
                        if (fscanf(f, "%d", &v) == 1)
                                pid = v;
                        fclose(f);
                }
        }
        ck_assert_int_gt(pid, 0);
        ck_assert(check_running(c));
        ck_assert_ptr_null(check_free(c));
        /* Killed at once, reaped by the loop (check_free never waits for it). */
        for (int i = 0; i < 500 && !pid_gone(pid); i++)
                run_for(e, 10);
        ck_assert(pid_gone(pid));
        run_for(e, 200);
        ck_assert_int_eq(r.n, 0);

        /* Freeing from inside the callback. */
        char *quick = script(tmp, "quick", "exit 0");
        char *argv2[] = { quick, NULL };
        struct check_conf cc2 = conf_of(argv2, 0.05, 5, 1, 1);
        struct rec r2 = { .free_in_cb = true };
        ck_assert_int_eq(check_new(e, &cc2, on_result, &r2, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        run_for(e, 500);
        ck_assert_int_eq(r2.n, 1);
        sd_event_unref(e);
        free(s);
        free(quick);
        free(pidfile);
}
END_TEST

START_TEST(test_check_script_secure)
{
        char why[512];
        if (geteuid() != 0)
                return;         /* ownership cases need root */

        /* mkdtemp gives 0700 root under /tmp (sticky, root): accepted. */
        char *ok = script(tmp, "ok", "exit 0");
        ck_assert_int_eq(check_script_secure(ok, why, sizeof(why)), 0);
        ck_assert_str_eq(why, "");

        /* Group- or world-writable directory on the way. */
        char *dir = path_in(tmp, "conf.d");
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        char *s = script(dir, "chk", "exit 0");
        ck_assert_int_eq(check_script_secure(s, why, sizeof(why)), 0);
        ck_assert_int_eq(chmod(dir, 0775), 0);
        ck_assert_int_eq(check_script_secure(s, why, sizeof(why)), -EPERM);
        char want[512];
        snprintf(want, sizeof(want), "insecure: %s is writable by group", dir);
        ck_assert_str_eq(why, want);
        ck_assert_int_eq(chmod(dir, 0757), 0);
        ck_assert_int_eq(check_script_secure(s, why, sizeof(why)), -EPERM);
        snprintf(want, sizeof(want), "insecure: %s is writable by others", dir);
        ck_assert_str_eq(why, want);

        /* Sticky, root-owned, world-writable directory (like /tmp): accepted. */
        ck_assert_int_eq(chmod(dir, 01777), 0);
        ck_assert_int_eq(check_script_secure(s, why, sizeof(why)), 0);
        ck_assert_int_eq(chmod(dir, 0755), 0);

        /* The script itself writable by group, or owned by someone else. */
        ck_assert_int_eq(chmod(s, 0775), 0);
        ck_assert_int_eq(check_script_secure(s, why, sizeof(why)), -EPERM);
        ck_assert_ptr_nonnull(strstr(why, "is writable by group"));
        ck_assert_int_eq(chmod(s, 0755), 0);
        struct passwd *pw = getpwnam("nobody");
        ck_assert_ptr_nonnull(pw);
        ck_assert_int_eq(chown(s, pw->pw_uid, 0), 0);
        ck_assert_int_eq(check_script_secure(s, why, sizeof(why)), -EPERM);
        snprintf(want, sizeof(want), "insecure: %s is not owned by root (uid %u)", s, (unsigned)pw->pw_uid);
        ck_assert_str_eq(why, want);
        ck_assert_int_eq(chown(s, 0, 0), 0);

        /* A symlink in a secure place pointing into an insecure one. */
        char *bad = path_in(tmp, "bad");
        ck_assert_int_eq(mkdir(bad, 0777), 0);
        ck_assert_int_eq(chmod(bad, 0777), 0);
        char *target = script(bad, "target", "exit 0");
        char *link = path_in(dir, "link");
        ck_assert_int_eq(symlink(target, link), 0);
        ck_assert_int_eq(check_script_secure(link, why, sizeof(why)), -EPERM);
        ck_assert_ptr_nonnull(strstr(why, "is writable by group"));

        ck_assert_int_eq(check_script_secure("relative/path", why, sizeof(why)), -EPERM);
        ck_assert_int_lt(check_script_secure("/nonexistent/x", why, sizeof(why)), 0);
        ck_assert_ptr_nonnull(strstr(why, "cannot stat"));
        ck_assert_int_eq(check_script_secure("/bin/sh", NULL, 0), 0);

        free(ok);
        free(dir);
        free(s);
        free(bad);
        free(target);
        free(link);
}
END_TEST

START_TEST(test_check_insecure_never_runs)
{
        if (geteuid() != 0)
                return;
        char *dir = path_in(tmp, "open");
        ck_assert_int_eq(mkdir(dir, 0777), 0);
        ck_assert_int_eq(chmod(dir, 0777), 0);
        char *marker = path_in(tmp, "marker");
        char body[256];
        snprintf(body, sizeof(body), "touch %s; exit 0", marker);
        char *s = script(dir, "chk", body);
        char *argv[] = { s, NULL };

        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct check_conf cc = conf_of(argv, 0.05, 5, 1, 1);
        struct rec r = { 0 };
        struct check *c = NULL;
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        int three = 3;
        ck_assert(loop_until(e, has_n, &r, &three, 10000));
        const struct check_result *res = check_get_result(c);
        ck_assert(res->insecure);
        ck_assert_int_eq(res->severity, SEV_FAILED);
        ck_assert_str_eq(res->description, "insecure script");
        char want[512];
        snprintf(want, sizeof(want), "insecure: %s is writable by group", dir);
        ck_assert_str_eq(res->message, want);
        ck_assert_int_eq(check_get_state(c)->health, HEALTH_DOWN);
        ck_assert_int_eq(access(marker, F_OK), -1);

        /* Fixed on disk: the next run goes ahead. */
        ck_assert_int_eq(chmod(dir, 0755), 0);
        enum health up = HEALTH_UP;
        ck_assert(loop_until(e, has_health, &r, &up, 10000));
        ck_assert_int_eq(access(marker, F_OK), 0);
        ck_assert(!check_get_result(c)->insecure);

        /* Run as another user, the rule does not apply (keepalived's too). */
        ck_assert_int_eq(chmod(dir, 0777), 0);
        struct check_conf as_nobody = conf_of((char *[]){ "/bin/true", NULL }, 0.05, 5, 1, 1);
        as_nobody.user = "nobody";
        ck_assert_int_eq(check_update_conf(c, &as_nobody), -EINVAL);    /* a user must come resolved */
        ck_assert_int_eq(proc_cred_lookup("nobody", &as_nobody.cred), 0);
        ck_assert_int_eq(check_update_conf(c, &as_nobody), 0);
        free(as_nobody.cred);
        int n = r.n + 2;
        ck_assert(loop_until(e, has_n, &r, &n, 10000));
        ck_assert(!check_get_result(c)->insecure);
        ck_assert_int_eq(check_get_result(c)->severity, SEV_OK);

        ck_assert_ptr_null(check_free(c));
        sd_event_unref(e);
        free(dir);
        free(marker);
        free(s);
}
END_TEST

/* conf.d open to everyone: a NAME.conf there with command = ["/bin/sh", "-c", ...] passes argv[0]'s test
 * (/bin/sh is root's) but is refused, because the file that chose the command is not root's alone. */
START_TEST(test_check_insecure_conf_file)
{
        if (geteuid() != 0)
                return;
        char *dir = path_in(tmp, "conf.d");
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        ck_assert_int_eq(chmod(dir, 0777), 0);
        char *conf = unit_write(dir, "evil.conf", "command = [\"/bin/sh\", \"-c\", \"...\"];\n", 0644);
        char *marker = path_in(tmp, "marker");
        char body[256];
        snprintf(body, sizeof(body), "touch %s", marker);
        char *argv[] = { "/bin/sh", "-c", body, NULL };

        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct check_conf cc = conf_of(argv, 0.05, 5, 1, 1);
        cc.conf_file = conf;
        struct rec r = { 0 };
        struct check *c = NULL;
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        int two = 2;
        ck_assert(loop_until(e, has_n, &r, &two, 10000));
        const struct check_result *res = check_get_result(c);
        ck_assert(res->insecure);
        ck_assert_int_eq(res->severity, SEV_FAILED);
        ck_assert_str_eq(res->description, "insecure configuration");
        char want[512];
        snprintf(want, sizeof(want), "insecure: %s is writable by group", dir);
        ck_assert_str_eq(res->message, want);
        ck_assert_int_eq(check_get_state(c)->health, HEALTH_DOWN);
        ck_assert_int_eq(access(marker, F_OK), -1);

        /* The directory fixed, the file itself writable by its group: still refused. */
        ck_assert_int_eq(chmod(dir, 0755), 0);
        ck_assert_int_eq(chmod(conf, 0664), 0);
        int n = r.n + 2;
        ck_assert(loop_until(e, has_n, &r, &n, 10000));
        snprintf(want, sizeof(want), "insecure: %s is writable by group", conf);
        ck_assert_str_eq(check_get_result(c)->message, want);
        ck_assert_int_eq(access(marker, F_OK), -1);

        /* Gone since it was read: what it said is not trusted either. */
        ck_assert_int_eq(unlink(conf), 0);
        n = r.n + 2;
        ck_assert(loop_until(e, has_n, &r, &n, 10000));
        ck_assert(check_get_result(c)->insecure);
        ck_assert_int_eq(access(marker, F_OK), -1);

        /* All of it root's and closed: it runs. */
        free(unit_write(dir, "evil.conf", "", 0644));
        enum health up = HEALTH_UP;
        ck_assert(loop_until(e, has_health, &r, &up, 10000));
        ck_assert_int_eq(access(marker, F_OK), 0);

        ck_assert_ptr_null(check_free(c));
        sd_event_unref(e);
        free(dir);
        free(conf);
        free(marker);
}
END_TEST

/* A native check is done by the daemon itself, as root: its NAME.conf passes the rule scripts pass. In a conf.d
 * open to everyone, a tcp check's NAME.conf is refused and nothing is connected to. */
START_TEST(test_check_native_insecure_conf)
{
        if (geteuid() != 0)
                return;
        char *dir = path_in(tmp, "conf.d");
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        ck_assert_int_eq(chmod(dir, 0777), 0);
        char *conf = unit_write(dir, "web.conf", "type = \"tcp\";\n", 0644);
        struct native_conf nc = { .type = NATIVE_TCP, .host = "127.0.0.1", .port = 9 };
        struct check_conf cc = { .name = "web", .native = &nc, .conf_file = conf, .interval = 0.05, .timeout = 2,
                                 .rise = 1, .fall = 1 };
        /* checks.user does not lift it: the connection is still made by root. */
        cc.user = "nobody";
        ck_assert_int_eq(proc_cred_lookup("nobody", &cc.cred), 0);

        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct rec r = { 0 };
        struct check *c = NULL;
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        int two = 2;
        ck_assert(loop_until(e, has_n, &r, &two, 10000));
        const struct check_result *res = check_get_result(c);
        ck_assert_msg(res->insecure, "%s: %s", res->description, res->message);
        ck_assert_str_eq(res->description, "insecure configuration");
        char want[512];
        snprintf(want, sizeof(want), "insecure: %s is writable by group", dir);
        ck_assert_str_eq(res->message, want);

        /* Fixed: it runs (port 9 on loopback: refused, but tried). */
        ck_assert_int_eq(chmod(dir, 0755), 0);
        int n = r.n + 2;
        ck_assert(loop_until(e, has_n, &r, &n, 10000));
        ck_assert(!check_get_result(c)->insecure);
        ck_assert_str_eq(check_get_result(c)->description, "connect failed");
        check_free(c);
        sd_event_unref(e);
        free(cc.cred);
        free(conf);
        free(dir);
}
END_TEST

/* Runs failoverd --check -c path; returns its exit status with stderr in out. */
static int run_check_mode(const char *path, char *out, size_t outlen)
{
        const char *bin = getenv("FAILOVERD_BIN");
        char *argv[] = { (char *)(bin ? bin : BUILD_DIR "/failoverd"), "--check", "-c", (char *)path, NULL };
        extern char **environ;
        int pfd[2];
        ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        ck_assert_int_eq(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
        posix_spawn_file_actions_destroy(&fa);
        close(pfd[1]);
        size_t len = 0;
        ssize_t m;
        while (len + 1 < outlen && (m = read(pfd[0], out + len, outlen - 1 - len)) > 0)
                len += (size_t)m;
        out[len] = '\0';
        close(pfd[0]);
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* failoverd --check refuses what the daemon would refuse to run (the same check_conf_secure()), naming the file
 * and the reason: a script of another user, a group-writable script, a group-writable conf.d, a NAME.conf of
 * another user, and a notify program (run as root) in an insecure place. */
START_TEST(test_check_mode_refuses_insecure)
{
        if (geteuid() != 0)
                return;
        struct passwd *pw = getpwnam("nobody");
        ck_assert_ptr_nonnull(pw);
        char *dir = path_in(tmp, "conf.d");
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        char *hook = script(tmp, "hook", "exit 0");
        char text[1024];
        snprintf(text, sizeof(text), "role = \"primary\";\ndatacenter = 4;\nshared_ips = [\"198.51.100.10\"];\n"
                 "checks = { directory = \"%s\"; };\nnotify = [\"%s\"];\n", dir, hook);
        char *conf = unit_write(tmp, "failoverd.conf", text, 0644);
        char *web = script(dir, "web", "exit 0");
        char *db = unit_write(dir, "db.conf", "type = \"tcp\";\nhost = \"127.0.0.1\";\nport = 5432;\n", 0644);
        char *ca_dir = path_in(tmp, "ca");
        ck_assert_int_eq(mkdir(ca_dir, 0755), 0);
        char *ca = unit_write(ca_dir, "ca.pem", "-----BEGIN CERTIFICATE-----\n", 0644);
        char api_text[1024];
        snprintf(api_text, sizeof(api_text), "type = \"http\";\nurl = \"https://127.0.0.1:8443/\";\nca_file = \"%s\";\n",
                 ca);
        char *api = unit_write(dir, "api.conf", api_text, 0644);
        char out[4096], want[1024];
        int st = run_check_mode(conf, out, sizeof(out));
        ck_assert_msg(st == 0, "a secure conf.d is refused: %s", out);

        struct {
                const char *path;
                int mode;               /* 0: chown to nobody instead */
                const char *what;
                const char *reason;
        } cases[] = {
                { web, 0, "check web: insecure script", "is not owned by root" },
                { web, 0775, "check web: insecure script", "is writable by group" },
                { dir, 0775, "check db: insecure configuration", "is writable by group" },
                { db, 0, "check db: insecure configuration", "is not owned by root" },
                { hook, 0757, "notify", "is writable by others" },
                { ca_dir, 0777, "check api: insecure CA file", "is writable by group" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct stat old;
                ck_assert_int_eq(stat(cases[i].path, &old), 0);
                if (cases[i].mode)
                        ck_assert_int_eq(chmod(cases[i].path, (mode_t)cases[i].mode), 0);
                else
                        ck_assert_int_eq(chown(cases[i].path, pw->pw_uid, 0), 0);
                st = run_check_mode(conf, out, sizeof(out));
                ck_assert_msg(st == 1, "case %zu: failoverd --check says OK to %s", i, cases[i].path);
                snprintf(want, sizeof(want), "%s %s", cases[i].path, cases[i].reason);
                ck_assert_msg(strstr(out, cases[i].what) && strstr(out, want), "case %zu: %s", i, out);
                ck_assert_int_eq(chmod(cases[i].path, old.st_mode & 07777), 0);
                ck_assert_int_eq(chown(cases[i].path, 0, 0), 0);
        }
        ck_assert_int_eq(run_check_mode(conf, out, sizeof(out)), 0);
        free(dir);
        free(hook);
        free(conf);
        free(web);
        free(db);
        free(ca_dir);
        free(ca);
        free(api);
}
END_TEST

START_TEST(test_check_new_rejects)
{
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct check *c = NULL;
        struct check_conf none = conf_of(NULL, 1, 1, 1, 1);
        ck_assert_int_eq(check_new(e, &none, NULL, NULL, &c), -EINVAL);
        char *argv[] = { "/bin/true", NULL };
        struct check_conf zero = conf_of(argv, 0, 1, 1, 1);
        ck_assert_int_eq(check_new(e, &zero, NULL, NULL, &c), -EINVAL);
        ck_assert_int_eq(check_new(NULL, &zero, NULL, NULL, &c), -EINVAL);
        struct check_conf fine = conf_of(argv, 1, 1, 1, 1);
        ck_assert_int_eq(check_new(e, &fine, NULL, NULL, &c), 0);      /* no callback is allowed */
        ck_assert(!check_running(c));
        ck_assert_ptr_null(check_free(c));
        sd_event_unref(e);
}
END_TEST

/* A check with a user asks NSS once, when the configuration is loaded, never per run: a slow NSS (LDAP,
 * sssd) would otherwise stop the loop at every run. */
START_TEST(test_check_runs_ask_no_nss)
{
        if (geteuid() != 0)
                return;         /* running as another user needs root */
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct check_conf cc = conf_of((char *[]){ "/bin/true", NULL }, 0.05, 5, 1, 1);
        cc.user = "nobody";
        ck_assert_int_eq(proc_cred_lookup("nobody", &cc.cred), 0);
        struct rec r = { 0 };
        struct check *c = NULL;
        int before = atomic_load(&unit_nss_calls);
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        int three = 3;
        ck_assert(loop_until(e, has_n, &r, &three, 15000));
        ck_assert_int_eq(check_get_result(c)->severity, SEV_OK);
        int asked = atomic_load(&unit_nss_calls) - before;
        ck_assert_msg(asked == 0, "3 runs asked NSS %d times", asked);
        ck_assert_ptr_null(check_free(c));
        sd_event_unref(e);
        free(cc.cred);
}
END_TEST

Suite *check_suite(void)
{
        Suite *s = suite_create("check");
        TCase *tc = tcase_create("runner");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 90);
        tcase_add_test(tc, test_check_rise_fall);
        tcase_add_test(tc, test_check_no_overlap);
        tcase_add_test(tc, test_check_fast_interval_while_changing);
        tcase_add_test(tc, test_check_grading);
        tcase_add_test(tc, test_check_timeout);
        tcase_add_test(tc, test_check_update_conf_keeps_state);
        tcase_add_test(tc, test_check_free_cancels_and_from_callback);
        tcase_add_test(tc, test_check_script_secure);
        tcase_add_test(tc, test_check_insecure_never_runs);
        tcase_add_test(tc, test_check_insecure_conf_file);
        tcase_add_test(tc, test_check_new_rejects);
        tcase_add_test(tc, test_check_native_insecure_conf);
        tcase_add_test(tc, test_check_mode_refuses_insecure);
        tcase_add_test(tc, test_check_runs_ask_no_nss);
        suite_add_tcase(s, tc);
        return s;
}
