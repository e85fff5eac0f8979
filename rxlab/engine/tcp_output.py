"""The receiver's ACKs (net/ipv4/tcp_input.c __tcp_ack_snd_check, tcp_event_data_recv;
net/ipv4/tcp_output.c tcp_send_ack, tcp_send_delayed_ack; net/ipv4/tcp.c __tcp_cleanup_rbuf): when
an ACK goes out, the window it advertises, and its way back to the sender, which it reaches one RTT
later (``rx.ack``: every ACK takes the same time, so the ring is in order of arrival)."""

from rxlab.engine.jit import inner, ix
from rxlab.engine.layout import AK, CF, CN, EV, OF, RC, RF, Timer
from rxlab.engine.tcp import __tcp_select_window, tcp_select_window
from rxlab.engine.tcp_ofo import tcp_dsack_set
from rxlab.engine.timers import timer_arm, timer_cancel
from rxlab.kernel.tcp import TCP_DELACK_MIN_US, TCP_MAX_QUICKACKS, TCP_RTO_MIN_US, TCP_SACK_BLOCKS_SENT


@inner
def tcp_send_ack(rx, c, t):
    """tcp_send_ack(): an ACK of rcv_nxt, advertising tcp_select_window()'s window (rxlab.engine.tcp:
    rcv_wup becomes rcv_nxt, the offered window is not shrunk) and the first SACK blocks
    (tcp_established_options: TCP_SACK_BLOCKS_SENT beside the timestamps), or a D-SACK block pending
    and one SACK block fewer (eff_sacks = num_sacks + dsack; tcp_options_write writes it first and
    clears it; rxlab beside them). It reaches the sender at ``t`` + RTT.
    The delayed ACK is cancelled and quick-ack mode counts one ACK down (tcp_event_ack_sent,
    tcp_dec_quickack_mode)."""
    k = rx.conn[ix(c)]
    edge = tcp_select_window(rx, c)
    if k[CN.ack_pending] != 0:
        if k[CN.ack_quick] > 0:
            k[CN.ack_quick] -= 1
        k[CN.ack_pending] = 0
        timer_cancel(rx, c * Timer.n + Timer.delack)
    k[CN.acks_sent] += 1
    o = rx.ofo[ix(c)]
    dsack_end = o[OF.dsack + 1]  # sent with this ACK, so no longer pending
    o[OF.dsack + 1] = 0
    ev = rx.evq
    cap = rx.ack_t.shape[0]
    if ev[EV.ack_count] == cap:
        ev[EV.ack_ring_full] += 1
        return
    i = ev[EV.ack_head] + ev[EV.ack_count]
    i = i - cap if i >= cap else i
    rx.ack_t[ix(i)] = t + rx.rf[RF.rtt_us]
    a = rx.ack[ix(i)]
    a[AK.conn] = c
    a[AK.seq] = k[CN.rcv_nxt]
    a[AK.edge] = edge
    n = min(o[OF.num_sacks], TCP_SACK_BLOCKS_SENT - (dsack_end != 0))
    for j in range(n):
        a[ix(AK.sack + 2 * j)] = o[ix(OF.sack + 2 * j)]
        a[ix(AK.sack + 2 * j + 1)] = o[ix(OF.sack + 2 * j + 1)]
    if n < TCP_SACK_BLOCKS_SENT:
        a[ix(AK.sack + 2 * n + 1)] = 0  # the blocks end with an empty one
    a[AK.dsack] = o[OF.dsack]
    a[AK.dsack + 1] = dsack_end
    ev[EV.ack_count] += 1


@inner
def tcp_send_dsack(rx, c, t, start, end):
    """A segment [start, end) that arrived again, all of it below rcv_nxt: tcp_dsack_set() and the
    immediate ACK tcp_data_queue() forces ("A retransmit, 2nd most common case"), which carries the
    D-SACK block (tcp_send_ack)."""
    tcp_dsack_set(rx.ofo[ix(c)], start, end)
    tcp_incr_quickack(rx, c)
    tcp_ack_now(rx, c, t)


