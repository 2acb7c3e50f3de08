/* bgp.profile, bgp.neighbors, passwords, BFD and bgp.preference parsed into struct conf (docs/providers.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_bgp.h"
#include "conf_valid.h"
#include "prefix.h"

static const char *const profile_names[] = { "linode", "vultr", "aws-route-server", "generic", NULL };
static const char *const preference_names[] = { "community", "prepend", "med", NULL };

/* Vultr's side of the session on every cloud instance, as Vultr documents it (docs/providers.md). An IPv6
 * neighbor is not in Vultr's public guide: the operator adds it in bgp.neighbors from the portal. */
#define VULTR_AS 64515
static const char *const vultr_neighbors[] = { "169.254.169.254", NULL };

static int name_index(const char *const *names, const char *v)
{
        for (int i = 0; names[i]; i++)
                if (strcmp(names[i], v) == 0)
                        return i;
        return -1;
}

static void secret_free(char *s)
{
        if (s)
                explicit_bzero(s, strlen(s));
        free(s);
}

void conf_bgp_defaults(struct conf *c)
{
        c->bgp.profile = PROFILE_LINODE;
        c->bgp.bfd_interval = 300;
        c->bgp.bfd_multiplier = 3;
        c->bgp.preference = PREFER_COMMUNITY;
        c->bgp.prepend = 1;
        c->bgp.med_primary = 0;
        c->bgp.med_secondary = 100;
        c->bgp.med_demoted = 200;
        c->bgp.med_step = 10;
}

/* A credential name: one path component of printable characters, as LoadCredential= takes it. */
static bool credential_name(const char *v)
{
        if (!*v || strcmp(v, ".") == 0 || strcmp(v, "..") == 0 || strlen(v) > 255)
                return false;
        for (const unsigned char *p = (const unsigned char *)v; *p; p++)
                if (*p <= ' ' || *p == 0x7f || *p == '/')
                        return false;
        return true;
}

/* Reads the key named by v (an absolute path, or a systemd credential name looked up in
 * $CREDENTIALS_DIRECTORY) into *out. Messages name the file, never its contents. Returns 1 or -1. */
static int read_secret(const struct conf_ctx *x, const config_setting_t *s, const char *key, const char *v,
                       char **out)
{
        char path[4096], data[CONF_PASSWORD_MAX + 3];
        struct stat st;
        ssize_t n;

        if (v[0] == '/') {
                if (!conf_valid_path(v)) {
                        conf_err(x, DIAG_ERROR, s, key, v, "must be an absolute path without control characters");
                        return -1;
                }
                snprintf(path, sizeof(path), "%s", v);
        } else {
                const char *dir = getenv("CREDENTIALS_DIRECTORY");
                if (!credential_name(v)) {
                        conf_err(x, DIAG_ERROR, s, key, v, "must be an absolute path or a systemd credential name");
                        return -1;
                }
                if (!dir || dir[0] != '/') {
                        conf_err(x, DIAG_ERROR, s, key, v, "is a credential name, but $CREDENTIALS_DIRECTORY is not "
                                 "set (LoadCredential= in the unit), or give an absolute path");
                        return -1;
                }
                if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, v) >= sizeof(path)) {
                        conf_err(x, DIAG_ERROR, s, key, v, "path too long");
                        return -1;
                }
        }
        /* O_NONBLOCK: a FIFO put there must not hang the load. */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                conf_err(x, DIAG_ERROR, s, key, path, "cannot open: %s", strerror(errno));
                return -1;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                conf_err(x, DIAG_ERROR, s, key, path, "not a regular file");
                close(fd);
                return -1;
        }
        if (st.st_mode & (S_IROTH | S_IWOTH)) {
                conf_err(x, DIAG_ERROR, s, key, path, "is readable or writable by every user (mode %04o): "
                         "chmod o-rwx it", (unsigned)(st.st_mode & 07777));
                close(fd);
                return -1;
        }
        if (st.st_uid != 0 && st.st_uid != geteuid()) {
                conf_err(x, DIAG_ERROR, s, key, path, "is owned by uid %u: must be root's", (unsigned)st.st_uid);
                close(fd);
                return -1;
        }
        n = read(fd, data, sizeof(data) - 1);
        int e = errno;
        close(fd);
        if (n < 0) {
                conf_err(x, DIAG_ERROR, s, key, path, "cannot read: %s", strerror(e));
                return -1;
        }
        data[n] = '\0';
        if (n > 0 && data[n - 1] == '\n')
                data[--n] = '\0';
        bool ok = n > 0 && n <= CONF_PASSWORD_MAX && (size_t)n == strlen(data);
        for (ssize_t i = 0; ok && i < n; i++)
                ok = data[i] > ' ' && data[i] < 0x7f;
        if (!ok) {
                explicit_bzero(data, sizeof(data));
                conf_err(x, DIAG_ERROR, s, key, path, "must hold one line of 1 to %d printable characters without "
                         "spaces (a TCP-MD5 key)", CONF_PASSWORD_MAX);
                return -1;
        }
        secret_free(*out);
        *out = strdup(data);
        explicit_bzero(data, sizeof(data));
        return *out ? 1 : -1;
}

