"""mlx5 RX geometry against arithmetic worked by hand from Linux v6.19's en/params.c and en_rx.c.

Constants (arm64, 64-byte cache lines, 17 frags): shared info 320, sk_buff 256, NET_SKB_PAD 64,
NET_IP_ALIGN 0; hard_mtu = 14 + 4 + 4 = 22, so hw_mtu = MTU + 22.
MLX5_SKB_FRAG_SZ(x) = SKB_DATA_ALIGN(x) + 320; headroom 64, or 256 with XDP.
mlx5e_mpwrq_log_wqe_sz(): 15 WQEBBs * 64 = 960; (960 - 128) / 8 = 104 MTTs; ilog2(104) = 6;
6 + PAGE_SHIFT >= 18 -> 18 (256 KB WQEs): 64, 16, 4 pages per WQE on 4, 16, 64 KB pages.
mlx5e_verify_rx_mpwqe_strides(): log stride 6..13, log strides 3..16 (ext_stride_num_range).
Non-linear striding stride: max(6, order_base_2(256)) = 8 (256 bytes).
"""

import pytest

from rxlab.kernel.mlx5 import min_log_rq_size, mlx5_rx_geometry, mlx5e_mpwrq_log_wqe_sz, mlx5e_xdp_max_mtu

pytestmark = pytest.mark.no_engine  # no engine code here: the compiled pass only (CONTRIBUTING.md)

PAGES = (4096, 16384, 65536)


def test_constants():
    assert [mlx5e_mpwrq_log_wqe_sz(p) for p in PAGES] == [18, 18, 18]
    # a device limiting the SQ WQE to 512 bytes: 8 WQEBBs, (512 - 128) / 8 = 48 -> ilog2 5 + 12 = 17
    assert mlx5e_mpwrq_log_wqe_sz(4096, max_wqe_sz_sq=512) == 17
    # MLX5E_PARAMS_MINIMUM_LOG_RQ_SIZE: 1 + ilog2(PAGE_SIZE / roundup_pow_of_two(64 + 320 = 384 -> 512))
    assert [min_log_rq_size(p) for p in PAGES] == [4, 6, 8]
    # PAGE_SIZE - 320 - 256 - 22
    assert [mlx5e_xdp_max_mtu(p) for p in PAGES] == [3498, 15786, 64938]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("mtu,stride,truesize", [
    # MLX5_SKB_FRAG_SZ(64 + hw_mtu): 576 -> 64 + 598 = 662 -> 704 + 320 = 1024 (stride 1024);
    # skb: napi_build_skb(va, MLX5_SKB_FRAG_SZ(64 + 590)) = 704 + 320 + 256 = 1280
    (576, 1024, 1280),
    # 1500 -> 64 + 1522 = 1586 -> 1600 + 320 = 1920 (stride 2048); skb 64 + 1514 -> 1600 + 576 = 2176
    (1500, 2048, 2176),
])
def test_striding_linear(page, mtu, stride, truesize):
    g = mlx5_rx_geometry(page, mtu)
    log_stride = stride.bit_length() - 1
    pages_per_wqe = 1 << (18 - (page.bit_length() - 1))
    # mlx5e_mpwqe_get_log_rq_size(): 10 - (18 - log_stride) WQEs
    wqes = 1 << (10 - (18 - log_stride))
    assert (g.variant, g.linear, g.stride_size, g.strides_per_wqe) == ("striding", True, stride, 1 << (18 - log_stride))
    assert (g.wqe_count, g.pages_per_wqe, g.pool_size) == (wqes, pages_per_wqe, wqes * pages_per_wqe)
    assert (g.truesize, g.truesize_pinned, g.headroom) == (truesize, stride + 256, 64)
    assert g.ring_bytes == wqes * (1 << 18) and g.ring_size == 1024


