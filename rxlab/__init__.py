"""rxlab: what an RX buffer strategy costs in memory, and what it does to throughput.

The kernel's own arithmetic lives in :mod:`rxlab.kernel`; the seed claims and
measured tables in :mod:`rxlab.data`; the packet-level simulation in
:func:`rxlab.simulate` (configured by :class:`rxlab.SimConfig`); grids of runs, cached and
in parallel, in :func:`rxlab.sweep`; the throughput cost model, an estimate priced with
platform profiles, in :mod:`rxlab.cost` (with :func:`rxlab.calibrate`); the seed claims
scoreboard in :mod:`rxlab.claims`.
"""

from rxlab.cache import MODEL_VERSION
from rxlab.calibrate import Calibration, calibrate
from rxlab.claims import evaluate_claims
from rxlab.config import Reconfig, SimConfig, xdp_only
from rxlab.cost import Profile, attribution_frame, load_platforms, platform, throughput
from rxlab.data import load_claims, load_connection_table
from rxlab.grid import CLAIMS_GRID
from rxlab.kernel.mana import RxGeometry, mana_get_rxbuf_cfg, mana_rx_geometry
from rxlab.kernel.pagepool import buffers_per_page, page_pool_alloc
from rxlab.result import Result
from rxlab.simulate import simulate
from rxlab.sweeps import sweep

__version__ = "0.1.0"

__all__ = [
    "CLAIMS_GRID",
    "MODEL_VERSION",
    "Calibration",
    "Profile",
    "Reconfig",
    "Result",
    "RxGeometry",
    "SimConfig",
    "attribution_frame",
    "buffers_per_page",
    "calibrate",
    "evaluate_claims",
    "load_claims",
    "load_connection_table",
    "load_platforms",
    "mana_get_rxbuf_cfg",
    "mana_rx_geometry",
    "page_pool_alloc",
    "platform",
    "simulate",
    "sweep",
    "throughput",
    "xdp_only",
]
