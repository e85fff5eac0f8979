"""The per-CPU page_frag cache behind napi_alloc_frag()/napi_alloc_skb() (mm/page_frag_cache.c).

One compound page of PAGE_FRAG_CACHE_MAX_SIZE (32 KB, at least a page) carved from
offset 0 upwards; its _refcount is raised once by a large bias and pagecnt_bias is
decremented per fragment, so allocation itself needs no atomic.
"""

import numpy as np

from rxlab.counters import Ctr
from rxlab.engine.jit import inner, ix, kernel
from rxlab.engine.layout import FC, NONE, PF, G
from rxlab.engine.pages import RMW, STORE, page_alloc, page_free, touch


@inner
def _refill(st, cpu):
    """__page_frag_cache_refill(): try PAGE_FRAG_CACHE_MAX_ORDER, fall back to order 0;
    then page_ref_add(page, PAGE_FRAG_CACHE_MAX_SIZE)."""
    order = st.fc_cfg[0]
    pid = page_alloc(st, order, cpu)
    if pid == NONE and order > 0:
        order = 0
        pid = page_alloc(st, np.int64(0), cpu)
    f = st.frag_caches[ix(cpu)]
    f[FC.page] = pid
    if pid == NONE:
        return NONE
    touch(st, pid, cpu, RMW)
    st.pages[ix(pid), PF.refcnt] += st.fc_cfg[1]
    f[FC.bias] = st.fc_cfg[1] + 1
    f[FC.offset] = 0
    f[FC.size] = st.glob[G.page_size] << order
    st.c[Ctr.page_frag_refill] += 1
    return pid


@inner
def frag_alloc(st, cpu, fragsz):
    """__page_frag_alloc_align(): (page, offset) of ``fragsz`` bytes, (NONE, 0) on failure.

    When the slice does not fit, the cache drops its remaining bias in one
    page_ref_sub_and_test(); if that was the last reference the same page is reused
    in place (set_page_count), otherwise it is left to its fragments and a new page taken.
    """
    f = st.frag_caches[ix(cpu)]
    if f[FC.page] == NONE and _refill(st, cpu) == NONE:
        return NONE, 0
    offset = f[FC.offset]
    if offset + fragsz > f[FC.size]:
        pid = f[FC.page]
        touch(st, pid, cpu, RMW)
        st.pages[ix(pid), PF.refcnt] -= f[FC.bias]
        if st.pages[ix(pid), PF.refcnt] == 0:
            touch(st, pid, cpu, STORE)
            st.pages[ix(pid), PF.refcnt] = st.fc_cfg[1] + 1
            f[FC.bias] = st.fc_cfg[1] + 1
            st.c[Ctr.page_frag_reuse] += 1
        elif _refill(st, cpu) == NONE:
            return NONE, 0
        offset = 0
    f[FC.bias] -= 1
    f[FC.offset] = offset + fragsz
    st.c[Ctr.page_frag_alloc] += 1
    return f[FC.page], offset


@kernel
def frag_cache_drain(st, cpu):
    """__page_frag_cache_drain(page, pagecnt_bias): the cache lets go of its page."""
    f = st.frag_caches[cpu]
    pid = f[FC.page]
    if pid == NONE:
        return
    f[FC.page] = NONE
    touch(st, pid, cpu, RMW)
    st.pages[pid, PF.refcnt] -= f[FC.bias]
    f[FC.bias] = 0
    if st.pages[pid, PF.refcnt] == 0:
        page_free(st, pid)


