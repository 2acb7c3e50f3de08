#!/usr/bin/env bash
# SIGKILL at random moments during full applies and state changes (issue 7): after every kill frr.conf is
# a complete rendering vtysh -C accepts, of a state failoverd was asked for (the old or the new one); a
# restarted failoverd converges. KILLS (default 80, about 2.5 s a kill on a busy 2-core machine) kills,
# 0-600 ms into the full apply of a start or 0-300 ms into the apply of a state change: the test waits for
# the apply to start (failoverd -v logs it), never for a fixed time, so a loaded machine only makes it slower:
# TEST_TIMEOUT=1200
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
KILLS=${KILLS:-80}
DPID=
stop_daemon() {
	local rc=$?
	[ -z "$DPID" ] || { kill -KILL "$DPID" 2>/dev/null || true; wait "$DPID" 2>/dev/null || true; }
	DPID=
	return $rc
}
# Shows the daemon's log when the test failed (status \$1).
show_log() { [ "$1" = 0 ] || [ ! -f "$T/h1.log" ] || { grep -v 'check flag\|^%' "$T/h1.log" || true; } | tail -30; }
# Own steps first, then lib.sh's cleanup with the test's status in $? (set +e: a failing step must
# not end the trap before cleanup).
trap 'rc_=$?; set +e; stop_daemon; show_log $rc_; (exit $rc_); cleanup' EXIT

lab_up 1
lab_failoverd_conf h1 primary "$(make_flag_check h1)" |
	sed 's|^\(  directory = .*;\)$|\1 interval = 0.2; timeout = 30; rise = 1; fall = 1;|' > "$T/h1.conf"
PS=$(lab_pathspace h1)
CONF=$(lab_host_conf h1 frr_config)
CONFDIR=$(dirname "$CONF")
declare -A R
for s in primary demoted withdrawn; do
	"$FAILOVERD" -c "$T/h1.conf" --render --state $s > "$T/render.$s"
	R[$s]=$(sha256sum < "$T/render.$s")
	ip netns exec "$(lab_ns h1)" vtysh -N "$PS" -C -f "$T/render.$s" > /dev/null || fail "vtysh -C rejects the $s rendering"
done
state_of_flag() { case $1 in 0) echo primary ;; 1) echo demoted ;; *) echo withdrawn ;; esac; }
# Starts failoverd outside PIDS: its pid is reused 200 times over, cleanup must not signal a stranger.
start() { ip netns exec "$(lab_ns h1)" "$FAILOVERD" -v -c "$T/h1.conf" >> "$T/h1.log" 2>&1 & DPID=$!; }
ms_sleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
# Waits for a line matching $2 in the log after line $1 (or for the daemon to die).
wait_log_after() {
	local from=$1 pat=$2
	wait_until "${3:-120}" "'$pat' in the log after line $from, or the daemon's end" \
		'tail -n +"$((from + 1))" "$T/h1.log" | grep -qE "$pat" || ! kill -0 "$DPID" 2>/dev/null' 0.01 ||
		fail "no '$pat' in the log after ${3:-120} s"
}

