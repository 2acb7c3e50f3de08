/* Hostile input: values that try to inject FRR lines are refused before rendering, malformed bgpd output
 * never crashes a reader, and every input the fuzzers once crashed on is replayed (test/fixtures/regress). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bgpd.h"
#include "buf.h"
#include "conf.h"
#include "conf_valid.h"
#include "render.h"
#include "unit.h"

#define REGRESS TEST_DIR "/fixtures/regress"
#define FRR TEST_DIR "/fixtures/frr"
/* FRR 8.4.4 (Debian 12) and FRR 10.3 (Debian 13) outputs, captured by test/lab/capture-fixtures.sh */
static const char *const frr_dirs[] = { FRR, TEST_DIR "/fixtures/frr-10.3" };

static char *slurp(const char *path, size_t *len)
{
        char chunk[4096];
        struct buf b;
        size_t n;

        FILE *f = fopen(path, "re");
        ck_assert_msg(f != NULL, "cannot open %s", path);
        buf_init(&b);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                ck_assert_int_eq(buf_append(&b, chunk, n), 0);
        fclose(f);
        if (!b.data)
                ck_assert_int_eq(buf_puts(&b, ""), 0);
        if (len)
                *len = b.len;
        return buf_steal(&b);
}

/* Loads text as failoverd.conf in a fresh directory with an empty conf.d; returns conf_load's result and,
 * when it failed, whether some error message contains want. */
static int load_text(const char *text, const char *want, bool *found)
{
        char *dir = unit_tmpdir();
        char cd[512];
        struct diag d;
        struct conf *c = NULL;

        snprintf(cd, sizeof(cd), "%s/conf.d", dir);
        ck_assert_int_eq(mkdir(cd, 0755), 0);
        char *path = unit_write(dir, "failoverd.conf", text, 0644);
        diag_init(&d);
        int r = conf_load(path, &c, &d);
        *found = false;
        for (size_t i = 0; i < d.n; i++)
                if (d.msgs[i].level == DIAG_ERROR && want && strstr(d.msgs[i].text, want))
                        *found = true;
        if (r == 0) {
                /* Loaded after all: the rendering must not carry the hostile value. */
                char *out = NULL;
                enum fo_state st[1] = { STATE_PRIMARY };
                ck_assert_int_eq(render_frr_conf(c, st, &out), 0);
                ck_assert_msg(!strstr(out, "injected"), "injected text reached the rendering:\n%s", out);
                free(out);
        } else {
                ck_assert_ptr_null(c);
        }
        conf_free(c);
        diag_free(&d);
        free(path);
        unit_rmrf(dir);
        free(dir);
        return r;
}

/* Each value tries to smuggle an FRR line (or an extra vtysh argument) through one key. The base config
 * is valid; %s is replaced by the hostile setting. */
static const struct {
        const char *setting;    /* libconfig text; \n inside a string is libconfig's escape for a newline */
        const char *key;        /* the key the error must name */
} injections[] = {
        { "hostname = \"h1\\nrouter bgp 1 injected\";", "hostname" },
        { "hostname = \"h1 injected\";", "hostname" },
        { "hostname = \"h1\\rinjected\";", "hostname" },
        { "bgp = { route_servers = [\"2001:db8:f0::1\"]; communities = { primary = \"65000:1\\nline vty injected\"; }; };",
          "communities.primary" },
        { "bgp = { route_servers = [\"2001:db8:f0::1\"]; communities = { secondary = \"65000:2 injected\"; }; };",
          "communities.secondary" },
        { "bgp = { route_servers = [\"2001:db8:f0::1\\n neighbor injected remote-as 1\"]; };", "route_servers" },
        { "bgp = { route_servers = [\"192.0.2.1 remote-as injected\"]; };", "route_servers" },
        { "bgp = { route_servers = [\"2001:db8:f0::1\"]; router_id = \"192.0.2.9\\ninjected\"; };", "router_id" },
        { "datacenter = 4; bgp = { neighbor_pattern = \"2001:db8:%d:34::%d\\ninjected\"; };", "neighbor_pattern" },
        { "datacenter = 4; bgp = { neighbor_pattern = \"2001:db8:%d:34::%d injected\"; };", "neighbor_pattern" },
        { "datacenter = 4; bgp = { neighbor_pattern = \"2001:db8:%d:34::%s\"; };", "neighbor_pattern" },
        { "bgp = { route_servers = [\"2001:db8:f0::1\"]; }; frr = { pathspace = \"lab\\ninjected\"; };", "pathspace" },
        { "bgp = { route_servers = [\"2001:db8:f0::1\"]; }; frr = { pathspace = \"../injected\"; };", "pathspace" },
        { "bgp = { route_servers = [\"2001:db8:f0::1\"]; }; frr = { pathspace = \"-b injected\"; };", "pathspace" },
        { "bgp = { route_servers = [\"2001:db8:f0::1\"]; }; frr = { extra = \"/tmp/x\\ninjected\"; };", "frr.extra" },
        { "bgp = { route_servers = [\"2001:db8:f0::1\"]; }; frr = { config = \"/tmp/frr.conf\\ninjected\"; };", "frr.config" },
        { "bgp = { route_servers = [\"2001:db8:f0::1\"]; }; frr = { vtysh = \"vtysh -c injected\"; };", "frr.vtysh" },
        { "bgp = { route_servers = [\"2001:db8:f0::1\"]; }; frr = { reload = \"/usr/lib/frr/frr-reload.py\\ninjected\"; };",
          "frr.reload" },
};

