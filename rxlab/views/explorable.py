"""The report's explorable figure: a precomputed grid a reader browses offline.

The grid (MTU x page size x XDP state x connections, the strategies as series) runs through
``rxlab.studies.sweep`` and its cache and is priced under each platform of :data:`PLATFORMS`.
Every view of it (a swept axis and a value for each other field) is drawn once as a PNG: buffers
per page, memory efficiency (rxlab/counters.py METRICS; static: ``mem_efficiency_ring``, full-MTU
frame bytes per byte the posted ring pins; dynamic: ``mem_efficiency_mean`` over the run's samples,
shaded from ``mem_efficiency_worst`` to ``mem_efficiency_peak``, packet bytes held per byte of pages
pinned) and the throughput ESTIMATE with its band, each seed claim that applies
(``data/claims.csv`` through ``rxlab.studies.claims``) drawn and labelled by its id. The page
ships the images and a small script that swaps them when a control changes: no server, no
network. With scripts off the controls stay hidden and the default view shows.
"""

import html
import itertools
import json
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from rxlab.cost.pricing import ESTIMATE_NOTE, throughput
from rxlab.cost.profiles import load_platforms
from rxlab.model import defaults
from rxlab.model.config import SimConfig
from rxlab.studies.claims import load_claims
from rxlab.studies.sweep import sweep_rows
from rxlab.views.format import number
from rxlab.views.plots import png_base64

# the fields a reader sweeps or holds, and their values in the report's grid
GRID = {"mtu": (1500, 4000, 9000), "page_size": (4096, 16384, 65536), "xdp": ("off", "on"),
        "connections": (1, 16, 64)}
AXIS_NAMES = {"mtu": "MTU", "page_size": "page size", "xdp": "XDP program", "connections": "TCP connections"}
STRATEGIES = ("pp_frag", "full_page")  # the series: after the fragment patch, and one page per buffer
PLATFORMS = ("typical_arm64", "affected_arm64")  # a held value too; arm64 has every page size
SKUS = {"typical": "typical_arm64", "affected": "affected_arm64"}  # claims.csv's sku= condition
DEFAULT = {"axis": "page_size", "mtu": 1500, "page_size": 65536, "xdp": "off", "connections": 1,
           "platform": "typical_arm64"}
DPI = 90  # 1080 x 486 pixels: readable at 100 % zoom in a 1200-pixel page
MAX_PAGE_BYTES = 10 * 2**20  # a report page stays under 10 MB
# static (the posted ring's geometry) and dynamic (the run's samples: mean, best and worst moment)
MEM_EFFICIENCY = ("mem_efficiency_ring", "mem_efficiency_mean", "mem_efficiency_peak", "mem_efficiency_worst")
XDP_PROGRAM = "pass"  # "on": a program attached that passes every packet (the driver's XDP layout)


def value_text(field, v):
    """A grid value as a control and an axis label show it: ``64 KB``, ``off``, ``1500``."""
    if field == "page_size":
        return f"{int(v) // 1024} KB"
    return str(v)


