/* failoverctl: asks a running failoverd over its control socket (docs/control-protocol.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conf_read.h"
#include "ctl_client.h"
#include "ctl_format.h"
#include "ctl_json.h"

enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,        /* the daemon answered with an error, or its answer was unreadable */
        EXIT_USAGE = 2,
        EXIT_UNREACHABLE = 3,   /* not running, no socket, connection refused, no answer in time */
        EXIT_DENIED = 4,
};

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: failoverctl [-c FILE | -s PATH] [--json] [-t SEC] COMMAND [ARG...]\n"
                "\n"
                "Asks the running failoverd through its control socket.\n"
                "\n"
                "Commands:\n"
                "  status [--json]   why this host is or is not carrying traffic, on one screen\n"
                "  checks            the health checks and their results\n"
                "  drain [--reason TEXT]  until resume: demote this host, withdraw after drain_delay and drain_check\n"
                "  drain --service NAME [--reason TEXT]  the same for one service (unknown NAME: refused)\n"
                "  resume [--service NAME]  undo drain (NAME's alone; without it, every drain)\n"
                "  reload            re-read the configuration and conf.d (like SIGHUP)\n"
                "  ping              tell whether failoverd answers\n"
                "  events [--json]   follow failoverd's events (decisions, state, checks, applies, bgpd)\n"
                "\n"
                "Options:\n"
                "  -s, --socket PATH   the control socket (default " CTL_DEFAULT_PATH ")\n"
                "  -c, --config FILE   the socket of the failoverd that uses FILE: RUNTIME_DIRECTORY/" CTL_SOCKET_NAME "\n"
                "                      (only runtime_directory is read from FILE)\n"
                "  -j, --json          print failoverd's JSON answer as it is\n"
                "  -t, --timeout SEC   give up after SEC seconds (default %d)\n"
                "  -h, --help          this help\n"
                "  -V, --version       print the version\n"
                "\n"
                "Exit status: 0 failoverd answered and did it (status: whatever the state); 1 failoverd\n"
                "answered with an error; 2 usage error; 3 failoverd not reachable (not running, no\n"
                "socket, connection refused, no answer in time); 4 permission denied.\n",
                CTL_DEFAULT_TIMEOUT_MS / 1000);
}

/* -c FILE: <runtime_directory>/control with runtime_directory read from FILE, syntax only (lib/conf_read.c),
 * never validated: a configuration the daemon would refuse still names its socket, so "reload" shows the
 * daemon's refusal. An unreadable file is an error, never a silent guess. Returns an exit status. */
static int socket_from_config(const char *config, char **ret)
{
        struct diag d;
        config_t cfg;
        const char *dir = CTL_DEFAULT_DIR;
        int r = EXIT_OK;

        diag_init(&d);
        if (conf_read_file(&d, &cfg, config) < 0) {
                fprintf(stderr, "failoverctl: cannot find the control socket: %s; give it with -s PATH\n",
                        d.n ? d.msgs[0].text : config);
                diag_free(&d);
                return EXIT_USAGE;
        }
        config_setting_t *v = config_lookup(&cfg, "runtime_directory");
        if (v && (config_setting_type(v) != CONFIG_TYPE_STRING || config_setting_get_string(v)[0] != '/')) {
                fprintf(stderr, "failoverctl: %s:%d: runtime_directory is not an absolute path; give the socket "
                        "with -s PATH\n", config, config_setting_source_line(v));
                r = EXIT_USAGE;
        } else {
                if (v)
                        dir = config_setting_get_string(v);
                if (ctl_socket_path(dir, ret) < 0) {
                        fprintf(stderr, "failoverctl: %s: runtime_directory %s is too long for a socket path\n", config,
                                dir);
                        r = EXIT_USAGE;
                }
        }
        config_destroy(&cfg);
        diag_free(&d);
        return r;
}

