#!/usr/bin/env bash
# Native checks against real FRR (issue 16): h1 guards the address with a tcp, an http and a file check and
# runs no check process. Stopping the web server withdraws h1 (traffic to h2), starting it again restores h1;
# the file saying 2 withdraws it too; failoverctl checks shows what each native check saw.
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
V6=2001:db8:e001:1b8c::/64
PORT=18080

lab_up 2
D=$T/h1.conf.d
mkdir -p "$D" "$T/www"; chmod 755 "$D"
echo "all is well" >"$T/www/health"
echo 0 >"$T/h1.health"
printf 'type = "tcp";\nhost = "127.0.0.1";\nport = %d;\n' $PORT >"$D/web-tcp.conf"
printf 'type = "http";\nurl = "http://127.0.0.1:%d/health";\nexpect = "well";\n' $PORT >"$D/web-http.conf"
printf 'type = "file";\npath = "%s";\n' "$T/h1.health" >"$D/app-file.conf"
lab_failoverd_conf h1 primary "$D" |
	sed 's|^\(  directory = .*;\)$|\1 interval = 0.5; timeout = 1.0; rise = 2; fall = 2;|' >"$T/h1.conf"
lab_failoverd_conf h2 secondary "$(make_flag_check h2)" >"$T/h2.conf"
"$FAILOVERD" -c "$T/h1.conf" --check | grep -q '3 checks' || fail "the 3 native checks are not all found"
ok "failoverd --check accepts the tcp, http and file checks"

# Runs a command at t0, a moment ahead, with both route servers polled from before it: prints the later
# of the two times (ms from t0) until their best path for V4 is WANT. No poller start-up in the figure.
moved_ms() {
	local want=$1 t0 r1 r2 m1 m2
	shift
	t0=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.6f", t + 1.0 }')
	lab_wait_bestpath rs1 $V4 "$want" 15 "$t0" >"$T/m.rs1" & r1=$!
	lab_wait_bestpath rs2 $V4 "$want" 15 "$t0" >"$T/m.rs2" & r2=$!
	while awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { exit !(a < b) }'; do sleep 0.002; done
	"$@"
	wait $r1 || fail "rs1: best path is not '$want'"
	wait $r2 || fail "rs2: best path is not '$want'"
	m1=$(cat "$T/m.rs1"); m2=$(cat "$T/m.rs2")
	echo $((m1 > m2 ? m1 : m2))
}
set_health() { echo "$1" >"$T/h1.health.new" && mv -f "$T/h1.health.new" "$T/h1.health"; }

WEB=
web_start() {
	ip netns exec "$(lab_ns h1)" /usr/bin/python3 -m http.server $PORT --bind 127.0.0.1 --directory "$T/www" \
		>>"$T/web.log" 2>&1 &
	WEB=$!
	PIDS+=($WEB)
}
web_stop() { kill -TERM "$WEB"; wait "$WEB" 2>/dev/null || true; }

web_start
start_failoverd h1
start_failoverd h2
expect_best $V4 "h1 65000:1" 30
expect_best $V6 "h1 65000:1" 30
CTL() { "$FAILOVERCTL" -c "$T/h1.conf" "$@"; }
wait_until 10 "HTTP 200 in failoverctl checks" 'CTL checks 2>/dev/null | grep -q "HTTP 200"' 0.1 || true
CTL checks >"$T/checks.out"
cat "$T/checks.out"
grep -q 'web-http.*HTTP 200' "$T/checks.out" || fail "failoverctl checks does not show the http check's HTTP 200"
grep -q 'web-tcp.*connected' "$T/checks.out" || fail "failoverctl checks does not show the tcp check connected"
grep -q 'app-file.*file says 0' "$T/checks.out" || fail "failoverctl checks does not show the file check"
ok "failoverctl checks shows each native check's result"
# Children other than FRR's own tools (an apply's vtysh or frr-reload.py): a native check runs none.
others() { ps -o comm= --ppid "$PID_h1" | grep -v -E '^(vtysh|python3|frr-reload)' || true; }

say "(a) the web server stops: h1 is withdrawn, h2 takes the traffic"
ms=$(moved_ms "h2 65000:2" web_stop)
echo "MEASURED web server stopped -> h2 best at both route servers (interval 0.5 s, fall 2): $ms ms"
wait_path rs1 $V4 "^h1 " !
wait_log h1 'check web-tcp: .*connect failed'
wait_log h1 'primary -> withdrawn'
ok "withdrawn, the log names the check: $(grep -m1 -E 'primary -> withdrawn' "$T/h1.log")"

say "(b) the web server is back: h1 is primary again"
web_start
expect_best $V4 "h1 65000:1" 15
expect_best $V6 "h1 65000:1" 10

say "(c) the file says 2 (keepalived's track_file): withdrawn; 0: back"
ms=$(moved_ms "h2 65000:2" set_health 2)
echo "MEASURED file 0 -> 2 -> h2 best at both route servers (read on change, fall 2 at interval/4): $ms ms"
wait_log h1 'check app-file: .*file says 2'
# The daemon's side of it: the check's result, the decision, the apply.
grep -E 'check app-file: failed|primary -> withdrawn \(check app-file|withdrawn in effect' "$T/h1.log" | tail -3
set_health 0
expect_best $V4 "h1 65000:1" 15
ok "the file check withdraws and restores h1"

say "no check process runs"
for _ in $(seq 20); do
	[ -z "$(others)" ] || { ps -f --ppid "$PID_h1"; fail "h1's failoverd has a child that is no FRR tool"; }
	sleep 0.1
done
ok "h1's failoverd ran no check process (sampled 20 times over 2 s, 3 checks every 0.5 s)"
