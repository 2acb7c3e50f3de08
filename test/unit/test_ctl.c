/* Unit tests for lib/ctl*.c and failoverctl: a real server on an sd-event loop thread, driven by clients. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#include "conf.h"
#include "control.h"
#include "ctl_client.h"
#include "ctl_format.h"
#include "ctl_json.h"
#include "ctl_server.h"
#include "file.h"

#define NOBODY 65534

static const char sample_status[] =
        "{ \"schema\":1, \"version\":\"0.1.0\", \"pid\":123, \"hostname\":\"h1\", \"role\":\"primary\","
        "  \"state\":\"primary\", \"community\":\"65000:1\", \"reason\":\"all checks up\", \"since\":1700000000.123,"
        "  \"drained\":false, \"drain_reason\":null,"
        "  \"config\":{\"path\":\"/etc/failoverd/failoverd.conf\", \"reload_error\":null},"
        "  \"shared_ips\":[{\"prefix\":\"198.51.100.10/32\",\"assigned\":true,\"announced\":true,\"route_map\":\"primary\"},"
        "                {\"prefix\":\"2001:db8:e001:1b8c::/64\",\"assigned\":true,\"announced\":true,\"route_map\":\"primary\"}],"
        "  \"checks\":[{\"name\":\"http\",\"health\":\"up\",\"severity\":\"ok\",\"last_exit\":\"exit 0\","
        "              \"message\":\"OK - 12 ms\",\"last_run_age\":1.2,\"duration\":0.012,\"interval\":1.0,\"rise\":3,"
        "              \"fall\":2,\"ok_streak\":5,\"bad_streak\":0},"
        "             {\"name\":\"postgres-replica\",\"health\":\"up\",\"severity\":\"ok\",\"last_exit\":\"exit 0\","
        "              \"message\":\"OK\",\"last_run_age\":0.4,\"duration\":0.25,\"interval\":1.0,\"rise\":3,"
        "              \"fall\":2,\"ok_streak\":9,\"bad_streak\":1}],"
        "  \"route_servers\":[{\"address\":\"2001:db8:f0::1\",\"state\":\"Established\",\"up\":true,\"uptime\":312.0,"
        "                      \"prefixes_sent\":2,\"last_reset\":\"never\"},"
        "                     {\"address\":\"2001:db8:f0::2\",\"state\":\"Established\",\"up\":true,\"uptime\":7384.5,"
        "                      \"prefixes_sent\":2,\"last_reset\":null}],"
        "  \"bgpd\":{\"reachable\":true, \"established\":2, \"total\":2, \"last_apply_ok\":true,"
        "           \"last_apply_error\":null, \"last_apply_ms\":45.2},"
        "  \"transitions\": 3 }";

/* A server on its own loop thread; stop_fd ends the loop. */
struct fx {
        char *dir;
        char *path;
        sd_event *e;
        struct ctl_server *srv;
        sd_event_source *stop_src;
        int stop_fd;
        pthread_t th;
        int running;
        pthread_mutex_t lock;
        int calls;
        char last_cmd[32];
        char last_arg[CTL_REQUEST_MAX];
        long last_uid;
};

static int fake_handler(const char *command, const char *arg, json_object **reply, void *userdata)
{
        struct fx *f = userdata;
        const struct ucred *peer = ctl_server_peer(f->srv);

        pthread_mutex_lock(&f->lock);
        f->calls++;
        snprintf(f->last_cmd, sizeof(f->last_cmd), "%s", command);
        snprintf(f->last_arg, sizeof(f->last_arg), "%s", arg ? arg : "(null)");
        f->last_uid = peer ? (long)peer->uid : -1;
        pthread_mutex_unlock(&f->lock);

        if (strcmp(command, "status-json") == 0) {
                *reply = json_tokener_parse(sample_status);
                return *reply ? 0 : -ENOMEM;
        }
        if (strcmp(command, "status") == 0 || strcmp(command, "checks") == 0) {
                /* What agent/control.c does: the screens come from the daemon's side, not the transport. */
                json_object *st = json_tokener_parse(sample_status);
                int r = ctl_format_reply(command, st, 1700000000, reply);
                json_object_put(st);
                return r;
        }
        if (strcmp(command, "drain") == 0) {
                char msg[CTL_REQUEST_MAX + 16];
                snprintf(msg, sizeof(msg), "drained: %s", arg ? arg : "no reason");
                *reply = json_object_new_object();
                json_object_object_add(*reply, "message", json_object_new_string(msg));
                return 0;
        }
        if (strcmp(command, "resume") == 0) {
                *reply = json_tokener_parse("{\"ok\":false,\"error\":\"not drained\"}");
                return 0;
        }
        return -EIO;    /* reload */
}

static int on_stop(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void)fd;
        (void)revents;
        (void)userdata;
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static void *loop_thread(void *arg)
{
        struct fx *f = arg;
        sd_event_loop(f->e);
        return NULL;
}

static void fx_setup(struct fx *f)
{
        memset(f, 0, sizeof(*f));
        pthread_mutex_init(&f->lock, NULL);
        f->dir = unit_tmpdir();
        ck_assert_int_ge(ctl_socket_path(f->dir, &f->path), 0);
        ck_assert_int_ge(sd_event_new(&f->e), 0);
        ck_assert_int_eq(ctl_server_new(f->e, f->path, fake_handler, f, &f->srv), 0);
        f->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        ck_assert_int_ge(f->stop_fd, 0);
        ck_assert_int_ge(sd_event_add_io(f->e, &f->stop_src, f->stop_fd, EPOLLIN, on_stop, f), 0);
}

static void fx_start(struct fx *f)
{
        ck_assert_int_eq(pthread_create(&f->th, NULL, loop_thread, f), 0);
        f->running = 1;
}

static void fx_teardown(struct fx *f)
{
        if (f->running) {
                uint64_t one = 1;
                ck_assert_int_eq(write(f->stop_fd, &one, sizeof(one)), (ssize_t)sizeof(one));
                pthread_join(f->th, NULL);
        }
        f->srv = ctl_server_free(f->srv);
        f->stop_src = sd_event_source_disable_unref(f->stop_src);
        close(f->stop_fd);
        f->e = sd_event_unref(f->e);
        unit_rmrf(f->dir);
        free(f->dir);
        free(f->path);
        pthread_mutex_destroy(&f->lock);
}

static double mono(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int raw_connect(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        return fd;
}

/* Reads until EOF (or a reset after data) within timeout_s; the text read, malloc'd. Fails on timeout:
 * reaching EOF is the proof that the server closed the connection. */
static char *raw_read_all(int fd, double timeout_s)
{
        struct buf b;
        double end = mono() + timeout_s;
        buf_init(&b);
        buf_puts(&b, "");
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int left = (int)((end - mono()) * 1000);
                ck_assert_msg(left > 0, "server did not close the connection within %.1f s", timeout_s);
                if (poll(&p, 1, left) <= 0)
                        continue;
                char chunk[4096];
                ssize_t n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
                if (n > 0) {
                        buf_append(&b, chunk, (size_t)n);
                        continue;
                }
                if (n == 0 || errno == ECONNRESET)
                        break;
                ck_assert_int_eq(errno, EAGAIN);
        }
        return buf_steal(&b);
}

static char *raw_exchange(const char *path, const void *data, size_t len)
{
        int fd = raw_connect(path);
        if (len)
                ck_assert_int_eq(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
        char *out = raw_read_all(fd, 5);
        close(fd);
        return out;
}

static void assert_contains(const char *hay, const char *needle)
{
        ck_assert_msg(hay && strstr(hay, needle), "expected \"%s\" in:\n%s", needle, hay ? hay : "(null)");
}

static const char *js(json_object *o, const char *key)
{
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v))
                return NULL;
        return json_object_get_string(v);
}

static int jok(json_object *o)
{
        json_object *v;
        ck_assert(json_object_object_get_ex(o, "ok", &v));
        return json_object_get_boolean(v);
}

