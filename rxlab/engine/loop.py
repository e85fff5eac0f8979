"""The RX path, packet by packet: sender, device rings and NAPI refill, XDP, skbs, TCP receive
queues and the applications that read them (drivers/net/ethernet/microsoft/mana/mana_en.c,
net/ipv4/tcp_input.c).

Model time is in µs. Every packet takes its wire time at the link rate; a connection may
send only as fast as its advertised window allows per RTT, and not at all into a zero
window, so window- and memory-limited throughput show up in delivered bytes.
"""

import numpy as np

from rxlab.counters import Ctr
from rxlab.engine.dma import dma_map, dma_unmap
from rxlab.engine.gro import gro_hold, gro_unhold, skb_gro_receive
from rxlab.engine.jit import inner, kernel
from rxlab.engine.layout import (
    BF,
    CF,
    CN,
    DT,
    FALSE,
    GR,
    NONE,
    PL,
    QP,
    QS,
    RC,
    RF,
    SK,
    SM,
    TRUE,
    Admission,
    BufKind,
    G,
    Mode,
)
from rxlab.engine.page_frag import frag_alloc, frag_cache_drain
from rxlab.engine.page_pool import pool_destroy, pp_alloc_frag, pp_alloc_pages
from rxlab.engine.skb import (
    buf_new,
    buf_put,
    buf_put_process,
    skb_alloc_copy,
    skb_alloc_kmalloc,
    skb_build,
    skb_clone,
    skb_free,
    skb_try_coalesce,
)
from rxlab.engine.state import reader_state
from rxlab.engine.tcp import alloc_skb_truesize, tcp_measure_rcv_mss, tcp_rcvbuf_grow, tcp_win_from_space
from rxlab.kernel.gro import MAX_GRO_SKBS
from rxlab.kernel.sizes import WIRE_OVERHEAD
from rxlab.kernel.tcp import ACK_LEN, TCP_IP_HEADERS


@kernel
def alloc_buf(st, rx, q):
    """mana_get_rxfrag(): a new RX buffer for queue ``q`` or NONE (the caller counts rx_alloc_fail).

    full: the page XDP_DROP kept (xdp_save_va) or page_pool_dev_alloc_pages(), then
    dma_map_single(datasize); frag: page_pool_dev_alloc_frag(), already mapped by the
    pool; pfc: napi_alloc_frag() and dma_map_single().
    """
    qp, qstats, rf = rx.qp, rx.qstats, rx.rf
    p = qp[q]
    cpu = p[QP.napi_cpu]
    if rf[RF.alloc_fail_rate] > 0.0 and np.random.random() < rf[RF.alloc_fail_rate]:
        qstats[q, QS.alloc_fail_injected] += 1
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
            size = st.glob[G.page_size] << st.pools[p[QP.pool], PL.order]
            b = buf_new(st, pid, np.int64(0), size, BufKind.pp_page, q)
    else:
        pid, off = frag_alloc(st, cpu, p[QP.alloc_size])
        if pid == NONE:
            return NONE
        b = buf_new(st, pid, off, p[QP.alloc_size], BufKind.page, q)
    if rf[RF.dma_map_fail_rate] > 0.0 and np.random.random() < rf[RF.dma_map_fail_rate]:
        # dma_mapping_error(): mana_put_rx_page()
        qstats[q, QS.dma_map_fail_injected] += 1
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
    p = qp[q]
    cap = hold_buf.shape[1]
    while p[QP.hold_count] > 0 and hold_t[q, p[QP.hold_head]] <= t:
        buf_put(st, hold_buf[q, p[QP.hold_head]], p[QP.napi_cpu], FALSE)
        p[QP.hold_head] = p[QP.hold_head] + 1 if p[QP.hold_head] + 1 < cap else 0
        p[QP.hold_count] -= 1


@inner
def _hold(st, rx, q, b, until):
    qp, hold_buf, hold_t = rx.qp, rx.hold_buf, rx.hold_t
    p = qp[q]
    cap = hold_buf.shape[1]
    if p[QP.hold_count] == cap:  # the oldest completes early rather than lose a buffer
        release_holds(st, rx, q, hold_t[q, p[QP.hold_head]])
    i = p[QP.hold_head] + p[QP.hold_count]
    if i >= cap:
        i -= cap
    hold_buf[q, i] = b
    hold_t[q, i] = until
    p[QP.hold_count] += 1


