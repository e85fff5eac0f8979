"""RX buffers the driver owns, and the skbs built on them (net/core/skbuff.c).

A reference to a page moves from a driver buffer (``bufs``) into an skb's data area
at build_skb; clones share the data area (dataref); skb_try_coalesce moves one skb's
head into another's frags. Whoever drops the last reference returns the page: to its
page_pool when the skb is marked pp_recycle (napi_pp_put_page), else put_page().
"""

import numpy as np

from rxlab.counters import Ctr
from rxlab.engine.dma import dma_map, dma_unmap
from rxlab.engine.jit import inner, ix, kernel
from rxlab.engine.layout import BF, DT, FALSE, MAX_SKB_FRAGS, NONE, PF, SK, TRUE, BufKind, G
from rxlab.engine.page_frag import frag_alloc
from rxlab.engine.page_pool import pp_put_page
from rxlab.engine.pages import page_alloc, put_page
from rxlab.kernel.sizes import SKB_SMALL_HEAD_CACHE_SIZE


@inner
def _pop(stack, glob, top_field):
    top = glob[top_field]
    if top == 0:
        return NONE
    glob[top_field] = top - 1
    return stack[ix(top - 1)]


@inner
def _push(stack, glob, top_field, idx):
    stack[ix(glob[top_field])] = idx
    glob[top_field] += 1


@kernel
def buf_new(st, pid, offset, size, kind, queue):
    """Record a buffer the driver now owns (a new reference to ``pid``); NONE if the
    buffer table is full."""
    b = _pop(st.buf_stack, st.glob, G.buf_top)
    if b == NONE:
        return NONE
    st.bufs[ix(b), BF.page] = pid
    st.bufs[ix(b), BF.offset] = offset
    st.bufs[ix(b), BF.size] = size
    st.bufs[ix(b), BF.kind] = kind
    st.bufs[ix(b), BF.queue] = queue
    st.pages[ix(pid), PF.users] += 1
    return b


@inner
def _buf_forget(st, b):
    st.bufs[ix(b), BF.page] = NONE
    _push(st.buf_stack, st.glob, G.buf_top, b)


@inner
def page_ref_put(st, pid, pp_recycle, cpu, allow_direct, softirq):
    """Drop one buffer reference to ``pid``: to its page_pool when pp-recycled and the
    page is a pool page (napi_pp_put_page -> page_pool_put_full_netmem, dma_sync_size -1),
    otherwise put_page() (page_frag_free)."""
    st.pages[ix(pid), PF.users] -= 1
    if pp_recycle and st.pages[ix(pid), PF.pool] != NONE:
        pp_put_page(st, pid, cpu, allow_direct, softirq, -1)
    else:
        put_page(st, pid, cpu)


@kernel
def buf_put(st, b, cpu, allow_direct):
    """The driver drops a buffer it owns (XDP_DROP, teardown): page_pool_put_page(..., -1,
    allow_direct) for pool buffers, put_page() otherwise. Runs in NAPI (softirq) context."""
    pid = st.bufs[ix(b), BF.page]
    kind = st.bufs[ix(b), BF.kind]
    _buf_forget(st, b)
    page_ref_put(st, pid, int(kind != BufKind.page), cpu, allow_direct, TRUE)


@kernel
def buf_put_process(st, b, cpu):
    """buf_put() from process context: mana_destroy_rxq() runs under RTNL with NAPI disabled, where
    a pool page is not NAPI-local (net/core/page_pool.c page_pool_napi_local(): !in_softirq()), so
    page_pool_put_full_page(pool, page, false) sends it to the ptr_ring, not the alloc cache."""
    pid = st.bufs[ix(b), BF.page]
    kind = st.bufs[ix(b), BF.kind]
    _buf_forget(st, b)
    page_ref_put(st, pid, int(kind != BufKind.page), cpu, FALSE, FALSE)


