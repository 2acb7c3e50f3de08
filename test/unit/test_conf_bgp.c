/* Unit tests for lib/conf_bgp.c: profiles, neighbors, passwords (never on display), BFD and preferences. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

#include "conf.h"
#include "conf_bgp.h"
#include "render.h"

/* Three lines, so that a key added after BASE is on line 4. */
#define BASE "role = \"primary\";\nhostname = \"h1\";\nshared_ips = [\"198.51.100.10\", \"2001:db8:e001::/64\"];\n"
#define SECRET "s3cr3t-Key_for.MD5"

static char *tdir;
static struct diag d;
static struct conf *c;

static void setup(void)
{
        tdir = unit_tmpdir();
        diag_init(&d);
        c = NULL;
        unsetenv("CREDENTIALS_DIRECTORY");
}

static void teardown(void)
{
        c = conf_free(c);
        diag_free(&d);
        unit_rmrf(tdir);
        free(tdir);
        tdir = NULL;
        unsetenv("CREDENTIALS_DIRECTORY");
}

/* text with every @DIR@ replaced by the test's directory. */
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

static char *conf_path;

static int load(const char *text)
{
        struct buf b;
        buf_init(&b);
        buf_puts(&b, text);
        buf_puts(&b, "\nchecks = { directory = \"@DIR@/conf.d\"; };\n");
        char *body = subst(b.data);
        char p[512];
        snprintf(p, sizeof(p), "%s/conf.d", tdir);
        mkdir(p, 0755);
        free(conf_path);
        conf_path = unit_write(tdir, "failoverd.conf", body, 0644);
        c = conf_free(c);
        diag_free(&d);
        diag_init(&d);
        int r = conf_load(conf_path, &c, &d);
        free(body);
        buf_free(&b);
        return r;
}

static char *dump(void)
{
        struct buf b;
        buf_init(&b);
        for (size_t i = 0; i < d.n; i++)
                buf_printf(&b, "\n  [%d] %s", d.msgs[i].level, d.msgs[i].text);
        return buf_steal(&b);
}

static void expect_ok(int r)
{
        if (r != 0 || d.n_errors != 0) {
                char *all = dump();
                ck_abort_msg("expected success, got %d with %zu errors:%s", r, d.n_errors, all);
        }
}

/* Exactly one error, whose text is TDIR/ + msg (after @DIR@ expansion). */
static void expect_one(int r, const char *msg)
{
        char *m = subst(msg);
        char want[2048];
        snprintf(want, sizeof(want), "%s/%s", tdir, m);
        free(m);
        if (r != -EINVAL || d.n_errors != 1 || !diag_find(&d, want)) {
                char *all = dump();
                ck_abort_msg("expected the one error %s, got %d with %zu:%s", want, r, d.n_errors, all);
        }
}

static void one_error(const char *lines, const char *msg)
{
        char text[2048];
        snprintf(text, sizeof(text), BASE "%s\n", lines);
        expect_one(load(text), msg);
}

static void one_ok(const char *lines)
{
        char text[2048];
        snprintf(text, sizeof(text), BASE "%s\n", lines);
        expect_ok(load(text));
}

static void write_secret(const char *name, const char *text, int mode)
{
        free(unit_write(tdir, name, text, mode));
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", tdir, name);
        ck_assert_int_eq(chmod(p, (mode_t)mode), 0);
}

static char *render(unsigned flags, enum fo_state st)
{
        enum fo_state states[CONF_MAX_SERVICES];
        char *out = NULL;
        for (size_t i = 0; i < CONF_MAX_SERVICES; i++)
                states[i] = st;
        ck_assert_int_eq(render_frr_conf_opts(c, states, flags, &out), 0);
        return out;
}

/* --- neighbors and profiles ---------------------------------------------------------------------------- */

