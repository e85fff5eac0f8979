"""The sender's retransmission queue as the kernel cuts it (net/ipv4/tcp_output.c tcp_fragment,
__tcp_retransmit_skb, tcp_retrans_try_collapse, tcp_write_wakeup; tcp_clean_rtx_queue in
net/ipv4/tcp_input.c).

rxlab's sender keeps no skbs: its data goes in advmss segments, and a retransmission or a zero-window
probe cut to the window (tcp_fragment) leaves entries shorter than that. Those the cuts and collapses
made are kept as [start, end) pairs in the sender's row of ``rx.sb`` (SB.frag, by sequence); every
other entry is an advmss segment counted from the end of the kept entry below it (from SB.grid
below the first). So a cut segment's rest stays an entry of its own, starting at the cut, and after
a probe cut the write queue the data after it goes in advmss segments from the cut, as the kernel
sends the rest of its skb. At most SB_FRAGS entries are kept: a cut beyond that is sent but not kept
(its range is counted and sent again as part of the entry it was cut from)."""

from rxlab.engine.jit import inner, ix
from rxlab.engine.layout import CN, RC, SB

SB_FRAGS = (SB.n_rtx - SB.frag) // 2


@inner
def sacked_in(b, lo, hi):
    """Bytes of [lo, hi) SACKed in a sender's scoreboard (its row ``b`` of rx.sb; rxlab.engine.tcp_sack)."""
    n = 0
    for i in range(b[SB.n_ranges]):
        s = max(b[ix(SB.range + 2 * i)], lo)
        e = min(b[ix(SB.range + 2 * i + 1)], hi)
        if e > s:
            n += e - s
    return n


@inner
def rtx_entry(rx, c, seq):
    """The entry of connection ``c``'s queue that holds byte ``seq``: (start, end)."""
    b = rx.sb[ix(c)]
    mss = rx.rc[RC.advmss]
    base = b[SB.grid]
    for i in range(b[SB.n_frags]):
        s = b[ix(SB.frag + 2 * i)]
        e = b[ix(SB.frag + 2 * i + 1)]
        if seq < s:
            start = base + (seq - base) // mss * mss
            return start, min(start + mss, s)
        if seq < e:
            return s, e
        base = e
    start = base + (seq - base) // mss * mss
    return start, start + mss


@inner
def _entries(rx, c, lo, hi):
    """The entries met walking from ``lo`` to ``hi``, while cut entries are kept."""
    n = 0
    x = lo
    while x < hi:
        x = rtx_entry(rx, c, x)[1]
        n += 1
    return n


@inner
def rtx_pcount(rx, c, lo, hi):
    """tcp_skb_pcount() summed over the entries in [lo, hi) (lo an entry's start or snd_una within one,
    hi an entry's end): one per entry, each at most advmss (packets_out for [snd_una, snd_nxt))."""
    mss = rx.rc[RC.advmss]
    if rx.sb[ix(c), SB.n_frags] == 0:
        return (hi - lo) // mss
    return _entries(rx, c, lo, hi)


@inner
def rtx_sacked_segs(rx, c, lo, hi):
    """tcp_skb_pcount() summed over the entries in [lo, hi) (as rtx_pcount) that the scoreboard holds
    SACKed whole (TCPCB_SACKED_ACKED): its SACKed bytes // advmss while no entry is cut."""
    b = rx.sb[ix(c)]
    if b[SB.n_frags] == 0:
        return sacked_in(b, lo, hi) // rx.rc[RC.advmss]
    n = 0
    x = lo
    while x < hi:
        s, e = rtx_entry(rx, c, x)
        if sacked_in(b, s, e) == e - s:
            n += 1
        x = e
    return n


@inner
def rtx_starts(rx, c, lo, hi):
    """How many entries start in [lo, hi): the retransmissions a window ending at ``hi`` lets go from
    ``lo`` (__tcp_retransmit_skb cuts the last one to the window)."""
    mss = rx.rc[RC.advmss]
    if hi <= lo:
        return 0
    if rx.sb[ix(c), SB.n_frags] == 0:
        return (hi - lo + mss - 1) // mss
    return _entries(rx, c, lo, hi)