START_TEST(test_ctl_parse_request)
{
        static const struct {
                const char *in;
                const char *cmd;        /* NULL: rejected */
                const char *arg;
                const char *err;
        } cases[] = {
                { "status", "status", NULL, NULL },
                { "status-json", "status-json", NULL, NULL },
                { "ping\r", "ping", NULL, NULL },
                { "drain", "drain", NULL, NULL },
                { "drain   --reason kernel upgrade  ", "drain", "--reason kernel upgrade", NULL },
                { "drain kernel upgrade", NULL, NULL, "drain: unexpected \"kernel\"" },
                { "drain wbe", NULL, NULL, "drain the host with \"drain [--reason TEXT]\"" },
                { "resume web", "resume", "web", NULL },
                { "drain ", "drain", NULL, NULL },
                { "", NULL, NULL, "empty request" },
                { "frobnicate", NULL, NULL, "unknown command \"frobnicate\"" },
                { "STATUS", NULL, NULL, "unknown command" },
                { "status now", NULL, NULL, "status takes no argument" },
                { "reload x", NULL, NULL, "reload takes no argument" },
                { "drain a\tb", NULL, NULL, "printable ASCII (byte 0x09 at offset 7)" },
                { "drain caf\xc3\xa9", NULL, NULL, "printable ASCII (byte 0xc3" },
                { "status\x7f", NULL, NULL, "printable ASCII" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char line[128], err[160] = "";
                const char *cmd, *arg;
                snprintf(line, sizeof(line), "%s", cases[i].in);
                int r = ctl_parse_request(line, strlen(line), &cmd, &arg, err, sizeof(err));
                if (cases[i].cmd) {
                        ck_assert_msg(r == 0, "\"%s\": %s", cases[i].in, err);
                        ck_assert_str_eq(cmd, cases[i].cmd);
                        if (cases[i].arg)
                                ck_assert_str_eq(arg, cases[i].arg);
                        else
                                ck_assert_ptr_null(arg);
                } else {
                        ck_assert_msg(r == -EINVAL, "\"%s\" accepted", cases[i].in);
                        assert_contains(err, cases[i].err);
                }
        }

        /* A NUL is a byte like any other: the whole request is refused, never read up to it. */
        static const char nul[] = "drain\0 garbage\001\002";
        char line[64], err[160] = "";
        const char *cmd, *arg;
        memcpy(line, nul, sizeof(nul));
        ck_assert_int_eq(ctl_parse_request(line, sizeof(nul) - 1, &cmd, &arg, err, sizeof(err)), -EINVAL);
        assert_contains(err, "printable ASCII (byte 0x00 at offset 5)");
        ck_assert_ptr_null(cmd);
}
END_TEST

/* drain and resume: the host and a service are different forms; anything else is refused. */
START_TEST(test_ctl_parse_target)
{
        static const struct {
                const char *cmd, *arg;
                const char *service;    /* NULL: refused */
                const char *reason;     /* or the error */
        } cases[] = {
                { "drain", NULL, "", NULL },
                { "drain", "--reason kernel upgrade, back at 14:00", "", "kernel upgrade, back at 14:00" },
                { "drain", "--service web", "web", NULL },
                { "drain", "--service web --reason maint", "web", "maint" },
                { "drain", " --service  db_2-x   --reason  a  b ", "db_2-x", "a  b " },
                { "drain", "wbe", NULL, "drain: unexpected \"wbe\"" },
                { "drain", "web maintenance", NULL, "unexpected \"web\"" },
                { "drain", "--service", NULL, "\"\" is not a service name" },
                { "drain", "--service we.b", NULL, "\"we.b\" is not a service name" },
                { "drain", "--service web extra", NULL, "unexpected \"extra\"" },
                { "drain", "--service a --service b", NULL, "unexpected \"--service\"" },
                { "drain", "--reason", NULL, "the reason is missing" },
                { "drain", "--reason x --service web", NULL, "may not contain --service" },
                { "resume", NULL, "", NULL },
                { "resume", "--service web", "web", NULL },
                { "resume", "web", "web", NULL },
                { "resume", "web db", NULL, "unexpected \"web\"" },
                { "resume", "--reason x", NULL, "unexpected \"--reason\"" },
                { "resume", "-web", NULL, "unexpected" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct ctl_target t;
                char err[256] = "";
                int r = ctl_parse_target(cases[i].cmd, cases[i].arg, &t, err, sizeof(err));
                if (!cases[i].service) {
                        ck_assert_msg(r == -EINVAL, "%s %s accepted", cases[i].cmd, cases[i].arg);
                        assert_contains(err, cases[i].reason);
                        continue;
                }
                ck_assert_msg(r == 0, "%s %s: %s", cases[i].cmd, cases[i].arg, err);
                ck_assert_str_eq(t.service, cases[i].service);
                if (cases[i].reason)
                        ck_assert_str_eq(t.reason, cases[i].reason);
                else
                        ck_assert_ptr_null(t.reason);
        }
}
END_TEST

START_TEST(test_ctl_duration)
{
        static const struct {
                double s;
                const char *out;
        } cases[] = {
                { 0.012, "12ms" }, { 0.4, "400ms" }, { 1.2, "1.2s" }, { 59.9, "59.9s" }, { 300, "5m" },
                { 312, "5m12s" }, { 3600, "1h" }, { 11040, "3h04m" }, { 183600, "2d03h" }, { -1, "0ms" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char out[32];
                ctl_format_duration(cases[i].s, out, sizeof(out));
                ck_assert_str_eq(out, cases[i].out);
        }
}
END_TEST

START_TEST(test_ctl_request_roundtrip)
{
        struct fx f;
        json_object *r = NULL;

        fx_setup(&f);
        fx_start(&f);

        ck_assert_int_eq(ctl_request(f.path, "ping", NULL, 2000, &r), 0);
        ck_assert(jok(r));
        ck_assert_str_eq(js(r, "version"), VERSION);
        ck_assert_int_eq(f.calls, 0);  /* the server answers ping itself */
        json_object_put(r);

        ck_assert_int_eq(ctl_request(f.path, "status-json", NULL, 2000, &r), 0);
        ck_assert(jok(r));                      /* added by the server */
        ck_assert_str_eq(js(r, "state"), "primary");
        ck_assert_str_eq(js(r, "schema"), "1");
        ck_assert_str_eq(f.last_cmd, "status-json");
        ck_assert_int_eq(f.last_uid, (long)geteuid());
        json_object_put(r);

        ck_assert_int_eq(ctl_request(f.path, "status", NULL, 2000, &r), 0);
        assert_contains(js(r, "text"), "PRIMARY");
        assert_contains(js(r, "text"), "route servers: 2/2 established");
        json_object_put(r);

        ck_assert_int_eq(ctl_request(f.path, "checks", NULL, 2000, &r), 0);
        json_object *checks;
        ck_assert(json_object_object_get_ex(r, "checks", &checks));
        ck_assert_int_eq(json_object_array_length(checks), 2);
        assert_contains(js(r, "text"), "checks: 2/2 up");
        json_object_put(r);

        ck_assert_int_eq(ctl_request(f.path, "drain", "--reason kernel upgrade", 2000, &r), 0);
        ck_assert(jok(r));
        ck_assert_str_eq(js(r, "message"), "drained: --reason kernel upgrade");
        ck_assert_str_eq(f.last_arg, "--reason kernel upgrade");
        json_object_put(r);

        /* The handler's own error reply, and a handler failure: both answered, both ok:false. */
        ck_assert_int_eq(ctl_request(f.path, "resume", NULL, 2000, &r), 0);
        ck_assert(!jok(r));
        ck_assert_str_eq(js(r, "error"), "not drained");
        json_object_put(r);
        ck_assert_int_eq(ctl_request(f.path, "reload", NULL, 2000, &r), 0);
        ck_assert(!jok(r));
        ck_assert_str_eq(js(r, "code"), "failed");
        ck_assert_str_eq(js(r, "error"), strerror(EIO));
        json_object_put(r);

        /* Invalid requests never leave the client. */
        ck_assert_int_eq(ctl_request(f.path, "frobnicate", NULL, 2000, &r), -EINVAL);
        ck_assert_ptr_null(r);
        ck_assert_int_eq(ctl_request(f.path, "status", "now", 2000, &r), -EINVAL);
        ck_assert_int_eq(ctl_request(f.path, "drain", "--reason caf\xc3\xa9", 2000, &r), -EINVAL);
        ck_assert_int_eq(ctl_request(f.path, "drain", "wbe", 2000, &r), -EINVAL);
        fx_teardown(&f);

        /* No daemon. */
        ck_assert_int_eq(ctl_request("/nonexistent/failoverd/control", "ping", NULL, 500, &r), -ENOENT);
        ck_assert_ptr_null(r);
}
END_TEST

START_TEST(test_ctl_bad_requests_on_the_wire)
{
        struct fx f;
        char *out;

        fx_setup(&f);
        fx_start(&f);

        out = raw_exchange(f.path, "frobnicate\n", 11);
        assert_contains(out, "\"ok\":false");
        assert_contains(out, "\"code\":\"bad-request\"");
        assert_contains(out, "unknown command \\\"frobnicate\\\"");
        free(out);

        out = raw_exchange(f.path, "status now\n", 11);
        assert_contains(out, "status takes no argument");
        free(out);

        out = raw_exchange(f.path, "status\x01\n", 8);
        assert_contains(out, "printable ASCII");
        free(out);
        out = raw_exchange(f.path, "drain caf\xc3\xa9\n", 12);
        assert_contains(out, "printable ASCII");
        free(out);
        out = raw_exchange(f.path, "\n", 1);
        assert_contains(out, "empty request");
        free(out);
        /* A NUL does not end the request early: "drain" followed by garbage is refused as a whole. */
        static const char nul[] = "drain\0 garbage\001\002\n";
        out = raw_exchange(f.path, nul, sizeof(nul) - 1);
        assert_contains(out, "\"code\":\"bad-request\"");
        assert_contains(out, "byte 0x00 at offset 5");
        free(out);
        out = raw_exchange(f.path, "ping\0\n", 6);
        assert_contains(out, "printable ASCII");
        free(out);
        ck_assert_int_eq(f.calls, 0);

        /* A request ended by shutdown(SHUT_WR) rather than a newline is served. */
        int fd = raw_connect(f.path);
        ck_assert_int_eq(send(fd, "ping", 4, MSG_NOSIGNAL), 4);
        shutdown(fd, SHUT_WR);
        out = raw_read_all(fd, 5);
        assert_contains(out, "\"pong\":true");
        ck_assert(out[strlen(out) - 1] == '\n');
        free(out);
        close(fd);

        /* Only the first line counts: one request per connection. */
        out = raw_exchange(f.path, "ping\nreload\n", 12);
        assert_contains(out, "\"pong\":true");
        free(out);
        ck_assert_int_eq(f.calls, 0);
        fx_teardown(&f);
}
END_TEST

START_TEST(test_ctl_oversized)
{
        struct fx f;
        char req[CTL_REQUEST_MAX + 64];
        char *out;

        fx_setup(&f);
        fx_start(&f);

        /* Exactly 1024 bytes with the newline: served. */
        memcpy(req, "drain --reason ", 15);
        memset(req + 15, 'x', CTL_REQUEST_MAX - 16);
        req[CTL_REQUEST_MAX - 1] = '\n';
        out = raw_exchange(f.path, req, CTL_REQUEST_MAX);
        assert_contains(out, "\"ok\":true");
        ck_assert_int_eq(strlen(f.last_arg), CTL_REQUEST_MAX - 7);
        free(out);

        /* One more byte: rejected, and the connection closed (raw_exchange reads to EOF). */
        memset(req + 6, 'y', CTL_REQUEST_MAX - 6);
        req[CTL_REQUEST_MAX] = '\n';
        out = raw_exchange(f.path, req, CTL_REQUEST_MAX + 1);
        assert_contains(out, "request too long (at most 1024 bytes");
        assert_contains(out, "\"code\":\"bad-request\"");
        ck_assert_int_eq(f.calls, 1);
        free(out);

        /* Far too much with no newline at all. */
        char big[8192];
        memset(big, 'z', sizeof(big));
        out = raw_exchange(f.path, big, sizeof(big));
        assert_contains(out, "request too long");
        free(out);

        char arg[CTL_REQUEST_MAX];
        memset(arg, 'a', sizeof(arg) - 1);
        arg[sizeof(arg) - 1] = '\0';
        json_object *r = NULL;
        ck_assert_int_eq(ctl_request(f.path, "drain", arg, 2000, &r), -EMSGSIZE);
        ck_assert_ptr_null(r);
        fx_teardown(&f);
}
END_TEST

START_TEST(test_ctl_slow_client_dropped)
{
        struct fx f;

        fx_setup(&f);
        fx_start(&f);

        double t0 = mono();
        int fd = raw_connect(f.path);
        ck_assert_int_eq(send(fd, "sta", 3, MSG_NOSIGNAL), 3);
        char *out = raw_read_all(fd, 5);
        double took = mono() - t0;
        close(fd);
        ck_assert_msg(took >= 1.8, "dropped after %.2f s, before the 2 s deadline", took);
        assert_contains(out, "\"code\":\"timeout\"");
        free(out);

        /* The loop was never blocked: a ping during someone else's slow connection is answered while that
         * connection is still waiting for its deadline (a loop that waited for it would answer only after). */
        fd = raw_connect(f.path);
        ck_assert_int_eq(send(fd, "sta", 3, MSG_NOSIGNAL), 3);
        json_object *r = NULL;
        ck_assert_int_eq(ctl_request(f.path, "ping", NULL, 10000, &r), 0);
        ck_assert(jok(r));
        char c;
        ck_assert_msg(recv(fd, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "the slow connection ended first");
        json_object_put(r);
        close(fd);
        fx_teardown(&f);
}
END_TEST

START_TEST(test_ctl_connections_bounded)
{
        struct fx f;
        int idle[CTL_MAX_CONNECTIONS];
        json_object *r = NULL;

        fx_setup(&f);
        fx_start(&f);
        for (int i = 0; i < CTL_MAX_CONNECTIONS; i++)
                idle[i] = raw_connect(f.path);
        /* The backlog is accepted in order: the 17th connection finds the 16 ahead of it. */
        ck_assert_int_eq(ctl_request(f.path, "ping", NULL, 2000, &r), 0);
        ck_assert(!jok(r));
        ck_assert_str_eq(js(r, "code"), "busy");
        json_object_put(r);
        for (int i = 0; i < CTL_MAX_CONNECTIONS; i++)
                close(idle[i]);
        /* Once they are gone the server serves again (it notices the closes on its own time). */
        int ok = 0;
        for (int i = 0; i < 100 && !ok; i++) {
                ck_assert_int_eq(ctl_request(f.path, "ping", NULL, 2000, &r), 0);
                ok = jok(r);
                json_object_put(r);
                if (!ok)
                        usleep(10000);
        }
        ck_assert(ok);
        fx_teardown(&f);
}
END_TEST

START_TEST(test_ctl_socket_file)
{
        struct fx f;
        struct stat st;
        struct ctl_server *other = NULL;
        char *stale;

        /* A stale socket (bound, its process gone) is replaced. */
        char *dir = unit_tmpdir();
        ck_assert_int_eq(ctl_socket_path(dir, &stale), 0);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", stale);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd);
        ck_assert_int_eq(lstat(stale, &st), 0);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(ctl_server_new(e, stale, fake_handler, NULL, &other), 0);
        other = ctl_server_free(other);
        ck_assert_int_eq(lstat(stale, &st), -1);        /* removed on free */

        /* Something that is not a socket is never removed. */
        char *reg = unit_write(dir, "control", "precious\n", 0644);
        ck_assert_int_eq(ctl_server_new(e, reg, fake_handler, NULL, &other), -EEXIST);
        ck_assert_ptr_null(other);
        ck_assert_int_eq(lstat(reg, &st), 0);
        free(reg);

        char longpath[200];
        memset(longpath, 'p', sizeof(longpath) - 1);
        longpath[0] = '/';
        longpath[sizeof(longpath) - 1] = '\0';
        ck_assert_int_eq(ctl_server_new(e, longpath, fake_handler, NULL, &other), -ENAMETOOLONG);
        char *p = NULL;
        ck_assert_int_eq(ctl_socket_path(longpath, &p), -ENAMETOOLONG);
        ck_assert_int_eq(ctl_socket_path("/run/failoverd", &p), 0);
        ck_assert_str_eq(p, CTL_DEFAULT_PATH);
        free(p);
        sd_event_unref(e);
        unit_rmrf(dir);
        free(dir);
        free(stale);

        /* Mode 0660 whatever the umask, and a live server is not replaced. */
        mode_t old = umask(0);
        fx_setup(&f);
        umask(old);
        ck_assert_int_eq(lstat(f.path, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode));
        ck_assert_int_eq(st.st_mode & 07777, 0660);
        ck_assert_int_eq(ctl_server_new(f.e, f.path, fake_handler, NULL, &other), -EADDRINUSE);
        ck_assert_ptr_null(other);
        ck_assert_int_eq(lstat(f.path, &st), 0);
        fx_teardown(&f);
}
END_TEST

/* Makes the calling thread nobody (gid nobody, supplementary groups as given). Raw system calls change this
 * thread only (glibc's setuid() would change every thread): the test needs no fork while the server
 * thread runs, where a child could stall on a lock that thread held (a sanitizer's, malloc's). */
static int become_user(uid_t uid, const gid_t *groups, size_t n)
{
        if (syscall(SYS_setgroups, n, groups) < 0 || syscall(SYS_setresgid, NOBODY, NOBODY, NOBODY) < 0 ||
            syscall(SYS_setresuid, uid, uid, uid) < 0)
                return -errno;
        return 0;
}

struct nobody_call {
        uid_t uid;
        const gid_t *groups;
        size_t n;
        int (*fn)(void *);
        void *arg;
        int ret;
};

static void *nobody_thread(void *arg)
{
        struct nobody_call *c = arg;
        c->ret = become_user(c->uid, c->groups, c->n) < 0 ? 99 : c->fn(c->arg);
        return NULL;
}

/* Runs fn in a thread of its own that has become uid (gid nobody, groups); returns what fn returned (99:
 * could not). The thread ends with fn, and its credentials with it. */
static int as_user(uid_t uid, const gid_t *groups, size_t n, int (*fn)(void *), void *arg)
{
        struct nobody_call c = { .uid = uid, .groups = groups, .n = n, .fn = fn, .arg = arg };
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, nobody_thread, &c), 0);
        ck_assert_int_eq(pthread_join(th, NULL), 0);
        return c.ret;
}

static int as_nobody(const gid_t *groups, size_t n, int (*fn)(void *), void *arg)
{
        struct nobody_call c = { .uid = NOBODY, .groups = groups, .n = n, .fn = fn, .arg = arg };
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, nobody_thread, &c), 0);
        ck_assert_int_eq(pthread_join(th, NULL), 0);
        return c.ret;
}

