"""README.md's tour runs as written: its Python examples are doctests (both passes: small runs)."""

import doctest
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the sweep example writes its cache into the working folder
    monkeypatch.setenv("RXLAB_CACHE_DIR", str(tmp_path / "cache"))
    failures, tried = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert tried >= 8 and failures == 0


def test_readme_stays_short():
    assert len(README.read_bytes()) <= 8192
