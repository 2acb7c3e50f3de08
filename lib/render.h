/* frr.conf rendering and the vtysh command lines of the fast path (docs/design.md). */
#pragma once

#include "conf.h"
#include "state.h"

/* Renders the whole frr.conf for c with states[i] the effective state of c->services[i].
 * Deterministic: the same input gives byte-identical output. Returns 0 or -ENOMEM; *out is the caller's. */
int render_frr_conf(const struct conf *c, const enum fo_state *states, char **out);

/* The configuration commands, one per element, that switch bgpd to states without touching anything else:
 * "configure terminal", "router bgp ASN", then per address family the network (or "no network") lines.
 * Returns a NULL-terminated vector (caller frees with strv_free) or NULL when out of memory. */
char **render_fast_path(const struct conf *c, const enum fo_state *states);
