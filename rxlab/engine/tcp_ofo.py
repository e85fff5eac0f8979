"""The receiver's out-of-order queue and its SACK blocks (net/ipv4/tcp_input.c tcp_data_queue_ofo,
tcp_ofo_queue, tcp_prune_ofo_queue, tcp_sack_new_ofo_skb, tcp_sack_remove). The kernel keeps the queue
in an rb-tree by sequence (tp->out_of_order_queue, 9f5afeae5152, 4.9) with its last skb at hand
(tp->ooo_last_skb); rxlab keeps a list by sequence, linked through ``rcvq_next`` forwards and
``ofo_seq[:, OS.prev]`` backwards, and looks at the last skb first as the kernel does, so the usual
case (a segment after the highest one queued) costs no walk. Every skb on it is charged to
sk_rmem_alloc by its truesize (skb_set_owner_r) and holds its pages. Data that arrives again is
D-SACKed in the next ACK (tcp_dsack_set, tcp_dsack_extend; rxlab.engine.tcp_output.tcp_send_ack). rxlab
does not collapse the queue (tcp_collapse_ofo_queue)."""

from rxlab.counters import Ctr
from rxlab.engine.jit import called, inner, ix, kernel
from rxlab.engine.layout import CN, FALSE, NONE, OF, OS, RC, SK, TRUE
from rxlab.engine.skb import skb_free, skb_try_coalesce
from rxlab.kernel.tcp import TCP_NUM_SACKS

# what tcp_ofo_insert() did with the skb
OFO_DROPPED = 0  # its data was all queued already (TCPOFOMerge)
OFO_COALESCED = 1  # merged into a queued skb (tcp_ooo_try_coalesce)
OFO_QUEUED = 2  # on the queue itself


@inner
def _sack_extend(o, i, seq, end):
    """tcp_sack_extend(): block ``i`` grows to cover [seq, end) if they touch or overlap."""
    j = OF.sack + 2 * i
    if seq <= o[ix(j + 1)] and o[ix(j)] <= end:
        o[ix(j)] = min(o[ix(j)], seq)
        o[ix(j + 1)] = max(o[ix(j + 1)], end)
        return True
    return False


@inner
def tcp_dsack_set(o, seq, end):
    """tcp_dsack_set(): [seq, end) arrived again; the next ACK carries it as its D-SACK block
    (tp->duplicate_sack[0], tp->rx_opt.dsack)."""
    o[OF.dsack] = seq
    o[OF.dsack + 1] = end


@inner
def tcp_dsack_extend(o, seq, end):
    """tcp_dsack_extend(): the pending D-SACK block grows over [seq, end) if they touch or overlap
    (tcp_sack_extend), else stays; with none pending, tcp_dsack_set()."""
    if o[OF.dsack + 1] == 0:
        tcp_dsack_set(o, seq, end)
    elif seq <= o[OF.dsack + 1] and o[OF.dsack] <= end:
        o[OF.dsack] = min(o[OF.dsack], seq)
        o[OF.dsack + 1] = max(o[OF.dsack + 1], end)


@inner
def _sack_drop(o, i):
    """Block ``i`` goes; the later ones move up."""
    n = o[OF.num_sacks]
    for m in range(i, n - 1):
        o[ix(OF.sack + 2 * m)] = o[ix(OF.sack + 2 * m + 2)]
        o[ix(OF.sack + 2 * m + 1)] = o[ix(OF.sack + 2 * m + 3)]
    o[OF.num_sacks] = n - 1


@inner
def tcp_sack_new_ofo_skb(o, seq, end):
    """tcp_sack_new_ofo_skb(): a block that [seq, end) touches grows over it and becomes the first,
    then swallows the blocks it now reaches (tcp_sack_maybe_coalesce); else a new first block, the
    last forgotten when TCP_NUM_SACKS are kept already. (rxlab compresses no SACK, so
    tcp_sack_compress_send_ack() has nothing to send.)"""
    n = o[OF.num_sacks]
    for i in range(n):
        if _sack_extend(o, i, seq, end):
            j = OF.sack + 2 * i
            s0, e0 = o[ix(j)], o[ix(j + 1)]
            for m in range(i, 0, -1):
                o[ix(OF.sack + 2 * m)] = o[ix(OF.sack + 2 * m - 2)]
                o[ix(OF.sack + 2 * m + 1)] = o[ix(OF.sack + 2 * m - 1)]
            o[OF.sack] = s0
            o[OF.sack + 1] = e0
            m = 1
            while m < o[OF.num_sacks]:
                if _sack_extend(o, 0, o[ix(OF.sack + 2 * m)], o[ix(OF.sack + 2 * m + 1)]):
                    _sack_drop(o, m)
                else:
                    m += 1
            return
    if n >= TCP_NUM_SACKS:
        n -= 1
    for m in range(n, 0, -1):
        o[ix(OF.sack + 2 * m)] = o[ix(OF.sack + 2 * m - 2)]
        o[ix(OF.sack + 2 * m + 1)] = o[ix(OF.sack + 2 * m - 1)]
    o[OF.sack] = seq
    o[OF.sack + 1] = end
    o[OF.num_sacks] = n + 1


