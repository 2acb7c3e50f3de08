#!/usr/bin/env bash
# Preference methods (issue 22) against BIRD 2 route servers (LAB_RS=bird, test/lab/rs-bird.conf), IPv4 and
# IPv6: "community" (65000:1/2 -> local preference), "prepend" (AS-path length), "med" (MED; the route
# servers compare it across neighbour ASes, "med metric on"). One lab, one pair of hosts per method, each pair
# announcing its own prefixes, all at once (a pair after another would pay the hosts' bgpd some 4 s to first
# connect, or its 5 s route-map delay on a reload, each time). In each pair the primary is the host BIRD's own
# tie-breaker (the lower router id) would not pick: it wins only by the method's attribute; demoted (its check
# warns), it loses to the secondary by the same attribute.
# TEST_TIMEOUT=120
. "$(dirname "$0")/lib.sh"
command -v bird >/dev/null || fail "BIRD 2 is not installed (Debian: bird2; make deps)"
export LAB_RS=bird
METHODS="community prepend med"

# Method M's hosts (secondary, primary), IPv4 and IPv6 prefixes.
pair() { case $1 in community) echo h1 h2 ;; prepend) echo h3 h4 ;; med) echo h5 h6 ;; esac; }
v4_of() { case $1 in community) echo 198.51.100.10/32 ;; prepend) echo 198.51.100.11/32 ;; med) echo 198.51.100.12/32 ;; esac; }
v6_of() { case $1 in community) echo 2001:db8:e001:1b8c::/64 ;; prepend) echo 2001:db8:e001:1b8d::/64 ;; med) echo 2001:db8:e001:1b8e::/64 ;; esac; }

# NODE's MED at rs1 for PREFIX ("none" without one).
med_of() {
	lab_bird rs1 show route for "$2" all | awk -v n="[$1v" '
		index($0, n) { p = 1; next } /^[^\t]/ { p = 0 } p && $1 == "BGP.med:" { m = $2 } END { print m == "" ? "none" : m }'
}

lab_up 6
for m in $METHODS; do
	read -r sec pri <<<"$(pair $m)"
	v4=$(v4_of $m) v6=$(v6_of $m)
	for h in $sec $pri; do
		role=secondary; [ $h = "$pri" ] && role=primary
		if [ $m != community ]; then
			lab_lo_addr $h add "$v4"
			lab_lo_addr $h add "${v6%::/64}::1/64"
		fi
		lab_failoverd_conf $h $role "$(make_flag_check $h)" |
			sed -e "s|^shared_ips = .*|shared_ips = [\"${v4%/32}\", \"$v6\"];|" \
				-e "s|^  route_servers = .*|&\n  preference = \"$m\";|" > "$T/$h.conf"
		start_failoverd $h
	done
done

for m in $METHODS; do
	read -r sec pri <<<"$(pair $m)"
	say "=== preference \"$m\": $pri primary, $sec secondary"
	for p in $(v4_of $m) $(v6_of $m); do
		expect_best $p $pri 30
		case $m in
		community)
			wait_path rs1 $p "^$pri 65000:1 localpref=200 aspath=65001 best$"
			wait_path rs1 $p "^$sec 65000:2 localpref=100 aspath=65001$" ;;
		prepend)
			wait_path rs1 $p "^$pri - localpref=100 aspath=65001 best$"
			wait_path rs1 $p "^$sec - localpref=100 aspath=65001,65001$" ;;
		med)
			wait_path rs1 $p "^$pri - localpref=100 aspath=65001 best$"
			wait_path rs1 $p "^$sec - localpref=100 aspath=65001$"
			assert_eq "$(med_of $pri $p) $(med_of $sec $p)" "0 100" "rs1 $p: MED of $pri (primary), $sec (secondary)" ;;
		esac
	done
	ok "rs1: $pri is best by $m alone (otherwise equal; BIRD's tie-breaker, the lower router id, is $sec's)"
done

say "every primary degrades (its check warns -> demoted): each secondary takes over by the same attribute"
t0=$(now)
for m in $METHODS; do read -r sec pri <<<"$(pair $m)"; set_flag $pri 1; done
for m in $METHODS; do
	read -r sec pri <<<"$(pair $m)"
	for p in $(v4_of $m) $(v6_of $m); do expect_best $p $sec 20; done
	case $m in
	community) wait_path rs1 "$(v4_of $m)" "^$pri 65000:2 localpref=100 aspath=65001,65001,65001,65001$" ;;
	prepend) wait_path rs1 "$(v4_of $m)" "^$pri - localpref=100 aspath=65001,65001,65001,65001,65001$" ;;
	med) assert_eq "$(med_of $pri "$(v4_of $m)") $(med_of $pri "$(v6_of $m)")" "200 200" "rs1: demoted $pri's MED" ;;
	esac
	ok "rs1: $sec is best by $m over the demoted $pri"
done
echo "MEASURED (BIRD): three primaries' checks warn to every secondary best at both route servers, v4 and v6: $(ms_since "$t0") ms"
