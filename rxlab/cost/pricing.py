"""Pricing: cycles per packet by operation and the throughput estimate, under a platform profile.

An ESTIMATE. Memory and operation counts come exactly from the simulation; what each
operation costs in CPU cycles does not: it comes from a platform profile
(``data/platforms.toml``) in which every parameter carries its source (a published
benchmark, a paper, an assumption stated as such, or a fit to a measured table).

Everything here works on the tidy row of ``Result.to_frame()`` (configuration columns,
every counter, every metric), so results cached on disk can be priced under any profile
without simulating again. Functions take one row or a whole frame and are vectorised.

Every operation is priced on the CPU that does it: the engine counts what the reading CPUs do
(their frees, skb_attempt_defer_free, their copy to user space, their wake-ups) apart from what
the NAPI CPUs do (the ``reader_*`` columns), so there are two CPU classes, ``napi`` and ``reader``.

throughput = min(line rate, CPU capacity of the RX (NAPI) cores, CPU capacity of the reading
cores, what the TCP windows allowed in the simulation, and, for a profile with an empirical device
factor, the ceiling the device showed in a measured table); ``binds`` names which is the smallest.

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
from rxlab.counters import READER_PREFIX
from rxlab.errors import bad, check_choice
from rxlab.kernel.mana import mana_rx_geometry
from rxlab.kernel.sizes import WIRE_OVERHEAD
from rxlab.kernel.tcp import ACK_LEN, TCP_IP_HEADERS
from rxlab.model.strategies import STRATEGIES

ESTIMATE_NOTE = ("ESTIMATE: operation counts are simulated exactly; cycles per operation come from the "
                 "platform profile, each with its source (data/platforms.toml)")
# the simulation's goodput is "window-limited" when it falls this far below its own line rate;
# above it the sender was limited by the link (the window opening at the start costs a little)
WINDOW_SLACK = 0.97
BOUNDS = ("line", "cpu", "reader_cpu", "window", "device")  # "cpu": the RX (NAPI) cores
DEVICE_CATEGORY = "device (empirical)"
DEVICE_NOTE = ("device (empirical): a throughput ceiling read off a measured table, NOT a CPU cost; "
               "throughput(..., device_factor=False) leaves it out")
TPA_NOTE = ("segments bnxt's hardware GRO aggregated (tpa_packets) are each priced at stack_per_packet, "
            "a figure measured with software GRO: an upper bound, as TPA takes one completion and one skb "
            "per aggregation")

# (category, operation, counter(s) it counts, parameter); counts are per received packet, on the CPU
# class that did them. A counter expression is a sum of counters, each with a sign and an integer
# weight: "a-b" subtracts (the remote part of a total is priced separately), "a+2*b" adds b twice.
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
    # page_pool_recycle_in_ring -> ptr_ring_produce: the producer_lock; a produce that overlaps
    # other CPUs' produces into its pool within a hold waits for each (the engine's ptr_ring_lock_wait)
    ("contention", "ptr_ring_produce: producer_lock, per other CPU's hold waited for", "ptr_ring_lock_wait",
     "ptr_ring_contention"),
    # an skb after a hole (tcp_data_queue_ofo, TCPOFOQueue): beyond the in-order path every segment takes
    # (stack_per_packet), its rb-tree insert after ooo_last_skb and its SACK block (tcp_sack_new_ofo_skb),
    # then its rb_erase when tcp_ofo_queue() moves it to the receive queue an RTT later. The rest of the
    # out-of-order counters cost nothing beyond this and their packets: TCPOFOMerge's rb_replace_node or
    # rb_erase stands in for the erase its skbs then never get (and its frees are their packets'),
    # TCPOFODrop frees an skb before any of this, OfoPruned erases skbs TCPOFOQueue priced. The senders'
    # recovery (RetransSegs, TCPFastRetrans, TCPSACKRecovery, TCPSACKReneging, TCPLostRetransmit,
    # TCPLossProbes, TCPLossProbeRecovery, TCPTimeouts, TCPWinProbe) is
    # another host's work: the receiver pays for the segments it gets, which are packets like any other
    ("tcp_ofo", "out-of-order queue: rb-tree insert, SACK block, rb_erase", "TCPOFOQueue", "ofo_queue"),
    # the reader's own work (tcp_recvmsg): its copy to user space and a wake-up per read
    ("reader", "copy to user (skb_copy_datagram_iter)", "bytes_to_user", "copy_to_user_per_byte"),
    ("reader", "wake-up, context switch and recvmsg per read", "tcp_recvmsg", "wakeup_per_read"),
)
CPU_CLASSES = ("napi", "reader")
TERM = re.compile(r"([+-]?)(?:(\d+)\*)?(\w+)")
DMA_IOMMU = {"dma_map": "dma_map_iommu", "dma_unmap": "dma_unmap_iommu", "dma_sync_dev": "dma_sync_dev_iommu"}


NEEDED = ("packets", "mtu", "ack_fraction", "connections", "queues", "rx_queues_busy", "reader_cpus_busy", "link_gbps",
          "goodput_gbps")


def _terms(expr):
    """(sign x weight, counter) of each term of a counter expression."""
    return [((-1 if sign == "-" else 1) * int(w or 1), name) for sign, w, name in TERM.findall(expr)]


def _frame(rows):
    if isinstance(rows, pd.DataFrame):
        df = rows.reset_index(drop=True)
    elif isinstance(rows, pd.Series):
        df = rows.to_frame().T.reset_index(drop=True)
    elif hasattr(rows, "to_frame"):  # a Result
        return rows.to_frame()
    else:
        raise bad("rows", type(rows).__name__, "a Result, a tidy row (Series) or frame of Result.to_frame()")
    counters = {name for _, _, expr, _ in OPERATIONS if expr != "packets" for _, name in _terms(expr)}
    missing = sorted((counters | {READER_PREFIX + c for c in counters} | set(NEEDED)) - set(df.columns))
    if missing:
        raise bad(f"rows[{missing[0]!r}]", None, "a column of Result.to_frame() (configuration, every counter, "
                  "every metric)")
    return df


def _counter(df, name, cpu_class):
    """A counter's values on the CPU class: the reading CPUs' (``reader_<name>``), the NAPI CPUs'
    (the rest), or every CPU's (None)."""
    total = df[name].astype(float)
    if cpu_class is None:
        return total
    check_choice("cpu_class", cpu_class, CPU_CLASSES)
    reader = df[READER_PREFIX + name].astype(float)
    return reader if cpu_class == "reader" else total - reader


