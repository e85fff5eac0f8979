"""NAPI GRO: segments of one flow merged into an aggregate before the stack sees them
(net/core/gro.c dev_gro_receive, skb_gro_receive, gro_flush_oldest; include/net/gro.h).

Each connection's held aggregate is a row of ``rx.gro``; each queue's NAPI keeps its held flows
in GRO_HASH_BUCKETS lists (``rx.gro_list``: the oldest, the newest and the count, the flows linked
oldest to newest through their rows), at most MAX_GRO_SKBS each. napi_gro_receive()
makes the flow decisions (when to merge, when to complete an aggregate, tcp_gro_receive) and returns
a completed aggregate for its caller (rxlab.engine.napi) to send up to TCP.
"""

from rxlab.counters import Ctr
from rxlab.engine.jit import inner, ix
from rxlab.engine.layout import BF, CN, DT, GL, GR, MAX_SKB_FRAGS, NONE, QP, RC, SK, BufKind, G
from rxlab.engine.skb import buf_steal, headers_only, steal_head, take_frags
from rxlab.kernel.gro import MAX_GRO_SKBS
from rxlab.kernel.tcp import TCP_IP_HEADERS


@inner
def skb_gro_receive(st, g, s, sizeof_sk_buff, head_truesize):
    """skb_gro_receive(p, skb) for the aggregate of GRO row ``g`` (the caller checked gro_max_size):
    a segment whose kmalloc'ed head holds its headers only (headlen <= offset: bnxt's header-data
    split copied into a ``head_truesize`` small head) gives its frags to the aggregate's last skb if
    they fit, the aggregate's truesize growing by the segment's less SKB_TRUESIZE(skb_end_offset)
    of that head, and is freed (NAPI_GRO_FREE). Otherwise the segment's head, a page fragment (head_frag: built on an RX buffer or a page_frag head),
    becomes a frag of the aggregate's last skb if it has room (nr_frags + 1 + the segment's <=
    MAX_SKB_FRAGS): the aggregate's truesize grows by the segment's less SKB_DATA_ALIGN(sizeof(struct
    sk_buff)) and the sk_buff is freed (NAPI_GRO_FREE_STOLEN_HEAD). Otherwise (frags full, or a
    kmalloc'ed head) the whole skb is chained on the aggregate's frag_list and becomes its last
    skb, its whole truesize added ("merge:"). The caller checked p's pp_recycle too (-ETOOMANYREFS),
    so every data area of the aggregate has one pp_recycle."""
    p = g[GR.skb]
    lp = g[GR.last]
    dl = st.skbs[ix(lp), SK.data]
    ds = st.skbs[ix(s), SK.data]
    nl = st.data[ix(dl), DT.nr_frags]
    ns = st.data[ix(ds), DT.nr_frags]
    truesize = st.skbs[ix(s), SK.truesize]
    st.skbs[ix(p), SK.len] += st.skbs[ix(s), SK.len]
    st.skbs[ix(p), SK.page_len] += st.skbs[ix(s), SK.page_len]
    if headers_only(st, s) and nl + ns <= MAX_SKB_FRAGS:
        take_frags(st, dl, s)
        st.skbs[ix(p), SK.truesize] += truesize - head_truesize
        st.c[Ctr.gro_merge] += 1
        return
    if st.data[ix(ds), DT.head_page] != NONE and nl + 1 + ns <= MAX_SKB_FRAGS:
        steal_head(st, dl, s)
        st.skbs[ix(p), SK.truesize] += truesize - sizeof_sk_buff
        st.c[Ctr.gro_merge] += 1
        return
    if lp == p:
        st.data[ix(st.skbs[ix(p), SK.data]), DT.frag_list] = s
    else:
        st.skbs[ix(lp), SK.next] = s
    g[GR.last] = s
    st.skbs[ix(p), SK.truesize] += truesize
    st.c[Ctr.gro_merge_frag_list] += 1


