"""The driver's receive queue: buffers posted to the device ring, refilled as completions take
them, and given back when the queue goes (drivers/net/ethernet/microsoft/mana/mana_en.c:
mana_get_rxfrag, mana_alloc_rx_wqe, mana_process_rx_cqe, mana_refill_rx_oob, mana_rx_skb,
mana_destroy_rxq). ``rx_cqe`` hands NAPI (rxlab.engine.napi) the buffer of a packet to build an skb
on (``rx_skb``), or a copy-break skb; XDP_TX and XDP_REDIRECT frames are held here until their
completion.

A queue of ``Mode.agg`` is bnxt_en's in normal mode (drivers/net/ethernet/broadcom/bnxt/bnxt.c):
heads on the RX ring, BNXT_RX_PAGE_SIZE buffers on the aggregation ring, head buffers held for TPA;
``bnxt_rx_pkt`` builds the whole skb (head and aggregation frags) itself.

A queue of ``Mode.cyc`` is mlx5's legacy cyclic RQ (drivers/net/ethernet/mellanox/mlx5/core/en_rx.c):
WQEs of fragment strides on page_pool pages the driver counts out itself (MLX5E_PAGECNT_BIAS_MAX
references a page, released when the ring comes round to it again), refilled in bulks at a poll's
end (``mlx5e_post_rx_wqes``); ``mlx5e_handle_rx_cqe`` builds the skb itself. The strides came with
069d11465a80 (4.18); the rest with one series of Linux 6.4 (<20230328205623.142075-1-saeed@kernel.org>):
the frag pages counted out of MLX5E_PAGECNT_BIAS_MAX with 6f5742846053 "net/mlx5e: RX, Enable skb
page recycling through the page_pool", the deferred release with 3f93f82988bc "net/mlx5e: RX, Defer
page release in legacy rq for better recycling", the bulk's size with 4ba2b4988c98 "net/mlx5e: RX,
Increase WQE bulk size for legacy rq" and the refill units with cd640b050368 "net/mlx5e: RX, Break
the wqe bulk refill in smaller chunks". A failed refill undoes its whole call since ef9369e9c308
"net/mlx5e: RX, Fix page_pool allocation failure recovery for legacy rq" (6.6, and 6.5 stable). The
code follows v6.19."""

import numpy as np

from rxlab.counters import Ctr
from rxlab.engine.dma import dma_map, dma_unmap
from rxlab.engine.jit import inner, ix, kernel
from rxlab.engine.layout import BF, FALSE, NONE, PF, PL, QP, QS, RC, RF, TRUE, WF, BufKind, G, Mode
from rxlab.engine.page_frag import frag_alloc
from rxlab.engine.page_pool import pool_destroy, pp_alloc_frag, pp_alloc_pages, pp_put_unrefed, pp_unref
from rxlab.engine.pages import STORE, touch
from rxlab.engine.skb import (
    _buf_forget,
    buf_new,
    buf_put,
    buf_put_process,
    skb_add_rx_frag,
    skb_alloc_copy,
    skb_build,
    skb_free,
    skb_mark_for_recycle,
)
from rxlab.kernel.sizes import ETH_HLEN