def _count(df, expr, cpu_class=None):
    """A counter expression's value per row, on ``cpu_class``; "packets" (the per-packet stack) is
    the NAPI CPUs' alone."""
    if expr == "packets":
        pk = df["packets"].astype(float)
        return pk * 0.0 if cpu_class == "reader" else pk
    return sum(w * _counter(df, name, cpu_class) for w, name in _terms(expr))


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


def reader_cores_busy(df):
    """Reading cores doing work: the CPUs other than the NAPI ones on which an application read
    data in the run (``reader_cpus_busy``; 0 when the applications read on the NAPI CPUs)."""
    return df["reader_cpus_busy"].astype(float).to_numpy()


def _per_packet(df, profile, cpu_class="napi"):
    """(counts per received packet on ``cpu_class``: rows x OPERATIONS, the parameter pricing each)."""
    pk = df["packets"].astype(float).clip(lower=1).to_numpy()
    counts = np.column_stack([_count(df, expr, cpu_class).to_numpy()
                              for _, _, expr, _ in OPERATIONS]) / pk[:, None]
    return counts, [_param(profile, p) for *_, p in OPERATIONS]


def _no_xdp(v):
    return v is None or (isinstance(v, (tuple, list)) and len(v) == 0) or (isinstance(v, str) and v.strip() in ("", "()"))


