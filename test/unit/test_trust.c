/* Unit tests for the trust boundaries (docs/design.md): what root runs or hands to FRR, named in failoverd.conf,
 * must be root's alone, as check scripts must (lib/file.c file_root_only()), or the configuration is refused. */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "conf.h"
#include "outputs.h"

static char *tmp;

static void setup(void)
{
        tmp = unit_tmpdir();
}

static void teardown(void)
{
        unit_rmrf(tmp);
        free(tmp);
        tmp = NULL;
}

static char *path_in(const char *name)
{
        size_t n = strlen(tmp) + strlen(name) + 2;
        char *p = malloc(n);
        ck_assert_ptr_nonnull(p);
        snprintf(p, n, "%s/%s", tmp, name);
        return p;
}

/* Loads TMP/failoverd.conf; returns conf_load()'s value and every diagnostic in out. */
static int load(char *out, size_t outlen)
{
        struct diag d;
        struct conf *c = NULL;
        char *path = path_in("failoverd.conf");
        diag_init(&d);
        int r = conf_load(path, &c, &d);
        size_t len = 0;
        out[0] = '\0';
        for (size_t i = 0; i < d.n && len < outlen; i++)
                len += (size_t)snprintf(out + len, outlen - len, "%s\n", d.msgs[i].text);
        conf_free(c);
        diag_free(&d);
        free(path);
        return r;
}

/* frr.vtysh and frr.reload run as root, frr.extra goes into FRR's configuration, the state directory holds the
 * drain, the runtime directory the control socket, and failoverd.conf names them all: a local user who can
 * write any of them decides what runs as root or what this host announces. Each is refused with its key, its
 * path and why; fixed, the configuration loads. */
