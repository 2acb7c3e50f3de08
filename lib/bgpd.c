/* Reading bgpd's state back: running-config text and JSON output of show commands (FRR 8.4). */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bgpd.h"

static int add_network(struct bgpd_running *r, const char *prefix, const char *rm)
{
        struct bgpd_network *n = realloc(r->networks, (r->n_networks + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        r->networks = n;
        n = &r->networks[r->n_networks++];
        snprintf(n->prefix, sizeof(n->prefix), "%s", prefix);
        snprintf(n->route_map, sizeof(n->route_map), "%s", rm ? rm : "");
        return 0;
}

int bgpd_parse_running(const char *text, long long asn, struct bgpd_running *out)
{
        char line[512], want[64];
        bool in_router = false;

        memset(out, 0, sizeof(*out));
        snprintf(want, sizeof(want), "router bgp %lld", asn);
        for (const char *p = text; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
                p = nl ? nl + 1 : NULL;

                /* Top-level lines start in column 0; our block is "router bgp ASN" without a vrf. */
                if (line[0] != ' ' && line[0] != '\0') {
                        in_router = strcmp(line, want) == 0;
                        if (in_router)
                                out->has_router = true;
                        continue;
                }
                if (!in_router)
                        continue;
                char prefix[64], kw[16], rm[64];
                int n = sscanf(line, "  network %63s %15s %63s", prefix, kw, rm);
                /* "network P backdoor" or "network P label-index N" is announced all the same, with no
                 * route-map of ours: it must count as present (and so as a foreign state), not as absent. */
                bool has_rm = n == 3 && strcmp(kw, "route-map") == 0;
                if (n >= 1 && add_network(out, prefix, has_rm ? rm : NULL) < 0)
                        return -ENOMEM;
        }
        return 0;
}

void bgpd_running_clear(struct bgpd_running *r)
{
        free(r->networks);
        memset(r, 0, sizeof(*r));
}

enum fo_state bgpd_service_state(const struct bgpd_running *r, const struct conf *c, size_t s)
{
        const struct service *svc = &c->services[s];
        enum fo_state st = STATE_INVALID;
        size_t found = 0;

        for (size_t i = 0; i < svc->n_prefixes; i++) {
                const struct bgpd_network *net = NULL;
                for (size_t j = 0; j < r->n_networks; j++)
                        if (strcmp(r->networks[j].prefix, svc->prefixes[i].text) == 0)
                                net = &r->networks[j];
                if (!net)
                        continue;
                enum fo_state one = state_parse(net->route_map);
                if (one == STATE_INVALID || one == STATE_WITHDRAWN)
                        return STATE_INVALID;
                if (found++ && one != st)
                        return STATE_INVALID;
                st = one;
        }
        if (found == 0)
                return STATE_WITHDRAWN;
        return found == svc->n_prefixes ? st : STATE_INVALID;
}

/* JSON from vtysh: FRR 8.4 nests `show bgp neighbors json` about 6 deep; anything past this is not FRR's. */
#define JSON_MAX_DEPTH 64

/* Parses one whole JSON object: truncated text, trailing garbage and non-objects are -EBADMSG. */
static int json_parse_object(const char *text, json_object **ret)
{
        *ret = NULL;
        if (!text)
                return -EINVAL;
        size_t len = strlen(text);
        if (len > INT_MAX)
                return -EFBIG;
        json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
        if (!tok)
                return -ENOMEM;
        json_object *o = json_tokener_parse_ex(tok, text, (int)len);
        enum json_tokener_error err = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!o || err != json_tokener_success) {
                json_object_put(o);
                return -EBADMSG;
        }
        for (size_t i = end; i < len; i++)
                if (!strchr(" \t\r\n", text[i])) {
                        json_object_put(o);
                        return -EBADMSG;
                }
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

/* Copies a string member into dst; false (dst untouched) when absent, not a string, holding a NUL or too
 * long: a field we cannot trust is skipped rather than cut. */
static bool json_get_str(json_object *o, const char *key, char *dst, size_t size)
{
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return false;
        const char *s = json_object_get_string(v);
        size_t n = (size_t)json_object_get_string_len(v);
        if (!s || n >= size || memchr(s, '\0', n))
                return false;
        memcpy(dst, s, n);
        dst[n] = '\0';
        return true;
}

/* Reads a non-negative counter; negatives read as 0, huge values saturate (json-c already saturates
 * integers), NaN, infinities and non-numbers are skipped. */
static bool json_get_u64(json_object *o, const char *key, uint64_t *out)
{
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v))
                return false;
        if (json_object_is_type(v, json_type_int)) {
                *out = json_object_get_uint64(v);       /* 0 for negatives */
                return true;
        }
        if (json_object_is_type(v, json_type_double)) {
                double d = json_object_get_double(v);
                if (!isfinite(d))
                        return false;
                *out = d <= 0 ? 0 : d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
                return true;
        }
        return false;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Peers in address order (IPv4, then IPv6, numerically; then anything else such as interface names). */
static int addr_rank(const char *s, unsigned char *a)
{
        memset(a, 0, 16);
        if (inet_pton(AF_INET, s, a) == 1)
                return 0;
        if (inet_pton(AF_INET6, s, a) == 1)
                return 1;
        return 2;
}

static int peer_cmp(const void *x, const void *y)
{
        const struct bgpd_peer *p = x, *q = y;
        unsigned char a[16], b[16];
        int ra = addr_rank(p->address, a), rb = addr_rank(q->address, b);
        if (ra != rb)
                return ra < rb ? -1 : 1;
        int c = ra < 2 ? memcmp(a, b, 16) : 0;
        return c ? c : strcmp(p->address, q->address);
}

static struct bgpd_peer *peer_get(struct bgpd_status *s, const char *address, int *err)
{
        for (size_t i = 0; i < s->n_peers; i++)
                if (strcmp(s->peers[i].address, address) == 0)
                        return &s->peers[i];
        struct bgpd_peer *p = realloc(s->peers, (s->n_peers + 1) * sizeof(*p));
        if (!p) {
                *err = -ENOMEM;
                return NULL;
        }
        s->peers = p;
        p = &s->peers[s->n_peers++];
        memset(p, 0, sizeof(*p));
        memcpy(p->address, address, strlen(address) + 1);
        return p;
}

static void status_drop_peers(struct bgpd_status *s)
{
        free(s->peers);
        s->peers = NULL;
        s->n_peers = 0;
}

/* A usable peer key: non-empty and short enough to keep whole. */
static bool peer_key_ok(const char *key)
{
        return key && key[0] && strlen(key) < sizeof(((struct bgpd_peer *)0)->address);
}

static bool json_get_bool(json_object *o, const char *key);

static void neighbor_fill(struct bgpd_peer *p, json_object *n)
{
        json_object *afi, *bfd;
        uint64_t v;

        json_get_str(n, "bgpState", p->state, sizeof(p->state));
        p->established = strcmp(p->state, "Established") == 0;
        /* FRR 8.4 prints bgpTimerUpMsec only while Established; lastResetTimerMsecs is the time since the
         * session last went down, which is the time in the current state for a peer that is not up. */
        if (p->established)
                json_get_u64(n, "bgpTimerUpMsec", &p->uptime_msec);
        else
                json_get_u64(n, "lastResetTimerMsecs", &p->uptime_msec);
        json_get_u64(n, "connectionsEstablished", &p->connections);
        json_get_str(n, "lastResetDueTo", p->last_reset, sizeof(p->last_reset));
        /* FRR prints "authenticationEnabled":1 (an integer) when the peer has a password. */
        json_get_str(n, "lastNotificationReason", p->notification, sizeof(p->notification));
        p->auth = json_get_u64(n, "authenticationEnabled", &v) ? v != 0 : json_get_bool(n, "authenticationEnabled");
        if (json_object_object_get_ex(n, "peerBfdInfo", &bfd) && json_object_is_type(bfd, json_type_object))
                json_get_str(bfd, "status", p->bfd, sizeof(p->bfd));
        if (json_object_object_get_ex(n, "addressFamilyInfo", &afi) && json_object_is_type(afi, json_type_object)) {
                json_object_object_foreach(afi, name, af) {
                        (void)name;
                        if (json_object_is_type(af, json_type_object) && json_get_u64(af, "sentPrefixCounter", &v))
                                p->prefixes_sent = add_sat(p->prefixes_sent, v);
                }
        }
}

/* Sets out->peers and out->n_peers (leaving router_id alone, so that bgpd_parse_router_id may come first);
 * on error they are NULL and 0. Pass a zeroed or cleared status. */
/* The end of every peer parser: the JSON goes, peers stay sorted by address, or none on failure. */
static int peers_done(json_object *root, struct bgpd_status *out, int r)
{
        json_object_put(root);
        if (r < 0) {
                status_drop_peers(out);
                return r;
        }
        if (out->n_peers > 1)
                qsort(out->peers, out->n_peers, sizeof(*out->peers), peer_cmp);
        return 0;
}

int bgpd_parse_neighbors(const char *json, struct bgpd_status *out)
{
        json_object *root;
        int r = 0;

        out->peers = NULL;
        out->n_peers = 0;
        r = json_parse_object(json, &root);
        if (r < 0)
                return r;
        json_object_object_foreach(root, key, n) {
                if (!peer_key_ok(key) || !json_object_is_type(n, json_type_object))
                        continue;
                struct bgpd_peer *p = peer_get(out, key, &r);
                if (!p)
                        break;
                neighbor_fill(p, n);
        }
        return peers_done(root, out, r);
}

static bool router_id_from(json_object *o, struct bgpd_status *out)
{
        char id[sizeof(out->router_id)];
        unsigned char a[4];
        if (!json_get_str(o, "routerId", id, sizeof(id)) || inet_pton(AF_INET, id, a) != 1)
                return false;
        memcpy(out->router_id, id, strlen(id) + 1);
        return true;
}

int bgpd_parse_router_id(const char *json, struct bgpd_status *out)
{
        json_object *root;

        out->router_id[0] = '\0';
        int r = json_parse_object(json, &root);
        if (r < 0)
                return r;
        /* `show bgp vrf default json` has it at the top; `show bgp summary json` once per address family. */
        if (!router_id_from(root, out)) {
                json_object_object_foreach(root, key, af) {
                        (void)key;
                        if (json_object_is_type(af, json_type_object) && router_id_from(af, out))
                                break;
                }
        }
        json_object_put(root);
        return 0;
}

int bgpd_parse_summary(const char *json, struct bgpd_status *out)
{
        json_object *root, *peers;
        uint64_t v;
        int r;

        out->peers = NULL;
        out->n_peers = 0;
        out->router_id[0] = '\0';
        r = json_parse_object(json, &root);
        if (r < 0)
                return r;
        json_object_object_foreach(root, afname, af) {
                (void)afname;
                if (!json_object_is_type(af, json_type_object))
                        continue;
                if (!out->router_id[0])
                        router_id_from(af, out);
                if (!json_object_object_get_ex(af, "peers", &peers) || !json_object_is_type(peers, json_type_object))
                        continue;
                json_object_object_foreach(peers, key, n) {
                        if (!peer_key_ok(key) || !json_object_is_type(n, json_type_object))
                                continue;
                        struct bgpd_peer *p = peer_get(out, key, &r);
                        if (!p)
                                goto out;
                        /* The session is one per peer: the first address family that names it decides. */
                        if (!p->state[0] && json_get_str(n, "state", p->state, sizeof(p->state))) {
                                p->established = strcmp(p->state, "Established") == 0;
                                json_get_u64(n, "peerUptimeMsec", &p->uptime_msec);
                                json_get_u64(n, "connectionsEstablished", &p->connections);
                        }
                        if (json_get_u64(n, "pfxSnt", &v))
                                p->prefixes_sent = add_sat(p->prefixes_sent, v);
                }
        }
out:
        return peers_done(root, out, r);
}

void bgpd_status_clear(struct bgpd_status *s)
{
        if (!s)
                return;
        free(s->peers);
        memset(s, 0, sizeof(*s));
}

const struct bgpd_peer *bgpd_find_peer(const struct bgpd_status *s, const char *address)
{
        unsigned char a[16], b[16];

        if (!s || !address)
                return NULL;
        /* Configured addresses may be spelled differently from FRR's (upper case, zeros): compare values. */
        int ra = addr_rank(address, a);
        for (size_t i = 0; i < s->n_peers; i++) {
                if (strcmp(s->peers[i].address, address) == 0)
                        return &s->peers[i];
                if (ra < 2 && addr_rank(s->peers[i].address, b) == ra && memcmp(a, b, 16) == 0)
                        return &s->peers[i];
        }
        return NULL;
}

static bool json_get_bool(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean) &&
               json_object_get_boolean(v);
}

