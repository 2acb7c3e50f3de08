/* The status JSON, the metrics file and STATUS=, all rendered from one snapshot of the daemon's state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"
#include "metrics.h"
#include "snapshot.h"

void snapshot_clear(struct snapshot *s)
{
        free(s->checks);
        free(s->services);
        free(s->prefixes);
        free(s->peers);
        free(s->addresses);
        memset(s, 0, sizeof(*s));
}

/* A JSON string, or JSON null for NULL. */
static json_object *json_string_or_null(const char *s)
{
        return s ? json_object_new_string(s) : NULL;
}

static const char *community_of(const struct snapshot *s)
{
        /* Services in different states announce with different communities: none is the host's. */
        for (size_t i = 0; i < s->n_services; i++)
                if (s->services[i].target != s->target)
                        return NULL;
        switch (s->target) {
        case STATE_PRIMARY:
                return s->conf->bgp.community_primary;
        case STATE_SECONDARY:
        case STATE_DEMOTED:
                return s->conf->bgp.community_secondary;
        default:
                return NULL;
        }
}

static double age_of(uint64_t mono)
{
        return mono ? (double)(clock_mono_usec() - mono) / 1e6 : -1;
}

static bool last_apply_ok(const struct snapshot *s)
{
        return !s->last_apply_error && s->applied != STATE_INVALID;
}

/* The services' role when they share one, else "mixed" (active/active). */
static const char *host_role(const struct snapshot *s)
{
        for (size_t i = 1; i < s->conf->n_services; i++)
                if (s->conf->services[i].role != s->conf->services[0].role)
                        return "mixed";
        return role_name(s->conf->n_services ? s->conf->services[0].role : s->conf->role);
}

static const char *community_of_state(const struct snapshot *s, enum fo_state st)
{
        return st == STATE_PRIMARY ? s->conf->bgp.community_primary
               : st == STATE_SECONDARY || st == STATE_DEMOTED ? s->conf->bgp.community_secondary : NULL;
}

/* services[]: one object per service, in configuration order (docs/control-protocol.md). */
static json_object *services_json(const struct snapshot *s)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < s->n_services; i++) {
                const struct snapshot_service *v = &s->services[i];
                json_object *e = json_object_new_object();
                json_object_object_add(e, "name", json_object_new_string(v->name));
                json_object_object_add(e, "role", json_object_new_string(role_name(v->conf->role)));
                json_object_object_add(e, "state", json_object_new_string(v->target == STATE_INVALID ? "starting"
                                                                                                 : state_name(v->target)));
                json_object_object_add(e, "applied",
                                       json_string_or_null(v->applied == STATE_INVALID ? NULL : state_name(v->applied)));
                json_object_object_add(e, "community", json_string_or_null(community_of_state(s, v->target)));
                json_object_object_add(e, "reason", json_object_new_string(v->reason ? v->reason : ""));
                json_object_object_add(e, "since", v->since > 0 ? json_object_new_double(v->since) : NULL);
                json_object_object_add(e, "drained", json_object_new_boolean(v->drained));
                json_object_object_add(e, "drain_reason", json_string_or_null(v->drain_reason));
                json_object_object_add(e, "hold", json_string_or_null(v->hold));
                json_object_object_add(e, "hold_seconds", v->hold ? json_object_new_double(v->hold_seconds) : NULL);
                json_object_object_add(e, "transitions", json_object_new_int((int)v->transitions));
                json_object *ips = json_object_new_array();
                for (size_t k = 0; k < v->conf->n_prefixes; k++)
                        json_object_array_add(ips, json_object_new_string(v->conf->prefixes[k].text));
                json_object_object_add(e, "shared_ips", ips);
                json_object *checks = json_object_new_array();
                for (size_t k = 0; k < s->n_checks; k++)
                        if (conf_check_guards(s->conf, i, s->checks[k].name))
                                json_object_array_add(checks, json_object_new_string(s->checks[k].name));
                json_object_object_add(e, "checks", checks);
                json_object_array_add(a, e);
        }
        return a;
}