static int report_request_error(const char *path, int r, int timeout_ms)
{
        switch (-r) {
        case ENOENT:
        case ECONNREFUSED:
        case ENOTDIR:
        case ENOTSOCK:
                fprintf(stderr, "failoverctl: cannot reach failoverd at %s: %s (is failoverd running? with another "
                        "runtime_directory give -s RUNTIME_DIRECTORY/" CTL_SOCKET_NAME " or -c FILE)\n", path,
                        strerror(-r));
                return EXIT_UNREACHABLE;
        case ETIMEDOUT:
                fprintf(stderr, "failoverctl: failoverd at %s did not answer within %.1f s\n", path,
                        timeout_ms / 1000.0);
                return EXIT_UNREACHABLE;
        case EACCES:
        case EPERM:
                fprintf(stderr, "failoverctl: cannot reach failoverd at %s: %s (run as root or as a member of "
                        "the socket's group)\n", path, strerror(-r));
                return EXIT_DENIED;
        case ENAMETOOLONG:
                fprintf(stderr, "failoverctl: %s: socket path too long\n", path);
                return EXIT_USAGE;
        case EINVAL:
        case EMSGSIZE:
                fprintf(stderr, "failoverctl: invalid request (printable ASCII, at most %d bytes)\n",
                        CTL_REQUEST_MAX - 1);
                return EXIT_USAGE;
        case EBADMSG:
                fprintf(stderr, "failoverctl: unreadable answer from failoverd at %s\n", path);
                return EXIT_FAILED;
        default:
                fprintf(stderr, "failoverctl: talking to failoverd at %s: %s\n", path, strerror(-r));
                return EXIT_FAILED;
        }
}

