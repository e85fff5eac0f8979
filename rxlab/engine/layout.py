"""Column layout of the engine's state arrays (struct-of-arrays, one row per object).

IntEnums are compile-time constants to numba and plain ints to Python, so the same
code runs jitted and under NUMBA_DISABLE_JIT=1.
"""

from enum import IntEnum

import numpy as np

from rxlab.kernel.sizes import MAX_SKB_FRAGS_DEFAULT

NONE = -1
BIAS_MAX = (2**63 - 1) >> 1  # include/net/page_pool/types.h: BIAS_MAX (LONG_MAX >> 1)
MAX_SKB_FRAGS = MAX_SKB_FRAGS_DEFAULT  # the engine's skbs have the default CONFIG_MAX_SKB_FRAGS
# Flags passed from kernel to kernel are int64 values (these, int(condition) or array entries), never
# True/False or a literal number: numba compiles a kernel again for every distinct signature of
# argument types, and each literal is a type of its own (skb_free(..., True) and (..., False) were two
# compilations of skb_free and of all it inlines). Inlined, LLVM still sees the constant.
FALSE = np.int64(0)
TRUE = np.int64(1)


class Loc(IntEnum):
    """Where a page is."""

    free = 0  # in the page allocator
    alloc_cache = 1  # a page_pool's lockless alloc cache
    ptr_ring = 2  # a page_pool's ptr_ring
    in_use = 3  # out of any cache: posted to the device, held by skbs/XDP, or a frag cache's page


class PF(IntEnum):
    """pages[]: one row per page slot."""

    loc = 0
    refcnt = 1  # page->_refcount
    ppref = 2  # pp_ref_count (page_pool pages only)
    pool = 3  # owning page_pool, or NONE
    order = 4
    dma = 5  # mapped by its page_pool (PP_FLAG_DMA_MAP)
    last_cpu = 6  # CPU that last wrote the struct page cache line
    users = 7  # live buffer/fragment references (driver buffers + skb data)
    ext = 8  # page references taken by get_page() outside rxlab's buffers
    n = 9


class PL(IntEnum):
    """pools[]: one row per page_pool (one per RX queue and configuration)."""

    state = 0  # PoolState
    cache_count = 1
    ring_head = 2  # next slot to consume
    ring_count = 3
    ring_size = 4  # ptr_ring size = pool_size
    order = 5
    dma_map = 6  # PP_FLAG_DMA_MAP
    dma_sync = 7  # PP_FLAG_DMA_SYNC_DEV
    max_len = 8  # dma sync length for a full-page put (dma_sync_size = -1)
    napi_cpu = 9  # CPU the pool's NAPI runs on: direct recycling only there
    frag_page = 10
    frag_offset = 11
    frag_users = 12
    frag_refs = 13  # pp references taken when the current frag page was started
    upfront = 14  # 1: take PAGE_SIZE/size references up front (seed 001) instead of BIAS_MAX
    hold_cnt = 15  # pages_state_hold_cnt
    release_cnt = 16  # pages_state_release_cnt
    n = 17


class PoolState(IntEnum):
    unused = 0
    live = 1
    destroying = 2  # page_pool_destroy() done; waits for inflight pages to come back
    retired = 3  # inflight reached 0: page_pool_release() freed it


class FC(IntEnum):
    """frag_caches[]: one page_frag cache per CPU (napi_alloc_cache)."""

    page = 0
    offset = 1
    bias = 2  # pagecnt_bias
    size = 3  # PAGE_SIZE << order of the current page
    n = 4


class BF(IntEnum):
    """bufs[]: RX buffers the driver owns (posted to the device, XDP-held, or saved)."""

    page = 0  # NONE when the slot is free
    offset = 1
    size = 2  # truesize the buffer accounts for
    kind = 3  # BufKind
    queue = 4
    n = 5


class BufKind(IntEnum):
    pp_frag = 0  # a page_pool fragment (pool maps DMA)
    pp_page = 1  # a whole page_pool page, mapped by the driver (full-page mode)
    page = 2  # a page not from a pool (pre-allocation, xdp_save_va)
    # mlx5's struct mlx5e_frag_page: the driver's own hold on a page_pool page whose strides its RQ (legacy or
    # striding) hands out; ``size`` is the pp references it holds (MLX5E_PAGECNT_BIAS_MAX less the frags handed
    # out), the buffer no slice of the page
    frag_page = 3


