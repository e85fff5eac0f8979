"""RX buffer strategies as data: one frozen description each, looked up by name.

A strategy says which of the driver's layouts it posts (``variant``: the driver's geometry,
:class:`~rxlab.model.drivers.Driver`, is asked for it) and how the engine allocates and returns
those buffers. ``SimConfig`` resolves its ``strategy`` name here once; nothing else
compares strategy names. To add one, :func:`register` a :class:`Strategy` (ARCHITECTURE.md,
"Add a strategy"): a new combination of the switches below needs no other file; a new
mechanism also needs its engine code.
"""

from dataclasses import dataclass

from rxlab.errors import bad, check_choice
from rxlab.model.registry import Registry

FRAG_SOURCES = ("page_pool", "page_frag_cache")
VARIANTS = ("pre", "post", "forced")


@dataclass(frozen=True)
class Strategy:
    """How RX buffers are laid out, allocated and returned.

    ``variant``: the layout the driver's geometry is asked for: "pre", a page per buffer; "post",
    the driver's fragments where ``frag_count > 1`` (MANA: before and after the fragment patch);
    "forced", MANA's post-patch one-buffer branch for any MTU, alloc_size as the MTU asks (seed
    001's v3 patch).
    ``truesize_fix``: whether MANA's f73896b4197e applies (True, False), or None: as the release has it.
    ``frag_source``: where a multi-buffer page comes from: ``page_pool`` (the pool maps DMA,
    page_pool_alloc_frag) or ``page_frag_cache`` (the NAPI CPU's per-CPU cache,
    napi_alloc_frag, each buffer mapped by the driver). A one-buffer-per-page layout (XDP,
    jumbo, "pre") always takes whole page_pool pages.
    ``upfront_refs``: a fragment page takes PAGE_SIZE/size pp references when started (seed
    001's proposal) instead of BIAS_MAX and a drain.
    ``copybreak``: packets up to ``SimConfig.copybreak`` bytes are copied into a new head and
    the buffer is reposted at once.
    """

    name: str
    summary: str
    variant: str
    frag_source: str = "page_pool"
    upfront_refs: bool = False
    copybreak: bool = False
    truesize_fix: bool | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise bad("strategy.name", self.name, "an identifier")
        check_choice(f"{self.name}.variant", self.variant, VARIANTS)
        check_choice(f"{self.name}.frag_source", self.frag_source, FRAG_SOURCES)
        for k in ("upfront_refs", "copybreak"):
            if not isinstance(getattr(self, k), bool):
                raise bad(f"{self.name}.{k}", getattr(self, k), "True or False")
        if self.truesize_fix not in (None, False, True):
            raise bad(f"{self.name}.truesize_fix", self.truesize_fix, "None, True or False")


STRATEGIES = Registry("strategy", Strategy)
register, unregister, lookup = STRATEGIES.register, STRATEGIES.unregister, STRATEGIES.lookup


register(Strategy("full_page", "pre-patch MANA: a page_pool page per buffer, DMA-mapped by the driver", "pre"))
register(Strategy("pp_frag", "post-patch MANA: page_pool fragments, BIAS_MAX then a drain per page", "post"))
register(Strategy("pp_frag_upfront", "post-patch layout, PAGE_SIZE/size pp references taken up front (seed 001)",
                  "post", upfront_refs=True))
register(Strategy("page_frag_cache", "post-patch layout from the per-CPU page_frag cache (netdev_alloc_frag style)",
                  "post", frag_source="page_frag_cache"))
register(Strategy("copybreak", "post-patch buffers; short packets copied into a napi_alloc_skb head, buffer reused",
                  "post", copybreak=True))
# Seed 001's v3 forced a page per buffer and kept the fragment-sized alloc_size, so each 1500-byte
# packet was charged truesize 2112 for the 4352 bytes it pinned on 4 KB pages (the reviewer's
# blocker); 7.0's f73896b4197e ("net: mana: Fix RX skb truesize accounting") charges the page.
register(Strategy("full_page_v3", "seed 001's v3: a page_pool page per buffer, truesize of the small alloc_size",
                  "forced", truesize_fix=False))
register(Strategy("full_page_v3_fixed", "seed 001's forced full page with 7.0's f73896b4197e: truesize of the page",
                  "forced", truesize_fix=True))
