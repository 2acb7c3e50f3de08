/* The control socket (SPEC 7.7): one request line in, one JSON object out, on the daemon's sd-event loop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_services.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

#define DRAIN_MAX (64 * 1024)   /* unread input discarded before close, so the peer sees EOF, not a reset */

static const struct {
        const char *name;
        bool arg;
        bool change;            /* needs CTL_ADMIN */
} commands[] = {
        { "status", false, false },
        { "status-json", false, false },
        { "checks", false, false },
        { "drain", true, true },
        { "resume", true, true },
        { "reload", false, true },
        { "ping", false, false },
};

enum access {
        ACCESS_NONE,
        ACCESS_READ,            /* status, status-json, checks, ping */
        ACCESS_ADMIN,           /* everything */
};

struct ctl_conn {
        struct ctl_server *server;
        struct ctl_conn *next;
        int fd;
        sd_event_source *io;
        sd_event_source *timer;
        struct ucred peer;
        enum access access;
        char in[CTL_REQUEST_MAX];
        size_t in_len;
        char *out;              /* the serialised reply once there is one */
        size_t out_len;
        size_t out_off;
};

struct ctl_server {
        sd_event *event;
        char *path;
        int fd;
        dev_t dev;              /* of the socket file we bound: only that one is removed on free */
        ino_t ino;
        gid_t gid;              /* group of the socket file at bind time */
        uid_t uid;              /* the daemon's own user */
        gid_t read_gid;         /* (gid_t)-1: the socket file's group reads */
        gid_t admin_gid;        /* (gid_t)-1: only root and uid change */
        sd_event_source *listen;
        sd_event_source *retry; /* re-enables accepting after EMFILE and friends */
        ctl_handler_fn handler;
        void *userdata;
        struct ctl_conn *conns;
        size_t n_conns;
        const struct ucred *current_peer;
};

static double now_realtime(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Length of the well-formed UTF-8 sequence at s (shortest form, no surrogates, at most U+10FFFF) and its
 * code point, or 0 when the byte at s does not start one. */
static size_t utf8_seq(const unsigned char *s, size_t left, unsigned *cp)
{
        size_t n;
        unsigned c = s[0], min;

        if (c < 0x80) {
                *cp = c;
                return 1;
        }
        if ((c & 0xe0) == 0xc0)
                n = 2, c &= 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
                n = 3, c &= 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0)
                n = 4, c &= 0x07, min = 0x10000;
        else
                return 0;
        if (n > left)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *cp = c;
        return n;
}

/* C0, DEL and C1: what a terminal may take for a command rather than text. */
static bool is_control(unsigned cp)
{
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

int ctl_escape_text(const char *s, struct buf *out)
{
        const unsigned char *p = (const unsigned char *)(s ? s : "");
        size_t left = strlen((const char *)p);

        while (left > 0) {
                unsigned cp = 0;
                size_t n = utf8_seq(p, left, &cp);
                if (n == 0)
                        buf_printf(out, "\\x%02x", p[0]);
                else if (cp == '\n')
                        buf_puts(out, "\\n");
                else if (cp == '\t')
                        buf_puts(out, "\\t");
                else if (cp == '\r')
                        buf_puts(out, "\\r");
                else if (is_control(cp))
                        buf_printf(out, cp < 0x80 ? "\\x%02x" : "\\u%04x", cp);
                else
                        buf_append(out, p, n);
                n = n ? n : 1;
                p += n;
                left -= n;
        }
        if (!out->data)
                buf_puts(out, "");
        return out->oom ? -ENOMEM : 0;
}

static bool needs_escape(const char *s)
{
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                        return true;
        return false;
}

/* Every string of o (keys stay: the daemon makes them) made safe to print, in place. */
static int escape_tree(json_object *o)
{
        int r = 0;

        switch (json_object_get_type(o)) {
        case json_type_string: {
                const char *v = json_object_get_string(o);
                if (!needs_escape(v))
                        return 0;
                struct buf b;
                buf_init(&b);
                r = ctl_escape_text(v, &b);
                if (r == 0 && !json_object_set_string(o, b.data))
                        r = -ENOMEM;
                buf_free(&b);
                return r;
        }
        case json_type_array:
                for (size_t i = 0; i < json_object_array_length(o) && r == 0; i++)
                        r = escape_tree(json_object_array_get_idx(o, i));
                return r;
        case json_type_object: {
                json_object_object_foreach(o, k, v) {
                        (void)k;
                        if (r == 0)
                                r = escape_tree(v);
                }
                return r;
        }
        default:
                return 0;
        }
}

/* A copy of o whose strings are safe to print; NULL when out of memory. */
static json_object *escaped_copy(json_object *o)
{
        json_object *copy = NULL;
        if (json_object_deep_copy(o, &copy, NULL) < 0)
                return NULL;
        if (escape_tree(copy) < 0)
                copy = (json_object_put(copy), NULL);
        return copy;
}

int ctl_json_serialize(json_object *o, int flags, struct buf *out)
{
        const unsigned char *p = (const unsigned char *)json_object_to_json_string_ext(o, flags);

        if (!p)
                return -ENOMEM;
        /* json-c escapes C0 in strings (a C0 byte here is pretty-printing); DEL, C1 and bytes that are not
         * UTF-8 can only be inside strings, where a \u escape keeps the text valid JSON. */
        for (size_t left = strlen((const char *)p); left > 0;) {
                unsigned cp = 0;
                size_t n = utf8_seq(p, left, &cp);
                if (n == 0)
                        buf_puts(out, "\\ufffd");
                else if (cp >= 0x7f && is_control(cp))
                        buf_printf(out, "\\u%04x", cp);
                else
                        buf_append(out, p, n);
                n = n ? n : 1;
                p += n;
                left -= n;
        }
        return out->oom ? -ENOMEM : 0;
}

static int fill_sockaddr(const char *path, struct sockaddr_un *sa)
{
        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        size_t n = strlen(path);
        if (n == 0)
                return -EINVAL;
        if (n >= sizeof(sa->sun_path))
                return -ENAMETOOLONG;
        memcpy(sa->sun_path, path, n + 1);
        return 0;
}

/* {"ok":false,"code":CODE,"error":MSG} serialised with its newline, malloc'd; NULL when out of memory. */
static char *error_text(const char *code, const char *msg, size_t *len)
{
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "ok", json_object_new_boolean(0));
        json_object_object_add(o, "code", json_object_new_string(code));
        json_object_object_add(o, "error", json_object_new_string(msg));
        struct buf b;
        buf_init(&b);
        ctl_json_serialize(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &b);
        buf_puts(&b, "\n");
        json_object_put(o);
        if (b.oom) {
                buf_free(&b);
                return NULL;
        }
        *len = b.len;
        return buf_steal(&b);
}

