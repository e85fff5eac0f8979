"""page_pool: alloc cache, ptr_ring, slow path, fragments and recycling (net/core/page_pool.c).

One row of ``st.pools`` is one ``struct page_pool``. rxlab models one NUMA node, so
the NUMA checks of the kernel (alloc_waive) never fire.
"""

import numpy as np

from rxlab.counters import Ctr
from rxlab.engine.dma import dma_map, dma_sync_for_device, dma_unmap
from rxlab.engine.jit import inner, ix, kernel
from rxlab.engine.layout import BIAS_MAX, FALSE, NONE, PF, PL, TRUE, G, Loc, PoolState
from rxlab.engine.pages import READ, RMW, STORE, page_alloc, put_page, touch

DMA_FAILED = -2  # _new_page(): the page was allocated, page_pool_dma_map() failed, it is freed
LOCK_STALE = -2  # G.lock_now: the clock moved to G.lock_ps, not yet divided into holds


@kernel
def pool_create(st, q, pool_size, order, dma_map_flag, dma_sync_flag, max_len, napi_cpu, upfront):
    """page_pool_create() with the given page_pool_params into row ``q``.

    ``upfront`` selects seed 001's proposal: a fresh fragment page takes
    PAGE_SIZE/size pp references instead of BIAS_MAX.
    """
    p = st.pools[q]
    p[:] = 0
    p[PL.state] = PoolState.live
    p[PL.ring_size] = pool_size
    p[PL.order] = order
    p[PL.dma_map] = dma_map_flag
    p[PL.dma_sync] = dma_sync_flag
    p[PL.max_len] = max_len
    p[PL.napi_cpu] = napi_cpu
    p[PL.frag_page] = NONE
    p[PL.upfront] = upfront


@kernel
def pool_inflight(st, q):
    """page_pool_inflight(): pages_state_hold_cnt - pages_state_release_cnt."""
    return st.pools[q, PL.hold_cnt] - st.pools[q, PL.release_cnt]


@inner
def _cache_push(st, q, pid):
    n = st.pools[ix(q), PL.cache_count]
    st.pool_cache[ix(q), ix(n)] = pid
    st.pools[ix(q), PL.cache_count] = n + 1
    st.pages[ix(pid), PF.loc] = Loc.alloc_cache


@inner
def _cache_pop(st, q):
    n = st.pools[ix(q), PL.cache_count] - 1
    st.pools[ix(q), PL.cache_count] = n
    pid = st.pool_cache[ix(q), ix(n)]
    st.pool_cache[ix(q), ix(n)] = NONE
    st.pages[ix(pid), PF.loc] = Loc.in_use
    return pid


@inner
def ptr_ring_clock(st, t):
    """What runs next runs at model time ``t`` (µs): produces into a ptr_ring are placed in time by
    it (``_producer_lock``). ``t`` infinite (the teardown's last read and polls, after the run's
    counts are taken) stops placing them. Called per packet, while produces are rarer: the hold
    (an integer division) is found by the first produce at ``t``."""
    if t < np.inf:
        st.glob[G.lock_ps] = np.int64(t * 1e6)
        st.glob[G.lock_now] = LOCK_STALE
    else:
        st.glob[G.lock_now] = NONE


@inner
def _producer_lock(st, q, cpu):
    """ptr_ring_produce() by ``cpu`` into pool ``q``'s ring takes ``r->producer_lock``
    (include/linux/ptr_ring.h, from page_pool_recycle_in_ring(), net/core/page_pool.c, since
    page_pool's ring came in ff7d6b27f894, 4.18): a produce waits when another CPU holds that lock,
    which it does for one hold (G.lock_hold_ps, the hold fitted to bench_page_pool_cross_cpu:
    data/page_pool_cross_cpu.md).

    Model time is cut into holds. The produce takes the hold its CPU is at: the present one
    (G.lock_now), or, when that CPU already produced in it, its next free one. A CPU's produces at
    one model instant (a reader draining a socket, a poll's frees) are sequential on that CPU, so
    they take consecutive holds: the densest a CPU can produce, which overlaps others the most.
    Only other CPUs contend. A produce that finds n produces of other CPUs into the same ring in
    its hold is contended (ptr_ring_produce_contended) and waits for their n holds
    (ptr_ring_lock_wait), each taken from another CPU, as a queued spinlock serves them in turn;
    the cost model prices each of those holds. The wait does not move the produce in model time,
    which is not CPU time. The engine runs the readers of one instant one after the other; a
    table of the holds in use per ring (``st.lock_slots``: its hold, its produces) lets a later one
    see the earlier ones whichever ran first. It reaches lock_slots holds ahead of model time: a
    CPU whose produces run further ahead is saturated by producing alone, and those produces are
    not timed (ptr_ring_produce_untimed), so contention there is a lower bound."""
    now = st.glob[G.lock_now]
    if now == NONE:
        return
    if now == LOCK_STALE:
        now = st.glob[G.lock_ps] // st.glob[G.lock_hold_ps]
        st.glob[G.lock_now] = now
    k = max(now, st.lock_cpu[ix(cpu)])
    if k - now >= st.lock_slots.shape[1]:
        st.c[Ctr.ptr_ring_produce_untimed] += 1
        return
    st.lock_cpu[ix(cpu)] = k + 1
    # model time never goes back: a row of another hold is of one before ``now``, done with
    slot = st.lock_slots[ix(q), ix(k & (st.lock_slots.shape[1] - 1))]
    if slot[0] != k:
        slot[0] = k
        slot[1] = 0
    if slot[1] > 0:
        st.c[Ctr.ptr_ring_produce_contended] += 1
        st.c[Ctr.ptr_ring_lock_wait] += slot[1]
    slot[1] += 1


