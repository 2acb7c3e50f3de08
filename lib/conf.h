/* Loading failoverd.conf and its conf.d into the configuration model (docs/failoverd.conf.5). */
#pragma once

#include "buf.h"
#include "conf_model.h"
#include "conf_read.h"
#include "conf_services.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONF_DEFAULT_PATH SYSCONFDIR "/failoverd/failoverd.conf"

/* Loads path and its conf.d. Every problem goes to d (errors and notices, each naming file, line and
 * value). Returns 0 with *ret set, or -EINVAL (errors in d) / -errno with *ret NULL. */
int conf_load(const char *path, struct conf **ret, struct diag *d);
/* conf_load with CONF_LOAD_* flags (lib/conf_read.h); conf_load is flags 0, the daemon's strictness. */
int conf_load_opts(const char *path, unsigned flags, struct conf **ret, struct diag *d);
struct conf *conf_free(struct conf *c);
/* frr.reload's default: /usr/lib/frr/frr-reload.py (Debian, FRR's RPMs), or /usr/libexec/frr/frr-reload.py
 * where only that exists (Fedora, RHEL and its rebuilds). */
const char *conf_frr_reload_default(void);
