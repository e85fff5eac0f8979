"""mlx5's striding RQ (drivers/net/ethernet/mellanox/mlx5/core/en_rx.c), ``Mode.mpw``: multi-packet WQEs,
each ``pages_per_wqe`` page_pool pages the driver counts out itself (MLX5E_PAGECNT_BIAS_MAX references a
page, as the legacy RQ's, :mod:`rxlab.engine.rxq_mlx5`), cut in ``num_strides`` strides; a packet takes
the next strides of the WQE the device is filling (the CQE's consumed strides), and the WQE completes
when all are consumed. Refilled at a poll's end (``mlx5e_post_rx_mpwqes``), each WQE first releasing what
its pages' last use left (the deferred release). The striding RQ came with 461017cb006a "net/mlx5e:
Support RX multi-packet WQE (Striding RQ)" (4.7), the skb built on the stride with 619a8f2a42f1
"net/mlx5e: Use linear SKB in Striding RQ" (4.18); the frag pages counted out of MLX5E_PAGECNT_BIAS_MAX
with the 6.4 series <20230328205623.142075-1-saeed@kernel.org> that did it for the legacy RQ
(6f5742846053, "net/mlx5e: RX, Enable skb page recycling through the page_pool", is its recycling
commit; which of its commits brought the striding RQ's deferred release is not identified). The code
follows v6.19.

Modelled as the memory, not the mechanics: a WQE's pages are mapped by a UMR WQE on the ICOSQ, and the
WQE is posted to the RQ once the UMR completes (mlx5e_poll_ico_cq, then mlx5e_post_rx_mpwqe at the next
mlx5e_post_rx_mpwqes); rxlab posts it at once (umr_in_progress always 0). Device behaviour, from the
driver's handling of it: a packet never spans WQEs; when the strides left in a WQE are too few the device
consumes them with a filler CQE (mpwrq_is_filler_cqe, stats mpwqe_filler_cqes) and takes the next WQE;
rxlab does not count the filler against the poll's budget. With no WQE posted the device drops the packet
(its rx_out_of_buffer; rx_alloc_fail here, as the legacy RQ). XDP on a non-linear striding RQ (its
linear_page, XDP multi-buffer) is refused by the geometry (mlx5e_params_validate_xdp) and not here."""

import numpy as np

from rxlab.engine.jit import inner, ix, kernel
from rxlab.engine.layout import BF, DT, FALSE, MW, NONE, QP, QS, RC, RF, SK, TRUE, BufKind, G
from rxlab.engine.rxq_mlx5 import mlx5e_page_alloc_fragmented, mlx5e_page_release_fragmented
from rxlab.engine.rxq_shared import XDP_DROP, XDP_PASS, xdp_hold, xdp_verdict
from rxlab.engine.skb import buf_new, skb_add_rx_frag, skb_alloc_copy, skb_build, skb_mark_for_recycle
from rxlab.kernel.mlx5 import MLX5E_RX_MAX_HEAD
from rxlab.kernel.sizes import ETH_HLEN
from rxlab.kernel.tcp import TCP_IP_HEADERS


@inner
def _stride_take(st, rx, q, slot, offset, size):
    """frag_page->frags++ on WQE page ``slot`` (a column of Rx.frag_pages): one of the driver's references
    moves to whoever takes the bytes at ``offset`` (an skb, an XDP frame), as a buffer of ``size``."""
    fb = rx.frag_pages[ix(q), ix(slot)]
    st.bufs[ix(fb), BF.size] -= 1
    return buf_new(st, st.bufs[ix(fb), BF.page], offset, size, BufKind.pp_frag, q)


@inner
def mlx5e_free_rx_mpwqe(st, rx, q, w):
    """mlx5e_free_rx_mpwqe(): unless WQE ``w``'s skip_release_bitmap is full (never allocated, its
    allocation failed, or released already), each of its pages releases the references it never handed
    out (mlx5e_page_release_fragmented: page_pool_unref_netmem(bias - frags), recycled at 0). The bitmap
    is only ever full or empty outside AF_XDP."""
    if rx.mpwqe[ix(q), ix(w), MW.skip]:
        return
    ppw = rx.qp[ix(q), QP.pages_per_wqe]
    for i in range(ppw):
        mlx5e_page_release_fragmented(st, rx, q, w * ppw + i)


