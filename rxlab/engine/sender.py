"""The senders: one Linux TCP sender per connection, on the far side of the link
(net/ipv4/tcp_output.c tcp_write_xmit, tcp_input.c tcp_ack, tcp_timer.c; include/net/tcp.h).

Each keeps a congestion window (TCP_INIT_CWND, slow start, then congestion avoidance by Reno:
tcp_reno_cong_avoid, tcp_slow_start, tcp_cong_avoid_ai in net/ipv4/tcp_cong.c; the kernel's default,
CUBIC, grows faster after a loss and is not modelled) and sends what it and the window the receiver
last advertised allow, in TSO skbs of tcp_tso_autosize() segments, back to back at line rate. The
link takes one TSO skb at a time from the senders that may send (``rx.sndq``, first come first
served), so flows interleave skb by skb as a NIC's transmit queues do. ACKs come back one RTT after
the receiver sent them (rxlab.engine.tcp_output) and carry its window then.

A loss the receiver's SACK blocks show is found by RACK and repaired by fast retransmit in
TCP_CA_Recovery with PRR (rxlab.engine.tcp_sack). Else the sender's timers find it: a tail loss
probe goes out 2 x srtt + 2 ms after the last send or ACK (tcp_schedule_loss_probe; + TCP_RTO_MIN
with one packet out), then the RTO (srtt + TCP_RTO_MIN, doubled per timeout: the
configured RTT is srtt, rttvar at its floor) puts the sender in TCP_CA_Loss: everything from snd_una
the SACK scoreboard does not hold is sent again, the window restarts at one segment (tcp_enter_loss,
tcp_timeout_mark_lost, Reno's ssthresh half the window), new data first on the first ACK if the window
allows (F-RTO, tcp_frto_new_data).
A window too small for a segment with nothing in flight arms the zero-window probe
(tcp_check_probe_timer, tcp_probe0_when), which carries data cut to the window when it is open by
less than a segment (tcp_write_wakeup); a retransmission is cut to the window too
(__tcp_retransmit_skb: rxlab.engine.tcp_rtx)."""

from rxlab.engine.jit import called, inner, ix, kernel
from rxlab.engine.layout import AK, CN, EV, NONE, RC, RF, SB, CaState, Timer
from rxlab.engine.tcp_rtx import (
    rtx_clean,
    rtx_entry,
    rtx_pcount,
    rtx_starts,
    tcp_fragment,
    tcp_retransmit_len,
)
from rxlab.engine.tcp_sack import (
    tcp_lost_may_go,
    tcp_lost_out,
    tcp_packets_in_flight,
    tcp_rack_reo_timeout,
    tcp_retransmit_lost,
    tcp_rexmit_skip,
    tcp_rtx_sent,
    tcp_sack_ack,
    tcp_timeout_mark_lost,
)
from rxlab.engine.timers import timer_arm, timer_cancel
from rxlab.kernel.tcp import (
    PROBE0_BACKOFF_MAX,
    SK_PACING_SHIFT,
    TCP_INFINITE_SSTHRESH,
    TCP_INIT_CWND,
    TCP_MIN_TSO_SEGS,
    TCP_MSS_DEFAULT,
    TCP_PACING_CA_RATIO,
    TCP_PACING_SS_RATIO,
    TCP_RTO_MAX_US,
    TCP_RTO_MIN_US,
    TCP_TIMEOUT_MIN_US,
    TCP_TSO_RTT_LOG,
)


@inner
def sndq_push(rx, c):
    """Connection ``c`` may send: it joins the link's queue of senders, if not on it."""
    k = rx.conn[ix(c)]
    if k[CN.in_sndq] != 0:
        return
    k[CN.in_sndq] = 1
    ev = rx.evq
    C = rx.sndq.shape[0]
    i = ev[EV.sndq_head] + ev[EV.sndq_count]
    rx.sndq[ix(i - C if i >= C else i)] = c
    ev[EV.sndq_count] += 1


