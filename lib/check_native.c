/* Native checks: the NAME.conf keys of the tcp, http, unit and file kinds, and one run's life on the loop. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_native_internal.h"
#include "proc.h"

#define TIMER_ACCURACY_USEC 1000ULL

static const char *const type_names[] = {
        [NATIVE_TCP] = "tcp",
        [NATIVE_HTTP] = "http",
        [NATIVE_UNIT] = "unit",
        [NATIVE_FILE] = "file",
};

/* The keys each type takes beside type (the key table of NAME.conf in conf.c lists them all). */
static const char *const tcp_only[] = { "host", "port", "send", "expect", NULL };
static const char *const http_only[] = { "url", "status", "expect", "ca_file", "tls_verify", NULL };
static const char *const unit_only[] = { "unit", NULL };
static const char *const file_only[] = { "path", NULL };
static const char *const all_native[] = { "host", "port", "send", "expect", "url", "status", "ca_file",
                                          "tls_verify", "unit", "path", NULL };

const char *check_native_type_name(enum native_type t)
{
        return t >= NATIVE_TCP && t <= NATIVE_FILE ? type_names[t] : "?";
}

/* "FILE:LINE: KEY: "VALUE": MESSAGE", as conf.c words its errors. */
__attribute__((format(printf, 6, 7)))
static void nerr(struct diag *d, const char *file, const config_setting_t *s, const char *key, const char *value,
                 const char *fmt, ...)
{
        struct buf b;
        va_list ap;

        buf_init(&b);
        if (s && config_setting_source_line(s) > 0)
                buf_printf(&b, "%s:%u: ", file, config_setting_source_line(s));
        else
                buf_printf(&b, "%s: ", file);
        if (key)
                buf_printf(&b, "%s: ", key);
        if (value) {
                buf_puts(&b, "\"");
                size_t i = 0;
                for (const unsigned char *p = (const unsigned char *)value; *p && i < 120; p++, i++) {
                        if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
                                buf_printf(&b, "\\x%02x", *p);
                        else
                                buf_append(&b, p, 1);
                }
                buf_puts(&b, i == 120 ? "...\": " : "\": ");
        }
        va_start(ap, fmt);
        buf_vprintf(&b, fmt, ap);
        va_end(ap);
        diag_add(d, DIAG_ERROR, "%s", b.data ? b.data : "out of memory");
        buf_free(&b);
}

static bool in_list(const char *const *l, const char *k)
{
        for (; *l; l++)
                if (strcmp(*l, k) == 0)
                        return true;
        return false;
}

static bool has_ctrl(const char *s, bool space_too)
{
        for (; *s; s++)
                if (iscntrl((unsigned char)*s) || (space_too && *s == ' '))
                        return true;
        return false;
}

/* A string key: 1 with *out set, 0 when absent, -1 after an error. */
static int get_string(struct diag *d, const char *file, const config_setting_t *root, const char *key,
                      bool may_be_empty, const char **out)
{
        config_setting_t *s = config_setting_get_member(root, key);
        if (!s)
                return 0;
        if (config_setting_type(s) != CONFIG_TYPE_STRING) {
                nerr(d, file, s, key, NULL, "must be a string");
                return -1;
        }
        *out = config_setting_get_string(s);
        if (!may_be_empty && !**out) {
                nerr(d, file, s, key, *out, "must not be empty");
                return -1;
        }
        return 1;
}

static bool valid_unit_name(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 255)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr(":-_.\\@", *s))
                        return false;
        return true;
}

