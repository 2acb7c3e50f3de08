#!/bin/bash
# lab.sh: the FRR network-namespace lab that failoverd's integration tests, demo and bench run in.
#
# Topology (documentation address ranges only):
#   PREFIX-sw    switch namespace, bridge br0; every other namespace has a veth "eth0" on it
#   PREFIX-rs1/2 route servers: zebra + bgpd (AS 65000, pathspace = namespace name), bgp listen range
#                for 2001:db8:f0::/64 and 192.0.2.0/24, IPv4 + IPv6 unicast, 65000:1 -> local-pref 200,
#                65000:2 -> local-pref 100, timers 3 9, timers connect 1
#   PREFIX-hN    hosts: zebra + bgpd with no BGP configuration (failoverd configures them), the shared
#                addresses 198.51.100.10/32 and 2001:db8:e001:1b8c::1/64 on lo
#   transport    rsK = 2001:db8:f0::K, 192.0.2.K, fe80::K;  hN = 2001:db8:f0::(10+N), 192.0.2.(10+N),
#                fe80::(10+N)  (the v6 host part is written with the decimal digits: h1 = 2001:db8:f0::11)
#
# As a command (root):  test/lab/lab.sh up 2; test/lab/lab.sh bestpath rs1 198.51.100.10/32; ...; lab.sh down
# As a library (a test):
#   . test/lab/lab.sh            # defines lab_* functions (wrappers of this script); sets no shell option
#   trap lab_down EXIT           # tears everything down, also after a failed test or a partial up
#   lab_up 2
#   lab_failoverd_conf h1 primary > "$T/h1.conf"
#   lab_exec h1 ./build/release/failoverd -c "$T/h1.conf" &
#   lab_wait_established h1 2 15
#   t=$EPOCHREALTIME; lab_exec h1 ...trigger...
#   ms=$(lab_wait_bestpath rs1 198.51.100.10/32 "h1 65000:1" 10 "$t")   # ms from $t to the match
# Every CLI command below is also a function: "wait-bestpath" -> lab_wait_bestpath, and so on.
#
# Environment: LAB_PREFIX (default "folab"; names every namespace, pathspace and directory the lab
# makes, so that two labs can coexist), LAB_DIR (state directory, default /run/$LAB_PREFIX),
# LAB_TRANSPORT (v6 | v4 | mixed: which route-server addresses failoverd-conf uses; default v6),
# LAB_RS_PASSWORD (at "up": the route servers require this TCP-MD5 password of every host; default none),
# LAB_BFD (at "up": 1 starts bfdd on every node and gives the route servers BFD for every host session,
# LAB_BFD_MS x 3, default 200 ms; default off),
# LAB_RS (at "up": "frr", the default, or "bird": the route servers are BIRD 2 daemons with the same policy,
# test/lab/rs-bird.conf; bestpath, paths, wait-bestpath, established and "bird NODE CMD..." query them).

LAB_SH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

# Sourced: define the functions and stop here. Each runs this script as a new process, so its strict
# mode holds whatever the caller's context (set -e is ignored inside functions called under "if"/"||").
if [[ ${BASH_SOURCE[0]} != "$0" ]]; then
	lab_up() { "$LAB_SH" up "$@"; }
	lab_down() { "$LAB_SH" down "$@"; }
	lab_status() { "$LAB_SH" status "$@"; }
	lab_nodes() { "$LAB_SH" nodes "$@"; }
	lab_ns() { "$LAB_SH" ns "$@"; }
	lab_pathspace() { "$LAB_SH" pathspace "$@"; }
	lab_exec() { "$LAB_SH" exec "$@"; }
	lab_vtysh() { "$LAB_SH" vtysh "$@"; }
	lab_vty() { "$LAB_SH" vty "$@"; }
	lab_bird() { "$LAB_SH" bird "$@"; }
	lab_bestpath() { "$LAB_SH" bestpath "$@"; }
	lab_paths() { "$LAB_SH" paths "$@"; }
	lab_wait_bestpath() { "$LAB_SH" wait-bestpath "$@"; }
	lab_established() { "$LAB_SH" established "$@"; }
	lab_wait_established() { "$LAB_SH" wait-established "$@"; }
	lab_host_conf() { "$LAB_SH" host-conf "$@"; }
	lab_failoverd_conf() { "$LAB_SH" failoverd-conf "$@"; }
	lab_link() { "$LAB_SH" link "$@"; }
	lab_stop() { "$LAB_SH" stop "$@"; }
	lab_start() { "$LAB_SH" start "$@"; }
	lab_lo_addr() { "$LAB_SH" lo-addr "$@"; }
	return 0
