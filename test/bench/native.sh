#!/bin/bash
# native.sh: the native checks' part of `make bench` (issue 16), sourced by bench.sh, or run alone (as root,
# from the repository: it builds its own lab with LAB_PREFIX, default fobench-na... see below).
#
#  6a. one idle window, side by side: h1's failoverd with 3 native checks (tcp, http, file) at 1 s, h2's
#      failoverd with the 3 /bin/sh scripts of bench.sh at 1 s, and keepalived running the same 3 scripts as
#      vrrp_script at 1 s (interval 1) in a namespace of its own (a dummy link, one VRRP instance tracking them);
#  6b. 100 tcp checks at 1 s: h1's failoverd alone;
#  6c. a watched systemd unit fails -> withdrawn at both route servers (only where systemd is PID 1;
#      elsewhere the row says why, and test/integration/80-systemd.sh measures it in a container).
# Figures: CPU of a core from /proc (schedstat of every thread, and the reaped children's ticks).
# keepalived's figure is its parent plus its VRRP process plus the scripts that process reaped.

# The part's own files and daemons; expects common.sh's T, LAB, BIN, ROOT, DPID and helpers.
native_setup() {
	NA_PORT=18080
	install -d -m 0755 "$T/na.d" "$T/na100.d" "$T/na.www"
	echo ok >"$T/na.www/health"
	echo 0 >"$T/na.health"
	printf 'type = "tcp";\nhost = "127.0.0.1";\nport = %d;\n' $NA_PORT >"$T/na.d/tcp.conf"
	printf 'type = "http";\nurl = "http://127.0.0.1:%d/health";\nexpect = "ok";\n' $NA_PORT >"$T/na.d/http.conf"
	printf 'type = "file";\npath = "%s";\n' "$T/na.health" >"$T/na.d/file.conf"
	for i in $(seq -w 1 100); do
		printf 'type = "tcp";\nhost = "127.0.0.1";\nport = %d;\n' $NA_PORT >"$T/na100.d/t$i.conf"
	done
	"$LAB" failoverd-conf h1 primary "$T/na.d" >"$T/na.conf"
	"$LAB" failoverd-conf h1 primary "$T/na100.d" >"$T/na100.conf"
}

NA_WEB=
NA_KA=
NA_KNS=
native_cleanup() {
	[[ -n $NA_WEB ]] && { kill -TERM "$NA_WEB" 2>/dev/null || true; wait "$NA_WEB" 2>/dev/null || true; }
	[[ -n $NA_KA ]] && { kill -TERM "$NA_KA" 2>/dev/null || true; wait "$NA_KA" 2>/dev/null || true; }
	[[ -n $NA_KNS ]] && ip netns del "$NA_KNS" 2>/dev/null || true
	NA_WEB= NA_KA= NA_KNS=
}

# keepalived with the 3 scripts of DIR as vrrp_scripts at 1 s, in a namespace of its own; sets NA_KA and
# NA_KVRRP (its VRRP process).
native_keepalived() {
	local dir=$1 s
	NA_KNS=$LAB_PREFIX-kad
	ip netns add "$NA_KNS"
	# A veth pair of its own (a dummy link needs a module that a container may lack).
	ip -n "$NA_KNS" link add kad0 type veth peer name kad1
	ip -n "$NA_KNS" link set lo up
	ip -n "$NA_KNS" link set kad1 up
	ip -n "$NA_KNS" link set kad0 up
	ip -n "$NA_KNS" addr add 192.0.2.250/24 dev kad0
	{
		printf 'global_defs {\n  router_id fobench\n  script_user root\n  enable_script_security\n}\n'
		for s in flag ok1 ok2; do
			printf 'vrrp_script %s {\n  script "%s/%s"\n  interval 1\n  timeout 2\n  rise 3\n  fall 2\n}\n' "$s" "$dir" "$s"
		done
		printf 'vrrp_instance fobench {\n  state BACKUP\n  interface kad0\n  virtual_router_id 51\n  priority 100\n'
		printf '  advert_int 1\n  virtual_ipaddress {\n    192.0.2.251/32\n  }\n  track_script {\n    flag\n    ok1\n    ok2\n  }\n}\n'
	} >"$T/keepalived.conf"
	ip netns exec "$NA_KNS" /usr/sbin/keepalived --dont-fork --log-console --vrrp -f "$T/keepalived.conf" \
		-p "$T/keepalived.pid" -r "$T/keepalived-vrrp.pid" >"$T/keepalived.log" 2>&1 &
	NA_KA=$!
	NA_KVRRP=
	for _ in $(seq 100); do
		NA_KVRRP=$(ps -o pid= --ppid "$NA_KA" 2>/dev/null | head -1 | tr -d ' ' || true)
		[[ -n $NA_KVRRP ]] && break
		sleep 0.1
	done
	[[ -n $NA_KVRRP ]]
}

