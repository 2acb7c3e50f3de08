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
for i in $(seq 100); do CTL checks 2>/dev/null | grep -q 'HTTP 200' && break; sleep 0.1; done
CTL checks >"$T/checks.out"
cat "$T/checks.out"
grep -q 'web-http.*HTTP 200' "$T/checks.out" || fail "failoverctl checks does not show the http check's HTTP 200"
grep -q 'web-tcp.*connected' "$T/checks.out" || fail "failoverctl checks does not show the tcp check connected"
grep -q 'app-file.*file says 0' "$T/checks.out" || fail "failoverctl checks does not show the file check"
ok "failoverctl checks shows each native check's result"
# Children other than FRR's own tools (an apply's vtysh or frr-reload.py): a native check runs none.
others() { ps -o comm= --ppid "$PID_h1" | grep -v -E '^(vtysh|python3|frr-reload)' || true; }

say "(a) the web server stops: h1 is withdrawn, h2 takes the traffic"
t0=$EPOCHREALTIME
web_stop
for rs in rs1 rs2; do
	ms=$(lab_wait_bestpath $rs $V4 "h2 65000:2" 15 "$t0") || fail "$rs does not move to h2"
	echo "MEASURED web server stopped -> $rs best path h2 (interval 0.5 s, fall 2): $ms ms"
done
wait_path rs1 $V4 "^h1 " !
wait_log h1 'check web-tcp: .*connect failed'
wait_log h1 'primary -> withdrawn'
ok "withdrawn, the log names the check: $(grep -m1 -E 'primary -> withdrawn' "$T/h1.log")"

say "(b) the web server is back: h1 is primary again"
t0=$EPOCHREALTIME
web_start
for rs in rs1 rs2; do
	ms=$(lab_wait_bestpath $rs $V4 "h1 65000:1" 15 "$t0") || fail "$rs does not move back to h1"
	echo "MEASURED web server started -> $rs best path h1 (rise 2): $ms ms"
done
expect_best $V6 "h1 65000:1" 10

say "(c) the file says 2 (keepalived's track_file): withdrawn; 0: back"
t0=$EPOCHREALTIME
echo 2 >"$T/h1.health.new" && mv -f "$T/h1.health.new" "$T/h1.health"
for rs in rs1 rs2; do
	ms=$(lab_wait_bestpath $rs $V4 "h2 65000:2" 15 "$t0") || fail "$rs does not move to h2"
	echo "MEASURED file 0 -> 2 -> $rs best path h2 (read on change, fall 2 at interval/4): $ms ms"
done
wait_log h1 'check app-file: .*file says 2'
echo 0 >"$T/h1.health.new" && mv -f "$T/h1.health.new" "$T/h1.health"
expect_best $V4 "h1 65000:1" 15
ok "the file check withdraws and restores h1"

say "no check process runs"
for _ in $(seq 20); do
	[ -z "$(others)" ] || { ps -f --ppid "$PID_h1"; fail "h1's failoverd has a child that is no FRR tool"; }
	sleep 0.1
done
ok "h1's failoverd ran no check process (sampled 20 times over 2 s, 3 checks every 0.5 s)"
