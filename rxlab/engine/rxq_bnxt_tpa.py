"""bnxt_en's TPA: the device's hardware GRO (NETIF_F_GRO_HW) in normal mode (drivers/net/ethernet/
broadcom/bnxt/bnxt.c at v6.19: bnxt_tpa_start, bnxt_tpa_end, bnxt_gro_skb; bnxt_hwrm_vnic_set_tpa
programs the device).

The device keeps an aggregation context per flow, at most ``bp->max_tpa`` per ring (Rx.tpa_info, each
with its head buffer in Rx.tpa). A data segment of at least min_agg_len (512) payload bytes whose flow
has none starts one: its TPA_START completion makes the driver swap the RX ring's buffer holding the
frame's head into the context and repost the next descriptor's buffer (bnxt_tpa_start), none of the
poll's budget. The flow's next segments join while they follow in sequence, are not larger than the
first and keep the aggregate within the 64 KB of an IPv4 length (the VNIC follows "Linux Generic Receive
Offload (GRO) rules", VNIC_TPA_CFG_REQ_FLAGS_GRO), their payload packed into aggregation buffers (the
driver leaves AGG_PACK_AS_GRO unset: "the more efficient LRO rules of filling all aggregation
buffers"). The aggregation ends (TPA_END) at a segment of the flow that does not join (which then goes
on as any other), after a shorter one, or at its timer (``tpa_timer_us``: the firmware's max_agg_timer,
which the driver leaves unset, rxlab.kernel.bnxt.TPA_TIMER_US); max_agg_segs (63 units of 4 on P5+
chips) is never the limit, as segments of min_agg_len or more reach 64 KB first. rxlab's device also
ends them all when the queue's polls complete (traffic stopped, a reconfiguration).
The TPA_END completion counts one of the budget; bnxt_tpa_end() builds the skb on the context's head
(copied when at most rx_copybreak) and aggregation buffers (rxlab.engine.rxq_bnxt.bnxt_rx_skb), and
bnxt_gro_skb() makes one of several segments a GSO skb that software GRO takes as it is
(rxlab.engine.gro.napi_gro_receive_hw). The poll takes a TPA_END through rxlab.engine.napi.rx_packet,
whose one path up the stack it shares (a path of its own would be another copy of TCP's receive path
for LLVM to optimise in every kernel that links it).

The HWRM spec's comments (DPDK drivers/net/bnxt/hsi_struct_def_dpdk.h at 38f72e500b3b) name what the
device checks, not what ends an aggregation: where a segment that does not join goes (it ends the
flow's aggregation here, as GRO completes the held one) and the timer are rxlab's reading of "GRO
rules", said so in docs/model.md."""

from rxlab.engine.jit import called, inner, ix
from rxlab.engine.layout import CN, GR, NONE, QP, QS, RC, RF, TI, Timer
from rxlab.engine.rxq import napi_poll_take
from rxlab.engine.rxq_bnxt import bnxt_head_len, bnxt_rx_skb
from rxlab.engine.rxq_shared import rx_ring_pop
from rxlab.engine.timers import timer_arm, timer_cancel
from rxlab.kernel.bnxt import TPA_MIN_AGG_LEN
from rxlab.kernel.gro import GRO_LEGACY_MAX_SIZE
from rxlab.kernel.sizes import ETH_HLEN
from rxlab.kernel.tcp import TCP_IP_HEADERS


@inner
def _tpa_retime(rx, q):
    """Queue ``q``'s TPA timer: due when its oldest open aggregation's runs out, or disarmed."""
    slot = rx.rc[RC.conns] * Timer.n + rx.rc[RC.queues] + q
    a = rx.qp[ix(q), QP.tpa_oldest]
    if a == NONE:
        timer_cancel(rx, slot)
    else:
        timer_arm(rx, slot, rx.tpa_t[ix(q), ix(a)] + rx.rf[RF.tpa_timer_us])


@inner
def tpa_oldest_conn(rx, q):
    """The connection of the aggregation queue ``q``'s device opened first (the next its timer ends)."""
    return rx.tpa_info[ix(q), ix(rx.qp[ix(q), QP.tpa_oldest]), TI.conn]


