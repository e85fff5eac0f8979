"""Sweep panels (ipywidgets): one field swept, the strategies as the series, the seed claims on the
same axes.

The user picks the swept axis (MTU, page size, XDP state or connections: ``PANEL_AXES``), the values
held for the other three, the platform profile (the throughput ESTIMATE's, whose arch the runs take)
and the Linux release. The figure has four plots: buffers per page (the geometry), memory efficiency
(static per buffer, and dynamic: mean over the run with its worst..peak range), the throughput
ESTIMATE with its band (gbps_low..gbps_high: every cost at its high / low end) and each strategy's
gain over full_page with its band. Every seed claim ``rxlab.studies.claims.claim_marks`` says applies
is drawn on the plot of its quantity, labelled with its claim id; a claim's value is in the plot's
data (``panel.marks``; each mark's artists carry its id as their gid).

Runs go through ``rxlab.sweep`` and its result cache (the study cache unless ``cache=``): a point
computed once (by any panel, notebook or sweep on the same cache) is read back, not simulated; the
points that are not there are computed one by one under a progress bar. Displayed in a static page,
a panel shows its current figure as a PNG (``static_html``).
"""

import functools
import html
import itertools

import ipywidgets as w
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from rxlab.cost.pricing import ESTIMATE_NOTE, throughput
from rxlab.cost.profiles import load_platforms
from rxlab.kernel.mana import mtu_range
from rxlab.kernel.releases import names as release_names
from rxlab.kernel.sizes import ETH_DATA_LEN
from rxlab.model import defaults
from rxlab.model.config import SimConfig, xdp_only
from rxlab.model.strategies import STRATEGIES
from rxlab.studies import cache as _cache
from rxlab.studies.claims import PANEL_AXES, claim_marks
from rxlab.studies.geometry import REPORT_MTUS
from rxlab.studies.grid import expand
from rxlab.studies.sweep import plain, sweep
from rxlab.views.plots import png_base64

AXIS_VALUES = {
    "mtu": REPORT_MTUS,
    "page_size": (4096, 16384, 65536),
    "xdp": ("off", "pass"),
    "connections": (1, 4, 16, 32, 64, 128),
}
"""The values a sweep takes on each axis (MTUs at the fragment thresholds, the seed claims' pages and
connection counts)."""
AXIS_LABELS = {"mtu": "MTU (bytes)", "page_size": "page size", "xdp": "XDP program", "connections": "connections"}
HELD_DEFAULTS = {"page_size": 4096, "mtu": 1500, "xdp": "off", "connections": 64}
SERIES = ("full_page", "pp_frag")
GAIN_BASE = "full_page"  # the gain plot's reference (and the seed claims' compare=pp_frag/full_page)
DEFAULT_PLATFORM = "typical_arm64"
STYLE = {"description_width": "90px"}
QUANTITIES = ("buffers_per_page", "mem_efficiency", "gbps", "gain_pct")
EFFICIENCY_FLOOR = 1e-4  # the memory-efficiency plot's bottom (log axis); a worst moment of 0 sits there


def _xdp(v):
    return () if v == "off" else xdp_only(v)


def _xpos(axis, v):
    """Where value ``v`` of ``axis`` sits on the plot's x axis (XDP: 0 off, 1 on)."""
    if axis == "xdp":
        return 0.0 if v in ("off", (), 0, 0.0, False) else 1.0
    return float(v)


MTU_PROBE = 16  # bytes between the MTUs probed for a step; MANA's buffer sizes move in steps of 64 or more