@inner
def _new_data(st, pid, offset, pp_recycle):
    d = _pop(st.data_stack, st.glob, G.data_top)
    if d == NONE:
        return NONE
    st.data[ix(d), DT.dataref] = 1
    st.data[ix(d), DT.head_page] = pid
    st.data[ix(d), DT.head_off] = offset
    st.data[ix(d), DT.nr_frags] = 0
    st.data[ix(d), DT.pp_recycle] = pp_recycle
    st.data[ix(d), DT.cloned] = 0
    st.data[ix(d), DT.head_data] = 0
    return d


@inner
def _new_skb(st, d, truesize, length):
    s = _pop(st.skb_stack, st.glob, G.skb_top)
    if s == NONE:
        return NONE
    st.skbs[ix(s), SK.data] = d
    st.skbs[ix(s), SK.truesize] = truesize
    st.skbs[ix(s), SK.len] = length
    # the packet's bytes sit in a page unless copy-break put them in a kmalloc'ed head
    st.skbs[ix(s), SK.page_len] = length if st.data[ix(d), DT.head_page] != NONE else 0
    return s


@kernel
def skb_build(st, b, truesize, length):
    """napi_build_skb() on driver buffer ``b``; pool buffers are marked for recycling
    (skb_mark_for_recycle). The buffer's page reference moves into the skb. NONE if the
    skb table is full (the buffer is then left with the driver)."""
    if st.glob[G.skb_top] == 0 or st.glob[G.data_top] == 0:
        return NONE
    pid = st.bufs[ix(b), BF.page]
    d = _new_data(st, pid, st.bufs[ix(b), BF.offset], int(st.bufs[ix(b), BF.kind] != BufKind.page))
    s = _new_skb(st, d, truesize, length)
    _buf_forget(st, b)
    st.c[Ctr.skb_build] += 1
    return s


@kernel
def skb_alloc_copy(st, cpu, length, head_size, truesize, small_head):
    """Copy-break: napi_alloc_skb() and a copy of ``length`` bytes; the RX buffer stays
    with the driver. A ``small_head`` comes from kmalloc (no page); otherwise the head is
    ``head_size`` bytes of this CPU's page_frag cache. NONE on failure."""
    if st.glob[G.skb_top] == 0 or st.glob[G.data_top] == 0:
        return NONE
    if small_head:
        pid, offset = NONE, 0
        st.c[Ctr.skb_small_head] += 1
    else:
        pid, offset = frag_alloc(st, cpu, head_size)
        if pid == NONE:
            return NONE
        st.pages[ix(pid), PF.users] += 1
    d = _new_data(st, pid, offset, FALSE)
    st.c[Ctr.bytes_copied] += length
    return _new_skb(st, d, truesize, length)


@kernel
def skb_alloc_kmalloc(st, length, truesize):
    """alloc_skb(size, GFP_ATOMIC) filled with ``length`` copied bytes, as tcp_collapse() makes
    them: a kmalloc'ed head (no page: rxlab does not count slab memory), charged ``truesize``. NONE
    if the skb table is full."""
    if st.glob[G.skb_top] == 0 or st.glob[G.data_top] == 0:
        return NONE
    d = _new_data(st, NONE, 0, FALSE)
    st.c[Ctr.bytes_copied] += length
    return _new_skb(st, d, truesize, length)


@kernel
def skb_clone(st, s):
    """skb_clone(): a new sk_buff sharing the data area (atomic_inc of dataref)."""
    d = st.skbs[ix(s), SK.data]
    c = _new_skb(st, d, st.skbs[ix(s), SK.truesize], st.skbs[ix(s), SK.len])
    if c == NONE:
        return NONE
    st.skbs[ix(c), SK.page_len] = st.skbs[ix(s), SK.page_len]
    st.data[ix(d), DT.dataref] += 1
    st.data[ix(d), DT.cloned] = 1
    st.c[Ctr.skb_dataref_rmw] += 1
    st.c[Ctr.skb_clone] += 1
    return c


