/* Unit tests for lib/ifaddr.c: loopback in this namespace, and real addresses in a private one when root. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ifaddr.h"
#include "unit.h"

/* prefix_parse_shared refuses loopback (never announced), so tests build such prefixes by hand. */
static struct prefix raw(int family, const char *addr, int len)
{
        struct prefix p;
        memset(&p, 0, sizeof(p));
        p.family = family;
        p.len = len;
        ck_assert_int_eq(inet_pton(family, addr, p.addr), 1);
        snprintf(p.text, sizeof(p.text), "%s/%d", addr, len);
        return p;
}

static struct prefix shared(const char *s)
{
        struct prefix p;
        ck_assert_int_ge(prefix_parse_shared(s, &p), 0);
        return p;
}

START_TEST(test_ifaddr_loopback)
{
        struct prefix p[] = {
                raw(AF_INET, "127.0.0.1", 32),
                shared("192.0.2.250"),
                raw(AF_INET, "127.0.0.2", 32),   /* inside lo's 127/8, but not lo's address: /32 means exact */
                shared("2001:db8:e001:ffff::/64"),
        };
        bool assigned[4] = { false, true, true, true };

        ck_assert_int_eq(ifaddr_check(p, 4, assigned), 3);
        ck_assert(assigned[0]);
        ck_assert(!assigned[1]);
        ck_assert(!assigned[2]);
        ck_assert(!assigned[3]);
        ck_assert_int_eq(ifaddr_check(NULL, 0, NULL), 0);
        ck_assert_int_eq(ifaddr_check(NULL, 1, assigned), -EINVAL);
}
END_TEST

START_TEST(test_ifaddr_loopback6)
{
        /* ::1 exists only when IPv6 is enabled on lo; it is a /128: ::1/128 is it, ::/64 needs a /64 address. */
        struct prefix p[] = { raw(AF_INET6, "::", 64), raw(AF_INET6, "::1", 128), raw(AF_INET6, "::2", 128) };
        bool assigned[3];
        FILE *f = fopen("/proc/net/if_inet6", "re");
        char line[256];
        bool have = false;

        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "00000000000000000000000000000001 ", 33) == 0)
                        have = true;
        if (f)
                fclose(f);
        if (!have) {
                fprintf(stderr, "ifaddr: no ::1 on lo here, IPv6 loopback case skipped\n");
                return;
        }
        ck_assert_int_eq(ifaddr_check(p, 3, assigned), 2);
        ck_assert(!assigned[0]);
        ck_assert(assigned[1]);
        ck_assert(!assigned[2]);
}
END_TEST

/* Runs /sbin/ip with argv (no shell); returns its exit status or -1. */
static int run_ip(char *const argv[])
{
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                execv(argv[0], argv);
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Child: the verdicts of one run in a fresh network namespace, as an exit code (0 all good, 77 skip). */
static int netns_child(void)
{
        static const char *const ip_paths[] = { "/sbin/ip", "/usr/sbin/ip", "/bin/ip", "/usr/bin/ip" };
        const char *ip = NULL;

        for (size_t i = 0; i < sizeof(ip_paths) / sizeof(ip_paths[0]) && !ip; i++)
                if (access(ip_paths[i], X_OK) == 0)
                        ip = ip_paths[i];
        if (!ip || unshare(CLONE_NEWNET) < 0)
                return 77;

        char *up[] = { (char *)ip, "link", "set", "lo", "up", NULL };
        char *a4[] = { (char *)ip, "addr", "add", "198.51.100.10/32", "dev", "lo", NULL };
        char *a6[] = { (char *)ip, "-6", "addr", "add", "2001:db8:e001:1b8c::1/64", "dev", "lo", "nodad", NULL };
        /* The README's warning: a /128 inside a /64 gives no connected /64 route and FRR announces nothing. */
        char *h6[] = { (char *)ip, "-6", "addr", "add", "2001:db8:e001:1b8e::1/128", "dev", "lo", "nodad", NULL };
        if (run_ip(up) != 0 || run_ip(a4) != 0)
                return 10;
        /* IPv6 may be disabled in this kernel: then only IPv4 is checked. */
        bool v6 = run_ip(a6) == 0 && run_ip(h6) == 0;

        /* No ck_assert in this child: Check's failure path belongs to the test process. */
        static const char *const text[] = {
                "198.51.100.10",                /* 0: exactly there */
                "198.51.100.11",                /* 1: a neighbour, not there */
                "2001:db8:e001:1b8c::/64",      /* 2: holds ::1 */
                "2001:db8:e001:1b8d::/64",      /* 3: next /64, not there */
                "2001:db8:e001:1b00::/56",      /* 4: holds ::1/64, but no connected /56 route */
                "2001:db8:e001:1c00::/56",      /* 5: another /56 */
                "2001:db8:e001:1b8e::/64",      /* 6: only ::1/128 inside: not assigned */
        };
        struct prefix p[7];
        for (int i = 0; i < 7; i++)
                if (prefix_parse_shared(text[i], &p[i]) < 0)
                        return 12;
        bool want[] = { true, false, v6, false, false, false, false };
        bool got[7];
        if (ifaddr_check(p, 7, got) != (v6 ? 5 : 6))
                return 11;
        for (int i = 0; i < 7; i++)
                if (got[i] != want[i])
                        return 20 + i;
        if (!v6)
                return 78;
        /* Say why: the address that is there, with its length and interface. */
        char near[128];
        if (ifaddr_near_miss(&p[6], near, sizeof(near)) != 1 || strcmp(near, "2001:db8:e001:1b8e::1/128 on lo") != 0)
                return 30;
        /* The /56 holds both (::1/64 and 1b8e::1/128): either is named. */
        if (ifaddr_near_miss(&p[4], near, sizeof(near)) != 1 || strncmp(near, "2001:db8:e001:1b8", 17) != 0)
                return 31;
        if (ifaddr_near_miss(&p[5], near, sizeof(near)) != 0 || ifaddr_near_miss(&p[0], near, sizeof(near)) != 0)
                return 32;
        return 0;
}

START_TEST(test_ifaddr_netns)
{
        if (geteuid() != 0) {
                fprintf(stderr, "ifaddr: not root, network-namespace case skipped\n");
                return;
        }
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
                _exit(netns_child());
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        int code = WEXITSTATUS(status);
        if (code == 77) {
                fprintf(stderr, "ifaddr: cannot unshare a network namespace here, case skipped\n");
                return;
        }
        if (code == 78) {
                fprintf(stderr, "ifaddr: IPv6 unavailable in the namespace, IPv4 checked only\n");
                return;
        }
        ck_assert_msg(code == 0, "netns child failed with code %d (10 setup, 11 count, 12 parse, 20+i prefix i, 30+ near miss)", code);
}
END_TEST

Suite *ifaddr_suite(void)
{
        Suite *s = suite_create("ifaddr");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_ifaddr_loopback);
        tcase_add_test(tc, test_ifaddr_loopback6);
        tcase_add_test(tc, test_ifaddr_netns);
        suite_add_tcase(s, tc);
        return s;
}
