#!/usr/bin/env bash
# The watch and the control surface against real FRR (issue 5): bgpd restart, hand drift (over bgpd's vty
# socket and through the vtysh fallback), drain persisted across a restart, status --json, the notify hook,
# the metrics textfile, and a shared address missing from every interface.
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
V6=2001:db8:e001:1b8c::/64
CTL() { "$FAILOVERCTL" -c "$T/h1.conf" "$@"; }
json() { CTL status --json | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

lab_up 2
for h in h1 h2; do
	role=primary; [ $h = h2 ] && role=secondary
	lab_failoverd_conf $h $role "$(make_flag_check $h)" > "$T/$h.conf"
done
# The hook records its environment, one line per call.
printf '#!/bin/sh\necho "$FAILOVERD_PREVIOUS $FAILOVERD_STATE $FAILOVERD_ROLE [$FAILOVERD_REASON]" >> %s\n' "$T/notify.out" > "$T/notify.sh"
chmod 755 "$T/notify.sh"
cat >> "$T/h1.conf" <<EOC
notify = "$T/notify.sh";
metrics_file = "$T/h1.prom";
bgp_poll_placeholder = 0;
EOC
sed -i '/bgp_poll_placeholder/d' "$T/h1.conf"
start_failoverd h1
start_failoverd h2
expect_best $V4 "h1 65000:1" 20
lab_wait_established h1 2 20 >/dev/null
wait_log h1 'route server 2001:db8:f0::1: session up'

say "status --json"
# "announced" means bgpd has sent the path to a route server, which the watch reads at its next poll
# (every 2 s) after the sessions came up: wait for it.
announced() { [ "$(json '[s["announced"] for s in d["shared_ips"]]')" = "[True, True]" ]; }
wait_until 20 "both shared addresses announced in status --json" announced 0.2 || true
assert_eq "$(json 'd["state"], d["role"], d["drained"], d["bgpd"]["established"], d["bgpd"]["total"]')" \
	"primary primary False 2 2" "state, role, drained, sessions"
assert_eq "$(json '[c["name"]+":"+c["health"] for c in d["checks"]]')" "['flag:up']" "checks"
assert_eq "$(json '[(s["prefix"], s["assigned"], s["announced"], s["route_map"]) for s in d["shared_ips"]]')" \
	"[('198.51.100.10/32', True, True, 'primary'), ('2001:db8:e001:1b8c::/64', True, True, 'primary')]" "shared addresses"
assert_eq "$(json '[r["up"] for r in d["route_servers"]]')" "[True, True]" "route servers up"
CTL status | tee "$T/status.txt"
grep -q "PRIMARY" "$T/status.txt" && grep -q "route servers: 2/2 established" "$T/status.txt" || fail "status screen"

say "metrics textfile"
metric() { awk -v k="$1" '$1 == k { print $2 }' "$T/h1.prom"; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }
wait_until 5 "failoverd_state primary in the metrics file" 'metric_is "failoverd_state{state=\"primary\"}" 1' 0.1 || true
assert_eq "$(metric 'failoverd_state{state="primary"}')" 1 "failoverd_state primary"
assert_eq "$(metric 'failoverd_route_servers_established')" 2 "failoverd_route_servers_established"
grep -q '^# TYPE failoverd_transitions_total counter' "$T/h1.prom" || fail "metric families lack TYPE"

say "hand drift: no network in vtysh is reverted"
t0=$(now)
lab_vtysh h1 "configure terminal" "router bgp 65001" "address-family ipv4 unicast" "no network $V4" >/dev/null
wait_log h1 'drift: bgpd runs .* re-applying' 10
expect_best $V4 "h1 65000:1" 10
echo "MEASURED hand drift reverted at both route servers after $(ms_since "$t0") ms (poll 2 s)"
say "hand drift: a route-map swapped by hand is reverted"
lab_vtysh h1 "configure terminal" "router bgp 65001" "address-family ipv6 unicast" "network $V6 route-map secondary" >/dev/null
wait_until 10 "a second drift: line" '[ "$(grep -c "drift:" "$T/h1.log")" -ge 2 ]' 0.1 || fail "route-map swap not noticed"
expect_best $V6 "h1 65000:1" 10

say "drain, restart, still drained, resume"
# failoverctl events follows it all: the drain, the state change with its fields, the apply; it ends with
# the daemon.
CTL events --json > "$T/events.json" 2>&1 &
EVENTS=$!
for _ in $(seq 200); do grep -q '"stream":"events"' "$T/events.json" && break; sleep 0.05; done
grep -q '"stream":"events"' "$T/events.json" || { cat "$T/events.json"; fail "failoverctl events did not start"; }
CTL drain --reason "kernel upgrade" | grep -q drained || fail "drain reply"
expect_best $V4 "h2 65000:2" 10
for _ in $(seq 100); do grep -q '"kind":"apply"' "$T/events.json" && break; sleep 0.05; done
grep -q '"kind":"drain","text":"drain requested by uid 0: kernel upgrade"' "$T/events.json" ||
	{ cat "$T/events.json"; fail "no drain record on the event stream"; }
grep -q '"kind":"state","fields":{"state":"withdrawn","previous":"primary","service":"default"},"text":"primary -> withdrawn' \
	"$T/events.json" || { cat "$T/events.json"; fail "no state record on the event stream"; }
grep -q '"kind":"apply"' "$T/events.json" || { cat "$T/events.json"; fail "no apply record on the event stream"; }
/usr/bin/python3 -c '
import json, sys
seq = [json.loads(l)["seq"] for l in open(sys.argv[1]) if l.startswith("{\"seq\"")]
assert seq == list(range(seq[0], seq[0] + len(seq))), seq' "$T/events.json" || fail "event records out of order"
ok "failoverctl events: drain, state and apply records in order ($(grep -c '"seq"' "$T/events.json") records)"
assert_eq "$(json 'd["drained"], d["drain_reason"], d["state"]')" "True kernel upgrade withdrawn" "drained in status"
wait_until 5 "failoverd_state withdrawn in the metrics file" 'metric_is "failoverd_state{state=\"withdrawn\"}" 1' 0.1 ||
	fail "metrics did not follow the state"
ok "metrics follow: failoverd_state{state=\"withdrawn\"} 1, drained $(metric failoverd_drained)"
kill -TERM "$PID_h1"; wait "$PID_h1" || true
rc=0; wait $EVENTS || rc=$?
assert_eq $rc 0 "failoverctl events ends with failoverd"
start_failoverd h1
wait_log h1 'drained since before this start: kernel upgrade'
sleep 2
expect_best $V4 "h2 65000:2" 5
assert_eq "$(json 'd["drained"], d["state"]')" "True withdrawn" "still drained after a restart"
CTL resume | grep -q resumed || fail "resume reply"
expect_best $V4 "h1 65000:1" 10

say "notify hook environment"
wait_until 5 "the resume's notification" 'grep -q "withdrawn primary primary \[all checks up\]" "$T/notify.out"' 0.1 || true
cat "$T/notify.out"
grep -q '^none primary primary \[all checks up\]$' "$T/notify.out" || fail "no start notification"
grep -q '^primary withdrawn primary \[drained: kernel upgrade\]$' "$T/notify.out" || fail "no drain notification"
grep -q '^withdrawn primary primary \[all checks up\]$' "$T/notify.out" || fail "no resume notification"
ok "notify got FAILOVERD_PREVIOUS, _STATE, _ROLE and _REASON for each change"

say "bgpd killed and started again"
lab_stop h1 bgpd
wait_log h1 'bgpd unreachable' 10
expect_best $V4 "h2 65000:2" 15
lab_start h1 --no-config
t0=$(now)
wait_log h1 'bgpd answers again: full apply' 10
echo "MEASURED bgpd answering to failoverd noticing it: $(ms_since "$t0") ms"
t1=$(now)
expect_best $V4 "h1 65000:1" 30
echo "MEASURED failoverd noticing bgpd to both route servers on the primary again: $(ms_since "$t1") ms"
wait_log h1 'route server 2001:db8:f0::1: session down'
wait_log h1 'route server 2001:db8:f0::2: session up' 20

say "vtysh fallback for the watch reverts drift too"
kill -TERM "$PID_h1"; wait "$PID_h1" || true
applies=$(grep -c 'full apply: primary in effect' "$T/h1.log")
FAILOVERD_WATCH=vtysh start_failoverd h1
# The start's own full apply would restore the line without calling it drift: wait for it first.
wait_until 10 "the start's full apply" '[ "$(grep -c "full apply: primary in effect" "$T/h1.log")" -gt "$applies" ]' 0.1 || true
expect_best $V4 "h1 65000:1" 20
n=$(grep -c 'drift:' "$T/h1.log")
lab_vtysh h1 "configure terminal" "router bgp 65001" "address-family ipv4 unicast" "no network $V4" >/dev/null
wait_until 10 "a new drift: line" '[ "$(grep -c "drift:" "$T/h1.log")" -gt "$n" ]' 0.1 || fail "vtysh watch did not notice drift"
expect_best $V4 "h1 65000:1" 10

say "a shared address on no interface"
lab_lo_addr h1 del $V4
wait_log h1 "shared address $V4 is not assigned to any local interface" 10
assert_eq "$(json '[s["assigned"] for s in d["shared_ips"]]')" "[False, True]" "status shows it unassigned"
CTL status | grep -q "not assigned\|NOT ASSIGNED\|unassigned\|not on any interface" || { CTL status; fail "status screen does not say it"; }

say "an IPv6 address as /128 on lo: bgpd announces nothing, failoverd says so"
lab_lo_addr h1 del 2001:db8:e001:1b8c::1/64
lab_lo_addr h1 add 2001:db8:e001:1b8c::1/128
wait_log h1 "shared address $V6: only 2001:db8:e001:1b8c::1/128 on lo is inside it" 10
wait_until 10 "status shows $V6 unassigned" '[ "$(json "[s[\"assigned\"] for s in d[\"shared_ips\"]]")" = "[False, False]" ]' ||
	fail "status shows $(json '[s["assigned"] for s in d["shared_ips"]]'), not both unassigned"
wait_until 10 "metrics count 2 unassigned" '[ "$(metric failoverd_shared_addresses_unassigned)" = 2 ]' ||
	fail "metrics: $(metric failoverd_shared_addresses_unassigned) unassigned, not 2"
lab_lo_addr h1 del 2001:db8:e001:1b8c::1/128
lab_lo_addr h1 add 2001:db8:e001:1b8c::1/64
wait_log h1 "shared address $V6 is assigned again" 10
ok "a /128 inside the /64 counts as not assigned: log, status and metrics say it"
say "a metrics file that cannot be written is logged once, not at every write"
rm -f "$T/h1.prom"; mkdir "$T/h1.prom"         # the rename onto a directory fails at every write
n0=$(wc -l < "$T/notify.out")
for i in 1 2; do
	CTL drain --reason "metrics test" | grep -q drained || fail "drain reply"
	wait_until 10 "the drain's hook" '[ "$(wc -l < "$T/notify.out")" -ge $((n0 + 2 * i - 1)) ]' || fail "no hook for the drain"
	CTL resume | grep -q resumed || fail "resume reply"
	# The hook runs from the same publish as the metrics write: once it has, so has the write.
	wait_until 10 "the resume's hook" '[ "$(wc -l < "$T/notify.out")" -ge $((n0 + 2 * i)) ]' || fail "no hook for the resume"
done
n=$(grep -c "cannot write $T/h1.prom" "$T/h1.log")
echo "MEASURED metrics write failures logged over 4 state changes: $n"
[ "$n" -eq 1 ] || fail "the failing metrics write was logged $n times, not once"
rmdir "$T/h1.prom"
CTL drain --reason "metrics test" | grep -q drained || fail "drain reply"
wait_log h1 "$T/h1.prom written again" 10
CTL resume >/dev/null
ok "a failing metrics write: logged once, and once when it works again"
ok "all done"
