"""The contract between a driver model and the engine: one RX queue's buffer geometry."""

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class RxGeometry:
    """One RX queue's buffer layout and the memory it pins: what the engine needs from a driver.

    Driver-neutral: a driver model is a function returning one of these (MANA's is
    :func:`rxlab.kernel.mana.mana_rx_geometry`); the field notes say where MANA takes each.
    variant: the driver's layout, e.g. MANA before ("pre") or after ("post") the fragment patch.
    datasize, alloc_size, headroom, frag_count: mana_get_rxbuf_cfg().
    order, pool_size: the page_pool_params of mana_create_page_pool().
    frags_per_page: buffers page_pool actually carves from one page (page_pool_alloc_frag
    rounds each to dma_get_cache_alignment(): on arm64 to 128 bytes, so it can be fewer
    than frag_count); 1 in full-page mode.
    truesize: skb->truesize the driver reports, napi_build_skb(va, alloc_size).
    truesize_pinned: what one packet's buffer really holds: its share of the page
    (PAGE_SIZE << order) / frags_per_page, plus the sk_buff, as SKB_TRUESIZE would count it.
    ring_pages, ring_bytes: pages (and bytes) pinned by ring_size posted buffers per queue,
    buffers packed frags_per_page to a page. nic_bytes: ring_bytes x queues.

    Memory efficiency, static (derived, not given): packet bytes per byte pinned for a frame of
    the full MTU (``datasize`` = MTU + ETH_HLEN, what the device may write into a buffer).
    mem_efficiency_buffer: datasize / the page bytes one buffer pins ((PAGE_SIZE << order) /
    frags_per_page). mem_efficiency_ring: ring_size x datasize / ring_bytes, the posted ring as
    a whole (a page's unused tail counted). The run's dynamic view is ``Result.metrics()``'s
    ``mem_efficiency_*`` (rxlab/counters.py, METRICS).

    Optional fields, for drivers whose frame spans more than one buffer or whose buffers are not
    MANA's one-per-frame slices (their defaults leave MANA's record as it was):
    buffer_bytes: page bytes one full-MTU frame pins across all its buffers (0: one buffer,
    (PAGE_SIZE << order) / frags_per_page); mem_efficiency_buffer divides by it when set.
    frame_buffers: buffers (or strides) one full-MTU frame occupies. linear: the skb head is built
    on the RX buffer itself (build_skb) rather than allocated apart with the buffer as fragments.
    copybreak: frames up to this length are copied into a new skb and the buffer reused.
    agg_ring_size, agg_buf_size, tpa_bufs, header_split, hds_thresh: bnxt's aggregation ring
    (entries, bytes each), the head buffers held for hardware GRO (TPA), and header-data split.
    head_use_size, header_len, head_pool_size: bnxt's rx_buf_use_size (the most of a frame its head
    buffer takes; 0 for a driver without one), the header bytes header-data split leaves in the head,
    and the pool_size of a page_pool of its own for heads (0: heads share the pool).
    wqe_count, pages_per_wqe, stride_size, strides_per_wqe, frag_strides: mlx5's receive WQEs:
    the striding RQ's multi-packet WQEs, or the legacy RQ's per-WQE fragment strides.
    frag_sizes, wqe_index_mask, wqe_bulk, refill_unit: the legacy RQ's fragments (the most bytes of a
    frame each takes) and its refill (struct mlx5e_rq_frags_info): WQEs missing before a refill, the
    refill's bulks, and the mask that keeps a bulk from ending inside a page older WQEs still use.
    """

    variant: str
    arch: str
    page_size: int
    mtu: int
    xdp: bool
    ring_size: int
    queues: int
    datasize: int
    alloc_size: int
    headroom: int
    frag_count: int
    frags_per_page: int
    order: int
    pool_size: int
    truesize: int
    truesize_pinned: int
    ring_pages: int
    ring_bytes: int
    nic_bytes: int
    mem_efficiency_buffer: float = field(init=False)
    mem_efficiency_ring: float = field(init=False)
    buffer_bytes: int = 0
    frame_buffers: int = 1
    linear: bool = True
    copybreak: int = 0
    agg_ring_size: int = 0
    agg_buf_size: int = 0
    tpa_bufs: int = 0
    header_split: bool = False
    hds_thresh: int = 0
    head_use_size: int = 0
    header_len: int = 0
    head_pool_size: int = 0
    wqe_count: int = 0
    pages_per_wqe: int = 0
    stride_size: int = 0
    strides_per_wqe: int = 0
    frag_strides: tuple = ()
    frag_sizes: tuple = ()
    wqe_index_mask: int = 0
    wqe_bulk: int = 0
    refill_unit: int = 0

    def __post_init__(self):
        per_buffer = self.buffer_bytes or (self.page_size << self.order) / self.frags_per_page
        object.__setattr__(self, "mem_efficiency_buffer", self.datasize / per_buffer)
        object.__setattr__(self, "mem_efficiency_ring", self.ring_size * self.datasize / self.ring_bytes)

    def to_dict(self):
        return asdict(self)
