"""Every notebook executes in quick mode, and its recorded numbers are checked against the package."""

import sys

import nbformat
import pytest

import rxlab
from rxlab.kernel.mana import mana_rxbuf_pad
from rxlab.studies.claims import SEED000, SEED001, seed001_comparison
from rxlab.views.notebooks import execute, notebook_paths, records


def check_00_explorer(r):
    res = rxlab.simulate(rxlab.SimConfig(packets=r["packets"], samples=100))  # the panel's defaults
    assert r["packets"] == 3000  # quick mode was injected
    assert r["alloc_fast"] == res.counter("alloc_fast") > 0
    assert r["atomic_rmw_per_packet"] == pytest.approx(res.metrics()["atomic_rmw_per_packet"])
    assert r["mem_peak_bytes"] == res.metrics()["mem_peak_bytes"]
    assert r["frags_per_page"] == 2
    t = rxlab.throughput(res, rxlab.platform(r["platform"])).iloc[0]  # the panel's default platform
    assert r["platform"] == "typical_arm64" and (r["estimate_gbps"], r["estimate_binds"]) == (pytest.approx(t.gbps), t.binds)


def check_01_buffer_geometry(r):
    g = rxlab.mana_rx_geometry(65536, 1500, False, "post", "arm64")
    assert r["frag_count_64k_1500"] == g.frag_count == 35  # seed 000's count
    assert r["frags_per_page_64k_1500"] == g.frags_per_page == 34  # 1856 -> 1920 bytes on arm64
    assert r["frags_per_page_64k_1500_pre"] == 1
    assert r["frags_per_page_x86_4k_1500"] == 2
    pad = mana_rxbuf_pad()
    assert r["last_frag_mtu_4k"] == 4096 // 2 - pad == 1714
    assert r["last_frag_mtu_16k"] == 16384 // 2 - pad
    assert r["last_frag_mtu_64k"] == 9000  # the adapter's MTU limit comes first
    assert r["xdp_max_frag_count"] == 1
    pre = rxlab.mana_rx_geometry(65536, 1500, False, "pre", "arm64")
    assert r["nic_mib_64k_ring1024_pre"] == pre.nic_bytes / 2**20 == 1024
    assert r["nic_mib_64k_ring1024_post"] == g.nic_bytes / 2**20


def check_02_connection_scaling(r):
    assert r["packets"] == 20_000
    n = r["packets"]
    cmp = seed001_comparison(packets=n).set_index(["platform", "connections"])
    aff, typ = cmp.loc["affected_arm64"], cmp.loc["typical_arm64"]
    assert r["measured_shortfall_32"] == pytest.approx((1 - 136 / 183) * 100)  # seed 001's table
    assert (r["model_frag_32"], r["model_full_page_32"]) == pytest.approx(
        (aff.loc[32, "model_frag"], aff.loc[32, "model_full_page"]))
    assert r["binds_32"] == aff.loc[32, "binds"] == "line/line"
    # the model does not reproduce the shortfall beyond 16 connections, and the notebook says so
    assert r["max_model_shortfall_beyond_16"] < 0.5 and abs(r["model_shortfall_32"]) < 0.5
    assert r["model_frag_4"] == pytest.approx(aff.loc[4, "model_frag"]) and abs(r["model_frag_4"] - 139) < 3  # fitted
    assert r["typical_frag_ahead_4"] == pytest.approx(-typ.loc[4, "shortfall_model"]) and 2 < r["typical_frag_ahead_4"] < 10
    p = rxlab.platform("affected_arm64")
    sim = {s: rxlab.simulate(rxlab.SimConfig(strategy=s, connections=32, packets=n, **SEED001))
           for s in ("pp_frag", "pp_frag_upfront")}
    t = rxlab.throughput(sim["pp_frag"], p).iloc[0]
    need = t.cycles_per_packet * t.gbps_cpu / 136
    remote = sim["pp_frag"].metrics()["atomic_rmw_remote_per_packet"]
    assert r["cycles_needed_frag_32"] == pytest.approx(need)
    assert r["remote_atomic_cycles_needed_32"] == pytest.approx(p["atomic_rmw_remote"] + (need - t.cycles_per_packet) / remote)
    # no constant cost fits both rows: 16 connections bound it below what 32 connections need
    assert r["remote_atomic_cycles_needed_32"] > r["remote_atomic_cycles_bound_16"] > 10 * p["atomic_rmw_remote"]
    assert r["remote_atomics_per_packet_128"] == pytest.approx(remote)
    assert abs(r["remote_atomics_per_packet_4"] - remote) < 0.01 and remote > 0.4  # flat in connections
    # ... but beyond 16 connections (MANA's 16 queues) a page's two fragments have two readers
    reads = {c: rxlab.simulate(rxlab.SimConfig(connections=c, packets=n, **SEED001)) for c in (16, 32)}
    reads = {c: x.counter("refcnt_read_remote") / x.metrics()["packets"] for c, x in reads.items()}
    assert (r["remote_reads_per_packet_16"], r["remote_reads_per_packet_32"]) == pytest.approx((reads[16], reads[32]))
    assert reads[16] < 0.05 and 0.35 < reads[32] < 0.55
    a, b = (sim[s].metrics()["atomic_rmw_per_packet"] for s in ("pp_frag", "pp_frag_upfront"))
    assert r["upfront_atomics_saved_per_packet"] == pytest.approx(a - b) and abs(a - b - 0.5) < 0.01
    assert 0.5 < r["upfront_gain_4"] < 2 and 0 < r["upfront_gain_32_what_if"] < 1


