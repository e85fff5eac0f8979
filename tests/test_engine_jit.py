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


def test_the_digest_covers_every_engine_module_the_counters_and_the_kernel_constants():
    engine = Path(jit.__file__).parent
    sources = {p.name for p in engine.glob("*.py")}
    assert {"loop.py", "page_pool.py", "layout.py", "jit.py"} <= sources
    assert len(jit.sources_digest()) == 64


def test_an_edit_to_any_engine_module_changes_the_digest(tmp_path, monkeypatch):
    import shutil

    engine = Path(jit.__file__).parent
    copy = tmp_path / "rxlab" / "engine"
    shutil.copytree(engine, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(engine.parent / "counters.py", copy.parent / "counters.py")
    shutil.copytree(engine.parent / "kernel", copy.parent / "kernel", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(jit, "__file__", str(copy / "jit.py"))
    before = jit.sources_digest()
    assert before == jit.sources_digest()
    for name in ("page_pool.py", "../counters.py", "../kernel/pagepool.py"):
        with open(copy / name, "a") as f:
            f.write("\n# an edit\n")
        after = jit.sources_digest()
        assert after != before
        before = after


@pytest.mark.jit_only
def test_the_stamped_directory_is_where_numba_caches_the_engine():
    from rxlab.engine.loop import run

    assert Path(run._cache._cache_path) == Path(jit.engine_cache_dir())
    assert (Path(jit.engine_cache_dir()) / jit.STAMP).read_text().strip() == jit.sources_digest()
