/* Shared addresses on an interface over rtnetlink (libmnl): the form FRR needs, the messages, two sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "nladdr.h"

/* A dump datagram is at most 32 KiB (the kernel's netlink dump size); a shorter buffer truncates it. */
#define NLADDR_BUF 32768

struct nladdr_sock {
        struct mnl_socket *nl;
        uint32_t portid;
        uint32_t seq;
        char buf[NLADDR_BUF];
};

int nladdr_form(const struct prefix *p, struct nladdr *out)
{
        if (!p || !out)
                return -EINVAL;
        memset(out, 0, sizeof(*out));
        out->family = p->family;
        if (p->family == AF_INET) {
                memcpy(out->addr, p->addr, 4);
                out->prefixlen = 32;
                return 0;
        }
        if (p->family == AF_INET6 && p->len > 0 && p->len <= 127) {
                memcpy(out->addr, p->addr, 16);
                out->addr[15] |= 1;     /* host bits are clear (lib/prefix.c): ::1 of the prefix */
                out->prefixlen = p->len;
                return 0;
        }
        return -EINVAL;
}

bool nladdr_equal(const struct nladdr *a, const struct nladdr *b)
{
        return a->family == b->family && a->prefixlen == b->prefixlen &&
               memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

const char *nladdr_text(const struct nladdr *a, char *buf, size_t len)
{
        char t[INET6_ADDRSTRLEN];
        if (!inet_ntop(a->family, a->addr, t, sizeof(t)))
                snprintf(t, sizeof(t), "?");
        snprintf(buf, len, "%s/%d", t, a->prefixlen);
        return buf;
}

static size_t addr_size(int family)
{
        return family == AF_INET ? 4 : 16;
}

int nladdr_build(void *buf, size_t size, int type, uint32_t seq, int ifindex, const struct nladdr *a)
{
        if (!buf || size < (size_t)MNL_SOCKET_BUFFER_SIZE || ifindex < 0)
                return -EINVAL;
        if (type != RTM_GETADDR &&
            (type != RTM_NEWADDR && type != RTM_DELADDR ? true
             : !a || (a->family != AF_INET && a->family != AF_INET6) || a->prefixlen < 0 ||
                       a->prefixlen > (int)addr_size(a->family) * 8 || ifindex == 0))
                return -EINVAL;

        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = (uint16_t)type;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        if (type == RTM_NEWADDR)
                nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
        if (type == RTM_GETADDR)
                nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = seq;
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        if (type == RTM_GETADDR) {
                ifa->ifa_family = AF_UNSPEC;
                return (int)nlh->nlmsg_len;
        }
        ifa->ifa_family = (unsigned char)a->family;
        ifa->ifa_prefixlen = (unsigned char)a->prefixlen;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (unsigned)ifindex;
        if (a->family == AF_INET6)
                ifa->ifa_flags = IFA_F_NODAD;   /* usable at once; lo does no DAD anyway */
        /* As `ip addr add`: IPv4 carries the local address in both (a /32 on lo has no peer). */
        if (a->family == AF_INET)
                mnl_attr_put(nlh, IFA_LOCAL, 4, a->addr);
        mnl_attr_put(nlh, IFA_ADDRESS, addr_size(a->family), a->addr);
        return (int)nlh->nlmsg_len;
}

struct attrs {
        const struct nlattr *local;
        const struct nlattr *address;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
        struct attrs *t = data;
        switch (mnl_attr_get_type(attr)) {
        case IFA_LOCAL:
                t->local = attr;
                break;
        case IFA_ADDRESS:
                t->address = attr;
                break;
        default:
                break;
        }
        return MNL_CB_OK;
}

int nladdr_parse(const struct nlmsghdr *nlh, struct nladdr_msg *out)
{
        if (!nlh || !out)
                return -EINVAL;
        if (nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR)
                return -ENOMSG;
        if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct ifaddrmsg))
                return -EBADMSG;
        const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
                return -ENOMSG;
        struct attrs t = { 0 };
        if (mnl_attr_parse(nlh, sizeof(*ifa), attr_cb, &t) < 0)
                return -EBADMSG;
        /* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on a point-to-point IPv4 link. */
        const struct nlattr *at = t.local ? t.local : t.address;
        size_t n = addr_size(ifa->ifa_family);
        if (!at || mnl_attr_get_payload_len(at) != n || ifa->ifa_prefixlen > n * 8)
                return -EBADMSG;
        memset(out, 0, sizeof(*out));
        out->type = nlh->nlmsg_type;
        out->ifindex = (int)ifa->ifa_index;
        out->a.family = ifa->ifa_family;
        out->a.prefixlen = ifa->ifa_prefixlen;
        memcpy(out->a.addr, mnl_attr_get_payload(at), n);
        return 0;
}

