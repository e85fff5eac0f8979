"""Reports: every notebook rendered as a standalone page that fetches nothing at view time."""

import base64
import html
import io
import json
import math
import re
import shutil

import nbformat
import numpy as np
import pandas as pd
import pytest

import rxlab
from rxlab.cli import main
from rxlab.model.drivers import DRIVERS
from rxlab.studies.claims import (
    EVALUATORS,
    QUICK_PACKETS,
    evaluate_claims,
    load_claims,
    states_value,
    verdict_slug,
)
from rxlab.views import explorable, notebooks, panel
from rxlab.views.format import number, quantity, table, unit_of
from rxlab.views.notebooks import NOTEBOOK_DIR, inject_parameters, notebook_paths
from rxlab.views.panel import SweepView
from rxlab.views.report import (
    CLAIM_SECTIONS,
    _plain_text,
    claim_links,
    heading_anchors,
    index_html,
    merge_parameters,
    notebook_html,
    scoreboard_html,
    write_page,
)

pytestmark = pytest.mark.no_engine  # no engine code here: the compiled pass only (CONTRIBUTING.md)

# a grid of few runs for the command's test (the report's own is explorable.GRID)
TINY = {"mtu": (1500,), "page_size": (65536,), "xdp": ("off",), "connections": (1,)}

def small_exports(monkeypatch):
    """Each notebook's exported panel over a grid of one release, one platform (geometry-only drivers
    still drawn): the page and its controls are those of a full report, in seconds."""
    monkeypatch.setattr(panel, "EXPORT_KERNELS", (rxlab.SimConfig().kernel,))
    monkeypatch.setattr(panel, "EXPORT_PLATFORMS", ())
    monkeypatch.setattr(panel, "EXPORT_HELD", {k: () for k in panel.EXPORT_HELD})


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


def page_problems(page):
    """What a page shows that it should not: floats of more than 4 significant digits, Out[N]:
    prompts, DataFrame index columns. Folded code, scripts, styles and inlined images are not shown."""
    shown = re.sub(r'<details class="rxlab-code">.*?</details>|<(script|style)[^>]*>.*?</\1>', "", page, flags=re.DOTALL)
    shown = re.sub(r'data:[^"\']*', "", shown)
    text = html.unescape(re.sub(r"<[^>]+>", " ", shown))
    problems = [f"float {m[0]}" for m in re.finditer(r"(?<![\w.,])\d+\.\d+(?:e[+-]?\d+)?(?![\w.])", text)
                if len(re.sub(r"\D", "", m[0].split("e")[0]).lstrip("0")) > 4]
    problems += ["Out[ prompt"] * text.count("Out[")
    for t in re.findall(r'<table[^>]*class="[^"]*dataframe.*?</table>', shown, flags=re.DOTALL):
        head, _, body = t.partition("<tbody>")
        if re.search(r"<th[^>]*>\s*</th>", head) or "<th" in body:
            problems.append("index column")
    return problems


def test_page_problems_are_found():
    bad = ('<p>8.28912 and 3.56516e+07</p><div class="prompt output_prompt">Out[3]:</div>'
           '<table class="dataframe"><thead><tr><th></th><th>mtu</th></tr></thead>'
           '<tbody><tr><th>0</th><td>1500</td></tr></tbody></table>')
    assert page_problems(bad) == ["float 8.28912", "float 3.56516e+07", "Out[ prompt", "index column"]
    good = ('<p>8.289 Gbps, 0.02346, 12,346, Linux 6.10, -0.7246%</p>'
            '<details class="rxlab-code"><pre>x = 0.78546142578125</pre></details>'
            + table(pd.DataFrame({"mtu": [1500], "gain": [0.785461]}))._repr_html_())
    assert page_problems(good) == []


@pytest.mark.slow
@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook_page_shows_rounded_numbers_no_prompts_no_index(path, executed_notebook):
    assert page_problems(notebook_html(executed_notebook(path))) == []


