"""Hand-checked scenarios of the accounting core, each worked out from the kernel source."""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from rxlab.counters import Ctr
from rxlab.engine import page_frag, page_pool, pages, skb
from rxlab.engine.invariants import InvariantError, check_invariants, check_no_leak
from rxlab.engine.layout import NONE, PF, PL, BufKind, Loc, PoolState
from rxlab.engine.state import make_state

NAPI = 0  # the pool's NAPI CPU
APP = 1  # an application CPU
NOJIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"


def new(page_size=65536, pool_size=30, order=0, dma=1, upfront=0, **kw):
    st = make_state(page_size=page_size, n_pages=kw.pop("n_pages", 1024), ring_max=max(pool_size, 1),
                    n_cpus=kw.pop("n_cpus", 2), **kw)
    page_pool.pool_create(st, 0, pool_size, order, dma, dma, page_size << order, NAPI, upfront)
    return st


def frag(st, size=1856, align=64):
    pid, off = page_pool.pp_alloc_frag(st, 0, size, align, NAPI)
    assert pid != NONE
    return skb.buf_new(st, pid, off, size, BufKind.pp_frag, 0)


def c(st, name):
    return int(st.c[Ctr[name]])


def teardown(st, skbs=(), bufs=()):
    for s in skbs:
        skb.skb_free(st, s, NAPI, True)
    for b in bufs:
        skb.buf_put(st, b, NAPI, True)
    page_pool.pool_destroy(st, 0, NAPI)
    for cpu in range(st.frag_caches.shape[0]):
        page_frag.frag_cache_drain(st, cpu)
    check_no_leak(st)


# interpreted, an example scans the invariants after each of its 35 frees: fewer examples, the same paths
@settings(max_examples=8 if NOJIT else 25, deadline=None)
@given(order=hst.permutations(range(35)), from_app=hst.lists(hst.booleans(), min_size=35, max_size=35))
def test_35_fragments_recycle_their_page_once(order, from_app):
    # MANA at MTU 1500: 1856-byte slices, 35 to a 64 KB page when page_pool's alignment
    # is 64 (on arm64 it is 128: 34, see test_kernel_pagepool).
    st = new()
    bufs = [frag(st) for _ in range(35)]
    first = st.bufs[bufs[0], 0]
    assert {st.bufs[b, 0] for b in bufs} == {first}
    assert st.pages[first, PF.ppref] == (2**63 - 1) // 2  # BIAS_MAX, set once
    nxt = frag(st)  # the 36th slice does not fit: drain the unused bias of page 1
    assert c(st, "pp_frag_drain") == 1 and st.bufs[nxt, 0] != first
    skbs = [skb.skb_build(st, b, 2112, 1500) for b in bufs]
    before = c(st, "recycle_cached") + c(st, "recycle_ring")
    for i in order:
        skb.skb_free(st, skbs[i], APP if from_app[i] else NAPI, True)
        check_invariants(st)
    assert c(st, "recycle_cached") + c(st, "recycle_ring") - before == 1
    assert st.pages[first, PF.loc] in (Loc.alloc_cache, Loc.ptr_ring)
    # direct into the alloc cache exactly when the last fragment was freed on the NAPI CPU
    assert (st.pages[first, PF.loc] == Loc.alloc_cache) == (not from_app[order[-1]])
    teardown(st, bufs=[nxt])


def test_drain_reuses_the_page_when_every_fragment_came_back():
    st = new()
    bufs = [frag(st) for _ in range(35)]
    page = st.bufs[bufs[0], 0]
    skbs = [skb.skb_build(st, b, 2112, 1500) for b in bufs]
    for s in skbs:
        skb.skb_free(st, s, NAPI, True)
    # all 35 back while the page still carries its bias: no recycle yet
    assert c(st, "recycle_cached") == 0
    b = frag(st)
    # page_pool_drain_frag(): count == drain_count -> reused at once (recycle_cached, alloc_fast)
    assert (c(st, "recycle_cached"), c(st, "alloc_fast"), c(st, "pp_frag_drain")) == (1, 1, 1)
    assert c(st, "alloc_slow") == 1
    assert st.bufs[b, 0] == page
    teardown(st, bufs=[b])