@inner
def tcp_collapse(st, rx, c, cpu):
    """tcp_collapse(sk, &sk->sk_receive_queue, ..., copied_seq, rcv_nxt): from the first skb that is
    bloated (tcp_win_from_space(skb->truesize) > skb->len, at the socket's scaling_ratio or by
    tcp_adv_win_scale) to the end of the queue, copy the data into new skbs of at most
    SKB_MAX_ORDER(0, 0) = PAGE_SIZE - SKB_DATA_ALIGN(sizeof(skb_shared_info)) bytes each
    (alloc_skb: a kmalloc'ed head) and free the old ones (tcp_collapse_one: TCPRcvCollapsed each),
    their pages going back in this softirq. If the skbs it needs cannot all be allocated it collapses
    nothing (alloc_skb failing at once). rxlab's skb len counts each segment's 52 bytes of headers;
    payload is len less those, and the new skbs' len keeps the total."""
    rc, rcvq_next = rx.rc, rx.rcvq_next
    k = rx.conn[c]
    if k[CN.count] == 0:
        return
    mtu = rc[RC.mtu]
    ratio = k[CN.scaling] if k[CN.scaling] > 0 else rc[RC.scaling_init]
    prev = NONE
    s = k[CN.head]
    for _ in range(k[CN.count]):
        ln = st.skbs[s, SK.len]
        if tcp_win_from_space(st.skbs[s, SK.truesize], ratio, rc[RC.win_mode],
                              rc[RC.adv_win_scale]) > ln - ln * TCP_IP_HEADERS // mtu:
            break
        prev = s
        s = rcvq_next[s]
    if prev == k[CN.tail]:
        return  # nothing bloated
    first = s
    n_old = 0
    wire = 0
    while True:
        wire += st.skbs[s, SK.len]
        n_old += 1
        if s == k[CN.tail]:
            break
        s = rcvq_next[s]
    payload = wire - wire * TCP_IP_HEADERS // mtu
    page_size = st.glob[G.page_size]
    chunk = page_size - rc[RC.shinfo]
    n_new = (payload + chunk - 1) // chunk
    if st.glob[G.skb_top] < n_new or st.glob[G.data_top] < n_new:
        return
    s = first
    for _ in range(n_old):
        nxt = rcvq_next[s]
        k[CN.rmem] -= st.skbs[s, SK.truesize]
        k[CN.held] -= st.skbs[s, SK.page_len]
        skb_free(st, s, cpu, TRUE)
        st.c[Ctr.TCPRcvCollapsed] += 1
        s = nxt
    k[CN.count] -= n_old
    tail = prev
    done = 0
    wdone = 0
    while done < payload:
        copy = min(chunk, payload - done)
        done += copy
        wend = wire if done == payload else done + done * TCP_IP_HEADERS // (mtu - TCP_IP_HEADERS)
        ts = alloc_skb_truesize(copy, page_size, rc[RC.shinfo], rc[RC.sizeof_sk_buff])
        ns = skb_alloc_kmalloc(st, wend - wdone, ts)
        wdone = wend
        rcvq_next[ns] = NONE
        if tail == NONE:
            k[CN.head] = ns
        else:
            rcvq_next[tail] = ns
        tail = ns
        k[CN.count] += 1
        k[CN.rmem] += ts
    k[CN.tail] = tail


@inner
def tcp_prune_queue(st, rx, c, need, cpu):
    """tcp_try_rmem_schedule() found no room (sk_rmem_alloc + ``need`` > sk_rcvbuf, ``need`` 0, the
    truesize or the len by the release's admission rule): tcp_prune_queue() counts PruneCalled;
    tcp_clamp_window() sets sk_rcvbuf to sk_rmem_alloc (at most tcp_rmem[2]) unless SO_RCVBUF
    locked it (rxlab models no global TCP memory pressure): from 6.17, called whenever the arriving
    skb does not fit, that can lower it (1d2fbaad7cd8); if the skb still does not fit,
    tcp_collapse() the receive queue (rxlab has no out-of-order queue to collapse or prune); if it
    still does not fit, RcvPruned and -1 (the caller drops the skb unless the queue is empty)."""
    rc = rx.rc
    k = rx.conn[c]
    st.c[Ctr.PruneCalled] += 1
    if k[CN.rcvbuf] < rc[RC.tcp_rmem_max] and not rc[RC.rcvbuf_lock]:
        k[CN.rcvbuf] = min(k[CN.rmem], rc[RC.tcp_rmem_max])
    if k[CN.rmem] + need <= k[CN.rcvbuf]:
        return 0
    tcp_collapse(st, rx, c, cpu)
    if k[CN.rmem] + need <= k[CN.rcvbuf]:
        return 0
    st.c[Ctr.RcvPruned] += 1
    return -1