START_TEST(test_injection_rejected)
{
        char text[1024];
        bool found;

        snprintf(text, sizeof(text), "role = \"primary\";\nshared_ips = [\"198.51.100.10\"];\n%s\n",
                 injections[_i].setting);
        int r = load_text(text, injections[_i].key, &found);
        ck_assert_msg(r == -EINVAL, "accepted: %s", injections[_i].setting);
        ck_assert_msg(found, "no error naming %s for: %s", injections[_i].key, injections[_i].setting);
}
END_TEST

START_TEST(test_shared_ip_injection_rejected)
{
        static const char *const bad[] = {
                "198.51.100.10/32\\n network 203.0.113.1/32", "198.51.100.10 route-map x",
                "2001:db8:e001:1b8c::/64\\ninjected", "198.51.100.10/32 ", " 198.51.100.10",
        };
        char text[512];
        bool found;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                snprintf(text, sizeof(text),
                         "role = \"primary\";\nshared_ips = [\"%s\"];\nbgp = { route_servers = [\"2001:db8:f0::1\"]; };\n",
                         bad[i]);
                ck_assert_msg(load_text(text, "shared_ips[0]", &found) == -EINVAL, "accepted %s", bad[i]);
                ck_assert_msg(found, "no error naming shared_ips[0] for %s", bad[i]);
        }
}
END_TEST

/* The validators themselves, on the characters FRR's CLI splits or ends lines on. */
START_TEST(test_validators_refuse_line_breaks)
{
        static const char *const v[] = { "a\nb", "a\rb", "a b", "a\tb", "a\v", "a;b", "a!b", "", "a\n" };
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                ck_assert_msg(!conf_valid_hostname(v[i]), "hostname %s", v[i]);
                ck_assert_msg(!conf_valid_community(v[i]), "community %s", v[i]);
                if (v[i][0])
                        ck_assert_msg(!conf_valid_pathspace(v[i]), "pathspace %s", v[i]);
        }
        ck_assert(!conf_valid_community("65000:1\n"));
        ck_assert(!conf_valid_community("65000:1 "));
        ck_assert(!conf_valid_community("65536:1"));
        ck_assert(!conf_valid_community("-1:1"));
        ck_assert(conf_valid_community("65000:1"));
}
END_TEST

/* Every fixture through every reader (a summary given to the neighbors parser, a running config given to
 * the JSON parsers, ...), whole and truncated at every length: no crash, and errors are errors. */
static void all_readers(const char *text)
{
        struct bgpd_status s = { 0 };
        struct bgpd_running run;

        if (bgpd_parse_neighbors(text, &s) == 0)
                ck_assert(s.n_peers == 0 || s.peers);
        bgpd_status_clear(&s);
        if (bgpd_parse_summary(text, &s) == 0)
                ck_assert(s.n_peers == 0 || s.peers);
        bgpd_status_clear(&s);
        int r = bgpd_parse_router_id(text, &s);
        ck_assert(r == 0 || r == -EBADMSG || r == -ENOMEM || r == -EINVAL);
        ck_assert(memchr(s.router_id, '\0', sizeof(s.router_id)));
        bgpd_status_clear(&s);
        ck_assert_int_eq(bgpd_parse_running(text, 65001, &run), 0);
        bgpd_running_clear(&run);
}

