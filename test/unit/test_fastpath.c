/* Unit tests for the fast path on bgpd's vty socket (lib/apply.c with lib/vtysock.c): a fake bgpd vty server
 * in a thread answers each NUL-terminated command with its output, three NULs and a status byte; vtysh is a
 * stand-in script that only says it ran. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "apply.h"
#include "buf.h"
#include "file.h"
#include "render.h"
#include "vtysock.h"
#include "unit.h"

#define MAX_SEEN 32

struct fake {
        int listen_fd;
        const char *refuse;     /* answer this command with refuse_out and refuse_status */
        const char *refuse_out;
        int refuse_status;
        const char *hangup;     /* send half a reply to this command, then close */
        char *running;          /* the reply to "show running-config" */
        char *seen[MAX_SEEN];   /* the commands received, in order */
        size_t n_seen;
        bool pipelined;         /* a command came before the previous one was answered */
};

static void reply(int c, const char *out, int status)
{
        unsigned char end[4] = { 0, 0, 0, (unsigned char)status };
        ck_assert_int_eq(send(c, out, strlen(out), MSG_NOSIGNAL), (ssize_t)strlen(out));
        ck_assert_int_eq(send(c, end, 4, MSG_NOSIGNAL), 4);
}

static void *serve(void *arg)
{
        struct fake *f = arg;
        struct buf in;
        char chunk[512];
        int c = accept(f->listen_fd, NULL, NULL);

        if (c < 0)
                return NULL;
        buf_init(&in);
        for (;;) {
                ssize_t n = recv(c, chunk, sizeof(chunk), 0);
                if (n <= 0)
                        break;
                buf_append(&in, chunk, (size_t)n);
                char *nul = memchr(in.data, '\0', in.len);
                if (!nul)
                        continue;
                /* One command in flight: nothing may follow its NUL before its answer. */
                if ((size_t)(nul - in.data) + 1 < in.len)
                        f->pipelined = true;
                struct pollfd p = { .fd = c, .events = POLLIN };
                if (poll(&p, 1, 20) > 0)
                        f->pipelined = true;
                char *cmd = strdup(in.data);
                size_t used = (size_t)(nul - in.data) + 1;
                memmove(in.data, in.data + used, in.len - used);
                in.len -= used;
                if (f->n_seen < MAX_SEEN)
                        f->seen[f->n_seen++] = cmd;
                else
                        free(cmd);
                if (f->hangup && strcmp(cmd, f->hangup) == 0) {
                        ck_assert_int_eq(send(c, "% half a rep", 12, MSG_NOSIGNAL), 12);
                        break;
                }
                if (f->refuse && strcmp(cmd, f->refuse) == 0)
                        reply(c, f->refuse_out, f->refuse_status);
                else if (strcmp(cmd, "show running-config") == 0)
                        reply(c, f->running, 0);
                else
                        reply(c, "", 0);
        }
        buf_free(&in);
        close(c);
        return NULL;
}

struct run {
        char *dir;
        char frr[600];
        char marker[600];
        struct conf *conf;
        struct fake fake;
        pthread_t thread;
        bool listening;
        bool done;
        struct apply_result result;
};

static void on_applied(struct apply *a, struct apply_result *r, void *userdata)
{
        struct run *t = userdata;
        (void)a;
        t->done = true;
        t->result = *r;
        r->message = r->warning = r->output = NULL;
}

/* A stand-in vtysh appends its arguments to a marker file and prints a running config where the prefix is
 * announced as primary, as bgpd would after the commands. */
