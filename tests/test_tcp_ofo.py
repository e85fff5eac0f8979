"""The receiver's out-of-order queue (rxlab.engine.tcp_ofo; net/ipv4/tcp_input.c tcp_data_queue_ofo,
tcp_ofo_queue, tcp_prune_ofo_queue, tcp_sack_new_ofo_skb): its memory charged to the socket, its
SACK blocks in the ACKs, pruning under pressure. Small runs: both passes."""

import functools
import itertools

import numba

from rxlab import SimConfig, simulate
from rxlab.counters import Ctr
from rxlab.engine.layout import AK, CN, EV, NONE, OF, OS, SK
from rxlab.engine.loop import seed_rng
from rxlab.engine.tcp_ofo import tcp_dsack_set, tcp_ofo_purge
from rxlab.engine.tcp_output import tcp_send_ack
from rxlab.kernel.tcp import TCP_NUM_SACKS, TCP_SACK_BLOCKS_SENT, advmss
from rxlab.model.simulate import build, plan, run_sliced

# XDP drops one frame in ten: what follows each drop waits out of order until the sender resends
HOLES = {"xdp": (0.9, 0.1, 0.0, 0.0), "queues": 1, "connections": 1, "strategy": "full_page",
         "reader": "periodic", "app_read_us": 1000.0, "packets": 600, "ring_size": 128, "max_skbs": 1024}
# a small buffer read every 500 µs: in-order data finds the out-of-order queue holding the memory
PRUNE = {"alloc_fail_rate": 0.05, "tcp_rmem": 32768, "reader": "periodic", "app_read_us": 500.0, "queues": 1,
         "strategy": "full_page", "seed": 2, "packets": 1200, "connections": 3, "ring_size": 128, "max_skbs": 1024}


@functools.cache
def run(**kw):
    return simulate(SimConfig(**kw))


def _walk(rx, s):
    out = []
    while s != NONE:
        out.append(s)
        s = rx.rcvq_next[s]
    return out


def test_an_out_of_order_skb_is_charged_to_the_socket_and_sacked():
    """Stopped every few packets: sk_rmem_alloc is the truesize of every skb on the receive queue and
    on the out-of-order queue (skb_set_owner_r in tcp_data_queue_ofo), the queue is in sequence
    order above rcv_nxt without overlaps (a hole before its first skb), the first SACK block covers
    the most recent skb and the blocks cover the queue (tcp_sack_new_ofo_skb), and the last ACK sent
    carries the first TCP_SACK_BLOCKS_SENT blocks (tcp_established_options)."""
    cfg = SimConfig(**HOLES)
    st, rx = build(cfg, plan(cfg))
    seed_rng(cfg.seed)
    t, seen = 0.0, 0
    for stop in range(10, cfg.packets + 1, 10):
        t = run_sliced(st, rx, t, stop)
        k, o = rx.conn[0], rx.ofo[0]
        rcvq, ofo = _walk(rx, k[CN.head]), _walk(rx, o[OF.head])
        assert len(ofo) == o[OF.count] and (not ofo or ofo[-1] == o[OF.tail])
        assert k[CN.rmem] == sum(int(st.skbs[s, SK.truesize]) for s in rcvq + ofo)
        if not ofo:
            assert o[OF.num_sacks] == 0
            continue
        seen += 1
        ranges = [(int(rx.ofo_seq[s, OS.seq]), int(rx.ofo_seq[s, OS.end])) for s in ofo]
        assert ranges[0][0] > k[CN.rcv_nxt]
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(ranges))
        blocks = [(int(o[OF.sack + 2 * i]), int(o[OF.sack + 2 * i + 1])) for i in range(o[OF.num_sacks])]
        assert 1 <= len(blocks) <= TCP_NUM_SACKS
        if len(ranges) <= TCP_NUM_SACKS:  # no block forgotten yet: each queued range is in one
            assert all(any(b[0] <= a and e <= b[1] for b in blocks) for a, e in ranges)
        ev = rx.evq
        if ev[EV.ack_count] > 0 and k[CN.acks_sent] > 0:
            last = rx.ack[(ev[EV.ack_head] + ev[EV.ack_count] - 1) % rx.ack.shape[0]]
            if last[AK.conn] == 0 and last[AK.seq] == k[CN.rcv_nxt]:
                sent = [(int(last[AK.sack + 2 * i]), int(last[AK.sack + 2 * i + 1]))
                        for i in range(min(len(blocks), TCP_SACK_BLOCKS_SENT))]
                assert sent == blocks[:TCP_SACK_BLOCKS_SENT]
    assert seen > 0 and st.c[Ctr.TCPOFOQueue] > 0
    tcp_ofo_purge(st, rx)
    assert rx.ofo[0, OF.count] == 0 and rx.conn[0, CN.rmem] == sum(
        int(st.skbs[s, SK.truesize]) for s in _walk(rx, rx.conn[0, CN.head]))


