#!/bin/bash
# bench.sh: `make bench` — failoverd's figures against the alternatives, in the FRR lab, in one run (issue 6).
#
# A benchmark, not a test: it prints a table (min / median / p99) with the targets beside it and never fails
# on a slow machine; it exits non-zero only when the lab cannot be built. Method: docs/bench.md.
# Run as root from the repository (make bench). Environment: FAILOVERD_BUILD (default build/release),
# LAB_PREFIX (default fobench), BENCH_REPS (default 30), BENCH_REPS_RESTART, BENCH_REPS_SILENT (default 10:
# each sample of those takes 6-13 s), BENCH_IDLE_SECONDS (default 60; section 7 runs 3 such windows).
set -euo pipefail

# Settings (LAB, BIN, PY, IDLE, V4, V6), helpers (say, note, bench, start_daemon, ...) and the exit trap.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
REPS=${BENCH_REPS:-30}
REPS_RESTART=${BENCH_REPS_RESTART:-$REPS}
REPS_SILENT=${BENCH_REPS_SILENT:-10}
OUTDIR=$ROOT/test/output

bench_init bench.sh ""

# test/bench/floor.py: the floor (the same commands straight to bgpd's vty socket) and a script's exec cost.
floor() { $PY -I "$ROOT/test/bench/floor.py" --out "$RES" --prefix "$LAB_PREFIX" "$@"; }
# Replaces the shared_ips line of a failoverd.conf with the prefixes in FILE.
with_shared() {
	local conf=$1 list=$2 ips
	ips=$(sed 's/.*/"&"/' "$list" | paste -sd, -)
	sed -i "s|^shared_ips = .*|shared_ips = [$ips];|" "$conf"
}

# The native checks' part (6.) and keepalived beside them: test/bench/native.sh.
. "$ROOT/test/bench/native.sh"
# The event stream's part (7.): test/bench/events.sh.
. "$ROOT/test/bench/events.sh"

# --- lab --------------------------------------------------------------------------------------

say "building the lab ($LAB_PREFIX: two route servers, h1 primary, h2 secondary)"
t_start=$SECONDS
"$LAB" up 2 || { echo "bench.sh: the lab could not be built" >&2; exit 1; }
printf '%s\n' $V4 $V6 >"$T/shared"
host_scripts h1 h2
# h1 for the fast-path runs: one flag check polled every 0.2 s, rise 1, fall 1 (timing starts at the decision).
install -d -m 0755 "$T/h1fast.d"
flag_check "$T/h1fast.d/flag" "$T/h1.flag"
printf 'interval = 0.2;\nrise = 1;\nfall = 1;\n' >"$T/h1fast.d/flag.conf"
install -d -m 0755 "$T/h100.d"
for i in $(seq -w 1 100); do ok_check "$T/h100.d/c$i"; done

"$LAB" failoverd-conf h1 primary "$T/h1.d" >"$T/h1.conf"
"$LAB" failoverd-conf h1 primary "$T/h1fast.d" >"$T/h1fast.conf"
"$LAB" failoverd-conf h1 primary "$T/h100.d" >"$T/h100.conf"
"$LAB" failoverd-conf h2 secondary "$T/h2.d" >"$T/h2.conf"
start_daemon h1 "$T/h1fast.conf"
start_daemon h2 "$T/h2.conf"
for h in h1 h2; do
	"$LAB" wait-established "$h" 2 30 >/dev/null || { echo "bench.sh: $h's BGP sessions did not come up" >&2; exit 1; }
done
wait_primary 30 || true
note "lab up, sessions established, h1 primary at both route servers ($((SECONDS - t_start)) s)"

# --- 1. state change to convergence ------------------------------------------------------------

say "1a. failoverd fast path: $REPS x (demote, promote, withdraw, restore), decision -> both converged"
bench --shared "$T/shared" fastpath --log "$T/h1.log" --flag "$T/h1.flag" --reps "$REPS" || note "fast path run failed"
stop_daemon h1
wait_primary 10 || true

say "1e. the floor: the fast path's commands sent by the bench straight to h1's bgpd vty socket: $REPS x"
floor --shared "$T/shared" floor --reps "$REPS" || note "floor run failed"
wait_primary 10 || true

say "1b. route-map body edit in vtysh: $REPS x (demote, promote alternately)"
bench --shared "$T/shared" trigger rmedit --reps "$REPS" --key rmedit || note "route-map edit run failed"

