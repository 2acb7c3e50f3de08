#!/usr/bin/env bash
# failoverd as operators run it: installed from its .deb in a Debian container with systemd as PID 1, inside
# lab host h1's network namespace, next to FRR's own frr.service (watchfrr, /etc/frr/daemons). Asserted
# against the lab's route servers: start returns once READY, a failing check moves the traffic, journal
# fields, reload that reports its outcome, the watchdog, stop keeps the announcement, the sandbox lets
# vtysh, frr-reload.py and a monitoring plugin work, a native unit check withdraws when its unit fails
# or crash-loops behind Restart=, the fail-safe withdraws when failoverd is dead for good, and start is
# bounded while bgpd is not running yet.
# TEST_TIMEOUT=1500 (the first run builds the container's root with debootstrap: several minutes)
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
V6=2001:db8:e001:1b8c::/64

# systemd as PID 1 of a container needs a cgroup hierarchy to put it in; a chroot (make check-debian13)
# mounts none: there this test cannot run, and says so.
if ! mountpoint -q /sys/fs/cgroup && ! mountpoint -q /sys/fs/cgroup/unified; then
	echo "no cgroup hierarchy mounted (a chroot?): cannot boot systemd in a container here"
	exit 77
fi
[ -d /run/systemd/system ] && say "note: the host runs systemd; the container is booted with --keep-unit anyway"
BASE=$("$ROOT/test/lab/systemd-root.sh") || fail "cannot build the container's root"
DEB=$(make -C "$ROOT" --no-print-directory deb | tail -1) || fail "make deb failed"
DEB=$ROOT/$DEB
ok "package $(basename "$DEB"), root $BASE"

C=$T/ct          # overlay: the cached root below, this run's changes in $T
NSPAWN= CPID=
container_down() {
	if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
		kill -TERM "$NSPAWN" 2>/dev/null || true         # nspawn asks the container's systemd to power off
		wait_until 30 "systemd-nspawn to end" '! kill -0 "$NSPAWN" 2>/dev/null' 0.1 || true
		kill -KILL "$NSPAWN" 2>/dev/null || true
		wait "$NSPAWN" 2>/dev/null || true
	fi
	mountpoint -q "$C/root" && { umount "$C/root" 2>/dev/null || umount -l "$C/root"; }
	return 0
}
trap 'rc=$?; [ $rc = 0 ] || [ -z "$CPID" ] || { echo "--- container journal"; jctl -n 150 -o short-monotonic 2>&1; }; container_down; (exit $rc); cleanup' EXIT

