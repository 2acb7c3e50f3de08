#!/usr/bin/env bash
# Nothing on the loop waits on NSS or the disk (issue 11, item 8). An LD_PRELOAD shim makes user lookups
# and fsync in failoverd hang while a flag file exists, like a dead LDAP server or a stalled disk. With
# checks running as nobody every 0.2 s and then a failover whose frr.conf and drain file cannot be synced:
# WATCHDOG=1 keeps coming at its period, failoverctl answers, no user lookup happens at all after start,
# every fsync waits on a thread other than the loop's, and the apply completes once the disk answers.
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
unstall() { rm -f "$T/stall"; }
# Own steps first, then lib.sh's cleanup with the test's status in $? (set +e: a failing step must
# not end the trap before cleanup).
trap 'rc_=$?; set +e; unstall; (exit $rc_); cleanup' EXIT

cc -shared -fPIC -Wall -Werror -o "$T/stall.so" "$ROOT/test/integration/stall.c" || fail "cannot build the shim"
lab_up 1
D=$(make_flag_check h1)
lab_failoverd_conf h1 primary "$D" |
	sed 's|^\(  directory = .*;\)$|\1 interval = 0.2; rise = 1; fall = 1; user = "nobody";|' > "$T/h1.conf"
grep -q 'user = "nobody"' "$T/h1.conf" || fail "config edit failed"
"$FAILOVERD" -c "$T/h1.conf" --check >/dev/null || fail "config refused"

# A NOTIFY_SOCKET listener stamping each datagram with the wall clock (seconds), one line each.
/usr/bin/python3 -u -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        m = s.recv(4096).decode(errors="replace")
        f.write("%.3f %s\n" % (time.time(), m.replace("\n", " | "))); f.flush()
' "$T/notify.sock" "$T/notify.log" </dev/null >/dev/null 2>&1 &
PIDS+=($!)
wait_until 2 "the notify listener's socket" '[ -S "$T/notify.sock" ]' 0.02 || true
# The largest gap (seconds) between WATCHDOG=1 in [FROM, TO], counting from FROM and up to TO.
max_gap() {
	awk -v from="$1" -v to="$2" '/WATCHDOG=1/ && $1 >= from && $1 <= to { if ($1 - last > m) m = $1 - last; last = $1 }
		BEGIN { last = from; m = 0 } END { if (to - last > m) m = to - last; printf "%.2f\n", m }' "$T/notify.log"
}
pings() { awk -v from="$1" -v to="$2" '/WATCHDOG=1/ && $1 >= from && $1 <= to' "$T/notify.log" | wc -l; }
results() { grep -c 'check flag: exit' "$T/h1.log" || true; }

# The sanitizer runtime must come first among the libraries unless told that a preload is fine.
WATCHDOG_USEC=2000000 NOTIFY_SOCKET=$T/notify.sock LD_PRELOAD=$T/stall.so FO_STALL_FLAG=$T/stall \
	FO_STALL_LOG=$T/stall.log ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	start_failoverd h1 -v
wait_notify '^[0-9.]+ READY=1' 30
expect_best $V4 "h1 65000:1" 20
wait_log h1 'check flag: exit 0' 10

say "(a) user lookups hang: the checks as nobody go on, the loop does not wait"
n0=$(results); t0=$(now)
touch "$T/stall"
sleep 8
t1=$(now)
gap=$(max_gap "$t0" "$t1"); n=$(pings "$t0" "$t1"); n1=$(results)
echo "MEASURED NSS hung for 8 s: $n WATCHDOG=1 (WATCHDOG_USEC 2 s), largest gap $gap s; check results $n0 -> $n1"
awk -v g="$gap" 'BEGIN { exit !(g < 4) }' || fail "the watchdog stopped for $gap s while NSS hung"
ok "WATCHDOG=1 kept coming (largest gap $gap s)"
[ $((n1 - n0)) -ge 5 ] || fail "checks as nobody stopped while NSS hung ($n0 -> $n1 results)"
ok "checks as nobody kept running ($((n1 - n0)) results)"
! grep -qE 'getpw|getgrouplist' "$T/stall.log" 2>/dev/null || { cat "$T/stall.log"; fail "failoverd looked users up after start"; }
ok "no user lookup after start (resolved when the configuration was loaded)"

say "(b) the disk hangs too: a failover and a drain are answered, frr.conf waits for the disk"
na=$(grep -c 'in effect' "$T/h1.log" || true); t0=$(now)
set_flag h1 2
wait_log h1 'primary -> withdrawn' 10
expect_best $V4 none 20
ok "the fast path ran (bgpd withdrew) although frr.conf cannot be synced"
wait_until 10 "frr.conf's fsync" 'grep -q " fsync " "$T/stall.log" 2>/dev/null' || fail "frr.conf was never synced"
sock=$(grep -o 'runtime_directory = "[^"]*' "$T/h1.conf" | cut -d'"' -f2)/control
out=$("$FAILOVERCTL" --socket "$sock" status 2>&1) ||
	fail "failoverctl status failed while the disk hung: $out"
ok "failoverctl status answers while frr.conf's fsync hangs"
out=$("$FAILOVERCTL" --socket "$sock" drain --reason "disk test" 2>&1) || fail "failoverctl drain failed while the disk hung: $out"
ok "failoverctl drain answers at once: $out"
sleep 4
t1=$(now)
gap=$(max_gap "$t0" "$t1")
echo "MEASURED disk hung during a failover and a drain: largest WATCHDOG=1 gap $gap s"
awk -v g="$gap" 'BEGIN { exit !(g < 4) }' || fail "the watchdog stopped for $gap s while the disk hung"
ok "WATCHDOG=1 kept coming (largest gap $gap s)"
[ "$(grep -c 'in effect' "$T/h1.log" || true)" = "$na" ] || fail "an apply was counted in effect before frr.conf was on disk"
ok "not in effect before frr.conf is synced"
# Lines: "TIME fsync tid TID main PID": the loop runs on the main thread, whose tid is the pid.
if awk '$2 == "fsync" && $4 == $6' "$T/stall.log" | grep -q .; then
	cat "$T/stall.log"; fail "an fsync ran on the loop's thread"
fi
ok "every fsync waited on a thread of its own ($(grep -c ' fsync ' "$T/stall.log") waits)"

t2=$(now); unstall
wait_log h1 'withdrawn in effect' 30
echo "MEASURED disk back to withdrawn in effect: $(ms_since "$t2") ms"
"$FAILOVERD" -c "$T/h1.conf" --render --state withdrawn > "$T/render.withdrawn"
fconf=$(grep -o 'config = "[^"]*' "$T/h1.conf" | head -1 | cut -d'"' -f2)
cmp -s "$fconf" "$T/render.withdrawn" || fail "frr.conf is not the withdrawn rendering"
sdir=$(grep -o 'state_directory = "[^"]*' "$T/h1.conf" | cut -d'"' -f2)
wait_until 5 "the drain file" '[ -f "$sdir/drain" ]' || true
grep -qx 'disk test' "$sdir/drain" || fail "the drain file does not hold the reason"
ok "frr.conf and the drain file are on disk once it answers"

kill -TERM "$PID_h1"; rc=0; wait "$PID_h1" || rc=$?
[ $rc = 0 ] || fail "failoverd exit $rc"
ok "failoverd stopped cleanly"
