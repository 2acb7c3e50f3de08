/* Unit tests for the unit check (lib/check_unit.c): a fake systemd on a private dbus-daemon that enforces
 * Debian 12's system bus policy and systemd's own, and an unprivileged client that forges its signals. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "unit.h"

#include "check.h"
#include "check_native.h"

#define DBUS_DAEMON "/usr/bin/dbus-daemon"
#define NOBODY 65534
#define UNIT_PATH "/org/freedesktop/systemd1/unit/fake_2eservice"
#define ALIAS_PATH "/org/freedesktop/systemd1/unit/alias_2eservice"

static char *tmp;
static sigset_t old_mask;
static pid_t bus_pid = -1;
static char addr[600];

struct rec {
        int n;
        int ok;                         /* OK results */
        enum severity sev;              /* of the last result */
        char description[128];
        char message[600];
};

static void setup(void)
{
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGCHLD);
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, &s, &old_mask), 0);
        tmp = unit_tmpdir();
        /* The unprivileged client must reach the bus socket in it. */
        ck_assert_int_eq(chmod(tmp, 0755), 0);
}

static void teardown(void)
{
        if (bus_pid > 0) {
                kill(bus_pid, SIGKILL);
                waitpid(bus_pid, NULL, 0);
                bus_pid = -1;
        }
        unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
        unit_rmrf(tmp);
        free(tmp);
        tmp = NULL;
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
}

static uint64_t mono_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static void on_result(struct check *c, bool changed, void *userdata)
{
        struct rec *r = userdata;
        const struct check_result *res = check_get_result(c);
        (void)changed;
        r->n++;
        r->ok += res->severity == SEV_OK;
        r->sev = res->severity;
        snprintf(r->description, sizeof(r->description), "%s", res->description);
        snprintf(r->message, sizeof(r->message), "%s", res->message);
}

/* Runs e until the last result has severity sev and description desc (true) or ms pass. */
static bool wait_result(sd_event *e, struct rec *r, enum severity sev, const char *desc, int ms)
{
        uint64_t end = mono_usec() + (uint64_t)ms * 1000;
        while (r->n == 0 || r->sev != sev || (desc && strcmp(r->description, desc) != 0)) {
                if (mono_usec() > end)
                        return false;
                ck_assert_int_ge(sd_event_run(e, 20000), 0);
        }
        return true;
}

static bool wait_int(sd_event *e, const int *v, int want, int ms)
{
        uint64_t end = mono_usec() + (uint64_t)ms * 1000;
        while (*v < want) {
                if (mono_usec() > end)
                        return false;
                ck_assert_int_ge(sd_event_run(e, 20000), 0);
        }
        return true;
}

