"""Sizes, alignment macros and truesize arithmetic of the skb layer.

Each function names the kernel file and macro/function it reproduces. Values
are for 64-bit kernels with the default configuration; the ones a Kconfig
option or the architecture changes are parameters.
"""

from dataclasses import dataclass

from rxlab.errors import bad, check_choice, check_int_range

ETH_HLEN = 14  # include/uapi/linux/if_ether.h
ETH_MIN_MTU = 68  # include/uapi/linux/if_ether.h
ETH_FRAME_LEN = 1514  # include/uapi/linux/if_ether.h
ETH_DATA_LEN = 1500  # include/uapi/linux/if_ether.h
XDP_PACKET_HEADROOM = 256  # include/uapi/linux/bpf.h
WIRE_OVERHEAD = 38  # on the wire besides the MTU: Ethernet header 14, FCS 4, preamble 8, inter-frame gap 12
NET_SKB_PAD = 64  # include/linux/skbuff.h: max(32, L1_CACHE_BYTES)
# net/core/skbuff.c: the kmalloc cache of small skb heads, SKB_SMALL_HEAD_CACHE_SIZE (640 on 64-bit
# with the default MAX_TCP_HEADER); __napi_alloc_skb() gives a length up to SKB_WITH_OVERHEAD of it,
# minus the NET_SKB_PAD it adds, a head from that cache instead of a page fragment
SKB_SMALL_HEAD_CACHE_SIZE = 640
SKB_DEFER_MAX_DEFAULT = 128  # net/core/hotdata.c: net.core.skb_defer_max (64 before Linux 6.19)

MAX_SKB_FRAGS_DEFAULT = 17  # include/linux/skbuff.h: CONFIG_MAX_SKB_FRAGS default
MAX_SKB_FRAGS_RANGE = (17, 45)  # net/Kconfig: config MAX_SKB_FRAGS, range 17 45

PAGE_SIZE_MIN = 4096
PAGE_SIZE_MAX = 65536


@dataclass(frozen=True)
class Arch:
    """What an architecture fixes for RX buffer arithmetic.

    ``page_sizes``: the PAGE_SIZE values the architecture can be built with
    (x86_64: 4 KB only, arch/x86/include/asm/page_types.h; arm64: CONFIG_ARM64_{4K,16K,64K}_PAGES,
    arch/arm64/Kconfig). ``smp_cache_bytes``: L1_CACHE_BYTES, which SMP_CACHE_BYTES
    defaults to (include/linux/cache.h; arch/x86/Kconfig X86_L1_CACHE_SHIFT=6 for
    generic x86_64, arch/arm64/include/asm/cache.h L1_CACHE_SHIFT=6).
    ``sizeof_sk_buff``: sizeof(struct sk_buff) as pahole reports it for the
    distribution kernel configuration (include/linux/skbuff.h); a config that adds
    fields changes it, hence it is a parameter wherever it is used.
    """

    name: str
    page_sizes: tuple
    smp_cache_bytes: int
    sizeof_sk_buff: int


ARCHES = {
    "x86_64": Arch("x86_64", (4096,), 64, 232),
    "arm64": Arch("arm64", (4096, 16384, 65536), 64, 232),
}


def arch_info(arch):
    """Return the :class:`Arch` for ``arch`` ("x86_64" or "arm64")."""
    check_choice("arch", arch, tuple(ARCHES))
    return ARCHES[arch]


def check_page_size(page_size, arch=None):
    """Validate PAGE_SIZE: a power of two in 4 KB..64 KB, and one the architecture supports."""
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise bad("page_size", page_size, "an integer power of two in 4096..65536")
    if page_size & (page_size - 1) or not PAGE_SIZE_MIN <= page_size <= PAGE_SIZE_MAX:
        raise bad("page_size", page_size, "a power of two in 4096..65536")
    if arch is not None and page_size not in arch_info(arch).page_sizes:
        raise bad("page_size", page_size, f"on {arch}: one of {arch_info(arch).page_sizes}")
    return page_size