@kernel
def alloc_buf(st, rx, q):
    """mana_get_rxfrag(): a new RX buffer for queue ``q`` or NONE (the caller counts rx_alloc_fail).

    full: the page XDP_DROP kept (xdp_save_va) or page_pool_dev_alloc_pages(), then
    dma_map_single(datasize); frag: page_pool_dev_alloc_frag(), already mapped by the
    pool; pfc: napi_alloc_frag() and dma_map_single().
    """
    qp, qstats, rf = rx.qp, rx.qstats, rx.rf
    p = qp[ix(q)]
    cpu = p[QP.napi_cpu]
    if rf[RF.alloc_fail_rate] > 0.0 and np.random.random() < rf[RF.alloc_fail_rate]:
        qstats[ix(q), QS.alloc_fail_injected] += 1
        return NONE
    mode = p[QP.mode]
    if mode == Mode.frag:
        pid, off = pp_alloc_frag(st, p[QP.pool], p[QP.alloc_size], p[QP.align], cpu)
        if pid == NONE:
            return NONE
        return buf_new(st, pid, off, p[QP.alloc_size], BufKind.pp_frag, q)
    if mode == Mode.full:
        if p[QP.save] != NONE:
            b = p[QP.save]
            p[QP.save] = NONE
            st.c[Ctr.xdp_save_reuse] += 1
        else:
            pid = pp_alloc_pages(st, p[QP.pool], cpu)
            if pid == NONE:
                return NONE
            size = st.glob[G.page_size] << st.pools[ix(p[QP.pool]), PL.order]
            b = buf_new(st, pid, np.int64(0), size, BufKind.pp_page, q)
    else:
        pid, off = frag_alloc(st, cpu, p[QP.alloc_size])
        if pid == NONE:
            return NONE
        b = buf_new(st, pid, off, p[QP.alloc_size], BufKind.page, q)
    if rf[RF.dma_map_fail_rate] > 0.0 and np.random.random() < rf[RF.dma_map_fail_rate]:
        # dma_mapping_error(): mana_put_rx_page()
        qstats[ix(q), QS.dma_map_fail_injected] += 1
        st.c[Ctr.dma_map_fail] += 1
        buf_put(st, b, cpu, FALSE)
        return NONE
    dma_map(st, p[QP.datasize])
    return b


@inner
def bnxt_alloc(st, rx, q, pool, size):
    """bnxt_en's page_pool memory for queue ``q``, or NONE (the caller counts rx_alloc_fail):
    __bnxt_alloc_rx_frag() (page_pool_alloc_frag of rx_buf_size from the head pool) for a head,
    __bnxt_alloc_rx_netmem() for an aggregation buffer: a whole page where BNXT_RX_PAGE_SIZE is
    PAGE_SIZE (page_pool_alloc_netmems), else a BNXT_RX_PAGE_SIZE fragment of it. The pool maps
    both (PP_FLAG_DMA_MAP, bnxt_alloc_rx_page_pool), so they are recorded as pool-mapped fragments."""
    p = rx.qp[ix(q)]
    cpu = p[QP.napi_cpu]
    if rx.rf[RF.alloc_fail_rate] > 0.0 and np.random.random() < rx.rf[RF.alloc_fail_rate]:
        rx.qstats[ix(q), QS.alloc_fail_injected] += 1
        return NONE
    if size < st.glob[G.page_size]:
        pid, off = pp_alloc_frag(st, pool, size, p[QP.align], cpu)
    else:
        pid, off = pp_alloc_pages(st, pool, cpu), np.int64(0)
    if pid == NONE:
        return NONE
    return buf_new(st, pid, off, size, BufKind.pp_frag, q)


@kernel
def fill_rings(st, rx):
    """mana_alloc_rx_wqe() for every slot of every queue, queue by queue: the rings' first fill
    (a slot left NONE when no buffer could be had). One call: 16 K calls from Python each
    unboxed the State and Rx (~5 us a call), a tenth of a 20 M-packet run. A bnxt queue
    (bnxt_alloc_one_rx_ring): the RX ring's heads, then the aggregation ring, then the TPA heads
    (bnxt_alloc_one_tpa_info_data)."""
    ring = rx.ring
    for q in range(ring.shape[0]):
        p = rx.qp[q]
        if p[QP.mode] == Mode.agg:
            for i in range(ring.shape[1]):
                ring[q, i] = bnxt_alloc(st, rx, q, p[QP.head_pool], p[QP.alloc_size])
            for i in range(p[QP.agg_ring]):
                rx.agg[q, i] = bnxt_alloc(st, rx, q, p[QP.pool], p[QP.agg_size])
            for i in range(p[QP.tpa]):
                rx.tpa[q, i] = bnxt_alloc(st, rx, q, p[QP.head_pool], p[QP.alloc_size])
            continue
        if p[QP.mode] == Mode.cyc:  # mlx5e_activate_rq(): the first poll posts the whole ring
            mlx5e_post_rx_wqes(st, rx, q)
            continue
        for i in range(ring.shape[1]):
            ring[q, i] = alloc_buf(st, rx, q)


