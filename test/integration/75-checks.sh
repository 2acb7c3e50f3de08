#!/usr/bin/env bash
# Hostile checks under the daemon (issue 7): one ignores SIGTERM, one leaves a grandchild holding the pipe,
# one writes 100 MB, one closes stdout and sleeps, one exits before its output is read, and 100 checks
# start at once. Every run is bounded (timeout 1 s, SIGKILL 1 s later), no zombie is left, no descriptor
# leaks, nothing survives failoverd.
. "$(dirname "$0")/lib.sh"
# Shows the daemon's log when the test failed (status \$1).
show_log() { [ "$1" = 0 ] || [ ! -f "$T/h1.log" ] || { grep -v '^%' "$T/h1.log" || true; } | tail -40; }
# Own steps first, then lib.sh's cleanup with the test's status in $? (set +e: a failing step must
# not end the trap before cleanup).
trap 'rc_=$?; set +e; show_log $rc_; (exit $rc_); cleanup' EXIT

lab_up 1
D=$T/h1.conf.d
mkdir -p "$D"; chmod 755 "$D"
mk() { printf '#!/bin/sh\n%s\n' "$2" > "$D/$1"; chmod 755 "$D/$1"; }
mk ignore-term 'trap "" TERM; echo "ignoring TERM"; exec sleep 1000'
mk grandchild 'sleep 1000 & echo "left a grandchild"; exit 0'
mk bigoutput 'head -c 100000000 /dev/zero | tr "\0" x; exit 0'
mk closed-stdout 'exec >&- 2>&-; exec sleep 1000'
mk early-exit 'echo gone; exit 0'
for i in $(seq -w 0 99); do mk "many$i" "echo many $i"; done
lab_failoverd_conf h1 primary "$D" |
	sed 's|^\(  directory = .*;\)$|\1 interval = 2.0; timeout = 1.0; rise = 1; fall = 1;|' > "$T/h1.conf"
"$FAILOVERD" -c "$T/h1.conf" --check | grep -q '105 checks' || fail "the 105 checks are not all found"
start_failoverd h1 -v
t0=$(now)
for c in ignore-term grandchild bigoutput closed-stdout early-exit many00 many99; do wait_log h1 "check $c: " 10; done
ok "every check gave a first result within $(ms_since "$t0") ms"
wait_log h1 'check ignore-term: failed \(timed out after 1.0 s\)' 5
wait_log h1 'check closed-stdout: failed \(timed out after 1.0 s\)' 5
grep -E 'check (grandchild|bigoutput|early-exit): ' "$T/h1.log" | head -3
ok "the TERM-ignoring and the stdout-closing checks were cut at their timeout"

pids_in_ns() { ip netns pids "$(lab_ns h1)"; }
# Processes of the namespace running "sleep 1000" for longer than a check may live (timeout + 1 s + slack).
# (ps exits 1 when a listed process is gone meanwhile.)
old_sleeps() { { pids_in_ns | xargs -r ps -o etimes=,args= -p 2>/dev/null || true; } | awk '$2 == "sleep" && $3 == 1000 && $1 >= 4' | wc -l; }
zombies() { { ps -o pid=,stat= --ppid "$PID_h1" || true; } | awk '$2 ~ /Z/ {print $1}'; }
fds() { ls "/proc/$PID_h1/fd" | wc -l; }
min_fds() { local m=99999 i n; for i in $(seq 30); do n=$(fds); [ "$n" -lt $m ] && m=$n; sleep 0.1; done; echo $m; }
sleep 3
fd0=$(min_fds)
maxz=0; maxold=0; maxfd=0
for _ in $(seq 8); do
	z1=$(zombies); sleep 0.5; z2=$(zombies)
	for z in $z1; do grep -qx "$z" <<<"$z2" && fail "child $z stayed a zombie for 0.5 s"; done
	n=$(old_sleeps); [ "$n" -gt $maxold ] && maxold=$n
	n=$(fds); [ "$n" -gt $maxfd ] && maxfd=$n
	sleep 0.5
done
fd1=$(min_fds)
runs=$(grep -c 'check many00: ' "$T/h1.log" || true)
echo "MEASURED 105 checks every 2 s for about 14 s: descriptors (quietest) $fd0 -> $fd1, at most $maxfd; check sleeps older than 4 s: $maxold; many00 ran $runs times"
[ "$maxold" = 0 ] || fail "a check process outlived its timeout + SIGKILL delay"
ok "no check process outlives timeout + 1 s"
ok "no zombie"
[ "$fd1" -le "$fd0" ] || { ls -l "/proc/$PID_h1/fd" | tail -20; fail "descriptors grew from $fd0 to $fd1"; }
ok "no descriptor leaked"
[ "$runs" -ge 5 ] || fail "checks stopped being re-run ($runs runs of many00)"
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14+$15)/hz }' "/proc/$PID_h1/stat")
echo "MEASURED failoverd CPU seconds so far (100 MB of check output read every 2 s): $cpu"

say "SIGTERM: nothing of the checks survives"
kill -TERM "$PID_h1"; rc=0; wait "$PID_h1" || rc=$?
[ $rc = 0 ] || fail "exit $rc"
sleep 0.5
left=$(pids_in_ns | xargs -r ps -o pid=,args= -p 2>/dev/null | grep -v -E '/usr/lib/frr/|\[' | grep -E 'sleep|head|tr|sh ' || true)
[ -z "$left" ] || fail "check processes survived failoverd: $left"
ok "no check process left after failoverd exited"
