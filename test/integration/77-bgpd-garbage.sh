#!/usr/bin/env bash
# bgpd answering garbage (issue 7): bgpd is replaced by a fake on its vty socket that answers the watch's
# and vtysh's commands with truncated, byte-flipped, deeply nested, huge, unterminated or cut-off replies
# built from the FRR fixtures. failoverd polls it every 100 ms for 12 s: no crash, no sanitizer report,
# no descriptor growth; when the real bgpd is back, the state is re-applied.
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
FAKE=
stop_fake() { local rc=$?; [ -z "$FAKE" ] || { kill "$FAKE" 2>/dev/null || true; wait "$FAKE" 2>/dev/null || true; }; FAKE=; return $rc; }
# Shows the daemon's log when the test failed (status \$1).
show_log() { [ "$1" = 0 ] || [ ! -f "$T/h1.log" ] || { grep -v 'check flag\|^%' "$T/h1.log" || true; } | tail -40; }
# Own steps first, then lib.sh's cleanup with the test's status in $? (set +e: a failing step must
# not end the trap before cleanup).
trap 'rc_=$?; set +e; stop_fake; show_log $rc_; (exit $rc_); cleanup' EXIT

lab_up 1
PS=$(lab_pathspace h1)
lab_failoverd_conf h1 primary "$(make_flag_check h1)" |
	sed 's|^bgp = {|bgp = { poll_interval = 0.1;|' > "$T/h1.conf"
grep -q 'poll_interval = 0.1' "$T/h1.conf" || fail "config edit failed"
start_failoverd h1 -v
wait_log h1 'primary in effect' 20
expect_best $V4 "h1 65000:1" 20
# Descriptors, the fewest seen while failoverd has no child: a child in flight holds its output pipes and
# sd-event's pidfd (seen on FRR 10.3: 9 -> 12 while frr-reload.py waited on the fake), a vty query its
# socket. Samples for at least 2 s and until 5 samples found no child (at most 30 s; then all samples).
fds() {
	local n m=1000000 all=1000000 quiet=0 i
	for ((i = 0; i < 300; i++)); do
		if ! pgrep -P "$PID_h1" >/dev/null; then
			n=$(ls "/proc/$PID_h1/fd" | wc -l)
			pgrep -P "$PID_h1" >/dev/null || { quiet=$((quiet + 1)); [ "$n" -lt "$m" ] && m=$n; }
		fi
		n=$(ls "/proc/$PID_h1/fd" | wc -l); [ "$n" -lt "$all" ] && all=$n
		[ $i -ge 20 ] && [ $quiet -ge 5 ] && break
		sleep 0.1
	done
	[ $quiet -gt 0 ] && echo "$m" || echo "$all"
}
base=$(fds)

say "bgpd replaced by a fake that answers garbage"
lab_stop h1 bgpd
python3 - "/var/run/frr/$PS/bgpd.vty" "$ROOT/test/fixtures/frr" "$T/fake.count" <<'EOS' &
import os, random, socket, sys, threading, time
path, fixdir, countfile = sys.argv[1:4]
fixtures = [open(os.path.join(fixdir, f), "rb").read() for f in sorted(os.listdir(fixdir))]
rnd = random.Random(7)
def garbage():
    f = rnd.choice(fixtures)
    k = rnd.randrange(8)
    if k == 0: return f[:rnd.randrange(len(f) + 1)]                       # truncated
    if k == 1:                                                            # bytes flipped (no NUL)
        b = bytearray(f)
        for _ in range(rnd.randrange(1, 20)):
            i = rnd.randrange(len(b)); b[i] = rnd.randrange(1, 256)
        return bytes(b)
    if k == 2: n = rnd.randrange(1, 200000); return b"{" * n + b"}" * n   # deep nesting
    if k == 3: return b'{"2001:db8:f0::1":{"bgpState":"' + b"E" * 3_000_000 + b'"}}'   # huge
    if k == 4: return bytes(rnd.randrange(1, 256) for _ in range(rnd.randrange(4096)))  # noise
    if k == 5: return b'{"ipv4Unicast":{"routerId":1,"peers":[]},"2001:db8:f0::1":null,"x":{"bgpState":{}}}'
    return f
served = 0
def serve(c):
    global served
    try:
        c.settimeout(5)
        buf = b""
        while True:
            d = c.recv(65536)
            if not d: return
            buf += d
            while b"\0" in buf:
                cmd, buf = buf.split(b"\0", 1)
                served += 1
                if served % 10 == 0:
                    open(countfile, "w").write(str(served))
                mode = rnd.randrange(50)
                if mode < 5: c.close(); return                             # hang up mid-conversation
                body = garbage()
                if mode < 10: c.sendall(body[: len(body) // 2]); c.close(); return   # cut-off reply
                if mode < 14: c.sendall(body); c.close(); return           # no terminator, then EOF
                if mode == 14: c.sendall(body[:100]); time.sleep(3); c.close(); return  # stalls
                c.sendall(body + b"\0\0\0" + bytes([rnd.choice([0, 0, 0, 1, 2, 255])]))
    except OSError:
        pass
    finally:
        c.close()
try: os.unlink(path)
except FileNotFoundError: pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(path); os.chmod(path, 0o770); s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOS
FAKE=$!
sleep 2
fd0=$(fds)
sleep 10
kill -0 "$PID_h1" || fail "failoverd died on garbage from bgpd's socket"
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$T/h1.log" && fail "sanitizer report"
fd1=$(fds)
echo "MEASURED fake bgpd answered $(cat "$T/fake.count" 2>/dev/null || echo '<10') commands in 12 s; failoverd descriptors $fd0 -> $fd1; failoverd logged $(grep -c 'bgpd unreachable' "$T/h1.log") x unreachable, $(grep -c 'cannot parse' "$T/h1.log") x cannot parse, $(grep -c 'drift' "$T/h1.log") x drift, $(grep -c 'answers again\|restarted' "$T/h1.log") x back"
[ "$fd1" -le $((fd0 + 2)) ] || { ls -l "/proc/$PID_h1/fd"; fail "descriptors grew from $fd0 to $fd1"; }
ok "failoverd survived 12 s of garbage: no crash, no sanitizer report, no descriptor growth"

say "the real bgpd is back: re-applied"
stop_fake
rm -f "/var/run/frr/$PS/bgpd.vty"
lab_start h1 --no-config
expect_best $V4 "h1 65000:1" 40
ok "announced again once the real bgpd answers"
# A leak stays; what was in flight during the garbage is gone once all is quiet again.
# fds samples for 2 s or more: wait_until needs no pause of its own.
wait_until 60 "failoverd's descriptors back to $base (+1)" 'fd2=$(fds); [ "$fd2" -le $((base + 1)) ]' 0 || true
echo "MEASURED failoverd descriptors: $base before the garbage, $fd2 after it"
[ "$fd2" -le $((base + 1)) ] || { ls -l "/proc/$PID_h1/fd"; fail "descriptors grew from $base to $fd2"; }
ok "no descriptor left behind by the garbage"
kill -TERM "$PID_h1"; rc=0; wait "$PID_h1" || rc=$?
[ $rc = 0 ] || fail "exit $rc after SIGTERM"
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$T/h1.log" && fail "sanitizer report at exit"
ok "clean exit"
