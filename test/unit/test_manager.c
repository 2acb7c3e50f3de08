/* Unit tests for the manager and its apply queue (agent/daemon.c, agent/queue.c) with a stand-in vtysh and
 * frr-reload.py (test/unit/fake-frr) and a listening socket standing in for bgpd's vty socket: coalescing
 * of decisions, retries and back-off, a reload during an apply, drift, bgpd restarted or gone. The queue's
 * and the manager's timers run on the fake clock of agent/timer.c: a back-off is waited for by moving it,
 * never by sleeping (real time only bounds a wait for a child). */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_format.h"
#include "daemon.h"
#include "file.h"
#include "log.h"
#include "nladdr.h"
#include "timer.h"
#include "watch.h"
#include "unit.h"

struct fixture {
        char *dir;
        char conf[600];
        char sock[100];
        int listener;           /* bgpd's stand-in socket, -1: bgpd down */
        struct manager m;
};

static void path_of(char *out, size_t len, const char *dir, const char *name)
{
        snprintf(out, len, "%s/%s", dir, name);
}

static void put(struct fixture *f, const char *name, const char *text)
{
        free(unit_write(f->dir, name, text, 0644));
}

static void drop(struct fixture *f, const char *name)
{
        char p[700];
        path_of(p, sizeof(p), f->dir, name);
        unlink(p);
}

static void write_conf(struct fixture *f, const char *role)
{
        char text[3000];
        snprintf(text, sizeof(text),
                 "role = \"%s\";\nshared_ips = [\"198.51.100.10\"];\n"
                 "bgp = { route_servers = [\"192.0.2.1\"]; };\n"
                 "frr = { config = \"%s/frr.conf\"; vtysh = \"%s/vtysh\"; reload = \"%s/frr-reload.py\"; timeout = 10; };\n"
                 "checks = { directory = \"%s/none\"; };\nruntime_directory = \"%s/run\";\n"
                 "state_directory = \"%s/state\";\n",
                 role, f->dir, f->dir, f->dir, f->dir, f->dir, f->dir);
        free(unit_write(f->dir, "failoverd.conf", text, 0644));
}

/* bgpd comes up: its socket listens (nothing is ever accepted: a connect is all the queue asks). */
static void bgpd_up(struct fixture *f)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        drop(f, "down");
        if (f->listener >= 0)
                return;
        f->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(f->listener, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
        unlink(f->sock);
        ck_assert_int_eq(bind(f->listener, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(listen(f->listener, 128), 0);
}

/* bgpd goes away: vtysh fails, its socket refuses (the file stays, as after a SIGKILL). */
static void bgpd_down(struct fixture *f)
{
        put(f, "down", "");
        if (f->listener >= 0)
                close(f->listener);
        f->listener = -1;
}

static int count_calls(struct fixture *f, const char *what)
{
        char p[700], *text = NULL;
        int n = 0;
        path_of(p, sizeof(p), f->dir, "calls");
        if (file_read(p, 1 << 20, &text, NULL) < 0)
                return 0;
        for (char *s = text; (s = strstr(s, what)); s += strlen(what))
                n++;
        free(text);
        return n;
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#define STEP_USEC 10000     /* the fake clock's step: below every timer of the queue */

/* Moves the fake clock on by usec, a step at a time, running whatever falls due at each. */
static void fake_for(struct fixture *f, uint64_t usec)
{
        for (uint64_t t = 0; t < usec; t += STEP_USEC) {
                timer_fake_advance(STEP_USEC);
                int r;
                while ((r = sd_event_run(f->m.event, 0)) > 0)
                        ;
                ck_assert_int_ge(r, 0);
        }
}

/* One turn of the loop. A queue waiting on its own timer (a back-off, bgpd's socket) gets the fake clock
 * moved on a step; anything else (a child running) is waited for. */
static void turn(struct fixture *f)
{
        enum queue_state st = queue_get_state(&f->m.queue);
        if (st == QUEUE_RETRY_WAIT || st == QUEUE_BGPD_WAIT)
                fake_for(f, STEP_USEC);
        else
                ck_assert_int_ge(sd_event_run(f->m.event, 10000), 0);
}

/* Runs the loop until the queue is idle with nothing owed, or secs pass (real time: a bound, not a wait). */
static bool settle(struct fixture *f, double secs)
{
        double end = now_s() + secs;
        while (now_s() < end) {
                if (queue_get_state(&f->m.queue) == QUEUE_IDLE && !queue_busy(&f->m.queue))
                        return true;
                turn(f);
        }
        return false;
}

static void run_until_state(struct fixture *f, enum queue_state st, double secs)
{
        double end = now_s() + secs;
        while (queue_get_state(&f->m.queue) != st && now_s() < end)
                turn(f);
        ck_assert_msg(queue_get_state(&f->m.queue) == st, "queue is %s, not %s", queue_state_name(queue_get_state(&f->m.queue)),
                      queue_state_name(st));
}

static void link_fake(struct fixture *f, const char *name)
{
        char p[700];
        path_of(p, sizeof(p), f->dir, name);
        ck_assert_int_eq(symlink(TEST_DIR "/unit/fake-frr", p), 0);
}

/* A manager on a fresh configuration (extra, when given, replaces the role and shared_ips lines), bgpd up
 * and running nothing, started: its first full apply done. */
static void setup_with(struct fixture *f, const char *extra)
{
        sigset_t mask;

        memset(f, 0, sizeof(*f));
        f->listener = -1;
        f->dir = unit_tmpdir();
        path_of(f->sock, sizeof(f->sock), f->dir, "bgpd.vty");
        link_fake(f, "vtysh");
        link_fake(f, "frr-reload.py");
        if (extra) {
                char text[3000], ext[1500] = "", dir[200];
                /* @D@ in extra is the fixture's directory; checks.d holds a check "ok" that always passes */
                path_of(dir, sizeof(dir), f->dir, "checks.d");
                ck_assert_int_eq(mkdir(dir, 0755), 0);
                free(unit_write(dir, "ok.conf", "command = [\"/bin/true\"];\n", 0644));
                for (const char *p = extra; *p;) {
                        if (strncmp(p, "@D@", 3) == 0) {
                                snprintf(ext + strlen(ext), sizeof(ext) - strlen(ext), "%s", f->dir);
                                p += 3;
                        } else {
                                snprintf(ext + strlen(ext), sizeof(ext) - strlen(ext), "%c", *p++);
                        }
                }
                extra = ext;
                snprintf(text, sizeof(text),
                         "%s\nbgp = { route_servers = [\"192.0.2.1\"]; };\n"
                         "frr = { config = \"%s/frr.conf\"; vtysh = \"%s/vtysh\"; reload = \"%s/frr-reload.py\"; timeout = 10; };\n"
                         "runtime_directory = \"%s/run\";\nstate_directory = \"%s/state\";\n",
                         extra, f->dir, f->dir, f->dir, f->dir, f->dir);
                free(unit_write(f->dir, "failoverd.conf", text, 0644));
        } else {
                write_conf(f, "primary");
        }
        path_of(f->conf, sizeof(f->conf), f->dir, "failoverd.conf");
        sigemptyset(&mask);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGCHLD);
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, &mask, NULL), 0);
        log_set_level(LOG_INFO);
        timer_fake_start();
        bgpd_up(f);
        ck_assert_int_eq(manager_init(&f->m, f->conf), 0);
        queue_use_vty_path(&f->m.queue, f->sock);
        ck_assert_int_eq(manager_start(&f->m), 0);
        if (extra)
                return;
        ck_assert_msg(settle(f, 20), "the first apply did not settle: %s", queue_state_name(queue_get_state(&f->m.queue)));
        ck_assert_int_eq(queue_applied(&f->m.queue), STATE_PRIMARY);
        ck_assert_int_eq(count_calls(f, "frr-reload.py "), 1);
}

