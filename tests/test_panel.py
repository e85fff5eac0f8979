"""Sweep panels (rxlab.views.panel): the claims they draw are in the figure's data, the panel runs
through the sweep cache (a second draw simulates nothing), new points show a progress bar, steps
draw as steps, and the claims follow the controls. Small runs; the figure checks of many panels run
compiled only (jit_only)."""

import ast
import math

import nbformat
import pytest
from matplotlib.lines import Line2D

from rxlab.data import load_claims
from rxlab.studies.claims import claim_marks
from rxlab.views.notebooks import notebook_paths
from rxlab.views.panel import AXIS_VALUES, SweepPanel

# few packets, one small queue: the interpreted pass runs the same panels
FIXED = {"queues": 1, "ring_size": 128, "packets": 300, "samples": 20}


def panel(cache, axis, **kw):
    return SweepPanel(axis=axis, cache=cache, fixed=FIXED, **{"connections": 4, **kw})


def drawn(fig, gid):
    """Every x and y value of the artists a claim's mark drew (Line2D data)."""
    xs, ys = [], []
    for ax in fig.axes:
        for a in ax.get_children():
            if a.get_gid() == gid and isinstance(a, Line2D):
                xs += [float(v) for v in a.get_xdata()]
                ys += [float(v) for v in a.get_ydata()]
    return xs, ys


def claimed(cid):
    """A claim's values straight from data/claims.csv, in the figure's sign (a shortfall of S% is a
    gain of -S%)."""
    c = load_claims().set_index("id").loc[cid]
    sign = -1 if c["quantity"] == "frag_shortfall" else 1
    return [sign * c["value"]] + ([] if math.isnan(c["value_high"]) else [sign * c["value_high"]])


def check_drawn(p):
    """Every claim the panel drew has its claims.csv values in the figure's data."""
    for m in p.marks:
        xs, ys = drawn(p.figure, m.id)
        assert xs or ys, f"{m.id} drew nothing"
        values = xs if m.kind == "vline" else ys
        for v in claimed(m.id):
            assert any(math.isclose(v, d, abs_tol=1e-12) for d in values), (m.id, v, values)


def check_labels(fig, ids):
    """The claims' labels inside the figure (none cut at the top) and none over another or over an
    axis label."""
    fig.canvas.draw()
    box = fig.bbox
    labels = [(t.get_gid(), t.get_window_extent()) for ax in fig.axes for t in ax.texts if t.get_gid() in ids]
    for gid, b in labels:
        assert box.x0 <= b.x0 and b.x1 <= box.x1 and box.y0 <= b.y0 and b.y1 <= box.y1, f"{gid} cut at the edge"
    axis_labels = [a.get_window_extent() for ax in fig.axes for a in (ax.xaxis.label, ax.yaxis.label, ax.title)]
    for i, (gid, b) in enumerate(labels):
        assert not any(b.overlaps(o) for _, o in labels[i + 1:] if o.bounds != b.bounds), f"{gid} over another label"
        assert not any(b.overlaps(o) for o in axis_labels), f"{gid} over an axis label or title"


def notebook_panels():
    """(notebook, the keyword arguments of its sweep_panel(...) call) for every notebook with one."""
    out = []
    for path in notebook_paths():
        for cell in nbformat.read(path, as_version=4).cells:
            for node in ast.walk(ast.parse(cell.source)) if cell.cell_type == "code" else ():
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "sweep_panel":
                    kw = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg != "quick"}
                    out.append(pytest.param(path.stem, {"axis": ast.literal_eval(node.args[0]), **kw},
                                            id=path.stem))
    return out


def test_every_claim_notebook_has_a_sweep_panel():
    assert {p.values[0][:2] for p in notebook_panels()} >= {"00", "01", "02", "03", "04"}


@pytest.mark.jit_only  # views only: the interpreted engine would add nothing but minutes
@pytest.mark.parametrize("name, kw", notebook_panels())
def test_each_notebook_panel_draws_the_claim_values(tmp_path, name, kw):
    """The panel of each notebook, as its cell makes it (small runs): at least one claim drawn, each
    with its values in the figure's data."""
    p = SweepPanel(cache=tmp_path, fixed=FIXED, **kw)
    assert p.marks, f"{name}: no claim applies to its panel"
    check_drawn(p)
    check_labels(p.figure, {m.id for m in p.marks})