@inner
def release_holds(st, rx, q, t):
    """XDP_TX / XDP_REDIRECT completions due by ``t``: the frame's page goes back to its pool
    from the queue's NAPI CPU (xdp_return_frame)."""
    qp, hold_buf, hold_t = rx.qp, rx.hold_buf, rx.hold_t
    p = qp[ix(q)]
    cap = hold_buf.shape[1]
    while p[QP.hold_count] > 0 and hold_t[ix(q), ix(p[QP.hold_head])] <= t:
        buf_put(st, hold_buf[ix(q), ix(p[QP.hold_head])], p[QP.napi_cpu], FALSE)
        p[QP.hold_head] = p[QP.hold_head] + 1 if p[QP.hold_head] + 1 < cap else 0
        p[QP.hold_count] -= 1


@inner
def _hold(st, rx, q, b, until):
    qp, hold_buf, hold_t = rx.qp, rx.hold_buf, rx.hold_t
    p = qp[ix(q)]
    cap = hold_buf.shape[1]
    if p[QP.hold_count] == cap:  # the oldest completes early rather than lose a buffer
        release_holds(st, rx, q, hold_t[ix(q), ix(p[QP.hold_head])])
    i = p[QP.hold_head] + p[QP.hold_count]
    if i >= cap:
        i -= cap
    hold_buf[ix(q), ix(i)] = b
    hold_t[ix(q), ix(i)] = until
    p[QP.hold_count] += 1


@inner
def _agg_advance(p, n):
    """The aggregation ring's consumer moves past ``n`` buffers (reposted in place: the ring is
    always full, so the producer's slot is the one the consumer left)."""
    if n > 0:
        p[QP.agg_head] = (p[QP.agg_head] + n) % p[QP.agg_ring]


@inner
def bnxt_rx_pkt(st, rx, q, length):
    """bnxt_rx_pkt() for an L2 completion of a ``length``-byte frame on bnxt queue ``q``; returns the
    skb, or NONE when the frame is dropped (rx_oom_discards: rx_alloc_fail here).

    Where the frame lands: with header-data split (the VNIC's hds_threshold) a frame above the
    threshold puts its headers in the RX-ring head and the rest in aggregation buffers; otherwise the
    head takes up to rx_buf_use_size bytes (the jumbo threshold) and the rest goes to aggregation
    buffers of BNXT_RX_PAGE_SIZE each. A head of at most rx_copybreak bytes is copied (bnxt_copy_skb:
    napi_alloc_skb) and the buffer reposted (bnxt_reuse_rx_data); a longer one gets a new buffer
    first (bnxt_alloc_rx_data; on failure the old one is reposted and the frame dropped) and the skb
    is built on it (bnxt_rx_skb: napi_build_skb(data, rx_buf_size)). Each aggregation buffer is
    replaced (bnxt_alloc_rx_netmem) and becomes a frag charged BNXT_RX_PAGE_SIZE
    (__bnxt_rx_agg_netmems); if a replacement fails, it and the rest are reposted
    (bnxt_reuse_rx_agg_bufs) and the skb is freed. A frame dropped before its aggregation buffers
    are taken reposts them too (the error path's bnxt_reuse_rx_agg_bufs; rxlab's skb_table_full)."""
    qp, qstats, rc, ring, agg = rx.qp, rx.qstats, rx.rc, rx.ring, rx.agg
    p = qp[ix(q)]
    cpu = p[QP.napi_cpu]
    head = p[QP.ring_head]
    b = ring[ix(q), ix(head)]
    p[QP.ring_head] = head + 1 if head + 1 < ring.shape[1] else 0
    frame = length + ETH_HLEN  # the device's length counts the Ethernet header; the skb's, after it
    if p[QP.hds_thresh] >= 0 and frame > p[QP.hds_thresh]:
        head_len = min(p[QP.header_len], frame)
    else:
        head_len = min(frame, p[QP.buf_use_size])
    rest = frame - head_len
    agg_bufs = (rest + p[QP.agg_size] - 1) // p[QP.agg_size] if rest > 0 else 0
    if head_len <= p[QP.copybreak]:
        if st.glob[G.skb_top] == 0:
            qstats[ix(q), QS.skb_table_full] += 1
            _agg_advance(p, agg_bufs)
            return NONE
        aligned = (head_len + 63) // 64 * 64
        small = head_len <= rc[RC.small_head]
        truesize = p[QP.small_truesize] if small else aligned + rc[RC.copy_truesize_extra]
        s = skb_alloc_copy(st, cpu, head_len - ETH_HLEN, aligned + rc[RC.copy_head], truesize, small)
        if s == NONE:
            qstats[ix(q), QS.rx_alloc_fail] += 1
            _agg_advance(p, agg_bufs)
            return NONE
        qstats[ix(q), QS.copybreak] += 1
    else:
        nb = bnxt_alloc(st, rx, q, p[QP.head_pool], p[QP.alloc_size])
        if nb == NONE:
            qstats[ix(q), QS.rx_alloc_fail] += 1
            ring[ix(q), ix(head)] = b
            _agg_advance(p, agg_bufs)
            return NONE
        ring[ix(q), ix(head)] = nb
        s = skb_build(st, b, rx_truesize(rx, q), head_len - ETH_HLEN)
        if s == NONE:
            qstats[ix(q), QS.skb_table_full] += 1
            buf_put(st, b, cpu, TRUE)  # page_pool_free_va(rxr->head_pool, data, true)
            _agg_advance(p, agg_bufs)
            return NONE
    if agg_bufs:
        skb_mark_for_recycle(st, s)
    for i in range(agg_bufs):
        j = p[QP.agg_head]
        nb = bnxt_alloc(st, rx, q, p[QP.pool], p[QP.agg_size])
        if nb == NONE:
            qstats[ix(q), QS.rx_alloc_fail] += 1
            _agg_advance(p, agg_bufs - i)
            skb_free(st, s, cpu, TRUE)
            return NONE
        ab = agg[ix(q), ix(j)]
        agg[ix(q), ix(j)] = nb
        _agg_advance(p, 1)
        skb_add_rx_frag(st, s, ab, min(rest, p[QP.agg_size]), p[QP.agg_size])
        rest -= p[QP.agg_size]
    return s


