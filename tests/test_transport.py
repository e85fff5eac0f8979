"""The transport (rxlab.engine.sender, tcp_output, timers, reader): Linux's sender with its congestion
window, TSO skbs and timers, ACKs back one RTT later, readers woken by their data. Small runs: both
passes. Each expected value is worked from the kernel function the test names."""

import functools
from itertools import pairwise

import numba
import numpy as np
import pytest

from rxlab import SimConfig, simulate
from rxlab.counters import Ctr
from rxlab.engine.layout import AK, CN, SB, CaState, Timer
from rxlab.engine.sender import can_send, sender_xmit, tcp_ack
from rxlab.engine.tcp_output import tcp_ack_snd_check
from rxlab.kernel.tcp import (
    GSO_LEGACY_MAX_SIZE,
    SK_PACING_SHIFT,
    TCP_DELACK_MIN_US,
    TCP_INIT_CWND,
    TCP_MIN_TSO_SEGS,
    TCP_PACING_SS_RATIO,
    TCP_RTO_MIN_US,
    TCP_TSO_RTT_LOG,
    advmss,
    tcp_win_from_space,
)
from rxlab.model.simulate import build, plan
from rxlab.studies.seeds import READERS

ONE = {"connections": 1, "queues": 1}
FULL_64K = {"strategy": "full_page", "page_size": 65536, "arch": "arm64", **ONE}


@functools.cache
def run(**kw):
    return simulate(SimConfig(**kw))


