"""What-if arithmetic on the throughput ESTIMATE: how much one layout gains over another, and what
the cost model would have to charge for a measured figure to come out.

Like :mod:`rxlab.cost.pricing`, every function takes rows of ``Result.to_frame()`` (a Result, a
row or a frame; cached rows price exactly as live ones) and a platform profile, and none
simulates. Results are numpy arrays, one value per row (per pair of rows for a gain).
"""

import numpy as np

from rxlab.cost.pricing import DMA_IOMMU, OPERATIONS, attribution_frame, throughput
from rxlab.errors import bad

BOUND_COLUMNS = ("gbps", "gbps_low", "gbps_high", "gbps_line", "gbps_cpu", "gbps_cpu_low", "gbps_cpu_high",
                 "gbps_reader", "gbps_reader_low", "gbps_reader_high", "gbps_window", "gbps_device")
PRICED = tuple(dict.fromkeys([p for *_, p in OPERATIONS] + list(DMA_IOMMU.values())))
"""The profile parameters that price operations (cycles per operation), as parameter_needed takes them."""


def gain_pct(base, target):
    """How much more ``target`` is than ``base``, in percent: ``(target / base - 1) * 100``
    (negative when it is less). Numbers, arrays or Series, element by element."""
    return (target / base - 1) * 100


def throughput_gain(base, target, profile, bound="gbps", device_factor=True):
    """The gain of ``target`` over ``base`` under ``profile``, in percent, pairing their rows in
    order (as many in each): :func:`gain_pct` of the :func:`rxlab.cost.pricing.throughput` column
    ``bound``: ``gbps`` (the estimate, the smallest bound), ``gbps_cpu`` (the RX cores' CPU alone),
    ``gbps_line``, ``gbps_window``, ``gbps_device``, or an end of the band (``gbps_low``: both
    priced with every parameter at its high end, ``gbps_high``: at its low end; the same for
    ``gbps_cpu``), so both rows always see the same parameter values."""
    if bound not in BOUND_COLUMNS:
        raise bad("bound", bound, "one of " + ", ".join(BOUND_COLUMNS))
    a, b = (throughput(rows, profile, device_factor)[bound].to_numpy() for rows in (base, target))
    if len(a) != len(b):
        raise bad("target", f"{len(b)} rows", f"as many rows as base ({len(a)}), paired in order")
    return gain_pct(a, b)


def gain_ends(base, target, bound="gbps"):
    """(gain, low, high) in percent of ``target`` over ``base``, two priced frames (columns of
    :func:`rxlab.cost.pricing.throughput`, or a dict of them) paired in order: :func:`gain_pct` on
    ``bound`` and its band, the smallest and largest of the gains on ``bound``, ``bound_low`` and
    ``bound_high`` (both priced with the same parameter values at each end). Every gain and band
    of one layout over another is computed here."""
    g = [gain_pct(np.asarray(base[b], float), np.asarray(target[b], float))
         for b in (bound, bound + "_low", bound + "_high")]
    return g[0], np.minimum.reduce(g), np.maximum.reduce(g)


def gain_band(base, target, profile, bound="gbps", device_factor=True):
    """(gain, low, high) in percent, arrays pairing the rows in order: the :func:`throughput_gain`
    on ``bound`` (``gbps`` or ``gbps_cpu``) and its band (:func:`gain_ends`), the smallest and
    largest of the gains with both rows priced at the estimate, at every parameter's high end and
    at every parameter's low end (both rows with the same values: they run on the same hardware).
    Not an exhaustive search of the parameter box: a gain's extreme may lie where some parameters
    are at one end and some at the other."""
    if bound not in ("gbps", "gbps_cpu"):
        raise bad("bound", bound, "gbps or gbps_cpu")
    a, b = (throughput(rows, profile, device_factor) for rows in (base, target))
    if len(a) != len(b):
        raise bad("target", f"{len(b)} rows", f"as many rows as base ({len(a)}), paired in order")
    return gain_ends(a, b, bound)


CLASS_COLUMNS = {"napi": ("cycles_per_packet", "gbps_cpu"), "reader": ("cycles_per_packet_reader", "gbps_reader")}


def cycles_needed(rows, profile, gbps, cpu_class="napi"):
    """Cycles per packet a core of ``cpu_class`` (``napi``: an RX core; ``reader``: a reading core)
    would have to spend for that class's CPU bound to be ``gbps`` (one number, or one per row),
    everything else as modelled.

    The CPU bound is busy cores x clock / cycles per packet x payload bits per packet, so it is
    inversely proportional to the cycles: ``cycles_per_packet * gbps_cpu / gbps`` (the reader's
    columns for ``reader``). With ``gbps`` a measured figure, this is what the measurement implies
    *if* that class's CPU time limited it (at the line rate it only bounds the cycles from above)."""
    if cpu_class not in CLASS_COLUMNS:
        raise bad("cpu_class", cpu_class, "napi or reader")
    cyc, bound = CLASS_COLUMNS[cpu_class]
    t = throughput(rows, profile)
    return t[cyc].to_numpy() * t[bound].to_numpy() / np.asarray(gbps, float)


def parameter_needed(rows, profile, gbps, parameter, cpu_class="napi"):
    """The value ``parameter`` (a per-operation cost of ``profile``, e.g. ``atomic_rmw_remote``)
    would need for ``cpu_class``'s CPU bound to be ``gbps``, every other cost kept: its present value
    plus the missing cycles (:func:`cycles_needed` minus the modelled cycles per packet) spread over
    the operations it prices on that class's cores, per packet (for ``atomic_rmw_remote`` on the
    reading cores: the cross-CPU refcount atomics of their frees). NaN for a row where it prices nothing (no
    value of it moves that row's estimate, e.g. ``dma_map`` behind an IOMMU)."""
    if parameter not in PRICED:
        raise bad("parameter", parameter, "a cost the profile prices operations with: " + ", ".join(PRICED))
    t = throughput(rows, profile)
    att = attribution_frame(rows, profile)
    on_class = att[(att["parameter"] == parameter) & (att["cpu_class"] == cpu_class)]  # that class's bound
    per_packet = (on_class.groupby("row")["count_per_packet"].sum()
                  .reindex(range(len(t)), fill_value=0.0).to_numpy())
    missing = cycles_needed(rows, profile, gbps, cpu_class) - t[CLASS_COLUMNS[cpu_class][0]].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(per_packet > 0, profile[parameter] + missing / per_packet, np.nan)