/* 0 answered ok; 10 connect() refused (EACCES, no reply); 11 refused by the server (JSON "denied"). */
static int nobody_ping(void *arg)
{
        json_object *r = NULL;
        int ret = ctl_request(arg, "ping", NULL, 2000, &r);
        int code = ret == 0 && r && jok(r) ? 0 : ret == -EACCES && !r ? 10 :
                   ret == -EACCES && r && strcmp(js(r, "code"), "denied") == 0 ? 11 : 20;
        json_object_put(r);
        return code;
}

START_TEST(test_ctl_peer_credentials)
{
        struct fx f;

        if (geteuid() != 0)
                return;         /* needs root to become nobody */
        fx_setup(&f);
        fx_start(&f);
        ck_assert_int_eq(chmod(f.dir, 0711), 0);

        /* root:root 0660: the file mode already keeps nobody out. */
        ck_assert_int_eq(as_nobody(NULL, 0, nobody_ping, f.path), 10);
        /* Opened up by hand: the credential check still refuses, with a JSON error. */
        ck_assert_int_eq(chmod(f.path, 0666), 0);
        ck_assert_int_eq(as_nobody(NULL, 0, nobody_ping, f.path), 11);
        /* The socket's group (its group now, after a chgrp) is let in: by primary gid... */
        ck_assert_int_eq(chown(f.path, (uid_t)-1, NOBODY), 0);
        ck_assert_int_eq(chmod(f.path, 0660), 0);
        ck_assert_int_eq(as_nobody(NULL, 0, nobody_ping, f.path), 0);
        /* ...and by a supplementary group (SO_PEERGROUPS). */
        gid_t ops = 4242;
        ck_assert_int_eq(chown(f.path, (uid_t)-1, ops), 0);
        ck_assert_int_eq(chmod(f.path, 0666), 0);
        ck_assert_int_eq(as_nobody(NULL, 0, nobody_ping, f.path), 11);
        ck_assert_int_eq(as_nobody(&ops, 1, nobody_ping, f.path), 0);
        ck_assert_int_eq(f.calls, 0);
        fx_teardown(&f);
}
END_TEST

struct req {
        const char *path;
        const char *command;
};

/* As nobody_ping, for any command. */
static int nobody_cmd(void *arg)
{
        const struct req *q = arg;
        json_object *r = NULL;
        int ret = ctl_request(q->path, q->command, NULL, 2000, &r);
        int code = ret == 0 && r && jok(r) ? 0 : ret == -EACCES && !r ? 10 :
                   ret == -EACCES && r && strcmp(js(r, "code"), "denied") == 0 ? 11 : 20;
        json_object_put(r);
        return code;
}

static char *ctl_bin(void);

struct spawn_call {
        posix_spawn_file_actions_t *fa;
        char **argv;
        int bin_fd;                     /* argv[0], opened by the caller (as root) */
        pid_t pid;
};

/* The child gets the calling thread's credentials (as_nobody's, when called from there). The binary runs
 * through /proc/self/fd: nobody may not traverse the build tree (a clone under /root, mode 0700). */
static int spawn_fn(void *arg)
{
        struct spawn_call *c = arg;
        extern char **environ;
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", c->bin_fd);
        return posix_spawn(&c->pid, path, c->fa, NULL, c->argv, environ);
}

