"""The sender's SACK scoreboard, RACK loss detection and fast recovery with PRR (net/ipv4/tcp_input.c
tcp_sacktag_write_queue, tcp_fastretrans_alert, tcp_enter_recovery, tcp_cwnd_reduction,
tcp_end_cwnd_reduction; net/ipv4/tcp_recovery.c tcp_rack_detect_loss, tcp_rack_reo_timeout;
net/ipv4/tcp_output.c tcp_xmit_retransmit_queue).

The kernel marks each skb of its retransmission queue SACKed, lost or retransmitted; rxlab's sender
keeps no skbs, so its scoreboard (``rx.sb``) is the SACKed ranges above snd_una and two marks:
every segment in [rexmit_nxt, lost_hi) not SACKed is lost and waits to be sent again (CN.lost_out),
and those below rexmit_nxt were. Segments leave in sequence order and the path does not reorder, so
"sent before the latest segment delivered" (RACK, RFC 8985) is "below ``fack``": the end of the
highest data SACKed or acknowledged, or, once a retransmission is delivered, high_seq (all of the
flight before recovery was sent before any retransmission). An RTO keeps the scoreboard unless the
receiver reneged (tcp_timeout_mark_lost): in TCP_CA_Loss the SACK blocks still join it and the
retransmissions from snd_una pass over what it holds (rxlab.engine.sender). Retransmissions leave out
of sequence order, so those in flight are logged in the order they left (``SB.rtx``, the last
RTX_LOG), and RACK finds one lost when a segment sent after it is delivered first
(_rack_lost_retrans). Simplifications, stated: the reordering timer
waits the whole reordering window from the ACK that arms it (the kernel subtracts how much later the
delivered segment left than the first one waiting), without the kernel's rounding to jiffies, as
rxlab's other timers; at most SB_RANGES SACKed ranges are kept (a SACK block that would make one
more is ignored). sacked_out and lost_out count entries of the retransmission queue
(rxlab.engine.tcp_rtx), as the kernel counts skbs by tcp_skb_pcount()."""

from rxlab.engine.jit import called, inner, ix
from rxlab.engine.layout import AK, CN, RF, SB, CaState, Timer
from rxlab.engine.tcp_rtx import rtx_pcount, rtx_sacked_segs, sacked_in, tcp_retransmit_len
from rxlab.engine.timers import timer_arm
from rxlab.kernel.tcp import TCP_REORDERING, TCP_SACK_BLOCKS_SENT, TCP_TIMEOUT_MIN_US

SB_RANGES = (SB.grid - SB.range) // 2
RTX_LOG = (SB.frto - SB.rtx) // 4


@inner
def _sack_insert(b, start, end):
    """Range [start, end) SACKed: merged with the ranges it touches, or a new one (ignored when
    SB_RANGES are kept). Returns the bytes newly SACKed."""
    n = b[SB.n_ranges]
    i = 0
    while i < n and b[ix(SB.range + 2 * i + 1)] < start:
        i += 1
    j = i
    while j < n and b[ix(SB.range + 2 * j)] <= end:
        j += 1
    if i == j:  # touches none: a new range at i
        if n == SB_RANGES:
            return 0
        for m in range(n, i, -1):
            b[ix(SB.range + 2 * m)] = b[ix(SB.range + 2 * m - 2)]
            b[ix(SB.range + 2 * m + 1)] = b[ix(SB.range + 2 * m - 1)]
        b[ix(SB.range + 2 * i)] = start
        b[ix(SB.range + 2 * i + 1)] = end
        b[SB.n_ranges] = n + 1
        return end - start
    s = min(start, b[ix(SB.range + 2 * i)])
    e = max(end, b[ix(SB.range + 2 * j - 1)])
    new = e - s - sacked_in(b, s, e)
    b[ix(SB.range + 2 * i)] = s
    b[ix(SB.range + 2 * i + 1)] = e
    gone = j - i - 1
    if gone > 0:
        for m in range(i + 1, n - gone):
            b[ix(SB.range + 2 * m)] = b[ix(SB.range + 2 * (m + gone))]
            b[ix(SB.range + 2 * m + 1)] = b[ix(SB.range + 2 * (m + gone) + 1)]
        b[SB.n_ranges] = n - gone
    return new