/* A password_file key of group grp: 1 with *secret and *file set, 0 when absent, -1 after an error. "" sets
 * neither and returns 1 (no password, overriding the group's). */
static int get_password(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, char **secret,
                        char **file)
{
        const char *v;
        char key[96];
        int r = conf_get_str(x, grp, prefix, "password_file", &v);

        if (r != 1)
                return r;
        conf_key_name(key, sizeof(key), prefix, "password_file");
        secret_free(*secret);
        *secret = NULL;
        free(*file);
        *file = NULL;
        if (!*v)
                return 1;
        if (read_secret(x, config_setting_get_member(grp, "password_file"), key, v, secret) < 0)
                return -1;
        if (conf_set_str(file, v) < 0)
                return -1;
        return 1;
}

static int get_bool(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, const char *name,
                    bool *out)
{
        config_setting_t *s = config_setting_get_member(grp, name);
        char key[96];

        if (!s)
                return 0;
        if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
                conf_key_name(key, sizeof(key), prefix, name);
                conf_err(x, DIAG_ERROR, s, key, NULL, "must be true or false, not %s",
                         conf_type_name(config_setting_type(s)));
                return -1;
        }
        *out = config_setting_get_bool(s);
        return 1;
}

/* remote_as: a number, "external" or "internal". */
static int get_remote_as(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, long long *out)
{
        config_setting_t *s = config_setting_get_member(grp, "remote_as");
        char key[96];

        if (!s)
                return 0;
        conf_key_name(key, sizeof(key), prefix, "remote_as");
        if (config_setting_type(s) == CONFIG_TYPE_STRING) {
                const char *v = config_setting_get_string(s);
                if (strcmp(v, "external") == 0 || strcmp(v, "internal") == 0) {
                        *out = v[0] == 'e' ? CONF_AS_EXTERNAL : CONF_AS_INTERNAL;
                        return 1;
                }
                conf_err(x, DIAG_ERROR, s, key, v, "must be an AS number, \"external\" or \"internal\"");
                return -1;
        }
        return conf_get_int(x, grp, prefix, "remote_as", 1, 4294967295LL, out);
}

static int get_multihop(const struct conf_ctx *x, const config_setting_t *grp, const char *prefix, int *out)
{
        return conf_get_int32(x, grp, prefix, "multihop", 0, 255, out);
}

/* The group-level defaults every neighbor starts from. */
struct peer_defaults {
        long long remote_as;
        int multihop;
        char *password;
        char *password_file;
        bool bfd;
};

static bool add_peer(const struct conf_ctx *x, const config_setting_t *e, const char *key, const char *addr,
                     const struct peer_defaults *def, struct conf *c)
{
        char *canon = conf_canonical_addr(addr);
        struct conf_peer *p;

        if (!canon) {
                conf_err(x, DIAG_ERROR, e, key, addr, "not an IPv4 or IPv6 address");
                return false;
        }
        for (size_t j = 0; j < c->bgp.n_peers; j++)
                if (strcmp(c->bgp.peers[j].address, canon) == 0) {
                        conf_err(x, DIAG_ERROR, e, key, addr, "duplicate of %s", canon);
                        free(canon);
                        return false;
                }
        p = &c->bgp.peers[c->bgp.n_peers++];
        p->address = canon;
        p->remote_as = def->remote_as;
        p->multihop = def->multihop;
        p->bfd = def->bfd;
        if (def->password && (!(p->password = strdup(def->password)) || !(p->password_file = strdup(def->password_file))))
                return false;
        return true;
}

