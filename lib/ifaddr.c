/* Is a shared address assigned to a local interface? bgpd's import-check silently drops it otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ifaddr.h"

/* True when the first len bits of a and b agree. */
static bool bits_equal(const unsigned char *a, const unsigned char *b, int len)
{
        int bytes = len / 8, rest = len % 8;
        if (memcmp(a, b, (size_t)bytes) != 0)
                return false;
        if (rest == 0)
                return true;
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        return (a[bytes] & mask) == (b[bytes] & mask);
}

/* The prefix length of a netmask (leading one bits), or -1. */
static int mask_len(const struct sockaddr *m)
{
        const unsigned char *b;
        size_t n;
        int len = 0;

        if (!m)
                return -1;
        if (m->sa_family == AF_INET6) {
                b = ((const struct sockaddr_in6 *)(const void *)m)->sin6_addr.s6_addr;
                n = 16;
        } else if (m->sa_family == AF_INET) {
                b = (const unsigned char *)&((const struct sockaddr_in *)(const void *)m)->sin_addr;
                n = 4;
        } else {
                return -1;
        }
        for (size_t i = 0; i < n && b[i]; i++)
                for (int bit = 7; bit >= 0 && (b[i] >> bit) & 1; bit--)
                        len++;
        return len;
}

/* Whether the address sa lies inside p. */
static bool inside(const struct prefix *p, const struct sockaddr *sa)
{
        if (!sa || sa->sa_family != p->family)
                return false;
        if (p->family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
                int len = p->len < 0 || p->len > 32 ? 32 : p->len;
                return bits_equal(p->addr, (const unsigned char *)&in->sin_addr, len);
        }
        if (p->family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
                int len = p->len < 0 || p->len > 128 ? 128 : p->len;
                return bits_equal(p->addr, in6->sin6_addr.s6_addr, len);
        }
        return false;
}

/* IPv4 /32: that very address. IPv6: an address inside the prefix with the prefix's own length, so that the
 * kernel (and zebra) has the connected route of exactly that prefix: bgpd's import-check matches the
 * `network` exactly, and ::1/128 on lo for a /64 leaves the path invalid (docs/frr-facts.md, "Import-check"). */
static bool holds(const struct prefix *p, const struct ifaddrs *ifa)
{
        if (!inside(p, ifa->ifa_addr))
                return false;
        return p->family != AF_INET6 || mask_len(ifa->ifa_netmask) == p->len;
}

int ifaddr_check(const struct prefix *prefixes, size_t n, bool *assigned)
{
        struct ifaddrs *list;
        int missing = 0;

        if (n == 0)
                return 0;
        if (!prefixes || !assigned)
                return -EINVAL;
        if (getifaddrs(&list) < 0)
                return -errno;
        for (size_t i = 0; i < n; i++) {
                assigned[i] = false;
                for (const struct ifaddrs *ifa = list; ifa && !assigned[i]; ifa = ifa->ifa_next)
                        assigned[i] = holds(&prefixes[i], ifa);
                if (!assigned[i])
                        missing++;
        }
        freeifaddrs(list);
        return missing;
}

int ifaddr_near_miss(const struct prefix *p, char *out, size_t len)
{
        struct ifaddrs *list;
        int found = 0;

        if (!p || !out || len == 0)
                return -EINVAL;
        if (getifaddrs(&list) < 0)
                return -errno;
        for (const struct ifaddrs *ifa = list; ifa && !found; ifa = ifa->ifa_next) {
                char a[INET6_ADDRSTRLEN];
                if (p->family != AF_INET6 || !inside(p, ifa->ifa_addr) || holds(p, ifa))
                        continue;
                if (!inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)ifa->ifa_addr)->sin6_addr, a,
                               sizeof(a)))
                        continue;
                snprintf(out, len, "%s/%d on %s", a, mask_len(ifa->ifa_netmask), ifa->ifa_name ? ifa->ifa_name : "?");
                found = 1;
        }
        freeifaddrs(list);
        return found;
}
