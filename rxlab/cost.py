"""The throughput cost model: platform profiles, cycles per packet by operation, throughput.

An ESTIMATE. Memory and operation counts come exactly from the simulation; what each
operation costs in CPU cycles does not: it comes from a platform profile
(``data/platforms.toml``) in which every parameter carries its source (a published
benchmark, a paper, an assumption stated as such, or a fit to a measured table).

Everything here works on the tidy row of ``Result.to_frame()`` (configuration columns,
every counter, every metric), so results cached on disk can be priced under any profile
without simulating again. Functions take one row or a whole frame and are vectorised.

throughput = min(line rate, CPU capacity of the RX cores, what the TCP windows allowed
in the simulation); ``binds`` names which of the three is the smallest.
"""

import math
import re
import sys
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from rxlab.data import DATA_DIR
from rxlab.engine.loop import ACK_LEN, WIRE_OVERHEAD
from rxlab.errors import bad, check_choice
from rxlab.kernel.sizes import ARCHES
from rxlab.result import TCP_IP_HEADERS
from rxlab.simulate import rss_queue

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ESTIMATE_NOTE = ("ESTIMATE: operation counts are simulated exactly; cycles per operation come from the "
                 "platform profile, each with its source (data/platforms.toml)")
# the simulation's goodput is "window-limited" when it falls this far below its own line rate;
# above it the sender was limited by the link (and a few bytes still queued at the end)
WINDOW_SLACK = 0.97
BOUNDS = ("line", "cpu", "window")

# name -> (lo, hi, unit, meaning). Cycles are per operation on one RX (NAPI) core.
PARAMS = {
    "clock_ghz": (0.5, 6.0, "GHz", "core clock of the RX cores"),
    "link_gbps": (1.0, 1600.0, "Gbps", "NIC line rate"),
    "rx_cores": (1, 512, "cores", "cores serving RX queues (one NAPI context each)"),
    "iommu": (0, 1, "0/1", "DMA goes through an IOMMU (1) or dma-direct (0)"),
    "stack_per_packet": (50.0, 20000.0, "cycles", "fixed per-packet cost: CQE, napi_build_skb, GRO, IP/TCP input"),
    "pp_alloc_fast": (0.0, 1000.0, "cycles", "page_pool alloc from the alloc cache"),
    "pp_recycle_cached": (0.0, 1000.0, "cycles", "page_pool direct recycle into the alloc cache"),
    "ptr_ring_produce": (0.0, 5000.0, "cycles", "a page into a pool's ptr_ring"),
    "ptr_ring_consume": (0.0, 5000.0, "cycles", "a page out of a pool's ptr_ring"),
    "pp_frag_alloc": (0.0, 1000.0, "cycles", "page_pool_alloc_frag bookkeeping per fragment"),
    "page_frag_alloc": (0.0, 1000.0, "cycles", "page_frag cache bookkeeping per fragment"),
    "page_alloc_order0": (0.0, 20000.0, "cycles", "page allocator: one order-0 page out"),
    "page_free_order0": (0.0, 20000.0, "cycles", "page allocator: one order-0 page back"),
    "page_alloc_order1": (0.0, 20000.0, "cycles", "page allocator: one order-1 page out"),
    "page_free_order1": (0.0, 20000.0, "cycles", "page allocator: one order-1 page back"),
    "page_alloc_order2": (0.0, 20000.0, "cycles", "page allocator: one order-2 page out"),
    "page_free_order2": (0.0, 20000.0, "cycles", "page allocator: one order-2 page back"),
    "page_alloc_order3": (0.0, 50000.0, "cycles", "page allocator: one page of order >= 3 out"),
    "page_free_order3": (0.0, 50000.0, "cycles", "page allocator: one page of order >= 3 back"),
    "atomic_rmw": (1.0, 2000.0, "cycles", "atomic RMW on a line this CPU holds (uncontended)"),
    "atomic_rmw_remote": (1.0, 20000.0, "cycles", "atomic RMW on a line last written by another CPU"),
    "refcnt_store": (0.0, 100.0, "cycles", "plain store to a refcount in a local line"),
    "cacheline_transfer": (1.0, 20000.0, "cycles", "plain read/store of a line last written by another CPU"),
    "dma_map": (0.0, 20000.0, "cycles", "dma_map_single without IOMMU"),
    "dma_unmap": (0.0, 20000.0, "cycles", "dma_unmap_single without IOMMU"),
    "dma_sync_dev": (0.0, 20000.0, "cycles", "dma_sync_single_for_device without IOMMU"),
    "dma_map_iommu": (0.0, 100000.0, "cycles", "dma_map_single through an IOMMU"),
    "dma_unmap_iommu": (0.0, 100000.0, "cycles", "dma_unmap_single through an IOMMU (IOTLB invalidation)"),
    "dma_sync_dev_iommu": (0.0, 100000.0, "cycles", "dma_sync_single_for_device through an IOMMU"),
    "copy_per_byte": (0.0, 10.0, "cycles/byte", "copy-break: packet bytes copied from a just-DMA'd buffer"),
    "kmalloc_small": (0.0, 5000.0, "cycles", "a small kmalloc'ed skb head (copy-break)"),
}
INT_PARAMS = ("rx_cores", "iommu")