/* For a connection we will not serve: one non-blocking send into its (empty) buffer, best effort. */
static void send_error(int fd, const char *code, const char *msg)
{
        size_t len = 0;
        char *t = error_text(code, msg, &len);
        if (t && send(fd, t, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
                /* the peer may be gone already */
        }
        free(t);
}

static void refuse_fd(int fd, const char *code, const char *msg)
{
        send_error(fd, code, msg);
        close(fd);
}

static void drain_input(int fd)
{
        char junk[4096];
        size_t total = 0;
        ssize_t n;
        while (total < DRAIN_MAX && (n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
                total += (size_t)n;
}

static void conn_free(struct ctl_conn *c)
{
        struct ctl_server *s = c->server;
        for (struct ctl_conn **p = &s->conns; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        s->n_conns--;
                        break;
                }
        c->io = sd_event_source_disable_unref(c->io);
        c->timer = sd_event_source_disable_unref(c->timer);
        if (c->fd >= 0) {
                drain_input(c->fd);
                close(c->fd);
        }
        free(c->out);
        free(c);
}

static bool group_allowed(int fd, gid_t sock_gid, gid_t peer_gid)
{
        if (sock_gid == (gid_t)-1)
                return false;
        if (peer_gid == sock_gid)
                return true;
        /* SO_PEERGROUPS (Linux 4.13) carries the supplementary groups of the peer at connect() time. */
        gid_t small[64], *g = small;
        socklen_t len = sizeof(small);
        bool ok = false;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
                if (errno != ERANGE || !(g = malloc(len)))
                        return false;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0)
                        len = 0;
        }
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
                if (g[i] == sock_gid)
                        ok = true;
        if (g != small)
                free(g);
        return ok;
}

static bool still_ours(const struct ctl_server *s, struct stat *st)
{
        return lstat(s->path, st) == 0 && S_ISSOCK(st->st_mode) && st->st_dev == s->dev && st->st_ino == s->ino;
}

static bool has_groups(const struct ctl_server *s)
{
        return s->read_gid != (gid_t)-1 || s->admin_gid != (gid_t)-1;
}

/* Root and the daemon's user may do anything, admin_gid's members too; read_gid's members may read, or,
 * without read_gid, the socket file's group (its group now, so a chgrp by the operator takes effect at once). */
static enum access peer_access(const struct ctl_server *s, int fd, const struct ucred *cred)
{
        if (cred->uid == 0 || cred->uid == s->uid || group_allowed(fd, s->admin_gid, cred->gid))
                return ACCESS_ADMIN;
        gid_t gid = s->read_gid;
        struct stat st;
        if (gid == (gid_t)-1)
                gid = still_ours(s, &st) ? st.st_gid : s->gid;
        return group_allowed(fd, gid, cred->gid) ? ACCESS_READ : ACCESS_NONE;
}

static int conn_set_reply(struct ctl_conn *c, json_object *reply)
{
        struct buf b;
        buf_init(&b);
        ctl_json_serialize(reply, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &b);
        buf_puts(&b, "\n");
        if (b.oom) {
                buf_free(&b);
                return -ENOMEM;
        }
        c->out_len = b.len;
        c->out = buf_steal(&b);
        return 0;
}

static int conn_set_error(struct ctl_conn *c, const char *code, const char *msg)
{
        c->out = error_text(code, msg, &c->out_len);
        return c->out ? 0 : -ENOMEM;
}

/* Calls the handler; a negative return becomes a "failed" reply. Returns the reply (never NULL unless out
 * of memory), "ok" set. */
static json_object *call_handler(struct ctl_conn *c, const char *command, const char *arg)
{
        struct ctl_server *s = c->server;
        json_object *reply = NULL;

        s->current_peer = &c->peer;
        int r = s->handler ? s->handler(command, arg, &reply, s->userdata) : -EOPNOTSUPP;
        s->current_peer = NULL;
        if (r < 0 || (reply && !json_object_is_type(reply, json_type_object))) {
                json_object_put(reply);
                reply = json_object_new_object();
                if (!reply)
                        return NULL;
                json_object_object_add(reply, "ok", json_object_new_boolean(0));
                json_object_object_add(reply, "code", json_object_new_string("failed"));
                json_object_object_add(reply, "error",
                                       json_object_new_string(r < 0 ? strerror(-r) : "handler returned a non-object"));
                return reply;
        }
        if (!reply && !(reply = json_object_new_object()))
                return NULL;
        if (!json_object_object_get_ex(reply, "ok", NULL))
                json_object_object_add(reply, "ok", json_object_new_boolean(1));
        return reply;
}

static int conn_answer(struct ctl_conn *c, const char *command, const char *arg)
{
        json_object *reply;

        if (strcmp(command, "ping") == 0) {
                reply = json_object_new_object();
                if (!reply)
                        return -ENOMEM;
                json_object_object_add(reply, "ok", json_object_new_boolean(1));
                json_object_object_add(reply, "pong", json_object_new_boolean(1));
                json_object_object_add(reply, "pid", json_object_new_int((int)getpid()));
                json_object_object_add(reply, "version", json_object_new_string(VERSION));
        } else if (strcmp(command, "status") == 0 || strcmp(command, "checks") == 0) {
                /* Built from status-json, so the daemon has one status to keep right. */
                json_object *st = call_handler(c, "status-json", NULL);
                json_object *ok;
                if (!st)
                        return -ENOMEM;
                if (json_object_object_get_ex(st, "ok", &ok) && !json_object_get_boolean(ok)) {
                        reply = st;
                } else {
                        struct buf text;
                        buf_init(&text);
                        bool status = strcmp(command, "status") == 0;
                        int r = status ? ctl_format_status(st, now_realtime(), &text) : ctl_format_checks(st, &text);
                        reply = json_object_new_object();
                        if (r < 0 || !reply) {
                                buf_free(&text);
                                json_object_put(st);
                                json_object_put(reply);
                                return r < 0 ? r : -ENOMEM;
                        }
                        json_object_object_add(reply, "ok", json_object_new_boolean(1));
                        json_object *checks;
                        if (!status && json_object_object_get_ex(st, "checks", &checks))
                                json_object_object_add(reply, "checks", json_object_get(checks));
                        json_object_object_add(reply, "text", json_object_new_string(text.data ? text.data : ""));
                        buf_free(&text);
                        json_object_put(st);
                }
        } else {
                reply = call_handler(c, command, arg);
                if (!reply)
                        return -ENOMEM;
        }
        int r = conn_set_reply(c, reply);
        json_object_put(reply);
        return r;
}

/* Writes what is left of the reply; returns 1 when done, 0 to wait for EPOLLOUT, <0 on error. */
static int conn_flush(struct ctl_conn *c)
{
        while (c->out_off < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return -errno;
                }
                c->out_off += (size_t)n;
        }
        return 1;
}