ps1=$("$LAB" pathspace h1)
"$BIN/failoverd" -c "$T/h1.conf" --render --state demoted >"$T/h1-demoted.frr"
"$BIN/failoverd" -c "$T/h1.conf" --render --state primary >"$T/h1-primary.frr"
say "1c. frr-reload.py --reload of the re-rendered file: $REPS x"
bench --shared "$T/shared" trigger reload --reps "$REPS" --key reload \
	--demoted-file "$T/h1-demoted.frr" --primary-file "$T/h1-primary.frr" || note "frr-reload run failed"

say "1d. bgpd restart with the new file (lab.sh stop h1 bgpd; write; lab.sh start h1): $REPS_RESTART x"
restart_note=""
((REPS_RESTART >= 30)) || restart_note="$REPS_RESTART repetitions (BENCH_REPS_RESTART): each one waits for a new BGP session"
bench --shared "$T/shared" trigger restart --reps "$REPS_RESTART" --key restart --note "$restart_note" \
	--demoted-file "$T/h1-demoted.frr" --primary-file "$T/h1-primary.frr" || note "restart run failed"
install -o frr -g frr -m 0640 "$T/h1-primary.frr" "/etc/frr/$ps1/frr.conf"

# --- 2. check failure, defaults ----------------------------------------------------------------

start_daemon h1 "$T/h1.conf"
wait_primary 30 || true
say "2. check failure -> failover with defaults (interval 1 s, fall 2; 3 checks): $REPS x"
bench --shared "$T/shared" checkfail --flag "$T/h1.flag" --reps "$REPS" || note "check failure run failed"

# --- 4. footprint (before the silent runs, which disturb the sessions) -------------------------

say "4. footprint over ${IDLE} s idle: 3 checks at 1 s, default watch"
wait_primary 30 || true
idle_args=(--pid "idle=${DPID[h1]}")
if grep -q FAILOVERD_WATCH "$BIN/failoverd"; then
	# The same daemon with the vtysh watch, side by side on h2 (the fallback the issue asks to keep).
	stop_daemon h2
	start_daemon h2 "$T/h2.conf" FAILOVERD_WATCH=vtysh
	note "h2's failoverd runs the vtysh watch (FAILOVERD_WATCH=vtysh) for comparison"
	idle_args+=(--pid "idle.vtysh=${DPID[h2]}")
fi
sleep 5
bench footprint "${idle_args[@]}" --seconds "$IDLE" || note "footprint run failed"
say "4. one run of a check script without failoverd: CPU per exec of $T/h1.d/ok1"
floor execcost --script "$T/h1.d/ok1" --runs 200 || note "exec cost run failed"

# --- 7. failoverctl events: the idle daemon with no reader and with one (h2 back on the default watch) --

events_run

# --- 3. silent host ----------------------------------------------------------------------------

say "3. h1 goes silent (frames dropped, no reset), timers 3/9: $REPS_SILENT x"
bench --shared "$T/shared" silent --reps "$REPS_SILENT" \
	--note "$REPS_SILENT repetitions (BENCH_REPS_SILENT): each one costs about 9 s plus the reconnection" ||
	note "silent run failed"
bench add --key silent.frr --note "not measured: hold time 180 s minus the time since the last keepalive (0-60 s) = 120-180 s, computed from the timers; in this lab the route servers' own 'timers 3 9' would lower the negotiated hold time to 9 s"

# The 100-check run comes before the 512 prefixes: h1's bgpd still has the lab's two.
stop_daemon h1
say "5. 100 checks at 1 s: daemon CPU over 30 s"
start_daemon h1 "$T/h100.conf"
sleep 5
bench footprint --pid "checks100=${DPID[h1]}" --seconds 30 || note "100-check run failed"
stop_daemon h1

# --- 6. native checks, keepalived beside them (h1 stopped, h2 running) ---------------------------

native_run

# --- 5. scale ----------------------------------------------------------------------------------

say "5. scale: 512 shared prefixes (256 IPv4 /32 in 198.51.100.0/24, 256 IPv6 /64 in 2001:db8:1000::/56)"
stop_daemon h2
{
	for i in $(seq 0 255); do echo "198.51.100.$i/32"; done
	for i in $(seq 0 255); do printf '2001:db8:10%02x::/64\n' "$i"; done
} >"$T/shared512"
for h in h1 h2; do
	{
		for i in $(seq 0 255); do [[ $i == 10 ]] || echo "addr add 198.51.100.$i/32 dev lo"; done
		for i in $(seq 0 255); do printf 'addr add 2001:db8:10%02x::1/64 dev lo nodad\n' "$i"; done
	} | ip -n "$("$LAB" ns "$h")" -b - || note "could not add the addresses to $h's lo"
