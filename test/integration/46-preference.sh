#!/usr/bin/env bash
# Preference methods (issue 22): bgp.preference "prepend" and "med" with bgp.priority, three hosts, IPv4 and
# IPv6, against the lab's FRR route servers (no community on these paths, so they rank by AS-path length,
# then MED). h1 primary, h3 secondary rank 0, h2 secondary rank 1 (against the route servers' own tie-breaker,
# which would pick h2, the lower router-id): with h1 dead (its bgpd killed) the traffic goes to h3, not h2;
# with h3 then demoted (its check warns) it walks on to h2, not back to the demoted h3.
# TEST_TIMEOUT=420
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
V6=2001:db8:e001:1b8c::/64

# The MED of the best path at rs1 ("none" without one).
best_med() {
	lab_vty rs1 "show bgp $1 unicast $2 json" | /usr/bin/python3 -c '
import json, sys
for p in json.load(sys.stdin).get("paths", []):
    if p.get("bestpath", {}).get("overall"):
        print(p.get("metric", p.get("med", "none"))); break
else:
    print("none")'
}

run_method() {
	local method=$1 h role pri
	say "=== preference \"$method\""
	lab_up 3
	for h in h1 h2 h3; do
		case $h in h1) role=primary pri=0 ;; h2) role=secondary pri=1 ;; h3) role=secondary pri=0 ;; esac
		lab_failoverd_conf $h $role "$(make_flag_check $h)" |
			sed "s|^  route_servers = .*|&\n  preference = \"$method\";\n  priority = $pri;|" > "$T/$h.conf"
		: > "$T/$h.log"
		start_failoverd $h
	done
	for p in $V4 $V6; do expect_best $p h1 30; done
	lab_wait_established h3 2 20 >/dev/null
	if [ "$method" = prepend ]; then
		wait_path rs1 $V4 '^h2 - localpref=[^ ]+ aspath=65001,65001,65001$'
		wait_path rs1 $V4 '^h3 - localpref=[^ ]+ aspath=65001,65001$'
		ok "rs1: h3 with one prepend, h2 with two (rank 1)"
	fi

	say "h1 dies (bgpd killed): the first secondary, h3, takes over"
	t0=$(now)
	lab_stop h1 bgpd
	for p in $V4 $V6; do expect_best $p h3 20; done
	echo "MEASURED $method: primary's bgpd killed to h3 best at both route servers, v4 and v6: $(ms_since "$t0") ms"
	[ "$method" = med ] && assert_eq "$(best_med ipv4 $V4) $(best_med ipv6 $V6)" "100 100" "rs1: h3's MED (secondary)"

	say "h3 degrades (check warns -> demoted): the traffic walks on to h2"
	t0=$(now)
	set_flag h3 1
	wait_log h3 'secondary -> demoted'
	for p in $V4 $V6; do expect_best $p h2 20; done
	echo "MEASURED $method: h3 demoted to h2 best at both route servers, v4 and v6: $(ms_since "$t0") ms"
	if [ "$method" = med ]; then
		assert_eq "$(best_med ipv4 $V4) $(best_med ipv6 $V6)" "110 110" "rs1: h2's MED (secondary, rank 1)"
	else
		wait_path rs1 $V4 '^h3 - localpref=[^ ]+ aspath=65001,65001,65001,65001,65001$'
		ok "rs1: the demoted h3 has 1 + 3 prepends, longer than h2's 1 + 1"
	fi
	lab_paths rs1 $V4

	for h in h1 h2 h3; do kill -TERM "$(eval echo "\$PID_$h")" 2>/dev/null || true; done
	for h in h1 h2 h3; do wait "$(eval echo "\$PID_$h")" 2>/dev/null || true; done
	PIDS=()
	lab_down
}

run_method prepend
run_method med
