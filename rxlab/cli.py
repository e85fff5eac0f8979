"""The ``rxlab`` command line. Errors print one line and exit non-zero: 2 for a bad input
(a value out of range, a path that cannot be used), 1 for a failure of the machine (a full
disk, a killed worker, an unreachable scheduler), 128 + the signal's number when interrupted
by SIGINT or SIGTERM. ``RXLAB_DEBUG=1`` lets the exception through, with its traceback."""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

from rxlab.errors import Interrupted, SystemFailure, bad, check_int_range, shown
from rxlab.kernel import releases
from rxlab.kernel.sizes import ARCHES, ETH_HLEN, ETH_MIN_MTU
from rxlab.model import defaults
from rxlab.views.format import number, quantity, unit_of

DEBUG_ENV = "RXLAB_DEBUG"


def _note_ring_size(args, cfg):
    """Say so when the ring size asked for is not the one the driver uses."""
    asked = getattr(args, "ring_size", None)
    if asked is not None and cfg.ring_size != asked:
        print(f"rxlab {args.command}: ring_size {asked} runs as {cfg.ring_size} (the {cfg.driver} driver's "
              "ethtool -G rounds it)", file=sys.stderr)


def _geometry(args):
    """The geometry SimConfig resolves for these options (driver, release defaults and limits)."""
    from rxlab.model.config import SimConfig, xdp_only

    kw = {k: getattr(args, k) for k in ("driver", "kernel", "page_size", "mtu", "arch", "ring_size", "queues",
                                        "adapter_mtu", "gro_hw") if getattr(args, k) is not None}
    cfg = SimConfig(xdp=xdp_only("pass") if args.xdp else (), **kw)
    g = cfg.geometry(variant=args.variant)
    _note_ring_size(args, cfg)
    d = g.to_dict()
    if args.json:
        print(json.dumps(d))
        return
    width = max(map(len, d))
    for k, v in d.items():
        print(f"{k:<{width}}  {v}")


def _xdp_option(text):
    """--xdp: one verdict, or four fractions P,D,T,R."""
    from rxlab.model.config import XDP_VERDICTS, check_xdp, xdp_only

    allowed = f"one verdict ({', '.join(XDP_VERDICTS)}) or four fractions P,D,T,R adding up to 1"
    if "," not in text:
        if text not in XDP_VERDICTS:
            raise bad("xdp", text, allowed)
        return xdp_only(text)
    try:
        fractions = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise bad("xdp", text, allowed) from None
    return check_xdp(fractions)


def _simulate(args):
    from dataclasses import fields

    from rxlab.counters import Ctr
    from rxlab.model.config import SimConfig
    from rxlab.model.simulate import simulate

    kw = {f.name: getattr(args, f.name) for f in fields(SimConfig)
          if getattr(args, f.name, None) is not None and f.name != "xdp"}
    if args.xdp:
        kw["xdp"] = _xdp_option(args.xdp)
    cfg = SimConfig(**kw)
    profile = None
    if args.platform is not None:  # loaded before the run: a broken profile fails in a second, not minutes
        from rxlab.cost.profiles import platform

        profile = platform(args.platform)
    _note_ring_size(args, cfg)
    r = simulate(cfg)
    counters = {c.name: r.counter(c.name) for c in Ctr}
    config = {k: v for k, v in r.config.to_dict().items() if k != "reconfigs"}
    estimate = _estimate(r, profile) if profile is not None else None
    if args.json:
        out = {"config": config, "metrics": r.metrics(), "counters": counters,
               "queues": r.queues_frame().to_dict(orient="records")}
        if estimate is not None:
            out["estimate"] = estimate
        print(json.dumps(out))
        return
    print(f"configuration (Linux {cfg.release.name}; given: "
          f"{', '.join(f'{k}={v}' for k, v in kw.items()) or 'nothing, all defaults'}):")
    for k in RESOLVED:
        print(f"  {k:<28} {_value(config[k])}")
    print("metrics:")
    for k, v in r.metrics().items():
        print(f"  {k:<28} {quantity(v, unit_of(k))}")
    print("counters (non-zero; rxlab/counters.py says what each counts):")
    for k, v in counters.items():
        if v:
            print(f"  {k:<28} {v:,}")
    if estimate is not None:
        e = estimate
        print(f"throughput on {e['platform']}: {number(e['gbps'])} Gbps [{number(e['gbps_low'])}.."
              f"{number(e['gbps_high'])}], bound by {e['binds']} ({BINDS_TEXT[e['binds']]})\n  {e['note']}")


