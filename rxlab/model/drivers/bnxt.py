"""bnxt_en (drivers/net/ethernet/broadcom/bnxt/): Broadcom NetXtreme-C/E. Its kernel arithmetic is
:mod:`rxlab.kernel.bnxt` (normal and page mode, BNXT_RX_PAGE_SIZE, the aggregation ring, TPA,
header-data split, copybreak). The engine simulates its normal-mode queue (``Mode.agg``,
:func:`rxlab.engine.rxq_bnxt.bnxt_rx_pkt`, with the device's TPA aggregations: rxlab.engine.rxq_bnxt_tpa) and page mode with a single-buffer XDP program
(``Mode.page``, :func:`rxlab.engine.rxq_bnxt.bnxt_rx_page_pkt`)."""

from rxlab.errors import bad, check_int_range
from rxlab.kernel.bnxt import BNXT_DEFAULT_RX_RING_SIZE, BNXT_MAX_QUEUES, DEFAULT_QUEUES, bnxt_rx_geometry
from rxlab.model.drivers.registry import Driver, queues_up_to, register


def geometry(cfg, mtu, xdp, variant):
    """bnxt_set_ring_params() and bnxt_set_rx_skb_mode(): page mode while XDP is attached, normal
    mode (page_pool fragments, the aggregation ring with hardware GRO, rxlab.engine.rxq_bnxt_tpa)
    otherwise. The layout is the
    driver's, not a strategy's: a page-per-buffer strategy outside XDP has no bnxt counterpart."""
    if variant != "post":
        raise bad("strategy", cfg.strategy, "a strategy of the driver's own layout (bnxt has a page per "
                  "buffer only in page mode, with XDP: bnxt_set_rx_skb_mode)")
    # bnxt_fix_features(): no NETIF_F_GRO_HW without NETIF_F_GRO, and then no TPA (bnxt_set_tpa_flags)
    # and, at MTU 1500, no aggregation ring (bnxt_reinit_features -> bnxt_set_ring_params)
    return bnxt_rx_geometry(cfg.page_size, mtu, xdp, cfg.arch, cfg.ring_size, cfg.queues,
                            gro_hw=cfg.gro and cfg.gro_hw)


def ring_size(rel, asked):
    """BNXT_DEFAULT_RX_RING_SIZE, or what ``ethtool -G`` asks (bnxt_set_ringparam(): the limits
    depend on the page size, which the geometry checks)."""
    return BNXT_DEFAULT_RX_RING_SIZE if asked is None else check_int_range("ring_size", asked, 1, 1 << 16)


def engine_layout(g):
    """The engine simulates normal mode and single-buffer page mode; page mode with the aggregation
    ring (a multi-buffer program above BNXT_MAX_PAGE_MODE_MTU: BNXT_FLAG_JUMBO,
    bnxt_rx_agg_netmems_xdp, bnxt_rx_multi_page_skb, bnxt_xdp_build_skb) is not in it. The
    adapter above never asks for one (no xdp_frags), so this guards later adapters."""
    return "bnxt's jumbo page mode (a multi-buffer XDP program: bnxt_rx_multi_page_skb, bnxt_xdp_build_skb) " \
           "is not in the engine's receive queue" if g.xdp and g.agg_ring_size else ""


BNXT = register(Driver(
    name="bnxt", summary="Broadcom NetXtreme-C/E: page_pool heads, an aggregation ring with hardware GRO",
    source="drivers/net/ethernet/broadcom/bnxt/bnxt.c, bnxt.h, bnxt_xdp.c",
    geometry=geometry, default_strategy=lambda rel: "pp_frag", ring_size=ring_size,
    queues=queues_up_to(DEFAULT_QUEUES, BNXT_MAX_QUEUES),  # rxlab's default, as MANA's: NIC totals compare
    engine_layout=engine_layout))
