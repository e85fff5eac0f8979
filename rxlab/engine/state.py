"""Allocation of the engine's arrays: the accounting core (:class:`State`) and the RX path
(:class:`Rx`), each a namedtuple of NumPy arrays so kernels take two arguments, jitted or not.

Sizes follow pages and objects in flight, never the packet count.
"""

from collections import namedtuple

import numpy as np

from rxlab.counters import N_COUNTERS
from rxlab.engine.jit import ensure_fresh, inner
from rxlab.engine.layout import (
    AK,
    BF,
    CF,
    CN,
    DT,
    EV,
    FC,
    GL,
    GR,
    MAX_SKB_FRAGS,
    MW,
    NONE,
    OF,
    OS,
    PF,
    PL,
    QP,
    QS,
    RC,
    RF,
    SB,
    SK,
    SM,
    TI,
    WF,
    G,
    Timer,
)
from rxlab.errors import bad, check_int_range
from rxlab.kernel.gro import GRO_HASH_BUCKETS
from rxlab.kernel.pagepool import PAGE_FRAG_CACHE_MAX_SIZE, PP_ALLOC_CACHE_REFILL, PP_ALLOC_CACHE_SIZE
from rxlab.kernel.sizes import check_page_size, get_order

State = namedtuple("State", [
    "glob",  # int64[G.n]
    "c",  # int64[N_COUNTERS], indexed by rxlab.counters.Ctr: the row of ``cc`` this context counts in
    "cc",  # int64[2, N_COUNTERS]: counts by CPU class, row 0 NAPI CPUs, row 1 reading CPUs (reader_state)
    "pages", "page_stack",  # int64[n_pages, PF.n], free page slots (LIFO)
    "pools", "pool_cache", "pool_ring",  # int64[n_pools, PL.n], [n_pools, PP_ALLOC_CACHE_SIZE], [n_pools, ring_max]
    "frag_caches",  # int64[n_cpus, FC.n]: one page_frag cache per CPU
    "bufs", "buf_stack",  # int64[n_bufs, BF.n]
    "skbs", "skb_stack",  # int64[n_skbs, SK.n]
    "data", "data_frags", "data_stack",  # int64[n_skbs, DT.n], [n_skbs, MAX_SKB_FRAGS] (page, offset) pairs
    "fc_cfg",  # int64[2]: page_frag cache page order, and the refcount bias it takes per page
    # ptr_ring producer locks (page_pool._producer_lock): per pool, a ring of lock_slots rows (a
    # power of two), each a hold (its index in model time) and the produces into that pool in it;
    # per CPU, its next free hold
    "lock_slots", "lock_cpu",  # int64[n_pools, lock_slots, 2], int64[n_cpus]
])


def _stack(n):
    # Pop order 0, 1, 2, ...: the top of the stack is the last element.
    return np.arange(n - 1, -1, -1, dtype=np.int64)


def _frags(n_skbs):
    """The frag slots of every skb data area, left unset: a slot is read only below its area's
    nr_frags, after skb_try_coalesce wrote it. np.empty leaves the memory untouched until an skb
    first uses its row (most rows never are: the free stack pops the low ones), where np.full
    wrote all of its ~18 MB at every simulate() (a few % of a 20 M-packet run)."""
    return np.empty((n_skbs, 2 * MAX_SKB_FRAGS), np.int64)