# Runs a command inside the container, with a clean environment.
cx() { nsenter -t "$CPID" -m -u -i -p -n -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
prop() { cx systemctl show -P "$2" "$1"; }
# Waits until a command inside the container succeeds.
wait_cx() {
	local secs=$1 what=$2; shift 2
	local -a cmd=("$@")
	wait_until "$secs" "$what" 'cx "${cmd[@]}" >/dev/null 2>&1' 0.1 || fail "waited ${secs}s for $what"
}
jctl() { cx journalctl --no-pager -o cat "$@"; }
wait_journal() {
	local secs=$1 pat=$2; shift 2
	local -a args=("$@")
	wait_until "$secs" "'$pat' in journalctl $*" 'jctl "${args[@]}" 2>/dev/null | grep -qE "$pat"' 0.25 && return 0
	jctl "$@" | tail -20
	fail "no '$pat' in journalctl $* after ${secs}s"
}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

lab_up 2
lab_stop h1                                   # the container's FRR takes h1's place in its namespace
NS=$(lab_ns h1)

say "boot the container: systemd as PID 1 in $NS"
mkdir -p "$C/upper" "$C/work" "$C/root"
mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$C/upper,workdir=$C/work" "$C/root"
cp "$DEB" "$C/root/root/"
# The root has procps (monitoring-plugins-basic needs it); a host without it has no /bin/kill, which is
# what broke ExecReload=/bin/kill: take it away so that reload must work without it.
rm -f "$C/root/bin/kill" "$C/root/usr/bin/kill"
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=0 systemd-nspawn --register=no --keep-unit -D "$C/root" -M fpkct \
	--network-namespace-path="/run/netns/$NS" --capability=CAP_NET_ADMIN,CAP_NET_RAW,CAP_SYS_ADMIN \
	-b --console=read-only </dev/null >"$T/nspawn.log" 2>&1 &
NSPAWN=$!
# ps exits 1 until nspawn has forked its child: under pipefail that must not end the test.
container_systemd() {
	CPID=$(ps -o pid= --ppid "$NSPAWN" 2>/dev/null | head -1 | tr -d ' ' || true)
	[ -n "$CPID" ] && [ "$(cat "/proc/$CPID/comm" 2>/dev/null)" = systemd ] && return 0
	kill -0 "$NSPAWN" 2>/dev/null || { cat "$T/nspawn.log"; fail "systemd-nspawn exited"; }
	CPID=; return 1
}
wait_until 60 "systemd as the container's PID 1" container_systemd 0.1 || true
[ -n "$CPID" ] || fail "no systemd in the container"
wait_cx 120 "systemd to finish booting" sh -c 'systemctl is-system-running --wait; systemctl is-system-running | grep -qE "running|degraded"'
ok "systemd $(cx systemctl --version | head -1 | cut -d' ' -f2) is PID 1 (host pid $CPID); $(cx sh -c '[ -x /bin/kill ] || echo "no /bin/kill (no procps)"')"

say "install the package: unit installed, neither enabled nor started"
cx sh -c "cd /root && apt-get install -y ./$(basename "$DEB")" >"$T/apt.log" 2>&1 || { cat "$T/apt.log"; fail "apt install ./$(basename "$DEB")"; }
ok "apt install ./$(basename "$DEB")"
assert_eq "$(prop failoverd UnitFileState)" disabled "failoverd.service after install"
assert_eq "$(prop failoverd ActiveState)" inactive "failoverd.service after install"
cx test -d /etc/failoverd/conf.d || fail "no /etc/failoverd/conf.d"
cx dpkg-query -W -f='${Conffiles}\n' failoverd | grep -q /etc/failoverd/failoverd.conf || fail "failoverd.conf is not a conffile"
ok "failoverd.conf is a conffile, conf.d exists"

# The operator's configuration: primary; a flag check and a monitoring plugin that needs CAP_NET_RAW
# (Debian gives check_icmp the file capability cap_net_raw: it only works if the unit's bound keeps it).
cat >"$C/root/etc/failoverd/failoverd.conf" <<CONF
role = "primary";
hostname = "h1";
shared_ips = ["198.51.100.10", "2001:db8:e001:1b8c::/64"];
bgp = { router_id = "$(lab_host_conf h1 router_id)"; route_servers = ["2001:db8:f0::1", "2001:db8:f0::2"]; };
checks = { directory = "/etc/failoverd/conf.d"; interval = 1.0; rise = 2; fall = 2; };
CONF
printf '#!/bin/sh\ncode=$(cat /etc/failoverd/flag 2>/dev/null || echo 3)\necho "flag $code"\nexit "$code"\n' \
	>"$C/root/etc/failoverd/conf.d/flag"
chmod 755 "$C/root/etc/failoverd/conf.d/flag"
echo 0 >"$C/root/etc/failoverd/flag"
cflag() { echo "$1" >"$C/root/etc/failoverd/flag.new" && mv -f "$C/root/etc/failoverd/flag.new" "$C/root/etc/failoverd/flag"; }
printf 'command = ["/usr/lib/nagios/plugins/check_icmp", "-H", "192.0.2.1", "-n", "1", "-t", "5"];\ntimeout = 6.0;\ninterval = 5.0;\n' \
	>"$C/root/etc/failoverd/conf.d/icmp.conf"
cx failoverd --check || fail "the test's configuration is invalid"

# h2 is the lab's secondary, run by hand: where the traffic goes when h1 withdraws.
lab_failoverd_conf h2 secondary "$(make_flag_check h2)" >"$T/h2.conf"
start_failoverd h2

say "(a) systemctl enable --now failoverd returns once READY"
cx systemctl start frr
t0=$(date +%s%N)
cx timeout 120 systemctl enable --now failoverd || { jctl -u failoverd | tail -20; fail "systemctl enable --now failoverd"; }
echo "MEASURED systemctl enable --now failoverd (bgpd up): $(ms "$t0") ms"
assert_eq "$(prop failoverd ActiveState)" active "failoverd after systemctl start"
expect_best $V4 "h1 65000:1" 30
expect_best $V6 "h1 65000:1" 30
ok "vtysh and frr-reload.py work inside the sandbox (first full apply announced h1)"
wait_cx 60 "both checks up" sh -c 'failoverctl status --json | grep -c "\"health\": \"up\"" | grep -qx 2'
ok "the checks (a script and check_icmp, raw ICMP) run inside the sandbox: $(cx failoverctl checks | grep icmp | tr -s ' ')"
cx systemd-analyze security failoverd >"$T/security.txt" 2>&1 || true
echo "MEASURED systemd-analyze security failoverd: $(grep -E 'Overall exposure level' "$T/security.txt" | sed 's/.*: //')"
cx test -x /bin/kill || ok "no /bin/kill in the container (no procps): reload must not need it"

say "(b) a failing check moves the traffic; the journal has the fields"
cflag 2
expect_best $V4 "h2 65000:2" 30
wait_journal 30 'withdrawn' -u failoverd FAILOVERD_STATE=withdrawn
ok "journalctl -u failoverd FAILOVERD_STATE=withdrawn: $(jctl -u failoverd FAILOVERD_STATE=withdrawn | tail -1)"
[ -n "$(jctl -u failoverd -F FAILOVERD_CHECK)" ] || fail "no FAILOVERD_CHECK= entries"
[ -n "$(jctl -u failoverd -F FAILOVERD_PEER)" ] || fail "no FAILOVERD_PEER= entries"
ok "FAILOVERD_CHECK= ($(jctl -u failoverd -F FAILOVERD_CHECK | tr '\n' ' ')) and FAILOVERD_PEER= ($(jctl -u failoverd -F FAILOVERD_PEER | tr '\n' ' ')) entries"
cflag 0
expect_best $V4 "h1 65000:1" 30

say "(b2) a unit check (native, sd-bus): the watched unit fails or stops -> withdrawn, told by systemd at once"
printf '[Unit]\nDescription=failoverd test: the service a unit check watches\n[Service]\nExecStart=/bin/sleep infinity\n' \
	>"$C/root/etc/systemd/system/fo-app.service"
cx systemctl daemon-reload
cx systemctl start fo-app
printf 'type = "unit";\nunit = "fo-app.service";\nfall = 1;\n' >"$C/root/etc/failoverd/conf.d/app.conf"
cx systemctl reload failoverd || fail "reload with the unit check"
wait_cx 30 "the unit check up" sh -c 'failoverctl checks | grep -E "^ *app +up +unit active"'
expect_best $V4 "h1 65000:1" 30
ok "unit check: $(cx failoverctl checks | grep -E '^ *app ' | tr -s ' ')"
# Both route servers are polled from before the trigger, which fires at t0 (a moment ahead): the figure
# holds no poller start-up. Prints the later of the two, in ms from t0.
withdraw_ms() {
	local t0 r1 r2 m1 m2
	t0=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.6f", t + 1.0 }')
	lab_wait_bestpath rs1 $V4 "h2 65000:2" 10 "$t0" >"$T/w.rs1" & r1=$!
	lab_wait_bestpath rs2 $V4 "h2 65000:2" 10 "$t0" >"$T/w.rs2" & r2=$!
	while awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { exit !(a < b) }'; do sleep 0.002; done
	"$@"
	wait $r1 || fail "rs1 did not move to h2"
	wait $r2 || fail "rs2 did not move to h2"
	m1=$(cat "$T/w.rs1"); m2=$(cat "$T/w.rs2")
	echo $((m1 > m2 ? m1 : m2))
}
ms=$(withdraw_ms cx systemctl kill -s KILL fo-app)
echo "MEASURED unit killed (failed) -> h2 best at both route servers (fall 1): $ms ms"
# Where the time went: systemd's own record of the failure, failoverd's result, decision and apply.
jctl -o short-precise -u fo-app -u failoverd -n 40 | grep -E 'fo-app.service: (Main process exited|Failed with)|check app: failed|-> withdrawn|withdrawn in effect' | tail -5
assert_eq "$(prop fo-app ActiveState)" failed "fo-app after SIGKILL"
wait_journal 10 'check app: failed \(unit failed\)' -u failoverd
cx systemctl reset-failed fo-app
cx systemctl start fo-app
expect_best $V4 "h1 65000:1" 30
ms=$(withdraw_ms cx systemctl stop fo-app)
echo "MEASURED unit stopped -> h2 best at both route servers (fall 1): $ms ms"
cx systemctl start fo-app
expect_best $V4 "h1 65000:1" 30
rm "$C/root/etc/failoverd/conf.d/app.conf"
cx systemctl reload failoverd
cx systemctl stop fo-app
ok "the unit check withdraws h1 when its unit fails or stops, and restores it"

say "(b3) a crash-looping unit (Restart=always: activating (auto-restart), never failed) -> withdrawn within the check's fall"
# Runs for good until /run/fo-crash exists; from then on dies 0.3 s after each start. No start limit:
# the loop must stay a loop (systemd would end it in failed, which the check already knows).
printf '%s\n' '[Unit]' 'Description=failoverd test: a service that crash-loops while /run/fo-crash exists' \
	'StartLimitIntervalSec=0' '[Service]' 'Restart=always' 'RestartSec=2' \
	"ExecStart=/bin/sh -c 'if [ -e /run/fo-crash ]; then sleep 0.3; exit 1; fi; exec sleep infinity'" \
	>"$C/root/etc/systemd/system/fo-crash.service"
cx rm -f /run/fo-crash
cx systemctl daemon-reload
cx systemctl start fo-crash
# rise 4: after each restart the unit is active for 0.3 s, and a streak of 4 OK runs (a quarter interval
# apart) takes 0.75 s: the check must not come back up between two crashes.
printf 'type = "unit";\nunit = "fo-crash.service";\nfall = 1;\nrise = 4;\n' >"$C/root/etc/failoverd/conf.d/crash.conf"
cx systemctl reload failoverd || fail "reload with the crash-loop unit check"
wait_cx 30 "the crash unit check up" sh -c 'failoverctl checks | grep -E "^ *crash +up +unit active"'
expect_best $V4 "h1 65000:1" 30
crash_loop() { cx touch /run/fo-crash && cx systemctl kill -s KILL fo-crash; }
ms=$(withdraw_ms crash_loop)
echo "MEASURED unit crash-looping (Restart=always, RestartSec=2) -> h2 best at both route servers (fall 1): $ms ms"
wait_journal 10 'check crash: failed \(unit auto-restart\)' -u failoverd
ups=$(jctl -u failoverd | grep -c 'withdrawn -> primary' || true)
wait_until 20 "fo-crash to restart 3 times" '[ "$(prop fo-crash NRestarts)" -ge 3 ]' 0.1 ||
	fail "fo-crash restarted only $(prop fo-crash NRestarts) times in 20 s"
st=$(prop fo-crash ActiveState)
[ "$st" != failed ] || fail "fo-crash ended in failed: the loop was meant to hide behind auto-restart"
expect_best $V4 "h2 65000:2" 2
assert_eq "$(jctl -u failoverd | grep -c 'withdrawn -> primary' || true)" "$ups" "times primary again during the loop (count so far)"
line=$(cx failoverctl checks | grep -E '^ *crash ' | tr -s ' ')
case $line in *NRestarts=*) ;; *) fail "no NRestarts in the crash check's line: $line" ;; esac
ok "crash loop (ActiveState $st, never failed) stays withdrawn: $line"
cx rm -f /run/fo-crash
expect_best $V4 "h1 65000:1" 30
ok "the loop ends (the unit stays up): h1 is back"
rm "$C/root/etc/failoverd/conf.d/crash.conf"
cx systemctl reload failoverd
cx systemctl stop fo-crash

