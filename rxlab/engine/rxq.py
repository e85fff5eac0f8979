"""The driver's receive queue: buffers posted to the device ring, refilled as completions take
them, and given back when the queue goes (drivers/net/ethernet/microsoft/mana/mana_en.c:
mana_get_rxfrag, mana_alloc_rx_wqe, mana_process_rx_cqe, mana_refill_rx_oob, mana_rx_skb,
mana_destroy_rxq). ``rx_cqe`` hands NAPI (rxlab.engine.napi) the buffer of a packet to build an skb
on (``rx_skb``), or a copy-break skb; XDP_TX and XDP_REDIRECT frames are held here until their
completion."""

import numpy as np

from rxlab.counters import Ctr
from rxlab.engine.dma import dma_map, dma_unmap
from rxlab.engine.jit import inner, ix, kernel
from rxlab.engine.layout import BF, FALSE, NONE, PL, QP, QS, RC, RF, TRUE, BufKind, G, Mode
from rxlab.engine.page_frag import frag_alloc
from rxlab.engine.page_pool import pool_destroy, pp_alloc_frag, pp_alloc_pages
from rxlab.engine.skb import buf_new, buf_put, buf_put_process, skb_alloc_copy, skb_build


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


@kernel
def fill_rings(st, rx):
    """mana_alloc_rx_wqe() for every slot of every queue, queue by queue: the rings' first fill
    (a slot left NONE when no buffer could be had). One call: 16 K calls from Python each
    unboxed the State and Rx (~5 us a call), a tenth of a 20 M-packet run."""
    ring = rx.ring
    for q in range(ring.shape[0]):
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