class SK(IntEnum):
    """skbs[]: one row per sk_buff."""

    data = 0  # index into data[], NONE when the skb slot is free
    truesize = 1
    len = 2
    page_len = 3  # of len, the bytes that sit in pages (0 for a kmalloc'ed head's copy-break bytes)
    next = 4  # skb->next within a frag_list chain (skb_gro_receive), or NONE
    n = 5


class DT(IntEnum):
    """data[]: one row per skb data area (skb_shared_info), shared by clones."""

    dataref = 0  # NONE when free
    head_page = 1  # NONE for a kmalloc'ed head
    head_off = 2
    nr_frags = 3
    pp_recycle = 4
    cloned = 5  # skb->cloned: set on both skbs once cloned
    frag_list = 6  # skb_shinfo(skb)->frag_list: the first skb a GRO aggregate chained, or NONE
    # payload bytes a kmalloc'ed head holds beyond the headers the stack pulls (mlx5's non-linear striding
    # RQ copies MLX5E_RX_MAX_HEAD into it): such a head with frags is not headers only (skb_headlen > 0)
    head_data = 7
    n = 8


class G(IntEnum):
    """glob[]: scalars of the whole state."""

    page_top = 0  # free page-slot stack depth
    mem_used = 1  # bytes in pages out of the page allocator
    mem_limit = 2
    buf_top = 3
    skb_top = 4
    data_top = 5
    page_size = 6
    pp_cache_size = 7  # PP_ALLOC_CACHE_SIZE of the kernel simulated (kernel.pagepool.pp_alloc_cache)
    pp_cache_refill = 8  # PP_ALLOC_CACHE_REFILL
    dma_fail_ppb = 9  # injected page_pool_dma_map() failures, per 10**9 mappings (0: none)
    lock_now = 10  # the model time of what runs now, in producer-lock holds (page_pool.ptr_ring_clock); NONE: off;
    # page_pool.LOCK_STALE: not yet divided from lock_ps
    napi_cpus = 11  # CPUs 0..napi_cpus-1 are NAPI CPUs, the rest reading CPUs (the CPU class)
    lock_hold_ps = 12  # how long a produce holds a ptr_ring's producer_lock, in ps (SimConfig.ptr_ring_hold_ns)
    lock_ps = 13  # the model time of what runs now, in ps, while lock_now is LOCK_STALE
    n = 14


class Mode(IntEnum):
    """How a queue's RX buffers are allocated."""

    full = 0  # a whole page_pool page per buffer, DMA-mapped by the driver (pre-patch; XDP; jumbo)
    frag = 1  # page_pool fragments, pool-mapped (post-patch)
    pfc = 2  # the NAPI CPU's page_frag cache, DMA-mapped by the driver per buffer
    agg = 3  # bnxt_en normal mode: head_pool fragments on the RX ring, BNXT_RX_PAGE_SIZE on the agg ring
    cyc = 4  # mlx5's legacy cyclic RQ: WQEs of fragment strides on page_pool pages the driver counts out
    mpw = 5  # mlx5's striding RQ: multi-packet WQEs of pages the driver counts out, a packet in its strides
    page = 6  # bnxt_en page mode (XDP): a BNXT_RX_PAGE_SIZE page_pool page or fragment per RX descriptor


