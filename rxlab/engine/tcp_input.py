"""TCP's receive path, on the NAPI CPU (net/ipv4/tcp_input.c): admission to the receive queue, or
after a hole to the out-of-order queue (rxlab.engine.tcp_ofo), by the release's rule (tcp_data_queue,
tcp_try_rmem_schedule), pruning and collapsing (tcp_prune_queue, tcp_collapse), coalescing into
the tail (tcp_try_coalesce), and rcv_ssthresh's growth (tcp_grow_window); its ACKs are
rxlab.engine.tcp_output's. A socket that queues data is marked for its reader and wakes it
(rxlab.engine.reader)."""

import numpy as np

from rxlab.counters import Ctr
from rxlab.engine.jit import called, inner, ix
from rxlab.engine.layout import CF, CN, FALSE, NONE, OF, RC, RF, SK, TRUE, Admission, G, Nomem
from rxlab.engine.reader import mark_dirty, tcp_data_ready
from rxlab.engine.skb import skb_alloc_kmalloc, skb_clone, skb_free, skb_try_coalesce
from rxlab.engine.tcp import alloc_skb_truesize, tcp_grow_window, tcp_measure_rcv_mss, tcp_win_from_space
from rxlab.engine.tcp_ofo import (
    OFO_DROPPED,
    OFO_QUEUED,
    tcp_dsack_set,
    tcp_ofo_insert,
    tcp_ofo_queue,
    tcp_prune_ofo_queue,
    tcp_sack_remove,
)
from rxlab.engine.tcp_output import (
    tcp_ack_now,
    tcp_ack_snd_check,
    tcp_event_data_recv,
    tcp_incr_quickack,
    tcp_send_ack,
    tcp_send_dsack,
)
from rxlab.kernel.tcp import TCP_INIT_CWND, TCP_IP_HEADERS


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


@called  # memory pressure is the rare path: not inlined (rxlab.engine.jit.called)
def tcp_prune_queue(st, rx, c, need, in_seq, cpu):
    """tcp_try_rmem_schedule() found no room (sk_rmem_alloc + ``need`` > sk_rcvbuf, ``need`` 0, the
    truesize or the len by the release's admission rule): tcp_prune_queue() counts PruneCalled;
    tcp_clamp_window() sets sk_rcvbuf to sk_rmem_alloc (at most tcp_rmem[2]) unless SO_RCVBUF
    locked it (rxlab models no global TCP memory pressure): from 6.17, called whenever the arriving
    skb does not fit, that can lower it (1d2fbaad7cd8); if the skb still does not fit,
    if sk_rmem_alloc still exceeds sk_rcvbuf, tcp_clamp_window() also lowers rcv_ssthresh to
    min(window_clamp, 2 x advmss); if the skb still does not fit,
    tcp_collapse() the receive queue (not the out-of-order queue: tcp_collapse_ofo_queue() is not
    modelled); if it still does not fit, tcp_prune_ofo_queue() from the arriving skb's ``in_seq``;
    if it still does not fit, RcvPruned and -1 (the caller drops the skb unless the queue is empty). From
    6.17 (972ca7a3bc9a) an empty queue returns -1 at once, before tcp_clamp_window() could set
    sk_rcvbuf to 0 under 1d2fbaad7cd8's rule: the caller force-admits the skb."""
    rc = rx.rc
    k = rx.conn[c]
    if rc[RC.prune_empty] and k[CN.rmem] == 0:
        return -1  # 972ca7a3bc9a (6.17): "Do nothing if our queues are empty", sk_rcvbuf kept
    st.c[Ctr.PruneCalled] += 1
    if k[CN.rcvbuf] < rc[RC.tcp_rmem_max] and not rc[RC.rcvbuf_lock]:
        k[CN.rcvbuf] = min(k[CN.rmem], rc[RC.tcp_rmem_max])
    if k[CN.rmem] > k[CN.rcvbuf]:
        k[CN.rcv_ssthresh] = min(k[CN.window_clamp], 2 * rc[RC.advmss])
    if k[CN.rmem] + need <= k[CN.rcvbuf]:
        return 0
    tcp_collapse(st, rx, c, cpu)
    if k[CN.rmem] + need <= k[CN.rcvbuf]:
        return 0
    tcp_prune_ofo_queue(st, rx, c, need, in_seq, cpu)
    if k[CN.rmem] + need <= k[CN.rcvbuf]:
        return 0
    st.c[Ctr.RcvPruned] += 1
    return -1


@inner
def _rmem_need(st, rx, s, payload):
    """What tcp_try_rmem_schedule() adds to sk_rmem_alloc before comparing with sk_rcvbuf, by the
    release's admission rule: nothing, the skb's truesize (1d2fbaad7cd8) or its len (f017c1f768b6)."""
    adm = rx.rc[RC.admission]
    if adm == Admission.rmem_plus_truesize:
        return st.skbs[ix(s), SK.truesize]
    if adm == Admission.rmem_plus_len:
        return payload
    return 0


