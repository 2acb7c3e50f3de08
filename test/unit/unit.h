/* Shared by the unit suites: suite declarations and small fixture helpers. */
#pragma once

#include <check.h>

#define SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef SUITE

/* Creates a fresh temporary directory (mkdtemp) and returns its path (static storage per call site). */
char *unit_tmpdir(void);
/* Writes text to dir/name with mode; returns the malloc'd path. Aborts the test on failure. */
char *unit_write(const char *dir, const char *name, const char *text, int mode);
/* rm -rf dir, without a shell. */
void unit_rmrf(const char *dir);
/* Brings lo up in the current network namespace (a fresh one has it down): 0 or -1. */
int unit_lo_up(void);

/* test/unit/stall.c: while unit_fsync_stall is set, fsync() waits (at most 20 s; unit_fsync_waiting counts
 * the callers waiting now); unit_nss_calls counts getpwnam_r() and getgrouplist() calls. */
#include <stdatomic.h>
extern atomic_int unit_fsync_stall;
extern atomic_int unit_fsync_waiting;
extern atomic_int unit_nss_calls;
