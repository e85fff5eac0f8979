"""The accounting core: page allocator, page_pool, page_frag cache and skb lifetimes.

Plain ``@njit(cache=True)`` functions over the arrays of a :class:`State`
(a namedtuple, so the same code runs under NUMBA_DISABLE_JIT=1).
"""
