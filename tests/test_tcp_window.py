"""The window the receiver advertises, as the kernel selects it: tcp_select_initial_window() and
tcp_init_buffer_space(), window_clamp by release (a2cbb1603943, f5da7c45188e), rcv_ssthresh and
tcp_grow_window(), __tcp_select_window()'s rounding, and tcp_cleanup_rbuf()'s window updates. Every
expected value is worked out by hand from the kernel source named in each docstring."""

from rxlab import SimConfig, simulate
from rxlab.counters import Ctr
from rxlab.engine.layout import CN
from rxlab.kernel import releases
from rxlab.kernel.tcp import (
    TCP_INIT_CWND,
    sock_min_rcvbuf,
    tcp_init_buffer_space,
    tcp_select_initial_window,
    tcp_win_from_space,
)

ONE = {"queues": 1, "connections": 1, "ack_fraction": 0.0}


def test_the_syn_ack_window_and_its_scale():
    """tcp_select_initial_window(): the full space of a 128 KB sk_rcvbuf at the initial ratio 128 is
    65536, rounded down to 45 segments of 1448 (65160), under U16_MAX; the scale is ilog2 of the
    largest of it, tcp_rmem[2] and rmem_max, less 15: 25 - 15 = 10 for 32 MB, 22 - 15 = 7 for 6 MB;
    window_clamp U16_MAX << scale. With SO_RCVBUF the clamp is the full space (tcp_openreq_init_rwin),
    which also bounds the scale: ilog2(65536) - 15 = 1."""
    assert tcp_select_initial_window(65536, 1448, 32 << 20, 212992) == (65160, 0xFFFF << 10, 10)
    assert tcp_select_initial_window(65536, 1448, 6 << 20, 212992) == (65160, 0xFFFF << 7, 7)
    assert tcp_select_initial_window(1 << 20, 1448, 32 << 20, 212992) == (0xFFFF, 0xFFFF << 10, 10)
    assert tcp_select_initial_window(65536, 1448, 32 << 20, 212992, window_clamp=65536) == (65160, 65536, 1)


def test_the_established_connection_reserves_one_segment():
    """tcp_init_buffer_space(): window_clamp is the full space (tcp_app_win 31 takes nothing off it)
    less one advmss, rcv_ssthresh the SYN-ACK's window at most that, rcvq_space.space 10 x advmss."""
    assert tcp_init_buffer_space(0xFFFF << 10, 65160, 65536, 1448) == (64088, 64088, 14480)
    assert tcp_init_buffer_space(0xFFFF << 10, 0xFFFF, 1 << 20, 1448) == ((1 << 20) - 1448, 0xFFFF, 14480)


def test_the_table_keys_window_clamp_by_release():
    """a2cbb1603943 (6.11) in the 6.12 row, and backported to 6.6.48 and 6.10.7; f5da7c45188e (6.14) from
    the 6.16 row on, and backported to 6.6.80 and 6.12.17: 6.12.16 still behaves as 6.12."""
    for name, value in (("6.6", "autotune"), ("6.6.47", "autotune"), ("6.6.48", "scaling_ratio"),
                        ("6.6.79", "scaling_ratio"), ("6.6.80", "set_clamp"), ("6.10", "autotune"),
                        ("6.10.7", "scaling_ratio"), ("6.13", "scaling_ratio")):
        assert releases.release(name).window_clamp == value, name
    six12 = releases.release("6.12")
    assert six12.window_clamp == "scaling_ratio"
    assert (six12.source("window_clamp").commit, six12.source("window_clamp").release) == ("a2cbb1603943", "6.11")
    assert releases.release("6.12.16").window_clamp == "scaling_ratio"
    for name in ("6.12.17", "6.12.40", "6.16", "7.1"):
        rel = releases.release(name)
        assert rel.window_clamp == "set_clamp" and rel.source("window_clamp").commit == "f5da7c45188e", name
    assert releases.release("6.16").source("window_clamp").release == "6.14"


def _first_skbs(kernel, **kw):
    """One connection's first few segments, before any read can autotune (the RTT is a second)."""
    return simulate(SimConfig(kernel=kernel, packets=20, rtt_us=1e6, **ONE, **kw)).conn[0]


