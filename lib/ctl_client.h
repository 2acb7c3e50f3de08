/* The blocking control-socket client (failoverctl, tests). */
#pragma once

#include <json-c/json.h>

#include "ctl.h"

#define CTL_REPLY_MAX (4 * 1024 * 1024)         /* the client's limit on a reply */
#define CTL_DEFAULT_TIMEOUT_MS 5000

/* One blocking request (for failoverctl and tests; never call it on the daemon's loop). timeout_ms <= 0
 * means CTL_DEFAULT_TIMEOUT_MS, for the whole exchange. When the daemon answered, *reply is set (the caller
 * puts it) and the return is 0, or -EACCES when the answer is a refusal of the caller's credentials.
 * Otherwise *reply is NULL and the return is -ENOENT / -ECONNREFUSED (no daemon), -EACCES (no permission
 * on the socket), -ETIMEDOUT, -EINVAL / -EMSGSIZE (bad request, not sent), -EBADMSG (reply is not a JSON
 * object), or another -errno. */
int ctl_request(const char *path, const char *command, const char *arg, int timeout_ms, json_object **reply);
/* Follows a stream command ("events"): connects, sends it, and calls line() for every line, the daemon's
 * {"ok":true,"stream":...} first (each without its newline), until the daemon closes (0), line() returns non-zero (that value), or an error
 * (-errno). timeout_ms bounds the connect and the first answer only. When the daemon refuses, *reply holds
 * its answer and the return is 0 (-EACCES for a refusal of the caller's credentials), as ctl_request(). */
int ctl_stream(const char *path, const char *command, int timeout_ms, int (*line)(const char *text, void *userdata),
               void *userdata, json_object **reply);
