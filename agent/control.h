/* The control socket and the persisted drain: `failoverctl` requests become events for the manager
 * (agent/events.h); status answers render the manager's snapshot. */
#pragma once

#include <systemd/sd-event.h>

#include "conf.h"
#include "events.h"
#include "snapshot.h"

struct control;

/* Reads the drain file (a drain saved before this start is reported at once), creates the state and
 * runtime directories and listens. On error *ret is still set, for control_free(). */
int control_new(sd_event *e, const struct conf *c, const struct agent_sink *sink, struct control **ret);
/* Waits (bounded) for a drain file still being written, then closes the socket. Returns NULL. */
struct control *control_free(struct control *c);
/* A reload: control.read_group and control.admin_group of c take effect. */
void control_set_conf(struct control *c, const struct conf *conf);
/* Fills the control socket's part of s. */
void control_snapshot(const struct control *c, struct snapshot *s);
