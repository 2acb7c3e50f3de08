/* frr.conf rendering and the vtysh command lines of the fast path (docs/design.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

static bool has_family(const struct conf *c, int family)
{
        for (size_t s = 0; s < c->n_services; s++)
                for (size_t i = 0; i < c->services[s].n_prefixes; i++)
                        if (c->services[s].prefixes[i].family == family)
                                return true;
        return false;
}

static void render_af(struct buf *b, const struct conf *c, const enum fo_state *states, int family)
{
        buf_printf(b, " address-family %s unicast\n", family == AF_INET ? "ipv4" : "ipv6");
        for (size_t s = 0; s < c->n_services; s++) {
                const char *rm = state_route_map(states[s]);
                if (!rm)
                        continue;
                for (size_t i = 0; i < c->services[s].n_prefixes; i++) {
                        const struct prefix *p = &c->services[s].prefixes[i];
                        if (p->family == family)
                                buf_printf(b, "  network %s route-map %s\n", p->text, rm);
                }
        }
        buf_puts(b, "  redistribute static\n");
        /* bgp default ipv6-unicast is off: without this the route servers never get IPv6. */
        if (family == AF_INET6)
                buf_puts(b, "  neighbor RS activate\n");
        buf_puts(b, " exit-address-family\n");
}

static void render_password(struct buf *b, const char *who, const char *password, unsigned flags)
{
        if (password)
                buf_printf(b, " neighbor %s password %s\n", who,
                           flags & RENDER_MASK_SECRETS ? RENDER_SECRET_MASK : password);
}

/* bgp.neighbors: the peer-group carries what every peer shares, each peer its own AS, hops, key and BFD.
 * remote-as comes before peer-group, as FRR writes it for a member of a group without one. */
static void render_peers(struct buf *b, const struct conf *c, unsigned flags)
{
        for (size_t i = 0; i < c->bgp.n_peers; i++) {
                const struct conf_peer *p = &c->bgp.peers[i];
                if (p->remote_as == CONF_AS_EXTERNAL)
                        buf_printf(b, " neighbor %s remote-as external\n", p->address);
                else if (p->remote_as == CONF_AS_INTERNAL)
                        buf_printf(b, " neighbor %s remote-as internal\n", p->address);
                else
                        buf_printf(b, " neighbor %s remote-as %lld\n", p->address, p->remote_as);
                buf_printf(b, " neighbor %s peer-group RS\n", p->address);
                bool ibgp = p->remote_as == CONF_AS_INTERNAL || p->remote_as == c->bgp.asn;
                if (p->multihop > 0 && !ibgp)
                        buf_printf(b, " neighbor %s ebgp-multihop %d\n", p->address, p->multihop);
                render_password(b, p->address, p->password, flags);
                if (p->bfd)
                        buf_printf(b, " neighbor %s bfd profile " RENDER_BFD_PROFILE "\n", p->address);
        }
}

static bool uses_bfd(const struct conf *c)
{
        for (size_t i = 0; i < c->bgp.n_peers; i++)
                if (c->bgp.peers[i].bfd)
                        return true;
        return c->bgp.n_peers == 0 && c->bgp.bfd;
}

static void render_prepend(struct buf *b, const struct conf *c, int n)
{
        if (n <= 0)
                return;
        buf_puts(b, " set as-path prepend");
        for (int i = 0; i < n; i++)
                buf_printf(b, " %lld", c->bgp.asn);
        buf_puts(b, "\n");
}

/* The three route-maps: what ranks this host's path at the route servers in each state (bgp.preference). */
static void render_route_maps(struct buf *b, const struct conf *c)
{
        int pri = c->bgp.priority;

        switch (c->bgp.preference) {
        case PREFER_PREPEND:
                buf_puts(b, "route-map primary permit 10\nexit\n!\n");
                buf_puts(b, "route-map secondary permit 10\n");
                render_prepend(b, c, c->bgp.prepend + pri);
                buf_puts(b, "exit\n!\nroute-map demoted permit 10\n");
                render_prepend(b, c, c->bgp.prepend + c->bgp.demote_prepend + pri);
                buf_puts(b, "exit\n!\n");
                return;
        case PREFER_MED:
                buf_printf(b, "route-map primary permit 10\n set metric %lld\nexit\n!\n", c->bgp.med_primary);
                buf_printf(b, "route-map secondary permit 10\n set metric %lld\nexit\n!\n",
                           c->bgp.med_secondary + pri * c->bgp.med_step);
                buf_printf(b, "route-map demoted permit 10\n set metric %lld\nexit\n!\n",
                           c->bgp.med_demoted + pri * c->bgp.med_step);
                return;
        }
        buf_printf(b, "route-map primary permit 10\n set community %s\nexit\n!\n", c->bgp.community_primary);
        buf_printf(b, "route-map secondary permit 10\n set community %s\n", c->bgp.community_secondary);
        render_prepend(b, c, pri);
        buf_puts(b, "exit\n!\n");
        buf_printf(b, "route-map demoted permit 10\n set community %s\n", c->bgp.community_secondary);
        render_prepend(b, c, c->bgp.demote_prepend + pri);
        buf_puts(b, "exit\n!\n");
}

