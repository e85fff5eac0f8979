"""The one decorator for engine kernels.

``_nrt=False``: engine kernels never allocate, and without it numba reference-counts
every array of the State namedtuple on each call (two atomics per array, ~100 ns a
call), which dominated the per-packet cost. Functions that allocate (the invariant
scan) use plain ``njit(cache=True)``.

``forceinline=True``: LLVM's ``alwaysinline`` on every kernel, so the whole RX path is
inlined into ``run`` by LLVM (cheap to compile, unlike numba's IR-level ``inline=``).
A call that is not inlined passes the State's 16 arrays as ~130 scalar arguments
(~80 ns); inlined, the arguments vanish. Measured: 3.5 -> 13 M packets/s.

``cache=True`` keys each function's cache on its own source file only, while a cached
kernel holds the code of every kernel inlined into it: ``rxlab.engine.cache`` drops the
engine's cache whenever any engine source changes.
"""

from numba import njit

kernel = njit(cache=True, _nrt=False, forceinline=True)