int bgpd_parse_prefix(const char *json, struct bgpd_prefix *out)
{
        json_object *root, *paths, *adv;
        int r;

        memset(out, 0, sizeof(*out));
        r = json_parse_object(json, &root);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(root, "paths", &paths) && json_object_is_type(paths, json_type_array)) {
                size_t n = json_object_array_length(paths);
                for (size_t i = 0; i < n; i++) {
                        json_object *p = json_object_array_get_idx(paths, i), *best;
                        if (!json_object_is_type(p, json_type_object))
                                continue;
                        out->in_table = true;
                        /* Our own network statement: "sourced" and "local" (peer 0.0.0.0). */
                        if (!json_get_bool(p, "sourced") || !json_get_bool(p, "local"))
                                continue;
                        out->local = true;
                        if (!json_get_bool(p, "valid"))
                                continue;
                        out->local_valid = true;
                        if (json_object_object_get_ex(p, "bestpath", &best) &&
                            json_object_is_type(best, json_type_object) && json_get_bool(best, "overall"))
                                out->local_best = true;
                }
        }
        if (json_object_object_get_ex(root, "advertisedTo", &adv) && json_object_is_type(adv, json_type_object)) {
                json_object_object_foreach(adv, key, v) {
                        (void)v;
                        if (!peer_key_ok(key))
                                continue;
                        char (*a)[64] = realloc(out->advertised, (out->n_advertised + 1) * sizeof(*a));
                        if (!a) {
                                r = -ENOMEM;
                                break;
                        }
                        out->advertised = a;
                        memcpy(a[out->n_advertised++], key, strlen(key) + 1);
                }
        }
        json_object_put(root);
        if (r < 0)
                bgpd_prefix_clear(out);
        return r;
}

