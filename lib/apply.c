/* Applying a rendering to FRR (docs/design.md): validate, install atomically, full reload or fast path, read back. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply.h"
#include "bgpd.h"
#include "buf.h"
#include "clock.h"
#include "conf_bgp.h"
#include "file.h"
#include "proc.h"
#include "render.h"
#include "vty.h"
#include "vtysock.h"

#define TOOL_OUTPUT_MAX (1024 * 1024)

enum apply_step {
        STEP_DRYRUN,
        STEP_RUNNING,
        STEP_RELOAD,
        STEP_FAST,
        STEP_READBACK,
};

struct apply {
        sd_event *event;
        const struct conf *conf;
        enum fo_state states[CONF_MAX_SERVICES];
        bool only[CONF_MAX_SERVICES];        /* the fast path re-enters these services' lines alone */
        bool has_only;
        bool *reannounce;       /* APPLY_REANNOUNCE: per shared prefix */
        enum apply_kind kind;
        bool readback;
        apply_done_fn done;
        void *userdata;
        char *text;             /* the rendering to install */
        char private_dir[4200]; /* RUNTIME_DIRECTORY/apply.XXXXXX, root's alone: vtysh -C and frr-reload.py
                                 * read their copies there, never in frr's own directory */
        int private_fd;         /* of private_dir; -1 until it exists */
        char candidate[4300];   /* where vtysh -C reads the rendering */
        char reload_file[4300]; /* frr-reload.py's copy: it must be named frr.conf */
        enum apply_step step;
        struct proc *child;
        struct vtysock *query;  /* the fast path or the read-back on bgpd's vty socket */
        char **fast_lines;      /* render_fast_path()'s lines */
        char **fast_cmds;       /* what goes on the socket: borrowed from fast_lines and constants */
        uint64_t tool_start;
        bool readback_done;     /* the fast path's query read the running config back already */
        struct file_job *install;       /* frr.conf being written and synced, off the loop */
        sd_event_source *defer;
        struct apply_result result;
        uint64_t start;
};

/* Unlinks the entries (not directories) of the directory dfd, which it consumes, that match (all when
 * match is NULL). Returns how many. */
static int remove_entries(int dfd, bool (*match)(const char *name, const char *arg), const char *arg)
{
        struct dirent *e;
        int n = 0;
        DIR *d = fdopendir(dfd);

        if (!d) {
                close(dfd);
                return 0;
        }
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && (!match || match(e->d_name, arg)) &&
                    unlinkat(dirfd(d), e->d_name, 0) == 0)
                        n++;
        closedir(d);
        return n;
}

static void cleanup_files(struct apply *a)
{
        if (a->private_fd >= 0) {
                remove_entries(a->private_fd, NULL, NULL);
                a->private_fd = -1;
                rmdir(a->private_dir);
        }
}

