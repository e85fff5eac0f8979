"""mlx5 RX buffer geometry: the legacy cyclic RQ and the striding (multi-packet WQE) RQ.

Follows drivers/net/ethernet/mellanox/mlx5/core/en/params.c, en_main.c, en_rx.c, en/xdp.c and
en.h of Linux v6.19 (the newest release whose whole tree was at hand):
mlx5e_build_rq_params(), mlx5e_rx_is_linear_skb(), mlx5e_rx_get_linear_stride_sz(),
mlx5e_build_rq_frags_info(), mlx5e_init_frags_partition(), mlx5e_mpwrq_log_wqe_sz(),
mlx5e_rx_mpwqe_is_linear_skb(), mlx5e_verify_rx_mpwqe_strides(),
mlx5e_mpwqe_get_log_stride_size(), mlx5e_mpwqe_get_log_num_strides(),
mlx5e_mpwqe_get_log_rq_size(), mlx5e_alloc_rq() (page_pool size), mlx5e_params_validate_xdp(),
mlx5e_xdp_max_mtu(), and the skbs of mlx5e_skb_from_cqe_linear(), _nonlinear(),
mlx5e_skb_from_cqe_mpwrq_linear() and _nonlinear(). HW-GRO/LRO (SHAMPO) and AF_XDP are not
modelled: packet_merge is MLX5E_PACKET_MERGE_NONE, the driver's default.

The commits that brought the behaviours, as Fixes: tags name them (the releases from their dates,
not checked against a tree): 461017cb006a "net/mlx5e: Support RX multi-packet WQE (Striding RQ)"
(2016, Linux 4.7: WQEs cut in strides, a packet in consecutive strides); 619a8f2a42f1 "net/mlx5e:
Use linear SKB in Striding RQ" (2018, 4.18: one packet per stride, the skb built on it, when
mlx5e_rx_mpwqe_is_linear_skb()); 069d11465a80 "net/mlx5e: RX, Enhance legacy Receive Queue memory
scheme" (2018, 4.18: the legacy RQ's fragment strides, mlx5e_build_rq_frags_info and
mlx5e_init_frags_partition). Not found: the commits behind mlx5e_mpwqe_get_log_stride_size()'s
PAGE_SHIFT stride with XDP and its fallback when the linear stride fails
mlx5e_verify_rx_mpwqe_strides(). A fix posted in 2025, "net/mlx5e: Make DEFAULT_FRAG_SIZE relative
to page size" (PAGE_SIZE / 2 instead of 2048), is not followed here: it was not found in a tree.

Device capabilities are parameters: ``striding_rq_cap`` (MLX5_CAP_GEN striding_rq,
umr_ptr_rlky and reg_umr_sq, mlx5e_check_fragmented_striding_rq_cap), ``ext_stride_num_range``
(MLX5_CAP_GEN: 2^3 rather than 2^9 strides at least per WQE, include/linux/mlx5/device.h
MLX5_MPWQE_LOG_NUM_STRIDES_EXT_BASE), ``max_wqe_sz_sq`` (the SQ's largest WQE, which bounds a UMR
WQE and so the striding WQE: en.h mlx5e_get_max_sq_wqebbs() "hardens the limitation to 1KB (16
WQEBBs), unless firmware capability is stricter"), ``cache_line_128byte`` (the minimum stride,
MLX5_MPWRQ_MIN_LOG_STRIDE_SZ) and ``max_mtu`` (the port's, mlx5e_set_netdev_mtu_boundaries()
via mlx5_query_port_max_mtu). Defaults assume a device that has all of them and does not
restrict the WQE below the driver's own 1 KB; ``max_mtu`` 9978 is an assumption (admits MTU
9000, the largest the tests use), not a measured device value.
"""

from rxlab.errors import bad, check_choice, check_int_range
from rxlab.kernel.geometry import RxGeometry
from rxlab.kernel.sizes import (
    ETH_DATA_LEN,
    ETH_HLEN,
    ETH_MIN_MTU,
    MAX_SKB_FRAGS_DEFAULT,
    NET_SKB_PAD,
    SKB_SMALL_HEAD_CACHE_SIZE,
    XDP_PACKET_HEADROOM,
    arch_info,
    build_skb_truesize,
    check_page_size,
    skb_data_align,
    skb_shinfo_aligned,
)
from rxlab.kernel.skbuff import NET_IP_ALIGN, napi_alloc_skb_truesize