@inner
def rx_cqe(st, rx, q, length, t):
    """One completion on queue ``q``: mana_process_rx_cqe() -> mana_refill_rx_oob() (refill
    before the packet goes up; on failure drop it and repost the old buffer) ->
    mana_rx_skb() (XDP verdict). Returns (skb, buffer): a copy-break skb and NONE; or NONE and the
    buffer of a packet XDP passed, for the caller to build its skb on (``rx_skb``, or GRO merges it
    at once: rxlab.engine.gro.napi_gro_receive_head); or (NONE, NONE) when the packet is gone."""
    qp, qstats, rc, rf, ring = rx.qp, rx.qstats, rx.rc, rx.rf, rx.ring
    p = qp[ix(q)]
    cpu = p[QP.napi_cpu]
    qstats[ix(q), QS.rx_packets] += 1
    qstats[ix(q), QS.rx_bytes] += length
    if p[QP.napi_left] == 0:  # a new poll takes up to napi_budget packets
        qstats[ix(q), QS.napi_polls] += 1
        # net_rx_action() -> skb_defer_free_flush(): the count restarts (rxlab frees a deferred
        # skb on this CPU when app_read defers it, not here: see the README's simplifications)
        p[QP.defer_count] = 0
        p[QP.napi_left] = rc[RC.napi_budget]
    p[QP.napi_left] -= 1
    release_holds(st, rx, q, t)
    if p[QP.mode] == Mode.agg:
        return bnxt_rx_pkt(st, rx, q, length), NONE
    if p[QP.mode] == Mode.cyc:
        s = mlx5e_handle_rx_cqe(st, rx, q, length, t)
        if p[QP.napi_left] == 0:  # the poll's last completion: mlx5e_napi_poll() posts WQEs after its CQEs
            mlx5e_post_rx_wqes(st, rx, q)
        return s, NONE
    head = p[QP.ring_head]
    b = ring[ix(q), ix(head)]
    p[QP.ring_head] = head + 1 if head + 1 < ring.shape[1] else 0
    if rc[RC.copybreak] and length <= rc[RC.copybreak] and not p[QP.xdp]:
        # copy-break: copy into a napi_alloc_skb() head, repost the same buffer
        ring[ix(q), ix(head)] = b
        aligned = (length + 63) // 64 * 64
        if st.glob[G.skb_top] == 0:
            qstats[ix(q), QS.skb_table_full] += 1
            return NONE, NONE
        truesize = aligned + rc[RC.copy_truesize_extra]
        s = skb_alloc_copy(st, cpu, length, aligned + rc[RC.copy_head], truesize, length <= rc[RC.small_head])
        if s == NONE:
            qstats[ix(q), QS.rx_alloc_fail] += 1
            return NONE, NONE
        qstats[ix(q), QS.copybreak] += 1
        return s, NONE
    nb = alloc_buf(st, rx, q)
    if nb == NONE:
        qstats[ix(q), QS.rx_alloc_fail] += 1
        ring[ix(q), ix(head)] = b
        return NONE, NONE
    ring[ix(q), ix(head)] = nb
    if st.bufs[ix(b), BF.kind] != BufKind.pp_frag:
        # mana_refill_rx_oob(): "if (!rxoob->from_pool || rxq->frag_count == 1)" unmap the old one
        dma_unmap(st)
    if p[QP.xdp]:
        r = np.random.random()
        if r < rf[RF.xdp_pass]:
            qstats[ix(q), QS.xdp_pass] += 1
        elif r < rf[RF.xdp_pass] + rf[RF.xdp_drop]:
            qstats[ix(q), QS.xdp_drop] += 1
            if st.bufs[ix(b), BF.kind] == BufKind.page and p[QP.save] == NONE:
                p[QP.save] = b
            else:
                buf_put(st, b, cpu, TRUE)
            return NONE, NONE
        else:
            if r < rf[RF.xdp_pass] + rf[RF.xdp_drop] + rf[RF.xdp_tx]:
                qstats[ix(q), QS.xdp_tx] += 1
            else:
                qstats[ix(q), QS.xdp_redirect] += 1
            _hold(st, rx, q, b, t + rf[RF.xdp_hold_us])
            return NONE, NONE
    return NONE, b