void bgpd_prefix_clear(struct bgpd_prefix *p)
{
        if (!p)
                return;
        free(p->advertised);
        memset(p, 0, sizeof(*p));
}

bool bgpd_prefix_advertised_to(const struct bgpd_prefix *p, const char *address)
{
        struct bgpd_status s = { 0 };
        struct bgpd_peer one;

        /* Compared as values, like bgpd_find_peer: one peer at a time through the same function. */
        s.peers = &one;
        s.n_peers = 1;
        for (size_t i = 0; p && address && i < p->n_advertised; i++) {
                memset(&one, 0, sizeof(one));
                memcpy(one.address, p->advertised[i], sizeof(one.address));
                if (bgpd_find_peer(&s, address))
                        return true;
        }
        return false;
}

static const char *const announcement_names[_ANNOUNCE_MAX] = {
        [ANNOUNCE_UNKNOWN] = "unknown",
        [ANNOUNCE_ANNOUNCED] = "announced",
        [ANNOUNCE_CONFIGURED] = "configured",
        [ANNOUNCE_WITHDRAWN] = "withdrawn",
};

const char *bgpd_announcement_name(enum bgpd_announcement a)
{
        return a >= 0 && a < _ANNOUNCE_MAX ? announcement_names[a] : "unknown";
}