/* "200", "200-299" or an integer. */
static int get_status(struct diag *d, const char *file, const config_setting_t *root, int *min, int *max)
{
        config_setting_t *s = config_setting_get_member(root, "status");
        char v[64];
        int a, b, used = 0;

        if (!s)
                return 0;
        if (config_setting_type(s) == CONFIG_TYPE_INT) {
                a = b = config_setting_get_int(s);
                snprintf(v, sizeof(v), "%d", a);
        } else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
                snprintf(v, sizeof(v), "%s", config_setting_get_string(s));
                if (sscanf(v, "%3d-%3d%n", &a, &b, &used) != 2 || v[used]) {
                        used = 0;
                        if (sscanf(v, "%3d%n", &a, &used) != 1 || v[used]) {
                                nerr(d, file, s, "status", v, "must be a status code or a range like \"200-299\"");
                                return -1;
                        }
                        b = a;
                }
        } else {
                nerr(d, file, s, "status", NULL, "must be a status code or a range like \"200-299\"");
                return -1;
        }
        if (a < 100 || b > 599 || a > b) {
                nerr(d, file, s, "status", v, "must be within 100-599, the lower bound first");
                return -1;
        }
        *min = a;
        *max = b;
        return 1;
}

static int parse_tcp(struct diag *d, const char *file, const config_setting_t *root, struct native_conf *n)
{
        const char *v;
        int bad = 0, r;
        config_setting_t *s;

        if ((r = get_string(d, file, root, "host", false, &v)) == 1) {
                unsigned char a[16];
                if (inet_pton(AF_INET, v, a) != 1 && inet_pton(AF_INET6, v, a) != 1) {
                        nerr(d, file, config_setting_get_member(root, "host"), "host", v,
                             "must be a literal IPv4 or IPv6 address (no name lookup on the event loop)");
                        bad = 1;
                } else if (!(n->host = strdup(v)))
                        return -ENOMEM;
        } else if (r == 0) {
                diag_add(d, DIAG_ERROR, "%s: type \"tcp\" needs host", file);
                bad = 1;
        } else
                bad = 1;

        if ((s = config_setting_get_member(root, "port"))) {
                int p = config_setting_type(s) == CONFIG_TYPE_INT ? config_setting_get_int(s) : -1;
                if (p < 1 || p > 65535) {
                        char pv[32];
                        snprintf(pv, sizeof(pv), "%d", p);
                        nerr(d, file, s, "port", config_setting_type(s) == CONFIG_TYPE_INT ? pv : NULL,
                             "must be an integer from 1 to 65535");
                        bad = 1;
                } else
                        n->port = (uint16_t)p;
        } else {
                diag_add(d, DIAG_ERROR, "%s: type \"tcp\" needs port", file);
                bad = 1;
        }
        if ((r = get_string(d, file, root, "send", false, &v)) == 1 && !(n->send = strdup(v)))
                return -ENOMEM;
        bad |= r < 0;
        if ((r = get_string(d, file, root, "expect", false, &v)) == 1 && !(n->expect = strdup(v)))
                return -ENOMEM;
        bad |= r < 0;
        return bad ? -EINVAL : 0;
}

static int parse_http(struct diag *d, const char *file, const config_setting_t *root, struct native_conf *n)
{
        const char *v;
        int bad = 0, r;
        config_setting_t *s;

        if ((r = get_string(d, file, root, "url", false, &v)) == 1) {
                bool http = strncmp(v, "http://", 7) == 0, https = strncmp(v, "https://", 8) == 0;
                const char *host = v + (https ? 8 : 7);
                if ((!http && !https) || has_ctrl(v, true) || !*host || *host == '/') {
                        nerr(d, file, config_setting_get_member(root, "url"), "url", v,
                             "must be an http:// or https:// URL with a host and without spaces");
                        bad = 1;
                } else if (!(n->url = strdup(v)))
                        return -ENOMEM;
        } else if (r == 0) {
                diag_add(d, DIAG_ERROR, "%s: type \"http\" needs url", file);
                bad = 1;
        } else
                bad = 1;
        n->status_min = 200;
        n->status_max = 299;
        bad |= get_status(d, file, root, &n->status_min, &n->status_max) < 0;
        if ((r = get_string(d, file, root, "expect", false, &v)) == 1 && !(n->expect = strdup(v)))
                return -ENOMEM;
        bad |= r < 0;
        if ((r = get_string(d, file, root, "ca_file", false, &v)) == 1) {
                if (v[0] != '/' || has_ctrl(v, false)) {
                        nerr(d, file, config_setting_get_member(root, "ca_file"), "ca_file", v,
                             "must be an absolute path");
                        bad = 1;
                } else if (!(n->ca_file = strdup(v)))
                        return -ENOMEM;
        }
        bad |= r < 0;
        n->tls_verify = true;
        if ((s = config_setting_get_member(root, "tls_verify"))) {
                if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
                        nerr(d, file, s, "tls_verify", NULL, "must be true or false");
                        bad = 1;
                } else
                        n->tls_verify = config_setting_get_bool(s);
        }
        if (n->ca_file && !n->tls_verify) {
                nerr(d, file, s, "tls_verify", "false", "ca_file is given: verify with it or drop it");
                bad = 1;
        }
        return bad ? -EINVAL : 0;
}