fi

set -euo pipefail
shopt -s nullglob

HERE=$(dirname "$LAB_SH")
P=${LAB_PREFIX:-folab}
[[ $P =~ ^[a-z][a-z0-9]{1,11}$ ]] || { echo "lab.sh: LAB_PREFIX must match [a-z][a-z0-9]{1,11}" >&2; exit 2; }
DIR=${LAB_DIR:-/run/$P}
FRR_BIN=/usr/lib/frr
# Debian's python3 (frrq.py needs only the standard library); a pyenv shim in PATH costs ~150 ms per call.
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
ETC=/etc/frr
RUN=/var/run/frr
NET6=2001:db8:f0::/64
NET4=192.0.2.0/24
SHARED4=198.51.100.10
SHARED6=2001:db8:e001:1b8c::/64
SHARED6_LO=2001:db8:e001:1b8c::1/64
RS_ASN=65000

die() { echo "lab.sh: $*" >&2; exit 1; }
usage() {
	cat >&2 <<EOF
usage: lab.sh COMMAND [ARGS]     (LAB_PREFIX=$P, LAB_DIR=$DIR)
  up [NHOSTS]                         build the lab (default 2 hosts), after cleaning leftovers
  down                                remove every namespace, process and directory of the lab
  status                              nodes, daemons, established sessions
  nodes                               node names: rs1 rs2 h1 ... hN
  ns NODE | pathspace NODE            the node's namespace / FRR pathspace (the same name)
  exec NODE CMD...                    run CMD in the node's namespace
  vtysh NODE CMD...                   vtysh -N PATHSPACE -c CMD [-c CMD...]
  vty NODE CMD...                     send CMDs straight to the node's bgpd vty socket (fast)
  bird NODE CMD...                    birdc CMD on a BIRD route server (LAB_RS=bird)
  bestpath RS PREFIX                  "h1 65000:1" or "none"
  paths RS PREFIX                     every path: node community localpref aspath [best]
  wait-bestpath RS PREFIX EXP SECS [SINCE]
                                      poll every 20 ms; print ms elapsed since SINCE ($EPOCHREALTIME
                                      taken before the trigger; default: start of polling) on match,
                                      exit 1 on timeout; EXP "h1", "h1 65000:1" or "none"
  established NODE                    number of established BGP sessions
  wait-established NODE N SECS        wait until NODE has exactly N; print elapsed ms, exit 1 on timeout
  host-conf NODE [KEY]                KEY=VALUE facts a failoverd.conf for host NODE needs
  failoverd-conf NODE ROLE [CHECKDIR] a complete failoverd.conf for host NODE
  link NODE up|down|silent            switch port: up, down (carrier lost), silent (frames dropped)
  stop NODE [DAEMON...]               SIGTERM the node's FRR daemons (default zebra bgpd), wait
  start NODE [--no-config]            start the node's stopped daemons, then load (vtysh -b)
                                      /etc/frr/PATHSPACE/frr.conf as frrinit.sh does, unless --no-config
  lo-addr NODE add|del ADDR/LEN       add or remove an address on the node's lo
EOF
	exit 2
}

# --- names and addresses ----------------------------------------------------------------------

