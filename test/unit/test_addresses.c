/* Unit tests for agent/addresses.c on a loop of its own, in a network namespace the test creates: the
 * addresses go on lo at once, one removed by someone comes back and is counted, removal is final. */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/rtnetlink.h>

#include <stdlib.h>
#include <sys/stat.h>

#include "addresses.h"
#include "clock.h"
#include "conf.h"
#include "ctl_format.h"
#include "nladdr.h"
#include "snapshot.h"
#include "unit.h"

#define REQ(x) do { if (!(x)) { fprintf(stderr, "addresses netns: %s failed\n", #x); return __LINE__ % 250 + 1; } } while (0)

struct lookup {
        const struct nladdr *want;
        int ifindex;
        bool found;
};

static void find_cb(const struct nladdr_msg *m, void *userdata)
{
        struct lookup *l = userdata;
        if (m->ifindex == l->ifindex && nladdr_equal(&m->a, l->want))
                l->found = true;
}

static bool on_lo(struct nladdr_sock *s, int lo, const struct nladdr *a)
{
        struct lookup l = { .want = a, .ifindex = lo };
        return nladdr_dump(s, find_cb, &l) == 0 && l.found;
}

/* Runs the loop until a is on lo (want) or not, at most 5 s. */
static bool run_until(sd_event *e, struct nladdr_sock *s, int lo, const struct nladdr *a, bool want)
{
        uint64_t end = clock_mono_usec() + 5000000;
        while (on_lo(s, lo, a) != want) {
                if (clock_mono_usec() > end)
                        return false;
                sd_event_run(e, 100000);
        }
        return true;
}

/* addresses.lo[i].key of the status JSON, as text ("null" when null). */
static const char *lo_field(json_object *st, size_t i, const char *key)
{
        json_object *a = NULL, *lo = NULL, *v = NULL;
        if (!json_object_object_get_ex(st, "addresses", &a) || !json_object_object_get_ex(a, "lo", &lo) ||
            i >= json_object_array_length(lo) || !json_object_object_get_ex(json_object_array_get_idx(lo, i), key, &v))
                return "absent";
        return v ? json_object_get_string(v) : "null";
}

/* The status JSON of snap and its screen (failoverctl status) contain want (NULL: not checked). */
static bool status_says(struct snapshot *snap, const char *json_want, const char *text_want)
{
        json_object *st = snapshot_json(snap);
        const char *js = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN);
        struct buf b;
        buf_init(&b);
        bool ok = st && ctl_format_status(st, 1700000000, &b) == 0;
        if (ok && json_want && !strstr(js, json_want))
                ok = false;
        if (ok && text_want && !strstr(b.data, text_want))
                ok = false;
        if (!ok)
                fprintf(stderr, "addresses: wanted %s / %s in\n%s\n%s\n", json_want ? json_want : "-",
                        text_want ? text_want : "-", js, b.data ? b.data : "");
        buf_free(&b);
        json_object_put(st);
        return ok;
}

