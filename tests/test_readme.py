"""README.md's tour runs as written: its Python examples are doctests (both passes: small runs)."""

import doctest
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the sweep example writes its cache into the working folder
    monkeypatch.setenv("RXLAB_CACHE_DIR", str(tmp_path / "cache"))
    failures, tried = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert tried >= 8 and failures == 0


def test_readme_stays_short():
    assert len(README.read_bytes()) <= 8192


@pytest.mark.no_engine
def test_the_tour_figure_is_drawn_by_its_script(tmp_path):
    """docs/tour.png comes from docs/make_tour.py run on the current code (same size, the README names
    the script), so that regenerating it is one command."""
    import importlib.util

    from PIL import Image

    script = README.parent / "docs" / "make_tour.py"
    spec = importlib.util.spec_from_file_location("make_tour", script)
    make_tour = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_tour)
    drawn = make_tour.make_tour(tmp_path / "tour.png")
    assert Image.open(drawn).size == Image.open(make_tour.TOUR).size
    assert "docs/make_tour.py" in README.read_text()
