/* Child processes on sd-event: vfork-style spawn into an own process group, output through one pipe, timeout. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "proc.h"

#define OUTPUT_MAX_DEFAULT      (64u * 1024u)
#define GRACE_USEC_DEFAULT      1000000ULL
#define EOF_WAIT_USEC           100000ULL       /* after the child exited: a setsid'd grandchild may hold the pipe */
#define TIMER_ACCURACY_USEC     1000ULL         /* sd-event's default (250 ms) is too coarse for timeouts */
#define READ_CHUNK              16384
#define READS_PER_EVENT         16              /* then let other sources run; epoll is level-triggered */
#define CHILD_STACK_SIZE        (64u * 1024u)   /* the child runs child_main() only, then execve */

/* 32-bit ABIs have 16-bit ids in the old calls; 64-bit ABIs have only the 32-bit ones. */
#ifdef SYS_setgroups32
#define SYS_SETGROUPS SYS_setgroups32
#define SYS_SETRESGID SYS_setresgid32
#define SYS_SETRESUID SYS_setresuid32
#else
#define SYS_SETGROUPS SYS_setgroups
#define SYS_SETRESGID SYS_setresgid
#define SYS_SETRESUID SYS_setresuid
#endif

enum spawn_step {
        SPAWN_NONE,
        SPAWN_FORK,
        SPAWN_STDIO,
        SPAWN_SIGNALS,
        SPAWN_SETGROUPS,
        SPAWN_SETGID,
        SPAWN_SETUID,
        SPAWN_EXEC,
        _SPAWN_MAX,
};

static const char *const step_names[_SPAWN_MAX] = {
        [SPAWN_NONE] = "start",
        [SPAWN_FORK] = "fork",
        [SPAWN_STDIO] = "stdio",
        [SPAWN_SIGNALS] = "signals",
        [SPAWN_SETGROUPS] = "setgroups",
        [SPAWN_SETGID] = "setgid",
        [SPAWN_SETUID] = "setuid",
        [SPAWN_EXEC] = "exec",
};

struct proc {
        sd_event *event;
        sd_event_source *child_src;
        sd_event_source *io_src;
        sd_event_source *timer_src;     /* timeout, then kill grace */
        sd_event_source *finish_src;    /* after exit: EOF deadline, or a defer when there is nothing to wait for */
        pid_t pid;                      /* also the process group id */
        int out_fd;
        int err_fd;                     /* exec error pipe: the step and errno of a failed start, else EOF */
        struct buf out;
        size_t output_max;
        bool first_line_only;
        bool line_done;
        uint64_t grace_usec;
        bool term_sent;
        bool exited;                    /* child source fired: sd-event reaps it when that callback returns */
        bool eof;
        bool in_callback;
        bool detached;                  /* proc_free() while running: only the reaping is left */
        struct proc_result r;
        proc_done_fn done;
        void *userdata;
};

/* The spawn's arguments, on the parent's stack: the child shares the memory until it calls execve. */
struct spawn_args {
        char *const *argv;
        char *const *envp;
        const struct proc_cred *cred;
        bool set_groups;                /* we are root: the supplementary groups can be replaced */
        int null_fd;
        int out_fd;
        int err_fd;
};

/* The kernel's struct sigaction: all zeros is SIG_DFL on every ABI. */
struct kernel_sigaction {
        unsigned long handler;
        unsigned long flags;
        unsigned long restorer;
        unsigned long mask[2];
};

/* In the child: tell the parent which step failed, through the CLOEXEC pipe. Returns the exit code. */
__attribute__((no_sanitize("address", "undefined"), noinline))
static int child_fail(int fd, enum spawn_step step, int err)
{
        int msg[2] = { (int)step, err };
        (void)syscall(SYS_write, fd, msg, sizeof(msg));
        return 127;
}

/* Runs in the child between clone(CLONE_VM | CLONE_VFORK) and execve, on its own stack but in the parent's
 * memory with the parent's thread-local storage: raw system calls only (no locks, no malloc, no sanitizer
 * interceptors), so that no lock another thread held can stall it. Every signal is blocked on entry. */
