/* Unit tests for the native checks (lib/check_native.c and its kinds): parsing, and each kind against
 * local servers on 127.0.0.1 and a file that changes (the unit kind: test_check_unit.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "unit.h"

#include "check.h"
#include "check_native.h"
#include "conf.h"
#include "proc.h"

extern char **environ;

static char *tmp;
static sigset_t old_mask;
static struct diag d;

struct rec {
        int n;
        enum severity sev;              /* of the last result */
        enum health health;
        char description[128];
        char message[600];
};

static void setup(void)
{
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGCHLD);
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, &s, &old_mask), 0);
        tmp = unit_tmpdir();
        diag_init(&d);
}

static void teardown(void)
{
        diag_free(&d);
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

static char *dump(void)
{
        struct buf b;
        buf_init(&b);
        for (size_t i = 0; i < d.n; i++)
                buf_printf(&b, "\n  [%d] %s", d.msgs[i].level, d.msgs[i].text);
        return buf_steal(&b);
}

/* Parses text as NAME.conf; returns check_native_parse()'s value. */
static int parse(const char *text, struct native_conf **nc)
{
        config_t cfg;
        char *path = unit_write(tmp, "t.conf", text, 0644);
        config_init(&cfg);
        ck_assert_int_eq(config_read_file(&cfg, path), CONFIG_TRUE);
        diag_free(&d);
        diag_init(&d);
        int r = check_native_parse(&d, path, config_root_setting(&cfg), nc);
        config_destroy(&cfg);
        free(path);
        return r;
}

/* One error whose text is TMP/t.conf followed by suffix. */
static void parse_error(const char *text, const char *suffix)
{
        struct native_conf *nc = NULL;
        ck_assert_int_eq(parse(text, &nc), -1);
        ck_assert_ptr_null(nc);
        char want[1024];
        snprintf(want, sizeof(want), "%s/t.conf%s", tmp, suffix);
        if (d.n_errors != 1 || strcmp(d.msgs[0].text, want) != 0) {
                char *all = dump();
                ck_abort_msg("expected one error %s, got:%s", want, all);
        }
}

START_TEST(test_native_parse)
{
        struct native_conf *nc = NULL;
        ck_assert_int_eq(parse("interval = 1;\n", &nc), 0);
        ck_assert_ptr_null(nc);

        ck_assert_int_eq(parse("type = \"tcp\";\nhost = \"2001:db8::1\";\nport = 443;\nsend = \"PING\\r\\n\";\n"
                               "expect = \"+PONG\";\n", &nc), 1);
        ck_assert_int_eq(nc->type, NATIVE_TCP);
        ck_assert_str_eq(nc->host, "2001:db8::1");
        ck_assert_int_eq(nc->port, 443);
        ck_assert_str_eq(nc->send, "PING\r\n");
        ck_assert_str_eq(nc->expect, "+PONG");
        char desc[128];
        check_native_describe(nc, desc, sizeof(desc));
        ck_assert_str_eq(desc, "tcp [2001:db8::1]:443");
        struct native_conf *copy = check_native_conf_dup(nc);
        ck_assert(check_native_conf_equal(nc, copy));
        copy->port = 80;
        ck_assert(!check_native_conf_equal(nc, copy));
        check_native_conf_free(copy);
        nc = check_native_conf_free(nc);

        ck_assert_int_eq(parse("type = \"http\";\nurl = \"https://192.0.2.1/health\";\n", &nc), 1);
        ck_assert_int_eq(nc->status_min, 200);
        ck_assert_int_eq(nc->status_max, 299);
        ck_assert(nc->tls_verify);
        nc = check_native_conf_free(nc);
        ck_assert_int_eq(parse("type = \"http\";\nurl = \"http://192.0.2.1/\";\nstatus = \"200-399\";\n"
                               "expect = \"ok\";\nca_file = \"/etc/ssl/ca.pem\";\n", &nc), 1);
        ck_assert_int_eq(nc->status_max, 399);
        ck_assert_str_eq(nc->ca_file, "/etc/ssl/ca.pem");
        nc = check_native_conf_free(nc);
        ck_assert_int_eq(parse("type = \"http\";\nurl = \"https://192.0.2.1/\";\nstatus = 204;\n"
                               "tls_verify = false;\n", &nc), 1);
        ck_assert_int_eq(nc->status_min, 204);
        ck_assert_int_eq(nc->status_max, 204);
        ck_assert(!nc->tls_verify);
        nc = check_native_conf_free(nc);

        ck_assert_int_eq(parse("type = \"unit\";\nunit = \"nginx\";\n", &nc), 1);
        ck_assert_str_eq(nc->unit, "nginx.service");
        nc = check_native_conf_free(nc);
        ck_assert_int_eq(parse("type = \"file\";\npath = \"/run/app/health\";\n", &nc), 1);
        ck_assert_str_eq(nc->path, "/run/app/health");
        nc = check_native_conf_free(nc);

        parse_error("type = \"ping\";\n", ":1: type: \"ping\": unknown type (known: tcp, http, unit, file)");
        parse_error("type = \"tcp\";\nhost = \"www.example.com\";\nport = 80;\n",
                    ":2: host: \"www.example.com\": must be a literal IPv4 or IPv6 address (no name lookup on the "
                    "event loop)");
        parse_error("type = \"tcp\";\nhost = \"192.0.2.1\";\nport = 65536;\n",
                    ":3: port: \"65536\": must be an integer from 1 to 65535");
        parse_error("type = \"tcp\";\nhost = \"192.0.2.1\";\n", ": type \"tcp\" needs port");
        parse_error("type = \"http\";\nurl = \"ftp://192.0.2.1/\";\n",
                    ":2: url: \"ftp://192.0.2.1/\": must be an http:// or https:// URL with a host and without spaces");
        parse_error("type = \"http\";\nurl = \"http://192.0.2.1/\";\nstatus = \"299-200\";\n",
                    ":3: status: \"299-200\": must be within 100-599, the lower bound first");
        parse_error("type = \"http\";\nurl = \"http://192.0.2.1/\";\nport = 80;\n",
                    ":3: port: is not a key of type \"http\"");
        parse_error("url = \"http://192.0.2.1/\";\n", ":1: url: is a key of a native check: set type too");
        parse_error("type = \"unit\";\nunit = \"a b\";\n",
                    ":2: unit: \"a b\": must be a unit name like \"nginx.service\"");
        parse_error("type = \"file\";\npath = \"health\";\n",
                    ":2: path: \"health\": must be the absolute path of a file");
}
END_TEST

/* Through conf_load: a native NAME.conf is a check; a command beside a type is an error. */
START_TEST(test_native_conf_load)
{
        char dir[512];
        snprintf(dir, sizeof(dir), "%s/conf.d", tmp);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        free(unit_write(dir, "web.conf", "type = \"tcp\";\nhost = \"127.0.0.1\";\nport = 80;\ninterval = 2;\n", 0644));
        char text[1024];
        snprintf(text, sizeof(text), "role = \"primary\";\ndatacenter = 4;\nshared_ips = [\"198.51.100.10\"];\n"
                 "checks = { directory = \"%s\"; };\n", dir);
        char *path = unit_write(tmp, "failoverd.conf", text, 0644);
        struct conf *c = NULL;
        ck_assert_int_eq(conf_load(path, &c, &d), 0);
        ck_assert_uint_eq(c->n_checks, 1);
        ck_assert_ptr_null(c->check[0].argv);
        ck_assert_ptr_nonnull(c->check[0].native);
        ck_assert_int_eq(c->check[0].native->port, 80);
        ck_assert(c->check[0].interval == 2);
        c = conf_free(c);

        free(unit_write(dir, "web.conf", "type = \"tcp\";\nhost = \"127.0.0.1\";\nport = 80;\n"
                        "command = [\"/bin/true\"];\n", 0644));
        diag_free(&d);
        diag_init(&d);
        ck_assert_int_eq(conf_load(path, &c, &d), -EINVAL);
        char want[1024];
        snprintf(want, sizeof(want), "%s/web.conf:1: type: \"tcp\": command is given too: use one or the other", dir);
        if (!diag_find(&d, want)) {
                char *all = dump();
                ck_abort_msg("missing %s in:%s", want, all);
        }
        free(path);
}
END_TEST

/* --- running checks --------------------------------------------------------------------------------- */

static void on_result(struct check *c, bool changed, void *userdata)
{
        struct rec *r = userdata;
        const struct check_result *res = check_get_result(c);
        (void)changed;
        ck_assert(!check_running(c));
        r->n++;
        r->sev = res->severity;
        r->health = check_get_state(c)->health;
        snprintf(r->description, sizeof(r->description), "%s", res->description);
        snprintf(r->message, sizeof(r->message), "%s", res->message);
}

/* Runs e until r has more than n results (then returns true) or ms pass. */
static bool wait_results(sd_event *e, struct rec *r, int n, int ms)
{
        uint64_t end = mono_usec() + (uint64_t)ms * 1000;
        while (r->n <= n) {
                if (mono_usec() > end)
                        return false;
                ck_assert_int_ge(sd_event_run(e, 20000), 0);
        }
        return true;
}

/* Runs e until the last result has severity sev (true) or ms pass. */
static bool wait_sev(sd_event *e, struct rec *r, enum severity sev, int ms)
{
        uint64_t end = mono_usec() + (uint64_t)ms * 1000;
        while (r->n == 0 || r->sev != sev) {
                if (mono_usec() > end)
                        return false;
                ck_assert_int_ge(sd_event_run(e, 20000), 0);
        }
        return true;
}

static struct check *start_native(sd_event *e, struct native_conf *nc, double interval, double timeout, struct rec *r)
{
        struct check_conf cc = { .name = "n", .native = nc, .interval = interval, .timeout = timeout, .rise = 1,
                                 .fall = 1 };
        struct check *c = NULL;
        ck_assert_int_eq(check_new(e, &cc, on_result, r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        return c;
}

static int listen_on(uint16_t *port)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        ck_assert_int_ge(fd, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        ck_assert_int_eq(listen(fd, 64), 0);
        ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        *port = ntohs(a.sin_port);
        return fd;
}

/* A tiny server on the test's loop: answers every connection's first request with reply, then closes. */
struct server {
        int fd;
        sd_event_source *src;
        const char *reply;
        int served;
};

struct conn {
        struct server *s;
        int fd;
        sd_event_source *src;
        char req[4096];
        size_t len;
};

static int on_conn(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct conn *c = userdata;
        (void)revents;
        ssize_t m = read(fd, c->req + c->len, sizeof(c->req) - 1 - c->len);
        if (m > 0) {
                c->len += (size_t)m;
                c->req[c->len] = '\0';
        }
        bool whole = strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n") || m == 0;
        if (m < 0 && errno == EAGAIN)
                return 0;
        if (whole) {
                (void)!write(fd, c->s->reply, strlen(c->s->reply));
                c->s->served++;
        }
        if (whole || m <= 0) {
                sd_event_source_disable_unref(src);
                close(fd);
                free(c);
        }
        return 0;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct server *s = userdata;
        (void)src;
        (void)revents;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;
        struct conn *c = calloc(1, sizeof(*c));
        ck_assert_ptr_nonnull(c);
        c->s = s;
        c->fd = cfd;
        ck_assert_int_ge(sd_event_add_io(sd_event_source_get_event(src), &c->src, cfd, EPOLLIN, on_conn, c), 0);
        sd_event_source_set_floating(c->src, 1);
        return 0;
}

static void server_start(sd_event *e, struct server *s, uint16_t *port)
{
        s->fd = listen_on(port);
        ck_assert_int_ge(sd_event_add_io(e, &s->src, s->fd, EPOLLIN, on_accept, s), 0);
}

static void server_stop(struct server *s)
{
        s->src = sd_event_source_disable_unref(s->src);
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
}

START_TEST(test_native_tcp)
{
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        uint16_t port;
        int lfd = listen_on(&port);     /* the kernel completes the handshake: nobody needs to accept */
        struct native_conf nc = { .type = NATIVE_TCP, .host = "127.0.0.1", .port = port };
        struct rec r = { 0 };
        struct check *c = start_native(e, &nc, 0.1, 2, &r);
        ck_assert(wait_results(e, &r, 0, 5000));
        ck_assert_int_eq(r.sev, SEV_OK);
        ck_assert_str_eq(r.description, "connected");

        close(lfd);                     /* nothing listens: refused */
        ck_assert(wait_sev(e, &r, SEV_FAILED, 5000));
        ck_assert_str_eq(r.description, "connect failed");
        ck_assert_ptr_nonnull(strstr(r.message, "Connection refused"));
        ck_assert_int_eq(r.health, HEALTH_DOWN);
        check_free(c);

        /* send and expect, against a server that answers */
        struct server s = { .reply = "+PONG\r\n" };
        server_start(e, &s, &port);
        struct native_conf ne = { .type = NATIVE_TCP, .host = "127.0.0.1", .port = port, .send = "PING\r\n",
                                  .expect = "PONG" };
        memset(&r, 0, sizeof(r));
        c = start_native(e, &ne, 0.1, 2, &r);
        ck_assert(wait_results(e, &r, 0, 5000));
        ck_assert_msg(r.sev == SEV_OK, "%s: %s", r.description, r.message);
        ck_assert_str_eq(r.description, "expect matched");
        check_free(c);

        ne.expect = "HELLO";
        memset(&r, 0, sizeof(r));
        c = start_native(e, &ne, 0.1, 2, &r);
        ck_assert(wait_results(e, &r, 0, 5000));
        ck_assert_int_eq(r.sev, SEV_FAILED);
        ck_assert_str_eq(r.description, "unexpected reply");
        check_free(c);

        /* A peer that never answers: the timeout ends the run. */
        uint16_t p2;
        lfd = listen_on(&p2);
        struct native_conf nt = { .type = NATIVE_TCP, .host = "127.0.0.1", .port = p2, .expect = "x" };
        memset(&r, 0, sizeof(r));
        uint64_t t0 = mono_usec();
        c = start_native(e, &nt, 10, 0.3, &r);
        ck_assert(wait_results(e, &r, 0, 5000));
        ck_assert_int_eq(r.sev, SEV_FAILED);
        ck_assert_str_eq(r.description, "timed out");
        ck_assert_uint_ge(mono_usec() - t0, 250000);
        check_free(c);
        close(lfd);
        server_stop(&s);
        sd_event_unref(e);
}
END_TEST

/* A reload (check_take_conf) that changes the native settings: the new ones run, the state is kept. */
START_TEST(test_native_reload)
{
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        uint16_t closed, open_port;
        int cfd = listen_on(&closed);
        close(cfd);                     /* nothing listens there any more */
        int lfd = listen_on(&open_port);
        struct native_conf a = { .type = NATIVE_TCP, .host = "127.0.0.1", .port = closed };
        struct rec r = { 0 };
        struct check *c = start_native(e, &a, 0.1, 2, &r);
        ck_assert(wait_results(e, &r, 0, 5000));
        ck_assert_int_eq(r.sev, SEV_FAILED);

        struct native_conf b = { .type = NATIVE_TCP, .host = "127.0.0.1", .port = open_port };
        struct check_conf cc = { .name = "n", .native = &b, .interval = 0.1, .timeout = 2, .rise = 1, .fall = 1 };
        struct check *from = NULL;
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &from), 0);
        check_take_conf(c, from);
        ck_assert_int_eq(check_get_conf(c)->native->port, open_port);
        ck_assert(wait_sev(e, &r, SEV_OK, 5000));
        ck_assert_str_eq(r.description, "connected");
        ck_assert_uint_gt(check_get_result(c)->runs, 1);        /* the same check, its count kept */

        /* and through check_update_conf, back to the closed port */
        cc.native = &a;
        ck_assert_int_eq(check_update_conf(c, &cc), 0);
        ck_assert(wait_sev(e, &r, SEV_FAILED, 5000));
        check_free(c);
        close(lfd);
        sd_event_unref(e);
}
END_TEST

START_TEST(test_native_http)
{
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        uint16_t port;
        struct server s = { .reply = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close\r\n\r\nall is well\n" };
        server_start(e, &s, &port);
        char url[128];
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/health", port);
        struct native_conf nc = { .type = NATIVE_HTTP, .url = url, .status_min = 200, .status_max = 299,
                                  .expect = "well", .tls_verify = true };
        struct rec r = { 0 };
        struct check *c = start_native(e, &nc, 0.1, 2, &r);
        ck_assert(wait_results(e, &r, 1, 5000));        /* two runs: the easy handle is reused */
        ck_assert_msg(r.sev == SEV_OK, "%s: %s", r.description, r.message);
        ck_assert_str_eq(r.description, "HTTP 200");
        ck_assert_int_ge(s.served, 2);

        s.reply = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        ck_assert(wait_sev(e, &r, SEV_FAILED, 5000));
        ck_assert_str_eq(r.description, "HTTP 503");
        ck_assert_ptr_nonnull(strstr(r.message, "status 503, expected 200-299"));

        s.reply = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nsick";
        ck_assert(wait_results(e, &r, r.n + 1, 5000));
        ck_assert_int_eq(r.sev, SEV_FAILED);
        ck_assert_str_eq(r.description, "body mismatch");

        server_stop(&s);
        ck_assert(wait_results(e, &r, r.n + 1, 5000));
        ck_assert_int_eq(r.sev, SEV_FAILED);
        ck_assert_str_eq(r.description, "request failed");
        check_free(c);
        sd_event_unref(e);
}
END_TEST

/* A server that answers every request with head and then a body that never ends, counting what it sent. */
struct stream {
        int fd;
        sd_event_source *src;
        const char *head;
        uint64_t sent;
        int open;                       /* connections not yet closed by the client */
};

struct stream_conn {
        struct stream *s;
        bool head_sent;
};

static int on_stream_conn(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct stream_conn *c = userdata;
        static char chunk[16384];
        if (!chunk[0])
                memset(chunk, 'x', sizeof(chunk));
        if (revents & EPOLLIN) {
                char req[4096];
                (void)!read(fd, req, sizeof(req));
        }
        for (int i = 0; i < 64; i++) {
                ssize_t m = c->head_sent ? send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL)
                                         : send(fd, c->s->head, strlen(c->s->head), MSG_NOSIGNAL);
                if (m < 0 && errno == EAGAIN)
                        return 0;
                if (m <= 0) {
                        c->s->open--;
                        sd_event_source_disable_unref(src);
                        close(fd);
                        free(c);
                        return 0;
                }
                c->head_sent = true;
                c->s->sent += (uint64_t)m;
        }
        return 0;
}

static int on_stream_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct stream *s = userdata;
        (void)revents;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;
        struct stream_conn *c = calloc(1, sizeof(*c));
        ck_assert_ptr_nonnull(c);
        c->s = s;
        s->open++;
        sd_event_source *cs = NULL;
        ck_assert_int_ge(sd_event_add_io(sd_event_source_get_event(src), &cs, cfd, EPOLLIN | EPOLLOUT, on_stream_conn,
                                         c), 0);
        sd_event_source_set_floating(cs, 1);
        return 0;
}

