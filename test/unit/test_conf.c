/* Unit tests for lib/conf*.c: every error path with its exact message, defaults, conf.d scanning, the example. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "unit.h"

#include "check_native.h"
#include "conf.h"
#include "conf_checks.h"
#include "conf_valid.h"
#include "proc.h"

/* Three lines, so that a key added after BASE is on line 4. */
#define BASE "role = \"primary\";\ndatacenter = 4;\nshared_ips = [\"198.51.100.10\"];\n"

#define SCRIPT "#!/bin/sh\nexit 0\n"

static char *tdir;
static struct diag d;
static struct conf *c;

static void setup(void)
{
        tdir = unit_tmpdir();
        diag_init(&d);
        c = NULL;
}

static void teardown(void)
{
        c = conf_free(c);
        diag_free(&d);
        unit_rmrf(tdir);
        free(tdir);
        tdir = NULL;
}

/* Replaces every @DIR@ in text by the test's directory; returns a malloc'd string. */
static char *subst(const char *text)
{
        struct buf b;
        buf_init(&b);
        for (const char *p = text; *p;) {
                const char *m = strstr(p, "@DIR@");
                if (!m) {
                        buf_puts(&b, p);
                        break;
                }
                buf_append(&b, p, (size_t)(m - p));
                buf_puts(&b, tdir);
                p = m + 5;
        }
        return buf_steal(&b);
}

/* Writes text as TDIR/failoverd.conf and loads it. Without a checks group, checks come from TDIR/conf.d
 * (appended last, so line numbers of text are kept). */
static int load(const char *text)
{
        struct buf b;
        buf_init(&b);
        buf_puts(&b, text);
        if (!strstr(text, "checks"))
                buf_puts(&b, "\nchecks = { directory = \"@DIR@/conf.d\"; };\n");
        char *body = subst(b.data);
        char *path = unit_write(tdir, "failoverd.conf", body, 0644);
        c = conf_free(c);
        int r = conf_load(path, &c, &d);
        ck_assert_int_eq(r < 0, c == NULL);
        free(path);
        free(body);
        buf_free(&b);
        return r;
}

static void mkdir_in(const char *name)
{
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", tdir, name);
        ck_assert_int_eq(mkdir(p, 0755), 0);
}

static void write_in(const char *name, const char *text, int mode)
{
        char *body = subst(text);
        free(unit_write(tdir, name, body, mode));
        free(body);
}

static char *dump(void)
{
        struct buf b;
        buf_init(&b);
        for (size_t i = 0; i < d.n; i++)
                buf_printf(&b, "\n  [%d] %s", d.msgs[i].level, d.msgs[i].text);
        return buf_steal(&b);
}

/* Asserts a message of that level whose text is exactly TDIR/ followed by suffix (after @DIR@ expansion). */
static void expect_lvl(enum diag_level lvl, const char *suffix)
{
        char *s = subst(suffix);
        struct buf want;
        buf_init(&want);
        if (s[0] == '/')
                buf_puts(&want, s);
        else
                buf_printf(&want, "%s/%s", tdir, s);
        bool found = false;
        for (size_t i = 0; i < d.n; i++)
                if (d.msgs[i].level == lvl && strcmp(d.msgs[i].text, want.data) == 0)
                        found = true;
        if (!found) {
                char *all = dump();
                ck_abort_msg("missing message (level %d): %s\ngot:%s", lvl, want.data, all);
        }
        buf_free(&want);
        free(s);
}

static size_t count_lvl(enum diag_level lvl)
{
        size_t n = 0;
        for (size_t i = 0; i < d.n; i++)
                n += d.msgs[i].level == lvl;
        return n;
}

static void expect_err(const char *suffix)
{
        expect_lvl(DIAG_ERROR, suffix);
}

/* Asserts that loading failed with exactly n errors. */
static void expect_errors(int r, size_t n)
{
        if (r != -EINVAL || d.n_errors != n) {
                char *all = dump();
                ck_abort_msg("expected -EINVAL with %zu errors, got %d with %zu:%s", n, r, d.n_errors, all);
        }
}

static void expect_ok(int r)
{
        if (r != 0 || d.n_errors != 0) {
                char *all = dump();
                ck_abort_msg("expected success, got %d with %zu errors:%s", r, d.n_errors, all);
        }
        ck_assert_ptr_nonnull(c);
}

/* Loads BASE plus one line (line 4) and expects exactly the one error message given. */
static void one_error(const char *line, const char *msg)
{
        char text[1024];
        snprintf(text, sizeof(text), BASE "%s\n", line);
        diag_free(&d);
        diag_init(&d);
        expect_errors(load(text), 1);
        expect_err(msg);
}

static void one_ok(const char *line)
{
        char text[1024];
        snprintf(text, sizeof(text), BASE "%s\n", line);
        diag_free(&d);
        diag_init(&d);
        expect_ok(load(text));
}

/* --- the whole file ---------------------------------------------------------------------------------- */

START_TEST(test_defaults)
{
        char host[256] = "";
        expect_ok(load(BASE));
        ck_assert_str_eq(c->path + strlen(tdir), "/failoverd.conf");
        ck_assert_int_eq(c->role, ROLE_PRIMARY);
        ck_assert_int_eq(c->datacenter, 4);
        ck_assert_uint_eq(c->n_shared_ips, 1);
        ck_assert_str_eq(c->shared_ips[0].text, "198.51.100.10/32");
        gethostname(host, sizeof(host) - 1);
        ck_assert_str_eq(c->hostname, host);
        ck_assert_int_eq(c->bgp.asn, 65001);
        ck_assert_ptr_null(c->bgp.router_id);
        ck_assert_uint_eq(strv_len(c->bgp.route_servers), 4);
        ck_assert_str_eq(c->bgp.route_servers[0], "2600:3c0f:4:34::1");
        ck_assert_str_eq(c->bgp.route_servers[3], "2600:3c0f:4:34::4");
        ck_assert_str_eq(c->bgp.neighbor_pattern, "2600:3c0f:%d:34::%d");
        ck_assert_int_eq(c->bgp.route_server_count, 4);
        ck_assert_int_eq(c->bgp.multihop, 10);
        ck_assert_int_eq(c->bgp.keepalive, 3);
        ck_assert_int_eq(c->bgp.holdtime, 9);
        ck_assert_int_eq(c->bgp.coalesce_time, 1000);
        ck_assert_str_eq(c->bgp.community_primary, "65000:1");
        ck_assert_str_eq(c->bgp.community_secondary, "65000:2");
        ck_assert_int_eq(c->bgp.demote_prepend, 3);
        ck_assert_double_eq(c->bgp.poll_interval, 2.0);
        ck_assert_str_eq(c->frr.config, "/etc/frr/frr.conf");
        ck_assert_str_eq(c->frr.vtysh, "/usr/bin/vtysh");
        ck_assert_str_eq(c->frr.reload, conf_frr_reload_default());
        /* This Debian machine has FRR's Debian layout (make deps installs frr-pythontools). */
        ck_assert_str_eq(conf_frr_reload_default(), access("/usr/libexec/frr/frr-reload.py", F_OK) == 0 &&
                                                    access("/usr/lib/frr/frr-reload.py", F_OK) != 0
                                                    ? "/usr/libexec/frr/frr-reload.py" : "/usr/lib/frr/frr-reload.py");
        ck_assert_str_eq(c->frr.pathspace, "");
        ck_assert_str_eq(c->frr.extra, "");
        ck_assert_ptr_null(c->frr.extra_text);
        ck_assert_double_eq(c->frr.timeout, 10.0);
        ck_assert_double_eq(c->checks.interval, 1.0);
        ck_assert_double_eq(c->checks.timeout, 1.0);
        ck_assert_int_eq(c->checks.rise, 3);
        ck_assert_int_eq(c->checks.fall, 2);
        ck_assert_ptr_null(c->checks.user);
        ck_assert_ptr_null(c->notify);
        ck_assert_ptr_null(c->metrics_file);
        ck_assert_str_eq(c->state_directory, "/var/lib/failoverd");
        ck_assert_str_eq(c->runtime_directory, "/run/failoverd");
        /* conf.d does not exist: a warning, and no checks (always healthy) */
        ck_assert_uint_eq(c->n_checks, 0);
        expect_lvl(DIAG_WARNING, "conf.d: no such directory: no health checks");
}
END_TEST

START_TEST(test_default_checks_directory)
{
        char *path = unit_write(tdir, "failoverd.conf", BASE, 0644);
        ck_assert_int_eq(conf_load(path, &c, &d), 0);
        ck_assert_str_eq(c->checks.directory, SYSCONFDIR "/failoverd/conf.d");
        free(path);
}
END_TEST

START_TEST(test_services_model)
{
        expect_ok(load("role = \"secondary\";\ndatacenter = 4;\n"
                       "shared_ips = [\"198.51.100.10\", \"2001:db8:e001:1b8c::/64\"];\n"));
        ck_assert_uint_eq(c->n_services, 1);
        ck_assert_str_eq(c->services[0].name, "default");
        ck_assert_int_eq(c->services[0].role, ROLE_SECONDARY);
        ck_assert_uint_eq(c->services[0].n_prefixes, 2);
        ck_assert_ptr_eq(c->services[0].prefixes, c->shared_ips);
        ck_assert_str_eq(c->services[0].prefixes[1].text, "2001:db8:e001:1b8c::/64");
}
END_TEST

START_TEST(test_unknown_keys)
{
        int r = load(BASE
                     "rolle = \"primary\";\n"
                     "bgp = {\n  asn = 65001;\n  keepalve = 3;\n"
                     "  communities = { primary = \"65000:1\"; secundary = \"65000:2\"; };\n};\n"
                     "frr = { vtysh = \"/usr/bin/vtysh\"; reload_cmd = \"/x\"; };\n"
                     "checks = { directory = \"@DIR@/conf.d\"; intervall = 1; };\n");
        expect_errors(r, 5);
        expect_err("failoverd.conf:4: rolle: unknown key");
        expect_err("failoverd.conf:7: bgp.keepalve: unknown key");
        expect_err("failoverd.conf:8: bgp.communities.secundary: unknown key");
        expect_err("failoverd.conf:10: frr.reload_cmd: unknown key");
        expect_err("failoverd.conf:11: checks.intervall: unknown key");
}
END_TEST