START_TEST(test_fixtures_cross_and_truncated)
{
        DIR *d = opendir(frr_dirs[_i]);
        struct dirent *e;
        char path[1024];
        size_t n = 0;

        ck_assert_ptr_nonnull(d);
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", frr_dirs[_i], e->d_name);
                size_t len;
                char *text = slurp(path, &len);
                all_readers(text);
                /* Truncations at 97 cut points (every length is the bgpd suite's job for its own fixtures). */
                for (size_t k = 1; k < 97 && len; k++) {
                        char *cut = strndup(text, len * k / 97);
                        all_readers(cut);
                        free(cut);
                }
                /* A NUL-free byte flip in the middle, as the watch could read from a torn pipe. */
                if (len > 2) {
                        text[len / 2] ^= 0x5a;
                        if (text[len / 2] == '\0')
                                text[len / 2] = '{';
                        all_readers(text);
                }
                free(text);
                n++;
        }
        closedir(d);
        ck_assert_uint_ge(n, 10);
}
END_TEST

/* Replays one regression input: a conf/ file through conf_load, a bgpd/ file through every reader. */
static void replay(const char *kind, const char *path)
{
        if (strcmp(kind, "bgpd") == 0) {
                char *text = slurp(path, NULL);
                all_readers(text);
                free(text);
                return;
        }
        char *dir = unit_tmpdir();
        char cwd[4096];
        struct diag d;
        struct conf *c = NULL;
        ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
        /* As in the fuzzer: relative paths in the input land in an empty directory. */
        ck_assert_int_eq(chdir(dir), 0);
        diag_init(&d);
        int r = conf_load(path, &c, &d);
        ck_assert(r == 0 || c == NULL);
        conf_free(c);
        diag_free(&d);
        ck_assert_int_eq(chdir(cwd), 0);
        unit_rmrf(dir);
        free(dir);
}

/* failoverd --check -c path must end by exit 0 or 1, never by a signal. */
static void check_in_daemon(const char *path)
{
        const char *bin = getenv("FAILOVERD_BIN");
        char *argv[] = { (char *)(bin ? bin : BUILD_DIR "/failoverd"), "--check", "-c", (char *)path, NULL };
        int st;

        /* posix_spawn, no code of ours in a forked child (it could stall on a lock held at fork time). */
        extern char **environ;
        size_t n = 0;
        while (environ[n])
                n++;
        char **env = calloc(n + 2, sizeof(char *));
        ck_assert_ptr_nonnull(env);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (strncmp(environ[i], "LSAN_OPTIONS=", 13) != 0)
                        env[k++] = environ[i];
        /* The sanitizer build reports libconfig's leak at exit unless told it is known. */
        env[k++] = "LSAN_OPTIONS=suppressions=" TEST_DIR "/fuzz/lsan.supp";
        posix_spawn_file_actions_t fa;
        ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
        ck_assert_int_eq(posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0), 0);
        ck_assert_int_eq(posix_spawn_file_actions_adddup2(&fa, 1, 2), 0);
        pid_t pid;
        ck_assert_int_eq(posix_spawn(&pid, argv[0], &fa, NULL, argv, env), 0);
        posix_spawn_file_actions_destroy(&fa);
        free(env);
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert_msg(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 1),
                      "failoverd --check -c %s: status %#x", path, st);
}

