"""The seed threads' measurements as rxlab simulates them: seed 000's 64 KB test, seed 001's
connection table, and the runs, priced tables and gains the claims (rxlab.studies.claims) and
notebooks 02-04 read.

Simulations run through ``rxlab.studies.sweep.sweep_rows`` (one sweep per batch of
configurations, served from the result cache when a run is there) and are read from their tidy
rows (``Result.to_frame()``). Only what a row does not hold (the len/truesize histogram, the
receive-memory samples, per-connection state) comes from a ``Result`` itself.
"""

import numpy as np
import pandas as pd

from rxlab.cost.pricing import ESTIMATE_NOTE, throughput
from rxlab.cost.profiles import load_platforms
from rxlab.cost.whatif import gain_band, gain_ends, gain_pct
from rxlab.data import load_connection_table
from rxlab.errors import bad, is_int
from rxlab.model import defaults
from rxlab.model.config import MAX_PACKETS, SimConfig
from rxlab.model.simulate import simulate
from rxlab.studies.sweep import sweep_rows

# Seed 001's measurement, as rxlab simulates it: 4 KB pages, MTU 1500, MANA's 16 queues at
# 200 Gbps. ring_size 256 (not 1024) so that tens of thousands of packets wrap every ring many
# times (steady state); defer_free=False frees skbs on the reading CPU, the cross-CPU refcount
# traffic the reviewer asked about. (With defer on, net/core/skbuff.c skb_attempt_defer_free()
# frees on the reading CPU only past net.core.skb_defer_max, SimConfig.skb_defer_max.)
SEED001 = {"page_size": 4096, "mtu": 1500, "queues": 16, "ring_size": 256, "defer_free": False, "link_gbps": 200.0}
# Seed 000's test: iperf3's default single stream on a 64 KB-page ARM64 VM, MANA defaults.
SEED000 = {"page_size": 65536, "mtu": 1500, "arch": "arm64", "connections": 1, "queues": 16, "link_gbps": 200.0}
QUICK_PACKETS, FULL_PACKETS = defaults.CLAIMS  # rxlab claims and report --quick; rxlab report
# The release seed 000's "~200%" is evaluated on: the patch (730ff06d3f5c) was posted to and applied on
# net-next in August 2025 (its Link: 20250814...; the SRU says "backported from commit 730ff06d3f5c
# linux-next"), so its author measured net-next after v6.17-rc1, the tree that became 6.18 but had not
# yet f017c1f768b6 (6.18's tcp_can_ingest by skb->len, applied 2025-09-27): everything rxlab's 6.17 row
# has (1d2fbaad7cd8's admission by truesize, the 6.16 autotuning and 32 MB tcp_rmem[2]), without the
# patch itself, which rxlab's 6.18 row adds.
SEED000_KERNEL = "6.17"
SEED000_KERNEL_WHY = ("Linux 6.17: the patch was applied to net-next in Aug 2025 (Link 20250814), so it was "
                      "measured on net-next after v6.17-rc1, before f017c1f768b6 (6.18)")
# The kernels a tester of seed 000's claim could have run: the claim does not say which, and the
# answer depends on it (the admission rule of 1d2fbaad7cd8 and its fixes, tcp_rmem[2]). Each with why.
SEED000_KERNELS = (
    (SEED000_KERNEL, "net-next after v6.17-rc1, where 730ff06d3f5c was applied (Link 20250814)"),
    ("6.18", "6.18.0, the first release with 730ff06d3f5c"),
    ("6.18.17", "6.18 stable from 6.18.17, with 026dfef287c0 backported"),
    ("6.1", ("Ubuntu jammy linux-azure, the backport's target (SRU of 2025-12-05, Launchpad bug 2133750): a "
             "5.15-based kernel, whose TCP receive side (tcp_adv_win_scale, 6 MB tcp_rmem[2], pruning once "
             "sk_rmem_alloc > sk_rcvbuf) is the table's oldest row's; uncertain")),
)