def check_03_large_pages(r):
    assert r["packets"] == 5000 and r["sweep_runs"] == 40
    n = r["packets"]
    pre, post = (rxlab.mana_rx_geometry(65536, 1500, False, v, "arm64") for v in ("pre", "post"))
    assert (r["frags_per_page"], r["truesize_full_page"], r["truesize_pp_frag"]) == (34, 65792, 2112) == (
        post.frags_per_page, pre.truesize, post.truesize)
    prof = rxlab.platform("typical_arm64")
    iommu = prof.with_values(iommu=1, source="test")
    frag, full = (rxlab.simulate(rxlab.SimConfig(strategy=s, packets=n, tcp_rmem=6291456, **SEED000))
                  for s in ("pp_frag", "full_page"))  # the notebook's RMEM: tcp_rmem[2] before 6.16
    tf, tu = rxlab.throughput(frag, prof).iloc[0], rxlab.throughput(full, prof).iloc[0]
    assert (r["gbps_pp_frag"], r["binds_pp_frag"]) == (pytest.approx(tf.gbps), "cpu")
    assert (r["gbps_full_page"], r["binds_full_page"]) == (pytest.approx(tu.gbps), "window")
    assert r["gain_pct"] == pytest.approx((tf.gbps / tu.gbps - 1) * 100) and 140 < r["gain_pct"] < 200
    assert r["cpu_gain_pct"] == pytest.approx((tf.gbps_cpu / tu.gbps_cpu - 1) * 100) and 2 < r["cpu_gain_pct"] < 10
    ti, ui = rxlab.throughput(frag, iommu).iloc[0], rxlab.throughput(full, iommu).iloc[0]
    assert r["gain_iommu_pct"] == pytest.approx((ti.gbps / ui.gbps - 1) * 100) and r["gain_iommu_pct"] > r["gain_pct"]
    assert ui.binds == "cpu" and r["window_step_iommu_gbps"] == 0  # behind an IOMMU the window no longer binds
    # the window step lifts full pages from their window to their CPU bound; the DMA step then prices
    # the fragment run's DMA cycles instead of the driver's map + unmap per packet
    assert r["window_step_gbps"] == pytest.approx(tu.gbps_cpu - tu.gbps)
    dma = {k: rxlab.attribution_frame(x, prof).groupby("category").cycles_per_packet.sum()["dma"] for k, x in
           (("frag", frag), ("full", full))}
    assert dma["full"] == pytest.approx(70) and dma["frag"] < 1  # dma_map 40 + dma_unmap 30 per packet
    after = tu.gbps_cpu * tu.cycles_per_packet / (tu.cycles_per_packet - dma["full"] + dma["frag"])
    assert r["dma_step_gbps"] == pytest.approx(after - tu.gbps_cpu)
    assert r["refcount_step_gbps"] < 0 < r["dma_step_gbps"] and abs(r["page_allocator_step_gbps"]) < 0.5
    assert r["dma_step_iommu_gbps"] > 20
    assert r["page_alloc_per_packet_full_page"] == pytest.approx(full.counter("page_alloc_order0") / n)
    assert r["page_alloc_per_packet_full_page"] < 0.05  # pages recycle: only the rings' first fill

    def gain(c, rmem):
        g = [rxlab.throughput(rxlab.simulate(rxlab.SimConfig(strategy=s, packets=n, **{**SEED000, "connections": c,
                                                                          "tcp_rmem": rmem})), prof).gbps[0]
             for s in ("pp_frag", "full_page")]
        return (g[0] / g[1] - 1) * 100
    assert r["gain_16_streams_6m"] == pytest.approx(gain(16, 6291456)) and r["gain_16_streams_6m"] < 30
    assert r["gain_1_stream_128k"] == pytest.approx(gain(1, 131072)) and r["gain_1_stream_128k"] > 1000
    # the newest release's 32 MB: one stream no longer window-bound, a few percent (the CPU difference)
    assert r["gain_1_stream_32m"] == pytest.approx(gain(1, 32 << 20)) and 0 < r["gain_1_stream_32m"] < 20


