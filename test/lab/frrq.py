#!/usr/bin/python3
"""Fast queries of a lab node's bgpd through its vty socket (no vtysh), used by test/lab/lab.sh.

Protocol (measured on FRR 8.4.4): connect to /var/run/frr/PATHSPACE/bgpd.vty, send a command
terminated by NUL; the answer is the output followed by three NULs and one status byte
(0 success, 1 warning, 2 unknown command...).  A new connection starts in the view node.
"""

import json
import socket
import sys
import time


def die(msg, code=2):
    print(f"frrq: {msg}", file=sys.stderr)
    sys.exit(code)


class Vty:
    def __init__(self, path):
        self.path = path
        self.sock = None

    def _connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5.0)
        s.connect(self.path)
        self.sock = s

    def cmd(self, line):
        """Returns (status, text); reconnects once if bgpd closed the socket (restart)."""
        for attempt in (0, 1):
            try:
                if self.sock is None:
                    self._connect()
                self.sock.sendall(line.encode() + b"\0")
                buf = bytearray()
                while True:
                    d = self.sock.recv(1 << 16)
                    if not d:
                        raise EOFError("bgpd closed the vty socket")
                    buf += d
                    if len(buf) >= 4 and buf[-4:-1] == b"\0\0\0":
                        return buf[-1], buf[:-4].decode(errors="replace")
            except (OSError, EOFError):
                if self.sock is not None:
                    self.sock.close()
                self.sock = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def json(self, line):
        try:
            _, text = self.cmd(line)
        except (OSError, EOFError):
            return None
        try:
            return json.loads(text) if text.strip() else None
        except ValueError:
            return None


def node_of(addr):
    """Maps a lab transport address to its node name: ...::11 / x.x.x.11 -> h1, ::1 / .1 -> rs1."""
    last = addr.split("%")[0].replace(".", ":").rsplit(":", 1)[-1]
    if not last.isdigit():
        return addr
    n = int(last)
    if n in (1, 2):
        return f"rs{n}"
    if n > 10:
        return f"h{n - 10}"
    return addr


def afi_of(prefix):
    return "ipv6" if ":" in prefix else "ipv4"


def paths(vty, prefix):
    """All paths for PREFIX as dicts: node, community, aspath, best."""
    j = vty.json(f"show bgp {afi_of(prefix)} unicast {prefix} json")
    out = []
    for p in (j or {}).get("paths", []):
        peer = p.get("peer", {}).get("peerId", "?")
        comm = p.get("community", {}).get("string", "")
        out.append({
            "node": node_of(peer),
            "community": ",".join(comm.split()) if comm else "-",
            "aspath": p.get("aspath", {}).get("string", ""),
            "best": bool(p.get("bestpath", {}).get("overall")),
            "localpref": p.get("locPrf", p.get("localpref")),
        })
    return out


def bestpath(vty, prefix):
    for p in paths(vty, prefix):
        if p["best"]:
            return f"{p['node']} {p['community']}"
    return "none"


def matches(seen, expected):
    """EXPECTED may give fewer fields than SEEN ("h1" matches "h1 65000:1")."""
    e = expected.split()
    return seen.split()[: len(e)] == e


def established(vty):
    j = vty.json("show bgp neighbors json")
    if j is None:
        return None
    return sum(1 for v in j.values() if isinstance(v, dict) and v.get("bgpState") == "Established")


def main(argv):
    if len(argv) < 3:
        die("usage: frrq.py SOCKET bestpath PREFIX | paths PREFIX | "
            "wait-bestpath PREFIX EXPECTED TIMEOUT [SINCE] | established | wait-established N TIMEOUT | cmd CMD...")
    vty = Vty(argv[1])
    op, args = argv[2], argv[3:]
    if op == "bestpath" and len(args) == 1:
        print(bestpath(vty, args[0]))
    elif op == "paths" and len(args) == 1:
        for p in paths(vty, args[0]):
            print(f"{p['node']} {p['community']} localpref={p['localpref']} "
                  f"aspath={p['aspath'].replace(' ', ',') or '-'}{' best' if p['best'] else ''}")
    elif op == "wait-bestpath" and len(args) in (3, 4):
        # SINCE (wall-clock seconds, bash's $EPOCHREALTIME) makes the elapsed time include this
        # program's start-up, for timing a change triggered just before.
        prefix, expected, timeout = args[0], args[1], float(args[2])
        t0 = time.monotonic()
        since = float(args[3]) if len(args) == 4 else time.time()
        while True:
            seen = bestpath(vty, prefix)
            if matches(seen, expected):
                print(int((time.time() - since) * 1000))
                return 0
            if time.monotonic() - t0 > timeout:
                print(f"frrq: timeout after {timeout:g} s: best path for {prefix} is '{seen}', "
                      f"expected '{expected}'", file=sys.stderr)
                return 1
            time.sleep(0.02)
    elif op == "established" and not args:
        n = established(vty)
        print("none" if n is None else n)
    elif op == "wait-established" and len(args) == 2:
        want, timeout = int(args[0]), float(args[1])
        t0 = time.monotonic()
        while True:
            n = established(vty)
            if n == want:
                print(int((time.monotonic() - t0) * 1000))
                return 0
            if time.monotonic() - t0 > timeout:
                print(f"frrq: timeout after {timeout:g} s: {n} established sessions, expected {want}",
                      file=sys.stderr)
                return 1
            time.sleep(0.05)
    elif op == "cmd" and args:
        rc = 0
        for line in args:
            status, text = vty.cmd(line)
            sys.stdout.write(text)
            rc = rc or status
        return rc
    else:
        die(f"bad arguments: {' '.join(argv[2:])}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        sys.exit(130)