class QP(IntEnum):
    """qp[]: one RX queue's parameters and driver state."""

    pool = 0
    napi_cpu = 1
    mode = 2
    alloc_size = 3  # bytes asked of the allocator per buffer
    align = 4  # dma_get_cache_alignment()
    datasize = 5  # bytes the driver DMA-maps per buffer (mtu + ETH_HLEN)
    truesize = 6  # skb->truesize the driver reports
    truesize_pinned = 7  # memory one buffer really pins
    xdp = 8  # an XDP program is attached
    save = 9  # buffer kept by XDP_DROP for reuse (rxq->xdp_save_va), or NONE
    ring_head = 10
    hold_head = 11
    hold_count = 12
    napi_left = 13  # packets the current NAPI poll may still take (counts down from napi_budget)
    gro_count = 14  # flows whose aggregate this queue's NAPI holds (napi->gro_hash[].count summed)
    gro_page_len = 15  # packet bytes in pages those aggregates hold
    defer_count = 16  # skbs other CPUs deferred to this NAPI CPU since its last poll (defer_count)
    # Mode.agg and Mode.page (bnxt_en: rxlab.engine.rxq_bnxt); 0 in the other modes
    head_pool = 17  # the pool RX-ring heads come from (rxr->head_pool: the agg pool unless separate)
    agg_ring = 18  # aggregation ring entries posted (rx_agg_ring_size), each a column of Rx.agg
    agg_head = 19  # next aggregation buffer the device fills
    agg_size = 20  # BNXT_RX_PAGE_SIZE: bytes of one aggregation buffer, the truesize it adds
    tpa = 21  # head buffers TPA holds (bp->max_tpa), each a column of Rx.tpa
    copybreak = 22  # bp->rx_copybreak: heads up to this length are copied (bnxt_copy_skb)
    hds_thresh = 23  # frames above it put their headers alone in the head (header-data split); -1: no split
    header_len = 24  # bytes of the headers that header-data split puts in the head
    buf_use_size = 25  # bp->rx_buf_use_size: the most of a frame the head takes (jumbo_thresh)
    small_truesize = 26  # truesize of a napi_alloc_skb() head from the small-head cache
    # Mode.cyc (mlx5's legacy RQ: rxlab.engine.rxq_mlx5.mlx5e_handle_rx_cqe); 0 in the other modes. The ring's
    # WQEs are Rx.ring's columns (ring_head its consumer), their fragments rows of Rx.wqe_frags
    wqes = 27  # WQEs posted (mlx5_wq_cyc cur_sz); the producer is ring_head + wqes
    num_frags = 28  # fragments per WQE (rq->wqe.info.num_frags)
    wqe_bulk = 29  # WQEs missing before mlx5e_post_rx_wqes() refills (info.wqe_bulk)
    refill_unit = 30  # WQEs refilled at once (info.refill_unit)
    wqe_index_mask = 31  # a refill stops where (head + bulk) & mask is 0 (info.wqe_index_mask)
    headroom = 32  # rq->buff.headroom
    smp_cache = 33  # SMP_CACHE_BYTES: SKB_DATA_ALIGN's alignment
    shinfo = 34  # SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on the run's arch
    # Mode.mpw (mlx5's striding RQ: rxlab.engine.rxq_mlx5_mpwqe); 0 in the other modes. QP.wqes, ring_head (the
    # WQE the device fills), headroom, smp_cache and shinfo as Mode.cyc; wqe_bulk is min_wqe_bulk; small_truesize
    # the truesize of the non-linear skb's napi_alloc_skb(MLX5E_RX_MAX_HEAD) head. WQEs are rows of Rx.mpwqe,
    # their pages columns of Rx.frag_pages (WQE w's page i at w * pages_per_wqe + i)
    wq_sz = 35  # WQEs in the linked list (mlx5_wq_ll_get_size): at most wq_sz - 1 are posted
    pages_per_wqe = 36  # rq->mpwqe.pages_per_wqe
    num_strides = 37  # rq->mpwqe.num_strides: strides per WQE
    log_stride = 38  # rq->mpwqe.log_stride_sz
    linear = 39  # mlx5e_rx_mpwqe_is_linear_skb(): a packet per stride, its skb built on it
    head_size = 40  # bytes of the non-linear skb's head from the page_frag cache; 0: the small-head cache
    # Mode.agg with TPA (bnxt's hardware GRO, rxlab.engine.rxq_bnxt_tpa): aggregation contexts are rows of
    # Rx.tpa_info, each with its head buffer in Rx.tpa; the open ones linked oldest to newest (TI.older, TI.newer)
    tpa_on = 41  # the device aggregates (NETIF_F_GRO_HW: TPA); 0 without TPA
    tpa_free = 42  # a free aggregation context (free ones linked through TI.newer), or NONE
    tpa_oldest = 43  # the open aggregation started first (its timer is the queue's), or NONE
    tpa_newest = 44
    tpa_bytes = 45  # packet bytes the open aggregations hold in the queue's buffers
    n = 46


class TI(IntEnum):
    """tpa_info[queue, agg_id]: one of bnxt's TPA aggregation contexts (struct bnxt_tpa_info, and what the
    device holds for it between TPA_START and TPA_END)."""

    conn = 0  # the connection it aggregates, or NONE when free
    seq = 1  # the sequence number of its first segment
    segs = 2  # segments aggregated (TPA_END_TPA_SEGS)
    payload = 3  # their payload bytes
    mss = 4  # the first segment's payload: the aggregate's gso_size (rx_tpa_end_cmp_seg_len)
    head_len = 5  # bytes of the first frame in the head buffer (tpa_info->len)
    agg_bytes = 6  # bytes in aggregation buffers, packed ("LRO rules of filling all aggregation buffers")
    older = 7  # the open aggregation started before it, or NONE
    newer = 8  # the one started after it (or the next free context), or NONE
    n = 9