static struct check *start_unit(sd_event *e, const char *unit, struct rec *r)
{
        struct native_conf nc = { .type = NATIVE_UNIT, .unit = (char *)unit };
        /* A long interval: every result after the first comes from a change systemd signalled. */
        struct check_conf cc = { .name = "u", .native = &nc, .interval = 3600, .timeout = 10, .rise = 1, .fall = 1 };
        struct check *c = NULL;
        ck_assert_int_eq(check_new(e, &cc, on_result, r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        return c;
}

/* --- a private system bus ------------------------------------------------------------------------------- */

/* Debian 12's /usr/share/dbus-1/system.conf (its default and root policies, minus the service helper,
 * syslog, pid file and fork), on a socket of our own, plus systemd's bus policy
 * (/usr/share/dbus-1/system.d/org.freedesktop.systemd1.conf) for what the unit check and its fake use.
 * One addition for the tests' barrier: root may call org.freedesktop.DBus.Peer (Ping) on anyone. */
static const char bus_conf[] =
        "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
        " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
        "<busconfig>\n"
        "  <type>custom</type>\n"
        "  <auth>EXTERNAL</auth>\n"
        "  <listen>%s</listen>\n"
        "  <policy context=\"default\">\n"
        "    <allow user=\"*\"/>\n"
        "    <deny own=\"*\"/>\n"
        "    <deny send_type=\"method_call\"/>\n"
        "    <allow send_type=\"signal\"/>\n"
        "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
        "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
        "    <allow receive_type=\"method_call\"/>\n"
        "    <allow receive_type=\"method_return\"/>\n"
        "    <allow receive_type=\"error\"/>\n"
        "    <allow receive_type=\"signal\"/>\n"
        "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"/>\n"
        "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
        "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Properties\"/>\n"
        "    <deny send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"\n"
        "          send_member=\"UpdateActivationEnvironment\"/>\n"
        "    <deny send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Debug.Stats\"/>\n"
        "    <deny send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.systemd1.Activator\"/>\n"
        "  </policy>\n"
        "  <policy user=\"root\">\n"
        "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.systemd1.Activator\"/>\n"
        "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Monitoring\"/>\n"
        "  </policy>\n"
        "  <policy user=\"root\">\n"
        "    <allow own=\"org.freedesktop.systemd1\"/>\n"
        "    <allow send_destination=\"org.freedesktop.systemd1\"/>\n"
        "    <allow receive_sender=\"org.freedesktop.systemd1\"/>\n"
        "  </policy>\n"
        "  <policy context=\"default\">\n"
        "    <deny send_destination=\"org.freedesktop.systemd1\"/>\n"
        "    <allow send_destination=\"org.freedesktop.systemd1\" send_interface=\"org.freedesktop.DBus.Properties\"\n"
        "           send_member=\"Get\"/>\n"
        "    <allow send_destination=\"org.freedesktop.systemd1\" send_interface=\"org.freedesktop.DBus.Properties\"\n"
        "           send_member=\"GetAll\"/>\n"
        "    <allow send_destination=\"org.freedesktop.systemd1\" send_interface=\"org.freedesktop.systemd1.Manager\"\n"
        "           send_member=\"GetUnit\"/>\n"
        "    <allow send_destination=\"org.freedesktop.systemd1\" send_interface=\"org.freedesktop.systemd1.Manager\"\n"
        "           send_member=\"LoadUnit\"/>\n"
        "    <allow send_destination=\"org.freedesktop.systemd1\" send_interface=\"org.freedesktop.systemd1.Manager\"\n"
        "           send_member=\"Subscribe\"/>\n"
        "    <allow send_destination=\"org.freedesktop.systemd1\" send_interface=\"org.freedesktop.systemd1.Manager\"\n"
        "           send_member=\"Unsubscribe\"/>\n"
        "    <allow receive_sender=\"org.freedesktop.systemd1\"/>\n"
        "  </policy>\n"
        "  <policy user=\"root\">\n"
        "    <allow send_interface=\"org.freedesktop.DBus.Peer\" send_member=\"Ping\"/>\n"
        "  </policy>\n"
        "</busconfig>\n";

/* false (and says why) when this machine cannot run the test. */
static bool can_run(const char *test)
{
        if (access(DBUS_DAEMON, X_OK) < 0) {
                fprintf(stderr, "%s: SKIPPED: needs %s (Debian package dbus-daemon)\n", test, DBUS_DAEMON);
                return false;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "%s: SKIPPED: needs root (only root may own org.freedesktop.systemd1 under the "
                                "system bus policy, and become nobody)\n", test);
                return false;
        }
        return true;
}

static sd_bus *connect_bus(void)
{
        sd_bus *b = NULL;
        uint64_t end = mono_usec() + 10000000;
        for (;;) {
                ck_assert_int_ge(sd_bus_new(&b), 0);
                ck_assert_int_ge(sd_bus_set_address(b, addr), 0);
                ck_assert_int_ge(sd_bus_set_bus_client(b, 1), 0);
                if (sd_bus_start(b) >= 0 && sd_bus_get_unique_name(b, &(const char *){ NULL }) >= 0)
                        return b;
                b = sd_bus_flush_close_unref(b);
                ck_assert_msg(mono_usec() < end, "dbus-daemon did not come up on %s (see %s/dbus-daemon.log)", addr, tmp);
                usleep(20000);
        }
}

/* Starts dbus-daemon (killed with the test process, and by teardown) and points the system bus at it. */
static void bus_start(void)
{
        char conf[sizeof(bus_conf) + 700], cfgarg[700];
        snprintf(addr, sizeof(addr), "unix:path=%s/system_bus_socket", tmp);
        snprintf(conf, sizeof(conf), bus_conf, addr);
        char *path = unit_write(tmp, "system.conf", conf, 0644);
        snprintf(cfgarg, sizeof(cfgarg), "--config-file=%s", path);
        free(path);
        char *argv[] = { DBUS_DAEMON, cfgarg, "--nofork", "--nopidfile", NULL };
        char logpath[600];
        snprintf(logpath, sizeof(logpath), "%s/dbus-daemon.log", tmp);
        pid_t parent = getpid();
        bus_pid = fork();
        ck_assert_int_ge(bus_pid, 0);
        if (bus_pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(1);
                /* Its complaints (it cannot raise its fd limit in a container) go to the log beside the socket. */
                int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        dup2(fd, 1);
                        dup2(fd, 2);
                }
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                execv(argv[0], argv);
                _exit(127);
        }
        sd_bus_unref(connect_bus());
        setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1);
}