static int parse_unit(struct diag *d, const char *file, const config_setting_t *root, struct native_conf *n)
{
        const char *v;
        int r = get_string(d, file, root, "unit", false, &v);
        if (r == 0)
                diag_add(d, DIAG_ERROR, "%s: type \"unit\" needs unit", file);
        if (r != 1)
                return -EINVAL;
        if (!valid_unit_name(v)) {
                nerr(d, file, config_setting_get_member(root, "unit"), "unit", v,
                     "must be a unit name like \"nginx.service\"");
                return -EINVAL;
        }
        size_t len = strlen(v) + sizeof(".service");
        if (!(n->unit = malloc(len)))
                return -ENOMEM;
        /* As systemctl does: a name without a suffix is a service. */
        snprintf(n->unit, len, "%s%s", v, strchr(v, '.') ? "" : ".service");
        return 0;
}

static int parse_file(struct diag *d, const char *file, const config_setting_t *root, struct native_conf *n)
{
        const char *v;
        int r = get_string(d, file, root, "path", false, &v);
        if (r == 0)
                diag_add(d, DIAG_ERROR, "%s: type \"file\" needs path", file);
        if (r != 1)
                return -EINVAL;
        size_t len = strlen(v);
        if (v[0] != '/' || has_ctrl(v, false) || v[len - 1] == '/') {
                nerr(d, file, config_setting_get_member(root, "path"), "path", v,
                     "must be the absolute path of a file");
                return -EINVAL;
        }
        return (n->path = strdup(v)) ? 0 : -ENOMEM;
}

int check_native_parse(struct diag *d, const char *file, const config_setting_t *root, struct native_conf **ret)
{
        config_setting_t *t = config_setting_get_member(root, "type");
        const char *const *own = NULL;
        int bad = 0;

        *ret = NULL;
        if (!t) {
                for (const char *const *k = all_native; *k; k++) {
                        config_setting_t *s = config_setting_get_member(root, *k);
                        if (s) {
                                nerr(d, file, s, *k, NULL, "is a key of a native check: set type too");
                                bad = 1;
                        }
                }
                return bad ? -1 : 0;
        }
        const char *v = config_setting_type(t) == CONFIG_TYPE_STRING ? config_setting_get_string(t) : NULL;
        enum native_type type = 0;
        for (int i = NATIVE_TCP; v && i <= NATIVE_FILE; i++)
                if (strcmp(v, type_names[i]) == 0)
                        type = (enum native_type)i;
        if (!type) {
                nerr(d, file, t, "type", v, "unknown type (known: tcp, http, unit, file)");
                return -1;
        }
        own = type == NATIVE_TCP ? tcp_only : type == NATIVE_HTTP ? http_only : type == NATIVE_UNIT ? unit_only
                                                                                                    : file_only;
        for (const char *const *k = all_native; *k; k++) {
                config_setting_t *s = config_setting_get_member(root, *k);
                if (s && !in_list(own, *k)) {
                        nerr(d, file, s, *k, NULL, "is not a key of type \"%s\"", v);
                        bad = 1;
                }
        }

        struct native_conf *n = calloc(1, sizeof(*n));
        if (!n) {
                diag_add(d, DIAG_ERROR, "%s: out of memory", file);
                return -1;
        }
        n->type = type;
        int r = type == NATIVE_TCP ? parse_tcp(d, file, root, n) : type == NATIVE_HTTP ? parse_http(d, file, root, n)
              : type == NATIVE_UNIT ? parse_unit(d, file, root, n) : parse_file(d, file, root, n);
        if (r == -ENOMEM)
                diag_add(d, DIAG_ERROR, "%s: out of memory", file);
        if (r < 0 || bad) {
                check_native_conf_free(n);
                return -1;
        }
        *ret = n;
        return 1;
}

