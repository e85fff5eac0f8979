"""Every counter rxlab keeps, documented once.

The engine counts into one int64 array indexed by :class:`Ctr`. Names follow the
kernel's netlink page-pool stats (``page-pool-stats-get``, with underscores) where
the kernel has one; the rest are rxlab's operation counts for the cost model.
"""

from enum import IntEnum


class Ctr(IntEnum):
    # page_pool allocation stats (net/core/page_pool.c, alloc_stat_inc)
    alloc_fast = 0
    alloc_slow = 1
    alloc_slow_high_order = 2
    alloc_empty = 3
    alloc_refill = 4
    alloc_waive = 5
    # page_pool recycle stats (recycle_stat_inc)
    recycle_cached = 6
    recycle_cache_full = 7
    recycle_ring = 8
    recycle_ring_full = 9
    recycle_released_refcnt = 10
    # refcount traffic on struct page (page->_refcount and pp_ref_count share its cache line)
    atomic_rmw = 11
    atomic_rmw_remote = 12
    refcnt_store = 13
    refcnt_store_remote = 14
    refcnt_read_remote = 15
    # page allocator
    page_alloc_bulk_calls = 16
    page_alloc_order0 = 17
    page_alloc_order1 = 18
    page_alloc_order2 = 19
    page_alloc_order3 = 20
    page_free_order0 = 21
    page_free_order1 = 22
    page_free_order2 = 23
    page_free_order3 = 24
    page_alloc_fail = 25
    # DMA API
    dma_map = 26
    dma_map_bytes = 27
    dma_unmap = 28
    dma_sync_dev = 29
    dma_sync_dev_bytes = 30
    dma_map_fail = 31
    # ptr_ring
    ptr_ring_produce = 32
    ptr_ring_consume = 33
    # fragments
    pp_frag_alloc = 34
    pp_frag_drain = 35
    page_frag_alloc = 36
    page_frag_refill = 37
    page_frag_reuse = 38
    # skb paths
    skb_build = 39
    skb_clone = 40
    skb_dataref_rmw = 41
    skb_coalesce = 42
    skb_coalesce_refused = 43
    skb_free = 44
    skb_small_head = 45
    bytes_copied = 46
    xdp_save_reuse = 47
    # skb_attempt_defer_free
    skb_defer_free = 48
    skb_defer_full = 49
    # TCP receive memory (net/ipv4/tcp_input.c; /proc/net/netstat TcpExt, the kernel's names)
    PruneCalled = 50
    TCPRcvCollapsed = 51
    RcvPruned = 52
    TCPRcvQDrop = 53
    # the reader's own work (tcp_recvmsg)
    tcp_recvmsg = 54
    bytes_to_user = 55
    # ptr_ring producer lock (rxlab.engine.page_pool._producer_lock)
    ptr_ring_produce_contended = 56
    ptr_ring_lock_wait = 57
    ptr_ring_produce_untimed = 58
    # NAPI GRO (net/core/gro.c)
    gro_merge = 59
    gro_merge_frag_list = 60
    gro_complete = 61
    # TCP receive window (net/ipv4/tcp_input.c; TcpExt names)
    TCPZeroWindowDrop = 62
    BeyondWindow = 63
    # the out-of-order queue (net/ipv4/tcp_input.c; TcpExt)
    TCPOFOQueue = 64
    TCPOFODrop = 65
    TCPOFOMerge = 66
    OfoPruned = 67
    # sk_rmem_alloc charged as data is admitted (net/ipv4/tcp_input.c)
    rmem_charged = 68
    rmem_charged_payload = 69


N_COUNTERS = len(Ctr)