START_TEST(test_trust_conf_paths_root_only)
{
        if (geteuid() != 0)
                return;         /* ownership needs root, and the rule applies only to root */
        struct passwd *pw = getpwnam("nobody");
        ck_assert_ptr_nonnull(pw);
        char *bin = path_in("bin");
        ck_assert_int_eq(mkdir(bin, 0755), 0);
        char *vtysh = unit_write(bin, "vtysh", "#!/bin/sh\nexit 0\n", 0755);
        char *reload = unit_write(bin, "frr-reload.py", "#!/bin/sh\nexit 0\n", 0755);
        char *extra = unit_write(tmp, "extra.conf", "ip prefix-list x seq 5 permit 192.0.2.0/24\n", 0644);
        char *state = path_in("state");
        char *run = path_in("run");
        ck_assert_int_eq(mkdir(state, 0750), 0);
        ck_assert_int_eq(mkdir(run, 0750), 0);
        char *cd = path_in("conf.d");
        ck_assert_int_eq(mkdir(cd, 0755), 0);
        char text[2048];
        snprintf(text, sizeof(text),
                 "role = \"primary\";\ndatacenter = 4;\nshared_ips = [\"198.51.100.10\"];\n"
                 "state_directory = \"%s\";\nruntime_directory = \"%s\";\n"
                 "frr = { vtysh = \"%s\"; reload = \"%s\"; extra = \"%s\"; };\n"
                 "checks = { directory = \"%s\"; };\n", state, run, vtysh, reload, extra, cd);
        char *conf = unit_write(tmp, "failoverd.conf", text, 0644);
        char out[4096], want[1024];
        ck_assert_msg(load(out, sizeof(out)) == 0, "%s", out);

        struct {
                const char *path;
                int mode;               /* 0: chown to nobody instead */
                const char *key;        /* NULL: the configuration file itself */
                const char *reason;     /* at the end of the message */
        } cases[] = {
                { conf, 0666, NULL, "is writable by group" },
                { conf, 0, NULL, "is not owned by root" },
                { bin, 0777, "frr.vtysh", "is writable by group" },
                { reload, 0, "frr.reload", "is not owned by root" },
                { extra, 0646, "frr.extra", "is writable by others" },
                { state, 0770, "state_directory", "is writable by group" },
                { run, 0, "runtime_directory", "is not owned by root" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct stat old;
                ck_assert_int_eq(stat(cases[i].path, &old), 0);
                if (cases[i].mode)
                        ck_assert_int_eq(chmod(cases[i].path, (mode_t)cases[i].mode), 0);
                else
                        ck_assert_int_eq(chown(cases[i].path, pw->pw_uid, 0), 0);
                ck_assert_msg(load(out, sizeof(out)) == -EINVAL, "case %zu: %s is accepted", i, cases[i].path);
                if (cases[i].key)
                        snprintf(want, sizeof(want), "%s: %s: \"%s\": insecure: %s", conf, cases[i].key,
                                 i == 2 ? vtysh : cases[i].path, cases[i].path);
                else
                        snprintf(want, sizeof(want), "%s: insecure: %s", conf, conf);
                ck_assert_msg(strstr(out, want) && strstr(out, cases[i].reason), "case %zu: want %s ... %s in:\n%s",
                              i, want, cases[i].reason, out);
                ck_assert_int_eq(chmod(cases[i].path, old.st_mode & 07777), 0);
                ck_assert_int_eq(chown(cases[i].path, 0, 0), 0);
        }
        /* A state directory that does not exist yet is created by the daemon: not an error here. */
        ck_assert_int_eq(rmdir(state), 0);
        ck_assert_msg(load(out, sizeof(out)) == 0, "%s", out);
        free(bin);
        free(vtysh);
        free(reload);
        free(extra);
        free(state);
        free(run);
        free(cd);
        free(conf);
}
END_TEST

/* Keys left unset ("" by default) are not paths: loading from any working directory (/tmp here) works, and
 * a relative configuration path is checked where it is. */
START_TEST(test_trust_unset_paths_any_cwd)
{
        if (geteuid() != 0)
                return;
        char *cd = path_in("conf.d");
        ck_assert_int_eq(mkdir(cd, 0755), 0);
        char text[1024], out[4096], cwd[4096];
        snprintf(text, sizeof(text), "role = \"primary\";\ndatacenter = 4;\nshared_ips = [\"198.51.100.10\"];\n"
                 "checks = { directory = \"%s\"; };\n", cd);
        char *conf = unit_write(tmp, "failoverd.conf", text, 0644);
        ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
        ck_assert_int_eq(chdir("/tmp"), 0);
        int r = load(out, sizeof(out));
        ck_assert_int_eq(chdir(tmp), 0);
        struct diag d;
        struct conf *c = NULL;
        diag_init(&d);
        int r2 = conf_load("failoverd.conf", &c, &d);
        conf_free(c);
        diag_free(&d);
        ck_assert_int_eq(chmod(conf, 0666), 0);
        diag_init(&d);
        int r3 = conf_load("failoverd.conf", &c, &d);
        ck_assert_msg(r3 == -EINVAL && d.n_errors == 1 && strstr(d.msgs[0].text, "is writable by group"), "%d: %s", r3,
                      d.n ? d.msgs[0].text : "");
        conf_free(c);
        diag_free(&d);
        ck_assert_int_eq(chdir(cwd), 0);
        ck_assert_msg(r == 0, "%s", out);
        ck_assert_int_eq(r2, 0);
        free(cd);
        free(conf);
}
END_TEST

/* The children of this thread (/proc/thread-self/children): a spawned child is there until reaped. */
static bool have_children(void)
{
        char buf[256] = "";
        FILE *f = fopen("/proc/thread-self/children", "r");
        ck_assert_ptr_nonnull(f);
        bool any = fgets(buf, sizeof(buf), f) && buf[0] && buf[0] != '\n';
        fclose(f);
        return any;
}

/* The notify program runs as root: in a directory others may write, it is not run at all (the decision's
 * publish starts no child); in a secure place it is. */
START_TEST(test_trust_notify_hook_secure)
{
        if (geteuid() != 0)
                return;
        sigset_t chld, old;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, &chld, &old), 0);
        char *open_dir = path_in("open");
        ck_assert_int_eq(mkdir(open_dir, 0755), 0);
        char *hook = unit_write(open_dir, "hook", "#!/bin/sh\nexit 0\n", 0755);
        char *cd = path_in("conf.d");
        ck_assert_int_eq(mkdir(cd, 0755), 0);
        char text[1024];
        snprintf(text, sizeof(text), "role = \"primary\";\ndatacenter = 4;\nshared_ips = [\"198.51.100.10\"];\n"
                 "notify = [\"%s\"];\nchecks = { directory = \"%s\"; };\n", hook, cd);
        char *conf = unit_write(tmp, "failoverd.conf", text, 0644);
        struct diag d;
        struct conf *c = NULL;
        diag_init(&d);
        ck_assert_int_eq(conf_load(conf, &c, &d), 0);
        diag_free(&d);

        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct outputs *o = NULL;
        ck_assert_int_eq(outputs_new(e, &o), 0);
        struct snapshot s = { .conf = c, .target = STATE_WITHDRAWN, .previous = STATE_PRIMARY, .reason = "test" };
        ck_assert(!have_children());
        ck_assert_int_eq(chmod(open_dir, 0777), 0);
        outputs_publish(o, &s, OUTPUT_NOTIFY);
        ck_assert_msg(!have_children(), "the notify hook in a world-writable directory was run as root");

        ck_assert_int_eq(chmod(open_dir, 0755), 0);
        outputs_publish(o, &s, OUTPUT_NOTIFY);
        ck_assert(have_children());     /* the observation works: a secure hook is started */
        for (int i = 0; i < 500 && have_children(); i++)
                ck_assert_int_ge(sd_event_run(e, 20000), 0);
        outputs_free(o);
        sd_event_unref(e);
        conf_free(c);
        sigprocmask(SIG_SETMASK, &old, NULL);
        free(open_dir);
        free(hook);
        free(cd);
        free(conf);
}
END_TEST

Suite *trust_suite(void)
{
        Suite *s = suite_create("trust");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_trust_conf_paths_root_only);
        tcase_add_test(tc, test_trust_notify_hook_secure);
        tcase_add_test(tc, test_trust_unset_paths_any_cwd);
        suite_add_tcase(s, tc);
        return s;
}
