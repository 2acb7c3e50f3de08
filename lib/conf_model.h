/* The configuration model: failoverd.conf and conf.d parsed and validated into one object. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "prefix.h"
#include "state.h"

struct proc_cred;
struct native_conf;

struct check_conf {
        char *name;             /* run-parts name, unique */
        char *script;           /* path of the conf.d script, or NULL for a command check */
        char **argv;            /* NULL-terminated argv; argv[0] is an absolute path */
        char *conf_file;        /* NAME.conf when there is one */
        double interval;        /* seconds */
        double timeout;         /* seconds */
        int rise;
        int fall;
        char *user;             /* NULL: the daemon's own user */
        struct proc_cred *cred; /* user resolved at load (lib/proc.h); NULL exactly when user is NULL */
        struct native_conf *native;     /* a native check (lib/check_native.h): argv is NULL */
};

#define CONF_MAX_SERVICES 8

/* bgp.profile: whose defaults apply (docs/providers.md). */
enum conf_profile { PROFILE_LINODE, PROFILE_VULTR, PROFILE_AWS, PROFILE_GENERIC };
/* bgp.preference: the attribute that ranks primary, secondary and demoted at the route servers. */
enum conf_preference { PREFER_COMMUNITY, PREFER_PREPEND, PREFER_MED };
#define CONF_AS_EXTERNAL (-1LL)
#define CONF_AS_INTERNAL (-2LL)

/* One entry of bgp.neighbors, with the group's and the profile's defaults resolved (lib/conf_bgp.c). */
struct conf_peer {
        char *address;          /* canonical */
        long long remote_as;    /* an AS number, CONF_AS_EXTERNAL or CONF_AS_INTERNAL */
        int multihop;           /* ebgp-multihop TTL; 0: directly connected */
        char *password;         /* TCP-MD5 key read from password_file at load, or NULL. Secret: only the
                                 * frr.conf rendering writes it (render_frr_conf) */
        char *password_file;    /* where it came from, for messages; NULL when no password */
        bool bfd;
};

enum service_start {
        START_CHECKS,           /* the first result of each check decides (the default) */
        START_WITHDRAWN,        /* withdrawn until each of its checks has passed rise times */
};

/* A set of shared prefixes with one role, its own checks and its own state (docs/design.md). The top-level
 * role and shared_ips form is one service, "default". */
struct service {
        char *name;
        enum role role;
        struct prefix *prefixes;        /* a slice of conf->shared_ips, which owns them */
        size_t n_prefixes;
        char **checks;                  /* names of the checks bound to it (NULL-terminated), or NULL */
        double failback_delay;          /* seconds a recovered service stays in its lower state; 0: none */
        int flap_limit;                 /* state changes within flap_window that hold it; 0: no damping */
        double flap_window;
        double flap_hold;
        enum service_start start;
        char *where;                    /* "FILE:LINE: services[N]" for messages after the parse */
};

struct conf {
        char *path;
        enum role role;                 /* the top-level form's; services[i].role is the one that counts */
        int datacenter;                 /* -1 when not set */
        struct prefix *shared_ips;      /* every service's prefixes, service after service */
        size_t n_shared_ips;
        char *hostname;
        char *group;                    /* the failover group, a label on every metric; NULL: not set */

        struct {
                long long asn;
                char *router_id;        /* NULL when not set */
                char **route_servers;   /* always set after load: given or derived */
                char *neighbor_pattern;
                int route_server_count;
                int multihop;
                int keepalive;
                int holdtime;
                long long coalesce_time;
                char *community_primary;
                char *community_secondary;
                int demote_prepend;
                double poll_interval;
                int profile;                    /* enum conf_profile */
                struct conf_peer *peers;        /* bgp.neighbors; NULL: the route_servers form, one peer-group */
                size_t n_peers;
                char *password;                 /* bgp.password_file's key (secret) for the route_servers form */
                char *password_file;
                bool bfd;                       /* the route_servers form's BFD */
                int bfd_interval;               /* ms, transmit and receive */
                int bfd_multiplier;
                int preference;                 /* enum conf_preference */
                int prepend;                    /* preference "prepend": a secondary's prepends */
                long long med_primary, med_secondary, med_demoted, med_step;
                int priority;                   /* rank among secondaries, 0 first: extra prepends or MED steps */
                bool secondary_silent;          /* bgp.secondary "silent": a secondary withdraws while drain_check
                                                 * says the other host is healthy (agent/services.c) */
        } bgp;

        struct {
                char *config;
                char *vtysh;
                char *reload;
                char *pathspace;        /* "" when not set */
                char *extra;            /* path, "" when not set */
                char *extra_text;       /* contents of extra, read at load time; NULL when not set */
                double timeout;
        } frr;

        struct {
                char *directory;
                double interval;
                double timeout;
                int rise;
                int fall;
                char *user;             /* NULL: the daemon's user */
                struct proc_cred *cred; /* user resolved at load */
        } checks;

        struct check_conf *check;       /* sorted by name */
        size_t n_checks;

        char **notify;                  /* argv or NULL */
        char *metrics_file;             /* NULL when not set */
        char *state_directory;
        char *runtime_directory;
        bool failsafe_keep;             /* failsafe = "keep": failoverd --failsafe leaves FRR as it is */

        struct {
                char *read_group;       /* may status and checks; NULL: the control socket file's group */
                char *admin_group;      /* may also drain, resume, reload; NULL: only root and the daemon's user */
                gid_t read_gid;         /* resolved at load; (gid_t)-1 when not set */
                gid_t admin_gid;
        } control;

        struct service *services;       /* at least one; the top-level form has one, "default" */
        size_t n_services;
        bool services_form;             /* configured with services = ( ... ) */
        bool on_stop_withdraw;          /* on_stop = "withdraw": a planned stop withdraws every service first */

        /* Shared addresses on lo (agent/addresses.c). */
        bool addresses_manage;          /* addresses = "manage": failoverd puts them on lo and keeps them there */
        bool addresses_remove;          /* addresses_on_stop = "remove": off lo once a stop's withdrawal is in bgpd */

        /* The ordered drain (agent/drain.c). */
        double drain_delay;             /* seconds a drain keeps a service demoted before it withdraws; 0: at once */
        char **drain_check;             /* argv: exit 0 says the other host is healthy; NULL: not asked */
};