@inner
def gro_hold(rx, q, c, s, payload, page_len, segs, gso_size, seq):
    """dev_gro_receive() -> GRO_HELD: ``s`` (``segs`` segments of ``gso_size`` from sequence number
    ``seq``: one, or a hardware aggregate) starts connection ``c``'s aggregate, the youngest on its
    bucket's list (the caller made room: gro_flush_oldest)."""
    g = rx.gro[ix(c)]
    lst = rx.gro_list[ix(q), ix(g[GR.bucket])]
    g[GR.older] = lst[GL.newest]
    g[GR.newer] = NONE
    if lst[GL.count] == 0:
        lst[GL.oldest] = c
    else:
        rx.gro[ix(lst[GL.newest]), GR.newer] = c
    lst[GL.newest] = c
    lst[GL.count] += 1
    rx.qp[ix(q), QP.gro_count] += 1
    rx.qp[ix(q), QP.gro_page_len] += page_len
    g[GR.skb] = s
    g[GR.last] = s
    g[GR.segs] = segs
    g[GR.payload] = payload
    g[GR.gso_size] = gso_size
    g[GR.seq] = seq


@inner
def gro_unhold(st, rx, q, c):
    """Take connection ``c``'s aggregate off its queue's gro_hash list (skb_list_del_init); returns
    the aggregate's skb."""
    g = rx.gro[ix(c)]
    lst = rx.gro_list[ix(q), ix(g[GR.bucket])]
    older, newer = g[GR.older], g[GR.newer]
    if older == NONE:
        lst[GL.oldest] = newer
    else:
        rx.gro[ix(older), GR.newer] = newer
    if newer == NONE:
        lst[GL.newest] = older
    else:
        rx.gro[ix(newer), GR.older] = older
    lst[GL.count] -= 1
    rx.qp[ix(q), QP.gro_count] -= 1
    p = g[GR.skb]
    rx.qp[ix(q), QP.gro_page_len] -= st.skbs[ix(p), SK.page_len]
    g[GR.skb] = NONE
    g[GR.last] = NONE
    g[GR.payload] = 0  # nothing in flight in GRO (the sender's window counts it)
    return p


@inner
def napi_gro_complete(st, rx, q, c):
    """napi_gro_complete() of connection ``c``'s aggregate: off queue ``q``'s gro_hash list; returns
    (c, its skb, segments, payload, gso_size, sequence number) for the caller to send up the stack as
    one skb (gro_normal_one; a single segment's gso_size is reset, which leaves the segment size TCP
    measures the same)."""
    g = rx.gro[ix(c)]
    segs, payload, seg, seq = g[GR.segs], g[GR.payload], g[GR.gso_size], g[GR.seq]
    p = gro_unhold(st, rx, q, c)
    st.c[Ctr.gro_complete] += 1
    return c, p, segs, payload, seg, seq


@inner
def napi_gro_flush_one(st, rx, q):
    """One step of napi_gro_flush(napi, false), which sends up every aggregate the queue holds,
    bucket by bucket, each bucket's oldest first: the next one's napi_gro_complete()."""
    b = 0
    while rx.gro_list[ix(q), ix(b), GL.count] == 0:
        b += 1
    return napi_gro_complete(st, rx, q, rx.gro_list[ix(q), ix(b), GL.oldest])


@inner
def _gro_flushes(st, rx, g, pp_recycle, payload, seq):
    """Whether a data segment of ``payload`` bytes from sequence number ``seq``, from a data area of
    ``pp_recycle``, completes GRO row ``g``'s aggregate instead of merging: it does not follow it in
    sequence (tcp_gro_receive: ``flush |= (ntohl(th2->seq) + skb_gro_len(p)) ^ ntohl(th->seq)``), it
    is larger than its gso_size (tcp_gro_receive: (len - 1) >= mss), its pp_recycle is not the
    aggregate's (skb_gro_receive: -ETOOMANYREFS, since 6.3), or it would take its len to gro_max_size
    (skb_gro_receive: -E2BIG)."""
    return (seq != g[GR.seq] + g[GR.payload] or payload > g[GR.gso_size]
            or st.data[ix(st.skbs[ix(g[GR.skb]), SK.data]), DT.pp_recycle] != pp_recycle
            or TCP_IP_HEADERS + g[GR.payload] + payload >= rx.rc[RC.gro_max_size])


