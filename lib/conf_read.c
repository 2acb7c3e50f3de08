/* Reading libconfig settings for the conf parsers: messages that name file, line, key and value, and typed
 * getters (with the libconfig 1.5 integer workaround). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_read.h"
#include "conf_valid.h"
#include "path.h"
#include "proc.h"

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
 * conf_read_file() makes those relative to the main file's directory. */
static const char *setting_file(const struct conf_ctx *x, const config_setting_t *s, char *buf, size_t len)
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

void conf_err(const struct conf_ctx *x, enum diag_level lvl, const config_setting_t *s, const char *key,
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

const char *conf_type_name(int t)
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

void conf_key_name(char *out, size_t len, const char *prefix, const char *name)
{
        snprintf(out, len, "%s%s%s", prefix ? prefix : "", prefix ? "." : "", name);
}

void conf_check_keys(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix,
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
                        conf_key_name(k, sizeof(k), prefix, name ? name : "?");
                        conf_err(x, DIAG_ERROR, m, k, NULL, "unknown key");
                }
        }
}

int conf_get_str(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                 const char **out)
{
        config_setting_t *s = grp ? config_setting_get_member(grp, name) : NULL;
        char k[128];

        if (!s)
                return 0;
        conf_key_name(k, sizeof(k), prefix, name);
        if (config_setting_type(s) != CONFIG_TYPE_STRING) {
                conf_err(x, DIAG_ERROR, s, k, NULL, "must be a string, not %s", conf_type_name(config_setting_type(s)));
                return -1;
        }
        *out = config_setting_get_string(s);
        return 1;
}

/* libconfig 1.5 (Debian 12) keeps a plain integer literal in 32 bits and silently wraps it (4294967296 reads
 * as 0, 4294967297 as 1), so the literal is read back from its source line. Returns 1 with the literal's text
 * (sign and digits, no L suffix) in out, 0 when it cannot be found there. */
static int source_literal(const struct conf_ctx *x, const config_setting_t *s, char *out, size_t outlen)
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
static long long int_value(const struct conf_ctx *x, const config_setting_t *s, char *v, size_t vlen, bool *exact)
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

int conf_get_int(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                 long long min, long long max, long long *out)
{
        config_setting_t *s = grp ? config_setting_get_member(grp, name) : NULL;
        char k[128], v[64];
        bool exact;

        if (!s)
                return 0;
        conf_key_name(k, sizeof(k), prefix, name);
        int t = config_setting_type(s);
        if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
                conf_err(x, DIAG_ERROR, s, k, NULL, "must be an integer, not %s", conf_type_name(t));
                return -1;
        }
        long long val = int_value(x, s, v, sizeof(v), &exact);
        if (!exact && val < 0 && max > 2147483647LL) {
                /* The literal was not found: a negative value here most likely is a wrapped one. */
                snprintf(v, sizeof(v), "%lld", val + 4294967296LL);
                conf_err(x, DIAG_ERROR, s, k, v, "write numbers above 2147483647 with an L suffix (%sL)", v);
                return -1;
        }
        if (val < min || val > max) {
                conf_err(x, DIAG_ERROR, s, k, v, "must be between %lld and %lld", min, max);
                return -1;
        }
        *out = val;
        return 1;
}

int conf_get_int32(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                   int min, int max, int *out)
{
        long long v;
        int r = conf_get_int(x, grp, prefix, name, min, max, &v);
        if (r == 1)
                *out = (int)v;
        return r;
}

int conf_get_seconds(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                     double max, double *out)
{
        config_setting_t *s = grp ? config_setting_get_member(grp, name) : NULL;
        char k[128], v[64];
        double val;

        if (!s)
                return 0;
        conf_key_name(k, sizeof(k), prefix, name);
        int t = config_setting_type(s);
        bool exact;
        if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
                val = (double)int_value(x, s, v, sizeof(v), &exact);
        else if (t == CONFIG_TYPE_FLOAT)
                val = config_setting_get_float(s);
        else {
                conf_err(x, DIAG_ERROR, s, k, NULL, "must be a number of seconds, not %s", conf_type_name(t));
                return -1;
        }
        if (!(val >= 0.01 && val <= max)) {
                snprintf(v, sizeof(v), "%g", val);
                conf_err(x, DIAG_ERROR, s, k, v, "must be between 0.01 and %g seconds", max);
                return -1;
        }
        *out = val;
        return 1;
}

