"""MANA's receive queue (drivers/net/ethernet/microsoft/mana/mana_en.c): buffers posted to the device
ring (mana_get_rxfrag, mana_alloc_rx_wqe), refilled as completions take them (mana_process_rx_cqe,
mana_refill_rx_oob), the packet built on its buffer (mana_rx_skb), and given back when the queue
goes (mana_destroy_rxq). A queue of ``Mode.frag`` takes page_pool fragments, ``Mode.full`` whole
page_pool pages, ``Mode.pfc`` napi_alloc_frag() memory."""

import numpy as np

from rxlab.counters import Ctr
from rxlab.engine.dma import dma_map, dma_unmap
from rxlab.engine.jit import inner, ix, kernel
from rxlab.engine.layout import BF, FALSE, NONE, PL, QP, QS, RC, RF, TRUE, BufKind, G, Mode
from rxlab.engine.page_frag import frag_alloc
from rxlab.engine.page_pool import pool_destroy, pp_alloc_frag, pp_alloc_pages
from rxlab.engine.rxq_shared import (
    XDP_DROP,
    XDP_PASS,
    rx_ring_pop,
    rx_truesize,
    xdp_hold,
    xdp_verdict,
)
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


@inner
def mana_alloc_rx_wqes(st, rx, q):
    """mana_alloc_rx_wqe() for every slot of queue ``q``: the ring's first fill (a slot left NONE
    when no buffer could be had)."""
    for i in range(rx.ring.shape[1]):
        rx.ring[q, i] = alloc_buf(st, rx, q)


@inner
def mana_process_rx_cqe(st, rx, q, length, t):
    """mana_process_rx_cqe() -> mana_refill_rx_oob() (refill before the packet goes up; on failure
    drop it and repost the old buffer) -> mana_rx_skb() (XDP verdict). Returns (skb, buffer): a
    copy-break skb and NONE; or NONE and the buffer of a packet XDP passed, for the caller to build
    its skb on (``rx_skb``, or GRO merges it at once: rxlab.engine.gro.napi_gro_receive_head); or
    (NONE, NONE) when the packet is gone."""
    qp, qstats, rc, rf, ring = rx.qp, rx.qstats, rx.rc, rx.rf, rx.ring
    p = qp[ix(q)]
    cpu = p[QP.napi_cpu]
    head, b = rx_ring_pop(rx, q)
    if rc[RC.copybreak] and length <= rc[RC.copybreak] and not p[QP.xdp]:
        # copy-break: copy into a napi_alloc_skb() head, repost the same buffer
        ring[ix(q), ix(head)] = b
        aligned = (length + 63) // 64 * 64
        if st.glob[G.skb_top] == 0:
            qstats[ix(q), QS.skb_table_full] += 1
            return NONE, NONE
        truesize = aligned + rc[RC.copy_truesize_extra]
        s = skb_alloc_copy(st, cpu, length, aligned + rc[RC.copy_head], truesize,
                           np.int64(length <= rc[RC.small_head]))
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
        verdict = xdp_verdict(rx, q)
        if verdict == XDP_DROP:
            if st.bufs[ix(b), BF.kind] == BufKind.page and p[QP.save] == NONE:
                p[QP.save] = b
            else:
                buf_put(st, b, cpu, TRUE)
            return NONE, NONE
        if verdict != XDP_PASS:
            xdp_hold(st, rx, q, b, t + rf[RF.xdp_hold_us])
            return NONE, NONE
    return NONE, b


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
def mana_destroy_rxq(st, rx, q, cpu):
    """mana_destroy_rxq() for queue ``q``: posted buffers go back (DMA unmapped unless pool-mapped
    fragments; full pages from process context, so through the ptr_ring), the page XDP_DROP kept
    too, and page_pool_destroy() runs."""
    qp, ring = rx.qp, rx.ring
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
