/* Is a shared address assigned to a local interface? bgpd's import-check silently drops it otherwise. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "prefix.h"

/* For each prefix, sets assigned[i]: an interface (any, "lo" included) holds the prefix's address (IPv4
 * /32: that address; IPv6: an address inside the prefix with the prefix's length, whose connected route
 * bgpd's import-check needs). Uses getifaddrs in the caller's network namespace. Returns the number not
 * assigned, or -errno. */
int ifaddr_check(const struct prefix *prefixes, size_t n, bool *assigned);
/* For an IPv6 prefix that is not assigned: an address inside it with another length ("ADDR/LEN on IFNAME"
 * into out), which bgpd does not count. Returns 1 when found, 0 when not, or -errno. */
int ifaddr_near_miss(const struct prefix *p, char *out, size_t len);