@inner
def tcp_wnd_allows(k, mss):
    """Whether the receive window lets the next segment go: new data whole (tcp_snd_wnd_test), a
    retransmission in TCP_CA_Loss once it starts within the window (__tcp_retransmit_skb cuts it to
    the window: rxlab.engine.tcp_rtx), or at snd_una whatever the window (-EAGAIN is for the others:
    "our retransmit of one segment serves as a zero window probe"; after an RTO, or on an ACK that
    leaves the head lost and not sent again, tcp_xmit_retransmit_queue)."""
    if k[CN.snd_nxt] < k[CN.snd_max]:
        return k[CN.snd_nxt] < k[CN.snd_edge] or k[CN.snd_nxt] == k[CN.snd_una]
    return k[CN.snd_nxt] + mss <= k[CN.snd_edge]


@inner
def can_send(rx, c):
    """tcp_write_xmit()'s tests for the next segment: a probe its timer asks for, or a segment the
    congestion window allows (tcp_cwnd_test: tcp_packets_in_flight() below cwnd) that is a lost one
    to send again (tcp_xmit_retransmit_queue; within the window, tcp_lost_may_go) or one the receive
    window allows (tcp_wnd_allows)."""
    k = rx.conn[ix(c)]
    mss = rx.rc[RC.advmss]
    return (k[CN.xmit_probe] != 0
            or (tcp_packets_in_flight(rx, c, k) < k[CN.cwnd]
                and (tcp_wnd_allows(k, mss) or (k[CN.lost_out] > 0 and tcp_lost_may_go(rx, c, k)))))


@inner
def sndq_pop(rx):
    """The next connection on the link's queue that may still send, or NONE."""
    ev = rx.evq
    C = rx.sndq.shape[0]
    while ev[EV.sndq_count] > 0:
        c = rx.sndq[ix(ev[EV.sndq_head])]
        ev[EV.sndq_head] = ev[EV.sndq_head] + 1 if ev[EV.sndq_head] + 1 < C else 0
        ev[EV.sndq_count] -= 1
        rx.conn[ix(c), CN.in_sndq] = 0
        if can_send(rx, c):
            return c
    return NONE


@inner
def _rto(rx, k):
    """The RTO with its backoff (inet_csk_rto_backoff): (srtt + TCP_RTO_MIN) << icsk_backoff, at most
    TCP_RTO_MAX."""
    return min((rx.rf[RF.rtt_us] + TCP_RTO_MIN_US) * 2.0 ** k[CN.backoff], TCP_RTO_MAX_US)


@inner
def tcp_arm_xmit_timer(rx, c, t):
    """After a send or an ACK: with packets out, a tail loss probe when the sender is in TCP_CA_Open
    with none outstanding (tcp_schedule_loss_probe: 2 x srtt + TCP_TIMEOUT_MIN, or + TCP_RTO_MIN with
    one packet out, not later than the RTO), else the RTO (tcp_rearm_rto); with none out, nothing, or
    the zero-window probe if the window stops the sender (tcp_check_probe_timer)."""
    k = rx.conn[ix(c)]
    mss = rx.rc[RC.advmss]
    slot = c * Timer.n + Timer.xmit
    out = rtx_pcount(rx, c, k[CN.snd_una], k[CN.snd_nxt])
    if out == 0:
        if not tcp_wnd_allows(k, mss):
            if k[CN.recovery] != 3:
                k[CN.recovery] = 3
                base = max(rx.rf[RF.rtt_us] + TCP_RTO_MIN_US, float(TCP_RTO_MIN_US))  # tcp_probe0_base
                timer_arm(rx, slot, t + min(base * 2.0 ** min(k[CN.backoff], PROBE0_BACKOFF_MAX),
                                            TCP_RTO_MAX_US))
        else:
            k[CN.recovery] = 0
            timer_cancel(rx, slot)
        return
    rto = _rto(rx, k)
    if k[CN.ca_state] == CaState.open and k[CN.tlp_high_seq] == 0:
        pto = 2.0 * rx.rf[RF.rtt_us] + (TCP_RTO_MIN_US if out == 1 else TCP_TIMEOUT_MIN_US)
        k[CN.recovery] = 1
        timer_arm(rx, slot, t + min(pto, rto))
    else:
        k[CN.recovery] = 2
        timer_arm(rx, slot, t + rto)


