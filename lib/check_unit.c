/* The unit check: a systemd unit's ActiveState through sd-bus on the loop, told by PropertiesChanged
 * (after Manager.Subscribe, without which systemd sends no unit signals), never polled. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "check_native_kind.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_UNIT_IFACE "org.freedesktop.systemd1.Unit"

struct unitw {
        sd_bus *bus;
        sd_bus_slot *filter, *match, *subscribe, *get;
        char *path;
        bool dead;                      /* disconnected: torn down and opened again by the next run */
        char state[32];                 /* last ActiveState seen, "" before */
};

static void unit_close(struct native *n)
{
        struct unitw *u = n->state;
        u->get = sd_bus_slot_unref(u->get);
        u->subscribe = sd_bus_slot_unref(u->subscribe);
        u->match = sd_bus_slot_unref(u->match);
        u->filter = sd_bus_slot_unref(u->filter);
        u->bus = sd_bus_flush_close_unref(u->bus);
        u->dead = false;
        u->state[0] = '\0';
        native_forget(n);
}

/* failed, inactive, deactivating: failed; active: ok; activating, reloading and the rest: keep. */
static void apply_state(struct native *n, const char *state)
{
        struct unitw *u = n->state;
        struct native_result r;

        snprintf(u->state, sizeof(u->state), "%s", state);
        if (strcmp(state, "active") == 0)
                native_result_set(&r, SEV_OK, "unit active", "%s is active", n->conf->unit);
        else if (strcmp(state, "failed") == 0 || strcmp(state, "inactive") == 0 || strcmp(state, "deactivating") == 0)
                native_result_set(&r, SEV_FAILED, "", "%s is %s", n->conf->unit, state);
        else
                return;         /* on its way: the last grade stands */
        if (r.severity != SEV_OK)
                snprintf(r.description, sizeof(r.description), "unit %s", state);
        native_value(n, &r);
}

static void bus_failed(struct native *n, const char *what, const sd_bus_error *e, int err)
{
        struct native_result r;
        native_result_set(&r, SEV_FAILED, "unit state unknown", "%s: %s: %s", n->conf->unit, what,
                          e && e->message ? e->message : strerror(err));
        native_value(n, &r);
}

static int on_get(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct native *n = userdata;
        struct unitw *u = n->state;
        const char *state;
        (void)ret_error;

        u->get = sd_bus_slot_unref(u->get);
        const sd_bus_error *e = sd_bus_message_get_error(m);
        if (e) {
                bus_failed(n, "cannot read ActiveState", e, EIO);
                return 0;
        }
        int r = sd_bus_message_read(m, "v", "s", &state);
        if (r < 0) {
                bus_failed(n, "cannot read ActiveState", NULL, -r);
                return 0;
        }
        apply_state(n, state);
        return 0;
}

static int ask_state(struct native *n)
{
        struct unitw *u = n->state;
        if (u->get)
                return 0;
        return sd_bus_call_method_async(u->bus, &u->get, SD_DEST, u->path, "org.freedesktop.DBus.Properties", "Get",
                                        on_get, n, "ss", SD_UNIT_IFACE, "ActiveState");
}

static int on_properties(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct native *n = userdata;
        const char *iface, *key, *state = NULL;
        bool invalidated = false;
        (void)ret_error;

        if (sd_bus_message_read(m, "s", &iface) < 0 || strcmp(iface, SD_UNIT_IFACE) != 0)
                return 0;
        if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
                return 0;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                if (sd_bus_message_read(m, "s", &key) < 0)
                        return 0;
                if (strcmp(key, "ActiveState") == 0) {
                        if (sd_bus_message_read(m, "v", "s", &state) < 0)
                                return 0;
                } else if (sd_bus_message_skip(m, "v") < 0)
                        return 0;
                if (sd_bus_message_exit_container(m) < 0)
                        return 0;
        }
        if (sd_bus_message_exit_container(m) < 0)
                return 0;
        char **inv = NULL;
        if (sd_bus_message_read_strv(m, &inv) >= 0)
                for (char **i = inv; i && *i; i++)
                        invalidated |= strcmp(*i, "ActiveState") == 0;
        for (char **i = inv; i && *i; i++)
                free(*i);
        free(inv);
        if (state)
                apply_state(n, state);
        else if (invalidated && ask_state(n) < 0)
                native_forget(n);
        return 0;
}

static int on_subscribed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct native *n = userdata;
        struct unitw *u = n->state;
        (void)ret_error;

        u->subscribe = sd_bus_slot_unref(u->subscribe);
        const sd_bus_error *e = sd_bus_message_get_error(m);
        /* Without a subscription no change would ever arrive: say so rather than stay silently stale. */
        if (e && !sd_bus_error_has_name(e, "org.freedesktop.systemd1.AlreadySubscribed"))
                bus_failed(n, "cannot subscribe to systemd's signals", e, EIO);
        return 0;
}

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct native *n = userdata;
        struct unitw *u = n->state;
        (void)ret_error;

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
        if ((r = sd_bus_attach_event(u->bus, n->event, SD_EVENT_PRIORITY_NORMAL)) < 0 ||
            (r = sd_bus_add_filter(u->bus, &u->filter, on_message, n)) < 0 ||
            /* The match goes out before the Get: no change falls between the two. */
            (r = sd_bus_match_signal_async(u->bus, &u->match, SD_DEST, u->path, "org.freedesktop.DBus.Properties",
                                           "PropertiesChanged", on_properties, NULL, n)) < 0 ||
            (r = sd_bus_call_method_async(u->bus, &u->subscribe, SD_DEST, "/org/freedesktop/systemd1",
                                          "org.freedesktop.systemd1.Manager", "Subscribe", on_subscribed, n, NULL)) < 0 ||
            (r = ask_state(n)) < 0) {
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
                int r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", n->conf->unit, &u->path);
                if (r < 0)
                        return r;
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
        if (u->path)
                unit_close(n);
        free(u->path);
        free(u);
        n->state = NULL;
}

const struct native_kind native_unit = {
        .start = unit_start,
        .free = unit_free,
        .watched = true,
};
