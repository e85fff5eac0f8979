"""Hostile inputs and interruptions (issue 14): every example ends in a one-line error that
names the field, or in a run whose invariants hold; no command prints a traceback for a user
or OS error; interrupted sweeps and reports leave what the README promises.

Items: 1 memory sized from the run, 2 validation in one place, 3 the cache serves only its own
run, 4 OS errors on one line, 5 calibrate at its bounds, 6 the report stops and survives bad
notebooks, 7 the index escapes, 9 huge grids, 10 pool workers die with the sweep, 11 ring sizes
rounded up to a power of two.
"""

import errno
import html
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import types
import warnings
from dataclasses import fields
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import nbformat
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from procs import alive, children, cpu_seconds, started, wait_for

import rxlab
import rxlab.studies.sweep
from rxlab.cli import main
from rxlab.cost.profiles import PARAMS, load_platforms
from rxlab.engine.layout import SM
from rxlab.kernel import releases
from rxlab.kernel.mana import mana_rx_geometry, mana_set_ringparam_rx
from rxlab.model import sizing
from rxlab.model.config import FIELDS, Reconfig, SimConfig, xdp_only
from rxlab.model.drivers import DRIVERS
from rxlab.model.simulate import simulate
from rxlab.model.strategies import STRATEGIES
from rxlab.studies import cache as result_cache
from rxlab.studies.grid import count_runs, expand, load_grid
from rxlab.views.report import build_reports, index_html, write_page

ROOT = Path(__file__).resolve().parents[1]
NOJIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
TINY = {"ring_size": 128, "queues": 2, "connections": 8, "max_skbs": 256, "packets": 300}

# "field=value is not allowed: why", or "a=1, b=2 are not allowed: together they ask for ..."
NAMED = re.compile(r"^(grid: )?[A-Za-z_][\w.()\[\]' ]*=.+ (is|are) not allowed: \S.*$")


def assert_named(e, field=None):
    """``e`` is a one-line ValueError naming a field (``field`` if given), its value and what is allowed."""
    msg = str(e)
    assert isinstance(e, ValueError) and "\n" not in msg and NAMED.match(msg), msg
    if field is not None:
        assert re.match(rf"^(grid: )?([\w.()]+=.*, )?{re.escape(field)}=", msg), (field, msg)


def rxlab_cli(*argv, env=None, **kw):
    """``python -m rxlab *argv`` as a user runs it."""
    return subprocess.run([sys.executable, "-m", "rxlab", *argv], cwd=ROOT, env={**ENV, **(env or {})},
                          capture_output=True, text=True, check=False, timeout=600, **kw)


def one_line_error(p, status, needle=""):
    """The command failed with ``status`` and said why on one stderr line, without a traceback."""
    assert p.returncode == status, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr, p.stderr
    last = p.stderr.strip().splitlines()[-1]
    assert needle in last, p.stderr
    return last


def read_only_dir(tmp_path):
    """A folder this process cannot create files in, even as root (CI runs as root)."""
    if os.geteuid() == 0:
        return Path("/sys/rxlab-read-only-test")  # sysfs refuses mkdir to everyone
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    return d


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else repr(v))
    if isinstance(v, (int, str)):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + "}"


def quiet(grid, cache, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rxlab.sweep(grid, cache=cache, workers=1, progress=False, **kw)


GRID2 = {"page_size": [4096, 16384], **{k: [v] for k, v in TINY.items()}}


def sweep_argv(tmp_path, *extra, cache=None):
    toml = tmp_path / "g.toml"
    if not toml.exists():
        toml.write_text("\n".join(f"{k} = {toml_value(v)}" for k, v in GRID2.items()))
    return ["sweep", "--grid", str(toml), "--out", str(tmp_path / "o.parquet"), "--cache",
            str(cache or tmp_path / "c"), "--workers", "1", "--no-progress", *extra]


SIMULATE_SMALL = ("simulate", "--packets", "200", "--queues", "1", "--ring-size", "128", "--connections", "2", "--json")


# ---------------------------------------------------------------- SimConfig, Reconfig: the edges

INT_RANGES = {"queues": (1, 64), "napi_budget": (1, 1024), "connections": (1, 65536), "tcp_rmem": (4096, 2**31),
              "tcp_rmem_default": (4096, 2**31),
              "copybreak": (0, 4096), "seed": (0, 2**32 - 1), "packets": (1, 10**10), "samples": (1, 100_000),
              "max_skbs": (64, 2**24), "skb_defer_max": (0, 2**20), "ring_size": (128, 8192),
              "adapter_mtu": (82, 65535), "reader_cpus": (1, 4080),  # reader_cpus: 4096 less the 16 queues
              "online_cpus": (1, 2**16), "so_rcvbuf": (0, 2**31 - 1), "rmem_max": (0, 2**31 - 1),
              "rcvlowat": (1, 1 << 24)}  # rcvlowat: half the default tcp_rmem[2] (tcp_set_rcvlowat)
FRACTIONS = ("ack_fraction", "clone_fraction", "alloc_fail_rate", "dma_map_fail_rate")
POSITIVE = {"app_read_us": 1e6, "xdp_hold_us": 1e6, "rtt_us": 1e6, "link_gbps": 1e4, "ptr_ring_hold_ns": 1e6,
            "wake_us": 1e6, "tpa_timer_us": 1e6}
CHOICES = {"page_size": (4096, 16384, 65536), "arch": ("x86_64", "arm64"), "strategy": tuple(STRATEGIES),
           "app_cpus": ("remote", "napi"), "reader": ("woken", "periodic"),
           "kernel": tuple(r.name for r in releases.releases()),
           "driver": tuple(DRIVERS)}
RELEASE_DEFAULTED = ("strategy", "ring_size", "queues", "tcp_rmem_default", "tcp_rmem", "skb_defer_max")  # None: the release's value
NONE_ALLOWED = (*RELEASE_DEFAULTED, "rmem_max")  # None: the release's value, or net.core.rmem_max's default
BOOLS = ("gro", "gro_hw", "truesize_honest", "defer_free")
NAN = float("nan")


def inside(name):
    """Values just inside the documented range of ``name`` (alone, on the defaults)."""
    if name in INT_RANGES:
        lo, hi = INT_RANGES[name]
        lo = 1514 if name == "adapter_mtu" else lo  # the lowest that still admits the default MTU 1500
        return [lo, hi, np.int64(lo), np.int32(min(hi, 2**31 - 1))]
    if name in FRACTIONS:
        return [0.0, 1.0, 0, 1, np.float64(0.5), np.float32(0.25)]
    if name in POSITIVE:
        return [1e-3, POSITIVE[name], np.float32(1.0), np.int64(1)]
    if name in CHOICES:
        return list(CHOICES[name])
    if name in BOOLS:
        return [True, False, np.bool_(True)]
    return {"mtu": [68, 9000, np.int16(1500)], "xdp": [(), xdp_only("tx"), (0.25,) * 4, (np.float64(1), 0, 0, 0)],
            "fixes": [(), ["026dfef287c0"], ("972ca7a3bc9a", "026dfef287c0")],
            "reconfigs": [(), [], (Reconfig(0), Reconfig(99_999, mtu=9000, xdp=(), fail=True))]}[name]


def outside(name):
    """Values just outside the range of ``name``, or of the wrong kind: each refused alone."""
    if name in INT_RANGES:
        lo, hi = INT_RANGES[name]
        return [lo - 1, hi + 1, float(lo), str(lo), True, [lo]] + ([] if name in NONE_ALLOWED else [None])
    if name in FRACTIONS:
        return [-1e-12, 1 + 1e-12, NAN, math.inf, "0.5", True, None]
    if name in POSITIVE:
        return [1e-3 * (1 - 1e-12), 0.0, -1.0, POSITIVE[name] * (1 + 1e-12), NAN, math.inf, "1", False, None]
    if name in BOOLS:
        return ["no", "False", 1, 0, None]
    return {"page_size": [8192, 2048, 131072, 0, "4096", 4096.0, True],
            "arch": ["sparc", "", None, ["arm64"]], "strategy": ["bogus", ["pp_frag"], 1],
            "kernel": ["5.4", "", None, 6.1, "6.1.x", "6.15.2"], "driver": ["e1000", "", None, ["mana"]],
            "fixes": ["026dfef287c0", ("deadbeefcafe",), ("026dfef",), (26,), None],
            "app_cpus": ["Remote", None, 0],
            "reader": ["Woken", "poll", None, 1],
            "mtu": [67, 9001, 1500.0, "1500", None, True],
            "xdp": [(1, 0, 0), (1, 0, 0, 0, 0), [1, 0, 0, 0], (0.5, 0.6, 0, 0), (-0.1, 1.1, 0, 0), (NAN, 1, 0, 0),
                    "pass", None, (True, 0, 0, 0)],
            "reconfigs": ["x", (1,), None, (Reconfig(100_000),), (Reconfig(5), Reconfig(5)),
                          ({"at_packet": 5},)]}[name]


def test_every_field_is_covered():
    assert set(INT_RANGES) | set(FRACTIONS) | set(POSITIVE) | set(CHOICES) | set(BOOLS) \
        | {"mtu", "xdp", "reconfigs", "fixes"} == set(FIELDS)


@pytest.mark.parametrize("name", FIELDS)
def test_each_value_just_inside_is_accepted_and_just_outside_refused_by_name(name):
    for v in inside(name):
        SimConfig(**{name: v})
    for v in outside(name):
        with pytest.raises(ValueError) as e:
            SimConfig(**{name: v})
        assert_named(e.value, name if name not in ("xdp", "reconfigs") else None)
        assert re.match(rf"^{name}[=.]", str(e.value)), str(e.value)


def edges(name):
    return st.sampled_from(inside(name) + outside(name))


@pytest.mark.no_engine
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({}, optional={name: edges(name) for name in FIELDS}))
def test_simconfig_is_canonical_or_refused_by_name(kw):
    """Any mix of edge values: a ValueError naming a field, or a configuration stored in one
    canonical form whose tables fit (SimConfig checks them: simulate never allocates too much)."""
    try:
        cfg = SimConfig(**kw)
    except ValueError as e:
        assert_named(e)
        return
    for f in fields(SimConfig):
        v = getattr(cfg, f.name)
        # the type a field is stored as (str | None: the release's value once resolved, a str)
        name = f.type.__name__ if isinstance(f.type, type) else str(f.type).split(" |")[0]
        want = {"int": int, "float": float, "bool": bool, "str": str}.get(name, tuple)
        assert type(v) is want, (f.name, v)
    assert all(type(x) is float for x in cfg.xdp)
    assert cfg.driver != "mana" or cfg.ring_size & (cfg.ring_size - 1) == 0  # mana_set_ringparam's rounding
    assert cfg == SimConfig(**cfg.to_dict() | {"reconfigs": cfg.reconfigs})  # canonical: a fixed point
    sizing.check_sizes(cfg)