# (category, operation, counter(s) it counts, parameter); counts are per received packet.
# A counter expression "a-b" subtracts (the remote part of a total is priced separately), "a+b" adds.
OPERATIONS = (
    ("stack", "per-packet stack (CQE, napi_build_skb, GRO, TCP)", "packets", "stack_per_packet"),
    ("page_pool", "alloc_fast", "alloc_fast", "pp_alloc_fast"),
    ("page_pool", "recycle_cached", "recycle_cached", "pp_recycle_cached"),
    ("page_pool", "ptr_ring_produce", "ptr_ring_produce", "ptr_ring_produce"),
    ("page_pool", "ptr_ring_consume", "ptr_ring_consume", "ptr_ring_consume"),
    ("page_pool", "pp_frag_alloc", "pp_frag_alloc", "pp_frag_alloc"),
    ("page_frag", "page_frag_alloc", "page_frag_alloc", "page_frag_alloc"),
    ("page_allocator", "page_alloc_order0", "page_alloc_order0", "page_alloc_order0"),
    ("page_allocator", "page_free_order0", "page_free_order0", "page_free_order0"),
    ("page_allocator", "page_alloc_order1", "page_alloc_order1", "page_alloc_order1"),
    ("page_allocator", "page_free_order1", "page_free_order1", "page_free_order1"),
    ("page_allocator", "page_alloc_order2", "page_alloc_order2", "page_alloc_order2"),
    ("page_allocator", "page_free_order2", "page_free_order2", "page_free_order2"),
    ("page_allocator", "page_alloc_order3", "page_alloc_order3", "page_alloc_order3"),
    ("page_allocator", "page_free_order3", "page_free_order3", "page_free_order3"),
    ("refcount", "atomic_rmw (local)", "atomic_rmw-atomic_rmw_remote", "atomic_rmw"),
    ("refcount", "atomic_rmw_remote", "atomic_rmw_remote", "atomic_rmw_remote"),
    ("refcount", "skb_dataref_rmw", "skb_dataref_rmw", "atomic_rmw"),
    ("refcount", "refcnt_store (local)", "refcnt_store-refcnt_store_remote", "refcnt_store"),
    ("refcount", "refcnt_store_remote", "refcnt_store_remote", "cacheline_transfer"),
    ("refcount", "refcnt_read_remote", "refcnt_read_remote", "cacheline_transfer"),
    ("dma", "dma_map", "dma_map", "dma_map"),
    ("dma", "dma_unmap", "dma_unmap", "dma_unmap"),
    ("dma", "dma_sync_dev", "dma_sync_dev", "dma_sync_dev"),
    ("copy", "bytes_copied", "bytes_copied", "copy_per_byte"),
    ("copy", "skb_small_head", "skb_small_head", "kmalloc_small"),
    # skb_attempt_defer_free(): atomic_long_inc_return() of the NAPI CPU's defer_count on every
    # attempt (its line last written over there), then, if not full, llist_add() beside it
    ("skb_defer", "skb_attempt_defer_free: defer_count inc", "skb_defer_free+skb_defer_full", "atomic_rmw_remote"),
    ("skb_defer", "skb_defer_free: llist_add", "skb_defer_free", "atomic_rmw"),
)
DMA_IOMMU = {"dma_map": "dma_map_iommu", "dma_unmap": "dma_unmap_iommu", "dma_sync_dev": "dma_sync_dev_iommu"}


