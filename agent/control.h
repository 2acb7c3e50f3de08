/* The control socket: `failoverctl` requests become events for the manager (agent/events.h); status
 * answers render the manager's snapshot. Drains belong to agent/drain.h. */
#pragma once

#include <systemd/sd-event.h>

#include "conf.h"
#include "events.h"
#include "snapshot.h"

struct control;

/* Creates the runtime directory and listens. On error *ret is still set, for control_free(). */
int control_new(sd_event *e, const struct conf *c, const struct agent_sink *sink, struct control **ret);
/* Closes the socket. Returns NULL. */
struct control *control_free(struct control *c);
/* A reload: control.read_group and control.admin_group of c take effect. */
void control_set_conf(struct control *c, const struct conf *conf);
