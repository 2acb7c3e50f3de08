/* bgpd's vty Unix socket, read directly on sd-event: a command is its bytes plus one NUL; the reply ends
 * with three NUL bytes and a status byte (FRR lib/vty.c, vtysh/vtysh.c; measured in docs/frr-facts.md).
 * Spawning vtysh costs ~30 ms of CPU per call; this costs well under 1 ms. */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

struct vtysock;

/* outputs[i] is the reply to cmds[i] (NUL-terminated; owned by the query, valid during the call), status[i]
 * FRR's status byte (0 ok; -1: never answered). error is 0 or -errno: -ENOENT/-ECONNREFUSED: bgpd not
 * running; -EAGAIN: its listen backlog is full (busy, not gone); -ETIMEDOUT: no whole answer in time;
 * -ECONNRESET: it hung up.
 * Every reply is read to its end marker, also one that passed the size limit (-EFBIG): the socket is
 * closed early only on the timeout. */
typedef void (*vtysock_done_fn)(struct vtysock *q, int error, char **outputs, const int *status, void *userdata);

/* The socket path of a daemon: /var/run/frr[/PATHSPACE]/DAEMON.vty. */
int vtysock_path(const char *pathspace, const char *daemon, char *out, size_t len);
/* Its pid file: /var/run/frr[/PATHSPACE]/DAEMON.pid. These two are the only place FRR's run directory is
 * named. */
int vtysock_pid_path(const char *pathspace, const char *daemon, char *out, size_t len);
/* Another directory than /var/run/frr for both (unit tests' fake servers); NULL restores it. */
void vtysock_set_run_dir(const char *dir);

/* Sends cmds (NULL-terminated, at most 256) one after the other on one connection and calls done once; the
 * query is freed after done returns. Returns 0 or -errno (then done is never called). */
int vtysock_query(sd_event *e, const char *path, char *const *cmds, uint64_t timeout_usec, vtysock_done_fn done,
                  void *userdata, struct vtysock **ret);
/* Stop at the first reply whose status byte is not 0, as vtysh does with several -c: the commands after it
 * are not sent (their status is -1, their output ""). */
#define VTYSOCK_STOP_ON_ERROR 1u
int vtysock_query_flags(sd_event *e, const char *path, char *const *cmds, uint64_t timeout_usec, unsigned flags,
                        vtysock_done_fn done, void *userdata, struct vtysock **ret);
/* When the reply to cmds[i] was whole (CLOCK_MONOTONIC, usec), 0 if it never was; valid inside done. */
uint64_t vtysock_answered_usec(const struct vtysock *q, size_t i);
/* Cancels; done is not called. Returns NULL. */
struct vtysock *vtysock_free(struct vtysock *q);
