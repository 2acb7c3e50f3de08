/* Child processes on sd-event: argv only, own process group, reset signal mask, no inherited descriptors,
 * stdin /dev/null, stdout+stderr captured through one pipe, timeout with SIGTERM then SIGKILL to the group. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

struct proc;

/* Who a child runs as: resolved once, when the configuration is loaded, so that no spawn asks NSS. */
struct proc_cred {
        uid_t uid;
        gid_t gid;
        size_t n_groups;
        gid_t groups[];                 /* supplementary groups (getgrouplist) */
};

/* getpwnam_r and getgrouplist: they may block (NSS), so call it when loading a configuration, never on the
 * loop. Returns 0 with *ret malloc'd (free() it), -ENOENT for no such user, or another -errno. */
int proc_cred_lookup(const char *user, struct proc_cred **ret);
/* A malloc'd copy; NULL for NULL (or out of memory). */
struct proc_cred *proc_cred_dup(const struct proc_cred *c);
bool proc_cred_equal(const struct proc_cred *a, const struct proc_cred *b);

struct proc_opts {
        char *const *argv;              /* argv[0] is the program path (execv, no PATH search, no shell) */
        char *const *envp;              /* NULL: inherit the environment; either way without what
                                         * proc_env_dropped() names */
        const struct proc_cred *cred;   /* run as this user (groups when root, gid, uid); NULL: as we are */
        uint64_t timeout_usec;          /* 0: no timeout */
        uint64_t kill_grace_usec;       /* between SIGTERM and SIGKILL; 0 means 1 s */
        size_t output_max;              /* bytes of output kept; the rest is read and dropped. 0 means 64 KiB */
        bool first_line_only;           /* keep only up to the first newline (check messages) */
};

struct proc_result {
        pid_t pid;
        int exited;                     /* 1 when the child exited normally */
        int status;                     /* exit code when exited */
        int signal;                     /* terminating signal, else 0 */
        bool timed_out;                 /* killed because timeout_usec passed */
        int exec_errno;                 /* errno when it could not be started (fork, setuid, exec...), else 0 */
        char *output;                   /* NUL-terminated, never NULL in a callback; may be stolen (set NULL) */
        size_t output_len;
        bool output_truncated;
        uint64_t start_usec;            /* CLOCK_MONOTONIC */
        uint64_t end_usec;
        /* Added by lib/proc.c: */
        const char *exec_step;          /* with exec_errno: "fork", "setgroups", "setgid", "setuid", "exec"... */
        uint64_t timeout_usec;          /* the timeout that applied (for proc_describe) */
};

/* Called once when the child has been reaped and its output read (or its group killed). The proc is freed
 * right after the callback returns: forget the pointer. r->output may be taken by setting it to NULL. */
typedef void (*proc_done_fn)(struct proc *p, struct proc_result *r, void *userdata);

/* Starts a child on e. SIGCHLD must be blocked in the calling thread (-EBUSY before any fork otherwise).
 * Returns 0 or -errno. A failed exec is not an error here: it is reported through the callback with
 * exec_errno set. */
int proc_spawn(sd_event *e, const struct proc_opts *o, proc_done_fn done, void *userdata, struct proc **ret);
/* Cancels a running child: SIGKILL to its group, free. Never waits: the child is reaped by e's loop when it
 * dies (or left to init when e is freed first). The callback is not called. Returns NULL. */
struct proc *proc_free(struct proc *p);
pid_t proc_pid(const struct proc *p);

/* Runs one child to completion on a private event loop (blocking SIGCHLD meanwhile). Returns 0 or -errno;
 * the result is the caller's to clear with proc_result_clear. */
int proc_run(const struct proc_opts *o, struct proc_result *r);
void proc_result_clear(struct proc_result *r);

/* Whether an environment entry ("NAME=value") is one no child gets: NOTIFY_SOCKET, WATCHDOG_USEC,
 * WATCHDOG_PID, LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES, JOURNAL_STREAM (what systemd gave failoverd alone). */
bool proc_env_dropped(const char *entry);

/* "exit 3", "killed by SIGKILL", "timed out after 1.0 s", "exec failed: No such file or directory". */
void proc_describe(const struct proc_result *r, char *out, size_t len);

/* Notes on the implementation (lib/proc.c):
 * - output_truncated means output bytes were dropped; with first_line_only only an over-long first line
 *   counts (whatever follows the first newline is dropped by design).
 * - When the child exits its whole process group gets SIGKILL (no grandchild outlives it); the output pipe
 *   is then read until EOF, but for at most 100 ms (a process that left the group may hold it open).
 * - The child is started with vfork semantics (clone with CLONE_VM | CLONE_VFORK, its own small stack, mapped
 *   once and kept, as is the /dev/null its stdin reads):
 *   between clone and execve it makes raw system calls only (setpgid, dup3, close_range, rt_sigaction,
 *   setgroups, setresgid, setresuid, rt_sigprocmask), no library code that could wait on a lock another
 *   thread held. A failed start is written to a CLOEXEC pipe, read (non-blocking) when clone returns.
 * - The callback runs from the event loop, never from inside proc_spawn(). proc_free() from inside the
 *   callback is ignored (the proc frees itself after the callback). */