static int netns_child(void)
{
        struct prefix p[2];
        struct nladdr a[2];
        struct conf c;
        struct nladdr_sock *s = NULL;
        struct addresses *m = NULL;
        sd_event *e = NULL;
        bool v6 = access("/proc/sys/net/ipv6", F_OK) == 0;

        if (unshare(CLONE_NEWNET) < 0)
                return 77;
        REQ(unit_lo_up() == 0);
        int lo = (int)if_nametoindex("lo");
        REQ(prefix_parse_shared("198.51.100.10", &p[0]) == 0 && nladdr_form(&p[0], &a[0]) == 0);
        REQ(prefix_parse_shared("2001:db8:e001:1b8c::/64", &p[1]) == 0 && nladdr_form(&p[1], &a[1]) == 0);
        memset(&c, 0, sizeof(c));
        c.hostname = "h1";
        c.addresses_manage = true;
        c.shared_ips = p;
        c.n_shared_ips = v6 ? 2 : 1;
        c.bgp.poll_interval = 0.2;
        REQ(sd_event_new(&e) >= 0);
        REQ(nladdr_sock_open(false, &s) == 0);

        /* Both go on lo before addresses_new returns: before the caller's first apply. */
        REQ(addresses_new(e, &c, &m) == 0);
        for (size_t i = 0; i < c.n_shared_ips; i++)
                REQ(on_lo(s, lo, &a[i]));

        struct snapshot snap;
        memset(&snap, 0, sizeof(snap));
        snap.conf = &c;
        addresses_snapshot(m, &snap);
        REQ(snap.addresses_managed && snap.addresses_restored == 0 && snap.addresses_missing == 0);
        REQ(snap.addresses_watching && snap.n_addresses == c.n_shared_ips);
        for (size_t i = 0; i < c.n_shared_ips; i++)
                REQ(snap.addresses[i].present == 1 && snap.addresses[i].restored == 0 && !snap.addresses[i].error);
        REQ(status_says(&snap, "\"addresses\":{\"managed\":true,\"watching\":true,\"missing\":0,\"restored\":0,"
                        "\"lo\":[{\"prefix\":\"198.51.100.10\\/32\",\"address\":\"198.51.100.10\\/32\",\"state\":\"present\","
                        "\"restored\":0,\"error\":null}", "(addresses = manage: "));
        snapshot_clear(&snap);

        /* Removed by someone: back on lo, counted. */
        for (size_t i = 0; i < c.n_shared_ips; i++) {
                REQ(nladdr_request(s, RTM_DELADDR, lo, &a[i]) == 0);
                REQ(run_until(e, s, lo, &a[i], true));
        }
        /* The notification of the re-add may still be queued: one more turn of the loop. */
        sd_event_run(e, 0);
        snap.conf = &c;
        addresses_snapshot(m, &snap);
        REQ(snap.addresses_managed && snap.addresses_restored == c.n_shared_ips && snap.addresses_missing == 0);
        for (size_t i = 0; i < c.n_shared_ips; i++)
                REQ(snap.addresses[i].present == 1 && snap.addresses[i].restored == 1);
        REQ(status_says(&snap, NULL, v6 ? "(addresses = manage: 2/2 on lo, 2 put back since start)"
                                        : "(addresses = manage: 1/1 on lo, 1 put back since start)"));
        snapshot_clear(&snap);

        /* Put back it cannot be while lo has the IPv6 address with another length: missing, and why. */
        if (v6) {
                struct nladdr other = a[1];
                other.prefixlen = 128;
                REQ(nladdr_request(s, RTM_DELADDR, lo, &a[1]) == 0);
                REQ(nladdr_request(s, RTM_NEWADDR, lo, &other) == 0);
                uint64_t end = clock_mono_usec() + 5000000;
                for (bool missing = false; !missing && clock_mono_usec() < end; snapshot_clear(&snap)) {
                        sd_event_run(e, 100000);
                        snap.conf = &c;
                        addresses_snapshot(m, &snap);
                        missing = snap.addresses[1].present == 0;
                        if (missing) {
                                REQ(snap.addresses_missing == 1 && snap.addresses[0].present == 1);
                                REQ(strcmp(snap.addresses[1].error, "lo has this address with another prefix length") == 0);
                                REQ(status_says(&snap, "\"missing\":1,", "WARNING: 2001:db8:e001:1b8c::1/64 is missing "
                                                "from lo: failoverd puts it back, bgpd does not announce it meanwhile "
                                                "(cannot: lo has this address with another prefix length)"));
                                REQ(status_says(&snap, NULL, "MISSING from lo (2001:db8:e001:1b8c::1/64), put back 1 time"));
                                json_object *st = snapshot_json(&snap);
                                REQ(strcmp(lo_field(st, 1, "state"), "missing") == 0);
                                REQ(strcmp(lo_field(st, 0, "state"), "present") == 0);
                                json_object_put(st);
                        }
                }
                REQ(nladdr_request(s, RTM_DELADDR, lo, &other) == 0);
                REQ(run_until(e, s, lo, &a[1], true));
        }

        /* Removal is final: nothing puts them back afterwards. */
        REQ(addresses_remove_all(m) == 0);
        for (size_t i = 0; i < c.n_shared_ips; i++)
                REQ(!on_lo(s, lo, &a[i]));
        for (int k = 0; k < 5; k++)
                sd_event_run(e, 100000);
        for (size_t i = 0; i < c.n_shared_ips; i++)
                REQ(!on_lo(s, lo, &a[i]));
        /* lo is no longer watched: nothing is claimed about it. */
        snap.conf = &c;
        addresses_snapshot(m, &snap);
        REQ(!snap.addresses_watching && snap.addresses[0].present == -1);
        json_object *st = snapshot_json(&snap);
        REQ(strcmp(lo_field(st, 0, "state"), "unknown") == 0);
        json_object_put(st);
        REQ(status_says(&snap, "\"watching\":false,\"missing\":null,", "lo not watched now, whether they are on it "
                        "is unknown"));
        snapshot_clear(&snap);

        addresses_free(m);
        nladdr_sock_close(s);
        sd_event_unref(e);
        return 0;
}

