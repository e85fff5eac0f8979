"""Wall time of the default claims grid (rxlab.CLAIMS_GRID): cold, warm, and 1 vs 2 workers.

    python benchmarks/bench_sweep.py [--packets N] [--seeds N] [--repeat N] [--json]

cold: empty numba cache (a fresh NUMBA_CACHE_DIR) and empty result cache, default workers:
      import, compilation and every run; the result cache it fills gives the bytes a run takes. warm: the same caches again: nothing is recomputed.
1 / 2 workers: numba cache warm, result cache empty: the runs themselves, serially and on a
      process pool. Each measurement is a fresh process, timed from before ``import rxlab``;
      CPU s is the CPU time of that process and its workers (on a shared machine, wall time
      scales with workers only as far as other work leaves cores free; CPU time shows the
      pool's own overhead). "load before" is the 1-minute load average when it started.
      warm, 1 and 2 workers are measured --repeat times, alternated; the best (least disturbed)
      wall time of each is what the speed-up uses.

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
    from rxlab.studies.grid import CLAIMS_PACKETS

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--packets", type=int, default=CLAIMS_PACKETS, help="packets per run")
    p.add_argument("--seeds", type=int, default=1, help="seeds per configuration")
    p.add_argument("--repeat", type=int, default=3, help="rounds of warm / 1 worker / 2 workers (default 3)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        tmp = Path(tmp)
        rows.append(dict(measure(tmp / "numba", tmp / "results", None, a.packets, a.seeds), name="cold"))
        files = list((tmp / "results").rglob("*.parquet"))
        per_run = sum(f.stat().st_size for f in files) / max(len(files), 1)
        for i in range(a.repeat):  # alternated, so that a burst of load elsewhere hits both
            rows.append(dict(measure(tmp / "numba", tmp / "results", None, a.packets, a.seeds), name="warm"))
            for w in (1, 2):
                rows.append(dict(measure(tmp / "numba", tmp / f"results-{w}-{i}", w, a.packets, a.seeds),
                                 name=f"{w} worker{'s' * (w > 1)}"))
    best = {n: min(r["wall"] for r in rows if r["name"] == n) for n in ("cold", "warm", "1 worker", "2 workers")}
    speedup = best["1 worker"] / best["2 workers"]
    if a.json:
        print(json.dumps({"cpus": cpus, "packets": a.packets, "seeds": a.seeds, "rows": rows, "best": best,
                          "speedup": speedup, "cache_bytes_per_run": per_run}))
        return
    print(f"claims grid: {rows[0]['runs']} runs x {a.packets:,} packets, {cpus} CPUs")
    print(f"{'measurement':<11} {'workers':>9} {'computed':>9} {'cached':>7} {'wall s':>7} {'CPU s':>7} "
          f"{'load before':>12}")
    for r in rows:
        w = r["workers"] or f"{cpus} (dflt)"
        print(f"{r['name']:<11} {w:>9} {r['computed']:>9} {r['cached']:>7} {r['wall']:>7.2f} {r['cpu']:>7.2f} "
              f"{r['load_before']:>12.2f}")
    print("best wall s: " + ", ".join(f"{n} {t:.2f}" for n, t in best.items()))
    print(f"speed-up 1 -> 2 workers (best of {a.repeat}): {speedup:.2f}x")
    print(f"result cache: {len(files)} files, {per_run:,.0f} bytes a run")


if __name__ == "__main__":
    main()