__attribute__((no_sanitize("address", "undefined"), noinline))
static int child_main(void *arg)
{
        const struct spawn_args *a = arg;
        int null_fd = a->null_fd, out_fd = a->out_fd, err_fd = a->err_fd;
        long r;

        (void)syscall(SYS_setpgid, 0, 0);

        /* Lift the descriptors above stdio so that the dup2s below cannot clobber one another. */
        if (err_fd < 3) {
                if ((r = syscall(SYS_fcntl, err_fd, F_DUPFD_CLOEXEC, 3)) < 0)
                        return 127;
                err_fd = (int)r;
        }
        if (null_fd < 3) {
                if ((r = syscall(SYS_fcntl, null_fd, F_DUPFD_CLOEXEC, 3)) < 0)
                        return child_fail(err_fd, SPAWN_STDIO, errno);
                null_fd = (int)r;
        }
        if (out_fd < 3) {
                if ((r = syscall(SYS_fcntl, out_fd, F_DUPFD_CLOEXEC, 3)) < 0)
                        return child_fail(err_fd, SPAWN_STDIO, errno);
                out_fd = (int)r;
        }
        if (syscall(SYS_dup3, null_fd, 0, 0) < 0 || syscall(SYS_dup3, out_fd, 1, 0) < 0 ||
            syscall(SYS_dup3, out_fd, 2, 0) < 0)
                return child_fail(err_fd, SPAWN_STDIO, errno);
        if (err_fd != 3) {
                if (syscall(SYS_dup3, err_fd, 3, O_CLOEXEC) < 0)
                        return child_fail(err_fd, SPAWN_STDIO, errno);
                err_fd = 3;
        }
        if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0) {
                for (int fd = 4; fd < 65536; fd++)
                        (void)syscall(SYS_close, fd);
        }

        /* Handlers first, then the mask: a signal let through before execve must not run a parent's handler
         * in the parent's memory. Ignored signals would stay ignored across execve. */
        struct kernel_sigaction dfl;
        for (size_t i = 0; i < sizeof(dfl); i++)
                ((volatile char *)&dfl)[i] = 0;
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)syscall(SYS_rt_sigaction, sig, &dfl, NULL, _NSIG / 8);

        const struct proc_cred *c = a->cred;
        if (c) {
                /* Raw calls change this task only: glibc's setuid() would signal the parent's threads. */
                if (a->set_groups && syscall(SYS_SETGROUPS, c->n_groups, c->groups) < 0)
                        return child_fail(err_fd, SPAWN_SETGROUPS, errno);
                if (syscall(SYS_SETRESGID, c->gid, c->gid, c->gid) < 0)
                        return child_fail(err_fd, SPAWN_SETGID, errno);
                if (syscall(SYS_SETRESUID, c->uid, c->uid, c->uid) < 0)
                        return child_fail(err_fd, SPAWN_SETUID, errno);
        }

        unsigned long none[2] = { 0, 0 };
        if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, none, NULL, _NSIG / 8) < 0)
                return child_fail(err_fd, SPAWN_SIGNALS, errno);

        (void)syscall(SYS_execve, a->argv[0], a->argv, a->envp);
        return child_fail(err_fd, SPAWN_EXEC, errno);
}

/* The child's stack and /dev/null, kept for the life of the process: a stack mapped and unmapped per spawn
 * cost page faults and, since the child ran on another CPU in the same address space, a TLB shootdown on
 * every munmap (measured: most of the daemon's idle CPU with 3 checks at 1 s, docs/bench.md). The parent
 * waits until the child has called execve (CLONE_VFORK), so one stack serves every spawn; the mutex keeps
 * two threads from sharing it. */
static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;
static void *child_stack;
static int null_fd_kept = -1;

/* Starts the child: vfork semantics (the parent resumes once the child has called execve or died, no page
 * tables copied, no code of ours running in a copy of a multi-threaded process). Returns its pid or -errno. */
static pid_t spawn_child(struct spawn_args *a)
{
        sigset_t all, old;

        pthread_mutex_lock(&spawn_lock);
        if (!child_stack) {
                void *st = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
                if (st == MAP_FAILED) {
                        int e = errno;
                        pthread_mutex_unlock(&spawn_lock);
                        return -e;
                }
                child_stack = st;
        }
        if (a->null_fd < 0) {
                if (null_fd_kept < 0)
                        null_fd_kept = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null_fd_kept < 0) {
                        int e = errno;
                        pthread_mutex_unlock(&spawn_lock);
                        return -e;
                }
                a->null_fd = null_fd_kept;
        }
        sigfillset(&all);
        int k = pthread_sigmask(SIG_SETMASK, &all, &old);
        if (k != 0) {
                pthread_mutex_unlock(&spawn_lock);
                return -k;
        }
        /* Stacks grow down on every architecture Linux runs failoverd on. */
        pid_t pid = clone(child_main, (char *)child_stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, a);
        int e = errno;
        (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_mutex_unlock(&spawn_lock);
        return pid < 0 ? -e : pid;
}

