/* The unit check: a systemd unit's ActiveState, SubState and NRestarts through sd-bus on the loop, read
 * again whenever systemd (and only systemd) signals a change (after Manager.Subscribe), never polled. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "check_native_internal.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_UNIT_IFACE "org.freedesktop.systemd1.Unit"
#define SD_SERVICE_IFACE "org.freedesktop.systemd1.Service"
#define BUS_DRIVER "org.freedesktop.DBus"
/* Only the bus driver's word on who owns systemd's name; arg0 keeps everyone else's changes away. */
#define OWNER_MATCH "type='signal',sender='" BUS_DRIVER "',path='/org/freedesktop/DBus',interface='" BUS_DRIVER \
                    "',member='NameOwnerChanged',arg0='" SD_DEST "'"

enum { GET_ACTIVE, GET_SUB, GET_RESTARTS, N_GET };

/* Anyone on the system bus may send a signal to our unique name, and sd-bus cannot check a well-known
 * sender name client-side: a signal is only a hint, from the current owner of SD_DEST, to read the unit
 * again; the values come from method replies, which the bus lets only the called owner send. */
struct unitw {
        sd_bus *bus;
        sd_bus_slot *filter, *owner_match, *owner_get, *match, *subscribe, *load;
        sd_bus_slot *get[N_GET];        /* the one read in flight */
        char *owner;                    /* unique name owning SD_DEST; NULL: nobody (or not known yet) */
        char *path;                     /* the unit's object path from LoadUnit (an alias gives the unit's own) */
        bool dead;                      /* disconnected: torn down and opened again by the next run */
        bool again;                     /* a hint came while a read was in flight: one more read after it */
        unsigned waiting;               /* replies the read in flight still waits for */
        int read_err;                   /* the read in flight: first error, -errno */
        char read_what[160];            /* ... and what it was */
        char active[32], sub[32];       /* the read's values */
        bool has_restarts;
        uint32_t restarts;
};

static void cancel_read(struct unitw *u)
{
        for (int i = 0; i < N_GET; i++)
                u->get[i] = sd_bus_slot_unref(u->get[i]);
        u->waiting = 0;
        u->again = false;
}

static void unit_close(struct native *n)
{
        struct unitw *u = n->state;
        cancel_read(u);
        u->load = sd_bus_slot_unref(u->load);
        u->subscribe = sd_bus_slot_unref(u->subscribe);
        u->match = sd_bus_slot_unref(u->match);
        u->owner_get = sd_bus_slot_unref(u->owner_get);
        u->owner_match = sd_bus_slot_unref(u->owner_match);
        u->filter = sd_bus_slot_unref(u->filter);
        u->bus = sd_bus_flush_close_unref(u->bus);
        free(u->owner);
        u->owner = NULL;
        free(u->path);
        u->path = NULL;
        u->dead = false;
        native_forget(n);
}

static bool is_service(const struct native *n)
{
        size_t len = strlen(n->conf->unit);
        return len > 8 && strcmp(n->conf->unit + len - 8, ".service") == 0;
}

/* failed, inactive, deactivating, and activating in SubState auto-restart (a crash loop: systemd never
 * says failed while it restarts): failed; active: OK; activating, reloading and the rest: keep. */
static void grade(struct native *n, const char *active, const char *sub, const char *restarts)
{
        struct native_result r;
        bool restarting = strcmp(sub, "auto-restart") == 0 || strcmp(sub, "auto-restart-queued") == 0;

        if (restarting)
                native_result_set(&r, SEV_FAILED, "unit auto-restart", "%s is %s (%s)%s", n->conf->unit, active, sub,
                                  restarts);
        else if (strcmp(active, "active") == 0)
                native_result_set(&r, SEV_OK, "unit active", "%s is active (%s)%s", n->conf->unit, sub, restarts);
        else if (strcmp(active, "failed") == 0 || strcmp(active, "inactive") == 0 || strcmp(active, "deactivating") == 0) {
                native_result_set(&r, SEV_FAILED, "", "%s is %s (%s)%s", n->conf->unit, active, sub, restarts);
                snprintf(r.description, sizeof(r.description), "unit %s", active);
        } else
                return;         /* on its way: the last grade stands */
        native_value(n, &r);    /* may free n */
}

