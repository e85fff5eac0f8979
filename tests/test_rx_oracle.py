"""The engine's RX path against the naive RX model (tests/naive_rx.py): small configurations that
between them take every path (each strategy, XDP verdicts, acks, clones, GRO, deferred frees, small
receive memory, failure injection, reconfigurations), compared on every counter, every queue and
connection column, the samples, the ratio histogram, the model time and the events.

Runs in both passes (compiled, and with NUMBA_DISABLE_JIT=1): sizes are kept small.
"""

import functools
import os

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as hst
from naive_rx import CONN_NAMES, QS_NAMES, SAMPLE_NAMES, naive_simulate

from rxlab import Reconfig, SimConfig, simulate, xdp_only
from rxlab.counters import Ctr
from rxlab.engine.layout import CN, QS, SM
from rxlab.model.simulate import plan

NOJIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"

# few queues, connections and skbs: the interpreted pass spends its time in the invariant scan,
# which grows with the engine's tables (max_skbs bounds them)
BASE = {"packets": 1200, "queues": 2, "connections": 3, "ring_size": 128, "samples": 16, "max_skbs": 1024}

# (id, configuration)
CONFIGS = [
    ("pp_frag", {}),
    ("full_page", {"strategy": "full_page", "queues": 1}),
    ("upfront_16k", {"strategy": "pp_frag_upfront", "page_size": 16384, "mtu": 3000}),
    ("upfront_64k_napi", {"strategy": "pp_frag_upfront", "page_size": 65536, "mtu": 1000, "arch": "arm64",
                          "app_cpus": "napi"}),
    ("pp_frag_64k", {"page_size": 65536, "connections": 5, "queues": 3, "reader_cpus": 2}),
    ("page_frag_cache", {"strategy": "page_frag_cache", "ack_fraction": 0.3, "clone_fraction": 0.2}),
    ("page_frag_cache_napi", {"strategy": "page_frag_cache", "app_cpus": "napi", "mtu": 576, "gro": False}),
    ("copybreak_acks", {"strategy": "copybreak", "ack_fraction": 0.5, "clone_fraction": 0.1}),
    ("copybreak_small_mtu", {"strategy": "copybreak", "mtu": 200, "arch": "x86_64", "ack_fraction": 0.2,
                             "tcp_rmem": 16384}),
    # page_frag heads: GRO steals them into frags; without GRO, fast reads give every fragment back
    # before the cache page is used up, and it is reused in place
    ("copybreak_large_heads", {"strategy": "copybreak", "mtu": 1000, "copybreak": 1024, "queues": 1,
                               "reader": "periodic", "app_read_us": 0.5}),
    ("copybreak_large_heads_nogro", {"strategy": "copybreak", "mtu": 1000, "copybreak": 1024, "queues": 1,
                                     "reader": "periodic", "app_read_us": 0.5, "gro": False}),
    ("xdp_mix_napi_nogro", {"xdp": (0.4, 0.2, 0.2, 0.2), "app_cpus": "napi", "gro": False}),
    ("xdp_drop_full", {"xdp": xdp_only("drop"), "strategy": "full_page", "ack_fraction": 0.2}),
    ("xdp_redirect_full_hold", {"xdp": (0.5, 0.0, 0.0, 0.5), "xdp_hold_us": 500.0, "link_gbps": 25.0}),
    ("rmem_drops_honest", {"tcp_rmem": 8192, "truesize_honest": True, "clone_fraction": 0.3}),
    ("rmem_small_pfc_honest", {"tcp_rmem": 16384, "truesize_honest": True, "strategy": "page_frag_cache"}),
    ("fail_full_nodefer", {"alloc_fail_rate": 0.05, "dma_map_fail_rate": 0.05, "defer_free": False,
                           "strategy": "full_page", "seed": 7}),
    ("fail_frag_pfc", {"alloc_fail_rate": 0.1, "dma_map_fail_rate": 0.1, "strategy": "page_frag_cache",
                       "seed": 3}),
    ("defer_max_small", {"skb_defer_max": 4, "reader": "periodic", "app_read_us": 200.0, "napi_budget": 8, "connections": 6}),
    ("defer_max_zero", {"skb_defer_max": 0, "queues": 1, "defer_free": True}),
    # a tap clones every skb, so none coalesces (skb_try_coalesce refuses a cloned one) and each holds a slot
    ("skb_table_full", {"max_skbs": 64, "reader": "periodic", "app_read_us": 2000.0, "connections": 4, "gro": False,
                        "clone_fraction": 1.0}),
    ("jumbo_4k_x86", {"mtu": 9000, "arch": "x86_64", "tcp_rmem": 131072, "queues": 1}),
    # 6.17's admission by truesize: tcp_clamp_window() keeps a 64 KB-page buffer below an initial window
    # of its skbs, and an empty queue takes the skb it refuses (972ca7a3bc9a's early return): a trap
    ("trap_6_17_full_64k", {"kernel": "6.17", "strategy": "full_page", "page_size": 65536, "queues": 1,
                            "connections": 1}),
    # slow readers: a resend finds the buffer still full, so tail loss probes give way to RTOs with
    # backoff; ACKs end the run while a sender waits for its timer
    ("recovery_rto_6_17", {"kernel": "6.17", "strategy": "full_page", "page_size": 65536, "queues": 1,
                           "connections": 2, "reader": "periodic", "app_read_us": 3000.0, "ack_fraction": 0.5}),
    # SO_RCVBUF large enough that a read every 50 µs returns more pages than the pool's ring holds
    ("order1_pages", {"mtu": 4000, "queues": 1, "ack_fraction": 0.1, "so_rcvbuf": 1 << 20, "rmem_max": 1 << 21,
                      "reader": "periodic", "app_read_us": 50.0}),
    # the receive side (net/ipv4/tcp_input.c): autotuning by each release's tcp_rcvbuf_grow(), SO_RCVBUF,
    # tcp_prune_queue() with tcp_clamp_window() and tcp_collapse(), and the three admission rules
    ("autotune_6_1_clamp_collapse", {"kernel": "6.1", "ring_size": 512, "queues": 1, "strategy": "full_page",
                                     "reader": "periodic", "app_read_us": 300.0, "tcp_rmem": 65536}),
    ("so_rcvbuf_6_1_collapse", {"kernel": "6.1", "ring_size": 512, "queues": 1, "strategy": "full_page",
                                "so_rcvbuf": 16384, "reader": "periodic", "app_read_us": 300.0}),
    ("autotune_6_16", {"kernel": "6.16", "rtt_us": 20.0, "reader": "periodic", "app_read_us": 30.0}),
    ("admission_truesize_6_17", {"kernel": "6.17", "strategy": "full_page", "reader": "periodic", "app_read_us": 300.0, "queues": 1}),
    ("admission_len_low_rtt", {"reader": "periodic", "app_read_us": 100.0, "rtt_us": 400.0, "strategy": "full_page",
                               "so_rcvbuf": 30000, "rmem_max": 1 << 20}),
    ("pfc_fast_reads", {"strategy": "page_frag_cache", "reader": "periodic", "app_read_us": 0.5, "connections": 1, "queues": 1,
                        "app_cpus": "napi"}),
    # ptr_ring producer lock: frees on 20 reading CPUs into one pool, read so often that a few (0.3 µs)
    # or more (0.6 µs) readers have data at each instant, each reader's produces a hold apart, so
    # they share holds with other readers' (contended, waiting for several); GRO off, as its
    # aggregates reach all the sockets at once, at a poll's end. With a hold of 500 ns, a full-page
    # queue detached from process context (its NAPI CPU's produces) overlaps the last read's produces
    ("contended_ring_2_5", {"queues": 1, "connections": 20, "reader_cpus": 20, "defer_free": False,
                            "ack_fraction": 0.2, "reader": "periodic", "app_read_us": 0.3, "gro": False}),
    ("contended_ring_5_8", {"queues": 1, "connections": 20, "reader_cpus": 20, "defer_free": False,
                            "ack_fraction": 0.2, "reader": "periodic", "app_read_us": 0.6, "gro": False}),
    ("contended_ring_detach", {"queues": 1, "connections": 20, "reader_cpus": 4, "strategy": "full_page",
                               "defer_free": False, "reader": "periodic", "app_read_us": 2.0, "ptr_ring_hold_ns": 500.0,
                               "reconfigs": (Reconfig(at_packet=600, mtu=3000),)}),
    # one reader returning every page with a hold of 1 ms: past 1024 holds ahead of model time its
    # produces go untimed (a ring of 1024: a pool whose ptr_ring does not fill first)
    ("lock_saturated", {"queues": 1, "connections": 4, "reader_cpus": 1, "strategy": "full_page",
                        "defer_free": False, "ptr_ring_hold_ns": 1e6, "packets": 4000, "ring_size": 1024}),
    # the transport (rxlab.engine.sender, tcp_output, timers, reader): a slow reader on 6.17 gets
    # zero-window ACKs for its forced-in flights; a window below a segment is probed (the run ends as one
    # waits for the other connection's TSO skb to leave the link); SO_RCVLOWAT above a
    # flight leaves the delayed ACK and memory pressure to move things; a 1 ms RTT
    ("transport_trap_6_17", {"kernel": "6.17", "strategy": "full_page", "page_size": 65536, "queues": 1,
                             "connections": 2, "wake_us": 48.0, "packets": 1500}),
    # the same with GRO off: the first flight's second segment clamps sk_rcvbuf to one skb; in
    # TCP_CA_Loss a retransmission cut to the window, its rest SACKed out of order, kept through the
    # next RTO and reneged on when the receiver prunes it (TCPSACKReneging)
    ("transport_trap_6_17_nogro", {"kernel": "6.17", "strategy": "full_page", "page_size": 65536, "queues": 1,
                                   "connections": 1, "wake_us": 48.0, "gro": False, "packets": 120}),
    # a tail loss probe that resends the last segment into a closed window and repairs a lost tail:
    # XDP drops, a 16 KB buffer read every 5 ms (past the probe's 2 x srtt + 2 ms): TCPLossProbeRecovery
    ("transport_tlp_recovery", {"xdp": (0.95, 0.05, 0.0, 0.0), "so_rcvbuf": 16384, "reader": "periodic",
                                "app_read_us": 5000.0, "queues": 1, "connections": 1, "packets": 1500}),
    ("transport_window_probe", {"reader": "periodic", "app_read_us": 3e5, "so_rcvbuf": 16384, "queues": 1,
                                "connections": 2, "packets": 437}),  # ends with a probe waiting for the link
    ("transport_rcvlowat_delack", {"rcvlowat": 1 << 16, "connections": 3, "gro": False, "wake_us": 10.0}),
    ("transport_long_rtt", {"rtt_us": 1000.0, "connections": 4, "wake_us": 48.0, "mtu": 9000}),
    # the out-of-order queue (net/ipv4/tcp_input.c tcp_data_queue_ofo): allocation failures drop
    # segments at the ring, what follows waits out of order and is SACKed; a slow reader with a small
    # buffer makes TCP drop out-of-order skbs (TCPOFODrop) and prune the queue's end for in-order
    # data (OfoPruned); XDP drops on 6.17, one flow read every millisecond
    ("ofo_prune_small_rmem", {"alloc_fail_rate": 0.05, "tcp_rmem": 32768, "reader": "periodic", "app_read_us": 500.0,
                              "queues": 1, "strategy": "full_page", "seed": 2}),
    ("ofo_xdp_drop_6_17", {"xdp": (0.9, 0.1, 0.0, 0.0), "kernel": "6.17", "reader": "periodic", "app_read_us": 1000.0,
                           "queues": 1, "strategy": "full_page", "connections": 1}),
    # NAPI GRO (net/core/gro.c): one flow fills 17 frags, then chains on frag_list, up to gro_max_size
    # (45 segments at MTU 1500) within a 64-packet poll; 200 flows on 16 queues put 12 or so in each
    # queue's one bucket, past MAX_GRO_SKBS: gro_flush_oldest
    ("gro_one_flow", {"connections": 1, "queues": 1}),
    ("gro_bucket_overflow", {"queues": 16, "connections": 200}),
    ("jumbo_16k_full", {"mtu": 9000, "page_size": 16384, "strategy": "full_page", "queues": 1}),
    # releases (data/kernels.toml): 6.1's window by tcp_adv_win_scale, 6.6's initial scaling_ratio 65,
    # 7.0's alloc cache of 128 on 64 KB pages (7.1 scales it), 7.0's truesize fix on jumbo frames
    ("kernel_6_1", {"kernel": "6.1", "ring_size": 512, "queues": 1, "tcp_rmem": 65536, "reader": "periodic", "app_read_us": 200.0}),
    ("kernel_6_6_drops", {"kernel": "6.6", "ring_size": 512, "queues": 1, "tcp_rmem": 8192, "connections": 4}),
    ("kernel_7_0_64k", {"kernel": "7.0", "page_size": 65536, "connections": 5, "reader_cpus": 2}),
    ("kernel_7_0_jumbo", {"kernel": "7.0", "mtu": 9000, "queues": 1, "tcp_rmem": 131072}),
    # a refused skb (tcp_data_queue): before 6.6 a drop and no ACK; 6.6's zero-window ACK (e2142825c120),
    # rcv_wnd kept; 6.14's recorded (8c670bdfa58e), data beyond it dropped (tcp_sequence), the RTO probing
    ("kernel_6_1_rmem_drops", {"kernel": "6.1", "gro": False, "so_rcvbuf": 8192, "reader": "periodic",
                               "app_read_us": 300.0, "strategy": "full_page", "ring_size": 512}),
    ("kernel_6_13_zero_window", {"kernel": "6.13", "gro": False, "so_rcvbuf": 8192, "reader": "periodic",
                                 "app_read_us": 300.0, "strategy": "full_page"}),
    ("kernel_6_17_zero_window", {"kernel": "6.17", "strategy": "full_page", "page_size": 65536, "arch": "arm64",
                                 "connections": 1, "queues": 1, "gro": False, "reader": "periodic",
                                 "app_read_us": 1e6, "packets": 60}),
    # reconfigurations whose detaches are all of fragment queues
    ("reconfig_frag_mtu", {"page_size": 4096, "reconfigs": (
        Reconfig(at_packet=300, mtu=1000), Reconfig(at_packet=600, mtu=3000),
        Reconfig(at_packet=900, mtu=9000, xdp=xdp_only("drop")))}),
    ("reconfig_refused_and_ok", {"page_size": 16384, "strategy": "pp_frag_upfront", "reconfigs": (
        Reconfig(at_packet=200, mtu=3000), Reconfig(at_packet=500, mtu=1500, xdp=(0.5, 0.5, 0.0, 0.0)))}),
    # a full-page queue detached (from process context: its pool pages go to the ptr_ring), a
    # pre-allocation that fails, and one of buffers larger than a page (a higher-order page each)
    ("reconfig_xdp_attach_detach", {"reconfigs": (
        Reconfig(at_packet=300, xdp=xdp_only("drop")), Reconfig(at_packet=700, xdp=()))}),
    ("reconfig_prealloc_fail", {"strategy": "page_frag_cache", "reconfigs": (
        Reconfig(at_packet=400, mtu=3000, fail=True), Reconfig(at_packet=800, mtu=576))}),
    # the MTU shrinks for the last packet: TCP has seen one smaller segment, which does not yet make
    # it rcv_mss (tcp_measure_rcv_mss's last_seg_size)
    ("reconfig_mtu_down_last", {"gro": False, "reconfigs": (Reconfig(at_packet=1199, mtu=1000),)}),
    ("reconfig_jumbo", {"arch": "x86_64", "tcp_rmem": 262144, "reconfigs": (Reconfig(at_packet=400, mtu=9000),)}),
    ("reconfig_all", {"reconfigs": (
        Reconfig(at_packet=300, mtu=3000), Reconfig(at_packet=600, xdp=xdp_only("tx")),
        Reconfig(at_packet=900, xdp=(), fail=True))}),
    # bnxt_en's normal mode: header-data split copies each frame's headers (bnxt_copy_skb) and GRO
    # takes its aggregation pages as frags (17 of them, then frag_list); jumbo frames take 3
    # aggregation buffers; 64 KB pages carve 32 KB aggregation buffers and give heads a pool of
    # their own; failures drop frames with their aggregation buffers reposted; an MTU of 576 puts
    # the frame in a head the skb is built on (below the HDS threshold)
    ("bnxt", {"driver": "bnxt"}),
    ("bnxt_one_flow", {"driver": "bnxt", "connections": 1, "queues": 1}),
    ("bnxt_acks_clones_nogro", {"driver": "bnxt", "ack_fraction": 0.3, "clone_fraction": 0.2, "gro": False}),
    ("bnxt_jumbo_x86", {"driver": "bnxt", "mtu": 9000, "arch": "x86_64", "tcp_rmem": 131072, "queues": 1}),
    ("bnxt_64k", {"driver": "bnxt", "page_size": 65536, "connections": 5, "queues": 3, "reader_cpus": 2}),
    ("bnxt_16k_jumbo_honest", {"driver": "bnxt", "page_size": 16384, "mtu": 9000, "truesize_honest": True,
                               "tcp_rmem": 65536}),
    ("bnxt_fail", {"driver": "bnxt", "mtu": 9000, "alloc_fail_rate": 0.05, "dma_map_fail_rate": 0.05,
                   "seed": 5}),
    ("bnxt_skb_table_full", {"driver": "bnxt", "max_skbs": 64, "reader": "periodic", "app_read_us": 2000.0, "connections": 4,
                             "gro": False, "clone_fraction": 1.0}),
    ("bnxt_reconfig_mtu", {"driver": "bnxt", "mtu": 576, "reconfigs": (
        Reconfig(at_packet=300, mtu=1500), Reconfig(at_packet=700, mtu=9000))}),
    # bnxt's TPA (hardware GRO): pure ACKs end their flow's aggregation, short timers end them mid-stream
    # with flows interleaved, a poll's budget taken by TPA_ENDs, drops and retransmissions out of
    # sequence, segments below min_agg_len after an MTU change, every context of a queue taken (256: the
    # rest go as L2 frames), no TPA (rx-gro-hw off: no aggregation ring at MTU 1500)
    ("bnxt_tpa_acks_timer", {"driver": "bnxt", "ack_fraction": 0.3, "clone_fraction": 0.2, "tpa_timer_us": 2.0,
                             "connections": 6, "queues": 1}),
    ("bnxt_tpa_budget_loss", {"driver": "bnxt", "napi_budget": 2, "alloc_fail_rate": 0.02, "seed": 7,
                              "tcp_rmem": 65536, "packets": 2000}),
    ("bnxt_tpa_mtu_down", {"driver": "bnxt", "reconfigs": (Reconfig(at_packet=300, mtu=1000),)}),
    ("bnxt_tpa_contexts_full", {"driver": "bnxt", "connections": 300, "queues": 1, "packets": 3100,
                                "tpa_timer_us": 1e4, "link_gbps": 25.0}),
    ("bnxt_gro_hw_off", {"driver": "bnxt", "gro_hw": False}),
    # bnxt_en's page mode (XDP): a page (a 32 KB fragment on 64 KB pages) per RX descriptor; XDP_DROP
    # and XDP_TX repost it, XDP_REDIRECT holds it until xdp_return_frame, XDP_PASS copies ACKs and
    # builds data skbs on the page (bnxt_rx_page_skb); failures on a small ring; the skb table full;
    # a program attached and detached (normal mode again), and a jumbo MTU it refuses on 4 KB pages
    ("bnxt_xdp_mix_acks", {"driver": "bnxt", "xdp": (0.4, 0.2, 0.2, 0.2), "ack_fraction": 0.3}),
    ("bnxt_xdp_16k_jumbo_fail", {"driver": "bnxt", "page_size": 16384, "mtu": 9000, "xdp": (0.5, 0.1, 0.1, 0.3),
                                 "alloc_fail_rate": 0.05, "seed": 4, "ring_size": 32, "tcp_rmem": 65536}),
    ("bnxt_xdp_64k_redirect_honest", {"driver": "bnxt", "page_size": 65536, "xdp": (0.5, 0.0, 0.0, 0.5),
                                      "xdp_hold_us": 500.0, "link_gbps": 25.0, "truesize_honest": True}),
    ("bnxt_xdp_skb_table_full", {"driver": "bnxt", "xdp": xdp_only("pass"), "max_skbs": 64, "reader": "periodic",
                                 "app_read_us": 2000.0, "connections": 4, "gro": False, "clone_fraction": 1.0}),
    ("bnxt_reconfig_xdp", {"driver": "bnxt", "reconfigs": (
        Reconfig(at_packet=300, xdp=xdp_only("tx")), Reconfig(at_packet=600, mtu=9000),
        Reconfig(at_packet=800, xdp=()))}),
    # mlx5's legacy cyclic RQ: linear strides two to a 4 KB page (and 8, 32 to 16, 64 KB pages), a
    # whole page each with XDP; jumbo frames non-linear on 4 KB pages (four strides, three pages a
    # WQE) and linear 16 KB strides on larger pages; refills in bulks at a poll's end, the pages
    # released as the ring comes round; failures undo a whole bulk and drain the ring
    ("mlx5", {"driver": "mlx5_cyclic"}),
    ("mlx5_4k_jumbo", {"driver": "mlx5_cyclic", "mtu": 9000, "tcp_rmem": 131072}),
    ("mlx5_4k_xdp", {"driver": "mlx5_cyclic", "xdp": (0.4, 0.2, 0.2, 0.2)}),
    ("mlx5_16k", {"driver": "mlx5_cyclic", "page_size": 16384, "ack_fraction": 0.3, "clone_fraction": 0.2}),
    ("mlx5_16k_jumbo_xdp", {"driver": "mlx5_cyclic", "page_size": 16384, "mtu": 9000, "xdp": (0.7, 0.1, 0.1, 0.1)}),
    ("mlx5_64k", {"driver": "mlx5_cyclic", "page_size": 65536, "ring_size": 256, "connections": 5, "queues": 3,
                  "reader_cpus": 2}),
    ("mlx5_64k_jumbo_xdp_honest", {"driver": "mlx5_cyclic", "page_size": 65536, "ring_size": 256, "mtu": 9000,
                                   "arch": "arm64", "xdp": xdp_only("pass"), "truesize_honest": True}),
    ("mlx5_x86_nogro", {"driver": "mlx5_cyclic", "arch": "x86_64", "gro": False, "ring_size": 64}),
    ("mlx5_fail", {"driver": "mlx5_cyclic", "mtu": 9000, "alloc_fail_rate": 0.05, "dma_map_fail_rate": 0.05,
                   "seed": 5}),
    ("mlx5_skb_table_full", {"driver": "mlx5_cyclic", "max_skbs": 64, "reader": "periodic", "app_read_us": 2000.0,
                             "connections": 4, "gro": False, "clone_fraction": 1.0}),
    ("mlx5_reconfig", {"driver": "mlx5_cyclic", "mtu": 576, "reconfigs": (
        Reconfig(at_packet=300, mtu=9000), Reconfig(at_packet=700, xdp=xdp_only("tx"), mtu=1500))}),
    # mlx5's striding RQ (driver mlx5): rings of 4 WQEs (the least) of 256 KB; linear 2 KB strides, 64 a
    # 4 KB page, whole pages with XDP; jumbo frames non-linear in 256-byte strides (a copied head, a frag
    # per page, fillers at each WQE's end); WQEs refilled at a poll's end, their pages released as the
    # ring comes round; a failed WQE stops the refill and the ring drains
    ("mpwqe", {"driver": "mlx5"}),
    ("mpwqe_4k_jumbo", {"driver": "mlx5", "mtu": 9000, "tcp_rmem": 131072}),
    ("mpwqe_4k_xdp", {"driver": "mlx5", "xdp": (0.4, 0.2, 0.2, 0.2)}),
    ("mpwqe_16k_jumbo", {"driver": "mlx5", "page_size": 16384, "mtu": 9000, "ack_fraction": 0.3,
                         "clone_fraction": 0.2}),
    ("mpwqe_64k_honest_nogro", {"driver": "mlx5", "page_size": 65536, "ring_size": 256, "gro": False,
                                "truesize_honest": True}),
    ("mpwqe_x86_jumbo_honest", {"driver": "mlx5", "arch": "x86_64", "mtu": 9000, "truesize_honest": True,
                                "ring_size": 16, "packets": 600}),
    ("mpwqe_fail", {"driver": "mlx5", "mtu": 9000, "alloc_fail_rate": 0.05, "dma_map_fail_rate": 0.05, "seed": 5,
                    "packets": 600}),
    ("mpwqe_reconfig", {"driver": "mlx5", "packets": 600, "reconfigs": (
        Reconfig(at_packet=200, mtu=9000), Reconfig(at_packet=400, xdp=xdp_only("tx"), mtu=1500))}),
]
IDS = [c[0] for c in CONFIGS]