@inner
def rx_truesize(rx, q):
    """The skb->truesize queue ``q``'s driver reports for a packet (or, honest, what it pins)."""
    p = rx.qp[ix(q)]
    return p[QP.truesize_pinned] if rx.rc[RC.honest] else p[QP.truesize]


@inner
def rx_skb(st, rx, q, b, length):
    """mana_rx_skb() -> napi_build_skb() on buffer ``b`` of a ``length``-byte packet; NONE, the packet
    dropped, if the skb table is full."""
    s = skb_build(st, b, rx_truesize(rx, q), length)
    if s == NONE:
        rx.qstats[ix(q), QS.skb_table_full] += 1
        buf_put(st, b, rx.qp[ix(q), QP.napi_cpu], TRUE)
    return s


@inner
def _bnxt_free_rx_skbs(st, rx, q, cpu):
    """bnxt_free_rx_skbs() and bnxt_free_rx_rings() for bnxt queue ``q``: the TPA heads
    (bnxt_free_one_tpa_info_data: page_pool_free_va(head_pool, data, false)), the RX ring's heads
    (page_pool_free_va(head_pool, data, true)) and the aggregation ring's buffers
    (page_pool_recycle_direct_netmem), then page_pool_destroy() of the pool and of a separate
    head pool."""
    p = rx.qp[ix(q)]
    for i in range(p[QP.tpa]):
        buf_put(st, rx.tpa[ix(q), i], cpu, FALSE)
        rx.tpa[ix(q), i] = NONE
    for i in range(rx.ring.shape[1]):
        buf_put(st, rx.ring[ix(q), i], cpu, TRUE)
        rx.ring[ix(q), i] = NONE
    for i in range(p[QP.agg_ring]):
        buf_put(st, rx.agg[ix(q), i], cpu, TRUE)
        rx.agg[ix(q), i] = NONE
    pool_destroy(st, p[QP.pool], cpu)
    if p[QP.head_pool] != p[QP.pool]:
        pool_destroy(st, p[QP.head_pool], cpu)


