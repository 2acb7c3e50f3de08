/* The file check (keepalived's track_file): the number in a file is the exit code, read again on change.
 * inotify on the file's directory says when; the read (and adding the watch, a path lookup) runs on a thread
 * of its own, so the loop never waits on the disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_native_kind.h"
#include "file.h"

#define CONTENT_MAX 64
#define DIR_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY | \
                  IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct read_job {
        atomic_int refs;
        int efd;
        int ifd;                        /* a dup of the watch's inotify descriptor, or -1: no watch to add */
        char *dir;
        char *path;
        int wd;                         /* the thread's results, ordered by the eventfd */
        int watch_errno;
        int read_errno;
        char content[CONTENT_MAX + 1];
        size_t len;
};

struct filew {
        int ifd;
        sd_event_source *inotify;
        int wd;                         /* -1: no watch on the directory yet */
        char *dir;
        const char *base;               /* in conf->path */
        struct read_job *job;           /* in flight */
        sd_event_source *job_src;
        bool again;                     /* changed while the read ran */
};

static void job_unref(struct read_job *j)
{
        if (!j || atomic_fetch_sub(&j->refs, 1) != 1)
                return;
        if (j->efd >= 0)
                close(j->efd);
        if (j->ifd >= 0)
                close(j->ifd);
        free(j->dir);
        free(j->path);
        free(j);
}

static void *job_thread(void *arg)
{
        struct read_job *j = arg;
        if (j->ifd >= 0) {
                j->wd = inotify_add_watch(j->ifd, j->dir, DIR_MASK);
                j->watch_errno = j->wd < 0 ? errno : 0;
        }
        int fd = open(j->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        if (fd < 0)
                j->read_errno = errno;
        else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                j->read_errno = EINVAL;
        else {
                ssize_t m = read(fd, j->content, CONTENT_MAX);
                if (m < 0)
                        j->read_errno = errno;
                else
                        j->len = (size_t)m;
        }
        if (fd >= 0)
                close(fd);
        j->content[j->len] = '\0';
        uint64_t one = 1;
        (void)!write(j->efd, &one, sizeof(one));
        job_unref(j);
        return NULL;
}

/* The grade of what the file says. */
static void grade(struct native *n, const struct read_job *j, struct native_result *r)
{
        if (j->read_errno == ENOENT) {
                native_result_set(r, SEV_FAILED, "file missing", "%s: no such file", n->conf->path);
                return;
        }
        if (j->read_errno) {
                native_result_set(r, SEV_FAILED, "file unreadable", "%s: %s", n->conf->path,
                                  j->read_errno == EINVAL ? "not a regular file" : strerror(j->read_errno));
                return;
        }
        char text[CONTENT_MAX + 1];
        snprintf(text, sizeof(text), "%s", j->content);
        size_t l = strlen(text);
        while (l > 0 && (text[l - 1] == '\n' || text[l - 1] == ' ' || text[l - 1] == '\t' || text[l - 1] == '\r'))
                text[--l] = '\0';
        char *end;
        errno = 0;
        long v = strtol(text, &end, 10);
        if (l == 0 || *end || errno || v < 0 || v > 255 || strlen(j->content) != j->len) {
                for (char *p = text; *p; p++)
                        if ((unsigned char)*p < 0x20 || *p == 0x7f)
                                *p = '?';
                native_result_set(r, SEV_FAILED, "file unreadable", "%s: \"%.32s\" is not a number from 0 to 255",
                                  n->conf->path, text);
                return;
        }
        native_result_set(r, severity_of_exit(1, (int)v), "", "%s: %ld", n->conf->path, v);
        r->status = (int)v;
        snprintf(r->description, sizeof(r->description), "file says %ld", v);
}

static int start_read(struct native *n);

static int on_job_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct native *n = userdata;
        struct filew *f = n->state;
        struct read_job *j = f->job;
        uint64_t cnt;
        (void)s;
        (void)revents;

        if (read(fd, &cnt, sizeof(cnt)) != (ssize_t)sizeof(cnt))
                return 0;
        f->job_src = sd_event_source_disable_unref(f->job_src);
        f->job = NULL;
        if (j->ifd >= 0) {
                if (j->wd >= 0)
                        f->wd = j->wd;
                else {
                        struct native_result r;
                        native_result_set(&r, SEV_FAILED, "cannot watch", "%s: cannot watch %s: %s",
                                          n->conf->path, f->dir, strerror(j->watch_errno));
                        job_unref(j);
                        native_value(n, &r);    /* f->wd stays -1: the next run tries again */
                        return 0;
                }
        }
        struct native_result r;
        grade(n, j, &r);
        job_unref(j);
        if (f->again) {
                f->again = false;
                if (start_read(n) == 0)
                        return 0;
        }
        native_value(n, &r);
        return 0;
}

