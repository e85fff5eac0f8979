"""Every notebook executes in quick mode, and the numbers it recorded are checked against bounds
that do not come from re-running its computation: physical limits (line rate, a window per RTT,
one RX core's cycles), kernel arithmetic done by hand, seed 001's measured table, orderings, and
ranges the seeds' claims and earlier runs give."""

import sys

import nbformat
import pytest

import rxlab
from rxlab.model import defaults
from rxlab.views.notebooks import execute, notebook_paths, records

pytestmark = pytest.mark.no_engine  # no engine code here: the compiled pass only (CONTRIBUTING.md)

# by hand: TCP payload of an MTU-1500 segment (IPv4 20 + TCP with timestamps 32 bytes of headers)
# over its bytes on the wire (Ethernet 14 + FCS 4 + preamble 8 + inter-frame gap 12)
PAYLOAD, WIRE = 1500 - 52, 1500 + 38
LINE_200 = 200 * PAYLOAD / WIRE  # Gbps of goodput at 200 Gbps: 188.30
MANA_RXBUF_PAD = 334  # aligned skb_shared_info 320 + ETH_HLEN 14 (mana.h)
MIB = 2**20


def one_core_gbps(profile):
    """Goodput one RX core carries at MTU 1500 if a packet cost only the stack: an upper bound."""
    return profile["clock_ghz"] * 1e9 / profile["stack_per_packet"] * PAYLOAD * 8 / 1e9


def window_gbps(rcvbuf, truesize, streams=1, rtt_us=50):
    """At most rcvbuf x len/truesize (len <= the MTU) in flight per stream and RTT."""
    return streams * rcvbuf * 1500 / truesize * 8 / (rtt_us * 1e-6) / 1e9


def check_00_explorer(r):
    assert r["packets"] == defaults.EXPLORER.quick  # quick mode was injected
    assert r["frags_per_page"] == 2  # 4096 // 2048: 1500 + 334 bytes rounded up to a power of two
    assert 0 < r["alloc_fast"] <= r["packets"]  # a page serves two buffers: fewer allocations than packets
    # BIAS: per page at most one atomic per fragment released plus the drain (2 buffers per page)
    assert 0.8 < r["atomic_rmw_per_packet"] <= 1.0
    assert r["queues"] == 16  # the newest release's MANA default (45b2b84ac6fd)
    rings = r["queues"] * 1024 // 2 * 4096  # the panel's queues x 1024 posted buffers, two per 4 KB page
    assert rings <= r["mem_peak_bytes"] <= 2 * rings
    # the busy RX cores (RSS: at most one per queue), each carrying at most what the stack cost alone
    # allows; the quick run's short streams leave the window binding below that and the line
    assert 1 <= r["rx_queues_busy"] <= r["queues"]
    assert r["platform"] == "typical_arm64" and r["estimate_binds"] in ("cpu", "window", "line")
    cpu = r["rx_queues_busy"] * one_core_gbps(rxlab.platform("typical_arm64"))
    assert 0.5 * min(cpu, LINE_200) < r["estimate_gbps"] <= min(cpu, LINE_200)


