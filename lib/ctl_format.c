/* The status screen and the checks table that failoverctl prints, formatted from a status-json reply. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_format.h"
#include "ctl_json.h"

/* Reading a status-json reply: each returns NULL (or false, -1, 0) when the key is absent or of another type. */
static json_object *member(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
                return NULL;
        return v;
}

static const char *member_str(json_object *o, const char *key)
{
        json_object *v = member(o, key);
        return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool member_num(json_object *o, const char *key, double *ret)
{
        json_object *v = member(o, key);
        if (!v || !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
                return false;
        *ret = json_object_get_double(v);
        return true;
}

/* -1 when absent or not a boolean. */
static int member_bool(json_object *o, const char *key)
{
        json_object *v = member(o, key);
        if (!v || !json_object_is_type(v, json_type_boolean))
                return -1;
        return json_object_get_boolean(v) ? 1 : 0;
}

/* The key is there with the value null: the daemon says it does not know. */
static bool is_null(json_object *o, const char *key)
{
        json_object *v = NULL;
        return o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v) && !v;
}

/* The apply queue's state (status-json bgpd.apply) for people. */
static const char *apply_words(const char *queue)
{
        static const struct {
                const char *state, *words;
        } words[] = {
                { "starting", "no decision yet" }, { "applying", "applying" }, { "retry-wait", "retrying" },
                { "bgpd-wait", "waiting for bgpd" }, { "stopped", "stopping" }, { "idle", "idle" },
        };
        for (size_t i = 0; queue && i < sizeof(words) / sizeof(words[0]); i++)
                if (strcmp(queue, words[i].state) == 0)
                        return words[i].words;
        return queue ? queue : "?";
}

static size_t array_len(json_object *a)
{
        return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static const char *or_q(const char *s)
{
        return s ? s : "?";
}

/* The services part: one block per service when the reply has more than the one "default" service. */
static bool multi_service(json_object *st)
{
        json_object *sv = member(st, "services");
        const char *name = array_len(sv) ? member_str(json_object_array_get_idx(sv, 0), "name") : NULL;
        return array_len(sv) > 1 || (array_len(sv) == 1 && name && strcmp(name, "default") != 0);
}

/* The state that decides whether prefix (a shared_ips entry) should be announced: its service's, else the
 * host's. NULL when unknown. */
static const char *prefix_state(json_object *st, json_object *ip)
{
        const char *name = member_str(ip, "service");
        json_object *sv = member(st, "services");
        for (size_t i = 0; name && i < array_len(sv); i++) {
                json_object *s = json_object_array_get_idx(sv, i);
                if (member_str(s, "name") && strcmp(member_str(s, "name"), name) == 0)
                        return member_str(s, "state");
        }
        return member_str(st, "state");
}

static const char *health_of(json_object *st, const char *check)
{
        json_object *checks = member(st, "checks");
        for (size_t i = 0; i < array_len(checks); i++) {
                json_object *c = json_object_array_get_idx(checks, i);
                if (member_str(c, "name") && strcmp(member_str(c, "name"), check) == 0) {
                        const char *h = member_str(c, "health"), *sev = member_str(c, "severity");
                        if (h && strcmp(h, "down") == 0 && sev)
                                return sev;
                        return h ? h : "?";
                }
        }
        return "?";
}

static void format_since(double since, double now, struct buf *out);

static void format_services(json_object *st, double now, struct buf *out)
{
        json_object *sv = member(st, "services");

        if (!multi_service(st))
                return;
        buf_puts(out, "services:\n");
        for (size_t i = 0; i < array_len(sv); i++) {
                json_object *s = json_object_array_get_idx(sv, i);
                const char *state = member_str(s, "state"), *reason = member_str(s, "reason");
                const char *hold = member_str(s, "hold");
                char upper[32] = "?";
                double since;
                for (size_t k = 0; state && state[k] && k + 1 < sizeof(upper); k++) {
                        upper[k] = (char)(state[k] >= 'a' && state[k] <= 'z' ? state[k] - 'a' + 'A' : state[k]);
                        upper[k + 1] = '\0';
                }
                buf_printf(out, "  %s: %s (role %s)", or_q(member_str(s, "name")), upper, or_q(member_str(s, "role")));
                if (member_num(s, "since", &since))
                        format_since(since, now, out);
                if (reason)
                        buf_printf(out, ": %s", reason);
                buf_puts(out, "\n");
                if (hold)
                        buf_printf(out, "    held: %s\n", hold);
                buf_puts(out, "    addresses:");
                json_object *ips = member(s, "shared_ips");
                for (size_t k = 0; k < array_len(ips); k++) {
                        const char *p = json_object_get_string(json_object_array_get_idx(ips, k));
                        buf_printf(out, "%s %s", k ? "," : "", p ? p : "?");
                }
                buf_puts(out, "\n    checks:");
                json_object *checks = member(s, "checks");
                if (!array_len(checks))
                        buf_puts(out, " none");
                for (size_t k = 0; k < array_len(checks); k++) {
                        const char *c = json_object_get_string(json_object_array_get_idx(checks, k));
                        buf_printf(out, "%s %s (%s)", k ? "," : "", c ? c : "?", c ? health_of(st, c) : "?");
                }
                buf_puts(out, "\n");
        }
}

void ctl_format_duration(double seconds, char *out, size_t outlen)
{
        if (seconds < 0)
                seconds = 0;
        if (seconds < 1.0) {
                snprintf(out, outlen, "%dms", (int)(seconds * 1000 + 0.5));
                return;
        }
        if (seconds < 60) {
                snprintf(out, outlen, "%.1fs", seconds);
                return;
        }
        long long s = (long long)seconds;
        long long big, small;
        const char *bu, *su;
        if (s < 3600) {
                big = s / 60, small = s % 60, bu = "m", su = "s";
        } else if (s < 86400) {
                big = s / 3600, small = s / 60 % 60, bu = "h", su = "m";
        } else {
                big = s / 86400, small = s / 3600 % 24, bu = "d", su = "h";
        }
        if (small == 0)
                snprintf(out, outlen, "%lld%s", big, bu);
        else
                snprintf(out, outlen, "%lld%s%02lld%s", big, bu, small, su);
}

/* Rows of cells printed with every column but the last padded to its widest cell. */
#define TCOLS 6
struct table {
        char *(*rows)[TCOLS];
        size_t n;
        size_t width[TCOLS];
        int oom;
};

static void table_add(struct table *t, const char *const cells[TCOLS])
{
        char *(*nr)[TCOLS] = realloc(t->rows, (t->n + 1) * sizeof(*nr));
        if (!nr) {
                t->oom = 1;
                return;
        }
        t->rows = nr;
        for (size_t i = 0; i < TCOLS; i++) {
                t->rows[t->n][i] = cells[i] ? strdup(cells[i]) : NULL;
                if (cells[i] && !t->rows[t->n][i])
                        t->oom = 1;
                if (cells[i] && strlen(cells[i]) > t->width[i])
                        t->width[i] = strlen(cells[i]);
        }
        t->n++;
}

static void table_print(struct table *t, struct buf *out)
{
        for (size_t r = 0; r < t->n; r++) {
                size_t last = 0;
                for (size_t i = 0; i < TCOLS; i++)
                        if (t->rows[r][i] && t->rows[r][i][0])
                                last = i;
                buf_puts(out, " ");
                for (size_t i = 0; i <= last; i++) {
                        const char *c = t->rows[r][i] ? t->rows[r][i] : "";
                        if (t->width[i] == 0)
                                continue;
                        if (i == last)
                                buf_printf(out, " %s", c);
                        else
                                buf_printf(out, " %-*s ", (int)t->width[i], c);
                }
                buf_puts(out, "\n");
        }
}

static void table_free(struct table *t)
{
        for (size_t r = 0; r < t->n; r++)
                for (size_t i = 0; i < TCOLS; i++)
                        free(t->rows[r][i]);
        free(t->rows);
}

static int format_checks(json_object *checks, struct buf *out)
{
        size_t n = array_len(checks), up = 0;
        struct table t = {};

        for (size_t i = 0; i < n; i++) {
                json_object *c = json_object_array_get_idx(checks, i);
                const char *health = member_str(c, "health");
                if (health && strcmp(health, "up") == 0)
                        up++;
        }
        if (n == 0) {
                buf_puts(out, "checks: none (always healthy)\n");
                return out->oom ? -ENOMEM : 0;
        }
        buf_printf(out, "checks: %zu/%zu up\n", up, n);
        for (size_t i = 0; i < n; i++) {
                json_object *c = json_object_array_get_idx(checks, i);
                const char *health = or_q(member_str(c, "health"));
                const char *sev = member_str(c, "severity");
                char hcol[64], age[48], dur[32], tmp[32];
                double v, rise = 0, fall = 0, oks = 0, bads = 0;
                bool has_rise = member_num(c, "rise", &rise), has_fall = member_num(c, "fall", &fall);

                member_num(c, "ok_streak", &oks);
                member_num(c, "bad_streak", &bads);
                if (strcmp(health, "down") == 0 && sev)
                        snprintf(hcol, sizeof(hcol), "%s", strcmp(sev, "degraded") == 0 ? "DEGRADED" : "FAILED");
                else if (strcmp(health, "down") == 0)
                        snprintf(hcol, sizeof(hcol), "DOWN");
                else
                        snprintf(hcol, sizeof(hcol), "%s", health);
                /* A check on its way to the other state: say how far, it is why a change is (not) happening. */
                size_t hl = strlen(hcol);
                if (strcmp(health, "up") == 0 && bads > 0 && has_fall)
                        snprintf(hcol + hl, sizeof(hcol) - hl, " (%d/%d bad)", (int)bads, (int)fall);
                else if (strcmp(health, "down") == 0 && oks > 0 && has_rise)
                        snprintf(hcol + hl, sizeof(hcol) - hl, " (%d/%d ok)", (int)oks, (int)rise);
                if (member_num(c, "last_run_age", &v)) {
                        ctl_format_duration(v, tmp, sizeof(tmp));
                        snprintf(age, sizeof(age), "%s ago", tmp);
                } else {
                        snprintf(age, sizeof(age), "not run yet");
                }
                if (member_num(c, "duration", &v))
                        ctl_format_duration(v, dur, sizeof(dur));
                else
                        snprintf(dur, sizeof(dur), "-");
                const char *cells[TCOLS] = { or_q(member_str(c, "name")), hcol, member_str(c, "last_exit") ? member_str(c, "last_exit") : "-",
                                             age, dur, member_str(c, "message") ? member_str(c, "message") : "" };
                table_add(&t, cells);
        }
        table_print(&t, out);
        int oom = t.oom;
        table_free(&t);
        return oom || out->oom ? -ENOMEM : 0;
}

int ctl_format_checks(json_object *obj, struct buf *out)
{
        if (!obj || !json_object_is_type(obj, json_type_object))
                return -EINVAL;
        /* Check output and bgpd's words are anybody's bytes: never hand them to a terminal as they are. */
        json_object *safe = ctl_escaped_copy(member(obj, "checks"));
        if (!safe && member(obj, "checks"))
                return -ENOMEM;
        int r = format_checks(safe, out);
        json_object_put(safe);
        return r;
}

static void format_since(double since, double now, struct buf *out)
{
        char when[64], ago[32];
        struct tm tm;
        time_t t = (time_t)since;

        if (!localtime_r(&t, &tm))
                return;
        strftime(when, sizeof(when), now - since >= 86400 ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
        ctl_format_duration(now - since, ago, sizeof(ago));
        buf_printf(out, " since %s (%s ago)", when, ago);
}

/* What bgpd is known to send, from the watch's last read of its table: a prefix counts only when bgpd
 * sends it, and only against the prefixes whose service is not withdrawn. Unknown is said as unknown. */
static void format_announcing(json_object *st, const char *state, const char *community, struct buf *out)
{
        json_object *ips = member(st, "shared_ips");
        size_t want = 0, known = 0, sent = 0, stray = 0;
        int reachable = member_bool(member(st, "bgpd"), "reachable");

        for (size_t i = 0; i < array_len(ips); i++) {
                json_object *ip = json_object_array_get_idx(ips, i);
                const char *ps = prefix_state(st, ip);
                bool wanted = !ps || strcmp(ps, "withdrawn") != 0;
                int an = member_bool(ip, "announced");
                want += wanted;
                known += wanted && an >= 0;
                sent += wanted && an == 1;
                stray += !wanted && an == 1;
        }
        if (reachable == 0) {
                buf_puts(out, "announcement unknown: bgpd unreachable");
                return;
        }
        if (strcmp(state, "withdrawn") == 0) {
                if (stray)
                        buf_printf(out, "withdrawing: bgpd still announces %zu prefix%s", stray, stray == 1 ? "" : "es");
                else
                        buf_puts(out, "not announcing");
                return;
        }
        if (want && known == 0) {
                buf_puts(out, "announcement unknown: bgpd not read yet");
                return;
        }
        if (sent == want)
                buf_printf(out, "announcing %zu prefix%s", sent, sent == 1 ? "" : "es");
        else
                buf_printf(out, "announcing %zu of %zu prefix%s", sent, want, want == 1 ? "" : "es");
        if (sent && strcmp(state, "demoted") == 0)
                buf_printf(out, " demoted (%s%sAS path prepended)", community ? community : "", community ? ", " : "");
        else if (sent && community)
                buf_printf(out, " with %s", community);
        if (stray)
                buf_printf(out, ", and still %zu that should be withdrawn", stray);
}

static void format_headline(json_object *st, double now, struct buf *out)
{
        const char *state = member_str(st, "state");
        const char *community = member_str(st, "community");
        double pid = 0, since;
        char upper[32] = "?";

        if (state) {
                size_t i;
                for (i = 0; state[i] && i + 1 < sizeof(upper); i++)
                        upper[i] = (char)(state[i] >= 'a' && state[i] <= 'z' ? state[i] - 'a' + 'A' : state[i]);
                upper[i] = '\0';
        }
        buf_printf(out, "failoverd %s on %s", or_q(member_str(st, "version")), or_q(member_str(st, "hostname")));
        if (member_num(st, "pid", &pid))
                buf_printf(out, " (pid %d)", (int)pid);
        buf_printf(out, ": %s \xe2\x80\x94 ", upper);
        if (!state)
                buf_puts(out, "state unknown");
        else
                format_announcing(st, state, community, out);
        if (member_str(st, "reason"))
                buf_printf(out, " (%s)", member_str(st, "reason"));
        if (member_num(st, "since", &since) && since > 0)
                format_since(since, now, out);
        buf_puts(out, "\n");

        buf_printf(out, "role %s, ", or_q(member_str(st, "role")));
        if (member_bool(st, "drained") == 1)
                buf_printf(out, "DRAINED%s%s (failoverctl resume to undo)", member_str(st, "drain_reason") ? ": " : "",
                           member_str(st, "drain_reason") ? member_str(st, "drain_reason") : "");
        else
                buf_puts(out, "not drained");
        double tr;
        if (member_num(st, "transitions", &tr))
                buf_printf(out, ", %d state change%s since start", (int)tr, (int)tr == 1 ? "" : "s");
        buf_puts(out, "\n");
}

/* The entry of array a (shared_ips, addresses.lo) whose "prefix" is prefix, or NULL. */
static json_object *by_prefix(json_object *a, const char *prefix)
{
        for (size_t i = 0; prefix && i < array_len(a); i++) {
                json_object *e = json_object_array_get_idx(a, i);
                if (member_str(e, "prefix") && strcmp(member_str(e, "prefix"), prefix) == 0)
                        return e;
        }
        return NULL;
}

/* Every reason the host may not be doing what the headline says, one line each. */
static void format_warnings(json_object *st, struct buf *out)
{
        json_object *conf = member(st, "config"), *bgpd = member(st, "bgpd"), *ips = member(st, "shared_ips");
        const char *state = member_str(st, "state");
        double schema = 0, est = -1, total = -1;

        if (member_num(st, "schema", &schema) && schema > CTL_STATUS_SCHEMA)
                buf_printf(out, "note: status schema %d is newer than this failoverctl knows (%d)\n", (int)schema,
                           CTL_STATUS_SCHEMA);
        if (member_str(conf, "reload_error"))
                buf_printf(out, "WARNING: reload of %s failed, running on the previous configuration: %s\n",
                           or_q(member_str(conf, "path")), member_str(conf, "reload_error"));
        if (member_bool(bgpd, "reachable") == 0)
                buf_puts(out, "WARNING: bgpd unreachable, retrying: the announcement can be neither read nor changed\n");
        if (member_bool(bgpd, "last_apply_ok") == 0 && member_str(bgpd, "last_apply_error"))
                buf_printf(out, "WARNING: the last apply to FRR failed: %s\n", member_str(bgpd, "last_apply_error"));
        else if (member_bool(bgpd, "last_apply_ok") == 0)
                buf_puts(out, "WARNING: the last apply to FRR failed (failoverd gave no reason: see its log)\n");
        if (member_num(bgpd, "established", &est) && member_num(bgpd, "total", &total) && total > 0 && est == 0)
                buf_puts(out, "WARNING: no route-server session is established: nobody hears the announcement\n");
        for (size_t i = 0; i < array_len(ips); i++) {
                json_object *ip = json_object_array_get_idx(ips, i);
                if (member_bool(ip, "assigned") == 0)
                        buf_printf(out, "WARNING: %s is not assigned to a local interface: FRR will not announce it\n",
                                   or_q(member_str(ip, "prefix")));
                else if ((state = prefix_state(st, ip)) && strcmp(state, "withdrawn") != 0 &&
                         member_bool(ip, "announced") == 0 &&
                         member_bool(bgpd, "reachable") != 0)
                        buf_printf(out, "WARNING: %s should be announced but bgpd does not announce it%s%s%s\n",
                                   or_q(member_str(ip, "prefix")), member_str(ip, "not_announced_why") ? " (" : "",
                                   member_str(ip, "not_announced_why") ? member_str(ip, "not_announced_why") : "",
                                   member_str(ip, "not_announced_why") ? ")" : "");
        }
        json_object *lo = member(member(st, "addresses"), "lo");
        for (size_t i = 0; i < array_len(lo); i++) {
                json_object *e = json_object_array_get_idx(lo, i);
                const char *s = member_str(e, "state"), *err = member_str(e, "error");
                if (s && strcmp(s, "missing") == 0)
                        buf_printf(out, "WARNING: %s is missing from lo: failoverd puts it back, bgpd does not announce it "
                                   "meanwhile%s%s%s\n", or_q(member_str(e, "address")), err ? " (cannot: " : "",
                                   err ? err : "", err ? ")" : "");
        }
}

static void format_route_servers(json_object *st, struct buf *out, struct table *t)
{
        json_object *rs = member(st, "route_servers"), *bgpd = member(st, "bgpd");
        size_t n = array_len(rs), up = 0;
        double est, total;

        for (size_t i = 0; i < n; i++)
                if (member_bool(json_object_array_get_idx(rs, i), "up") == 1)
                        up++;
        if (member_num(bgpd, "established", &est) && member_num(bgpd, "total", &total))
                buf_printf(out, "route servers: %d/%d established\n", (int)est, (int)total);
        else
                buf_printf(out, "route servers: %zu/%zu established\n", up, n);
        for (size_t i = 0; i < n; i++) {
                json_object *r = json_object_array_get_idx(rs, i);
                char upcol[48] = "down", sent[32] = "", tmp[32];
                double v;
                if (member_bool(r, "up") == 1) {
                        if (member_num(r, "uptime", &v)) {
                                ctl_format_duration(v, tmp, sizeof(tmp));
                                snprintf(upcol, sizeof(upcol), "up %s", tmp);
                        } else {
                                snprintf(upcol, sizeof(upcol), "up");
                        }
                }
                if (member_num(r, "prefixes_sent", &v))
                        snprintf(sent, sizeof(sent), "sent %d", (int)v);
                const char *reset = member_bool(r, "up") != 1 ? member_str(r, "last_reset") : NULL;
                const char *why = member_bool(r, "up") != 1 ? member_str(r, "why") : NULL;
                struct buf last;
                buf_init(&last);
                if (why)
                        buf_puts(&last, why);
                else if (reset)
                        buf_printf(&last, "last reset: %s", reset);
                char state[64];
                const char *bfd = member_str(r, "bfd");
                snprintf(state, sizeof(state), "%s%s%s", or_q(member_str(r, "state")), bfd ? ", BFD " : "", bfd ? bfd : "");
                const char *cells[TCOLS] = { or_q(member_str(r, "address")), state, upcol, sent,
                                             last.data ? last.data : "" };
                table_add(t, cells);
                buf_free(&last);
        }
}

/* addresses = "manage": whether prefix's address is on lo, as the watch of lo last saw it; "" otherwise. */
static void lo_cell(json_object *e, const char *prefix, char *lo, size_t len)
{
        const char *s = or_q(member_str(e, "state")), *addr = member_str(e, "address");
        double back = 0;

        lo[0] = '\0';
        if (!e)
                return;
        bool present = strcmp(s, "present") == 0, other = addr && prefix && strcmp(addr, prefix) != 0;
        snprintf(lo, len, "%s%s%s%s", present ? "on lo" : strcmp(s, "missing") == 0 ? "MISSING from lo" : "on lo: unknown",
                 other ? (present ? " as " : " (") : "", other ? addr : "", other && !present ? ")" : "");
        if (member_num(e, "restored", &back) && back > 0)
                snprintf(lo + strlen(lo), len - strlen(lo), ", put back %.0f time%s", back, back == 1 ? "" : "s");
}

static void format_shared_ips(json_object *st, struct table *t)
{
        json_object *ips = member(st, "shared_ips");

        for (size_t i = 0; i < array_len(ips); i++) {
                json_object *ip = json_object_array_get_idx(ips, i);
                int as = member_bool(ip, "assigned"), an = member_bool(ip, "announced"), cf = member_bool(ip, "configured");
                char ann[192];
                const char *rm = member_str(ip, "route_map"), *why = member_str(ip, "not_announced_why");
                const char *a = member_str(ip, "announcement");
                /* "announced" only when bgpd sends it to a route server, never from the network statement alone. */
                if (an == 1 && rm)
                        snprintf(ann, sizeof(ann), "announced (%s)", rm);
                else if (an == 1)
                        snprintf(ann, sizeof(ann), "announced");
                else if ((a && strcmp(a, "configured") == 0) || (an == 0 && cf == 1))
                        snprintf(ann, sizeof(ann), "configured%s%s%s but NOT ANNOUNCED%s%s%s", rm ? " (" : "", rm ? rm : "",
                                 rm ? ")" : "", why ? " (" : "", why ? why : "", why ? ")" : "");
                else if (a && strcmp(a, "withdrawn") == 0)
                        snprintf(ann, sizeof(ann), "withdrawn");
                else
                        snprintf(ann, sizeof(ann), "%s", an == 0 ? "not announced" : "?");
                char lo[160];
                lo_cell(by_prefix(member(member(st, "addresses"), "lo"), member_str(ip, "prefix")), member_str(ip, "prefix"),
                        lo, sizeof(lo));
                const char *cells[TCOLS] = { or_q(member_str(ip, "prefix")),
                                             as == 1 ? "assigned" : as == 0 ? "NOT ASSIGNED" : "?", ann, lo };
                table_add(t, cells);
        }
        /* A managed address whose prefix the watch of bgpd has not reported (not read yet, stopping). */
        json_object *lo = member(member(st, "addresses"), "lo");
        for (size_t i = 0; i < array_len(lo); i++) {
                json_object *e = json_object_array_get_idx(lo, i);
                const char *prefix = member_str(e, "prefix");
                if (by_prefix(ips, prefix))
                        continue;
                char cell[160];
                lo_cell(e, prefix, cell, sizeof(cell));
                const char *cells[TCOLS] = { or_q(prefix), "?", "?", cell };
                table_add(t, cells);
        }
}

static int format_status(json_object *st, double now, struct buf *out)
{
        struct table rs = {}, ips = {};
        json_object *bgpd = member(st, "bgpd"), *conf = member(st, "config");
        double ms;

        format_headline(st, now, out);
        format_warnings(st, out);
        format_services(st, now, out);

        format_route_servers(st, out, &rs);
        table_print(&rs, out);
        int r = format_checks(member(st, "checks"), out);

        json_object *addrs = member(st, "addresses");
        double missing = 0, restored = 0;
        if (member_bool(addrs, "managed") != 1)
                buf_puts(out, "shared addresses:\n");
        else if (member_bool(addrs, "watching") == 1 && member_num(addrs, "missing", &missing))
                buf_printf(out, "shared addresses (addresses = manage: %.0f/%zu on lo, %.0f put back since start):\n",
                           (double)array_len(member(addrs, "lo")) - missing, array_len(member(addrs, "lo")),
                           member_num(addrs, "restored", &restored) ? restored : 0);
        else
                buf_puts(out, "shared addresses (addresses = manage: lo not watched now, whether they are on it is "
                         "unknown):\n");
        format_shared_ips(st, &ips);
        table_print(&ips, out);

        if (bgpd) {
                int reach = member_bool(bgpd, "reachable"), ok = member_bool(bgpd, "last_apply_ok");
                double slow;
                buf_printf(out, "bgpd: %s", reach == 0 ? "UNREACHABLE" : reach == 1 ? "reachable" : "?");
                if (member_bool(bgpd, "busy") == 1)
                        buf_printf(out, ", BUSY (%s), retrying", or_q(member_str(bgpd, "busy_why")));
                if (member_num(bgpd, "slow_polls", &slow) && slow > 0)
                        buf_printf(out, ", %.0f slow poll%s", slow, slow == 1 ? "" : "s");
                if (ok >= 0)
                        buf_printf(out, ", last apply %s", ok ? "ok" : "FAILED");
                else if (is_null(bgpd, "last_apply_ok"))
                        buf_printf(out, ", last apply not verified yet (%s)", apply_words(member_str(bgpd, "apply")));
                if (member_num(bgpd, "last_apply_ms", &ms)) {
                        char d[32];
                        ctl_format_duration(ms / 1000.0, d, sizeof(d));
                        buf_printf(out, " (%s)", d);
                }
                buf_puts(out, "\n");
        }
        if (conf)
                buf_printf(out, "config: %s%s\n", or_q(member_str(conf, "path")),
                           member_str(conf, "reload_error") ? " (last reload FAILED, see above)" : "");
        if (rs.oom || ips.oom)
                r = -ENOMEM;
        table_free(&rs);
        table_free(&ips);
        return r < 0 ? r : out->oom ? -ENOMEM : 0;
}

int ctl_format_status(json_object *st, double now, struct buf *out)
{
        if (!st || !json_object_is_type(st, json_type_object))
                return -EINVAL;
        json_object *safe = ctl_escaped_copy(st);
        if (!safe)
                return -ENOMEM;
        int r = format_status(safe, now, out);
        json_object_put(safe);
        return r;
}

int ctl_format_reply(const char *command, json_object *status, double now, json_object **reply)
{
        bool is_status = strcmp(command, "status") == 0;
        struct buf text;
        int r;

        *reply = NULL;
        if (!is_status && strcmp(command, "checks") != 0)
                return -EINVAL;
        buf_init(&text);
        r = is_status ? ctl_format_status(status, now, &text) : ctl_format_checks(status, &text);
        json_object *o = r < 0 ? NULL : json_object_new_object();
        if (!o) {
                buf_free(&text);
                return r < 0 ? r : -ENOMEM;
        }
        json_object_object_add(o, "ok", json_object_new_boolean(1));
        json_object *checks = member(status, "checks");
        if (!is_status && checks)
                json_object_object_add(o, "checks", json_object_get(checks));
        json_object_object_add(o, "text", json_object_new_string(text.data ? text.data : ""));
        buf_free(&text);
        *reply = o;
        return 0;
}