enum bgpd_announcement bgpd_announcement_of(bool configured, const struct bgpd_prefix *p, char *const *route_servers,
                                            const struct bgpd_status *peers, size_t *n_to, char *why, size_t len)
{
        size_t to = 0, up = 0;

        why[0] = '\0';
        *n_to = 0;
        if (!configured)
                return ANNOUNCE_WITHDRAWN;
        if (!p)
                return ANNOUNCE_UNKNOWN;
        for (char *const *rs = route_servers; rs && *rs; rs++) {
                const struct bgpd_peer *peer = bgpd_find_peer(peers, *rs);
                up += peer && peer->established;
                to += bgpd_prefix_advertised_to(p, *rs);
        }
        *n_to = to;
        if (!p->local)
                snprintf(why, len, "not in bgpd's table");
        else if (!p->local_valid)
                snprintf(why, len, "import check: no route to it in zebra");
        else if (!p->local_best)
                snprintf(why, len, "not bgpd's best path");
        else if (to == 0)
                snprintf(why, len, up ? "not sent to any route server yet" : "no route-server session");
        return why[0] ? ANNOUNCE_CONFIGURED : ANNOUNCE_ANNOUNCED;
}

void bgpd_peer_why(const struct bgpd_peer *p, char *buf, size_t len)
{
        const char *what = NULL;

        if (!len)
                return;
        buf[0] = '\0';
        if (!p || p->established)
                return;
        if (p->bfd[0] && strcmp(p->bfd, "Up") != 0)
                what = "BFD down";
        else if (strcmp(p->state, "Connect") == 0 || strcmp(p->state, "Active") == 0)
                /* A TCP-MD5 mismatch is silent: the peer's kernel drops the segments, bgpd only sees no answer. */
                what = p->auth ? "no TCP session: TCP-MD5 password mismatch, or the peer does not answer"
                               : "no TCP session: the peer does not answer or refuses";
        /* "BGP Notification send/received" says little without the notification's reason. */
        char reset[sizeof(p->last_reset) + sizeof(p->notification) + 4] = "";
        /* Never established: FRR 8.4 still names a reset ("Waiting for peer OPEN") that says nothing. */
        bool was_up = p->connections > 0;
        if (was_up && p->last_reset[0] && p->notification[0] && strstr(p->last_reset, "Notification"))
                snprintf(reset, sizeof(reset), "%s (%s)", p->last_reset, p->notification);
        else if (was_up)
                snprintf(reset, sizeof(reset), "%s", p->last_reset);
        if (what && reset[0])
                snprintf(buf, len, "%s (last reset: %s)", what, reset);
        else if (what)
                snprintf(buf, len, "%s", what);
        else if (reset[0])
                snprintf(buf, len, "last reset: %s", reset);
}