# What the seeds do not say, and what decides some rows: which queues RSS puts the flows on (each
# flow's source port, drawn from SimConfig.seed, rxlab.kernel.rss) and how many queues the VM had.
# MANA started with min(num_online_cpus(), 64) queues until 45b2b84ac6fd (7.1) made it 16, and the
# seeds' VMs' CPU counts are not stated: 16, 32 and 64 queues are all plausible.
SPREAD_SEEDS = tuple(range(8))
PLAUSIBLE_QUEUES = (16, 32, 64)
SPREAD = tuple((s, q) for q in PLAUSIBLE_QUEUES for s in SPREAD_SEEDS)
"""The (RSS seed, queues) variants a headline row is computed over: its spread."""
SPREAD_TEXT = (f"{len(SPREAD_SEEDS)} RSS seeds x {', '.join(map(str, PLAUSIBLE_QUEUES))} queues")


def seed001_table(arch="arm64", packets=QUICK_PACKETS, cache=None, variants=((0, SEED001["queues"]),)):
    """Seed 001's table (connections x {pp_frag, full_page}) simulated under :data:`SEED001` for
    each (RSS seed, queues) of ``variants``, in one sweep (``cache``: see ``sweep_rows``): tidy rows
    of Result.to_frame() with the measured Gbps in column ``gbps``."""
    points, gbps = [], []
    for seed, queues in variants:
        for _, m in load_connection_table().iterrows():
            for strategy, col in (("pp_frag", "gbps_frag"), ("full_page", "gbps_full_page")):
                points.append({**SEED001, "queues": queues, "seed": seed, "strategy": strategy,
                               "connections": int(m["connections"]), "arch": arch, "packets": packets})
                gbps.append(float(m[col]))
    rows = sweep_rows(points, cache=cache)
    rows["gbps"] = gbps
    return rows


class Runs:
    """Runs and profiles shared by the studies of one scoreboard or notebook: each configuration
    simulated (or read from the cache) once, each table priced once."""

    def __init__(self, packets, cache=None):
        if not is_int(packets) or not defaults.CLAIMS_MIN <= packets <= MAX_PACKETS:
            raise bad("packets", packets, f"{defaults.CLAIMS_MIN}..{MAX_PACKETS} (fewer packets per simulation "
                      "cannot support a verdict: rxlab.model.defaults.CLAIMS_MIN)")
        self.packets = int(packets)
        self.cache = cache
        self.profiles = load_platforms()
        self._rows = {}
        self._results = {}
        self._tables = {}
        self._priced = {}

    def runs(self, *points):
        """One tidy row per point (SimConfig fields; ``packets`` is the scoreboard's), in order:
        the rows not seen yet in one sweep."""
        cfgs = [SimConfig(packets=self.packets, **p) for p in points]
        todo = list(dict.fromkeys(c for c in cfgs if c not in self._rows))
        if todo:
            df = sweep_rows(todo, cache=self.cache)
            for i, c in enumerate(todo):
                self._rows[c] = df.iloc[[i]]
        return pd.concat([self._rows[c] for c in cfgs], ignore_index=True)

    def result(self, **kw):
        """The Result of one run, for what its tidy row does not hold (histograms, samples)."""
        key = tuple(sorted(kw.items()))
        if key not in self._results:
            self._results[key] = simulate(SimConfig(packets=self.packets, **kw))
        return self._results[key]

    def seed001_rows(self, platform, spread=False):
        """seed001_table() for the platform's arch (run once per arch): at RSS seed 0 and SEED001's
        16 queues, or (``spread``) for every variant of :data:`SPREAD`."""
        key = (self.profiles[platform].arch, spread)
        if key not in self._tables:
            self._tables[key] = seed001_table(key[0], self.packets, self.cache, SPREAD if spread else
                                              ((0, SEED001["queues"]),))
        return self._tables[key]

    def table(self, platform, device_factor=True, spread=False):
        """Seed 001's rows priced on ``platform``: seed, queues, connections, strategy, measured,
        and every column of ``throughput`` (``device_factor=False``: the CPU model alone;
        ``spread``: every variant of :data:`SPREAD`)."""
        key = (platform, device_factor, spread)
        if key not in self._priced:
            df = self.seed001_rows(platform, spread)
            tp = throughput(df, self.profiles[platform], device_factor)
            self._priced[key] = pd.concat([df[["seed", "queues", "connections", "strategy"]],
                                           df["gbps"].rename("measured"), tp], axis=1)
        return self._priced[key]

    def spread(self, platform, figure, device_factor=False):
        """``figure`` (a function of one variant's priced table, :meth:`table`, to a number or a
        (value, low, high)) for every (RSS seed, queues) of :data:`SPREAD`: {(seed, queues): its result}."""
        t = self.table(platform, device_factor, spread=True)
        return {(s, q): figure(g) for (s, q), g in t.groupby(["seed", "queues"], sort=False)}


