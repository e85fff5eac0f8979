"""The RX path's main loop: TSO skbs from the senders over the link (rxlab.engine.sender), each
segment through the driver's queue, NAPI and GRO to TCP (rxlab.engine.napi), ACKs back to the
senders and the timers (rxlab.engine.tcp_output, rxlab.engine.timers), the applications reading
when woken (rxlab.engine.reader), memory sampled over model time; and the teardown.

Model time is in µs. Every packet takes its wire time at the link rate; a sender sends what its
congestion window and the window the receiver last advertised allow, so window- and memory-limited
throughput show up in delivered bytes.
"""

import numpy as np

from rxlab.engine.jit import inner, ix, kernel
from rxlab.engine.layout import AK, CN, EV, NONE, PL, QP, RC, RF, SM, G, Timer
from rxlab.engine.napi import (
    ACK,
    DATA,
    napi_complete_done,
    napi_ring_busy,
    polls_complete,
    rx_packet,
    rx_packet_call,
    tpa_frame,
    tpa_timeout,
)
from rxlab.engine.page_frag import frag_cache_drain
from rxlab.engine.reader import any_dirty, ctz32, read_all, read_dirty, reader_wake
from rxlab.engine.rxq import detach_queues
from rxlab.engine.sender import sender_sent, sender_xmit, sndq_pop, tcp_ack, tcp_xmit_timer
from rxlab.engine.tcp_ofo import tcp_ofo_purge
from rxlab.engine.tcp_output import tcp_ack_now, tcp_send_ack
from rxlab.engine.timers import timer_fired, timer_next
from rxlab.kernel.sizes import WIRE_OVERHEAD
from rxlab.kernel.tcp import ACK_LEN, TCP_IP_HEADERS

ACK_PACKET, PROBE_PACKET, DATA_PACKET = 0, 1, 2  # what the link sends next: a pure ACK, a zero-window probe, data


@inner
def _sample(st, rx, i, t):
    """Memory over model time. Receive memory, queued skbs and the packet bytes they hold in
    pages are summed over the connections marked since the applications last read: the others'
    sockets are empty (run). RX ring buffers are posted empty (a packet's buffer is
    replaced before it goes up), so they pin pages without holding packet data."""
    conn, samples, dirty, dirty_words = rx.conn, rx.samples, rx.dirty, rx.dirty_words
    samples[ix(i), SM.t_us] = t
    samples[ix(i), SM.mem_used] = st.glob[G.mem_used]
    infl = 0
    for q in range(st.pools.shape[0]):
        infl += st.pools[ix(q), PL.hold_cnt] - st.pools[ix(q), PL.release_cnt]
    samples[ix(i), SM.inflight] = infl
    rmem = 0
    queued = 0
    held = 0
    for w1 in range(dirty_words.shape[0]):
        words = dirty_words[ix(w1)]
        while words != 0:
            low = words & -words
            words ^= low
            w = (w1 << 5) + ctz32(low)
            bits = dirty[ix(w)]
            while bits != 0:
                lowc = bits & -bits
                bits ^= lowc
                c = (w << 5) + ctz32(lowc)
                rmem += conn[ix(c), CN.rmem]
                queued += conn[ix(c), CN.count]
                held += conn[ix(c), CN.held]
    samples[ix(i), SM.rmem] = rmem
    samples[ix(i), SM.queued] = queued
    # packet bytes GRO holds sit in pages too, on their way to a socket, as do those of bnxt's open TPA aggregations
    for q in range(rx.qp.shape[0]):
        held += rx.qp[ix(q), QP.gro_page_len] + rx.qp[ix(q), QP.tpa_bytes]
    samples[ix(i), SM.held] = held


@kernel
def seed_rng(seed):
    """Seed the generator the run draws from (numba's own under JIT, NumPy's without)."""
    np.random.seed(seed)


@inner
def next_event(rx):
    """The next timer (rxlab.engine.timers: its slot and time), and the next event's time: an ACK
    reaching its sender, or that timer."""
    slot, due = timer_next(rx)
    when = due
    if rx.evq[EV.ack_count] > 0:
        when = min(due, rx.ack_t[ix(rx.evq[EV.ack_head])])
    return slot, due, when


