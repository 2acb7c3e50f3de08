#!/usr/bin/python3
"""The bench's floors (test/bench/bench.sh runs this; method in docs/bench.md):

floor     the fast path's own commands, sent by the bench itself straight to h1's bgpd vty socket (no
          failoverd, no vtysh), timed from the first byte to both route servers converged: what bgpd and the
          route servers take, which no method goes under. failoverd's figures are reported above it.
execcost  CPU of one run of a check script, exec'd here N times without failoverd: the part of "daemon +
          children" that is the script itself.

`report(rows, w, line, verdicts)` prints their rows; bench.py's report calls it.
"""

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lab"))
import bench as B  # noqa: E402
from frrq import Vty  # noqa: E402


def fast_path_commands(asn, shared, route_map):
    """What failoverd's fast path sends (lib/render.c render_fast_path), after the "enable" a fresh vty
    connection needs."""
    cmds = ["enable", "configure terminal", f"router bgp {asn}"]
    for afi in ("ipv4", "ipv6"):
        mine = [p for p in shared if (":" in p) == (afi == "ipv6")]
        if not mine:
            continue
        cmds.append(f"address-family {afi} unicast")
        cmds += [f"network {p} route-map {route_map}" for p in mine]
        cmds.append("exit-address-family")
    return cmds + ["end"]


def cmd_floor(args):
    shared = B.shared_of(args)
    rs = B.RouteServers(args.prefix, shared)
    vty = Vty(f"{B.RUN}/{args.prefix}-h1/bgpd.vty")
    conv, cmd = [], []
    misses = 0
    first = 0
    if rs.wait("primary", 30) is None:
        if rs.wait("demoted", 1) is None:
            B.say(f"floor: route servers show neither primary nor demoted ({rs.states()}); skipped")
            return
        first = 1
    for i in range(first, first + args.reps):
        want = "demoted" if i % 2 == 0 else "primary"
        cmds = fast_path_commands(args.asn, shared, want)
        time.sleep(random.uniform(0, 0.05))
        t0 = time.time()
        for c in cmds:
            status, text = vty.cmd(c)
            if status != 0:
                B.say(f"floor: bgpd refused {c!r} (status {status}): {text.strip()}")
                return
        t_cmd = time.time()
        t_conv = rs.wait(want, 15)
        if t_conv is None:
            misses += 1
            B.say(f"floor: no convergence to {want} ({rs.states()}), sample dropped")
            rs.wait(want, 15)
            continue
        conv.append(round((t_conv - t0) * 1000, 1))
        cmd.append(round((t_cmd - t0) * 1000, 2))
        time.sleep(args.settle)
    # Back to primary whatever the number of repetitions: the next measurements start from it.
    for c in fast_path_commands(args.asn, shared, "primary"):
        vty.cmd(c)
    if rs.wait("primary", 15) is None:
        B.say(f"floor: route servers do not show h1 primary again ({rs.states()})")
    B.record(args.out, "floor", conv, reps=args.reps, misses=misses,
             note="the fast path's commands straight to h1's bgpd vty socket, to both route servers converged")
    B.record(args.out, "floor.cmd", cmd)
    B.say(f"floor: median {statistics.median(conv) if conv else float('nan'):.0f} ms over {len(conv)}, "
          f"the commands themselves {statistics.median(cmd) if cmd else float('nan'):.2f} ms")