def named_engine(r):
    """The engine's Result in the naive model's terms: the same names, plain numbers."""
    return {
        "counters": {c.name: int(r.counters[c]) for c in Ctr},
        "counters_reader": {c.name: int(r.counters_reader[c]) for c in Ctr},
        "qstats": [{k: int(row[QS[k]]) for k in QS_NAMES} for row in r.qstats],
        "conn": [{k: int(row[CN[k]]) for k in CONN_NAMES} for row in r.conn],
        "samples": [{k: float(row[SM[k]]) for k in SAMPLE_NAMES} for row in r.samples],
        "ratio_hist": [int(x) for x in r.ratio_hist],
        "t_us": float(r.t_us),
        "mem_used_end": int(r.mem_used_end),
        "inflight_end": {p: int(v) for p, v in enumerate(r.inflight_end)},
        "events": list(r.events),
    }


def named_naive(n, pools):
    return {
        "counters": {c.name: n.counters.get(c.name, 0) for c in Ctr},
        "counters_reader": {c.name: n.counters_reader.get(c.name, 0) for c in Ctr},
        "qstats": n.qstats, "conn": n.conn, "samples": n.samples, "ratio_hist": n.ratio_hist, "t_us": n.t_us,
        "mem_used_end": n.mem_used_end,
        "inflight_end": {p: n.inflight_end.get(p, 0) for p in range(max([pools] + [p + 1 for p in n.inflight_end]))},
        "events": list(n.events),
    }


