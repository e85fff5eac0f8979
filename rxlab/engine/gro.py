"""NAPI GRO: segments of one flow merged into an aggregate before the stack sees them
(net/core/gro.c dev_gro_receive, skb_gro_receive, gro_flush_oldest; include/net/gro.h).

Each connection's held aggregate is a row of ``rx.gro``; each queue's NAPI keeps its held flows
in GRO_HASH_BUCKETS lists (``rx.gro_list``, oldest first), at most MAX_GRO_SKBS each. The flow
decisions (when to merge, when to complete an aggregate, tcp_gro_receive) are loop.py's, since a
completed aggregate goes on up to TCP.
"""

from rxlab.counters import Ctr
from rxlab.engine.jit import inner
from rxlab.engine.layout import DT, GR, MAX_SKB_FRAGS, NONE, QP, SK
from rxlab.engine.skb import steal_head


@inner
def skb_gro_receive(st, g, s, sizeof_sk_buff):
    """skb_gro_receive(p, skb) for the aggregate of GRO row ``g`` (the caller checked gro_max_size):
    the segment's head, a page fragment (head_frag: built on an RX buffer or a page_frag head),
    becomes a frag of the aggregate's last skb if it has room (nr_frags + 1 + the segment's <=
    MAX_SKB_FRAGS): the aggregate's truesize grows by the segment's less SKB_DATA_ALIGN(sizeof(struct
    sk_buff)) and the sk_buff is freed (NAPI_GRO_FREE_STOLEN_HEAD). Otherwise (frags full, or a
    kmalloc'ed head) the whole skb is chained on the aggregate's frag_list and becomes its last
    skb, its whole truesize added ("merge:"). The caller checked p's pp_recycle too (-ETOOMANYREFS),
    so every data area of the aggregate has one pp_recycle."""
    p = g[GR.skb]
    lp = g[GR.last]
    dl = st.skbs[lp, SK.data]
    ds = st.skbs[s, SK.data]
    nl = st.data[dl, DT.nr_frags]
    ns = st.data[ds, DT.nr_frags]
    truesize = st.skbs[s, SK.truesize]
    st.skbs[p, SK.len] += st.skbs[s, SK.len]
    st.skbs[p, SK.page_len] += st.skbs[s, SK.page_len]
    if st.data[ds, DT.head_page] != NONE and nl + 1 + ns <= MAX_SKB_FRAGS:
        steal_head(st, dl, s)
        st.skbs[p, SK.truesize] += truesize - sizeof_sk_buff
        st.c[Ctr.gro_merge] += 1
        return
    if lp == p:
        st.data[st.skbs[p, SK.data], DT.frag_list] = s
    else:
        st.skbs[lp, SK.next] = s
    g[GR.last] = s
    st.skbs[p, SK.truesize] += truesize
    st.c[Ctr.gro_merge_frag_list] += 1


@inner
def gro_hold(rx, q, c, s, payload, page_len):
    """dev_gro_receive() -> GRO_HELD: ``s`` starts connection ``c``'s aggregate, the youngest on its
    bucket's list (the caller made room: gro_flush_oldest)."""
    g = rx.gro[c]
    b = g[GR.bucket]
    rx.gro_list[q, b, rx.gro_n[q, b]] = c
    rx.gro_n[q, b] += 1
    rx.qp[q, QP.gro_count] += 1
    rx.qp[q, QP.gro_page_len] += page_len
    g[GR.skb] = s
    g[GR.last] = s
    g[GR.segs] = 1
    g[GR.payload] = payload
    g[GR.gso_size] = payload


@inner
def gro_unhold(st, rx, q, c):
    """Take connection ``c``'s aggregate off its queue's gro_hash list (skb_list_del_init); returns
    the aggregate's skb."""
    g = rx.gro[c]
    b = g[GR.bucket]
    n = rx.gro_n[q, b]
    lst = rx.gro_list[q, b]
    i = 0
    while lst[i] != c:
        i += 1
    for j in range(i, n - 1):
        lst[j] = lst[j + 1]
    lst[n - 1] = NONE
    rx.gro_n[q, b] = n - 1
    rx.qp[q, QP.gro_count] -= 1
    p = g[GR.skb]
    rx.qp[q, QP.gro_page_len] -= st.skbs[p, SK.page_len]
    g[GR.skb] = NONE
    g[GR.last] = NONE
    g[GR.payload] = 0  # nothing in flight in GRO (the sender's window counts it)
    return p
