/* The bgpd watch: polls bgpd's vty socket (vtysh with FAILOVERD_WATCH=vtysh) for sessions, the running
 * config and the shared prefixes in its table; reports what it finds to the manager (agent/events.h). */
#pragma once

#include <systemd/sd-event.h>

#include "conf.h"
#include "events.h"
#include "snapshot.h"

struct watch;

/* bgpd as the watch last found it (one set function in watch.c logs each change). */
enum watch_bgpd {
        WATCH_BGPD_UNKNOWN,     /* not polled yet, or only busy so far */
        WATCH_BGPD_UP,          /* the last poll got a whole answer */
        WATCH_BGPD_BUSY,        /* no whole answer, but bgpd did not go away: nothing re-applied */
        WATCH_BGPD_GONE,        /* its socket is missing or refuses */
        _WATCH_BGPD_MAX,
};

const char *watch_bgpd_name(enum watch_bgpd b);
/* Whether the watch may go from one state to the other (a unit test walks the table). */
bool watch_bgpd_allowed(enum watch_bgpd from, enum watch_bgpd to);

/* c must stay valid until watch_set_conf() or watch_free(); sink is copied. The first poll comes after
 * bgp.poll_interval. */
int watch_new(sd_event *e, const struct conf *c, const struct agent_sink *sink, struct watch **ret);
struct watch *watch_free(struct watch *w);
/* A reload: the new configuration's shared addresses are checked (and logged) again. */
void watch_set_conf(struct watch *w, const struct conf *c);
/* The next poll in a moment rather than at the next interval (after an apply, so status is current). */
void watch_soon(struct watch *w);
/* For tests: bgpd's vty socket and pid file somewhere else than /var/run/frr[/PATHSPACE]. */
void watch_use_paths(struct watch *w, const char *vty_socket, const char *pid_file);
/* As last read: bgpd has no network statement for any shared prefix and sends none of them to a route
 * server any more (advertisedTo empty: its withdrawal went out on every session). False when not known. */
bool watch_withdrawal_sent(const struct watch *w);
/* Fills the watch's part of s (s->conf must be the watch's configuration). */
void watch_snapshot(const struct watch *w, struct snapshot *s);
