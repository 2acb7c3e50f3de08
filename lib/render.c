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

int render_frr_conf(const struct conf *c, const enum fo_state *states, char **out)
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
        buf_puts(&b, " neighbor RS remote-as external\n");
        buf_printf(&b, " neighbor RS ebgp-multihop %d\n", c->bgp.multihop);
        buf_puts(&b, " neighbor RS capability extended-nexthop\n");
        buf_printf(&b, " neighbor RS timers %d %d\n", c->bgp.keepalive, c->bgp.holdtime);
        for (char **rs = c->bgp.route_servers; rs && *rs; rs++)
                buf_printf(&b, " neighbor %s peer-group RS\n", *rs);
        buf_puts(&b, " !\n");
        if (v4)
                render_af(&b, c, states, AF_INET);
        if (v4 && v6)
                buf_puts(&b, " !\n");
        if (v6)
                render_af(&b, c, states, AF_INET6);
        buf_puts(&b, "exit\n!\n");
        buf_printf(&b, "route-map primary permit 10\n set community %s\nexit\n!\n", c->bgp.community_primary);
        buf_printf(&b, "route-map secondary permit 10\n set community %s\nexit\n!\n", c->bgp.community_secondary);
        buf_printf(&b, "route-map demoted permit 10\n set community %s\n set as-path prepend",
                   c->bgp.community_secondary);
        for (int i = 0; i < c->bgp.demote_prepend; i++)
                buf_printf(&b, " %lld", c->bgp.asn);
        buf_puts(&b, "\nexit\n!\n");
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

static int strv_push(char ***v, size_t *n, struct buf *b)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv || b->oom)
                return -ENOMEM;
        *v = nv;
        nv[(*n)++] = buf_steal(b);
        nv[*n] = NULL;
        return nv[*n - 1] ? 0 : -ENOMEM;
}

char **render_fast_path(const struct conf *c, const enum fo_state *states)
{
        char **v = calloc(1, sizeof(char *));
        size_t n = 0;
        struct buf b;
        int r = 0;

        if (!v)
                return NULL;
        buf_init(&b);
        buf_puts(&b, "configure terminal");
        r |= strv_push(&v, &n, &b);
        buf_printf(&b, "router bgp %lld", c->bgp.asn);
        r |= strv_push(&v, &n, &b);
        for (int f = 0; f < 2; f++) {
                int family = f == 0 ? AF_INET : AF_INET6;
                if (!has_family(c, family))
                        continue;
                buf_printf(&b, "address-family %s unicast", family == AF_INET ? "ipv4" : "ipv6");
                r |= strv_push(&v, &n, &b);
                for (size_t s = 0; s < c->n_services; s++) {
                        const char *rm = state_route_map(states[s]);
                        for (size_t i = 0; i < c->services[s].n_prefixes; i++) {
                                const struct prefix *p = &c->services[s].prefixes[i];
                                if (p->family != family)
                                        continue;
                                /* Re-entering the statement re-originates at once; a route-map body edit
                                 * would wait for bgpd's 5 s route-map delay timer (docs/frr-facts.md). */
                                if (rm)
                                        buf_printf(&b, "network %s route-map %s", p->text, rm);
                                else
                                        buf_printf(&b, "no network %s", p->text);
                                r |= strv_push(&v, &n, &b);
                        }
                }
                buf_puts(&b, "exit-address-family");
                r |= strv_push(&v, &n, &b);
        }
        buf_puts(&b, "end");
        r |= strv_push(&v, &n, &b);
        buf_free(&b);
        if (r)
                return strv_free(v);
        return v;
}