@inner
def run_event(st, rx, slot, due):
    """The next event, timer ``slot`` being the next timer, due at ``due`` (next_event): an ACK first
    when one is due with it (tcp_ack), else the timer (the sender's, the delayed ACK, a reader's
    wake-up, a NAPI poll's end, a TPA aggregation's end)."""
    ev = rx.evq
    if ev[EV.ack_count] > 0 and rx.ack_t[ix(ev[EV.ack_head])] <= due:
        i = ev[EV.ack_head]
        ev[EV.ack_head] = i + 1 if i + 1 < rx.ack_t.shape[0] else 0
        ev[EV.ack_count] -= 1
        a = rx.ack[ix(i)]
        tcp_ack(rx, a[AK.conn], a[AK.seq], a[AK.edge], rx.ack_t[ix(i)], a)
        return
    timer_fired(rx, slot)
    C, Q = rx.rc[RC.conns], rx.rc[RC.queues]
    if slot >= C * Timer.n + Q:  # bnxt's oldest TPA aggregation on the queue times out: its poll ends at once
        tpa_timeout(st, rx, slot - C * Timer.n - Q, due)
        return
    if slot >= C * Timer.n:
        napi_complete_done(st, rx, slot - C * Timer.n, due)
        return
    c = slot // Timer.n
    kind = slot - c * Timer.n
    if kind == Timer.xmit:
        tcp_xmit_timer(rx, c, due)
    elif kind == Timer.delack:
        tcp_send_ack(rx, c, due)
    else:
        reader_wake(st, rx, c, due)


