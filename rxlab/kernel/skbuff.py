"""The skb a driver allocates per packet when it does not build one on its RX buffer.

net/core/skbuff.c as of Linux v6.19: napi_alloc_skb(), __alloc_skb(), kmalloc_reserve().
"""

from rxlab.errors import check_int_range
from rxlab.kernel.sizes import (
    MAX_SKB_FRAGS_DEFAULT,
    NET_SKB_PAD,
    SKB_SMALL_HEAD_CACHE_SIZE,
    arch_info,
    check_page_size,
    skb_data_align,
    skb_shinfo_aligned,
)
from rxlab.kernel.tcp import kmalloc_size_roundup

NET_IP_ALIGN = 0  # arch/x86 and arch/arm64 asm/processor.h (2 only where an arch leaves the default)


def napi_alloc_skb_truesize(length, page_size=4096, arch="x86_64", max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """skb->truesize of napi_alloc_skb(napi, length).

    ``len += NET_SKB_PAD + NET_IP_ALIGN``; a length up to SKB_WITH_OVERHEAD(SKB_SMALL_HEAD_CACHE_SIZE)
    or above SKB_WITH_OVERHEAD(PAGE_SIZE) goes to __alloc_skb(), whose kmalloc_reserve() takes
    SKB_HEAD_ALIGN(len) from the 640-byte small-head cache when it fits, else the kmalloc cache it
    rounds up to; otherwise the head is a SKB_HEAD_ALIGN(len) page fragment (__napi_build_skb).
    Either way truesize = the head's bytes + SKB_DATA_ALIGN(sizeof(struct sk_buff)).
    """
    check_page_size(page_size)
    check_int_range("length", length, 0, 1 << 20)
    a = arch_info(arch)
    shinfo = skb_shinfo_aligned(max_skb_frags, a.smp_cache_bytes)
    sk_buff = skb_data_align(a.sizeof_sk_buff, a.smp_cache_bytes)
    n = length + NET_SKB_PAD + NET_IP_ALIGN
    head = skb_data_align(n, a.smp_cache_bytes) + shinfo  # SKB_HEAD_ALIGN(len)
    if n <= SKB_SMALL_HEAD_CACHE_SIZE - shinfo or n > page_size - shinfo:
        head = SKB_SMALL_HEAD_CACHE_SIZE if head <= SKB_SMALL_HEAD_CACHE_SIZE else kmalloc_size_roundup(head, page_size)
    return head + sk_buff