def grid_frame(quick=True, grid=None, packets=None, platforms=None, cache=None):
    """One row per (grid point, strategy, platform): the grid fields, ``frags_per_page``,
    the static and dynamic memory efficiency columns :data:`MEM_EFFICIENCY`, the throughput estimate ``gbps`` with its band ``gbps_low`` and
    ``gbps_high``, and ``binds``. Combinations the driver refuses (XDP above MANA_XDP_MTU_MAX)
    have no row. ``packets``: per run (default ``defaults.REPORT_GRID(quick)``); ``platforms``: the
    profiles it is priced under (default :data:`PLATFORMS`)."""
    grid = {**GRID, **(grid or {})}
    packets = packets or defaults.REPORT_GRID(quick)
    points = []
    for mtu, page_size, xdp, conns, strategy in itertools.product(
            grid["mtu"], grid["page_size"], grid["xdp"], grid["connections"], STRATEGIES):
        p = {"mtu": mtu, "page_size": page_size, "connections": conns, "strategy": strategy, "arch": "arm64",
             "xdp": XDP_PROGRAM if xdp == "on" else "off", "packets": packets}
        try:
            SimConfig(**{**p, "xdp": _xdp_fractions(xdp)})
        except ValueError:  # the driver refuses it (SimConfig says why); sweep() would warn and skip it
            continue
        points.append(p)
    rows = sweep_rows(points, cache=cache)
    keys = pd.DataFrame(points).drop(columns=["arch", "packets"])
    keys["xdp"] = keys["xdp"].map(lambda x: "off" if x == "off" else "on")
    keys["frags_per_page"] = [SimConfig(**{**p, "xdp": _xdp_fractions(p["xdp"])}).geometry().frags_per_page
                              for p in points]
    for c in MEM_EFFICIENCY:
        keys[c] = rows[c].to_numpy()
    profiles = load_platforms()
    out = []
    for name in platforms or PLATFORMS:
        t = throughput(rows, profiles[name])
        out.append(keys.assign(platform=name, **{c: t[c].to_numpy() for c in ("gbps", "gbps_low", "gbps_high",
                                                                               "binds")}))
    df = pd.concat(out, ignore_index=True)
    # what every caption names: the release simulated (SimConfig's default, the newest) and the packets
    df.attrs.update(kernel=SimConfig().kernel, packets=packets)
    return df


def _xdp_fractions(xdp):
    return () if xdp == "off" else (1.0, 0.0, 0.0, 0.0)


def refused(held):
    """Why SimConfig refuses the ``held`` values (the driver's limit it names), or ``""``."""
    try:
        SimConfig(**{k: (_xdp_fractions(v) if k == "xdp" else v) for k, v in held.items() if k in GRID})
    except ValueError as e:
        return str(e)
    return ""


def _in(cond, v):
    """Whether grid value ``v`` meets a claims.csv condition (``1500``, ``32..128``, ``0``/``1``)."""
    lo, sep, hi = str(cond).partition("..")
    if sep:
        return float(lo) <= float(v) <= float(hi)
    return float(lo) == float(v)


def applicable_claims(axis, held, values):
    """The seed claims the view (``axis`` swept over ``values``, ``held`` the other fields and the
    platform) can show: ``[{"id", "quantity", "value", "value_high", "unit", "series", "x"}]`` with
    ``x`` the indices of ``values`` the claim's conditions allow (every one when they do not name
    the axis). A claim whose conditions name a field held at another value, another architecture,
    SKU or strategy is left out."""
    out = []
    for c in load_claims().itertuples():
        cond = dict(c.conditions)
        compare = cond.pop("compare", "")
        series = {"post": "pp_frag", "pre": "full_page"}.get(cond.pop("variant", "post"))
        if cond.pop("arch", "arm64") != "arm64" or cond.pop("allocator", None):
            continue
        sku = cond.pop("sku", None)
        if sku is not None and SKUS.get(sku) != held["platform"]:
            continue
        if compare and set(compare.replace("-", "/").split("/")) != set(STRATEGIES):
            continue
        if c.quantity not in ("buffers_per_page", "frag_path_max_mtu", "throughput_gain", "line_rate",
                              "frag_shortfall"):
            continue
        if c.quantity == "frag_path_max_mtu" and axis != "mtu":
            continue
        cond = {k: (("off", "on")[int(v)] if k == "xdp" else v) for k, v in cond.items()}
        if any(k in GRID and k != axis and not (held[k] == v if k == "xdp" else _in(v, held[k]))
               for k, v in cond.items()):
            continue
        x = [i for i, v in enumerate(values) if axis not in cond
             or (cond[axis] == v if axis == "xdp" else _in(cond[axis], v))]
        if not x and c.quantity != "frag_path_max_mtu":
            continue
        out.append({"id": c.id, "quantity": c.quantity, "value": float(c.value),
                    "value_high": float(c.value_high), "unit": c.unit, "series": series, "x": x,
                    "comparison": str(c.comparison)})
    return out


def _claim_label(c):
    v = number(c["value"]) + (f"..{number(c['value_high'])}" if not math.isnan(c["value_high"]) else "")
    return f"{c['id']}: {v} {c['unit']}"