nhosts() { if [[ -r $DIR/nhosts ]]; then cat "$DIR/nhosts"; else echo 0; fi; }
nodes() {
	local i n
	n=$(nhosts)
	echo rs1 rs2
	for ((i = 1; i <= n; i++)); do echo "h$i"; done
}
# Host part of a node's transport addresses (decimal digits, also in IPv6).
node_num() {
	case $1 in
	rs1) echo 1 ;; rs2) echo 2 ;;
	h[1-9] | h[1-9][0-9] | h[1-9][0-9][0-9]) echo $((10 + ${1#h})) ;;
	*) die "unknown node '$1' (nodes: rs1 rs2 h1..hN)" ;;
	esac
}
check_node() {
	local n
	n=$(node_num "$1")
	[[ -d $RUN/$P-$1 ]] || die "node '$1' is not in the lab (did 'lab.sh up' run? LAB_PREFIX=$P)"
	: "$n"
}
is_lab_name() { [[ $1 =~ ^$P-(sw|rs[0-9]+|h[0-9]+)$ ]]; }

# --- processes --------------------------------------------------------------------------------

# A process counts as gone once it is a zombie: daemons reparented to a non-init PID 1 are never reaped.
alive() {
	local st
	st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
	[[ $st != Z ]]
}
# Pids of FRR daemons of a pathspace, from their pid files (FRR leaves the files behind at exit).
frr_pids() {
	local f pid comm
	for f in "$RUN/$1"/*.pid; do
		pid=$(cat "$f" 2>/dev/null) || continue
		[[ $pid =~ ^[0-9]+$ ]] || continue
		comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
		[[ $comm =~ ^(zebra|bgpd|staticd|watchfrr|bfdd)$ ]] && alive "$pid" && echo "$pid"
	done
	return 0
}
# SIGTERM, wait up to 3 s, then SIGKILL.
terminate() {
	local pid left i
	(($#)) || return 0
	kill -TERM "$@" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		left=()
		for pid; do alive "$pid" && left+=("$pid"); done
		((${#left[@]})) || return 0
		sleep 0.02
	done
	kill -KILL "${left[@]}" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		left=()
		for pid; do alive "$pid" && left+=("$pid"); done
		((${#left[@]})) || return 0
		sleep 0.02
	done
	echo "lab.sh: warning: processes still alive after SIGKILL: ${left[*]}" >&2
}

# --- up / down --------------------------------------------------------------------------------

# Pids of FRR daemons started with "-N NAME" for one of this lab's names, and of BIRD route servers started
# with "-s $DIR/rsN-bird.ctl", found by command line: they outlive their namespace and pid files when a run
# was killed half-way and a later run reused the names.
frr_orphans() {
	local f pid comm prev arg
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}; pid=${pid%/cmdline}
		comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
		[[ $comm =~ ^(zebra|bgpd|staticd|watchfrr|bfdd|bird)$ ]] || continue
		prev=
		while IFS= read -r -d '' arg; do
			if [[ $prev == -N ]] && is_lab_name "$arg"; then alive "$pid" && echo "$pid"; break; fi
			if [[ $comm == bird && $prev == -s && $arg == "$DIR"/rs*-bird.ctl ]]; then alive "$pid" && echo "$pid"; break; fi
			prev=$arg
		done < "$f" 2>/dev/null || true
	done
}

cmd_down() {
	local ns pids=() d
	for ns in $(ip netns list | awk '{print $1}'); do
		is_lab_name "$ns" || continue
		# shellcheck disable=SC2207 # pids are digits
		pids+=($(ip netns pids "$ns" 2>/dev/null || true))
	done
	for d in "$RUN"/"$P"-*; do
		is_lab_name "${d##*/}" || continue
		# shellcheck disable=SC2207
		pids+=($(frr_pids "${d##*/}"))
	done
	# shellcheck disable=SC2207
	pids+=($(frr_orphans))
	for d in "$DIR"/rs*-bird.pid; do
		d=$(cat "$d" 2>/dev/null) || continue
		[[ $d =~ ^[0-9]+$ && $(cat "/proc/$d/comm" 2>/dev/null) == bird ]] && alive "$d" && pids+=("$d")
	done
	terminate "${pids[@]}"
	for ns in $(ip netns list | awk '{print $1}'); do
		is_lab_name "$ns" && ip netns del "$ns"
	done
	for d in "$ETC"/"$P"-* "$RUN"/"$P"-*; do
		is_lab_name "${d##*/}" && rm -rf -- "$d"
	done
	# The state directory is removed only when the lab made it.
	if [[ -f $DIR/.lab-prefix && $(cat "$DIR/.lab-prefix") == "$P" ]]; then
		rm -rf -- "$DIR"
	fi
	return 0
}