def test_clone_keeps_page_out_of_pool_until_second_free():
    st = new(page_size=4096, pool_size=8)
    b = page_pool.pp_alloc_pages(st, 0, NAPI)
    s = skb.skb_build(st, skb.buf_new(st, b, 0, 4096, BufKind.pp_page, 0), 4352, 1500)
    clone = skb.skb_clone(st, s)
    skb.skb_free(st, s, NAPI, True)
    assert st.pages[b, PF.loc] == Loc.in_use and c(st, "recycle_cached") == 0
    check_invariants(st)
    skb.skb_free(st, clone, NAPI, True)
    assert st.pages[b, PF.loc] == Loc.alloc_cache and c(st, "recycle_cached") == 1
    # clone's atomic_inc, then an atomic_sub_return by each free (both skbs are ->cloned)
    assert c(st, "skb_dataref_rmw") == 3
    teardown(st)


def test_ptr_ring_overflow_releases_pages():
    st = new(page_size=4096, pool_size=2)
    got = [page_pool.pp_alloc_pages(st, 0, NAPI) for _ in range(5)]
    bufs = [skb.buf_new(st, p, 0, 4096, BufKind.pp_page, 0) for p in got]
    skbs = [skb.skb_build(st, b, 4352, 1500) for b in bufs]
    for s in skbs:  # freed by the application CPU outside softirq: ring, not cache
        skb.skb_free(st, s, APP, False)
    assert (c(st, "recycle_ring"), c(st, "recycle_ring_full")) == (2, 3)
    assert c(st, "dma_unmap") == 3 and c(st, "page_free_order0") == 3
    assert page_pool.pool_inflight(st, 0) == 64 - 3  # a bulk of 64 was taken, 3 released
    check_invariants(st)
    teardown(st)


def test_alloc_cache_refill_from_ring():
    st = new(page_size=4096, pool_size=100)
    bufs = [skb.buf_new(st, page_pool.pp_alloc_pages(st, 0, NAPI), 0, 4096, BufKind.pp_page, 0)
            for _ in range(64)]  # empties the bulk
    for b in bufs:
        skb.buf_put(st, b, APP, False)
    assert c(st, "recycle_ring") == 64
    b = skb.buf_new(st, page_pool.pp_alloc_pages(st, 0, NAPI), 0, 4096, BufKind.pp_page, 0)
    assert (c(st, "alloc_refill"), c(st, "ptr_ring_consume")) == (1, 64)
    assert st.pools[0, PL.cache_count] == 63
    teardown(st, bufs=[b])


def test_cache_full_falls_back_to_ring():
    st = new(page_size=4096, pool_size=256)
    got = [page_pool.pp_alloc_pages(st, 0, NAPI) for _ in range(129)]
    for p in got:
        skb.buf_put(st, skb.buf_new(st, p, 0, 4096, BufKind.pp_page, 0), NAPI, True)
    # 3 bulks of 64 were taken, 63 left in the cache: 65 fit, the rest overflow to the ring
    assert c(st, "recycle_cached") == 65
    assert c(st, "recycle_cache_full") == c(st, "recycle_ring") == 64
    teardown(st)


def _two_slices_per_page(upfront, cpu, softirq, pages=50):
    st = new(page_size=4096, pool_size=64, upfront=upfront)
    for _ in range(pages):
        a, b = frag(st), frag(st)  # two 1856-byte slices per 4 KB page
        for x in (a, b):
            skb.skb_free(st, skb.skb_build(st, x, 2112, 1500), cpu, softirq)
    return st