@pytest.mark.slow
def test_rxlab_report_cli(tmp_path, capsys, monkeypatch, served_claims, executed_notebook):
    """The command end to end on the explorer and a notebook that fails: pages, index, progress. The
    explorer comes as this session executed it (the same ``execute(path, quick=True)``), the broken
    notebook runs in a kernel."""
    real = notebooks.execute

    def execute(path, quick):
        assert quick is True
        return executed_notebook(NOTEBOOK_DIR / path.name) if path.name == "00_explorer.ipynb" else real(path, quick)

    monkeypatch.setattr(notebooks, "execute", execute)
    monkeypatch.setattr(explorable, "PLATFORMS", ("typical_arm64",))
    monkeypatch.setattr(explorable, "GRID", {**explorable.GRID, **TINY})
    monkeypatch.setattr(explorable, "KERNELS", (rxlab.SimConfig().kernel,))
    small_exports(monkeypatch)
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
    assert err[3].startswith("rxlab report: explorable sweeps ... ") and err[3].endswith(" s")
    assert sorted(p.name for p in out.iterdir()) == ["00_explorer.html", "explore.html", "index.html"]  # no .tmp
    index = (out / "index.html").read_text()
    assert 'href="00_explorer.html"' in index and "09_broken" in index and "failed" in index
    assert '<section id="claims-scoreboard">' in index and "quick mode" in index
    # the scoreboard inside its section: every claim with its verdict, colour-coded, and the ESTIMATE note
    board = index.split('<section id="claims-scoreboard">', 1)[1].split("</section>", 1)[0]
    assert '<table class="rxlab-scoreboard">' in board and "ESTIMATE" in board
    assert all(f"<code>{i}</code>" in board for i in EVALUATORS)
    assert re.search(r"<code>shortfall_beyond_16</code>.*?<td class=\"verdict-outside-the-model-hardware\">"
                     r"outside the model \(hardware\)</td>", board)
    # the model's band beside its value (an indeterminate row: its candidates' range)
    assert re.search(r"<code>throughput_gain_64k</code>.*?<td>\[\d[\d.]*\.\.\d[\d.]*\]", board)
    assert "<th>model [band]</th>" in board and ".verdict-within-uncertainty { background:" in index
    assert f"simulations of {QUICK_PACKETS:,} packets" in board and ".verdict-reproduced { background:" in index
    page = (out / "00_explorer.html").read_text()
    assert '<table class="rxlab-counters">' in page and 'href="explore.html"' in page
    # one parameters cell, saying what the run used; the code folded away
    assert page.count("celltag_parameters") == 1 and "injected-parameters" not in page
    assert re.search(r'<span class="n">quick</span> <span class="o">=</span> <span class="kc">True</span>', page)
    assert page.count('<details class="rxlab-code">') == sum(c.cell_type == "code" for c in
                                                             nbformat.read(nbs / "00_explorer.ipynb", 4).cells)
    assert (out / "explore.html").stat().st_size < explorable.MAX_PAGE_BYTES and 'href="explore.html"' in index
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
    assert "rxlab-causes" not in html  # no row names a root cause
    # a root cause is written once, below the table, and linked from every row it explains
    df["cause"] = ["", "dev", "dev"]
    df.attrs["causes"] = {"dev": "a <b>fault</b> in the root port"}
    html = scoreboard_html(df, 1000)
    assert html.count("a &lt;b&gt;fault&lt;/b&gt; in the root port") == 1 and 'id="cause-dev"' in html
    assert html.count('Root cause: <a href="#cause-dev">dev</a>') == 2
    index = index_html([("00_x", "X", "00_x.html", "")], True, html)
    assert '<section id="claims-scoreboard"><h2>Claims scoreboard</h2><p class="rxlab-estimate">' in index


def test_report_needs_notebooks(tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path / "r"), "--notebooks", str(tmp_path / "none")]) == 2
    assert "notebooks=" in (err := capsys.readouterr().err) and "an existing folder of NN_*.ipynb" in err


