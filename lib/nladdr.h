/* Shared addresses on an interface over rtnetlink (libmnl): the form FRR needs, the messages, two sockets. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prefix.h"

struct nlmsghdr;

/* One interface address: what RTM_NEWADDR / RTM_DELADDR carry for us. */
struct nladdr {
        int family;                     /* AF_INET or AF_INET6 */
        unsigned char addr[16];         /* network byte order */
        int prefixlen;
};

struct nladdr_msg {
        int type;                       /* RTM_NEWADDR or RTM_DELADDR */
        int ifindex;
        struct nladdr a;
};

/* The address that makes bgpd's import check announce shared prefix p (docs/frr-facts.md, "Import-check"):
 * IPv4 the /32 itself; IPv6 the first host of the prefix (::1) with the prefix's length, since a /128 leaves
 * the route invalid. 0 or -EINVAL. */
int nladdr_form(const struct prefix *p, struct nladdr *out);
bool nladdr_equal(const struct nladdr *a, const struct nladdr *b);
/* "198.51.100.10/32", "2001:db8::1/64". */
const char *nladdr_text(const struct nladdr *a, char *buf, size_t len);

/* Builds an RTM_NEWADDR (NLM_F_CREATE|NLM_F_EXCL), RTM_DELADDR or RTM_GETADDR (dump; a is NULL, ifindex
 * ignored) request with NLM_F_ACK into buf (MNL_SOCKET_BUFFER_SIZE is enough). Returns its length or -EINVAL. */
int nladdr_build(void *buf, size_t size, int type, uint32_t seq, int ifindex, const struct nladdr *a);
/* Parses an RTM_NEWADDR or RTM_DELADDR. 0, -ENOMSG for any other message, -EBADMSG for a malformed one. */
int nladdr_parse(const struct nlmsghdr *nlh, struct nladdr_msg *out);

/* Whether every message of a datagram of n bytes, padded to its alignment, lies within it. libmnl 1.0.4's
 * mnl_nlmsg_ok() compares nlmsg_len as a signed int (a length above 2^31 walks mnl_cb_run() out of the buffer)
 * and mnl_attr_parse() reads up to the aligned end of a message (found by test/fuzz/fuzz_nladdr.c); only the
 * kernel's datagrams are read, but they are checked first all the same. */
bool nladdr_datagram_ok(const void *buf, size_t n);

/* A netlink route socket: for requests, or (subscribe) for the kernel's address notifications, both
 * non-blocking and close-on-exec. */
struct nladdr_sock;
int nladdr_sock_open(bool subscribe, struct nladdr_sock **out);
struct nladdr_sock *nladdr_sock_close(struct nladdr_sock *s);
int nladdr_sock_fd(const struct nladdr_sock *s);

/* Adds (RTM_NEWADDR) or removes (RTM_DELADDR) a on ifindex and reads the kernel's answer, which rtnetlink
 * queues before sendmsg returns. 0, -EEXIST (already there), -EADDRNOTAVAIL (not there), or -errno. */
int nladdr_request(struct nladdr_sock *s, int type, int ifindex, const struct nladdr *a);

typedef void (*nladdr_cb)(const struct nladdr_msg *m, void *userdata);
/* Calls cb with every address of the host (RTM_NEWADDR each). 0 or -errno. */
int nladdr_dump(struct nladdr_sock *s, nladdr_cb cb, void *userdata);
/* Reads what a subscribed socket has queued, calling cb per address message; only the kernel's (port 0)
 * are believed. 0 when drained, -ENOBUFS when the kernel dropped some (dump again), or -errno. */
int nladdr_read(struct nladdr_sock *s, nladdr_cb cb, void *userdata);