# No SLAAC: bgpd's extended-nexthop capability makes zebra send router advertisements, and an
# autoconfigured address would become the hosts' BGP source address. Set before eth0 exists.
ns_add() {
	ip netns add "$1"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
		net.ipv6.conf.all.autoconf=0 net.ipv6.conf.default.autoconf=0
}

# Creates NODE's namespace, its veth on the bridge and its addresses.
net_node() {
	local node=$1 ns=$P-$1 n
	n=$(node_num "$node")
	ns_add "$ns"
	ip -n "$P-sw" link add "$node" type veth peer name eth0 netns "$ns"
	ip -n "$P-sw" -b - <<-EOF
		link set $node addrgenmode none
		link set $node master br0 up
	EOF
	ip -n "$ns" -b - <<-EOF
		link set lo up
		link set eth0 addrgenmode none
		link set eth0 up
		addr add fe80::$n/64 dev eth0 nodad
		addr add ${NET6%::/64}::$n/64 dev eth0 nodad
		addr add ${NET4%.0/24}.$n/24 dev eth0
	EOF
	if [[ $node == h* ]]; then
		ip -n "$ns" -b - <<-EOF
			addr add $SHARED4/32 dev lo
			addr add $SHARED6_LO dev lo nodad
		EOF
	fi
}

# FRR directories of a pathspace, owned by frr as the daemons drop privileges.
frr_dirs() {
	local ps=$1 hostconf=$2
	install -d -o frr -g frr -m 0750 "$ETC/$ps"
	install -d -o frr -g frr -m 0755 "$RUN" "$RUN/$ps"
	install -o frr -g frrvty -m 0640 /dev/null "$ETC/$ps/vtysh.conf"
	install -o frr -g frr -m 0640 /dev/null "$ETC/$ps/frr.conf"
	printf '%s\n' "$hostconf" >"$ETC/$ps/frr.conf"
}

# The route servers' optional extras (LAB_RS_PASSWORD, LAB_BFD), added to the peer-group HOSTS of
# rs-frr.conf, for NHOSTS hosts.
# With BFD each host is also a static member of HOSTS (on the transport LAB_TRANSPORT gives failoverd), so
# the route server runs BFD towards it before any BGP session, as route servers that offer BFD do: FRR
# 10.2.0-10.2.2 and 10.3.0 (Debian 13's) start no BGP session while its BFD session is down, and a
# listen-range neighbor, hence its BFD session, exists only once the host's BGP connects (docs/frr-facts.md).
rs_options() {
	local nhosts=$1
	local pw=${LAB_RS_PASSWORD:-}
	[[ -z $pw || $pw =~ ^[!-~]{1,80}$ ]] || die "LAB_RS_PASSWORD must be 1-80 printable characters, no spaces"
	local bfd=${LAB_BFD:-} ms=${LAB_BFD_MS:-200} statics="" i
	[[ $ms =~ ^[0-9]{2,5}$ ]] || die "LAB_BFD_MS must be milliseconds (10-60000)"
	if [[ $bfd == 1 ]]; then
		for ((i = 1; i <= nhosts; i++)); do
			[[ ${LAB_TRANSPORT:-v6} == v4 ]] || statics+=" neighbor ${NET6%::/64}::$((10 + i)) peer-group HOSTS;"
			[[ ${LAB_TRANSPORT:-v6} == v6 ]] || statics+=" neighbor ${NET4%.0/24}.$((10 + i)) peer-group HOSTS;"
		done
	fi
	awk -v pw="$pw" -v bfd="$bfd" -v ms="$ms" -v statics="$statics" '{ print }
		/^ neighbor HOSTS capability extended-nexthop$/ && pw != "" { print " neighbor HOSTS password " pw }
		/^ neighbor HOSTS capability extended-nexthop$/ && bfd == "1" {
			print " neighbor HOSTS bfd profile lab"
			n = split(statics, s, ";"); for (i = 1; i < n; i++) print s[i]
		}
		END { if (bfd == "1") printf "bfd\n profile lab\n  receive-interval %s\n  transmit-interval %s\n exit\n!\nexit\n!\n", ms, ms }'
}

