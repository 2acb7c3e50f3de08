/* Reading libconfig settings for the conf parsers: messages that name file, line, key and value, and typed
 * getters (with the libconfig 1.5 integer workaround). Only lib/conf*.c use it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <libconfig.h>

#include "buf.h"

struct proc_cred;

/* Where a value came from, for messages: "FILE:LINE: KEY". */
struct conf_ctx {
        struct diag *d;
        const char *file;
        unsigned flags;         /* CONF_LOAD_* */
};

/* Skip what only this host's files decide (the programs named, metrics_file's directory): for the modes that
 * must work although one is missing (--render, --failsafe, failoverctl). The daemon and --check have them. */
#define CONF_LOAD_NO_HOST 1u

/* Records "FILE:LINE: KEY: "VALUE": MESSAGE" (value omitted when NULL). */
__attribute__((format(printf, 6, 7)))
void conf_err(const struct conf_ctx *x, enum diag_level lvl, const config_setting_t *s, const char *key,
              const char *value, const char *fmt, ...);
/* "a group", "an integer", ...: a libconfig type for a message. */
const char *conf_type_name(int t);
/* "prefix.name", or name when prefix is NULL. */
void conf_key_name(char *out, size_t len, const char *prefix, const char *name);
/* Unknown keys are errors: a typo must not silently fall back to a default. allowed ends with NULL. */
void conf_check_keys(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix,
                     const char *const *allowed);

/* Each getter returns 1 when the key is present and valid, 0 when absent, -1 after recording an error. */
int conf_get_str(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                 const char **out);
int conf_get_int(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                 long long min, long long max, long long *out);
int conf_get_int32(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                   int min, int max, int *out);
/* Seconds: an integer or a float, strictly positive and at most max. */
int conf_get_seconds(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                     double max, double *out);
/* A list of strings (array or list syntax). Returns the count, 0 when absent, -1 on error. */
int conf_get_strlist(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                     config_setting_t **list);
/* A NULL-terminated copy of a checked list of n strings, or NULL when out of memory. */
char **conf_strv_from_list(const config_setting_t *list, int n);
/* Replaces *dst with a copy of v. Returns 0 or -ENOMEM (then *dst is kept). */
int conf_set_str(char **dst, const char *v);
/* An absolute path into *dst ("" too when may_be_empty). */
void conf_get_path(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                   bool may_be_empty, char **dst);
/* Unless CONF_LOAD_NO_HOST: a message of level lvl on s (key and value) when path is not an executable
 * regular file; what names what could then never run ("the check"). Returns 0, or -1 after the message. */
int conf_check_program(const struct conf_ctx *x, enum diag_level lvl, const config_setting_t *s, const char *key,
                       const char *path, const char *what);
/* prefix.user into *dst, resolved into *cred now, so the loop never asks NSS; "" unsets both. */
void conf_get_user(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, char **dst,
                   struct proc_cred **cred);

/* Reads file into cfg, recording why not in d. @include paths are relative to the including file's directory.
 * Returns 0 (the caller destroys cfg) or -EINVAL. */
int conf_read_file(struct diag *d, config_t *cfg, const char *file);