static void parse_neighbor(const struct conf_ctx *x, const config_setting_t *e, int i,
                           const struct peer_defaults *def, struct conf *c)
{
        static const char *const keys[] = { "address", "remote_as", "multihop", "password_file", "bfd", NULL };
        char prefix[64], key[96];
        const char *addr;

        snprintf(prefix, sizeof(prefix), "bgp.neighbors[%d]", i);
        if (config_setting_type(e) == CONFIG_TYPE_STRING) {
                /* A bare address: the group's defaults. */
                add_peer(x, e, prefix, config_setting_get_string(e), def, c);
                return;
        }
        if (!config_setting_is_group(e)) {
                conf_err(x, DIAG_ERROR, e, prefix, NULL, "must be an address or a group { address = ...; ... }");
                return;
        }
        conf_check_keys(x, e, prefix, keys);
        if (conf_get_str(x, e, prefix, "address", &addr) != 1) {
                if (!config_setting_get_member(e, "address"))
                        conf_err(x, DIAG_ERROR, e, prefix, NULL, "required key is missing: address");
                return;
        }
        snprintf(key, sizeof(key), "%s.address", prefix);
        if (!add_peer(x, config_setting_get_member(e, "address"), key, addr, def, c))
                return;
        struct conf_peer *p = &c->bgp.peers[c->bgp.n_peers - 1];
        get_remote_as(x, e, prefix, &p->remote_as);
        get_multihop(x, e, prefix, &p->multihop);
        get_password(x, e, prefix, &p->password, &p->password_file);
        get_bool(x, e, prefix, "bfd", &p->bfd);
}

/* Sets c->bgp.route_servers to the peers' addresses: status, metrics and the watcher read that list. */
static void peers_to_route_servers(struct conf *c)
{
        char **v = calloc(c->bgp.n_peers + 1, sizeof(char *));

        if (!v)
                return;
        for (size_t i = 0; i < c->bgp.n_peers; i++)
                if (!(v[i] = strdup(c->bgp.peers[i].address))) {
                        strv_free(v);
                        return;
                }
        strv_free(c->bgp.route_servers);
        c->bgp.route_servers = v;
}

/* After an error in bgp.neighbors or the profile: no route servers, and not the datacenter's either (that
 * would add a "datacenter is missing" to the error that says what to set). */
static void no_route_servers(struct conf *c)
{
        strv_free(c->bgp.route_servers);
        c->bgp.route_servers = calloc(1, sizeof(char *));
}

static void parse_preference(const struct conf_ctx *x, const config_setting_t *g, struct conf *c)
{
        static const char *const med_keys[] = { "primary", "secondary", "demoted", "step", NULL };
        const char *v;

        if (conf_get_str(x, g, "bgp", "preference", &v) == 1) {
                int i = name_index(preference_names, v);
                if (i < 0)
                        conf_err(x, DIAG_ERROR, config_setting_get_member(g, "preference"), "bgp.preference", v,
                                 "must be \"community\", \"prepend\" or \"med\"");
                else
                        c->bgp.preference = i;
        }
        conf_get_int32(x, g, "bgp", "prepend", 1, 32, &c->bgp.prepend);
        conf_get_int32(x, g, "bgp", "priority", 0, 31, &c->bgp.priority);

        /* ECMP providers share the traffic among announcers of equal rank: "silent" leaves a secondary out of
         * the set while the primary is known healthy, which only a program can tell (parsed before bgp). */
        if (conf_get_str(x, g, "bgp", "secondary", &v) == 1) {
                config_setting_t *s = config_setting_get_member(g, "secondary");
                if (strcmp(v, "announce") != 0 && strcmp(v, "silent") != 0)
                        conf_err(x, DIAG_ERROR, s, "bgp.secondary", v, "must be \"announce\" or \"silent\"");
                else if (strcmp(v, "silent") == 0 && !c->drain_check)
                        conf_err(x, DIAG_ERROR, s, "bgp.secondary", v, "needs drain_check (the program that says "
                                 "the primary is healthy): without it a silent secondary would never announce");
                else
                        c->bgp.secondary_silent = strcmp(v, "silent") == 0;
        }

        config_setting_t *m = config_setting_get_member(g, "med");
        if (m && !config_setting_is_group(m)) {
                conf_err(x, DIAG_ERROR, m, "bgp.med", NULL,
                         "must be a group { primary = ...; secondary = ...; demoted = ...; step = ...; }");
                m = NULL;
        }
        if (m) {
                conf_check_keys(x, m, "bgp.med", med_keys);
                conf_get_int(x, m, "bgp.med", "primary", 0, 4294967295LL, &c->bgp.med_primary);
                conf_get_int(x, m, "bgp.med", "secondary", 0, 4294967295LL, &c->bgp.med_secondary);
                conf_get_int(x, m, "bgp.med", "demoted", 0, 4294967295LL, &c->bgp.med_demoted);
                conf_get_int(x, m, "bgp.med", "step", 1, 4294967295LL, &c->bgp.med_step);
        }

        /* Each host checks its own rank; together they keep every demoted host behind every healthy one. */
        char val[32];
        const config_setting_t *pri = config_setting_get_member(g, "priority");
        snprintf(val, sizeof(val), "%d", c->bgp.priority);
        if (c->bgp.preference == PREFER_MED) {
                long long sec = c->bgp.med_secondary + c->bgp.priority * c->bgp.med_step;
                if (c->bgp.med_primary >= c->bgp.med_secondary)
                        conf_err(x, DIAG_ERROR, m ? m : g, "bgp.med", NULL,
                                 "primary (%lld) must be less than secondary (%lld)", c->bgp.med_primary,
                                 c->bgp.med_secondary);
                else if (sec >= c->bgp.med_demoted)
                        conf_err(x, DIAG_ERROR, pri ? pri : m ? m : g, pri ? "bgp.priority" : "bgp.med",
                                 pri ? val : NULL,
                                 "secondary + priority x step (%lld) must be less than demoted (%lld): a demoted "
                                 "host would win against a healthy secondary", sec, c->bgp.med_demoted);
        } else if (c->bgp.priority >= c->bgp.demote_prepend) {
                conf_err(x, DIAG_ERROR, pri, "bgp.priority", val,
                         "must be less than bgp.demote_prepend (%d): a demoted host would win against a healthy "
                         "secondary", c->bgp.demote_prepend);
        }
}