/* addresses: what failoverd puts on lo (addresses = "manage"); a state is claimed only while lo is watched. */
static json_object *addresses_json(const struct snapshot *s)
{
        bool managed = s->conf->addresses_manage, watching = managed && s->addresses_managed && s->addresses_watching;
        json_object *o = json_object_new_object(), *lo = json_object_new_array();
        json_object_object_add(o, "managed", json_object_new_boolean(managed));
        json_object_object_add(o, "watching", json_object_new_boolean(watching));
        json_object_object_add(o, "missing", watching ? json_object_new_int64((int64_t)s->addresses_missing) : NULL);
        json_object_object_add(o, "restored", managed && s->addresses_managed
                                                      ? json_object_new_int64((int64_t)s->addresses_restored) : NULL);
        /* Managed but no watch at all (a reload could not open rtnetlink): each prefix, its state unknown. */
        size_t n = !managed ? 0 : s->addresses_managed ? s->n_addresses : s->conf->n_shared_ips;
        for (size_t i = 0; i < n; i++) {
                const struct snapshot_address *a = s->addresses_managed ? &s->addresses[i] : NULL;
                int present = a && watching ? a->present : -1;
                json_object *e = json_object_new_object();
                json_object_object_add(e, "prefix", json_object_new_string(a ? a->prefix : s->conf->shared_ips[i].text));
                json_object_object_add(e, "address", json_string_or_null(a ? a->address : NULL));
                json_object_object_add(e, "state", json_object_new_string(present < 0 ? "unknown"
                                                                           : present ? "present" : "missing"));
                json_object_object_add(e, "restored", a ? json_object_new_int64((int64_t)a->restored) : NULL);
                json_object_object_add(e, "error", json_string_or_null(a ? a->error : NULL));
                json_object_array_add(lo, e);
        }
        json_object_object_add(o, "lo", lo);
        return o;
}

