"""bnxt_en's receive queue (drivers/net/ethernet/broadcom/bnxt/bnxt.c, bnxt_xdp.c). Normal mode,
``Mode.agg``: heads on the RX ring, BNXT_RX_PAGE_SIZE buffers on the aggregation ring, head buffers
held for TPA; ``bnxt_rx_pkt`` builds the whole skb (head and aggregation frags) itself. Page mode
(an XDP program attached: bnxt_set_rx_skb_mode(bp, true)), ``Mode.page``: one BNXT_RX_PAGE_SIZE
page_pool buffer per RX descriptor, no aggregation ring; ``bnxt_rx_page_pkt`` runs the program's
verdict (bnxt_rx_xdp) and builds the skb (bnxt_rx_page_skb)."""

import numpy as np

from rxlab.engine.jit import inner, ix
from rxlab.engine.layout import FALSE, NONE, QP, QS, RC, RF, TRUE, BufKind, G, Mode
from rxlab.engine.page_pool import pool_destroy, pp_alloc_frag, pp_alloc_pages
from rxlab.engine.rxq_shared import (
    XDP_DROP,
    XDP_REDIRECT,
    XDP_TX,
    rx_ring_pop,
    rx_truesize,
    xdp_hold,
    xdp_verdict,
)
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
    __bnxt_alloc_rx_netmem() for an aggregation buffer and __bnxt_alloc_rx_page() for a page-mode RX
    buffer: a whole page where BNXT_RX_PAGE_SIZE is PAGE_SIZE (page_pool_alloc_netmems,
    page_pool_dev_alloc_pages), else a BNXT_RX_PAGE_SIZE fragment of it. The pool maps all of them
    (PP_FLAG_DMA_MAP, bnxt_alloc_rx_page_pool), so they are recorded as pool-mapped fragments."""
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
def _rx_pool(p):
    """The pool RX-ring buffers come from: bnxt_alloc_rx_data() takes rxr->page_pool in page mode
    (__bnxt_alloc_rx_page), rxr->head_pool otherwise (__bnxt_alloc_rx_frag)."""
    return p[QP.pool] if p[QP.mode] == Mode.page else p[QP.head_pool]


@inner
def bnxt_alloc_one_rx_ring(st, rx, q):
    """bnxt_alloc_one_rx_ring(): the RX ring's buffers, then the aggregation ring, then the TPA heads
    (bnxt_alloc_one_tpa_info_data); page mode has neither of the last two."""
    ring, p = rx.ring, rx.qp[q]
    for i in range(ring.shape[1]):
        ring[q, i] = bnxt_alloc(st, rx, q, _rx_pool(p), p[QP.alloc_size])
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
def _napi_alloc_skb(st, rx, q, n):
    """napi_alloc_skb(napi, n) and the frame's first ``n`` bytes copied into it, less the Ethernet
    header eth_type_trans() pulls (bnxt_copy_skb / bnxt_copy_xdp, and bnxt_rx_page_skb's headers):
    a head from the small-head cache when it fits one, else ALIGN(n + NET_SKB_PAD + NET_IP_ALIGN)
    bytes of the NAPI CPU's page_frag cache. NONE when no skb or head can be had."""
    rc, p = rx.rc, rx.qp[ix(q)]
    aligned = (n + 63) // 64 * 64
    small = n <= rc[RC.small_head]
    truesize = p[QP.small_truesize] if small else aligned + rc[RC.copy_truesize_extra]
    return skb_alloc_copy(st, p[QP.napi_cpu], n - ETH_HLEN, aligned + rc[RC.copy_head], truesize, np.int64(small))


@inner
def bnxt_head_len(p, frame):
    """Bytes of a ``frame``-byte frame the device puts in the head buffer of bnxt queue row ``p``: with
    header-data split (the VNIC's hds_threshold) the headers alone of a frame above the threshold,
    otherwise up to rx_buf_use_size (the jumbo threshold); the rest goes to aggregation buffers."""
    if p[QP.hds_thresh] >= 0 and frame > p[QP.hds_thresh]:
        return min(p[QP.header_len], frame)
    return min(frame, p[QP.buf_use_size])


@inner
def bnxt_rx_skb(st, rx, q, slots, si, head_len, rest):
    """The skb of a frame (or a TPA aggregate) on bnxt queue ``q`` whose first ``head_len`` bytes are in
    the head buffer posted at ``slots[q, si]`` (an RX ring slot, or a TPA context's head in Rx.tpa) and
    ``rest`` bytes in the aggregation ring's next buffers, packed; NONE when it is dropped
    (rx_oom_discards: rx_alloc_fail here).

    A head of at most rx_copybreak bytes is copied (bnxt_copy_skb: napi_alloc_skb) and the buffer
    stays (bnxt_reuse_rx_data); a longer one gets a new buffer first (bnxt_alloc_rx_data,
    __bnxt_alloc_rx_frag; on failure the old one stays and the frame is dropped) and the skb is built
    on it (bnxt_rx_skb: napi_build_skb(data, rx_buf_size)). Each aggregation buffer is replaced
    (bnxt_alloc_rx_netmem) and becomes a frag charged BNXT_RX_PAGE_SIZE (__bnxt_rx_agg_netmems); if
    a replacement fails, it and the rest are reposted (bnxt_reuse_rx_agg_bufs) and the skb is freed.
    A frame dropped before its aggregation buffers are taken reposts them too (the error path's
    bnxt_reuse_rx_agg_bufs, bnxt_abort_tpa; rxlab's skb_table_full)."""
    qp, qstats, agg = rx.qp, rx.qstats, rx.agg
    p = qp[ix(q)]
    cpu = p[QP.napi_cpu]
    b = slots[ix(q), ix(si)]
    agg_bufs = (rest + p[QP.agg_size] - 1) // p[QP.agg_size] if rest > 0 else 0
    if head_len <= p[QP.copybreak]:
        if st.glob[G.skb_top] == 0:
            qstats[ix(q), QS.skb_table_full] += 1
            _agg_advance(p, agg_bufs)
            return NONE
        s = _napi_alloc_skb(st, rx, q, head_len)
        if s == NONE:
            qstats[ix(q), QS.rx_alloc_fail] += 1
            _agg_advance(p, agg_bufs)
            return NONE
        qstats[ix(q), QS.copybreak] += 1
    else:
        nb = bnxt_alloc(st, rx, q, p[QP.head_pool], p[QP.alloc_size])
        if nb == NONE:
            qstats[ix(q), QS.rx_alloc_fail] += 1
            _agg_advance(p, agg_bufs)
            return NONE
        slots[ix(q), ix(si)] = nb
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
def bnxt_rx_pkt(st, rx, q, length):
    """bnxt_rx_pkt() for an L2 completion of a ``length``-byte frame on bnxt queue ``q``: the RX ring's
    next head (bnxt_head_len) and aggregation buffers become its skb (bnxt_rx_skb); NONE when the frame
    is dropped."""
    head, _ = rx_ring_pop(rx, q)
    frame = length + ETH_HLEN  # the device's length counts the Ethernet header; the skb's, after it
    head_len = bnxt_head_len(rx.qp[ix(q)], frame)
    return bnxt_rx_skb(st, rx, q, rx.ring, head, head_len, frame - head_len)


@inner
def bnxt_rx_page_pkt(st, rx, q, length, t):
    """bnxt_rx_pkt() in page mode (an XDP program attached) for a ``length``-byte frame on bnxt queue
    ``q``; returns the skb, or NONE when XDP consumed the frame or it was dropped.

    The program runs first (bnxt_xdp_buff_init, bnxt_rx_xdp; its verdict drawn at the configured
    rates). XDP_DROP reposts the buffer where it was (bnxt_reuse_rx_data). XDP_TX transmits from
    the RX page and reposts the same buffer at once (__bnxt_xmit_xdp, bnxt_reuse_rx_data; the RX
    doorbell waits for the TX completion, bnxt_tx_int_xdp, which gives back only a multi-buffer
    frame's frags): no page leaves the ring, nothing is held. XDP_REDIRECT allocates the slot's new
    buffer first (bnxt_alloc_rx_data; failing, the frame is dropped and the buffer reposted) and
    the page stays with the redirect target until xdp_return_frame(). XDP_PASS goes on as without a
    program: a frame of at most rx_copybreak bytes is copied (bnxt_copy_xdp) and the buffer
    reposted; a longer one gets a new buffer first (bnxt_rx_page_skb -> bnxt_alloc_rx_data; on
    failure the old one is reposted and the frame dropped), then napi_alloc_skb() of the headers
    (the hardware's payload offset), the page added as frag 0 charged BNXT_RX_PAGE_SIZE, marked for
    recycling; if napi_alloc_skb() fails the page goes back (page_pool_recycle_direct)."""
    qp, qstats, rf, ring = rx.qp, rx.qstats, rx.rf, rx.ring
    p = qp[ix(q)]
    cpu = p[QP.napi_cpu]
    head, b = rx_ring_pop(rx, q)
    frame = length + ETH_HLEN
    verdict = xdp_verdict(rx, q)
    if verdict == XDP_DROP or verdict == XDP_TX:  # the buffer stays on the ring, reposted
        return NONE
    if verdict == XDP_REDIRECT:
        nb = bnxt_alloc(st, rx, q, p[QP.pool], p[QP.alloc_size])
        if nb == NONE:  # "if we are unable to allocate a new buffer, abort and reuse"
            qstats[ix(q), QS.rx_alloc_fail] += 1
            return NONE
        ring[ix(q), ix(head)] = nb
        xdp_hold(st, rx, q, b, t + rf[RF.xdp_hold_us])
        return NONE
    if frame <= p[QP.copybreak]:
        if st.glob[G.skb_top] == 0:
            qstats[ix(q), QS.skb_table_full] += 1
            return NONE
        s = _napi_alloc_skb(st, rx, q, frame)
        if s == NONE:
            qstats[ix(q), QS.rx_alloc_fail] += 1
            return NONE
        qstats[ix(q), QS.copybreak] += 1
        return s
    nb = bnxt_alloc(st, rx, q, p[QP.pool], p[QP.alloc_size])
    if nb == NONE:
        qstats[ix(q), QS.rx_alloc_fail] += 1
        return NONE
    ring[ix(q), ix(head)] = nb
    if st.glob[G.skb_top] == 0:
        qstats[ix(q), QS.skb_table_full] += 1
        buf_put(st, b, cpu, TRUE)  # page_pool_recycle_direct()
        return NONE
    headers = min(p[QP.header_len], frame)
    s = _napi_alloc_skb(st, rx, q, headers)
    if s == NONE:
        qstats[ix(q), QS.rx_alloc_fail] += 1
        buf_put(st, b, cpu, TRUE)
        return NONE
    skb_mark_for_recycle(st, s)
    skb_add_rx_frag(st, s, b, frame - headers, p[QP.alloc_size])
    return s


@inner
def bnxt_free_rx_skbs(st, rx, q, cpu):
    """bnxt_free_rx_skbs() and bnxt_free_rx_rings() for bnxt queue ``q``: the TPA heads
    (bnxt_free_one_tpa_info_data: page_pool_free_va(head_pool, data, false)), the RX ring's buffers
    (bnxt_free_one_rx_ring: page_pool_free_va(head_pool, data, true), in page mode
    page_pool_recycle_direct(page_pool, data)) and the aggregation ring's buffers
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