native_run() {
	native_setup
	ip netns exec "$("$LAB" ns h1)" /usr/bin/python3 -m http.server $NA_PORT --bind 127.0.0.1 \
		--directory "$T/na.www" >"$T/na.web.log" 2>&1 &
	NA_WEB=$!

	say "6a. idle ${IDLE} s side by side: 3 native checks (failoverd h1), 3 /bin/sh checks (failoverd h2), the same 3 scripts in keepalived"
	stop_daemon h1
	stop_daemon h2
	start_daemon h1 "$T/na.conf"
	start_daemon h2 "$T/h2.conf"
	local args=(--pid "native3=${DPID[h1]}" --pid "scripts3=${DPID[h2]}")
	if [[ -x /usr/sbin/keepalived ]] && native_keepalived "$T/h2.d"; then
		args+=(--pid "keepalived=$NA_KA" --pid "keepalived.vrrp=$NA_KVRRP")
		note "keepalived $(/usr/sbin/keepalived --version 2>&1 | head -1 | cut -d' ' -f2) pid $NA_KA, VRRP process $NA_KVRRP"
	else
		bench add --key keepalived.missing --note "keepalived not measured: /usr/sbin/keepalived missing or did not start (apt-get install keepalived)"
	fi
	wait_primary 30 || true
	sleep 5
	bench footprint "${args[@]}" --seconds "$IDLE" || note "side-by-side footprint failed"
	native_cleanup_ka

	say "6a'. the same daemon with no checks: its own floor, over 30 s"
	stop_daemon h1
	install -d -m 0755 "$T/na0.d"
	"$LAB" failoverd-conf h1 primary "$T/na0.d" >"$T/na0.conf"
	start_daemon h1 "$T/na0.conf"
	sleep 5
	bench footprint --pid "base0=${DPID[h1]}" --seconds 30 || note "no-check run failed"

	say "6b. 100 tcp checks at 1 s: daemon CPU over 30 s; a bare connect + close for comparison"
	if cc -O2 -o "$T/connect_floor" "$ROOT/test/bench/connect_floor.c" 2>"$T/cc.log"; then
		local floor
		floor=$(ip netns exec "$("$LAB" ns h1)" "$T/connect_floor" $NA_PORT 2000) &&
			bench add --key tcp.floor --note "CPU of one blocking connect + close on loopback (test/bench/connect_floor.c), us" "$floor"
		note "a bare connect + close on loopback: ${floor:-?} us of CPU"
	fi
	stop_daemon h1
	start_daemon h1 "$T/na100.conf"
	sleep 5
	bench footprint --pid "tcp100=${DPID[h1]}" --seconds 30 || note "100 tcp checks run failed"
	stop_daemon h1

	say "6c. a watched unit fails -> withdrawn at both route servers"
	native_unit_row
	kill -TERM "$NA_WEB" 2>/dev/null || true
	wait "$NA_WEB" 2>/dev/null || true
	NA_WEB=
}

native_cleanup_ka() {
	[[ -n $NA_KA ]] && { kill -TERM "$NA_KA" 2>/dev/null || true; wait "$NA_KA" 2>/dev/null || true; }
	[[ -n $NA_KNS ]] && { ip netns del "$NA_KNS" 2>/dev/null || true; }
	NA_KA= NA_KNS=
}