/* An endless body is not read to the timeout: the run ends once expect is in, after 64 KiB without it, and at
 * the first byte when there is no expect; the transfer is aborted (the server sees the connection closed). */
START_TEST(test_native_http_endless_body)
{
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        uint16_t port;
        struct stream s = { .head = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall is well\n" };
        s.fd = listen_on(&port);
        ck_assert_int_ge(sd_event_add_io(e, &s.src, s.fd, EPOLLIN, on_stream_accept, &s), 0);
        char url[128];
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
        const char *expects[] = { "well", "never there", NULL };
        const char *want[] = { "HTTP 200", "body mismatch", "HTTP 200" };
        for (int i = 0; i < 3; i++) {
                struct native_conf nc = { .type = NATIVE_HTTP, .url = url, .status_min = 200, .status_max = 299,
                                          .expect = (char *)expects[i], .tls_verify = true };
                struct rec r = { 0 };
                s.sent = 0;
                uint64_t t0 = mono_usec();
                struct check *c = start_native(e, &nc, 3600, 20, &r);
                ck_assert(wait_results(e, &r, 0, 30000));
                uint64_t took = mono_usec() - t0;
                ck_assert_msg(strcmp(r.description, want[i]) == 0, "%d: %s: %s (sent %llu bytes in %llu ms)", i,
                              r.description, r.message, (unsigned long long)s.sent, (unsigned long long)took / 1000);
                if (i == 1)
                        ck_assert_ptr_nonnull(strstr(r.message, "body (65536 bytes, cut) lacks \"never there\""));
                ck_assert_uint_lt(took, 10000000);      /* half the timeout: the machine is shared and slow */
                /* the client is gone: the server's next write fails and it lets go */
                for (uint64_t t1 = mono_usec(); s.open > 0 && mono_usec() - t1 < 10000000;)
                        ck_assert_int_ge(sd_event_run(e, 20000), 0);
                ck_assert_int_eq(s.open, 0);
                fprintf(stderr, "test_native_http_endless_body: %s: %llu bytes sent, %llu ms\n", want[i],
                        (unsigned long long)s.sent, (unsigned long long)took / 1000);
                check_free(c);
        }
        s.src = sd_event_source_disable_unref(s.src);
        close(s.fd);
        sd_event_unref(e);
}
END_TEST

/* Runs argv to its end; returns its exit status. */
static int run_wait(char *const argv[])
{
        pid_t pid;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -1;
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char https_server[] =
        "import http.server, ssl, sys\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers()\n"
        "        self.wfile.write(b'ok')\n"
        "    def log_message(self, *a): pass\n"
        "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
        "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n"
        "s.socket = ctx.wrap_socket(s.socket, server_side=True)\n"
        "print(s.server_address[1], flush=True)\n"
        "s.serve_forever()\n";

START_TEST(test_native_https)
{
        if (access("/usr/bin/openssl", X_OK) < 0 || access("/usr/bin/python3", X_OK) < 0) {
                fprintf(stderr, "test_native_https: skipped: needs /usr/bin/openssl and /usr/bin/python3\n");
                return;
        }
        char cert[512], key[512];
        snprintf(cert, sizeof(cert), "%s/cert.pem", tmp);
        snprintf(key, sizeof(key), "%s/key.pem", tmp);
        char *gen[] = { "/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1", NULL };
        ck_assert_int_eq(run_wait(gen), 0);

        int pfd[2];
        ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
        char *argv[] = { "/usr/bin/python3", "-c", (char *)https_server, cert, key, NULL };
        pid_t pid;
        ck_assert_int_eq(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
        posix_spawn_file_actions_destroy(&fa);
        close(pfd[1]);
        char line[32] = "";
        FILE *f = fdopen(pfd[0], "r");
        ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));    /* the port, once it listens */
        fclose(f);
        int port = atoi(line);
        ck_assert_int_gt(port, 0);

        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        char url[128];
        snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
        struct native_conf nc = { .type = NATIVE_HTTP, .url = url, .status_min = 200, .status_max = 299,
                                  .tls_verify = true };
        /* Verified by default: a self-signed certificate is refused. */
        struct rec r = { 0 };
        struct check *c = start_native(e, &nc, 10, 5, &r);
        ck_assert(wait_results(e, &r, 0, 10000));
        ck_assert_int_eq(r.sev, SEV_FAILED);
        ck_assert_str_eq(r.description, "request failed");
        ck_assert_ptr_nonnull(strstr(r.message, "certificate"));
        check_free(c);

        /* Its certificate as the CA: accepted. */
        nc.ca_file = cert;
        memset(&r, 0, sizeof(r));
        c = start_native(e, &nc, 10, 5, &r);
        ck_assert(wait_results(e, &r, 0, 10000));
        ck_assert_msg(r.sev == SEV_OK, "%s: %s", r.description, r.message);
        check_free(c);

        /* The explicit opt-out. */
        nc.ca_file = NULL;
        nc.tls_verify = false;
        memset(&r, 0, sizeof(r));
        c = start_native(e, &nc, 10, 5, &r);
        ck_assert(wait_results(e, &r, 0, 10000));
        ck_assert_msg(r.sev == SEV_OK, "%s: %s", r.description, r.message);
        check_free(c);

        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        sd_event_unref(e);
}
END_TEST

static void put(const char *path, const char *text)
{
        char t[600];
        snprintf(t, sizeof(t), "%s.tmp", path);
        int fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        ck_assert_int_eq(rename(t, path), 0);
}

START_TEST(test_native_file)
{
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        char path[512];
        snprintf(path, sizeof(path), "%s/health", tmp);
        put(path, "0\n");
        struct native_conf nc = { .type = NATIVE_FILE, .path = path };
        struct rec r = { 0 };
        /* A long interval: every result after the first comes from a change seen by inotify. */
        struct check *c = start_native(e, &nc, 3600, 5, &r);
        ck_assert(wait_results(e, &r, 0, 5000));
        ck_assert_msg(r.sev == SEV_OK, "%s: %s", r.description, r.message);
        ck_assert_str_eq(r.description, "file says 0");

        uint64_t t0 = mono_usec();
        put(path, "2\n");
        ck_assert(wait_sev(e, &r, SEV_FAILED, 5000));
        ck_assert_str_eq(r.description, "file says 2");
        ck_assert_uint_lt(mono_usec() - t0, 3000000);

        put(path, "1");
        ck_assert(wait_sev(e, &r, SEV_DEGRADED, 5000));

        put(path, "0");
        ck_assert(wait_sev(e, &r, SEV_OK, 5000));
        ck_assert_int_eq(unlink(path), 0);
        ck_assert(wait_sev(e, &r, SEV_FAILED, 5000));
        ck_assert_str_eq(r.description, "file missing");

        put(path, "0");
        ck_assert(wait_sev(e, &r, SEV_OK, 5000));
        put(path, "banana");
        ck_assert(wait_sev(e, &r, SEV_FAILED, 5000));
        ck_assert_str_eq(r.description, "file unreadable");
        /* The content is not shown: read with root's rights, it could be a secret. */
        ck_assert_msg(strstr(r.message, "does not hold a number from 0 to 255") && !strstr(r.message, "banana"),
                      "%s", r.message);

        /* Written in place (no rename): seen too. */
        int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "0\n", 2), 2);
        close(fd);
        ck_assert(wait_sev(e, &r, SEV_OK, 5000));
        check_free(c);

        /* A missing directory: failed, and said so. */
        char nodir[600];
        snprintf(nodir, sizeof(nodir), "%s/nodir/health", tmp);
        struct native_conf nm = { .type = NATIVE_FILE, .path = nodir };
        memset(&r, 0, sizeof(r));
        c = start_native(e, &nm, 3600, 5, &r);
        ck_assert(wait_results(e, &r, 0, 5000));
        ck_assert_int_eq(r.sev, SEV_FAILED);
        ck_assert_str_eq(r.description, "cannot watch");
        check_free(c);
        sd_event_unref(e);
}
END_TEST

