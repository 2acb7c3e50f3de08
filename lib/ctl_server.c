/* The control-socket server: one request line in, one JSON object out, on the daemon's sd-event loop. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_json.h"
#include "ctl_server.h"
#include "path.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

#define DRAIN_MAX (64 * 1024)   /* unread input discarded before close, so the peer sees EOF, not a reset */

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
        bool stream;            /* "events": stays open; what is queued in sq goes out as the socket takes it */
        struct buf sq;
        size_t sq_off;
        uint64_t lost;          /* lines dropped since the last {"lost":N} */
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
        size_t n_streams;
        const struct ucred *current_peer;
};

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
        s->n_streams -= c->stream;
        c->io = sd_event_source_disable_unref(c->io);
        c->timer = sd_event_source_disable_unref(c->timer);
        buf_free(&c->sq);
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

        /* ping is the transport's own liveness answer; every other command is the daemon's. */
        if (strcmp(command, "ping") == 0) {
                reply = json_object_new_object();
                if (!reply)
                        return -ENOMEM;
                json_object_object_add(reply, "ok", json_object_new_boolean(1));
                json_object_object_add(reply, "pong", json_object_new_boolean(1));
                json_object_object_add(reply, "pid", json_object_new_int((int)getpid()));
                json_object_object_add(reply, "version", json_object_new_string(VERSION));
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

/* Writes what the socket takes of a stream's queue; returns 0, or <0 when the reader is gone. Waits for
 * EPOLLOUT only while something is left. */
static int stream_flush(struct ctl_conn *c)
{
        while (c->sq_off < c->sq.len) {
                ssize_t n = send(c->fd, c->sq.data + c->sq_off, c->sq.len - c->sq_off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno != EAGAIN)
                        return -errno;
                if (n < 0)
                        break;
                c->sq_off += (size_t)n;
        }
        if (c->sq_off == c->sq.len) {
                buf_reset(&c->sq);
                c->sq_off = 0;
        } else if (c->sq_off > c->sq.len / 2) {
                memmove(c->sq.data, c->sq.data + c->sq_off, c->sq.len - c->sq_off);
                c->sq.len -= c->sq_off;
                c->sq_off = 0;
        }
        return sd_event_source_set_io_events(c->io, EPOLLIN | (c->sq.len ? EPOLLOUT : 0));
}

/* Queues one line for a stream, or counts it lost when the reader is CTL_STREAM_MAX behind. */
static void stream_queue(struct ctl_conn *c, const char *line, size_t len)
{
        char lost[48];
        int n = c->lost ? snprintf(lost, sizeof(lost), "{\"lost\":%llu}\n", (unsigned long long)c->lost) : 0;

        if (c->sq.len - c->sq_off + (size_t)n + len + 1 > CTL_STREAM_MAX) {
                c->lost++;
                return;
        }
        buf_append(&c->sq, lost, (size_t)n);
        buf_append(&c->sq, line, len);
        buf_puts(&c->sq, "\n");
        c->lost = 0;
}

/* An "events" request: no reply but a first line, then the stream; no deadline any more. */
static void conn_stream(struct ctl_conn *c, const char *command)
{
        c->stream = true;
        c->server->n_streams++;
        c->timer = sd_event_source_disable_unref(c->timer);
        buf_printf(&c->sq, "{\"ok\":true,\"stream\":\"%s\"}\n", command);
        if (c->sq.oom || stream_flush(c) < 0)
                conn_free(c);
}

static void conn_process(struct ctl_conn *c, size_t line_len)
{
        char line[CTL_REQUEST_MAX + 1];
        char err[256];
        const char *command, *arg;

        memcpy(line, c->in, line_len);
        line[line_len] = '\0';
        if (ctl_parse_request(line, line_len, &command, &arg, err, sizeof(err)) < 0)
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
        } else if (ctl_command_streams(command)) {
                conn_stream(c, command);
                return;
        } else if (conn_answer(c, command, arg) < 0 && !c->out)
                conn_set_error(c, "failed", strerror(ENOMEM));
        conn_reply(c);
}

static int on_conn_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct ctl_conn *c = userdata;
        (void)src;

        if (c->stream) {
                /* The reader sends nothing more: input is read and dropped, EOF or an error ends it. */
                char junk[256];
                ssize_t n = 1;
                if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                        while ((n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
                                ;
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || stream_flush(c) < 0)
                        conn_free(c);
                return 0;
        }
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
        /* Readers share what admins leave free and each uid gets a few: a reader reconnecting as slots free
         * up never keeps root's drain, resume or reload out. */
        size_t readers = 0, same_uid = 0;
        for (const struct ctl_conn *o = s->conns; o; o = o->next)
                if (o->access != ACCESS_ADMIN) {
                        readers++;
                        same_uid += o->peer.uid == cred.uid;
                }
        if (s->n_conns >= CTL_MAX_CONNECTIONS) {
                refuse_fd(fd, "busy", "too many control connections, try again");
                return;
        }
        if (access != ACCESS_ADMIN && same_uid >= CTL_MAX_PER_READER) {
                char err[128];
                snprintf(err, sizeof(err), "too many control connections from uid %u (at most %d at once), try again",
                         (unsigned)cred.uid, CTL_MAX_PER_READER);
                refuse_fd(fd, "busy", err);
                return;
        }
        if (access != ACCESS_ADMIN && readers >= CTL_MAX_CONNECTIONS - CTL_ADMIN_RESERVED) {
                refuse_fd(fd, "busy", "too many control connections from readers, try again");
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

int ctl_server_new(sd_event *e, const char *path, ctl_handler_fn handler, void *userdata,
                   struct ctl_server **ret)
{
        struct sockaddr_un sa;
        struct stat st;
        int r;

        *ret = NULL;
        r = ctl_sockaddr(path, &sa);
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
        const char *slash = strrchr(s->path, '/');
        char *dir = path_dir(s->path);
        int r = 0;
        if (!dir)
                return -ENOMEM;
        if (slash && slash != s->path) {
                /* Searchable by everyone (not listable): the socket is all there is to reach in it. */
                if (stat(dir, &st) == 0 && !(st.st_mode & S_IXOTH) && chmod(dir, (st.st_mode & 07777) | S_IXOTH) < 0)
                        r = -errno;
        }
        free(dir);
        return r;
}

const struct ucred *ctl_server_peer(const struct ctl_server *s)
{
        return s ? s->current_peer : NULL;
}

size_t ctl_server_connections(const struct ctl_server *s)
{
        return s ? s->n_conns : 0;
}

size_t ctl_server_streams(const struct ctl_server *s)
{
        return s ? s->n_streams : 0;
}

void ctl_server_publish(struct ctl_server *s, const char *line)
{
        size_t len = strlen(line);

        if (!s || s->n_streams == 0)
                return;
        for (struct ctl_conn *c = s->conns, *next; c; c = next) {
                next = c->next;
                if (!c->stream)
                        continue;
                stream_queue(c, line, len);
                if (c->sq.oom || stream_flush(c) < 0)
                        conn_free(c);
        }
}
