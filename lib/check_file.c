/* The file check (keepalived's track_file): the number in a file is the exit code, read again on change and
 * at every run. inotify on the file's directory (and on the directory the file resolves to, when it is a
 * symlink) says when; the read and the path lookups run on a thread of their own, so the loop never waits on
 * the disk. With checks.user the thread reads with that user's file-system rights. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check_native_internal.h"
#include "file.h"
#include "proc.h"

#define CONTENT_MAX 64
#define DIR_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY | \
                  IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

#ifdef SYS_setgroups32
#define SYS_SETGROUPS SYS_setgroups32
#define SYS_SETFSGID SYS_setfsgid32
#define SYS_SETFSUID SYS_setfsuid32
#else
#define SYS_SETGROUPS SYS_setgroups
#define SYS_SETFSGID SYS_setfsgid
#define SYS_SETFSUID SYS_setfsuid
#endif

struct read_job {
        atomic_int refs;
        int efd;
        int ifd;                        /* a dup of the watch's inotify descriptor */
        char *dir;
        char *path;
        struct proc_cred *cred;         /* read as this user; NULL: as we are */
        char *dir_prev;                 /* what dir resolved to when it was watched; NULL: no watch */
        char *fdir_prev;                /* the directory of the file's target watched; NULL: none */
        /* The thread's results, ordered by the eventfd: */
        char *dir_real;                 /* what dir resolves to now; NULL: cannot (watch_errno) */
        int wd;                         /* >= 0: dir was watched anew (it resolves elsewhere now) */
        int watch_errno;
        char *file_real;                /* what path resolves to, when that is in another directory */
        int fwd;                        /* >= 0: the directory of file_real was watched anew */
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
        char *dir_real;                 /* what dir resolved to when wd was added */
        int fwd;                        /* -1: the file is not a symlink into another directory */
        char *file_real;                /* what the path resolved to when fwd was added */
        const char *fbase;              /* in file_real */
        struct read_job *job;           /* in flight */
        sd_event_source *job_src;
        bool again;                     /* changed while the read ran */
        bool unread;                    /* the watch read a value no run has graded yet */
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
        free(j->cred);
        free(j->dir_prev);
        free(j->fdir_prev);
        free(j->dir_real);
        free(j->file_real);
        free(j);
}

/* This thread alone takes the user's file-system identity: raw system calls change the calling task only
 * (glibc's setgroups() would change every thread of the daemon), and the thread ends after this one read.
 * A fsuid other than 0 also drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so the kernel checks the path
 * and the file as for that user. Returns 0 or an errno. */
static int become(const struct proc_cred *c)
{
        if (syscall(SYS_SETGROUPS, c->n_groups, c->groups) < 0)
                return errno;
        (void)syscall(SYS_SETFSGID, c->gid);
        (void)syscall(SYS_SETFSUID, c->uid);
        /* Both return the previous id, never an error: ask again to know that it took. */
        if ((gid_t)syscall(SYS_SETFSGID, (gid_t)-1) != c->gid || (uid_t)syscall(SYS_SETFSUID, (uid_t)-1) != c->uid)
                return EPERM;
        return 0;
}

/* Opens only a regular file: O_PATH first (no open() of a device or FIFO ever happens), then the same inode
 * again for reading through /proc/self/fd, with the permission check that implies. */
static int open_regular(const char *path, int *err)
{
        int pfd = open(path, O_PATH | O_CLOEXEC);
        struct stat st;
        if (pfd < 0) {
                *err = errno;
                return -1;
        }
        if (fstat(pfd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(pfd);
                *err = EINVAL;
                return -1;
        }
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
        int fd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        *err = fd < 0 ? errno : 0;
        close(pfd);
        return fd;
}

static bool differs(const char *a, const char *b)
{
        return !a || !b || strcmp(a, b) != 0;
}

static void *job_thread(void *arg)
{
        struct read_job *j = arg;
        if (j->cred && geteuid() == 0 && (j->read_errno = become(j->cred)) != 0)
                goto out;
        /* A directory on the way may be a symlink switched since (a deploy's "current"): watch it again. */
        if (!(j->dir_real = realpath(j->dir, NULL))) {
                j->watch_errno = errno;
                goto out;
        }
        /* A directory the user may search but not list cannot be watched: read it all the same (each run). */
        if (differs(j->dir_real, j->dir_prev) && (j->wd = inotify_add_watch(j->ifd, j->dir, DIR_MASK)) < 0)
                j->watch_errno = errno;

        int fd = open_regular(j->path, &j->read_errno);
        if (fd >= 0) {
                ssize_t m = read(fd, j->content, CONTENT_MAX);
                if (m < 0)
                        j->read_errno = errno;
                else
                        j->len = (size_t)m;
                close(fd);
        }
        /* The file a symlink into another directory: that directory is where it changes. */
        char *real = realpath(j->path, NULL);
        if (real) {
                char *slash = strrchr(real, '/');
                size_t dl = slash == real ? 1 : (size_t)(slash - real);
                if (strlen(j->dir_real) != dl || strncmp(real, j->dir_real, dl) != 0) {
                        char d[PATH_MAX];
                        snprintf(d, sizeof(d), "%.*s", (int)dl, real);
                        j->file_real = real;
                        real = NULL;
                        if (differs(d, j->fdir_prev))
                                j->fwd = inotify_add_watch(j->ifd, d, DIR_MASK);
                }
                free(real);
        }
out:
        j->content[j->len] = '\0';
        uint64_t one = 1;
        (void)!write(j->efd, &one, sizeof(one));
        job_unref(j);
        return NULL;
}

/* The grade of what the file says. Its content is never shown: with root's rights it could be anything. */
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
                native_result_set(r, SEV_FAILED, "file unreadable", "%s: does not hold a number from 0 to 255",
                                  n->conf->path);
                return;
        }
        native_result_set(r, severity_of_exit(1, (int)v), "", "%s: %ld", n->conf->path, v);
        r->status = (int)v;
        snprintf(r->description, sizeof(r->description), "file says %ld", v);
}

