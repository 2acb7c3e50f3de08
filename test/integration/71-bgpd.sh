#!/usr/bin/env bash
# bgpd and zebra faults (issue 7): bgpd not running at start (failoverd waits for its vty socket, without
# busy-looping or re-running vtysh, and applies when bgpd appears), bgpd SIGKILLed in the middle of a fast path, zebra restarted.
. "$(dirname "$0")/lib.sh"
# Shows the daemon's log when the test failed (status \$1).
show_log() { [ "$1" = 0 ] || [ ! -f "$T/h1.log" ] || { grep -v 'check flag\|^%' "$T/h1.log" || true; } | tail -40; }
# Own steps first, then lib.sh's cleanup with the test's status in $? (set +e: a failing step must
# not end the trap before cleanup).
trap 'rc_=$?; set +e; show_log $rc_; (exit $rc_); cleanup' EXIT
V4=198.51.100.10/32
V6=2001:db8:e001:1b8c::/64

lab_up 1
lab_failoverd_conf h1 primary "$(make_flag_check h1)" |
	sed -e 's|^\(  directory = .*;\)$|\1 interval = 0.5; rise = 1; fall = 1;|' \
		-e 's|^frr = {|frr = { timeout = 30;|' > "$T/h1.conf"  # frr-reload.py takes >10 s on a loaded machine
PS=$(lab_pathspace h1)
CONF=$(lab_host_conf h1 frr_config)
"$FAILOVERD" -c "$T/h1.conf" --render --state primary > "$T/render.primary"
"$FAILOVERD" -c "$T/h1.conf" --render --state demoted > "$T/render.demoted"
bgpd_pid() { cat "/var/run/frr/$PS/bgpd.pid"; }
# CPU seconds (user+system) of a process and of its reaped children, from /proc/PID/stat.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f %.2f\n", ($14+$15)/hz, ($16+$17)/hz }' "/proc/$1/stat"; }

say "(a) bgpd not running at start"
lab_stop h1 bgpd
start_failoverd h1 -v
wait_log h1 'full apply to primary failed' 20
read -r own0 kids0 < <(cpu "$PID_h1"); t0=$(now)
n0=$(grep -c 'full apply to .* failed' "$T/h1.log")
sleep 10
read -r own1 kids1 < <(cpu "$PID_h1")
n1=$(grep -c 'full apply to .* failed' "$T/h1.log")
own=$(python3 -c "print(round(100*($own1-$own0)/10,1))"); kids=$(python3 -c "print(round(100*($kids1-$kids0)/10,1))")
echo "MEASURED bgpd down for 10 s: failoverd used $own% CPU, its vtysh/frr-reload children $kids%; $((n1 - n0)) failed attempts"
python3 -c "import sys; sys.exit(0 if $own < 10 else 1)" || fail "failoverd busy-loops while bgpd is down ($own% CPU)"
[ $((n1 - n0)) -le 6 ] || fail "$((n1 - n0)) attempts in 10 s: no backoff"
# Issue 16: with bgpd's vty socket gone the queue waits for it (a connect each poll) instead of re-running
# vtysh and frr-reload.py.
[ $((n1 - n0)) -eq 0 ] || fail "$((n1 - n0)) attempts in 10 s while bgpd's vty socket was gone: no wait for it"
grep -q 'apply queue: [a-z-]* -> bgpd-wait' "$T/h1.log" || fail "the apply queue never waited for bgpd's socket"
ok "waits for bgpd's vty socket: no attempt in 10 s, $own% CPU, children $kids%"
grep -q 'apply failed, retrying' <(grep -a . "$T/h1.log") || true
t1=$(now)
lab_start h1 --no-config
expect_best $V4 "h1 65000:1" 40
echo "MEASURED bgpd started after $(python3 -c "print(round($t1-$t0+0.0,1))") s of waiting: announced $(ms_since "$t1") ms later"
expect_best $V6 "h1 65000:1" 10
cmp -s "$CONF" "$T/render.primary" || fail "frr.conf is not the primary rendering"
ok "applied once bgpd appeared; frr.conf is the primary rendering"

say "(b) bgpd SIGKILLed during a fast path (primary -> demoted)"
wait_log h1 'in effect' 5
# The fast path talks to bgpd's vty socket for about a millisecond: stop bgpd first, so that the fast path
# is certainly waiting for its answer when bgpd is killed.
kill -STOP "$(bgpd_pid)"
set_flag h1 1
wait_log h1 'fast path to demoted started' 20
kill -KILL "$(bgpd_pid)"
ok "bgpd killed while the fast path waited for its answer"
wait_log h1 'primary -> demoted'
wait_until 5 "bgpd to be gone" '[ "$(cut -d" " -f3 "/proc/$(bgpd_pid)/stat" 2>/dev/null || echo X)" != S ]' || true
cmp -s "$CONF" "$T/render.primary" || cmp -s "$CONF" "$T/render.demoted" || fail "frr.conf is neither rendering"
ok "frr.conf is a whole rendering (old or new) after bgpd died"
t1=$(now)
lab_start h1 --no-config
wait_log h1 'bgpd (answers again|restarted)' 20
# An empty bgpd announces nothing: only failoverd's re-apply brings the demoted path back.
wait_path rs1 $V4 "^h1 65000:2 .*aspath=65001[ ,]65001[ ,]65001[ ,]65001"
echo "MEASURED bgpd back (empty, no config) to the demoted path re-applied at the route server: $(ms_since "$t1") ms"
wait_log h1 'demoted in effect' 5
cmp -s "$CONF" "$T/render.demoted" || fail "frr.conf is not the demoted rendering"
set_flag h1 0
expect_best $V4 "h1 65000:1" 30
ok "the fast path works again after bgpd's restart"