@inner
def _sack_trim(b, una):
    """The ranges snd_una reached leave the scoreboard (tcp_clean_rtx_queue)."""
    n = b[SB.n_ranges]
    i = 0
    while i < n and b[ix(SB.range + 2 * i + 1)] <= una:
        i += 1
    if i > 0:
        for m in range(i, n):
            b[ix(SB.range + 2 * (m - i))] = b[ix(SB.range + 2 * m)]
            b[ix(SB.range + 2 * (m - i) + 1)] = b[ix(SB.range + 2 * m + 1)]
        n -= i
        b[SB.n_ranges] = n
    if n > 0 and b[SB.range] < una:
        b[SB.range] = una


@inner
def _unsacked(rx, c, lo, hi):
    """Entries in [lo, hi) not SACKed."""
    return rtx_pcount(rx, c, lo, hi) - rtx_sacked_segs(rx, c, lo, hi)


@called  # loss recovery only: not inlined
def tcp_lost_out(rx, c, b):
    """Entries in [rexmit_nxt, lost_hi) neither SACKed nor sent again and in flight."""
    lo, hi = b[SB.rexmit_nxt], b[SB.lost_hi]
    if hi <= lo:
        return 0
    n = _unsacked(rx, c, lo, hi)
    for i in range(b[SB.n_rtx]):
        s = max(b[ix(SB.rtx + 4 * i)], lo)
        e = min(b[ix(SB.rtx + 4 * i + 1)], hi)
        if e > s:
            n -= _unsacked(rx, c, s, e)
    return n


@inner
def tcp_packets_in_flight(rx, c, k):
    """tcp_packets_in_flight(): packets_out - (sacked_out + lost_out) + retrans_out. In TCP_CA_Loss
    rxlab sends again from snd_nxt, below snd_max: what is SACKed above it is not out either."""
    out = rtx_pcount(rx, c, k[CN.snd_una], k[CN.snd_nxt]) - k[CN.sacked_out] - k[CN.lost_out]
    if k[CN.sacked_out] != 0 and k[CN.snd_nxt] < k[CN.snd_max]:
        out += rtx_sacked_segs(rx, c, k[CN.snd_nxt], k[CN.snd_max])
    return out


@called  # loss recovery only: not inlined (rxlab.engine.jit.called)
def tcp_rexmit_skip(rx, c, seq):
    """The first byte from ``seq`` that is neither SACKed nor sent again and in flight:
    tcp_xmit_retransmit_queue() passes over skbs TCPCB_SACKED_ACKED or TCPCB_SACKED_RETRANS."""
    b = rx.sb[ix(c)]
    at = -1
    while at != seq:
        at = seq
        for i in range(b[SB.n_ranges]):
            if b[ix(SB.range + 2 * i)] <= seq < b[ix(SB.range + 2 * i + 1)]:
                seq = b[ix(SB.range + 2 * i + 1)]
        for i in range(b[SB.n_rtx]):
            if b[ix(SB.rtx + 4 * i)] <= seq < b[ix(SB.rtx + 4 * i + 1)]:
                seq = b[ix(SB.rtx + 4 * i + 1)]
    return seq


@inner
def tcp_enter_recovery(rx, k, b):
    """tcp_enter_recovery() (TCPSACKRecovery) with tcp_init_cwnd_reduction(): high_seq = snd_nxt, no
    tail loss probe outstanding, prior_cwnd = cwnd, PRR's counts at 0, ssthresh by Reno's
    tcp_reno_ssthresh() (half the window, at least 2); TCP_CA_Recovery."""
    k[CN.sack_recovery] += 1
    k[CN.high_seq] = k[CN.snd_nxt]
    k[CN.tlp_high_seq] = 0
    k[CN.cwnd_cnt] = 0
    b[SB.prior_cwnd] = k[CN.cwnd]
    b[SB.prr_delivered] = 0
    b[SB.prr_out] = 0
    k[CN.ssthresh] = max(k[CN.cwnd] >> 1, 2)
    k[CN.ca_state] = CaState.recovery


