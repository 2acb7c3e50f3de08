/* Atomic file replacement and whole-file reads, relative to directory descriptors that no symlink redirects. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "path.h"

#define MAX_LINKS 16    /* symlinks followed while opening one directory, as the kernel's MAXSYMLINKS */

static int read_fd(int fd, size_t max, char **ret, size_t *len)
{
        struct buf b;
        char chunk[8192];
        ssize_t n;

        buf_init(&b);
        while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int e = errno;
                        buf_free(&b);
                        return -e;
                }
                if (b.len + (size_t)n > max) {
                        buf_free(&b);
                        return -EFBIG;
                }
                if (buf_append(&b, chunk, (size_t)n) < 0) {
                        buf_free(&b);
                        return -ENOMEM;
                }
        }
        if (len)
                *len = b.len;
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

static int read_regular(int dfd, const char *name, int flags, size_t max, char **ret, size_t *len)
{
        struct stat st;

        *ret = NULL;
        /* O_NONBLOCK: a FIFO planted under the name (bgpd.pid lives in frr's /run/frr) must not hang the loop. */
        int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags);
        if (fd < 0)
                return -errno;
        int r = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
        if (r == 0)
                r = read_fd(fd, max, ret, len);
        close(fd);
        return r;
}

int file_read(const char *path, size_t max, char **ret, size_t *len)
{
        return read_regular(AT_FDCWD, path, 0, max, ret, len);
}

int file_read_at(int dfd, const char *name, size_t max, char **ret, size_t *len)
{
        return read_regular(dfd, name, O_NOFOLLOW, max, ret, len);
}

/* Nobody but root can add or replace an entry of the directory fd: a symlink found there is root's. */
static bool dir_trusted(int fd)
{
        struct stat st;
        return fstat(fd, &st) == 0 && st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* Walks path from fd (which it consumes) one component at a time; *links counts symlinks followed. */
static int walk(int fd, const char *path, int *links)
{
        char *copy = strdup(path), *save = NULL;
        if (!copy) {
                close(fd);
                return -ENOMEM;
        }
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                struct stat st;
                int next;

                if (fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        next = -errno;
                } else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(fd, c, target, sizeof(target) - 1);
                        if (!dir_trusted(fd) || ++*links > MAX_LINKS)
                                next = -ELOOP;
                        else if (n < 0)
                                next = -errno;
                        else {
                                target[n] = '\0';
                                int from = target[0] == '/' ? open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC) :
                                                              openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                                next = from < 0 ? -errno : walk(from, target, links);
                        }
                } else {
                        next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (next < 0)
                                next = -errno;
                }
                close(fd);
                if (next < 0) {
                        free(copy);
                        return next;
                }
                fd = next;
        }
        free(copy);
        return fd;
}

int file_open_dir(const char *path)
{
        int links = 0;
        if (!path || !*path)
                return -EINVAL;
        int fd = path[0] == '/' ? open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC) :
                                  open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return walk(fd, path, &links);
}

