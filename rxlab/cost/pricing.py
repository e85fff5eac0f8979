"""Pricing: cycles per packet by operation and the throughput estimate, under a platform profile.

An ESTIMATE. Memory and operation counts come exactly from the simulation; what each
operation costs in CPU cycles does not: it comes from a platform profile
(``data/platforms.toml``) in which every parameter carries its source (a published
benchmark, a paper, an assumption stated as such, or a fit to a measured table).

Everything here works on the tidy row of ``Result.to_frame()`` (configuration columns,
every counter, every metric), so results cached on disk can be priced under any profile
without simulating again. Functions take one row or a whole frame and are vectorised.

throughput = min(line rate, CPU capacity of the RX cores, what the TCP windows allowed
in the simulation, and, for a profile with an empirical device factor, the ceiling the device
showed in a measured table); ``binds`` names which is the smallest.

Uncertainty: every profile parameter has a low and a high end from its sources; each estimate
comes with the estimate at the parameters' high ends (``_low``: the most cycles per operation,
the lowest Gbps) and at their low ends (``_high``). Parameters are taken to their ends together
and independently of one another: a band, not a confidence interval, and wider than any one
consistent platform would be.
"""

import re

import numpy as np
import pandas as pd

from rxlab.cost.profiles import DEVICE_CLASS
from rxlab.errors import bad
from rxlab.kernel.sizes import WIRE_OVERHEAD
from rxlab.kernel.tcp import ACK_LEN, TCP_IP_HEADERS
from rxlab.model.strategies import STRATEGIES

ESTIMATE_NOTE = ("ESTIMATE: operation counts are simulated exactly; cycles per operation come from the "
                 "platform profile, each with its source (data/platforms.toml)")
# the simulation's goodput is "window-limited" when it falls this far below its own line rate;
# above it the sender was limited by the link (and a few bytes still queued at the end)
WINDOW_SLACK = 0.97
BOUNDS = ("line", "cpu", "window", "device")
DEVICE_CATEGORY = "device (empirical)"
DEVICE_NOTE = ("device (empirical): a throughput ceiling read off a measured table, NOT a CPU cost; "
               "throughput(..., device_factor=False) leaves it out")

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


def _no_xdp(v):
    return v is None or (isinstance(v, (tuple, list)) and len(v) == 0) or (isinstance(v, str) and v.strip() in ("", "()"))


def buffer_mode(rows):
    """Per row, the RX buffer layout a :class:`~rxlab.cost.profiles.DeviceFactor` is keyed by:
    ``fragments`` (page_pool fragments, several buffers per page), ``full_pages`` (one page_pool page
    per buffer), or None: a layout no device table measured (the per-CPU page_frag cache, an XDP
    program attached, a strategy not registered here). Read from the configuration columns
    (strategy, page_size, mtu, arch, xdp), never from the counters, so that swapping a category's
    counts (:func:`mechanism_steps`) does not change it."""
    df = _frame(rows)
    out = []
    for r in df[["strategy", "page_size", "mtu", "arch", "xdp"]].itertuples(index=False):
        spec = STRATEGIES.get(r.strategy)
        if spec is None or not _no_xdp(r.xdp):
            out.append(None)
            continue
        g = spec.geometry(int(r.page_size), int(r.mtu), False, spec.variant, r.arch)
        if g.frag_count == 1:
            out.append("full_pages")
        else:
            out.append("fragments" if spec.frag_source == "page_pool" else None)
    return out


def device_factors(rows, profile, device_factor=True):
    """The profile's device factor for each row: (factor, low, high) arrays, NaN where none
    applies (no device factor, ``device_factor=False``, a layout the table did not measure, or
    a row outside the conditions it was measured under)."""
    df = _frame(rows)
    n = len(df)
    f, lo, hi = (np.full(n, np.nan) for _ in range(3))
    dev = profile.device if device_factor else None
    if dev is None:
        return f, lo, hi
    cond = np.ones(n, bool)
    for k, v in dev.conditions.items():
        cond &= (df[k].astype(str) == str(v)).to_numpy()
    modes = np.array(buffer_mode(df), dtype=object)
    conns = df["connections"].astype(float).to_numpy()
    for m in set(modes[cond]) - {None}:
        sel = cond & (modes == m)
        f[sel], lo[sel], hi[sel] = dev.at(m, conns[sel])
    return f, lo, hi


