"""``simulate(config) -> Result``: build the engine's arrays from a validated SimConfig, run the
RX path, check every invariant, tear down and check that nothing leaked."""

import numpy as np

from rxlab.config import SimConfig
from rxlab.engine.invariants import check_invariants, check_no_leak
from rxlab.engine.layout import CF, CN, NONE, PL, QP, QS, RC, RF, SM, G, Mode
from rxlab.engine.loop import WIRE_OVERHEAD, alloc_buf, run, teardown
from rxlab.engine.page_pool import pool_create
from rxlab.engine.state import PAGE_FRAG_CACHE_MAX_SIZE, make_state
from rxlab.kernel.pagepool import dma_get_cache_alignment
from rxlab.kernel.sizes import arch_info, skb_data_align, skb_shinfo_aligned
from rxlab.result import Result

RATIO_BINS = 64
NET_SKB_PAD = 64  # include/linux/skbuff.h: max(32, L1_CACHE_BYTES)
# __napi_alloc_skb(): lengths up to SKB_WITH_OVERHEAD(SKB_SMALL_HEAD_CACHE_SIZE) minus
# NET_SKB_PAD get a kmalloc'ed head (640-byte small-head cache, 320 bytes of shinfo)
SMALL_HEAD_MAX = 640 - 320 - NET_SKB_PAD


def rss_queue(conn, queues):
    """The RX queue a connection hashes to (a fixed multiplicative hash standing in for Toeplitz)."""
    return ((conn * 2654435761) & 0xFFFFFFFF) % queues