@inner
def _ring_produce(st, q, pid, cpu):
    """ptr_ring_produce() by ``cpu``: False when the ring is full."""
    p = st.pools[ix(q)]
    if p[PL.ring_count] == p[PL.ring_size]:
        return False
    _producer_lock(st, q, cpu)
    i = p[PL.ring_head] + p[PL.ring_count]
    st.pool_ring[ix(q), ix(i - p[PL.ring_size] if i >= p[PL.ring_size] else i)] = pid
    p[PL.ring_count] += 1
    st.pages[ix(pid), PF.loc] = Loc.ptr_ring
    st.c[Ctr.ptr_ring_produce] += 1
    return True


@inner
def _ring_consume(st, q):
    p = st.pools[ix(q)]
    head = p[PL.ring_head]
    pid = st.pool_ring[ix(q), ix(head)]
    st.pool_ring[ix(q), ix(head)] = NONE
    p[PL.ring_head] = head + 1 if head + 1 < p[PL.ring_size] else 0
    p[PL.ring_count] -= 1
    st.c[Ctr.ptr_ring_consume] += 1
    return pid


@inner
def _page_bytes(st, q):
    return st.glob[G.page_size] << st.pools[ix(q), PL.order]


@inner
def _sync_for_device(st, q, dma_sync_size):
    """page_pool_dma_sync_for_device(): min(dma_sync_size, max_len) bytes; -1 means max_len."""
    if st.pools[ix(q), PL.dma_sync]:
        n = st.pools[ix(q), PL.max_len]
        if 0 <= dma_sync_size < n:
            n = dma_sync_size
        dma_sync_for_device(st, n)


@inner
def _new_page(st, q, cpu):
    """One page from the page allocator, DMA-mapped and marked as the pool's
    (__page_pool_alloc_page_order / the bulk loop: page_pool_dma_map, page_pool_set_pp_info)."""
    pid = page_alloc(st, st.pools[ix(q), PL.order], cpu)
    if pid == NONE:
        return NONE
    if st.pools[ix(q), PL.dma_map]:
        if st.glob[G.dma_fail_ppb] > 0 and np.random.random() * 1e9 < st.glob[G.dma_fail_ppb]:
            # page_pool_dma_map() failed (injected): __page_pool_alloc_page_order() and the bulk
            # loop of __page_pool_alloc_netmems_slow() put_page() the page and go without it
            st.c[Ctr.dma_map_fail] += 1
            put_page(st, pid, cpu)
            return DMA_FAILED
        dma_map(st, _page_bytes(st, q))
        st.pages[ix(pid), PF.dma] = 1
        # page_pool_dma_map() syncs max_len for the device after mapping
        _sync_for_device(st, q, -1)
    st.pages[ix(pid), PF.pool] = q
    # page_pool_fragment_netmem(netmem, 1): every page starts as one piece
    st.pages[ix(pid), PF.ppref] = 1
    touch(st, pid, cpu, STORE)
    st.pools[ix(q), PL.hold_cnt] += 1
    return pid


