/* Unit tests for lib/nladdr.c: the form FRR needs, message building and parsing, and the sockets against the
 * kernel in a network namespace of the test's own. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "nladdr.h"
#include "unit.h"

static struct nladdr form(const char *shared)
{
        struct prefix p;
        struct nladdr a;
        ck_assert_int_ge(prefix_parse_shared(shared, &p), 0);
        ck_assert_int_eq(nladdr_form(&p, &a), 0);
        return a;
}

START_TEST(test_nladdr_form)
{
        char t[80];
        struct nladdr a = form("198.51.100.10");
        ck_assert_str_eq(nladdr_text(&a, t, sizeof(t)), "198.51.100.10/32");
        /* IPv6: an address inside the prefix with the prefix's length (a /128 leaves bgpd's route invalid). */
        a = form("2001:db8:e001:1b8c::/64");
        ck_assert_str_eq(nladdr_text(&a, t, sizeof(t)), "2001:db8:e001:1b8c::1/64");
        a = form("2001:db8:e001:1b00::/56");
        ck_assert_str_eq(nladdr_text(&a, t, sizeof(t)), "2001:db8:e001:1b00::1/56");
        struct prefix bad = { .family = AF_INET6, .len = 128 };
        ck_assert_int_eq(nladdr_form(&bad, &a), -EINVAL);
        bad.family = AF_UNIX;
        ck_assert_int_eq(nladdr_form(&bad, &a), -EINVAL);
        struct nladdr b = form("2001:db8:e001:1b8c::/64");
        a = form("2001:db8:e001:1b8c::/64");
        ck_assert(nladdr_equal(&a, &b));
        b.prefixlen = 128;
        ck_assert(!nladdr_equal(&a, &b));
}
END_TEST

START_TEST(test_nladdr_build_parse)
{
        static char buf[8192];
        static const char *const cases[] = { "198.51.100.10", "2001:db8:e001:1b8c::/64" };
        for (size_t i = 0; i < 2; i++) {
                struct nladdr a = form(cases[i]);
                for (int type = RTM_NEWADDR; type <= RTM_DELADDR; type++) {
                        int len = nladdr_build(buf, sizeof(buf), type, 7, 1, &a);
                        ck_assert_int_gt(len, 0);
                        struct nlmsghdr *nlh = (struct nlmsghdr *)(void *)buf;
                        ck_assert_int_eq(nlh->nlmsg_len, len);
                        ck_assert_int_eq(nlh->nlmsg_seq, 7);
                        ck_assert(nlh->nlmsg_flags & NLM_F_ACK);
                        ck_assert_int_eq(!!(nlh->nlmsg_flags & NLM_F_EXCL), type == RTM_NEWADDR);
                        struct nladdr_msg m;
                        ck_assert_int_eq(nladdr_parse(nlh, &m), 0);
                        ck_assert_int_eq(m.type, type);
                        ck_assert_int_eq(m.ifindex, 1);
                        ck_assert(nladdr_equal(&m.a, &a));
                        /* Truncated: the header says fewer bytes than the address needs. */
                        nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 2;
                        ck_assert_int_eq(nladdr_parse(nlh, &m), -EBADMSG);
                        nlh->nlmsg_len = (unsigned)len;
                        /* An attribute of the wrong length (IPv4 in an IPv6 message, say) is refused. */
                        struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
                        ifa->ifa_family = a.family == AF_INET ? AF_INET6 : AF_INET;
                        ck_assert_int_eq(nladdr_parse(nlh, &m), -EBADMSG);
                        ifa->ifa_family = AF_PACKET;
                        ck_assert_int_eq(nladdr_parse(nlh, &m), -ENOMSG);
                }
        }
        struct nladdr a = form("198.51.100.10");
        ck_assert_int_eq(nladdr_build(buf, sizeof(buf), RTM_NEWADDR, 1, 0, &a), -EINVAL);   /* no interface */
        ck_assert_int_eq(nladdr_build(buf, sizeof(buf), RTM_NEWADDR, 1, 1, NULL), -EINVAL);
        ck_assert_int_eq(nladdr_build(buf, 16, RTM_NEWADDR, 1, 1, &a), -EINVAL);
        ck_assert_int_eq(nladdr_build(buf, sizeof(buf), RTM_NEWLINK, 1, 1, &a), -EINVAL);
        a.prefixlen = 33;
        ck_assert_int_eq(nladdr_build(buf, sizeof(buf), RTM_NEWADDR, 1, 1, &a), -EINVAL);
        ck_assert_int_gt(nladdr_build(buf, sizeof(buf), RTM_GETADDR, 1, 0, NULL), 0);
        struct nlmsghdr *nlh = (struct nlmsghdr *)(void *)buf;
        struct nladdr_msg m;
        ck_assert_int_eq(nladdr_parse(nlh, &m), -ENOMSG);
}
END_TEST

static int walk_cb(const struct nlmsghdr *nlh, void *userdata)
{
        struct nladdr_msg m;
        (void)userdata;
        (void)nladdr_parse(nlh, &m);
        return MNL_CB_OK;
}

/* Datagrams libmnl would walk out of the buffer (test/fuzz/fuzz_nladdr.c found them) are refused first; every
 * input the fuzzer once crashed on (test/fixtures/regress/nladdr) goes through the reader's path. */
