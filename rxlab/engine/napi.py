"""NAPI: a poll takes completions from a queue's ring up to napi_budget (net/core/dev.c
__napi_poll, napi_complete_done), each through the driver (rxlab.engine.rxq.rx_cqe) and GRO
(rxlab.engine.gro) to the stack above it (rxlab.engine.tcp_input.netif_receive_skb)."""

import numpy as np

from rxlab.engine.gro import (
    gro_takes_head,
    napi_gro_complete,
    napi_gro_flush_one,
    napi_gro_receive,
    napi_gro_receive_head,
    napi_gro_receive_hw,
)
from rxlab.engine.jit import called, inner, ix, kernel
from rxlab.engine.layout import CN, FALSE, GR, NONE, QP, QS, RC, TRUE, Timer
from rxlab.engine.page_pool import ptr_ring_clock
from rxlab.engine.rxq import rx_cqe, rxq_poll_end
from rxlab.engine.rxq_bnxt_tpa import (
    TPA_END_FIRST,
    TPA_L2,
    TPA_TOOK_END,
    bnxt_tpa_end,
    bnxt_tpa_rx,
    tpa_oldest_conn,
)
from rxlab.engine.rxq_mana import rx_skb
from rxlab.engine.rxq_shared import rx_truesize
from rxlab.engine.skb import skb_free
from rxlab.engine.tcp_input import netif_receive_skb, tap
from rxlab.engine.timers import timer_arm_pending, timer_cancel
from rxlab.kernel.tcp import TCP_IP_HEADERS

DATA, ACK, TPA_END = FALSE, TRUE, np.int64(2)  # what a completion is (rx_packet's kind)
NO_FRAME = np.int64(0)  # a TPA_END's length: it has no frame of its own (an int64, not a literal 0)


@inner
def napi_gro_flush(st, rx, q, cpu, t):
    """napi_gro_flush(napi, false) at ``t``: every aggregate queue ``q`` holds goes up the stack."""
    while rx.qp[ix(q), QP.gro_count] > 0:
        c, p, segs, payload, seg, seq = napi_gro_flush_one(st, rx, q)
        netif_receive_skb(st, rx, c, p, cpu, segs, payload, seg, seq, t)


@inner
def napi_complete_done(st, rx, q, t):
    """Queue ``q``'s ring is empty at ``t``: its poll ends with napi_complete_done(), which flushes what
    GRO holds; the next packet starts a new poll. Returns how many aggregates went up."""
    n = rx.qp[ix(q), QP.gro_count]
    rx.qp[ix(q), QP.napi_left] = 0
    ptr_ring_clock(st, t)  # what goes up may free pages at t (page_pool._producer_lock)
    rxq_poll_end(st, rx, q)
    napi_gro_flush(st, rx, q, rx.qp[ix(q), QP.napi_cpu], t)
    return n


@inner
def napi_ring_busy(rx, q, t):
    """A packet reached queue ``q``'s ring, the link free again at ``t``: the ring is empty, and the
    poll ends (napi_complete_done), unless another packet for the queue follows at once. rxlab
    does not time the CPU: a poll takes what arrives back to back (a TSO skb of one flow, as
    GRO needs it) and ends half a packet's time after the link stops feeding its ring."""
    timer_arm_pending(rx, rx.rc[RC.conns] * Timer.n + q, t)


@kernel
def polls_complete(st, rx, t):
    """Every ring is empty at ``t`` (traffic stopped, or a reconfiguration): each queue's poll ends.
    Returns how many aggregates went up from GRO at the polls' ends."""
    ptr_ring_clock(st, t)
    n = 0
    for q in range(rx.rc[RC.queues]):
        while rx.qp[ix(q), QP.tpa_oldest] != NONE:  # bnxt's device ends its open aggregations (TPA) first
            rx_packet_call(st, rx, q, tpa_oldest_conn(rx, q), NO_FRAME, TPA_END, t)
        timer_cancel(rx, rx.rc[RC.conns] * Timer.n + q)
        n += napi_complete_done(st, rx, q, t)
    return n


