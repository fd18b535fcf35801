#!/usr/bin/env python3
"""Per-process CPU per request of the JSON ballot and the booth's cast-and-confirm.

Against a bench held by `HOLD=DIR bench/assemblies/pages.sh`, this runs wrk in
one-second turns of DIR/ballot.lua and DIR/booth.lua (which goes first alternates)
and reads, from /proc, the CPU time that each turn cost the node (`kvarter serve`),
its plugins, PostgreSQL (every postgres process on the machine) and wrk itself. On a
saturated machine a side's requests per second follow its CPU per request, so this
splits issue 18's booth/JSON ratio by process:

    HOLD=/tmp/hold bench/assemblies/pages.sh &   # wait for "== holding"
    bench/assemblies/cpu.py /tmp/hold 10         # 10 turns a side
"""
import os
import re
import resource
import subprocess
import sys

PARTS = ("node", "plugins", "postgres", "wrk")


def cpu_seconds(pid):
    """utime + stime of pid, 0 once it has gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pids(match):
    out = []
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{p}/stat") as f:
                stat = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if match(stat):
            out.append(int(p))
    return out


def main():
    hold, turns = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10
    url = open(f"{hold}/url").read().strip()
    node = int(open(f"{hold}/pid").read())
    plugins = pids(lambda st: int(st.rsplit(")", 1)[1].split()[1]) == node)

    def snapshot():
        return {"node": cpu_seconds(node),
                "plugins": sum(map(cpu_seconds, plugins)),
                "postgres": sum(map(cpu_seconds, pids(lambda st: "(postgres)" in st)))}

    acc = {side: dict.fromkeys(PARTS + ("requests",), 0) for side in ("ballot", "booth")}
    for turn in range(turns):
        for side in ("ballot", "booth") if turn % 2 == 0 else ("booth", "ballot"):
            before, wrk_before = snapshot(), resource.getrusage(resource.RUSAGE_CHILDREN)
            out = subprocess.run(["wrk", "-t2", "-c32", "-d1s", "-s", f"{hold}/{side}.lua", url + "/"],
                                 capture_output=True, text=True, check=True).stdout
            after, wrk_after = snapshot(), resource.getrusage(resource.RUSAGE_CHILDREN)
            if "Non-2xx" in out:
                sys.exit(f"errors in {side}:\n{out}")
            for part in before:
                acc[side][part] += after[part] - before[part]
            acc[side]["wrk"] += (wrk_after.ru_utime + wrk_after.ru_stime) - (wrk_before.ru_utime + wrk_before.ru_stime)
            acc[side]["requests"] += int(re.search(r"(\d+) requests in", out).group(1))
    per_request = {}
    for side, a in acc.items():
        n = a["requests"]
        per_request[side] = sum(a[p] for p in PARTS) / n
        parts = "  ".join(f"{p} {a[p] / n * 1e6:5.0f} µs" for p in PARTS)
        print(f"{side:6}  {n:6} requests  {parts}  total {per_request[side] * 1e6:5.0f} µs")
    print(f"booth/JSON by CPU per request: {per_request['ballot'] / per_request['booth']:.3f}")


if __name__ == "__main__":
    main()