# Needs systemd as PID 1 and a system bus: a transient unit, a unit check with fall 1, the unit killed.
native_unit_row() {
	local pid1
	pid1=$(cat /proc/1/comm 2>/dev/null || echo '?')
	if [[ $pid1 != systemd || ! -S /run/dbus/system_bus_socket ]]; then
		bench add --key unitfail --note "not measured here: PID 1 is '$pid1', not systemd with a system bus; test/integration/80-systemd.sh measures it in a container (its 'MEASURED unit' lines)"
		note "not measured: PID 1 is '$pid1' (test/integration/80-systemd.sh measures it in a container)"
		return 0
	fi
	local unit=fobench-na-app.service samples=() i t0 ms1 ms2 bg bg2
	install -d -m 0755 "$T/nau.d"
	printf 'type = "unit";\nunit = "%s";\nrise = 1;\nfall = 1;\n' "$unit" >"$T/nau.d/app.conf"
	"$LAB" failoverd-conf h1 primary "$T/nau.d" >"$T/nau.conf"
	stop_daemon h1
	for ((i = 0; i < ${BENCH_REPS_UNIT:-10}; i++)); do
		systemd-run --quiet --unit="$unit" /bin/sleep infinity || { note "systemd-run failed"; break; }
		[[ -n ${DPID[h1]:-} ]] || start_daemon h1 "$T/nau.conf"
		wait_primary 30 || break
		sleep 0.5
		# Both pollers run before the kill and count from t0, a moment ahead: no start-up time in the figure.
		t0=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.6f", t + 1.0 }')
		"$LAB" wait-bestpath rs1 "$V4" "h2 65000:2" 10 "$t0" >"$T/nau.rs1" 2>/dev/null &
		bg=$!
		"$LAB" wait-bestpath rs2 "$V4" "h2 65000:2" 10 "$t0" >"$T/nau.rs2" 2>/dev/null &
		bg2=$!
		while awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { exit !(a < b) }'; do sleep 0.002; done
		systemctl kill --signal=KILL "$unit"
		ms1= ms2=
		wait "$bg" && ms1=$(cat "$T/nau.rs1")
		wait "$bg2" && ms2=$(cat "$T/nau.rs2")
		if [[ -n $ms1 && -n $ms2 ]]; then
			samples+=("$(awk -v a="$ms1" -v b="$ms2" 'BEGIN { print (a > b ? a : b) }')")
		fi
		systemctl reset-failed "$unit" 2>/dev/null || true
	done
	systemctl reset-failed "$unit" 2>/dev/null || true
	systemctl stop "$unit" 2>/dev/null || true
	stop_daemon h1
	bench add --key unitfail --note "unit killed (systemctl kill -s KILL) -> h2 best at both route servers, fall 1" "${samples[@]}"
}

