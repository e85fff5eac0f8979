"""mlx5's legacy cyclic RQ (drivers/net/ethernet/mellanox/mlx5/core/en_rx.c), ``Mode.cyc``: WQEs of
fragment strides on page_pool pages the driver counts out itself (MLX5E_PAGECNT_BIAS_MAX references a
page, released when the ring comes round to it again), refilled in bulks at a poll's end
(``mlx5e_post_rx_wqes``); ``mlx5e_handle_rx_cqe`` builds the skb itself. The strides came with
069d11465a80 (4.18); the rest with one series of Linux 6.4 (<20230328205623.142075-1-saeed@kernel.org>):
the frag pages counted out of MLX5E_PAGECNT_BIAS_MAX with 6f5742846053 "net/mlx5e: RX, Enable skb
page recycling through the page_pool", the deferred release with 3f93f82988bc "net/mlx5e: RX, Defer
page release in legacy rq for better recycling", the bulk's size with 4ba2b4988c98 "net/mlx5e: RX,
Increase WQE bulk size for legacy rq" and the refill units with cd640b050368 "net/mlx5e: RX, Break
the wqe bulk refill in smaller chunks". A failed refill undoes its whole call since ef9369e9c308
"net/mlx5e: RX, Fix page_pool allocation failure recovery for legacy rq" (6.6, and 6.5 stable). The
code follows v6.19."""

import numpy as np

from rxlab.engine.jit import inner, ix, kernel
from rxlab.engine.layout import BF, FALSE, NONE, PF, QP, QS, RC, RF, TRUE, WF, BufKind, G
from rxlab.engine.page_pool import pp_alloc_pages, pp_put_unrefed, pp_unref
from rxlab.engine.pages import STORE, touch
from rxlab.engine.rxq_shared import XDP_DROP, XDP_PASS, xdp_hold, xdp_verdict
from rxlab.engine.skb import _buf_forget, buf_new, skb_add_rx_frag, skb_build
from rxlab.kernel.sizes import ETH_HLEN


@inner
def mlx5e_page_alloc_fragmented(st, rx, q, slot):
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
def mlx5e_page_release_fragmented(st, rx, q, slot):
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
        mlx5e_page_release_fragmented(st, rx, q, fr[WF.slot])


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
            if fr[WF.offset] == 0 and not mlx5e_page_alloc_fragmented(st, rx, q, fr[WF.slot]):
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
        verdict = xdp_verdict(rx, q)
        if verdict == XDP_DROP:
            return NONE
        if verdict != XDP_PASS:
            xdp_hold(st, rx, q, _frag_take(st, rx, q, f0), t + rx.rf[RF.xdp_hold_us])
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