@functools.lru_cache(maxsize=256)
def geometry_steps(axis, strategy, kernel, arch, page_size, mtu, xdp):
    """(x, buffers per page, static efficiency per buffer) of ``strategy`` along ``axis``, the other
    fields held (None: the swept one). Along MTU: every MTU where the buffer layout changes
    (frags_per_page or the page order), found by probing every :data:`MTU_PROBE` bytes and bisecting,
    with the MTU just before it, so that buffers per page draws as its step function and the static
    efficiency (datasize over a constant share of a page between two steps) as straight segments.
    Elsewhere: the swept values."""
    base = SimConfig(kernel=kernel, arch=arch, strategy=strategy, packets=1, page_size=page_size or 4096,
                     mtu=mtu or ETH_DATA_LEN, xdp=() if axis == "xdp" else _xdp(xdp))

    def geom(m=None, x=None, p=None):
        if p is not None:
            return base.replace(page_size=p).geometry()
        return base.geometry(mtu=m, xdp=None if x is None else _xdp(x))

    out = []
    if axis == "mtu":
        lo, hi = mtu_range(page_size, xdp not in ("off", None), arch)
        lo, hi = max(lo, min(AXIS_VALUES["mtu"])), min(hi, max(AXIS_VALUES["mtu"]))
        key = {}

        def at(m):
            if m not in key:
                try:
                    g = geom(m=m)
                    key[m] = ((g.frags_per_page, g.order), g)
                except ValueError:  # an MTU the release refuses (6.1 fixes it at 1500)
                    key[m] = (None, None)
            return key[m]

        probes = sorted({*range(lo, hi + 1, MTU_PROBE), hi, *(m for m in AXIS_VALUES["mtu"] if lo <= m <= hi)})
        for a, b in itertools.pairwise(probes):
            if at(a)[0] != at(b)[0]:
                x, y = a, b  # the last MTU of a's layout and the first of b's (one step per interval)
                while y - x > 1:
                    mid = (x + y) // 2
                    x, y = (mid, y) if at(mid)[0] == at(a)[0] else (x, mid)
                at(x), at(y)
        for m in sorted(key):
            g = key[m][1]
            if g is not None:
                out.append((float(m), g.frags_per_page, g.mem_efficiency_buffer))
    else:
        for v in AXIS_VALUES[axis]:
            try:
                g = geom(x=v) if axis == "xdp" else geom(p=v) if axis == "page_size" else geom()
            except ValueError:  # e.g. XDP above the MTU it allows
                continue
            out.append((_xpos(axis, v), g.frags_per_page, g.mem_efficiency_buffer))
    xs, bpp, eff = (np.array(c) for c in zip(*out)) if out else (np.array([]),) * 3
    return xs, bpp, eff


