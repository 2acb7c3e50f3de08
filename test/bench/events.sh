#!/bin/bash
# events.sh: the event stream's part of `make bench` (issue 23), sourced by bench.sh, or run alone (as root,
# from the repository: it builds its own lab with LAB_PREFIX, default fobench).
#
#  7. the idle daemon with nobody following `failoverctl events` and with one reader attached: h1's and h2's
#     failoverd, the same 3 /bin/sh checks at 1 s, measured side by side in three windows of
#     BENCH_IDLE_SECONDS: no reader, a reader on h2, a reader on h1. Each daemon is thus measured twice
#     without a reader (their difference is the window-to-window noise) and once with one.
# Figures: the daemon's own CPU from /proc (schedstat of every thread), as section 4.

# Expects common.sh's T, LAB, BIN, IDLE, DPID and helpers, and $T/h1.conf and $T/h2.conf (3 /bin/sh checks each).
EV_READER=
events_cleanup() {
	[[ -n $EV_READER ]] && { kill -TERM "$EV_READER" 2>/dev/null || true; wait "$EV_READER" 2>/dev/null || true; }
	EV_READER=
}

# Starts `failoverctl events --json` against NODE's daemon, output in $T/events.NODE; waits for its first line.
events_reader() {
	local node=$1
	"$BIN/failoverctl" -c "$T/$node.conf" events --json >"$T/events.$node" 2>&1 &
	EV_READER=$!
	for _ in $(seq 200); do
		grep -q '"stream":"events"' "$T/events.$node" 2>/dev/null && return 0
		kill -0 "$EV_READER" 2>/dev/null || break
		sleep 0.05
	done
	note "failoverctl events on $node did not start: $(head -c 300 "$T/events.$node")"
	events_cleanup
	return 1
}

events_run() {
	say "7. failoverctl events: the idle daemon (3 sh checks at 1 s) with no reader and with one, 3 windows of ${IDLE} s"
	# Both daemons with the same checks and the default watch (section 4 left h2 on the vtysh watch).
	stop_daemon h2
	[[ -n ${DPID[h1]:-} ]] || start_daemon h1 "$T/h1.conf"
	start_daemon h2 "$T/h2.conf"
	wait_primary 30 || true
	sleep 5
	bench footprint --pid "ev.h1.quiet0=${DPID[h1]}" --pid "ev.h2.quiet0=${DPID[h2]}" --seconds "$IDLE" ||
		note "no-reader window failed"
	if events_reader h2; then
		sleep 1
		bench footprint --pid "ev.h1.quiet1=${DPID[h1]}" --pid "ev.h2.follow=${DPID[h2]}" \
			--pid "ev.reader=$EV_READER" --seconds "$IDLE" || note "reader-on-h2 window failed"
		events_cleanup
		bench add --key ev.h2.records --note "records the reader on h2 got" "$(grep -c '"seq":' "$T/events.h2" || true)"
	fi
	if events_reader h1; then
		sleep 1
		bench footprint --pid "ev.h1.follow=${DPID[h1]}" --pid "ev.h2.quiet1=${DPID[h2]}" --seconds "$IDLE" ||
			note "reader-on-h1 window failed"
		events_cleanup
		bench add --key ev.h1.records --note "records the reader on h1 got" "$(grep -c '"seq":' "$T/events.h1" || true)"
	fi
}

# The part's table, from bench.py's results file; appended to bench.sh's report.
events_report() {
	"$PY" -I - "$1" <<'PY'
import json, sys
rows = {}
with open(sys.argv[1]) as f:
    for line in f:
        r = json.loads(line)
        rows[r["key"]] = r
w = print
cpu = lambda k: rows[k]["cpu_self_pct"] if k in rows else None
w("7. failoverctl events: the idle daemon's own CPU (3 sh checks at 1 s), no reader vs one reader, % of a core")
effects, noises = [], []
for h in ("h1", "h2"):
    q0, q1, fo = cpu(f"ev.{h}.quiet0"), cpu(f"ev.{h}.quiet1"), cpu(f"ev.{h}.follow")
    if q0 is None or q1 is None or fo is None:
        w(f"   {h}: not measured")
        continue
    quiet = (q0 + q1) / 2
    effects.append(fo - quiet)
    noises.append(abs(q1 - q0))
    rec = rows.get(f"ev.{h}.records")
    n = int(rec["samples"][0]) if rec and rec["samples"] else "?"
    w(f"   {h}: no reader {q0:.3f} % and {q1:.3f} %, with a reader {fo:.3f} % ({n} records in {rows[f'ev.{h}.follow']['seconds']:.0f} s):"
      f" reader's effect {fo - quiet:+.3f} %, window-to-window noise {abs(q1 - q0):.3f} %")
r = rows.get("ev.reader")
if r:
    w(f"   the reader itself (failoverctl events, not counted above): {r['cpu_self_pct']:.3f} %")
if effects:
    eff = sum(effects) / len(effects)
    noise = max(noises)
    # Nothing measurable: no more than 0.01 % of a core, or than what two windows without a reader differ by.
    ok = eff <= max(0.01, noise)
    w(f"   mean effect of a reader {eff:+.3f} % (largest noise {noise:.3f} %)"
      f"   target <= 0.01 % or within the noise: {'met' if ok else 'NOT met'}")
    w("targets (events):")
    w(f"   {'met' if ok else 'NOT met':<12} a reader adds nothing measurable to the idle daemon (<= 0.01 % or the noise)")
PY
}

# Alone: a lab of its own, the part, its table.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
	bench_alone events.sh -ev failoverctl
	# The same 3 scripts as bench.sh's, on both hosts.
	host_scripts h1 h2
	"$LAB" failoverd-conf h1 primary "$T/h1.d" >"$T/h1.conf"
	"$LAB" failoverd-conf h2 secondary "$T/h2.d" >"$T/h2.conf"
	start_daemon h1 "$T/h1.conf"
	events_run
	echo
	events_report "$RES"
fi