@inner
def mlx5e_alloc_rx_mpwqe(st, rx, q, w):
    """mlx5e_alloc_rx_mpwqe(): pages_per_wqe pages, each mlx5e_page_alloc_fragmented(); on a failure the
    pages taken are released, last first (err_unmap), and the bitmap filled (buff_alloc_err). Else the
    bitmap is cleared and consumed_strides = 0. TRUE when the WQE is allocated."""
    ppw = rx.qp[ix(q), QP.pages_per_wqe]
    for i in range(ppw):
        if not mlx5e_page_alloc_fragmented(st, rx, q, w * ppw + i):
            for j in range(i - 1, -1, -1):
                mlx5e_page_release_fragmented(st, rx, q, w * ppw + j)
            rx.mpwqe[ix(q), ix(w), MW.skip] = 1
            return FALSE
    rx.mpwqe[ix(q), ix(w), MW.skip] = 0
    rx.mpwqe[ix(q), ix(w), MW.consumed] = 0
    return TRUE


@kernel
def mlx5e_post_rx_mpwqes(st, rx, q):
    """mlx5e_post_rx_mpwqes(): once at least min_wqe_bulk WQEs are missing (mlx5_wq_ll_missing: the linked
    list's size less one, its reserved entry, less those posted), each missing WQE from the head, in ring
    order, first releases its pages' unused references (the deferred free), then is allocated; the first
    failure stops the bulk, the WQEs before it posted."""
    p = rx.qp[ix(q)]
    W = p[QP.wq_sz]
    missing = W - 1 - p[QP.wqes]
    if missing < p[QP.wqe_bulk]:
        return
    head = p[QP.ring_head] + p[QP.wqes]
    for k in range(missing):
        w = (head + k) % W
        mlx5e_free_rx_mpwqe(st, rx, q, w)
        if not mlx5e_alloc_rx_mpwqe(st, rx, q, w):
            return
        p[QP.wqes] += 1


@inner
def _mpwqe_pop(p):
    """mlx5_wq_ll_pop(): the WQE the device filled goes to the list's tail, its pages still the driver's
    until its deferred release; the device goes on with the next."""
    w = p[QP.ring_head] + 1
    p[QP.ring_head] = w if w < p[QP.wq_sz] else 0
    p[QP.wqes] -= 1


@inner
def mlx5e_skb_from_cqe_mpwrq_linear(st, rx, q, slot, head_offset, bcnt, length, t):
    """mlx5e_skb_from_cqe_mpwrq_linear(): the XDP program's verdict first (XDP_DROP leaves the stride with
    the driver; XDP_TX and XDP_REDIRECT set MLX5E_RQ_FLAG_XDP_XMIT and take it, frags++, until their
    completion), then napi_build_skb(va, MLX5_SKB_FRAG_SZ(headroom + cqe_bcnt)) on the stride, marked for
    recycling, frags++. A failed napi_build_skb() (rxlab: the skb table is full) drops the packet."""
    p = rx.qp[ix(q)]
    stride = np.int64(1) << p[QP.log_stride]
    if p[QP.xdp]:
        verdict = xdp_verdict(rx, q)
        if verdict == XDP_DROP:
            return NONE
        if verdict != XDP_PASS:
            xdp_hold(st, rx, q, _stride_take(st, rx, q, slot, head_offset, stride), t + rx.rf[RF.xdp_hold_us])
            return NONE
    if st.glob[G.skb_top] == 0 or st.glob[G.data_top] == 0:
        rx.qstats[ix(q), QS.skb_table_full] += 1
        return NONE
    if rx.rc[RC.honest]:
        truesize = p[QP.truesize_pinned]
    else:  # build_skb's SKB_TRUESIZE of MLX5_SKB_FRAG_SZ(headroom + cqe_bcnt)
        a = p[QP.smp_cache]
        truesize = (p[QP.headroom] + bcnt + a - 1) // a * a + p[QP.shinfo] + rx.rc[RC.sizeof_sk_buff]
    return skb_build(st, _stride_take(st, rx, q, slot, head_offset, stride), truesize, length)


