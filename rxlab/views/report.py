"""Offline HTML reports: every notebook executed and rendered as a standalone page, and an index.

Nothing is fetched at view time. Everything from a notebook (its file name, its title) is
escaped before it goes into a page, in text and in attributes alike. Notebooks are rendered with nbconvert's ``basic`` template (cells
only, no require.js, MathJax or widget-renderer CDN links, which the ``lab`` and ``classic``
templates add) inside rxlab's own page with an inline stylesheet. Widgets need a live kernel, so
their views are dropped from the page and the static HTML each panel offers beside them (its
figure and counters at the state it was executed in) is shown instead.
"""

import copy
import html
import math
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from rxlab import __version__
from rxlab.atomic import atomic_path
from rxlab.errors import bad
from rxlab.studies.claims import VERDICTS, band_text, load_claims, model_text, verdict_slug
from rxlab.views.base import PANEL_MIME

GENERATOR = '<meta name="generator" content="rxlab report">'
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">""" + GENERATOR + """<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1200px; }}
table {{ border-collapse: collapse; font-size: 12px; }}
th, td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; }}
th {{ background: #eee; }}
.rxlab-table th {{ white-space: normal; max-width: 9em; text-align: center; }}
.rxlab-table tbody th {{ white-space: nowrap; overflow-wrap: normal; max-width: none; text-align: left; }}
.rxlab-table-more, .rxlab-table-caption {{ font-size: 12px; color: #555; }}
.rxlab-note {{ color: #555; font-style: italic; }}
{style}
</style></head>
<body>
{body}
</body></html>
"""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MAX_PAGE_BYTES = 10 * 2**20  # a report page stays under 10 MB


def attr(value):
    """``value`` for an HTML attribute's double quotes: <, >, &, " and ' escaped."""
    return html.escape(str(value), quote=True)


def href(file_name):
    """A link to ``file_name`` beside the page: percent-encoded (so that a name with spaces, #, ?
    or quotes still names the file) and escaped for the attribute."""
    return attr(quote(file_name, errors="surrogateescape"))  # an undecodable name's own bytes


def write_page(path, title, body, style=""):
    """Write an HTML page atomically: a reader never sees a half-written file."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(PAGE.format(title=html.escape(title), body=body, style=style), encoding="utf-8",
                             errors="xmlcharrefreplace")  # a file name's undecodable bytes, as references


def _notebook_style():
    from pygments.formatters import HtmlFormatter

    from rxlab.views.base import STYLE

    return (HtmlFormatter().get_style_defs(".highlight") + STYLE + """
