"""rxlab: what an RX buffer strategy costs in memory, and what it does to throughput.

The kernel's own arithmetic lives in :mod:`rxlab.kernel`; the seed claims and
measured tables in :mod:`rxlab.data`; the packet-level simulation in
:func:`rxlab.simulate` (configured by :class:`rxlab.SimConfig`); grids of runs, cached and
in parallel, in :func:`rxlab.sweep`.
"""

from rxlab.cache import MODEL_VERSION
from rxlab.config import Reconfig, SimConfig, xdp_only
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
    "Reconfig",
    "Result",
    "RxGeometry",
    "SimConfig",
    "buffers_per_page",
    "load_claims",
    "load_connection_table",
    "mana_get_rxbuf_cfg",
    "mana_rx_geometry",
    "page_pool_alloc",
    "simulate",
    "sweep",
    "xdp_only",
]