def attribution_frame(rows, profile, device_factor=True):
    """Long form, a "perf top" of the model: per row (``row`` index), category, operation, counter,
    count per packet, parameter, its class (measured / derived / assumed), the cycles per op
    with their low and high end, cycles per packet (and at both ends), source, share.

    A profile with a device factor (``device_factor=True``) adds one row per input row in the
    category ``device (empirical)``: the factor in ``cycles_per_op``'s place is NaN and its
    cycles per packet are 0, because it is NOT a CPU cost: its value, a fraction of the line
    rate, is in ``device_factor`` (with ``low``, ``high``), its class is ``empirical``."""
    df = _frame(rows)
    counts, names = _per_packet(df, profile)
    cyc = np.array([float(profile[n]) for n in names])
    lo = np.array([float(profile.lows[n]) for n in names])
    hi = np.array([float(profile.highs[n]) for n in names])
    n_rows, n_ops = counts.shape
    att = pd.DataFrame({
        "row": np.repeat(df.index.to_numpy(), n_ops), "platform": profile.name,
        "category": np.tile([o[0] for o in OPERATIONS], n_rows),
        "operation": np.tile([o[1] for o in OPERATIONS], n_rows),
        "counter": np.tile([o[2] for o in OPERATIONS], n_rows),
        "count_per_packet": counts.ravel(), "parameter": np.tile(names, n_rows),
        "param_class": np.tile([profile.classes[n] for n in names], n_rows),
        "cycles_per_op": np.tile(cyc, n_rows), "low": np.tile(lo, n_rows), "high": np.tile(hi, n_rows),
        "cycles_per_packet": (counts * cyc).ravel(), "cycles_per_packet_low": (counts * lo).ravel(),
        "cycles_per_packet_high": (counts * hi).ravel(),
        "source": np.tile([profile.sources[n] for n in names], n_rows),
        "device_factor": np.nan,
    })
    f, flo, fhi = device_factors(df, profile, device_factor)
    if profile.device is not None and device_factor:
        dev = profile.device
        att = pd.concat([att, pd.DataFrame({
            "row": df.index.to_numpy(), "platform": profile.name, "category": DEVICE_CATEGORY,
            "operation": "device ceiling: a fraction of the line rate's goodput (" + pd.Series(
                buffer_mode(df), dtype=object).fillna("layout not measured").astype(str).to_numpy() + ")",
            "counter": "", "count_per_packet": np.nan, "parameter": "device_factor", "param_class": DEVICE_CLASS,
            "cycles_per_op": np.nan, "low": flo, "high": fhi, "cycles_per_packet": 0.0,
            "cycles_per_packet_low": 0.0, "cycles_per_packet_high": 0.0,
            "source": f"{dev.source}. Root cause: {dev.root_cause}", "device_factor": f})], ignore_index=True)
    att["share"] = att["cycles_per_packet"] / att.groupby("row")["cycles_per_packet"].transform("sum")
    att = att.sort_values(["row", "cycles_per_packet"], ascending=[True, False], kind="stable", ignore_index=True)
    att.attrs["note"] = ESTIMATE_NOTE + ("; " + DEVICE_NOTE if profile.device is not None and device_factor else "")
    return att


def cycles_per_packet(rows, profile):
    """Modelled RX-core cycles per received packet, one value per row (numpy array); at the
    parameters' ends with ``profile.end("low")`` / ``profile.end("high")``."""
    counts, names = _per_packet(_frame(rows), profile)
    return counts @ np.array([float(profile[n]) for n in names])


def cycles_by_category(rows, profile):
    """Modelled RX-core cycles per received packet by category of :data:`OPERATIONS` (stack,
    page_pool, refcount, dma, ...): one row per input row, one column per category in
    :data:`CATEGORIES` order; a row's columns add up to its :func:`cycles_per_packet`. The
    device factor is no category here: it costs no cycles."""
    counts, names = _per_packet(_frame(rows), profile)
    cyc = counts * np.array([float(profile[n]) for n in names])
    cats = np.array([o[0] for o in OPERATIONS])
    return pd.DataFrame({c: cyc[:, cats == c].sum(axis=1) for c in CATEGORIES})