class WF(IntEnum):
    """wqe_frags[queue, wqe * num_frags + i]: fragment i of a WQE of mlx5's legacy RQ (struct
    mlx5e_wqe_frag_info and its struct mlx5e_rq_frag_info), laid out by mlx5e_init_frags_partition()."""

    slot = 0  # its page: a column of Rx.frag_pages (frag->frag_page)
    offset = 1  # its stride's offset in that page
    last = 2  # MLX5E_WQE_FRAG_LAST_IN_PAGE: releasing it releases the page
    skip = 3  # MLX5E_WQE_FRAG_SKIP_RELEASE: nothing to release (never allocated, or released already)
    size = 4  # frag_size: the most of a frame the fragment takes
    stride = 5  # frag_stride
    n = 6


class MW(IntEnum):
    """mpwqe[queue, wqe]: a WQE of mlx5's striding RQ (struct mlx5e_mpw_info)."""

    consumed = 0  # wi->consumed_strides: the WQE completes when all rq->mpwqe.num_strides are
    skip = 1  # skip_release_bitmap full: its pages are not the driver's to release (never allocated, or released)
    n = 2


class QS(IntEnum):
    """qstats[]: per-queue totals (the queue stats of the netdev netlink API, and rxlab's)."""

    rx_packets = 0
    rx_bytes = 1
    rx_alloc_fail = 2  # refill failed: packet dropped, old buffer reused
    alloc_fail_injected = 3
    dma_map_fail_injected = 4
    xdp_pass = 5
    xdp_drop = 6
    xdp_tx = 7
    xdp_redirect = 8
    acks = 9
    copybreak = 10
    napi_polls = 11
    skb_table_full = 12  # dropped: rxlab's bound on skbs in flight (SimConfig.max_skbs) reached
    tpa_events = 13  # bnxt's TPA aggregations completed (TPA_END; ethtool -S tpa_events)
    tpa_packets = 14  # segments those aggregations held (ethtool -S tpa_packets)
    n = 15