# the fields `rxlab simulate` echoes: what the release resolves and what a reader checks first
RESOLVED = ("kernel", "strategy", "page_size", "mtu", "arch", "queues", "ring_size", "connections", "tcp_rmem",
            "skb_defer_max", "gro", "app_cpus", "reader_cpus", "link_gbps", "packets", "seed")
BINDS_TEXT = {"line": "the link's goodput", "cpu": "the RX (NAPI) cores' cycles",
              "reader_cpu": "the reading cores' cycles", "window": "the TCP receive window in the simulation",
              "device": "the platform's empirical device factor"}


def _estimate(r, profile):
    """The throughput estimate of one run under ``profile``: Gbps with its band, what binds."""
    from rxlab.cost.pricing import throughput

    t = throughput(r, profile).iloc[0]
    return {"platform": profile.name, "gbps": float(t.gbps), "gbps_low": float(t.gbps_low),
            "gbps_high": float(t.gbps_high), "binds": t.binds, "binds_low": t.binds_low,
            "binds_high": t.binds_high, "gbps_line": float(t.gbps_line), "gbps_cpu": float(t.gbps_cpu),
            "gbps_reader": float(t.gbps_reader), "util_napi": float(t.util_napi),
            "util_reader": float(t.util_reader), "note": t.note}


def _value(v):
    return str(v).lower() if isinstance(v, bool) else str(v)


def _kernels(args):
    """The release table: every row, what it changes and the commit behind each change."""
    rows = releases.releases()
    todo = releases.not_modelled()
    if args.kernel is not None:  # one release: every behaviour in force and where it comes from
        rel = releases.release(args.kernel)
        if args.json:
            print(json.dumps({"release": rel.name, "uncertain": rel.uncertain, "values": rel.values(),
                              "sources": {b: vars(c) for b, c in rel.sources}, "not_modelled": todo}))
            return
        print(f"Linux {rel.name}{' (uncertain)' if rel.uncertain else ''}: {rel.summary}")
        width = max(map(len, releases.BEHAVIOURS))
        for b, c in rel.sources:
            flag = "" if c.modelled else "  [not modelled]"
            print(f"  {b:<{width}} = {_value(c.value):<18} {c.commit:<12}  {c.release:<4} {c.subject}{flag}")
        return
    if args.json:
        print(json.dumps({"releases": [{"name": r.name, "base": r.base, "uncertain": r.uncertain, "summary": r.summary,
                                        "changes": [vars(c) for c in r.changes], "values": r.values()}
                                       for r in rows], "not_modelled": todo}))
        return
    print("Linux releases rxlab simulates (data/kernels.toml; SimConfig(kernel=...), --kernel), oldest first.\n"
          "Each row lists what it changes and the commit; '?' marks a release inferred from when a patch was\n"
          "applied. The first row sets every behaviour; later rows keep what they do not change.")
    width = max(map(len, releases.BEHAVIOURS))
    for r in rows:
        print(f"\n{r.name}{' ?' if r.uncertain else ''}  {r.summary}")
        for c in r.changes:
            flag = "" if c.modelled else "  [not modelled]"
            since = "" if c.release == r.name else f" (in {c.release})"
            unsure = " ?" if c.uncertain else ""
            print(f"  {c.behaviour:<{width}} = {_value(c.value):<18} {c.commit:<12}  {c.subject}{since}{unsure}{flag}")
    print("\nNot modelled by the engine yet (the table carries their values for when it does):")
    for b, why in todo.items():
        print(f"  {b}: {why}")


def _check_out_file(path):
    """A results file can be written at ``path`` (a regular file or a new path, in a folder this
    process can write), checked before the sweep's first run rather than after its last."""
    from rxlab.atomic import check_target

    path = Path(path)
    check_target(path, "out")
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise bad("out", str(path), f"a file in a folder this process can write ({e.strerror or e})") from None


