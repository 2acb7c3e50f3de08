/* failoverd.conf and conf.d: libconfig parsing, defaults and validation into struct conf (SPEC 3, 4). */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "conf.h"
#include "conf_int.h"
#include "proc.h"

#define EXTRA_MAX (1024 * 1024)


/* Quotes a value for a message: control characters escaped, long values cut. */
static void quote(struct buf *b, const char *s)
{
        size_t n = 0;
        buf_puts(b, "\"");
        for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
                if (n == 120) {
                        buf_puts(b, "...");
                        break;
                }
                if (*p == '\n')
                        buf_puts(b, "\\n");
                else if (*p == '\t')
                        buf_puts(b, "\\t");
                else if (*p == '"' || *p == '\\')
                        buf_printf(b, "\\%c", *p);
                else if (*p < 0x20 || *p == 0x7f)
                        buf_printf(b, "\\x%02x", *p);
                else
                        buf_append(b, p, 1);
        }
        buf_puts(b, "\"");
}

/* The file a setting came from. libconfig 1.5 names an @include file as written in the directive, and
 * read_config() makes those relative to the main file's directory. */
static const char *setting_file(const struct ctx *x, const config_setting_t *s, char *buf, size_t len)
{
        const char *f = s ? config_setting_source_file(s) : NULL;
        const char *slash = strrchr(x->file, '/');

        if (!f || strcmp(f, x->file) == 0)
                return x->file;
        if (f[0] == '/' || !slash)
                return f;
        snprintf(buf, len, "%.*s/%s", slash == x->file ? 0 : (int)(slash - x->file), x->file, f);
        return buf;
}

/* Records "FILE:LINE: KEY: "VALUE": MESSAGE" (value omitted when NULL). */
void verr(const struct ctx *x, enum diag_level lvl, const config_setting_t *s, const char *key,
                 const char *value, const char *fmt, ...)
{
        struct buf b;
        va_list ap;
        char path[PATH_MAX];

        buf_init(&b);
        if (s && config_setting_source_line(s) > 0)
                buf_printf(&b, "%s:%u: ", setting_file(x, s, path, sizeof(path)), config_setting_source_line(s));
        else
                buf_printf(&b, "%s: ", x->file);
        if (key)
                buf_printf(&b, "%s: ", key);
        if (value) {
                quote(&b, value);
                buf_puts(&b, ": ");
        }
        va_start(ap, fmt);
        buf_vprintf(&b, fmt, ap);
        va_end(ap);
        diag_add(x->d, lvl, "%s", b.data ? b.data : "out of memory");
        buf_free(&b);
}

static const char *type_name(int t)
{
        switch (t) {
        case CONFIG_TYPE_GROUP:
                return "a group";
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64:
                return "an integer";
        case CONFIG_TYPE_FLOAT:
                return "a number";
        case CONFIG_TYPE_STRING:
                return "a string";
        case CONFIG_TYPE_BOOL:
                return "a boolean";
        case CONFIG_TYPE_ARRAY:
        case CONFIG_TYPE_LIST:
                return "a list";
        }
        return "a value";
}

static void key_name(char *out, size_t len, const char *prefix, const char *name)
{
        snprintf(out, len, "%s%s%s", prefix ? prefix : "", prefix ? "." : "", name);
}

/* Unknown keys are errors: a typo must not silently fall back to a default. */
void check_keys(const struct ctx *x, const config_setting_t *grp, const char *prefix,
                       const char *const *allowed)
{
        int n = config_setting_length(grp);
        for (int i = 0; i < n; i++) {
                config_setting_t *m = config_setting_get_elem(grp, (unsigned)i);
                const char *name = config_setting_name(m);
                bool ok = false;
                for (const char *const *a = allowed; *a; a++)
                        if (name && strcmp(name, *a) == 0)
                                ok = true;
                if (!ok) {
                        char k[128];
                        key_name(k, sizeof(k), prefix, name ? name : "?");
                        verr(x, DIAG_ERROR, m, k, NULL, "unknown key");
                }
        }
}

/* Each getter returns 1 when the key is present and valid, 0 when absent, -1 after recording an error. */

int get_str(const struct ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                   const char **out)
{
        config_setting_t *s = grp ? config_setting_get_member(grp, name) : NULL;
        char k[128];

        if (!s)
                return 0;
        key_name(k, sizeof(k), prefix, name);
        if (config_setting_type(s) != CONFIG_TYPE_STRING) {
                verr(x, DIAG_ERROR, s, k, NULL, "must be a string, not %s", type_name(config_setting_type(s)));
                return -1;
        }
        *out = config_setting_get_string(s);
        return 1;
}

/* libconfig 1.5 (Debian 12) keeps a plain integer literal in 32 bits and silently wraps it (4294967296 reads
 * as 0, 4294967297 as 1), so the literal is read back from its source line. Returns 1 with the literal's text
 * (sign and digits, no L suffix) in out, 0 when it cannot be found there. */
static int source_literal(const struct ctx *x, const config_setting_t *s, char *out, size_t outlen)
{
        char path[PATH_MAX];
        const char *file = setting_file(x, s, path, sizeof(path)), *name = config_setting_name(s);
        unsigned line = config_setting_source_line(s);
        char *text = NULL;
        size_t cap = 0, nl;
        int found = 0;
        FILE *f;

        if (!file || !name || line == 0 || !(f = fopen(file, "re")))
                return 0;
        for (unsigned i = 0; i < line; i++)
                if (getline(&text, &cap, f) < 0) {
                        free(text);
                        fclose(f);
                        return 0;
                }
        fclose(f);
        nl = strlen(name);
        for (const char *p = strstr(text, name); p && !found; p = strstr(p + 1, name)) {
                if (p > text && (isalnum((unsigned char)p[-1]) || strchr("_-*", p[-1])))
                        continue;
                const char *q = p + nl;
                q += strspn(q, " \t");
                if (*q != '=' && *q != ':')
                        continue;
                q++;
                q += strspn(q, " \t");
                const char *start = q;
                if (*q == '-' || *q == '+')
                        q++;
                bool hex = q[0] == '0' && (q[1] == 'x' || q[1] == 'X');
                size_t nd = hex ? strspn(q + 2, "0123456789abcdefABCDEF") + 2 : strspn(q, "0123456789");
                const char *end = q + nd;
                const char *after = end + strspn(end, "L");
                if (nd == 0 || (hex && nd == 2) || isalnum((unsigned char)*after) || *after == '.' ||
                    (size_t)(end - start) >= outlen)
                        continue;
                memcpy(out, start, (size_t)(end - start));
                out[end - start] = '\0';
                found = 1;
        }
        free(text);
        return found;
}