@called  # retransmissions only: not inlined
def tcp_rtx_sent(rx, c, lo, hi, t):
    """A retransmission of [lo, hi) left at ``t``: TCPCB_SACKED_RETRANS, its skb's timestamp renewed and
    the skb moved to the tail of RACK's send order (tcp_update_skb_after_send: tp->tsorted_sent_queue),
    logged with snd_max then (the new data sent after it lies above). The ones it covers (a collapse
    took them in: tcp_collapse_retrans) leave the log; with RTX_LOG kept the oldest leaves too: RACK
    finds it lost when it finds the oldest logged one lost, as it was sent before it, and snd_una
    reaches it otherwise."""
    b = rx.sb[ix(c)]
    n = 0
    for i in range(b[SB.n_rtx]):
        r = SB.rtx + 4 * i
        if lo <= b[ix(r)] and b[ix(r + 1)] <= hi:
            continue
        if n != i:
            for f in range(4):
                b[ix(SB.rtx + 4 * n + f)] = b[ix(r + f)]
        n += 1
    if n == RTX_LOG:
        for m in range(4, 4 * n):
            b[ix(SB.rtx + m - 4)] = b[ix(SB.rtx + m)]
        n -= 1
    r = SB.rtx + 4 * n
    b[ix(r)] = lo
    b[ix(r + 1)] = hi
    b[ix(r + 2)] = rx.conn[ix(c), CN.snd_max]
    b[ix(r + 3)] = int(t * 1000.0)
    b[SB.n_rtx] = n + 1


@inner
def _unsacked_top(b, lo, hi):
    """The end of the highest byte of [lo, hi) the scoreboard does not hold, ``lo`` if none."""
    top = hi
    for i in range(b[SB.n_ranges] - 1, -1, -1):
        if b[ix(SB.range + 2 * i)] < top <= b[ix(SB.range + 2 * i + 1)]:
            top = b[ix(SB.range + 2 * i)]
    return max(top, lo)


@inner
def _rtx_delivered(b, i, una):
    """Whether logged retransmission ``i`` is acknowledged or SACKed whole."""
    lo = max(b[ix(SB.rtx + 4 * i)], una)
    hi = b[ix(SB.rtx + 4 * i + 1)]
    return hi <= lo or sacked_in(b, lo, hi) == hi - lo


@inner
def _rtx_lost(rx, c, b, i, una):
    """tcp_mark_skb_lost() of logged retransmission ``i`` (LOST and SACKED_RETRANS): no longer in
    flight, its entries not SACKed counted in TCPLostRetransmit."""
    lo = max(b[ix(SB.rtx + 4 * i)], una)
    hi = b[ix(SB.rtx + 4 * i + 1)]
    if hi > lo:
        rx.conn[ix(c), CN.lost_retrans] += _unsacked(rx, c, lo, hi)


@called  # retransmissions in flight only: not inlined
def _rack_lost_retrans(rx, c, k, b, top, t):
    """tcp_rack_detect_loss() for the retransmissions in flight, in TCP_CA_Recovery and TCP_CA_Loss,
    where the reordering window is 0 (tcp_rack_reo_wnd: no reordering seen): one sent before the latest
    segment this ACK delivered is lost (tcp_rack_skb_timeout() <= 0: the path does not reorder). The
    latest is a logged retransmission delivered whole, unless it was delivered sooner than min_rtt after
    it left (tcp_rack_advance: then its original may have been; rxlab's min_rtt is the configured RTT),
    or the data newly delivered ending at ``top`` (not SACKed before, tcp_sacktag_one and
    tcp_clean_rtx_queue), sent after every retransmission that left while snd_max was below it.
    Delivered ones leave the log; lost ones leave it too (tcp_mark_skb_lost: TCPLostRetransmit), and
    everything from snd_una neither SACKed nor in flight is lost again: what was sent again before them
    and no longer logged was sent before the oldest logged. In TCP_CA_Loss a lost retransmission enters
    TCP_CA_Recovery (FLAG_LOST_RETRANS in tcp_fastretrans_alert; 291a00d1a70f "tcp: reduce cwnd if
    retransmit is lost in CA_Loss"): every segment the RTO marked is lost and not yet sent again, and
    PRR takes the window. Returns whether any was lost."""
    una = k[CN.snd_una]
    n = b[SB.n_rtx]
    now = int(t * 1000.0)
    min_rtt = int(rx.rf[RF.rtt_us] * 1000.0)
    older = 0
    for i in range(n):
        r = SB.rtx + 4 * i
        if b[ix(r + 2)] < top:
            older = i + 1
        if now - b[ix(r + 3)] >= min_rtt and _rtx_delivered(b, i, una):
            older = max(older, i)
    kept = 0
    for i in range(n):
        r = SB.rtx + 4 * i
        if _rtx_delivered(b, i, una):
            continue
        if i < older:
            _rtx_lost(rx, c, b, i, una)
            continue
        if kept != i:
            for f in range(4):
                b[ix(SB.rtx + 4 * kept + f)] = b[ix(r + f)]
        kept += 1
    b[SB.n_rtx] = kept
    if older == 0:
        return False
    if k[CN.ca_state] == CaState.loss:
        k[CN.snd_nxt] = k[CN.snd_max]
        k[CN.burst] = 0
        b[SB.lost_hi] = k[CN.snd_max]
        b[SB.frto] = 0
        tcp_enter_recovery(rx, k, b)
    b[SB.rexmit_nxt] = una
    k[CN.lost_out] = tcp_lost_out(rx, c, b)
    return True


