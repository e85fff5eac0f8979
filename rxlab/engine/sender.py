"""The senders: one per connection, sharing the link round robin, each paced by the window the
receiver advertises, a loss resent at the sender's timers (rxlab's stand-in for TCP's sender: no
congestion window, no bursts; docs/model.md)."""

import numpy as np

from rxlab.engine.jit import inner, ix
from rxlab.engine.layout import CF, CN, GR, NONE, RC


@inner
def sender_pick(rx, cursor, t):
    """The sender's round robin: the first connection from ``cursor`` on whose time has come, or
    NONE; and the soonest time one may send."""
    connf = rx.connf
    C = rx.rc[RC.conns]
    pick = NONE
    soonest = np.inf
    c = cursor if cursor < C else 0
    for _ in range(C):
        if connf[ix(c), CF.next_send] <= t:
            pick = c
            break
        soonest = min(soonest, connf[ix(c), CF.next_send])
        c = c + 1 if c + 1 < C else 0
    return pick, soonest


@inner
def sender_soonest(rx):
    """The soonest time any connection may send."""
    soonest = np.inf
    for c in range(rx.rc[RC.conns]):
        soonest = min(soonest, rx.connf[ix(c), CF.next_send])
    return soonest


@inner
def sender_resend(rx, c):
    """Connection ``c`` sends: if it had a resend scheduled (tcp_schedule_recovery), this is it, a tail
    loss probe (TCPLossProbes) or an RTO's retransmission (TCPTimeouts), one segment (RetransSegs)."""
    k = rx.conn[c]
    if k[CN.recovery] != 0:
        if k[CN.recovery] == 1:
            k[CN.loss_probes] += 1
        else:
            k[CN.timeouts] += 1
        k[CN.retrans] += 1
        k[CN.recovery] = 0


@inner
def sender_pace(rx, c, dropped, t, next_read, mtu, rtt):
    """Connection ``c`` sent a segment at ``t``: it may send the next when the window allows. What GRO
    holds is in flight to the sender (it has sent it; no ACK has come back). A segment dropped for
    receive memory is resent at the sender's timers (tcp_queue set that); with less than a segment of window
    the sender stalls until the next read; otherwise it spreads its window over an RTT."""
    k = rx.conn[ix(c)]
    avail = k[CN.rcv_edge] - k[CN.rcv_nxt] - rx.gro[ix(c), GR.payload]
    if dropped:
        pass
    elif avail < rx.rc[RC.advmss]:
        k[CN.stalls] += 1
        rx.connf[ix(c), CF.next_send] = next_read
    else:
        rx.connf[ix(c), CF.next_send] = max(rx.connf[ix(c), CF.next_send], t) + mtu * rtt / avail
