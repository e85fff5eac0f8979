"""Offline HTML reports: every figure inlined, no script or style fetched at view time."""

import base64
import html
import io
import sys
from pathlib import Path

import matplotlib

from rxlab.geometry import geometry_frame
from rxlab.plots import plot_geometry

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1200px; }}
table {{ border-collapse: collapse; font-size: 12px; }}
th, td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; }}
th {{ background: #eee; }}
</style></head>
<body>
{body}
</body></html>
"""

COLUMNS = ["variant", "page_size", "mtu", "xdp", "datasize", "alloc_size", "headroom", "frag_count",
           "frags_per_page", "order", "pool_size", "truesize", "truesize_pinned", "ring_bytes", "nic_bytes",
           "error"]


def png_base64(fig):
    """A matplotlib figure as base64 PNG text; the figure is closed (pyplot keeps no reference)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    matplotlib.pyplot.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def figure_html(fig, alt):
    """A matplotlib figure as an inline PNG <img> (base64), so the page needs no other file."""
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png_base64(fig)}">'


def write_page(path, title, body):
    """Write an HTML page atomically: a reader never sees a half-written file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(PAGE.format(title=html.escape(title), body=body), encoding="utf-8")
    tmp.replace(path)


def geometry_report(out, arch="arm64"):
    """Write ``geometry.html``: the MANA RX buffer table and its plot. Returns the path."""
    frame = geometry_frame(arch=arch)
    body = (
        f"<h1>MANA RX buffer geometry ({arch})</h1>"
        "<p>Kernel arithmetic of <code>mana_get_rxbuf_cfg()</code> before (<i>pre</i>) and after "
        "(<i>post</i>) the page_pool fragment patch (drivers/net/ethernet/microsoft/mana/mana_en.c), "
        "with page_pool's own fragment alignment (net/core/page_pool.c, "
        "<code>page_pool_alloc_frag_netmem</code>). Exact, not estimated. "
        "<code>frag_count</code> is the driver's count, <code>frags_per_page</code> what page_pool "
        "carves; <code>truesize</code> is what the driver reports, <code>truesize_pinned</code> the "
        "memory a packet's buffer really holds.</p>"
        + figure_html(plot_geometry(frame), "buffers per page and RX memory per queue against MTU")
        + frame[COLUMNS].to_html(index=False, border=0)
    )
    path = Path(out) / "geometry.html"
    write_page(path, "rxlab: RX buffer geometry", body)
    return path


def build_reports(out="reports", log=sys.stderr):
    """Write every report and an ``index.html`` linking them; print progress to ``log``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pages = []
    for name, make in (("RX buffer geometry", geometry_report),):
        print(f"rxlab report: {name} ...", file=log, flush=True)
        pages.append((name, make(out)))
    links = "".join(f'<li><a href="{p.name}">{html.escape(n)}</a></li>' for n, p in pages)
    index = out / "index.html"
    write_page(index, "rxlab reports", f"<h1>rxlab reports</h1><ul>{links}</ul>")
    print(f"rxlab report: wrote {index}", file=log, flush=True)
    return index
