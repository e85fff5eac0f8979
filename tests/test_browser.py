"""The offline HTML reports in a real browser: headless Chromium opens each page from disk with the
network disabled, once with scripts on and once with scripts off; no console error, no failed request,
every figure loaded, the claims scoreboard shown, no page wider than a 1280 px window; on every
notebook page and on the explorable sweeps page a control is moved and the figure and its caption
change. Screenshots of every page go to ``$RXLAB_ARTIFACTS`` (default tmp/artifacts/browser
in the checkout, ignored by git)."""

import hashlib
import os
import re
from pathlib import Path

import pytest
from headless import Watch, launch

import rxlab
from rxlab.views import explorable
from rxlab.views.report import EXPLORE_PAGE

pytestmark = pytest.mark.slow

ROOT = Path(rxlab.__file__).resolve().parents[1]
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


VIEW = "section.rxlab-view"


def _figure(page):
    """The (first) explorable figure's state: its key, a digest of its image and its caption."""
    return page.eval_on_selector(f"{VIEW} .rxlab-view-img", "e => ({key: e.getAttribute('data-key'), src: e.src, "
                                 "ok: e.complete && e.naturalWidth > 0})") | {
        "caption": page.inner_text(f"{VIEW} .rxlab-view-caption")}


def _select(page, name, value, before):
    """Move control ``name`` to ``value``; the figure once its key changed."""
    page.select_option(f"{VIEW} .rxlab-view-controls select[name={name}]", value)
    page.wait_for_function(f"k => document.querySelector('{VIEW} .rxlab-view-img').getAttribute('data-key') !== k",
                           arg=before["key"], timeout=10_000)
    return _figure(page)


def _move_control(page, shots, explore):
    """Change the release (every page), then on the explorable sweeps the swept axis and a held value:
    the figure after each."""
    before = _figure(page)
    moved = {"before": before, "after_kernel": _select(page, "kernel", "6.6", before)}
    if explore:
        moved["after_axis"] = _select(page, "axis", "mtu", moved["after_kernel"])
        moved["mtu_disabled"] = page.eval_on_selector(f"{VIEW} select[name=mtu]", "e => e.disabled")
        moved["after_held"] = _select(page, "xdp", "pass", moved["after_axis"])
    page.screenshot(path=shots / f"{page.url.rsplit('/', 1)[-1]}-moved.png", full_page=True, timeout=60_000)
    return moved


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
    # nothing wider than the window at 1280 px: no page scrolls sideways
    got["scroll_width"] = page.evaluate("document.documentElement.scrollWidth")
    if page.query_selector(VIEW):
        got["controls_visible"] = page.is_visible(f"{VIEW} .rxlab-view-controls")
        got["static_note_visible"] = page.is_visible(f"{VIEW} .rxlab-view-static")
        got["figure"] = _figure(page)
        if scripts:
            got["moved"] = _move_control(page, shots, name == EXPLORE_PAGE)
            got["problems"] = watch.problems
    shot = shots / f"{Path(name).stem}-{tag}.png"
    page.screenshot(path=shot, full_page=True, timeout=60_000)
    print(f"screenshot of {name} ({tag}): {shot}")
    page.close()
    return got


@pytest.fixture(scope="module")
def visited(quick_reports):
    """Open index.html and every page of the session's quick reports (tests/conftest.py) with
    scripts on and with scripts off."""
    out, shots = quick_reports.out, artifacts()
    assert not quick_reports.failed
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


@pytest.mark.parametrize("mode", MODES)
def test_no_page_scrolls_sideways_at_1280_px(visited, mode):
    wide = {name: p["scroll_width"] for name, p in visited[mode].items() if p["scroll_width"] > WIDTH}
    assert not wide, wide


def test_every_notebook_page_and_explore_have_an_explorable_figure(visited):
    pages = visited["scripts-on"]
    with_view = {name for name, p in pages.items() if "figure" in p}
    assert with_view >= {EXPLORE_PAGE} | {n for n in pages if n[:2] in ("00", "01", "02", "03", "04")}


def test_without_scripts_each_page_shows_its_default_figure(visited):
    for name, p in visited["scripts-off"].items():
        if "figure" in p:
            assert not p["controls_visible"] and p["static_note_visible"], name
            assert p["figure"]["ok"] and "Linux " in p["figure"]["caption"], name
    p = visited["scripts-off"][EXPLORE_PAGE]
    assert "buffers_per_page_post" in p["figure"]["caption"]


def test_moving_a_control_changes_the_figure_and_its_caption(visited):
    kernel = rxlab.SimConfig().kernel
    for name, p in visited["scripts-on"].items():
        if "moved" not in p:
            continue
        assert p["controls_visible"] and not p["static_note_visible"], name
        m = p["moved"]
        assert m["before"]["src"] != m["after_kernel"]["src"] and m["after_kernel"]["ok"], name
        assert f"Linux {kernel}," in m["before"]["caption"] and "Linux 6.6," in m["after_kernel"]["caption"], name
    m = visited["scripts-on"][EXPLORE_PAGE]["moved"]
    assert m["after_axis"]["caption"].startswith("MTU swept") and m["before"]["caption"].startswith("page size swept")
    assert m["mtu_disabled"]  # the swept field is not a held value
    assert "XDP program on" in m["after_held"]["caption"] and "XDP program off" in m["after_axis"]["caption"]
    srcs = [_digest(m[k]["src"]) for k in ("before", "after_kernel", "after_axis", "after_held")]
    assert len(set(srcs)) == 4
