"""The kmemleak of rxlab: every page accounted for, every count consistent.

``scan`` (jitted) recomputes every page's holders from the buffer and skb tables and
compares them with the counts the engine keeps; ``check_invariants`` raises an
:class:`InvariantError` that names the object and what was wrong.
"""

from enum import IntEnum

import numpy as np
from numba import njit

from rxlab.engine.layout import BF, DT, FC, NONE, PF, PL, SK, BufKind, G, Loc, PoolState


class Inv(IntEnum):
    """The invariants ``scan`` checks, by name (0: all hold)."""

    ok = 0
    page_field_negative = 1
    page_location = 2
    page_users = 3
    idle_page_held = 4
    pp_ref_count = 5
    cached_page_refs = 6
    pp_page_refcount = 7
    page_refcount = 8
    page_leaked = 9
    buffer_held_twice = 10
    pool_inflight = 11
    mem_used = 12
    skb_dataref = 13
    skb_data_free = 15
    pool_counts = 16
    free_page_referenced = 17
    page_pool_gone = 18


MESSAGES = {
    Inv.page_field_negative: "page {0}: field {1} is negative ({2})",
    Inv.page_location: "page {0}: location {1} but found in {2} free-list/cache/ring slots",
    Inv.page_users: "page {0}: users count {1} but {2} buffer/skb references point into it",
    Inv.idle_page_held: "page {0}: idle in the allocator or a pool cache yet has {1} users and {2} outside "
                        "references",
    Inv.pp_ref_count: "page {0}: pp_ref_count {1} but {2} live fragments plus outstanding bias",
    Inv.cached_page_refs: "page {0}: in a page_pool cache with pp_ref_count {1} and _refcount {2} (both must be 1)",
    Inv.pp_page_refcount: "page {0}: page_pool page with _refcount {1}, expected {2} (1 + outside references)",
    Inv.page_refcount: "page {0}: _refcount {1}, expected {2} (users + outside references + page_frag bias)",
    Inv.page_leaked: "page {0}: leaked: out of every cache with no holder ({1} users, {2} bias)",
    Inv.buffer_held_twice: "page {0}: the buffer at offset {1} is held twice (posted/driver buffer and skb, "
                           "or two of either)",
    Inv.pool_inflight: "pool {0}: inflight {1} (hold - release) but it owns {2} pages",
    Inv.mem_used: "page allocator: {1} bytes in use but live pages add up to {2}",
    Inv.skb_dataref: "skb data {0}: dataref {1} but {2} live skbs point to it",
    Inv.skb_data_free: "skb {0}: points to free data area {1}",
    Inv.pool_counts: "pool {0}: alloc cache count {1} or ptr_ring count {2} out of range",
    Inv.free_page_referenced: "page {0}: free in the allocator yet referenced by a buffer or skb (offset {1})",
    Inv.page_pool_gone: "page {0}: owned by pool {1}, which is unused or retired",
}


class InvariantError(AssertionError):
    """An accounting invariant of the engine does not hold; ``invariant`` names it."""

    def __init__(self, invariant, message):
        super().__init__(f"{invariant}: {message}")
        self.invariant = invariant


ZERO = np.int64(0)  # not a literal 0: _err compiles once (rxlab.engine.layout.TRUE)


@njit(cache=True)
def _err(out, code, a, b, c):
    out[0] = code
    out[1] = a
    out[2] = b
    out[3] = c
    return out