@inner
def mlx5e_skb_from_cqe_mpwrq_nonlinear(st, rx, q, slot, head_offset, bcnt, length, cstrides):
    """mlx5e_skb_from_cqe_mpwrq_nonlinear() without XDP: napi_alloc_skb(MLX5E_RX_MAX_HEAD) (a small-head
    cache head, or a page_frag one: QP.head_size), marked for recycling, the first min(256, cqe_bcnt)
    bytes copied into it (mlx5e_copy_skb_header); the rest, from the stride after them on, added page by
    page as frags, each charged ALIGN(bytes in that page, stride size) of truesize, frags++ on each page
    it touches. Honest truesize: the head and every stride the packet consumed."""
    p = rx.qp[ix(q)]
    if st.glob[G.skb_top] == 0 or st.glob[G.data_top] == 0:
        rx.qstats[ix(q), QS.skb_table_full] += 1
        return NONE
    headlen = min(MLX5E_RX_MAX_HEAD, bcnt)
    s = skb_alloc_copy(st, p[QP.napi_cpu], headlen - ETH_HLEN, p[QP.head_size], p[QP.small_truesize],
                       np.int64(p[QP.head_size] == 0))
    if s == NONE:  # napi_alloc_skb() failed: buff_alloc_err, the packet dropped
        rx.qstats[ix(q), QS.rx_alloc_fail] += 1
        return NONE
    skb_mark_for_recycle(st, s)
    st.data[ix(st.skbs[ix(s), SK.data]), DT.head_data] = max(0, headlen - ETH_HLEN - TCP_IP_HEADERS)
    ps = st.glob[G.page_size]
    stride = np.int64(1) << p[QP.log_stride]
    frag_offset = head_offset + headlen
    byte_cnt = bcnt - headlen
    if frag_offset >= ps:
        slot += 1
        frag_offset -= ps
    while byte_cnt > 0:
        n = min(ps - frag_offset, byte_cnt)
        truesize = (n + stride - 1) // stride * stride
        skb_add_rx_frag(st, s, _stride_take(st, rx, q, slot, frag_offset, truesize), n, truesize)
        byte_cnt -= n
        frag_offset = 0
        slot += 1
    if rx.rc[RC.honest]:
        st.skbs[ix(s), SK.truesize] = p[QP.small_truesize] + cstrides * stride
    return s


@inner
def mlx5e_handle_rx_cqe_mpwrq(st, rx, q, length, t):
    """mlx5e_handle_rx_cqe_mpwrq() for a ``length``-byte packet on mlx5 queue ``q`` (cqe_bcnt has the
    Ethernet header too): it takes mpwrq_get_cqe_consumed_strides() strides of the WQE the device fills,
    from the first it has not consumed (stride_ix; head_offset and page_idx from it), one in a linear RQ;
    the skb is built (mlx5e_skb_from_cqe_mpwrq_linear / _nonlinear), then the WQE is popped if all its
    strides are consumed. Returns the skb, or NONE."""
    p = rx.qp[ix(q)]
    bcnt = length + ETH_HLEN
    log_stride = p[QP.log_stride]
    nstr = p[QP.num_strides]
    cstrides = np.int64(1) if p[QP.linear] else (bcnt + (np.int64(1) << log_stride) - 1) >> log_stride
    if p[QP.wqes] > 0 and rx.mpwqe[ix(q), ix(p[QP.ring_head]), MW.consumed] + cstrides > nstr:
        rx.mpwqe[ix(q), ix(p[QP.ring_head]), MW.consumed] = nstr  # a filler CQE: the WQE completes
        _mpwqe_pop(p)
    if p[QP.wqes] == 0:
        rx.qstats[ix(q), QS.rx_alloc_fail] += 1
        return NONE
    w = p[QP.ring_head]
    stride_ix = rx.mpwqe[ix(q), ix(w), MW.consumed]
    rx.mpwqe[ix(q), ix(w), MW.consumed] = stride_ix + cstrides  # wi->consumed_strides += cstrides
    ps = st.glob[G.page_size]
    wqe_offset = stride_ix << log_stride
    slot = w * p[QP.pages_per_wqe] + wqe_offset // ps  # page_idx
    if p[QP.linear]:
        s = mlx5e_skb_from_cqe_mpwrq_linear(st, rx, q, slot, wqe_offset % ps, bcnt, length, t)
    else:
        s = mlx5e_skb_from_cqe_mpwrq_nonlinear(st, rx, q, slot, wqe_offset % ps, bcnt, length, cstrides)
    if stride_ix + cstrides == nstr:
        _mpwqe_pop(p)
    return s


@inner
def mlx5e_free_rx_descs_mpwqe(st, rx, q):
    """mlx5e_free_rx_descs() for the striding RQ: mlx5e_free_rx_missing_descs() first, the missing WQEs
    from the list's head and its reserved entry ("popped from the list after completion but were not
    freed due to deferred release"), then the posted ones from the device's on, each released
    (mlx5e_dealloc_rx_mpwqe: mlx5e_free_rx_mpwqe, then the bitmap filled)."""
    p = rx.qp[ix(q)]
    W = p[QP.wq_sz]
    head = p[QP.ring_head] + p[QP.wqes]
    for k in range(W):
        w = (head + k) % W
        mlx5e_free_rx_mpwqe(st, rx, q, w)
        rx.mpwqe[ix(q), ix(w), MW.skip] = 1
    p[QP.wqes] = 0