/* --- the fake systemd ------------------------------------------------------------------------------------- */

struct fake {
        sd_bus *bus;
        sd_bus_slot *slot;
        char active[64], sub[64];
        const char *active_type;        /* the variant's type for ActiveState: "s", a wrong one, or "!": an error */
        const char *restarts_type;
        uint32_t restarts;
        int subscribes, loads, reads;   /* reads: Gets of ActiveState, one per read of the check */
        bool hold;                      /* Get replies wait in held[] until fake_release() */
        sd_bus_message *held[16];
        int n_held;
        char subscriber[128];           /* the check's unique name */
        int pings;
};

static int reply_get(struct fake *f, sd_bus_message *m)
{
        const char *iface, *prop;
        sd_bus_message *reply = NULL;
        int r = sd_bus_message_read(m, "ss", &iface, &prop);
        if (r < 0)
                return r;
        if (strcmp(prop, "ActiveState") == 0 && strcmp(f->active_type, "!") == 0)
                return sd_bus_reply_method_errorf(m, "org.freedesktop.DBus.Error.AccessDenied", "denied");
        ck_assert_int_ge(sd_bus_message_new_method_return(m, &reply), 0);
        if (strcmp(iface, "org.freedesktop.systemd1.Unit") == 0 && strcmp(prop, "ActiveState") == 0) {
                if (strcmp(f->active_type, "s") == 0)
                        r = sd_bus_message_append(reply, "v", "s", f->active);
                else
                        r = sd_bus_message_append(reply, "v", "u", 7);
        } else if (strcmp(iface, "org.freedesktop.systemd1.Unit") == 0 && strcmp(prop, "SubState") == 0)
                r = sd_bus_message_append(reply, "v", "s", f->sub);
        else if (strcmp(iface, "org.freedesktop.systemd1.Service") == 0 && strcmp(prop, "NRestarts") == 0) {
                if (strcmp(f->restarts_type, "u") == 0)
                        r = sd_bus_message_append(reply, "v", "u", f->restarts);
                else
                        r = sd_bus_message_append(reply, "v", "s", "many");
        } else {
                sd_bus_message_unref(reply);
                return sd_bus_reply_method_errorf(m, "org.freedesktop.DBus.Error.UnknownProperty", "no %s", prop);
        }
        ck_assert_int_ge(r, 0);
        r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r < 0 ? r : 1;
}

