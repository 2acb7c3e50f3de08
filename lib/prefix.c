/* Shared-address prefixes: parsing, validation and canonical text form. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefix.h"

static void clear_host_bits(unsigned char *a, int bytes, int len, bool *changed)
{
        for (int i = 0; i < bytes; i++) {
                int keep = len - i * 8;
                unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
                if (a[i] & ~mask)
                        *changed = true;
                a[i] &= mask;
        }
}

/* Addresses no route server accepts and no host can own as a shared address. */
static bool announceable(int family, const unsigned char *a)
{
        static const unsigned char zero[8];
        if (family == AF_INET)
                /* 0/8 "this network", 127/8 loopback, 169.254/16 link-local, 224/4 multicast, 240/4 reserved */
                return a[0] != 0 && a[0] != 127 && !(a[0] == 169 && a[1] == 254) && a[0] < 224;
        /* An all-zero network holds ::, ::1 and the IPv4-mapped ::ffff:0:0/96; fe80::/10 link-local; ff00::/8 multicast */
        return memcmp(a, zero, sizeof(zero)) != 0 && !(a[0] == 0xfe && (a[1] & 0xc0) == 0x80) && a[0] != 0xff;
}

enum prefix_result prefix_parse_shared(const char *s, struct prefix *out)
{
        char host[64];
        const char *slash = strchr(s, '/');
        size_t hl = slash ? (size_t)(slash - s) : strlen(s);
        int len = -1;

        memset(out, 0, sizeof(*out));
        if (hl == 0 || hl >= sizeof(host))
                return PREFIX_EBADADDR;
        memcpy(host, s, hl);
        host[hl] = '\0';

        if (slash) {
                const char *d = slash + 1;
                char *end;
                if (*d < '0' || *d > '9')
                        return PREFIX_EBADADDR;
                errno = 0;
                long l = strtol(d, &end, 10);
                if (*end || errno || l < 0 || l > 128 || end - d > 3)
                        return PREFIX_EBADADDR;
                len = (int)l;
        }

        if (inet_pton(AF_INET, host, out->addr) == 1) {
                out->family = AF_INET;
                if (len == -1)
                        len = 32;
                if (len != 32)
                        return PREFIX_EBADLEN4;
        } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
                out->family = AF_INET6;
                if (len == -1)
                        len = 64;
                if (len != 64 && len != 56)
                        return PREFIX_EBADLEN6;
        } else {
                return PREFIX_EBADADDR;
        }
        out->len = len;

        bool changed = false;
        clear_host_bits(out->addr, out->family == AF_INET ? 4 : 16, len, &changed);
        if (!announceable(out->family, out->addr))
                return PREFIX_EBADSCOPE;
        char a[INET6_ADDRSTRLEN];
        inet_ntop(out->family, out->addr, a, sizeof(a));
        snprintf(out->text, sizeof(out->text), "%s/%d", a, len);
        return changed ? PREFIX_HOSTBITS : PREFIX_OK;
}

const char *prefix_strerror(enum prefix_result r)
{
        switch (r) {
        case PREFIX_OK:
                return "ok";
        case PREFIX_HOSTBITS:
                return "host bits set";
        case PREFIX_EBADADDR:
                return "not an IPv4 or IPv6 address";
        case PREFIX_EBADLEN4:
                return "IPv4 prefix must be /32";
        case PREFIX_EBADLEN6:
                return "IPv6 prefix must be /56 or /64";
        case PREFIX_EBADSCOPE:
                return "not a unicast address that can be announced (loopback, link-local, multicast or unspecified)";
        }
        return "invalid";
}

bool prefix_host_equal(const struct prefix *p, int family, const void *addr)
{
        if (p->family != family)
                return false;
        return memcmp(p->addr, addr, family == AF_INET ? 4 : 16) == 0;
}

bool addr_valid4(const char *s)
{
        unsigned char a[16];
        return s && inet_pton(AF_INET, s, a) == 1;
}

bool addr_valid(const char *s)
{
        unsigned char a[16];
        return s && (inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1);
}