@pytest.mark.jit_only  # views only: the interpreted engine would add nothing but minutes
@pytest.mark.parametrize("axis, held, platform, expect", [
    ("mtu", {"page_size": 4096, "connections": 64}, "typical_arm64", {"fallback_jumbo_threshold", "fallback_jumbo_9000",
                                                    "no_regression_arm64"}),
    ("page_size", {"connections": 64}, "typical_arm64", {"buffers_per_page_post", "buffers_per_page_pre", "throughput_gain_64k",
                                        "no_regression_arm64"}),
    ("connections", {"page_size": 4096}, "affected_arm64", {"line_rate", "shortfall_beyond_16", "shortfall_onset"}),
    ("xdp", {"page_size": 65536}, "typical_arm64", {"buffers_per_page_post", "buffers_per_page_pre",
                                                     "throughput_gain_64k", "fallback_xdp"}),
])
def test_the_figure_holds_every_claim_value_it_draws(tmp_path, axis, held, platform, expect):
    p = panel(tmp_path, axis, platform=platform, **held)
    assert {m.id for m in p.marks} == expect
    check_drawn(p)
    for m in p.marks:
        if m.kind == "point":  # at the claim's condition on the swept axis (XDP: 0 off, 1 on)
            cond = load_claims().set_index("id").loc[m.id, "conditions"][axis]
            assert float(cond) in drawn(p.figure, m.id)[0]


@pytest.mark.jit_only  # views only: the interpreted engine would add nothing but minutes
def test_a_second_draw_runs_no_simulation_and_a_new_sweep_shows_progress(tmp_path, counted):
    first = panel(tmp_path, "page_size")
    points = 3 * 2  # three page sizes, full_page and pp_frag
    assert len(counted) == points and first.last["computed"] == points
    assert first.progress.max == points and first.progress.value == points
    assert first.progress.layout.visibility == "hidden"  # shown while it ran, hidden when done
    again = panel(tmp_path, "page_size")
    assert len(counted) == points and again.last == {"computed": 0, "cached": points, "invalid": 0}
    assert again.frame[["gbps", "mem_efficiency_mean"]].equals(first.frame[["gbps", "mem_efficiency_mean"]])
    again.held["mtu"].value = 3000  # new points: simulated, the rest of the sweep unchanged
    assert len(counted) == 2 * points and again.last["computed"] == points


@pytest.mark.jit_only  # views only: the interpreted engine would add nothing but minutes
def test_steps_draw_as_steps_and_the_claims_follow_the_controls(tmp_path):
    p = panel(tmp_path, "mtu", page_size=4096)
    bpp = p.figure.axes[0]
    steps = [a for a in bpp.get_lines() if a.get_drawstyle() == "steps-post" and a.get_label() == "pp_frag"]
    assert steps, "buffers per page is not drawn as a step function"
    x, y = steps[0].get_xdata(), steps[0].get_ydata()
    # on 4 KB pages fragments stop above MTU 1714 (one buffer per page after): the step is there
    assert max(y[x <= 1714]) >= 2 and set(y[x >= 1715]) == {1}
    assert "fallback_jumbo_threshold" in {m.id for m in p.marks}
    p.axis.value = "connections"  # the MTU threshold no longer applies; the held MTU is 1500
    assert "fallback_jumbo_threshold" not in {m.id for m in p.marks} and p.held["mtu"].value == 1500
    assert p.held["connections"].disabled and not p.held["mtu"].disabled
    p.platform.value = "affected_arm64"
    assert {"line_rate", "shortfall_beyond_16", "shortfall_onset"} <= {m.id for m in p.marks}
    p.set(axis="page_size", connections=64, platform="typical_arm64")  # one redraw for three controls
    assert {"buffers_per_page_post", "no_regression_arm64"} <= {m.id for m in p.marks}
    assert set(p.frame["connections"]) == {64} and set(p.frame["x"]) == {4096.0, 16384.0, 65536.0}
    with pytest.raises(ValueError, match="ring_size is not allowed"):
        p.set(ring_size=128)