static const char *reply_str(json_object *o, const char *key)
{
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* The daemon's words for a terminal: control characters escaped (ctl_escape_text). */
static const char *safe(const char *s, struct buf *b)
{
        if (!s)
                return "?";
        buf_reset(b);
        ctl_escape_text(s, b);
        return b->data && !b->oom ? b->data : "?";
}

static int print_text(struct buf *b, int r)
{
        if (r < 0) {
                fprintf(stderr, "failoverctl: cannot format the answer: %s\n", strerror(-r));
                return EXIT_FAILED;
        }
        fputs(b->data ? b->data : "", stdout);
        return EXIT_OK;
}

/* drain [--service NAME] [--reason TEXT] and resume [--service NAME] (or the older resume NAME) as the
 * protocol's argument in *wire_arg. Any other word is a usage error: "drain wbe" must never drain the host. */
static int target_args(const char *cmd, int argc, char **argv, struct buf *wire_arg)
{
        const char *service = NULL, *why = NULL;
        bool drain = strcmp(cmd, "drain") == 0;

        for (int i = 0; i < argc; i++) {
                const char *a = argv[i], *v = NULL;
                bool is_service = strcmp(a, "--service") == 0 || strncmp(a, "--service=", 10) == 0;
                bool is_reason = drain && (strcmp(a, "--reason") == 0 || strncmp(a, "--reason=", 9) == 0);
                if (is_service || is_reason) {
                        v = strchr(a, '=') ? strchr(a, '=') + 1 : i + 1 < argc ? argv[++i] : NULL;
                        if (!v || !*v) {
                                fprintf(stderr, "failoverctl: %s: %s needs a value\n", cmd, is_service ? "--service" : "--reason");
                                return EXIT_USAGE;
                        }
                        if ((is_service && service) || (is_reason && why)) {
                                fprintf(stderr, "failoverctl: %s: %s given twice\n", cmd, is_service ? "--service" : "--reason");
                                return EXIT_USAGE;
                        }
                        *(is_service ? &service : &why) = v;
                } else if (!drain && i == 0 && argc == 1 && a[0] != '-') {
                        service = a;    /* resume NAME: a name that is no service is refused, nothing changes */
                } else {
                        fprintf(stderr, "failoverctl: %s: unexpected argument '%s': %s\n", cmd, a,
                                drain ? "drain the host with 'drain [--reason TEXT]' (quote a reason of several "
                                        "words), one service with 'drain --service NAME [--reason TEXT]'" :
                                        "'resume' ends every drain, 'resume --service NAME' one service's");
                        return EXIT_USAGE;
                }
        }
        if (service)
                buf_printf(wire_arg, "--service %s", service);
        if (why)
                buf_printf(wire_arg, "%s--reason %s", service ? " " : "", why);
        if (wire_arg->oom)
                return EXIT_FAILED;
        char copy[CTL_REQUEST_MAX + 1], err[256];
        struct ctl_target t;
        for (size_t i = 0; wire_arg->data && i < wire_arg->len; i++)
                if ((unsigned char)wire_arg->data[i] < 0x20 || (unsigned char)wire_arg->data[i] > 0x7e) {
                        fprintf(stderr, "failoverctl: %s: %s must be printable ASCII\n", cmd,
                                why ? "the reason" : "the service");
                        return EXIT_USAGE;
                }
        if (wire_arg->len + strlen(cmd) + 2 > CTL_REQUEST_MAX) {
                fprintf(stderr, "failoverctl: %s: the reason is too long (the request is at most %d bytes)\n", cmd,
                        CTL_REQUEST_MAX);
                return EXIT_USAGE;
        }
        snprintf(copy, sizeof(copy), "%s", wire_arg->data ? wire_arg->data : "");
        if (ctl_parse_target(cmd, copy, &t, err, sizeof(err)) < 0) {
                fprintf(stderr, "failoverctl: %s\n", err);
                return EXIT_USAGE;
        }
        return EXIT_OK;
}

/* failoverctl events --json: each line as failoverd sent it, {"ok":true,"stream":"events"} first (then the
 * reader is following), valid JSON with control characters escaped. */
static int print_event_json(const char *line, void *userdata)
{
        (void)userdata;
        return puts(line) < 0 || fflush(stdout) != 0 ? 1 : 0;
}

/* failoverctl events: "SEQ MONO LEVEL KIND TEXT", one line each; a gap is said. */
static int print_event(const char *line, void *userdata)
{
        json_object *o = json_tokener_parse(line), *v;
        struct buf b, esc;
        (void)userdata;

        if (!o || !json_object_is_type(o, json_type_object) || json_object_object_get_ex(o, "stream", NULL)) {
                json_object_put(o);
                return 0;       /* the stream's opening line */
        }
        buf_init(&b);
        buf_init(&esc);
        if (json_object_object_get_ex(o, "lost", &v))
                buf_printf(&b, "-- lost %lld events: this reader was too slow --", (long long)json_object_get_int64(v));
        else
                buf_printf(&b, "%6lld %12.3f %-7s %-11s ", (long long)json_object_get_int64(json_object_object_get(o, "seq")),
                           json_object_get_double(json_object_object_get(o, "mono")),
                           safe(reply_str(o, "level"), &esc), reply_str(o, "kind") ? reply_str(o, "kind") : "?");
        if (!json_object_object_get_ex(o, "lost", NULL))
                ctl_escape_text(reply_str(o, "text") ? reply_str(o, "text") : "?", &b);
        int r = b.data && (puts(b.data) < 0 || fflush(stdout) != 0) ? 1 : 0;
        buf_free(&b);
        buf_free(&esc);
        json_object_put(o);
        return r;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "socket", required_argument, NULL, 's' },
                { "json", no_argument, NULL, 'j' },
                { "timeout", required_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        const char *config = NULL, *socket_arg = NULL;
        int json = 0, timeout_ms = CTL_DEFAULT_TIMEOUT_MS, o;

        /* '+': options stop at COMMAND, so a drain reason may start with '-'. */
        while ((o = getopt_long(argc, argv, "+c:s:jt:hV", opts, NULL)) != -1) {
                switch (o) {
                case 'c':
                        config = optarg;
                        break;
                case 's':
                        socket_arg = optarg;
                        break;
                case 'j':
                        json = 1;
                        break;
                case 't': {
                        char *end;
                        errno = 0;
                        double t = strtod(optarg, &end);
                        if (errno || end == optarg || *end || !(t > 0 && t <= 3600)) {
                                fprintf(stderr, "failoverctl: --timeout: \"%s\": must be seconds in (0, 3600]\n",
                                        optarg);
                                return EXIT_USAGE;
                        }
                        timeout_ms = (int)(t * 1000) > 0 ? (int)(t * 1000) : 1;
                        break;
                }
                case 'h':
                        usage(stdout);
                        return EXIT_OK;
                case 'V':
                        printf("failoverctl %s\n", VERSION);
                        return EXIT_OK;
                default:
                        usage(stderr);
                        return EXIT_USAGE;
                }
        }
        if (config && socket_arg) {
                fprintf(stderr, "failoverctl: -c and --socket exclude each other\n");
                return EXIT_USAGE;
        }
        if (optind >= argc) {
                fprintf(stderr, "failoverctl: missing COMMAND\n");
                usage(stderr);
                return EXIT_USAGE;
        }
        const char *cmd = argv[optind++];
        const char *wire = NULL;        /* the protocol command */
        struct buf reason;
        buf_init(&reason);

        if (strcmp(cmd, "status") == 0 || strcmp(cmd, "checks") == 0) {
                for (; optind < argc; optind++) {
                        if (strcmp(argv[optind], "--json") != 0 && strcmp(argv[optind], "-j") != 0) {
                                fprintf(stderr, "failoverctl: %s: unexpected argument '%s'\n", cmd, argv[optind]);
                                return EXIT_USAGE;
                        }
                        json = 1;
                }
                wire = strcmp(cmd, "status") == 0 ? "status-json" : "checks";
        } else if (strcmp(cmd, "drain") == 0 || (strcmp(cmd, "resume") == 0 && optind < argc)) {
                int r = target_args(cmd, argc - optind, argv + optind, &reason);
                if (r != EXIT_OK) {
                        buf_free(&reason);
                        return r;
                }
                wire = cmd;
        } else if (strcmp(cmd, "events") == 0) {
                for (; optind < argc; optind++) {
                        if (strcmp(argv[optind], "--json") != 0 && strcmp(argv[optind], "-j") != 0) {
                                fprintf(stderr, "failoverctl: events: unexpected argument '%s'\n", argv[optind]);
                                return EXIT_USAGE;
                        }
                        json = 1;
                }
                wire = cmd;
        } else if (strcmp(cmd, "resume") == 0 || strcmp(cmd, "reload") == 0 || strcmp(cmd, "ping") == 0) {
                if (optind < argc) {
                        fprintf(stderr, "failoverctl: %s takes no argument\n", cmd);
                        return EXIT_USAGE;
                }
                wire = cmd;
        } else {
                fprintf(stderr, "failoverctl: unknown command '%s'\n", cmd);
                usage(stderr);
                return EXIT_USAGE;
        }

        /* The socket is where it is told, or the default: failoverd's configuration is not read for it (it
         * may be root's alone, or being edited: a broken one must not hide the daemon's answer). */
        char *path = NULL;
        if (config) {
                int rc = socket_from_config(config, &path);
                if (rc != EXIT_OK) {
                        buf_free(&reason);
                        return rc;
                }
        } else {
                path = strdup(socket_arg ? socket_arg : CTL_DEFAULT_PATH);
        }
        if (!path) {
                fprintf(stderr, "failoverctl: out of memory\n");
                buf_free(&reason);
                return EXIT_FAILED;
        }
        json_object *reply = NULL;
        int r;
        if (strcmp(wire, "events") == 0) {
                r = ctl_stream(path, wire, timeout_ms, json ? print_event_json : print_event, NULL, &reply);
                if (r == 0 && !reply) {
                        free(path);
                        buf_free(&reason);
                        return EXIT_OK;         /* failoverd stopped */
                }
                if (r > 0)
                        r = -EIO;
        } else {
                r = ctl_request(path, wire, reason.len ? reason.data : NULL, timeout_ms, &reply);
        }
        buf_free(&reason);
        int ret;
        struct buf esc;
        buf_init(&esc);
        if (!reply) {
                ret = report_request_error(path, r, timeout_ms);
        } else if (json) {
                ctl_json_serialize(reply, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                   JSON_C_TO_STRING_NOSLASHESCAPE, &esc);
                puts(esc.data && !esc.oom ? esc.data : "{}");
                json_object *ok;
                ret = r == -EACCES ? EXIT_DENIED :
                      json_object_object_get_ex(reply, "ok", &ok) && !json_object_get_boolean(ok) ? EXIT_FAILED :
                      EXIT_OK;
        } else {
                json_object *ok;
                if (json_object_object_get_ex(reply, "ok", &ok) && !json_object_get_boolean(ok)) {
                        fprintf(stderr, "failoverctl: failoverd refused %s: %s\n", cmd,
                                reply_str(reply, "error") ? safe(reply_str(reply, "error"), &esc) : "no reason given");
                        ret = r == -EACCES ? EXIT_DENIED : EXIT_FAILED;
                } else if (strcmp(cmd, "status") == 0 || strcmp(cmd, "checks") == 0) {
                        struct buf b;
                        buf_init(&b);
                        int f = strcmp(cmd, "status") == 0 ?
                                ctl_format_status(reply, clock_real_sec(), &b) :
                                ctl_format_checks(reply, &b);
                        ret = print_text(&b, f);
                        buf_free(&b);
                } else if (strcmp(cmd, "ping") == 0) {
                        json_object *pid;
                        printf("failoverd %s (pid %d) is answering at %s\n",
                               safe(reply_str(reply, "version"), &esc),
                               json_object_object_get_ex(reply, "pid", &pid) ? json_object_get_int(pid) : 0, path);
                        ret = EXIT_OK;
                } else {
                        const char *msg = reply_str(reply, "message");
                        printf("%s\n", msg ? safe(msg, &esc) : "ok");
                        ret = EXIT_OK;
                }
        }
        json_object_put(reply);
        buf_free(&esc);
        free(path);
        if (fflush(stdout) != 0 && ret == EXIT_OK)
                ret = EXIT_FAILED;
        return ret;
}
