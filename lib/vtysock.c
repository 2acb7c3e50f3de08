/* bgpd's vty Unix socket, read directly on sd-event (no vtysh child). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "vtysock.h"

#define MAX_CMDS 256
#define REPLY_MAX (8 * 1024 * 1024)

struct vtysock {
        sd_event_source *io;
        sd_event_source *timer;
        sd_event_source *defer;
        int fd;
        char **cmds;
        size_t n_cmds;
        size_t cur;             /* command being answered */
        size_t sent;            /* bytes of the current command sent */
        struct buf *reply;
        int *status;
        uint64_t *answered;     /* CLOCK_MONOTONIC usec each reply's end marker came in; 0: not answered */
        unsigned flags;
        char **outs;
        int error;
        int overflow;           /* a reply passed REPLY_MAX: the rest is read and dropped up to its end */
        char tail[4];           /* the last bytes of an overflowed reply, to find its end marker */
        size_t n_tail;
        vtysock_done_fn done;
        void *userdata;
};

static const char *run_dir = "/var/run/frr";

void vtysock_set_run_dir(const char *dir)
{
        run_dir = dir ? dir : "/var/run/frr";
}

static int run_path(const char *pathspace, const char *daemon, const char *ext, char *out, size_t len)
{
        int n = pathspace && *pathspace ? snprintf(out, len, "%s/%s/%s.%s", run_dir, pathspace, daemon, ext)
                                        : snprintf(out, len, "%s/%s.%s", run_dir, daemon, ext);
        return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int vtysock_path(const char *pathspace, const char *daemon, char *out, size_t len)
{
        return run_path(pathspace, daemon, "vty", out, len);
}

int vtysock_pid_path(const char *pathspace, const char *daemon, char *out, size_t len)
{
        return run_path(pathspace, daemon, "pid", out, len);
}

static void complete(struct vtysock *q, int error)
{
        for (size_t i = q->cur; i < q->n_cmds; i++)
                q->status[i] = -1;      /* never answered */
        for (size_t i = 0; i < q->n_cmds; i++) {
                if (!q->reply[i].data)
                        buf_puts(&q->reply[i], "");
                q->outs[i] = q->reply[i].data ? q->reply[i].data : (char *)"";
        }
        q->io = sd_event_source_disable_unref(q->io);
        q->timer = sd_event_source_disable_unref(q->timer);
        q->done(q, error, q->outs, q->status, q->userdata);
        vtysock_free(q);
}

/* An overflowed reply is still read to its end marker: bgpd (FRR 10.2-10.3.1 streams long output in
 * chunks) can crash when the client closes the socket in the middle of a reply (FRR commit 1c50a1ec78). */
static int drop_to_marker(struct vtysock *q, const char *data, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (q->n_tail == 4)
                        memmove(q->tail, q->tail + 1, --q->n_tail);
                q->tail[q->n_tail++] = data[i];
                if (q->n_tail == 4 && !q->tail[0] && !q->tail[1] && !q->tail[2])
                        return i + 1 == n ? 1 : -EBADMSG;       /* nothing may follow before the next command */
        }
        return 0;
}

/* Scans the current reply for the end marker; moves to the next command when found. */
static int consume(struct vtysock *q)
{
        struct buf *b = &q->reply[q->cur];
        if (b->len < 4 || b->data[b->len - 4] != '\0' || b->data[b->len - 3] != '\0' || b->data[b->len - 2] != '\0')
                return 0;
        q->status[q->cur] = (unsigned char)b->data[b->len - 1];
        q->answered[q->cur] = clock_mono_usec();
        b->len -= 4;
        b->data[b->len] = '\0';
        q->cur++;
        q->sent = 0;
        return 1;
}

/* Sends what is left of the current command. Returns 1 when all of it is out (then only replies are
 * awaited), 0 when the socket is full (EPOLLOUT is awaited too), or -errno. */
