"""The jitted engine core against the naive model (tests/naive.py): random operation sequences
drive both, and every counter, page, pool cache and ring is compared after every step."""

import os

from hypothesis import given, settings
from hypothesis import strategies as hst
from naive import Naive

from rxlab.counters import Ctr
from rxlab.engine import page_frag, page_pool, pages, skb
from rxlab.engine.invariants import check_invariants, check_no_leak
from rxlab.engine.layout import BF, FC, NONE, PF, PL, SK, Loc, PoolState
from rxlab.engine.state import make_state
from rxlab.kernel.sizes import SKB_SMALL_HEAD_CACHE_SIZE

# a kmalloc'ed head's truesize with its sk_buff (256 here): what skb_try_coalesce() takes off a
# headers-only skb whose frags it moves (SKB_TRUESIZE(skb_end_offset(from)))
SMALL_HEAD_TRUESIZE = 256 + SKB_SMALL_HEAD_CACHE_SIZE

NOJIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"
LOC = {Loc.free: "free", Loc.alloc_cache: "alloc_cache", Loc.ptr_ring: "ptr_ring", Loc.in_use: "in_use"}
STATE = {PoolState.live: "live", PoolState.destroying: "destroying", PoolState.retired: "retired"}


def snapshot_engine(st):
    pg = {}
    for pid, p in enumerate(st.pages):
        if p[PF.loc] == Loc.free:
            continue
        pg[pid] = (LOC[p[PF.loc]], p[PF.refcnt], p[PF.ppref], None if p[PF.pool] == NONE else p[PF.pool],
                   p[PF.order], bool(p[PF.dma]), p[PF.last_cpu], p[PF.users], p[PF.ext])
    pools = {}
    for q, p in enumerate(st.pools):
        if p[PL.state] == PoolState.unused:
            continue
        ring = [st.pool_ring[q, (p[PL.ring_head] + k) % p[PL.ring_size]] for k in range(p[PL.ring_count])]
        pools[q] = (STATE[p[PL.state]], list(st.pool_cache[q, :p[PL.cache_count]]), ring, p[PL.hold_cnt],
                    p[PL.release_cnt], None if p[PL.frag_page] == NONE else p[PL.frag_page])
    fcs = {cpu: None if f[FC.page] == NONE else (f[FC.page], f[FC.offset], f[FC.bias], f[FC.size])
           for cpu, f in enumerate(st.frag_caches)}
    bufs = {b: tuple(x[:BF.n]) for b, x in enumerate(st.bufs) if x[BF.page] != NONE}
    skbs = {s: (x[SK.truesize], x[SK.len]) for s, x in enumerate(st.skbs) if x[SK.data] != NONE}
    counters = {c.name: int(st.c[c]) for c in Ctr}
    return pg, pools, fcs, bufs, skbs, counters


def snapshot_naive(n):
    pg = {pid: (p.loc, p.refcnt, p.ppref, p.pool, p.order, p.dma, p.last_cpu, p.users, p.ext)
          for pid, p in n.pages.items()}
    pools = {q: (p.state, list(p.cache), list(p.ring), p.hold, p.release, p.frag_page) for q, p in n.pools.items()}
    fcs = {cpu: None if f is None else (f["page"], f["offset"], f["bias"], f["size"]) for cpu, f in n.fcache.items()}
    bufs = {b: v for b, v in n.bufs.items()}
    skbs = {s: (v[1], v[2]) for s, v in n.skbs.items()}
    counters = {c.name: n.c[c.name] for c in Ctr}
    return pg, pools, fcs, bufs, skbs, counters


def same(st, n, step):
    e, m = snapshot_engine(st), snapshot_naive(n)
    for name, a, b in zip(("pages", "pools", "frag caches", "buffers", "skbs", "counters"), e, m):
        assert a == b, f"after {step}: {name} differ:\nengine {a}\nnaive  {b}"
    check_invariants(st)


