#!/usr/bin/env bash
# bgpd busy is not bgpd restarted (issue 11, item 9): the real bgpd keeps running while a fake takes its
# vty socket path and (a) accepts and never answers, (b) has a full listen backlog, (c) streams the real
# bgpd's replies in small chunks with pauses (as FRR 10.2-10.3.1 does). failoverd says "busy", counts it,
# and when the socket answers again it runs no full apply (bgpd's pid did not change); it never hangs up
# in the middle of a reply.
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
FAKE=
stop_fake() { [ -z "$FAKE" ] || { kill "$FAKE" 2>/dev/null || true; wait "$FAKE" 2>/dev/null || true; }; FAKE=; }
show_log() { [ "$1" = 0 ] || [ ! -f "$T/h1.log" ] || { grep -v 'check flag\|^%' "$T/h1.log" || true; } | tail -40; }
# The real socket keeps a second name (a hard link: bgpd keeps listening on it) while the fake's socket is
# renamed over the path; both swaps are atomic renames, so the path never goes missing (that would be a
# real "bgpd not running").
restore_socket() { [ -S "$SOCK.real" ] && mv -f "$SOCK.real" "$SOCK" || true; }
trap 'rc_=$?; set +e; restore_socket; stop_fake; show_log $rc_; (exit $rc_); cleanup' EXIT

lab_up 1
PS=$(lab_pathspace h1)
SOCK=/var/run/frr/$PS/bgpd.vty
lab_failoverd_conf h1 primary "$(make_flag_check h1)" |
	sed -e 's|^bgp = {|bgp = { poll_interval = 0.2;|' -e 's|^frr = {|frr = { timeout = 15;|' > "$T/h1.conf"
echo "metrics_file = \"$T/metrics.prom\";" >> "$T/h1.conf"
grep -q "timeout = 15" "$T/h1.conf" || fail "config edit failed"
CTL() { "$FAILOVERCTL" -c "$T/h1.conf" "$@"; }
start_failoverd h1 -v
wait_log h1 "primary in effect" 90
expect_best $V4 "h1 65000:1" 20
wait_log h1 'route server .*session up' 20
bgpd_pid=$(cat "/var/run/frr/$PS/bgpd.pid")
fulls() { grep -c 'full apply' "$T/h1.log" || true; }

# Runs the fake on the socket path: MODE stall | backlog | chunks.
start_fake() {
	ln -f "$SOCK" "$SOCK.real"
	rm -f "$SOCK.fake"
	/usr/bin/python3 - "$1" "$SOCK.fake" "$SOCK.real" "$T/fake.$1" <<'EOS' &
import os, socket, sys, threading, time
mode, path, real, report = sys.argv[1:5]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); os.chmod(path, 0o770)
if mode == "backlog":
    s.listen(0)                 # one pending connection fills it; nothing is ever accepted
    hold = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); hold.connect(path)
    open(report, "w").write("full\n")
    while True: time.sleep(1)
s.listen(16)
stats = {"replies": 0, "cut": 0}
def save(): open(report, "w").write("replies %d cut %d\n" % (stats["replies"], stats["cut"]))
save()
def stall(c):
    while c.recv(65536): pass   # reads the commands, answers nothing
def chunks(c):
    b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); b.connect(real)
    buf = b""
    while True:
        d = c.recv(65536)
        if not d: return
        buf += d
        while b"\0" in buf:
            cmd, buf = buf.split(b"\0", 1)
            b.sendall(cmd + b"\0")
            reply = b""
            while not (len(reply) >= 4 and reply[-4:-1] == b"\0\0\0"):
                reply += b.recv(65536)
            try:
                for i in range(0, len(reply), 512):     # 512-byte chunks, 5 ms apart
                    c.sendall(reply[i:i + 512]); time.sleep(0.005)
            except OSError:
                stats["cut"] += 1; save(); return     # the client hung up in the middle of a reply
            stats["replies"] += 1; save()
def serve(c):
    try: (stall if mode == "stall" else chunks)(c)
    except OSError: pass
    finally: c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOS
	FAKE=$!
	local mode=$1
	wait_until 10 "the fake bgpd ($mode)" '[ -s "$T/fake.$mode" ]' || fail "the fake did not start"
	mv -f "$SOCK.fake" "$SOCK"
}

