/* Unit tests for the bgpd watch (agent/watch.c) against a fake bgpd on a vty socket of its own: what bgpd
 * shows becomes events for the manager (drift seen, bgpd restarted, gone, back); the watch changes nothing
 * itself. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "watch.h"
#include "unit.h"

#define FIXTURES TEST_DIR "/fixtures/frr/"

struct fake_bgpd {
        char path[100];
        int listen_fd;
        pthread_t thread;
        atomic_int stop;
        atomic_int withdrawn;           /* show running-config: the withdrawn fixture, else the primary one */
        atomic_int answered;            /* commands answered */
};

static char *fixture(const char *name)
{
        char *text = NULL;
        ck_assert_int_eq(file_read(name, 1 << 20, &text, NULL), 0);
        return text;
}

static char *answer_to(struct fake_bgpd *f, const char *cmd)
{
        if (strcmp(cmd, "show bgp neighbors json") == 0)
                return fixture(FIXTURES "host-neighbors-established.json");
        if (strcmp(cmd, "show bgp summary json") == 0)
                return fixture(FIXTURES "host-summary-established.json");
        if (strcmp(cmd, "show running-config") == 0)
                return fixture(atomic_load(&f->withdrawn) ? FIXTURES "host-running-config-withdrawn.txt"
                                                          : FIXTURES "host-running-config-primary.txt");
        if (strncmp(cmd, "show bgp ipv4 unicast ", 22) == 0)
                return fixture(FIXTURES "host-ipv4-prefix-primary.json");
        if (strncmp(cmd, "show bgp ipv6 unicast ", 22) == 0)
                return fixture(FIXTURES "host-ipv6-prefix-primary.json");
        return strdup("");
}

/* One connection: each NUL-ended command answered with its reply, three NULs and status 0. */
static void serve_one(struct fake_bgpd *f, int c)
{
        char buf[4096];
        size_t have = 0;
        for (;;) {
                char *end = memchr(buf, '\0', have);
                if (!end) {
                        ssize_t n = recv(c, buf + have, sizeof(buf) - have, 0);
                        if (n <= 0)
                                return;
                        have += (size_t)n;
                        continue;
                }
                char *reply = answer_to(f, buf);
                size_t len = strlen(reply);
                int ok = send(c, reply, len, MSG_NOSIGNAL) == (ssize_t)len && send(c, "\0\0\0\0", 4, MSG_NOSIGNAL) == 4;
                free(reply);
                if (!ok)
                        return;
                atomic_fetch_add(&f->answered, 1);
                size_t used = (size_t)(end - buf) + 1;
                memmove(buf, buf + used, have - used);
                have -= used;
        }
}

static void *serve(void *arg)
{
        struct fake_bgpd *f = arg;
        while (!atomic_load(&f->stop)) {
                struct pollfd p = { .fd = f->listen_fd, .events = POLLIN };
                if (poll(&p, 1, 20) <= 0)
                        continue;
                int c = accept(f->listen_fd, NULL, NULL);
                if (c < 0)
                        continue;
                serve_one(f, c);
                close(c);
        }
        return NULL;
}

static void bgpd_start(struct fake_bgpd *f)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
        ck_assert_int_eq(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(listen(f->listen_fd, 16), 0);
        atomic_store(&f->stop, 0);
        ck_assert_int_eq(pthread_create(&f->thread, NULL, serve, f), 0);
}

static void bgpd_stop(struct fake_bgpd *f)
{
        atomic_store(&f->stop, 1);
        pthread_join(f->thread, NULL);
        close(f->listen_fd);
        unlink(f->path);
}

struct recorder {
        int events[_EVENT_MAX];
        enum fo_state applied;
};

static int on_report(void *userdata, enum agent_event ev, const char *detail)
{
        struct recorder *r = userdata;
        (void)detail;
        r->events[ev]++;
        return 0;
}

static enum fo_state on_applied(void *userdata)
{
        return ((struct recorder *)userdata)->applied;
}

static bool on_busy(void *userdata)
{
        (void)userdata;
        return false;
}

static void run_until(sd_event *e, struct recorder *r, enum agent_event ev, int count)
{
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        t = t0;
        while (r->events[ev] < count && t.tv_sec < t0.tv_sec + 10) {
                ck_assert_int_ge(sd_event_run(e, 20000), 0);
                clock_gettime(CLOCK_MONOTONIC, &t);
        }
        ck_assert_msg(r->events[ev] >= count, "no %s in 10 s", agent_event_name(ev));
}