@inner
def rx_packet(st, rx, q, c, length, kind, t):
    """One completion on queue ``q`` of connection ``c``: a data segment (``kind`` DATA) or a pure ACK or
    probe (ACK) through the driver (rx_cqe; rx_skb builds the skb on its buffer), or the TPA_END of the
    flow's aggregation on bnxt's device (TPA_END: rxlab.engine.rxq_bnxt_tpa), then napi_gro_receive():
    data goes through GRO (or, with GRO off, up the stack alone), and a segment that merges into its
    flow's aggregate by its head goes there without an skb (gro_takes_head: only the kernel's effects of
    building and merging it are kept); a pure ACK completes its flow's held aggregate (tcp_gro_receive:
    its ack_seq differs and it is shorter than the mss) and goes up alone, where TCP consumes it; a TPA
    skb goes through GRO as bnxt_gro_skb() left it (napi_gro_receive_hw), a short GSO one up after what
    it completed. When the completion is the poll's last (napi_budget taken), __napi_poll()
    (net/core/dev.c) flushes every aggregate the queue holds: napi_gro_flush(n, HZ >= 1000), as on a
    kernel built with HZ below 1000 (with HZ = 1000 only those held a jiffy go). rxlab's polls take at
    most napi_budget packets, and end when the link stops feeding the queue's ring (napi_ring_busy,
    napi_complete_done).

    What goes up the stack does so from one call of netif_receive_skb (which inlines all of TCP's
    receive path): the aggregate GRO completed, then each one the poll's end flushes."""
    ptr_ring_clock(st, t)
    p = rx.qp[ix(q)]
    cpu = p[QP.napi_cpu]
    up = (c, NONE, 0, 0, 0, 0)
    after = up  # a short GSO skb of bnxt's TPA, up after the aggregate it completed (GRO_NORMAL)
    if kind == TPA_END:
        s, segs, pl, mss, seq = bnxt_tpa_end(st, rx, q, rx.gro[ix(c), GR.tpa])
        if s != NONE:
            up, whole = napi_gro_receive_hw(st, rx, q, c, s, segs, pl, mss, seq)
            if whole:
                after = (c, s, segs, pl, mss, seq)
        s = NONE
    else:
        s, b = rx_cqe(st, rx, q, length, t)
        payload = length - TCP_IP_HEADERS
        if b != NONE and kind == DATA and rx.rc[RC.gro] and gro_takes_head(st, rx, c, b, payload):
            up = napi_gro_receive_head(st, rx, q, c, b, rx_truesize(rx, q), length, payload)
        else:
            if b != NONE:
                s = rx_skb(st, rx, q, b, length)
            if s != NONE:
                if kind == ACK:
                    rx.qstats[ix(q), QS.acks] += 1
                    if rx.gro[ix(c), GR.skb] != NONE:
                        up = napi_gro_complete(st, rx, q, c)
                elif rx.rc[RC.gro]:
                    up = napi_gro_receive(st, rx, q, c, s, payload)
                else:
                    up = (c, s, 1, payload, payload, rx.conn[ix(c), CN.seg_seq])
    while True:
        uc, us, segs, payload, seg, seq = up
        if us != NONE:
            netif_receive_skb(st, rx, uc, us, cpu, segs, payload, seg, seq, t)
        if kind == TPA_END and after[1] != NONE:
            up, after = after, (c, NONE, 0, 0, 0, 0)
            continue
        if s != NONE and kind == ACK:  # TCP consumes the ACK, after the aggregate it completed
            tap(st, rx, s, cpu)
            skb_free(st, s, cpu, TRUE)
            s = NONE
        if p[QP.napi_left] > 0 or p[QP.gro_count] == 0:
            return
        up = napi_gro_flush_one(st, rx, q)


@called
def rx_packet_call(st, rx, q, c, length, kind, t):
    """rx_packet() in a function of its own, which run calls rather than inlines (rxlab.engine.jit.called):
    for the completions the loop rarely takes, pure ACKs, zero-window probes and TPA_ENDs."""
    rx_packet(st, rx, q, c, length, kind, t)


@called
def tpa_frame(st, rx, q, c, length, kind, t):
    """A frame of connection ``c`` reaches queue ``q``'s device at ``t`` in a run with hardware GRO. With
    TPA on the queue (bnxt's) the device sees it first: it may take it into the flow's aggregation, or
    end that aggregation first, whose TPA_END the poll takes (rx_packet_call) before the frame goes on.
    Returns whether the frame is an L2 completion for rx_packet(). A function of its own: the loop
    calls it only in runs with hardware GRO (RC.tpa)."""
    if not rx.qp[ix(q), QP.tpa_on] or (kind != DATA and rx.gro[ix(c), GR.tpa] == NONE):
        return True
    r = bnxt_tpa_rx(st, rx, q, c, length, kind, t)
    if r == TPA_END_FIRST:
        rx_packet_call(st, rx, q, c, length, TPA_END, t)
        r = bnxt_tpa_rx(st, rx, q, c, length, kind, t)
    elif r == TPA_TOOK_END:
        rx_packet_call(st, rx, q, c, length, TPA_END, t)
    return r == TPA_L2


@called
def tpa_timeout(st, rx, q, t):
    """Queue ``q``'s oldest TPA aggregation times out at ``t``: the poll takes its TPA_END and, the ring
    empty, ends at once."""
    rx_packet_call(st, rx, q, tpa_oldest_conn(rx, q), NO_FRAME, TPA_END, t)
    napi_ring_busy(rx, q, t)