# Waits until the log has more than N lines matching an extended regex.
wait_count() {
	local pat=$1 n=$2
	wait_until 60 "more than $n '$pat' in the log" '[ "$(grep -cE "$pat" "$T/h1.log" || true)" -gt "$n" ]' ||
		fail "no new '$pat' in the log after 60 s"
}
# Waits until failoverctl status (text) matches an extended regex.
wait_status() {
	local pat=$1 secs=${2:-60}
	wait_until "$secs" "failoverctl status to match '$pat'" 'CTL status > "$T/status" 2>&1 && grep -qE "$pat" "$T/status"' 0.1 ||
		{ cat "$T/status"; fail "status never matched '$pat'"; }
}

for mode in stall backlog; do
	say "($mode) bgpd's socket path answers nothing"
	f0=$(fulls); a0=$(grep -c 'bgpd answers again after' "$T/h1.log" || true)
	b0=$(grep -c 'bgpd is busy' "$T/h1.log" || true)
	start_fake $mode
	wait_count 'bgpd is busy' "$b0"
	wait_status 'bgpd: reachable, BUSY \(.*\), retrying'
	grep -E '^bgpd:' "$T/status"
	grep -q '^failoverd_bgpd_busy 1$' "$T/metrics.prom" || fail "metrics do not say busy"
	kill -0 "$PID_h1" || fail "failoverd died"
	ok "$mode: status and metrics say busy: $(grep -E '^bgpd:' "$T/status")"
	restore_socket; stop_fake
	wait_count 'bgpd answers again after' "$a0"
	wait_status '^bgpd: reachable, [0-9]+ slow polls?, last apply ok'
	[ "$(cat "/var/run/frr/$PS/bgpd.pid")" = "$bgpd_pid" ] || fail "bgpd restarted during the test"
	grep -E 'answers again: full apply|restarted \(pid' "$T/h1.log" && fail "$mode: a busy bgpd was taken for a restart"
	[ "$(fulls)" = "$f0" ] || { grep 'full apply' "$T/h1.log"; fail "$mode: a full apply against a bgpd that was only busy"; }
	expect_best $V4 "h1 65000:1" 10
	ok "$mode: back without a full apply ($(grep -c 'bgpd is \(still \)\?busy' "$T/h1.log") busy lines so far)"
done
grep -q '^failoverd_bgpd_slow_polls_total [1-9]' "$T/metrics.prom" || fail "slow polls not counted"
ok "slow polls counted: $(grep '^failoverd_bgpd_slow_polls_total' "$T/metrics.prom")"

say "(chunks) the replies come in 512-byte chunks, 5 ms apart"
f0=$(fulls); n0=$(grep -c 'bgpd is \(still \)\?busy' "$T/h1.log" || true)
start_fake chunks
replies() { local r; read -r _ r _ _ < "$T/fake.chunks" 2>/dev/null || r=0; [ "${r:-0}" -ge "$1" ]; }
wait_until 20 "40 replies through the chunking fake" 'replies 40' 0.1 || true
read -r _ r _ cut < "$T/fake.chunks"
[ "$r" -ge 40 ] || fail "only $r replies went through the chunking fake"
[ "$cut" = 0 ] || fail "failoverd hung up in the middle of $cut replies"
[ "$(grep -c 'bgpd is \(still \)\?busy' "$T/h1.log" || true)" = "$n0" ] || fail "chunked replies taken for a busy bgpd"
CTL status --json | /usr/bin/python3 -c '
import json, sys
st = json.load(sys.stdin)
assert st["bgpd"]["reachable"] is True and st["bgpd"]["busy"] is False, st["bgpd"]
assert all(ip["announcement"] == "announced" for ip in st["shared_ips"]), st["shared_ips"]' ||
	fail "status through the chunking fake is wrong"
ok "$r chunked replies read whole, none cut; status reads announced through them"
restore_socket; stop_fake
[ "$(fulls)" = "$f0" ] || fail "a full apply during the chunked replies"

kill -TERM "$PID_h1"; rc=0; wait "$PID_h1" || rc=$?
[ $rc = 0 ] || fail "exit $rc after SIGTERM"
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$T/h1.log" && fail "sanitizer report"
ok "clean exit"
