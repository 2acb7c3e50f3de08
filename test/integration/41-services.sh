#!/usr/bin/env bash
# Services against real FRR (issue 15): two hosts, two services with crossed roles (h1 primary for web,
# h2 primary for db). A web failure on h1 moves web alone, db's paths at the route servers are not even
# re-advertised; failback_delay holds web's return; a flapping check is damped; on_stop = "withdraw"
# moves the traffic off before the process exits.
# TEST_TIMEOUT=600
. "$(dirname "$0")/lib.sh"
WEB4=198.51.100.10/32
WEB6=2001:db8:e001:1b8c::/64
DB4=198.51.100.11/32
PY=/usr/bin/python3

# A conf.d check NAME for host NODE whose exit code is the content of $T/NODE.NAME.flag.
flag_check() {
	local node=$1 name=$2 dir=$T/$1.conf.d
	mkdir -p "$dir"; chmod 755 "$dir"
	echo 0 > "$T/$node.$name.flag"
	printf '#!/bin/sh\ncode=$(cat %s 2>/dev/null || echo 3)\necho "%s $code"\nexit "$code"\n' \
		"$T/$node.$name.flag" "$name" > "$dir/$name"
	chmod 755 "$dir/$name"
}
flag() { echo "$3" > "$T/$1.$2.flag.new" && mv -f "$T/$1.$2.flag.new" "$T/$1.$2.flag"; }

# failoverd.conf for NODE: the lab's, with services instead of the top-level role and shared_ips.
services_conf() {
	local node=$1 web_role=$2 db_role=$3 extra=${4:-}
	flag_check "$node" web
	flag_check "$node" db
	flag_check "$node" disk
	lab_failoverd_conf "$node" primary "$T/$node.conf.d" | sed '/^role = /d; /^shared_ips = /d' |
		sed 's|^\(  directory = .*\)$|\1\n  interval = 0.25;\n  rise = 1;\n  fall = 1;|' |
		sed 's|^\(  config = .*\)$|\1\n  timeout = 30;|'
	cat <<-EOF
		services = (
		  { name = "web"; shared_ips = ["${WEB4%/32}", "$WEB6"]; role = "$web_role"; checks = ["web"];
		    failback_delay = 3; $extra },
		  { name = "db"; shared_ips = ["${DB4%/32}"]; role = "$db_role"; checks = ["db"]; }
		);
		on_stop = "withdraw";
	EOF
}

# lastUpdate (epoch seconds) of NODE's path for PREFIX at route server RS.
path_epoch() {
	"$PY" -I - "$1" "$2" "$3" "$LAB_SH" <<-'EOF'
		import json, subprocess, sys
		_, rs, prefix, node, lab = sys.argv
		afi = "ipv6" if ":" in prefix else "ipv4"
		out = subprocess.run([lab, "vty", rs, f"show bgp {afi} unicast {prefix} json"], capture_output=True, text=True).stdout
		nodes = {"11": "h1", "12": "h2"}
		for p in json.loads(out or "{}").get("paths", []):
		    peer = p.get("peer", {}).get("peerId", "").replace(".", ":").rsplit(":", 1)[-1]
		    if nodes.get(peer) == node:
		        print(p.get("lastUpdate", {}).get("epoch", "none")); break
		else:
		    print("none")
	EOF
}

# bgpd prints lastUpdate as time(NULL) - (monotime(NULL) - uptime), each in whole seconds read at two
# instants: the same path reads as V or V+1, and V-1 when the monotonic second turns between the two calls.
# A path is the same when it moved by at most JITTER; a re-advertisement is told apart when it lands more
# than 2 * JITTER seconds after the baseline.
JITTER=2
# Whether db's paths at rs1 (h1's, h2's) have the lastUpdate of the baseline db_h1 db_h2.
db_same() {
	local a=$1 b=$2
	[ "$a" != none ] && [ "$b" != none ] && [ $((a - db_h1)) -le $JITTER ] && [ $((db_h1 - a)) -le $JITTER ] &&
		[ $((b - db_h2)) -le $JITTER ] && [ $((db_h2 - b)) -le $JITTER ]
}
# Asserts that db's paths at rs1 still have the lastUpdate of the baseline (not re-advertised).
same_age() {
	local a b
	a=$(path_epoch rs1 $DB4 h1); b=$(path_epoch rs1 $DB4 h2)
	db_same "$a" "$b" || fail "$1: lastUpdate h1 $a h2 $b, before $db_h1 $db_h2"
	ok "$1 (h1 $a h2 $b, before $db_h1 $db_h2)"
}

lab_up 2
for h in h1 h2; do lab_lo_addr $h add $DB4; done
services_conf h1 primary secondary > "$T/h1.conf"
services_conf h2 secondary primary > "$T/h2.conf"
start_failoverd h1
start_failoverd h2