def cmd_execcost(args):
    """CPU (user + system, from the reaped children's rusage) of one run of SCRIPT."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    for _ in range(args.runs):
        subprocess.run([args.script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    per_run_ms = cpu / args.runs * 1000
    # The parent's side of a process start (clone, exec wait, reaping), with as little Python as possible
    # around it: posix_spawn + waitpid, the parent's own CPU per start.
    devnull = os.open(os.devnull, os.O_RDWR)
    acts = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
    me0 = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(args.runs):
        pid = os.posix_spawn(args.script, [args.script], {}, file_actions=acts)
        os.waitpid(pid, 0)
    me1 = resource.getrusage(resource.RUSAGE_SELF)
    os.close(devnull)
    parent_ms = ((me1.ru_utime - me0.ru_utime) + (me1.ru_stime - me0.ru_stime)) / args.runs * 1000
    B.record(args.out, args.key, [round(per_run_ms, 3)], runs=args.runs, wall_ms=round(wall / args.runs * 1000, 3),
             spawn_parent_ms=round(parent_ms, 4), note=f"{args.script} exec'd {args.runs} times by the bench")
    B.say(f"{args.key}: {per_run_ms:.2f} ms of CPU per run in the child, {parent_ms:.3f} ms in the parent that "
          f"starts it ({args.runs} runs)")


def ratio_line(w, label, other, floor):
    if other and floor:
        w(f"    {label}: {other / floor:.1f}x the floor (median)")


def report(rows, w, line, verdicts):
    """Floor rows, printed after section 1's rows; returns nothing."""
    fl = line("(e) floor: the same commands straight to bgpd's vty socket", "floor")
    line("      (the commands themselves, first byte to the answer to \"end\")", "floor.cmd")
    inb = rows.get("fast.inbgpd")
    if inb and inb["samples"]:
        md = line("    failoverd: decision -> bgpd has the change", "fast.inbgpd", "p50 <= 2 ms",
                  lambda mn, md, p: md <= 2, "decision -> bgpd has the change p50 <= 2 ms")
        cmd = rows.get("floor.cmd")
        if md and md > 2 and cmd and cmd["samples"]:
            w(f"      why: bgpd itself takes {statistics.median(cmd['samples']):.1f} ms (median) to answer the same "
              f"commands sent by the bench on a fresh connection, with no failoverd in between")
    fast = rows.get("fast")
    if fl and fast and fast["samples"]:
        over = statistics.median(fast["samples"]) - fl
        ok = over <= 10
        w(f"    failoverd fast path: overhead above the floor {over:+.1f} ms (median)"
          f"   target <= 10 ms: {'met' if ok else 'NOT met'}")
        verdicts.append(("decision -> both route servers within 10 ms of the floor (median)",
                         "met" if ok else "NOT met"))
    for label, key in (("failoverd fast path", "fast"), ("route-map edit", "rmedit"),
                       ("frr-reload.py", "reload"), ("bgpd restart", "restart")):
        r = rows.get(key)
        if r and r["samples"]:
            ratio_line(w, label, statistics.median(r["samples"]), fl)


def exec_reason(rows, n_checks, interval_s):
    """Why daemon + children cannot go under a target: the script's own CPU, with figures; or None."""
    r = rows.get("execcost")
    if not r or not r["samples"]:
        return None
    per_run = r["samples"][0]
    floor_pct = per_run * n_checks / interval_s / 1000 * 100
    return (f"one run of the /bin/sh check alone costs {per_run:.2f} ms of CPU here (exec of dash and its dynamic "
            f"loading, {r['runs']} runs exec'd by the bench without failoverd): {n_checks} checks every "
            f"{interval_s:g} s are {floor_pct:.2f} % of a core before failoverd does anything")


def spawn_reason(rows, row, n_checks, interval_s):
    """The daemon's CPU per check run beside the bare cost of starting a process from Python; or None."""
    r = rows.get("execcost")
    if not r or "spawn_parent_ms" not in r or not row:
        return None
    runs = n_checks * row["seconds"] / interval_s
    per_run = row["cpu_self_pct"] / 100 * row["seconds"] * 1000 / runs
    bare = r["spawn_parent_ms"]
    return (f"failoverd spends {per_run:.3f} ms of CPU per check run (all of its CPU over the runs, the bgpd "
            f"watch included); starting a process alone costs its parent "
            f"{bare:.3f} ms here (posix_spawn + waitpid from the bench, no output read, no timer): "
            f"{n_checks / interval_s:g} starts a second are {bare * n_checks / interval_s / 10:.2f} % of a core")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="results file (JSON lines)")
    ap.add_argument("--prefix", default="fobench", help="LAB_PREFIX")
    ap.add_argument("--shared", help="file: one shared prefix a line")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("floor")
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--asn", type=int, default=65001)
    p.add_argument("--settle", type=float, default=0.3)
    p.set_defaults(fn=cmd_floor)
    p = sub.add_parser("execcost")
    p.add_argument("--script", required=True)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--key", default="execcost")
    p.set_defaults(fn=cmd_execcost)
    args = ap.parse_args()
    return args.fn(args) or 0


if __name__ == "__main__":
    sys.exit(main())
