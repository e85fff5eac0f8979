"""MANA RX buffer geometry, before and after the page_pool fragment patch (seed 000).

Follows drivers/net/ethernet/microsoft/mana/mana_en.c (mana_get_rxbuf_cfg,
mana_create_page_pool, mana_build_skb) and include/net/mana/mana.h.
"""

from rxlab.errors import bad, check_choice, check_int_range
from rxlab.kernel.geometry import RxGeometry
from rxlab.kernel.pagepool import page_pool_alloc
from rxlab.kernel.sizes import (
    ETH_DATA_LEN,
    ETH_HLEN,
    ETH_MIN_MTU,
    MAX_SKB_FRAGS_DEFAULT,
    XDP_PACKET_HEADROOM,
    align,
    arch_info,
    build_skb_truesize,
    check_page_size,
    get_order,
    skb_data_align,
    skb_shinfo_aligned,
)

MANA_RX_FRAG_ALIGNMENT = 64  # include/net/mana/mana.h (added by the fragment patch)
DEF_RX_BUFFERS_PER_QUEUE = 1024  # include/net/mana/mana.h (e26a0c5d828b, 6.13; 512 before)
MIN_RX_BUFFERS_PER_QUEUE = 128  # include/net/mana/mana.h (3410d0e14f9a, 6.12)
MAX_RX_BUFFERS_PER_QUEUE = 8192
MANA_DEF_NUM_QUEUES = 16  # include/net/mana/mana.h (45b2b84ac6fd, 7.1)
MANA_MAX_NUM_QUEUES = 64
# gc->adapter_mtu is what the device reports (mana_query_device_cfg, GDMA_MESSAGE_V2+),
# else ETH_FRAME_LEN. 9014 admits the MTU 9000 seed 000 tested; it is a parameter.
ADAPTER_MTU_DEFAULT = 9014
ADAPTER_MTU_RANGE = (ETH_MIN_MTU + ETH_HLEN, 65535)  # u16; below this the driver returns -EPROTO

VARIANTS = ("pre", "post", "forced")


def mana_default_num_queues(online_cpus, queue_cap=MANA_DEF_NUM_QUEUES):
    """The number of queues MANA starts with: mana_probe_port() sets ``apc->num_queues =
    min(gc->max_num_queues, MANA_DEF_NUM_QUEUES)`` (45b2b84ac6fd, 7.1; before it
    ``gc->max_num_queues``), where gdma_main.c mana_gd_setup_irqs() made ``max_num_queues``
    at most ``num_online_cpus()`` and MANA_MAX_NUM_QUEUES. ``queue_cap`` is MANA_DEF_NUM_QUEUES
    (16) or, before 7.1, MANA_MAX_NUM_QUEUES (64). The hardware's limits
    (mana_gd_query_max_resources(), the vPort's max SQ/RQ in mana_init_port()) are taken to be
    no lower."""
    check_int_range("online_cpus", online_cpus, 1, 1 << 16)
    check_int_range("queue_cap", queue_cap, 1, MANA_MAX_NUM_QUEUES)
    return min(online_cpus, MANA_MAX_NUM_QUEUES, queue_cap)


def mana_set_ringparam_rx(rx_pending):
    """The RX ring size ``ethtool -G <if> rx N`` gives (mana_ethtool.c mana_set_ringparam(),
    3410d0e14f9a, 6.12): below MIN_RX_BUFFERS_PER_QUEUE it is refused, otherwise rounded up to
    a power of two (``roundup_pow_of_two``: 3000 -> 4096); the ethtool core refuses more than
    rx_max_pending = MAX_RX_BUFFERS_PER_QUEUE."""
    n = check_int_range("ring_size", rx_pending, MIN_RX_BUFFERS_PER_QUEUE, MAX_RX_BUFFERS_PER_QUEUE)
    return 1 << (n - 1).bit_length()


def check_fixed_mtu(mtu, max_mtu, kernel):
    """``max_mtu="eth_data_len"``: before 80f6215b450e ("net: mana: Add support for jumbo frame",
    6.4) mana_probe_port() sets ``ndev->min_mtu = ndev->max_mtu = ETH_DATA_LEN``, so the MTU is
    1500 and nothing else; ``"adapter_mtu"``: :func:`mtu_range` applies."""
    if max_mtu == "eth_data_len" and mtu != ETH_DATA_LEN:
        raise bad("mtu", mtu, f"{ETH_DATA_LEN} (MANA in Linux {kernel} fixes the MTU at ETH_DATA_LEN; "
                  "jumbo frames came with 80f6215b450e in 6.4)")
    return mtu


