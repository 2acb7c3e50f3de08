# Sourced by every integration test: strict mode, the lab, assertions, and clean-up on any exit.
set -euo pipefail
# Strict mode ends a test at the first failing command; say which, or the log ends without a reason.
trap '_rc=$?; say "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc"' ERR
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
	fi
	lab_down >/dev/null 2>&1 || true
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT

say() { printf '%s %s\n' "$(date +%T.%3N)" "$*"; }
fail() { say "FAIL: $*"; exit 1; }
ok() { say "ok: $*"; }
assert_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; ok "$3 ($1)"; }
now() { date +%s.%N; }
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
	for _ in $(seq 100); do [ -S "$T/notify.sock" ] && break; sleep 0.02; done
	NOTIFY_SOCK=$T/notify.sock
}
wait_notify() {
	local pat=$1 secs=${2:-10} i=0
	while ! grep -qE "$pat" "$T/notify.log" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt $((secs * 20)) ] && { cat "$T/notify.log"; fail "no '$pat' from sd_notify after ${secs}s"; }
		sleep 0.05
	done
}

# Waits until NODE's log has a line matching a pattern.
wait_log() {
	local node=$1 pat=$2 secs=${3:-15} i=0
	while ! grep -qE "$pat" "$T/$node.log" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt $((secs * 20)) ] && { tail -20 "$T/$node.log"; fail "no '$pat' in $node's log after ${secs}s"; }
		sleep 0.05
	done
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
	local rs=$1 prefix=$2 re=$3 neg=${4:-} i
	for i in $(seq 200); do
		if [ -z "$neg" ]; then lab_paths "$rs" "$prefix" | grep -qE "$re" && return 0
		else lab_paths "$rs" "$prefix" | grep -qE "$re" || return 0; fi
		sleep 0.05
	done
	lab_paths "$rs" "$prefix"
	fail "$rs $prefix: waited 10 s for ${neg:+no }path matching '$re'"
}
