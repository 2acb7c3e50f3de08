#!/usr/bin/env bash
# bgp.secondary = "silent" (Vultr-style ECMP, issue 22): a healthy secondary announces nothing while its
# drain_check says the primary is healthy, and announces (as a secondary) when it does not. h1 primary, h2
# secondary with preference "prepend"; h2's drain_check asks h1's failoverd (failoverctl status over h1's
# control socket, as an operator's would over SSH) whether h1 is primary. IPv4 and IPv6.
# TEST_TIMEOUT=120
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
V6=2001:db8:e001:1b8c::/64

lab_up 2
lab_failoverd_conf h1 primary "$(make_flag_check h1)" |
	sed "s|^  route_servers = .*|&\n  preference = \"prepend\";\n  poll_interval = 0.5;|" > "$T/h1.conf"
printf '#!/bin/sh\n# h1 is primary: exit 0\n%s -c %s --json status | grep -q %s\n' \
	"$FAILOVERCTL" "$T/h1.conf" "'\"state\": *\"primary\"'" > "$T/h1-primary"
chmod 755 "$T/h1-primary"
lab_failoverd_conf h2 secondary "$(make_flag_check h2)" |
	sed -e "s|^  route_servers = .*|&\n  preference = \"prepend\";\n  secondary = \"silent\";\n  poll_interval = 0.5;|" \
		-e "s|^role = .*|&\ndrain_check = [\"$T/h1-primary\"];|" > "$T/h2.conf"
"$FAILOVERD" -c "$T/h2.conf" --check > "$T/check.out" 2>&1 || { cat "$T/check.out"; fail "h2.conf: --check refuses it"; }
start_failoverd h1
start_failoverd h2

# No h2 path at either route server for either prefix.
h2_silent() {
	local rs p
	for rs in rs1 rs2; do for p in $V4 $V6; do wait_path $rs $p '^h2 ' not; done; done
}

say "h1 primary and healthy: h2 stands by, announcing nothing"
for p in $V4 $V6; do expect_best $p h1 30; done
wait_log h2 '[a-z]+ -> withdrawn \(standby'
wait_log h2 'withdrawn in effect'
lab_wait_established h2 2 20 >/dev/null
h2_silent
ok "h2 (secondary, silent) sends nothing while h1 is primary"

say "h1's check fails (withdrawn): h2 announces and takes over"
t0=$(now)
set_flag h1 2
for p in $V4 $V6; do expect_best $p h2 20; done
echo "MEASURED: h1's check fails to h2 best at both route servers, v4 and v6: $(ms_since "$t0") ms"
wait_path rs1 $V4 '^h2 - localpref=[^ ]+ aspath=65001,65001 best$'
ok "h2 announces as a secondary (one prepend)"

say "h1 recovers: h2 stands by again"
set_flag h1 0
for p in $V4 $V6; do expect_best $p h1 20; done
h2_silent
ok "h2 withdrew once h1 was primary again"

say "h1 goes (its failoverd and bgpd killed): h2 takes over"
t0=$(now)
kill -KILL "$PID_h1"
lab_stop h1 bgpd
for p in $V4 $V6; do expect_best $p h2 20; done
echo "MEASURED: h1 killed to h2 best at both route servers, v4 and v6: $(ms_since "$t0") ms"
