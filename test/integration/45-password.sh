#!/usr/bin/env bash
# BGP passwords (issue 22): route servers that require TCP-MD5. h1 has the right password as a systemd
# credential ($CREDENTIALS_DIRECTORY) and gets both sessions, IPv4 and IPv6 routes; h2 has a wrong one
# (an absolute path) and gets none, and its status says why. The password is in frr.conf (0640) and in
# nothing else failoverd shows: logs, status text and JSON, metrics, the notify hook's environment,
# --render, --check.
. "$(dirname "$0")/lib.sh"
V4=198.51.100.10/32
V6=2001:db8:e001:1b8c::/64
SECRET=lab-md5-Key.45
WRONG=not-the-key-45

LAB_RS_PASSWORD=$SECRET lab_up 2
mkdir -m 0700 "$T/creds"
(umask 077; echo "$SECRET" > "$T/creds/bgp-password"; echo "$WRONG" > "$T/wrong-password")
printf '#!/bin/sh\nenv >> %s\n' "$T/notify.env" > "$T/notify.sh"
chmod 755 "$T/notify.sh"
for h in h1 h2; do
	role=primary pw='bgp-password'
	[ $h = h2 ] && role=secondary pw=$T/wrong-password
	lab_failoverd_conf $h $role "$(make_flag_check $h)" |
		sed "s|^  route_servers = .*|&\n  password_file = \"$pw\";|" > "$T/$h.conf"
	cat >> "$T/$h.conf" <<EOC
notify = "$T/notify.sh";
metrics_file = "$T/$h.prom";
EOC
done

say "a credential name without \$CREDENTIALS_DIRECTORY is an error naming it"
out=$("$FAILOVERD" -c "$T/h1.conf" --check 2>&1) && fail "--check accepted a credential without CREDENTIALS_DIRECTORY"
grep -q 'bgp.password_file: "bgp-password": is a credential name, but \$CREDENTIALS_DIRECTORY is not set' <<<"$out" ||
	fail "--check: $out"
ok "--check names the credential"
export CREDENTIALS_DIRECTORY=$T/creds
"$FAILOVERD" -c "$T/h1.conf" --check > "$T/check.out" 2>&1 || { cat "$T/check.out"; fail "--check h1"; }
"$FAILOVERD" -c "$T/h1.conf" --render > "$T/render.out" 2>&1
grep -q '^ neighbor RS password \*\*\*\*\*\*\*\*$' "$T/render.out" || fail "--render does not mask the password"
ok "--render masks the password"

start_failoverd h1
start_failoverd h2
expect_best $V4 "h1 65000:1" 20
expect_best $V6 "h1 65000:1" 10
assert_eq "$(lab_established h1)" 2 "h1 (right password): sessions established"

CTL2() { "$FAILOVERCTL" -c "$T/h2.conf" "$@"; }
rs_why() { CTL2 status --json | /usr/bin/python3 -c 'import json,sys; print(" | ".join(str(r.get("why")) for r in json.load(sys.stdin)["route_servers"]))'; }
say "h2 (wrong password): no session, and status says why"
wait_until 20 "h2's status to name the password" 'rs_why | grep -q "TCP-MD5 password mismatch"' ||
	fail "h2 route servers: $(rs_why)"
assert_eq "$(lab_established h2)" 0 "h2 (wrong password): sessions established"
for rs in rs1 rs2; do
	lab_paths $rs $V4 | grep -q '^h2 ' && fail "$rs has a path from h2"
done
ok "the route servers have no path from h2"
CTL2 status > "$T/h2-status.txt"
cat "$T/h2-status.txt"
grep -q "TCP-MD5 password mismatch" "$T/h2-status.txt" || fail "h2's status screen does not say why"
ok "h2's status screen names the password"
wait_until 10 "h2's metrics to show the session not Established" \
	'grep -q "^failoverd_route_server_state{peer=\"2001:db8:f0::1\",state=\"Established\"} 0$" "$T/h2.prom"' ||
	{ cat "$T/h2.prom"; fail "metrics: no failoverd_route_server_state for h2's session"; }
grep -E '^failoverd_route_server_state\{peer="2001:db8:f0::1",state="(Connect|Active)"\} 1$' "$T/h2.prom" ||
	fail "metrics: h2's session is neither Connect nor Active"
ok "h2's metrics: the session's BGP state"

say "the password appears nowhere but in frr.conf"
wait_until 10 "h1's metrics" '[ -s "$T/h1.prom" ]' || fail "no metrics file"
wait_until 10 "the notify hook" '[ -s "$T/notify.env" ]' || fail "the notify hook never ran"
"$FAILOVERCTL" -c "$T/h1.conf" status > "$T/h1-status.txt"
"$FAILOVERCTL" -c "$T/h1.conf" status --json > "$T/h1-status.json"
CTL2 status --json > "$T/h2-status.json"
for f in "$T"/h1.log "$T"/h2.log "$T"/h1-status.txt "$T"/h1-status.json "$T"/h2-status.txt "$T"/h2-status.json \
	"$T"/h1.prom "$T"/h2.prom "$T"/notify.env "$T"/render.out "$T"/check.out; do
	[ -e "$f" ] || fail "missing $f"
	for s in "$SECRET" "$WRONG"; do
		grep -qF -- "$s" "$f" && fail "$(basename "$f") contains a password"
	done
done
grep -q CREDENTIALS_DIRECTORY "$T/notify.env" && fail "the notify hook's environment leads to the credentials"
ok "not in logs, status, JSON, metrics, the hook's environment, --render, --check"
conf1=$(lab_host_conf h1 frr_config)
grep -qx " neighbor RS password $SECRET" "$conf1" || fail "h1's frr.conf lacks the password"
assert_eq "$(stat -c '%a %U:%G' "$conf1")" "640 frr:frr" "h1's frr.conf mode and owner"
