/* Native checks: tcp, http, unit and file kinds of NAME.conf that run on the event loop, with no process. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <libconfig.h>
#include <systemd/sd-event.h>

#include "buf.h"
#include "fsm.h"

enum native_type {
        NATIVE_TCP = 1,         /* connect to host:port, optional send and expect */
        NATIVE_HTTP,            /* GET a URL through libcurl's multi-socket interface */
        NATIVE_UNIT,            /* a systemd unit's ActiveState through sd-bus, event-driven */
        NATIVE_FILE,            /* the number in a file is the exit code (keepalived's track_file) */
};

struct native_conf {
        enum native_type type;
        char *host;             /* tcp: a literal IPv4 or IPv6 address (no DNS on the loop) */
        uint16_t port;          /* tcp */
        char *send;             /* tcp: bytes sent after connecting; NULL: none */
        char *expect;           /* tcp: must appear in the reply; http: in the body; NULL: not checked */
        char *url;              /* http */
        int status_min;         /* http: expected status range, default 200-299 */
        int status_max;
        char *ca_file;          /* http: CA bundle for a private CA; NULL: the system's */
        bool tls_verify;        /* http: verify the certificate and host name (default true) */
        char *unit;             /* unit: "nginx.service" */
        char *path;             /* file: absolute path */
};

/* Parses the native keys of NAME.conf (root is its root group). Errors go to d naming file, line and
 * value. Returns 1 with *ret set when the file has a type, 0 when it has none (a script or command check),
 * -1 after recording an error. */
int check_native_parse(struct diag *d, const char *file, const config_setting_t *root, struct native_conf **ret);
struct native_conf *check_native_conf_free(struct native_conf *n);
/* A deep copy, or NULL when out of memory (or n is NULL). */
struct native_conf *check_native_conf_dup(const struct native_conf *n);
bool check_native_conf_equal(const struct native_conf *a, const struct native_conf *b);
const char *check_native_type_name(enum native_type t);
/* "tcp 192.0.2.1:80", "http https://...", "unit nginx.service", "file /run/x": for logs and status. */
void check_native_describe(const struct native_conf *n, char *out, size_t len);

/* One run's grade. */
struct native_result {
        enum severity severity;
        int status;             /* file: the number read; http: the status code; else 0 */
        char description[128];  /* "connected", "HTTP 200", "unit active", "file says 2", "timed out after 1 s" */
        char message[513];      /* why, for people */
};

struct native;
/* A run finished (not called after native_cancel() or native_free()). */
typedef void (*native_done_fn)(struct native *n, const struct native_result *r, void *userdata);
/* Event-driven kinds (unit, file): the watched value changed while no run was in flight: run now. */
typedef void (*native_changed_fn)(struct native *n, void *userdata);

/* nc is copied. Nothing is watched or connected before the first native_run(). Returns 0 or -errno. */
int native_new(sd_event *e, const struct native_conf *nc, native_done_fn done, native_changed_fn changed,
               void *userdata, struct native **ret);
void native_set_userdata(struct native *n, void *userdata);
/* The user of the check (lib/proc.h), copied: a file check reads with its rights from the next read on.
 * NULL: the daemon's own. Returns 0 or -ENOMEM. */
struct proc_cred;
int native_set_cred(struct native *n, const struct proc_cred *cred);
/* Exchanges the users of a and b (a reload that cannot fail). Either may be NULL: then nothing happens. */
void native_swap_cred(struct native *a, struct native *b);
/* Starts one run bounded by timeout_usec; done is called once, possibly before this returns. tcp and http
 * connect each run; unit and file grade the last value their watch saw (waiting for the first one).
 * Returns 0 or -errno (then done is not called). */
int native_run(struct native *n, uint64_t timeout_usec);
/* Ends a run in flight without calling done. The watch of unit and file stays. */
void native_cancel(struct native *n);
bool native_busy(const struct native *n);
struct native *native_free(struct native *n);
