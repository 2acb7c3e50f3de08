#!/usr/bin/env bash
# The systemd unit: systemd-analyze verify accepts it as make install writes it, and make install lays out
# binaries, unit (in /usr/lib/systemd/system, on Debian and RHEL alike), example configuration and man
# pages under DESTDIR.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${FAILOVERD_BUILD:-$ROOT/build/release}
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
make -C "$ROOT" --no-print-directory B="${B#"$ROOT"/}" DESTDIR="$D" PREFIX=/usr install >/dev/null
for f in usr/sbin/failoverd usr/sbin/failoverctl usr/lib/systemd/system/failoverd.service \
	usr/lib/systemd/system/failoverd-failsafe.service etc/failoverd/failoverd.conf \
	usr/share/failoverd/prometheus/failoverd.rules.yml usr/share/failoverd/grafana/failoverd.json; do
	[ -e "$D/$f" ] || { echo "FAIL: make install did not install $f"; exit 1; }
done
echo "ok: make install laid out binaries, unit, configuration, alerting rules and dashboard"
# verify resolves ExecStart= on this machine: point it at the installed copy.
for u in failoverd.service failoverd-failsafe.service; do
	sed "s|/usr/sbin/|$D/usr/sbin/|g; s|/etc/failoverd/|$D/etc/failoverd/|g" \
		"$D/usr/lib/systemd/system/$u" > "$D/$u"
done
out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$D/failoverd.service" "$D/failoverd-failsafe.service" 2>&1) ||
	{ echo "$out"; echo "FAIL: systemd-analyze verify"; exit 1; }
# verify prints warnings without failing: none may concern our units.
if grep -i "failoverd" <<<"$out"; then echo "FAIL: systemd-analyze verify warned"; exit 1; fi
grep -q '^Type=notify$' "$D/failoverd.service" && grep -q '^WatchdogSec=' "$D/failoverd.service"
grep -q '^OnFailure=failoverd-failsafe.service$' "$D/failoverd.service"
echo "ok: systemd-analyze verify accepts failoverd.service and failoverd-failsafe.service"