@inner
def tcp_cwnd_reduction(rx, c, k, b, newly_acked_sacked, newly_lost, una_advanced):
    """tcp_cwnd_reduction(), Proportional Rate Reduction (RFC 6937; net/ipv4/tcp_input.c): while more
    is in flight than ssthresh, send prr_delivered x ssthresh / prior_cwnd less what was sent since
    recovery began; else as much as was delivered (one more when snd_una advanced and nothing was
    newly lost), up to ssthresh; at least one segment before any went (the fast retransmit). The
    window becomes what is in flight plus that."""
    if newly_acked_sacked <= 0:
        return
    in_flight = tcp_packets_in_flight(rx, c, k)
    delta = k[CN.ssthresh] - in_flight
    b[SB.prr_delivered] += newly_acked_sacked
    if delta < 0:
        sndcnt = (k[CN.ssthresh] * b[SB.prr_delivered] + b[SB.prior_cwnd] - 1) // b[SB.prior_cwnd] - b[SB.prr_out]
    else:
        sndcnt = max(b[SB.prr_delivered] - b[SB.prr_out], newly_acked_sacked)
        if una_advanced and newly_lost == 0:
            sndcnt += 1
        sndcnt = min(delta, sndcnt)
    sndcnt = max(sndcnt, 0 if b[SB.prr_out] > 0 else 1)
    k[CN.cwnd] = in_flight + sndcnt


@inner
def _rack_mark_lost(rx, c, k, b, t):
    """tcp_rack_mark_lost(): the segments below RACK's frontier not SACKed nor lost yet are lost once
    the reordering window has passed (tcp_rack_reo_wnd: none in recovery or with TCP_REORDERING
    segments SACKed, else min_rtt / 4); while it has not, the reordering timer is armed
    (ICSK_TIME_REO_TIMEOUT, the window + TCP_TIMEOUT_MIN). Returns whether it was."""
    lo = max(b[SB.lost_hi], k[CN.snd_una])
    hi = b[SB.fack]
    if hi <= lo:
        return False
    if hi - lo == sacked_in(b, lo, hi):  # nothing waits below the frontier
        b[SB.lost_hi] = hi
        return False
    if k[CN.ca_state] == CaState.recovery or k[CN.sacked_out] >= TCP_REORDERING:
        b[SB.lost_hi] = hi
        k[CN.lost_out] = tcp_lost_out(rx, c, b)
        return False
    k[CN.recovery] = 4
    reo_wnd = float(int(rx.rf[RF.rtt_us]) >> 2)  # min(min_rtt >> 2, srtt): the configured RTT is both
    timer_arm(rx, c * Timer.n + Timer.xmit, t + reo_wnd + TCP_TIMEOUT_MIN_US)
    return True


