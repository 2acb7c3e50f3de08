#!/usr/bin/env bash
# frr.conf's directory full (a 16 KiB tmpfs) or read-only (issue 7): the write fails cleanly, the old file
# stays intact, the error is logged, failoverd does not count the state as applied, and retries until the
# disk is usable again.
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
D=$T/frrdir
mounted=
unmount() { local rc=$?; [ -z "$mounted" ] || umount -l "$D" 2>/dev/null || true; return $rc; }
# Own steps first, then lib.sh's cleanup with the test's status in $? (set +e: a failing step must
# not end the trap before cleanup).
trap 'rc_=$?; set +e; unmount; (exit $rc_); cleanup' EXIT

lab_up 1
mkdir -p "$D"
mount -t tmpfs -o size=16k,mode=0755 fot73 "$D"; mounted=1
lab_failoverd_conf h1 primary "$(make_flag_check h1)" |
	sed -e 's|^\(  directory = .*;\)$|\1 interval = 0.5; rise = 1; fall = 1;|' \
	    -e "s|^  config = .*;$|  config = \"$D/frr.conf\";|" > "$T/h1.conf"
grep -q "config = \"$D/frr.conf\"" "$T/h1.conf" || fail "config edit failed"
for s in primary demoted withdrawn; do "$FAILOVERD" -c "$T/h1.conf" --render --state $s > "$T/render.$s"; done
start_notify_listener
NOTIFY_SOCKET=$NOTIFY_SOCK start_failoverd h1
wait_notify '^READY=1' 20
expect_best $V4 "h1 65000:1" 20
cmp -s "$D/frr.conf" "$T/render.primary" || fail "frr.conf is not the primary rendering"
ok "frr.conf written to the tmpfs"
applied_count() { grep -c 'in effect' "$T/h1.log" || true; }
# Waits until NODE's log has more than N lines matching a pattern.
wait_more() {
	local node=$1 pat=$2 n=$3 secs=${4:-15}
	wait_until "$secs" "more than $n '$pat' in $node's log" '[ "$(grep -cE "$pat" "$T/$node.log" || true)" -gt "$n" ]' ||
		{ tail -20 "$T/$node.log"; fail "no new '$pat' in $node's log after ${secs}s"; }
}

say "(a) disk full: the check fails (withdrawn)"
dd if=/dev/zero of="$D/fill" bs=1k 2>/dev/null || true
df -k "$D" | tail -1
n0=$(applied_count); t0=$(now)
set_flag h1 2
wait_log h1 'primary -> withdrawn'
wait_log h1 "cannot write .*$D.*No space left on device" 10
ok "the write failure is logged with its cause"
sleep 4
cmp -s "$D/frr.conf" "$T/render.primary" || fail "the old frr.conf was damaged"
ok "the old frr.conf is intact"
[ "$(applied_count)" = "$n0" ] || fail "failoverd logged an apply in effect although frr.conf could not be written"
fails=$(grep -c 'No space left on device' "$T/h1.log")
[ "$fails" -ge 2 ] || fail "not retried ($fails attempts)"
wait_notify '^STATUS=withdrawn.*apply failed, retrying'
ok "not counted as applied ($fails attempts in 4 s, STATUS= says apply failed)"
left=$(find "$D" -name '.*' -type f | wc -l)
echo "MEASURED disk full: $fails failed attempts in 4 s; temporary files left in the full directory: $left"
[ "$left" -le 1 ] || fail "temporary files pile up in the full directory: $(ls -A "$D")"
# The fast path's vtysh ran before the file could be written: bgpd withdrew although frr.conf says primary.
echo "MEASURED disk full: rs1's best path while frr.conf could not be written: '$(lab_bestpath rs1 $V4)'"
t1=$(now); rm -f "$D/fill"
wait_more h1 'withdrawn in effect' 0 40
echo "MEASURED space freed to withdrawn applied and written: $(ms_since "$t1") ms"
cmp -s "$D/frr.conf" "$T/render.withdrawn" || fail "frr.conf is not the withdrawn rendering after the retry"
expect_best $V4 none 10
ok "retried: frr.conf and bgpd agree on withdrawn"

say "(b) read-only: the check recovers (primary)"
mount -o remount,ro "$D"
n0=$(applied_count)
set_flag h1 0
wait_log h1 'withdrawn -> primary'
wait_log h1 "cannot write .*$D.*Read-only file system" 10
sleep 3
cmp -s "$D/frr.conf" "$T/render.withdrawn" || fail "the old frr.conf was damaged"
[ "$(applied_count)" = "$n0" ] || fail "failoverd logged an apply in effect although frr.conf could not be written"
ok "read-only: error logged, old file intact, not counted as applied"
echo "MEASURED read-only: rs1's best path while frr.conf could not be written: '$(lab_bestpath rs1 $V4)'"
np=$(grep -c 'primary in effect' "$T/h1.log")
t1=$(now); mount -o remount,rw "$D"
wait_more h1 'primary in effect' "$np" 40
echo "MEASURED read-write again to primary applied and written: $(ms_since "$t1") ms"
cmp -s "$D/frr.conf" "$T/render.primary" || fail "frr.conf is not the primary rendering after the retry"
expect_best $V4 "h1 65000:1" 10
ok "retried: frr.conf and bgpd agree on primary"
[ -z "$(find "$D" -name '*.sav')" ] || fail ".sav left behind"
kill -0 "$PID_h1" || fail "failoverd died"