def differences(engine, naive):
    """Every value where the engine's Result and the naive model's disagree, one line each, named
    as ``counters.dma_unmap``, ``conn[2].rmem``, ``samples[3].inflight``, ..."""
    e, m = named_engine(engine), named_naive(naive, len(engine.inflight_end))
    out = []
    for field in ("counters", "counters_reader", "inflight_end"):
        for k in sorted(set(e[field]) | set(m[field])):
            if e[field].get(k) != m[field].get(k):
                out.append(f"{field}.{k}: engine {e[field].get(k)}, naive {m[field].get(k)}")
    for field in ("qstats", "conn", "samples"):
        if len(e[field]) != len(m[field]):
            out.append(f"{field}: engine {len(e[field])} rows, naive {len(m[field])}")
        for i, (a, b) in enumerate(zip(e[field], m[field])):
            for k in a:
                if a[k] != b.get(k):
                    out.append(f"{field}[{i}].{k}: engine {a[k]}, naive {b.get(k)}")
    for i, (a, b) in enumerate(zip(e["ratio_hist"], m["ratio_hist"])):
        if a != b:
            out.append(f"ratio_hist[{i}]: engine {a}, naive {b}")
    if len(e["ratio_hist"]) != len(m["ratio_hist"]):
        out.append(f"ratio_hist: engine {len(e['ratio_hist'])} bins, naive {len(m['ratio_hist'])}")
    for field in ("t_us", "mem_used_end", "events"):
        if e[field] != m[field]:
            out.append(f"{field}: engine {e[field]}, naive {m[field]}")
    return out


