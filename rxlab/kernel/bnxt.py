"""bnxt_en RX buffer geometry: normal and page (XDP) modes, the aggregation ring, TPA and HDS.

Follows drivers/net/ethernet/broadcom/bnxt/bnxt.c, bnxt.h and bnxt_xdp.c of Linux v6.19 (the
newest release whose whole tree was at hand): bnxt_set_ring_params(), bnxt_init_ring_params(),
__bnxt_set_rx_skb_mode(), bnxt_alloc_rx_page_pool(), __bnxt_alloc_rx_frag(),
__bnxt_alloc_rx_netmem(), bnxt_alloc_one_tpa_info_data(), bnxt_rx_pkt(), bnxt_rx_skb(),
bnxt_rx_page_skb(), bnxt_rx_multi_page_skb(), bnxt_copy_skb(), __bnxt_rx_agg_netmems(),
bnxt_hwrm_vnic_set_hds() and bnxt_xdp_set(); bnxt_ethtool.c bnxt_set_ringparam() and
bnxt_set_tunable(). The arithmetic below names the function each step follows.

The commits that brought the behaviours (mainline release in brackets): f6974b4c2d8e "bnxt_en: Fix page
pool logic for page size >= 64K" [6.5] (BNXT_RX_PAGE_SIZE fragments of a page_pool page,
page_pool_dev_alloc_frag, where PAGE_SIZE > BNXT_RX_PAGE_SIZE); 7ed816be35ab "eth: bnxt: use page pool
for head frags" [6.13] (heads and TPA heads as page_pool fragments, a head pool of their own where
PAGE_SIZE > BNXT_RX_PAGE_SIZE); 6b43673a25c3 "bnxt_en: add support for hds-thresh ethtool command"
[6.14] (hds_thresh, bnxt_init_ring_params); f7dbedba6312 "eth: bnxt: take page size into account for
page pool recycling rings" [6.17] (pool_size / agg_size_fac, the head pool's min(ring / rx_size_fac,
1024)). Not found: the commit that first capped BNXT_RX_PAGE_SIZE at 32 KB, and the one that set
hds_thresh's default to fit "4 chunks into a 4k page".

What the device or its firmware decides is a parameter: ``max_mtu`` (HWRM_FUNC_QCFG
max_mtu_configured, BNXT_MAX_MTU when the firmware reports 0), ``max_tpa`` (HWRM_VNIC_QCAPS
max_aggs_supported on P5+ chips, at least MAX_TPA_P5), ``gro_hw`` (NETIF_F_GRO_HW is on by
default where BNXT_SUPPORTS_TPA) and ``header_split``, where the hardware puts a frame's first
bytes once the aggregation ring is on: bnxt_hwrm_vnic_set_hds() asks for HDS_IPV4 | HDS_IPV6
with hds_threshold whenever agg rings are used outside page mode, and ethtool's documented
meaning (Documentation/networking/ethtool-netlink.rst, ETHTOOL_A_RINGS_HDS_THRESH: "If a received
packet size is larger than this threshold value, header and data will be split") is assumed:
the headers (``header_len`` bytes) land in the RX buffer, the payload in aggregation buffers.
``header_split=False`` models jumbo placement only (the first rx_buf_use_size bytes, the
VNIC's jumbo_thresh, in the RX buffer).
"""

from rxlab.errors import bad, check_int_range
from rxlab.kernel.geometry import RxGeometry
from rxlab.kernel.pagepool import buffers_per_page, dma_get_cache_alignment
from rxlab.kernel.sizes import (
    ETH_HLEN,
    MAX_SKB_FRAGS_DEFAULT,
    NET_SKB_PAD,
    XDP_PACKET_HEADROOM,
    align,
    arch_info,
    build_skb_truesize,
    check_page_size,
    skb_data_align,
    skb_shinfo_aligned,
)
from rxlab.kernel.skbuff import NET_IP_ALIGN, napi_alloc_skb_truesize
from rxlab.kernel.tcp import TCP_IP_HEADERS