@inner
def steal_head(st, dt, s):
    """skb ``s``'s head (a page fragment), then its frags, become frags of data area ``dt`` after
    dt's own, and only its sk_buff and data area go (skb_try_coalesce's kfree_skb_partial(from,
    head_stolen); skb_gro_receive's NAPI_GRO_FREE_STOLEN_HEAD): its pages moved. The caller checked
    the room."""
    df = st.skbs[ix(s), SK.data]
    nt = st.data[ix(dt), DT.nr_frags]
    nf = st.data[ix(df), DT.nr_frags]
    st.data_frags[ix(dt), ix(2 * nt)] = st.data[ix(df), DT.head_page]
    st.data_frags[ix(dt), ix(2 * nt + 1)] = st.data[ix(df), DT.head_off]
    for i in range(2 * nf):
        st.data_frags[ix(dt), ix(2 * (nt + 1) + i)] = st.data_frags[ix(df), ix(i)]
        st.data_frags[ix(df), ix(i)] = NONE
    st.data[ix(dt), DT.nr_frags] = nt + 1 + nf
    st.data[ix(df), DT.dataref] = NONE
    _push(st.data_stack, st.glob, G.data_top, df)
    st.skbs[ix(s), SK.data] = NONE
    _push(st.skb_stack, st.glob, G.skb_top, s)


@inner
def buf_steal(st, dt, b):
    """skb_build() on buffer ``b`` and steal_head() of that skb into data area ``dt``, at once (GRO
    merging a segment, rxlab.engine.gro.napi_gro_receive_head): the buffer's page reference becomes
    dt's next frag, and no sk_buff or data area is taken, as the two would be given back at once
    (the tables end as they would). Counted as the skb_build it stands for. The caller checked the
    room in dt and in the skb table."""
    nt = st.data[ix(dt), DT.nr_frags]
    st.data_frags[ix(dt), ix(2 * nt)] = st.bufs[ix(b), BF.page]
    st.data_frags[ix(dt), ix(2 * nt + 1)] = st.bufs[ix(b), BF.offset]
    st.data[ix(dt), DT.nr_frags] = nt + 1
    _buf_forget(st, b)
    st.c[Ctr.skb_build] += 1


@inner
def skb_add_rx_frag(st, s, b, size, truesize):
    """skb_add_rx_frag_netmem(skb, i, netmem, off, size, truesize): driver buffer ``b``'s page
    reference becomes skb ``s``'s next frag, ``size`` packet bytes in it, ``truesize`` charged
    (bnxt's __bnxt_rx_agg_netmems). The caller checked the room."""
    d = st.skbs[ix(s), SK.data]
    nt = st.data[ix(d), DT.nr_frags]
    st.data_frags[ix(d), ix(2 * nt)] = st.bufs[ix(b), BF.page]
    st.data_frags[ix(d), ix(2 * nt + 1)] = st.bufs[ix(b), BF.offset]
    st.data[ix(d), DT.nr_frags] = nt + 1
    _buf_forget(st, b)
    st.skbs[ix(s), SK.len] += size
    st.skbs[ix(s), SK.page_len] += size
    st.skbs[ix(s), SK.truesize] += truesize


@inner
def skb_mark_for_recycle(st, s):
    """skb_mark_for_recycle(): skb ``s``'s pages go back to their page_pool when it is freed."""
    st.data[ix(st.skbs[ix(s), SK.data]), DT.pp_recycle] = TRUE


@inner
def headers_only(st, s):
    """Whether skb ``s``'s head holds its headers only, its data all in frags: once the headers are
    pulled its headlen is 0, which skb_gro_receive() and skb_try_coalesce() merge by moving the frags
    alone. In rxlab that is a kmalloc'ed head with frags and no payload in it (DT.head_data): bnxt's
    header-data split makes one (bnxt_copy_skb of the headers, then the aggregation buffers), and the
    aggregates GRO builds on it (a frame below the HDS threshold has no frags, and a longer head than
    the headers is not copied); mlx5's non-linear striding RQ copies MLX5E_RX_MAX_HEAD bytes, payload
    too, into its kmalloc'ed head, which is then neither stolen nor skipped (skb_head_is_locked)."""
    d = st.skbs[ix(s), SK.data]
    return st.data[ix(d), DT.head_page] == NONE and st.data[ix(d), DT.nr_frags] > 0 and st.data[ix(d), DT.head_data] == 0