struct native_conf *check_native_conf_free(struct native_conf *n)
{
        if (!n)
                return NULL;
        free(n->host);
        free(n->send);
        free(n->expect);
        free(n->url);
        free(n->ca_file);
        free(n->unit);
        free(n->path);
        free(n);
        return NULL;
}

struct native_conf *check_native_conf_dup(const struct native_conf *n)
{
        if (!n)
                return NULL;
        struct native_conf *c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        *c = *n;
        c->host = xstrdup(n->host);
        c->send = xstrdup(n->send);
        c->expect = xstrdup(n->expect);
        c->url = xstrdup(n->url);
        c->ca_file = xstrdup(n->ca_file);
        c->unit = xstrdup(n->unit);
        c->path = xstrdup(n->path);
        if ((n->host && !c->host) || (n->send && !c->send) || (n->expect && !c->expect) || (n->url && !c->url) ||
            (n->ca_file && !c->ca_file) || (n->unit && !c->unit) || (n->path && !c->path))
                return check_native_conf_free(c);
        return c;
}

static bool same_str(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool check_native_conf_equal(const struct native_conf *a, const struct native_conf *b)
{
        if (!a || !b)
                return !a && !b;
        return a->type == b->type && same_str(a->host, b->host) && a->port == b->port && same_str(a->send, b->send) &&
               same_str(a->expect, b->expect) && same_str(a->url, b->url) && a->status_min == b->status_min &&
               a->status_max == b->status_max && same_str(a->ca_file, b->ca_file) && a->tls_verify == b->tls_verify &&
               same_str(a->unit, b->unit) && same_str(a->path, b->path);
}

void check_native_describe(const struct native_conf *n, char *out, size_t len)
{
        switch (n->type) {
        case NATIVE_TCP:
                snprintf(out, len, strchr(n->host, ':') ? "tcp [%s]:%u" : "tcp %s:%u", n->host, n->port);
                break;
        case NATIVE_HTTP:
                snprintf(out, len, "http %s", n->url);
                break;
        case NATIVE_UNIT:
                snprintf(out, len, "unit %s", n->unit);
                break;
        case NATIVE_FILE:
                snprintf(out, len, "file %s", n->path);
                break;
        default:
                snprintf(out, len, "?");
        }
}

/* --- one run ------------------------------------------------------------------------------------------ */

void native_result_set(struct native_result *r, enum severity sev, const char *description, const char *fmt, ...)
{
        va_list ap;
        memset(r, 0, sizeof(*r));
        r->severity = sev;
        snprintf(r->description, sizeof(r->description), "%s", description);
        va_start(ap, fmt);
        vsnprintf(r->message, sizeof(r->message), fmt, ap);
        va_end(ap);
}

static void run_end(struct native *n)
{
        n->busy = false;
        if (n->timer)
                (void)sd_event_source_set_enabled(n->timer, SD_EVENT_OFF);
}

void native_finish(struct native *n, const struct native_result *r)
{
        if (!n->busy)
                return;
        run_end(n);
        if (n->kind->stop && !n->kind->watched)
                n->kind->stop(n);
        n->done(n, r, n->userdata);     /* may free n */
}

void native_fail(struct native *n, const char *description, const char *fmt, ...)
{
        struct native_result r = { .severity = SEV_FAILED };
        va_list ap;
        snprintf(r.description, sizeof(r.description), "%s", description);
        va_start(ap, fmt);
        vsnprintf(r.message, sizeof(r.message), fmt, ap);
        va_end(ap);
        native_finish(n, &r);
}

void native_value(struct native *n, const struct native_result *r)
{
        bool changed = !n->known || n->last.severity != r->severity ||
                       strcmp(n->last.description, r->description) != 0;
        n->last = *r;
        n->known = true;
        n->stale = false;
        if (n->busy)
                native_finish(n, r);
        else if (changed && n->changed)
                n->changed(n, n->userdata);
}

void native_forget(struct native *n)
{
        n->known = false;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct native *n = userdata;
        (void)s;
        (void)usec;
        if (!n->busy)
                return 0;
        if (n->kind->stop)
                n->kind->stop(n);
        double secs = (double)n->timeout_usec / 1e6;
        if (n->kind->watched)
                native_fail(n, "timed out", "no %s seen within %g s", n->conf->type == NATIVE_UNIT ? "unit state"
                                                                                               : "file content", secs);
        else
                native_fail(n, "timed out", "timed out after %g s", secs);
        return 0;
}

int native_new(sd_event *e, const struct native_conf *nc, native_done_fn done, native_changed_fn changed,
               void *userdata, struct native **ret)
{
        if (!e || !nc || !done || !ret)
                return -EINVAL;
        struct native *n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        if (!(n->conf = check_native_conf_dup(nc))) {
                free(n);
                return -ENOMEM;
        }
        n->kind = nc->type == NATIVE_TCP ? &native_tcp : nc->type == NATIVE_HTTP ? &native_http
                : nc->type == NATIVE_UNIT ? &native_unit : &native_file;
        n->event = sd_event_ref(e);
        n->done = done;
        n->changed = changed;
        n->userdata = userdata;
        *ret = n;
        return 0;
}

void native_set_userdata(struct native *n, void *userdata)
{
        n->userdata = userdata;
}

void native_swap_cred(struct native *a, struct native *b)
{
        if (!a || !b)
                return;
        struct proc_cred *t = a->cred;
        a->cred = b->cred;
        b->cred = t;
}

int native_set_cred(struct native *n, const struct proc_cred *cred)
{
        if (!n || proc_cred_equal(n->cred, cred))
                return 0;
        struct proc_cred *c = NULL;
        if (cred && !(c = proc_cred_dup(cred)))
                return -ENOMEM;
        free(n->cred);
        n->cred = c;
        return 0;
}

int native_run(struct native *n, uint64_t timeout_usec)
{
        uint64_t now;
        if (!n || n->busy)
                return -EBUSY;
        n->timeout_usec = timeout_usec ? timeout_usec : 1;
        int r = sd_event_now(n->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        if (!n->timer)
                r = sd_event_add_time(n->event, &n->timer, CLOCK_MONOTONIC, now + n->timeout_usec,
                                      TIMER_ACCURACY_USEC, on_timeout, n);
        else {
                r = sd_event_source_set_time(n->timer, now + n->timeout_usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(n->timer, SD_EVENT_ONESHOT);
        }
        if (r < 0)
                return r;
        n->busy = true;
        n->stale = false;
        r = n->kind->start(n);
        if (r < 0) {
                run_end(n);
                return r;
        }
        /* A watched kind that already knows its value answers at once. */
        if (n->busy && n->kind->watched && n->known && !n->stale)
                native_finish(n, &n->last);
        return 0;
}

void native_cancel(struct native *n)
{
        if (!n || !n->busy)
                return;
        run_end(n);
        if (n->kind->stop)
                n->kind->stop(n);
}

bool native_busy(const struct native *n)
{
        return n && n->busy;
}

struct native *native_free(struct native *n)
{
        if (!n)
                return NULL;
        native_cancel(n);
        n->kind->free(n);
        n->timer = sd_event_source_disable_unref(n->timer);
        check_native_conf_free(n->conf);
        free(n->cred);
        sd_event_unref(n->event);
        free(n);
        return NULL;
}
