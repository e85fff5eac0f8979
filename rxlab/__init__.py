"""rxlab: what an RX buffer strategy costs in memory, and what it does to throughput.

Layers, each importing only those below it (tests/test_layers.py enforces the order):

- :mod:`rxlab.kernel`: the kernel's constants and formulas (pure Python);
- :mod:`rxlab.engine`: the packet-level simulation, njit kernels over NumPy arrays;
- :mod:`rxlab.model`: :class:`SimConfig` (validated), :func:`simulate`, :class:`Result`;
- :mod:`rxlab.cost`: platform profiles and the throughput ESTIMATE, :func:`calibrate`;
- :mod:`rxlab.studies`: the claims scoreboard, grids and cached sweeps;
- :mod:`rxlab.views`: plots, widgets, the notebook runner and HTML reports;
- :mod:`rxlab.cli`: the ``rxlab`` command.

The names below load their module on first use, so ``import rxlab`` stays cheap (no numba,
pandas or pyarrow until a name that needs them is touched).
"""

import importlib

__version__ = "0.1.0"

_HOME = {
    "CLAIMS_GRID": "rxlab.studies.grid",
    "MODEL_VERSION": "rxlab.studies.cache",
    "Calibration": "rxlab.cost.calibrate",
    "Profile": "rxlab.cost.profiles",
    "Reconfig": "rxlab.model.config",
    "Result": "rxlab.model.result",
    "RxGeometry": "rxlab.kernel.geometry",
    "SimConfig": "rxlab.model.config",
    "attribution_frame": "rxlab.cost.pricing",
    "buffers_per_page": "rxlab.kernel.pagepool",
    "calibrate": "rxlab.cost.calibrate",
    "evaluate_claims": "rxlab.studies.claims",
    "load_claims": "rxlab.data",
    "load_connection_table": "rxlab.data",
    "load_platforms": "rxlab.cost.profiles",
    "mana_get_rxbuf_cfg": "rxlab.kernel.mana",
    "mana_rx_geometry": "rxlab.kernel.mana",
    "page_pool_alloc": "rxlab.kernel.pagepool",
    "platform": "rxlab.cost.profiles",
    "simulate": "rxlab.model.simulate",
    "sweep": "rxlab.studies.sweep",
    "throughput": "rxlab.cost.pricing",
    "xdp_only": "rxlab.model.config",
}
__all__ = sorted(_HOME)  # noqa: PLE0605 (one list of names: _HOME)


def __getattr__(name):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'rxlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_HOME))