class SweepPanel(w.VBox):
    """A sweep over one axis against the seed claims (see the module docstring).

    ``panel.axis``, ``panel.held[field]``, ``panel.platform``, ``panel.kernel``, ``panel.series``: the
    controls. ``panel.frame``: the plotted points (one row per strategy and axis value: the sweep's
    row with its throughput estimate and ``gain_pct``); ``panel.marks``: the claims drawn;
    ``panel.figure``, ``panel.png``; ``panel.last``: how many points the last draw computed and read."""

    def __init__(self, axis="mtu", series=SERIES, platform=DEFAULT_PLATFORM, kernel=None, quick=False,
                 cache=None, fixed=None, **held):
        if axis not in PANEL_AXES:
            raise ValueError(f"axis={axis!r} is not allowed: one of {', '.join(PANEL_AXES)}")
        self.fixed = dict(fixed or {})  # other SimConfig fields of every run (e.g. queues, ring_size)
        bad_fixed = set(self.fixed) & {*HELD_DEFAULTS, "kernel", "arch", "strategy"}
        if bad_fixed:
            raise ValueError(f"fixed={sorted(bad_fixed)} is not allowed: those fields are the panel's controls")
        self.packets = self.fixed.pop("packets", defaults.SWEEP_PANEL(quick))
        self.cache = _cache.study_cache_dir() if cache is None else cache
        self.profiles = load_platforms()
        unknown = set(held) - set(HELD_DEFAULTS)
        if unknown:
            raise ValueError(f"held={sorted(unknown)} is not allowed: fields {', '.join(HELD_DEFAULTS)}")
        values = {**HELD_DEFAULTS, **held}
        self.axis = w.Dropdown(description="sweep", options=[(AXIS_LABELS[a], a) for a in PANEL_AXES], value=axis,
                               style=STYLE)
        self.held = {
            "page_size": w.Dropdown(description="page size", options=[(f"{p // 1024} KB", p) for p in
                                                                       AXIS_VALUES["page_size"]],
                                    value=values["page_size"], style=STYLE),
            "mtu": w.Dropdown(description="MTU", options=REPORT_MTUS, value=values["mtu"], style=STYLE),
            "xdp": w.Dropdown(description="XDP", options=AXIS_VALUES["xdp"], value=values["xdp"], style=STYLE),
            "connections": w.Dropdown(description="connections", options=AXIS_VALUES["connections"],
                                      value=values["connections"], style=STYLE),
        }
        self.platform = w.Dropdown(description="platform", options=tuple(self.profiles), value=platform, style=STYLE)
        self.kernel = w.Dropdown(description="Linux", options=release_names(),
                                 value=kernel or SimConfig().kernel, style=STYLE)
        self.series = w.SelectMultiple(description="strategies", options=tuple(STRATEGIES), value=tuple(series),
                                       rows=min(5, len(STRATEGIES)), style=STYLE)
        self.progress = w.IntProgress(description="simulating", min=0, max=1, value=0, style=STYLE,
                                      layout=w.Layout(visibility="hidden"))
        self.status = w.HTML()
        self.figure_out = w.Output(layout=w.Layout(width="100%", min_height="600px"))
        self.frame = None
        self.marks = []
        self.figure = self.png = None
        self.last = {"computed": 0, "cached": 0, "invalid": 0}
        self._held_back = False
        controls = w.HBox([w.VBox([self.axis, self.platform, self.kernel]),
                           w.VBox([self.held["page_size"], self.held["mtu"]]),
                           w.VBox([self.held["xdp"], self.held["connections"]]), self.series],
                          layout=w.Layout(flex_flow="row wrap"))
        super().__init__([controls, w.HBox([self.progress, self.status]), self.figure_out],
                         layout=w.Layout(width="100%"))
        self.add_class("rxlab-sweep-panel")
        for c in (self.axis, self.platform, self.kernel, self.series, *self.held.values()):
            c.observe(self.update, names="value")
        self.update()

    def set(self, **values):
        """Set several controls and redraw once: ``axis``, ``platform``, ``kernel``, ``series`` or a
        held field (``page_size``, ``mtu``, ``xdp``, ``connections``)."""
        named = {"axis": self.axis, "platform": self.platform, "kernel": self.kernel, "series": self.series,
                 **self.held}
        unknown = set(values) - set(named)
        if unknown:
            raise ValueError(f"{min(unknown)} is not allowed: one of {', '.join(named)}")
        self._held_back = True
        try:
            for k, v in values.items():
                named[k].value = tuple(v) if k == "series" else v
        finally:
            self._held_back = False
        self.update()

    # -- what to run ------------------------------------------------------------------------------
    def held_values(self):
        """{field: value} of the held controls (the swept one left out)."""
        return {k: c.value for k, c in self.held.items() if k != self.axis.value}

    def configs(self):
        """(strategy, axis value, SimConfig or the reason it is refused) for every point, the gain's
        reference strategy among them."""
        axis, prof = self.axis.value, self.profiles[self.platform.value]
        strategies = list(dict.fromkeys([*self.series.value, GAIN_BASE]))
        out = []
        for s in strategies:
            for v in AXIS_VALUES[axis]:
                kw = {**self.held_values(), axis: v}
                kw["xdp"] = _xdp(kw["xdp"])
                try:
                    cfgs, invalid = expand([{**self.fixed, "kernel": self.kernel.value, "arch": prof.arch,
                                             "strategy": s, "packets": self.packets, **kw}])
                except ValueError as e:
                    out.append((s, v, str(e)))
                    continue
                out.append((s, v, cfgs[0] if cfgs else invalid[0]["error"]))
        return out

    def _run(self, points):
        """The sweep's rows of every valid point, from the cache or computed under the progress bar."""
        store = _cache.ResultCache(self.cache)
        valid = [(s, v, c) for s, v, c in points if isinstance(c, SimConfig)]
        todo = [c for _, _, c in valid if store.get(_cache.run_key(c), c) is None]
        self.progress.max, self.progress.value = max(1, len(todo)), 0
        self.progress.layout.visibility = "visible" if todo else "hidden"
        for c in todo:  # one at a time, under the bar; each is in the cache as soon as it is done
            sweep([c], cache=self.cache, workers=1, progress=False)
            self.progress.value += 1
        self.progress.layout.visibility = "hidden"
        self.last = {"computed": len(todo), "cached": len(valid) - len(todo), "invalid": len(points) - len(valid)}
        if not valid:
            return pd.DataFrame()
        # then every point at once, from the cache
        df = plain(sweep([c for _, _, c in valid], cache=self.cache, workers=1, progress=False))
        df["series"] = [s for s, _, _ in valid]
        df["x"] = [_xpos(self.axis.value, v) for _, v, _ in valid]
        return df

    # -- drawing ----------------------------------------------------------------------------------
    def update(self, change=None):
        """Run what is not cached, redraw, and draw the claims that apply."""
        if self._held_back:
            return
        for k, c in self.held.items():
            c.disabled = k == self.axis.value
        points = self.configs()
        self.status.value = "<i>sweeping ...</i>"
        frame = self._run(points)
        if frame.empty:
            self.frame, self.marks, self.figure, self.png = frame, [], None, None
            self.figure_out.outputs = ()
            self.status.value = f'<p class="rxlab-error">no point of this sweep runs: {html.escape(points[0][2])}</p>'
            return
        prof = self.profiles[self.platform.value]
        t = throughput(frame, prof)
        frame = pd.concat([frame, t[["gbps", "gbps_low", "gbps_high", "binds"]]], axis=1)
        base = frame[frame["series"] == GAIN_BASE].set_index("x")
        for col, ref in (("gain_pct", "gbps"), ("gain_pct_low", "gbps_low"), ("gain_pct_high", "gbps_high")):
            frame[col] = (frame[ref] / frame["x"].map(base[ref]) - 1) * 100
        ends = frame[["gain_pct", "gain_pct_low", "gain_pct_high"]]
        frame["gain_pct_low"], frame["gain_pct_high"] = ends.min(axis=1), ends.max(axis=1)
        held = {**self.held_values(), "arch": prof.arch}
        self.marks = claim_marks(self.axis.value, held, self.platform.value)
        self.frame = frame
        self.figure = self.draw(frame, self.marks)
        self.png = png_base64(self.figure)
        self.figure_out.outputs = ({"output_type": "display_data", "metadata": {},
                                    "data": {"image/png": self.png, "text/plain": "<rxlab sweep figure>"}},)
        skipped = [f"{s} at {v}: {r}" for s, v, r in points if not isinstance(r, SimConfig)]
        ids = ", ".join(f"<code>{html.escape(m.id)}</code>" for m in self.marks) or "none applies"
        self.status.value = (f"{self.last['computed']} runs simulated, {self.last['cached']} from the cache "
                             f"({self.packets:,} packets each); seed claims drawn: "
                             f'<span class="rxlab-claims">{ids}</span>'
                             + (f"; not run (the driver refuses them): {html.escape('; '.join(skipped))}"
                                if skipped else ""))

    def _geometry_steps(self, s):
        """(x, buffers per page, static efficiency) of strategy ``s`` along the axis (see
        :func:`geometry_steps`)."""
        held = self.held_values()
        return geometry_steps(self.axis.value, s, self.kernel.value, self.profiles[self.platform.value].arch,
                              held.get("page_size"), held.get("mtu"), held.get("xdp", "off"))

    def draw(self, frame, marks):
        """The four plots of ``frame`` with ``marks`` on them (a new Figure)."""
        axis = self.axis.value
        fig = Figure(figsize=(12, 7.5), layout="constrained")
        axes = dict(zip(QUANTITIES, fig.subplots(2, 2).ravel()))
        colors = {s: f"C{i}" for i, s in enumerate(STRATEGIES)}
        for s in self.series.value:
            g = frame[frame["series"] == s].sort_values("x")
            c = colors[s]
            xs, bpp, eff = self._geometry_steps(s)
            if len(xs):
                axes["buffers_per_page"].step(xs, bpp, where="post", color=c, label=s,
                                              marker=None if axis == "mtu" else "o", ms=4)
                axes["mem_efficiency"].plot(xs, eff, color=c, ls=":", lw=1, label=f"{s}: static, per buffer")
            if g.empty:
                continue
            ax = axes["mem_efficiency"]
            ax.fill_between(g["x"], g["mem_efficiency_worst"], g["mem_efficiency_peak"], color=c, alpha=0.15)
            ax.plot(g["x"], g["mem_efficiency_mean"], "o-", color=c, ms=4, label=f"{s}: run mean (worst..peak)")
            ax = axes["gbps"]
            ax.fill_between(g["x"], g["gbps_low"], g["gbps_high"], color=c, alpha=0.15)
            ax.plot(g["x"], g["gbps"], "o-", color=c, ms=4, label=s)
            if s != GAIN_BASE:
                ax = axes["gain_pct"]
                ax.fill_between(g["x"], g["gain_pct_low"], g["gain_pct_high"], color=c, alpha=0.15)
                ax.plot(g["x"], g["gain_pct"], "o-", color=c, ms=4, label=f"{s} vs {GAIN_BASE}")
        axes["gain_pct"].axhline(0.0, color="0.5", lw=0.8)
        xs_all = np.array(sorted({_xpos(axis, v) for v in AXIS_VALUES[axis]}))
        for m in marks:
            self._mark(axes[m.quantity], m, colors.get(m.strategy, "k"), xs_all)
        titles = {"buffers_per_page": ("RX buffers per page (page_pool's carving)", "buffers per page"),
                  "mem_efficiency": ("Memory efficiency: packet bytes per byte pinned", "held / pinned"),
                  "gbps": ("Throughput ESTIMATE, band: every cost at its ends", "Gbps (TCP payload)"),
                  "gain_pct": (f"Gain over {GAIN_BASE} (ESTIMATE)", "%")}
        for q, ax in axes.items():
            ax.set_title(titles[q][0], fontsize=10)
            ax.set_ylabel(titles[q][1])
            ax.set_xlabel(AXIS_LABELS[axis])
            ax.grid(True, alpha=0.3)
            self._xaxis(ax, axis, xs_all)
            ax.legend(fontsize=7, loc="best")
        # static efficiencies sit near 1, a run's near its queued data over every posted ring: a log axis
        ax = axes["mem_efficiency"]
        ax.set_yscale("log")
        ax.set_ylim(EFFICIENCY_FLOOR, 1.5)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.4g}"))
        if axis == "mtu" or self.held["page_size"].value == 65536 or axis == "page_size":
            ax = axes["buffers_per_page"]
            ax.set_yscale("log", base=2)
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        held = ", ".join(f"{k} {v}" for k, v in self.held_values().items())
        fig.suptitle(f"Linux {self.kernel.value}, {self.platform.value} "
                     f"({self.profiles[self.platform.value].arch}); {held}; {self.packets:,} packets a run. "
                     "Throughput is an ESTIMATE.", fontsize=10)
        return fig

    @staticmethod
    def _xaxis(ax, axis, xs):
        if axis == "xdp":
            ax.set_xticks([0.0, 1.0], ["off", "on (PASS)"])
            ax.set_xlim(-0.5, 1.5)
        elif axis in ("page_size", "connections"):
            ax.set_xscale("log", base=2)
            ax.xaxis.set_major_locator(FixedLocator(xs))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticks(xs, [f"{int(x) // 1024} KB" if axis == "page_size" else f"{int(x)}" for x in xs])

    @staticmethod
    def _mark(ax, m, color, xs):
        """One claim on its plot; every artist it makes carries the claim id as its gid."""
        kw = {"color": color, "gid": m.id}
        if m.kind == "vline":
            ax.axvline(m.x, ls="--", lw=1.2, **kw)
            ax.annotate(m.id, (m.x, 1.0), xycoords=("data", "axes fraction"), rotation=90, fontsize=7,
                        va="top", ha="right", gid=m.id)
            return
        if m.kind == "point":
            ax.plot([m.x], [m.y], marker="*", ms=14, ls="none", mec="k", label=m.label, **kw)
            right = m.x >= xs.max()  # at the axis' right end: the label goes to the left of the mark
            ax.annotate(m.id, (m.x, m.y), textcoords="offset points", xytext=(-8 if right else 8, 6),
                        ha="right" if right else "left", fontsize=7, gid=m.id)
            return
        x0, x1 = (m.x, m.x_high) if m.x is not None else (xs.min(), xs.max())
        if m.x is not None and m.x_high is None:
            x0 = x1 = m.x
        ys = [m.y] if m.kind == "level" else [m.y, m.y_high]
        for i, y in enumerate(ys):
            ax.plot([x0, x1], [y, y], ls="--", lw=1.5, marker="|", label=m.label if i == 0 else None, **kw)
        if m.kind == "band":
            ax.fill_between([x0, x1], [m.y] * 2, [m.y_high] * 2, alpha=0.12, color=color, gid=m.id)
        ax.annotate(m.id, (x1, ys[0]), textcoords="offset points", xytext=(-4, 4), ha="right", fontsize=7, gid=m.id)

    # -- static pages -----------------------------------------------------------------------------
    def static_html(self):
        """The panel's current state as plain HTML (figure inlined): what a static page shows."""
        if self.png is None:
            return f'<p class="rxlab-error">{self.status.value}</p>'
        alt = (f"sweep over {AXIS_LABELS[self.axis.value]}: buffers per page, memory efficiency, throughput "
               f"estimate and gain, with the seed claims {', '.join(m.id for m in self.marks) or '(none apply)'}")
        return (f'<div class="rxlab-sweep-panel"><p>{self.status.value}</p>'
                f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{self.png}" style="max-width: 100%">'
                f'<p style="font-size: 10px">{html.escape(ESTIMATE_NOTE)}</p></div>')

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/html"] = self.static_html()
        return bundle


def sweep_panel(axis="mtu", quick=False, **kw):
    """A :class:`SweepPanel` over ``axis``; ``quick`` simulates fewer packets a run (tests, reports)."""
    return SweepPanel(axis=axis, quick=quick, **kw)