/* A new directory of our own (mkdtemp: never one that exists, never through a link) in runtime_directory. */
static int make_private_dir(struct apply *a)
{
        const char *rt = a->conf->runtime_directory;
        int r = 0;

        for (int attempt = 0; attempt < 2; attempt++) {
                if ((size_t)snprintf(a->private_dir, sizeof(a->private_dir), "%s/apply.XXXXXX", rt) >=
                    sizeof(a->private_dir) - 20)
                        return -ENAMETOOLONG;
                if (mkdtemp(a->private_dir))
                        break;
                r = -errno;
                a->private_dir[0] = '\0';
                /* failoverd --apply may run before the daemon (or systemd) made the runtime directory. */
                if (r != -ENOENT || attempt > 0 || (mkdir(rt, 0750) < 0 && errno != EEXIST))
                        return r;
        }
        a->private_fd = open(a->private_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (a->private_fd < 0) {
                r = -errno;
                rmdir(a->private_dir);
                return r;
        }
        snprintf(a->candidate, sizeof(a->candidate), "%s/candidate.conf", a->private_dir);
        snprintf(a->reload_file, sizeof(a->reload_file), "%s/frr.conf", a->private_dir);
        return 0;
}

static void end_apply(struct apply *a, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The apply is over: records the error, calls back and frees a. */
static void end_apply(struct apply *a, int error, const char *fmt, ...)
{
        if (error) {
                struct buf b;
                va_list ap;
                buf_init(&b);
                va_start(ap, fmt);
                buf_vprintf(&b, fmt, ap);
                va_end(ap);
                a->result.error = error;
                free(a->result.message);
                a->result.message = buf_steal(&b);
        }
        /* Tools quote frr.conf and the running config, BGP passwords included: never past here. */
        conf_redact(a->conf, a->result.message);
        conf_redact(a->conf, a->result.warning);
        conf_redact(a->conf, a->result.output);
        cleanup_files(a);
        a->result.usec = clock_mono_usec() - a->start;
        a->done(a, &a->result, a->userdata);
        apply_result_clear(&a->result);
        a->child = NULL;
        apply_free(a);
}

static void on_tool_exit(struct proc *p, struct proc_result *r, void *userdata);

static int spawn(struct apply *a, char **argv)
{
        struct proc_opts o = {
                .argv = argv,
                .timeout_usec = (uint64_t)(a->conf->frr.timeout * 1e6),
                .output_max = TOOL_OUTPUT_MAX,
        };
        if (!argv)
                return -ENOMEM;
        if (a->step == STEP_RELOAD || a->step == STEP_FAST) {
                a->result.tool_started = clock_real_sec();
        }
        int r = proc_spawn(a->event, &o, on_tool_exit, a, &a->child);
        strv_free(argv);
        return r;
}

/* Keeps the tool's words for the caller's log. */
static void keep_output(struct apply *a, const struct proc_result *r)
{
        struct buf b;
        buf_init(&b);
        if (a->result.output)
                buf_puts(&b, a->result.output);
        buf_puts(&b, r->output ? r->output : "");
        free(a->result.output);
        a->result.output = buf_steal(&b);
}

static void trim(char *s)
{
        size_t n = strlen(s);
        while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
                s[--n] = '\0';
}

/* vtysh exits 0 even when a -c command was refused; FRR marks such lines with "%". */
static const char *vtysh_error_line(const char *out)
{
        for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (*p == '%')
                        return p;
        return NULL;
}

static void after_install(struct apply *a);

static void on_installed(struct file_job *j, int error, bool changed, void *userdata)
{
        struct apply *a = userdata;
        (void)j;

        a->install = NULL;
        if (error < 0) {
                end_apply(a, error, "cannot write %s: %s", a->conf->frr.config, strerror(-error));
                return;
        }
        a->result.file_changed |= changed;
        after_install(a);
}

/* Writes and syncs frr.conf on a thread; the step goes on in after_install(). */
static void install(struct apply *a)
{
        int r = file_write_async(a->event, a->conf->frr.config, a->text, strlen(a->text), 0640, FILE_DURABLE,
                                 on_installed, a, &a->install);
        if (r < 0)
                end_apply(a, r, "cannot write %s: %s", a->conf->frr.config, strerror(-r));
}

/* frr-reload.py and vtysh "write" leave FRR's backup beside the file; failoverd's file is the only truth. */
static void remove_backup(const struct apply *a)
{
        char *dir = NULL, sav[300];
        const char *base;

        if (file_split(a->conf->frr.config, &dir, &base) < 0)
                return;
        int dfd = file_open_dir(dir);
        if (dfd >= 0 && (size_t)snprintf(sav, sizeof(sav), "%s.sav", base) < sizeof(sav))
                unlinkat(dfd, sav, 0);
        if (dfd >= 0)
                close(dfd);
        free(dir);
}

/* What bgpd runs, from its running config: the result's running[] and has_router. */
static int parse_readback(struct apply *a, const char *text)
{
        struct bgpd_running run;

        if (bgpd_parse_running(text, a->conf->bgp.asn, &run) < 0)
                return -ENOMEM;
        a->result.has_router = run.has_router;
        for (size_t s = 0; s < a->conf->n_services && s < CONF_MAX_SERVICES; s++)
                a->result.running[s] = run.has_router ? bgpd_service_state(&run, a->conf, s) : STATE_INVALID;
        a->result.readback_ok = true;
        bgpd_running_clear(&run);
        return 0;
}

static bool sock_absent(int error)
{
        return error == -ENOENT || error == -ECONNREFUSED;
}

static void readback_vtysh(struct apply *a)
{
        int r = spawn(a, vty_argv_show(a->conf, "show running-config"));
        if (r < 0)
                end_apply(a, r, "cannot start vtysh: %s", strerror(-r));
}

static void on_readback_sock(struct vtysock *q, int error, char **outs, const int *status, void *userdata)
{
        struct apply *a = userdata;
        (void)q;

        a->query = NULL;
        if (sock_absent(error)) {
                readback_vtysh(a);
                return;
        }
        if (error || status[1] != 0) {
                trim(outs[1]);
                end_apply(a, error ? error : -EPROTO, "cannot read bgpd's running config (vty socket: %s): %s",
                       error ? strerror(-error) : "refused", outs[1]);
                return;
        }
        int r = parse_readback(a, outs[1]);
        if (r < 0)
                end_apply(a, r, "out of memory");
        else
                end_apply(a, 0, "ok");
}

/* On bgpd's vty socket; through vtysh only when the socket is not there or refuses connections. */
static void start_readback(struct apply *a)
{
        static char *const cmds[] = { (char *)"enable", (char *)"show running-config", NULL };
        char path[4200];

        a->step = STEP_READBACK;
        int r = vtysock_path(a->conf->frr.pathspace, "bgpd", path, sizeof(path));
        if (r == 0)
                r = vtysock_query(a->event, path, cmds, (uint64_t)(a->conf->frr.timeout * 1e6), on_readback_sock, a,
                                  &a->query);
        if (r < 0)
                readback_vtysh(a);
}

static void after_apply(struct apply *a)
{
        if (a->readback && !a->readback_done)
                start_readback(a);
        else
                end_apply(a, 0, "ok");
}

/* frr-reload.py removes every running line the file lacks, zebra's forwarding lines too (docs/frr-facts.md):
 * forwarding is not ours to change, so keep it as it runs unless frr.extra sets it for that family. */
static void preserved_lines(const char *running, const char *rendering, struct buf *out)
{
        static const char *const fam[] = { "ip forwarding", "ipv6 forwarding" };
        char line[256], neg[64];

        for (size_t f = 0; f < 2; f++) {
                bool ours = false;
                snprintf(neg, sizeof(neg), "no %s", fam[f]);
                for (const char *p = rendering; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                        if (strncmp(p, fam[f], strlen(fam[f])) == 0 || strncmp(p, neg, strlen(neg)) == 0)
                                ours = true;
                for (const char *p = running; !ours && p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                        size_t len = strcspn(p, "\n");
                        snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
                        if (strcmp(line, fam[f]) == 0 || strcmp(line, neg) == 0)
                                buf_printf(out, "%s\n", line);
                }
        }
}

/* frr-reload.py ends with "write" unless FILE is CONFDIR/frr.conf: it gets a copy named frr.conf in a
 * private directory, which is also its CONFDIR; the copy carries the preserved lines. */
static int write_reload_copy(struct apply *a, const char *running)
{
        struct buf b;
        int r = 0;

        buf_init(&b);
        buf_puts(&b, a->text);
        preserved_lines(running, a->text, &b);
        if (b.oom)
                r = -ENOMEM;
        if (r == 0)
                r = file_write_atomic_at(a->private_fd, "frr.conf", b.data, b.len, 0600, 0, NULL);
        buf_free(&b);
        return r;
}

static void start_reload(struct apply *a, const char *running)
{
        char **argv;
        int r;

        a->step = STEP_RELOAD;
        if (access(a->conf->frr.reload, X_OK) == 0) {
                r = write_reload_copy(a, running);
                if (r < 0) {
                        end_apply(a, r, "cannot write %s: %s", a->reload_file, strerror(-r));
                        return;
                }
                argv = vty_argv_reload(a->conf, a->reload_file);
        } else {
                struct buf b;
                buf_init(&b);
                buf_printf(&b, "%s not found: applying with vtysh -f, which cannot remove stale lines",
                           a->conf->frr.reload);
                free(a->result.warning);
                a->result.warning = buf_steal(&b);
                argv = vty_argv_file(a->conf, a->conf->frr.config);
        }
        r = spawn(a, argv);
        if (r < 0)
                end_apply(a, r, "cannot start %s: %s", a->conf->frr.reload, strerror(-r));
}

/* The reload or the fast path has run: keep its words, fail with them, or install and go on. */
static void tool_done(struct apply *a, struct proc_result *r, bool ok, const char *what, const char *label)
{
        keep_output(a, r);
        a->result.tool_usec = r->end_usec - r->start_usec;
        if (!ok) {
                trim(r->output);
                end_apply(a, r->exec_errno ? -r->exec_errno : -EPROTO, "%s failed (%s): %s", label, what, r->output);
                return;
        }
        /* Whatever rewrote the file meanwhile, our rendering is what stays on disk. */
        install(a);
}

static void on_tool_exit(struct proc *p, struct proc_result *r, void *userdata)
{
        struct apply *a = userdata;
        char what[256];
        (void)p;

        a->child = NULL;
        proc_describe(r, what, sizeof(what));
        bool ok = r->exited && r->status == 0 && !r->timed_out && !r->exec_errno;

        switch (a->step) {
        case STEP_DRYRUN:
                if (!ok) {
                        trim(r->output);
                        end_apply(a, r->exec_errno ? -r->exec_errno : -EBADMSG,
                                  "vtysh -C rejected the rendered configuration (%s): %s", what, r->output);
                        return;
                }
                install(a);
                return;
        case STEP_RUNNING:
                if (!ok) {
                        trim(r->output);
                        end_apply(a, r->exec_errno ? -r->exec_errno : -EPROTO,
                                  "cannot read FRR's running config (%s): %s", what, r->output);
                        return;
                }
                start_reload(a, r->output);
                return;
        case STEP_RELOAD:
                remove_backup(a);
                tool_done(a, r, ok, what, "full apply");
                return;
        case STEP_FAST:
                a->result.tool_done_mono = clock_mono_usec();
                tool_done(a, r, ok && !vtysh_error_line(r->output), what, "fast path");
                return;
        case STEP_READBACK:
                if (!ok) {
                        trim(r->output);
                        end_apply(a, r->exec_errno ? -r->exec_errno : -EPROTO,
                                  "cannot read bgpd's running config (%s): %s", what, r->output);
                        return;
                }
                if (parse_readback(a, r->output) < 0) {
                        end_apply(a, -ENOMEM, "out of memory");
                        return;
                }
                end_apply(a, 0, "ok");
                return;
        }
}

/* The configuration lines of the fast path or of a re-announce. */
static char **fast_lines(const struct apply *a)
{
        if (a->kind == APPLY_REANNOUNCE)
                return a->reannounce ? render_reannounce(a->conf, a->states, a->reannounce) : NULL;
        return render_fast_path_only(a->conf, a->states, a->has_only ? a->only : NULL);
}

/* The fallback: one vtysh -d bgpd call with the same commands; the read-back follows separately. */
static void fast_vtysh(struct apply *a)
{
        char **cmds = fast_lines(a);
        int r = cmds ? spawn(a, vty_argv_commands(a->conf, cmds)) : -ENOMEM;
        strv_free(cmds);
        if (r < 0)
                end_apply(a, r, "cannot start %s: %s", a->conf->frr.vtysh, strerror(-r));
}

static void on_fast_sock(struct vtysock *q, int error, char **outs, const int *status, void *userdata)
{
        struct apply *a = userdata;
        size_t n = 0, end;

        a->query = NULL;
        while (outs[n])
                n++;
        end = a->readback ? n - 2 : n - 1;      /* the reply to "end": bgpd has the change */
        if (sock_absent(error)) {
                /* Not there (bgpd not started by its pathspace's rules, or gone): vtysh knows the way. */
                fast_vtysh(a);
                return;
        }
        /* bgpd has the change once it answered the last network statement ("exit-address-family" and "end"
         * only leave the configuration nodes). */
        size_t last = end;
        for (size_t i = 0; i < end; i++)
                if (strncmp(a->fast_cmds[i], "network ", 8) == 0 || strncmp(a->fast_cmds[i], "no network ", 11) == 0)
                        last = i;
        a->result.tool_done_mono = vtysock_answered_usec(q, last);
        a->result.tool_usec = a->result.tool_done_mono ? a->result.tool_done_mono - a->tool_start : 0;
        /* Every command's reply: a non-zero status stopped the rest; a "%" line with status 0 is a refusal
         * too, as with vtysh. */
        for (size_t i = 0; i <= end; i++) {
                if (status[i] == 0 && !vtysh_error_line(outs[i]))
                        continue;
                trim(outs[i]);
                if (error && status[i] < 0)
                        end_apply(a, error, "fast path failed (bgpd's vty socket: %s, at \"%s\")", strerror(-error),
                               a->fast_cmds[i]);
                else
                        end_apply(a, -EPROTO, "fast path failed (bgpd refused \"%s\", status %d): %s", a->fast_cmds[i],
                               status[i], outs[i]);
                return;
        }
        if (a->readback) {
                if (error || status[n - 1] != 0) {
                        trim(outs[n - 1]);
                        end_apply(a, error ? error : -EPROTO, "cannot read bgpd's running config (vty socket: %s): %s",
                               error ? strerror(-error) : "refused", outs[n - 1]);
                        return;
                }
                if (parse_readback(a, outs[n - 1]) < 0) {
                        end_apply(a, -ENOMEM, "out of memory");
                        return;
                }
                a->readback_done = true;
        }
        /* Whatever rewrote the file meanwhile, our rendering is what stays on disk. */
        install(a);
}

/* "enable" (a fresh vty connection is in the view node), the fast-path lines, and when asked the read-back
 * on the same connection: one command in flight at a time, each reply read to its end marker. */
static int start_fast_sock(struct apply *a)
{
        char path[4200];
        size_t n = 0;

        int r = vtysock_path(a->conf->frr.pathspace, "bgpd", path, sizeof(path));
        if (r < 0)
                return r;
        char **lines = fast_lines(a);
        if (!lines)
                return -ENOMEM;
        while (lines[n])
                n++;
        a->fast_cmds = calloc(n + 3, sizeof(char *));
        if (!a->fast_cmds) {
                strv_free(lines);
                return -ENOMEM;
        }
        a->fast_cmds[0] = (char *)"enable";
        memcpy(a->fast_cmds + 1, lines, n * sizeof(char *));
        if (a->readback)
                a->fast_cmds[n + 1] = (char *)"show running-config";
        a->fast_lines = lines;
        a->result.tool_started = clock_real_sec();
        a->tool_start = clock_mono_usec();
        return vtysock_query_flags(a->event, path, a->fast_cmds, (uint64_t)(a->conf->frr.timeout * 1e6),
                                   VTYSOCK_STOP_ON_ERROR, on_fast_sock, a, &a->query);
}

/* frr.conf is on disk: after the dry run, read FRR's running config; after the tool, read back. */
static void after_install(struct apply *a)
{
        switch (a->step) {
        case STEP_DRYRUN: {
                a->step = STEP_RUNNING;
                int e = spawn(a, vty_argv_show_all(a->conf, "show running-config"));
                if (e < 0)
                        end_apply(a, e, "cannot start %s: %s", a->conf->frr.vtysh, strerror(-e));
                return;
        }
        case STEP_RELOAD:
        case STEP_FAST:
                after_apply(a);
                return;
        case STEP_RUNNING:
        case STEP_READBACK:
                break;
        }
        end_apply(a, -EINVAL, "internal error: install in step %d", (int)a->step);
}

static int on_defer(sd_event_source *s, void *userdata)
{
        struct apply *a = userdata;
        int r;
        (void)s;

        a->defer = sd_event_source_unref(a->defer);
        switch (a->kind) {
        case APPLY_FULL:
                a->step = STEP_DRYRUN;
                /* A full or read-only frr.conf directory still fails before FRR: install() follows the dry run. */
                r = make_private_dir(a);
                if (r < 0) {
                        end_apply(a, r, "cannot make a private directory in %s: %s", a->conf->runtime_directory,
                                  strerror(-r));
                        return 0;
                }
                r = file_write_atomic_at(a->private_fd, "candidate.conf", a->text, strlen(a->text), 0600, 0, NULL);
                if (r < 0) {
                        end_apply(a, r, "cannot write %s: %s", a->candidate, strerror(-r));
                        return 0;
                }
                r = spawn(a, vty_argv_dryrun(a->conf, a->candidate));
                if (r < 0)
                        end_apply(a, r, "cannot start %s: %s", a->conf->frr.vtysh, strerror(-r));
                return 0;
        case APPLY_FAST:
        case APPLY_REANNOUNCE:
                a->step = STEP_FAST;
                r = start_fast_sock(a);
                if (r < 0)
                        fast_vtysh(a);
                return 0;
        case APPLY_READBACK:
                start_readback(a);
                return 0;
        }
        return 0;
}

int apply_start(sd_event *e, const struct conf *c, const enum fo_state *states, enum apply_kind kind,
                bool readback, apply_done_fn done, void *userdata, struct apply **ret)
{
        struct apply *a = calloc(1, sizeof(*a));
        int r;

        if (!a)
                return -ENOMEM;
        if (c->n_services > CONF_MAX_SERVICES) {
                free(a);
                return -E2BIG;
        }
        a->private_fd = -1;
        a->event = sd_event_ref(e);
        a->conf = c;
        memcpy(a->states, states, c->n_services * sizeof(*states));
        a->kind = kind;
        a->readback = readback;
        a->done = done;
        a->userdata = userdata;
        a->start = clock_mono_usec();
        for (size_t i = 0; i < CONF_MAX_SERVICES; i++)
                a->result.running[i] = STATE_INVALID;
        if (kind != APPLY_READBACK && (r = render_frr_conf(c, a->states, &a->text)) < 0) {
                apply_free(a);
                return r;
        }
        /* Start from the loop, so that done never runs inside apply_start. */
        r = sd_event_add_defer(e, &a->defer, on_defer, a);
        if (r < 0) {
                apply_free(a);
                return r;
        }
        if (ret)
                *ret = a;
        return 0;
}

void apply_set_fast_only(struct apply *a, const bool *only)
{
        for (size_t i = 0; i < a->conf->n_services && i < CONF_MAX_SERVICES; i++)
                a->only[i] = only[i];
        a->has_only = true;
}

int apply_set_reannounce(struct apply *a, const bool *prefixes)
{
        size_t n = a->conf->n_shared_ips;
        free(a->reannounce);
        a->reannounce = calloc(n ? n : 1, sizeof(*a->reannounce));
        if (!a->reannounce)
                return -ENOMEM;
        memcpy(a->reannounce, prefixes, n * sizeof(*prefixes));
        return 0;
}

struct apply *apply_free(struct apply *a)
{
        if (!a)
                return NULL;
        a->child = proc_free(a->child);
        a->query = vtysock_free(a->query);
        strv_free(a->fast_lines);
        free(a->fast_cmds);
        a->install = file_job_cancel(a->install);
        a->defer = sd_event_source_disable_unref(a->defer);
        cleanup_files(a);
        apply_result_clear(&a->result);
        free(a->text);
        free(a->reannounce);
        sd_event_unref(a->event);
        free(a);
        return NULL;
}

void apply_result_clear(struct apply_result *r)
{
        free(r->message);
        free(r->warning);
        free(r->output);
        r->message = r->warning = r->output = NULL;
}

struct sync_ctx {
        struct apply_result *out;
        bool done;
};

static void sync_done(struct apply *a, struct apply_result *r, void *userdata)
{
        struct sync_ctx *x = userdata;
        (void)a;
        *x->out = *r;
        /* Ownership of the strings moves to the caller. */
        r->message = r->warning = r->output = NULL;
        x->done = true;
}

int apply_run(const struct conf *c, const enum fo_state *states, enum apply_kind kind, bool readback,
              struct apply_result *out)
{
        sd_event *e = NULL;
        struct sync_ctx x = { .out = out };
        sigset_t mask, old;
        int r;

        memset(out, 0, sizeof(*out));
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, &old);
        r = sd_event_new(&e);
        if (r >= 0)
                r = apply_start(e, c, states, kind, readback, sync_done, &x, NULL);
        while (r >= 0 && !x.done)
                r = sd_event_run(e, UINT64_MAX);
        sd_event_unref(e);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r < 0 ? r : 0;
}

/* What an apply of failoverd leaves beside frr.conf (base): its temporary files, an older version's candidate. */
static bool config_leftover(const char *name, const char *base)
{
        char old[300];
        snprintf(old, sizeof(old), ".%s.candidate", base);
        return file_is_temp_name(name, base) || strcmp(name, old) == 0;
}

static bool same_name(const char *name, const char *want)
{
        return strcmp(name, want) == 0;
}

/* apply.XXXXXX as mkdtemp makes it. */
static bool private_dir_name(const char *name)
{
        return strncmp(name, "apply.", 6) == 0 && strlen(name) == 12 &&
               strspn(name + 6, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == 6;
}

int apply_remove_leftovers(const struct conf *c)
{
        char *dir = NULL;
        const char *base;
        struct dirent *e;
        int n = 0, dfd;

        /* In frr's directory, names are matched exactly and nothing is followed: an editor's .frr.conf.swp
         * or rsync's .frr.conf.XXXXXX stays, and a link planted there leads nowhere. */
        if (file_split(c->frr.config, &dir, &base) == 0 && (dfd = file_open_dir(dir)) >= 0) {
                n += remove_entries(fcntl(dfd, F_DUPFD_CLOEXEC, 0), config_leftover, base);
                int old = openat(dfd, ".failoverd-reload", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (old >= 0) {
                        /* Where earlier versions kept frr-reload.py's copy. */
                        n += remove_entries(old, same_name, "frr.conf");
                        n += unlinkat(dfd, ".failoverd-reload", AT_REMOVEDIR) == 0;
                }
                close(dfd);
        }
        free(dir);

        DIR *d = (dfd = file_open_dir(c->runtime_directory)) >= 0 ? fdopendir(dfd) : NULL;
        if (!d && dfd >= 0)
                close(dfd);
        while (d && (e = readdir(d))) {
                if (!private_dir_name(e->d_name))
                        continue;
                int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        continue;
                n += remove_entries(sub, NULL, NULL);
                n += unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) == 0;
        }
        if (d)
                closedir(d);
        return n;
}