@kernel
def pp_alloc_pages(st, q, cpu):
    """page_pool_alloc_netmems(): alloc cache, then a refill of up to PP_ALLOC_CACHE_REFILL pages
    from the ptr_ring, then the page allocator (a bulk of PP_ALLOC_CACHE_REFILL for order 0).
    NONE on failure. PP_ALLOC_CACHE_REFILL is 64, or with 15abbe7c8266 16 on 16 KB and 4 on
    64 KB pages (``st.glob[G.pp_cache_refill]``, rxlab.kernel.pagepool.pp_alloc_cache)."""
    p = st.pools[ix(q)]
    refill = st.glob[G.pp_cache_refill]
    if p[PL.cache_count] > 0:
        st.c[Ctr.alloc_fast] += 1
        return _cache_pop(st, q)
    # page_pool_refill_alloc_cache(): up to refill pages from the ring into the empty cache, and the
    # last of them out again at once (the tables end as _ring_consume, _cache_push, _cache_pop leave
    # them; the count and the ring's head are written once, not per page)
    n = min(p[PL.ring_count], refill)
    if n > 0:
        head, size = p[PL.ring_head], p[PL.ring_size]
        pid = NONE
        for i in range(n):
            pid = st.pool_ring[ix(q), ix(head)]
            st.pool_ring[ix(q), ix(head)] = NONE
            head = head + 1 if head + 1 < size else 0
            if i < n - 1:
                st.pool_cache[ix(q), ix(i)] = pid
                st.pages[ix(pid), PF.loc] = Loc.alloc_cache
        p[PL.ring_head] = head
        p[PL.ring_count] -= n
        p[PL.cache_count] = n - 1
        st.pages[ix(pid), PF.loc] = Loc.in_use
        st.c[Ctr.ptr_ring_consume] += n
        st.c[Ctr.alloc_refill] += 1
        return pid
    st.c[Ctr.alloc_empty] += 1
    # __page_pool_alloc_netmems_slow()
    if p[PL.order] > 0:
        pid = _new_page(st, q, cpu)
        if pid < 0:
            return NONE
        st.c[Ctr.alloc_slow_high_order] += 1
        return pid
    st.c[Ctr.page_alloc_bulk_calls] += 1
    for _ in range(refill):
        pid = _new_page(st, q, cpu)
        if pid == NONE:  # the page allocator gave fewer pages
            break
        if pid != DMA_FAILED:  # a page that could not be mapped is gone; the loop goes on
            _cache_push(st, q, pid)
    if p[PL.cache_count] == 0:
        return NONE
    st.c[Ctr.alloc_slow] += 1
    return _cache_pop(st, q)


@inner
def pp_unref(st, pid, nr, cpu, drain):
    """page_pool_unref_netmem(netmem, nr): the pp references left.

    When the count equals ``nr`` the atomic is skipped (a read of the line; for the
    non-constant ``nr`` of a drain the count is then set back to 1). Otherwise
    atomic_long_sub_return(), and a count that reaches 0 is set back to 1.
    """
    if st.pages[ix(pid), PF.ppref] == nr:
        touch(st, pid, cpu, READ)
        if drain:
            touch(st, pid, cpu, STORE)
        st.pages[ix(pid), PF.ppref] = 1
        return 0
    touch(st, pid, cpu, RMW)
    st.pages[ix(pid), PF.ppref] -= nr
    ret = st.pages[ix(pid), PF.ppref]
    if ret == 0:
        touch(st, pid, cpu, STORE)
        st.pages[ix(pid), PF.ppref] = 1
    return ret


@inner
def pp_return_page(st, q, pid, cpu):
    """page_pool_return_page(): unmap, count the release, clear pp info, put_page()."""
    if st.pages[ix(pid), PF.dma]:
        dma_unmap(st)
        st.pages[ix(pid), PF.dma] = 0
    st.pools[ix(q), PL.release_cnt] += 1
    st.pages[ix(pid), PF.pool] = NONE
    st.pages[ix(pid), PF.ppref] = 0
    st.pages[ix(pid), PF.loc] = Loc.in_use
    put_page(st, pid, cpu)
    if st.pools[ix(q), PL.state] == PoolState.destroying and pool_inflight(st, q) == 0:
        st.pools[ix(q), PL.state] = PoolState.retired


@inner
def pp_put_unrefed(st, q, pid, cpu, allow_direct, softirq, dma_sync_size):
    """page_pool_put_unrefed_netmem() / __page_pool_put_page(): recycle a page whose last
    pp reference was dropped.

    Direct (into the alloc cache) only when ``allow_direct`` or in softirq on the pool's
    NAPI CPU (page_pool_napi_local); else into the ptr_ring; released when the ring is
    full or the page is still referenced elsewhere (page_ref_count != 1). A pool being
    destroyed takes nothing back: its pages are released (the kernel's release worker
    empties the ring it would have used).
    """
    p = st.pools[ix(q)]
    if p[PL.state] != PoolState.live:
        pp_return_page(st, q, pid, cpu)
        return
    if st.pages[ix(pid), PF.refcnt] != 1:
        st.c[Ctr.recycle_released_refcnt] += 1
        pp_return_page(st, q, pid, cpu)
        return
    _sync_for_device(st, q, dma_sync_size)
    if allow_direct or (softirq and cpu == p[PL.napi_cpu]):
        if p[PL.cache_count] < st.glob[G.pp_cache_size]:
            _cache_push(st, q, pid)
            st.c[Ctr.recycle_cached] += 1
            return
        st.c[Ctr.recycle_cache_full] += 1
    if _ring_produce(st, q, pid, cpu):
        st.c[Ctr.recycle_ring] += 1
        return
    st.c[Ctr.recycle_ring_full] += 1
    pp_return_page(st, q, pid, cpu)


