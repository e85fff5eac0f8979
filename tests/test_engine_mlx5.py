"""mlx5's legacy cyclic RQ (rxlab.engine.rxq_mlx5.mlx5e_handle_rx_cqe, Mode.cyc) and its striding RQ
(rxlab.engine.rxq_mlx5_mpwqe.mlx5e_handle_rx_cqe_mpwrq, Mode.mpw) in the engine against kernel
arithmetic worked by hand: what each skb is charged, the pages the ring lays its strides on and the
references the driver holds on them, how many pages a refill takes and when a page comes back to the
pool. Lines cited are drivers/net/ethernet/mellanox/mlx5/core/ of Linux v6.19.

The oracle (tests/test_rx_oracle.py, the mlx5_* and mpwqe_* configurations) compares every counter
with the naive model; these tests pin the numbers themselves."""

import numpy as np
import pytest

from rxlab import SimConfig, simulate, xdp_only
from rxlab.counters import Ctr
from rxlab.engine.layout import BF, CN, NONE, PF, QP, QS, BufKind, Mode
from rxlab.model.simulate import build, plan, run_all

# read never (within the run), GRO off, no ACKs: every data skb stays queued as it was built
QUIET = {"driver": "mlx5_cyclic", "packets": 10, "queues": 1, "connections": 1, "ring_size": 64, "max_skbs": 512,
         "gro": False, "reader": "periodic", "app_read_us": 1e6, "so_rcvbuf": 1 << 22, "rmem_max": 1 << 23,
         "ack_fraction": 0.0, "arch": "x86_64"}

# SKB_DATA_ALIGN(sizeof(struct sk_buff)) = ALIGN(232, 64), SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
# = ALIGN(320, 64) on x86_64 and arm64 (pahole, v6.19; SMP_CACHE_BYTES 64 on both)
SK_BUFF, SHINFO = 256, 320
# en.h MLX5_RX_HEADROOM = NET_SKB_PAD = max(32, L1_CACHE_BYTES) = 64, NET_IP_ALIGN 0 (x86_64, arm64);
# with XDP mlx5e_get_linear_rq_headroom() gives XDP_PACKET_HEADROOM (256)
HEADROOM, XDP_HEADROOM = 64, 256