# Starts NODE's zebra and bgpd (those not running) and, unless BOOT is "no", loads
# /etc/frr/PATHSPACE/frr.conf with vtysh -b as frrinit.sh does.
start_frr() {
	local node=$1 boot=${2:-yes} ns=$P-$1 d pid daemons=(zebra bgpd)
	[[ ${LAB_BFD:-} == 1 || -f $DIR/bfd ]] && daemons+=(bfdd)
	for d in "${daemons[@]}"; do
		pid=$(cat "$RUN/$ns/$d.pid" 2>/dev/null) || pid=
		if [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == "$d" ]] && alive "$pid"; then
			continue
		fi
		ip netns exec "$ns" "$FRR_BIN/$d" -d -N "$ns" -F traditional -A 127.0.0.1 \
			--log "file:$DIR/log/$node-$d.log" 2>>"$DIR/log/$node-start.log" ||
			die "$node: $d did not start (see $DIR/log/$node-start.log)"
	done
	wait_vty "$node"
	[[ $boot == no ]] && return 0
	vtysh -N "$ns" -b >>"$DIR/log/$node-start.log" 2>&1 ||
		die "$node: vtysh -b failed (see $DIR/log/$node-start.log)"
}

# Waits until the node's bgpd and zebra answer on their vty sockets.
wait_vty() {
	local ns=$P-$1 i
	for ((i = 0; i < 250; i++)); do
		if [[ -S $RUN/$ns/bgpd.vty && -S $RUN/$ns/zebra.vty ]] &&
			"$PY" -I "$HERE/frrq.py" "$RUN/$ns/bgpd.vty" cmd 'show version' >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.02
	done
	die "$1: bgpd does not answer on $RUN/$ns/bgpd.vty"
}

# BIRD route server NODE's configuration for NHOSTS hosts: rs-bird.conf, then one passive session per host
# and transport family, named after the host ("h1v6"), which is how queries name a path's node.
bird_conf() {
	local node=$1 n=$2 i h k
	i=$(node_num "$1")
	[[ -z ${LAB_RS_PASSWORD:-} && ${LAB_BFD:-} != 1 ]] || die "LAB_RS=bird: no LAB_RS_PASSWORD or LAB_BFD yet"
	sed -e "s|@ROUTER_ID@|${NET4%.0/24}.$i|" -e "s|@ASN@|$RS_ASN|" -e "s|@LOG@|$DIR/log/$node-bird.log|" \
		"$HERE/rs-bird.conf"
	for ((h = 1; h <= n; h++)); do
		k=$((10 + h))
		printf 'protocol bgp h%sv6 from HOSTS { neighbor %s::%s external; }\n' "$h" "${NET6%::/64}" "$k"
		printf 'protocol bgp h%sv4 from HOSTS { neighbor %s.%s external; }\n' "$h" "${NET4%.0/24}" "$k"
	done
}

# Starts NODE's BIRD (it daemonizes once its control socket is up) and waits until it answers.
start_bird() {
	local node=$1 ctl=$DIR/$1-bird.ctl i
	ip netns exec "$P-$node" bird -c "$DIR/$node-bird.conf" -s "$ctl" -P "$DIR/$node-bird.pid" \
		2>>"$DIR/log/$node-start.log" || die "$node: bird did not start (see $DIR/log/$node-start.log)"
	for ((i = 0; i < 250; i++)); do
		birdc -s "$ctl" show status >/dev/null 2>&1 && return 0
		sleep 0.02
	done
	die "$node: bird does not answer on $ctl"
}