/* Runs spawn_fn as nobody (with groups) or as the caller. */
static void spawn_ctl(struct spawn_call *c, bool nobody, const gid_t *groups, size_t n)
{
        c->bin_fd = open(c->argv[0], O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(c->bin_fd, 0);
        ck_assert_int_eq(nobody ? as_nobody(groups, n, spawn_fn, c) : spawn_fn(c), 0);
        close(c->bin_fd);
}

/* failoverctl COMMAND as nobody in group; checks its exit status; its stdout and stderr, malloc'd. */
static char *ctl_as_reader(gid_t group, const char *path, const char *command, int want)
{
        char *dir = unit_tmpdir(), *bin = ctl_bin(), *text = NULL;
        char *file = unit_write(dir, "out", "", 0600);
        char *argv[] = { bin, "--socket", (char *)path, (char *)command, NULL };
        /* Opened by root, written by nobody's failoverctl: dup'd onto its stdout and stderr. */
        int out_fd = open(file, O_WRONLY | O_TRUNC | O_CLOEXEC);
        ck_assert_int_ge(out_fd, 0);
        posix_spawn_file_actions_t fa;
        ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
        ck_assert_int_eq(posix_spawn_file_actions_adddup2(&fa, out_fd, 1), 0);
        ck_assert_int_eq(posix_spawn_file_actions_adddup2(&fa, out_fd, 2), 0);
        struct spawn_call sc = { .fa = &fa, .argv = argv };
        spawn_ctl(&sc, true, &group, 1);
        posix_spawn_file_actions_destroy(&fa);
        close(out_fd);
        int status, rc = -1;
        ck_assert_int_eq(waitpid(sc.pid, &status, 0), sc.pid);
        if (WIFEXITED(status))
                rc = WEXITSTATUS(status);
        ck_assert_int_eq(file_read(file, 1 << 20, &text, NULL), 0);
        ck_assert_msg(rc == want, "failoverctl %s: exit %d, want %d: %s", command, rc, want, text);
        unit_rmrf(dir);
        free(dir);
        free(file);
        free(bin);
        return text;
}

/* Reads and changes are separate permissions: a member of the read group (or, by default, of the socket's
 * group) gets status but is denied drain, resume and reload; the admin group and root get everything. */
START_TEST(test_ctl_read_and_admin_groups)
{
        struct fx f;
        struct stat st;
        gid_t readers = 4242, admins = 4343;

        if (geteuid() != 0)
                return;
        fx_setup(&f);
        fx_start(&f);
        ck_assert_int_eq(chmod(f.dir, 0700), 0);
        struct req status = { f.path, "status" }, checks = { f.path, "checks" }, drain = { f.path, "drain" },
                   resume = { f.path, "resume" }, reload = { f.path, "reload" };

        /* No groups configured: the socket's group reads, and only reads. */
        ck_assert_int_eq(chmod(f.dir, 0711), 0);
        ck_assert_int_eq(chown(f.path, (uid_t)-1, readers), 0);
        ck_assert_int_eq(as_nobody(&readers, 1, nobody_cmd, &status), 0);
        ck_assert_int_eq(as_nobody(&readers, 1, nobody_cmd, &checks), 0);
        ck_assert_int_eq(as_nobody(&readers, 1, nobody_cmd, &drain), 11);
        ck_assert_int_eq(as_nobody(&readers, 1, nobody_cmd, &resume), 11);
        ck_assert_int_eq(as_nobody(&readers, 1, nobody_cmd, &reload), 11);
        pthread_mutex_lock(&f.lock);
        ck_assert_str_eq(f.last_cmd, "checks");          /* the handler never saw a change */
        pthread_mutex_unlock(&f.lock);

        /* Both groups: the socket opens to everyone, the credentials decide. */
        ck_assert_int_eq(chmod(f.dir, 0700), 0);
        ck_assert_int_eq(ctl_server_set_access(f.srv, readers, admins), 0);
        ck_assert_int_eq(stat(f.path, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0666);
        ck_assert_int_eq(stat(f.dir, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0701);
        ck_assert_int_eq(as_nobody(&readers, 1, nobody_cmd, &status), 0);
        ck_assert_int_eq(as_nobody(&readers, 1, nobody_cmd, &drain), 11);
        ck_assert_int_eq(as_nobody(NULL, 0, nobody_cmd, &status), 11);        /* in neither group */
        ck_assert_int_eq(as_nobody(&admins, 1, nobody_cmd, &status), 0);
        ck_assert_int_eq(as_nobody(&admins, 1, nobody_cmd, &drain), 0);
        pthread_mutex_lock(&f.lock);
        ck_assert_str_eq(f.last_cmd, "drain");
        ck_assert_int_eq(f.last_uid, NOBODY);
        pthread_mutex_unlock(&f.lock);
        /* Root is always admin. */
        json_object *r = NULL;
        ck_assert_int_eq(ctl_request(f.path, "drain", "--reason root", 2000, &r), 0);
        ck_assert(jok(r));
        json_object_put(r);

        /* failoverctl says why and exits 4. */
        char *out = ctl_as_reader(readers, f.path, "drain", 4);
        assert_contains(out, "failoverctl: failoverd refused drain: permission denied: drain needs root, the "
                        "daemon's user or control.admin_group (gid 4343); uid 65534 may only read");
        free(out);
        out = ctl_as_reader(readers, f.path, "status", 0);
        assert_contains(out, "): PRIMARY ");
        free(out);

        /* Groups removed again: back to 0660, and the socket's group reads. */
        ck_assert_int_eq(ctl_server_set_access(f.srv, (gid_t)-1, (gid_t)-1), 0);
        ck_assert_int_eq(stat(f.path, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0660);
        ck_assert_int_eq(as_nobody(&readers, 1, nobody_cmd, &status), 0);
        ck_assert_int_eq(as_nobody(&readers, 1, nobody_cmd, &drain), 11);
        fx_teardown(&f);
}
END_TEST

struct conns {
        const char *path;
        int n;
        int fd[CTL_MAX_CONNECTIONS];
};

/* Opens n connections (as the calling thread's user) and leaves them open, silent. */
static int open_conns(void *arg)
{
        struct conns *c = arg;
        for (int i = 0; i < c->n; i++)
                c->fd[i] = raw_connect(c->path);
        return 0;
}

/* Whether the server has closed fd (it answered busy or timed it out); waits up to wait_s for that. */
static bool conn_closed(int fd, double wait_s, char **text)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, (int)(wait_s * 1000)) <= 0)
                return false;
        *text = raw_read_all(fd, 5);
        return true;
}

/* Members of the read group hold every connection they can get and reconnect: root's drain and an admin's
 * reload are still served (4 of the 16 are kept for admins), a reader uid gets at most 4, and the limit says
 * which one was hit. */
START_TEST(test_ctl_admin_slots)
{
        struct fx f;
        gid_t readers = 4242, admins = 4343;
        struct conns u[4];
        char *text;
        json_object *r = NULL;

        if (geteuid() != 0)
                return;
        fx_setup(&f);
        fx_start(&f);
        ck_assert_int_eq(ctl_server_set_access(f.srv, readers, admins), 0);
        /* Four reader uids, 6 connections each: 4 held per uid until the readers' 12 are gone. */
        for (int k = 0; k < 4; k++) {
                u[k] = (struct conns){ .path = f.path, .n = 6 };
                ck_assert_int_eq(as_user(NOBODY - (uid_t)k, &readers, 1, open_conns, &u[k]), 0);
        }
        /* Root and the admin group get through while the readers hold theirs. */
        ck_assert_int_eq(ctl_request(f.path, "drain", "--reason root", 2000, &r), 0);
        ck_assert_msg(jok(r), "root refused: %s", json_object_to_json_string(r));
        json_object_put(r);
        int held = 0;
        for (int k = 0; k < 4; k++)
                for (int i = 0; i < u[k].n; i++) {
                        if (!conn_closed(u[k].fd[i], i < 4 && k < 3 ? 0.05 : 5, &text)) {
                                held++;
                                continue;
                        }
                        assert_contains(text, "\"code\":\"busy\"");
                        assert_contains(text, k < 3 ? "from uid" : "from readers");
                        free(text);
                        ck_assert_msg(i >= 4 || k == 3, "uid %u's connection %d refused", (unsigned)(NOBODY - k), i);
                }
        ck_assert_int_eq(held, CTL_MAX_CONNECTIONS - CTL_ADMIN_RESERVED);

        struct req drain = { f.path, "drain" };
        ck_assert_int_eq(as_nobody(&admins, 1, nobody_cmd, &drain), 0);
        for (int k = 0; k < 3; k++)
                for (int i = 0; i < 4; i++)
                        ck_assert_msg(!conn_closed(u[k].fd[i], 0, &text), "a reader's connection ended early");
        for (int k = 0; k < 4; k++)
                for (int i = 0; i < u[k].n; i++)
                        close(u[k].fd[i]);
        fx_teardown(&f);
}
END_TEST

/* The descriptors open now, as a bitmap of the first 1024. */
static void open_fds(unsigned char *set)
{
        memset(set, 0, 1024);
        DIR *d = opendir("/proc/self/fd");
        ck_assert_ptr_nonnull(d);
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && atoi(de->d_name) < 1024 && atoi(de->d_name) != dirfd(d))
                        set[atoi(de->d_name)] = 1;
        closedir(d);
}

START_TEST(test_ctl_descriptors)
{
        unsigned char before[1024], during[1024], after[1024];
        struct fx f;
        json_object *r = NULL;

        open_fds(before);
        fx_setup(&f);
        fx_start(&f);
        int idle = raw_connect(f.path);
        ck_assert_int_eq(ctl_request(f.path, "status", NULL, 2000, &r), 0);
        json_object_put(r);
        ck_assert_int_eq(ctl_request(f.path, "ping", NULL, 2000, &r), 0);  /* idle is accepted by now */
        json_object_put(r);
        open_fds(during);
        for (int i = 0; i < 1024; i++)
                if (during[i] && !before[i])
                        ck_assert_msg(fcntl(i, F_GETFD) & FD_CLOEXEC, "fd %d without O_CLOEXEC", i);
        close(idle);
        fx_teardown(&f);
        open_fds(after);
        ck_assert_msg(memcmp(before, after, sizeof(before)) == 0, "descriptors leaked");
}
END_TEST

/* bgpd keeps the network statement but sends nothing (after a zebra restart), and is busy: the text never
 * says "announced" for it, and says why. */
START_TEST(test_ctl_format_status_not_announced)
{
        static const char status[] =
                "{\"schema\":1,\"version\":\"0.1.0\",\"pid\":1,\"hostname\":\"h1\",\"role\":\"primary\","
                "\"state\":\"primary\",\"community\":\"65000:1\",\"reason\":\"all checks up\",\"drained\":false,"
                "\"shared_ips\":[{\"prefix\":\"198.51.100.10/32\",\"assigned\":true,\"announced\":false,"
                "\"announcement\":\"configured\",\"configured\":true,"
                "\"not_announced_why\":\"import check: no route to it in zebra\",\"route_servers_sent\":0,"
                "\"route_map\":\"primary\"},"
                "{\"prefix\":\"2001:db8:e001:1b8c::/64\",\"assigned\":true,\"announced\":true,"
                "\"announcement\":\"announced\",\"configured\":true,\"route_servers_sent\":2,\"route_map\":\"primary\"}],"
                "\"checks\":[],\"route_servers\":[],"
                "\"bgpd\":{\"reachable\":true,\"busy\":true,\"busy_why\":\"its socket's backlog is full\","
                "\"slow_polls\":3,\"established\":2,\"total\":2,\"last_apply_ok\":true,\"last_apply_ms\":40}}";
        struct buf b;
        json_object *st = json_tokener_parse(status);

        ck_assert_ptr_nonnull(st);
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(st, 1700000000, &b), 0);
        assert_contains(b.data, "PRIMARY \xe2\x80\x94 announcing 1 of 2 prefixes with 65000:1");
        assert_contains(b.data, "WARNING: 198.51.100.10/32 should be announced but bgpd does not announce it "
                                "(import check: no route to it in zebra)\n");
        assert_contains(b.data, "198.51.100.10/32         assigned  configured (primary) but NOT ANNOUNCED "
                                "(import check: no route to it in zebra)\n");
        assert_contains(b.data, "2001:db8:e001:1b8c::/64  assigned  announced (primary)\n");
        assert_contains(b.data, "bgpd: reachable, BUSY (its socket's backlog is full), retrying, 3 slow polls");
        ck_assert_ptr_null(strstr(b.data, "198.51.100.10/32         assigned  announced"));
        buf_free(&b);
        json_object_put(st);
}
END_TEST

/* The headline says what bgpd is known to send (the watch's last read of its table), never what the
 * decision wants: bgpd unreachable is "unknown", a withdrawn service's prefix is not counted, and a failed
 * apply gives its reason. */
START_TEST(test_ctl_format_headline_truth)
{
        static const char status[] =
                "{\"schema\":2,\"version\":\"0.1.0\",\"pid\":1,\"hostname\":\"h1\",\"role\":\"mixed\","
                "\"state\":\"primary\",\"community\":null,\"reason\":\"web primary, db withdrawn\",\"drained\":false,"
                "\"shared_ips\":[{\"prefix\":\"198.51.100.10/32\",\"service\":\"web\",\"assigned\":false,"
                "\"announced\":null,\"announcement\":null,\"configured\":null},"
                "{\"prefix\":\"198.51.100.11/32\",\"service\":\"db\",\"assigned\":false,\"announced\":null,"
                "\"announcement\":null,\"configured\":null}],"
                "\"checks\":[],\"route_servers\":[],"
                "\"bgpd\":{\"reachable\":false,\"busy\":false,\"established\":0,\"total\":0,"
                "\"last_apply_ok\":null,\"last_apply_error\":null,\"apply\":\"bgpd-wait\"},"
                "\"services\":[{\"name\":\"web\",\"role\":\"primary\",\"state\":\"primary\"},"
                "{\"name\":\"db\",\"role\":\"secondary\",\"state\":\"withdrawn\"}]}";
        struct buf b;
        json_object *st = json_tokener_parse(status), *ips, *bgpd;

        ck_assert_ptr_nonnull(st);
        json_object_object_get_ex(st, "shared_ips", &ips);
        json_object_object_get_ex(st, "bgpd", &bgpd);
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(st, 1700000000, &b), 0);
        assert_contains(b.data, ": PRIMARY \xe2\x80\x94 announcement unknown: bgpd unreachable (web primary, db withdrawn)\n");
        ck_assert_ptr_null(strstr(b.data, "announcing"));
        ck_assert_ptr_null(strstr(b.data, "apply to FRR failed"));
        assert_contains(b.data, "bgpd: UNREACHABLE, last apply not verified yet (waiting for bgpd)");
        buf_free(&b);

        /* bgpd read: web's prefix goes out, db's (withdrawn) does not and is not counted. */
        json_object_object_add(bgpd, "reachable", json_object_new_boolean(1));
        json_object *web = json_object_array_get_idx(ips, 0), *db = json_object_array_get_idx(ips, 1);
        json_object_object_add(web, "announced", json_object_new_boolean(1));
        json_object_object_add(db, "announced", json_object_new_boolean(0));
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(st, 1700000000, &b), 0);
        assert_contains(b.data, ": PRIMARY \xe2\x80\x94 announcing 1 prefix (web primary, db withdrawn)\n");
        buf_free(&b);

        /* web's is configured but bgpd sends nothing: 0 of 1; and bgpd not read yet at all: unknown. */
        json_object_object_add(web, "announced", json_object_new_boolean(0));
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(st, 1700000000, &b), 0);
        assert_contains(b.data, "PRIMARY \xe2\x80\x94 announcing 0 of 1 prefix (web primary");
        buf_free(&b);
        json_object_object_add(bgpd, "reachable", NULL);
        json_object_object_add(web, "announced", NULL);
        json_object_object_add(db, "announced", NULL);
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(st, 1700000000, &b), 0);
        assert_contains(b.data, "PRIMARY \xe2\x80\x94 announcement unknown: bgpd not read yet (");
        buf_free(&b);

        /* Withdrawn while bgpd still sends db's prefix: said, not hidden behind "not announcing". */
        json_object_object_add(bgpd, "reachable", json_object_new_boolean(1));
        json_object_object_add(st, "state", json_object_new_string("withdrawn"));
        json_object *sv;
        json_object_object_get_ex(st, "services", &sv);
        json_object_object_add(json_object_array_get_idx(sv, 0), "state", json_object_new_string("withdrawn"));
        json_object_object_add(web, "announced", json_object_new_boolean(0));
        json_object_object_add(db, "announced", json_object_new_boolean(1));
        /* The apply that should have withdrawn it failed: its reason, never "?". */
        json_object_object_add(bgpd, "last_apply_ok", json_object_new_boolean(0));
        json_object_object_add(bgpd, "last_apply_error",
                               json_object_new_string("the read-back shows web primary, not withdrawn"));
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(st, 1700000000, &b), 0);
        assert_contains(b.data, "WITHDRAWN \xe2\x80\x94 withdrawing: bgpd still announces 1 prefix (");
        assert_contains(b.data, "WARNING: the last apply to FRR failed: the read-back shows web primary, not withdrawn\n");
        buf_free(&b);
        /* An older daemon that sends no reason: said so, not "?". */
        json_object_object_add(bgpd, "last_apply_error", NULL);
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(st, 1700000000, &b), 0);
        assert_contains(b.data, "WARNING: the last apply to FRR failed (failoverd gave no reason: see its log)\n");
        ck_assert_ptr_null(strstr(b.data, "failed: ?"));
        buf_free(&b);
        json_object_put(st);
}
END_TEST

