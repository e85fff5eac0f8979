"""The applications that read their sockets (net/ipv4/tcp.c tcp_recvmsg, tcp_rcv_space_adjust;
net/core/skbuff.c skb_attempt_defer_free): each woken by its data (tcp_data_ready), or, as a
what-if, all together every app_read_us (Reader.periodic); and which sockets have anything to read:
a two-level bitmap of the connections TCP queued data for since their last read."""

import numpy as np

from rxlab.counters import Ctr
from rxlab.engine.jit import inner, ix, kernel
from rxlab.engine.layout import CF, CN, FALSE, OF, QP, RC, RF, SK, TRUE, Reader, Timer
from rxlab.engine.page_pool import ptr_ring_clock
from rxlab.engine.skb import skb_free
from rxlab.engine.state import reader_state
from rxlab.engine.tcp import tcp_rcvbuf_grow, tcp_win_from_space
from rxlab.engine.tcp_output import tcp_cleanup_rbuf
from rxlab.engine.timers import timer_arm
from rxlab.kernel.tcp import TCP_IP_HEADERS

# ctz of a 32-bit power of two: its de Bruijn product's top 5 bits index this table
_CTZ32 = np.array([0, 1, 28, 2, 29, 14, 24, 3, 30, 22, 20, 15, 25, 17, 4, 8,
                   31, 27, 13, 23, 21, 19, 16, 7, 26, 12, 18, 6, 11, 5, 10, 9], np.int64)


@inner
def ctz32(low):
    """Index of the bit ``low`` (a power of two below 2**32)."""
    return _CTZ32[ix(((low * 0x077CB531) & 0xFFFFFFFF) >> 27)]


@inner
def mark_dirty(rx, c):
    bit = 1 << (c & 31)
    if (rx.dirty[ix(c >> 5)] & bit) == 0:  # most packets find their connection marked already
        rx.dirty[ix(c >> 5)] |= bit
        rx.dirty_words[ix(c >> 10)] |= 1 << ((c >> 5) & 31)


@inner
def rcv_space_adjust(rx, c, t):
    """tcp_rcv_space_adjust() after the application read (tcp_recvmsg): at most once per RTT
    (rxlab's rcv_rtt_est is the configured RTT), the payload copied since the last measurement
    (rxlab's readers empty the queue, so nothing is left in it to subtract); if it is more than
    rcvq_space.space ever was, autotuning (net.ipv4.tcp_moderate_rcvbuf, not with SO_RCVBUF) raises
    sk_rcvbuf to tcp_rcvbuf_grow()'s value if larger, and window_clamp follows it ("Make the window
    clamp follow along": tcp_win_from_space(sk_rcvbuf)); rcvq_space.space becomes what was copied."""
    rc, rf = rx.rc, rx.rf
    k = rx.conn[ix(c)]
    kf = rx.connf[ix(c)]
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
            if rcvbuf > k[CN.rcvbuf]:
                k[CN.rcvbuf] = rcvbuf
                k[CN.window_clamp] = tcp_win_from_space(rcvbuf, ratio, rc[RC.win_mode], rc[RC.adv_win_scale])
        k[CN.rcvq_space] = copied
    k[CN.rcvq_seq] = k[CN.rcv_nxt]
    kf[CF.rcvq_time] = t


@inner
def tcp_data_ready(st, rx, c, t):
    """tcp_data_ready() -> sk_data_ready when tcp_epollin_ready(): at least SO_RCVLOWAT bytes unread,
    or the socket's memory above 7/8 of sk_rcvbuf (tcp_rmem_pressure), or the window down to a
    segment. A reader asleep in tcp_recvmsg() (sk_wait_data) is woken: it runs after its scheduling
    latency, drawn from a log-logistic distribution of shape 2 around the median ``wake_us``
    (``wake_us * sqrt(u / (1 - u))``: a tenth of wakes wait 3 x the median or more, a hundredth 10 x;
    the median and its sources are data/read_model.md's, the shape is rxlab's assumption, and sqrt,
    correctly rounded everywhere, keeps the oracle's draws bit-identical). A periodic reader
    (Reader.periodic) is not woken."""
    rc = rx.rc
    k = rx.conn[ix(c)]
    if rc[RC.reader] != Reader.woken or k[CN.reader_woken] != 0:
        return
    avail = k[CN.rcv_nxt] - k[CN.copied_seq]
    if avail <= 0:
        return
    if (avail >= rc[RC.rcvlowat] or k[CN.rmem] > k[CN.rcvbuf] - (k[CN.rcvbuf] >> 3)
            or k[CN.rcv_edge] - k[CN.rcv_nxt] <= k[CN.rcv_mss]):
        k[CN.reader_woken] = 1
        k[CN.wakes] += 1
        u = np.random.random()
        wait = rx.rf[RF.wake_us] * np.sqrt(u / (1.0 - u))
        timer_arm(rx, c * Timer.n + Timer.wake, t + wait)