def config(i):
    return SimConfig(**{**BASE, **CONFIGS[i][1]})


@functools.cache
def engine_run(i):
    return simulate(config(i))


@pytest.mark.parametrize("i", range(len(CONFIGS)), ids=IDS)
def test_engine_matches_the_naive_rx_model(i):
    d = differences(engine_run(i), naive_simulate(config(i)))
    assert not d, f"{IDS[i]}: {len(d)} differences:\n" + "\n".join(d[:40])


def test_the_naive_model_names_every_column():
    for names, layout in ((QS_NAMES, QS), (CONN_NAMES, CN), (SAMPLE_NAMES, SM)):
        assert set(names) == {m.name for m in layout if m.name != "n"}, layout.__name__


def test_the_configurations_take_every_path():
    """Between them the configurations move every counter and every queue and connection column
    (else a path would go unchecked); the exceptions cannot move in a SimConfig run."""
    never = {"alloc_waive",  # one NUMA node
             "page_alloc_fail",  # rxlab sizes memory so a run never exhausts it; failures are injected
             "recycle_released_refcnt",  # no RX path holds a pool page with _refcount > 1
             # a zero window is recorded only with data queued (the memory failure's zero-window ACK), and
             # the read that empties the queue reopens it (tcp_cleanup_rbuf): in-order data at a zero
             # window finds the queue holding data, and tcp_sequence() drops it first (BeyondWindow)
             "TCPZeroWindowDrop"}
    never_conn = {"zwin_drops",  # TCPZeroWindowDrop's segments
                  "ack_nomem"}  # set and cleared within one tcp_data_queue(): its ACK goes at once
    runs = [named_engine(engine_run(i)) for i in range(len(CONFIGS))]
    still = {c.name for c in Ctr} - never - {k for r in runs for k, v in r["counters"].items() if v}
    assert not still, f"counters no configuration moves: {sorted(still)}"
    still = set(QS_NAMES) - {k for r in runs for row in r["qstats"] for k, v in row.items() if v}
    assert not still, f"queue columns no configuration moves: {sorted(still)}"
    still = set(CONN_NAMES) - never_conn - {k for r in runs for row in r["conn"] for k, v in row.items() if v}
    assert not still, f"connection columns no configuration moves: {sorted(still)}"
    assert any(not e["ok"] and e["error"] for r in runs for e in r["events"])
    assert {c for r in runs for c in r["counters"] if r["counters"][c]} >= {"xdp_save_reuse", "skb_defer_full"}


