#!/usr/bin/python3
"""Waits until BOTH route servers of the lab pick EXPECTED as best path for PREFIX; prints the ms since SINCE.

usage: wait-both.py LAB_PREFIX PREFIX EXPECTED TIMEOUT SINCE
EXPECTED is "h1", "h2" or "h1 65000:1"; SINCE is bash's $EPOCHREALTIME taken just before the trigger.
Polls rs1 and rs2 every 10 ms over their bgpd vty sockets (test/lab/frrq.py); exit 1 on timeout.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab"))
from frrq import Vty, bestpath, matches  # noqa: E402


def main(argv):
    if len(argv) != 6:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    lab, prefix, expected, timeout, since = argv[1], argv[2], argv[3], float(argv[4]), float(argv[5])
    vtys = [Vty(f"/var/run/frr/{lab}-rs{i}/bgpd.vty") for i in (1, 2)]
    end = time.monotonic() + timeout
    while True:
        t = time.time()
        seen = [bestpath(v, prefix) for v in vtys]
        if all(matches(s, expected) for s in seen):
            print(round((t - since) * 1000))
            return 0
        if time.monotonic() > end:
            print(f"timeout after {timeout:g} s: rs1 '{seen[0]}', rs2 '{seen[1]}'", file=sys.stderr)
            return 1
        time.sleep(0.01)


if __name__ == "__main__":
    # Die by SIGINT (no traceback): the calling script's shell then runs its own INT trap and cleans up.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(main(sys.argv))
