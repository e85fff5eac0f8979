"""The TCP receive side as each release has it (net/ipv4/tcp_input.c, net/core/sock.c): receive-buffer
autotuning, SO_RCVBUF, tcp_prune_queue() / tcp_collapse() under memory pressure, the admission rules.
Small runs: both passes."""

import functools

import pytest

from rxlab import SimConfig, simulate
from rxlab.counters import Ctr
from rxlab.engine.layout import CN, Grow, WinMode
from rxlab.engine.tcp import alloc_skb_truesize as engine_alloc_skb_truesize
from rxlab.engine.tcp import tcp_rcvbuf_grow as engine_grow
from rxlab.kernel import releases
from rxlab.kernel.tcp import (
    TCP_INIT_CWND,
    alloc_skb_truesize,
    collapse_skb_max,
    rcvmem_per_mss,
    so_rcvbuf,
    tcp_rcvbuf_grow,
)

SMALL = {"queues": 1, "connections": 2, "packets": 3000}
PRESSURE = ("PruneCalled", "TCPRcvCollapsed", "RcvPruned", "TCPRcvQDrop")


@functools.cache
def run(**kw):
    return simulate(SimConfig(**{**SMALL, **kw}))


def pressure(r):
    return {n: int(r.counters[Ctr[n]]) for n in PRESSURE}


# -- tcp_rcv_space_adjust() ------------------------------------------------------------------------

def test_autotuning_grows_sk_rcvbuf_for_a_fast_reader_and_not_for_a_stalled_one():
    """tcp_rcv_space_adjust(): once per RTT after a read, the bytes copied since the last measurement;
    more than ever before -> sk_rcvbuf grows (tcp_rcvbuf_grow), up to tcp_rmem[2]. A socket starts at
    tcp_rmem[1] (tcp_init_sock); one whose application never reads never grows."""
    start = releases.newest().tcp_rmem_default
    fast = run(reader="periodic", app_read_us=50.0)
    assert (fast.conn[:, CN.rcvbuf] > 4 * start).all()
    assert (fast.conn[:, CN.rcvbuf] <= fast.config.tcp_rmem).all()
    assert (fast.conn[:, CN.rcvq_space] > 0).all() and fast.conn[:, CN.delivered].sum() > 0
    # reads at 0 and then not for a second: these 80 packets fit the first window, nothing is read
    stalled = run(reader="periodic", app_read_us=1e6, packets=80)
    assert (stalled.conn[:, CN.delivered] == 0).all() and (stalled.conn[:, CN.rmem] > 0).all()
    assert (stalled.conn[:, CN.rcvbuf] == start).all()


def test_a_reader_as_fast_grows_further_under_the_6_1_rule_than_the_6_16_one():
    """6.1's 2 x copied + 16 advmss, grown for slow start (tcp_rcv_space_adjust) asks for more than
    6.16's 2 x copied (65c5287892e9 'tcp: fix sk_rcvbuf overshoot') for the same reads."""
    old, new = run(kernel="6.13", reader="periodic", app_read_us=50.0), run(kernel="6.16", reader="periodic", app_read_us=50.0, tcp_rmem=6 << 20)
    assert old.conn[0, CN.rcvbuf] > new.conn[0, CN.rcvbuf] > releases.release("6.16").tcp_rmem_default