done
cp "$T/h1fast.conf" "$T/h1s.conf"
cp "$T/h2.conf" "$T/h2s.conf"
with_shared "$T/h1s.conf" "$T/shared512"
with_shared "$T/h2s.conf" "$T/shared512"
cp "$T/shared512" "$T/shared"
bench add --key scale.info --note "512 prefixes announced by h1 (primary) and h2 (secondary); convergence = every prefix at both route servers, polled every 20 ms"
bench time --reps "$REPS" --key scale.render -- "$BIN/failoverd" -c "$T/h1s.conf" --render || note "render timing failed"

start_daemon h2 "$T/h2s.conf"
# Full apply onto an empty bgpd: "no router bgp" first, then failoverd --apply (frr-reload.py).
full=()
for ((i = 0; i < 5; i++)); do
	vtysh -N "$ps1" -c 'configure terminal' -c 'no router bgp 65001' >/dev/null 2>&1 || true
	out=$("$BIN/failoverd" -c "$T/h1s.conf" --apply 2>&1) || { note "failoverd --apply failed: $(tail -2 <<<"$out")"; continue; }
	ms=$(sed -n 's/^full apply ([a-z]*): ok in \([0-9.]*\) ms.*/\1/p' <<<"$out")
	[[ -n $ms ]] && full+=("$ms")
done
bench add --key scale.full --note "5 repetitions: each one tears down and rebuilds h1's BGP sessions" "${full[@]}"
note "full apply of 512 prefixes: ${full[*]} ms"

start_daemon h1 "$T/h1s.conf"
if wait_primary 60; then
	say "5. fast path with 512 prefixes: $REPS transitions (demote, promote alternately)"
	bench --shared "$T/shared512" fastpath --log "$T/h1.log" --flag "$T/h1.flag" --reps $(((REPS + 1) / 2)) \
		--kinds demote,promote --key scale.fast --settle 0.5 || note "512-prefix fast path run failed"
fi
stop_daemon h1
stop_daemon h2

# --- 3b. silent host with BFD: a lab of its own (bfdd on every node, route servers with BFD) --------

say "3b. h1 goes silent, BFD 200 ms x 3 (bgp.bfd, directly connected peers): $REPS_SILENT x"
"$LAB" down >/dev/null 2>&1 || true
if LAB_BFD=1 LAB_BFD_MS=200 "$LAB" up 2; then
	printf '%s\n' $V4 $V6 >"$T/shared"
	for h in h1 h2; do
		role=primary; [[ $h == h2 ]] && role=secondary
		"$LAB" failoverd-conf $h $role "$T/$h.d" |
			sed "s|^  route_servers = \[\"\(.*\)\", \"\(.*\)\"\];|  neighbors = ( { address = \"\1\"; multihop = 0; }, { address = \"\2\"; multihop = 0; } );\n  bfd = true;\n  bfd_interval = 200;|" \
			>"$T/$h-bfd.conf"
		start_daemon $h "$T/$h-bfd.conf"
	done
	if wait_primary 60; then
		bench --shared "$T/shared" silent --bfd --reps "$REPS_SILENT" --key silent.bfd \
			--note "$REPS_SILENT repetitions (BENCH_REPS_SILENT), lab with bfdd (LAB_BFD=1)" || note "BFD silent run failed"
	fi
	stop_daemon h1
	stop_daemon h2
else
	note "the BFD lab could not be built"
fi

# --- report ------------------------------------------------------------------------------------

say "results ($(((SECONDS - t_start) / 60)) min $(((SECONDS - t_start) % 60)) s)"
mkdir -p "$OUTDIR"
out=$OUTDIR/bench-$(date +%Y%m%d-%H%M%S).txt
echo
cp "$RES" "${out%.txt}.jsonl"
bench report --results "$RES" --output "$out" --build "${BIN#"$ROOT"/}"
native_report "$RES" | tee -a "$out"
events_report "$RES" | tee -a "$out"
echo
rel=${out#"$ROOT"/}
echo "written to $rel (raw samples: ${rel%.txt}.jsonl, re-rendered by test/bench/bench.py report --results)"