@inner
def take_frags(st, dt, s):
    """skb ``s``'s frags move after data area ``dt``'s own and ``s`` is freed, its kmalloc'ed head and
    sk_buff with it, no page (skb_gro_receive's headlen <= offset case, NAPI_GRO_FREE;
    skb_try_coalesce's headlen 0 case, kfree_skb_partial(from, false)). The caller checked the room."""
    ds = st.skbs[ix(s), SK.data]
    nt = st.data[ix(dt), DT.nr_frags]
    ns = st.data[ix(ds), DT.nr_frags]
    for i in range(2 * ns):
        st.data_frags[ix(dt), ix(2 * nt + i)] = st.data_frags[ix(ds), ix(i)]
        st.data_frags[ix(ds), ix(i)] = NONE
    st.data[ix(dt), DT.nr_frags] = nt + ns
    st.data[ix(ds), DT.nr_frags] = 0
    st.data[ix(ds), DT.dataref] = NONE
    _push(st.data_stack, st.glob, G.data_top, ds)
    st.skbs[ix(s), SK.data] = NONE
    _push(st.skb_stack, st.glob, G.skb_top, s)
    st.c[Ctr.skb_free] += 1


@kernel
def skb_try_coalesce(st, to, frm, sizeof_sk_buff_aligned):
    """skb_try_coalesce(to, from): merge ``frm`` into ``to`` by stealing its head into a
    frag of ``to``; returns the truesize delta charged to ``to`` (from->truesize -
    SKB_DATA_ALIGN(sizeof(struct sk_buff))), or -1 when refused: pp_recycle differs,
    either skb is cloned, either has a frag_list (a GRO aggregate that outgrew its frags), a kmalloc'ed
    head cannot be stolen, or no frag slot is left. A ``frm`` whose pulled head is empty
    (headers_only) gives its frags alone if they fit, ``to`` charged its truesize less
    SKB_TRUESIZE(skb_end_offset(from)), the small head's (SKB_SMALL_HEAD_CACHE_SIZE and the sk_buff)."""
    dt = st.skbs[ix(to), SK.data]
    df = st.skbs[ix(frm), SK.data]
    nt = st.data[ix(dt), DT.nr_frags]
    nf = st.data[ix(df), DT.nr_frags]
    frags = np.int64(headers_only(st, frm))
    if (st.data[ix(dt), DT.pp_recycle] != st.data[ix(df), DT.pp_recycle] or st.data[ix(dt), DT.cloned]
            or st.data[ix(df), DT.cloned] or st.data[ix(dt), DT.frag_list] != NONE or st.data[ix(df), DT.frag_list] != NONE
            or (st.data[ix(df), DT.head_page] == NONE and not frags) or nt + nf + 1 - frags > MAX_SKB_FRAGS):
        st.c[Ctr.skb_coalesce_refused] += 1
        return -1
    # a copied-header skb gives its frags and frees its small head too; else its head is stolen
    delta = st.skbs[ix(frm), SK.truesize] - sizeof_sk_buff_aligned - (SKB_SMALL_HEAD_CACHE_SIZE if frags else 0)
    st.skbs[ix(to), SK.truesize] += delta
    st.skbs[ix(to), SK.len] += st.skbs[ix(frm), SK.len]
    st.skbs[ix(to), SK.page_len] += st.skbs[ix(frm), SK.page_len]
    if frags:
        take_frags(st, dt, frm)
    else:
        steal_head(st, dt, frm)
    st.c[Ctr.skb_coalesce] += 1
    return delta


