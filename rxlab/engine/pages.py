"""The page allocator and the struct page cache line.

_refcount and pp_ref_count live in the same 64-byte struct page, so every access
is charged to one line; an access by a CPU other than the line's last writer is a
cache-line transfer (counted as *_remote).
"""

import numpy as np

from rxlab.counters import Ctr
from rxlab.engine.jit import inner, ix, kernel
from rxlab.engine.layout import NONE, PF, G, Loc

# int64 values, not literal ints: one compilation of touch() for the three kinds (layout.TRUE)
RMW = np.int64(0)
STORE = np.int64(1)
READ = np.int64(2)


@inner
def touch(st, pid, cpu, kind):
    """Count one access of ``kind`` (RMW, STORE, READ) to page ``pid``'s struct page line."""
    last = st.pages[ix(pid), PF.last_cpu]
    remote = last != NONE and last != cpu
    if kind == RMW:
        st.c[Ctr.atomic_rmw] += 1
        if remote:
            st.c[Ctr.atomic_rmw_remote] += 1
        st.pages[ix(pid), PF.last_cpu] = cpu
    elif kind == STORE:
        st.c[Ctr.refcnt_store] += 1
        if remote:
            st.c[Ctr.refcnt_store_remote] += 1
        st.pages[ix(pid), PF.last_cpu] = cpu
    elif remote:
        st.c[Ctr.refcnt_read_remote] += 1


@kernel
def page_alloc(st, order, cpu):
    """alloc_pages(gfp, order): a page with _refcount 1, or NONE (counted in page_alloc_fail)
    when no slot is left or the memory limit would be passed."""
    size = st.glob[G.page_size] << order
    top = st.glob[G.page_top]
    if top == 0 or st.glob[G.mem_used] + size > st.glob[G.mem_limit]:
        st.c[Ctr.page_alloc_fail] += 1
        return NONE
    top -= 1
    st.glob[G.page_top] = top
    pid = st.page_stack[ix(top)]
    p = st.pages[ix(pid)]
    p[PF.loc] = Loc.in_use
    p[PF.refcnt] = 1
    p[PF.ppref] = 0
    p[PF.pool] = NONE
    p[PF.order] = order
    p[PF.dma] = 0
    p[PF.last_cpu] = cpu
    p[PF.users] = 0
    p[PF.ext] = 0
    st.glob[G.mem_used] += size
    st.c[ix(Ctr.page_alloc_order0 + min(order, 3))] += 1
    return pid


@inner
def page_free(st, pid):
    """Give a page whose _refcount reached 0 back to the page allocator."""
    order = st.pages[ix(pid), PF.order]
    st.pages[ix(pid), PF.loc] = Loc.free
    st.pages[ix(pid), PF.last_cpu] = NONE
    st.glob[G.mem_used] -= st.glob[G.page_size] << order
    top = st.glob[G.page_top]
    st.page_stack[ix(top)] = pid
    st.glob[G.page_top] = top + 1
    st.c[ix(Ctr.page_free_order0 + min(order, 3))] += 1


@inner
def put_page(st, pid, cpu):
    """put_page(): page_ref_dec_and_test(), freeing the page at zero (include/linux/mm.h)."""
    touch(st, pid, cpu, RMW)
    st.pages[ix(pid), PF.refcnt] -= 1
    if st.pages[ix(pid), PF.refcnt] == 0:
        page_free(st, pid)


@kernel
def get_page(st, pid, cpu):
    """get_page() by a holder outside rxlab's buffers (splice, zero-copy receive, ...)."""
    touch(st, pid, cpu, RMW)
    st.pages[pid, PF.refcnt] += 1
    st.pages[pid, PF.ext] += 1


@kernel
def put_ext(st, pid, cpu):
    """That outside holder's put_page()."""
    st.pages[pid, PF.ext] -= 1
    put_page(st, pid, cpu)