/* Switches a connection from reading to writing its (set) reply; frees it when done or failed. */
static void conn_reply(struct ctl_conn *c)
{
        if (!c->out) {
                conn_free(c);
                return;
        }
        int r = conn_flush(c);
        if (r != 0 || sd_event_source_set_io_events(c->io, EPOLLOUT) < 0)
                conn_free(c);
}

static void conn_process(struct ctl_conn *c, size_t line_len)
{
        char line[CTL_REQUEST_MAX + 1];
        char err[128];
        const char *command, *arg;

        memcpy(line, c->in, line_len);
        line[line_len] = '\0';
        if (ctl_parse_request(line, &command, &arg, err, sizeof(err)) < 0)
                conn_set_error(c, "bad-request", err);
        else if (c->access != ACCESS_ADMIN && ctl_command_changes(command)) {
                char msg[256];
                if (c->server->admin_gid == (gid_t)-1)
                        snprintf(msg, sizeof(msg), "permission denied: %s needs root or the daemon's user (no "
                                 "control.admin_group is set); uid %u may only read", command, (unsigned)c->peer.uid);
                else
                        snprintf(msg, sizeof(msg), "permission denied: %s needs root, the daemon's user or "
                                 "control.admin_group (gid %u); uid %u may only read", command,
                                 (unsigned)c->server->admin_gid, (unsigned)c->peer.uid);
                conn_set_error(c, "denied", msg);
        } else if (conn_answer(c, command, arg) < 0 && !c->out)
                conn_set_error(c, "failed", strerror(ENOMEM));
        conn_reply(c);
}

static int on_conn_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct ctl_conn *c = userdata;
        (void)src;

        if (c->out) {
                int r = conn_flush(c);
                if (r != 0)
                        conn_free(c);
                return 0;
        }
        if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                return 0;
        for (;;) {
                ssize_t n = recv(fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                conn_free(c);
                        return 0;
                }
                if (n == 0) {
                        /* EOF: a request ended by shutdown(SHUT_WR) is served; an empty one is a probe. */
                        if (c->in_len == 0) {
                                conn_free(c);
                                return 0;
                        }
                        conn_process(c, c->in_len);
                        return 0;
                }
                char *nl = memchr(c->in + c->in_len, '\n', (size_t)n);
                c->in_len += (size_t)n;
                if (nl) {
                        conn_process(c, (size_t)(nl - c->in));
                        return 0;
                }
                if (c->in_len == sizeof(c->in)) {
                        char err[96];
                        snprintf(err, sizeof(err), "request too long (at most %d bytes with its newline)",
                                 CTL_REQUEST_MAX);
                        conn_set_error(c, "bad-request", err);
                        conn_reply(c);
                        return 0;
                }
        }
}

static int on_conn_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
        struct ctl_conn *c = userdata;
        (void)src;
        (void)usec;

        if (!c->out) {
                char err[96];
                snprintf(err, sizeof(err), "timeout: no complete request within %llu s",
                         CTL_CLIENT_TIMEOUT_USEC / 1000000ULL);
                send_error(c->fd, "timeout", err);
        }
        conn_free(c);
        return 0;
}