ETH_ZLEN = 60  # include/uapi/linux/if_ether.h: bnxt_init_one() sets dev->min_mtu = ETH_ZLEN
VLAN_ETH_HLEN = 18  # include/linux/if_vlan.h
BNXT_MAX_MTU = 9500  # bnxt.h
BNXT_DEFAULT_RX_RING_SIZE = 511  # bnxt.h
BNXT_DEFAULT_RX_COPYBREAK = 256  # bnxt.h
BNXT_MAX_RX_COPYBREAK = 1024  # bnxt.h; bnxt_set_tunable() returns -ERANGE above it
BNXT_HDS_THRESHOLD_MAX = 1023  # bnxt.h: kernel_ering->hds_thresh_max
MAX_TPA = 64  # bnxt.h: TPA aggregations before P5 chips
MAX_TPA_P5 = 256  # bnxt.h: bnxt_alloc_tpa_info() takes max(max_tpa_v2, MAX_TPA_P5) on P5+
# TPA as bnxt_hwrm_vnic_set_tpa() programs it on P5+ chips (VNIC_TPA_CFG_REQ_FLAGS_GRO: "according to Linux
# Generic Receive Offload (GRO) rules"; AGG_PACK_AS_GRO unset: "the more efficient LRO rules of filling all
# aggregation buffers"; field meanings from the HWRM spec's comments, DPDK drivers/net/bnxt/hsi_struct_def_dpdk.h
# at 38f72e500b3b, struct hwrm_vnic_tpa_cfg_input)
# req->min_agg_len, "minimum amount of payload length required to start an aggregation context" (the spec
# calls the field deprecated, the minimum the firmware's: rxlab takes the 512 the driver asks for)
TPA_MIN_AGG_LEN = 512
# How long the device keeps an aggregation open. bnxt_hwrm_vnic_set_tpa() leaves max_agg_timer to the
# firmware, and no public source states its default: rxlab assumes 32 µs, mlx5's default hardware-LRO
# timeout (MLX5E_DEFAULT_LRO_TIMEOUT, drivers/net/ethernet/mellanox/mlx5/core/en.h), the one aggregation
# timer a Linux driver states. SimConfig.tpa_timer_us sweeps it.
TPA_TIMER_US = 32.0
RX_BD_SIZE = 16  # sizeof(struct rx_bd)
BNXT_AGG_FACTOR_MAX = 4  # bnxt_set_ring_params(): min_t(u32, 4, 65536 / BNXT_RX_PAGE_SIZE)
BNXT_MAX_QUEUES = 256  # the firmware's ring resources bound it (bnxt_get_max_rings); rxlab's cap
DEFAULT_QUEUES = 16  # as MANA_DEF_NUM_QUEUES, so NIC totals compare across drivers
HEADER_LEN = ETH_HLEN + TCP_IP_HEADERS  # Ethernet + IPv4 + TCP with timestamps: 66 bytes

VARIANTS = ("normal", "page")


def bnxt_rx_page_size(page_size):
    """BNXT_RX_PAGE_SIZE (bnxt.h): PAGE_SIZE, but 32 KB on 64 KB pages, "The RXBD length is
    16-bit so we can only support page sizes < 64K"."""
    check_page_size(page_size)
    return min(page_size, 1 << 15)