static void setup(struct run *t, bool socket_there, bool listening)
{
        char text[3000], ps[700], sock[800];
        struct diag d;

        memset(t, 0, sizeof(*t));
        t->dir = unit_tmpdir();
        snprintf(t->frr, sizeof(t->frr), "%s/frr.conf", t->dir);
        snprintf(t->marker, sizeof(t->marker), "%s/vtysh-ran", t->dir);
        snprintf(text, sizeof(text),
                 "#!/bin/sh\necho \"$*\" >> %s\ncase \"$*\" in *running-config*) printf 'router bgp 65001\\n"
                 " address-family ipv4 unicast\\n  network 198.51.100.10/32 route-map primary\\n"
                 " exit-address-family\\n';; esac\nexit 0\n", t->marker);
        char *vtysh = unit_write(t->dir, "vtysh", text, 0755);
        snprintf(text, sizeof(text), "role = \"primary\";\nshared_ips = [\"198.51.100.10\"];\n"
                 "bgp = { asn = 65001; route_servers = [\"192.0.2.1\"]; };\n"
                 "frr = { config = \"%s\"; vtysh = \"%s\"; pathspace = \"fp\"; timeout = 10; };\n"
                 "checks = { directory = \"%s/none\"; };\nruntime_directory = \"%s/run\";\n", t->frr, vtysh,
                 t->dir, t->dir);
        free(vtysh);
        char *conf = unit_write(t->dir, "failoverd.conf", text, 0644);
        diag_init(&d);
        int r = conf_load(conf, &t->conf, &d);
        ck_assert_msg(r == 0, "conf_load: %s", d.n ? d.msgs[0].text : "?");
        diag_free(&d);
        free(conf);

        vtysock_set_run_dir(t->dir);
        snprintf(ps, sizeof(ps), "%s/fp", t->dir);
        ck_assert_int_eq(mkdir(ps, 0755), 0);
        snprintf(sock, sizeof(sock), "%s/bgpd.vty", ps);
        enum fo_state st[1] = { STATE_PRIMARY };
        ck_assert_int_eq(render_frr_conf(t->conf, st, &t->fake.running), 0);
        if (!socket_there)
                return;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        ck_assert_uint_lt(strlen(sock), sizeof(sa.sun_path));
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
        t->fake.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(t->fake.listen_fd, 0);
        ck_assert_int_eq(bind(t->fake.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        if (!listening) {
                /* A socket bgpd left behind: connect() is refused. */
                close(t->fake.listen_fd);
                t->fake.listen_fd = -1;
                return;
        }
        ck_assert_int_eq(listen(t->fake.listen_fd, 4), 0);
        t->listening = true;
}

static void run_apply(struct run *t, bool readback)
{
        sigset_t chld, old;
        sd_event *e = NULL;
        struct timespec ts;

        if (t->listening)
                ck_assert_int_eq(pthread_create(&t->thread, NULL, serve, &t->fake), 0);
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, &chld, &old), 0);
        ck_assert_int_ge(sd_event_new(&e), 0);
        enum fo_state st[1] = { STATE_PRIMARY };
        ck_assert_int_eq(apply_start(e, t->conf, st, APPLY_FAST, readback, on_applied, t, NULL), 0);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        time_t end = ts.tv_sec + 30;
        while (!t->done && ts.tv_sec < end) {
                ck_assert_int_ge(sd_event_run(e, 100000), 0);
                clock_gettime(CLOCK_MONOTONIC, &ts);
        }
        ck_assert(t->done);
        sd_event_unref(e);
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (t->listening) {
                /* The client closed its end: the server's recv returns 0. */
                pthread_join(t->thread, NULL);
        }
}

static void teardown(struct run *t)
{
        vtysock_set_run_dir(NULL);
        if (t->fake.listen_fd > 0)
                close(t->fake.listen_fd);
        for (size_t i = 0; i < t->fake.n_seen; i++)
                free(t->fake.seen[i]);
        free(t->fake.running);
        apply_result_clear(&t->result);
        conf_free(t->conf);
        unit_rmrf(t->dir);
        free(t->dir);
}

static bool vtysh_ran(const struct run *t)
{
        return access(t->marker, F_OK) == 0;
}

/* Every command on the socket, one at a time, "enable" first, the read-back on the same connection;
 * no vtysh; frr.conf installed. */