@called  # loss recovery only: not inlined, with all it calls (rxlab.engine.jit.called)
def tcp_sack_ack(rx, c, acked, acked_segs, a, t):
    """tcp_ack()'s loss recovery for an ACK that advanced snd_una by ``acked`` bytes, ``acked_segs``
    entries (already applied), and carries the SACK blocks ``a[AK.sack:]``: the blocks above snd_una
    join the scoreboard (tcp_sacktag_write_queue; D-SACK and older ones are ignored); ranges
    snd_una reached leave it; RACK's frontier advances (tcp_rack_advance); an ACK that reaches a SACKed
    segment means the receiver reneged: the RTO fires in max(srtt / 16, 10 ms)
    (tcp_check_sack_reneging, in every state); tcp_fastretrans_alert(): TCP_CA_Recovery ends once
    high_seq is acknowledged (tcp_end_cwnd_reduction: cwnd = ssthresh), RACK marks losses (lost
    retransmissions in TCP_CA_Recovery and TCP_CA_Loss, which then enters recovery), a loss in
    TCP_CA_Open enters recovery. In TCP_CA_Loss RACK finds only lost retransmissions (new data is
    not sent there before all the RTO marked is) and the window grows by what was delivered,
    acknowledged or SACKed (tcp_cong_control: acked_sacked, when data was acknowledged). Returns (the
    segments delivered for Reno's growth, 0 in recovery where tcp_cwnd_reduction() sets the window;
    whether the xmit timer was set here)."""
    k = rx.conn[ix(c)]
    b = rx.sb[ix(c)]
    una = k[CN.snd_una]
    delivered = 0
    logged = b[SB.n_rtx] > 0
    top = 0  # the end of the data this ACK newly delivered, for RACK's lost retransmissions
    if acked > 0:
        prior_una = una - acked
        if logged:
            top = _unsacked_top(b, prior_una, una)
        held = k[CN.sacked_out]
        _sack_trim(b, una)
        k[CN.sacked_out] = rtx_sacked_segs(rx, c, una, k[CN.snd_max])
        delivered = acked_segs - (held - k[CN.sacked_out])  # those SACKed before were delivered then
        if prior_una < b[SB.rexmit_nxt] and k[CN.ca_state] == CaState.recovery:
            b[SB.fack] = max(b[SB.fack], k[CN.high_seq])  # a retransmission was delivered
    b[SB.fack] = max(b[SB.fack], una)
    b[SB.rexmit_nxt] = max(b[SB.rexmit_nxt], una)
    b[SB.lost_hi] = max(b[SB.lost_hi], una)
    held = k[CN.sacked_out]
    for j in range(TCP_SACK_BLOCKS_SENT):
        end = a[ix(AK.sack + 2 * j + 1)]
        if end == 0:
            break
        start = max(a[ix(AK.sack + 2 * j)], una)
        if end <= start or end > k[CN.snd_max]:
            continue
        if logged:
            top = max(top, _unsacked_top(b, start, end))
        if _sack_insert(b, start, end) > 0:
            if start < b[SB.rexmit_nxt] and k[CN.ca_state] == CaState.recovery:
                b[SB.fack] = max(b[SB.fack], k[CN.high_seq])
            b[SB.fack] = max(b[SB.fack], end)
    if a[AK.sack + 1] != 0:
        k[CN.sacked_out] = rtx_sacked_segs(rx, c, una, k[CN.snd_max])
        delivered += k[CN.sacked_out] - held
    lost_before = tcp_lost_out(rx, c, b)
    k[CN.lost_out] = lost_before
    if acked > 0 and b[SB.n_ranges] > 0 and b[SB.range] == una:  # FLAG_SACK_RENEGING
        k[CN.recovery] = 2
        timer_arm(rx, c * Timer.n + Timer.xmit, t + max(rx.rf[RF.rtt_us] / 16.0, 10_000.0))
        return 0, True
    if k[CN.ca_state] == CaState.recovery and una >= k[CN.high_seq]:
        k[CN.cwnd] = k[CN.ssthresh]
        k[CN.ca_state] = CaState.open
        b[SB.n_rtx] = 0
    if logged and delivered > 0 and k[CN.ca_state] != CaState.open:
        _rack_lost_retrans(rx, c, k, b, top, t)
    armed = False
    if delivered > 0 and k[CN.ca_state] != CaState.loss:
        armed = _rack_mark_lost(rx, c, k, b, t)
    newly_lost = k[CN.lost_out] - lost_before
    if k[CN.ca_state] == CaState.open and k[CN.lost_out] > 0:
        tcp_enter_recovery(rx, k, b)
    if k[CN.ca_state] == CaState.recovery:
        tcp_cwnd_reduction(rx, c, k, b, delivered, newly_lost, acked > 0)
        return 0, armed
    return (delivered if acked > 0 else 0), armed