static void conn_new(struct ctl_server *s, int fd)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred)) {
                refuse_fd(fd, "denied", "cannot read peer credentials");
                return;
        }
        enum access access = peer_access(s, fd, &cred);
        if (access == ACCESS_NONE) {
                char err[200];
                snprintf(err, sizeof(err), "permission denied: uid %u is not root, the daemon's user or in %s",
                         (unsigned)cred.uid, s->read_gid != (gid_t)-1 ? "control.read_group or control.admin_group" :
                         s->admin_gid != (gid_t)-1 ? "the socket's group or control.admin_group" : "the socket's group");
                refuse_fd(fd, "denied", err);
                return;
        }
        if (s->n_conns >= CTL_MAX_CONNECTIONS) {
                refuse_fd(fd, "busy", "too many control connections, try again");
                return;
        }
        struct ctl_conn *c = calloc(1, sizeof(*c));
        if (!c) {
                close(fd);
                return;
        }
        c->server = s;
        c->fd = fd;
        c->peer = cred;
        c->access = access;
        c->next = s->conns;
        s->conns = c;
        s->n_conns++;
        if (sd_event_add_io(s->event, &c->io, fd, EPOLLIN, on_conn_io, c) < 0 ||
            sd_event_add_time_relative(s->event, &c->timer, CLOCK_MONOTONIC, CTL_CLIENT_TIMEOUT_USEC,
                                       10 * 1000, on_conn_timeout, c) < 0)
                conn_free(c);
}

static int on_retry(sd_event_source *src, uint64_t usec, void *userdata)
{
        struct ctl_server *s = userdata;
        (void)src;
        (void)usec;
        s->retry = sd_event_source_disable_unref(s->retry);
        sd_event_source_set_enabled(s->listen, SD_EVENT_ON);
        return 0;
}

static int on_listen(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct ctl_server *s = userdata;
        (void)revents;

        for (;;) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd >= 0) {
                        conn_new(s, cfd);
                        continue;
                }
                if (errno == EINTR || errno == ECONNABORTED)
                        continue;
                if (errno == EAGAIN)
                        return 0;
                /* Out of descriptors or memory: the socket stays readable, so pause rather than spin. */
                sd_event_source_set_enabled(src, SD_EVENT_OFF);
                if (!s->retry)
                        sd_event_add_time_relative(s->event, &s->retry, CLOCK_MONOTONIC, 100 * 1000, 10 * 1000,
                                                   on_retry, s);
                return 0;
        }
}

/* Something accepting connections at path means another daemon: a non-blocking connect() tells. */
static int probe_stale(const char *path, const struct sockaddr_un *sa)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
        int e = errno;
        close(fd);
        if (r == 0 || e == EAGAIN || e == EINPROGRESS)
                return -EADDRINUSE;
        if (e != ECONNREFUSED)
                return -e;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int ctl_socket_path(const char *runtime_directory, char **ret)
{
        struct buf b;
        struct sockaddr_un sa;

        buf_init(&b);
        buf_printf(&b, "%s/%s", runtime_directory, CTL_SOCKET_NAME);
        if (b.oom)
                return -ENOMEM;
        if (b.len >= sizeof(sa.sun_path)) {
                buf_free(&b);
                return -ENAMETOOLONG;
        }
        *ret = buf_steal(&b);
        return 0;
}

int ctl_server_new(sd_event *e, const char *path, ctl_handler_fn handler, void *userdata,
                   struct ctl_server **ret)
{
        struct sockaddr_un sa;
        struct stat st;
        int r;

        *ret = NULL;
        r = fill_sockaddr(path, &sa);
        if (r < 0)
                return r;
        r = probe_stale(path, &sa);
        if (r < 0)
                return r;

        struct ctl_server *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->fd = -1;
        s->handler = handler;
        s->userdata = userdata;
        s->uid = geteuid();
        s->read_gid = s->admin_gid = (gid_t)-1;
        s->event = sd_event_ref(e);
        if (!(s->path = strdup(path))) {
                r = -ENOMEM;
                goto fail;
        }
        s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s->fd < 0) {
                r = -errno;
                goto fail;
        }
        if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = -errno;
                goto fail;
        }
        /* Mode before listen(): until then nobody can connect, whatever the umask gave the file. */
        if (lstat(path, &st) < 0 || chmod(path, CTL_SOCKET_MODE) < 0) {
                r = -errno;
                unlink(path);
                goto fail;
        }
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        s->gid = st.st_gid;
        if (listen(s->fd, SOMAXCONN) < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(e, &s->listen, s->fd, EPOLLIN, on_listen, s);
        if (r < 0)
                goto fail;
        *ret = s;
        return 0;
fail:
        ctl_server_free(s);
        return r;
}

struct ctl_server *ctl_server_free(struct ctl_server *s)
{
        struct stat st;