static char *mfree(char *p)
{
        free(p);
        return NULL;
}

static void unwatch(struct filew *f, int *wd, int other)
{
        if (*wd >= 0 && *wd != other)   /* one inode, one wd: the other watch may be the same */
                (void)inotify_rm_watch(f->ifd, *wd);
        *wd = -1;
}

/* Takes the watches the thread added. Returns false when the directory cannot be watched. */
static bool take_watches(struct filew *f, struct read_job *j)
{
        if (!j->dir_real)
                return false;
        if (j->wd >= 0) {
                if (f->wd != j->wd)
                        unwatch(f, &f->wd, f->fwd);
                f->wd = j->wd;
                free(f->dir_real);
                f->dir_real = j->dir_real;
                j->dir_real = NULL;
        }
        if (!j->file_real) {
                unwatch(f, &f->fwd, f->wd);
                f->file_real = mfree(f->file_real);
                f->fbase = NULL;
        } else if (j->fwd >= 0 || differs(j->file_real, f->file_real)) {
                if (j->fwd >= 0 && f->fwd != j->fwd)
                        unwatch(f, &f->fwd, f->wd);
                if (j->fwd >= 0)
                        f->fwd = j->fwd;
                free(f->file_real);
                f->file_real = j->file_real;
                j->file_real = NULL;
                f->fbase = strrchr(f->file_real, '/') + 1;
        }
        return true;
}

static int start_read(struct native *n);

static int on_job_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct native *n = userdata;
        struct filew *f = n->state;
        struct read_job *j = f->job;
        struct native_result r;
        uint64_t cnt;
        (void)s;
        (void)revents;

        if (read(fd, &cnt, sizeof(cnt)) != (ssize_t)sizeof(cnt))
                return 0;
        f->job_src = sd_event_source_disable_unref(f->job_src);
        f->job = NULL;
        if (!take_watches(f, j)) {
                native_result_set(&r, SEV_FAILED, "cannot watch", "%s: cannot watch %s: %s", n->conf->path, f->dir,
                                  strerror(j->watch_errno));
                job_unref(j);
                f->unread = !n->busy;
                native_value(n, &r);    /* f->wd stays -1: the next run tries again */
                return 0;
        }
        grade(n, j, &r);
        job_unref(j);
        if (f->again) {
                f->again = false;
                if (start_read(n) == 0)
                        return 0;
        }
        f->unread = !n->busy;
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
        j->wd = j->fwd = -1;
        int r = 0;
        if (!(j->dir = strdup(f->dir)) || !(j->path = strdup(n->conf->path)) ||
            (n->cred && !(j->cred = proc_cred_dup(n->cred))))
                r = -ENOMEM;
        if (r == 0 && f->wd >= 0 && f->dir_real && !(j->dir_prev = strdup(f->dir_real)))
                r = -ENOMEM;
        if (r == 0 && f->fwd >= 0 && f->file_real &&
            !(j->fdir_prev = strndup(f->file_real, f->fbase - 1 == f->file_real ? 1 : (size_t)(f->fbase - 1 - f->file_real))))
                r = -ENOMEM;
        if (r == 0 && (j->ifd = fcntl(f->ifd, F_DUPFD_CLOEXEC, 3)) < 0)
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
                        if (ev->mask & IN_Q_OVERFLOW)
                                ours = true;    /* events were lost: ours may be among them */
                        else if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
                                /* A watched directory went: watched again by the next read. */
                                if (ev->wd == f->wd) {
                                        unwatch(f, &f->wd, f->fwd);
                                        f->dir_real = mfree(f->dir_real);
                                }
                                if (ev->wd == f->fwd) {
                                        unwatch(f, &f->fwd, f->wd);
                                        f->file_real = mfree(f->file_real);
                                        f->fbase = NULL;
                                }
                                ours = true;
                        } else if (ev->len && ((ev->wd == f->wd && strcmp(ev->name, f->base) == 0) ||
                                               (ev->wd == f->fwd && f->fbase && strcmp(ev->name, f->fbase) == 0)))
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
                f->wd = f->fwd = -1;
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
        /* What the watch read since the last run is fresh; otherwise read again, whatever the watch saw: a
         * switched directory symlink or lost events leave it silent (the value is at most one interval old). */
        if (n->known && f->unread) {
                f->unread = false;
                return 0;
        }
        n->stale = true;
        return start_read(n);
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
        free(f->dir_real);
        free(f->file_real);
        free(f);
        n->state = NULL;
}

const struct native_kind native_file = {
        .start = file_start,
        .free = file_free,
        .watched = true,
};
