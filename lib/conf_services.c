/* services = ( ... ) and on_stop: several sets of shared addresses, each with its own role, checks, failback
 * delay, flap damping and start-up gating (failoverd.conf(5), docs/design.md). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_checks.h"
#include "conf_read.h"
#include "conf_services.h"
#include "conf_valid.h"

#define SERVICE_NAME_MAX 32

/* Seconds that may be 0 (failback_delay): an integer or a float in [0, max]. */
static int get_seconds0(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                        double max, double *out)
{
        config_setting_t *s = config_setting_get_member(grp, name);
        if (!s)
                return 0;
        int t = config_setting_type(s);
        if ((t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) && config_setting_get_int64(s) == 0) {
                *out = 0;
                return 1;
        }
        return conf_get_seconds(x, grp, prefix, name, max, out);
}

static bool valid_name(const char *s)
{
        if (!*s || strlen(s) > SERVICE_NAME_MAX)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      *s == '_' || *s == '-'))
                        return false;
        return true;
}

static char *where_of(const struct conf_ctx *x, const config_setting_t *s, int i)
{
        char w[4200];
        const char *f = config_setting_source_file(s);
        snprintf(w, sizeof(w), "%s:%u: services[%d]", f && *f == '/' ? f : x->file, config_setting_source_line(s), i);
        return strdup(w);
}

/* The shared_ips of service i, appended to c->shared_ips; an address already in another service is an error. */
static void parse_addresses(const struct conf_ctx *x, const config_setting_t *g, const char *key, struct conf *c,
                            size_t si)
{
        config_setting_t *list;
        char k[96];
        int n = conf_get_strlist(x, g, key, "shared_ips", &list);

        snprintf(k, sizeof(k), "%s.shared_ips", key);
        if (n == 0) {
                conf_err(x, DIAG_ERROR, list ? list : g, k, NULL, list ? "must list at least one address"
                                                                  : "required key is missing: a service needs an address");
                return;
        }
        if (n < 0)
                return;
        struct prefix *v = realloc(c->shared_ips, (c->n_shared_ips + (size_t)n) * sizeof(*v));
        if (!v)
                return;
        c->shared_ips = v;
        for (int i = 0; i < n; i++) {
                config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
                const char *a = config_setting_get_string(e);
                char ki[128];
                struct prefix p;

                snprintf(ki, sizeof(ki), "%s[%d]", k, i);
                enum prefix_result r = prefix_parse_shared(a, &p);
                if (r < 0) {
                        conf_err(x, DIAG_ERROR, e, ki, a, "%s", prefix_strerror(r));
                        continue;
                }
                if (r == PREFIX_HOSTBITS)
                        conf_err(x, DIAG_NOTICE, e, ki, a, "host bits cleared: using %s", p.text);
                int other = -1;
                for (size_t j = 0; j < c->n_shared_ips && other < 0; j++)
                        if (strcmp(c->shared_ips[j].text, p.text) == 0)
                                other = (int)conf_prefix_service(c, j);
                if (other >= 0 && (size_t)other == si) {
                        conf_err(x, DIAG_ERROR, e, ki, a, "duplicate of %s", p.text);
                        continue;
                }
                if (other >= 0) {
                        conf_err(x, DIAG_ERROR, e, ki, a, "%s is already in service \"%s\": an address belongs to "
                             "one service", p.text, c->services[other].name ? c->services[other].name : "?");
                        continue;
                }
                size_t o = 0;
                while (o < c->n_shared_ips && !conf_prefix_overlap(&c->shared_ips[o], &p))
                        o++;
                if (o < c->n_shared_ips) {
                        size_t so = conf_prefix_service(c, o);
                        const char *on = c->services[so].name ? c->services[so].name : "?";
                        if (so == si)
                                conf_err(x, DIAG_ERROR, e, ki, a, "%s overlaps %s of the same service: list each "
                                         "address once", p.text, c->shared_ips[o].text);
                        else
                                conf_err(x, DIAG_ERROR, e, ki, a, "%s overlaps %s of service \"%s\" (%s): the longer "
                                         "prefix would take its traffic out of the other's failover", p.text,
                                         c->shared_ips[o].text, on, c->services[so].where ? c->services[so].where : "?");
                        continue;
                }
                c->shared_ips[c->n_shared_ips++] = p;
                c->services[si].n_prefixes++;
        }
}