RECONFIG_EDGES = {
    "at_packet": [0, 1, 10**10 - 1, -1, 10**10, 10.5, True, "10", None, np.int64(5)],
    "mtu": [None, 0, 65535, -1, 65536, 1500, 9000, [9000], "1500", 1500.0, np.int32(3000)],
    "xdp": [None, (), xdp_only("tx"), (0, 0, 1, 0), [1, 0, 0, 0], "pass", (2, 0, 0, 0), ("a", 0, 0, 0)],
    "fail": [False, True, np.bool_(True), "no", 1, None],
}


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({"at_packet": st.sampled_from(RECONFIG_EDGES["at_packet"])},
                             optional={k: st.sampled_from(v) for k, v in RECONFIG_EDGES.items() if k != "at_packet"}))
@pytest.mark.no_engine
def test_reconfig_is_canonical_or_refused_by_name(kw):
    try:
        r = Reconfig(**kw)
    except ValueError as e:
        assert_named(e)
        assert str(e).startswith("reconfigs.")
        return
    assert type(r.at_packet) is int and type(r.fail) is bool and 0 <= r.at_packet < 10**10
    assert r.mtu is None or type(r.mtu) is int
    assert r.xdp is None or (type(r.xdp) is tuple and all(type(x) is float for x in r.xdp))
    hash(r)  # a grid keys on it


def test_reconfig_values_the_issue_names():
    for kw, field in (({"at_packet": 1, "fail": "no"}, "reconfigs.fail"), ({"at_packet": 10.5}, "reconfigs.at_packet"),
                      ({"at_packet": True}, "reconfigs.at_packet"), ({"at_packet": "10"}, "reconfigs.at_packet")):
        with pytest.raises(ValueError) as e:
            Reconfig(**kw)
        assert_named(e.value, field)
    assert Reconfig(np.int64(3), mtu=np.int32(3000), fail=np.bool_(False)) == Reconfig(3, mtu=3000)


# the run strategy: the same edges where a run stays cheap (packets, rings x queues, connections)
SHAPES = [(1, 128), (1, 8192), (64, 128), (2, 129), (4, 1024)]
RUN_EDGES = {
    "packets": [1, 2, 64, 300], "napi_budget": [1, 1024], "connections": [1, 2, 300] + ([] if NOJIT else [65536]),
    "tcp_rmem": [4096, 2**31], "copybreak": [0, 4096], "max_skbs": [64, 2**24], "skb_defer_max": [0, 2**20],
    "samples": [1, 100_000], "seed": [0, 2**32 - 1], "reader_cpus": [1, 4032], "adapter_mtu": [82, 9014, 65535],
    "mtu": [68, 1500, 3506, 3507, 9000], "page_size": [4096, 16384, 65536], "arch": ["x86_64", "arm64"],
    "strategy": list(STRATEGIES), "app_cpus": ["remote", "napi"],
    "xdp": [(), xdp_only("pass"), xdp_only("drop"), xdp_only("tx"), xdp_only("redirect"), (0.25,) * 4],
    **{k: [0.0, 0.5, 1.0] for k in FRACTIONS},
    "app_read_us": [1e-3, 50.0, 1e6], "xdp_hold_us": [1e-3, 20.0, 1e6], "tpa_timer_us": [1e-3, 1e6], "rtt_us": [1e-3, 1e6],
    "link_gbps": [1e-3, 200.0, 1e4], **{k: [True, False] for k in BOOLS},
    "reader": ["woken", "periodic"], "wake_us": [1e-3, 2.0, 1e6], "rcvlowat": [1, 2048],  # at most half of the smallest tcp_rmem[2]
}


@st.composite
def run_configs(draw):
    kw = draw(st.fixed_dictionaries({}, optional={k: st.sampled_from(v) for k, v in RUN_EDGES.items()}))
    kw["queues"], kw["ring_size"] = draw(st.sampled_from(SHAPES))
    packets = kw.setdefault("packets", 300)
    n = draw(st.integers(0, min(2, packets - 1)))
    at = sorted(draw(st.sets(st.integers(0, packets - 1), min_size=n, max_size=n)))
    kw["reconfigs"] = tuple(Reconfig(a, mtu=draw(st.sampled_from([None, 68, 3000, 9000, 65535])),
                                     xdp=draw(st.sampled_from([None, (), xdp_only("tx"), (0.5, 0.5, 0.0, 0.0)])),
                                     fail=draw(st.booleans())) for a in at)
    return kw


@settings(max_examples=12 if NOJIT else 40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run_configs())
def test_runs_at_the_edges_keep_their_invariants(kw):
    """simulate() checks every page's holders after each reconfiguration and at the end, and that
    teardown leaks nothing; it raises if either fails."""
    try:
        cfg = SimConfig(**kw)
    except ValueError as e:  # e.g. XDP above MANA_XDP_MTU_MAX, a page size the arch lacks
        assert_named(e)
        return
    r = simulate(cfg)
    m = r.metrics()
    assert m["packets"] == cfg.packets and (r.counters >= 0).all() and (r.qstats >= 0).all()
    assert len(r.events) == len(cfg.reconfigs)


# ---------------------------------------------------------------- 1. memory sized from the run

def test_tables_follow_the_packets_not_the_knobs():
    hold = SimConfig(packets=2000, xdp=xdp_only("tx"), xdp_hold_us=1e6)
    sz = sizing.size_run(hold, sizing.geometries(hold))
    assert sz.hold_cap == 2000  # not the 16 million packets of a second at 200 Gbps
    assert sum(sizing.table_bytes(hold, sz).values()) < 50e6
    skbs = SimConfig(connections=65536, max_skbs=16777216, tcp_rmem=2147483648)
    sz = sizing.size_run(skbs, sizing.geometries(skbs))
    # GRO holds at most a poll's packets a queue; a connection's rows are about 1.9 KB (rxlab.engine.layout)
    assert sz.n_skbs == skbs.packets + skbs.queues * (4 + skbs.napi_budget) + 16
    assert sum(sizing.table_bytes(skbs, sz).values()) < 210e6