int conf_get_strlist(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                     config_setting_t **list)
{
        config_setting_t *s = grp ? config_setting_get_member(grp, name) : NULL;
        char k[128];

        *list = NULL;
        if (!s)
                return 0;
        conf_key_name(k, sizeof(k), prefix, name);
        int t = config_setting_type(s);
        if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
                conf_err(x, DIAG_ERROR, s, k, NULL, "must be a list of strings, not %s", conf_type_name(t));
                return -1;
        }
        int n = config_setting_length(s);
        int bad = 0;
        for (int i = 0; i < n; i++) {
                config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
                if (config_setting_type(e) != CONFIG_TYPE_STRING) {
                        char ki[160];
                        snprintf(ki, sizeof(ki), "%s[%d]", k, i);
                        conf_err(x, DIAG_ERROR, e, ki, NULL, "must be a string, not %s",
                                 conf_type_name(config_setting_type(e)));
                        bad = 1;
                }
        }
        if (bad)
                return -1;
        *list = s;
        return n;
}

char **conf_strv_from_list(const config_setting_t *list, int n)
{
        char **v = calloc((size_t)n + 1, sizeof(char *));
        for (int i = 0; v && i < n; i++)
                if (!(v[i] = strdup(config_setting_get_string(config_setting_get_elem(list, (unsigned)i)))))
                        return strv_free(v);
        return v;
}

int conf_set_str(char **dst, const char *v)
{
        char *n = strdup(v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

void conf_get_path(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                   bool may_be_empty, char **dst)
{
        const char *v;
        char k[128];

        if (conf_get_str(x, grp, prefix, name, &v) != 1)
                return;
        conf_key_name(k, sizeof(k), prefix, name);
        if (may_be_empty && *v == '\0') {
                conf_set_str(dst, "");
                return;
        }
        if (!conf_valid_path(v)) {
                conf_err(x, DIAG_ERROR, config_setting_get_member(grp, name), k, v,
                         "must be an absolute path without control characters");
                return;
        }
        conf_set_str(dst, v);
}

int conf_check_program(const struct conf_ctx *x, enum diag_level lvl, const config_setting_t *s, const char *key,
                       const char *path, const char *what)
{
        struct stat st;
        const char *why = NULL;

        if (x->flags & CONF_LOAD_NO_HOST)
                return 0;
        if (stat(path, &st) < 0)
                why = errno == ENOENT ? "no such file" : strerror(errno);
        else if (!S_ISREG(st.st_mode))
                why = "not a regular file";
        else if (access(path, X_OK) < 0)
                why = "not executable";
        if (!why)
                return 0;
        conf_err(x, lvl, s, key, path, "%s: %s could never run", why, what);
        return -1;
}

void conf_get_user(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, char **dst,
                   struct proc_cred **cred)
{
        const char *v;
        char k[128];
        struct proc_cred *c = NULL;

        if (conf_get_str(x, grp, prefix, "user", &v) != 1)
                return;
        conf_key_name(k, sizeof(k), prefix, "user");
        if (*v == '\0') {
                free(*dst);
                *dst = NULL;
                *cred = (free(*cred), NULL);
                return;
        }
        int r = conf_has_ctrl_or_space(v) ? -ENOENT : proc_cred_lookup(v, &c);
        if (r == -ENOENT) {
                conf_err(x, DIAG_ERROR, config_setting_get_member(grp, "user"), k, v, "no such user");
                return;
        }
        if (r < 0) {
                conf_err(x, DIAG_ERROR, config_setting_get_member(grp, "user"), k, v, "cannot look up the user: %s",
                         strerror(-r));
                return;
        }
        conf_set_str(dst, v);
        free(*cred);
        *cred = c;
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

int conf_read_file(struct diag *d, config_t *cfg, const char *file)
{
        config_init(cfg);
        if (strchr(file, '/')) {
                char *dir = path_dir(file);
                if (dir)
                        config_set_include_dir(cfg, dir);       /* copied */
                free(dir);
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