def make_state(page_size=4096, n_pages=4096, n_pools=1, ring_max=1024, n_cpus=2, n_bufs=4096,
               n_skbs=4096, mem_limit=None, pp_alloc_cache=(PP_ALLOC_CACHE_SIZE, PP_ALLOC_CACHE_REFILL),
               lock_slots=1024):
    """Empty state: every page slot free, pools unused, no buffers or skbs.

    ``mem_limit`` (bytes, default unlimited) makes the page allocator fail like a
    machine under memory pressure; ``n_pages`` bounds page slots the same way.
    ``pp_alloc_cache``: (PP_ALLOC_CACHE_SIZE, PP_ALLOC_CACHE_REFILL) of the kernel simulated
    (rxlab.kernel.pagepool.pp_alloc_cache), at most (128, 64). ``lock_slots``: holds of each
    ptr_ring's producer lock remembered (a power of two); the lock is timed only once the RX path
    sets its hold (G.lock_hold_ps) and the clock (page_pool.ptr_ring_clock).
    """
    ensure_fresh()
    check_page_size(page_size)
    for name, v, hi in (("n_pages", n_pages, 1 << 26), ("n_pools", n_pools, 4096), ("ring_max", ring_max, 1 << 20),
                        ("n_cpus", n_cpus, 4096), ("n_bufs", n_bufs, 1 << 26), ("n_skbs", n_skbs, 1 << 26),
                        ("lock_slots", lock_slots, 1 << 20)):
        check_int_range(name, v, 1, hi)
    if lock_slots & (lock_slots - 1):
        raise bad("lock_slots", lock_slots, "a power of two")
    glob = np.zeros(G.n, np.int64)
    glob[G.page_top] = n_pages
    glob[G.buf_top] = n_bufs
    glob[G.skb_top] = n_skbs
    glob[G.data_top] = n_skbs
    glob[G.page_size] = page_size
    glob[G.napi_cpus] = n_cpus  # every CPU a NAPI CPU until the RX path says otherwise (model.simulate)
    glob[G.lock_now] = NONE
    glob[G.lock_hold_ps] = 1
    cache_size, refill = pp_alloc_cache
    check_int_range("pp_alloc_cache.refill", refill, 1, PP_ALLOC_CACHE_REFILL)
    glob[G.pp_cache_refill] = refill
    glob[G.pp_cache_size] = check_int_range("pp_alloc_cache.size", cache_size, refill, PP_ALLOC_CACHE_SIZE)
    glob[G.mem_limit] = np.iinfo(np.int64).max if mem_limit is None else check_int_range(
        "mem_limit", mem_limit, page_size, 1 << 50)
    pages = np.zeros((n_pages, PF.n), np.int64)
    pages[:, PF.pool] = NONE
    pages[:, PF.last_cpu] = NONE
    frag_caches = np.zeros((n_cpus, FC.n), np.int64)
    frag_caches[:, FC.page] = NONE
    bufs = np.zeros((n_bufs, BF.n), np.int64)
    bufs[:, BF.page] = NONE
    skbs = np.zeros((n_skbs, SK.n), np.int64)
    skbs[:, SK.next] = NONE  # no skb is chained: skb_free unchains what it frees
    skbs[:, SK.data] = NONE
    data = np.zeros((n_skbs, DT.n), np.int64)
    data[:, DT.dataref] = NONE
    data[:, DT.frag_list] = NONE  # nothing chained: skb_free resets what it releases
    pools = np.zeros((n_pools, PL.n), np.int64)
    pools[:, PL.frag_page] = NONE
    # mm/page_frag_cache.c: PAGE_FRAG_CACHE_MAX_ORDER = get_order(PAGE_FRAG_CACHE_MAX_SIZE); the
    # bias taken is the same constant
    fc_size = max(PAGE_FRAG_CACHE_MAX_SIZE, page_size)
    fc_cfg = np.array([get_order(fc_size, page_size), fc_size], np.int64)
    cc = np.zeros((2, N_COUNTERS), np.int64)
    return State(
        glob=glob, c=cc[0], cc=cc,
        pages=pages, page_stack=_stack(n_pages),
        pools=pools, pool_cache=np.full((n_pools, PP_ALLOC_CACHE_SIZE), NONE, np.int64),
        pool_ring=np.full((n_pools, ring_max), NONE, np.int64),
        frag_caches=frag_caches,
        bufs=bufs, buf_stack=_stack(n_bufs),
        skbs=skbs, skb_stack=_stack(n_skbs),
        data=data, data_frags=_frags(n_skbs), data_stack=_stack(n_skbs),
        fc_cfg=fc_cfg,
        lock_slots=np.stack([np.full((n_pools, lock_slots), NONE, np.int64),
                             np.zeros((n_pools, lock_slots), np.int64)], axis=2),
        lock_cpu=np.zeros(n_cpus, np.int64),
    )


