/* Is a shared address assigned to a local interface? bgpd's import-check silently drops it otherwise. */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
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

/* IPv4 /32: that very address; IPv6: any address inside the prefix (FRR announces the prefix when zebra has
 * a connected route covering it, which any address in it provides). */
static bool holds(const struct prefix *p, const struct sockaddr *sa)
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
                        assigned[i] = holds(&prefixes[i], ifa->ifa_addr);
                if (!assigned[i])
                        missing++;
        }
        freeifaddrs(list);
        return missing;
}
