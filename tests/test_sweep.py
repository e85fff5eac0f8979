"""Sweeps: grid expansion and its errors, the result cache (resume after a crash and after a real
kill -9, model version), serial == process pool == Dask, the progress bar, the CLI."""

import os
import signal
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from procs import alive, children, started, wait_for

import rxlab
import rxlab.studies.cache
import rxlab.studies.sweep
from rxlab.cli import main
from rxlab.model.config import SimConfig, xdp_only
from rxlab.model.simulate import simulate
from rxlab.studies.grid import CLAIMS_GRID, expand
from rxlab.studies.sweep import sweep_rows

ROOT = Path(__file__).resolve().parents[1]
NOJIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"
N = 300 if NOJIT else 3000  # packets per run
# small rings, queues and skb table: a run costs ~0.1 s even interpreted
SMALL = {"ring_size": [128], "queues": [2], "connections": [8], "max_skbs": [256], "packets": [N]}
GRID = {"page_size": [4096, 65536], "mtu": [1500, 9000], "xdp": ["off", "pass"],
        "strategy": ["full_page", "pp_frag"], **SMALL}
RUNS = 14  # 16 combinations less XDP at MTU 9000 on 4 KB pages (x 2 strategies)


def quiet_sweep(grid, seeds=None, **kw):
    """sweep() without a progress bar or the invalid-combinations warning (tested once, below)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rxlab.sweep(grid, seeds, progress=False, **kw)


def files(cache):
    return sorted(Path(cache).rglob("*.parquet"))


def test_grid_rows_invalid_combinations_and_categoricals(tmp_path, counted):
    with pytest.warns(UserWarning, match="2 configurations of the grid are invalid combinations and were not run"):
        df = rxlab.sweep(GRID, seeds=2, cache=tmp_path, workers=1, progress=False)
    assert len(df) == 2 * RUNS and len(counted) == 2 * RUNS
    assert df.attrs["sweep"]["computed"] == 2 * RUNS
    assert not df.duplicated(["page_size", "mtu", "xdp", "strategy", "seed"]).any()
    invalid = pd.DataFrame(df.attrs["invalid"])
    assert len(invalid) == 2
    assert (invalid.page_size == 4096).all() and (invalid.mtu == 9000).all()
    assert invalid.error.str.contains("mtu=9000 is not allowed: 68..3506 .MANA_XDP_MTU_MAX").all()
    assert list(df.strategy.cat.categories) == ["full_page", "pp_frag"]  # grid order
    assert list(df.page_size.cat.categories) == [4096, 65536]
    assert set(df.xdp) == {"()", "(1.0, 0.0, 0.0, 0.0)"}
    assert {"alloc_fast", "recycle_ring_full", "mem_peak_bytes", "goodput_gbps"} <= set(df.columns)


def test_rows_are_what_simulate_returns(tmp_path):
    cfg = SimConfig(page_size=65536, mtu=1500, ring_size=128, queues=2, connections=8, max_skbs=256,
                    packets=N, seed=7)
    df = quiet_sweep([cfg], cache=tmp_path)
    want = simulate(cfg).to_frame()
    got = df.astype({c: object for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)})
    assert got.iloc[0].to_dict() == want.iloc[0].to_dict()


def test_sweep_rows_plain_from_the_study_cache_without_a_bar(tmp_path, monkeypatch, counted, capsys):
    """What the claims and notebooks run: Result.to_frame()'s rows and dtypes, cached in the study cache."""
    monkeypatch.setenv(rxlab.studies.cache.CACHE_ENV, str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    cfg = SimConfig(**{k: v[0] for k, v in SMALL.items()}, strategy="full_page")
    df = sweep_rows([cfg, cfg.replace(seed=1)])
    assert len(counted) == 2 and len(files(tmp_path)) == 2 and capsys.readouterr().err == ""
    pd.testing.assert_frame_equal(df.iloc[[1]].reset_index(drop=True), simulate(cfg.replace(seed=1)).to_frame())
    again = sweep_rows([cfg.replace(seed=1), cfg])
    assert len(counted) == 2 and again.attrs["sweep"]["cached"] == 2
    pd.testing.assert_frame_equal(again.iloc[::-1].reset_index(drop=True), df)


def test_study_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(rxlab.studies.cache.CACHE_ENV, str(tmp_path))
    assert rxlab.studies.cache.study_cache_dir() == tmp_path
    monkeypatch.delenv(rxlab.studies.cache.CACHE_ENV)
    monkeypatch.chdir(tmp_path)  # the checkout's, wherever it runs from (the notebooks run in notebooks/)
    assert rxlab.studies.cache.study_cache_dir() == ROOT / ".rxlab-cache"
    assert rxlab.studies.cache.default_cache_dir() == Path(".rxlab-cache")


def test_equal_spellings_are_one_run(tmp_path):
    base = {"ring_size": 128, "queues": 2, "connections": 8, "max_skbs": 256, "packets": N}
    grid = [{**base, "xdp": "pass", "link_gbps": 200}, {**base, "xdp": [1, 0, 0, 0]},
            {**base, "xdp": xdp_only("pass"), "link_gbps": 200.0}, SimConfig(**base, xdp=(1.0, 0.0, 0.0, 0.0))]
    configs, invalid = expand(grid)
    assert len(configs) == 1 and invalid == []
    assert len(quiet_sweep(grid, cache=tmp_path)) == 1


def test_reconfigurations_in_a_grid(tmp_path):
    grid = {"reconfigs": [[], [{"at_packet": N // 2, "mtu": 9000}], (rxlab.Reconfig(N // 2, mtu=9000),),
                          [{"at_packet": N // 2, "xdp": "pass"}]], **SMALL}
    df = quiet_sweep(grid, cache=tmp_path, workers=1)
    assert list(df.reconfigs) == [
        "()",
        f"({{'at_packet': {N // 2}, 'mtu': 9000, 'xdp': None, 'fail': False}},)",
        f"({{'at_packet': {N // 2}, 'mtu': None, 'xdp': (1.0, 0.0, 0.0, 0.0), 'fail': False}},)",
    ]
    assert df.mtu.astype(int).tolist() == [1500] * 3  # the configured MTU; the change is in reconfigs


@pytest.mark.parametrize("grid,seeds,kw,needle", [
    ({"mtus": [1500]}, None, {}, "grid field='mtus' is not allowed: a SimConfig field"),
    ({"strategy": ["pp_frag", "bogus"]}, None, {}, "strategy='bogus' is not allowed: one of"),
    ({"page_size": [4096, 5000]}, None, {}, "page_size=5000 is not allowed"),
    ({"mtu": ["1500"]}, None, {}, "mtu='1500' is not allowed"),
    ({"mtu": 1500}, None, {}, "mtu=1500 is not allowed: a non-empty list of values"),
    ({"mtu": []}, None, {}, "mtu=[] is not allowed: a non-empty list"),
    ({"connections": [4, 0]}, None, {}, "connections=0 is not allowed: 1..65536"),
    ({"xdp": ["off", "maybe"]}, None, {}, "xdp='maybe' is not allowed"),
    ({"reconfigs": [[{"at": 5}]]}, None, {}, "reconfigs={'at': 5} is not allowed"),
    ([{"page_size": 4096}, 3], None, {}, "grid=3 is not allowed"),
    ("grid.toml", None, {}, "grid='grid.toml' is not allowed"),
    ({"mtu": [1500]}, 0, {}, "seeds=0 is not allowed"),
    ({"mtu": [1500]}, [1, -1], {}, "seeds=-1 is not allowed"),
    ({"seed": [1, 2]}, 3, {}, "seeds=3 is not allowed: not together with a 'seed'"),
    ({"mtu": [1500]}, None, {"workers": 0}, "workers=0 is not allowed"),
])
def test_bad_grid_values_name_the_field(tmp_path, counted, grid, seeds, kw, needle):
    with pytest.raises(ValueError) as e:
        rxlab.sweep(grid, seeds, cache=tmp_path, progress=False, **kw)
    assert needle in str(e.value)
    assert counted == [] and files(tmp_path) == []


def test_claims_grid():
    configs, invalid = expand(CLAIMS_GRID)
    assert len(configs) + len(invalid) == 3 * 2 * 2 * 4 * 3
    assert len(invalid) == 12  # XDP at MTU 9000 on 4 KB pages, for 4 connection counts x 3 strategies
    assert all(p["page_size"] == 4096 and p["mtu"] == 9000 and "MANA_XDP_MTU_MAX" in p["error"] for p in invalid)


def test_resume_after_a_crash_recomputes_exactly_the_missing_runs(tmp_path, monkeypatch):
    full = quiet_sweep(GRID, cache=tmp_path / "reference", workers=1)
    ran = []

    def crashing(cfg):
        if len(ran) == 5:
            raise RuntimeError("simulated crash")
        ran.append(cfg)
        return simulate(cfg)

    monkeypatch.setattr(rxlab.studies.sweep, "simulate", crashing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        quiet_sweep(GRID, cache=tmp_path / "c", workers=1)
    done = {p: p.stat().st_mtime_ns for p in files(tmp_path / "c")}
    assert len(done) == 5
    resumed = []
    monkeypatch.setattr(rxlab.studies.sweep, "simulate", lambda cfg: resumed.append(cfg) or simulate(cfg))
    df = quiet_sweep(GRID, cache=tmp_path / "c", workers=1)
    assert len(resumed) == RUNS - 5 and not set(resumed) & set(ran)
    assert df.attrs["sweep"] == {**df.attrs["sweep"], "computed": RUNS - 5, "cached": 5}
    assert all(p.stat().st_mtime_ns == t for p, t in done.items())  # finished runs not rewritten
    pd.testing.assert_frame_equal(df, full)
    resumed.clear()
    quiet_sweep(GRID, cache=tmp_path / "c", workers=1)
    assert resumed == []


def test_model_version_invalidates_the_cache(tmp_path, counted, monkeypatch):
    quiet_sweep(GRID, cache=tmp_path, workers=1)
    assert len(counted) == RUNS
    quiet_sweep(GRID, cache=tmp_path, workers=1)
    assert len(counted) == RUNS
    v = rxlab.studies.cache.MODEL_VERSION
    monkeypatch.setattr(rxlab.studies.cache, "MODEL_VERSION", v + 1)
    df = quiet_sweep(GRID, cache=tmp_path, workers=1)
    assert len(counted) == 2 * RUNS and df.attrs["sweep"]["computed"] == RUNS
    assert {p.parent.parent.name for p in files(tmp_path)} == {f"model-{v}", f"model-{v + 1}"}


def test_a_damaged_or_half_written_file_is_never_read(tmp_path, counted):
    grid = {**GRID, "xdp": ["off"], "mtu": [1500]}
    quiet_sweep(grid, cache=tmp_path, workers=1)
    a, b, *_ = files(tmp_path)
    a.write_bytes(a.read_bytes()[:100])  # truncated in place (not something our writes do)
    (b.parent / f".{b.stem}.xyz.tmp").write_bytes(b"PAR1 half")  # a writer killed mid-write
    b.unlink()
    counted.clear()
    df = quiet_sweep(grid, cache=tmp_path, workers=1)
    assert {rxlab.studies.cache.run_key(c) for c in counted} == {a.stem, b.stem}
    assert df.attrs["sweep"]["computed"] == 2
    pq.read_table(a)  # rewritten whole


CHILD = """
import sys, time
import rxlab, rxlab.studies.sweep
from rxlab.model.simulate import simulate
def slow(cfg):  # long enough runs that the kill lands mid-sweep
    time.sleep(0.2)
    return simulate(cfg)
rxlab.studies.sweep.simulate = slow  # forked workers inherit it
rxlab.sweep(eval(sys.argv[1]), 3, cache=sys.argv[2], workers=2, progress=False)
"""


# about processes (a kill -9, pool workers that must exit) and the cache: interpreted, the engine in
# the child and its workers adds nothing the compiled pass and the oracles do not check
@pytest.mark.jit_only
def test_kill_9_mid_sweep_then_resume(tmp_path, counted):
    cache = tmp_path / "c"
    total = 3 * RUNS
    with started([sys.executable, "-c", CHILD, repr(GRID), str(cache)], cwd=ROOT, stderr=subprocess.DEVNULL) as p:
        # a cold numba cache compiles first
        wait_for(lambda: len(files(cache)) >= 4 or p.poll() is not None, 600)
        workers = children(p.pid)
        try:
            os.kill(p.pid, signal.SIGKILL)  # the sweep's process only: its workers must notice and exit
            p.wait()
            wait_for(lambda: not any(map(alive, workers)), 10)
            left = [w for w in workers if alive(w)]
        finally:  # the sweep reaped, its workers are killed one by one
            for w in workers:
                try:
                    os.kill(w, signal.SIGKILL)
                except OSError:
                    pass
    assert len(workers) == 2 and not left, "pool workers outlived the sweep"
    done = {f: f.stat().st_mtime_ns for f in files(cache)}
    assert 4 <= len(done) < total, "the kill should land mid-sweep"
    for f in done:
        assert pq.read_table(f).num_rows == 1  # every result file whole
    df = quiet_sweep(GRID, 3, cache=cache, workers=1)
    assert len(counted) == total - len(done) == df.attrs["sweep"]["computed"]
    assert all(f.stat().st_mtime_ns == t for f, t in done.items())
    pd.testing.assert_frame_equal(df, quiet_sweep(GRID, 3, cache=tmp_path / "reference", workers=1))


@pytest.fixture(scope="module")
def dask_client():
    """A local Dask cluster of two single-threaded worker processes (needs the dask extra)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.mark.jit_only  # the process pool and Dask carry runs; the engine is the same serially
def test_serial_process_pool_and_dask_agree(tmp_path, dask_client):
    serial = quiet_sweep(GRID, 2, cache=tmp_path / "serial", workers=1)
    pool = quiet_sweep(GRID, 2, cache=tmp_path / "pool", workers=2)
    dask = quiet_sweep(GRID, 2, cache=tmp_path / "dask", client=dask_client)
    assert all(df.attrs["sweep"]["computed"] == 2 * RUNS for df in (serial, pool, dask))
    pd.testing.assert_frame_equal(serial, pool)
    pd.testing.assert_frame_equal(serial, dask)


@pytest.mark.jit_only  # about the pool's start method; the engine is the same serially
def test_a_pool_in_a_jupyter_kernel_comes_from_a_fork_server(tmp_path, monkeypatch):
    """A Jupyter kernel runs threads, and a process with threads is not safely forked."""
    assert rxlab.studies.sweep._start_method() == "fork"
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert rxlab.studies.sweep._start_method() == "forkserver"
    pool = quiet_sweep(GRID, 1, cache=tmp_path / "pool", workers=2)
    pd.testing.assert_frame_equal(pool, quiet_sweep(GRID, 1, cache=tmp_path / "serial", workers=1))


def test_cli_on_a_dask_scheduler(tmp_path, dask_client, capsys):
    toml = tmp_path / "grid.toml"
    toml.write_text('page_size = [4096, 65536]\nring_size = [128]\nqueues = [2]\nconnections = [8]\n'
                    f'max_skbs = [256]\npackets = [{N}]\n')
    out = tmp_path / "results.parquet"
    argv = ["sweep", "--grid", str(toml), "--out", str(out), "--cache", str(tmp_path / "c"), "--seeds", "2",
            "--scheduler", dask_client.scheduler.address]
    assert main(argv) == 0
    assert "4 runs (4 computed, 0 from the cache" in capsys.readouterr().out
    want = quiet_sweep({"page_size": [4096, 65536], **SMALL}, 2, cache=tmp_path / "serial", workers=1)
    pd.testing.assert_frame_equal(pd.read_parquet(out), want, check_categorical=False, check_dtype=False)


def test_progress_bar_silent_in_ci(tmp_path, monkeypatch, capsys):
    grid = {**GRID, "xdp": ["off"], "mtu": [1500], "page_size": [4096]}
    monkeypatch.delenv("CI", raising=False)
    rxlab.sweep(grid, cache=tmp_path, workers=1)
    assert "rxlab sweep" in capsys.readouterr().err
    monkeypatch.setenv("CI", "true")
    rxlab.sweep(grid, cache=tmp_path, workers=1)
    assert capsys.readouterr().err == ""


def test_progress_callback_counts_cached_then_computed_runs(tmp_path, capsys):
    """A callable progress gets (done, total): the cached runs first, then one call per run computed;
    no bar is drawn."""
    grid = {**GRID, "xdp": ["off"], "mtu": [1500]}
    rxlab.sweep({**grid, "page_size": [4096]}, cache=tmp_path, workers=1, progress=False)
    calls = []
    rxlab.sweep(grid, cache=tmp_path, workers=1, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(2, 4), (3, 4), (4, 4)] and capsys.readouterr().err == ""


def test_cli(tmp_path, capsys):
    toml = tmp_path / "grid.toml"
    toml.write_text('page_size = [4096, 65536]\nmtu = [1500, 9000]\nxdp = ["off", "pass"]\n'
                    'strategy = ["full_page", "pp_frag"]\nring_size = [128]\nqueues = [2]\nconnections = [8]\n'
                    f'max_skbs = [256]\npackets = [{N}]\n')
    out = tmp_path / "results.parquet"
    argv = ["sweep", "--grid", str(toml), "--out", str(out), "--cache", str(tmp_path / "c"), "--workers", "1",
            "--seeds", "2", "--no-progress"]
    assert main(argv) == 0
    o = capsys.readouterr()
    assert f"{2 * RUNS} runs ({2 * RUNS} computed, 0 from the cache" in o.out
    assert "2 invalid combinations not run" in o.err and "MANA_XDP_MTU_MAX" in o.err
    got = pd.read_parquet(out)
    want = quiet_sweep(GRID, 2, cache=tmp_path / "c", workers=1)
    assert want.attrs["sweep"]["computed"] == 0
    pd.testing.assert_frame_equal(got, want, check_categorical=False, check_dtype=False)

    toml.write_text(f'[[configs]]\npage_size = 16384\nring_size = 128\nqueues = 2\nmax_skbs = 256\npackets = {N}\n')
    assert main(argv) == 0 and len(pd.read_parquet(out)) == 2

    toml.write_text('mtu = [1500]\nstrategy = ["pp_frag", "page_pool"]\n')
    assert main(argv) == 2
    assert "strategy='page_pool' is not allowed" in capsys.readouterr().err

    toml.write_text(f'mtu = [1500]\nring_size = [128]\nqueues = [2]\nmax_skbs = [256]\npackets = [{N}]\n')
    assert main([*argv[:3], "--out", str(tmp_path / "no" / "such" / "dir.parquet"), *argv[5:]]) == 2
    assert "out=" in capsys.readouterr().err
    assert not list(tmp_path.rglob("*.tmp*"))