/* What the service manager handed failoverd alone: a child that saw NOTIFY_SOCKET could send READY=1,
 * STOPPING=1 or WATCHDOG=1 in the daemon's name (NotifyAccess=all), WATCHDOG_PID/LISTEN_PID name the daemon,
 * and JOURNAL_STREAM describes our stderr, not the child's pipe. */
static const char *const env_dropped[] = { "NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID=", "LISTEN_FDS=",
                                           "LISTEN_PID=", "LISTEN_FDNAMES=", "JOURNAL_STREAM=", NULL };

bool proc_env_dropped(const char *entry)
{
        for (const char *const *d = env_dropped; *d; d++)
                if (strncmp(entry, *d, strlen(*d)) == 0)
                        return true;
        return false;
}

/* env without the dropped entries: a malloc'd vector of pointers into env (the strings are not copied). */
static char **env_clean(char *const *env)
{
        size_t n = 0;
        while (env && env[n])
                n++;
        char **v = calloc(n + 1, sizeof(char *));
        if (!v)
                return NULL;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (!proc_env_dropped(env[i]))
                        v[k++] = env[i];
        return v;
}

static int lookup_groups(const char *name, gid_t gid, gid_t **ret, int *n_ret)
{
        gid_t *groups = NULL;
        int n = 16;
        for (;;) {
                gid_t *g = realloc(groups, (size_t)n * sizeof(gid_t));
                if (!g) {
                        free(groups);
                        return -ENOMEM;
                }
                groups = g;
                int m = n;
                if (getgrouplist(name, gid, groups, &m) >= 0) {
                        *ret = groups;
                        *n_ret = m;
                        return 0;
                }
                if (n >= 65536) {
                        free(groups);
                        return -E2BIG;
                }
                n = m > n ? m : n * 2;
        }
}

int proc_cred_lookup(const char *user, struct proc_cred **ret)
{
        long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
        size_t bufsz = sz > 0 ? (size_t)sz : 16384;
        char *b = NULL;
        struct passwd pw, *res = NULL;
        int r;

        if (!user || !ret)
                return -EINVAL;
        *ret = NULL;
        for (;;) {
                char *nb = realloc(b, bufsz);
                if (!nb) {
                        free(b);
                        return -ENOMEM;
                }
                b = nb;
                r = getpwnam_r(user, &pw, b, bufsz, &res);
                if (r != ERANGE || bufsz > (1u << 20))
                        break;
                bufsz *= 2;
        }
        if (r != 0 || !res) {
                free(b);
                return r != 0 ? -r : -ENOENT;
        }
        gid_t *groups = NULL;
        int n = 0;
        r = lookup_groups(user, pw.pw_gid, &groups, &n);
        if (r < 0) {
                free(b);
                return r;
        }
        struct proc_cred *c = malloc(sizeof(*c) + (size_t)n * sizeof(gid_t));
        if (c) {
                c->uid = pw.pw_uid;
                c->gid = pw.pw_gid;
                c->n_groups = (size_t)n;
                memcpy(c->groups, groups, (size_t)n * sizeof(gid_t));
        }
        free(groups);
        free(b);
        *ret = c;
        return c ? 0 : -ENOMEM;
}

struct proc_cred *proc_cred_dup(const struct proc_cred *c)
{
        if (!c)
                return NULL;
        size_t size = sizeof(*c) + c->n_groups * sizeof(gid_t);
        struct proc_cred *d = malloc(size);
        if (d)
                memcpy(d, c, size);
        return d;
}

bool proc_cred_equal(const struct proc_cred *a, const struct proc_cred *b)
{
        if (!a || !b)
                return a == b;
        return a->uid == b->uid && a->gid == b->gid && a->n_groups == b->n_groups &&
               memcmp(a->groups, b->groups, a->n_groups * sizeof(gid_t)) == 0;
}

