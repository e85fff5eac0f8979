"""Sweep panels: one field swept, the strategies as the series, the seed claims on the same axes.

:class:`SweepView` is the panel (a :class:`rxlab.views.base.Panel`): the swept axis (MTU, page
size, XDP state or connections: ``PANEL_AXES``), the values held for the other three, the platform
profile (the throughput ESTIMATE's, whose arch the runs take), the Linux release and the driver. Its
figure has four plots: buffers per page (the geometry, as the step function it is: computed at the
driver's own thresholds), memory efficiency (static per buffer, and dynamic: mean over the run with
its worst..peak range), the throughput ESTIMATE with its band (gbps_low..gbps_high: every cost at
its high / low end) and each strategy's gain over full_page with its band (logarithmic, and saying
so, when it spans orders of magnitude). Every seed claim ``rxlab.studies.claims.claim_marks`` says
applies is drawn on the plot of its quantity, labelled with its claim id; a claim's value is in the
plot's data (``marks``; each mark's artists carry its id as their gid). Configurations the driver
refuses are shaded, with the driver's reason; a layout the engine does not simulate (bnxt's jumbo
page mode, a striding RQ of more than 256 WQEs) shows its geometry only.

:class:`SweepPanel` is its ipywidgets shell (notebooks, ``make lab``); :func:`export_sweep` the same
panel as an explorable page over a precomputed grid (``rxlab report``: each notebook's panel, and
``explore.html``).

Runs go through ``rxlab.sweep`` and its result cache (the study cache unless ``cache=``): a point
computed once (by any panel, notebook or sweep on the same cache) is read back, not simulated.
"""

import functools
import html
import itertools
import re
import textwrap
from typing import ClassVar

import ipywidgets as w
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from rxlab.kernel.releases import DEFAULT as DEFAULT_KERNEL
from rxlab.kernel.releases import names as release_names
from rxlab.kernel.sizes import ETH_DATA_LEN
from rxlab.model import defaults
from rxlab.model.config import SimConfig, xdp_only
from rxlab.model.drivers import DRIVERS
from rxlab.model.strategies import STRATEGIES
from rxlab.studies.claims import PANEL_AXES, claim_marks
from rxlab.studies.geometry import REPORT_MTUS
from rxlab.studies.grid import expand
from rxlab.views.base import PANEL_MIME, Panel, export_html

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
GAIN_LOG_ABOVE = 1000.0  # % : a gain axis reaching this is symlog (linear within +-GAIN_LINEAR)
GAIN_LINEAR = 10.0
MTU_PROBE = 16  # bytes between the MTUs probed for a step; buffer sizes move in steps of 64 or more


def _xdp(v):
    return () if v in ("off", (), None) else xdp_only(v)


def _xpos(axis, v):
    """Where value ``v`` of ``axis`` sits on the plot's x axis (XDP: 0 off, 1 on)."""
    if axis == "xdp":
        return 0.0 if v in ("off", (), 0, 0.0, False) else 1.0
    return float(v)


def value_text(field, v):
    """A value as a control, a caption and an axis label show it: ``64 KB``, ``off``, ``1500``."""
    if field == "page_size":
        return f"{int(v) // 1024} KB"
    if field == "xdp":
        return "off" if _xpos("xdp", v) == 0.0 else "on (PASS)"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _refusal(e, value=None):
    """A SimConfig refusal without its ``field=value is not allowed:`` opening, ``value`` written N
    (one text per range of refused values)."""
    head, sep, rest = str(e).partition(" is not allowed: ")
    text = f"{head.split('=')[0]} allowed: {rest}" if sep else str(e)
    return text if value is None else re.sub(rf"\b{re.escape(str(value))}\b", "N", text)


