"""A slow, obviously correct model of rxlab's RX path, written from the kernel control flow on top
of the naive core (tests/naive.py: pages, page_pool, page_frag cache, skbs).

Each step names the kernel function it stands for:

- drivers/net/ethernet/microsoft/mana/mana_en.c: mana_create_rxq / mana_alloc_rx_wqe (fill the
  ring), mana_process_rx_cqe -> mana_refill_rx_oob -> mana_get_rxfrag (refill before the packet
  goes up; on failure the packet is dropped and the old buffer stays posted) -> mana_rx_skb (XDP
  verdict, napi_build_skb, hand to the stack), mana_pre_alloc_rxbufs / mana_pre_dealloc_rxbufs,
  mana_change_mtu and mana_bpf.c mana_xdp_set (pre-allocate, detach, attach),
  mana_dealloc_queues / mana_destroy_rxq (detach);
- drivers/net/ethernet/broadcom/bnxt/bnxt.c (normal mode): bnxt_alloc_rx_page_pool (an agg pool
  per ring, a head pool of its own where PAGE_SIZE > BNXT_RX_PAGE_SIZE), bnxt_alloc_one_rx_ring
  (RX ring, aggregation ring, TPA heads), bnxt_rx_pkt -> bnxt_copy_skb / bnxt_rx_skb ->
  __bnxt_rx_agg_netmems (bnxt_reuse_rx_data, bnxt_reuse_rx_agg_bufs on failure), bnxt_free_rx_skbs;
  page mode (XDP): __bnxt_alloc_rx_page, bnxt_xdp.c bnxt_rx_xdp (DROP and TX repost the buffer,
  REDIRECT replaces it first), bnxt_copy_xdp / bnxt_rx_page_skb;
- drivers/net/ethernet/mellanox/mlx5/core/en_rx.c (the legacy cyclic RQ): mlx5e_init_frags_partition
  (en_main.c), mlx5e_post_rx_wqes -> mlx5e_refill_rx_wqes (mlx5e_free_rx_wqes, the deferred release,
  then mlx5e_alloc_rx_wqes -> mlx5e_get_rx_frag -> mlx5e_page_alloc_fragmented; a short bulk undone),
  mlx5e_handle_rx_cqe -> mlx5e_skb_from_cqe_linear / _nonlinear (frag_page->frags counted out of
  MLX5E_PAGECNT_BIAS_MAX), mlx5e_free_rx_descs; rxlab refills at a poll's last completion before it
  goes up (the engine's order, README);
- the same file's striding RQ: mlx5e_post_rx_mpwqes (mlx5e_free_rx_mpwqe, the deferred release, then
  mlx5e_alloc_rx_mpwqe, stopping at a failed WQE), mlx5e_handle_rx_cqe_mpwrq (consumed strides, the
  device's filler CQE when a packet does not fit a WQE's last strides) -> mlx5e_skb_from_cqe_mpwrq_linear
  / _nonlinear (a copied MLX5E_RX_MAX_HEAD head, a frag per page charged its strides),
  mlx5e_free_rx_descs (mlx5e_free_rx_missing_descs first); a WQE is posted as soon as it is allocated
  (its UMR taken as complete at once, as in the engine);
- net/core/dev.c net_rx_action (a poll of up to napi_budget packets, skb_defer_free_flush),
  GRO flushed at each poll's end (__napi_poll, or napi_complete_done when the link idles);
- net/core/gro.c dev_gro_receive / skb_gro_receive / gro_flush_oldest / napi_gro_flush and
  net/ipv4/tcp_offload.c tcp_gro_receive (NAPI GRO: per-flow aggregates in hash buckets);
- net/ipv4/tcp_input.c tcp_data_queue / tcp_queue_rcv / tcp_try_coalesce, tcp_measure_rcv_mss
  (rcv_mss and scaling_ratio, window_clamp by the release), tcp_initialize_rcv_mss, tcp_win_from_space,
  tcp_grow_window, tcp_clamp_window, tcp_init_buffer_space; net/ipv4/tcp_output.c tcp_select_window /
  __tcp_select_window / tcp_select_initial_window; net/ipv4/tcp.c tcp_recvmsg -> tcp_eat_recv_skb,
  tcp_cleanup_rbuf, tcp_set_window_clamp;
- net/core/skbuff.c skb_attempt_defer_free, napi_alloc_skb (copy-break), skb_clone.

The data structures are deliberately not the engine's: the device ring is the driver's
``rx_oobs`` list with a ``buf_index``, a socket's receive queue is a deque of skb ids, a NAPI's
GRO hash is a list of per-bucket lists of sockets, each holding a dict for its aggregate, XDP frames
waiting for completion are a deque of (time, buffer), per-CPU softnet state is a dict, queue and
connection statistics are Counters keyed by name, and every page, buffer and skb lives in the naive
core's dicts.

rxlab's own modelling choices (README, "Simplifications") are reproduced as such: the sender sees
the window at once, a deferred skb is freed on its NAPI CPU at once, a tap consumes its clone at
once in softirq, XDP_TX/REDIRECT frames complete ``xdp_hold_us`` later in the queue's NAPI, skbs
in flight are bounded (``skb_table_full``), failures are injected at the rates the configuration
gives. Where the engine would depart from the kernel without saying so, the model follows the kernel.
"""

import heapq
import math
from collections import Counter, deque
from dataclasses import dataclass

import numpy as np
from naive import Data, Naive

from rxlab.kernel.bnxt import TPA_MIN_AGG_LEN
from rxlab.kernel.gro import GRO_HASH_BUCKETS, GRO_LEGACY_MAX_SIZE, MAX_GRO_SKBS
from rxlab.kernel.pagepool import PAGE_FRAG_CACHE_MAX_SIZE, dma_get_cache_alignment, pp_alloc_cache
from rxlab.kernel.rss import flow_hashes, flow_queues
from rxlab.kernel.sizes import (
    ETH_HLEN,
    NET_SKB_PAD,
    SKB_SMALL_HEAD_CACHE_SIZE,
    WIRE_OVERHEAD,
    arch_info,
    build_skb_truesize,
    get_order,
    napi_small_head_max,
    skb_data_align,
    skb_shinfo_aligned,
)
from rxlab.kernel.tcp import (
    ACK_LEN,
    GSO_LEGACY_MAX_SIZE,
    PROBE0_BACKOFF_MAX,
    SK_PACING_SHIFT,
    TCP_DELACK_MIN_US,
    TCP_INFINITE_SSTHRESH,
    TCP_INIT_CWND,
    TCP_IP_HEADERS,
    TCP_MAX_QUICKACKS,
    TCP_MIN_MSS,
    TCP_MIN_TSO_SEGS,
    TCP_MSS_DEFAULT,
    TCP_NUM_SACKS,
    TCP_PACING_CA_RATIO,
    TCP_PACING_SS_RATIO,
    TCP_REORDERING,
    TCP_RTO_MAX_US,
    TCP_RTO_MIN_US,
    TCP_SACK_BLOCKS_SENT,
    TCP_TIMEOUT_MIN_US,
    TCP_TSO_RTT_LOG,
    advmss,
    alloc_skb_truesize,
    collapse_skb_max,
    rcvmem_per_mss,
    sock_min_rcvbuf,
    tcp_init_buffer_space,
    tcp_initialize_rcv_mss,
    tcp_rcvbuf_grow,
    tcp_select_initial_window,
    tcp_win_from_space,
)
from rxlab.model.sizing import ack_cap, lock_slots

PP_FRAG, PP_PAGE, PAGE = 0, 1, 2  # the naive core's buffer kinds: a pool fragment, a pool page, any other page
NONE = -1  # the naive core's "no page / no skb"
RATIO_BINS = 64  # rxlab's len/truesize histogram: 64 bins over 0..1
PRE_ALLOC_FAILED = "Insufficient memory for tx/rx re-config: old configuration kept"

QS_NAMES = ("rx_packets", "rx_bytes", "rx_alloc_fail", "alloc_fail_injected", "dma_map_fail_injected",
            "xdp_pass", "xdp_drop", "xdp_tx", "xdp_redirect", "acks", "copybreak", "napi_polls",
            "skb_table_full", "tpa_events", "tpa_packets")
CONN_NAMES = ("queue", "app_cpu", "rmem", "head", "count", "delivered", "packets", "rmem_drops", "stalls",
              "scaling", "tail", "rcvbuf", "rcv_nxt", "rcvq_seq", "rcvq_space", "rcv_edge", "held", "rcv_mss",
              "last_seg", "trap_drops", "trap_need", "backoff", "recovery", "loss_probes", "timeouts", "retrans",
              "window_clamp", "rcv_ssthresh", "rcv_wup", "win_updates",
              "snd_una", "snd_nxt", "snd_edge", "cwnd", "ssthresh", "cwnd_cnt", "burst", "max_out",
              "cwnd_usage_seq", "cwnd_limited", "in_sndq", "ca_state", "tlp_high_seq", "probes_out", "win_probes",
              "seg_seq", "copied_seq", "ack_quick", "ack_pending", "acks_sent", "dup_data", "ofo_drops",
              "reader_woken", "wakes", "snd_max", "high_seq", "max_window", "xmit_probe", "ack_nomem",
              "zwin_drops", "oow_drops", "sacked_out", "lost_out", "fast_retrans", "sack_recovery", "ofo_segs",
              "seg_len", "sack_reneging", "tlp_recovery", "lost_retrans")
TIMERS = 3  # a connection's timer slots (xmit, delack, wake), then one per queue (its NAPI poll's end), then
# one per queue (its oldest TPA aggregation's end)
SAMPLE_NAMES = ("t_us", "mem_used", "inflight", "rmem", "queued", "held")


@dataclass
class NaiveResult:
    """What the model produced, by name: counters {name: n}; qstats and conn one dict per queue or
    connection; samples one dict per sample; inflight_end {pool id: pages}."""

    counters: dict
    qstats: list
    conn: list
    samples: list
    ratio_hist: list
    t_us: float
    mem_used_end: int
    inflight_end: dict
    events: tuple
    counters_reader: dict = None  # of counters, what the reading CPUs did