static void proc_destroy(struct proc *p)
{
        p->child_src = sd_event_source_disable_unref(p->child_src);
        p->io_src = sd_event_source_disable_unref(p->io_src);
        p->timer_src = sd_event_source_disable_unref(p->timer_src);
        p->finish_src = sd_event_source_disable_unref(p->finish_src);
        if (p->out_fd >= 0)
                close(p->out_fd);
        if (p->err_fd >= 0)
                close(p->err_fd);
        free(p->r.output);
        buf_free(&p->out);
        sd_event_unref(p->event);
        free(p);
}

/* The child has died or called execve (vfork semantics), so the pipe holds its failure or EOF; the read is
 * non-blocking. Where clone is emulated by fork (valgrind) it may be early: then again at the exit. */
static void read_exec_error(struct proc *p)
{
        int msg[2];
        ssize_t n;

        if (p->err_fd < 0)
                return;
        do
                n = read(p->err_fd, msg, sizeof(msg));
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno == EAGAIN && !p->exited)
                return;
        close(p->err_fd);
        p->err_fd = -1;
        if (n == (ssize_t)sizeof(msg)) {
                p->r.exec_errno = msg[1] > 0 ? msg[1] : EIO;
                p->r.exec_step = step_names[msg[0] > 0 && msg[0] < _SPAWN_MAX ? msg[0] : SPAWN_NONE];
        }
}

static void keep_output(struct proc *p, const char *data, size_t n)
{
        if (p->first_line_only) {
                if (p->line_done)
                        return;
                const char *nl = memchr(data, '\n', n);
                if (nl) {
                        n = (size_t)(nl - data);
                        p->line_done = true;
                }
        }
        size_t room = p->output_max - p->out.len;
        if (n > room) {
                p->r.output_truncated = true;
                n = room;
        }
        if (n > 0)
                (void)buf_append(&p->out, data, n);     /* on OOM buf drops it and later appends */
}

/* Reads what is there now. Returns 1 at EOF (or a read error), else 0. */
static int read_output(struct proc *p, int max_reads)
{
        char chunk[READ_CHUNK];

        for (int i = 0; i < max_reads; i++) {
                ssize_t n = read(p->out_fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n <= 0)
                        return 1;
                keep_output(p, chunk, (size_t)n);
        }
        return 0;
}

/* Hands the result over and frees p. Only ever called after the child source's dispatch (child reaped). */
static void proc_complete(struct proc *p)
{
        if (!p->eof && p->out_fd >= 0)
                (void)read_output(p, READS_PER_EVENT);
        p->r.end_usec = clock_mono_usec();
        p->r.output_len = p->out.len;
        p->r.output = buf_steal(&p->out);
        if (!p->r.output)
                p->r.output = calloc(1, 1);
        p->in_callback = true;
        p->done(p, &p->r, p->userdata);
        proc_destroy(p);
}

static int on_finish(sd_event_source *s, void *userdata)
{
        (void)s;
        proc_complete(userdata);
        return 0;
}

static int on_finish_time(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void)usec;
        return on_finish(s, userdata);
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct proc *p = userdata;
        (void)s;
        (void)fd;
        (void)revents;

        if (!read_output(p, READS_PER_EVENT))
                return 0;
        p->eof = true;
        p->io_src = sd_event_source_disable_unref(p->io_src);
        if (p->exited)
                proc_complete(p);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct proc *p = userdata;
        (void)usec;

        if (p->exited)
                return 0;
        if (p->term_sent) {
                if (kill(-p->pid, SIGKILL) < 0)
                        (void)kill(p->pid, SIGKILL);
                return 0;
        }
        p->r.timed_out = true;
        p->term_sent = true;
        if (kill(-p->pid, SIGTERM) < 0)
                (void)kill(p->pid, SIGTERM);
        (void)kill(-p->pid, SIGCONT);   /* a stopped process would never see the SIGTERM */
        if (sd_event_source_set_time_relative(s, p->grace_usec) < 0 ||
            sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) < 0) {
                (void)kill(-p->pid, SIGKILL);
                (void)kill(p->pid, SIGKILL);
        }
        return 0;
}

/* A child whose proc was freed: sd-event reaps it when this returns, then frees the source and the proc. */
static int on_detached_child(sd_event_source *s, const siginfo_t *si)
{
        if (si->si_code == CLD_EXITED || si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED)
                sd_event_source_disable_unref(s);       /* floating: this drops the loop's reference */
        return 0;
}

