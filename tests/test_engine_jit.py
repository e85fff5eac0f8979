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

    assert Path(run._cache._cache_path) == Path(jit.engine_cache_dir())
    assert (Path(jit.engine_cache_dir()) / jit.STAMP).read_text().strip() == jit.sources_digest()