START_TEST(test_wrong_types)
{
        one_error("hostname = [\"a\"];", "failoverd.conf:4: hostname: must be a string, not a list");
        one_error("bgp = 5;", "failoverd.conf:4: bgp: must be a group { ... }");
        one_error("frr = \"x\";", "failoverd.conf:4: frr: must be a group { ... }");
        one_error("checks = [\"x\"];", "failoverd.conf:4: checks: must be a group { ... }");
        one_error("bgp = { asn = 1.5; };", "failoverd.conf:4: bgp.asn: must be an integer, not a number");
        one_error("bgp = { asn = \"65001\"; };", "failoverd.conf:4: bgp.asn: must be an integer, not a string");
        one_error("bgp = { multihop = true; };", "failoverd.conf:4: bgp.multihop: must be an integer, not a boolean");
        one_error("bgp = { route_servers = \"192.0.2.1\"; };",
                  "failoverd.conf:4: bgp.route_servers: must be a list of strings, not a string");
        one_error("bgp = { communities = \"65000:1\"; };",
                  "failoverd.conf:4: bgp.communities: must be a group { primary = ...; secondary = ...; }");
        one_error("bgp = { communities = { primary = 65000; }; };",
                  "failoverd.conf:4: bgp.communities.primary: must be a string, not an integer");
        one_error("bgp = { router_id = { a = 1; }; };", "failoverd.conf:4: bgp.router_id: must be a string, not a group");
        one_error("bgp = { poll_interval = \"2\"; };",
                  "failoverd.conf:4: bgp.poll_interval: must be a number of seconds, not a string");
        one_error("frr = { timeout = [1]; };", "failoverd.conf:4: frr.timeout: must be a number of seconds, not a list");
        one_error("checks = { directory = \"@DIR@/conf.d\"; rise = \"3\"; };",
                  "failoverd.conf:4: checks.rise: must be an integer, not a string");
        one_error("checks = { directory = 5; };", "failoverd.conf:4: checks.directory: must be a string, not an integer");
        one_error("metrics_file = false;", "failoverd.conf:4: metrics_file: must be a string, not a boolean");

        diag_free(&d);
        diag_init(&d);
        expect_errors(load("role = 1;\ndatacenter = \"4\";\nshared_ips = \"198.51.100.10\";\n"), 3);
        expect_err("failoverd.conf:1: role: must be a string, not an integer");
        expect_err("failoverd.conf:2: datacenter: must be an integer, not a string");
        expect_err("failoverd.conf:3: shared_ips: must be a list of strings, not a string");

        diag_free(&d);
        diag_init(&d);
        expect_errors(load("role = \"primary\";\ndatacenter = 4;\nshared_ips = (\"198.51.100.10\", 7, {});\n"), 2);
        expect_err("failoverd.conf:3: shared_ips[1]: must be a string, not an integer");
        expect_err("failoverd.conf:3: shared_ips[2]: must be a string, not a group");
}
END_TEST

START_TEST(test_role)
{
        expect_errors(load("datacenter = 4;\nshared_ips = [\"198.51.100.10\"];\n"), 1);
        expect_err("failoverd.conf: role: required key is missing (\"primary\" or \"secondary\")");

        diag_free(&d);
        diag_init(&d);
        expect_errors(load("role = \"backup\";\ndatacenter = 4;\nshared_ips = [\"198.51.100.10\"];\n"), 1);
        expect_err("failoverd.conf:1: role: \"backup\": must be \"primary\" or \"secondary\"");

        diag_free(&d);
        diag_init(&d);
        expect_ok(load("role = \"secondary\";\ndatacenter = 4;\nshared_ips = [\"198.51.100.10\"];\n"));
        ck_assert_int_eq(c->role, ROLE_SECONDARY);
}
END_TEST

START_TEST(test_shared_ips_missing_or_empty)
{
        expect_errors(load("role = \"primary\";\ndatacenter = 4;\n"), 1);
        expect_err("failoverd.conf: shared_ips: required key is missing");

        diag_free(&d);
        diag_init(&d);
        expect_errors(load("role = \"primary\";\ndatacenter = 4;\nshared_ips = [];\n"), 1);
        expect_err("failoverd.conf:3: shared_ips: must list at least one address");

        diag_free(&d);
        diag_init(&d);
        expect_errors(load("role = \"primary\";\ndatacenter = 4;\nshared_ips = ();\n"), 1);
        expect_err("failoverd.conf:3: shared_ips: must list at least one address");
}
END_TEST

START_TEST(test_datacenter_or_route_servers)
{
        expect_errors(load("role = \"primary\";\nshared_ips = [\"198.51.100.10\"];\n"), 1);
        expect_err("failoverd.conf: datacenter: required key is missing (or set bgp.route_servers)");

        /* present but invalid: its own error only, not also "missing" */
        diag_free(&d);
        diag_init(&d);
        expect_errors(load("role = \"primary\";\ndatacenter = -1;\nshared_ips = [\"198.51.100.10\"];\n"), 1);
        expect_err("failoverd.conf:2: datacenter: \"-1\": must be between 0 and 999999");

        diag_free(&d);
        diag_init(&d);
        expect_ok(load("role = \"primary\";\nshared_ips = [\"198.51.100.10\"];\n"
                       "bgp = { route_servers = [\"192.0.2.1\"]; };\n"));
        ck_assert_int_eq(c->datacenter, -1);
        ck_assert_uint_eq(strv_len(c->bgp.route_servers), 1);
}
END_TEST

START_TEST(test_syntax_error)
{
        /* libconfig: separators are optional, "= =" is not */
        expect_errors(load(BASE "bgp = {\n  asn = 65001\n  multihop = = 3;\n};\n"), 1);
        expect_err("failoverd.conf:6: syntax error");
        ck_assert_ptr_null(c);

        diag_free(&d);
        diag_init(&d);
        expect_errors(load(BASE "role = \"secondary\";\n"), 1);
        expect_err("failoverd.conf:4: syntax error: duplicate setting name");
}
END_TEST

START_TEST(test_unreadable)
{
        char p[512];
        snprintf(p, sizeof(p), "%s/nope.conf", tdir);
        ck_assert_int_eq(conf_load(p, &c, &d), -EINVAL);
        ck_assert_ptr_null(c);
        ck_assert_uint_eq(d.n_errors, 1);
        expect_err("nope.conf: cannot read: No such file or directory");

        diag_free(&d);
        diag_init(&d);
        ck_assert_int_eq(conf_load(tdir, &c, &d), -EINVAL);
        ck_assert_ptr_null(c);
        expect_err("@DIR@: cannot read: Is a directory");

        if (geteuid() != 0) {
                diag_free(&d);
                diag_init(&d);
                free(unit_write(tdir, "secret.conf", BASE, 0));
                snprintf(p, sizeof(p), "%s/secret.conf", tdir);
                ck_assert_int_eq(conf_load(p, &c, &d), -EINVAL);
                expect_err("secret.conf: cannot read: Permission denied");
        }
}
END_TEST

START_TEST(test_include_relative_to_file)
{
        write_in("bgp.inc", "bgp = { asn = 64512; };\n", 0644);
        expect_ok(load(BASE "@include \"bgp.inc\"\n"));
        ck_assert_int_eq(c->bgp.asn, 64512);

        /* messages name the included file */
        write_in("bgp.inc", "\nbgp = { asn = 0; };\n", 0644);
        diag_free(&d);
        diag_init(&d);
        expect_errors(load(BASE "@include \"bgp.inc\"\n"), 1);
        expect_err("@DIR@/bgp.inc:2: bgp.asn: \"0\": must be between 1 and 4294967295");
}
END_TEST

START_TEST(test_collects_all_errors)
{
        int r = load("role = \"master\";\n"
                     "datacenter = 4;\n"
                     "shared_ips = [\"198.51.100.10/24\"];\n"
                     "hostname = \"atl bgp\";\n"
                     "bgp = { asn = 0; communities = { primary = \"65000\"; }; };\n");
        expect_errors(r, 5);
        expect_err("failoverd.conf:1: role: \"master\": must be \"primary\" or \"secondary\"");
        expect_err("failoverd.conf:3: shared_ips[0]: \"198.51.100.10/24\": IPv4 prefix must be /32");
        expect_err("failoverd.conf:4: hostname: \"atl bgp\": not a valid host name (letters, digits, '-' and '.', "
                   "no white space)");
        expect_err("failoverd.conf:5: bgp.asn: \"0\": must be between 1 and 4294967295");
        expect_err("failoverd.conf:5: bgp.communities.primary: \"65000\": must be a community AA:NN (two numbers "
                   "0-65535)");
}
END_TEST

/* --- addresses --------------------------------------------------------------------------------------- */

START_TEST(test_shared_ips_errors)
{
        int r = load("role = \"primary\";\n"
                     "datacenter = 4;\n"
                     "\n"
                     "# the example is on line 7\n"
                     "\n"
                     "shared_ips = [\n"
                     "  \"198.51.100.10\", \"2001:db8::/48\",\n"
                     "  \"198.51.100.300\",\n"
                     "  \"198.51.100.11/24\",\n"
                     "  \"2001:db8::/128\",\n"
                     "  \"atl-bgp-1\",\n"
                     "  \"127.0.0.1\",\n"
                     "  \"fe80::/64\",\n"
                     "  \"::ffff:198.51.100.12\"];\n");
        expect_errors(r, 8);
        expect_err("failoverd.conf:7: shared_ips[1]: \"2001:db8::/48\": IPv6 prefix must be /56 or /64");
        expect_err("failoverd.conf:8: shared_ips[2]: \"198.51.100.300\": not an IPv4 or IPv6 address");
        expect_err("failoverd.conf:9: shared_ips[3]: \"198.51.100.11/24\": IPv4 prefix must be /32");
        expect_err("failoverd.conf:10: shared_ips[4]: \"2001:db8::/128\": IPv6 prefix must be /56 or /64");
        expect_err("failoverd.conf:11: shared_ips[5]: \"atl-bgp-1\": not an IPv4 or IPv6 address");
        expect_err("failoverd.conf:12: shared_ips[6]: \"127.0.0.1\": not a unicast address that can be announced "
                   "(loopback, link-local, multicast or unspecified)");
        expect_err("failoverd.conf:13: shared_ips[7]: \"fe80::/64\": not a unicast address that can be announced "
                   "(loopback, link-local, multicast or unspecified)");
        expect_err("failoverd.conf:14: shared_ips[8]: \"::ffff:198.51.100.12\": not a unicast address that can be "
                   "announced (loopback, link-local, multicast or unspecified)");
}
END_TEST