/* Runs argv (argv[0] a path) with stdout and stderr into out_path, killed after 20 s; returns the wait status. */
static int run_bounded(char *const argv[], const char *out_path)
{
        extern char **environ;
        size_t n = 0;
        while (environ[n])
                n++;
        char **env = calloc(n + 2, sizeof(char *));
        ck_assert_ptr_nonnull(env);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (strncmp(environ[i], "LSAN_OPTIONS=", 13) != 0)
                        env[k++] = environ[i];
        env[k++] = "LSAN_OPTIONS=suppressions=" TEST_DIR "/fuzz/lsan.supp";
        posix_spawn_file_actions_t fa;
        ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
        ck_assert_int_eq(posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
        ck_assert_int_eq(posix_spawn_file_actions_adddup2(&fa, 1, 2), 0);
        pid_t pid;
        ck_assert_int_eq(posix_spawn(&pid, argv[0], &fa, NULL, argv, env), 0);
        posix_spawn_file_actions_destroy(&fa);
        free(env);
        int st = 0;
        for (int i = 0; i < 2000 && waitpid(pid, &st, WNOHANG) == 0; i++)
                usleep(10000);
        if (waitpid(pid, &st, WNOHANG) == 0) {
                kill(pid, SIGKILL);
                ck_assert_int_eq(waitpid(pid, &st, 0), pid);
                ck_abort_msg("%s ran for 20 s: it should have refused its configuration", argv[0]);
        }
        return st;
}

/* The daemon itself (not only conf_load) refuses each injected value at start, with an error, before any
 * vtysh call: frr.vtysh is a recorder that would leave a file. Moved here from the FRR lab (76-hostile):
 * nothing of FRR is needed to show that nothing reaches it. */
START_TEST(test_injection_refused_by_daemon)
{
        const char *bin = getenv("FAILOVERD_BIN");
        char *dir = unit_tmpdir();
        char text[2048], calls[600], recorder[700], cd[600], out_path[600];

        snprintf(calls, sizeof(calls), "%s/vtysh.calls", dir);
        snprintf(recorder, sizeof(recorder), "#!/bin/sh\necho \"$@\" >> %s\nexit 0\n", calls);
        char *vtysh = unit_write(dir, "vtysh", recorder, 0755);
        snprintf(cd, sizeof(cd), "%s/conf.d", dir);
        ck_assert_int_eq(mkdir(cd, 0755), 0);
        snprintf(out_path, sizeof(out_path), "%s/out", dir);
        /* The injections above set bgp and frr themselves: vtysh and config go in a second frr group only where
         * they do not, so each file is exactly one hostile value away from a valid one. */
        for (size_t i = 0; i < sizeof(injections) / sizeof(injections[0]); i++) {
                bool has_frr = strstr(injections[i].setting, "frr = {") != NULL;
                snprintf(text, sizeof(text),
                         "role = \"primary\";\nshared_ips = [\"198.51.100.10\"];\n"
                         "checks = { directory = \"%s\"; };\nruntime_directory = \"%s/run\";\n"
                         "state_directory = \"%s/state\";\n%s\n%s%s%s%s%s\n",
                         cd, dir, dir, injections[i].setting, has_frr ? "" : "frr = { vtysh = \"", has_frr ? "" : vtysh,
                         has_frr ? "" : "\"; config = \"", has_frr ? "" : dir, has_frr ? "" : "/frr.conf\"; };");
                if (!strstr(injections[i].setting, "bgp = {"))
                        strncat(text, "bgp = { route_servers = [\"2001:db8:f0::1\"]; };\n", sizeof(text) - strlen(text) - 1);
                char *conf = unit_write(dir, "failoverd.conf", text, 0644);
                char *argv[] = { (char *)(bin ? bin : BUILD_DIR "/failoverd"), "-c", conf, NULL };
                int st = run_bounded(argv, out_path);
                char *out = slurp(out_path, NULL);
                ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: status %#x, expected exit 1:\n%s",
                              injections[i].setting, st, out);
                ck_assert_msg(strstr(out, injections[i].key) && (strstr(out, "error") || strstr(out, "[error]")),
                              "%s: no error naming %s:\n%s", injections[i].setting, injections[i].key, out);
                ck_assert_msg(access(calls, F_OK) != 0, "%s: vtysh was called", injections[i].setting);
                free(out);
                free(conf);
        }
        free(vtysh);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

/* The default host name is the system's, and sethostname(2) takes any bytes (hostname(1) refuses them): a
 * system host name with a newline is refused too. Needs a UTS namespace (root); skipped without. */
START_TEST(test_system_hostname_injection_refused)
{
        static const char script[] =
                "import ctypes, os, sys\n"
                "n = b'h1\\nrouter bgp 1 injected'\n"
                "if ctypes.CDLL(None, use_errno=True).sethostname(n, len(n)) != 0: sys.exit('sethostname failed')\n"
                "os.execv(sys.argv[1], sys.argv[1:])\n";
        const char *bin = getenv("FAILOVERD_BIN");
        char *dir = unit_tmpdir();
        char text[1024], cd[600], out_path[600];

        if (geteuid() != 0 || access("/usr/bin/unshare", X_OK) != 0 || access("/usr/bin/python3", X_OK) != 0) {
                fprintf(stderr, "test_system_hostname_injection_refused: skipped (needs root, unshare, python3)\n");
                unit_rmrf(dir);
                free(dir);
                return;
        }
        snprintf(cd, sizeof(cd), "%s/conf.d", dir);
        ck_assert_int_eq(mkdir(cd, 0755), 0);
        snprintf(out_path, sizeof(out_path), "%s/out", dir);
        snprintf(text, sizeof(text), "role = \"primary\";\nshared_ips = [\"198.51.100.10\"];\n"
                 "checks = { directory = \"%s\"; };\nbgp = { route_servers = [\"2001:db8:f0::1\"]; };\n", cd);
        char *conf = unit_write(dir, "failoverd.conf", text, 0644);
        char *argv[] = { "/usr/bin/unshare", "--uts", "/usr/bin/python3", "-I", "-c", (char *)script,
                         (char *)(bin ? bin : BUILD_DIR "/failoverd"), "-c", conf, "--render", NULL };
        int st = run_bounded(argv, out_path);
        char *out = slurp(out_path, NULL);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1 && strstr(out, "system host name is not valid"),
                      "a system host name with a newline: status %#x:\n%s", st, out);
        free(out);
        free(conf);
        unit_rmrf(dir);
        free(dir);
}
END_TEST

