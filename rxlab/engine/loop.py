"""The RX path's main loop: packets sent round robin over the link (rxlab.engine.sender), each
through the driver's queue, NAPI and GRO to TCP (rxlab.engine.napi), the applications reading at
their times (rxlab.engine.reader), memory sampled over model time; and the teardown.

Model time is in µs. Every packet takes its wire time at the link rate; a connection may
send only as fast as its advertised window allows per RTT, and not at all into a zero
window, so window- and memory-limited throughput show up in delivered bytes.
"""

import numpy as np

from rxlab.engine.jit import inner, ix, kernel
from rxlab.engine.layout import CN, FALSE, NONE, PL, QP, RC, RF, SM, TRUE, G
from rxlab.engine.napi import polls_complete, rx_packet
from rxlab.engine.page_frag import frag_cache_drain
from rxlab.engine.reader import ctz32, mark_dirty, read_all, read_dirty
from rxlab.engine.rxq import detach_queues
from rxlab.engine.sender import sender_pace, sender_pick, sender_resend, sender_soonest
from rxlab.engine.tcp_input import tcp_select_window
from rxlab.kernel.sizes import WIRE_OVERHEAD
from rxlab.kernel.tcp import ACK_LEN


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
    # packet bytes GRO holds sit in pages too, on their way to a socket
    for q in range(rx.qp.shape[0]):
        held += rx.qp[ix(q), QP.gro_page_len]
    samples[ix(i), SM.held] = held


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
    alone, marked in ``rx.dirty`` as they send and as tcp_queue queues (rxlab.engine.reader): the
    cost of a packet does not grow with the number of connections.
    """
    rc, rf, conn = rx.rc, rx.rf, rx.conn
    samples, ratio_hist, prog = rx.samples, rx.ratio_hist, rx.prog
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
            read_dirty(st, rx, t)
            next_read = t + rf[RF.app_read_us]
            rx.next_read[0] = next_read  # a segment dropped now is resent then (tcp_queue)
        if rf[RF.ack_fraction] > 0.0 and np.random.random() < rf[RF.ack_fraction]:
            c = np.random.randint(C)  # an ACK queues nothing itself (tcp_queue marks what GRO completes)
            rx_packet(st, rx, conn[ix(c), CN.queue], c, np.int64(ACK_LEN), TRUE, t)
            t += ack_us
        else:
            pick, soonest = sender_pick(rx, cursor, t)
            if pick == NONE:  # the link idles until a sender may send or the applications read
                if polls_complete(st, rx, t) > 0:  # what went up may be dropped: its sender waits
                    soonest = sender_soonest(rx)
                t = max(t, min(soonest, next_read))
                continue
            cursor = pick + 1
            sender_resend(rx, pick)
            mark_dirty(rx, pick)
            k = conn[ix(pick)]
            drops = k[CN.rmem_drops]
            # the ACK's argument types: one compilation of rx_packet, inlined here twice (one call
            # site for both measured ~4% more instructions a packet: the data path keeps ACK code)
            rx_packet(st, rx, k[CN.queue], pick, mtu, FALSE, t)
            ratio = tcp_select_window(rx, pick)
            sender_pace(rx, pick, k[CN.rmem_drops] != drops, t, next_read, mtu, rtt)
            ratio_hist[ix(min(nbins - 1, ratio * nbins // 256))] += 1
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
def drain_frag_caches(st):
    """Every CPU's page_frag cache gives its page back."""
    for cpu in range(st.frag_caches.shape[0]):
        frag_cache_drain(st, cpu)


def teardown(st, rx):
    """Stop traffic and free everything, as unloading the driver does: the last polls complete,
    applications read what is queued, the queues are detached, and the per-CPU page_frag caches
    are drained. Kernel by kernel from Python, so that none compiles another's code again."""
    polls_complete(st, rx, np.inf)  # run_all flushed GRO when traffic stopped: nothing goes up
    read_all(st, rx)
    detach_queues(st, rx)
    drain_frag_caches(st)