START_TEST(test_ctl_format_status)
{
        struct buf b;
        json_object *st = json_tokener_parse(sample_status);

        setenv("TZ", "UTC", 1);
        tzset();
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(st, 1700000000.123 + 300, &b), 0);
        assert_contains(b.data, "failoverd 0.1.0 on h1 (pid 123): PRIMARY \xe2\x80\x94 announcing 2 prefixes with "
                        "65000:1 (all checks up) since 22:13:20 (5m ago)\n");
        assert_contains(b.data, "\nrole primary, not drained, 3 state changes since start\n");
        assert_contains(b.data, "\nroute servers: 2/2 established\n");
        assert_contains(b.data, "\n  2001:db8:f0::1  Established  up 5m12s  sent 2\n");
        assert_contains(b.data, "\n  2001:db8:f0::2  Established  up 2h03m  sent 2\n");
        assert_contains(b.data, "\nchecks: 2/2 up\n");
        assert_contains(b.data, "\n  http              up            exit 0  1.2s ago   12ms   OK - 12 ms\n");
        assert_contains(b.data, "\n  postgres-replica  up (1/2 bad)  exit 0  400ms ago  250ms  OK\n");
        assert_contains(b.data, "\nshared addresses:\n  198.51.100.10/32         assigned  announced (primary)\n");
        assert_contains(b.data, "\nbgpd: reachable, last apply ok (45ms)\n");
        assert_contains(b.data, "\nconfig: /etc/failoverd/failoverd.conf\n");
        ck_assert_ptr_null(strstr(b.data, "WARNING"));
        buf_free(&b);
        json_object_put(st);

        /* Everything wrong at once: each reason gets its line. */
        st = json_tokener_parse(sample_status);
        json_object *cfg, *bgpd, *ips, *checks, *rs;
        json_object_object_add(st, "state", json_object_new_string("withdrawn"));
        json_object_object_add(st, "reason", json_object_new_string("drained"));
        json_object_object_add(st, "drained", json_object_new_boolean(1));
        json_object_object_add(st, "drain_reason", json_object_new_string("kernel upgrade"));
        json_object_object_add(st, "since", json_object_new_double(1700000000 - 2 * 86400));
        json_object_object_add(st, "schema", json_object_new_int(3));
        json_object_object_get_ex(st, "config", &cfg);
        json_object_object_add(cfg, "reload_error", json_object_new_string("failoverd.conf:3: bad"));
        json_object_object_get_ex(st, "bgpd", &bgpd);
        json_object_object_add(bgpd, "last_apply_ok", json_object_new_boolean(0));
        json_object_object_add(bgpd, "last_apply_error", json_object_new_string("vtysh exit 1"));
        json_object_object_add(bgpd, "established", json_object_new_int(0));
        json_object_object_get_ex(st, "shared_ips", &ips);
        json_object_object_add(json_object_array_get_idx(ips, 0), "announced", json_object_new_boolean(0));
        json_object_object_add(json_object_array_get_idx(ips, 1), "assigned", json_object_new_boolean(0));
        json_object_object_add(json_object_array_get_idx(ips, 1), "announced", json_object_new_boolean(0));
        json_object_object_get_ex(st, "checks", &checks);
        json_object *c0 = json_object_array_get_idx(checks, 0);
        json_object_object_add(c0, "health", json_object_new_string("down"));
        json_object_object_add(c0, "severity", json_object_new_string("degraded"));
        json_object_object_add(c0, "ok_streak", json_object_new_int(2));
        json_object_object_get_ex(st, "route_servers", &rs);
        json_object *r0 = json_object_array_get_idx(rs, 0);
        json_object_object_add(r0, "up", json_object_new_boolean(0));
        json_object_object_add(r0, "state", json_object_new_string("Active"));
        json_object_object_add(r0, "last_reset", json_object_new_string("Hold Timer Expired"));
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(st, 1700000000, &b), 0);
        assert_contains(b.data, ": WITHDRAWN \xe2\x80\x94 not announcing (drained) since 2023-11-12 22:13:20 (2d ago)");
        assert_contains(b.data, "role primary, DRAINED: kernel upgrade (failoverctl resume to undo)");
        assert_contains(b.data, "note: status schema 3 is newer");
        assert_contains(b.data, "WARNING: reload of /etc/failoverd/failoverd.conf failed, running on the previous "
                        "configuration: failoverd.conf:3: bad\n");
        assert_contains(b.data, "WARNING: the last apply to FRR failed: vtysh exit 1\n");
        assert_contains(b.data, "WARNING: no route-server session is established");
        assert_contains(b.data, "WARNING: 2001:db8:e001:1b8c::/64 is not assigned to a local interface");
        assert_contains(b.data, "  2001:db8:f0::1  Active       down      sent 2  last reset: Hold Timer Expired\n");
        assert_contains(b.data, "checks: 1/2 up\n");
        assert_contains(b.data, "  http              DEGRADED (2/3 ok)");
        assert_contains(b.data, "  2001:db8:e001:1b8c::/64  NOT ASSIGNED  not announced\n");
        assert_contains(b.data, "bgpd: reachable, last apply FAILED (45ms)\n");
        buf_free(&b);
        json_object_put(st);

        /* Demoted, and a status with nothing in it: no crash, question marks. */
        st = json_tokener_parse(sample_status);
        json_object_object_add(st, "state", json_object_new_string("demoted"));
        json_object_object_add(st, "community", json_object_new_string("65000:2"));
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(st, 1700000000, &b), 0);
        assert_contains(b.data, "DEMOTED \xe2\x80\x94 announcing 2 prefixes demoted (65000:2, AS path prepended)");
        buf_free(&b);
        json_object_put(st);

        /* addresses = "manage": each address on lo or not, put back how often; unknown while lo is not watched. */
        st = json_tokener_parse(sample_status);
        json_object_object_add(st, "addresses", json_tokener_parse(
                "{\"managed\":true,\"watching\":true,\"missing\":1,\"restored\":3,\"lo\":["
                "{\"prefix\":\"198.51.100.10/32\",\"address\":\"198.51.100.10/32\",\"state\":\"present\",\"restored\":3,"
                "\"error\":null},{\"prefix\":\"2001:db8:e001:1b8c::/64\",\"address\":\"2001:db8:e001:1b8c::1/64\","
                "\"state\":\"missing\",\"restored\":0,\"error\":\"Operation not permitted\"}]}"));
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(st, 1700000000, &b), 0);
        assert_contains(b.data, "WARNING: 2001:db8:e001:1b8c::1/64 is missing from lo: failoverd puts it back, bgpd does "
                        "not announce it meanwhile (cannot: Operation not permitted)\n");
        assert_contains(b.data, "\nshared addresses (addresses = manage: 1/2 on lo, 3 put back since start):\n"
                        "  198.51.100.10/32         assigned  announced (primary)  on lo, put back 3 times\n"
                        "  2001:db8:e001:1b8c::/64  assigned  announced (primary)  MISSING from lo (2001:db8:e001:1b8c::1/64)\n");
        buf_free(&b);
        json_object *addrs, *lo;
        json_object_object_get_ex(st, "addresses", &addrs);
        json_object_object_add(addrs, "watching", json_object_new_boolean(0));
        json_object_object_add(addrs, "missing", NULL);
        json_object_object_get_ex(addrs, "lo", &lo);
        for (size_t i = 0; i < 2; i++)
                json_object_object_add(json_object_array_get_idx(lo, i), "state", json_object_new_string("unknown"));
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(st, 1700000000, &b), 0);
        assert_contains(b.data, "\nshared addresses (addresses = manage: lo not watched now, whether they are on it is "
                        "unknown):\n  198.51.100.10/32         assigned  announced (primary)  on lo: unknown, put back 3 times\n");
        ck_assert_ptr_null(strstr(b.data, "missing from lo"));
        buf_free(&b);
        json_object_put(st);

        st = json_object_new_object();
        buf_init(&b);
        ck_assert_int_eq(ctl_format_status(st, 0, &b), 0);
        assert_contains(b.data, "failoverd ? on ?: ? \xe2\x80\x94 state unknown\n");
        assert_contains(b.data, "checks: none (always healthy)\n");
        buf_free(&b);
        ck_assert_int_eq(ctl_format_status(NULL, 0, &b), -EINVAL);
        json_object_put(st);
}
END_TEST

/* Check output and bgpd's last reset reason are anybody's bytes: no terminal control sequence, C0, DEL, C1
 * or invalid UTF-8 reaches the screen, and the JSON stays valid. */
