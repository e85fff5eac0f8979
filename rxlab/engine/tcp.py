"""The receive window, jitted (include/net/tcp.h; the pure-Python formula with its cases is
rxlab.kernel.tcp.tcp_win_from_space)."""

from rxlab.engine.jit import kernel
from rxlab.engine.layout import WinMode
from rxlab.kernel.tcp import TCP_RMEM_TO_WIN_SCALE


@kernel
def tcp_win_from_space(space, scaling_ratio, mode, adv_win_scale):
    """tcp_win_from_space(sk, space): ``space * scaling_ratio >> TCP_RMEM_TO_WIN_SCALE`` (6.6+,
    dfa2f0483360), or before 6.6 ``space - (space >> tcp_adv_win_scale)`` (``space >>
    -tcp_adv_win_scale`` when it is <= 0)."""
    if mode == WinMode.scaling_ratio:
        return (space * scaling_ratio) >> TCP_RMEM_TO_WIN_SCALE
    if adv_win_scale <= 0:
        return space >> -adv_win_scale
    return space - (space >> adv_win_scale)