START_TEST(test_fastpath_socket)
{
        static const char *const want[] = { "enable", "configure terminal", "router bgp 65001",
                                            "address-family ipv4 unicast",
                                            "network 198.51.100.10/32 route-map primary", "exit-address-family",
                                            "end", "show running-config" };
        struct run t;

        setup(&t, true, true);
        run_apply(&t, true);
        ck_assert_msg(t.result.error == 0, "%s", t.result.message);
        ck_assert(!vtysh_ran(&t));
        ck_assert(!t.fake.pipelined);
        ck_assert_uint_eq(t.fake.n_seen, sizeof(want) / sizeof(want[0]));
        for (size_t i = 0; i < t.fake.n_seen; i++)
                ck_assert_str_eq(t.fake.seen[i], want[i]);
        ck_assert(t.result.readback_ok);
        ck_assert(t.result.has_router);
        ck_assert_int_eq(t.result.running[0], STATE_PRIMARY);
        ck_assert_uint_gt(t.result.tool_done_mono, 0);
        ck_assert_int_eq(access(t.frr, F_OK), 0);
        teardown(&t);
}
END_TEST

/* A refused command: its status byte fails the apply with bgpd's words; nothing is sent after it (as
 * vtysh stops at the first failing -c), no vtysh either, frr.conf untouched. */
START_TEST(test_fastpath_refused_command)
{
        struct run t;

        setup(&t, true, true);
        t.fake.refuse = "network 198.51.100.10/32 route-map primary";
        t.fake.refuse_out = "% Can't find static route specified\n";
        t.fake.refuse_status = 13;
        run_apply(&t, true);
        ck_assert_int_eq(t.result.error, -EPROTO);
        ck_assert_ptr_nonnull(strstr(t.result.message, "network 198.51.100.10/32 route-map primary"));
        ck_assert_ptr_nonnull(strstr(t.result.message, "status 13"));
        ck_assert_ptr_nonnull(strstr(t.result.message, "Can't find static route"));
        ck_assert_str_eq(t.fake.seen[t.fake.n_seen - 1], t.fake.refuse);
        ck_assert(!vtysh_ran(&t));
        ck_assert_int_eq(access(t.frr, F_OK), -1);
        teardown(&t);

        /* Status 0 but a "%" line: refused all the same. */
        setup(&t, true, true);
        t.fake.refuse = "router bgp 65001";
        t.fake.refuse_out = "% BGP is already running; AS is 65002\n";
        t.fake.refuse_status = 0;
        run_apply(&t, false);
        ck_assert_int_eq(t.result.error, -EPROTO);
        ck_assert_ptr_nonnull(strstr(t.result.message, "AS is 65002"));
        ck_assert(!vtysh_ran(&t));
        teardown(&t);
}
END_TEST

/* bgpd hangs up in the middle of a reply: an error naming the command, not a fallback. */
START_TEST(test_fastpath_partial_reply)
{
        struct run t;

        setup(&t, true, true);
        t.fake.hangup = "address-family ipv4 unicast";
        run_apply(&t, true);
        ck_assert_int_eq(t.result.error, -ECONNRESET);
        ck_assert_ptr_nonnull(strstr(t.result.message, "address-family ipv4 unicast"));
        ck_assert(!vtysh_ran(&t));
        ck_assert_int_eq(access(t.frr, F_OK), -1);
        teardown(&t);
}
END_TEST

/* No socket, or one nobody listens on: vtysh does the fast path and the read-back. */
START_TEST(test_fastpath_fallback)
{
        for (int listening_left = 0; listening_left < 2; listening_left++) {
                struct run t;
                char *ran = NULL;

                setup(&t, listening_left, false);
                run_apply(&t, true);
                ck_assert_msg(t.result.error == 0, "%s", t.result.message);
                ck_assert_int_eq(file_read(t.marker, 4096, &ran, NULL), 0);
                ck_assert_ptr_nonnull(strstr(ran, "-N fp -d bgpd -c configure terminal -c router bgp 65001"));
                ck_assert_ptr_nonnull(strstr(ran, "-c show running-config"));
                ck_assert(t.result.readback_ok);
                ck_assert_int_eq(t.result.running[0], STATE_PRIMARY);
                free(ran);
                teardown(&t);
        }
}
END_TEST

Suite *fastpath_suite(void)
{
        Suite *s = suite_create("fastpath");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_fastpath_socket);
        tcase_add_test(tc, test_fastpath_refused_command);
        tcase_add_test(tc, test_fastpath_partial_reply);
        tcase_add_test(tc, test_fastpath_fallback);
        suite_add_tcase(s, tc);
        return s;
}