static void setup(struct fixture *f)
{
        setup_with(f, NULL);
}

static void teardown(struct fixture *f)
{
        manager_done(&f->m);
        if (f->listener >= 0)
                close(f->listener);
        unit_rmrf(f->dir);
        free(f->dir);
        timer_fake_stop();
}

START_TEST(test_manager_first_apply_is_full)
{
        struct fixture f;
        setup(&f);
        ck_assert_int_eq(f.m.target, STATE_PRIMARY);
        ck_assert_uint_eq(queue_attempts(&f.m.queue), 1);
        ck_assert_int_eq(count_calls(&f, "vtysh -C "), 1);     /* dry run first */
        ck_assert_ptr_null(queue_last_error(&f.m.queue));
        teardown(&f);
}
END_TEST

/* Decisions that come while an apply is in flight are coalesced: one more apply, to the last of them. */
START_TEST(test_manager_coalesces_decisions)
{
        struct fixture f;
        setup(&f);
        put(&f, "slow", "0.3");
        ck_assert_int_eq(manager_report(&f.m, EVENT_DRAIN_REQUESTED, "test"), 0);
        ck_assert_int_eq(queue_get_state(&f.m.queue), QUEUE_APPLYING);
        ck_assert_int_eq(queue_apply_kind(&f.m.queue), APPLY_FAST);
        for (int i = 0; i < 5; i++) {
                ck_assert_int_eq(manager_report(&f.m, i % 2 ? EVENT_DRAIN_REQUESTED : EVENT_RESUME_REQUESTED, NULL), 0);
                ck_assert_int_eq(queue_get_state(&f.m.queue), QUEUE_APPLYING);
        }
        ck_assert_int_eq(f.m.target, STATE_PRIMARY);
        ck_assert_uint_eq(f.m.transitions, 7);          /* start, then six decisions */
        ck_assert(settle(&f, 20));
        ck_assert_uint_eq(queue_attempts(&f.m.queue), 3);       /* the first, the one in flight, one for the last */
        ck_assert_int_eq(queue_applied(&f.m.queue), STATE_PRIMARY);
        ck_assert_int_eq(count_calls(&f, "configure terminal"), 2);
        ck_assert_int_eq(count_calls(&f, "frr-reload.py "), 1);
        ck_assert_int_eq(manager_report(&f.m, EVENT_RESUME_REQUESTED, NULL), -EALREADY);
        teardown(&f);
}
END_TEST

/* A failed attempt is retried after 0.5 s, then 1 s, then 2 s (a full apply: it repairs whatever failed);
 * success ends the back-off. */
START_TEST(test_manager_retries_with_backoff)
{
        struct fixture f;
        setup(&f);
        put(&f, "fail", "3");
        double end = now_s() + 20;
        uint64_t t0 = timer_fake_now();
        ck_assert_int_eq(manager_report(&f.m, EVENT_DRAIN_REQUESTED, NULL), 0);
        unsigned seen[8];
        size_t n = 0;
        while (queue_get_state(&f.m.queue) != QUEUE_IDLE && now_s() < end) {
                if (queue_get_state(&f.m.queue) == QUEUE_RETRY_WAIT && (n == 0 || seen[n - 1] != queue_retry_ms(&f.m.queue)) && n < 8)
                        seen[n++] = queue_retry_ms(&f.m.queue);
                turn(&f);
        }
        double took = (timer_fake_now() - t0) / 1e6;
        ck_assert_int_eq(queue_get_state(&f.m.queue), QUEUE_IDLE);
        ck_assert_uint_eq(n, 3);
        ck_assert_uint_eq(seen[0], 500);
        ck_assert_uint_eq(seen[1], 1000);
        ck_assert_uint_eq(seen[2], 2000);
        ck_assert_msg(took >= 3.5, "three back-offs took %.2f s", took);       /* on the fake clock */
        ck_assert_int_eq(queue_applied(&f.m.queue), STATE_WITHDRAWN);
        ck_assert_uint_eq(queue_retry_ms(&f.m.queue), 0);
        ck_assert_ptr_null(queue_last_error(&f.m.queue));
        ck_assert_int_eq(count_calls(&f, "frr-reload.py "), 2);  /* the retries were full applies */
        teardown(&f);
}
END_TEST