@inner
def tcp_fragment(rx, c, lo, mid, hi):
    """The entries in [lo, hi) become [lo, mid) and [mid, hi) (tcp_fragment), or one entry [lo, hi)
    when ``mid`` is ``hi`` (a collapse, or a probe's cut of the write queue, whose rest is not sent
    yet). Returns whether it is kept (at most SB_FRAGS entries)."""
    b = rx.sb[ix(c)]
    n = b[SB.n_frags]
    i = 0
    while i < n and b[ix(SB.frag + 2 * i + 1)] <= lo:  # an entry snd_una is within goes too
        i += 1
    j = i
    while j < n and b[ix(SB.frag + 2 * j)] < hi:
        j += 1
    add = 2 if mid < hi else 1
    shift = add - (j - i)
    if n + shift > SB_FRAGS:
        return False
    if shift > 0:
        for m in range(n - 1, j - 1, -1):
            b[ix(SB.frag + 2 * (m + shift))] = b[ix(SB.frag + 2 * m)]
            b[ix(SB.frag + 2 * (m + shift) + 1)] = b[ix(SB.frag + 2 * m + 1)]
    elif shift < 0:
        for m in range(j, n):
            b[ix(SB.frag + 2 * (m + shift))] = b[ix(SB.frag + 2 * m)]
            b[ix(SB.frag + 2 * (m + shift) + 1)] = b[ix(SB.frag + 2 * m + 1)]
    b[ix(SB.frag + 2 * i)] = lo
    b[ix(SB.frag + 2 * i + 1)] = mid
    if add == 2:
        b[ix(SB.frag + 2 * i + 2)] = mid
        b[ix(SB.frag + 2 * i + 3)] = hi
    b[SB.n_frags] = n + shift
    return True


@inner
def rtx_clean(rx, c, una):
    """tcp_clean_rtx_queue(): the kept entries snd_una passed go; the segments after them count from
    the last one's end."""
    b = rx.sb[ix(c)]
    n = b[SB.n_frags]
    i = 0
    while i < n and b[ix(SB.frag + 2 * i + 1)] <= una:
        b[SB.grid] = b[ix(SB.frag + 2 * i + 1)]
        i += 1
    if i == 0:
        return
    for m in range(i, n):
        b[ix(SB.frag + 2 * (m - i))] = b[ix(SB.frag + 2 * m)]
        b[ix(SB.frag + 2 * (m - i) + 1)] = b[ix(SB.frag + 2 * m + 1)]
    b[SB.n_frags] = n - i


@inner
def tcp_retransmit_len(rx, c, seq):
    """__tcp_retransmit_skb() of the entry at ``seq`` (one segment): the bytes it sends. With the
    window ending before the entry does (avail_wnd = tcp_wnd_end() - seq, below the entry's length
    and so below cur_mss), len = avail_wnd and tcp_fragment() cuts the entry there, its rest an entry
    of its own; avail_wnd <= 0 sends the whole entry (the caller asks only for snd_una then: "our
    retransmit of one segment serves as a zero window probe"). An entry shorter than min(avail_wnd,
    cur_mss) takes in the entries after it while they fit in that and in the window, up to one the
    scoreboard holds SACKed (tcp_retrans_try_collapse, tcp_retrans_collapse = 1; tcp_can_collapse:
    rxlab's entries are one segment each)."""
    k = rx.conn[ix(c)]
    mss = rx.rc[RC.advmss]
    _, end = rtx_entry(rx, c, seq)
    avail = k[CN.snd_edge] - seq
    if avail <= 0:
        return end - seq
    if avail < end - seq:
        tcp_fragment(rx, c, seq, seq + avail, end)
        return avail
    space = min(avail, mss) - (end - seq)
    if space > 0:
        top = end
        while top < k[CN.snd_max]:
            s, e = rtx_entry(rx, c, top)
            space -= e - s
            if space < 0 or e > k[CN.snd_edge] or sacked_in(rx.sb[ix(c)], s, e) > 0:
                break
            top = e
        if top > end and tcp_fragment(rx, c, seq, top, top):
            end = top
    return end - seq