def test_window_clamp_follows_the_measured_scaling_ratio_from_6_11():
    """tcp_measure_rcv_mss(): 6.10 leaves window_clamp at what tcp_init_buffer_space() set (64088);
    from 6.11 (a2cbb1603943) a new scaling_ratio sets it to tcp_win_from_space(sk_rcvbuf) at that
    ratio: here 128 KB at the first skb's, the initial window of 10 segments of 1448 bytes that GRO
    merged, each in a 4 KB page charged 4352 less the sk_buff of the 9 merged (256): 89."""
    old, new = _first_skbs("6.10"), _first_skbs("6.12")
    assert old[CN.window_clamp] == 64088
    assert new[CN.scaling] == (10 * 1448 << 8) // (4352 + 9 * (4352 - 256)) == 89
    assert new[CN.window_clamp] == tcp_win_from_space(131072, scaling_ratio=89) == 45568


def test_rcvq_space_is_capped_at_window_clamp_from_6_14():
    """f5da7c45188e: a scaling_ratio that falls (full 64 KB pages charged what they pin: 1448 of payload
    in 65792 bytes, ratio 5) makes window_clamp tcp_win_from_space(128 KB) = 2560 (through
    tcp_set_window_clamp() from 6.14, which keeps it at SOCK_MIN_RCVBUF / 2 or more), and rcvq_space.space, 14480
    since tcp_init_buffer_space(), is capped at it; 6.12 before the backport keeps 14480, above the
    window it may ever advertise, so tcp_rcv_space_adjust() would never see more copied."""
    kw = {"strategy": "full_page", "page_size": 65536, "truesize_honest": True, "gro": False}
    old, new = _first_skbs("6.12", **kw), _first_skbs("6.12.17", **kw)
    assert old[CN.scaling] == new[CN.scaling] == 5
    clamp = tcp_win_from_space(131072, scaling_ratio=5)
    assert clamp == 2560 > sock_min_rcvbuf("arm64") // 2
    assert old[CN.window_clamp] == new[CN.window_clamp] == clamp
    assert (old[CN.rcvq_space], new[CN.rcvq_space]) == (14480, clamp)


