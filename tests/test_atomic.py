"""rxlab.atomic: a file is written whole or not at all."""

import os
from pathlib import Path

import pytest

from rxlab.atomic import atomic_path

pytestmark = pytest.mark.no_engine  # no engine code here: the compiled pass only (CONTRIBUTING.md)


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    target = tmp_path / "r.html"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        Path(tmp).write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["r.html"]
    with atomic_path(target) as tmp:
        Path(tmp).write_text("new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["r.html"]
    assert target.stat().st_mode & 0o777 == 0o644