START_TEST(test_neighbors)
{
        one_ok("bgp = { asn = 64600; remote_as = 64700; neighbors = (\n"
               "  \"192.0.2.1\",\n"
               "  { address = \"2001:DB8:0::2\"; remote_as = \"internal\"; },\n"
               "  { address = \"198.51.100.1\"; remote_as = \"external\"; multihop = 0; bfd = true; },\n"
               "  { address = \"203.0.113.1\"; remote_as = 4200000000L; multihop = 255; }\n"
               "); };");
        ck_assert_uint_eq(c->bgp.n_peers, 4);
        ck_assert_str_eq(c->bgp.peers[0].address, "192.0.2.1");
        ck_assert_int_eq(c->bgp.peers[0].remote_as, 64700);
        ck_assert_int_eq(c->bgp.peers[0].multihop, 10);
        ck_assert_str_eq(c->bgp.peers[1].address, "2001:db8::2");
        ck_assert_int_eq(c->bgp.peers[1].remote_as, CONF_AS_INTERNAL);
        ck_assert_int_eq(c->bgp.peers[2].remote_as, CONF_AS_EXTERNAL);
        ck_assert_int_eq(c->bgp.peers[2].multihop, 0);
        ck_assert(c->bgp.peers[2].bfd && !c->bgp.peers[0].bfd);
        ck_assert_int_eq(c->bgp.peers[3].remote_as, 4200000000LL);
        /* Status, metrics and the watcher read the addresses from route_servers. */
        ck_assert_uint_eq(strv_len(c->bgp.route_servers), 4);
        ck_assert_str_eq(c->bgp.route_servers[1], "2001:db8::2");

        char *out = render(0, STATE_PRIMARY);
        ck_assert_ptr_nonnull(strstr(out, " neighbor 192.0.2.1 remote-as 64700\n neighbor 192.0.2.1 peer-group RS\n"
                                          " neighbor 192.0.2.1 ebgp-multihop 10\n"));
        /* iBGP: never ebgp-multihop; directly connected: none either. */
        ck_assert_ptr_null(strstr(out, " neighbor 2001:db8::2 ebgp-multihop"));
        ck_assert_ptr_null(strstr(out, " neighbor 198.51.100.1 ebgp-multihop"));
        ck_assert_ptr_nonnull(strstr(out, " neighbor 198.51.100.1 bfd profile failoverd\n"));
        ck_assert_ptr_nonnull(strstr(out, "bfd\n profile failoverd\n  detect-multiplier 3\n"));
        ck_assert_ptr_null(strstr(out, "neighbor RS remote-as"));
        free(out);
}
END_TEST