@functools.lru_cache(maxsize=256)
def geometry_steps(axis, strategy, kernel, arch, page_size, mtu, xdp, driver="mana"):
    """``(x, buffers per page, static efficiency per buffer, refused)`` of ``strategy`` along
    ``axis``, the other fields held (None: the swept one). Along MTU: every MTU where the driver's
    buffer layout changes (frags_per_page or the page order) or where it starts or stops refusing the
    MTU, found by probing every :data:`MTU_PROBE` bytes and bisecting, with the MTU just before it,
    so that buffers per page draws as its step function and the static efficiency (datasize over a
    constant share of a page between two steps) as straight segments. Elsewhere: the swept values.
    ``refused``: ``[(first x, last x, the driver's reason)]``."""
    out, refused = [], []
    try:
        base = SimConfig(kernel=kernel, arch=arch, strategy=strategy, driver=driver, packets=1,
                         page_size=page_size or 4096, mtu=ETH_DATA_LEN, xdp=() if axis == "xdp" else _xdp(xdp))
    except ValueError:  # the strategy is not the driver's (the caption says so): nothing to draw
        return np.array([]), np.array([]), np.array([]), ()
    if axis == "mtu":
        key = {}

        def at(m):
            if m not in key:
                try:
                    g = base.geometry(mtu=m)
                    key[m] = ((g.frags_per_page, g.order), g)
                except ValueError as e:  # an MTU the driver or the release refuses
                    key[m] = (None, _refusal(e, m))
            return key[m]

        lo, hi = min(AXIS_VALUES["mtu"]), max(AXIS_VALUES["mtu"])
        probes = sorted({*range(lo, hi + 1, MTU_PROBE), hi, *AXIS_VALUES["mtu"]})
        for a, b in itertools.pairwise(probes):
            if at(a)[0] != at(b)[0]:
                x, y = a, b  # the last MTU of a's layout and the first of b's (one step per interval)
                while y - x > 1:
                    mid = (x + y) // 2
                    x, y = (mid, y) if at(mid)[0] == at(a)[0] else (x, mid)
                at(x), at(y)
        prev = None
        for m in sorted(key):
            layout, g = key[m]
            if layout is not None:
                out.append((float(m), g.frags_per_page, g.mem_efficiency_buffer))
            elif refused and refused[-1][1] == prev:  # one span, named by its first MTU's reason
                refused[-1] = (refused[-1][0], float(m), refused[-1][2])
            else:
                refused.append((float(m), float(m), g))
            prev = float(m)
    else:
        for v in AXIS_VALUES[axis]:
            try:
                cfg = base.replace(page_size=v) if axis == "page_size" else base.replace(mtu=mtu or ETH_DATA_LEN)
                g = cfg.geometry(mtu=mtu or ETH_DATA_LEN, xdp=_xdp(v) if axis == "xdp" else None)
            except ValueError as e:  # e.g. XDP above the MTU it allows
                refused.append((_xpos(axis, v), _xpos(axis, v), _refusal(e)))
                continue
            out.append((_xpos(axis, v), g.frags_per_page, g.mem_efficiency_buffer))
    xs, bpp, eff = (np.array(c) for c in zip(*out)) if out else (np.array([]),) * 3
    return xs, bpp, eff, tuple(refused)


def simulated(driver):
    """Whether the engine simulates ``driver``'s receive queue in its default layout (else its
    geometry only; every registered driver's default layout is simulated)."""
    return not DRIVERS[driver].engine_refuses(SimConfig(driver=driver).geometry())