def test_claim_marks_come_from_the_claims_table():
    """claim_marks() takes its values from data/claims.csv and applies a claim only where its
    conditions hold."""
    marks = {m.id: m for m in claim_marks("page_size", {"mtu": 1500, "xdp": "off", "connections": 64},
                                         "typical_arm64")}
    assert marks["buffers_per_page_post"].y == claimed("buffers_per_page_post")[0]
    assert marks["buffers_per_page_post"].x == 65536.0 and marks["buffers_per_page_post"].strategy == "pp_frag"
    assert "fallback_xdp" not in marks  # XDP off
    assert not claim_marks("mtu", {"page_size": 16384, "xdp": "pass", "connections": 1}, "typical_arm64")
    with pytest.raises(ValueError, match="axis"):
        claim_marks("ring_size", {}, "typical_arm64")


def test_a_release_that_refuses_points_draws_the_rest_and_says_why(tmp_path):
    """Linux 6.1 fixes MANA's MTU at 1500: an MTU sweep runs that one point per strategy, draws its
    geometry there, and names the MTUs refused."""
    p = SweepPanel(axis="mtu", kernel="6.1", cache=tmp_path, connections=4,  # 6.1: no set_ringparam
                   fixed={k: v for k, v in FIXED.items() if k != "ring_size"})
    assert sorted(set(p.frame["x"])) == [1500.0] and p.last["invalid"] == 2 * (len(AXIS_VALUES["mtu"]) - 1)
    assert "576, 1714" in p.status.value and "mtu allowed: 1500" in p.status.value
    steps = [a for a in p.figure.axes[0].get_lines() if a.get_label() == "pp_frag"]
    assert list(steps[0].get_xdata()) == [1500.0]


def test_add_a_panel(tmp_path):
    """ARCHITECTURE.md's recipe: a toy panel (ring size swept, peak RX memory drawn) subclasses
    Panel with CONTROLS, defaults, configs, draw and caption; render() runs it through the cache and
    prices it; export_html() makes its explorable fragment, one figure per state."""
    from matplotlib.figure import Figure

    from rxlab.model.config import SimConfig
    from rxlab.views.base import Panel, export_html

    class RingPanel(Panel):
        CONTROLS = {"page_size": "page size", "platform": "platform"}  # noqa: RUF012 - a test's toy

        def defaults(self):
            return {"page_size": 4096, "platform": "typical_arm64"}

        def configs(self):
            out = []
            for ring in (128, 256, 8):  # 8: below the driver's minimum, refused
                try:
                    cfg = SimConfig(page_size=self.state["page_size"], ring_size=ring, queues=1, packets=300)
                except ValueError as e:
                    cfg = str(e)
                out.append(("pp_frag", float(ring), cfg))
            return out

        def draw(self, frame):
            fig = Figure()
            fig.subplots().plot(frame["x"], frame["mem_peak_bytes"], "o-", gid="peak")
            return fig

        def caption(self):
            return (f"ring swept; Linux {SimConfig().kernel}, platform {self.state['platform']}, 300 packets; "
                    f"{self.last['invalid']} refused")

    p = RingPanel(cache=tmp_path).render()
    assert list(p.frame["x"]) == [128.0, 256.0] and {"gbps", "binds"} <= set(p.frame)
    assert p.last == {"computed": 2, "cached": 0, "invalid": 1} and "1 refused" in p.text
    assert p.png and p.text in p.static_html()
    again = RingPanel(cache=tmp_path).render(progress=lambda done, total: None)
    assert again.last["cached"] == 2
    body, figures = export_html(lambda st: RingPanel(st, cache=tmp_path),
                                {"page_size": [(4096, "4 KB"), (65536, "64 KB")]}, p.state, "ring")
    assert figures == 2 and 'class="rxlab-view-controls" hidden' in body and p.png in body