def rxlab_bounds(cfg, geoms):
    """rxlab's bounds on objects in flight (rxlab/model/simulate.py), which a run can reach and so
    must be the same here: skbs (beyond them a packet drops as skb_table_full) and XDP frames
    awaiting completion (beyond them the oldest completes early)."""
    charged = min(g.truesize_pinned if cfg.truesize_honest else g.truesize for g in geoms)
    small = skb_data_align(64) + NET_SKB_PAD + 576
    n_skbs = min(min(cfg.connections * (max(cfg.tcp_rmem, cfg.sk_rcvbuf()[0]) // min(charged, small) + 2),
                     cfg.packets) + cfg.queues * (4 + (cfg.napi_budget if cfg.gro else 0)) + 16, cfg.max_skbs)
    link_pps = cfg.link_gbps * 1e3 / ((min(cfg.mtu, *(g.mtu for g in geoms)) + WIRE_OVERHEAD) * 8)
    hold_cap = int(cfg.xdp_hold_us * link_pps) + 64 if any(g.xdp for g in geoms) else 1
    return n_skbs, hold_cap


class RxQueue:
    """struct mana_rxq: one RX queue, its page_pool, its NAPI CPU and its ring of posted buffers."""

    def __init__(self, q, pool, g, cfg, xdp, stats):
        self.q = q
        self.pool = pool
        self.napi_cpu = q  # queue q's interrupts and NAPI run on CPU q
        self.frag_count = g.frag_count
        self.from_frag_cache = g.frag_count > 1 and cfg.spec.frag_source == "page_frag_cache"
        self.order = g.order if not self.from_frag_cache else 0
        self.alloc_size = g.alloc_size
        self.datasize = g.datasize
        self.truesize = g.truesize  # napi_build_skb(va, alloc_size)
        if self.from_frag_cache:
            # rxlab's memory a page_frag cache buffer really pins: its share of the cache page
            fc = max(PAGE_FRAG_CACHE_MAX_SIZE, cfg.page_size)
            self.truesize_pinned = -(-fc // (fc // g.alloc_size)) + g.truesize - g.alloc_size
        else:
            self.truesize_pinned = g.truesize_pinned
        self.xdp_prog = xdp if g.xdp else None  # (pass, drop, tx, redirect)
        self.rx_oobs = []  # posted buffer ids, by buf_index
        self.buf_index = 0
        self.xdp_save = None  # rxq->xdp_save_va
        self.xdp_pending = deque()  # (completion time, buffer): XDP_TX/REDIRECT frames in flight
        self.stats = stats  # the queue's statistics outlive its reconfigurations


class BnxtRxRing:
    """struct bnxt_rx_ring_info: the RX ring of heads (rx_buf_ring, consumed at rx_next_cons), the
    aggregation ring (rx_agg_ring, consumed in order; a buffer reposted by bnxt_reuse_rx_agg_bufs
    stays where it is, the ring being always full), the TPA heads (rx_tpa[].data), the page_pool
    and the head pool. In page mode (an XDP program) the RX ring holds BNXT_RX_PAGE_SIZE buffers
    of the page_pool and there is neither aggregation ring nor TPA."""

    def __init__(self, q, pool, head_pool, g, xdp, stats):
        self.q = q
        self.pool = pool
        self.head_pool = head_pool
        self.napi_cpu = q
        self.rx_buf_size = g.alloc_size
        self.rx_buf_use_size = g.head_use_size
        self.rx_page_size = g.agg_buf_size or g.page_size
        self.rx_agg_ring_size = g.agg_ring_size
        self.max_tpa = g.tpa_bufs
        # TPA (hardware GRO): the device's open aggregations {agg_id: context} in the order they started,
        # and the free agg_ids, the last freed taken first
        self.tpa_open = {}
        self.tpa_free = list(range(g.tpa_bufs))[::-1]
        self.rx_copybreak = g.copybreak
        self.hds_thresh = g.hds_thresh if g.header_split else None
        self.header_len = g.header_len
        self.truesize = build_skb_truesize(g.alloc_size, g.arch)  # napi_build_skb(data, rx_buf_size)
        self.truesize_pinned = g.page_size // g.frags_per_page + build_skb_truesize(g.page_size, g.arch) - g.page_size
        self.rx_buf_ring = []
        self.rx_next_cons = 0
        self.rx_agg_ring = []
        self.agg_cons = 0
        self.rx_tpa = []
        self.page_mode = g.xdp  # bnxt_set_rx_skb_mode(bp, true) while a program is attached
        self.xdp_prog = xdp if g.xdp else None
        self.xdp_pending = deque()
        self.stats = stats


class Mlx5Rq:
    """struct mlx5e_rq of the legacy cyclic RQ: its work queue as a consumer and a producer counter
    (mlx5_wq_cyc cc and wqe_ctr), each WQE's fragments (struct mlx5e_wqe_frag_info: dicts naming
    their page by index into ``frag_pages``), and the frag pages ([page, frags] or None)."""

    def __init__(self, q, pool, g, cfg, xdp, stats):
        self.q = q
        self.pool = pool
        self.napi_cpu = q
        self.sz = g.wqe_count
        self.cc = 0
        self.pc = 0
        self.num_frags = len(g.frag_sizes)
        self.wqe_bulk, self.refill_unit, self.wqe_index_mask = g.wqe_bulk, g.refill_unit, g.wqe_index_mask
        self.headroom = g.headroom
        self.truesize_pinned = g.truesize_pinned
        self.xdp_prog = xdp if g.xdp else None
        self.xdp_pending = deque()
        self.stats = stats
        # mlx5e_init_frags_partition(): strides laid out WQE after WQE, a new page when one would cross
        # PAGE_SIZE; every fragment starts SKIP_RELEASE ("skip first release due to deferred release")
        self.frags, page, offset = [], 0, 0
        for _ in range(self.sz):
            for size, stride in zip(g.frag_sizes, g.frag_strides):
                if offset + stride > g.page_size:
                    self.frags[-1]["last"] = True
                    page, offset = page + 1, 0
                self.frags.append({"page": page, "offset": offset, "last": False, "skip": True, "size": size,
                                   "stride": stride})
                offset += stride
        self.frags[-1]["last"] = True
        self.frag_pages = [None] * (page + 1)


class Mlx5MpwRq:
    """struct mlx5e_rq of the striding RQ: its linked list as a deque of the posted WQEs' indices in the
    order the device takes them (the first is the one it fills) and the index the next WQE is allocated at
    (actual_wq_head); each WQE (struct mlx5e_mpw_info) a dict of its frag pages ([page, frags] or None),
    its consumed strides and whether its skip_release_bitmap is full."""

    def __init__(self, q, pool, g, cfg, xdp, stats):
        self.q = q
        self.pool = pool
        self.napi_cpu = q
        self.sz = g.wqe_count
        self.pages_per_wqe = g.pages_per_wqe
        self.num_strides = g.strides_per_wqe
        self.stride = g.stride_size
        self.linear = g.linear
        self.headroom = g.headroom
        self.truesize_pinned = g.truesize_pinned
        # params.c mlx5e_mpwqe_get_min_wqe_bulk(): min(UMR_WQE_BULK, wq_sz / 2 - 1)
        self.min_wqe_bulk = min(2, self.sz // 2 - 1)
        self.xdp_prog = xdp if g.xdp else None
        self.xdp_pending = deque()
        self.stats = stats
        # mlx5e_alloc_rq(): "make sure that on first round release is not called"
        self.wqes = [{"pages": [None] * self.pages_per_wqe, "consumed": 0, "skip": True} for _ in range(self.sz)]
        self.posted = deque()
        self.head = 0


class Timers(dict):
    """The armed timers, {slot: due}, with a heap of (due, slot) as an index to the next: an entry
    whose slot was re-armed or disarmed since is stale and dropped when it comes to the top."""

    def __init__(self):
        super().__init__()
        self.heap = []

    def __setitem__(self, slot, due):
        super().__setitem__(slot, due)
        heapq.heappush(self.heap, (due, slot))

    def first(self):
        """(due, slot) of the timer due first, ties by slot; (inf, -1) if none is armed."""
        while self.heap and self.get(self.heap[0][1]) != self.heap[0][0]:
            heapq.heappop(self.heap)
        return self.heap[0] if self.heap else (np.inf, -1)


class Socket:
    """One TCP connection's receive side: sk_receive_queue (a deque of skb ids), sk_rmem_alloc,
    the scaling_ratio, and the sender's and reader's next times."""

    def __init__(self, queue, app_cpu, rcvbuf, rcv_wnd, mss, bucket, window_clamp, rcv_ssthresh, rcvq_space):
        self.queue = queue
        self.bucket = bucket  # the flow's GRO hash bucket: its hash's low bits
        self.gro = None  # the aggregate NAPI GRO holds: {"p", "last", "segs", "payload", "gso_size", "page_bytes"}
        self.tpa = None  # bnxt: the agg_id of the flow's open TPA aggregation
        self.rcv_mss = tcp_initialize_rcv_mss(mss, rcv_wnd)
        self.last_seg_size = 0
        self.app_cpu = app_cpu
        self.receive_queue = deque()
        # tp->out_of_order_queue: [seq, end_seq, skb] by sequence; tp->selective_acks, the most recent first
        self.ofo = []
        self.ofo_n = {}  # the segments each skb on it holds
        self.sacks = []
        self.dsack = None  # the D-SACK block the next ACK carries (tp->duplicate_sack while rx_opt.dsack)
        # packet bytes in pages of each queued skb (rxlab's dynamic memory efficiency): a skb built
        # on a buffer, or copied into a page_frag head, holds its length in pages; one copied into
        # a kmalloc'ed head holds none; a coalesced skb adds what it stole
        self.page_bytes = {}
        self.rmem_alloc = 0
        self.scaling_ratio = 0
        self.sk_rcvbuf = rcvbuf  # tcp_init_sock(): tcp_rmem[1], or what SO_RCVBUF set
        self.rcv_nxt = 0  # payload bytes received in order
        self.rcv_wup = 0  # rcv_nxt when the window was last advertised
        self.rcv_wnd = rcv_wnd  # the window advertised then (the SYN-ACK's: tcp_select_initial_window)
        self.window_clamp = window_clamp  # tcp_init_buffer_space()
        self.rcv_ssthresh = rcv_ssthresh
        self.win_updates = 0
        self.rcvq_space = {"space": rcvq_space, "seq": 0, "time": 0.0}
        self.stats = Counter()
        self.ever_queued = False
        self.last_queued = 0
        self.next_read = 0.0
        # the receiver's ACK state (tcp_input.c __tcp_ack_snd_check, tcp_event_data_recv)
        self.seg_seq = 0  # the sequence number of the segment on its way up
        self.copied_seq = 0
        self.ack_quick = 0
        self.ack_pending = False
        self.ack_nomem = False  # ICSK_ACK_NOMEM: the next ACK advertises a zero window
        self.lrcvtime = -np.inf
        self.reader_woken = False
        # the sender (tcp_output.c, tcp_input.c tcp_ack, tcp_timer.c): bytes of its stream, windows in segments
        self.snd_una = self.snd_nxt = self.snd_max = 0
        self.snd_edge = rcv_wnd  # the window the SYN-ACK advertised
        self.max_window = rcv_wnd
        self.cwnd, self.ssthresh, self.cwnd_cnt = TCP_INIT_CWND, TCP_INFINITE_SSTHRESH, 0
        self.burst = 0  # segments left of the TSO skb on the wire
        self.max_out, self.cwnd_usage_seq, self.cwnd_limited = 0, 0, False
        self.ca_state = "open"
        self.tlp_high_seq = self.high_seq = 0
        self.tlp_retrans = False
        self.backoff = 0  # icsk_backoff
        self.recovery = 0  # what the xmit timer is armed for: 0 nothing, 1 TLP, 2 RTO, 3 zero-window probe
        self.xmit_probe = 0  # the probe the timer asked for
        self.probes_out = 0
        self.in_sndq = False
        # its SACK scoreboard: SACKed [start, end) ranges above snd_una; lost: unSACKed in [rexmit_nxt,
        # lost_hi); RACK's frontier; PRR
        self.scoreboard = []
        self.lost_hi = self.rexmit_nxt = self.fack = 0
        self.sacked_out = self.lost_out = 0
        self.prior_cwnd = self.prr_delivered = self.prr_out = 0
        # the retransmissions in flight (TCPCB_SACKED_RETRANS), oldest first: (start, end, snd_max, sent at)
        self.in_flight_rtx = []
        self.frto = 0  # F-RTO: 1 after an RTO, 2 new data first until the next ACK
        # its retransmission queue: advmss segments counted from ``grid``, but for the [start, end)
        # entries a cut (tcp_fragment) or a collapse made, after each of which they count from its end;
        # and the payload length of the segment on the wire
        self.frags = []
        self.grid = 0
        self.seg_len = 0


class NaiveRx:
    """One run of ``cfg`` (a rxlab SimConfig). ``run()`` returns a NaiveResult."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.geoms = [cfg.geometry()]
        for r in cfg.reconfigs:
            try:
                self.geoms.append(cfg.geometry(mtu=r.mtu, xdp=r.xdp))
            except ValueError:
                pass
        n_skbs, self.hold_cap = rxlab_bounds(cfg, self.geoms)
        Q = cfg.queues
        n_cpus = Q + (cfg.reader_cpus if cfg.app_cpus == "remote" else 0)
        # page slots and driver buffers far beyond a small run's: if the engine ran out of either, it would show
        self.bnxt = cfg.driver == "bnxt"
        self.mlx5 = cfg.driver in ("mlx5", "mlx5_cyclic")  # mlx5 takes the striding RQ (Mlx5MpwRq)
        # pools per configuration: a queue's, and bnxt's separate head pools after them
        self.pools_per_config = Q * (2 if any(g.head_pool_size for g in self.geoms) else 1)
        self.core = Naive(page_size=cfg.page_size, n_pages=1 << 18, n_pools=self.pools_per_config * (1 + len(cfg.reconfigs)),
                          ring_max=1, n_cpus=n_cpus, n_bufs=1 << 18, n_skbs=n_skbs,
                          pp_alloc_cache=pp_alloc_cache(cfg.page_size, cfg.release.pp_alloc_cache == "page_size_scaled"))
        self.rng = np.random.RandomState(cfg.seed)  # the engine's np.random.seed(cfg.seed) sequence
        # the CPU that pays: what a reading CPU does is kept apart (the rest is the NAPI CPUs')
        self.reader = Counter()
        # the ptr_ring producer locks: model time in holds of ptr_ring_hold_ns; {(pool, hold): produces
        # into the pool in that hold}, {cpu: the next hold it is free}
        self.hold_ps = max(1, round(cfg.ptr_ring_hold_ns * 1000))
        self.lock_ahead = lock_slots(cfg)  # how far ahead of model time a CPU's produces are timed
        self.lock_holds = Counter()
        self.lock_free_at = Counter()
        self.core.on_produce = self.ptr_ring_produced
        # page_pool's own mappings fail at dma_map_fail_rate once traffic starts (the engine keeps
        # the rate as parts per 10**9: the same draw, compared the same way)
        ppb = round(cfg.dma_map_fail_rate * 1e9)
        self.core.dma_map_fails = lambda: self.inject and ppb > 0 and self.rng.random_sample() * 1e9 < ppb
        a = arch_info(cfg.arch)
        self.sizeof_sk_buff = skb_data_align(a.sizeof_sk_buff, a.smp_cache_bytes)
        self.align = dma_get_cache_alignment(cfg.arch)
        self.copybreak = cfg.copybreak if cfg.spec.copybreak else 0
        self.qstats = [Counter() for _ in range(Q)]
        self.softnet = {cpu: {"napi_left": 0, "defer_count": 0} for cpu in range(Q)}
        # each NAPI's gro_hash: per bucket, the sockets whose aggregate it holds, oldest first
        self.gro_hash = {cpu: [[] for _ in range(GRO_HASH_BUCKETS)] for cpu in range(Q)}
        queues = flow_queues(cfg.connections, Q, cfg.seed)  # RSS is kernel arithmetic, not the engine's
        rel = cfg.release
        rcvbuf, self.rcvbuf_locked = cfg.sk_rcvbuf()
        self.mss = advmss(cfg.mtu)
        if rel.window == "scaling_ratio":
            full = tcp_win_from_space(rcvbuf, "scaling_ratio", scaling_ratio=rel.scaling_ratio_init)
        else:
            full = tcp_win_from_space(rcvbuf, "adv_win_scale", adv_win_scale=rel.tcp_adv_win_scale)
        # the SYN-ACK (tcp_openreq_init_rwin: window_clamp the full space under SO_RCVBUF), then
        # tcp_init_buffer_space() as the connection is established
        rcv_wnd, clamp, self.rcv_wscale = tcp_select_initial_window(full, self.mss, cfg.tcp_rmem, cfg.rmem_max,
                                                                    full if self.rcvbuf_locked else 0)
        clamp, ssthresh, space = tcp_init_buffer_space(clamp, rcv_wnd, full, self.mss)
        self.clamp_floor = sock_min_rcvbuf(cfg.arch) // 2
        hashes = flow_hashes(cfg.connections, cfg.seed)
        self.socks = [Socket(queues[c], Q + c % cfg.reader_cpus if cfg.app_cpus == "remote" else queues[c],
                             rcvbuf, rcv_wnd, self.mss, hashes[c] % GRO_HASH_BUCKETS, clamp, ssthresh, max(1, space))
                      for c in range(cfg.connections)]
        for c, sock in enumerate(self.socks):
            sock.c = c
        self.mtu = cfg.mtu
        self.xdp = cfg.xdp
        self.t = 0.0
        self.sent = 0
        self.now = 0.0  # the time TCP works at: the link's, or the event's
        self.next_read = 0.0 if cfg.reader == "periodic" else np.inf  # the applications' next periodic read
        # the senders that may send, first to send first (all, in order, once established), and the TSO
        # skb on the wire; ACKs on their way back (time, connection, ack, window edge); timers {slot: due}
        self.cur = None
        self.acks = deque()
        self.ack_cap = ack_cap(cfg)
        self.ack_ring_full = 0
        self.timers = Timers()
        self.sndq = deque()
        for sock in self.socks:  # established: on the link's queue, or probing a window below a segment
            if self.can_send(sock):
                self.sndq_push(sock)
            else:
                self.arm_xmit_timer(sock)
        self.samples = []
        self.ratio_hist = [0] * RATIO_BINS
        self.inject = False

    # -- DMA and random draws ----------------------------------------------------------------------
    def dma_map_single(self, nbytes):
        self.core.c["dma_map"] += 1
        self.core.c["dma_map_bytes"] += nbytes

    def dma_unmap_single(self):
        self.core.c["dma_unmap"] += 1

    def draw(self, p):
        """A fault or a choice with probability ``p``: one draw, only when p > 0 (as the engine draws)."""
        return p > 0.0 and self.rng.random_sample() < p

    # -- the driver --------------------------------------------------------------------------------
    def mana_get_rxfrag(self, rxq):
        """A new RX buffer for ``rxq``, or None: the page XDP_DROP kept (xdp_save_va), else a full
        page_pool page (frag_count 1) DMA-mapped by the driver, else a page_pool fragment the pool
        mapped (page_pool_dev_alloc_frag) -- or, for rxlab's page_frag_cache strategy, a slice of the
        NAPI CPU's page_frag cache (napi_alloc_frag) that the driver maps."""
        core, cpu = self.core, rxq.napi_cpu
        if self.inject and self.draw(self.cfg.alloc_fail_rate):
            rxq.stats["alloc_fail_injected"] += 1
            return None
        if rxq.xdp_save is not None:
            b, rxq.xdp_save = rxq.xdp_save, None
            core.c["xdp_save_reuse"] += 1
        elif rxq.frag_count == 1:
            pid = core.pp_alloc_pages(rxq.pool, cpu)
            if pid == NONE:
                return None
            b = core.buf_new(pid, 0, self.cfg.page_size << rxq.order, PP_PAGE, rxq.q)
        elif rxq.from_frag_cache:
            pid, off = core.frag_alloc(cpu, rxq.alloc_size)
            if pid == NONE:
                return None
            b = core.buf_new(pid, off, rxq.alloc_size, PAGE, rxq.q)
        else:
            pid, off = core.pp_alloc_frag(rxq.pool, rxq.alloc_size, self.align, cpu)
            if pid == NONE:
                return None
            return core.buf_new(pid, off, rxq.alloc_size, PP_FRAG, rxq.q)  # page_pool_get_dma_addr()
        if self.inject and self.draw(self.cfg.dma_map_fail_rate):
            # dma_mapping_error(): mana_put_rx_page(), in NAPI on the queue's CPU
            rxq.stats["dma_map_fail_injected"] += 1
            core.c["dma_map_fail"] += 1
            core.buf_put(b, cpu, False)
            return None
        self.dma_map_single(rxq.datasize)
        return b

    # -- bnxt_en (normal mode) ---------------------------------------------------------------------
    def bnxt_alloc(self, rxr, pool, size):
        """__bnxt_alloc_rx_frag() (a head: page_pool_alloc_frag of rx_buf_size from the head pool) or
        __bnxt_alloc_rx_netmem() (an aggregation buffer: the whole page when BNXT_RX_PAGE_SIZE is
        PAGE_SIZE, else a fragment of it); the pool maps both. None on failure."""
        core = self.core
        if self.inject and self.draw(self.cfg.alloc_fail_rate):
            rxr.stats["alloc_fail_injected"] += 1
            return None
        if size < self.cfg.page_size:
            pid, off = core.pp_alloc_frag(pool, size, self.align, rxr.napi_cpu)
        else:
            pid, off = core.pp_alloc_pages(pool, rxr.napi_cpu), 0
        if pid == NONE:
            return None
        return core.buf_new(pid, off, size, PP_FRAG, rxr.q)

    def bnxt_create_rx_ring(self, q, base, g, xdp):
        """bnxt_alloc_rx_page_pool() (the ring's page_pool of pool_size rx_agg_ring_size /
        agg_size_fac, or page_pool_init's 1024 for 0; a head pool of its own where
        bnxt_separate_head_pool()), then bnxt_alloc_one_rx_ring(): the RX ring's heads, the
        aggregation ring, the TPA heads (bnxt_alloc_one_tpa_info_data)."""
        cfg, core = self.cfg, self.core
        head_pool = base + cfg.queues + q if g.head_pool_size else base + q
        rxr = BnxtRxRing(q, base + q, head_pool, g, xdp, self.qstats[q])
        core.pool_create(rxr.pool, g.pool_size or 1024, 0, True, True, cfg.page_size, q, cfg.spec.upfront_refs)
        if g.head_pool_size:
            core.pool_create(head_pool, g.head_pool_size, 0, True, True, cfg.page_size, q, cfg.spec.upfront_refs)
        rx_pool = rxr.pool if rxr.page_mode else head_pool  # __bnxt_alloc_rx_page / __bnxt_alloc_rx_frag
        for buf, pool, size, n in ((rxr.rx_buf_ring, rx_pool, rxr.rx_buf_size, cfg.ring_size),
                                   (rxr.rx_agg_ring, rxr.pool, rxr.rx_page_size, rxr.rx_agg_ring_size),
                                   (rxr.rx_tpa, head_pool, rxr.rx_buf_size, rxr.max_tpa)):
            for _ in range(n):
                b = self.bnxt_alloc(rxr, pool, size)
                assert b is not None, "could not fill the bnxt rings"
                buf.append(b)
        return rxr

    def bnxt_reuse_rx_agg_bufs(self, rxr, n):
        rxr.agg_cons = (rxr.agg_cons + n) % rxr.rx_agg_ring_size if n else rxr.agg_cons

    def bnxt_napi_alloc_skb(self, rxr, n):
        """napi_alloc_skb(n) and the frame's first n bytes copied, less the Ethernet header: a small
        head (kmalloc) when n fits SKB_SMALL_HEAD_CACHE_SIZE, else NET_SKB_PAD + n and its
        skb_shared_info from the CPU's page_frag cache. (skb or NONE, small)."""
        small = n <= napi_small_head_max()
        head = skb_data_align(n + NET_SKB_PAD) + skb_shinfo_aligned()
        truesize = (SKB_SMALL_HEAD_CACHE_SIZE if small else head) + self.sizeof_sk_buff
        return self.core.skb_alloc_copy(rxr.napi_cpu, n - ETH_HLEN, head, truesize, small), small

    def bnxt_rx_page_pkt(self, rxr, sock, length, is_ack):
        """Page mode: the XDP verdict first. DROP and TX leave the buffer where it was
        (bnxt_reuse_rx_data: TX sends from the RX page, which the ring keeps); REDIRECT posts a new
        buffer first (none: the frame is dropped) and the page waits for xdp_return_frame. PASS: a
        frame up to rx_copybreak is copied (bnxt_copy_xdp); a longer one posts a new buffer first
        (none: dropped) and its headers are copied into napi_alloc_skb() with the page as frag 0
        charged BNXT_RX_PAGE_SIZE (bnxt_rx_page_skb); no skb: the page goes back to the pool."""
        core, cpu, cfg = self.core, rxr.napi_cpu, self.cfg
        i = rxr.rx_next_cons
        rxr.rx_next_cons = (i + 1) % cfg.ring_size
        old = rxr.rx_buf_ring[i]
        frame = length + ETH_HLEN
        verdict = self.bpf_prog_run_xdp(rxr)
        if verdict in ("drop", "tx"):  # the buffer stays on the ring
            return
        if verdict == "redirect":
            new = self.bnxt_alloc(rxr, rxr.pool, rxr.rx_buf_size)
            if new is None:
                rxr.stats["rx_alloc_fail"] += 1
                return
            rxr.rx_buf_ring[i] = new
            self.xdp_hold(rxr, old)
            return
        if frame <= rxr.rx_copybreak:
            if not core.free_skbs:
                rxr.stats["skb_table_full"] += 1
                return
            s, small = self.bnxt_napi_alloc_skb(rxr, frame)
            if s == NONE:
                rxr.stats["rx_alloc_fail"] += 1
                return
            rxr.stats["copybreak"] += 1
            self.deliver(rxr, sock, s, length, is_ack, 0 if small else length)
            return
        new = self.bnxt_alloc(rxr, rxr.pool, rxr.rx_buf_size)
        if new is None:
            rxr.stats["rx_alloc_fail"] += 1
            return
        rxr.rx_buf_ring[i] = new
        if not core.free_skbs:
            rxr.stats["skb_table_full"] += 1
            core.buf_put(old, cpu, True)
            return
        headers = min(rxr.header_len, frame)
        s, small = self.bnxt_napi_alloc_skb(rxr, headers)
        if s == NONE:
            rxr.stats["rx_alloc_fail"] += 1
            core.buf_put(old, cpu, True)
            return
        data = core.datas[core.skbs[s][0]]
        data.pp_recycle = True
        pid, off, _, _, _ = core.bufs.pop(old)
        core.free_bufs.append(old)
        data.frags.append((pid, off))
        core.skbs[s][1] += rxr.rx_buf_size
        core.skbs[s][2] += frame - headers
        self.deliver(rxr, sock, s, length, is_ack, (0 if small else headers - ETH_HLEN) + frame - headers)

    def bnxt_head_len(self, rxr, frame):
        """The frame's headers alone in the head above the HDS threshold, else up to rx_buf_use_size."""
        if rxr.hds_thresh is not None and frame > rxr.hds_thresh:
            return min(rxr.header_len, frame)
        return min(frame, rxr.rx_buf_use_size)

    def bnxt_rx_pkt(self, rxr, sock, length, is_ack):
        """An L2 completion: the RX ring's next head and the aggregation buffers its frame fills."""
        rxr.stats["rx_packets"] += 1
        rxr.stats["rx_bytes"] += length
        self.net_rx_action(rxr)
        self.xdp_tx_completions(rxr, self.t)
        if rxr.page_mode:
            self.bnxt_rx_page_pkt(rxr, sock, length, is_ack)
            return
        i = rxr.rx_next_cons
        rxr.rx_next_cons = (i + 1) % self.cfg.ring_size
        frame = length + ETH_HLEN  # the completion's length counts the Ethernet header
        head_len = self.bnxt_head_len(rxr, frame)
        got = self.bnxt_rx_skb(rxr, rxr.rx_buf_ring, i, head_len, frame - head_len)
        if got is not None:
            self.deliver(rxr, sock, got[0], length, is_ack, got[1])

    def bnxt_rx_skb(self, rxr, slots, i, head_len, rest):
        """(skb, its bytes in pages) of a frame whose first head_len bytes are in the head buffer
        ``slots[i]`` (an RX ring slot, or a TPA context's head) and ``rest`` in the aggregation ring's next
        buffers, packed; None when dropped. A head of at most rx_copybreak is copied (bnxt_copy_skb, the
        buffer stays: bnxt_reuse_rx_data), a longer one replaced first (bnxt_alloc_rx_data; failing, the
        frame is dropped) and the skb built on it (napi_build_skb(data, rx_buf_size)); each aggregation
        buffer replaced and added as a frag charged BNXT_RX_PAGE_SIZE, or on failure it and the rest
        reposted and the skb freed. A frame dropped before its aggregation buffers reposts them."""
        core, cpu, cfg = self.core, rxr.napi_cpu, self.cfg
        old = slots[i]
        agg_bufs = -(-rest // rxr.rx_page_size)
        if head_len <= rxr.rx_copybreak:
            if not core.free_skbs:
                rxr.stats["skb_table_full"] += 1
                self.bnxt_reuse_rx_agg_bufs(rxr, agg_bufs)
                return None
            s, small = self.bnxt_napi_alloc_skb(rxr, head_len)
            if s == NONE:
                rxr.stats["rx_alloc_fail"] += 1
                self.bnxt_reuse_rx_agg_bufs(rxr, agg_bufs)
                return None
            rxr.stats["copybreak"] += 1
            in_pages = 0 if small else head_len - ETH_HLEN
        else:
            new = self.bnxt_alloc(rxr, rxr.head_pool, rxr.rx_buf_size)
            if new is None:
                rxr.stats["rx_alloc_fail"] += 1
                self.bnxt_reuse_rx_agg_bufs(rxr, agg_bufs)
                return None
            slots[i] = new
            s = core.skb_build(old, rxr.truesize_pinned if cfg.truesize_honest else rxr.truesize, head_len - ETH_HLEN)
            if s == NONE:
                rxr.stats["skb_table_full"] += 1
                core.buf_put(old, cpu, True)
                self.bnxt_reuse_rx_agg_bufs(rxr, agg_bufs)
                return None
            in_pages = head_len - ETH_HLEN
        data = core.datas[core.skbs[s][0]]
        if agg_bufs:
            data.pp_recycle = True  # skb_mark_for_recycle()
        for k in range(agg_bufs):
            new = self.bnxt_alloc(rxr, rxr.pool, rxr.rx_page_size)
            if new is None:
                rxr.stats["rx_alloc_fail"] += 1
                self.bnxt_reuse_rx_agg_bufs(rxr, agg_bufs - k)
                core.skb_free(s, cpu, True)
                return None
            ab = rxr.rx_agg_ring[rxr.agg_cons]
            rxr.rx_agg_ring[rxr.agg_cons] = new
            self.bnxt_reuse_rx_agg_bufs(rxr, 1)
            pid, off, _, _, _ = core.bufs.pop(ab)  # skb_add_rx_frag_netmem(): the page moves into the skb
            core.free_bufs.append(ab)
            data.frags.append((pid, off))
            frag = min(rest, rxr.rx_page_size)
            core.skbs[s][1] += rxr.rx_page_size
            core.skbs[s][2] += frag
            in_pages += frag
            rest -= rxr.rx_page_size
        return s, in_pages

    # -- bnxt_en's TPA (hardware GRO) ------------------------------------------------------------------
    def tpa_slot(self, rxr):
        return len(self.socks) * TIMERS + self.cfg.queues + rxr.q

    def tpa_retime(self, rxr):
        """The queue's TPA timer: when its oldest open aggregation's runs out."""
        if rxr.tpa_open:
            self.timers[self.tpa_slot(rxr)] = next(iter(rxr.tpa_open.values()))["t"] + self.cfg.tpa_timer_us
        else:
            self.timers.pop(self.tpa_slot(rxr), None)

    def bnxt_tpa_rx(self, rxr, sock, length, is_ack):
        """The device with TPA on: a data segment that follows the flow's aggregation in sequence, is not
        larger than its first and keeps it within 64 KB joins it (ending it when shorter); anything else of the flow ends it first; a data segment of min_agg_len payload
        or more starts one if a context is free. False: the frame goes on as an L2 completion."""
        payload = length - TCP_IP_HEADERS
        if sock.tpa is not None:
            x = rxr.tpa_open[sock.tpa]
            if (not is_ack and sock.seg_seq == x["seq"] + x["payload"] and payload <= x["mss"]
                    and TCP_IP_HEADERS + x["payload"] + payload < GRO_LEGACY_MAX_SIZE):
                rxr.stats["rx_packets"] += 1
                rxr.stats["rx_bytes"] += length
                x["segs"] += 1
                x["payload"] += payload
                x["agg_bytes"] += payload
                if payload < x["mss"]:
                    self.bnxt_tpa_end(rxr, sock.tpa)
                return True
            self.bnxt_tpa_end(rxr, sock.tpa)
        if is_ack or payload < TPA_MIN_AGG_LEN or not rxr.tpa_free:
            return False
        self.bnxt_tpa_start(rxr, sock, length, payload)
        return True

    def bnxt_tpa_start(self, rxr, sock, length, payload):
        """TPA_START (bnxt_tpa_start): the head buffer the frame landed in goes to the context, whose
        spare head is posted in its place; the next descriptor's buffer is reposted; none of the budget."""
        a = rxr.tpa_free.pop()
        rxr.stats["rx_packets"] += 1
        rxr.stats["rx_bytes"] += length
        self.net_rx_action(rxr, 0)
        i = rxr.rx_next_cons
        rxr.rx_buf_ring[i], rxr.rx_tpa[a] = rxr.rx_tpa[a], rxr.rx_buf_ring[i]
        rxr.rx_next_cons = (i + 2) % self.cfg.ring_size
        frame = length + ETH_HLEN
        head_len = self.bnxt_head_len(rxr, frame)
        rxr.tpa_open[a] = {"c": sock.c, "seq": sock.seg_seq, "segs": 1, "payload": payload, "mss": payload,
                           "head_len": head_len, "agg_bytes": frame - head_len, "t": self.now}
        sock.tpa = a
        if len(rxr.tpa_open) == 1:
            self.tpa_retime(rxr)

    def bnxt_tpa_end(self, rxr, a):
        """TPA_END of aggregation ``a`` (bnxt_tpa_end), one of the budget: the skb on the context's head and
        its aggregation buffers; several segments make a GSO skb (bnxt_gro_skb) for GRO; after the poll's
        last completion GRO is flushed."""
        x = rxr.tpa_open.pop(a)
        sock = self.socks[x["c"]]
        sock.tpa = None
        rxr.tpa_free.append(a)
        self.tpa_retime(rxr)
        self.net_rx_action(rxr)
        rxr.stats["tpa_events"] += 1
        rxr.stats["tpa_packets"] += x["segs"]
        got = self.bnxt_rx_skb(rxr, rxr.rx_tpa, a, x["head_len"], x["agg_bytes"])
        if got is not None:
            self.napi_gro_receive_hw(sock, got[0], x["segs"], x["payload"], x["mss"], x["seq"], got[1])
        if self.softnet[rxr.napi_cpu]["napi_left"] == 0:
            self.napi_gro_flush(rxr)

    def bnxt_free_rx_skbs(self, rxr):
        """bnxt_free_rx_skbs(): the TPA heads (page_pool_free_va(head_pool, data, false)), the RX
        ring's heads (..., true), the aggregation ring (page_pool_recycle_direct_netmem); then
        bnxt_free_rx_rings() destroys the pool and a separate head pool."""
        core, cpu = self.core, rxr.napi_cpu
        for b in rxr.rx_tpa:
            core.buf_put(b, cpu, False)
        for b in rxr.rx_buf_ring + rxr.rx_agg_ring:
            core.buf_put(b, cpu, True)
        rxr.rx_tpa, rxr.rx_buf_ring, rxr.rx_agg_ring = [], [], []
        core.pool_destroy(rxr.pool, cpu)
        if rxr.head_pool != rxr.pool:
            core.pool_destroy(rxr.head_pool, cpu)

    # -- mlx5 (the legacy cyclic RQ) ------------------------------------------------------------------
    def mlx5e_open_rq(self, q, pool, g, xdp):
        """mlx5e_alloc_rq(): a page_pool of 1 << log_rq_mtu_frames pages, mapped and synced by the pool;
        the first poll posts the whole ring. The striding RQ's: mlx5e_open_mpwqe_rq."""
        if g.variant == "striding":
            return self.mlx5e_open_mpwqe_rq(q, pool, g, xdp)
        rq = Mlx5Rq(q, pool, g, self.cfg, xdp, self.qstats[q])
        self.core.pool_create(pool, g.pool_size, 0, True, True, self.cfg.page_size, q, self.cfg.spec.upfront_refs)
        self.mlx5e_post_rx_wqes(rq)
        assert rq.pc - rq.cc == rq.sz, "could not fill the RX ring"
        return rq

    def mlx5e_page_alloc_fragmented(self, rq, i):
        """page_pool_dev_alloc_netmems(), page_pool_fragment_netmem(MLX5E_PAGECNT_BIAS_MAX), frags 0."""
        core = self.core
        if self.inject and self.draw(self.cfg.alloc_fail_rate):
            rq.stats["alloc_fail_injected"] += 1
            return False
        pid = core.pp_alloc_pages(rq.pool, rq.napi_cpu)
        if pid == NONE:
            return False
        core.pages[pid].ppref = self.cfg.page_size // 64
        core._touch(pid, rq.napi_cpu, "store")
        rq.frag_pages[i] = [pid, 0]
        return True

    def mlx5e_page_release_fragmented(self, rq, i):
        """page_pool_unref_netmem(BIAS_MAX - frags); at 0 the page recycles directly."""
        core = self.core
        pid, frags = rq.frag_pages[i]
        rq.frag_pages[i] = None
        if core._unref(pid, self.cfg.page_size // 64 - frags, rq.napi_cpu, True) == 0:
            core._put_unrefed(core.pages[pid].pool, pid, rq.napi_cpu, True, True, -1)

    def mlx5e_put_rx_frag(self, rq, frag):
        if frag["last"] and not frag["skip"]:
            self.mlx5e_page_release_fragmented(rq, frag["page"])

    def wqe_frags(self, rq, ctr):
        i = ctr % rq.sz * rq.num_frags
        return rq.frags[i:i + rq.num_frags]

    def mlx5e_refill_rx_wqes(self, rq, head, bulk):
        """Refill units of free (deferred release) then alloc; a failure undoes the whole call."""
        total, remaining = 0, bulk
        while remaining:
            refill = min(rq.refill_unit, remaining)
            for k in range(refill):
                for frag in self.wqe_frags(rq, head + total + k):
                    self.mlx5e_put_rx_frag(rq, frag)
            got = 0
            for k in range(refill):
                frags = self.wqe_frags(rq, head + total + k)
                ok = True
                for j, frag in enumerate(frags):
                    if frag["offset"] == 0 and not self.mlx5e_page_alloc_fragmented(rq, frag["page"]):
                        for prev in reversed(frags[:j]):
                            self.mlx5e_put_rx_frag(rq, prev)
                        ok = False
                        break
                    frag["skip"] = False
                if not ok:
                    break
                got += 1
            if got != refill:
                for k in range(total + got):
                    for frag in self.wqe_frags(rq, head + k):
                        self.mlx5e_put_rx_frag(rq, frag)
                for k in range(total + refill):
                    for frag in self.wqe_frags(rq, head + k):
                        frag["skip"] = True
                return 0
            total += got
            remaining -= refill
        return total

    def mlx5e_post_rx_wqes(self, rq):
        missing = rq.sz - (rq.pc - rq.cc)
        if missing < rq.wqe_bulk:
            return
        bulk = missing - ((rq.pc + missing) & rq.wqe_index_mask)
        rq.pc += self.mlx5e_refill_rx_wqes(rq, rq.pc, bulk)  # short: nothing posted (buff_alloc_err)

    def mlx5e_frag_skb(self, rq, frag):
        """frags++ on the fragment's page, its page reference now the caller's (pid, offset)."""
        page = rq.frag_pages[frag["page"]]
        page[1] += 1
        self.core.pages[page[0]].users += 1
        return page[0], frag["offset"]

    def mlx5e_handle_rx_cqe(self, rq, sock, length, is_ack):
        """The WQE at the consumer counter carries the frame: XDP's verdict, then an skb built on its
        first stride (linear: charged MLX5_SKB_FRAG_SZ(headroom + cqe_bcnt); non-linear: the first
        stride, then each further stride the frame reaches as a frag charged its stride)."""
        cpu = rq.napi_cpu
        rq.stats["rx_packets"] += 1
        rq.stats["rx_bytes"] += length
        self.net_rx_action(rq)
        self.xdp_tx_completions(rq, self.t)
        s = self.mlx5e_skb_from_cqe(rq, length)
        if self.softnet[cpu]["napi_left"] == 0:
            self.mlx5e_post_rx_wqes(rq)
        if s is not None:
            self.deliver(rq, sock, s, length, is_ack)

    def mlx5e_skb_from_cqe(self, rq, length):
        core, cfg = self.core, self.cfg
        if rq.pc == rq.cc:  # no WQE posted: the device drops the frame
            rq.stats["rx_alloc_fail"] += 1
            return None
        frags = self.wqe_frags(rq, rq.cc)
        rq.cc += 1
        bcnt = length + ETH_HLEN
        if rq.xdp_prog is not None:
            verdict = self.bpf_prog_run_xdp(rq)
            if verdict == "drop":
                return None
            if verdict != "pass":
                pid, off = self.mlx5e_frag_skb(rq, frags[0])
                core.pages[pid].users -= 1  # a buffer takes the reference
                self.xdp_hold(rq, core.buf_new(pid, off, frags[0]["stride"], PP_FRAG, rq.q))
                return None
        if not core.free_skbs or not core.free_datas:
            rq.stats["skb_table_full"] += 1
            return None
        pid, off = self.mlx5e_frag_skb(rq, frags[0])
        d = core.free_datas.pop()
        core.datas[d] = Data(pid, off, True)
        if rq.num_frags == 1:
            a = arch_info(cfg.arch)
            truesize = rq.truesize_pinned if cfg.truesize_honest else (
                skb_data_align(rq.headroom + bcnt, a.smp_cache_bytes)
                + skb_shinfo_aligned(smp_cache_bytes=a.smp_cache_bytes) + self.sizeof_sk_buff)
            s = core._new_skb(d, truesize, length)
            core.c["skb_build"] += 1
            return s
        first = min(frags[0]["size"], bcnt)
        s = core._new_skb(d, frags[0]["stride"] + self.sizeof_sk_buff, first - ETH_HLEN)
        core.c["skb_build"] += 1
        left = bcnt - first
        for frag in frags[1:]:
            if left <= 0:
                break
            n = min(frag["size"], left)
            core.datas[d].frags.append(self.mlx5e_frag_skb(rq, frag))
            core.skbs[s][1] += frag["stride"]
            core.skbs[s][2] += n
            left -= n
        return s

    def mlx5e_free_rx_descs(self, rq):
        """Every WQE from the consumer on, posted or missing, releases its pages; then SKIP_RELEASE."""
        for k in range(rq.sz):
            for frag in self.wqe_frags(rq, rq.cc + k):
                self.mlx5e_put_rx_frag(rq, frag)
                frag["skip"] = True
        rq.pc = rq.cc
        self.core.pool_destroy(rq.pool, rq.napi_cpu)

    # -- mlx5 (the striding RQ) ---------------------------------------------------------------------
    def mlx5e_open_mpwqe_rq(self, q, pool, g, xdp):
        """mlx5e_alloc_rq(): a page_pool of pages_per_wqe << log_rq_size pages (twice with XDP on a
        non-linear RQ), mapped and synced by the pool; the first poll posts every WQE but the list's
        reserved one."""
        rq = Mlx5MpwRq(q, pool, g, self.cfg, xdp, self.qstats[q])
        self.core.pool_create(pool, g.pool_size, 0, True, True, self.cfg.page_size, q, self.cfg.spec.upfront_refs)
        self.mlx5e_post_rx_mpwqes(rq)
        assert len(rq.posted) == rq.sz - 1, "could not fill the RX ring"
        return rq

    def mlx5e_free_rx_mpwqe(self, rq, wi):
        """Unless its bitmap is full, every page of the WQE gives back the references it never handed out."""
        if wi["skip"]:
            return
        for i in range(rq.pages_per_wqe):
            self.mlx5e_release_page(rq, wi, i)

    def mlx5e_release_page(self, rq, wi, i):
        """mlx5e_page_release_fragmented(): page_pool_unref_netmem(BIAS_MAX - frags); at 0 it recycles."""
        core = self.core
        pid, frags = wi["pages"][i]
        wi["pages"][i] = None
        if core._unref(pid, self.cfg.page_size // 64 - frags, rq.napi_cpu, True) == 0:
            core._put_unrefed(core.pages[pid].pool, pid, rq.napi_cpu, True, True, -1)

    def mlx5e_alloc_rx_mpwqe(self, rq, wi):
        """Each page from the pool, fragmented MLX5E_PAGECNT_BIAS_MAX; a failure releases those taken, the
        last first, and fills the bitmap."""
        core = self.core
        for i in range(rq.pages_per_wqe):
            pid = NONE
            if self.inject and self.draw(self.cfg.alloc_fail_rate):
                rq.stats["alloc_fail_injected"] += 1
            else:
                pid = core.pp_alloc_pages(rq.pool, rq.napi_cpu)
            if pid == NONE:
                for j in reversed(range(i)):
                    self.mlx5e_release_page(rq, wi, j)
                wi["skip"] = True
                return False
            core.pages[pid].ppref = self.cfg.page_size // 64
            core._touch(pid, rq.napi_cpu, "store")
            wi["pages"][i] = [pid, 0]
        wi["skip"] = False
        wi["consumed"] = 0
        return True

    def mlx5e_post_rx_mpwqes(self, rq):
        """At least min_wqe_bulk WQEs missing (the list's size less its reserved entry, less those
        posted): each from the head is freed (deferred release) then allocated, until one fails."""
        missing = rq.sz - 1 - len(rq.posted)
        if missing < rq.min_wqe_bulk:
            return
        for _ in range(missing):
            wi = rq.wqes[rq.head]
            self.mlx5e_free_rx_mpwqe(rq, wi)
            if not self.mlx5e_alloc_rx_mpwqe(rq, wi):
                return
            rq.posted.append(rq.head)
            rq.head = (rq.head + 1) % rq.sz

    def mlx5e_stride_take(self, rq, page):
        """frags++ on the page; its reference is now the caller's (pid)."""
        page[1] += 1
        self.core.pages[page[0]].users += 1
        return page[0]

    def mlx5e_handle_rx_cqe_mpwrq(self, rq, sock, length, is_ack):
        """The packet takes the next strides of the WQE the device fills (a filler completes a WQE whose
        strides left are too few); the skb is built on them; the WQE leaves the list when all are consumed."""
        cpu = rq.napi_cpu
        rq.stats["rx_packets"] += 1
        rq.stats["rx_bytes"] += length
        self.net_rx_action(rq)
        self.xdp_tx_completions(rq, self.t)
        r = self.mlx5e_skb_from_cqe_mpwrq(rq, length)
        if self.softnet[cpu]["napi_left"] == 0:
            self.mlx5e_post_rx_mpwqes(rq)
        if r is not None:
            self.deliver(rq, sock, r[0], length, is_ack, r[1])

    def mlx5e_skb_from_cqe_mpwrq(self, rq, length):
        core, cfg = self.core, self.cfg
        bcnt = length + ETH_HLEN
        cstrides = 1 if rq.linear else -(-bcnt // rq.stride)
        if rq.posted and rq.wqes[rq.posted[0]]["consumed"] + cstrides > rq.num_strides:
            rq.wqes[rq.posted.popleft()]["consumed"] = rq.num_strides  # the filler CQE
        if not rq.posted:  # no WQE posted: the device drops the frame
            rq.stats["rx_alloc_fail"] += 1
            return None
        wi = rq.wqes[rq.posted[0]]
        first = wi["consumed"]
        wi["consumed"] += cstrides
        if wi["consumed"] == rq.num_strides:
            rq.posted.popleft()
        offset = first * rq.stride
        page_idx, head_offset = divmod(offset, cfg.page_size)
        a = arch_info(cfg.arch)
        if rq.linear:
            if rq.xdp_prog is not None:
                verdict = self.bpf_prog_run_xdp(rq)
                if verdict == "drop":
                    return None
                if verdict != "pass":
                    pid = self.mlx5e_stride_take(rq, wi["pages"][page_idx])
                    core.pages[pid].users -= 1  # a buffer takes the reference
                    self.xdp_hold(rq, core.buf_new(pid, head_offset, rq.stride, PP_FRAG, rq.q))
                    return None
            if not core.free_skbs or not core.free_datas:
                rq.stats["skb_table_full"] += 1
                return None
            pid = self.mlx5e_stride_take(rq, wi["pages"][page_idx])
            d = core.free_datas.pop()
            core.datas[d] = Data(pid, head_offset, True)
            truesize = rq.truesize_pinned if cfg.truesize_honest else (
                skb_data_align(rq.headroom + bcnt, a.smp_cache_bytes)
                + skb_shinfo_aligned(smp_cache_bytes=a.smp_cache_bytes) + self.sizeof_sk_buff)
            s = core._new_skb(d, truesize, length)
            core.c["skb_build"] += 1
            return s, length
        # non-linear: napi_alloc_skb(MLX5E_RX_MAX_HEAD), 256 bytes copied, the rest page by page as frags
        if not core.free_skbs or not core.free_datas:
            rq.stats["skb_table_full"] += 1
            return None
        shinfo = skb_shinfo_aligned(smp_cache_bytes=a.smp_cache_bytes)
        head = skb_data_align(256 + NET_SKB_PAD, a.smp_cache_bytes) + shinfo
        small = 256 <= napi_small_head_max(smp_cache_bytes=a.smp_cache_bytes)
        head_truesize = (SKB_SMALL_HEAD_CACHE_SIZE if small else head) + self.sizeof_sk_buff
        headlen = min(256, bcnt)
        s = core.skb_alloc_copy(rq.napi_cpu, headlen - ETH_HLEN, head, head_truesize, small)
        if s == NONE:
            rq.stats["rx_alloc_fail"] += 1
            return None
        data = core.datas[core.skbs[s][0]]
        data.pp_recycle = True
        data.head_data = max(0, headlen - ETH_HLEN - TCP_IP_HEADERS)
        in_pages = 0 if small else headlen - ETH_HLEN
        left, off = bcnt - headlen, head_offset + headlen
        if off >= cfg.page_size:
            page_idx, off = page_idx + 1, off - cfg.page_size
        while left:
            n = min(cfg.page_size - off, left)
            data.frags.append((self.mlx5e_stride_take(rq, wi["pages"][page_idx]), off))
            core.skbs[s][1] += -(-n // rq.stride) * rq.stride
            core.skbs[s][2] += n
            in_pages += n
            left -= n
            page_idx, off = page_idx + 1, 0
        if cfg.truesize_honest:
            core.skbs[s][1] = head_truesize + cstrides * rq.stride
        return s, in_pages

    def mlx5e_free_rx_descs_mpwqe(self, rq):
        """The missing WQEs from the head (the deferred releases and the reserved entry), then the posted
        ones in the device's order, each released and its bitmap filled."""
        for k in range(rq.sz - len(rq.posted)):
            wi = rq.wqes[(rq.head + k) % rq.sz]
            self.mlx5e_free_rx_mpwqe(rq, wi)
            wi["skip"] = True
        while rq.posted:
            wi = rq.wqes[rq.posted.popleft()]
            self.mlx5e_free_rx_mpwqe(rq, wi)
            wi["skip"] = True
        self.core.pool_destroy(rq.pool, rq.napi_cpu)

    def mana_create_rxq(self, q, pool, g, xdp, pre=None):
        """mana_create_rxq(): the queue's page_pool (mana_create_page_pool: pool_size, order, and
        DMA mapping + sync of PAGE_SIZE by the pool only for fragments), then every ring slot
        filled (mana_alloc_rx_wqe -> mana_fill_rx_oob): from the pre-allocated buffers when there
        are any (mana_get_rxbuf_pre takes them from the end), else mana_get_rxfrag()."""
        cfg = self.cfg
        rxq = RxQueue(q, pool, g, cfg, xdp, self.qstats[q])
        pool_maps = g.frag_count > 1 and not rxq.from_frag_cache
        self.core.pool_create(pool, g.pool_size, rxq.order, pool_maps, pool_maps, cfg.page_size, rxq.napi_cpu,
                              cfg.spec.upfront_refs)
        for _ in range(cfg.ring_size):
            b = pre.pop() if pre is not None else self.mana_get_rxfrag(rxq)
            assert b is not None, "could not fill the RX ring"
            rxq.rx_oobs.append(b)
        return rxq

    def net_rx_action(self, rxq, budget=1):
        """A completion taken by the queue's NAPI, ``budget`` of the poll's (bnxt's TPA_START none): a new
        poll (and a flush of the CPU's defer list, skb_defer_free_flush, which restarts defer_count)
        when none is running, each taking napi_budget packets."""
        sd = self.softnet[rxq.napi_cpu]
        if sd["napi_left"] == 0:
            rxq.stats["napi_polls"] += 1
            sd["defer_count"] = 0
            sd["napi_left"] = self.cfg.napi_budget
        sd["napi_left"] -= budget

    def napi_complete_done(self, rxq):
        """The queue's ring is empty: its poll ends with napi_complete_done(), which flushes GRO; the
        next packet starts a new poll."""
        self.softnet[rxq.napi_cpu]["napi_left"] = 0
        if isinstance(rxq, Mlx5MpwRq):  # mlx5e_napi_poll() posts WQEs before the poll completes
            self.mlx5e_post_rx_mpwqes(rxq)
        elif self.mlx5:
            self.mlx5e_post_rx_wqes(rxq)
        self.napi_gro_flush(rxq)

    def polls_complete(self):
        """Every ring is empty (traffic stopped, or a reconfiguration): each queue's poll ends."""
        for rxq in self.rxqs:
            while isinstance(rxq, BnxtRxRing) and rxq.tpa_open:  # the device ends its aggregations first
                self.bnxt_tpa_end(rxq, next(iter(rxq.tpa_open)))
            self.timers.pop(len(self.socks) * TIMERS + rxq.q, None)
            self.napi_complete_done(rxq)

    def napi_poll_one(self, rxq, sock, length, is_ack):
        """A completion taken by the poll; after the poll's last (its napi_budget-th), __napi_poll()
        flushes GRO (napi_gro_flush(n, HZ >= 1000) on a kernel with HZ below 1000)."""
        if self.bnxt:
            if rxq.max_tpa and (not is_ack or sock.tpa is not None) and self.bnxt_tpa_rx(rxq, sock, length, is_ack):
                return
            self.bnxt_rx_pkt(rxq, sock, length, is_ack)
        elif isinstance(rxq, Mlx5MpwRq):
            self.mlx5e_handle_rx_cqe_mpwrq(rxq, sock, length, is_ack)
        elif self.mlx5:
            self.mlx5e_handle_rx_cqe(rxq, sock, length, is_ack)
        else:
            self.mana_process_rx_cqe(rxq, sock, length, is_ack)
        if self.softnet[rxq.napi_cpu]["napi_left"] == 0:
            self.napi_gro_flush(rxq)

    def xdp_tx_completions(self, rxq, now):
        """XDP_TX / XDP_REDIRECT frames whose completion is due by ``now``: xdp_return_frame() puts
        the page back to its pool from the queue's NAPI."""
        while rxq.xdp_pending and rxq.xdp_pending[0][0] <= now:
            self.core.buf_put(rxq.xdp_pending.popleft()[1], rxq.napi_cpu, False)

    def bpf_prog_run_xdp(self, rxq):
        """The queue's XDP program's verdict for a frame ("pass", "drop", "tx" or "redirect"), drawn
        from its mix and counted in the queue's stats."""
        p_pass, p_drop, p_tx, _ = rxq.xdp_prog
        r = self.rng.random_sample()
        verdict = ("pass" if r < p_pass else "drop" if r < p_pass + p_drop
                   else "tx" if r < p_pass + p_drop + p_tx else "redirect")
        rxq.stats["xdp_" + verdict] += 1
        return verdict

    def xdp_hold(self, rxq, b):
        """An XDP_TX / XDP_REDIRECT frame on buffer ``b`` held until its completion (rxlab's bound on
        frames in flight: the oldest completes early)."""
        if len(rxq.xdp_pending) == self.hold_cap:
            self.xdp_tx_completions(rxq, rxq.xdp_pending[0][0])
        rxq.xdp_pending.append((self.t + self.cfg.xdp_hold_us, b))

    def mana_process_rx_cqe(self, rxq, sock, length, is_ack):
        """One RX completion: the buffer at buf_index carries the packet; copy-break copies it
        and reposts the same buffer, else mana_refill_rx_oob() posts a new one first (on failure
        the packet is dropped, the old buffer stays) and mana_rx_skb() takes the old one up."""
        core, cpu = self.core, rxq.napi_cpu
        rxq.stats["rx_packets"] += 1
        rxq.stats["rx_bytes"] += length
        self.net_rx_action(rxq)
        self.xdp_tx_completions(rxq, self.t)
        i = rxq.buf_index
        rxq.buf_index = (i + 1) % len(rxq.rx_oobs)
        old = rxq.rx_oobs[i]
        if self.copybreak and length <= self.copybreak and rxq.xdp_prog is None:
            # napi_alloc_skb(len): a NET_SKB_PAD + len head with its skb_shared_info, from kmalloc
            # (small) or the CPU's page_frag cache, and the packet copied; the buffer is reposted
            if not core.free_skbs:
                rxq.stats["skb_table_full"] += 1
                return
            head = skb_data_align(length + NET_SKB_PAD) + skb_shinfo_aligned()
            s = core.skb_alloc_copy(cpu, length, head, head + self.sizeof_sk_buff, length <= napi_small_head_max())
            if s == NONE:
                rxq.stats["rx_alloc_fail"] += 1
                return
            rxq.stats["copybreak"] += 1
            self.deliver(rxq, sock, s, length, is_ack)
            return
        new = self.mana_get_rxfrag(rxq)
        if new is None:
            rxq.stats["rx_alloc_fail"] += 1
            return
        rxq.rx_oobs[i] = new
        from_pool = core.bufs[old][3] != PAGE
        if not from_pool or rxq.frag_count == 1:
            self.dma_unmap_single()
        self.mana_rx_skb(rxq, sock, old, from_pool, length, is_ack)

    def mana_rx_skb(self, rxq, sock, b, from_pool, length, is_ack):
        """The XDP program's verdict (PASS goes on; DROP recycles the page directly, or keeps a
        non-pool one in xdp_save_va; TX/REDIRECT hold it until completion), then napi_build_skb()
        and the stack."""
        core, cpu = self.core, rxq.napi_cpu
        if rxq.xdp_prog is not None:
            verdict = self.bpf_prog_run_xdp(rxq)
            if verdict == "drop":
                if not from_pool and rxq.xdp_save is None:
                    rxq.xdp_save = b
                else:
                    core.buf_put(b, cpu, True)  # page_pool_recycle_direct()
                return
            if verdict != "pass":
                self.xdp_hold(rxq, b)
                return
        truesize = rxq.truesize_pinned if self.cfg.truesize_honest else rxq.truesize
        s = core.skb_build(b, truesize, length)
        if s == NONE:
            rxq.stats["skb_table_full"] += 1
            core.buf_put(b, cpu, True)
            return
        self.deliver(rxq, sock, s, length, is_ack)

    def deliver(self, rxq, sock, s, length, is_ack, in_pages=None):
        """napi_gro_receive(): a pure ACK completes its flow's aggregate (tcp_gro_receive: another
        ack_seq, shorter than the mss) and goes up alone to be consumed; data goes through GRO, or
        up alone with GRO off."""
        core, cpu = self.core, rxq.napi_cpu
        if in_pages is None:
            in_pages = length if core.datas[core.skbs[s][0]].head is not None else 0
        if is_ack:
            rxq.stats["acks"] += 1
            if sock.gro is not None:
                self.napi_gro_complete(sock)
            self.tap(s, cpu)
            core.skb_free(s, cpu, True)
            return
        payload = length - TCP_IP_HEADERS
        if self.cfg.gro:
            self.napi_gro_receive(sock, s, payload, in_pages)
        else:
            self.netif_receive_skb(sock, s, 1, payload, payload, in_pages, sock.seg_seq)

    # -- GRO ---------------------------------------------------------------------------------------
    def napi_gro_receive(self, sock, s, payload, in_pages):
        """dev_gro_receive() -> tcp_gro_receive(): with an aggregate held for the flow, a segment that
        does not follow it in sequence, a larger one ((len - 1) >= mss), one of another pp_recycle
        (-ETOOMANYREFS) or one that takes p->len to gro_max_size (-E2BIG) completes it and is held anew;
        else skb_gro_receive() merges it, and a shorter one (len < mss) then completes the aggregate.
        A new flow is held, its bucket's oldest completed first when the bucket has MAX_GRO_SKBS."""
        agg = sock.gro
        core = self.core
        if agg is not None:
            recycle = core.datas[core.skbs[agg["p"]][0]].pp_recycle != core.datas[core.skbs[s][0]].pp_recycle
            if (sock.seg_seq != agg["seq"] + agg["payload"] or payload > agg["gso_size"] or recycle
                    or TCP_IP_HEADERS + agg["payload"] + payload >= GRO_LEGACY_MAX_SIZE):
                self.napi_gro_complete(sock)
            else:
                agg["last"] = self.core.skb_gro_receive(agg["p"], agg["last"], s, self.sizeof_sk_buff,
                                                        SKB_SMALL_HEAD_CACHE_SIZE + self.sizeof_sk_buff)
                agg["segs"] += 1
                agg["payload"] += payload
                agg["page_bytes"] += in_pages
                if payload < agg["gso_size"]:
                    self.napi_gro_complete(sock)
                return
        bucket = self.gro_hash[self.rxqs[sock.queue].napi_cpu][sock.bucket]
        if len(bucket) == MAX_GRO_SKBS:
            self.napi_gro_complete(bucket[0])  # gro_flush_oldest
        bucket.append(sock)
        sock.gro = {"p": s, "last": s, "segs": 1, "payload": payload, "gso_size": payload, "page_bytes": in_pages,
                    "seq": sock.seg_seq}

    def napi_gro_receive_hw(self, sock, s, segs, payload, mss, seq, in_pages):
        """napi_gro_receive() of a TPA skb: several segments are a GSO skb (gso_size mss, count segs),
        one an ordinary segment. tcp_gro_receive(): it merges into the flow's held aggregate if it follows
        it in sequence, with the same gso_size (a GSO skb) or not larger than it (a segment), the same
        pp_recycle and within gro_max_size; then a short one (len != count * gso_size, len < mss)
        completes the aggregate. Not merged, the aggregate completes and the skb is held in its place,
        or goes up after it when a short GSO skb; with none held, a short GSO skb goes up, another is
        held (its bucket's oldest completed first when full)."""
        core = self.core
        short = segs > 1 and payload != segs * mss
        agg = sock.gro
        if agg is not None:
            recycle = core.datas[core.skbs[agg["p"]][0]].pp_recycle != core.datas[core.skbs[s][0]].pp_recycle
            if (seq != agg["seq"] + agg["payload"] or (segs > 1 and mss != agg["gso_size"])
                    or (segs == 1 and payload > agg["gso_size"]) or recycle
                    or TCP_IP_HEADERS + agg["payload"] + payload >= GRO_LEGACY_MAX_SIZE):
                self.napi_gro_complete(sock)
            else:
                agg["last"] = core.skb_gro_receive(agg["p"], agg["last"], s, self.sizeof_sk_buff,
                                                   SKB_SMALL_HEAD_CACHE_SIZE + self.sizeof_sk_buff)
                agg["segs"] += segs
                agg["payload"] += payload
                agg["page_bytes"] += in_pages
                if short or (segs == 1 and payload < agg["gso_size"]):
                    self.napi_gro_complete(sock)
                return
        if short:
            self.netif_receive_skb(sock, s, segs, payload, mss, in_pages, seq)
            return
        bucket = self.gro_hash[self.rxqs[sock.queue].napi_cpu][sock.bucket]
        if len(bucket) == MAX_GRO_SKBS:
            self.napi_gro_complete(bucket[0])
        bucket.append(sock)
        sock.gro = {"p": s, "last": s, "segs": segs, "payload": payload, "gso_size": mss if segs > 1 else payload,
                    "page_bytes": in_pages, "seq": seq}

    def napi_gro_complete(self, sock):
        """The flow's aggregate leaves its bucket and goes up the stack as one skb."""
        agg, sock.gro = sock.gro, None
        self.gro_hash[self.rxqs[sock.queue].napi_cpu][sock.bucket].remove(sock)
        self.core.c["gro_complete"] += 1
        self.netif_receive_skb(sock, agg["p"], agg["segs"], agg["payload"], agg["gso_size"], agg["page_bytes"],
                               agg["seq"])

    def napi_gro_flush(self, rxq):
        """napi_gro_flush(napi, false): every bucket in order, oldest first."""
        for bucket in self.gro_hash[rxq.napi_cpu]:
            while bucket:
                self.napi_gro_complete(bucket[0])

    def tap(self, s, cpu):
        """A packet socket takes a clone of the skb going up and consumes it at once."""
        if self.draw(self.cfg.clone_fraction):
            c = self.core.skb_clone(s)
            if c != NONE:
                self.core.skb_free(c, cpu, True)

    def netif_receive_skb(self, sock, s, segs, payload, seg, in_pages, seq):
        """Up the stack in softirq: a tap, then tcp_data_queue()."""
        cpu = self.rxqs[sock.queue].napi_cpu
        self.tap(s, cpu)
        self.tcp_data_queue(sock, s, cpu, segs, payload, seg, in_pages, seq)

    # -- TCP ---------------------------------------------------------------------------------------
    def window(self, sock, space):
        """tcp_win_from_space() as the release has it: scaling_ratio (6.6+, from
        tcp_scaling_ratio_init() until measured) or tcp_adv_win_scale."""
        rel = self.cfg.release
        if rel.window == "scaling_ratio":
            return tcp_win_from_space(space, "scaling_ratio", scaling_ratio=sock.scaling_ratio or rel.scaling_ratio_init)
        return tcp_win_from_space(space, "adv_win_scale", adv_win_scale=rel.tcp_adv_win_scale)

    def payload(self, length):
        """Payload of an skb whose rxlab len counts 52 bytes of headers per MTU-sized segment."""
        return length - length * TCP_IP_HEADERS // self.mtu

    def tcp_collapse(self, sock, cpu):
        """tcp_collapse() of the receive queue: skip the skbs that are not bloated
        (tcp_win_from_space(truesize) <= len), then copy everything from the first bloated one on
        into alloc_skb()'d skbs of SKB_MAX_ORDER(0, 0) bytes, freeing the old ones
        (TCPRcvCollapsed); nothing if the new skbs cannot all be had."""
        core, q = self.core, sock.receive_queue
        keep = 0
        for s in q:
            _, truesize, length = core.skbs[s]
            if self.window(sock, truesize) > self.payload(length):
                break
            keep += 1
        if keep == len(q):
            return
        old = list(q)[keep:]
        wire = sum(core.skbs[s][2] for s in old)
        total = wire - wire * TCP_IP_HEADERS // self.mtu
        size = collapse_skb_max(self.cfg.page_size)
        chunks = [min(size, total - off) for off in range(0, total, size)]
        if len(core.free_skbs) < len(chunks) or len(core.free_datas) < len(chunks):
            return
        for _ in old:
            q.pop()
        for s in old:  # freed first to last, as the engine walks the queue
            sock.rmem_alloc -= core.skbs[s][1]
            del sock.page_bytes[s]
            core.skb_free(s, cpu, True)
            core.c["TCPRcvCollapsed"] += 1
        done = wdone = 0
        for copy in chunks:
            done += copy
            wend = wire if done == total else done + done * TCP_IP_HEADERS // (self.mtu - TCP_IP_HEADERS)
            truesize = alloc_skb_truesize(copy, self.cfg.page_size, self.cfg.arch)
            s = core.skb_alloc_kmalloc(wend - wdone, truesize)
            wdone = wend
            q.append(s)
            sock.page_bytes[s] = 0  # a kmalloc'ed head: the data left the pages
            sock.rmem_alloc += truesize
            sock.ever_queued, sock.last_queued = True, s

    def tcp_prune_queue(self, sock, need, in_seq, cpu):
        """From 6.17 (972ca7a3bc9a) -1 at once for an empty queue; else PruneCalled;
        tcp_clamp_window() (sk_rcvbuf up to sk_rmem_alloc, at most tcp_rmem[2], unless SO_RCVBUF
        locked it); tcp_collapse(); tcp_prune_ofo_queue(); RcvPruned and -1 if the skb still does not fit."""
        if self.cfg.release.prune_empty == "drop" and sock.rmem_alloc == 0:
            return -1
        self.core.c["PruneCalled"] += 1
        cap = self.cfg.tcp_rmem
        if sock.sk_rcvbuf < cap and not self.rcvbuf_locked:
            sock.sk_rcvbuf = min(sock.rmem_alloc, cap)
        if sock.rmem_alloc > sock.sk_rcvbuf:  # tcp_clamp_window(): the window's ceiling drops
            sock.rcv_ssthresh = min(sock.window_clamp, 2 * self.mss)
        if sock.rmem_alloc + need <= sock.sk_rcvbuf:
            return 0
        self.tcp_collapse(sock, cpu)
        if sock.rmem_alloc + need <= sock.sk_rcvbuf:
            return 0
        self.tcp_prune_ofo_queue(sock, need, in_seq, cpu)
        if sock.rmem_alloc + need <= sock.sk_rcvbuf:
            return 0
        self.core.c["RcvPruned"] += 1
        return -1

    def tcp_measure_rcv_mss(self, sock, seg, payload, truesize):
        """A segment of at least rcv_mss that differs from it measures scaling_ratio from the whole
        skb (len << 8 / truesize) and sets rcv_mss to min(seg, advmss); a smaller one (not a remnant:
        seg + the 32-byte TCP header >= TCP_MIN_MSS + 20) becomes rcv_mss when the next agrees."""
        lss, sock.last_seg_size = sock.last_seg_size, 0
        if seg >= sock.rcv_mss:
            if seg != sock.rcv_mss:
                old = sock.scaling_ratio or self.cfg.release.scaling_ratio_init
                sock.scaling_ratio = max(1, (payload << 8) // truesize)
                mode = self.cfg.release.window_clamp
                if sock.scaling_ratio != old and mode != "autotune":  # a2cbb1603943, f5da7c45188e
                    val = self.window(sock, sock.sk_rcvbuf)
                    if mode == "scaling_ratio":
                        sock.window_clamp = val
                    else:
                        self.tcp_set_window_clamp(sock, val)
                        sock.rcvq_space["space"] = min(sock.rcvq_space["space"], sock.window_clamp)
            sock.rcv_mss = min(seg, self.mss)
        elif seg + 32 >= TCP_MIN_MSS + 20:
            sock.last_seg_size = seg
            if seg == lss:
                sock.rcv_mss = seg

    def tcp_set_window_clamp(self, sock, val):
        """window_clamp = max(val, SOCK_MIN_RCVBUF / 2); rcv_ssthresh down to a lower clamp, or up to
        min(rcv_wnd, a higher one)."""
        new = max(val, self.clamp_floor)
        if new < sock.window_clamp:
            sock.rcv_ssthresh = min(sock.rcv_ssthresh, new)
        elif new > sock.window_clamp:
            sock.rcv_ssthresh = max(sock.rcv_ssthresh, min(sock.rcv_wnd, new))
        sock.window_clamp = new

    def tcp_grow_window(self, sock, length, truesize):
        """rcv_ssthresh grows by min(room, max(incr, 2 x len)) while below min(window_clamp,
        tcp_space()): incr 2 x advmss if the skb's truesize as a window holds its len, else 2 x
        rcv_mss if halving it and tcp_rmem[2]'s half-window finds it would (__tcp_grow_window)."""
        room = min(sock.window_clamp, self.window(sock, max(0, sock.sk_rcvbuf - sock.rmem_alloc))) - sock.rcv_ssthresh
        if room <= 0:
            return
        incr = 0
        if self.window(sock, truesize) <= length:
            incr = 2 * self.mss
        else:
            half, window = self.window(sock, truesize) >> 1, self.window(sock, self.cfg.tcp_rmem) >> 1
            while sock.rcv_ssthresh <= window and not incr:
                if half <= length:
                    incr = 2 * sock.rcv_mss
                half, window = half >> 1, window >> 1
        if incr:
            sock.rcv_ssthresh += min(room, max(incr, 2 * length))

    def select_window_now(self, sock):
        """__tcp_select_window(): the window the receiver would advertise now."""
        ws = self.rcv_wscale
        mss = sock.rcv_mss
        free = self.window(sock, max(0, sock.sk_rcvbuf - sock.rmem_alloc))
        allowed = self.window(sock, sock.sk_rcvbuf)
        full = min(sock.window_clamp, allowed)
        if mss > full:
            mss = full
            if mss <= 0:
                return 0
        if free < full // 2:
            sock.ack_quick = 0  # quick-ack mode ends
            free = free // (1 << ws) * (1 << ws)
            if free < allowed // 16 or free < mss:  # silly window avoidance: a zero window
                return 0
        free = min(free, sock.rcv_ssthresh)
        if ws:
            return -(-free // (1 << ws)) * (1 << ws)
        window = sock.rcv_wnd
        if window <= free - mss or window > free:
            return free // mss * mss
        if mss == full and free > window + full // 2:
            return free
        return window

    def tcp_select_window(self, sock):
        """An ACK's window: never less than what is left of the last one (rounded up to the scale); 0
        after a memory failure (ICSK_ACK_NOMEM, from 6.6), recorded from 6.14. Returns its right edge."""
        if sock.ack_nomem:
            sock.ack_nomem = False
            if self.cfg.release.rcvq_nomem == "zero_window_kept":
                sock.rcv_wnd, sock.rcv_wup = 0, sock.rcv_nxt
            return sock.rcv_nxt
        cur = max(0, sock.rcv_wup + sock.rcv_wnd - sock.rcv_nxt)
        new = self.select_window_now(sock)
        if new < cur:
            new = -(-cur // (1 << self.rcv_wscale)) * (1 << self.rcv_wscale)
        sock.rcv_wnd, sock.rcv_wup = new, sock.rcv_nxt
        return sock.rcv_wup + sock.rcv_wnd

    def tcp_data_queue(self, sock, s, cpu, segs, payload, seg, in_pages, seq):
        """tcp_data_queue() of an skb from sequence number ``seq``: first tcp_sequence() (data ending
        beyond the window dropped unless it starts in it and the receive queue is empty: BeyondWindow
        and a dup ACK); data queued already is dropped (DelayedACKLost: quick-ack mode and an ACK at
        once), data after a hole from the window's edge too (out_of_window), other data after a hole
        goes to the out-of-order queue (tcp_data_queue_ofo, no ICSK_ACK_NOMEM), an skb partly queued
        keeps its new bytes; in-order data at a zero window is dropped (TCPZeroWindowDrop). Then
        tcp_try_rmem_schedule() by the release's admission rule (tcp_can_ingest), pruning when the skb
        does not fit; dropped (TCPRcvQDrop, an ACK at once and sk_data_ready) if that fails and the
        queue is not empty. Else tcp_measure_rcv_mss(), rcv_nxt, tcp_queue_rcv(): coalesce into the
        tail skb (tcp_try_coalesce, charging the delta) or queue it (charging its truesize);
        tcp_event_data_recv(), tcp_data_ready(), __tcp_ack_snd_check()."""
        core = self.core
        wend = max(sock.rcv_wup + sock.rcv_wnd, sock.rcv_nxt)  # tcp_sequence(), answered by a dup ACK
        if seq + payload > wend and (seq > wend or sock.receive_queue):
            core.c["BeyondWindow"] += 1
            sock.stats["oow_drops"] += segs
            if seq < sock.rcv_nxt:  # tcp_send_dupack(): quick-ack mode, the old bytes D-SACKed
                self.tcp_incr_quickack(sock)
                sock.dsack = (seq, sock.rcv_nxt)
            self.tcp_send_ack(sock)
            core.skb_free(s, cpu, True)
            return
        if seq + payload <= sock.rcv_nxt:
            sock.stats["dup_data"] += segs
            self.tcp_send_dsack(sock, seq, seq + payload)
            core.skb_free(s, cpu, True)
            return
        if seq > sock.rcv_nxt:
            if seq >= wend:  # out_of_window: after a hole from the window's right edge, no MIB
                sock.stats["oow_drops"] += segs
                self.tcp_incr_quickack(sock)
                self.tcp_ack_now(sock)
                core.skb_free(s, cpu, True)
                return
            self.tcp_data_queue_ofo(sock, s, cpu, segs, payload, seg, in_pages, seq)
            return
        if seq < sock.rcv_nxt:  # its old bytes: whole segments, and part of one cut otherwise before
            sock.dsack = (seq, sock.rcv_nxt)  # the old bytes D-SACKed
            gone = sock.rcv_nxt - seq
            old = gone // seg
            core.skbs[s][2] -= old * self.mtu + gone - old * seg
            in_pages -= min(in_pages, old * self.mtu + gone - old * seg)
            sock.stats["dup_data"] += old
            segs -= old
            payload -= gone
        if sock.rcv_wup + sock.rcv_wnd <= sock.rcv_nxt:  # a zero receive window: TCPZeroWindowDrop
            core.c["TCPZeroWindowDrop"] += 1
            sock.stats["zwin_drops"] += segs
            self.tcp_incr_quickack(sock)
            self.tcp_ack_now(sock)
            core.skb_free(s, cpu, True)
            return
        truesize = core.skbs[s][1]
        need = self.rmem_need(truesize, payload)
        nomem = self.cfg.release.rcvq_nomem != "drop"  # before 6.6 an empty queue takes it unchecked
        refused = ((sock.receive_queue or nomem) and sock.rmem_alloc + need > sock.sk_rcvbuf
                   and self.tcp_prune_queue(sock, need, seq, cpu) < 0)
        if refused and nomem:  # ICSK_ACK_NOMEM | ICSK_ACK_NOW (e2142825c120)
            sock.ack_nomem = sock.ack_pending = True
        if refused and sock.receive_queue:
            core.c["TCPRcvQDrop"] += 1
            sock.stats["rmem_drops"] += segs
            sock.stats["stalls"] += 1
            need = TCP_INIT_CWND * truesize // segs  # not an initial window of such segments: a trap
            if sock.sk_rcvbuf < need:
                sock.stats["trap_drops"] += 1
                sock.stats["trap_need"] = max(sock.stats["trap_need"], need)
            self.tcp_data_ready(sock)
            if sock.ack_nomem:
                self.tcp_send_ack(sock)
            else:
                self.tcp_ack_snd_check(sock)
            core.skb_free(s, cpu, True)
            return
        sock.stats["packets"] += segs
        self.tcp_measure_rcv_mss(sock, seg, payload, truesize)
        sock.rcv_nxt += payload
        if self.now - sock.lrcvtime > self.cfg.rtt_us + TCP_RTO_MIN_US:  # tcp_event_data_recv
            self.tcp_incr_quickack(sock)
        sock.lrcvtime = self.now
        sock.ack_pending = True
        delta = core.skb_try_coalesce(sock.receive_queue[-1], s, self.sizeof_sk_buff,
                                      SKB_SMALL_HEAD_CACHE_SIZE + self.sizeof_sk_buff) if sock.receive_queue else -1
        if delta >= 0:
            sock.rmem_alloc += delta
            core.c["rmem_charged"] += delta
            sock.page_bytes[sock.receive_queue[-1]] += in_pages
        else:
            sock.receive_queue.append(s)
            sock.page_bytes[s] = in_pages
            sock.ever_queued, sock.last_queued = True, s
            sock.rmem_alloc += truesize
            core.c["rmem_charged"] += truesize
        core.c["rmem_charged_payload"] += payload
        if payload >= 128:  # tcp_event_data_recv()
            self.tcp_grow_window(sock, payload, truesize)
        if sock.ofo:  # what now follows in order moves up; an ACK at once, the gap filled or not
            self.tcp_ofo_queue(sock, cpu)
            self.tcp_sack_remove(sock)
            self.tcp_data_ready(sock)
            self.tcp_send_ack(sock)
            return
        self.tcp_data_ready(sock)
        if sock.ack_nomem:  # forced in: ICSK_ACK_NOW
            self.tcp_send_ack(sock)
        else:
            self.tcp_ack_snd_check(sock)

    def tcp_ack_snd_check(self, sock):
        """__tcp_ack_snd_check(): more than a full segment unacknowledged and the window not shrinking
        (or below SO_RCVLOWAT unread), or quick-ack mode: now; else the delayed ACK (now if its timer
        is due within ato / 4)."""
        if not sock.ack_pending:
            return
        if ((sock.rcv_nxt - sock.rcv_wup > sock.rcv_mss
             and (sock.rcv_nxt - sock.copied_seq < self.cfg.rcvlowat
                  or self.select_window_now(sock) >= sock.rcv_wnd))
                or sock.ack_quick > 0):
            self.tcp_send_ack(sock)
        else:  # tcp_send_delayed_ack(): a pending timer within ato / 4 sends the ACK now
            slot = self.slot(sock, 1)
            due = self.timers.get(slot, np.inf)
            if due <= self.now + TCP_DELACK_MIN_US / 4:
                self.tcp_send_ack(sock)
            elif due > self.now + TCP_DELACK_MIN_US:
                self.timers[slot] = self.now + TCP_DELACK_MIN_US

    def rmem_need(self, truesize, payload):
        return {"rmem_before": 0, "rmem_plus_truesize": truesize,
                "rmem_plus_len": payload}[self.cfg.release.admission]

    # -- the out-of-order queue (tcp_data_queue_ofo, tcp_ofo_queue, tcp_prune_ofo_queue) and SACK blocks --
    def tcp_data_queue_ofo(self, sock, s, cpu, segs, payload, seg, in_pages, seq):
        """Admitted as in-order data is (pruning first), else TCPOFODrop; tcp_measure_rcv_mss() from
        6.17; the skb on the queue, its SACK block, tcp_grow_window(); the ACK at once while data
        waits out of order."""
        core = self.core
        truesize = core.skbs[s][1]
        need = self.rmem_need(truesize, payload)
        if sock.rmem_alloc + need > sock.sk_rcvbuf and self.tcp_prune_queue(sock, need, seq, cpu) < 0:
            core.c["TCPOFODrop"] += 1
            sock.stats["ofo_drops"] += segs
            self.tcp_data_ready(sock)
            core.skb_free(s, cpu, True)
            self.ofo_ack_check(sock)
            return
        if self.cfg.release.ooo_updates_ratio:
            self.tcp_measure_rcv_mss(sock, seg, payload, truesize)
        sock.ack_pending = True
        core.c["TCPOFOQueue"] += 1
        done = self.ofo_insert(sock, s, seq, seq + payload, segs, in_pages, cpu)
        if done != "dropped":  # grown before the queued skb is charged (the kernel's end: label)
            self.tcp_grow_window(sock, payload, truesize)
        if done == "queued":
            sock.rmem_alloc += truesize
            core.c["rmem_charged"] += truesize
        if done != "dropped":
            core.c["rmem_charged_payload"] += payload
        self.ofo_ack_check(sock)

    def ofo_ack_check(self, sock):
        if not sock.ack_pending:
            return
        if sock.ofo:
            self.tcp_send_ack(sock)
        else:
            self.tcp_ack_snd_check(sock)

    def ofo_free(self, sock, i, cpu, softirq=True):
        """The queue's i-th skb dropped: uncharged, its pages freed."""
        _, _, s = sock.ofo.pop(i)
        del sock.ofo_n[s]
        sock.rmem_alloc -= self.core.skbs[s][1]
        del sock.page_bytes[s]
        self.core.skb_free(s, cpu, softirq)

    def ooo_try_coalesce(self, sock, entry, s, seq, end):
        if seq != entry[1]:
            return False
        to = entry[2]
        delta = self.core.skb_try_coalesce(to, s, self.sizeof_sk_buff, SKB_SMALL_HEAD_CACHE_SIZE + self.sizeof_sk_buff)
        if delta < 0:
            return False
        sock.rmem_alloc += delta
        self.core.c["rmem_charged"] += delta
        sock.page_bytes[to] += sock.page_bytes.pop(s)
        sock.ofo_n[to] += sock.ofo_n.pop(s)
        entry[1] = end
        return True

    def ofo_insert(self, sock, s, seq, end, segs, in_pages, cpu):
        """[seq, end) onto the queue: coalesced into the last skb or the one before its place, dropped if
        all its data is there (TCPOFOMerge), replacing an skb it starts with and covers and dropping
        those it covers after it (TCPOFOMerge each); then its SACK block. Returns what became of it:
        "queued" (not charged yet), "coalesced" or "dropped"."""
        q, core = sock.ofo, self.core
        sock.page_bytes[s] = in_pages
        sock.ofo_n[s] = segs
        if not q:
            q.append([seq, end, s])
            sock.sacks = [[seq, end]]
            return "queued"
        if self.ooo_try_coalesce(sock, q[-1], s, seq, end):
            self.tcp_sack_new_ofo_skb(sock, seq, end)
            return "coalesced"
        i = len(q)
        if seq < q[-1][1]:
            for i, e in enumerate(q):
                if seq < e[0]:
                    break
                if seq < e[1]:
                    if end <= e[1]:
                        sock.dsack = (seq, end)
                        core.c["TCPOFOMerge"] += 1
                        del sock.page_bytes[s]
                        sock.stats["dup_data"] += sock.ofo_n.pop(s)
                        core.skb_free(s, cpu, True)
                        self.tcp_sack_new_ofo_skb(sock, seq, end)
                        return "dropped"
                    if seq > e[0]:  # partial overlap
                        sock.dsack = (seq, e[1])
                    else:
                        self.dsack_extend(sock, e[0], e[1])
                        core.c["TCPOFOMerge"] += 1
                        sock.stats["dup_data"] += sock.ofo_n[e[2]]
                        self.ofo_free(sock, i, cpu)
                        break
                elif self.ooo_try_coalesce(sock, e, s, seq, end):
                    self.tcp_sack_new_ofo_skb(sock, seq, end)
                    return "coalesced"
            else:
                i = len(q)
        q.insert(i, [seq, end, s])
        while i + 1 < len(q) and end > q[i + 1][0] and end >= q[i + 1][1]:
            self.dsack_extend(sock, q[i + 1][0], q[i + 1][1])
            core.c["TCPOFOMerge"] += 1
            sock.stats["dup_data"] += sock.ofo_n[q[i + 1][2]]
            self.ofo_free(sock, i + 1, cpu)
        if i + 1 < len(q) and end > q[i + 1][0]:
            self.dsack_extend(sock, q[i + 1][0], end)
        self.tcp_sack_new_ofo_skb(sock, seq, end)
        return "queued"

    @staticmethod
    def dsack_extend(sock, seq, end):
        """tcp_dsack_extend(): the pending D-SACK grows over [seq, end) if they meet, else stays; or is set."""
        if sock.dsack is None:
            sock.dsack = (seq, end)
        elif seq <= sock.dsack[1] and sock.dsack[0] <= end:
            sock.dsack = (min(seq, sock.dsack[0]), max(end, sock.dsack[1]))

    def tcp_sack_new_ofo_skb(self, sock, seq, end):
        """A block it touches grows over it, goes first and swallows those it reaches; else a new first
        block, the oldest forgotten past TCP_NUM_SACKS."""
        sacks = sock.sacks
        for b in sacks:
            if seq <= b[1] and b[0] <= end:
                b[0], b[1] = min(b[0], seq), max(b[1], end)
                sacks.remove(b)
                sacks.insert(0, b)
                for o in list(sacks[1:]):
                    if o[0] <= b[1] and b[0] <= o[1]:
                        b[0], b[1] = min(b[0], o[0]), max(b[1], o[1])
                        sacks.remove(o)
                return
        sacks.insert(0, [seq, end])
        del sacks[TCP_NUM_SACKS:]

    def tcp_sack_remove(self, sock):
        sock.sacks = [b for b in sock.sacks if sock.rcv_nxt < b[0]] if sock.ofo else []

    def tcp_ofo_queue(self, sock, cpu):
        """The skbs rcv_nxt reached go to the receive queue (all old: dropped; partly old: the new
        bytes), coalesced into its tail if they can be."""
        core = self.core
        while sock.ofo and sock.ofo[0][0] <= sock.rcv_nxt:
            seq, end, s = sock.ofo[0]
            if end <= sock.rcv_nxt:
                sock.stats["dup_data"] += sock.ofo_n[s]
                self.ofo_free(sock, 0, cpu)
                continue
            sock.ofo.pop(0)
            n = sock.ofo_n.pop(s)
            if seq < sock.rcv_nxt:
                cut = core.skbs[s][2] * (sock.rcv_nxt - seq) // (end - seq)
                core.skbs[s][2] -= cut  # its segments' own length: it may predate an MTU change
                sock.page_bytes[s] -= min(sock.page_bytes[s], cut)
                old = min(n, (sock.rcv_nxt - seq) // self.mss)  # arrived again: in order already
                sock.stats["dup_data"] += old
                n -= old
            sock.stats["packets"] += n
            sock.rcv_nxt = end
            truesize = core.skbs[s][1]
            delta = core.skb_try_coalesce(sock.receive_queue[-1], s, self.sizeof_sk_buff,
                                          SKB_SMALL_HEAD_CACHE_SIZE + self.sizeof_sk_buff) if sock.receive_queue else -1
            if delta >= 0:
                sock.rmem_alloc += delta - truesize
                sock.page_bytes[sock.receive_queue[-1]] += sock.page_bytes.pop(s)
            else:
                sock.receive_queue.append(s)
                sock.ever_queued, sock.last_queued = True, s

    def tcp_prune_ofo_queue(self, sock, need, in_seq, cpu):
        """From the queue's end, not below the arriving skb, sk_rcvbuf / 8 at a time until it fits;
        OfoPruned once, the SACK blocks forgotten."""
        if not sock.ofo:
            return False
        goal, pruned = sock.sk_rcvbuf >> 3, False
        while sock.ofo:
            seq, _, s = sock.ofo[-1]
            if in_seq > seq:
                break
            pruned = True
            goal -= self.core.skbs[s][1]
            sock.stats["ofo_drops"] += sock.ofo_n[s]
            self.ofo_free(sock, len(sock.ofo) - 1, cpu)
            if not sock.ofo or goal <= 0:
                if sock.rmem_alloc + need <= sock.sk_rcvbuf:
                    break
                goal = sock.sk_rcvbuf >> 3
        if pruned:
            self.core.c["OfoPruned"] += 1
            sock.sacks = []
        return pruned

    def tcp_rcv_space_adjust(self, sock, now):
        """Once per RTT after a read: the payload copied since the last measurement; more than ever
        before -> autotuning (tcp_moderate_rcvbuf, not under SO_RCVBUF) raises sk_rcvbuf to
        tcp_rcvbuf_grow()'s value if larger."""
        cfg, rel, sp = self.cfg, self.cfg.release, sock.rcvq_space
        if now - sp["time"] < cfg.rtt_us:
            return
        copied = sock.rcv_nxt - sp["seq"]
        if copied > sp["space"]:
            if rel.rcvbuf_autotune and not self.rcvbuf_locked:
                ratio = sock.scaling_ratio or rel.scaling_ratio_init
                want = tcp_rcvbuf_grow(copied, sp["space"], rel.rcvbuf_grow, rel.window, ratio or 1, self.mss,
                                       rcvmem_per_mss(cfg.mtu, rel.tcp_adv_win_scale, cfg.arch), int(cfg.rtt_us),
                                       rel.rcvbuf_low_rtt_us, cfg.tcp_rmem)
                if want > sock.sk_rcvbuf:  # the window clamp follows
                    sock.sk_rcvbuf = want
                    sock.window_clamp = self.window(sock, want)
            sp["space"] = copied
        sp["seq"] = sock.rcv_nxt
        sp["time"] = now

    def on_reader(self, sock):
        """Whether ``sock``'s application reads on a reading CPU (not a NAPI CPU: CPUs 0..Q-1)."""
        return sock.app_cpu >= self.cfg.queues

    def count(self, sock, name, n=1):
        """Count ``n`` of ``name`` done by ``sock``'s application, on its CPU."""
        self.core.c[name] += n
        if self.on_reader(sock):
            self.reader[name] += n

    def free_on_reader(self, sock, s):
        """kfree_skb() on the reading CPU: everything it counts is that CPU's."""
        before = Counter(self.core.c)
        self.core.skb_free(s, sock.app_cpu, False)
        if self.on_reader(sock):
            self.reader.update({k: v - before[k] for k, v in self.core.c.items() if v != before[k]})

    def tcp_recvmsg(self, sock, now):
        """The application reads everything queued (a read that finds data: the reader was woken
        for it), copying each skb's payload to user space (skb_copy_datagram_iter); each skb is eaten
        (tcp_eat_recv_skb) by skb_attempt_defer_free() when enabled and read away from its NAPI CPU,
        else freed here; then tcp_rcv_space_adjust()."""
        core = self.core
        napi = self.rxqs[sock.queue].napi_cpu
        found = bool(sock.receive_queue)
        if found:
            self.count(sock, "tcp_recvmsg")
            # payload: the bytes read less a TCP/IP header per MTU-sized segment
            read = sum(core.skbs[s][2] for s in sock.receive_queue)
            self.count(sock, "bytes_to_user", read * (self.mtu - TCP_IP_HEADERS) // self.mtu)
        while sock.receive_queue:
            s = sock.receive_queue.popleft()
            del sock.page_bytes[s]
            sock.rmem_alloc -= core.skbs[s][1]
            sock.stats["delivered"] += core.skbs[s][2]
            if self.cfg.defer_free and sock.app_cpu != napi:
                self.skb_attempt_defer_free(s, napi, sock)
            else:
                self.free_on_reader(sock, s)
        sock.copied_seq = sock.rcv_nxt
        # tcp_recvmsg_locked() calls tcp_rcv_space_adjust() and tcp_cleanup_rbuf() after it copies data:
        # a read that finds none (the reader sleeps in sk_wait_data) does neither
        if found and now != np.inf:
            self.now = now
            self.tcp_rcv_space_adjust(sock, now)
            self.tcp_cleanup_rbuf(sock)

    def skb_attempt_defer_free(self, s, alloc_cpu, sock):
        """``atomic_long_inc_return(&defer_count) >= defer_max`` -> nodefer: freed on this CPU;
        else queued to the allocating CPU, which frees it in softirq (rxlab: at once)."""
        sd = self.softnet[alloc_cpu]
        sd["defer_count"] += 1
        if sd["defer_count"] >= self.cfg.skb_defer_max:
            self.count(sock, "skb_defer_full")
            self.free_on_reader(sock, s)
        else:
            self.count(sock, "skb_defer_free")
            self.core.skb_free(s, alloc_cpu, True)

    def ptr_ring_produced(self, pool, cpu):
        """ptr_ring_produce() by ``cpu`` into ``pool`` at self.now, under the ring's producer_lock: the
        CPU's produces at one instant follow one another a hold apart (sequential on that CPU); one
        that shares its hold with n produces of other CPUs into the pool is contended and waits for
        their n holds. A CPU lock_ahead holds or more ahead of model time is not timed."""
        now = int(self.now * 1e6) // self.hold_ps
        k = max(now, self.lock_free_at[cpu])
        if k - now >= self.lock_ahead:
            self.core.c["ptr_ring_produce_untimed"] += 1
            return
        self.lock_free_at[cpu] = k + 1
        n = self.lock_holds[pool, k]
        if n:
            self.core.c["ptr_ring_produce_contended"] += 1
            self.core.c["ptr_ring_lock_wait"] += n
        self.lock_holds[pool, k] += 1

    # -- the receiver's ACKs (tcp_input.c, tcp_output.c tcp_send_ack, tcp.c __tcp_cleanup_rbuf) ---------
    def slot(self, sock, kind):
        """A timer's slot: connection x TIMERS + 0 (xmit), 1 (delayed ACK) or 2 (the reader's wake)."""
        return sock.c * TIMERS + kind

    def tcp_send_ack(self, sock):
        """An ACK of rcv_nxt with tcp_select_window()'s window, back at the sender one RTT later; the
        delayed ACK cancelled, quick-ack mode one ACK down."""
        edge = self.tcp_select_window(sock)
        if sock.ack_pending:
            sock.ack_quick = max(0, sock.ack_quick - 1)
            sock.ack_pending = False
            self.timers.pop(self.slot(sock, 1), None)
        sock.stats["acks_sent"] += 1
        dsack, sock.dsack = sock.dsack, None  # a D-SACK block takes the place of the last SACK block
        if len(self.acks) == self.ack_cap:
            self.ack_ring_full += 1
            return
        blocks = sock.sacks[:TCP_SACK_BLOCKS_SENT - (dsack is not None)]
        self.acks.append((self.now + self.cfg.rtt_us, sock.c, sock.rcv_nxt, edge,
                          tuple(tuple(b) for b in blocks), dsack))

    def tcp_send_dsack(self, sock, start, end):
        """The immediate ACK of a segment that arrived again, carrying its D-SACK block (tcp_dsack_set),
        which takes the place of the last SACK block the option space holds (tcp_established_options)."""
        sock.dsack = (start, end)
        self.tcp_incr_quickack(sock)
        self.tcp_ack_now(sock)

    def tcp_ack_now(self, sock):
        sock.ack_pending = True
        self.tcp_send_ack(sock)

    def tcp_incr_quickack(self, sock):
        quick = sock.rcv_wnd // (2 * sock.rcv_mss)
        sock.ack_quick = max(sock.ack_quick, min(quick or 2, TCP_MAX_QUICKACKS))

    def tcp_cleanup_rbuf(self, sock):
        """After a read: the scheduled ACK if more than a segment is unacknowledged, else an ACK with the
        window if twice what is open fits window_clamp and the new window is non-zero and at least
        twice it (a window update)."""
        if sock.ack_pending and sock.rcv_nxt - sock.rcv_wup > sock.rcv_mss:
            self.tcp_send_ack(sock)
            return
        now = max(0, sock.rcv_wup + sock.rcv_wnd - sock.rcv_nxt)
        if 2 * now <= sock.window_clamp:
            new = self.select_window_now(sock)
            if new and new >= 2 * now:
                sock.win_updates += 1
                self.tcp_send_ack(sock)

    def tcp_data_ready(self, sock):
        """sk_data_ready when tcp_epollin_ready(): a sleeping reader is woken, to run after a
        log-logistic (shape 2) latency around wake_us."""
        if self.cfg.reader != "woken" or sock.reader_woken:
            return
        avail = sock.rcv_nxt - sock.copied_seq
        if avail <= 0:
            return
        if (avail >= self.cfg.rcvlowat or sock.rmem_alloc > sock.sk_rcvbuf - (sock.sk_rcvbuf >> 3)
                or sock.rcv_wup + sock.rcv_wnd - sock.rcv_nxt <= sock.rcv_mss):
            sock.reader_woken = True
            sock.stats["wakes"] += 1
            u = self.rng.random_sample()
            self.timers[self.slot(sock, 2)] = self.now + self.cfg.wake_us * np.sqrt(u / (1.0 - u))

    # -- the senders (tcp_output.c tcp_write_xmit, tcp_input.c tcp_ack, tcp_timer.c), Reno -----------
    def can_send(self, sock):
        """A probe, or tcp_packets_in_flight() below cwnd for a lost segment or one the window allows."""
        return sock.xmit_probe or (self.in_flight(sock) < sock.cwnd
                                   and (self.wnd_allows(sock) or (sock.lost_out > 0 and self.lost_may_go(sock))))

    def in_flight(self, sock):
        """packets_out - sacked_out - lost_out (+ retrans_out); in TCP_CA_Loss, resending from snd_nxt,
        what is SACKed above it is not out either."""
        out = self.pcount(sock, sock.snd_una, sock.snd_nxt) - sock.sacked_out - sock.lost_out
        if sock.sacked_out and sock.snd_nxt < sock.snd_max:
            out += self.sacked_segs(sock, sock.snd_nxt, sock.snd_max)
        return out

    @staticmethod
    def sack_skip(sock, seq):
        """The first byte from ``seq`` neither SACKed nor sent again and in flight
        (tcp_xmit_retransmit_queue skips TCPCB_SACKED_ACKED and TCPCB_SACKED_RETRANS)."""
        spans = [(b, e) for b, e in sock.scoreboard] + [(r[0], r[1]) for r in sock.in_flight_rtx]
        while True:
            hit = [e for b, e in spans if b <= seq < e]
            if not hit:
                return seq
            seq = max(hit)

    def lost_may_go(self, sock):
        """__tcp_retransmit_skb(): -EAGAIN for a lost segment beyond the window, unless it is snd_una."""
        seq = self.sack_skip(sock, sock.rexmit_nxt)
        return seq < sock.snd_edge or seq == sock.snd_una

    def wnd_allows(self, sock):
        """New data whole within the window; a retransmission once it starts within it (cut to it), or
        at snd_una whatever the window (__tcp_retransmit_skb)."""
        if sock.snd_nxt < sock.snd_max:
            return sock.snd_nxt < sock.snd_edge or sock.snd_nxt == sock.snd_una
        return sock.snd_nxt + self.mss <= sock.snd_edge

    # -- the retransmission queue (tcp_fragment, __tcp_retransmit_skb, tcp_retrans_try_collapse) ---
    FRAGS = 16  # rxlab keeps at most this many cut entries: a cut beyond is sent, not kept

    def rtx_entry(self, sock, seq):
        """[start, end) of the entry that holds byte ``seq``."""
        base = sock.grid
        for s, e in sock.frags:
            if seq < e:
                if seq >= s:
                    return s, e
                start = base + (seq - base) // self.mss * self.mss
                return start, min(start + self.mss, s)
            base = e
        start = base + (seq - base) // self.mss * self.mss
        return start, start + self.mss

    def entries(self, sock, lo, hi):
        """The entries from the one holding ``lo`` to the one ending at or after ``hi``."""
        out = []
        while lo < hi:
            out.append(self.rtx_entry(sock, lo))
            lo = out[-1][1]
        return out

    def pcount(self, sock, lo, hi):
        """Segments (entries) in [lo, hi); bytes // mss while none is cut."""
        return len(self.entries(sock, lo, hi)) if sock.frags else (hi - lo) // self.mss

    def starts(self, sock, lo, hi):
        """Entries that start in [lo, hi): those a window ending at ``hi`` lets go from ``lo``."""
        if hi <= lo:
            return 0
        return len(self.entries(sock, lo, hi)) if sock.frags else -(-(hi - lo) // self.mss)

    def fragment(self, sock, lo, mid, hi):
        """The entries in [lo, hi) become [lo, mid) and [mid, hi), or [lo, hi) when ``mid`` is ``hi``:
        kept if FRAGS allows."""
        keep = [f for f in sock.frags if f[1] <= lo or f[0] >= hi]
        new = [[lo, mid]] + ([[mid, hi]] if mid < hi else [])
        if len(keep) + len(new) > self.FRAGS:
            return False
        sock.frags = sorted(keep + new)
        return True

    def wnd_segs(self, sock):
        """Segments the window lets go from snd_nxt: new data whole, retransmissions that start in it."""
        nxt, edge, top = sock.snd_nxt, sock.snd_edge, sock.snd_max
        if nxt >= top:
            return (edge - nxt) // self.mss
        if edge <= top:
            return max(self.starts(sock, nxt, edge), int(nxt == sock.snd_una))
        return self.pcount(sock, nxt, top) + (edge - top) // self.mss

    def retransmit_len(self, sock, seq):
        """__tcp_retransmit_skb() of the entry at ``seq``: cut to the window when it ends before the
        entry (tcp_fragment), the whole entry at a closed window (the head only), else collapsed with
        the next entries that fit in min(window, mss) and the window (tcp_retrans_try_collapse)."""
        end = self.rtx_entry(sock, seq)[1]
        avail = sock.snd_edge - seq
        if avail <= 0:
            return end - seq
        if avail < end - seq:
            self.fragment(sock, seq, seq + avail, end)
            return avail
        space = min(avail, self.mss) - (end - seq)
        top = end
        while space > 0 and top < sock.snd_max:
            s2, e2 = self.rtx_entry(sock, top)
            space -= e2 - s2
            if space < 0 or e2 > sock.snd_edge or self.sacked_in(sock, s2, e2):  # tcp_can_collapse
                break
            top = e2
        if top > end and self.fragment(sock, seq, top, top):
            end = top
        return end - seq

    def sndq_push(self, sock):
        if not sock.in_sndq:
            sock.in_sndq = True
            self.sndq.append(sock)

    def sndq_pop(self):
        while self.sndq:
            sock = self.sndq.popleft()
            sock.in_sndq = False
            if self.can_send(sock):
                return sock
        return None

    def rto(self, sock):
        return min((self.cfg.rtt_us + TCP_RTO_MIN_US) * 2.0 ** sock.backoff, TCP_RTO_MAX_US)

    def arm_xmit_timer(self, sock):
        """tcp_schedule_loss_probe / tcp_rearm_rto / tcp_check_probe_timer."""
        slot = self.slot(sock, 0)
        out = self.pcount(sock, sock.snd_una, sock.snd_nxt)
        if out == 0:
            if not self.wnd_allows(sock):
                if sock.recovery != 3:
                    sock.recovery = 3
                    base = max(self.cfg.rtt_us + TCP_RTO_MIN_US, float(TCP_RTO_MIN_US))
                    self.timers[slot] = self.now + min(base * 2.0 ** min(sock.backoff, PROBE0_BACKOFF_MAX),
                                                       TCP_RTO_MAX_US)
            else:
                sock.recovery = 0
                self.timers.pop(slot, None)
            return
        if sock.ca_state == "open" and sock.tlp_high_seq == 0:
            pto = 2.0 * self.cfg.rtt_us + (TCP_RTO_MIN_US if out == 1 else TCP_TIMEOUT_MIN_US)
            sock.recovery = 1
            self.timers[slot] = self.now + min(pto, self.rto(sock))
        else:
            sock.recovery = 2
            self.timers[slot] = self.now + self.rto(sock)

    def xmit_timer(self, sock):
        """An RTO enters TCP_CA_Loss (Reno's ssthresh on entering, one segment, all again from snd_una);
        a tail loss probe or a zero-window probe goes out as the sender's next packet."""
        kind, sock.recovery = sock.recovery, 0
        if kind == 4:  # RACK's reordering timeout
            self.rack_reo_timeout(sock)
            self.arm_xmit_timer(sock)
            if self.can_send(sock):
                self.sndq_push(sock)
            return
        last = self.rtx_entry(sock, sock.snd_nxt - 1)[0] if kind == 1 else 0
        if kind == 1 and last >= sock.snd_edge and last != sock.snd_una:
            sock.recovery = 2  # the probe's segment lies beyond a shrunk window: not sent, the RTO armed
            self.timers[self.slot(sock, 0)] = self.now + self.rto(sock)
            return
        if kind == 2:
            if sock.snd_edge > sock.snd_una:  # snd_wnd 0: the retransmission probes, no TCPTimeouts
                sock.stats["timeouts"] += 1
            if sock.scoreboard and sock.scoreboard[0][0] <= sock.snd_una:  # tcp_timeout_mark_lost: reneged
                sock.stats["sack_reneging"] += 1
                sock.scoreboard, sock.sacked_out = [], 0
            for r in sock.in_flight_rtx:  # lost again
                self.rtx_mark_lost(sock, r)
            sock.in_flight_rtx = []
            sock.lost_hi = sock.rexmit_nxt = sock.fack = sock.snd_una  # all again, over what is SACKed
            sock.lost_out = 0
            if sock.ca_state == "open" or (sock.ca_state == "loss" and sock.backoff == 0):  # tcp_enter_loss
                sock.ssthresh = max(sock.cwnd >> 1, 2)
            sock.frto = int(sock.ca_state == "open" or sock.backoff > 0)  # F-RTO step 1
            sock.ca_state, sock.high_seq = "loss", sock.snd_max
            sock.cwnd, sock.cwnd_cnt, sock.snd_nxt, sock.burst, sock.tlp_high_seq = 1, 0, sock.snd_una, 0, 0
            sock.backoff += 1
            self.timers[self.slot(sock, 0)] = self.now + self.rto(sock)
            sock.recovery = 2  # the head goes again whatever the window (wnd_allows)
        else:
            sock.xmit_probe = kind
        self.sndq_push(sock)

    def tso_segs(self, sock):
        """tcp_tso_autosize() with tcp_update_pacing_rate()'s rate; at most half the largest window."""
        mss, rtt = self.mss, self.cfg.rtt_us
        out = self.pcount(sock, sock.snd_una, sock.snd_nxt)
        ratio = TCP_PACING_SS_RATIO if sock.cwnd < sock.ssthresh // 2 else TCP_PACING_CA_RATIO
        size = int(mss * max(sock.cwnd, out) * 1e6 / rtt * ratio / 100.0) >> SK_PACING_SHIFT
        r = int(rtt) >> TCP_TSO_RTT_LOG
        if r < 32:
            size += GSO_LEGACY_MAX_SIZE >> r
        size = min(size, GSO_LEGACY_MAX_SIZE)
        half = sock.max_window >> 1 if sock.max_window > TCP_MSS_DEFAULT else sock.max_window
        if half > 0:
            size = min(size, max(half, mss))
        return max(size // mss, TCP_MIN_TSO_SEGS)

    def xmit(self, sock):
        """The sender's next segment: the probe asked for, or the next of its TSO skb; a retransmission
        cut to the window or collapsed (retransmit_len). A zero-window probe with the window open by
        less than a segment carries new data cut to it (tcp_write_wakeup), the RTO armed, the probe's
        backoff cleared. Returns its sequence number, None for a zero-window probe without data."""
        mss = self.mss
        ln = mss
        if sock.xmit_probe == 3:
            sock.xmit_probe = 0
            seq = sock.snd_nxt
            if seq >= sock.snd_edge:
                sock.stats["win_probes"] += 1
                sock.probes_out += 1
                sock.backoff = min(sock.backoff + 1, PROBE0_BACKOFF_MAX) if sock.backoff < PROBE0_BACKOFF_MAX \
                    else sock.backoff
                return None
            ln = min(sock.snd_edge - seq, mss)
            self.fragment(sock, seq, seq + ln, seq + ln)
            sock.snd_nxt = seq + ln
            sock.probes_out = sock.backoff = 0
            sock.recovery = 2
            self.timers[self.slot(sock, 0)] = self.now + self.rto(sock)
        elif sock.xmit_probe == 1:
            sock.xmit_probe = 0
            sock.stats["loss_probes"] += 1
            if sock.snd_nxt + mss <= sock.snd_edge:
                seq = sock.snd_nxt
                sock.snd_nxt += mss
            else:
                seq = self.rtx_entry(sock, sock.snd_nxt - 1)[0]
                ln = self.retransmit_len(sock, seq)
            sock.tlp_retrans = seq < sock.snd_max
            sock.tlp_high_seq = sock.snd_nxt
        else:
            if sock.burst == 0:
                if sock.lost_out > 0 and sock.frto != 2:
                    return self.retransmit_lost(sock)
                out = self.in_flight(sock)
                quota = min(max(sock.cwnd >> 1, 1), sock.cwnd - out)  # tcp_cwnd_test(): half cwnd at most
                sock.burst = min(self.tso_segs(sock), quota, self.wnd_segs(sock))
            if sock.ca_state == "recovery":
                sock.prr_out += 1
            seq = sock.snd_nxt
            sock.burst -= 1
            if seq < sock.snd_max:
                ln = self.retransmit_len(sock, seq)
                self.rtx_sent(sock, seq, seq + ln)
                sock.snd_nxt = self.sack_skip(sock, seq + ln)
                if sock.burst > 0:  # after a collapse or SACKed entries passed: those still within the window
                    sock.burst = min(sock.burst, self.wnd_segs(sock))
            else:
                sock.snd_nxt += ln
        if seq < sock.snd_max:
            sock.stats["retrans"] += 1
        sock.snd_max = max(sock.snd_max, sock.snd_nxt)
        sock.seg_len = ln
        return seq

    def sent_one(self, sock):
        """After a segment: when the TSO skb is done, tcp_cwnd_validate(), the timers, and the sender
        queued again if it may send (else a stall when the receive window stops it). Returns whether
        the skb goes on."""
        if sock.burst > 0:
            return True
        out = self.pcount(sock, sock.snd_una, sock.snd_nxt)
        limited = out >= sock.cwnd
        if sock.snd_una >= sock.cwnd_usage_seq or limited or (not sock.cwnd_limited and out > sock.max_out):
            sock.cwnd_limited, sock.max_out, sock.cwnd_usage_seq = limited, out, sock.snd_nxt
        if sock.recovery != 2 or out == 0:
            self.arm_xmit_timer(sock)
        if self.can_send(sock):
            self.sndq_push(sock)
        elif not self.wnd_allows(sock) and not limited:
            sock.stats["stalls"] += 1
        return False

    def tcp_ack(self, sock, ack, edge, sacks, dsack):
        """tcp_ack(): the window, snd_una (backoff restarts), Reno's growth when cwnd-limited, the tail
        loss probe answered (``dsack``: a D-SACK block or None), TCP_CA_Loss left, the SACK scoreboard
        (in TCP_CA_Loss too) and loss recovery, timers, the zero-window probe stopped when it opens."""
        acked = ack - sock.snd_una
        wnd_update = edge != sock.snd_edge
        if sock.frto == 2:  # F-RTO's new data went on the last ACK
            sock.frto = 1
        if acked > 0 or edge > sock.snd_edge or edge == ack:  # tcp_may_update_window(): taken as is
            sock.snd_edge = edge
        sock.max_window = max(sock.max_window, edge - ack)
        sacking = bool(sacks or sock.sacked_out or sock.lost_out or sock.ca_state == "recovery")
        acked_segs = 0
        if acked > 0:
            acked_segs = self.pcount(sock, sock.snd_una, ack)
            while sock.frags and sock.frags[0][1] <= ack:  # tcp_clean_rtx_queue()
                sock.grid = sock.frags.pop(0)[1]
            sock.snd_una = ack
            sock.backoff = sock.probes_out = 0
            if sock.tlp_high_seq:
                self.process_tlp_ack(sock, ack, dsack, False)
            if sock.ca_state == "loss" and ack >= sock.high_seq:
                sock.ca_state, sock.in_flight_rtx = "open", []
            sock.snd_nxt = max(sock.snd_nxt, ack)
            if not sacking:
                self.cong_avoid(sock, acked_segs)
        elif sock.tlp_high_seq:
            self.process_tlp_ack(sock, ack, dsack, not wnd_update and not sacks)
        armed = False
        if sacking:
            grow, armed = self.sack_ack(sock, acked, acked_segs, sacks)
            if grow > 0:
                self.cong_avoid(sock, grow)
            if sock.snd_nxt < sock.snd_max:
                sock.snd_nxt = self.sack_skip(sock, sock.snd_nxt)
        if sock.recovery == 3:
            if self.wnd_allows(sock):
                sock.recovery = sock.backoff = sock.probes_out = 0
                self.timers.pop(self.slot(sock, 0), None)
            else:  # still closed: tcp_ack_probe() re-arms the probe timer from this ACK
                base = max(self.cfg.rtt_us + TCP_RTO_MIN_US, float(TCP_RTO_MIN_US))
                self.timers[self.slot(sock, 0)] = self.now + min(base * 2.0 ** min(sock.backoff, PROBE0_BACKOFF_MAX),
                                                                 TCP_RTO_MAX_US)
                if acked <= 0:
                    return
        if acked > 0 and sock.ca_state == "loss" and sock.frto == 1:
            self.frto_new_data(sock)
        if not armed and (acked > 0 or sock.recovery in (0, 4)):
            self.arm_xmit_timer(sock)
        if self.can_send(sock):
            self.sndq_push(sock)

    def frto_new_data(self, sock):
        """F-RTO step 2b (tcp_process_loss): the first ACK advancing snd_una after an RTO, nothing new
        sent since, sends new data first if a segment fits both windows (REXMIT_NEW); the segments not
        yet sent again keep their lost marks for the next ACK. Else F-RTO ends."""
        if sock.snd_max != sock.high_seq:
            return
        if sock.snd_max + self.mss > sock.snd_edge or self.in_flight(sock) >= sock.cwnd:
            sock.frto = 0
            return
        sock.frto = 2
        if sock.snd_nxt < sock.snd_max:
            sock.rexmit_nxt, sock.lost_hi = sock.snd_nxt, sock.snd_max
            sock.lost_out = self.lost_count(sock)
            sock.snd_nxt, sock.burst = sock.snd_max, 0

    def process_tlp_ack(self, sock, ack, dsack, dup):
        """tcp_process_tlp_ack(): a probe of new data is done once acknowledged; one that resent the last
        segment shows a loss when the ACK goes beyond it (CWR: ssthresh halved, cwnd = ssthresh,
        TCPLossProbeRecovery), none when D-SACKed (a segment at most, ending at the probe's snd_nxt) or
        on a pure duplicate ACK."""
        if ack < sock.tlp_high_seq:
            return
        if not sock.tlp_retrans or (dsack and dsack[1] == sock.tlp_high_seq and dsack[1] - dsack[0] <= self.mss):
            sock.tlp_high_seq = 0
        elif ack > sock.tlp_high_seq:
            sock.ssthresh = sock.cwnd = max(sock.cwnd >> 1, 2)
            sock.cwnd_cnt = sock.tlp_high_seq = 0
            sock.stats["tlp_recovery"] += 1
        elif dup:
            sock.tlp_high_seq = 0

    def cong_avoid(self, sock, segs):
        """Reno's growth (tcp_reno_cong_avoid) when cwnd-limited: slow start, then tcp_cong_avoid_ai."""
        slow = sock.cwnd < sock.ssthresh
        if not (sock.cwnd_limited or (slow and sock.cwnd < 2 * sock.max_out)):  # tcp_is_cwnd_limited
            return
        if slow:
            cwnd = min(sock.cwnd + segs, sock.ssthresh)
            segs -= cwnd - sock.cwnd
            sock.cwnd = cwnd
        if segs:
            if sock.cwnd_cnt >= sock.cwnd:
                sock.cwnd_cnt, sock.cwnd = 0, sock.cwnd + 1
            sock.cwnd_cnt += segs
            if sock.cwnd_cnt >= sock.cwnd:
                delta = sock.cwnd_cnt // sock.cwnd
                sock.cwnd_cnt -= delta * sock.cwnd
                sock.cwnd += delta

    # -- SACK loss recovery: scoreboard, RACK, fast recovery with PRR ----------------------------------
    SB_RANGES = 16  # rxlab keeps at most this many SACKed ranges: a block that would make one more is ignored

    @staticmethod
    def sacked_in(sock, lo, hi):
        return sum(max(0, min(e, hi) - max(b, lo)) for b, e in sock.scoreboard)

    def sack_insert(self, sock, start, end):
        """[start, end) SACKed: merged with the ranges it touches; returns the bytes newly SACKed."""
        touch = [r for r in sock.scoreboard if r[1] >= start and r[0] <= end]
        if not touch:
            if len(sock.scoreboard) == self.SB_RANGES:
                return 0
            sock.scoreboard = sorted(sock.scoreboard + [[start, end]])
            return end - start
        lo, hi = min(start, touch[0][0]), max(end, touch[-1][1])
        new = hi - lo - self.sacked_in(sock, lo, hi)
        sock.scoreboard = sorted([r for r in sock.scoreboard if r not in touch] + [[lo, hi]])
        return new

    def sacked_segs(self, sock, lo, hi):
        """Entries in [lo, hi) SACKed whole (bytes // mss while none is cut)."""
        if not sock.frags:
            return self.sacked_in(sock, lo, hi) // self.mss
        return sum(self.sacked_in(sock, s, e) == e - s for s, e in self.entries(sock, lo, hi))

    def unsacked(self, sock, lo, hi):
        return self.pcount(sock, lo, hi) - self.sacked_segs(sock, lo, hi)

    def lost_count(self, sock):
        """Entries in [rexmit_nxt, lost_hi) neither SACKed nor sent again and in flight."""
        lo, hi = sock.rexmit_nxt, sock.lost_hi
        if hi <= lo:
            return 0
        n = self.unsacked(sock, lo, hi)
        for r in sock.in_flight_rtx:
            if min(r[1], hi) > max(r[0], lo):
                n -= self.unsacked(sock, max(r[0], lo), min(r[1], hi))
        return n

    def rtx_sent(self, sock, lo, hi):
        """A retransmission leaves: logged last in send order (RACK's tsorted_sent_queue), those it
        covers (collapsed into it) dropped, the oldest dropped beyond 8."""
        sock.in_flight_rtx = [r for r in sock.in_flight_rtx if not (lo <= r[0] and r[1] <= hi)][-7:]
        sock.in_flight_rtx.append((lo, hi, sock.snd_max, int(self.now * 1000.0)))

    def rtx_delivered(self, sock, r):
        lo = max(r[0], sock.snd_una)
        return r[1] <= lo or self.sacked_in(sock, lo, r[1]) == r[1] - lo

    def rtx_mark_lost(self, sock, r):
        """tcp_mark_skb_lost() of a retransmission in flight: TCPLostRetransmit, its entries not SACKed."""
        lo = max(r[0], sock.snd_una)
        if r[1] > lo:
            sock.stats["lost_retrans"] += self.unsacked(sock, lo, r[1])

    def unsacked_top(self, sock, lo, hi):
        """The end of the highest byte of [lo, hi) no SACKed range holds, else ``lo``."""
        top = hi
        while any(b < top <= e for b, e in sock.scoreboard):
            top = next(b for b, e in sock.scoreboard if b < top <= e)
        return max(top, lo)

    def rack_lost_retrans(self, sock, top):
        """RACK in recovery or loss (reordering window 0): a retransmission in flight sent before the
        latest segment delivered is lost. The latest: a retransmission in flight delivered whole at least
        min_rtt (the configured RTT) after it left, or new data up to ``top``, sent after every
        retransmission that left with snd_max below ``top``. In TCP_CA_Loss, TCP_CA_Recovery follows."""
        now, rtt = int(self.now * 1000.0), int(self.cfg.rtt_us * 1000.0)
        latest = -1  # the index of the latest retransmission sent before the latest segment delivered
        for i, r in enumerate(sock.in_flight_rtx):
            if r[2] < top:
                latest = max(latest, i)
            if now - r[3] >= rtt and self.rtx_delivered(sock, r):
                latest = max(latest, i - 1)
        lost = [r for i, r in enumerate(sock.in_flight_rtx) if i <= latest and not self.rtx_delivered(sock, r)]
        for r in lost:
            self.rtx_mark_lost(sock, r)
        sock.in_flight_rtx = [r for i, r in enumerate(sock.in_flight_rtx)
                              if i > latest and not self.rtx_delivered(sock, r)]
        if latest < 0:
            return
        if sock.ca_state == "loss":
            sock.snd_nxt, sock.burst, sock.lost_hi, sock.frto = sock.snd_max, 0, sock.snd_max, 0
            self.enter_recovery(sock)
        sock.rexmit_nxt = sock.snd_una
        sock.lost_out = self.lost_count(sock)

    def enter_recovery(self, sock):
        """tcp_enter_recovery (TCPSACKRecovery), tcp_init_cwnd_reduction, Reno's ssthresh."""
        sock.stats["sack_recovery"] += 1
        sock.high_seq, sock.tlp_high_seq, sock.cwnd_cnt = sock.snd_nxt, 0, 0
        sock.prior_cwnd, sock.prr_delivered, sock.prr_out = sock.cwnd, 0, 0
        sock.ssthresh = max(sock.cwnd >> 1, 2)
        sock.ca_state = "recovery"

    def cwnd_reduction(self, sock, newly, newly_lost, una_advanced):
        """tcp_cwnd_reduction: PRR."""
        if newly <= 0:
            return
        fl = self.in_flight(sock)
        delta = sock.ssthresh - fl
        sock.prr_delivered += newly
        if delta < 0:
            sndcnt = -(-sock.ssthresh * sock.prr_delivered // sock.prior_cwnd) - sock.prr_out
        else:
            sndcnt = max(sock.prr_delivered - sock.prr_out, newly) + (1 if una_advanced and not newly_lost else 0)
            sndcnt = min(delta, sndcnt)
        sock.cwnd = fl + max(sndcnt, 0 if sock.prr_out else 1)

    def rack_mark_lost(self, sock):
        """Below the frontier, unSACKed and not lost yet: lost if the reordering window is 0 (recovery,
        or TCP_REORDERING SACKed), else the reordering timer (rtt / 4 + TCP_TIMEOUT_MIN)."""
        lo, hi = max(sock.lost_hi, sock.snd_una), sock.fack
        if hi <= lo:
            return False
        if hi - lo == self.sacked_in(sock, lo, hi):
            sock.lost_hi = hi
            return False
        if sock.ca_state == "recovery" or sock.sacked_out >= TCP_REORDERING:
            sock.lost_hi = hi
            sock.lost_out = self.lost_count(sock)
            return False
        sock.recovery = 4
        self.timers[self.slot(sock, 0)] = self.now + (int(self.cfg.rtt_us) >> 2) + TCP_TIMEOUT_MIN_US
        return True

    def sack_ack(self, sock, acked, acked_segs, sacks):
        """The scoreboard from the ACK, RACK (not in TCP_CA_Loss), tcp_fastretrans_alert, PRR. Returns
        (segments for Reno's growth, whether the xmit timer was set)."""
        una = sock.snd_una
        delivered = 0
        top = 0  # where the data this ACK newly delivered ends
        if acked > 0:
            prior, held = una - acked, sock.sacked_out
            top = self.unsacked_top(sock, prior, una)
            sock.scoreboard = [[max(b, una), e] for b, e in sock.scoreboard if e > una]
            sock.sacked_out = self.sacked_segs(sock, una, sock.snd_max)
            delivered = acked_segs - (held - sock.sacked_out)
            if prior < sock.rexmit_nxt and sock.ca_state == "recovery":
                sock.fack = max(sock.fack, sock.high_seq)
        sock.fack, sock.rexmit_nxt, sock.lost_hi = max(sock.fack, una), max(sock.rexmit_nxt, una), \
            max(sock.lost_hi, una)
        held = sock.sacked_out
        for start, end in sacks:
            start = max(start, una)
            if end <= start or end > sock.snd_max:
                continue
            top = max(top, self.unsacked_top(sock, start, end))
            if self.sack_insert(sock, start, end) > 0:
                if start < sock.rexmit_nxt and sock.ca_state == "recovery":
                    sock.fack = max(sock.fack, sock.high_seq)
                sock.fack = max(sock.fack, end)
        if sacks:
            sock.sacked_out = self.sacked_segs(sock, una, sock.snd_max)
            delivered += sock.sacked_out - held
        lost_before = sock.lost_out = self.lost_count(sock)
        if acked > 0 and sock.scoreboard and sock.scoreboard[0][0] == una:  # reneging
            sock.recovery = 2
            self.timers[self.slot(sock, 0)] = self.now + max(self.cfg.rtt_us / 16.0, 10_000.0)
            return 0, True
        if sock.ca_state == "recovery" and una >= sock.high_seq:
            sock.cwnd, sock.ca_state, sock.in_flight_rtx = sock.ssthresh, "open", []
        if sock.in_flight_rtx and delivered > 0 and sock.ca_state != "open":
            self.rack_lost_retrans(sock, top)
        armed = self.rack_mark_lost(sock) if delivered > 0 and sock.ca_state != "loss" else False
        newly_lost = sock.lost_out - lost_before
        if sock.ca_state == "open" and sock.lost_out > 0:
            self.enter_recovery(sock)
        if sock.ca_state == "recovery":
            self.cwnd_reduction(sock, delivered, newly_lost, acked > 0)
            return 0, armed
        return (delivered if acked > 0 else 0), armed

    def rack_reo_timeout(self, sock):
        lost_before = sock.lost_out
        sock.lost_hi = max(sock.lost_hi, sock.fack)
        sock.lost_out = self.lost_count(sock)
        if sock.lost_out != lost_before and sock.ca_state != "recovery":
            self.enter_recovery(sock)
            self.cwnd_reduction(sock, 1, sock.lost_out - lost_before, False)

    def retransmit_lost(self, sock):
        """tcp_xmit_retransmit_queue: the first lost entry not SACKed, cut to the window or collapsed
        (retransmit_len; RetransSegs, TCPFastRetrans)."""
        seq = self.sack_skip(sock, sock.rexmit_nxt)
        sock.seg_len = self.retransmit_len(sock, seq)
        sock.rexmit_nxt = seq + sock.seg_len
        self.rtx_sent(sock, seq, seq + sock.seg_len)
        sock.lost_out = self.lost_count(sock)
        sock.stats["retrans"] += 1
        if sock.ca_state != "loss":  # TCPSlowStartRetrans in TCP_CA_Loss
            sock.stats["fast_retrans"] += 1
        sock.prr_out += 1
        return seq

    # -- events and the clock ---------------------------------------------------------------------
    def next_event(self):
        """(time, kind, what) of the next event: the oldest ACK when due with the next timer, else the
        timer due first (ties by slot)."""
        timer = self.timers.first()
        if self.acks and self.acks[0][0] <= timer[0]:
            return self.acks[0][0], "ack", None
        return timer[0], "timer", timer[1]

    def run_event(self):
        due, kind, slot = self.next_event()
        self.now = due
        if kind == "ack":
            _, c, ack, edge, sacks, dsack = self.acks.popleft()
            self.tcp_ack(self.socks[c], ack, edge, sacks, dsack)
            return
        del self.timers[slot]
        C = len(self.socks)
        if slot >= C * TIMERS + self.cfg.queues:  # a TPA aggregation times out: the poll that takes it ends
            rxq = self.rxqs[slot - C * TIMERS - self.cfg.queues]
            self.bnxt_tpa_end(rxq, next(iter(rxq.tpa_open)))
            self.timers[C * TIMERS + rxq.q] = due
            return
        if slot >= C * TIMERS:
            self.napi_complete_done(self.rxqs[slot - C * TIMERS])
            return
        sock = self.socks[slot // TIMERS]
        what = slot % TIMERS
        if what == 0:
            self.xmit_timer(sock)
        elif what == 1:
            self.tcp_send_ack(sock)
        else:  # the reader runs: it reads all that is queued
            sock.reader_woken = False
            self.tcp_recvmsg(sock, due)

    def ring_busy(self, sock, t):
        """The poll of the queue that took a packet ends at ``t`` unless another follows at once."""
        self.timers[len(self.socks) * TIMERS + sock.queue] = t

    def send(self, stop):
        """Packets until ``stop`` have been sent: the events due by the time the link is free first
        (ACKs reaching senders, timers), the applications' periodic reads (Reader periodic), then a
        pure ACK (ack_fraction, on a random connection) or the next segment of the TSO skb on the
        wire or of the next sender that may send; with none, the link idles until the next event."""
        cfg, C = self.cfg, len(self.socks)
        link = cfg.link_gbps * 1000.0
        wire, ack_wire = (self.mtu + WIRE_OVERHEAD) * 8.0 / link, (ACK_LEN + WIRE_OVERHEAD) * 8.0 / link
        while self.sent < stop:
            if self.next_event()[0] <= self.t:
                self.run_event()
                continue
            self.now = self.t
            if self.t >= self.next_read:
                for sock in self.socks:
                    self.tcp_recvmsg(sock, self.t)
                self.next_read = (math.floor(self.t / cfg.app_read_us) + 1.0) * cfg.app_read_us
            if self.draw(cfg.ack_fraction):
                sock = self.socks[self.rng.randint(C)]
                self.napi_poll_one(self.rxqs[sock.queue], sock, ACK_LEN, True)
                self.t += ack_wire
                self.ring_busy(sock, self.t + 0.5 * ack_wire)
            else:
                if self.cur is not None and self.cur.burst == 0 and not self.cur.xmit_probe:
                    self.cur = None
                if self.cur is None:
                    self.cur = self.sndq_pop()
                if self.cur is None:
                    due = self.next_event()[0]
                    if self.next_read < due < np.inf and not any(s.receive_queue for s in self.socks):
                        self.next_read = math.ceil(due / cfg.app_read_us) * cfg.app_read_us
                    self.t = max(self.t, min(due, self.next_read))
                    continue
                sock = self.cur
                seq = self.xmit(sock)
                if seq is None:
                    self.napi_poll_one(self.rxqs[sock.queue], sock, ACK_LEN, True)
                    self.tcp_ack_now(sock)
                    self.t += ack_wire
                    self.ring_busy(sock, self.t + 0.5 * ack_wire)
                else:
                    sock.seg_seq = seq
                    length = self.mtu if sock.seg_len == self.mss else min(self.mtu, TCP_IP_HEADERS + sock.seg_len)
                    self.napi_poll_one(self.rxqs[sock.queue], sock, length, False)
                    rel = cfg.release
                    if rel.window == "scaling_ratio":
                        ratio = sock.scaling_ratio or rel.scaling_ratio_init
                    else:  # the len/truesize histogram's ratio: the measured one, else the share advertised
                        ratio = sock.scaling_ratio or tcp_win_from_space(256, "adv_win_scale",
                                                                         adv_win_scale=rel.tcp_adv_win_scale)
                    self.ratio_hist[min(RATIO_BINS - 1, ratio * RATIO_BINS // 256)] += 1
                    w = wire if length == self.mtu else (length + WIRE_OVERHEAD) * 8.0 / link
                    self.t += w
                    self.ring_busy(sock, self.t + 0.5 * w)
                self.now = self.t
                if not self.sent_one(sock):
                    self.cur = None
            self.sent += 1
            if self.sent % max(1, cfg.packets // cfg.samples) == 0 and len(self.samples) < cfg.samples:
                self.samples.append(self.sample())

    def sample(self):
        core = self.core
        return {"t_us": self.t, "mem_used": core.mem_used,
                "inflight": sum(core.pool_inflight(p) for p in core.pools),
                "rmem": sum(s.rmem_alloc for s in self.socks), "queued": sum(len(s.receive_queue) for s in self.socks),
                "held": sum(sum(s.page_bytes.values()) + (s.gro["page_bytes"] if s.gro else 0) for s in self.socks)
                + sum(x["head_len"] - ETH_HLEN + x["agg_bytes"] for rxq in self.rxqs if isinstance(rxq, BnxtRxRing)
                      for x in rxq.tpa_open.values())}

    # -- reconfiguration ---------------------------------------------------------------------------
    def mana_pre_alloc_rxbufs(self, g, fail):
        """A buffer for every slot of every queue, DMA-mapped, before anything is torn down, on
        CPU 0: dev_alloc_pages(get_order(alloc_size)) (upstream since the fragment patch; earlier
        releases took netdev_alloc_frag() for buffers larger than a page); ``fail`` makes the
        allocation half way fail. On failure mana_pre_dealloc_rxbufs() unmaps and puts each, last
        first."""
        cfg, core = self.cfg, self.core
        n = cfg.queues * cfg.ring_size
        large = g.alloc_size > cfg.page_size
        order = get_order(g.alloc_size, cfg.page_size) if large else 0
        pre = []
        for i in range(n):
            pid = NONE if fail and i == n // 2 else core.page_alloc(order, 0)
            if pid == NONE:
                while pre:
                    self.dma_unmap_single()
                    core.buf_put(pre.pop(), 0, False)
                return None
            pre.append(core.buf_new(pid, 0, cfg.page_size << order, PAGE, i // cfg.ring_size))
            self.dma_map_single(g.datasize)
        return pre

    def mana_detach(self):
        """mana_dealloc_queues(): in-flight transmits drain (XDP frames complete), then
        mana_destroy_rxq() for every queue, in process context: the saved XDP page is put, every
        posted buffer goes back (DMA-unmapped unless a pool fragment: page_pool_free_va(..., true);
        full pool pages by page_pool_put_full_page(pool, page, false)), and page_pool_destroy()."""
        core = self.core
        self.polls_complete()  # the port stopped: each queue's last poll completes
        for rxq in self.rxqs:
            self.xdp_tx_completions(rxq, np.inf)
        for rxq in self.rxqs:
            cpu = rxq.napi_cpu  # rxlab charges the teardown to the queue's CPU
            if self.bnxt:
                self.bnxt_free_rx_skbs(rxq)
                continue
            if isinstance(rxq, Mlx5MpwRq):
                self.mlx5e_free_rx_descs_mpwqe(rxq)
                continue
            if self.mlx5:
                self.mlx5e_free_rx_descs(rxq)
                continue
            if rxq.xdp_save is not None:
                core.buf_put(rxq.xdp_save, cpu, False)
                rxq.xdp_save = None
            for b in rxq.rx_oobs:
                from_pool = core.bufs[b][3] != PAGE
                if rxq.frag_count == 1 or not from_pool:
                    self.dma_unmap_single()
                    core.buf_put(b, cpu, False, softirq=False)
                else:
                    core.buf_put(b, cpu, True)
            rxq.rx_oobs = []
            core.pool_destroy(rxq.pool, cpu)

    def reconfigure(self, i, r):
        """mana_change_mtu() / mana_xdp_set(): refuse an MTU the netdev does not accept with the
        program; pre-allocate (keep the old configuration on failure); detach; attach with the new
        geometry (a new page_pool per queue, rings from the pre-allocated buffers)."""
        cfg = self.cfg
        mtu = self.mtu if r.mtu is None else r.mtu
        xdp = self.xdp if r.xdp is None else r.xdp
        event = {"at_packet": r.at_packet, "t_us": self.t, "mtu": mtu, "xdp": xdp, "ok": False, "error": ""}
        try:
            g = cfg.geometry(mtu=mtu, xdp=xdp)
        except ValueError as e:
            event["error"] = str(e)
            return event
        pre = None if self.bnxt or self.mlx5 else self.mana_pre_alloc_rxbufs(g, r.fail)
        if pre is None and not (self.bnxt or self.mlx5):
            event["error"] = PRE_ALLOC_FAILED
            return event
        self.now = self.t
        if self.bnxt or self.mlx5:  # the rings closed, then opened and filled anew
            self.mana_detach()
            self.inject = False
            base = self.pools_per_config * (i + 1)
            self.rxqs = [self.mlx5e_open_rq(q, base + q, g, xdp) if self.mlx5 else self.bnxt_create_rx_ring(q, base, g, xdp)
                         for q in range(cfg.queues)]
            self.inject = True
            self.mtu, self.xdp = mtu, xdp
            event["ok"] = True
            return event
        self.mana_detach()
        Q = cfg.queues
        self.rxqs = [self.mana_create_rxq(q, Q * (i + 1) + q, g, xdp, pre) for q in range(Q)]
        assert not pre
        self.mtu, self.xdp = mtu, xdp
        event["ok"] = True
        return event

    # -- a run -------------------------------------------------------------------------------------
    def run(self):
        cfg, core = self.cfg, self.core
        if self.bnxt:
            self.rxqs = [self.bnxt_create_rx_ring(q, 0, self.geoms[0], cfg.xdp) for q in range(cfg.queues)]
        elif self.mlx5:
            self.rxqs = [self.mlx5e_open_rq(q, q, self.geoms[0], cfg.xdp) for q in range(cfg.queues)]
        else:
            self.rxqs = [self.mana_create_rxq(q, q, self.geoms[0], cfg.xdp) for q in range(cfg.queues)]
        base = Counter(core.c)  # the run's counters start after the rings are filled
        self.inject = True
        events = []
        for i, r in enumerate(cfg.reconfigs):
            self.send(r.at_packet)
            events.append(self.reconfigure(i, r))
        self.send(cfg.packets)
        self.now = self.t
        self.polls_complete()  # traffic stops
        qstats = [{name: stats[name] for name in QS_NAMES} for stats in self.qstats]
        conn = []
        for s in self.socks:
            row = {"queue": s.queue, "app_cpu": s.app_cpu, "rmem": s.rmem_alloc, "count": len(s.receive_queue),
                   "scaling": s.scaling_ratio,
                   # the engine's receive queue is a list through its head and tail skb ids
                   "head": s.receive_queue[0] if s.receive_queue else (NONE if s.ever_queued else 0),
                   "tail": s.last_queued, "rcvbuf": s.sk_rcvbuf, "rcv_nxt": s.rcv_nxt,
                   "rcvq_seq": s.rcvq_space["seq"], "rcvq_space": s.rcvq_space["space"],
                   "rcv_edge": s.rcv_wup + s.rcv_wnd, "held": sum(s.page_bytes.values()), "rcv_mss": s.rcv_mss,
                   "last_seg": s.last_seg_size}
            row.update({k: s.stats[k] for k in ("delivered", "packets", "rmem_drops", "stalls", "trap_drops",
                                                "trap_need", "loss_probes", "timeouts", "retrans")})
            row.update({k: s.stats[k] for k in ("win_probes", "acks_sent", "dup_data", "ofo_drops", "wakes",
                                                "fast_retrans", "sack_recovery", "sack_reneging",
                                                "tlp_recovery", "lost_retrans")})
            row.update(sacked_out=s.sacked_out, lost_out=s.lost_out, ofo_segs=sum(s.ofo_n.values()),
                       seg_len=s.seg_len)
            row.update(backoff=s.backoff, recovery=s.recovery, snd_una=s.snd_una, snd_nxt=s.snd_nxt,
                       snd_edge=s.snd_edge, cwnd=s.cwnd, ssthresh=s.ssthresh, cwnd_cnt=s.cwnd_cnt, burst=s.burst,
                       max_out=s.max_out, cwnd_usage_seq=s.cwnd_usage_seq, cwnd_limited=int(s.cwnd_limited),
                       in_sndq=int(s.in_sndq), ca_state={"open": 0, "recovery": 3, "loss": 4}[s.ca_state],
                       tlp_high_seq=s.tlp_high_seq, probes_out=s.probes_out, seg_seq=s.seg_seq, rcv_wup=s.rcv_wup,
                       copied_seq=s.copied_seq, ack_quick=s.ack_quick, ack_pending=int(s.ack_pending),
                       reader_woken=int(s.reader_woken), snd_max=s.snd_max, high_seq=s.high_seq,
                       max_window=s.max_window, xmit_probe=s.xmit_probe)
            row.update(window_clamp=s.window_clamp, rcv_ssthresh=s.rcv_ssthresh, win_updates=s.win_updates)
            row.update(ack_nomem=int(s.ack_nomem), zwin_drops=s.stats["zwin_drops"], oow_drops=s.stats["oow_drops"])
            conn.append(row)
        result = NaiveResult(
            counters={k: core.c[k] - base[k] for k in set(core.c) | set(base)},
            counters_reader=dict(self.reader),
            qstats=qstats, conn=conn, samples=list(self.samples), ratio_hist=list(self.ratio_hist), t_us=self.t,
            mem_used_end=core.mem_used,
            inflight_end={p: core.pool_inflight(p) for p in core.pools}, events=tuple(events))
        self.teardown()
        return result

    def teardown(self):
        """Unload: the applications read what is queued, the queues are detached, the per-CPU
        page_frag caches drained; then nothing may be left."""
        self.inject = False
        for sock in self.socks:
            self.tcp_recvmsg(sock, np.inf)
        for sock in self.socks:  # tcp_v4_destroy_sock() purges the out-of-order queue
            while sock.ofo:
                self.ofo_free(sock, 0, sock.app_cpu, False)
        self.mana_detach()
        for cpu in list(self.core.fcache):
            self.core.frag_cache_drain(cpu)
        assert not self.core.pages and self.core.mem_used == 0, "the naive RX model leaked pages"
        assert not self.core.bufs and not self.core.skbs, "the naive RX model leaked buffers or skbs"


def naive_simulate(cfg):
    """Run ``cfg`` through the naive RX model."""
    return NaiveRx(cfg).run()
