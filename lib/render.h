/* frr.conf rendering and the vtysh command lines of the fast path (docs/design.md). */
#pragma once

#include "conf.h"
#include "state.h"

/* Renders the whole frr.conf for c with states[i] the effective state of c->services[i].
 * Deterministic: the same input gives byte-identical output. Returns 0 or -ENOMEM; *out is the caller's. */
int render_frr_conf(const struct conf *c, const enum fo_state *states, char **out);
/* The same; with RENDER_MASK_SECRETS each password is RENDER_SECRET_MASK (for --render without
 * --show-secrets: still valid FRR syntax, never the key). */
#define RENDER_MASK_SECRETS 1u
#define RENDER_SECRET_MASK "********"
/* The name of the BFD profile the rendering defines for bfd = true (bgp.bfd_interval, bgp.bfd_multiplier). */
#define RENDER_BFD_PROFILE "failoverd"
int render_frr_conf_opts(const struct conf *c, const enum fo_state *states, unsigned flags, char **out);

/* The configuration commands, one per element, that switch bgpd to states without touching anything else:
 * "configure terminal", "router bgp ASN", then per address family the network (or "no network") lines.
 * Returns a NULL-terminated vector (caller frees with strv_free) or NULL when out of memory. */
char **render_fast_path(const struct conf *c, const enum fo_state *states);
/* The same for the services s with only[s] set (all when only is NULL): one transaction for every service
 * that changed, and no line of another service. */
char **render_fast_path_only(const struct conf *c, const enum fo_state *states, const bool *only);
/* A re-announce: "no network P" then "network P route-map RM" in one transaction for each shared prefix i
 * (of c->shared_ips) with prefixes[i] set whose service's state announces it; a statement bgpd keeps
 * invalid after a zebra restart is validated again only so (docs/frr-facts.md). NULL when out of memory. */
char **render_reannounce(const struct conf *c, const enum fo_state *states, const bool *prefixes);