def _drawn(data):
    """The fields every drawn configuration draws, whatever the driver."""
    rmem = data.draw(hst.sampled_from([8192, 65536, 6291456]))
    return {
        "queues": data.draw(hst.integers(1, 3)), "connections": data.draw(hst.integers(1, 4)),
        "napi_budget": data.draw(hst.sampled_from([4, 64])), "app_cpus": data.draw(hst.sampled_from(["remote", "napi"])),
        "ack_fraction": data.draw(hst.sampled_from([0.0, 0.3])), "clone_fraction": data.draw(hst.sampled_from([0.0, 0.3])),
        "gro": data.draw(hst.booleans()), "tcp_rmem": rmem,
        "truesize_honest": data.draw(hst.booleans()), "alloc_fail_rate": data.draw(hst.sampled_from([0.0, 0.05])),
        "dma_map_fail_rate": data.draw(hst.sampled_from([0.0, 0.05])), "seed": data.draw(hst.integers(0, 2**32 - 1)),
        "packets": data.draw(hst.integers(1, 800)),
        "reader": data.draw(hst.sampled_from(["woken", "periodic"])),
        "wake_us": data.draw(hst.sampled_from([2.0, 48.0])),
        "rcvlowat": data.draw(hst.sampled_from([1, min(1 << 16, rmem >> 1)])),  # tcp_set_rcvlowat's cap
    }


