/* Unit tests for lib/render.c: golden files (under the sanitizers too), determinism, the fast path. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "render.h"
#include "unit.h"

#define GOLDEN TEST_DIR "/golden"
#define GOLDEN_SECRET_1 "golden-secret-1"
#define GOLDEN_SECRET_2 "golden-secret-2"

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "re");
        struct buf b;
        char chunk[4096];
        size_t n;

        ck_assert_msg(f != NULL, "cannot open %s", path);
        buf_init(&b);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                buf_append(&b, chunk, n);
        fclose(f);
        return buf_steal(&b);
}

/* Loads test/golden/NAME.in with @GOLDEN@ substituted; returns the conf and the "# state:" state. */
static struct conf *load_golden(const char *name, enum fo_state *st, char **tmpdir)
{
        char path[512], line[256];
        struct buf text;
        struct diag d;
        struct conf *c = NULL;

        snprintf(path, sizeof(path), GOLDEN "/%s.in", name);
        char *in = slurp(path);
        buf_init(&text);
        *st = STATE_INVALID;
        for (char *p = in, *nl; *p; p = nl + 1) {
                nl = strchr(p, '\n');
                if (!nl)
                        nl = p + strlen(p) - 1;
                snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
                if (strncmp(line, "# state: ", 9) == 0)
                        *st = state_parse(line + 9);
                char *q = line, *at;
                while ((at = strstr(q, "@GOLDEN@"))) {
                        buf_append(&text, q, (size_t)(at - q));
                        buf_puts(&text, GOLDEN);
                        q = at + strlen("@GOLDEN@");
                }
                buf_puts(&text, q);
                buf_puts(&text, "\n");
        }
        free(in);
        ck_assert_int_ne(*st, STATE_INVALID);
        *tmpdir = unit_tmpdir();
        /* The goldens' passwords are systemd credentials, as test/golden-check provides them. */
        char cred[512];
        snprintf(cred, sizeof(cred), "%s/credentials", *tmpdir);
        ck_assert_int_eq(mkdir(cred, 0700), 0);
        free(unit_write(cred, "golden-bgp-password", GOLDEN_SECRET_1 "\n", 0600));
        free(unit_write(cred, "golden-bgp-password-2", GOLDEN_SECRET_2 "\n", 0600));
        setenv("CREDENTIALS_DIRECTORY", cred, 1);
        char *conf_path = unit_write(*tmpdir, "failoverd.conf", text.data, 0644);
        buf_free(&text);
        diag_init(&d);
        int r = conf_load(conf_path, &c, &d);
        ck_assert_msg(r == 0, "%s: %s", name, d.n ? d.msgs[0].text : "?");
        diag_free(&d);
        free(conf_path);
        return c;
}

START_TEST(test_render_golden)
{
        DIR *dir = opendir(GOLDEN);
        struct dirent *e;
        int n = 0;

        ck_assert_ptr_nonnull(dir);
        while ((e = readdir(dir))) {
                size_t len = strlen(e->d_name);
                if (len < 4 || strcmp(e->d_name + len - 3, ".in") != 0)
                        continue;
                char name[256], out_path[512];
                snprintf(name, sizeof(name), "%.*s", (int)(len - 3), e->d_name);
                enum fo_state st;
                char *tmp;
                struct conf *c = load_golden(name, &st, &tmp);
                char *got = NULL, *again = NULL;
                /* The goldens are --render's output: passwords masked. */
                ck_assert_int_eq(render_frr_conf_opts(c, &st, RENDER_MASK_SECRETS, &got), 0);
                ck_assert_int_eq(render_frr_conf_opts(c, &st, RENDER_MASK_SECRETS, &again), 0);
                ck_assert_str_eq(got, again);   /* deterministic */
                snprintf(out_path, sizeof(out_path), GOLDEN "/%s.out", name);
                char *want = slurp(out_path);
                ck_assert_msg(strcmp(got, want) == 0, "%s: rendering differs from %s", name, out_path);
                free(want);
                free(got);
                free(again);
                conf_free(c);
                unit_rmrf(tmp);
                free(tmp);
                n++;
        }
        closedir(dir);
        ck_assert_int_ge(n, 9);
}
END_TEST