/* Grades failed; the caller touches nothing of n afterwards (it may be gone). */
static void bus_failed(struct native *n, const char *what, const sd_bus_error *e, int err)
{
        struct native_result r;
        native_result_set(&r, SEV_FAILED, "unit state unknown", "%s: %s: %s", n->conf->unit, what,
                          e && e->message ? e->message : strerror(err));
        native_value(n, &r);
}

/* A method reply: NULL when it is one, else why not (an error, or not from the current owner). */
static const char *bad_reply(sd_bus_message *m, const char *from, const sd_bus_error **e)
{
        const char *sender = sd_bus_message_get_sender(m);
        *e = sd_bus_message_get_error(m);
        if (*e)
                return "error";
        if (!from || !sender || strcmp(sender, from) != 0)
                return "a reply not from systemd";
        return NULL;
}

static int read_unit(struct native *n);

static void read_done(struct native *n)
{
        struct unitw *u = n->state;
        int err = u->read_err;
        char what[sizeof(u->read_what)], active[sizeof(u->active)], sub[sizeof(u->sub)], restarts[40] = "";

        /* This read's word, kept: the next read starts over, and before the grade, since done() may free n. */
        snprintf(what, sizeof(what), "%s", u->read_what);
        snprintf(active, sizeof(active), "%s", u->active);
        snprintf(sub, sizeof(sub), "%s", u->sub);
        if (u->has_restarts)
                snprintf(restarts, sizeof(restarts), ", NRestarts=%u", (unsigned)u->restarts);
        if (u->again && read_unit(n) < 0) {
                u->dead = true;
                native_forget(n);
        }
        if (err) {
                struct native_result r;        /* what says why already */
                native_result_set(&r, SEV_FAILED, "unit state unknown", "%s: %s", n->conf->unit, what);
                native_value(n, &r);
        } else
                grade(n, active, sub, restarts);
}

static void read_reply(struct native *n, sd_bus_message *m, int which)
{
        struct unitw *u = n->state;
        const sd_bus_error *e;
        const char *s = NULL, *why;
        int r = 0;

        u->get[which] = sd_bus_slot_unref(u->get[which]);
        u->waiting--;
        if (which == GET_RESTARTS) {
                /* Optional: only services have it, and systemd before 235 not even those. */
                if (!bad_reply(m, u->owner, &e))
                        u->has_restarts = sd_bus_message_read(m, "v", "u", &u->restarts) >= 0;
        } else if ((why = bad_reply(m, u->owner, &e))) {
                r = e ? -sd_bus_error_get_errno(e) : -EPERM;
                if (!u->read_err) {
                        snprintf(u->read_what, sizeof(u->read_what), "cannot read %s: %s",
                                 which == GET_ACTIVE ? "ActiveState" : "SubState", e && e->message ? e->message : why);
                        u->read_err = r ? r : -EIO;
                }
        } else if ((r = sd_bus_message_read(m, "v", "s", &s)) < 0) {
                if (!u->read_err) {
                        snprintf(u->read_what, sizeof(u->read_what), "cannot read %s: not a string",
                                 which == GET_ACTIVE ? "ActiveState" : "SubState");
                        u->read_err = -EBADMSG;
                }
        } else
                snprintf(which == GET_ACTIVE ? u->active : u->sub, sizeof(u->active), "%s", s);
        if (u->waiting == 0)
                read_done(n);
}

static int on_active(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        (void)ret_error;
        read_reply(userdata, m, GET_ACTIVE);
        return 0;
}

static int on_sub(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        (void)ret_error;
        read_reply(userdata, m, GET_SUB);
        return 0;
}

static int on_restarts(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        (void)ret_error;
        read_reply(userdata, m, GET_RESTARTS);
        return 0;
}