void conf_parse_bgp(const struct conf_ctx *x, const config_setting_t *g, struct conf *c)
{
        struct peer_defaults def = { .remote_as = CONF_AS_EXTERNAL, .multihop = c->bgp.multihop };
        const char *v;

        if (conf_get_str(x, g, "bgp", "profile", &v) == 1) {
                int i = name_index(profile_names, v);
                if (i < 0)
                        conf_err(x, DIAG_ERROR, config_setting_get_member(g, "profile"), "bgp.profile", v,
                                 "must be \"linode\", \"vultr\", \"aws-route-server\" or \"generic\"");
                else
                        c->bgp.profile = i;
        }
        const config_setting_t *prof = config_setting_get_member(g, "profile");
        bool has_multihop = config_setting_get_member(g, "multihop") != NULL;
        switch (c->bgp.profile) {
        case PROFILE_VULTR:
                def.remote_as = VULTR_AS;
                if (!has_multihop)
                        def.multihop = 2;
                c->bgp.preference = PREFER_PREPEND;
                break;
        case PROFILE_AWS:
                /* Route server endpoints are addresses in the host's own subnet. */
                if (!has_multihop)
                        def.multihop = 0;
                c->bgp.preference = PREFER_PREPEND;
                break;
        case PROFILE_LINODE:
        case PROFILE_GENERIC:
                break;
        }
        if (c->bgp.profile != PROFILE_LINODE && !config_setting_get_member(g, "asn"))
                conf_err(x, DIAG_ERROR, prof, "bgp.profile", profile_names[c->bgp.profile],
                         "needs bgp.asn (this host's AS number%s)",
                         c->bgp.profile == PROFILE_VULTR ? ", from the Vultr portal" : "");

        get_remote_as(x, g, "bgp", &def.remote_as);
        get_password(x, g, "bgp", &c->bgp.password, &c->bgp.password_file);
        get_bool(x, g, "bgp", "bfd", &c->bgp.bfd);
        def.bfd = c->bgp.bfd;
        def.password = c->bgp.password;
        def.password_file = c->bgp.password_file;
        conf_get_int32(x, g, "bgp", "bfd_interval", 10, 60000, &c->bgp.bfd_interval);
        conf_get_int32(x, g, "bgp", "bfd_multiplier", 2, 255, &c->bgp.bfd_multiplier);
        parse_preference(x, g, c);

        config_setting_t *list = config_setting_get_member(g, "neighbors");
        config_setting_t *rs = config_setting_get_member(g, "route_servers");
        if (list && rs) {
                conf_err(x, DIAG_ERROR, list, "bgp.neighbors", NULL,
                         "cannot be used together with bgp.route_servers (line %u)", config_setting_source_line(rs));
                return;
        }
        if (rs && c->bgp.profile != PROFILE_LINODE) {
                conf_err(x, DIAG_ERROR, rs, "bgp.route_servers", NULL, "is Linode's form: with profile \"%s\" list the "
                         "peers in bgp.neighbors", profile_names[c->bgp.profile]);
                no_route_servers(c);
                return;
        }
        if (c->bgp.profile == PROFILE_VULTR && !c->bgp.password && !config_setting_get_member(g, "password_file"))
                conf_err(x, DIAG_WARNING, prof, "bgp.profile", profile_names[c->bgp.profile],
                         "no bgp.password_file: Vultr's sessions need the BGP password from the portal");
        if (list && config_setting_type(list) != CONFIG_TYPE_LIST && config_setting_type(list) != CONFIG_TYPE_ARRAY) {
                conf_err(x, DIAG_ERROR, list, "bgp.neighbors", NULL,
                         "must be a list: neighbors = ( { address = ...; ... }, ... )");
                no_route_servers(c);
                return;
        }
        int n = list ? config_setting_length(list) : 0;
        if (list && n == 0) {
                conf_err(x, DIAG_ERROR, list, "bgp.neighbors", NULL, "must list at least one neighbor");
                no_route_servers(c);
                return;
        }
        if (!list && c->bgp.profile == PROFILE_VULTR) {
                c->bgp.peers = calloc(1, sizeof(*c->bgp.peers));
                for (int i = 0; c->bgp.peers && vultr_neighbors[i]; i++)
                        add_peer(x, prof, "bgp.profile", vultr_neighbors[i], &def, c);
        } else if (!list && c->bgp.profile != PROFILE_LINODE) {
                conf_err(x, DIAG_ERROR, prof, "bgp.profile", profile_names[c->bgp.profile],
                         "needs bgp.neighbors (the route servers' addresses)");
                no_route_servers(c);
                return;
        } else if (list) {
                c->bgp.peers = calloc((size_t)n, sizeof(*c->bgp.peers));
                for (int i = 0; c->bgp.peers && i < n; i++)
                        parse_neighbor(x, config_setting_get_elem(list, (unsigned)i), i, &def, c);
        }
        /* Also with no valid neighbor: their errors say it all, no "datacenter is missing" besides. */
        if (c->bgp.peers)
                peers_to_route_servers(c);
}