START_TEST(test_render_states)
{
        enum fo_state st;
        char *tmp, *out;
        struct conf *c = load_golden("mixed-primary", &st, &tmp);

        for (int s = 0; s < _STATE_MAX; s++) {
                enum fo_state one = (enum fo_state)s;
                ck_assert_int_eq(render_frr_conf(c, &one, &out), 0);
                if (one == STATE_WITHDRAWN) {
                        ck_assert_ptr_null(strstr(out, "  network "));
                        /* The address families stay, so IPv6 sessions stay activated while withdrawn. */
                        ck_assert_ptr_nonnull(strstr(out, "address-family ipv6 unicast\n  redistribute static\n"
                                                          "  neighbor RS activate\n"));
                } else {
                        char want[128];
                        snprintf(want, sizeof(want), "  network 2001:db8:e001:1b8c::/64 route-map %s\n",
                                 state_name(one));
                        ck_assert_msg(strstr(out, want) != NULL, "missing %s", want);
                        snprintf(want, sizeof(want), "  network 203.0.113.7/32 route-map %s\n", state_name(one));
                        ck_assert_msg(strstr(out, want) != NULL, "missing %s", want);
                }
                free(out);
        }
        conf_free(c);
        unit_rmrf(tmp);
        free(tmp);
}
END_TEST

static char *joined(char **v)
{
        struct buf b;
        buf_init(&b);
        for (; v && *v; v++) {
                buf_puts(&b, *v);
                buf_puts(&b, "|");
        }
        return buf_steal(&b);
}

START_TEST(test_render_fast_path)
{
        enum fo_state st;
        char *tmp;
        struct conf *c = load_golden("mixed-primary", &st, &tmp);

        enum fo_state demoted = STATE_DEMOTED;
        char **v = render_fast_path(c, &demoted);
        char *j = joined(v);
        ck_assert_str_eq(j, "configure terminal|router bgp 65001|address-family ipv4 unicast|"
                            "network 198.51.100.10/32 route-map demoted|network 198.51.100.11/32 route-map demoted|"
                            "network 203.0.113.7/32 route-map demoted|exit-address-family|"
                            "address-family ipv6 unicast|network 2001:db8:e001:1b8c::/64 route-map demoted|"
                            "network 2001:db8:e002::/56 route-map demoted|exit-address-family|end|");
        free(j);
        strv_free(v);

        enum fo_state w = STATE_WITHDRAWN;
        v = render_fast_path(c, &w);
        j = joined(v);
        ck_assert_ptr_nonnull(strstr(j, "|no network 198.51.100.10/32|"));
        ck_assert_ptr_nonnull(strstr(j, "|no network 2001:db8:e002::/56|"));
        ck_assert_ptr_null(strstr(j, "route-map"));     /* never a route-map body edit */
        free(j);
        strv_free(v);
        conf_free(c);
        unit_rmrf(tmp);
        free(tmp);
}
END_TEST

START_TEST(test_render_ipv6_only_has_no_ipv4_family)
{
        enum fo_state st;
        char *tmp, *out;
        struct conf *c = load_golden("ipv6-only", &st, &tmp);
        ck_assert_int_eq(render_frr_conf(c, &st, &out), 0);
        ck_assert_ptr_null(strstr(out, "ipv4 unicast"));
        char **v = render_fast_path(c, &st);
        char *j = joined(v);
        ck_assert_ptr_null(strstr(j, "ipv4"));
        free(j);
        strv_free(v);
        free(out);
        conf_free(c);
        unit_rmrf(tmp);
        free(tmp);
}
END_TEST

Suite *render_suite(void)
{
        Suite *s = suite_create("render");
        TCase *tc = tcase_create("render");
        tcase_add_test(tc, test_render_golden);
        tcase_add_test(tc, test_render_states);
        tcase_add_test(tc, test_render_fast_path);
        tcase_add_test(tc, test_render_ipv6_only_has_no_ipv4_family);
        suite_add_tcase(s, tc);
        return s;
}
