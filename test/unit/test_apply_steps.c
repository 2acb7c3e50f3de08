/* Unit tests for lib/apply.c's step machine with a stand-in vtysh and frr-reload.py (test/unit/fake-frr):
 * a dry run that rejects, a fast path refused with exit 0, forwarding lines kept across a full apply, the
 * vtysh -f fallback, the read-back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "file.h"
#include "unit.h"

struct bench {
        char *dir;
        struct conf *conf;
};

static void path_of(char *out, size_t len, const char *dir, const char *name)
{
        snprintf(out, len, "%s/%s", dir, name);
}

static void setup(struct bench *b, bool with_reload, const char *extra)
{
        char text[3000], p[700], ex[800] = "";
        struct diag d;

        b->dir = unit_tmpdir();
        path_of(p, sizeof(p), b->dir, "vtysh");
        ck_assert_int_eq(symlink(TEST_DIR "/unit/fake-frr", p), 0);
        path_of(p, sizeof(p), b->dir, "frr-reload.py");
        if (with_reload)
                ck_assert_int_eq(symlink(TEST_DIR "/unit/fake-frr", p), 0);
        if (extra) {
                free(unit_write(b->dir, "extra.conf", extra, 0644));
                snprintf(ex, sizeof(ex), "extra = \"%s/extra.conf\";", b->dir);
        }
        snprintf(text, sizeof(text), "role = \"primary\";\nshared_ips = [\"198.51.100.10\"];\n"
                 "bgp = { route_servers = [\"192.0.2.1\"]; };\n"
                 "frr = { config = \"%s/frr.conf\"; vtysh = \"%s/vtysh\"; reload = \"%s\"; timeout = 10; %s };\n"
                 "checks = { directory = \"%s/none\"; };\nruntime_directory = \"%s/run\";\n", b->dir, b->dir, p, ex,
                 b->dir, b->dir);
        char *conf = unit_write(b->dir, "failoverd.conf", text, 0644);
        diag_init(&d);
        int r = conf_load(conf, &b->conf, &d);
        ck_assert_msg(r == 0, "conf_load: %s", d.n ? d.msgs[0].text : "?");
        diag_free(&d);
        free(conf);
}

static void teardown(struct bench *b)
{
        conf_free(b->conf);
        unit_rmrf(b->dir);
        free(b->dir);
}

static void put(struct bench *b, const char *name, const char *text)
{
        free(unit_write(b->dir, name, text, 0644));
}

static char *slurp(struct bench *b, const char *name)
{
        char p[700], *text = NULL;
        path_of(p, sizeof(p), b->dir, name);
        if (file_read(p, 1 << 20, &text, NULL) < 0)
                return NULL;
        return text;
}

static void run(struct bench *b, enum fo_state st, enum apply_kind kind, bool readback, struct apply_result *r)
{
        enum fo_state states[1] = { st };
        ck_assert_int_eq(apply_run(b->conf, states, kind, readback, r), 0);
}

/* vtysh -C refuses the rendering: nothing reaches FRR or frr.conf. */
START_TEST(test_apply_dryrun_rejected)
{
        struct bench b;
        struct apply_result r;
        setup(&b, true, NULL);
        put(&b, "fail", "1");
        run(&b, STATE_PRIMARY, APPLY_FULL, true, &r);
        ck_assert_int_eq(r.error, -EBADMSG);
        ck_assert_ptr_nonnull(strstr(r.message, "vtysh -C rejected"));
        ck_assert_ptr_nonnull(strstr(r.message, "% fake failure"));
        apply_result_clear(&r);
        char *calls = slurp(&b, "calls");
        ck_assert_ptr_null(strstr(calls, "frr-reload.py"));
        free(calls);
        ck_assert_ptr_null(slurp(&b, "frr.conf"));
        teardown(&b);
}
END_TEST

/* vtysh exits 0 when bgpd refused a -c command: the "%" line makes it a failure, in the tool's words. */
START_TEST(test_apply_fast_path_refused)
{
        struct bench b;
        struct apply_result r;
        setup(&b, true, NULL);
        put(&b, "refuse", "");
        run(&b, STATE_PRIMARY, APPLY_FAST, true, &r);
        ck_assert_int_eq(r.error, -EPROTO);
        ck_assert_ptr_nonnull(strstr(r.message, "fast path failed"));
        ck_assert_ptr_nonnull(strstr(r.message, "% Unknown command: network"));
        apply_result_clear(&r);
        teardown(&b);
}
END_TEST