def _queue_params(cfg, g):
    """(mode, pool page order, pool maps DMA, alloc_size, pinned truesize) of every queue."""
    if g.frag_count == 1:
        return Mode.full, g.order, 0, g.alloc_size, g.truesize_pinned
    if cfg.strategy == "page_frag_cache":
        fc = max(PAGE_FRAG_CACHE_MAX_SIZE, cfg.page_size)
        sk_buff = g.truesize - g.alloc_size
        return Mode.pfc, 0, 0, g.alloc_size, -(-fc // (fc // g.alloc_size)) + sk_buff
    return Mode.frag, g.order, 1, g.alloc_size, g.truesize_pinned


def simulate(config=None, **kw):
    """Run one configuration (a SimConfig, or its fields as keywords) and return a Result."""
    cfg = config if config is not None else SimConfig(**kw)
    if config is not None and kw:
        cfg = cfg.replace(**kw)
    g = cfg.geometry()
    Q, C, R = cfg.queues, cfg.connections, cfg.ring_size
    mode, order, dma, alloc_size, pinned = _queue_params(cfg, g)
    charged = pinned if cfg.truesize_honest else g.truesize
    # receive queues: the most skbs a socket can hold before sk_rmem_alloc passes sk_rcvbuf
    small = skb_data_align(64) + NET_SKB_PAD + 576
    rcvq_cap = cfg.tcp_rmem // min(charged, small) + 2
    link_pps = cfg.link_gbps * 1e3 / ((cfg.mtu + WIRE_OVERHEAD) * 8)  # packets per µs
    hold_cap = int(cfg.xdp_hold_us * link_pps) + 64 if cfg.xdp else 1
    n_skbs = C * rcvq_cap + Q * 4 + 16
    n_bufs = Q * (R + hold_cap + 2)
    page_bytes = cfg.page_size << order
    unit = page_bytes if mode != Mode.pfc else max(PAGE_FRAG_CACHE_MAX_SIZE, cfg.page_size)
    n_pages = Q * (R + 128 + g.pool_size + 64 + hold_cap) + C * rcvq_cap + 2 * Q + 64
    st = make_state(page_size=cfg.page_size, n_pages=n_pages, n_pools=Q, ring_max=g.pool_size,
                    n_cpus=2 * Q, n_bufs=n_bufs, n_skbs=n_skbs, mem_limit=n_pages * unit)

    qp = np.zeros((Q, QP.n), np.int64)
    align = dma_get_cache_alignment(cfg.arch)
    for q in range(Q):
        pool_create(st, q, g.pool_size, order, dma, dma, cfg.page_size, q, cfg.strategy == "pp_frag_upfront")
        qp[q] = [q, q, mode, alloc_size, align, g.datasize, g.truesize, pinned, bool(cfg.xdp), NONE, 0, 0, 0]
    qstats = np.zeros((Q, QS.n), np.int64)
    rc = np.zeros(RC.n, np.int64)
    a = arch_info(cfg.arch)
    rc[RC.queues], rc[RC.conns], rc[RC.packets], rc[RC.mtu] = Q, C, cfg.packets, cfg.mtu
    rc[RC.napi_budget], rc[RC.rcvbuf], rc[RC.gro] = cfg.napi_budget, cfg.tcp_rmem, cfg.gro
    rc[RC.copybreak] = cfg.copybreak if cfg.strategy == "copybreak" else 0
    rc[RC.defer_free], rc[RC.honest] = cfg.defer_free, cfg.truesize_honest
    rc[RC.sample_every] = max(1, cfg.packets // cfg.samples)
    rc[RC.sizeof_sk_buff] = skb_data_align(a.sizeof_sk_buff, a.smp_cache_bytes)
    rc[RC.small_head] = SMALL_HEAD_MAX
    rc[RC.copy_head] = NET_SKB_PAD + skb_shinfo_aligned()
    rc[RC.copy_truesize_extra] = NET_SKB_PAD + rc[RC.sizeof_sk_buff] + skb_shinfo_aligned()
    rf = np.zeros(RF.n, np.float64)
    xdp = cfg.xdp or (1.0, 0.0, 0.0, 0.0)
    rf[RF.ack_fraction], rf[RF.clone_fraction] = cfg.ack_fraction, cfg.clone_fraction
    rf[RF.xdp_pass], rf[RF.xdp_drop], rf[RF.xdp_tx], rf[RF.xdp_redirect] = xdp
    rf[RF.app_read_us], rf[RF.xdp_hold_us] = cfg.app_read_us, cfg.xdp_hold_us
    rf[RF.link_gbps], rf[RF.rtt_us] = cfg.link_gbps, cfg.rtt_us
    rf[RF.alloc_fail_rate], rf[RF.dma_map_fail_rate] = cfg.alloc_fail_rate, cfg.dma_map_fail_rate

    # fill every ring (mana_alloc_rx_wqe), before traffic and without failure injection
    no_fail = rf.copy()
    no_fail[RF.alloc_fail_rate] = no_fail[RF.dma_map_fail_rate] = 0.0
    ring = np.full((Q, R), NONE, np.int64)
    for q in range(Q):
        for i in range(R):
            b = alloc_buf(st, qp, qstats, no_fail, q)
            if b == NONE:
                raise MemoryError(f"queue {q}: could not fill the RX ring ({i} of {R} buffers)")
            ring[q, i] = b

    conn = np.zeros((C, CN.n), np.int64)
    conn[:, CN.queue] = [rss_queue(c, Q) for c in range(C)]
    conn[:, CN.app_cpu] = (Q + np.arange(C) % Q) if cfg.app_cpus == "remote" else conn[:, CN.queue]
    connf = np.zeros((C, CF.n), np.float64)
    rcvq = np.full((C, rcvq_cap), NONE, np.int64)
    hold_buf = np.full((Q, hold_cap), NONE, np.int64)
    hold_t = np.zeros((Q, hold_cap), np.float64)
    samples = np.zeros((cfg.samples, SM.n), np.float64)
    ratio_hist = np.zeros(RATIO_BINS, np.int64)
    pre = st.c.copy()

    t_us, n_samples = run(st, qp, qstats, rc, rf, ring, hold_buf, hold_t, conn, connf, rcvq, samples,
                          ratio_hist, cfg.seed)
    check_invariants(st)
    counters = st.c - pre
    inflight = st.pools[:, PL.hold_cnt] - st.pools[:, PL.release_cnt]
    result = Result(config=cfg, geometry=g, counters=counters, qstats=qstats.copy(), conn=conn.copy(),
                    samples=samples[:n_samples].copy(), ratio_hist=ratio_hist, t_us=float(t_us),
                    mem_used_end=int(st.glob[G.mem_used]), inflight_end=inflight.copy(), page_bytes=page_bytes)
    teardown(st, qp, rc, ring, hold_buf, hold_t, conn, connf, rcvq)
    check_no_leak(st)
    return result

