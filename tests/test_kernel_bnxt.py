"""bnxt_en RX geometry against arithmetic worked by hand from Linux v6.19's bnxt.c / bnxt.h.

Constants (arm64, 64-byte cache lines, 17 frags): SKB_DATA_ALIGN(sizeof(skb_shared_info)) = 320,
sk_buff 256, NET_SKB_PAD 64, NET_IP_ALIGN 0, dma_get_cache_alignment() 128.
bnxt.h: BNXT_RX_PAGE_SIZE = min(PAGE_SIZE, 32 KB); BNXT_MAX_PAGE_MODE_MTU = PAGE_SIZE - 18 - 0 -
256 - 320 (3502 on 4 KB). bnxt_init_ring_params(): hds_thresh = max(256, 1024 - 64 - 320) = 640.
bnxt_set_ring_params(): rx_size = SKB_DATA_ALIGN(mtu + 14 + 8), rx_space = rx_size + 256 + 320;
agg_factor = min(4, 65536 / BNXT_RX_PAGE_SIZE) with TPA or HDS; with agg rings the head buffer
is SKB_DATA_ALIGN(max3(256, copybreak, hds_thresh)) + 64 + 320 = 640 + 384 = 1024.
bnxt_rx_pkt(): len <= rx_copybreak (256) copies into napi_alloc_skb(len): 66 + 64 <= 320, the
640-byte small head, truesize 640 + 256 = 896.
"""

import pytest

from rxlab.kernel.bnxt import (
    bnxt_calc_nr_ring_pages,
    bnxt_default_hds_thresh,
    bnxt_max_page_mode_mtu,
    bnxt_ring_limits,
    bnxt_rx_geometry,
)
from rxlab.kernel.skbuff import napi_alloc_skb_truesize

pytestmark = pytest.mark.no_engine  # no engine code here: the compiled pass only (CONTRIBUTING.md)

PAGES = (4096, 16384, 65536)


