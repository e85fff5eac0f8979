"""Platform profiles: what each operation costs on one platform, every value with its range,
its class and its source.

Profiles are loaded from ``data/platforms.toml``; a profile names the parameters of :data:`PARAMS`
(the cost model's vocabulary), each with a value, a low and a high end taken from its sources, a
class (:data:`CLASSES`: measured, derived or assumed) and where it comes from. A profile may also
carry a :class:`DeviceFactor`: an empirical throughput ceiling read off a measured table, which is
not a CPU cost and is priced apart from every parameter.
"""

import math
import numbers
import sys
from dataclasses import dataclass, field, replace

import numpy as np

from rxlab.data import DATA_DIR
from rxlab.errors import bad, check_choice
from rxlab.kernel.sizes import ARCHES, WIRE_OVERHEAD
from rxlab.kernel.tcp import TCP_IP_HEADERS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# name -> (lo, hi, unit, meaning). Cycles are per operation on the CPU that does it: an RX (NAPI) core,
# or a reading core for what the applications' CPUs do (rxlab.cost.pricing prices each CPU class apart).
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
    "ptr_ring_contention": (0.0, 50000.0, "cycles", ("a contended ptr_ring produce's wait per other CPU's produce "
                                                     "ahead of it in the producer_lock: one hold taken from another "
                                                     "CPU (hold + handoff)")),
    "ofo_queue": (0.0, 20000.0, "cycles", ("an skb through TCP's out-of-order queue beyond the in-order path: "
                                           "its rb-tree insert and SACK block (tcp_data_queue_ofo), its rb_erase "
                                           "when tcp_ofo_queue() moves it")),
    "copy_to_user_per_byte": (0.0, 10.0, "cycles/byte", "the reader's copy of TCP payload to user space"),
    "wakeup_per_read": (0.0, 200000.0, "cycles", ("one read after a wake-up: try_to_wake_up, the context switch "
                                                  "and the recvmsg call (on the reading CPU)")),
}
INT_PARAMS = ("rx_cores", "iommu")
# the configuration rather than a cost: priced at its value at both ends of the range (Profile.end)
HELD = ("clock_ghz", "link_gbps", "rx_cores", "iommu")
CLASSES = ("measured", "derived", "assumed")
"""A parameter's class: ``measured``, a published measurement of that operation (converted only
in units, e.g. ns x clock = cycles); ``derived``, arithmetic on published figures (differences,
even splits, interpolation, a perf share); ``assumed``, no measurement: an estimate or an
assumption, stated as such, with a deliberately wide range."""
MODES = ("fragments", "full_pages")
DEVICE_CLASS = "empirical"
FIELDS = ("value", "low", "high", "class", "source")


@dataclass(frozen=True)
class DeviceFactor:
    """An empirical device ceiling: the throughput a device let through, as a fraction of the line
    rate's goodput, per RX buffer layout (``fragments``: page_pool fragments, several buffers per
    page; ``full_pages``: one buffer per page) and TCP connection count, read off a measured table.

    It is NOT a CPU cost and prices no operation: :func:`rxlab.cost.pricing.throughput` applies
    it as a fourth bound, ``factor x line-rate goodput`` (``binds == "device"``), and can leave it
    out (``device_factor=False``) to show what the CPU model alone predicts. The table shows
    only that the device let *at least* the measured Gbps through (a measurement is the smallest
    of every limit); taking the ceiling *equal* to it assumes the device bound wherever the CPU
    did not, so with the factor on the model reproduces its own table by construction: that is
    a description of the measurement, never evidence for a mechanism.

    ``table``: its file in ``data/``; ``connections``: the table's rows; ``factors``: {mode:
    factor at each row}; ``conditions``: the configuration it was measured under (page_size,
    mtu, arch, no XDP): a row outside them gets no factor; ``source``: where it comes from;
    ``root_cause``: what later explained it, with its citation."""

    table: str
    connections: tuple
    factors: dict
    conditions: dict
    source: str
    root_cause: str = ""

    def at(self, mode, connections):
        """(factor, low, high) arrays for ``mode`` at ``connections``: linear in log2(connections)
        between the table's rows and the end row's value beyond them; at a row low = high = its
        value, between two rows low and high are the two rows' values (the table says nothing
        of what lies between them)."""
        check_choice("mode", mode, MODES)
        x = np.log2(np.asarray(self.connections, float))
        y = np.asarray(self.factors[mode], float)
        c = np.log2(np.clip(np.asarray(connections, float), self.connections[0], self.connections[-1]))
        mid = np.interp(c, x, y)
        hi_i = np.clip(np.searchsorted(x, c), 0, len(x) - 1)
        lo_i = np.where(np.isclose(x[hi_i], c), hi_i, np.maximum(hi_i - 1, 0))
        a, b = y[lo_i], y[hi_i]
        return mid, np.minimum(a, b), np.maximum(a, b)

    def frame(self):
        """Tidy: connections, mode, factor (one row per table row and mode)."""
        import pandas as pd

        return pd.DataFrame([{"connections": c, "mode": m, "factor": f} for m in MODES
                             for c, f in zip(self.connections, self.factors[m])])


