"""The decorators of engine kernels (``kernel``, ``inner``, ``called``), and the freshness of their
on-disk cache.

``_nrt=False``: engine kernels never allocate, and without it numba reference-counts
every array of the State namedtuple on each call (two atomics per array, ~100 ns a
call), which dominated the per-packet cost. Functions that allocate (the invariant
scan) use plain ``njit(cache=True)``.

``forceinline=True``: LLVM's ``alwaysinline`` on every kernel, so the whole RX path is
inlined into ``run`` by LLVM (cheap to compile, unlike numba's IR-level ``inline=``).
A call that is not inlined passes every array's pointer and shape as scalar arguments (measured when
the State had 16 arrays: ~130 arguments, ~80 ns; the State and Rx now hold 53); inlined, the arguments
vanish. Measured: 3.5 -> 13 M packets/s.

Compile time (a cold start compiles the engine): numba compiles every kernel on its own, once
per distinct signature of argument types, before its callers inline it; so kernels pass each
other int64 flags, never literals (``layout.TRUE``), and ``run`` inlines ``rx_packet`` at one
place. No kernel gets the C-callable wrapper numba makes for first-class function use
(``no_cfunc_wrapper``), and a kernel only other kernels call is declared ``@inner``: no CPython
wrapper either (it would unbox the State's and Rx's namedtuples of arrays, for nothing). An
``@inner`` kernel cannot be called from Python when compiled; use ``@kernel`` for that.

Compile time also grows with every inlined copy of a kernel: LLVM optimises and emits each copy in
``run``, and ``skb_free`` or TCP's receive path inlined at many call sites made ``run`` alone take
most of a 216 CPU s cold compile. So a kernel with a large inlined tree is called from one place
where it can be (one ``page_ref_put`` in ``skb_free``, one ``skb_free`` for TCP's drops), and a large
path the loop rarely takes is a ``@called`` kernel: a function of its own that its caller calls,
paying a real call (the State's and Rx's arrays as arguments) only when it runs.

``cache=True`` keys each function's cache on its own source file only, while a cached
kernel holds the code of every kernel inlined into it and the counter and layout constants
are compiled in: after an edit to ``page_pool.py`` (or a ``git pull`` that changes only it),
``loop.run`` would load stale machine code. So the cache directory carries a digest of every
source the engine compiles (its own modules, ``rxlab/counters.py`` and the ``rxlab/kernel``
constants it compiles in), and a different digest drops the whole directory's entries
(:func:`ensure_fresh`, run once when the engine is first used: every use starts with
``make_state``, before any kernel is compiled or loaded).
"""

import hashlib
import os
import sys
import time
from pathlib import Path

from numba import njit, types
from numba.core.base import BaseContext
from numba.core.extending import intrinsic, overload

from rxlab.atomic import atomic_path

STAMP = "rxlab-engine-sources.sha256"


def sources_digest():
    """sha256 over the engine's modules, rxlab/counters.py and rxlab/kernel/*.py, in a fixed order."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(here.glob("*.py")) + [here.parent / "counters.py"] + sorted(here.parent.glob("kernel/*.py")):
        h.update(path.relative_to(here.parent).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def drop_if_stale(cache_dir, digest):
    """Delete numba's index and data files in ``cache_dir`` unless its stamp is ``digest``;
    then stamp it. Returns the number of files deleted."""
    cache_dir = Path(cache_dir)
    stamp = cache_dir / STAMP
    if stamp.is_file() and stamp.read_text().strip() == digest:
        return 0
    cache_dir.mkdir(parents=True, exist_ok=True)
    gone = 0
    for f in list(cache_dir.glob("*.nbi")) + list(cache_dir.glob("*.nbc")):
        f.unlink(missing_ok=True)  # another process may be dropping the same files
        gone += 1
    with atomic_path(stamp) as tmp:
        Path(tmp).write_text(digest + "\n")
    return gone


def engine_cache_dir():
    """The directory numba caches this package's engine kernels in (the first of numba's
    locators that accepts the engine's folder, as numba itself picks it), or None."""
    from numba.core import caching

    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # renamed in numba 0.61
    def probe():
        pass

    probe.__module__ = __name__
    for cls in impl._locator_classes:
        locator = cls.from_function(probe, __file__)
        if locator is not None:
            return locator.get_cache_path()
    return None


ENGINE_PACKAGE = __name__.rpartition(".")[0]  # rxlab.engine


def _is_engine(dispatcher):
    return getattr(getattr(dispatcher, "py_func", None), "__module__", "").startswith(ENGINE_PACKAGE + ".")


def engine_kernels():
    """Every compiled kernel of the engine's modules loaded so far (numba dispatchers), by name."""
    from numba.core.dispatcher import Dispatcher

    out = {}
    for name, mod in list(sys.modules.items()):
        if name.startswith(ENGINE_PACKAGE + ".") and mod is not None:
            for v in vars(mod).values():
                if isinstance(v, Dispatcher) and _is_engine(v):
                    out[f"{v.py_func.__module__}.{v.py_func.__name__}"] = v
    return out