int nladdr_sock_open(bool subscribe, struct nladdr_sock **out)
{
        struct nladdr_sock *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (!s->nl) {
                int r = -errno;
                free(s);
                return r;
        }
        unsigned groups = subscribe ? RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR : 0;
        if (mnl_socket_bind(s->nl, groups, MNL_SOCKET_AUTOPID) < 0) {
                int r = -errno;
                nladdr_sock_close(s);
                return r;
        }
        s->portid = mnl_socket_get_portid(s->nl);
        s->seq = (uint32_t)time(NULL);
        *out = s;
        return 0;
}

struct nladdr_sock *nladdr_sock_close(struct nladdr_sock *s)
{
        if (!s)
                return NULL;
        if (s->nl)
                mnl_socket_close(s->nl);
        free(s);
        return NULL;
}

int nladdr_sock_fd(const struct nladdr_sock *s)
{
        return mnl_socket_get_fd(s->nl);
}

/* One datagram, believed only when the kernel (port 0) sent it. Its length, 0 for one to ignore, or -errno. */
static ssize_t recv_kernel(struct nladdr_sock *s)
{
        struct sockaddr_nl from;
        struct iovec iov = { .iov_base = s->buf, .iov_len = sizeof(s->buf) };
        struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n = recvmsg(nladdr_sock_fd(s), &msg, MSG_DONTWAIT);
        if (n < 0)
                return -errno;
        if (msg.msg_namelen != sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
                return 0;
        if (msg.msg_flags & MSG_TRUNC)
                return -EMSGSIZE;
        if (!nladdr_datagram_ok(s->buf, (size_t)n))
                return -EBADMSG;
        return n;
}

bool nladdr_datagram_ok(const void *buf, size_t n)
{
        size_t off = 0;
        while (n - off >= sizeof(struct nlmsghdr)) {
                const struct nlmsghdr *h = (const struct nlmsghdr *)((const char *)buf + off);
                /* Aligned, as the kernel pads each message: libmnl walks attributes up to the aligned end. */
                if (h->nlmsg_len < sizeof(struct nlmsghdr) || h->nlmsg_len > n - off ||
                    NLMSG_ALIGN(h->nlmsg_len) > n - off)
                        return false;
                off += NLMSG_ALIGN(h->nlmsg_len);
        }
        return true;
}

struct run {
        nladdr_cb cb;
        void *userdata;
};

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
        struct run *x = data;
        struct nladdr_msg m;
        if (x && x->cb && nladdr_parse(nlh, &m) == 0)
                x->cb(&m, x->userdata);
        return MNL_CB_OK;
}

/* Sends the request in s->buf and runs the kernel's answer to its end (the ack, or NLMSG_DONE). */
static int transact(struct nladdr_sock *s, size_t len, struct run *x)
{
        uint32_t seq = ((struct nlmsghdr *)(void *)s->buf)->nlmsg_seq;
        if (mnl_socket_sendto(s->nl, s->buf, len) < 0)
                return -errno;
        for (;;) {
                ssize_t n = recv_kernel(s);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        continue;
                int r = mnl_cb_run(s->buf, (size_t)n, seq, s->portid, data_cb, x);
                if (r == MNL_CB_ERROR)
                        return errno ? -errno : -EIO;
                if (r == MNL_CB_STOP)
                        return 0;
        }
}

int nladdr_request(struct nladdr_sock *s, int type, int ifindex, const struct nladdr *a)
{
        if (!s || (type != RTM_NEWADDR && type != RTM_DELADDR))
                return -EINVAL;
        int len = nladdr_build(s->buf, sizeof(s->buf), type, ++s->seq, ifindex, a);
        if (len < 0)
                return len;
        return transact(s, (size_t)len, NULL);
}

int nladdr_dump(struct nladdr_sock *s, nladdr_cb cb, void *userdata)
{
        struct run x = { .cb = cb, .userdata = userdata };
        if (!s)
                return -EINVAL;
        int len = nladdr_build(s->buf, sizeof(s->buf), RTM_GETADDR, ++s->seq, 0, NULL);
        if (len < 0)
                return len;
        return transact(s, (size_t)len, &x);
}

int nladdr_read(struct nladdr_sock *s, nladdr_cb cb, void *userdata)
{
        struct run x = { .cb = cb, .userdata = userdata };
        if (!s)
                return -EINVAL;
        for (;;) {
                ssize_t n = recv_kernel(s);
                if (n == -EAGAIN || n == -EWOULDBLOCK)
                        return 0;
                if (n < 0)
                        return (int)n;
                if (n > 0 && mnl_cb_run(s->buf, (size_t)n, 0, 0, data_cb, &x) == MNL_CB_ERROR && errno == ENOBUFS)
                        return -ENOBUFS;
        }
}