static void free_detached(void *userdata)
{
        free(userdata);
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct proc *p = userdata;
        int r;

        if (p->detached)
                return on_detached_child(s, si);
        if (si->si_code == CLD_EXITED) {
                p->r.exited = 1;
                p->r.status = si->si_status;
        } else if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED) {
                p->r.signal = si->si_status;
        } else {
                return 0;       /* stopped or continued: WEXITED only, but be safe */
        }
        p->exited = true;
        /* The leader is a zombie until this callback returns, so the group id cannot have been reused. */
        (void)kill(-p->pid, SIGKILL);
        p->timer_src = sd_event_source_disable_unref(p->timer_src);
        read_exec_error(p);

        /* Complete from a later dispatch: sd-event reaps the child only after this callback returns. */
        if (p->eof)
                r = sd_event_add_defer(p->event, &p->finish_src, on_finish, p);
        else
                r = sd_event_add_time_relative(p->event, &p->finish_src, CLOCK_MONOTONIC, EOF_WAIT_USEC,
                                               TIMER_ACCURACY_USEC, on_finish_time, p);
        if (r < 0)
                proc_complete(p);       /* out of memory: better early than never */
        return 0;
}

/* The descriptors proc_spawn() opened and no longer needs when the child did not start. */
static void close_spawn_fds(const int out_pipe[2], const int err_pipe[2], int null_fd)
{
        for (int i = 0; i < 2; i++) {
                if (out_pipe[i] >= 0)
                        close(out_pipe[i]);
                if (err_pipe[i] >= 0)
                        close(err_pipe[i]);
        }
        if (null_fd >= 0)
                close(null_fd);
}

