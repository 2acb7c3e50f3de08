/* Unit tests for lib/prefix.c: shared-address parsing, canonical text, host bits, validators. */
#include <arpa/inet.h>
#include <string.h>

#include "unit.h"

#include "prefix.h"

static void parses(const char *in, enum prefix_result want, const char *text, int family, int len)
{
        struct prefix p;
        enum prefix_result r = prefix_parse_shared(in, &p);
        ck_assert_msg(r == want, "%s: got %d, want %d", in, r, want);
        ck_assert_str_eq(p.text, text);
        ck_assert_int_eq(p.family, family);
        ck_assert_int_eq(p.len, len);
}

static void fails(const char *in, enum prefix_result want)
{
        struct prefix p;
        enum prefix_result r = prefix_parse_shared(in, &p);
        ck_assert_msg(r == want, "%s: got %d, want %d", in, r, want);
}

START_TEST(test_ipv4)
{
        parses("198.51.100.10", PREFIX_OK, "198.51.100.10/32", AF_INET, 32);
        parses("198.51.100.10/32", PREFIX_OK, "198.51.100.10/32", AF_INET, 32);
        parses("198.51.100.10/032", PREFIX_OK, "198.51.100.10/32", AF_INET, 32);
        parses("203.0.113.1", PREFIX_OK, "203.0.113.1/32", AF_INET, 32);
        fails("198.51.100.0/24", PREFIX_EBADLEN4);
        fails("198.51.100.10/31", PREFIX_EBADLEN4);
        fails("198.51.100.10/0", PREFIX_EBADLEN4);
        fails("198.51.100.10/33", PREFIX_EBADLEN4);
        fails("198.51.100.10/128", PREFIX_EBADLEN4);
}
END_TEST

START_TEST(test_ipv6)
{
        parses("2001:db8:e001:1b8c::", PREFIX_OK, "2001:db8:e001:1b8c::/64", AF_INET6, 64);
        parses("2001:db8:e001:1b8c::/64", PREFIX_OK, "2001:db8:e001:1b8c::/64", AF_INET6, 64);
        parses("2001:DB8:E001:1B8C:0:0:0:0/64", PREFIX_OK, "2001:db8:e001:1b8c::/64", AF_INET6, 64);
        parses("2001:db8:e000::/56", PREFIX_OK, "2001:db8:e000::/56", AF_INET6, 56);
        fails("2001:db8::/48", PREFIX_EBADLEN6);
        fails("2001:db8::/63", PREFIX_EBADLEN6);
        fails("2001:db8::/128", PREFIX_EBADLEN6);
        fails("2001:db8::/129", PREFIX_EBADADDR);
}
END_TEST

START_TEST(test_host_bits)
{
        struct prefix p;
        parses("2001:db8:e001:1b8c::1/64", PREFIX_HOSTBITS, "2001:db8:e001:1b8c::/64", AF_INET6, 64);
        parses("2001:db8:e001:1b8c::1", PREFIX_HOSTBITS, "2001:db8:e001:1b8c::/64", AF_INET6, 64);
        parses("2001:db8:e001:1bff::/56", PREFIX_HOSTBITS, "2001:db8:e001:1b00::/56", AF_INET6, 56);
        parses("2001:db8:e001:1b00:ffff::/56", PREFIX_HOSTBITS, "2001:db8:e001:1b00::/56", AF_INET6, 56);
        ck_assert_int_eq(prefix_parse_shared("2001:db8:e001:1b8c::1/64", &p), PREFIX_HOSTBITS);
        static const unsigned char want[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xe0, 0x01, 0x1b, 0x8c };
        ck_assert_int_eq(memcmp(p.addr, want, 16), 0);
}
END_TEST