/* The fast path, installed and read back: the state bgpd runs is what was asked for. */
START_TEST(test_apply_fast_path_read_back)
{
        struct bench b;
        struct apply_result r;
        setup(&b, true, NULL);
        run(&b, STATE_DEMOTED, APPLY_FAST, true, &r);
        ck_assert_msg(r.error == 0, "%s", r.message ? r.message : "?");
        ck_assert(r.readback_ok);
        ck_assert(r.has_router);
        ck_assert_int_eq(r.running[0], STATE_DEMOTED);
        ck_assert(r.file_changed);
        apply_result_clear(&r);
        run(&b, STATE_PRIMARY, APPLY_READBACK, true, &r);
        ck_assert_int_eq(r.running[0], STATE_DEMOTED);          /* read only: nothing changed */
        apply_result_clear(&r);
        char *calls = slurp(&b, "calls");
        ck_assert_ptr_nonnull(strstr(calls, "-c network 198.51.100.10/32 route-map demoted"));
        free(calls);
        teardown(&b);
}
END_TEST

/* Forwarding as zebra runs it is kept in frr-reload.py's copy (it would turn it on otherwise), unless the
 * rendering says otherwise for that family. */
START_TEST(test_apply_keeps_forwarding)
{
        struct bench b;
        struct apply_result r;
        setup(&b, true, "ipv6 forwarding\n");
        put(&b, "extra", "frr version 8.4.4\nno ip forwarding\nno ipv6 forwarding\n");
        run(&b, STATE_PRIMARY, APPLY_FULL, true, &r);
        ck_assert_msg(r.error == 0, "%s", r.message ? r.message : "?");
        ck_assert_int_eq(r.running[0], STATE_PRIMARY);
        apply_result_clear(&r);
        char *copy = slurp(&b, "reload-copy");
        ck_assert_ptr_nonnull(copy);
        ck_assert_ptr_nonnull(strstr(copy, "\nno ip forwarding\n"));
        ck_assert_ptr_null(strstr(copy, "no ipv6 forwarding"));         /* frr.extra decides this family */
        ck_assert_ptr_nonnull(strstr(copy, "ipv6 forwarding\n"));
        free(copy);
        char *installed = slurp(&b, "frr.conf");
        ck_assert_ptr_null(strstr(installed, "no ip forwarding"));      /* only frr-reload.py's copy */
        free(installed);
        teardown(&b);
}
END_TEST

/* Without frr-reload.py the full apply falls back to vtysh -f, and says what that cannot do. */
START_TEST(test_apply_without_reload_tool)
{
        struct bench b;
        struct apply_result r;
        setup(&b, false, NULL);
        run(&b, STATE_SECONDARY, APPLY_FULL, false, &r);
        ck_assert_msg(r.error == 0, "%s", r.message ? r.message : "?");
        ck_assert_ptr_nonnull(r.warning);
        ck_assert_ptr_nonnull(strstr(r.warning, "vtysh -f"));
        apply_result_clear(&r);
        char *calls = slurp(&b, "calls");
        ck_assert_ptr_nonnull(strstr(calls, "vtysh -f "));
        free(calls);
        teardown(&b);
}
END_TEST

/* bgpd not running: the read of FRR's running config fails first, with vtysh's words. */
START_TEST(test_apply_bgpd_down)
{
        struct bench b;
        struct apply_result r;
        setup(&b, true, NULL);
        put(&b, "down", "");
        run(&b, STATE_PRIMARY, APPLY_FULL, true, &r);
        ck_assert_int_eq(r.error, -EPROTO);
        ck_assert_ptr_nonnull(strstr(r.message, "cannot read FRR's running config"));
        ck_assert_ptr_nonnull(strstr(r.message, "bgpd is not running"));
        apply_result_clear(&r);
        teardown(&b);
}
END_TEST

Suite *apply_steps_suite(void)
{
        Suite *s = suite_create("apply_steps");
        TCase *tc = tcase_create("apply_steps");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_apply_dryrun_rejected);
        tcase_add_test(tc, test_apply_fast_path_refused);
        tcase_add_test(tc, test_apply_fast_path_read_back);
        tcase_add_test(tc, test_apply_keeps_forwarding);
        tcase_add_test(tc, test_apply_without_reload_tool);
        tcase_add_test(tc, test_apply_bgpd_down);
        suite_add_tcase(s, tc);
        return s;
}
