"""MANA (drivers/net/ethernet/microsoft/mana/): the driver rxlab started from (seed 000's fragment
patch). Its kernel arithmetic is :mod:`rxlab.kernel.mana`; its behaviour per release, the
``mana_*`` rows of ``data/kernels.toml``."""

import numpy as np

from rxlab.errors import bad, check_int_range
from rxlab.kernel.mana import (
    MANA_MAX_NUM_QUEUES,
    check_fixed_mtu,
    mana_default_num_queues,
    mana_rx_geometry,
    mana_set_ringparam_rx,
)
from rxlab.kernel.sizes import get_order
from rxlab.model.drivers.registry import Driver, register

# the strategy that simulates each MANA RX layout of rxlab.kernel.releases (page_alloc, 6.1's
# alloc_page() per buffer without page_pool, is simulated as a page_pool page per buffer)
LAYOUT_STRATEGY = {"page_alloc": "full_page", "page_pool_page": "full_page", "page_pool_frag": "pp_frag"}


def geometry(cfg, mtu, xdp, variant):
    """mana_get_rxbuf_cfg() and mana_create_page_pool() for ``cfg``'s release: the MTU fixed at
    1500 before 6.4, f73896b4197e's truesize from 7.0 unless the strategy says otherwise
    (:func:`rxlab.kernel.mana.mana_rx_geometry`)."""
    rel = cfg.release
    mtu = check_fixed_mtu(mtu, rel.mana_max_mtu, rel.name)
    fix = cfg.spec.truesize_fix
    return mana_rx_geometry(cfg.page_size, mtu, xdp, variant, cfg.arch, cfg.ring_size, cfg.queues,
                            cfg.adapter_mtu, truesize_fix=rel.mana_truesize == "backing_alloc" if fix is None else fix)


def default_strategy(rel):
    return LAYOUT_STRATEGY[rel.mana_rx_layout]


def ring_size(rel, asked):
    """The release's default ring; or, asked for, what mana_set_ringparam() sets (3410d0e14f9a,
    6.12: refused below 128, rounded up to a power of two), refused where the release has none."""
    if asked is None:
        return rel.mana_ring_default
    if rel.mana_ring_param == "fixed":
        if asked != rel.mana_ring_default:
            raise bad("ring_size", asked, f"{rel.mana_ring_default} (MANA in Linux {rel.name} has no "
                      "set_ringparam: it came with 3410d0e14f9a in 6.12)")
        return asked
    return mana_set_ringparam_rx(asked)


def queues(rel, online_cpus, asked):
    """mana_probe_port()'s default, or what mana_set_channels() accepts: at most max_queues =
    min(num_online_cpus(), MANA_MAX_NUM_QUEUES, ...)."""
    if asked is None:
        return mana_default_num_queues(online_cpus, rel.mana_queue_cap)
    return check_int_range("queues", asked, 1, min(online_cpus, MANA_MAX_NUM_QUEUES))


def pre_alloc(st, cfg, g, fail):
    """mana_pre_alloc_rxbufs(): a page of get_order(alloc_size) (dev_alloc_pages) per buffer of
    every queue, DMA-mapped, before anything is torn down. Returns the buffers, or None after
    mana_pre_dealloc_rxbufs() has unmapped and put each one it took, last first
    (drivers/net/ethernet/microsoft/mana/mana_en.c); compiled (rxlab.engine.skb.bufs_pre_alloc):
    64 queues of 8,192 buffers took 9.5 s as a Python loop."""
    from rxlab.engine.skb import bufs_pre_alloc

    n = cfg.queues * cfg.ring_size
    order = get_order(g.alloc_size, cfg.page_size) if g.alloc_size > cfg.page_size else 0
    bufs = np.empty(n, np.int64)
    if not bufs_pre_alloc(st, order, cfg.page_size << order, g.datasize, cfg.ring_size, n // 2 if fail else -1, bufs):
        return None
    return bufs


MANA = register(Driver(
    name="mana", summary="Microsoft Azure Network Adapter: a page per buffer, page_pool fragments from 6.18",
    source="drivers/net/ethernet/microsoft/mana/mana_en.c, include/net/mana/mana.h",
    geometry=geometry, default_strategy=default_strategy, ring_size=ring_size, queues=queues,
    pre_alloc=pre_alloc))
