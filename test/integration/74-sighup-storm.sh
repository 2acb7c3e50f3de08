#!/usr/bin/env bash
# 100 SIGHUPs within a second, alternating valid and broken configurations (issue 7): no crash, no leak
# (sanitizer build: ASan/LSan report at exit; descriptors counted in /proc), the final state is the last
# valid configuration's.
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
NEW=203.0.113.9/32
# Shows the daemon's log when the test failed (status \$1).
show_log() { [ "$1" = 0 ] || [ ! -f "$T/h1.log" ] || { grep -v 'check flag\|^%' "$T/h1.log" || true; } | tail -40; }
# Own steps first, then lib.sh's cleanup with the test's status in $? (set +e: a failing step must
# not end the trap before cleanup).
trap 'rc_=$?; set +e; show_log $rc_; (exit $rc_); cleanup' EXIT
# libconfig 1.5 leaks a string token on some syntax errors (test/fuzz/lsan.supp): not ours.
export LSAN_OPTIONS=suppressions=$ROOT/test/fuzz/lsan.supp

lab_up 1
lab_lo_addr h1 add $NEW
lab_failoverd_conf h1 primary "$(make_flag_check h1)" > "$T/good1"
sed "s|shared_ips = \[|shared_ips = [\"${NEW%/32}\", |" "$T/good1" > "$T/good2"
sed 's|shared_ips = \[|shared_ips = ["2001:db8::/48", |' "$T/good1" > "$T/broken1"     # invalid value
sed 's|^role = .*|role = "primary"|' "$T/good2" > "$T/broken2"                        # syntax error
printf '""\n' >> "$T/broken2"
"$FAILOVERD" -c "$T/good2" --check > /dev/null || fail "good2 does not load"
! "$FAILOVERD" -c "$T/broken1" --check > /dev/null 2>&1 || fail "broken1 loads"
! "$FAILOVERD" -c "$T/broken2" --check > /dev/null 2>&1 || fail "broken2 loads"
"$FAILOVERD" -c "$T/good2" --render > "$T/render.good2"
cp "$T/good1" "$T/h1.conf"
start_failoverd h1
wait_log h1 'primary in effect' 20
expect_best $V4 "h1 65000:1" 20
fds() { ls "/proc/$PID_h1/fd" | wc -l; }
# The lowest of a few samples: a check run or an apply holds a pipe for a moment.
quiet_fds() { local m=99999 i n; for i in 1 2 3 4 5 6 7 8 9 10; do n=$(fds); [ "$n" -lt $m ] && m=$n; sleep 0.1; done; echo $m; }
fd0=$(quiet_fds)
rss0=$(awk '/VmRSS/ {print $2}' "/proc/$PID_h1/status")

say "100 SIGHUPs in about a second: odd ones broken (bad value / syntax error), even ones valid"
t0=$(now)
# One process sends them (a shell loop of cp, mv and kill takes 1.5 s): rename a prepared copy, SIGHUP, 5 ms.
python3 - "$T" "$PID_h1" <<'EOS'
import os, shutil, signal, sys, time
t, pid = sys.argv[1], int(sys.argv[2])
for i in range(1, 101):
    f = {1: "broken1", 2: "good1", 3: "broken2", 0: "good2"}[i % 4]
    shutil.copyfile(os.path.join(t, f), os.path.join(t, "h1.conf.tmp"))
    os.rename(os.path.join(t, "h1.conf.tmp"), os.path.join(t, "h1.conf"))
    os.kill(pid, signal.SIGHUP)
    time.sleep(0.005)
EOS
echo "MEASURED 100 SIGHUPs sent in $(ms_since "$t0") ms; failoverd handled $(grep -c 'reloading' "$T/h1.log") reloads, $(grep -c 'reload failed' "$T/h1.log") refused"
kill -0 "$PID_h1" || fail "failoverd died"
ok "still running"
expect_best $NEW "h1 65000:1" 30
expect_best $V4 "h1 65000:1" 10
CONF_FILE=$(lab_host_conf h1 frr_config)
wait_until 10 "frr.conf to be the last valid rendering" 'cmp -s "$CONF_FILE" "$T/render.good2"' 0.1 ||
	fail "frr.conf is not the rendering of the last valid config"
ok "the last valid configuration is in effect (its new prefix announced, frr.conf its rendering)"
grep -q 'reload failed, keeping the running configuration' "$T/h1.log" || fail "no broken config was refused"
sleep 2
fd1=$(quiet_fds)
rss1=$(awk '/VmRSS/ {print $2}' "/proc/$PID_h1/status")
echo "MEASURED descriptors before/after: $fd0/$fd1; RSS $rss0/$rss1 kB"
[ "$fd1" -le "$fd0" ] || { ls -l "/proc/$PID_h1/fd"; fail "descriptors leaked: $fd0 before, $fd1 after"; }
ok "no descriptor leaked"
zombies=$(ps -o stat= --ppid "$PID_h1" | grep -c Z || true)
[ "$zombies" = 0 ] || fail "$zombies zombie children"
kill -TERM "$PID_h1"; rc=0; wait "$PID_h1" || rc=$?
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$T/h1.log" && fail "sanitizer report"
[ $rc = 0 ] || fail "failoverd exited $rc after SIGTERM (a sanitizer report at exit?)"
ok "clean exit, no sanitizer report (leaks are checked at exit in the sanitizer build)"