@dataclass(frozen=True)
class Profile:
    """One platform: every parameter of :data:`PARAMS` with its value, its low and high end, its
    class (:data:`CLASSES`) and its source; optionally a :class:`DeviceFactor` (``device``).

    Built directly (not from ``data/platforms.toml``), parameters without a range are points
    (low = high = value) and parameters without a class are ``assumed``."""

    name: str
    description: str
    arch: str = "arm64"
    values: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    lows: dict = field(default_factory=dict)
    highs: dict = field(default_factory=dict)
    classes: dict = field(default_factory=dict)
    device: DeviceFactor | None = None

    def __post_init__(self):
        for attr, default in (("lows", self.values), ("highs", self.values)):
            d = getattr(self, attr)
            object.__setattr__(self, attr, {**{k: v for k, v in default.items() if k not in d}, **d})
        object.__setattr__(self, "classes", {**{k: "assumed" for k in self.values if k not in self.classes},
                                             **self.classes})
        validate_profile(self)

    def __getitem__(self, name):
        return self.values[name]

    def with_values(self, source=None, cls="assumed", ranges=None, **values):
        """A copy with some parameters changed (validated): ``source`` replaces their sources
        (without one, a changed value's source says what it was changed from: the old source
        no longer backs it), ``cls`` their class (default ``assumed``: a what-if is not a
        measurement), ``ranges`` {name: (low, high)} their ranges; a changed parameter without
        one is a point."""
        unknown = sorted(set(values) - set(PARAMS))
        if unknown:
            raise bad(f"{self.name}.{unknown[0]}", values[unknown[0]], "one of " + ", ".join(PARAMS))
        ranges = ranges or {}
        src, lows, highs, classes = dict(self.sources), dict(self.lows), dict(self.highs), dict(self.classes)
        for k, v in values.items():
            if source is not None:
                src[k] = source
            elif v != self.values.get(k):
                src[k] = f"changed from {self.values.get(k)} (whose source was: {src.get(k) or 'none'})"
            lows[k], highs[k] = ranges.get(k, (v, v))
            classes[k] = cls
        return replace(self, values={**self.values, **values}, sources=src, lows=lows, highs=highs, classes=classes)

    def end(self, side):
        """A copy with every parameter at its ``low`` or ``high`` end (each a point there).

        :data:`HELD` parameters keep their value: the link rate, the RX cores and the IOMMU switch
        are the configuration, and ``clock_ghz`` cancels: the cycle counts are published times
        converted at that clock (or cycles assumed at it), so a slower clock with the same times
        means fewer cycles per operation, not more; varying it as well would count its
        uncertainty twice. The device factor is not a parameter: pricing takes its ends apart."""
        check_choice("side", side, ("low", "high"))
        ends = self.lows if side == "low" else self.highs
        vals = {k: (v if k in HELD else ends[k]) for k, v in self.values.items()}
        return replace(self, values=vals, lows=dict(vals), highs=dict(vals))

    def without_device(self):
        """This profile without its device factor: what the CPU model alone predicts."""
        return replace(self, device=None)

    def frame(self):
        """Tidy: platform, parameter, value, low, high, unit, class, meaning, source."""
        import pandas as pd

        return pd.DataFrame([{"platform": self.name, "parameter": k, "value": self.values[k],
                              "low": self.lows[k], "high": self.highs[k], "unit": PARAMS[k][2],
                              "class": self.classes[k], "meaning": PARAMS[k][3], "source": self.sources[k]}
                             for k in PARAMS])


def _check_number(where, v, k):
    lo, hi, unit, _ = PARAMS[k]
    if k in INT_PARAMS:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not lo <= v <= hi:
            raise bad(where, v, f"an integer in {lo}..{hi} ({unit})")
    elif isinstance(v, bool) or not isinstance(v, numbers.Real) or math.isnan(v) or not lo <= v <= hi:
        raise bad(where, v, f"a number in {lo}..{hi} ({unit})")


