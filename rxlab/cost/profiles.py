"""Platform profiles: what each operation costs on one platform, every value with its source.

Profiles are loaded from ``data/platforms.toml``; a profile names the parameters of :data:`PARAMS`
(the cost model's vocabulary), each with a value and where that value comes from.
"""

import math
import numbers
import sys
from dataclasses import dataclass, field, replace

from rxlab.data import DATA_DIR
from rxlab.errors import bad, check_choice
from rxlab.kernel.sizes import ARCHES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

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
        import pandas as pd

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
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not lo <= v <= hi:
                raise bad(f"{p.name}.{k}", v, f"an integer in {lo}..{hi} ({unit})")
        elif isinstance(v, bool) or not isinstance(v, numbers.Real) or not lo <= v <= hi \
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