@pytest.mark.parametrize("grow", list(Grow))
@pytest.mark.parametrize("window", ["adv_win_scale", "scaling_ratio"])
def test_the_engine_grows_sk_rcvbuf_by_the_kernel_formula(grow, window):
    """The engine's tcp_rcvbuf_grow() and rxlab.kernel.tcp's agree, and each is the formula written
    out here: (2 x copied + 16 x advmss) grown by twice its share of (copied - space) / space;
    2 x copied; 2 x copied plus rtt / tcp_rcvbuf_low_rtt of it below the threshold, else the
    slow-start growth. Memory: x 256 / scaling_ratio, or / advmss x rcvmem before 6.6."""
    mss, rcvmem, ratio, cap = 1448, rcvmem_per_mss(1500), 90, 1 << 30
    for copied, space, rtt, low in ((100_000, 14_480, 50, 1000), (30_000, 20_000, 2000, 1000), (5000, 4999, 50, 0)):
        if grow == Grow.cushion:
            win = 2 * copied + 16 * mss
            win += 2 * (win * (copied - space) // space)
        elif grow == Grow.copied_2x:
            win = 2 * copied
        else:
            win = 2 * copied + (2 * copied * rtt // low if rtt < low else 4 * copied * (copied - space) // space)
        want = win * 256 // ratio if window == "scaling_ratio" else win // mss * rcvmem
        mine = tcp_rcvbuf_grow(copied, space, grow.name, window, ratio, mss, rcvmem, rtt, low, cap)
        eng = engine_grow(copied, space, ratio, int(grow), int(WinMode[window]), mss, rcvmem, rtt, low, cap)
        assert mine == eng == want, (copied, space)
        assert tcp_rcvbuf_grow(copied, space, grow.name, window, ratio, mss, rcvmem, rtt, low, 4096) == 4096


# -- SO_RCVBUF ---------------------------------------------------------------------------------------

def test_so_rcvbuf_fixes_sk_rcvbuf_as_sock_setsockopt_does():
    """net/core/sock.c __sock_set_rcvbuf(sk, min(val, rmem_max)): sk_rcvbuf = max(2 x val,
    SOCK_MIN_RCVBUF) and SOCK_RCVBUF_LOCK, so tcp_rcv_space_adjust() and tcp_clamp_window() leave
    it alone, however fast the reader."""
    assert so_rcvbuf(65536) == 131072
    assert so_rcvbuf(1 << 20) == 2 * 212992  # SK_RMEM_MAX, net.core.rmem_max's default
    assert so_rcvbuf(1 << 20, rmem_max=1 << 22) == 1 << 21
    assert so_rcvbuf(100) == 4608  # SOCK_MIN_RCVBUF = 2 * (2048 + 256)
    r = run(reader="periodic", app_read_us=50.0, so_rcvbuf=65536)
    assert (r.conn[:, CN.rcvbuf] == 131072).all()
    assert r.counters[Ctr.PruneCalled] == 0
    with pytest.raises(ValueError, match="so_rcvbuf"):
        SimConfig(so_rcvbuf=-1)
    with pytest.raises(ValueError, match="rmem_max"):
        SimConfig(rmem_max=1 << 31)


# -- tcp_prune_queue(), tcp_collapse() ------------------------------------------------------------------

def test_no_pressure_no_prune():
    """A reader that keeps up under autotuning: nothing is pruned, collapsed or dropped."""
    assert pressure(run(reader="periodic", app_read_us=50.0)) == dict.fromkeys(PRESSURE, 0)
    assert pressure(run(reader="periodic", app_read_us=50.0, kernel="6.1", ring_size=512)) == dict.fromkeys(PRESSURE, 0)


def test_before_6_6_full_pages_overrun_sk_rcvbuf_and_tcp_collapse_packs_them():
    """Before 6.6 the window is half the free space whatever the skbs' len/truesize (a third for full
    4 KB pages), so sk_rmem_alloc passes sk_rcvbuf: tcp_prune_queue() (PruneCalled). Locked by SO_RCVBUF,
    tcp_clamp_window() cannot raise sk_rcvbuf, so tcp_collapse() copies the bloated skbs
    (tcp_win_from_space(truesize) > len) into kmalloc'ed ones of SKB_MAX_ORDER(0, 0) bytes
    (TCPRcvCollapsed, bytes_copied) and the packet fits. Unlocked, pruning is called too, and nothing is
    dropped. (GRO is off: with it a flight arrives as one aggregate into the queue the last read
    emptied, and the receiver withholds the ACK of a window that would shrink, quick-ack mode ended
    by __tcp_select_window() below half the space, so nothing more arrives before the next read.)"""
    kw = {"kernel": "6.1", "ring_size": 512, "strategy": "full_page", "reader": "periodic", "app_read_us": 300.0,
          "gro": False}
    locked, free = run(so_rcvbuf=16384, **kw), run(tcp_rmem=65536, **kw)
    p = pressure(locked)
    assert p["PruneCalled"] > 0 and p["TCPRcvCollapsed"] > 0 and p["RcvPruned"] == p["TCPRcvQDrop"] == 0
    assert locked.counters[Ctr.bytes_copied] > 0 and (locked.conn[:, CN.rcvbuf] == 32768).all()
    q = pressure(free)
    assert q["PruneCalled"] > 0 and q["RcvPruned"] == 0
    # a collapsed skb: SKB_MAX_ORDER(0, 0) bytes in a kmalloc'ed PAGE_SIZE head and its sk_buff
    assert collapse_skb_max(4096) == 3776 and alloc_skb_truesize(3776) == 4096 + 256
    assert engine_alloc_skb_truesize(3776, 4096, 320, 256) == 4352
    assert alloc_skb_truesize(100) == engine_alloc_skb_truesize(100, 4096, 320, 256) == 512 + 256


def test_from_6_17_a_full_64k_page_does_not_fit_and_drops():
    """1d2fbaad7cd8 (6.17) admits an skb only if sk_rmem_alloc + truesize <= sk_rcvbuf; a second
    65792-byte skb never fits tcp_rmem[1]: tcp_clamp_window() sets sk_rcvbuf to sk_rmem_alloc,
    tcp_collapse() finds nothing bloated at the measured scaling_ratio, RcvPruned, and the packet is
    dropped (TCPRcvQDrop) since the queue is not empty. 6.16 admits by sk_rmem_alloc > sk_rcvbuf.
    Without GRO each segment is such an skb: with GRO the initial window arrives as one aggregate, forced
    into the empty queue, whose zero-window ACK (e2142825c120) stops the sender until the read. A
    retransmission cut to the window (__tcp_retransmit_skb) leaves the rest of its segment to arrive
    out of order: tcp_data_queue_ofo()'s failures to prune are RcvPruned too, dropped as TCPOFODrop;
    and such a fragment, shorter than the window its page's truesize gives (1285 B at ratio 5), is
    bloated: tcp_collapse() copies it, while no full segment is."""
    kw = {"strategy": "full_page", "page_size": 65536, "arch": "arm64", "wake_us": 48.0, "packets": 600,
          "gro": False}
    new, old = run(kernel="6.17", **kw), run(kernel="6.16", **kw)
    p = pressure(new)
    # TCPRcvQDrop counts skbs (GRO aggregates), rmem_drops their segments
    assert p["TCPRcvQDrop"] > 0 and p["TCPRcvQDrop"] <= new.conn[:, CN.rmem_drops].sum()
    assert p["RcvPruned"] == p["TCPRcvQDrop"] + new.counters[Ctr.TCPOFODrop]
    assert p["TCPRcvCollapsed"] <= new.conn[:, CN.retrans].sum()  # cut retransmissions only
    assert pressure(old)["TCPRcvQDrop"] == 0


def test_from_6_17_an_empty_queue_drops_at_once_and_tcp_data_queue_takes_the_skb():
    """972ca7a3bc9a (6.17): tcp_prune_queue() returns -1 while sk_rmem_alloc is 0, before PruneCalled
    and tcp_clamp_window(), which under 1d2fbaad7cd8's rule would set sk_rcvbuf to 0; tcp_data_queue()
    then takes the skb into the empty queue (sk_forced_mem_schedule). With tcp_rmem[1] at 4096 B the
    first segment leaves a window below a segment, which the zero-window probe's data moves
    (tcp_write_wakeup), and every skb (65792 B of truesize) is refused by the admission rule into an
    empty queue: each gets in, none is counted as a prune, and tcp_clamp_window() never lowers
    sk_rcvbuf below 4096 (it would clamp it to 0 at the first, and PruneCalled count every packet,
    without it); only autotuning moves it, up, once data flows."""
    kw = {"strategy": "full_page", "page_size": 65536, "tcp_rmem_default": 4096, "connections": 1, "packets": 600}
    r = run(kernel="6.17", **kw)
    assert r.geometry.truesize > 4096 and r.conn[0, CN.packets] > 0
    assert pressure(r) == dict.fromkeys(PRESSURE, 0) and r.conn[0, CN.rcvbuf] >= 4096
    assert releases.release("6.17").source("prune_empty").commit == "972ca7a3bc9a"


# -- GRO aggregates and scaling_ratio ---------------------------------------------------------------

BIG = {"so_rcvbuf": 8388608, "rmem_max": 8388608}  # the window never limits: the link stays busy


def aggregate_truesize(n, truesize, sk_buff, max_frags=17):
    """skb_gro_receive() (net/core/gro.c), segment by segment: a head_frag segment's head becomes a
    frag of the aggregate's last skb if it has room (truesize less SKB_DATA_ALIGN(sizeof(struct
    sk_buff)): the sk_buff is freed), else the skb is chained on frag_list whole."""
    total, frags = truesize, 0
    for _ in range(n - 1):
        if frags + 1 <= max_frags:
            total, frags = total + truesize - sk_buff, frags + 1
        else:
            total, frags = total + truesize, 0
    return total


def test_scaling_ratio_of_single_segments_and_of_gro_aggregates():
    """tcp_measure_rcv_mss(): the first skb whose segment size (gso_size, else len) differs from rcv_mss
    sets scaling_ratio = (len << 8) / truesize. Without GRO that is one 1448-byte segment charged the
    driver's truesize; with GRO (napi_gro_receive -> skb_gro_receive) often an aggregate of n
    segments, whose stolen heads drop an sk_buff each: a higher ratio, so a wider window."""
    # 64 connections x the initial window of 10 is 640 packets: every connection has measured its first
    # skb (and the scaling_ratio stays that) well within 1,000
    kw = {"connections": 64, "packets": 1000, "ack_fraction": 0.0}
    single, gro = simulate(SimConfig(gro=False, **kw)), simulate(SimConfig(gro=True, **kw))
    ts, seg = single.geometry.truesize, single.config.mtu - 52
    sk_buff = 256  # SKB_DATA_ALIGN(232), arm64
    assert set(single.conn[:, CN.scaling]) == {(seg << 8) // ts} == {175}
    assert single.counters[Ctr.gro_merge] == single.counters[Ctr.gro_complete] == 0
    ratios = {(n * seg << 8) // aggregate_truesize(n, ts, sk_buff): n for n in range(1, 46)}
    assert set(gro.conn[:, CN.scaling]) <= set(ratios)
    assert max(gro.conn[:, CN.scaling]) > 175
    # every segment but an aggregate's first merged, its head a frag or the whole skb on frag_list
    merged = gro.counters[Ctr.gro_merge] + gro.counters[Ctr.gro_merge_frag_list]
    assert merged == kw["packets"] - gro.counters[Ctr.gro_complete] > 0


def test_gro_aggregates_stop_below_gro_max_size_and_chain_past_max_skb_frags():
    """One flow on one queue with a large SO_RCVBUF and a 0.1 µs RTT: its TSO skbs leave back to back,
    one poll takes them, and an aggregate takes segments while its len stays below gro_max_size
    (skb_gro_receive returns -E2BIG and the flow's aggregate completes): 45 of 1448 bytes (52 + 45 x
    1448 = 65212; a 46th would pass 65536). The last skb's frags fill at MAX_SKB_FRAGS = 17, so
    segments 19 and 37 of each go on frag_list. Every segment but an aggregate's first merges; the
    first aggregates are shorter (the initial window of 10, then slow start)."""
    r = simulate(SimConfig(queues=1, connections=1, packets=900, ack_fraction=0.0, napi_budget=1024,
                           ring_size=2048, rtt_us=0.1, **BIG))
    c = r.counters
    assert c[Ctr.gro_merge] + c[Ctr.gro_merge_frag_list] + c[Ctr.gro_complete] == 900
    full = 900 // 45 - 1  # aggregates of 45, all but the first few
    assert full <= c[Ctr.gro_complete] <= 900 // 45 + 3 and c[Ctr.gro_merge_frag_list] >= 2 * full


def test_tso_skbs_keep_aggregates_whole_however_many_flows_share_a_bucket():
    """With 8 queues MANA's indirection (entry i -> queue i mod 8) sends a flow to queue hash & 7, the
    very bits that pick its gro_hash bucket: a queue's flows share one bucket of MAX_GRO_SKBS = 8.
    Linux senders put a TSO skb on the wire back to back (tcp_tso_autosize), so a poll takes one
    flow's skb at a time and GRO aggregates it whole, at 16 flows a queue as at 4: aggregates hold
    a TSO skb's segments, not one (5 at the initial window: tcp_cwnd_test() gives half of it)."""
    kw = {"queues": 8, "packets": 4000, "ack_fraction": 0.0, **BIG}
    for r in (simulate(SimConfig(connections=32, **kw)), simulate(SimConfig(connections=128, **kw))):
        c = r.counters
        assert c[Ctr.gro_complete] < 4000 / (TCP_INIT_CWND // 2)
        assert c[Ctr.gro_merge] + c[Ctr.gro_merge_frag_list] + c[Ctr.gro_complete] == 4000


def test_an_ack_completes_its_flows_aggregate():
    """tcp_gro_receive(): a pure ACK of a held flow (its ack_seq differs; it is shorter than the mss)
    flushes the aggregate, which goes up before it."""
    kw = {"queues": 1, "connections": 4, "packets": 8000}
    quiet, acks = simulate(SimConfig(ack_fraction=0.0, **kw)), simulate(SimConfig(ack_fraction=0.3, **kw))
    assert acks.counters[Ctr.gro_complete] > quiet.counters[Ctr.gro_complete]
