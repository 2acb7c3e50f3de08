/* Unit tests for lib/vty.c (every vtysh and frr-reload.py argv) and lib/vtysock.c's command sequence: one
 * command in flight at a time, each reply and status byte kept with its command. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "vty.h"
#include "vtysock.h"
#include "unit.h"

/* argv joined with "|" for one comparison. */
static void joined(char **v, char *out, size_t len)
{
        out[0] = '\0';
        ck_assert_ptr_nonnull(v);
        for (size_t i = 0; v[i]; i++)
                snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "|" : "", v[i]);
        strv_free(v);
}

static struct conf conf_with(const char *vtysh, const char *reload, const char *pathspace)
{
        struct conf c;
        memset(&c, 0, sizeof(c));
        c.frr.vtysh = (char *)vtysh;
        c.frr.reload = (char *)reload;
        c.frr.pathspace = (char *)pathspace;
        return c;
}

START_TEST(test_vty_argv_vtysh)
{
        char got[1024];
        char *cmds[] = { (char *)"configure terminal", (char *)"router bgp 65001", (char *)"end", NULL };
        struct conf c = conf_with("/usr/bin/vtysh", "/usr/lib/frr/frr-reload.py", "h1");

        joined(vty_argv_commands(&c, cmds), got, sizeof(got));
        ck_assert_str_eq(got, "/usr/bin/vtysh|-N|h1|-d|bgpd|-c|configure terminal|-c|router bgp 65001|-c|end");
        joined(vty_argv_show(&c, "show running-config"), got, sizeof(got));
        ck_assert_str_eq(got, "/usr/bin/vtysh|-N|h1|-d|bgpd|-c|show running-config");
        joined(vty_argv_show_all(&c, "show running-config"), got, sizeof(got));
        ck_assert_str_eq(got, "/usr/bin/vtysh|-N|h1|-c|show running-config");
        /* The dry run touches no daemon: no pathspace. */
        joined(vty_argv_dryrun(&c, "/run/x/candidate.conf"), got, sizeof(got));
        ck_assert_str_eq(got, "/usr/bin/vtysh|-C|-f|/run/x/candidate.conf");
        joined(vty_argv_file(&c, "/etc/frr/frr.conf"), got, sizeof(got));
        ck_assert_str_eq(got, "/usr/bin/vtysh|-N|h1|-f|/etc/frr/frr.conf");

        c.frr.pathspace = (char *)"";
        joined(vty_argv_show(&c, "show bgp summary json"), got, sizeof(got));
        ck_assert_str_eq(got, "/usr/bin/vtysh|-d|bgpd|-c|show bgp summary json");
}
END_TEST

/* frr-reload.py gets our vtysh's directory when it is named vtysh, the pathspace, and the file's own
 * directory as its confdir (so it does not end with "write"). */
START_TEST(test_vty_argv_reload)
{
        char got[1024];
        struct conf c = conf_with("/opt/frr/bin/vtysh", "/usr/lib/frr/frr-reload.py", "h1");

        joined(vty_argv_reload(&c, "/run/failoverd/apply.Ab12Cd/frr.conf"), got, sizeof(got));
        ck_assert_str_eq(got, "/usr/lib/frr/frr-reload.py|--reload|--stdout|--bindir|/opt/frr/bin|--pathspace|h1|"
                              "--confdir|/run/failoverd/apply.Ab12Cd|/run/failoverd/apply.Ab12Cd/frr.conf");
        c = conf_with("/usr/local/bin/my-vtysh-wrapper", "/usr/lib/frr/frr-reload.py", "");
        joined(vty_argv_reload(&c, "/run/x/frr.conf"), got, sizeof(got));
        ck_assert_str_eq(got, "/usr/lib/frr/frr-reload.py|--reload|--stdout|--confdir|/run/x|/run/x/frr.conf");
}
END_TEST

START_TEST(test_vtysock_path)
{
        char p[64];
        ck_assert_int_eq(vtysock_path("", "bgpd", p, sizeof(p)), 0);
        ck_assert_str_eq(p, "/var/run/frr/bgpd.vty");
        ck_assert_int_eq(vtysock_path("h1", "bgpd", p, sizeof(p)), 0);
        ck_assert_str_eq(p, "/var/run/frr/h1/bgpd.vty");
        ck_assert_int_eq(vtysock_path("a-very-long-pathspace-name-indeed", "bgpd", p, 20), -ENAMETOOLONG);
}
END_TEST