START_TEST(test_watch_reports_events)
{
        char *dir = unit_tmpdir(), text[2000], pidfile[200];
        struct fake_bgpd f = { 0 };
        struct recorder rec = { .applied = STATE_PRIMARY };
        struct agent_sink sink = { .userdata = &rec, .report = on_report, .applied = on_applied, .busy = on_busy };
        struct diag d;
        struct conf *c = NULL;
        sd_event *e = NULL;
        struct watch *w = NULL;

        snprintf(f.path, sizeof(f.path), "%s/bgpd.vty", dir);
        snprintf(pidfile, sizeof(pidfile), "%s/bgpd.pid", dir);
        free(unit_write(dir, "bgpd.pid", "100\n", 0644));
        snprintf(text, sizeof(text), "role = \"primary\";\nshared_ips = [\"198.51.100.10\", \"2001:db8:e001:1b8c::/64\"];\n"
                 "bgp = { route_servers = [\"2001:db8:f0::1\"]; poll_interval = 0.1; };\n"
                 "frr = { config = \"%s/frr.conf\"; timeout = 5; };\nchecks = { directory = \"%s/none\"; };\n", dir, dir);
        char *conf = unit_write(dir, "failoverd.conf", text, 0644);
        diag_init(&d);
        ck_assert_msg(conf_load(conf, &c, &d) == 0, "conf_load: %s", d.n ? d.msgs[0].text : "?");
        diag_free(&d);
        free(conf);

        bgpd_start(&f);
        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(watch_new(e, c, &sink, &w), 0);
        watch_use_paths(w, f.path, pidfile);
        run_until(e, &rec, EVENT_BGPD_READ, 3);
        ck_assert_int_eq(rec.events[EVENT_DRIFT_SEEN], 0);      /* bgpd runs what was applied */
        ck_assert_int_eq(rec.events[EVENT_BGPD_RESTARTED] + rec.events[EVENT_BGPD_BACK] + rec.events[EVENT_BGPD_GONE], 0);
        struct snapshot s = { .conf = c };
        watch_snapshot(w, &s);
        ck_assert(s.bgpd_known && s.bgpd_reachable);
        ck_assert_uint_eq(s.n_prefixes, 2);
        ck_assert_int_eq(s.prefixes[0].configured, 1);
        ck_assert_str_eq(s.prefixes[0].route_map, "primary");
        snapshot_clear(&s);

        /* A hand edit (or a restart the pid file missed) takes the network statements away. */
        atomic_store(&f.withdrawn, 1);
        run_until(e, &rec, EVENT_DRIFT_SEEN, 1);
        atomic_store(&f.withdrawn, 0);

        /* A new pid: bgpd restarted, whatever it answers. */
        free(unit_write(dir, "bgpd.pid", "200\n", 0644));
        run_until(e, &rec, EVENT_BGPD_RESTARTED, 1);
        ck_assert_int_eq(rec.events[EVENT_BGPD_RESTARTED], 1);

        /* Gone, then back. */
        bgpd_stop(&f);
        run_until(e, &rec, EVENT_BGPD_GONE, 1);
        s = (struct snapshot){ .conf = c };
        watch_snapshot(w, &s);
        ck_assert(s.bgpd_known && !s.bgpd_reachable);
        ck_assert_int_eq(s.prefixes[0].announcement, ANNOUNCE_UNKNOWN);
        snapshot_clear(&s);
        ck_assert_int_eq(rec.events[EVENT_BGPD_BACK], 0);
        bgpd_start(&f);
        run_until(e, &rec, EVENT_BGPD_BACK, 1);
        ck_assert_int_eq(rec.events[EVENT_BGPD_RESTARTED], 1);  /* same pid: back, not restarted */

        watch_free(w);
        sd_event_unref(e);
        bgpd_stop(&f);
        conf_free(c);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

/* The watch's bgpd states: the table walked. Once known, never unknown again; every other change goes. */
START_TEST(test_watch_bgpd_table)
{
        for (int from = 0; from < _WATCH_BGPD_MAX; from++) {
                ck_assert_str_ne(watch_bgpd_name(from), "?");
                for (int to = 0; to < _WATCH_BGPD_MAX; to++)
                        ck_assert_msg(watch_bgpd_allowed(from, to) == (from != to && to != WATCH_BGPD_UNKNOWN),
                                      "%s -> %s", watch_bgpd_name(from), watch_bgpd_name(to));
        }
        ck_assert_str_eq(watch_bgpd_name(_WATCH_BGPD_MAX), "?");
        ck_assert(!watch_bgpd_allowed(WATCH_BGPD_UP, _WATCH_BGPD_MAX));
}
END_TEST

Suite *watch_suite(void)
{
        Suite *s = suite_create("watch");
        TCase *tc = tcase_create("watch");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_watch_bgpd_table);
        tcase_add_test(tc, test_watch_reports_events);
        suite_add_tcase(s, tc);
        return s;
}