def check_01_buffer_geometry(r):
    assert r["frag_count_64k_1500"] == 35  # seed 000's count: 65536 // 1856
    assert r["frags_per_page_64k_1500"] == 34  # 1856 -> 1920 bytes (ARCH_DMA_MINALIGN 128 on arm64)
    assert r["frags_per_page_64k_1500_pre"] == 1
    assert r["frags_per_page_x86_4k_1500"] == 2
    assert r["last_frag_mtu_4k"] == 4096 // 2 - MANA_RXBUF_PAD == 1714
    assert r["last_frag_mtu_16k"] == 16384 // 2 - MANA_RXBUF_PAD
    assert r["last_frag_mtu_64k"] == 9000  # the adapter's MTU limit comes first
    assert r["xdp_max_frag_count"] == 1
    assert r["nic_mib_64k_ring1024_pre"] == 16 * 1024 * 65536 / MIB == 1024  # a 64 KB page per buffer
    assert r["nic_mib_64k_ring1024_post"] == 16 * -(-1024 // 34) * 65536 / MIB == 31  # 31 pages per ring


def check_02_connection_scaling(r):
    assert r["packets"] == defaults.CONNECTION_SCALING.quick
    # a quick run (20,000 packets) is largely the windows' opening (slow start from TCP_INIT_CWND,
    # sk_rcvbuf's autotuning): where a full run's RX cores bind, the window may bind instead
    def cpu_or_window(binds):  # "frag/full, ...": each layout bound by its RX cores or its window
        return all(set(b.split("/")) <= {"cpu", "window"} for b in binds.split(", "))

    # the 4-connection row per RSS seed and queue count: two flows on one queue (3 RX cores busy) or
    # spread over 4; the layouts within a few percent either way, nowhere near the seed's 15-20%
    assert r["spread4_variants"] == 24 and r["spread4_seeds"] == 8 and r["spread4_queues"] == "16, 32, 64"
    assert cpu_or_window(r["spread4_collided_binds"])
    assert -10 < r["spread4_shortfall_min"] < 0 and r["spread4_shortfall_max"] < 5
    p = rxlab.platform("affected_arm64")
    # seed 001's own rows: a shortfall at 8 connections already, none at 16
    assert r["measured_shortfall_8"] == pytest.approx((1 - 140 / 162) * 100)
    assert r["measured_shortfall_32"] == pytest.approx((1 - 136 / 183) * 100)
    assert r["onset_measured"] == 8
    # the CPU model alone: at 32 connections the line binds both layouts (a quick run: their windows,
    # within a few percent of it), across the band
    assert r["cpu_binds_32"] in ("line/line", "window/window") and r["cpu_shortfall_32"] == 0
    assert r["cpu_frag_32"] == r["cpu_full_page_32"] and 0.95 * LINE_200 < r["cpu_frag_32"] <= LINE_200 + 1e-9
    # nowhere in the band are fragments behind full pages; at its pessimistic end full pages fall behind
    assert r["max_cpu_shortfall_high_beyond_4"] < 5 and r["min_cpu_shortfall_low_beyond_4"] < -5
    # contention as a lock: at 32-64 connections the band has no width (the line binds both layouts at
    # both ends); readers woken by their data seldom return into one ring in the same hold: a few percent
    # of full pages' returns wait, each wait priced at ptr_ring_contention; without them no row's
    # pessimistic end moves by more than a few percent of the line
    assert r["band_width_32_64"] == 0
    assert 0 < r["lock_wait_full_page_32"] < 0.1 and 0 < r["lock_waited_pct_full_page_128"] < 10
    assert r["lock_reader_cycles_high_full_page_128"] == pytest.approx(
        r["lock_reader_waits_full_page_128"] * p.highs["ptr_ring_contention"])
    assert r["util_reader_high_full_page_128"] < 1 and r["shortfall_cpu_low_128"] == 0
    assert r["gbps_low_full_page_128"] == r["gbps_low_without_waits_full_page_128"] == pytest.approx(LINE_200)
    assert 0 <= r["lock_band_width"] < 0.05 * LINE_200
    # 4 connections on 3 RX cores and 4 reading cores: both layouts bound by the RX cores (fragments'
    # at most what the stack alone allows); full pages' readers seldom wait for the producer lock
    assert cpu_or_window(r["cpu_binds_4"]) and r["cpu_binds_4"].endswith("/" + r["full_page_binds_4"])
    frag_cpu, full_cpu = (b == "cpu" for b in r["cpu_binds_4"].split("/"))
    stack_only_high = 3 * p["clock_ghz"] * 1e9 / p.lows["stack_per_packet"] * PAYLOAD * 8 / 1e9
    assert r["cpu_frag_4_low"] <= r["cpu_frag_4"] <= r["cpu_frag_4_high"] < stack_only_high
    assert r["cpu_frag_4_low"] <= 139 <= r["cpu_frag_4_high"]  # fragments' measured row inside the band
    assert r["cpu_full_page_4_high"] >= 138  # and full pages' below the top of theirs
    assert r["typical_equals_affected_cpu"]  # nothing of the affected SKU's CPU costs is its own
    # the device factor is the table: 136 Gbps at 32 connections, 136 / 188.3 of the line, zero cycles
    assert r["model_frag_32"] == pytest.approx(136.0) and r["binds_32"] in ("device/device", "device/window")
    assert r["device_frag_32"] == pytest.approx(136 / LINE_200) and r["device_cycles"] == 0
    # cross-CPU refcount atomics per packet (on the reading CPUs): at least one per 4 KB page of two
    # buffers, at most one per fragment released
    assert 0.4 < r["remote_atomics_per_packet_32"] < 1.0
    # cycles needed at 32 connections: the busy reading cores at 3 GHz carrying the measured 136 Gbps
    assert r["reader_cores_32"] == 32  # a reading CPU per connection (reader_cpus 64)
    assert r["cycles_needed_frag_32"] == pytest.approx(
        r["reader_cores_32"] * p["clock_ghz"] * 1e9 * PAYLOAD * 8 / 136e9)
    assert p["copy_to_user_per_byte"] * 1448 < r["model_cycles_frag_32"] < r["cycles_needed_frag_32"]
    missing = r["cycles_needed_frag_32"] - r["model_cycles_frag_32"]
    assert r["remote_atomic_cycles_needed_32"] == pytest.approx(
        p["atomic_rmw_remote"] + missing / r["remote_atomics_per_packet_32"])
    # no constant cost fits both rows, and what 32 connections need is beyond every published handoff
    assert r["remote_atomic_cycles_needed_32"] > r["remote_atomic_cycles_bound_16"] > p.highs["atomic_rmw_remote"]
    assert r["remote_atomic_cycles_needed_32"] > 10 * p.highs["atomic_rmw_remote"]
    # up-front references save the drain: one local atomic per 4 KB page of two buffers
    assert r["upfront_atomics_saved_per_packet"] == pytest.approx(0.5, abs=0.01)
    assert r["upfront_cycles_saved_32"] == pytest.approx(0.5 * p["atomic_rmw"], rel=0.05)
    # worth ~1% where the RX cores bind (4 connections, CPU model alone), nothing where the window does;
    # the device's ceiling is below them
    assert (0 < r["upfront_gain_cpu_4"] < 2) if frag_cpu else r["upfront_gain_cpu_4"] == 0
    assert r["upfront_gain_4"] == 0
    assert r["upfront_gain_32_high"] == 0 and r["upfront_binds_32"] == "device"  # the same ceiling
    # each CPU class: the class that binds at 4 connections is fully busy; from 8 up, at the line, both
    # classes have cycles to spare at the estimate
    for util, cpu in ((r["util_napi_full_page_4"], full_cpu), (r["util_napi_frag_4"], frag_cpu)):
        assert util == pytest.approx(1.0) if cpu else 0.5 < util < 1
    assert r["max_util_napi_beyond_4"] < 0.9 and r["max_util_reader_beyond_4"] < 0.9
    # RSS queue occupancy (Toeplitz, seed 0): 4 flows on 3 queues; 8 leave queues idle; 128 pile up
    assert r["occupancy_busy_4"] == 3 and r["occupancy_idle_8"] >= 8 and r["occupancy_max_128"] > 128 / 16


def check_03_large_pages(r):
    assert r["packets"] == defaults.LARGE_PAGES.quick and r["sweep_runs"] == 5 * 4 * 2
    # 64 KB pages, MTU 1500: 34 slices of 1920 bytes; a full page charges the page + 256 (sk_buff)
    assert (r["frags_per_page"], r["truesize_full_page"], r["truesize_pp_frag"]) == (34, 65536 + 256, 2112)
    p = rxlab.platform("typical_arm64")
    # one stream: fragments bound by their reading core (below what their RX core carries, at most what
    # the stack alone allows one core), full pages by their window (6 MB rcvbuf, 50 us RTT)
    assert r["binds_pp_frag"] == "reader_cpu"
    assert 0.5 * r["gbps_cpu_pp_frag"] < r["gbps_pp_frag"] < r["gbps_cpu_pp_frag"] <= one_core_gbps(p)
    assert r["binds_full_page"] == "window" and 5 < r["gbps_full_page"] < window_gbps(6291456, 65792)
    assert r["gain_pct"] == pytest.approx((r["gbps_pp_frag"] / r["gbps_full_page"] - 1) * 100)
    # the band: fragments' reading core at every cost's high / low end; the gain's band reaches seed 000's ~200%
    assert r["gbps_pp_frag_low"] <= r["gbps_pp_frag"] <= r["gbps_pp_frag_high"] <= one_core_gbps(
        p.end("low"))
    assert r["gain_low"] < 200 < r["gain_high"] and r["gain_low"] <= r["gain_pct"] <= r["gain_high"]
    # the RX cores alone: full pages' DMA map + unmap and page_pool round trip per packet
    assert r["cpu_gain_pct"] == pytest.approx((r["gbps_cpu_pp_frag"] / r["gbps_cpu_full_page"] - 1) * 100)
    assert 0 < r["cpu_gain_pct"] < 30
    # behind an IOMMU full pages' RX core binds below their window: the window step gives nothing
    assert r["binds_full_page_iommu"] == "cpu" and r["gbps_full_page_iommu"] < r["gbps_full_page"]
    assert r["window_step_iommu_gbps"] == 0
    # the window step lifts full pages from their window to their RX core's bound ...
    assert r["window_step_binds"] == "cpu"
    assert r["window_step_gbps"] == pytest.approx(r["gbps_cpu_full_page"] - r["gbps_full_page"])
    # ... then the DMA step drops the driver's map + unmap per packet (40 + 30 cycles in the profile)
    # for the fragment run's syncs (under a cycle per packet): one RX core's bound grows as 1 / cycles
    def dma_step(cycles, dma):  # at least: the syncs left cost under a cycle
        return p["clock_ghz"] * PAYLOAD * 8 * (1 / (cycles - dma + 1) - 1 / cycles)

    cycles_full, cycles_frag = (p["clock_ghz"] * PAYLOAD * 8 / r[g] for g in ("gbps_cpu_full_page", "gbps_cpu_pp_frag"))
    dma = p["dma_map"] + p["dma_unmap"]
    assert dma == pytest.approx((3.4 + 6.8) * 3.0)  # x86's dma-direct figures in ns, at 3 GHz
    lo = dma_step(cycles_full, dma)
    # ... but the reading core (its copy to user, wake-ups and frees of full pages) binds first: the
    # step stops at its bound, short of what the RX core's saving alone would give
    assert r["dma_step_binds"] == "reader_cpu" and 0 < r["dma_step_gbps"] < lo
    # the RX core's other savings are worth nothing while the reading core binds
    assert r["refcount_step_gbps"] == r["page_allocator_step_gbps"] == 0
    # behind an IOMMU full pages pay an SMMU map + unmap (0.1 + 0.6 us at 3 GHz) instead of dma-direct's
    dma_iommu = p["dma_map_iommu"] + p["dma_unmap_iommu"]
    assert dma_iommu == pytest.approx((0.1 + 0.6) * 3000)
    cycles_full_iommu = cycles_full - dma + dma_iommu
    # (within 1%: the fragment run's few DMA syncs are priced as IOMMU syncs too)
    assert r["cpu_gain_iommu_pct"] == pytest.approx((cycles_full_iommu / cycles_frag - 1) * 100, rel=1e-2)
    assert r["gain_iommu_pct"] == pytest.approx((r["gbps_pp_frag"] / r["gbps_full_page_iommu"] - 1) * 100)
    # the DMA step behind an IOMMU ends where it ends without one: the same counts, the same reading core
    assert r["dma_step_iommu_binds"] == "reader_cpu"
    assert r["gbps_full_page_iommu"] + r["dma_step_iommu_gbps"] == pytest.approx(
        r["gbps_full_page"] + r["window_step_gbps"] + r["dma_step_gbps"])
    assert 0 <= r["page_alloc_per_packet_full_page"] < 0.05  # pages recycle: only the rings' first fill
    assert -1 < r["gain_16_streams_6m"] < 30  # many streams, large rcvbuf: both near the line
    assert r["gain_1_stream_128k"] > 1000  # one stream, 128 KiB: full pages starve
    # release by release (the same single stream, each release's defaults, an idle reader); each release
    # by reader over the seeds; the scoreboard's release
    assert r["seed_kernel"] == "6.17" and r["release_rows"] == 8 and r["reader_rows"] == 8 * 4
    assert r["variant_rows"] == 3 * 2 * 2 * 2
    # 6.13 is the analysis above: 6 MB tcp_rmem[2], full pages window-bound (the same run at seed 0;
    # the release table's gain is the median over 4 seeds)
    assert r["release_binds_full_6_13"] == "window" and r["split_window_6_13"] == pytest.approx(r["window_step_gbps"])
    # 6.16's 32 MB: fragments still one reading core's worth, full pages' window far less binding
    assert r["release_gbps_frag_6_16"] <= one_core_gbps(p) and r["release_gain_6_16"] < r["release_gain_6_13"] / 3
    assert r["split_window_6_16"] < r["split_window_6_13"]
    # 6.17's admission (1d2fbaad7cd8) refuses the first flight's aggregate, which is forced into the empty
    # queue and answered by a zero-window ACK (e2142825c120): the sender waits for the read, and no release
    # traps the flow with any reader; 6.17's gain lies in 6.16's band, 6.18.17's (026dfef287c0) is 6.16's
    share = {k: v for k, v in r.items() if k.startswith("trapped_share_")}
    assert len(share) == 8 * 4 and not any(share.values())
    assert not r["release_trapped_6_17"] and not r["release_trapped_7_1"]
    assert r["release_gain_low_6_16"] <= r["release_gain_6_17"] <= r["release_gain_high_6_16"]
    assert r["release_gain_6_18_17"] == pytest.approx(r["release_gain_6_16"])


def check_04_truesize_and_tcp(r):
    assert r["packets"] == defaults.TRUESIZE.quick and r["runs"] == 3 * 2 * 2 * 4
    assert r["under_reported_4k"] == 2304 - 2112 == 192  # half a 4 KB page + sk_buff vs the 1856 slice's charge
    # len/truesize of each connection's first full-sized skb (tcp_measure_rcv_mss): one 1448-byte segment
    # charged the driver's 2112 bytes (honest: 2304), or a GRO aggregate of n, charged 256 bytes (an
    # sk_buff) less for each stolen head, whose ratio stays below 1448 / (2112 - 256) (honest: 2304 - 256)
    assert (1448 * 256 // 2112) / 256 <= r["scaling_4k_reported"] < 1448 / 1856
    assert (1448 * 256 // 2304) / 256 <= r["scaling_4k_honest"] < 1448 / 2048
    assert 1856 / 2048 - 0.005 < r["scaling_4k_honest"] / r["scaling_4k_reported"] < 2112 / 2304 + 0.005
    assert r["rmem_peak_4k_honest"] > r["rmem_peak_4k_reported"]  # charged more, honestly
    # 64 KB pages, 128 KiB rcvbuf, 64 streams: full pages charge 65792 bytes per packet and stall
    # (a quick run is mostly the window's opening: the release's initial scaling_ratio, and GRO aggregates
    # admitted as one skb each; a full run falls under window_gbps(131072, 65792, streams=64))
    assert r["stalls_64k_full_page_128k"] > 0
    assert r["goodput_64k_full_page_128k"] < r["goodput_64k_pp_frag_128k"] <= LINE_200
    # seed 001's v3 branch: charged as the fragments are (same truesize, same window), pinning a page per
    # packet; 7.0's fix charges the page, halving len/truesize, and where the window binds the goodput
    assert (r["v3_truesize"], r["v3_pinned"]) == (2112, 4352)
    assert r["v3_scaling"] == r["v3_frag_scaling"] and r["v3_mem_peak"] > 1.5 * r["v3_frag_mem_peak"]
    assert 0.45 < r["v3_fixed_scaling"] / r["v3_scaling"] < 0.55
    assert r["v3_fixed_goodput_small"] < 0.75 * r["v3_goodput_small"]
    # seed 000's stream per release: 5 releases x 2 RTTs, tcp_rmem[2] 6 MB and 32 MB where they differ
    assert r["tcp_table_rows"] == 2 * 2 * 2 + 3 * 2
    assert r["tcp_binds_full_6_13_6m_200us"] == "window"
    assert 0 < r["tcp_gbps_full_6_13_6m_200us"] <= window_gbps(6291456, 65792, rtt_us=200)
    assert r["tcp_gain_6_13_6m"] > 100 > r["tcp_gain_6_16_32m"] > 0  # 6 MB binds full pages, 32 MB hardly
    # 1d2fbaad7cd8 (6.17) refuses the first flight, forced in and answered by a zero-window ACK: no drop;
    # the sender waits for the read, so in a quick run full pages' window opens later than on 6.16 and
    # the gain is larger (a full run gives 6.16's); 026dfef287c0 (7.0) admits by sk_rmem_alloc <= sk_rcvbuf
    assert not r["tcp_trapped_6_17"] and r["tcp_gain_6_17_32m"] >= r["tcp_gain_6_16_32m"]
    assert r["tcp_drops_full_7_1"] == 0


def check_06_three_drivers(r):
    """Each driver's default layout at MTU 1500 on 64 KB pages, from its kernel module directly (whose
    tests work the values by hand), against what the notebook resolved through SimConfig."""
    from rxlab.kernel.bnxt import bnxt_rx_geometry
    from rxlab.kernel.mana import mana_rx_geometry
    from rxlab.kernel.mlx5 import mlx5_rx_geometry
    from rxlab.studies.geometry import REPORT_MTUS

    mana = mana_rx_geometry(65536, 1500, truesize_fix=True)
    bnxt, mlx5 = bnxt_rx_geometry(65536, 1500, queues=16), mlx5_rx_geometry(65536, 1500, queues=16)
    for name, g in (("mana", mana), ("bnxt", bnxt), ("mlx5", mlx5)):
        assert (r[f"frags_per_page_64k_{name}"], r[f"truesize_64k_{name}"]) == (g.frags_per_page, g.truesize), name
    assert r["nic_bytes_64k_mana"] == mana.nic_bytes and r["nic_bytes_64k_bnxt"] == bnxt.nic_bytes
    assert r["rows"] == 3 * 3 * len(REPORT_MTUS) * 2
    # XDP: the striding RQ's page-sized XDP stride exceeds its largest stride on 64 KB pages (every MTU);
    # MANA refuses only above MANA_XDP_MTU_MAX (3506 on 4 KB pages: MTUs 4000 and 9000 of the grid)
    assert r["refused_xdp_mlx5_64k"] == len(REPORT_MTUS) and r["refused_xdp_mana"] == 2
    # every default layout is simulated, mlx5's striding RQ and its legacy RQ too: 4 x 4/64 KB x MTU 1500/9000
    assert r["not_simulated"] == "" and r["estimate_rows"] == 4 * 2 * 2
    for d in ("mana", "bnxt", "mlx5", "mlx5_cyclic"):
        for page in (4, 64):
            for mtu in (1500, 9000):
                k, line = f"{page}k_{mtu}", 200 * (mtu - 52) / (mtu + 38)  # goodput at 200 Gbps
                assert 0 < r[f"gbps_low_{d}_{k}"] <= r[f"gbps_{d}_{k}"] <= r[f"gbps_high_{d}_{k}"] <= line, (d, k)
    # bnxt's aggregation ring on 64 KB pages: 2 x 511 buffers of 32 KB a queue (agg_factor = 65536 / 32768),
    # besides its heads, against MANA's 1024 slices of 1856 bytes, 34 to a page: more than ten times the memory
    agg = 16 * bnxt.agg_ring_size * bnxt.agg_buf_size
    assert r["mem_peak_bytes_bnxt_64k_1500"] >= agg > 10 * r["mem_peak_bytes_mana_64k_1500"]


def check_05_skb_lifecycles(r):
    assert r["packets"] == defaults.LIFECYCLES.quick and r["scenarios"] == 13
    # a page comes back once per two packets (two buffers per 4 KB page), from the NAPI CPU: into the
    # cache, or into the ring only when the cache is full; no atomic on a line another CPU wrote
    pages = r["baseline_recycle_cached"] + r["baseline_recycle_ring"]
    assert 0.3 < pages <= 0.5 and r["baseline_recycle_ring"] == r["baseline_recycle_cache_full"]
    assert r["baseline_atomic_rmw_remote"] == 0
    assert r["napi_app_recycle_ring"] == pytest.approx(pages, rel=0.05)  # all through the ring
    assert 0.3 < r["no_defer_atomic_remote"] <= 0.5  # about one refcount atomic per page is cross-CPU
    assert 16 <= r["xdp_drop_mem_peak_MiB"] < r["xdp_tx_mem_peak_MiB"]  # 4 x 1024 pages of 4 KB at least
    assert r["page_frag_dma_map"] == 1.0 and 0 < r["pp_frag_dma_map"] <= 0.5  # per buffer vs per page
    assert r["baseline_atomic_rmw"] - r["upfront_atomic_rmw"] == pytest.approx(0.5, abs=0.01)  # the drain
    assert 0.4 * 52 < r["copybreak_bytes_copied"] < 0.6 * 52  # half the packets: 52-byte ACKs, copied


CHECKS = {name[len("check_"):]: f for name, f in globals().items() if name.startswith("check_")}


def test_every_notebook_is_checked():
    assert sorted(p.stem for p in notebook_paths()) == sorted(CHECKS)


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_committed_clean_with_parameters(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit notebooks without outputs"
    assert "parameters" in code[0].metadata.get("tags", ()) and "quick = False" in code[0].source


@pytest.mark.slow
@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook(path, executed_notebook):
    CHECKS[path.stem](records(executed_notebook(path)))


@pytest.mark.slow
def test_kernel_is_this_python_and_this_rxlab(tmp_path):
    cells = [nbformat.v4.new_code_cell("quick = False", metadata={"tags": ["parameters"]}),
             nbformat.v4.new_code_cell("import sys, rxlab\nfrom rxlab.views.notebooks import record\n"
                                       "record(python=sys.executable, rxlab=rxlab.__file__, quick=quick)")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "t.ipynb")
    nb = execute(tmp_path / "t.ipynb", quick=True)
    assert records(nb) == {"python": sys.executable, "rxlab": rxlab.__file__, "quick": True}
    assert [c.metadata.get("tags") for c in nb.cells[:2]] == [["parameters"], ["injected-parameters"]]
