/* The one-shot modes that change FRR: --apply (render, validate, install, apply and verify once, printing
 * what was done) and --failsafe (withdraw after failoverd.service failed for good). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "failoverd.h"
#include "file.h"
#include "log.h"
#include "metrics.h"
#include "render.h"

/* Loads the configuration, printing its diagnostics; exits 1 when it is invalid. */
struct conf *load_conf_or_exit(const char *path, unsigned flags, int verbose, size_t *warnings)
{
        struct diag d;
        struct conf *c = NULL;

        diag_init(&d);
        int r = conf_load_opts(path, flags, &c, &d);
        if (warnings)
                *warnings = 0;
        for (size_t i = 0; i < d.n; i++) {
                if (warnings && d.msgs[i].level == DIAG_WARNING)
                        (*warnings)++;
                if (d.msgs[i].level == DIAG_DEBUG && !verbose)
                        continue;
                fprintf(stderr, "%s%s\n", d.msgs[i].level == DIAG_ERROR ? "error: " :
                        d.msgs[i].level == DIAG_WARNING ? "warning: " : "", d.msgs[i].text);
        }
        if (r < 0) {
                if (r != -EINVAL)
                        fprintf(stderr, "error: %s: %s\n", path, strerror(-r));
                fprintf(stderr, "%s: configuration is invalid (%zu error%s)\n", path, d.n_errors,
                        d.n_errors == 1 ? "" : "s");
                diag_free(&d);
                exit(1);
        }
        diag_free(&d);
        return c;
}

static void print_result(const char *what, const struct apply_result *r)
{
        if (r->warning)
                fprintf(stderr, "warning: %s\n", r->warning);
        if (r->error) {
                fprintf(stderr, "error: %s: %s\n", what, r->message ? r->message : strerror(-r->error));
                return;
        }
        printf("%s: ok in %.1f ms (tool %.1f ms", what, r->usec / 1000.0, r->tool_usec / 1000.0);
        if (r->tool_started > 0)
                printf(", started at %.6f", r->tool_started);
        printf(")%s\n", r->file_changed ? ", frr.conf rewritten" : ", frr.conf unchanged");
}

static int run(const struct conf *c, enum fo_state st, enum apply_kind kind, bool readback, const char *what,
               struct apply_result *r)
{
        enum fo_state states[CONF_MAX_SERVICES];
        for (size_t i = 0; i < CONF_MAX_SERVICES; i++)
                states[i] = st;
        int e = apply_run(c, states, kind, readback, r);
        if (e < 0) {
                fprintf(stderr, "error: %s: %s\n", what, strerror(-e));
                return e;
        }
        print_result(what, r);
        return r->error;
}

/* With services: one full apply of every service in want, or each in its role's healthy state, verified. */
static int apply_services(const struct conf *c, enum fo_state want, int verbose)
{
        enum fo_state states[CONF_MAX_SERVICES];
        struct apply_result r;
        int exit_code = 0;

        for (size_t s = 0; s < c->n_services; s++)
                states[s] = want == STATE_INVALID ? state_of_role(c->services[s].role) : want;
        int e = apply_run(c, states, APPLY_FULL, true, &r);
        if (e < 0) {
                fprintf(stderr, "error: full apply: %s\n", strerror(-e));
                return 1;
        }
        print_result("full apply", &r);
        if (verbose && r.output && *r.output)
                fprintf(stderr, "%s", r.output);
        for (size_t s = 0; s < c->n_services; s++) {
                bool ok = !r.error && r.readback_ok && r.running[s] == states[s];
                if (ok)
                        printf("verified: service %s is %s\n", c->services[s].name, state_name(states[s]));
                else
                        fprintf(stderr, "error: read-back: service %s: bgpd runs %s, wanted %s\n", c->services[s].name,
                                r.readback_ok ? state_name(r.running[s]) : "nothing", state_name(states[s]));
                exit_code |= !ok;
        }
        apply_result_clear(&r);
        return exit_code;
}