@inner
def tcp_queue(st, rx, c, s, cpu, segs, payload, seg):
    """tcp_data_queue() of skb ``s``: ``segs`` segments of ``seg`` bytes each, ``payload`` in all (a
    GRO aggregate, or one segment). tcp_try_rmem_schedule() by the release's admission rule
    (sk_rmem_alloc > sk_rcvbuf; from 6.17 sk_rmem_alloc + truesize > sk_rcvbuf, 1d2fbaad7cd8; from
    6.18 + len, f017c1f768b6) -> tcp_prune_queue(); if that fails the skb is dropped (TCPRcvQDrop)
    unless the receive queue is empty (sk_forced_mem_schedule), and its sender, which rxlab gives no
    retransmission timer, resends after the application's next read. Else tcp_measure_rcv_mss()
    (scaling_ratio), rcv_nxt, and tcp_try_coalesce() into the tail or queue the skb, charging
    truesize (or the coalesce delta)."""
    rc, conn, connf, rcvq_next = rx.rc, rx.conn, rx.connf, rx.rcvq_next
    k = conn[c]
    adm = rc[RC.admission]
    need = 0
    if adm == Admission.rmem_plus_truesize:
        need = st.skbs[s, SK.truesize]
    elif adm == Admission.rmem_plus_len:
        need = payload
    if k[CN.rmem] + need > k[CN.rcvbuf] and tcp_prune_queue(st, rx, c, need, cpu) < 0 and k[CN.count] > 0:
        st.c[Ctr.TCPRcvQDrop] += 1
        k[CN.rmem_drops] += segs  # every segment of the aggregate is lost
        k[CN.stalls] += 1
        connf[c, CF.next_send] = max(connf[c, CF.next_send], rx.next_read[0])
        skb_free(st, s, cpu, TRUE)
        return
    k[CN.packets] += segs
    # the socket now has data for the next read, whether or not the connection sent since the last
    # (GRO can hold a segment across a read, and an ACK or a poll's end completes it)
    _mark_dirty(rx, c)
    tcp_measure_rcv_mss(k, seg, payload, st.skbs[s, SK.truesize], rc[RC.advmss])
    k[CN.rcv_nxt] += payload
    k[CN.held] += st.skbs[s, SK.page_len]
    if k[CN.count] > 0:
        delta = skb_try_coalesce(st, k[CN.tail], s, rc[RC.sizeof_sk_buff])
        if delta >= 0:
            k[CN.rmem] += delta
            return
    rcvq_next[s] = NONE
    if k[CN.count] == 0:
        k[CN.head] = s
    else:
        rcvq_next[k[CN.tail]] = s
    k[CN.tail] = s
    k[CN.count] += 1
    k[CN.rmem] += st.skbs[s, SK.truesize]


@inner
def netif_receive_skb(st, rx, c, s, cpu, segs, payload, seg):
    """The stack above GRO (__netif_receive_skb_core): a tap (packet socket) may take a clone of the
    skb and consumes it in softirq; then TCP (tcp_v4_rcv -> tcp_data_queue)."""
    _tap(st, rx, s, cpu)
    tcp_queue(st, rx, c, s, cpu, segs, payload, seg)


@inner
def _tap(st, rx, s, cpu):
    cf = rx.rf[RF.clone_fraction]
    if cf > 0.0 and np.random.random() < cf:
        cl = skb_clone(st, s)
        if cl != NONE:
            skb_free(st, cl, cpu, TRUE)


@inner
def napi_gro_complete(st, rx, q, c):
    """napi_gro_complete() of connection ``c``'s aggregate: off queue ``q``'s gro_hash list; returns
    (c, its skb, segments, payload, gso_size) for the caller to send up the stack as one skb
    (gro_normal_one; a single segment's gso_size is reset, which leaves the segment size TCP
    measures the same)."""
    g = rx.gro[c]
    segs, payload, seg = g[GR.segs], g[GR.payload], g[GR.gso_size]
    p = gro_unhold(st, rx, q, c)
    st.c[Ctr.gro_complete] += 1
    return c, p, segs, payload, seg


@inner
def napi_gro_flush_one(st, rx, q):
    """One step of napi_gro_flush(napi, false), which sends up every aggregate the queue holds,
    bucket by bucket, each bucket's oldest first: the next one's napi_gro_complete()."""
    b = 0
    while rx.gro_n[q, b] == 0:
        b += 1
    return napi_gro_complete(st, rx, q, rx.gro_list[q, b, 0])