@kernel
def detach_queues(st, rx):
    """mana_destroy_rxq() on every queue (drivers/net/ethernet/microsoft/mana/mana_en.c): XDP frames
    complete, posted buffers go back (DMA unmapped unless pool-mapped fragments; full pages from
    process context, so through the ptr_ring), and page_pool_destroy() runs; a pool whose pages
    are still in sockets retires when the last one comes back. The caller completed the last
    polls first (polls_complete: GRO holds nothing)."""
    qp, rc, ring = rx.qp, rx.rc, rx.ring
    for q in range(rc[RC.queues]):
        release_holds(st, rx, q, np.inf)
        cpu = qp[q, QP.napi_cpu]
        if qp[q, QP.mode] == Mode.agg:
            _bnxt_free_rx_skbs(st, rx, q, cpu)
            continue
        if qp[q, QP.mode] == Mode.cyc:
            mlx5e_free_rx_descs(st, rx, q)
            pool_destroy(st, qp[q, QP.pool], cpu)
            continue
        for i in range(ring.shape[1]):
            b = ring[q, i]
            if st.bufs[b, BF.kind] == BufKind.pp_frag:
                buf_put(st, b, cpu, TRUE)  # page_pool_free_va(pool, va, true)
            else:
                dma_unmap(st)
                buf_put_process(st, b, cpu)
            ring[q, i] = NONE
        if qp[q, QP.save] != NONE:
            buf_put(st, qp[q, QP.save], cpu, FALSE)
            qp[q, QP.save] = NONE
        pool_destroy(st, qp[q, QP.pool], cpu)


# -- mlx5's legacy cyclic RQ (drivers/net/ethernet/mellanox/mlx5/core/en_rx.c, Linux v6.19) ------------

@inner
def _frag_page_alloc(st, rx, q, slot):
    """mlx5e_page_alloc_fragmented(): page_pool_dev_alloc_netmems(), then page_pool_fragment_netmem(
    netmem, MLX5E_PAGECNT_BIAS_MAX = PAGE_SIZE / 64) and frags = 0: the driver holds that many pp
    references (its frag_page buffer). FALSE on failure (injected at alloc_fail_rate, as any refill)."""
    p = rx.qp[ix(q)]
    cpu = p[QP.napi_cpu]
    if rx.rf[RF.alloc_fail_rate] > 0.0 and np.random.random() < rx.rf[RF.alloc_fail_rate]:
        rx.qstats[ix(q), QS.alloc_fail_injected] += 1
        return FALSE
    pid = pp_alloc_pages(st, p[QP.pool], cpu)
    if pid == NONE:
        return FALSE
    bias = st.glob[G.page_size] // 64
    st.pages[ix(pid), PF.ppref] = bias  # atomic_long_set()
    touch(st, pid, cpu, STORE)
    rx.frag_pages[ix(q), ix(slot)] = buf_new(st, pid, np.int64(0), bias, BufKind.frag_page, q)
    return TRUE


@inner
def _frag_page_release(st, rx, q, slot):
    """mlx5e_page_release_fragmented(): page_pool_unref_netmem(netmem, MLX5E_PAGECNT_BIAS_MAX -
    frags), the references never handed out; if none is left elsewhere, page_pool_put_unrefed_netmem(
    pp, netmem, -1, true) recycles the page into the alloc cache."""
    fb = rx.frag_pages[ix(q), ix(slot)]
    rx.frag_pages[ix(q), ix(slot)] = NONE
    pid = st.bufs[ix(fb), BF.page]
    drain = st.bufs[ix(fb), BF.size]
    _buf_forget(st, fb)
    st.pages[ix(pid), PF.users] -= 1
    cpu = rx.qp[ix(q), QP.napi_cpu]
    if pp_unref(st, pid, drain, cpu, TRUE) == 0:
        pp_put_unrefed(st, st.pages[ix(pid), PF.pool], pid, cpu, TRUE, TRUE, -1)


@inner
def _frag_take(st, rx, q, f):
    """frag_page->frags++ for fragment row ``f``: one of the driver's references moves to whoever
    takes the stride (an skb, an XDP frame), as a buffer on it."""
    fr = rx.wqe_frags[ix(q), ix(f)]
    fb = rx.frag_pages[ix(q), ix(fr[WF.slot])]
    st.bufs[ix(fb), BF.size] -= 1
    return buf_new(st, st.bufs[ix(fb), BF.page], fr[WF.offset], fr[WF.stride], BufKind.pp_frag, q)


@inner
def _put_rx_frag(st, rx, q, f):
    """mlx5e_put_rx_frag(): a fragment flagged LAST_IN_PAGE and not SKIP_RELEASE releases its page."""
    fr = rx.wqe_frags[ix(q), ix(f)]
    if fr[WF.last] and not fr[WF.skip]:
        _frag_page_release(st, rx, q, fr[WF.slot])


