"""mlx5 (drivers/net/ethernet/mellanox/mlx5/core/): NVIDIA ConnectX. Its kernel arithmetic is
:mod:`rxlab.kernel.mlx5` (the legacy cyclic RQ's fragment strides, the striding RQ, linear and
non-linear skbs, XDP). rxlab computes its geometry; the engine does not simulate its queue yet
(``engine`` below)."""

from rxlab.errors import bad, check_int_range
from rxlab.kernel.mlx5 import (
    DEFAULT_QUEUES,
    MLX5E_PARAMS_DEFAULT_LOG_RQ_SIZE,
    MLX5E_PARAMS_MAXIMUM_LOG_RQ_SIZE,
    mlx5_rx_geometry,
)
from rxlab.model.drivers.registry import Driver, queues_up_to, register

MLX5_MAX_CHANNELS = 256  # rxlab's cap on ethtool -L (mlx5e_get_max_num_channels: the device's EQs and CPUs)


def geometry(cfg, mtu, xdp, variant):
    """mlx5e_build_rq_params(): the RQ type chosen at probe (striding where the device can), its
    strides and pages. The layout is the driver's, not a strategy's."""
    if variant != "post":
        raise bad("strategy", cfg.strategy, "a strategy of the driver's own layout (mlx5 posts its own "
                  "fragment strides or striding WQEs: mlx5e_build_rq_params)")
    return mlx5_rx_geometry(cfg.page_size, mtu, xdp, cfg.arch, cfg.ring_size, cfg.queues)


def ring_size(rel, asked):
    """1 << MLX5E_PARAMS_DEFAULT_LOG_RQ_SIZE frames, or ``ethtool -G`` rx rounded up to a power of
    two (mlx5e_ethtool_set_ringparam: order_base_2); the page size's minimum the geometry checks."""
    if asked is None:
        return 1 << MLX5E_PARAMS_DEFAULT_LOG_RQ_SIZE
    n = check_int_range("ring_size", asked, 1, 1 << MLX5E_PARAMS_MAXIMUM_LOG_RQ_SIZE)
    return 1 << (n - 1).bit_length()


MLX5 = register(Driver(
    name="mlx5", summary="NVIDIA ConnectX: a cyclic RQ of fragment strides or a striding RQ of multi-page WQEs",
    source="drivers/net/ethernet/mellanox/mlx5/core/en/params.c, en_rx.c, en_main.c",
    geometry=geometry, default_strategy=lambda rel: "pp_frag", ring_size=ring_size,
    queues=queues_up_to(DEFAULT_QUEUES, MLX5_MAX_CHANNELS),  # rxlab's default, as MANA's: NIC totals compare
    engine="the striding RQ and the cyclic RQ's fragment strides (mlx5e_alloc_rx_mpwqe, mlx5e_alloc_rx_wqe) "
           "are not in the engine's receive queue"))