cmd_up() {
	local n=${1:-2} node i pids=() rc=0
	if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > 200)); then die "up: NHOSTS must be 1..200"; fi
	[[ -x $FRR_BIN/bgpd ]] || die "FRR is not installed ($FRR_BIN/bgpd)"
	cmd_down
	install -d -m 0755 "$DIR"
	echo "$P" >"$DIR/.lab-prefix"
	echo "$n" >"$DIR/nhosts"
	# Remembered, so that a later "start NODE" brings bfdd back too.
	[[ ${LAB_BFD:-} == 1 ]] && touch "$DIR/bfd"
	case ${LAB_RS:-frr} in
	frr) ;;
	bird) { command -v bird && command -v birdc; } >/dev/null || die "LAB_RS=bird: BIRD 2 is not installed (Debian: bird2)"
		touch "$DIR/bird" ;;
	*) die "LAB_RS must be frr or bird" ;;
	esac
	install -d -o frr -g frr -m 0755 "$DIR/log"

	ns_add "$P-sw"
	ip -n "$P-sw" -b - <<-EOF
		link set lo up
		link add br0 type bridge mcast_snooping 0
		link set br0 addrgenmode none
		link set br0 up
	EOF
	for node in $(nodes); do
		net_node "$node"
		if [[ $node == rs* && -f $DIR/bird ]]; then
			bird_conf "$node" "$n" >"$DIR/$node-bird.conf"
			install -d -m 0755 "$RUN/$P-$node"
		elif [[ $node == rs* ]]; then
			i=$(node_num "$node")
			frr_dirs "$P-$node" "$(sed -e "s|@NAME@|$P-$node|" -e "s|@ASN@|$RS_ASN|" -e "s|@ROUTER_ID@|${NET4%.0/24}.$i|" \
				-e "s|@NET6@|$NET6|" -e "s|@NET4@|$NET4|" "$HERE/rs-frr.conf" | rs_options "$n")"
		else
			frr_dirs "$P-$node" "hostname $P-$node"
			install -d -m 0755 "$DIR/$node" "$DIR/$node/conf.d" "$DIR/$node/state" "$DIR/$node/run"
		fi
	done
	for node in $(nodes); do
		if [[ $node == rs* && -f $DIR/bird ]]; then start_bird "$node" & else start_frr "$node" & fi
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || rc=1; done
	((rc == 0)) || die "up failed; run 'lab.sh down' (or rely on the trap) to clean up"
}

# --- queries ----------------------------------------------------------------------------------

frrq() {
	local node=$1
	shift
	check_node "$node"
	[[ $node == rs* && -f $DIR/bird ]] && { birdq "$node" "$@"; exit; }
	exec "$PY" -I "$HERE/frrq.py" "$RUN/$P-$node/bgpd.vty" "$@"
}

