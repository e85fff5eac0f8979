"""``simulate(config) -> Result``: build the engine's arrays from a validated SimConfig, run the
RX path (stopping for each reconfiguration), check every invariant, tear down and check that
nothing leaked."""

import numpy as np

from rxlab.engine.dma import dma_map
from rxlab.engine.invariants import check_invariants, check_no_leak
from rxlab.engine.layout import CF, CN, NONE, PL, QP, QS, RC, RF, SM, BufKind, G, Mode
from rxlab.engine.loop import alloc_buf, detach_queues, run, seed_rng, teardown
from rxlab.engine.page_pool import pool_create
from rxlab.engine.pages import page_alloc
from rxlab.engine.skb import buf_new, buf_put
from rxlab.engine.state import make_state
from rxlab.kernel.pagepool import PAGE_FRAG_CACHE_MAX_SIZE, dma_get_cache_alignment
from rxlab.kernel.rss import rss_queue
from rxlab.kernel.sizes import (
    NET_SKB_PAD,
    WIRE_OVERHEAD,
    arch_info,
    get_order,
    napi_small_head_max,
    skb_data_align,
    skb_shinfo_aligned,
)
from rxlab.model.config import SimConfig
from rxlab.model.result import Result

RATIO_BINS = 64


def _queue_layout(cfg, g):
    """(mode, pool page order, pool maps DMA, pinned truesize) for geometry ``g``."""
    if g.frag_count == 1:
        return Mode.full, g.order, 0, g.truesize_pinned
    if cfg.strategy == "page_frag_cache":
        fc = max(PAGE_FRAG_CACHE_MAX_SIZE, cfg.page_size)
        return Mode.pfc, 0, 0, -(-fc // (fc // g.alloc_size)) + g.truesize - g.alloc_size
    return Mode.frag, g.order, 1, g.truesize_pinned


def _attach(st, cfg, g, qp, pool_base):
    """mana_create_rxq() for every queue: a page_pool per queue (mana_create_page_pool) and
    the driver's per-queue parameters."""
    mode, order, dma, pinned = _queue_layout(cfg, g)
    align = dma_get_cache_alignment(cfg.arch)
    for q in range(cfg.queues):
        pool_create(st, pool_base + q, g.pool_size, order, dma, dma, cfg.page_size, q,
                    cfg.strategy == "pp_frag_upfront")
        p = qp[q]
        p[QP.pool], p[QP.napi_cpu], p[QP.mode] = pool_base + q, q, mode
        p[QP.alloc_size], p[QP.align], p[QP.datasize] = g.alloc_size, align, g.datasize
        p[QP.truesize], p[QP.truesize_pinned], p[QP.xdp] = g.truesize, pinned, g.xdp
        # a new rxq: no saved XDP buffer, rings from slot 0; the NAPI CPU's state (the poll in
        # progress, its defer list) goes on across the reconfiguration
        p[QP.save] = NONE
        p[QP.ring_head] = p[QP.hold_head] = p[QP.hold_count] = 0
        p[QP.ratio_len] = p[QP.ratio_truesize] = p[QP.ratio] = 0


def _pre_alloc(st, cfg, g, fail):
    """mana_pre_alloc_rxbufs(): a page (dev_alloc_page, or a higher-order fragment when
    alloc_size > PAGE_SIZE) per buffer of every queue, DMA-mapped, before anything is torn
    down. Returns the buffers, or None after freeing what it took (mana_pre_dealloc_rxbufs)."""
    n = cfg.queues * cfg.ring_size
    order = get_order(g.alloc_size, cfg.page_size) if g.alloc_size > cfg.page_size else 0
    got = []
    for i in range(n):
        pid = NONE if fail and i == n // 2 else page_alloc(st, order, 0)
        if pid == NONE:
            for b in got:
                buf_put(st, b, 0, False)
            return None
        b = buf_new(st, pid, 0, cfg.page_size << order, BufKind.page, i // cfg.ring_size)
        dma_map(st, g.datasize)
        got.append(b)
    return got


def simulate(config=None, **kw):
    """Run one configuration (a SimConfig, or its fields as keywords) and return a Result."""
    cfg = config.replace(**kw) if config is not None else SimConfig(**kw)
    g = cfg.geometry()
    Q, C, R = cfg.queues, cfg.connections, cfg.ring_size
    geoms = [g]
    for r in cfg.reconfigs:  # sizes must cover every layout the run may switch to
        try:
            geoms.append(cfg.geometry(mtu=r.mtu, xdp=r.xdp))
        except ValueError:
            pass  # refused when it comes, as the kernel refuses it
    any_xdp = any(x.xdp for x in geoms)
    charged = min(x.truesize_pinned if cfg.truesize_honest else x.truesize for x in geoms)
    small = skb_data_align(64) + NET_SKB_PAD + 576
    # skbs in flight: what the sockets can hold before sk_rmem_alloc passes sk_rcvbuf, at most
    # max_skbs (rxlab's stand-in for tcp_mem pressure; beyond it packets drop as skb_table_full)
    n_skbs = min(C * (cfg.tcp_rmem // min(charged, small) + 2), cfg.max_skbs) + Q * 4 + 16
    link_pps = cfg.link_gbps * 1e3 / ((min(cfg.mtu, *(x.mtu for x in geoms)) + WIRE_OVERHEAD) * 8)
    hold_cap = int(cfg.xdp_hold_us * link_pps) + 64 if any_xdp else 1
    n_rc = len(cfg.reconfigs)
    unit = max(max(PAGE_FRAG_CACHE_MAX_SIZE, cfg.page_size), *(cfg.page_size << x.order for x in geoms))
    n_pages = (Q * (1 + n_rc) * (2 * R + 128 + max(x.pool_size for x in geoms) + 64 + hold_cap)
               + 2 * n_skbs + 64)
    st = make_state(page_size=cfg.page_size, n_pages=n_pages, n_pools=Q * (1 + n_rc),
                    ring_max=max(x.pool_size for x in geoms), n_cpus=Q + (cfg.reader_cpus if cfg.app_cpus == "remote" else 0),
                    n_bufs=Q * (2 * R + hold_cap + 2), n_skbs=n_skbs,
                    mem_limit=n_pages * unit)

    qp = np.zeros((Q, QP.n), np.int64)
    _attach(st, cfg, g, qp, 0)
    qstats = np.zeros((Q, QS.n), np.int64)
    a = arch_info(cfg.arch)
    rc = np.zeros(RC.n, np.int64)
    rc[RC.queues], rc[RC.conns], rc[RC.packets], rc[RC.mtu] = Q, C, cfg.packets, cfg.mtu
    rc[RC.napi_budget], rc[RC.rcvbuf], rc[RC.gro] = cfg.napi_budget, cfg.tcp_rmem, cfg.gro
    rc[RC.copybreak] = cfg.copybreak if cfg.strategy == "copybreak" else 0
    rc[RC.defer_free], rc[RC.honest] = cfg.defer_free, cfg.truesize_honest
    rc[RC.defer_max] = cfg.skb_defer_max
    rc[RC.sample_every] = max(1, cfg.packets // cfg.samples)
    rc[RC.sizeof_sk_buff] = skb_data_align(a.sizeof_sk_buff, a.smp_cache_bytes)
    rc[RC.small_head] = napi_small_head_max()
    rc[RC.copy_head] = NET_SKB_PAD + skb_shinfo_aligned()
    rc[RC.copy_truesize_extra] = NET_SKB_PAD + rc[RC.sizeof_sk_buff] + skb_shinfo_aligned()
    rf = np.zeros(RF.n, np.float64)
    rf[RF.ack_fraction], rf[RF.clone_fraction] = cfg.ack_fraction, cfg.clone_fraction
    rf[RF.xdp_pass:RF.xdp_redirect + 1] = cfg.xdp or (1.0, 0.0, 0.0, 0.0)
    rf[RF.app_read_us], rf[RF.xdp_hold_us] = cfg.app_read_us, cfg.xdp_hold_us
    rf[RF.link_gbps], rf[RF.rtt_us] = cfg.link_gbps, cfg.rtt_us
    rf[RF.alloc_fail_rate], rf[RF.dma_map_fail_rate] = cfg.alloc_fail_rate, cfg.dma_map_fail_rate

    # fill every ring (mana_alloc_rx_wqe) before traffic, without failure injection
    no_fail = rf.copy()
    no_fail[RF.alloc_fail_rate] = no_fail[RF.dma_map_fail_rate] = 0.0
    ring = np.full((Q, R), NONE, np.int64)
    for q in range(Q):
        for i in range(R):
            ring[q, i] = alloc_buf(st, qp, qstats, no_fail, q)
    if (ring == NONE).any():
        raise MemoryError("could not fill the RX rings before traffic")

    conn = np.zeros((C, CN.n), np.int64)
    conn[:, CN.queue] = [rss_queue(c, Q) for c in range(C)]
    # an application thread per connection, on CPUs other than the NAPI ones (0..Q-1)
    conn[:, CN.app_cpu] = (Q + np.arange(C) % cfg.reader_cpus) if cfg.app_cpus == "remote" else conn[:, CN.queue]
    connf = np.zeros((C, CF.n), np.float64)
    rcvq_next = np.full(n_skbs, NONE, np.int64)
    hold_buf = np.full((Q, hold_cap), NONE, np.int64)
    hold_t = np.zeros((Q, hold_cap), np.float64)
    samples = np.zeros((cfg.samples, SM.n), np.float64)
    ratio_hist = np.zeros(RATIO_BINS, np.int64)
    prog = np.zeros(3, np.int64)
    pre = st.c.copy()
    events = []
    seed_rng(cfg.seed)
    t = 0.0
    cur_mtu, cur_xdp = cfg.mtu, cfg.xdp
    for i, r in enumerate(cfg.reconfigs):
        t = run(st, qp, qstats, rc, rf, ring, hold_buf, hold_t, conn, connf, rcvq_next, samples, ratio_hist, prog, t,
                r.at_packet)
        mtu = cur_mtu if r.mtu is None else r.mtu
        xdp = cur_xdp if r.xdp is None else r.xdp
        event = {"at_packet": r.at_packet, "t_us": t, "mtu": mtu, "xdp": xdp, "ok": False, "error": ""}
        events.append(event)
        try:
            g2 = cfg.geometry(mtu=mtu, xdp=xdp)
        except ValueError as e:  # e.g. XDP with an MTU above MANA_XDP_MTU_MAX: refused
            event["error"] = str(e)
            continue
        bufs = _pre_alloc(st, cfg, g2, r.fail)
        if bufs is None:
            event["error"] = "Insufficient memory for tx/rx re-config: old configuration kept"
            check_invariants(st)
            continue
        detach_queues(st, qp, rc, ring, hold_buf, hold_t)
        _attach(st, cfg, g2, qp, Q * (i + 1))
        ring[:] = np.array(bufs, np.int64).reshape(Q, R)
        rc[RC.mtu] = mtu
        rf[RF.xdp_pass:RF.xdp_redirect + 1] = xdp or (1.0, 0.0, 0.0, 0.0)
        cur_mtu, cur_xdp, g = mtu, xdp, g2
        event["ok"] = True
        check_invariants(st)
    t = run(st, qp, qstats, rc, rf, ring, hold_buf, hold_t, conn, connf, rcvq_next, samples, ratio_hist, prog, t,
            cfg.packets)
    check_invariants(st)
    inflight = st.pools[:, PL.hold_cnt] - st.pools[:, PL.release_cnt]
    result = Result(config=cfg, geometry=g, counters=st.c - pre, qstats=qstats.copy(), conn=conn.copy(),
                    samples=samples[:prog[2]].copy(), ratio_hist=ratio_hist, t_us=float(t),
                    mem_used_end=int(st.glob[G.mem_used]), inflight_end=inflight,
                    page_bytes=cfg.page_size << g.order, events=tuple(events))
    teardown(st, qp, rc, ring, hold_buf, hold_t, conn, connf, rcvq_next)
    check_no_leak(st)
    return result
