#!/usr/bin/python3
"""Timing and statistics for test/bench/bench.sh: triggers a change, polls both route servers, reports.

Every measurement appends one JSON line {"key", "samples" (ms or other unit), ...} to a results file;
`report` turns that file into the table. Convergence is read from the route servers' bgpd vty sockets
(test/lab/frrq.py, about 0.2 ms a query): whole-table JSON of each address family, polled every 5 ms
(every 20 ms when there are hundreds of prefixes, so that the polling does not load the route servers).
"""

import argparse
import calendar
import json
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab"))
from frrq import Vty, node_of  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import floor  # noqa: E402  (test/bench/floor.py: the floors and their report rows)

RUN = "/var/run/frr"
FRR_RELOAD = "/usr/lib/frr/frr-reload.py"


# --- route servers ----------------------------------------------------------------------------

class RouteServers:
    """Both route servers of the lab; `state()` says which failoverd state h1's announcement shows."""

    def __init__(self, prefix, shared):
        self.vtys = [Vty(f"{RUN}/{prefix}-rs{i}/bgpd.vty") for i in (1, 2)]
        self.shared = {"ipv4": set(), "ipv6": set()}
        for p in shared:
            self.shared["ipv6" if ":" in p else "ipv4"].add(p)
        self.interval = 0.005 if len(shared) <= 16 else 0.02

    def _table(self, vty, afi):
        j = vty.json(f"show bgp {afi} unicast json")
        return (j or {}).get("routes", {})

    def state(self, vty):
        """h1's state as one route server shows it for EVERY shared prefix, or "mixed"/"none".

        primary: best path from h1 with local-pref 200 (community 65000:1).
        demoted: best path from h2, h1's path present with local-pref 100 and a prepended AS path.
        withdrawn: best path from h2, no path from h1.
        """
        seen = set()
        for afi, prefixes in self.shared.items():
            if not prefixes:
                continue
            routes = self._table(vty, afi)
            for p in prefixes:
                paths = routes.get(p, [])
                best = next((x for x in paths if x.get("bestpath")), None)
                h1 = next((x for x in paths if node_of(x.get("peerId", "")) == "h1"), None)
                bn = node_of(best.get("peerId", "")) if best else None
                if bn == "h1" and best.get("locPrf") == 200:
                    seen.add("primary")
                elif bn == "h2" and h1 is None:
                    seen.add("withdrawn")
                elif bn == "h2" and h1 is not None and h1.get("locPrf") == 100 and len(h1.get("path", "").split()) > 1:
                    seen.add("demoted")
                else:
                    seen.add("other")
                if len(seen) > 1:
                    return "mixed"
        return seen.pop() if seen else "none"

    def states(self):
        return [self.state(v) for v in self.vtys]

    def bfd_up(self):
        """Whether both route servers' sessions with h1 have BFD Up (BGP may come up before BFD does)."""
        for v in self.vtys:
            j = v.json("show bgp neighbors json") or {}
            if not any(node_of(a) == "h1" and isinstance(n, dict) and n.get("peerBfdInfo", {}).get("status") == "Up"
                       for a, n in j.items()):
                return False
        return True

    def wait(self, want, timeout):
        """Polls until both route servers show WANT; returns the wall-clock time of that poll, or None."""
        end = time.monotonic() + timeout
        while True:
            t = time.time()
            if all(s == want for s in self.states()):
                return t
            if time.monotonic() > end:
                return None
            time.sleep(self.interval)


# --- helpers ----------------------------------------------------------------------------------