START_TEST(test_neighbor_errors)
{
        one_error("bgp = { neighbors = ( \"192.0.2.300\" ); };",
                  "failoverd.conf:4: bgp.neighbors[0]: \"192.0.2.300\": not an IPv4 or IPv6 address");
        one_error("bgp = { neighbors = ( \"192.0.2.1\", { address = \"192.0.2.01\"; } ); };",
                  "failoverd.conf:4: bgp.neighbors[1].address: \"192.0.2.01\": not an IPv4 or IPv6 address");
        one_error("bgp = { neighbors = ( \"2001:db8::1\",\n { address = \"2001:DB8::1\"; } ); };",
                  "failoverd.conf:5: bgp.neighbors[1].address: \"2001:DB8::1\": duplicate of 2001:db8::1");
        one_error("bgp = { neighbors = ( { address = \"192.0.2.1\"; remote_as = \"outside\"; } ); };",
                  "failoverd.conf:4: bgp.neighbors[0].remote_as: \"outside\": must be an AS number, \"external\" or "
                  "\"internal\"");
        one_error("bgp = { neighbors = ( { address = \"192.0.2.1\"; remote_as = 0; } ); };",
                  "failoverd.conf:4: bgp.neighbors[0].remote_as: \"0\": must be between 1 and 4294967295");
        one_error("bgp = { neighbors = ( { address = \"192.0.2.1\"; multihop = 256; } ); };",
                  "failoverd.conf:4: bgp.neighbors[0].multihop: \"256\": must be between 0 and 255");
        one_error("bgp = { neighbors = ( { address = \"192.0.2.1\"; bfd = 1; } ); };",
                  "failoverd.conf:4: bgp.neighbors[0].bfd: must be true or false, not an integer");
        one_error("bgp = { neighbors = ( { address = \"192.0.2.1\"; pasword_file = \"/x\"; } ); };",
                  "failoverd.conf:4: bgp.neighbors[0].pasword_file: unknown key");
        one_error("bgp = { neighbors = ( { remote_as = 1; } ); };",
                  "failoverd.conf:4: bgp.neighbors[0]: required key is missing: address");
        one_error("bgp = { neighbors = ( 5 ); };",
                  "failoverd.conf:4: bgp.neighbors[0]: must be an address or a group { address = ...; ... }");
        one_error("bgp = { neighbors = (); };", "failoverd.conf:4: bgp.neighbors: must list at least one neighbor");
        one_error("bgp = { neighbors = \"192.0.2.1\"; };",
                  "failoverd.conf:4: bgp.neighbors: must be a list: neighbors = ( { address = ...; ... }, ... )");
        one_error("bgp = { route_servers = [\"192.0.2.1\"];\n neighbors = ( \"192.0.2.2\" ); };",
                  "failoverd.conf:5: bgp.neighbors: cannot be used together with bgp.route_servers (line 4)");
        one_error("bgp = { remote_as = \"ibgp\"; neighbors = ( \"192.0.2.1\" ); };",
                  "failoverd.conf:4: bgp.remote_as: \"ibgp\": must be an AS number, \"external\" or \"internal\"");
}
END_TEST

START_TEST(test_profiles)
{
        /* Without datacenter or route_servers the Linode default still asks for them, exactly as before. */
        one_error("bgp = { profile = \"linode\"; };",
                  "failoverd.conf: datacenter: required key is missing (or set bgp.route_servers)");
        one_error("bgp = { profile = \"azure\"; route_servers = [\"192.0.2.1\"]; };",
                  "failoverd.conf:4: bgp.profile: \"azure\": must be \"linode\", \"vultr\", \"aws-route-server\" or "
                  "\"generic\"");

        one_ok("bgp = { profile = \"vultr\"; asn = 65500; };");
        ck_assert_uint_eq(c->bgp.n_peers, 1);
        ck_assert_str_eq(c->bgp.peers[0].address, "169.254.169.254");
        ck_assert_int_eq(c->bgp.peers[0].remote_as, 64515);
        ck_assert_int_eq(c->bgp.peers[0].multihop, 2);
        /* Given neighbors take the profile's remote AS and hops. */
        one_ok("bgp = { profile = \"vultr\"; asn = 65500; neighbors = ( \"169.254.169.254\", \"2001:db8::1\" ); };");
        ck_assert_int_eq(c->bgp.peers[1].remote_as, 64515);
        ck_assert_int_eq(c->bgp.peers[1].multihop, 2);
        ck_assert_int_eq(c->bgp.preference, PREFER_PREPEND);
        /* Vultr gives every account a BGP password: a warning without one. */
        ck_assert_ptr_nonnull(diag_find(&d, "bgp.profile: \"vultr\": no bgp.password_file: Vultr's sessions need the "
                                           "BGP password from the portal"));
        one_error("bgp = { profile = \"vultr\"; asn = 65500; route_servers = [\"192.0.2.1\"]; };",
                  "failoverd.conf:4: bgp.route_servers: is Linode's form: with profile \"vultr\" list the peers in "
                  "bgp.neighbors");
        one_ok("bgp = { profile = \"vultr\"; asn = 65500; multihop = 3; preference = \"med\"; };");
        ck_assert_int_eq(c->bgp.peers[0].multihop, 3);
        ck_assert_int_eq(c->bgp.preference, PREFER_MED);
        one_error("bgp = { profile = \"vultr\"; };",
                  "failoverd.conf:4: bgp.profile: \"vultr\": needs bgp.asn (this host's AS number, from the Vultr "
                  "portal)");

        /* One error only: not also "datacenter is missing". */
        one_error("bgp = { profile = \"aws-route-server\"; asn = 65010; };",
                  "failoverd.conf:4: bgp.profile: \"aws-route-server\": needs bgp.neighbors (the route servers' "
                  "addresses)");
        one_ok("bgp = { profile = \"aws-route-server\"; asn = 65010; remote_as = 65000;\n"
               "  neighbors = ( \"192.0.2.10\", \"192.0.2.11\" ); };");
        ck_assert_int_eq(c->bgp.peers[1].multihop, 0);
        ck_assert_int_eq(c->bgp.peers[1].remote_as, 65000);
        one_error("bgp = { profile = \"generic\"; asn = 64600; };",
                  "failoverd.conf:4: bgp.profile: \"generic\": needs bgp.neighbors (the route servers' addresses)");
        one_ok("bgp = { profile = \"generic\"; asn = 64600; neighbors = ( \"192.0.2.1\" ); };");
        ck_assert_int_eq(c->bgp.peers[0].remote_as, CONF_AS_EXTERNAL);
        ck_assert_int_eq(c->bgp.peers[0].multihop, 10);
        ck_assert_int_eq(c->bgp.preference, PREFER_COMMUNITY);
}
END_TEST

