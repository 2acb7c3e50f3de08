/* The control socket (SPEC 7.7): a one-request-per-connection JSON server on sd-event, its client, and the
 * formatter of the status reply. The protocol is described in docs/control-protocol.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "buf.h"

#define CTL_SOCKET_NAME "control"
#define CTL_DEFAULT_PATH "/run/failoverd/" CTL_SOCKET_NAME
#define CTL_REQUEST_MAX 1024                    /* bytes, the terminating newline included */
#define CTL_SOCKET_MODE 0660
#define CTL_CLIENT_TIMEOUT_USEC (2 * 1000000ULL) /* a connection must be done within this */
#define CTL_MAX_CONNECTIONS 16
#define CTL_REPLY_MAX (4 * 1024 * 1024)         /* the client's limit on a reply */
#define CTL_DEFAULT_TIMEOUT_MS 5000
#define CTL_STATUS_SCHEMA 2

struct ctl_server;

/* Called on the event loop with a validated request: command is one of "status-json", "drain", "resume",
 * "reload" (the server answers "ping" itself and builds "status" and "checks" from "status-json"); arg is
 * NULL or, for "drain", "[SERVICE] [REASON]" and, for "resume", "[SERVICE]". Returns 0 and sets *reply to a new JSON object (the server serialises
 * it and puts it; "ok": true is added when the object has no "ok"; NULL means {"ok":true}), or a negative
 * errno, which the client sees as {"ok":false,"code":"failed","error":strerror}. Must not block and must
 * not free the server. */
typedef int (*ctl_handler_fn)(const char *command, const char *arg, json_object **reply, void *userdata);

/* <runtime_directory>/control, malloc'd. Returns 0, -ENOMEM, or -ENAMETOOLONG when it would not fit a
 * sockaddr_un. */
int ctl_socket_path(const char *runtime_directory, char **ret);

/* Listens on path (mode 0660, the directory must exist). A stale socket file is replaced; returns
 * -EADDRINUSE when something still accepts connections there, -EEXIST when path is not a socket,
 * -ENAMETOOLONG, or another -errno. The server keeps a reference to e. */
int ctl_server_new(sd_event *e, const char *path, ctl_handler_fn handler, void *userdata,
                   struct ctl_server **ret);
/* Who may do what (docs/control-protocol.md): root, the daemon's user and members of admin_gid may send
 * every command; members of read_gid only status, status-json, checks and ping, or, when read_gid is
 * (gid_t)-1, members of the socket file's group. (gid_t)-1 leaves a group unset. With either group set, the
 * socket gets mode 0666 and its directory o+x, so the credential check alone decides; without, mode 0660.
 * Takes effect for new connections. Returns 0 or -errno (-ESTALE: the socket file is not ours any more). */
int ctl_server_set_access(struct ctl_server *s, gid_t read_gid, gid_t admin_gid);
/* Whether command (a protocol command) changes something and so needs admin rights. */
bool ctl_command_changes(const char *command);
/* Closes every connection and the socket, and removes the socket file if it is still ours. */
struct ctl_server *ctl_server_free(struct ctl_server *s);
/* Credentials of the peer whose request the handler is serving (for the log); NULL outside the handler. */
const struct ucred *ctl_server_peer(const struct ctl_server *s);
/* Connections open now. */
size_t ctl_server_connections(const struct ctl_server *s);

/* Validates a request line (without its newline; one trailing '\r' is dropped) in place: printable
 * ASCII, a known command, an argument only for "drain" and "resume". Sets *command and *arg (NULL when none) to
 * point into line. Returns 0, or -EINVAL with a message for the peer in err. */
int ctl_parse_request(char *line, const char **command, const char **arg, char *err, size_t errlen);

/* One blocking request (for failoverctl and tests; never call it on the daemon's loop). timeout_ms <= 0
 * means CTL_DEFAULT_TIMEOUT_MS, for the whole exchange. When the daemon answered, *reply is set (the caller
 * puts it) and the return is 0, or -EACCES when the answer is a refusal of the caller's credentials.
 * Otherwise *reply is NULL and the return is -ENOENT / -ECONNREFUSED (no daemon), -EACCES (no permission
 * on the socket), -ETIMEDOUT, -EINVAL / -EMSGSIZE (bad request, not sent), -EBADMSG (reply is not a JSON
 * object), or another -errno. */
int ctl_request(const char *path, const char *command, const char *arg, int timeout_ms, json_object **reply);

/* The human status screen (failoverctl status) from a status-json reply (schema 1); now is the Unix time
 * used for "ago". Missing fields print as "?"; every string is printed through ctl_escape_text(). Returns
 * 0, -EINVAL when status is not an object, -ENOMEM. */
int ctl_format_status(json_object *status, double now, struct buf *out);
/* The checks table from any object with a "checks" array (a status-json or checks reply). */
int ctl_format_checks(json_object *obj, struct buf *out);
/* Appends s for a terminal: control characters (C0, DEL, C1) become \n, \t, \r, \xNN or \uNNNN, bytes
 * that are not UTF-8 \xNN; other text, UTF-8 included, stays. Returns 0 or -ENOMEM. */
int ctl_escape_text(const char *s, struct buf *out);
/* Appends o serialised by json-c with flags, with DEL and C1 escaped as \uNNNN (json-c escapes C0 only)
 * and bytes that are not UTF-8 as \ufffd: valid JSON that is safe to print. Returns 0 or -ENOMEM. */
int ctl_json_serialize(json_object *o, int flags, struct buf *out);
/* "250ms", "1.2s", "5m", "5m12s", "3h04m", "2d03h": compact durations for people. */
void ctl_format_duration(double seconds, char *out, size_t outlen);