@inner
def bnxt_tpa_start(st, rx, q, c, length, payload, seq, t):
    """A ``length``-byte data segment of connection ``c`` starts an aggregation on queue ``q`` at ``t``
    (the caller checked a context is free): TPA_START, taken by the poll (bnxt_tpa_start)."""
    p = rx.qp[ix(q)]
    a = p[QP.tpa_free]
    x = rx.tpa_info[ix(q), ix(a)]
    p[QP.tpa_free] = x[TI.newer]
    rx.qstats[ix(q), QS.rx_packets] += 1
    rx.qstats[ix(q), QS.rx_bytes] += length
    napi_poll_take(rx, q, 0)
    head, b = rx_ring_pop(rx, q)
    rx.ring[ix(q), ix(head)] = rx.tpa[ix(q), ix(a)]  # prod_rx_buf->data = tpa_info->data
    rx.tpa[ix(q), ix(a)] = b  # tpa_info->data = cons_rx_buf->data
    rx_ring_pop(rx, q)  # the next descriptor's buffer reposted (bnxt_reuse_rx_data)
    frame = length + ETH_HLEN
    head_len = bnxt_head_len(p, frame)
    x[TI.conn], x[TI.seq], x[TI.segs], x[TI.payload], x[TI.mss] = c, seq, 1, payload, payload
    x[TI.head_len], x[TI.agg_bytes] = head_len, frame - head_len
    x[TI.older], x[TI.newer] = p[QP.tpa_newest], NONE
    if p[QP.tpa_newest] == NONE:
        p[QP.tpa_oldest] = a
    else:
        rx.tpa_info[ix(q), ix(p[QP.tpa_newest]), TI.newer] = a
    p[QP.tpa_newest] = a
    p[QP.tpa_bytes] += length
    rx.tpa_t[ix(q), ix(a)] = t
    rx.gro[ix(c), GR.tpa] = a
    if p[QP.tpa_oldest] == a:
        _tpa_retime(rx, q)


@inner
def _tpa_close(rx, q, a):
    """The device ends aggregation ``a`` of queue ``q``: off the open list, onto the free one."""
    p = rx.qp[ix(q)]
    x = rx.tpa_info[ix(q), ix(a)]
    older, newer = x[TI.older], x[TI.newer]
    if older == NONE:
        p[QP.tpa_oldest] = newer
    else:
        rx.tpa_info[ix(q), ix(older), TI.newer] = newer
    if newer == NONE:
        p[QP.tpa_newest] = older
    else:
        rx.tpa_info[ix(q), ix(newer), TI.older] = older
    p[QP.tpa_bytes] -= x[TI.head_len] - ETH_HLEN + x[TI.agg_bytes]
    rx.gro[ix(x[TI.conn]), GR.tpa] = NONE
    x[TI.conn] = NONE
    x[TI.newer] = p[QP.tpa_free]
    p[QP.tpa_free] = a
    if older == NONE:
        _tpa_retime(rx, q)


TPA_L2, TPA_TOOK, TPA_TOOK_END, TPA_END_FIRST = 0, 1, 2, 3  # what bnxt_tpa_rx() did with a frame


@inner
def bnxt_tpa_end(st, rx, q, a):
    """Aggregation ``a`` of queue ``q`` ends and the poll takes its TPA_END, one of its budget
    (bnxt_rx_pkt -> bnxt_tpa_end): the skb on the context's head and the aggregation buffers its payload
    fills (dropped, it counts as rx_alloc_fail or skb_table_full as an L2 frame's). Returns (the skb or
    NONE, segments, payload, gso_size, sequence number) for GRO (rxlab.engine.napi.rx_packet)."""
    x = rx.tpa_info[ix(q), ix(a)]
    segs, payload, mss, seq = x[TI.segs], x[TI.payload], x[TI.mss], x[TI.seq]
    head_len, agg_bytes = x[TI.head_len], x[TI.agg_bytes]
    _tpa_close(rx, q, a)
    napi_poll_take(rx, q, 1)
    rx.qstats[ix(q), QS.tpa_events] += 1
    rx.qstats[ix(q), QS.tpa_packets] += segs
    return bnxt_rx_skb(st, rx, q, rx.tpa, a, head_len, agg_bytes), segs, payload, mss, seq


@called
def bnxt_tpa_rx(st, rx, q, c, length, is_ack, t):
    """A ``length``-byte frame of connection ``c`` (a pure ACK or probe when ``is_ack``) reaches queue
    ``q``'s device at ``t`` with TPA on. Returns TPA_TOOK when it joined the flow's aggregation or
    started one, TPA_TOOK_END when it joined and ended it (a shorter segment), TPA_END_FIRST when the
    flow's aggregation ends before it (the caller has the poll take that TPA_END and asks again), and
    TPA_L2 when it goes on as an L2 completion (rxlab.engine.rxq_bnxt.bnxt_rx_pkt)."""
    p = rx.qp[ix(q)]
    a = rx.gro[ix(c), GR.tpa]
    payload = length - TCP_IP_HEADERS
    seq = rx.conn[ix(c), CN.seg_seq]
    if a != NONE:
        x = rx.tpa_info[ix(q), ix(a)]
        if not (not is_ack and seq == x[TI.seq] + x[TI.payload] and payload <= x[TI.mss]
                and TCP_IP_HEADERS + x[TI.payload] + payload < GRO_LEGACY_MAX_SIZE):
            return TPA_END_FIRST
        rx.qstats[ix(q), QS.rx_packets] += 1
        rx.qstats[ix(q), QS.rx_bytes] += length
        x[TI.segs] += 1
        x[TI.payload] += payload
        x[TI.agg_bytes] += payload
        p[QP.tpa_bytes] += payload
        return TPA_TOOK_END if payload < x[TI.mss] else TPA_TOOK
    if is_ack or payload < TPA_MIN_AGG_LEN or p[QP.tpa_free] == NONE:
        return TPA_L2
    bnxt_tpa_start(st, rx, q, c, length, payload, seq, t)
    return TPA_TOOK
