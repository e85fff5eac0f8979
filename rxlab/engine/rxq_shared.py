"""What every driver's receive queue shares: the skb->truesize a queue reports, the XDP program's
verdict, and XDP_TX / XDP_REDIRECT frames held until their completion gives the page back
(xdp_return_frame)."""

import numpy as np

from rxlab.engine.jit import inner, ix
from rxlab.engine.layout import FALSE, QP, QS, RC, RF
from rxlab.engine.skb import buf_put

XDP_PASS, XDP_DROP, XDP_TX, XDP_REDIRECT = 0, 1, 2, 3  # enum xdp_action's order


@inner
def rx_ring_pop(rx, q):
    """The RX ring's consumer moves on: (its slot, the buffer posted there) for the next completion
    on queue ``q``; the driver reposts into that slot."""
    p = rx.qp[ix(q)]
    head = p[QP.ring_head]
    p[QP.ring_head] = head + 1 if head + 1 < rx.ring.shape[1] else 0
    return head, rx.ring[ix(q), ix(head)]


@inner
def xdp_verdict(rx, q):
    """bpf_prog_run_xdp() on queue ``q``: the program's verdict for a frame, drawn from the run's mix of
    verdicts (rxlab's stand-in for a program) and counted in the queue's stats."""
    rf, qstats = rx.rf, rx.qstats
    r = np.random.random()
    if r < rf[RF.xdp_pass]:
        qstats[ix(q), QS.xdp_pass] += 1
        return XDP_PASS
    if r < rf[RF.xdp_pass] + rf[RF.xdp_drop]:
        qstats[ix(q), QS.xdp_drop] += 1
        return XDP_DROP
    if r < rf[RF.xdp_pass] + rf[RF.xdp_drop] + rf[RF.xdp_tx]:
        qstats[ix(q), QS.xdp_tx] += 1
        return XDP_TX
    qstats[ix(q), QS.xdp_redirect] += 1
    return XDP_REDIRECT


@inner
def release_holds(st, rx, q, t):
    """XDP_TX / XDP_REDIRECT completions due by ``t``: the frame's page goes back to its pool
    from the queue's NAPI CPU (xdp_return_frame)."""
    qp, hold_buf, hold_t = rx.qp, rx.hold_buf, rx.hold_t
    p = qp[ix(q)]
    cap = hold_buf.shape[1]
    while p[QP.hold_count] > 0 and hold_t[ix(q), ix(p[QP.hold_head])] <= t:
        buf_put(st, hold_buf[ix(q), ix(p[QP.hold_head])], p[QP.napi_cpu], FALSE)
        p[QP.hold_head] = p[QP.hold_head] + 1 if p[QP.hold_head] + 1 < cap else 0
        p[QP.hold_count] -= 1


@inner
def xdp_hold(st, rx, q, b, until):
    qp, hold_buf, hold_t = rx.qp, rx.hold_buf, rx.hold_t
    p = qp[ix(q)]
    cap = hold_buf.shape[1]
    if p[QP.hold_count] == cap:  # the oldest completes early rather than lose a buffer
        release_holds(st, rx, q, hold_t[ix(q), ix(p[QP.hold_head])])
    i = p[QP.hold_head] + p[QP.hold_count]
    if i >= cap:
        i -= cap
    hold_buf[ix(q), ix(i)] = b
    hold_t[ix(q), ix(i)] = until
    p[QP.hold_count] += 1


@inner
def rx_truesize(rx, q):
    """The skb->truesize queue ``q``'s driver reports for a packet (or, honest, what it pins)."""
    p = rx.qp[ix(q)]
    return p[QP.truesize_pinned] if rx.rc[RC.honest] else p[QP.truesize]