@kernel
def run(st, rx, t, stop):
    """Send packets through the RX path until ``stop`` have been sent; returns the model time (µs).

    ``prog`` carries [packets sent, the connection whose TSO skb is on the wire, samples taken] from
    one call to the next, so a run can stop for a reconfiguration and go on.

    Events (ACKs reaching the senders, timers: rxlab.engine.timers) due by the time the link is free
    run first, in time order; then the link sends the next segment of the TSO skb it is on, or of the
    next sender that may send (rxlab.engine.sender). With none, the link idles until the next event
    (a queue's NAPI poll ends at its own, rxlab.engine.napi.napi_ring_busy). Periodic readers
    (Reader.periodic) read at every multiple of app_read_us (``rx.next_read``; inf for readers woken by
    data); the
    connections that queued data since are marked in ``rx.dirty`` (rxlab.engine.reader), so a read
    visits those alone.
    """
    rc, rf, conn = rx.rc, rx.rf, rx.conn
    samples, ratio_hist, prog = rx.samples, rx.ratio_hist, rx.prog
    C = rc[RC.conns]
    mtu = rc[RC.mtu]
    wire_us = (mtu + WIRE_OVERHEAD) * 8.0 / (rf[RF.link_gbps] * 1000.0)
    ack_us = (ACK_LEN + WIRE_OVERHEAD) * 8.0 / (rf[RF.link_gbps] * 1000.0)
    next_read = rx.next_read[0]
    sent, cur, n_samples = prog[0], prog[1], prog[2]
    every = rc[RC.sample_every]
    next_sample = (sent // every + 1) * every
    nbins = ratio_hist.shape[0]
    while sent < stop:
        slot, due, when = next_event(rx)
        if when <= t:
            run_event(st, rx, slot, due)
            # only an event ends a TSO skb early (its segments leave it at sender_sent)
            if cur != NONE and conn[ix(cur), CN.burst] == 0 and conn[ix(cur), CN.xmit_probe] == 0:
                cur = NONE  # an RTO ended its TSO skb (it queued the sender again)
            continue
        if t >= next_read:
            read_dirty(st, rx, t)
            next_read = (np.floor(t / rf[RF.app_read_us]) + 1.0) * rf[RF.app_read_us]
            rx.next_read[0] = next_read
        if rf[RF.ack_fraction] > 0.0 and np.random.random() < rf[RF.ack_fraction]:
            c = np.random.randint(C)  # an ACK queues nothing itself (tcp_queue marks what GRO completes)
            what, length, wire = ACK_PACKET, np.int64(ACK_LEN), ack_us
        else:
            if cur == NONE:
                cur = sndq_pop(rx)
            if cur == NONE:  # the link idles until an event or the applications read
                _, _, due = next_event(rx)  # a read since may have sent an ACK
                if next_read < due < np.inf and not any_dirty(rx):
                    # reads of empty sockets change nothing: the next that may matter is the first at or
                    # after the event (a sender timing out again and again idles the link for minutes)
                    next_read = np.ceil(due / rf[RF.app_read_us]) * rf[RF.app_read_us]
                    rx.next_read[0] = next_read
                t = max(t, min(due, next_read))
                continue
            c = cur
            seq = sender_xmit(rx, c, t)
            if seq == NONE:  # a zero-window probe: no data, answered by an ACK of the window at once
                what, length, wire = PROBE_PACKET, np.int64(ACK_LEN), ack_us
            else:
                conn[ix(c), CN.seg_seq] = seq
                # a segment cut to the window (rxlab.engine.tcp_rtx) is shorter on the wire (within an
                # MTU lowered since advmss was set, as a whole segment is)
                what, length, wire = DATA_PACKET, mtu, wire_us
                if conn[ix(c), CN.seg_len] != rc[RC.advmss]:
                    length = np.int64(min(mtu, TCP_IP_HEADERS + conn[ix(c), CN.seg_len]))
                    wire = (length + WIRE_OVERHEAD) * 8.0 / (rf[RF.link_gbps] * 1000.0)
        k = conn[ix(c)]
        # rx_packet inlines the driver's, GRO's and TCP's receive paths, and LLVM compiles every inlined
        # copy: data, the hot path, inlines its one copy; the rare pure ACKs and zero-window probes
        # (ack_fraction is 0 by default) call a function that holds another
        # in a run with hardware GRO the device sees the frame first (a call: no cost to other runs)
        if not rc[RC.tpa] or tpa_frame(st, rx, k[CN.queue], c, length, DATA if what == DATA_PACKET else ACK, t):
            if what == DATA_PACKET:
                rx_packet(st, rx, k[CN.queue], c, length, DATA, t)
            else:
                rx_packet_call(st, rx, k[CN.queue], c, length, ACK, t)
        if what == PROBE_PACKET:
            tcp_ack_now(rx, c, t)
        elif what == DATA_PACKET:
            ratio = k[CN.scaling] if k[CN.scaling] > 0 else rc[RC.scaling_init]
            ratio_hist[ix(min(nbins - 1, ratio * nbins // 256))] += 1
        t += wire
        napi_ring_busy(rx, k[CN.queue], t + 0.5 * wire)
        if what != ACK_PACKET and not sender_sent(rx, c, t):
            cur = NONE
        sent += 1
        if sent == next_sample:
            next_sample += every
            if n_samples < samples.shape[0]:
                _sample(st, rx, n_samples, t)
                n_samples += 1
    prog[0], prog[1], prog[2] = sent, cur, n_samples
    rx.next_read[0] = next_read
    return t


@kernel
def drain_frag_caches(st):
    """Every CPU's page_frag cache gives its page back."""
    for cpu in range(st.frag_caches.shape[0]):
        frag_cache_drain(st, cpu)


def teardown(st, rx):
    """Stop traffic and free everything, as unloading the driver does: the last polls complete,
    applications read what is queued, the sockets' out-of-order queues are purged, the queues are
    detached, and the per-CPU page_frag caches are drained. Kernel by kernel from Python, so that none compiles another's code again."""
    polls_complete(st, rx, np.inf)  # run_all flushed GRO when traffic stopped: nothing goes up
    read_all(st, rx)
    tcp_ofo_purge(st, rx)
    detach_queues(st, rx)
    drain_frag_caches(st)