START_TEST(test_not_addresses)
{
        const char *bad[] = {
                "", "/32", "198.51.100.10/", "198.51.100.10/abc", "198.51.100.10/-1", "198.51.100.10/+32",
                "198.51.100.10/32x", "198.51.100.10/32/32", "198.51.100.10 ", " 198.51.100.10", "198.51.100",
                "198.51.100.256", "198.051.100.10", "2001:db8::/0064", "2001:db8:::1", "2001:db8::1%eth0",
                "atl-bgp-1", "198.51.100.10\n", "0x7f.1",
                "2001:0db8:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/64",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                fails(bad[i], PREFIX_EBADADDR);
}
END_TEST

START_TEST(test_scope)
{
        const char *bad[] = {
                "0.0.0.0", "0.1.2.3", "127.0.0.1", "169.254.1.1", "224.0.0.5", "239.1.1.1", "240.0.0.1",
                "255.255.255.255", "::", "::1", "::/56", "::ffff:198.51.100.10", "fe80::1", "febf:1::/64", "ff02::1",
                "ff00::/56",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                fails(bad[i], PREFIX_EBADSCOPE);
        /* the neighbours of the rejected ranges are fine */
        parses("1.0.0.1", PREFIX_OK, "1.0.0.1/32", AF_INET, 32);
        parses("223.255.255.1", PREFIX_OK, "223.255.255.1/32", AF_INET, 32);
        parses("169.253.1.1", PREFIX_OK, "169.253.1.1/32", AF_INET, 32);
        parses("fec0::/64", PREFIX_OK, "fec0::/64", AF_INET6, 64);
        parses("0:0:0:1::/64", PREFIX_OK, "0:0:0:1::/64", AF_INET6, 64);
}
END_TEST

START_TEST(test_strerror)
{
        ck_assert_str_eq(prefix_strerror(PREFIX_OK), "ok");
        ck_assert_str_eq(prefix_strerror(PREFIX_HOSTBITS), "host bits set");
        ck_assert_str_eq(prefix_strerror(PREFIX_EBADADDR), "not an IPv4 or IPv6 address");
        ck_assert_str_eq(prefix_strerror(PREFIX_EBADLEN4), "IPv4 prefix must be /32");
        ck_assert_str_eq(prefix_strerror(PREFIX_EBADLEN6), "IPv6 prefix must be /56 or /64");
        ck_assert_str_eq(prefix_strerror(PREFIX_EBADSCOPE),
                         "not a unicast address that can be announced (loopback, link-local, multicast or unspecified)");
        ck_assert_str_eq(prefix_strerror((enum prefix_result)42), "invalid");
}
END_TEST

START_TEST(test_host_equal)
{
        struct prefix p4, p6;
        unsigned char a[16];

        ck_assert_int_eq(prefix_parse_shared("198.51.100.10", &p4), PREFIX_OK);
        ck_assert_int_eq(prefix_parse_shared("2001:db8:e001:1b8c::/64", &p6), PREFIX_OK);
        ck_assert_int_eq(inet_pton(AF_INET, "198.51.100.10", a), 1);
        ck_assert(prefix_host_equal(&p4, AF_INET, a));
        ck_assert(!prefix_host_equal(&p6, AF_INET, a));
        ck_assert_int_eq(inet_pton(AF_INET, "198.51.100.11", a), 1);
        ck_assert(!prefix_host_equal(&p4, AF_INET, a));
        ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8:e001:1b8c::", a), 1);
        ck_assert(prefix_host_equal(&p6, AF_INET6, a));
        ck_assert(!prefix_host_equal(&p4, AF_INET6, a));
        ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8:e001:1b8c::1", a), 1);
        ck_assert(!prefix_host_equal(&p6, AF_INET6, a));
}
END_TEST

START_TEST(test_addr_valid)
{
        ck_assert(addr_valid("192.0.2.1"));
        ck_assert(addr_valid("2600:3c0f:4:34::1"));
        ck_assert(!addr_valid("192.0.2.1/32"));
        ck_assert(!addr_valid(""));
        ck_assert(!addr_valid(NULL));
        ck_assert(!addr_valid("192.0.2.1 "));
        ck_assert(addr_valid4("192.0.2.101"));
        ck_assert(!addr_valid4("2001:db8::1"));
        ck_assert(!addr_valid4(NULL));
        ck_assert(!addr_valid4("192.0.2"));
}
END_TEST

Suite *prefix_suite(void)
{
        Suite *s = suite_create("prefix");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, test_ipv4);
        tcase_add_test(tc, test_ipv6);
        tcase_add_test(tc, test_host_bits);
        tcase_add_test(tc, test_not_addresses);
        tcase_add_test(tc, test_scope);
        tcase_add_test(tc, test_strerror);
        tcase_add_test(tc, test_host_equal);
        tcase_add_test(tc, test_addr_valid);
        suite_add_tcase(s, tc);
        return s;
}
