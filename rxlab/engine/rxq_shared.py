"""What every driver's receive queue shares: the skb->truesize a queue reports, and XDP_TX /
XDP_REDIRECT frames held until their completion gives the page back (xdp_return_frame)."""

from rxlab.engine.jit import inner, ix
from rxlab.engine.layout import FALSE, QP, RC
from rxlab.engine.skb import buf_put


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
