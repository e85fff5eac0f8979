"""calibrate(): recovers known parameters from a synthetic table, flags parameters the data
cannot identify, rejects bad arguments, and fits seed 001's table (error on held-out rows
reported as it is)."""

import numpy as np
import pandas as pd
import pytest

import rxlab
from rxlab.cost.pricing import throughput
from rxlab.cost.profiles import load_platforms
from rxlab.studies.claims import seed001_table


@pytest.fixture(scope="module")
def base():
    return load_platforms()["typical_arm64"]


@pytest.fixture(scope="module")
def rows():
    """Small runs on 1-2 busy RX cores (so the CPU bound binds), with cross-CPU frees."""
    out = []
    for strategy in ("pp_frag", "full_page"):
        for conns in (1, 2):
            out.append(rxlab.simulate(rxlab.SimConfig(page_size=4096, strategy=strategy, connections=conns,
                                                      queues=2, ring_size=128, packets=3000,
                                                      defer_free=False)).to_frame())
    return pd.concat(out, ignore_index=True)


def test_recovers_known_parameters(rows, base):
    truth = base.with_values(stack_per_packet=1500.0, atomic_rmw_remote=400.0, source="truth")
    table = rows.assign(gbps=throughput(rows, truth).gbps)
    cal = rxlab.calibrate(base, table, ["stack_per_packet", "atomic_rmw_remote"])
    fitted = cal.parameters.set_index("parameter").fitted
    assert fitted["stack_per_packet"] == pytest.approx(1500.0, rel=1e-3)
    assert fitted["atomic_rmw_remote"] == pytest.approx(400.0, rel=1e-3)
    assert cal.rms() < 1e-3
    assert cal.parameters.identifiable.all() and (cal.parameters.rel_stderr < 1e-3).all()
    assert cal.profile["stack_per_packet"] == pytest.approx(1500.0, rel=1e-3)
    assert "fitted by rxlab.calibrate to 4 measured rows" in cal.profile.sources["atomic_rmw_remote"]
    assert cal.profile.sources["dma_map"] == base.sources["dma_map"]  # untouched parameters keep theirs
    assert list(cal.residuals.columns) == ["strategy", "connections", "page_size", "mtu", "measured", "model",
                                           "binds", "train", "residual", "relative"]


def test_held_out_rows_are_scored_not_fitted(rows, base):
    truth = base.with_values(stack_per_packet=1300.0, source="truth")
    table = rows.assign(gbps=throughput(rows, truth).gbps * np.array([1.0, 1.0, 1.0, 1.2]))
    train = np.array([True, True, True, False])
    cal = rxlab.calibrate(base, table, ["stack_per_packet"], train=train)
    assert cal.parameters.fitted[0] == pytest.approx(1300.0, rel=1e-3)
    assert cal.rms(train=True) < 1e-3
    held = cal.residuals[~cal.residuals.train].iloc[0]
    assert held.relative == pytest.approx(1 / 1.2 - 1, rel=1e-3)


def test_unidentifiable_parameter_is_left_alone(rows, base):
    table = rows.assign(gbps=throughput(rows, base).gbps * 0.9)
    # without an IOMMU nothing prices dma_unmap_iommu: the data cannot move it
    cal = rxlab.calibrate(base, table, ["stack_per_packet", "dma_unmap_iommu"])
    p = cal.parameters.set_index("parameter")
    assert not p.identifiable["dma_unmap_iommu"] and p.fitted["dma_unmap_iommu"] == base["dma_unmap_iommu"]
    assert np.isnan(p.rel_stderr["dma_unmap_iommu"])
    assert p.identifiable["stack_per_packet"] and p.fitted["stack_per_packet"] > base["stack_per_packet"]


@pytest.mark.parametrize("kw,needle", [
    ({"free": []}, "free=[] is not allowed: a non-empty list"),
    ({"free": ["warp"]}, "free='warp' is not allowed: names of continuous profile parameters"),
    ({"free": ["rx_cores"]}, "free='rx_cores' is not allowed"),
    ({"free": ["stack_per_packet", "stack_per_packet"]}, "each parameter named once"),
    ({"free": ["stack_per_packet"], "max_iter": 0}, "max_iter=0 is not allowed: 1..100000"),
    ({"free": ["stack_per_packet"], "target": "measured_gbps"}, "target='measured_gbps' is not allowed"),
    ({"free": ["stack_per_packet"], "train": [True]}, "train=[True] is not allowed: a boolean mask of 4 rows"),
])
def test_bad_arguments(rows, base, kw, needle):
    with pytest.raises(ValueError) as e:
        rxlab.calibrate(base, rows.assign(gbps=100.0), **kw)
    assert needle in str(e.value)


@pytest.mark.jit_only  # 14 simulations of 60,000 packets
def test_seed001_fit_reproduces_the_stored_profile_and_reports_held_out_error():
    """The affected_arm64 profile's fitted values come from this fit; its error is what it is."""
    profiles = load_platforms()
    table = seed001_table()
    train = table.connections.isin([4, 16, 32, 128]).to_numpy()
    cal = rxlab.calibrate(profiles["typical_arm64"], table, ["stack_per_packet", "atomic_rmw_remote"],
                          train=train)
    for k in ("stack_per_packet", "atomic_rmw_remote"):
        assert cal.profile[k] == pytest.approx(profiles["affected_arm64"][k], rel=1e-3)
    # the model fits the CPU-bound 4-connection rows and nothing else: every row from 8
    # connections up is line-bound at 188 Gbps, so the fragment rows' drop is not reproduced
    assert cal.rms(train=True) == pytest.approx(19.9, abs=0.1)
    assert cal.rms(train=False) == pytest.approx(27.2, abs=0.1)
    # only the 1 Gbps gap between the two 4-connection rows speaks to the cross-CPU atomic
    err = cal.parameters.set_index("parameter").rel_stderr
    assert err["stack_per_packet"] == pytest.approx(0.41, abs=0.01) and err["atomic_rmw_remote"] > 1.5
    res = cal.residuals.set_index(["connections", "strategy"])
    assert res.loc[(4, "pp_frag"), "residual"] == pytest.approx(0.0, abs=0.01)
    assert (res.loc[(32, "pp_frag"), "binds"], round(res.loc[(32, "pp_frag"), "residual"])) == ("line", 52)
