/* Applying a rendering to FRR (docs/design.md): validate, install atomically, full reload or fast path, read back.
 * Every step is a child process or a vty socket query on the caller's sd-event loop; nothing blocks. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "conf.h"
#include "state.h"

enum apply_kind {
        APPLY_FULL,             /* vtysh -C, install, frr-reload.py --reload (vtysh -f without it) */
        APPLY_FAST,             /* the network statements re-entered on bgpd's vty socket (one vtysh -d bgpd call when
                                 * the socket is missing or refused), then install */
        APPLY_READBACK,         /* only read back what bgpd runs */
        APPLY_REANNOUNCE,       /* the fast path's way, for prefixes bgpd keeps invalid: each one's network
                                 * statement removed and entered again (render_reannounce), then install */
};

struct apply_result {
        int error;              /* 0, or -errno / -EPROTO (a tool failed) / -EBADMSG (vtysh -C rejected) */
        char *message;          /* what failed, with the tool's own words; NULL when ok */
        char *warning;          /* something the operator should know even though it worked; or NULL */
        char *output;           /* what frr-reload.py / vtysh printed, for the debug log; or NULL */
        bool file_changed;      /* frr.conf on disk was rewritten */
        bool readback_ok;       /* read-back done: running[] is valid */
        enum fo_state running[CONF_MAX_SERVICES];       /* per service: what bgpd runs (STATE_INVALID: inconsistent) */
        bool has_router;        /* bgpd has our router bgp block */
        uint64_t usec;          /* whole apply */
        uint64_t tool_usec;     /* the reload / fast-path call alone (on the vty socket: up to bgpd's answer to the
                                 * last network statement) */
        uint64_t tool_done_mono;        /* CLOCK_MONOTONIC usec the fast path was in bgpd; 0 when not one */
        double tool_started;    /* unix time the reload / fast-path call was started, for measurements */
};

struct apply;
typedef void (*apply_done_fn)(struct apply *a, struct apply_result *r, void *userdata);

/* Starts applying states (one per service of c) the given way, then reads back when readback is set.
 * c must stay valid until done is called or the apply is freed; states are copied. done is called once;
 * the apply is freed after it returns. Returns 0 or -errno. */
int apply_start(sd_event *e, const struct conf *c, const enum fo_state *states, enum apply_kind kind,
                bool readback, apply_done_fn done, void *userdata, struct apply **ret);
/* Right after apply_start: the fast path touches only the services s with only[s] set (the others are
 * unchanged in bgpd); the rendering and the read-back still cover all. */
void apply_set_fast_only(struct apply *a, const bool *only);
/* Right after apply_start of APPLY_REANNOUNCE: which shared prefixes (prefixes[i] for c->shared_ips[i]) to
 * re-enter. Returns 0 or -ENOMEM. */
int apply_set_reannounce(struct apply *a, const bool *prefixes);
/* Cancels (kills the running tool); done is not called. Returns NULL. */
struct apply *apply_free(struct apply *a);

/* Blocking wrapper for one-shot use (failoverd --apply). r is the caller's to clear. */
int apply_run(const struct conf *c, const enum fo_state *states, enum apply_kind kind, bool readback,
              struct apply_result *r);
void apply_result_clear(struct apply_result *r);

/* A full apply writes the candidate (vtysh -C) and frr-reload.py's copy into a new private directory
 * RUNTIME_DIRECTORY/apply.XXXXXX, never into frr.config's directory, which the frr user owns. */

/* Removes what an apply killed mid-way leaves: private directories in runtime_directory and, beside
 * frr.config, only failoverd's own temporary names (.frr.conf.failoverd-XXXXXX, an older version's
 * .frr.conf.candidate and .failoverd-reload/frr.conf); symlinks are never followed. Returns how many
 * files and directories were removed. */
int apply_remove_leftovers(const struct conf *c);
