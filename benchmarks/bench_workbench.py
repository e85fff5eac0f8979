"""How long the explorer takes to redraw after a change, and how long the reports take.

    python benchmarks/bench_workbench.py [--repeat N] [--report] [--quick]

The explorer's target: a change updates figure and counters in about a second. Prints figures;
asserts nothing. Record results in BENCHMARKS.md.
"""

import argparse
import statistics
import tempfile
import time

CHANGES = [("page_size", 65536), ("page_size", 4096), ("connections", 128), ("connections", 64),
           ("strategy", "full_page"), ("strategy", "pp_frag"), ("ring_size", 4096), ("ring_size", 1024)]


def explorer_latency(repeat, quick):
    from rxlab.views.widgets import explorer

    panel = explorer(quick=quick)  # compiles, or loads the compiled cache
    times = {}
    for _ in range(repeat):
        for name, value in CHANGES:
            t = time.perf_counter()
            panel.controls[name].value = value
            times.setdefault(f"{name}={value}", []).append(time.perf_counter() - t)
    return panel.packets, times


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="the explorer in quick mode, reports with --quick")
    p.add_argument("--report", action="store_true", help="also time rxlab report (about a minute)")
    args = p.parse_args()
    packets, times = explorer_latency(args.repeat, args.quick)
    print(f"explorer, {packets:,} packets per run: seconds from a control change to figure and counters")
    for k, v in times.items():
        print(f"  {k:<22} median {statistics.median(v):.3f}  max {max(v):.3f}")
    if args.report:
        import os

        from rxlab.studies.cache import CACHE_ENV
        from rxlab.views.report import build_reports

        # an empty result cache (the notebooks' kernels inherit it): the time to compute every run,
        # not to read them back from an earlier report's cache
        with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as cache:
            os.environ[CACHE_ENV] = cache
            t = time.perf_counter()
            build_reports(out, quick=args.quick)
            print(f"rxlab report{' --quick' if args.quick else ''}, empty result cache: "
                  f"{time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