@settings(max_examples=4 if NOJIT else 25, deadline=None)
@given(data=hst.data())
def test_engine_matches_the_naive_rx_model_on_drawn_configurations(data):
    xdp = data.draw(hst.sampled_from([(), xdp_only("drop"), (0.25, 0.25, 0.25, 0.25), (0.7, 0.1, 0.1, 0.1)]))
    kw = {
        **_drawn(data),
        "strategy": data.draw(hst.sampled_from(["full_page", "pp_frag", "pp_frag_upfront", "page_frag_cache",
                                                "copybreak"])),
        "page_size": data.draw(hst.sampled_from([4096, 16384, 65536])),
        "mtu": data.draw(hst.sampled_from([576, 1500, 3000])),
        "defer_free": data.draw(hst.booleans()),
        "skb_defer_max": data.draw(hst.sampled_from([2, 128])),
        "xdp": xdp,
    }
    if data.draw(hst.booleans(), "reconfigure"):
        kw["reconfigs"] = (Reconfig(at_packet=data.draw(hst.integers(0, kw["packets"] - 1)),
                                    mtu=data.draw(hst.sampled_from([None, 1000, 3000])),
                                    xdp=data.draw(hst.sampled_from([None, (), xdp_only("tx")])),
                                    fail=data.draw(hst.booleans())),)
    cfg = SimConfig(**{**BASE, **kw})
    d = differences(simulate(cfg), naive_simulate(cfg))
    assert not d, f"{cfg}: " + "\n".join(d[:40])


