/* The tcp check: a non-blocking connect to host:port, then optionally send bytes and wait for a string. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_native_internal.h"

#define REPLY_MAX 4096

struct tcp {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } addr;
        socklen_t addr_len;
        char where[128];                /* "192.0.2.1:80", for messages */
        int fd;
        sd_event_source *io;
        size_t sent;
        size_t got;
        char reply[REPLY_MAX + 1];
};

static void tcp_stop(struct native *n)
{
        struct tcp *t = n->state;
        if (!t)
                return;
        t->io = sd_event_source_disable_unref(t->io);
        if (t->fd >= 0)
                close(t->fd);
        t->fd = -1;
}

static void tcp_ok(struct native *n, const char *description)
{
        struct tcp *t = n->state;
        struct native_result r;
        native_result_set(&r, SEV_OK, description, "%s: %s", t->where, description);
        native_finish(n, &r);
}

static void tcp_failed(struct native *n, const char *description, int err)
{
        struct tcp *t = n->state;
        native_fail(n, description, "%s: %s", t->where, strerror(err));
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct native *n = userdata;
        struct tcp *t = n->state;
        const struct native_conf *c = n->conf;
        (void)s;
        (void)revents;

        if (t->sent == 0 && t->got == 0) {
                int err = 0;
                socklen_t len = sizeof(err);
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        err = errno;
                if (err == EINPROGRESS)
                        return 0;
                if (err) {
                        tcp_failed(n, "connect failed", err);
                        return 0;
                }
                if (!c->send && !c->expect) {
                        tcp_ok(n, "connected");
                        return 0;
                }
        }
        size_t want = c->send ? strlen(c->send) : 0;
        if (t->sent < want) {
                ssize_t w = send(fd, c->send + t->sent, want - t->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (w < 0) {
                        tcp_failed(n, "send failed", errno);
                        return 0;
                }
                t->sent += (size_t)w;
                if (t->sent < want)
                        return 0;
                if (!c->expect) {
                        tcp_ok(n, "sent");
                        return 0;
                }
                (void)sd_event_source_set_io_events(t->io, EPOLLIN);
                return 0;
        }
        if (!c->expect) {
                tcp_ok(n, "connected");
                return 0;
        }
        if (t->got == 0 && !(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                return (void)sd_event_source_set_io_events(t->io, EPOLLIN), 0;
        ssize_t m = recv(fd, t->reply + t->got, REPLY_MAX - t->got, MSG_DONTWAIT);
        if (m < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (m < 0) {
                tcp_failed(n, "receive failed", errno);
                return 0;
        }
        t->got += (size_t)m;
        t->reply[t->got] = '\0';
        /* memmem: a reply may hold NUL bytes before the string. */
        if (memmem(t->reply, t->got, c->expect, strlen(c->expect))) {
                tcp_ok(n, "expect matched");
                return 0;
        }
        if (m == 0 || t->got == REPLY_MAX) {
                native_fail(n, "unexpected reply", "%s: %s after %zu bytes without \"%.64s\"", t->where,
                            m == 0 ? "closed" : "gave up", t->got, c->expect);
        }
        return 0;
}

/* The address is parsed once: a literal, checked by the parser. */
static int tcp_address(struct native *n, struct tcp *t)
{
        memset(&t->addr, 0, sizeof(t->addr));
        if (inet_pton(AF_INET, n->conf->host, &t->addr.in.sin_addr) == 1) {
                t->addr.in.sin_family = AF_INET;
                t->addr.in.sin_port = htons(n->conf->port);
                t->addr_len = sizeof(t->addr.in);
        } else if (inet_pton(AF_INET6, n->conf->host, &t->addr.in6.sin6_addr) == 1) {
                t->addr.in6.sin6_family = AF_INET6;
                t->addr.in6.sin6_port = htons(n->conf->port);
                t->addr_len = sizeof(t->addr.in6);
        } else
                return -EINVAL;
        return 0;
}

static int tcp_start(struct native *n)
{
        struct tcp *t = n->state;
        int r;

        if (!t) {
                if (!(t = calloc(1, sizeof(*t))))
                        return -ENOMEM;
                t->fd = -1;
                n->state = t;
                if ((r = tcp_address(n, t)) < 0)
                        return r;
                char where[sizeof(t->where) + 4];
                check_native_describe(n->conf, where, sizeof(where));
                memcpy(t->where, where + 4, sizeof(t->where));  /* without "tcp " */
        }
        tcp_stop(n);
        t->sent = t->got = 0;
        t->fd = socket(t->addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (t->fd < 0)
                return -errno;
        r = 0;
        if (connect(t->fd, &t->addr.sa, t->addr_len) < 0 && errno != EINPROGRESS)
                r = errno;
        if (r) {
                tcp_failed(n, "connect failed", r);
                return 0;
        }
        /* Writable once connected, or refused: on_io reads which. */
        r = sd_event_add_io(n->event, &t->io, t->fd, EPOLLOUT, on_io, n);
        if (r < 0) {
                tcp_stop(n);
                return r;
        }
        return 0;
}

static void tcp_free(struct native *n)
{
        tcp_stop(n);
        free(n->state);
        n->state = NULL;
}

const struct native_kind native_tcp = {
        .start = tcp_start,
        .stop = tcp_stop,
        .free = tcp_free,
};
