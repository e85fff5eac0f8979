"""Simulated packets per second per core, compiled and interpreted, and peak memory of a long run.

    python benchmarks/bench_engine.py [--packets N] [--nojit-packets N] [--memory-packets N] [--repeat R]
                                      [--fields JSON] [--json]

Each figure is the best of ``--repeat`` runs, each in a fresh process. Rates are given per CPU
second of the process (the simulation is single-threaded, so that is per core, and it is what
a shared, loaded machine still measures faithfully) and per wall-clock second. ``first call``
is the first simulate() of a fresh process: loading the compiled cache (compilation if cold).

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
    """[first-call seconds, packets per wall second, packets per CPU second] of simulate() itself
    (model set-up and teardown included, compilation excluded)."""
    from rxlab.model.config import SimConfig
    from rxlab.model.simulate import simulate

    w = time.perf_counter()
    simulate(SimConfig(**kw, packets=1000))  # compile, or load the compiled cache
    first = time.perf_counter() - w
    w, c = time.perf_counter(), time.process_time()
    simulate(SimConfig(**kw, packets=packets))
    return [first, packets / (time.perf_counter() - w), packets / (time.process_time() - c)]


def child(mode, kw, packets):
    """Run one measurement in a fresh process (NUMBA_DISABLE_JIT must be set before import);
    returns rate()'s figures and the peak RSS in bytes. One BLAS thread: nothing here uses
    BLAS, and idle BLAS threads would only add noise to the CPU time."""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1" if mode == "nojit" else "0", OPENBLAS_NUM_THREADS="1")
    code = ("import json, resource, sys; sys.path.insert(0, 'benchmarks'); from bench_engine import rate; "
            f"r = rate({kw!r}, {packets}); "
            "print(json.dumps(r + [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def best(mode, kw, packets, repeat):
    """Fastest of ``repeat`` fresh processes (noise on a shared machine only ever slows a run down)."""
    runs = [child(mode, kw, packets) for _ in range(repeat)]
    return {"first_call_s": min(r[0] for r in runs), "pps_wall": max(r[1] for r in runs),
            "pps_cpu": max(r[2] for r in runs), "peak_rss_bytes": max(r[3] for r in runs)}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--packets", type=int, default=20_000_000)
    p.add_argument("--nojit-packets", type=int, default=20_000)
    p.add_argument("--memory-packets", type=int, default=100_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--fields", type=json.loads, default={},
                   help='SimConfig fields for every configuration, as JSON (e.g. \'{"kernel": "6.13"}\'): '
                        "to measure an older code's workload")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    configs = {name: {**kw, **a.fields} for name, kw in CONFIGS.items()}
    rows = []
    for name, kw in configs.items():
        jit = best("jit", kw, a.packets, a.repeat)
        nojit = best("nojit", kw, a.nojit_packets, a.repeat)
        rows.append({"config": name, "jit_pps": jit["pps_cpu"], "jit_pps_wall": jit["pps_wall"],
                     "nojit_pps": nojit["pps_cpu"], "nojit_pps_wall": nojit["pps_wall"],
                     "speedup": jit["pps_cpu"] / nojit["pps_cpu"], "first_call_s": jit["first_call_s"]})
    mem = best("jit", configs["pp_frag 4K"], a.memory_packets, 1)
    out = {"fields": a.fields, "packets": a.packets, "nojit_packets": a.nojit_packets, "repeat": a.repeat, "rows": rows,
           "memory": {"packets": a.memory_packets, "peak_rss_bytes": mem["peak_rss_bytes"]}}
    if a.json:
        print(json.dumps(out))
        return
    print(f"best of {a.repeat} fresh processes; M/k packets per CPU second (per wall second)")
    print(f"{'configuration':<16} {'compiled Mpps':>18} {'interpreted kpps':>18} {'speed-up':>9} {'first call':>11}")
    for r in rows:
        print(f"{r['config']:<16} {r['jit_pps'] / 1e6:>7.2f} ({r['jit_pps_wall'] / 1e6:>6.2f})    "
              f"{r['nojit_pps'] / 1e3:>7.1f} ({r['nojit_pps_wall'] / 1e3:>6.1f}) {r['speedup']:>8.0f}x "
              f"{r['first_call_s']:>9.2f} s")
    print(f"peak RSS of a {a.memory_packets:,}-packet pp_frag 4K run: {mem['peak_rss_bytes'] / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