@inner
def reader_state(st):
    """The same state, counting in the reading CPUs' row (``st.cc[1]``): what a reading CPU does
    (the frees of tcp_recvmsg that are not deferred) is counted there, so every count is kept per
    CPU class at no cost per operation. Only ``c`` differs: one type, one compilation of every kernel."""
    return State(st.glob, st.cc[1], st.cc, st.pages, st.page_stack, st.pools, st.pool_cache, st.pool_ring,
                 st.frag_caches, st.bufs, st.buf_stack, st.skbs, st.skb_stack, st.data, st.data_frags,
                 st.data_stack, st.fc_cfg, st.lock_slots, st.lock_cpu)


def _gro_rows(conns):
    gro = np.full((conns, GR.n), NONE, np.int64)
    gro[:, GR.payload] = 0
    return gro


def _gro_lists(queues):
    lists = np.full((queues, GRO_HASH_BUCKETS, GL.n), NONE, np.int64)
    lists[:, :, GL.count] = 0
    return lists


def _evq():
    evq = np.zeros(EV.n, np.int64)
    evq[EV.tq_pend] = NONE
    return evq


def _ofo_rows(conns):
    ofo = np.zeros((conns, OF.n), np.int64)
    ofo[:, OF.head] = NONE
    ofo[:, OF.tail] = NONE
    return ofo


Rx = namedtuple("Rx", [
    "qp",  # int64[queues, QP.n]: each RX queue's parameters and driver state
    "qstats",  # int64[queues, QS.n]: per-queue totals
    "rc", "rf",  # int64[RC.n], float64[RF.n]: run-wide parameters
    "ring",  # int64[queues, ring_size]: the buffer posted in each RX ring slot
    "hold_buf", "hold_t",  # int64/float64[queues, hold_cap]: XDP_TX/REDIRECT buffers until completion
    "agg",  # int64[queues, agg_max]: bnxt's aggregation ring, the buffer posted in each slot
    "tpa",  # int64[queues, tpa_max]: bnxt's head buffers held for TPA (bnxt_tpa_info.data)
    "tpa_info",  # int64[queues, tpa_max, TI.n]: bnxt's TPA aggregation contexts (rxlab.engine.rxq_bnxt_tpa)
    "tpa_t",  # float64[queues, tpa_max]: when each open aggregation started (its timer runs from there)
    "wqe_frags",  # int64[queues, wqe_frags_max, WF.n]: mlx5's legacy RQ, each WQE's fragments
    "frag_pages",  # int64[queues, frag_pages_max]: mlx5's frag pages, the driver's hold on each (a buffer) or NONE
    "mpwqe",  # int64[queues, mpwqe_max, MW.n]: mlx5's striding RQ, each WQE's strides consumed and release flag
    "conn", "connf",  # int64[conns, CN.n], float64[conns, CF.n]: each connection's receive side
    "rcvq_next",  # int64[n_skbs]: receive queues, linked through the skb after each one
    "samples",  # float64[samples, SM.n]: memory over model time
    "ratio_hist",  # int64[ratio_bins]: len/truesize of arriving data packets
    "prog",  # int64[3]: packets sent, sender cursor, samples taken (a run stops and goes on)
    "next_read",  # float64[1]: when the applications next read their sockets (all at once)
    # connections that sent since the applications last read, a bit each: int64[ceil(conns / 32)]
    # of 32 bits, and a bit per nonzero word of those, int64[ceil(conns / 1024)] (see reader.read_dirty)
    "dirty", "dirty_words",
    "gro",  # int64[conns, GR.n]: each connection's held GRO aggregate, if any
    "gro_list",  # int64[queues, GRO_HASH_BUCKETS, GL.n]: each NAPI's gro_hash lists
    "evq",  # int64[EV.n]: the queues' heads and counts
    "sndq",  # int64[conns]: the connections that may send, a ring (rxlab.engine.sender)
    "ack_t", "ack",  # float64[ack_cap], int64[ack_cap, AK.n]: ACKs on their way back, a ring by arrival
    # the timers (rxlab.engine.timers): per slot (connection x Timer.n + kind, then one per queue: its NAPI
    # poll's end, then one per queue: its oldest TPA aggregation's timer) when it is due (inf: not armed)
    # and its key in the heap; the heap of slots, and each slot's place in it (NONE: not in it)
    "tq_due", "tq_key", "tq_heap", "tq_pos",
    "ofo",  # int64[conns, OF.n]: each connection's out-of-order queue and SACK blocks (rxlab.engine.tcp_ofo)
    "ofo_seq",  # int64[n_skbs, OS.n]: each skb's sequence range while on an out-of-order queue
    "sb",  # int64[conns, SB.n]: each sender's SACK scoreboard (rxlab.engine.tcp_sack)
])


