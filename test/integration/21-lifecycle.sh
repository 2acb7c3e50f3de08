#!/usr/bin/env bash
# Start-up and reload decide only on real results, and a notify hook outlives its configuration
# (issue 11, items 1, 10, 11): (a) a SIGHUP before the first check result decides nothing and sends no
# READY=1; (b) a notify hook still running when a reload drops `notify` reports its failure without
# crashing the daemon; (c) with bgpd down at start READY=1 still comes, STATUS= and failoverctl say
# "bgpd unreachable, retrying", and the apply happens when bgpd appears.
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
V6=2001:db8:e001:1b8c::/64
# Shows the daemon's log when the test failed (status \$1).
show_log() { [ "$1" = 0 ] || [ ! -f "$T/h1.log" ] || { grep -v 'check flag\|^%' "$T/h1.log" || true; } | tail -40; }
trap 'rc_=$?; set +e; show_log $rc_; (exit $rc_); cleanup' EXIT

lab_up 1
DIR=$(make_flag_check h1)
# The first result of "flag" waits for $T/go: a window in which no check has reported yet.
printf '#!/bin/sh\nwhile [ ! -e %s/go ]; do sleep 0.05; done\ncode=$(cat %s/h1.flag 2>/dev/null || echo 3)\necho "flag $code"\nexit "$code"\n' \
	"$T" "$T" > "$DIR/flag"
# The notify hook waits for $T/release, then fails with a message.
printf '#!/bin/sh\necho "$FAILOVERD_STATE" >> %s/hook.log\nwhile [ ! -e %s/release ]; do sleep 0.05; done\necho "hook says no"\nexit 3\n' \
	"$T" "$T" > "$T/hook"
chmod 755 "$T/hook"
# frr.timeout also bounds the hook: long enough for a loaded machine.
lab_failoverd_conf h1 primary "$DIR" |
	sed -e 's|^\(  directory = .*;\)$|\1 interval = 0.5; timeout = 120; rise = 1; fall = 1;|' \
		-e 's|^\(  config = .*;\)$|\1 timeout = 120;|' > "$T/base.conf"
{ cat "$T/base.conf"; echo "notify = [\"$T/hook\"];"; } > "$T/h1.conf"
start_notify_listener
# Lines of the notify log after line $1 matching $2, waiting up to $3 s.
wait_notify_after() {
	local from=$1 pat=$2 secs=${3:-10}
	wait_until "$secs" "'$pat' from sd_notify after line $from" 'tail -n +"$((from + 1))" "$T/notify.log" | grep -qE "$pat"' ||
		{ cat "$T/notify.log"; fail "no '$pat' from sd_notify after ${secs}s"; }
}

say "(a) SIGHUP before the first check result"
NOTIFY_SOCKET=$NOTIFY_SOCK start_failoverd h1
wait_log h1 'failoverd .* starting' 20
# A second check arrives with the reload: its log line is written after the reload's decision, if any.
printf '#!/bin/sh\necho second\nexit 0\n' > "$DIR/second"; chmod 755 "$DIR/second"
kill -HUP "$PID_h1"
wait_log h1 'check second added' 20
wait_log h1 'check second: up' 20
grep -E 'start -> ' "$T/h1.log" && fail "decided before the first result of every check"
grep -q '^READY=1' "$T/notify.log" && fail "READY=1 before the first result of every check"
grep -q '^RELOADING=1' "$T/notify.log" && fail "RELOADING=1 before the first READY=1"
[ ! -s "$T/hook.log" ] || fail "the notify hook ran before any decision"
ok "a reload before the first results decides nothing, runs no hook, sends no READY=1"
touch "$T/go"
wait_log h1 'start -> primary \(all checks up\)' 20
wait_notify '^READY=1' 30
ok "the decision and READY=1 come with the first results"
expect_best $V4 "h1 65000:1" 20

say "(b) a reload drops notify while the hook of the old configuration still runs"
wait_until 10 "the hook's first line" '[ -s "$T/hook.log" ]' || true
assert_eq "$(cat "$T/hook.log")" primary "the hook runs for the start decision"
rm "$DIR/second"
cp "$T/base.conf" "$T/h1.conf"
kill -HUP "$PID_h1"
wait_log h1 'check second removed' 20
touch "$T/release"
wait_log h1 "notify $T/hook: exit 3: hook says no" 20
kill -0 "$PID_h1" || fail "failoverd died when the old configuration's hook ended"
ok "the hook's failure is reported with its own argv; failoverd runs on"

say "SIGTERM"
kill -TERM "$PID_h1"; rc=0; wait "$PID_h1" || rc=$?
assert_eq $rc 0 "exit status after SIGTERM"
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$T/h1.log" && fail "sanitizer report"

say "(c) bgpd not running at start"
lab_stop h1 bgpd
rm -f "$T/hook.log"
n0=$(wc -l < "$T/notify.log")
NOTIFY_SOCKET=$NOTIFY_SOCK start_failoverd h1
wait_log h1 'full apply to primary failed' 30
wait_notify_after "$n0" '^READY=1' 30
ok "READY=1 after the first apply attempt, although it failed"
wait_notify_after "$n0" '^STATUS=.*bgpd unreachable, retrying' 30
ok "STATUS= says bgpd unreachable, retrying"
st=$("$FAILOVERCTL" -c "$T/h1.conf" status 2>&1 || true)
grep -q 'bgpd unreachable, retrying' <<<"$st" || { echo "$st"; fail "failoverctl status does not say bgpd unreachable, retrying"; }
ok "failoverctl status says bgpd unreachable, retrying"
wait_log h1 'full apply to primary failed' 5
# Issue 16: no vtysh/frr-reload.py retries while bgpd's vty socket is gone; the queue waits for the socket.
wait_log h1 'apply queue: [a-z-]* -> bgpd-wait' 5
ok "the apply queue waits for bgpd's vty socket"
t1=$(now)
lab_start h1 --no-config
expect_best $V4 "h1 65000:1" 40
expect_best $V6 "h1 65000:1" 10
echo "MEASURED bgpd started after READY=1: announced $(ms_since "$t1") ms later"
wait_notify_after "$n0" '^STATUS=primary since [0-9:]{8}; checks 1/1 up; route servers 2/2 established' 30
ok "applied once bgpd appeared; STATUS= is clean again"
kill -TERM "$PID_h1"; rc=0; wait "$PID_h1" || rc=$?
assert_eq $rc 0 "exit status after SIGTERM"
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$T/h1.log" && fail "sanitizer report"
ok "all done"