@inner
def napi_gro_flush(st, rx, q, cpu):
    """napi_gro_flush(napi, false): every aggregate queue ``q`` holds goes up the stack."""
    while rx.qp[q, QP.gro_count] > 0:
        c, p, segs, payload, seg = napi_gro_flush_one(st, rx, q)
        netif_receive_skb(st, rx, c, p, cpu, segs, payload, seg)


@kernel
def polls_complete(st, rx):
    """Every ring is empty (the link idles, or traffic stopped): each queue's poll ends with
    napi_complete_done(), which flushes what GRO holds; the next packet starts a new poll.
    Returns how many aggregates went up."""
    n = 0
    for q in range(rx.rc[RC.queues]):
        rx.qp[q, QP.napi_left] = 0
        n += rx.qp[q, QP.gro_count]
        napi_gro_flush(st, rx, q, rx.qp[q, QP.napi_cpu])
    return n


@inner
def napi_gro_receive(st, rx, q, c, s, payload):
    """napi_gro_receive() of data segment ``s`` (``payload`` bytes) of connection ``c`` on queue ``q``
    (dev_gro_receive, tcp_gro_receive in net/ipv4/tcp_offload.c). With an aggregate held for the
    flow: a segment larger than its gso_size completes it ((len - 1) >= mss) and starts the next;
    so does one whose pp_recycle is not the aggregate's (skb_gro_receive: -ETOOMANYREFS, since 6.3)
    or that would take its len to gro_max_size (skb_gro_receive: -E2BIG); otherwise the
    segment merges, and a smaller one (len < mss) then completes the aggregate. A new flow is held,
    after gro_flush_oldest() if its bucket already holds MAX_GRO_SKBS flows. rxlab's segments come
    in order, with the same flags, options and ack_seq, so nothing else flushes.

    Returns the aggregate completed, as napi_gro_complete() does, or a NONE skb: at most one
    completes per segment, and the caller sends it up after the segment is held (nothing up
    the stack reads what GRO holds), so that the RX path has one call of the stack above GRO."""
    g = rx.gro[c]
    page_len = st.skbs[s, SK.page_len]
    if g[GR.skb] != NONE:
        data = st.data
        recycle = data[st.skbs[g[GR.skb], SK.data], DT.pp_recycle] != data[st.skbs[s, SK.data], DT.pp_recycle]
        if (payload > g[GR.gso_size] or recycle
                or TCP_IP_HEADERS + g[GR.payload] + payload >= rx.rc[RC.gro_max_size]):
            done = napi_gro_complete(st, rx, q, c)
            gro_hold(rx, q, c, s, payload, page_len)
            return done
        skb_gro_receive(st, g, s, rx.rc[RC.sizeof_sk_buff])
        g[GR.segs] += 1
        g[GR.payload] += payload
        rx.qp[q, QP.gro_page_len] += page_len
        if payload < g[GR.gso_size]:
            return napi_gro_complete(st, rx, q, c)
        return c, NONE, 0, 0, 0
    b = g[GR.bucket]
    done = (c, NONE, 0, 0, 0)
    if rx.gro_n[q, b] == MAX_GRO_SKBS:
        done = napi_gro_complete(st, rx, q, rx.gro_list[q, b, 0])
    gro_hold(rx, q, c, s, payload, page_len)
    return done


@inner
def rcv_space_adjust(rx, c, t):
    """tcp_rcv_space_adjust() after the application read (tcp_recvmsg): at most once per RTT
    (rxlab's rcv_rtt_est is the configured RTT), the payload copied since the last measurement
    (rxlab's readers empty the queue, so nothing is left in it to subtract); if it is more than
    rcvq_space.space ever was, autotuning (net.ipv4.tcp_moderate_rcvbuf, not with SO_RCVBUF) raises
    sk_rcvbuf to tcp_rcvbuf_grow()'s value if larger, and rcvq_space.space becomes it."""
    rc, rf = rx.rc, rx.rf
    k = rx.conn[c]
    kf = rx.connf[c]
    if t - kf[CF.rcvq_time] < rf[RF.rtt_us]:
        return
    copied = k[CN.rcv_nxt] - k[CN.rcvq_seq]
    space = k[CN.rcvq_space]
    if copied > space:
        if rc[RC.moderate_rcvbuf] and not rc[RC.rcvbuf_lock]:
            ratio = k[CN.scaling] if k[CN.scaling] > 0 else rc[RC.scaling_init]
            rcvbuf = tcp_rcvbuf_grow(copied, space, ratio, rc[RC.grow], rc[RC.win_mode], rc[RC.advmss],
                                     rc[RC.rcvmem], np.int64(rf[RF.rtt_us]), rc[RC.low_rtt_us],
                                     rc[RC.tcp_rmem_max])
            k[CN.rcvbuf] = max(k[CN.rcvbuf], rcvbuf)
        k[CN.rcvq_space] = copied
    k[CN.rcvq_seq] = k[CN.rcv_nxt]
    kf[CF.rcvq_time] = t


