"""The connections' timers: the sender's retransmission timer (a tail loss probe, an RTO or a
zero-window probe), the receiver's delayed ACK and the reader's wake-up, as the kernel arms and
cancels them (inet_csk_reset_xmit_timer, sk_reset_timer). One slot each, connection x Timer.n +
kind, in a binary heap by (time, slot), so that timers due together fire in a fixed order and the
next one is found in O(log n) whatever the number of connections.

Arming a slot later than its place in the heap only records the new time (``tq_due``): the entry
keeps its earlier key and is moved when it comes to the top. An entry therefore never fires before
its due time, and timers fire in (due time, slot) order.

A timer re-armed later packet after packet (a queue's NAPI poll's end, rxlab.engine.napi) would be
moved down from the top of the heap on every packet: armed with timer_arm_pending, it stays out of
the heap (``EV.tq_pend``) until another is armed that way, and timer_next compares it with the
heap's top in the same (due time, slot) order."""

import numpy as np

from rxlab.engine.jit import inner, ix
from rxlab.engine.layout import EV, NONE


@inner
def _less(rx, a, b):
    ka = rx.tq_key[ix(a)]
    kb = rx.tq_key[ix(b)]
    return ka < kb or (ka == kb and a < b)


@inner
def _place(rx, i, slot):
    rx.tq_heap[ix(i)] = slot
    rx.tq_pos[ix(slot)] = i


@inner
def _sift_up(rx, i):
    slot = rx.tq_heap[ix(i)]
    while i > 0:
        up = (i - 1) >> 1
        if not _less(rx, slot, rx.tq_heap[ix(up)]):
            break
        _place(rx, i, rx.tq_heap[ix(up)])
        i = up
    _place(rx, i, slot)


@inner
def _sift_down(rx, i):
    n = rx.evq[EV.tq_n]
    slot = rx.tq_heap[ix(i)]
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and _less(rx, rx.tq_heap[ix(child + 1)], rx.tq_heap[ix(child)]):
            child += 1
        if not _less(rx, rx.tq_heap[ix(child)], slot):
            break
        _place(rx, i, rx.tq_heap[ix(child)])
        i = child
    _place(rx, i, slot)


@inner
def timer_arm(rx, slot, due):
    """Arm (or re-arm) timer ``slot`` to fire at ``due``."""
    rx.tq_due[ix(slot)] = due
    i = rx.tq_pos[ix(slot)]
    if i == NONE:
        i = rx.evq[EV.tq_n]
        rx.evq[EV.tq_n] = i + 1
        rx.tq_key[ix(slot)] = due
        _place(rx, i, slot)
        _sift_up(rx, i)
    elif due < rx.tq_key[ix(slot)]:
        rx.tq_key[ix(slot)] = due
        _sift_up(rx, i)


@inner
def timer_arm_pending(rx, slot, due):
    """Arm timer ``slot`` to fire at ``due``, as the pending timer: the one pending before it goes into
    the heap. A slot armed this way is armed only this way (it is in the heap only while not
    pending: timer_fired knows where to take it from)."""
    ev = rx.evq
    p = ev[EV.tq_pend]
    if p != slot:
        if p != NONE and rx.tq_due[ix(p)] < np.inf:
            timer_arm(rx, p, rx.tq_due[ix(p)])
        ev[EV.tq_pend] = NONE
        if rx.tq_pos[ix(slot)] != NONE:  # still in the heap, from before it was last pending
            timer_arm(rx, slot, due)
            return
        ev[EV.tq_pend] = slot
    rx.tq_due[ix(slot)] = due


@inner
def timer_cancel(rx, slot):
    """Disarm timer ``slot`` (its heap entry goes when it comes to the top)."""
    rx.tq_due[ix(slot)] = np.inf


@inner
def _pop(rx):
    slot = rx.tq_heap[0]
    n = rx.evq[EV.tq_n] - 1
    rx.evq[EV.tq_n] = n
    rx.tq_pos[ix(slot)] = NONE
    rx.tq_key[ix(slot)] = np.inf
    if n > 0:
        _place(rx, 0, rx.tq_heap[ix(n)])
        _sift_down(rx, 0)


@inner
def timer_next(rx):
    """The slot of the next timer to fire and its time, (NONE, inf) if none is armed: entries whose
    slot was re-armed later are moved to their time, cancelled ones dropped, on the way."""
    slot, due = NONE, np.inf
    while rx.evq[EV.tq_n] > 0:
        top = rx.tq_heap[0]
        d = rx.tq_due[ix(top)]
        if d == rx.tq_key[ix(top)]:
            slot, due = top, d
            break
        if d == np.inf:
            _pop(rx)
        else:
            rx.tq_key[ix(top)] = d
            _sift_down(rx, 0)
    p = rx.evq[EV.tq_pend]
    if p != NONE:
        d = rx.tq_due[ix(p)]
        if d < due or (d == due and p < slot):
            return p, d
    return slot, due


@inner
def timer_fired(rx, slot):
    """Timer ``slot``, the next (timer_next), fires: it is disarmed."""
    rx.tq_due[ix(slot)] = np.inf
    if slot == rx.evq[EV.tq_pend]:
        rx.evq[EV.tq_pend] = NONE
    else:
        _pop(rx)
