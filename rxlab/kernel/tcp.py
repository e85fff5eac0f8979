"""TCP/IP receive-side constants and the receive window (include/net/tcp.h, include/linux/tcp.h,
include/uapi/linux/ip.h and tcp.h)."""

from rxlab.errors import bad, check_choice, check_int_range
from rxlab.kernel.sizes import skb_truesize

TCP_IP_HEADERS = 52  # IPv4 header 20 + TCP header with the timestamps option 32: payload = len - 52
ACK_LEN = TCP_IP_HEADERS  # a pure ACK carries the headers and nothing else
TCP_RMEM_TO_WIN_SCALE = 8  # include/linux/tcp.h (6.6+): scaling_ratio is a fraction of 256
TCP_DEFAULT_SCALING_RATIO = 128  # include/net/tcp.h: 1 << (TCP_RMEM_TO_WIN_SCALE - 1) (697a6c8cec03, 6.10)
WINDOWS = ("adv_win_scale", "scaling_ratio")


def tcp_scaling_ratio_init_6_6(arch="x86_64"):
    """The initial scaling_ratio of 6.6 to 6.9, include/net/tcp.h tcp_scaling_ratio_init() as
    dfa2f0483360 added it: ``(1200 << TCP_RMEM_TO_WIN_SCALE) / SKB_TRUESIZE(4096)`` (1200 bytes
    of payload per 4 KB page, "a conservative default"): 65 with a 256-byte sk_buff and a
    320-byte skb_shared_info."""
    return (1200 << TCP_RMEM_TO_WIN_SCALE) // skb_truesize(4096, arch)


def tcp_win_from_space(space, window="scaling_ratio", scaling_ratio=TCP_DEFAULT_SCALING_RATIO,
                       adv_win_scale=1):
    """include/net/tcp.h tcp_win_from_space(sk, space): the window advertised for ``space`` bytes
    of receive memory (tcp_space() passes sk_rcvbuf - sk_rmem_alloc).

    ``window="scaling_ratio"`` (6.6+, dfa2f0483360): ``((s64)space * scaling_ratio) >>
    TCP_RMEM_TO_WIN_SCALE``. ``window="adv_win_scale"`` (before 6.6): ``tcp_adv_win_scale <= 0 ?
    space >> -tcp_adv_win_scale : space - (space >> tcp_adv_win_scale)``; the default
    tcp_adv_win_scale 1 advertises half the space.
    """
    check_choice("window", window, WINDOWS)
    if isinstance(space, bool) or not isinstance(space, int):
        raise bad("space", space, "an integer (bytes)")
    if window == "scaling_ratio":
        check_int_range("scaling_ratio", scaling_ratio, 1, 255)
        return (space * scaling_ratio) >> TCP_RMEM_TO_WIN_SCALE
    check_int_range("adv_win_scale", adv_win_scale, -31, 31)
    return space >> -adv_win_scale if adv_win_scale <= 0 else space - (space >> adv_win_scale)
