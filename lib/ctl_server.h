/* The control-socket server: a one-request-per-connection JSON server on sd-event. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "ctl.h"

#define CTL_SOCKET_MODE 0660
#define CTL_CLIENT_TIMEOUT_USEC (2 * 1000000ULL) /* a connection must be done within this */
#define CTL_MAX_CONNECTIONS 16
#define CTL_ADMIN_RESERVED 4                    /* of those, only for admins: a reader never locks root out */
#define CTL_MAX_PER_READER 4                    /* connections at once per uid that may only read */
#define CTL_STREAM_MAX (64 * 1024)              /* bytes queued per "events" reader; more are lost, and counted */

struct ctl_server;

/* Called on the event loop with a validated request: command is one of "status-json", "status", "checks",
 * "drain", "resume", "reload" (the server answers "ping" itself and knows nothing of the others); arg is
 * NULL or, for "drain", "[SERVICE] [REASON]" and, for "resume", "[SERVICE]". Returns 0 and sets *reply to a new JSON object (the server serialises
 * it and puts it; "ok": true is added when the object has no "ok"; NULL means {"ok":true}), or a negative
 * errno, which the client sees as {"ok":false,"code":"failed","error":strerror}. Must not block and must
 * not free the server. */
typedef int (*ctl_handler_fn)(const char *command, const char *arg, json_object **reply, void *userdata);

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
/* Closes every connection and the socket, and removes the socket file if it is still ours. */
struct ctl_server *ctl_server_free(struct ctl_server *s);
/* Credentials of the peer whose request the handler is serving (for the log); NULL outside the handler. */
const struct ucred *ctl_server_peer(const struct ctl_server *s);
/* Connections open now. */
size_t ctl_server_connections(const struct ctl_server *s);
/* Connections following the "events" stream now (0: publishing costs nothing). */
size_t ctl_server_streams(const struct ctl_server *s);
/* Queues line (one JSON object, no newline) to every "events" connection, and writes what the socket
 * takes now; never blocks. A reader whose queue would pass CTL_STREAM_MAX loses the line; once it has room
 * again it first gets {"lost":N} with the number lost. Call on the loop. */
void ctl_server_publish(struct ctl_server *s, const char *line);