# The part's table, from bench.py's results file; appended to bench.sh's report.
native_report() {
	"$PY" -I - "$1" <<'PY'
import json, statistics, sys
rows = {}
with open(sys.argv[1]) as f:
    for line in f:
        r = json.loads(line)
        rows[r["key"]] = r
w = print
w("6. native checks (no process) and keepalived, side by side")
n3, s3 = rows.get("native3"), rows.get("scripts3")
ka, kv = rows.get("keepalived"), rows.get("keepalived.vrrp")
verdicts = []
if n3:
    ok = n3["cpu_self_pct"] <= 0.05
    w(f"   3 native checks (tcp, http, file) at 1 s, idle {n3['seconds']:.0f} s: daemon {n3['cpu_self_pct']:.3f} % of a core,"
      f" with children {n3['cpu_total_pct']:.3f} %, RSS {n3['rss_kib'] / 1024:.2f} MiB   target <= 0.05 %: {'met' if ok else 'NOT met'}")
    verdicts.append(("3 native checks: daemon <= 0.05 %", "met" if ok else "NOT met"))
b0 = rows.get("base0")
if b0:
    w(f"   the same daemon with no checks (next window): {b0['cpu_self_pct']:.3f} %, RSS {b0['rss_kib'] / 1024:.2f} MiB")
    if n3:
        own = n3["cpu_self_pct"] - b0["cpu_self_pct"]
        w(f"      so the 3 native checks' own share: {own:.3f} % ({max(own, 0) / 100 / 3 * 1e6:.0f} us a run; the rest is the"
          f" daemon's idle floor: bgpd watch, timers)")
if s3:
    w(f"   3 /bin/sh checks at 1 s, same window: daemon {s3['cpu_self_pct']:.3f} %, with children {s3['cpu_total_pct']:.3f} %")
if ka and kv:
    k_tot = ka["cpu_total_pct"] + kv["cpu_total_pct"]
    k_self = ka["cpu_self_pct"] + kv["cpu_self_pct"]
    w(f"   keepalived, the same 3 scripts as vrrp_script at 1 s, same window: processes {k_self:.3f} %, with the scripts {k_tot:.3f} %")
    if s3:
        runs = 3.0  # script runs a second, both
        f_run = s3["cpu_total_pct"] / 100 / runs * 1e6
        k_run = k_tot / 100 / runs * 1e6
        ok = s3["cpu_total_pct"] <= k_tot
        w(f"   per script run (CPU with children / 3 runs a second): failoverd {f_run:.0f} us, keepalived {k_run:.0f} us,"
          f" ratio failoverd/keepalived {s3['cpu_total_pct'] / k_tot if k_tot else float('nan'):.2f}   target <= 1: {'met' if ok else 'NOT met'}")
        verdicts.append(("failoverd per script run <= keepalived", "met" if ok else "NOT met"))
    if n3:
        w(f"   per native run (daemon CPU / 3 runs a second): {n3['cpu_total_pct'] / 100 / 3 * 1e6:.0f} us")
elif rows.get("keepalived.missing"):
    w(f"   {rows['keepalived.missing']['note']}")
t = rows.get("tcp100")
if t:
    ok = t["cpu_self_pct"] <= 1.0
    w(f"   100 tcp checks at 1 s: daemon {t['cpu_self_pct']:.2f} % of a core, with children {t['cpu_total_pct']:.2f} %,"
      f" RSS {t['rss_kib'] / 1024:.2f} MiB over {t['seconds']:.0f} s   target <= 1 %: {'met' if ok else 'NOT met'}")
    verdicts.append(("100 tcp checks: daemon <= 1 %", "met" if ok else "NOT met"))
    fl = rows.get("tcp.floor")
    if fl and fl["samples"]:
        base = b0["cpu_self_pct"] if b0 else 0
        per = (t["cpu_self_pct"] - base) / 100 / 100 * 1e6
        w(f"      per tcp run {per:.0f} us (above the no-check floor); a bare blocking connect + close on loopback costs"
          f" {fl['samples'][0]:.0f} us here: the kernel's TCP handshake is most of it")
u = rows.get("unitfail")
if u and u["samples"]:
    s = sorted(u["samples"])
    md = statistics.median(s)
    ok = s[-1] <= 300
    w(f"   unit fails -> withdrawn at both, n {len(s)}: min {s[0]:.1f} ms, median {md:.1f} ms, max {s[-1]:.1f} ms   target <= 300 ms: {'met' if ok else 'NOT met'}")
    verdicts.append(("unit fails -> withdrawn <= 300 ms", "met" if ok else "NOT met"))
elif u:
    w(f"   unit fails -> withdrawn: {u['note']}")
    verdicts.append(("unit fails -> withdrawn <= 300 ms", "not measured"))
w("targets (native):")
for k, v in verdicts:
    w(f"   {v:<12} {k}")
PY
}

# Alone: a lab of its own, the part, its table.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
	bench_alone native.sh -na
	# The same 3 scripts as bench.sh's.
	host_scripts h2
	"$LAB" failoverd-conf h2 secondary "$T/h2.d" >"$T/h2.conf"
	start_daemon h2 "$T/h2.conf"
	native_run
	echo
	native_report "$RES"
fi