# frrq's queries answered by a BIRD route server, in frrq's formats.
bird_paths() {
	{ birdc -s "$DIR/$1-bird.ctl" show route for "$2" all || true; } | awk '
		function flush() { if (node != "") printf "%s %s localpref=%s aspath=%s%s\n", node, comm == "" ? "-" : comm, lp, path == "" ? "-" : path, best ? " best" : "" }
		match($0, /\[h[0-9]+v[46] /) {
			flush(); node = substr($0, RSTART + 1, RLENGTH - 4); best = ($0 ~ /\] \* /); comm = ""; lp = ""; path = ""
		}
		node != "" && $1 == "BGP.as_path:" { $1 = ""; sub(/^ /, ""); gsub(/ /, ","); path = $0 }
		node != "" && $1 == "BGP.local_pref:" { lp = $2 }
		node != "" && $1 == "BGP.community:" { $1 = ""; sub(/^ /, ""); gsub(/[()]/, ""); gsub(/,/, ":"); gsub(/ /, ","); comm = $0 }
		END { flush() }'
}
bird_bestpath() {
	local b
	b=$(bird_paths "$1" "$2" | awk '/ best$/ { print $1, $2; exit }')
	echo "${b:-none}"
}
# Microseconds in a decimal number of seconds ("2", "0.5", $EPOCHREALTIME, date +%s.%N).
usecs() {
	local i=${1%%.*} f=
	[[ $1 == *.* ]] && f=${1#*.}
	f=${f:0:6}
	while ((${#f} < 6)); do f+=0; done
	echo $(( 10#${i:-0} * 1000000 + 10#$f ))
}
bird_established() { birdc -s "$DIR/$1-bird.ctl" show protocols | grep -c ' Established' || true; }
birdq() {
	local node=$1 op=$2 seen since end
	shift 2
	case $op in
	bestpath) bird_bestpath "$node" "$1" ;;
	paths) bird_paths "$node" "$1" ;;
	established) bird_established "$node" ;;
	wait-bestpath | wait-established)
		since=$(usecs "${4:-$EPOCHREALTIME}")
		[[ $op == wait-established ]] && since=$(usecs "$EPOCHREALTIME")
		end=$(( ${EPOCHREALTIME/./} + $(usecs "${3:-$2}") ))
		while :; do
			if [[ $op == wait-bestpath ]]; then
				seen=$(bird_bestpath "$node" "$1")
				# EXP may give fewer fields than the answer ("h1" matches "h1 65000:1").
				[[ "$seen " == "$2 "* ]] && break
			else
				seen=$(bird_established "$node")
				[[ $seen == "$1" ]] && break
			fi
			if (( ${EPOCHREALTIME/./} > end )); then
				echo "lab.sh: timeout: $node: $op ${*:1:2}: saw '$seen'" >&2
				return 1
			fi
			sleep 0.02
		done
		echo $(( (${EPOCHREALTIME/./} - since) / 1000 ))
		;;
	*) die "$op: not available on a BIRD route server (use: lab.sh bird $node CMD...)" ;;
	esac
}

# KEY=VALUE lines describing host NODE, for tests and for failoverd-conf.
host_conf() {
	local node=$1 n ps=$P-$1
	[[ $node == h* ]] || die "host-conf: '$node' is not a host"
	check_node "$node"
	n=$(node_num "$node")
	cat <<-EOF
		node=$node
		netns=$ps
		pathspace=$ps
		hostname=$ps
		frr_config=$ETC/$ps/frr.conf
		frr_confdir=$ETC/$ps
		vty_socket=$RUN/$ps/bgpd.vty
		route_servers_v6=${NET6%::/64}::1 ${NET6%::/64}::2
		route_servers_v4=${NET4%.0/24}.1 ${NET4%.0/24}.2
		router_id=${NET4%.0/24}.$n
		addr6=${NET6%::/64}::$n
		addr4=${NET4%.0/24}.$n
		linklocal=fe80::$n
		shared_ips=$SHARED4 $SHARED6
		dir=$DIR/$node
		checks_dir=$DIR/$node/conf.d
		state_dir=$DIR/$node/state
		runtime_dir=$DIR/$node/run
		log_dir=$DIR/log
	EOF
}

cmd_host_conf() {
	local out
	(($# == 1 || $# == 2)) || usage
	out=$(host_conf "$1")
	if (($# == 2)); then
		grep -q "^$2=" <<<"$out" || die "host-conf: no key '$2'"
		sed -n "s/^$2=//p" <<<"$out"
	else
		printf '%s\n' "$out"
	fi
}

cmd_failoverd_conf() {
	local node=$1 role=$2 checks=${3:-} h rs1 rs2
	[[ $role == primary || $role == secondary ]] || die "failoverd-conf: ROLE must be primary or secondary"
	h=$(host_conf "$node")
	get() { sed -n "s/^$1=//p" <<<"$h"; }
	[[ -n $checks ]] || checks=$(get checks_dir)
	case ${LAB_TRANSPORT:-v6} in
	v6) read -r rs1 rs2 <<<"$(get route_servers_v6)" ;;
	v4) read -r rs1 rs2 <<<"$(get route_servers_v4)" ;;
	mixed)
		rs1=$(get route_servers_v6 | cut -d' ' -f1)
		rs2=$(get route_servers_v4 | cut -d' ' -f2)
		;;
	*) die "LAB_TRANSPORT must be v6, v4 or mixed" ;;
	esac
	cat <<-EOF
		# failoverd.conf for lab host $node (generated by test/lab/lab.sh failoverd-conf).
		role = "$role";
		hostname = "$(get hostname)";
		shared_ips = ["$SHARED4", "$SHARED6"];

		bgp = {
		  router_id = "$(get router_id)";
		  route_servers = ["$rs1", "$rs2"];
		};

		frr = {
		  pathspace = "$(get pathspace)";
		  config = "$(get frr_config)";
		};

		checks = {
		  directory = "$checks";
		};

		state_directory = "$(get state_dir)";
		runtime_directory = "$(get runtime_dir)";
	EOF
}

cmd_status() {
	local node ps pids
	[[ -f $DIR/nhosts ]] || { echo "no lab (LAB_PREFIX=$P)"; return 0; }
	for node in $(nodes); do
		ps=$P-$node
		if [[ $node == rs* && -f $DIR/bird ]]; then
			printf '%-4s %-12s bird: %-17s established: %s\n' "$node" "$ps" "$(cat "$DIR/$node-bird.pid" 2>/dev/null)" \
				"$(bird_established "$node" 2>/dev/null || echo none)"
			continue
		fi
		pids=$(frr_pids "$ps" | tr '\n' ' ')
		printf '%-4s %-12s daemons: %-14s established: %s\n' "$node" "$ps" "${pids:-none}" \
			"$("$PY" -I "$HERE/frrq.py" "$RUN/$ps/bgpd.vty" established 2>/dev/null || echo none)"
	done
}

cmd_link() {
	local node=$1 how=$2
	check_node "$node"
	case $how in
	up) bridge -n "$P-sw" link set dev "$node" state 3 && ip -n "$P-sw" link set "$node" up ;;
	down) ip -n "$P-sw" link set "$node" down ;;
	silent) bridge -n "$P-sw" link set dev "$node" state 0 ;; # disabled port: drops frames, keeps carrier
	*) usage ;;
	esac
}

