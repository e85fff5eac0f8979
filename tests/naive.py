"""A slow, obviously correct model of the engine core: objects, lists and dicts, written from the
kernel control flow (net/core/page_pool.c, mm/page_frag_cache.c, net/core/skbuff.c).

It exposes the engine's operations with the same arguments and results, so tests can drive both
with one sequence and compare every counter and every page after each step. Identifiers (page
slots, buffer and skb ids) are handed out the engine's way: a LIFO free list whose first pops are
0, 1, 2, ...
"""

from collections import Counter, deque

BIAS_MAX = (2**63 - 1) >> 1
PP_ALLOC_CACHE_SIZE = 128  # include/net/page_pool/types.h, before 15abbe7c8266 (and on 4 KB pages)
PP_ALLOC_CACHE_REFILL = 64
MAX_SKB_FRAGS = 17


class Page:
    def __init__(self, order, cpu):
        self.loc = "in_use"
        self.refcnt = 1
        self.ppref = 0
        self.pool = None
        self.order = order
        self.dma = False
        self.last_cpu = cpu
        self.users = 0
        self.ext = 0


class Pool:
    def __init__(self, size, order, dma_map, dma_sync, max_len, napi_cpu, upfront):
        self.state = "live"
        self.cache = []  # alloc.cache, a stack
        self.ring = deque()  # ptr_ring, FIFO of capacity ``size``
        self.size = size
        self.order = order
        self.dma_map = dma_map
        self.dma_sync = dma_sync
        self.max_len = max_len
        self.napi_cpu = napi_cpu
        self.upfront = upfront
        self.frag_page = None
        self.frag_offset = 0
        self.frag_users = 0
        self.frag_refs = 0
        self.hold = 0
        self.release = 0


class Data:
    """skb_shared_info: the data area clones share."""

    def __init__(self, head, off, pp_recycle):
        self.dataref = 1
        self.head = head
        self.head_off = off
        self.frags = []  # (page, offset)
        self.pp_recycle = pp_recycle
        self.cloned = False
        self.frag_list = []  # skbs a GRO aggregate chained whole, in order
        # payload bytes a kmalloc'ed head holds beyond the headers (mlx5's non-linear striding RQ copies
        # MLX5E_RX_MAX_HEAD): such a head is never headers only
        self.head_data = 0