static void in_netns(void)
{
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
                _exit(netns_child());
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77) {
                fprintf(stderr, "addresses: no network namespace here (not root?), skipped\n");
                return;
        }
        ck_assert_msg(WEXITSTATUS(status) == 0, "netns child failed (code %d, see stderr)", WEXITSTATUS(status));
}

START_TEST(test_addresses_put_back)
{
        in_netns();
}
END_TEST

/* Loads BASE plus extra; returns conf_load's result and the first error's text in err. */
static int load(const char *extra, struct conf **c, char *err, size_t len)
{
        char *dir = unit_tmpdir();
        char conf_d[1024], text[4096];
        struct diag d;
        snprintf(conf_d, sizeof(conf_d), "%s/conf.d", dir);
        ck_assert_int_eq(mkdir(conf_d, 0755), 0);
        snprintf(text, sizeof(text),
                 "role = \"primary\";\ndatacenter = 4;\nshared_ips = [\"198.51.100.10\"];\n%s\n"
                 "checks = { directory = \"%s\"; };\n", extra, conf_d);
        char *path = unit_write(dir, "failoverd.conf", text, 0644);
        diag_init(&d);
        int r = conf_load(path, c, &d);
        err[0] = '\0';
        for (size_t i = 0; i < d.n; i++)
                if (d.msgs[i].level == DIAG_ERROR && !err[0])
                        snprintf(err, len, "%s", d.msgs[i].text);
        diag_free(&d);
        free(path);
        unit_rmrf(dir);
        free(dir);
        return r;
}

START_TEST(test_addresses_conf)
{
        struct conf *c = NULL;
        char err[512];
        ck_assert_int_eq(load("", &c, err, sizeof(err)), 0);
        ck_assert(!c->addresses_manage && !c->addresses_remove);        /* the operator's, as before */
        c = conf_free(c);
        ck_assert_int_eq(load("addresses = \"manage\";", &c, err, sizeof(err)), 0);
        ck_assert(c->addresses_manage && !c->addresses_remove);
        c = conf_free(c);
        ck_assert_int_eq(load("addresses = \"manage\";\non_stop = \"withdraw\";\naddresses_on_stop = \"remove\";",
                              &c, err, sizeof(err)), 0);
        ck_assert(c->addresses_manage && c->addresses_remove && c->on_stop_withdraw);
        c = conf_free(c);
        ck_assert_int_eq(load("addresses = \"lo\";", &c, err, sizeof(err)), -EINVAL);
        ck_assert_msg(strstr(err, "failoverd.conf:4:") && strstr(err, "\"lo\"") && strstr(err, "manage"), "%s", err);
        /* Removal without the withdrawal before it would blackhole: refused, naming the line. */
        ck_assert_int_eq(load("addresses = \"manage\";\naddresses_on_stop = \"remove\";", &c, err, sizeof(err)), -EINVAL);
        ck_assert_msg(strstr(err, "failoverd.conf:5:") && strstr(err, "on_stop"), "%s", err);
        ck_assert_int_eq(load("on_stop = \"withdraw\";\naddresses_on_stop = \"remove\";", &c, err, sizeof(err)), -EINVAL);
        ck_assert_int_eq(load("addresses_on_stop = \"later\";", &c, err, sizeof(err)), -EINVAL);
        ck_assert_msg(strstr(err, "keep"), "%s", err);
}
END_TEST

Suite *addresses_suite(void)
{
        Suite *s = suite_create("addresses");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_addresses_conf);
        tcase_add_test(tc, test_addresses_put_back);
        suite_add_tcase(s, tc);
        return s;
}
