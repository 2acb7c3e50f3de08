/* failoverd.conf: its groups parsed into struct conf over the defaults, and the whole load. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf_bgp.h"
#include "conf_checks.h"
#include "conf_read.h"
#include "conf_valid.h"
#include "file.h"

#define EXTRA_MAX (1024 * 1024)
/* lib/apply.c falls back to vtysh -f without it: a warning, as the daemon gives one. */
#define RELOAD_WHAT "frr-reload.py (package frr-pythontools; full applies fall back to vtysh -f, which cannot " \
        "remove stale lines)"

static void parse_shared_ips(const struct conf_ctx *x, const config_setting_t *root, struct conf *c)
{
        config_setting_t *list;
        int n = conf_get_strlist(x, root, NULL, "shared_ips", &list);

        if (n == 0 && !list) {
                conf_err(x, DIAG_ERROR, NULL, "shared_ips", NULL, "required key is missing");
                return;
        }
        if (n == 0) {
                conf_err(x, DIAG_ERROR, list, "shared_ips", NULL, "must list at least one address");
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
                        conf_err(x, DIAG_ERROR, e, k, v, "%s", prefix_strerror(r));
                        continue;
                }
                if (r == PREFIX_HOSTBITS)
                        conf_err(x, DIAG_NOTICE, e, k, v, "host bits cleared: using %s", p.text);
                bool dup = false;
                for (size_t j = 0; j < c->n_shared_ips; j++)
                        if (strcmp(c->shared_ips[j].text, p.text) == 0)
                                dup = true;
                if (dup) {
                        conf_err(x, DIAG_ERROR, e, k, v, "duplicate of %s", p.text);
                        continue;
                }
                size_t o = 0;
                while (o < c->n_shared_ips && !conf_prefix_overlap(&c->shared_ips[o], &p))
                        o++;
                if (o < c->n_shared_ips) {
                        conf_err(x, DIAG_ERROR, e, k, v, "%s overlaps %s (also in shared_ips): one would hold "
                                 "the other's traffic; list each address once", p.text, c->shared_ips[o].text);
                        continue;
                }
                c->shared_ips[c->n_shared_ips++] = p;
        }
}