say "(c) zebra restarted"
wait_log h1 'in effect' 5
lab_stop h1 zebra; t1=$(now)
sleep 1
lab_start h1 --no-config
expect_best $V4 "h1 65000:1" 30
expect_best $V6 "h1 65000:1" 30
echo "MEASURED zebra stopped for 1 s: announcement back (or kept) $(ms_since "$t1") ms after the stop"
set_flag h1 2
expect_best $V4 none 15
ok "a withdrawal after the zebra restart reaches the route servers"
# Re-announced while zebra is down: FRR 8.4.4 creates the import-check entry unregistered and never
# registers it once zebra is back, so the network statement stays "inaccessible" for good
# (docs/frr-facts.md, "zebra restart"). failoverd must say so and enter the statement again.
lab_stop h1 zebra
# Every 100 ms until the route servers have the path again and 3 s after: what failoverctl status says
# about $V4 (--json) and whether rs1 has h1's path. "announced" while rs1 has nothing is a lie unless
# the next sample shows rs1 with the path (the update in flight).
/usr/bin/python3 - "$FAILOVERCTL" "$T/h1.conf" "/var/run/frr/$(lab_pathspace rs1)/bgpd.vty" "$V4" "$T/samples" \
	"$ROOT/test/lab" <<'EOS' &
import json, subprocess, sys, time
ctl, conf, rs_sock, prefix, out, labdir = sys.argv[1:7]
sys.path.insert(0, labdir)
from frrq import Vty
rs = Vty(rs_sock)
end = None
with open(out, "w") as f:
    while end is None or time.time() < end:
        try:
            st = json.loads(subprocess.run([ctl, "-c", conf, "status", "--json"], capture_output=True,
                                           timeout=10).stdout)
            ip = next(i for i in st["shared_ips"] if i["prefix"] == prefix)
            a, text = ip.get("announcement") or "?", subprocess.run([ctl, "-c", conf, "status"],
                                                                    capture_output=True, timeout=10).stdout.decode()
            line = next((l for l in text.splitlines() if l.strip().startswith(prefix)), "?")
        except Exception as e:
            a, line = "error", repr(e)
        j = rs.json("show bgp ipv4 unicast %s json" % prefix) or {}
        has = any(p.get("peer", {}).get("routerId") == "192.0.2.11" for p in j.get("paths", []))
        f.write("%.3f %s %d %s\n" % (time.time(), a, has, " ".join(line.split()))); f.flush()
        if has and end is None:
            end = time.time() + 3
        time.sleep(0.1)
EOS
MON=$!
PIDS+=($MON)
n0=$(grep -c 'primary in effect' "$T/h1.log" || true)
set_flag h1 0
wait_until 60 "primary in effect" '[ "$(grep -c "primary in effect" "$T/h1.log" || true)" -gt "$n0" ]' 0.1 || true
wait_until 30 "status to say $V4 is NOT ANNOUNCED" \
	'"$FAILOVERCTL" -c "$T/h1.conf" status > "$T/status" 2>&1 && grep -q "^  $V4 .*NOT ANNOUNCED" "$T/status"' 0.1 || true
grep "^  $V4 " "$T/status" || true
grep -q "^  $V4 .*NOT ANNOUNCED" "$T/status" || { cat "$T/status"; fail "status does not say $V4 is not announced while zebra is down"; }
ok "re-announced while zebra is down: status says configured but NOT ANNOUNCED"
lab_start h1 --no-config; t1=$(now)
lab_wait_bestpath rs1 $V4 "h1 65000:1" 90 > /dev/null || {
	cat "$T/samples"; fail "re-announcement after the zebra restart never reached rs1: $(lab_vtysh h1 "show bgp ipv4 unicast $V4" | grep -m1 -o 'inaccessible\|no best path' || echo '?')"; }
back=$(ms_since "$t1")
expect_best $V4 "h1 65000:1" 30
wait "$MON" || true
revalidated=$(grep -c 'entering its network statement again' "$T/h1.log" || true)
echo "MEASURED re-announced while zebra was down: the route servers have the path again $back ms after zebra started ($revalidated re-entr$([ "$revalidated" = 1 ] && echo y || echo ies) of the network statement)"
/usr/bin/python3 - "$T/samples" <<'EOS' || { cat "$T/samples"; fail "failoverctl status said announced while rs1 had no path"; }
import sys
rows = [l.split(" ", 3) for l in open(sys.argv[1]) if l.strip()]
bad = [r for i, r in enumerate(rows)
       if r[1] == "announced" and r[2] == "0" and not (i + 1 < len(rows) and rows[i + 1][2] == "1")]
states = [r[1] for r in rows]
seen = sorted(set(states), key=states.index)
print("status samples: %d, states in order of appearance: %s" % (len(rows), ", ".join(seen)))
print("e.g.: " + "; ".join(next(r[3] for r in rows if r[1] == s) for s in seen if s in ("configured", "announced")))
sys.exit(1 if bad or "announced" not in states or "configured" not in states else 0)
EOS
ok "no status sample claimed announced while the route servers had nothing; announced once they had it"
grep -q 'primary in effect' "$T/h1.log" || fail "no primary in effect"
kill -0 "$PID_h1" || fail "failoverd died"
grep -q 'primary in effect' <(tail -n 5 "$T/h1.log") || wait_log h1 'primary in effect'
cmp -s "$CONF" "$T/render.primary" || fail "frr.conf is not the primary rendering"