json_object *snapshot_json(const struct snapshot *s)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "schema", json_object_new_int(CTL_STATUS_SCHEMA));
        json_object_object_add(o, "version", json_object_new_string(VERSION));
        json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
        json_object_object_add(o, "hostname", json_object_new_string(s->conf->hostname));
        json_object_object_add(o, "role", json_object_new_string(host_role(s)));
        json_object_object_add(o, "state", json_object_new_string(s->target == STATE_INVALID ? "starting"
                                                                                              : state_name(s->target)));
        json_object_object_add(o, "applied",
                               json_string_or_null(s->applied == STATE_INVALID ? NULL : state_name(s->applied)));
        json_object_object_add(o, "community", json_string_or_null(community_of(s)));
        json_object_object_add(o, "reason", json_object_new_string(s->reason ? s->reason : ""));
        json_object_object_add(o, "since", s->since > 0 ? json_object_new_double(s->since) : NULL);
        json_object_object_add(o, "drained", json_object_new_boolean(s->drained));
        json_object_object_add(o, "drain_reason", json_string_or_null(s->drain_reason));

        json_object *cfg = json_object_new_object();
        json_object_object_add(cfg, "path", json_object_new_string(s->conf_path ? s->conf_path : ""));
        json_object_object_add(cfg, "reload_error", json_string_or_null(s->reload_error));
        json_object_object_add(o, "config", cfg);

        json_object *ips = json_object_new_array();
        for (size_t i = 0; i < s->n_prefixes; i++) {
                const struct snapshot_prefix *p = &s->prefixes[i];
                bool known = p->announcement != ANNOUNCE_UNKNOWN;
                json_object *e = json_object_new_object();
                json_object_object_add(e, "prefix", json_object_new_string(p->prefix));
                if (i < s->conf->n_shared_ips)
                        json_object_object_add(e, "service",
                                               json_object_new_string(s->conf->services[conf_prefix_service(s->conf, i)].name));
                json_object_object_add(e, "assigned", p->assigned >= 0 ? json_object_new_boolean(p->assigned) : NULL);
                /* announced: bgpd sends it to a route server, not merely has the network statement. */
                json_object_object_add(e, "announced",
                                       known ? json_object_new_boolean(p->announcement == ANNOUNCE_ANNOUNCED) : NULL);
                json_object_object_add(e, "announcement",
                                       json_string_or_null(known ? bgpd_announcement_name(p->announcement) : NULL));
                json_object_object_add(e, "configured", p->configured >= 0 ? json_object_new_boolean(p->configured)
                                                                           : NULL);
                json_object_object_add(e, "not_announced_why", json_string_or_null(p->why[0] ? p->why : NULL));
                json_object_object_add(e, "route_servers_sent", known ? json_object_new_int((int)p->sent_to) : NULL);
                json_object_object_add(e, "route_map", json_string_or_null(p->route_map));
                json_object_array_add(ips, e);
        }
        json_object_object_add(o, "shared_ips", ips);
        json_object_object_add(o, "addresses", addresses_json(s));

        json_object *checks = json_object_new_array();
        for (size_t i = 0; i < s->n_checks; i++) {
                const struct check_state *st = s->checks[i].state;
                const struct check_result *r = s->checks[i].result;
                const struct check_conf *cc = s->checks[i].conf;
                json_object *e = json_object_new_object();
                json_object_object_add(e, "name", json_object_new_string(s->checks[i].name));
                json_object_object_add(e, "health", json_object_new_string(health_name(st->health)));
                json_object_object_add(e, "severity", json_object_new_string(severity_name(st->severity)));
                json_object_object_add(e, "last_exit", r->runs ? json_object_new_string(r->description) : NULL);
                json_object_object_add(e, "message", r->runs ? json_object_new_string(r->message) : NULL);
                json_object_object_add(e, "last_run_age", r->end_usec ? json_object_new_double(age_of(r->end_usec))
                                                                      : NULL);
                json_object_object_add(e, "duration", r->runs ? json_object_new_double(r->duration_usec / 1e6) : NULL);
                json_object_object_add(e, "interval", json_object_new_double(cc->interval));
                json_object_object_add(e, "rise", json_object_new_int(cc->rise));
                json_object_object_add(e, "fall", json_object_new_int(cc->fall));
                json_object_object_add(e, "ok_streak", json_object_new_int(st->ok_streak));
                json_object_object_add(e, "bad_streak", json_object_new_int(st->bad_streak));
                json_object_array_add(checks, e);
        }
        json_object_object_add(o, "checks", checks);

        json_object *rss = json_object_new_array();
        for (size_t i = 0; i < s->n_peers; i++) {
                const struct bgpd_peer *p = s->peers[i].peer;
                json_object *e = json_object_new_object();
                json_object_object_add(e, "address", json_object_new_string(s->peers[i].address));
                json_object_object_add(e, "state", json_string_or_null(p ? p->state : NULL));
                json_object_object_add(e, "up", json_object_new_boolean(p && p->established));
                json_object_object_add(e, "uptime", p && p->established ? json_object_new_double(p->uptime_msec / 1e3)
                                                                        : NULL);
                json_object_object_add(e, "prefixes_sent", p ? json_object_new_int64((int64_t)p->prefixes_sent) : NULL);
                json_object_object_add(e, "last_reset", json_string_or_null(p && p->last_reset[0] ? p->last_reset : NULL));
                char why[256];
                bgpd_peer_why(p, why, sizeof(why));
                json_object_object_add(e, "why", json_string_or_null(why[0] ? why : NULL));
                json_object_object_add(e, "bfd", json_string_or_null(p && p->bfd[0] ? p->bfd : NULL));
                json_object_array_add(rss, e);
        }
        json_object_object_add(o, "route_servers", rss);

        json_object *b = json_object_new_object();
        json_object_object_add(b, "reachable", s->bgpd_known ? json_object_new_boolean(s->bgpd_reachable) : NULL);
        json_object_object_add(b, "busy", json_object_new_boolean(s->bgpd_busy));
        json_object_object_add(b, "busy_why", json_string_or_null(s->bgpd_busy ? s->bgpd_busy_why : NULL));
        json_object_object_add(b, "slow_polls", json_object_new_int64((int64_t)s->bgpd_slow_polls));
        json_object_object_add(b, "revalidations", json_object_new_int64((int64_t)s->revalidations));
        json_object_object_add(b, "established", json_object_new_int((int)s->established));
        json_object_object_add(b, "total", json_object_new_int((int)s->n_peers));
        /* true: verified; false: the last attempt failed and last_apply_error says why; null: nothing verified
         * and nothing failed yet (starting, applying, waiting for bgpd: "apply" says which). */
        json_object_object_add(b, "last_apply_ok", s->last_apply_error ? json_object_new_boolean(0) :
                                                   s->applied != STATE_INVALID ? json_object_new_boolean(1) : NULL);
        json_object_object_add(b, "apply", json_string_or_null(s->queue));
        json_object_object_add(b, "last_apply_error", json_string_or_null(s->last_apply_error));
        json_object_object_add(b, "last_apply_ms", json_object_new_double(s->last_apply_usec / 1000.0));
        json_object_object_add(o, "bgpd", b);
        json_object_object_add(o, "transitions", json_object_new_int((int)s->transitions));
        json_object_object_add(o, "services", services_json(s));
        return o;
}

