/* Unit tests for lib/vtysock.c: a fake vty server in a thread; busy is told from gone, replies are read to their end. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "vtysock.h"
#include "unit.h"

struct answer {
        bool done;
        int error;
        size_t len0;
        int status0;
};

static void on_done(struct vtysock *q, int error, char **outputs, const int *status, void *userdata)
{
        struct answer *a = userdata;
        (void)q;
        a->done = true;
        a->error = error;
        a->len0 = strlen(outputs[0]);
        a->status0 = status[0];
}

/* Runs one query to path on a fresh loop until done (or 10 s). */
static struct answer query(const char *path, uint64_t timeout_usec)
{
        struct answer a = { 0 };
        sd_event *e = NULL;
        char *cmds[] = { (char *)"show bgp summary json", NULL };

        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(vtysock_query(e, path, cmds, timeout_usec, on_done, &a, NULL), 0);
        for (int i = 0; i < 1000 && !a.done; i++)
                ck_assert_int_ge(sd_event_run(e, 10000), 0);
        ck_assert(a.done);
        sd_event_unref(e);
        return a;
}

static int listen_at(const char *path, int backlog)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(listen(fd, backlog), 0);
        return fd;
}

START_TEST(test_vtysock_gone_and_full)
{
        char *dir = unit_tmpdir(), path[100];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        snprintf(path, sizeof(path), "%s/bgpd.vty", dir);
        ck_assert_int_eq(query(path, 1000000).error, -ENOENT);          /* no socket: not running */
        int l = listen_at(path, 0);
        close(l);
        ck_assert_int_eq(query(path, 1000000).error, -ECONNREFUSED);    /* socket left behind */
        unlink(path);

        /* Backlog 0 with one connection pending and none accepted: full, bgpd is busy, not gone. */
        l = listen_at(path, 0);
        int hold = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        ck_assert_int_eq(connect(hold, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(query(path, 1000000).error, -EAGAIN);
        close(hold);
        close(l);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

struct server {
        int listen_fd;
        size_t body;            /* bytes of reply before the end marker */
        size_t chunk;
        int stall_ms;           /* before the marker */
        ssize_t sent;           /* what was sent; -errno when the client hung up mid-reply */
};

static void *serve(void *arg)
{
        struct server *s = arg;
        char cmd[256];
        int c = accept(s->listen_fd, NULL, NULL);
        if (c < 0)
                return NULL;
        ssize_t n = recv(c, cmd, sizeof(cmd), 0);
        (void)n;
        char *block = malloc(s->chunk);
        memset(block, 'x', s->chunk);
        s->sent = 0;
        for (size_t done = 0; done < s->body;) {
                size_t k = s->body - done < s->chunk ? s->body - done : s->chunk;
                ssize_t w = send(c, block, k, MSG_NOSIGNAL);
                if (w < 0) {
                        s->sent = -errno;
                        break;
                }
                done += (size_t)w;
                s->sent += w;
        }
        if (s->sent >= 0 && s->stall_ms)
                usleep((useconds_t)s->stall_ms * 1000);
        if (s->sent >= 0 && send(c, "\0\0\0\0", 4, MSG_NOSIGNAL) < 0)
                s->sent = -errno;
        /* Waits for the client to close: a close before the marker showed above as EPIPE. */
        while (recv(c, cmd, sizeof(cmd), 0) > 0)
                ;
        free(block);
        close(c);
        return NULL;
}

static struct answer run_server(struct server *s, uint64_t timeout_usec)
{
        char *dir = unit_tmpdir(), path[100];
        pthread_t t;

        snprintf(path, sizeof(path), "%s/bgpd.vty", dir);
        s->listen_fd = listen_at(path, 4);
        ck_assert_int_eq(pthread_create(&t, NULL, serve, s), 0);
        struct answer a = query(path, timeout_usec);
        pthread_join(t, NULL);
        close(s->listen_fd);
        unit_rmrf(dir);
        free(dir);
        return a;
}

/* Chunks of 1 KiB: one reply whole, status byte read. */
START_TEST(test_vtysock_chunked_reply)
{
        struct server s = { .body = 300000, .chunk = 1024 };
        struct answer a = run_server(&s, 5000000);
        ck_assert_int_eq(a.error, 0);
        ck_assert_uint_eq(a.len0, 300000);
        ck_assert_int_eq(s.sent, 300000);
}
END_TEST

/* A reply past the 8 MiB limit is refused, but read to its end marker first: closing in the middle of a
 * reply can crash FRR 10.2-10.3.1. The server sees no EPIPE. */
START_TEST(test_vtysock_overflow_read_to_end)
{
        struct server s = { .body = 9 * 1024 * 1024, .chunk = 65536 };
        struct answer a = run_server(&s, 10000000);
        ck_assert_int_eq(a.error, -EFBIG);
        ck_assert_msg(s.sent == 9 * 1024 * 1024, "the client hung up mid-reply (server: %zd)", s.sent);
}
END_TEST

/* No end marker within the timeout: -ETIMEDOUT (the watch calls that busy, not gone). */
START_TEST(test_vtysock_timeout)
{
        struct server s = { .body = 100, .chunk = 100, .stall_ms = 1500 };
        struct answer a = run_server(&s, 300000);
        ck_assert_int_eq(a.error, -ETIMEDOUT);
}
END_TEST

Suite *vtysock_suite(void)
{
        Suite *s = suite_create("vtysock");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_vtysock_gone_and_full);
        tcase_add_test(tc, test_vtysock_chunked_reply);
        tcase_add_test(tc, test_vtysock_overflow_read_to_end);
        tcase_add_test(tc, test_vtysock_timeout);
        suite_add_tcase(s, tc);
        return s;
}