class SweepView(Panel):
    """A sweep over one axis against the seed claims (see the module docstring). ``state``: ``axis``,
    the held fields ``page_size``, ``mtu``, ``xdp``, ``connections``, ``platform``, ``kernel``,
    ``driver``, ``series`` (the strategies drawn); ``packets`` per run; ``fixed``: other SimConfig
    fields of every run (e.g. queues, ring_size). After :meth:`render`, ``marks``: the claims drawn."""

    CONTROLS: ClassVar[dict] = {"axis": "sweep", "page_size": "page size", "mtu": "MTU", "xdp": "XDP", "connections": "connections",
                                "platform": "platform", "kernel": "Linux", "driver": "driver"}

    def __init__(self, state=None, cache=None, packets=None, fixed=None, compact=False):
        super().__init__(state, cache, packets or defaults.SWEEP_PANEL(False))
        st = self.state
        if st["axis"] not in PANEL_AXES:
            raise ValueError(f"axis={st['axis']!r} is not allowed: one of {', '.join(PANEL_AXES)}")
        self.fixed = dict(fixed or {})
        bad_fixed = set(self.fixed) & {*HELD_DEFAULTS, "kernel", "arch", "strategy", "driver", "packets"}
        if bad_fixed:
            raise ValueError(f"fixed={sorted(bad_fixed)} is not allowed: those fields are the panel's controls")
        self.compact = compact  # an exported page carries many figures: smaller, 256 colours
        self.marks = []

    def defaults(self):
        return {"axis": "mtu", **HELD_DEFAULTS, "platform": DEFAULT_PLATFORM, "kernel": DEFAULT_KERNEL,
                "driver": "mana", "series": SERIES}

    def held(self):
        """{field: value} of the held fields (the swept one left out)."""
        return {k: self.state[k] for k in HELD_DEFAULTS if k != self.state["axis"]}

    def key(self):
        """The swept field's held value changes nothing; nor do the platform and connections for a
        driver shown as geometry only."""
        skip = {self.state["axis"]} | (set() if simulated(self.state["driver"]) else {"platform", "connections"})
        return "|".join(f"{k}={self.state[k]}" for k in self.CONTROLS if k not in skip) + \
            f"|series={','.join(self.state['series'])}"

    def arch(self):
        return self.profiles[self.state["platform"]].arch

    # -- the pipeline ----------------------------------------------------------------------------
    def configs(self):
        st = self.state
        axis, nic = st["axis"], DRIVERS[st["driver"]]
        out = []
        for s in dict.fromkeys([*st["series"], GAIN_BASE]):
            for v in AXIS_VALUES[axis]:
                kw = {**self.held(), axis: v}
                kw["xdp"] = _xdp(kw["xdp"])
                try:
                    cfgs, invalid = expand([{**self.fixed, "kernel": st["kernel"], "arch": self.arch(),
                                             "driver": st["driver"], "strategy": s, "packets": self.packets, **kw}])
                    c = cfgs[0] if cfgs else _refusal(invalid[0]["error"], v)
                except ValueError as e:
                    c = _refusal(e, v)
                why = nic.engine_refuses(c.geometry()) if isinstance(c, SimConfig) else ""
                if why:
                    c = f"{st['driver']} is shown as geometry only: {why}"
                out.append((s, _xpos(axis, v), c))
        return out

    def gains(self, frame):
        base = frame[frame["series"] == GAIN_BASE].set_index("x")
        for col, ref in (("gain_pct", "gbps"), ("gain_pct_low", "gbps_low"), ("gain_pct_high", "gbps_high")):
            frame[col] = (frame[ref] / frame["x"].map(base[ref]) - 1) * 100
        ends = frame[["gain_pct", "gain_pct_low", "gain_pct_high"]]
        frame["gain_pct_low"], frame["gain_pct_high"] = ends.min(axis=1), ends.max(axis=1)
        return frame

    def refused(self):
        """{reason: [axis values]} of the points not run."""
        out = {}
        for _, x, c in self.points:
            if not isinstance(c, SimConfig):
                out.setdefault(c, []).append(x)
        return out

    def caption(self):
        st, axis = self.state, self.state["axis"]
        held = ", ".join(f"{AXIS_LABELS[k].split(' (')[0]} {value_text(k, v)}" for k, v in self.held().items())
        runs = len(self.points) - self.last["invalid"]
        ids = ", ".join(m.id for m in self.marks) or "none applies"
        refused = "; ".join(f"{', '.join(value_text(axis, v) for v in dict.fromkeys(xs))}: {reason}"
                            for reason, xs in self.refused().items())
        return (f"{AXIS_LABELS[axis].split(' (')[0]} swept; {held}; Linux {st['kernel']}, driver {st['driver']}, "
                f"platform {st['platform']} ({self.arch()}); {runs} runs of {self.packets:,} packets "
                f"({self.last['computed']} simulated, {self.last['cached']} from the cache). Seed claims drawn: "
                f"{ids}." + (f" Refused by the driver or not simulated: {refused}." if refused else "")
                + " Throughput is an ESTIMATE.")

    def _steps(self, s):
        held = self.held()
        return geometry_steps(self.state["axis"], s, self.state["kernel"], self.arch(), held.get("page_size"),
                              held.get("mtu"), held.get("xdp", "off"), self.state["driver"])

    def draw(self, frame):
        """The four plots of ``frame`` with the claims that apply (a new Figure)."""
        st, axis = self.state, self.state["axis"]
        held = {**self.held(), "arch": self.arch()}
        self.marks = claim_marks(axis, held, st["platform"], driver=st["driver"])
        fig = Figure(figsize=(12, 7.5), layout="constrained")
        axes = dict(zip(QUANTITIES, fig.subplots(2, 2).ravel()))
        colors = {s: f"C{i}" for i, s in enumerate(STRATEGIES)}
        refused = {}
        for s in st["series"]:
            c = colors[s]
            xs, bpp, eff, no = self._steps(s)
            for x0, x1, reason in no:
                refused.setdefault(reason, []).append((x0, x1))
            if len(xs):
                if axis == "mtu":  # a step function, computed at the driver's own thresholds
                    axes["buffers_per_page"].step(xs, bpp, where="post", color=c, label=s)
                else:  # discrete values: no step between them
                    axes["buffers_per_page"].plot(xs, bpp, "o-", color=c, label=s, ms=4, lw=1)
                axes["mem_efficiency"].plot(xs, eff, color=c, ls=":", lw=1, label=f"{s}: static, per buffer")
            g = frame[frame["series"] == s].sort_values("x") if not frame.empty else frame
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
        for m in self.marks:
            self._mark(axes[m.quantity], m, colors.get(m.strategy, "k"), xs_all)
        ids = {m.id for m in self.marks if m.kind != "vline"}
        self._refused(axes, axis, refused)
        if frame.empty:
            why = DRIVERS[st["driver"]].engine or next(iter(self.refused()), "no point runs")
            for q in ("gbps", "gain_pct"):
                axes[q].text(0.5, 0.5, "not simulated:\n" + textwrap.fill(why, 50), transform=axes[q].transAxes,
                             ha="center", va="center", fontsize=8, color="0.3")
        titles = {"buffers_per_page": ("RX buffers per page (the driver's carving)", "buffers per page (log2)"),
                  "mem_efficiency": ("Memory efficiency: packet bytes per byte pinned", "held / pinned (log)"),
                  "gbps": ("Throughput ESTIMATE, band: every cost at its ends", "Gbps (TCP payload)"),
                  "gain_pct": (f"Gain over {GAIN_BASE} (ESTIMATE)", "%")}
        for q, ax in axes.items():
            ax.set_title(titles[q][0], fontsize=10)
            ax.set_ylabel(titles[q][1])
            ax.set_xlabel(AXIS_LABELS[axis])
            ax.grid(True, alpha=0.3)
            self._xaxis(ax, axis, xs_all)
            ax.margins(y=0.12)  # room for the claim labels above the highest mark
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7, loc="best")
        # static efficiencies sit near 1, a run's near its queued data over every posted ring: a log axis
        ax = axes["mem_efficiency"]
        ax.set_yscale("log")
        ax.set_ylim(EFFICIENCY_FLOOR, 1.5)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.4g}"))
        ax = axes["buffers_per_page"]
        ax.set_yscale("log", base=2)
        top = max([1.0, *(y for line in ax.get_lines() if line.get_gid() is None or line.get_gid() in ids
                          for y in np.asarray(line.get_ydata(), float))])
        ax.set_ylim(0.7, top * 1.6)  # a fixed frame: a view whose strategies are all refused draws an empty one
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        self._gain_scale(axes["gain_pct"], frame)
        held = ", ".join(f"{k} {value_text(k, v)}" for k, v in self.held().items())
        fig.suptitle(f"Linux {st['kernel']}, {st['driver']}, {st['platform']} ({self.arch()}); {held}; "
                     f"{self.packets:,} packets a run. Throughput is an ESTIMATE.", fontsize=10)
        return fig

    def _gain_scale(self, ax, frame):
        """A gain spanning orders of magnitude (a few % beside 30,000 %): symlog, and the label says so."""
        ys = [abs(y) for line in ax.get_lines() for y in np.asarray(line.get_ydata(), float) if np.isfinite(y)]
        if not frame.empty and "gain_pct_high" in frame:
            ys += [abs(v) for v in frame[["gain_pct_low", "gain_pct_high"]].to_numpy().ravel() if np.isfinite(v)]
        if ys and max(ys) >= GAIN_LOG_ABOVE:
            ax.set_yscale("symlog", linthresh=GAIN_LINEAR)
            ax.set_ylabel(f"% (symlog: linear within ±{GAIN_LINEAR:g} %)")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
            top = max(ys)
            ax.set_ylim(top=10 ** (np.log10(top) + 0.3))  # the highest point and its label inside the frame

    @staticmethod
    def _refused(axes, axis, refused):
        """Configurations the driver refuses, shaded on every plot; the reason in the legend."""
        for i, (reason, spans) in enumerate(refused.items()):
            for q, ax in axes.items():
                for x0, x1 in dict.fromkeys(spans):
                    if x0 == x1:  # one value of the axis
                        ax.axvline(x0, color="0.6", lw=8, alpha=0.25, gid="refused")
                    else:
                        ax.axvspan(x0, x1, color="0.6", alpha=0.2, hatch="//", lw=0, gid="refused",
                                   label=(textwrap.fill(f"refused: {reason}", 60)
                                          if q == "buffers_per_page" and x0 == spans[0][0] else None))
            if all(x0 == x1 for x0, x1 in spans):
                axes["buffers_per_page"].plot([], [], color="0.6", lw=8, alpha=0.25,
                                              label=textwrap.fill(f"refused: {reason}", 60))

    @staticmethod
    def _xaxis(ax, axis, xs):
        if axis == "mtu":
            ax.set_xlim(xs.min() - 100, xs.max() + 100)  # the whole sweep, whatever was refused
        elif axis == "xdp":
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
            # inside the frame, from its top down: never cut, never on the axis label
            ax.annotate(m.id, (m.x, 0.98), xycoords=("data", "axes fraction"), rotation=90, fontsize=7,
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

    def render(self, progress=None):
        self.DPI, self.PALETTE = (72, True) if self.compact else (100, False)  # exported: 864 x 540 px
        return super().render(progress)


EXPORT_KERNELS = (DEFAULT_KERNEL, "6.6")  # the newest release, and the LTS before MANA's fragments
EXPORT_PLATFORMS = ("typical_arm64", "affected_arm64")
EXPORT_HELD = {"page_size": (4096, 65536), "mtu": (1500, 9000), "xdp": ("off", "pass"), "connections": (1, 64)}
"""The values an exported page offers for a held field."""
EXPORT_DRIVERS = None  # the drivers an exported page offers: None, every registered one


def export_options(axis, state, held=None):
    """The controls of an exported sweep: the held fields ``held`` (default: page size, or MTU when
    page size is swept) over :data:`EXPORT_HELD`, then platform, release and driver (each with the
    state's own value among its options)."""
    held = held or (("mtu",) if axis == "page_size" else ("page_size",))

    def opts(field, values):
        values = tuple(dict.fromkeys([state[field], *values]))
        return [(v, value_text(field, v) if field in HELD_DEFAULTS else v) for v in values]

    out = {f: opts(f, EXPORT_HELD[f]) for f in held}
    out["platform"] = opts("platform", EXPORT_PLATFORMS)
    out["kernel"] = opts("kernel", EXPORT_KERNELS)
    out["driver"] = [(d, d if simulated(d) else f"{d} (geometry only)")
                     for d in dict.fromkeys([state["driver"], *(DRIVERS if EXPORT_DRIVERS is None else EXPORT_DRIVERS)])]
    return out


def export_sweep(spec, ident, options=None, cache=None, progress=None):
    """The explorable HTML of a sweep panel (``spec``: its :data:`PANEL_MIME` data: state, packets,
    fixed) over ``options`` (default :func:`export_options`). Returns (html, figures)."""
    state = {**spec["state"], "series": tuple(spec["state"]["series"])}
    options = options or export_options(state["axis"], state)

    def make(st):
        return SweepView(st, cache=cache, packets=spec["packets"], fixed=spec.get("fixed"), compact=True)

    make.CONTROLS = SweepView.CONTROLS
    return export_html(make, options, state, ident, progress=progress)


class SweepPanel(w.VBox):
    """A :class:`SweepView` with ipywidgets controls (see the module docstring).

    ``panel.axis``, ``panel.held[field]``, ``panel.platform``, ``panel.kernel``, ``panel.driver``,
    ``panel.series``: the controls. ``panel.view``: the panel; ``panel.frame``: the plotted points
    (one row per strategy and axis value: the sweep's row with its throughput estimate and
    ``gain_pct``); ``panel.marks``: the claims drawn; ``panel.figure``, ``panel.png``; ``panel.last``:
    how many points the last draw computed, read and refused."""

    def __init__(self, axis="mtu", series=SERIES, platform=DEFAULT_PLATFORM, kernel=None, quick=False,
                 cache=None, fixed=None, driver="mana", **held):
        unknown = set(held) - set(HELD_DEFAULTS)
        if unknown:
            raise ValueError(f"held={sorted(unknown)} is not allowed: fields {', '.join(HELD_DEFAULTS)}")
        fixed = dict(fixed or {})
        packets = fixed.pop("packets", defaults.SWEEP_PANEL(quick))
        self.view = SweepView({"axis": axis, **HELD_DEFAULTS, **held, "platform": platform,
                               "kernel": kernel or DEFAULT_KERNEL, "driver": driver, "series": tuple(series)},
                              cache=cache, packets=packets, fixed=fixed)
        st = self.view.state
        self.axis = w.Dropdown(description="sweep", options=[(AXIS_LABELS[a], a) for a in PANEL_AXES],
                               value=st["axis"], style=STYLE)
        self.held = {
            "page_size": w.Dropdown(description="page size", options=[(value_text("page_size", p), p) for p in
                                                                       AXIS_VALUES["page_size"]],
                                    value=st["page_size"], style=STYLE),
            "mtu": w.Dropdown(description="MTU", options=REPORT_MTUS, value=st["mtu"], style=STYLE),
            "xdp": w.Dropdown(description="XDP", options=AXIS_VALUES["xdp"], value=st["xdp"], style=STYLE),
            "connections": w.Dropdown(description="connections", options=AXIS_VALUES["connections"],
                                      value=st["connections"], style=STYLE),
        }
        self.platform = w.Dropdown(description="platform", options=tuple(self.view.profiles), value=st["platform"],
                                   style=STYLE)
        self.kernel = w.Dropdown(description="Linux", options=release_names(), value=st["kernel"], style=STYLE)
        self.driver = w.Dropdown(description="driver", value=st["driver"], style=STYLE,
                                 options=[(d if simulated(d) else f"{d} (geometry)", d) for d in DRIVERS])
        self.series = w.SelectMultiple(description="strategies", options=tuple(STRATEGIES), value=tuple(series),
                                       rows=min(5, len(STRATEGIES)), style=STYLE)
        self.progress = w.IntProgress(description="simulating", min=0, max=1, value=0, style=STYLE,
                                      layout=w.Layout(visibility="hidden"))
        self.status = w.HTML()
        self.figure_out = w.Output(layout=w.Layout(width="100%", min_height="600px"))
        self._held_back = False
        controls = w.HBox([w.VBox([self.axis, self.platform, self.kernel, self.driver]),
                           w.VBox([self.held["page_size"], self.held["mtu"]]),
                           w.VBox([self.held["xdp"], self.held["connections"]]), self.series],
                          layout=w.Layout(flex_flow="row wrap"))
        super().__init__([controls, w.HBox([self.progress, self.status]), self.figure_out],
                         layout=w.Layout(width="100%"))
        self.add_class("rxlab-sweep-panel")
        for c in self._named().values():
            c.observe(self.update, names="value")
        self.update()

    def _named(self):
        return {"axis": self.axis, "platform": self.platform, "kernel": self.kernel, "driver": self.driver,
                "series": self.series, **self.held}

    # the view's results, under the names the panel always had
    packets = property(lambda self: self.view.packets)
    frame = property(lambda self: self.view.frame)
    marks = property(lambda self: self.view.marks)
    figure = property(lambda self: self.view.figure)
    png = property(lambda self: self.view.png)
    last = property(lambda self: self.view.last)

    def set(self, **values):
        """Set several controls and redraw once: ``axis``, ``platform``, ``kernel``, ``driver``,
        ``series`` or a held field (``page_size``, ``mtu``, ``xdp``, ``connections``)."""
        named = self._named()
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

    def held_values(self):
        """{field: value} of the held controls (the swept one left out)."""
        return self.view.held()

    def _progress(self, done, total):
        self.progress.max, self.progress.value = max(1, total), done
        if done < total:
            self.progress.layout.visibility = "visible"

    def update(self, change=None):
        """Run what is not cached (under the progress bar), redraw, and draw the claims that apply."""
        if self._held_back:
            return
        self.view.state.update({k: (tuple(c.value) if k == "series" else c.value) for k, c in self._named().items()})
        for k, c in self.held.items():
            c.disabled = k == self.axis.value
        self.status.value = "<i>sweeping ...</i>"
        self.view.render(progress=self._progress)
        self.progress.layout.visibility = "hidden"
        self.figure_out.outputs = ({"output_type": "display_data", "metadata": {},
                                    "data": {"image/png": self.png, "text/plain": "<rxlab sweep figure>"}},)
        ids = ", ".join(f"<code>{html.escape(m.id)}</code>" for m in self.marks) or "none applies"
        self.status.value = (f'{html.escape(self.view.text)} <span class="rxlab-claims">Claims: {ids}</span>')

    def static_html(self):
        """The panel's current state as plain HTML (figure inlined): what a static page shows."""
        return self.view.static_html()

    def spec(self):
        """The panel's state as ``rxlab report`` exports it (:func:`export_sweep`)."""
        st = self.view.state
        return {"state": {**st, "series": list(st["series"])}, "packets": self.packets, "fixed": self.view.fixed}

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/html"] = self.static_html()
        bundle[PANEL_MIME] = self.spec()
        return bundle


def sweep_panel(axis="mtu", quick=False, **kw):
    """A :class:`SweepPanel` over ``axis``; ``quick`` simulates fewer packets a run (tests, reports)."""
    return SweepPanel(axis=axis, quick=quick, **kw)