/* The manager's phases: the table of allowed changes, walked. Stopping is for good; every phase is
 * reachable from starting. */
START_TEST(test_manager_phase_table)
{
        static const char *const allowed[] = {
                "starting>started", "starting>stopping", "started>ready", "started>stopping",
                "started>stop-withdraw", "ready>reloading", "ready>stopping", "ready>stop-withdraw",
                "reloading>ready", "reloading>stopping", "reloading>stop-withdraw", NULL,
        };
        bool reach[_PHASE_MAX] = { [PHASE_STARTING] = true };
        for (int from = 0; from < _PHASE_MAX; from++) {
                ck_assert_str_ne(manager_phase_name(from), "?");
                for (int to = 0; to < _PHASE_MAX; to++) {
                        char pair[64];
                        bool want = false;
                        snprintf(pair, sizeof(pair), "%s>%s", manager_phase_name(from), manager_phase_name(to));
                        for (const char *const *a = allowed; *a; a++)
                                want |= strcmp(*a, pair) == 0;
                        ck_assert_msg(manager_phase_allowed(from, to) == want, "%s", pair);
                }
        }
        ck_assert_str_eq(manager_phase_name(_PHASE_MAX), "?");
        for (int pass = 0; pass < _PHASE_MAX; pass++)
                for (int from = 0; from < _PHASE_MAX; from++)
                        for (int to = 0; reach[from] && to < _PHASE_MAX; to++)
                                reach[to] |= manager_phase_allowed(from, to);
        for (int p = 0; p < _PHASE_MAX; p++)
                ck_assert_msg(reach[p], "%s unreachable", manager_phase_name(p));
}
END_TEST

/* start = "withdrawn" lets go by itself once every check has passed rise times (issue 20): each pass
 * counts, not only a change of health. */
START_TEST(test_manager_start_withdrawn_lets_go)
{
        struct fixture f;
        setup_with(&f, "services = ( { name = \"web\"; role = \"primary\"; shared_ips = [\"198.51.100.10\"];\n"
                       "  start = \"withdrawn\"; checks = [\"ok\"]; } );\n"
                       "checks = { directory = \"@D@/checks.d\"; interval = 0.2; rise = 3; };\n");
        double end = now_s() + 10;
        while (f.m.target != STATE_WITHDRAWN && now_s() < end)
                ck_assert_int_ge(sd_event_run(f.m.event, 10000), 0);
        ck_assert_int_eq(f.m.target, STATE_WITHDRAWN);
        ck_assert_ptr_nonnull(strstr(services_get(f.m.services, 0)->reason, "start: withdrawn until"));
        double t0 = now_s();
        while (f.m.target != STATE_PRIMARY && now_s() < t0 + 5)
                ck_assert_int_ge(sd_event_run(f.m.event, 10000), 0);
        ck_assert_msg(f.m.target == STATE_PRIMARY, "still %s after 5 s: %s", state_name(f.m.target), services_get(f.m.services, 0)->reason);
        ck_assert(settle(&f, 20));
        ck_assert_int_eq(queue_applied(&f.m.queue), STATE_PRIMARY);
        teardown(&f);
}
END_TEST

/* A datagram socket standing in for systemd's NOTIFY_SOCKET. */
static int notify_socket(struct fixture *f)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        ck_assert_int_ge(fd, 0);
        path_of(sa.sun_path, sizeof(sa.sun_path), f->dir, "notify");
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        setenv("NOTIFY_SOCKET", sa.sun_path, 1);
        return fd;
}

/* Appends what was sent to the notify socket so far to log. */
static void notify_read(int fd, char *log, size_t len)
{
        char msg[512];
        ssize_t n;
        while ((n = recv(fd, msg, sizeof(msg) - 1, 0)) > 0) {
                msg[n] = '\0';
                snprintf(log + strlen(log), len - strlen(log), "%s|", msg);
        }
}

/* A reload while bgpd is down sends READY=1 at once (issue 20): under systemd `systemctl reload` would
 * otherwise hang until bgpd is back. */
START_TEST(test_manager_reload_bgpd_down_ready)
{
        struct fixture f;
        char log[4096] = "";
        setup(&f);
        int fd = notify_socket(&f);
        bgpd_down(&f);
        ck_assert_int_eq(manager_report(&f.m, EVENT_DRAIN_REQUESTED, NULL), 0);
        run_until_state(&f, QUEUE_BGPD_WAIT, 20);
        write_conf(&f, "secondary");
        ck_assert_int_eq(manager_report(&f.m, EVENT_RELOAD_REQUESTED, NULL), 0);
        double end = now_s() + 20;
        uint64_t t0 = timer_fake_now();
        while (!strstr(log, "READY=1") && now_s() < end) {
                ck_assert_int_ge(sd_event_run(f.m.event, 10000), 0);
                notify_read(fd, log, sizeof(log));
        }
        ck_assert_msg(strstr(log, "RELOADING=1") && strstr(log, "READY=1") > strstr(log, "RELOADING=1"),
                      "notify: %s", log);
        ck_assert_uint_eq(timer_fake_now(), t0);       /* at once: bgpd is still down */
        ck_assert_int_eq(f.m.phase, PHASE_READY);
        ck_assert_int_eq(f.m.conf->role, ROLE_SECONDARY);
        unsetenv("NOTIFY_SOCKET");
        close(fd);
        teardown(&f);
}
END_TEST