@inner
def tcp_xmit_timer(rx, c, t):
    """The sender's timer fires (tcp_write_timer_handler). A tail loss probe (tcp_send_loss_probe) or a
    zero-window probe (tcp_send_probe0) is sent by the link as its next packet of ``c``. An RTO
    (tcp_retransmit_timer, TCPTimeouts): tcp_enter_loss() (ssthresh halved on entering, the window one
    segment, everything from snd_una the scoreboard does not hold sent again, tcp_timeout_mark_lost;
    ssthresh is lowered "if it has not yet been made inside this window": not in TCP_CA_Recovery, in
    TCP_CA_Loss once an ACK has advanced snd_una since the last RTO, icsk_retransmits 0, which
    rxlab's backoff tells), the backoff doubles the next RTO. With a window that
    cannot take the head (snd_wnd 0 after a memory failure's zero-window ACK), the head is sent again
    all the same (tcp_retransmit_skb of the head, the window probe; not TCPTimeouts when snd_wnd is 0:
    "Receiver dastardly shrinks window"). A tail loss probe whose segment lies beyond a shrunk window
    is not sent; the RTO is armed instead (tcp_send_loss_probe). RACK's reordering timeout
    (rxlab.engine.tcp_sack)."""
    k = rx.conn[ix(c)]
    kind = k[CN.recovery]
    k[CN.recovery] = 0
    if kind == 4:
        tcp_rack_reo_timeout(rx, c, t)
        tcp_arm_xmit_timer(rx, c, t)
        if can_send(rx, c):
            sndq_push(rx, c)
        return
    last = rtx_entry(rx, c, k[CN.snd_nxt] - 1)[0] if kind == 1 else 0
    if kind == 1 and last >= k[CN.snd_edge] and last != k[CN.snd_una]:
        # a window shrunk below the last segment: __tcp_retransmit_skb() refuses it (-EAGAIN), no probe
        # goes out and tcp_send_loss_probe() re-arms the RTO (rearm_timer: tcp_rearm_rto)
        k[CN.recovery] = 2
        timer_arm(rx, c * Timer.n + Timer.xmit, t + _rto(rx, k))
        return
    if kind == 2:
        zero = k[CN.snd_edge] <= k[CN.snd_una]
        if not zero:
            k[CN.timeouts] += 1  # snd_wnd 0: "Receiver dastardly shrinks window", no TCPTimeouts
        tcp_timeout_mark_lost(rx, c)
        if k[CN.ca_state] == CaState.open or (k[CN.ca_state] == CaState.loss and k[CN.backoff] == 0):
            k[CN.ssthresh] = max(k[CN.cwnd] >> 1, 2)  # tcp_reno_ssthresh
        # F-RTO step 1: unless loss recovery was under way, but for a timeout recurring on the same snd_una
        rx.sb[ix(c), SB.frto] = 1 if k[CN.ca_state] == CaState.open or k[CN.backoff] > 0 else 0
        k[CN.ca_state] = CaState.loss
        k[CN.high_seq] = k[CN.snd_max]
        k[CN.cwnd] = 1
        k[CN.cwnd_cnt] = 0
        k[CN.snd_nxt] = k[CN.snd_una]
        k[CN.burst] = 0
        k[CN.tlp_high_seq] = 0
        k[CN.backoff] += 1
        timer_arm(rx, c * Timer.n + Timer.xmit, t + _rto(rx, k))
        k[CN.recovery] = 2  # the head goes again whatever the window (tcp_wnd_allows): the probe
    else:
        k[CN.xmit_probe] = kind
    sndq_push(rx, c)