say "(c) systemctl reload: succeeds for a valid change, fails with the reason for a broken one"
pid=$(prop failoverd MainPID)
sed -i 's/rise = 2;/rise = 3;/' "$C/root/etc/failoverd/failoverd.conf"
cx systemctl reload failoverd || fail "systemctl reload of a valid change failed"
ok "systemctl reload of a valid change"
cp "$C/root/etc/failoverd/failoverd.conf" "$T/good.conf"
echo 'no_such_key = 1;' >>"$C/root/etc/failoverd/failoverd.conf"
rc=0; cx systemctl reload failoverd >"$T/reload.out" 2>&1 || rc=$?
[ $rc != 0 ] || fail "systemctl reload of a broken config succeeded"
wait_journal 10 'refused reload: .*no_such_key' -u failoverd
ok "systemctl reload of a broken config fails (exit $rc): $(jctl -u failoverd | grep -E 'refused reload' | tail -1)"
assert_eq "$(prop failoverd ActiveState)/$(prop failoverd MainPID)" "active/$pid" "still running, same pid"
expect_best $V4 "h1 65000:1" 5
cp "$T/good.conf" "$C/root/etc/failoverd/failoverd.conf"

say "(d) SIGSTOP: the watchdog kills it, systemd restarts it, it comes back right"
mkdir -p "$C/root/etc/systemd/system/failoverd.service.d"
printf '[Service]\nWatchdogSec=10s\n' >"$C/root/etc/systemd/system/failoverd.service.d/test-watchdog.conf"
cx systemctl daemon-reload
cx systemctl restart failoverd
expect_best $V4 "h1 65000:1" 30
n0=$(prop failoverd NRestarts); pid=$(prop failoverd MainPID)
cx sh -c "kill -STOP $pid"    # the shell's kill: a minbase root has no /bin/kill
t0=$(date +%s%N)
wait_until 60 "NRestarts to grow" '[ "$(prop failoverd NRestarts)" -gt "$n0" ]' 0.1 ||
	fail "NRestarts did not grow within 60 s of SIGSTOP"