@inner
def app_read(st, rx, c, t):
    """The application drains its socket (tcp_recvmsg): each skb is freed on the reading CPU,
    or handed back to the CPU that allocated it (skb_attempt_defer_free) and freed there in
    softirq, where its pages can go straight to the pool's alloc cache. That CPU takes at most
    skb_defer_max - 1 skbs between two polls (``atomic_long_inc_return(&defer_count) >=
    defer_max`` -> nodefer): the rest are freed here, on the reading CPU."""
    qp, rc, conn, connf, rcvq_next = rx.qp, rx.rc, rx.conn, rx.connf, rx.rcvq_next
    k = conn[c]
    p = qp[k[CN.queue]]
    napi = p[QP.napi_cpu]
    if k[CN.count] == 0:
        connf[c, CF.next_send] = min(connf[c, CF.next_send], t)
        return
    # what the reading CPU does is counted in its CPU class's row (a reader on the NAPI CPU itself,
    # app_cpus='napi', is a NAPI CPU); a deferred skb is freed on, and counted for, its NAPI CPU
    sr = reader_state(st) if k[CN.app_cpu] != napi else st
    sr.c[Ctr.tcp_recvmsg] += 1
    before = k[CN.delivered]
    while k[CN.count] > 0:
        s = k[CN.head]
        k[CN.head] = rcvq_next[s]
        k[CN.count] -= 1
        k[CN.rmem] -= st.skbs[s, SK.truesize]
        k[CN.held] -= st.skbs[s, SK.page_len]
        k[CN.delivered] += st.skbs[s, SK.len]
        if rc[RC.defer_free] and k[CN.app_cpu] != napi:
            p[QP.defer_count] += 1
            if p[QP.defer_count] < rc[RC.defer_max]:
                sr.c[Ctr.skb_defer_free] += 1
                skb_free(st, s, napi, TRUE)
                continue
            sr.c[Ctr.skb_defer_full] += 1
        skb_free(sr, s, k[CN.app_cpu], FALSE)
    # skb_copy_datagram_iter(): the payload read, its bytes less a TCP/IP header per MTU-sized segment
    mtu = rc[RC.mtu]
    sr.c[Ctr.bytes_to_user] += (k[CN.delivered] - before) * (mtu - TCP_IP_HEADERS) // mtu
    connf[c, CF.next_send] = min(connf[c, CF.next_send], t)
    if t < np.inf:  # not the teardown's last read
        rcv_space_adjust(rx, c, t)