START_TEST(test_shared_ips_canonical)
{
        int r = load("role = \"primary\";\ndatacenter = 4;\n"
                     "shared_ips = [\"198.51.100.10\", \"198.51.100.11/32\", \"2001:DB8:E001:1B8C::1/64\",\n"
                     "  \"2001:db8:e002::\", \"2001:db8:e003::/56\", \"2001:db8:e004:ff::/56\"];\n");
        expect_ok(r);
        ck_assert_uint_eq(c->n_shared_ips, 6);
        ck_assert_str_eq(c->shared_ips[0].text, "198.51.100.10/32");
        ck_assert_str_eq(c->shared_ips[1].text, "198.51.100.11/32");
        ck_assert_str_eq(c->shared_ips[2].text, "2001:db8:e001:1b8c::/64");
        ck_assert_str_eq(c->shared_ips[3].text, "2001:db8:e002::/64");
        ck_assert_str_eq(c->shared_ips[4].text, "2001:db8:e003::/56");
        ck_assert_str_eq(c->shared_ips[5].text, "2001:db8:e004::/56");
        ck_assert_int_eq(c->shared_ips[4].len, 56);
        ck_assert_int_eq(c->shared_ips[0].family, AF_INET);
        ck_assert_int_eq(c->shared_ips[3].family, AF_INET6);
        expect_lvl(DIAG_NOTICE, "failoverd.conf:3: shared_ips[2]: \"2001:DB8:E001:1B8C::1/64\": host bits cleared: "
                   "using 2001:db8:e001:1b8c::/64");
        expect_lvl(DIAG_NOTICE, "failoverd.conf:4: shared_ips[5]: \"2001:db8:e004:ff::/56\": host bits cleared: "
                   "using 2001:db8:e004::/56");
}
END_TEST

START_TEST(test_shared_ips_hostbits_spec)
{
        expect_ok(load("role = \"primary\";\ndatacenter = 4;\nshared_ips = [\"2001:db8:e001:1b8c::1/64\"];\n"));
        ck_assert_str_eq(c->shared_ips[0].text, "2001:db8:e001:1b8c::/64");
        expect_lvl(DIAG_NOTICE, "failoverd.conf:3: shared_ips[0]: \"2001:db8:e001:1b8c::1/64\": host bits cleared: "
                   "using 2001:db8:e001:1b8c::/64");
}
END_TEST

START_TEST(test_shared_ips_duplicates)
{
        int r = load("role = \"primary\";\ndatacenter = 4;\n"
                     "shared_ips = [\"198.51.100.10\", \"198.51.100.10/32\",\n"
                     "  \"2001:db8:e001:1b8c::/64\", \"2001:db8:e001:1b8c::7\"];\n");
        expect_errors(r, 2);
        expect_err("failoverd.conf:3: shared_ips[1]: \"198.51.100.10/32\": duplicate of 198.51.100.10/32");
        expect_err("failoverd.conf:4: shared_ips[3]: \"2001:db8:e001:1b8c::7\": duplicate of 2001:db8:e001:1b8c::/64");
}
END_TEST

/* A /64 inside a /56: longest-prefix match takes the /64's traffic out of the /56's failover (issue 19.5). */
START_TEST(test_shared_ips_overlap)
{
        int r = load("role = \"primary\";\ndatacenter = 4;\n"
                     "shared_ips = [\"2001:db8:e001:1b00::/56\",\n"
                     "  \"2001:db8:e001:1b8c::/64\", \"2001:db8:e001:1c00::/64\"];\n");
        expect_errors(r, 1);
        expect_err("failoverd.conf:4: shared_ips[1]: \"2001:db8:e001:1b8c::/64\": 2001:db8:e001:1b8c::/64 overlaps "
                   "2001:db8:e001:1b00::/56 (also in shared_ips): one would hold the other's traffic; list each "
                   "address once");
}
END_TEST

START_TEST(test_services_overlap)
{
        int r = load("services = (\n"
                     "  { name = \"web\"; role = \"primary\"; shared_ips = [\"2001:db8:e001:1b8c::/64\"]; },\n"
                     "  { name = \"db\"; role = \"secondary\";\n"
                     "    shared_ips = [\"2001:db8:e001:1b00::/56\"]; },\n"
                     "  { name = \"mail\"; role = \"primary\";\n"
                     "    shared_ips = [\"2001:db8:e001:2000::/56\", \"2001:db8:e001:20ff::/64\"]; }\n"
                     ");\ndatacenter = 4;\n");
        expect_errors(r, 2);
        expect_err("failoverd.conf:4: services[1].shared_ips[0]: \"2001:db8:e001:1b00::/56\": 2001:db8:e001:1b00::/56 "
                   "overlaps 2001:db8:e001:1b8c::/64 of service \"web\" (@DIR@/failoverd.conf:2: services[0]): the "
                   "longer prefix would take its traffic out of the other's failover");
        expect_err("failoverd.conf:6: services[2].shared_ips[1]: \"2001:db8:e001:20ff::/64\": 2001:db8:e001:20ff::/64 "
                   "overlaps 2001:db8:e001:2000::/56 of the same service: list each address once");
}
END_TEST

/* keepalived's nopreempt/preempt_delay and init_fail without a services list (issue 20). */
START_TEST(test_single_service_holds)
{
        expect_ok(load(BASE "failback_delay = 30;\nflap_limit = 4;\nflap_window = 90;\nflap_hold = 300.5;\n"
                       "start = \"withdrawn\";\n"));
        ck_assert_uint_eq(c->n_services, 1);
        ck_assert_str_eq(c->services[0].name, "default");
        ck_assert_uint_eq(c->services[0].n_prefixes, 1);
        ck_assert_double_eq(c->services[0].failback_delay, 30);
        ck_assert_int_eq(c->services[0].flap_limit, 4);
        ck_assert_double_eq(c->services[0].flap_window, 90);
        ck_assert_double_eq(c->services[0].flap_hold, 300.5);
        ck_assert_int_eq(c->services[0].start, START_WITHDRAWN);

        one_ok("failback_delay = 0;");
        ck_assert_double_eq(c->services[0].failback_delay, 0);
        ck_assert_int_eq(c->services[0].flap_limit, 0);
        ck_assert_double_eq(c->services[0].flap_window, 60);
        ck_assert_double_eq(c->services[0].flap_hold, 120);
        ck_assert_int_eq(c->services[0].start, START_CHECKS);
        one_error("start = \"later\";", "failoverd.conf:4: start: \"later\": must be \"withdrawn\" or \"checks\"");
        one_error("flap_limit = -1;", "failoverd.conf:4: flap_limit: \"-1\": must be between 0 and 1000");

        /* With services each service has its own: at the top level it would be ambiguous. */
        diag_free(&d);
        diag_init(&d);
        expect_errors(load("services = ( { name = \"web\"; role = \"primary\"; shared_ips = [\"198.51.100.10\"]; } );\n"
                           "datacenter = 4;\nfailback_delay = 30;\n"), 1);
        expect_err("failoverd.conf:3: failback_delay: cannot be used together with services (line 1): put it in each "
                   "service");
}
END_TEST

/* --- host name ----------------------------------------------------------------------------------------- */

START_TEST(test_hostname)
{
        static const char msg[] = "not a valid host name (letters, digits, '-' and '.', no white space)";
        char want[512];
        char label64[65], line[600];

        snprintf(want, sizeof(want), "failoverd.conf:4: hostname: \"atl bgp\": %s", msg);
        one_error("hostname = \"atl bgp\";", want);
        snprintf(want, sizeof(want), "failoverd.conf:4: hostname: \"atl\\nrouter bgp 1\": %s", msg);
        one_error("hostname = \"atl\\nrouter bgp 1\";", want);
        snprintf(want, sizeof(want), "failoverd.conf:4: hostname: \"\": %s", msg);
        one_error("hostname = \"\";", want);
        snprintf(want, sizeof(want), "failoverd.conf:4: hostname: \"-atl\": %s", msg);
        one_error("hostname = \"-atl\";", want);
        snprintf(want, sizeof(want), "failoverd.conf:4: hostname: \"atl..example\": %s", msg);
        one_error("hostname = \"atl..example\";", want);
        snprintf(want, sizeof(want), "failoverd.conf:4: hostname: \"atl_1\": %s", msg);
        one_error("hostname = \"atl_1\";", want);

        memset(label64, 'a', 64);
        label64[64] = '\0';
        snprintf(line, sizeof(line), "hostname = \"%s.example.net\";", label64);
        snprintf(want, sizeof(want), "failoverd.conf:4: hostname: \"%s.example.net\": %s", label64, msg);
        one_error(line, want);

        label64[63] = '\0';
        snprintf(line, sizeof(line), "hostname = \"%s.example.net\";", label64);
        one_ok(line);
        one_ok("hostname = \"atl-bgp-1.example.net\";");
        ck_assert_str_eq(c->hostname, "atl-bgp-1.example.net");
        one_ok("hostname = \"atl-bgp-1\";");
        ck_assert_str_eq(c->hostname, "atl-bgp-1");

        ck_assert(conf_valid_hostname("a"));
        ck_assert(!conf_valid_hostname("a-"));
        ck_assert(!conf_valid_hostname("a.-b"));
        ck_assert(!conf_valid_hostname("a-.b"));
        ck_assert(!conf_valid_hostname("a.b."));
        ck_assert(!conf_valid_hostname("a\tb"));
}
END_TEST

/* group: a metrics label, validated like the host name (a quote or a line feed would end the label). */
START_TEST(test_group)
{
        static const char msg[] = "not a valid group name (letters, digits, '-' and '.', no white space)";
        char want[512];

        one_ok("hostname = \"atl\";");
        ck_assert_ptr_null(c->group);
        one_ok("group = \"atl-web.example\";");
        ck_assert_str_eq(c->group, "atl-web.example");
        snprintf(want, sizeof(want), "failoverd.conf:4: group: \"web\\\"} 1\": %s", msg);
        one_error("group = \"web\\\"} 1\";", want);
        snprintf(want, sizeof(want), "failoverd.conf:4: group: \"atl web\": %s", msg);
        one_error("group = \"atl web\";", want);
        snprintf(want, sizeof(want), "failoverd.conf:4: group: \"\": %s", msg);
        one_error("group = \"\";", want);
        one_error("group = 5;", "failoverd.conf:4: group: must be a string, not an integer");
}
END_TEST

/* --- communities ----------------------------------------------------------------------------------------- */

START_TEST(test_communities)
{
        static const char msg[] = "must be a community AA:NN (two numbers 0-65535)";
        char want[512];

        one_ok("bgp = { communities = { primary = \"65000:1\"; secondary = \"65535:0\"; }; };");
        ck_assert_str_eq(c->bgp.community_primary, "65000:1");
        ck_assert_str_eq(c->bgp.community_secondary, "65535:0");
        one_ok("bgp = { communities = { primary = \"64512:100\"; }; };");
        ck_assert_str_eq(c->bgp.community_primary, "64512:100");
        ck_assert_str_eq(c->bgp.community_secondary, "65000:2");

        const char *bad[] = { "65000", "65000:70000", "a:b", "65000:", ":1", "65000:1:2", "-1:1", " 65000:1" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                char line[256];
                snprintf(line, sizeof(line), "bgp = { communities = { secondary = \"%s\"; }; };", bad[i]);
                snprintf(want, sizeof(want), "failoverd.conf:4: bgp.communities.secondary: \"%s\": %s", bad[i], msg);
                one_error(line, want);
        }
        snprintf(want, sizeof(want), "failoverd.conf:4: bgp.communities.primary: \"65000:1\\nrouter bgp 1\": %s", msg);
        one_error("bgp = { communities = { primary = \"65000:1\\nrouter bgp 1\"; }; };", want);

        one_error("bgp = { communities = { primary = \"65000:2\"; }; };",
                  "failoverd.conf:4: bgp.communities: \"65000:2\": primary and secondary communities must differ");
        ck_assert(conf_valid_community("0:0"));
        ck_assert(!conf_valid_community(""));
        ck_assert(!conf_valid_community("123456:1"));
}
END_TEST