cmd_stop() {
	local node=$1 ps=$P-$1 d pid pids=()
	shift
	check_node "$node"
	(($#)) || set -- zebra bgpd
	for d; do
		[[ $d =~ ^(zebra|bgpd|bfdd)$ ]] || die "stop: unknown daemon '$d'"
		pid=$(cat "$RUN/$ps/$d.pid" 2>/dev/null) || continue
		[[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == "$d" ]] && alive "$pid" && pids+=("$pid")
	done
	terminate "${pids[@]}"
}

cmd_start() {
	local node=$1 boot=yes
	if [[ ${2:-} == --no-config ]]; then boot=no; elif (($# > 1)); then usage; fi
	check_node "$node"
	start_frr "$node" "$boot"
}

main() {
	(($#)) || usage
	local cmd=$1
	shift
	case $cmd in
	up) (($# <= 1)) || usage; cmd_up "$@" ;;
	down) cmd_down ;;
	status) cmd_status ;;
	nodes) nodes ;;
	ns | pathspace) (($# == 1)) || usage; node_num "$1" >/dev/null; echo "$P-$1" ;;
	exec) (($# >= 2)) || usage; check_node "$1"; exec ip netns exec "$P-$1" "${@:2}" ;;
	vtysh)
		(($# >= 2)) || usage
		check_node "$1"
		local a=()
		for c in "${@:2}"; do a+=(-c "$c"); done
		exec vtysh -N "$P-$1" "${a[@]}"
		;;
	vty) (($# >= 2)) || usage; frrq "$1" cmd "${@:2}" ;;
	bird)
		(($# >= 2)) || usage
		check_node "$1"
		[[ $1 == rs* && -f $DIR/bird ]] || die "bird: '$1' is not a BIRD route server"
		exec birdc -s "$DIR/$1-bird.ctl" "${@:2}"
		;;
	bestpath | paths) (($# == 2)) || usage; frrq "$1" "$cmd" "$2" ;;
	wait-bestpath) (($# == 4 || $# == 5)) || usage; frrq "$1" wait-bestpath "${@:2}" ;;
	established) (($# == 1)) || usage; frrq "$1" established ;;
	wait-established) (($# == 3)) || usage; frrq "$1" wait-established "$2" "$3" ;;
	host-conf) cmd_host_conf "$@" ;;
	failoverd-conf) (($# == 2 || $# == 3)) || usage; cmd_failoverd_conf "$@" ;;
	link) (($# == 2)) || usage; cmd_link "$@" ;;
	stop) (($# >= 1)) || usage; cmd_stop "$@" ;;
	start) (($# == 1 || $# == 2)) || usage; cmd_start "$@" ;;
	lo-addr)
		if (($# != 3)) || ! [[ $2 == add || $2 == del ]]; then usage; fi
		check_node "$1"
		if [[ $3 == *:* ]]; then exec ip -n "$P-$1" addr "$2" "$3" dev lo nodad; fi
		exec ip -n "$P-$1" addr "$2" "$3" dev lo
		;;
	-h | --help | help) usage ;;
	*) usage ;;
	esac
}

main "$@"