@dataclass(frozen=True)
class Profile:
    """One platform: every parameter of :data:`PARAMS` with its value and its source."""

    name: str
    description: str
    arch: str = "arm64"
    values: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)

    def __post_init__(self):
        validate_profile(self)

    def __getitem__(self, name):
        return self.values[name]

    def with_values(self, source=None, **values):
        """A copy with some parameters changed (validated); ``source`` replaces their sources."""
        unknown = sorted(set(values) - set(PARAMS))
        if unknown:
            raise bad(f"{self.name}.{unknown[0]}", values[unknown[0]], "one of " + ", ".join(PARAMS))
        src = dict(self.sources)
        for k in values:
            src[k] = source if source is not None else src.get(k, "")
        return replace(self, values={**self.values, **values}, sources=src)

    def frame(self):
        """Tidy: parameter, value, unit, meaning, source."""
        return pd.DataFrame([{"platform": self.name, "parameter": k, "value": self.values[k],
                              "unit": PARAMS[k][2], "meaning": PARAMS[k][3], "source": self.sources[k]}
                             for k in PARAMS])


def validate_profile(p):
    """Every parameter present, numeric, in range, with a non-empty source; errors name platform and field."""
    check_choice(f"{p.name}.arch", p.arch, tuple(ARCHES))
    missing = [k for k in PARAMS if k not in p.values]
    if missing:
        raise bad(f"{p.name}.{missing[0]}", None, "required: a value and a source")
    unknown = sorted(set(p.values) - set(PARAMS))
    if unknown:
        raise bad(f"{p.name}.{unknown[0]}", p.values[unknown[0]], "one of " + ", ".join(PARAMS))
    for k, (lo, hi, unit, _) in PARAMS.items():
        v = p.values[k]
        if k in INT_PARAMS:
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                raise bad(f"{p.name}.{k}", v, f"an integer in {lo}..{hi} ({unit})")
        elif isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not lo <= v <= hi \
                or math.isnan(v):
            raise bad(f"{p.name}.{k}", v, f"a number in {lo}..{hi} ({unit})")
        if not isinstance(p.sources.get(k), str) or not p.sources[k].strip():
            raise bad(f"{p.name}.{k}.source", p.sources.get(k), "a non-empty string saying where the value comes from")


def load_platforms(path=None):
    """``data/platforms.toml`` -> {name: Profile}. Each ``[name]`` table has ``arch``, ``description`` and
    one inline table ``param = { value = ..., source = "..." }`` per parameter."""
    path = DATA_DIR / "platforms.toml" if path is None else path
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    out = {}
    for name, table in doc.items():
        values, sources, arch = {}, {}, table.get("arch", "arm64")
        if "base" in table:  # a variant: the base profile's parameters, then its own
            base = out.get(table["base"])
            if base is None:
                raise bad(f"{name}.base", table["base"], "a platform defined above it: " + ", ".join(out))
            values, sources, arch = dict(base.values), dict(base.sources), table.get("arch", base.arch)
        for k, v in table.items():
            if k in ("description", "arch", "base"):
                continue
            if not isinstance(v, dict) or set(v) != {"value", "source"}:
                raise bad(f"{name}.{k}", v, "an inline table { value = ..., source = \"...\" }")
            values[k], sources[k] = v["value"], v["source"]
        out[name] = Profile(name, table.get("description", ""), arch, values, sources)
    return out


def platform(name):
    """One profile of ``data/platforms.toml`` by name."""
    profiles = load_platforms()
    if name not in profiles:
        raise bad("platform", name, "one of " + ", ".join(profiles))
    return profiles[name]


NEEDED = ("packets", "mtu", "ack_fraction", "connections", "queues", "link_gbps", "goodput_gbps")