def test_constants():
    assert [bnxt_max_page_mode_mtu(p) for p in PAGES] == [3502, 15790, 64942]
    assert bnxt_default_hds_thresh() == 640
    # RX_DESC_CNT = BNXT_PAGE_SIZE / 16: 256, 512 (BNXT_PAGE_SHIFT 13), 4096 (16); 32/8/32 pages, 4/1/4 at 16
    assert [bnxt_ring_limits(p) for p in PAGES] == [(8191, 2047, 32), (16383, 4095, 32), (16383, 4095, 4)]
    # bnxt_calc_nr_ring_pages(): 2044 / 256 = 7, +1 = 8; 1 when it fits
    assert (bnxt_calc_nr_ring_pages(2044, 256), bnxt_calc_nr_ring_pages(200, 256),
            bnxt_calc_nr_ring_pages(1022, 256)) == (8, 1, 4)
    assert napi_alloc_skb_truesize(66) == 896  # small-head cache 640 + sk_buff 256


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("mtu", [576, 1500, 4000, 9000])
def test_normal_mode_gro_hw_default(page, mtu):
    """TPA on (the default where BNXT_SUPPORTS_TPA): the agg ring is always on, heads are 1 KB."""
    g = bnxt_rx_geometry(page, mtu)
    rx_page = min(page, 32768)
    agg_factor = min(4, 65536 // rx_page)  # 4, 4, 2
    assert (g.variant, g.alloc_size, g.headroom, g.order) == ("normal", 1024, 64, 0)
    assert g.frags_per_page == page // 1024  # page_pool_alloc_frag: ALIGN(1024, 128) slices
    assert (g.ring_size, g.agg_ring_size, g.agg_buf_size, g.tpa_bufs) == (511, 511 * agg_factor, rx_page, 256)
    assert g.pool_size == 511 * agg_factor // (page // rx_page)  # bnxt_alloc_rx_page_pool
    head_pages = -(-(511 + 256) // (page // 1024))
    agg_pages = -(-(511 * agg_factor) // (page // rx_page))
    assert g.ring_pages == head_pages + agg_pages and g.nic_bytes == 16 * g.ring_pages * page
    datasize = mtu + 14
    if datasize <= 640:  # below hds_thresh: no split; 590 bytes in the head (jumbo_thresh 640), > copybreak
        assert (g.truesize, g.frame_buffers, g.linear) == (1024 + 256, 1, True)  # napi_build_skb(data, 1024)
        assert g.truesize_pinned == page // g.frags_per_page + 256
    else:  # split: 66 header bytes copied (896), payload in ceil((datasize - 66) / rx_page) agg buffers
        n = -(-(datasize - 66) // rx_page)
        assert (g.truesize, g.truesize_pinned, g.frame_buffers, g.linear) == (896 + n * rx_page,) * 2 + (n, False)
    assert g.header_split


@pytest.mark.parametrize("page,mtu,alloc,per_page,truesize,pinned", [
    # rx_size = SKB_DATA_ALIGN(1522) = 1536, rx_space = 1536 + 576 = 2112; arm64 slices 2176
    (4096, 1500, 2112, 1, 2368, 4096 + 256),
    (16384, 1500, 2112, 7, 2368, 16384 // 7 + 256),
    (65536, 1500, 2112, 30, 2368, 65536 // 30 + 256),
    # 576: SKB_DATA_ALIGN(598) = 640, + 576 = 1216 (slices 1280)
    (4096, 576, 1216, 3, 1472, 4096 // 3 + 256),
    # 9000 on 16 KB: SKB_DATA_ALIGN(9022) = 9024 + 576 = 9600 <= 16384, one per page
    (16384, 9000, 9600, 1, 9856, 16384 + 256),
    (65536, 9000, 9600, 6, 9856, 65536 // 6 + 256),
])
def test_normal_mode_without_agg_ring(page, mtu, alloc, per_page, truesize, pinned):
    g = bnxt_rx_geometry(page, mtu, gro_hw=False)
    assert (g.alloc_size, g.frags_per_page, g.agg_ring_size, g.tpa_bufs) == (alloc, per_page, 0, 0)
    assert (g.truesize, g.truesize_pinned, g.linear) == (truesize, pinned, True)  # bnxt_rx_skb
    assert g.ring_pages == -(-511 // per_page) and g.pool_size == 0


def test_jumbo_without_tpa_takes_the_agg_ring():
    # 4 KB, MTU 9000: rx_space = 9024 + 576 > 4096 -> BNXT_FLAG_JUMBO,
    # jumbo_factor = PAGE_ALIGN(9000 - 40) >> 12 = 3; heads 1 KB; 9014 - 66 = 8948 -> 3 agg pages
    g = bnxt_rx_geometry(4096, 9000, gro_hw=False)
    assert (g.agg_ring_size, g.alloc_size, g.tpa_bufs) == (1533, 1024, 0)
    assert (g.truesize, g.frame_buffers) == (896 + 3 * 4096, 3)
    assert g.ring_pages == -(-511 // 4) + 1533
    # MTU 4000: PAGE_ALIGN(3960) >> 12 = 1; 4014 - 66 = 3948 fits one agg page
    g = bnxt_rx_geometry(4096, 4000, gro_hw=False)
    assert (g.agg_ring_size, g.truesize) == (511, 896 + 4096)


def test_header_split_off_places_jumbo_thresh_bytes_in_the_head():
    # jumbo placement: the head holds rx_buf_use_size = 640 bytes (> copybreak: napi_build_skb(1024)),
    # 9014 - 640 = 8374 -> 3 agg pages
    g = bnxt_rx_geometry(4096, 9000, header_split=False)
    assert (g.truesize, g.frame_buffers, g.header_split) == (1024 + 256 + 3 * 4096, 1 + 3, False)


@pytest.mark.parametrize("page,mtu", [(p, m) for p in PAGES for m in (576, 1500)] + [(16384, 9000), (65536, 9000)])
def test_page_mode(page, mtu):
    """XDP: bnxt_rx_page_skb(): napi_alloc_skb(66 header bytes) = 896, the BNXT_RX_PAGE_SIZE buffer as frag 0."""
    g = bnxt_rx_geometry(page, mtu, xdp=True)
    rx_page = min(page, 32768)
    assert (g.variant, g.alloc_size, g.headroom, g.frags_per_page) == ("page", rx_page, 256, page // rx_page)
    assert (g.agg_ring_size, g.tpa_bufs, g.linear) == (0, 0, False)
    assert (g.truesize, g.truesize_pinned) == (896 + rx_page,) * 2
    assert g.pool_size == 511 // (page // 4096)  # rx_ring_size / (PAGE_SIZE / SZ_4K)
    assert g.ring_pages == -(-511 // (page // rx_page))


def test_page_mode_jumbo_with_xdp_frags():
    # 4 KB, MTU 9000, multi-buffer program: BNXT_FLAG_JUMBO, agg_factor 3; rx_buf_use_size =
    # 4096 - 256 - 320 = 3520; head napi_build_skb(.., 4096) = 4352; 9014 - 3520 = 5494 -> 2 agg pages
    g = bnxt_rx_geometry(4096, 9000, xdp=True, xdp_frags=True)
    assert (g.agg_ring_size, g.alloc_size, g.truesize, g.frame_buffers) == (1533, 4096, 4352 + 2 * 4096, 3)
    assert g.pool_size == 1533 + 511  # agg_ring_size / 1 + rx_ring_size / 1
    g = bnxt_rx_geometry(4096, 4000, xdp=True, xdp_frags=True)  # factor PAGE_ALIGN(3960) >> 12 = 1
    assert (g.agg_ring_size, g.truesize) == (511, 4352 + 4096)


def test_copybreak_and_ring_caps():
    # a ring above BNXT_MAX_RX_DESC_CNT_JUM_ENA (2047 on 4 KB) is cut with the agg ring on
    assert bnxt_rx_geometry(4096, 1500, ring_size=4000).ring_size == 2047
    assert bnxt_rx_geometry(4096, 1500, ring_size=4000, gro_hw=False).ring_size == 4000
    # 2047 * 4 = 8188 agg entries: 8188 / 256 + 1 = 32 pages = MAX_RX_AGG_PAGES, kept
    assert bnxt_rx_geometry(4096, 1500, ring_size=4000).agg_ring_size == 8188
    # rx_copybreak 1024 widens the head: SKB_DATA_ALIGN(1024) + 384 = 1408
    assert bnxt_rx_geometry(4096, 1500, rx_copybreak=1024).alloc_size == 1408


@pytest.mark.parametrize("kw,msg", [
    ({"mtu": 4000, "xdp": True},
     r'mtu=4000 is not allowed: 60\.\.3502 .*"MTU 4000 larger than 3502 without XDP frag support\."'),
    ({"mtu": 9000, "xdp": True},
     r'"MTU 9000 larger than 3502 without XDP frag support\."'),
    ({"mtu": 1500, "xdp": True, "hds": True}, r'"XDP is disallowed when HDS is enabled\."'),
    ({"mtu": 9501}, r"mtu=9501 is not allowed: 60\.\.9500"),
    ({"mtu": 59}, r"mtu=59 is not allowed: 60\.\.9500"),
    ({"mtu": 9001, "max_mtu": 9000}, r"mtu=9001 is not allowed: 60\.\.9000"),
    ({"mtu": 1500, "ring_size": 8192}, r"ring_size=8192 is not allowed: 1\.\.8191"),
    ({"mtu": 1500, "rx_copybreak": 1025}, r"rx_copybreak=1025 is not allowed: 0\.\.1024"),
    ({"mtu": 1500, "hds_thresh": 1024}, r"hds_thresh=1024 is not allowed: 0\.\.1023"),
    ({"mtu": 1500, "page_size": 16384, "arch": "x86_64"}, r"page_size=16384 is not allowed: on x86_64"),
])
def test_refused(kw, msg):
    args = {"page_size": 4096, **kw}
    with pytest.raises(ValueError, match=msg):
        bnxt_rx_geometry(**args)