int snapshot_metrics(const struct snapshot *s, struct buf *out)
{
        struct metrics_check *mc = calloc(s->n_checks + 1, sizeof(*mc));
        struct metrics_peer *mp = calloc(s->n_peers + 1, sizeof(*mp));
        struct metrics_prefix *mx = calloc(s->n_prefixes + 1, sizeof(*mx));
        int r = -ENOMEM;

        if (!mc || !mp || !mx)
                goto out;
        for (size_t i = 0; i < s->n_checks; i++) {
                const struct check_result *cr = s->checks[i].result;
                mc[i] = (struct metrics_check){
                        .name = s->checks[i].name,
                        .health = s->checks[i].state->health,
                        .severity = s->checks[i].state->severity,
                        .duration_seconds = cr->duration_usec / 1e6,
                        .last_exit = cr->exited ? cr->status : -1,
                        .runs = cr->runs,
                };
        }
        for (size_t i = 0; i < s->n_peers; i++) {
                const struct bgpd_peer *p = s->peers[i].peer;
                mp[i] = (struct metrics_peer){
                        .address = s->peers[i].address,
                        .up = p && p->established,
                        .uptime_seconds = p && p->established ? p->uptime_msec / 1e3 : 0,
                        .prefixes_sent = p ? p->prefixes_sent : 0,
                        .bfd = p && p->bfd[0] ? p->bfd : NULL,
                        .state = p && p->state[0] ? p->state : NULL,
                };
        }
        for (size_t i = 0; i < s->n_prefixes; i++) {
                enum bgpd_announcement a = s->prefixes[i].announcement;
                mx[i].prefix = s->prefixes[i].prefix;
                mx[i].announcement = a == ANNOUNCE_UNKNOWN ? NULL : bgpd_announcement_name(a);
        }
        struct metrics_service *ms = calloc(s->n_services + 1, sizeof(*ms));
        for (size_t i = 0; ms && i < s->n_services; i++)
                ms[i] = (struct metrics_service){
                        .name = s->services[i].name,
                        .state = s->services[i].target,
                        .drained = s->services[i].drained,
                        .transitions = s->services[i].transitions,
                        .last_change_timestamp = s->services[i].since,
                };
        struct metrics_snapshot m = {
                .hostname = s->conf->hostname,
                .group = s->conf->group,
                .reload_refused = s->reload_error != NULL,
                .role = s->conf->role,
                .state = s->target,
                .drained = s->drained,
                .transitions = s->transitions,
                .apply_seconds = s->last_apply_usec / 1e6,
                .last_apply_ok = last_apply_ok(s),
                .last_change_timestamp = s->since,
                .checks = mc,
                .n_checks = s->n_checks,
                .peers = mp,
                .n_peers = s->n_peers,
                .shared_unassigned = s->n_unassigned,
                .prefixes = mx,
                .n_prefixes = s->n_prefixes,
                .bgpd_reachable = s->bgpd_known && s->bgpd_reachable,
                .bgpd_busy = s->bgpd_busy,
                .bgpd_slow_polls = s->bgpd_slow_polls,
                .revalidations = s->revalidations,
                .addresses_managed = s->addresses_managed,
                .addresses_missing = s->addresses_missing,
                .addresses_restored = s->addresses_restored,
                .services = ms,
                .n_services = ms ? s->n_services : 0,
        };
        r = metrics_render(&m, out);
        free(ms);
out:
        free(mc);
        free(mp);
        free(mx);
        return r;
}