class CN(IntEnum):
    """conn[]: one TCP connection's receive side."""

    queue = 0
    app_cpu = 1
    rmem = 2  # sk_rmem_alloc: truesize charged
    head = 3  # first skb of the receive queue (a list linked through rcvq_next[])
    count = 4
    delivered = 5  # payload bytes read by the application
    packets = 6
    rmem_drops = 7  # segments dropped: receive memory full (TCPRcvQDrop counts their skbs)
    stalls = 8  # times the receive window stopped the sender (tcp_snd_wnd_test), or a segment was dropped
    scaling = 9  # len/truesize ratio << 8 (tcp_measure_rcv_mss scaling_ratio)
    tail = 10  # last skb of the receive queue
    rcvbuf = 11  # sk_rcvbuf: tcp_rmem[1] grown by autotuning, or fixed by SO_RCVBUF
    rcv_nxt = 12  # payload bytes queued so far (rcv_nxt; copied_seq when the queue is empty)
    rcvq_seq = 13  # rcvq_space.seq: rcv_nxt at the last autotuning measurement
    rcvq_space = 14  # rcvq_space.space: the most payload copied in one RTT so far
    rcv_edge = 15  # rcv_wup + rcv_wnd: the right edge of the advertised window (payload bytes)
    held = 16  # packet bytes in pages on the receive queue (sum of its skbs' page_len)
    rcv_mss = 17  # icsk_ack.rcv_mss: the segment size tcp_measure_rcv_mss() last settled on
    last_seg = 18  # icsk_ack.last_seg_size: a smaller segment's size, to confirm a shrunk rcv_mss
    trap_drops = 19  # skbs dropped (TCPRcvQDrop) with sk_rcvbuf below trap_need
    trap_need = 20  # TCP_INIT_CWND x the largest truesize of those skbs: an initial window of them (0: none)
    backoff = 21  # the sender's icsk_backoff: timeouts since an ACK last advanced snd_una
    recovery = 22  # what the sender's xmit timer is armed for: 0 nothing, 1 a tail loss probe, 2 an RTO, 3 a zero-window probe,
    # 4 RACK's reordering timeout (ICSK_TIME_REO_TIMEOUT)
    loss_probes = 23  # the sender's TCPLossProbes (tcp_send_loss_probe)
    timeouts = 24  # the sender's TCPTimeouts (tcp_retransmit_timer)
    retrans = 25  # the sender's RetransSegs
    window_clamp = 26  # tp->window_clamp: the largest window the receiver advertises
    rcv_ssthresh = 27  # tp->rcv_ssthresh: the window's current ceiling, grown by tcp_grow_window()
    rcv_wup = 28  # tp->rcv_wup: rcv_nxt when the window was last advertised (rcv_wnd = rcv_edge - rcv_wup)
    win_updates = 29  # window-update ACKs sent after a read (tcp_cleanup_rbuf)
    # the sender (rxlab.engine.sender), in payload bytes of the connection's stream
    snd_una = 30  # the first byte not acknowledged
    snd_nxt = 31  # the next byte to send
    snd_edge = 32  # snd_wl's window end: the right edge of the window the last ACK advertised
    cwnd = 33  # snd_cwnd, in segments
    ssthresh = 34  # snd_ssthresh, in segments
    cwnd_cnt = 35  # snd_cwnd_cnt (tcp_cong_avoid_ai)
    burst = 36  # segments left in the TSO skb being sent (tcp_tso_autosize)
    max_out = 37  # max_packets_out (tcp_cwnd_validate)
    cwnd_usage_seq = 38  # cwnd_usage_seq (tcp_cwnd_validate)
    cwnd_limited = 39  # is_cwnd_limited
    in_sndq = 40  # on the link's queue of senders that may send (rx.sndq)
    ca_state = 41  # icsk_ca_state: CaState
    tlp_high_seq = 42  # snd_nxt when a tail loss probe went out (0: none outstanding)
    probes_out = 43  # icsk_probes_out: zero-window probes unanswered
    win_probes = 44  # the sender's TCPWinProbe
    seg_seq = 45  # the sequence number of the data segment on its way through the RX path
    # the receiver's ACKs (rxlab.engine.tcp_output) and reader (rxlab.engine.reader)
    copied_seq = 46  # the first byte the application has not read
    ack_quick = 47  # icsk_ack.quick: ACKs still sent at once (quick-ack mode)
    ack_pending = 48  # icsk_ack.pending: an ACK is scheduled (ICSK_ACK_SCHED)
    acks_sent = 49  # ACKs the receiver sent (tcp_send_ack)
    dup_data = 50  # segments that arrived again (DelayedACKLost: a retransmit of data already queued, in order or not)
    ofo_drops = 51  # out-of-order segments dropped for memory (TCPOFODrop) or pruned (OfoPruned)
    reader_woken = 52  # the reader was woken (sk_data_ready) and has not read yet
    wakes = 53  # times the reader was woken
    snd_max = 54  # the highest byte ever sent: a segment below it is a retransmission (RetransSegs)
    high_seq = 55  # snd_max when the RTO put the sender in TCP_CA_Loss: it leaves once all is acknowledged
    max_window = 56  # max_window: the largest window advertised (tcp_bound_to_half_wnd)
    xmit_probe = 57  # a probe its timer asks the sender to send: 1 a tail loss probe, 3 a zero-window probe
    ack_nomem = 58  # icsk_ack.pending & ICSK_ACK_NOMEM: the next ACK advertises a zero window (e2142825c120)
    zwin_drops = 59  # in-order segments dropped at a zero receive window (TCPZeroWindowDrop counts their skbs)
    oow_drops = 60  # segments dropped beyond the receive window by tcp_sequence() (BeyondWindow counts their skbs),
    # or after a hole from the window's right edge (tcp_data_queue's out_of_window, no MIB)
    # the sender's SACK scoreboard (rxlab.engine.tcp_sack; its ranges in rx.sb)
    sacked_out = 61  # tp->sacked_out: segments above snd_una the receiver SACKed
    lost_out = 62  # segments marked lost and not yet sent again (the kernel's lost_out - retrans_out)
    fast_retrans = 63  # the sender's TCPFastRetrans: lost segments sent again outside TCP_CA_Loss
    sack_recovery = 64  # the sender's TCPSACKRecovery: times it entered TCP_CA_Recovery (tcp_enter_recovery)
    ofo_segs = 65  # segments on the out-of-order queue, waiting for a hole to fill
    seg_len = 66  # the payload bytes of the data segment on its way (advmss, or less when cut: rxlab.engine.tcp_rtx)
    sack_reneging = 67  # the sender's TCPSACKReneging: RTOs that found the receiver had reneged on a SACK
    tlp_recovery = 68  # the sender's TCPLossProbeRecovery: losses a tail loss probe repaired (tcp_process_tlp_ack)
    lost_retrans = 69  # the sender's TCPLostRetransmit: retransmissions marked lost again (tcp_mark_skb_lost)
    n = 70