def mana_rxbuf_pad(arch="arm64", max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """MANA_RXBUF_PAD = SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) + ETH_HLEN (mana.h): 334."""
    return skb_shinfo_aligned(max_skb_frags, arch_info(arch).smp_cache_bytes) + ETH_HLEN


def mana_xdp_mtu_max(page_size, arch="arm64", max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """MANA_XDP_MTU_MAX = PAGE_SIZE - MANA_RXBUF_PAD - XDP_PACKET_HEADROOM (mana.h)."""
    return page_size - mana_rxbuf_pad(arch, max_skb_frags) - XDP_PACKET_HEADROOM


def mtu_range(page_size, xdp, arch="arm64", adapter_mtu=ADAPTER_MTU_DEFAULT, max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """The MTUs the netdev accepts: ETH_MIN_MTU..max_mtu, where max_mtu is
    gc->adapter_mtu - ETH_HLEN, or MANA_XDP_MTU_MAX while an XDP program is attached
    (mana_bpf.c, mana_xdp_set(); mana_en.c, mana_probe_port())."""
    hi = adapter_mtu - ETH_HLEN
    if xdp:
        hi = min(hi, mana_xdp_mtu_max(page_size, arch, max_skb_frags))
    return ETH_MIN_MTU, hi


def mana_get_rxbuf_cfg(page_size, mtu, xdp=False, variant="post", arch="arm64",
                       max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """mana_get_rxbuf_cfg(): (datasize, alloc_size, headroom, frag_count).

    ``variant="pre"``: before commit 730ff06d3f5c ("net: mana: Use page pool fragments
    for RX buffers ..."): headroom is XDP_PACKET_HEADROOM unless mtu > MANA_XDP_MTU_MAX;
    alloc_size = SKB_DATA_ALIGN(mtu + MANA_RXBUF_PAD + headroom), raised to PAGE_SIZE;
    one buffer per (possibly higher-order) page.

    ``variant="post"``: with XDP attached, or when mtu + MANA_RXBUF_PAD > PAGE_SIZE / 2,
    one buffer per page (XDP: headroom 256, alloc_size PAGE_SIZE; jumbo: headroom 0,
    alloc_size SKB_DATA_ALIGN(mtu + MANA_RXBUF_PAD)); otherwise headroom 0,
    alloc_size = ALIGN(SKB_DATA_ALIGN(mtu + MANA_RXBUF_PAD), MANA_RX_FRAG_ALIGNMENT) and
    frag_count = PAGE_SIZE / alloc_size.

    ``variant="forced"``: the post-patch driver forced to one buffer per page for any MTU, as
    seed 001's "[PATCH net-next, v3] net: mana: Force full-page RX buffers for 4K page size on
    specific systems." (Dipayaan Roy, 2026-03-10) did: the one-buffer-per-page branch, so
    alloc_size stays SKB_DATA_ALIGN(mtu + MANA_RXBUF_PAD) (1856 at MTU 1500) while each buffer
    takes a whole page. (The later ``full-page-rx`` ethtool flag takes the same branch.)
    """
    check_choice("variant", variant, VARIANTS)
    cache = arch_info(arch).smp_cache_bytes
    pad = mana_rxbuf_pad(arch, max_skb_frags)
    datasize = mtu + ETH_HLEN
    if variant == "pre":
        headroom = 0 if mtu > mana_xdp_mtu_max(page_size, arch, max_skb_frags) else XDP_PACKET_HEADROOM
        alloc_size = max(skb_data_align(mtu + pad + headroom, cache), page_size)
        return datasize, alloc_size, headroom, 1
    if mtu + pad > page_size // 2 or xdp or variant == "forced":
        if xdp:
            return datasize, page_size, XDP_PACKET_HEADROOM, 1
        return datasize, skb_data_align(mtu + pad, cache), 0, 1
    buf_size = align(skb_data_align(mtu + pad, cache), MANA_RX_FRAG_ALIGNMENT)
    return datasize, buf_size, 0, page_size // buf_size


def mana_rx_geometry(page_size, mtu, xdp=False, variant="post", arch="arm64",
                     ring_size=DEF_RX_BUFFERS_PER_QUEUE, queues=MANA_DEF_NUM_QUEUES,
                     adapter_mtu=ADAPTER_MTU_DEFAULT, max_skb_frags=MAX_SKB_FRAGS_DEFAULT, truesize_fix=False):
    """The full RX buffer geometry of one MANA queue and of the NIC; validates every input.
    ``ring_size`` is rounded up to a power of two as the driver does (:func:`mana_set_ringparam_rx`).

    Pool parameters follow mana_create_page_pool(): pool_size = rx_queue_size (pre), or
    rx_queue_size / frag_count + 1 (post); order = get_order(alloc_size). Truesize follows
    mana_build_skb(): napi_build_skb(buf_va, rxq->alloc_size) (net/core/skbuff.c,
    __build_skb_around).

    ``truesize_fix``: f73896b4197e ("net: mana: Fix RX skb truesize accounting", 7.0). In
    mana_get_rxbuf_cfg()'s one-buffer-per-page branch of the post-patch layout (frag_count ==
    1: XDP, or mtu + MANA_RXBUF_PAD > PAGE_SIZE / 2), once alloc_size is chosen it becomes
    ``PAGE_SIZE << get_order(alloc_size)``, so napi_build_skb() and truesize see the whole
    backing allocation (MTU 9000 on 4 KB pages: 9600 -> 16384 bytes, truesize 9856 -> 16640).
    The fragment branch, and the pre-patch layout the fix postdates, are unchanged; the forced
    full page (``variant="forced"``) takes that branch, so the fix charges it 4352 bytes per 1500-byte
    packet on 4 KB pages instead of 2112.
    """
    check_choice("variant", variant, VARIANTS)
    arch_info(arch)
    check_page_size(page_size, arch)
    check_int_range("adapter_mtu", adapter_mtu, *ADAPTER_MTU_RANGE)
    if xdp not in (False, True):
        raise bad("xdp", xdp, "True or False")
    xdp = bool(xdp)
    lo, hi = mtu_range(page_size, xdp, arch, adapter_mtu, max_skb_frags)
    if isinstance(mtu, bool) or not isinstance(mtu, int) or not lo <= mtu <= hi:
        why = f" (MANA_XDP_MTU_MAX with XDP on {page_size}-byte pages)" if xdp and hi < adapter_mtu - ETH_HLEN \
            else f" (adapter_mtu {adapter_mtu} - ETH_HLEN)"
        raise bad("mtu", mtu, f"{lo}..{hi}{why}")
    ring_size = mana_set_ringparam_rx(ring_size)  # as ethtool -G sets it: rounded up to a power of two
    queues = check_int_range("queues", queues, 1, MANA_MAX_NUM_QUEUES)

    if not isinstance(truesize_fix, bool):
        raise bad("truesize_fix", truesize_fix, "True or False")
    datasize, alloc_size, headroom, frag_count = mana_get_rxbuf_cfg(
        page_size, mtu, xdp, variant, arch, max_skb_frags)
    if truesize_fix and variant != "pre" and frag_count == 1:
        alloc_size = page_size << get_order(alloc_size, page_size)
    order = get_order(alloc_size, page_size)
    unit = page_size << order
    pool_size = ring_size if variant == "pre" else ring_size // frag_count + 1
    # Post-patch with frag_count > 1 the driver asks page_pool_dev_alloc_frag() for
    # alloc_size-byte slices; page_pool aligns each one itself.
    frags_per_page = page_pool_alloc(alloc_size, page_size, order, arch).per_page if frag_count > 1 else 1
    ring_pages = -(-ring_size // frags_per_page)
    sk_buff = build_skb_truesize(alloc_size, arch, max_skb_frags) - alloc_size
    return RxGeometry(
        variant=variant, arch=arch, page_size=page_size, mtu=mtu, xdp=xdp,
        ring_size=ring_size, queues=queues,
        datasize=datasize, alloc_size=alloc_size, headroom=headroom, frag_count=frag_count,
        frags_per_page=frags_per_page, order=order, pool_size=pool_size,
        truesize=build_skb_truesize(alloc_size, arch, max_skb_frags),
        truesize_pinned=-(-unit // frags_per_page) + sk_buff,
        ring_pages=ring_pages, ring_bytes=ring_pages * unit, nic_bytes=ring_pages * unit * queues,
    )