/* The route_servers form with none of the new keys renders exactly as before: the goldens hold the bytes;
 * here the new keys at their defaults change nothing either. */
START_TEST(test_defaults_render_as_before)
{
        one_ok("datacenter = 4;");
        char *before = render(0, STATE_DEMOTED);
        one_ok("datacenter = 4;\nbgp = { profile = \"linode\"; preference = \"community\"; priority = 0; bfd = false;\n"
               " password_file = \"\"; };");
        char *after = render(0, STATE_DEMOTED);
        ck_assert_str_eq(before, after);
        ck_assert_ptr_null(strstr(after, "bfd"));
        ck_assert_ptr_null(strstr(after, "password"));
        free(before);
        free(after);
}
END_TEST

/* --- passwords ----------------------------------------------------------------------------------------- */

static bool diag_mentions(const char *s)
{
        for (size_t i = 0; i < d.n; i++)
                if (strstr(d.msgs[i].text, s))
                        return true;
        return false;
}

START_TEST(test_password_file)
{
        write_secret("pw", SECRET "\n", 0600);
        one_ok("bgp = { route_servers = [\"192.0.2.1\"]; password_file = \"@DIR@/pw\"; };");
        ck_assert_str_eq(c->bgp.password, SECRET);
        char *out = render(0, STATE_PRIMARY);
        ck_assert_ptr_nonnull(strstr(out, " neighbor RS password " SECRET "\n"));
        free(out);
        out = render(RENDER_MASK_SECRETS, STATE_PRIMARY);
        ck_assert_ptr_nonnull(strstr(out, " neighbor RS password ********\n"));
        ck_assert_ptr_null(strstr(out, SECRET));
        free(out);

        /* Per peer: the group's by default, its own, or none. */
        write_secret("pw2", "other-key", 0400);
        one_ok("bgp = { password_file = \"@DIR@/pw\"; neighbors = ( \"192.0.2.1\",\n"
               "  { address = \"192.0.2.2\"; password_file = \"@DIR@/pw2\"; },\n"
               "  { address = \"192.0.2.3\"; password_file = \"\"; } ); };");
        ck_assert_str_eq(c->bgp.peers[0].password, SECRET);
        ck_assert_str_eq(c->bgp.peers[1].password, "other-key");
        ck_assert_ptr_null(c->bgp.peers[2].password);
        out = render(0, STATE_PRIMARY);
        ck_assert_ptr_nonnull(strstr(out, " neighbor 192.0.2.1 password " SECRET "\n"));
        ck_assert_ptr_nonnull(strstr(out, " neighbor 192.0.2.2 password other-key\n"));
        ck_assert_ptr_null(strstr(out, " neighbor 192.0.2.3 password"));
        ck_assert_ptr_null(strstr(out, "neighbor RS password"));
        free(out);
}
END_TEST