@njit(cache=True)
def scan(st):
    """Return [code, a, b, c]: code 0 when every invariant holds, else the first violation."""
    out = np.zeros(4, np.int64)
    P = st.pages.shape[0]
    pages = st.pages
    for i in range(P):
        for f in range(PF.n):
            if f != PF.pool and f != PF.last_cpu and pages[i, f] < 0:
                return _err(out, Inv.page_field_negative, i, f, pages[i, f])
    occ = np.zeros(P, np.int64)
    for k in range(st.glob[G.page_top]):
        occ[st.page_stack[k]] += 1
    for q in range(st.pools.shape[0]):
        cc = st.pools[q, PL.cache_count]
        rc = st.pools[q, PL.ring_count]
        if cc < 0 or cc > st.pool_cache.shape[1] or rc < 0 or rc > st.pools[q, PL.ring_size]:
            return _err(out, Inv.pool_counts, q, cc, rc)
        for k in range(cc):
            occ[st.pool_cache[q, k]] += 1
        for k in range(rc):
            occ[st.pool_ring[q, (st.pools[q, PL.ring_head] + k) % st.pools[q, PL.ring_size]]] += 1
    for i in range(P):
        expect = 0 if pages[i, PF.loc] == Loc.in_use else 1
        if occ[i] != expect:
            return _err(out, Inv.page_location, i, pages[i, PF.loc], occ[i])
    # holders recomputed from buffers and skb data
    holders = np.zeros(P, np.int64)
    # references held by page_pool fragment bias, and by mlx5's frag pages beyond the one they count as users
    outstanding = np.zeros(P, np.int64)
    n_keys = 0
    keys = np.empty(st.bufs.shape[0] + st.data.shape[0] * (1 + st.data_frags.shape[1] // 2), np.int64)
    for b in range(st.bufs.shape[0]):
        pid = st.bufs[b, BF.page]
        if pid != NONE:
            holders[pid] += 1
            if st.bufs[b, BF.kind] == BufKind.frag_page:
                outstanding[pid] += st.bufs[b, BF.size] - 1
                continue
            keys[n_keys] = pid * (1 << 32) + st.bufs[b, BF.offset]
            n_keys += 1
    refs = np.zeros(st.data.shape[0], np.int64)
    for s in range(st.skbs.shape[0]):
        d = st.skbs[s, SK.data]
        if d != NONE:
            if st.data[d, DT.dataref] == NONE:
                return _err(out, Inv.skb_data_free, s, d, ZERO)
            refs[d] += 1
    for d in range(st.data.shape[0]):
        if st.data[d, DT.dataref] == NONE:
            continue
        if st.data[d, DT.dataref] != refs[d]:
            return _err(out, Inv.skb_dataref, d, st.data[d, DT.dataref], refs[d])
        pid = st.data[d, DT.head_page]
        if pid != NONE:
            holders[pid] += 1
            keys[n_keys] = pid * (1 << 32) + st.data[d, DT.head_off]
            n_keys += 1
        for k in range(st.data[d, DT.nr_frags]):
            pid = st.data_frags[d, 2 * k]
            holders[pid] += 1
            keys[n_keys] = pid * (1 << 32) + st.data_frags[d, 2 * k + 1]
            n_keys += 1
    sk = np.sort(keys[:n_keys])
    for k in range(1, n_keys):
        if sk[k] == sk[k - 1]:
            return _err(out, Inv.buffer_held_twice, sk[k] >> 32, sk[k] & 0xFFFFFFFF, ZERO)
    # references held by page_pool fragment bias and page_frag caches
    for q in range(st.pools.shape[0]):
        pid = st.pools[q, PL.frag_page]
        if pid != NONE and pages[pid, PF.pool] == q:
            outstanding[pid] += st.pools[q, PL.frag_refs] - st.pools[q, PL.frag_users]
    fcbias = np.zeros(P, np.int64)
    for cpu in range(st.frag_caches.shape[0]):
        pid = st.frag_caches[cpu, FC.page]
        if pid != NONE:
            fcbias[pid] += st.frag_caches[cpu, FC.bias]
    owned = np.zeros(st.pools.shape[0], np.int64)
    mem = ZERO  # not 0: a literal would first type the _err(..., mem) below as a second signature
    for i in range(P):
        loc = pages[i, PF.loc]
        users = pages[i, PF.users]
        ext = pages[i, PF.ext]
        if loc == Loc.free:
            if holders[i] != 0:
                return _err(out, Inv.free_page_referenced, i, ZERO, ZERO)
            continue
        mem += st.glob[G.page_size] << pages[i, PF.order]
        if users != holders[i]:
            return _err(out, Inv.page_users, i, users, holders[i])
        pool = pages[i, PF.pool]
        if loc != Loc.in_use:
            if users != 0 or ext != 0:
                return _err(out, Inv.idle_page_held, i, users, ext)
            if pages[i, PF.ppref] != 1 or pages[i, PF.refcnt] != 1:
                return _err(out, Inv.cached_page_refs, i, pages[i, PF.ppref], pages[i, PF.refcnt])
        if pool != NONE:
            owned[pool] += 1
            if st.pools[pool, PL.state] == PoolState.unused or st.pools[pool, PL.state] == PoolState.retired:
                return _err(out, Inv.page_pool_gone, i, pool, ZERO)
            if loc == Loc.in_use:
                if users + outstanding[i] == 0:
                    return _err(out, Inv.page_leaked, i, users, outstanding[i])
                if pages[i, PF.ppref] != users + outstanding[i]:
                    return _err(out, Inv.pp_ref_count, i, pages[i, PF.ppref], users + outstanding[i])
                if pages[i, PF.refcnt] != 1 + ext:
                    return _err(out, Inv.pp_page_refcount, i, pages[i, PF.refcnt], 1 + ext)
        else:
            expect = users + ext + fcbias[i]
            if expect == 0:
                return _err(out, Inv.page_leaked, i, users, fcbias[i])
            if pages[i, PF.refcnt] != expect:
                return _err(out, Inv.page_refcount, i, pages[i, PF.refcnt], expect)
    if mem != st.glob[G.mem_used]:
        return _err(out, Inv.mem_used, ZERO, st.glob[G.mem_used], mem)
    for q in range(st.pools.shape[0]):
        infl = st.pools[q, PL.hold_cnt] - st.pools[q, PL.release_cnt]
        if infl != owned[q]:
            return _err(out, Inv.pool_inflight, q, infl, owned[q])
    return out


def check_invariants(st):
    """Raise :class:`InvariantError` naming the first broken invariant; return None if all hold."""
    code, a, b, c = (int(x) for x in scan(st))
    if code:
        raise InvariantError(Inv(code).name, MESSAGES[code].format(a, b, c))


def check_no_leak(st):
    """After teardown (pools destroyed, buffers and skbs freed, page_frag caches drained):
    every page is back in the allocator, except pages held by outside references."""
    check_invariants(st)
    live = np.flatnonzero((st.pages[:, PF.loc] != Loc.free) & (st.pages[:, PF.ext] == 0))
    if live.size:
        p = st.pages[live[0]]
        raise InvariantError("leaked_after_teardown", f"page {live[0]}: leaked after teardown (location "
                             f"{Loc(p[PF.loc]).name}, pool {p[PF.pool]}, _refcount {p[PF.refcnt]}, "
                             f"users {p[PF.users]})")
    busy = np.flatnonzero(st.pools[:, PL.state] == PoolState.destroying)
    if busy.size:
        q = busy[0]
        left = st.pools[q, PL.hold_cnt] - st.pools[q, PL.release_cnt]
        raise InvariantError("pool_not_retired",
                             f"pool {q}: still waiting for {left} inflight pages after teardown")
