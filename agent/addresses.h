/* The shared addresses on lo when failoverd manages them (addresses = "manage"): put there before the first
 * announcement, watched over rtnetlink and put back when someone removes one, removed only when asked. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "conf.h"

struct addresses;
struct snapshot;

/* Puts every shared address of c on lo now (before the caller's first apply), then watches them. c must stay
 * valid until addresses_set_conf() or addresses_free(). A failed add is logged and retried every
 * bgp.poll_interval; only a socket that cannot be opened fails (-errno). */
int addresses_new(sd_event *e, const struct conf *c, struct addresses **ret);
struct addresses *addresses_free(struct addresses *a);
/* A reload: the new configuration's addresses go on lo; those it dropped stay there (logged). */
void addresses_set_conf(struct addresses *a, const struct conf *c);
/* Takes every shared address off lo and stops putting them back: the caller has the withdrawal in bgpd.
 * Returns the number left on lo (each logged). */
int addresses_remove_all(struct addresses *a);
/* The same after delay_usec (the route servers' own time to act on a withdrawal bgpd has sent), then calls
 * done(userdata). 0, or -errno when the timer cannot be armed (nothing removed, done not called). */
int addresses_remove_later(struct addresses *a, uint64_t delay_usec, void (*done)(void *userdata), void *userdata);
void addresses_snapshot(const struct addresses *a, struct snapshot *s);