START_TEST(test_password_errors)
{
        one_error("bgp = { route_servers = [\"192.0.2.1\"]; password_file = \"@DIR@/none\"; };",
                  "failoverd.conf:4: bgp.password_file: \"@DIR@/none\": cannot open: No such file or directory");
        write_secret("pw", SECRET "\n", 0644);
        one_error("bgp = { route_servers = [\"192.0.2.1\"]; password_file = \"@DIR@/pw\"; };",
                  "failoverd.conf:4: bgp.password_file: \"@DIR@/pw\": is readable or writable by every user (mode "
                  "0644): chmod o-rwx it");
        ck_assert(!diag_mentions(SECRET));
        write_secret("pw", SECRET "\n", 0602);
        one_error("bgp = { route_servers = [\"192.0.2.1\"]; password_file = \"@DIR@/pw\"; };",
                  "failoverd.conf:4: bgp.password_file: \"@DIR@/pw\": is readable or writable by every user (mode "
                  "0602): chmod o-rwx it");
        one_error("bgp = { route_servers = [\"192.0.2.1\"]; password_file = \"@DIR@\"; };",
                  "failoverd.conf:4: bgp.password_file: \"@DIR@\": not a regular file");

        /* Bad contents: the message names the file, never what is in it. */
        static const char *const bad[] = { "", "\n", "twoz words\n", "zqa1\nzqa2\n", "tabz\there",
                "012345678901234567890123456789012345678901234567890123456789012345678901234567890" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                write_secret("bad", bad[i], 0600);
                one_error("bgp = { neighbors = ( { address = \"192.0.2.1\"; password_file = \"@DIR@/bad\"; } ); };",
                          "failoverd.conf:4: bgp.neighbors[0].password_file: \"@DIR@/bad\": must hold one line of 1 "
                          "to 80 printable characters without spaces (a TCP-MD5 key)");
                if (strlen(bad[i]) > 2) {
                        char part[8];
                        snprintf(part, sizeof(part), "%.4s", bad[i]);
                        ck_assert_msg(!diag_mentions(part), "message quotes the file's contents (%s)", part);
                }
        }
        /* 80 characters is the TCP-MD5 limit and fine. */
        write_secret("ok", "01234567890123456789012345678901234567890123456789012345678901234567890123456789", 0600);
        one_ok("bgp = { neighbors = ( { address = \"192.0.2.1\"; password_file = \"@DIR@/ok\"; } ); };");
        ck_assert_uint_eq(strlen(c->bgp.peers[0].password), 80);
        one_error("bgp = { route_servers = [\"192.0.2.1\"]; password_file = \"a/b\"; };",
                  "failoverd.conf:4: bgp.password_file: \"a/b\": must be an absolute path or a systemd credential name");
}
END_TEST

START_TEST(test_password_credential)
{
        one_error("bgp = { route_servers = [\"192.0.2.1\"]; password_file = \"bgp-password\"; };",
                  "failoverd.conf:4: bgp.password_file: \"bgp-password\": is a credential name, but "
                  "$CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit), or give an absolute path");
        char cred[512];
        snprintf(cred, sizeof(cred), "%s/creds", tdir);
        ck_assert_int_eq(mkdir(cred, 0700), 0);
        free(unit_write(cred, "bgp-password", SECRET "\n", 0400));
        setenv("CREDENTIALS_DIRECTORY", cred, 1);
        one_ok("bgp = { route_servers = [\"192.0.2.1\"]; password_file = \"bgp-password\"; };");
        ck_assert_str_eq(c->bgp.password, SECRET);
        one_error("bgp = { route_servers = [\"192.0.2.1\"]; password_file = \"other\"; };",
                  "failoverd.conf:4: bgp.password_file: \"@DIR@/creds/other\": cannot open: No such file or directory");
}
END_TEST

