#!/usr/bin/env bash
# SIGTERM in the middle of an apply (issue 11, item 7): TERMS (default 50) stops, alternately into a
# full apply (a start that changes the state) and into a fast path (a state change while running),
# 10-150 ms after its start, or up to the last such apply's duration when that was longer (a loaded
# machine: vtysh alone then takes longer than 150 ms to start). failoverd lets the apply finish and exits 0; then frr.conf is one whole rendering, and
# what both route servers hear for each address family is that same state. About 3 s a stop on an idle
# machine, 17 s on a loaded one (a full apply then takes seconds):
# TEST_TIMEOUT=1800
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
V6=2001:db8:e001:1b8c::/64
TERMS=${TERMS:-50}
DPID=
stop_daemon() {
	[ -z "$DPID" ] || { kill -KILL "$DPID" 2>/dev/null || true; wait "$DPID" 2>/dev/null || true; }
	DPID=
}
# Shows the daemon's log when the test failed (status \$1).
show_log() { [ "$1" = 0 ] || [ ! -f "$T/h1.log" ] || { grep -v 'check flag\|^%' "$T/h1.log" || true; } | tail -40; }
trap 'rc_=$?; set +e; stop_daemon; show_log $rc_; (exit $rc_); cleanup' EXIT

lab_up 1
# frr.timeout bounds the wait at stop, checks.timeout a check run: generous, a loaded machine takes
# seconds for a full apply (38 s measured under a load of 23 on 2 cores).
lab_failoverd_conf h1 primary "$(make_flag_check h1)" |
	sed -e 's|^\(  directory = .*;\)$|\1 interval = 0.2; timeout = 30; rise = 1; fall = 1;|' \
		-e 's|^\(  config = .*;\)$|\1 timeout = 60;|' > "$T/h1.conf"
CONF=$(lab_host_conf h1 frr_config)
declare -A R
for s in primary demoted withdrawn; do
	"$FAILOVERD" -c "$T/h1.conf" --render --state $s > "$T/render.$s"
	R[$s]=$(sha256sum < "$T/render.$s")
done
flag_of() { case $1 in primary) echo 0 ;; demoted) echo 1 ;; *) echo 2 ;; esac; }
other_than() { local s; for s in $(printf '%s\n' primary demoted withdrawn | shuf); do [ "$s" != "$1" ] && { echo "$s"; return; }; done; }
on_disk() { local h s; h=$(sha256sum < "$CONF"); for s in primary demoted withdrawn; do [ "$h" = "${R[$s]}" ] && { echo "$s"; return; }; done; echo none; }
start() { ip netns exec "$(lab_ns h1)" "$FAILOVERD" -v -c "$T/h1.conf" >> "$T/h1.log" 2>&1 & DPID=$!; }
ms_sleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
# Waits for a line matching $2 in the log after line $1.
wait_log_after() {
	local from=$1 pat=$2
	wait_until "${3:-120}" "'$pat' in the log after line $from" 'tail -n +"$((from + 1))" "$T/h1.log" | grep -qE "$pat"' 0.01 ||
		fail "no '$pat' in the log after ${3:-120} s"
}
# Waits until both route servers hear state $1 for both address families (h1's path: community and
# prepending, or none).
SOCKS=()
for rs in rs1 rs2; do SOCKS+=("/var/run/frr/$(lab_pathspace $rs)/bgpd.vty"); done
rs_agree() {
	/usr/bin/python3 - "$ROOT/test/lab" "$1" "${2:-30}" "$V4" "$V6" "${SOCKS[@]}" <<'EOS'
import sys, time
sys.path.insert(0, sys.argv[1])
import frrq
want, timeout, prefixes, socks = sys.argv[2], float(sys.argv[3]), sys.argv[4:6], sys.argv[6:]
def state(vty, prefix):
    for p in frrq.paths(vty, prefix):
        if p["node"] != "h1":
            continue
        if p["community"] == "65000:1":
            return "primary"
        return "demoted" if p["aspath"].split().count("65001") > 1 else "secondary"
    return "withdrawn"
vtys = [frrq.Vty(s) for s in socks]
t0 = time.monotonic()
while True:
    seen = [f"{s.split('/')[-2]} {p}: {state(v, p)}" for v, s in zip(vtys, socks) for p in prefixes]
    if all(x.endswith(": " + want) for x in seen):
        sys.exit(0)
    if time.monotonic() - t0 > timeout:
        print("route servers hear: " + "; ".join(seen) + f" (frr.conf: {want})", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.05)
EOS
}

# The lab's FRR starts without failoverd's configuration: one apply first.
set_flag h1 0; start
wait_log h1 'full apply: [a-z]+ in effect' 300
kill -TERM "$DPID"; wait "$DPID"; DPID=
rs_agree "$(on_disk)" 120 || fail "the first apply did not reach the route servers"

say "$TERMS SIGTERMs into a full apply or a fast path"
fulls=0 fasts=0 t0=$(now) late=0 delays=
declare -A ended
for i in $(seq "$TERMS"); do
	cur=$(on_disk)
	n0=$(wc -l < "$T/h1.log")
	if [ $((i % 2)) = 1 ]; then
		kind=full; new=$(other_than "$cur"); set_flag h1 "$(flag_of "$new")"; start
		wait_log_after "$n0" "full apply to $new started"
		fulls=$((fulls + 1))
	else
		kind=fast; set_flag h1 "$(flag_of "$cur")"; start
		wait_log_after "$n0" "full apply: $cur in effect"
		n0=$(wc -l < "$T/h1.log"); new=$(other_than "$cur"); set_flag h1 "$(flag_of "$new")"
		wait_log_after "$n0" "fast path to $new started"
		fasts=$((fasts + 1))
	fi
	# The window: 10-150 ms, or up to the last measured duration of this kind of apply.
	last=$(grep -a -oE "$( [ $kind = full ] && echo 'full apply' || echo 'fast path'): [a-z]+ in effect after [0-9]+" \
		"$T/h1.log" | tail -1 | grep -oE '[0-9]+$' || true)
	win=150; [ -n "$last" ] && [ "$last" -gt $win ] && win=$last
	d=$((10 + (RANDOM * 32768 + RANDOM) % (win - 9))); delays="$delays $d"
	ms_sleep "$d"
	kill -TERM "$DPID"
	rc=0; wait "$DPID" || rc=$?; DPID=
	[ $rc = 0 ] || fail "term $i ($kind to $new): failoverd exited $rc"
	tail -n +"$((n0 + 1))" "$T/h1.log" | grep -q 'stopping once the .* in flight is done' || late=$((late + 1))
	grep -q 'did not end within frr.timeout' "$T/h1.log" && fail "term $i: the apply was cut at the deadline"
	on=$(on_disk)
	[ "$on" != none ] || { diff "$T/render.primary" "$CONF" | head -20; fail "term $i ($kind): frr.conf is no whole rendering"; }
	[ "$on" = "$new" ] || fail "term $i ($kind to $new): frr.conf renders $on: the apply in flight did not finish"
	rs_agree "$on" || fail "term $i ($kind to $new): the route servers do not hear what frr.conf says"
	ended[$kind-$on]=1
done
secs=$(ms_since "$t0")
echo "MEASURED $TERMS SIGTERMs ($fulls into a full apply, $fasts into a fast path) in $((secs / 1000)) s; $late found the apply already done; ended in: ${!ended[*]}; delays (ms):$delays"
ok "after each SIGTERM the apply in flight had finished: frr.conf and both route servers agree on one state, both address families"
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$T/h1.log" && fail "sanitizer report"
ok "no sanitizer report"