# name -> (meaning, kernel equivalent or source)
DOC = {
    "alloc_fast": ("page_pool allocations served from the lockless alloc cache", "page-pool-stats alloc-fast"),
    "alloc_slow": ("order-0 slow-path allocations (one per bulk refill from the page allocator)",
                   "alloc-slow; __page_pool_alloc_netmems_slow"),
    "alloc_slow_high_order": ("slow-path allocations of an order > 0 page (no bulk)",
                              "alloc-slow-high-order; __page_pool_alloc_page_order"),
    "alloc_empty": ("alloc cache empty and ptr_ring empty: the slow path follows",
                    "alloc-empty; page_pool_refill_alloc_cache"),
    "alloc_refill": ("alloc cache refilled from the ptr_ring (once per refill, up to 64 pages)",
                     "alloc-refill; page_pool_refill_alloc_cache"),
    "alloc_waive": ("pages dropped at refill for being on a foreign NUMA node; rxlab models one node, so 0",
                    "alloc-waive"),
    "recycle_cached": ("pages returned directly into the alloc cache (NAPI context of the pool's CPU)",
                       "recycle-cached; page_pool_recycle_in_cache"),
    "recycle_cache_full": ("direct returns that found the alloc cache full (then tried the ring)",
                           "recycle-cache-full"),
    "recycle_ring": ("pages returned into the ptr_ring", "recycle-ring; page_pool_recycle_in_ring"),
    "recycle_ring_full": ("returns that found the ptr_ring full: page released to the page allocator",
                          "recycle-ring-full"),
    "recycle_released_refcnt": ("returns of a page still referenced elsewhere (page_ref_count != 1): released",
                                "recycle-released-refcnt; __page_pool_put_page"),
    "atomic_rmw": ("atomic read-modify-writes on a page's _refcount or pp_ref_count",
                   "atomic_long_sub_return, page_ref_add, page_ref_dec_and_test, ..."),
    "atomic_rmw_remote": (("of atomic_rmw, those whose struct page line was last written by another CPU "
                           "(a cache-line transfer)"), "rxlab"),
    "refcnt_store": ("plain stores to a refcount (atomic_long_set of BIAS, set_page_count)",
                     "page_pool_fragment_netmem, page_pool_unref_netmem, set_page_count"),
    "refcnt_store_remote": ("of refcnt_store, those on a line last written by another CPU", "rxlab"),
    "refcnt_read_remote": (("refcount reads of a line last written by another CPU (the 'count == nr' "
                            "shortcut of page_pool_unref_netmem)"), "rxlab"),
    "page_alloc_bulk_calls": ("alloc_pages_bulk_node() calls (each up to 64 order-0 pages)",
                              "__page_pool_alloc_netmems_slow"),
    "page_alloc_order0": ("order-0 pages taken from the page allocator", "alloc_pages*"),
    "page_alloc_order1": ("order-1 pages taken from the page allocator", "alloc_pages*"),
    "page_alloc_order2": ("order-2 pages taken from the page allocator", "alloc_pages*"),
    "page_alloc_order3": ("pages of order 3 or more taken from the page allocator", "alloc_pages*"),
    "page_free_order0": ("order-0 pages given back to the page allocator", "put_page / free_unref_page"),
    "page_free_order1": ("order-1 pages given back to the page allocator", "put_page / free_unref_page"),
    "page_free_order2": ("order-2 pages given back to the page allocator", "put_page / free_unref_page"),
    "page_free_order3": ("pages of order 3 or more given back to the page allocator", "put_page"),
    "page_alloc_fail": ("page allocations that failed (memory limit or injected failure)",
                        "qstats rx-alloc-fail when in the RX path"),
    "dma_map": ("DMA mappings made", "dma_map_single / page_pool_dma_map"),
    "dma_map_bytes": ("bytes mapped", "dma_map_single size / PAGE_SIZE << order"),
    "dma_unmap": ("DMA unmappings", "dma_unmap_single / __page_pool_release_netmem_dma"),
    "dma_sync_dev": ("syncs for device on recycle (PP_FLAG_DMA_SYNC_DEV)", "page_pool_dma_sync_for_device"),
    "dma_sync_dev_bytes": ("bytes synced for device: min(dma_sync_size, max_len)", "page_pool_dma_sync_for_device"),
    "dma_map_fail": ("DMA mappings that failed (injected)", "dma_mapping_error"),
    "ptr_ring_produce": ("pages produced into a pool's ptr_ring", "ptr_ring_produce"),
    "ptr_ring_consume": ("pages consumed from a pool's ptr_ring", "__ptr_ring_consume"),
    "pp_frag_alloc": ("page_pool fragments handed out", "page_pool_alloc_frag_netmem"),
    "pp_frag_drain": ("pages whose unused fragment references were dropped when the next slice did not fit",
                      "page_pool_drain_frag"),
    "page_frag_alloc": ("page_frag cache allocations", "__page_frag_alloc_align"),
    "page_frag_refill": ("page_frag cache pages taken from the page allocator", "__page_frag_cache_refill"),
    "page_frag_reuse": ("page_frag cache pages reused in place because every fragment had come back",
                        "__page_frag_alloc_align"),
    "skb_build": ("skbs built around an RX buffer", "napi_build_skb"),
    "skb_clone": ("skb clones", "skb_clone"),
    "skb_dataref_rmw": ("atomic RMWs on skb_shared_info dataref (clone and free of a cloned skb)",
                        "skb_clone, skb_release_data"),
    "skb_coalesce": ("skbs merged into the previous one on a receive queue", "skb_try_coalesce"),
    "skb_coalesce_refused": ("coalesce attempts refused (pp_recycle mismatch, cloned, no frag slot)",
                             "skb_try_coalesce"),
    "skb_free": ("skbs freed", "kfree_skb / napi_consume_skb"),
    "skb_small_head": ("copy-break skbs whose head came from kmalloc, not a page", "__napi_alloc_skb"),
    "bytes_copied": ("packet bytes copied (copy-break)", "skb_copy_to_linear_data"),
    "xdp_save_reuse": ("refills served by the page the driver kept from an XDP_DROP", "mana_get_rxfrag xdp_save_va"),
    "skb_defer_free": (("skbs a reading CPU queued back to their NAPI CPU (an atomic on that CPU's "
                        "defer_count and an llist_add on its defer list); rxlab frees them there at once"),
                       "skb_attempt_defer_free, skb_defer_free_flush (net/core/skbuff.c, net/core/dev.c)"),
    "skb_defer_full": (("skbs freed on the reading CPU because the NAPI CPU's defer_count had reached "
                        "net.core.skb_defer_max: their pages go back through the ptr_ring"),
                       "skb_attempt_defer_free 'goto nodefer'"),
    "PruneCalled": (("times an arriving skb did not fit sk_rcvbuf and TCP tried to make room (first "
                     "tcp_clamp_window(), which may raise sk_rcvbuf, then collapsing)"),
                    "LINUX_MIB_PRUNECALLED in tcp_prune_queue(), net/ipv4/tcp_input.c"),
    "TCPRcvCollapsed": (("skbs of a receive queue tcp_collapse() copied into tightly packed new ones and "
                         "freed (their pages go back)"),
                        "LINUX_MIB_TCPRCVCOLLAPSED in tcp_collapse_one(), net/ipv4/tcp_input.c"),
    "RcvPruned": (("prunes that could not make room even after collapsing and pruning the out-of-order "
                   "queue: the skb is dropped unless the receive queue is empty"),
                  "LINUX_MIB_RCVPRUNED in tcp_prune_queue(), net/ipv4/tcp_input.c"),
    "TCPRcvQDrop": ("in-order skbs dropped for want of receive memory (per connection, their segments: rmem_drops)",
                    "LINUX_MIB_TCPRCVQDROP in tcp_data_queue(), net/ipv4/tcp_input.c"),
    "tcp_recvmsg": (("reads that found data in the socket: the reader was woken for each (sock_def_readable -> "
                     "try_to_wake_up on the NAPI CPU, a context switch and the recvmsg call on the reader's)"),
                    "tcp_recvmsg, sk_wait_data (net/ipv4/tcp.c), sock_def_readable (net/core/sock.c)"),
    "bytes_to_user": ("TCP payload bytes copied to the application (the reader's copy)",
                      "tcp_recvmsg_locked -> skb_copy_datagram_msg -> skb_copy_datagram_iter (copy_to_user)"),
    "ptr_ring_produce_contended": (("of ptr_ring_produce, those that found the ring's producer lock held by "
                                    "another CPU: a produce of another CPU into the same pool within the same "
                                    "lock hold of model time"),
                                   "page_pool_recycle_in_ring -> ptr_ring_produce (spin_lock(&r->producer_lock))"),
    "ptr_ring_lock_wait": (("holds of the ptr_ring producer lock the contended produces waited for: per produce, "
                            "the other CPUs' produces into its pool within its hold"),
                           "ptr_ring_produce (spin_lock(&r->producer_lock), a queued spinlock: served in turn)"),
    "ptr_ring_produce_untimed": (("of ptr_ring_produce, those by a CPU already more holds of the producer lock ahead "
                                  "of model time than rxlab times (rxlab.model.sizing.lock_slots): a CPU saturated "
                                  "by its produces alone, whose contention is not counted"),
                                 "ptr_ring_produce (spin_lock(&r->producer_lock))"),
    "gro_merge": (("segments merged into their flow's GRO aggregate by stealing their head into a frag "
                   "(the sk_buff is freed: NAPI_GRO_FREE_STOLEN_HEAD)"), "skb_gro_receive (net/core/gro.c)"),
    "gro_merge_frag_list": (("segments chained whole on a GRO aggregate's frag_list (its frags were full, or "
                             "the head was kmalloc'ed)"), "skb_gro_receive 'merge:' (net/core/gro.c)"),
    "gro_complete": (("skbs GRO passed up the stack, each an aggregate of one or more segments "
                      "(at a poll's end, when full, or when a segment or ACK flushes the flow)"),
                     "napi_gro_complete, napi_gro_flush (net/core/gro.c)"),
    "TCPZeroWindowDrop": (("in-order skbs dropped at a zero receive window (per connection, their segments: "
                           "zwin_drops); a window shrinks to 0 only by a memory failure's zero-window ACK"),
                          "LINUX_MIB_TCPZEROWINDOWDROP in tcp_data_queue(), net/ipv4/tcp_input.c"),
    "BeyondWindow": (("skbs refused for ending beyond the receive window (tcp_sequence), each answered by an "
                      "ACK (per connection, their segments: oow_drops)"),
                     "LINUX_MIB_BEYOND_WINDOW in tcp_validate_incoming() (6.19), net/ipv4/tcp_input.c"),
    "TCPOFOQueue": ("skbs after a hole admitted to the out-of-order queue",
                    "LINUX_MIB_TCPOFOQUEUE in tcp_data_queue_ofo(), net/ipv4/tcp_input.c"),
    "TCPOFODrop": ("skbs after a hole dropped for want of receive memory (per connection, their segments: ofo_drops)",
                   "LINUX_MIB_TCPOFODROP in tcp_data_queue_ofo(), net/ipv4/tcp_input.c"),
    "TCPOFOMerge": ("out-of-order skbs dropped because another on the queue holds all their data",
                    "LINUX_MIB_TCPOFOMERGE in tcp_data_queue_ofo(), net/ipv4/tcp_input.c"),
    "OfoPruned": (("prunes that dropped skbs from the out-of-order queue's end to make room (their segments "
                   "count in ofo_drops)"), "LINUX_MIB_OFOPRUNED in tcp_prune_ofo_queue(), net/ipv4/tcp_input.c"),
    "rmem_charged": (("bytes of truesize charged to sk_rmem_alloc as skbs were admitted to a receive or "
                      "out-of-order queue: an skb's truesize when it goes on the queue, or the truesize delta "
                      "when it coalesces into a queued skb; not the later re-charges of tcp_ofo_queue()'s "
                      "coalesce or tcp_collapse()"),
                     ("tcp_queue_rcv() (skb_set_owner_r, or tcp_try_coalesce's delta) and tcp_data_queue_ofo() "
                      "(skb_set_owner_r, or tcp_ooo_try_coalesce's delta), net/ipv4/tcp_input.c")),
    "rmem_charged_payload": (("TCP payload bytes of those skbs (the new bytes of a segment partly queued "
                              "already): rmem_charged / rmem_charged_payload is what the socket was charged "
                              "per byte of data it queued"),
                             "end_seq - seq of the skbs tcp_data_queue() and tcp_data_queue_ofo() admitted"),
}
# the CPU classes counts are kept for: NAPI CPUs (the RX queues' softirq) and reading CPUs (the
# applications', when app_cpus='remote'); Result.counters is their sum
CPU_CLASSES = ("napi", "reader")
READER_PREFIX = "reader_"  # Result.to_frame(): the reading CPUs' share of each counter