def shortfall(t):
    """Per connection count of a priced seed 001 table (:meth:`Runs.table`): frag Gbps, full-page
    Gbps, ``shortfall``: % of fragments behind full pages (minus their gain over full pages,
    :func:`rxlab.cost.whatif.gain_ends`), and its band ``shortfall_low``.. ``shortfall_high``;
    each layout's Gbps band and what binds each (``frag/full``)."""
    def pv(col):
        return t.pivot(index="connections", columns="strategy", values=col)

    w = pv("gbps")
    gain, low, high = gain_ends(*({c: pv(c)[s] for c in ("gbps", "gbps_low", "gbps_high")}
                                  for s in ("full_page", "pp_frag")))
    w["shortfall"], w["shortfall_low"], w["shortfall_high"] = -gain + 0.0, -high + 0.0, -low + 0.0  # no -0.0
    for c in ("gbps_low", "gbps_high"):
        w[f"pp_frag_{c[5:]}"], w[f"full_page_{c[5:]}"] = pv(c)["pp_frag"], pv(c)["full_page"]
    b = pv("binds")
    w["binds"] = b["pp_frag"] + "/" + b["full_page"]
    return w


CPU_CLASSES = {"napi": "RX cores", "reader": "reading cores"}


def cpu_use(t):
    """Per connection count of a priced seed 001 table (:meth:`Runs.table`), what each layout asks of
    each CPU class: ``util_<class>_<strategy>``, the share of that class's capacity the estimate uses
    (what ``mpstat`` would show), and ``more_<class>``: how much more of that class's capacity
    fragments need than full pages to carry the line rate, in percent, with ``more_<class>_low`` ..
    ``_high`` (:func:`rxlab.cost.whatif.gain_ends`, both layouts priced at the same parameter ends).
    Where the line binds, the capacity needed is the utilisation; at a band's end where a CPU class
    binds instead it is more than 1 (the utilisation times line rate over Gbps at that end), so the
    comparison does not stop at a saturated class. ``busiest``: the class with the higher
    utilisation in either layout, the one that binds first as the load grows, and ``more``,
    ``more_low``, ``more_high``: its figures. Where the line binds both layouts, this is what can
    still tell them apart."""
    def pv(col):
        return t.pivot(index="connections", columns="strategy", values=col)

    line = pv("gbps_line")
    w = pd.DataFrame(index=line.index)
    for cls in CPU_CLASSES:
        u = f"util_{cls}"
        need = {u + e: pv(u + a) * line / pv("gbps" + g)
                for e, a, g in (("", "", ""), ("_low", "_at_low", "_low"), ("_high", "_at_high", "_high"))}
        for s in ("pp_frag", "full_page"):
            w[f"{u}_{s}"] = pv(u)[s]
        more = gain_ends(*({c: v[s] for c, v in need.items()} for s in ("full_page", "pp_frag")), u)
        w[f"more_{cls}"], w[f"more_{cls}_low"], w[f"more_{cls}_high"] = (m + 0.0 for m in more)
    busy = {cls: np.maximum(w[f"util_{cls}_pp_frag"], w[f"util_{cls}_full_page"]) for cls in CPU_CLASSES}
    w["busiest"] = np.where(busy["napi"] >= busy["reader"], "napi", "reader")
    for k in ("", "_low", "_high"):
        w[f"more{k}"] = np.where(w["busiest"] == "napi", w[f"more_napi{k}"], w[f"more_reader{k}"])
    return w


def measured_shortfall(t):
    """The seed's own shortfall (%) by connection count, from the ``measured`` column of a priced table."""
    m = t.pivot(index="connections", columns="strategy", values="measured")
    return -gain_pct(m["full_page"], m["pp_frag"]) + 0.0  # no -0.0