say "$KILLS kills, 0-600 ms into the full apply of a start or 0-300 ms into the apply of a state change"
flag=0; set_flag h1 0; : >> "$T/h1.log"
# The lab's own frr.conf is there until the first install: a kill before it may leave it (whole).
R[lab]=$(sha256sum < "$CONF")
allowed=" lab primary "      # states whose rendering may be on disk: on disk before + asked for since
kills=0 iters=0 fulls=0 fasts=0 t0=$(now)
declare -A seen_on_disk
while [ $kills -lt "$KILLS" ]; do
	iters=$((iters + 1))
	new=$(( (flag + 1 + RANDOM % 2) % 3 )); flag=$new; n0=$(wc -l < "$T/h1.log"); set_flag h1 $flag
	allowed="$allowed$(state_of_flag $flag) "
	# A start is a full apply (vtysh -C, install, frr-reload.py: about 1 s idle, several loaded), a
	# change a fast path (~50 ms), or a full apply when the previous one failed or was still running;
	# a daemon left running (half the time) is killed later, in its reload or in a fast path.
	if [ -z "$DPID" ]; then
		start; fulls=$((fulls + 1))
		wait_log_after "$n0" "full apply to $(state_of_flag $flag) started"; ms_sleep $((RANDOM % 601))
	else
		fasts=$((fasts + 1))
		wait_log_after "$n0" "(fast path|full apply) to $(state_of_flag $flag) started"; ms_sleep $((RANDOM % 301))
	fi
	# Half the triggers end in a kill; the others leave the daemon running into the next state change.
	[ $((RANDOM % 2)) = 0 ] && [ $kills -gt 0 ] && [ $((iters % 7)) != 0 ] && continue
	kill -0 "$DPID" 2>/dev/null || { rc=0; wait "$DPID" || rc=$?; DPID=; fail "failoverd exited by itself (status $rc)"; }
	kill -KILL "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=
	kills=$((kills + 1))
	[ -f "$CONF" ] || fail "kill $kills: $CONF is missing"
	h=$(sha256sum < "$CONF")
	on=
	for s in lab primary demoted withdrawn; do [ "$h" = "${R[$s]}" ] && on=$s; done
	[ -n "$on" ] || { diff "$T/render.primary" "$CONF" | head -20; fail "kill $kills: frr.conf is no complete rendering"; }
	[[ $allowed == *" $on "* ]] || fail "kill $kills: frr.conf renders $on, never asked for (allowed:$allowed)"
	seen_on_disk[$on]=1
	if [ $((kills % 20)) = 0 ]; then
		ip netns exec "$(lab_ns h1)" vtysh -N "$PS" -C -f "$CONF" > /dev/null || fail "kill $kills: vtysh -C rejects frr.conf"
	fi
	allowed=" $on "
done
secs=$(python3 -c "import time,sys; print(round(time.time()-float(sys.argv[1]),1))" "$t0")
echo "MEASURED $kills SIGKILLs ($fulls starts, $fasts state changes while running) in $secs s; on disk after a kill: ${!seen_on_disk[*]}"
ok "after each of $kills kills frr.conf was a whole rendering of an old or new state"
ip netns exec "$(lab_ns h1)" vtysh -N "$PS" -C -f "$CONF" > /dev/null || fail "vtysh -C rejects the final frr.conf"
ok "vtysh -C accepts the file left by the last kill"
stray=$(find "$CONFDIR" -maxdepth 1 -name '.*' ! -name '.' | wc -l)
echo "MEASURED temporary files left in $CONFDIR after $kills kills: $stray ($(find "$CONFDIR" -maxdepth 1 -name '.*' ! -name '.' -printf '%f ' | cut -c1-200))"
[ -e "$CONF.sav" ] && fail "frr-reload's $CONF.sav left behind"

say "restart: converges to the state the checks decide"
# The killed daemons' orphaned vtysh / frr-reload.py calls finish (each is bounded by frr.timeout).
wait_until 60 "the orphaned vtysh / frr-reload.py calls to end" '! pgrep -f "(vtysh -N|--pathspace) $PS( |\$)" > /dev/null' 0.1 || true
! pgrep -f "(vtysh -N|--pathspace) $PS( |\$)" > /dev/null || fail "orphaned vtysh / frr-reload.py still running after 60 s"
set_flag h1 2; start
expect_best $V4 none 20
ok "withdrawn after the restart"
set_flag h1 0
expect_best $V4 "h1 65000:1" 20
set_flag h1 1
wait_path rs1 $V4 "^h1 65000:2 .*aspath=65001[ ,]65001[ ,]65001[ ,]65001"
ok "primary, then demoted, after the restart"
set_flag h1 0
expect_best $V4 "h1 65000:1" 20
cmp -s "$CONF" "$T/render.primary" || fail "frr.conf does not match the primary rendering after convergence"
ok "frr.conf on disk is the primary rendering"
stop_daemon
