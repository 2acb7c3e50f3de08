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
        bool stream;            /* the connection stays open and the daemon's events follow */
} commands[] = {
        { "status", false, false },
        { "status-json", false, false },
        { "checks", false, false },
        { "drain", true, true },
        { "resume", true, true },
        { "reload", false, true },
        { "ping", false, false },
        { "events", false, false, true },
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

/* A service name as failoverd.conf(5) allows it: letters, digits, '_' and '-'. */
static bool service_name(const char *s, size_t n)
{
        if (n == 0 || n >= CTL_SERVICE_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
                      s[i] == '_' || s[i] == '-'))
                        return false;
        return true;
}

/* The word at *p (up to a space), with *p moved past it and the spaces after it. */
static size_t next_word(const char **p, const char **word)
{
        size_t n = strcspn(*p, " ");
        *word = *p;
        *p += n;
        *p += strspn(*p, " ");
        return n;
}

bool ctl_command_streams(const char *command)
{
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(command, commands[i].name) == 0)
                        return commands[i].stream;
        return false;
}

int ctl_parse_target(const char *command, const char *arg, struct ctl_target *t, char *err, size_t errlen)
{
        bool drain = strcmp(command, "drain") == 0;
        const char *p = arg ? arg + strspn(arg, " ") : "", *w;

        memset(t, 0, sizeof(*t));
        if (!drain && strcmp(command, "resume") != 0) {
                snprintf(err, errlen, "%s has no target", command);
                return -EINVAL;
        }
        while (*p) {
                size_t n = next_word(&p, &w);
                if (n == 9 && strncmp(w, "--service", 9) == 0 && !t->service[0] && !t->reason) {
                        const char *name;
                        size_t m = next_word(&p, &name);
                        if (!service_name(name, m)) {
                                snprintf(err, errlen, "%s --service: \"%.*s\" is not a service name (1 to %d letters, "
                                         "digits, '_' or '-')", command, (int)(m > 64 ? 64 : m), name, CTL_SERVICE_MAX - 1);
                                return -EINVAL;
                        }
                        memcpy(t->service, name, m);
                        t->service[m] = '\0';
                } else if (drain && n == 8 && strncmp(w, "--reason", 8) == 0 && !t->reason) {
                        /* The rest of the line; a reason that names --service would read as a service drain. */
                        if (!*p || strstr(p, "--service")) {
                                snprintf(err, errlen, "drain --reason: %s", *p ? "the reason must come last and may not "
                                         "contain --service" : "the reason is missing");
                                return -EINVAL;
                        }
                        t->reason = p;
                        break;
                } else if (!drain && !t->service[0] && service_name(w, n) && !*p && w[0] != '-') {
                        /* resume NAME: an unknown name is refused by the daemon, so this cannot misfire. */
                        memcpy(t->service, w, n);
                        t->service[n] = '\0';
                } else {
                        snprintf(err, errlen, "%s: unexpected \"%.*s\": %s", command, (int)(n > 64 ? 64 : n), w,
                                 drain ? "drain the host with \"drain [--reason TEXT]\", one service with \"drain "
                                         "--service NAME [--reason TEXT]\"" :
                                         "resume every drain with \"resume\", one service's with \"resume --service NAME\"");
                        return -EINVAL;
                }
        }
        return 0;
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
                struct ctl_target t;
                if (commands[i].arg && a && *a && ctl_parse_target(commands[i].name, a, &t, err, errlen) < 0)
                        return -EINVAL;
                *command = commands[i].name;
                *arg = a && *a ? a : NULL;
                return 0;
        }
        snprintf(err, errlen, "unknown command \"%.32s%s\" (known: status, status-json, checks, drain [--service "
                 "NAME] [--reason TEXT], resume [--service NAME], reload, ping, events)", line, strlen(line) > 32 ? "..." : "");
        return -EINVAL;
}