def explore_figure(frame, axis, held):
    """The view of ``frame`` (:func:`grid_frame`) with ``axis`` swept and ``held`` the other fields
    and the platform: (figure, claims drawn). Each claim artist has ``gid`` ``claim:<id>`` and
    carries the claim's value in its data (a throughput gain or shortfall is drawn where it puts
    fragments: full pages' estimate scaled by it)."""
    values = sorted(frame[axis].unique(), key=lambda v: GRID["xdp"].index(v) if axis == "xdp" else v)
    sel = frame[frame["platform"] == held["platform"]]
    for k in GRID:
        if k != axis:
            sel = sel[sel[k] == held[k]]
    if sel.empty:  # every point of this view is a combination the driver refuses
        fig, ax = plt.subplots(figsize=(12, 1.5))
        ax.set_axis_off()
        ax.text(0.5, 0.5, "No runs: the driver refuses every point of this view\n" + refused(held),
                ha="center", va="center", wrap=True, fontsize=10)
        return fig, []
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(12, 5.4))
    # a fixed layout (many figures: no layout engine), legends below the axes, never over the data
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.33, top=0.94, wspace=0.22)
    pos = {v: i for i, v in enumerate(values)}
    series = {}
    for i, s in enumerate(STRATEGIES):
        g = sel[sel["strategy"] == s].copy()
        g["x"] = g[axis].map(pos)
        g = g.sort_values("x")
        series[s] = g
        kw = {"color": f"C{i}", "marker": "o", "ms": 5, "label": s}
        # markers joined by thin lines: the grid's points only (between them the value is not computed)
        ax1.plot(g["x"], g["frags_per_page"], lw=1, **kw)
        # static: the posted ring's geometry (dotted); dynamic: the run's mean, shaded from its worst
        # moment to its best (rxlab/counters.py METRICS)
        ax2.plot(g["x"], 100 * g["mem_efficiency_ring"], color=f"C{i}", ls=":", lw=1.2,
                 label=f"{s}: static, ring", gid=f"mem_efficiency_ring:{s}")
        ax2.fill_between(g["x"], 100 * g["mem_efficiency_worst"], 100 * g["mem_efficiency_peak"], color=f"C{i}",
                         alpha=0.15, lw=0, gid=f"mem_efficiency_band:{s}")
        ax2.plot(g["x"], 100 * g["mem_efficiency_mean"], lw=1, gid=f"mem_efficiency_mean:{s}",
                 **{**kw, "label": f"{s}: run mean (worst..peak)"})
        ax3.plot(g["x"], g["gbps"], **kw)
        ax3.fill_between(g["x"], g["gbps_low"], g["gbps_high"], color=f"C{i}", alpha=0.15, lw=0,
                         label=f"{s}: band")
    drawn = applicable_claims(axis, held, values)
    for j, c in enumerate(drawn):
        kw = {"color": "k", "gid": f"claim:{c['id']}", "label": f"claim {_claim_label(c)}"}
        mark = "*^vDPX"[j % 6]
        if c["quantity"] == "buffers_per_page":
            c["y"] = [c["value"]] * len(c["x"])
            ax1.plot(c["x"], c["y"], mark, ms=11, mfc="none", mew=1.5, ls="none", **kw)
        elif c["quantity"] == "frag_path_max_mtu":
            at = float(np.interp(c["value"], values, range(len(values))))
            c["x"], c["y"] = [at], [c["value"]]
            ax1.axvline(at, ls=":", lw=1.5, **kw)
            ax1.annotate(c["id"], (at, 1), rotation=90, fontsize=8, ha="right", va="bottom")
        elif c["quantity"] == "line_rate":
            c["y"] = [c["value"]]
            ax3.axhline(c["value"], ls="--", lw=1, **kw)
            ax3.annotate(c["id"], (-0.35, c["value"]), fontsize=8, va="bottom")
        else:  # a gain or a shortfall of fragments over full pages: where it puts fragments
            full = series["full_page"].set_index("x")["gbps"]
            xs = [x for x in c["x"] if x in full.index]
            lo = c["value"] if c["quantity"] == "throughput_gain" else -c["value"]
            hi = lo if math.isnan(c["value_high"]) else (-c["value_high"])
            c["x"] = xs
            c["y"] = [float(full[x] * (1 + lo / 100)) for x in xs]
            ax3.plot(xs, c["y"], mark, ms=11, mfc="none", mew=1.5, ls="none", **kw)
            if hi != lo:
                ax3.vlines(xs, [full[x] * (1 + hi / 100) for x in xs], c["y"], color="k", lw=2)
        for x, y in zip(c["x"], c["y"]):
            if c["quantity"] not in ("frag_path_max_mtu", "line_rate"):
                last = x >= len(values) - 1  # label to the left of the last point: inside the axes
                (ax3 if c["quantity"] != "buffers_per_page" else ax1).annotate(
                    c["id"], (x, y), xytext=(-8 if last else 8, 4), textcoords="offset points", fontsize=8,
                    ha="right" if last else "left")
    tops = [sel["gbps_high"].max()] + [y for c in drawn if c["quantity"] != "buffers_per_page"
                                       and c["quantity"] != "frag_path_max_mtu" for y in c["y"]]
    ax3.set_ylim(0, 1.15 * max([t for t in tops if math.isfinite(t)] or [1.0]))  # room for every claim marker
    labels = [value_text(axis, v) for v in values]
    for ax in (ax1, ax2, ax3):
        ax.set_xticks(range(len(values)), labels)
        ax.set_xlim(-0.4, len(values) - 0.6)
        ax.set_xlabel(AXIS_NAMES[axis])
        ax.grid(True, alpha=0.3)
        right = ax is ax3  # its legend (claims) is the widest: it grows leftwards, inside the figure
        ax.legend(fontsize=8, loc="upper right" if right else "upper left", bbox_to_anchor=(float(right), -0.13),
                  ncol=1 if ax is ax2 else 2)
    ax1.set_yscale("log", base=2)
    ax1.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
    ax1.set(ylabel="RX buffers per page", title="Buffers per page (kernel arithmetic)")
    # a log axis: the static figure (tens of %) and the dynamic one (a run holds a small part of what
    # it pins) on the same axes; a worst moment of 0 sits on the floor
    eff = 100 * sel[list(MEM_EFFICIENCY)].to_numpy().ravel()
    floor = 10 ** math.floor(math.log10(min([v for v in eff if v > 0] or [1.0])))
    ax2.set_yscale("log")
    ax2.yaxis.set_minor_locator(plt.NullLocator())  # decades only: minor log ticks cost a third of the drawing
    ax2.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: number(v)))
    ax2.set(ylabel="% of the bytes pinned (log)", ylim=(floor, 100),
            title="Memory efficiency: packet bytes / bytes pinned")
    ax3.set(ylabel="Gbps (ESTIMATE, shaded: band)", title=f"Throughput, {held['platform']}")
    return fig, drawn