static void parse_bgp(const struct conf_ctx *x, const config_setting_t *root, struct conf *c)
{
        static const char *const keys[] = {
                "asn", "router_id", "route_servers", "neighbor_pattern", "route_server_count", "multihop",
                "keepalive", "holdtime", "coalesce_time", "communities", "demote_prepend", "poll_interval",
                "profile", "neighbors", "remote_as", "password_file", "bfd", "bfd_interval", "bfd_multiplier",
                "preference", "prepend", "med", "priority", "secondary", NULL,
        };
        static const char *const comm_keys[] = { "primary", "secondary", NULL };
        config_setting_t *g = config_setting_get_member(root, "bgp");
        const char *v;

        if (!g)
                return;
        if (!config_setting_is_group(g)) {
                conf_err(x, DIAG_ERROR, g, "bgp", NULL, "must be a group { ... }");
                return;
        }
        conf_check_keys(x, g, "bgp", keys);
        conf_get_int(x, g, "bgp", "asn", 1, 4294967295LL, &c->bgp.asn);
        if (conf_get_str(x, g, "bgp", "router_id", &v) == 1) {
                unsigned char a[4];
                size_t i = 0;
                while (i < c->n_shared_ips && !(inet_pton(AF_INET, v, a) == 1 &&
                                                prefix_host_equal(&c->shared_ips[i], AF_INET, a)))
                        i++;
                if (i < c->n_shared_ips)
                        /* The collision of the README: every host of the group would have this router-id. */
                        conf_err(x, DIAG_ERROR, config_setting_get_member(g, "router_id"), "bgp.router_id", v,
                                 "is the shared address %s, which every host of the group has: use this host's "
                                 "own IPv4 address", c->shared_ips[i].text);
                else if (addr_valid4(v))
                        conf_set_str(&c->bgp.router_id, v);
                else
                        conf_err(x, DIAG_ERROR, config_setting_get_member(g, "router_id"), "bgp.router_id", v,
                                 "must be an IPv4 address");
        }
        if (conf_get_str(x, g, "bgp", "neighbor_pattern", &v) == 1)
                conf_set_str(&c->bgp.neighbor_pattern, v);
        conf_get_int32(x, g, "bgp", "route_server_count", 1, 64, &c->bgp.route_server_count);
        conf_get_int32(x, g, "bgp", "multihop", 1, 255, &c->bgp.multihop);
        conf_get_int32(x, g, "bgp", "keepalive", 1, 65535, &c->bgp.keepalive);
        conf_get_int32(x, g, "bgp", "holdtime", 3, 65535, &c->bgp.holdtime);
        conf_get_int(x, g, "bgp", "coalesce_time", 0, 4294967295LL, &c->bgp.coalesce_time);
        conf_get_int32(x, g, "bgp", "demote_prepend", 1, 32, &c->bgp.demote_prepend);
        conf_get_seconds(x, g, "bgp", "poll_interval", 3600, &c->bgp.poll_interval);
        if (c->bgp.holdtime < 3 * c->bgp.keepalive && config_setting_get_member(g, "holdtime")) {
                char val[32];
                snprintf(val, sizeof(val), "%d", c->bgp.holdtime);
                conf_err(x, DIAG_WARNING, config_setting_get_member(g, "holdtime"), "bgp.holdtime", val,
                         "less than three keepalives (%d s)", c->bgp.keepalive);
        }
        if (c->bgp.holdtime < c->bgp.keepalive) {
                char val[32];
                snprintf(val, sizeof(val), "%d", c->bgp.holdtime);
                conf_err(x, DIAG_ERROR, config_setting_get_member(g, "holdtime"), "bgp.holdtime", val,
                         "must not be less than bgp.keepalive (%d)", c->bgp.keepalive);
        }

        config_setting_t *cg = config_setting_get_member(g, "communities");
        if (cg && !config_setting_is_group(cg)) {
                conf_err(x, DIAG_ERROR, cg, "bgp.communities", NULL, "must be a group { primary = ...; secondary = ...; }");
        } else if (cg) {
                conf_check_keys(x, cg, "bgp.communities", comm_keys);
                const char *names[] = { "primary", "secondary" };
                char **dst[] = { &c->bgp.community_primary, &c->bgp.community_secondary };
                for (int i = 0; i < 2; i++) {
                        if (conf_get_str(x, cg, "bgp.communities", names[i], &v) != 1)
                                continue;
                        char k[64];
                        snprintf(k, sizeof(k), "bgp.communities.%s", names[i]);
                        if (conf_valid_community(v))
                                conf_set_str(dst[i], v);
                        else
                                conf_err(x, DIAG_ERROR, config_setting_get_member(cg, names[i]), k, v,
                                         "must be a community AA:NN (two numbers 0-65535)");
                }
                if (strcmp(c->bgp.community_primary, c->bgp.community_secondary) == 0)
                        conf_err(x, DIAG_ERROR, cg, "bgp.communities", c->bgp.community_primary,
                                 "primary and secondary communities must differ");
        }

        config_setting_t *list;
        int n = conf_get_strlist(x, g, "bgp", "route_servers", &list);
        if (n == 0 && list)
                conf_err(x, DIAG_ERROR, list, "bgp.route_servers", NULL, "must list at least one address");
        if (n > 0) {
                c->bgp.route_servers = calloc((size_t)n + 1, sizeof(char *));
                int k = 0;
                for (int i = 0; c->bgp.route_servers && i < n; i++) {
                        config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
                        const char *a = config_setting_get_string(e);
                        char *canon = conf_canonical_addr(a);
                        char key[64];
                        snprintf(key, sizeof(key), "bgp.route_servers[%d]", i);
                        if (!canon) {
                                conf_err(x, DIAG_ERROR, e, key, a, "not an IPv4 or IPv6 address");
                                continue;
                        }
                        bool dup = false;
                        for (int j = 0; j < k; j++)
                                dup = dup || strcmp(c->bgp.route_servers[j], canon) == 0;
                        if (dup) {
                                conf_err(x, DIAG_ERROR, e, key, a, "duplicate of %s", canon);
                                free(canon);
                                continue;
                        }
                        c->bgp.route_servers[k++] = canon;
                }
        }
        conf_parse_bgp(x, g, c);
}

