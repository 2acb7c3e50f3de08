#!/usr/bin/env bash
# Hostile input at the daemon (issue 7): FRR-line injection through config values never reaches vtysh
# (a recording vtysh wrapper), insecure check scripts are not run as root, and the control socket refuses
# unknown, oversized, non-printable and slow requests and peers outside its group.
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
# Shows the daemon's log when the test failed (status \$1).
show_log() { [ "$1" = 0 ] || [ ! -f "$T/h1.log" ] || { grep -v 'check flag\|^%' "$T/h1.log" || true; } | tail -40; }
# Own steps first, then lib.sh's cleanup with the test's status in $? (set +e: a failing step must
# not end the trap before cleanup).
trap 'rc_=$?; set +e; show_log $rc_; (exit $rc_); cleanup' EXIT

lab_up 1
PS=$(lab_pathspace h1)
# Records every call, one line per argument (an argument with a newline spans lines), then runs vtysh.
cat > "$T/vtysh" <<EOS
#!/bin/sh
{ echo "CALL \$#"; for a in "\$@"; do printf 'ARG %s\\n' "\$a"; done; } >> "$T/vtysh.calls"
exec /usr/bin/vtysh "\$@"
EOS
chmod 755 "$T/vtysh"
lab_failoverd_conf h1 primary "$(make_flag_check h1)" |
	sed "s|^\(  config = .*;\)$|\1 vtysh = \"$T/vtysh\"; timeout = 30.0;|" > "$T/good.conf"
grep -q "vtysh = \"$T/vtysh\"" "$T/good.conf" || fail "config edit failed"
# Every call's arguments: the recorded lines must all be CALL/ARG lines, none may carry the marker.
calls_clean() {
	[ -f "$T/vtysh.calls" ] || return 0
	! grep -v -E '^(CALL [0-9]+|ARG .*)$' "$T/vtysh.calls" && ! grep -q injected "$T/vtysh.calls"
}

# (a) injection through config values at start: test/unit/test_hostile.c (test_injection_refused_by_daemon,
# test_system_hostname_injection_refused) runs the daemon on each value without FRR. Here one of them
# reaches a running daemon by SIGHUP.
sed 's|^hostname = .*|hostname = "h1\\nrouter bgp 65099 injected";|' "$T/good.conf" > "$T/bad-hostname.conf"
grep -q injected "$T/bad-hostname.conf" || fail "hostname: the edit did not apply"