class Naive:
    def __init__(self, page_size, n_pages, n_pools, ring_max, n_cpus, n_bufs, n_skbs, mem_limit=None,
                 pp_alloc_cache=(PP_ALLOC_CACHE_SIZE, PP_ALLOC_CACHE_REFILL)):
        self.page_size = page_size
        self.pp_cache_size, self.pp_cache_refill = pp_alloc_cache  # scaled with PAGE_SIZE by 15abbe7c8266
        self.mem_limit = mem_limit if mem_limit is not None else 2**63 - 1
        self.mem_used = 0
        self.pages = {}  # slot -> Page (live pages only)
        self.free_slots = list(range(n_pages - 1, -1, -1))
        self.pools = {}
        self.c = Counter()
        self.dma_map_fails = None  # a callable: True when page_pool_dma_map() is to fail (injection)
        self.on_produce = None  # a callable (pool, cpu) told of every page produced into a ptr_ring
        fc_size = max(32768, page_size)
        self.fc_order = (fc_size - 1).bit_length() - (page_size - 1).bit_length()
        self.fc_bias = fc_size
        self.fcache = {cpu: None for cpu in range(n_cpus)}  # cpu -> dict(page, offset, bias, size)
        self.bufs = {}
        self.free_bufs = list(range(n_bufs - 1, -1, -1))
        self.skbs = {}  # id -> [data, truesize, len]
        self.free_skbs = list(range(n_skbs - 1, -1, -1))
        self.datas = {}
        self.free_datas = list(range(n_skbs - 1, -1, -1))

    # -- the struct page cache line -------------------------------------------------------------
    def _touch(self, pid, cpu, kind):
        p = self.pages[pid]
        remote = p.last_cpu is not None and p.last_cpu != cpu
        if kind == "rmw":
            self.c["atomic_rmw"] += 1
            self.c["atomic_rmw_remote"] += remote
            p.last_cpu = cpu
        elif kind == "store":
            self.c["refcnt_store"] += 1
            self.c["refcnt_store_remote"] += remote
            p.last_cpu = cpu
        else:
            self.c["refcnt_read_remote"] += remote

    # -- page allocator -------------------------------------------------------------------------
    def page_alloc(self, order, cpu):
        size = self.page_size << order
        if not self.free_slots or self.mem_used + size > self.mem_limit:
            self.c["page_alloc_fail"] += 1
            return -1
        pid = self.free_slots.pop()
        self.pages[pid] = Page(order, cpu)
        self.mem_used += size
        self.c[f"page_alloc_order{min(order, 3)}"] += 1
        return pid

    def _page_free(self, pid):
        p = self.pages.pop(pid)
        self.mem_used -= self.page_size << p.order
        self.free_slots.append(pid)
        self.c[f"page_free_order{min(p.order, 3)}"] += 1

    def put_page(self, pid, cpu):
        self._touch(pid, cpu, "rmw")
        self.pages[pid].refcnt -= 1
        if self.pages[pid].refcnt == 0:
            self._page_free(pid)

    def get_page(self, pid, cpu):
        self._touch(pid, cpu, "rmw")
        self.pages[pid].refcnt += 1
        self.pages[pid].ext += 1

    def put_ext(self, pid, cpu):
        self.pages[pid].ext -= 1
        self.put_page(pid, cpu)

    # -- page_pool ------------------------------------------------------------------------------
    def pool_create(self, q, pool_size, order, dma_map, dma_sync, max_len, napi_cpu, upfront):
        self.pools[q] = Pool(pool_size, order, dma_map, dma_sync, max_len, napi_cpu, upfront)

    def pool_inflight(self, q):
        return self.pools[q].hold - self.pools[q].release

    def _sync(self, pool, size):
        if pool.dma_sync:
            self.c["dma_sync_dev"] += 1
            self.c["dma_sync_dev_bytes"] += pool.max_len if size < 0 or size >= pool.max_len else size

    def _new_page(self, q, cpu):
        pool = self.pools[q]
        pid = self.page_alloc(pool.order, cpu)
        if pid == -1:
            return -1
        p = self.pages[pid]
        if pool.dma_map:
            if self.dma_map_fails is not None and self.dma_map_fails():
                # page_pool_dma_map() failed: the page is put back, the allocation goes without it
                self.c["dma_map_fail"] += 1
                self.put_page(pid, cpu)
                return -2
            self.c["dma_map"] += 1
            self.c["dma_map_bytes"] += self.page_size << pool.order
            p.dma = True
            self._sync(pool, -1)
        p.pool = q
        p.ppref = 1
        self._touch(pid, cpu, "store")
        pool.hold += 1
        return pid

    def _to_cache(self, q, pid):
        self.pools[q].cache.append(pid)
        self.pages[pid].loc = "alloc_cache"

    def _from_cache(self, q):
        pid = self.pools[q].cache.pop()
        self.pages[pid].loc = "in_use"
        return pid

    def pp_alloc_pages(self, q, cpu):
        pool = self.pools[q]
        if pool.cache:
            self.c["alloc_fast"] += 1
            return self._from_cache(q)
        if pool.ring:
            while pool.ring and len(pool.cache) < self.pp_cache_refill:
                self.c["ptr_ring_consume"] += 1
                self._to_cache(q, pool.ring.popleft())
            self.c["alloc_refill"] += 1
            return self._from_cache(q)
        self.c["alloc_empty"] += 1
        if pool.order > 0:
            pid = self._new_page(q, cpu)
            if pid < 0:
                return -1
            self.c["alloc_slow_high_order"] += 1
            return pid
        self.c["page_alloc_bulk_calls"] += 1
        for _ in range(self.pp_cache_refill):
            pid = self._new_page(q, cpu)
            if pid == -1:
                break
            if pid != -2:  # not mapped: freed, the bulk loop goes on
                self._to_cache(q, pid)
        if not pool.cache:
            return -1
        self.c["alloc_slow"] += 1
        return self._from_cache(q)

    def _unref(self, pid, nr, cpu, drain):
        p = self.pages[pid]
        if p.ppref == nr:
            self._touch(pid, cpu, "read")
            if drain:
                self._touch(pid, cpu, "store")
            p.ppref = 1
            return 0
        self._touch(pid, cpu, "rmw")
        p.ppref -= nr
        left = p.ppref
        if left == 0:
            self._touch(pid, cpu, "store")
            p.ppref = 1
        return left

    def _return_page(self, q, pid, cpu):
        pool = self.pools[q]
        p = self.pages[pid]
        if p.dma:
            self.c["dma_unmap"] += 1
            p.dma = False
        pool.release += 1
        p.pool = None
        p.ppref = 0
        p.loc = "in_use"
        self.put_page(pid, cpu)
        if pool.state == "destroying" and pool.hold == pool.release:
            pool.state = "retired"

    def _put_unrefed(self, q, pid, cpu, allow_direct, softirq, dma_sync_size):
        pool = self.pools[q]
        if pool.state != "live":
            self._return_page(q, pid, cpu)
            return
        if self.pages[pid].refcnt != 1:
            self.c["recycle_released_refcnt"] += 1
            self._return_page(q, pid, cpu)
            return
        self._sync(pool, dma_sync_size)
        if allow_direct or (softirq and cpu == pool.napi_cpu):
            if len(pool.cache) < self.pp_cache_size:
                self._to_cache(q, pid)
                self.c["recycle_cached"] += 1
                return
            self.c["recycle_cache_full"] += 1
        if len(pool.ring) < pool.size:
            pool.ring.append(pid)
            self.pages[pid].loc = "ptr_ring"
            self.c["ptr_ring_produce"] += 1
            self.c["recycle_ring"] += 1
            if self.on_produce is not None:
                self.on_produce(q, cpu)
            return
        self.c["recycle_ring_full"] += 1
        self._return_page(q, pid, cpu)

    def pp_put_page(self, pid, cpu, allow_direct, softirq, dma_sync_size):
        if self._unref(pid, 1, cpu, False):
            return
        self._put_unrefed(self.pages[pid].pool, pid, cpu, allow_direct, softirq, dma_sync_size)

    def pp_alloc_frag(self, q, size, align, cpu):
        pool = self.pools[q]
        max_size = self.page_size << pool.order
        size = -(-size // align) * align
        pid, offset, fresh = pool.frag_page, pool.frag_offset, False
        if pid is not None and offset + size > max_size:
            pid = None
            drain = pool.frag_refs - pool.frag_users
            if drain:
                self.c["pp_frag_drain"] += 1
                old = pool.frag_page
                if self._unref(old, drain, cpu, True) == 0:
                    if self.pages[old].refcnt == 1:
                        self._sync(pool, -1)
                        pid = old
                        self.c["recycle_cached"] += 1
                        self.c["alloc_fast"] += 1
                        fresh = True
                    else:
                        self._return_page(q, old, cpu)
        if pid is None:
            pid = self.pp_alloc_pages(q, cpu)
            if pid == -1:
                pool.frag_page = None
                return -1, 0
            fresh = True
        self.c["pp_frag_alloc"] += 1
        if fresh:
            refs = max_size // size if pool.upfront else BIAS_MAX
            pool.frag_page, pool.frag_users, pool.frag_offset, pool.frag_refs = pid, 1, size, refs
            self.pages[pid].ppref = refs
            self._touch(pid, cpu, "store")
            return pid, 0
        pool.frag_users += 1
        pool.frag_offset = offset + size
        if pool.frag_users > pool.frag_refs:
            pool.frag_refs += 1
            self.pages[pid].ppref += 1
            self._touch(pid, cpu, "rmw")
        return pid, offset

    def pool_destroy(self, q, cpu):
        pool = self.pools[q]
        pid, pool.frag_page = pool.frag_page, None
        if pid is not None:
            drain = pool.frag_refs - pool.frag_users
            if drain > 0 and self._unref(pid, drain, cpu, True) == 0:
                self._return_page(q, pid, cpu)
        pool.state = "destroying"
        while pool.cache:
            self._return_page(q, self._from_cache(q), cpu)
        while pool.ring:
            self.c["ptr_ring_consume"] += 1
            self._return_page(q, pool.ring.popleft(), cpu)
        if pool.hold == pool.release:
            pool.state = "retired"

    # -- page_frag cache ------------------------------------------------------------------------
    def _fc_refill(self, cpu):
        order = self.fc_order
        pid = self.page_alloc(order, cpu)
        if pid == -1 and order > 0:
            order = 0
            pid = self.page_alloc(0, cpu)
        if pid == -1:
            self.fcache[cpu] = None
            return -1
        self._touch(pid, cpu, "rmw")
        self.pages[pid].refcnt += self.fc_bias
        self.fcache[cpu] = {"page": pid, "offset": 0, "bias": self.fc_bias + 1, "size": self.page_size << order}
        self.c["page_frag_refill"] += 1
        return pid

    def frag_alloc(self, cpu, fragsz):
        if self.fcache[cpu] is None and self._fc_refill(cpu) == -1:
            return -1, 0
        f = self.fcache[cpu]
        offset = f["offset"]
        if offset + fragsz > f["size"]:
            pid = f["page"]
            self._touch(pid, cpu, "rmw")
            self.pages[pid].refcnt -= f["bias"]
            if self.pages[pid].refcnt == 0:
                self._touch(pid, cpu, "store")
                self.pages[pid].refcnt = self.fc_bias + 1
                f["bias"] = self.fc_bias + 1
                self.c["page_frag_reuse"] += 1
            elif self._fc_refill(cpu) == -1:
                return -1, 0
            f = self.fcache[cpu]
            offset = 0
        f["bias"] -= 1
        f["offset"] = offset + fragsz
        self.c["page_frag_alloc"] += 1
        return f["page"], offset

    def frag_cache_drain(self, cpu):
        f, self.fcache[cpu] = self.fcache[cpu], None
        if f is None:
            return
        pid = f["page"]
        self._touch(pid, cpu, "rmw")
        self.pages[pid].refcnt -= f["bias"]
        if self.pages[pid].refcnt == 0:
            self._page_free(pid)

    # -- driver buffers and skbs ----------------------------------------------------------------
    def buf_new(self, pid, offset, size, kind, queue):
        if not self.free_bufs:
            return -1
        b = self.free_bufs.pop()
        self.bufs[b] = (pid, offset, size, kind, queue)
        self.pages[pid].users += 1
        return b

    def _ref_put(self, pid, pp_recycle, cpu, allow_direct, softirq):
        self.pages[pid].users -= 1
        if pp_recycle and self.pages[pid].pool is not None:
            self.pp_put_page(pid, cpu, allow_direct, softirq, -1)
        else:
            self.put_page(pid, cpu)

    def buf_put(self, b, cpu, allow_direct, softirq=True):
        """The driver drops a buffer: in NAPI (softirq) unless told otherwise (a queue torn down
        from process context, mana_destroy_rxq)."""
        pid, _, _, kind, _ = self.bufs.pop(b)
        self.free_bufs.append(b)
        self._ref_put(pid, kind != 2, cpu, allow_direct, softirq)

    def _new_skb(self, d, truesize, length):
        s = self.free_skbs.pop()
        self.skbs[s] = [d, truesize, length]
        return s

    def skb_build(self, b, truesize, length):
        if not self.free_skbs or not self.free_datas:
            return -1
        pid, off, _, kind, _ = self.bufs.pop(b)
        d = self.free_datas.pop()
        self.datas[d] = Data(pid, off, kind != 2)
        s = self._new_skb(d, truesize, length)
        self.free_bufs.append(b)
        self.c["skb_build"] += 1
        return s

    def skb_alloc_copy(self, cpu, length, head_size, truesize, small_head):
        if not self.free_skbs or not self.free_datas:
            return -1
        if small_head:
            pid, off = None, 0
            self.c["skb_small_head"] += 1
        else:
            pid, off = self.frag_alloc(cpu, head_size)
            if pid == -1:
                return -1
            self.pages[pid].users += 1
        d = self.free_datas.pop()
        self.datas[d] = Data(pid, off, False)
        self.c["bytes_copied"] += length
        return self._new_skb(d, truesize, length)

    def skb_alloc_kmalloc(self, length, truesize):
        """alloc_skb() with a kmalloc'ed head (no page) holding ``length`` copied bytes."""
        if not self.free_skbs or not self.free_datas:
            return -1
        d = self.free_datas.pop()
        self.datas[d] = Data(None, 0, False)
        self.c["bytes_copied"] += length
        return self._new_skb(d, truesize, length)

    def skb_clone(self, s):
        if not self.free_skbs:
            return -1
        d, truesize, length = self.skbs[s]
        c = self._new_skb(d, truesize, length)
        self.datas[d].dataref += 1
        self.datas[d].cloned = True
        self.c["skb_dataref_rmw"] += 1
        self.c["skb_clone"] += 1
        return c

    def skb_try_coalesce(self, to, frm, sizeof_sk_buff, head_truesize=0):
        """net/core/skbuff.c skb_try_coalesce(): steal ``frm``'s page head into a frag of ``to``; or,
        when its head is a kmalloc'ed one holding only the headers TCP pulled (skb_headlen 0: bnxt's
        header-data split, copied), move its frags alone, ``to`` charged its truesize less
        ``head_truesize`` (SKB_TRUESIZE(skb_end_offset(from)))."""
        dt, df = self.datas[self.skbs[to][0]], self.datas[self.skbs[frm][0]]
        frags = df.head is None and bool(df.frags) and not df.head_data
        if (dt.pp_recycle != df.pp_recycle or dt.cloned or df.cloned or dt.frag_list or df.frag_list
                or (df.head is None and not frags) or len(dt.frags) + len(df.frags) + (not frags) > MAX_SKB_FRAGS):
            self.c["skb_coalesce_refused"] += 1
            return -1
        # a headers-only skb gives its frags and its small head is freed; else its head becomes a frag
        dt.frags += df.frags if frags else [(df.head, df.head_off)] + df.frags
        delta = self.skbs[frm][1] - (head_truesize if frags else sizeof_sk_buff)
        self.skbs[to][1] += delta
        self.skbs[to][2] += self.skbs[frm][2]
        d = self.skbs.pop(frm)[0]
        del self.datas[d]
        self.free_datas.append(d)
        self.free_skbs.append(frm)
        if frags:
            self.c["skb_free"] += 1
        self.c["skb_coalesce"] += 1
        return delta

    def skb_gro_receive(self, p, last, s, sizeof_sk_buff, head_truesize=0):
        """net/core/gro.c skb_gro_receive(p, skb), len and pp_recycle already checked: a segment
        whose kmalloc'ed head holds only its headers (bnxt's header-data split, copied) gives its
        frags to the aggregate's last skb when they fit, and is freed, the aggregate charged its
        truesize less its head's (``head_truesize``); else steal ``s``'s page head into a frag of the
        aggregate's last skb when it has room, else chain ``s`` whole on ``p``'s frag_list. Returns
        the aggregate's last skb."""
        dl, ds = self.datas[self.skbs[last][0]], self.datas[self.skbs[s][0]]
        truesize, length = self.skbs[s][1], self.skbs[s][2]
        self.skbs[p][2] += length
        if ds.head is None and ds.frags and not ds.head_data and len(dl.frags) + len(ds.frags) <= MAX_SKB_FRAGS:
            dl.frags += ds.frags
            self.skbs[p][1] += truesize - head_truesize
            d = self.skbs.pop(s)[0]
            del self.datas[d]
            self.free_datas.append(d)
            self.free_skbs.append(s)
            self.c["skb_free"] += 1
            self.c["gro_merge"] += 1
            return last
        if ds.head is not None and len(dl.frags) + 1 + len(ds.frags) <= MAX_SKB_FRAGS:
            dl.frags += [(ds.head, ds.head_off)] + ds.frags
            self.skbs[p][1] += truesize - sizeof_sk_buff
            d = self.skbs.pop(s)[0]
            del self.datas[d]
            self.free_datas.append(d)
            self.free_skbs.append(s)
            self.c["gro_merge"] += 1
            return last
        self.datas[self.skbs[p][0]].frag_list.append(s)
        self.skbs[p][1] += truesize
        self.c["gro_merge_frag_list"] += 1
        return s

    def skb_free(self, s, cpu, softirq):
        """kfree_skb(): with the data area's last reference, skb_release_data() puts the frag pages,
        frees the frag_list's skbs, then puts the head page."""
        d = self.skbs.pop(s)[0]
        self.free_skbs.append(s)
        self.c["skb_free"] += 1
        data = self.datas[d]
        if data.cloned:
            self.c["skb_dataref_rmw"] += 1
        data.dataref -= 1
        if data.dataref:
            return
        for pid, _ in data.frags:
            self._ref_put(pid, data.pp_recycle, cpu, False, softirq)
        for chained in data.frag_list:
            self.skb_free(chained, cpu, softirq)
        if data.head is not None:
            self._ref_put(data.head, data.pp_recycle, cpu, False, softirq)
        del self.datas[d]
        self.free_datas.append(d)
