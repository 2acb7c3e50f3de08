/* The control protocol both ends share (docs/control-protocol.md): the socket's path, the commands and
 * the parsing of a request line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "buf.h"
#include "ctl.h"

static const struct {
        const char *name;
        bool arg;
        bool change;            /* needs admin rights */
} commands[] = {
        { "status", false, false },
        { "status-json", false, false },
        { "checks", false, false },
        { "drain", true, true },
        { "resume", true, true },
        { "reload", false, true },
        { "ping", false, false },
};

int ctl_sockaddr(const char *path, struct sockaddr_un *sa)
{
        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        size_t n = strlen(path);
        if (n == 0)
                return -EINVAL;
        if (n >= sizeof(sa->sun_path))
                return -ENAMETOOLONG;
        memcpy(sa->sun_path, path, n + 1);
        return 0;
}

int ctl_socket_path(const char *runtime_directory, char **ret)
{
        struct buf b;
        struct sockaddr_un sa;

        buf_init(&b);
        buf_printf(&b, "%s/%s", runtime_directory, CTL_SOCKET_NAME);
        if (b.oom)
                return -ENOMEM;
        if (b.len >= sizeof(sa.sun_path)) {
                buf_free(&b);
                return -ENAMETOOLONG;
        }
        *ret = buf_steal(&b);
        return 0;
}

bool ctl_command_changes(const char *command)
{
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(command, commands[i].name) == 0)
                        return commands[i].change;
        return true;
}

int ctl_parse_request(char *line, size_t len, const char **command, const char **arg, char *err, size_t errlen)
{
        size_t n = len;

        *command = *arg = NULL;
        line[n] = '\0';
        if (n > 0 && line[n - 1] == '\r')
                line[--n] = '\0';
        if (n == 0) {
                snprintf(err, errlen, "empty request");
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e) {
                        snprintf(err, errlen, "request must be printable ASCII (byte 0x%02x at offset %zu)",
                                 (unsigned char)line[i], i);
                        return -EINVAL;
                }
        char *a = strchr(line, ' ');
        if (a) {
                *a++ = '\0';
                while (*a == ' ')
                        a++;
                size_t m = strlen(a);
                while (m > 0 && a[m - 1] == ' ')
                        a[--m] = '\0';
        }
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
                if (strcmp(line, commands[i].name) != 0)
                        continue;
                if (a && *a && !commands[i].arg) {
                        snprintf(err, errlen, "%s takes no argument", line);
                        return -EINVAL;
                }
                *command = commands[i].name;
                *arg = a && *a ? a : NULL;
                return 0;
        }
        snprintf(err, errlen, "unknown command \"%.32s%s\" (known: status, status-json, checks, drain [SERVICE] "
                 "[REASON], resume [SERVICE], reload, ping)", line, strlen(line) > 32 ? "..." : "");
        return -EINVAL;
}