/* on_stop = "withdraw" with bgpd down exits promptly, not after 2 x frr.timeout + 2 s (issue 20). */
START_TEST(test_manager_stop_withdraw_bgpd_down)
{
        struct fixture f;
        setup_with(&f, "role = \"primary\";\nshared_ips = [\"198.51.100.10\"];\non_stop = \"withdraw\";\n"
                       "checks = { directory = \"@D@/none\"; };\n");
        ck_assert(settle(&f, 20));
        ck_assert_int_eq(queue_applied(&f.m.queue), STATE_PRIMARY);
        bgpd_down(&f);
        double end = now_s() + 20;
        uint64_t t0 = timer_fake_now();
        ck_assert_int_eq(kill(getpid(), SIGTERM), 0);
        while (sd_event_get_state(f.m.event) != SD_EVENT_FINISHED && now_s() < end)
                turn(&f);
        ck_assert_int_eq(sd_event_get_state(f.m.event), SD_EVENT_FINISHED);
        double took = (timer_fake_now() - t0) / 1e6;
        ck_assert_msg(took < 5, "stopped after %.1f s", took);      /* frr.timeout is 10; the fake clock */
        ck_assert_int_eq(f.m.phase, PHASE_STOP_WITHDRAW);
        teardown(&f);
}
END_TEST

/* ---- the stop with addresses_on_stop = "remove": in a network namespace of the test's own ---- */

#define FIXTURES TEST_DIR "/fixtures/frr/"

/* bgpd on the vty socket for the watch: it shows what the stand-in vtysh made it "run" (DIR/running). */
struct fake_bgpd {
        char dir[200], path[100];
        int listen_fd;
        pthread_t thread;
        atomic_int stop;
};

static bool bgpd_withdrawn(const char *dir)
{
        char p[300], *text = NULL;
        snprintf(p, sizeof(p), "%s/running", dir);
        bool w = file_read(p, 4096, &text, NULL) < 0 || strncmp(text, "withdrawn", 9) == 0;
        free(text);
        return w;
}

static char *answer_to(struct fake_bgpd *b, const char *cmd)
{
        const char *name = "";
        bool w = bgpd_withdrawn(b->dir);
        char *text = NULL;
        if (strcmp(cmd, "show bgp neighbors json") == 0)
                name = FIXTURES "host-neighbors-established.json";
        else if (strcmp(cmd, "show bgp summary json") == 0)
                name = FIXTURES "host-summary-established.json";
        else if (strcmp(cmd, "show running-config") == 0)
                name = w ? FIXTURES "host-running-config-withdrawn.txt" : FIXTURES "host-running-config-primary.txt";
        else if (strncmp(cmd, "show bgp ipv4 unicast ", 22) == 0)
                name = w ? FIXTURES "host-ipv4-prefix-absent.json" : FIXTURES "host-ipv4-prefix-primary.json";
        if (!*name || file_read(name, 1 << 20, &text, NULL) < 0)
                return strdup("");
        return text;
}

/* One connection: each NUL-ended command answered with its reply, three NULs and status 0. */
static void serve_one(struct fake_bgpd *b, int c)
{
        char buf[4096];
        size_t have = 0;
        while (!atomic_load(&b->stop)) {
                char *end = memchr(buf, '\0', have);
                if (!end) {
                        struct pollfd p = { .fd = c, .events = POLLIN };
                        if (poll(&p, 1, 20) <= 0)
                                continue;
                        ssize_t n = recv(c, buf + have, sizeof(buf) - have, 0);
                        if (n <= 0)
                                return;
                        have += (size_t)n;
                        continue;
                }
                char *reply = answer_to(b, buf);
                size_t len = strlen(reply);
                int ok = send(c, reply, len, MSG_NOSIGNAL) == (ssize_t)len && send(c, "\0\0\0\0", 4, MSG_NOSIGNAL) == 4;
                free(reply);
                if (!ok)
                        return;
                size_t used = (size_t)(end - buf) + 1;
                memmove(buf, buf + used, have - used);
                have -= used;
        }
}

static void *serve(void *arg)
{
        struct fake_bgpd *b = arg;
        while (!atomic_load(&b->stop)) {
                struct pollfd p = { .fd = b->listen_fd, .events = POLLIN };
                if (poll(&p, 1, 20) <= 0)
                        continue;
                int c = accept(b->listen_fd, NULL, NULL);
                if (c < 0)
                        continue;
                serve_one(b, c);
                close(c);
        }
        return NULL;
}

