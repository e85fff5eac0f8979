"""The HTML report is standalone: inline figures, no network references."""

import re

from rxlab.report import build_reports


def test_geometry_report(tmp_path):
    with open(tmp_path / "log", "w") as log:
        index = build_reports(tmp_path / "r", log=log)
    assert index.name == "index.html"
    page = (tmp_path / "r" / "geometry.html").read_text()
    assert 'src="data:image/png;base64,' in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "<table" in page and "1856" in page
    assert 'href="geometry.html"' in index.read_text()
    assert not list((tmp_path / "r").glob("*.tmp"))