/* The value of an integer setting, its text in v; *exact is false when a wrapped literal was not found. */
static long long int_value(const struct ctx *x, const config_setting_t *s, char *v, size_t vlen, bool *exact)
{
        long long val = config_setting_get_int64(s);

        *exact = true;
        if (config_setting_type(s) == CONFIG_TYPE_INT && source_literal(x, s, v, vlen)) {
                const char *digits = v + (v[0] == '-' || v[0] == '+');
                bool hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
                errno = 0;
                long long lit = strtoll(v, NULL, hex ? 16 : 10);
                if (errno == ERANGE)
                        return v[0] == '-' ? LLONG_MIN : LLONG_MAX;
                /* Only trust the text when it wraps to what libconfig read: the line may hold other things. */
                if ((unsigned)(unsigned long long)lit == (unsigned)(unsigned long long)val)
                        return lit;
        }
        if (config_setting_type(s) == CONFIG_TYPE_INT)
                *exact = false;
        snprintf(v, vlen, "%lld", val);
        return val;
}

int get_int(const struct ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                   long long min, long long max, long long *out)
{
        config_setting_t *s = grp ? config_setting_get_member(grp, name) : NULL;
        char k[128], v[64];
        bool exact;

        if (!s)
                return 0;
        key_name(k, sizeof(k), prefix, name);
        int t = config_setting_type(s);
        if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
                verr(x, DIAG_ERROR, s, k, NULL, "must be an integer, not %s", type_name(t));
                return -1;
        }
        long long val = int_value(x, s, v, sizeof(v), &exact);
        if (!exact && val < 0 && max > 2147483647LL) {
                /* The literal was not found: a negative value here most likely is a wrapped one. */
                snprintf(v, sizeof(v), "%lld", val + 4294967296LL);
                verr(x, DIAG_ERROR, s, k, v, "write numbers above 2147483647 with an L suffix (%sL)", v);
                return -1;
        }
        if (val < min || val > max) {
                verr(x, DIAG_ERROR, s, k, v, "must be between %lld and %lld", min, max);
                return -1;
        }
        *out = val;
        return 1;
}

int get_int32(const struct ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                     int min, int max, int *out)
{
        long long v;
        int r = get_int(x, grp, prefix, name, min, max, &v);
        if (r == 1)
                *out = (int)v;
        return r;
}

/* Seconds: an integer or a float, strictly positive and at most max. */
int get_seconds(const struct ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                       double max, double *out)
{
        config_setting_t *s = grp ? config_setting_get_member(grp, name) : NULL;
        char k[128], v[64];
        double val;

        if (!s)
                return 0;
        key_name(k, sizeof(k), prefix, name);
        int t = config_setting_type(s);
        bool exact;
        if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
                val = (double)int_value(x, s, v, sizeof(v), &exact);
        else if (t == CONFIG_TYPE_FLOAT)
                val = config_setting_get_float(s);
        else {
                verr(x, DIAG_ERROR, s, k, NULL, "must be a number of seconds, not %s", type_name(t));
                return -1;
        }
        if (!(val >= 0.01 && val <= max)) {
                snprintf(v, sizeof(v), "%g", val);
                verr(x, DIAG_ERROR, s, k, v, "must be between 0.01 and %g seconds", max);
                return -1;
        }
        *out = val;
        return 1;
}

/* A list of strings (array or list syntax). Returns the count, 0 when absent, -1 on error. */
int get_strlist(const struct ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                       config_setting_t **list)
{
        config_setting_t *s = grp ? config_setting_get_member(grp, name) : NULL;
        char k[128];

        *list = NULL;
        if (!s)
                return 0;
        key_name(k, sizeof(k), prefix, name);
        int t = config_setting_type(s);
        if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
                verr(x, DIAG_ERROR, s, k, NULL, "must be a list of strings, not %s", type_name(t));
                return -1;
        }
        int n = config_setting_length(s);
        int bad = 0;
        for (int i = 0; i < n; i++) {
                config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
                if (config_setting_type(e) != CONFIG_TYPE_STRING) {
                        char ki[160];
                        snprintf(ki, sizeof(ki), "%s[%d]", k, i);
                        verr(x, DIAG_ERROR, e, ki, NULL, "must be a string, not %s",
                             type_name(config_setting_type(e)));
                        bad = 1;
                }
        }
        if (bad)
                return -1;
        *list = s;
        return n;
}

/* A NULL-terminated copy of a checked list of n strings, or NULL when out of memory. */
static char **strv_from_list(const config_setting_t *list, int n)
{
        char **v = calloc((size_t)n + 1, sizeof(char *));
        for (int i = 0; v && i < n; i++)
                if (!(v[i] = strdup(config_setting_get_string(config_setting_get_elem(list, (unsigned)i)))))
                        return strv_free(v);
        return v;
}

static bool has_ctrl_or_space(const char *s)
{
        for (; *s; s++)
                if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
                        return true;
        return false;
}

bool conf_valid_hostname(const char *s)
{
        /* RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
        size_t len = strlen(s), label = 0;
        if (len == 0 || len > 253)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!(isalnum((unsigned char)c) || c == '-') || (c == '-' && label == 0))
                        return false;
                if (++label > 63)
                        return false;
        }
        return label > 0 && s[len - 1] != '-';
}

static bool parse_u16(const char *s, size_t n)
{
        unsigned long v = 0;
        if (n == 0 || n > 5)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned long)(s[i] - '0');
        }
        return v <= 65535;
}

bool conf_valid_community(const char *s)
{
        const char *colon = strchr(s, ':');
        return colon && parse_u16(s, (size_t)(colon - s)) && parse_u16(colon + 1, strlen(colon + 1));
}

bool conf_valid_check_name(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-'))
                        return false;
        return true;
}

bool conf_valid_pathspace(const char *s)
{
        /* FRR uses the name as a directory below /etc/frr and /var/run/frr. */
        if (strlen(s) > 64)
                return false;
        return *s == '\0' || (conf_valid_check_name(s) && s[0] != '-');
}

int conf_expand_pattern(const char *pattern, int datacenter, int index, char *out, size_t outlen)
{
        struct buf b;
        int seen = 0, r = 0;

        buf_init(&b);
        for (const char *p = pattern; *p; p++) {
                if (*p != '%') {
                        buf_append(&b, p, 1);
                        continue;
                }
                if (p[1] == 'd' && seen < 2) {
                        buf_printf(&b, "%d", seen == 0 ? datacenter : index);
                        seen++;
                        p++;
                } else if (p[1] == '%') {
                        buf_append(&b, "%", 1);
                        p++;
                } else {
                        r = -EINVAL;
                        break;
                }
        }
        if (r == 0 && seen != 2)
                r = -EINVAL;
        if (r == 0 && (b.oom || !b.data || b.len >= outlen))
                r = -ENAMETOOLONG;
        if (r == 0)
                memcpy(out, b.data, b.len + 1);
        buf_free(&b);
        return r;
}