/* --- route servers ------------------------------------------------------------------------------------- */

START_TEST(test_route_servers_given)
{
        one_ok("bgp = { route_servers = [\"2600:3C0F:0004:0034:0::1\", \"192.0.2.1\"]; };");
        ck_assert_uint_eq(strv_len(c->bgp.route_servers), 2);
        ck_assert_str_eq(c->bgp.route_servers[0], "2600:3c0f:4:34::1");
        ck_assert_str_eq(c->bgp.route_servers[1], "192.0.2.1");

        diag_free(&d);
        diag_init(&d);
        int r = load(BASE "bgp = { route_servers = [\"192.0.2.1\", \"2600::zz\", \"192.0.2.1/32\",\n"
                     "  \"2600:3c0f:4:34::1\", \"2600:3C0F:4:34:0:0:0:1\"]; };\n");
        expect_errors(r, 3);
        expect_err("failoverd.conf:4: bgp.route_servers[1]: \"2600::zz\": not an IPv4 or IPv6 address");
        expect_err("failoverd.conf:4: bgp.route_servers[2]: \"192.0.2.1/32\": not an IPv4 or IPv6 address");
        expect_err("failoverd.conf:5: bgp.route_servers[4]: \"2600:3C0F:4:34:0:0:0:1\": duplicate of "
                   "2600:3c0f:4:34::1");

        one_error("bgp = { route_servers = []; };", "failoverd.conf:4: bgp.route_servers: must list at least one address");
}
END_TEST

START_TEST(test_route_servers_derived)
{
        static const char msg[] = "must contain exactly two %d (data center, then server number) and no other %";
        char want[512];

        one_ok("bgp = { route_server_count = 2; };");
        ck_assert_uint_eq(strv_len(c->bgp.route_servers), 2);
        ck_assert_str_eq(c->bgp.route_servers[1], "2600:3c0f:4:34::2");

        one_ok("bgp = { neighbor_pattern = \"192.0.%d.%d\"; route_server_count = 3; };");
        ck_assert_uint_eq(strv_len(c->bgp.route_servers), 3);
        ck_assert_str_eq(c->bgp.route_servers[0], "192.0.4.1");
        ck_assert_str_eq(c->bgp.route_servers[2], "192.0.4.3");

        /* rendering is canonical: a pattern with leading zeros gives inet_ntop's text */
        one_ok("bgp = { neighbor_pattern = \"2001:db8:%d:0034:0::%d\"; route_server_count = 1; };");
        ck_assert_str_eq(c->bgp.route_servers[0], "2001:db8:4:34::1");

        const char *bad[] = { "2600:3c0f:%d:34::1", "2600:3c0f:%d:%d::%d", "2600:3c0f:%s:34::%d",
                              "2600:3c0f:%d:34::%d%n", "2600:3c0f:%x:34::%d", "2600:3c0f:%d:34::%d%" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                char line[256];
                snprintf(line, sizeof(line), "bgp = { neighbor_pattern = \"%s\"; };", bad[i]);
                snprintf(want, sizeof(want), "failoverd.conf:4: bgp.neighbor_pattern: \"%s\": %s", bad[i], msg);
                one_error(line, want);
        }
        one_error("bgp = { neighbor_pattern = \"rs-%d-%d.example\"; };",
                  "failoverd.conf:4: bgp.neighbor_pattern: \"rs-%d-%d.example\": gives \"rs-4-1.example\", which is "
                  "not an IPv4 or IPv6 address");
        one_error("bgp = { neighbor_pattern = \"2600:3c0f:%d:34::%d%%\"; };",
                  "failoverd.conf:4: bgp.neighbor_pattern: \"2600:3c0f:%d:34::%d%%\": gives \"2600:3c0f:4:34::1%\", "
                  "which is not an IPv4 or IPv6 address");
        /* a broken explicit pattern is named even when route_servers make it unused */
        one_error("bgp = { neighbor_pattern = \"%s\"; route_servers = [\"192.0.2.1\"]; };",
                  "failoverd.conf:4: bgp.neighbor_pattern: \"%s\": must contain exactly two %d (data center, then "
                  "server number) and no other %");
        one_error("bgp = { route_server_count = 0; };",
                  "failoverd.conf:4: bgp.route_server_count: \"0\": must be between 1 and 64");
        one_error("bgp = { route_server_count = 65; };",
                  "failoverd.conf:4: bgp.route_server_count: \"65\": must be between 1 and 64");
}
END_TEST

START_TEST(test_expand_pattern)
{
        char out[64];
        ck_assert_int_eq(conf_expand_pattern("2600:3c0f:%d:34::%d", 4, 3, out, sizeof(out)), 0);
        ck_assert_str_eq(out, "2600:3c0f:4:34::3");
        ck_assert_int_eq(conf_expand_pattern("a%%b%d-%d%%", 12, 7, out, sizeof(out)), 0);
        ck_assert_str_eq(out, "a%b12-7%");
        ck_assert_int_eq(conf_expand_pattern("%d", 1, 2, out, sizeof(out)), -EINVAL);
        ck_assert_int_eq(conf_expand_pattern("%d%d%d", 1, 2, out, sizeof(out)), -EINVAL);
        ck_assert_int_eq(conf_expand_pattern("%s%d%d", 1, 2, out, sizeof(out)), -EINVAL);
        ck_assert_int_eq(conf_expand_pattern("%d%d%n", 1, 2, out, sizeof(out)), -EINVAL);
        ck_assert_int_eq(conf_expand_pattern("%d%d%", 1, 2, out, sizeof(out)), -EINVAL);
        ck_assert_int_eq(conf_expand_pattern("%5d%d", 1, 2, out, sizeof(out)), -EINVAL);
        ck_assert_int_eq(conf_expand_pattern("", 1, 2, out, sizeof(out)), -EINVAL);
        ck_assert_int_eq(conf_expand_pattern("2600:3c0f:%d:34::%d", 4, 3, out, 17), -ENAMETOOLONG);
        ck_assert_int_eq(conf_expand_pattern("2600:3c0f:%d:34::%d", 4, 3, out, 18), 0);
}
END_TEST

/* --- ranges ---------------------------------------------------------------------------------------------- */

START_TEST(test_asn)
{
        one_error("bgp = { asn = 0; };", "failoverd.conf:4: bgp.asn: \"0\": must be between 1 and 4294967295");
        one_error("bgp = { asn = -5; };", "failoverd.conf:4: bgp.asn: \"-5\": must be between 1 and 4294967295");
        /* libconfig 1.5 wraps these to 0, 1 and -1: the literal must win */
        one_error("bgp = { asn = 4294967296; };",
                  "failoverd.conf:4: bgp.asn: \"4294967296\": must be between 1 and 4294967295");
        one_error("bgp = { asn = 4294967297; };",
                  "failoverd.conf:4: bgp.asn: \"4294967297\": must be between 1 and 4294967295");
        one_error("bgp = { asn = 8589934591; };",
                  "failoverd.conf:4: bgp.asn: \"8589934591\": must be between 1 and 4294967295");
        one_error("bgp = { asn = 4294967296L; };",
                  "failoverd.conf:4: bgp.asn: \"4294967296\": must be between 1 and 4294967295");
#if LIBCONFIG_VER_MAJOR == 1 && LIBCONFIG_VER_MINOR < 7
        /* libconfig 1.5 (Debian 12) wraps it: the range check quotes the literal */
        one_error("bgp = { asn = 99999999999999999999; };",
                  "failoverd.conf:4: bgp.asn: \"99999999999999999999\": must be between 1 and 4294967295");
#else
        /* libconfig 1.7 (Debian 13) rejects it in its scanner: file, line and value all the same */
        one_error("bgp = { asn = 99999999999999999999; };",
                  "failoverd.conf:4: syntax error: \"99999999999999999999\": integer out of range");
#endif
        /* a syntax error on a line with such a literal names it on every libconfig; digits in a string do not */
        one_error("bgp = { asn = 99999999999999999999 = };",
                  "failoverd.conf:4: syntax error: \"99999999999999999999\": integer out of range");
        one_error("bgp = { asn = -0x99999999999999999999 = };",
                  "failoverd.conf:4: syntax error: \"-0x99999999999999999999\": integer out of range");
        one_error("name = \"99999999999999999999\" = ;", "failoverd.conf:4: syntax error");
        one_error("bgp = { asn = 1 = }; # 99999999999999999999", "failoverd.conf:4: syntax error");
        one_error("bgp = { asn = 0x100000000; };",
                  "failoverd.conf:4: bgp.asn: \"0x100000000\": must be between 1 and 4294967295");
        one_ok("bgp = { asn = 4294967295; };");
        ck_assert_int_eq(c->bgp.asn, 4294967295LL);
        one_ok("bgp = { asn = 4294967295L; };");
        ck_assert_int_eq(c->bgp.asn, 4294967295LL);
        one_ok("bgp = {\n  keepalive = 3; asn = 4200000000;  # asn = 1\n};");
        ck_assert_int_eq(c->bgp.asn, 4200000000LL);
        one_ok("bgp: { asn: 0xFFFFFFFF; };");
        ck_assert_int_eq(c->bgp.asn, 4294967295LL);
        one_ok("bgp = { asn = 1; };");
        ck_assert_int_eq(c->bgp.asn, 1);
        one_ok("bgp = { coalesce_time = 4294967295; };");
        ck_assert_int_eq(c->bgp.coalesce_time, 4294967295LL);
        one_error("bgp = { coalesce_time = -1; };",
                  "failoverd.conf:4: bgp.coalesce_time: \"-1\": must be between 0 and 4294967295");
        /* wraps to 10 without the literal check */
        one_error("bgp = { multihop = 4294967306; };",
                  "failoverd.conf:4: bgp.multihop: \"4294967306\": must be between 1 and 255");
}
END_TEST

