"""mlx5's legacy cyclic RQ in the engine (rxlab.engine.rxq_mlx5.mlx5e_handle_rx_cqe, Mode.cyc) against
kernel arithmetic worked by hand: what each skb is charged, the pages the ring lays its strides on
and the references the driver holds on them, how many pages a refill takes and when a page comes
back to the pool. Lines cited are drivers/net/ethernet/mellanox/mlx5/core/ of Linux v6.19.

The oracle (tests/test_rx_oracle.py, the mlx5_* configurations) compares every counter with the
naive model; these tests pin the numbers themselves."""

import numpy as np
import pytest

from rxlab import SimConfig, simulate, xdp_only
from rxlab.counters import Ctr
from rxlab.engine.layout import BF, CN, NONE, PF, QP, QS, BufKind
from rxlab.model.simulate import build, plan

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
