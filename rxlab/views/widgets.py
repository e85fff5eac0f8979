"""Interactive panels (ipywidgets) over the simulation. Notebooks only create and display them.

A panel re-runs :func:`rxlab.simulate` whenever a control changes and shows the figure as a PNG
in an ``Output`` widget and the kernel counters in an ``HTML`` widget. Its controls are
``panel.controls[field]`` (keyed by SimConfig field), so tests drive it from Python. Beside the
counters, the cost model's throughput ESTIMATE of the run under ``panel.platform`` (a profile of
``data/platforms.toml``; changing it re-prices the same run, it does not simulate again). Displayed in
a static page (an HTML report, where no widget renderer runs) a panel falls back to a snapshot of
its current state: the same figure and table as plain HTML.

The ``kernel`` control picks a Linux release of ``data/kernels.toml``. The controls of the fields
whose default is the release's (ring size, queues, tcp_rmem, skb_defer_max, strategy) show that
release's value until the user sets them; a value the user set stays when the release changes.
"""

import base64
import html
from typing import ClassVar

import ipywidgets as w
import pandas as pd
from matplotlib.figure import Figure

from rxlab.cost.pricing import attribution_frame, throughput
from rxlab.counters import DOC
from rxlab.kernel.releases import names as release_names
from rxlab.kernel.sizes import ARCHES
from rxlab.model import defaults
from rxlab.model.config import APP_CPUS, INT_RANGES, RELEASE_FIELDS, SimConfig, xdp_only
from rxlab.model.simulate import simulate
from rxlab.model.strategies import STRATEGIES
from rxlab.studies.geometry import REPORT_MTUS
from rxlab.views.base import Panel
from rxlab.views.format import number, quantity, unit_of
from rxlab.views.plots import (
    plot_memory,
    plot_per_packet,
    plot_queue_occupancy,
    plot_truesize_ratio,
)

# Packets per run: enough for every posted buffer to turn over a few times (4 queues x 1024),
# few enough that a change redraws in well under a second.

