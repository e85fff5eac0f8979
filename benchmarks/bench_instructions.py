"""Instructions per simulated packet, from valgrind's cachegrind: a figure load cannot move.

    python benchmarks/bench_instructions.py [--packets N] [--base N] [--fields JSON] [--connections C ...] [--json]

Wall and CPU time on a shared 2-core machine move by +-20 % from hour to hour; the number of
instructions a run executes does not. For each of ``bench_engine.py``'s configurations (MTU 1500, 64
connections, the default release), two fresh processes run under ``valgrind --tool=cachegrind
--cache-sim=no`` with the engine's compiled code already in numba's cache: one simulates ``--base``
packets, the other ``--base + --packets``. The difference of their instruction counts over
``--packets`` is the engine's instructions per packet: interpreter start-up, imports, loading the
compiled code, table set-up and teardown are the same in both and cancel (the tables are sized by
what a run can hold at once, which ``--base`` already reaches). ``--connections`` adds rows of
``pp_frag 4K`` at other connection counts (the cost of finding per-connection state).

They cancel only if they are the same: set-up is ~6 G instructions, and two identical processes
differed by up to 8 M of them (+-40 a packet over 200,000 packets) while Python's string hashing
and the address space layout were randomised. So each process runs with ``PYTHONHASHSEED=0`` and,
when util-linux's ``setarch`` is there, with address space randomisation off (``setarch -R``):
three identical processes then differed by 31 thousand instructions (0.2 a packet).

valgrind is Debian's package (``apt-get install valgrind``); without it the benchmark says so and
exits 0. Prints figures; asserts nothing. Record results in BENCHMARKS.md.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_engine import CONFIGS

CODE = ("import rxlab, sys; rxlab.simulate(rxlab.SimConfig(**{kw!r}, packets={packets}))")


def instructions(kw, packets):
    """Instructions (cachegrind's I refs) of a fresh process that simulates ``packets`` packets."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", NUMBA_DISABLE_JIT="0", PYTHONHASHSEED="0")
    fixed_layout = ["setarch", "-R"] if shutil.which("setarch") else []
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(fixed_layout + ["valgrind", "--tool=cachegrind", "--cache-sim=no",
                              f"--cachegrind-out-file={tmp}/cg.out", sys.executable, "-c",
                              CODE.format(kw=kw, packets=packets)],
                             env=env, capture_output=True, text=True, check=True)
    m = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if m is None:
        raise RuntimeError("no 'I refs' line in valgrind's output:\n" + out.stderr[-2000:])
    return int(m.group(1).replace(",", ""))


def per_packet(kw, base, packets):
    instructions(kw, 1000)  # compile under valgrind's CPU, or load that from the cache
    lo, hi = instructions(kw, base), instructions(kw, base + packets)
    return (hi - lo) / packets


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--packets", type=int, default=200_000, help="packets measured (default 200000)")
    p.add_argument("--base", type=int, default=100_000,
                   help="packets of the baseline run, above max_skbs (default 100000)")
    p.add_argument("--fields", type=json.loads, default={},
                   help="SimConfig fields for every configuration, as JSON (e.g. '{\"gro\": false}')")
    p.add_argument("--connections", type=int, nargs="*", default=[],
                   help="more rows: pp_frag 4K at these connection counts (e.g. 4096 65536)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    if a.base <= 65536 or a.packets < 1:
        p.error("--base must exceed max_skbs (65536), so that both runs have the same tables; --packets >= 1")
    if shutil.which("valgrind") is None:
        print("bench_instructions: valgrind is not installed (Debian: apt-get install valgrind); nothing measured")
        return
    configs = {name: {**kw, **a.fields} for name, kw in CONFIGS.items()}
    for c in a.connections:
        configs[f"pp_frag 4K, {c} connections"] = {**CONFIGS["pp_frag 4K"], **a.fields, "connections": c}
    rows = [{"config": name, "instructions_per_packet": per_packet(kw, a.base, a.packets)}
            for name, kw in configs.items()]
    if a.json:
        print(json.dumps({"fields": a.fields, "packets": a.packets, "base": a.base, "rows": rows}))
        return
    print(f"instructions per packet (cachegrind; {a.packets} packets over a {a.base}-packet baseline; "
          f"fields {a.fields or 'none'})")
    for r in rows:
        print(f"  {r['config']:<32} {r['instructions_per_packet']:8.1f}")


if __name__ == "__main__":
    main()