int proc_spawn(sd_event *e, const struct proc_opts *o, proc_done_fn done, void *userdata, struct proc **ret)
{
        int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 }, null_fd = -1;
        int r;

        if (!e || !o || !o->argv || !o->argv[0] || !done || !ret)
                return -EINVAL;
        /* sd-event before systemd 258 refuses a child source otherwise, later ones do not: same contract on all. */
        sigset_t cur;
        if (pthread_sigmask(SIG_SETMASK, NULL, &cur) != 0 || !sigismember(&cur, SIGCHLD))
                return -EBUSY;

        struct proc *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(e);
        p->out_fd = -1;
        p->err_fd = -1;
        buf_init(&p->out);
        p->output_max = o->output_max ? o->output_max : OUTPUT_MAX_DEFAULT;
        p->first_line_only = o->first_line_only;
        p->grace_usec = o->kill_grace_usec ? o->kill_grace_usec : GRACE_USEC_DEFAULT;
        p->done = done;
        p->userdata = userdata;
        p->r.timeout_usec = o->timeout_usec;
        p->r.start_usec = clock_mono_usec();

        if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
                r = -errno;
                goto fail;
        }
        char **envp = env_clean(o->envp ? o->envp : environ);   /* built here: the child may not allocate */
        if (!envp) {
                r = -ENOMEM;
                goto fail;
        }

        struct spawn_args a = {
                .argv = o->argv,
                .envp = envp,
                .cred = o->cred,
                .set_groups = geteuid() == 0,
                .null_fd = null_fd,
                .out_fd = out_pipe[1],
                .err_fd = err_pipe[1],
        };
        pid_t pid = spawn_child(&a);
        free(envp);             /* the child has called execve (or died): CLONE_VFORK */
        if (pid < 0) {
                /* Reported through the callback, from the loop, like a failed exec. */
                p->r.exec_errno = -pid;
                p->r.exec_step = step_names[SPAWN_FORK];
                p->exited = true;
                p->eof = true;
                r = sd_event_add_defer(e, &p->finish_src, on_finish, p);
                if (r < 0)
                        goto fail;
                close_spawn_fds(out_pipe, err_pipe, null_fd);
                *ret = p;
                return 0;
        }

        p->pid = pid;
        p->r.pid = pid;
        (void)setpgid(pid, pid);        /* the child does it too: whichever runs first, the group exists */
        close(out_pipe[1]);
        close(err_pipe[1]);
        out_pipe[1] = err_pipe[1] = -1;
        p->out_fd = out_pipe[0];
        p->err_fd = err_pipe[0];
        out_pipe[0] = err_pipe[0] = -1;
        read_exec_error(p);     /* never waits: reported through the callback like everything else */

        int fl = fcntl(p->out_fd, F_GETFL);
        if (fl < 0 || fcntl(p->out_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_child(e, &p->child_src, pid, WEXITED, on_child, p);
        if (r < 0)
                goto fail;
        r = sd_event_add_io(e, &p->io_src, p->out_fd, EPOLLIN, on_output, p);
        if (r < 0)
                goto fail;
        if (o->timeout_usec > 0) {
                r = sd_event_add_time_relative(e, &p->timer_src, CLOCK_MONOTONIC, o->timeout_usec,
                                               TIMER_ACCURACY_USEC, on_timeout, p);
                if (r < 0)
                        goto fail;
        }
        *ret = p;
        return 0;

fail:
        close_spawn_fds(out_pipe, err_pipe, null_fd);
        proc_free(p);
        return r;
}

struct proc *proc_free(struct proc *p)
{
        if (!p || p->in_callback)
                return NULL;
        if (p->pid > 0 && !p->exited) {
                if (kill(-p->pid, SIGKILL) < 0)
                        (void)kill(p->pid, SIGKILL);
                /* Never wait here (a child in uninterruptible sleep would hang the loop): the child source
                 * becomes the loop's own and reaps the child whenever it dies; the proc goes with it. */
                if (p->child_src && sd_event_source_set_destroy_callback(p->child_src, free_detached) >= 0 &&
                    sd_event_source_set_floating(p->child_src, true) >= 0) {
                        sd_event_source_unref(p->child_src);
                        p->child_src = NULL;
                        p->detached = true;     /* on_child() now only lets go of the source */
                }
        }
        if (!p->detached) {
                proc_destroy(p);
                return NULL;
        }
        /* What is left is the struct itself, freed with the child source. */
        p->io_src = sd_event_source_disable_unref(p->io_src);
        p->timer_src = sd_event_source_disable_unref(p->timer_src);
        p->finish_src = sd_event_source_disable_unref(p->finish_src);
        if (p->out_fd >= 0)
                p->out_fd = (close(p->out_fd), -1);
        if (p->err_fd >= 0)
                p->err_fd = (close(p->err_fd), -1);
        free(p->r.output);
        p->r.output = NULL;
        buf_free(&p->out);
        p->event = sd_event_unref(p->event);
        return NULL;
}

pid_t proc_pid(const struct proc *p)
{
        return p ? p->pid : 0;
}

struct run_ctx {
        struct proc_result *r;
        struct proc *p;
};

static void run_done(struct proc *p, struct proc_result *r, void *userdata)
{
        struct run_ctx *ctx = userdata;
        (void)p;
        *ctx->r = *r;
        r->output = NULL;
        ctx->p = NULL;
}

int proc_run(const struct proc_opts *o, struct proc_result *r)
{
        sigset_t chld, old;
        sd_event *e = NULL;
        struct run_ctx ctx = { .r = r };
        int k;

        if (!o || !r)
                return -EINVAL;
        memset(r, 0, sizeof(*r));
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        k = pthread_sigmask(SIG_BLOCK, &chld, &old);
        if (k != 0)
                return -k;

        k = sd_event_new(&e);
        if (k >= 0)
                k = proc_spawn(e, o, run_done, &ctx, &ctx.p);
        while (k >= 0 && ctx.p)
                k = sd_event_run(e, UINT64_MAX);
        ctx.p = proc_free(ctx.p);
        sd_event_unref(e);
        (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
        return k < 0 ? k : 0;
}

void proc_result_clear(struct proc_result *r)
{
        if (!r)
                return;
        free(r->output);
        memset(r, 0, sizeof(*r));
}

void proc_describe(const struct proc_result *r, char *out, size_t len)
{
        if (!out || len == 0)
                return;
        if (r->exec_errno) {
                const char *step = r->exec_step ? r->exec_step : "exec";
                if (strcmp(step, "exec") == 0)
                        snprintf(out, len, "exec failed: %s", strerror(r->exec_errno));
                else
                        snprintf(out, len, "start failed: %s: %s", step, strerror(r->exec_errno));
        } else if (r->timed_out) {
                snprintf(out, len, "timed out after %.1f s", (double)r->timeout_usec / 1e6);
        } else if (r->signal) {
                const char *name = sigabbrev_np(r->signal);
                if (name)
                        snprintf(out, len, "killed by SIG%s", name);
                else
                        snprintf(out, len, "killed by signal %d", r->signal);
        } else if (r->exited) {
                snprintf(out, len, "exit %d", r->status);
        } else {
                snprintf(out, len, "not run");
        }
}