def test_a_difference_in_any_field_is_reported():
    """The comparison is not vacuous: one count changed anywhere in the naive result is reported,
    by name, and nothing else is."""
    cfg = SimConfig(**{**BASE, "packets": 200, "queues": 1, "connections": 2, "ack_fraction": 0.2})
    r = simulate(cfg)
    assert differences(r, naive_simulate(cfg)) == []
    for poke, expect in [
        (lambda n: n.counters.__setitem__("dma_unmap", n.counters.get("dma_unmap", 0) + 1), "counters.dma_unmap"),
        (lambda n: n.counters.__setitem__("alloc_waive", 1), "counters.alloc_waive"),
        (lambda n: n.qstats[0].__setitem__("acks", n.qstats[0]["acks"] + 1), "qstats[0].acks"),
        (lambda n: n.conn[1].__setitem__("tail", n.conn[1]["tail"] + 1), "conn[1].tail"),
        (lambda n: n.samples[3].__setitem__("inflight", n.samples[3]["inflight"] + 1), "samples[3].inflight"),
        (lambda n: n.samples.pop(), "samples: engine"),
        (lambda n: n.ratio_hist.__setitem__(5, n.ratio_hist[5] + 1), "ratio_hist[5]"),
        (lambda n: setattr(n, "t_us", n.t_us + 1e-9), "t_us"),
        (lambda n: setattr(n, "mem_used_end", n.mem_used_end + 4096), "mem_used_end"),
        (lambda n: n.inflight_end.__setitem__(0, n.inflight_end[0] + 1), "inflight_end.0"),
        (lambda n: setattr(n, "events", ({"at_packet": 1},)), "events"),
    ]:
        n = naive_simulate(cfg)
        poke(n)
        d = differences(r, n)
        assert len(d) == 1 and d[0].startswith(expect), (expect, d)


@pytest.mark.parametrize("name", ["pp_frag", "full_page", "copybreak_large_heads", "copybreak_small_mtu",
                                  "pp_frag_64k", "xdp_drop_full"])
def test_memory_efficiency_is_the_naive_models_held_over_pinned(name):
    """mem_efficiency_mean/peak/worst: the naive model's packet bytes queued in pages over its pages
    out of the allocator, at each of its own samples. Copy-break into page_frag heads holds its bytes
    in pages (copybreak_large_heads); into kmalloc'ed heads in none (copybreak_small_mtu: MTU 200);
    an XDP program that drops everything leaves nothing held."""
    i = IDS.index(name)
    n = naive_simulate(config(i))
    eff = [s["held"] / s["mem_used"] for s in n.samples]
    m = engine_run(i).metrics()
    assert m["mem_efficiency_mean"] == pytest.approx(sum(eff) / len(eff), rel=1e-12)
    assert m["mem_efficiency_peak"] == pytest.approx(max(eff), rel=1e-12)
    assert m["mem_efficiency_worst"] == pytest.approx(min(eff), rel=1e-12)
    if name in ("xdp_drop_full", "copybreak_small_mtu"):
        assert m["mem_efficiency_peak"] == 0.0
    else:
        assert 0.0 < m["mem_efficiency_peak"] <= 1.0