@inner
def pp_put_page(st, pid, cpu, allow_direct, softirq, dma_sync_size):
    """page_pool_put_netmem(): drop one pp reference; the last one recycles the page."""
    if pp_unref(st, pid, np.int64(1), cpu, FALSE) != 0:
        return
    pp_put_unrefed(st, st.pages[ix(pid), PF.pool], pid, cpu, allow_direct, softirq, dma_sync_size)


@inner
def _drain_frag(st, q, pid, cpu):
    """page_pool_drain_frag(): drop the references taken for slices never handed out.
    Returns the page when every slice has already come back and it can be reused."""
    drain = st.pools[ix(q), PL.frag_refs] - st.pools[ix(q), PL.frag_users]
    if drain == 0:
        # up-front scheme, page fully used: its last user recycles it
        return NONE
    st.c[Ctr.pp_frag_drain] += 1
    if pp_unref(st, pid, drain, cpu, TRUE) != 0:
        return NONE
    if st.pages[ix(pid), PF.refcnt] == 1:
        _sync_for_device(st, q, -1)
        return pid
    pp_return_page(st, q, pid, cpu)
    return NONE


@kernel
def pp_alloc_frag(st, q, size, align, cpu):
    """page_pool_alloc_frag_netmem(): (page, offset) of a ``size``-byte slice, size first
    rounded up to ``align`` (dma_get_cache_alignment(), a power of two); (NONE, 0) on failure.

    A fresh page gets BIAS_MAX pp references (or, up front, PAGE_SIZE/size of them);
    when the next slice does not fit, the unused ones are dropped (_drain_frag).
    """
    p = st.pools[ix(q)]
    max_size = _page_bytes(st, q)
    size = (size + align - 1) & -align  # ALIGN(): align is a power of two
    pid = p[PL.frag_page]
    offset = p[PL.frag_offset]
    fresh = False
    if pid != NONE and offset + size > max_size:
        pid = _drain_frag(st, q, pid, cpu)
        if pid != NONE:
            st.c[Ctr.recycle_cached] += 1
            st.c[Ctr.alloc_fast] += 1
            fresh = True
    if pid == NONE:
        pid = pp_alloc_pages(st, q, cpu)
        if pid == NONE:
            p[PL.frag_page] = NONE
            return NONE, 0
        fresh = True
    st.c[Ctr.pp_frag_alloc] += 1
    if fresh:
        refs = max_size // size if p[PL.upfront] else BIAS_MAX
        p[PL.frag_page] = pid
        p[PL.frag_users] = 1
        p[PL.frag_offset] = size
        p[PL.frag_refs] = refs
        st.pages[ix(pid), PF.ppref] = refs
        touch(st, pid, cpu, STORE)
        return pid, 0
    p[PL.frag_users] += 1
    p[PL.frag_offset] = offset + size
    if p[PL.frag_users] > p[PL.frag_refs]:
        # up front guessed too few slices (smaller requests): one more reference
        p[PL.frag_refs] += 1
        st.pages[ix(pid), PF.ppref] += 1
        touch(st, pid, cpu, RMW)
    return pid, offset


@kernel
def pool_destroy(st, q, cpu):
    """page_pool_destroy(): drop the frag page's unused references (page_pool_free_frag),
    release every page in the alloc cache and the ptr_ring (page_pool_scrub); the pool
    is retired once its inflight pages have all come back."""
    p = st.pools[q]
    pid = p[PL.frag_page]
    p[PL.frag_page] = NONE
    if pid != NONE:
        drain = p[PL.frag_refs] - p[PL.frag_users]
        if drain > 0 and pp_unref(st, pid, drain, cpu, TRUE) == 0:
            pp_return_page(st, q, pid, cpu)
    p[PL.state] = PoolState.destroying
    while p[PL.cache_count] > 0:
        pp_return_page(st, q, _cache_pop(st, q), cpu)
    while p[PL.ring_count] > 0:
        pp_return_page(st, q, _ring_consume(st, q), cpu)
    if pool_inflight(st, q) == 0:
        p[PL.state] = PoolState.retired
