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

/* One route-server session, from `show bgp neighbors json`. */
struct bgpd_peer {
        char address[64];
        char state[32];                 /* bgpState: "Established", "Active", "Connect", "Idle", ... */
        bool established;
        uint64_t uptime_msec;           /* bgpTimerUpMsec (time in the current state when not established) */
        uint64_t connections;           /* connectionsEstablished */
        uint64_t prefixes_sent;         /* sum of sentPrefixCounter over the address families */
        char last_reset[128];           /* lastResetDueTo, "" when none */
};

struct bgpd_status {
        struct bgpd_peer *peers;
        size_t n_peers;
        char router_id[64];             /* "" when unknown */
};

/* Parses `show bgp neighbors json` (FRR 8.4; keys are peer addresses). Tolerates missing keys; malformed or
 * truncated JSON returns -EBADMSG. Returns 0 or -errno; *out is the caller's to clear. */
int bgpd_parse_neighbors(const char *json, struct bgpd_status *out);
/* Reads routerId from `show bgp vrf default json` or `show bgp summary json` output into out->router_id. */
int bgpd_parse_router_id(const char *json, struct bgpd_status *out);
void bgpd_status_clear(struct bgpd_status *s);
const struct bgpd_peer *bgpd_find_peer(const struct bgpd_status *s, const char *address);
/* Reads `show bgp summary json` (FRR 8.4: one object per address family, each with routerId and peers):
 * state, peerUptimeMsec, connectionsEstablished, pfxSnt summed over the families; no reset reason. Sets
 * peers, n_peers and router_id; on error they are empty. Returns 0 or -errno (-EBADMSG when malformed). */
int bgpd_parse_summary(const char *json, struct bgpd_status *out);
