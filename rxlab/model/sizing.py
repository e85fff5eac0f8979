"""How large a run's tables are, and the check that they fit before anything is allocated.

Every table is sized by the smaller of two bounds: what the knobs allow at once (sockets'
receive memory, ``max_skbs``, XDP_TX/REDIRECT holds at line rate) and what the run can reach
at all (it never has more skbs or held buffers than the packets it sends). Both are upper
bounds of what a run holds, so the tables never need to grow, and a run's results do not
depend on which bound was taken. ``SimConfig`` calls :func:`check_sizes`, so a configuration
that would not fit is refused with the fields that ask for too much, never by NumPy.
"""

import math
import os
import re
from typing import NamedTuple

from rxlab.counters import N_COUNTERS
from rxlab.engine.layout import (
    AK,
    BF,
    CF,
    CN,
    DT,
    FC,
    GL,
    GR,
    MAX_SKB_FRAGS,
    MW,
    OF,
    OS,
    PF,
    PL,
    QP,
    QS,
    RC,
    RF,
    SB,
    SK,
    SM,
    TI,
    WF,
    G,
    Timer,
)
from rxlab.errors import bad, too_much
from rxlab.kernel.gro import GRO_HASH_BUCKETS
from rxlab.kernel.pagepool import (
    PAGE_FRAG_CACHE_MAX_SIZE,
    PP_ALLOC_CACHE_REFILL,
    PP_ALLOC_CACHE_SIZE,
    PP_RING_DEFAULT,
)
from rxlab.kernel.sizes import NET_SKB_PAD, WIRE_OVERHEAD, arch_info, skb_data_align, skb_shinfo_aligned
from rxlab.kernel.tcp import so_rcvbuf

RATIO_BINS = 64
MAX_CPUS = 4096  # rxlab.engine.state.make_state: per-CPU tables (NAPI CPUs and reader CPUs)
# rxlab.engine.state.make_state / make_rx refuse larger tables
ENGINE_LIMITS = {"n_pages": 1 << 26, "n_pools": 4096, "ring_max": 1 << 20, "n_cpus": MAX_CPUS,
                 "n_bufs": 1 << 26, "n_skbs": 1 << 26, "hold_cap": 1 << 26}
MEMORY_ENV = "RXLAB_MAX_MEMORY"


class Sizes(NamedTuple):
    """How large the run's tables are: enough for what the run can hold at once, whatever its length."""

    n_pages: int
    n_pools: int
    ring_max: int
    n_cpus: int
    n_bufs: int
    n_skbs: int
    hold_cap: int
    mem_limit: int
    lock_slots: int
    ack_cap: int  # ACKs on their way back at once (rx.ack)
    agg_max: int = 1  # bnxt: aggregation ring entries per queue (Rx.agg's columns)
    tpa_max: int = 1  # bnxt: TPA head buffers per queue (Rx.tpa's columns)
    wqe_frags_max: int = 1  # mlx5's legacy RQ: fragments per queue (Rx.wqe_frags' rows)
    frag_pages_max: int = 1  # mlx5's RQs: pages its ring lays its strides on (Rx.frag_pages' columns)
    mpwqe_max: int = 1  # mlx5's striding RQ: WQEs per queue (Rx.mpwqe's rows)


def copy_truesize_extra(arch):
    """truesize of a copied skb beyond its SKB_DATA_ALIGN'ed length: the NET_SKB_PAD it reserves,
    the sk_buff and the shared info (__napi_alloc_skb, SKB_TRUESIZE)."""
    a = arch_info(arch)
    return NET_SKB_PAD + skb_data_align(a.sizeof_sk_buff, a.smp_cache_bytes) + skb_shinfo_aligned()


def geometries(cfg):
    """The geometry ``cfg`` starts with, then each one its reconfigurations may switch to
    (one the driver refuses is refused when it comes, and needs no room)."""
    geoms = [cfg.geometry()]
    for r in cfg.reconfigs:
        try:
            geoms.append(cfg.geometry(mtu=r.mtu, xdp=r.xdp))
        except ValueError:
            pass
    return geoms