def _frame(rows):
    if isinstance(rows, pd.DataFrame):
        df = rows.reset_index(drop=True)
    elif isinstance(rows, pd.Series):
        df = rows.to_frame().T.reset_index(drop=True)
    elif hasattr(rows, "to_frame"):  # a Result
        return rows.to_frame()
    else:
        raise bad("rows", type(rows).__name__, "a Result, a tidy row (Series) or frame of Result.to_frame()")
    counters = {part for _, _, expr, _ in OPERATIONS for part in re.split("[-+]", expr)}
    missing = sorted((counters | set(NEEDED)) - set(df.columns))
    if missing:
        raise bad(f"rows[{missing[0]!r}]", None, "a column of Result.to_frame() (configuration, every counter, "
                  "every metric)")
    return df


def _count(df, expr):
    a, op, b = re.split("([-+])", expr) if re.search("[-+]", expr) else (expr, "", "")
    v = df[a].astype(float)
    return v + (df[b].astype(float) if op == "+" else -df[b].astype(float)) if op else v


def _param(profile, name):
    return DMA_IOMMU[name] if profile["iommu"] and name in DMA_IOMMU else name


def rx_cores_busy(df, profile):
    """RX cores doing work: the queues RSS spreads the connections over (rxlab.simulate.rss_queue),
    at most the profile's ``rx_cores``."""
    pairs = df[["connections", "queues"]].astype(int)
    hit = {(c, q): len({rss_queue(i, q) for i in range(c)}) for c, q in set(map(tuple, pairs.values))}
    busy = np.array([hit[(c, q)] for c, q in pairs.values], float)
    return np.minimum(busy, profile["rx_cores"])


def _payload_fraction(df):
    """Payload bits per wire bit, and payload bytes per received packet."""
    mtu = df["mtu"].astype(float)
    a = df["ack_fraction"].astype(float)
    payload = (1 - a) * (mtu - TCP_IP_HEADERS)
    return payload / ((1 - a) * (mtu + WIRE_OVERHEAD) + a * (ACK_LEN + WIRE_OVERHEAD)), payload


def _per_packet(df, profile):
    """(counts per received packet: rows x OPERATIONS, the parameter pricing each operation)."""
    pk = df["packets"].astype(float).clip(lower=1).to_numpy()
    counts = np.column_stack([pk if expr == "packets" else _count(df, expr).to_numpy()
                              for _, _, expr, _ in OPERATIONS]) / pk[:, None]
    return counts, [_param(profile, p) for *_, p in OPERATIONS]


def attribution_frame(rows, profile):
    """Long form, a "perf top" of the model: per row (``row`` index), category, operation, counter,
    count per packet, parameter, cycles per op, cycles per packet, share, source."""
    df = _frame(rows)
    counts, names = _per_packet(df, profile)
    cyc = np.array([float(profile[n]) for n in names])
    n_rows, n_ops = counts.shape
    att = pd.DataFrame({
        "row": np.repeat(df.index.to_numpy(), n_ops), "platform": profile.name,
        "category": np.tile([o[0] for o in OPERATIONS], n_rows),
        "operation": np.tile([o[1] for o in OPERATIONS], n_rows),
        "counter": np.tile([o[2] for o in OPERATIONS], n_rows),
        "count_per_packet": counts.ravel(), "parameter": np.tile(names, n_rows),
        "cycles_per_op": np.tile(cyc, n_rows), "cycles_per_packet": (counts * cyc).ravel(),
        "source": np.tile([profile.sources[n] for n in names], n_rows),
    })
    att["share"] = att["cycles_per_packet"] / att.groupby("row")["cycles_per_packet"].transform("sum")
    att = att.sort_values(["row", "cycles_per_packet"], ascending=[True, False], kind="stable", ignore_index=True)
    att.attrs["note"] = ESTIMATE_NOTE
    return att


def cycles_per_packet(rows, profile):
    """Modelled RX-core cycles per received packet, one value per row (numpy array)."""
    counts, names = _per_packet(_frame(rows), profile)
    return counts @ np.array([float(profile[n]) for n in names])