# The figures Result.metrics() derives from a run (model/result.py), documented here beside the
# counters they come from: name -> (meaning, how it is computed)
METRICS = {
    "packets": ("packets that arrived on the RX queues", "sum of qstats rx_packets"),
    "rx_queues_busy": ("RX queues that received packets (RSS put a flow there)", "qstats rx_packets > 0"),
    "reader_cpus_busy": (("reading CPUs that read data: CPUs other than the NAPI ones (app_cpus='remote') on "
                          "which a connection's application read something"),
                         "distinct conn app_cpu with delivered > 0 and app_cpu != its queue's NAPI CPU"),
    "model_time_us": ("model time the run took", "wire time of every packet at link_gbps, plus stalls"),
    "goodput_gbps": ("TCP payload accepted (read, or queued for the reader) per model time", "conn rcv_nxt"),
    "mem_peak_bytes": ("the most bytes out of the page allocator at any sample", "samples mem_used"),
    "mem_end_bytes": ("bytes out of the page allocator at the end of the run", "mem_used"),
    "inflight_end": ("page_pool pages in flight at the end (page-pool-get inflight)", "hold - release"),
    "inflight_mem_end": ("their bytes (page-pool-get inflight-mem)", "inflight x PAGE_SIZE << order"),
    "atomic_rmw_per_packet": ("refcount atomics per packet", "atomic_rmw / packets"),
    "atomic_rmw_remote_per_packet": ("of which on a line another CPU wrote last", "atomic_rmw_remote / packets"),
    "rwnd_stalls": (("times the receive window stopped a sender that had data to send (tcp_snd_wnd_test; the "
                     "kernel's TCP_CHRONO_RWND_LIMITED), plus skbs dropped for receive memory"), "conn stalls"),
    "trapped_connections": (("connections whose progress the sender's retransmission timers set: receive-memory "
                             "drops that needed an RTO to recover, or sk_rcvbuf left below an initial window "
                             "(TCP_INIT_CWND) of their segments (Result.trapped())"),
                            "conn rmem_drops and timeouts, or trap_need > rcvbuf"),
    "TCPLossProbes": (("tail loss probes the senders sent (the sender's MIB; 2 x RTT + 2 ms after the last send "
                       "or ACK, tcp_schedule_loss_probe)"), "conn loss_probes"),
    "TCPTimeouts": (("retransmission timeouts the senders took (the sender's MIB; RTT + 200 ms, doubled per "
                     "timeout)"), "conn timeouts"),
    "RetransSegs": ("segments the senders sent again (the sender's MIB)", "conn retrans"),
    "TCPFastRetrans": (("lost segments the senders sent again in fast recovery, found lost by RACK from SACK "
                        "blocks (the sender's MIB; tcp_xmit_retransmit_queue)"), "conn fast_retrans"),
    "TCPSACKRecovery": ("times a sender entered fast recovery, TCP_CA_Recovery (the sender's MIB; tcp_enter_recovery)",
                        "conn sack_recovery"),
    "TCPSACKReneging": (("RTOs at which a sender found the receiver had reneged on data it SACKed (pruned its "
                         "out-of-order queue) and forgot its scoreboard (the sender's MIB; tcp_timeout_mark_lost; "
                         "an ACK that reaches a SACKed segment brings the RTO to max(RTT / 16, 10 ms))"),
                        "conn sack_reneging"),
    "TCPLossProbeRecovery": (("losses a sender's tail loss probe repaired: an ACK beyond the probe that sent the "
                              "last segment again, the window then halved (the sender's MIB; tcp_process_tlp_ack)"),
                             "conn tlp_recovery"),
    "TCPLostRetransmit": (("retransmissions a sender found lost again: by RACK, a segment sent after one delivered "
                           "before it, or at an RTO (the sender's MIB; tcp_mark_skb_lost). In TCP_CA_Loss such a "
                           "loss enters fast recovery (291a00d1a70f)"), "conn lost_retrans"),
    "TCPWinProbe": ("zero-window probes the senders sent (the sender's MIB; tcp_send_probe0)", "conn win_probes"),
    "acks_sent": ("ACKs the receiver sent (tcp_send_ack: at once, delayed, or a window update after a read)",
                  "conn acks_sent"),
    "ack_ring_full": (("ACKs lost because more were on their way back than rxlab's ring holds (0 below its "
                       "cap, rxlab.model.sizing.ACK_CAP_MAX: an RTT of over half a million segments)"),
                      "Rx.evq"),
    "reader_wakes": ("times sk_data_ready woke a reader (reader woken)", "conn wakes"),
    "tpa_packets": (("segments bnxt's device aggregated (hardware GRO, TPA: ethtool -S tpa_packets), "
                     "each reaching the host in one skb per aggregation"), "qstats tpa_packets"),
    "mem_efficiency_buffer": (("static memory efficiency: bytes of a full-MTU frame per byte of page one "
                               "buffer pins"), "RxGeometry: datasize / ((PAGE_SIZE << order) / frags_per_page)"),
    "mem_efficiency_ring": (("static memory efficiency of a posted ring: full-MTU frame bytes per byte "
                             "its pages pin"), "RxGeometry: ring_size x datasize / ring_bytes"),
    # dynamic memory efficiency: at each sample (every packets/samples packets), held / pinned, where
    # held = packet bytes (skb->len, the IP packet as rxlab sizes it) of the skbs on the sockets' receive
    # queues that sit in pages: the data the stack keeps for applications still to read. Copy-break
    # bytes in a kmalloc'ed head are in no page and count neither here nor below.
    # pinned = mem_used: every byte of every page out of the page allocator: posted RX ring buffers
    # (pinned, holding no packet data: a packet's buffer is replaced before it goes up), pages
    # page_pool keeps in its alloc cache and ptr_ring, the unused rest of pages shared by fragments,
    # XDP_TX/REDIRECT frames awaiting completion, the per-CPU page_frag caches' pages.
    # 0 < held / pinned <= 1 while any packet data is queued; 0 when none is (e.g. all read)
    "mem_efficiency_mean": (("dynamic memory efficiency, mean over the samples: packet bytes the sockets hold "
                             "in pages per byte of page pinned"), "mean of samples held / mem_used"),
    "mem_efficiency_peak": ("dynamic memory efficiency at its best sample", "max of samples held / mem_used"),
    "mem_efficiency_worst": ("dynamic memory efficiency at its worst (lowest) sample",
                             "min of samples held / mem_used"),
    "drop_rx_alloc_fail": ("packets dropped because the refill failed (old buffer reposted)", "qstats"),
    "drop_xdp_drop": ("packets an XDP program dropped", "qstats xdp_drop"),
    "drop_tcp_rmem": ("packets dropped with sk_rmem_alloc over sk_rcvbuf", "conn rmem_drops"),
    "drop_tcp_old_data": (("segments that arrived again after they were queued, in order (DelayedACKLost, "
                           "TCP_OLD_DATA) or out of order (TCPOFOMerge)"),
                          "conn dup_data"),
    "drop_tcp_ofo": (("segments after a hole dropped for want of receive memory (TCPOFODrop) or pruned "
                      "from the out-of-order queue (OfoPruned)"), "conn ofo_drops"),
    "drop_tcp_zero_window": (("in-order segments dropped at a zero receive window (TCPZeroWindowDrop)"),
                             "conn zwin_drops"),
    "drop_tcp_beyond_window": (("segments dropped for ending beyond the receive window (tcp_sequence, "
                                "BeyondWindow), or after a hole from its right edge (tcp_data_queue's "
                                "out_of_window, no MIB)"), "conn oow_drops"),
    "drop_skb_table_full": ("packets dropped at rxlab's bound on skbs in flight (max_skbs)", "qstats"),
}