        if (!s)
                return NULL;
        while (s->conns)
                conn_free(s->conns);
        s->listen = sd_event_source_disable_unref(s->listen);
        s->retry = sd_event_source_disable_unref(s->retry);
        if (s->fd >= 0) {
                close(s->fd);
                if (s->ino && lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
                        unlink(s->path);
        }
        free(s->path);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

int ctl_server_set_access(struct ctl_server *s, gid_t read_gid, gid_t admin_gid)
{
        struct stat st;

        if (!s)
                return -EINVAL;
        s->read_gid = read_gid;
        s->admin_gid = admin_gid;
        if (!still_ours(s, &st))
                return -ESTALE;
        /* With groups of their own the credential check decides alone: the file mode lets everyone knock. */
        if (chmod(s->path, has_groups(s) ? 0666 : CTL_SOCKET_MODE) < 0)
                return -errno;
        if (!has_groups(s))
                return 0;
        char *dir = strdup(s->path), *slash = dir ? strrchr(dir, '/') : NULL;
        int r = 0;
        if (!dir)
                return -ENOMEM;
        if (slash && slash != dir) {
                *slash = '\0';
                /* Searchable by everyone (not listable): the socket is all there is to reach in it. */
                if (stat(dir, &st) == 0 && !(st.st_mode & S_IXOTH) && chmod(dir, (st.st_mode & 07777) | S_IXOTH) < 0)
                        r = -errno;
        }
        free(dir);
        return r;
}

bool ctl_command_changes(const char *command)
{
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(command, commands[i].name) == 0)
                        return commands[i].change;
        return true;
}

const struct ucred *ctl_server_peer(const struct ctl_server *s)
{
        return s ? s->current_peer : NULL;
}

size_t ctl_server_connections(const struct ctl_server *s)
{
        return s ? s->n_conns : 0;
}

int ctl_parse_request(char *line, const char **command, const char **arg, char *err, size_t errlen)
{
        size_t n = strlen(line);

        *command = *arg = NULL;
        if (n > 0 && line[n - 1] == '\r')
                line[--n] = '\0';
        if (n == 0) {
                snprintf(err, errlen, "empty request");
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e) {
                        snprintf(err, errlen, "request must be printable ASCII (byte 0x%02x at offset %zu)",
                                 (unsigned char)line[i], i);
                        return -EINVAL;
                }
        char *a = strchr(line, ' ');
        if (a) {
                *a++ = '\0';
                while (*a == ' ')
                        a++;
                size_t m = strlen(a);
                while (m > 0 && a[m - 1] == ' ')
                        a[--m] = '\0';
        }
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
                if (strcmp(line, commands[i].name) != 0)
                        continue;
                if (a && *a && !commands[i].arg) {
                        snprintf(err, errlen, "%s takes no argument", line);
                        return -EINVAL;
                }
                *command = commands[i].name;
                *arg = a && *a ? a : NULL;
                return 0;
        }
        snprintf(err, errlen, "unknown command \"%.32s%s\" (known: status, status-json, checks, drain [SERVICE] "
                 "[REASON], resume [SERVICE], reload, ping)", line, strlen(line) > 32 ? "..." : "");
        return -EINVAL;
}

/* Waits for events on fd until the deadline; returns 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
        for (;;) {
                long long left = deadline - now_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                struct pollfd p = { .fd = fd, .events = events };
                int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r > 0)
                        return 0;
        }
}

int ctl_request(const char *path, const char *command, const char *arg, int timeout_ms, json_object **reply)
{
        struct sockaddr_un sa;
        struct buf req, in;
        int fd = -1, r;

        *reply = NULL;
        if (timeout_ms <= 0)
                timeout_ms = CTL_DEFAULT_TIMEOUT_MS;
        long long deadline = now_ms() + timeout_ms;
        r = fill_sockaddr(path, &sa);
        if (r < 0)
                return r;

        buf_init(&req);
        buf_init(&in);
        buf_printf(&req, "%s%s%s", command, arg ? " " : "", arg ? arg : "");
        if (req.oom) {
                r = -ENOMEM;
                goto out;
        }
        if (req.len + 1 > CTL_REQUEST_MAX) {
                r = -EMSGSIZE;
                goto out;
        }
        {
                char copy[CTL_REQUEST_MAX + 1], err[160];
                const char *c, *a;
                memcpy(copy, req.data, req.len + 1);
                if (ctl_parse_request(copy, &c, &a, err, sizeof(err)) < 0) {
                        r = -EINVAL;
                        goto out;
                }
        }
        buf_puts(&req, "\n");

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                r = -errno;
                goto out;
        }
        /* A blocking connect() to a full backlog waits at most SO_SNDTIMEO. */
        struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
                r = -errno;
                goto out;
        }
        while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                if (errno == EINTR)
                        continue;
                r = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
                goto out;
        }
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
                r = -errno;
                goto out;
        }

        for (size_t off = 0; off < req.len;) {
                ssize_t n = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);
                if (n >= 0) {
                        off += (size_t)n;
                        continue;
                }
                if (errno == EINTR)
                        continue;
                if (errno == EPIPE || errno == ECONNRESET)
                        break;  /* the server answered and closed before reading: read its answer */
                if (errno != EAGAIN) {
                        r = -errno;
                        goto out;
                }
                r = wait_fd(fd, POLLOUT, deadline);
                if (r < 0)
                        goto out;
        }

        for (;;) {
                char chunk[4096];
                ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
                if (n > 0) {
                        if (in.len + (size_t)n > CTL_REPLY_MAX) {
                                r = -EBADMSG;
                                goto out;
                        }
                        buf_append(&in, chunk, (size_t)n);
                        continue;
                }
                if (n == 0 || (errno == ECONNRESET && in.len > 0))
                        break;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN) {
                        r = -errno;
                        goto out;
                }
                r = wait_fd(fd, POLLIN, deadline);
                if (r < 0)
                        goto out;
        }
        if (in.oom) {
                r = -ENOMEM;
                goto out;
        }
        if (in.len == 0) {
                r = -EBADMSG;
                goto out;
        }

        enum json_tokener_error jerr;
        json_object *o = json_tokener_parse_verbose(in.data, &jerr);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                r = -EBADMSG;
                goto out;
        }
        json_object *ok, *code;
        r = 0;
        if (json_object_object_get_ex(o, "ok", &ok) && !json_object_get_boolean(ok) &&
            json_object_object_get_ex(o, "code", &code) && json_object_is_type(code, json_type_string) &&
            strcmp(json_object_get_string(code), "denied") == 0)
                r = -EACCES;
        *reply = o;
out:
        if (fd >= 0)
                close(fd);
        buf_free(&req);
        buf_free(&in);
        return r;
}

/* ---- formatting the status screen ---- */

static json_object *jget(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
                return NULL;
        return v;
}