def set_flag(path, code):
    """Atomic: the check never reads a half-written file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{code}\n")
    os.rename(tmp, path)


LOG_RE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) failoverd\[\w+\]: (.*)$")


class Log:
    """Follows a failoverd log written with TZ=UTC (lines start with HH:MM:SS.mmm)."""

    def __init__(self, path):
        self.path = path
        self.pos = os.path.getsize(path) if os.path.exists(path) else 0

    def mark(self):
        self.pos = os.path.getsize(self.path)

    def find(self, pattern, near, timeout=5.0):
        """First new line matching PATTERN: (epoch seconds, message). NEAR (epoch) fixes the date."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            with open(self.path, errors="replace") as f:
                f.seek(self.pos)
                for line in f:
                    m = LOG_RE.match(line.rstrip("\n"))
                    if m and rx.search(m.group(5)):
                        return utc_of(m, near), m.group(5)
            if time.monotonic() > end:
                return None, None
            time.sleep(0.02)


def utc_of(m, near):
    day = time.gmtime(near)
    t = calendar.timegm((day.tm_year, day.tm_mon, day.tm_mday, int(m.group(1)), int(m.group(2)),
                         int(m.group(3)), 0, 0, 0)) + int(m.group(4)) / 1000.0
    # A line from just before midnight read just after it (or the reverse).
    if t - near > 43200:
        t -= 86400
    elif near - t > 43200:
        t += 86400
    return t


def record(out, key, samples, **extra):
    with open(out, "a") as f:
        f.write(json.dumps(dict(key=key, samples=samples, **extra)) + "\n")


def say(msg):
    print(f"  {time.strftime('%H:%M:%S')} {msg}", flush=True)


