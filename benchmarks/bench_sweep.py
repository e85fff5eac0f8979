"""Wall time of the default claims grid (rxlab.CLAIMS_GRID): cold, warm, and 1 vs 2 workers.

    python benchmarks/bench_sweep.py [--packets N] [--seeds N] [--json]

cold: empty numba cache (a fresh NUMBA_CACHE_DIR) and empty result cache, default workers:
      import, compilation and every run. warm: the same caches again: nothing is recomputed.
1 / 2 workers: numba cache warm, result cache empty: the runs themselves, serially and on a
      process pool. Each measurement is a fresh process, timed from before ``import rxlab``;
      CPU s is the CPU time of that process and its workers (on a shared machine, wall time
      scales with workers only as far as other work leaves cores free; CPU time shows the
      pool's own overhead). "load before" is the 1-minute load average when it started.

Prints figures; asserts nothing (the machines are shared and noisy). Record results in BENCHMARKS.md.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys, time, warnings
t0 = time.perf_counter()
import rxlab
grid = dict(rxlab.CLAIMS_GRID, packets=[{packets}])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the 12 invalid XDP-at-MTU-9000-on-4K combinations
    df = rxlab.sweep(grid, {seeds}, cache={cache!r}, workers={workers}, progress=False)
wall = time.perf_counter() - t0
cpu = sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))
print(json.dumps(dict(df.attrs["sweep"], wall=wall, cpu=cpu)))
"""


def measure(numba_cache, cache, workers, packets, seeds):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(numba_cache))
    env.pop("NUMBA_DISABLE_JIT", None)
    code = CHILD.format(packets=packets, seeds=seeds, cache=str(cache), workers=workers)
    load = os.getloadavg()[0]
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return dict(json.loads(out.stdout), workers=workers, load_before=load)


def main():
    from rxlab.grid import CLAIMS_PACKETS

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--packets", type=int, default=CLAIMS_PACKETS, help="packets per run")
    p.add_argument("--seeds", type=int, default=1, help="seeds per configuration")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        tmp = Path(tmp)
        rows = {
            "cold": measure(tmp / "numba", tmp / "results", None, a.packets, a.seeds),
            "warm": measure(tmp / "numba", tmp / "results", None, a.packets, a.seeds),
            "1 worker": measure(tmp / "numba", tmp / "results-1", 1, a.packets, a.seeds),
            "2 workers": measure(tmp / "numba", tmp / "results-2", 2, a.packets, a.seeds),
        }
    speedup = rows["1 worker"]["wall"] / rows["2 workers"]["wall"]
    if a.json:
        print(json.dumps({"cpus": cpus, "packets": a.packets, "seeds": a.seeds, "rows": rows, "speedup": speedup}))
        return
    r = rows["cold"]
    print(f"claims grid: {r['runs']} runs x {a.packets:,} packets, {cpus} CPUs")
    print(f"{'measurement':<10} {'workers':>9} {'computed':>9} {'cached':>7} {'wall s':>7} {'CPU s':>7} "
          f"{'load before':>12}")
    for name, r in rows.items():
        w = r["workers"] or f"{cpus} (dflt)"
        print(f"{name:<10} {w:>9} {r['computed']:>9} {r['cached']:>7} {r['wall']:>7.2f} {r['cpu']:>7.2f} "
              f"{r['load_before']:>12.2f}")
    print(f"speed-up 1 -> 2 workers: {speedup:.2f}x")


if __name__ == "__main__":
    main()
