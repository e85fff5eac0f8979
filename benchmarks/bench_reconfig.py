"""A reconfiguration of many large rings: the pre-allocation's time, and the run's peak memory
against the estimate SimConfig checks it by (rxlab.model.sizing.table_bytes).

    python benchmarks/bench_reconfig.py [--queues Q] [--ring-size R] [--packets N] [--json]

One fresh process, compiled engine: a small run first (every kernel loaded), then MANA with
``--queues`` x ``--ring-size`` buffers switching to MTU 9000 halfway (mana_change_mtu: every
buffer of the new layout pre-allocated before the old queues go). The peak is the process's
resident set at its highest (ru_maxrss) less the resident set before the run.

Prints figures; asserts nothing. Record results in BENCHMARKS.md.
"""

import argparse
import json
import resource
import time

from rxlab import Reconfig, SimConfig, simulate
from rxlab.model import simulate as sim
from rxlab.model import sizing


def resident():
    with open("/proc/self/status") as f:
        return int(f.read().split("VmRSS:")[1].split()[0]) * 1024


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--queues", type=int, default=64)
    p.add_argument("--ring-size", type=int, default=8192)
    p.add_argument("--packets", type=int, default=20_000)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    simulate(SimConfig(queues=2, ring_size=128, connections=4, packets=2000,
                       reconfigs=(Reconfig(at_packet=1000, mtu=9000),)))
    cfg = SimConfig(queues=a.queues, ring_size=a.ring_size, packets=a.packets,
                    reconfigs=(Reconfig(at_packet=a.packets // 2, mtu=9000),))
    parts = sizing.table_bytes(cfg, sizing.size_run(cfg, sizing.geometries(cfg)))
    took = {}
    reconfigure = sim._reconfigure

    def timed(*args):
        start = time.perf_counter()
        out = reconfigure(*args)
        took["reconfigure_s"] = time.perf_counter() - start
        return out

    sim._reconfigure = timed
    before = resident()
    start = time.perf_counter()
    r = simulate(cfg)
    took["simulate_s"] = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    estimate = sum(parts.values())
    out = {"queues": a.queues, "ring_size": a.ring_size, "packets": a.packets, "reconfigured": r.events[0]["ok"],
           **took, "estimate_bytes": estimate, "parts": parts, "peak_bytes": peak, "peak_over_estimate": peak / estimate}
    if a.json:
        print(json.dumps(out))
        return
    print(f"{a.queues} queues x {a.ring_size} ring, MTU 1500 -> 9000 at packet {a.packets // 2}:")
    print(f"  reconfiguration (pre-allocation, detach, attach, invariants) {took['reconfigure_s']:.2f} s; "
          f"whole run {took['simulate_s']:.2f} s")
    print(f"  peak resident memory of the run {peak / 1e6:.0f} MB; estimate {estimate / 1e6:.0f} MB "
          f"({', '.join(f'{k} {v / 1e6:.0f}' for k, v in parts.items())}); peak / estimate {peak / estimate:.2f}")


if __name__ == "__main__":
    main()
