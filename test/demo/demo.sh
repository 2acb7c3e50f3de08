#!/bin/bash
# demo.sh: `make demo` — a live failover in the FRR lab, narrated step by step for a newcomer (issue 6).
#
# Builds the lab (two route servers; h1 primary and h2 secondary, each with FRR and failoverd and one
# health check driven by a flag file), then: both healthy -> h1's check fails -> traffic moves to h2 ->
# the check recovers -> traffic returns -> failoverctl drain -> failoverctl resume -> active/active with
# two services (h1 primary for web, h2 for db). Prints how long each
# move took at the route servers, removes everything it made (also on Ctrl-C or failure), exits 0.
# Run as root from the repository (make demo). FAILOVERD_BUILD overrides build/release.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export LAB_PREFIX=fodemo
LAB=$ROOT/test/lab/lab.sh
BIN=${FAILOVERD_BUILD:-$ROOT/build/release}
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
V4=198.51.100.10/32
V6=2001:db8:e001:1b8c::/64
DB4=198.51.100.11/32

[[ $(id -u) == 0 ]] || { echo "demo.sh: run as root (network namespaces, FRR)" >&2; exit 1; }
[[ -x $BIN/failoverd ]] || { echo "demo.sh: $BIN/failoverd is not built (make all)" >&2; exit 1; }

T=$(mktemp -d /tmp/failoverd-demo.XXXXXX)
PIDS=()
T0=$SECONDS

cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	"$LAB" down >/dev/null 2>&1 || true
	rm -rf "$T"
	if ((rc != 0)); then
		echo
		echo "demo stopped (exit $rc); the lab has been removed."
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

n_step=0
step() {
	n_step=$((n_step + 1))
	printf '\n[%d] %s\n%s\n' "$n_step" "$1" "$(printf '%*s' $((${#1} + 4)) '' | tr ' ' '-')"
}
say() { printf '    %s\n' "$@"; }
die() { printf '\ndemo.sh: %s\n' "$*" >&2; exit 1; }

# "h1 65000:1" -> "h1 (primary community 65000:1)"
describe() {
	case $1 in
	*65000:1) echo "${1%% *} (community 65000:1 = primary)" ;;
	*65000:2) echo "${1%% *} (community 65000:2 = secondary)" ;;
	*) echo "$1" ;;
	esac
}
show_routes() {
	local rs
	say "Route servers' best path (where the shared addresses' traffic goes):"
	for rs in rs1 rs2; do
		printf '      %s  %-22s -> %s\n' "$rs" "$V4" "$(describe "$("$LAB" bestpath "$rs" "$V4")")"
		printf '      %s  %-22s -> %s\n' "$rs" "$V6" "$(describe "$("$LAB" bestpath "$rs" "$V6")")"
	done
}
# failoverctl status for h1, or h1's newest log lines while the control socket is not there. After a
# change, AFTER_CHANGE=1 first waits for failoverd's next read-back of bgpd (every 2 s, the default watch).
show_status() {
	local out
	if [[ ${AFTER_CHANGE:-} == 1 ]]; then
		say "(waiting 2 s: failoverd reads bgpd back every 2 s, then status shows the announcement as bgpd has it)"
		sleep 2.1
	fi
	if out=$("$BIN/failoverctl" -c "$T/h1.conf" status 2>&1); then
		say "failoverctl -c h1.conf status:"
		printf '%s\n' "$out" | sed 's/^/      /'
	else
		say "failoverctl status is not available in this build ($(head -1 <<<"$out"));"
		say "h1's failoverd log instead:"
		grep -vE '\[debug\]' "$T/h1.log" | tail -n 3 | sed 's/^/      /'
	fi
}
# h1's log lines since line FROM that tell a state change and its apply.
show_log_since() {
	say "h1's failoverd said:"
	tail -n +"$(($1 + 1))" "$T/h1.log" | grep -E ' -> |fast path|full apply|drain|resume|check flag' | head -n 6 | sed 's/^/      /'
}
loglines() { wc -l <"$T/h1.log"; }
# Waits until both route servers pick WANT for both prefixes; prints ms since SINCE (the V4 prefix's move).
wait_both() {
	local want=$1 since=$2 secs=${3:-20} ms rc=0
	ms=$("$PY" -I "$ROOT/test/demo/wait-both.py" "$LAB_PREFIX" "$V4" "$want" "$secs" "$since") || rc=$?
	((rc < 128)) || exit 130 # interrupted (Ctrl-C)
	((rc == 0)) || die "the route servers did not move to '$want' within $secs s"
	"$PY" -I "$ROOT/test/demo/wait-both.py" "$LAB_PREFIX" "$V6" "$want" "$secs" "$since" >/dev/null || rc=$?
	((rc < 128)) || exit 130
	((rc == 0)) || die "the route servers did not move $V6 to '$want' within $secs s"
	echo "$ms"
}
RESULTS=()
result() { RESULTS+=("$(printf '%-44s %6s ms' "$1" "$2")"); }