def seed001_comparison(packets=QUICK_PACKETS, platforms=("affected_arm64", "typical_arm64", "x86_64_server"),
                       measured_on="affected_arm64", cache=None):
    """Seed 001's table against the model, tidy, one row per platform and connection count:

    * ``measured_frag``, ``measured_full_page``, ``shortfall_measured``: the table (only on the SKU
      it was measured on, else NaN);
    * ``model_frag``, ``model_full_page``, ``binds``, ``shortfall_model``: the profile as stored, so
      with its empirical device factor where it has one (which reproduces the table by
      construction), and ``device_frag``, ``device_full_page``: that factor (NaN: none);
    * ``cpu_frag``, ``cpu_full_page``, ``cpu_binds``, ``shortfall_cpu``: the CPU model alone (device
      factor off), each with ``_low`` and ``_high``: its band (every parameter at its high end
      gives ``_low`` Gbps; the shortfall's band is the smallest and largest of the three).

    ``cache``: the result cache (see ``sweep_rows``)."""
    ctx = Runs(packets, cache)
    out = []
    for name in platforms:
        t = ctx.table(name)
        w, cpu = shortfall(t), shortfall(ctx.table(name, device_factor=False))
        m = t.pivot(index="connections", columns="strategy", values="measured")
        f = t.pivot(index="connections", columns="strategy", values="device_factor")
        measured = measured_shortfall(t)
        if name != measured_on:
            m[:] = measured[:] = np.nan
        out.append(pd.DataFrame({
            "platform": name, "connections": w.index, "measured_frag": m["pp_frag"].values,
            "measured_full_page": m["full_page"].values, "model_frag": w["pp_frag"].values,
            "model_full_page": w["full_page"].values, "binds": w["binds"].values,
            "shortfall_measured": measured.values,
            "shortfall_model": w["shortfall"].values,
            "device_frag": f["pp_frag"].values, "device_full_page": f["full_page"].values,
            "cpu_frag": cpu["pp_frag"].values, "cpu_frag_low": cpu["pp_frag_low"].values,
            "cpu_frag_high": cpu["pp_frag_high"].values, "cpu_full_page": cpu["full_page"].values,
            "cpu_full_page_low": cpu["full_page_low"].values, "cpu_full_page_high": cpu["full_page_high"].values,
            "cpu_binds": cpu["binds"].values, "shortfall_cpu": cpu["shortfall"].values,
            "shortfall_cpu_low": cpu["shortfall_low"].values, "shortfall_cpu_high": cpu["shortfall_high"].values}))
    df = pd.concat(out, ignore_index=True)
    df.attrs["note"] = ESTIMATE_NOTE
    return df


def shortfall_spread(connections=(4,), platform="affected_arm64", packets=QUICK_PACKETS, cache=None):
    """Seed 001's rows at ``connections`` for every (RSS seed, queues) of :data:`SPREAD`, priced on
    ``platform`` by the CPU model alone (device factor off): one row per variant and connection count
    with the RX queues RSS kept busy, what binds (frag/full), each layout's Gbps and the shortfall of
    fragments behind full pages with its band. What the unstated inputs do to a row."""
    prof = load_platforms()[platform]
    points = [{**SEED001, "queues": q, "seed": sd, "strategy": s, "connections": int(c), "arch": prof.arch,
               "packets": packets} for sd, q in SPREAD for c in connections for s in ("pp_frag", "full_page")]
    rows = sweep_rows(points, cache=cache)
    t = pd.concat([rows[["seed", "queues", "connections", "strategy", "rx_queues_busy"]],
                   throughput(rows, prof, device_factor=False)], axis=1)
    out = []
    for (sd, q), g in t.groupby(["seed", "queues"], sort=False):
        w = shortfall(g)
        busy = g.pivot(index="connections", columns="strategy", values="rx_queues_busy")["pp_frag"]
        out.append(pd.DataFrame({"seed": sd, "queues": q, "connections": w.index, "rx_queues_busy": busy.values,
                                 "binds": w["binds"].values, "gbps_frag": w["pp_frag"].values,
                                 "gbps_full_page": w["full_page"].values, "shortfall_cpu": w["shortfall"].values,
                                 "shortfall_cpu_low": w["shortfall_low"].values,
                                 "shortfall_cpu_high": w["shortfall_high"].values}))
    df = pd.concat(out, ignore_index=True)
    df.attrs["note"] = ESTIMATE_NOTE
    return df


