#!/usr/bin/env bash
# A reload (SIGHUP) that adds a neighbor, then removes one (bgp.neighbors, profile "generic"): each is
# applied whole. After each, bgpd's running configuration has exactly the neighbor lines failoverd renders
# (nothing of a removed peer left behind, every line of an added one), the sessions follow, and the route
# servers see the shared prefixes, IPv4 and IPv6, from the peers that are configured and from no other.
# TEST_TIMEOUT=120
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
V6=2001:db8:e001:1b8c::/64
RS1='{ address = "2001:db8:f0::1"; remote_as = "external"; multihop = 2; }'
RS2='{ address = "2001:db8:f0::2"; remote_as = 65000; multihop = 3; }'

# h1's configuration with the given neighbors, written atomically (a reload reads it whole).
conf() {
	lab_failoverd_conf h1 primary "$(make_flag_check h1)" |
		sed -e "s|^  route_servers = .*|  profile = \"generic\";\n  asn = 65001;\n  neighbors = ( $1 );|" \
		> "$T/h1.conf.new"
	mv -f "$T/h1.conf.new" "$T/h1.conf"
}
# BGP neighbor lines, sorted: bgpd's running configuration, and failoverd's rendering of this conf.
running() { lab_vtysh h1 "show running-config" | grep -E '^ +neighbor ' | sort; }
rendered() { "$FAILOVERD" -c "$T/h1.conf" --render --state primary | grep -E '^ +neighbor ' | sort; }
wait_whole() {
	local want
	want=$(rendered)
	wait_until 20 "bgpd's neighbor lines to be those rendered ($1)" '[ "$(running)" = "$want" ]' ||
		{ diff <(echo "$want") <(running) || true; fail "bgpd's neighbor lines differ from the rendering ($1)"; }
	ok "bgpd runs exactly the rendered neighbor lines ($1): $(echo "$want" | wc -l) lines"
}

lab_up 1
conf "$RS1"
start_failoverd h1
wait_log h1 'full apply: primary in effect'
wait_whole "rs1 only"
lab_wait_established h1 1 20 >/dev/null
for p in $V4 $V6; do
	ms=$(lab_wait_bestpath rs1 $p h1 20) || fail "rs1: no h1 path for $p"
	ms=$(lab_wait_bestpath rs2 $p none 5) || fail "rs2: a path for $p, not configured"
done
ok "rs1 has h1's paths, rs2 none"

say "reload adding rs2"
n=$(grep -c 'full apply: primary in effect' "$T/h1.log")
conf "$RS1, $RS2"
kill -HUP "$PID_h1"
wait_until 20 "the reload's full apply" '[ "$(grep -c "full apply: primary in effect" "$T/h1.log")" -gt "$n" ]' ||
	fail "no full apply after the reload"
wait_whole "rs1 and rs2"
lab_wait_established h1 2 20 >/dev/null || fail "h1: not 2 sessions after adding rs2"
for p in $V4 $V6; do expect_best $p h1 20; done

say "reload removing rs1"
n=$(grep -c 'full apply: primary in effect' "$T/h1.log")
conf "$RS2"
kill -HUP "$PID_h1"
wait_until 20 "the reload's full apply" '[ "$(grep -c "full apply: primary in effect" "$T/h1.log")" -gt "$n" ]' ||
	fail "no full apply after the reload"
wait_whole "rs2 only"
running | grep -q '2001:db8:f0::1 ' && fail "a line of the removed rs1 is left in bgpd"
lab_wait_established h1 1 20 >/dev/null || fail "h1: not 1 session after removing rs1"
for p in $V4 $V6; do
	ms=$(lab_wait_bestpath rs1 $p none 20) || fail "rs1: still a path for $p after its removal"
	ms=$(lab_wait_bestpath rs2 $p h1 5) || fail "rs2: lost h1's path for $p"
done
ok "rs1 dropped h1's paths, rs2 keeps them"
grep -q 'reload failed\|apply failed' "$T/h1.log" && fail "h1's log reports a failed reload or apply"
ok "no failed reload or apply"