def throughput(rows, profile):
    """The throughput estimate for each row of a Result.to_frame() frame (or one Result/row).

    Columns: platform, cycles_per_packet, rx_cores, pps_per_core, gbps_line, gbps_cpu,
    gbps_window (inf when the simulation was not window-limited), gbps (the smallest),
    binds (line / cpu / window), note. Gbps are TCP payload (goodput).
    """
    df = _frame(rows)
    frac, payload = _payload_fraction(df)
    cyc = cycles_per_packet(df, profile)
    cores = rx_cores_busy(df, profile)
    pps = profile["clock_ghz"] * 1e9 / cyc
    line = profile["link_gbps"] * frac.to_numpy()
    cpu = cores * pps * payload.to_numpy() * 8 / 1e9
    sim_line = df["link_gbps"].astype(float).to_numpy() * frac.to_numpy()
    good = df["goodput_gbps"].astype(float).to_numpy()
    window = np.where(good < WINDOW_SLACK * sim_line, good, np.inf)
    bounds = np.vstack([line, cpu, window])
    return pd.DataFrame({
        "platform": profile.name, "cycles_per_packet": cyc, "rx_cores": cores, "pps_per_core": pps,
        "gbps_line": line, "gbps_cpu": cpu, "gbps_window": window, "gbps": bounds.min(axis=0),
        "binds": np.array(BOUNDS)[bounds.argmin(axis=0)], "note": ESTIMATE_NOTE,
    })


def price(rows, profiles):
    """The rows with their throughput estimate under each profile: one row per (row, platform)."""
    df = _frame(rows)
    out = [pd.concat([df, throughput(df, p).drop(columns="note")], axis=1) for p in profiles]
    return pd.concat(out, ignore_index=True)


CATEGORIES = tuple(dict.fromkeys(cat for cat, *_ in OPERATIONS))
SAME_RUN = ("mtu", "ack_fraction", "connections", "queues")


def mechanism_steps(base, target, profile, order=("window", *CATEGORIES)):
    """Which mechanism gives how much: from ``base`` to ``target`` (a Result or one tidy row each)
    one mechanism at a time, the throughput ESTIMATE after each swap.

    ``window`` gives the base the target's simulated goodput and link rate (so the target's
    window, not the base's); a category of :data:`OPERATIONS` gives it the target's counts per
    packet of that category's operations. The last step is the target's own estimate. Because
    throughput is the smallest of three bounds, how much a step gives depends on the order (a
    CPU saving is worth nothing while the window binds); ``order`` must name each mechanism
    once. Tidy: step, mechanism, gbps, binds,
    cycles_per_packet, delta_gbps, note."""
    b, t = _frame(base).iloc[[0]], _frame(target).iloc[0]
    for k in SAME_RUN:
        if b[k].iloc[0] != t[k]:
            raise bad(f"target.{k}", t[k], f"equal to the base's {b[k].iloc[0]} (the same traffic)")
    every = ("window", *CATEGORIES)
    unknown = sorted(set(order) - set(every))
    if unknown:
        raise bad("order", unknown[0], "window or one of " + ", ".join(CATEGORIES))
    missing = [m for m in every if m not in order]
    if missing or len(order) != len(every):
        # a partial order would end short of the target and still look like its estimate
        raise bad("order", tuple(order), "each of " + ", ".join(every) + " once, in any order")
    scale = float(b["packets"].iloc[0]) / max(float(t["packets"]), 1.0)
    cur, rows = b.copy(), [b.copy()]
    for m in order:
        cur = cur.copy()
        if m == "window":
            cur["goodput_gbps"], cur["link_gbps"] = t["goodput_gbps"], t["link_gbps"]
        for cat, _, expr, _ in OPERATIONS:
            if cat == m and expr != "packets":
                for counter in re.split("[-+]", expr):
                    cur[counter] = t[counter] * scale
        rows.append(cur)
    tp = throughput(pd.concat(rows, ignore_index=True), profile)
    out = pd.DataFrame({"step": range(len(rows)), "mechanism": ["base", *order], "gbps": tp["gbps"],
                        "binds": tp["binds"], "cycles_per_packet": tp["cycles_per_packet"]})
    out["delta_gbps"] = out["gbps"].diff().fillna(0.0)
    out["note"] = ESTIMATE_NOTE
    return out