say "(a') an injected value by SIGHUP to a running daemon: refused, never reaches vtysh"
# Planted in FRR's directory as the frr user could: links from the names failoverd used to write and
# remove there (issue 11), and an editor's swap file. None may make root write, chown or unlink elsewhere.
CONFDIR=$(lab_host_conf h1 frr_confdir)
mkdir -p "$T/victim"; echo "not failoverd's" > "$T/victim/frr.conf"; echo "not failoverd's" > "$T/victim/cand"
ln -s "$T/victim" "$CONFDIR/.failoverd-reload"; ln -s "$T/victim/cand" "$CONFDIR/.frr.conf.candidate"
echo "an editor's" > "$CONFDIR/.frr.conf.swp"
chown -h frr:frr "$CONFDIR/.failoverd-reload" "$CONFDIR/.frr.conf.candidate" "$CONFDIR/.frr.conf.swp" 2>/dev/null || true
victim_intact() {
	[ "$(cat "$T/victim/frr.conf" "$T/victim/cand")" = "not failoverd's
not failoverd's" ] && [ "$(ls -A "$T/victim" | wc -l)" = 2 ] && [ "$(stat -c %U "$T/victim/frr.conf")" = root ] &&
		[ "$(cat "$CONFDIR/.frr.conf.swp")" = "an editor's" ]
}
cp "$T/good.conf" "$T/h1.conf"
start_failoverd h1
wait_log h1 'primary in effect' 90
expect_best $V4 "h1 65000:1" 20
victim_intact || { ls -la "$T/victim" "$CONFDIR"; fail "a full apply wrote or removed through a planted link, or removed the swap file"; }
ok "full apply with links planted in FRR's directory: nothing written or removed through them, the swap file kept"
for f in "$T"/bad-*.conf; do
	n=$(grep -c 'reload failed' "$T/h1.log" || true)
	cp "$f" "$T/h1.conf"; kill -HUP "$PID_h1"
	wait_until 5 "a refused reload of $(basename "$f")" '[ "$(grep -c "reload failed" "$T/h1.log")" -gt "$n" ]' ||
		fail "$(basename "$f") was not refused on SIGHUP"
done
set_flag h1 2; expect_best $V4 none 10; set_flag h1 0; expect_best $V4 "h1 65000:1" 10
calls=$(grep -c '^CALL' "$T/vtysh.calls")
calls_clean || { grep -n -v -E '^(CALL [0-9]+|ARG .*)$' "$T/vtysh.calls" | head; fail "an argument with a newline or an injected value reached vtysh"; }
ok "$calls vtysh calls recorded, none with a newline in an argument or an injected value"
cp "$T/good.conf" "$T/h1.conf"

say "(b) script security: insecure checks are not run as root, count as failed, the log says why"
kill -TERM "$PID_h1"; wait "$PID_h1" || true
victim_intact || { ls -la "$T/victim" "$CONFDIR"; fail "the leftover clean-up at start or the applies followed a planted link"; }
rm -f "$CONFDIR/.failoverd-reload" "$CONFDIR/.frr.conf.candidate" "$CONFDIR/.frr.conf.swp"
# command-in-open-dir: conf.d mode 0777 and probe.conf runs /bin/sh, whose own path passes the rule.
for kind in world-writable-dir not-root-owned command-in-open-dir; do
	d=$T/$kind.d; mkdir -p "$d"; chmod 755 "$d"
	case $kind in
	command-in-open-dir)
		printf 'command = ["/bin/sh", "-c", "touch %s; exit 0"];\n' "$T/$kind.ran" > "$d/probe.conf" ;;
	*) printf '#!/bin/sh\ntouch %s\nexit 0\n' "$T/$kind.ran" > "$d/probe"; chmod 755 "$d/probe" ;;
	esac
	case $kind in
	world-writable-dir|command-in-open-dir) chmod 0777 "$d"; why="insecure: $d is writable by" ;;
	not-root-owned) chown nobody "$d/probe"; why="insecure: $d/probe is not owned by root" ;;
	esac
	sed "s|^  directory = .*|  directory = \"$d\";|" "$T/good.conf" > "$T/h1.conf"
	: > "$T/h1.log"
	start_failoverd h1
	wait_log h1 "check probe: .*$why" 10
	wait_log h1 'start -> withdrawn' 5
	sleep 2.5
	[ ! -e "$T/$kind.ran" ] || fail "$kind: the insecure check was run"
	"$FAILOVERCTL" -s "$(lab_host_conf h1 runtime_dir)/control" status > "$T/out" 2>&1 || true
	grep -q "$why" "$T/out" || { cat "$T/out"; fail "$kind: failoverctl status does not say why"; }
	kill -TERM "$PID_h1"; wait "$PID_h1" || true
	ok "$kind: not run, failed (withdrawn), logged: $(grep -o -m1 'insecure: .*' "$T/h1.log")"
done
cp "$T/good.conf" "$T/h1.conf"

say "(c) the control socket"
: > "$T/h1.log"
start_failoverd h1
RUNDIR=$(lab_host_conf h1 runtime_dir)
SOCK=$RUNDIR/control
wait_until 5 "the control socket" '[ -S "$SOCK" ]' || fail "no control socket at $SOCK"
wait_log h1 'primary in effect' 90
# Let nobody reach the socket's directory, so that only the socket's own checks stand in the way.
d=$RUNDIR; while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
cat > "$T/client.py" <<'EOS'
import socket, sys, time
path, payload = sys.argv[1], sys.argv[2].encode().decode("unicode_escape").encode("latin-1")
if sys.argv[3:] == ["big"]:
    payload = b"status" + b"x" * 100000 + b"\n"
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
try:
    s.connect(path)
