"""The receive window and receive-buffer autotuning, jitted (include/net/tcp.h,
net/ipv4/tcp_input.c; the pure-Python formulas with their cases are rxlab.kernel.tcp's
tcp_win_from_space, tcp_rcvbuf_grow and alloc_skb_truesize)."""

from rxlab.engine.jit import inner, kernel
from rxlab.engine.layout import CN, Grow, WinMode
from rxlab.kernel.tcp import TCP_HEADER_LEN, TCP_MIN_MSS, TCP_RMEM_TO_WIN_SCALE


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


@kernel
def tcp_rcvbuf_grow(copied, space, ratio, grow, mode, advmss, rcvmem, rtt_us, low_rtt_us, cap):
    """The sk_rcvbuf tcp_rcv_space_adjust() asks for after ``copied`` bytes in an RTT (more than
    the ``space`` before): the window (Grow: 2 x copied + 16 x advmss grown for slow start until
    6.15; 2 x copied in 6.16 (65c5287892e9); 2 x copied grown for slow start, or by rtt /
    tcp_rcvbuf_low_rtt below it, from 6.19 (aa251c84636c, ecfea98b7d0d)), then its memory:
    tcp_space_from_win() = window << 8 / scaling_ratio (6.6+), before 6.6 window / advmss *
    rcvmem; at most tcp_rmem[2] ``cap``."""
    if grow == Grow.cushion:
        rcvwin = (copied << 1) + 16 * advmss
        rcvwin += (rcvwin * (copied - space) // space) << 1
    else:
        rcvwin = copied << 1
        if grow == Grow.copied_2x_grow:
            if rtt_us < low_rtt_us:
                rcvwin += rcvwin * rtt_us // low_rtt_us
            else:
                rcvwin += ((rcvwin << 1) * (copied - space)) // space
    if mode == WinMode.scaling_ratio:
        rcvbuf = (rcvwin << TCP_RMEM_TO_WIN_SCALE) // ratio
    else:
        rcvbuf = rcvwin // advmss * rcvmem
    return min(rcvbuf, cap)


@kernel
def alloc_skb_truesize(copy, page_size, shinfo, sizeof_sk_buff_aligned):
    """skb->truesize of alloc_skb(copy): SKB_HEAD_ALIGN(copy) rounded up to its kmalloc cache
    (kmalloc_size_roundup: 96, 192 or a power of two up to 2 * PAGE_SIZE, whole pages above)
    plus the sk_buff (net/core/skbuff.c __alloc_skb, mm/slab_common.c)."""
    size = ((copy + 63) & ~63) + shinfo
    if size > 2 * page_size:
        n = (size - 1) // page_size
        order = 0
        while n > 0:
            n >>= 1
            order += 1
        head = page_size << order
    elif 64 < size <= 96:
        head = 96
    elif 128 < size <= 192:
        head = 192
    else:
        head = 8
        while head < size:
            head <<= 1
    return head + sizeof_sk_buff_aligned


@inner
def tcp_measure_rcv_mss(k, seg, payload, truesize, advmss):
    """tcp_measure_rcv_mss() (net/ipv4/tcp_input.c) on connection row ``k`` for an skb of
    ``payload`` bytes charged ``truesize``, whose segments carry ``seg`` bytes
    (skb_shinfo(skb)->gso_size of a GRO aggregate, else its len). A segment at least rcv_mss that
    differs from it measures scaling_ratio anew, from this skb as a whole: (len << 8) / truesize
    (truesize exceeds len, so it fits the u8), and rcv_mss becomes min(seg, advmss); so a
    connection's ratio is that of its first full-sized skb, single segment or aggregate, until the
    segment size changes. A smaller segment becomes rcv_mss when the next one has the same size
    (last_seg_size), if it is not a remnant: rxlab's segments carry no PSH, URG, FIN or SYN, so
    only the size test (len + tcp_header_len >= TCP_MIN_MSS + sizeof(struct tcphdr)) applies."""
    lss = k[CN.last_seg]
    k[CN.last_seg] = 0
    if seg >= k[CN.rcv_mss]:
        if seg != k[CN.rcv_mss]:
            k[CN.scaling] = max(1, (payload << TCP_RMEM_TO_WIN_SCALE) // truesize)
        k[CN.rcv_mss] = min(seg, advmss)
    elif seg + TCP_HEADER_LEN >= TCP_MIN_MSS + 20:
        k[CN.last_seg] = seg
        if seg == lss:
            k[CN.rcv_mss] = seg