START_TEST(test_ctl_format_escapes)
{
        static const char evil[] = "\x1b]0;pwned\x07\x1b[2J\r\tok\x7f\xc2\x9b" "31m\xff\xe2\x80\x94";
        struct buf b;
        json_object *st = json_tokener_parse(sample_status), *checks, *rs;

        json_object_object_get_ex(st, "checks", &checks);
        json_object_object_add(json_object_array_get_idx(checks, 0), "message", json_object_new_string(evil));
        json_object_object_get_ex(st, "route_servers", &rs);
        json_object *r0 = json_object_array_get_idx(rs, 0);
        json_object_object_add(r0, "up", json_object_new_boolean(0));
        json_object_object_add(r0, "last_reset", json_object_new_string("Hold\nWARNING: \x1b[31mfake"));
        const char *want = "\\x1b]0;pwned\\x07\\x1b[2J\\r\\tok\\x7f\\u009b31m\\xff\xe2\x80\x94";
        for (int pass = 0; pass < 2; pass++) {
                buf_init(&b);
                ck_assert_int_eq(pass ? ctl_format_checks(st, &b) : ctl_format_status(st, 1700000000, &b), 0);
                assert_contains(b.data, want);
                if (!pass)
                        assert_contains(b.data, "last reset: Hold\\nWARNING: \\x1b[31mfake\n");
                for (const unsigned char *p = (const unsigned char *)b.data; *p; p++) {
                        ck_assert_msg(*p >= 0x20 || *p == '\n', "control byte 0x%02x in:\n%s", *p, b.data);
                        ck_assert_msg(*p != 0x7f && *p != 0xff && !(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f),
                                      "DEL, C1 or a stray byte in:\n%s", b.data);
                }
                ck_assert_ptr_null(strstr(b.data, "\nWARNING: \\x1b"));  /* no line of its own */
                buf_free(&b);
        }
        /* The formatter leaves the caller's object alone. */
        ck_assert_str_eq(json_object_get_string(json_object_object_get(json_object_array_get_idx(checks, 0),
                                                                       "message")), evil);

        /* JSON: C0 by json-c, DEL and C1 as \u escapes, a byte that is not UTF-8 as U+FFFD. */
        buf_init(&b);
        ck_assert_int_eq(ctl_json_serialize(st, JSON_C_TO_STRING_PLAIN, &b), 0);
        assert_contains(b.data, "\\u001b]0;pwned\\u0007\\u001b[2J\\r\\tok\\u007f\\u009b31m\\ufffd\xe2\x80\x94");
        for (const unsigned char *p = (const unsigned char *)b.data; *p; p++)
                ck_assert_msg(*p >= 0x20 && *p != 0x7f && *p != 0xff && !(p[0] == 0xc2 && p[1] <= 0x9f),
                              "raw control byte 0x%02x in JSON", *p);
        json_object *back = json_tokener_parse(b.data);
        ck_assert_ptr_nonnull(back);
        json_object_put(back);
        buf_free(&b);

        buf_init(&b);
        ck_assert_int_eq(ctl_escape_text("plain text, caf\xc3\xa9", &b), 0);
        ck_assert_str_eq(b.data, "plain text, caf\xc3\xa9");
        buf_reset(&b);
        /* Truncated and overlong sequences are bytes, not characters. */
        ck_assert_int_eq(ctl_escape_text("\xe2\x80 \xc0\x8a", &b), 0);
        ck_assert_str_eq(b.data, "\\xe2\\x80 \\xc0\\x8a");
        buf_free(&b);
        json_object_put(st);
}
END_TEST

static char *ctl_bin(void)
{
        const char *d = getenv("FAILOVERD_BIN");
        char *copy = strdup(d ? d : BUILD_DIR "/failoverd");
        struct buf b;
        buf_init(&b);
        buf_printf(&b, "%s/failoverctl", dirname(copy));
        free(copy);
        return buf_steal(&b);
}

/* Runs failoverctl with args (NULL-ended; argv[0] is added), as nobody when asked; stdout and stderr
 * captured into *out / *err (malloc'd). Returns the exit status. */
static int run_ctl(const char *dir, int nobody, char **out, char **err, ...)
{
        char *argv[16];
        int n = 0;
        va_list ap;
        char *bin = ctl_bin();
        argv[n++] = bin;
        va_start(ap, err);
        const char *a;
        while ((a = va_arg(ap, const char *)) && n < 15)
                argv[n++] = (char *)a;
        va_end(ap);
        argv[n] = NULL;

        char *o = unit_write(dir, "stdout", "", 0666), *e = unit_write(dir, "stderr", "", 0666);
        /* posix_spawn: no code of ours runs in the child, so it cannot stall on a lock the server thread
         * held at fork time (seen under the sanitizers). */
        posix_spawn_file_actions_t fa;
        ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
        ck_assert_int_eq(posix_spawn_file_actions_addopen(&fa, 1, o, O_WRONLY | O_TRUNC, 0), 0);
        ck_assert_int_eq(posix_spawn_file_actions_addopen(&fa, 2, e, O_WRONLY | O_TRUNC, 0), 0);
        struct spawn_call sc = { .fa = &fa, .argv = argv };
        spawn_ctl(&sc, nobody, NULL, 0);
        posix_spawn_file_actions_destroy(&fa);
        pid_t pid = sc.pid;
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(file_read(o, 1 << 20, out, NULL), 0);
        ck_assert_int_eq(file_read(e, 1 << 20, err, NULL), 0);
        free(o);
        free(e);
        free(bin);
        return WEXITSTATUS(status);
}

START_TEST(test_ctl_failoverctl_no_daemon_and_usage)
{
        char *dir = unit_tmpdir(), *out, *err, none[256];
        snprintf(none, sizeof(none), "%s/none", dir);

        ck_assert_int_eq(run_ctl(dir, 0, &out, &err, "--socket", none, "status", NULL), 3);
        char want[512];
        snprintf(want, sizeof(want), "failoverctl: cannot reach failoverd at %s: No such file or directory (is "
                 "failoverd running? with another runtime_directory give -s RUNTIME_DIRECTORY/control or -c FILE)\n",
                 none);
        ck_assert_str_eq(err, want);
        ck_assert_str_eq(out, "");
        free(out);
        free(err);

        static const char *const bad[][4] = {
                { NULL }, { "frobnicate", NULL }, { "status", "extra", NULL }, { "resume", "web", "now" },
                { "-c", "/x.conf", "--socket", "/x" }, { "--timeout", "0", "ping", NULL }, { "--bogus", "ping", NULL },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int rc = run_ctl(dir, 0, &out, &err, bad[i][0], bad[i][0] ? bad[i][1] : NULL,
                                 bad[i][0] && bad[i][1] ? bad[i][2] : NULL,
                                 bad[i][0] && bad[i][1] && bad[i][2] ? bad[i][3] : NULL, NULL);
                ck_assert_msg(rc == 2, "case %zu: exit %d, stderr %s", i, rc, err);
                ck_assert(strlen(err) > 0);
                free(out);
                free(err);
        }
        ck_assert_int_eq(run_ctl(dir, 0, &out, &err, "--help", NULL), 0);
        assert_contains(out, "Exit status: 0");
        free(out);
        free(err);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

START_TEST(test_ctl_failoverctl_with_daemon)
{
        struct fx f;
        char *out, *err;

        fx_setup(&f);
        fx_start(&f);

        ck_assert_int_eq(run_ctl(f.dir, 0, &out, &err, "--socket", f.path, "status", NULL), 0);
        assert_contains(out, "): PRIMARY \xe2\x80\x94 announcing 2 prefixes with 65000:1 (all checks up)");
        assert_contains(out, "\nchecks: 2/2 up\n");
        ck_assert_str_eq(err, "");
        free(out);
        free(err);

        ck_assert_int_eq(run_ctl(f.dir, 0, &out, &err, "--socket", f.path, "status", "--json", NULL), 0);
        assert_contains(out, "\"schema\": 1,");
        json_object *o = json_tokener_parse(out);
        ck_assert_ptr_nonnull(o);
        json_object_put(o);
        free(out);
        free(err);

        ck_assert_int_eq(run_ctl(f.dir, 0, &out, &err, "--socket", f.path, "checks", NULL), 0);
        assert_contains(out, "checks: 2/2 up\n  http ");
        ck_assert_ptr_null(strstr(out, "route servers"));
        free(out);
        free(err);

        ck_assert_int_eq(run_ctl(f.dir, 0, &out, &err, "--socket", f.path, "drain", "--reason", "kernel upgrade", NULL), 0);
        ck_assert_str_eq(out, "drained: --reason kernel upgrade\n");
        free(out);
        free(err);
        /* The wire form failoverctl sends for each way of writing it; a bare word never leaves failoverctl. */
        static const struct {
                const char *a[4];
                const char *wire;
        } forms[] = {
                { { "drain", NULL }, "(null)" },
                { { "drain", "--service", "web", NULL }, "--service web" },
                { { "drain", "--reason=maint", "--service=web", NULL }, "--service web --reason maint" },
                { { "resume", "--service", "db", NULL }, "--service db" },
                { { "resume", "db", NULL }, "--service db" },
        };
        for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
                ck_assert_int_eq(run_ctl(f.dir, 0, &out, &err, "--socket", f.path, forms[i].a[0], forms[i].a[1],
                                         forms[i].a[1] ? forms[i].a[2] : NULL, forms[i].a[1] && forms[i].a[2] ?
                                         forms[i].a[3] : NULL, NULL), forms[i].a[0][0] == 'd' ? 0 : 1);
                pthread_mutex_lock(&f.lock);
                ck_assert_str_eq(f.last_arg, forms[i].wire);
                pthread_mutex_unlock(&f.lock);
                free(out);
                free(err);
        }
        int calls = f.calls;
        static const char *const typos[][3] = {
                { "drain", "wbe", NULL }, { "drain", "kernel", "upgrade" }, { "drain", "--service", NULL },
                { "drain", "--service", "we b" }, { "resume", "web", "now" }, { "drain", "--reason", "a --service b" },
        };
        for (size_t i = 0; i < sizeof(typos) / sizeof(typos[0]); i++) {
                ck_assert_int_eq(run_ctl(f.dir, 0, &out, &err, "--socket", f.path, typos[i][0], typos[i][1], typos[i][2],
                                         NULL), 2);
                ck_assert(strlen(err) > 0);
                free(out);
                free(err);
        }
        ck_assert_int_eq(run_ctl(f.dir, 0, &out, &err, "--socket", f.path, "drain", "wbe", NULL), 2);
        assert_contains(err, "failoverctl: drain: unexpected argument 'wbe': drain the host with 'drain [--reason TEXT]'");
        free(out);
        free(err);
        ck_assert_int_eq(f.calls, calls);       /* none reached the daemon */

        ck_assert_int_eq(run_ctl(f.dir, 0, &out, &err, "--socket", f.path, "resume", NULL), 1);
        ck_assert_str_eq(err, "failoverctl: failoverd refused resume: not drained\n");
        free(out);
        free(err);
        ck_assert_int_eq(run_ctl(f.dir, 0, &out, &err, "--socket", f.path, "reload", NULL), 1);
        free(out);
        free(err);

        /* The socket path from the daemon's configuration. */
        char conf[2048];
        snprintf(conf, sizeof(conf),
                 "role = \"primary\";\ndatacenter = 4;\nshared_ips = [\"198.51.100.10\"];\n"
                 "checks = { directory = \"%s/conf.d\"; };\nruntime_directory = \"%s\";\n", f.dir, f.dir);
        char *cpath = unit_write(f.dir, "failoverd.conf", conf, 0644);
        ck_assert_int_eq(run_ctl(f.dir, 0, &out, &err, "-c", cpath, "ping", NULL), 0);
        assert_contains(out, "is answering at ");
        assert_contains(out, f.path);
        free(out);
        free(err);
        free(cpath);

        /* A configuration the daemon would refuse (an unknown key) with a runtime_directory of its own: -c
         * still finds the socket, and reload shows the daemon's answer, not "is failoverd running?". */
        snprintf(conf, sizeof(conf), "role = \"primary\";\nbogus_key = 1;\nruntime_directory = \"%s\";\n", f.dir);
        cpath = unit_write(f.dir, "broken.conf", conf, 0644);
        ck_assert_int_eq(run_ctl(f.dir, 0, &out, &err, "-c", cpath, "reload", NULL), 1);
        ck_assert_str_eq(err, "failoverctl: failoverd refused reload: Input/output error\n");
        pthread_mutex_lock(&f.lock);
        ck_assert_str_eq(f.last_cmd, "reload");
        pthread_mutex_unlock(&f.lock);
        free(out);
        free(err);
        free(cpath);
        /* One that cannot be read at all: said, and no guess at another socket. */
        cpath = unit_write(f.dir, "syntax.conf", "role = \"primary\";\nruntime_directory = ;\n", 0644);
        ck_assert_int_eq(run_ctl(f.dir, 0, &out, &err, "-c", cpath, "reload", NULL), 2);
        assert_contains(err, "failoverctl: cannot find the control socket: ");
        assert_contains(err, "syntax.conf:2: syntax error");
        assert_contains(err, "; give it with -s PATH\n");
        free(out);
        free(err);
        free(cpath);
        /* Without -c nothing is read: the default socket, no warning about a configuration. */
        int rc = run_ctl(f.dir, 0, &out, &err, "-t", "0.5", "ping", NULL);
        ck_assert_msg(rc == 0 || rc == 3, "exit %d: %s", rc, err);
        ck_assert_ptr_null(strstr(err, "warning"));
        ck_assert_ptr_null(strstr(err, ".conf"));
        if (rc == 3)
                assert_contains(err, "cannot reach failoverd at /run/failoverd/control: ");
        free(out);
        free(err);

        /* Permission denied: exit 4. */
        if (geteuid() == 0) {
                ck_assert_int_eq(chmod(f.dir, 0711), 0);
                ck_assert_int_eq(run_ctl(f.dir, 1, &out, &err, "--socket", f.path, "status", NULL), 4);
                assert_contains(err, "Permission denied (run as root or as a member of the socket's group)");
                free(out);
                free(err);
                ck_assert_int_eq(chmod(f.path, 0666), 0);
                ck_assert_int_eq(run_ctl(f.dir, 1, &out, &err, "--socket", f.path, "status", NULL), 4);
                assert_contains(err, "failoverd refused status: permission denied: uid 65534");
                free(out);
                free(err);
        }
        fx_teardown(&f);
}
END_TEST