@inner
def _gro_merged(rx, q, c, payload, page_len):
    """A segment merged into connection ``c``'s aggregate: a smaller one (len < mss) completes it."""
    g = rx.gro[ix(c)]
    g[GR.segs] += 1
    g[GR.payload] += payload
    rx.qp[ix(q), QP.gro_page_len] += page_len
    return g[GR.gso_size] > payload


@inner
def napi_gro_receive(st, rx, q, c, s, payload):
    """napi_gro_receive() of data segment ``s`` (``payload`` bytes) of connection ``c`` on queue ``q``
    (dev_gro_receive, tcp_gro_receive in net/ipv4/tcp_offload.c). With an aggregate held for the
    flow, the segment completes it and starts the next (_gro_flushes), or merges, and a smaller one
    (len < mss) then completes the aggregate. A new flow is held, after gro_flush_oldest() if its
    bucket already holds MAX_GRO_SKBS flows. rxlab's segments carry the same flags, options and
    ack_seq, so nothing else flushes. (A segment that merges into the frags reaches GRO
    without an skb: gro_takes_head, napi_gro_receive_head.)

    Returns the aggregate completed, as napi_gro_complete() does, or a NONE skb: at most one
    completes per segment, and the caller sends it up after the segment is held (nothing up
    the stack reads what GRO holds), so that the RX path has one call of the stack above GRO."""
    g = rx.gro[ix(c)]
    page_len = st.skbs[ix(s), SK.page_len]
    if g[GR.skb] != NONE:
        if _gro_flushes(st, rx, g, st.data[ix(st.skbs[ix(s), SK.data]), DT.pp_recycle], payload,
                        rx.conn[ix(c), CN.seg_seq]):
            done = napi_gro_complete(st, rx, q, c)
            gro_hold(rx, q, c, s, payload, page_len, 1, payload, rx.conn[ix(c), CN.seg_seq])
            return done
        skb_gro_receive(st, g, s, rx.rc[RC.sizeof_sk_buff], rx.qp[ix(q), QP.small_truesize])
        if _gro_merged(rx, q, c, payload, page_len):
            return napi_gro_complete(st, rx, q, c)
        return c, NONE, 0, 0, 0, 0
    lst = rx.gro_list[ix(q), ix(g[GR.bucket])]
    done = (c, NONE, 0, 0, 0, 0)
    if lst[GL.count] == MAX_GRO_SKBS:
        done = napi_gro_complete(st, rx, q, lst[GL.oldest])
    gro_hold(rx, q, c, s, payload, page_len, 1, payload, rx.conn[ix(c), CN.seg_seq])
    return done


@inner
def gro_takes_head(st, rx, c, b, payload):
    """Whether a data segment of ``payload`` bytes of connection ``c`` on driver buffer ``b`` merges
    into the flow's held aggregate with its head becoming a frag of the aggregate's last skb
    (skb_gro_receive's first case: napi_gro_receive_head), once napi_build_skb() would have built it
    (the skb table has room)."""
    g = rx.gro[ix(c)]
    return (g[GR.skb] != NONE and st.glob[G.skb_top] > 0 and st.glob[G.data_top] > 0
            and not _gro_flushes(st, rx, g, int(st.bufs[ix(b), BF.kind] != BufKind.page), payload,
                                 rx.conn[ix(c), CN.seg_seq])
            and st.data[ix(st.skbs[ix(g[GR.last]), SK.data]), DT.nr_frags] < MAX_SKB_FRAGS)