/* With checks.user the file is read with that user's rights, and only in the reading thread: a root-only file
 * is "Permission denied" for nobody, one nobody may read is read, and the daemon stays root. */
START_TEST(test_native_file_as_user)
{
        if (geteuid() != 0)
                return;
        ck_assert_int_eq(chmod(tmp, 0755), 0);          /* nobody may pass through the test's directory */
        char secret[512], open_file[512];
        snprintf(secret, sizeof(secret), "%s/secret", tmp);
        snprintf(open_file, sizeof(open_file), "%s/open", tmp);
        put(secret, "0\n");
        ck_assert_int_eq(chmod(secret, 0600), 0);
        put(open_file, "1\n");
        gid_t groups_before[64];
        int ng_before = getgroups(64, groups_before);

        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct native_conf nc = { .type = NATIVE_FILE, .path = secret };
        struct check_conf cc = { .name = "n", .native = &nc, .interval = 3600, .timeout = 5, .rise = 1, .fall = 1,
                                 .user = "nobody" };
        ck_assert_int_eq(proc_cred_lookup("nobody", &cc.cred), 0);
        struct rec r = { 0 };
        struct check *c = NULL;
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        ck_assert(wait_results(e, &r, 0, 10000));
        ck_assert_msg(r.sev == SEV_FAILED && strcmp(r.description, "file unreadable") == 0 &&
                      strstr(r.message, "Permission denied"), "%s: %s", r.description, r.message);
        check_free(c);

        nc.path = open_file;
        memset(&r, 0, sizeof(r));
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        ck_assert(wait_results(e, &r, 0, 10000));
        ck_assert_msg(r.sev == SEV_DEGRADED, "%s: %s", r.description, r.message);
        ck_assert_str_eq(r.description, "file says 1");
        check_free(c);

        /* A directory nobody may search but not list (no inotify watch for them): read all the same. */
        char hidden[512], hidden_file[600];
        snprintf(hidden, sizeof(hidden), "%s/hidden", tmp);
        snprintf(hidden_file, sizeof(hidden_file), "%s/health", hidden);
        ck_assert_int_eq(mkdir(hidden, 0711), 0);
        put(hidden_file, "0\n");
        nc.path = hidden_file;
        memset(&r, 0, sizeof(r));
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        ck_assert(wait_results(e, &r, 0, 10000));
        ck_assert_msg(r.sev == SEV_OK, "%s: %s", r.description, r.message);
        check_free(c);

        nc.path = open_file;
        memset(&r, 0, sizeof(r));
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        ck_assert(wait_results(e, &r, 0, 10000));

        /* A reload to no user: the next run reads as root. */
        struct check_conf as_root = cc;
        as_root.user = NULL;
        as_root.cred = NULL;
        as_root.interval = 0.05;
        nc.path = secret;
        ck_assert_int_eq(check_update_conf(c, &as_root), 0);
        ck_assert(wait_sev(e, &r, SEV_OK, 10000));
        ck_assert_str_eq(r.description, "file says 0");
        check_free(c);

        /* The daemon (this thread) is still root with its groups. */
        int fd = open(secret, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(getgroups(0, NULL), ng_before);
        ck_assert_int_eq((int)geteuid(), 0);
        free(cc.cred);
        sd_event_unref(e);
}
END_TEST

/* A FIFO (or a device) is refused without being opened: a writer waiting for a reader stays waiting. */
START_TEST(test_native_file_fifo_not_opened)
{
        char fifo[512], mark[512];
        snprintf(fifo, sizeof(fifo), "%s/fifo", tmp);
        snprintf(mark, sizeof(mark), "%s/opened", tmp);
        ck_assert_int_eq(mkfifo(fifo, 0644), 0);
        char cmd[1200];
        snprintf(cmd, sizeof(cmd), "exec 3>%s; echo > %s", fifo, mark);
        char *argv[] = { "/bin/sh", "-c", cmd, NULL };
        pid_t pid;
        ck_assert_int_eq(posix_spawn(&pid, argv[0], NULL, NULL, argv, environ), 0);
        /* Wait until the writer is blocked in its open of the FIFO. */
        char sc[256], scpath[64];
        snprintf(scpath, sizeof(scpath), "/proc/%d/syscall", (int)pid);
        bool blocked = false;
        for (uint64_t end = mono_usec() + 10000000; !blocked && mono_usec() < end;) {
                FILE *f = fopen(scpath, "r");
                if (f && fgets(sc, sizeof(sc), f))
                        blocked = strncmp(sc, "257 ", 4) == 0 || strncmp(sc, "2 ", 2) == 0;  /* openat, open */
                if (f)
                        fclose(f);
        }
        ck_assert(blocked);

        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct native_conf nc = { .type = NATIVE_FILE, .path = fifo };
        struct rec r = { 0 };
        struct check *c = start_native(e, &nc, 0.05, 5, &r);
        ck_assert(wait_results(e, &r, 3, 10000));
        ck_assert_str_eq(r.description, "file unreadable");
        ck_assert_ptr_nonnull(strstr(r.message, "not a regular file"));
        check_free(c);
        /* Four runs, and the writer never saw a reader. */
        ck_assert_int_eq(access(mark, F_OK), -1);
        int rfd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);       /* let it go */
        ck_assert_int_ge(rfd, 0);
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        close(rfd);
        ck_assert_int_eq(access(mark, F_OK), 0);
        sd_event_unref(e);
}
END_TEST

