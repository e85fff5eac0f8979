"""Every notebook executes in quick mode, and its recorded numbers are checked against the package."""

import sys

import nbformat
import pytest

import rxlab
from rxlab.kernel.mana import mana_rxbuf_pad
from rxlab.notebooks import execute, notebook_paths, records


def check_00_explorer(r):
    res = rxlab.simulate(rxlab.SimConfig(packets=r["packets"], samples=100))  # the panel's defaults
    assert r["packets"] == 3000  # quick mode was injected
    assert r["alloc_fast"] == res.counter("alloc_fast") > 0
    assert r["atomic_rmw_per_packet"] == pytest.approx(res.metrics()["atomic_rmw_per_packet"])
    assert r["mem_peak_bytes"] == res.metrics()["mem_peak_bytes"]
    assert r["frags_per_page"] == 2


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
    base = rxlab.simulate(rxlab.SimConfig(page_size=4096, strategy="pp_frag", packets=3000))
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
             nbformat.v4.new_code_cell("import sys, rxlab\nfrom rxlab.notebooks import record\n"
                                       "record(python=sys.executable, rxlab=rxlab.__file__, quick=quick)")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "t.ipynb")
    nb = execute(tmp_path / "t.ipynb", quick=True)
    assert records(nb) == {"python": sys.executable, "rxlab": rxlab.__file__, "quick": True}
    assert [c.metadata.get("tags") for c in nb.cells[:2]] == [["parameters"], ["injected-parameters"]]