GAIN_KERNELS = ("6.1", "6.6", "6.13", "6.16", "6.17", "6.18", "6.18.17", "7.1")
# How soon a reader runs once its data wakes it (SimConfig.wake_us, the median of its scheduling
# latency), which no seed states: data/read_model.md's range, an idle CPU (iovisor/bcc pull request
# 4713), a busy two-socket box (schbench -L -m 4, sched-ext/scx pull requests 1939 and 2477) and
# schbench's default load (intel/lkp-tests pull request 196). "periodic" is the fixed-period what-if.
READERS = (("idle", {"wake_us": 2.0}), ("busy", {"wake_us": 10.0}), ("loaded", {"wake_us": 48.0}))
PERIODIC_READER = ("periodic 50 µs", {"reader": "periodic", "app_read_us": 50.0})
TRAP_SEEDS = tuple(range(4))
"""The seeds (RSS placement and every draw, wake-up latencies among them) a flow's fate is counted over
where its first round trips decide whether it is trapped."""


def gain_across_releases(kernels=GAIN_KERNELS, tcp_rmem=(None,), rtt_us=(50.0,), connections=(1,),
                         readers=READERS[:1], seeds=(0,), platform="typical_arm64", packets=QUICK_PACKETS,
                         cache=None):
    """Seed 000's 64 KB gain (pp_frag over full_page, SEED000 otherwise) for every combination of
    release, ``tcp_rmem`` (None: the release's tcp_rmem[2]), RTT, stream count and reader (``readers``:
    (name, SimConfig fields) such as :data:`READERS`), over ``seeds``, priced on ``platform``: one row
    each with the share of seeds in which a flow of either layout is trapped (Result.trapped()), the
    gain (percent, ESTIMATE: the median over the seeds that are not) and its band (the widest of
    theirs), both strategies' Gbps and what binds them in the first seed not trapped, and the full
    pages' drops for receive memory. Where every seed traps a flow, ``trapped`` is True and the gain,
    its band and the Gbps are NaN (a trapped flow gives no figure) and what binds is "trapped". Runs go
    through :func:`rxlab.studies.sweep.sweep_rows` (``cache``: see there), so a second call is served
    from it."""
    prof = load_platforms()[platform]
    points, keys = [], []
    for k in kernels:
        for rmem in tcp_rmem:
            for rtt in rtt_us:
                for conns in connections:
                    for name, reader in readers:
                        keys.append((k, rmem, rtt, conns, name))
                        for sd in seeds:
                            base = {**SEED000, "kernel": k, "rtt_us": float(rtt), "connections": int(conns),
                                    "packets": packets, "seed": sd, **reader,
                                    **({} if rmem is None else {"tcp_rmem": int(rmem)})}
                            points += [{**base, "strategy": "full_page"}, {**base, "strategy": "pp_frag"}]
    cfgs = [SimConfig(**p) for p in points]
    todo = list(dict.fromkeys(cfgs))  # the same run twice (a release's own tcp_rmem given) runs once
    df = sweep_rows(todo, cache=cache)
    at = {c: i for i, c in enumerate(todo)}
    df = df.iloc[[at[c] for c in cfgs]].reset_index(drop=True)
    full, frag = df.iloc[0::2].reset_index(drop=True), df.iloc[1::2].reset_index(drop=True)
    gain, low, high = (np.asarray(v, float) for v in gain_band(full, frag, prof))
    tu, tf = throughput(full, prof), throughput(frag, prof)
    trapped = (full["trapped_connections"].to_numpy() > 0) | (frag["trapped_connections"].to_numpy() > 0)
    n = len(seeds)
    rows = []
    for i, key in enumerate(keys):
        run = slice(i * n, (i + 1) * n)
        free = np.flatnonzero(~trapped[run]) + i * n
        j = free[0] if len(free) else i * n
        rows.append({
            "kernel": key[0], "tcp_rmem": int(full["tcp_rmem"].iloc[j]), "rtt_us": key[2], "connections": key[3],
            "reader": key[4], "trapped_share": float(trapped[run].mean()),
            "gain_pct": float(np.median(gain[free])) if len(free) else np.nan,
            "gain_low": float(low[free].min()) if len(free) else np.nan,
            "gain_high": float(high[free].max()) if len(free) else np.nan,
            "gbps_frag": float(tf["gbps"].iloc[j]) if len(free) else np.nan,
            "gbps_full": float(tu["gbps"].iloc[j]) if len(free) else np.nan,
            "binds_frag": tf["binds"].iloc[j] if len(free) else "trapped",
            "binds_full": tu["binds"].iloc[j] if len(free) else "trapped",
            "full_rcvq_drops": int(full["TCPRcvQDrop"].iloc[j]), "trapped": not len(free),
        })
    out = pd.DataFrame(rows)
    out.attrs["note"] = ESTIMATE_NOTE
    return out
