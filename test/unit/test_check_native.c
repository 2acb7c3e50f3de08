/* Unit tests for the native checks (lib/check_native.c and its kinds): parsing, and each kind against
 * local servers on 127.0.0.1 and a file that changes (the unit kind: test_check_unit.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
        ck_assert_ptr_nonnull(strstr(r.message, "\"banana\" is not a number from 0 to 255"));

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
        tcase_add_test(tc, test_native_file);
        suite_add_tcase(s, tc);
        return s;
}
