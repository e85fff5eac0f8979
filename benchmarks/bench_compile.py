"""Cold compile of the engine, kernel by kernel, in CPU time.

    python benchmarks/bench_compile.py [--top N] [--json]

A fresh process with an empty numba cache (a temporary ``NUMBA_CACHE_DIR``) runs the first
``simulate()`` of a small run, which compiles every kernel it reaches. numba's ``numba:compile``
events bracket each compilation; a kernel compiles the kernels it calls inside its own
compilation, so each kernel's own time is its thread's CPU time over its compilation less that of
the compilations nested in it. ``numba:llvm_lock`` events bracket LLVM's work (optimising and
emitting machine code), which is given per kernel too, the rest being numba's (typing, lowering).
A kernel compiled more than once (another signature) is listed with its count. CPU time, not wall
time: the machine is shared, and load stretches wall time, not the CPU time a compilation takes.

Prints figures; asserts nothing. Record results in BENCHMARKS.md.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time
from collections import defaultdict
from numba.core import event

own = defaultdict(float)    # kernel -> CPU s of its own compilation (nested ones excluded)
llvm = defaultdict(float)   # kernel -> CPU s inside LLVM while it was the innermost compilation
count = defaultdict(int)    # kernel -> compilations (signatures)
sigs = defaultdict(list)    # kernel -> argument types of each compilation
stack = []                  # [name, started, CPU s of nested compilations]
lock = []


def name(ev):
    f = ev.data["dispatcher"].py_func
    return f"{f.__module__}.{f.__name__}"


class Compiles(event.Listener):
    def on_start(self, ev):
        stack.append([name(ev), time.thread_time(), 0.0])
        # a State or Rx (a namedtuple of arrays) by its name
        sigs[name(ev)].append(", ".join(getattr(getattr(a, "instance_class", None), "__name__", None) or str(a)
                                        for a in ev.data["args"]))

    def on_end(self, ev):
        n, t0, nested = stack.pop()
        took = time.thread_time() - t0
        own[n] += took - nested
        count[n] += 1
        if stack:
            stack[-1][2] += took


class Llvm(event.Listener):
    def on_start(self, ev):
        lock.append(time.thread_time())

    def on_end(self, ev):
        if stack:
            llvm[stack[-1][0]] += time.thread_time() - lock.pop()
        else:
            lock.pop()


event.register("numba:compile", Compiles())
event.register("numba:llvm_lock", Llvm())
c0 = time.process_time()
import rxlab
rxlab.simulate(rxlab.SimConfig(packets=1000, queues=1, connections=1, ring_size=128))
total = time.process_time() - c0
print(json.dumps({"total_cpu_s": total, "kernels": [
    {"kernel": k, "own_cpu_s": own[k], "llvm_cpu_s": llvm[k], "compilations": count[k],
    "signatures": sigs[k]} for k in own]}))
"""


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--top", type=int, default=15, help="kernels listed, largest first (default 15)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, NUMBA_DISABLE_JIT="0", OPENBLAS_NUM_THREADS="1")
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.splitlines()[-1])
    r["kernels"].sort(key=lambda k: -k["own_cpu_s"])
    if a.json:
        print(json.dumps(r))
        return
    ks = r["kernels"]
    print(f"cold first simulate(): {r['total_cpu_s']:.1f} CPU s; {len(ks)} kernels, "
          f"{sum(k['compilations'] for k in ks)} compilations, {sum(k['own_cpu_s'] for k in ks):.1f} s in them "
          f"({sum(k['llvm_cpu_s'] for k in ks):.1f} s LLVM)")
    print(f"  {'kernel':<44} {'own CPU s':>9} {'LLVM s':>7} {'times':>5}")
    for k in ks[:a.top]:
        print(f"  {k['kernel']:<44} {k['own_cpu_s']:9.2f} {k['llvm_cpu_s']:7.2f} {k['compilations']:5d}")
    for k in ks:
        if k["compilations"] > 1:
            print(f"  compiled {k['compilations']} times: {k['kernel']}: " + "; ".join(k["signatures"]))


if __name__ == "__main__":
    main()