/* Everything under /org/freedesktop/systemd1 that the unit check uses, as systemd answers it. */
static int fake_handler(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct fake *f = userdata;
        const char *path = sd_bus_message_get_path(m), *name;
        (void)error;

        if (sd_bus_message_is_method_call(m, "org.freedesktop.systemd1.Manager", "Subscribe")) {
                f->subscribes++;
                snprintf(f->subscriber, sizeof(f->subscriber), "%s", sd_bus_message_get_sender(m));
                return sd_bus_reply_method_return(m, NULL);
        }
        if (sd_bus_message_is_method_call(m, "org.freedesktop.systemd1.Manager", "LoadUnit") ||
            sd_bus_message_is_method_call(m, "org.freedesktop.systemd1.Manager", "GetUnit")) {
                f->loads++;
                ck_assert_int_ge(sd_bus_message_read(m, "s", &name), 0);
                /* alias.service is another name of fake.service: systemd answers with the unit's own path. */
                if (strcmp(name, "fake.service") == 0 || strcmp(name, "alias.service") == 0)
                        return sd_bus_reply_method_return(m, "o", UNIT_PATH);
                return sd_bus_reply_method_errorf(m, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.", name);
        }
        /* As systemd does, a unit answers at any of its names' paths. */
        if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "Get") &&
            (strcmp(path, UNIT_PATH) == 0 || strcmp(path, ALIAS_PATH) == 0)) {
                const char *iface, *prop;
                ck_assert_int_ge(sd_bus_message_read(m, "ss", &iface, &prop), 0);
                bool active = strcmp(prop, "ActiveState") == 0;
                ck_assert_int_ge(sd_bus_message_rewind(m, true), 0);
                f->reads += active;
                if (f->hold) {
                        ck_assert_int_lt(f->n_held, 16);
                        f->held[f->n_held++] = sd_bus_message_ref(m);
                        return 1;
                }
                return reply_get(f, m);
        }
        return 0;
}

static void fake_start(struct fake *f, sd_event *e)
{
        memset(f, 0, sizeof(*f));
        snprintf(f->active, sizeof(f->active), "active");
        snprintf(f->sub, sizeof(f->sub), "running");
        f->active_type = "s";
        f->restarts_type = "u";
        f->bus = connect_bus();
        ck_assert_int_ge(sd_bus_add_fallback(f->bus, &f->slot, "/org/freedesktop/systemd1", fake_handler, f), 0);
        ck_assert_int_ge(sd_bus_request_name(f->bus, "org.freedesktop.systemd1", 0), 0);
        ck_assert_int_ge(sd_bus_attach_event(f->bus, e, 0), 0);
}

static void fake_stop(struct fake *f)
{
        for (int i = 0; i < f->n_held; i++)
                sd_bus_message_unref(f->held[i]);
        f->n_held = 0;
        f->slot = sd_bus_slot_unref(f->slot);
        f->bus = sd_bus_flush_close_unref(f->bus);
}

/* Answers the held Gets (with the state now); f->hold says whether later ones are held too. */
static void fake_release(struct fake *f)
{
        for (int i = 0; i < f->n_held; i++) {
                ck_assert_int_ge(reply_get(f, f->held[i]), 0);
                sd_bus_message_unref(f->held[i]);
        }
        f->n_held = 0;
}

/* PropertiesChanged on the unit's Unit interface, as systemd sends it (the values, nothing invalidated). */
static void fake_emit(struct fake *f, const char *active, const char *sub)
{
        sd_bus_message *s = NULL;
        if (active)
                snprintf(f->active, sizeof(f->active), "%s", active);
        if (sub)
                snprintf(f->sub, sizeof(f->sub), "%s", sub);
        ck_assert_int_ge(sd_bus_message_new_signal(f->bus, &s, UNIT_PATH, "org.freedesktop.DBus.Properties",
                                                   "PropertiesChanged"), 0);
        ck_assert_int_ge(sd_bus_message_append(s, "sa{sv}as", "org.freedesktop.systemd1.Unit", 2, "ActiveState", "s",
                                               f->active, "SubState", "s", f->sub, 0), 0);
        ck_assert_int_ge(sd_bus_send(f->bus, s, NULL), 0);
        sd_bus_message_unref(s);
}

static int on_pong(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct fake *f = userdata;
        (void)error;
        ck_assert_msg(!sd_bus_message_is_method_error(m, NULL), "Ping: %s", sd_bus_message_get_error(m)->message);
        f->pings++;
        return 0;
}