def _bounds(cfg, geoms):
    """(skbs, XDP holds per queue) in flight at most, and which fields set each bound."""
    Q, C = cfg.queues, cfg.connections
    charged = min(x.truesize_pinned if cfg.truesize_honest else x.truesize for x in geoms)
    smallest = skb_data_align(1) + copy_truesize_extra(cfg.arch)  # a copied one-byte packet
    # skbs that exist at once: what the sockets can hold before sk_rmem_alloc passes sk_rcvbuf, or
    # never more than the packets sent (an ACK's or a tap's skb is freed at once), with those GRO
    # holds between polls (at most a poll's napi_budget segments a queue) and those on their way
    # up; and at most max_skbs, whatever GRO, the queues or the budget (rxlab's stand-in for tcp_mem
    # pressure: the table holds exactly max_skbs, and a packet that needs one more drops as
    # skb_table_full)
    # the most sk_rcvbuf reaches: tcp_rmem[2] (autotuning, tcp_clamp_window), or what SO_RCVBUF sets
    rcvbuf = max(cfg.tcp_rmem, so_rcvbuf(cfg.so_rcvbuf, cfg.rmem_max, cfg.arch) if cfg.so_rcvbuf else 0)
    sockets = C * (rcvbuf // min(charged, smallest) + 2)
    reach, fields = min((sockets, ("connections", "tcp_rmem", "so_rcvbuf")), (cfg.packets, ("packets",)),
                        key=lambda b: b[0])
    skbs = min((reach + Q * (4 + (cfg.napi_budget if cfg.gro else 0)) + 16, fields),
               (cfg.max_skbs, ("max_skbs",)), key=lambda b: b[0])
    # XDP_TX / REDIRECT buffers awaiting completion: the packets of xdp_hold_us at line rate, and
    # never more than the packets sent (so a full hold ring never forces a completion early)
    if not any(x.xdp for x in geoms):
        return skbs, (1, ())
    link_pps = cfg.link_gbps * 1e3 / ((min(cfg.mtu, *(x.mtu for x in geoms)) + WIRE_OVERHEAD) * 8)
    holds = min((int(cfg.xdp_hold_us * link_pps) + 64, ("xdp_hold_us", "link_gbps")),
                (cfg.packets, ("packets",)), key=lambda b: b[0])
    return skbs, holds


def reading_cpus(cfg):
    """The CPUs the applications read on besides the NAPI CPUs 0..queues-1: ``reader_cpus``, as far
    as ``online_cpus`` has CPUs beyond the NAPI ones (an 8-CPU VM never reads on 64 others). 0 with
    app_cpus='napi', or when every online CPU runs a queue's NAPI: each application then reads on
    its flow's NAPI CPU (:attr:`rxlab.model.config.SimConfig.reading_cpus`)."""
    return 0 if cfg.app_cpus != "remote" else min(cfg.reader_cpus, cfg.online_cpus - cfg.queues)


def size_run(cfg, geoms):
    """Table sizes for ``cfg`` and every geometry its reconfigurations may switch to."""
    Q, R = cfg.queues, cfg.ring_size
    (n_skbs, _), (hold_cap, _) = _bounds(cfg, geoms)
    configs = 1 + len(cfg.reconfigs)  # each reconfiguration attaches new pools beside the old
    pool_size = max(max(x.pool_size or PP_RING_DEFAULT, x.head_pool_size) for x in geoms)
    # bnxt: the aggregation ring and TPA's heads, and a separate head pool's cache and ptr_ring
    agg_max = max(x.agg_ring_size for x in geoms)
    tpa_max = max(x.tpa_bufs for x in geoms)
    head_pools = any(x.head_pool_size for x in geoms)
    # mlx5's legacy RQ: its fragments; the striding RQ: its WQEs; and the pages either lays its strides
    # on, each held by a buffer of the driver's
    wqe_frags = max(x.wqe_count * len(x.frag_sizes) for x in geoms)
    mpwqe = max(x.wqe_count if x.variant == "striding" else 0 for x in geoms)
    frag_pages = max(x.ring_pages if x.frag_sizes or x.variant == "striding" else 0 for x in geoms)
    extra = (agg_max + tpa_max + frag_pages
             + (PP_ALLOC_CACHE_SIZE + pool_size + PP_ALLOC_CACHE_REFILL if head_pools else 0))
    # per queue and configuration: the posted ring and a pre-allocated one, a full alloc cache and
    # ptr_ring, a bulk refill in flight and the XDP holds; then each skb's head and one coalesced
    # page, or the frags of the most buffers a frame takes
    frame_pages = 1 + max(x.frame_buffers for x in geoms)
    n_pages = (Q * configs * (2 * R + PP_ALLOC_CACHE_SIZE + pool_size + PP_ALLOC_CACHE_REFILL + hold_cap + extra)
               + frame_pages * n_skbs + 64)
    unit = max(max(PAGE_FRAG_CACHE_MAX_SIZE, cfg.page_size), *(cfg.page_size << x.order for x in geoms))
    return Sizes(n_pages=n_pages, n_pools=Q * configs * (2 if head_pools else 1), ring_max=pool_size,
                 n_cpus=Q + reading_cpus(cfg),
                 n_bufs=Q * (2 * R + hold_cap + 2 + agg_max + tpa_max + frag_pages), n_skbs=n_skbs,
                 hold_cap=hold_cap, mem_limit=n_pages * unit, lock_slots=lock_slots(cfg), ack_cap=ack_cap(cfg),
                 agg_max=max(1, agg_max), tpa_max=max(1, tpa_max), wqe_frags_max=max(1, wqe_frags),
                 frag_pages_max=max(1, frag_pages), mpwqe_max=max(1, mpwqe))


def lock_slots(cfg):
    """Holds of each ptr_ring's producer lock the engine remembers (rxlab.engine.page_pool
    ._producer_lock), how far ahead of model time a CPU's produces are timed: a CPU's produces at
    one instant run ahead by a hold each, about what it freed since its last read, so two read
    periods of holds (a power of two, 1024 to 65536); a CPU further ahead is saturated by its
    produces alone (ptr_ring_produce_untimed)."""
    need = 2 * cfg.app_read_us * 1e3 / cfg.ptr_ring_hold_ns
    return 1 << min(16, max(10, math.ceil(math.log2(need))))


ACK_CAP_MAX = 1 << 20


def ack_cap(cfg):
    """The ACKs that can be on their way back at once: each left within the last RTT, and every data
    segment the link carried in it makes at most two (one when it is queued or dropped, one when its
    reader's read opens the window; a delayed ACK is one of those), plus a window update per
    connection and per periodic read in the RTT. At most ACK_CAP_MAX: more are lost, and counted
    (Result metric ``ack_ring_full``)."""
    mtu = min([cfg.mtu] + [r.mtu for r in cfg.reconfigs if r.mtu is not None])
    wire_us = (mtu + WIRE_OVERHEAD) * 8.0 / (cfg.link_gbps * 1000.0)
    n = 2 * math.ceil(cfg.rtt_us / wire_us) + 2 * cfg.connections + 64
    if cfg.reader == "periodic":
        n += cfg.connections * math.ceil(cfg.rtt_us / cfg.app_read_us)
    return min(n, ACK_CAP_MAX)


# bytes per row of each table make_state / make_rx allocate (int64 and float64: 8 bytes a cell)
PAGE_ROW = 8 * (PF.n + 1)  # pages and page_stack
BUF_ROW = 8 * (BF.n + 1)  # bufs and buf_stack
# skbs, data, their stacks, frags, rcvq_next, ofo_seq
SKB_ROW = 8 * (SK.n + 1 + DT.n + 1 + 2 * MAX_SKB_FRAGS + 1 + OS.n)
HOLD_ROW = 16  # hold_buf and hold_t


def table_bytes(cfg, sz):
    """{part: bytes} of the tables make_state and make_rx allocate for ``sz``, by what sizes them,
    and of the invariant checks' working arrays: a run's peak memory beyond the interpreter's
    (BENCHMARKS.md: within 20 % of the measured peak)."""
    Q, configs = cfg.queues, 1 + len(cfg.reconfigs)
    total = (sz.n_pages * PAGE_ROW + sz.n_bufs * BUF_ROW + sz.n_skbs * SKB_ROW + Q * sz.hold_cap * HOLD_ROW
             + 8 * sz.n_pools * (PL.n + PP_ALLOC_CACHE_SIZE + sz.ring_max + 2 * sz.lock_slots)
             + 8 * sz.n_cpus * (FC.n + 1)
             + 8 * Q * (QP.n + QS.n + cfg.ring_size + sz.agg_max + sz.tpa_max * (TI.n + 2) + GRO_HASH_BUCKETS * GL.n
                        + sz.wqe_frags_max * WF.n + sz.frag_pages_max + sz.mpwqe_max * MW.n + 8)
             + 8 * cfg.connections * (CN.n + CF.n + GR.n + OF.n + SB.n + 1 + 4 * Timer.n) + 8 * sz.ack_cap * (AK.n + 1)
             + 8 * cfg.samples * SM.n + 8 * (G.n + N_COUNTERS + RC.n + RF.n + RATIO_BINS + 3))
    parts = {"holds": sz.hold_cap * Q * (configs * PAGE_ROW + BUF_ROW + HOLD_ROW),
             "skbs": sz.n_skbs * (SKB_ROW + 2 * PAGE_ROW),
             "connections": 8 * cfg.connections * (CN.n + CF.n + GR.n + OF.n + SB.n + 1 + 4 * Timer.n) + 8 * sz.ack_cap * (AK.n + 1),
             "samples": 8 * cfg.samples * SM.n}
    parts["rings"] = total - sum(parts.values())
    # rxlab.engine.invariants.scan, after the tables are filled and at each reconfiguration: per-page
    # counts (at most four arrays alive at once), and a key per page reference of a buffer or an skb,
    # sorted (counted one per skb: the keys' array is np.empty, and its pages count only as used)
    parts["checks"] = 8 * (4 * sz.n_pages + 2 * (sz.n_bufs + sz.n_skbs))
    return parts


PART_TEXT = {"holds": "XDP_TX/REDIRECT buffers awaiting completion", "skbs": "skbs in flight",
             "rings": "rings and page_pools", "connections": "connections", "samples": "samples",
             "checks": "the invariant checks"}


def _part_fields(cfg, geoms, part):
    """The fields that size ``part``, with their values."""
    (_, skb_fields), (_, hold_fields) = _bounds(cfg, geoms)
    names = {"holds": hold_fields + ("queues",), "skbs": skb_fields,
             "rings": ("queues", "ring_size"), "checks": ("queues", "ring_size"), "connections": ("connections",),
             "samples": ("samples",)}[part]
    out = {k: getattr(cfg, k) for k in names}
    if part in ("holds", "rings", "checks") and cfg.reconfigs:
        out["len(reconfigs)"] = len(cfg.reconfigs)
    return out


def _text(n):
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def memory_limit():
    """Bytes a run's tables may take: ``$RXLAB_MAX_MEMORY`` (bytes, or with a K/M/G/T suffix),
    else half of this machine's memory (or of the cgroup's limit, when lower)."""
    env = os.environ.get(MEMORY_ENV)
    if env:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", env, re.IGNORECASE)
        if not m:
            raise bad(MEMORY_ENV, env, "a number of bytes, e.g. 8000000000 or 8G")
        return int(float(m.group(1)) * 1024 ** " KMGT".index(m.group(2).upper() or " "))
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 8 << 30
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            total = min(total, int(f.read()))
    except (OSError, ValueError):  # no cgroup v2 limit ("max") or not Linux
        pass
    return total // 2


def check_sizes(cfg, geoms=None):
    """Size ``cfg``'s tables; refuse, naming the fields that ask for too much, a run whose
    tables pass the engine's limits or ``memory_limit()``. Returns the Sizes."""
    geoms = geometries(cfg) if geoms is None else geoms
    sz = size_run(cfg, geoms)
    parts = table_bytes(cfg, sz)
    biggest = max(parts, key=parts.get)
    if sz.n_pools > ENGINE_LIMITS["n_pools"]:
        raise too_much({"queues": cfg.queues, "len(reconfigs)": len(cfg.reconfigs)},
                       f"{sz.n_pools} page_pools (one per queue and configuration)",
                       f"the engine holds at most {ENGINE_LIMITS['n_pools']}")
    for name, part in (("hold_cap", "holds"), ("n_bufs", "holds"), ("n_pages", biggest)):
        if getattr(sz, name) > ENGINE_LIMITS[name]:
            what = {"hold_cap": "XDP_TX/REDIRECT buffers in flight per queue", "n_bufs": "RX buffers in flight",
                    "n_pages": "pages in use"}[name]
            raise too_much(_part_fields(cfg, geoms, part), f"up to {getattr(sz, name):,} {what}",
                           f"the engine's tables hold at most {ENGINE_LIMITS[name]:,}")
    total, limit = sum(parts.values()), memory_limit()
    if total > limit:
        whence = f"${MEMORY_ENV}" if os.environ.get(MEMORY_ENV) else \
            f"half of this machine's memory; ${MEMORY_ENV} sets it"
        raise too_much(_part_fields(cfg, geoms, biggest),
                       f"{_text(total)} of simulation tables ({_text(parts[biggest])} for {PART_TEXT[biggest]})",
                       f"at most {_text(limit)} allowed ({whence})")
    return sz