class EV(IntEnum):
    """evq[]: the event queues' heads and counts."""

    sndq_head = 0  # rx.sndq: the connections that may send, first to send first
    sndq_count = 1
    ack_head = 2  # rx.ack_t, rx.ack: ACKs on their way back to the senders, oldest first
    ack_count = 3
    tq_n = 4  # rx.tq_heap: timers armed
    ack_ring_full = 5  # ACKs lost because rx.ack was full (sized to the most a run can have in flight)
    tq_pend = 6  # the timer kept out of rx.tq_heap while it is re-armed packet after packet, or NONE (timers)
    n = 7


class AK(IntEnum):
    """ack[]: an ACK on its way back to its sender."""

    conn = 0
    seq = 1  # the ACK number: the receiver's rcv_nxt
    edge = 2  # the right edge of the window it advertises
    # its SACK blocks (tcp_options_write: at most 3 beside timestamps), start and end of each, 0 0 for none
    sack = 3
    # a D-SACK block (RFC 2883; tcp_dsack_set): start and end of a segment that arrived again, 0 0 for none
    dsack = 9
    n = 11


class OF(IntEnum):
    """ofo[]: one connection's out-of-order queue (rxlab.engine.tcp_ofo) and its SACK blocks."""

    head = 0  # the lowest skb of tp->out_of_order_queue (a list linked through rcvq_next[], by sequence)
    tail = 1  # tp->ooo_last_skb, the highest
    count = 2
    num_sacks = 3  # tp->rx_opt.num_sacks
    sack = 4  # tp->selective_acks[TCP_NUM_SACKS]: start and end of each, the most recent first
    dsack = 12  # tp->duplicate_sack[0] while tp->rx_opt.dsack: start and end (end 0: none), for the next ACK
    n = 14


class SB(IntEnum):
    """sb[]: one sender's SACK scoreboard, loss marks and PRR state (rxlab.engine.tcp_sack)."""

    n_ranges = 0  # SACKed ranges above snd_una, in ``range``
    lost_hi = 1  # every segment in [rexmit_nxt, lost_hi) not SACKed is lost (TCPCB_LOST)
    rexmit_nxt = 2  # the lost segments below it were sent again (TCPCB_SACKED_RETRANS)
    fack = 3  # RACK's frontier: every segment below it was sent before the latest one delivered
    prior_cwnd = 4  # tp->prior_cwnd, tp->prr_delivered, tp->prr_out (tcp_init_cwnd_reduction)
    prr_delivered = 5
    prr_out = 6
    tlp_retrans = 7  # tp->tlp_retrans: the outstanding tail loss probe sent the last segment again
    range = 8  # start and end of each SACKed range, by sequence
    # the retransmission queue's entries that are not advmss segments (rxlab.engine.tcp_rtx)
    grid = 40  # the segments below the first kept entry are advmss each from here
    n_frags = 41
    frag = 42  # start and end of each kept entry, by sequence
    # the retransmissions in flight (TCPCB_SACKED_RETRANS), in the order they left (RACK, rxlab.engine.tcp_sack)
    n_rtx = 42 + 2 * 16
    rtx = 43 + 2 * 16  # of each: start, end, snd_max when it left, the time it left (ns, its skb_mstamp)
    frto = 43 + 2 * 16 + 4 * 8  # tp->frto (F-RTO, RFC 5682): 1 after an RTO, 2 new data first until the next ACK
    n = 44 + 2 * 16 + 4 * 8


class OS(IntEnum):
    """ofo_seq[]: an skb on an out-of-order queue."""

    seq = 0  # TCP_SKB_CB(skb)->seq, in payload bytes
    end = 1  # TCP_SKB_CB(skb)->end_seq
    prev = 2  # the skb before it on the queue (NONE: the first)
    segs = 3  # the segments it holds
    n = 4


class CaState(IntEnum):
    """include/net/tcp.h enum tcp_ca_state: the sender's loss-recovery state."""

    open = 0  # TCP_CA_Open
    recovery = 3  # TCP_CA_Recovery
    loss = 4  # TCP_CA_Loss


class Timer(IntEnum):
    """A connection's timers (rx.tq: one slot each, slot = connection x n + kind)."""

    xmit = 0  # the sender's icsk_retransmit_timer: a tail loss probe, an RTO or a zero-window probe (CN.recovery)
    delack = 1  # the receiver's delayed ACK (icsk_delack_timer)
    wake = 2  # the reader runs, woken by sk_data_ready after its scheduling latency
    n = 3