@inner
def tcp_sack_remove(o, rcv_nxt):
    """tcp_sack_remove() as rcv_nxt advances: no blocks once the queue is empty, else those rcv_nxt
    reached go."""
    if o[OF.count] == 0:
        o[OF.num_sacks] = 0
        return
    i = 0
    while i < o[OF.num_sacks]:
        if rcv_nxt >= o[ix(OF.sack + 2 * i)]:
            _sack_drop(o, i)
        else:
            i += 1


@inner
def _unlink(rx, o, s):
    """Take ``s`` off its connection's out-of-order queue."""
    nxt = rx.rcvq_next[ix(s)]
    prv = rx.ofo_seq[ix(s), OS.prev]
    if prv == NONE:
        o[OF.head] = nxt
    else:
        rx.rcvq_next[ix(prv)] = nxt
    if nxt == NONE:
        o[OF.tail] = prv
    else:
        rx.ofo_seq[ix(nxt), OS.prev] = prv
    o[OF.count] -= 1


@inner
def _link_after(rx, o, prv, s):
    """Put ``s`` on the queue after ``prv`` (NONE: first)."""
    nxt = o[OF.head] if prv == NONE else rx.rcvq_next[ix(prv)]
    rx.rcvq_next[ix(s)] = nxt
    rx.ofo_seq[ix(s), OS.prev] = prv
    if prv == NONE:
        o[OF.head] = s
    else:
        rx.rcvq_next[ix(prv)] = s
    if nxt == NONE:
        o[OF.tail] = s
    else:
        rx.ofo_seq[ix(nxt), OS.prev] = s
    o[OF.count] += 1


@inner
def _ofo_drop(st, rx, k, o, s, cpu, softirq):
    """An skb on the queue is dropped: its memory uncharged (sock_rfree), its pages freed."""
    _unlink(rx, o, s)
    k[CN.ofo_segs] -= rx.ofo_seq[ix(s), OS.segs]
    k[CN.rmem] -= st.skbs[ix(s), SK.truesize]
    k[CN.held] -= st.skbs[ix(s), SK.page_len]
    skb_free(st, s, cpu, softirq)


@inner
def _ooo_try_coalesce(st, rx, k, to, s, seq, end):
    """tcp_ooo_try_coalesce(): ``s`` merges into ``to`` if it starts where ``to`` ends
    (tcp_try_coalesce, charging the truesize delta); ``to`` then ends where ``s`` did."""
    if seq != rx.ofo_seq[ix(to), OS.end]:
        return False
    delta = skb_try_coalesce(st, to, s, rx.rc[RC.sizeof_sk_buff])
    if delta < 0:
        return False
    k[CN.rmem] += delta
    st.c[Ctr.rmem_charged] += delta
    rx.ofo_seq[ix(to), OS.end] = end
    rx.ofo_seq[ix(to), OS.segs] += rx.ofo_seq[ix(s), OS.segs]
    return True