/* Returns once the check's connection has dispatched everything f sent it before (a Ping's reply follows). */
static void fake_barrier(struct fake *f, sd_event *e)
{
        int want = f->pings + 1;
        ck_assert_int_ge(sd_bus_call_method_async(f->bus, NULL, f->subscriber, "/", "org.freedesktop.DBus.Peer", "Ping",
                                                  on_pong, f, NULL), 0);
        ck_assert(wait_int(e, &f->pings, want, 10000));
}

/* --- the fixture: an event loop, the private bus, the fake systemd on it, and the check under test ------ */

struct fixture {
        sd_event *e;
        struct fake f;
        struct rec r;
        struct check *c;
};

/* false (the test is skipped) when this machine cannot run it; else x has a loop, a bus and a fake systemd. */
static bool fixture_start(struct fixture *x, const char *test)
{
        memset(x, 0, sizeof(*x));
        if (!can_run(test))
                return false;
        ck_assert_int_ge(sd_event_new(&x->e), 0);
        bus_start();
        fake_start(&x->f, x->e);
        return true;
}

/* Starts the check on unit and waits (10 s) for its first result, sev and desc. */
static void fixture_watch(struct fixture *x, const char *unit, enum severity sev, const char *desc)
{
        x->c = start_unit(x->e, unit, &x->r);
        ck_assert(wait_result(x->e, &x->r, sev, desc, 10000));
}

static void fixture_stop(struct fixture *x)
{
        x->c = check_free(x->c);
        fake_stop(&x->f);
        x->e = sd_event_unref(x->e);
}

/* --- the tests ---------------------------------------------------------------------------------------- */

START_TEST(test_unit_no_bus)
{
        sd_event *e = NULL;
        ck_assert_int_ge(sd_event_new(&e), 0);
        snprintf(addr, sizeof(addr), "unix:path=%s/no-bus", tmp);
        setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1);
        struct rec r = { 0 };
        struct native_conf nc = { .type = NATIVE_UNIT, .unit = "nginx.service" };
        struct check_conf cc = { .name = "u", .native = &nc, .interval = 0.1, .timeout = 5, .rise = 1, .fall = 1 };
        struct check *c = NULL;
        uint64_t t0 = mono_usec();
        ck_assert_int_eq(check_new(e, &cc, on_result, &r, &c), 0);
        ck_assert_int_eq(check_start(c), 0);
        while (r.n < 2) {               /* tried again at the next run */
                ck_assert_uint_lt(mono_usec() - t0, 5000000);
                ck_assert_int_ge(sd_event_run(e, 20000), 0);
        }
        ck_assert_int_eq(r.sev, SEV_FAILED);
        ck_assert_str_eq(r.description, "unit state unknown");
        ck_assert_ptr_nonnull(strstr(r.message, "nginx.service: no system bus"));
        check_free(c);
        sd_event_unref(e);
}
END_TEST

START_TEST(test_unit_states)
{
        struct fixture x;
        if (!fixture_start(&x, "test_unit_states"))
                return;
        fixture_watch(&x, "fake.service", SEV_OK, "unit active");
        ck_assert_str_eq(x.r.message, "fake.service is active (running), NRestarts=0");
        ck_assert_int_eq(x.f.subscribes, 1);
        ck_assert_int_eq(x.f.loads, 1);

        uint64_t t0 = mono_usec();
        fake_emit(&x.f, "failed", "failed");
        ck_assert(wait_result(x.e, &x.r, SEV_FAILED, "unit failed", 5000));
        ck_assert_uint_lt(mono_usec() - t0, 2000000);
        ck_assert_str_eq(x.r.message, "fake.service is failed (failed), NRestarts=0");

        /* activating keeps the last grade; active brings it back; inactive and deactivating fail. */
        int n = x.r.n;
        fake_emit(&x.f, "activating", "start");
        fake_barrier(&x.f, x.e);
        ck_assert(wait_int(x.e, &x.f.reads, 3, 5000));
        fake_emit(&x.f, "active", "running");
        ck_assert(wait_result(x.e, &x.r, SEV_OK, "unit active", 5000));
        ck_assert_int_eq(x.r.n, n + 1);
        fake_emit(&x.f, "deactivating", "stop-sigterm");
        ck_assert(wait_result(x.e, &x.r, SEV_FAILED, "unit deactivating", 5000));
        fake_emit(&x.f, "inactive", "dead");
        ck_assert(wait_result(x.e, &x.r, SEV_FAILED, "unit inactive", 5000));
        fake_emit(&x.f, "active", "running");
        ck_assert(wait_result(x.e, &x.r, SEV_OK, "unit active", 5000));

        /* The bus goes away: failed, and said so. */
        kill(bus_pid, SIGTERM);
        ck_assert(wait_result(x.e, &x.r, SEV_FAILED, "unit state unknown", 5000));
        fixture_stop(&x);
}
END_TEST