/* One read at a time: a hint during a read asks for exactly one more, however many hints come. */
static int read_unit(struct native *n)
{
        struct unitw *u = n->state;
        static const sd_bus_message_handler_t cb[N_GET] = { on_active, on_sub, on_restarts };
        static const char *const prop[N_GET] = { "ActiveState", "SubState", "NRestarts" };
        int r;

        if (!u->owner || !u->path)
                return 0;               /* the read follows LoadUnit's reply */
        if (u->waiting) {
                u->again = true;
                return 0;
        }
        u->again = false;
        u->read_err = 0;
        u->read_what[0] = u->active[0] = u->sub[0] = '\0';
        u->has_restarts = false;
        for (int i = 0; i < (is_service(n) ? N_GET : GET_RESTARTS); i++) {
                r = sd_bus_call_method_async(u->bus, &u->get[i], SD_DEST, u->path, "org.freedesktop.DBus.Properties",
                                             "Get", cb[i], n, "ss", i == GET_RESTARTS ? SD_SERVICE_IFACE : SD_UNIT_IFACE,
                                             prop[i]);
                if (r < 0) {
                        cancel_read(u);
                        return r;
                }
                u->waiting++;
        }
        return 0;
}

static int on_properties(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct native *n = userdata;
        struct unitw *u = n->state;
        const char *sender = sd_bus_message_get_sender(m), *iface;
        (void)ret_error;

        /* Not from systemd's current connection: someone else's, dropped without any work. */
        if (!u->owner || !sender || strcmp(sender, u->owner) != 0)
                return 0;
        if (sd_bus_message_read(m, "s", &iface) < 0 || strcmp(iface, SD_UNIT_IFACE) != 0)
                return 0;
        if (read_unit(n) < 0) {
                u->dead = true;
                native_forget(n);
        }
        return 0;
}

static int on_loaded(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct native *n = userdata;
        struct unitw *u = n->state;
        const sd_bus_error *e;
        const char *why, *path;
        int r;
        (void)ret_error;

        u->load = sd_bus_slot_unref(u->load);
        if ((why = bad_reply(m, u->owner, &e))) {
                bus_failed(n, "cannot load the unit", e, EPERM);
                return 0;
        }
        if ((r = sd_bus_message_read(m, "o", &path)) < 0) {
                bus_failed(n, "cannot load the unit: not an object path", NULL, -r);
                return 0;
        }
        if (!u->path || strcmp(u->path, path) != 0) {
                char *p = strdup(path);
                if (!p) {
                        bus_failed(n, "cannot load the unit", NULL, ENOMEM);
                        return 0;
                }
                free(u->path);
                u->path = p;
                u->match = sd_bus_slot_unref(u->match);
                cancel_read(u);
                /* The match goes out before the read: no change falls between the two. */
                r = sd_bus_match_signal_async(u->bus, &u->match, SD_DEST, u->path, "org.freedesktop.DBus.Properties",
                                              "PropertiesChanged", on_properties, NULL, n);
                if (r < 0) {
                        bus_failed(n, "cannot watch the unit", NULL, -r);
                        return 0;
                }
        }
        if ((r = read_unit(n)) < 0)
                bus_failed(n, "cannot read the unit", NULL, -r);
        return 0;
}

static int on_subscribed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct native *n = userdata;
        struct unitw *u = n->state;
        const sd_bus_error *e;
        (void)ret_error;

        u->subscribe = sd_bus_slot_unref(u->subscribe);
        /* Without a subscription no change would ever arrive: say so rather than stay silently stale. */
        if (bad_reply(m, u->owner, &e) && !(e && sd_bus_error_has_name(e, "org.freedesktop.systemd1.AlreadySubscribed")))
                bus_failed(n, "cannot subscribe to systemd's signals", e, EPERM);
        return 0;
}

/* systemd's connection changed (started, re-executed, gone): what the old one said or was asked is void.
 * Gone: the last grade stands (a daemon-reexec drops off the bus for a moment) and nothing moves it. */