echo "MEASURED SIGSTOP to restart by the watchdog (WatchdogSec=10s): $(ms "$t0") ms"
wait_cx 60 "failoverd active again" sh -c '[ "$(systemctl show -P ActiveState failoverd)" = active ]'
[ "$(prop failoverd MainPID)" != "$pid" ] || fail "same MainPID after the watchdog"
expect_best $V4 "h1 65000:1" 30
wait_journal 30 '[Ww]atchdog timeout' -u failoverd
ok "watchdog timeout, NRestarts $n0 -> $(prop failoverd NRestarts), back as primary"
[ -z "$(jctl -u failoverd-failsafe)" ] || fail "an auto-restart triggered the fail-safe"
ok "an auto-restart does not trigger the fail-safe"
rm -r "$C/root/etc/systemd/system/failoverd.service.d"
cx systemctl daemon-reload

say "(d2) an upgrade (the package installed again) restarts the running daemon"
pid=$(prop failoverd MainPID)
cx dpkg -i "/root/$(basename "$DEB")" >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; fail "dpkg -i over the installed package"; }
wait_cx 60 "failoverd active again" sh -c '[ "$(systemctl show -P ActiveState failoverd)" = active ]'
[ "$(prop failoverd MainPID)" != "$pid" ] || fail "the upgrade did not restart failoverd (MainPID $pid)"
cx grep -q rise "/etc/failoverd/failoverd.conf" || fail "the upgrade replaced the operator's failoverd.conf"
expect_best $V4 "h1 65000:1" 30
ok "upgrade: MainPID $pid -> $(prop failoverd MainPID), the operator's configuration kept, still primary"

