/* The per-service part of the status screen (docs/failoverctl.8). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "ctl_format.h"
#include "ctl_services.h"

static json_object *get(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
                return NULL;
        return v;
}

static const char *str(json_object *o, const char *key)
{
        json_object *v = get(o, key);
        return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static size_t len(json_object *a)
{
        return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static bool multi(json_object *st)
{
        json_object *sv = get(st, "services");
        const char *name = len(sv) ? str(json_object_array_get_idx(sv, 0), "name") : NULL;
        return len(sv) > 1 || (len(sv) == 1 && name && strcmp(name, "default") != 0);
}

const char *ctl_prefix_state(json_object *st, json_object *ip)
{
        const char *name = str(ip, "service");
        json_object *sv = get(st, "services");
        for (size_t i = 0; name && i < len(sv); i++) {
                json_object *s = json_object_array_get_idx(sv, i);
                if (str(s, "name") && strcmp(str(s, "name"), name) == 0)
                        return str(s, "state");
        }
        return str(st, "state");
}

static const char *health_of(json_object *st, const char *check)
{
        json_object *checks = get(st, "checks");
        for (size_t i = 0; i < len(checks); i++) {
                json_object *c = json_object_array_get_idx(checks, i);
                if (str(c, "name") && strcmp(str(c, "name"), check) == 0) {
                        const char *h = str(c, "health"), *sev = str(c, "severity");
                        if (h && strcmp(h, "down") == 0 && sev)
                                return sev;
                        return h ? h : "?";
                }
        }
        return "?";
}

int ctl_format_services(json_object *st, double now, struct buf *out)
{
        json_object *sv = get(st, "services");

        if (!multi(st))
                return 0;
        buf_puts(out, "services:\n");
        for (size_t i = 0; i < len(sv); i++) {
                json_object *s = json_object_array_get_idx(sv, i);
                const char *state = str(s, "state"), *reason = str(s, "reason"), *hold = str(s, "hold");
                char upper[32] = "?";
                for (size_t k = 0; state && state[k] && k + 1 < sizeof(upper); k++) {
                        upper[k] = (char)(state[k] >= 'a' && state[k] <= 'z' ? state[k] - 'a' + 'A' : state[k]);
                        upper[k + 1] = '\0';
                }
                buf_printf(out, "  %s: %s (role %s)", str(s, "name") ? str(s, "name") : "?", upper,
                           str(s, "role") ? str(s, "role") : "?");
                json_object *since = get(s, "since");
                if (since && (json_object_is_type(since, json_type_double) || json_object_is_type(since, json_type_int))) {
                        double t = json_object_get_double(since);
                        char when[32], ago[32];
                        struct tm tm;
                        time_t tt = (time_t)t;
                        if (localtime_r(&tt, &tm)) {
                                strftime(when, sizeof(when), now - t >= 86400 ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
                                ctl_format_duration(now - t, ago, sizeof(ago));
                                buf_printf(out, " since %s (%s ago)", when, ago);
                        }
                }
                if (reason)
                        buf_printf(out, ": %s", reason);
                buf_puts(out, "\n");
                if (hold)
                        buf_printf(out, "    held: %s\n", hold);
                buf_puts(out, "    addresses:");
                json_object *ips = get(s, "shared_ips");
                for (size_t k = 0; k < len(ips); k++) {
                        const char *p = json_object_get_string(json_object_array_get_idx(ips, k));
                        buf_printf(out, "%s %s", k ? "," : "", p ? p : "?");
                }
                buf_puts(out, "\n    checks:");
                json_object *checks = get(s, "checks");
                if (!len(checks))
                        buf_puts(out, " none");
                for (size_t k = 0; k < len(checks); k++) {
                        const char *c = json_object_get_string(json_object_array_get_idx(checks, k));
                        buf_printf(out, "%s %s (%s)", k ? "," : "", c ? c : "?", c ? health_of(st, c) : "?");
                }
                buf_puts(out, "\n");
        }
        return out->oom ? -ENOMEM : 0;
}
