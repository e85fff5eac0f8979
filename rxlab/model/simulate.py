"""``simulate(config) -> Result``: work out a run's numbers from a validated SimConfig (:func:`plan`:
geometries, sizes, parameters, each connection's start), build the engine's arrays from them
(:func:`build`), run the RX path stopping for each reconfiguration
(:func:`run_all`), then take the Result, tear down and check that nothing leaked (:func:`finish`)."""

from dataclasses import dataclass

import numpy as np

from rxlab.engine.invariants import check_invariants, check_no_leak
from rxlab.engine.jit import compile_finished
from rxlab.engine.layout import (
    CF,
    CN,
    EV,
    GR,
    MW,
    NONE,
    PL,
    QP,
    RC,
    RF,
    TI,
    Admission,
    Clamp,
    G,
    Grow,
    Mode,
    Nomem,
    Reader,
    WinMode,
)
from rxlab.engine.loop import run, seed_rng, teardown
from rxlab.engine.napi import polls_complete
from rxlab.engine.page_pool import pool_create
from rxlab.engine.rxq import detach_queues, fill_rings
from rxlab.engine.sender import senders_init
from rxlab.engine.state import make_rx, make_state
from rxlab.errors import bad
from rxlab.kernel.gro import GRO_HASH_BUCKETS, GRO_LEGACY_MAX_SIZE
from rxlab.kernel.mlx5 import mlx5e_init_frags_partition, mlx5e_mpwqe_get_min_wqe_bulk, mpwrq_nonlinear_head
from rxlab.kernel.pagepool import (
    PAGE_FRAG_CACHE_MAX_SIZE,
    PP_RING_DEFAULT,
    dma_get_cache_alignment,
    pp_alloc_cache,
)
from rxlab.kernel.rss import flow_hashes, flow_queues
from rxlab.kernel.sizes import (
    NET_SKB_PAD,
    SKB_SMALL_HEAD_CACHE_SIZE,
    arch_info,
    build_skb_truesize,
    napi_small_head_max,
    skb_data_align,
    skb_shinfo_aligned,
)
from rxlab.kernel.tcp import (
    GSO_LEGACY_MAX_SIZE,
    advmss,
    rcvmem_per_mss,
    sock_min_rcvbuf,
    tcp_init_buffer_space,
    tcp_initialize_rcv_mss,
    tcp_select_initial_window,
    tcp_win_from_space,
)
from rxlab.model.config import SimConfig
from rxlab.model.drivers import DRIVERS
from rxlab.model.result import Result
from rxlab.model.sizing import RATIO_BINS, Sizes, copy_truesize_extra, geometries, size_run