def bnxt_head_pool_size(page_size, ring_size):
    """bnxt_alloc_rx_page_pool(): heads get a page_pool of their own where bnxt_separate_head_pool()
    (PAGE_SIZE > BNXT_RX_PAGE_SIZE), of pool_size min(rx_ring_size / rx_size_fac, 1024), rx_size_fac
    = PAGE_SIZE / SZ_4K; 0 where heads share the pool."""
    if page_size <= bnxt_rx_page_size(page_size):
        return 0
    return min(ring_size // (page_size // 4096), 1024)


def bnxt_page_shift(page_size):
    """BNXT_PAGE_SHIFT (bnxt.h): the descriptor ring page the hardware supports: 12 or
    PAGE_SHIFT up to 13, 13 below 16, else 16."""
    shift = check_page_size(page_size).bit_length() - 1
    return 12 if shift < 12 else shift if shift <= 13 else 13 if shift < 16 else 16


def rx_desc_cnt(page_size):
    """RX_DESC_CNT = BNXT_PAGE_SIZE / sizeof(struct rx_bd) (bnxt.h)."""
    return (1 << bnxt_page_shift(page_size)) // RX_BD_SIZE


def bnxt_ring_limits(page_size):
    """(BNXT_MAX_RX_DESC_CNT, BNXT_MAX_RX_DESC_CNT_JUM_ENA, MAX_RX_AGG_PAGES) of bnxt.h: 32, 8
    and 32 descriptor pages (4, 1 and 4 when BNXT_PAGE_SHIFT is 16)."""
    desc = rx_desc_cnt(page_size)
    big = bnxt_page_shift(page_size) == 16
    max_rx_pages, agg_ena, agg_pages = (4, 1, 4) if big else (32, 8, 32)
    return desc * max_rx_pages - 1, desc * agg_ena - 1, agg_pages


def bnxt_calc_nr_ring_pages(ring_size, desc_per_pg):
    """bnxt_calc_nr_ring_pages(): ring_size / desc_per_pg + 1, rounded up to a power of two
    (1 when the ring fits one page)."""
    pages = ring_size // desc_per_pg
    if not pages:
        return 1
    pages += 1
    return 1 << (pages - 1).bit_length()


def bnxt_max_page_mode_mtu(page_size, arch="arm64", max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """BNXT_MAX_PAGE_MODE_MTU (bnxt.h): PAGE_SIZE - VLAN_ETH_HLEN - NET_IP_ALIGN -
    XDP_PACKET_HEADROOM - SKB_DATA_ALIGN(sizeof(struct skb_shared_info)): 3500 on 4 KB pages."""
    check_page_size(page_size)
    shinfo = skb_shinfo_aligned(max_skb_frags, arch_info(arch).smp_cache_bytes)
    return page_size - VLAN_ETH_HLEN - NET_IP_ALIGN - XDP_PACKET_HEADROOM - shinfo


def bnxt_default_hds_thresh(arch="arm64", max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """bnxt_init_ring_params(): "Try to fit 4 chunks into a 4k page": hds_thresh =
    max(BNXT_DEFAULT_RX_COPYBREAK, SZ_1K - NET_SKB_PAD - SKB_DATA_ALIGN(sizeof(struct
    skb_shared_info))) = 640."""
    shinfo = skb_shinfo_aligned(max_skb_frags, arch_info(arch).smp_cache_bytes)
    return max(BNXT_DEFAULT_RX_COPYBREAK, 1024 - NET_SKB_PAD - shinfo)


def mtu_range(page_size, xdp, xdp_frags=False, max_mtu=BNXT_MAX_MTU, arch="arm64",
              max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """ETH_ZLEN..dev->max_mtu: bp->max_mtu, or in page mode (__bnxt_set_rx_skb_mode)
    min(bp->max_mtu, BNXT_MAX_MTU) for a multi-buffer XDP program, else
    min(bp->max_mtu, BNXT_MAX_PAGE_MODE_MTU)."""
    if not xdp:
        return ETH_ZLEN, max_mtu
    if xdp_frags:
        return ETH_ZLEN, min(max_mtu, BNXT_MAX_MTU)
    return ETH_ZLEN, min(max_mtu, bnxt_max_page_mode_mtu(page_size, arch, max_skb_frags))


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise bad(name, value, "True or False")
    return value


def _frame_truesize(head_len, head_build, agg_bufs, rx_page, page_size, arch, max_skb_frags, copybreak,
                    header_len):
    """(truesize, truesize_pinned, head_copied) of one frame whose first ``head_len`` bytes are
    in the RX buffer and the rest in ``agg_bufs`` aggregation buffers. bnxt_rx_pkt(): ``len <=
    bp->rx_copybreak`` copies the head (bnxt_copy_skb -> napi_alloc_skb(len)) and reuses the
    buffer; otherwise ``head_build`` (the skb built on the buffer, napi_build_skb(data, size)),
    or for bnxt_rx_page_skb() (head_build None) napi_alloc_skb(headers) plus the page as
    fragment 0 (the hardware's payload offset, ``header_len``). __bnxt_rx_agg_netmems() adds each aggregation buffer with truesize
    BNXT_RX_PAGE_SIZE."""
    sk_buff = build_skb_truesize(page_size, arch, max_skb_frags) - page_size
    if head_len <= copybreak:
        head = napi_alloc_skb_truesize(head_len, page_size, arch, max_skb_frags)
        return head + agg_bufs * rx_page, head + agg_bufs * rx_page, True
    if head_build is None:  # bnxt_rx_page_skb: headers copied, the page is frag 0
        head = napi_alloc_skb_truesize(min(head_len, header_len), page_size, arch, max_skb_frags)
        return head + (agg_bufs + 1) * rx_page, head + (agg_bufs + 1) * rx_page, False
    size, share = head_build
    return build_skb_truesize(size, arch, max_skb_frags) + agg_bufs * rx_page, \
        share + sk_buff + agg_bufs * rx_page, False


def bnxt_rx_geometry(page_size, mtu, xdp=False, arch="arm64", ring_size=BNXT_DEFAULT_RX_RING_SIZE,
                     queues=DEFAULT_QUEUES, gro_hw=True, hds=False, hds_thresh=None,
                     rx_copybreak=BNXT_DEFAULT_RX_COPYBREAK, xdp_frags=False, max_mtu=BNXT_MAX_MTU,
                     max_tpa=MAX_TPA_P5, header_split=True, header_len=HEADER_LEN,
                     max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """One bnxt_en RX ring's buffers, and the truesize of a full-MTU frame (MTU + ETH_HLEN).

    ``xdp`` puts the ring in page mode (bnxt_xdp_set -> bnxt_set_rx_skb_mode(bp, true)): one
    BNXT_RX_PAGE_SIZE buffer per descriptor (a whole page, or a 32 KB page_pool fragment of a
    64 KB page), XDP_PACKET_HEADROOM in front, no TPA (bnxt_fix_features drops NETIF_F_GRO_HW).
    An MTU above BNXT_MAX_PAGE_MODE_MTU needs ``xdp_frags`` (a multi-buffer program) and then
    takes the aggregation ring (BNXT_FLAG_JUMBO, bnxt_rx_multi_page_skb).

    Normal mode carves rx_buf_size heads from the head page_pool (page_pool_alloc_frag of
    order-0 pages, each slice ALIGN()ed to dma_get_cache_alignment()). With ``gro_hw`` (TPA),
    ``hds`` (ethtool tcp-data-split on) or a frame that does not fit a page, the aggregation
    ring is on: agg_factor BNXT_RX_PAGE_SIZE buffers per RX descriptor, and the heads shrink to
    max3(BNXT_DEFAULT_RX_COPYBREAK, rx_copybreak, hds_thresh) bytes (1 KB with the defaults,
    "4 chunks into a 4k page"). TPA holds ``max_tpa`` more heads (bnxt_alloc_one_tpa_info_data).
    A ring above BNXT_MAX_RX_DESC_CNT_JUM_ENA is then cut to it, as the driver warns.
    """
    arch_info(arch)
    check_page_size(page_size, arch)
    for name, value in (("xdp", xdp), ("gro_hw", gro_hw), ("hds", hds), ("xdp_frags", xdp_frags),
                        ("header_split", header_split)):
        _check_bool(name, value)
    max_mtu = check_int_range("max_mtu", max_mtu, ETH_ZLEN, BNXT_MAX_MTU)
    rx_copybreak = check_int_range("rx_copybreak", rx_copybreak, 0, BNXT_MAX_RX_COPYBREAK)
    if hds_thresh is None:
        hds_thresh = bnxt_default_hds_thresh(arch, max_skb_frags)
    hds_thresh = check_int_range("hds_thresh", hds_thresh, 0, BNXT_HDS_THRESHOLD_MAX)
    max_tpa = check_int_range("max_tpa", max_tpa, 1, 65535)
    header_len = check_int_range("header_len", header_len, ETH_HLEN, 1024)
    queues = check_int_range("queues", queues, 1, BNXT_MAX_QUEUES)
    max_desc, max_desc_jumbo, max_agg_pages = bnxt_ring_limits(page_size)
    ring_size = check_int_range("ring_size", ring_size, 1, max_desc)  # bnxt_set_ringparam: -EINVAL above
    if xdp and hds:  # bnxt_xdp_set()
        raise bad("hds", hds, "False while an XDP program is attached (bnxt_xdp_set: "
                  "\"XDP is disallowed when HDS is enabled.\")")
    page_mode_mtu = bnxt_max_page_mode_mtu(page_size, arch, max_skb_frags)
    if isinstance(mtu, bool) or not isinstance(mtu, int):
        raise bad("mtu", mtu, "an integer")
    if xdp and not xdp_frags and mtu > page_mode_mtu:  # bnxt_xdp_set()
        raise bad("mtu", mtu, f"{ETH_ZLEN}..{page_mode_mtu} with XDP on {page_size}-byte pages (bnxt_xdp_set: "
                  f"\"MTU {mtu} larger than {page_mode_mtu} without XDP frag support.\")")
    lo, hi = mtu_range(page_size, xdp, xdp_frags, max_mtu, arch, max_skb_frags)
    if not lo <= mtu <= hi:  # dev_validate_mtu(): "mtu greater than device maximum"
        raise bad("mtu", mtu, f"{lo}..{hi} (dev->max_mtu)")

    a = arch_info(arch)
    shinfo = skb_shinfo_aligned(max_skb_frags, a.smp_cache_bytes)
    rx_page = bnxt_rx_page_size(page_size)
    desc = rx_desc_cnt(page_size)
    datasize = mtu + ETH_HLEN
    page_mode = xdp
    tpa = gro_hw and not xdp  # bnxt_set_tpa_flags(); bnxt_fix_features() with an XDP program
    jumbo_page_mode = page_mode and mtu > page_mode_mtu  # __bnxt_set_rx_skb_mode()
    no_agg_rings = page_mode and not jumbo_page_mode

    # bnxt_set_ring_params(): "8 for CRC and VLAN"
    rx_size = skb_data_align(mtu + ETH_HLEN + NET_IP_ALIGN + 8, a.smp_cache_bytes)
    rx_space = rx_size + align(max(NET_SKB_PAD, XDP_PACKET_HEADROOM), 8) + shinfo
    agg_factor = min(BNXT_AGG_FACTOR_MAX, 65536 // rx_page) if tpa or hds else 0
    if rx_space > page_size and not no_agg_rings:  # BNXT_FLAG_JUMBO
        jumbo_factor = align(mtu - 40, page_size) // page_size
        agg_factor = max(agg_factor, jumbo_factor)
    agg_ring_size = 0
    if agg_factor:
        ring_size = min(ring_size, max_desc_jumbo)  # "RX ring size reduced ..." (a warning)
        agg_ring_size = ring_size * agg_factor
        if bnxt_calc_nr_ring_pages(agg_ring_size, desc) > max_agg_pages:
            agg_ring_size = max_agg_pages * desc - 1  # "rx agg ring size %d reduced to %d."
        if page_mode:
            rx_space = page_size
            rx_size = page_size - align(max(NET_SKB_PAD, XDP_PACKET_HEADROOM), 8) - shinfo
        else:
            rx_size = skb_data_align(max(BNXT_DEFAULT_RX_COPYBREAK, rx_copybreak, hds_thresh) + NET_IP_ALIGN,
                                     a.smp_cache_bytes)
            rx_space = rx_size + NET_SKB_PAD + shinfo
    rx_buf_use_size, rx_buf_size = rx_size, rx_space

    # bnxt_alloc_rx_page_pool(): order-0 pages; the agg pool also feeds page-mode RX buffers
    agg_size_fac, rx_size_fac = page_size // rx_page, page_size // 4096
    pool_size = agg_ring_size // agg_size_fac + (ring_size // rx_size_fac if page_mode else 0)
    tpa_bufs = max_tpa if tpa else 0
    if page_mode:  # __bnxt_alloc_rx_page(): the page, or a BNXT_RX_PAGE_SIZE fragment of it
        alloc_size, headroom, per_page = rx_page, XDP_PACKET_HEADROOM, page_size // rx_page
    else:  # __bnxt_alloc_rx_frag(): page_pool_alloc_frag(head_pool, rx_buf_size)
        alloc_size, headroom = rx_buf_size, NET_SKB_PAD
        per_page = buffers_per_page(rx_buf_size, page_size, 0, dma_get_cache_alignment(arch))
    head_pages = -(-(ring_size + tpa_bufs) // per_page)
    agg_pages = -(-agg_ring_size // agg_size_fac)

    # Where a full-MTU frame lands (bnxt_rx_pkt), and what the skb is charged
    if agg_ring_size and not page_mode and header_split and datasize > hds_thresh:
        head_len = min(header_len, datasize)
    else:
        head_len = min(datasize, rx_buf_use_size)  # jumbo_thresh = rx_buf_use_size
    agg_bufs = -(-(datasize - head_len) // rx_page)
    share = page_size // per_page
    if not page_mode:
        head_build = (rx_buf_size, share)  # bnxt_rx_skb: napi_build_skb(data, bp->rx_buf_size)
    elif jumbo_page_mode:
        head_build = (rx_page, share)  # bnxt_rx_multi_page_skb: napi_build_skb(.., BNXT_RX_PAGE_SIZE)
    else:
        head_build = None  # bnxt_rx_page_skb
    truesize, pinned, copied = _frame_truesize(head_len, head_build, agg_bufs, rx_page, page_size, arch,
                                               max_skb_frags, rx_copybreak, header_len)
    sk_buff = build_skb_truesize(page_size, arch, max_skb_frags) - page_size
    ring_pages = head_pages + agg_pages
    return RxGeometry(
        variant="page" if page_mode else "normal", arch=arch, page_size=page_size, mtu=mtu, xdp=xdp,
        ring_size=ring_size, queues=queues, datasize=datasize, alloc_size=alloc_size, headroom=headroom,
        frag_count=per_page, frags_per_page=per_page, order=0, pool_size=pool_size,
        truesize=truesize, truesize_pinned=pinned,
        ring_pages=ring_pages, ring_bytes=ring_pages * page_size, nic_bytes=ring_pages * page_size * queues,
        buffer_bytes=pinned - sk_buff, frame_buffers=(0 if copied else 1) + agg_bufs,
        linear=head_build is not None and not copied and agg_bufs == 0, copybreak=rx_copybreak,
        agg_ring_size=agg_ring_size, agg_buf_size=rx_page if agg_ring_size else 0, tpa_bufs=tpa_bufs,
        header_split=bool(agg_ring_size) and not page_mode and header_split, hds_thresh=hds_thresh,
        head_use_size=rx_buf_use_size, header_len=header_len,
        head_pool_size=bnxt_head_pool_size(page_size, ring_size),
    )
