"""bnxt_en's receive queue in the engine (rxlab.engine.rxq_bnxt.bnxt_rx_pkt, Mode.agg, and its TPA:
rxlab.engine.rxq_bnxt_tpa) against kernel arithmetic worked by hand: what each skb is charged, which
frames are copied, how many buffers the queue pins. Lines cited are drivers/net/ethernet/broadcom/bnxt/bnxt.c of Linux v6.19 unless said.

The oracle (tests/test_rx_oracle.py, the bnxt_* configurations) compares every counter with the
naive model; these tests pin the numbers themselves."""

import pytest

from rxlab import SimConfig, simulate, xdp_only
from rxlab.counters import Ctr
from rxlab.engine.layout import CN, QS

# read never (within the run), GRO off, no ACKs: every data skb stays queued as it was built
QUIET = {"driver": "bnxt", "packets": 10, "queues": 1, "connections": 1, "ring_size": 64, "max_skbs": 512,
         "gro": False, "reader": "periodic", "app_read_us": 1e6, "so_rcvbuf": 1 << 22, "rmem_max": 1 << 23, "ack_fraction": 0.0, "arch": "x86_64"}

# SKB_DATA_ALIGN(sizeof(struct sk_buff)) = ALIGN(232, 64) on x86_64 (pahole, v6.19)
SK_BUFF = 256
# net/core/skbuff.c: SKB_SMALL_HEAD_CACHE_SIZE = SKB_HEAD_ALIGN(MAX_TCP_HEADER) rounded to 640 (x86_64)
SMALL_HEAD = 640


@pytest.mark.parametrize("page_size, mtu, arch, truesize, copied, queued", [
    # GRO off: bnxt_fix_features() drops NETIF_F_GRO_HW, so no TPA (bnxt_set_tpa_flags), and
    # bnxt_reinit_features() -> bnxt_set_ring_params(): rx_size = SKB_DATA_ALIGN(1500 + 14 + 2 + 8) = 1536,
    # rx_space = 1536 + ALIGN(max(NET_SKB_PAD, XDP_PACKET_HEADROOM 256), 8) + 320 (skb_shared_info) = 2112
    # fits a page: no aggregation ring. The 1514-byte frame is in the head (rx_buf_use_size 1536), above
    # rx_copybreak 256: bnxt_rx_skb(): napi_build_skb(data, rx_buf_size 2112) = 2112 + sk_buff
    (4096, 1500, "x86_64", 2112 + SK_BUFF, False, 1),
    # MTU 9000: rx_space > PAGE_SIZE, BNXT_FLAG_JUMBO: agg_factor ALIGN(9000 - 40, 4096) / 4096 = 3, the head
    # max3(256, 256, hds_thresh 640) bytes; a 9014-byte frame is above hds_thresh, so bnxt_hwrm_vnic_set_hds()
    # puts its 66 header bytes in the head: len 66 <= rx_copybreak -> bnxt_copy_skb(): napi_alloc_skb(66), a
    # small head (640) + sk_buff (256); 9014 - 66 = 8948 bytes in DIV_ROUND_UP(8948, 4096) = 3
    # BNXT_RX_PAGE_SIZE (4096) frags (__bnxt_rx_agg_netmems)
    (4096, 9000, "x86_64", SMALL_HEAD + SK_BUFF + 3 * 4096, True, 2),
    # 64 KB pages, MTU 1500: the same 2112-byte head, one of a 64 KB page's 31 (page_pool_alloc_frag)
    (65536, 1500, "arm64", 2112 + SK_BUFF, False, 1),
    # MTU 576: rx_size SKB_DATA_ALIGN(600) = 640, rx_space 640 + 256 + 320 = 1216; 590 bytes > rx_copybreak
    (4096, 576, "x86_64", 1216 + SK_BUFF, False, 1),
])
def test_each_data_skb_is_charged_what_bnxt_rx_pkt_charges(page_size, mtu, arch, truesize, copied, queued):
    r = simulate(SimConfig(**{**QUIET, "page_size": page_size, "mtu": mtu, "arch": arch}))
    c = r.conn[0]
    assert c[CN.rmem_drops] == 0 and c[CN.packets] == 10
    # tcp_try_coalesce() -> skb_try_coalesce() merges each later skb into the first: a copied head
    # holds only the headers TCP pulled (headlen 0), so its frags move and the first is charged the
    # truesize less SKB_TRUESIZE(skb_end_offset(from)) (the small head and sk_buff); a head the skb
    # was built on is stolen, the first charged the truesize less the sk_buff; MAX_SKB_FRAGS (17)
    # frags to an skb: jumbo frames' 3 each fill one after 5 skbs
    assert c[CN.count] == queued
    assert c[CN.rmem] == queued * truesize + (10 - queued) * (truesize - (SMALL_HEAD + SK_BUFF if copied else SK_BUFF))
    assert r.geometry.truesize == truesize  # the geometry's full-MTU frame, from rxlab.kernel.bnxt
    assert r.qstats[0, QS.copybreak] == (10 if copied else 0)
    assert r.counters[Ctr.skb_build] == (0 if copied else 10)
    assert r.qstats[0, QS.tpa_events] == 0