class Reader(IntEnum):
    """How applications read (SimConfig.reader)."""

    woken = 0  # each sleeps in tcp_recvmsg until sk_data_ready wakes it
    periodic = 1  # all read every app_read_us, a what-if


class CF(IntEnum):
    """connf[]: a connection's times (µs)."""

    rcvq_time = 0  # rcvq_space.time: when autotuning last measured (tcp_rcv_space_adjust)
    trapped_at = 1  # when the first trap drop came (µs; inf: none)
    lrcvtime = 2  # icsk_ack.lrcvtime: when data last arrived (µs)
    n = 3


class RC(IntEnum):
    """rc[]: run-wide integer parameters."""

    queues = 0
    conns = 1
    packets = 2
    mtu = 3
    napi_budget = 4
    rcvbuf = 5
    gro = 6
    copybreak = 7  # 0: off
    defer_free = 8
    sample_every = 9
    sizeof_sk_buff = 10  # SKB_DATA_ALIGN(sizeof(struct sk_buff))
    small_head = 11  # copy-break lengths up to this get a kmalloc'ed head
    copy_head = 12  # SKB_HEAD_ALIGN overhead added to a copied length
    copy_truesize_extra = 13  # truesize of a copied skb minus its SKB_DATA_ALIGN'ed length
    honest = 14
    defer_max = 15  # net.core.skb_defer_max
    win_mode = 16  # WinMode: how tcp_win_from_space() turns free space into the window
    adv_win_scale = 17  # net.ipv4.tcp_adv_win_scale (WinMode.adv_win_scale)
    scaling_init = 18  # scaling_ratio before a socket's first measured skb (tcp_scaling_ratio_init)
    rcvbuf_lock = 19  # SOCK_RCVBUF_LOCK: the application set SO_RCVBUF (no autotuning, no clamp growth)
    moderate_rcvbuf = 20  # net.ipv4.tcp_moderate_rcvbuf
    tcp_rmem_max = 21  # net.ipv4.tcp_rmem[2]: the most autotuning grows sk_rcvbuf to
    grow = 22  # Grow: the release's tcp_rcv_space_adjust() / tcp_rcvbuf_grow() formula
    advmss = 23  # tp->advmss: MTU - 40 (IPv4 + TCP headers) - 12 (timestamps)
    rcvmem = 24  # before 6.6: memory per advmss of window (tcp_rcv_space_adjust's rcvmem)
    low_rtt_us = 25  # net.ipv4.tcp_rcvbuf_low_rtt (0: the release has none)
    admission = 26  # Admission: when tcp_try_rmem_schedule() prunes (and may drop)
    shinfo = 27  # SKB_DATA_ALIGN(sizeof(struct skb_shared_info)): sizes the skbs tcp_collapse() makes
    gro_max_size = 28  # dev->gro_max_size: an aggregate's len stays below it (skb_gro_receive)
    prune_empty = 29  # tcp_prune_queue() drops at once while the receive queue is empty (972ca7a3bc9a)
    rcv_wscale = 30  # tp->rx_opt.rcv_wscale: the advertised window's scale (tcp_select_initial_window)
    clamp = 31  # Clamp: what tcp_measure_rcv_mss() does to window_clamp when scaling_ratio changes
    clamp_floor = 32  # SOCK_MIN_RCVBUF / 2: the least window_clamp tcp_set_window_clamp() sets
    reader = 33  # Reader
    rcvlowat = 34  # SO_RCVLOWAT (sk_rcvlowat): bytes queued before sk_data_ready wakes the reader
    gso_max_size = 35  # sk_gso_max_size of the sender's device: a TSO skb's most bytes
    nomem = 36  # Nomem: what tcp_data_queue() does when tcp_try_rmem_schedule() fails
    ooo_ratio = 37  # tcp_data_queue_ofo() calls tcp_measure_rcv_mss() (38d7e4443365)
    tpa = 38  # a layout of the run has hardware GRO (bnxt's TPA): frames go to the device's first (QP.tpa_on)
    n = 39


class Grow(IntEnum):
    """net/ipv4/tcp_input.c: how tcp_rcv_space_adjust() turns the bytes copied in an RTT into a window."""

    cushion = 0  # until 6.15: 2 * copied + 16 * advmss, then + 2 x that x (copied - space) / space
    copied_2x = 1  # 6.16 (65c5287892e9): 2 * copied
    copied_2x_grow = 2  # 6.19 (aa251c84636c, ecfea98b7d0d): 2 * copied, + the slow-start or low-RTT growth