def test_scoreboard_rows_show_seed_conditions_and_link():
    """Each row, one line: its seed, its id linked to the section that discusses it, and a one-sentence
    reason that states the model value shown beside it and unfolds into the full reasoning with the
    conditions (data/claims.csv)."""
    ids = ["buffers_per_page_post", "buffers_per_page_pre", "fallback_jumbo_threshold", "fallback_xdp"]
    df = evaluate_claims(ids=ids)
    links = {i: f"01_buffer_geometry.html#sec-{n}" for n, i in enumerate(ids)}
    html = scoreboard_html(df, 1000, links=links)
    source = load_claims().set_index("id")
    for n, r in enumerate(df.itertuples()):
        row = re.search(rf'<tr><td class="text"><a href="([^"]+)"><code>{r.id}</code></a></td>'
                        r'<td class="text">(seed \d+)</td>.*?<td>([^<]*)</td><td class="verdict-[\w-]+">[^<]*</td>'
                        r'<td class="reason"><details><summary>([^<]*)</summary>.*?'
                        r'<p class="conditions">conditions: ([^;<]*)[;<]', html)
        assert row, r.id
        href, seed, model, reason, cond = row.groups()
        assert href == f"01_buffer_geometry.html#sec-{n}"
        assert seed == "seed " + source.at[r.id, "seed"][:3]
        assert cond == ", ".join(f"{k}={v}" for k, v in source.at[r.id, "conditions"].items())
        assert states_value(reason.replace("&#x27;", "'"), float(model)), (r.id, model, reason)


def test_states_value():
    assert states_value("gain +18% [+6..+18]", 17.66) and states_value("up to MTU 1,714: ...", 1714)
    assert not states_value("3522 refills and 0 in-place reuses", 0.1174)
    assert states_value("mean shortfall 0.0%", 0.0) and not states_value("frag_count 35", 34)


def test_every_claim_links_to_a_section_of_its_notebook():
    assert set(CLAIM_SECTIONS) == set(load_claims()["id"])
    paths = {p.stem: p for p in notebook_paths()}
    for claim, (stem, heading) in CLAIM_SECTIONS.items():
        headings = [_plain_text(m) for c in nbformat.read(paths[stem], 4).cells if c.cell_type == "markdown"
                    for m in re.findall(r"^#+\s*(.+)$", c.source, re.MULTILINE)]
        assert _plain_text(heading) in headings, (claim, stem, heading)


def test_headings_give_the_links():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell('# T\n## 3. "Only `x` beyond 16"?')])
    anchors = heading_anchors(notebook_html(nb))
    assert set(anchors) == {"T", '3. "Only x beyond 16"?'}
    stem, heading = CLAIM_SECTIONS["shortfall_onset"]
    links = claim_links({stem: {_plain_text(heading): "sec-3"}})
    assert links == {"shortfall_onset": f"{stem}.html#sec-3"}


def test_parameters_merged_and_code_folded():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# T"),
        nbformat.v4.new_code_cell("quick = False  # the default", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("x = 1")])
    nb = merge_parameters(inject_parameters(nb, quick=True))
    assert [c.source for c in nb.cells if c.cell_type == "code"] == [
        "quick = True  # set by rxlab report (the notebook's default: quick = False)", "x = 1"]
    page = notebook_html(nb)
    assert page.count('<details class="rxlab-code"><summary>code</summary>') == 2


@pytest.mark.jit_only  # 6 small simulations: a second compiled, a minute interpreted
def test_explore_view_draws_each_claim_on_the_axis_of_its_quantity(tmp_path):
    """explore.html's figure is the sweep panel's: page size swept at MTU 1500, one stream, seed 000's
    buffers per page on the buffers-per-page plot and its ~200% gain on the gain plot (a percentage,
    not a Gbps), whose axis is logarithmic and says so when the gains span orders of magnitude; the
    caption names the release, the platform and the packets."""
    v = SweepView({**explorable.DEFAULT, "axis": "page_size"}, cache=tmp_path, packets=500,
                  fixed={"queues": 1, "ring_size": 128}).render()
    claims = load_claims().set_index("id")
    assert {m.id for m in v.marks} == {"buffers_per_page_post", "buffers_per_page_pre", "throughput_gain_64k"}
    bpp, _, gbps, gain = v.figure.axes[:4]
    on = {a.get_gid(): ax for ax in (bpp, gbps, gain) for a in ax.get_lines() if a.get_gid()}
    assert on["buffers_per_page_post"] is bpp and on["throughput_gain_64k"] is gain
    line = next(a for a in gain.get_lines() if a.get_gid() == "throughput_gain_64k")
    assert list(line.get_ydata()) == [claims.at["throughput_gain_64k", "value"]]
    top = max(abs(y) for a in gain.get_lines() for y in a.get_ydata())
    assert (gain.get_yscale() == "symlog") == (top >= 1000) and ("symlog" in gain.get_ylabel()) == (top >= 1000)
    assert f"Linux {rxlab.SimConfig().kernel}, driver mana, platform typical_arm64" in v.text
    assert "runs of 500 packets" in v.text


