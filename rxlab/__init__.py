"""rxlab: what an RX buffer strategy costs in memory, and what it does to throughput.

The kernel's own arithmetic lives in :mod:`rxlab.kernel`; the seed claims and
measured tables in :mod:`rxlab.data`.
"""

from rxlab.data import load_claims, load_connection_table
from rxlab.kernel.mana import RxGeometry, mana_get_rxbuf_cfg, mana_rx_geometry
from rxlab.kernel.pagepool import buffers_per_page, page_pool_alloc

__version__ = "0.1.0"

__all__ = [
    "RxGeometry",
    "buffers_per_page",
    "load_claims",
    "load_connection_table",
    "mana_get_rxbuf_cfg",
    "mana_rx_geometry",
    "page_pool_alloc",
]
