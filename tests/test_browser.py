"""The offline HTML reports in a real browser: headless Chromium opens each page from disk with the
network disabled, once with scripts on and once with scripts off; no console error, no failed request,
every figure loaded, the claims scoreboard shown; on the explorable sweeps page a control is moved and
the figure changes. Screenshots of every page go to ``$RXLAB_ARTIFACTS`` (default tmp/artifacts/browser
in the checkout, ignored by git)."""

import hashlib
import io
import os
import re
from pathlib import Path

import pytest
from headless import Watch, launch

import rxlab
from rxlab.studies.claims import QUICK_PACKETS, evaluate_claims
from rxlab.views import explorable, notebooks
from rxlab.views.report import EXPLORE_PAGE, build_reports

pytestmark = pytest.mark.slow

ROOT = Path(rxlab.__file__).resolve().parents[1]
# a small grid: the page and its controls are the same as with the report's own grid, in seconds
TINY = {"mtu": (1500, 9000), "page_size": (4096, 65536), "xdp": ("off", "on"), "connections": (1,)}
WIDTH = 1280  # the viewport; a report page's body is at most 1200 px wide


def local(url):
    """Reports may load files next to them and inline data, nothing else."""
    return url.startswith(("file:", "data:"))


def artifacts():
    path = Path(os.environ.get("RXLAB_ARTIFACTS") or ROOT / "tmp" / "artifacts" / "browser")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _digest(src):
    return hashlib.sha256(src.encode()).hexdigest()[:16]


def _figure(page):
    """The explorable figure's state: its key, a digest of its image and its caption."""
    return page.eval_on_selector("#rxlab-explore-img", "e => ({key: e.getAttribute('data-key'), src: e.src, "
                                 "ok: e.complete && e.naturalWidth > 0})") | {
        "caption": page.inner_text("#rxlab-explore-caption")}


def _move_control(page, shots):
    """Change the swept axis, then a held value, on the explorable page: the figure after each."""
    before = _figure(page)
    page.select_option("#rxlab-explore-controls select[name=axis]", "mtu")
    page.wait_for_function("k => document.getElementById('rxlab-explore-img').getAttribute('data-key') !== k",
                           arg=before["key"], timeout=10_000)
    after_axis = _figure(page)
    mtu_disabled = page.eval_on_selector("#rxlab-explore-controls select[name=mtu]", "e => e.disabled")
    page.select_option("#rxlab-explore-controls select[name=xdp]", "on")
    page.wait_for_function("k => document.getElementById('rxlab-explore-img').getAttribute('data-key') !== k",
                           arg=after_axis["key"], timeout=10_000)
    after_held = _figure(page)
    page.screenshot(path=shots / "explore-moved.png", full_page=True, timeout=60_000)
    return {"before": before, "after_axis": after_axis, "after_held": after_held, "mtu_disabled": mtu_disabled}


def _visit(context, out, name, shots, tag, scripts):
    page = context.new_page()
    watch = Watch(page, local)
    page.goto((out / name).as_uri(), wait_until="load", timeout=60_000)
    images = page.eval_on_selector_all(
        "img", "els => els.map(e => ({src: e.src.slice(0, 80), ok: e.complete && e.naturalWidth > 0}))")
    links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    board = page.query_selector("#claims-scoreboard")
    # the widest table or figure: none wider than the page's body (readable at 100 % zoom)
    widest = page.evaluate("Math.max(0, ...[...document.querySelectorAll('table, .output_subarea img, #rxlab-explore img')]"
                           ".map(e => e.getBoundingClientRect().width))")
    body_width = page.evaluate("document.body.getBoundingClientRect().width")
    code_open = page.evaluate("[...document.querySelectorAll('details.rxlab-code')].filter(d => d.open).length")
    shown = "[...document.querySelectorAll('.input_area')].filter(e => e.checkVisibility()).length"
    code_visible = page.evaluate(shown)
    code_opened = None
    if page.query_selector("details.rxlab-code > summary"):  # a reader opens the first code cell
        page.click("details.rxlab-code > summary")
        code_opened = page.evaluate(shown)
        page.click("details.rxlab-code > summary")
    got = {"problems": watch.problems, "images": images, "links": links, "widest": widest,
           "body_width": body_width, "code_open": code_open, "code_visible": code_visible, "code_opened": code_opened,
           "board": board.inner_text() if board and board.is_visible() else None}
    if name == EXPLORE_PAGE:
        got["controls_visible"] = page.is_visible("#rxlab-explore-controls")
        got["static_note_visible"] = page.is_visible("#rxlab-explore-static")
        got["figure"] = _figure(page)
        if scripts:
            got["moved"] = _move_control(page, shots)
            got["problems"] = watch.problems
    shot = shots / f"{Path(name).stem}-{tag}.png"
    page.screenshot(path=shot, full_page=True, timeout=60_000)
    print(f"screenshot of {name} ({tag}): {shot}")
    page.close()
    return got