/* The fixture's bgpd stand-in replaced by one that answers the watch's commands. */
static void fake_bgpd_start(struct fixture *f, struct fake_bgpd *b)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (f->listener >= 0)
                close(f->listener);
        f->listener = -1;
        snprintf(b->dir, sizeof(b->dir), "%s", f->dir);
        snprintf(b->path, sizeof(b->path), "%s", f->sock);
        unlink(b->path);
        b->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", b->path);
        ck_assert_int_eq(bind(b->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(listen(b->listen_fd, 16), 0);
        atomic_store(&b->stop, 0);
        ck_assert_int_eq(pthread_create(&b->thread, NULL, serve, b), 0);
}

/* bgpd's process ends: its socket refuses, vtysh fails. */
static void fake_bgpd_stop(struct fixture *f, struct fake_bgpd *b)
{
        if (b->listen_fd < 0)
                return;
        put(f, "down", "");
        atomic_store(&b->stop, 1);
        pthread_join(b->thread, NULL);
        close(b->listen_fd);
        unlink(b->path);
        b->listen_fd = -1;
}

struct lookup {
        struct nladdr want;
        int ifindex;
        bool found;
};

static void find_cb(const struct nladdr_msg *msg, void *userdata)
{
        struct lookup *l = userdata;
        if (msg->ifindex == l->ifindex && nladdr_equal(&msg->a, &l->want))
                l->found = true;
}

/* 198.51.100.10/32 on lo. */
static bool address_on_lo(void)
{
        struct prefix p;
        struct nladdr_sock *s = NULL;
        struct lookup l = { .ifindex = (int)if_nametoindex("lo") };
        ck_assert_int_eq(prefix_parse_shared("198.51.100.10", &p), PREFIX_OK);
        ck_assert_int_eq(nladdr_form(&p, &l.want), 0);
        ck_assert_int_eq(nladdr_sock_open(false, &s), 0);
        ck_assert_int_eq(nladdr_dump(s, find_cb, &l), 0);
        nladdr_sock_close(s);
        return l.found;
}

/* A manager announcing 198.51.100.10/32 as primary, the address managed on lo (of a network namespace of
 * this test's process: Check runs each test in a child of its own), the watch reading bgpd; false: no
 * namespace here (not root, or CK_FORK=no). */
static bool setup_stop(struct fixture *f, struct fake_bgpd *b)
{
        const char *fork_mode = getenv("CK_FORK");
        if ((fork_mode && strcmp(fork_mode, "no") == 0) || unshare(CLONE_NEWNET) < 0 || unit_lo_up() < 0) {
                fprintf(stderr, "manager: no network namespace here (not root, or CK_FORK=no), skipped\n");
                return false;
        }
        setup_with(f, "role = \"primary\";\nshared_ips = [\"198.51.100.10\"];\non_stop = \"withdraw\";\n"
                      "addresses = \"manage\";\naddresses_on_stop = \"remove\";\n"
                      "checks = { directory = \"@D@/none\"; };\n");
        char pid[300];
        path_of(pid, sizeof(pid), f->dir, "bgpd.pid");
        fake_bgpd_start(f, b);
        ck_assert_int_eq(manager_attach(&f->m), 0);
        watch_use_paths(f->m.watch, f->sock, pid);
        ck_assert(address_on_lo());             /* before the first announcement */
        ck_assert(settle(f, 20));
        ck_assert_int_eq(queue_applied(&f->m.queue), STATE_PRIMARY);
        ck_assert(!bgpd_withdrawn(f->dir));
        return true;
}

/* Runs the loop until it ends or secs pass (real time: a bound, not a wait); with bgpd up, the address never
 * leaves lo while bgpd still runs the announcement. */
static void run_until_finished(struct fixture *f, double secs)
{
        double end = now_s() + secs;
        bool up = access(f->sock, F_OK) == 0;
        while (sd_event_get_state(f->m.event) != SD_EVENT_FINISHED && now_s() < end) {
                ck_assert_int_ge(sd_event_run(f->m.event, 10000), 0);
                ck_assert_msg(!up || address_on_lo() || bgpd_withdrawn(f->dir), "the address left lo before the withdrawal");
        }
}

/* Dispatches every event ready now: what the loop does before the fake clock moves. */
static void run_ready(struct fixture *f)
{
        int r = 1;
        while (r > 0 && sd_event_get_state(f->m.event) != SD_EVENT_FINISHED)
                r = sd_event_run(f->m.event, 0);
        ck_assert_int_ge(r, 0);
        ck_assert_msg(sd_event_get_state(f->m.event) != SD_EVENT_FINISHED,
                      "the stop ended at once: no removal waiting for the route servers' second");
}

/* on_stop = "withdraw" with addresses_on_stop = "remove" (issue 23): the withdrawal in bgpd first, read back
 * from bgpd by the watch, then one more second (on the fake clock), then the address leaves lo. */
START_TEST(test_manager_stop_withdraw_then_remove)
{
        struct fixture f;
        struct fake_bgpd b = { .listen_fd = -1 };
        if (!setup_stop(&f, &b))
                return;
        ck_assert_int_eq(kill(getpid(), SIGTERM), 0);
        double end = now_s() + 20;
        bool reading = false;
        /* Until the reads of bgpd that verify the withdrawal are done: then only the fake clock moves on. */
        while (!(reading && f.m.stop_reads == 0) && now_s() < end) {
                ck_assert_int_ge(sd_event_run(f.m.event, 10000), 0);
                ck_assert(address_on_lo());
                reading |= f.m.stop_reads > 0;
        }
        ck_assert(bgpd_withdrawn(f.dir));
        ck_assert(watch_withdrawal_sent(f.m.watch));
        run_ready(&f);
        ck_assert(address_on_lo());             /* the route servers' second has not passed */
        timer_fake_advance(999000);
        run_ready(&f);
        ck_assert(address_on_lo());
        timer_fake_advance(1000);
        run_until_finished(&f, 10);
        ck_assert_int_eq(sd_event_get_state(f.m.event), SD_EVENT_FINISHED);
        ck_assert(!address_on_lo());
        ck_assert_int_eq(queue_applied(&f.m.queue), STATE_WITHDRAWN);
        fake_bgpd_stop(&f, &b);
        teardown(&f);
}
END_TEST

/* The same with bgpd down at the stop: nothing can be withdrawn and nothing is announced (its sessions ended
 * with it), so the address leaves lo after the same second, without a read of bgpd (issue 23: it stayed). */
START_TEST(test_manager_stop_bgpd_down_removes)
{
        struct fixture f;
        struct fake_bgpd b = { .listen_fd = -1 };
        if (!setup_stop(&f, &b))
                return;
        fake_bgpd_stop(&f, &b);
        ck_assert_int_eq(kill(getpid(), SIGTERM), 0);
        double end = now_s() + 20;
        while (queue_get_state(&f.m.queue) != QUEUE_STOPPED && now_s() < end)
                ck_assert_int_ge(sd_event_run(f.m.event, 10000), 0);
        run_ready(&f);
        ck_assert(address_on_lo());
        timer_fake_advance(1000000);
        run_until_finished(&f, 10);
        ck_assert_int_eq(sd_event_get_state(f.m.event), SD_EVENT_FINISHED);
        ck_assert_msg(!address_on_lo(), "bgpd down: the address stayed on lo");
        ck_assert(timer_fake_now() < 2 * f.m.conf->frr.timeout * 1000000);     /* not the stop timer's bound */
        teardown(&f);
}
END_TEST

/* The watch's "prefix stuck invalid" becomes a re-announce run by the queue, the one writer to bgpd: one
 * in flight, and a decision arriving meanwhile waits for it, then goes as the fast path. */
START_TEST(test_manager_reannounce_is_queued)
{
        struct fixture f;
        setup(&f);
        ck_assert_int_eq(manager_report(&f.m, EVENT_PREFIX_STUCK, "203.0.113.99/32"), -ENOENT);
        ck_assert(!queue_busy(&f.m.queue));
        put(&f, "slow", "0.3");
        ck_assert_int_eq(manager_report(&f.m, EVENT_PREFIX_STUCK, "198.51.100.10/32"), 0);
        ck_assert_int_eq(queue_get_state(&f.m.queue), QUEUE_APPLYING);
        ck_assert_int_eq(queue_apply_kind(&f.m.queue), APPLY_REANNOUNCE);
        ck_assert_str_eq(queue_apply_name(&f.m.queue), "re-announce");
        ck_assert_uint_eq(queue_attempts(&f.m.queue), 2);
        ck_assert_int_eq(manager_report(&f.m, EVENT_DRAIN_REQUESTED, "test"), 0);
        ck_assert_int_eq(queue_get_state(&f.m.queue), QUEUE_APPLYING);
        ck_assert_int_eq(queue_apply_kind(&f.m.queue), APPLY_REANNOUNCE);        /* the decision waits */
        ck_assert_uint_eq(queue_attempts(&f.m.queue), 2);
        run_until_state(&f, QUEUE_IDLE, 20);
        ck_assert(settle(&f, 20));
        ck_assert_uint_eq(queue_attempts(&f.m.queue), 3);
        ck_assert_int_eq(queue_apply_kind(&f.m.queue), APPLY_FAST);
        ck_assert_int_eq(queue_applied(&f.m.queue), STATE_WITHDRAWN);
        /* the re-announce's one call: the statement removed and entered again, in that order */
        ck_assert_int_eq(count_calls(&f, "-c no network 198.51.100.10/32 -c network 198.51.100.10/32 route-map "), 1);
        teardown(&f);
}
END_TEST

/* A new decision during the back-off goes at once: the back-off belongs to the failed attempt. */
START_TEST(test_manager_decision_ends_backoff)
{
        struct fixture f;
        setup(&f);
        put(&f, "fail", "1");
        ck_assert_int_eq(manager_report(&f.m, EVENT_DRAIN_REQUESTED, NULL), 0);
        run_until_state(&f, QUEUE_RETRY_WAIT, 10);
        ck_assert_int_eq(manager_report(&f.m, EVENT_RESUME_REQUESTED, NULL), 0);
        ck_assert_int_eq(queue_get_state(&f.m.queue), QUEUE_APPLYING);
        ck_assert_int_eq(queue_apply_kind(&f.m.queue), APPLY_FULL);
        ck_assert(settle(&f, 20));
        ck_assert_int_eq(queue_applied(&f.m.queue), STATE_PRIMARY);
        teardown(&f);
}
END_TEST

/* A reload during an apply waits for it; then the new configuration gets one full apply. */
START_TEST(test_manager_reload_during_apply)
{
        struct fixture f;
        setup(&f);
        put(&f, "slow", "0.3");
        ck_assert_int_eq(manager_report(&f.m, EVENT_RESUME_REQUESTED, NULL), -EALREADY);
        ck_assert_int_eq(manager_report(&f.m, EVENT_DRAIN_REQUESTED, NULL), 0);
        ck_assert_int_eq(queue_get_state(&f.m.queue), QUEUE_APPLYING);
        write_conf(&f, "secondary");
        ck_assert_int_eq(manager_report(&f.m, EVENT_RELOAD_REQUESTED, NULL), 0);
        ck_assert_ptr_nonnull(f.m.pending_conf);
        ck_assert_int_eq(f.m.conf->role, ROLE_PRIMARY);          /* not yet: the apply points into it */
        ck_assert_uint_eq(queue_attempts(&f.m.queue), 2);
        ck_assert(settle(&f, 20));
        ck_assert_ptr_null(f.m.pending_conf);
        ck_assert_int_eq(f.m.conf->role, ROLE_SECONDARY);
        ck_assert_uint_eq(queue_attempts(&f.m.queue), 3);
        ck_assert_int_eq(count_calls(&f, "frr-reload.py "), 2);
        ck_assert_int_eq(queue_applied(&f.m.queue), STATE_WITHDRAWN);    /* still drained */
        ck_assert_int_eq(manager_report(&f.m, EVENT_RESUME_REQUESTED, NULL), 0);
        ck_assert(settle(&f, 20));
        ck_assert_int_eq(queue_applied(&f.m.queue), STATE_SECONDARY);
        teardown(&f);
}
END_TEST

/* Drift and a bgpd restart both forget what FRR runs and owe a full apply, at once. */
static void full_apply_after(enum agent_event ev)
{
        struct fixture f;
        setup(&f);
        put(&f, "running", "withdrawn\n");              /* what a restarted bgpd (or a hand edit) runs */
        ck_assert_int_eq(manager_report(&f.m, ev, "test"), 0);
        ck_assert_int_eq(queue_get_state(&f.m.queue), QUEUE_APPLYING);
        ck_assert_int_eq(queue_apply_kind(&f.m.queue), APPLY_FULL);
        ck_assert_int_eq(queue_applied(&f.m.queue), STATE_INVALID);
        ck_assert(settle(&f, 20));
        ck_assert_int_eq(queue_applied(&f.m.queue), STATE_PRIMARY);
        ck_assert_int_eq(count_calls(&f, "frr-reload.py "), 2);
        teardown(&f);
}

START_TEST(test_manager_drift_full_apply)
{
        full_apply_after(EVENT_DRIFT_SEEN);
}
END_TEST

START_TEST(test_manager_bgpd_restart_full_apply)
{
        full_apply_after(EVENT_BGPD_RESTARTED);
}
END_TEST

/* bgpd gone: one failed attempt, then only a connect to its socket each poll (no vtysh, no frr-reload.py,
 * new decisions wait too); the full apply goes out as soon as the socket answers. */
START_TEST(test_manager_waits_for_bgpd)
{
        struct fixture f;
        setup(&f);
        bgpd_down(&f);
        ck_assert_int_eq(manager_report(&f.m, EVENT_DRAIN_REQUESTED, NULL), 0);
        run_until_state(&f, QUEUE_BGPD_WAIT, 10);
        ck_assert_ptr_nonnull(queue_last_error(&f.m.queue));
        int calls = count_calls(&f, "vtysh") + count_calls(&f, "frr-reload.py");
        ck_assert_int_eq(manager_report(&f.m, EVENT_RESUME_REQUESTED, NULL), 0);
        ck_assert_int_eq(manager_report(&f.m, EVENT_DRIFT_SEEN, NULL), 0);
        ck_assert_int_eq(manager_report(&f.m, EVENT_BGPD_GONE, "refused"), 0);
        fake_for(&f, 1500000);
        ck_assert_int_eq(queue_get_state(&f.m.queue), QUEUE_BGPD_WAIT);
        ck_assert_int_eq(count_calls(&f, "vtysh") + count_calls(&f, "frr-reload.py"), calls);
        ck_assert_uint_ge(queue_probes(&f.m.queue), 4);
        bgpd_up(&f);
        uint64_t t0 = timer_fake_now();
        run_until_state(&f, QUEUE_APPLYING, 20);
        double took = (timer_fake_now() - t0) / 1e6;
        ck_assert_msg(took < 0.5, "the apply went out %.2f s after the socket answered", took);
        ck_assert_int_eq(queue_apply_kind(&f.m.queue), APPLY_FULL);
        /* The watch's "bgpd answers again" that follows is the same news: no second full apply. */
        ck_assert_int_eq(manager_report(&f.m, EVENT_BGPD_BACK, NULL), 0);
        ck_assert(settle(&f, 20));
        ck_assert_int_eq(queue_applied(&f.m.queue), STATE_PRIMARY);
        ck_assert_int_eq(count_calls(&f, "frr-reload.py "), 2);
        teardown(&f);
}
END_TEST

/* The watch finding bgpd gone during a back-off stops the retries too. */
START_TEST(test_manager_gone_during_backoff)
{
        struct fixture f;
        setup(&f);
        put(&f, "fail", "1");
        ck_assert_int_eq(manager_report(&f.m, EVENT_DRAIN_REQUESTED, NULL), 0);
        run_until_state(&f, QUEUE_RETRY_WAIT, 10);
        bgpd_down(&f);
        ck_assert_int_eq(manager_report(&f.m, EVENT_BGPD_GONE, "refused"), 0);
        ck_assert_int_eq(queue_get_state(&f.m.queue), QUEUE_BGPD_WAIT);
        int calls = count_calls(&f, "vtysh");
        fake_for(&f, 1200000);                                 /* past the 0.5 s retry */
        ck_assert_int_eq(count_calls(&f, "vtysh"), calls);
        ck_assert_int_eq(manager_report(&f.m, EVENT_BGPD_BACK, NULL), 0);
        ck_assert_int_eq(queue_get_state(&f.m.queue), QUEUE_BGPD_WAIT);   /* the socket still refuses */
        bgpd_up(&f);
        ck_assert_int_eq(manager_report(&f.m, EVENT_BGPD_BACK, NULL), 0);
        ck_assert_int_eq(queue_get_state(&f.m.queue), QUEUE_APPLYING);
        ck_assert(settle(&f, 20));
        ck_assert_int_eq(queue_applied(&f.m.queue), STATE_WITHDRAWN);
        teardown(&f);
}
END_TEST

/* A read-back that shows something else than what was applied is a failure: a full apply follows. */
START_TEST(test_manager_readback_mismatch)
{
        struct fixture f;
        setup(&f);
        put(&f, "refuse", "");                         /* the fast path's network command is refused */
        ck_assert_int_eq(manager_report(&f.m, EVENT_DRAIN_REQUESTED, NULL), 0);
        run_until_state(&f, QUEUE_RETRY_WAIT, 10);
        ck_assert_ptr_nonnull(strstr(queue_last_error(&f.m.queue), "% Unknown command"));
        drop(&f, "refuse");
        ck_assert(settle(&f, 20));
        ck_assert_int_eq(queue_applied(&f.m.queue), STATE_WITHDRAWN);
        ck_assert_int_eq(count_calls(&f, "frr-reload.py "), 2);
        teardown(&f);
}
END_TEST

/* The queue's probe: a missing socket and one nobody listens on are gone; a full backlog is busy, not gone. */
START_TEST(test_queue_probe_bgpd)
{
        char *dir = unit_tmpdir(), path[100];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        path_of(path, sizeof(path), dir, "bgpd.vty");
        ck_assert_int_eq(queue_probe_bgpd(path), -ENOENT);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(queue_probe_bgpd(path), -ECONNREFUSED);
        ck_assert_int_eq(listen(fd, 0), 0);
        int hold = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        (void)connect(hold, (struct sockaddr *)&sa, sizeof(sa));  /* fills the backlog */
        ck_assert_int_eq(queue_probe_bgpd(path), 0);
        close(hold);
        close(fd);
        ck_assert_int_eq(queue_probe_bgpd(path), -ECONNREFUSED);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

/* The snapshot renders the status JSON and STATUS= from the manager's state. */
START_TEST(test_manager_snapshot)
{
        struct fixture f;
        setup(&f);
        ck_assert_int_eq(manager_report(&f.m, EVENT_DRAIN_REQUESTED, "maintenance"), 0);
        ck_assert(settle(&f, 20));
        struct snapshot s;
        manager_snapshot(&f.m, &s);
        json_object *o = snapshot_json(&s);
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        ck_assert_ptr_nonnull(strstr(text, "\"state\":\"withdrawn\""));
        ck_assert_ptr_nonnull(strstr(text, "\"applied\":\"withdrawn\""));
        ck_assert_ptr_nonnull(strstr(text, "\"drain_reason\":\"maintenance\""));
        ck_assert_ptr_nonnull(strstr(text, "\"last_apply_ok\":true"));
        json_object_put(o);
        char line[1024];
        snapshot_status_line(&s, line, sizeof(line));
        ck_assert_msg(strncmp(line, "withdrawn (drained) since ", 26) == 0, "%s", line);
        struct buf b;
        buf_init(&b);
        ck_assert_int_eq(snapshot_metrics(&s, &b), 0);
        ck_assert_ptr_nonnull(strstr(b.data, "failoverd_drained"));
        buf_free(&b);
        snapshot_clear(&s);
        teardown(&f);
}
END_TEST

/* What status says while nothing is verified: an apply in flight after bgpd restarted is not a failed one
 * ("the last apply to FRR failed: ?" before), and a failure carries its reason. */
START_TEST(test_manager_snapshot_apply_unknown)
{
        struct fixture f;
        struct snapshot s;
        struct buf b;
        setup(&f);
        ck_assert_int_eq(manager_report(&f.m, EVENT_BGPD_RESTARTED, NULL), 0);
        run_until_state(&f, QUEUE_APPLYING, 10);
        manager_snapshot(&f.m, &s);
        json_object *o = snapshot_json(&s), *bgpd, *v;
        snapshot_clear(&s);
        ck_assert(json_object_object_get_ex(o, "bgpd", &bgpd));
        ck_assert(json_object_object_get_ex(bgpd, "last_apply_ok", &v));
        ck_assert_msg(v == NULL, "last_apply_ok is %s while applying", json_object_to_json_string(v));
        ck_assert_str_eq(json_object_get_string(json_object_object_get(bgpd, "apply")), "applying");
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(o, 1700000000, &b), 0);
        ck_assert_msg(!strstr(b.data, "apply to FRR failed"), "%s", b.data);
        ck_assert_ptr_nonnull(strstr(b.data, "last apply not verified yet (applying)"));
        buf_free(&b);
        json_object_put(o);
        ck_assert(settle(&f, 20));

        /* A failed attempt: false, with the tool's words. */
        put(&f, "refuse", "");
        ck_assert_int_eq(manager_report(&f.m, EVENT_DRAIN_REQUESTED, NULL), 0);
        run_until_state(&f, QUEUE_RETRY_WAIT, 10);
        manager_snapshot(&f.m, &s);
        o = snapshot_json(&s);
        snapshot_clear(&s);
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(o, 1700000000, &b), 0);
        ck_assert_msg(strstr(b.data, "WARNING: the last apply to FRR failed: ") && !strstr(b.data, "failed: ?"), "%s",
                      b.data);
        buf_free(&b);
        json_object_put(o);
        drop(&f, "refuse");
        ck_assert(settle(&f, 20));
        teardown(&f);
}
END_TEST