@settings(max_examples=15 if NOJIT else 60, deadline=None)
@given(data=hst.data())
def test_engine_matches_naive_model(data):
    page_size = data.draw(hst.sampled_from([4096, 16384, 65536]), "page_size")
    n_cpus = data.draw(hst.integers(2, 4), "n_cpus")
    pool_size = data.draw(hst.integers(2, 8), "pool_size")
    order = data.draw(hst.sampled_from([0, 0, 1]), "order")
    upfront = data.draw(hst.integers(0, 1), "upfront")
    # a small memory limit cuts the bulk refill short, so the alloc cache empties and the
    # ptr_ring is consumed; a generous one lets the alloc cache overflow
    limit = data.draw(hst.sampled_from([None, 6 * page_size, 40 * page_size]), "mem_limit")
    size = data.draw(hst.sampled_from([960, 1856, 2112, 3392]), "frag size")
    align = data.draw(hst.sampled_from([1, 64, 128]), "align")
    kw = {"page_size": page_size, "n_pages": 400, "n_pools": 2, "ring_max": pool_size, "n_cpus": n_cpus,
          "n_bufs": 300, "n_skbs": 300, "mem_limit": limit}
    st, n = make_state(**kw), Naive(**kw)
    for obj in (st, n):
        for q in range(2):
            args = (q, pool_size, order, 1 - q, 1 - q, page_size << order, q, upfront)
            (page_pool.pool_create(obj, *args) if obj is st else obj.pool_create(*args))
    same(st, n, "create")
    bufs, skbs, destroyed = [], [], set()
    ops = ["alloc_frag", "alloc_page", "buf_put", "build", "clone", "coalesce", "free", "copy", "get_put",
           "destroy", "fc_drain", "chain", "copies"]
    for step in range(data.draw(hst.integers(1, 40 if NOJIT else 120), "steps")):
        op = data.draw(hst.sampled_from(ops), "op")
        cpu = data.draw(hst.integers(0, n_cpus - 1), "cpu")
        q = data.draw(hst.integers(0, 1), "queue")
        if op in ("alloc_frag", "alloc_page") and q not in destroyed:
            if op == "alloc_frag":
                got = page_pool.pp_alloc_frag(st, q, size, align, cpu), n.pp_alloc_frag(q, size, align, cpu)
                assert got[0] == got[1]
                pid, off = got[0]
                kind = 0
            else:
                pid = page_pool.pp_alloc_pages(st, q, cpu)
                assert pid == n.pp_alloc_pages(q, cpu)
                off, kind = 0, 1
            if pid != NONE:
                b = skb.buf_new(st, pid, off, size, kind, q)
                assert b == n.buf_new(pid, off, size, kind, q)
                bufs.append(b)
        elif op == "buf_put" and bufs:
            b = bufs.pop(data.draw(hst.integers(0, len(bufs) - 1)))
            direct = data.draw(hst.booleans())
            skb.buf_put(st, b, cpu, direct)
            n.buf_put(b, cpu, direct)
        elif op == "build" and bufs:
            b = bufs.pop(data.draw(hst.integers(0, len(bufs) - 1)))
            s = skb.skb_build(st, b, 2112, 1500)
            assert s == n.skb_build(b, 2112, 1500)
            (skbs if s != NONE else bufs).append(s if s != NONE else b)
        elif op == "clone" and skbs:
            orig = skbs[data.draw(hst.integers(0, len(skbs) - 1))]
            s = skb.skb_clone(st, orig)
            assert s == n.skb_clone(orig)
            if s != NONE:
                skbs.append(s)
        elif op == "coalesce" and len(skbs) >= 2:
            i, j = data.draw(hst.lists(hst.integers(0, len(skbs) - 1), min_size=2, max_size=2, unique=True))
            d = skb.skb_try_coalesce(st, skbs[i], skbs[j], 256)
            assert d == n.skb_try_coalesce(skbs[i], skbs[j], 256, SMALL_HEAD_TRUESIZE)
            if d >= 0:
                skbs.pop(j)
        elif op == "free" and skbs:
            s = skbs.pop(data.draw(hst.integers(0, len(skbs) - 1)))
            softirq = data.draw(hst.booleans())
            skb.skb_free(st, s, cpu, softirq)
            n.skb_free(s, cpu, softirq)
        elif op == "copy":
            length = data.draw(hst.sampled_from([60, 200, 1000]))
            head = (length + 63) // 64 * 64 + 384
            s = skb.skb_alloc_copy(st, cpu, length, head, head + 256, length <= 256)
            assert s == n.skb_alloc_copy(cpu, length, head, head + 256, length <= 256)
            if s != NONE:
                skbs.append(s)
        elif op == "get_put" and n.pages:
            pid = data.draw(hst.sampled_from(sorted(p for p, pg in n.pages.items() if pg.loc == "in_use")
                                             or [None]))
            if pid is not None:
                pages.get_page(st, pid, cpu)
                n.get_page(pid, cpu)
                same(st, n, f"step {step}: get_page")
                pages.put_ext(st, pid, cpu)
                n.put_ext(pid, cpu)
        elif op == "destroy" and q not in destroyed:
            destroyed.add(q)
            page_pool.pool_destroy(st, q, cpu)
            n.pool_destroy(q, cpu)
        elif op == "chain" and q not in destroyed:
            # up to 20 skbs coalesced in a row: reaches the MAX_SKB_FRAGS refusal
            chain = []
            for _ in range(data.draw(hst.integers(2, 20))):
                pid, off = page_pool.pp_alloc_frag(st, q, size, align, cpu)
                assert (pid, off) == n.pp_alloc_frag(q, size, align, cpu)
                if pid == NONE:
                    break
                b = skb.buf_new(st, pid, off, size, 0, q)
                assert b == n.buf_new(pid, off, size, 0, q)
                s = skb.skb_build(st, b, 2112, 1500)
                assert s == n.skb_build(b, 2112, 1500)
                if s == NONE:
                    bufs.append(b)
                    break
                chain.append(s)
            for s in chain[1:]:
                d = skb.skb_try_coalesce(st, chain[0], s, 256)
                assert d == n.skb_try_coalesce(chain[0], s, 256, SMALL_HEAD_TRUESIZE)
                if d < 0:
                    skbs.append(s)
            skbs.extend(chain[:1])
        elif op == "copies":
            # a burst of copy-break heads freed in any order: the page_frag page comes back whole
            burst = []
            for _ in range(data.draw(hst.integers(10, 60))):
                s = skb.skb_alloc_copy(st, cpu, 900, 1344, 1600, False)
                assert s == n.skb_alloc_copy(cpu, 900, 1344, 1600, False)
                if s != NONE:
                    burst.append(s)
            for s in data.draw(hst.permutations(burst)):
                c2 = data.draw(hst.integers(0, n_cpus - 1))
                skb.skb_free(st, s, c2, False)
                n.skb_free(s, c2, False)
        elif op == "fc_drain":
            page_frag.frag_cache_drain(st, cpu)
            n.frag_cache_drain(cpu)
        same(st, n, f"step {step}: {op}")
    # teardown: everything back, nothing leaked, and both models agree on how it got there
    for s in skbs:
        skb.skb_free(st, s, 0, True)
        n.skb_free(s, 0, True)
    for b in bufs:
        skb.buf_put(st, b, 0, False)
        n.buf_put(b, 0, False)
    for q in range(2):
        if q not in destroyed:
            page_pool.pool_destroy(st, q, 0)
            n.pool_destroy(q, 0)
    for cpu in range(n_cpus):
        page_frag.frag_cache_drain(st, cpu)
        n.frag_cache_drain(cpu)
    same(st, n, "teardown")
    check_no_leak(st)
    assert not n.pages and n.mem_used == 0