say "(a) active/active: h1 carries web, h2 carries db"
expect_best $WEB4 "h1 65000:1" 30
expect_best $WEB6 "h1 65000:1" 20
expect_best $DB4 "h2 65000:1" 20
wait_path rs1 $DB4 "^h1 65000:2"
wait_path rs1 $WEB4 "^h2 65000:2"
ok "both hosts carry traffic"
st=$("$FAILOVERCTL" -c "$T/h1.conf" status)
grep -q '^  web: PRIMARY (role primary)' <<<"$st" || fail "no web block in status: $st"
grep -q '^  db: SECONDARY (role secondary)' <<<"$st" || fail "no db block in status: $st"
grep -q '^    addresses: 198.51.100.10/32, 2001:db8:e001:1b8c::/64$' <<<"$st" || fail "web's addresses: $st"
grep -q '^    checks: disk (up), web (up)$' <<<"$st" || fail "web's checks (its own and the host-wide disk): $st"
ok "failoverctl status shows one block per service"
assert_eq "$("$FAILOVERCTL" -c "$T/h1.conf" status --json | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["schema"], d["role"], " ".join(s["name"]+":"+s["state"] for s in d["services"]))')" \
	"2 mixed web:primary db:secondary" "status --json services[]"

say "(b) web's check fails on h1: web alone moves, db's paths are not touched"
# The baseline: db's paths at rs1 as they are once they stopped changing. Right after the sessions came up
# a host may still send its path again (seen as a flake: same_age failed right after web's withdrawal, in a
# fast root that reached this line within a second of "session up"): the baseline counts only when the
# paths kept it for 2 * JITTER + 1 s; else it is taken again.
db_h1=$(path_epoch rs1 $DB4 h1); db_h2=$(path_epoch rs1 $DB4 h2)
for try in 1 2 3 4 5; do
	[ "$db_h1" != none ] && [ "$db_h2" != none ] || fail "db paths at rs1: h1 $db_h1, h2 $db_h2"
	wait_until 10 "$((2 * JITTER + 1)) s past db's lastUpdate" \
		'[ "$(date +%s)" -gt "$(( (db_h1 > db_h2 ? db_h1 : db_h2) + 2 * JITTER ))" ]' 0.1
	a=$(path_epoch rs1 $DB4 h1); b=$(path_epoch rs1 $DB4 h2)
	db_same "$a" "$b" && break
	say "db's paths at rs1 changed while waiting (h1 $db_h1 -> $a, h2 $db_h2 -> $b): a new baseline"
	[ $try = 5 ] && fail "db's paths at rs1 kept changing before web's failure: h1 $a, h2 $b"
	db_h1=$a db_h2=$b
done
flag h1 web 2
expect_best $WEB4 "h2 65000:2" 10
expect_best $WEB6 "h2 65000:2" 10
wait_log h1 'web: primary -> withdrawn \(check web failed: exit 2: web 2\)'
grep -qE 'db: (primary|secondary|demoted|withdrawn) -> ' "$T/h1.log" && fail "db changed state on h1"
expect_best $DB4 "h2 65000:1" 2
same_age "db's paths at rs1 keep their age (not re-advertised)"
wait_log h1 'fast path: secondary \(web withdrawn, db secondary\) in effect'
ok "one fast path for web alone"

say "(c) recovery with failback_delay = 3: web returns after 3 s, not before"
flag h1 web 0; t0=$EPOCHREALTIME
ms=$(lab_wait_bestpath rs1 $WEB4 "h1 65000:1" 30 "$t0") || fail "web did not return to h1"
[ "$ms" -ge 3000 ] || fail "web returned to h1 after $ms ms, before its failback delay of 3 s"
ok "web back on h1 at rs1 after $ms ms (failback_delay = 3 s)"
expect_best $WEB4 "h1 65000:1" 10
# In failoverd's own log: from the check's recovery to the decision.
up=$(grep 'check web: up' "$T/h1.log" | tail -1 | cut -d' ' -f1)
back=$(grep 'web: withdrawn -> primary' "$T/h1.log" | tail -1 | cut -d' ' -f1)
held=$("$PY" -c 'import sys; f=lambda t: sum(float(x)*m for x, m in zip(t.split(":"), (3600, 60, 1))); print(round((f(sys.argv[2])-f(sys.argv[1]))*1000))' "$up" "$back")
[ "$held" -ge 3000 ] || fail "failoverd decided the failback $held ms after the check recovered"
echo "MEASURED web failback: decided $held ms after the check recovered, at rs1 $ms ms after the flag (failback_delay 3 s, rise 1 x 0.25 s)"
same_age "db's paths still untouched"