@inner
def rx_cqe(st, rx, q, length, t):
    """One completion on queue ``q``: mana_process_rx_cqe() -> mana_refill_rx_oob() (refill
    before the packet goes up; on failure drop it and repost the old buffer) ->
    mana_rx_skb() (XDP verdict, napi_build_skb). Returns the skb to hand to GRO, or NONE."""
    qp, qstats, rc, rf, ring = rx.qp, rx.qstats, rx.rc, rx.rf, rx.ring
    p = qp[q]
    cpu = p[QP.napi_cpu]
    qstats[q, QS.rx_packets] += 1
    qstats[q, QS.rx_bytes] += length
    if p[QP.napi_left] == 0:  # a new poll takes up to napi_budget packets
        qstats[q, QS.napi_polls] += 1
        # net_rx_action() -> skb_defer_free_flush(): the count restarts (rxlab frees a deferred
        # skb on this CPU when app_read defers it, not here: see the README's simplifications)
        p[QP.defer_count] = 0
        p[QP.napi_left] = rc[RC.napi_budget]
    p[QP.napi_left] -= 1
    release_holds(st, rx, q, t)
    head = p[QP.ring_head]
    b = ring[q, head]
    p[QP.ring_head] = head + 1 if head + 1 < ring.shape[1] else 0
    if rc[RC.copybreak] and length <= rc[RC.copybreak] and not p[QP.xdp]:
        # copy-break: copy into a napi_alloc_skb() head, repost the same buffer
        ring[q, head] = b
        aligned = (length + 63) // 64 * 64
        if st.glob[G.skb_top] == 0:
            qstats[q, QS.skb_table_full] += 1
            return NONE
        truesize = aligned + rc[RC.copy_truesize_extra]
        s = skb_alloc_copy(st, cpu, length, aligned + rc[RC.copy_head], truesize, length <= rc[RC.small_head])
        if s == NONE:
            qstats[q, QS.rx_alloc_fail] += 1
            return NONE
        qstats[q, QS.copybreak] += 1
        return s
    nb = alloc_buf(st, rx, q)
    if nb == NONE:
        qstats[q, QS.rx_alloc_fail] += 1
        ring[q, head] = b
        return NONE
    ring[q, head] = nb
    if st.bufs[b, BF.kind] != BufKind.pp_frag:
        # mana_refill_rx_oob(): "if (!rxoob->from_pool || rxq->frag_count == 1)" unmap the old one
        dma_unmap(st)
    if p[QP.xdp]:
        r = np.random.random()
        if r < rf[RF.xdp_pass]:
            qstats[q, QS.xdp_pass] += 1
        elif r < rf[RF.xdp_pass] + rf[RF.xdp_drop]:
            qstats[q, QS.xdp_drop] += 1
            if st.bufs[b, BF.kind] == BufKind.page and p[QP.save] == NONE:
                p[QP.save] = b
            else:
                buf_put(st, b, cpu, TRUE)
            return NONE
        else:
            if r < rf[RF.xdp_pass] + rf[RF.xdp_drop] + rf[RF.xdp_tx]:
                qstats[q, QS.xdp_tx] += 1
            else:
                qstats[q, QS.xdp_redirect] += 1
            _hold(st, rx, q, b, t + rf[RF.xdp_hold_us])
            return NONE
    truesize = p[QP.truesize_pinned] if rc[RC.honest] else p[QP.truesize]
    s = skb_build(st, b, truesize, length)
    if s == NONE:
        qstats[q, QS.skb_table_full] += 1
        buf_put(st, b, cpu, TRUE)
        return NONE
    return s


@inner
def rx_packet(st, rx, q, c, length, is_ack, t):
    """One completion on queue ``q`` (rx_cqe), its skb through napi_gro_receive(): data goes
    through GRO (or, with GRO off, up the stack alone); a pure ACK completes its flow's held
    aggregate (tcp_gro_receive: its ack_seq differs and it is shorter than the mss) and goes up
    alone, where TCP consumes it. When the completion is the poll's last (napi_budget taken),
    __napi_poll() (net/core/dev.c) flushes every aggregate the queue holds: napi_gro_flush(n,
    HZ >= 1000), as on a kernel built with HZ below 1000 (with HZ = 1000 only those held a jiffy
    go). rxlab's polls take napi_budget packets while the link is busy, and end when it idles
    (polls_complete: napi_complete_done).

    What goes up the stack does so from one call of netif_receive_skb (which inlines all of TCP's
    receive path): the aggregate napi_gro_receive() completed, then each one the poll's end flushes."""
    s = rx_cqe(st, rx, q, length, t)
    p = rx.qp[q]
    cpu = p[QP.napi_cpu]
    up = (c, NONE, 0, 0, 0)
    if s != NONE:
        if is_ack:
            rx.qstats[q, QS.acks] += 1
            if rx.gro[c, GR.skb] != NONE:
                up = napi_gro_complete(st, rx, q, c)
        elif rx.rc[RC.gro]:
            up = napi_gro_receive(st, rx, q, c, s, length - TCP_IP_HEADERS)
        else:
            up = (c, s, 1, length - TCP_IP_HEADERS, length - TCP_IP_HEADERS)
    while True:
        uc, us, segs, payload, seg = up
        if us != NONE:
            netif_receive_skb(st, rx, uc, us, cpu, segs, payload, seg)
        if s != NONE and is_ack:  # TCP consumes the ACK, after the aggregate it completed
            _tap(st, rx, s, cpu)
            skb_free(st, s, cpu, TRUE)
            s = NONE
        if p[QP.napi_left] > 0 or p[QP.gro_count] == 0:
            return
        up = napi_gro_flush_one(st, rx, q)