static int send_current(struct vtysock *q)
{
        const char *c = q->cmds[q->cur];
        size_t len = strlen(c) + 1;     /* the NUL ends the command */

        while (q->sent < len) {
                ssize_t n = send(q->fd, c + q->sent, len - q->sent, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n < 0)
                        return -errno;
                q->sent += (size_t)n;
        }
        int r = sd_event_source_set_io_events(q->io, q->sent == len ? EPOLLIN : EPOLLOUT | EPOLLIN);
        return r < 0 ? r : q->sent == len;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct vtysock *q = userdata;
        int r;
        (void)s;

        if (revents & EPOLLOUT && q->cur < q->n_cmds && (r = send_current(q)) < 0) {
                complete(q, r);
                return 0;
        }
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                char chunk[16384];
                for (;;) {
                        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0 && errno == EAGAIN)
                                break;
                        if (n <= 0) {
                                complete(q, n == 0 ? -ECONNRESET : -errno);
                                return 0;
                        }
                        /* A reply never spans two commands: FRR answers one before reading the next. */
                        struct buf *b = &q->reply[q->cur];
                        if (q->overflow || b->len + (size_t)n > REPLY_MAX) {
                                if (!q->overflow) {
                                        q->overflow = -EFBIG;
                                        drop_to_marker(q, b->data, b->len);
                                }
                                int end = drop_to_marker(q, chunk, (size_t)n);
                                if (end != 0) {
                                        complete(q, end < 0 ? end : q->overflow);
                                        return 0;
                                }
                                continue;
                        }
                        if (buf_append(b, chunk, (size_t)n) < 0) {
                                complete(q, -ENOMEM);
                                return 0;
                        }
                        if (consume(q)) {
                                if (q->cur == q->n_cmds ||
                                    (q->flags & VTYSOCK_STOP_ON_ERROR && q->status[q->cur - 1] != 0)) {
                                        complete(q, 0);
                                        return 0;
                                }
                                /* The next command at once: the socket is writable unless bgpd stopped
                                 * reading, and a wait for EPOLLOUT would cost a wake-up per command. */
                                if ((r = send_current(q)) < 0) {
                                        complete(q, r);
                                        return 0;
                                }
                        }
                }
        }
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void)s;
        (void)usec;
        complete(userdata, -ETIMEDOUT);
        return 0;
}

static int on_defer(sd_event_source *s, void *userdata)
{
        struct vtysock *q = userdata;
        (void)s;
        q->defer = sd_event_source_disable_unref(q->defer);
        complete(q, q->error);
        return 0;
}

int vtysock_query(sd_event *e, const char *path, char *const *cmds, uint64_t timeout_usec, vtysock_done_fn done,
                  void *userdata, struct vtysock **ret)
{
        return vtysock_query_flags(e, path, cmds, timeout_usec, 0, done, userdata, ret);
}

uint64_t vtysock_answered_usec(const struct vtysock *q, size_t i)
{
        return q && i < q->n_cmds ? q->answered[i] : 0;
}

int vtysock_query_flags(sd_event *e, const char *path, char *const *cmds, uint64_t timeout_usec, unsigned flags,
                        vtysock_done_fn done, void *userdata, struct vtysock **ret)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct vtysock *q;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->fd = -1;
        q->flags = flags;
        q->done = done;
        q->userdata = userdata;
        size_t n = 0;
        while (cmds[n])
                n++;
        if (n > MAX_CMDS) {
                free(q);
                return -E2BIG;
        }
        q->cmds = calloc(n + 1, sizeof(*q->cmds));
        q->reply = calloc(n + 1, sizeof(*q->reply));
        q->status = calloc(n + 1, sizeof(*q->status));
        q->outs = calloc(n + 1, sizeof(*q->outs));
        q->answered = calloc(n + 1, sizeof(*q->answered));
        if (!q->cmds || !q->reply || !q->status || !q->outs || !q->answered) {
                vtysock_free(q);
                return -ENOMEM;
        }
        for (; q->n_cmds < n; q->n_cmds++) {
                buf_init(&q->reply[q->n_cmds]);
                if (!(q->cmds[q->n_cmds] = strdup(cmds[q->n_cmds]))) {
                        q->n_cmds++;
                        vtysock_free(q);
                        return -ENOMEM;
                }
        }
        memcpy(sa.sun_path, path, strlen(path));
        q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (q->fd < 0) {
                r = -errno;
                vtysock_free(q);
                return r;
        }
        if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
                /* Not an error of the call: reported through done, like every other answer. */
                q->error = -errno;
                r = sd_event_add_defer(e, &q->defer, on_defer, q);
        } else {
                r = sd_event_add_io(e, &q->io, q->fd, EPOLLOUT | EPOLLIN, on_io, q);
                if (r >= 0)
                        r = sd_event_add_time_relative(e, &q->timer, CLOCK_MONOTONIC, timeout_usec, 1000,
                                                       on_timeout, q);
        }
        if (r < 0) {
                vtysock_free(q);
                return r;
        }
        if (ret)
                *ret = q;
        return 0;
}

struct vtysock *vtysock_free(struct vtysock *q)
{
        if (!q)
                return NULL;
        q->io = sd_event_source_disable_unref(q->io);
        q->timer = sd_event_source_disable_unref(q->timer);
        q->defer = sd_event_source_disable_unref(q->defer);
        if (q->fd >= 0)
                close(q->fd);
        for (size_t i = 0; i < q->n_cmds; i++) {
                free(q->cmds[i]);
                buf_free(&q->reply[i]);
        }
        free(q->cmds);
        free(q->reply);
        free(q->status);
        free(q->outs);
        free(q->answered);
        free(q);
        return NULL;
}