def buffer_mode(rows):
    """Per row, the RX buffer layout a :class:`~rxlab.cost.profiles.DeviceFactor` is keyed by:
    ``fragments`` (page_pool fragments, several buffers per page), ``full_pages`` (one page_pool page
    per buffer), or None: a layout no device table measured (the per-CPU page_frag cache, an XDP
    program attached, a strategy not registered here, another driver than MANA: the device tables
    were measured on MANA NICs). Read from the configuration columns (driver, strategy, page_size,
    mtu, arch, xdp), never from the counters, so that swapping a category's counts
    (:func:`mechanism_steps`) does not change it."""
    df = _frame(rows)
    out = []
    drivers = df["driver"] if "driver" in df else ["mana"] * len(df)
    for driver, r in zip(drivers, df[["strategy", "page_size", "mtu", "arch", "xdp"]].itertuples(index=False)):
        spec = STRATEGIES.get(r.strategy)
        if spec is None or driver != "mana" or not _no_xdp(r.xdp):
            out.append(None)
            continue
        g = mana_rx_geometry(int(r.page_size), int(r.mtu), False, spec.variant, r.arch)
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
    """Long form, a "perf top" of the model for each CPU class: per row (``row`` index) and
    ``cpu_class`` (``napi``: the RX cores; ``reader``: the reading cores), category, operation,
    counter, count per packet (on that CPU class), parameter, its class (``param_class``: measured /
    derived / assumed), the cycles per op with their low and high end, cycles per packet (and at
    both ends), source, and share (of that CPU class's cycles per packet).

    A profile with a device factor (``device_factor=True``) adds one row per input row in the
    category ``device (empirical)``: the factor in ``cycles_per_op``'s place is NaN and its
    cycles per packet are 0, because it is NOT a CPU cost: its value, a fraction of the line
    rate, is in ``device_factor`` (with ``low``, ``high``), its class is ``empirical``."""
    df = _frame(rows)
    parts = []
    for cls in CPU_CLASSES:
        counts, names = _per_packet(df, profile, cls)
        cyc = np.array([float(profile[n]) for n in names])
        lo = np.array([float(profile.lows[n]) for n in names])
        hi = np.array([float(profile.highs[n]) for n in names])
        n_rows, n_ops = counts.shape
        parts.append(pd.DataFrame({
            "row": np.repeat(df.index.to_numpy(), n_ops), "platform": profile.name, "cpu_class": cls,
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
        }))
    att = pd.concat(parts, ignore_index=True)
    f, flo, fhi = device_factors(df, profile, device_factor)
    if profile.device is not None and device_factor:
        dev = profile.device
        att = pd.concat([att, pd.DataFrame({
            "row": df.index.to_numpy(), "platform": profile.name, "cpu_class": "none", "category": DEVICE_CATEGORY,
            "operation": "device ceiling: a fraction of the line rate's goodput (" + pd.Series(
                buffer_mode(df), dtype=object).fillna("layout not measured").astype(str).to_numpy() + ")",
            "counter": "", "count_per_packet": np.nan, "parameter": "device_factor", "param_class": DEVICE_CLASS,
            "cycles_per_op": np.nan, "low": flo, "high": fhi, "cycles_per_packet": 0.0,
            "cycles_per_packet_low": 0.0, "cycles_per_packet_high": 0.0,
            "source": f"{dev.source}. Root cause: {dev.root_cause}", "device_factor": f})], ignore_index=True)
    total = att.groupby(["row", "cpu_class"])["cycles_per_packet"].transform("sum")
    att["share"] = np.where(total > 0, att["cycles_per_packet"] / total.where(total > 0, 1.0), 0.0)
    att = att.sort_values(["row", "cpu_class", "cycles_per_packet"], ascending=[True, True, False], kind="stable",
                          ignore_index=True)
    att.attrs["note"] = ESTIMATE_NOTE + ("; " + DEVICE_NOTE if profile.device is not None and device_factor else "")
    return att