@called  # data after a hole, which only a loss brings: not inlined
def tcp_data_queue_ofo(st, rx, c, s, cpu, segs, payload, seg, seq, t):
    """tcp_data_queue_ofo() of skb ``s`` after a hole: tcp_try_rmem_schedule() as for in-order data
    (tcp_prune_queue() when it does not fit); if that fails the skb is dropped (TCPOFODrop, its
    segments CN.ofo_drops; sk_data_ready). Else tcp_measure_rcv_mss() from 6.17 (38d7e4443365 "tcp:
    call tcp_measure_rcv_mss() for ooo packets"), an ACK scheduled, TCPOFOQueue, the skb on the
    queue with its SACK block (rxlab.engine.tcp_ofo.tcp_ofo_insert), and tcp_grow_window() for it
    unless it was dropped as all queued already (a SACK connection's; for an skb queued, before
    skb_set_owner_r() charges it). __tcp_ack_snd_check() then sends the ACK at once: the queue holds data
    (rxlab does not compress SACKs, tcp_sack_compress_send_ack)."""
    k = rx.conn[ix(c)]
    need = _rmem_need(st, rx, s, payload)
    if k[CN.rmem] + need > k[CN.rcvbuf] and tcp_prune_queue(st, rx, c, need, seq, cpu) < 0:
        st.c[Ctr.TCPOFODrop] += 1
        k[CN.ofo_drops] += segs
        tcp_data_ready(st, rx, c, t)
        skb_free(st, s, cpu, TRUE)
        _ofo_ack_check(rx, c, t)
        return
    truesize = st.skbs[ix(s), SK.truesize]
    if rx.rc[RC.ooo_ratio]:
        tcp_measure_rcv_mss(rx.rc, k, seg, payload, truesize)
    k[CN.ack_pending] = 1
    st.c[Ctr.TCPOFOQueue] += 1
    mark_dirty(rx, c)  # its memory is sampled
    done = tcp_ofo_insert(st, rx, c, s, seq, seq + payload, segs, cpu)
    if done != OFO_DROPPED:
        tcp_grow_window(rx.rc, k, payload, truesize)
    if done == OFO_QUEUED:
        k[CN.rmem] += truesize  # skb_set_owner_r()
        st.c[Ctr.rmem_charged] += truesize
    if done != OFO_DROPPED:
        st.c[Ctr.rmem_charged_payload] += payload
    _ofo_ack_check(rx, c, t)


@inner
def _ofo_ack_check(rx, c, t):
    """__tcp_ack_snd_check() with out-of-order data possible: a scheduled ACK goes at once while the
    out-of-order queue holds data, else as for in-order data."""
    if rx.conn[ix(c), CN.ack_pending] == 0:
        return
    if rx.ofo[ix(c), OF.count] > 0:
        tcp_send_ack(rx, c, t)
    else:
        tcp_ack_snd_check(rx, c, t)