Suite *manager_suite(void)
{
        Suite *s = suite_create("manager");
        TCase *tc = tcase_create("manager");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_manager_first_apply_is_full);
        tcase_add_test(tc, test_manager_coalesces_decisions);
        tcase_add_test(tc, test_manager_retries_with_backoff);
        tcase_add_test(tc, test_manager_decision_ends_backoff);
        tcase_add_test(tc, test_manager_reannounce_is_queued);
        tcase_add_test(tc, test_manager_phase_table);
        tcase_add_test(tc, test_manager_start_withdrawn_lets_go);
        tcase_add_test(tc, test_manager_reload_bgpd_down_ready);
        tcase_add_test(tc, test_manager_stop_withdraw_bgpd_down);
        tcase_add_test(tc, test_manager_stop_withdraw_then_remove);
        tcase_add_test(tc, test_manager_stop_bgpd_down_removes);
        tcase_add_test(tc, test_manager_reload_during_apply);
        tcase_add_test(tc, test_manager_drift_full_apply);
        tcase_add_test(tc, test_manager_bgpd_restart_full_apply);
        tcase_add_test(tc, test_manager_waits_for_bgpd);
        tcase_add_test(tc, test_manager_gone_during_backoff);
        tcase_add_test(tc, test_manager_readback_mismatch);
        tcase_add_test(tc, test_queue_probe_bgpd);
        tcase_add_test(tc, test_manager_snapshot);
        tcase_add_test(tc, test_manager_snapshot_apply_unknown);
        suite_add_tcase(s, tc);
        return s;
}