@inner
def tcp_ofo_insert(st, rx, c, s, seq, end, segs, cpu):
    """tcp_data_queue_ofo() once the skb is admitted: [seq, end) goes on the queue by sequence. The
    first skb starts the first SACK block; one that continues the last skb, or the one before its
    place, is coalesced into it (tcp_ooo_try_coalesce); one whose data is all queued already is
    dropped (TCPOFOMerge); one that starts with a queued skb and covers it replaces it (TCPOFOMerge)
    and the skbs it covers after it go too (TCPOFOMerge each); one partly overlapping is queued
    whole. What was queued already is D-SACKed: all of a dropped skb, the overlap of a partly
    overlapping one, the skbs replaced or covered and the part of the next it reaches (tcp_dsack_set,
    tcp_dsack_extend). Then tcp_sack_new_ofo_skb(). Returns OFO_QUEUED if ``s`` itself went on the queue (the
    caller charges its truesize, after tcp_grow_window() as the kernel's ``end:`` does), OFO_COALESCED
    or OFO_DROPPED."""
    k = rx.conn[ix(c)]
    o = rx.ofo[ix(c)]
    rx.ofo_seq[ix(s), OS.seq] = seq
    rx.ofo_seq[ix(s), OS.end] = end
    rx.ofo_seq[ix(s), OS.segs] = segs
    k[CN.held] += st.skbs[ix(s), SK.page_len]
    k[CN.ofo_segs] += segs  # (less those found queued already: those count in dup_data)
    if o[OF.count] == 0:
        _link_after(rx, o, NONE, s)
        o[OF.num_sacks] = 1
        o[OF.sack] = seq
        o[OF.sack + 1] = end
        return OFO_QUEUED
    tail = o[OF.tail]
    if _ooo_try_coalesce(st, rx, k, tail, s, seq, end):
        tcp_sack_new_ofo_skb(o, seq, end)
        return OFO_COALESCED
    if seq >= rx.ofo_seq[ix(tail), OS.end]:
        _link_after(rx, o, tail, s)
        tcp_sack_new_ofo_skb(o, seq, end)
        return OFO_QUEUED
    prv = NONE
    p = o[OF.head]
    while p != NONE:
        if seq < rx.ofo_seq[ix(p), OS.seq]:
            break
        if seq < rx.ofo_seq[ix(p), OS.end]:
            if end <= rx.ofo_seq[ix(p), OS.end]:  # "All the bits are present. Drop."
                tcp_dsack_set(o, seq, end)
                st.c[Ctr.TCPOFOMerge] += 1
                k[CN.held] -= st.skbs[ix(s), SK.page_len]
                k[CN.ofo_segs] -= segs
                k[CN.dup_data] += segs
                skb_free(st, s, cpu, TRUE)
                tcp_sack_new_ofo_skb(o, seq, end)
                return OFO_DROPPED
            if seq > rx.ofo_seq[ix(p), OS.seq]:  # "Partial overlap."
                tcp_dsack_set(o, seq, rx.ofo_seq[ix(p), OS.end])
            else:  # s covers p: it takes p's place
                tcp_dsack_extend(o, seq, rx.ofo_seq[ix(p), OS.end])
                st.c[Ctr.TCPOFOMerge] += 1
                k[CN.dup_data] += rx.ofo_seq[ix(p), OS.segs]
                nxt = rx.rcvq_next[ix(p)]
                _ofo_drop(st, rx, k, o, p, cpu, TRUE)
                p = nxt
                break
        elif _ooo_try_coalesce(st, rx, k, p, s, seq, end):
            tcp_sack_new_ofo_skb(o, seq, end)
            return OFO_COALESCED
        prv = p
        p = rx.rcvq_next[ix(p)]
    _link_after(rx, o, prv, s)
    # merge_right: the skbs s covers go
    p = rx.rcvq_next[ix(s)]
    while p != NONE and end > rx.ofo_seq[ix(p), OS.seq] and end >= rx.ofo_seq[ix(p), OS.end]:
        nxt = rx.rcvq_next[ix(p)]
        tcp_dsack_extend(o, rx.ofo_seq[ix(p), OS.seq], rx.ofo_seq[ix(p), OS.end])
        st.c[Ctr.TCPOFOMerge] += 1
        k[CN.dup_data] += rx.ofo_seq[ix(p), OS.segs]
        _ofo_drop(st, rx, k, o, p, cpu, TRUE)
        p = nxt
    if p != NONE and end > rx.ofo_seq[ix(p), OS.seq]:  # s reaches into the next one
        tcp_dsack_extend(o, rx.ofo_seq[ix(p), OS.seq], end)
    tcp_sack_new_ofo_skb(o, seq, end)
    return OFO_QUEUED


