"""Reports: every notebook rendered as a standalone page that fetches nothing at view time."""

import re
import shutil

import nbformat
import pytest

from rxlab.cli import main
from rxlab.studies.claims import EVALUATORS, QUICK_PACKETS, evaluate_claims, verdict_slug
from rxlab.views.notebooks import NOTEBOOK_DIR, notebook_paths
from rxlab.views.report import index_html, notebook_html, scoreboard_html, write_page

# any script, stylesheet, image, frame or link whose address leaves the file
REMOTE = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//|@import|url\(\s*["']?(https?:)?//""", re.IGNORECASE)


def test_remote_pattern_catches_cdn_links():
    assert REMOTE.search('<script src="https://cdnjs.cloudflare.com/require.js">')
    assert REMOTE.search("<link rel=stylesheet href='//unpkg.com/x.css'>")
    assert not REMOTE.search('<img src="data:image/png;base64,AAAA"><a href="01_buffer_geometry.html">')


@pytest.mark.slow
@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook_page_is_offline(path, executed_notebook, tmp_path):
    nb = executed_notebook(path)
    write_page(tmp_path / "p.html", "t", notebook_html(nb))
    page = (tmp_path / "p.html").read_text()
    assert not REMOTE.search(page), REMOTE.search(page)
    assert "<script" not in page  # nothing runs: widgets shown as their static snapshot
    assert "widget-view" not in page
    if path.stem == "00_explorer":  # the executed notebook itself is left as it was
        assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                   for c in nb.cells for o in c.get("outputs", ()))
    data = [o.get("data", {}) for c in nb.cells for o in c.get("outputs", ())]
    figures = sum("image/png" in d for d in data) + sum(d.get("text/html", "").count("data:image/png") for d in data)
    assert page.count('src="data:image/png;base64,') == figures >= 1  # every figure inlined, once


@pytest.mark.slow
def test_rxlab_report_cli(tmp_path, capsys):
    """The command end to end on the explorer and a notebook that fails: pages, index, progress."""
    nbs = tmp_path / "nb"
    nbs.mkdir()
    shutil.copy(NOTEBOOK_DIR / "00_explorer.ipynb", nbs)
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("quick = False", metadata={"tags": ["parameters"]}),
                                          nbformat.v4.new_code_cell("1 / 0")])
    nbformat.write(bad, nbs / "09_broken.ipynb")
    out = tmp_path / "r"
    assert main(["report", "--quick", "--out", str(out), "--notebooks", str(nbs)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"rxlab report: claims scoreboard ({QUICK_PACKETS:,} packets per simulation) ... ")
    assert err[1].startswith("rxlab report: [1/2] 00_explorer ... ") and err[1].endswith(" s")
    assert err[2].startswith("rxlab report: [2/2] 09_broken ... FAILED") and "ZeroDivisionError" in err[2]
    assert sorted(p.name for p in out.iterdir()) == ["00_explorer.html", "index.html"]  # no .tmp left
    index = (out / "index.html").read_text()
    assert 'href="00_explorer.html"' in index and "09_broken" in index and "failed" in index
    assert '<section id="claims-scoreboard">' in index and "quick mode" in index
    # the scoreboard inside its section: every claim with its verdict, colour-coded, and the ESTIMATE note
    board = index.split('<section id="claims-scoreboard">', 1)[1].split("</section>", 1)[0]
    assert '<table class="rxlab-scoreboard">' in board and "ESTIMATE" in board
    assert all(f"<code>{i}</code>" in board for i in EVALUATORS)
    assert re.search(r"<code>shortfall_beyond_16</code>.*?<td class=\"verdict-outside-the-model-hardware\">"
                     r"outside the model \(hardware\)</td>", board)
    # the model's band beside its value, and the seed's own figure where it has one
    assert re.search(r"<code>throughput_gain_64k</code>.*?<td>-</td><td>\d+ \[\d[\d.]*\.\.\d[\d.]*\]</td>", board)
    assert "<th>model [band]</th>" in board and ".verdict-within-uncertainty { background:" in index
    assert f"simulations of {QUICK_PACKETS:,} packets" in board and ".verdict-reproduced { background:" in index
    page = (out / "00_explorer.html").read_text()
    assert '<table class="rxlab-counters">' in page and "celltag_injected-parameters" in page
    assert not REMOTE.search(page) and not REMOTE.search(index)


def test_scoreboard_table():
    """Rendered from evaluate_claims (the geometry claims: no simulation), values and reasons escaped."""
    ids = ["buffers_per_page_post", "fallback_jumbo_threshold", "fallback_xdp"]
    df = evaluate_claims(ids=ids)
    html = scoreboard_html(df, 1000)
    rows = re.findall(r"<tr><td class=\"text\"><code>(\w+)</code>.*?<td>([^<]*)</td>"
                      r"<td class=\"verdict-([\w-]+)\">([^<]*)</td>", html)
    assert [(i, m, v) for i, m, _, v in rows] == [
        (r.id, f"{r.model:.4g}", r.verdict) for r in df.itertuples()]
    assert [c for *_, c, v in rows] == [verdict_slug(v) for v in df["verdict"]]
    assert ("fallback_jumbo_threshold", "1714", "not reproduced") in [(i, m, v) for i, m, _, v in rows]
    assert "1 not reproduced" in html and "2 reproduced" in html and "ESTIMATE" in html
    index = index_html([("00_x", "X", "00_x.html", "")], True, html)
    assert '<section id="claims-scoreboard"><h2>Claims scoreboard</h2><p class="rxlab-estimate">' in index


def test_report_needs_notebooks(tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path / "r"), "--notebooks", str(tmp_path / "none")]) == 2
    assert "notebooks=" in (err := capsys.readouterr().err) and "an existing folder of NN_*.ipynb" in err