/* Runs as nobody in a child: sends a NameOwnerChanged that hands systemd's name to itself, then count
 * PropertiesChanged that say the unit is active, unicast to dest; exits 0 once the bus has taken them all. */
static void forge(const char *dest, int count)
{
        sd_bus *b = NULL;
        sd_bus_message *s = NULL;
        const char *me;

        if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0)
                _exit(10);
        if (sd_bus_new(&b) < 0 || sd_bus_set_address(b, addr) < 0 || sd_bus_set_bus_client(b, 1) < 0 ||
            sd_bus_start(b) < 0 || sd_bus_get_unique_name(b, &me) < 0)
                _exit(11);
        if (sd_bus_message_new_signal(b, &s, "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameOwnerChanged") < 0 ||
            sd_bus_message_set_destination(s, dest) < 0 ||
            sd_bus_message_append(s, "sss", "org.freedesktop.systemd1", "", me) < 0)
                _exit(12);
        (void)sd_bus_send(b, s, NULL);  /* the bus may refuse this one; the rest must go */
        s = sd_bus_message_unref(s);
        for (int i = 0; i < count; i++) {
                if (sd_bus_message_new_signal(b, &s, UNIT_PATH, "org.freedesktop.DBus.Properties",
                                              "PropertiesChanged") < 0 ||
                    sd_bus_message_set_destination(s, dest) < 0 ||
                    sd_bus_message_append(s, "sa{sv}as", "org.freedesktop.systemd1.Unit", 2, "ActiveState", "s",
                                          "active", "SubState", "s", "running", 0) < 0 ||
                    sd_bus_send(b, s, NULL) < 0)
                        _exit(13);
                s = sd_bus_message_unref(s);
                if (i % 256 == 255 && sd_bus_flush(b) < 0)
                        _exit(14);
        }
        /* The bus answers this after routing everything sent before it. */
        if (sd_bus_call_method(b, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId",
                               NULL, NULL, NULL) < 0)
                _exit(15);
        _exit(0);
}

/* Runs the forger as nobody while e runs; returns its exit status. */
static int run_forger(sd_event *e, const char *dest, int count)
{
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                forge(dest, count);
        }
        int status = 0;
        uint64_t end = mono_usec() + 60000000;
        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                ck_assert_int_ge(w, 0);
                if (w == pid)
                        break;
                if (mono_usec() > end) {
                        kill(pid, SIGKILL);
                        ck_abort_msg("the forger as nobody did not finish within 60 s");
                }
                ck_assert_int_ge(sd_event_run(e, 1000), 0);
        }
        ck_assert_msg(WIFEXITED(status), "forger: status %d", status);
        return WEXITSTATUS(status);
}