static int set_owner(struct native *n, const char *owner)
{
        struct unitw *u = n->state;
        if (owner && !*owner)
                owner = NULL;
        if ((!owner && !u->owner) || (owner && u->owner && strcmp(owner, u->owner) == 0))
                return 0;
        cancel_read(u);
        u->load = sd_bus_slot_unref(u->load);
        u->subscribe = sd_bus_slot_unref(u->subscribe);
        free(u->owner);
        u->owner = NULL;
        if (!owner)
                return 0;
        if (!(u->owner = strdup(owner)))
                return -ENOMEM;
        int r = sd_bus_call_method_async(u->bus, &u->subscribe, SD_DEST, "/org/freedesktop/systemd1",
                                         "org.freedesktop.systemd1.Manager", "Subscribe", on_subscribed, n, NULL);
        if (r >= 0)
                r = sd_bus_call_method_async(u->bus, &u->load, SD_DEST, "/org/freedesktop/systemd1",
                                             "org.freedesktop.systemd1.Manager", "LoadUnit", on_loaded, n, "s",
                                             n->conf->unit);
        return r;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct native *n = userdata;
        const char *sender = sd_bus_message_get_sender(m), *name, *old, *new;
        (void)ret_error;

        /* The match's sender is a well-known name: sd-bus lets any client's signal through. */
        if (!sender || strcmp(sender, BUS_DRIVER) != 0)
                return 0;
        if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0 || strcmp(name, SD_DEST) != 0)
                return 0;
        int r = set_owner(n, new);
        if (r < 0)
                bus_failed(n, "cannot follow systemd on the bus", NULL, -r);
        return 0;
}

static int on_owner(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct native *n = userdata;
        struct unitw *u = n->state;
        const sd_bus_error *e;
        const char *owner;
        int r;
        (void)ret_error;

        u->owner_get = sd_bus_slot_unref(u->owner_get);
        if (bad_reply(m, BUS_DRIVER, &e)) {
                bus_failed(n, "systemd is not on the system bus", e, EPERM);
                return 0;
        }
        if ((r = sd_bus_message_read(m, "s", &owner)) < 0 || (r = set_owner(n, owner)) < 0)
                bus_failed(n, "cannot find systemd on the bus", NULL, -r);
        return 0;
}

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct native *n = userdata;
        struct unitw *u = n->state;
        (void)ret_error;

        /* sd-bus makes this one itself, and refuses a received message that claims the Local interface. */
        if (!sd_bus_message_is_signal(m, "org.freedesktop.DBus.Local", "Disconnected"))
                return 0;
        u->dead = true;
        native_forget(n);
        if (n->busy)
                native_fail(n, "unit state unknown", "%s: the system bus disconnected", n->conf->unit);
        else if (n->changed)
                n->changed(n, n->userdata);
        return 0;
}

static int unit_open(struct native *n)
{
        struct unitw *u = n->state;
        int r = sd_bus_open_system(&u->bus);
        if (r < 0) {
                u->bus = NULL;
                bus_failed(n, "no system bus", NULL, -r);
                return 0;
        }
        /* The owner match goes out before GetNameOwner: no change of owner falls between the two. */
        if ((r = sd_bus_attach_event(u->bus, n->event, SD_EVENT_PRIORITY_NORMAL)) < 0 ||
            (r = sd_bus_add_filter(u->bus, &u->filter, on_message, n)) < 0 ||
            (r = sd_bus_add_match_async(u->bus, &u->owner_match, OWNER_MATCH, on_owner_changed, NULL, n)) < 0 ||
            (r = sd_bus_call_method_async(u->bus, &u->owner_get, BUS_DRIVER, "/org/freedesktop/DBus", BUS_DRIVER,
                                          "GetNameOwner", on_owner, n, "s", SD_DEST)) < 0) {
                unit_close(n);
                bus_failed(n, "system bus", NULL, -r);
        }
        return 0;
}

static int unit_start(struct native *n)
{
        struct unitw *u = n->state;
        if (!u) {
                if (!(u = calloc(1, sizeof(*u))))
                        return -ENOMEM;
                n->state = u;
        }
        if (u->bus && !u->dead)
                return 0;
        if (u->bus)
                unit_close(n);
        return unit_open(n);
}

static void unit_free(struct native *n)
{
        struct unitw *u = n->state;
        if (!u)
                return;
        unit_close(n);
        free(u);
        n->state = NULL;
}

const struct native_kind native_unit = {
        .start = unit_start,
        .free = unit_free,
        .watched = true,
};