@inner
def tcp_rack_reo_timeout(rx, c, t):
    """tcp_rack_reo_timeout(): the reordering window has passed, so what waits below RACK's frontier
    is lost; if any is, recovery begins (tcp_enter_recovery, tcp_cwnd_reduction(1)) and the lost
    segments go again."""
    k = rx.conn[ix(c)]
    b = rx.sb[ix(c)]
    lost_before = k[CN.lost_out]
    b[SB.lost_hi] = max(b[SB.lost_hi], b[SB.fack])
    k[CN.lost_out] = tcp_lost_out(rx, c, b)
    if k[CN.lost_out] != lost_before and k[CN.ca_state] != CaState.recovery:
        tcp_enter_recovery(rx, k, b)
        tcp_cwnd_reduction(rx, c, k, b, 1, k[CN.lost_out] - lost_before, False)


@inner
def tcp_lost_may_go(rx, c, k):
    """Whether the first lost segment not SACKed may be sent again: __tcp_retransmit_skb() refuses one
    that starts beyond the window (-EAGAIN) unless it is snd_una ("our retransmit of one segment
    serves as a zero window probe")."""
    seq = tcp_rexmit_skip(rx, c, rx.sb[ix(c), SB.rexmit_nxt])
    return seq < k[CN.snd_edge] or seq == k[CN.snd_una]


@inner
def tcp_retransmit_lost(rx, c, t):
    """tcp_xmit_retransmit_queue(): the first lost entry neither SACKed nor in flight is sent again at
    ``t`` as __tcp_retransmit_skb() sends it, cut to the window or collapsed (rxlab.engine.tcp_rtx;
    tcp_lost_may_go() said it may go; RetransSegs, TCPFastRetrans outside TCP_CA_Loss; PRR's
    prr_out). Its payload bytes go in CN.seg_len; returns its sequence number."""
    k = rx.conn[ix(c)]
    b = rx.sb[ix(c)]
    seq = tcp_rexmit_skip(rx, c, b[SB.rexmit_nxt])
    ln = tcp_retransmit_len(rx, c, seq)
    b[SB.rexmit_nxt] = seq + ln
    tcp_rtx_sent(rx, c, seq, seq + ln, t)
    k[CN.lost_out] = tcp_lost_out(rx, c, b)
    k[CN.seg_len] = ln
    k[CN.retrans] += 1
    if k[CN.ca_state] != CaState.loss:  # TCPSlowStartRetrans in TCP_CA_Loss (F-RTO's lost segments)
        k[CN.fast_retrans] += 1
    b[SB.prr_out] += 1
    return seq


@called  # RTOs only: not inlined
def tcp_timeout_mark_lost(rx, c):
    """An RTO (tcp_timeout_mark_lost, in tcp_enter_loss): the scoreboard is kept unless its head is
    SACKed, which means the receiver reneged (pruned its out-of-order queue): then it is forgotten
    (TCPSACKReneging).
    Everything else from snd_una is lost, the retransmissions in flight again (TCPLostRetransmit), and
    rxlab sends it again in sequence from snd_una, passing over what is SACKed (rxlab.engine.sender;
    the kernel spares segments sent within the last RTT and reordering window, tcp_rack_skb_timeout(),
    which rxlab, keeping no send times of new data, does not)."""
    k = rx.conn[ix(c)]
    b = rx.sb[ix(c)]
    if b[SB.n_ranges] > 0 and b[SB.range] <= k[CN.snd_una]:
        k[CN.sack_reneging] += 1
        b[SB.n_ranges] = 0
        k[CN.sacked_out] = 0
    for i in range(b[SB.n_rtx]):
        _rtx_lost(rx, c, b, i, k[CN.snd_una])
    b[SB.n_rtx] = 0
    b[SB.lost_hi] = b[SB.rexmit_nxt] = b[SB.fack] = k[CN.snd_una]
    k[CN.lost_out] = 0
