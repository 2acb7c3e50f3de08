#!/bin/bash
# Builds (once) the Debian root that test/integration/80-systemd.sh boots with systemd as PID 1: minbase plus
# systemd, dbus, FRR as Debian ships it, a monitoring plugin and the package's shared libraries, so that
# the test installs failoverd's .deb without a network. Prints the root's path.
# Usage: systemd-root.sh [SUITE]   (default: this machine's own release, so that the .deb built here installs
# there; FAILOVERD_CI_CACHE overrides /var/cache/failoverd-ci)
set -euo pipefail
suite=${1:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}
cache=${FAILOVERD_CI_CACHE:-/var/cache/failoverd-ci}
# The mirror this machine's apt uses (deb822 "URIs:" or one-line "deb URI"), unless DEBIAN_MIRROR says.
mirror=${DEBIAN_MIRROR:-$({ cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } |
	awk '$1 == "URIs:" && $2 !~ /security/ { print $2; exit } $1 == "deb" && $2 !~ /security/ { print $2; exit }')}
[ -n "$mirror" ] || { echo "systemd-root: no Debian mirror in /etc/apt; set DEBIAN_MIRROR" >&2; exit 1; }
# The runtime packages of the libraries failoverd links (libconfig9 on Debian 12, libconfig11 on 13, ...).
# Read whole, never through a reader that stops early: under pipefail a writer killed by SIGPIPE (ldconfig
# -p's 50 kB after awk's first match) failed this script 11 times in 400.
libpkgs=
cache_list=$(ldconfig -p)
for l in libconfig.so libjson-c.so libsystemd.so libcurl.so; do
	p=$(awk -v l="$l." 'index($1, l) == 1 && !p { p = $NF } END { print p }' <<<"$cache_list")
	[ -n "$p" ] || { echo "systemd-root: $l not installed" >&2; exit 1; }
	pk=
	for c in "$p" "$(readlink -f "$p")" "${p#/usr}"; do
		pk=$(dpkg-query -S "$c" 2>/dev/null | awk -F: 'NR == 1 { print $1 }') || pk=
		[ -n "$pk" ] && break
	done
	[ -n "$pk" ] || { echo "systemd-root: no package owns $p" >&2; exit 1; }
	libpkgs=$libpkgs,$pk
done
pkgs=systemd-sysv,dbus,frr,frr-pythontools,monitoring-plugins-basic,iproute2$libpkgs
# The stamp names what is inside: a changed package list builds a new root instead of reusing a stale one.
root=$cache/systemd-$suite
stamp="$suite $pkgs v1"
if [ -f "$root/.failoverd-ci" ] && [ "$(cat "$root/.failoverd-ci")" = "$stamp" ]; then
	echo "$root"
	exit 0
fi
mkdir -p "$cache"
exec 9>"$cache/.systemd-$suite.lock"
flock 9
if [ -f "$root/.failoverd-ci" ] && [ "$(cat "$root/.failoverd-ci")" = "$stamp" ]; then
	echo "$root"
	exit 0
fi
tmp=$cache/.systemd-$suite.tmp
rm -rf "$tmp" "$root"
echo "systemd-root: debootstrap $suite into $tmp (once; a few minutes)" >&2
debootstrap --variant=minbase --include="$pkgs" "$suite" "$tmp" "$mirror" >"$cache/.systemd-$suite.log" 2>&1 || {
	tail -20 "$cache/.systemd-$suite.log" >&2
	exit 1
}
# The test drives FRR itself: nothing starts at boot that the test did not ask for, and bgpd is on.
rm -f "$tmp/etc/systemd/system/multi-user.target.wants/frr.service"
sed -i 's/^bgpd=no/bgpd=yes/' "$tmp/etc/frr/daemons"
echo failoverd-ci >"$tmp/etc/hostname"
: >"$tmp/etc/machine-id"
printf '%s\n' "$stamp" >"$tmp/.failoverd-ci"
mv "$tmp" "$root"
echo "$root"