@inner
def tcp_queue(st, rx, c, s, cpu, segs, payload, seg, seq, t):
    """tcp_data_queue() of skb ``s`` at ``t``: ``segs`` segments of ``seg`` bytes each, ``payload`` in
    all from sequence number ``seq`` (a GRO aggregate, or one segment). First tcp_validate_incoming()'s
    tcp_sequence(): data ending beyond the receive window is dropped (BeyondWindow, CN.oow_drops) unless
    it starts within it and the receive queue is empty, and tcp_send_dupack() sends an ACK (a window
    shrinks only by a memory failure's zero window, below); out-of-order data too. Data already queued
    is dropped (DelayedACKLost, quick-ack mode and an ACK at once); data after a hole that starts at the
    window's right edge or beyond is dropped as out_of_window (CN.oow_drops, no MIB: quick-ack mode and
    an ACK at once), other data after a hole goes to the out-of-order queue (tcp_data_queue_ofo, which
    sets no ICSK_ACK_NOMEM); a segment partly queued already keeps only its new bytes, the old ones
    D-SACKed in the next ACK (tcp_dsack_set). In-order data
    meeting a zero receive window (tcp_receive_window() == 0) is dropped (TCPZeroWindowDrop,
    CN.zwin_drops; out_of_window: quick-ack mode and an ACK at once).
    tcp_try_rmem_schedule() by the release's admission rule
    (sk_rmem_alloc > sk_rcvbuf; from 6.17 sk_rmem_alloc + truesize > sk_rcvbuf, 1d2fbaad7cd8; from
    6.18 + len, f017c1f768b6) -> tcp_prune_queue(); if that fails the skb is dropped (TCPRcvQDrop,
    sk_data_ready) unless the receive queue is empty (sk_forced_mem_schedule). Before 6.6 an empty
    queue takes the skb unchecked and a drop schedules no ACK; from 6.6 (e2142825c120 "net: tcp: send
    zero-window ACK when no memory") a refused skb, dropped or forced in, sets ICSK_ACK_NOMEM |
    ICSK_ACK_NOW: an ACK at once advertising a zero window (rxlab.engine.tcp.tcp_select_window). The
    sender finds a drop by its timers (rxlab.engine.sender). A drop
    while sk_rcvbuf cannot hold TCP_INIT_CWND segments at the dropped skb's truesize per segment is
    a trap drop (``CN.trap_*``, ``CF.trapped_at``): a receive buffer smaller than an initial window of
    the segments it gets, which drops what the window lets through (Result.trapped()). Else tcp_measure_rcv_mss()
    (scaling_ratio), rcv_nxt, tcp_try_coalesce() into the tail or queue the skb, charging truesize
    (or the coalesce delta); tcp_event_data_recv() (with tcp_grow_window() for an skb of 128 bytes or
    more); with an out-of-order queue, tcp_ofo_queue() moves what now follows in order and
    tcp_sack_remove() drops the SACK blocks rcv_nxt reached; tcp_data_ready(); and
    __tcp_ack_snd_check(), at once while the out-of-order queue holds data or when it was emptied
    (ICSK_ACK_NOW: "RFC5681. 4.2. SHOULD send immediate ACK, when gap in queue is filled"). Returns TRUE
    when it drops ``s`` (netif_receive_skb frees it)."""
    rc, conn, connf, rcvq_next = rx.rc, rx.conn, rx.connf, rx.rcvq_next
    k = conn[ix(c)]
    # tcp_validate_incoming() -> tcp_sequence(): data ending beyond rcv_nxt + tcp_receive_window() is
    # refused unless it starts within it and the receive queue is empty; tcp_send_dupack() answers it
    # (data is never rate-limited: tcp_oow_rate_limited)
    wend = max(k[CN.rcv_edge], k[CN.rcv_nxt])
    if seq + payload > wend and (seq > wend or k[CN.count] > 0):
        st.c[Ctr.BeyondWindow] += 1
        k[CN.oow_drops] += segs
        if seq < k[CN.rcv_nxt]:  # tcp_send_dupack(): quick-ack mode, the old bytes D-SACKed
            tcp_incr_quickack(rx, c)
            tcp_dsack_set(rx.ofo[ix(c)], seq, k[CN.rcv_nxt])
        tcp_send_ack(rx, c, t)
        return TRUE
    if seq + payload <= k[CN.rcv_nxt]:  # "A retransmit, 2nd most common case. Force an immediate ack."
        k[CN.dup_data] += segs
        tcp_send_dsack(rx, c, t, seq, seq + payload)
        return TRUE
    if seq > k[CN.rcv_nxt]:
        if seq >= wend:  # !before(seq, rcv_nxt + tcp_receive_window(tp)): out_of_window, no MIB
            k[CN.oow_drops] += segs
            tcp_incr_quickack(rx, c)
            tcp_ack_now(rx, c, t)
            return TRUE
        tcp_data_queue_ofo(st, rx, c, s, cpu, segs, payload, seg, seq, t)
        return FALSE
    if seq < k[CN.rcv_nxt]:  # "Partial packet, seq < rcv_next < end_seq": only the new bytes count
        # the old bytes: whole segments, and part of one when a retransmission was cut or collapsed
        # differently from what arrived before (rxlab.engine.tcp_rtx); they are D-SACKed
        tcp_dsack_set(rx.ofo[ix(c)], seq, k[CN.rcv_nxt])
        gone = k[CN.rcv_nxt] - seq
        old = gone // seg
        cut = old * rc[RC.mtu] + gone - old * seg
        st.skbs[ix(s), SK.len] -= cut
        st.skbs[ix(s), SK.page_len] -= min(st.skbs[ix(s), SK.page_len], cut)
        k[CN.dup_data] += old
        segs -= old
        payload -= gone
    if k[CN.rcv_edge] <= k[CN.rcv_nxt]:  # tcp_receive_window(tp) == 0: TCPZeroWindowDrop, out_of_window
        st.c[Ctr.TCPZeroWindowDrop] += 1
        k[CN.zwin_drops] += segs
        tcp_incr_quickack(rx, c)
        tcp_ack_now(rx, c, t)
        return TRUE
    need = _rmem_need(st, rx, s, payload)
    nomem = rc[RC.nomem] != Nomem.drop  # before 6.6 an empty queue takes the skb unchecked
    refused = ((k[CN.count] > 0 or nomem) and k[CN.rmem] + need > k[CN.rcvbuf]
               and tcp_prune_queue(st, rx, c, need, seq, cpu) < 0)
    if refused and nomem:
        k[CN.ack_nomem] = 1  # ICSK_ACK_NOMEM | ICSK_ACK_NOW, and inet_csk_schedule_ack()
        k[CN.ack_pending] = 1
    if refused and k[CN.count] > 0:
        st.c[Ctr.TCPRcvQDrop] += 1
        k[CN.rmem_drops] += segs  # every segment of the aggregate is lost
        k[CN.stalls] += 1
        # a buffer that cannot hold an initial window of segments like these, and drops: a trap
        trap = TCP_INIT_CWND * st.skbs[ix(s), SK.truesize] // segs
        if k[CN.rcvbuf] < trap:
            k[CN.trap_drops] += 1
            k[CN.trap_need] = max(k[CN.trap_need], trap)
            connf[ix(c), CF.trapped_at] = min(connf[ix(c), CF.trapped_at], t)
        tcp_data_ready(st, rx, c, t)
        if k[CN.ack_nomem] != 0:
            tcp_send_ack(rx, c, t)  # ICSK_ACK_NOW: __tcp_ack_snd_check() sends it at once, advertising 0
        else:
            tcp_ack_snd_check(rx, c, t)  # before 6.6 nothing more is scheduled: an earlier ACK, if any
        return TRUE
    k[CN.packets] += segs
    # the socket now has data for the next read, whether or not the connection sent since the last
    # (GRO can hold a segment across a read, and an ACK or a poll's end completes it)
    mark_dirty(rx, c)
    truesize = st.skbs[ix(s), SK.truesize]
    tcp_measure_rcv_mss(rc, k, seg, payload, truesize)
    k[CN.rcv_nxt] += payload
    k[CN.held] += st.skbs[ix(s), SK.page_len]
    tcp_event_data_recv(rx, c, t)
    delta = skb_try_coalesce(st, k[CN.tail], s, rc[RC.sizeof_sk_buff]) if k[CN.count] > 0 else -1
    if delta >= 0:
        k[CN.rmem] += delta
        st.c[Ctr.rmem_charged] += delta
    else:
        rcvq_next[ix(s)] = NONE
        if k[CN.count] == 0:
            k[CN.head] = s
        else:
            rcvq_next[ix(k[CN.tail])] = s
        k[CN.tail] = s
        k[CN.count] += 1
        k[CN.rmem] += truesize
        st.c[Ctr.rmem_charged] += truesize
    st.c[Ctr.rmem_charged_payload] += payload
    if payload >= 128:
        tcp_grow_window(rc, k, payload, truesize)
    o = rx.ofo[ix(c)]
    if o[OF.count] > 0:
        tcp_ofo_queue(st, rx, c, cpu)
        tcp_sack_remove(o, k[CN.rcv_nxt])
        tcp_data_ready(st, rx, c, t)
        tcp_send_ack(rx, c, t)  # ICSK_ACK_NOW (a zero-window ACK too, if ICSK_ACK_NOMEM is set)
        return FALSE
    tcp_data_ready(st, rx, c, t)  # (SACK blocks exist only while the out-of-order queue holds data)
    if k[CN.ack_nomem] != 0:
        tcp_send_ack(rx, c, t)  # forced in: ICSK_ACK_NOW, the zero-window ACK at once
    else:
        tcp_ack_snd_check(rx, c, t)
    return FALSE


@inner
def netif_receive_skb(st, rx, c, s, cpu, segs, payload, seg, seq, t):
    """The stack above GRO (__netif_receive_skb_core): a tap (packet socket) may take a clone of the
    skb and consumes it in softirq; then TCP (tcp_v4_rcv -> tcp_data_queue). An skb TCP drops is
    freed here (tcp_drop_reason -> kfree_skb), at one call of skb_free: each inlined copy carries
    page_pool's return path."""
    tap(st, rx, s, cpu)
    if tcp_queue(st, rx, c, s, cpu, segs, payload, seg, seq, t):
        skb_free(st, s, cpu, TRUE)


@inner
def tap(st, rx, s, cpu):
    """A packet socket takes a clone of ``s`` (clone_fraction of the skbs; 0 by default) and consumes it."""
    cf = rx.rf[RF.clone_fraction]
    if cf > 0.0 and np.random.random() < cf:
        _tap_clone(st, s, cpu)


@called  # not inlined: clone_fraction is a what-if, 0 by default
def _tap_clone(st, s, cpu):
    cl = skb_clone(st, s)
    if cl != NONE:
        skb_free(st, cl, cpu, TRUE)