@settings(max_examples=3 if NOJIT else 15, deadline=None)
@given(data=hst.data())
def test_bnxt_matches_the_naive_rx_model_on_drawn_configurations(data):
    """bnxt's queue (Mode.agg, and Mode.page with an XDP program) on drawn configurations: page sizes
    (a separate head pool on 64 KB), MTUs on both sides of the header-data split threshold and jumbo,
    XDP verdict mixes where page mode takes the MTU (BNXT_MAX_PAGE_MODE_MTU), hardware GRO on and off
    with TPA timers short and long, failures, MTU and program reconfigurations (a refused one too)."""
    page = data.draw(hst.sampled_from([4096, 16384, 65536]))
    mtu = data.draw(hst.sampled_from([576, 1500, 4000, 9000]))
    xdps = [(), xdp_only("drop"), (0.25, 0.25, 0.25, 0.25), (0.7, 0.1, 0.1, 0.1)]
    kw = {
        **_drawn(data),
        "driver": "bnxt",
        "page_size": page, "mtu": mtu,
        "xdp": data.draw(hst.sampled_from([()] if page == 4096 and mtu > 3500 else xdps)),
        "gro_hw": data.draw(hst.booleans(), "gro_hw"),
        "tpa_timer_us": data.draw(hst.sampled_from([1.0, 32.0, 300.0]), "tpa_timer_us"),
    }
    if data.draw(hst.booleans(), "reconfigure"):
        kw["reconfigs"] = (Reconfig(at_packet=data.draw(hst.integers(0, kw["packets"] - 1)),
                                    mtu=data.draw(hst.sampled_from([1000, 1500, 9000])),
                                    xdp=data.draw(hst.sampled_from([None, (), xdp_only("tx")]))),)
    cfg = SimConfig(**{**BASE, **kw})
    d = differences(simulate(cfg), naive_simulate(cfg))
    assert not d, f"{cfg}: " + "\n".join(d[:40])


@settings(max_examples=3 if NOJIT else 15, deadline=None)
@given(data=hst.data())
def test_mlx5_matches_the_naive_rx_model_on_drawn_configurations(data):
    """mlx5's legacy RQ (Mode.cyc) on drawn configurations: page sizes, linear and non-linear MTUs,
    ring sizes (so refill bulks and units), XDP where the RQ stays linear, failures, MTU changes."""
    page = data.draw(hst.sampled_from([4096, 16384, 65536]))
    mtu = data.draw(hst.sampled_from([576, 1500, 4000, 9000]))
    kw = {
        **_drawn(data),
        "driver": "mlx5_cyclic",
        "page_size": page, "mtu": mtu,
        "ring_size": data.draw(hst.sampled_from([256, 512] if page == 65536 else [64, 256, 1024])),
        "xdp": data.draw(hst.sampled_from([()] if page == 4096 and mtu > 3498 else [(), (0.25, 0.25, 0.25, 0.25)])),
    }
    if data.draw(hst.booleans(), "reconfigure"):
        kw["reconfigs"] = (Reconfig(at_packet=data.draw(hst.integers(0, kw["packets"] - 1)),
                                    mtu=data.draw(hst.sampled_from([1000, 1500, 9000]))),)
    cfg = SimConfig(**{**BASE, **kw})
    # refill units that end inside a page (small strides on small rings) are refused: test_engine_mlx5
    assume(not any(cfg.nic.engine_refuses(g) for g in plan(cfg).geoms))
    d = differences(simulate(cfg), naive_simulate(cfg))
    assert not d, f"{cfg}: " + "\n".join(d[:40])


@settings(max_examples=3 if NOJIT else 10, deadline=None)
@given(data=hst.data())
def test_mlx5_striding_matches_the_naive_rx_model_on_drawn_configurations(data):
    """mlx5's striding RQ (Mode.mpw) on drawn configurations: page sizes, linear and non-linear MTUs,
    ring sizes (so WQEs per ring), XDP where the RQ stays linear (4 KB pages, MTU up to 3498), failures,
    MTU changes."""
    page = data.draw(hst.sampled_from([4096, 16384, 65536]))
    mtu = data.draw(hst.sampled_from([576, 1500, 4000, 9000]))
    kw = {
        **_drawn(data),
        "driver": "mlx5",
        "page_size": page, "mtu": mtu,
        "ring_size": data.draw(hst.sampled_from({4096: [16, 256, 1024], 16384: [64, 256, 1024], 65536: [256, 512]}[page])),
        "xdp": data.draw(hst.sampled_from([(), (0.25, 0.25, 0.25, 0.25)] if page == 4096 and mtu <= 3498 else [()])),
    }
    if data.draw(hst.booleans(), "reconfigure"):
        kw["reconfigs"] = (Reconfig(at_packet=data.draw(hst.integers(0, kw["packets"] - 1)),
                                    mtu=data.draw(hst.sampled_from([1000, 1500, 9000]))),)
    cfg = SimConfig(**{**BASE, **kw})
    d = differences(simulate(cfg), naive_simulate(cfg))
    assert not d, f"{cfg}: " + "\n".join(d[:40])
