"""page_pool allocation arithmetic: the full-page/fragment choice and how a page is carved.

These are the pure-arithmetic parts of include/net/page_pool/helpers.h and
net/core/page_pool.c that any driver, not only MANA, can ask about.
"""

from dataclasses import dataclass

from rxlab.errors import bad, check_int_range
from rxlab.kernel.sizes import align, arch_info, check_page_size

# dma_get_cache_alignment() (include/linux/dma-mapping.h) returns ARCH_DMA_MINALIGN
# where the architecture defines it (ARCH_HAS_DMA_MINALIGN, include/linux/cache.h),
# otherwise 1. arm64: ARCH_DMA_MINALIGN (128) in arch/arm64/include/asm/cache.h;
# x86_64 does not define it.
DMA_CACHE_ALIGNMENT = {"x86_64": 1, "arm64": 128}

PP_ALLOC_CACHE_SIZE = 128  # include/net/page_pool/types.h (on 4 KB pages; the most on any)
PP_ALLOC_CACHE_REFILL = 64  # include/net/page_pool/types.h (on 4 KB pages; the most on any)
PP_ALLOC_CACHES = ("fixed", "page_size_scaled")
# mm/page_frag_cache.c: PAGE_FRAG_CACHE_MAX_SIZE = __ALIGN_MASK(32768, ~PAGE_MASK); the per-CPU
# page_frag cache takes pages of this size (at least PAGE_SIZE) and the same number as refcount bias
PAGE_FRAG_CACHE_MAX_SIZE = 32768
PP_RING_DEFAULT = 1024  # net/core/page_pool.c page_pool_init(): the ptr_ring when pool_size is 0
MAX_ORDER = 10  # include/linux/mmzone.h: MAX_PAGE_ORDER default


def dma_get_cache_alignment(arch):
    """dma_get_cache_alignment() for ``arch`` (include/linux/dma-mapping.h)."""
    arch_info(arch)
    return DMA_CACHE_ALIGNMENT[arch]


def pp_alloc_cache(page_size, scaled=False):
    """(PP_ALLOC_CACHE_SIZE, PP_ALLOC_CACHE_REFILL) on a kernel with pages of ``page_size``
    (include/net/page_pool/types.h). Before 15abbe7c8266 ("net: page_pool: scale alloc cache with
    PAGE_SIZE", 2026) 128 and 64 on every PAGE_SIZE; with it (``scaled``) "the refill watermark is
    set to 64 for 4KB pages, and scales to balance its size in bytes across page sizes":
    ``#if PAGE_SIZE >= SZ_64K`` 4, ``#elif PAGE_SIZE >= SZ_16K`` 16, else 64, and the cache holds
    ``PP_ALLOC_CACHE_REFILL * 2``. net/core/page_pool.c uses both for the refill from the
    ptr_ring, the bulk allocation and the direct-recycle limit."""
    check_page_size(page_size)
    if not isinstance(scaled, bool):
        raise bad("scaled", scaled, "True or False")
    if not scaled:
        return PP_ALLOC_CACHE_SIZE, PP_ALLOC_CACHE_REFILL
    refill = 4 if page_size >= 65536 else 16 if page_size >= 16384 else 64
    return 2 * refill, refill


def _check_size(size, max_size):
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= max_size:
        raise bad("size", size, f"1..{max_size} (PAGE_SIZE << order)")


def buffers_per_page(buf_size, page_size, order=0, alignment=1):
    """How many ``buf_size`` buffers, each rounded up to ``alignment``, fit in one
    PAGE_SIZE << order allocation (the arithmetic of page_pool_alloc_frag_netmem(),
    net/core/page_pool.c, and of drivers such as mana_get_rxbuf_cfg())."""
    check_page_size(page_size)
    check_int_range("order", order, 0, MAX_ORDER)
    if isinstance(alignment, bool) or not isinstance(alignment, int) or alignment < 1 or alignment & (alignment - 1):
        raise bad("alignment", alignment, "a power of two >= 1")
    max_size = page_size << order
    _check_size(buf_size, max_size)
    return max_size // align(buf_size, alignment)


@dataclass(frozen=True)
class PoolAlloc:
    """What page_pool_alloc() hands out for one requested size.

    kind: "page" (a whole PAGE_SIZE << order page) or "frag" (a slice of a shared page).
    size: the size reported to the caller for an ordinary fragment (or the page size).
    stride: bytes the pool advances per fragment (size rounded to dma_get_cache_alignment()).
    per_page: buffers carved from one page.
    last_size: the size reported for the last fragment of a page, which page_pool_alloc()
    enlarges to the end of the page "to avoid truesize underestimate".
    """

    kind: str
    size: int
    stride: int
    per_page: int
    last_size: int


def page_pool_alloc(size, page_size, order=0, arch="arm64"):
    """The choice page_pool_alloc()/page_pool_dev_alloc() make for a request of ``size`` bytes.

    include/net/page_pool/helpers.h, page_pool_alloc_netmem(): with
    max_size = PAGE_SIZE << order, ``if ((*size << 1) > max_size)`` a whole page is
    returned and *size set to max_size; otherwise page_pool_alloc_frag_netmem()
    (net/core/page_pool.c) carves ``ALIGN(size, dma_get_cache_alignment())``-byte
    slices, and the slice after which no further one fits has its *size raised to
    ``max_size - offset``.
    """
    check_page_size(page_size, arch)
    check_int_range("order", order, 0, MAX_ORDER)
    max_size = page_size << order
    _check_size(size, max_size)
    if size << 1 > max_size:
        return PoolAlloc("page", max_size, max_size, 1, max_size)
    stride = align(size, dma_get_cache_alignment(arch))
    per_page = max_size // stride
    last_offset = (per_page - 1) * stride
    # helpers.h: "if (pool->frag_offset + *size > max_size)": frag_offset is already
    # past the last slice (last_offset + stride).
    last_size = max_size - last_offset if last_offset + stride + size > max_size else size
    return PoolAlloc("frag", size, stride, per_page, last_size)