def align(x, a=64):
    return -(-x // a) * a


@pytest.mark.parametrize("page_size, mtu, arch, ring, xdp, truesize, frags", [
    # en_rx.c:1738 mlx5e_skb_from_cqe_linear(): frag_size = MLX5_SKB_FRAG_SZ(rx_headroom + cqe_bcnt) =
    # SKB_DATA_ALIGN(64 + 1514) + 320 = 1920; napi_build_skb() charges SKB_TRUESIZE(1920 - 320) = 1920 + 256
    (4096, 1500, "x86_64", 64, (), align(HEADROOM + 1514) + SHINFO + SK_BUFF, 0),
    (65536, 1500, "arm64", 256, (), align(HEADROOM + 1514) + SHINFO + SK_BUFF, 0),
    # XDP_PASS: rx_headroom is data - data_hard_start = XDP_PACKET_HEADROOM: SKB_DATA_ALIGN(256 + 1514) + 320
    (4096, 1500, "x86_64", 64, xdp_only("pass"), align(XDP_HEADROOM + 1514) + SHINFO + SK_BUFF, 0),
    # MTU 9000 on 16 KB pages: still linear (params.c mlx5e_rx_is_linear_skb: MLX5_SKB_FRAG_SZ(64 + 9022)
    # = 9408 <= 16384), a stride of roundup_pow_of_two(9408) = 16384: SKB_DATA_ALIGN(64 + 9014) + 320 + 256
    (16384, 9000, "arm64", 256, (), align(HEADROOM + 9014) + SHINFO + SK_BUFF, 0),
    # MTU 9000 on 4 KB pages: non-linear (params.c mlx5e_build_rq_frags_info): byte_count 9022 in frags of
    # 1664 (SKB_WITH_OVERHEAD(2048 - 64)), 2048, 2048 and 3262, strides 2048, 2048, 2048, 4096.
    # en_rx.c:1827 mlx5e_skb_from_cqe_nonlinear() builds the skb on frame0_sz = 2048 (en_main.c:989), a
    # truesize of 2048 + 256, and en_rx.c:1795 adds each further fragment's stride: 9014 bytes reach all 4
    (4096, 9000, "x86_64", 64, (), 2048 + SK_BUFF + 2048 + 2048 + 4096, 3),
])
def test_each_data_skb_is_charged_what_mlx5e_skb_from_cqe_charges(page_size, mtu, arch, ring, xdp, truesize,
                                                                  frags):
    r = simulate(SimConfig(**{**QUIET, "page_size": page_size, "mtu": mtu, "arch": arch, "ring_size": ring,
                              "xdp": xdp}))
    c = r.conn[0]
    assert c[CN.rmem_drops] == 0 and c[CN.packets] == 10
    assert r.counters[Ctr.skb_build] == 10
    assert r.geometry.truesize == truesize  # the geometry's full-MTU frame, from rxlab.kernel.mlx5
    # tcp_try_coalesce() -> skb_try_coalesce(): each later skb's head (built on a page: headlen != 0) is
    # stolen into the first as a frag, with its own frags, while to's and from's frags stay below
    # MAX_SKB_FRAGS (17); the first is charged from's truesize less SKB_DATA_ALIGN(sizeof(struct
    # sk_buff)). Linear skbs: 17 heads join one; non-linear ones (3 frags): 3 join, 3 + 3 * 4 = 15
    n, per_queued = frags, 1
    while n + frags < 17:
        n, per_queued = n + 1 + frags, per_queued + 1
    queued = -(-10 // per_queued)
    assert c[CN.count] == queued
    assert c[CN.rmem] == queued * truesize + (10 - queued) * (truesize - SK_BUFF)


@pytest.mark.parametrize("page_size, mtu, arch, ring, xdp, pages", [
    # en_main.c:577 mlx5e_init_frags_partition(): strides laid out WQE after WQE, a new page when the
    # next would cross PAGE_SIZE. 2048-byte strides: 2 to a 4 KB page, 32 to a 64 KB one
    (4096, 1500, "x86_64", 64, (), 64 // 2),
    (65536, 1500, "arm64", 256, (), 256 // 32),
    # XDP: params.c mlx5e_rx_get_linear_stride_sz() "XDP in mlx5e doesn't support multiple packets per
    # page": a page a WQE
    (4096, 1500, "x86_64", 64, xdp_only("pass"), 64),
    # 2048 + 2048 | 2048 | 4096: three pages a WQE
    (4096, 9000, "x86_64", 64, (), 64 * 3),
    (16384, 9000, "arm64", 256, (), 256),
])
def test_the_ring_lays_its_strides_on_pages_the_driver_counts_out(page_size, mtu, arch, ring, xdp, pages):
    """Before traffic every WQE is posted (mlx5e_post_rx_wqes of the whole ring) and each of the ring's
    pages is a struct mlx5e_frag_page: en_rx.c:285 page_pool_fragment_netmem(netmem,
    MLX5E_PAGECNT_BIAS_MAX), PAGE_SIZE / 64 references (en_rx.c:275), none handed out yet (frags 0)."""
    cfg = SimConfig(**{**QUIET, "page_size": page_size, "mtu": mtu, "arch": arch, "ring_size": ring, "xdp": xdp})
    assert cfg.geometry().ring_pages == pages
    st, rx = build(cfg, plan(cfg))
    assert rx.qp[0, QP.wqes] == ring
    held = rx.frag_pages[0][rx.frag_pages[0] != NONE]
    assert len(held) == pages
    assert (st.bufs[held, BF.kind] == BufKind.frag_page).all()
    assert (st.bufs[held, BF.size] == page_size // 64).all()
    pids = st.bufs[held, BF.page]
    assert len(np.unique(pids)) == pages
    assert (st.pages[pids, PF.ppref] == page_size // 64).all()


@pytest.mark.parametrize("kw, packets, pages", [
    # params.c mlx5e_rx_compute_wqe_bulk_params(): wqe_bulk = DIV_ROUND_UP(min(512 KB, ring / 4 *
    # sum of strides), sum of strides) = 16 WQEs of 2048 bytes (ring 64): until 16 are missing nothing
    # is refilled (en_rx.c:901), then 16 WQEs take 8 pages
    ({}, 15, 0),
    ({}, 16, 8),
    ({}, 17, 8),
    # MTU 9000 on 4 KB pages: the strides' 10240 bytes ALIGN'ed to 12288, wqe_bulk 16; 3 pages a WQE
    ({"mtu": 9000}, 16, 48),
    # 16 KB pages, ring 256: wqe_bulk min(512 KB, 64 * 2048) / 2048 = 64, and wqe_index_mask = 16384 /
    # 2048 - 1 = 7 (params.c mlx5e_build_rq_frags_info): en_rx.c:913 stops the bulk where a page older
    # WQEs still use begins: 67 missing from head 256 -> 67 - (323 & 7) = 64 WQEs, 8 pages
    ({"page_size": 16384, "arch": "arm64", "ring_size": 256}, 67, 8),
])
def test_a_refill_waits_for_a_bulk_and_takes_whole_pages(kw, packets, pages):
    """mlx5e_post_rx_wqes() at a poll's end (mlx5e_napi_poll): the pages the pool hands out are the
    refilled WQEs' (the first bulk from the page allocator filled the alloc cache beyond the ring's
    pages, so each comes from the cache)."""
    r = simulate(SimConfig(**{**QUIET, **kw, "packets": packets}))
    assert r.qstats[0, QS.rx_alloc_fail] == 0 and r.conn[0, CN.packets] == packets
    assert r.counters[Ctr.alloc_fast] + r.counters[Ctr.alloc_slow] == pages


def test_a_page_comes_back_when_the_ring_comes_round_to_it():
    """Deferred release (en_rx.c mlx5e_refill_rx_wqes): a refill unit first releases the pages its WQEs
    used last time round (mlx5e_free_rx_wqes -> mlx5e_page_release_fragmented: page_pool_unref_netmem(
    BIAS_MAX - frags)), then allocates. XDP_DROP hands no reference out (frags 0), so each release
    drains the page whole and page_pool_put_unrefed_netmem(..., true) recycles it into the alloc cache,
    where the allocation that follows finds it: 16 WQEs, a page each with XDP, 16 pages round again.
    The ring's first fill (64 pages, one PP_ALLOC_CACHE_REFILL bulk) left the cache empty, so nothing
    else could serve them."""
    r = simulate(SimConfig(**{**QUIET, "xdp": xdp_only("drop"), "packets": 16}))
    assert r.qstats[0, QS.xdp_drop] == 16
    assert r.counters[Ctr.recycle_cached] == 16 and r.counters[Ctr.alloc_fast] == 16
    assert r.counters[Ctr.alloc_slow] == 0
    # one WQE short of a bulk: the consumed pages stay with the driver
    r = simulate(SimConfig(**{**QUIET, "xdp": xdp_only("drop"), "packets": 15}))
    assert r.counters[Ctr.recycle_cached] == 0 and r.counters[Ctr.alloc_fast] == 0


def test_a_packet_finding_no_wqe_is_dropped_and_a_failed_refill_posts_nothing():
    """en_rx.c mlx5e_refill_rx_wqes(): a page allocation that fails undoes the whole call (err_free) and
    mlx5e_post_rx_wqes() posts nothing; the device drops each frame that finds no WQE posted
    (rx_out_of_buffer, rx_alloc_fail here). With every allocation failing, the 64 WQEs posted before
    traffic take 64 frames and every later arrival is dropped, one count each: a failed refill is no
    drop."""
    r = simulate(SimConfig(**{**QUIET, "alloc_fail_rate": 1.0, "packets": 100}))
    q = r.qstats[0]
    assert q[QS.rx_packets] > 64 and r.counters[Ctr.skb_build] == 64
    assert q[QS.rx_alloc_fail] == q[QS.rx_packets] - 64 and q[QS.alloc_fail_injected] > 0


def test_a_refill_unit_that_ends_inside_a_page_is_refused():
    """params.c on 16 KB pages, MTU 576, ring 64: strides of roundup_pow_of_two(SKB_DATA_ALIGN(64 + 598)
    + 320) = 1024, 16 to a page (wqe_index_mask 15, mlx5e_build_rq_frags_info); wqe_bulk = max(16,
    DIV_ROUND_UP(min(512 KB, 16 * 1024), 1024)) = 16 (mlx5e_rx_compute_wqe_bulk_params). From 7.1
    (15abbe7c8266: PP_ALLOC_CACHE_REFILL 16 on 16 KB pages) refill_unit = 16 / DIV_ROUND_UP(512 KB,
    16 * 16 KB) = 8, half a page's WQEs: en_rx.c mlx5e_refill_rx_wqes() would allocate the page over
    the one it replaces, then release the new one while posted, and simulate() refuses it with the
    reason. On 6.19 (PP_ALLOC_CACHE_REFILL 64) the unit is the whole bulk and the run goes."""
    cfg = SimConfig(**{**QUIET, "page_size": 16384, "mtu": 576, "arch": "arm64", "kernel": "7.1"})
    g = cfg.geometry()
    assert (g.frag_strides, g.wqe_index_mask, g.wqe_bulk, g.refill_unit) == ((1024,), 15, 16, 8)
    with pytest.raises(ValueError, match=r"^driver='mlx5_cyclic' is not allowed: .*refilling 8 WQEs at a time "
                                         r".*where 16 share a page"):
        simulate(cfg)
    old = cfg.replace(kernel="6.19")
    assert old.geometry().refill_unit == 16
    assert simulate(old).conn[0, CN.packets] == 10


# -- the striding RQ (driver mlx5, Mode.mpw: rxlab.engine.rxq_mlx5_mpwqe) -----------------------------------
STRIDING = {**QUIET, "driver": "mlx5"}


def striding_state(**kw):
    """The engine's arrays of a striding-RQ run, its rings filled, nothing sent yet."""
    cfg = SimConfig(**{**STRIDING, **kw})
    pl = plan(cfg)
    st, rx = build(cfg, pl)
    return cfg, pl.geoms[0], st, rx


@pytest.mark.parametrize("page_size, mtu, arch, ring, xdp, strides, pages_per_wqe", [
    # params.c mlx5e_mpwrq_log_wqe_sz(): a UMR WQE of min(16, 1024 / 64, 15) = 15 WQEBBs maps
    # ALIGN_DOWN(15 * 64 - 128, 64) / 8 = 104 pages, ilog2 6: 2^(6 + PAGE_SHIFT), capped at
    # MLX5_MPWRQ_MAX_LOG_WQE_SZ 18 -> 256 KB, 64 / 16 / 4 pages of 4 / 16 / 64 KB.
    # mlx5e_mpwqe_get_log_stride_size(): linear, the stride is roundup_pow_of_two(MLX5_SKB_FRAG_SZ(64 +
    # 1522)) = roundup_pow_of_two(1600 + 320) = 2048: 2^(18 - 11) = 128 strides a WQE
    (4096, 1500, "x86_64", 64, (), 128, 64),
    (16384, 1500, "arm64", 64, (), 128, 16),
    (65536, 1500, "arm64", 256, (), 128, 4),
    # XDP: mlx5e_rx_get_linear_stride_sz() gives PAGE_SIZE ("XDP in mlx5e doesn't support multiple
    # packets per page"): 2^(18 - 12) = 64 strides
    (4096, 1500, "x86_64", 64, xdp_only("pass"), 64, 64),
    # MTU 9000 on 4 KB pages is not linear: MLX5_MPWRQ_DEF_LOG_STRIDE_SZ = max(6, order_base_2(256)) = 8,
    # 2^(18 - 8) = 1024 strides of 256 bytes
    (4096, 9000, "x86_64", 64, (), 1024, 64),
])
def test_a_striding_wqe_is_pages_per_wqe_pages_the_driver_counts_out(page_size, mtu, arch, ring, xdp, strides,
                                                                    pages_per_wqe):
    """mlx5e_mpwqe_get_log_rq_size(): log_rq_mtu_frames (ring 64 or 256: 6, 8) less the linear stride's
    packets a WQE (log 7 at MTU 1500, 6 with XDP, 18 - 14 = 4 at MTU 9000), at least
    MLX5E_PARAMS_MINIMUM_LOG_RQ_SIZE_MPW = 2: 4 WQEs each. Before traffic mlx5e_post_rx_mpwqes() posts
    mlx5_wq_ll_missing() = 4 - 1 of them (the linked list keeps one entry in reserve), each
    mlx5e_alloc_rx_mpwqe(): pages_per_wqe pages, each page_pool_fragment_netmem(netmem,
    MLX5E_PAGECNT_BIAS_MAX = PAGE_SIZE / 64) with frags 0 (en_rx.c:275-291)."""
    _, g, st, rx = striding_state(page_size=page_size, mtu=mtu, arch=arch, ring_size=ring, xdp=xdp)
    assert (g.variant, g.wqe_count, g.strides_per_wqe, g.pages_per_wqe) == ("striding", 4, strides, pages_per_wqe)
    assert rx.qp[0, QP.mode] == Mode.mpw and rx.qp[0, QP.wqes] == 3
    held = rx.frag_pages[0][rx.frag_pages[0] != NONE]
    assert len(held) == 3 * pages_per_wqe
    assert (held == rx.frag_pages[0, :3 * pages_per_wqe]).all()  # WQEs 0, 1, 2; WQE 3 in reserve
    assert (st.bufs[held, BF.kind] == BufKind.frag_page).all() and (st.bufs[held, BF.size] == page_size // 64).all()
    pids = st.bufs[held, BF.page]
    assert len(np.unique(pids)) == len(held) and (st.pages[pids, PF.ppref] == page_size // 64).all()


@pytest.mark.parametrize("page_size, mtu, arch, ring, xdp, truesize", [
    # en_rx.c:2231 mlx5e_skb_from_cqe_mpwrq_linear(): frag_size = MLX5_SKB_FRAG_SZ(rx_headroom + cqe_bcnt) =
    # SKB_DATA_ALIGN(64 + 1514) + 320 = 1920; napi_build_skb() charges SKB_TRUESIZE(1920 - 320) = 1920 + 256
    (4096, 1500, "x86_64", 64, (), align(HEADROOM + 1514) + SHINFO + SK_BUFF),
    (65536, 1500, "arm64", 256, (), align(HEADROOM + 1514) + SHINFO + SK_BUFF),
    # XDP_PASS: rx_headroom = XDP_PACKET_HEADROOM
    (4096, 1500, "x86_64", 64, xdp_only("pass"), align(XDP_HEADROOM + 1514) + SHINFO + SK_BUFF),
])
def test_a_linear_striding_skb_is_built_on_its_stride(page_size, mtu, arch, ring, xdp, truesize):
    """Each skb stays queued on its own (tcp_try_coalesce steals every later head into the first, as
    in the legacy RQ's test above: 17 heads to an skb, 10 packets in one)."""
    r = simulate(SimConfig(**{**STRIDING, "page_size": page_size, "mtu": mtu, "arch": arch, "ring_size": ring,
                              "xdp": xdp}))
    c = r.conn[0]
    assert c[CN.rmem_drops] == 0 and c[CN.packets] == 10 and r.counters[Ctr.skb_build] == 10
    assert r.geometry.truesize == truesize
    assert c[CN.count] == 1 and c[CN.rmem] == truesize + 9 * (truesize - SK_BUFF)


@pytest.mark.parametrize("page_size, arch", [(4096, "x86_64"), (16384, "arm64")])
def test_a_non_linear_striding_skb_copies_its_head_and_charges_each_page_its_strides(page_size, arch):
    """en_rx.c:2036 mlx5e_skb_from_cqe_mpwrq_nonlinear(), MTU 9000 (cqe_bcnt 9014), strides of 256 bytes:
    napi_alloc_skb(ALIGN(MLX5E_RX_MAX_HEAD, 8) = 256) takes 256 + NET_SKB_PAD 64 = 320 <=
    SKB_WITH_OVERHEAD(SKB_SMALL_HEAD_CACHE_SIZE) = 640 - 320: a small-head cache head, truesize 640 + 256 =
    896 (net/core/skbuff.c __napi_alloc_skb, kmalloc_reserve); 256 bytes are copied into it; the other
    8758 start on a stride (head_offset + 256) and go page by page into frags, each charged
    ALIGN(bytes in the page, 256) (en_rx.c:2109): the pieces end on stride boundaries but the last, so
    they add up to ALIGN(8758, 256) = 8960. truesize 896 + 8960 = 9856 for every packet. The head holds
    payload (256 - 14 - 52 bytes), a kmalloc'ed head with skb_headlen() > 0: skb_try_coalesce() may not
    steal it (skb_head_is_locked), so each skb is queued alone."""
    r = simulate(SimConfig(**{**STRIDING, "page_size": page_size, "mtu": 9000, "arch": arch}))
    c = r.conn[0]
    truesize = 640 + SK_BUFF + 8960
    assert r.geometry.truesize == truesize and not r.geometry.linear
    assert c[CN.packets] == 10 and c[CN.count] == 10 and c[CN.rmem] == 10 * truesize
    assert r.counters[Ctr.skb_small_head] == 10 and r.counters[Ctr.bytes_copied] == 10 * (256 - 14)
    assert r.counters[Ctr.skb_build] == 0 and r.counters[Ctr.skb_coalesce] == 0


@pytest.mark.parametrize("mtu, packets, pages", [
    # MTU 1500, 128 strides a WQE, a packet each; params.c mlx5e_mpwqe_get_min_wqe_bulk(): min(UMR_WQE_BULK
    # = 2, 4 / 2 - 1) = 1 (en_rx.c:1109). 127 packets leave WQE 0 one stride short: nothing missing, nothing allocated
    (1500, 127, 0),
    # the 128th completes it (en_rx.c:2535 mlx5_wq_ll_pop): one missing, the poll's end allocates WQE 3 (the
    # reserved entry, never allocated: its skip_release_bitmap full, nothing released): 64 pages
    (1500, 128, 64),
    # the 256th completes WQE 1: the refill comes round to WQE 0, releases its pages (the deferred
    # release, en_rx.c:1123) and allocates 64 more
    (1500, 256, 128),
    # MTU 9000: ceil(9014 / 256) = 36 strides a packet, 28 fit 1024 (1008); the 29th does not, and the
    # device closes WQE 0 with a filler CQE (its last 16 strides) and takes WQE 1
    (9000, 28, 0),
    (9000, 29, 64),
])
def test_a_striding_wqe_is_reposted_once_all_its_strides_are_consumed(mtu, packets, pages):
    r = simulate(SimConfig(**{**STRIDING, "mtu": mtu, "packets": packets, "so_rcvbuf": 1 << 23}))
    assert r.qstats[0, QS.rx_alloc_fail] == 0 and r.conn[0, CN.packets] == packets
    assert r.counters[Ctr.alloc_fast] + r.counters[Ctr.alloc_slow] == pages


def test_a_striding_page_holds_its_bias_less_what_it_handed_out_until_the_ring_comes_round():
    """MTU 1500 on 4 KB pages: a stride of 2048, two a page. Before traffic each of WQE 0's pages holds
    MLX5E_PAGECNT_BIAS_MAX = 64 references (frags 0). Each packet's skb takes one: frags++ (en_rx.c:2262),
    the page's pp_ref_count unchanged (64, the skb's among them), the driver's share 64 - frags. After 256
    packets WQE 1 completes and the refill reaches WQE 0 (mlx5e_post_rx_mpwqes: mlx5e_free_rx_mpwqe):
    page_pool_unref_netmem(netmem, 64 - 2) leaves each page the two references its skbs hold (never
    read within the run), and the driver holds none of them any more."""
    cfg, g, st, rx = striding_state(packets=10)
    wqe0 = rx.frag_pages[0, :64].copy()
    pids = st.bufs[wqe0, BF.page]
    run_all(st, rx, cfg, g)
    assert (st.bufs[wqe0[:5], BF.size] == 64 - 2).all() and (st.bufs[wqe0[5:], BF.size] == 64).all()
    assert (st.pages[pids, PF.ppref] == 64).all()
    cfg, g, st, rx = striding_state(packets=256, so_rcvbuf=1 << 23)
    pids = st.bufs[rx.frag_pages[0, :64], BF.page]
    run_all(st, rx, cfg, g)
    assert rx.qp[0, QP.ring_head] == 2 and rx.qp[0, QP.wqes] == 3  # WQEs 2, 3, 0 posted
    assert (st.pages[pids, PF.ppref] == 2).all()
    assert not np.isin(pids, st.bufs[rx.frag_pages[0, :64], BF.page]).any()  # WQE 0 took new pages


def test_a_striding_rq_whose_allocations_fail_drains_and_drops():
    """en_rx.c mlx5e_alloc_rx_mpwqe(): a page that cannot be had releases the WQE's others and stops the
    refill (buff_alloc_err); the device drops each frame that finds no WQE (rx_alloc_fail). With every
    allocation failing, the 3 WQEs posted before traffic take 3 x 128 frames."""
    r = simulate(SimConfig(**{**STRIDING, "alloc_fail_rate": 1.0, "packets": 500, "so_rcvbuf": 1 << 23}))
    q = r.qstats[0]
    assert r.counters[Ctr.skb_build] == 384 and q[QS.rx_alloc_fail] == q[QS.rx_packets] - 384
    assert q[QS.alloc_fail_injected] > 0