def test_the_initial_window_is_two_tso_skbs_gro_merges_and_an_empty_queue_takes_whole():
    """TCP_INIT_CWND segments leave back to back as two TSO skbs of 5 (tcp_write_xmit: tcp_cwnd_test()
    gives at most half the window, max(cwnd >> 1, 1), d649a7a81f3b, below tcp_tso_autosize()'s 22
    segments: 2 x 10 x 1448 B per 50 µs >> sk_pacing_shift plus gso_max_size >> (50 µs >>
    tcp_tso_rtt_log), at most half the 65160 B SYN-ACK window): after 5 segments the first skb is done.
    GRO merges all 10 into one skb of 10 full 64 KB pages, whose truesize is 5 x the 131072 B tcp_rmem[1].
    6.17 refuses it by its admission rule (1d2fbaad7cd8), but the queue is empty: tcp_prune_queue()
    returns at once (972ca7a3bc9a) and tcp_data_queue() takes it (sk_forced_mem_schedule). No ACK has
    come back when the last segment leaves (ACKs take the RTT)."""
    mss = advmss(1500)
    rate = mss * TCP_INIT_CWND * 1_000_000 // 50 * TCP_PACING_SS_RATIO // 100
    size = min((rate >> SK_PACING_SHIFT) + (GSO_LEGACY_MAX_SIZE >> (50 >> TCP_TSO_RTT_LOG)), GSO_LEGACY_MAX_SIZE)
    assert max(min(size, 65160 // 2) // mss, TCP_MIN_TSO_SEGS) == 22 > TCP_INIT_CWND
    r = run(kernel="6.17", packets=TCP_INIT_CWND, **FULL_64K)
    k = r.conn[0]
    assert k[CN.packets] == TCP_INIT_CWND and k[CN.count] == 1 and r.counters[Ctr.gro_complete] == 1
    assert k[CN.rmem] > 5 * k[CN.rcvbuf] == 5 * 131072
    assert r.counters[Ctr.PruneCalled] == r.counters[Ctr.TCPRcvQDrop] == 0
    assert k[CN.snd_una] == 0 and k[CN.snd_nxt] == TCP_INIT_CWND * mss and k[CN.cwnd] == TCP_INIT_CWND
    half = run(kernel="6.17", packets=TCP_INIT_CWND // 2, **FULL_64K).conn[0]
    assert half[CN.snd_nxt] == TCP_INIT_CWND // 2 * mss and half[CN.burst] == 0


def test_a_forced_admission_sends_a_zero_window_ack_at_once():
    """tcp_data_queue(): the initial window's aggregate, refused by 6.17's admission rule, goes into the
    empty queue (sk_forced_mem_schedule) with ICSK_ACK_NOMEM | ICSK_ACK_NOW (e2142825c120, 6.6): an ACK
    leaves at once advertising 0, and tcp_select_window() records it, rcv_wnd 0 and rcv_wup = rcv_nxt
    (8c670bdfa58e, 6.14); the flag goes with that ACK (tcp_event_ack_sent). 6.16's rule
    (sk_rmem_alloc > sk_rcvbuf, 0 here) admits the same skb with no such flag: __tcp_ack_snd_check()
    finds the window __tcp_select_window() would give (0: no free space) below the one advertised,
    and that call ended quick-ack mode (icsk_ack.quick = 0 below half the space), so the ACK waits
    (the delayed ACK, or the read) and the window advertised stays open."""
    k = run(kernel="6.17", packets=TCP_INIT_CWND, **FULL_64K).conn[0]
    assert k[CN.count] == 1 and k[CN.rcv_nxt] == TCP_INIT_CWND * advmss(1500)
    assert k[CN.acks_sent] == 1 and k[CN.ack_nomem] == k[CN.ack_pending] == 0
    assert k[CN.rcv_wup] == k[CN.rcv_edge] == k[CN.rcv_nxt]
    o = run(kernel="6.16", packets=TCP_INIT_CWND, **FULL_64K).conn[0]
    assert o[CN.count] == 1 and o[CN.acks_sent] == o[CN.ack_quick] == 0 and o[CN.ack_pending] == 1
    assert o[CN.rcv_edge] > o[CN.rcv_nxt]


def test_data_meeting_a_zero_window_is_dropped_and_answered():
    """Without GRO, 6.17 admits the first 64 KB-page segment and refuses the second with the first
    still queued (a reader that reads at 0 and then once a second): TCPRcvQDrop and the zero-window
    ACK (tcp_data_queue, e2142825c120). The rest of the initial window comes after the hole and beyond
    the closed window, and the RTO's retransmissions of the head (tcp_retransmit_timer: with snd_wnd 0
    the retransmission is the window probe) end beyond it too while the queue holds data:
    tcp_validate_incoming() -> tcp_sequence() drops each (BeyondWindow) and tcp_send_dupack() answers
    it. 6.1 (no zero-window ACK) admits the same segments (sk_rmem_alloc > sk_rcvbuf): no such drop."""
    kw = {"packets": 60, "gro": False, "reader": "periodic", "app_read_us": 1e6, **FULL_64K}
    r = run(kernel="6.17", **kw)
    k = r.conn[0]
    assert r.counters[Ctr.TCPRcvQDrop] >= 1 and k[CN.rmem_drops] >= 1
    assert r.counters[Ctr.BeyondWindow] == k[CN.oow_drops] > TCP_INIT_CWND - 2
    assert r.metrics()["drop_tcp_beyond_window"] == k[CN.oow_drops] and k[CN.ofo_drops] == 0
    assert k[CN.acks_sent] > k[CN.oow_drops] and k[CN.retrans] > TCP_INIT_CWND - 2
    old = run(kernel="6.1", **kw)
    assert old.counters[Ctr.BeyondWindow] == old.counters[Ctr.TCPRcvQDrop] == 0


def test_the_read_reopens_the_zero_window_and_the_sender_goes_on():
    """After the forced admission's zero-window ACK the sender stops (tcp_ack_update_window: snd_wnd 0,
    nothing in flight); the reader, woken 48 µs after its data, drains the queue and tcp_cleanup_rbuf()
    finds twice the window left (0) below window_clamp and a new window: a window update, which the
    sender follows before its zero-window probe is due (tcp_probe0_base: srtt + TCP_RTO_MIN)."""
    r = run(kernel="6.17", packets=200, wake_us=48.0, **FULL_64K)
    k = r.conn[0]
    assert k[CN.win_updates] >= 1 and k[CN.snd_una] > TCP_INIT_CWND * advmss(1500)
    assert k[CN.win_probes] == k[CN.timeouts] == k[CN.rmem_drops] == k[CN.oow_drops] == 0


def test_slow_start_grows_the_window_by_every_segment_acknowledged():
    """tcp_reno_cong_avoid(): while cwnd-limited and below ssthresh, tcp_slow_start() adds a segment
    per segment acknowledged, so with a receive window that never binds and no loss the window is
    TCP_INIT_CWND + what was acknowledged."""
    r = run(packets=400, so_rcvbuf=1 << 24, rmem_max=1 << 25, **ONE)
    k = r.conn[0]
    assert k[CN.snd_una] > 0 and k[CN.timeouts] == k[CN.loss_probes] == 0
    assert k[CN.cwnd] == TCP_INIT_CWND + k[CN.snd_una] // advmss(1500)


def test_a_reader_is_woken_by_its_data_and_reads_once_per_wake():
    """tcp_data_ready() wakes a reader asleep in tcp_recvmsg() once data is queued (SO_RCVLOWAT 1); it
    reads everything then, after its scheduling latency: every wake is one tcp_recvmsg, but the one
    still pending when the run ends. A periodic reader is never woken; SO_RCVLOWAT above what a
    flight brings leaves it to memory pressure (tcp_rmem_pressure) to wake the reader, less often."""
    woken = run(packets=2000, connections=4, queues=2)
    wakes = woken.conn[:, CN.wakes].sum()
    assert wakes > 0 and woken.metrics()["reader_wakes"] == wakes
    assert woken.counters[Ctr.tcp_recvmsg] == wakes - woken.conn[:, CN.reader_woken].sum()
    assert run(packets=2000, connections=4, queues=2, reader="periodic").conn[:, CN.wakes].sum() == 0
    lowat = run(packets=2000, connections=4, queues=2, rcvlowat=1 << 20)
    assert 0 < lowat.conn[:, CN.wakes].sum() < wakes


def test_a_slow_reader_on_6_17_waits_for_zero_window_acks_and_is_not_trapped():
    """On 6.17.0 with its default tcp_rmem, seed 000's stream on full 64 KB pages with readers woken
    48 µs after their data (schbench's median at its default load, data/read_model.md). The first
    flight's aggregate (10 segments, 5 x tcp_rmem[1] of truesize) is refused by tcp_can_ingest()
    (1d2fbaad7cd8), but the queue is empty: tcp_prune_queue() returns at once (972ca7a3bc9a) and
    tcp_data_queue() forces it in with ICSK_ACK_NOMEM, whose ACK advertises a zero window
    (e2142825c120, recorded by 8c670bdfa58e). The sender takes it (tcp_ack_update_window) and stops,
    rather than sending the second flight into a queue that still holds the first: that drop, which
    clamped sk_rcvbuf and left the flow to its RTOs, is what trapped this stream while rxlab had no
    zero-window ACK. The read's window update (tcp_cleanup_rbuf) lets the sender on, and each flight
    again finds the queue empty: no drop, no RTO, not trapped. The wait for each read costs: the flow
    is slower than where the flight is admitted (tcp_rmem[1] of 2 MB; 7.0 and 6.18.17, 026dfef287c0:
    sk_rmem_alloc <= sk_rcvbuf again), and slower than with a reader woken in 2 µs (an idle CPU)."""
    kw = {"kernel": "6.17", "packets": 1500, "wake_us": 48.0, **FULL_64K}
    slow = run(**kw)
    m, k = slow.metrics(), slow.conn[0]
    assert m["trapped_connections"] == 0 and m["TCPTimeouts"] == m["drop_tcp_rmem"] == m["RetransSegs"] == 0
    assert k[CN.win_updates] > 0 and k[CN.delivered] > 0
    admitted = [run(**{**kw, "tcp_rmem_default": 2 << 20}), run(**{**kw, "kernel": "7.0"}),
                run(**{**kw, "kernel": "6.18.17"})]
    assert all(r.metrics()["trapped_connections"] == r.metrics()["TCPTimeouts"] == 0 for r in admitted)
    assert all(r.goodput_gbps > slow.goodput_gbps for r in admitted)
    assert run(**{**kw, "wake_us": 2.0}).goodput_gbps > slow.goodput_gbps


def test_a_reader_woken_after_the_probe_is_held_by_zero_window_acks_not_trapped():
    """On 6.17.0 with its default tcp_rmem, seed 000's stream on full 64 KB pages with a reader woken
    after the tail loss probe (2 ms, beyond 2 x srtt + TCP_TIMEOUT_MIN). Branch sack (before the
    zero-window ACK) had this flow trapped: the second flight found the first still queued and was
    dropped, the probe's segment too (TCPOFODrop), and only RTOs repaired it. Merged with the
    zero-window ACK (e2142825c120) the first flight, forced into the empty queue, sends an ACK
    advertising 0 and the sender holds the second flight until the read's window update: nothing is
    dropped, nothing waits out of order, no RTO; the flow is not trapped. Its tail loss probes still
    fire while it waits (the read comes after them) and resend the last segment, which tcp_sequence()
    and tcp_data_queue() find already queued. 7.0 and 6.18.17 (026dfef287c0: sk_rmem_alloc <=
    sk_rcvbuf again) and a reader woken in 2 µs are faster."""
    kw = {"kernel": "6.17", "packets": 1500, "wake_us": 2000.0, **FULL_64K}
    slow = run(**kw)
    m = slow.metrics()
    assert m["trapped_connections"] == 0 and m["TCPTimeouts"] == 0 and m["drop_tcp_rmem"] == 0
    assert m["drop_tcp_ofo"] == 0 and slow.counters[Ctr.TCPOFOQueue] == 0 and m["TCPSACKRecovery"] == 0
    assert m["TCPLossProbes"] >= 1 and m["RetransSegs"] <= m["TCPLossProbes"]
    assert m["RetransSegs"] <= m["drop_tcp_old_data"]  # every probe's segment arrived queued already
    faster = [run(**{**kw, "kernel": "7.0"}), run(**{**kw, "kernel": "6.18.17"}), run(**{**kw, "wake_us": 2.0})]
    assert all(r.metrics()["trapped_connections"] == r.metrics()["TCPTimeouts"] == 0 for r in faster)
    assert all(r.goodput_gbps > slow.goodput_gbps for r in faster)


# seed 000's stream with GRO off (ethtool -K gro off): each segment is its own skb of a 64 KB page
NO_GRO_64K = {"kernel": "6.17", "packets": 1500, "gro": False, **FULL_64K}


def _first_run(kw, done, hi=400):
    """The shortest run of ``kw`` (the fewest packets sent) whose connection 0 ``done`` holds, by
    bisection: a run stopped after n packets is the first n packets of a longer one."""
    lo = 1
    while lo < hi:
        mid = (lo + hi) // 2
        if done(run(**{**kw, "packets": mid}).conn[0]):
            hi = mid
        else:
            lo = mid + 1
    return run(**{**kw, "packets": lo})


def test_6_17_0_traps_a_stream_whose_segments_come_one_skb_each():
    """6.17.0, default tcp_rmem, seed 000's stream on full 64 KB pages with GRO off: tcp_data_queue()
    admits the first segment (one skb, truesize 65792 of the 131072 B tcp_rmem[1]); the second finds it
    queued and tcp_try_rmem_schedule() refuses it by tcp_can_ingest() (1d2fbaad7cd8: sk_rmem_alloc +
    truesize > sk_rcvbuf), so tcp_prune_queue() calls tcp_clamp_window(), which sets sk_rcvbuf to
    sk_rmem_alloc: one skb, 65792; nothing collapses (the skb is not bloated at the measured ratio 5),
    the segment is dropped (TCPRcvQDrop) and the ACK advertises a zero window (ICSK_ACK_NOMEM,
    e2142825c120; rcv_wup = rcv_nxt, 8c670bdfa58e). The rest of the initial window follows the hole
    beyond that window: tcp_sequence() drops it (BeyondWindow), so nothing is queued out of order and
    no SACK tells the sender. The read reopens a window of one segment (tcp_win_from_space(65792) at
    ratio 5 = 1285, rounded up to 2048), too small for tcp_send_loss_probe() to resend the last segment
    (__tcp_retransmit_skb: beyond tcp_wnd_end, -EAGAIN, the RTO re-armed): only tcp_retransmit_timer()
    recovers, after srtt + TCP_RTO_MIN, at every reader latency of READERS. The flow is trapped
    (Result.trapped()): sk_rcvbuf holds a tenth of an initial window of its skbs.

    Readers woken after 2 or 10 µs have read the segment before the retransmissions that follow the
    RTO arrive: one RTO, and autotuning grows sk_rcvbuf again. With 48 µs sk_rcvbuf stays one skb to
    the end (tcp_rcv_space_adjust() grows it only for more than rcvq_space.space copied in an RTT,
    2560, capped at window_clamp by f5da7c45188e when the ratio was measured) and the initial window is
    repaired a fragment at a time: in TCP_CA_Loss __tcp_retransmit_skb() cuts a lost segment to the
    window the read left (avail_wnd, tcp_fragment), so a segment and a sub-MSS fragment go back to
    back; the fragment finds the segment still queued and is dropped (65792 + 65792 > 65792). The
    segment's rest, sent after the next read, is queued out of order and SACKed: RACK finds the
    fragment, sent before it, lost (tcp_rack_detect_loss, reordering window 0 in TCP_CA_Loss;
    TCPLostRetransmit) and the sender enters TCP_CA_Recovery (FLAG_LOST_RETRANS, 291a00d1a70f),
    resending it an RTT later. So each drop is repaired either by a full RTO (srtt + TCP_RTO_MIN, the
    backoff restarted by each acknowledged retransmission, tcp_ack_update_rtt) or by such a recovery.
    The fragment resent in recovery fills the hole, and the receiver, whose sk_rcvbuf holds one skb,
    prunes the rest to take it (tcp_prune_ofo_queue): the ACK reaches a SACKed segment, so the RTO comes
    in max(srtt / 16, 10 ms) (tcp_check_sack_reneging, TCPSACKReneging). Each of those in-order
    fragments, after the queue was pruned, waits for its delayed ACK (TCP_DELACK_MIN: no out-of-order
    data, no quick ACKs). The initial window arrives after TCPTimeouts - TCPSACKReneging full RTOs and
    the reneging RTOs, with at most two delayed ACKs between two reneging RTOs."""
    for _, reader in READERS:
        r = run(**NO_GRO_64K, **reader)
        m, k = r.metrics(), r.conn[0]
        assert m["trapped_connections"] == 1 and len(r.trapped()) == 1, reader
        assert r.counters[Ctr.BeyondWindow] >= TCP_INIT_CWND - 2, reader
        assert m["TCPTimeouts"] >= 1 and m["TCPLossProbes"] == 0, reader
        assert r.t_us > TCP_RTO_MIN_US, reader
        if reader["wake_us"] < 48.0:
            assert m["TCPTimeouts"] == k[CN.rmem_drops] == r.counters[Ctr.TCPRcvQDrop] == 1, reader
            assert r.counters[Ctr.PruneCalled] == 1 and k[CN.ofo_drops] == 0, reader
            assert k[CN.rcvbuf] > TCP_INIT_CWND * (65536 + 256), reader
            assert m["TCPSACKRecovery"] == m["TCPLostRetransmit"] == 0, reader
    kw = {**NO_GRO_64K, "wake_us": 48.0}
    k = run(**kw).conn[0]
    truesize = 65536 + 256  # a full page and the sk_buff (napi_build_skb)
    assert k[CN.rcvbuf] == truesize and k[CN.trap_need] == TCP_INIT_CWND * truesize
    assert k[CN.scaling] == (1448 << 8) // truesize == 5
    # capped at the clamp (f5da7c45188e): 2560 at ratio 5, or SOCK_MIN_RCVBUF / 2 = 2304 once a retransmission
    # cut to 1200 B is measured at ratio 4 (tcp_measure_rcv_mss -> tcp_set_window_clamp's floor)
    assert 2304 <= k[CN.window_clamp] == k[CN.rcvq_space] <= tcp_win_from_space(131072, scaling_ratio=5) == 2560
    assert k[CN.timeouts] > 1 and k[CN.rmem_drops] > 1 and k[CN.retrans] > k[CN.timeouts]
    # every drop repaired by a full RTO or by a recovery entered on a lost retransmission
    assert k[CN.sack_recovery] > 0 and k[CN.lost_retrans] >= k[CN.sack_recovery]
    assert k[CN.rmem_drops] == k[CN.timeouts] - k[CN.sack_reneging] + k[CN.sack_recovery]
    # the initial window delivered: full RTOs of srtt + TCP_RTO_MIN, reneging RTOs of 10 ms, delayed ACKs
    first = _first_run(kw, lambda k: k[CN.rcv_nxt] >= TCP_INIT_CWND * advmss(1500))
    k = first.conn[0]
    n, reneged = k[CN.timeouts] - k[CN.sack_reneging], k[CN.sack_reneging]
    floor = n * (50.0 + TCP_RTO_MIN_US) + reneged * 10_000.0
    assert reneged > 0 and n >= 1 and floor < first.t_us < floor + 2 * (reneged + 1) * TCP_DELACK_MIN_US


def test_6_17_0_cuts_a_retransmission_to_the_window():
    """The trapped flow's first retransmissions after its RTO (48 µs reader), packet by packet: the read
    leaves a window that ends inside a lost segment, and __tcp_retransmit_skb() sends it cut there
    (avail_wnd = tcp_wnd_end() - seq below its length: len = avail_wnd, tcp_fragment()), one
    retransmission (RetransSegs). It finds the segment before it still queued and is dropped for
    memory. The segment's rest is an entry of its own: the next read's window lets it go as a short
    segment from the cut to the segment's end, queued out of order and SACKed. That SACK shows the
    fragment, sent before the rest, lost (tcp_rack_detect_loss: reordering window 0 in TCP_CA_Loss,
    TCPLostRetransmit), so the sender enters TCP_CA_Recovery (FLAG_LOST_RETRANS, 291a00d1a70f) and
    sends the fragment again alone when that ACK arrives, an RTT after the rest left, not at the next
    RTO: tcp_retrans_try_collapse() stops at the SACKed rest (tcp_can_collapse: TCPCB_SACKED_ACKED),
    though the window now holds both."""
    mss = advmss(1500)
    runs = [run(**{**NO_GRO_64K, "wake_us": 48.0, "packets": n}) for n in range(1, 21)]
    rows = [r.conn[0] for r in runs]
    i = next(i for i, k in enumerate(rows) if k[CN.seg_len] != mss)
    before, cut, rest = rows[i - 1], rows[i], rows[i + 1]
    seq, length = cut[CN.seg_seq], cut[CN.seg_len]
    assert seq % mss == 0 and seq < before[CN.snd_max] and before[CN.timeouts] == 1
    assert 0 < length == cut[CN.snd_edge] - seq < mss and cut[CN.retrans] == before[CN.retrans] + 1
    assert cut[CN.rmem_drops] == before[CN.rmem_drops] + 1
    assert rest[CN.seg_seq] == seq + length and rest[CN.seg_len] == mss - length
    assert rest[CN.retrans] == cut[CN.retrans] + 1 and rest[CN.timeouts] == 1 and rest[CN.ofo_segs] == 1
    assert rest[CN.ca_state] == CaState.loss and rest[CN.lost_retrans] == 0
    j = next(j for j in range(i + 2, len(rows)) if rows[j][CN.seg_seq] == seq)
    again = rows[j]
    assert j == i + 2 and runs[j].t_us == pytest.approx(runs[i + 1].t_us + 50.0, abs=1.0)
    assert again[CN.timeouts] == 1 and again[CN.ca_state] == CaState.recovery
    assert again[CN.lost_retrans] == again[CN.sack_recovery] == again[CN.fast_retrans] == 1
    assert again[CN.seg_len] == length and again[CN.sacked_out] == 1 and again[CN.snd_edge] - seq >= mss


# a window that stays below a segment: tcp_rmem 8192 on 6.6
SMALL_WINDOW = {"kernel": "6.6", "ring_size": 512, "tcp_rmem": 8192, **ONE}


def test_a_window_below_a_segment_is_probed_with_data():
    """tcp_rmem = 8192 on 6.6: after the first segment the receiver's window stays below one MSS, so
    tcp_write_xmit() sends nothing (tcp_snd_wnd_test) and, with nothing in flight, the zero-window
    probe timer is armed (tcp_check_probe_timer, tcp_probe0_when: srtt + TCP_RTO_MIN). Its probe
    carries data (tcp_send_probe0 -> tcp_write_wakeup): the window open by less than a segment, the
    head of the write queue is cut to it (seg_size = tcp_wnd_end() - seq, tcp_fragment) and sent as
    new data: not RetransSegs, and not TCPWinProbe, which tcp_xmit_probe_skb() counts for probes
    without data. Its ACK leaves a window below a segment again: the flow moves one fragment per
    probe timer."""
    mss = advmss(1500)
    rows = [run(**SMALL_WINDOW, packets=n) for n in range(1, 6)]
    assert rows[0].conn[0][CN.seg_len] == mss
    for prev, r in pairwise(rows):
        p, k = prev.conn[0], r.conn[0]
        assert k[CN.seg_seq] == p[CN.snd_nxt] and 0 < k[CN.seg_len] == k[CN.snd_edge] - k[CN.seg_seq] < mss
        assert r.t_us - prev.t_us > 50.0 + TCP_RTO_MIN_US
        assert k[CN.win_probes] == k[CN.retrans] == k[CN.timeouts] == 0


def test_6_17_0_with_tcp_rmem_1_mb_does_not_trap_that_stream():
    """The same stream with tcp_rmem[1] = 1 MB: tcp_can_ingest() admits the whole initial window (10 x
    65792 = 657920 <= 1048576). The next flight, twice as large, overflows it and tcp_clamp_window()
    sets sk_rcvbuf to what is queued, about 1 MB; the segments after the hole that fit are queued out
    of order (tcp_data_queue_ofo) and SACKed, so fast recovery repairs the hole within round trips
    (TCPSACKRecovery), and copied bytes per RTT above rcvq_space.space let tcp_rcv_space_adjust() grow
    sk_rcvbuf beyond an initial window again: no RTO, not trapped, at every reader latency. The 48 µs
    reader's trapped flow, repaired at the pace of its RTOs, is more than a hundred times slower."""
    for _, reader in READERS:
        trapped = run(**NO_GRO_64K, **reader)
        r = run(**NO_GRO_64K, tcp_rmem_default=1 << 20, **reader)
        m, k = r.metrics(), r.conn[0]
        assert m["trapped_connections"] == m["TCPTimeouts"] == 0 and r.trapped().empty, reader
        assert k[CN.rcvbuf] > TCP_INIT_CWND * (65536 + 256) and r.t_us < TCP_RTO_MIN_US, reader
        assert r.goodput_gbps > (100 if reader["wake_us"] == 48.0 else 10) * trapped.goodput_gbps, reader


def test_sack_repairs_a_hole_the_zero_window_ack_does_not_prevent():
    """Branch sack showed fast recovery on seed 000's 6.17 stream with a 48 µs reader: the second
    flight dropped for memory, the probe's segment queued out of order and SACKed, RACK and
    TCPFastRetrans resending the flight before any RTO. Merged with the zero-window ACK
    (e2142825c120) that flow drops nothing (the sender waits for the read), so the repair is shown
    where a hole still opens: XDP drops one frame in ten (tests/test_tcp_ofo.py's HOLES). What follows
    each hole passes tcp_sequence() (it is within the window) and is queued out of order and SACKed;
    the sender enters fast recovery (TCPSACKRecovery) and resends lost segments before their RTO
    (TCPFastRetrans, part of RetransSegs); no segment is dropped for memory or beyond the window and
    no zero-window ACK is sent for out-of-order data (tcp_data_queue_ofo sets no ICSK_ACK_NOMEM)."""
    r = run(kernel="6.17", packets=1500, wake_us=48.0, **FULL_64K)
    m = r.metrics()
    assert m["drop_tcp_rmem"] == m["TCPSACKRecovery"] == m["TCPTimeouts"] == 0
    holes = run(xdp=(0.9, 0.1, 0.0, 0.0), queues=1, connections=1, strategy="full_page", reader="periodic",
                app_read_us=1000.0, packets=600, ring_size=128, max_skbs=1024)
    h = holes.metrics()
    assert holes.counters[Ctr.TCPOFOQueue] > 0 and h["TCPSACKRecovery"] > 0
    assert 0 < h["TCPFastRetrans"] <= h["RetransSegs"]
    assert h["drop_tcp_rmem"] == h["drop_tcp_beyond_window"] == h["drop_tcp_zero_window"] == 0
    assert holes.conn[0, CN.ack_nomem] == 0


def test_a_closed_window_is_probed_by_the_sender_and_the_probes_back_off():
    """A reader that reads once a second (periodic) lets the window close in between: the sender,
    nothing in flight and less than a segment of window, arms the zero-window probe
    (tcp_check_probe_timer: tcp_probe0_base, the RTO of srtt + TCP_RTO_MIN) and sends probes
    (TCPWinProbe) that the receiver answers at once with its still closed window, each timer twice
    the last (tcp_probe0_when), re-armed from the ACK that answers the probe (tcp_ack_probe): at 250 and 750 ms after the window closed, the next (1.75 s) after
    the read that opens it. So two probes per second the window stays closed, not four."""
    r = run(packets=300, reader="periodic", app_read_us=1e6, so_rcvbuf=16384, **ONE)
    probes, seconds = r.conn[0, CN.win_probes], r.t_us / 1e6
    assert r.metrics()["TCPWinProbe"] == probes and seconds > 5
    assert 2 * (seconds - 1) <= probes <= 2 * seconds + 2


def test_acks_come_back_an_rtt_later_with_the_window_then():
    """The receiver's ACK of the initial window leaves when the aggregate is queued and reaches the
    sender an RTT later: with a 1 ms RTT, the first 10 segments leave at once, then the link idles
    until that ACK, so 20 segments (the window grown by slow start) take at least one RTT."""
    r = run(packets=2 * TCP_INIT_CWND, rtt_us=1000.0, **ONE)
    assert r.t_us > 1000.0 and r.conn[0, CN.acks_sent] >= 1



def _by_hand():
    """The engine's arrays for one connection at its starting state (build()), for a test to set a
    sender or receiver by hand and call the kernels through the njit helpers below."""
    cfg = SimConfig(**ONE)
    return build(cfg, plan(cfg))[1]


@numba.njit(cache=True)
def _send_while_allowed(rx, out):
    """Connection 0's segments while tcp_write_xmit() may send (the engine's sender kernels have no
    Python wrapper): (seq, payload bytes) rows in ``out``; returns how many."""
    n = 0
    while n < out.shape[0] and can_send(rx, 0):
        out[n, 0] = sender_xmit(rx, 0, 0.0)
        out[n, 1] = rx.conn[0, CN.seg_len]
        n += 1
    return n


def test_a_fast_retransmission_is_cut_to_the_window_and_waits_beyond_it():
    """__tcp_retransmit_skb() for the lost segments tcp_xmit_retransmit_queue() sends in TCP_CA_Recovery,
    on a sender set by hand: ten segments out, the first two lost, the other eight SACKed, the window
    ending 600 bytes into the second. The first goes whole; the second is cut to the window (avail_wnd
    below its length: len = avail_wnd, tcp_fragment()), its rest a lost entry of its own
    (tcp_skb_pcount() 1), which starts at tcp_wnd_end() and so waits (-EAGAIN) while the window stays;
    once snd_una reaches it, it goes whatever the window ("our retransmit of one segment serves as a
    zero window probe"), not collapsed with the SACKed entry after it (tcp_can_collapse)."""
    rx = _by_hand()
    mss = advmss(1500)
    k, b = rx.conn[0], rx.sb[0]
    k[CN.snd_una], k[CN.snd_nxt], k[CN.snd_max], k[CN.high_seq] = 0, 10 * mss, 10 * mss, 10 * mss
    k[CN.snd_edge], k[CN.cwnd], k[CN.ca_state] = mss + 600, 10, CaState.recovery
    b[SB.n_ranges], b[SB.range], b[SB.range + 1] = 1, 2 * mss, 10 * mss
    b[SB.rexmit_nxt], b[SB.lost_hi], b[SB.fack] = 0, 2 * mss, 10 * mss
    k[CN.sacked_out], k[CN.lost_out] = 8, 2
    out = np.zeros((4, 2), np.int64)
    n = _send_while_allowed(rx, out)
    assert out[:n].tolist() == [[0, mss], [mss, 600]]
    assert k[CN.lost_out] == 1 and b[SB.rexmit_nxt] == mss + 600 and k[CN.fast_retrans] == k[CN.retrans] == 2
    assert b[SB.n_frags] == 2 and (b[SB.frag + 2], b[SB.frag + 3]) == (mss + 600, 2 * mss)
    k[CN.snd_una] = k[CN.snd_edge] = mss + 600  # acknowledged up to the cut; the window still closed
    n = _send_while_allowed(rx, out)
    assert out[:n].tolist() == [[mss + 600, mss - 600]] and k[CN.lost_out] == 0


def test_rack_finds_a_retransmission_lost_from_what_was_sent_after_it():
    """tcp_rack_detect_loss() in TCP_CA_Recovery (reordering window 0) for the retransmissions in flight
    (TCPCB_SACKED_RETRANS), on a sender set by hand: ten segments out, the first two lost, the other
    eight SACKed; the two go again, then two new segments. The latest segment an ACK delivers decides,
    by when it left (tcp_rack_advance, RACK's send order): new data SACKed left after both
    retransmissions, so both are lost again (tcp_mark_skb_lost: TCPLostRetransmit), are no longer in
    flight and go again, the first from snd_una; the second retransmission SACKed left after the first
    only; the first acknowledged shows nothing of the second, sent after it; and a retransmission
    delivered sooner than min_rtt after it left may be its original's delivery, which RACK does not
    take (tcp_rack_advance)."""
    mss = advmss(1500)
    cases = {"new data": ([10 * mss, 11 * mss], 0, 2), "second": ([mss, 2 * mss], 0, 1),
             "first": ([0, 0], mss, 0), "second too soon": ([mss, 2 * mss], 0, 0)}
    for case, (block, ack, lost) in cases.items():
        rx = _by_hand()
        k, b = rx.conn[0], rx.sb[0]
        k[CN.snd_nxt], k[CN.snd_max], k[CN.high_seq] = 10 * mss, 10 * mss, 10 * mss
        k[CN.snd_edge], k[CN.cwnd], k[CN.ca_state] = 30 * mss, 4, CaState.recovery
        b[SB.n_ranges], b[SB.range], b[SB.range + 1] = 1, 2 * mss, 10 * mss
        b[SB.rexmit_nxt], b[SB.lost_hi], b[SB.fack] = 0, 2 * mss, 10 * mss
        k[CN.sacked_out], k[CN.lost_out] = 8, 2
        out = np.zeros((8, 2), np.int64)
        n = _send_while_allowed(rx, out)
        assert out[:n, 0].tolist() == [0, mss, 10 * mss, 11 * mss] and b[SB.n_rtx] == 2, case
        if case == "second too soon":  # as if the second had left 10 µs before the ACK (at 1 s)
            b[SB.rtx + 4 + 3] = int((1e6 - 10.0) * 1000)
        a = np.zeros(AK.n, np.int64)
        a[AK.sack], a[AK.sack + 1] = block
        _tcp_ack(rx, ack, 30 * mss, a)
        assert k[CN.lost_retrans] == lost and k[CN.lost_out] == lost, case
        if lost:
            k[CN.cwnd] = 8
            n = _send_while_allowed(rx, out)
            assert out[:lost, 0].tolist() == [0, mss][:lost] and k[CN.fast_retrans] == 2 + lost, case


def test_f_rto_sends_new_data_on_the_first_ack_after_an_rto():
    """F-RTO (RFC 5682 sec 3.1; net.ipv4.tcp_frto = 2, tcp_process_loss), on a sender set by hand just
    after an RTO (TCP_CA_Loss, ten segments out, the head sent again, cwnd 1): the ACK of the head
    advances snd_una short of high_seq with nothing new sent since the RTO, so the sender sends new data
    (step 2b, REXMIT_NEW) in the window this ACK grew to two segments, not the next lost segment. The
    next ACK, a SACK of that new data, shows the loss real (step 3a): the segments the RTO marked go
    again first, as retransmissions in TCP_CA_Loss (TCPSlowStartRetrans, not TCPFastRetrans). With a
    window that cannot take a new segment F-RTO ends at once and the lost segments go on from snd_una."""
    mss = advmss(1500)
    for edge in (30 * mss, 10 * mss + 100):
        rx = _by_hand()
        k, b = rx.conn[0], rx.sb[0]
        k[CN.snd_nxt], k[CN.snd_max], k[CN.high_seq], k[CN.snd_edge] = mss, 10 * mss, 10 * mss, edge
        k[CN.cwnd], k[CN.ssthresh], k[CN.cwnd_limited], k[CN.ca_state] = 1, 5, 1, CaState.loss
        b[SB.frto] = 1
        a = np.zeros(AK.n, np.int64)
        _tcp_ack(rx, mss, edge, a)
        out = np.zeros((4, 2), np.int64)
        n = _send_while_allowed(rx, out)
        assert k[CN.cwnd] == 2 and k[CN.ca_state] == CaState.loss, edge
        if edge < 11 * mss:
            assert b[SB.frto] == 0 and out[:n, 0].tolist() == [mss, 2 * mss] and k[CN.lost_out] == 0
            continue
        assert b[SB.frto] == 2 and out[:n, 0].tolist() == [10 * mss, 11 * mss]
        assert k[CN.lost_out] == 9 and k[CN.retrans] == 0
        a[AK.sack], a[AK.sack + 1] = 10 * mss, 11 * mss
        _tcp_ack(rx, mss, edge, a)
        n = _send_while_allowed(rx, out)
        assert b[SB.frto] == 1 and out[:n, 0].tolist() == [mss]
        assert k[CN.retrans] == 1 and k[CN.fast_retrans] == 0 and k[CN.lost_out] == 8


def test_in_tcp_ca_loss_the_head_goes_again_into_a_closed_window():
    """__tcp_retransmit_skb() refuses a retransmission that starts beyond tcp_wnd_end() (-EAGAIN) unless
    it is snd_una, "our retransmit of one segment serves as a zero window probe": in TCP_CA_Loss, with
    an ACK that leaves the head lost and not yet sent again (here the rest of a cut retransmission,
    acknowledged up to the cut) and a zero window, tcp_xmit_retransmit_queue() sends the head whole and
    nothing after it."""
    rx = _by_hand()
    mss = advmss(1500)
    k = rx.conn[0]
    k[CN.snd_una] = k[CN.snd_nxt] = k[CN.snd_edge] = 3 * mss
    k[CN.snd_max] = k[CN.high_seq] = 8 * mss
    k[CN.cwnd], k[CN.ca_state] = 2, CaState.loss
    out = np.zeros((4, 2), np.int64)
    n = _send_while_allowed(rx, out)
    assert out[:n].tolist() == [[3 * mss, mss]] and k[CN.retrans] == 1


def test_an_rto_in_tcp_ca_loss_lowers_ssthresh_again_once_an_ack_advanced():
    """tcp_enter_loss() lowers ssthresh "if it has not yet been made inside this window": on entering
    from TCP_CA_Open, and in TCP_CA_Loss when icsk_retransmits is 0, an ACK having advanced snd_una
    since the last RTO (tcp_ack). The trapped stream (48 µs reader): its first RTO halves the initial
    window, ssthresh 5; the retransmission is acknowledged, and slow start in TCP_CA_Loss grows cwnd at
    most to that 5, so the second RTO sets tcp_reno_ssthresh() = max(cwnd >> 1, 2) = 2."""
    kw = {**NO_GRO_64K, "wake_us": 48.0}
    first = _first_run(kw, lambda k: k[CN.timeouts] >= 1).conn[0]
    second = _first_run(kw, lambda k: k[CN.timeouts] >= 2).conn[0]
    assert first[CN.ssthresh] == TCP_INIT_CWND >> 1 and first[CN.cwnd] == 1
    assert second[CN.ca_state] == CaState.loss and second[CN.ssthresh] == 2 and second[CN.cwnd] == 1


@numba.njit(cache=True)
def _ack_snd_check(rx, t):
    tcp_ack_snd_check(rx, 0, t)


def test_a_delayed_ack_about_to_expire_goes_now():
    """tcp_send_delayed_ack() with its timer pending: "If delack timer is about to expire, send ACK now"
    (within ato >> 2 = 10 ms of TCP_ATO_MIN's 40); an earlier timer is kept otherwise. One segment
    unacknowledged, not quick-ack mode: __tcp_ack_snd_check() leaves it to the delayed ACK."""
    rx = _by_hand()
    k = rx.conn[0]
    k[CN.rcv_nxt] = k[CN.rcv_wup] + advmss(1500)
    slot = Timer.delack
    for armed_at, sent in ((-0.70 * TCP_DELACK_MIN_US, False), (-0.76 * TCP_DELACK_MIN_US, True)):
        k[CN.ack_pending], k[CN.acks_sent], k[CN.ack_quick] = 1, 0, 0
        rx.tq_due[slot] = 1e6 + armed_at + TCP_DELACK_MIN_US
        _ack_snd_check(rx, 1e6)
        assert k[CN.acks_sent] == int(sent) and (rx.tq_due[slot] == np.inf) == sent, armed_at


@numba.njit(cache=True)
def _tcp_ack(rx, ack, edge, a):
    tcp_ack(rx, 0, ack, edge, 1e6, a)


def test_a_tail_loss_probe_that_repaired_a_loss_halves_the_window():
    """tcp_process_tlp_ack() for a probe that sent the last segment again (tlp_retrans), on a sender set
    by hand (ten segments out, not cwnd-limited, so Reno does not grow the window): an ACK of exactly
    the probe's snd_nxt leaves it outstanding; the next ACK beyond it shows the probe repaired a loss,
    and the window is reduced as in TCP_CA_CWR (tcp_init_cwnd_reduction: ssthresh = max(cwnd >> 1, 2);
    tcp_end_cwnd_reduction: cwnd = ssthresh), TCPLossProbeRecovery. Had the original arrived too, the
    ACK the probe's copy forces D-SACKs it (FLAG_DSACK_TLP, even with a window update) or is a pure
    duplicate ACK: the probe ends with no reduction."""
    mss = advmss(1500)
    for dup in (None, "pure", "dsack"):
        rx = _by_hand()
        k, b = rx.conn[0], rx.sb[0]
        a = np.zeros(AK.n, np.int64)
        k[CN.snd_nxt] = k[CN.snd_max] = k[CN.tlp_high_seq] = 10 * mss
        k[CN.snd_edge], k[CN.cwnd], k[CN.ssthresh], k[CN.cwnd_limited] = 30 * mss, 10, 1 << 30, 0
        b[SB.tlp_retrans] = 1
        if dup:  # the original arrived: the probe's copy is acknowledged by a duplicate ACK
            k[CN.snd_una] = 10 * mss
            if dup == "dsack":
                a[AK.dsack], a[AK.dsack + 1] = 9 * mss, 10 * mss
            _tcp_ack(rx, 10 * mss, (31 if dup == "dsack" else 30) * mss, a)
            assert k[CN.tlp_high_seq] == 0 and k[CN.cwnd] == 10 and k[CN.tlp_recovery] == 0, dup
            continue
        _tcp_ack(rx, 10 * mss, 30 * mss, a)
        assert k[CN.tlp_high_seq] == 10 * mss and k[CN.cwnd] == 10
        k[CN.snd_nxt] = k[CN.snd_max] = 12 * mss
        _tcp_ack(rx, 12 * mss, 32 * mss, a)
        assert k[CN.tlp_high_seq] == 0 and k[CN.ssthresh] == k[CN.cwnd] == 5 and k[CN.tlp_recovery] == 1