class CompileProgress:
    """Says, once per process, that the engine is being compiled (numba found no cached machine
    code for it: the first use on a machine, or after an edit to its sources), and shows each engine
    kernel compiled as k/N on a progress bar (tqdm: a widget in a notebook, text on stderr
    elsewhere). numba's ``numba:compile`` event fires only for a real compilation, never for code
    loaded from its cache, so a warm start says nothing."""

    MESSAGE = ("rxlab: compiling the engine with numba (no compiled code cached for it yet: the first use "
               "on this machine or after an edit to rxlab/engine; about 2 CPU minutes, then cached on disk)")

    def __init__(self, out=None):
        self.out = out  # a text stream (default sys.stderr when it fires)
        self.said = False
        self.bar = None
        self.done = set()
        self.started = 0.0

    def on_start(self, event):
        d = event.data["dispatcher"]
        if not _is_engine(d) or self.said and self.bar is None:
            return
        if not self.said:
            self.said = True
            self.started = time.monotonic()
            out = self.out or sys.stderr
            print(self.MESSAGE, file=out, flush=True)
            from tqdm.auto import tqdm

            self.bar = tqdm(total=len(engine_kernels()), desc="rxlab: compiling", unit="kernel", file=out,
                            leave=True, mininterval=0.5)
        self.bar.set_postfix_str(d.py_func.__name__, refresh=False)

    def on_end(self, event):
        d = event.data["dispatcher"]
        if self.bar is None or not _is_engine(d) or d in self.done:
            return
        self.done.add(d)
        self.bar.update(1)

    def finish(self):
        """Close the bar (the run that compiled is over) with the count and the time it took."""
        if self.bar is not None:
            # a run compiles only the kernels it reaches (N counts them all): the bar ends full
            self.bar.total = len(self.done)
            self.bar.set_postfix_str(f"{len(self.done)} kernels in {time.monotonic() - self.started:.0f} s")
            self.bar.close()
            self.bar = None


def _listener(progress):
    from numba.core import event

    class Listener(event.Listener):
        def on_start(self, e):
            progress.on_start(e)

        def on_end(self, e):
            progress.on_end(e)

    return Listener()


PROGRESS = CompileProgress()


def compile_finished():
    """Called when a simulation is over: a compilation it started is done (closes the progress bar)."""
    PROGRESS.finish()


_fresh = False


def ensure_fresh():
    """Drop a stale engine cache, once per process, before the first kernel is loaded; and from then on
    say when the engine is compiled (:class:`CompileProgress`)."""
    global _fresh
    if _fresh or os.environ.get("NUMBA_DISABLE_JIT") == "1":
        return
    _fresh = True
    from numba.core import event

    event.register("numba:compile", _listener(PROGRESS))
    cache_dir = engine_cache_dir()
    if cache_dir is not None:
        try:
            drop_if_stale(cache_dir, sources_digest())
        except OSError:
            pass  # a read-only cache cannot be written stale by us either


def ix(i):
    """A row or slot index into an engine table, never negative: ``i`` itself (checked) in Python.
    Compiled, the same bits as an unsigned integer, which numba indexes as is, where a signed index
    gets the wraparound ``i + n if i < 0 else i`` (a shift, an and and an add, with the dimension ``n``
    kept live across the inlined loop): about 90 instructions a packet over the RX path. For an index
    only: its value is unsigned (arithmetic on it would mix signed and unsigned, which numba types as
    float64)."""
    if i < 0:
        raise IndexError(f"negative index {i} into an engine table")
    return i


@intrinsic
def _unsigned(typingctx, i):
    def codegen(context, builder, sig, args):
        return context.cast(builder, args[0], sig.args[0], types.uintp)

    return types.uintp(i), codegen


@overload(ix)
def _ix(i):
    if isinstance(i, types.Integer):
        return lambda i: _unsigned(i)
    return None


kernel = njit(cache=True, _nrt=False, forceinline=True, no_cfunc_wrapper=True)
"""A kernel: called by other kernels and from Python."""

inner = njit(cache=True, _nrt=False, forceinline=True, no_cfunc_wrapper=True, no_cpython_wrapper=True)
"""A kernel only other kernels call (not callable from Python when compiled)."""


_CALLED = set()  # (module, qualified name) of the @called kernels, which LLVM must not inline


def called(fn):
    """A kernel its callers call rather than inline: for a large path a loop rarely takes
    (rxlab.engine.napi.rx_packet_call); the kernels it calls are inlined into it. Leaving out
    ``forceinline`` is not enough: numba still marks such a kernel ``alwaysinline`` when a forceinline
    kernel calls it (its function descriptor's ``inline``), so LLVM inlined it at every call site
    (``loop.run`` held four copies of ``rx_packet_call`` and took 160 CPU s to compile); its
    declaration and definition are marked ``noinline`` instead."""
    _CALLED.add((fn.__module__, fn.__qualname__))
    return njit(cache=True, _nrt=False, no_cfunc_wrapper=True, no_cpython_wrapper=True)(fn)


def _declare_function(self, module, fndesc, _declare=BaseContext.declare_function):
    if (fndesc.modname, fndesc.qualname) not in _CALLED:
        return _declare(self, module, fndesc)
    fndesc.inline = False
    fn = _declare(self, module, fndesc)
    fn.attributes.add("noinline")
    return fn


BaseContext.declare_function = _declare_function