# ctz of a 32-bit power of two: its de Bruijn product's top 5 bits index this table
_CTZ32 = np.array([0, 1, 28, 2, 29, 14, 24, 3, 30, 22, 20, 15, 25, 17, 4, 8,
                   31, 27, 13, 23, 21, 19, 16, 7, 26, 12, 18, 6, 11, 5, 10, 9], np.int64)


@inner
def _ctz32(low):
    """Index of the bit ``low`` (a power of two below 2**32)."""
    return _CTZ32[((low * 0x077CB531) & 0xFFFFFFFF) >> 27]


@inner
def _mark_dirty(rx, c):
    bit = 1 << (c & 31)
    if (rx.dirty[c >> 5] & bit) == 0:  # most packets find their connection marked already
        rx.dirty[c >> 5] |= bit
        rx.dirty_words[c >> 10] |= 1 << ((c >> 5) & 31)


@inner
def _sample(st, rx, i, t):
    """Memory over model time. Receive memory, queued skbs and the packet bytes they hold in
    pages are summed over the connections marked since the applications last read: the others'
    sockets are empty (run). RX ring buffers are posted empty (a packet's buffer is
    replaced before it goes up), so they pin pages without holding packet data."""
    conn, samples, dirty, dirty_words = rx.conn, rx.samples, rx.dirty, rx.dirty_words
    samples[i, SM.t_us] = t
    samples[i, SM.mem_used] = st.glob[G.mem_used]
    infl = 0
    for q in range(st.pools.shape[0]):
        infl += st.pools[q, PL.hold_cnt] - st.pools[q, PL.release_cnt]
    samples[i, SM.inflight] = infl
    rmem = 0
    queued = 0
    held = 0
    for w1 in range(dirty_words.shape[0]):
        words = dirty_words[w1]
        while words != 0:
            low = words & -words
            words ^= low
            w = (w1 << 5) + _ctz32(low)
            bits = dirty[w]
            while bits != 0:
                lowc = bits & -bits
                bits ^= lowc
                c = (w << 5) + _ctz32(lowc)
                rmem += conn[c, CN.rmem]
                queued += conn[c, CN.count]
                held += conn[c, CN.held]
    samples[i, SM.rmem] = rmem
    samples[i, SM.queued] = queued
    # packet bytes GRO holds sit in pages too, on their way to a socket
    for q in range(rx.qp.shape[0]):
        held += rx.qp[q, QP.gro_page_len]
    samples[i, SM.held] = held


@kernel
def seed_rng(seed):
    """Seed the generator the run draws from (numba's own under JIT, NumPy's without)."""
    np.random.seed(seed)