class Clamp(IntEnum):
    """net/ipv4/tcp_input.c tcp_measure_rcv_mss(): window_clamp when a new scaling_ratio is measured."""

    autotune = 0  # unchanged (only tcp_rcv_space_adjust() moves it, growing sk_rcvbuf)
    scaling_ratio = 1  # 6.11 (a2cbb1603943): tcp_win_from_space(sk_rcvbuf) at the new ratio
    set_clamp = 2  # 6.14 (f5da7c45188e): the same through tcp_set_window_clamp(); rcvq_space.space capped


class Nomem(IntEnum):
    """net/ipv4/tcp_input.c tcp_data_queue(), net/ipv4/tcp_output.c tcp_select_window(): an in-order skb
    tcp_try_rmem_schedule() refuses."""

    drop = 0  # until 6.5: dropped (an empty queue force-admits it), no ACK
    zero_window = 1  # 6.6 (e2142825c120): an ACK at once advertising 0, rcv_wnd and rcv_wup kept
    zero_window_kept = 2  # 6.14 (8c670bdfa58e): the same, rcv_wnd = 0 and rcv_wup = rcv_nxt recorded


class Admission(IntEnum):
    """net/ipv4/tcp_input.c tcp_try_rmem_schedule(): when an arriving skb makes TCP prune."""

    rmem_before = 0  # sk_rmem_alloc > sk_rcvbuf
    rmem_plus_truesize = 1  # 6.17 (1d2fbaad7cd8): sk_rmem_alloc + truesize > sk_rcvbuf
    rmem_plus_len = 2  # 6.18 (f017c1f768b6): sk_rmem_alloc + len > sk_rcvbuf


class WinMode(IntEnum):
    """include/net/tcp.h tcp_win_from_space(): the release's window semantics."""

    scaling_ratio = 0  # 6.6+: space * scaling_ratio >> TCP_RMEM_TO_WIN_SCALE
    adv_win_scale = 1  # before 6.6: space - (space >> tcp_adv_win_scale)


class GR(IntEnum):
    """gro[]: one connection's NAPI GRO state, while its queue holds an aggregate of it."""

    skb = 0  # the held aggregate (the gro_hash list entry), or NONE
    last = 1  # NAPI_GRO_CB(p)->last: the skb whose frags the next segment's head goes into
    segs = 2  # NAPI_GRO_CB(p)->count: segments in the aggregate
    payload = 3  # payload bytes in it (skb_gro_len summed)
    gso_size = 4  # skb_shinfo(p)->gso_size: the first segment's payload
    bucket = 5  # skb_get_hash_raw(skb) & (GRO_HASH_BUCKETS - 1): the flow's gro_hash list
    older = 6  # the flow held before this one on that list, or NONE (the list links through gro rows)
    newer = 7  # the flow held after it, or NONE
    seq = 8  # the sequence number of its first segment (tcp_gro_receive merges only the next in order)
    tpa = 9  # the flow's open TPA aggregation on its queue (an agg_id of Rx.tpa_info), or NONE
    n = 10


class GL(IntEnum):
    """gro_list[queue, bucket]: one of a NAPI's gro_hash lists (struct gro_list), its flows linked
    through their gro rows (GR.older, GR.newer)."""

    oldest = 0  # the flow held longest (gro_flush_oldest's list_last_entry), or NONE
    newest = 1
    count = 2
    n = 3


class RF(IntEnum):
    """rf[]: run-wide float parameters."""

    ack_fraction = 0
    clone_fraction = 1
    xdp_pass = 2
    xdp_drop = 3
    xdp_tx = 4
    xdp_redirect = 5
    app_read_us = 6
    xdp_hold_us = 7
    link_gbps = 8
    rtt_us = 9
    alloc_fail_rate = 10
    dma_map_fail_rate = 11
    wake_us = 12  # the readers' median scheduling latency after sk_data_ready (µs)
    tpa_timer_us = 13  # how long bnxt's device keeps an aggregation open (max_agg_timer: the firmware's)
    n = 14


class SM(IntEnum):
    """samples[]: memory over model time."""

    t_us = 0
    mem_used = 1  # bytes out of the page allocator
    inflight = 2  # pages in flight over all pools (page_pool_inflight)
    rmem = 3  # receive memory charged over all sockets
    queued = 4  # skbs waiting in receive queues
    held = 5  # packet bytes in pages those skbs hold (the dynamic memory efficiency's numerator)
    n = 6
