/* The per-service part of the status screen (failoverctl status), from a status-json reply (schema 2). */
#pragma once

#include <json-c/json.h>

#include "buf.h"

/* One block per service (state, reason, since, its checks, its addresses) when the reply has more than
 * the one "default" service; nothing otherwise. st is already escaped for a terminal. Returns 0 or -ENOMEM. */
int ctl_format_services(json_object *st, double now, struct buf *out);
/* The state that decides whether prefix (a shared_ips entry) should be announced: its service's, else the
 * host's. NULL when unknown. */
const char *ctl_prefix_state(json_object *st, json_object *ip);