except OSError as e:
    print("connect:", e.strerror); sys.exit(3)
try:
    s.sendall(payload)
except OSError as e:
    print("send:", e.strerror)
# A server that closes with our request unread makes the close a reset, after its reply: keep what came.
data = b""
err = ""
try:
    while True:
        c = s.recv(65536)
        if not c: break
        data += c
except OSError as e:
    err = "recv: " + e.strerror
print(data.decode(errors="replace").strip(), err)
EOS
ask() { python3 "$T/client.py" "$SOCK" "$@"; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
fds() { ls "/proc/$PID_h1/fd" | wc -l; }
fd0=$(fds)
ask 'ping\n' | grep -q '"pong":true' || fail "ping"
"$FAILOVERCTL" --help > /dev/null 2>&1 || true
r=$(ask 'frobnicate\n'); grep -q '"code":"bad-request"' <<<"$r" || fail "unknown command: $r"
ok "unknown command refused: $r"
r=$(ask '' big); grep -q '"code":"bad-request"' <<<"$r" || fail "oversized request: $r"
ok "100 kB request refused: ${r:0:120}"
r=$(ask 'sta\x01tus\n'); grep -q '"code":"bad-request"' <<<"$r" || fail "non-printable request: $r"
ok "non-printable request refused"
r=$(ask 'status\n'); grep -q '"ok":true' <<<"$r" || fail "status as root: $r"
r=$(as_nobody /usr/bin/python3 "$T/client.py" "$SOCK" 'status\n' || true)
grep -q 'Permission denied' <<<"$r" || fail "nobody connected through mode $(stat -c %a "$SOCK"): $r"
ok "nobody is refused by the socket's mode: $r"
rc=0; as_nobody "$FAILOVERCTL" -s "$SOCK" status > "$T/out" 2>&1 || rc=$?
[ $rc != 0 ] || fail "failoverctl as nobody succeeded"
ok "failoverctl as nobody fails (exit $rc: $(head -1 "$T/out"))"
chmod 0666 "$SOCK"
r=$(as_nobody /usr/bin/python3 "$T/client.py" "$SOCK" 'drain evil\n' || true)
grep -q '"code":"denied"' <<<"$r" || fail "nobody got past a loosened socket mode: $r"
ok "with the mode loosened by hand, peer credentials still refuse nobody: ${r:0:100}"
chgrp nogroup "$SOCK"; chmod 0660 "$SOCK"
r=$(setpriv --reuid=nobody --regid=54321 --groups=nogroup -- /usr/bin/python3 "$T/client.py" "$SOCK" 'ping\n' || true)
grep -q '"pong":true' <<<"$r" || fail "a member of the socket's group was refused: $r"
ok "a member of the socket's group is served"
# A peer that sends nothing is cut after 2 s; 16 idle peers at once leave the 17th a "busy".
r=$(python3 - "$SOCK" <<'EOS' || true
import socket, sys, time
def reply(s):
    try:
        s.settimeout(5)
        data = b""
        while True:
            c = s.recv(4096)
            if not c: break
            data += c
    except OSError as e:
        data += b" (then %s)" % str(e).encode()
    return data.decode(errors="replace").strip()
socks = []
for i in range(16):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1]); socks.append(s)
time.sleep(0.2)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])
try:
    s.sendall(b"ping\n")     # the server may have answered "busy" and closed already: EPIPE
except OSError:
    pass