def run(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def lab(args, *cmd):
    return run([args.lab, *cmd], check=True)


def shared_of(args):
    with open(args.shared) as f:
        return [line.strip() for line in f if line.strip()]


# --- measurements -----------------------------------------------------------------------------

# Flag value, expected state, decision line logged by the daemon.
FAST_KINDS = {
    "demote": (1, "demoted", r"^primary -> demoted "),
    "promote": (0, "primary", r"^demoted -> primary "),
    "withdraw": (2, "withdrawn", r"^primary -> withdrawn "),
    "restore": (0, "primary", r"^withdrawn -> primary "),
}


def cmd_fastpath(args):
    """failoverd's fast path: the check's flag moves h1 between states; time = decision log line to
    both route servers converged (the daemon logs its decision in ms, in UTC)."""
    rs = RouteServers(args.prefix, shared_of(args))
    log = Log(args.log)
    kinds = args.kinds.split(",")
    res = {k: [] for k in kinds}
    applied = {k: [] for k in kinds}
    inbgpd = []
    misses = 0
    if rs.wait("primary", 30) is None:
        say(f"fast path: route servers do not show h1 primary ({rs.states()}); skipped")
        return
    for i in range(args.reps):
        for k in kinds:
            code, want, line = FAST_KINDS[k]
            log.mark()
            time.sleep(random.uniform(0, 0.05))
            set_flag(args.flag, code)
            t_conv = rs.wait(want, 15)
            t_dec, _ = log.find(line, time.time())
            t_eff, msg = log.find(r"^fast path: \w+ in effect after", time.time())
            if t_conv is None or t_dec is None:
                misses += 1
                say(f"fast path {k}: no convergence/decision seen ({rs.states()}), sample dropped")
                rs.wait(want, 15)
                continue
            res[k].append(round((t_conv - t_dec) * 1000, 1))
            m = re.search(r"in effect after ([\d.]+) ms", msg or "")
            if m:
                applied[k].append(float(m.group(1)))
            m = re.search(r"in bgpd ([\d.]+) ms after the decision", msg or "")
            if m:
                inbgpd.append(float(m.group(1)))
            time.sleep(args.settle)
    both = [x for k in kinds for x in res[k]]
    record(args.out, args.key, both, reps=args.reps, misses=misses,
           note=args.note or "decision (daemon log) to both route servers converged")
    record(args.out, f"{args.key}.apply", [x for k in kinds for x in applied[k]])
    record(args.out, f"{args.key}.inbgpd", inbgpd)
    for k in kinds:
        record(args.out, f"{args.key}.{k}", res[k])
        record(args.out, f"{args.key}.{k}.apply", applied[k])
    say(f"{args.key}: median {statistics.median(both) if both else float('nan'):.0f} ms over {len(both)}")


def cmd_trigger(args):
    """A role change made by hand on h1 (failoverd stopped there): route-map edit, frr-reload.py of the
    re-rendered file, or restart of bgpd with the new file. Time = start of the first command to both
    route servers converged."""
    rs = RouteServers(args.prefix, shared_of(args))
    ps = f"{args.prefix}-h1"
    conf = f"/etc/frr/{ps}/frr.conf"
    files = {"demoted": args.demoted_file, "primary": args.primary_file}
    samples, tool = [], []
    misses = 0
    # Starts from whichever of the two states the route servers show (primary after a clean run).
    first = 0
    if rs.wait("primary", 30) is None:
        if rs.wait("demoted", 1) is None:
            say(f"{args.method}: route servers show neither primary nor demoted ({rs.states()}); skipped")
            return
        first = 1
    for i in range(first, first + args.reps):
        want = "demoted" if i % 2 == 0 else "primary"
        if args.method == "reload":
            install(files[want], conf)
        time.sleep(random.uniform(0, 0.05))
        if args.method == "rmedit":
            body = (["set community 65000:2", "set as-path prepend 65001 65001 65001"] if want == "demoted"
                    else ["no set as-path prepend", "set community 65000:1"])
            argv = ["vtysh", "-N", ps, "-c", "configure terminal", "-c", "route-map primary permit 10"]
            for b in body:
                argv += ["-c", b]
            steps = [lambda argv=argv: run(argv)]
        elif args.method == "reload":
            steps = [lambda: run([FRR_RELOAD, "--reload", "--stdout", "--pathspace", ps,
                                  "--confdir", f"/etc/frr/{ps}", conf])]
        else:
            steps = [lambda: lab(args, "stop", "h1", "bgpd"), lambda w=want: install(files[w], conf),
                     lambda: lab(args, "start", "h1")]
        # The tool runs in a thread while this one polls: the route servers may converge before it exits.
        done = []
        worker = threading.Thread(target=lambda: [f() for f in steps] and done.append(time.time()))
        t0 = time.time()
        worker.start()
        t_conv = rs.wait(want, 60)
        worker.join()
        t_tool = done[0] if done else time.time()
        if t_conv is None:
            misses += 1
            say(f"{args.method}: no convergence to {want} in 60 s ({rs.states()}), sample dropped")
            if rs.wait(want, 60) is None:
                break
            continue
        samples.append(round((t_conv - t0) * 1000, 1))
        tool.append(round((t_tool - t0) * 1000, 1))
        time.sleep(args.settle)
    record(args.out, args.key, samples, reps=args.reps, misses=misses, note=args.note)
    record(args.out, args.key + ".tool", tool)
    say(f"{args.key}: median {statistics.median(samples) if samples else float('nan'):.0f} ms over {len(samples)}")


def install(src, dst):
    with open(src, "rb") as f:
        data = f.read()
    tmp = dst + ".bench"
    with open(tmp, "wb") as f:
        f.write(data)
    st = os.stat(dst)
    os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, 0o640)
    os.rename(tmp, dst)


def cmd_checkfail(args):
    """End to end with the daemon's check defaults: flag set to 2 -> both route servers moved."""
    rs = RouteServers(args.prefix, shared_of(args))
    fail, back = [], []
    misses = 0
    if rs.wait("primary", 30) is None:
        say(f"check failure: route servers do not show h1 primary ({rs.states()}); skipped")
        return
    for _ in range(args.reps):
        # Random phase against the check's 1 s timer.
        time.sleep(random.uniform(0, 1.0))
        t0 = time.time()
        set_flag(args.flag, 2)
        t = rs.wait("withdrawn", 20)
        if t is None:
            misses += 1
        else:
            fail.append(round((t - t0) * 1000, 1))
        time.sleep(random.uniform(0, 1.0))
        t0 = time.time()
        set_flag(args.flag, 0)
        t = rs.wait("primary", 30)
        if t is None:
            misses += 1
            rs.wait("primary", 30)
        else:
            back.append(round((t - t0) * 1000, 1))
    record(args.out, args.key, fail, reps=args.reps, misses=misses)
    record(args.out, args.key + ".recovery", back)
    say(f"{args.key}: median {statistics.median(fail) if fail else float('nan'):.0f} ms over {len(fail)}")