START_TEST(test_bgp_ranges)
{
        one_error("bgp = { multihop = 0; };", "failoverd.conf:4: bgp.multihop: \"0\": must be between 1 and 255");
        one_error("bgp = { multihop = 256; };", "failoverd.conf:4: bgp.multihop: \"256\": must be between 1 and 255");
        one_ok("bgp = { multihop = 255; };");
        ck_assert_int_eq(c->bgp.multihop, 255);
        one_error("bgp = { keepalive = 0; };", "failoverd.conf:4: bgp.keepalive: \"0\": must be between 1 and 65535");
        one_error("bgp = { holdtime = 2; };", "failoverd.conf:4: bgp.holdtime: \"2\": must be between 3 and 65535");
        one_error("bgp = { holdtime = 65536; };",
                  "failoverd.conf:4: bgp.holdtime: \"65536\": must be between 3 and 65535");
        one_error("bgp = { keepalive = 10; holdtime = 5; };",
                  "failoverd.conf:4: bgp.holdtime: \"5\": must not be less than bgp.keepalive (10)");
        expect_lvl(DIAG_WARNING, "failoverd.conf:4: bgp.holdtime: \"5\": less than three keepalives (10 s)");
        one_ok("bgp = { keepalive = 10; holdtime = 20; };");
        expect_lvl(DIAG_WARNING, "failoverd.conf:4: bgp.holdtime: \"20\": less than three keepalives (10 s)");
        one_ok("bgp = { keepalive = 1; holdtime = 3; };");
        ck_assert_int_eq(c->bgp.keepalive, 1);
        ck_assert_int_eq(c->bgp.holdtime, 3);
        /* keepalive above the default holdtime needs a holdtime too */
        one_error("bgp = { keepalive = 10; };", "failoverd.conf: bgp.holdtime: \"9\": must not be less than "
                  "bgp.keepalive (10)");
        one_error("bgp = { demote_prepend = 0; };",
                  "failoverd.conf:4: bgp.demote_prepend: \"0\": must be between 1 and 32");
        one_error("bgp = { demote_prepend = 33; };",
                  "failoverd.conf:4: bgp.demote_prepend: \"33\": must be between 1 and 32");
        one_ok("bgp = { demote_prepend = 1; };");
        ck_assert_int_eq(c->bgp.demote_prepend, 1);
        one_ok("bgp = { poll_interval = 3; };");
        ck_assert_double_eq(c->bgp.poll_interval, 3.0);
        one_ok("bgp = { poll_interval = 0.5; };");
        ck_assert_double_eq(c->bgp.poll_interval, 0.5);
        one_error("bgp = { poll_interval = 0; };",
                  "failoverd.conf:4: bgp.poll_interval: \"0\": must be between 0.01 and 3600 seconds");
        one_error("bgp = { poll_interval = -1.5; };",
                  "failoverd.conf:4: bgp.poll_interval: \"-1.5\": must be between 0.01 and 3600 seconds");
        one_error("bgp = { poll_interval = 4294967297; };",
                  "failoverd.conf:4: bgp.poll_interval: \"4.29497e+09\": must be between 0.01 and 3600 seconds");
        one_error("bgp = { router_id = \"2001:db8::1\"; };",
                  "failoverd.conf:4: bgp.router_id: \"2001:db8::1\": must be an IPv4 address");
        one_ok("bgp = { router_id = \"192.0.2.101\"; };");
        ck_assert_str_eq(c->bgp.router_id, "192.0.2.101");
}
END_TEST

START_TEST(test_frr_and_checks_ranges)
{
        one_ok("frr = { timeout = 2; };");
        ck_assert_double_eq(c->frr.timeout, 2.0);
        one_ok("frr = { timeout = 0.25; };");
        ck_assert_double_eq(c->frr.timeout, 0.25);
        one_error("frr = { timeout = 0.001; };",
                  "failoverd.conf:4: frr.timeout: \"0.001\": must be between 0.01 and 3600 seconds");
        one_error("frr = { timeout = 3601; };",
                  "failoverd.conf:4: frr.timeout: \"3601\": must be between 0.01 and 3600 seconds");

        one_ok("checks = { directory = \"@DIR@/conf.d\"; interval = 0.5; timeout = 2; rise = 1; fall = 1000; };");
        ck_assert_double_eq(c->checks.interval, 0.5);
        ck_assert_double_eq(c->checks.timeout, 2.0);
        ck_assert_int_eq(c->checks.rise, 1);
        ck_assert_int_eq(c->checks.fall, 1000);
        one_error("checks = { directory = \"@DIR@/conf.d\"; interval = 0; };",
                  "failoverd.conf:4: checks.interval: \"0\": must be between 0.01 and 86400 seconds");
        one_error("checks = { directory = \"@DIR@/conf.d\"; interval = 86401; };",
                  "failoverd.conf:4: checks.interval: \"86401\": must be between 0.01 and 86400 seconds");
        one_error("checks = { directory = \"@DIR@/conf.d\"; timeout = 3600.5; };",
                  "failoverd.conf:4: checks.timeout: \"3600.5\": must be between 0.01 and 3600 seconds");
        one_error("checks = { directory = \"@DIR@/conf.d\"; rise = 0; };",
                  "failoverd.conf:4: checks.rise: \"0\": must be between 1 and 1000");
        one_error("checks = { directory = \"@DIR@/conf.d\"; fall = 1001; };",
                  "failoverd.conf:4: checks.fall: \"1001\": must be between 1 and 1000");
        one_error("datacenter2 = 1;", "failoverd.conf:4: datacenter2: unknown key");
}
END_TEST

/* --- paths, notify, users -------------------------------------------------------------------------------- */

START_TEST(test_paths)
{
        static const char msg[] = "must be an absolute path without control characters";
        char want[512];

        snprintf(want, sizeof(want), "failoverd.conf:4: frr.config: \"frr.conf\": %s", msg);
        one_error("frr = { config = \"frr.conf\"; };", want);
        snprintf(want, sizeof(want), "failoverd.conf:4: frr.vtysh: \"/usr/bin/vtysh\\n-c reboot\": %s", msg);
        one_error("frr = { vtysh = \"/usr/bin/vtysh\\n-c reboot\"; };", want);
        snprintf(want, sizeof(want), "failoverd.conf:4: frr.reload: \"\": %s", msg);
        one_error("frr = { reload = \"\"; };", want);
        snprintf(want, sizeof(want), "failoverd.conf:4: checks.directory: \"conf.d\": %s", msg);
        one_error("checks = { directory = \"conf.d\"; };", want);
        snprintf(want, sizeof(want), "failoverd.conf:4: state_directory: \"var/lib\": %s", msg);
        one_error("state_directory = \"var/lib\";", want);
        snprintf(want, sizeof(want), "failoverd.conf:4: runtime_directory: \"/run/\\tx\": %s", msg);
        one_error("runtime_directory = \"/run/\\tx\";", want);
        snprintf(want, sizeof(want), "failoverd.conf:4: metrics_file: \"m.prom\": %s", msg);
        one_error("metrics_file = \"m.prom\";", want);

        one_ok("frr = { config = \"/etc/frr/lab/frr.conf\"; vtysh = \"/bin/vtysh\"; reload = \"/bin/r\"; };\n"
               "state_directory = \"/var/lib/x\";\nruntime_directory = \"/run/x\";");
        ck_assert_str_eq(c->frr.config, "/etc/frr/lab/frr.conf");
        ck_assert_str_eq(c->frr.vtysh, "/bin/vtysh");
        ck_assert_str_eq(c->frr.reload, "/bin/r");
        ck_assert_str_eq(c->state_directory, "/var/lib/x");
        ck_assert_str_eq(c->runtime_directory, "/run/x");

        one_ok("metrics_file = \"\";");
        ck_assert_ptr_null(c->metrics_file);
        one_ok("metrics_file = \"@DIR@/failoverd.prom\";");
        char *m = subst("@DIR@/failoverd.prom");
        ck_assert_str_eq(c->metrics_file, m);
        free(m);
}
END_TEST

START_TEST(test_failsafe)
{
        one_ok("");
        ck_assert(!c->failsafe_keep);
        one_ok("failsafe = \"withdraw\";");
        ck_assert(!c->failsafe_keep);
        one_ok("failsafe = \"keep\";");
        ck_assert(c->failsafe_keep);
        one_error("failsafe = \"off\";", "failoverd.conf:4: failsafe: \"off\": must be \"withdraw\" or \"keep\"");
}
END_TEST

START_TEST(test_pathspace)
{
        static const char msg[] = "must be letters, digits, '_' or '-' (at most 64)";
        char want[512], line[256], name[70];

        one_ok("frr = { pathspace = \"lab_1-a\"; };");
        ck_assert_str_eq(c->frr.pathspace, "lab_1-a");
        one_ok("frr = { pathspace = \"\"; };");
        ck_assert_str_eq(c->frr.pathspace, "");
        const char *bad[] = { "../etc", "a/b", "-N", "a b", "a.b" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                snprintf(line, sizeof(line), "frr = { pathspace = \"%s\"; };", bad[i]);
                snprintf(want, sizeof(want), "failoverd.conf:4: frr.pathspace: \"%s\": %s", bad[i], msg);
                one_error(line, want);
        }
        memset(name, 'p', 65);
        name[65] = '\0';
        snprintf(line, sizeof(line), "frr = { pathspace = \"%s\"; };", name);
        snprintf(want, sizeof(want), "failoverd.conf:4: frr.pathspace: \"%s\": %s", name, msg);
        one_error(line, want);
        name[64] = '\0';
        snprintf(line, sizeof(line), "frr = { pathspace = \"%s\"; };", name);
        one_ok(line);
}
END_TEST

START_TEST(test_extra)
{
        one_error("frr = { extra = \"@DIR@/nope.frr\"; };",
                  "failoverd.conf:4: frr.extra: \"@DIR@/nope.frr\": cannot read: No such file or directory");
        one_error("frr = { extra = \"@DIR@\"; };", "failoverd.conf:4: frr.extra: \"@DIR@\": cannot read: Is a directory");
        one_error("frr = { extra = \"extra.frr\"; };",
                  "failoverd.conf:4: frr.extra: \"extra.frr\": must be an absolute path without control characters");

        write_in("extra.frr", "ip prefix-list x seq 5 permit 192.0.2.0/24\n", 0644);
        one_ok("frr = { extra = \"@DIR@/extra.frr\"; };");
        ck_assert_str_eq(c->frr.extra_text, "ip prefix-list x seq 5 permit 192.0.2.0/24\n");

        write_in("empty.frr", "", 0644);
        one_ok("frr = { extra = \"@DIR@/empty.frr\"; };");
        ck_assert_str_eq(c->frr.extra_text, "");

        one_ok("frr = { extra = \"\"; };");
        ck_assert_ptr_null(c->frr.extra_text);

        write_in("nul.frr", "a", 0644);
        char p[512];
        snprintf(p, sizeof(p), "%s/nul.frr", tdir);
        FILE *f = fopen(p, "ae");
        ck_assert_ptr_nonnull(f);
        fputc('\0', f);
        fclose(f);
        one_error("frr = { extra = \"@DIR@/nul.frr\"; };",
                  "failoverd.conf:4: frr.extra: \"@DIR@/nul.frr\": contains a NUL byte");
}
END_TEST