@called  # holes filled, which only a loss brings: not inlined (rxlab.engine.jit.called)
def tcp_ofo_queue(st, rx, c, cpu):
    """tcp_ofo_queue() after rcv_nxt advanced: the queue's skbs it reached go to the receive queue in
    order (an skb all below rcv_nxt is dropped; one partly below keeps its new bytes, as
    tcp_data_queue() does), coalesced into its tail if they can be (tcp_try_coalesce: the skb's
    own charge goes, the delta stays), rcv_nxt moving to each one's end (tcp_rcv_nxt_update)."""
    k = rx.conn[ix(c)]
    o = rx.ofo[ix(c)]
    seg = rx.rc[RC.advmss]
    while o[OF.count] > 0:
        s = o[OF.head]
        seq = rx.ofo_seq[ix(s), OS.seq]
        end = rx.ofo_seq[ix(s), OS.end]
        if seq > k[CN.rcv_nxt]:
            break
        segs = rx.ofo_seq[ix(s), OS.segs]
        if end <= k[CN.rcv_nxt]:
            k[CN.dup_data] += segs
            _ofo_drop(st, rx, k, o, s, cpu, TRUE)
            continue
        _unlink(rx, o, s)
        k[CN.ofo_segs] -= segs
        if seq < k[CN.rcv_nxt]:
            # the old bytes' share of its len (it may have waited across an MTU change, or hold a
            # segment cut to the window: rxlab.engine.tcp_rtx)
            cut = st.skbs[ix(s), SK.len] * (k[CN.rcv_nxt] - seq) // (end - seq)
            st.skbs[ix(s), SK.len] -= cut
            drop = min(st.skbs[ix(s), SK.page_len], cut)
            st.skbs[ix(s), SK.page_len] -= drop
            k[CN.held] -= drop
            old = min(segs, (k[CN.rcv_nxt] - seq) // seg)
            k[CN.dup_data] += old
            segs -= old
        k[CN.packets] += segs
        k[CN.rcv_nxt] = end
        truesize = st.skbs[ix(s), SK.truesize]
        delta = skb_try_coalesce(st, k[CN.tail], s, rx.rc[RC.sizeof_sk_buff]) if k[CN.count] > 0 else -1
        if delta >= 0:
            k[CN.rmem] += delta - truesize
        else:
            rx.rcvq_next[ix(s)] = NONE
            if k[CN.count] == 0:
                k[CN.head] = s
            else:
                rx.rcvq_next[ix(k[CN.tail])] = s
            k[CN.tail] = s
            k[CN.count] += 1


@inner
def tcp_prune_ofo_queue(st, rx, c, need, in_seq, cpu):
    """tcp_prune_ofo_queue() (net/ipv4/tcp_input.c; from 4.16, 36a6503fedda "tcp: refine
    tcp_prune_ofo_queue() to not drop all packets"): drop skbs from the queue's end, not those below
    the arriving skb's ``in_seq``, sk_rcvbuf / 8 of truesize at a time until the arriving skb fits
    (``need`` by the release's admission rule; rxlab has no global TCP memory pressure); OfoPruned
    once if any went, and the SACK blocks are forgotten (tcp_sack_reset). Returns whether any went."""
    k = rx.conn[ix(c)]
    o = rx.ofo[ix(c)]
    if o[OF.count] == 0:
        return False
    goal = k[CN.rcvbuf] >> 3
    pruned = False
    s = o[OF.tail]
    while s != NONE:
        if in_seq > rx.ofo_seq[ix(s), OS.seq]:
            break
        pruned = True
        prv = rx.ofo_seq[ix(s), OS.prev]
        goal -= st.skbs[ix(s), SK.truesize]
        k[CN.ofo_drops] += rx.ofo_seq[ix(s), OS.segs]
        _ofo_drop(st, rx, k, o, s, cpu, TRUE)
        if prv == NONE or goal <= 0:
            if k[CN.rmem] + need <= k[CN.rcvbuf]:
                break
            goal = k[CN.rcvbuf] >> 3
        s = prv
    if pruned:
        st.c[Ctr.OfoPruned] += 1
        o[OF.num_sacks] = 0
    return pruned


@kernel
def tcp_ofo_purge(st, rx):
    """skb_rbtree_purge(&tp->out_of_order_queue) of every socket as it is destroyed
    (tcp_v4_destroy_sock), in process context on its application's CPU."""
    for c in range(rx.rc[RC.conns]):
        k = rx.conn[ix(c)]
        o = rx.ofo[ix(c)]
        while o[OF.count] > 0:
            _ofo_drop(st, rx, k, o, o[OF.head], k[CN.app_cpu], FALSE)
        o[OF.num_sacks] = 0