def test_the_2000_packet_xdp_tx_run_of_the_issue_runs(capsys):
    assert main(["simulate", "--packets", "2000", "--xdp", "tx", "--xdp-hold-us", "1000000", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["packets"] == 2000


@pytest.mark.jit_only  # 65,536 connections scanned at every application read
def test_the_65536_connection_run_of_the_issue_runs(capsys):
    assert main(["simulate", "--connections", "65536", "--max-skbs", "16777216", "--tcp-rmem", "2147483648",
                 "--packets", "5000", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["packets"] == 5000


def test_which_bound_sizes_the_tables_does_not_change_the_run(monkeypatch):
    """Tables sized by the packets (smaller) or by the knobs alone (the old sizing) give the same run."""
    cfg = SimConfig(xdp=(0.4, 0.1, 0.3, 0.2), xdp_hold_us=500.0, **{**TINY, "packets": 1500})
    small = simulate(cfg)
    knobs_only = sizing.size_run

    def old_sizes(c, geoms):
        return knobs_only(types.SimpleNamespace(**{**vars(c), "packets": 10**10}), geoms)

    assert old_sizes(cfg, sizing.geometries(cfg)).hold_cap > 5 * sizing.size_run(cfg, sizing.geometries(cfg)).hold_cap
    monkeypatch.setattr(rxlab.model.simulate, "size_run", old_sizes)
    big = simulate(cfg)
    for a in ("counters", "qstats", "conn", "samples", "ratio_hist", "inflight_end"):
        np.testing.assert_array_equal(getattr(small, a), getattr(big, a))
    assert (small.t_us, small.mem_used_end) == (big.t_us, big.mem_used_end)


def test_too_much_memory_is_refused_naming_the_fields(monkeypatch):
    monkeypatch.setenv(sizing.MEMORY_ENV, "1G")
    with pytest.raises(ValueError) as e:
        SimConfig(connections=65536, max_skbs=16777216, tcp_rmem=2147483648, packets=10**9)
    assert_named(e.value, "max_skbs")
    # (the out-of-order queue and the SACK scoreboard add to the tables: 11.2 GB in all)
    assert re.search(r"asks for 1\d\.\d GB of simulation tables \(9\.\d GB for skbs in flight\); at most 1\.1 GB", str(e.value))
    with pytest.raises(ValueError) as e:
        SimConfig(xdp=xdp_only("tx"), xdp_hold_us=1e6, packets=10**8, queues=4)
    assert_named(e.value, "xdp_hold_us")
    assert "link_gbps=200.0" in str(e.value) and "XDP_TX/REDIRECT" in str(e.value)
    monkeypatch.setenv(sizing.MEMORY_ENV, "lots")
    with pytest.raises(ValueError) as e:
        SimConfig()
    assert_named(e.value, sizing.MEMORY_ENV)


def test_engine_limits_are_named_by_the_fields_not_the_tables():
    """--link-gbps 10000 used to fail naming n_pages, a table the user never set."""
    with pytest.raises(ValueError) as e:
        SimConfig(link_gbps=10000, xdp=xdp_only("tx"), xdp_hold_us=1e6, packets=10**10)
    assert_named(e.value, "xdp_hold_us")
    assert "link_gbps=10000.0" in str(e.value) and "n_pages" not in str(e.value)
    with pytest.raises(ValueError) as e:
        SimConfig(queues=64, packets=1000, reconfigs=tuple(Reconfig(i) for i in range(1, 70)))
    assert_named(e.value, "queues")
    assert "len(reconfigs)=69" in str(e.value) and "4480 page_pools" in str(e.value)


# ---------------------------------------------------------------- 2. validation in one place

def test_what_simconfig_accepts_simulate_runs():
    """reader_cpus=4096 used to pass SimConfig and fail in simulate (n_cpus=4100)."""
    with pytest.raises(ValueError) as e:
        SimConfig(reader_cpus=4096)
    assert_named(e.value, "reader_cpus")
    assert "1..4080" in str(e.value)
    r = simulate(SimConfig(reader_cpus=4095, queues=1, ring_size=128, connections=4, packets=200))
    assert r.metrics()["packets"] == 200


def test_a_bad_point_of_a_sweep_is_listed_not_fatal(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = rxlab.sweep({"queues": [1, 4], "reader_cpus": [4095], "ring_size": [128], "connections": [4],
                          "packets": [200]}, cache=tmp_path, workers=1, progress=False)
    assert len(df) == 1 and df.queues.astype(int).tolist() == [1]
    [bad_point] = df.attrs["invalid"]
    assert bad_point["queues"] == 4 and bad_point["error"].startswith("reader_cpus=4095 is not allowed")


def test_numpy_scalars_are_numbers():
    a = SimConfig(queues=np.int64(2), ring_size=np.int32(128), link_gbps=np.float32(100), gro=np.bool_(False),
                  xdp=(np.float64(1), 0, 0, 0), reconfigs=[Reconfig(np.int64(10))])
    b = SimConfig(queues=2, ring_size=128, link_gbps=100.0, gro=False, xdp=xdp_only("pass"),
                  reconfigs=(Reconfig(10),))
    assert a == b and result_cache.run_key(a) == result_cache.run_key(b)


@pytest.mark.parametrize("grid,field", [
    ({}, "grid"), ([], "grid"),
    ({"reconfigs": [[{"at_packet": 10, "mtu": [9000]}]]}, "reconfigs.mtu"),
    ({"reconfigs": [[{"at_packet": 10, "fail": "no"}]]}, "reconfigs.fail"),
    ({"reconfigs": [[{"at_packet": 10.5}]]}, "reconfigs.at_packet"),
    ({"reconfigs": [[{"at": 10}]]}, "reconfigs"),
])
def test_grid_errors_name_the_field(grid, field):
    with pytest.raises(ValueError) as e:
        expand(grid)
    assert_named(e.value, field)


def test_cli_xdp_names_the_field(capsys):
    for value in ("a,b,c,d", "1,0,0", "maybe", "nan,0,0,1"):
        assert main(["simulate", "--xdp", value, "--packets", "10"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("rxlab simulate: error: xdp") and len(err.splitlines()) == 1, err


def test_an_empty_grid_file_is_an_error(tmp_path, capsys):
    (tmp_path / "g.toml").write_text("# nothing\n")
    assert main(["sweep", "--grid", str(tmp_path / "g.toml"), "--out", str(tmp_path / "o.parquet")]) == 2
    assert "error: grid={} is not allowed: at least one field" in capsys.readouterr().err


TOML_VALUES = st.one_of(
    st.integers(-2, 2**33), st.sampled_from([0, 1, 64, 68, 128, 129, 1500, 4096, 8192, 8193, 9000, 65536]),
    st.sampled_from([0.0, 0.5, 1.0, 1.5, -1.0, 1e-3, 1e6, 1e7, NAN, math.inf]), st.booleans(),
    st.sampled_from(["pass", "off", "tx", "bogus", "arm64", "x86_64", "pp_frag", "full_page", "napi", ""]),
    st.sampled_from([[], [1, 0, 0, 0], [0.5, 0.5], ["pass"]]),
    st.lists(st.fixed_dictionaries({"at_packet": st.sampled_from([0, 10, 99, 100, 10.5, "10", True])},
                                   optional={"mtu": st.sampled_from([9000, 68, -1, [9000], "1500"]),
                                             "xdp": st.sampled_from(["pass", "off", [0, 0, 1, 0], "no"]),
                                             "fail": st.sampled_from([True, False, "no", 1]),
                                             "bogus": st.just(1)}), max_size=2),
)
GRID_FIELDS = st.sampled_from([*FIELDS, "mtus", "Packets"])


@st.composite
def grid_files(draw):
    """TOML text: fields with lists of values (or not lists), or [[configs]] tables, or both, or junk."""
    kind = draw(st.sampled_from(["fields", "configs", "both", "junk"]))
    lines = []
    if kind in ("fields", "both"):
        for name in draw(st.lists(GRID_FIELDS, max_size=3, unique=True)):
            values = draw(st.one_of(st.lists(TOML_VALUES, max_size=3), TOML_VALUES))
            lines.append(f"{name} = {toml_value(values)}")
        lines.append("packets = [100]")
    if kind in ("configs", "both"):
        for _ in range(draw(st.integers(0, 3))):
            lines.append("[[configs]]")
            for name in draw(st.lists(GRID_FIELDS, max_size=3, unique=True)):
                lines.append(f"{name} = {toml_value(draw(TOML_VALUES))}")
    if kind == "junk":
        lines.append(draw(st.sampled_from(["mtu = [", "= 3", "mtu = [1500]\nmtu = [9000]", "\udcff"])))
    return "\n".join(lines) + "\n"


@pytest.mark.no_engine
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=grid_files())
def test_grid_files_expand_or_are_refused_by_name(text, tmp_path_factory):
    path = tmp_path_factory.mktemp("grid") / "g.toml"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    try:
        grid = load_grid(path)
        n, n_seeds, packets = count_runs(grid, 2)
        configs, invalid = expand(grid, 2)
    except ValueError as e:
        assert_named(e)
        return
    assert len(configs) + len(invalid) * 2 <= n * n_seeds and packets > 0
    assert all(isinstance(c, SimConfig) for c in configs) and len(set(configs)) == len(configs)
    for p in invalid:
        assert NAMED.match(p["error"]), p["error"]


# ---------------------------------------------------------------- 3. the cache serves only its own run

def test_a_file_copied_over_another_key_is_recomputed_and_named(tmp_path):
    want = quiet(GRID2, tmp_path / "ref")
    quiet(GRID2, tmp_path / "c")
    a, b = sorted((tmp_path / "c").rglob("*.parquet"))
    shutil.copy(a, b)  # b's name, a's run
    with pytest.warns(UserWarning, match=rf"cache file {re.escape(str(b))} is the result of another configuration "
                                         r"\(page_size="):
        df = rxlab.sweep(GRID2, cache=tmp_path / "c", workers=1, progress=False)
    assert df.attrs["sweep"]["computed"] == 1 and [p for p, _ in df.attrs["sweep"]["bad_cache"]] == [str(b)]
    pd.testing.assert_frame_equal(df, want)
    assert quiet(GRID2, tmp_path / "c").attrs["sweep"]["computed"] == 0  # overwritten with its own run


@pytest.mark.parametrize("table,why", [
    (pa.table({"x": [1]}), "not a result of rxlab (no column 'kernel')"),
    ("two rows", "2 rows, not one"),
    ("counter as text", "column 'alloc_fast' of type string, not an integer"),
    ("metric as text", "column 'goodput_gbps' of type string, not a number"),
    ("no metric", "a row without the column 'goodput_gbps'"),  # issue 25, item 7: it was served, as NaN
    ("no reader counter", "a row without the column 'reader_alloc_fast'"),
])
def test_a_file_of_another_schema_is_recomputed_and_named(tmp_path, capsys, table, why):
    quiet(GRID2, tmp_path / "c")
    a = min((tmp_path / "c").rglob("*.parquet"))
    good = pq.read_table(a)
    if table == "two rows":
        table = pa.concat_tables([good, good])
    elif table in ("counter as text", "metric as text"):
        name = "alloc_fast" if table == "counter as text" else "goodput_gbps"
        table = good.set_column(good.column_names.index(name), name, pa.array(["7"]))
    elif table in ("no metric", "no reader counter"):
        table = good.drop_columns(["goodput_gbps" if table == "no metric" else "reader_alloc_fast"])
    pq.write_table(table, a)
    toml = tmp_path / "g.toml"
    toml.write_text("\n".join(f"{k} = {toml_value(v)}" for k, v in GRID2.items()))
    assert main(["sweep", "--grid", str(toml), "--out", str(tmp_path / "o.parquet"), "--cache", str(tmp_path / "c"),
                 "--workers", "1", "--no-progress"]) == 0
    o = capsys.readouterr()
    assert f"rxlab sweep: cache file {a} was {why}: recomputed" in o.err
    assert "2 runs (1 computed, 1 from the cache" in o.out
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o.parquet"), quiet(GRID2, tmp_path / "ref"),
                                  check_categorical=False, check_dtype=False)


# ---------------------------------------------------------------- 4. OS errors on one line

def test_unusable_cache_folders_are_named(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    for cache in (read_only_dir(tmp_path), tmp_path / "file", tmp_path / "file" / "below"):
        assert main(sweep_argv(tmp_path, cache=cache)) == 2
        err = capsys.readouterr().err.splitlines()[-1]
        assert err.startswith(f"rxlab sweep: error: cache='{cache}' is not allowed: a folder this process can write")


def test_unusable_out_is_named_before_any_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(rxlab.studies.sweep, "simulate", lambda cfg: pytest.fail("ran before checking --out"))
    (tmp_path / "d.parquet").mkdir()
    for out, why in ((tmp_path / "d.parquet", "a regular file or a new path, not a folder"),
                     (tmp_path / "no" / "o.parquet", "a file in a folder this process can write"),
                     (read_only_dir(tmp_path) / "o.parquet", "a file in a folder this process can write")):
        argv = sweep_argv(tmp_path)
        argv[argv.index("--out") + 1] = str(out)
        assert main(argv) == 2
        assert f"error: out='{out}' is not allowed: {why}" in capsys.readouterr().err


def test_memory_error_is_one_line_exit_1(monkeypatch, capsys):
    def no_memory(*a, **k):
        raise MemoryError()

    monkeypatch.setattr(rxlab.model.simulate, "make_state", no_memory)
    assert main(["simulate", "--packets", "10"]) == 1
    assert capsys.readouterr().err.strip() == "rxlab simulate: error: out of memory"


def test_a_full_disk_is_a_system_error(tmp_path, capsys, monkeypatch):
    def full(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "c" / "x.parquet"))

    monkeypatch.setattr(pq, "write_table", full)
    assert main(sweep_argv(tmp_path)) == 1
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"rxlab sweep: error: No space left on device: {tmp_path / 'c' / 'x.parquet'}"


def test_a_folder_where_a_cached_result_belongs(tmp_path, capsys):
    cfg = expand(GRID2)[0][0]
    ResultCache = result_cache.ResultCache
    ResultCache(tmp_path / "c").path(result_cache.run_key(cfg)).mkdir(parents=True)
    assert main(sweep_argv(tmp_path)) == 1
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith("rxlab sweep: error: a folder where a cached result belongs (remove it): ") and \
        err.endswith(".parquet")


def test_a_pool_worker_killed_by_the_oom_killer(tmp_path, capsys, monkeypatch):
    parent = os.getpid()

    def oom(cfg):
        if os.getpid() != parent:  # in a pool worker: die as the OOM killer kills
            os.kill(os.getpid(), signal.SIGKILL)
        return simulate(cfg)

    monkeypatch.setattr(rxlab.studies.sweep, "simulate", oom)
    argv = sweep_argv(tmp_path)
    argv[argv.index("--workers") + 1] = "2"
    toml = tmp_path / "g.toml"
    toml.write_text(toml.read_text() + "\nseed = [0, 1, 2]\n")
    assert main(argv) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "rxlab sweep: error: a pool worker died (killed by a signal: the OOM killer, or kill -9); the runs that "
        "finished are cached, and the same sweep started again resumes")
    assert len(list((tmp_path / "c").rglob("*.parquet"))) >= 1  # the first run, done before the pool


@pytest.mark.no_engine
def test_an_unreachable_dask_scheduler(tmp_path):
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = sweep_argv(tmp_path)
    argv[argv.index("--workers"):argv.index("--workers") + 2] = ["--scheduler", f"tcp://127.0.0.1:{port}"]
    p = rxlab_cli(*argv, env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"})
    one_line_error(p, 1, f"rxlab sweep: error: Timed out trying to connect to tcp://127.0.0.1:{port}")


@pytest.mark.jit_only  # processes and signals; interpreted, the runs in its children add nothing (CONTRIBUTING.md)
def test_a_reader_that_goes_away_is_no_error():
    """rxlab simulate --json | head -c 20: the pipe closes before (or while) rxlab writes."""
    p = subprocess.Popen([sys.executable, "-m", "rxlab", *SIMULATE_SMALL], cwd=ROOT, env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # no reader left: the first write raises BrokenPipeError
    err = p.stderr.read().decode()
    assert p.wait(timeout=600) == 1 and err == "", err
    shell = subprocess.run(f"'{sys.executable}' -m rxlab {' '.join(SIMULATE_SMALL)} | head -c 20", shell=True,
                           cwd=ROOT, env=ENV, capture_output=True, text=True, check=False, timeout=600)
    assert shell.stdout == '{"config": {"kernel"' and shell.stderr == ""


@pytest.mark.no_engine
def test_rxlab_debug_shows_the_traceback():
    one_line_error(rxlab_cli("simulate", "--xdp", "a,b,c,d"), 2, "rxlab simulate: error: xdp='a,b,c,d'")
    p = rxlab_cli("simulate", "--xdp", "a,b,c,d", env={"RXLAB_DEBUG": "1"})
    assert p.returncode == 1 and "Traceback" in p.stderr and "ValueError: xdp='a,b,c,d'" in p.stderr


def test_a_bug_is_one_line_with_the_way_to_its_traceback(monkeypatch, capsys):
    def bug(*a, **k):
        raise KeyError("oops")

    monkeypatch.setattr(rxlab.model.simulate, "build", bug)
    assert main(["simulate", "--packets", "10"]) == 1
    assert capsys.readouterr().err == \
        "rxlab simulate: internal error: KeyError: 'oops' (RXLAB_DEBUG=1 shows the traceback)\n"


# ---------------------------------------------------------------- 5. calibrate at its bounds

@pytest.fixture(scope="module")
def four_connections(simulated):
    """test_cost's run: four connections on two queues, frees on the reading CPUs."""
    return simulated(SimConfig(connections=4, queues=2, ring_size=128, packets=3000, defer_free=False)).to_frame()


def test_calibrate_stops_at_the_end_of_a_range(four_connections):
    """gbps=5 asks for a stack cost beyond its range: the fit stops at the bound, the finite
    difference steps back into the range instead of out of it."""
    base = load_platforms()["typical_arm64"]
    lo, hi = PARAMS["stack_per_packet"][:2]
    cal = rxlab.calibrate(base, four_connections.assign(gbps=5.0), ["stack_per_packet"])
    assert lo <= cal.profile["stack_per_packet"] <= hi
    cal = rxlab.calibrate(base, four_connections.assign(gbps=0.5), ["stack_per_packet"])
    fitted = cal.parameters.fitted[0]
    assert fitted == pytest.approx(hi, rel=1e-12) and cal.profile["stack_per_packet"] == fitted
    assert cal.residuals.residual[0] > 0  # the model cannot go as low as measured: it says so
    cal = rxlab.calibrate(base, four_connections.assign(gbps=1e6), ["stack_per_packet", "dma_map"])
    assert cal.profile["stack_per_packet"] >= PARAMS["stack_per_packet"][0]


def test_calibrate_names_bad_measurements_and_masks(four_connections):
    base = load_platforms()["typical_arm64"]
    two = pd.concat([four_connections] * 2, ignore_index=True)
    for table, train, field in ((two.assign(gbps=[10.0, NAN]), None, "measured['gbps']"),
                                (two.assign(gbps=[10.0, -1.0]), None, "measured['gbps']"),
                                (two.assign(gbps=["a", "b"]), None, "measured['gbps']"),
                                (two.assign(gbps=10.0), [0, 1], "train"),
                                (two.assign(gbps=10.0), np.array([1, 0]), "train"),
                                (two.assign(gbps=10.0), [False, False], "train"),
                                (two.assign(gbps=10.0), [True], "train")):
        with pytest.raises(ValueError) as e:
            rxlab.calibrate(base, table, ["stack_per_packet"], train=train)
        assert_named(e.value, field)
    with pytest.raises(ValueError, match=r"row 1 is not"):
        rxlab.calibrate(base, two.assign(gbps=[10.0, NAN]), ["stack_per_packet"])


# ---------------------------------------------------------------- 6, 7. reports

def notebook(title, code, parameters=True):
    cells = [nbformat.v4.new_markdown_cell(f"# {title}")]
    if parameters:
        cells.append(nbformat.v4.new_code_cell("quick = False", metadata={"tags": ["parameters"]}))
    cells.append(nbformat.v4.new_code_cell(code))
    return nbformat.v4.new_notebook(cells=cells)


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


INDEX_TAGS = {"h1", "p", "section", "h2", "ul", "li", "a", "b", "code"}
HOSTILE = ['00_a"><img src=x onerror=alert(1)>', "01_<script>alert(1)</script>", "02_a' onmouseover='x",
           "03_&amp;#x22;", "04_ spaces # and ?query", "05_%22"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.text(), st.sampled_from(HOSTILE)), st.one_of(st.text(), st.sampled_from(HOSTILE)),
                          st.booleans(), st.text()), max_size=4))
@pytest.mark.no_engine
def test_the_index_escapes_whatever_notebooks_are_called(entries):
    pages = [(stem, title, f"{stem}.html" if ok else None, err) for stem, title, ok, err in entries]
    parsed = Tags(index_html(pages, quick=True))
    assert {t for t, _ in parsed.tags} <= INDEX_TAGS
    links = [a for t, a in parsed.tags if t == "a"]
    assert all(set(a) == {"href"} for a in links)
    assert [unquote(a["href"], errors="surrogateescape") for a in links] == [f for _, _, f, _ in pages if f]
    text = "".join(parsed.text)
    assert all((title or stem) in text for stem, title, _, _ in pages)


def test_report_builds_the_rest_lists_the_failed_and_removes_stale_pages(tmp_path):
    nbs, out = tmp_path / "nb", tmp_path / "out"
    nbs.mkdir()
    hostile = HOSTILE[0]
    nbformat.write(notebook('A <b>"title"</b> & more', "print(1 + 1)"), nbs / f"{hostile}.ipynb")
    nbformat.write(notebook("No parameters", "1", parameters=False), nbs / "01_noparams.ipynb")
    (nbs / "02_badjson.ipynb").write_text("{not json")
    out.mkdir()
    for stale in ("01_noparams", "03_gone"):  # pages of a notebook now failing, and of one deleted
        write_page(out / f"{stale}.html", "old", '<p class="rxlab-report-meta">old</p>')
    (out / "04_mine.html").write_text("<p>not written by rxlab</p>")
    log = tmp_path / "log"
    with open(log, "w") as f:
        index, failed = build_reports(out, quick=True, notebooks=nbs, log=f)
    assert failed == ["01_noparams", "02_badjson"]
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{hostile}.html", "index.html", "04_mine.html"])
    lines = log.read_text().splitlines()
    assert "[2/3] 01_noparams ... FAILED: ValueError: notebook has no cell tagged 'parameters'" in lines[1]
    assert "[3/3] 02_badjson ... FAILED: NotJSONError" in lines[2]
    assert "removed 2 page(s) of notebooks that are gone or failed: 01_noparams.html, 03_gone.html" in lines[3]
    parsed = Tags(index.read_text())
    assert {t for t, _ in parsed.tags} <= INDEX_TAGS | {"html", "head", "meta", "title", "style", "body"}
    assert [unquote(a["href"]) for t, a in parsed.tags if t == "a"] == [f"{hostile}.html"]
    assert "failed" in "".join(parsed.text) and "02_badjson" in "".join(parsed.text)
    page = (out / f"{hostile}.html").read_text()
    assert "<title>rxlab: A &lt;b&gt;&quot;title&quot;&lt;/b&gt; &amp; more</title>" in page
    assert f"from notebooks/{html.escape(hostile)}.ipynb" in page and "<img src=x" not in page


def test_report_refuses_a_bad_out_or_no_notebooks_before_any_work(tmp_path, capsys, monkeypatch):
    import rxlab.studies.claims

    monkeypatch.setattr(rxlab.studies.claims, "evaluate_claims", lambda **k: pytest.fail("worked before checking"))
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    for argv, needle in ((["--out", str(tmp_path / "file")], "out="),
                         (["--out", str(tmp_path / "file" / "below")], "out="),
                         (["--out", str(read_only_dir(tmp_path) / "r")], "out="),
                         (["--out", str(tmp_path / "r"), "--notebooks", str(tmp_path / "empty")],
                          "notebooks=")):
        assert main(["report", "--quick", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"rxlab report: error: {needle}") and len(err.splitlines()) == 1, err
    assert "a folder with at least one NN_*.ipynb notebook (it has none)" in err


REPORT = """
import sys
import rxlab.studies.claims as claims
real = claims.evaluate_claims
claims.evaluate_claims = lambda packets: real(packets=packets, ids=["buffers_per_page_post"])  # no simulation
from rxlab.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.no_engine
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_report_stops_on_the_first_signal(tmp_path, signum):
    """nbclient's handlers used to shut the kernel down and let the report go on to the next
    notebook: three Ctrl-C did not stop it. Now one does, and it leaves the README's promise."""
    nbs, out, mark = tmp_path / "nb", tmp_path / "out", tmp_path / "kernel-pid"
    nbs.mkdir()
    nbformat.write(notebook("Sleeps", f"import os, time\nopen({str(mark)!r}, 'w').write(str(os.getpid()))\n"
                                      "time.sleep(600)"), nbs / "01_sleep.ipynb")
    nbformat.write(notebook("After", "1"), nbs / "02_after.ipynb")
    out.mkdir()
    (out / "index.html").write_text("the previous index")
    with started([sys.executable, "-c", REPORT, "report", "--quick", "--out", str(out), "--notebooks", str(nbs)],
                 cwd=ROOT, env=ENV, stderr=subprocess.PIPE, text=True) as p:
        assert wait_for(lambda: mark.exists() and mark.read_text(), 300), "the notebook never started"
        kernel = int(mark.read_text())
        os.kill(p.pid, signum)
        err = p.communicate(timeout=120)[1]
    assert p.returncode == 128 + signum and "Traceback" not in err, err
    assert err.splitlines()[-1] == (f"rxlab report: interrupted by {signal.Signals(signum).name}; the pages written "
                                    "are complete, index.html is the previous one")
    assert "[1/2] 01_sleep ... interrupted" in err and "02_after" not in err  # it did not go on
    assert wait_for(lambda: not alive(kernel), 30), "the kernel outlived the report"
    assert (out / "index.html").read_text() == "the previous index"
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]  # no temporary file left


# ---------------------------------------------------------------- 9. huge grids

MILLION = {k: list(range(lo, lo + 10)) for k, lo in (("seed", 0), ("packets", 1), ("samples", 1), ("napi_budget", 1),
                                                      ("copybreak", 0), ("skb_defer_max", 0))}


def test_a_huge_grid_is_counted_not_expanded(monkeypatch):
    monkeypatch.setattr(rxlab.studies.sweep, "expand", lambda *a: pytest.fail("expanded a huge grid"))
    assert count_runs(MILLION) == (10**6, 1, 10**5 * sum(range(1, 11)))
    assert count_runs({"seed": range(10**9)}, 3)[:2] == (10**9, 3)
    assert count_runs([{"packets": 5}, {}], [0, 7]) == (2, 2, 2 * (5 + 100_000))
    with pytest.raises(ValueError) as e:
        rxlab.sweep(MILLION)
    assert_named(e.value, "runs")
    assert str(e.value).startswith("runs=1000000 is not allowed: at most max_runs=10000 (1,000,000 configurations")


def test_the_cli_prints_the_count_and_refuses_past_max_runs(tmp_path, capsys):
    toml = tmp_path / "huge.toml"
    toml.write_text("\n".join(f"{k} = {v}" for k, v in MILLION.items()))
    assert main(["sweep", "--grid", str(toml), "--out", str(tmp_path / "o.parquet"), "--workers", "2"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r"rxlab sweep: at most 1,000,000 runs \(1,000,000 configurations x 1 seed, 5,500,000 packets\), "
                        r"about [\d.]+ (s|min|h) on 2 workers, less those in the cache", err[0]), err[0]
    assert err[1] == ("rxlab sweep: error: runs=1000000 is not allowed: at most --max-runs 10,000 "
                      "(pass --max-runs 1000000 to run them all)")
    assert main(sweep_argv(tmp_path, "--max-runs", "1")) == 2
    assert "runs=2 is not allowed" in capsys.readouterr().err
    assert main(sweep_argv(tmp_path, "--max-runs", "2")) == 0


# ---------------------------------------------------------------- 10. interrupted sweeps

SWEEP = """
import os, re, sys, time
import rxlab.studies.sweep as s
from rxlab.model.simulate import simulate
mode, folder, parent = sys.argv[1], sys.argv[2], os.getpid()
def run(cfg):
    if mode == "gil" and os.getpid() != parent:  # a pool worker: hold the GIL as a compiled run does
        open(os.path.join(folder, f"busy-{os.getpid()}"), "w").close()
        re.match(r"(a*)*b", "a" * 64)  # catastrophic backtracking: C code that never releases the GIL
    time.sleep(0.3)  # long enough runs that a signal lands mid-sweep
    return simulate(cfg)
s.simulate = run
if mode == "gil":
    s.sweep(eval(sys.argv[3]), 3, cache=os.path.join(folder, "c"), workers=2, progress=False)
else:
    import signal
    # SIGINT as a terminal gives it: a child of a background job (make test &), or of a process an
    # earlier test left ignoring SIGINT, starts with it ignored, and would never see KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from rxlab.cli import main
    sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.jit_only  # processes and signals; interpreted, the runs in its children add nothing (CONTRIBUTING.md)
def test_workers_die_with_a_killed_sweep_even_holding_the_gil(tmp_path):
    """The watcher thread of each worker cannot run while a run holds the GIL: on Linux the
    kernel kills the workers with their parent (PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux's")
    busy = []
    with started([sys.executable, "-c", SWEEP, "gil", str(tmp_path), repr(GRID2)], cwd=ROOT, env=ENV,
                 stderr=subprocess.DEVNULL) as p:
        try:
            assert wait_for(lambda: len(list(tmp_path.glob("busy-*"))) == 2, 300), "workers never got busy"
            busy = [int(f.name.split("-")[1]) for f in tmp_path.glob("busy-*")]
            assert all(map(alive, busy))
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            gone = wait_for(lambda: not any(map(alive, busy)), 30)
        finally:  # the sweep reaped, its group's workers are killed one by one
            for pid in busy:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
    assert gone, "pool workers outlived the sweep"


@pytest.mark.jit_only  # processes and signals; interpreted, the runs in its children add nothing (CONTRIBUTING.md)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_sweep_keeps_its_promise(tmp_path, signum, capsys):
    """README, "Interrupting": every finished run is in the cache, whole; workers gone; no
    results file half-written; the same command computes only what is missing."""
    grid = {**GRID2, "seed": [0, 1, 2, 3, 4]}
    toml = tmp_path / "g.toml"
    toml.write_text("\n".join(f"{k} = {toml_value(v)}" for k, v in grid.items()))
    argv = ["sweep", "--grid", str(toml), "--out", str(tmp_path / "o.parquet"), "--cache", str(tmp_path / "c"),
            "--workers", "2", "--no-progress"]
    with started([sys.executable, "-c", SWEEP, "cli", str(tmp_path), *argv], cwd=ROOT, env=ENV,
                 stderr=subprocess.PIPE, text=True) as p:
        assert wait_for(lambda: len(list((tmp_path / "c").rglob("*.parquet"))) >= 2, 300)
        workers = children(p.pid)
        os.kill(p.pid, signum)
        err = p.communicate(timeout=120)[1]
    assert p.returncode == 128 + signum and "Traceback" not in err, err
    assert err.splitlines()[-1] == (f"rxlab sweep: interrupted by {signal.Signals(signum).name}; every finished run "
                                    "is in the cache and the same command resumes")
    assert wait_for(lambda: not any(map(alive, workers)), 30), "pool workers outlived the sweep"
    done = sorted((tmp_path / "c").rglob("*.parquet"))
    assert 2 <= len(done) < 10 and all(pq.read_table(f).num_rows == 1 for f in done)
    assert not (tmp_path / "o.parquet").exists()
    argv[argv.index("--workers") + 1] = "1"
    assert main(argv) == 0
    assert f"10 runs ({10 - len(done)} computed, {len(done)} from the cache" in capsys.readouterr().out


# ---------------------------------------------------------------- 11. ring sizes as the driver rounds them

def test_ring_sizes_round_up_to_a_power_of_two():
    assert [mana_set_ringparam_rx(n) for n in (128, 129, 1000, 1024, 4097, 8192)] == [128, 256, 1024, 1024, 8192, 8192]
    for n in (127, 8193, 0, 1000.0):
        with pytest.raises(ValueError) as e:
            mana_set_ringparam_rx(n)
        assert_named(e.value, "ring_size")
    assert mana_rx_geometry(4096, 1500, ring_size=1000) == mana_rx_geometry(4096, 1500, ring_size=1024)
    a, b = SimConfig(ring_size=1000, **{k: v for k, v in TINY.items() if k != "ring_size"}), \
        SimConfig(ring_size=1024, **{k: v for k, v in TINY.items() if k != "ring_size"})
    assert a == b and a.ring_size == 1024 and result_cache.run_key(a) == result_cache.run_key(b)
    ra, rb = simulate(a), simulate(b)
    np.testing.assert_array_equal(ra.counters, rb.counters)


def test_the_cli_says_the_ring_size_it_uses(capsys):
    assert main(["simulate", "--ring-size", "1000", *SIMULATE_SMALL[1:5], *SIMULATE_SMALL[7:]]) == 0
    o = capsys.readouterr()
    assert json.loads(o.out)["config"]["ring_size"] == 1024
    assert o.err == "rxlab simulate: ring_size 1000 runs as 1024 (the mana driver's ethtool -G rounds it)\n"
    assert main(["geometry", "--ring-size", "1000"]) == 0
    o = capsys.readouterr()
    assert "ring_size 1000 runs as 1024" in o.err and re.search(r"^ring_size +1024$", o.out, re.MULTILINE)


# ---------------------------------------------------------------- 8. page_pool's own DMA mappings

def test_page_pool_dma_map_failures_are_injected_freed_and_counted():
    """dma_map_fail_rate also fails page_pool_dma_map() of pool-mapped fragment pages: the page is put
    back and that allocation goes without it (net/core/page_pool.c __page_pool_alloc_page_order and
    the bulk loop of __page_pool_alloc_netmems_slow); refills that find no page drop the packet."""
    kw = {"strategy": "pp_frag", "queues": 1, "connections": 4, "ring_size": 128, "packets": 3000,
          "reader": "periodic", "app_read_us": 2000.0, "defer_free": False}  # readers hold pages: the pool must allocate
    clean, failing = (simulate(SimConfig(dma_map_fail_rate=r, **kw)) for r in (0.0, 1.0))
    assert clean.counter("dma_map_fail") == 0 and clean.counter("alloc_slow") > 0
    assert failing.counter("dma_map_fail") > 0  # before, only the driver's own mappings could fail
    assert failing.counter("alloc_slow") == 0  # every page of the slow path failed its mapping
    assert failing.counter("page_free_order0") >= failing.counter("dma_map_fail")  # each one freed
    assert failing.drops()["rx_alloc_fail"] > 0  # and the refill without a buffer dropped the packet


# ---------------------------------------------------------------- issue 25. 1: a finished run is stored first

CLI = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as from a terminal (see SWEEP)
from rxlab.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_run_finished_before_the_signal_is_stored_first(tmp_path, capsys, monkeypatch, signum):
    """The signal lands after a run finished and before it is stored (as when a compiled run that
    held the GIL returns): the run is stored, then the sweep stops, as its message says."""
    write = pq.write_table

    def signalled(*a, **k):
        signal.raise_signal(signum)
        return write(*a, **k)

    monkeypatch.setattr(pq, "write_table", signalled)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert main(sweep_argv(tmp_path)) == 128 + signum
    finally:
        signal.signal(signal.SIGINT, previous)
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"rxlab sweep: interrupted by {signal.Signals(signum).name}; every finished run is in the cache and the "
        "same command resumes")
    done = list((tmp_path / "c").rglob("*.parquet"))
    assert len(done) == 1 and pq.read_table(done[0]).num_rows == 1
    monkeypatch.setattr(pq, "write_table", write)
    assert main(sweep_argv(tmp_path)) == 0
    assert "2 runs (1 computed, 1 from the cache" in capsys.readouterr().out


@pytest.mark.jit_only
@pytest.mark.parametrize("mode", ["simulate", "sweep"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_long_run_stops_within_2_s_keeping_the_finished_ones(tmp_path, mode, signum):
    """Issue 25: a 10**9-packet run in rxlab's own process (simulate, sweep --workers 1) stops within
    2 s of SIGINT or SIGTERM, and the runs finished before it are in the cache."""
    big = {**TINY, "packets": 10**9}
    if mode == "simulate":
        argv = ["simulate", *(f"--{k.replace('_', '-')}={v}" for k, v in big.items())]
    else:
        toml = tmp_path / "g.toml"
        toml.write_text("".join("[[configs]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in c.items())
                                for c in (TINY, big)))
        argv = ["sweep", "--grid", str(toml), "--out", str(tmp_path / "o.parquet"), "--cache", str(tmp_path / "c"),
                "--workers", "1", "--no-progress"]
    with started([sys.executable, "-c", CLI, *argv], cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                 stderr=subprocess.PIPE, text=True) as p:
        if mode == "sweep":
            assert wait_for(lambda: len(list((tmp_path / "c").rglob("*.parquet"))) == 1, 300)
        assert wait_for(lambda: p.poll() is not None or cpu_seconds(p.pid) > 4, 300)  # in the long run
        assert p.poll() is None
        os.kill(p.pid, signum)
        err = p.communicate(timeout=2)[1]
    assert p.returncode == 128 + signum and "Traceback" not in err, err
    assert err.splitlines()[-1].startswith(f"rxlab {mode}: interrupted by {signal.Signals(signum).name}")
    if mode == "sweep":
        assert len(list((tmp_path / "c").rglob("*.parquet"))) == 1


@pytest.mark.parametrize("reconfigs", [(), (Reconfig(at_packet=700, mtu=9000), Reconfig(at_packet=1900, mtu=1500))],
                         ids=["plain", "reconfigured"])
def test_a_run_in_one_packet_slices_is_the_run_in_one_call(monkeypatch, reconfigs):
    """Issue 25: the compiled loop returns to Python between slices so that signals act; a run cut
    into slices of one packet is the same run, array for array, as in its one slice of the default
    size."""
    from rxlab.model import simulate as sim
    from tests.test_digest import digest

    cfg = SimConfig(**{**TINY, "packets": 3000, "ack_fraction": 0.1, "reconfigs": reconfigs})
    whole = simulate(cfg)
    calls = []
    run = sim.run
    monkeypatch.setattr(sim, "run", lambda *a: calls.append(a[3]) or run(*a))
    monkeypatch.setattr(sim, "SLICE_PACKETS", 1)
    sliced = simulate(cfg)
    assert calls == list(range(1, 3001))
    assert digest(sliced) == digest(whole)  # every array, the model time and the events


# ---------------------------------------------------------------- issue 25. 4: max_skbs is the bound

@pytest.mark.parametrize("gro", [True, False], ids=["gro", "no_gro"])
def test_max_skbs_bounds_the_skbs_whatever_gro_queues_and_budget(gro):
    """The table held max_skbs + queues x (4 + napi_budget) + 16: at max_skbs=64 with GRO and 4
    queues, 248 skbs sat in sockets at once and none dropped. Now the table holds max_skbs, and
    what exists beyond it drops, with or without GRO."""
    for queues, budget in ((1, 8), (4, 64), (64, 1024)):
        cfg = SimConfig(max_skbs=64, queues=queues, napi_budget=budget, gro=gro, packets=10**6)
        assert sizing.size_run(cfg, sizing.geometries(cfg)).n_skbs == 64
    for queues in (1, 4):
        r = simulate(SimConfig(ring_size=128, queues=queues, connections=8, max_skbs=64, packets=4000, gro=gro,
                               reader="periodic", app_read_us=2000.0))  # the readers come late: the sockets fill
        assert r.samples[:, SM.queued].max() <= 64 and r.drops()["skb_table_full"] > 0


# ---------------------------------------------------------------- issue 25: pre-allocation compiled

@pytest.mark.jit_only  # interpreted, every kernel is Python
def test_pre_allocation_is_one_compiled_call_not_a_python_loop():
    """MANA's pre-allocation on a reconfiguration was a Python loop over every buffer (~55 k a
    second: 9.5 s for 64 queues x 8,192); it is one compiled kernel whatever the ring."""
    cfg = SimConfig(queues=4, ring_size=1024, connections=4, packets=2000,
                    reconfigs=(Reconfig(at_packet=1000, mtu=9000),))
    simulate(cfg)  # every kernel loaded
    pl = rxlab.model.simulate.plan(cfg)
    st, _ = rxlab.model.simulate.build(cfg, pl)
    calls = []
    sys.setprofile(lambda frame, event, arg: calls.append(event) if event in ("call", "c_call") else None)
    try:
        bufs = DRIVERS["mana"].pre_alloc(st, cfg, pl.geoms[1], False)
    finally:
        sys.setprofile(None)
    assert len(bufs) == 4 * 1024 and len(set(bufs.tolist())) == 4096
    assert len(calls) < 100  # the loop made over 100 a buffer


@pytest.mark.jit_only  # compiled, so that loading kernels allocates nothing during the run
def test_a_reconfiguration_of_large_rings_takes_the_memory_estimated():
    """The estimate SimConfig refuses a run by (sizing.table_bytes) is within 20 % of what the run
    allocates at its peak: the tables, the invariant checks' arrays (left out before: 1.27 times the
    estimate at 64 x 8,192), and no list of every pre-allocated buffer."""
    import tracemalloc

    reconfigs = (Reconfig(at_packet=1000, mtu=9000),)
    simulate(SimConfig(queues=2, ring_size=128, connections=4, packets=2000, reconfigs=reconfigs))
    cfg = SimConfig(queues=16, ring_size=4096, packets=20_000, reconfigs=reconfigs)
    estimate = sum(sizing.table_bytes(cfg, sizing.size_run(cfg, sizing.geometries(cfg))).values())
    tracemalloc.start()
    try:
        simulate(cfg)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 0.8 < peak / estimate < 1.2, (peak, estimate)


# ---------------------------------------------------------------- issue 25: a worker's finished run is stored

STORING = """
import os, signal, sys, time
from rxlab.studies.cache import ResultCache
folder, parent, put = sys.argv[1], os.getpid(), ResultCache.put
def slow_put(self, key, table):
    if os.getpid() != parent:  # a pool worker whose run finished: it stores it slowly
        open(os.path.join(folder, f"storing-{os.getpid()}"), "w").close()
        time.sleep(2)
    return put(self, key, table)
ResultCache.put = slow_put
signal.signal(signal.SIGINT, signal.default_int_handler)  # as from a terminal (see SWEEP)
from rxlab.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.jit_only  # processes and signals; interpreted, the runs in its children add nothing (CONTRIBUTING.md)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_pool_worker_storing_its_finished_run_stores_it_before_it_stops(tmp_path, signum):
    """An interrupted sweep SIGKILLed its workers, and with them a run one had finished but not yet
    written. Now each worker stores its finished run before it stops; one mid-run stops at once."""
    toml = tmp_path / "g.toml"
    toml.write_text("\n".join(f"{k} = {toml_value(v)}" for k, v in {**GRID2, "seed": [0, 1, 2, 3]}.items()))
    argv = ["sweep", "--grid", str(toml), "--out", str(tmp_path / "o.parquet"), "--cache", str(tmp_path / "c"),
            "--workers", "2", "--no-progress"]
    with started([sys.executable, "-c", STORING, str(tmp_path), *argv], cwd=ROOT, env=ENV,
                 stderr=subprocess.PIPE, text=True) as p:
        assert wait_for(lambda: any(tmp_path.glob("storing-*")), 300), "no worker stored a run"
        os.kill(p.pid, signum)
        err = p.communicate(timeout=30)[1]
    assert p.returncode == 128 + signum and "Traceback" not in err, err
    done = list((tmp_path / "c").rglob("*.parquet"))  # the parent's first run, and every worker's put
    assert len(done) == 1 + len(list(tmp_path.glob("storing-*"))) < 8
    assert all(pq.read_table(f).num_rows == 1 for f in done)


# ---------------------------------------------------------------- issue 25. 2: df.attrs written with the frame

def test_invalid_points_with_reconfigs_are_written_with_the_frame(tmp_path, capsys):
    """A grid with an invalid combination and reconfigurations: the frame and its attrs go to parquet,
    through the API and the command line."""
    grid = {**{k: [v] for k, v in TINY.items()}, "page_size": [4096], "mtu": [1500, 9000], "xdp": ["pass"],
            "reconfigs": [[Reconfig(100, mtu=1500)]], "online_cpus": [np.int64(8)]}
    df = quiet(grid, tmp_path / "c")
    [point] = df.attrs["invalid"]
    assert point["mtu"] == 9000 and point["online_cpus"] == 8 and type(point["online_cpus"]) is int
    assert point["reconfigs"] == df.reconfigs.iloc[0] == str(({"at_packet": 100, "mtu": 1500, "xdp": None,
                                                                "fail": False},))
    df.to_parquet(tmp_path / "api.parquet")
    assert pd.read_parquet(tmp_path / "api.parquet").attrs["invalid"] == df.attrs["invalid"]
    toml = tmp_path / "g.toml"
    toml.write_text("".join(f"{k} = {toml_value(v[0] if k == 'reconfigs' else v)}\n" for k, v in grid.items()
                            if k not in ("reconfigs", "online_cpus"))
                    + "reconfigs = [[{at_packet = 100, mtu = 1500}]]\n")
    argv = ["sweep", "--grid", str(toml), "--out", str(tmp_path / "o.parquet"), "--cache", str(tmp_path / "c"),
            "--workers", "1", "--no-progress"]
    assert main(argv) == 0, capsys.readouterr().err
    out = pd.read_parquet(tmp_path / "o.parquet")
    assert len(out) == 1 and out.attrs["invalid"][0]["reconfigs"] == point["reconfigs"]


# ---------------------------------------------------------------- issue 25. 3: outputs only over regular files

def not_regular_files(folder):
    """{kind: path} of what a write must not replace: a FIFO, symlinks (to a file, dangling), a
    socket and, where this process may make one, a device node (a copy of /dev/null's)."""
    import socket

    folder.mkdir(exist_ok=True)
    (folder / "target").write_text("keep")
    made = {"a FIFO": folder / "fifo", "a symlink": folder / "link", "a socket": folder / "sock"}
    os.mkfifo(made["a FIFO"])
    made["a symlink"].symlink_to(folder / "target")
    (folder / "dangling").symlink_to(folder / "nowhere")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(made["a socket"]))
    try:
        os.mknod(folder / "null", 0o666 | 0o020000, os.makedev(1, 3))  # S_IFCHR
        made["a device node"] = folder / "null"
    except OSError:  # no CAP_MKNOD
        pass
    return {**made, "a symlink ": folder / "dangling"}


def test_out_is_refused_unless_a_regular_file_or_a_new_path(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(rxlab.studies.sweep, "simulate", lambda cfg: pytest.fail("ran before checking --out"))
    for kind, out in not_regular_files(tmp_path / "x").items():
        before = os.lstat(out)
        argv = sweep_argv(tmp_path)
        argv[argv.index("--out") + 1] = str(out)
        assert main(argv) == 2
        assert capsys.readouterr().err.splitlines()[-1] == \
            f"rxlab sweep: error: out='{out}' is not allowed: a regular file or a new path, not {kind.strip()}"
        assert os.lstat(out) == before
    assert (tmp_path / "x" / "target").read_text() == "keep" and not (tmp_path / "x" / "nowhere").exists()


def test_every_write_refuses_what_is_not_a_regular_file(tmp_path):
    """The API's writers too (report pages, cache files) go through atomic_path."""
    from rxlab.atomic import atomic_path

    for kind, path in not_regular_files(tmp_path).items():
        with pytest.raises(ValueError) as e:
            write_page(path, "t", "b")
        assert_named(e.value, "path")
        assert str(e.value).endswith(f"not {kind.strip()}")
        with pytest.raises(ValueError), atomic_path(path, "out"):
            pytest.fail("opened a write over " + kind)
    assert (tmp_path / "target").read_text() == "keep" and sorted(p.name for p in tmp_path.glob(".*.tmp")) == []


@pytest.mark.parametrize("kind", ["fifo", "link"])
def test_a_fifo_or_symlink_in_the_cache_is_named_not_read(tmp_path, kind):
    """A FIFO where a cached result belongs would block its reader forever (beyond SIGTERM)."""
    cfg = expand(GRID2)[0][0]
    path = result_cache.ResultCache(tmp_path / "c").path(result_cache.run_key(cfg))
    path.parent.mkdir(parents=True)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(tmp_path / "elsewhere")
    p = subprocess.run([sys.executable, "-m", "rxlab", *sweep_argv(tmp_path)], cwd=ROOT, env=ENV,
                       capture_output=True, text=True, check=False, timeout=120)
    what = "a FIFO" if kind == "fifo" else "a symlink"
    one_line_error(p, 1, f"rxlab sweep: error: {what} where a cached result belongs (remove it): {path}")


# ---------------------------------------------------------------- issue 25. 8: deep, long and zero values

def test_a_deep_grid_and_a_long_value_are_one_short_line(tmp_path, capsys):
    deep = 1
    for _ in range(5000):
        deep = [deep]
    toml = tmp_path / "deep.toml"
    toml.write_text("packets = " + "[" * 5000 + "1" + "]" * 5000 + "\n")
    argv = sweep_argv(tmp_path)
    argv[argv.index("--grid") + 1] = str(toml)
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"rxlab sweep: error: grid='{toml}' is not allowed: a TOML file of values nested a few levels deep, "
        "not thousands")
    for grid in ({"packets": deep}, {"packets": [deep]}, [{"packets": deep}], {"xdp": [[1, 0, 0, 0], deep]},
                 {"reconfigs": [deep]}, {"mtu": [1500, "x" * 5_000_000]}, {"x" * 5_000_000: [1]}):
        with pytest.raises(ValueError) as e:
            quiet(grid, tmp_path / "c")
        assert_named(e.value)
        assert len(str(e.value)) < 1000, str(e.value)[:1000]  # the value cut to 200 characters
    with pytest.raises(ValueError) as e:
        SimConfig(strategy="y" * 5_000_000)
    assert_named(e.value, "strategy")
    assert "... (5,000,002 characters) is not allowed" in str(e.value) and len(str(e.value)) < 600


@pytest.mark.parametrize("value", ["0", "-1"])
def test_max_runs_below_one_is_named(tmp_path, capsys, value):
    assert main(sweep_argv(tmp_path, "--max-runs", value)) == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"rxlab sweep: error: max_runs={value} is not allowed: 1..1000000000000"


@pytest.mark.no_engine
def test_a_server_that_is_not_a_dask_scheduler_times_out(tmp_path):
    """It accepts the connection and never answers: Client() alone would wait forever."""
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        argv = sweep_argv(tmp_path)
        host, port = s.getsockname()
        argv[argv.index("--workers"):argv.index("--workers") + 2] = ["--scheduler", f"tcp://{host}:{port}"]
        p = rxlab_cli(*argv, env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"})
    one_line_error(p, 1, f"rxlab sweep: error: {argv[argv.index('--scheduler') + 1]} did not answer as a Dask "
                         "scheduler within 3 s")


def test_a_dask_scheduler_passes_the_check():
    distributed = pytest.importorskip("distributed")
    from rxlab.cli import _check_scheduler

    with distributed.LocalCluster(n_workers=0, dashboard_address=None) as cluster:
        _check_scheduler(cluster.scheduler_address)


# ---------------------------------------------------------------- issue 25. 8: the cache's leftovers and sharers

def test_stale_temporary_files_are_removed_when_a_sweep_starts(tmp_path):
    quiet(GRID2, tmp_path / "c")
    folder = min((tmp_path / "c").rglob("*.parquet")).parent
    old, fresh = folder / ".x.parquet.abc.tmp", folder / ".y.parquet.def.tmp"
    old.write_text("killed mid-write")
    fresh.write_text("a concurrent sweep's write in progress")
    os.utime(old, (time.time() - result_cache.STALE_SECONDS - 60,) * 2)
    assert quiet({**GRID2, "seed": [1]}, tmp_path / "c").attrs["sweep"]["computed"] == 2
    assert not old.exists() and fresh.exists()


def test_a_run_another_live_sweep_claimed_is_waited_for(tmp_path, counted):
    import socket
    import threading

    cfgs = expand(GRID2)[0]
    store = result_cache.ResultCache(tmp_path / "c")
    key = result_cache.run_key(cfgs[1])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        claim = store.path(key).with_suffix(".claim")
        claim.parent.mkdir(parents=True)
        claim.write_text(f"{socket.gethostname()} {other.pid}\n")

        def the_other_sweep():  # stores its run a second later
            time.sleep(1)
            store.put(key, pa.Table.from_pandas(simulate(cfgs[1]).to_frame(), preserve_index=False))
            store.release(key)

        t = threading.Thread(target=the_other_sweep)
        ran = counted
        t.start()
        df = quiet(GRID2, tmp_path / "c")
        t.join()
    finally:
        other.kill()
        other.wait()
    assert ran == cfgs[:1] and df.attrs["sweep"]["computed"] == 1 and df.attrs["sweep"]["cached"] == 1
    assert not list((tmp_path / "c").rglob("*.claim"))


def test_a_claim_of_a_dead_sweep_is_taken_over(tmp_path, counted):
    import socket

    cfgs = expand(GRID2)[0]
    store = result_cache.ResultCache(tmp_path / "c")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for cfg in cfgs:
        claim = store.path(result_cache.run_key(cfg)).with_suffix(".claim")
        claim.parent.mkdir(parents=True, exist_ok=True)
        claim.write_text(f"{socket.gethostname()} {dead.pid}\n")  # killed by kill -9
    ran = counted
    assert quiet(GRID2, tmp_path / "c").attrs["sweep"]["computed"] == 2 and ran == cfgs
    assert not list((tmp_path / "c").rglob("*.claim"))


CONCURRENT = """
import sys, time, warnings
import rxlab.studies.sweep as s
from rxlab.model.simulate import simulate
def slow(cfg):
    time.sleep(0.3)
    return simulate(cfg)
s.simulate = slow
warnings.simplefilter("ignore")
df = s.sweep(eval(sys.argv[1]), cache=sys.argv[2], workers=int(sys.argv[3]), progress=False)
print(df.attrs["sweep"]["computed"], len(df))
"""


@pytest.mark.jit_only  # processes and signals; interpreted, the runs in its children add nothing (CONTRIBUTING.md)
@pytest.mark.parametrize("workers", [1, 2])
def test_concurrent_sweeps_on_one_cache_compute_each_run_once(tmp_path, workers):
    grid = {**GRID2, "seed": list(range(4))}
    ps = [subprocess.Popen([sys.executable, "-c", CONCURRENT, repr(grid), str(tmp_path / "c"), str(workers)],
                           cwd=ROOT, env=ENV, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600)[0].split() for p in ps]
    assert all(p.returncode == 0 for p in ps) and all(n == "8" for _, n in outs), outs
    assert sum(int(c) for c, _ in outs) == 8, outs
    assert len(list((tmp_path / "c").rglob("*.parquet"))) == 8 and not list((tmp_path / "c").rglob("*.claim"))


def test_a_cached_run_is_a_compact_file_and_reads_beside_older_ones(tmp_path):
    """~22 KB a run, not ~117 KB (101 KB of it the footer); a file an earlier rxlab wrote (pandas
    metadata, large_string text, statistics) is still served and concatenates with new ones."""
    want = quiet(GRID2, tmp_path / "ref")
    quiet(GRID2, tmp_path / "c")
    files = sorted((tmp_path / "c").rglob("*.parquet"))
    assert all(f.stat().st_size < 30_000 for f in files), [f.stat().st_size for f in files]
    old = pa.Table.from_pandas(pq.read_table(files[0]).to_pandas(), preserve_index=False)
    old = old.cast(pa.schema([f.with_type(pa.large_string()) if pa.types.is_string(f.type) else f
                              for f in old.schema], metadata=old.schema.metadata))
    pq.write_table(old, files[0])  # as rxlab wrote it before
    assert files[0].stat().st_size > 60_000
    files[1].unlink()  # computed afresh, beside the old file's row
    df = quiet(GRID2, tmp_path / "c")
    assert df.attrs["sweep"]["computed"] == 1
    pd.testing.assert_frame_equal(df, want)


# ---------------------------------------------------------------- issue 25. 6: a page that cannot be written

def test_a_page_that_cannot_be_written_is_listed_and_the_rest_built(tmp_path):
    nbs, out = tmp_path / "nb", tmp_path / "out"
    nbs.mkdir()
    out.mkdir()
    long = "01_" + "x" * 241  # its page's name is 249 bytes, legal; with the temporary suffix it was not
    for stem in ("00_first", long, "02_blocked", "03_last"):
        nbformat.write(notebook(stem, "print(1)"), nbs / f"{stem}.ipynb")
    os.mkfifo(out / "02_blocked.html")  # not a regular file: never replaced, never read
    log = tmp_path / "log"
    with open(log, "w") as f:
        index, failed = build_reports(out, quick=True, notebooks=nbs, log=f)
    assert failed == ["02_blocked"]
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted(
        ["00_first.html", f"{long}.html", "03_last.html", "index.html"])
    assert (out / "02_blocked.html").is_fifo()
    assert ("[3/4] 02_blocked ... FAILED: page not written: ValueError: path='"
            f"{out / '02_blocked.html'}' is not allowed: a regular file or a new path, not a FIFO") in log.read_text()
    text = "".join(Tags(index.read_text()).text)
    assert "02_blocked" in text and "page not written" in text
    assert not list(out.glob(".*.tmp"))


# ---------------------------------------------------------------- issue 25. 5: online_cpus bounds the readers

def test_applications_read_only_on_cpus_that_exist():
    """An 8-CPU VM never reads on 64 other CPUs, and its throughput is never priced on them."""
    kw = {**{k: v for k, v in TINY.items() if k != "queues"}, "packets": 2000, "connections": 64, "online_cpus": 8}
    for queues, reading in ((4, 4), (8, 0)):
        runs = [simulate(SimConfig(queues=queues, reader_cpus=n, **kw)) for n in (64, reading or 1)]
        assert runs[0].config.reading_cpus == reading
        app = runs[0].conn[:, rxlab.engine.layout.CN.app_cpu]
        assert app.max() < 8 and runs[0].reader_cpus_busy == reading
        np.testing.assert_array_equal(runs[0].counters, runs[1].counters)  # 64 readers asked, `reading` there
        gbps = [rxlab.throughput(r, rxlab.platform("typical_arm64")).iloc[0].gbps for r in runs]
        assert gbps[0] == gbps[1]
    napi = simulate(SimConfig(queues=8, app_cpus="napi", **kw))
    np.testing.assert_array_equal(runs[0].counters, napi.counters)  # no CPU beyond the NAPI ones: read there
    assert SimConfig().online_cpus == 4096 and SimConfig().reading_cpus == 64  # the default: never the limit