busy = reply(s)
t = time.time(); first = reply(socks[0])
print(busy, "|", first, "| idle peer cut after %.1f s" % (time.time() - t + 0.2))
EOS
)
grep -q '"code":"busy"' <<<"$r" || fail "17th connection: $r"
grep -q '"code":"timeout"' <<<"$r" || fail "idle connection: $r"
ok "17th connection busy, idle ones cut: ${r:0:200}"
sleep 2.5
[ "$(grep -c 'drain' "$T/h1.log" || true)" = 0 ] || fail "a refused peer drained the host"
expect_best $V4 "h1 65000:1" 5
# A leak stays; a check's child pipes or the watch's vty connection open at the moment of a count go. Each
# sample lists /proc/PID/fd, so wait_until needs no pause of its own.
wait_until 10 "failoverd's descriptors back to $fd0" 'fd1=$(fds); [ "$fd1" -le "$fd0" ]' 0 || true
echo "MEASURED control socket abuse: daemon descriptors $fd0 before, $fd1 after"
[ "$fd1" -le "$fd0" ] || { ls -l "/proc/$PID_h1/fd"; fail "descriptors leaked: $fd0 -> $fd1"; }
kill -0 "$PID_h1" || fail "failoverd died"
ok "still announcing, no descriptor leaked"

say "(d) reading and changing are separate permissions (issue 11)"
# The socket is still nogroup's (chgrp above): its group reads but may not change anything.
as_member() { local g=$1; shift; setpriv --reuid=nobody --regid=54321 --groups="$g" -- "$@"; }
as_member nogroup "$FAILOVERCTL" -s "$SOCK" status > "$T/out" 2>&1 || { cat "$T/out"; fail "the socket's group cannot read"; }
grep -q 'PRIMARY' "$T/out" || { cat "$T/out"; fail "status as the socket's group: no headline"; }
rc=0; as_member nogroup "$FAILOVERCTL" -s "$SOCK" drain --reason evil > "$T/out" 2>&1 || rc=$?
[ $rc = 4 ] && grep -q "permission denied: drain needs root or the daemon's user" "$T/out" ||
	{ cat "$T/out"; fail "the socket's group drained (exit $rc)"; }
ok "the socket's group reads but may not drain: $(cat "$T/out")"
# Groups of their own, set by a reload: nogroup reads, adm administers; nobody in neither is refused.
sed 's|^runtime_directory = .*|&\ncontrol = { read_group = "nogroup"; admin_group = "adm"; };|' "$T/good.conf" > "$T/h1.conf"
grep -q 'admin_group = "adm"' "$T/h1.conf" || fail "config edit failed"
kill -HUP "$PID_h1"
wait_until 10 "the socket's mode 666" '[ "$(stat -c %a "$SOCK")" = 666 ]' ||
	fail "the socket did not open up to the credential check (mode $(stat -c %a "$SOCK"))"
for cmd in drain resume reload; do
	rc=0; as_member nogroup "$FAILOVERCTL" -s "$SOCK" $cmd > "$T/out" 2>&1 || rc=$?
	[ $rc = 4 ] && grep -q "permission denied: $cmd needs root, the daemon's user or control.admin_group" "$T/out" ||
		{ cat "$T/out"; fail "read_group member: $cmd exit $rc"; }
done
as_member nogroup "$FAILOVERCTL" -s "$SOCK" checks > /dev/null 2>&1 || fail "read_group member cannot list the checks"
rc=0; setpriv --reuid=nobody --regid=54321 --clear-groups -- "$FAILOVERCTL" -s "$SOCK" status > "$T/out" 2>&1 || rc=$?
[ $rc = 4 ] || { cat "$T/out"; fail "nobody in neither group: status exit $rc"; }
ok "read_group member: status and checks yes; drain, resume, reload denied (exit 4); others refused"
[ "$(grep -c 'drain requested' "$T/h1.log" || true)" = 0 ] || fail "a denied drain reached the daemon"
as_member adm "$FAILOVERCTL" -s "$SOCK" drain --reason "by an admin" > "$T/out" 2>&1 || { cat "$T/out"; fail "admin_group member cannot drain"; }
wait_log h1 'drain requested by uid 65534: by an admin' 10
expect_best $V4 none 20
as_member adm "$FAILOVERCTL" -s "$SOCK" resume > "$T/out" 2>&1 || { cat "$T/out"; fail "admin_group member cannot resume"; }
expect_best $V4 "h1 65000:1" 20
ok "admin_group member drained and resumed"
cp "$T/good.conf" "$T/h1.conf"