def align(x, a):
    """ALIGN(x, a) for a power of two ``a`` (include/linux/align.h)."""
    return (x + a - 1) & ~(a - 1)


def skb_data_align(x, smp_cache_bytes=64):
    """SKB_DATA_ALIGN(X) = ALIGN(X, SMP_CACHE_BYTES) (include/linux/skbuff.h)."""
    return align(x, smp_cache_bytes)


def sizeof_skb_shared_info(max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """sizeof(struct skb_shared_info) on a 64-bit kernel (include/linux/skbuff.h).

    48 bytes of fixed fields (flags/meta_len/nr_frags/tx_flags/gso_size/gso_segs 8,
    frag_list 8, hwtstamps union 8, gso_type+tskey 8, dataref 4 + padding 4,
    xdp_frags_size/xdp_frags_truesize | destructor_arg union 8) followed by
    MAX_SKB_FRAGS skb_frag_t of 16 bytes each (netmem + len + offset).
    320 bytes with the default 17 fragments.
    """
    check_int_range("max_skb_frags", max_skb_frags, *MAX_SKB_FRAGS_RANGE)
    return 48 + 16 * max_skb_frags


def skb_shinfo_aligned(max_skb_frags=MAX_SKB_FRAGS_DEFAULT, smp_cache_bytes=64):
    """SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) (include/linux/skbuff.h)."""
    return skb_data_align(sizeof_skb_shared_info(max_skb_frags), smp_cache_bytes)


def napi_small_head_max(max_skb_frags=MAX_SKB_FRAGS_DEFAULT, smp_cache_bytes=64):
    """The longest packet ``__napi_alloc_skb()`` (net/core/skbuff.c) puts in a kmalloc'ed small head:
    ``SKB_WITH_OVERHEAD(SKB_SMALL_HEAD_CACHE_SIZE)`` less the ``NET_SKB_PAD`` it reserves."""
    return SKB_SMALL_HEAD_CACHE_SIZE - skb_shinfo_aligned(max_skb_frags, smp_cache_bytes) - NET_SKB_PAD


def skb_truesize(x, arch="x86_64", max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """SKB_TRUESIZE(X) = X + SKB_DATA_ALIGN(sizeof(struct sk_buff))
    + SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) (include/linux/skbuff.h)."""
    a = arch_info(arch)
    return (
        x
        + skb_data_align(a.sizeof_sk_buff, a.smp_cache_bytes)
        + skb_shinfo_aligned(max_skb_frags, a.smp_cache_bytes)
    )


def build_skb_truesize(frag_size, arch="x86_64", max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """skb->truesize after build_skb()/napi_build_skb(data, frag_size).

    net/core/skbuff.c, __build_skb_around(): ``size -= SKB_DATA_ALIGN(sizeof(struct
    skb_shared_info)); __finalize_skb_around(...); skb->truesize = SKB_TRUESIZE(size)``,
    which is frag_size + SKB_DATA_ALIGN(sizeof(struct sk_buff)): the shared info sits
    inside the buffer, the sk_buff comes from its own slab.
    """
    a = arch_info(arch)
    if isinstance(frag_size, bool) or not isinstance(frag_size, int) or frag_size <= 0:
        raise bad("frag_size", frag_size, "a positive integer (0 means a kmalloc'ed head, not modelled)")
    size = frag_size - skb_shinfo_aligned(max_skb_frags, a.smp_cache_bytes)
    if size <= 0:
        raise bad("frag_size", frag_size, "larger than SKB_DATA_ALIGN(sizeof(struct skb_shared_info))")
    return skb_truesize(size, arch, max_skb_frags)


def get_order(size, page_size=4096):
    """get_order(size): the smallest order with (PAGE_SIZE << order) >= size
    (include/asm-generic/getorder.h: ``size--; size >>= PAGE_SHIFT; return fls(size)``)."""
    check_page_size(page_size)
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise bad("size", size, "a positive integer")
    return ((size - 1) // page_size).bit_length()