def cycles_per_packet(rows, profile, cpu_class="napi"):
    """Modelled cycles per received packet on the CPU class's cores (``napi``: the RX cores;
    ``reader``: the reading cores), one value per row (numpy array); at the parameters' ends with
    ``profile.end("low")`` / ``profile.end("high")``."""
    counts, names = _per_packet(_frame(rows), profile, cpu_class)
    return counts @ np.array([float(profile[n]) for n in names])


def cycles_by_category(rows, profile, cpu_class="napi"):
    """Modelled cycles per received packet on the CPU class's cores by category of
    :data:`OPERATIONS` (stack, page_pool, refcount, dma, ...): one row per input row, one column
    per category in :data:`CATEGORIES` order; a row's columns add up to its
    :func:`cycles_per_packet`. The device factor is no category here: it costs no cycles."""
    counts, names = _per_packet(_frame(rows), profile, cpu_class)
    cyc = counts * np.array([float(profile[n]) for n in names])
    cats = np.array([o[0] for o in OPERATIONS])
    return pd.DataFrame({c: cyc[:, cats == c].sum(axis=1) for c in CATEGORIES})


def throughput(rows, profile, device_factor=True):
    """The throughput estimate for each row of a Result.to_frame() frame (or one Result/row).

    Columns: platform, cycles_per_packet (on an RX core), rx_cores, pps_per_core, gbps_line,
    gbps_cpu (what the RX cores can take), cycles_per_packet_reader (on a reading core),
    reader_cores, gbps_reader (what the reading cores can take; inf when the applications read on
    the NAPI CPUs), gbps_window (inf when the simulation was not window-limited), device_factor (NaN
    when none applies), gbps_device (inf when none), gbps (the smallest bound), binds (line / cpu /
    reader_cpu / window / device), util_napi and util_reader (the share of each CPU class's
    capacity the estimate uses: gbps over that class's bound, what ``mpstat`` shows averaged over
    the busy cores of that class; 0 for a class with no cores), note. Gbps are TCP payload
    (goodput). Cycles are priced on the CPU class that did the operation (:func:`attribution_frame`).

    The band: ``cycles_per_packet_high``, ``gbps_cpu_low``, ``gbps_low`` and ``binds_low`` (and the
    reader's) price every parameter at its HIGH end (``profile.end("high")``: the most cycles per
    operation) and the device factor at its low end; ``cycles_per_packet_low``, ``gbps_cpu_high``,
    ``gbps_high`` and ``binds_high`` price every parameter at its LOW end and the device factor at
    its high end. Each bound falls as costs rise, so gbps_low <= gbps <= gbps_high.
    ``util_*_low`` / ``util_*_high`` are the smallest and largest utilisation of the three;
    ``util_*_at_low`` / ``util_*_at_high`` are the utilisation priced as ``gbps_low`` / ``gbps_high``
    are (every parameter at its high / low end), so two rows compare at the same parameter values
    (:func:`rxlab.cost.whatif.gain_ends` on ``util_napi`` pairs them). The
    clock, link rate, RX cores and IOMMU switch are held at their values (:meth:`Profile.end`
    says why).

    ``device_factor=False`` leaves the profile's empirical device factor out: what the CPU model
    (line, RX-core CPU, reading-core CPU, window) alone predicts.
    """
    df = _frame(rows)
    frac, payload = _payload_fraction(df)
    cores = rx_cores_busy(df, profile)
    readers = reader_cores_busy(df)
    line = profile["link_gbps"] * frac.to_numpy()
    sim_line = df["link_gbps"].astype(float).to_numpy() * frac.to_numpy()
    good = df["goodput_gbps"].astype(float).to_numpy()
    window = np.where(good < WINDOW_SLACK * sim_line, good, np.inf)
    f, flo, fhi = device_factors(df, profile, device_factor)
    out = {"platform": profile.name}
    utils = {"napi": [], "reader": []}
    bits = payload.to_numpy() * 8 / 1e9
    for tag, prof, fac in (("", profile, f), ("_low", profile.end("high"), flo), ("_high", profile.end("low"), fhi)):
        cyc = cycles_per_packet(df, prof)
        cyc_r = cycles_per_packet(df, prof, "reader")
        pps = prof["clock_ghz"] * 1e9 / cyc
        cpu = cores * pps * bits
        with np.errstate(divide="ignore", invalid="ignore"):
            reader = np.where((readers > 0) & (cyc_r > 0), readers * prof["clock_ghz"] * 1e9 / cyc_r * bits, np.inf)
        device = np.where(np.isnan(fac), np.inf, np.nan_to_num(fac) * line)
        bounds = np.vstack([line, cpu, reader, window, device])
        gbps = bounds.min(axis=0)
        cyc_tag = {"": "", "_low": "_high", "_high": "_low"}[tag]  # the most cycles give the fewest Gbps
        out[f"cycles_per_packet{cyc_tag}"] = cyc
        out[f"cycles_per_packet_reader{cyc_tag}"] = cyc_r
        if tag == "":
            out.update(rx_cores=cores, pps_per_core=pps, gbps_line=line, reader_cores=readers)
        out[f"gbps_cpu{tag}"] = cpu
        out[f"gbps_reader{tag}"] = reader
        if tag == "":
            out.update(gbps_window=window, device_factor=f, gbps_device=device)
        out[f"gbps{tag}"] = gbps
        out[f"binds{tag}"] = np.array(BOUNDS)[bounds.argmin(axis=0)]
        utils["napi"].append(gbps / cpu)
        utils["reader"].append(np.where(np.isinf(reader), 0.0, gbps / reader))
    for cls, (mid, *ends) in utils.items():
        out[f"util_{cls}"] = mid
        out[f"util_{cls}_low"] = np.minimum.reduce([mid, *ends])
        out[f"util_{cls}_high"] = np.maximum.reduce([mid, *ends])
        out[f"util_{cls}_at_low"], out[f"util_{cls}_at_high"] = ends
    out["note"] = (ESTIMATE_NOTE + ("; " + DEVICE_NOTE if profile.device is not None and device_factor else "")
                   + ("; " + TPA_NOTE if "tpa_packets" in df and (df["tpa_packets"] > 0).any() else ""))
    cols = ["platform", "cycles_per_packet", "cycles_per_packet_low", "cycles_per_packet_high", "rx_cores",
            "pps_per_core", "gbps_line", "gbps_cpu", "gbps_cpu_low", "gbps_cpu_high",
            "cycles_per_packet_reader", "cycles_per_packet_reader_low", "cycles_per_packet_reader_high",
            "reader_cores", "gbps_reader", "gbps_reader_low", "gbps_reader_high", "gbps_window",
            "device_factor", "gbps_device", "gbps", "gbps_low", "gbps_high", "binds", "binds_low", "binds_high",
            "util_napi", "util_napi_low", "util_napi_high", "util_reader", "util_reader_low", "util_reader_high",
            "util_napi_at_low", "util_napi_at_high", "util_reader_at_low", "util_reader_at_high", "note"]
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
                for _, counter in _terms(expr):
                    for name in (counter, READER_PREFIX + counter):
                        cur[name] = t[name] * scale
        rows.append(cur)
    tp = throughput(pd.concat(rows, ignore_index=True), profile, device_factor)
    out = pd.DataFrame({"step": range(len(rows)), "mechanism": ["base", *order], "gbps": tp["gbps"],
                        "gbps_low": tp["gbps_low"], "gbps_high": tp["gbps_high"],
                        "binds": tp["binds"], "cycles_per_packet": tp["cycles_per_packet"]})
    out["delta_gbps"] = out["gbps"].diff().fillna(0.0)
    out["note"] = tp["note"].iloc[0]
    return out