/* failback_delay, flap damping and start of one service: in its group, or at the top level (key NULL). */
static void parse_holds(const struct conf_ctx *x, const config_setting_t *g, const char *key, struct service *sv)
{
        char kn[64];
        const char *v;

        sv->flap_window = 60;
        sv->flap_hold = 120;
        get_seconds0(x, g, key, "failback_delay", 86400, &sv->failback_delay);
        conf_get_int32(x, g, key, "flap_limit", 0, 1000, &sv->flap_limit);
        conf_get_seconds(x, g, key, "flap_window", 86400, &sv->flap_window);
        conf_get_seconds(x, g, key, "flap_hold", 86400, &sv->flap_hold);
        conf_key_name(kn, sizeof(kn), key, "start");
        if (conf_get_str(x, g, key, "start", &v) == 1) {
                if (strcmp(v, "checks") == 0)
                        sv->start = START_CHECKS;
                else if (strcmp(v, "withdrawn") == 0)
                        sv->start = START_WITHDRAWN;
                else
                        conf_err(x, DIAG_ERROR, config_setting_get_member(g, "start"), kn, v,
                             "must be \"withdrawn\" or \"checks\"");
        }
}

static void parse_one(const struct conf_ctx *x, const config_setting_t *g, int i, struct conf *c)
{
        static const char *const keys[] = {
                "name", "shared_ips", "role", "checks", "failback_delay", "flap_limit", "flap_window", "flap_hold",
                "start", NULL,
        };
        struct service *sv = &c->services[c->n_services];
        char key[32];
        const char *v;

        snprintf(key, sizeof(key), "services[%d]", i);
        memset(sv, 0, sizeof(*sv));
        sv->where = where_of(x, g, i);
        if (!config_setting_is_group(g)) {
                conf_err(x, DIAG_ERROR, g, key, NULL, "must be a group { name = ...; shared_ips = [...]; role = ...; }");
                return;
        }
        conf_check_keys(x, g, key, keys);

        int r = conf_get_str(x, g, key, "name", &v);
        char kn[64];
        snprintf(kn, sizeof(kn), "%s.name", key);
        if (r == 0)
                conf_err(x, DIAG_ERROR, g, kn, NULL, "required key is missing");
        else if (r == 1 && !valid_name(v))
                conf_err(x, DIAG_ERROR, config_setting_get_member(g, "name"), kn, v,
                     "must be 1 to %d letters, digits, '_' or '-'", SERVICE_NAME_MAX);
        else if (r == 1 && conf_find_service(c, v) >= 0)
                conf_err(x, DIAG_ERROR, config_setting_get_member(g, "name"), kn, v,
                     "two services with one name: names must be unique");
        else if (r == 1)
                sv->name = strdup(v);

        snprintf(kn, sizeof(kn), "%s.role", key);
        r = conf_get_str(x, g, key, "role", &v);
        if (r == 0)
                conf_err(x, DIAG_ERROR, g, kn, NULL, "required key is missing (\"primary\" or \"secondary\")");
        else if (r == 1 && role_parse(v) < 0)
                conf_err(x, DIAG_ERROR, config_setting_get_member(g, "role"), kn, v, "must be \"primary\" or \"secondary\"");
        else if (r == 1)
                sv->role = (enum role)role_parse(v);

        /* Counted as a service before its addresses, so that a duplicate names it. */
        size_t si = c->n_services++;
        parse_addresses(x, g, key, c, si);

        config_setting_t *list;
        int n = conf_get_strlist(x, g, key, "checks", &list);
        if (n > 0) {
                sv->checks = calloc((size_t)n + 1, sizeof(char *));
                for (int j = 0; sv->checks && j < n; j++)
                        sv->checks[j] = strdup(config_setting_get_string(config_setting_get_elem(list, (unsigned)j)));
        }

        parse_holds(x, g, key, sv);
}

void conf_parse_services(const struct conf_ctx *x, const config_setting_t *root, struct conf *c)
{
        config_setting_t *s = config_setting_get_member(root, "services");
        const char *v;

        if (conf_get_str(x, root, NULL, "on_stop", &v) == 1) {
                if (strcmp(v, "keep") == 0 || strcmp(v, "withdraw") == 0)
                        c->on_stop_withdraw = strcmp(v, "withdraw") == 0;
                else
                        conf_err(x, DIAG_ERROR, config_setting_get_member(root, "on_stop"), "on_stop", v,
                             "must be \"keep\" or \"withdraw\"");
        }
        if (!s) {
                /* The top-level form's one service takes the same keys at the top level. */
                c->services = calloc(1, sizeof(*c->services));
                if (!c->services)
                        return;
                c->n_services = 1;
                parse_holds(x, root, NULL, &c->services[0]);
                return;
        }
        c->services_form = true;
        int t = config_setting_type(s);
        if (t != CONFIG_TYPE_LIST) {
                conf_err(x, DIAG_ERROR, s, "services", NULL, "must be a list of groups: services = ( { ... }, { ... } )");
                return;
        }
        static const char *const top[] = { "role", "shared_ips", "failback_delay", "flap_limit", "flap_window",
                                           "flap_hold", "start" };
        for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
                config_setting_t *m = config_setting_get_member(root, top[i]);
                if (m)
                        conf_err(x, DIAG_ERROR, m, top[i], NULL, "cannot be used together with services (line %u): "
                             "put it in each service", config_setting_source_line(s));
        }
        int n = config_setting_length(s);
        if (n == 0) {
                conf_err(x, DIAG_ERROR, s, "services", NULL, "must list at least one service");
                return;
        }
        if (n > CONF_MAX_SERVICES) {
                conf_err(x, DIAG_ERROR, s, "services", NULL, "at most %d services, not %d", CONF_MAX_SERVICES, n);
                return;
        }
        c->services = calloc((size_t)n, sizeof(*c->services));
        if (!c->services)
                return;
        for (int i = 0; i < n; i++)
                parse_one(x, config_setting_get_elem(s, (unsigned)i), i, c);
        /* The slices are taken once shared_ips has stopped moving. */
        size_t off = 0;
        for (size_t i = 0; i < c->n_services; i++) {
                c->services[i].prefixes = c->shared_ips + off;
                off += c->services[i].n_prefixes;
        }
}

