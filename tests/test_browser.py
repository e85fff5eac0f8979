"""The offline HTML reports in a real browser: headless Chromium opens each page from disk with the
network disabled; no console error, no failed request, every figure loaded, the claims scoreboard shown."""

import io
import re
from pathlib import Path

import pytest
from headless import Watch, launch

import rxlab
from rxlab.studies.claims import QUICK_PACKETS, evaluate_claims
from rxlab.views import notebooks
from rxlab.views.report import build_reports, scoreboard_html

pytestmark = pytest.mark.slow


def local(url):
    """Reports may load files next to them and inline data, nothing else."""
    return url.startswith(("file:", "data:"))


@pytest.fixture(scope="module")
def visited(tmp_path_factory, executed_notebook):
    """Build the reports in quick mode, as ``rxlab report --quick`` does (tests/test_report.py runs the
    command itself), from the notebooks this session already executed, then open index.html and every
    page in the output directory."""
    out = tmp_path_factory.mktemp("reports")
    shots = tmp_path_factory.mktemp("screenshots")
    board = scoreboard_html(evaluate_claims(packets=QUICK_PACKETS), QUICK_PACKETS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(notebooks, "execute", lambda path, quick: executed_notebook(path))
        _, failed = build_reports(out, quick=True, scoreboard=board, log=io.StringIO())
    assert not failed
    names = ["index.html"] + sorted(p.name for p in out.glob("*.html") if p.name != "index.html")
    pages = {}
    with launch() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
        for name in names:
            page = context.new_page()
            watch = Watch(page, local)
            page.goto((out / name).as_uri(), wait_until="load", timeout=60_000)
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => ({src: e.src.slice(0, 80), ok: e.complete && e.naturalWidth > 0}))")
            links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
            board = page.query_selector("#claims-scoreboard")
            shot = shots / f"{Path(name).stem}.png"
            page.screenshot(path=shot, full_page=True, timeout=60_000)
            print(f"screenshot of {name}: {shot}")
            pages[name] = {"problems": watch.problems, "images": images, "links": links,
                           "board": board.inner_text() if board and board.is_visible() else None}
            page.close()
        context.close()
    return pages


def test_every_page_opens_offline_without_errors(visited):
    problems = {name: p["problems"] for name, p in visited.items() if p["problems"]}
    assert not problems


def test_index_links_every_report(visited):
    linked = {h for h in visited["index.html"]["links"] if not re.match(r"[a-z]+:|#", h)}
    assert linked == set(visited) - {"index.html"}


def test_every_figure_loaded(visited):
    for name, p in visited.items():
        if name != "index.html":
            assert p["images"], f"{name} shows no figure"
        broken = [i["src"] for i in p["images"] if not i["ok"]]
        assert not broken, f"{name}: images that did not load: {broken}"


def test_index_shows_the_claims_scoreboard(visited):
    assert visited["index.html"]["board"], "index.html has no visible element with id claims-scoreboard"


def test_scoreboard_judges_every_claim(visited):
    board = visited["index.html"]["board"] or ""
    missing = [c for c in rxlab.load_claims()["id"] if c not in board]
    assert not missing, f"claims missing from the scoreboard: {missing}"
    assert "ESTIMATE" in board and "not reproduced" in board and "reproduced" in board
