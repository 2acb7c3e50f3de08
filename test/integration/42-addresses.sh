#!/usr/bin/env bash
# addresses = "manage" against real FRR (issue 23.1): h1 starts with nothing on lo and failoverd puts both
# shared addresses there, in the form bgpd needs, before its first apply; an address deleted by hand is back
# within a poll and counted; a stop with on_stop = "withdraw" and addresses_on_stop = "remove" takes them off
# lo only after both route servers have lost h1's path.
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
V6=2001:db8:e001:1b8c::/64
V6_LO=2001:db8:e001:1b8c::1/64

lab_up 2
NS1=$(lab_ns h1)
lab_lo_addr h1 del $V4
lab_lo_addr h1 del $V6_LO
on_lo() { local a; a=$(ip -n "$NS1" -o addr show dev lo); [[ $a == *" $1 "* ]]; }
! on_lo $V4 && ! on_lo $V6_LO || fail "h1's lo still has a shared address"

lab_failoverd_conf h1 primary "$(make_flag_check h1)" |
	sed 's|^\(  router_id = .*\)$|\1\n  poll_interval = 1;|' > "$T/h1.conf"
printf '%s\n' 'addresses = "manage";' 'on_stop = "withdraw";' 'addresses_on_stop = "remove";' \
	"metrics_file = \"$T/h1.prom\";" >> "$T/h1.conf"
lab_failoverd_conf h2 secondary "$(make_flag_check h2)" > "$T/h2.conf"
"$FAILOVERD" --check -c "$T/h1.conf" >/dev/null || fail "h1.conf does not pass --check"
start_failoverd h1
start_failoverd h2

say "(a) failoverd puts the addresses on lo before its first apply"
expect_best $V4 "h1 65000:1" 30
expect_best $V6 "h1 65000:1" 20
on_lo $V4 && on_lo $V6_LO || fail "lo lacks $V4 or $V6_LO: $(ip -n "$NS1" -o addr show dev lo)"
ok "lo has $V4 and $V6_LO (the /64 form bgpd's import check needs)"
first_apply=$(grep -nE 'apply queue: [a-z-]+ -> applying' "$T/h1.log" | head -1 | cut -d: -f1)
for a in $V4 $V6_LO; do
	put=$(grep -nF "shared address $a put on lo" "$T/h1.log" | head -1 | cut -d: -f1)
	[ -n "$put" ] && [ -n "$first_apply" ] && [ "$put" -lt "$first_apply" ] ||
		fail "$a: put on lo at log line '${put:-never}', first apply at line '${first_apply:-never}'"
	ok "$a on lo (log line $put) before the first apply (line $first_apply)"
done

say "(b) an address deleted by hand is back within a poll, logged and counted"
wait_until 5 "the metrics file" 'grep -q "^failoverd_managed_addresses_restored_total 0$" "$T/h1.prom" 2>/dev/null' ||
	fail "restored_total is not 0 at start"
t0=${EPOCHREALTIME/./}; lab_lo_addr h1 del $V4
wait_until 1.5 "$V4 back on h1's lo" 'on_lo $V4' 0.01 || fail "$V4 not back on lo within a poll (1 s)"
echo "MEASURED deleted by hand -> back on lo (seen by a 10 ms poll): $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms"
wait_log h1 "shared address $V4 was removed from lo: putting it back" 5
wait_log h1 "shared address $V4 is back on lo" 5
wait_until 5 "restored_total 1 in the metrics" 'grep -q "^failoverd_managed_addresses_restored_total 1$" "$T/h1.prom"' ||
	fail "metrics: $(grep managed_addresses "$T/h1.prom")"
ok "failoverd_managed_addresses_restored_total 1"
t0=${EPOCHREALTIME/./}; lab_lo_addr h1 del $V6_LO
wait_until 1.5 "$V6_LO back on h1's lo" 'on_lo $V6_LO' 0.01 || fail "$V6_LO not back on lo within a poll (1 s)"
echo "MEASURED deleted by hand (IPv6) -> back on lo (seen by a 10 ms poll): $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms"
# failoverctl status says it per address (issue 23.1): each on lo, each put back once.
assert_eq "$("$FAILOVERCTL" -c "$T/h1.conf" status --json | /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin)["addresses"]; print(a["managed"], a["watching"], a["missing"], a["restored"], " ".join(e["address"]+":"+e["state"]+":"+str(e["restored"]) for e in a["lo"]))')" \
	"True True 0 2 $V4:present:1 $V6_LO:present:1" "status --json addresses"
st=$("$FAILOVERCTL" -c "$T/h1.conf" status)
[[ $st == *"shared addresses (addresses = manage: 2/2 on lo, 2 put back since start):"* && $st == *"on lo as $V6_LO, put back 1 time"* ]] ||
	fail "failoverctl status does not say the addresses are on lo: $st"
