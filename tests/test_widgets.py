"""The explorer panel driven from Python: its DOM contract, and that a change re-runs and redraws."""

import re

import ipywidgets as w
import pytest

import rxlab
from rxlab.cost.profiles import load_platforms
from rxlab.views.format import quantity
from rxlab.views.widgets import explorer

# views only (the explorer's controls, figure and tables): the interpreted engine would add nothing but
# minutes, as for test_panel's panels (CONTRIBUTING.md, markers)
pytestmark = pytest.mark.jit_only


@pytest.fixture(scope="module")
def panel():
    return explorer(quick=True)


def _lines(fig):
    return [line.get_ydata().tolist() for ax in fig.axes for line in ax.get_lines()]


def test_contract(panel):
    ps = panel.controls["page_size"]
    assert isinstance(ps, w.Dropdown) and ps.description == "page size"
    assert ps.options == (("4 KB", 4096), ("16 KB", 16384), ("64 KB", 65536)) and ps.label == "4 KB"
    conn = panel.controls["connections"]
    assert isinstance(conn, w.IntSlider) and conn.description == "connections"
    (out,) = panel.figure_out.outputs
    assert out["data"]["image/png"] == panel.png and len(panel.png) > 10_000
    table = panel.counters.value
    assert table.startswith('<table class="rxlab-counters">')
    for name in ("alloc_fast", "atomic_rmw", "goodput_gbps", "frags_per_page"):
        assert f"<th>{name}</th>" in table
    # the counters that stayed zero are named in one line, not one row each; all of them are data
    zero = [c for c, v in zip(panel.result.counters_frame()["counter"], panel.result.counters) if v == 0]
    assert zero and all(f"<th>{c}</th>" not in table for c in zero)
    assert f"zero in this run: {', '.join(zero)};" in table and 'download="counters.csv"' in table
    # every control's widget is in the panel's tree, so the browser sees what Python drives
    shown = set(panel.children[0].children)
    assert all(c in shown for c in panel.controls.values())
    assert panel.figure_out in panel.children[1].children and panel.counters in panel.children[1].children


def _value(table, name):
    return re.search(rf"<th>{name}</th><td>([^<]*)</td>", table).group(1)


def test_change_reruns_and_redraws(panel):
    before = panel.counters.value, panel.png, _lines(panel.figure), panel.result
    assert _value(before[0], "frags_per_page") == "2"  # 1856-byte buffers on a 4 KB page
    panel.controls["page_size"].value = 65536
    assert panel.result is not before[3] and panel.result.config.page_size == 65536
    assert _value(panel.counters.value, "frags_per_page") == "34"  # 128-byte aligned on arm64
    assert panel.png != before[1] and panel.figure_out.outputs[0]["data"]["image/png"] == panel.png
    assert _lines(panel.figure) != before[2]  # memory over time moved: 64 KB pages pin more
    peak = panel.result.metrics()["mem_peak_bytes"]
    assert _value(panel.counters.value, "mem_peak_bytes") == quantity(peak, "bytes")  # in MiB, with the unit
    panel.controls["connections"].value = 8
    assert panel.result.config.connections == 8 and panel.result.conn.shape[0] == 8


def _estimate(html):
    m = re.search(r"ESTIMATE</b> on <code>(\w+)</code>: <b>([\d.,]+) Gbps</b>, <b>(\w+)</b> binds", html)
    return m.group(1), float(m.group(2).replace(",", "")), m.group(3)


