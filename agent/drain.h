/* Every drain, the host's and each service's: the one owner of what is drained, in memory and on disk
 * (state_directory), so that a drain survives restarts. The manager asks it; control.c only translates
 * requests into the manager's events. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

#include "conf.h"

struct drain;
/* A save's outcome changed what drain_save_error() says: the manager publishes it. */
typedef void (*drain_changed_fn)(struct drain *d, void *userdata);

/* Creates state_directory, reads the host's drain file and (services form) each service's: a drain saved
 * before this start holds at once. c must stay valid until drain_set_conf() or drain_free(). 0 or -errno;
 * on error *ret is NULL. */
int drain_new(sd_event *e, const struct conf *c, drain_changed_fn changed, void *userdata, struct drain **ret);
/* Waits (bounded, on the loop's end) for drain files still being written and for the save owed after them:
 * the last drain or resume answered reaches the disk. */
struct drain *drain_free(struct drain *d);
/* A reload: services that keep their name keep their drain; a new service's drain file is read. */
int drain_set_conf(struct drain *d, const struct conf *c);

/* The host drain; *reason (may be NULL) is the operator's reason or NULL. */
bool drain_host(const struct drain *d, const char **reason);
/* Service s of the configuration drained on its own (not by the host drain). */
bool drain_service(const struct drain *d, size_t s, const char **reason);
/* Drains (on) or resumes the host; saved off the loop. -EALREADY: resume while not drained. */
int drain_set_host(struct drain *d, bool on, const char *reason);
/* The same for one service by name: -ENOENT (no such service, or the top-level form: its one service is
 * the host), -EALREADY (resume while not drained on its own). */
int drain_set_service(struct drain *d, const char *name, bool on, const char *reason);
/* Ends every service's own drain; returns how many there were. */
int drain_resume_services(struct drain *d);
/* Why the host drain's file could not be written or removed, or NULL. */
const char *drain_save_error(const struct drain *d);

/* The ordered drain (drain_delay, drain_check): what a drain does to service s now. A drain demotes first,
 * for drain_delay seconds from when it was asked in this run (one saved before this start is past it), and
 * with a drain_check for as long as that check does not say the other host is healthy (it runs when the
 * delay is over, then every bgp.poll_interval while a drain lasts). */
enum drain_phase {
        DRAIN_NONE,
        DRAIN_DEMOTE,
        DRAIN_WITHDRAW,
};
enum drain_phase drain_phase(const struct drain *d, size_t s);
/* Seconds until the demotion of service s ends by time alone, 0 when it does not wait for time. */
double drain_demote_left(const struct drain *d, size_t s);
/* Called whenever a phase may have changed (a delay ended, the drain check's verdict changed). */
void drain_on_order(struct drain *d, void (*fn)(void *userdata), void *userdata);
/* The drain check's last verdict said the other host is healthy (with bgp.secondary = "silent" it runs every
 * bgp.poll_interval, drained or not). */
bool drain_peer_healthy(const struct drain *d);
/* on_stop = "withdraw": every service drained from now, in the same order, never saved. */
void drain_stop(struct drain *d);
