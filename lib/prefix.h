/* Shared-address prefixes: parsing, validation and canonical text form. */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>

struct prefix {
        int family;                     /* AF_INET or AF_INET6 */
        unsigned char addr[16];         /* network byte order, host bits cleared */
        int len;
        char text[64];                  /* canonical "ADDR/LEN" */
};

enum prefix_result {
        PREFIX_OK = 0,
        PREFIX_HOSTBITS = 1,            /* valid, but host bits were set and have been cleared */
        PREFIX_EBADADDR = -1,
        PREFIX_EBADLEN4 = -2,           /* IPv4 must be /32 */
        PREFIX_EBADLEN6 = -3,           /* IPv6 must be /56 or /64 */
        PREFIX_EBADSCOPE = -4,          /* loopback, link-local, multicast, unspecified: never announced */
};

/* Parses a shared address: IPv4 /32 (default), IPv6 /64 (default) or /56 (failoverd.conf(5)). */
enum prefix_result prefix_parse_shared(const char *s, struct prefix *out);
const char *prefix_strerror(enum prefix_result r);
/* The address part only, for comparing with interface addresses and router-ids. */
bool prefix_host_equal(const struct prefix *p, int family, const void *addr);
/* True when s is a plain IPv4 or IPv6 address (inet_pton). */
bool addr_valid(const char *s);
bool addr_valid4(const char *s);