#define APPEND(out, len, ...) snprintf((out) + strlen(out), (len) - strlen(out), __VA_ARGS__)

void snapshot_status_line(const struct snapshot *s, char *out, size_t len)
{
        size_t up = 0, announced = 0, configured = 0;
        char since[32] = "";

        for (size_t i = 0; i < s->n_checks; i++)
                up += s->checks[i].state->health == HEALTH_UP;
        for (size_t i = 0; i < s->n_prefixes; i++) {
                announced += s->prefixes[i].announcement == ANNOUNCE_ANNOUNCED;
                configured += s->prefixes[i].announcement == ANNOUNCE_CONFIGURED;
        }
        if (s->since > 0) {
                struct tm tm;
                time_t t = (time_t)s->since;
                localtime_r(&t, &tm);
                strftime(since, sizeof(since), " since %H:%M:%S", &tm);
        }
        if (s->summary[0])
                snprintf(out, len, "%s; checks %zu/%zu up", s->summary, up, s->n_checks);
        else
                snprintf(out, len, "%s%s%s; checks %zu/%zu up",
                         s->target == STATE_INVALID ? "starting" : state_name(s->target), s->drained ? " (drained)" : "",
                         since, up, s->n_checks);
        if (!s->bgpd_known)
                APPEND(out, len, "; route servers: not read yet");
        else if (!s->bgpd_reachable)
                APPEND(out, len, "; bgpd unreachable, retrying");
        else
                APPEND(out, len, "; route servers %zu/%zu established", s->established, s->n_peers);
        if (s->bgpd_busy)
                APPEND(out, len, "; bgpd busy (%s, %llu slow polls), retrying", s->bgpd_busy_why,
                       (unsigned long long)s->bgpd_slow_polls);
        if (configured)
                APPEND(out, len, "; %zu prefix%s configured but NOT announced", configured, configured == 1 ? "" : "es");
        else if (announced)
                APPEND(out, len, "; %zu prefix%s announced", announced, announced == 1 ? "" : "es");
        if (s->n_unassigned)
                APPEND(out, len, "; %zu shared address%s not on any interface", s->n_unassigned,
                       s->n_unassigned == 1 ? "" : "es");
        /* With bgpd away the watch's "bgpd unreachable, retrying" says it all. */
        if (s->last_apply_error && !(s->bgpd_known && !s->bgpd_reachable))
                APPEND(out, len, "; apply failed, retrying");
        if (s->stopping)
                APPEND(out, len, "; stopping");
        if (s->reload_error)
                APPEND(out, len, "; reload failed: %s", s->reload_error);
        if (s->drain_save_error)
                APPEND(out, len, "; drain state not saved: %s", s->drain_save_error);
}