/* Atomically points link at target (a deploy's "current" switch). */
static void switch_link(const char *target, const char *link)
{
        char t[600];
        snprintf(t, sizeof(t), "%s.new", link);
        (void)unlink(t);
        ck_assert_int_eq(symlink(target, t), 0);
        ck_assert_int_eq(rename(t, link), 0);
}

/* A directory on the path is a symlink that is switched: nothing changes in the directory first watched, and
 * the next run still reads what the path means now. */
START_TEST(test_native_file_dir_symlink_switch)
{
        char r1[512], r2[512], cur[512], path[600], f1[600], f2[600];
        snprintf(r1, sizeof(r1), "%s/r1", tmp);
        snprintf(r2, sizeof(r2), "%s/r2", tmp);
        snprintf(cur, sizeof(cur), "%s/current", tmp);
        snprintf(path, sizeof(path), "%s/health", cur);
        snprintf(f1, sizeof(f1), "%s/health", r1);
        snprintf(f2, sizeof(f2), "%s/health", r2);
        ck_assert_int_eq(mkdir(r1, 0755), 0);
        ck_assert_int_eq(mkdir(r2, 0755), 0);
        put(f1, "0\n");
        put(f2, "2\n");
        switch_link("r1", cur);

        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct native_conf nc = { .type = NATIVE_FILE, .path = path };
        struct rec r = { 0 };
        struct check *c = start_native(e, &nc, 0.2, 5, &r);
        ck_assert(wait_results(e, &r, 0, 10000));
        ck_assert_str_eq(r.description, "file says 0");
        switch_link("r2", cur);
        ck_assert_msg(wait_sev(e, &r, SEV_FAILED, 10000), "%s", r.description);
        ck_assert_str_eq(r.description, "file says 2");
        /* and the new release is watched: a change there is seen without a run (interval 1 h) */
        check_free(c);
        memset(&r, 0, sizeof(r));
        c = start_native(e, &nc, 3600, 5, &r);
        ck_assert(wait_results(e, &r, 0, 10000));
        ck_assert_str_eq(r.description, "file says 2");
        switch_link("r1", cur);
        put(f2, "1\n");         /* r2 no longer matters */
        put(f1, "1\n");         /* seen through the old watch of r1; re-resolving gives r1 again */
        ck_assert_msg(wait_sev(e, &r, SEV_DEGRADED, 10000), "%s", r.description);
        check_free(c);
        sd_event_unref(e);
}
END_TEST