def cmd_silent(args):
    """h1's switch port drops every frame (no reset): time until both route servers dropped h1."""
    rs = RouteServers(args.prefix, shared_of(args))
    samples = []
    misses = 0
    for _ in range(args.reps):
        if rs.wait("primary", 60) is None:
            run(["vtysh", "-N", f"{args.prefix}-h1", "-c", "clear bgp *"])
            if rs.wait("primary", 60) is None:
                say(f"silent: h1 did not come back ({rs.states()}); stopping")
                break
        end = time.monotonic() + 30
        while args.bfd and not rs.bfd_up() and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(random.uniform(0.5, 3.5))     # random phase against the 3 s keepalives
        t0 = time.time()
        lab(args, "link", "h1", "silent")
        t = rs.wait("withdrawn", 200)
        lab(args, "link", "h1", "up")
        if t is None:
            misses += 1
        else:
            samples.append(round((t - t0) * 1000, 1))
    rs.wait("primary", 60)
    record(args.out, args.key, samples, reps=args.reps, misses=misses, note=args.note)
    say(f"{args.key}: median {statistics.median(samples) if samples else float('nan'):.0f} ms over {len(samples)}")


def proc_cpu(pid):
    """(self ticks, children ticks, self ns from schedstat of every thread)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime=14, stime=15, cutime=16, cstime=17 -> index n-3.
    ut, st, cut, cst = (int(fields[i]) for i in (11, 12, 13, 14))
    ns = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            ns += int(f.read().split()[0])
    return ut + st, cut + cst, ns


def proc_mem(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


def cmd_footprint(args):
    """CPU and memory of running daemons over a window (several pids measured side by side)."""
    hz = os.sysconf("SC_CLK_TCK")
    pids = dict(p.split("=", 1) for p in args.pid)
    start = {k: proc_cpu(v) for k, v in pids.items()}
    t0 = time.monotonic()
    rss = {k: [] for k in pids}
    while time.monotonic() - t0 < args.seconds:
        time.sleep(1)
        for k, v in pids.items():
            rss[k].append(proc_mem(v)["VmRSS"])
    wall = time.monotonic() - t0
    for k, v in pids.items():
        end = proc_cpu(v)
        mem = proc_mem(v)
        self_pct = (end[2] - start[k][2]) / 1e9 / wall * 100
        self_ticks_pct = (end[0] - start[k][0]) / hz / wall * 100
        child_pct = (end[1] - start[k][1]) / hz / wall * 100
        record(args.out, k, [], seconds=round(wall, 1), rss_kib=max(rss[k]), hwm_kib=mem["VmHWM"],
               cpu_self_pct=round(self_pct, 4), cpu_self_ticks_pct=round(self_ticks_pct, 4),
               cpu_children_pct=round(child_pct, 4), cpu_total_pct=round(self_pct + child_pct, 4))
        say(f"{k}: RSS {max(rss[k])} KiB (peak {mem['VmHWM']}), CPU {self_pct:.3f} % self, "
            f"{self_pct + child_pct:.3f} % with children over {wall:.0f} s")


def cmd_time(args):
    """Wall time of a command, repeated (render time)."""
    samples = []
    for _ in range(args.reps):
        t0 = time.monotonic()
        run(args.argv, check=True)
        samples.append(round((time.monotonic() - t0) * 1000, 2))
    record(args.out, args.key, samples, reps=args.reps, note=args.note)
    say(f"{args.key}: median {statistics.median(samples):.1f} ms over {len(samples)}")


def cmd_wait(args):
    """Waits until both route servers show STATE for every shared prefix; exit 1 on timeout."""
    rs = RouteServers(args.prefix, shared_of(args))
    if rs.wait(args.state, args.timeout) is None:
        print(f"route servers show {rs.states()}, not {args.state}, after {args.timeout:g} s", file=sys.stderr)
        return 1
    return 0


def cmd_add(args):
    """Records samples measured elsewhere (bench.sh)."""
    samples = [float(x) for x in args.samples]
    record(args.out, args.key, samples, reps=len(samples), note=args.note)


# --- report -----------------------------------------------------------------------------------

def pct(samples, q):
    """Nearest-rank percentile (with 30 samples, p99 is the maximum)."""
    s = sorted(samples)
    k = -(-q * len(s) // 100) - 1
    return s[max(0, min(len(s) - 1, int(k)))]


def fmt_ms(x):
    if x >= 10000:
        return f"{x / 1000:.1f} s"
    if x >= 1000:
        return f"{x / 1000:.2f} s"
    return f"{x:.1f} ms"


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        frr = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "frr"], capture_output=True,
                             text=True).stdout.strip() or "?"
    except OSError:
        frr = "?"
    return f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}, FRR {frr}"


def cmd_report(args):
    rows = {}
    with open(args.results) as f:
        for line in f:
            r = json.loads(line)
            rows[r["key"]] = r
    out = []
    w = out.append
    w(f"failoverd bench, {time.strftime('%Y-%m-%d %H:%M %Z')}, {machine()}")
    w(f"build {args.build}; lab {args.prefix} (two route servers, two hosts, one machine); times are wall clock")
    w("")
    w(f"{'measurement':<58} {'n':>4} {'min':>9} {'median':>9} {'p99':>9}   target")
    w("-" * 112)
    verdicts = []

    def line(label, key, target=None, check=None, vname=None):
        r = rows.get(key)
        if not r or not r["samples"]:
            w(f"{label:<58} {'-':>4} {'not measured':>29}")
            if target:
                verdicts.append((vname or label.strip(), "not measured"))
            return None
        s = r["samples"]
        mn, md, p = min(s), statistics.median(s), pct(s, 99)
        verdict = ""
        if check:
            ok = check(mn, md, p)
            verdict = f"{target}: {'met' if ok else 'NOT met'}"
            verdicts.append((vname or label.strip(), "met" if ok else "NOT met"))
        w(f"{label:<58} {len(s):>4} {fmt_ms(mn):>9} {fmt_ms(md):>9} {fmt_ms(p):>9}   {verdict}".rstrip())
        return md

    w("1. state change -> both route servers converged (h1 primary <-> demoted unless said)")
    fast = line("(a) failoverd fast path, decision -> converged", "fast",
                "median <= 150 ms, p99 <= 400 ms", lambda mn, md, p: md <= 150 and p <= 400,
                "fast path median <= 150 ms and p99 <= 400 ms")
    for k in ("demote", "promote", "withdraw", "restore"):
        line(f"      {k}", f"fast.{k}")
    line("      (daemon: decision -> in effect: bgpd has it, read back, frr.conf written)", "fast.apply")
    rme = line("(b) route-map body edit in vtysh", "rmedit")
    rel = line("(c) frr-reload.py --reload of the re-rendered file", "reload")
    line("      (frr-reload.py run time)", "reload.tool")
    rst = line("(d) bgpd restart with the new file", "restart")
    for label, other in (("route-map edit", rme), ("frr-reload.py", rel)):
        if fast and other:
            ratio = other / fast
            ok = ratio >= 10
            w(f"    fast path vs {label}: {ratio:.0f}x faster (median)   target >= 10x: {'met' if ok else 'NOT met'}")
            verdicts.append((f"fast path >= 10x faster than {label}", "met" if ok else "NOT met"))
    if fast and rst:
        w(f"    fast path vs bgpd restart: {rst / fast:.0f}x faster (median)")
    floor.report(rows, w, line, verdicts)
    w("")
    w("2. check failure -> failover, defaults (interval 1 s, fall 2), flag change -> both moved")
    line("   check fails (exit 2) -> withdrawn at both", "checkfail", "p99 <= 2.5 s",
         lambda mn, md, p: p <= 2500, "check failure to failover p99 <= 2.5 s")
    line("   check recovers (rise 3) -> primary again at both", "checkfail.recovery")
    w("")
    w("3. host goes silent (switch port drops frames, no reset) -> both route servers moved")
    line("   failoverd's timers 3/9", "silent", "<= 9 s", lambda mn, md, p: p <= 9000, "silent host <= 9 s")
    line("   failoverd's BFD 200 ms x 3 (bgp.bfd)", "silent.bfd", "<= 1 s", lambda mn, md, p: p <= 1000,
         "silent host with BFD <= 1 s")
    r = rows.get("silent.frr")
    if r:
        w(f"   FRR defaults 60/180: {r['note']}")
    w("")
    w("4. footprint, idle 60 s: h1's failoverd, 3 checks at 1 s, default watch")
    for key, label in (("idle", "bgpd watch over the vty socket (default)"),
                       ("idle.vtysh", "bgpd watch through vtysh (FAILOVERD_WATCH=vtysh)")):
        r = rows.get(key)
        if not r:
            continue
        w(f"   {label}")
        rss = r["rss_kib"] / 1024
        hwm = r["hwm_kib"] / 1024
        ok_rss = r["hwm_kib"] <= 4096
        ok_self = r["cpu_self_pct"] <= 0.1
        ok_tot = r["cpu_total_pct"] <= 0.5
        w(f"     RSS {rss:.2f} MiB (peak VmHWM {hwm:.2f} MiB)"
          f"{'':<14}target <= 4 MiB: {'met' if ok_rss else 'NOT met'}")
        w(f"     CPU daemon alone {r['cpu_self_pct']:.3f} % of a core"
          f"{'':<14}target <= 0.1 %: {'met' if ok_self else 'NOT met'}")
        w(f"     CPU daemon + children (checks, vtysh) {r['cpu_total_pct']:.3f} %"
          f"{'':<4}target <= 0.5 %: {'met' if ok_tot else 'NOT met'}")
        if key == "idle" and not ok_self:
            why = floor.spawn_reason(rows, r, 3, 1.0)
            if why:
                w(f"     why (daemon): {why}")
        if key == "idle" and not ok_tot:
            why = floor.exec_reason(rows, 3, 1.0)
            if why:
                w(f"     why (children): {why}")
        if key == "idle":
            verdicts += [("RSS <= 4 MiB", "met" if ok_rss else "NOT met"),
                         ("daemon CPU idle <= 0.1 %", "met" if ok_self else "NOT met"),
                         ("daemon + children CPU <= 0.5 %", "met" if ok_tot else "NOT met")]
    w("")
    w("5. scale")
    n = rows.get("scale.info", {}).get("note", "")
    if n:
        w(f"   {n}")
    line("   render (failoverd --render, whole process)", "scale.render")
    line("   full apply onto an empty bgpd (frr-reload.py)", "scale.full")
    line("   fast path, decision -> all prefixes converged at both", "scale.fast", "<= 1 s",
         lambda mn, md, p: p <= 1000, "512 prefixes fast path <= 1 s")
    line("      (daemon: decision -> in effect: bgpd has it, read back, frr.conf written)", "scale.fast.apply")
    r = rows.get("checks100")
    if r:
        w(f"   100 checks at 1 s: daemon alone {r['cpu_self_pct']:.2f} % of a core, with its children "
          f"(the checks) {r['cpu_total_pct']:.1f} %, RSS {r['rss_kib'] / 1024:.2f} MiB, over {r['seconds']:.0f} s")
        ok = r["cpu_self_pct"] <= 1
        w(f"   {'':<58} target daemon alone <= 1 %: {'met' if ok else 'NOT met'}")
        verdicts.append(("100 checks at 1 s: daemon alone <= 1 %", "met" if ok else "NOT met"))
        why = floor.spawn_reason(rows, r, 100, 1.0) if not ok else None
        if why:
            w(f"     why: {why}")
    w("")
    notes = [r for r in rows.values() if r.get("note") and r["key"] not in ("silent.frr", "scale.info")]
    short = [f"   {r['key']}: {r['note'] if 'repetitions' in r['note'] else len(r['samples'])}"
             for r in notes if r.get("reps") and len(r["samples"]) < 30]
    if short:
        w("fewer than 30 samples:")
        out.extend(short)
    misses = [f"   {r['key']}: {r['misses']} sample(s) dropped (no convergence seen)"
              for r in rows.values() if r.get("misses")]
    if misses:
        w("dropped samples:")
        out.extend(misses)
    w("p99 is the nearest-rank 99th percentile: with fewer than 100 samples it is the maximum.")
    w("")
    w("targets:")
    for k, v in verdicts:
        w(f"   {v:<8} {k}")
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", help="results file (JSON lines)")
    ap.add_argument("--prefix", default="fobench", help="LAB_PREFIX")
    ap.add_argument("--shared", help="file: one shared prefix a line")
    ap.add_argument("--lab", help="path of test/lab/lab.sh")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("fastpath")
    p.add_argument("--log", required=True)
    p.add_argument("--flag", required=True)
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--kinds", default="demote,promote,withdraw,restore")
    p.add_argument("--key", default="fast")
    p.add_argument("--settle", type=float, default=0.3)
    p.add_argument("--note", default="")
    p.set_defaults(fn=cmd_fastpath)

    p = sub.add_parser("trigger")
    p.add_argument("method", choices=["rmedit", "reload", "restart"])
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--key", required=True)
    p.add_argument("--demoted-file")
    p.add_argument("--primary-file")
    p.add_argument("--settle", type=float, default=0.3)
    p.add_argument("--note", default="")
    p.set_defaults(fn=cmd_trigger)

    p = sub.add_parser("checkfail")
    p.add_argument("--flag", required=True)
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--key", default="checkfail")
    p.set_defaults(fn=cmd_checkfail)

    p = sub.add_parser("silent")
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--key", default="silent")
    p.add_argument("--note", default="")
    p.add_argument("--bfd", action="store_true", help="wait for BFD Up at both route servers before each sample")
    p.set_defaults(fn=cmd_silent)

    p = sub.add_parser("footprint")
    p.add_argument("--pid", action="append", required=True, help="KEY=PID")
    p.add_argument("--seconds", type=float, default=60)
    p.set_defaults(fn=cmd_footprint)

    p = sub.add_parser("time")
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--key", required=True)
    p.add_argument("--note", default="")
    p.add_argument("argv", nargs="+")
    p.set_defaults(fn=cmd_time)

    p = sub.add_parser("wait")
    p.add_argument("state", choices=["primary", "demoted", "withdrawn"])
    p.add_argument("timeout", type=float)
    p.set_defaults(fn=cmd_wait)

    p = sub.add_parser("add")
    p.add_argument("--key", required=True)
    p.add_argument("--note", default="")
    p.add_argument("samples", nargs="*")
    p.set_defaults(fn=cmd_add)

    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    p.add_argument("--output")
    p.add_argument("--build", default="build/release")
    p.set_defaults(fn=cmd_report)

    args = ap.parse_args()
    return args.fn(args) or 0


if __name__ == "__main__":
    # Die by SIGINT (no traceback): the calling script's shell then runs its own INT trap and cleans up.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(main())
