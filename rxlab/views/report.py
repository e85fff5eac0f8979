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
from rxlab.studies.claims import VERDICTS, band_text, model_text, verdict_slug

GENERATOR = '<meta name="generator" content="rxlab report">'
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">""" + GENERATOR + """<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1200px; }}
table {{ border-collapse: collapse; font-size: 12px; }}
th, td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; }}
th {{ background: #eee; }}
{style}
</style></head>
<body>
{body}
</body></html>
"""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


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

    return (HtmlFormatter().get_style_defs(".highlight") + """
.cell { margin: 0.6em 0; }
.input_area pre { background: #f7f7f7; border: 1px solid #e0e0e0; padding: 0.5em; overflow-x: auto; }
.prompt { color: #888; font-size: 11px; font-family: monospace; }
.output_subarea { overflow-x: auto; }
.output_subarea pre { margin: 0.3em 0; }
.output_stderr pre { background: #fdd; }
img { max-width: 100%; }
.rxlab-counters td:last-child { text-align: left; }
.rxlab-report-meta { color: #666; font-size: 12px; }
""")


def notebook_title(nb):
    """The first Markdown heading of a notebook."""
    for cell in nb.cells:
        m = re.search(r"^#+\s*(.+)$", cell.source, re.MULTILINE) if cell.cell_type == "markdown" else None
        if m:
            return m.group(1).strip()
    return ""


def notebook_html(nb):
    """An executed notebook as static HTML cells: widget views and widget state removed."""
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)  # the caller's notebook keeps its widget views
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for out in cell.get("outputs", ()):
            out.get("data", {}).pop(WIDGET_VIEW, None)
    body, _ = HTMLExporter(template_name="basic").from_notebook_node(nb)
    return body


VERDICT_COLOURS = {"reproduced": "#d4edda", "within uncertainty": "#e2f0d9", "within tolerance": "#fff3cd",
                   "not reproduced": "#f8d7da", "outside the model (hardware)": "#d6e4f0",
                   "contradicted by the data": "#e8dff5"}
assert set(VERDICT_COLOURS) == set(VERDICTS)
SCOREBOARD_STYLE = """
.rxlab-scoreboard td.text { text-align: left; }
.rxlab-scoreboard td.claim { text-align: left; font-style: italic; max-width: 22em; }
.rxlab-scoreboard td.reason { text-align: left; font-size: 11px; max-width: 40em; }
.rxlab-estimate { border-left: 4px solid #e0a800; padding-left: 0.6em; }
""" + "".join(f".rxlab-scoreboard td.verdict-{verdict_slug(v)} {{ background: {c}; text-align: left; }}\n"
              for v, c in VERDICT_COLOURS.items())


def scoreboard_html(claims, packets):
    """The claims scoreboard (a frame of :func:`rxlab.studies.claims.evaluate_claims`) as a table: each
    claim, what the seed claims, what the seed's own table gives (where it has one), the model's
    value with its band [low..high] (every cost parameter at its low and at its high end), the
    verdict (colour-coded) and the one-line reason, under the cost model's ESTIMATE note."""
    rows = "".join(
        f'<tr><td class="text"><code>{html.escape(r.id)}</code></td><td class="claim">{html.escape(r.claim)}</td>'
        f"<td>{html.escape(r.claimed)} {html.escape(r.unit)}</td><td>{html.escape(model_text(r.measured))}</td>"
        f"<td>{html.escape(band_text(r.model, r.model_low, r.model_high))}</td>"
        f'<td class="verdict-{attr(verdict_slug(r.verdict))}">{html.escape(r.verdict)}</td>'
        f'<td class="reason">{html.escape(r.reason)}</td></tr>' for r in claims.itertuples())
    counts = claims["verdict"].value_counts()
    summary = ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICT_COLOURS if counts.get(v, 0))
    return (f'<p class="rxlab-estimate">{html.escape(claims.attrs["note"])}. Throughput claims are judged '
            f"on simulations of {packets:,} packets each, with the model's band [low..high]: every cost "
            "parameter at the low and at the high end of its sources' range (data/platforms.toml); the verdict "
            "rules are in rxlab/studies/claims.py.</p>"
            f"<p>{len(claims)} claims of the seed threads (<code>data/claims.csv</code>): {summary}.</p>"
            '<table class="rxlab-scoreboard"><thead><tr><th>id</th><th>claim</th><th>claimed</th>'
            "<th>seed's data</th><th>model [band]</th>"
            f"<th>verdict</th><th>why</th></tr></thead><tbody>{rows}</tbody></table>")


def index_html(pages, quick, scoreboard=None):
    """The index: a link per notebook page (or why it failed), and the claims scoreboard.

    ``pages``: (stem, title, file name or None, error) per notebook. ``scoreboard``: HTML of
    the seed claims against the model (:func:`scoreboard_html`); without it the index says
    where the claims are rather than showing verdicts it has not computed."""
    items = "".join(
        f'<li><a href="{href(f)}">{html.escape(title or stem)}</a></li>' if f else
        f'<li>{html.escape(title or stem)}: <b class="rxlab-error">failed</b> {html.escape(err)}</li>'
        for stem, title, f, err in pages)
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


def build_reports(out="reports", quick=False, notebooks=None, log=None, scoreboard=None):
    """Execute every notebook (``quick`` injected), write ``<stem>.html`` for each and an
    ``index.html`` linking them; print one progress line per notebook to ``log``.

    A notebook that cannot run (no ``parameters`` cell, not a notebook, a failing cell, a dead
    kernel) gets no page and is listed as failed in the index; the others are built. Pages of
    notebooks that no longer exist, or failed, are removed. Interrupted (SIGINT, SIGTERM), it
    stops at once: pages already written are whole, the index is the previous one.

    Returns (index path, names of notebooks that failed)."""
    from nbclient.exceptions import CellExecutionError

    from rxlab.views.notebooks import NOTEBOOK_DIR, execute, notebook_paths

    log = log or sys.stderr
    out = check_out_folder(out)
    paths = notebook_paths(notebooks or NOTEBOOK_DIR)
    style = _notebook_style()
    pages, failed = [], []
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
            (", quick mode" if quick else "") + ' · <a href="index.html">all reports</a></p>'
        write_page(out / f"{path.stem}.html", f"rxlab: {title}", meta + notebook_html(nb), style)
        pages.append((path.stem, title, f"{path.stem}.html", ""))
        print(f" {time.monotonic() - t0:.1f} s", file=log, flush=True)
    index = out / "index.html"
    write_page(index, "rxlab reports", index_html(pages, quick, scoreboard), SCOREBOARD_STYLE)
    gone = remove_stale_pages(out, {stem for stem, _, f, _ in pages if f})
    if gone:
        print(f"rxlab report: removed {len(gone)} page(s) of notebooks that are gone or failed: {', '.join(gone)}",
              file=log, flush=True)
    print(f"rxlab report: wrote {index}", file=log, flush=True)
    return index, failed