struct why {
        char text[PATH_MAX + 128];
};

/* Why conf.d has no check of that name: the file that is there but is no check, or nothing at all. */
static struct why why_no_check(const struct conf *c, const char *name)
{
        struct why w;
        struct stat st;
        char p[PATH_MAX];

        snprintf(p, sizeof(p), "%s/%s", c->checks.directory, name);
        if (conf_valid_check_name(name) && stat(p, &st) == 0) {
                snprintf(w.text, sizeof(w.text), "%s is %s", p, !S_ISREG(st.st_mode) ? "not a regular file, so no check"
                         : access(p, X_OK) < 0 ? "not executable, so no check (chmod 0755 it)"
                                               : "not run (the messages above say why)");
                return w;
        }
        snprintf(p, sizeof(p), "%s/%s.conf", c->checks.directory, name);
        if (conf_valid_check_name(name) && stat(p, &st) == 0)
                snprintf(w.text, sizeof(w.text), "%s defines no check (its errors are above)", p);
        else
                snprintf(w.text, sizeof(w.text), "no such check in %s", c->checks.directory);
        return w;
}

int conf_build_services(struct conf *c, struct diag *d)
{
        if (!c->services_form) {
                /* Allocated with its holds by conf_parse_services, unless that ran out of memory. */
                if (!c->services && !(c->services = calloc(1, sizeof(*c->services))))
                        return -ENOMEM;
                if (c->n_services == 0) {
                        c->services[0].flap_window = 60;
                        c->services[0].flap_hold = 120;
                }
                c->n_services = 1;
                struct service *sv = &c->services[0];
                if (!(sv->name = strdup("default")))
                        return -ENOMEM;
                sv->role = c->role;
                sv->prefixes = c->shared_ips;
                sv->n_prefixes = c->n_shared_ips;
                return 0;
        }
        for (size_t i = 0; i < c->n_services; i++) {
                struct service *sv = &c->services[i];
                for (size_t j = 0; sv->checks && sv->checks[j]; j++)
                        if (!conf_find_check(c, sv->checks[j]))
                                diag_add(d, DIAG_ERROR, "%s.checks[%zu]: \"%s\": %s", sv->where ? sv->where : "?", j,
                                         sv->checks[j], why_no_check(c, sv->checks[j]).text);
        }
        return 0;
}

void conf_free_services(struct conf *c)
{
        for (size_t i = 0; i < c->n_services; i++) {
                free(c->services[i].name);
                strv_free(c->services[i].checks);
                free(c->services[i].where);
        }
        free(c->services);
        c->services = NULL;
        c->n_services = 0;
}

int conf_find_service(const struct conf *c, const char *name)
{
        for (size_t i = 0; i < c->n_services; i++)
                if (c->services[i].name && strcmp(c->services[i].name, name) == 0)
                        return (int)i;
        return -1;
}

size_t conf_prefix_service(const struct conf *c, size_t i)
{
        /* Slices follow each other in shared_ips; during the parse they are counted, not yet pointed to. */
        size_t off = 0;
        for (size_t s = 0; s < c->n_services; s++) {
                if (i < off + c->services[s].n_prefixes)
                        return s;
                off += c->services[s].n_prefixes;
        }
        return c->n_services ? c->n_services - 1 : 0;
}

bool conf_check_guards(const struct conf *c, size_t s, const char *name)
{
        bool bound = false;
        for (size_t i = 0; i < c->n_services; i++)
                for (size_t j = 0; c->services[i].checks && c->services[i].checks[j]; j++)
                        if (strcmp(c->services[i].checks[j], name) == 0) {
                                if (i == s)
                                        return true;
                                bound = true;
                        }
        return !bound;
}