def test_goodput_counts_only_data_delivered_in_order():
    """Segments that waited out of order count as delivered only when tcp_ofo_queue() moves them to
    the receive queue: a connection's packets are its rcv_nxt in segments, whatever was queued
    out of order."""
    r = run(**HOLES)
    k = r.conn[0]
    assert r.counters[Ctr.TCPOFOQueue] > 0
    assert k[CN.packets] * advmss(1500) == k[CN.rcv_nxt] > 0


def test_pruning_drops_the_out_of_order_queue_from_its_end():
    """tcp_prune_queue(): when collapsing the receive queue leaves no room for in-order data,
    tcp_prune_ofo_queue() drops skbs from the out-of-order queue's end (OfoPruned, their segments in
    ofo_drops), and an out-of-order skb that finds no room is dropped (TCPOFODrop). The data is
    resent and arrives: every connection's rcv_nxt is whole segments and moves on."""
    r = run(**PRUNE)
    c = r.counters
    assert c[Ctr.OfoPruned] > 0 and c[Ctr.TCPOFODrop] > 0 and c[Ctr.PruneCalled] >= c[Ctr.OfoPruned]
    assert r.conn[:, CN.ofo_drops].sum() > c[Ctr.TCPOFODrop]  # dropped skbs, and pruned ones' segments
    mss = advmss(1500)
    assert all(k[CN.packets] * mss == k[CN.rcv_nxt] > 0 for k in r.conn)
    assert r.metrics()["drop_tcp_ofo"] == r.conn[:, CN.ofo_drops].sum()


@numba.njit(cache=True)
def _dsack_then_two_acks(rx, start, end):
    """A D-SACK of [start, end) pending, then two ACKs (the engine's kernels have no Python wrapper)."""
    tcp_dsack_set(rx.ofo[0], start, end)
    tcp_send_ack(rx, 0, 0.0)
    tcp_send_ack(rx, 0, 0.0)


def test_a_d_sack_block_takes_the_place_of_the_last_sack_block():
    """tcp_established_options(): beside the timestamps the option space holds TCP_SACK_BLOCKS_SENT
    blocks, and a pending D-SACK block (tcp_dsack_set: tp->rx_opt.dsack) is one of them (eff_sacks =
    num_sacks + dsack), written first and then cleared (tcp_options_write): the ACK carrying it has one
    SACK block fewer, the next ACK all of them and no D-SACK. On a receiver set by hand: four SACK
    blocks kept, a duplicate segment pending."""
    mss = advmss(1500)
    cfg = SimConfig(queues=1, connections=1)
    rx = build(cfg, plan(cfg))[1]
    o = rx.ofo[0]
    o[OF.num_sacks] = TCP_NUM_SACKS
    for i in range(TCP_NUM_SACKS):  # the most recent first
        o[OF.sack + 2 * i], o[OF.sack + 2 * i + 1] = (10 - 2 * i) * mss, (11 - 2 * i) * mss
    _dsack_then_two_acks(rx, mss, 2 * mss)
    head = rx.evq[EV.ack_head]
    first, second = rx.ack[head], rx.ack[head + 1]
    edges = [e for i in range(TCP_SACK_BLOCKS_SENT) for e in ((10 - 2 * i) * mss, (11 - 2 * i) * mss)]
    sent = AK.sack + 2 * TCP_SACK_BLOCKS_SENT
    assert (first[AK.dsack], first[AK.dsack + 1]) == (mss, 2 * mss) and o[OF.dsack + 1] == 0
    assert first[AK.sack:sent - 2].tolist() == edges[:-2] and first[sent - 1] == 0  # end 0: no third block
    assert second[AK.dsack + 1] == 0 and second[AK.sack:sent].tolist() == edges