cat <<EOF
failoverd demo
==============
Two route servers (rs1, rs2) and two hosts sharing $V4 and $V6:
h1 is the primary, h2 the secondary. Each host runs FRR and failoverd, and failoverd runs one health
check, "flag", that exits with the number written in a file (0 = OK, 2 = CRITICAL). The route servers
prefer the path carrying community 65000:1 (primary) over 65000:2 (secondary).
Everything runs in network namespaces named $LAB_PREFIX-*; it is all removed at the end.
EOF

step "Building the lab and starting failoverd on h1 and h2"
"$LAB" up 2 || die "the lab could not be built"
for h in h1 h2; do
	role=primary
	[[ $h == h2 ]] && role=secondary
	install -d -m 0755 "$T/$h.d"
	echo 0 >"$T/$h.flag"
	# shellcheck disable=SC2016 # $code belongs to the check script
	printf '#!/bin/sh\n# exit code from the flag file\nread -r code < %s || code=3\necho "flag $code"\nexit "$code"\n' \
		"$T/$h.flag" >"$T/$h.d/flag"
	chmod 755 "$T/$h.d/flag"
	"$LAB" failoverd-conf "$h" "$role" "$T/$h.d" >"$T/$h.conf"
	ip netns exec "$("$LAB" ns "$h")" "$BIN/failoverd" -c "$T/$h.conf" >>"$T/$h.log" 2>&1 &
	PIDS+=($!)
done
say "h1: failoverd -c h1.conf (role primary),  h2: failoverd -c h2.conf (role secondary)"
say "checks: conf.d/flag every 1 s; down after 2 failures (fall 2), up after 3 successes (rise 3)"
say "waiting for BGP sessions and the first announcement..."
wait_both "h1 65000:1" "$EPOCHREALTIME" 30 >/dev/null
say "ready after $((SECONDS - T0)) s."

step "Both hosts healthy: the primary, h1, takes the traffic"
show_routes
say "All paths rs1 knows for $V4 (h2's is the backup, lower local-pref):"
"$LAB" paths rs1 "$V4" | sed 's/^/      /'
show_status

step "h1's health check fails"
say "echo 2 > h1.flag   (the check now exits 2 = CRITICAL; after 2 failures h1 withdraws)"
from=$(loglines)
since=$EPOCHREALTIME
echo 2 >"$T/h1.flag"
ms=$(wait_both h2 "$since")
say "=> traffic moved to h2 in $ms ms (from the flag change to both route servers moving)."
result "check failure -> traffic on h2" "$ms"
show_log_since "$from"
show_routes
AFTER_CHANGE=1 show_status

step "h1's health check recovers"
say "echo 0 > h1.flag   (after 3 successes h1 announces itself as primary again)"
from=$(loglines)
since=$EPOCHREALTIME
echo 0 >"$T/h1.flag"
ms=$(wait_both "h1 65000:1" "$since")
say "=> traffic back on h1 in $ms ms."
result "check recovery -> traffic back on h1" "$ms"
show_log_since "$from"
show_routes