START_TEST(test_unit_forged_signal)
{
        struct fixture x;
        if (!fixture_start(&x, "test_unit_forged_signal"))
                return;
        snprintf(x.f.active, sizeof(x.f.active), "failed");
        snprintf(x.f.sub, sizeof(x.f.sub), "failed");
        fixture_watch(&x, "fake.service", SEV_FAILED, "unit failed");
        ck_assert_str_ne(x.f.subscriber, "");
        int reads = x.f.reads;

        /* One forged signal, then a flood: nothing moves, and no forged signal costs a read. */
        ck_assert_int_eq(run_forger(x.e, x.f.subscriber, 1), 0);
        fake_barrier(&x.f, x.e);
        ck_assert_msg(x.r.ok == 0 && x.r.sev == SEV_FAILED, "a forged signal made the check %s (%s)", x.r.description,
                      x.r.message);
        uint64_t t0 = mono_usec();
        ck_assert_int_eq(run_forger(x.e, x.f.subscriber, 20000), 0);
        fake_barrier(&x.f, x.e);
        fprintf(stderr, "MEASURED 20000 forged PropertiesChanged as nobody: sent and dispatched in %llu ms, "
                        "%d reads caused\n", (unsigned long long)(mono_usec() - t0) / 1000, x.f.reads - reads);
        ck_assert_msg(x.r.ok == 0 && x.r.sev == SEV_FAILED, "forged signals made the check %s (%s)", x.r.description,
                      x.r.message);
        ck_assert_int_eq(x.f.reads, reads);

        /* systemd itself still moves it. */
        fake_emit(&x.f, "active", "running");
        ck_assert(wait_result(x.e, &x.r, SEV_OK, "unit active", 5000));
        fixture_stop(&x);
}
END_TEST

START_TEST(test_unit_coalesce)
{
        struct fixture x;
        if (!fixture_start(&x, "test_unit_coalesce"))
                return;
        fixture_watch(&x, "fake.service", SEV_OK, "unit active");
        ck_assert_int_eq(x.f.reads, 1);

        /* A read in flight (systemd slow to answer) while 1000 changes are signalled: one more read after it,
         * and the held read's answer (failed by then) is graded while the next one is still out. */
        x.f.hold = true;
        fake_emit(&x.f, NULL, NULL);
        ck_assert(wait_int(x.e, &x.f.reads, 2, 5000));
        for (int i = 0; i < 1000; i++)
                fake_emit(&x.f, i % 2 ? "failed" : "active", i % 2 ? "failed" : "running");
        fake_barrier(&x.f, x.e);
        ck_assert_int_eq(x.f.reads, 2);
        fake_release(&x.f);
        ck_assert(wait_result(x.e, &x.r, SEV_FAILED, "unit failed", 5000));
        ck_assert(wait_int(x.e, &x.f.reads, 3, 5000));
        fake_barrier(&x.f, x.e);
        ck_assert_int_eq(x.f.reads, 3);
        x.f.hold = false;
        fake_release(&x.f);
        fake_emit(&x.f, "active", "running");
        ck_assert(wait_result(x.e, &x.r, SEV_OK, "unit active", 5000));
        ck_assert_int_eq(x.f.reads, 4);
        fixture_stop(&x);
}
END_TEST

START_TEST(test_unit_auto_restart)
{
        struct fixture x;
        if (!fixture_start(&x, "test_unit_auto_restart"))
                return;
        fixture_watch(&x, "fake.service", SEV_OK, "unit active");

        /* Restart= after a crash: active -> activating (auto-restart), never failed. */
        x.f.restarts = 1;
        fake_emit(&x.f, "activating", "auto-restart");
        ck_assert(wait_result(x.e, &x.r, SEV_FAILED, "unit auto-restart", 5000));
        ck_assert_str_eq(x.r.message, "fake.service is activating (auto-restart), NRestarts=1");
        int n = x.r.n;
        fake_emit(&x.f, "activating", "start");
        fake_barrier(&x.f, x.e);
        fake_emit(&x.f, "active", "running");
        ck_assert(wait_result(x.e, &x.r, SEV_OK, "unit active", 5000));
        ck_assert_int_eq(x.r.n, n + 1);
        ck_assert_str_eq(x.r.message, "fake.service is active (running), NRestarts=1");
        /* systemd 254 and later: auto-restart-queued. */
        x.f.restarts = 2;
        fake_emit(&x.f, "activating", "auto-restart-queued");
        ck_assert(wait_result(x.e, &x.r, SEV_FAILED, "unit auto-restart", 5000));
        ck_assert_str_eq(x.r.message, "fake.service is activating (auto-restart-queued), NRestarts=2");
        fixture_stop(&x);
}
END_TEST

