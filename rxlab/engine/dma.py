"""DMA API calls, counted (the cost model prices them per platform: with or without an IOMMU,
coherent or not)."""

from rxlab.counters import Ctr
from rxlab.engine.jit import inner, kernel


@kernel
def dma_map(st, nbytes):
    """dma_map_single()/dma_map_page_attrs() of ``nbytes`` (kernel/dma/mapping.c)."""
    st.c[Ctr.dma_map] += 1
    st.c[Ctr.dma_map_bytes] += nbytes


@kernel  # simulate._pre_alloc calls it too (a failed pre-allocation unmaps)
def dma_unmap(st):
    """dma_unmap_single()/dma_unmap_page_attrs()."""
    st.c[Ctr.dma_unmap] += 1


@inner
def dma_sync_for_device(st, nbytes):
    """dma_sync_single_range_for_device() of ``nbytes``."""
    st.c[Ctr.dma_sync_dev] += 1
    st.c[Ctr.dma_sync_dev_bytes] += nbytes