START_TEST(test_regressions_replayed)
{
        static const char *const kinds[] = { "conf", "bgpd" };
        char path[1024];
        size_t n = 0;

        for (size_t k = 0; k < 2; k++) {
                snprintf(path, sizeof(path), REGRESS "/%s", kinds[k]);
                DIR *d = opendir(path);
                struct dirent *e;
                if (!d)
                        continue;
                while ((e = readdir(d))) {
                        if (e->d_name[0] == '.')
                                continue;
                        snprintf(path, sizeof(path), REGRESS "/%s/%s", kinds[k], e->d_name);
                        n++;
                        /* libconfig-*: inputs that leak inside libconfig itself (test/fuzz/lsan.supp): valgrind
                         * would blame us, so failoverd --check loads them in its own process instead. */
                        if (strncmp(e->d_name, "libconfig-", 10) == 0) {
                                check_in_daemon(path);
                        } else {
                                replay(kinds[k], path);
                        }
                }
                closedir(d);
        }
        ck_assert_uint_ge(n, 1);
}
END_TEST

/* Deep nesting and huge documents are refused or parsed, never a stack overflow. */
START_TEST(test_json_depth_and_size)
{
        size_t depth = 100000;
        char *deep = malloc(2 * depth + 1);
        ck_assert_ptr_nonnull(deep);
        memset(deep, '{', depth);
        memset(deep + depth, '}', depth);
        deep[2 * depth] = '\0';
        all_readers(deep);
        memset(deep, '[', 2 * depth);
        all_readers(deep);
        free(deep);

        struct buf b;
        buf_init(&b);
        buf_puts(&b, "{");
        for (int i = 0; i < 20000; i++)
                buf_printf(&b, "%s\"192.0.2.%d\":{\"bgpState\":\"Established\",\"bgpTimerUpMsec\":%d}",
                           i ? "," : "", i % 256, i);
        buf_puts(&b, "}");
        ck_assert(!b.oom);
        all_readers(b.data);
        buf_free(&b);
}
END_TEST

Suite *hostile_suite(void)
{
        Suite *s = suite_create("hostile");
        TCase *t = tcase_create("hostile");
        tcase_set_timeout(t, 120);
        tcase_add_loop_test(t, test_injection_rejected, 0, (int)(sizeof(injections) / sizeof(injections[0])));
        tcase_add_test(t, test_shared_ip_injection_rejected);
        tcase_add_test(t, test_injection_refused_by_daemon);
        tcase_add_test(t, test_system_hostname_injection_refused);
        tcase_add_test(t, test_validators_refuse_line_breaks);
        tcase_add_loop_test(t, test_fixtures_cross_and_truncated, 0, sizeof(frr_dirs) / sizeof(frr_dirs[0]));
        tcase_add_test(t, test_regressions_replayed);
        tcase_add_test(t, test_json_depth_and_size);
        suite_add_tcase(s, t);
        return s;
}
