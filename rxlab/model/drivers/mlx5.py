"""mlx5 (drivers/net/ethernet/mellanox/mlx5/core/): NVIDIA ConnectX. Its kernel arithmetic is
:mod:`rxlab.kernel.mlx5` (the legacy cyclic RQ's fragment strides, the striding RQ, linear and
non-linear skbs, XDP).

Two registrations, one driver: ``mlx5`` takes the RQ type mlx5e_build_rq_params() picks at probe,
the striding RQ on a device that has it (the assumption ``striding_rq_cap=True`` of
:func:`rxlab.kernel.mlx5.mlx5_rx_geometry`: MLX5_CAP_GEN striding_rq, ConnectX-5 and later) for every
page size and MTU rxlab takes; ``mlx5_cyclic`` the legacy cyclic RQ, as ``ethtool --set-priv-flags
<dev> rx_striding_rq off`` sets it (or a device without the capability). The engine simulates both: the
legacy RQ (``Mode.cyc``, :func:`rxlab.engine.rxq_mlx5.mlx5e_handle_rx_cqe`) and the striding RQ
(``Mode.mpw``, :func:`rxlab.engine.rxq_mlx5_mpwqe.mlx5e_handle_rx_cqe_mpwrq`), less what
``engine_layout`` below names."""

from rxlab.errors import bad, check_int_range
from rxlab.kernel.mlx5 import (
    DEFAULT_QUEUES,
    MLX5E_PARAMS_DEFAULT_LOG_RQ_SIZE,
    MLX5E_PARAMS_MAXIMUM_LOG_RQ_SIZE,
    mlx5_rx_geometry,
)
from rxlab.kernel.pagepool import pp_alloc_cache
from rxlab.model.drivers.registry import Driver, queues_up_to, register

MLX5_MAX_CHANNELS = 256  # rxlab's cap on ethtool -L (mlx5e_get_max_num_channels: the device's EQs and CPUs)


def _geometry(rq_type):
    def geometry(cfg, mtu, xdp, variant):
        """mlx5e_build_rq_params(): the RQ type (chosen at probe, striding where the device can, or
        the rx_striding_rq flag's), its strides and pages. The layout is the driver's, not a
        strategy's. The legacy RQ's refill units follow the release's PP_ALLOC_CACHE_REFILL."""
        if variant != "post":
            raise bad("strategy", cfg.strategy, "a strategy of the driver's own layout (mlx5 posts its own "
                      "fragment strides or striding WQEs: mlx5e_build_rq_params)")
        refill = pp_alloc_cache(cfg.page_size, cfg.release.pp_alloc_cache == "page_size_scaled")[1]
        return mlx5_rx_geometry(cfg.page_size, mtu, xdp, cfg.arch, cfg.ring_size, cfg.queues, rq_type=rq_type,
                                pp_cache_refill=refill)

    return geometry


def ring_size(rel, asked):
    """1 << MLX5E_PARAMS_DEFAULT_LOG_RQ_SIZE frames, or ``ethtool -G`` rx rounded up to a power of
    two (mlx5e_ethtool_set_ringparam: order_base_2); the page size's minimum the geometry checks."""
    if asked is None:
        return 1 << MLX5E_PARAMS_DEFAULT_LOG_RQ_SIZE
    n = check_int_range("ring_size", asked, 1, 1 << MLX5E_PARAMS_MAXIMUM_LOG_RQ_SIZE)
    return 1 << (n - 1).bit_length()


def engine_layout(g):
    """The engine simulates the legacy cyclic RQ (``Mode.cyc``) and the striding RQ (``Mode.mpw``,
    :mod:`rxlab.engine.rxq_mlx5_mpwqe`), with two exceptions.

    A striding RQ of more than 256 WQEs: mlx5e_post_rx_mpwqes() counts the missing WQEs in a u8
    (``u8 missing, i``), which such a ring overflows; the engine does not simulate what the truncated
    count then posts (mlx5e_mpwqe_get_log_rq_size() makes one of a non-linear RQ of 8192 frames: MTU 9000
    on 4 KB pages, ring_size 8192). XDP on a non-linear striding RQ (XDP multi-buffer, its
    linear_page) the geometry refuses already (mlx5e_params_validate_xdp without xdp_frags).

    Nor a legacy RQ whose refill unit ends inside a page that wqe_index_mask + 1 WQEs share:
    mlx5e_rx_compute_wqe_bulk_params() does not align the unit to a page (it divides wqe_bulk by
    DIV_ROUND_UP(MAX_WQE_BULK_BYTES, PP_ALLOC_CACHE_REFILL * PAGE_SIZE): 2 on 4 KB pages, and on 16
    and 64 KB pages once 15abbe7c8266 scales PP_ALLOC_CACHE_REFILL, 1 before), and
    mlx5e_refill_rx_wqes() releases a page at its last fragment's WQE, allocates one at its first: a
    unit that ends inside the page allocates the new page over the old one's frag_page, and the next
    unit releases the new page while its WQEs are posted. Small rings with small strides do this
    (4 KB pages, MTU 576, ring 16; 16 KB pages, MTU 576, ring 64 from 7.1)."""
    if g.variant == "striding":
        if g.wqe_count > 256:
            return f"mlx5's striding RQ of {g.wqe_count} WQEs (mlx5e_mpwqe_get_log_rq_size): mlx5e_post_rx_mpwqes() " \
                   "counts missing WQEs in a u8, which the engine does not simulate past 256 WQEs (a smaller " \
                   "ring_size avoids it)"
        if g.xdp and not g.linear:
            return "XDP on mlx5's non-linear striding RQ (mlx5e_skb_from_cqe_mpwrq_nonlinear's linear_page, XDP " \
                   "multi-buffer) is not in the engine"
        return ""
    if g.refill_unit % (g.wqe_index_mask + 1):
        return f"mlx5's legacy RQ refilling {g.refill_unit} WQEs at a time (mlx5e_rx_compute_wqe_bulk_params) " \
               f"where {g.wqe_index_mask + 1} share a page: mlx5e_refill_rx_wqes() would post a page it has " \
               "released, which the engine does not simulate (a larger ring_size or MTU avoids it)"
    return ""


SOURCE = "drivers/net/ethernet/mellanox/mlx5/core/en/params.c, en_rx.c, en_main.c"
MLX5 = register(Driver(
    name="mlx5", summary="NVIDIA ConnectX: a striding RQ of multi-page WQEs where the device has it, else a "
                         "cyclic RQ of fragment strides",
    source=SOURCE, geometry=_geometry("auto"), default_strategy=lambda rel: "pp_frag", ring_size=ring_size,
    queues=queues_up_to(DEFAULT_QUEUES, MLX5_MAX_CHANNELS),  # rxlab's default, as MANA's: NIC totals compare
    engine_layout=engine_layout))
MLX5_CYCLIC = register(Driver(
    name="mlx5_cyclic", summary="NVIDIA ConnectX with rx_striding_rq off: the legacy cyclic RQ of fragment "
                                "strides on page_pool pages",
    source=SOURCE, geometry=_geometry("cyclic"), default_strategy=lambda rel: "pp_frag", ring_size=ring_size,
    queues=queues_up_to(DEFAULT_QUEUES, MLX5_MAX_CHANNELS), engine_layout=engine_layout))