def _check_scheduler(address):
    """A Dask scheduler answers at ``address``, within twice Dask's connect timeout
    (``distributed.comm.timeouts.connect``, default 30 s) plus a second: ``Client()`` waits forever
    on a server that accepts the connection but never answers as a scheduler."""
    import asyncio

    import dask
    from dask.utils import parse_timedelta
    from distributed.comm import connect

    seconds = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="s")

    async def identity():
        comm = await connect(address, timeout=seconds)  # an unreachable address: OSError, on one line
        try:
            await comm.write({"op": "identity"})
            return await comm.read()
        finally:
            comm.abort()

    deadline = 2 * seconds + 1
    try:
        reply = asyncio.run(asyncio.wait_for(identity(), deadline))
    except asyncio.TimeoutError:
        raise SystemFailure(f"{address} did not answer as a Dask scheduler within {deadline:g} s") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise SystemFailure(f"{address} answered, but not as a Dask scheduler")


def _sweep(args):
    import warnings

    from rxlab.atomic import atomic_path
    from rxlab.studies.grid import count_runs, load_grid
    from rxlab.studies.sweep import MAX_RUNS, _cpus, duration_text, estimate_seconds, sweep

    grid = load_grid(args.grid)
    n, n_seeds, packets = count_runs(grid, args.seeds)
    runs = n * n_seeds
    max_runs = MAX_RUNS if args.max_runs is None else check_int_range("max_runs", args.max_runs, 1, 10**12)
    workers = "the cluster's workers" if args.scheduler else f"{args.workers or _cpus()} workers"
    time_text = "" if args.scheduler else \
        f", about {duration_text(estimate_seconds(runs, packets, args.workers or _cpus()))}"
    print(f"rxlab sweep: at most {runs:,} runs ({n:,} configurations x {n_seeds} seed{'s' * (n_seeds > 1)}, "
          f"{packets:,} packets){time_text} on {workers}, less those in the cache", file=sys.stderr)
    if runs > max_runs:
        raise bad("runs", runs, f"at most --max-runs {max_runs:,} (pass --max-runs {runs} to run them all)")
    args.out = args.out or f"{Path(args.grid).stem}.parquet"
    _check_out_file(args.out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the invalid combinations are listed below instead
        if args.scheduler:
            try:
                from distributed import Client
            except ImportError:
                raise ValueError("--scheduler needs Dask: pip install 'rxlab[dask]'") from None
            _check_scheduler(args.scheduler)
            with Client(args.scheduler) as client:
                df = sweep(grid, args.seeds, cache=args.cache, workers=args.workers, client=client,
                           progress=args.progress, max_runs=max_runs)
        else:
            df = sweep(grid, args.seeds, cache=args.cache, workers=args.workers, progress=args.progress,
                       max_runs=max_runs)
    for path, why in df.attrs["sweep"]["bad_cache"]:
        print(f"rxlab sweep: cache file {path} was {why}: recomputed", file=sys.stderr)
    invalid = df.attrs["invalid"]
    if invalid:
        print(f"rxlab sweep: {len(invalid)} invalid combinations not run:", file=sys.stderr)
        for p in invalid[:10]:
            print("  " + " ".join(f"{k}={shown(v, as_str=True)}" for k, v in p.items() if k != "error")
                  + f": {p['error']}",
                  file=sys.stderr)
        if len(invalid) > 10:
            print(f"  ... and {len(invalid) - 10} more", file=sys.stderr)
    with atomic_path(args.out, "out") as tmp:  # no half-written results file; checked writable before the runs
        df.to_parquet(tmp, index=False)
    s = df.attrs["sweep"]
    print(f"rxlab sweep: {s['runs']} runs ({s['computed']} computed, {s['cached']} from the cache "
          f"{s['cache']}) written to {args.out}")


def _claims(args):
    from rxlab.studies.claims import QUICK_PACKETS, evaluate_claims
    from rxlab.views.report import scoreboard_text

    df = evaluate_claims(packets=QUICK_PACKETS if args.packets is None else args.packets)
    if args.json:
        print(json.dumps({"note": df.attrs["note"], "packets": df.attrs["packets"], "causes": df.attrs["causes"],
                          "claims": json.loads(df.to_json(orient="records"))}))
        return
    print(scoreboard_text(df, df.attrs["packets"]))


def _report(args):
    import time

    from rxlab.studies.claims import FULL_PACKETS, QUICK_PACKETS, evaluate_claims
    from rxlab.views.notebooks import NOTEBOOK_DIR, notebook_paths
    from rxlab.views.report import build_reports, check_out_folder

    # a bad --out or no notebooks: say so before the scoreboard's seconds and the notebooks' minutes
    check_out_folder(args.out)
    notebook_paths(args.notebooks or NOTEBOOK_DIR)
    packets = QUICK_PACKETS if args.quick else FULL_PACKETS
    print(f"rxlab report: claims scoreboard ({packets:,} packets per simulation) ...", end="", file=sys.stderr,
          flush=True)
    t0 = time.monotonic()
    claims = evaluate_claims(packets=packets)
    print(f" {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
    _, failed = build_reports(args.out, quick=args.quick, notebooks=args.notebooks, claims=(claims, packets),
                              explore={})
    if failed:
        print(f"rxlab report: {len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _drivers():
    from rxlab.model.drivers import DRIVERS

    return tuple(DRIVERS)


def _variants():
    from rxlab.model.strategies import VARIANTS

    return VARIANTS


def _page_sizes():
    return sorted({s for a in ARCHES.values() for s in a.page_sizes})


def _num(x):
    """A range end or default as a reader types it: 1024, 0.001, 1000000, 2147483648."""
    return f"{x:.10g}" if isinstance(x, float) and not x.is_integer() else str(int(x))


def _config_options(p):
    """One option per scalar SimConfig field (--page-size, --strategy, --gro/--no-gro, --kernel, ...),
    its help saying what it is, its unit, what it allows and its default, from rxlab.model.config's
    tables and a default SimConfig()."""
    import typing
    from dataclasses import MISSING, fields

    from rxlab.model import config as c
    from rxlab.model.strategies import STRATEGIES

    resolved = c.SimConfig()  # every default as a number, the release's resolved
    allowed = {
        **{k: f"{_num(lo)}..{_num(hi)}" for k, (lo, hi) in c.INT_RANGES.items()},
        **{k: f"{_num(lo)}..{_num(hi)}" for k, (lo, hi) in c.REAL_RANGES.items()},
        **{k: "0..1" for k in c.FRACTIONS},
        "mtu": f"{ETH_MIN_MTU}..adapter_mtu - {ETH_HLEN}, with XDP at most "
               f"PAGE_SIZE - {c.MANA_XDP_PAD} (MANA_XDP_MTU_MAX; other drivers state theirs)",
        "queues": f"1..min(online_cpus, {c.INT_RANGES['queues'][1]}) (MANA's; other drivers state theirs)",
        "reader_cpus": f"1..{c.INT_RANGES['reader_cpus'][1] + 1} - queues",
        # not choices: SimConfig's error names the page sizes of the arch asked for, and the releases
        "page_size": f"one of {', '.join(map(str, _page_sizes()))} (x86_64: 4096 only)",
        "kernel": f"one of {', '.join(releases.names())}",
    }
    choices = {"arch": tuple(ARCHES), "strategy": tuple(STRATEGIES), "app_cpus": c.APP_CPUS, "reader": c.READERS,
               "driver": _drivers()}
    for f in fields(c.SimConfig):
        opt = "--" + f.name.replace("_", "-")
        kind = f.type
        if typing.get_origin(kind) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            kind = next(t for t in typing.get_args(kind) if t is not type(None))  # int | None -> int
        what, unit = c.MEANING[f.name]
        value = getattr(resolved, f.name)
        if f.name in c.RELEASE_FIELDS:
            default = f"default {_value(value)} (Linux {resolved.kernel}'s; follows --kernel)"
        elif f.default is None:  # rmem_max: SK_RMEM_MAX of the arch
            default = f"default {_value(value)} (SK_RMEM_MAX)"
        elif isinstance(value, bool):
            default = f"default {'on' if value else 'off'}"
        else:
            default = f"default {_num(value) if isinstance(value, (int, float)) else value}"
        unit = f" [{unit}]" if unit and unit != "fraction" else ""
        if f.name == "fixes":
            p.add_argument(opt, type=lambda text: tuple(x for x in text.split(",") if x), default=None,
                           metavar="COMMIT,...", help=f"{what}; default none (rxlab kernels lists them)")
        elif f.name == "xdp":
            p.add_argument(opt, help=f"{what}: one verdict ({', '.join(c.XDP_VERDICTS)}) or four fractions "
                                     "P,D,T,R adding up to 1; default none (no program)")
        elif f.name == "strategy":
            p.add_argument(opt, default=None, choices=choices["strategy"], metavar="NAME",
                           help=f"{what}, one of: " + "; ".join(f"{s.name} ({s.summary})" for s in STRATEGIES.values())
                                + f"; {default}")
        elif f.name in choices:
            p.add_argument(opt, default=None, choices=choices[f.name], type=type(choices[f.name][0]),
                           help=f"{what}{unit}, one of {', '.join(map(str, choices[f.name]))}; {default}")
        elif kind in ("bool", bool):
            p.add_argument(opt, action=argparse.BooleanOptionalAction, default=None, help=f"{what}; {default}")
        elif kind in ("int", "float", "str", int, float, str) and f.default is not MISSING:
            kind = {"int": int, "float": float, "str": str}.get(kind, kind)
            p.add_argument(opt, type=kind, default=None, help=f"{what}{unit}, {allowed[f.name]}; {default}")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _platform_names():
    """The profiles of data/platforms.toml by name, read without loading them (their device factors
    need pandas, which the geometry command never loads)."""
    from rxlab.cost.profiles import tomllib
    from rxlab.data import DATA_DIR

    return tuple(tomllib.loads((DATA_DIR / "platforms.toml").read_text(encoding="utf-8")))


def parser():
    from rxlab.model.config import MAX_PACKETS

    p = _Parser(prog="rxlab", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    g = sub.add_parser("geometry", help="a driver's RX buffer geometry for one configuration")
    from rxlab.model import config as c

    resolved = c.SimConfig()  # the defaults, resolved (MANA in the default release)
    ring, adapter = c.INT_RANGES["ring_size"], c.INT_RANGES["adapter_mtu"]
    g.add_argument("--driver", choices=_drivers(), default="mana",
                   help=f"the NIC driver, one of {', '.join(_drivers())}; default mana (the ranges below are MANA's)")
    g.add_argument("--page-size", type=int, default=4096,
                   help=f"PAGE_SIZE [bytes], one of {', '.join(map(str, _page_sizes()))} (x86_64: 4096 only); "
                        "default 4096")
    g.add_argument("--mtu", type=int, default=1500,
                   help=f"interface MTU [bytes], {ETH_MIN_MTU}..adapter_mtu - {ETH_HLEN}; default 1500")
    g.add_argument("--xdp", action="store_true", help="an XDP program is attached; default none")
    g.add_argument("--gro-hw", action=argparse.BooleanOptionalAction, default=None,
                   help="hardware GRO where the driver has it (ethtool -K rx-gro-hw; bnxt: TPA, whose aggregation "
                        "ring it needs at MTU 1500); default on")
    g.add_argument("--kernel", default=releases.DEFAULT,
                   help="Linux release: the defaults below and MANA's truesize follow it, one of "
                        f"{', '.join(releases.names())}; default {releases.DEFAULT}")
    g.add_argument("--variant", choices=_variants(), default=None,
                   help="pre: a page per buffer, post: the driver's fragments (MANA: before or after the fragment "
                        "patch 730ff06d3f5c), forced: MANA's one-buffer branch (seed 001's v3); "
                        f"default the release's ({resolved.spec.variant} in {resolved.kernel})")
    g.add_argument("--ring-size", type=int, default=None,
                   help=f"RX ring entries per queue [buffers], {_num(ring[0])}..{_num(ring[1])} (MANA's), "
                        f"rounded up to a power of two; default the release's ({resolved.ring_size} in "
                        f"{resolved.kernel})")
    g.add_argument("--queues", type=int, default=None,
                   help=f"RX queues of the NIC, 1..{c.INT_RANGES['queues'][1]} (MANA's); default the release's cap "
                        f"({resolved.queues} in {resolved.kernel})")
    g.add_argument("--arch", choices=tuple(ARCHES), default="arm64",
                   help=f"CPU architecture, one of {', '.join(ARCHES)}; default arm64")
    g.add_argument("--adapter-mtu", type=int, default=resolved.adapter_mtu,
                   help="MTU the adapter reports, including the Ethernet header [bytes], "
                        f"{adapter[0]}..{adapter[1]}; default {resolved.adapter_mtu}")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.set_defaults(run=_geometry)

    s = sub.add_parser("simulate", help="simulate the RX path for one configuration and print its counters")
    _config_options(s)
    platforms = _platform_names()
    s.add_argument("--platform", default=None, choices=platforms, metavar="NAME",
                   help="also price the run: the throughput ESTIMATE on this platform profile "
                        f"(data/platforms.toml), one of {', '.join(platforms)}; default none")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(run=_simulate)

    k = sub.add_parser("kernels", help="the Linux releases rxlab simulates, what each changes, and the commits")
    k.add_argument("--kernel", default=None,
                   help=f"one release, {', '.join(releases.names())}: every behaviour in force and its commit; "
                        "default all releases")
    k.add_argument("--json", action="store_true", help="print one JSON object")
    k.set_defaults(run=_kernels)

    w = sub.add_parser("sweep", help="run a grid of simulations (cached, in parallel) into a parquet file")
    w.add_argument("--grid", required=True,
                   help="TOML file: SimConfig fields with lists of values, or [[configs]] tables")
    w.add_argument("--out", default=None,
                   help="parquet file to write, one row per (configuration, seed); default the grid's name "
                        "with .parquet, in the current folder (examples/grid.toml -> grid.parquet)")
    w.add_argument("--seeds", type=int, default=None,
                   help="run seeds 0..N-1 of every configuration, N in 1..1000000; default each "
                        "configuration's own seed (its seed field, else 0)")
    w.add_argument("--workers", type=int, default=None, help="local processes; default one per CPU")
    w.add_argument("--scheduler", default=None, help="a Dask scheduler's address, e.g. tcp://host:8786")
    w.add_argument("--cache", default=None, help="result cache folder (default $RXLAB_CACHE_DIR or .rxlab-cache)")
    w.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: on unless $CI is set)")
    w.add_argument("--max-runs", type=int, default=None,
                   help="refuse a grid of more runs than this (default rxlab.studies.sweep.MAX_RUNS, 10000)")
    w.set_defaults(run=_sweep)

    c = sub.add_parser("claims", help="evaluate every seed claim in data/claims.csv with the model")
    c.add_argument("--packets", type=int, default=None,
                   help=f"packets per simulation behind the throughput claims, {defaults.CLAIMS_MIN}..{MAX_PACKETS} "
                        f"(fewer cannot support a verdict); default {defaults.CLAIMS.quick:,} (rxlab report uses "
                        f"{defaults.CLAIMS.full:,}, --quick {defaults.CLAIMS.quick:,})")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(run=_claims)

    r = sub.add_parser("report", help="execute every notebook and write standalone HTML reports")
    r.add_argument("--out", default="reports", help="output folder (default reports/)")
    r.add_argument("--quick", action="store_true",
                   help=f"run the notebooks in quick mode (few packets: the scoreboard {defaults.CLAIMS.quick:,} "
                        f"per simulation instead of {defaults.CLAIMS.full:,}); default off")
    r.add_argument("--notebooks", default=None, help="notebooks folder (default: the checkout's notebooks/)")
    r.set_defaults(run=_report)
    return p


# what an interrupted command leaves (README, "Interrupting")
_INTERRUPTED = {
    "sweep": "; every finished run is in the cache and the same command resumes",
    "report": "; the pages written are complete, index.html is the previous one",
}


def _one_line(text):
    return " ".join(str(text).split())


def _failure(e, command):
    """(exit status, message) for an exception that ends a command."""
    if isinstance(e, KeyboardInterrupt):
        signum = e.signum if isinstance(e, Interrupted) else signal.SIGINT
        return 128 + signum, f"interrupted by {signal.Signals(signum).name}{_INTERRUPTED.get(command, '')}"
    if isinstance(e, ValueError):
        return 2, f"error: {_one_line(e)}"
    if isinstance(e, SystemFailure):
        return 1, f"error: {_one_line(e)}"
    if isinstance(e, MemoryError):
        return 1, "error: out of memory" + (f" ({_one_line(e)})" if str(e) else "")
    if isinstance(e, OSError):
        where = f": {e.filename}" if e.filename else ""
        return 1, f"error: {_one_line(e.strerror or e)}{where}"
    return 1, f"internal error: {type(e).__name__}: {_one_line(e)} ({DEBUG_ENV}=1 shows the traceback)"


def _terminate(signum, frame):
    raise Interrupted(signum)


def _debug():
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def main(argv=None):
    args = parser().parse_args(argv)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None  # SIGTERM as Ctrl-C
    try:
        return args.run(args) or 0
    except BrokenPipeError:
        # the reader went away (rxlab simulate --json | head): stop quietly; later writes and
        # the interpreter's last flush go nowhere instead of raising again
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        if _debug():
            raise
        return 1
    except (Exception, KeyboardInterrupt) as e:
        if _debug():
            raise
        code, message = _failure(e, args.command)
        print(f"rxlab {args.command}: {message}", file=sys.stderr)
        return code
    finally:
        if main_thread and previous is not None:  # None: a handler not set from Python, left alone
            signal.signal(signal.SIGTERM, previous)
