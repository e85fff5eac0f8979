"""The transport (rxlab.engine.sender, tcp_output, timers, reader): Linux's sender with its congestion
window, TSO skbs and timers, ACKs back one RTT later, readers woken by their data. Small runs: both
passes. Each expected value is worked from the kernel function the test names."""

import functools

from rxlab import SimConfig, simulate
from rxlab.counters import Ctr
from rxlab.engine.layout import CN
from rxlab.kernel.tcp import (
    GSO_LEGACY_MAX_SIZE,
    SK_PACING_SHIFT,
    TCP_INIT_CWND,
    TCP_MIN_TSO_SEGS,
    TCP_PACING_SS_RATIO,
    TCP_RTO_MIN_US,
    TCP_TIMEOUT_MIN_US,
    TCP_TSO_RTT_LOG,
    advmss,
)

ONE = {"connections": 1, "queues": 1}
FULL_64K = {"strategy": "full_page", "page_size": 65536, "arch": "arm64", **ONE}


@functools.cache
def run(**kw):
    return simulate(SimConfig(**kw))


def test_the_initial_window_is_one_tso_skb_gro_merges_and_an_empty_queue_takes_whole():
    """TCP_INIT_CWND segments leave back to back as one TSO skb (tcp_write_xmit: the initial window
    of 10 is below tcp_tso_autosize()'s 22 segments: 2 x 10 x 1448 B per 50 µs >> sk_pacing_shift
    plus gso_max_size >> (50 µs >> tcp_tso_rtt_log), at most half the 65160 B SYN-ACK window); GRO
    merges them into one skb of 10 full 64 KB pages, whose truesize is 5 x the 131072 B tcp_rmem[1].
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


def test_a_slow_reader_traps_6_17_and_the_sender_progresses_at_its_timers():
    """On 6.17.0 with its default tcp_rmem, seed 000's stream on full 64 KB pages: the second flight
    (20 segments, 1.3 MB of truesize) finds the first still queued, tcp_can_ingest() refuses it,
    tcp_prune_queue() clamps sk_rcvbuf to what is queued (1d2fbaad7cd8) and it is dropped. With a
    reader woken after the tail loss probe (2 ms, beyond 2 x srtt + TCP_TIMEOUT_MIN) the probe's
    segment finds the queue still full and is dropped too (TCPOFODrop): nothing is SACKed and the
    sender finds out by its timers only: tail loss probes (tcp_schedule_loss_probe), then RTOs of
    srtt + TCP_RTO_MIN (tcp_retransmit_timer): the run's time is mostly that wait, and the run says
    the flow is trapped. 7.0 and 6.18.17 free it (026dfef287c0: sk_rmem_alloc <= sk_rcvbuf again),
    as does a reader woken in 2 µs (an idle CPU), which drains the first flight in time."""
    kw = {"kernel": "6.17", "packets": 1500, "wake_us": 2000.0, **FULL_64K}
    trapped = run(**kw)
    m = trapped.metrics()
    assert m["trapped_connections"] == 1 and m["TCPTimeouts"] >= 1 and m["TCPLossProbes"] >= 1
    assert m["drop_tcp_rmem"] > 0 and m["drop_tcp_ofo"] > 0 and m["RetransSegs"] > 0 and m["TCPFastRetrans"] == 0
    assert trapped.t_us > m["TCPLossProbes"] * (2 * 50.0 + TCP_TIMEOUT_MIN_US) + m["TCPTimeouts"] * (50.0 + TCP_RTO_MIN_US)
    t = trapped.trapped()
    assert "recovered only by" in t.why[0] and "rmem_plus_truesize admission" in t.why[0]
    freed = [run(**{**kw, "kernel": "7.0"}), run(**{**kw, "kernel": "6.18.17"}), run(**{**kw, "wake_us": 2.0})]
    assert [r.metrics()["trapped_connections"] for r in freed] == [0, 0, 0]
    assert all(r.metrics()["TCPTimeouts"] == 0 and r.goodput_gbps > 10 * trapped.goodput_gbps for r in freed)


def test_a_reader_woken_before_the_probe_lets_sack_repair_the_dropped_flight():
    """The same drop with the reader woken 48 µs after its data (schbench's median at its default
    load, data/read_model.md): by the time the tail loss probe sends new data (tcp_send_loss_probe)
    the reader has drained the queue, so tcp_data_queue_ofo() queues the probe's segment after the
    hole and SACKs it. RACK finds the dropped flight, sent before it, lost (tcp_rack_detect_loss),
    the sender enters fast recovery (tcp_enter_recovery: TCPSACKRecovery) and sends each dropped
    segment again (tcp_xmit_retransmit_queue: TCPFastRetrans) before any RTO; the flow is not
    trapped."""
    r = run(kernel="6.17", packets=1500, wake_us=48.0, **FULL_64K)
    m = r.metrics()
    assert m["drop_tcp_rmem"] > 0 and m["TCPLossProbes"] == 1 and r.counters[Ctr.TCPOFOQueue] >= 1
    assert m["TCPSACKRecovery"] == 1 and m["TCPTimeouts"] == 0 and m["trapped_connections"] == 0
    assert m["TCPFastRetrans"] == m["RetransSegs"] == m["drop_tcp_rmem"]
    assert r.conn[0, CN.packets] * advmss(1500) == r.conn[0, CN.rcv_nxt] > m["drop_tcp_rmem"] * advmss(1500)
    assert r.t_us < TCP_RTO_MIN_US


def test_a_closed_window_is_probed_by_the_sender_and_the_probes_back_off():
    """A reader that reads once a second (periodic) lets the window close in between: the sender,
    nothing in flight and less than a segment of window, arms the zero-window probe
    (tcp_check_probe_timer: tcp_probe0_base, the RTO of srtt + TCP_RTO_MIN) and sends probes
    (TCPWinProbe) that the receiver answers at once with its still closed window, each timer twice
    the last (tcp_probe0_when): at 250 and 750 ms after the window closed, the next (1.75 s) after
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
