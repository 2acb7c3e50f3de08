/* Shared between the parts of the configuration parser (lib/conf.c, lib/conf_services.c): the message and
 * getter helpers. Not for other modules. */
#pragma once

#include <libconfig.h>

#include "conf.h"

/* Where a value came from, for messages: "FILE:LINE: KEY". */
struct ctx {
        struct diag *d;
        const char *file;
};

/* Records "FILE:LINE: KEY: "VALUE": MESSAGE" (value omitted when NULL). */
__attribute__((format(printf, 6, 7)))
void verr(const struct ctx *x, enum diag_level lvl, const config_setting_t *s, const char *key,
          const char *value, const char *fmt, ...);
/* Unknown keys of grp are errors. */
void check_keys(const struct ctx *x, const config_setting_t *grp, const char *prefix,
                const char *const *allowed);
/* Each getter returns 1 when the key is present and valid, 0 when absent, -1 after recording an error. */
int get_str(const struct ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
            const char **out);
int get_int(const struct ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
            long long min, long long max, long long *out);
int get_int32(const struct ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
              int min, int max, int *out);
int get_seconds(const struct ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                double max, double *out);
/* A list of strings: the count, 0 when absent (*list NULL) or empty, -1 on error. */
int get_strlist(const struct ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                config_setting_t **list);

/* lib/conf_services.c: the services list and on_stop. */
void conf_parse_services(const struct ctx *x, const config_setting_t *root, struct conf *c);
/* After conf.d is scanned: the default service of the top-level form, or the check names of services
 * resolved (an unknown one is an error in d). Returns 0 or -ENOMEM. */
int conf_build_services(struct conf *c, struct diag *d);
void conf_free_services(struct conf *c);