def throughput(rows, profile, device_factor=True):
    """The throughput estimate for each row of a Result.to_frame() frame (or one Result/row).

    Columns: platform, cycles_per_packet, rx_cores, pps_per_core, gbps_line, gbps_cpu,
    gbps_window (inf when the simulation was not window-limited), device_factor (NaN when none
    applies), gbps_device (inf when none), gbps (the smallest bound), binds (line / cpu / window
    / device), note. Gbps are TCP payload (goodput).

    The band: ``cycles_per_packet_high``, ``gbps_cpu_low``, ``gbps_low`` and ``binds_low`` price
    every parameter at its HIGH end (``profile.end("high")``: the most cycles per operation) and
    the device factor at its low end; ``cycles_per_packet_low``, ``gbps_cpu_high``, ``gbps_high``
    and ``binds_high`` price every parameter at its LOW end and the device factor at its high
    end. Each bound falls as costs rise, so gbps_low <= gbps <= gbps_high. The clock, link rate,
    RX cores and IOMMU switch are held at their values (:meth:`Profile.end` says why).

    ``device_factor=False`` leaves the profile's empirical device factor out: what the CPU model
    (line, RX-core CPU, window) alone predicts.
    """
    df = _frame(rows)
    frac, payload = _payload_fraction(df)
    cores = rx_cores_busy(df, profile)
    line = profile["link_gbps"] * frac.to_numpy()
    sim_line = df["link_gbps"].astype(float).to_numpy() * frac.to_numpy()
    good = df["goodput_gbps"].astype(float).to_numpy()
    window = np.where(good < WINDOW_SLACK * sim_line, good, np.inf)
    f, flo, fhi = device_factors(df, profile, device_factor)
    out = {"platform": profile.name}
    for tag, prof, fac in (("", profile, f), ("_low", profile.end("high"), flo), ("_high", profile.end("low"), fhi)):
        cyc = cycles_per_packet(df, prof)
        pps = prof["clock_ghz"] * 1e9 / cyc
        cpu = cores * pps * payload.to_numpy() * 8 / 1e9
        device = np.where(np.isnan(fac), np.inf, np.nan_to_num(fac) * line)
        bounds = np.vstack([line, cpu, window, device])
        cyc_tag = {"": "", "_low": "_high", "_high": "_low"}[tag]  # the most cycles give the fewest Gbps
        out[f"cycles_per_packet{cyc_tag}"] = cyc
        if tag == "":
            out.update(rx_cores=cores, pps_per_core=pps, gbps_line=line)
        out[f"gbps_cpu{tag}"] = cpu
        if tag == "":
            out.update(gbps_window=window, device_factor=f, gbps_device=device)
        out[f"gbps{tag}"] = bounds.min(axis=0)
        out[f"binds{tag}"] = np.array(BOUNDS)[bounds.argmin(axis=0)]
    out["note"] = ESTIMATE_NOTE + ("; " + DEVICE_NOTE if profile.device is not None and device_factor else "")
    cols = ["platform", "cycles_per_packet", "cycles_per_packet_low", "cycles_per_packet_high", "rx_cores",
            "pps_per_core", "gbps_line", "gbps_cpu", "gbps_cpu_low", "gbps_cpu_high", "gbps_window",
            "device_factor", "gbps_device", "gbps", "gbps_low", "gbps_high", "binds", "binds_low", "binds_high",
            "note"]
    return pd.DataFrame(out)[cols]


def price(rows, profiles, device_factor=True):
    """The rows with their throughput estimate under each profile: one row per (row, platform)."""
    df = _frame(rows)
    out = [pd.concat([df, throughput(df, p, device_factor).drop(columns="note")], axis=1) for p in profiles]
    return pd.concat(out, ignore_index=True)


CATEGORIES = tuple(dict.fromkeys(cat for cat, *_ in OPERATIONS))
SAME_RUN = ("mtu", "ack_fraction", "connections", "queues")


def mechanism_steps(base, target, profile, order=None, device_factor=True):
    """Which mechanism gives how much: from ``base`` to ``target`` (a Result or one tidy row each)
    one mechanism at a time, the throughput ESTIMATE after each swap.

    ``window`` gives the base the target's simulated goodput and link rate (so the target's
    window, not the base's); a category of :data:`OPERATIONS` gives it the target's counts per
    packet of that category's operations; ``device``, only for a profile with a device factor
    (and ``device_factor=True``), gives it the target's buffer layout and so the target's
    empirical device ceiling. The last step is the target's own estimate. Because
    throughput is the smallest of its bounds, how much a step gives depends on the order (a
    CPU saving is worth nothing while the window binds); ``order`` (default: window, the
    categories, then device) must name each mechanism once. Tidy: step, mechanism, gbps,
    gbps_low, gbps_high, binds, cycles_per_packet, delta_gbps, note."""
    b, t = _frame(base).iloc[[0]], _frame(target).iloc[0]
    for k in SAME_RUN:
        if b[k].iloc[0] != t[k]:
            raise bad(f"target.{k}", t[k], f"equal to the base's {b[k].iloc[0]} (the same traffic)")
    every = ("window", *CATEGORIES) + (("device",) if profile.device is not None and device_factor else ())
    order = every if order is None else tuple(order)
    unknown = sorted(set(order) - set(every))
    if unknown:
        raise bad("order", unknown[0], "one of " + ", ".join(every))
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
        if m == "device":
            for k in ("strategy", "page_size", "arch", "xdp"):
                cur[k] = [t[k]]
        for cat, _, expr, _ in OPERATIONS:
            if cat == m and expr != "packets":
                for counter in re.split("[-+]", expr):
                    cur[counter] = t[counter] * scale
        rows.append(cur)
    tp = throughput(pd.concat(rows, ignore_index=True), profile, device_factor)
    out = pd.DataFrame({"step": range(len(rows)), "mechanism": ["base", *order], "gbps": tp["gbps"],
                        "gbps_low": tp["gbps_low"], "gbps_high": tp["gbps_high"],
                        "binds": tp["binds"], "cycles_per_packet": tp["cycles_per_packet"]})
    out["delta_gbps"] = out["gbps"].diff().fillna(0.0)
    out["note"] = tp["note"].iloc[0]
    return out