MLX5E_ETH_HARD_MTU = ETH_HLEN + 4 + 4  # en.h: ETH_HLEN + VLAN_HLEN + ETH_FCS_LEN = params->hard_mtu
MLX5_RX_HEADROOM = NET_SKB_PAD  # en.h
MLX5E_RX_MAX_HEAD = 256  # en.h: the head a non-linear striding-RQ skb is given
DEFAULT_FRAG_SIZE = 2048  # params.c
MLX5E_MAX_RX_FRAGS = 4  # en.h
MLX5_MPWRQ_MAX_LOG_WQE_SZ = 18  # params.c (17 on an ECPF's representors, not modelled)
MLX5_MPWQE_LOG_STRIDE_SZ_BASE, MLX5_MPWQE_LOG_STRIDE_SZ_MAX = 6, 13  # include/linux/mlx5/device.h
MLX5_MPWQE_LOG_NUM_STRIDES_BASE, MLX5_MPWQE_LOG_NUM_STRIDES_EXT_BASE = 9, 3  # device.h
MLX5_MPWQE_LOG_NUM_STRIDES_MAX = 16  # device.h
MLX5E_PARAMS_MINIMUM_LOG_RQ_SIZE_MPW = 2  # en.h
MLX5E_PARAMS_DEFAULT_LOG_RQ_SIZE = 10  # en.h: 1024 MTU-sized frames
MLX5E_PARAMS_MAXIMUM_LOG_RQ_SIZE = 13  # en.h
MLX5_SEND_WQE_BB = 64  # include/linux/mlx5/qp.h
MLX5_SEND_WQE_MAX_WQEBBS = 16  # include/linux/mlx5/qp.h
MLX5_UMR_FLEX_ALIGNMENT = 64  # include/linux/mlx5/device.h
# sizeof(struct mlx5e_umr_wqe): mlx5_wqe_ctrl_seg 16 + mlx5_wqe_umr_ctrl_seg 48 + mlx5_mkey_seg 64
SIZEOF_UMR_WQE_HDR = 16 + 48 + 64
SIZEOF_MLX5_MTT = 8  # struct mlx5_mtt: one __be64 per page (MLX5E_MPWRQ_UMR_MODE_ALIGNED)
MLX5E_MAX_RQ_NUM_MTTS = (65535 & ~3) * 2  # en.h: ALIGN_DOWN(U16_MAX, 4) * 2
MAX_WQE_SZ_SQ_DEFAULT = MLX5_SEND_WQE_MAX_WQEBBS * MLX5_SEND_WQE_BB
MLX5_MAX_MTU_DEFAULT = 9978
ETH_MAX_MTU = 65535  # include/uapi/linux/if_ether.h
MLX5_MAX_QUEUES = 256  # the device's completion vectors bound it (mlx5e_get_max_num_channels); rxlab's cap
DEFAULT_QUEUES = 16  # as MANA_DEF_NUM_QUEUES, so NIC totals compare across drivers

RQ_TYPES = ("auto", "cyclic", "striding")


def _pow2_up(x):
    """roundup_pow_of_two(x)."""
    return 1 << (x - 1).bit_length()


def _order_base_2(x):
    return (x - 1).bit_length()


