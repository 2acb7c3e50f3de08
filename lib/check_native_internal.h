/* What the native check kinds (check_tcp.c, check_http.c, check_unit.c, check_file.c) share with check_native.c. */
#pragma once

#include "check_native.h"

struct native_kind {
        /* A run begins: connect (tcp, http) or make sure the watch is set up (unit, file). Returns 0 or
         * -errno; the kind finishes the run with native_finish(), or native_value() for watched kinds. */
        int (*start)(struct native *n);
        /* The run in flight is abandoned (timeout, cancel): close what start opened. May be NULL. */
        void (*stop)(struct native *n);
        /* Everything goes, the watch too. */
        void (*free)(struct native *n);
        bool watched;           /* unit, file: a run grades the value the watch saw last */
};

struct native {
        sd_event *event;
        struct native_conf *conf;
        const struct native_kind *kind;
        native_done_fn done;
        native_changed_fn changed;
        void *userdata;
        sd_event_source *timer;         /* the run's timeout */
        uint64_t timeout_usec;
        bool busy;
        bool known;                     /* watched kinds: last holds the value seen */
        bool stale;                     /* the kind's start() wants a new value before the run is graded */
        struct proc_cred *cred;         /* checks.user (file: the read's rights); NULL: the daemon's */
        struct native_result last;
        void *state;                    /* the kind's own */
};

extern const struct native_kind native_tcp, native_http, native_unit, native_file;

/* The kind ends the run in flight with r (nothing happens when none is in flight). */
void native_finish(struct native *n, const struct native_result *r);
/* The same with a formatted failure. */
void native_fail(struct native *n, const char *description, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Watched kinds: the watch saw a value (already graded). Ends a run waiting for one, or tells the owner
 * when the grade changed. */
void native_value(struct native *n, const struct native_result *r);
/* Watched kinds: the watch is gone (bus disconnected, directory removed): the value is unknown again. */
void native_forget(struct native *n);
void native_result_set(struct native_result *r, enum severity sev, const char *description, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
