# Sourced by every integration test: strict mode, the lab, assertions, and clean-up on any exit.
set -euo pipefail
# Strict mode ends a test at the first failing command; say which, or the log ends without a reason.
trap '_rc=$?; fail_say "${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc${_WU_LAST:+ ($_WU_LAST)}"' ERR
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/test/lab/lab.sh"
FAILOVERD=${FAILOVERD_BUILD:-$ROOT/build/release}/failoverd
FAILOVERCTL=${FAILOVERD_BUILD:-$ROOT/build/release}/failoverctl
T=$(mktemp -d /tmp/failoverd-it.XXXXXX)
chmod 755 "$T"
PIDS=()

cleanup() {
	local rc=$?
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ $rc != 0 ]; then
		for f in "$T"/*.log; do [ -e "$f" ] && { echo "--- last lines of $(basename "$f")"; tail -25 "$f"; }; done
		# The reason last, after the logs: the runner's tail and a reader's eye end here.
		[ -n "$FAIL_MSG" ] && echo "$FAIL_MSG"
	fi
	lab_down >/dev/null 2>&1 || true
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT

say() { printf '%s %s\n' "$(date +%T.%3N)" "$*"; }
# The first failure's message, said again after the daemons' logs on exit.
FAIL_MSG="" _WU_LAST=""
fail_say() { local m; m="$(date +%T.%3N) FAIL: $*"; [ -n "$FAIL_MSG" ] || FAIL_MSG=$m; echo "$m"; }
fail() { fail_say "$*"; exit 1; }
ok() { say "ok: $*"; }
assert_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; ok "$3 ($1)"; }
now() { date +%s.%N; }
# wait_until SECS WHAT COND [INTERVAL]: evaluates the shell condition COND (a string, evaluated in the
# caller's scope each time, so quote it with '...') every INTERVAL seconds (0.05) until it holds: returns 0.
# After SECS seconds of wall clock it says "timeout: waited SECS s for WHAT" and returns 1, so the caller's
# own assertion (`|| fail "..."`) still names what was wrong. Strict mode does not apply inside COND, and
# $1, $2, ... in COND are wait_until's own: copy the caller's into named variables first.
wait_until() {
	# Prefixed names: COND sees the caller's variables, not these.
	local _wu_secs=$1 _wu_what=$2 _wu_cond=$3 _wu_every=${4:-0.05} _wu_end
	_WU_LAST=""
	_wu_end=$(( ${EPOCHREALTIME/./} + ${_wu_secs%.*} * 1000000 ))
	[[ $_wu_secs == *.* ]] && _wu_end=$(( _wu_end + 10#$(printf '%-6s' "${_wu_secs#*.}" | tr ' ' 0) ))
	while :; do
		if eval "$_wu_cond"; then return 0; fi
		[ "${EPOCHREALTIME/./}" -ge "$_wu_end" ] && break
		sleep "$_wu_every"
	done
	_WU_LAST="timeout: waited $_wu_secs s for $_wu_what"
	say "$_WU_LAST"
	return 1
}
ms_since() { python3 -c "import sys,time; print(round((time.time()-float(sys.argv[1]))*1000))" "$1"; }

# A conf.d check for host NODE whose exit code is the content of $T/NODE.flag.
make_flag_check() {
	local node=$1 dir=$T/$1.conf.d
	mkdir -p "$dir"; chmod 755 "$dir"
	echo 0 > "$T/$node.flag"
	printf '#!/bin/sh\n# exit code from the flag file\ncode=$(cat %s 2>/dev/null || echo 3)\necho "flag $code"\nexit "$code"\n' \
		"$T/$node.flag" > "$dir/flag"
	chmod 755 "$dir/flag"
	echo "$dir"
}
# Atomic (rename): a check reading a half-written flag would see "" and exit 2, a real failure.
set_flag() { echo "$2" > "$T/$1.flag.new" && mv -f "$T/$1.flag.new" "$T/$1.flag"; }

# Starts failoverd for NODE in its namespace, logging to $T/NODE.log; remembers the pid.
start_failoverd() {
	local node=$1; shift
	# ip netns exec execs failoverd itself, so $! is the daemon's pid (signals reach it directly).
	ip netns exec "$(lab_ns "$node")" "$FAILOVERD" -c "$T/$node.conf" "$@" >> "$T/$node.log" 2>&1 &
	PIDS+=($!)
	declare -g "PID_$node=$!"
}
# A NOTIFY_SOCKET listener (a path: abstract sockets do not cross network namespaces) logging each
# datagram as one line to $T/notify.log; sets NOTIFY_SOCK. Not for $(...): the listener would hold it open.
start_notify_listener() {
	python3 -u -c '
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        m = s.recv(4096).decode(errors="replace")
        f.write(m.replace("\n", " | ") + "\n"); f.flush()
' "$T/notify.sock" "$T/notify.log" </dev/null >/dev/null 2>&1 &
	PIDS+=($!)
	wait_until 2 "the notify listener's socket" '[ -S "$T/notify.sock" ]' || true
	NOTIFY_SOCK=$T/notify.sock
}
wait_notify() {
	local pat=$1 secs=${2:-10}
	wait_until "$secs" "'$pat' from sd_notify" 'grep -qE "$pat" "$T/notify.log" 2>/dev/null' ||
		{ cat "$T/notify.log"; fail "no '$pat' from sd_notify after ${secs}s"; }
}

# Waits until NODE's log has a line matching a pattern.
wait_log() {
	local node=$1 pat=$2 secs=${3:-15}
	wait_until "$secs" "'$pat' in $node's log" 'grep -qE "$pat" "$T/$node.log" 2>/dev/null' ||
		{ tail -20 "$T/$node.log"; fail "no '$pat' in $node's log after ${secs}s"; }
}
# Asserts both route servers' best path for PREFIX, waiting up to SECS.
expect_best() {
	local prefix=$1 want=$2 secs=${3:-10} rs ms
	for rs in rs1 rs2; do
		ms=$(lab_wait_bestpath "$rs" "$prefix" "$want" "$secs") || fail "$rs: best path for $prefix is '$(lab_bestpath "$rs" "$prefix")', expected '$want'"
		ok "$rs picks '$want' for $prefix"
	done
}
# Waits until one of RS's paths for PREFIX matches an extended regex (or, with "!", until none does).
wait_path() {
	local rs=$1 prefix=$2 re=$3 neg=${4:-}
	if [ -z "$neg" ]; then
		wait_until 10 "a path of $rs for $prefix matching '$re'" 'lab_paths "$rs" "$prefix" | grep -qE "$re"' && return 0
	else
		wait_until 10 "no path of $rs for $prefix matching '$re'" '! lab_paths "$rs" "$prefix" | grep -qE "$re"' && return 0
	fi
	lab_paths "$rs" "$prefix"
	fail "$rs $prefix: waited 10 s for ${neg:+no }path matching '$re'"
}