say "(e) systemctl stop failoverd leaves the announcement as it was"
cx systemctl stop failoverd
assert_eq "$(prop failoverd ActiveState)" inactive "failoverd after stop"
sleep 3   # nothing to wait for: the assertion is that nothing changes
expect_best $V4 "h1 65000:1" 2
expect_best $V6 "h1 65000:1" 2
[ -z "$(jctl -u failoverd-failsafe)" ] || fail "systemctl stop triggered the fail-safe"
ok "no fail-safe on stop"

say "(f) dead for good: the fail-safe withdraws"
mkdir -p "$C/root/etc/systemd/system/failoverd.service.d"
printf '[Service]\nExecStart=\nExecStart=/usr/sbin/failoverd -c /etc/failoverd/failoverd.conf --no-such-option\n' \
	>"$C/root/etc/systemd/system/failoverd.service.d/test-broken.conf"
cx systemctl daemon-reload
t0=$(date +%s%N)
cx systemctl start --no-block failoverd
wait_journal 120 'failed for good \(result .*withdrawing' -u failoverd-failsafe
wait_path rs1 $V4 "^h1 " !
wait_path rs2 $V4 "^h1 " !
echo "MEASURED broken start to withdrawal by the fail-safe (5 starts, RestartSec=2s): $(ms "$t0") ms"
expect_best $V4 "h2 65000:2" 10
ok "fail-safe: $(jctl -u failoverd-failsafe | grep 'failed for good (result' | tail -1)"
assert_eq "$(prop failoverd ActiveState)" failed "failoverd after the start limit"
rm -r "$C/root/etc/systemd/system/failoverd.service.d"
cx systemctl daemon-reload
cx systemctl reset-failed failoverd failoverd-failsafe

