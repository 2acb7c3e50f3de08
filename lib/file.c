/* Atomic file replacement and whole-file reads. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"

int file_read(const char *path, size_t max, char **ret, size_t *len)
{
        struct buf b;
        char chunk[8192];
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        *ret = NULL;
        if (fd < 0)
                return -errno;
        buf_init(&b);
        while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int e = errno;
                        close(fd);
                        buf_free(&b);
                        return -e;
                }
                if (b.len + (size_t)n > max) {
                        close(fd);
                        buf_free(&b);
                        return -EFBIG;
                }
                if (buf_append(&b, chunk, (size_t)n) < 0) {
                        close(fd);
                        buf_free(&b);
                        return -ENOMEM;
                }
        }
        close(fd);
        if (len)
                *len = b.len;
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

static int same_content(const char *path, const char *data, size_t len)
{
        char *old = NULL;
        size_t olen = 0;
        if (file_read(path, len + 1, &old, &olen) < 0)
                return 0;
        int same = olen == len && memcmp(old, data, len) == 0;
        free(old);
        return same;
}

static int write_all(int fd, const char *data, size_t len)
{
        while (len) {
                ssize_t n = write(fd, data, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                data += n;
                len -= (size_t)n;
        }
        return 0;
}

int file_write_atomic(const char *path, const char *data, size_t len, mode_t mode, unsigned flags, bool *changed)
{
        char dirbuf[4096], basebuf[4096], tmp[8300];
        struct stat old;
        int r, fd, dfd;

        if (changed)
                *changed = false;
        if (same_content(path, data, len))
                return 0;
        if (strlen(path) >= sizeof(dirbuf))
                return -ENAMETOOLONG;
        /* dirname() and basename() may modify their argument: each gets its own copy. */
        snprintf(dirbuf, sizeof(dirbuf), "%s", path);
        snprintf(basebuf, sizeof(basebuf), "%s", path);
        const char *dir = dirname(dirbuf);
        snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, basename(basebuf));

        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        bool have_old = stat(path, &old) == 0;
        r = write_all(fd, data, len);
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        /* Keep the owner and group of the file we replace (frr.conf is frr:frr on Debian). */
        if (r == 0 && have_old && fchown(fd, old.st_uid, old.st_gid) < 0 && errno != EPERM)
                r = -errno;
        if (r == 0 && (flags & FILE_DURABLE) && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        dfd = flags & FILE_DURABLE ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        if (dfd >= 0) {
                if (fsync(dfd) < 0)
                        r = -errno;
                close(dfd);
        }
        if (changed)
                *changed = true;
        return r;
}

/* One write on its own thread, reported to the loop through an eventfd. Two references: the loop's (until
 * done or cancel) and the thread's (until it has written the eventfd). */
struct file_job {
        atomic_int refs;
        int efd;
        sd_event_source *src;
        char *path;
        char *data;                     /* NULL: remove path */
        size_t len;
        mode_t mode;
        unsigned flags;
        int error;                      /* written by the thread before the eventfd */
        bool changed;
        bool in_done;
        file_done_fn done;
        void *userdata;
};

static void job_unref(struct file_job *j)
{
        if (atomic_fetch_sub(&j->refs, 1) != 1)
                return;
        sd_event_source_disable_unref(j->src);
        if (j->efd >= 0)
                close(j->efd);
        free(j->path);
        free(j->data);
        free(j);
}

static int remove_durable(const char *path, unsigned flags, bool *changed)
{
        char dirbuf[4096];

        if (unlink(path) < 0)
                return errno == ENOENT ? 0 : -errno;
        *changed = true;
        if (!(flags & FILE_DURABLE))
                return 0;
        if (strlen(path) >= sizeof(dirbuf))
                return -ENAMETOOLONG;
        snprintf(dirbuf, sizeof(dirbuf), "%s", path);
        int dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        int r = fsync(dfd) < 0 ? -errno : 0;
        close(dfd);
        return r;
}

static void *job_thread(void *arg)
{
        struct file_job *j = arg;
        bool changed = false;
        int r;

        if (j->data)
                r = file_write_atomic(j->path, j->data, j->len, j->mode, j->flags, &changed);
        else
                r = remove_durable(j->path, j->flags, &changed);
        j->error = r;
        j->changed = changed;
        uint64_t one = 1;
        /* The eventfd write orders the result before the loop's read; a full counter cannot happen. */
        (void)!write(j->efd, &one, sizeof(one));
        job_unref(j);
        return NULL;
}

static int on_job_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct file_job *j = userdata;
        uint64_t n;
        (void)s;
        (void)revents;

        if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
                return 0;
        j->src = sd_event_source_disable_unref(j->src);
        j->in_done = true;
        j->done(j, j->error, j->changed, j->userdata);
        job_unref(j);
        return 0;
}

static int job_start(sd_event *e, const char *path, const char *data, size_t len, mode_t mode, unsigned flags,
                     file_done_fn done, void *userdata, struct file_job **ret)
{
        if (!e || !path || !done || !ret)
                return -EINVAL;
        struct file_job *j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        atomic_init(&j->refs, 1);
        j->efd = -1;
        j->len = len;
        j->mode = mode;
        j->flags = flags;
        j->done = done;
        j->userdata = userdata;
        j->path = strdup(path);
        if (data) {
                j->data = malloc(len + 1);
                if (j->data)
                        memcpy(j->data, data, len);
        }
        int r = !j->path || (data && !j->data) ? -ENOMEM : 0;
        if (r == 0 && (j->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
                r = -errno;
        if (r == 0)
                r = sd_event_add_io(e, &j->src, j->efd, EPOLLIN, on_job_done, j);
        if (r < 0) {
                job_unref(j);
                return r;
        }

        /* The thread takes no signal: they belong to the loop's signalfd. */
        pthread_attr_t attr;
        sigset_t all, old;
        pthread_t th;
        sigfillset(&all);
        atomic_fetch_add(&j->refs, 1);
        r = -pthread_attr_init(&attr);
        if (r == 0) {
                (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                (void)pthread_sigmask(SIG_SETMASK, &all, &old);
                r = -pthread_create(&th, &attr, job_thread, j);
                (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
                pthread_attr_destroy(&attr);
        }
        if (r < 0) {
                atomic_fetch_sub(&j->refs, 1);
                job_unref(j);
                return r;
        }
        *ret = j;
        return 0;
}

int file_write_async(sd_event *e, const char *path, const char *data, size_t len, mode_t mode, unsigned flags,
                     file_done_fn done, void *userdata, struct file_job **ret)
{
        if (!data)
                return -EINVAL;
        return job_start(e, path, data, len, mode, flags, done, userdata, ret);
}

int file_remove_async(sd_event *e, const char *path, unsigned flags, file_done_fn done, void *userdata,
                      struct file_job **ret)
{
        return job_start(e, path, NULL, 0, 0, flags, done, userdata, ret);
}

struct file_job *file_job_cancel(struct file_job *j)
{
        if (!j || j->in_done)
                return NULL;
        j->src = sd_event_source_disable_unref(j->src);
        job_unref(j);
        return NULL;
}

bool file_job_finish(struct file_job *j, int timeout_ms)
{
        struct pollfd pfd = { .events = POLLIN };

        if (!j || j->in_done)
                return false;
        pfd.fd = j->efd;
        if (poll(&pfd, 1, timeout_ms) > 0) {
                (void)on_job_done(j->src, j->efd, EPOLLIN, j);
                return true;
        }
        (void)file_job_cancel(j);
        return false;
}
