/* Entry points of failoverd's modes, shared between the agent's files. */
#pragma once

#include "conf.h"
#include "state.h"

/* Loads the configuration with CONF_LOAD_* flags, printing its diagnostics (*warnings gets their count when
 * not NULL); exits 1 when it is invalid. */
struct conf *load_conf_or_exit(const char *path, unsigned flags, int verbose, size_t *warnings);
/* --apply: one-shot render, validate, write, apply and verify. Returns the process exit code. */
int apply_main(const char *path, enum fo_state st, int verbose);
/* --failsafe: withdraw the shared addresses unless failsafe = "keep" (run when failoverd.service failed for
 * good). Returns the process exit code. */
int failsafe_main(const char *path, int verbose);
/* No mode: the daemon. Returns the process exit code. */
int daemon_main(const char *path, int verbose);