say "(d) web's check flapping every 0.5 s (warning/ok): damped, web held demoted on h1"
sed -i 's|failback_delay = 3; |failback_delay = 0; flap_limit = 4; flap_window = 20; flap_hold = 40; |' "$T/h1.conf"
full=$(grep -c 'full apply: ' "$T/h1.log")
kill -HUP "$PID_h1"
wait_until 10 "the reload's full apply" '[ "$(grep -c "full apply: " "$T/h1.log")" -gt "$full" ]' || fail "no full apply after the reload"
grep -q 'reload failed' "$T/h1.log" && fail "reload refused: $(grep 'reload failed' "$T/h1.log")"
expect_best $WEB4 "h1 65000:1" 10
( for i in $(seq 16); do flag h1 web 1; sleep 0.5; flag h1 web 0; sleep 0.5; done ) &
FLAPPER=$!
PIDS+=($FLAPPER)
wait_log h1 'web: flapping: [0-9]+ state changes within 20 s; held demoted for 40 s' 30
t_damp=$(now)
ok "damping logged with the count: $(grep 'web: flapping' "$T/h1.log" | head -1 | cut -d' ' -f3-)"
ups=$(grep -c 'web: demoted -> primary' "$T/h1.log" || true)
# While the check keeps flapping (well within the 40 s hold), the traffic stays on h2.
n=0
while [ $n -lt 3 ] || [ "$(ms_since "$t_damp")" -lt 5000 ]; do
	b=$(lab_bestpath rs1 $WEB4)
	[ "$b" = "h2 65000:2" ] || fail "web's best path moved back while damped: $b"
	n=$((n + 1)); sleep 0.3
done
assert_eq "$(grep -c 'web: demoted -> primary' "$T/h1.log" || true)" "$ups" "no return to primary while damped ($n reads)"
assert_eq "$(grep -c 'web: flapping' "$T/h1.log")" 1 "logged once"
kill "$FLAPPER" 2>/dev/null || true
wait "$FLAPPER" 2>/dev/null || true
flag h1 web 0
expect_best $WEB4 "h1 65000:1" 60
ok "web returns once the hold is over and the check is up"

say "(e) drain one service"
# A typo never drains the host: a bare word is a usage error, an unknown service is refused.
rc=0; "$FAILOVERCTL" -c "$T/h1.conf" drain wbe >"$T/out" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q "unexpected argument 'wbe'" "$T/out" || fail "drain wbe: exit $rc: $(cat "$T/out")"
rc=0; "$FAILOVERCTL" -c "$T/h1.conf" drain --service wbe --reason maintenance >"$T/out" 2>&1 || rc=$?
[ $rc = 1 ] && grep -q "no such service: wbe" "$T/out" || fail "drain --service wbe: exit $rc: $(cat "$T/out")"
assert_eq "$("$FAILOVERCTL" -c "$T/h1.conf" status --json | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["drained"], [s["drained"] for s in d["services"]])')" \
	"False [False, False]" "nothing drained by the typos"
grep -q 'drain requested by uid' "$T/h1.log" && fail "a typo reached the daemon as a drain"
ok "drain wbe (exit 2) and drain --service wbe (exit 1) change nothing"
"$FAILOVERCTL" -c "$T/h1.conf" drain --service web --reason maintenance >"$T/out"
grep -q '^drained: web: maintenance (now web withdrawn (drained), db secondary)' "$T/out" || fail "drain web: $(cat "$T/out")"
expect_best $WEB4 "h2 65000:2" 10
[ -f "$(lab_host_conf h1 state_dir)/drain.web" ] || fail "the drain of web is not persisted"
expect_best $DB4 "h2 65000:1" 2
wait_path rs1 $DB4 "^h1 65000:2"
"$FAILOVERCTL" -c "$T/h1.conf" resume --service web >"$T/out"
expect_best $WEB4 "h1 65000:1" 10
[ -f "$(lab_host_conf h1 state_dir)/drain.web" ] && fail "drain.web left after resume"
ok "drain web / resume web move web alone"

say "(f) on_stop = \"withdraw\": the traffic moves off before the process exits"
kill -TERM "$PID_h1"
rc=0; wait "$PID_h1" || rc=$?
assert_eq $rc 0 "exit status after SIGTERM"
grep -q 'stopping: every service is withdrawn in bgpd' "$T/h1.log" || fail "no withdrawal before exit"
run=$(lab_vty h1 enable "show running-config")
grep -E 'network (198\.51\.100\.1[01]/32|2001:db8:e001:1b8c::/64)' <<<"$run" && fail "bgpd still has network statements after the exit"
ok "bgpd had withdrawn every service when failoverd exited"
expect_best $WEB4 "h2 65000:2" 10
expect_best $DB4 "h2 65000:1" 10
wait_path rs1 $WEB4 "^h1 " !
wait_path rs1 $DB4 "^h1 " !
ok "all done"
