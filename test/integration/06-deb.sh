#!/usr/bin/env bash
# make deb: the package has what an operator needs where Debian expects it, Depends computed from the
# binaries plus FRR, the example as a conffile, and lintian reports no error and no warning (each one
# that is accepted is overridden with its reason in units/debian/lintian-overrides).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAIL: $*"; exit 1; }
deb=$ROOT/$(make -C "$ROOT" --no-print-directory deb | tail -1)
[ -f "$deb" ] || fail "make deb did not print the package's path"
arch=$(dpkg --print-architecture)
version=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
[ "$(basename "$deb")" = "failoverd_${version}_${arch}.deb" ] || fail "package named $(basename "$deb")"
echo "ok: $(basename "$deb"), $(stat -c %s "$deb") bytes"
files=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/sbin/failoverd ./usr/sbin/failoverctl ./usr/lib/systemd/system/failoverd.service \
	./usr/lib/systemd/system/failoverd-failsafe.service ./etc/failoverd/failoverd.conf ./etc/failoverd/conf.d/ \
	./usr/share/man/man8/failoverd.8.gz ./usr/share/man/man8/failoverctl.8.gz \
	./usr/share/man/man5/failoverd.conf.5.gz ./usr/share/doc/failoverd/copyright \
	./usr/share/doc/failoverd/changelog.gz ./usr/share/failoverd/prometheus/failoverd.rules.yml \
	./usr/share/failoverd/grafana/failoverd.json; do
	grep -qxF "$f" <<<"$files" || fail "the package lacks $f"
done
echo "ok: binaries, units, man pages, example configuration, conf.d, copyright, changelog, alerts, dashboard"
[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" = /etc/failoverd/failoverd.conf ] ||
	fail "conffiles is not exactly /etc/failoverd/failoverd.conf"
dep=$(dpkg-deb -f "$deb" Depends)
# The library packages' names carry their soname (libconfig9 on Debian 12, libconfig11 on 13): each must
# be the one installed here, which the binaries were linked against.
for d in libc6 'libconfig[0-9]+' 'libjson-c[0-9]+' 'libmnl0' libsystemd0 'libcurl4(t64)?' frr frr-pythontools; do
	got=$(grep -oE "(^|, )$d( |,|$)" <<<"$dep" | tr -d ', ' | head -1)
	[ -n "$got" ] || fail "Depends lacks $d: $dep"
	case $got in frr*) ;; *) dpkg-query -W -f='${Status}' "$got" 2>/dev/null | grep -q ' installed' ||
		fail "Depends names $got, which is not installed here";; esac
done
echo "ok: Depends: $dep"
grep -q 'ExecReload=/usr/sbin/failoverctl' <(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/systemd/system/failoverd.service) ||
	fail "the packaged unit does not reload through failoverctl"
out=$(lintian --allow-root -EvIL +pedantic --fail-on error,warning "$deb" 2>&1) || { echo "$out"; fail "lintian"; }
grep -E '^[EW]: ' <<<"$out" && fail "lintian reported the above"
echo "ok: lintian: no error, no warning ($(grep -c '^[IP]: ' <<<"$out" || true) info/pedantic tags not overridden)"
