#!/usr/bin/env bash
# frr.vtysh hangs (issue 7): a wrapper that sleeps for ever while a flag file exists. Every call is killed
# at frr.timeout (2.5 s: frr-reload.py alone takes about 1 s here, so 1 s fails every full apply), the loop
# keeps running (watchdog pings, check runs), and once vtysh works again the pending state is applied.
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32

lab_up 1
PS=$(lab_pathspace h1)
cat > "$T/vtysh" <<EOS
#!/bin/sh
# vtysh for the test: hangs while $T/hang exists, else the real one.
echo "\$\$ \$*" >> "$T/vtysh.calls"
[ -e "$T/hang" ] && exec sleep 1000
exec /usr/bin/vtysh "\$@"
EOS
chmod 755 "$T/vtysh"
lab_failoverd_conf h1 primary "$(make_flag_check h1)" |
	sed -e 's|^\(  directory = .*;\)$|\1 interval = 0.5; rise = 1; fall = 1;|' \
	    -e "s|^\(  config = .*;\)$|\1 vtysh = \"$T/vtysh\"; timeout = 2.5;|" > "$T/h1.conf"
grep -q "vtysh = \"$T/vtysh\"" "$T/h1.conf" || fail "config edit failed"
start_notify_listener
NOTIFY_SOCKET=$NOTIFY_SOCK WATCHDOG_USEC=1000000 start_failoverd h1 -v
wait_notify '^READY=1' 20
expect_best $V4 "h1 65000:1" 20
# Shows the daemon's log when the test failed (status \$1).
show_log() { [ "$1" = 0 ] || [ ! -f "$T/h1.log" ] || { grep -v 'check flag\|^%' "$T/h1.log" || true; } | tail -40; }
# Own steps first, then lib.sh's cleanup with the test's status in $? (set +e: a failing step must
# not end the trap before cleanup).
trap 'rc_=$?; set +e; show_log $rc_; (exit $rc_); cleanup' EXIT
# Hung calls still running: a "sleep 1000" in h1's namespace not yet told to die. A call killed at its
# timeout can outlive its leader for a moment on a loaded machine (the SIGTERM/SIGKILL pending until it
# runs): that one is over, not a second call in flight.
sleeps() {
	local n=0 p pend
	for p in $(ip netns pids "$(lab_ns h1)"); do
		[ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "sleep 1000 " ] || continue
		pend=$(awk '/^(SigPnd|ShdPnd):/ { printf "%s ", $2 }' "/proc/$p/status" 2>/dev/null) || continue
		for m in $pend; do (( (16#$m & 0x4100) != 0 )) && continue 2; done
		n=$((n + 1))
	done
	echo $n
}

# The fast path talks to bgpd's vty socket, not vtysh: what hangs is a full apply (vtysh -C, frr-reload.py).
# A reload that changes frr.conf (only FRR's hostname line) starts one; the check's withdrawal then waits
# behind it.
say "vtysh hangs; a reload's full apply and then the check's withdrawal cannot be applied"
touch "$T/hang"
sed -i 's/^hostname = "\(.*\)";/hostname = "\1b";/' "$T/h1.conf"
grep -q '^hostname = ".*b";' "$T/h1.conf" || fail "config edit failed"
kill -HUP "$PID_h1"
wait_log h1 'full apply to primary started' 20
set_flag h1 2; t0=$(now)
wait_log h1 'primary -> withdrawn'
wait_log h1 'timed out after 2.5 s' 5
ok "the hanging call was killed at frr.timeout"
w0=$(grep -c '^WATCHDOG=1' "$T/notify.log"); c0=$(grep -c 'check flag: ' "$T/h1.log"); maxs=0
for _ in $(seq 40); do s=$(sleeps); [ "$s" -gt $maxs ] && maxs=$s; sleep 0.2; done
w1=$(grep -c '^WATCHDOG=1' "$T/notify.log"); c1=$(grep -c 'check flag: ' "$T/h1.log")
tmo=$(grep -c 'timed out after 2.5 s' "$T/h1.log")
echo "MEASURED vtysh hanging for 8 s: $((w1 - w0)) WATCHDOG=1 and $((c1 - c0)) check runs in 8 s, $tmo calls killed at 2.5 s, at most $maxs hung call(s) at once"
[ $((w1 - w0)) -ge 12 ] || fail "watchdog pings stopped ($((w1 - w0)) in 8 s at WATCHDOG_USEC=1 s)"
[ $((c1 - c0)) -ge 10 ] || fail "checks stopped running ($((c1 - c0)) in 8 s at interval 0.5 s)"
[ "$maxs" -le 1 ] || fail "$maxs hung vtysh calls at once"
[ "$tmo" -ge 2 ] || fail "the failed apply was not retried"
ok "the loop kept running: watchdog and checks continue, one bounded call at a time"
kill -0 "$PID_h1" || fail "failoverd died"
grep -q 'withdrawn; checks 0/1 up.*apply failed, retrying' "$T/notify.log" && ok "STATUS= says the apply is failing"
lab_wait_bestpath rs1 $V4 "h1 65000:1" 1 >/dev/null || fail "the route server lost h1 although nothing was applied"
ok "nothing was applied meanwhile: the route server still has h1 primary"

say "vtysh works again: the withdrawal is applied"
rm -f "$T/hang"; t1=$(now)
expect_best $V4 none 40
echo "MEASURED vtysh back to the pending withdrawal applied: $(ms_since "$t1") ms (retry backoff 0.5 s doubling)"
[ "$(sleeps)" = 0 ] || fail "hung vtysh calls left behind"
ok "no hung call left"
set_flag h1 0
expect_best $V4 "h1 65000:1" 15
ok "and the fast path works again"
