"""bnxt_en's receive queue in normal mode (drivers/net/ethernet/broadcom/bnxt/bnxt.c), ``Mode.agg``:
heads on the RX ring, BNXT_RX_PAGE_SIZE buffers on the aggregation ring, head buffers held for TPA;
``bnxt_rx_pkt`` builds the whole skb (head and aggregation frags) itself."""

import numpy as np

from rxlab.engine.jit import inner, ix
from rxlab.engine.layout import FALSE, NONE, QP, QS, RC, RF, TRUE, BufKind, G
from rxlab.engine.page_pool import pool_destroy, pp_alloc_frag, pp_alloc_pages
from rxlab.engine.rxq_shared import rx_truesize
from rxlab.engine.skb import (
    buf_new,
    buf_put,
    skb_add_rx_frag,
    skb_alloc_copy,
    skb_build,
    skb_free,
    skb_mark_for_recycle,
)
from rxlab.kernel.sizes import ETH_HLEN


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


@inner
def bnxt_alloc_one_rx_ring(st, rx, q):
    """bnxt_alloc_one_rx_ring(): the RX ring's heads, then the aggregation ring, then the TPA heads
    (bnxt_alloc_one_tpa_info_data)."""
    ring, p = rx.ring, rx.qp[q]
    for i in range(ring.shape[1]):
        ring[q, i] = bnxt_alloc(st, rx, q, p[QP.head_pool], p[QP.alloc_size])
    for i in range(p[QP.agg_ring]):
        rx.agg[q, i] = bnxt_alloc(st, rx, q, p[QP.pool], p[QP.agg_size])
    for i in range(p[QP.tpa]):
        rx.tpa[q, i] = bnxt_alloc(st, rx, q, p[QP.head_pool], p[QP.alloc_size])


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
def bnxt_free_rx_skbs(st, rx, q, cpu):
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
