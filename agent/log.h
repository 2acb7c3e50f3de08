/* Logging: journald with structured fields under systemd, stderr with time and level otherwise. */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "buf.h"

void log_init(const char *ident, int max_level);
void log_set_level(int max_level);
/* fields: NULL, or "KEY=value" strings ended by NULL (sent to journald as fields; ignored on stderr). */
void log_fields(int level, const char *const *fields, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define log_err(...) log_fields(LOG_ERR, NULL, __VA_ARGS__)
#define log_warn(...) log_fields(LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(...) log_fields(LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(...) log_fields(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_fields(LOG_DEBUG, NULL, __VA_ARGS__)
/* Called with every message at LOG_INFO or more urgent, whatever the log level (the control socket's event
 * stream, agent/control.c); NULL: none. The tap must not log. */
typedef void (*log_tap_fn)(int level, const char *const *fields, const char *msg, void *userdata);
/* active(userdata) says whether anyone listens now: when not, a message costs the tap nothing more. */
void log_set_tap(log_tap_fn fn, bool (*active)(void *userdata), void *userdata);
/* Logs every message of d at its level. */
void log_diag(const struct diag *d);