static int apply_conf(const struct conf *c, enum fo_state want, int verbose)
{
        struct apply_result r;
        char what[128];
        int exit_code = 1;

        if (want == STATE_INVALID)
                want = state_of_role(c->role);

        /* What bgpd runs now decides how to get there: the full apply keeps the announcement as bgpd has it
         * (frr-reload.py only applies the difference, so an unchanged config resets nothing), and the state
         * change then goes through the fast path, as the daemon does it. */
        if (run(c, want, APPLY_READBACK, true, "read-back", &r) != 0)
                goto out;
        enum fo_state cur = r.has_router && r.running[0] != STATE_INVALID ? r.running[0] : want;
        printf("bgpd runs: %s\n", r.has_router ? state_name(r.running[0]) : "no router bgp yet");
        apply_result_clear(&r);

        snprintf(what, sizeof(what), "full apply (%s)", state_name(cur));
        if (run(c, cur, APPLY_FULL, true, what, &r) != 0)
                goto out;
        if (verbose && r.output && *r.output)
                fprintf(stderr, "%s", r.output);
        apply_result_clear(&r);

        if (cur != want) {
                snprintf(what, sizeof(what), "fast path %s -> %s", state_name(cur), state_name(want));
                if (run(c, want, APPLY_FAST, true, what, &r) != 0)
                        goto out;
        } else if (run(c, want, APPLY_READBACK, true, "read-back", &r) != 0) {
                goto out;
        }
        if (r.readback_ok && r.running[0] == want) {
                printf("verified: bgpd originates %zu shared prefix%s as %s\n", c->n_shared_ips,
                       c->n_shared_ips == 1 ? "" : "es", state_name(want));
                exit_code = 0;
        } else {
                fprintf(stderr, "error: read-back: bgpd runs %s, wanted %s\n",
                        r.has_router ? state_name(r.running[0]) : "no router bgp", state_name(want));
        }
out:
        apply_result_clear(&r);
        return exit_code;
}

int apply_main(const char *path, enum fo_state want, int verbose)
{
        struct conf *c = load_conf_or_exit(path, 0, verbose, NULL);
        int rc = c->services_form ? apply_services(c, want, verbose) : apply_conf(c, want, verbose);
        conf_free(c);
        return rc;
}

static const char *env_or(const char *name, const char *fallback)
{
        const char *v = getenv(name);
        return v && *v ? v : fallback;
}

/* The metrics file says the fail-safe ran (failoverd_failsafe_ran): nothing else rewrites it while failoverd
 * is down, and an alert on a stale file alone would not say that the host was withdrawn. */
static void failsafe_metrics(const struct conf *c, bool withdrawn)
{
        struct metrics_snapshot m = {
                .hostname = c->hostname,
                .group = c->group,
                .role = c->role,
                .state = withdrawn ? STATE_WITHDRAWN : STATE_INVALID,
                .last_apply_ok = withdrawn,
                .failsafe = true,
        };
        struct buf b;

        if (!c->metrics_file)
                return;
        buf_init(&b);
        int r = metrics_render(&m, &b);
        if (r >= 0)
                r = file_write_atomic(c->metrics_file, b.data, b.len, 0644, 0, NULL);
        if (r < 0)
                log_warn("failsafe: cannot write %s: %s", c->metrics_file, strerror(-r));
        buf_free(&b);
}

int failsafe_main(const char *path, int verbose)
{
        static const char *const fields[] = { "FAILOVERD_STATE=withdrawn", "FAILOVERD_FAILSAFE=1", NULL };
        /* A missing notify program or metrics directory must not keep the withdrawal from happening. */
        struct conf *c = load_conf_or_exit(path, CONF_LOAD_NO_HOST, verbose, NULL);
        char why[512];

        /* systemd (251+) tells an OnFailure= unit which unit failed and how. */
        snprintf(why, sizeof(why), "%s failed for good (result %s, %s %s)", env_or("MONITOR_UNIT", "failoverd"),
                 env_or("MONITOR_SERVICE_RESULT", "?"), env_or("MONITOR_EXIT_CODE", "?"),
                 env_or("MONITOR_EXIT_STATUS", "?"));
        if (c->failsafe_keep) {
                log_notice("%s; failsafe = \"keep\": FRR keeps announcing what failoverd left", why);
                conf_free(c);
                return 0;
        }
        log_fields(LOG_WARNING, fields, "%s: withdrawing the shared addresses, nothing checks this host's "
                   "health any more (failsafe = \"withdraw\")", why);
        int rc = c->services_form ? apply_services(c, STATE_WITHDRAWN, verbose)
                                  : apply_conf(c, STATE_WITHDRAWN, verbose);
        if (rc != 0)
                log_err("failsafe: the withdrawal did not complete; FRR may still announce this host");
        failsafe_metrics(c, rc == 0);
        conf_free(c);
        return rc;
}
