#!/bin/bash
# capture-fixtures.sh: regenerates test/fixtures/frr/ from real FRR in the lab (run as root, needs build/lab/failoverd).
#
# Builds a 2-host lab, applies the frr.conf failoverd renders (h1 primary, h2 secondary), and saves the
# output of the commands failoverd's vtysh client and JSON parser read, in each state they must handle.
# Usage: [FIXTURES_OUT=DIR] test/lab/capture-fixtures.sh [FAILOVERD]   (default build/lab/failoverd; make B=build/lab
# all). FRR 8.4.4 (Debian 12) writes test/fixtures/frr, FRR 10.3 (Debian 13) test/fixtures/frr-10.3:
#   CHECK_DEBIAN_KEEP=1 test/check-debian trixie sh -c 'make deps && make B=build/lab all &&
#       FIXTURES_OUT=test/fixtures/frr-10.3 test/lab/capture-fixtures.sh'

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB=$ROOT/test/lab/lab.sh
OUT=${FIXTURES_OUT:-$ROOT/test/fixtures/frr}
FAILOVERD=${1:-$ROOT/build/lab/failoverd}
P4=198.51.100.10/32
P6=2001:db8:e001:1b8c::/64
T=$(mktemp -d)

# shellcheck source=test/lab/lab.sh
. "$LAB"
# shellcheck disable=SC2119 # lab_down takes no argument
cleanup() { lab_down; rm -rf -- "$T"; }
trap cleanup EXIT

[[ -x $FAILOVERD ]] || { echo "capture-fixtures: build failoverd first (make B=build/lab all)" >&2; exit 1; }
mkdir -p "$OUT"

# Saves the output of vtysh -N PATHSPACE -c CMD on NODE into FILE.
cap() {
	local node=$1 file=$2 cmd=$3
	lab_vtysh "$node" "$cmd" >"$OUT/$file"
	echo "$file: $node: $cmd"
}
# Applies the rendering of NODE's failoverd.conf in STATE with vtysh -f.
apply() {
	local node=$1 role=$2 state=$3
	lab_failoverd_conf "$node" "$role" >"$T/$node.conf"
	"$FAILOVERD" -c "$T/$node.conf" --render --state "$state" >"$T/$node.frr"
	vtysh -N "$(lab_pathspace "$node")" -f "$T/$node.frr" >/dev/null
}
set_network() {
	local node=$1 af=$2 prefix=$3 map=$4
	lab_vtysh "$node" "configure terminal" "router bgp 65001" "address-family $af unicast" \
		"network $prefix${map:+ route-map $map}" end
}

lab_up 2
cap h1 host-summary-no-bgp.json "show bgp summary json"

apply h1 primary primary
apply h2 secondary secondary
lab_wait_established h1 2 20 >/dev/null
lab_wait_established h2 2 20 >/dev/null
lab_wait_bestpath rs1 "$P4" "h1 65000:1" 10 >/dev/null
lab_wait_bestpath rs1 "$P6" "h1 65000:1" 10 >/dev/null
# Both paths at both route servers before capturing them.
for _ in $(seq 100); do
	[[ $(lab_paths rs1 "$P4" | wc -l) == 2 && $(lab_paths rs2 "$P6" | wc -l) == 2 ]] && break
	sleep 0.05
done

cap h1 host-summary-established.json "show bgp summary json"
cap h1 host-ipv4-summary-established.json "show ip bgp summary json"
cap h1 host-neighbors-established.json "show bgp vrf default neighbors json"
cap h1 host-neighbor-rs1-established.json "show bgp neighbors 2001:db8:f0::1 json"
cap h1 host-bgp-vrf-default.json "show bgp vrf default json"
cap h1 host-ipv4-prefix-primary.json "show bgp ipv4 unicast $P4 json"
cap h1 host-ipv6-prefix-primary.json "show bgp ipv6 unicast $P6 json"
cap h1 host-running-config-primary.txt "show running-config"
cap h1 host-bgpd-running-config-primary.txt "show running-config bgpd"
cap h2 host-ipv4-prefix-secondary.json "show bgp ipv4 unicast $P4 json"
cap rs1 rs-ipv4-prefix-two-paths.json "show bgp ipv4 unicast $P4 json"
cap rs1 rs-ipv6-prefix-two-paths.json "show bgp ipv6 unicast $P6 json"
cap rs1 rs-summary.json "show bgp summary json"