static char *read_until(int fd, const char *want, double timeout_s);

/* agent/control.c translates requests into events for the manager: a stand-in manager records them. */
struct fake_manager {
        pthread_mutex_t lock;
        char events[8][160];
        int n;
};

static int fake_report(void *userdata, enum agent_event ev, const char *detail)
{
        struct fake_manager *m = userdata;
        pthread_mutex_lock(&m->lock);
        if (m->n < 8)
                snprintf(m->events[m->n++], sizeof(m->events[0]), "%s: %s", agent_event_name(ev), detail ? detail : "-");
        pthread_mutex_unlock(&m->lock);
        /* One service, "web"; it is drained on its own once asked. */
        if ((ev == EVENT_SERVICE_DRAIN || ev == EVENT_SERVICE_RESUME) && detail)
                return strncmp(detail, "web", 3) == 0 && (detail[3] == '\0' || detail[3] == ' ') ? 0 : -ENOENT;
        return ev == EVENT_SERVICE_RESUME ? 1 : 0;
}

static void fake_snapshot(void *userdata, struct snapshot *out)
{
        (void)userdata;
        memset(out, 0, sizeof(*out));
        snprintf(out->summary, sizeof(out->summary), "web withdrawn (drained)");
        out->reason = "drained";
        out->target = STATE_WITHDRAWN;
}

static void *loop_fn(void *arg)
{
        sd_event_loop(arg);
        return NULL;
}

/* agent/control.c with a fake manager, its loop on a thread, for a test talking to its socket. */
struct ctl_daemon {
        struct fake_manager fm;
        struct agent_sink sink;
        char *dir, *cpath, *path;
        struct conf *conf;
        struct control *ctl;
        sd_event *e;
        int stop;
        sd_event_source *stop_src;
        pthread_t th;
};

static void ctl_daemon_start(struct ctl_daemon *x)
{
        char text[1024];
        struct diag d;

        *x = (struct ctl_daemon){ .fm = { .lock = PTHREAD_MUTEX_INITIALIZER }, .dir = unit_tmpdir() };
        x->sink = (struct agent_sink){ .userdata = &x->fm, .report = fake_report, .snapshot = fake_snapshot };
        snprintf(text, sizeof(text), "role = \"primary\";\ndatacenter = 4;\nshared_ips = [\"198.51.100.10\"];\n"
                 "checks = { directory = \"%s/none\"; };\nruntime_directory = \"%s/run\";\n"
                 "state_directory = \"%s/state\";\n", x->dir, x->dir, x->dir);
        x->cpath = unit_write(x->dir, "failoverd.conf", text, 0644);
        diag_init(&d);
        ck_assert_msg(conf_load(x->cpath, &x->conf, &d) == 0, "%s", d.n ? d.msgs[0].text : "?");
        diag_free(&d);
        ck_assert_int_ge(sd_event_new(&x->e), 0);
        ck_assert_int_eq(control_new(x->e, x->conf, &x->sink, &x->ctl), 0);
        ck_assert_int_eq(ctl_socket_path(x->conf->runtime_directory, &x->path), 0);
        x->stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        ck_assert_int_ge(sd_event_add_io(x->e, &x->stop_src, x->stop, EPOLLIN, on_stop, NULL), 0);
        ck_assert_int_eq(pthread_create(&x->th, NULL, loop_fn, x->e), 0);
}

static void ctl_daemon_stop(struct ctl_daemon *x)
{
        uint64_t one = 1;
        ck_assert_int_eq(write(x->stop, &one, sizeof(one)), (ssize_t)sizeof(one));
        pthread_join(x->th, NULL);
        x->ctl = control_free(x->ctl);
        x->stop_src = sd_event_source_disable_unref(x->stop_src);
        close(x->stop);
        sd_event_unref(x->e);
        conf_free(x->conf);
        free(x->path);
        free(x->cpath);
        unit_rmrf(x->dir);
        free(x->dir);
}

/* "drain wbe" (a typo for the service web) drained the whole host: now a bare word is a bad request, an
 * unknown --service is refused, and neither reaches the manager nor writes a drain file. */
START_TEST(test_ctl_drain_grammar_daemon)
{
        struct ctl_daemon x;
        char drain[600], *out;
        struct stat st;
        json_object *r = NULL;

        ctl_daemon_start(&x);
        struct conf *conf = x.conf;
        const char *path = x.path;
        snprintf(drain, sizeof(drain), "%s/drain", conf->state_directory);

        /* A follower of the event stream (failoverctl events) sees what the daemon logs, in order. */
        int ev = raw_connect(path);
        ck_assert_int_eq(send(ev, "events\n", 7, MSG_NOSIGNAL), 7);
        out = read_until(ev, "\n", 5);
        free(out);

        out = raw_exchange(path, "drain wbe\n", 10);
        assert_contains(out, "\"code\":\"bad-request\"");
        free(out);
        ck_assert_int_eq(ctl_request(path, "drain", "--service wbe --reason maint", 2000, &r), 0);
        ck_assert(!jok(r));
        assert_contains(js(r, "error"), "no such service: wbe (nothing changed");
        json_object_put(r);
        ck_assert_int_eq(ctl_request(path, "resume", "wbe", 2000, &r), 0);
        ck_assert(!jok(r));
        assert_contains(js(r, "error"), "no such service: wbe");
        json_object_put(r);
        pthread_mutex_lock(&x.fm.lock);
        for (int i = 0; i < x.fm.n; i++)
                ck_assert_msg(strncmp(x.fm.events[i], "service", 7) == 0, "the manager saw %s", x.fm.events[i]);
        x.fm.n = 0;
        pthread_mutex_unlock(&x.fm.lock);
        ck_assert_int_eq(lstat(drain, &st), -1);     /* nor a drain file */

        /* The forms that are meant. */
        ck_assert_int_eq(ctl_request(path, "drain", "--service web --reason kernel upgrade", 2000, &r), 0);
        ck_assert_str_eq(js(r, "message"), "drained: web: kernel upgrade (now web withdrawn (drained))");
        json_object_put(r);
        ck_assert_int_eq(ctl_request(path, "resume", "--service web", 2000, &r), 0);
        ck_assert(jok(r));
        json_object_put(r);
        ck_assert_int_eq(ctl_request(path, "drain", NULL, 2000, &r), 0);
        ck_assert(jok(r));
        json_object_put(r);
        ck_assert_int_eq(ctl_request(path, "drain", "--reason kernel upgrade", 2000, &r), 0);
        assert_contains(js(r, "message"), "drained: kernel upgrade: the shared addresses are withdrawn");
        json_object_put(r);
        out = read_until(ev, "drain requested by uid 0: kernel upgrade", 5);
        assert_contains(out, "{\"seq\":1,\"mono\":");
        assert_contains(out, "\"level\":\"notice\",\"kind\":\"drain\",\"text\":\"drain requested by uid 0: service web: "
                             "kernel upgrade\"}\n{\"seq\":2,");
        assert_contains(out, "{\"seq\":4,");
        free(out);
        close(ev);
        pthread_mutex_lock(&x.fm.lock);
        ck_assert_int_eq(x.fm.n, 4);
        ck_assert_str_eq(x.fm.events[0], "service drain requested: web kernel upgrade");
        ck_assert_str_eq(x.fm.events[1], "service resume requested: web");
        ck_assert_str_eq(x.fm.events[2], "drain requested: -");
        ck_assert_str_eq(x.fm.events[3], "drain requested: kernel upgrade");
        pthread_mutex_unlock(&x.fm.lock);

        /* With drain_delay and drain_check the answer says the drain's order, not "withdrawn". The loop's thread
         * reads conf only while it answers a request, so it is changed between requests. */
        char *argv[] = { "/bin/true", NULL };
        conf->drain_delay = 30;
        ck_assert_int_eq(ctl_request(path, "drain", NULL, 2000, &r), 0);
        ck_assert_str_eq(js(r, "message"), "drained: the shared addresses are demoted first, withdrawn after 30 s "
                                           "(drain_delay), until failoverctl resume");
        json_object_put(r);
        conf->drain_check = argv;
        ck_assert_int_eq(ctl_request(path, "drain", NULL, 2000, &r), 0);
        assert_contains(js(r, "message"), "withdrawn after 30 s (drain_delay) and only while drain_check says the other "
                                          "host is healthy, until");
        json_object_put(r);
        conf->drain_delay = 0;
        ck_assert_int_eq(ctl_request(path, "drain", NULL, 2000, &r), 0);
        assert_contains(js(r, "message"), "are demoted first, withdrawn only while drain_check says");
        json_object_put(r);
        conf->drain_check = NULL;

        ctl_daemon_stop(&x);
}
END_TEST

/* With nobody following `failoverctl events` the daemon formats no record (make bench measures the idle daemon
 * with and without a reader): the messages logged before a reader attaches take no sequence number, so the
 * reader's first record is seq 1. */
