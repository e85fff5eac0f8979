"""Simulated packets per second per core, compiled and interpreted, and peak memory of a long run.

    python benchmarks/bench_engine.py [--packets N] [--nojit-packets N] [--memory-packets N] [--json]

Prints figures; asserts nothing (the machines are shared and noisy). Record results in BENCHMARKS.md.
"""

import argparse
import json
import os
import subprocess
import sys
import time

CONFIGS = {
    f"{strategy} {page // 1024}K": {"strategy": strategy, "page_size": page, "mtu": 1500, "connections": 64}
    for strategy in ("pp_frag", "full_page") for page in (4096, 65536)
}


def rate(kw, packets):
    """Packets per second of simulate() itself (model set-up included, compilation excluded)."""
    from rxlab.config import SimConfig
    from rxlab.simulate import simulate

    simulate(SimConfig(**kw, packets=1000))  # compile, or load the compiled cache
    t = time.perf_counter()
    simulate(SimConfig(**kw, packets=packets))
    return packets / (time.perf_counter() - t)


def child(mode, kw, packets):
    """Run one measurement in a fresh process (NUMBA_DISABLE_JIT must be set before import)."""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1" if mode == "nojit" else "0")
    code = ("import json, resource, sys; sys.path.insert(0, 'benchmarks'); from bench_engine import rate; "
            f"r = rate({kw!r}, {packets}); "
            "print(json.dumps([r, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--packets", type=int, default=20_000_000)
    p.add_argument("--nojit-packets", type=int, default=20_000)
    p.add_argument("--memory-packets", type=int, default=100_000_000)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    rows = []
    for name, kw in CONFIGS.items():
        jit, _ = child("jit", kw, a.packets)
        nojit, _ = child("nojit", kw, a.nojit_packets)
        rows.append({"config": name, "jit_pps": jit, "nojit_pps": nojit, "speedup": jit / nojit})
    _, peak = child("jit", CONFIGS["pp_frag 4K"], a.memory_packets)
    out = {"rows": rows, "memory": {"packets": a.memory_packets, "peak_rss_bytes": peak}}
    if a.json:
        print(json.dumps(out))
        return
    print(f"{'configuration':<16} {'compiled Mpps':>14} {'interpreted kpps':>17} {'speed-up':>9}")
    for r in rows:
        print(f"{r['config']:<16} {r['jit_pps'] / 1e6:>14.2f} {r['nojit_pps'] / 1e3:>17.1f} {r['speedup']:>9.0f}x")
    print(f"peak RSS of a {a.memory_packets:,}-packet pp_frag 4K run: {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