int render_frr_conf(const struct conf *c, const enum fo_state *states, char **out)
{
        return render_frr_conf_opts(c, states, 0, out);
}

int render_frr_conf_opts(const struct conf *c, const enum fo_state *states, unsigned flags, char **out)
{
        struct buf b;
        bool v4 = has_family(c, AF_INET), v6 = has_family(c, AF_INET6);

        buf_init(&b);
        buf_puts(&b, "! Managed by failoverd; local changes are overwritten. Use frr.extra for additions.\n");
        buf_puts(&b, "frr defaults traditional\n");
        buf_printf(&b, "hostname %s\n", c->hostname);
        buf_puts(&b, "!\n");
        buf_printf(&b, "router bgp %lld\n", c->bgp.asn);
        if (c->bgp.router_id)
                buf_printf(&b, " bgp router-id %s\n", c->bgp.router_id);
        buf_puts(&b, " no bgp ebgp-requires-policy\n");
        buf_printf(&b, " coalesce-time %lld\n", c->bgp.coalesce_time);
        buf_puts(&b, " bgp bestpath as-path multipath-relax\n");
        buf_puts(&b, " neighbor RS peer-group\n");
        if (!c->bgp.n_peers) {
                buf_puts(&b, " neighbor RS remote-as external\n");
                buf_printf(&b, " neighbor RS ebgp-multihop %d\n", c->bgp.multihop);
        }
        buf_puts(&b, " neighbor RS capability extended-nexthop\n");
        buf_printf(&b, " neighbor RS timers %d %d\n", c->bgp.keepalive, c->bgp.holdtime);
        if (!c->bgp.n_peers) {
                render_password(&b, "RS", c->bgp.password, flags);
                if (c->bgp.bfd)
                        buf_puts(&b, " neighbor RS bfd profile " RENDER_BFD_PROFILE "\n");
                for (char **rs = c->bgp.route_servers; rs && *rs; rs++)
                        buf_printf(&b, " neighbor %s peer-group RS\n", *rs);
        }
        render_peers(&b, c, flags);
        buf_puts(&b, " !\n");
        if (v4)
                render_af(&b, c, states, AF_INET);
        if (v4 && v6)
                buf_puts(&b, " !\n");
        if (v6)
                render_af(&b, c, states, AF_INET6);
        buf_puts(&b, "exit\n!\n");
        render_route_maps(&b, c);
        if (uses_bfd(c))
                buf_printf(&b, "bfd\n profile " RENDER_BFD_PROFILE "\n  detect-multiplier %d\n  receive-interval %d\n"
                           "  transmit-interval %d\n exit\n !\nexit\n!\n", c->bgp.bfd_multiplier,
                           c->bgp.bfd_interval, c->bgp.bfd_interval);
        buf_puts(&b, "ipv6 nht resolve-via-default\n");
        if (c->frr.extra_text) {
                buf_puts(&b, "! frr.extra\n");
                buf_puts(&b, c->frr.extra_text);
                if (b.len && b.data[b.len - 1] != '\n')
                        buf_puts(&b, "\n");
        }
        if (b.oom) {
                buf_free(&b);
                *out = NULL;
                return -ENOMEM;
        }
        *out = buf_steal(&b);
        return 0;
}

/* The vtysh lines of one fast-path script, built one at a time: any allocation failure makes lines_end()
 * return NULL. lines_begin() enters "configure terminal" and "router bgp ASN"; lines_end() adds "end". */
