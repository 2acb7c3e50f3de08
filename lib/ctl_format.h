/* The status screen and the checks table that failoverctl prints, from a status-json reply. */
#pragma once

#include <stddef.h>

#include <json-c/json.h>

#include "buf.h"

/* The human status screen (failoverctl status) from a status-json reply (schema 2); now is the Unix time
 * used for "ago". Missing fields print as "?"; every string is printed through ctl_escape_text(). Returns
 * 0, -EINVAL when status is not an object, -ENOMEM. */
int ctl_format_status(json_object *status, double now, struct buf *out);
/* The checks table from any object with a "checks" array (a status-json or checks reply). */
int ctl_format_checks(json_object *obj, struct buf *out);
/* The reply to the protocol's "status" or "checks" (command) from the daemon's status object: {"ok":true,
 * "text":...} and, for "checks", its "checks" array. The daemon answers these with it, so a line on the socket
 * (socat) gets the same screen as failoverctl. Returns 0 with a new object in *reply, -EINVAL, -ENOMEM. */
int ctl_format_reply(const char *command, json_object *status, double now, json_object **reply);
/* "250ms", "1.2s", "5m", "5m12s", "3h04m", "2d03h": compact durations for people. */
void ctl_format_duration(double seconds, char *out, size_t outlen);