@pytest.fixture(scope="module")
def visited(tmp_path_factory, executed_notebook):
    """Build the reports in quick mode, as ``rxlab report --quick`` does (tests/test_report.py runs the
    command itself), from the notebooks this session already executed and with a small explorable grid,
    then open index.html and every page in the output directory with scripts on and with scripts off."""
    out = tmp_path_factory.mktemp("reports")
    shots = artifacts()
    claims = evaluate_claims(packets=QUICK_PACKETS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(notebooks, "execute", lambda path, quick: executed_notebook(path))
        mp.setattr(explorable, "PLATFORMS", ("typical_arm64", "affected_arm64"))
        _, failed = build_reports(out, quick=True, claims=(claims, QUICK_PACKETS), explore={"grid": TINY},
                                  log=io.StringIO())
    assert not failed
    names = ["index.html"] + sorted(p.name for p in out.glob("*.html") if p.name != "index.html")
    pages = {"sizes": {name: (out / name).stat().st_size for name in names}}
    with launch() as browser:
        for tag, scripts in (("scripts-on", True), ("scripts-off", False)):
            context = browser.new_context(viewport={"width": WIDTH, "height": 900}, offline=True,
                                          java_script_enabled=scripts)
            pages[tag] = {name: _visit(context, out, name, shots, tag, scripts) for name in names}
            context.close()
    return pages


MODES = ("scripts-on", "scripts-off")


def test_every_page_under_10_mb(visited):
    assert visited["sizes"] and all(size < explorable.MAX_PAGE_BYTES for size in visited["sizes"].values()), \
        visited["sizes"]


@pytest.mark.parametrize("mode", MODES)
def test_every_page_opens_offline_without_errors(visited, mode):
    problems = {name: p["problems"] for name, p in visited[mode].items() if p["problems"]}
    assert not problems


def test_index_links_every_report(visited):
    pages = visited["scripts-on"]
    linked = {re.sub(r"#.*", "", h) for h in pages["index.html"]["links"] if not re.match(r"[a-z]+:|#", h)}
    assert linked == set(pages) - {"index.html"}


@pytest.mark.parametrize("mode", MODES)
def test_every_figure_loaded(visited, mode):
    for name, p in visited[mode].items():
        if name != "index.html":
            assert p["images"], f"{name} shows no figure"
        broken = [i["src"] for i in p["images"] if not i["ok"]]
        assert not broken, f"{name}: images that did not load: {broken}"


@pytest.mark.parametrize("mode", MODES)
def test_tables_and_figures_fit_the_page(visited, mode):
    for name, p in visited[mode].items():
        assert p["widest"] <= p["body_width"] + 1, f"{name}: a table or figure {p['widest']} px wide"


@pytest.mark.parametrize("mode", MODES)
def test_code_is_folded_and_opens(visited, mode):
    for name, p in visited[mode].items():
        assert p["code_open"] == 0 and p["code_visible"] == 0, name
        if name.startswith(tuple("0123456789")):
            assert p["code_opened"] == 1, name


@pytest.mark.parametrize("mode", MODES)
def test_index_shows_the_claims_scoreboard(visited, mode):
    assert visited[mode]["index.html"]["board"], "index.html has no visible element with id claims-scoreboard"


def test_scoreboard_judges_every_claim_and_links_its_section(visited):
    pages = visited["scripts-on"]
    board = pages["index.html"]["board"] or ""
    missing = [c for c in rxlab.load_claims()["id"] if c not in board]
    assert not missing, f"claims missing from the scoreboard: {missing}"
    assert "ESTIMATE" in board and "not reproduced" in board and "reproduced" in board
    sections = [h for h in pages["index.html"]["links"] if re.match(r"\d\d_\w+\.html#.+", h)]
    assert len(sections) == len(rxlab.load_claims())


def test_explore_page_without_scripts_shows_the_default_figure(visited):
    p = visited["scripts-off"][EXPLORE_PAGE]
    assert not p["controls_visible"] and p["static_note_visible"]
    assert p["figure"]["ok"] and p["figure"]["key"] == explorable.view_key("page_size", explorable.DEFAULT)
    assert "buffers_per_page_post" in p["figure"]["caption"]


def test_moving_a_control_changes_the_figure(visited):
    p = visited["scripts-on"][EXPLORE_PAGE]
    assert p["controls_visible"] and not p["static_note_visible"]
    m = p["moved"]
    assert m["before"]["key"] == explorable.view_key("page_size", explorable.DEFAULT)
    assert m["after_axis"]["key"].startswith("axis=mtu|") and "|xdp=off|" in m["after_axis"]["key"]
    assert m["after_held"]["key"].startswith("axis=mtu|") and "|xdp=on|" in m["after_held"]["key"]
    assert m["mtu_disabled"]  # the swept field is not a held value
    srcs = [_digest(m[k]["src"]) for k in ("before", "after_axis", "after_held")]
    assert len(set(srcs)) == 3 and all(m[k]["ok"] for k in ("before", "after_axis", "after_held"))
    # the caption follows the figure
    assert m["after_axis"]["caption"].startswith("MTU swept") and m["before"]["caption"].startswith("page size swept")
    assert "XDP program on" in m["after_held"]["caption"] and "XDP program off" in m["after_axis"]["caption"]