int file_mkdir_p(const char *path, mode_t mode)
{
        char tmp[4096];
        int n = snprintf(tmp, sizeof(tmp), "%s", path);

        if (n < 0 || (size_t)n >= sizeof(tmp))
                return -ENAMETOOLONG;
        for (char *p = tmp + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int file_split(const char *path, char **dir, const char **base)
{
        *base = path_base(path);
        if (!**base || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0)
                return -EINVAL;
        *dir = path_dir(path);
        return *dir ? 0 : -ENOMEM;
}

static const char tmp_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

bool file_is_temp_name(const char *name, const char *base)
{
        size_t bl = strlen(base), il = strlen(FILE_TEMP_INFIX);
        if (name[0] != '.' || strncmp(name + 1, base, bl) != 0 || strncmp(name + 1 + bl, FILE_TEMP_INFIX, il) != 0)
                return false;
        const char *x = name + 1 + bl + il;
        return strlen(x) == 6 && strspn(x, tmp_chars) == 6;
}

/* A new file .BASE.failoverd-XXXXXX in dfd, opened for writing; never an existing name or a link. */
static int create_temp(int dfd, const char *base, char *tmp, size_t tmplen)
{
        for (int attempt = 0; attempt < 100; attempt++) {
                unsigned char rnd[6];
                char x[7];
                if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                        return -errno ? -errno : -EIO;
                for (size_t i = 0; i < 6; i++)
                        x[i] = tmp_chars[rnd[i] % (sizeof(tmp_chars) - 1)];
                x[6] = '\0';
                if ((size_t)snprintf(tmp, tmplen, ".%s%s%s", base, FILE_TEMP_INFIX, x) >= tmplen)
                        return -ENAMETOOLONG;
                int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd >= 0 || errno != EEXIST)
                        return fd >= 0 ? fd : -errno;
        }
        return -EEXIST;
}

static bool same_content(int dfd, const char *name, const char *data, size_t len)
{
        char *old = NULL;
        size_t olen = 0;
        if (file_read_at(dfd, name, len + 1, &old, &olen) < 0)
                return false;
        bool same = olen == len && memcmp(old, data, len) == 0;
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

int file_write_atomic_at(int dfd, const char *name, const char *data, size_t len, mode_t mode, unsigned flags,
                         bool *changed)
{
        char tmp[NAME_MAX + 1];
        struct stat old;
        int r, fd;

        if (changed)
                *changed = false;
        if (!name[0] || strchr(name, '/'))
                return -EINVAL;
        bool have_old = fstatat(dfd, name, &old, AT_SYMLINK_NOFOLLOW) == 0;
        if (have_old && S_ISLNK(old.st_mode))
                return -ELOOP;          /* never write through, nor replace, a link someone put there */
        if (have_old && S_ISDIR(old.st_mode))
                return -EISDIR;
        if (have_old && S_ISREG(old.st_mode) && same_content(dfd, name, data, len))
                return 0;

        fd = create_temp(dfd, name, tmp, sizeof(tmp));
        if (fd < 0)
                return fd;
        r = write_all(fd, data, len);
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        /* Keep the owner and group of the regular file we replace (frr.conf is frr:frr on Debian). */
        if (r == 0 && have_old && S_ISREG(old.st_mode) && fchown(fd, old.st_uid, old.st_gid) < 0 && errno != EPERM)
                r = -errno;
        if (r == 0 && (flags & FILE_DURABLE) && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && renameat(dfd, tmp, dfd, name) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(dfd, tmp, 0);
                return r;
        }
        if ((flags & FILE_DURABLE) && fsync(dfd) < 0)
                r = -errno;
        if (changed)
                *changed = true;
        return r;
}

/* Opens path's directory with file_open_dir(); *base points into path. Returns the descriptor or -errno. */
static int open_parent(const char *path, const char **base)
{
        char *dir = NULL;

        int r = file_split(path, &dir, base);
        if (r < 0)
                return r;
        r = file_open_dir(dir);
        free(dir);
        return r;
}

int file_write_atomic(const char *path, const char *data, size_t len, mode_t mode, unsigned flags, bool *changed)
{
        const char *base;

        if (changed)
                *changed = false;
        int dfd = open_parent(path, &base);
        if (dfd < 0)
                return dfd;
        int r = file_write_atomic_at(dfd, base, data, len, mode, flags, changed);
        close(dfd);
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
        const char *base;
        int r = 0;

        int dfd = open_parent(path, &base);
        if (dfd < 0)
                return dfd;
        if (unlinkat(dfd, base, 0) < 0)
                r = errno == ENOENT ? 0 : -errno;
        else
                *changed = true;
        if (r == 0 && *changed && (flags & FILE_DURABLE) && fsync(dfd) < 0)
                r = -errno;
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

/* Starts fn(arg) on a detached thread that takes no signal (they belong to the loop's signalfd). */
int file_thread_detached(void *(*fn)(void *), void *arg)
{
        pthread_attr_t attr;
        sigset_t all, old;
        pthread_t th;

        sigfillset(&all);
        int r = -pthread_attr_init(&attr);
        if (r < 0)
                return r;
        (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        (void)pthread_sigmask(SIG_SETMASK, &all, &old);
        r = -pthread_create(&th, &attr, fn, arg);
        (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        return r;
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

        atomic_fetch_add(&j->refs, 1);
        r = file_thread_detached(job_thread, j);
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

/* path itself (a file) and each directory above it, following symlinks in each prefix. */
static int chain_secure(const char *path, char *why, size_t whylen)
{
        size_t len = strlen(path);
        char *p = strdup(path);
        if (!p) {
                snprintf(why, whylen, "insecure: out of memory");
                return -ENOMEM;
        }
        while (len > 1 && p[len - 1] == '/')
                p[--len] = '\0';

        int r = 0;
        for (bool first = true;; first = false) {
                struct stat st;
                if (stat(p, &st) < 0) {
                        r = -errno;
                        snprintf(why, whylen, "insecure: cannot stat %s: %s", p, strerror(errno));
                        break;
                }
                if (st.st_uid != 0) {
                        snprintf(why, whylen, "insecure: %s is not owned by root (uid %u)", p,
                                 (unsigned)st.st_uid);
                        r = -EPERM;
                        break;
                }
                bool sticky_dir = !first && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
                if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir) {
                        snprintf(why, whylen, "insecure: %s is writable by %s", p,
                                 (st.st_mode & S_IWGRP) ? "group" : "others");
                        r = -EPERM;
                        break;
                }
                char *slash = strrchr(p, '/');
                if (!slash || strcmp(p, "/") == 0)
                        break;
                if (slash == p)
                        slash[1] = '\0';
                else
                        *slash = '\0';
        }
        free(p);
        return r;
}

int file_root_only(const char *path, char *why, size_t whylen)
{
        char dummy[1];
        if (!why || whylen == 0) {
                why = dummy;
                whylen = sizeof(dummy);
        }
        why[0] = '\0';
        if (!path || path[0] != '/') {
                snprintf(why, whylen, "insecure: %s is not an absolute path", path ? path : "(null)");
                return -EPERM;
        }
        int r = chain_secure(path, why, whylen);
        if (r < 0)
                return r;
        /* A symlink: its target and the directories above the target must pass too. */
        char *real = realpath(path, NULL);
        if (!real) {
                r = -errno;
                snprintf(why, whylen, "insecure: cannot resolve %s: %s", path, strerror(errno));
                return r;
        }
        if (strcmp(real, path) != 0)
                r = chain_secure(real, why, whylen);
        free(real);
        return r;
}