def test_upfront_scheme_saves_one_atomic_per_page():
    bias, upfront = _two_slices_per_page(0, NAPI, True), _two_slices_per_page(1, NAPI, True)
    assert (c(bias, "pp_frag_drain"), c(upfront, "pp_frag_drain")) == (49, 0)
    # BIAS: every release is an RMW on BIAS_MAX - k (the drain, all slices back, is a read);
    # up front: the last release finds count == 1 and skips the atomic.
    assert (c(bias, "atomic_rmw"), c(upfront, "atomic_rmw")) == (100, 50)
    teardown(bias)
    teardown(upfront)


def test_upfront_sends_pages_freed_remotely_through_the_ring():
    # With BIAS the page waits for the NAPI CPU's drain and is reused in place; up front
    # the application CPU's last release recycles it, into the ptr_ring (not NAPI context).
    bias, upfront = _two_slices_per_page(0, APP, False), _two_slices_per_page(1, APP, False)
    assert (c(bias, "recycle_ring"), c(bias, "recycle_cached")) == (0, 49)
    assert (c(upfront, "recycle_ring"), c(upfront, "recycle_cached")) == (50, 0)
    teardown(bias)
    teardown(upfront)


def test_remote_free_transfers_the_line():
    st = new(page_size=4096, pool_size=8)
    a, b = frag(st), frag(st)
    sa, sb = skb.skb_build(st, a, 2112, 1500), skb.skb_build(st, b, 2112, 1500)
    frag(st)  # drain on NAPI CPU: RMW, line stays on NAPI
    skb.skb_free(st, sa, APP, False)  # RMW from APP: remote
    skb.skb_free(st, sb, NAPI, True)  # last ref: count == 1 read, written last by APP: remote read
    assert c(st, "atomic_rmw_remote") == 1 and c(st, "refcnt_read_remote") == 1


def test_high_order_pages_are_not_bulk_allocated():
    st = new(page_size=4096, pool_size=8, order=2)
    p = page_pool.pp_alloc_pages(st, 0, NAPI)
    assert (c(st, "alloc_slow_high_order"), c(st, "page_alloc_order2"), c(st, "page_alloc_bulk_calls")) == (1, 1, 0)
    assert c(st, "dma_map_bytes") == 16384 and st.pages[p, PF.order] == 2


def test_memory_limit_makes_allocation_fail_cleanly():
    st = new(page_size=4096, pool_size=8, mem_limit=3 * 4096)
    got = [page_pool.pp_alloc_pages(st, 0, NAPI) for _ in range(4)]
    assert got[3] == NONE and c(st, "page_alloc_fail") == 2  # the bulk stopped at 3, then nothing
    assert c(st, "alloc_slow") == 1
    bufs = [skb.buf_new(st, p, 0, 4096, BufKind.pp_page, 0) for p in got[:3]]
    check_invariants(st)
    teardown(st, bufs=bufs)


def test_released_when_still_referenced():
    st = new(page_size=4096, pool_size=8)
    p = page_pool.pp_alloc_pages(st, 0, NAPI)
    s = skb.skb_build(st, skb.buf_new(st, p, 0, 4096, BufKind.pp_page, 0), 4352, 1500)
    pages.get_page(st, p, APP)  # e.g. a zero-copy receive still maps it
    skb.skb_free(st, s, NAPI, True)
    assert c(st, "recycle_released_refcnt") == 1 and st.pages[p, PF.pool] == NONE
    check_invariants(st)
    pages.put_ext(st, p, APP)
    assert st.pages[p, PF.loc] == Loc.free
    teardown(st)


def test_page_frag_cache_reuses_its_page():
    st = new(page_size=4096)
    # 32 KB order-3 compound page, carved in 1024-byte heads
    heads = [skb.skb_alloc_copy(st, APP, 600, 1024, 1536, False) for _ in range(32)]
    assert c(st, "page_frag_refill") == 1 and c(st, "page_alloc_order3") == 1
    for h in heads:
        skb.skb_free(st, h, APP, False)
    skb.skb_alloc_copy(st, APP, 600, 1024, 1536, False)
    assert (c(st, "page_frag_reuse"), c(st, "page_frag_refill")) == (1, 1)
    assert c(st, "bytes_copied") == 33 * 600
    # one RMW to take the bias, one per fragment freed, one to drop the bias: no atomic per allocation
    assert c(st, "atomic_rmw") == 1 + 32 + 1
    check_invariants(st)