ok "failoverctl status: both on lo, each put back once"
# bgpd announces again (or never stopped): the route servers still pick h1.
expect_best $V4 "h1 65000:1" 10
expect_best $V6 "h1 65000:1" 10

say "(c) stop with withdraw: the route servers lose h1's path before the addresses leave lo"
# The kernel's own time of each removal (ip monitor), against one process polling both route servers' vty
# sockets every few ms for the moment neither has h1's path any more: same clock, no process per sample.
cat > "$T/rs-lost.py" <<-'EOF'
	import sys, time
	sys.path.insert(0, sys.argv[1])
	import frrq
	socks, prefixes = sys.argv[2:4], sys.argv[4:]
	vtys = [frrq.Vty(s) for s in socks]
	left, end = set(prefixes), time.time() + 30
	def has_h1(v, p):
	    j = v.json(f"show bgp {frrq.afi_of(p)} unicast {p} json")
	    if j is None:
	        return True     # no answer is not a lost path
	    return any(frrq.node_of(q.get("peer", {}).get("peerId", "?")) == "h1" for q in j.get("paths", []))
	while left and time.time() < end:
	    for p in sorted(left):
	        if not any([has_h1(v, p) for v in vtys]):
	            print(f"RS-LOST {p} {time.time():.6f}", flush=True)
	            left.discard(p)
	    time.sleep(0.002)
EOF
ip -ts -n "$NS1" monitor address > "$T/monitor.out" 2>&1 &
PIDS+=($!)
RUN_FRR=$(dirname "$(lab_host_conf h1 vty_socket)")
/usr/bin/python3 -I "$T/rs-lost.py" "$ROOT/test/lab" "${RUN_FRR%/*}/$(lab_pathspace rs1)/bgpd.vty" \
	"${RUN_FRR%/*}/$(lab_pathspace rs2)/bgpd.vty" $V4 $V6 > "$T/rs-lost.out" 2>&1 &
POLLER=$!
PIDS+=("$POLLER")
wait_until 5 "the route-server poller" '[ -n "$(lab_paths rs1 $V4)" ]' || true
t0=${EPOCHREALTIME/./}
kill -TERM "$PID_h1"
wait_until 20 "h1 to exit" '! kill -0 "$PID_h1" 2>/dev/null' || fail "h1 did not exit"
rc=0; wait "$PID_h1" || rc=$?
assert_eq "$rc" 0 "h1 exit status"
echo "MEASURED SIGTERM -> exit with withdrawal and removal: $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms"
wait_until 10 "the poller to see both route servers without h1's paths" '! kill -0 "$POLLER" 2>/dev/null' ||
	fail "poller: $(cat "$T/rs-lost.out")"
cat "$T/rs-lost.out" "$T/monitor.out"
for prefix in $V4 $V6; do
	addr=$V4; [ $prefix = $V6 ] && addr=$V6_LO
	lost=$(sed -n "s|^RS-LOST $prefix ||p" "$T/rs-lost.out")
	stamp=$(grep -F "Deleted" "$T/monitor.out" | grep -F " $addr " | head -1 | sed -n 's/^\[\([^]]*\)\].*/\1/p')
	[ -n "$lost" ] || fail "$prefix: the route servers still have h1's path"
	[ -n "$stamp" ] || fail "$addr: ip monitor saw no removal from lo"
	gone=$(date -d "$stamp" +%s.%6N)
	gap=$(( (${gone/./} - ${lost/./}) / 1000 ))
	[ "$gap" -ge 0 ] || fail "$addr left lo ${gap#-} ms before the route servers lost h1's path for $prefix"
	echo "MEASURED $prefix: route servers lost h1's path, then $addr left lo $gap ms later"
	ok "$prefix: both route servers lost h1's path before $addr left lo"
done
! on_lo $V4 && ! on_lo $V6_LO || fail "an address is still on lo after the stop"
wait_log h1 "shared address $V4 removed from lo" 1
wait_log h1 "shared address $V6_LO removed from lo" 1
rm_line=$(grep -n "removed from lo (addresses_on_stop" "$T/h1.log" | head -1 | cut -d: -f1)
wd_line=$(grep -n "applying -> idle (verified" "$T/h1.log" | tail -1 | cut -d: -f1)
[ -n "$wd_line" ] && [ "$wd_line" -lt "$rm_line" ] ||
	fail "removal (line $rm_line) not after the verified withdrawal (line ${wd_line:-none})"
ok "removal after the verified withdrawal in bgpd"
expect_best $V4 "h2 65000:2" 10