def min_log_rq_size(page_size, arch="arm64", max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """MLX5E_PARAMS_MINIMUM_LOG_RQ_SIZE (en.h): 1 + ilog2(PAGE_SIZE / roundup_pow_of_two(
    MLX5_SKB_FRAG_SZ(MLX5_RX_HEADROOM))): 4, 6, 8 on 4, 16, 64 KB pages."""
    a = arch_info(arch)
    min_frag = skb_data_align(MLX5_RX_HEADROOM, a.smp_cache_bytes) + skb_shinfo_aligned(max_skb_frags,
                                                                                        a.smp_cache_bytes)
    return 1 + (page_size // _pow2_up(min_frag)).bit_length() - 1


def mlx5e_mpwrq_log_wqe_sz(page_size, max_wqe_sz_sq=MAX_WQE_SZ_SQ_DEFAULT, arch="arm64"):
    """mlx5e_mpwrq_log_wqe_sz(): the striding WQE is as many pages as one UMR WQE can map:
    max_wqe_size = mlx5e_get_max_sq_aligned_wqebbs() * MLX5_SEND_WQE_BB (min(16, max_wqe_sz_sq /
    64) WQEBBs, at most 15, even when L1_CACHE_BYTES >= 128), pages = ALIGN_DOWN(max_wqe_size -
    sizeof(struct mlx5e_umr_wqe), 64) / sizeof(struct mlx5_mtt); log = ilog2(pages) + PAGE_SHIFT,
    capped at MLX5_MPWRQ_MAX_LOG_WQE_SZ: 18 (256 KB) on every page size by default."""
    wqebbs = min(MLX5_SEND_WQE_MAX_WQEBBS, max_wqe_sz_sq // MLX5_SEND_WQE_BB, MLX5_SEND_WQE_MAX_WQEBBS - 1)
    if arch_info(arch).smp_cache_bytes >= 128:
        wqebbs &= ~1
    max_pages = ((wqebbs * MLX5_SEND_WQE_BB - SIZEOF_UMR_WQE_HDR) & ~(MLX5_UMR_FLEX_ALIGNMENT - 1)) // SIZEOF_MLX5_MTT
    return min(max_pages.bit_length() - 1 + page_size.bit_length() - 1, MLX5_MPWRQ_MAX_LOG_WQE_SZ)


def mlx5e_xdp_max_mtu(page_size, arch="arm64", max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """en/xdp.c mlx5e_xdp_max_mtu(): MLX5E_HW2SW_MTU(SKB_MAX_HEAD(XDP headroom)) = PAGE_SIZE -
    SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) - (NET_IP_ALIGN + XDP_PACKET_HEADROOM) -
    hard_mtu: the largest MTU whose frame is linear with XDP (3498 on 4 KB pages)."""
    shinfo = skb_shinfo_aligned(max_skb_frags, arch_info(arch).smp_cache_bytes)
    return page_size - shinfo - (NET_IP_ALIGN + XDP_PACKET_HEADROOM) - MLX5E_ETH_HARD_MTU


class _Params:
    """The mlx5e_params fields the RX geometry reads, and the functions of params.c over them."""

    def __init__(self, page_size, mtu, xdp, arch, max_skb_frags, ext_stride_num_range, max_wqe_sz_sq,
                 cache_line_128byte):
        a = arch_info(arch)
        self.page_size, self.xdp, self.cache = page_size, xdp, a.smp_cache_bytes
        self.shinfo = skb_shinfo_aligned(max_skb_frags, a.smp_cache_bytes)
        self.hw_mtu = mtu + MLX5E_ETH_HARD_MTU  # MLX5E_SW2HW_MTU
        self.ext = ext_stride_num_range
        self.log_wqe_sz = mlx5e_mpwrq_log_wqe_sz(page_size, max_wqe_sz_sq, arch)
        self.min_log_stride = 6 + int(cache_line_128byte)  # MLX5_MPWRQ_MIN_LOG_STRIDE_SZ

    def skb_frag_sz(self, length):
        """MLX5_SKB_FRAG_SZ(len) = SKB_DATA_ALIGN(len) + SKB_DATA_ALIGN(sizeof(skb_shared_info))."""
        return skb_data_align(length, self.cache) + self.shinfo

    @property
    def headroom(self):
        """mlx5e_get_linear_rq_headroom(): NET_IP_ALIGN + XDP_PACKET_HEADROOM or MLX5_RX_HEADROOM."""
        return NET_IP_ALIGN + (XDP_PACKET_HEADROOM if self.xdp else MLX5_RX_HEADROOM)

    def linear_sz_skb(self, no_head_tail_room=False):
        """mlx5e_rx_get_linear_sz_skb()."""
        if no_head_tail_room:
            return skb_data_align(self.hw_mtu, self.cache)
        return self.skb_frag_sz(self.headroom + self.hw_mtu)

    def is_linear_skb(self):
        """mlx5e_rx_is_linear_skb(): the whole frame, headroom and shared info fit one page."""
        return self.linear_sz_skb() <= self.page_size

    def linear_stride_sz(self, mpwqe):
        """mlx5e_rx_get_linear_stride_sz(): "XDP in mlx5e doesn't support multiple packets per
        page", so with XDP at least PAGE_SIZE."""
        no_htr = self.xdp and mpwqe and not self.is_linear_skb()
        sz = _pow2_up(self.linear_sz_skb(no_htr))
        return self.page_size if self.xdp and sz < self.page_size else sz

    def verify_strides(self, log_stride_sz, log_num_strides):
        """mlx5e_verify_rx_mpwqe_strides()."""
        if log_stride_sz + log_num_strides != self.log_wqe_sz:
            return False
        if not MLX5_MPWQE_LOG_STRIDE_SZ_BASE <= log_stride_sz <= MLX5_MPWQE_LOG_STRIDE_SZ_MAX:
            return False
        if log_num_strides > MLX5_MPWQE_LOG_NUM_STRIDES_MAX:
            return False
        return log_num_strides >= (MLX5_MPWQE_LOG_NUM_STRIDES_EXT_BASE if self.ext else
                                   MLX5_MPWQE_LOG_NUM_STRIDES_BASE)

    def mpwqe_is_linear_skb(self):
        """mlx5e_rx_mpwqe_is_linear_skb(): one packet per stride, the stride a valid size."""
        if not self.is_linear_skb():
            return False
        log_stride = _order_base_2(self.linear_stride_sz(True))
        if self.log_wqe_sz < log_stride:
            return False
        return self.verify_strides(log_stride, self.log_wqe_sz - log_stride)

    def log_stride_size(self):
        """mlx5e_mpwqe_get_log_stride_size(): the linear stride; with XDP and a non-linear frame
        PAGE_SHIFT; else MLX5_MPWRQ_DEF_LOG_STRIDE_SZ = max(min stride, order_base_2(256))."""
        if self.mpwqe_is_linear_skb():
            return _order_base_2(self.linear_stride_sz(True))
        if self.xdp:
            return self.page_size.bit_length() - 1
        return max(self.min_log_stride, _order_base_2(MLX5E_RX_MAX_HEAD))

    def log_rq_size(self, log_rq_mtu_frames):
        """mlx5e_mpwqe_get_log_rq_size(): log_rq_mtu_frames less the log of linear-stride packets
        per WQE (the linear stride even when the RQ is not linear), at least
        MLX5E_PARAMS_MINIMUM_LOG_RQ_SIZE_MPW, at most the MTT budget's max_log_rq_size."""
        log_pkts = self.log_wqe_sz - _order_base_2(self.linear_stride_sz(True))
        pages_per_wqe = max(2, 1 << (self.log_wqe_sz - (self.page_size.bit_length() - 1)))
        mtts = -(-(pages_per_wqe + 1) // (MLX5_SEND_WQE_BB // SIZEOF_MLX5_MTT)) * (MLX5_SEND_WQE_BB // SIZEOF_MLX5_MTT)
        max_log_rq_size = (MLX5E_MAX_RQ_NUM_MTTS // mtts).bit_length() - 1
        if log_rq_mtu_frames < log_pkts + MLX5E_PARAMS_MINIMUM_LOG_RQ_SIZE_MPW:
            return MLX5E_PARAMS_MINIMUM_LOG_RQ_SIZE_MPW
        if log_rq_mtu_frames > log_pkts + max_log_rq_size:
            return max_log_rq_size
        return log_rq_mtu_frames - log_pkts


def mlx5e_build_rq_frags_info(p, mtu):
    """mlx5e_build_rq_frags_info(): the legacy RQ's per-WQE fragments as (frag_size,
    frag_stride) pairs and wqe_index_mask. Linear: one stride, the linear stride. Otherwise up
    to MLX5E_MAX_RX_FRAGS fragments of DEFAULT_FRAG_SIZE (PAGE_SIZE when the frame needs it or
    with XDP), the first SKB_WITH_OVERHEAD(frag_size_max - headroom) bytes, the last taking the
    rest; strides roundup_pow_of_two() of each (the first with headroom and shared info), all
    frag_size_max with XDP. A frame beyond that: the kernel's -EINVAL, "MTU %u is too big for
    non-linear legacy RQ (max %d)"."""
    byte_count = p.hw_mtu
    if p.is_linear_skb():
        stride = p.linear_stride_sz(False)
        return [(byte_count, stride)], p.page_size // stride - 1

    def max_nonlinear_mtu(first, size):  # mlx5e_max_nonlinear_mtu()
        if p.xdp:
            return first + (MLX5E_MAX_RX_FRAGS - 1) * size
        return first + (MLX5E_MAX_RX_FRAGS - 2) * size + p.page_size

    frag_size_max = DEFAULT_FRAG_SIZE
    first_max = frag_size_max - p.headroom - p.shinfo
    if byte_count > max_nonlinear_mtu(first_max, frag_size_max) or p.xdp:
        frag_size_max = p.page_size
        first_max = frag_size_max - p.headroom - p.shinfo
        limit = max_nonlinear_mtu(first_max, frag_size_max)
        if byte_count > limit:
            raise bad("mtu", mtu, f"at most {limit - MLX5E_ETH_HARD_MTU} for the legacy RQ on {p.page_size}-byte "
                      f"pages (mlx5e_build_rq_frags_info: \"MTU {mtu} is too big for non-linear legacy RQ "
                      f"(max {limit})\")")
    frags, buf = [], 0
    while buf < byte_count:
        size = byte_count - buf
        i = len(frags)
        if i == 0:
            size = min(size, first_max)
        elif i < MLX5E_MAX_RX_FRAGS - 1:
            size = min(size, frag_size_max)
        buf += size
        if p.xdp:
            stride = frag_size_max
        else:
            stride = _pow2_up(size + (p.headroom + p.shinfo if i == 0 else 0))
        frags.append((size, stride))
    mask = 0 if frag_size_max == p.page_size else len(frags) % 2
    return frags, mask


def mlx5e_init_frags_partition(strides, wqes, page_size):
    """en_main.c mlx5e_init_frags_partition(): fragments laid out WQE after WQE, a new page (the next
    struct mlx5e_frag_page) whenever the next stride would cross PAGE_SIZE, the fragment before it
    flagged MLX5E_WQE_FRAG_LAST_IN_PAGE, and so the ring's last. Returns one (page slot, offset,
    last in page) per fragment, WQE by WQE."""
    frags, slot, offset = [], 0, 0
    for _ in range(wqes):
        for stride in strides:
            if offset + stride > page_size:
                frags[-1] = frags[-1][:2] + (True,)
                slot, offset = slot + 1, 0
            frags.append((slot, offset, False))
            offset += stride
    frags[-1] = frags[-1][:2] + (True,)
    return frags


def _partition_pages(strides, wqes, page_size):
    """The pages the whole ring takes (mlx5e_init_frags_partition)."""
    return mlx5e_init_frags_partition(strides, wqes, page_size)[-1][0] + 1


def mlx5e_rx_compute_wqe_bulk_params(strides, wqe_index_mask, log_rq_mtu_frames, page_size, xdp,
                                     pp_cache_refill=64):
    """params.c mlx5e_rx_compute_wqe_bulk_params(): (wqe_bulk, refill_unit). mlx5e_post_rx_wqes()
    refills once wqe_bulk WQEs are missing: min(MAX_WQE_BULK_BYTES, a quarter of the ring) in bytes of
    the WQE's strides (ALIGN'ed to PAGE_SIZE beyond it), at least wqe_index_mask + 1 WQEs; and does so
    in refill units of wqe_bulk / DIV_ROUND_UP(MAX_WQE_BULK_BYTES, PP_ALLOC_CACHE_REFILL * PAGE_SIZE),
    "to avoid overflowing the page pool cache". MAX_WQE_BULK_BYTES: 512 KB, 256 KB with XDP."""
    total = sum(strides)
    if total > page_size:
        total = -(-total // page_size) * page_size
    max_bytes = (256 if xdp else 512) * 1024
    wqe_bulk = max(wqe_index_mask + 1, -(-min(max_bytes, ((1 << log_rq_mtu_frames) // 4) * total) // total))
    split_factor = -(-max_bytes // (pp_cache_refill * page_size))
    return wqe_bulk, -(-wqe_bulk // split_factor)


UMR_WQE_BULK = 2  # params.c mlx5e_mpwqe_get_min_wqe_bulk()


def mlx5e_mpwqe_get_min_wqe_bulk(wq_sz):
    """params.c mlx5e_mpwqe_get_min_wqe_bulk(): the striding RQ refills once min(UMR_WQE_BULK, wq_sz / 2 - 1)
    WQEs are missing (mlx5e_post_rx_mpwqes)."""
    return min(UMR_WQE_BULK, wq_sz // 2 - 1)


def mpwrq_nonlinear_head(page_size, arch="arm64", max_skb_frags=MAX_SKB_FRAGS_DEFAULT):
    """The head mlx5e_skb_from_cqe_mpwrq_nonlinear() copies into: napi_alloc_skb(ALIGN(MLX5E_RX_MAX_HEAD,
    sizeof(long))). Returns (bytes of the page_frag cache it takes, 0 for a kmalloc'ed head, and its
    skb->truesize): __napi_alloc_skb() sends len + NET_SKB_PAD + NET_IP_ALIGN up to
    SKB_WITH_OVERHEAD(SKB_SMALL_HEAD_CACHE_SIZE), or beyond SKB_WITH_OVERHEAD(PAGE_SIZE), to __alloc_skb()
    (kmalloc_reserve), else takes SKB_HEAD_ALIGN(len) of the per-CPU page_frag cache. On x86_64 and arm64
    (NET_IP_ALIGN 0) the 320 bytes fit the small-head cache."""
    a = arch_info(arch)
    shinfo = skb_shinfo_aligned(max_skb_frags, a.smp_cache_bytes)
    n = MLX5E_RX_MAX_HEAD + NET_SKB_PAD + NET_IP_ALIGN
    kmalloced = n <= SKB_SMALL_HEAD_CACHE_SIZE - shinfo or n > page_size - shinfo
    return (0 if kmalloced else skb_data_align(n, a.smp_cache_bytes) + shinfo,
            napi_alloc_skb_truesize(MLX5E_RX_MAX_HEAD, page_size, arch, max_skb_frags))


def mlx5_rx_geometry(page_size, mtu, xdp=False, arch="arm64", ring_size=1 << MLX5E_PARAMS_DEFAULT_LOG_RQ_SIZE,
                     queues=DEFAULT_QUEUES, rq_type="auto", xdp_frags=False, striding_rq_cap=True,
                     ext_stride_num_range=True, max_wqe_sz_sq=MAX_WQE_SZ_SQ_DEFAULT, cache_line_128byte=False,
                     max_mtu=MLX5_MAX_MTU_DEFAULT, max_skb_frags=MAX_SKB_FRAGS_DEFAULT, pp_cache_refill=64):
    """One mlx5 RQ's buffers and the truesize of a full-MTU frame (MTU + ETH_HLEN).

    ``rq_type="auto"`` is what mlx5e_build_rq_params() picks at probe, with the default MTU
    (ETH_DATA_LEN) and no XDP program: the striding RQ when the device can and either the
    striding RQ is linear or the legacy one would not be. The choice is a private flag
    (rx_striding_rq) that later MTU changes and XDP programs keep; "cyclic" and "striding" are
    ``ethtool --set-priv-flags rx_striding_rq off|on``.

    ``pp_cache_refill``: the kernel's PP_ALLOC_CACHE_REFILL, which sizes the legacy RQ's refill units.

    ``ring_size`` is ethtool's rx count: log_rq_mtu_frames = order_base_2(rx) MTU-sized frames
    (mlx5e_ethtool_set_ringparam). The legacy RQ has that many WQEs; the striding RQ
    2^mlx5e_mpwqe_get_log_rq_size() WQEs of 2^log_wqe_sz bytes (256 KB) each.
    """
    arch_info(arch)
    check_page_size(page_size, arch)
    for name, value in (("xdp", xdp), ("xdp_frags", xdp_frags), ("striding_rq_cap", striding_rq_cap),
                        ("ext_stride_num_range", ext_stride_num_range),
                        ("cache_line_128byte", cache_line_128byte)):
        if not isinstance(value, bool):
            raise bad(name, value, "True or False")
    check_choice("rq_type", rq_type, RQ_TYPES)
    max_wqe_sz_sq = check_int_range("max_wqe_sz_sq", max_wqe_sz_sq, SIZEOF_UMR_WQE_HDR + 2 * MLX5_SEND_WQE_BB,
                                    1 << 16)
    max_mtu = check_int_range("max_mtu", max_mtu, ETH_MIN_MTU, ETH_MAX_MTU)
    queues = check_int_range("queues", queues, 1, MLX5_MAX_QUEUES)
    lo_log = min_log_rq_size(page_size, arch, max_skb_frags)
    check_int_range("ring_size", ring_size, 1 << lo_log, 1 << MLX5E_PARAMS_MAXIMUM_LOG_RQ_SIZE)
    log_rq_mtu_frames = _order_base_2(ring_size)
    if isinstance(mtu, bool) or not isinstance(mtu, int) or not ETH_MIN_MTU <= mtu <= max_mtu:
        raise bad("mtu", mtu, f"{ETH_MIN_MTU}..{max_mtu} (the port's max MTU less hard_mtu)")
    if rq_type == "striding" and not striding_rq_cap:  # mlx5e_mpwrq_validate_regular(): -EOPNOTSUPP
        raise bad("rq_type", rq_type, "'auto' or 'cyclic': the device has no striding RQ (striding_rq_cap=False)")

    def params(m, x):
        return _Params(page_size, m, x, arch, max_skb_frags, ext_stride_num_range, max_wqe_sz_sq, cache_line_128byte)

    if rq_type == "auto":  # mlx5e_build_rq_params() at probe
        probe = params(ETH_DATA_LEN, False)
        striding = striding_rq_cap and (probe.mpwqe_is_linear_skb() or not probe.is_linear_skb())
    else:
        striding = rq_type == "striding"
    p = params(mtu, xdp)
    if xdp:  # mlx5e_xdp_allowed() -> mlx5e_params_validate_xdp()
        xdp_max = mlx5e_xdp_max_mtu(page_size, arch, max_skb_frags)
        if not (p.mpwqe_is_linear_skb() if striding else p.is_linear_skb()):
            if not xdp_frags:
                # the kernel's message names mlx5e_xdp_max_mtu() even where the MTU is below it and the
                # striding RQ is non-linear because a whole-page XDP stride exceeds its maximum stride
                why = f"at most {xdp_max}" if mtu > xdp_max else \
                    f"none on {page_size}-byte pages with the striding RQ (its XDP stride, a page, is too large)"
                raise bad("mtu", mtu, f"{why} with XDP (mlx5e_params_validate_xdp: "
                          f"\"MTU({mtu}) > {xdp_max}, too big for an XDP program not aware of multi buffer\")")
            log_stride = p.log_stride_size()
            if striding and not p.verify_strides(log_stride, p.log_wqe_sz - log_stride):
                raise bad("mtu", mtu, f"a linear frame for XDP on the striding RQ on {page_size}-byte pages "
                          f"(mlx5e_params_validate_xdp: \"XDP is not allowed with striding RQ and "
                          f"MTU({mtu}) > {xdp_max}\")")

    datasize = mtu + ETH_HLEN
    sk_buff = build_skb_truesize(page_size, arch, max_skb_frags) - page_size
    if striding:
        return _striding(p, page_size, mtu, xdp, arch, ring_size, queues, log_rq_mtu_frames, datasize, sk_buff,
                         max_skb_frags)
    frags, mask = mlx5e_build_rq_frags_info(p, mtu)
    wqes = 1 << log_rq_mtu_frames
    strides = [s for _, s in frags]
    wqe_bulk, refill_unit = mlx5e_rx_compute_wqe_bulk_params(strides, mask, log_rq_mtu_frames, page_size, xdp,
                                                             pp_cache_refill)
    ring_pages = _partition_pages(strides, wqes, page_size)
    if len(frags) == 1:  # mlx5e_skb_from_cqe_linear: napi_build_skb(va, MLX5_SKB_FRAG_SZ(headroom + bcnt))
        stride = strides[0]
        truesize = build_skb_truesize(p.skb_frag_sz(p.headroom + datasize), arch, max_skb_frags)
        used, per_page = [stride], page_size // stride
    else:  # mlx5e_skb_from_cqe_nonlinear: head on frag 0 (frame0_sz = its stride), + each frag's stride
        used, left = [], datasize
        for size, stride in frags:
            if left <= 0:
                break
            used.append(stride)
            left -= size
        truesize = build_skb_truesize(strides[0], arch, max_skb_frags) + sum(used[1:])
        per_page = max(1, page_size // strides[0])
    return RxGeometry(
        variant="cyclic", arch=arch, page_size=page_size, mtu=mtu, xdp=xdp, ring_size=wqes, queues=queues,
        datasize=datasize, alloc_size=strides[0], headroom=p.headroom, frag_count=per_page, frags_per_page=per_page,
        order=0, pool_size=wqes, truesize=truesize, truesize_pinned=sum(used) + sk_buff,
        ring_pages=ring_pages, ring_bytes=ring_pages * page_size, nic_bytes=ring_pages * page_size * queues,
        buffer_bytes=sum(used), frame_buffers=len(used), linear=len(frags) == 1, wqe_count=wqes,
        frag_strides=tuple(strides), frag_sizes=tuple(size for size, _ in frags), wqe_index_mask=mask,
        wqe_bulk=wqe_bulk, refill_unit=refill_unit,
    )


def _striding(p, page_size, mtu, xdp, arch, ring_size, queues, log_rq_mtu_frames, datasize, sk_buff, max_skb_frags):
    """The striding RQ: 2^log_rq_size WQEs of pages_per_wqe order-0 pages (mlx5e_alloc_rq:
    page_pool pool_size = pages_per_wqe << log_rq_size, twice that with XDP on non-linear
    strides, "additional page per packet for the linear part"). A frame takes
    ceil(bytes / stride) consecutive strides (the CQE's consumed strides)."""
    page_shift = page_size.bit_length() - 1
    pages_per_wqe = max(2, 1 << (p.log_wqe_sz - page_shift)) if p.log_wqe_sz > page_shift else 2
    log_stride = p.log_stride_size()
    stride = 1 << log_stride
    strides_per_wqe = 1 << (p.log_wqe_sz - log_stride)
    wqes = 1 << p.log_rq_size(log_rq_mtu_frames)
    linear = p.mpwqe_is_linear_skb()
    pool_size = pages_per_wqe * wqes * (2 if xdp and not linear else 1)
    used = -(-datasize // stride)
    if linear:  # mlx5e_skb_from_cqe_mpwrq_linear: napi_build_skb(va, MLX5_SKB_FRAG_SZ(headroom + bcnt))
        truesize = build_skb_truesize(p.skb_frag_sz(p.headroom + datasize), arch, max_skb_frags)
        pinned = stride + sk_buff
        headroom = p.headroom
    elif xdp:  # _mpwrq_nonlinear with XDP: a fresh linear page, MLX5_SKB_FRAG_SZ(256 + 256), + whole pages
        head = p.skb_frag_sz(XDP_PACKET_HEADROOM + MLX5E_RX_MAX_HEAD)
        truesize = build_skb_truesize(head, arch, max_skb_frags) + used * stride
        pinned = page_size + sk_buff + used * stride
        headroom = 0
    else:  # _mpwrq_nonlinear: napi_alloc_skb(MLX5E_RX_MAX_HEAD) + ALIGN(rest, stride)
        head = napi_alloc_skb_truesize(MLX5E_RX_MAX_HEAD, page_size, arch, max_skb_frags)
        rest = max(0, datasize - MLX5E_RX_MAX_HEAD)
        truesize = head + -(-rest // stride) * stride
        pinned = head + used * stride
        headroom = 0
    ring_pages = wqes * pages_per_wqe
    per_page = max(1, page_size // stride)
    return RxGeometry(
        variant="striding", arch=arch, page_size=page_size, mtu=mtu, xdp=xdp, ring_size=1 << log_rq_mtu_frames,
        queues=queues, datasize=datasize, alloc_size=stride, headroom=headroom, frag_count=per_page,
        frags_per_page=per_page, order=0, pool_size=pool_size, truesize=truesize, truesize_pinned=pinned,
        ring_pages=ring_pages, ring_bytes=ring_pages * page_size, nic_bytes=ring_pages * page_size * queues,
        buffer_bytes=pinned - sk_buff, frame_buffers=used, linear=linear, wqe_count=wqes,
        pages_per_wqe=pages_per_wqe, stride_size=stride, strides_per_wqe=strides_per_wqe,
    )