def _tcp_run(**kw):
    res = rxlab.simulate(rxlab.SimConfig(packets=3000, **kw))
    return res, res.connections_frame()["scaling"].mean() / 256, res.samples_frame()["rmem"].max()


def check_04_truesize_and_tcp(r):
    assert r["packets"] == 3000 and r["runs"] == 48
    g = rxlab.mana_rx_geometry(4096, 1500, False, "post", "arm64")
    assert r["under_reported_4k"] == g.truesize_pinned - g.truesize == 192
    _, scaling, rmem = _tcp_run(page_size=4096, strategy="pp_frag", tcp_rmem=6291456)
    assert (r["scaling_4k_reported"], r["rmem_peak_4k_reported"]) == (scaling, rmem)
    _, scaling_h, rmem_h = _tcp_run(page_size=4096, strategy="pp_frag", tcp_rmem=6291456, truesize_honest=True)
    assert (r["scaling_4k_honest"], r["rmem_peak_4k_honest"]) == (scaling_h, rmem_h)
    assert scaling_h < scaling and rmem_h > rmem  # honest charging: lower ratio, more memory charged
    fp, _, _ = _tcp_run(page_size=65536, strategy="full_page", tcp_rmem=131072)
    assert r["goodput_64k_full_page_128k"] == pytest.approx(fp.goodput_gbps)
    assert r["stalls_64k_full_page_128k"] == fp.metrics()["zero_window_stalls"] > 0
    assert r["goodput_64k_full_page_128k"] < 0.2 * r["goodput_64k_pp_frag_128k"]


def check_05_skb_lifecycles(r):
    assert r["packets"] == 3000 and r["scenarios"] == 13
    base = rxlab.simulate(rxlab.SimConfig(page_size=4096, strategy="pp_frag", queues=4, packets=3000))
    assert r["baseline_recycle_cached"] == pytest.approx(base.counter("recycle_cached") / 3000)
    assert r["baseline_recycle_cached"] > 0 and r["baseline_recycle_ring"] == 0
    assert r["napi_app_recycle_ring"] == pytest.approx(r["baseline_recycle_cached"])  # all through the ring
    assert r["no_defer_atomic_remote"] > 0
    assert r["xdp_tx_mem_peak_MiB"] > r["xdp_drop_mem_peak_MiB"]
    assert r["page_frag_dma_map"] == 1.0 > r["pp_frag_dma_map"]
    assert r["upfront_atomic_rmw"] < r["baseline_atomic_rmw"]
    assert r["copybreak_bytes_copied"] > 0


CHECKS = {name[len("check_"):]: f for name, f in globals().items() if name.startswith("check_")}


def test_every_notebook_is_checked():
    assert sorted(p.stem for p in notebook_paths()) == sorted(CHECKS)


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_committed_clean_with_parameters(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit notebooks without outputs"
    assert "parameters" in code[0].metadata.get("tags", ()) and "quick = False" in code[0].source


@pytest.mark.jit_only  # interpreted, each notebook would take minutes
@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook(path, executed_notebook):
    CHECKS[path.stem](records(executed_notebook(path)))


def test_kernel_is_this_python_and_this_rxlab(tmp_path):
    cells = [nbformat.v4.new_code_cell("quick = False", metadata={"tags": ["parameters"]}),
             nbformat.v4.new_code_cell("import sys, rxlab\nfrom rxlab.views.notebooks import record\n"
                                       "record(python=sys.executable, rxlab=rxlab.__file__, quick=quick)")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "t.ipynb")
    nb = execute(tmp_path / "t.ipynb", quick=True)
    assert records(nb) == {"python": sys.executable, "rxlab": rxlab.__file__, "quick": True}
    assert [c.metadata.get("tags") for c in nb.cells[:2]] == [["parameters"], ["injected-parameters"]]