static void parse_frr(const struct conf_ctx *x, const config_setting_t *root, struct conf *c)
{
        static const char *const keys[] = { "config", "vtysh", "reload", "pathspace", "extra", "timeout", NULL };
        config_setting_t *g = config_setting_get_member(root, "frr");
        const char *v;

        if (!g)
                return;
        if (!config_setting_is_group(g)) {
                conf_err(x, DIAG_ERROR, g, "frr", NULL, "must be a group { ... }");
                return;
        }
        conf_check_keys(x, g, "frr", keys);
        conf_get_path(x, g, "frr", "config", false, &c->frr.config);
        conf_get_path(x, g, "frr", "vtysh", false, &c->frr.vtysh);
        conf_get_path(x, g, "frr", "reload", false, &c->frr.reload);
        conf_check_program(x, DIAG_ERROR, config_setting_get_member(g, "vtysh"), "frr.vtysh", c->frr.vtysh,
                           "FRR's vtysh (package frr)");
        conf_check_program(x, DIAG_WARNING, config_setting_get_member(g, "reload"), "frr.reload", c->frr.reload,
                           RELOAD_WHAT);
        conf_get_path(x, g, "frr", "extra", true, &c->frr.extra);
        conf_get_seconds(x, g, "frr", "timeout", 3600, &c->frr.timeout);
        if (conf_get_str(x, g, "frr", "pathspace", &v) == 1) {
                if (conf_valid_pathspace(v))
                        conf_set_str(&c->frr.pathspace, v);
                else
                        conf_err(x, DIAG_ERROR, config_setting_get_member(g, "pathspace"), "frr.pathspace", v,
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
static void check_extra(const struct conf_ctx *x, const char *path, const char *text)
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

static void read_extra(const struct conf_ctx *x, const config_setting_t *root, struct conf *c)
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
                conf_err(x, DIAG_ERROR, s, "frr.extra", c->frr.extra, "cannot read: %s", strerror(errno));
                return;
        }
        buf_init(&b);
        while ((n = read(fd, chunk, sizeof(chunk))) > 0 && b.len <= EXTRA_MAX)
                buf_append(&b, chunk, (size_t)n);
        int e = errno;
        close(fd);
        if (n < 0)
                conf_err(x, DIAG_ERROR, s, "frr.extra", c->frr.extra, "cannot read: %s", strerror(e));
        else if (b.len > EXTRA_MAX)
                conf_err(x, DIAG_ERROR, s, "frr.extra", c->frr.extra, "larger than %d bytes", EXTRA_MAX);
        else if (b.len && memchr(b.data, '\0', b.len))
                conf_err(x, DIAG_ERROR, s, "frr.extra", c->frr.extra, "contains a NUL byte");
        else {
                c->frr.extra_text = buf_steal(&b);
                check_extra(x, c->frr.extra, c->frr.extra_text ? c->frr.extra_text : "");
                return;
        }
        buf_free(&b);
}

static void parse_checks_group(const struct conf_ctx *x, const config_setting_t *root, struct conf *c)
{
        static const char *const keys[] = { "directory", "interval", "timeout", "rise", "fall", "user", NULL };
        config_setting_t *g = config_setting_get_member(root, "checks");

        if (!g)
                return;
        if (!config_setting_is_group(g)) {
                conf_err(x, DIAG_ERROR, g, "checks", NULL, "must be a group { ... }");
                return;
        }
        conf_check_keys(x, g, "checks", keys);
        conf_get_path(x, g, "checks", "directory", false, &c->checks.directory);
        conf_get_seconds(x, g, "checks", "interval", 86400, &c->checks.interval);
        conf_get_seconds(x, g, "checks", "timeout", 3600, &c->checks.timeout);
        conf_get_int32(x, g, "checks", "rise", 1, 1000, &c->checks.rise);
        conf_get_int32(x, g, "checks", "fall", 1, 1000, &c->checks.fall);
        conf_get_user(x, g, "checks", &c->checks.user, &c->checks.cred);
}

/* A group name resolved now, so the control socket never asks NSS from the event loop. */
static void get_group(const struct conf_ctx *x, const config_setting_t *g, const char *key, char **name, gid_t *gid)
{
        struct group gr, *res = NULL;
        char tmp[16384], k[64];
        const char *v;

        if (conf_get_str(x, g, "control", key, &v) != 1)
                return;
        conf_key_name(k, sizeof(k), "control", key);
        free(*name);
        *name = NULL;
        *gid = (gid_t)-1;
        if (*v == '\0')
                return;
        if (conf_has_ctrl_or_space(v) || getgrnam_r(v, &gr, tmp, sizeof(tmp), &res) != 0 || !res) {
                conf_err(x, DIAG_ERROR, config_setting_get_member(g, key), k, v, "no such group");
                return;
        }
        conf_set_str(name, v);
        *gid = res->gr_gid;
}

/* Who may read the status and who may change things over the control socket. */
static void parse_control(const struct conf_ctx *x, const config_setting_t *root, struct conf *c)
{
        static const char *const keys[] = { "read_group", "admin_group", NULL };
        config_setting_t *g = config_setting_get_member(root, "control");

        if (!g)
                return;
        if (!config_setting_is_group(g)) {
                conf_err(x, DIAG_ERROR, g, "control", NULL, "must be a group { ... }");
                return;
        }
        conf_check_keys(x, g, "control", keys);
        get_group(x, g, "read_group", &c->control.read_group, &c->control.read_gid);
        get_group(x, g, "admin_group", &c->control.admin_group, &c->control.admin_gid);
}

/* notify: a program path, or an argv list whose first element is one. */
static void parse_notify(const struct conf_ctx *x, const config_setting_t *root, struct conf *c)
{
        config_setting_t *s = config_setting_get_member(root, "notify");
        const char *v;

        if (!s)
                return;
        if (config_setting_type(s) != CONFIG_TYPE_STRING && config_setting_type(s) != CONFIG_TYPE_ARRAY &&
            config_setting_type(s) != CONFIG_TYPE_LIST) {
                conf_err(x, DIAG_ERROR, s, "notify", NULL, "must be a program path or a list of strings (argv), not %s",
                         conf_type_name(config_setting_type(s)));
                return;
        }
        if (config_setting_type(s) == CONFIG_TYPE_STRING) {
                conf_get_str(x, root, NULL, "notify", &v);
                if (!*v)
                        return;
                if (!conf_valid_path(v)) {
                        conf_err(x, DIAG_ERROR, s, "notify", v, "must be an absolute path without control characters");
                        return;
                }
                conf_check_program(x, DIAG_ERROR, s, "notify", v, "the notify hook");
                c->notify = calloc(2, sizeof(char *));
                if (c->notify)
                        c->notify[0] = strdup(v);
                return;
        }
        config_setting_t *list;
        int n = conf_get_strlist(x, root, NULL, "notify", &list);
        if (n <= 0) {
                if (n == 0 && list)
                        conf_err(x, DIAG_ERROR, s, "notify", NULL, "must not be an empty list");
                return;
        }
        const char *a0 = config_setting_get_string(config_setting_get_elem(list, 0));
        if (!conf_valid_path(a0)) {
                conf_err(x, DIAG_ERROR, s, "notify[0]", a0, "must be an absolute path without control characters");
                return;
        }
        conf_check_program(x, DIAG_ERROR, s, "notify[0]", a0, "the notify hook");
        c->notify = conf_strv_from_list(list, n);
}

/* Debian and FRR's own RPMs keep FRR's helpers in /usr/lib/frr, Fedora's and RHEL's frr package in
 * /usr/libexec/frr: the first that exists, Debian's when neither does (the error then names that). */
const char *conf_frr_reload_default(void)
{
        static const char usr_lib[] = "/usr/lib/frr/frr-reload.py", libexec[] = "/usr/libexec/frr/frr-reload.py";
        return access(usr_lib, F_OK) != 0 && access(libexec, F_OK) == 0 ? libexec : usr_lib;
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
        conf_bgp_defaults(c);
        c->frr.config = strdup("/etc/frr/frr.conf");
        c->frr.vtysh = strdup("/usr/bin/vtysh");
        c->frr.reload = strdup(conf_frr_reload_default());
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

static void derive_route_servers(const struct conf_ctx *x, const config_setting_t *root, struct conf *c)
{
        const config_setting_t *g = config_setting_get_member(root, "bgp");
        const config_setting_t *pat = g ? config_setting_get_member(g, "neighbor_pattern") : NULL;
        char addr[256];

        if (c->bgp.route_servers) {
                /* An explicit pattern is unused then, but a broken one is still a mistake worth naming. */
                if (pat && conf_expand_pattern(c->bgp.neighbor_pattern, 0, 1, addr, sizeof(addr)) < 0)
                        conf_err(x, DIAG_ERROR, pat, "bgp.neighbor_pattern", c->bgp.neighbor_pattern,
                                 "must contain exactly two %%d (data center, then server number) and no other %%");
                return;
        }
        if (c->datacenter < 0) {
                const config_setting_t *rs = g ? config_setting_get_member(g, "route_servers") : NULL;
                /* A datacenter that is present but invalid already has its error. */
                if (!rs && !config_setting_get_member(root, "datacenter"))
                        conf_err(x, DIAG_ERROR, NULL, "datacenter", NULL,
                                 "required key is missing (or set bgp.route_servers)");
                return;
        }
        c->bgp.route_servers = calloc((size_t)c->bgp.route_server_count + 1, sizeof(char *));
        for (int i = 0; c->bgp.route_servers && i < c->bgp.route_server_count; i++) {
                char *canon = NULL;
                if (conf_expand_pattern(c->bgp.neighbor_pattern, c->datacenter, i + 1, addr, sizeof(addr)) < 0) {
                        conf_err(x, DIAG_ERROR, pat, "bgp.neighbor_pattern", c->bgp.neighbor_pattern,
                                 "must contain exactly two %%d (data center, then server number) and no other %%");
                        break;
                }
                if (!(canon = conf_canonical_addr(addr))) {
                        conf_err(x, DIAG_ERROR, pat, "bgp.neighbor_pattern", c->bgp.neighbor_pattern,
                                 "gives \"%s\", which is not an IPv4 or IPv6 address", addr);
                        break;
                }
                c->bgp.route_servers[i] = canon;
        }
}

/* addresses and addresses_on_stop (agent/addresses.c); after on_stop, which removal needs. */
static void parse_addresses(const struct conf_ctx *x, const config_setting_t *root, struct conf *c)
{
        const char *v;

        if (conf_get_str(x, root, NULL, "addresses", &v) == 1) {
                if (strcmp(v, "external") == 0 || strcmp(v, "manage") == 0)
                        c->addresses_manage = strcmp(v, "manage") == 0;
                else
                        conf_err(x, DIAG_ERROR, config_setting_get_member(root, "addresses"), "addresses", v,
                                 "must be \"external\" or \"manage\"");
        }
        if (conf_get_str(x, root, NULL, "addresses_on_stop", &v) != 1)
                return;
        const config_setting_t *at = config_setting_get_member(root, "addresses_on_stop");
        if (strcmp(v, "keep") != 0 && strcmp(v, "remove") != 0)
                conf_err(x, DIAG_ERROR, at, "addresses_on_stop", v, "must be \"keep\" or \"remove\"");
        else if (strcmp(v, "remove") == 0 && !(c->addresses_manage && c->on_stop_withdraw))
                conf_err(x, DIAG_ERROR, at, "addresses_on_stop", v,
                         "\"remove\" needs addresses = \"manage\" and on_stop = \"withdraw\" (an address leaves lo "
                         "only after its withdrawal is in bgpd)");
        else
                c->addresses_remove = strcmp(v, "remove") == 0;
}

/* node_exporter's textfile collector reads only *.prom, and the daemon writes beside it (FILE.tmp, then a
 * rename): a missing directory would fail every write. */
static void check_metrics_file(const struct conf_ctx *x, const config_setting_t *s, const char *path)
{
        struct stat st;
        size_t len = path ? strlen(path) : 0;

        if (!path)
                return;
        if (len < 6 || strcmp(path + len - 5, ".prom") != 0 || path[len - 6] == '/') {
                conf_err(x, DIAG_ERROR, s, "metrics_file", path, "must end in .prom (the textfile collector "
                         "reads only those)");
                return;
        }
        if (x->flags & CONF_LOAD_NO_HOST)
                return;
        const char *slash = strrchr(path, '/');
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                conf_err(x, DIAG_ERROR, s, "metrics_file", path, "%s: %s: the metrics could never be written",
                         dir, stat(dir, &st) < 0 ? (errno == ENOENT ? "no such directory" : strerror(errno))
                                                 : "not a directory");
}

/* drain_delay and drain_check (agent/drain.c): the order of a drain. */
static void parse_drain(const struct conf_ctx *x, const config_setting_t *root, struct conf *c)
{
        config_setting_t *list;

        conf_get_seconds(x, root, NULL, "drain_delay", 3600, &c->drain_delay);
        int n = conf_get_strlist(x, root, NULL, "drain_check", &list);
        if (n == 0 && list)
                conf_err(x, DIAG_ERROR, list, "drain_check", NULL, "must not be an empty list");
        if (n <= 0)
                return;
        const char *a0 = config_setting_get_string(config_setting_get_elem(list, 0));
        if (!conf_valid_path(a0)) {
                conf_err(x, DIAG_ERROR, list, "drain_check[0]", a0, "must be an absolute path without control characters");
                return;
        }
        conf_check_program(x, DIAG_ERROR, list, "drain_check[0]", a0, "the drain check");
        c->drain_check = conf_strv_from_list(list, n);
}

static void parse_root(const struct conf_ctx *x, const config_setting_t *root, struct conf *c)
{
        static const char *const keys[] = {
                "role", "datacenter", "shared_ips", "hostname", "bgp", "frr", "checks", "notify",
                "metrics_file", "state_directory", "runtime_directory", "control", "failsafe", "services",
                "on_stop", "group", "addresses", "addresses_on_stop", "drain_delay", "drain_check", "failback_delay",
                "flap_limit", "flap_window", "flap_hold", "start", NULL,
        };
        const char *v;

        conf_check_keys(x, root, NULL, keys);

        if (conf_get_str(x, root, NULL, "failsafe", &v) == 1) {
                if (strcmp(v, "withdraw") == 0 || strcmp(v, "keep") == 0)
                        c->failsafe_keep = strcmp(v, "keep") == 0;
                else
                        conf_err(x, DIAG_ERROR, config_setting_get_member(root, "failsafe"), "failsafe", v,
                                 "must be \"withdraw\" or \"keep\"");
        }

        /* services = ( ... ) replaces the top-level role and shared_ips (lib/conf_services.c). */
        conf_parse_services(x, root, c);
        parse_addresses(x, root, c);
        parse_drain(x, root, c);
        int r = c->services_form ? -1 : conf_get_str(x, root, NULL, "role", &v);
        if (r == 0)
                conf_err(x, DIAG_ERROR, NULL, "role", NULL, "required key is missing (\"primary\" or \"secondary\")");
        else if (r == 1 && role_parse(v) < 0)
                conf_err(x, DIAG_ERROR, config_setting_get_member(root, "role"), "role", v,
                         "must be \"primary\" or \"secondary\"");
        else if (r == 1)
                c->role = (enum role)role_parse(v);

        conf_get_int32(x, root, NULL, "datacenter", 0, 999999, &c->datacenter);
        if (!c->services_form)
                parse_shared_ips(x, root, c);

        if (conf_get_str(x, root, NULL, "hostname", &v) == 1) {
                if (conf_valid_hostname(v))
                        conf_set_str(&c->hostname, v);
                else
                        conf_err(x, DIAG_ERROR, config_setting_get_member(root, "hostname"), "hostname", v,
                                 "not a valid host name (letters, digits, '-' and '.', no white space)");
        } else if (!conf_valid_hostname(c->hostname)) {
                conf_err(x, DIAG_ERROR, NULL, "hostname", c->hostname,
                         "the system host name is not valid for FRR; set hostname");
        }

        /* Labels the metrics (docs/metrics.md): the same rule as the host name, so it is a safe label value. */
        if (conf_get_str(x, root, NULL, "group", &v) == 1) {
                if (conf_valid_hostname(v))
                        conf_set_str(&c->group, v);
                else
                        conf_err(x, DIAG_ERROR, config_setting_get_member(root, "group"), "group", v,
                                 "not a valid group name (letters, digits, '-' and '.', no white space)");
        }

        parse_bgp(x, root, c);
        parse_frr(x, root, c);
        if (!config_setting_get_member(root, "frr")) {
                conf_check_program(x, DIAG_ERROR, NULL, "frr.vtysh", c->frr.vtysh, "FRR's vtysh (package frr)");
                conf_check_program(x, DIAG_WARNING, NULL, "frr.reload", c->frr.reload, RELOAD_WHAT);
        }
        parse_checks_group(x, root, c);
        parse_notify(x, root, c);
        conf_get_path(x, root, NULL, "metrics_file", true, &c->metrics_file);
        if (c->metrics_file && !*c->metrics_file) {
                free(c->metrics_file);
                c->metrics_file = NULL;
        }
        check_metrics_file(x, config_setting_get_member(root, "metrics_file"), c->metrics_file);
        conf_get_path(x, root, NULL, "state_directory", false, &c->state_directory);
        conf_get_path(x, root, NULL, "runtime_directory", false, &c->runtime_directory);
        parse_control(x, root, c);
        derive_route_servers(x, root, c);
        read_extra(x, root, c);
        conf_bgp_check_bfdd(x, c);
}

/* What root runs or hands to FRR passes the rule the checks pass (file_root_only()), when we are root: this
 * file, frr.vtysh, frr.reload, frr.extra, and the state and runtime directories where they exist (a local user
 * who could write one of them could choose what runs as root or what this host announces). */
static void check_root_only(struct diag *d, const struct conf *c)
{
        const char *const keys[] = { NULL, "frr.vtysh", "frr.reload", "frr.extra", "state_directory",
                                     "runtime_directory" };
        const char *const paths[] = { c->path, c->frr.vtysh, c->frr.reload, c->frr.extra, c->state_directory,
                                      c->runtime_directory };
        char why[600], abs[4096];

        if (geteuid() != 0)
                return;
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                const char *p = paths[i];
                if (!p || !*p)
                        continue;       /* not set ("" is the default of some) */
                if (p[0] != '/' && getcwd(abs, sizeof(abs) - strlen(p) - 2)) {
                        size_t n = strlen(abs);
                        snprintf(abs + n, sizeof(abs) - n, "/%s", p);
                        p = abs;
                }
                if (file_root_only(p, why, sizeof(why)) != -EPERM)
                        continue;       /* missing ones are reported where they are used */
                if (keys[i])
                        diag_add(d, DIAG_ERROR, "%s: %s: \"%s\": %s", c->path, keys[i], paths[i], why);
                else
                        diag_add(d, DIAG_ERROR, "%s: %s", c->path, why);
        }
}

int conf_load(const char *path, struct conf **ret, struct diag *d)
{
        return conf_load_opts(path, 0, ret, d);
}

int conf_load_opts(const char *path, unsigned flags, struct conf **ret, struct diag *d)
{
        config_t cfg;
        struct conf_ctx x = { .d = d, .file = path, .flags = flags };
        size_t errors_before = d->n_errors;
        struct conf *c;
        int r;

        *ret = NULL;
        c = calloc(1, sizeof(*c));
        if (!c || !(c->path = strdup(path)) || set_defaults(c) < 0) {
                conf_free(c);
                return -ENOMEM;
        }

        if (conf_read_file(d, &cfg, path) < 0) {
                conf_free(c);
                return -EINVAL;
        }
        parse_root(&x, config_root_setting(&cfg), c);
        config_destroy(&cfg);
        check_root_only(d, c);

        r = conf_scan_checks_opts(c, flags, d);
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

struct conf *conf_free(struct conf *c)
{
        if (!c)
                return NULL;
        free(c->path);
        free(c->shared_ips);
        free(c->hostname);
        free(c->group);
        free(c->bgp.router_id);
        strv_free(c->bgp.route_servers);
        free(c->bgp.neighbor_pattern);
        free(c->bgp.community_primary);
        free(c->bgp.community_secondary);
        conf_bgp_free(c);
        free(c->frr.config);
        free(c->frr.vtysh);
        free(c->frr.reload);
        free(c->frr.pathspace);
        free(c->frr.extra);
        free(c->frr.extra_text);
        free(c->checks.directory);
        free(c->checks.user);
        free(c->checks.cred);
        conf_free_checks(c->check, c->n_checks);
        strv_free(c->notify);
        strv_free(c->drain_check);
        free(c->metrics_file);
        free(c->state_directory);
        free(c->runtime_directory);
        free(c->control.read_group);
        free(c->control.admin_group);
        conf_free_services(c);
        free(c);
        return NULL;
}