def test_platform_estimate(panel):
    """The platform control re-prices the same run; the estimate, what binds and the top operations
    are those of Result.throughput / Result.attribution under that profile, labelled an estimate."""
    plat = panel.platform
    assert isinstance(plat, w.Dropdown) and plat.description == "platform"
    assert plat.options == tuple(load_platforms()) and plat in panel.children[0].children
    assert panel.estimate in panel.children[1].children
    panel.set(page_size=4096, connections=4, queues=4, strategy="pp_frag")
    run = panel.result
    for name in plat.options:
        plat.value = name
        assert panel.result is run  # re-priced, not re-simulated
        t = rxlab.throughput(run, rxlab.platform(name)).iloc[0]
        shown = _estimate(panel.estimate.value)
        assert shown[0] == name and shown[1] == pytest.approx(t.gbps, abs=0.05) and shown[2] == t.binds
        assert '<table class="rxlab-estimate">' in panel.estimate.value and "ESTIMATE:" in panel.estimate.value
        att = rxlab.attribution_frame(run, rxlab.platform(name))
        att = att.sort_values("cycles_per_packet", ascending=False, kind="stable").head(5)
        top = [f"{o} ({'RX core' if c == 'napi' else 'reading core'})" for o, c in zip(att.operation, att.cpu_class)]
        assert re.findall(r"<tr><th>([^<]+)</th><td>[\d.,e+-]+ x ", panel.estimate.value) == top
        # each CPU class's bound and how busy it is, as mpstat would show it
        assert f"RX-core CPU bound</th><td>{quantity(t.gbps_cpu, 'Gbps')}</td><td></td><td>{t.util_napi:.0%} busy" in \
            panel.estimate.value
        assert f"reading-core CPU bound</th><td>{quantity(t.gbps_reader, 'Gbps')}</td><td></td><td>{t.util_reader:.0%} busy" \
            in panel.estimate.value
    # the affected SKU has typical_arm64's CPU costs; its empirical device ceiling (seed 001, fragments
    # at 4 connections: 139 Gbps) is a bound of its own, which caps the estimate; and a band is shown
    plat.value = "typical_arm64"
    typical = _estimate(panel.estimate.value)[1]
    assert "device bound (empirical, not CPU)</th><td>not limiting" in panel.estimate.value
    plat.value = "affected_arm64"
    assert _estimate(panel.estimate.value)[1] == pytest.approx(min(typical, 139.0), abs=0.05)
    assert "device bound (empirical, not CPU)</th><td>139 Gbps" in panel.estimate.value
    assert re.search(r"band [\d.]+\.\.[\d.]+ Gbps", panel.estimate.value) and "NOT a CPU cost" in panel.estimate.value
    assert "the profile is x86_64" not in panel.estimate.value
    plat.value = "x86_64_server"
    assert "the profile is x86_64, the simulated geometry arm64" in panel.estimate.value
    panel.controls["strategy"].value = "full_page"  # a new run is priced under the selected platform
    assert panel.result is not run and _estimate(panel.estimate.value)[1] == pytest.approx(
        rxlab.throughput(panel.result, rxlab.platform("x86_64_server")).gbps[0], abs=0.05)
    assert "ESTIMATE" in panel.static_html() and 'class="rxlab-estimate"' in panel.static_html()
    plat.value = "typical_arm64"


def test_queue_occupancy_is_drawn(panel):
    """The figure's last panel: connections per RX queue, as RSS placed them."""
    panel.set(page_size=4096, connections=8, queues=16, strategy="pp_frag")
    bars = [p.get_height() for p in panel.figure.axes[3].patches]
    occ = panel.result.queue_occupancy()
    assert bars == list(occ.connections) and sum(bars) == 8 and len(bars) == 16
    assert (occ.connections == 0).any()  # flows collide: some queues idle
    assert f"{int((occ.connections == 0).sum())} idle" in panel.figure.axes[3].get_title()


def test_refused_configuration_says_why(panel):
    # XDP PASS with MTU 9000: above MANA_XDP_MTU_MAX on 4 KB pages
    panel.set(page_size=4096, connections=64, xdp=panel.controls["xdp"].options[1][1], mtu=9000)
    assert panel.result is None and "mtu" in panel.error
    assert "rxlab-error" in panel.status.value and panel.figure_out.outputs == () and panel.estimate.value == ""
    assert "mtu" in panel.static_html()
    panel.controls["mtu"].value = 1500
    assert panel.result is not None and panel.result.geometry.frag_count == 1  # XDP: a page per buffer


def test_static_fallback_is_offline(panel):
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    page = bundle["text/html"]
    assert '<table class="rxlab-counters">' in page and 'src="data:image/png;base64,' in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)


def test_kernel_dropdown_follows_the_release_and_keeps_what_the_user_set():
    panel = explorer(quick=True)  # its own: the shared panel's controls were set by the tests above
    kernel = panel.controls["kernel"]
    assert isinstance(kernel, w.Dropdown) and kernel.description == "Linux"
    assert kernel.options == rxlab.kernel.releases.names() and kernel.value == rxlab.kernel.releases.DEFAULT
    panel.set(connections=8, queues=2)  # queues: set by the user
    kernel.value = "6.1"
    c = panel.result.config
    assert (c.kernel, c.strategy, c.ring_size, c.tcp_rmem, c.skb_defer_max, c.queues) == (
        "6.1", "full_page", 512, 6 << 20, 64, 2)
    assert panel.controls["ring_size"].value == 512 and panel.controls["strategy"].value == "full_page"
    assert "Linux 6.1" in panel.figure._suptitle.get_text()
    kernel.value = rxlab.kernel.releases.NEWEST
    c = panel.result.config
    assert (c.strategy, c.ring_size, c.tcp_rmem, c.queues) == ("pp_frag", 1024, 32 << 20, 2)


def test_controls_sit_above_a_figure_of_the_panels_width(panel):
    """JupyterLab's default layout squeezed a figure beside the controls to under half the cell: the
    controls are a grid above it, and the figure's output takes the whole width."""
    assert isinstance(panel, w.VBox) and "rxlab-explorer" in panel._dom_classes
    grid, body = panel.children
    assert isinstance(grid, w.GridBox) and "auto-fill" in grid.layout.grid_template_columns
    assert panel.figure_out in body.children and panel.figure_out.layout.width == "100%"
    assert body.layout.width == panel.layout.width == "100%"