def test_the_advertised_window_is_rounded_to_the_scale_and_within_its_clamp():
    """__tcp_select_window() rounds the window up to a multiple of 1 << rcv_wscale (10 with 32 MB
    tcp_rmem[2]), and it never passes window_clamp rounded so (rcv_ssthresh <= window_clamp)."""
    # by 5,000 packets autotuning has grown every window to hundreds of KB (as at 20,000): not multiples
    # of 1024 unrounded, their clamps not multiples either
    r = simulate(SimConfig(connections=8, packets=5000))
    for row in r.conn:
        wnd = row[CN.rcv_edge] - row[CN.rcv_wup]
        assert wnd % (1 << 10) == 0 and 0 <= wnd <= -(-row[CN.window_clamp] // 1024) * 1024
        assert row[CN.rcv_ssthresh] <= row[CN.window_clamp]


def test_tcp_grow_window_grows_rcv_ssthresh_up_to_window_clamp():
    """rcv_ssthresh starts at the SYN-ACK's window at most window_clamp, and tcp_grow_window() raises
    it by max(2 x advmss, 2 x len) per in-order skb while it is below min(window_clamp, tcp_space()).
    6.1 (half of 128 KB: clamp 64088) starts it at 64088 and 20 segments leave it there (no room);
    6.6's initial ratio 65 gives a clamp of 33280 - 1448 = 31832, where it starts and stays until
    autotuning raises the clamp; 6.16's ratio 128 clamps at 64088 and its measured ratio 85 at 43520
    (f5da7c45188e's tcp_set_window_clamp lowers rcv_ssthresh with it)."""
    assert [_first_skbs(k, gro=False)[CN.rcv_ssthresh] for k in ("6.1", "6.6", "6.16")] == [64088, 31832, 43520]


def test_a_read_that_frees_the_window_sends_an_update():
    """__tcp_cleanup_rbuf() (net/ipv4/tcp.c) after a read: an ACK still scheduled for more than a segment
    goes out (time_to_ack); only when none is, a window at most half window_clamp that the read lets
    __tcp_select_window() at least double is advertised at once (a window update). With a locked 128 KB
    sk_rcvbuf (SO_RCVBUF 64 KB) the queued data closes most of the window; the ACK that would shrink it
    is withheld (__tcp_ack_snd_check: quick-ack mode ended below half the space), so a read 200 µs
    later finds it scheduled and sends it: no update. Reads 50 ms apart come after the sender's tail
    loss probe (2 x srtt + TCP_TIMEOUT_MIN, before TCP_DELACK_MIN's 40 ms), whose segment is queued
    already: tcp_data_queue() forces the ACK out ("A retransmit ... Force an immediate ack"), with the
    small window. Every such read then finds nothing scheduled and the freed window is sent as an
    update, which reopens the sender before its zero-window probe is due (no TCPWinProbe)."""
    kw = {"packets": 600, "reader": "periodic", "so_rcvbuf": 65536, **ONE}
    scheduled = simulate(SimConfig(app_read_us=200.0, **kw))
    assert scheduled.counters[Ctr.tcp_recvmsg] > 0 and scheduled.conn[0, CN.win_updates] == 0
    slow = simulate(SimConfig(app_read_us=50_000.0, **kw))
    k, m = slow.conn[0], slow.metrics()
    assert k[CN.win_updates] == slow.counters[Ctr.tcp_recvmsg] > 0
    assert k[CN.dup_data] == m["TCPLossProbes"] > 0 and m["TCPWinProbe"] == 0


def test_the_rcvq_space_cap_lets_autotuning_free_a_flow_6_18_would_trap():
    """Seed 000's stream on full 64 KB pages with GRO off (each segment one skb, 1448 bytes charged 65792:
    scaling_ratio 5, so window_clamp falls to tcp_win_from_space(128 KB) = 2560 at the first segment) on
    6.18.0, whose admission is sk_rmem_alloc + len (f017c1f768b6). The second segment is coalesced into
    the first (skb_try_coalesce: its page, 65536); the third does not fit, tcp_clamp_window() sets
    sk_rcvbuf to the 131328 queued and it is dropped with a zero-window ACK; the rest of the initial
    window falls beyond that window, so only the RTO recovers (with or without the cap). Then the window
    of 131328 at ratio 5 (2565, rounded up to 3072) takes two segments per read, 2896 bytes. With
    f5da7c45188e's cap rcvq_space.space fell to window_clamp, 2560, so that exceeds it and
    tcp_rcv_space_adjust() grows sk_rcvbuf beyond an initial window of its skbs: the flow gets out. With
    a2cbb1603943's rule alone (6.11 to 6.13) rcvq_space.space stays at 14480, above anything the flow
    copies in an RTT: autotuning never runs and sk_rcvbuf stays two skbs (Result.trapped(): short), and
    the rest of the initial window comes a fragment at a time: the window left by a read ends inside a
    lost segment, __tcp_retransmit_skb() cuts it there (tcp_fragment) and the fragment finds the buffer
    full. Each such drop waits for a full RTO, or for the segment's rest to be SACKed: RACK then finds
    the fragment lost and fast recovery resends it (TCPLostRetransmit, 291a00d1a70f); the receiver
    prunes the rest to take it, and the RTO of a receiver that reneged follows in 10 ms
    (TCPSACKReneging, tcp_check_sack_reneging). A cut segment's
    shorter length changes the measured ratio, and window_clamp follows it from the sk_rcvbuf of then
    (tcp_measure_rcv_mss, a2cbb1603943): tcp_win_from_space(131328) at ratio 5 in the end."""
    from rxlab.studies.seeds import SEED000

    kw = {"kernel": "6.18", "strategy": "full_page", "packets": 1500, "wake_us": 48.0, "gro": False,
          **SEED000, "queues": 1}
    capped, uncapped = simulate(SimConfig(**kw)), simulate(SimConfig(fixes=("a2cbb1603943",), **kw))
    c, u = capped.conn[0], uncapped.conn[0]
    assert c[CN.rmem_drops] == c[CN.timeouts] == 1 and u[CN.rmem_drops] > 1 and u[CN.sack_recovery] > 0
    assert u[CN.rmem_drops] == u[CN.timeouts] - u[CN.sack_reneging] + u[CN.sack_recovery]
    assert c[CN.rcvbuf] > c[CN.trap_need] == TCP_INIT_CWND * 65792 and c[CN.rcvq_space] > 2 * 1448
    assert u[CN.rcvbuf] == 65792 + 65536 < u[CN.trap_need] and u[CN.rcvq_space] == 14480
    assert u[CN.window_clamp] == tcp_win_from_space(65792 + 65536, scaling_ratio=5) == 2565
    assert "sk_rcvbuf" in uncapped.trapped()["why"].iloc[0] and capped.goodput_gbps > uncapped.goodput_gbps
