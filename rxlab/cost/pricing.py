"""Pricing: cycles per packet by operation and the throughput estimate, under a platform profile.

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

import re

import numpy as np
import pandas as pd

from rxlab.errors import bad
from rxlab.kernel.sizes import WIRE_OVERHEAD
from rxlab.kernel.tcp import ACK_LEN, TCP_IP_HEADERS

ESTIMATE_NOTE = ("ESTIMATE: operation counts are simulated exactly; cycles per operation come from the "
                 "platform profile, each with its source (data/platforms.toml)")
# the simulation's goodput is "window-limited" when it falls this far below its own line rate;
# above it the sender was limited by the link (and a few bytes still queued at the end)
WINDOW_SLACK = 0.97
BOUNDS = ("line", "cpu", "window")

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


NEEDED = ("packets", "mtu", "ack_fraction", "connections", "queues", "rx_queues_busy", "link_gbps", "goodput_gbps")


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
    """RX cores doing work: the queues that received packets in the run (RSS put its flows there,
    rxlab.kernel.rss), at most the profile's ``rx_cores``."""
    return np.minimum(df["rx_queues_busy"].astype(float).to_numpy(), profile["rx_cores"])


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


def cycles_by_category(rows, profile):
    """Modelled RX-core cycles per received packet by category of :data:`OPERATIONS` (stack,
    page_pool, refcount, dma, ...): one row per input row, one column per category in
    :data:`CATEGORIES` order; a row's columns add up to its :func:`cycles_per_packet`."""
    counts, names = _per_packet(_frame(rows), profile)
    cyc = counts * np.array([float(profile[n]) for n in names])
    cats = np.array([o[0] for o in OPERATIONS])
    return pd.DataFrame({c: cyc[:, cats == c].sum(axis=1) for c in CATEGORIES})


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