/* What FRR 9.1+ would silently truncate, or what would switch FRR's defaults, is refused with its line. */
START_TEST(test_extra_refused)
{
        write_in("ok.frr",
                 "! blocks closed by exit, as FRR writes them\n"
                 "line vty\n exec-timeout 0 0\nexit\n"
                 "router bgp 65001 vrf blue\n address-family ipv4 unicast\n  network 192.0.2.0/24\n"
                 " exit-address-family\n address-family ipv6 unicast\n exit\nexit\n"
                 "interface lo\n link-params\n exit-link-params\nexit\n"
                 "vrf red\n ip route 192.0.2.0/24 blackhole\nexit-vrf\n"
                 "ip prefix-list x seq 5 permit 192.0.2.0/24\n! exit\n",
                 0644);
        one_ok("frr = { extra = \"@DIR@/ok.frr\"; };");

        write_in("exit.frr", "ip prefix-list x seq 5 permit 192.0.2.0/24\nexit\nip prefix-list y seq 5 deny any\n", 0644);
        one_error("frr = { extra = \"@DIR@/exit.frr\"; };",
                  "@DIR@/exit.frr:2: \"exit\" outside any block: FRR 9.1 and later stop reading there and drop the "
                  "rest; remove it");
        write_in("exit2.frr", "line vty\n exec-timeout 0 0\nexit\n  exit  \n", 0644);
        one_error("frr = { extra = \"@DIR@/exit2.frr\"; };",
                  "@DIR@/exit2.frr:4: \"exit\" outside any block: FRR 9.1 and later stop reading there and drop the "
                  "rest; remove it");

        write_in("version.frr", "frr version 8.4.4\nip prefix-list x seq 5 permit 192.0.2.0/24\n", 0644);
        one_error("frr = { extra = \"@DIR@/version.frr\"; };",
                  "@DIR@/version.frr:1: \"frr version\" would change FRR's defaults (failoverd renders \"frr "
                  "defaults traditional\" and no version): remove it");
        write_in("defaults.frr", "!\n frr defaults datacenter\n", 0644);
        one_error("frr = { extra = \"@DIR@/defaults.frr\"; };",
                  "@DIR@/defaults.frr:2: \"frr defaults\" would change FRR's defaults (failoverd renders \"frr "
                  "defaults traditional\" and no version): remove it");
}
END_TEST

START_TEST(test_notify)
{
        write_in("failover-notify", SCRIPT, 0755);
        one_ok("notify = \"@DIR@/failover-notify\";");
        ck_assert_uint_eq(strv_len(c->notify), 1);
        char *hook = subst("@DIR@/failover-notify");
        ck_assert_str_eq(c->notify[0], hook);
        free(hook);
        one_ok("notify = [\"/bin/sh\", \"-c\", \"failover\"];");
        ck_assert_uint_eq(strv_len(c->notify), 3);
        ck_assert_str_eq(c->notify[0], "/bin/sh");
        ck_assert_str_eq(c->notify[2], "failover");
        one_ok("notify = (\"/bin/sh\");");
        ck_assert_uint_eq(strv_len(c->notify), 1);
        one_ok("notify = \"\";");
        ck_assert_ptr_null(c->notify);

        one_error("notify = \"notify.sh\";",
                  "failoverd.conf:4: notify: \"notify.sh\": must be an absolute path without control characters");
        one_error("notify = [\"logger\", \"-t\"];",
                  "failoverd.conf:4: notify[0]: \"logger\": must be an absolute path without control characters");
        one_error("notify = [];", "failoverd.conf:4: notify: must not be an empty list");
        one_error("notify = (\"/bin/x\", 1);", "failoverd.conf:4: notify[1]: must be a string, not an integer");
        one_error("notify = 5;", "failoverd.conf:4: notify: must be a program path or a list of strings (argv), not an "
                  "integer");
}
END_TEST

START_TEST(test_users)
{
        struct passwd *pw = getpwnam("nobody");
        ck_assert_ptr_nonnull(pw);
        uid_t nobody_uid = pw->pw_uid;
        gid_t nobody_gid = pw->pw_gid;
        one_ok("checks = { directory = \"@DIR@/conf.d\"; user = \"nobody\"; };");
        ck_assert_str_eq(c->checks.user, "nobody");
        /* Resolved at load: no check run or spawn asks NSS again. */
        ck_assert_ptr_nonnull(c->checks.cred);
        ck_assert_uint_eq(c->checks.cred->uid, nobody_uid);
        ck_assert_uint_eq(c->checks.cred->gid, nobody_gid);
        one_ok("checks = { directory = \"@DIR@/conf.d\"; user = \"\"; };");
        ck_assert_ptr_null(c->checks.user);
        ck_assert_ptr_null(c->checks.cred);
        one_error("checks = { directory = \"@DIR@/conf.d\"; user = \"no-such-user-fo\"; };",
                  "failoverd.conf:4: checks.user: \"no-such-user-fo\": no such user");
        one_error("checks = { directory = \"@DIR@/conf.d\"; user = \"nobody\\n\"; };",
                  "failoverd.conf:4: checks.user: \"nobody\\n\": no such user");
        one_error("checks = { directory = \"@DIR@/conf.d\"; user = 0; };",
                  "failoverd.conf:4: checks.user: must be a string, not an integer");
}
END_TEST

/* Control socket permissions: group names resolved at load. */
START_TEST(test_control_groups)
{
        one_ok("runtime_directory = \"/run/x\";");
        ck_assert_ptr_null(c->control.read_group);
        ck_assert_int_eq(c->control.read_gid, (gid_t)-1);
        ck_assert_int_eq(c->control.admin_gid, (gid_t)-1);
        one_ok("control = { read_group = \"nogroup\"; admin_group = \"root\"; };");
        ck_assert_str_eq(c->control.read_group, "nogroup");
        ck_assert_int_eq(c->control.read_gid, 65534);
        ck_assert_str_eq(c->control.admin_group, "root");
        ck_assert_int_eq(c->control.admin_gid, 0);
        one_ok("control = { read_group = \"\"; };");
        ck_assert_ptr_null(c->control.read_group);
        ck_assert_int_eq(c->control.read_gid, (gid_t)-1);
        one_error("control = { admin_group = \"no-such-group-fo\"; };",
                  "failoverd.conf:4: control.admin_group: \"no-such-group-fo\": no such group");
        one_error("control = { read_group = 0; };", "failoverd.conf:4: control.read_group: must be a string, not an "
                  "integer");
        one_error("control = { group = \"root\"; };", "failoverd.conf:4: control.group: unknown key");
        one_error("control = 1;", "failoverd.conf:4: control: must be a group { ... }");
}
END_TEST

/* --- conf.d ------------------------------------------------------------------------------------------- */


START_TEST(test_scan_run_parts_names)
{
        mkdir_in("conf.d");
        mkdir_in("conf.d/subdir");
        write_in("conf.d/web_1-a", SCRIPT, 0755);
        write_in("conf.d/foo~", SCRIPT, 0755);
        write_in("conf.d/foo.dpkg-old", SCRIPT, 0755);
        write_in("conf.d/.hidden", SCRIPT, 0755);
        write_in("conf.d/a.b", SCRIPT, 0755);
        write_in("conf.d/noexec", SCRIPT, 0644);
        write_in("conf.d/a.b.conf", "interval = 2;\n", 0644);
        expect_ok(load(BASE));
        ck_assert_uint_eq(c->n_checks, 1);
        ck_assert_str_eq(c->check[0].name, "web_1-a");
        expect_lvl(DIAG_DEBUG, "conf.d/foo~: skipped: name is not [A-Za-z0-9_-]+");
        expect_lvl(DIAG_DEBUG, "conf.d/foo.dpkg-old: skipped: name is not [A-Za-z0-9_-]+");
        expect_lvl(DIAG_DEBUG, "conf.d/.hidden: skipped: name is not [A-Za-z0-9_-]+");
        expect_lvl(DIAG_DEBUG, "conf.d/subdir: skipped: not a regular file");
        /* Meant as checks but never run: warnings without -v (issue 20), since no checks means always healthy. */
        expect_lvl(DIAG_WARNING, "conf.d/a.b: not a check, never run: a check's name is letters, digits, '_' and '-' "
                   "only (run-parts' rule): rename it to a");
        expect_lvl(DIAG_WARNING, "conf.d/noexec: not executable, never run: chmod 0755 it to make it a check, or move "
                   "it out of the directory");
        expect_lvl(DIAG_WARNING, "conf.d/a.b.conf: not a check, never run: a check's name is letters, digits, '_' and "
                   "'-' only (run-parts' rule): rename it to a.conf");
}
END_TEST

/* The README's mistakes: nginx.sh and db.check.conf are never run; no check left means always healthy. */
START_TEST(test_scan_skipped_loud)
{
        mkdir_in("conf.d");
        write_in("conf.d/nginx.sh", SCRIPT, 0755);
        write_in("conf.d/db.check.conf", "type = \"tcp\"; host = \"127.0.0.1\"; port = 5432;\n", 0644);
        write_in("conf.d/web", SCRIPT, 0644);
        expect_ok(load(BASE));
        ck_assert_uint_eq(c->n_checks, 0);
        ck_assert_uint_eq(count_lvl(DIAG_WARNING), 4);
        expect_lvl(DIAG_WARNING, "conf.d: no check runs (see above): this host counts as always healthy");
        expect_lvl(DIAG_WARNING, "conf.d/nginx.sh: not a check, never run: a check's name is letters, digits, '_' and "
                   "'-' only (run-parts' rule): rename it to nginx");
        expect_lvl(DIAG_WARNING, "conf.d/db.check.conf: not a check, never run: a check's name is letters, digits, '_' "
                   "and '-' only (run-parts' rule): rename it to db.conf");
        expect_lvl(DIAG_WARNING, "conf.d/web: not executable, never run: chmod 0755 it to make it a check, or move it "
                   "out of the directory");
}
END_TEST