/* The file is a symlink into another directory: a change there (written and renamed, as usual) is seen at
 * once, by the watch of that directory, not only at the next run. */
START_TEST(test_native_file_symlink_elsewhere)
{
        char a[512], b[512], link[600], real[600];
        snprintf(a, sizeof(a), "%s/a", tmp);
        snprintf(b, sizeof(b), "%s/b", tmp);
        snprintf(link, sizeof(link), "%s/health", a);
        snprintf(real, sizeof(real), "%s/real", b);
        ck_assert_int_eq(mkdir(a, 0755), 0);
        ck_assert_int_eq(mkdir(b, 0755), 0);
        put(real, "0\n");
        ck_assert_int_eq(symlink("../b/real", link), 0);

        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct native_conf nc = { .type = NATIVE_FILE, .path = link };
        struct rec r = { 0 };
        struct check *c = start_native(e, &nc, 3600, 5, &r);      /* no second run within the test */
        ck_assert(wait_results(e, &r, 0, 10000));
        ck_assert_str_eq(r.description, "file says 0");
        put(real, "2\n");
        ck_assert_msg(wait_sev(e, &r, SEV_FAILED, 10000), "%s", r.description);
        ck_assert_str_eq(r.description, "file says 2");
        check_free(c);
        sd_event_unref(e);
}
END_TEST