/* The check names an alias: systemd signals changes on the unit's own path, which LoadUnit gives. */
START_TEST(test_unit_alias)
{
        struct fixture x;
        if (!fixture_start(&x, "test_unit_alias"))
                return;
        fixture_watch(&x, "alias.service", SEV_OK, "unit active");
        fake_emit(&x.f, "failed", "failed");
        ck_assert(wait_result(x.e, &x.r, SEV_FAILED, "unit failed", 5000));
        ck_assert_str_eq(x.r.message, "alias.service is failed (failed), NRestarts=0");
        check_free(x.c);

        /* A unit systemd does not know: failed with systemd's words. */
        memset(&x.r, 0, sizeof(x.r));
        x.c = start_unit(x.e, "nosuch.service", &x.r);
        ck_assert(wait_result(x.e, &x.r, SEV_FAILED, "unit state unknown", 10000));
        ck_assert_ptr_nonnull(strstr(x.r.message, "nosuch.service: cannot load the unit: Unit nosuch.service not loaded."));
        fixture_stop(&x);
}
END_TEST

/* Replies of the wrong type: the state is unknown (failed), an odd NRestarts is left out. */
START_TEST(test_unit_bad_replies)
{
        struct fixture x;
        if (!fixture_start(&x, "test_unit_bad_replies"))
                return;
        x.f.restarts_type = "s";
        fixture_watch(&x, "fake.service", SEV_OK, "unit active");
        ck_assert_str_eq(x.r.message, "fake.service is active (running)");
        x.f.active_type = "u";
        fake_emit(&x.f, NULL, NULL);
        ck_assert(wait_result(x.e, &x.r, SEV_FAILED, "unit state unknown", 5000));
        ck_assert_str_eq(x.r.message, "fake.service: cannot read ActiveState: not a string");
        x.f.active_type = "s";
        fake_emit(&x.f, NULL, NULL);
        ck_assert(wait_result(x.e, &x.r, SEV_OK, "unit active", 5000));
        x.f.active_type = "!";
        fake_emit(&x.f, NULL, NULL);
        ck_assert(wait_result(x.e, &x.r, SEV_FAILED, "unit state unknown", 5000));
        ck_assert_str_eq(x.r.message, "fake.service: cannot read ActiveState: denied");
        x.f.active_type = "s";
        fake_emit(&x.f, NULL, NULL);
        ck_assert(wait_result(x.e, &x.r, SEV_OK, "unit active", 5000));
        fixture_stop(&x);
}
END_TEST

/* systemd leaves the bus (daemon-reexec) and comes back: the grade stands meanwhile, then the check
 * subscribes again with the new connection and reads the unit without waiting for a signal. */
START_TEST(test_unit_owner_change)
{
        struct fixture x;
        if (!fixture_start(&x, "test_unit_owner_change"))
                return;
        fixture_watch(&x, "fake.service", SEV_OK, "unit active");
        int n = x.r.n;
        fake_stop(&x.f);
        fake_start(&x.f, x.e);          /* systemd again, on a new connection */
        snprintf(x.f.active, sizeof(x.f.active), "failed");
        snprintf(x.f.sub, sizeof(x.f.sub), "failed");
        ck_assert(wait_result(x.e, &x.r, SEV_FAILED, "unit failed", 5000));
        ck_assert_int_eq(x.r.n, n + 1);
        ck_assert_int_eq(x.f.subscribes, 1);
        fake_emit(&x.f, "active", "running");
        ck_assert(wait_result(x.e, &x.r, SEV_OK, "unit active", 5000));
        fixture_stop(&x);
}
END_TEST

Suite *check_unit_suite(void)
{
        Suite *s = suite_create("check_unit");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_unit_no_bus);
        tcase_add_test(tc, test_unit_states);
        tcase_add_test(tc, test_unit_forged_signal);
        tcase_add_test(tc, test_unit_coalesce);
        tcase_add_test(tc, test_unit_auto_restart);
        tcase_add_test(tc, test_unit_alias);
        tcase_add_test(tc, test_unit_bad_replies);
        tcase_add_test(tc, test_unit_owner_change);
        suite_add_tcase(s, tc);
        return s;
}