@inner
def _free_rx_wqes(st, rx, q, i, n):
    """mlx5e_free_rx_wqes(): mlx5e_free_rx_wqe() of ``n`` WQEs from ring index ``i``."""
    W = rx.ring.shape[1]
    nf = rx.qp[ix(q), QP.num_frags]
    for k in range(n):
        w = (i + k) % W
        for j in range(nf):
            _put_rx_frag(st, rx, q, w * nf + j)


@inner
def _alloc_rx_wqes(st, rx, q, i, n):
    """mlx5e_alloc_rx_wqes(): mlx5e_alloc_rx_wqe() of up to ``n`` WQEs from ring index ``i``, each
    fragment at offset 0 taking a new page for those that share it (mlx5e_get_rx_frag) and losing
    SKIP_RELEASE; a WQE that fails puts back its own fragments and stops the bulk. Returns the WQEs
    allocated."""
    W = rx.ring.shape[1]
    nf = rx.qp[ix(q), QP.num_frags]
    for k in range(n):
        f0 = (i + k) % W * nf
        for j in range(nf):
            fr = rx.wqe_frags[ix(q), ix(f0 + j)]
            if fr[WF.offset] == 0 and not _frag_page_alloc(st, rx, q, fr[WF.slot]):
                for jj in range(j - 1, -1, -1):
                    _put_rx_frag(st, rx, q, f0 + jj)
                return k
            fr[WF.skip] = 0
    return n


@inner
def _refill_rx_wqes(st, rx, q, i, bulk):
    """mlx5e_refill_rx_wqes(): ``bulk`` WQEs from ring index ``i`` in refill units, each first
    releasing the pages the WQEs' last use left (deferred release), then allocating. A failure
    releases every page allocated in the call and flags the WQEs SKIP_RELEASE: nothing is posted.
    Returns the WQEs posted."""
    p = rx.qp[ix(q)]
    W = rx.ring.shape[1]
    nf = p[QP.num_frags]
    remaining, total = bulk, 0
    while remaining > 0:
        refill = min(p[QP.refill_unit], remaining)
        _free_rx_wqes(st, rx, q, i + total, refill)
        got = _alloc_rx_wqes(st, rx, q, i + total, refill)
        if got != refill:
            _free_rx_wqes(st, rx, q, i, total + got)
            for k in range(total + refill):
                f0 = (i + k) % W * nf
                for j in range(nf):
                    rx.wqe_frags[ix(q), ix(f0 + j), WF.skip] = 1
            return 0
        total += got
        remaining -= refill
    return total


@kernel
def mlx5e_post_rx_wqes(st, rx, q):
    """mlx5e_post_rx_wqes(): once at least wqe_bulk WQEs are missing, refill all that are, less those
    that would end inside a page older WQEs still use ((head + bulk) & wqe_index_mask). A refill that
    falls short posts nothing (rq->stats->buff_alloc_err, no drop yet: rxlab counts the packets the
    device then finds no WQE for, in mlx5e_handle_rx_cqe)."""
    p = rx.qp[ix(q)]
    W = rx.ring.shape[1]
    missing = W - p[QP.wqes]
    if missing < p[QP.wqe_bulk]:
        return
    head = (p[QP.ring_head] + p[QP.wqes]) % W
    bulk = missing - ((head + missing) & p[QP.wqe_index_mask])
    p[QP.wqes] += _refill_rx_wqes(st, rx, q, head, bulk)