def validate_profile(p):
    """Every parameter present, numeric, in range, low <= value <= high, a class of :data:`CLASSES`
    and a non-empty source; errors name the platform and the field."""
    check_choice(f"{p.name}.arch", p.arch, tuple(ARCHES))
    missing = [k for k in PARAMS if k not in p.values]
    if missing:
        raise bad(f"{p.name}.{missing[0]}", None, "required: a value and a source")
    unknown = sorted(set(p.values) - set(PARAMS))
    if unknown:
        raise bad(f"{p.name}.{unknown[0]}", p.values[unknown[0]], "one of " + ", ".join(PARAMS))
    for k in PARAMS:
        v = p.values[k]
        _check_number(f"{p.name}.{k}", v, k)
        _check_number(f"{p.name}.{k}.low", p.lows[k], k)
        _check_number(f"{p.name}.{k}.high", p.highs[k], k)
        if not p.lows[k] <= v:
            raise bad(f"{p.name}.{k}.low", p.lows[k], f"at most the value {v}")
        if not v <= p.highs[k]:
            raise bad(f"{p.name}.{k}.high", p.highs[k], f"at least the value {v}")
        check_choice(f"{p.name}.{k}.class", p.classes[k], CLASSES)
        if not isinstance(p.sources.get(k), str) or not p.sources[k].strip():
            raise bad(f"{p.name}.{k}.source", p.sources.get(k), "a non-empty string saying where the value comes from")
    if p.device is not None and not isinstance(p.device, DeviceFactor):
        raise bad(f"{p.name}.device", p.device, "an rxlab.cost.profiles.DeviceFactor or None")


DEVICE_KEYS = {"table", "source", "root_cause", "page_size", "mtu", *MODES}


def _device_factor(name, spec, link_gbps, arch):
    """A [platform.device_factor] table -> DeviceFactor: each mode's column of the table divided
    by the goodput of the profile's line rate at the table's MTU (no ACKs)."""
    import pandas as pd

    where = f"{name}.device_factor"
    if not isinstance(spec, dict) or set(spec) != DEVICE_KEYS:
        raise bad(where, spec, "a table with " + ", ".join(sorted(DEVICE_KEYS)))
    for k in ("source", "root_cause"):
        if not isinstance(spec[k], str) or not spec[k].strip():
            raise bad(f"{where}.{k}", spec[k], "a non-empty string")
    path = DATA_DIR / str(spec["table"])
    if not path.is_file():
        raise bad(f"{where}.table", spec["table"], "a file in data/")
    table = pd.read_csv(path).sort_values("connections")
    for m in MODES:
        if spec[m] not in table.columns:
            raise bad(f"{where}.{m}", spec[m], "a column of " + str(spec["table"]))
    mtu = spec["mtu"]
    goodput = link_gbps * (mtu - TCP_IP_HEADERS) / (mtu + WIRE_OVERHEAD)
    factors = {m: tuple(float(g) / goodput for g in table[spec[m]]) for m in MODES}
    for m, fs in factors.items():
        if not all(0 < f <= 1 for f in fs):
            raise bad(f"{where}.{m}", fs, f"Gbps in (0, the line rate's goodput {goodput:.1f}]")
    conns = tuple(int(c) for c in table["connections"])
    if len(conns) < 2 or min(conns) < 1 or len(set(conns)) != len(conns):
        raise bad(f"{where}.table", spec["table"], "two or more distinct connection counts")
    return DeviceFactor(str(spec["table"]), conns, factors,
                        {"page_size": int(spec["page_size"]), "mtu": int(mtu), "arch": arch}, spec["source"],
                        spec["root_cause"])


def load_platforms(path=None):
    """``data/platforms.toml`` -> {name: Profile}. Each ``[name]`` table has ``arch``, ``description``
    and one inline table ``param = { value, low, high, class, source }`` per parameter; a table
    with ``base = "name"`` takes that (earlier) platform's parameters (and device factor) and
    gives only what differs; ``[name.device_factor]`` gives a :class:`DeviceFactor`."""
    path = DATA_DIR / "platforms.toml" if path is None else path
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    out = {}
    for name, table in doc.items():
        params = {f: {} for f in FIELDS}
        arch, device = table.get("arch", "arm64"), None
        if "base" in table:  # a variant: the base profile's parameters, then its own
            base = out.get(table["base"])
            if base is None:
                raise bad(f"{name}.base", table["base"], "a platform defined above it: " + ", ".join(out))
            params = {"value": dict(base.values), "low": dict(base.lows), "high": dict(base.highs),
                      "class": dict(base.classes), "source": dict(base.sources)}
            arch, device = table.get("arch", base.arch), base.device
        for k, v in table.items():
            if k in ("description", "arch", "base", "device_factor"):
                continue
            if not isinstance(v, dict) or set(v) != set(FIELDS):
                raise bad(f"{name}.{k}", v, "an inline table { value = ..., low = ..., high = ..., "
                          "class = \"measured|derived|assumed\", source = \"...\" }")
            for f in FIELDS:
                params[f][k] = v[f]
        prof = Profile(name, table.get("description", ""), arch, params["value"], params["source"],
                       params["low"], params["high"], params["class"], device)
        if "device_factor" in table:
            prof = replace(prof, device=_device_factor(name, table["device_factor"], prof["link_gbps"], arch))
        out[name] = prof
    return out


def platform(name):
    """One profile of ``data/platforms.toml`` by name."""
    profiles = load_platforms()
    if name not in profiles:
        raise bad("platform", name, "one of " + ", ".join(profiles))
    return profiles[name]
