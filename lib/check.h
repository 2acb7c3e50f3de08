/* Health-check runner: one object per configured check owning its timer and its running child. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "conf.h"
#include "fsm.h"

#define CHECK_MESSAGE_MAX 512

struct check;

struct check_result {
        enum severity severity;         /* grade of this run (SEV_FAILED for exec failure, timeout, insecure) */
        int exited;                     /* as struct proc_result */
        int status;
        int signal;
        bool timed_out;
        int exec_errno;
        bool insecure;                  /* not run: script security of NAME.conf, script or argv[0] (message says why) */
        char description[128];          /* "exit 2", "killed by SIGKILL", "timed out after 1.0 s", "insecure script",
                                         * "insecure configuration" (NAME.conf) */
        char message[CHECK_MESSAGE_MAX + 1];    /* first output line (at most 512 bytes), or why it is insecure */
        uint64_t duration_usec;
        uint64_t end_usec;              /* CLOCK_MONOTONIC end of the last run; 0: never ran */
        uint64_t end_realtime_usec;     /* CLOCK_REALTIME of the same moment, for people */
        uint64_t runs;                  /* results so far */
};

/* Called after every result, from the event loop. changed: health or contributed severity changed
 * (fsm_feed), so the owner recomputes the effective state. check_free(c) is allowed from here. */
typedef void (*check_result_fn)(struct check *c, bool changed, void *userdata);

/* cc is copied. Nothing runs before check_start(). SIGCHLD must be blocked (sd-event child sources).
 * Returns 0 or -errno. */
int check_new(sd_event *e, const struct check_conf *cc, check_result_fn cb, void *userdata, struct check **ret);
/* Cancels a running child (SIGKILL to its group, reaped) and the timer. No callback. Returns NULL. */
struct check *check_free(struct check *c);
/* First run at once (from the loop), then every interval; every interval/4 while fsm_changing(). */
int check_start(struct check *c);
/* SIGHUP reload: takes the new argv, interval, timeout, rise, fall, user; keeps the state. A running child
 * finishes under the old settings; the next run is rescheduled with the new interval. */
int check_update_conf(struct check *c, const struct check_conf *cc);

/* The same, for a reload that must be all or nothing: from (made by check_new for the new settings, never
 * started) gives c its settings and is freed; c keeps its state. Cannot fail. */
void check_take_conf(struct check *c, struct check *from);

const char *check_name(const struct check *c);
const struct check_conf *check_get_conf(const struct check *c);
const struct check_state *check_get_state(const struct check *c);
const struct check_result *check_get_result(const struct check *c);
bool check_running(const struct check *c);

/* Script security (keepalived's rule), applied before every run as root to the check's NAME.conf, its
 * script and argv[0] of its command: path and every directory above it owned by root and not writable
 * by group or others; a root-owned sticky directory (/tmp) is accepted. Symlinks are checked on both
 * their own path and their target. Returns 0 when secure, else -EPERM (or -errno when a component cannot
 * be examined) with a reason in why: "insecure: /etc/failoverd/conf.d is writable by group". */
int check_script_secure(const char *path, char *why, size_t whylen);

/* The rule as the daemon applies it before each run of cc, and failoverd --check to every check: when we
 * are root, a check that runs as root passes it for its NAME.conf, script and argv[0]; a native check (the
 * daemon does it itself) for its NAME.conf and an http check's ca_file, whatever its user. Returns 0, -EPERM
 * with why and *what ("insecure configuration", "insecure script", "insecure CA file"), or -errno when the
 * script or command cannot be examined. */
int check_conf_secure(const struct check_conf *cc, char *why, size_t whylen, const char **what);
/* failoverd --check: one error in d for each check check_conf_secure() refuses and for a notify or drain_check
 * program that fails check_script_secure() (they run as root). Returns how many. */
int check_conf_refusals(const struct conf *c, struct diag *d);
