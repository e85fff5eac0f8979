"""The one decorator for engine kernels.

``_nrt=False``: engine kernels never allocate, and without it numba reference-counts
every array of the State namedtuple on each call (two atomics per array, ~100 ns a
call), which dominated the per-packet cost. Functions that allocate (the invariant
scan) use plain ``njit(cache=True)``.
"""

from numba import njit

kernel = njit(cache=True, _nrt=False)