# import-check (docs/frr-facts.md): the shared address removed from lo makes the network invalid, unannounced.
lab_lo_addr h2 del "$P4"
for _ in $(seq 100); do [[ $(lab_paths rs1 "$P4" | wc -l) == 1 ]] && break; sleep 0.05; done
cap h2 host-ipv4-prefix-not-on-lo.json "show bgp ipv4 unicast $P4 json"
lab_lo_addr h2 add "$P4"
for _ in $(seq 100); do [[ $(lab_paths rs1 "$P4" | wc -l) == 2 ]] && break; sleep 0.05; done

set_network h1 ipv4 "$P4" demoted
set_network h1 ipv6 "$P6" demoted
lab_wait_bestpath rs1 "$P4" "h2 65000:2" 10 >/dev/null
cap h1 host-ipv4-prefix-demoted.json "show bgp ipv4 unicast $P4 json"
cap rs1 rs-ipv4-prefix-demoted-vs-secondary.json "show bgp ipv4 unicast $P4 json"

lab_vtysh h1 "configure terminal" "router bgp 65001" "address-family ipv4 unicast" "no network $P4" \
	"address-family ipv6 unicast" "no network $P6" end
lab_wait_bestpath rs1 "$P4" "h2 65000:2" 10 >/dev/null
for _ in $(seq 100); do [[ $(lab_paths rs1 "$P4" | wc -l) == 1 ]] && break; sleep 0.05; done
cap h1 host-ipv4-prefix-absent.json "show bgp ipv4 unicast $P4 json"
cap h1 host-ipv6-prefix-absent.json "show bgp ipv6 unicast $P6 json"
cap h1 host-running-config-withdrawn.txt "show running-config"
cap rs1 rs-ipv4-prefix-one-path.json "show bgp ipv4 unicast $P4 json"

lab_stop rs2 bgpd
lab_wait_established h1 1 20 >/dev/null
cap h1 host-summary-one-down.json "show bgp summary json"
lab_stop rs1 bgpd
lab_wait_established h1 0 20 >/dev/null
cap h1 host-summary-down.json "show bgp summary json"
cap h1 host-neighbors-down.json "show bgp vrf default neighbors json"
# A valid best path that goes to nobody (no session).
lab_vtysh h1 "configure terminal" "router bgp 65001" "address-family ipv4 unicast" \
	"network $P4 route-map primary" end
for _ in $(seq 100); do lab_vtysh h1 "show bgp ipv4 unicast $P4" | grep -q ', best' && break; sleep 0.05; done
cap h1 host-ipv4-prefix-no-session.json "show bgp ipv4 unicast $P4 json"

# zebra restarted, then the network withdrawn and entered again in a second call: FRR 8.4.4 keeps it
# "inaccessible" (docs/frr-facts.md, "zebra restart").
lab_stop h1 zebra
lab_start h1 --no-config
lab_vtysh h1 "configure terminal" "router bgp 65001" "address-family ipv4 unicast" "no network $P4" end
lab_vtysh h1 "configure terminal" "router bgp 65001" "address-family ipv4 unicast" \
	"network $P4 route-map primary" end
sleep 1 # nothing to wait for: the path stays invalid
cap h1 host-ipv4-prefix-after-zebra-restart.json "show bgp ipv4 unicast $P4 json"

lab_stop h1 bgpd
rc=0
lab_vtysh h1 "show bgp summary json" >"$OUT/host-vtysh-bgpd-stopped.txt" 2>&1 || rc=$?
echo "exit $rc" >>"$OUT/host-vtysh-bgpd-stopped.txt"
echo "host-vtysh-bgpd-stopped.txt: h1: show bgp summary json (bgpd stopped; stdout+stderr, exit code)"