@pytest.mark.parametrize("page,mtu,linear,stride,wqes", [
    # 4000: 64 + 4022 -> 4096 + 320 = 4416 > 4096: non-linear on 4 KB, 256-byte strides; the linear
    # stride would be 8192 (log 13): 10 - (18 - 13) = 5 -> 32 WQEs
    (4096, 4000, False, 256, 32),
    # on 16/64 KB it is linear with 8192-byte strides (log_num_strides 5 >= 3)
    (16384, 4000, True, 8192, 32),
    (65536, 4000, True, 8192, 32),
    # 9000: 64 + 9022 -> 9088 + 320 = 9408 (> 4096; on 16 KB linear_sz fits but the 16 KB stride's
    # log 14 > MLX5_MPWQE_LOG_STRIDE_SZ_MAX 13 -> non-linear); 10 - (18 - 14) = 6 -> 64 WQEs
    (4096, 9000, False, 256, 64),
    (16384, 9000, False, 256, 64),
    (65536, 9000, False, 256, 64),
])
def test_striding_large_mtu(page, mtu, linear, stride, wqes):
    g = mlx5_rx_geometry(page, mtu)
    assert (g.variant, g.linear, g.stride_size, g.wqe_count) == ("striding", linear, stride, wqes)
    datasize = mtu + 14
    if linear:
        assert g.truesize == 4096 + 320 + 256  # SKB_DATA_ALIGN(64 + 4014) = 4096
    else:  # mlx5e_skb_from_cqe_mpwrq_nonlinear: napi_alloc_skb(256) (896) + ALIGN(bytes - 256, 256)
        assert g.truesize == 896 + -(-(datasize - 256) // 256) * 256
        assert g.frame_buffers == -(-datasize // 256) and g.headroom == 0


@pytest.mark.parametrize("page,mtu,strides,truesize", [
    # rx_striding_rq off. Linear: one fragment, the linear stride
    (4096, 1500, (2048,), 2176),
    (65536, 9000, (16384,), 9088 + 320 + 256),  # 64 + 9014 -> 9088
    # 4 KB, 4000: first = SKB_WITH_OVERHEAD(2048 - 64) = 1664 (stride 2048), then 2048, then the
    # 310-byte rest (stride 512); the frame (4014) uses all three: 2048 + 256 + 2048 + 512
    (4096, 4000, (2048, 2048, 512), 4864),
    # 4 KB, 9000: 1664 + 2048 + 2048 + 3262 (the last may exceed 2048: stride 4096)
    (4096, 9000, (2048, 2048, 2048, 4096), 2048 + 256 + 2048 + 2048 + 4096),
])
def test_legacy_rq(page, mtu, strides, truesize):
    g = mlx5_rx_geometry(page, mtu, rq_type="cyclic")
    assert (g.variant, g.frag_strides, g.truesize, g.wqe_count, g.pool_size) == (
        "cyclic", strides, truesize, 1024, 1024)
    assert g.linear == (len(strides) == 1)


def test_legacy_ring_pages_follow_the_partition():
    # mlx5e_init_frags_partition(): 2048+2048 | 2048, then 4096 needs a fresh page: 3 pages per WQE
    assert mlx5_rx_geometry(4096, 9000, rq_type="cyclic").ring_pages == 3 * 1024
    # [2048 2048] [512 2048] [2048 512]: the next 2048 would cross, so 3 pages per 2 WQEs -> 1536
    assert mlx5_rx_geometry(4096, 4000, rq_type="cyclic").ring_pages == 1536
    assert mlx5_rx_geometry(4096, 1500, rq_type="cyclic").ring_pages == 512


def test_probe_choice_needs_ext_stride_num_range():
    # without the capability a 2 KB stride gives 2^7 strides < 2^9: the striding RQ would not be
    # linear while the legacy one is, so mlx5e_build_rq_params() keeps the legacy RQ
    assert mlx5_rx_geometry(4096, 1500, ext_stride_num_range=False).variant == "cyclic"
    assert mlx5_rx_geometry(4096, 1500, striding_rq_cap=False).variant == "cyclic"


@pytest.mark.parametrize("page,mtu", [(4096, 576), (4096, 1500)])
def test_xdp_striding_linear(page, mtu):
    # XDP: headroom 256, stride at least PAGE_SIZE (log 12, 2^6 strides); 10 - 6 = 4 -> 16 WQEs
    g = mlx5_rx_geometry(page, mtu, xdp=True)
    datasize = mtu + 14
    assert (g.variant, g.linear, g.stride_size, g.wqe_count, g.headroom) == ("striding", True, 4096, 16, 256)
    assert g.truesize == -(-(256 + datasize) // 64) * 64 + 320 + 256


@pytest.mark.parametrize("page", PAGES)
def test_xdp_legacy(page):
    # legacy RQ, XDP, MTU 1500: one PAGE_SIZE stride per WQE; skb SKB_DATA_ALIGN(256 + 1514) = 1792 + 576
    g = mlx5_rx_geometry(page, 1500, xdp=True, rq_type="cyclic")
    assert (g.frag_strides, g.truesize, g.truesize_pinned, g.ring_pages) == ((page,), 2368, page + 256, 1024)


def test_xdp_multi_buffer():
    # 4 KB, 9000, xdp_frags, striding: PAGE_SIZE strides, a fresh linear page per packet:
    # napi_build_skb(MLX5_SKB_FRAG_SZ(256 + 256) = 832) = 1088 + 3 pages; page_pool doubled
    g = mlx5_rx_geometry(4096, 9000, xdp=True, xdp_frags=True)
    assert (g.linear, g.stride_size, g.truesize, g.pool_size) == (False, 4096, 1088 + 3 * 4096, 2 * 64 * 64)
    # legacy: strides all PAGE_SIZE (first = 4096 - 256 - 320 = 3520), 9022 -> 3 fragments
    g = mlx5_rx_geometry(4096, 9000, xdp=True, xdp_frags=True, rq_type="cyclic")
    assert (g.frag_strides, g.truesize) == ((4096, 4096, 4096), 4096 + 256 + 2 * 4096)


@pytest.mark.parametrize("kw,msg", [
    ({"page_size": 4096, "mtu": 4000, "xdp": True},
     r'"MTU\(4000\) > 3498, too big for an XDP program not aware of multi buffer"'),
    ({"page_size": 4096, "mtu": 9000, "xdp": True, "rq_type": "cyclic"},
     r'"MTU\(9000\) > 3498, too big for an XDP program not aware of multi buffer"'),
    # 16/64 KB: the XDP stride is PAGE_SIZE, log 14/16 > 13: never linear on the striding RQ
    ({"page_size": 16384, "mtu": 1500, "xdp": True}, r'"MTU\(1500\) > 15786, too big'),
    ({"page_size": 65536, "mtu": 1500, "xdp": True, "xdp_frags": True},
     r'"XDP is not allowed with striding RQ and MTU\(1500\) > 64938"'),
    ({"page_size": 4096, "mtu": 9979}, r"mtu=9979 is not allowed: 68\.\.9978"),
    ({"page_size": 4096, "mtu": 1500, "ring_size": 8}, r"ring_size=8 is not allowed: 16\.\.8192"),
    ({"page_size": 65536, "mtu": 1500, "ring_size": 128}, r"ring_size=128 is not allowed: 256\.\.8192"),
    ({"page_size": 4096, "mtu": 1500, "rq_type": "striding", "striding_rq_cap": False}, r"rq_type='striding'"),
    ({"page_size": 4096, "mtu": 1500, "rq_type": "mpwqe"}, r"rq_type='mpwqe' is not allowed"),
])
def test_refused(kw, msg):
    with pytest.raises(ValueError, match=msg):
        mlx5_rx_geometry(**kw)


def test_legacy_refuses_a_frame_beyond_four_fragments():
    # 4 KB, PAGE_SIZE fragments: (4096 - 64 - 320) + 2 * 4096 + 4096 = 16000 hw bytes -> MTU 15978
    mlx5_rx_geometry(4096, 15978, rq_type="cyclic", max_mtu=16000)
    with pytest.raises(ValueError, match=r'"MTU 15979 is too big for non-linear legacy RQ \(max 16000\)"'):
        mlx5_rx_geometry(4096, 15979, rq_type="cyclic", max_mtu=16000)
