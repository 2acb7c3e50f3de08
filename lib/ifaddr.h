/* Is a shared address assigned to a local interface? bgpd's import-check silently drops it otherwise. */
#pragma once

#include <stdbool.h>

#include "prefix.h"

/* For each prefix, sets assigned[i]: an interface (any, "lo" included) holds the prefix's address (IPv4
 * /32: that address; IPv6: any address inside the prefix). Uses getifaddrs in the caller's network
 * namespace. Returns the number not assigned, or -errno. */
int ifaddr_check(const struct prefix *prefixes, size_t n, bool *assigned);
