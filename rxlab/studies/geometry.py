"""Tabulate RX buffer geometry over a grid of page sizes, MTUs, XDP states and variants."""

import itertools

import pandas as pd

from rxlab.kernel.mana import DEF_RX_BUFFERS_PER_QUEUE, MANA_DEF_NUM_QUEUES, mana_rx_geometry

REPORT_MTUS = (576, 1500, 1714, 1715, 3000, 3506, 4000, 9000)
# the columns a report's geometry table shows
REPORT_COLUMNS = ["variant", "page_size", "mtu", "xdp", "datasize", "alloc_size", "headroom", "frag_count",
                  "frags_per_page", "order", "pool_size", "truesize", "truesize_pinned", "ring_bytes",
                  "nic_bytes", "error"]


def geometry_frame(page_sizes=(4096, 16384, 65536), mtus=REPORT_MTUS, xdp=(False, True),
                   variants=("pre", "post"), arch="arm64", ring_size=DEF_RX_BUFFERS_PER_QUEUE,
                   queues=MANA_DEF_NUM_QUEUES):
    """One row per (variant, page_size, mtu, xdp) with every RxGeometry field.

    A combination the driver refuses (e.g. XDP with an MTU above MANA_XDP_MTU_MAX) is
    kept as a row whose ``error`` column says why, so nothing is silently dropped.
    """
    rows = []
    for variant, page_size, mtu, x in itertools.product(variants, page_sizes, mtus, xdp):
        key = {"variant": variant, "arch": arch, "page_size": page_size, "mtu": mtu, "xdp": bool(x)}
        try:
            g = mana_rx_geometry(page_size, mtu, bool(x), variant, arch, ring_size, queues)
        except ValueError as e:
            rows.append({**key, "error": str(e)})
            continue
        rows.append({**g.to_dict(), "error": ""})
    df = pd.DataFrame(rows)
    df["variant"] = pd.Categorical(df["variant"], categories=list(variants))
    return df


DRIVER_COLUMNS = ["driver", "variant", "page_size", "mtu", "xdp", "alloc_size", "frag_count", "frags_per_page",
                  "truesize", "truesize_pinned", "mem_efficiency_buffer", "mem_efficiency_ring", "ring_size",
                  "nic_bytes", "error"]


def driver_frame(drivers=("mana", "bnxt", "mlx5"), page_sizes=(4096, 16384, 65536), mtus=REPORT_MTUS,
                 xdp=(False, True), arch="arm64", kernel=None):
    """One row per (driver, page_size, mtu, xdp): each driver's default layout in ``kernel`` (default the
    default release), as SimConfig resolves it (rxlab.model.drivers: its own ring and queue defaults),
    with every RxGeometry field; a combination the driver refuses keeps its row with the kernel's reason
    in ``error``."""
    from rxlab.model.config import SimConfig, xdp_only

    rows = []
    for driver, page_size, mtu, x in itertools.product(drivers, page_sizes, mtus, xdp):
        key = {"driver": driver, "arch": arch, "page_size": page_size, "mtu": mtu, "xdp": bool(x)}
        kw = {"kernel": kernel} if kernel else {}
        try:
            g = SimConfig(driver=driver, page_size=page_size, mtu=mtu, arch=arch,
                          xdp=xdp_only("pass") if x else (), **kw).geometry()
        except ValueError as e:
            rows.append({**key, "error": str(e)})
            continue
        rows.append({"driver": driver, **g.to_dict(), "error": ""})
    return pd.DataFrame(rows)
