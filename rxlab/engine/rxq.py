"""The driver's receive queue, behind one seam: each driver's queue (``Mode`` in rxlab.engine.layout,
chosen per queue by the driver's geometry) has its module — rxq_mana (Mode.frag, full, pfc), rxq_bnxt
(Mode.agg, page), rxq_mlx5 (Mode.cyc), rxq_mlx5_mpwqe (Mode.mpw) — and this module sends each queue's
ring fill, completion, poll end and teardown to its driver. ``rx_cqe`` hands NAPI (rxlab.engine.napi) the skb a driver built, or the
buffer of a packet to build one on (``rx_skb``)."""

import numpy as np

from rxlab.engine.jit import inner, ix, kernel
from rxlab.engine.layout import NONE, QP, QS, RC, Mode
from rxlab.engine.page_pool import pool_destroy
from rxlab.engine.rxq_bnxt import bnxt_alloc_one_rx_ring, bnxt_free_rx_skbs, bnxt_rx_page_pkt, bnxt_rx_pkt
from rxlab.engine.rxq_mana import mana_alloc_rx_wqes, mana_destroy_rxq, mana_process_rx_cqe
from rxlab.engine.rxq_mlx5 import mlx5e_free_rx_descs, mlx5e_handle_rx_cqe, mlx5e_post_rx_wqes
from rxlab.engine.rxq_mlx5_mpwqe import (
    mlx5e_free_rx_descs_mpwqe,
    mlx5e_handle_rx_cqe_mpwrq,
    mlx5e_post_rx_mpwqes,
)
from rxlab.engine.rxq_shared import release_holds


@kernel
def fill_rings(st, rx):
    """Every queue's ring filled for the first time, queue by queue, by its driver. One call: 16 K
    calls from Python each unboxed the State and Rx (~5 us a call), a tenth of a 20 M-packet run."""
    for q in range(rx.ring.shape[0]):
        mode = rx.qp[q, QP.mode]
        if mode == Mode.agg or mode == Mode.page:
            bnxt_alloc_one_rx_ring(st, rx, q)
        elif mode == Mode.cyc:  # mlx5e_activate_rq(): the first poll posts the whole ring
            mlx5e_post_rx_wqes(st, rx, q)
        elif mode == Mode.mpw:
            mlx5e_post_rx_mpwqes(st, rx, q)
        else:
            mana_alloc_rx_wqes(st, rx, q)


@inner
def napi_poll_take(rx, q, n):
    """Queue ``q``'s NAPI poll takes a completion that counts ``n`` of its budget (bnxt's TPA_START
    and TPA_AGG count none: __bnxt_poll_work); with no poll running, a new one starts and may take
    up to napi_budget packets."""
    p = rx.qp[ix(q)]
    if p[QP.napi_left] == 0:
        rx.qstats[ix(q), QS.napi_polls] += 1
        # net_rx_action() -> skb_defer_free_flush(): the count restarts (rxlab frees a deferred
        # skb on this CPU when app_read defers it, not here: see the README's simplifications)
        p[QP.defer_count] = 0
        p[QP.napi_left] = rx.rc[RC.napi_budget]
    p[QP.napi_left] -= n


@inner
def rx_cqe(st, rx, q, length, t):
    """One completion on queue ``q``: the NAPI poll's budget and the queue's counters, due XDP
    completions, then the driver's completion handler. Returns (skb, buffer) as
    rxlab.engine.rxq_mana.mana_process_rx_cqe does; the drivers that build their skbs themselves
    return (skb or NONE, NONE)."""
    qstats = rx.qstats
    p = rx.qp[ix(q)]
    qstats[ix(q), QS.rx_packets] += 1
    qstats[ix(q), QS.rx_bytes] += length
    napi_poll_take(rx, q, 1)
    release_holds(st, rx, q, t)
    if p[QP.mode] == Mode.agg:
        return bnxt_rx_pkt(st, rx, q, length), NONE
    if p[QP.mode] == Mode.page:
        return bnxt_rx_page_pkt(st, rx, q, length, t), NONE
    if p[QP.mode] == Mode.cyc:
        s = mlx5e_handle_rx_cqe(st, rx, q, length, t)
        if p[QP.napi_left] == 0:  # the poll's last completion: mlx5e_napi_poll() posts WQEs after its CQEs
            mlx5e_post_rx_wqes(st, rx, q)
        return s, NONE
    if p[QP.mode] == Mode.mpw:
        s = mlx5e_handle_rx_cqe_mpwrq(st, rx, q, length, t)
        if p[QP.napi_left] == 0:
            mlx5e_post_rx_mpwqes(st, rx, q)
        return s, NONE
    return mana_process_rx_cqe(st, rx, q, length, t)


@kernel
def detach_queues(st, rx):
    """Every queue torn down by its driver (MANA: mana_destroy_rxq; bnxt_en: bnxt_free_rx_skbs; mlx5:
    mlx5e_free_rx_descs, either RQ's, then page_pool_destroy): XDP frames complete first; a pool whose pages
    are still in sockets retires when the last one comes back. The caller completed the last
    polls first (polls_complete: GRO holds nothing)."""
    qp, rc = rx.qp, rx.rc
    for q in range(rc[RC.queues]):
        release_holds(st, rx, q, np.inf)
        cpu = qp[q, QP.napi_cpu]
        if qp[q, QP.mode] == Mode.agg or qp[q, QP.mode] == Mode.page:
            bnxt_free_rx_skbs(st, rx, q, cpu)
        elif qp[q, QP.mode] == Mode.cyc:
            mlx5e_free_rx_descs(st, rx, q)
            pool_destroy(st, qp[q, QP.pool], cpu)
        elif qp[q, QP.mode] == Mode.mpw:
            mlx5e_free_rx_descs_mpwqe(st, rx, q)
            pool_destroy(st, qp[q, QP.pool], cpu)
        else:
            mana_destroy_rxq(st, rx, q, cpu)


@inner
def rxq_poll_end(st, rx, q):
    """What the driver does as queue ``q``'s poll ends, before napi_complete_done() flushes GRO:
    mlx5's posts WQEs (mlx5e_napi_poll -> mlx5e_post_rx_wqes, or _mpwqes); the others refill per packet."""
    if rx.qp[ix(q), QP.mode] == Mode.cyc:
        mlx5e_post_rx_wqes(st, rx, q)
    elif rx.qp[ix(q), QP.mode] == Mode.mpw:
        mlx5e_post_rx_mpwqes(st, rx, q)
