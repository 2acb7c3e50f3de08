/* failoverd: command line, one-shot modes (--check, --render, --apply, --failsafe) and the daemon's entry point. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "conf.h"
#include "failoverd.h"
#include "log.h"
#include "render.h"

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: failoverd [-c FILE] [-v] [--check | --render [--state STATE] [--show-secrets] |\n"
                "                 --apply [--state STATE] | --failsafe]\n"
                "\n"
                "Health-driven BGP failover of shared addresses through FRRouting.\n"
                "With no mode, runs as a daemon in the foreground (systemd Type=notify).\n"
                "\n"
                "  -c, --config FILE   configuration file (default " CONF_DEFAULT_PATH ")\n"
                "      --check         validate the configuration and conf.d, print every error, exit 0 or 1\n"
                "      --render        print the frr.conf that would be written (BGP passwords masked)\n"
                "      --show-secrets  with --render: print the BGP passwords too\n"
                "      --apply         render, validate, write and apply to FRR once; verify by read-back\n"
                "      --failsafe      withdraw the shared addresses (unless failsafe = \"keep\"); run by\n"
                "                      failoverd-failsafe.service when failoverd.service failed for good\n"
                "      --state STATE   with --render/--apply: primary, secondary, demoted or withdrawn\n"
                "                      (default: the configured role, healthy)\n"
                "  -v, --verbose       debug logging\n"
                "  -h, --help          this help\n"
                "  -V, --version       print the version\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "check", no_argument, NULL, 'K' },
                { "render", no_argument, NULL, 'R' },
                { "apply", no_argument, NULL, 'A' },
                { "failsafe", no_argument, NULL, 'F' },
                { "state", required_argument, NULL, 'S' },
                { "show-secrets", no_argument, NULL, 'P' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        const char *path = CONF_DEFAULT_PATH;
        const char *state_arg = NULL;
        int mode = 0, verbose = 0, show_secrets = 0, o;

        while ((o = getopt_long(argc, argv, "c:vhV", opts, NULL)) != -1) {
                switch (o) {
                case 'c':
                        path = optarg;
                        break;
                case 'K':
                case 'R':
                case 'A':
                case 'F':
                        if (mode && mode != o) {
                                fprintf(stderr, "failoverd: --check, --render, --apply and --failsafe exclude each "
                                        "other\n");
                                return 2;
                        }
                        mode = o;
                        break;
                case 'S':
                        state_arg = optarg;
                        break;
                case 'P':
                        show_secrets = 1;
                        break;
                case 'v':
                        verbose = 1;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        printf("failoverd %s\n", VERSION);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "failoverd: unexpected argument '%s'\n", argv[optind]);
                usage(stderr);
                return 2;
        }
        enum fo_state st = STATE_INVALID;
        if (state_arg) {
                if (mode != 'R' && mode != 'A') {
                        fprintf(stderr, "failoverd: --state goes with --render or --apply\n");
                        return 2;
                }
                st = state_parse(state_arg);
                if (st == STATE_INVALID) {
                        fprintf(stderr, "failoverd: --state: \"%s\": must be primary, secondary, demoted or "
                                "withdrawn\n", state_arg);
                        return 2;
                }
        }
        if (show_secrets && mode != 'R') {
                fprintf(stderr, "failoverd: --show-secrets goes with --render\n");
                return 2;
        }
        log_init("failoverd", verbose ? LOG_DEBUG : LOG_INFO);

        if (mode == 'K') {
                /* The daemon's own load (lib/conf.c), host files included: what it would refuse, this refuses. */
                size_t warnings;
                struct conf *c = load_conf_or_exit(path, 0, verbose, &warnings);
                /* What the daemon would refuse to run, by the same rule (lib/check.c). */
                struct diag d;
                diag_init(&d);
                int bad = check_conf_refusals(c, &d);
                for (size_t i = 0; i < d.n; i++)
                        fprintf(stderr, "error: %s\n", d.msgs[i].text);
                diag_free(&d);
                if (bad) {
                        fprintf(stderr, "%s: configuration is invalid (%d error%s)\n", path, bad, bad == 1 ? "" : "s");
                        conf_free(c);
                        return 1;
                }
                printf("%s: OK (%zu shared prefix%s, %zu check%s, %zu route server%s)", path, c->n_shared_ips,
                       c->n_shared_ips == 1 ? "" : "es", c->n_checks, c->n_checks == 1 ? "" : "s",
                       strv_len(c->bgp.route_servers), strv_len(c->bgp.route_servers) == 1 ? "" : "s");
                if (warnings)
                        printf(", %zu warning%s above", warnings, warnings == 1 ? "" : "s");
                printf("\n");
                conf_free(c);
                return 0;
        }
        if (mode == 'R') {
                struct conf *c = load_conf_or_exit(path, CONF_LOAD_NO_HOST, verbose, NULL);
                enum fo_state states[CONF_MAX_SERVICES];
                for (size_t i = 0; i < c->n_services; i++)
                        states[i] = st == STATE_INVALID ? state_of_role(c->services[i].role) : st;
                char *text = NULL;
                if (render_frr_conf_opts(c, states, show_secrets ? 0 : RENDER_MASK_SECRETS, &text) < 0) {
                        fprintf(stderr, "failoverd: out of memory\n");
                        conf_free(c);
                        return 1;
                }
                fputs(text, stdout);
                free(text);
                conf_free(c);
                return fflush(stdout) == 0 ? 0 : 1;
        }
        if (mode == 'A')
                return apply_main(path, st, verbose);
        if (mode == 'F')
                return failsafe_main(path, verbose);
        return daemon_main(path, verbose);
}
