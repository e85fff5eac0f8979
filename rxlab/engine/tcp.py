"""The receive window and receive-buffer autotuning, jitted (include/net/tcp.h,
net/ipv4/tcp_input.c; the pure-Python formulas with their cases are rxlab.kernel.tcp's
tcp_win_from_space, tcp_rcvbuf_grow and alloc_skb_truesize)."""

from rxlab.engine.jit import inner, ix, kernel
from rxlab.engine.layout import CN, RC, Clamp, Grow, Nomem, WinMode
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
def tcp_measure_rcv_mss(rc, k, seg, payload, truesize):
    """tcp_measure_rcv_mss() (net/ipv4/tcp_input.c) on connection row ``k`` for an skb of
    ``payload`` bytes charged ``truesize``, whose segments carry ``seg`` bytes
    (skb_shinfo(skb)->gso_size of a GRO aggregate, else its len). A segment at least rcv_mss that
    differs from it measures scaling_ratio anew, from this skb as a whole: (len << 8) / truesize
    (truesize exceeds len, so it fits the u8), and rcv_mss becomes min(seg, advmss); so a
    connection's ratio is that of its first full-sized skb, single segment or aggregate, until the
    segment size changes. A ratio that changed moves window_clamp by the release (Clamp): from 6.11
    (a2cbb1603943 "tcp: Update window clamping condition") to tcp_win_from_space(sk_rcvbuf); from
    6.14 (f5da7c45188e "tcp: adjust rcvq_space after updating scaling ratio", also 6.12.17) through
    tcp_set_window_clamp(), and rcvq_space.space is capped at it. A smaller segment becomes rcv_mss
    when the next one has the same size (last_seg_size), if it is not a remnant: rxlab's segments
    carry no PSH, URG, FIN or SYN, so only the size test (len + tcp_header_len >= TCP_MIN_MSS +
    sizeof(struct tcphdr)) applies."""
    lss = k[CN.last_seg]
    k[CN.last_seg] = 0
    if seg >= k[CN.rcv_mss]:
        if seg != k[CN.rcv_mss]:
            old = k[CN.scaling] if k[CN.scaling] > 0 else rc[RC.scaling_init]
            k[CN.scaling] = max(1, (payload << TCP_RMEM_TO_WIN_SCALE) // truesize)
            if k[CN.scaling] != old and rc[RC.clamp] != Clamp.autotune:
                val = tcp_win_from_space(k[CN.rcvbuf], k[CN.scaling], rc[RC.win_mode], rc[RC.adv_win_scale])
                if rc[RC.clamp] == Clamp.scaling_ratio:
                    k[CN.window_clamp] = val
                else:
                    tcp_set_window_clamp(rc, k, val)
                    k[CN.rcvq_space] = min(k[CN.rcvq_space], k[CN.window_clamp])
        k[CN.rcv_mss] = min(seg, rc[RC.advmss])
    elif seg + TCP_HEADER_LEN >= TCP_MIN_MSS + 20:
        k[CN.last_seg] = seg
        if seg == lss:
            k[CN.rcv_mss] = seg


@inner
def tcp_set_window_clamp(rc, k, val):
    """net/ipv4/tcp.c tcp_set_window_clamp(sk, val) for val > 0: window_clamp = max(val,
    SOCK_MIN_RCVBUF / 2); a lower clamp lowers rcv_ssthresh to it (__tcp_adjust_rcv_ssthresh: no
    SO_RESERVE_MEM in rxlab), a higher one raises rcv_ssthresh to min(rcv_wnd, the clamp) if below."""
    new = max(val, rc[RC.clamp_floor])
    old = k[CN.window_clamp]
    if new == old:
        return
    k[CN.window_clamp] = new
    if new < old:
        k[CN.rcv_ssthresh] = min(k[CN.rcv_ssthresh], new)
    else:
        k[CN.rcv_ssthresh] = max(k[CN.rcv_ssthresh], min(k[CN.rcv_edge] - k[CN.rcv_wup], new))


@inner
def tcp_space(rc, k, space):
    """tcp_win_from_space() of ``space`` bytes at connection row ``k``'s scaling_ratio (its initial one
    until measured) or by tcp_adv_win_scale: tcp_space() with sk_rcvbuf - sk_rmem_alloc,
    tcp_full_space() with sk_rcvbuf (include/net/tcp.h; rxlab has no socket backlog)."""
    ratio = k[CN.scaling] if k[CN.scaling] > 0 else rc[RC.scaling_init]
    return tcp_win_from_space(space, ratio, rc[RC.win_mode], rc[RC.adv_win_scale])


@inner
def tcp_grow_window(rc, k, length, truesize):
    """tcp_grow_window(sk, skb, true) from tcp_event_data_recv() for an in-order skb of ``length``
    payload bytes (at least 128) charged ``truesize``, once it is queued (net/ipv4/tcp_input.c):
    room = min(window_clamp, tcp_space()) - rcv_ssthresh; if any, rcv_ssthresh grows by min(room,
    max(incr, 2 * len)), incr being 2 x advmss when tcp_win_from_space(truesize) <= len, else
    __tcp_grow_window()'s 2 x rcv_mss while halving truesize and tcp_rmem[2]'s window finds the skb
    would fit, or 0. truesize_adjust() changes nothing here (rxlab's skbs hold payload in their head,
    skb_headlen() > 0), and rxlab has no TCP memory pressure (check #1 holds)."""
    room = min(k[CN.window_clamp], tcp_space(rc, k, max(0, k[CN.rcvbuf] - k[CN.rmem]))) - k[CN.rcv_ssthresh]
    if room <= 0:
        return
    if tcp_space(rc, k, truesize) <= length:
        incr = 2 * rc[RC.advmss]
    else:
        incr = 0
        half = tcp_space(rc, k, truesize) >> 1
        window = tcp_space(rc, k, rc[RC.tcp_rmem_max]) >> 1
        while k[CN.rcv_ssthresh] <= window:
            if half <= length:
                incr = 2 * k[CN.rcv_mss]
                break
            half >>= 1
            window >>= 1
    if incr > 0:
        k[CN.rcv_ssthresh] += min(room, max(incr, 2 * length))


@inner
def __tcp_select_window(rc, k):
    """__tcp_select_window() (net/ipv4/tcp_output.c; tcp_shrink_window off, its default): the window
    the receiver would advertise now. free_space = tcp_space(), full_space = min(window_clamp,
    tcp_full_space()), mss = rcv_mss (at most full_space). Below half of full_space quick-ack mode
    ends (icsk_ack.quick = 0, as in every release rxlab models) and free_space is rounded down to the
    window scale and a window under 1/16 of tcp_full_space() or under mss is 0
    (receiver-side silly window avoidance); then at most rcv_ssthresh, and rounded up to a multiple
    of 1 << rcv_wscale (with no scale: a multiple of mss, kept when within one mss)."""
    wscale = rc[RC.rcv_wscale]
    mss = k[CN.rcv_mss]
    free_space = tcp_space(rc, k, max(0, k[CN.rcvbuf] - k[CN.rmem]))
    allowed_space = tcp_space(rc, k, k[CN.rcvbuf])
    full_space = min(k[CN.window_clamp], allowed_space)
    if mss > full_space:
        mss = full_space
        if mss <= 0:
            return 0
    if free_space < (full_space >> 1):
        k[CN.ack_quick] = 0  # icsk->icsk_ack.quick = 0
        free_space = (free_space >> wscale) << wscale
        if free_space < (allowed_space >> 4) or free_space < mss:
            return 0
    free_space = min(free_space, k[CN.rcv_ssthresh])
    if wscale > 0:
        return ((free_space + (1 << wscale) - 1) >> wscale) << wscale
    window = k[CN.rcv_edge] - k[CN.rcv_wup]
    if window <= free_space - mss or window > free_space:
        window = free_space // mss * mss
    elif mss == full_space and free_space > window + (full_space >> 1):
        window = free_space
    return window


@inner
def tcp_select_window(rx, c):
    """tcp_select_window() (net/ipv4/tcp_output.c) as connection ``c``'s receiver sends an ACK: the
    window __tcp_select_window() picks, but never less than what is left of the one advertised
    (tcp_receive_window(), rounded up to the window scale): the offered window is not shrunk. rcv_wnd
    and rcv_wup = rcv_nxt record it; CN.rcv_edge = rcv_wup + rcv_wnd is the right edge advertised,
    up to which the sender may send payload, which costs memory at the skbs' own len/truesize, so
    sk_rmem_alloc can pass sk_rcvbuf where the ratio overestimates (tcp_prune_queue). The cap at
    U16_MAX << rcv_wscale never binds: window_clamp stays below it. An ACK of a memory failure
    (ICSK_ACK_NOMEM, set by rxlab.engine.tcp_input.tcp_queue) advertises 0, from 6.6 (e2142825c120
    "net: tcp: send zero-window ACK when no memory"); from 6.14 (8c670bdfa58e "tcp: correct handling
    of extreme memory squeeze") rcv_wnd = 0 and rcv_wup = rcv_nxt record it, before that they keep the
    window last advertised. The flag goes with the ACK (tcp_event_ack_sent ->
    inet_csk_clear_xmit_timer(ICSK_TIME_DACK) clears icsk_ack.pending). Returns the right edge the
    ACK advertises."""
    rc = rx.rc
    k = rx.conn[ix(c)]
    if k[CN.ack_nomem] != 0:
        k[CN.ack_nomem] = 0
        if rc[RC.nomem] == Nomem.zero_window_kept:
            k[CN.rcv_wup] = k[CN.rcv_nxt]
            k[CN.rcv_edge] = k[CN.rcv_nxt]
        return k[CN.rcv_nxt]
    wscale = rc[RC.rcv_wscale]
    cur_win = max(0, k[CN.rcv_edge] - k[CN.rcv_nxt])
    new_win = __tcp_select_window(rc, k)
    if new_win < cur_win:
        new_win = ((cur_win + (1 << wscale) - 1) >> wscale) << wscale
    k[CN.rcv_wup] = k[CN.rcv_nxt]
    k[CN.rcv_edge] = k[CN.rcv_nxt] + new_win
    return k[CN.rcv_edge]