def test_tpa_packs_the_initial_window_into_one_skb():
    """Hardware GRO (TPA, on by default with GRO): the sender's initial window of 10 segments is one
    aggregation, which its timer ends (rxlab's tpa_timer_us). bnxt_tpa_start() keeps the first frame's
    head buffer: its 66 header bytes (header-data split). bnxt_tpa_end(): len 66 <= rx_copybreak ->
    bnxt_copy_skb(), a small head (640) + sk_buff (256); the payload, 10 x 1448 = 14480 bytes, packed
    into aggregation buffers (the driver leaves AGG_PACK_AS_GRO unset: "the more efficient LRO rules of
    filling all aggregation buffers"), DIV_ROUND_UP(14480, 4096) = 4 of BNXT_RX_PAGE_SIZE, each a frag
    charged 4096 (__bnxt_rx_agg_netmems). One skb of 17280 bytes, where per-frame completions merged by
    software GRO are charged 896 + 10 x 4096 = 41856: skb_gro_receive() takes each frame's one frag."""
    r = simulate(SimConfig(**{**QUIET, "gro": True}))
    c = r.conn[0]
    assert r.qstats[0, QS.tpa_events] == 1 and r.qstats[0, QS.tpa_packets] == 10
    assert c[CN.packets] == 10 and c[CN.count] == 1
    assert c[CN.rmem] == SMALL_HEAD + SK_BUFF + 4 * 4096
    # one copied head, no skb built on a buffer, nothing merged in software: bnxt_gro_skb() made the skb
    # a GSO skb of 10 segments, which GRO holds as it is (dev_gro_receive: count = gso_segs)
    assert r.qstats[0, QS.copybreak] == 1 and r.counters[Ctr.skb_build] == 0
    assert r.counters[Ctr.gro_merge] == 0 and r.counters[Ctr.gro_complete] == 1
    # without hardware GRO (rx-gro-hw off) at GRO on: no aggregation ring (as with GRO off, above), each
    # frame built on its 2112-byte head; software GRO steals the heads as frags: 10 x 2112 + sk_buff
    r = simulate(SimConfig(**{**QUIET, "gro": True, "gro_hw": False}))
    assert r.qstats[0, QS.tpa_events] == 0 and r.conn[0, CN.rmem] == 10 * 2112 + SK_BUFF