START_TEST(test_nladdr_hostile_datagrams)
{
        static char buf[8192] __attribute__((aligned(8)));
        struct nladdr a = form("198.51.100.10");
        int len = nladdr_build(buf, sizeof(buf), RTM_NEWADDR, 1, 1, &a);
        struct nlmsghdr *nlh = (struct nlmsghdr *)(void *)buf;
        ck_assert(nladdr_datagram_ok(buf, (size_t)len));
        ck_assert(nladdr_datagram_ok(buf, 0));
        nlh->nlmsg_len = 0xffff0028;                    /* negative as libmnl's int */
        ck_assert(!nladdr_datagram_ok(buf, (size_t)len));
        nlh->nlmsg_len = (unsigned)len + 1;             /* beyond the datagram */
        ck_assert(!nladdr_datagram_ok(buf, (size_t)len));
        nlh->nlmsg_len = (unsigned)len - 1;             /* its padding beyond the datagram */
        ck_assert(!nladdr_datagram_ok(buf, (size_t)len - 1));
        nlh->nlmsg_len = 8;                             /* shorter than its own header */
        ck_assert(!nladdr_datagram_ok(buf, (size_t)len));

        DIR *d = opendir(TEST_DIR "/fixtures/regress/nladdr");
        struct dirent *e;
        size_t n = 0;
        ck_assert_ptr_nonnull(d);
        while ((e = readdir(d))) {
                char path[1024];
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), TEST_DIR "/fixtures/regress/nladdr/%s", e->d_name);
                FILE *f = fopen(path, "rb");
                ck_assert_ptr_nonnull(f);
                size_t got = fread(buf, 1, sizeof(buf), f);
                fclose(f);
                if (nladdr_datagram_ok(buf, got))
                        mnl_cb_run(buf, got, 0, 0, walk_cb, NULL);
                n++;
        }
        closedir(d);
        ck_assert_uint_ge(n, 2);
}
END_TEST

struct seen {
        int news, dels;
        struct nladdr want;
        int ifindex;
};

static void count(const struct nladdr_msg *m, void *userdata)
{
        struct seen *s = userdata;
        if (m->ifindex != s->ifindex || !nladdr_equal(&m->a, &s->want))
                return;
        s->news += m->type == RTM_NEWADDR;
        s->dels += m->type == RTM_DELADDR;
}

/* No ck_assert in the child: it exits with the line that failed (0: all good, 77: no namespace here). */
#define REQ(x) do { if (!(x)) { fprintf(stderr, "nladdr netns: %s failed\n", #x); return __LINE__ % 250 + 1; } } while (0)

/* Reads notifications until want_news and want_dels were seen (at most 5 s): IPv6 announces a new address
 * from the kernel's DAD work, after the request has returned. */
static bool read_until(struct nladdr_sock *sub, struct seen *s, int want_news, int want_dels)
{
        for (int i = 0; i < 500; i++) {
                if (nladdr_read(sub, count, s) != 0)
                        return false;
                if (s->news >= want_news && s->dels >= want_dels)
                        return s->news == want_news && s->dels == want_dels;
                struct pollfd p = { .fd = nladdr_sock_fd(sub), .events = POLLIN };
                poll(&p, 1, 10);
        }
        return false;
}

static int one_address(struct nladdr_sock *req, struct nladdr_sock *sub, int lo, const char *shared)
{
        struct seen s = { .want = form(shared), .ifindex = lo };
        REQ(nladdr_request(req, RTM_NEWADDR, lo, &s.want) == 0);
        REQ(nladdr_request(req, RTM_NEWADDR, lo, &s.want) == -EEXIST);
        REQ(nladdr_dump(req, count, &s) == 0 && s.news == 1);
        s.news = 0;
        REQ(read_until(sub, &s, 1, 0));
        REQ(nladdr_request(req, RTM_DELADDR, lo, &s.want) == 0);
        REQ(read_until(sub, &s, 1, 1));
        REQ(nladdr_request(req, RTM_DELADDR, lo, &s.want) == -EADDRNOTAVAIL);
        s.news = 0;
        REQ(nladdr_dump(req, count, &s) == 0 && s.news == 0);
        return 0;
}

static int netns_child(void)
{
        struct nladdr_sock *req = NULL, *sub = NULL;
        if (unshare(CLONE_NEWNET) < 0)
                return 77;
        REQ(unit_lo_up() == 0);
        int lo = (int)if_nametoindex("lo");
        REQ(lo > 0);
        REQ(nladdr_sock_open(false, &req) == 0);
        REQ(nladdr_sock_open(true, &sub) == 0);
        REQ(nladdr_read(sub, count, &(struct seen){ 0 }) == 0);        /* nothing queued: returns at once */
        int r = one_address(req, sub, lo, "198.51.100.10");
        if (r == 0 && access("/proc/sys/net/ipv6", F_OK) == 0)
                r = one_address(req, sub, lo, "2001:db8:e001:1b8c::/64");
        nladdr_sock_close(req);
        nladdr_sock_close(sub);
        return r;
}

START_TEST(test_nladdr_netns)
{
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
                _exit(netns_child());
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77) {
                fprintf(stderr, "nladdr: no network namespace here (not root?), skipped\n");
                return;
        }
        ck_assert_msg(WEXITSTATUS(status) == 0, "netns child failed (code %d, see stderr)", WEXITSTATUS(status));
}
END_TEST

Suite *nladdr_suite(void)
{
        Suite *s = suite_create("nladdr");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_nladdr_form);
        tcase_add_test(tc, test_nladdr_build_parse);
        tcase_add_test(tc, test_nladdr_hostile_datagrams);
        tcase_add_test(tc, test_nladdr_netns);
        suite_add_tcase(s, tc);
        return s;
}