@inner
def napi_gro_receive_head(st, rx, q, c, b, truesize, length, payload):
    """napi_build_skb() on buffer ``b`` (a ``length``-byte segment, ``payload`` of it data, charged
    ``truesize``) and napi_gro_receive() of the skb, fused for a segment gro_takes_head() accepted:
    the buffer goes straight into the aggregate (skb_build then skb_gro_receive's steal_head, at
    once: skb.buf_steal), with the same effects and counts. Returns what napi_gro_receive() does."""
    g = rx.gro[ix(c)]
    p = g[GR.skb]
    st.skbs[ix(p), SK.len] += length
    st.skbs[ix(p), SK.page_len] += length
    buf_steal(st, st.skbs[ix(g[GR.last]), SK.data], b)
    st.skbs[ix(p), SK.truesize] += truesize - rx.rc[RC.sizeof_sk_buff]
    st.c[Ctr.gro_merge] += 1
    if _gro_merged(rx, q, c, payload, length):
        return napi_gro_complete(st, rx, q, c)
    return c, NONE, 0, 0, 0, 0


@inner
def napi_gro_receive_hw(st, rx, q, c, s, segs, payload, mss, seq):
    """napi_gro_receive() of bnxt's TPA skb ``s`` of connection ``c``: ``segs`` segments of ``mss``
    bytes (``payload`` in all) from sequence number ``seq``. With more than one, bnxt_gro_skb() made it
    a GSO skb (gso_size mss, NAPI_GRO_CB count segs), which dev_gro_receive() takes as it is; with one,
    an ordinary segment. tcp_gro_receive(): a GSO skb merges into the flow's held aggregate only with
    the same gso_size (``mss != skb_shinfo(skb)->gso_size``), a segment only if not larger than it;
    either must follow it in sequence, with its pp_recycle and within gro_max_size. Not merged, the
    held aggregate completes (pp = p) and the skb is held in its place; merged, a short one (len !=
    count * gso_size, or len < mss) completes it (out_check_final). A GSO skb with no aggregate held
    is held unless short, which goes up at once (GRO_NORMAL).

    Returns the aggregate completed (as napi_gro_complete(), or a NONE skb) and whether ``s`` itself goes
    up at once, after it."""
    g = rx.gro[ix(c)]
    page_len = st.skbs[ix(s), SK.page_len]
    short = payload != segs * mss
    done = (c, NONE, 0, 0, 0, 0)
    if g[GR.skb] != NONE:
        if (seq != g[GR.seq] + g[GR.payload] or (segs > 1 and mss != g[GR.gso_size])
                or (segs == 1 and payload > g[GR.gso_size])
                or st.data[ix(st.skbs[ix(g[GR.skb]), SK.data]), DT.pp_recycle] != st.data[ix(st.skbs[ix(s), SK.data]), DT.pp_recycle]
                or TCP_IP_HEADERS + g[GR.payload] + payload >= rx.rc[RC.gro_max_size]):
            done = napi_gro_complete(st, rx, q, c)
            if segs > 1 and short:
                return done, True
            gro_hold(rx, q, c, s, payload, page_len, segs, mss if segs > 1 else payload, seq)
            return done, False
        skb_gro_receive(st, g, s, rx.rc[RC.sizeof_sk_buff], rx.qp[ix(q), QP.small_truesize])
        g[GR.segs] += segs
        g[GR.payload] += payload
        rx.qp[ix(q), QP.gro_page_len] += page_len
        if short or (segs == 1 and payload < g[GR.gso_size]):
            return napi_gro_complete(st, rx, q, c), False
        return done, False
    if segs > 1 and short:
        return done, True
    lst = rx.gro_list[ix(q), ix(g[GR.bucket])]
    if lst[GL.count] == MAX_GRO_SKBS:
        done = napi_gro_complete(st, rx, q, lst[GL.oldest])
    gro_hold(rx, q, c, s, payload, page_len, segs, mss if segs > 1 else payload, seq)
    return done, False