step "Maintenance: failoverctl drain --reason \"demo maintenance\""
if "$BIN/failoverctl" -c "$T/h1.conf" status >/dev/null 2>&1; then
	say "An operator takes h1 out of service by hand (kept across restarts until resume)."
	from=$(loglines)
	since=$EPOCHREALTIME
	"$BIN/failoverctl" -c "$T/h1.conf" drain --reason "demo maintenance" | sed 's/^/      /'
	ms=$(wait_both h2 "$since")
	say "=> traffic moved to h2 in $ms ms."
	result "failoverctl drain -> traffic on h2" "$ms"
	show_log_since "$from"
	show_routes
	AFTER_CHANGE=1 show_status

	step "End of maintenance: failoverctl resume"
	from=$(loglines)
	since=$EPOCHREALTIME
	"$BIN/failoverctl" -c "$T/h1.conf" resume | sed 's/^/      /'
	ms=$(wait_both "h1 65000:1" "$since")
	say "=> traffic back on h1 in $ms ms."
	result "failoverctl resume -> traffic back on h1" "$ms"
	show_log_since "$from"
	show_routes
	AFTER_CHANGE=1 show_status
else
	say "This build's failoverd has no control socket yet, so drain/resume cannot be shown."
	say "(failoverctl says: $("$BIN/failoverctl" -c "$T/h1.conf" status 2>&1 | head -1))"
fi

step "Active/active: two services, each host primary for one"
say "Two shared addresses: h1 is primary for web ($V4, $V6), h2 primary for db ($DB4)."
say "failoverd.conf gets a services list instead of role and shared_ips; the flag check guards web alone."
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
PIDS=()
for h in h1 h2; do
	web=primary db=secondary
	[[ $h == h2 ]] && web=secondary db=primary
	"$LAB" lo-addr "$h" add "$DB4"
	"$LAB" failoverd-conf "$h" primary "$T/$h.d" | sed '/^role = /d; /^shared_ips = /d' >"$T/$h.conf"
	cat >>"$T/$h.conf" <<-EOC
		services = (
		  { name = "web"; shared_ips = ["${V4%/32}", "$V6"]; role = "$web"; checks = ["flag"]; },
		  { name = "db"; shared_ips = ["${DB4%/32}"]; role = "$db"; }
		);
	EOC
	ip netns exec "$("$LAB" ns "$h")" "$BIN/failoverd" -c "$T/$h.conf" >>"$T/$h.log" 2>&1 &
	PIDS+=($!)
done
sed -n '/^services/,/^);/p' "$T/h1.conf" | sed 's/^/      h1: /'
wait_both "h1 65000:1" "$EPOCHREALTIME" 30 >/dev/null
"$PY" -I "$ROOT/test/demo/wait-both.py" "$LAB_PREFIX" "$DB4" "h2 65000:1" 30 "$EPOCHREALTIME" >/dev/null ||
	die "the route servers did not move $DB4 to h2"
say "Route servers' best paths: web on h1, db on h2 (both hosts carry traffic):"
for rs in rs1 rs2; do
	printf '      %s  %-22s -> %s\n' "$rs" "$V4" "$(describe "$("$LAB" bestpath "$rs" "$V4")")"
	printf '      %s  %-22s -> %s\n' "$rs" "$DB4" "$(describe "$("$LAB" bestpath "$rs" "$DB4")")"
done
AFTER_CHANGE=1 show_status

step "Summary"
say "Time from the trigger to both route servers moving:"
for r in "${RESULTS[@]}"; do say "  $r"; done
say "A failing check is believed after 2 failures in a row (fall 2): the first at its next run (within"
say "1 s), the second 0.25 s later (a check changing state runs every interval/4). Recovery needs 3"
say "successes (rise 3). Once failoverd decides, its fast path moves the traffic in about 0.1-0.2 s,"
say "as the drain and resume times show."
say "Removing the lab..."
"$LAB" down >/dev/null 2>&1 || true
say "Done in $((SECONDS - T0)) s."