@inner
def reader_wake(st, rx, c, t):
    """Connection ``c``'s reader runs at ``t``, woken for its data: it reads all that is queued
    (tcp_recvmsg) and sleeps again; the socket is no longer marked for sampling."""
    rx.conn[ix(c), CN.reader_woken] = 0
    if rx.ofo[ix(c), OF.count] == 0:  # out-of-order skbs stay charged after the read
        w = c >> 5
        rx.dirty[ix(w)] &= ~(1 << (c & 31))
        if rx.dirty[ix(w)] == 0:  # so that the scans of rx.dirty_words skip the word
            rx.dirty_words[ix(w >> 5)] &= ~(1 << (w & 31))
    app_read(st, rx, c, t)


@inner
def app_read(st, rx, c, t):
    """The application drains its socket (tcp_recvmsg): each skb is freed on the reading CPU,
    or handed back to the CPU that allocated it (skb_attempt_defer_free) and freed there in
    softirq, where its pages can go straight to the pool's alloc cache. That CPU takes at most
    skb_defer_max - 1 skbs between two polls (``atomic_long_inc_return(&defer_count) >=
    defer_max`` -> nodefer): the rest are freed here, on the reading CPU. Then, as
    tcp_recvmsg_locked() does after copying, tcp_rcv_space_adjust() and tcp_cleanup_rbuf() (which
    may send an ACK with the window the read opened)."""
    qp, rc, conn, rcvq_next = rx.qp, rx.rc, rx.conn, rx.rcvq_next
    k = conn[ix(c)]
    if k[CN.count] == 0:
        return
    p = qp[ix(k[CN.queue])]
    napi = p[QP.napi_cpu]
    # what the reading CPU does is counted in its CPU class's row (a reader on the NAPI CPU itself,
    # app_cpus='napi', is a NAPI CPU); a deferred skb is freed on, and counted for, its NAPI CPU
    sr = reader_state(st) if k[CN.app_cpu] != napi else st
    ptr_ring_clock(st, t)  # its frees return pages at t (page_pool._producer_lock)
    sr.c[Ctr.tcp_recvmsg] += 1
    before = k[CN.delivered]
    while k[CN.count] > 0:
        s = k[CN.head]
        k[CN.head] = rcvq_next[ix(s)]
        k[CN.count] -= 1
        k[CN.rmem] -= st.skbs[ix(s), SK.truesize]
        k[CN.held] -= st.skbs[ix(s), SK.page_len]
        k[CN.delivered] += st.skbs[ix(s), SK.len]
        if rc[RC.defer_free] and k[CN.app_cpu] != napi:
            p[QP.defer_count] += 1
            if p[QP.defer_count] < rc[RC.defer_max]:
                sr.c[Ctr.skb_defer_free] += 1
                skb_free(st, s, napi, TRUE)
                continue
            sr.c[Ctr.skb_defer_full] += 1
        skb_free(sr, s, k[CN.app_cpu], FALSE)
    k[CN.copied_seq] = k[CN.rcv_nxt]
    # skb_copy_datagram_iter(): the payload read, its bytes less a TCP/IP header per MTU-sized segment
    mtu = rc[RC.mtu]
    sr.c[Ctr.bytes_to_user] += (k[CN.delivered] - before) * (mtu - TCP_IP_HEADERS) // mtu
    if t < np.inf:  # not the teardown's last read
        rcv_space_adjust(rx, c, t)
        tcp_cleanup_rbuf(rx, c, t)


@inner
def any_dirty(rx):
    """Whether a read would find data: a connection marked since the applications last read whose
    receive queue holds skbs (one marked for its out-of-order queue alone has nothing to read)."""
    for w1 in range(rx.dirty_words.shape[0]):
        words = rx.dirty_words[ix(w1)]
        while words != 0:
            low = words & -words
            words ^= low
            w = (w1 << 5) + ctz32(low)
            bits = rx.dirty[ix(w)]
            while bits != 0:
                lowc = bits & -bits
                bits ^= lowc
                if rx.conn[ix((w << 5) + ctz32(lowc)), CN.count] > 0:
                    return True
    return False


@inner
def read_dirty(st, rx, t):
    """The applications read at ``t``: every connection marked dirty, in connection order (as a scan
    of all of them would), and the marks cleared."""
    dirty, dirty_words = rx.dirty, rx.dirty_words
    for w1 in range(dirty_words.shape[0]):
        words = dirty_words[ix(w1)]
        dirty_words[ix(w1)] = 0
        while words != 0:
            low = words & -words
            words ^= low
            w = (w1 << 5) + ctz32(low)
            bits = dirty[ix(w)]
            dirty[ix(w)] = 0
            while bits != 0:
                lowc = bits & -bits
                bits ^= lowc
                c = (w << 5) + ctz32(lowc)
                app_read(st, rx, c, t)
                if rx.ofo[ix(c), OF.count] > 0:  # out-of-order skbs stay charged: still sampled
                    mark_dirty(rx, c)


@kernel
def read_all(st, rx):
    """Every application reads all its socket holds (the last read, at no time limit)."""
    for c in range(rx.rc[RC.conns]):
        app_read(st, rx, c, np.inf)