@kernel
def run(st, rx, t, stop):
    """Send packets through the RX path until ``stop`` have been sent; returns the model time (µs).

    ``prog`` carries [packets sent, sender cursor, samples taken] from one call to the next,
    so a run can stop for a reconfiguration and go on.

    Every application reads its socket at the same times (from 0, every app_read_us). Only the
    connections that sent or had data queued since the last read have anything to read or a send
    time to pull in (app_read leaves an empty queue and next_send <= now), so a read visits those
    alone, marked in ``rx.dirty`` as they send and as tcp_queue queues, in connection order as a
    scan of all of them would: the cost of a packet does not grow with the number of connections.
    """
    rc, rf, conn, connf = rx.rc, rx.rf, rx.conn, rx.connf
    samples, ratio_hist, prog = rx.samples, rx.ratio_hist, rx.prog
    dirty, dirty_words = rx.dirty, rx.dirty_words
    C = rc[RC.conns]
    mtu = rc[RC.mtu]
    wire_us = (mtu + WIRE_OVERHEAD) * 8.0 / (rf[RF.link_gbps] * 1000.0)
    ack_us = (ACK_LEN + WIRE_OVERHEAD) * 8.0 / (rf[RF.link_gbps] * 1000.0)
    rtt = rf[RF.rtt_us]
    next_read = rx.next_read[0]
    sent, cursor, n_samples = prog[0], prog[1], prog[2]
    every = rc[RC.sample_every]
    next_sample = (sent // every + 1) * every
    nbins = ratio_hist.shape[0]
    while sent < stop:
        if t >= next_read:
            st.glob[G.epoch] += 1  # a new window for ptr_ring contention (page_pool._contention_note)
            # the applications read: the connections marked dirty, in order (two-level bitmap)
            for w1 in range(dirty_words.shape[0]):
                words = dirty_words[w1]
                dirty_words[w1] = 0
                while words != 0:
                    low = words & -words
                    words ^= low
                    w = (w1 << 5) + _ctz32(low)
                    bits = dirty[w]
                    dirty[w] = 0
                    while bits != 0:
                        lowc = bits & -bits
                        bits ^= lowc
                        app_read(st, rx, (w << 5) + _ctz32(lowc), t)
            next_read = t + rf[RF.app_read_us]
            rx.next_read[0] = next_read  # a segment dropped now is resent then (tcp_queue)
        if rf[RF.ack_fraction] > 0.0 and np.random.random() < rf[RF.ack_fraction]:
            c = np.random.randint(C)  # an ACK queues nothing itself (tcp_queue marks what GRO completes)
            rx_packet(st, rx, conn[c, CN.queue], c, np.int64(ACK_LEN), TRUE, t)
            t += ack_us
        else:
            # the sender's round robin: the first connection from the cursor on whose time has come
            pick = NONE
            soonest = np.inf
            c = cursor if cursor < C else 0
            for _ in range(C):
                if connf[c, CF.next_send] <= t:
                    pick = c
                    break
                soonest = min(soonest, connf[c, CF.next_send])
                c = c + 1 if c + 1 < C else 0
            if pick == NONE:  # the link idles until a sender may send or the applications read
                if polls_complete(st, rx) > 0:  # what went up may be dropped: its sender waits
                    soonest = np.inf
                    for c in range(C):
                        soonest = min(soonest, connf[c, CF.next_send])
                t = max(t, min(soonest, next_read))
                continue
            cursor = pick + 1
            _mark_dirty(rx, pick)
            k = conn[pick]
            drops = k[CN.rmem_drops]
            # the ACK's argument types: one compilation of rx_packet, inlined here twice (one call
            # site for both measured ~4% more instructions a packet: the data path keeps ACK code)
            rx_packet(st, rx, k[CN.queue], pick, mtu, FALSE, t)
            # the window the receiver now advertises: tcp_win_from_space(sk_rcvbuf - sk_rmem_alloc),
            # by scaling_ratio or (before 6.6) tcp_adv_win_scale, as the release does; its right
            # edge never moves left (tcp_select_window: a window is not shrunk), and the sender
            # may send up to it: payload, which costs memory at the skbs' own len/truesize, so
            # sk_rmem_alloc can pass sk_rcvbuf where the ratio overestimates (tcp_prune_queue)
            ratio = k[CN.scaling] if k[CN.scaling] > 0 else rc[RC.scaling_init]
            wnd = tcp_win_from_space(max(0, k[CN.rcvbuf] - k[CN.rmem]), ratio, rc[RC.win_mode],
                                     rc[RC.adv_win_scale])
            k[CN.rcv_edge] = max(k[CN.rcv_edge], k[CN.rcv_nxt] + wnd)
            # what GRO holds is in flight to the sender (it has sent it; no ACK has come back)
            avail = k[CN.rcv_edge] - k[CN.rcv_nxt] - rx.gro[pick, GR.payload]
            if k[CN.rmem_drops] != drops:
                pass  # dropped for receive memory: tcp_queue has it wait for the next read
            elif avail < rc[RC.advmss]:
                k[CN.stalls] += 1
                connf[pick, CF.next_send] = next_read
            else:
                connf[pick, CF.next_send] = max(connf[pick, CF.next_send], t) + mtu * rtt / avail
            ratio_hist[min(nbins - 1, ratio * nbins // 256)] += 1
            t += wire_us
        sent += 1
        if sent == next_sample:
            next_sample += every
            if n_samples < samples.shape[0]:
                _sample(st, rx, n_samples, t)
                n_samples += 1
    prog[0], prog[1], prog[2] = sent, cursor, n_samples
    rx.next_read[0] = next_read
    return t


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


@kernel
def read_all(st, rx):
    """Every application reads all its socket holds (the last read, at no time limit)."""
    for c in range(rx.rc[RC.conns]):
        app_read(st, rx, c, np.inf)


@kernel
def drain_frag_caches(st):
    """Every CPU's page_frag cache gives its page back."""
    for cpu in range(st.frag_caches.shape[0]):
        frag_cache_drain(st, cpu)


def teardown(st, rx):
    """Stop traffic and free everything, as unloading the driver does: the last polls complete,
    applications read what is queued, the queues are detached, and the per-CPU page_frag caches
    are drained. Kernel by kernel from Python, so that none compiles another's code again."""
    polls_complete(st, rx)
    read_all(st, rx)
    detach_queues(st, rx)
    drain_frag_caches(st)