@inner
def _skb_unref(st, s):
    """The sk_buff ``s`` goes (kfree_skbmem); returns its data area if that was its last reference
    (skb_release_data: an atomic on dataref only if it was ever cloned), else NONE."""
    d = st.skbs[ix(s), SK.data]
    st.skbs[ix(s), SK.data] = NONE
    _push(st.skb_stack, st.glob, G.skb_top, s)
    st.c[Ctr.skb_free] += 1
    if st.data[ix(d), DT.cloned]:
        st.c[Ctr.skb_dataref_rmw] += 1
    st.data[ix(d), DT.dataref] -= 1
    return d if st.data[ix(d), DT.dataref] == 0 else NONE


@inner
def _put_pages(st, d, frags, head, cpu, softirq):
    """Drop data area ``d``'s references to its frag pages (``frags``), then to its head page
    (``head``; none for a kmalloc'ed head): one page_ref_put() site, which inlines page_pool's
    return path."""
    pp = st.data[ix(d), DT.pp_recycle]
    n = st.data[ix(d), DT.nr_frags] if frags else 0
    for i in range(n + 1):
        if i < n:
            pid = st.data_frags[ix(d), ix(2 * i)]
            st.data_frags[ix(d), ix(2 * i)] = NONE
            st.data_frags[ix(d), ix(2 * i + 1)] = NONE
        else:
            pid = st.data[ix(d), DT.head_page] if head else NONE
            if pid == NONE:
                return
        page_ref_put(st, pid, pp, cpu, FALSE, softirq)


@kernel
def skb_free(st, s, cpu, softirq):
    """kfree_skb()/napi_consume_skb() on ``cpu``; with the last reference to the data area,
    skb_release_data() returns the frag pages, frees the frag_list chain (kfree_skb_list: a GRO
    aggregate's chained skbs, in order), then the head page (skb_free_head); direct recycling only
    in softirq on the pool's CPU. One loop over the data areas, so that page_pool's return path is
    inlined once (every inlined copy of skb_free carries it)."""
    d = _skb_unref(st, s)
    if d == NONE:
        return
    chain = st.data[ix(d), DT.frag_list]
    st.data[ix(d), DT.frag_list] = NONE
    x, frags, head = d, TRUE, FALSE  # d's frags first; its head after its chain
    while True:
        _put_pages(st, x, frags, head, cpu, softirq)
        if head:
            st.data[ix(x), DT.dataref] = NONE
            _push(st.data_stack, st.glob, G.data_top, x)
            if x == d:
                return
        if chain != NONE:
            nxt = st.skbs[ix(chain), SK.next]
            st.skbs[ix(chain), SK.next] = NONE
            x, frags, head = _skb_unref(st, chain), TRUE, TRUE  # never cloned, nor chain others
            chain = nxt
        else:
            x, frags, head = d, FALSE, TRUE


@kernel
def bufs_pre_alloc(st, order, size, datasize, ring_size, fail_at, out):
    """mana_pre_alloc_rxbufs() (drivers/net/ethernet/microsoft/mana/mana_en.c): ``out``'s length
    of buffers, queue by queue of ``ring_size``, each a page of ``order`` (dev_alloc_pages) of
    ``size`` bytes the driver owns, DMA-mapped for ``datasize`` bytes; allocation ``fail_at``
    fails (-1: none). On a failure, mana_pre_dealloc_rxbufs(): every buffer taken is unmapped and
    put, last first. Returns TRUE when ``out`` holds every buffer, else FALSE."""
    for i in range(out.shape[0]):
        pid = NONE if i == fail_at else page_alloc(st, order, 0)
        if pid == NONE:
            for j in range(i - 1, -1, -1):
                dma_unmap(st)
                buf_put(st, out[j], 0, 0)
            return FALSE
        out[i] = buf_new(st, pid, 0, size, BufKind.page, i // ring_size)
        dma_map(st, datasize)
    return TRUE