say "(h) removal stops the daemon, purge removes its state"
cx systemctl start failoverd
expect_best $V4 "h1 65000:1" 60
cx test -d /var/lib/failoverd || fail "no /var/lib/failoverd while running"
cp "$C/root/etc/failoverd/failoverd.conf" "$T/operator.conf"
cx apt-get remove -y failoverd >"$T/apt.log" 2>&1 || { cat "$T/apt.log"; fail "apt-get remove failoverd"; }
assert_eq "$(prop failoverd ActiveState)" inactive "failoverd after apt-get remove"
expect_best $V4 "h1 65000:1" 5
cx test -e /etc/failoverd/failoverd.conf || fail "remove (not purge) deleted the conffile"
cx apt-get purge -y failoverd >"$T/apt.log" 2>&1 || { cat "$T/apt.log"; fail "apt-get purge failoverd"; }
cx test ! -e /var/lib/failoverd || fail "purge left /var/lib/failoverd"
cx test ! -e /etc/failoverd/failoverd.conf || fail "purge left the conffile"
ok "remove: stopped, announcement kept, conffile kept; purge: /var/lib/failoverd and the conffile gone"
cx sh -c "cd /root && apt-get install -y ./$(basename "$DEB")" >"$T/apt.log" 2>&1 || { cat "$T/apt.log"; fail "reinstall"; }
cp "$T/operator.conf" "$C/root/etc/failoverd/failoverd.conf"

say "(g) bgpd still starting: systemctl start returns in bounded time, failoverd catches up"
cx sed -i 's/^bgpd=yes/bgpd=no/' /etc/frr/daemons
cx systemctl restart frr
t0=$(date +%s%N)
rc=0; cx timeout 120 systemctl start failoverd >"$T/start.out" 2>&1 || rc=$?
if [ $rc != 0 ]; then
	cat "$T/start.out"; cx systemctl status --no-pager -n 30 failoverd || true
	fail "systemctl start failoverd with bgpd not running: exit $rc, $(prop failoverd ActiveState)"
fi
echo "MEASURED systemctl start failoverd while bgpd is not running: $(ms "$t0") ms"
assert_eq "$(prop failoverd ActiveState)" active "failoverd with bgpd down"
cx sed -i 's/^bgpd=no/bgpd=yes/' /etc/frr/daemons
cx systemctl restart frr
expect_best $V4 "h1 65000:1" 60
ok "failoverd announced once bgpd came"