START_TEST(test_ctl_events_unformatted_unfollowed)
{
        struct ctl_daemon x;
        char *out;
        json_object *r = NULL;

        ctl_daemon_start(&x);
        const char *path = x.path;

        /* Three drains logged (notice, a level the stream carries) while nobody follows. */
        for (int i = 0; i < 3; i++) {
                ck_assert_int_eq(ctl_request(path, "drain", "--reason unheard", 2000, &r), 0);
                ck_assert(jok(r));
                json_object_put(r);
        }
        int ev = raw_connect(path);
        ck_assert_int_eq(send(ev, "events\n", 7, MSG_NOSIGNAL), 7);
        out = read_until(ev, "\n", 5);
        ck_assert_str_eq(out, "{\"ok\":true,\"stream\":\"events\"}\n");
        free(out);
        ck_assert_int_eq(ctl_request(path, "drain", "--reason heard", 2000, &r), 0);
        json_object_put(r);
        out = read_until(ev, "drain requested by uid 0: heard", 5);
        ck_assert_msg(strncmp(out, "{\"seq\":1,", 8) == 0 && !strstr(out, "unheard"), "%s", out);
        free(out);
        close(ev);

        ctl_daemon_stop(&x);
}
END_TEST

/* The test thread asks the loop's thread for N records of about 200 bytes by writing N to an eventfd: writes
 * that arrive together add up, so no count is shared between the threads and none is lost or doubled. */
struct pub {
        struct ctl_server *srv;
        int next;               /* the last seq published; the loop's thread's alone */
};

static void publish(int pfd, uint64_t n)
{
        ck_assert_int_eq(write(pfd, &n, sizeof(n)), (ssize_t)sizeof(n));
}

static int on_publish(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct pub *p = userdata;
        uint64_t v;
        char line[256], pad[180];
        (void)src;
        (void)revents;
        if (read(fd, &v, sizeof(v)) != sizeof(v))
                return 0;
        memset(pad, 'x', sizeof(pad) - 1);
        pad[sizeof(pad) - 1] = '\0';
        for (uint64_t i = 0; i < v; i++) {
                snprintf(line, sizeof(line), "{\"seq\":%d,\"pad\":\"%s\"}", ++p->next, pad);
                ctl_server_publish(p->srv, line);
        }
        return 0;
}

/* Reads lines from fd until one contains want (or timeout_s); returns everything read, malloc'd. */
static char *read_until(int fd, const char *want, double timeout_s)
{
        struct buf b;
        double end = mono() + timeout_s;
        buf_init(&b);
        buf_puts(&b, "");
        while (!strstr(b.data, want)) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int left = (int)((end - mono()) * 1000);
                ck_assert_msg(left > 0, "no \"%s\" within %.1f s; read %zu bytes", want, timeout_s, b.len);
                if (poll(&p, 1, left) <= 0)
                        continue;
                char chunk[65536];
                ssize_t n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
                ck_assert_msg(n > 0 || errno == EAGAIN, "stream ended: %s", n == 0 ? "EOF" : strerror(errno));
                if (n > 0)
                        buf_append(&b, chunk, (size_t)n);
        }
        return buf_steal(&b);
}

/* failoverctl events: an ordered stream on the control socket; a reader that does not read never blocks the
 * loop (its queue is bounded), and when it reads again it is told how many records it lost. */
START_TEST(test_ctl_events_stream)
{
        struct fx f;
        struct pub pub = { 0 };
        sd_event_source *src = NULL;
        char *out;

        fx_setup(&f);
        pub.srv = f.srv;
        int pfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        ck_assert_int_ge(sd_event_add_io(f.e, &src, pfd, EPOLLIN, on_publish, &pub), 0);
        fx_start(&f);

        int fast = raw_connect(f.path), slow = raw_connect(f.path);
        ck_assert_int_eq(send(fast, "events\n", 7, MSG_NOSIGNAL), 7);
        ck_assert_int_eq(send(slow, "events\n", 7, MSG_NOSIGNAL), 7);
        out = read_until(fast, "\n", 5);
        ck_assert_str_eq(out, "{\"ok\":true,\"stream\":\"events\"}\n");
        free(out);
        out = read_until(slow, "\n", 5);
        free(out);

        /* In order, every one. */
        publish(pfd, 10);
        out = read_until(fast, "{\"seq\":10,", 5);
        char *p = out;
        for (int i = 1; i <= 10; i++) {
                char want[32];
                snprintf(want, sizeof(want), "{\"seq\":%d,", i);
                ck_assert_msg((p = strstr(p, want)), "seq %d missing or out of order", i);
        }
        free(out);
        out = read_until(slow, "{\"seq\":10,", 5);
        free(out);

        /* 3000 records (about 600 kB) in one go, more than a socket buffer and a queue hold: the loop goes on,
         * the queues stay bounded, and each reader gets its records in order with every gap announced by
         * {"lost":N} before the next record (the one that reads nothing is told when it reads again). */
        publish(pfd, 3000);
        /* A loop that waited for a reader would never answer; how fast it publishes is make bench's business. */
        json_object *r = NULL;
        ck_assert_int_eq(ctl_request(f.path, "ping", NULL, 30000, &r), 0);
        ck_assert(jok(r));
        json_object_put(r);
        /* The readers read again; one more record at a time is published until both have one after the
         * burst (a record published while a reader's queue is still full is lost too, and counted). */
        struct buf acc[2];
        int extra = 0;
        buf_init(&acc[0]);
        buf_init(&acc[1]);
        buf_puts(&acc[0], "");
        buf_puts(&acc[1], "");
        for (bool seen[2] = { false, false }; !(seen[0] && seen[1]);) {
                ck_assert_int_lt(++extra, 100);
                publish(pfd, 1);
                char want[32];
                snprintf(want, sizeof(want), "{\"seq\":%d,", 3010 + extra);
                for (int k = 0; k < 2; k++) {
                        double end = mono() + 0.5;
                        seen[k] = false;
                        while (!(seen[k] = strstr(acc[k].data, want) != NULL) && mono() < end) {
                                struct pollfd pf = { .fd = k ? slow : fast, .events = POLLIN };
                                char chunk[65536];
                                if (poll(&pf, 1, 50) <= 0)
                                        continue;
                                ssize_t n = recv(pf.fd, chunk, sizeof(chunk), MSG_DONTWAIT);
                                ck_assert_int_gt(n, 0);
                                buf_append(&acc[k], chunk, (size_t)n);
                        }
                }
        }
        int got[2] = { 0 };
        long lost[2] = { 0 };
        for (int k = 0; k < 2; k++) {
                out = buf_steal(&acc[k]);
                int expect = 11;
                for (char *q = out; (q = strchr(q, '{')); q++) {
                        if (strncmp(q, "{\"lost\":", 8) == 0) {
                                long n = strtol(q + 8, NULL, 10);
                                ck_assert_int_gt(n, 0);
                                lost[k] += n;
                                expect += (int)n;
                        } else if (strncmp(q, "{\"seq\":", 7) == 0) {
                                ck_assert_msg(atoi(q + 7) == expect, "reader %d: seq %d where %d was due", k,
                                              atoi(q + 7), expect);
                                expect++;
                                got[k]++;
                        }
                }
                ck_assert_int_eq(expect, 3011 + extra);
                ck_assert_int_eq(got[k] + lost[k], 3000 + extra);
                free(out);
        }
        ck_assert_int_gt(lost[1], 0);
        printf("events: 3000 records in one go to two readers: one got %d (lost %ld), the other %d (lost %ld; "
               "%d kB queue each)\n", got[0], lost[0], got[1], lost[1], CTL_STREAM_MAX / 1024);

        ck_assert_uint_eq(ctl_server_streams(f.srv), 2);
        close(slow);
        close(fast);
        for (int i = 0; i < 200 && ctl_server_streams(f.srv) > 0; i++)
                usleep(10000);
        ck_assert_uint_eq(ctl_server_streams(f.srv), 0);

        /* failoverctl events --json prints each record as it comes and ends (0) when failoverd goes away. */
        char *bin = ctl_bin(), *file = unit_write(f.dir, "events.out", "", 0600);
        char *argv[] = { bin, "--socket", f.path, "events", "--json", NULL };
        posix_spawn_file_actions_t fa;
        ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
        ck_assert_int_eq(posix_spawn_file_actions_addopen(&fa, 1, file, O_WRONLY | O_TRUNC, 0), 0);
        struct spawn_call sc = { .fa = &fa, .argv = argv };
        spawn_ctl(&sc, false, NULL, 0);
        posix_spawn_file_actions_destroy(&fa);
        for (int i = 0; i < 500 && ctl_server_streams(f.srv) == 0; i++)
                usleep(10000);
        ck_assert_uint_eq(ctl_server_streams(f.srv), 1);
        publish(pfd, 2);
        char *text = NULL;
        for (int i = 0; i < 500; i++, usleep(10000)) {
                free(text);
                text = NULL;
                if (file_read(file, 1 << 20, &text, NULL) == 0 && strchr(text, '\n') &&
                    strchr(strchr(text, '\n') + 1, '\n') && strchr(strchr(strchr(text, '\n') + 1, '\n') + 1, '\n'))
                        break;
        }
        static const char opening[] = "{\"ok\":true,\"stream\":\"events\"}\n{\"seq\":";
        ck_assert_msg(text && strncmp(text, opening, sizeof(opening) - 1) == 0 &&
                      strstr(text, "}\n{\"seq\":"), "%s", text ? text : "(none)");
        free(text);
        fx_teardown(&f);
        int status;
        ck_assert_int_eq(waitpid(sc.pid, &status, 0), sc.pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        free(bin);
        free(file);
        src = sd_event_source_disable_unref(src);
        close(pfd);
}
END_TEST

Suite *ctl_suite(void)
{
        Suite *s = suite_create("ctl");
        TCase *tc = tcase_create("protocol");
        tcase_add_test(tc, test_ctl_parse_request);
        tcase_add_test(tc, test_ctl_parse_target);
        tcase_add_test(tc, test_ctl_duration);
        tcase_add_test(tc, test_ctl_request_roundtrip);
        tcase_add_test(tc, test_ctl_bad_requests_on_the_wire);
        tcase_add_test(tc, test_ctl_oversized);
        tcase_add_test(tc, test_ctl_slow_client_dropped);
        tcase_add_test(tc, test_ctl_connections_bounded);
        tcase_add_test(tc, test_ctl_socket_file);
        tcase_add_test(tc, test_ctl_peer_credentials);
        tcase_add_test(tc, test_ctl_read_and_admin_groups);
        tcase_add_test(tc, test_ctl_admin_slots);
        tcase_add_test(tc, test_ctl_events_stream);
        tcase_add_test(tc, test_ctl_descriptors);
        suite_add_tcase(s, tc);
        tc = tcase_create("format");
        tcase_add_test(tc, test_ctl_format_status);
        tcase_add_test(tc, test_ctl_format_escapes);
        tcase_add_test(tc, test_ctl_format_status_not_announced);
        tcase_add_test(tc, test_ctl_format_headline_truth);
        suite_add_tcase(s, tc);
        tc = tcase_create("failoverctl");
        tcase_add_test(tc, test_ctl_failoverctl_no_daemon_and_usage);
        tcase_add_test(tc, test_ctl_failoverctl_with_daemon);
        tcase_add_test(tc, test_ctl_drain_grammar_daemon);
        tcase_add_test(tc, test_ctl_events_unformatted_unfollowed);
        suite_add_tcase(s, tc);
        return s;
}
