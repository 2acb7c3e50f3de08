/* bgpd's vty Unix socket, read directly on sd-event: a command is its bytes plus one NUL; the reply ends
 * with three NUL bytes and a status byte (FRR lib/vty.c, vtysh/vtysh.c; measured in docs/frr-facts.md).
 * Spawning vtysh costs ~30 ms of CPU per call; this costs well under 1 ms. */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

struct vtysock;

/* outputs[i] is the reply to cmds[i] (NUL-terminated; owned by the query, valid during the call), status[i]
 * FRR's status byte (0 ok). error is 0 or -errno: -ENOENT/-ECONNREFUSED: bgpd not running; -EAGAIN: its
 * listen backlog is full (busy, not gone); -ETIMEDOUT: no whole answer in time; -ECONNRESET: it hung up.
 * Every reply is read to its end marker, also one that passed the size limit (-EFBIG): the socket is
 * closed early only on the timeout. */
typedef void (*vtysock_done_fn)(struct vtysock *q, int error, char **outputs, const int *status, void *userdata);

/* The socket path of a daemon: /var/run/frr[/PATHSPACE]/DAEMON.vty. */
int vtysock_path(const char *pathspace, const char *daemon, char *out, size_t len);

/* Sends cmds (NULL-terminated, at most 256) one after the other on one connection and calls done once; the
 * query is freed after done returns. Returns 0 or -errno (then done is never called). */
int vtysock_query(sd_event *e, const char *path, char *const *cmds, uint64_t timeout_usec, vtysock_done_fn done,
                  void *userdata, struct vtysock **ret);
/* Cancels; done is not called. Returns NULL. */
struct vtysock *vtysock_free(struct vtysock *q);