def test_coalesce_moves_the_head_and_the_page_lives_with_the_merged_skb():
    st = new(page_size=4096, pool_size=8)
    a, b = frag(st), frag(st)
    pa, pb = st.bufs[a, 0], st.bufs[b, 0]
    sa, sb = skb.skb_build(st, a, 2112, 1500), skb.skb_build(st, b, 2112, 1400)
    assert skb.skb_try_coalesce(st, sa, sb, 256) == 2112 - 256
    assert (st.skbs[sa, 1], st.skbs[sa, 2]) == (2112 + 1856, 2900)
    assert st.pages[pb, PF.users] == st.pages[pa, PF.users] == 2 and pa == pb
    check_invariants(st)
    skb.skb_free(st, sa, NAPI, True)
    teardown(st)


def test_coalesce_refusals():
    st = new(page_size=4096, pool_size=8)
    s1 = skb.skb_build(st, frag(st), 2112, 1500)
    s2 = skb.skb_build(st, frag(st), 2112, 1500)
    cl = skb.skb_clone(st, s2)
    copy = skb.skb_alloc_copy(st, NAPI, 100, 512, 768, False)
    small = skb.skb_alloc_copy(st, NAPI, 60, 0, 768, True)
    assert skb.skb_try_coalesce(st, s1, s2, 256) == -1  # from is cloned
    assert skb.skb_try_coalesce(st, s1, copy, 256) == -1  # pp_recycle differs
    assert skb.skb_try_coalesce(st, copy, small, 256) == -1  # kmalloc head cannot be stolen
    assert c(st, "skb_coalesce_refused") == 3
    check_invariants(st)
    teardown(st, skbs=[s1, s2, cl, copy, small])


def test_destroyed_pool_retires_when_last_page_returns():
    st = new(page_size=4096, pool_size=8)
    s = skb.skb_build(st, frag(st), 2112, 1500)
    page_pool.pool_destroy(st, 0, NAPI)
    assert st.pools[0, PL.state] == PoolState.destroying and page_pool.pool_inflight(st, 0) == 1
    check_invariants(st)
    skb.skb_free(st, s, APP, False)
    assert st.pools[0, PL.state] == PoolState.retired
    check_no_leak(st)


@pytest.mark.parametrize("corrupt,msg", [
    (lambda st, p: st.pages.__setitem__((p, PF.ppref), 7), r"^pp_ref_count: page \d+: pp_ref_count 7"),
    (lambda st, p: st.pages.__setitem__((p, PF.users), 0), r"^page_users: page \d+: users count 0 but 1"),
    (lambda st, p: st.pages.__setitem__((p, PF.refcnt), -1), r"^page_field_negative: page \d+: field 1 is negative"),
    (lambda st, p: st.bufs.__setitem__((1, 0), p),
     r"^buffer_held_twice: page \d+: the buffer at offset 0 is held twice"),
])
def test_checker_catches_corruption(corrupt, msg):
    st = new(page_size=4096, pool_size=8)
    p = page_pool.pp_alloc_pages(st, 0, NAPI)
    skb.buf_new(st, p, 0, 4096, BufKind.pp_page, 0)
    check_invariants(st)
    corrupt(st, p)
    with pytest.raises(InvariantError, match=msg) as e:
        check_invariants(st)
    assert e.value.invariant == msg[1:msg.index(":")]


def test_checker_catches_a_leak():
    st = new(page_size=4096, pool_size=8)
    b = skb.buf_new(st, page_pool.pp_alloc_pages(st, 0, NAPI), 0, 4096, BufKind.pp_page, 0)
    st.bufs[b, 0] = NONE  # the driver forgets its buffer without putting the page
    st.pages[st.pages[:, PF.users] == 1, PF.users] = 0
    with pytest.raises(InvariantError, match=r"^page_leaked: page \d+: leaked: out of every cache with no holder"):
        check_invariants(st)