@inner
def tcp_incr_quickack(rx, c):
    """tcp_incr_quickack(sk, TCP_MAX_QUICKACKS): rcv_wnd / (2 x rcv_mss) ACKs (at least 2, at most 16)
    go out at once."""
    k = rx.conn[ix(c)]
    quick = (k[CN.rcv_edge] - k[CN.rcv_wup]) // (2 * k[CN.rcv_mss])  # rcv_wnd
    quick = min(2 if quick == 0 else quick, TCP_MAX_QUICKACKS)
    k[CN.ack_quick] = max(k[CN.ack_quick], quick)


@inner
def tcp_event_data_recv(rx, c, t):
    """tcp_event_data_recv(): an ACK is scheduled; quick-ack mode on the connection's first data, and
    again after a gap longer than the RTO (its RTO is the RTT + TCP_RTO_MIN; lrcvtime starts at -inf,
    so the first data is such a gap)."""
    k = rx.conn[ix(c)]
    kf = rx.connf[ix(c)]
    if t - kf[CF.lrcvtime] > rx.rf[RF.rtt_us] + TCP_RTO_MIN_US:
        tcp_incr_quickack(rx, c)
    kf[CF.lrcvtime] = t
    k[CN.ack_pending] = 1


@inner
def tcp_ack_snd_check(rx, c, t):
    """__tcp_ack_snd_check() after data was queued: an ACK now if more than one full segment is not
    acknowledged and the window does not shrink (or less than SO_RCVLOWAT is queued), or in
    quick-ack mode; else the delayed ACK (tcp_send_delayed_ack: icsk_ack.ato, TCP_ATO_MIN = 40 ms
    while segments keep arriving, an earlier timer kept, and the ACK sent now when that timer is
    "about to expire", within ato >> 2)."""
    k = rx.conn[ix(c)]
    if k[CN.ack_pending] == 0:
        return
    if ((k[CN.rcv_nxt] - k[CN.rcv_wup] > k[CN.rcv_mss]
         and (k[CN.rcv_nxt] - k[CN.copied_seq] < rx.rc[RC.rcvlowat]
              or __tcp_select_window(rx.rc, k) >= k[CN.rcv_edge] - k[CN.rcv_wup]))
            or k[CN.ack_quick] > 0):
        tcp_send_ack(rx, c, t)
        return
    slot = c * Timer.n + Timer.delack
    due = rx.tq_due[ix(slot)]
    if due <= t + (TCP_DELACK_MIN_US >> 2):
        tcp_send_ack(rx, c, t)
    elif due > t + TCP_DELACK_MIN_US:
        timer_arm(rx, slot, t + TCP_DELACK_MIN_US)


@inner
def tcp_ack_now(rx, c, t):
    """An immediate ACK (ICSK_ACK_NOW, or quick-ack mode entered: a segment dropped for memory, old or
    out of order)."""
    rx.conn[ix(c), CN.ack_pending] = 1
    tcp_send_ack(rx, c, t)


@inner
def tcp_cleanup_rbuf(rx, c, t):
    """__tcp_cleanup_rbuf() (net/ipv4/tcp.c) after a read that copied data: the scheduled ACK goes out
    if more than one full segment is unacknowledged; else, when twice the window still open
    (tcp_receive_window()) is at most window_clamp and the window __tcp_select_window() would now
    give is non-zero and at least twice it, an ACK advertising it (a window update, CN.win_updates)."""
    k = rx.conn[ix(c)]
    if k[CN.ack_pending] != 0 and k[CN.rcv_nxt] - k[CN.rcv_wup] > k[CN.rcv_mss]:
        tcp_send_ack(rx, c, t)
        return
    now = max(0, k[CN.rcv_edge] - k[CN.rcv_nxt])
    if 2 * now > k[CN.window_clamp]:
        return
    new = __tcp_select_window(rx.rc, k)
    if new > 0 and new >= 2 * now:
        k[CN.win_updates] += 1
        tcp_send_ack(rx, c, t)
