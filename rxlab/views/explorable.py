"""The report's explorable sweeps (``explore.html``): the sweep panel (:class:`rxlab.views.panel.SweepView`,
the same figure, claims and captions as every notebook's panel) exported over a precomputed grid a
reader browses offline.

Every state of the grid (a swept axis; a value for each other field of :data:`GRID`; a platform of
:data:`PLATFORMS`; a release of :data:`KERNELS`; a driver) is drawn once, through
:func:`rxlab.views.base.export_html`, which ships the images and a small script that swaps them
when a control changes: no server, no network. With scripts off the controls stay hidden and the
default view shows.
"""

from rxlab.kernel.releases import DEFAULT as DEFAULT_KERNEL
from rxlab.model import defaults
from rxlab.model.drivers import DRIVERS
from rxlab.studies.claims import PANEL_AXES
from rxlab.views.panel import AXIS_LABELS, EXPORT_KERNELS, SERIES, export_sweep, simulated, value_text

GRID = {"mtu": (1500, 9000), "page_size": (4096, 65536), "xdp": ("off", "pass"), "connections": (1, 64)}
"""The values a held field takes in the page (a swept field takes the panel's own, AXIS_VALUES)."""
PLATFORMS = ("typical_arm64", "affected_arm64")  # arm64 has every page size
KERNELS = EXPORT_KERNELS
DEFAULT = {"axis": "page_size", "mtu": 1500, "page_size": 65536, "xdp": "off", "connections": 1,
           "platform": "typical_arm64", "kernel": DEFAULT_KERNEL, "driver": "mana", "series": SERIES}
MAX_PAGE_BYTES = 10 * 2**20  # a report page stays under 10 MB


def options(grid=None, platforms=None):
    """The page's controls: {field: [(value, text)]}."""
    grid = {**GRID, **(grid or {})}
    out = {"axis": [(a, AXIS_LABELS[a]) for a in PANEL_AXES]}
    out.update({k: [(v, value_text(k, v)) for v in grid[k]] for k in GRID})
    out["platform"] = [(p, p) for p in platforms or PLATFORMS]
    out["kernel"] = [(k, k) for k in KERNELS]
    out["driver"] = [(d, d if simulated(d) else f"{d} (geometry only)") for d in DRIVERS]
    return out


def explore_html(quick, grid=None, packets=None, cache=None, progress=None):
    """The explorable sweeps as an HTML fragment, and the number of figures it carries. ``packets``
    per run: default ``defaults.REPORT_GRID(quick)``."""
    packets = packets or defaults.REPORT_GRID(quick)
    opts = options(grid)
    default = {**DEFAULT, **{k: v[0][0] for k, v in opts.items() if DEFAULT[k] not in [x for x, _ in v]}}
    spec = {"state": {**default, "series": list(SERIES)}, "packets": packets, "fixed": {}}
    body, figures = export_sweep(spec, "explore", options=opts, cache=cache, progress=progress)
    intro = (f'<p class="rxlab-estimate">Throughput is an ESTIMATE. A precomputed grid: every figure below is the '
             f"sweep panel of the notebooks (<code>rxlab.views.panel</code>), runs of {packets:,} packets, "
             f"{figures} figures. Pick the swept axis, the values held, the platform, the Linux release and the "
             "driver (the engine simulates MANA, bnxt and mlx5's two RQs). The figure and its "
             "caption are swapped in this page (nothing is fetched); the caption names the release, platform and "
             "packets it shows.</p>")
    return intro + body, figures