def _queue_layout(cfg, g):
    """(mode, pool page order, pool maps DMA, pinned truesize) for geometry ``g``: bnxt's queue has
    modes of its own, normal (a head buffer and aggregation buffers) and page mode (XDP)."""
    if g.head_use_size:
        return Mode.page if g.xdp else Mode.agg, g.order, 1, g.truesize_pinned
    if g.variant == "cyclic":
        return Mode.cyc, 0, 1, g.truesize_pinned
    if g.variant == "striding":
        return Mode.mpw, 0, 1, g.truesize_pinned
    if g.frag_count == 1:
        return Mode.full, g.order, 0, g.truesize_pinned
    if cfg.spec.frag_source == "page_frag_cache":
        fc = max(PAGE_FRAG_CACHE_MAX_SIZE, cfg.page_size)
        return Mode.pfc, 0, 0, -(-fc // (fc // g.alloc_size)) + g.truesize - g.alloc_size
    return Mode.frag, g.order, 1, g.truesize_pinned


def _attach(st, cfg, g, rx, pool_base):
    """Every queue created (MANA: mana_create_rxq): a page_pool per queue (mana_create_page_pool)
    and the driver's per-queue parameters; a bnxt queue's heads may have a pool of their own
    (bnxt_alloc_rx_page_pool), after the queues' pools."""
    mode, order, dma, pinned = _queue_layout(cfg, g)
    align = dma_get_cache_alignment(cfg.arch)
    for q in range(cfg.queues):
        # page_pool_init(): a pool_size of 0 takes the default ptr_ring of 1024
        pool_create(st, pool_base + q, g.pool_size or PP_RING_DEFAULT, order, dma, dma, cfg.page_size, q,
                    cfg.spec.upfront_refs)
        p = rx.qp[q]
        p[QP.pool], p[QP.napi_cpu], p[QP.mode] = pool_base + q, q, mode
        p[QP.head_pool] = p[QP.pool]
        p[QP.alloc_size], p[QP.align], p[QP.datasize] = g.alloc_size, align, g.datasize
        p[QP.truesize], p[QP.truesize_pinned], p[QP.xdp] = g.truesize, pinned, g.xdp
        # no hardware GRO, no aggregation open (a bnxt queue's own below)
        p[QP.tpa_on], p[QP.tpa_free], p[QP.tpa_oldest], p[QP.tpa_newest], p[QP.tpa_bytes] = 0, NONE, NONE, NONE, 0
        if mode == Mode.agg or mode == Mode.page:
            _attach_agg(st, cfg, g, p, pool_base + cfg.queues + q, rx.tpa_info[q])
        if mode == Mode.cyc:
            _attach_cyc(cfg, g, p)
        if mode == Mode.mpw:
            _attach_mpw(cfg, g, p)
        # a new rxq: no saved XDP buffer, rings from slot 0; GRO holds nothing and the next packet
        # starts a new poll (polls_complete ran before detach_queues); the defer list goes on
        p[QP.save] = NONE
        p[QP.ring_head] = p[QP.hold_head] = p[QP.hold_count] = 0


def _attach_agg(st, cfg, g, p, head_pool, tpa_info):
    """bnxt's queue row ``p``: a separate head pool where the geometry has one (created in page mode
    too, bnxt_alloc_rx_page_pool, though only normal mode's heads come from it), the aggregation
    ring and TPA (none in page mode or without hardware GRO; its contexts ``tpa_info`` all free), and
    where a frame lands (bnxt_rx_pkt)."""
    if g.head_pool_size:
        pool_create(st, head_pool, g.head_pool_size, 0, 1, 1, cfg.page_size, p[QP.napi_cpu], cfg.spec.upfront_refs)
        p[QP.head_pool] = head_pool
    p[QP.agg_ring], p[QP.agg_head], p[QP.agg_size] = g.agg_ring_size, 0, g.agg_buf_size or cfg.page_size
    p[QP.tpa], p[QP.copybreak] = g.tpa_bufs, g.copybreak
    p[QP.tpa_on] = int(g.tpa_bufs > 0)
    p[QP.tpa_free] = 0 if g.tpa_bufs else NONE
    tpa_info[:] = NONE
    tpa_info[:g.tpa_bufs, TI.newer] = np.arange(1, g.tpa_bufs + 1)
    if g.tpa_bufs:
        tpa_info[g.tpa_bufs - 1, TI.newer] = NONE
    p[QP.hds_thresh] = g.hds_thresh if g.header_split else -1
    p[QP.header_len], p[QP.buf_use_size] = g.header_len, g.head_use_size
    a = arch_info(cfg.arch)
    sk_buff = skb_data_align(a.sizeof_sk_buff, a.smp_cache_bytes)
    p[QP.small_truesize] = SKB_SMALL_HEAD_CACHE_SIZE + sk_buff  # napi_alloc_skb(): a small-head cache head
    # a head the skb is built on (bnxt_rx_skb: napi_build_skb(data, rx_buf_size)); honest, its share of
    # the page; each aggregation buffer adds BNXT_RX_PAGE_SIZE to both (bnxt_rx_pkt)
    p[QP.truesize] = build_skb_truesize(g.alloc_size, cfg.arch)
    p[QP.truesize_pinned] = cfg.page_size // g.frags_per_page + sk_buff


def _attach_cyc(cfg, g, p):
    """mlx5's legacy RQ for queue row ``p`` (en_main.c mlx5e_alloc_rq, params.c
    mlx5e_build_rq_frags_info): its fragments per WQE and refill bulks, its headroom, and what
    MLX5_SKB_FRAG_SZ() aligns to. No WQE posted yet."""
    a = arch_info(cfg.arch)
    p[QP.wqes], p[QP.num_frags] = 0, len(g.frag_sizes)
    p[QP.wqe_bulk], p[QP.refill_unit], p[QP.wqe_index_mask] = g.wqe_bulk, g.refill_unit, g.wqe_index_mask
    p[QP.headroom], p[QP.smp_cache], p[QP.shinfo] = g.headroom, a.smp_cache_bytes, skb_shinfo_aligned(
        smp_cache_bytes=a.smp_cache_bytes)


def _attach_mpw(cfg, g, p):
    """mlx5's striding RQ for queue row ``p`` (en_main.c mlx5e_alloc_rq, params.c): its linked list of
    WQEs, their pages and strides, when it refills (mlx5e_mpwqe_get_min_wqe_bulk), its headroom, what
    MLX5_SKB_FRAG_SZ() aligns to, and the non-linear skb's napi_alloc_skb() head. No WQE posted yet."""
    a = arch_info(cfg.arch)
    p[QP.wqes], p[QP.wq_sz], p[QP.pages_per_wqe] = 0, g.wqe_count, g.pages_per_wqe
    p[QP.num_strides], p[QP.log_stride], p[QP.linear] = g.strides_per_wqe, g.stride_size.bit_length() - 1, g.linear
    p[QP.wqe_bulk] = mlx5e_mpwqe_get_min_wqe_bulk(g.wqe_count)
    p[QP.headroom], p[QP.smp_cache], p[QP.shinfo] = g.headroom, a.smp_cache_bytes, skb_shinfo_aligned(
        smp_cache_bytes=a.smp_cache_bytes)
    p[QP.head_size], p[QP.small_truesize] = mpwrq_nonlinear_head(cfg.page_size, cfg.arch)


def _attach_wqes(rx, g):
    """mlx5e_init_frags_partition() for every queue of mlx5's legacy RQ: each WQE's fragments on
    their page slots, every one SKIP_RELEASE (nothing allocated yet), no page held. The striding RQ's
    WQEs: skip_release_bitmap full ("on first round release is not called", mlx5e_alloc_rq), no page."""
    if g.variant == "striding":
        rx.mpwqe[:, :, MW.consumed] = 0
        rx.mpwqe[:, :, MW.skip] = 1
        rx.frag_pages[:] = NONE
        return
    if g.variant != "cyclic":
        return
    nf = len(g.frag_sizes)
    part = np.array([(slot, off, last, 1, g.frag_sizes[i % nf], g.frag_strides[i % nf]) for i, (slot, off, last)
                     in enumerate(mlx5e_init_frags_partition(g.frag_strides, g.wqe_count, g.page_size))], np.int64)
    rx.wqe_frags[:, :len(part)] = part
    rx.frag_pages[:] = NONE


def _pools_per_config(cfg, geoms):
    """Pools a configuration's queues take: one each, and one more for a separate head pool."""
    return cfg.queues * (2 if any(x.head_pool_size for x in geoms) else 1)


def _xdp_fractions(xdp):
    return xdp or (1.0, 0.0, 0.0, 0.0)


def _window(rel):
    """(RC.win_mode, RC.adv_win_scale, RC.scaling_init) for release ``rel``: include/net/tcp.h
    tcp_win_from_space() by scaling_ratio (6.6+) starting from tcp_scaling_ratio_init(), or by
    tcp_adv_win_scale. Before 6.6 there is no scaling_ratio: ``scaling_init`` is then the share of
    the space tcp_adv_win_scale advertises (x 256: 128 for the default 1), which only the len/truesize
    histogram uses for a connection that has queued nothing yet."""
    if rel.window == "scaling_ratio":
        return WinMode.scaling_ratio, rel.tcp_adv_win_scale, rel.scaling_ratio_init
    return (WinMode.adv_win_scale, rel.tcp_adv_win_scale,
            tcp_win_from_space(256, "adv_win_scale", adv_win_scale=rel.tcp_adv_win_scale))


def _full_space(cfg, rcvbuf):
    """tcp_full_space() of a socket that has measured nothing yet: tcp_win_from_space(``rcvbuf``) at the
    release's initial scaling_ratio or by tcp_adv_win_scale."""
    rel = cfg.release
    if rel.window == "scaling_ratio":
        return tcp_win_from_space(rcvbuf, "scaling_ratio", scaling_ratio=rel.scaling_ratio_init)
    return tcp_win_from_space(rcvbuf, "adv_win_scale", adv_win_scale=rel.tcp_adv_win_scale)


def _windows(cfg, rcvbuf, locked):
    """The receive window a passive connection starts with: tcp_openreq_init_rwin() ->
    tcp_select_initial_window() from tcp_full_space() (window_clamp that space under SO_RCVBUF),
    then tcp_init_buffer_space() as it is established. Returns (rcv_wnd, rcv_wscale,
    window_clamp, rcv_ssthresh, rcvq_space)."""
    full, mss = _full_space(cfg, rcvbuf), advmss(cfg.mtu)
    rcv_wnd, clamp, wscale = tcp_select_initial_window(full, mss, cfg.tcp_rmem, cfg.rmem_max,
                                                       full if locked else 0)
    clamp, ssthresh, space = tcp_init_buffer_space(clamp, rcv_wnd, full, mss)
    return rcv_wnd, wscale, clamp, ssthresh, max(1, space)


def _params(cfg, geoms):
    """The RC and RF columns' values for the configuration whose layouts are ``geoms``: ({RC column:
    int}, {RF column: float}), one entry per column."""
    a = arch_info(cfg.arch)
    rel = cfg.release
    win_mode, adv_win_scale, scaling_init = _window(rel)
    rcvbuf, locked = cfg.sk_rcvbuf()
    ints = {
        RC.queues: cfg.queues, RC.conns: cfg.connections, RC.packets: cfg.packets, RC.mtu: cfg.mtu,
        RC.napi_budget: cfg.napi_budget, RC.rcvbuf: rcvbuf, RC.gro: cfg.gro,
        RC.copybreak: cfg.copybreak if cfg.spec.copybreak else 0,
        RC.defer_free: cfg.defer_free, RC.honest: cfg.truesize_honest, RC.defer_max: cfg.skb_defer_max,
        RC.sample_every: max(1, cfg.packets // cfg.samples),
        RC.sizeof_sk_buff: skb_data_align(a.sizeof_sk_buff, a.smp_cache_bytes),
        RC.small_head: napi_small_head_max(),
        RC.copy_head: NET_SKB_PAD + skb_shinfo_aligned(),
        RC.copy_truesize_extra: copy_truesize_extra(cfg.arch),
        RC.win_mode: win_mode, RC.adv_win_scale: adv_win_scale, RC.scaling_init: scaling_init,
        RC.rcvbuf_lock: locked, RC.moderate_rcvbuf: rel.rcvbuf_autotune, RC.tcp_rmem_max: cfg.tcp_rmem,
        RC.grow: Grow[rel.rcvbuf_grow], RC.advmss: advmss(cfg.mtu),
        RC.rcvmem: rcvmem_per_mss(cfg.mtu, rel.tcp_adv_win_scale, cfg.arch),
        RC.low_rtt_us: rel.rcvbuf_low_rtt_us, RC.admission: Admission[rel.admission],
        RC.shinfo: skb_shinfo_aligned(), RC.gro_max_size: GRO_LEGACY_MAX_SIZE,
        RC.prune_empty: rel.prune_empty == "drop", RC.nomem: Nomem[rel.rcvq_nomem],
        RC.ooo_ratio: rel.ooo_updates_ratio, RC.tpa: any(g.tpa_bufs for g in geoms),
        RC.rcv_wscale: _windows(cfg, rcvbuf, locked)[1], RC.clamp: Clamp[rel.window_clamp],
        RC.clamp_floor: sock_min_rcvbuf(cfg.arch) // 2,
        RC.reader: Reader[cfg.reader], RC.rcvlowat: cfg.rcvlowat, RC.gso_max_size: GSO_LEGACY_MAX_SIZE,
    }
    p, d, tx, r = _xdp_fractions(cfg.xdp)
    floats = {
        RF.ack_fraction: cfg.ack_fraction, RF.clone_fraction: cfg.clone_fraction,
        RF.xdp_pass: p, RF.xdp_drop: d, RF.xdp_tx: tx, RF.xdp_redirect: r,
        RF.app_read_us: cfg.app_read_us, RF.xdp_hold_us: cfg.xdp_hold_us, RF.tpa_timer_us: cfg.tpa_timer_us,
        RF.link_gbps: cfg.link_gbps, RF.rtt_us: cfg.rtt_us,
        RF.alloc_fail_rate: cfg.alloc_fail_rate, RF.dma_map_fail_rate: cfg.dma_map_fail_rate,
        RF.wake_us: cfg.wake_us,
    }
    for table, column in ((ints, RC), (floats, RF)):
        assert set(table) == set(column) - {column.n}, "every column filled once"
    return ints, floats


@dataclass(frozen=True)
class Plan:
    """A run's numbers, worked out from the configuration before any engine array is touched:
    the geometries it may switch to, the tables' sizes, the RC/RF parameters, and each connection's
    starting state (its RSS queue and GRO bucket, the socket's buffer and windows, its reader)."""

    geoms: tuple
    sizes: Sizes
    pp_alloc_cache: int
    ints: dict
    floats: dict
    flow_queue: np.ndarray
    gro_bucket: np.ndarray
    rcvbuf: int
    rcvq_space: int
    rcv_wnd: int
    rcv_mss: int
    window_clamp: int
    rcv_ssthresh: int
    app_cpu: np.ndarray


def plan(cfg):
    """The :class:`Plan` of ``cfg``."""
    geoms = tuple(geometries(cfg))  # sizes must cover every layout the run may switch to
    ints, floats = _params(cfg, geoms)
    C = cfg.connections
    # RSS: the Toeplitz hash through the indirection table picks the queue; its low bits, NAPI GRO's
    # bucket (dev_gro_receive)
    queue = np.asarray(flow_queues(C, cfg.queues, cfg.seed), np.int64)
    bucket = np.array(flow_hashes(C, cfg.seed), np.int64) & (GRO_HASH_BUCKETS - 1)
    # tcp_init_sock(): sk_rcvbuf = tcp_rmem[1] (or what SO_RCVBUF set); the SYN-ACK's window (unscaled),
    # window_clamp, rcv_ssthresh and rcvq_space.space (its time the connection's start, 0)
    rcvbuf = int(ints[RC.rcvbuf])
    rcv_wnd, _, clamp, ssthresh, space = _windows(cfg, rcvbuf, bool(ints[RC.rcvbuf_lock]))
    mss = int(ints[RC.advmss])
    # an application thread per connection, on the online CPUs other than the NAPI ones (0..Q-1)
    app_cpu = (cfg.queues + np.arange(C) % cfg.reading_cpus) if cfg.reading_cpus else queue
    return Plan(geoms=geoms, sizes=size_run(cfg, geoms),
                pp_alloc_cache=pp_alloc_cache(cfg.page_size, cfg.release.pp_alloc_cache == "page_size_scaled"),
                ints=ints, floats=floats, flow_queue=queue, gro_bucket=bucket, rcvbuf=rcvbuf,
                rcvq_space=space, rcv_wnd=rcv_wnd, rcv_mss=tcp_initialize_rcv_mss(mss, rcv_wnd),
                window_clamp=clamp, rcv_ssthresh=ssthresh, app_cpu=app_cpu)


def build(cfg, pl):
    """The engine's arrays for ``cfg`` from its plan ``pl``: pools and queues attached, rings filled
    before traffic (without failure injection), connections at their starting state."""
    sz = pl.sizes
    st = make_state(page_size=cfg.page_size, n_pages=sz.n_pages, n_pools=sz.n_pools, ring_max=sz.ring_max,
                    n_cpus=sz.n_cpus, n_bufs=sz.n_bufs, n_skbs=sz.n_skbs, mem_limit=sz.mem_limit,
                    pp_alloc_cache=pl.pp_alloc_cache, lock_slots=sz.lock_slots)
    rx = make_rx(cfg.queues, cfg.ring_size, cfg.connections, sz.n_skbs, sz.hold_cap, cfg.samples, RATIO_BINS,
                 sz.agg_max, sz.tpa_max, sz.ack_cap, sz.wqe_frags_max, sz.frag_pages_max, sz.mpwqe_max)
    _attach(st, cfg, pl.geoms[0], rx, 0)
    _attach_wqes(rx, pl.geoms[0])
    for table, arr in ((pl.ints, rx.rc), (pl.floats, rx.rf)):
        for k, v in table.items():
            arr[k] = v
    _fill_uninjected(st, rx, cfg)
    rx.conn[:, CN.queue] = pl.flow_queue
    rx.gro[:, GR.bucket] = pl.gro_bucket
    rx.conn[:, CN.rcvbuf] = pl.rcvbuf
    rx.conn[:, CN.rcvq_space] = pl.rcvq_space
    rx.conn[:, CN.rcv_edge] = pl.rcv_wnd
    rx.conn[:, CN.rcv_mss] = pl.rcv_mss
    rx.conn[:, CN.window_clamp] = pl.window_clamp
    rx.conn[:, CN.rcv_ssthresh] = pl.rcv_ssthresh
    rx.connf[:, CF.rcvq_time] = 0.0
    rx.connf[:, CF.trapped_at] = np.inf
    rx.connf[:, CF.lrcvtime] = -np.inf  # no data yet: the first is a gap (quick-ack mode)
    rx.conn[:, CN.app_cpu] = pl.app_cpu
    rx.prog[1] = NONE  # no TSO skb on the wire
    rx.next_read[0] = 0.0 if cfg.reader == "periodic" else np.inf  # readers woken by data read at no set time
    senders_init(rx, pl.rcv_wnd)
    st.glob[G.napi_cpus] = cfg.queues  # CPUs 0..queues-1 run the queues' NAPI; the rest read
    # the ptr_ring producer lock's hold; the lock is timed from the first packet (page_pool.ptr_ring_clock)
    st.glob[G.lock_hold_ps] = max(1, round(cfg.ptr_ring_hold_ns * 1000))
    return st, rx


def _fill_uninjected(st, rx, cfg):
    """fill_rings() without failure injection (a ring filled when its queue is created), then the
    configuration's rates: page_pool's own DMA mappings fail at the same rate from the first packet
    on (the engine's page_pool reads it from the state, as parts per 10**9)."""
    rx.rf[RF.alloc_fail_rate] = rx.rf[RF.dma_map_fail_rate] = 0.0
    st.glob[G.dma_fail_ppb] = 0
    fill_rings(st, rx)
    rx.rf[RF.alloc_fail_rate] = cfg.alloc_fail_rate
    rx.rf[RF.dma_map_fail_rate] = cfg.dma_map_fail_rate
    st.glob[G.dma_fail_ppb] = round(cfg.dma_map_fail_rate * 1e9)
    cyc = rx.qp[:, QP.mode] == Mode.cyc  # mlx5's RQs post WQEs, not Rx.ring's buffers
    mpw = rx.qp[:, QP.mode] == Mode.mpw  # the striding RQ's linked list keeps an entry in reserve
    if ((rx.ring[~(cyc | mpw)] == NONE).any() or (rx.qp[cyc, QP.wqes] < rx.ring.shape[1]).any()
            or (rx.qp[mpw, QP.wqes] < rx.qp[mpw, QP.wq_sz] - 1).any()):
        raise MemoryError("could not fill the RX rings")


def _reconfigure(st, rx, cfg, i, r, cur, t):
    """Reconfiguration ``i`` (``r``) at model time ``t`` from the current (mtu, xdp, geometry): the
    driver pre-allocates the new layout's buffers where it does (MANA: mana_change_mtu /
    mana_xdp_set), detaches the queues and attaches new ones, filled with those buffers or afresh;
    a refused layout or a failed pre-allocation keeps the old configuration. Returns the event
    record and the (mtu, xdp, geometry) now in force."""
    mtu = cur[0] if r.mtu is None else r.mtu
    xdp = cur[1] if r.xdp is None else r.xdp
    event = {"at_packet": r.at_packet, "t_us": float(t), "mtu": mtu, "xdp": xdp, "ok": False, "error": ""}
    try:
        g2 = cfg.geometry(mtu=mtu, xdp=xdp)
    except ValueError as e:  # e.g. XDP with an MTU above MANA_XDP_MTU_MAX: refused
        event["error"] = str(e)
        return event, cur
    pre_alloc = cfg.nic.pre_alloc
    bufs = pre_alloc(st, cfg, g2, r.fail) if pre_alloc is not None else ()
    if bufs is None:
        event["error"] = "Insufficient memory for tx/rx re-config: old configuration kept"
        check_invariants(st)
        return event, cur
    polls_complete(st, rx, t)  # the port stops: the last polls complete
    detach_queues(st, rx)
    _attach(st, cfg, g2, rx, _pools_per_config(cfg, geometries(cfg)) * (i + 1))
    _attach_wqes(rx, g2)
    rx.rc[RC.mtu] = mtu
    rx.rf[RF.xdp_pass:RF.xdp_redirect + 1] = _xdp_fractions(xdp)
    if pre_alloc is not None:
        rx.ring[:] = np.array(bufs, np.int64).reshape(cfg.queues, cfg.ring_size)
    else:
        _fill_uninjected(st, rx, cfg)
    event["ok"] = True
    check_invariants(st)
    return event, (mtu, xdp, g2)


SLICE_PACKETS = 1 << 20
"""Packets per call of the compiled loop, which holds the GIL: Python's signal handlers (Ctrl-C,
SIGTERM) run only between calls (issue 25). 0.1-0.25 s of work at the 4-12 M packets per second
measured from the default configuration to 65,536 connections read every µs, and ~50,000
instructions a call (0.05 a packet, BENCHMARKS.md). A count, not a time: a run's instructions then
do not depend on the machine's speed (benchmarks/bench_instructions.py)."""


def run_sliced(st, rx, t, stop):
    """``run(st, rx, t, stop)`` as calls of at most :data:`SLICE_PACKETS` packets: ``run`` carries
    its progress in ``rx.prog`` and ``rx.next_read`` (and the generator its state), so the slices
    give the same run as one call."""
    while rx.prog[0] < stop:
        t = run(st, rx, t, min(stop, rx.prog[0] + SLICE_PACKETS))
    return t


def run_all(st, rx, cfg, g):
    """Traffic until ``cfg.packets`` have been sent, stopping at each reconfiguration.
    Returns (model time in µs, the reconfiguration events, the geometry in force at the end)."""
    seed_rng(cfg.seed)
    t, events, cur = 0.0, [], (cfg.mtu, cfg.xdp, g)
    for i, r in enumerate(cfg.reconfigs):
        t = run_sliced(st, rx, t, r.at_packet)
        event, cur = _reconfigure(st, rx, cfg, i, r, cur, t)
        events.append(event)
    t = run_sliced(st, rx, t, cfg.packets)
    polls_complete(st, rx, t)  # traffic stops: every ring is empty
    check_invariants(st)
    return t, tuple(events), cur[2]


def finish(st, rx, cfg, g, t, events, before):
    """The Result, then teardown (as unloading the driver) and the check that nothing leaked."""
    inflight = st.pools[:, PL.hold_cnt] - st.pools[:, PL.release_cnt]
    cc = st.cc - before
    result = Result(config=cfg, geometry=g, counters=cc.sum(axis=0), counters_reader=cc[1].copy(),
                    qstats=rx.qstats.copy(),
                    conn=rx.conn.copy(), trapped_at=rx.connf[:, CF.trapped_at].copy(), samples=rx.samples[:rx.prog[2]].copy(), ratio_hist=rx.ratio_hist, t_us=float(t),
                    mem_used_end=int(st.glob[G.mem_used]), inflight_end=inflight, ack_ring_full=int(rx.evq[EV.ack_ring_full]),
                    page_bytes=cfg.page_size << g.order, events=events)
    teardown(st, rx)
    check_no_leak(st)
    return result


def simulate(config=None, **kw):
    """Run one configuration (a SimConfig, or its fields as keywords) and return a Result."""
    cfg = config.replace(**kw) if config is not None else SimConfig(**kw)
    if cfg.nic.engine:
        modelled = ", ".join(n for n, d in DRIVERS.items() if not d.engine)
        raise bad("driver", cfg.driver, f"a driver whose queue the engine simulates ({modelled}): {cfg.nic.engine}; "
                  f"rxlab geometry --driver {cfg.driver} gives its buffers")
    pl = plan(cfg)
    for g in pl.geoms:
        if why := cfg.nic.engine_refuses(g):
            raise bad("driver", cfg.driver, f"a layout whose queue the engine simulates: {why}; "
                      f"rxlab geometry --driver {cfg.driver} gives its buffers")
    st, rx = build(cfg, pl)
    before = st.cc.copy()  # the rings' first fill is not the run's
    t, events, g = run_all(st, rx, cfg, pl.geoms[0])
    result = finish(st, rx, cfg, g, t, events, before)
    compile_finished()  # a first use that compiled the engine: its progress bar is done
    return result