def test_tpa_ends_an_aggregation_within_an_ipv4_length():
    """The device follows GRO's rules (VNIC_TPA_CFG_REQ_FLAGS_GRO): an aggregation holds at most what a
    64 KB IPv4 length does, 45 segments of 1448 bytes (52 + 45 x 1448 = 65212; a 46th would make 66660),
    so a flow's segments in one burst make aggregations of at most 45, the next starting where one ends."""
    r = simulate(SimConfig(**{**QUIET, "gro": True, "packets": 400, "so_rcvbuf": 1 << 24, "rmem_max": 1 << 25,
                              "rtt_us": 0.5}))
    events, segs = int(r.qstats[0, QS.tpa_events]), int(r.qstats[0, QS.tpa_packets])
    assert segs == 400 and r.conn[0, CN.rmem_drops] == 0
    assert -(-400 // 45) <= events < 400 // 10


def test_gro_takes_the_aggregation_pages_of_header_split_frames_as_frags():
    """Without hardware GRO (rx-gro-hw off), jumbo frames keep the aggregation ring (BNXT_FLAG_JUMBO) and
    header-data split: a copied head holds the headers only (headlen <= offset), so net/core/gro.c
    skb_gro_receive() moves its 3 frags into the aggregate's last skb while they fit MAX_SKB_FRAGS (17:
    3 + 4 x 3 = 15), then chains the next on frag_list and fills that one's frags. An aggregate stops
    below gro_max_size: 7 segments of 8948 bytes (52 + 7 x 8948 = 62688; an 8th would pass 65536). The
    initial window: an aggregate of 7 (4 merges by frags, 1 on frag_list, 1 into its frags), then one of 3."""
    r = simulate(SimConfig(**{**QUIET, "gro": True, "gro_hw": False, "mtu": 9000}))
    assert r.qstats[0, QS.tpa_events] == 0 and r.conn[0, CN.packets] == 10
    assert r.counters[Ctr.gro_merge] == 4 + 1 + 2 and r.counters[Ctr.gro_merge_frag_list] == 1


def test_the_queue_pins_its_rings_and_tpa_heads():
    """bnxt_alloc_one_rx_ring() before traffic: ring_size heads of rx_buf_size 1024 (4 to a page), the
    aggregation ring of ring_size x agg_factor 4 pages (bnxt_set_ring_params: min(4, 65536 / 4096)), and
    bp->max_tpa = 256 heads for TPA (bnxt_alloc_one_tpa_info_data): 16 + 256 + 64 pages for a ring of
    64; with page_pool's bulk refill (PP_ALLOC_CACHE_REFILL = 64) the allocator hands out more pages
    than posted, so the check is on the pages posted, not mem_used."""
    cfg = SimConfig(**{**QUIET, "gro": True, "packets": 1})  # with GRO, hardware GRO: TPA's ring layout
    g = cfg.geometry()
    assert (g.agg_ring_size, g.tpa_bufs, g.frags_per_page) == (256, 256, 4)
    assert g.ring_pages == 64 // 4 + 256 // 4 + 256
    r = simulate(cfg)
    assert r.metrics()["mem_peak_bytes"] >= g.ring_pages * 4096


# page mode (an XDP program attached: bnxt_xdp_set -> bnxt_set_rx_skb_mode(bp, true))
PAGE_MODE = {**QUIET, "xdp": (1.0, 0.0, 0.0, 0.0)}


def _pp_allocs(r):
    """page_pool allocations after the rings' first fill (a run's counters start once the rings are
    filled): from the alloc cache, a refill from the ptr_ring, or the page allocator."""
    return r.counters[Ctr.alloc_fast] + r.counters[Ctr.alloc_refill] + r.counters[Ctr.alloc_slow]


@pytest.mark.parametrize("page_size, mtu, arch, rx_page", [
    # BNXT_RX_PAGE_SIZE (bnxt.h:762) is PAGE_SIZE up to 32 KB: the page itself on 4 and 16 KB pages
    (4096, 1500, "x86_64", 4096),
    # MTU 9000 on 16 KB pages: below BNXT_MAX_PAGE_MODE_MTU (bnxt.h:776: 16384 - 18 - 0 - 256 - 320 = 15790),
    # one buffer
    (16384, 9000, "arm64", 16384),
    # 64 KB pages: a 32 KB fragment of a page_pool page (bnxt.c:919 __bnxt_alloc_rx_page: page_pool_dev_alloc_frag)
    (65536, 1500, "arm64", 32768),
])
def test_a_passed_frame_is_charged_what_bnxt_rx_page_skb_charges(page_size, mtu, arch, rx_page):
    """bnxt.c:2257 bnxt_rx_pkt(): len 1514 (or 9014) > rx_copybreak 256, so bp->rx_skb_func =
    bnxt_rx_page_skb (bnxt.c:4860, no BNXT_FLAG_JUMBO): bnxt.c:1198 napi_alloc_skb(napi, payload) with
    payload the hardware's payload offset, the 66 header bytes (14 + 20 + 32): 66 + NET_SKB_PAD fits a
    small head (640) + sk_buff (256); bnxt.c:1206 skb_add_rx_frag(skb, 0, page, off, len,
    BNXT_RX_PAGE_SIZE). With GRO off
    and no reads, tcp_try_coalesce() moves each later skb's one frag into the first (its head holds
    only the headers TCP pulled), charging the truesize less SKB_TRUESIZE(skb_end_offset(from)) =
    SMALL_HEAD + SK_BUFF: one skb queued, 10 frags."""
    r = simulate(SimConfig(**{**PAGE_MODE, "page_size": page_size, "mtu": mtu, "arch": arch}))
    truesize = SMALL_HEAD + SK_BUFF + rx_page
    c = r.conn[0]
    assert c[CN.rmem_drops] == 0 and c[CN.packets] == 10 and c[CN.count] == 1
    assert c[CN.rmem] == truesize + 9 * rx_page
    assert r.geometry.truesize == truesize  # rxlab.kernel.bnxt's full-MTU frame in page mode
    assert r.qstats[0, QS.xdp_pass] == 10 and r.qstats[0, QS.copybreak] == 0
    # no skb is built on the page (napi_build_skb): each head is a copy of 66 - ETH_HLEN bytes
    assert r.counters[Ctr.skb_build] == 0 and r.counters[Ctr.skb_small_head] == 10
    assert r.counters[Ctr.bytes_copied] == 10 * (66 - 14)
    # bnxt.c:1186 bnxt_alloc_rx_data() replaced each buffer before the skb took it: 10 pages,
    # or on 64 KB pages 10 fragments, two to a page (page_pool_alloc_frag takes a new page when the
    # current one, filled by the ring's even 64, has no room)
    assert _pp_allocs(r) == 10 * rx_page // page_size
    assert r.counters[Ctr.pp_frag_alloc] == (10 if rx_page < page_size else 0)


@pytest.mark.parametrize("verdict, allocs", [
    # bnxt_xdp.c:324 bnxt_rx_xdp(): XDP_DROP -> bnxt_reuse_rx_data(rxr, cons, page): the same page reposted
    ("drop", 0),
    # XDP_TX: bnxt_xdp.c:290 __bnxt_xmit_xdp() from the RX page, then :292 bnxt_reuse_rx_data() at once (the
    # RX doorbell waits for bnxt_tx_int_xdp, whose :157 frees only a multi-buffer frame's frags): no page
    # leaves the ring
    ("tx", 0),
    # XDP_REDIRECT: bnxt_xdp.c:301 bnxt_alloc_rx_data() first, the page held by the target until
    # xdp_return_frame()
    ("redirect", 10),
])
def test_xdp_verdicts_take_pages_only_for_redirect(verdict, allocs):
    r = simulate(SimConfig(**{**PAGE_MODE, "xdp": xdp_only(verdict), "xdp_hold_us": 1e6}))
    assert r.qstats[0, getattr(QS, "xdp_" + verdict)] == 10
    assert _pp_allocs(r) == allocs
    assert r.conn[0, CN.packets] == 0 and r.counters[Ctr.skb_build] == 0 and r.counters[Ctr.skb_small_head] == 0


@pytest.mark.parametrize("verdict, refills", [
    # XDP_PASS of a 1514-byte frame: bnxt.c:1186 bnxt_rx_page_skb() -> bnxt_alloc_rx_data() fails:
    # bnxt_reuse_rx_data(rxr, cons, data) and NULL, the frame dropped (rx_oom_discards)
    ("pass", 10),
    # XDP_REDIRECT: bnxt_xdp.c:301 "if we are unable to allocate a new buffer, abort and reuse"
    ("redirect", 10),
    # XDP_DROP and XDP_TX repost the buffer and allocate nothing
    ("drop", 0),
    ("tx", 0),
])
def test_a_failed_refill_drops_the_frame_and_reposts_its_page(verdict, refills):
    r = simulate(SimConfig(**{**PAGE_MODE, "xdp": xdp_only(verdict), "alloc_fail_rate": 1.0}))
    assert r.qstats[0, QS.alloc_fail_injected] == refills and r.qstats[0, QS.rx_alloc_fail] == refills
    assert r.qstats[0, getattr(QS, "xdp_" + verdict)] == 10
    assert _pp_allocs(r) == 0 and r.conn[0, CN.packets] == 0
