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
        bool auth;                      /* authenticationEnabled: a TCP-MD5 password is configured */
        char bfd[16];                   /* peerBfdInfo.status ("Up", "Down", "Init", ...), "" without BFD */
        char notification[96];          /* lastNotificationReason ("Cease/BFD Down", ...), "" when none */
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
/* Why the session of p is not Established, in words for status (BFD's state, a hint when no TCP session
 * comes up, bgpd's last reset); "" when it is. */
void bgpd_peer_why(const struct bgpd_peer *p, char *buf, size_t len);
/* Reads `show bgp summary json` (FRR 8.4: one object per address family, each with routerId and peers):
 * state, peerUptimeMsec, connectionsEstablished, pfxSnt summed over the families; no reset reason. Sets
 * peers, n_peers and router_id; on error they are empty. Returns 0 or -errno (-EBADMSG when malformed). */
int bgpd_parse_summary(const char *json, struct bgpd_status *out);

/* One shared prefix in bgpd's table, from `show bgp <af> unicast P json` (FRR 8.4: "paths" and
 * "advertisedTo" keyed by peer address; `{}` when the prefix is not in the table). */
struct bgpd_prefix {
        bool in_table;                  /* bgpd has a path for it */
        bool local;                     /* a locally sourced path (our network statement) */
        bool local_valid;               /* ... and it is valid (import check: the route exists in zebra) */
        bool local_best;                /* ... and it is the best path */
        char (*advertised)[64];         /* advertisedTo: the peers the best path was sent to */
        size_t n_advertised;
};

/* Parses one prefix's JSON. Returns 0 or -errno (-EBADMSG when malformed); *out is the caller's to clear. */
int bgpd_parse_prefix(const char *json, struct bgpd_prefix *out);
void bgpd_prefix_clear(struct bgpd_prefix *p);
bool bgpd_prefix_advertised_to(const struct bgpd_prefix *p, const char *address);

/* What bgpd really does with a shared prefix: the network statement alone is not an announcement. */
enum bgpd_announcement {
        ANNOUNCE_UNKNOWN,               /* not read yet */
        ANNOUNCE_ANNOUNCED,             /* valid best path, sent to at least one route server */
        ANNOUNCE_CONFIGURED,            /* the network statement is there, but no route server gets it */
        ANNOUNCE_WITHDRAWN,             /* no network statement */
        _ANNOUNCE_MAX,
};

const char *bgpd_announcement_name(enum bgpd_announcement a);
/* Classifies a prefix: configured says whether the running config has its network statement, p is what
 * the table says (NULL: unknown), route_servers the configured peers and peers their sessions. why gets
 * the reason in words for ANNOUNCE_CONFIGURED ("" otherwise); *n_to the number of route servers it goes to. */
enum bgpd_announcement bgpd_announcement_of(bool configured, const struct bgpd_prefix *p, char *const *route_servers,
                                            const struct bgpd_status *peers, size_t *n_to, char *why, size_t len);