def view_key(axis, held):
    """The key of a view: ``axis=mtu|page_size=4096|xdp=off|connections=1|platform=typical_arm64``."""
    return "|".join([f"axis={axis}"] + [f"{k}={held[k]}" for k in (*GRID, "platform") if k != axis])


def caption(axis, held, drawn, runs, kernel, packets):
    """What a view shows, as plain text (the page swaps it with the figure): the swept field, the
    held ones, the release, platform and packets per run, the claims drawn."""
    fixed = ", ".join(f"{AXIS_NAMES[k]} {value_text(k, held[k])}" for k in GRID if k != axis)
    claims = "; ".join(_claim_label(c) for c in drawn) or "none applies to this view"
    return (f"{AXIS_NAMES[axis]} swept; {fixed}; Linux {kernel}; platform {held['platform']}; {runs} runs of "
            f"{packets:,} packets. Seed claims drawn: {claims}.")


def views(frame):
    """Every view of the grid: {key: (png base64, caption)}, and the default view's key."""
    grid = {k: [v for v in GRID[k] if v in set(frame[k])] for k in GRID}
    out = {}
    for axis in GRID:
        others = [k for k in GRID if k != axis]
        for vals in itertools.product(*(grid[k] for k in others), PLATFORMS):
            held = dict(zip((*others, "platform"), vals))
            if held["platform"] not in set(frame["platform"]):
                continue
            fig, drawn = explore_figure(frame, axis, held)
            runs = len(frame[frame["platform"] == held["platform"]])
            out[view_key(axis, held)] = (png_base64(fig, dpi=DPI, palette=True), caption(axis, held, drawn, runs, frame.attrs["kernel"],
                                                                               frame.attrs["packets"]))
    default = view_key(DEFAULT["axis"], DEFAULT)
    return out, default if default in out else next(iter(out))