/* What the daemon would refuse or only warn about at run time, --check says first (issue 20). */
START_TEST(test_host_checks)
{
        one_error("metrics_file = \"@DIR@/failoverd.txt\";", "failoverd.conf:4: metrics_file: \"@DIR@/failoverd.txt\": "
                  "must end in .prom (the textfile collector reads only those)");
        one_error("metrics_file = \"@DIR@/.prom\";", "failoverd.conf:4: metrics_file: \"@DIR@/.prom\": must end in "
                  ".prom (the textfile collector reads only those)");
        one_error("notify = [\"@DIR@\", \"x\"];", "failoverd.conf:4: notify[0]: \"@DIR@\": not a regular file: the "
                  "notify hook could never run");

        diag_free(&d);
        diag_init(&d);
        mkdir_in("conf.d");
        write_in("hook", SCRIPT, 0644);
        write_in("conf.d/tcp.conf", "command = [\"@DIR@/nope/check_tcp\", \"-H\", \"127.0.0.1\"];\n", 0644);
        write_in("conf.d/noexec", SCRIPT, 0644);
        int r = load("services = (\n"
                     "  { name = \"web\"; role = \"primary\"; shared_ips = [\"198.51.100.10\"]; checks = [\"noexec\"]; }\n"
                     ");\ndatacenter = 4;\n"
                     "notify = \"@DIR@/hook\";\n"
                     "frr = { vtysh = \"@DIR@/vtysh\"; reload = \"@DIR@/frr-reload.py\"; };\n"
                     "metrics_file = \"@DIR@/no/failoverd.prom\";\n"
                     "checks = { directory = \"@DIR@/conf.d\"; };\n");
        expect_errors(r, 5);
        ck_assert_uint_eq(count_lvl(DIAG_WARNING), 3);
        expect_err("conf.d/tcp.conf:1: command[0]: \"@DIR@/nope/check_tcp\": no such file: the check could never run");
        expect_err("failoverd.conf:5: notify: \"@DIR@/hook\": not executable: the notify hook could never run");
        expect_err("failoverd.conf:6: frr.vtysh: \"@DIR@/vtysh\": no such file: FRR's vtysh (package frr) could "
                   "never run");
        expect_lvl(DIAG_WARNING, "failoverd.conf:6: frr.reload: \"@DIR@/frr-reload.py\": no such file: frr-reload.py "
                   "(package frr-pythontools; full applies fall back to vtysh -f, which cannot remove stale lines) "
                   "could never run");
        expect_err("failoverd.conf:7: metrics_file: \"@DIR@/no/failoverd.prom\": @DIR@/no: no such directory: the "
                   "metrics could never be written");
        expect_err("failoverd.conf:2: services[0].checks[0]: \"noexec\": @DIR@/conf.d/noexec is not executable, so no "
                   "check (chmod 0755 it)");

        /* --render, --failsafe and failoverctl load without the host's files; the rest is still checked. */
        diag_free(&d);
        diag_init(&d);
        char *path = subst("@DIR@/failoverd.conf");
        c = conf_free(c);
        ck_assert_int_eq(conf_load_opts(path, CONF_LOAD_NO_HOST, &c, &d), -EINVAL);
        free(path);
        expect_errors(-EINVAL, 1);
        expect_err("failoverd.conf:2: services[0].checks[0]: \"noexec\": @DIR@/conf.d/noexec is not executable, so no "
                   "check (chmod 0755 it)");

}
END_TEST

START_TEST(test_router_id_shared)
{
        one_error("bgp = { router_id = \"198.51.100.10\"; };", "failoverd.conf:4: bgp.router_id: \"198.51.100.10\": is the "
                  "shared address 198.51.100.10/32, which every host of the group has: use this host's own IPv4 address");
        one_ok("bgp = { router_id = \"192.0.2.11\"; };");
        ck_assert_str_eq(c->bgp.router_id, "192.0.2.11");
}
END_TEST

START_TEST(test_scan_script_defaults)
{
        mkdir_in("conf.d");
        write_in("conf.d/web", SCRIPT, 0755);
        expect_ok(load(BASE "checks = { directory = \"@DIR@/conf.d\"; interval = 7; timeout = 3.5; rise = 5; "
                       "fall = 6; user = \"nobody\"; };\n"));
        ck_assert_uint_eq(c->n_checks, 1);
        const struct check_conf *k = &c->check[0];
        char p[512];
        snprintf(p, sizeof(p), "%s/conf.d/web", tdir);
        ck_assert_str_eq(k->name, "web");
        ck_assert_str_eq(k->script, p);
        ck_assert_uint_eq(strv_len(k->argv), 1);
        ck_assert_str_eq(k->argv[0], p);
        ck_assert_ptr_null(k->conf_file);
        ck_assert_double_eq(k->interval, 7.0);
        ck_assert_double_eq(k->timeout, 3.5);
        ck_assert_int_eq(k->rise, 5);
        ck_assert_int_eq(k->fall, 6);
        ck_assert_str_eq(k->user, "nobody");
        ck_assert_ptr_nonnull(k->cred);
        ck_assert_uint_eq(k->cred->uid, getpwnam("nobody")->pw_uid);

        /* the plain defaults */
        diag_free(&d);
        diag_init(&d);
        expect_ok(load(BASE));
        ck_assert_double_eq(c->check[0].interval, 1.0);
        ck_assert_double_eq(c->check[0].timeout, 1.0);
        ck_assert_int_eq(c->check[0].rise, 3);
        ck_assert_int_eq(c->check[0].fall, 2);
        ck_assert_ptr_null(c->check[0].user);
        ck_assert_ptr_null(c->check[0].cred);
}
END_TEST

START_TEST(test_scan_override)
{
        mkdir_in("conf.d");
        write_in("conf.d/web", SCRIPT, 0755);
        write_in("conf.d/web.conf", "# faster for this one\ninterval = 5;\ntimeout = 2.5;\nrise = 1;\nfall = 4;\n"
                 "user = \"nobody\";\n", 0644);
        write_in("conf.d/db", SCRIPT, 0755);
        write_in("conf.d/db.conf", "rise = 2;\nuser = \"\";\n", 0644);
        expect_ok(load(BASE "checks = { directory = \"@DIR@/conf.d\"; user = \"root\"; };\n"));
        ck_assert_uint_eq(c->n_checks, 2);
        const struct check_conf *w = conf_find_check(c, "web"), *b = conf_find_check(c, "db");
        ck_assert_ptr_nonnull(w);
        ck_assert_ptr_nonnull(b);
        ck_assert_double_eq(w->interval, 5.0);
        ck_assert_double_eq(w->timeout, 2.5);
        ck_assert_int_eq(w->rise, 1);
        ck_assert_int_eq(w->fall, 4);
        ck_assert_str_eq(w->user, "nobody");
        ck_assert_uint_eq(w->cred->uid, getpwnam("nobody")->pw_uid);
        ck_assert_ptr_nonnull(w->script);
        ck_assert_str_eq(w->conf_file + strlen(tdir), "/conf.d/web.conf");
        /* db keeps the group's interval and fall; "" means the daemon's own user */
        ck_assert_double_eq(b->interval, 1.0);
        ck_assert_int_eq(b->rise, 2);
        ck_assert_int_eq(b->fall, 2);
        ck_assert_ptr_null(b->user);
        ck_assert_ptr_null(b->cred);
}
END_TEST

START_TEST(test_scan_command_check)
{
        mkdir_in("conf.d");
        write_in("check_tcp", SCRIPT, 0755);
        write_in("conf.d/tcp.conf",
                 "command = [\"@DIR@/check_tcp\", \"-H\", \"127.0.0.1\"];\ninterval = 10;\n", 0644);
        expect_ok(load(BASE));
        ck_assert_uint_eq(c->n_checks, 1);
        const struct check_conf *k = conf_find_check(c, "tcp");
        ck_assert_ptr_nonnull(k);
        ck_assert_ptr_null(k->script);
        ck_assert_uint_eq(strv_len(k->argv), 3);
        char *prog = subst("@DIR@/check_tcp");
        ck_assert_str_eq(k->argv[0], prog);
        free(prog);
        ck_assert_str_eq(k->argv[1], "-H");
        ck_assert_str_eq(k->argv[2], "127.0.0.1");
        ck_assert_double_eq(k->interval, 10.0);
        ck_assert_double_eq(k->timeout, 1.0);
        ck_assert_ptr_null(conf_find_check(c, "tcp.conf"));
        ck_assert_ptr_null(conf_find_check(c, "nope"));
}
END_TEST

START_TEST(test_scan_conf_errors)
{
        mkdir_in("conf.d");
        write_in("conf.d/lonely.conf", "interval = 2;\n", 0644);
        write_in("conf.d/noexec", SCRIPT, 0644);
        write_in("conf.d/noexec.conf", "rise = 1;\n", 0644);
        write_in("conf.d/web", SCRIPT, 0755);
        write_in("conf.d/web.conf", "command = [\"/bin/true\"];\n", 0644);
        write_in("conf.d/rel.conf", "command = [\"check_tcp\", \"-H\", \"127.0.0.1\"];\n", 0644);
        write_in("conf.d/empty.conf", "command = [];\n", 0644);
        write_in("conf.d/typo.conf", "command = [\"/bin/true\"];\nintervall = 2;\nrise = \"2\";\n", 0644);
        write_in("conf.d/broken.conf", "command = [\"/bin/true\"];\nrise = = 2;\n", 0644);
        write_in("conf.d/nouser.conf", "command = [\"/bin/true\"];\nuser = \"no-such-user-fo\";\n", 0644);
        write_in("conf.d/range.conf", "command = [\"/bin/true\"];\ninterval = 0;\ntimeout = 3601;\nfall = 0;\n", 0644);
        int r = load(BASE);
        expect_errors(r, 13);
        expect_err("conf.d/lonely.conf: defines no check: there is no executable script lonely beside it, no command and no type");
        expect_err("conf.d/noexec.conf: defines no check: there is no executable script noexec beside it, no command and no type");
        expect_err("conf.d/web.conf:1: command: @DIR@/conf.d/web is also a script: use one or the other");
        expect_err("conf.d/rel.conf:1: command[0]: \"check_tcp\": must be an absolute path (commands are executed "
                   "directly, without a shell)");
        expect_err("conf.d/empty.conf:1: command: must not be empty");
        expect_err("conf.d/empty.conf: defines no check: there is no executable script empty beside it, no command and no type");
        expect_err("conf.d/typo.conf:2: intervall: unknown key");
        expect_err("conf.d/typo.conf:3: rise: must be an integer, not a string");
        expect_err("conf.d/broken.conf:2: syntax error");
        expect_err("conf.d/nouser.conf:2: user: \"no-such-user-fo\": no such user");
        expect_err("conf.d/range.conf:2: interval: \"0\": must be between 0.01 and 86400 seconds");
        expect_err("conf.d/range.conf:3: timeout: \"3601\": must be between 0.01 and 3600 seconds");
        expect_err("conf.d/range.conf:4: fall: \"0\": must be between 1 and 1000");
}
END_TEST

START_TEST(test_scan_conf_fall_range)
{
        mkdir_in("conf.d");
        write_in("conf.d/x.conf", "command = [\"/bin/true\"];\nfall = 0;\n", 0644);
        expect_errors(load(BASE), 1);
        expect_err("conf.d/x.conf:2: fall: \"0\": must be between 1 and 1000");
}
END_TEST