struct seq_server {
        int listen_fd;
        char got[4][64];        /* the commands as received, one per recv of a whole command */
        int early;              /* a command arrived before the previous one was answered */
};

/* Answers "reply N" with status byte N to command N, checking that each command comes alone. */
static void *serve_seq(void *arg)
{
        struct seq_server *s = arg;
        int c = accept(s->listen_fd, NULL, NULL);
        if (c < 0)
                return NULL;
        for (int i = 0; i < 3; i++) {
                char buf[256];
                size_t have = 0;
                while (!memchr(buf, '\0', have)) {
                        ssize_t n = recv(c, buf + have, sizeof(buf) - have, 0);
                        if (n <= 0)
                                goto out;
                        have += (size_t)n;
                }
                size_t len = strlen(buf);
                if (have > len + 1)
                        s->early = 1;
                snprintf(s->got[i], sizeof(s->got[i]), "%.63s", buf);
                usleep(20000);          /* a slow answer: a pipelining client would send the next now */
                char reply[64];
                int n = snprintf(reply, sizeof(reply), "reply %d", i);
                reply[n] = reply[n + 1] = reply[n + 2] = '\0';
                reply[n + 3] = (char)i;
                if (send(c, reply, (size_t)n + 4, MSG_NOSIGNAL) < 0)
                        goto out;
        }
        char rest[16];
        while (recv(c, rest, sizeof(rest), 0) > 0)
                ;
out:
        close(c);
        return NULL;
}

struct seq_answer {
        bool done;
        int error;
        char out[3][32];
        int status[3];
};

static void on_seq(struct vtysock *q, int error, char **outputs, const int *status, void *userdata)
{
        struct seq_answer *a = userdata;
        (void)q;
        a->done = true;
        a->error = error;
        for (int i = 0; !error && i < 3; i++) {
                snprintf(a->out[i], sizeof(a->out[i]), "%s", outputs[i]);
                a->status[i] = status[i];
        }
}

START_TEST(test_vtysock_one_command_at_a_time)
{
        char *dir = unit_tmpdir(), path[100];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct seq_server s = { 0 };
        struct seq_answer a = { 0 };
        pthread_t t;
        sd_event *e = NULL;
        char *cmds[] = { (char *)"enable", (char *)"show bgp summary json", (char *)"show running-config", NULL };

        snprintf(path, sizeof(path), "%s/bgpd.vty", dir);
        s.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        ck_assert_int_eq(bind(s.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(listen(s.listen_fd, 4), 0);
        ck_assert_int_eq(pthread_create(&t, NULL, serve_seq, &s), 0);
        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(vtysock_query(e, path, cmds, 5000000, on_seq, &a, NULL), 0);
        for (int i = 0; i < 1000 && !a.done; i++)
                ck_assert_int_ge(sd_event_run(e, 10000), 0);
        ck_assert(a.done);
        sd_event_unref(e);
        pthread_join(t, NULL);
        close(s.listen_fd);
        ck_assert_int_eq(a.error, 0);
        ck_assert_int_eq(s.early, 0);
        for (int i = 0; i < 3; i++) {
                char want[32];
                snprintf(want, sizeof(want), "reply %d", i);
                ck_assert_str_eq(s.got[i], cmds[i]);
                ck_assert_str_eq(a.out[i], want);
                ck_assert_int_eq(a.status[i], i);
        }
        unit_rmrf(dir);
        free(dir);
}
END_TEST

Suite *vty_suite(void)
{
        Suite *s = suite_create("vty");
        TCase *tc = tcase_create("vty");
        tcase_add_test(tc, test_vty_argv_vtysh);
        tcase_add_test(tc, test_vty_argv_reload);
        tcase_add_test(tc, test_vtysock_path);
        tcase_add_test(tc, test_vtysock_one_command_at_a_time);
        suite_add_tcase(s, tc);
        return s;
}
