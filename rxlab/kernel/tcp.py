"""TCP/IP receive-side constants and the receive window (include/net/tcp.h, include/linux/tcp.h,
include/uapi/linux/ip.h and tcp.h)."""

from rxlab.errors import bad, check_choice, check_int_range
from rxlab.kernel.sizes import arch_info, skb_data_align, skb_truesize

TCP_IP_HEADERS = 52  # IPv4 header 20 + TCP header with the timestamps option 32: payload = len - 52
ACK_LEN = TCP_IP_HEADERS  # a pure ACK carries the headers and nothing else
TCP_RMEM_TO_WIN_SCALE = 8  # include/linux/tcp.h (6.6+): scaling_ratio is a fraction of 256
TCP_DEFAULT_SCALING_RATIO = 128  # include/net/tcp.h: 1 << (TCP_RMEM_TO_WIN_SCALE - 1) (697a6c8cec03, 6.10)
WINDOWS = ("adv_win_scale", "scaling_ratio")
TCP_INIT_CWND = 10  # include/net/tcp.h
# loss recovery timers (include/net/tcp.h; net/ipv4/tcp_output.c tcp_schedule_loss_probe(), tcp_timer.c)
TCP_TIMEOUT_MIN_US = 2000  # added to a tail loss probe's 2 x srtt when more than one packet is out
TCP_RTO_MIN_US = 200_000  # TCP_RTO_MIN (HZ / 5): the floor of rttvar, so an RTO is srtt + 200 ms at least
TCP_RTO_MAX_US = 120_000_000  # TCP_RTO_MAX (120 * HZ): the backed-off RTO's ceiling
# tcp_probe0_when(): a zero-window probe's backoff is at most ilog2(TCP_RTO_MAX / TCP_RTO_MIN) + 1
PROBE0_BACKOFF_MAX = (TCP_RTO_MAX_US // TCP_RTO_MIN_US).bit_length()
# the receiver's ACKs (include/net/tcp.h, HZ = 1000; net/ipv4/tcp_input.c __tcp_ack_snd_check())
TCP_DELACK_MIN_US = 40_000  # TCP_DELACK_MIN = TCP_ATO_MIN = HZ / 25: a delayed ACK's timeout (icsk_ack.ato)
# SACK (include/linux/tcp.h; net/ipv4/tcp_output.c tcp_established_options(): the 40 option bytes less
# the aligned timestamps (12) and SACK's kind and length (4) leave room for 3 blocks of 8)
TCP_NUM_SACKS = 4  # tp->selective_acks[]: the blocks the receiver remembers
TCP_SACK_BLOCKS_SENT = 3
# the sender's loss detection (include/net/tcp.h TCP_FASTRETRANS_THRESH, the default of
# net.ipv4.tcp_reordering: tp->reordering, the SACKed segments after which RACK waits no more)
TCP_REORDERING = 3
TCP_MAX_QUICKACKS = 16  # at most this many ACKs sent at once in quick-ack mode (tcp_incr_quickack)
# the sender (net/ipv4/tcp_output.c tcp_tso_autosize(); net/ipv4/tcp_input.c tcp_update_pacing_rate();
# their sysctls' defaults, Documentation/networking/ip-sysctl.rst)
TCP_INFINITE_SSTHRESH = 0x7FFFFFFF  # include/net/tcp.h: slow start until the first loss
SK_PACING_SHIFT = 10  # sk->sk_pacing_shift (sock_init_data): a TSO skb holds ~1 ms at the pacing rate
TCP_MIN_TSO_SEGS = 2  # net.ipv4.tcp_min_tso_segs
TCP_TSO_RTT_LOG = 9  # net.ipv4.tcp_tso_rtt_log: below 512 µs of min_rtt a TSO skb may hold gso_max_size
TCP_PACING_SS_RATIO = 200  # net.ipv4.tcp_pacing_ss_ratio (%): the pacing rate in slow start
TCP_PACING_CA_RATIO = 120  # net.ipv4.tcp_pacing_ca_ratio (%): in congestion avoidance
GSO_LEGACY_MAX_SIZE = 65536  # include/linux/netdevice.h: sk_gso_max_size without BIG TCP
TCPOLEN_TSTAMP_ALIGNED = 12  # include/net/tcp.h: the timestamps option every segment carries
IPV4_TCP_HEADERS = 40  # struct iphdr 20 + struct tcphdr 20: tp->advmss = MTU - 40 - options
TCP_HEADER_LEN = 20 + TCPOLEN_TSTAMP_ALIGNED  # tp->tcp_header_len: struct tcphdr and timestamps
TCP_MSS_DEFAULT = 536  # include/net/tcp.h: the MSS assumed until measured
TCP_MIN_MSS = 88  # include/net/tcp.h
# include/linux/netdevice.h: LL_MAX_HEADER 128 (CONFIG_HYPERV_NET, as Azure kernels have it) and
# MAX_HEADER = LL_MAX_HEADER + 48 (IP tunnels built); include/net/tcp.h: MAX_TCP_HEADER =
# L1_CACHE_ALIGN(128 + MAX_HEADER)
MAX_HEADER = 128 + 48
SK_MEM_PACKETS = 256  # include/net/sock.h _SK_MEM_PACKETS
RCVBUF_GROWS = ("cushion", "copied_2x", "copied_2x_grow")
ADMISSIONS = ("rmem_before", "rmem_plus_truesize", "rmem_plus_len")


def advmss(mtu):
    """tp->advmss of an IPv4 connection with timestamps: MTU - 40 - TCPOLEN_TSTAMP_ALIGNED (the
    payload of a full segment; rxlab's TCP_IP_HEADERS is the same 52 bytes)."""
    return mtu - IPV4_TCP_HEADERS - TCPOLEN_TSTAMP_ALIGNED


def tcp_initialize_rcv_mss(advmss_, rcv_wnd):
    """net/ipv4/tcp_input.c tcp_initialize_rcv_mss(): the receiver's first guess of the peer's
    segment size, min(advmss, rcv_wnd / 2, TCP_MSS_DEFAULT), at least TCP_MIN_MSS (mss_cache is
    advmss here: rxlab's connections send full segments both ways)."""
    return max(min(advmss_, rcv_wnd // 2, TCP_MSS_DEFAULT), TCP_MIN_MSS)


def max_tcp_header(arch="x86_64"):
    """include/net/tcp.h MAX_TCP_HEADER = L1_CACHE_ALIGN(128 + MAX_HEADER): 320 on 64-byte lines."""
    return skb_data_align(128 + MAX_HEADER, arch_info(arch).smp_cache_bytes)


def sock_min_rcvbuf(arch="x86_64"):
    """include/net/sock.h SOCK_MIN_RCVBUF = 2 * TCP_SKB_MIN_TRUESIZE = 2 * (2048 +
    SKB_DATA_ALIGN(sizeof(struct sk_buff))): 4608."""
    a = arch_info(arch)
    return 2 * (2048 + skb_data_align(a.sizeof_sk_buff, a.smp_cache_bytes))


def sk_rmem_max(arch="x86_64"):
    """net.core.rmem_max's default, include/net/sock.h SK_RMEM_MAX = _SK_MEM_OVERHEAD *
    _SK_MEM_PACKETS with _SK_MEM_OVERHEAD = SKB_TRUESIZE(256): 832 * 256 = 212992."""
    return skb_truesize(256, arch) * SK_MEM_PACKETS


def so_rcvbuf(val, rmem_max=None, arch="x86_64"):
    """sk_rcvbuf after setsockopt(SO_RCVBUF, val): net/core/sock.c sk_setsockopt() ->
    __sock_set_rcvbuf(sk, min_t(u32, val, net.core.rmem_max)): ``val = min_t(int, val, INT_MAX / 2);
    sk->sk_userlocks |= SOCK_RCVBUF_LOCK; sk_rcvbuf = max_t(int, val * 2, SOCK_MIN_RCVBUF)`` (the
    doubling leaves room for the sk_buff overhead). ``rmem_max`` defaults to SK_RMEM_MAX."""
    rmem_max = sk_rmem_max(arch) if rmem_max is None else rmem_max
    val = min(val, rmem_max, (2**31 - 1) // 2)
    return max(val * 2, sock_min_rcvbuf(arch))


def rcvmem_per_mss(mtu, adv_win_scale=1, arch="x86_64"):
    """Before 6.6, tcp_rcv_space_adjust() (net/ipv4/tcp_input.c) sizes sk_rcvbuf as ``rcvwin /
    advmss * rcvmem`` with ``rcvmem = SKB_TRUESIZE(advmss + MAX_TCP_HEADER)``, raised by 128 until
    tcp_win_from_space(rcvmem) >= advmss: 3008 for MTU 1500 and tcp_adv_win_scale 1."""
    mss = advmss(mtu)
    rcvmem = skb_truesize(mss + max_tcp_header(arch), arch)
    while tcp_win_from_space(rcvmem, "adv_win_scale", adv_win_scale=adv_win_scale) < mss:
        rcvmem += 128
    return rcvmem


def tcp_rcvbuf_grow(copied, space, grow="copied_2x_grow", window="scaling_ratio",
                    scaling_ratio=TCP_DEFAULT_SCALING_RATIO, mss=1448, rcvmem=3008, rtt_us=50,
                    low_rtt_us=0, cap=33554432):
    """The sk_rcvbuf autotuning asks for when the application copied ``copied`` bytes in the last
    RTT and at most ``space`` in any RTT before (``copied > space``), net/ipv4/tcp_input.c:

    - ``grow="cushion"`` (tcp_rcv_space_adjust() until 6.15): ``rcvwin = 2 * copied + 16 * advmss``,
      ``rcvwin += 2 * (rcvwin * (copied - space) / space)``;
    - ``"copied_2x"`` (tcp_rcvbuf_grow(), 6.16, 65c5287892e9 'tcp: fix sk_rcvbuf overshoot'):
      ``rcvwin = 2 * copied``;
    - ``"copied_2x_grow"`` (6.19, aa251c84636c 'tcp: fix too slow tcp_rcvbuf_grow() action' and
      ecfea98b7d0d 'tcp: add net.ipv4.tcp_rcvbuf_low_rtt'): ``rcvwin = 2 * copied`` plus, below
      ``low_rtt_us``, ``rcvwin * rtt / low_rtt_us``, else ``2 * rcvwin * (copied - space) / space``.

    Then the memory for that window: tcp_space_from_win() = ``rcvwin << 8 / scaling_ratio`` (6.6+),
    or before 6.6 ``rcvwin / advmss * rcvmem`` (:func:`rcvmem_per_mss`); at most tcp_rmem[2] ``cap``.
    """
    check_choice("grow", grow, RCVBUF_GROWS)
    check_choice("window", window, WINDOWS)
    if grow == "cushion":
        rcvwin = (copied << 1) + 16 * mss
        rcvwin += (rcvwin * (copied - space) // space) << 1
    else:
        rcvwin = copied << 1
        if grow == "copied_2x_grow":
            if rtt_us < low_rtt_us:
                rcvwin += rcvwin * rtt_us // low_rtt_us
            else:
                rcvwin += ((rcvwin << 1) * (copied - space)) // space
    if window == "scaling_ratio":
        rcvbuf = (rcvwin << TCP_RMEM_TO_WIN_SCALE) // scaling_ratio
    else:
        rcvbuf = rcvwin // mss * rcvmem
    return min(rcvbuf, cap)


def kmalloc_size_roundup(size, page_size=4096):
    """mm/slab_common.c kmalloc_size_roundup(): the kmalloc cache a request lands in (8..2 *
    PAGE_SIZE: powers of two and the 96 and 192 byte caches), above KMALLOC_MAX_CACHE_SIZE = 2 *
    PAGE_SIZE whole pages (PAGE_SIZE << get_order(size))."""
    if size > 2 * page_size:
        return page_size << ((size - 1) // page_size).bit_length()
    if 64 < size <= 96:
        return 96
    if 128 < size <= 192:
        return 192
    return max(8, 1 << (size - 1).bit_length())


def collapse_skb_max(page_size=4096):
    """tcp_collapse() copies into skbs of at most SKB_MAX_ORDER(0, 0) = SKB_WITH_OVERHEAD(PAGE_SIZE)
    bytes: PAGE_SIZE - SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) (include/linux/skbuff.h)."""
    from rxlab.kernel.sizes import skb_shinfo_aligned

    return page_size - skb_shinfo_aligned()


def alloc_skb_truesize(copy, page_size=4096, arch="x86_64"):
    """skb->truesize of alloc_skb(copy) (net/core/skbuff.c __alloc_skb): the head is
    kmalloc_reserve(SKB_HEAD_ALIGN(copy)) rounded up to its kmalloc cache, the skb's size is that less
    the shared info, and truesize = SKB_TRUESIZE(size) = the kmalloc'ed bytes + the sk_buff."""
    from rxlab.kernel.sizes import skb_shinfo_aligned

    a = arch_info(arch)
    head = kmalloc_size_roundup(skb_data_align(copy, a.smp_cache_bytes) + skb_shinfo_aligned(), page_size)
    return head + skb_data_align(a.sizeof_sk_buff, a.smp_cache_bytes)


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


TCP_MAX_WSCALE = 14  # include/net/tcp.h: the largest window scale (RFC 7323)
U16_MAX = 0xFFFF


def tcp_select_initial_window(space, mss, tcp_rmem_max, rmem_max, window_clamp=0):
    """net/ipv4/tcp_output.c tcp_select_initial_window() for the SYN-ACK of a connection with
    window scaling: ``space`` (tcp_full_space()) at most ``window_clamp`` (0: U16_MAX <<
    TCP_MAX_WSCALE), rounded down to a multiple of ``mss`` when larger; the window offered is that,
    at most U16_MAX (unscaled; tcp_workaround_signed_windows off); rcv_wscale = ilog2 of the
    largest window the socket may grow to (max(space, tcp_rmem[2], net.core.rmem_max), at most the
    clamp) less 15, in 0..TCP_MAX_WSCALE; window_clamp at most U16_MAX << rcv_wscale.
    Returns (rcv_wnd, window_clamp, rcv_wscale)."""
    clamp = window_clamp or (U16_MAX << TCP_MAX_WSCALE)
    space = min(clamp, max(space, 0))
    if space > mss:
        space = space // mss * mss
    rcv_wnd = min(space, U16_MAX)
    grown = min(max(space, tcp_rmem_max, rmem_max), clamp)
    rcv_wscale = min(max(grown.bit_length() - 1 - 15, 0), TCP_MAX_WSCALE)
    return rcv_wnd, min(U16_MAX << rcv_wscale, clamp), rcv_wscale


def tcp_init_buffer_space(window_clamp, rcv_wnd, maxwin, advmss, tcp_app_win=31):
    """net/ipv4/tcp_input.c tcp_init_buffer_space() when the connection is established: window_clamp
    at most tcp_full_space() ``maxwin`` (less maxwin >> tcp_app_win, nothing at the default 31),
    then one segment reserved (``max(2 * advmss, maxwin - advmss)``); rcv_ssthresh (the SYN-ACK's
    window, tcp_create_openreq_child) at most window_clamp; rcvq_space.space = min(rcv_ssthresh,
    rcv_wnd, TCP_INIT_CWND * advmss). Returns (window_clamp, rcv_ssthresh, rcvq_space)."""
    if window_clamp >= maxwin:
        window_clamp = maxwin
        if tcp_app_win and maxwin > 4 * advmss:
            window_clamp = max(maxwin - (maxwin >> tcp_app_win), 4 * advmss)
    if tcp_app_win and window_clamp > 2 * advmss and window_clamp + advmss > maxwin:
        window_clamp = max(2 * advmss, maxwin - advmss)
    rcv_ssthresh = min(rcv_wnd, window_clamp)
    return window_clamp, rcv_ssthresh, min(rcv_ssthresh, rcv_wnd, TCP_INIT_CWND * advmss)
