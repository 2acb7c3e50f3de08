/* Reading bgpd's state back: running-config text and JSON output of show commands (FRR 8.4). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "state.h"

/* One "network P [route-map R]" statement found under our "router bgp ASN". */
struct bgpd_network {
        char prefix[64];
        char route_map[64];             /* "" when none */
};

struct bgpd_running {
        bool has_router;                /* a "router bgp ASN" block for our ASN exists */
        struct bgpd_network *networks;
        size_t n_networks;
};

/* Parses `show running-config`. Returns 0 or -ENOMEM. */
int bgpd_parse_running(const char *text, long long asn, struct bgpd_running *out);
void bgpd_running_clear(struct bgpd_running *r);

/* The state bgpd runs for service s of c: STATE_WITHDRAWN when none of its prefixes is there, the state
 * whose route-map every prefix carries, or STATE_INVALID when they disagree or carry a foreign route-map. */
enum fo_state bgpd_service_state(const struct bgpd_running *r, const struct conf *c, size_t s);