static const char *jstr(json_object *o, const char *key)
{
        json_object *v = jget(o, key);
        return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool jnum(json_object *o, const char *key, double *ret)
{
        json_object *v = jget(o, key);
        if (!v || !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
                return false;
        *ret = json_object_get_double(v);
        return true;
}

/* -1 when absent or not a boolean. */
static int jbool(json_object *o, const char *key)
{
        json_object *v = jget(o, key);
        if (!v || !json_object_is_type(v, json_type_boolean))
                return -1;
        return json_object_get_boolean(v) ? 1 : 0;
}

static size_t jarray_len(json_object *a)
{
        return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static const char *or_q(const char *s)
{
        return s ? s : "?";
}

void ctl_format_duration(double seconds, char *out, size_t outlen)
{
        if (seconds < 0)
                seconds = 0;
        if (seconds < 1.0) {
                snprintf(out, outlen, "%dms", (int)(seconds * 1000 + 0.5));
                return;
        }
        if (seconds < 60) {
                snprintf(out, outlen, "%.1fs", seconds);
                return;
        }
        long long s = (long long)seconds;
        long long big, small;
        const char *bu, *su;
        if (s < 3600) {
                big = s / 60, small = s % 60, bu = "m", su = "s";
        } else if (s < 86400) {
                big = s / 3600, small = s / 60 % 60, bu = "h", su = "m";
        } else {
                big = s / 86400, small = s / 3600 % 24, bu = "d", su = "h";
        }
        if (small == 0)
                snprintf(out, outlen, "%lld%s", big, bu);
        else
                snprintf(out, outlen, "%lld%s%02lld%s", big, bu, small, su);
}

/* Rows of cells printed with every column but the last padded to its widest cell. */
#define TCOLS 6
struct table {
        char *(*rows)[TCOLS];
        size_t n;
        size_t width[TCOLS];
        int oom;
};

static void table_add(struct table *t, const char *const cells[TCOLS])
{
        char *(*nr)[TCOLS] = realloc(t->rows, (t->n + 1) * sizeof(*nr));
        if (!nr) {
                t->oom = 1;
                return;
        }
        t->rows = nr;
        for (size_t i = 0; i < TCOLS; i++) {
                t->rows[t->n][i] = cells[i] ? strdup(cells[i]) : NULL;
                if (cells[i] && !t->rows[t->n][i])
                        t->oom = 1;
                if (cells[i] && strlen(cells[i]) > t->width[i])
                        t->width[i] = strlen(cells[i]);
        }
        t->n++;
}

static void table_print(struct table *t, struct buf *out)
{
        for (size_t r = 0; r < t->n; r++) {
                size_t last = 0;
                for (size_t i = 0; i < TCOLS; i++)
                        if (t->rows[r][i] && t->rows[r][i][0])
                                last = i;
                buf_puts(out, " ");
                for (size_t i = 0; i <= last; i++) {
                        const char *c = t->rows[r][i] ? t->rows[r][i] : "";
                        if (t->width[i] == 0)
                                continue;
                        if (i == last)
                                buf_printf(out, " %s", c);
                        else
                                buf_printf(out, " %-*s ", (int)t->width[i], c);
                }
                buf_puts(out, "\n");
        }
}

static void table_free(struct table *t)
{
        for (size_t r = 0; r < t->n; r++)
                for (size_t i = 0; i < TCOLS; i++)
                        free(t->rows[r][i]);
        free(t->rows);
}

static int format_checks(json_object *checks, struct buf *out)
{
        size_t n = jarray_len(checks), up = 0;
        struct table t = {};

        for (size_t i = 0; i < n; i++) {
                json_object *c = json_object_array_get_idx(checks, i);
                const char *health = jstr(c, "health");
                if (health && strcmp(health, "up") == 0)
                        up++;
        }
        if (n == 0) {
                buf_puts(out, "checks: none (always healthy)\n");
                return out->oom ? -ENOMEM : 0;
        }
        buf_printf(out, "checks: %zu/%zu up\n", up, n);
        for (size_t i = 0; i < n; i++) {
                json_object *c = json_object_array_get_idx(checks, i);
                const char *health = or_q(jstr(c, "health"));
                const char *sev = jstr(c, "severity");
                char hcol[64], age[48], dur[32], tmp[32];
                double v, rise = 0, fall = 0, oks = 0, bads = 0;
                bool has_rise = jnum(c, "rise", &rise), has_fall = jnum(c, "fall", &fall);

                jnum(c, "ok_streak", &oks);
                jnum(c, "bad_streak", &bads);
                if (strcmp(health, "down") == 0 && sev)
                        snprintf(hcol, sizeof(hcol), "%s", strcmp(sev, "degraded") == 0 ? "DEGRADED" : "FAILED");
                else if (strcmp(health, "down") == 0)
                        snprintf(hcol, sizeof(hcol), "DOWN");
                else
                        snprintf(hcol, sizeof(hcol), "%s", health);
                /* A check on its way to the other state: say how far, it is why a change is (not) happening. */
                size_t hl = strlen(hcol);
                if (strcmp(health, "up") == 0 && bads > 0 && has_fall)
                        snprintf(hcol + hl, sizeof(hcol) - hl, " (%d/%d bad)", (int)bads, (int)fall);
                else if (strcmp(health, "down") == 0 && oks > 0 && has_rise)
                        snprintf(hcol + hl, sizeof(hcol) - hl, " (%d/%d ok)", (int)oks, (int)rise);
                if (jnum(c, "last_run_age", &v)) {
                        ctl_format_duration(v, tmp, sizeof(tmp));
                        snprintf(age, sizeof(age), "%s ago", tmp);
                } else {
                        snprintf(age, sizeof(age), "not run yet");
                }
                if (jnum(c, "duration", &v))
                        ctl_format_duration(v, dur, sizeof(dur));
                else
                        snprintf(dur, sizeof(dur), "-");
                const char *cells[TCOLS] = { or_q(jstr(c, "name")), hcol, jstr(c, "last_exit") ? jstr(c, "last_exit") : "-",
                                             age, dur, jstr(c, "message") ? jstr(c, "message") : "" };
                table_add(&t, cells);
        }
        table_print(&t, out);
        int oom = t.oom;
        table_free(&t);
        return oom || out->oom ? -ENOMEM : 0;
}

int ctl_format_checks(json_object *obj, struct buf *out)
{
        if (!obj || !json_object_is_type(obj, json_type_object))
                return -EINVAL;
        /* Check output and bgpd's words are anybody's bytes: never hand them to a terminal as they are. */
        json_object *safe = escaped_copy(jget(obj, "checks"));
        if (!safe && jget(obj, "checks"))
                return -ENOMEM;
        int r = format_checks(safe, out);
        json_object_put(safe);
        return r;
}

static void format_since(double since, double now, struct buf *out)
{
        char when[64], ago[32];
        struct tm tm;
        time_t t = (time_t)since;

        if (!localtime_r(&t, &tm))
                return;
        strftime(when, sizeof(when), now - since >= 86400 ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
        ctl_format_duration(now - since, ago, sizeof(ago));
        buf_printf(out, " since %s (%s ago)", when, ago);
}

static void format_headline(json_object *st, double now, struct buf *out)
{
        const char *state = jstr(st, "state");
        const char *community = jstr(st, "community");
        size_t n = jarray_len(jget(st, "shared_ips"));
        double pid = 0, since;
        char upper[32] = "?";

        if (state) {
                size_t i;
                for (i = 0; state[i] && i + 1 < sizeof(upper); i++)
                        upper[i] = (char)(state[i] >= 'a' && state[i] <= 'z' ? state[i] - 'a' + 'A' : state[i]);
                upper[i] = '\0';
        }
        buf_printf(out, "failoverd %s on %s", or_q(jstr(st, "version")), or_q(jstr(st, "hostname")));
        if (jnum(st, "pid", &pid))
                buf_printf(out, " (pid %d)", (int)pid);
        buf_printf(out, ": %s \xe2\x80\x94 ", upper);
        if (!state)
                buf_puts(out, "state unknown");
        else if (strcmp(state, "withdrawn") == 0)
                buf_puts(out, "not announcing");
        else {
                size_t sent = 0, not_sent = 0;
                for (size_t i = 0; i < n; i++) {
                        int an = jbool(json_object_array_get_idx(jget(st, "shared_ips"), i), "announced");
                        sent += an == 1;
                        not_sent += an == 0;
                }
                /* The headline claims only what bgpd really sends. */
                if (not_sent)
                        buf_printf(out, "announcing %zu of %zu prefix%s", sent, n, n == 1 ? "" : "es");
                else
                        buf_printf(out, "announcing %zu prefix%s", n, n == 1 ? "" : "es");
                if (strcmp(state, "demoted") == 0)
                        buf_printf(out, " demoted (%s%sAS path prepended)", community ? community : "",
                                   community ? ", " : "");
                else if (community)
                        buf_printf(out, " with %s", community);
        }
        if (jstr(st, "reason"))
                buf_printf(out, " (%s)", jstr(st, "reason"));
        if (jnum(st, "since", &since) && since > 0)
                format_since(since, now, out);
        buf_puts(out, "\n");

        buf_printf(out, "role %s, ", or_q(jstr(st, "role")));
        if (jbool(st, "drained") == 1)
                buf_printf(out, "DRAINED%s%s (failoverctl resume to undo)", jstr(st, "drain_reason") ? ": " : "",
                           jstr(st, "drain_reason") ? jstr(st, "drain_reason") : "");
        else
                buf_puts(out, "not drained");
        double tr;
        if (jnum(st, "transitions", &tr))
                buf_printf(out, ", %d state change%s since start", (int)tr, (int)tr == 1 ? "" : "s");
        buf_puts(out, "\n");
}

/* Every reason the host may not be doing what the headline says, one line each. */
static void format_warnings(json_object *st, struct buf *out)
{
        json_object *conf = jget(st, "config"), *bgpd = jget(st, "bgpd"), *ips = jget(st, "shared_ips");
        const char *state = jstr(st, "state");
        double schema = 0, est = -1, total = -1;

        if (jnum(st, "schema", &schema) && schema > CTL_STATUS_SCHEMA)
                buf_printf(out, "note: status schema %d is newer than this failoverctl knows (%d)\n", (int)schema,
                           CTL_STATUS_SCHEMA);
        if (jstr(conf, "reload_error"))
                buf_printf(out, "WARNING: reload of %s failed, running on the previous configuration: %s\n",
                           or_q(jstr(conf, "path")), jstr(conf, "reload_error"));
        if (jbool(bgpd, "reachable") == 0)
                buf_puts(out, "WARNING: bgpd unreachable, retrying: the announcement can be neither read nor changed\n");
        if (jbool(bgpd, "last_apply_ok") == 0)
                buf_printf(out, "WARNING: the last apply to FRR failed: %s\n", or_q(jstr(bgpd, "last_apply_error")));
        if (jnum(bgpd, "established", &est) && jnum(bgpd, "total", &total) && total > 0 && est == 0)
                buf_puts(out, "WARNING: no route-server session is established: nobody hears the announcement\n");
        for (size_t i = 0; i < jarray_len(ips); i++) {
                json_object *ip = json_object_array_get_idx(ips, i);
                if (jbool(ip, "assigned") == 0)
                        buf_printf(out, "WARNING: %s is not assigned to a local interface: FRR will not announce it\n",
                                   or_q(jstr(ip, "prefix")));
                else if ((state = ctl_prefix_state(st, ip)) && strcmp(state, "withdrawn") != 0 &&
                         jbool(ip, "announced") == 0 &&
                         jbool(bgpd, "reachable") != 0)
                        buf_printf(out, "WARNING: %s should be announced but bgpd does not announce it%s%s%s\n",
                                   or_q(jstr(ip, "prefix")), jstr(ip, "not_announced_why") ? " (" : "",
                                   jstr(ip, "not_announced_why") ? jstr(ip, "not_announced_why") : "",
                                   jstr(ip, "not_announced_why") ? ")" : "");
        }
}

static void format_route_servers(json_object *st, struct buf *out, struct table *t)
{
        json_object *rs = jget(st, "route_servers"), *bgpd = jget(st, "bgpd");
        size_t n = jarray_len(rs), up = 0;
        double est, total;

        for (size_t i = 0; i < n; i++)
                if (jbool(json_object_array_get_idx(rs, i), "up") == 1)
                        up++;
        if (jnum(bgpd, "established", &est) && jnum(bgpd, "total", &total))
                buf_printf(out, "route servers: %d/%d established\n", (int)est, (int)total);
        else
                buf_printf(out, "route servers: %zu/%zu established\n", up, n);
        for (size_t i = 0; i < n; i++) {
                json_object *r = json_object_array_get_idx(rs, i);
                char upcol[48] = "down", sent[32] = "", tmp[32];
                double v;
                if (jbool(r, "up") == 1) {
                        if (jnum(r, "uptime", &v)) {
                                ctl_format_duration(v, tmp, sizeof(tmp));
                                snprintf(upcol, sizeof(upcol), "up %s", tmp);
                        } else {
                                snprintf(upcol, sizeof(upcol), "up");
                        }
                }
                if (jnum(r, "prefixes_sent", &v))
                        snprintf(sent, sizeof(sent), "sent %d", (int)v);
                const char *reset = jbool(r, "up") != 1 ? jstr(r, "last_reset") : NULL;
                struct buf last;
                buf_init(&last);
                if (reset)
                        buf_printf(&last, "last reset: %s", reset);
                const char *cells[TCOLS] = { or_q(jstr(r, "address")), or_q(jstr(r, "state")), upcol, sent,
                                             last.data ? last.data : "" };
                table_add(t, cells);
                buf_free(&last);
        }
}

static void format_shared_ips(json_object *st, struct table *t)
{
        json_object *ips = jget(st, "shared_ips");

        for (size_t i = 0; i < jarray_len(ips); i++) {
                json_object *ip = json_object_array_get_idx(ips, i);
                int as = jbool(ip, "assigned"), an = jbool(ip, "announced"), cf = jbool(ip, "configured");
                char ann[192];
                const char *rm = jstr(ip, "route_map"), *why = jstr(ip, "not_announced_why");
                const char *a = jstr(ip, "announcement");
                /* "announced" only when bgpd sends it to a route server, never from the network statement alone. */
                if (an == 1 && rm)
                        snprintf(ann, sizeof(ann), "announced (%s)", rm);
                else if (an == 1)
                        snprintf(ann, sizeof(ann), "announced");
                else if ((a && strcmp(a, "configured") == 0) || (an == 0 && cf == 1))
                        snprintf(ann, sizeof(ann), "configured%s%s%s but NOT ANNOUNCED%s%s%s", rm ? " (" : "", rm ? rm : "",
                                 rm ? ")" : "", why ? " (" : "", why ? why : "", why ? ")" : "");
                else if (a && strcmp(a, "withdrawn") == 0)
                        snprintf(ann, sizeof(ann), "withdrawn");
                else
                        snprintf(ann, sizeof(ann), "%s", an == 0 ? "not announced" : "?");
                const char *cells[TCOLS] = { or_q(jstr(ip, "prefix")),
                                             as == 1 ? "assigned" : as == 0 ? "NOT ASSIGNED" : "?", ann };
                table_add(t, cells);
        }
}

static int format_status(json_object *st, double now, struct buf *out)
{
        struct table rs = {}, ips = {};
        json_object *bgpd = jget(st, "bgpd"), *conf = jget(st, "config");
        double ms;

        format_headline(st, now, out);
        format_warnings(st, out);
        int rs_r = ctl_format_services(st, now, out);

        format_route_servers(st, out, &rs);
        table_print(&rs, out);
        int r = format_checks(jget(st, "checks"), out);

        buf_puts(out, "shared addresses:\n");
        format_shared_ips(st, &ips);
        table_print(&ips, out);

        if (bgpd) {
                int reach = jbool(bgpd, "reachable"), ok = jbool(bgpd, "last_apply_ok");
                double slow;
                buf_printf(out, "bgpd: %s", reach == 0 ? "UNREACHABLE" : reach == 1 ? "reachable" : "?");
                if (jbool(bgpd, "busy") == 1)
                        buf_printf(out, ", BUSY (%s), retrying", or_q(jstr(bgpd, "busy_why")));
                if (jnum(bgpd, "slow_polls", &slow) && slow > 0)
                        buf_printf(out, ", %.0f slow poll%s", slow, slow == 1 ? "" : "s");
                if (ok >= 0)
                        buf_printf(out, ", last apply %s", ok ? "ok" : "FAILED");
                if (jnum(bgpd, "last_apply_ms", &ms)) {
                        char d[32];
                        ctl_format_duration(ms / 1000.0, d, sizeof(d));
                        buf_printf(out, " (%s)", d);
                }
                buf_puts(out, "\n");
        }
        if (conf)
                buf_printf(out, "config: %s%s\n", or_q(jstr(conf, "path")),
                           jstr(conf, "reload_error") ? " (last reload FAILED, see above)" : "");
        if (rs.oom || ips.oom || rs_r < 0)
                r = -ENOMEM;
        table_free(&rs);
        table_free(&ips);
        return r < 0 ? r : out->oom ? -ENOMEM : 0;
}

int ctl_format_status(json_object *st, double now, struct buf *out)
{
        if (!st || !json_object_is_type(st, json_type_object))
                return -EINVAL;
        json_object *safe = escaped_copy(st);
        if (!safe)
                return -ENOMEM;
        int r = format_status(safe, now, out);
        json_object_put(safe);
        return r;
}