.cell { margin: 0.6em 0; }
.input_area pre { background: #f7f7f7; border: 1px solid #e0e0e0; padding: 0.5em; overflow-x: auto; }
.prompt { color: #888; font-size: 11px; font-family: monospace; }
.output_subarea { overflow-x: auto; }
.output_subarea pre { margin: 0.3em 0; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.output_subarea table thead th { white-space: normal; overflow-wrap: anywhere; min-width: 3em; }
.output_stderr pre { background: #fdd; }
img { max-width: 100%; }
.rxlab-counters td:last-child { text-align: left; }
.rxlab-report-meta { color: #666; font-size: 12px; }
details.rxlab-code > summary { color: #888; font-size: 11px; cursor: pointer; }
details.rxlab-code[open] > summary { margin-bottom: 0.2em; }
""")


def notebook_title(nb):
    """The first Markdown heading of a notebook."""
    for cell in nb.cells:
        m = re.search(r"^#+\s*(.+)$", cell.source, re.MULTILINE) if cell.cell_type == "markdown" else None
        if m:
            return m.group(1).strip()
    return ""


# nbconvert's basic template with each code cell's input folded away (a <details> the reader opens)
TEMPLATE = """{%- extends 'basic/index.html.j2' -%}
{% block input_group -%}
<details class="rxlab-code"><summary>code</summary>
{{ super() }}
</details>
{%- endblock input_group %}
"""


def merge_parameters(nb):
    """The notebook as the reader should see it: the ``injected-parameters`` cell's values put
    into the ``parameters`` cell (one cell saying what the run used, not the notebook's default
    followed by the override), the injected cell removed."""
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", ())]
    params = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", ())), None)
    if not injected or params is None:
        return nb
    params.source = "\n".join(c.source for c in injected) + "  # set by rxlab report (the notebook's default: " \
        + " ".join(params.source.split("#", 1)[0].split()) + ")"
    params.outputs = []
    nb.cells = [c for c in nb.cells if c not in injected]
    return nb


def notebook_html(nb, interactive=False):
    """An executed notebook as static HTML cells: code folded into <details>, the injected
    parameters merged into the parameters cell, widget views and widget state removed, no prompts.
    ``interactive``: each sweep panel exported as an explorable figure over a precomputed grid
    (:func:`rxlab.views.panel.export_sweep`: the panel's controls inline, every figure in the page);
    otherwise its static figure."""
    import jinja2
    from nbconvert import HTMLExporter

    nb = merge_parameters(copy.deepcopy(nb))  # the caller's notebook keeps its widget views
    nb.metadata.pop("widgets", None)
    panels = 0
    for cell in nb.cells:
        for out in cell.get("outputs", ()):
            data = out.get("data", {})
            data.pop(WIDGET_VIEW, None)
            if interactive and PANEL_MIME in data:  # the sweep panel, explorable in the page
                from rxlab.views.panel import export_sweep

                panels += 1
                data["text/html"], _ = export_sweep(data.pop(PANEL_MIME), f"panel-{panels}")
    # no In [N]: / Out[N]: prompts: a page is read, not a session replayed
    exporter = HTMLExporter(template_name="basic", template_file="rxlab.html.j2", exclude_input_prompt=True,
                            exclude_output_prompt=True,
                            extra_loaders=[jinja2.DictLoader({"rxlab.html.j2": TEMPLATE})])
    body, _ = exporter.from_notebook_node(nb)
    return body


def _plain_text(text):
    """A heading's words: tags, backticks and the anchor sign dropped, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).replace("`", "").replace("¶", "").split())


def heading_anchors(body):
    """{heading text: its id} of a rendered notebook (nbconvert gives each Markdown heading an id)."""
    return {_plain_text(text): html.unescape(i)
            for i, text in re.findall(r'<h[1-6] id="([^"]*)">(.*?)</h[1-6]>', body, re.DOTALL)}


# where each seed claim is discussed: (notebook, section heading); tests/test_report.py checks that
# every claim of data/claims.csv has one and that the heading is in that notebook
CLAIM_SECTIONS = {
    "buffers_per_page_post": ("01_buffer_geometry", "Buffers per page and bytes per packet at MTU 1500"),
    "buffers_per_page_pre": ("01_buffer_geometry", "Buffers per page and bytes per packet at MTU 1500"),
    "fallback_jumbo_threshold": ("01_buffer_geometry", "Where the fragment path falls back to a page per buffer"),
    "fallback_jumbo_9000": ("01_buffer_geometry", "Where the fragment path falls back to a page per buffer"),
    "fallback_xdp": ("01_buffer_geometry", "Where the fragment path falls back to a page per buffer"),
    "throughput_gain_64k": ("03_large_pages", "One stream: both layouts priced, without and with an IOMMU"),
    "line_rate": ("02_connection_scaling", "2. What the CPU model alone predicts"),
    "no_regression_x86": ("02_connection_scaling", "2. What the CPU model alone predicts"),
    "no_regression_arm64": ("02_connection_scaling", "2. What the CPU model alone predicts"),
    "shortfall_onset": ("02_connection_scaling", '3. "Only beyond 16 connections"?'),
    "shortfall_beyond_16": ("02_connection_scaling", "4. The root cause, as an empirical device factor"),
    "upfront_refs_save_drain": ("02_connection_scaling",
                                "6. The up-front references: what they would and would not save"),
    "upfront_atomics_per_packet": ("02_connection_scaling",
                                   "6. The up-front references: what they would and would not save"),
    "upfront_throughput_gain": ("02_connection_scaling",
                                "6. The up-front references: what they would and would not save"),
    "truesize_underreported": ("04_truesize_and_tcp", "Reported and pinned truesize per packet, MTU 1500"),
    "truesize_rmem_undercount": ("04_truesize_and_tcp", "The simulation: goodput, scaling ratio, receive memory"),
    "truesize_honest_window": ("04_truesize_and_tcp", "The simulation: goodput, scaling ratio, receive memory"),
    "page_frag_no_get_page": ("05_skb_lifecycles", "05 · skb lifecycles: where pages are held and how they come back"),
}


def claim_links(anchors):
    """{claim id: href} from {page stem: heading_anchors(page)}: each claim's section, where its page was
    written and has the heading."""
    out = {}
    for claim, (stem, heading) in CLAIM_SECTIONS.items():
        anchor = anchors.get(stem, {}).get(_plain_text(heading))
        if anchor is not None:
            out[claim] = f"{stem}.html#{anchor}"
    return out


VERDICT_COLOURS = {"reproduced": "#d4edda", "within uncertainty": "#e2f0d9", "within tolerance": "#fff3cd",
                   "not reproduced": "#f8d7da", "outside the model (hardware)": "#d6e4f0",
                   "contradicted by the data": "#e8dff5", "input (not evaluated)": "#e9ecef",
                   "untestable here": "#f1e4d3", "indeterminate": "#fde2c8"}
assert set(VERDICT_COLOURS) == set(VERDICTS)
SCOREBOARD_STYLE = """
.rxlab-scoreboard td.text { text-align: left; white-space: nowrap; }
.rxlab-scoreboard td.claim { text-align: left; font-style: italic; max-width: 22em; }
.rxlab-scoreboard td.reason { text-align: left; font-size: 11px; max-width: 34em; }
.rxlab-scoreboard td.reason summary { cursor: pointer; }
.rxlab-scoreboard td.reason details p { margin: 0.3em 0 0 1em; }
.rxlab-scoreboard .conditions { color: #555; }
.rxlab-scoreboard .rxlab-flag { display: block; color: #a94400; font-size: 11px; font-weight: bold; }
.rxlab-scoreboard .rxlab-spread { display: block; color: #555; font-size: 11px; }
.rxlab-estimate { border-left: 4px solid #e0a800; padding-left: 0.6em; }
.rxlab-causes p { font-size: 12px; max-width: 60em; }
""" + "".join(f".rxlab-scoreboard td.verdict-{verdict_slug(v)} {{ background: {c}; text-align: left; }}\n"
              for v, c in VERDICT_COLOURS.items())


def _seed_text(seed):
    """``000`` (data/claims.csv, the seeds data/README.md names) -> ``seed 000``."""
    return f"seed {seed}"


def _conditions_text(cond):
    return ", ".join(f"{k}={v}" for k, v in dict(cond).items()) or "-"


def _cause_id(cause):
    return "cause-" + verdict_slug(cause)


def _reasoning(r, cond):
    """The full reasoning of a scoreboard row, folded under its one-sentence why."""
    more = [r.reason[len(r.why):].strip()] if r.reason.startswith(r.why) else [r.reason]
    facts = [f"conditions: {cond}"]
    if not math.isnan(r.measured):
        facts.append(f"the seed's own table gives {model_text(r.measured)} {r.unit}")
    if r.margin:
        facts.append(f"margin: {r.margin}")
    body = "".join(f"<p>{html.escape(t)}</p>" for t in more if t)
    body += f'<p class="conditions">{html.escape("; ".join(facts))}</p>'
    if r.cause:
        body += f'<p>Root cause: <a href="#{attr(_cause_id(r.cause))}">{html.escape(r.cause)}</a> (below).</p>'
    return f"<details><summary>{html.escape(r.why)}</summary>{body}</details>"


def scoreboard_html(claims, packets, links=None):
    """The claims scoreboard (a frame of :func:`rxlab.studies.claims.evaluate_claims`) as a table of
    one line per claim: its id (linked to the notebook section that discusses it, ``links``: {id:
    href}), seed, the claim, what it claims, the model's value with its band [low..high] (every cost
    parameter at its low and at its high end; a value the model itself distrusts flagged beside it),
    the verdict (colour-coded) and the one sentence that says what decided it, which unfolds into the
    full reasoning (details, conditions, the seed's own figure). Root causes outside the model are
    written once, below the table, and linked from the rows they explain; all under the cost model's
    ESTIMATE note."""
    links = links or {}
    source = load_claims().set_index("id")
    rows = []
    for r in claims.itertuples():
        cid = f"<code>{html.escape(r.id)}</code>"
        if r.id in links:
            cid = f'<a href="{attr(links[r.id])}">{cid}</a>'
        seed, cond = ((_seed_text(source.at[r.id, "seed"]), _conditions_text(source.at[r.id, "conditions"]))
                      if r.id in source.index else ("-", "-"))
        flags = "".join(f'<span class="rxlab-flag">&#9888; {html.escape(f)}</span>' for f in r.flags.split("; ") if f)
        if r.spread:
            flags += f'<span class="rxlab-spread">{html.escape(r.spread)}</span>'
        rows.append(
            f'<tr><td class="text">{cid}</td><td class="text">{html.escape(seed)}</td>'
            f'<td class="claim">{html.escape(r.claim)}</td><td>{html.escape(r.claimed)} {html.escape(r.unit)}</td>'
            f"<td>{html.escape(band_text(r.model, r.model_low, r.model_high))}{flags}</td>"
            f'<td class="verdict-{attr(verdict_slug(r.verdict))}">{html.escape(r.verdict)}</td>'
            f'<td class="reason">{_reasoning(r, cond)}</td></tr>')
    counts = claims["verdict"].value_counts()
    summary = ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICT_COLOURS if counts.get(v, 0))
    causes = "".join(f'<p id="{attr(_cause_id(k))}"><b>{html.escape(k)}</b>: {html.escape(t)}</p>'
                     for k, t in claims.attrs.get("causes", {}).items())
    if causes:
        causes = f'<div class="rxlab-causes"><h3>Root causes outside the model</h3>{causes}</div>'
    return (f'<p class="rxlab-estimate">{html.escape(claims.attrs["note"])}. Throughput claims are judged '
            f"on simulations of {packets:,} packets each, with the model's band [low..high]: every cost "
            "parameter at the low and at the high end of its sources' range (data/platforms.toml); the verdict "
            "rules are in rxlab/studies/claims/verdicts.py. Each id links to the notebook section that discusses "
            "it; each reason unfolds into the full reasoning; &#9888; marks a value the model itself does not "
            "trust.</p>"
            f"<p>{len(claims)} claims of the seed threads (<code>data/claims.csv</code>): {summary}.</p>"
            '<table class="rxlab-scoreboard"><thead><tr><th>id</th><th>seed</th><th>claim</th>'
            "<th>claimed</th><th>model [band]</th>"
            f"<th>verdict</th><th>why</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{causes}")


UNIT_SHORT = {"percent": "%", "bytes": "B", "buffers": "buffers", "connections": "conns", "bool": "", "Gbps": "Gbps",
              "atomic RMW per page": "RMW/page", "atomic RMW per packet": "RMW/pkt",
              "atomic RMW per allocation": "RMW/alloc"}
TEXT_WIDTH = 100
_COLUMNS = (("id", 26), ("seed", 4), ("claimed", 7), ("model [band]", 21), ("unit", 9), ("verdict", 0))


def scoreboard_text(claims, packets, width=TEXT_WIDTH):
    """The claims scoreboard as plain text at most ``width`` columns wide (``rxlab claims``): the
    ESTIMATE note and the packet count, then one line per claim (id, seed, claimed, the model's value
    with its band, marked ``!`` where the model distrusts it, unit, verdict) followed by its one-sentence
    reason and flags, indented; the root causes outside the model once, at the end."""
    import textwrap

    def wrap(text, indent=""):
        return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent or "  ")

    out = wrap(f"{claims.attrs['note']}. {packets:,} packets per simulation.")
    out.append(" ".join(f"{name:<{w}}" if w else name for name, w in _COLUMNS))
    for r in claims.itertuples():
        seed = str(r.seed).split("_", 1)[0] if isinstance(r.seed, str) else "-"
        model = ("!" if r.flags else "") + band_text(r.model, r.model_low, r.model_high)
        cells = (r.id, seed, r.claimed, model, UNIT_SHORT.get(r.unit, r.unit), r.verdict)
        out.append(" ".join(f"{c:<{w}}" if w else c for c, (_, w) in zip(cells, _COLUMNS)).rstrip())
        out += wrap(r.why, "    ")
        out += wrap(f"spread {r.spread}", "    ") if r.spread else []
        out += [ln for f in r.flags.split("; ") if f for ln in wrap("! " + f, "    ")]
    for k, t in claims.attrs.get("causes", {}).items():
        out += wrap(f"Root cause ({k}): {t}")
    return "\n".join(out)


EXPLORE_PAGE = "explore.html"


def index_html(pages, quick, scoreboard=None, explore=False):
    """The index: a link per notebook page (or why it failed), the explorable sweeps page when
    there is one (``explore``), and the claims scoreboard.

    ``pages``: (stem, title, file name or None, error) per notebook. ``scoreboard``: HTML of
    the seed claims against the model (:func:`scoreboard_html`); without it the index says
    where the claims are rather than showing verdicts it has not computed."""
    items = "".join(
        f'<li><a href="{href(f)}">{html.escape(title or stem)}</a></li>' if f else
        f'<li>{html.escape(title or stem)}: <b class="rxlab-error">failed</b> {html.escape(err)}</li>'
        for stem, title, f, err in pages)
    if explore:
        items += (f'<li><a href="{href(EXPLORE_PAGE)}">Explore the sweeps</a>: MTU, page size, XDP or connections '
                  "swept, the others held, with the seed claims that apply (works offline)</li>")
    board = scoreboard or ("<p>No scoreboard was computed for this report (<code>rxlab claims</code> "
                           "prints it). The claims themselves are in <code>data/claims.csv</code>.</p>")
    mode = "quick mode (few packets per simulation)" if quick else "full mode"
    return (f"<h1>rxlab reports</h1><p class=\"rxlab-report-meta\">{_meta()}; {mode}</p>"
            f'<section id="notebooks"><h2>Notebooks</h2><ul>{items}</ul></section>'
            f'<section id="claims-scoreboard"><h2>Claims scoreboard</h2>{board}</section>')


def _meta():
    return f"generated by rxlab {__version__} on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"


def check_out_folder(out):
    """The report folder ``out``, created if missing, refused (naming ``out``) before any work if
    it is a file or this process cannot write into it."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise bad("out", str(out), "a folder for the report pages (this is a file)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out, prefix=".write-test.", suffix=".tmp")
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise bad("out", str(out), f"a folder this process can write ({e.strerror or e})") from None
    return out


def _is_report_page(path):
    """A page rxlab report wrote (so that removing it never removes someone else's file)."""
    if Path(path).is_symlink() or not Path(path).is_file():  # a FIFO would block its reader
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(512)
            return GENERATOR in head or 'class="rxlab-report-meta"' in head + f.read()
    except OSError:
        return False


def remove_stale_pages(out, keep):
    """Remove the notebook pages in ``out`` whose stem is not in ``keep``: notebooks that no longer
    exist, or failed this time (their old page would show results the notebook no longer gives).
    Returns the names removed."""
    gone = []
    for page in sorted(Path(out).glob("[0-9][0-9]_*.html")):
        if page.stem not in keep and _is_report_page(page):
            page.unlink(missing_ok=True)
            gone.append(page.name)
    return gone


def explore_page(out, quick, grid=None, packets=None):
    """Write ``explore.html``: the explorable sweeps of :mod:`rxlab.views.explorable`. Raises if the
    page would exceed :data:`rxlab.views.explorable.MAX_PAGE_BYTES`."""
    from rxlab.views.base import STYLE
    from rxlab.views.explorable import explore_html

    meta = (f'<p class="rxlab-report-meta">{_meta()}' + (", quick mode" if quick else "")
            + ' · <a href="index.html">all reports</a></p>')
    body, _ = explore_html(quick, grid=grid, packets=packets)
    body = meta + "<h1>Explore the sweeps: memory efficiency and throughput against the seed claims</h1>" + body
    check_size("explore grid", body)
    write_page(Path(out) / EXPLORE_PAGE, "rxlab: explore the sweeps", body, STYLE)
    return Path(out) / EXPLORE_PAGE


def check_size(what, body):
    """Refuse a page over :data:`MAX_PAGE_BYTES`, naming what made it."""
    size = len(body.encode())
    if size > MAX_PAGE_BYTES:
        raise bad(what, f"{size / 2**20:.1f} MB page", f"a grid whose page stays under "
                  f"{MAX_PAGE_BYTES // 2**20} MB (fewer values per control)")


def build_reports(out="reports", quick=False, notebooks=None, log=None, scoreboard=None, claims=None,
                  explore=None):
    """Execute every notebook (``quick`` injected), write ``<stem>.html`` for each and an
    ``index.html`` linking them; print one progress line per notebook to ``log``.

    ``claims``: (frame of :func:`rxlab.studies.claims.evaluate_claims`, packets): the scoreboard is
    drawn on the index with each claim linked to its notebook section (``scoreboard``: ready HTML
    instead). ``explore``: None (no page), or a dict of :func:`explore_page` arguments (``grid``,
    ``packets``; ``{}`` for the defaults): writes ``explore.html``, the explorable sweeps.

    A notebook that cannot run (no ``parameters`` cell, not a notebook, a failing cell, a dead
    kernel), or whose page cannot be written (a name too long, something not a regular file in
    its place), gets no page and is listed as failed in the index; the others are built. Pages of
    notebooks that no longer exist, or failed, are removed. Interrupted (SIGINT, SIGTERM), it
    stops at once: pages already written are whole, the index is the previous one.

    Returns (index path, names of notebooks that failed)."""
    from nbclient.exceptions import CellExecutionError

    from rxlab.views.notebooks import NOTEBOOK_DIR, execute, notebook_paths

    log = log or sys.stderr
    out = check_out_folder(out)
    paths = notebook_paths(notebooks or NOTEBOOK_DIR)
    style = _notebook_style()
    pages, failed, anchors = [], [], {}
    for i, path in enumerate(paths, 1):
        print(f"rxlab report: [{i}/{len(paths)}] {path.stem} ...", end="", file=log, flush=True)
        t0 = time.monotonic()
        try:
            nb = execute(path, quick=quick)
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM: stop here; the index stays the previous one
            print(" interrupted", file=log, flush=True)
            raise
        except Exception as e:  # noqa: BLE001 - this notebook failed, whatever the cause; Ctrl-C goes through
            err = f"{e.ename}: {e.evalue}" if isinstance(e, CellExecutionError) else f"{type(e).__name__}: {e}"
            err = " ".join(err.split())
            print(f" FAILED: {err}", file=log, flush=True)
            pages.append((path.stem, path.stem, None, err))
            failed.append(path.stem)
            continue
        title = notebook_title(nb)
        meta = f'<p class="rxlab-report-meta">{_meta()} from notebooks/{html.escape(path.name)}' + \
            (", quick mode" if quick else "") + ' · <a href="index.html">all reports</a>' + \
            (f' · <a href="{EXPLORE_PAGE}">explore the sweeps</a>' if explore is not None else "") + "</p>"
        body = notebook_html(nb, interactive=True)
        try:
            check_size(f"{path.stem} page", meta + body)
            write_page(out / f"{path.stem}.html", f"rxlab: {title}", meta + body, style)
        except (OSError, ValueError) as e:  # this page only (a name too long, not a regular file there)
            err = "page not written: " + " ".join(f"{type(e).__name__}: {e}".split())
            print(f" FAILED: {err}", file=log, flush=True)
            pages.append((path.stem, title, None, err))
            failed.append(path.stem)
            continue
        anchors[path.stem] = heading_anchors(body)
        pages.append((path.stem, title, f"{path.stem}.html", ""))
        print(f" {time.monotonic() - t0:.1f} s", file=log, flush=True)
    if explore is not None:  # after the notebooks: what a reader opens first is there first
        print("rxlab report: explorable sweeps ...", end="", file=log, flush=True)
        t0 = time.monotonic()
        explore_page(out, quick, **explore)
        print(f" {time.monotonic() - t0:.1f} s", file=log, flush=True)
    if claims is not None:
        frame, packets = claims
        scoreboard = scoreboard_html(frame, packets, links=claim_links(anchors))
    index = out / "index.html"
    write_page(index, "rxlab reports", index_html(pages, quick, scoreboard, explore is not None), SCOREBOARD_STYLE)
    keep = {stem for stem, _, f, _ in pages if f}
    gone = remove_stale_pages(out, keep)
    if explore is None and _is_report_page(out / EXPLORE_PAGE):
        (out / EXPLORE_PAGE).unlink(missing_ok=True)
        gone.append(EXPLORE_PAGE)
    if gone:
        print(f"rxlab report: removed {len(gone)} page(s) of notebooks that are gone or failed: {', '.join(gone)}",
              file=log, flush=True)
    print(f"rxlab report: wrote {index}", file=log, flush=True)
    return index, failed