@pytest.mark.slow
def test_explore_page_offline_and_small(quick_reports):
    """The page (the session's quick reports, tests/conftest.py): every view inline (PNG keyed by the
    controls), controls hidden until the script runs, the default view in the <img>; a release and a
    driver control; nothing fetched; under 10 MB."""
    page = (quick_reports.out / "explore.html").read_text()
    assert not REMOTE.search(page)
    assert '<form class="rxlab-view-controls" hidden>' in page and "Scripts are off" in page
    assert '<select name="kernel">' in page and '<select name="driver">' in page
    data = json.loads(re.search(r'<script type="application/json" class="rxlab-view-data">(.*?)</script>',
                                page, re.DOTALL).group(1))
    assert data["fields"] == ["axis", *explorable.GRID, "platform", "kernel", "driver"]
    # axes, held values, platforms, releases, drivers
    n_states = 4 * math.prod(map(len, quick_reports.grid.values())) * len(quick_reports.platforms) \
        * len(quick_reports.kernels) * len(DRIVERS)
    assert len(data["keys"]) == n_states and len(data["views"]) < n_states  # equal figures drawn once
    default = re.search(r'<img class="rxlab-view-img" data-key="([^"]+)"', page).group(1).replace("&amp;", "&")
    png = next(v[0] for v in data["views"] if v[2] == default)
    assert f'src="data:image/png;base64,{png}"' in page
    assert all("Linux " in v[1] and "platform " in v[1] and " packets" in v[1] for v in data["views"])
    assert len(page.encode()) < explorable.MAX_PAGE_BYTES


def test_numbers_rounded_with_units():
    assert number(131.42181503427068) == "131.4" and number(0.0234567) == "0.02346" and number(12345.6) == "12,346"
    assert number(2.0) == "2" and number(float("nan")) == "-" and number(np.int64(96)) == "96"
    assert quantity(6.710886e07, "bytes") == "64 MiB" and quantity(65536, "bytes") == "64 KiB"
    assert quantity(2112, "bytes") == "2,112 B" and quantity(60.4871, "Gbps") == "60.49 Gbps"
    assert quantity(9.0909, "%") == "9.091%" and quantity("cpu", "Gbps") == "cpu"
    assert [unit_of(c) for c in ("ring_bytes", "truesize", "gbps_cpu", "under_reported_pct", "nic_mib_64k", "mtu")] \
        == ["bytes", "bytes", "Gbps", "%", "MiB", ""]


def test_table_shows_at_most_max_rows_and_attaches_the_rest():
    frame = pd.DataFrame({"mtu": range(96), "ring_bytes": [2**26] * 96, "note": ["<b>"] * 96})
    page = table(frame, name="geometry")._repr_html_()
    assert page.count("<tr") == 1 + 25 and "25 of 96 rows shown" in page
    assert "<td>64\u00a0MiB</td>" in page and "&lt;b&gt;" in page and "<b>" not in page
    csv = re.search(r'download="geometry.csv" href="data:text/csv;base64,([^"]+)"', page).group(1)
    back = pd.read_csv(io.StringIO(base64.b64decode(csv).decode()))
    pd.testing.assert_frame_equal(back, frame)
    assert "more rows" not in table(frame.head(3))._repr_html_()


def test_table_shows_no_index_column():
    """A plain 0..n-1 index is dropped; a meaningful one becomes ordinary, named columns."""
    frame = pd.DataFrame({"mtu": [1500, 9000], "ring_bytes": [2**20, 2**26]})
    page = table(frame)._repr_html_()
    assert re.findall(r"<th>(.*?)</th>", page) == ["mtu", "ring_<wbr>bytes"] and "<th></th>" not in page
    indexed = table(frame.set_index(["mtu"]))._repr_html_()
    assert re.findall(r"<th>(.*?)</th>", indexed) == ["mtu", "ring_<wbr>bytes"]
    assert "<td>64\u00a0MiB</td>" in indexed and "1,500" in indexed
    assert "  mtu" in repr(table(frame)) and not repr(table(frame)).startswith("0")
