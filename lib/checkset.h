/* The daemon's checks as one set, parallel to the configuration's: built at start, rebuilt on reload. */
#pragma once

#include <stddef.h>

#include <systemd/sd-event.h>

#include "check.h"
#include "conf.h"

enum checkset_change {
        CHECKSET_ADDED,
        CHECKSET_CHANGED,
        CHECKSET_REMOVED,
};

/* Hears what a rebuild did to one check, for the caller's log. */
typedef void (*checkset_note_fn)(const char *name, enum checkset_change what, void *userdata);

/* Replaces *checks (*n_checks entries parallel to prev->check; prev NULL and no checks at start-up) by
 * checks parallel to next->check. A check both have keeps its state (and takes next's settings when they
 * changed), a new one is created and started, a removed one is freed; note (may be NULL) hears each.
 * cb and userdata go to the new checks. All or nothing: on failure (-ENOMEM, or -EINVAL for a check that
 * cannot be made) *checks and every check in it are as before and nothing new runs. Returns 0 or -errno. */
int checkset_rebuild(sd_event *e, struct check ***checks, size_t *n_checks, const struct conf *prev,
                     const struct conf *next, check_result_fn cb, checkset_note_fn note, void *userdata);