struct lines {
        char **v;
        size_t n;
        bool oom;
};

static void lines_add(struct lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lines_add(struct lines *l, const char *fmt, ...)
{
        struct buf b;
        va_list ap;

        if (l->oom)
                return;
        buf_init(&b);
        va_start(ap, fmt);
        buf_vprintf(&b, fmt, ap);
        va_end(ap);
        char **nv = b.oom ? NULL : realloc(l->v, (l->n + 2) * sizeof(char *));
        if (nv)
                l->v = nv;      /* at once: realloc may have moved the list even if the line fails below */
        char *line = nv ? buf_steal(&b) : NULL;
        if (!line) {
                buf_free(&b);
                l->oom = true;
                return;
        }
        l->v[l->n++] = line;
        l->v[l->n] = NULL;
}

static void lines_begin(struct lines *l, const struct conf *c)
{
        *l = (struct lines){ .v = calloc(1, sizeof(char *)) };
        l->oom = !l->v;
        lines_add(l, "configure terminal");
        lines_add(l, "router bgp %lld", c->bgp.asn);
}

static char **lines_end(struct lines *l)
{
        lines_add(l, "end");
        if (l->oom)
                return strv_free(l->v);
        return l->v;
}

char **render_fast_path(const struct conf *c, const enum fo_state *states)
{
        return render_fast_path_only(c, states, NULL);
}

static bool family_in(const struct conf *c, int family, const bool *only)
{
        for (size_t s = 0; s < c->n_services; s++)
                for (size_t i = 0; (!only || only[s]) && i < c->services[s].n_prefixes; i++)
                        if (c->services[s].prefixes[i].family == family)
                                return true;
        return false;
}

char **render_fast_path_only(const struct conf *c, const enum fo_state *states, const bool *only)
{
        struct lines l;

        lines_begin(&l, c);
        for (int f = 0; f < 2; f++) {
                int family = f == 0 ? AF_INET : AF_INET6;
                if (!family_in(c, family, only))
                        continue;
                lines_add(&l, "address-family %s unicast", family == AF_INET ? "ipv4" : "ipv6");
                for (size_t s = 0; s < c->n_services; s++) {
                        const char *rm = state_route_map(states[s]);
                        /* Another service's lines are never re-entered: that would re-originate its path. */
                        if (only && !only[s])
                                continue;
                        for (size_t i = 0; i < c->services[s].n_prefixes; i++) {
                                const struct prefix *p = &c->services[s].prefixes[i];
                                if (p->family != family)
                                        continue;
                                /* Re-entering the statement re-originates at once; a route-map body edit
                                 * would wait for bgpd's 5 s route-map delay timer (docs/frr-facts.md). */
                                if (rm)
                                        lines_add(&l, "network %s route-map %s", p->text, rm);
                                else
                                        lines_add(&l, "no network %s", p->text);
                        }
                }
                lines_add(&l, "exit-address-family");
        }
        return lines_end(&l);
}

/* The state of the service that owns shared prefix i (each service is a slice of c->shared_ips). */
static enum fo_state state_of_prefix(const struct conf *c, const enum fo_state *states, size_t i)
{
        const struct prefix *p = &c->shared_ips[i];
        for (size_t s = 0; s < c->n_services; s++)
                if (p >= c->services[s].prefixes && p < c->services[s].prefixes + c->services[s].n_prefixes)
                        return states[s];
        return STATE_INVALID;
}

char **render_reannounce(const struct conf *c, const enum fo_state *states, const bool *prefixes)
{
        struct lines l;

        lines_begin(&l, c);
        for (int f = 0; f < 2; f++) {
                int family = f == 0 ? AF_INET : AF_INET6;
                bool open = false;
                for (size_t i = 0; i < c->n_shared_ips; i++) {
                        const struct prefix *p = &c->shared_ips[i];
                        const char *rm = state_route_map(state_of_prefix(c, states, i));
                        if (!prefixes[i] || p->family != family || !rm)
                                continue;
                        if (!open) {
                                lines_add(&l, "address-family %s unicast", family == AF_INET ? "ipv4" : "ipv6");
                                open = true;
                        }
                        lines_add(&l, "no network %s", p->text);
                        lines_add(&l, "network %s route-map %s", p->text, rm);
                }
                if (open)
                        lines_add(&l, "exit-address-family");
        }
        return lines_end(&l);
}