static int start_read(struct native *n)
{
        struct filew *f = n->state;
        if (f->job) {
                f->again = true;
                return 0;
        }
        struct read_job *j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        atomic_init(&j->refs, 1);
        j->efd = j->ifd = -1;
        j->wd = -1;
        int r = 0;
        if (!(j->dir = strdup(f->dir)) || !(j->path = strdup(n->conf->path)))
                r = -ENOMEM;
        if (r == 0 && f->wd < 0 && (j->ifd = fcntl(f->ifd, F_DUPFD_CLOEXEC, 3)) < 0)
                r = -errno;
        if (r == 0 && (j->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
                r = -errno;
        if (r == 0)
                r = sd_event_add_io(n->event, &f->job_src, j->efd, EPOLLIN, on_job_done, n);
        if (r < 0) {
                job_unref(j);
                return r;
        }
        atomic_fetch_add(&j->refs, 1);
        r = file_thread_detached(job_thread, j);
        if (r < 0) {
                atomic_fetch_sub(&j->refs, 1);
                f->job_src = sd_event_source_disable_unref(f->job_src);
                job_unref(j);
                return r;
        }
        f->job = j;
        return 0;
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct native *n = userdata;
        struct filew *f = n->state;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool ours = false;
        (void)s;
        (void)revents;

        for (;;) {
                ssize_t m = read(fd, buf, sizeof(buf));
                if (m <= 0)
                        break;
                for (char *p = buf; p < buf + m;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;
                        if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
                                if (f->wd >= 0 && ev->wd == f->wd)
                                        (void)inotify_rm_watch(f->ifd, f->wd);
                                f->wd = -1;     /* the directory went: watched again by the next read */
                                ours = true;
                        } else if (ev->len && strcmp(ev->name, f->base) == 0)
                                ours = true;
                        p += sizeof(*ev) + ev->len;
                }
        }
        if (ours && start_read(n) < 0)
                native_forget(n);
        return 0;
}

static int file_start(struct native *n)
{
        struct filew *f = n->state;
        if (!f) {
                if (!(f = calloc(1, sizeof(*f))))
                        return -ENOMEM;
                f->ifd = -1;
                f->wd = -1;
                n->state = f;
                const char *slash = strrchr(n->conf->path, '/');
                f->base = slash + 1;
                if (!(f->dir = strndup(n->conf->path, slash == n->conf->path ? 1 : (size_t)(slash - n->conf->path))))
                        return -ENOMEM;
        }
        if (f->ifd < 0) {
                if ((f->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
                        return -errno;
                int r = sd_event_add_io(n->event, &f->inotify, f->ifd, EPOLLIN, on_inotify, n);
                if (r < 0) {
                        close(f->ifd);
                        f->ifd = -1;
                        return r;
                }
        }
        if (!n->known || f->wd < 0)
                return start_read(n);
        return 0;
}

static void file_free(struct native *n)
{
        struct filew *f = n->state;
        if (!f)
                return;
        f->job_src = sd_event_source_disable_unref(f->job_src);
        job_unref(f->job);      /* the thread holds its own reference */
        f->inotify = sd_event_source_disable_unref(f->inotify);
        if (f->ifd >= 0)
                close(f->ifd);
        free(f->dir);
        free(f);
        n->state = NULL;
}

const struct native_kind native_file = {
        .start = file_start,
        .free = file_free,
        .watched = true,
};
