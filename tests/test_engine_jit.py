"""The engine's numba cache is dropped when any engine source changes (rxlab/engine/jit.py)."""

from pathlib import Path

import pytest

from rxlab.engine import jit


def test_a_different_digest_drops_every_cached_kernel(tmp_path):
    for name in ("loop.run-300.py311.nbi", "loop.run-300.py311.1.nbc", "keep.txt"):
        (tmp_path / name).write_text("x")
    assert jit.drop_if_stale(tmp_path, "aaa") == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt", jit.STAMP]
    (tmp_path / "pages.page_alloc-40.py311.nbi").write_text("x")
    assert jit.drop_if_stale(tmp_path, "aaa") == 0  # same sources: the cache stays
    assert (tmp_path / "pages.page_alloc-40.py311.nbi").exists()
    assert jit.drop_if_stale(tmp_path, "bbb") == 1
    assert (tmp_path / jit.STAMP).read_text().strip() == "bbb"
    assert not list(tmp_path.glob(jit.STAMP + "?*"))  # no temporary stamp left behind


def test_an_edit_to_any_compiled_source_changes_the_digest_and_nothing_else_does(tmp_path, monkeypatch):
    """Every file whose code or constants the kernels compile in (engine/, counters.py, kernel/)
    is in the digest; a file the engine never imports is not."""
    import shutil

    root = Path(jit.__file__).parent.parent
    copy = tmp_path / "rxlab"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(jit, "__file__", str(copy / "engine" / "jit.py"))
    compiled = sorted(copy.glob("engine/*.py")) + [copy / "counters.py"] + sorted(copy.glob("kernel/*.py"))
    assert {"loop.py", "page_pool.py", "layout.py", "mana.py", "sizes.py"} <= {p.name for p in compiled}
    before = jit.sources_digest()
    assert len(before) == 64 and jit.sources_digest() == before
    for path in compiled:
        with open(path, "a") as f:
            f.write("\n# an edit\n")
        after = jit.sources_digest()
        assert after != before, path
        before = after
    with open(copy / "model" / "config.py", "a") as f:
        f.write("\n# an edit\n")
    assert jit.sources_digest() == before


@pytest.mark.jit_only
def test_the_stamped_directory_is_where_numba_caches_the_engine():
    from rxlab.engine.loop import run

    jit.ensure_fresh()  # as every use does first (make_state): stamps the directory
    assert Path(run._cache._cache_path) == Path(jit.engine_cache_dir())
    assert (Path(jit.engine_cache_dir()) / jit.STAMP).read_text().strip() == jit.sources_digest()


# A process with an empty numba cache: its first compilation of engine code says so once and counts the
# kernels it compiles; a later one says nothing. Two tiny functions stand in for the engine's kernels
# (their module is under rxlab.engine), so no minute-long compile of the real engine is needed.
FIRST_USE = r"""
import sys
from numba import njit
from rxlab.engine import jit

jit.ensure_fresh()
def probe(x):
    return x + 1
def other(x):
    return probe(x) * 2
probe.__module__ = other.__module__ = "rxlab.engine.probe"
probe = njit(cache=False)(probe)
other = njit(cache=False)(other)
assert other(1) == 4 and probe(2.0) == 3.0  # three compilations: probe(int), other(int), probe(float)
jit.compile_finished()
def late(x):
    return x
late.__module__ = "rxlab.engine.probe"
assert njit(cache=False)(late)(1) == 1  # compiled after the first use was over: nothing said
print("compiled:", len(jit.PROGRESS.done), file=sys.stderr)
"""


@pytest.mark.jit_only  # numba's compile events fire only when it compiles
def test_the_first_compilation_is_announced_once_with_progress(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=str(Path(jit.__file__).parents[2]))
    env.pop("NUMBA_DISABLE_JIT", None)
    done = subprocess.run([sys.executable, "-c", FIRST_USE], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    err = done.stderr
    assert err.count(jit.CompileProgress.MESSAGE) == 1
    assert "rxlab: compiling" in err and "kernel" in err  # the bar: k/N kernels
    assert "compiled: 2" in err  # two engine kernels (probe once, however many signatures), late not counted


def test_once_compiled_or_loaded_the_engine_says_nothing(capsys):
    """Once the engine is compiled in this process (or loaded from numba's cache), a simulation says
    nothing, whatever it runs; and no progress bar is left open."""
    from rxlab import SimConfig, simulate

    simulate(SimConfig(packets=200, queues=1, ring_size=128))  # may compile (a stale or empty cache)
    capsys.readouterr()
    simulate(SimConfig(packets=200, queues=1, ring_size=128, strategy="full_page", page_size=16384))
    err = capsys.readouterr().err
    assert jit.CompileProgress.MESSAGE not in err and "rxlab: compiling" not in err
    assert jit.PROGRESS.bar is None