def make_rx(queues, ring_size, conns, n_skbs, hold_cap, samples, ratio_bins, agg_max=1, tpa_max=1, ack_cap=64,
            wqe_frags_max=1, frag_pages_max=1, mpwqe_max=1):
    """Zeroed RX-path arrays: rings and holds empty (NONE), receive queues unlinked, no timer armed,
    no ACK in flight, no sender queued."""
    for name, v in (("queues", queues), ("ring_size", ring_size), ("conns", conns), ("n_skbs", n_skbs),
                    ("hold_cap", hold_cap), ("samples", samples), ("ratio_bins", ratio_bins),
                    ("agg_max", agg_max), ("tpa_max", tpa_max), ("ack_cap", ack_cap),
                    ("wqe_frags_max", wqe_frags_max), ("frag_pages_max", frag_pages_max), ("mpwqe_max", mpwqe_max)):
        check_int_range(name, v, 1, 1 << 26)
    return Rx(
        qp=np.zeros((queues, QP.n), np.int64), qstats=np.zeros((queues, QS.n), np.int64),
        rc=np.zeros(RC.n, np.int64), rf=np.zeros(RF.n, np.float64),
        ring=np.full((queues, ring_size), NONE, np.int64),
        hold_buf=np.full((queues, hold_cap), NONE, np.int64), hold_t=np.zeros((queues, hold_cap), np.float64),
        agg=np.full((queues, agg_max), NONE, np.int64), tpa=np.full((queues, tpa_max), NONE, np.int64),
        tpa_info=np.full((queues, tpa_max, TI.n), NONE, np.int64), tpa_t=np.zeros((queues, tpa_max), np.float64),
        wqe_frags=np.zeros((queues, wqe_frags_max, WF.n), np.int64),
        frag_pages=np.full((queues, frag_pages_max), NONE, np.int64),
        mpwqe=np.zeros((queues, mpwqe_max, MW.n), np.int64),
        conn=np.zeros((conns, CN.n), np.int64), connf=np.zeros((conns, CF.n), np.float64),
        rcvq_next=np.full(n_skbs, NONE, np.int64),
        samples=np.zeros((samples, SM.n), np.float64), ratio_hist=np.zeros(ratio_bins, np.int64),
        prog=np.zeros(3, np.int64),
        next_read=np.zeros(1, np.float64),
        dirty=np.zeros((conns + 31) >> 5, np.int64), dirty_words=np.zeros((conns + 1023) >> 10, np.int64),
        gro=_gro_rows(conns),
        gro_list=_gro_lists(queues),
        evq=_evq(), sndq=np.zeros(conns, np.int64),
        ack_t=np.zeros(ack_cap, np.float64), ack=np.zeros((ack_cap, AK.n), np.int64),
        tq_due=np.full(conns * Timer.n + 2 * queues, np.inf), tq_key=np.full(conns * Timer.n + 2 * queues, np.inf),
        tq_heap=np.zeros(conns * Timer.n + 2 * queues, np.int64),
        tq_pos=np.full(conns * Timer.n + 2 * queues, NONE, np.int64),
        ofo=_ofo_rows(conns), ofo_seq=np.zeros((n_skbs, OS.n), np.int64), sb=np.zeros((conns, SB.n), np.int64),
    )
