# common.sh: what bench.sh, native.sh and events.sh share: settings, helpers, the exit trap and the lab;
# sourced by bench.sh, and by native.sh and events.sh when they run alone.
# shellcheck shell=bash disable=SC2034 # IDLE, V6: for the scripts that source this

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export LAB_PREFIX=${LAB_PREFIX:-fobench}
LAB=$ROOT/test/lab/lab.sh
BIN=${FAILOVERD_BUILD:-$ROOT/build/release}
# Debian's python3: a pyenv shim in PATH would add ~150 ms to every start-up.
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
IDLE=${BENCH_IDLE_SECONDS:-60}
V4=198.51.100.10/32
V6=2001:db8:e001:1b8c::/64

say() { printf '\n== %s\n' "$*"; }
note() { printf '  %s\n' "$*"; }
bench() { $PY -I "$ROOT/test/bench/bench.py" --out "$RES" --prefix "$LAB_PREFIX" --lab "$LAB" "$@"; }

# A check script printing "flag N" and exiting N, N read from FILE (3 when unreadable).
flag_check() {
	# shellcheck disable=SC2016 # $code is the script's own variable
	printf '#!/bin/sh\nread -r code < %s || code=3\necho "flag $code"\nexit "$code"\n' "$2" >"$1"
	chmod 755 "$1"
}
ok_check() {
	printf '#!/bin/sh\necho ok\nexit 0\n' >"$1"
	chmod 755 "$1"
}
# The 3 scripts of each HOST in $T/HOST.d (flag reads $T/HOST.flag, 0 to start with; ok1, ok2).
host_scripts() {
	local h
	for h in "$@"; do
		echo 0 >"$T/$h.flag"
		install -d -m 0755 "$T/$h.d"
		flag_check "$T/$h.d/flag" "$T/$h.flag"
		ok_check "$T/$h.d/ok1"
		ok_check "$T/$h.d/ok2"
	done
}

# Starts failoverd for NODE with CONF (extra environment after), log in $T/NODE.log in UTC.
start_daemon() {
	local node=$1 conf=$2
	shift 2
	env TZ=UTC "$@" ip netns exec "$("$LAB" ns "$node")" "$BIN/failoverd" -c "$conf" >>"$T/$node.log" 2>&1 &
	DPID[$node]=$!
}
stop_daemon() {
	local node=$1
	[[ -n ${DPID[$node]:-} ]] || return 0
	kill -TERM "${DPID[$node]}" 2>/dev/null || true
	wait "${DPID[$node]}" 2>/dev/null || true
	unset "DPID[$node]"
}
# Waits until both route servers pick h1 as primary for every shared prefix in $T/shared.
wait_primary() {
	bench --shared "$T/shared" wait primary "${1:-30}" || { note "warning: route servers do not pick h1"; return 1; }
}

# On exit: the parts' own processes, the daemons, the lab, $T.
bench_exit() {
	local rc=$? n
	trap - EXIT INT TERM
	declare -F native_cleanup >/dev/null && native_cleanup
	declare -F events_cleanup >/dev/null && events_cleanup
	for n in "${!DPID[@]}"; do kill -TERM "${DPID[$n]}" 2>/dev/null || true; done
	for n in "${!DPID[@]}"; do wait "${DPID[$n]}" 2>/dev/null || true; done
	"$LAB" down >/dev/null 2>&1 || true
	rm -rf "$T"
	exit "$rc"
}

# NAME (for messages) must run as root with BIN's failoverd and the other PROGRAMS built; makes $T (its
# name tagged with TAG), $RES and DPID, and sets the exit trap.
bench_init() {
	local name=$1 tag=$2 b
	shift 2
	[[ $(id -u) == 0 ]] || { echo "$name: run as root (network namespaces, FRR)" >&2; exit 1; }
	for b in failoverd "$@"; do
		[[ -x $BIN/$b ]] || { echo "$name: $BIN/$b is not built (make all)" >&2; exit 1; }
	done
	T=$(mktemp -d "/tmp/failoverd-bench$tag.XXXXXX")
	RES=$T/results.jsonl
	declare -g -A DPID=()
	trap bench_exit EXIT
	trap 'exit 130' INT TERM
}

# A part run alone: bench_init's, then a lab of its own, quietly, sharing the lab's two prefixes.
bench_alone() {
	bench_init "$@"
	"$LAB" up 2 >/dev/null || { echo "$1: the lab could not be built" >&2; exit 1; }
	printf '%s\n' "$V4" "$V6" >"$T/shared"
}