START_TEST(test_scan_sorted)
{
        mkdir_in("conf.d");
        write_in("conf.d/zeta", SCRIPT, 0755);
        write_in("conf.d/Alpha", SCRIPT, 0755);
        write_in("conf.d/mid.conf", "command = [\"/bin/true\"];\n", 0644);
        write_in("conf.d/beta", SCRIPT, 0755);
        write_in("conf.d/10-first", SCRIPT, 0755);
        expect_ok(load(BASE));
        ck_assert_uint_eq(c->n_checks, 5);
        ck_assert_str_eq(c->check[0].name, "10-first");
        ck_assert_str_eq(c->check[1].name, "Alpha");
        ck_assert_str_eq(c->check[2].name, "beta");
        ck_assert_str_eq(c->check[3].name, "mid");
        ck_assert_str_eq(c->check[4].name, "zeta");
        ck_assert_ptr_eq(conf_find_check(c, "mid"), &c->check[3]);
}
END_TEST

START_TEST(test_scan_directory_problems)
{
        write_in("conf.d", "not a directory\n", 0644);
        expect_errors(load(BASE), 1);
        expect_err("conf.d: cannot read directory: Not a directory");

        /* conf_scan_checks again after the directory appears: replaces the list */
        diag_free(&d);
        diag_init(&d);
        expect_ok(load(BASE "checks = { directory = \"@DIR@/d2\"; };\n"));
        ck_assert_uint_eq(c->n_checks, 0);
        mkdir_in("d2");
        write_in("d2/late", SCRIPT, 0755);
        ck_assert_int_eq(conf_scan_checks(c, &d), 0);
        ck_assert_uint_eq(c->n_checks, 1);
        ck_assert_str_eq(c->check[0].name, "late");
        ck_assert_int_eq(conf_scan_checks(c, &d), 0);
        ck_assert_uint_eq(c->n_checks, 1);
}
END_TEST

START_TEST(test_valid_names)
{
        ck_assert(conf_valid_check_name("a-b_C9"));
        ck_assert(!conf_valid_check_name(""));
        ck_assert(!conf_valid_check_name("a.b"));
        ck_assert(!conf_valid_check_name("a~"));
        ck_assert(conf_valid_pathspace(""));
        ck_assert(!conf_valid_pathspace("-a"));
}
END_TEST

/* --- the shipped example --------------------------------------------------------------------------------- */

START_TEST(test_example_conf)
{
        ck_assert_int_eq(conf_load(TEST_DIR "/../conf/failoverd.conf", &c, &d), 0);
        ck_assert_uint_eq(d.n_errors, 0);
        ck_assert_int_eq(c->role, ROLE_PRIMARY);
        ck_assert_str_eq(c->checks.directory, "/etc/failoverd/conf.d");
        for (size_t i = 0; i < c->n_shared_ips; i++) {
                const struct prefix *p = &c->shared_ips[i];
                /* documentation ranges only */
                ck_assert(strncmp(p->text, "198.51.100.", 11) == 0 || strncmp(p->text, "2001:db8:", 9) == 0);
        }
        ck_assert_uint_ge(c->n_shared_ips, 2);
        ck_assert_uint_eq(strv_len(c->bgp.route_servers), 4);
}
END_TEST

/* The shipped conf.d, as it is used after `make install`: the example file with directory pointed at it. */
START_TEST(test_example_conf_d)
{
        FILE *f = fopen(TEST_DIR "/../conf/failoverd.conf", "re");
        ck_assert_ptr_nonnull(f);
        struct buf b;
        char line[1024];
        buf_init(&b);
        while (fgets(line, sizeof(line), f)) {
                if (strstr(line, "directory = \"/etc/failoverd/conf.d\""))
                        buf_puts(&b, "  directory = \"" TEST_DIR "/../conf/conf.d\";\n");
                else
                        buf_puts(&b, line);
        }
        fclose(f);
        char *path = unit_write(tdir, "failoverd.conf", b.data, 0644);
        buf_free(&b);
        int r = conf_load(path, &c, &d);
        free(path);
        if (r != 0) {
                char *all = dump();
                ck_abort_msg("example with conf/conf.d: %d:%s", r, all);
        }
        const struct check_conf *k = conf_find_check(c, "http-local");
        ck_assert_ptr_nonnull(k);
        ck_assert_ptr_nonnull(k->script);
        ck_assert_ptr_nonnull(k->conf_file);
        k = conf_find_check(c, "http-native");
        ck_assert_ptr_nonnull(k);
        ck_assert_ptr_nonnull(k->native);
        ck_assert_ptr_null(k->argv);
        ck_assert_uint_ge(c->n_checks, 2);
}
END_TEST

/* conf_check_clear (shared with lib/check.c): frees every field (ASan sees a leak otherwise) and zeroes. */
START_TEST(test_conf_check_clear)
{
        char *const argv[] = { "/bin/true", "-x", NULL };
        struct check_conf k = {
                .name = xstrdup("web"), .script = xstrdup("/x/web"), .argv = strv_copy(argv),
                .conf_file = xstrdup("/x/web.conf"), .interval = 2, .rise = 3, .user = xstrdup("nobody"),
                .cred = calloc(1, 64),
        };
        ck_assert_ptr_null(conf_check_clear(&k));
        ck_assert_ptr_null(k.name);
        ck_assert_ptr_null(k.argv);
        ck_assert_ptr_null(k.cred);
        ck_assert(k.interval == 0 && k.rise == 0);
        conf_check_clear(&k);   /* twice is harmless */
}
END_TEST

/* conf_diff_checks: the SIGHUP plan for checks (added, kept, changed, removed). */
START_TEST(test_conf_diff_checks)
{
        char *dir = unit_tmpdir(), path[512];
        struct diag dg;
        struct conf *a = NULL, *b = NULL;

        snprintf(path, sizeof(path), "%s/conf.d", dir);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        free(unit_write(path, "keep", "#!/bin/sh\nexit 0\n", 0755));
        free(unit_write(path, "change", "#!/bin/sh\nexit 0\n", 0755));
        free(unit_write(path, "gone", "#!/bin/sh\nexit 0\n", 0755));
        char text[1024];
        snprintf(text, sizeof(text), "role = \"primary\";\nshared_ips = [\"198.51.100.10\"];\n"
                 "bgp = { route_servers = [\"192.0.2.1\"]; };\nchecks = { directory = \"%s\"; };\n", path);
        char *conf = unit_write(dir, "failoverd.conf", text, 0644);
        diag_init(&dg);
        ck_assert_int_eq(conf_load(conf, &a, &dg), 0);
        snprintf(text, sizeof(text), "%s/gone", path);
        unlink(text);
        free(unit_write(path, "new", "#!/bin/sh\nexit 0\n", 0755));
        free(unit_write(path, "change.conf", "interval = 5;\n", 0644));
        ck_assert_int_eq(conf_load(conf, &b, &dg), 0);
        diag_free(&dg);

        /* a: change gone keep; b: change keep new (sorted by name) */
        ck_assert_int_eq(a->n_checks, 3);
        ck_assert_int_eq(b->n_checks, 3);
        enum conf_check_change ch[3];
        int old[3];
        bool removed[3] = { false, false, false };
        conf_diff_checks(a, b, ch, old, removed);
        ck_assert_str_eq(b->check[0].name, "change");
        ck_assert_int_eq(ch[0], CHECK_CHANGED);
        ck_assert_int_eq(old[0], 0);
        ck_assert_str_eq(b->check[1].name, "keep");
        ck_assert_int_eq(ch[1], CHECK_KEPT);
        ck_assert_int_eq(old[1], 2);
        ck_assert_str_eq(b->check[2].name, "new");
        ck_assert_int_eq(ch[2], CHECK_ADDED);
        ck_assert_int_eq(old[2], -1);
        ck_assert(!removed[0] && removed[1] && !removed[2]);   /* "gone" */

        /* Start-up: no previous config, everything is added. */
        conf_diff_checks(NULL, b, ch, old, removed);
        for (int i = 0; i < 3; i++)
                ck_assert(ch[i] == CHECK_ADDED && old[i] == -1);
        conf_free(a);
        conf_free(b);
        free(conf);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

Suite *conf_suite(void)
{
        Suite *s = suite_create("conf");
        TCase *tc;

        tc = tcase_create("file");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_conf_diff_checks);
        tcase_add_test(tc, test_conf_check_clear);
        tcase_add_test(tc, test_default_checks_directory);
        tcase_add_test(tc, test_services_model);
        tcase_add_test(tc, test_unknown_keys);
        tcase_add_test(tc, test_wrong_types);
        tcase_add_test(tc, test_role);
        tcase_add_test(tc, test_shared_ips_missing_or_empty);
        tcase_add_test(tc, test_datacenter_or_route_servers);
        tcase_add_test(tc, test_syntax_error);
        tcase_add_test(tc, test_unreadable);
        tcase_add_test(tc, test_include_relative_to_file);
        tcase_add_test(tc, test_collects_all_errors);
        suite_add_tcase(s, tc);

        tc = tcase_create("values");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_shared_ips_errors);
        tcase_add_test(tc, test_shared_ips_canonical);
        tcase_add_test(tc, test_shared_ips_hostbits_spec);
        tcase_add_test(tc, test_shared_ips_duplicates);
        tcase_add_test(tc, test_shared_ips_overlap);
        tcase_add_test(tc, test_services_overlap);
        tcase_add_test(tc, test_single_service_holds);
        tcase_add_test(tc, test_hostname);
        tcase_add_test(tc, test_group);
        tcase_add_test(tc, test_communities);
        tcase_add_test(tc, test_route_servers_given);
        tcase_add_test(tc, test_route_servers_derived);
        tcase_add_test(tc, test_expand_pattern);
        tcase_add_test(tc, test_asn);
        tcase_add_test(tc, test_bgp_ranges);
        tcase_add_test(tc, test_frr_and_checks_ranges);
        tcase_add_test(tc, test_paths);
        tcase_add_test(tc, test_pathspace);
        tcase_add_test(tc, test_failsafe);
        tcase_add_test(tc, test_extra);
        tcase_add_test(tc, test_extra_refused);
        tcase_add_test(tc, test_notify);
        tcase_add_test(tc, test_users);
        tcase_add_test(tc, test_control_groups);
        tcase_add_test(tc, test_valid_names);
        suite_add_tcase(s, tc);

        tc = tcase_create("conf.d");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_scan_run_parts_names);
        tcase_add_test(tc, test_scan_skipped_loud);
        tcase_add_test(tc, test_host_checks);
        tcase_add_test(tc, test_router_id_shared);
        tcase_add_test(tc, test_scan_script_defaults);
        tcase_add_test(tc, test_scan_override);
        tcase_add_test(tc, test_scan_command_check);
        tcase_add_test(tc, test_scan_conf_errors);
        tcase_add_test(tc, test_scan_conf_fall_range);
        tcase_add_test(tc, test_scan_sorted);
        tcase_add_test(tc, test_scan_directory_problems);
        suite_add_tcase(s, tc);

        tc = tcase_create("example");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_example_conf);
        tcase_add_test(tc, test_example_conf_d);
        suite_add_tcase(s, tc);
        return s;
}

