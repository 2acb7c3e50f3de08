/* The control protocol both ends share (docs/control-protocol.md): the socket's path, limits, the commands
 * and the parsing of a request line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

#define CTL_SOCKET_NAME "control"
#define CTL_DEFAULT_DIR "/run/failoverd"        /* runtime_directory's default, systemd's RuntimeDirectory= */
#define CTL_DEFAULT_PATH CTL_DEFAULT_DIR "/" CTL_SOCKET_NAME
#define CTL_REQUEST_MAX 1024                    /* bytes, the terminating newline included */
#define CTL_STATUS_SCHEMA 2

/* <runtime_directory>/control, malloc'd. Returns 0, -ENOMEM, or -ENAMETOOLONG when it would not fit a
 * sockaddr_un. */
int ctl_socket_path(const char *runtime_directory, char **ret);

/* Fills sa for path. Returns 0, -EINVAL for an empty path or -ENAMETOOLONG. */
int ctl_sockaddr(const char *path, struct sockaddr_un *sa);
/* Whether command (a protocol command) changes something and so needs admin rights. */
bool ctl_command_changes(const char *command);
/* Whether command keeps its connection open for a stream of lines ("events"). */
bool ctl_command_streams(const char *command);

#define CTL_SERVICE_MAX 64                      /* a service name's bytes, its NUL included */

/* What a drain or resume applies to (docs/control-protocol.md): the host, or one service. */
struct ctl_target {
        char service[CTL_SERVICE_MAX];          /* "": the host */
        const char *reason;                     /* drain's --reason TEXT (the rest of the line), or NULL */
};

/* Parses the argument of "drain" ("[--service NAME] [--reason TEXT]") or "resume" ("[--service NAME]", or
 * the older "NAME"). Words that are neither are refused: a mistyped service never becomes the host's drain
 * with that word as reason. arg may be NULL; t->reason points into arg. Returns 0, or -EINVAL with a
 * message for the peer in err. */
int ctl_parse_target(const char *command, const char *arg, struct ctl_target *t, char *err, size_t errlen);

/* Validates a request line of len bytes (without its newline; one trailing '\r' is dropped; line[len] must be
 * writable) in place: every byte printable ASCII (a NUL inside is refused, never a shorter request), a known
 * command, an argument only for "drain" and "resume". Sets *command and *arg (NULL when none) to point into
 * line. Returns 0, or -EINVAL with a message for the peer in err. */
int ctl_parse_request(char *line, size_t len, const char **command, const char **arg, char *err, size_t errlen);