START_TEST(test_redact)
{
        write_secret("pw", SECRET "\n", 0600);
        write_secret("pw2", "k2\n", 0600);
        one_ok("bgp = { password_file = \"@DIR@/pw\"; neighbors = ( \"192.0.2.1\",\n"
               "  { address = \"192.0.2.2\"; password_file = \"@DIR@/pw2\"; } ); };");
        ck_assert(conf_has_secrets(c));
        char text[] = "line 7: % Unknown command: neighbor 192.0.2.1 password " SECRET "\n"
                      "neighbor 192.0.2.2 password k2 " SECRET SECRET;
        conf_redact(c, text);
        ck_assert_ptr_null(strstr(text, SECRET));
        ck_assert_ptr_null(strstr(text, "password k2"));
        ck_assert_ptr_nonnull(strstr(text, "neighbor 192.0.2.1 password ******************\n"));
        conf_redact(c, NULL);
        conf_redact(NULL, text);
        one_ok("datacenter = 4;");
        ck_assert(!conf_has_secrets(c));
}
END_TEST

/* Runs FAILOVERD_BIN with args, stdout and stderr into one file; returns its contents and *status. */
static char *run_failoverd(char *const *args, int *status)
{
        const char *bin = getenv("FAILOVERD_BIN");
        char *argv[16];
        size_t n = 0;
        argv[n++] = (char *)(bin ? bin : BUILD_DIR "/failoverd");
        for (; *args && n < 15; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        char out[512];
        snprintf(out, sizeof(out), "%s/out.txt", tdir);
        posix_spawn_file_actions_t fa;
        ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
        ck_assert_int_eq(posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
        ck_assert_int_eq(posix_spawn_file_actions_adddup2(&fa, 1, 2), 0);
        extern char **environ;
        pid_t pid;
        ck_assert_int_eq(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
        posix_spawn_file_actions_destroy(&fa);
        ck_assert_int_eq(waitpid(pid, status, 0), pid);
        FILE *f = fopen(out, "re");
        ck_assert_ptr_nonnull(f);
        struct buf b;
        char chunk[4096];
        size_t k;
        buf_init(&b);
        while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
                buf_append(&b, chunk, k);
        fclose(f);
        return b.data ? buf_steal(&b) : strdup("");
}

/* The secret in no output of the one-shot modes but --render --show-secrets. */
START_TEST(test_secret_not_on_display)
{
        int st;
        write_secret("pw", SECRET "\n", 0600);
        one_ok("bgp = { route_servers = [\"192.0.2.1\"]; password_file = \"@DIR@/pw\"; bfd = true; };");
        char *out;

        out = run_failoverd((char *[]){ "-c", conf_path, "--check", NULL }, &st);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "--check: %s", out);
        ck_assert_ptr_null(strstr(out, SECRET));
        free(out);
        out = run_failoverd((char *[]){ "-c", conf_path, "--check", "-v", NULL }, &st);
        ck_assert_ptr_null(strstr(out, SECRET));
        free(out);
        out = run_failoverd((char *[]){ "-c", conf_path, "--render", "--state", "demoted", NULL }, &st);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "--render: %s", out);
        ck_assert_ptr_null(strstr(out, SECRET));
        ck_assert_ptr_nonnull(strstr(out, " neighbor RS password ********\n"));
        free(out);
        out = run_failoverd((char *[]){ "-c", conf_path, "--render", "--show-secrets", NULL }, &st);
        ck_assert_ptr_nonnull(strstr(out, " neighbor RS password " SECRET "\n"));
        free(out);
        out = run_failoverd((char *[]){ "-c", conf_path, "--check", "--show-secrets", NULL }, &st);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s", out);
        ck_assert_ptr_nonnull(strstr(out, "--show-secrets goes with --render"));
        free(out);

        /* A broken configuration with a password: the errors name files, not the key. */
        write_secret("pw", SECRET " x\n", 0600);
        out = run_failoverd((char *[]){ "-c", conf_path, "--check", NULL }, &st);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s", out);
        ck_assert_ptr_nonnull(strstr(out, "bgp.password_file"));
        ck_assert_ptr_null(strstr(out, SECRET));
        free(out);
}
END_TEST

/* --- preference ---------------------------------------------------------------------------------------- */

START_TEST(test_preference)
{
        one_ok("datacenter = 4;\nbgp = { preference = \"prepend\"; prepend = 2; priority = 1; asn = 64512; };");
        char *out = render(0, STATE_SECONDARY);
        ck_assert_ptr_nonnull(strstr(out, "route-map primary permit 10\nexit\n"));
        ck_assert_ptr_nonnull(strstr(out, "route-map secondary permit 10\n set as-path prepend 64512 64512 64512\nexit\n"));
        ck_assert_ptr_nonnull(strstr(out, "route-map demoted permit 10\n set as-path prepend 64512 64512 64512 64512 "
                                          "64512 64512\nexit\n"));
        ck_assert_ptr_null(strstr(out, "community"));
        free(out);

        one_ok("datacenter = 4;\nbgp = { preference = \"med\"; priority = 3; };");
        out = render(0, STATE_SECONDARY);
        ck_assert_ptr_nonnull(strstr(out, "route-map primary permit 10\n set metric 0\nexit\n"));
        ck_assert_ptr_nonnull(strstr(out, "route-map secondary permit 10\n set metric 130\nexit\n"));
        ck_assert_ptr_nonnull(strstr(out, "route-map demoted permit 10\n set metric 230\nexit\n"));
        free(out);

        one_ok("datacenter = 4;\nbgp = { priority = 1; };");
        out = render(0, STATE_SECONDARY);
        ck_assert_ptr_nonnull(strstr(out, "route-map secondary permit 10\n set community 65000:2\n"
                                          " set as-path prepend 65001\nexit\n"));
        ck_assert_ptr_nonnull(strstr(out, "route-map demoted permit 10\n set community 65000:2\n"
                                          " set as-path prepend 65001 65001 65001 65001\nexit\n"));
        free(out);

        one_error("datacenter = 4;\nbgp = { preference = \"lowest\"; };",
                  "failoverd.conf:5: bgp.preference: \"lowest\": must be \"community\", \"prepend\" or \"med\"");
        one_error("datacenter = 4;\nbgp = { priority = 3; };",
                  "failoverd.conf:5: bgp.priority: \"3\": must be less than bgp.demote_prepend (3): a demoted host "
                  "would win against a healthy secondary");
        one_ok("datacenter = 4;\nbgp = { priority = 3; demote_prepend = 4; };");
        one_error("datacenter = 4;\nbgp = { preference = \"med\";\n priority = 10; };",
                  "failoverd.conf:6: bgp.priority: \"10\": secondary + priority x step (200) must be less than demoted "
                  "(200): a demoted host would win against a healthy secondary");
        one_error("datacenter = 4;\nbgp = { preference = \"med\";\n med = { primary = 100; }; };",
                  "failoverd.conf:6: bgp.med: primary (100) must be less than secondary (100)");
        one_error("datacenter = 4;\nbgp = { preference = \"med\"; med = { step = 0; }; };",
                  "failoverd.conf:5: bgp.med.step: \"0\": must be between 1 and 4294967295");
        one_error("datacenter = 4;\nbgp = { med = { lowest = 0; }; };",
                  "failoverd.conf:5: bgp.med.lowest: unknown key");
        one_error("datacenter = 4;\nbgp = { bfd_interval = 5; };",
                  "failoverd.conf:5: bgp.bfd_interval: \"5\": must be between 10 and 60000");
}
END_TEST

/* bgp.secondary: "silent" changes what a secondary announces at run time (agent/services.c), not the rendering. */
START_TEST(test_secondary_silent)
{
        one_ok("datacenter = 4;\nbgp = { preference = \"prepend\"; asn = 64512; };");
        ck_assert(!c->bgp.secondary_silent);
        char *before = render(0, STATE_SECONDARY);
        one_ok("datacenter = 4;\nbgp = { preference = \"prepend\"; asn = 64512; secondary = \"announce\"; };");
        ck_assert(!c->bgp.secondary_silent);
        one_ok("datacenter = 4;\ndrain_check = [\"/bin/true\"];\n"
               "bgp = { preference = \"prepend\"; asn = 64512; secondary = \"silent\"; };");
        ck_assert(c->bgp.secondary_silent);
        char *out = render(0, STATE_SECONDARY);
        ck_assert_str_eq(out, before);
        free(out);
        free(before);

        one_error("datacenter = 4;\nbgp = { secondary = \"quiet\"; };",
                  "failoverd.conf:5: bgp.secondary: \"quiet\": must be \"announce\" or \"silent\"");
        one_error("datacenter = 4;\nbgp = {\n secondary = \"silent\"; };",
                  "failoverd.conf:6: bgp.secondary: \"silent\": needs drain_check (the program that says the primary "
                  "is healthy): without it a silent secondary would never announce");
        one_error("datacenter = 4;\nbgp = { secondary = true; };",
                  "failoverd.conf:5: bgp.secondary: must be a string, not a boolean");
}
END_TEST

static bool diag_has(enum diag_level lvl, const char *msg)
{
        char *m = subst(msg);
        bool found = false;
        for (size_t i = 0; i < d.n; i++)
                found |= d.msgs[i].level == lvl && strcmp(d.msgs[i].text, m) == 0;
        free(m);
        return found;
}

/* bfdd must be enabled in FRR's daemons file beside frr.config; a warning says so, not an error. */
START_TEST(test_bfdd_enabled)
{
        static const char conf[] = "datacenter = 4;\nbgp = { bfd = true; };\nfrr = { config = \"@DIR@/frr.conf\"; };";
        const char *missing = "@DIR@/failoverd.conf: bgp.bfd: cannot read FRR's daemons file @DIR@/daemons (No such file "
                              "or directory): BFD sessions come up only when bfdd runs (bfdd=yes)";
        const char *off = "@DIR@/failoverd.conf: bgp.bfd: bfdd is not enabled in @DIR@/daemons: set bfdd=yes and restart "
                          "FRR, or BFD sessions never come up";

        one_ok(conf);
        ck_assert(diag_has(DIAG_WARNING, missing));
        free(unit_write(tdir, "daemons", "bgpd=yes\n# bfdd=yes\nbfdd=no\n", 0644));
        one_ok(conf);
        ck_assert(diag_has(DIAG_WARNING, off));
        free(unit_write(tdir, "daemons", "bgpd=yes\n  bfdd = \"yes\"\n", 0644));
        one_ok(conf);
        ck_assert(!diag_has(DIAG_WARNING, off) && !diag_has(DIAG_WARNING, missing));
        /* No BFD anywhere: the daemons file is not read. */
        char daemons[600];
        snprintf(daemons, sizeof(daemons), "%s/daemons", tdir);
        ck_assert_int_eq(unlink(daemons), 0);
        one_ok("datacenter = 4;\nfrr = { config = \"@DIR@/frr.conf\"; };");
        ck_assert_uint_eq(d.n, 0);
}
END_TEST

Suite *conf_bgp_suite(void)
{
        Suite *s = suite_create("conf_bgp");
        TCase *tc = tcase_create("conf_bgp");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_neighbors);
        tcase_add_test(tc, test_neighbor_errors);
        tcase_add_test(tc, test_profiles);
        tcase_add_test(tc, test_defaults_render_as_before);
        tcase_add_test(tc, test_password_file);
        tcase_add_test(tc, test_password_errors);
        tcase_add_test(tc, test_password_credential);
        tcase_add_test(tc, test_redact);
        tcase_add_test(tc, test_secret_not_on_display);
        tcase_add_test(tc, test_preference);
        tcase_add_test(tc, test_secondary_silent);
        tcase_add_test(tc, test_bfdd_enabled);
        suite_add_tcase(s, tc);
        return s;
}