/* inotify's queue overflows (IN_Q_OVERFLOW): the change to our file is among the events lost, and the check
 * reads the file again instead of keeping the old value. */
START_TEST(test_native_file_queue_overflow)
{
        unsigned max = 16384;
        FILE *mf = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
        if (mf) {
                if (fscanf(mf, "%u", &max) != 1)
                        max = 16384;
                fclose(mf);
        }
        if (max > 200000) {
                fprintf(stderr, "test_native_file_queue_overflow: skipped: max_queued_events is %u\n", max);
                return;
        }
        char path[512];
        snprintf(path, sizeof(path), "%s/health", tmp);
        put(path, "0\n");
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct native_conf nc = { .type = NATIVE_FILE, .path = path };
        struct rec r = { 0 };
        struct check *c = start_native(e, &nc, 3600, 5, &r);
        ck_assert(wait_results(e, &r, 0, 10000));
        ck_assert_str_eq(r.description, "file says 0");
        /* The loop does not run meanwhile: the queue fills with other names' events (two each), then ours. */
        char other[600];
        for (unsigned i = 0; i < max / 2 + 16; i++) {
                snprintf(other, sizeof(other), "%s/x%u", tmp, i);
                int fd = open(other, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                ck_assert_int_ge(fd, 0);
                close(fd);
        }
        put(path, "2\n");
        ck_assert_msg(wait_sev(e, &r, SEV_FAILED, 10000), "%s", r.description);
        ck_assert_str_eq(r.description, "file says 2");
        check_free(c);
        sd_event_unref(e);
}
END_TEST

Suite *check_native_suite(void)
{
        Suite *s = suite_create("check_native");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_native_parse);
        tcase_add_test(tc, test_native_conf_load);
        tcase_add_test(tc, test_native_tcp);
        tcase_add_test(tc, test_native_reload);
        tcase_add_test(tc, test_native_http);
        tcase_add_test(tc, test_native_https);
        tcase_add_test(tc, test_native_http_endless_body);
        tcase_add_test(tc, test_native_file);
        tcase_add_test(tc, test_native_file_as_user);
        tcase_add_test(tc, test_native_file_fifo_not_opened);
        tcase_add_test(tc, test_native_file_dir_symlink_switch);
        tcase_add_test(tc, test_native_file_symlink_elsewhere);
        tcase_add_test(tc, test_native_file_queue_overflow);
        suite_add_tcase(s, tc);
        return s;
}