@inner
def mlx5e_handle_rx_cqe(st, rx, q, length, t):
    """mlx5e_handle_rx_cqe() for a ``length``-byte packet on mlx5 queue ``q``: the WQE at the ring's
    consumer carries it (the CQE's byte count has the Ethernet header too); returns the skb, or NONE.

    Linear (mlx5e_skb_from_cqe_linear): the XDP program's verdict first (XDP_DROP leaves the stride
    with the driver; XDP_TX and XDP_REDIRECT take it, frags++, until completion), then
    napi_build_skb(va, MLX5_SKB_FRAG_SZ(headroom + cqe_bcnt)), marked for recycling, frags++.
    Non-linear (mlx5e_skb_from_cqe_nonlinear): the first fragment's stride is the head
    (napi_build_skb(va, frame0_sz)), each further one the frame reaches a frag charged its stride,
    frags++ on each page. When napi_build_skb() fails (rxlab: the skb table is full) the frame is
    dropped and its strides stay with the driver. No WQE posted (refills failed, or fell behind a
    poll): the device drops the packet (its rx_out_of_buffer; rx_alloc_fail here)."""
    p = rx.qp[ix(q)]
    W = rx.ring.shape[1]
    if p[QP.wqes] == 0:
        rx.qstats[ix(q), QS.rx_alloc_fail] += 1
        return NONE
    w = p[QP.ring_head]
    p[QP.ring_head] = w + 1 if w + 1 < W else 0
    p[QP.wqes] -= 1  # mlx5_wq_cyc_pop(): the pages stay with the driver until the WQE is refilled
    f0 = w * p[QP.num_frags]
    bcnt = length + ETH_HLEN
    if p[QP.xdp]:
        r = np.random.random()
        if r < rx.rf[RF.xdp_pass]:
            rx.qstats[ix(q), QS.xdp_pass] += 1
        elif r < rx.rf[RF.xdp_pass] + rx.rf[RF.xdp_drop]:
            rx.qstats[ix(q), QS.xdp_drop] += 1
            return NONE
        else:
            if r < rx.rf[RF.xdp_pass] + rx.rf[RF.xdp_drop] + rx.rf[RF.xdp_tx]:
                rx.qstats[ix(q), QS.xdp_tx] += 1
            else:
                rx.qstats[ix(q), QS.xdp_redirect] += 1
            _hold(st, rx, q, _frag_take(st, rx, q, f0), t + rx.rf[RF.xdp_hold_us])
            return NONE
    if st.glob[G.skb_top] == 0 or st.glob[G.data_top] == 0:
        rx.qstats[ix(q), QS.skb_table_full] += 1
        return NONE
    sk_buff = rx.rc[RC.sizeof_sk_buff]
    if p[QP.num_frags] == 1:
        if rx.rc[RC.honest]:
            truesize = p[QP.truesize_pinned]
        else:  # build_skb's SKB_TRUESIZE of MLX5_SKB_FRAG_SZ(headroom + cqe_bcnt)
            a = p[QP.smp_cache]
            truesize = (p[QP.headroom] + bcnt + a - 1) // a * a + p[QP.shinfo] + sk_buff
        return skb_build(st, _frag_take(st, rx, q, f0), truesize, length)
    fr = rx.wqe_frags[ix(q), ix(f0)]
    left = bcnt - min(fr[WF.size], bcnt)
    s = skb_build(st, _frag_take(st, rx, q, f0), fr[WF.stride] + sk_buff, bcnt - left - ETH_HLEN)
    f = f0 + 1
    while left > 0:
        fr = rx.wqe_frags[ix(q), ix(f)]
        n = min(fr[WF.size], left)
        skb_add_rx_frag(st, s, _frag_take(st, rx, q, f), n, fr[WF.stride])
        left -= n
        f += 1
    return s


@inner
def mlx5e_free_rx_descs(st, rx, q):
    """mlx5e_free_rx_descs() for the legacy RQ: every WQE from the consumer on, posted or missing
    ("missing slots might also contain unreleased pages due to deferred release"), releases its
    pages (mlx5e_dealloc_rx_wqe) and is flagged SKIP_RELEASE."""
    p = rx.qp[ix(q)]
    W = rx.ring.shape[1]
    nf = p[QP.num_frags]
    for k in range(W):
        f0 = (p[QP.ring_head] + k) % W * nf
        for j in range(nf):
            _put_rx_frag(st, rx, q, f0 + j)
            rx.wqe_frags[ix(q), ix(f0 + j), WF.skip] = 1
    p[QP.wqes] = 0


@inner
def rxq_poll_end(st, rx, q):
    """What the driver does as queue ``q``'s poll ends, before napi_complete_done() flushes GRO:
    mlx5's posts WQEs (mlx5e_napi_poll -> mlx5e_post_rx_wqes); the others refill per packet."""
    if rx.qp[ix(q), QP.mode] == Mode.cyc:
        mlx5e_post_rx_wqes(st, rx, q)
