/* Reading bgpd's state back: running-config text and JSON output of show commands (FRR 8.4). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
                if (n == 1 && add_network(out, prefix, NULL) < 0)
                        return -ENOMEM;
                if (n == 3 && strcmp(kw, "route-map") == 0 && add_network(out, prefix, rm) < 0)
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
