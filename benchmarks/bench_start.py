"""Wall time of a fresh ``import rxlab`` and of ``rxlab geometry``, beside a bare interpreter.

    python benchmarks/bench_start.py [--repeat R] [--json]

Each figure is the best of ``--repeat`` fresh processes (noise only ever slows a start down).
Prints figures; asserts nothing. Record results in BENCHMARKS.md.
"""

import argparse
import json
import shutil
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import rxlab": [sys.executable, "-c", "import rxlab"],
    "rxlab geometry": [shutil.which("rxlab") or "rxlab", "geometry", "--page-size", "65536"],
}


def best(argv, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    out = {name: best(argv, a.repeat) for name, argv in COMMANDS.items()}
    if a.json:
        print(json.dumps(out))
        return
    for name, s in out.items():
        print(f"{name:<16} {s * 1000:7.1f} ms  (best of {a.repeat})")


if __name__ == "__main__":
    main()