/* Canonical text of an address (inet_ntop of inet_pton), or NULL when s is not one. */
static char *canonical_addr(const char *s)
{
        unsigned char a[16];
        char t[INET6_ADDRSTRLEN];
        int fam = inet_pton(AF_INET, s, a) == 1 ? AF_INET : inet_pton(AF_INET6, s, a) == 1 ? AF_INET6 : 0;
        if (!fam || !inet_ntop(fam, a, t, sizeof(t)))
                return NULL;
        return strdup(t);
}

static int set_str(char **dst, const char *v)
{
        char *n = strdup(v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

/* An absolute path with no control characters: it reaches argv or the file system, never a shell. */
static bool valid_path(const char *s)
{
        if (s[0] != '/')
                return false;
        for (; *s; s++)
                if (iscntrl((unsigned char)*s))
                        return false;
        return true;
}

static void get_path(const struct ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                     bool may_be_empty, char **dst)
{
        const char *v;
        char k[128];

        if (get_str(x, grp, prefix, name, &v) != 1)
                return;
        key_name(k, sizeof(k), prefix, name);
        if (may_be_empty && *v == '\0') {
                set_str(dst, "");
                return;
        }
        if (!valid_path(v)) {
                verr(x, DIAG_ERROR, config_setting_get_member(grp, name), k, v,
                     "must be an absolute path without control characters");
                return;
        }
        set_str(dst, v);
}

/* The user is resolved here, once: uid, gid and groups go to every spawn, so the loop never asks NSS. */
static void get_user(const struct ctx *x, const config_setting_t *grp, const char *prefix, char **dst,
                     struct proc_cred **cred)
{
        const char *v;
        char k[128];
        struct proc_cred *c = NULL;

        if (get_str(x, grp, prefix, "user", &v) != 1)
                return;
        key_name(k, sizeof(k), prefix, "user");
        if (*v == '\0') {
                free(*dst);
                *dst = NULL;
                *cred = (free(*cred), NULL);
                return;
        }
        int r = has_ctrl_or_space(v) ? -ENOENT : proc_cred_lookup(v, &c);
        if (r == -ENOENT) {
                verr(x, DIAG_ERROR, config_setting_get_member(grp, "user"), k, v, "no such user");
                return;
        }
        if (r < 0) {
                verr(x, DIAG_ERROR, config_setting_get_member(grp, "user"), k, v, "cannot look up the user: %s",
                     strerror(-r));
                return;
        }
        set_str(dst, v);
        free(*cred);
        *cred = c;
}

static void parse_shared_ips(const struct ctx *x, const config_setting_t *root, struct conf *c)
{
        config_setting_t *list;
        int n = get_strlist(x, root, NULL, "shared_ips", &list);

        if (n == 0 && !list) {
                verr(x, DIAG_ERROR, NULL, "shared_ips", NULL, "required key is missing");
                return;
        }
        if (n == 0) {
                verr(x, DIAG_ERROR, list, "shared_ips", NULL, "must list at least one address");
                return;
        }
        if (n < 0)
                return;
        c->shared_ips = calloc((size_t)n, sizeof(*c->shared_ips));
        if (!c->shared_ips)
                return;
        for (int i = 0; i < n; i++) {
                config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
                const char *v = config_setting_get_string(e);
                char k[64];
                struct prefix p;

                snprintf(k, sizeof(k), "shared_ips[%d]", i);
                enum prefix_result r = prefix_parse_shared(v, &p);
                if (r < 0) {
                        verr(x, DIAG_ERROR, e, k, v, "%s", prefix_strerror(r));
                        continue;
                }
                if (r == PREFIX_HOSTBITS)
                        verr(x, DIAG_NOTICE, e, k, v, "host bits cleared: using %s", p.text);
                bool dup = false;
                for (size_t j = 0; j < c->n_shared_ips; j++)
                        if (strcmp(c->shared_ips[j].text, p.text) == 0)
                                dup = true;
                if (dup) {
                        verr(x, DIAG_ERROR, e, k, v, "duplicate of %s", p.text);
                        continue;
                }
                c->shared_ips[c->n_shared_ips++] = p;
        }
}

static void parse_bgp(const struct ctx *x, const config_setting_t *root, struct conf *c)
{
        static const char *const keys[] = {
                "asn", "router_id", "route_servers", "neighbor_pattern", "route_server_count", "multihop",
                "keepalive", "holdtime", "coalesce_time", "communities", "demote_prepend", "poll_interval",
                NULL,
        };
        static const char *const comm_keys[] = { "primary", "secondary", NULL };
        config_setting_t *g = config_setting_get_member(root, "bgp");
        const char *v;

        if (!g)
                return;
        if (!config_setting_is_group(g)) {
                verr(x, DIAG_ERROR, g, "bgp", NULL, "must be a group { ... }");
                return;
        }
        check_keys(x, g, "bgp", keys);
        get_int(x, g, "bgp", "asn", 1, 4294967295LL, &c->bgp.asn);
        if (get_str(x, g, "bgp", "router_id", &v) == 1) {
                if (addr_valid4(v))
                        set_str(&c->bgp.router_id, v);
                else
                        verr(x, DIAG_ERROR, config_setting_get_member(g, "router_id"), "bgp.router_id", v,
                             "must be an IPv4 address");
        }
        if (get_str(x, g, "bgp", "neighbor_pattern", &v) == 1)
                set_str(&c->bgp.neighbor_pattern, v);
        get_int32(x, g, "bgp", "route_server_count", 1, 64, &c->bgp.route_server_count);
        get_int32(x, g, "bgp", "multihop", 1, 255, &c->bgp.multihop);
        get_int32(x, g, "bgp", "keepalive", 1, 65535, &c->bgp.keepalive);
        get_int32(x, g, "bgp", "holdtime", 3, 65535, &c->bgp.holdtime);
        get_int(x, g, "bgp", "coalesce_time", 0, 4294967295LL, &c->bgp.coalesce_time);
        get_int32(x, g, "bgp", "demote_prepend", 1, 32, &c->bgp.demote_prepend);
        get_seconds(x, g, "bgp", "poll_interval", 3600, &c->bgp.poll_interval);
        if (c->bgp.holdtime < 3 * c->bgp.keepalive && config_setting_get_member(g, "holdtime")) {
                char val[32];
                snprintf(val, sizeof(val), "%d", c->bgp.holdtime);
                verr(x, DIAG_WARNING, config_setting_get_member(g, "holdtime"), "bgp.holdtime", val,
                     "less than three keepalives (%d s)", c->bgp.keepalive);
        }
        if (c->bgp.holdtime < c->bgp.keepalive) {
                char val[32];
                snprintf(val, sizeof(val), "%d", c->bgp.holdtime);
                verr(x, DIAG_ERROR, config_setting_get_member(g, "holdtime"), "bgp.holdtime", val,
                     "must not be less than bgp.keepalive (%d)", c->bgp.keepalive);
        }

        config_setting_t *cg = config_setting_get_member(g, "communities");
        if (cg && !config_setting_is_group(cg)) {
                verr(x, DIAG_ERROR, cg, "bgp.communities", NULL, "must be a group { primary = ...; secondary = ...; }");
        } else if (cg) {
                check_keys(x, cg, "bgp.communities", comm_keys);
                const char *names[] = { "primary", "secondary" };
                char **dst[] = { &c->bgp.community_primary, &c->bgp.community_secondary };
                for (int i = 0; i < 2; i++) {
                        if (get_str(x, cg, "bgp.communities", names[i], &v) != 1)
                                continue;
                        char k[64];
                        snprintf(k, sizeof(k), "bgp.communities.%s", names[i]);
                        if (conf_valid_community(v))
                                set_str(dst[i], v);
                        else
                                verr(x, DIAG_ERROR, config_setting_get_member(cg, names[i]), k, v,
                                     "must be a community AA:NN (two numbers 0-65535)");
                }
                if (strcmp(c->bgp.community_primary, c->bgp.community_secondary) == 0)
                        verr(x, DIAG_ERROR, cg, "bgp.communities", c->bgp.community_primary,
                             "primary and secondary communities must differ");
        }

        config_setting_t *list;
        int n = get_strlist(x, g, "bgp", "route_servers", &list);
        if (n == 0 && list)
                verr(x, DIAG_ERROR, list, "bgp.route_servers", NULL, "must list at least one address");
        if (n > 0) {
                c->bgp.route_servers = calloc((size_t)n + 1, sizeof(char *));
                int k = 0;
                for (int i = 0; c->bgp.route_servers && i < n; i++) {
                        config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
                        const char *a = config_setting_get_string(e);
                        char *canon = canonical_addr(a);
                        char key[64];
                        snprintf(key, sizeof(key), "bgp.route_servers[%d]", i);
                        if (!canon) {
                                verr(x, DIAG_ERROR, e, key, a, "not an IPv4 or IPv6 address");
                                continue;
                        }
                        bool dup = false;
                        for (int j = 0; j < k; j++)
                                dup = dup || strcmp(c->bgp.route_servers[j], canon) == 0;
                        if (dup) {
                                verr(x, DIAG_ERROR, e, key, a, "duplicate of %s", canon);
                                free(canon);
                                continue;
                        }
                        c->bgp.route_servers[k++] = canon;
                }
        }
}

static void parse_frr(const struct ctx *x, const config_setting_t *root, struct conf *c)
{
        static const char *const keys[] = { "config", "vtysh", "reload", "pathspace", "extra", "timeout", NULL };
        config_setting_t *g = config_setting_get_member(root, "frr");
        const char *v;

        if (!g)
                return;
        if (!config_setting_is_group(g)) {
                verr(x, DIAG_ERROR, g, "frr", NULL, "must be a group { ... }");
                return;
        }
        check_keys(x, g, "frr", keys);
        get_path(x, g, "frr", "config", false, &c->frr.config);
        get_path(x, g, "frr", "vtysh", false, &c->frr.vtysh);
        get_path(x, g, "frr", "reload", false, &c->frr.reload);
        get_path(x, g, "frr", "extra", true, &c->frr.extra);
        get_seconds(x, g, "frr", "timeout", 3600, &c->frr.timeout);
        if (get_str(x, g, "frr", "pathspace", &v) == 1) {
                if (conf_valid_pathspace(v))
                        set_str(&c->frr.pathspace, v);
                else
                        verr(x, DIAG_ERROR, config_setting_get_member(g, "pathspace"), "frr.pathspace", v,
                             "must be letters, digits, '_' or '-' (at most 64)");
        }
}

/* Whether word (the first of a line) enters a configuration node, whose `exit` then leaves it again. */
static bool opens_node(const char *w, size_t n, int depth)
{
        static const char *const top[] = { "router", "interface", "route-map", "line", "key", "vrf", "bfd",
                                           "segment-routing", "mpls", "rpki", "pseudowire", "nexthop-group",
                                           "pbr-map", "control-plane", "affinity-map", "srv6", NULL };
        static const char *const sub[] = { "address-family", "vni", "link-params", "peer", "profile", "key",
                                           "segment-routing", "srv6", "locators", "locator", "evpn", NULL };
        for (const char *const *k = depth == 0 ? top : sub; *k; k++)
                if (strlen(*k) == n && strncmp(w, *k, n) == 0)
                        return true;
        return false;
}

/* Refuses what would silently change the applied configuration: FRR 9.1 and later stop reading a file at
 * an `exit` outside any node (the rest would be dropped with only a warning), and a `frr version` or
 * `frr defaults` line switches FRR's defaults (bgp enforce-first-as is off before 9.1, on after). */
static void check_extra(const struct ctx *x, const char *path, const char *text)
{
        int depth = 0, line = 0;

        for (const char *p = text; *p; line++) {
                const char *eol = strchr(p, '\n'), *end = eol ? eol : p + strlen(p), *w = p;
                while (w < end && (*w == ' ' || *w == '\t'))
                        w++;
                size_t n = 0;
                while (w + n < end && w[n] != ' ' && w[n] != '\t' && w[n] != '\r')
                        n++;
                const char *rest = w + n;
                while (rest < end && (*rest == ' ' || *rest == '\t'))
                        rest++;
                if (n == 4 && strncmp(w, "exit", 4) == 0 && (rest == end || *rest == '\r')) {
                        if (depth == 0)
                                diag_add(x->d, DIAG_ERROR, "%s:%d: \"exit\" outside any block: FRR 9.1 and later "
                                         "stop reading there and drop the rest; remove it", path, line + 1);
                        else
                                depth--;
                } else if (n == 3 && strncmp(w, "frr", 3) == 0 &&
                           (strncmp(rest, "version", 7) == 0 || strncmp(rest, "defaults", 8) == 0)) {
                        diag_add(x->d, DIAG_ERROR, "%s:%d: \"frr %.*s\" would change FRR's defaults "
                                 "(failoverd renders \"frr defaults traditional\" and no version): remove it",
                                 path, line + 1, strncmp(rest, "version", 7) == 0 ? 7 : 8, rest);
                } else if (n > 5 && strncmp(w, "exit-", 5) == 0) {
                        if (depth > 0)
                                depth--;
                } else if (n > 0 && opens_node(w, n, depth)) {
                        depth++;
                }
                p = eol ? eol + 1 : end;
        }
}

static void read_extra(const struct ctx *x, const config_setting_t *root, struct conf *c)
{
        const config_setting_t *g = config_setting_get_member(root, "frr");
        const config_setting_t *s = g ? config_setting_get_member(g, "extra") : NULL;
        struct buf b;
        char chunk[4096];
        ssize_t n;

        if (!c->frr.extra || !*c->frr.extra)
                return;
        int fd = open(c->frr.extra, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                verr(x, DIAG_ERROR, s, "frr.extra", c->frr.extra, "cannot read: %s", strerror(errno));
                return;
        }
        buf_init(&b);
        while ((n = read(fd, chunk, sizeof(chunk))) > 0 && b.len <= EXTRA_MAX)
                buf_append(&b, chunk, (size_t)n);
        int e = errno;
        close(fd);
        if (n < 0)
                verr(x, DIAG_ERROR, s, "frr.extra", c->frr.extra, "cannot read: %s", strerror(e));
        else if (b.len > EXTRA_MAX)
                verr(x, DIAG_ERROR, s, "frr.extra", c->frr.extra, "larger than %d bytes", EXTRA_MAX);
        else if (b.len && memchr(b.data, '\0', b.len))
                verr(x, DIAG_ERROR, s, "frr.extra", c->frr.extra, "contains a NUL byte");
        else {
                c->frr.extra_text = buf_steal(&b);
                check_extra(x, c->frr.extra, c->frr.extra_text ? c->frr.extra_text : "");
                return;
        }
        buf_free(&b);
}

static void parse_checks_group(const struct ctx *x, const config_setting_t *root, struct conf *c)
{
        static const char *const keys[] = { "directory", "interval", "timeout", "rise", "fall", "user", NULL };
        config_setting_t *g = config_setting_get_member(root, "checks");

        if (!g)
                return;
        if (!config_setting_is_group(g)) {
                verr(x, DIAG_ERROR, g, "checks", NULL, "must be a group { ... }");
                return;
        }
        check_keys(x, g, "checks", keys);
        get_path(x, g, "checks", "directory", false, &c->checks.directory);
        get_seconds(x, g, "checks", "interval", 86400, &c->checks.interval);
        get_seconds(x, g, "checks", "timeout", 3600, &c->checks.timeout);
        get_int32(x, g, "checks", "rise", 1, 1000, &c->checks.rise);
        get_int32(x, g, "checks", "fall", 1, 1000, &c->checks.fall);
        get_user(x, g, "checks", &c->checks.user, &c->checks.cred);
}

/* A group name resolved now, so the control socket never asks NSS from the event loop. */
static void get_group(const struct ctx *x, const config_setting_t *g, const char *key, char **name, gid_t *gid)
{
        struct group gr, *res = NULL;
        char tmp[16384], k[64];
        const char *v;

        if (get_str(x, g, "control", key, &v) != 1)
                return;
        key_name(k, sizeof(k), "control", key);
        free(*name);
        *name = NULL;
        *gid = (gid_t)-1;
        if (*v == '\0')
                return;
        if (has_ctrl_or_space(v) || getgrnam_r(v, &gr, tmp, sizeof(tmp), &res) != 0 || !res) {
                verr(x, DIAG_ERROR, config_setting_get_member(g, key), k, v, "no such group");
                return;
        }
        set_str(name, v);
        *gid = res->gr_gid;
}

/* Who may read the status and who may change things over the control socket. */
static void parse_control(const struct ctx *x, const config_setting_t *root, struct conf *c)
{
        static const char *const keys[] = { "read_group", "admin_group", NULL };
        config_setting_t *g = config_setting_get_member(root, "control");

        if (!g)
                return;
        if (!config_setting_is_group(g)) {
                verr(x, DIAG_ERROR, g, "control", NULL, "must be a group { ... }");
                return;
        }
        check_keys(x, g, "control", keys);
        get_group(x, g, "read_group", &c->control.read_group, &c->control.read_gid);
        get_group(x, g, "admin_group", &c->control.admin_group, &c->control.admin_gid);
}

/* notify: a program path, or an argv list whose first element is one. */
static void parse_notify(const struct ctx *x, const config_setting_t *root, struct conf *c)
{
        config_setting_t *s = config_setting_get_member(root, "notify");
        const char *v;

        if (!s)
                return;
        if (config_setting_type(s) != CONFIG_TYPE_STRING && config_setting_type(s) != CONFIG_TYPE_ARRAY &&
            config_setting_type(s) != CONFIG_TYPE_LIST) {
                verr(x, DIAG_ERROR, s, "notify", NULL, "must be a program path or a list of strings (argv), not %s",
                     type_name(config_setting_type(s)));
                return;
        }
        if (config_setting_type(s) == CONFIG_TYPE_STRING) {
                get_str(x, root, NULL, "notify", &v);
                if (!*v)
                        return;
                if (!valid_path(v)) {
                        verr(x, DIAG_ERROR, s, "notify", v, "must be an absolute path without control characters");
                        return;
                }
                c->notify = calloc(2, sizeof(char *));
                if (c->notify)
                        c->notify[0] = strdup(v);
                return;
        }
        config_setting_t *list;
        int n = get_strlist(x, root, NULL, "notify", &list);
        if (n <= 0) {
                if (n == 0 && list)
                        verr(x, DIAG_ERROR, s, "notify", NULL, "must not be an empty list");
                return;
        }
        const char *a0 = config_setting_get_string(config_setting_get_elem(list, 0));
        if (!valid_path(a0)) {
                verr(x, DIAG_ERROR, s, "notify[0]", a0, "must be an absolute path without control characters");
                return;
        }
        c->notify = strv_from_list(list, n);
}

static int set_defaults(struct conf *c)
{
        char host[HOST_NAME_MAX + 1] = "";

        c->role = ROLE_PRIMARY;
        c->datacenter = -1;
        gethostname(host, sizeof(host) - 1);
        c->hostname = strdup(host);
        c->bgp.asn = 65001;
        c->bgp.neighbor_pattern = strdup("2600:3c0f:%d:34::%d");
        c->bgp.route_server_count = 4;
        c->bgp.multihop = 10;
        c->bgp.keepalive = 3;
        c->bgp.holdtime = 9;
        c->bgp.coalesce_time = 1000;
        c->bgp.community_primary = strdup("65000:1");
        c->bgp.community_secondary = strdup("65000:2");
        c->bgp.demote_prepend = 3;
        c->bgp.poll_interval = 2.0;
        c->frr.config = strdup("/etc/frr/frr.conf");
        c->frr.vtysh = strdup("/usr/bin/vtysh");
        c->frr.reload = strdup("/usr/lib/frr/frr-reload.py");
        c->frr.pathspace = strdup("");
        c->frr.extra = strdup("");
        c->frr.timeout = 10.0;
        c->checks.directory = strdup(SYSCONFDIR "/failoverd/conf.d");
        c->checks.interval = 1.0;
        c->checks.timeout = 1.0;
        c->checks.rise = 3;
        c->checks.fall = 2;
        c->state_directory = strdup("/var/lib/failoverd");
        c->runtime_directory = strdup("/run/failoverd");
        c->control.read_gid = c->control.admin_gid = (gid_t)-1;
        if (!c->hostname || !c->bgp.neighbor_pattern || !c->bgp.community_primary ||
            !c->bgp.community_secondary || !c->frr.config || !c->frr.vtysh || !c->frr.reload ||
            !c->frr.pathspace || !c->frr.extra || !c->checks.directory || !c->state_directory ||
            !c->runtime_directory)
                return -ENOMEM;
        return 0;
}

static void derive_route_servers(const struct ctx *x, const config_setting_t *root, struct conf *c)
{
        const config_setting_t *g = config_setting_get_member(root, "bgp");
        const config_setting_t *pat = g ? config_setting_get_member(g, "neighbor_pattern") : NULL;
        char addr[256];

        if (c->bgp.route_servers) {
                /* An explicit pattern is unused then, but a broken one is still a mistake worth naming. */
                if (pat && conf_expand_pattern(c->bgp.neighbor_pattern, 0, 1, addr, sizeof(addr)) < 0)
                        verr(x, DIAG_ERROR, pat, "bgp.neighbor_pattern", c->bgp.neighbor_pattern,
                             "must contain exactly two %%d (data center, then server number) and no other %%");
                return;
        }
        if (c->datacenter < 0) {
                const config_setting_t *rs = g ? config_setting_get_member(g, "route_servers") : NULL;
                /* A datacenter that is present but invalid already has its error. */
                if (!rs && !config_setting_get_member(root, "datacenter"))
                        verr(x, DIAG_ERROR, NULL, "datacenter", NULL,
                             "required key is missing (or set bgp.route_servers)");
                return;
        }
        c->bgp.route_servers = calloc((size_t)c->bgp.route_server_count + 1, sizeof(char *));
        for (int i = 0; c->bgp.route_servers && i < c->bgp.route_server_count; i++) {
                char *canon = NULL;
                if (conf_expand_pattern(c->bgp.neighbor_pattern, c->datacenter, i + 1, addr, sizeof(addr)) < 0) {
                        verr(x, DIAG_ERROR, pat, "bgp.neighbor_pattern", c->bgp.neighbor_pattern,
                             "must contain exactly two %%d (data center, then server number) and no other %%");
                        break;
                }
                if (!(canon = canonical_addr(addr))) {
                        verr(x, DIAG_ERROR, pat, "bgp.neighbor_pattern", c->bgp.neighbor_pattern,
                             "gives \"%s\", which is not an IPv4 or IPv6 address", addr);
                        break;
                }
                c->bgp.route_servers[i] = canon;
        }
}

static void parse_root(const struct ctx *x, const config_setting_t *root, struct conf *c)
{
        static const char *const keys[] = {
                "role", "datacenter", "shared_ips", "hostname", "bgp", "frr", "checks", "notify",
                "metrics_file", "state_directory", "runtime_directory", "control", "failsafe", "services",
                "on_stop", NULL,
        };
        const char *v;

        check_keys(x, root, NULL, keys);

        if (get_str(x, root, NULL, "failsafe", &v) == 1) {
                if (strcmp(v, "withdraw") == 0 || strcmp(v, "keep") == 0)
                        c->failsafe_keep = strcmp(v, "keep") == 0;
                else
                        verr(x, DIAG_ERROR, config_setting_get_member(root, "failsafe"), "failsafe", v,
                             "must be \"withdraw\" or \"keep\"");
        }

        /* services = ( ... ) replaces the top-level role and shared_ips (lib/conf_services.c). */
        conf_parse_services(x, root, c);
        int r = c->services_form ? -1 : get_str(x, root, NULL, "role", &v);
        if (r == 0)
                verr(x, DIAG_ERROR, NULL, "role", NULL, "required key is missing (\"primary\" or \"secondary\")");
        else if (r == 1 && role_parse(v) < 0)
                verr(x, DIAG_ERROR, config_setting_get_member(root, "role"), "role", v,
                     "must be \"primary\" or \"secondary\"");
        else if (r == 1)
                c->role = (enum role)role_parse(v);

        get_int32(x, root, NULL, "datacenter", 0, 999999, &c->datacenter);
        if (!c->services_form)
                parse_shared_ips(x, root, c);

        if (get_str(x, root, NULL, "hostname", &v) == 1) {
                if (conf_valid_hostname(v))
                        set_str(&c->hostname, v);
                else
                        verr(x, DIAG_ERROR, config_setting_get_member(root, "hostname"), "hostname", v,
                             "not a valid host name (letters, digits, '-' and '.', no white space)");
        } else if (!conf_valid_hostname(c->hostname)) {
                verr(x, DIAG_ERROR, NULL, "hostname", c->hostname,
                     "the system host name is not valid for FRR; set hostname");
        }

        parse_bgp(x, root, c);
        parse_frr(x, root, c);
        parse_checks_group(x, root, c);
        parse_notify(x, root, c);
        get_path(x, root, NULL, "metrics_file", true, &c->metrics_file);
        if (c->metrics_file && !*c->metrics_file) {
                free(c->metrics_file);
                c->metrics_file = NULL;
        }
        get_path(x, root, NULL, "state_directory", false, &c->state_directory);
        get_path(x, root, NULL, "runtime_directory", false, &c->runtime_directory);
        parse_control(x, root, c);
        derive_route_servers(x, root, c);
        read_extra(x, root, c);
}

/* Finds on line `line` of file an integer literal outside the 64-bit range, outside strings and comments, into
 * out. libconfig 1.7 rejects such a literal as a plain "syntax error" (1.5 wrapped it and the range checks
 * quote it): this puts the value back into the message. Returns true when one was found. */
static bool find_huge_literal(const char *file, int line, char *out, size_t len)
{
        char text[4096];
        bool found = false;
        FILE *f = fopen(file, "re");

        if (!f || line < 1)
                goto out;
        for (int n = 1; fgets(text, sizeof(text), f); n++) {
                if (n < line)
                        continue;
                bool in_str = false;
                for (const char *p = text; *p && !found; p++) {
                        if (in_str) {
                                if (*p == '\\' && p[1])
                                        p++;
                                else if (*p == '"')
                                        in_str = false;
                                continue;
                        }
                        if (*p == '"') {
                                in_str = true;
                                continue;
                        }
                        if (*p == '#' || (*p == '/' && (p[1] == '/' || p[1] == '*')))
                                break;
                        if (!isdigit((unsigned char)*p) || (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_')))
                                continue;
                        const char *start = p > text && (p[-1] == '-' || p[-1] == '+') ? p - 1 : p;
                        char *end;
                        errno = 0;
                        (void)strtoll(start, &end, 0);
                        if (errno == ERANGE) {
                                snprintf(out, len, "%.*s", (int)(end - start), start);
                                found = true;
                        }
                        p = end - 1;
                }
                break;
        }
out:
        if (f)
                fclose(f);
        return found;
}

/* Reads file into cfg, recording why not in d. @include paths are relative to the including file's directory. */
static int read_config(struct diag *d, config_t *cfg, const char *file)
{
        const char *slash = strrchr(file, '/');
        char dir[PATH_MAX];

        config_init(cfg);
        if (slash && (size_t)(slash - file) < sizeof(dir)) {
                snprintf(dir, sizeof(dir), "%.*s", slash == file ? 1 : (int)(slash - file), file);
                config_set_include_dir(cfg, dir);
        }
        errno = 0;
        if (config_read_file(cfg, file) == CONFIG_TRUE)
                return 0;
        if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
                int e = errno;
                struct stat st;
                /* fopen() of a directory succeeds and libconfig then fails without an errno. */
                if (e == 0)
                        e = stat(file, &st) == 0 && S_ISDIR(st.st_mode) ? EISDIR : EIO;
                diag_add(d, DIAG_ERROR, "%s: cannot read: %s", file, strerror(e));
        } else {
                const char *text = config_error_text(cfg) ? config_error_text(cfg) : "syntax error";
                const char *where = config_error_file(cfg) ? config_error_file(cfg) : file;
                bool plain = strcmp(text, "syntax error") == 0;
                char lit[64];
                if (plain && find_huge_literal(where, config_error_line(cfg), lit, sizeof(lit)))
                        diag_add(d, DIAG_ERROR, "%s:%d: syntax error: \"%s\": integer out of range", where,
                                 config_error_line(cfg), lit);
                else
                        diag_add(d, DIAG_ERROR, "%s:%d: syntax error%s%s", where, config_error_line(cfg),
                                 plain ? "" : ": ", plain ? "" : text);
        }
        config_destroy(cfg);
        return -EINVAL;
}

int conf_load(const char *path, struct conf **ret, struct diag *d)
{
        config_t cfg;
        struct ctx x = { .d = d, .file = path };
        size_t errors_before = d->n_errors;
        struct conf *c;
        int r;

        *ret = NULL;
        c = calloc(1, sizeof(*c));
        if (!c || !(c->path = strdup(path)) || set_defaults(c) < 0) {
                conf_free(c);
                return -ENOMEM;
        }

        if (read_config(d, &cfg, path) < 0) {
                conf_free(c);
                return -EINVAL;
        }
        parse_root(&x, config_root_setting(&cfg), c);
        config_destroy(&cfg);

        r = conf_scan_checks(c, d);
        if (r < 0 && r != -EINVAL) {
                conf_free(c);
                return r;
        }
        if (conf_build_services(c, d) < 0) {
                conf_free(c);
                return -ENOMEM;
        }
        if (d->n_errors > errors_before) {
                conf_free(c);
                return -EINVAL;
        }
        *ret = c;
        return 0;
}

static struct check_conf *check_conf_clear(struct check_conf *k)
{
        free(k->name);
        free(k->script);
        strv_free(k->argv);
        free(k->conf_file);
        free(k->user);
        free(k->cred);
        memset(k, 0, sizeof(*k));
        return NULL;
}

static void free_checks(struct check_conf *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                check_conf_clear(&v[i]);
        free(v);
}

struct conf *conf_free(struct conf *c)
{
        if (!c)
                return NULL;
        free(c->path);
        free(c->shared_ips);
        free(c->hostname);
        free(c->bgp.router_id);
        strv_free(c->bgp.route_servers);
        free(c->bgp.neighbor_pattern);
        free(c->bgp.community_primary);
        free(c->bgp.community_secondary);
        free(c->frr.config);
        free(c->frr.vtysh);
        free(c->frr.reload);
        free(c->frr.pathspace);
        free(c->frr.extra);
        free(c->frr.extra_text);
        free(c->checks.directory);
        free(c->checks.user);
        free(c->checks.cred);
        free_checks(c->check, c->n_checks);
        strv_free(c->notify);
        free(c->metrics_file);
        free(c->state_directory);
        free(c->runtime_directory);
        free(c->control.read_group);
        free(c->control.admin_group);
        conf_free_services(c);
        free(c);
        return NULL;
}

const struct check_conf *conf_find_check(const struct conf *c, const char *name)
{
        for (size_t i = 0; i < c->n_checks; i++)
                if (strcmp(c->check[i].name, name) == 0)
                        return &c->check[i];
        return NULL;
}

/* NAME.conf: overrides for one check, or a command check when there is no script. */
static void parse_check_conf(struct diag *d, const char *file, struct check_conf *k)
{
        static const char *const keys[] = { "interval", "timeout", "rise", "fall", "user", "command", NULL };
        struct ctx x = { .d = d, .file = file };
        config_t cfg;

        if (read_config(d, &cfg, file) < 0)
                return;
        config_setting_t *root = config_root_setting(&cfg);
        check_keys(&x, root, NULL, keys);
        get_seconds(&x, root, NULL, "interval", 86400, &k->interval);
        get_seconds(&x, root, NULL, "timeout", 3600, &k->timeout);
        get_int32(&x, root, NULL, "rise", 1, 1000, &k->rise);
        get_int32(&x, root, NULL, "fall", 1, 1000, &k->fall);
        get_user(&x, root, NULL, &k->user, &k->cred);

        config_setting_t *list;
        int n = get_strlist(&x, root, NULL, "command", &list);
        if (n == 0 && list)
                verr(&x, DIAG_ERROR, list, "command", NULL, "must not be empty");
        if (n > 0 && k->script)
                verr(&x, DIAG_ERROR, list, "command", NULL, "%s is also a script: use one or the other",
                     k->script);
        else if (n > 0) {
                const char *a0 = config_setting_get_string(config_setting_get_elem(list, 0));
                if (!valid_path(a0))
                        verr(&x, DIAG_ERROR, list, "command[0]", a0,
                             "must be an absolute path (commands are executed directly, without a shell)");
                else
                        k->argv = strv_from_list(list, n);
        }
        if (!k->script && n == 0)
                diag_add(d, DIAG_ERROR, "%s: defines no check: there is no executable script %s beside it "
                         "and no command", file, k->name);
        config_destroy(&cfg);
}

static int cmp_check(const void *a, const void *b)
{
        return strcmp(((const struct check_conf *)a)->name, ((const struct check_conf *)b)->name);
}

static struct check_conf *get_check(struct check_conf **v, size_t *n, const struct conf *c, const char *name)
{
        for (size_t i = 0; i < *n; i++)
                if (strcmp((*v)[i].name, name) == 0)
                        return &(*v)[i];
        struct check_conf *nv = realloc(*v, (*n + 1) * sizeof(**v));
        if (!nv)
                return NULL;
        *v = nv;
        struct check_conf *k = &nv[*n];
        memset(k, 0, sizeof(*k));
        if (!(k->name = strdup(name)))
                return NULL;
        (*n)++;
        k->interval = c->checks.interval;
        k->timeout = c->checks.timeout;
        k->rise = c->checks.rise;
        k->fall = c->checks.fall;
        k->user = xstrdup(c->checks.user);
        k->cred = proc_cred_dup(c->checks.cred);
        if ((c->checks.user && !k->user) || (c->checks.cred && !k->cred))
                return NULL;
        return k;
}

int conf_scan_checks(struct conf *c, struct diag *d)
{
        struct dirent **ents = NULL;
        struct check_conf *v = NULL;
        size_t n = 0;
        size_t errors_before = d->n_errors;
        char path[PATH_MAX];

        int ne = scandir(c->checks.directory, &ents, NULL, alphasort);
        if (ne < 0) {
                if (errno == ENOENT) {
                        diag_add(d, DIAG_WARNING, "%s: no such directory: no health checks", c->checks.directory);
                        free_checks(c->check, c->n_checks);
                        c->check = NULL;
                        c->n_checks = 0;
                        return 0;
                }
                diag_add(d, DIAG_ERROR, "%s: cannot read directory: %s", c->checks.directory, strerror(errno));
                return -EINVAL;
        }

        /* Scripts first, so that a NAME.conf knows whether its script exists. */
        for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < ne; i++) {
                        const char *name = ents[i]->d_name;
                        size_t len = strlen(name);
                        bool is_conf = len > 5 && strcmp(name + len - 5, ".conf") == 0;
                        struct stat st;

                        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                                continue;
                        snprintf(path, sizeof(path), "%s/%s", c->checks.directory, name);
                        if (pass == 0 && !is_conf) {
                                if (!conf_valid_check_name(name)) {
                                        diag_add(d, DIAG_DEBUG, "%s: skipped: name is not [A-Za-z0-9_-]+", path);
                                        continue;
                                }
                                if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
                                        diag_add(d, DIAG_DEBUG, "%s: skipped: not a regular file", path);
                                        continue;
                                }
                                if (access(path, X_OK) < 0) {
                                        diag_add(d, DIAG_DEBUG, "%s: skipped: not executable", path);
                                        continue;
                                }
                                struct check_conf *k = get_check(&v, &n, c, name);
                                if (!k)
                                        goto oom;
                                k->script = strdup(path);
                                k->argv = calloc(2, sizeof(char *));
                                if (!k->script || !k->argv || !(k->argv[0] = strdup(path)))
                                        goto oom;
                        } else if (pass == 1 && is_conf) {
                                char base[256];
                                snprintf(base, sizeof(base), "%.*s", (int)(len - 5), name);
                                if (!conf_valid_check_name(base)) {
                                        diag_add(d, DIAG_DEBUG, "%s: skipped: name is not [A-Za-z0-9_-]+.conf", path);
                                        continue;
                                }
                                if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
                                        diag_add(d, DIAG_DEBUG, "%s: skipped: not a regular file", path);
                                        continue;
                                }
                                struct check_conf *k = get_check(&v, &n, c, base);
                                if (!k || !(k->conf_file = strdup(path)))
                                        goto oom;
                                parse_check_conf(d, path, k);
                        }
                }
        }
        for (int i = 0; i < ne; i++)
                free(ents[i]);
        free(ents);

        /* A NAME.conf that failed leaves a check without argv: drop it (its error is recorded). */
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
                if (v[i].argv)
                        v[w++] = v[i];
                else
                        check_conf_clear(&v[i]);
        }
        n = w;
        if (n)
                qsort(v, n, sizeof(*v), cmp_check);
        free_checks(c->check, c->n_checks);
        c->check = v;
        c->n_checks = n;
        return d->n_errors > errors_before ? -EINVAL : 0;