PAGE_SIZES = (("4 KB", 4096), ("16 KB", 16384), ("64 KB", 65536))
XDP = (("none", ()), *((v.upper(), xdp_only(v)) for v in ("pass", "drop", "tx", "redirect")))
RING_SIZES = tuple(INT_RANGES["ring_size"][0] << i
                   for i in range((INT_RANGES["ring_size"][1] // INT_RANGES["ring_size"][0]).bit_length()))
TCP_RMEM = (("128 KiB", 131072), ("1 MiB", 1 << 20), ("6 MiB", 6291456), ("16 MiB", 16 << 20),
            ("32 MiB", 32 << 20))

STYLE = {"description_width": "110px"}
DEFAULT_PLATFORM = "typical_arm64"
TOP_OPERATIONS = 5


def _controls():
    """One widget per SimConfig field the explorer exposes, keyed by the field's name."""
    def drop(desc, options, value):
        return w.Dropdown(description=desc, options=options, value=value, style=STYLE)

    def islider(desc, lo, hi, value, step=1):
        return w.IntSlider(description=desc, min=lo, max=hi, step=step, value=value,
                           continuous_update=False, style=STYLE)

    def fslider(desc, lo, hi, value, step):
        return w.FloatSlider(description=desc, min=lo, max=hi, step=step, value=value,
                             continuous_update=False, style=STYLE)

    def check(desc, value):
        return w.Checkbox(description=desc, value=value, indent=False)

    d = SimConfig()
    return {
        "kernel": drop("Linux", release_names(), d.kernel),
        "page_size": drop("page size", PAGE_SIZES, d.page_size),
        "mtu": drop("MTU", REPORT_MTUS, d.mtu),
        "xdp": drop("XDP", XDP, d.xdp),
        "strategy": drop("strategy", tuple(STRATEGIES), d.strategy),
        "arch": drop("arch", tuple(ARCHES), d.arch),
        "ring_size": w.SelectionSlider(description="ring size", options=RING_SIZES, value=d.ring_size,
                                       continuous_update=False, style=STYLE),
        "queues": islider("queues", 1, INT_RANGES["queues"][1], d.queues),
        "connections": islider("connections", 1, 256, d.connections),
        "app_cpus": drop("app CPUs", APP_CPUS, d.app_cpus),
        "reader_cpus": islider("reader CPUs", 1, 256, d.reader_cpus),
        "tcp_rmem": drop("tcp_rmem", TCP_RMEM, d.tcp_rmem),
        "ack_fraction": fslider("pure ACKs", 0.0, 0.9, d.ack_fraction, 0.05),
        "clone_fraction": fslider("clones (tap)", 0.0, 1.0, d.clone_fraction, 0.05),
        "copybreak": islider("copybreak", 0, 1024, d.copybreak, 64),
        "link_gbps": fslider("link Gbps", 10.0, 400.0, d.link_gbps, 10.0),
        "alloc_fail_rate": fslider("alloc fail rate", 0.0, 0.05, d.alloc_fail_rate, 0.001),
        "truesize_honest": check("truesize honest", d.truesize_honest),
        "gro": check("NAPI GRO", d.gro),
        "gro_hw": check("hardware GRO (bnxt)", d.gro_hw),
        "defer_free": check("defer free to NAPI CPU", d.defer_free),
        "skb_defer_max": islider("skb_defer_max", 0, 1024, d.skb_defer_max, 16),
    }


def _row(name, value, per_packet="", meaning=""):
    # numbers by rxlab.views.format: 4 significant digits, bytes in KiB/MiB, Gbps and % with their unit
    value = quantity(value, unit_of(name)) if isinstance(value, (int, float)) else str(value)
    per = number(per_packet) if isinstance(per_packet, float) else per_packet
    return (f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td><td>{per}</td>"
            f'<td style="text-align: left">{html.escape(meaning)}</td></tr>')


def _section(cls, title, rows):
    return f'<tbody class="{cls}"><tr><th colspan="4" style="text-align: left">{title}</th></tr>{rows}</tbody>'


def counters_html(result):
    """``<table class="rxlab-counters">``: the run's metrics, its buffer geometry and the counters it
    moved; the counters that stayed zero named in one line, and every counter attached as CSV data."""
    g = result.geometry
    metrics = "".join(_row(k, v) for k, v in result.metrics().items())
    geometry = "".join(_row(k, getattr(g, k)) for k in ("alloc_size", "frag_count", "frags_per_page",
                                                         "truesize", "truesize_pinned", "ring_bytes"))
    frame = result.counters_frame()
    moved = frame[frame["value"] != 0]
    counters = "".join(_row(r.counter, int(r.value), float(r.per_packet), DOC[r.counter][0])
                       for r in moved.itertuples())
    csv = base64.b64encode(frame.to_csv(index=False).encode()).decode()
    zero = ", ".join(frame.loc[frame["value"] == 0, "counter"])
    rest = (f'<tr><td colspan="4" style="text-align: left">zero in this run: {html.escape(zero) or "none"}; every '
            f'counter: <a download="counters.csv" href="data:text/csv;base64,{csv}">counters.csv</a></td></tr>')
    head = "<tr><th>name</th><th>value</th><th>per packet</th><th>meaning</th></tr>"
    return (f'<table class="rxlab-counters"><thead>{head}</thead>'
            + _section("metrics", "metrics", metrics) + _section("geometry", "RX buffer geometry", geometry)
            + _section("counters", "kernel counters", counters + rest) + "</table>")


def estimate_html(result, profile):
    """``<table class="rxlab-estimate">``: the cost model's throughput ESTIMATE of a run under one
    platform profile (the bound that binds, its band, every bound: a profile's empirical device
    ceiling too, which is no CPU cost), each CPU class's utilisation, and the top of its attribution
    over both CPU classes."""
    t = throughput(result, profile).iloc[0]
    att = attribution_frame(result, profile)
    att = att.sort_values("cycles_per_packet", ascending=False, kind="stable").head(TOP_OPERATIONS)
    # numbers by rxlab.views.format: 4 significant digits, with units
    bounds = "".join(f"<tr><th>{name}</th><td>{quantity(v, 'Gbps') if v < float('inf') else 'not limiting'}</td>"
                     f"<td></td><td>{util}</td></tr>" for name, v, util in
                     (("line bound", t.gbps_line, ""), ("RX-core CPU bound", t.gbps_cpu, f"{t.util_napi:.0%} busy"),
                      ("reading-core CPU bound", t.gbps_reader, f"{t.util_reader:.0%} busy" if t.reader_cores else ""),
                      ("window bound", t.gbps_window, ""),
                      ("device bound (empirical, not CPU)", t.gbps_device, "")))
    top = "".join(f'<tr><th>{html.escape(r.operation)} ({"RX core" if r.cpu_class == "napi" else "reading core"})</th>'
                  f"<td>{number(r.count_per_packet)} x {number(r.cycles_per_op)}</td>"
                  f"<td>{number(r.cycles_per_packet)}</td><td>{r.share:.0%}</td></tr>" for r in att.itertuples())
    warn = "" if profile.arch == result.config.arch else (
        f'<p class="rxlab-error">the profile is {profile.arch}, the simulated geometry {result.config.arch}</p>')
    return (f'<p><b>ESTIMATE</b> on <code>{html.escape(profile.name)}</code>: <b>{quantity(t.gbps, "Gbps")}</b>, '
            f"<b>{t.binds}</b> binds ({t.cycles_per_packet:.0f} cycles per packet on {t.rx_cores:.0f} RX cores, "
            f"{t.cycles_per_packet_reader:.0f} on {t.reader_cores:.0f} reading cores); "
            f"band {number(t.gbps_low)}..{number(t.gbps_high)} Gbps with every cost at its high / low end</p>"
            f"{warn}"
            '<table class="rxlab-estimate"><thead><tr><th>bound / top operations</th><th>value / count x cycles</th>'
            f"<th>cycles per packet</th><th>share</th></tr></thead><tbody>{bounds}{top}</tbody></table>"
            f'<p style="font-size: 10px">{html.escape(t.note)}</p>')


def run_figure(result):
    """The explorer's figure: memory over time, operations per packet, the len/truesize ratio, and
    the queue occupancy (connections per RX queue, as RSS placed them)."""
    fig = Figure(figsize=(17, 3.8), layout="constrained")
    ax = fig.subplots(1, 4)
    plot_memory(result.samples_frame(), ax=ax[0])
    plot_per_packet(result.counters_frame(), ax=ax[1])
    plot_truesize_ratio(result.truesize_frame(), ax=ax[2])
    plot_queue_occupancy(result.queue_occupancy(), ax=ax[3])
    c = result.config
    fig.suptitle(f"Linux {c.kernel}, {c.strategy}, {c.page_size // 1024} KB pages, MTU {c.mtu}, "
                 f"{'XDP, ' if c.xdp else ''}{c.connections} connections, {c.queues} queues x {c.ring_size}",
                 fontsize=10)
    return fig


class RunView(Panel):
    """One run as a :class:`rxlab.views.base.Panel` (the explorer's): ``state["config"]`` is the
    SimConfig (or the reason the controls' values are refused); the run is :func:`simulate` itself,
    not a cached row (the figure needs the run's samples), priced under ``state["platform"]`` and
    drawn by :func:`run_figure`. ``result``: the Result; ``error``: why there is none."""

    CONTROLS: ClassVar[dict] = {"platform": "platform"}

    def defaults(self):
        return {"platform": DEFAULT_PLATFORM, "config": None}

    def configs(self):
        c = self.state["config"]
        return [(getattr(c, "strategy", ""), 0.0, c)]

    def run(self, points, progress=None):
        (_, _, cfg), = points
        self.result, self.error = None, "" if isinstance(cfg, SimConfig) else cfg
        self.last = {"computed": 0, "cached": 0, "invalid": 1}
        if self.error:
            return pd.DataFrame()
        try:
            self.result = simulate(cfg)
        except (ValueError, MemoryError) as e:  # a field refused; rings that cannot be filled
            self.error = str(e)
            return pd.DataFrame()
        self.last = {"computed": 1, "cached": 0, "invalid": 0}
        return self.result.to_frame()

    def draw(self, frame):
        return run_figure(self.result) if self.result is not None else None

    def caption(self):
        if self.result is None:
            return f"not simulated: {self.error}"
        m = self.result.metrics()
        return (f"{m['packets']:,} packets simulated (Linux {self.result.config.kernel}); goodput "
                f"{m['goodput_gbps']:.1f} Gbps on the model clock (link and window only; the estimate adds the "
                f"CPU); peak RX memory {m['mem_peak_bytes'] / 2**20:.1f} MiB")

    def static_html(self):
        if self.result is None:
            return f'<p class="rxlab-error">{html.escape(self.text)}</p>'
        alt = "memory over time, operations per packet, len/truesize"
        return (f"<div class=\"rxlab-explorer\"><p>{html.escape(self.text)}</p>"
                f'<img alt="{alt}" src="data:image/png;base64,{self.png}">'
                f"{estimate_html(self.result, self.profiles[self.state['platform']])}{counters_html(self.result)}</div>")


class Explorer(w.VBox):
    """One panel over the simulation's knobs (see the module docstring): the controls in a grid of as
    many columns as the width allows, above the figure, which gets the panel's whole width (beside
    the controls, in JupyterLab's default layout, it was squeezed to under half). ``explorer.view``:
    the :class:`RunView` it shows."""

    def __init__(self, quick=False):
        self.packets = defaults.EXPLORER(quick)
        self.controls = _controls()
        self.figure_out = w.Output(layout=w.Layout(min_height="380px", width="100%"))
        self.counters = w.HTML(layout=w.Layout(max_height="420px", overflow="auto"))
        self.view = RunView()
        self.profiles = self.view.profiles
        self.platform = w.Dropdown(description="platform", options=tuple(self.profiles), value=DEFAULT_PLATFORM,
                                   style=STYLE)
        self.estimate = w.HTML()
        self.status = w.HTML()
        self._held = False
        self._following = False
        self.touched = set()  # release-dependent fields the user set: they stay when the release changes
        controls = w.GridBox([*self.controls.values(), self.platform],
                             layout=w.Layout(grid_template_columns="repeat(auto-fill, minmax(320px, 1fr))",
                                             width="100%"))
        super().__init__([controls, w.VBox([self.status, self.figure_out, self.estimate, self.counters],
                                           layout=w.Layout(width="100%"))], layout=w.Layout(width="100%"))
        self.add_class("rxlab-explorer")
        for name, c in self.controls.items():
            if name in RELEASE_FIELDS:
                c.observe(lambda change, name=name: self._touch(name), names="value")
            c.observe(self._follow_release if name == "kernel" else self.update, names="value")
        self.platform.observe(self.reprice, names="value")
        self.update()

    result = property(lambda self: self.view.result)
    figure = property(lambda self: self.view.figure)
    png = property(lambda self: self.view.png)
    error = property(lambda self: self.view.error)

    def config(self):
        """The SimConfig the controls describe (raises ValueError naming a refused field): the
        release-dependent fields only where the user set them, else the release's."""
        return SimConfig(packets=self.packets, samples=100,
                         **{k: c.value for k, c in self.controls.items() if k not in RELEASE_FIELDS or k in self.touched})

    def _touch(self, name):
        if not self._following:
            self.touched.add(name)

    def _follow_release(self, change=None):
        """The release changed: the release-dependent controls the user has not set show its values
        (one re-run, not one per control)."""
        release = SimConfig(kernel=self.controls["kernel"].value)
        held, self._held, self._following = self._held, True, True
        try:
            for name in RELEASE_FIELDS:
                if name not in self.touched and name in self.controls:
                    self.controls[name].value = getattr(release, name)
        finally:
            self._held, self._following = held, False
        self.update()

    def set(self, **values):
        """Set several controls (by SimConfig field) and re-run once, not once per control."""
        self._held = True
        try:
            for k, v in values.items():
                self.controls[k].value = v
        finally:
            self._held = False
        self.update()

    def update(self, change=None):
        """Re-run the simulation and redraw; a refused configuration shows the reason instead."""
        if self._held:
            return
        self.status.value = "<i>simulating ...</i>"
        try:
            cfg = self.config()
        except ValueError as e:
            cfg = str(e)
        self.view.state.update(config=cfg, platform=self.platform.value)
        self.view.render()
        if self.result is None:
            self.figure_out.outputs = ()
            self.counters.value = self.estimate.value = ""
            self.status.value = f'<p class="rxlab-error">{html.escape(self.view.text)}</p>'
            return
        self.figure_out.outputs = ({"output_type": "display_data", "metadata": {},
                                    "data": {"image/png": self.png, "text/plain": "<rxlab explorer figure>"}},)
        self.counters.value = counters_html(self.result)
        self.reprice()
        self.status.value = html.escape(self.view.text)

    def reprice(self, change=None):
        """Show the run's throughput estimate under the selected platform (no new simulation)."""
        self.view.state["platform"] = self.platform.value
        if self.result is not None:
            self.estimate.value = estimate_html(self.result, self.profiles[self.platform.value])

    def static_html(self):
        """The panel's current state as plain HTML (figure inlined): what a static page shows."""
        return self.view.static_html()

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/html"] = self.static_html()
        return bundle


def explorer(quick=False):
    """The explorer panel; ``quick`` simulates fewer packets (tests, reports)."""
    return Explorer(quick=quick)