SCRIPT = """(function () {
  var data = JSON.parse(document.getElementById("rxlab-explore-data").textContent);
  var form = document.getElementById("rxlab-explore-controls");
  var img = document.getElementById("rxlab-explore-img");
  var cap = document.getElementById("rxlab-explore-caption");
  function key() {
    var axis = form.elements.axis.value, parts = ["axis=" + axis];
    data.fields.forEach(function (k) {
      var el = form.elements[k];
      el.disabled = (k === axis);
      if (k !== axis) { parts.push(k + "=" + el.value); }
    });
    return parts.join("|");
  }
  function show() {
    var k = key(), v = data.views[k];
    if (!v) { cap.textContent = "This combination is not in the precomputed grid (" + k + ")."; return; }
    img.src = "data:image/png;base64," + v[0];
    img.setAttribute("data-key", k);
    cap.textContent = v[1];
  }
  form.addEventListener("change", show);
  form.hidden = false;
  document.getElementById("rxlab-explore-static").hidden = true;
  key();
})();
"""

STYLE = """
#rxlab-explore-controls label { margin-right: 1em; font-size: 13px; }
#rxlab-explore-controls select:disabled { opacity: 0.4; }
#rxlab-explore figure { margin: 0.6em 0; }
#rxlab-explore img { max-width: 100%; }
#rxlab-explore figcaption { font-size: 13px; color: #333; }
"""


def _select(name, label, options, selected):
    opts = "".join(f'<option value="{html.escape(str(v), quote=True)}"' + (" selected" if v == selected else "")
                   + f">{html.escape(text)}</option>" for v, text in options)
    return f'<label>{html.escape(label)} <select name="{name}">{opts}</select></label>'


def explore_html(frame, packets):
    """The explorable figure as an HTML fragment: controls (hidden until the script runs), the
    default view inline, every other view in a JSON block, and the script that swaps them."""
    all_views, default = views(frame)
    png, text = all_views[default]
    d = dict(kv.split("=", 1) for kv in default.split("|"))
    held = {k: d.get(k, DEFAULT[k]) for k in (*GRID, "platform")}
    controls = _select("axis", "swept axis", [(k, AXIS_NAMES[k]) for k in GRID], d["axis"]) + "".join(
        _select(k, AXIS_NAMES[k], [(str(v), value_text(k, v)) for v in GRID[k] if v in set(frame[k])],
                str(held[k])) for k in GRID) + _select("platform", "platform",
                                                       [(p, p) for p in sorted(set(frame["platform"]))],
                                                       held["platform"])
    data = json.dumps({"fields": [*GRID, "platform"], "views": all_views}, separators=(",", ":"))
    data = data.replace("</", "<\\/")  # never ends the script element early
    return f"""<section id="rxlab-explore">
<p class="rxlab-estimate">{html.escape(ESTIMATE_NOTE)}. A precomputed grid: {len(frame) // max(1, len(set(frame["platform"])))}
runs of {packets:,} packets (arm64; MTU, page size, XDP program, connections; strategies {", ".join(STRATEGIES)}), priced
under {len(set(frame["platform"]))} platforms, {len(all_views)} views. Pick the swept axis and the values held; the
figure is swapped in this page (nothing is fetched).</p>
<form id="rxlab-explore-controls" hidden>{controls}</form>
<p id="rxlab-explore-static" class="rxlab-note">Scripts are off: this is the default view
({html.escape(AXIS_NAMES[d["axis"]])} swept). Turn scripts on to change the swept axis and the held values.</p>
<figure><img id="rxlab-explore-img" data-key="{html.escape(default, quote=True)}"
 alt="buffers per page, memory efficiency and throughput against the swept axis"
 src="data:image/png;base64,{png}"><figcaption id="rxlab-explore-caption">{html.escape(text)}</figcaption></figure>
<script type="application/json" id="rxlab-explore-data">{data}</script>
<script>{SCRIPT}</script>
</section>"""