oom:
        for (int i = 0; i < ne; i++)
                free(ents[i]);
        free(ents);
        free_checks(v, n);
        return -ENOMEM;
}

static bool same_check(const struct check_conf *a, const struct check_conf *b)
{
        size_t n = strv_len(a->argv);
        if (n != strv_len(b->argv))
                return false;
        for (size_t i = 0; i < n; i++)
                if (strcmp(a->argv[i], b->argv[i]) != 0)
                        return false;
        return a->interval == b->interval && a->timeout == b->timeout && a->rise == b->rise &&
               a->fall == b->fall && ((!a->user && !b->user) || (a->user && b->user && strcmp(a->user, b->user) == 0)) &&
               proc_cred_equal(a->cred, b->cred);
}

void conf_diff_checks(const struct conf *prev, const struct conf *next, enum conf_check_change *change,
                      int *old_index, bool *removed)
{
        for (size_t j = 0; prev && j < prev->n_checks; j++)
                removed[j] = true;
        for (size_t i = 0; i < next->n_checks; i++) {
                old_index[i] = -1;
                change[i] = CHECK_ADDED;
                for (size_t j = 0; prev && j < prev->n_checks; j++) {
                        if (strcmp(prev->check[j].name, next->check[i].name) != 0)
                                continue;
                        old_index[i] = (int)j;
                        removed[j] = false;
                        change[i] = same_check(&prev->check[j], &next->check[i]) ? CHECK_KEPT : CHECK_CHANGED;
                }
        }
}