@inner
def tcp_tso_segs(rx, c, k):
    """tcp_tso_autosize(): the pacing rate (tcp_update_pacing_rate: mss x max(cwnd, packets_out) /
    srtt, x 200 % in slow start below half ssthresh, else x 120 %) >> sk_pacing_shift, plus
    gso_max_size >> (min_rtt >> tcp_tso_rtt_log), at most gso_max_size; at least tcp_min_tso_segs
    segments. The size goal is also at most half the largest window seen (tcp_bound_to_half_wnd)."""
    rc = rx.rc
    mss = rc[RC.advmss]
    rtt = rx.rf[RF.rtt_us]
    out = rtx_pcount(rx, c, k[CN.snd_una], k[CN.snd_nxt])
    ratio = TCP_PACING_SS_RATIO if k[CN.cwnd] < k[CN.ssthresh] // 2 else TCP_PACING_CA_RATIO
    rate = mss * max(k[CN.cwnd], out) * 1e6 / rtt * ratio / 100.0  # bytes per second
    size = int(rate) >> SK_PACING_SHIFT
    r = int(rtt) >> TCP_TSO_RTT_LOG
    gso = rc[RC.gso_max_size]
    if r < 32:
        size += gso >> r
    size = min(size, gso)
    half = k[CN.max_window] >> 1 if k[CN.max_window] > TCP_MSS_DEFAULT else k[CN.max_window]
    if half > 0:
        size = min(size, max(half, mss))
    return max(size // mss, TCP_MIN_TSO_SEGS)


@inner
def _wnd_segs(rx, c, k, mss):
    """Segments the receive window lets go from snd_nxt: new data in whole segments (tcp_snd_wnd_test),
    retransmissions in TCP_CA_Loss every entry that starts within it (rxlab.engine.tcp_rtx), the one
    at snd_una whatever the window (tcp_wnd_allows)."""
    nxt, edge, top = k[CN.snd_nxt], k[CN.snd_edge], k[CN.snd_max]
    if nxt >= top:
        return (edge - nxt) // mss
    if edge <= top:
        return max(rtx_starts(rx, c, nxt, edge), 1 if nxt == k[CN.snd_una] else 0)
    return rtx_pcount(rx, c, nxt, top) + (edge - top) // mss


@inner
def sender_xmit(rx, c, t):
    """Connection ``c`` puts its next segment on the wire at ``t``: the probe its timer asked for, or the
    next of its TSO skb (a new skb of tcp_tso_segs segments, as many as the congestion window and the
    receive window allow, when the last is done; tcp_cwnd_test()'s quota is at most half the window,
    max(cwnd >> 1, 1), "to ensure at least 2 GSO packets in flight": d649a7a81f3b, 2014), a lost
    segment first (tcp_xmit_retransmit_queue). A retransmission is an entry of the retransmission
    queue, cut to the window or collapsed with the next (__tcp_retransmit_skb: rxlab.engine.tcp_rtx);
    the segment's payload bytes go in CN.seg_len, and one sent again in TCP_CA_Loss is followed by the
    next the scoreboard does not hold (tcp_xmit_retransmit_queue). A zero-window probe with the window
    open by less than a segment carries data (tcp_send_probe0 -> tcp_write_wakeup): the head of the
    write queue cut to the window (tcp_fragment, seg_size = min(tcp_wnd_end() - seq, mss)), new data
    with the RTO armed (tcp_event_new_data_sent: tcp_rearm_rto) and the probe's backoff cleared
    (tcp_send_probe0 with packets out); TCPWinProbe counts the probes without data
    (tcp_xmit_probe_skb). Returns the segment's sequence number, NONE for a zero-window probe
    without data."""
    k = rx.conn[ix(c)]
    mss = rx.rc[RC.advmss]
    probe = k[CN.xmit_probe]
    ln = mss
    if probe == 3:
        k[CN.xmit_probe] = 0
        seq = k[CN.snd_nxt]
        if seq >= k[CN.snd_edge]:  # tcp_xmit_probe_skb(): a segment without data
            k[CN.win_probes] += 1  # TCPWinProbe
            k[CN.probes_out] += 1
            if k[CN.backoff] < PROBE0_BACKOFF_MAX:
                k[CN.backoff] += 1
            return NONE
        # the window opened by less than a segment (the probe timer stops once it takes one, and
        # a retransmission is sent once it starts within it): new data, cut to it
        ln = min(k[CN.snd_edge] - seq, mss)
        tcp_fragment(rx, c, seq, seq + ln, seq + ln)
        k[CN.snd_nxt] = seq + ln
        k[CN.probes_out] = 0
        k[CN.backoff] = 0
        k[CN.recovery] = 2
        timer_arm(rx, c * Timer.n + Timer.xmit, t + _rto(rx, k))
    elif probe == 1:  # new data if the window allows it, else the last segment again
        k[CN.xmit_probe] = 0
        k[CN.loss_probes] += 1  # TCPLossProbes
        if k[CN.snd_nxt] + mss <= k[CN.snd_edge]:
            seq = k[CN.snd_nxt]
            k[CN.snd_nxt] += mss
        else:
            seq = rtx_entry(rx, c, k[CN.snd_nxt] - 1)[0]
            ln = tcp_retransmit_len(rx, c, seq)
        rx.sb[ix(c), SB.tlp_retrans] = seq < k[CN.snd_max]
        k[CN.tlp_high_seq] = k[CN.snd_nxt]
    else:
        if k[CN.burst] == 0:
            if k[CN.lost_out] > 0 and rx.sb[ix(c), SB.frto] != 2:
                return tcp_retransmit_lost(rx, c, t)
            out = tcp_packets_in_flight(rx, c, k)
            quota = min(max(k[CN.cwnd] >> 1, 1), k[CN.cwnd] - out)  # tcp_cwnd_test(): at most half cwnd
            k[CN.burst] = min(tcp_tso_segs(rx, c, k), quota, _wnd_segs(rx, c, k, mss))
        if k[CN.ca_state] == CaState.recovery:
            rx.sb[ix(c), SB.prr_out] += 1
        seq = k[CN.snd_nxt]
        k[CN.burst] -= 1
        if seq < k[CN.snd_max]:
            ln = tcp_retransmit_len(rx, c, seq)
            tcp_rtx_sent(rx, c, seq, seq + ln, t)
            k[CN.snd_nxt] = tcp_rexmit_skip(rx, c, seq + ln)
            if k[CN.burst] > 0:
                # a collapse took in, or SACKed entries passed over, entries the burst counted: the next
                # must still start within the window (__tcp_retransmit_skb: -EAGAIN beyond it)
                k[CN.burst] = min(k[CN.burst], _wnd_segs(rx, c, k, mss))
        else:
            k[CN.snd_nxt] += ln
    if seq < k[CN.snd_max]:
        k[CN.retrans] += 1  # RetransSegs
    k[CN.snd_max] = max(k[CN.snd_max], k[CN.snd_nxt])
    k[CN.seg_len] = ln
    return seq


@inner
def sender_sent(rx, c, t):
    """After connection ``c``'s segment or probe left at ``t``: when its TSO skb is done,
    tcp_cwnd_validate() and the timers (tcp_schedule_loss_probe, tcp_rearm_rto,
    tcp_check_probe_timer); a sender that may send again queues behind the others (the link takes
    one TSO skb at a time), one the receive window stops counts a stall. Returns whether the skb
    goes on."""
    k = rx.conn[ix(c)]
    if k[CN.burst] > 0:
        return True
    mss = rx.rc[RC.advmss]
    out = rtx_pcount(rx, c, k[CN.snd_una], k[CN.snd_nxt])
    limited = out >= k[CN.cwnd]
    if k[CN.snd_una] >= k[CN.cwnd_usage_seq] or limited or (k[CN.cwnd_limited] == 0 and out > k[CN.max_out]):
        k[CN.cwnd_limited] = limited
        k[CN.max_out] = out
        k[CN.cwnd_usage_seq] = k[CN.snd_nxt]
    if k[CN.recovery] != 2 or out == 0:  # a pending RTO is not pushed back by sending (tcp_rearm_rto)
        tcp_arm_xmit_timer(rx, c, t)
    if can_send(rx, c):
        sndq_push(rx, c)
    elif not tcp_wnd_allows(k, mss) and not limited:
        k[CN.stalls] += 1  # rwnd-limited (TCP_CHRONO_RWND_LIMITED)
    return False


@inner
def _cong_avoid(k, acked):
    """tcp_reno_cong_avoid(): nothing unless cwnd-limited (tcp_is_cwnd_limited: in slow start, a
    window below twice the packets out); tcp_slow_start() up to ssthresh, then tcp_cong_avoid_ai()."""
    slow = k[CN.cwnd] < k[CN.ssthresh]
    if not (k[CN.cwnd_limited] != 0 or (slow and k[CN.cwnd] < 2 * k[CN.max_out])):
        return
    if slow:
        cwnd = min(k[CN.cwnd] + acked, k[CN.ssthresh])
        acked -= cwnd - k[CN.cwnd]
        k[CN.cwnd] = cwnd
        if acked == 0:
            return
    w = k[CN.cwnd]
    if k[CN.cwnd_cnt] >= w:
        k[CN.cwnd_cnt] = 0
        k[CN.cwnd] += 1
    k[CN.cwnd_cnt] += acked
    if k[CN.cwnd_cnt] >= w:
        delta = k[CN.cwnd_cnt] // w
        k[CN.cwnd_cnt] -= delta * w
        k[CN.cwnd] += delta


@inner
def tcp_process_tlp_ack(rx, c, k, ack, a, dup):
    """tcp_process_tlp_ack(): an ACK at or beyond the tail loss probe's snd_nxt answers it. A probe of
    new data is done; one that sent the last segment again (SB.tlp_retrans) arrived with the original
    when the ACK D-SACKs it (FLAG_DSACK_TLP: a D-SACK block of at most a segment ending at the probe's
    snd_nxt, tcp_check_dsack) or is a pure duplicate (``dup``: nothing acknowledged, no window update,
    no SACK block): no loss; it repaired one when the ACK goes beyond it: the window is reduced as in
    TCP_CA_CWR (tcp_init_cwnd_reduction, Reno's ssthresh; tcp_end_cwnd_reduction, cwnd = ssthresh;
    tcp_try_keep_open, TCP_CA_Open), TCPLossProbeRecovery. An ACK of exactly the probe's snd_nxt leaves
    it outstanding."""
    if ack < k[CN.tlp_high_seq]:
        return
    if rx.sb[ix(c), SB.tlp_retrans] == 0 or (a[AK.dsack + 1] == k[CN.tlp_high_seq]
                                            and a[AK.dsack + 1] - a[AK.dsack] <= rx.rc[RC.advmss]):
        k[CN.tlp_high_seq] = 0
    elif ack > k[CN.tlp_high_seq]:
        k[CN.ssthresh] = max(k[CN.cwnd] >> 1, 2)  # tcp_reno_ssthresh
        k[CN.cwnd] = k[CN.ssthresh]
        k[CN.cwnd_cnt] = 0
        k[CN.tlp_high_seq] = 0
        k[CN.tlp_recovery] += 1
    elif dup:
        k[CN.tlp_high_seq] = 0


@inner
def tcp_ack(rx, c, ack, edge, t, a):
    """An ACK of ``ack`` advertising a window up to ``edge`` (its row ``a`` of rx.ack, with its SACK
    blocks) reaches connection ``c``'s sender at ``t`` (tcp_ack): the window is taken as advertised
    when the ACK advances snd_una, widens the window or closes it (tcp_ack_update_window,
    tcp_may_update_window; a zero window updates it from 6.6, 800a666141de), so tcp_wnd_end() may
    move left; acknowledged data leaves the sender (snd_una; the backoff restarts,
    tcp_ack_update_rtt), the window grows (tcp_cong_control), a tail loss probe is answered once the
    ACK covers it (tcp_process_tlp_ack), TCP_CA_Loss ends once all it sent again is acknowledged;
    SACK blocks, a SACK scoreboard or TCP_CA_Recovery take rxlab.engine.tcp_sack's loss recovery (in
    TCP_CA_Loss the next to send again passes over what is SACKed); the timers are re-armed, and the
    zero-window probe stops once the window opens, or is re-armed from this ACK while it stays closed
    (tcp_ack_probe: tcp_probe0_when())."""
    k = rx.conn[ix(c)]
    mss = rx.rc[RC.advmss]
    acked = ack - k[CN.snd_una]
    wnd_update = edge != k[CN.snd_edge]
    if rx.sb[ix(c), SB.frto] == 2:  # F-RTO's new data went on the last ACK: lost segments first again
        rx.sb[ix(c), SB.frto] = 1
    if acked > 0 or edge > k[CN.snd_edge] or edge == ack:  # tcp_may_update_window(): snd_wnd = nwin
        k[CN.snd_edge] = edge
    k[CN.max_window] = max(k[CN.max_window], edge - ack)
    sacking = a[AK.sack + 1] != 0 or k[CN.sacked_out] + k[CN.lost_out] != 0 or k[CN.ca_state] == CaState.recovery
    acked_segs = 0
    if acked > 0:
        acked_segs = rtx_pcount(rx, c, k[CN.snd_una], ack)
        rtx_clean(rx, c, ack)
        k[CN.snd_una] = ack
        k[CN.backoff] = 0
        k[CN.probes_out] = 0
        if k[CN.tlp_high_seq] != 0:
            tcp_process_tlp_ack(rx, c, k, ack, a, False)
        if k[CN.ca_state] == CaState.loss and ack >= k[CN.high_seq]:
            k[CN.ca_state] = CaState.open
            rx.sb[ix(c), SB.n_rtx] = 0
        k[CN.snd_nxt] = max(k[CN.snd_nxt], ack)  # data sent before an RTO went back, acknowledged since
        if not sacking:
            _cong_avoid(k, acked_segs)
    elif k[CN.tlp_high_seq] != 0:
        tcp_process_tlp_ack(rx, c, k, ack, a, not wnd_update and a[AK.sack + 1] == 0)
    armed = False
    if sacking:
        grow, armed = tcp_sack_ack(rx, c, acked, acked_segs, a, t)
        if grow > 0:
            _cong_avoid(k, grow)
        if k[CN.snd_nxt] < k[CN.snd_max]:
            k[CN.snd_nxt] = tcp_rexmit_skip(rx, c, k[CN.snd_nxt])
    if k[CN.recovery] == 3:
        if tcp_wnd_allows(k, mss):  # the window opened: the probe timer stops
            k[CN.recovery] = 0
            k[CN.backoff] = 0
            k[CN.probes_out] = 0
            timer_cancel(rx, c * Timer.n + Timer.xmit)
        else:  # still closed: tcp_ack_probe() re-arms tcp_probe0_when() from this ACK
            base = max(rx.rf[RF.rtt_us] + TCP_RTO_MIN_US, float(TCP_RTO_MIN_US))  # tcp_probe0_base
            timer_arm(rx, c * Timer.n + Timer.xmit,
                      t + min(base * 2.0 ** min(k[CN.backoff], PROBE0_BACKOFF_MAX), TCP_RTO_MAX_US))
            if acked <= 0:
                return
    if acked > 0 and k[CN.ca_state] == CaState.loss and rx.sb[ix(c), SB.frto] == 1:
        tcp_frto_new_data(rx, c, k, mss)
    if not armed and (acked > 0 or k[CN.recovery] == 0 or k[CN.recovery] == 4):
        tcp_arm_xmit_timer(rx, c, t)
    if can_send(rx, c):
        sndq_push(rx, c)


@called  # after RTOs only: not inlined (rxlab.engine.jit.called)
def tcp_frto_new_data(rx, c, k, mss):
    """F-RTO (RFC 5682 sec 3.1, SACK-enhanced; net.ipv4.tcp_frto = 2, tcp_process_loss): the first ACK
    after an RTO that advances snd_una, short of high_seq and with no new data sent since, sends new
    data instead of more retransmissions (step 2b, REXMIT_NEW) if a segment of it fits in the window and
    the congestion window, as updated by this ACK (tcp_xmit_recovery pushes after tcp_cong_control);
    else F-RTO ends (tp->frto = 0) and retransmission goes on. The segments the RTO marked lost and not
    yet sent again, [snd_nxt, snd_max) for rxlab's resending from snd_una, keep their marks
    (rxlab.engine.tcp_sack) and go first from the next ACK (REXMIT_LOST, step 3a). An RTO found
    spurious, never-retransmitted data below high_seq acknowledged or SACKed (step 3b), is not undone:
    rxlab's RTOs follow drops."""
    b = rx.sb[ix(c)]
    if k[CN.snd_max] != k[CN.high_seq]:
        return
    if k[CN.snd_max] + mss > k[CN.snd_edge] or tcp_packets_in_flight(rx, c, k) >= k[CN.cwnd]:
        b[SB.frto] = 0
        return
    b[SB.frto] = 2
    if k[CN.snd_nxt] < k[CN.snd_max]:
        b[SB.rexmit_nxt] = k[CN.snd_nxt]
        b[SB.lost_hi] = k[CN.snd_max]
        k[CN.lost_out] = tcp_lost_out(rx, c, b)
        k[CN.snd_nxt] = k[CN.snd_max]
        k[CN.burst] = 0


@inner
def sender_init(rx, c, rcv_wnd):
    """A connection established: TCP_INIT_CWND, ssthresh infinite, the SYN-ACK's window, on the link's
    queue; a window too small for a segment arms the zero-window probe (tcp_check_probe_timer)."""
    k = rx.conn[ix(c)]
    k[CN.cwnd] = TCP_INIT_CWND
    k[CN.ssthresh] = TCP_INFINITE_SSTHRESH
    k[CN.snd_edge] = rcv_wnd
    k[CN.max_window] = rcv_wnd
    if can_send(rx, c):
        sndq_push(rx, c)
    else:
        tcp_arm_xmit_timer(rx, c, 0.0)


@kernel
def senders_init(rx, rcv_wnd):
    """Every connection established, in order on the link's queue."""
    for c in range(rx.rc[RC.conns]):
        sender_init(rx, c, rcv_wnd)