/* Whether text has a line "bfdd=yes" (FRR's daemons file is a shell fragment: blanks allowed around it). */
static bool bfdd_enabled(const char *text)
{
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                p += strspn(p, " \t");
                if (strncmp(p, "bfdd", 4) != 0)
                        continue;
                const char *q = p + 4 + strspn(p + 4, " \t");
                if (*q++ != '=')
                        continue;
                q += strspn(q, " \t\"'");
                if (strncmp(q, "yes", 3) == 0)
                        return true;
        }
        return false;
}

void conf_bgp_check_bfdd(const struct conf_ctx *x, const struct conf *c)
{
        bool bfd = c->bgp.n_peers == 0 && c->bgp.bfd;
        char path[4096], text[65536];

        for (size_t i = 0; i < c->bgp.n_peers; i++)
                bfd |= c->bgp.peers[i].bfd;
        if (!bfd || !c->frr.config)
                return;
        const char *slash = strrchr(c->frr.config, '/');
        snprintf(path, sizeof(path), "%.*s/daemons", slash ? (int)(slash - c->frr.config) : 1,
                 slash ? c->frr.config : ".");
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
        int e = errno;
        if (fd >= 0)
                close(fd);
        if (n < 0) {
                conf_err(x, DIAG_WARNING, NULL, "bgp.bfd", NULL, "cannot read FRR's daemons file %s (%s): BFD sessions "
                         "come up only when bfdd runs (bfdd=yes)", path, strerror(e));
                return;
        }
        text[n] = '\0';
        if (!bfdd_enabled(text))
                conf_err(x, DIAG_WARNING, NULL, "bgp.bfd", NULL, "bfdd is not enabled in %s: set bfdd=yes and restart "
                         "FRR, or BFD sessions never come up", path);
}

void conf_bgp_free(struct conf *c)
{
        for (size_t i = 0; i < c->bgp.n_peers; i++) {
                free(c->bgp.peers[i].address);
                secret_free(c->bgp.peers[i].password);
                free(c->bgp.peers[i].password_file);
        }
        free(c->bgp.peers);
        secret_free(c->bgp.password);
        free(c->bgp.password_file);
}

bool conf_has_secrets(const struct conf *c)
{
        if (c->bgp.password)
                return true;
        for (size_t i = 0; i < c->bgp.n_peers; i++)
                if (c->bgp.peers[i].password)
                        return true;
        return false;
}

static void redact_one(const char *secret, char *text)
{
        size_t n = secret ? strlen(secret) : 0;

        for (char *p = text; n && (p = strstr(p, secret)); p += n)
                memset(p, '*', n);
}

void conf_redact(const struct conf *c, char *text)
{
        if (!c || !text)
                return;
        redact_one(c->bgp.password, text);
        for (size_t i = 0; i < c->bgp.n_peers; i++)
                redact_one(c->bgp.peers[i].password, text);
}
