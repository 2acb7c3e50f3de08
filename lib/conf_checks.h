/* conf.d: the checks found there and the reload plan between two lists of them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "conf_model.h"

/* Scans dir for checks with the defaults of c->checks; replaces c->check. */
int conf_scan_checks(struct conf *c, struct diag *d);
/* The same with CONF_LOAD_* flags (lib/conf_read.h). */
int conf_scan_checks_opts(struct conf *c, unsigned flags, struct diag *d);

const struct check_conf *conf_find_check(const struct conf *c, const char *name);

enum conf_check_change {
        CHECK_ADDED,            /* in new only */
        CHECK_KEPT,             /* same name, same settings */
        CHECK_CHANGED,          /* same name, other argv, interval, timeout, rise, fall or user */
};

/* The reload plan for checks: for each check of next, how it relates to prev (old_index[i] is its
 * index in prev, or -1 when added); removed[j] is set for each check of prev that next no longer has.
 * prev may be NULL (start-up: everything is added). Both arrays are the caller's, sized n_checks. */
void conf_diff_checks(const struct conf *prev, const struct conf *next, enum conf_check_change *change,
                      int *old_index, bool *removed);

/* Frees what k holds and zeroes it; returns NULL. */
struct check_conf *conf_check_clear(struct check_conf *k);
/* Frees the n checks of v and v. */
void conf_free_checks(struct check_conf *v, size_t n);
