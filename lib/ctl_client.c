/* The blocking control-socket client: one request, one reply, within a deadline (failoverctl, tests). */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "ctl_client.h"

/* Waits for events on fd until the deadline; returns 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
        for (;;) {
                long long left = deadline - (long long)(clock_mono_usec() / 1000);
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
        long long deadline = (long long)(clock_mono_usec() / 1000) + timeout_ms;
        r = ctl_sockaddr(path, &sa);
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
                if (ctl_parse_request(copy, req.len, &c, &a, err, sizeof(err)) < 0) {
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

int ctl_stream(const char *path, const char *command, int timeout_ms, int (*line)(const char *text, void *userdata),
               void *userdata, json_object **reply)
{
        struct sockaddr_un sa;
        struct buf in;
        bool first = true;
        int fd, r;

        *reply = NULL;
        if (timeout_ms <= 0)
                timeout_ms = CTL_DEFAULT_TIMEOUT_MS;
        long long deadline = (long long)(clock_mono_usec() / 1000) + timeout_ms;
        r = ctl_sockaddr(path, &sa);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
        buf_init(&in);
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
            connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
                goto out;
        }
        buf_printf(&in, "%s\n", command);
        if (in.oom || send(fd, in.data, in.len, MSG_NOSIGNAL) != (ssize_t)in.len) {
                r = in.oom ? -ENOMEM : -errno;
                goto out;
        }
        buf_reset(&in);
        for (;;) {
                char *nl;
                while ((nl = in.data ? memchr(in.data, '\n', in.len) : NULL)) {
                        *nl = '\0';
                        if (first) {
                                /* {"ok":true,"stream":...}, or the daemon's refusal. */
                                json_object *o = json_tokener_parse(in.data), *ok;
                                first = false;
                                if (!o || !json_object_is_type(o, json_type_object)) {
                                        json_object_put(o);
                                        r = -EBADMSG;
                                        goto out;
                                }
                                if (json_object_object_get_ex(o, "ok", &ok) && !json_object_get_boolean(ok)) {
                                        json_object *code;
                                        *reply = o;
                                        r = json_object_object_get_ex(o, "code", &code) &&
                                            strcmp(json_object_get_string(code), "denied") == 0 ? -EACCES : 0;
                                        goto out;
                                }
                                json_object_put(o);
                        }
                        if ((r = line(in.data, userdata)) != 0)
                                goto out;
                        size_t used = (size_t)(nl - in.data) + 1;
                        memmove(in.data, nl + 1, in.len - used);
                        in.len -= used;
                }
                if (first) {
                        struct pollfd p = { .fd = fd, .events = POLLIN };
                        long long left = deadline - (long long)(clock_mono_usec() / 1000);
                        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
                                r = -ETIMEDOUT;
                                goto out;
                        }
                }
                char chunk[4096];
                ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n == 0 ? (first ? -EBADMSG : 0) : -errno;
                        goto out;
                }
                if (in.len + (size_t)n > CTL_REPLY_MAX) {
                        r = -EBADMSG;
                        goto out;
                }
                buf_append(&in, chunk, (size_t)n);
        }
out:
        close(fd);
        buf_free(&in);
        return r;
}
