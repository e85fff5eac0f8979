"""Simulated packets per CPU second as the number of connections grows, compiled.

    python benchmarks/bench_scale.py [--packets N] [--repeat R] [--json]

The cost of finding per-connection state should not grow with the connection count: 4,096 against
65,536 connections (default pp_frag 4K configuration, open windows), and window-limited senders
(small tcp_rmem), where the sender has to look past connections waiting for their window. 64
connections cost less a packet for another reason: a queue's flows share one gro_hash bucket (the
RSS queue and the bucket come from the same hash bits, as in the kernel), which holds MAX_GRO_SKBS
of them, so with 4 flows a queue GRO merges most segments, and with hundreds none. Each figure is the best
of ``--repeat`` fresh processes (bench_engine.py's measurement: compilation excluded, model set-up,
invariant check and teardown included).

Prints figures; asserts nothing (the machines are shared and noisy). Record results in BENCHMARKS.md.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_engine import best

CONFIGS = {
    "64 connections": {"connections": 64},
    "4,096 connections": {"connections": 4096},
    "65,536 connections": {"connections": 65536},
    "4,096 conns, 16 KB tcp_rmem": {"connections": 4096, "tcp_rmem": 16384},
    "1,024 conns, 64 KB tcp_rmem": {"connections": 1024, "tcp_rmem": 65536},
    "65,536 conns, 16 KB tcp_rmem": {"connections": 65536, "tcp_rmem": 16384},
}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--packets", type=int, default=10_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    rows = []
    for name, kw in CONFIGS.items():
        r = best("jit", {"strategy": "pp_frag", "page_size": 4096, "mtu": 1500, **kw}, a.packets, a.repeat)
        rows.append({"config": name, "pps": r["pps_cpu"], "pps_wall": r["pps_wall"],
                     "peak_rss_bytes": r["peak_rss_bytes"]})
    if a.json:
        print(json.dumps({"packets": a.packets, "repeat": a.repeat, "rows": rows}))
        return
    print(f"best of {a.repeat} fresh processes, {a.packets:,} packets; M packets per CPU second (per wall second)")
    base = rows[0]["pps"]
    for r in rows:
        print(f"{r['config']:<30} {r['pps'] / 1e6:>7.2f} ({r['pps_wall'] / 1e6:>6.2f})  "
              f"{r['pps'] / base:>5.2f}x of 64 connections  peak RSS {r['peak_rss_bytes'] / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
