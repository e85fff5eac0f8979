"""The cost model: profiles and their validation, cycles per packet by operation, the three
throughput bounds, attribution, and pricing tidy rows without the live Result."""

import io

import numpy as np
import pandas as pd
import pytest

import rxlab
from rxlab.cost.pricing import ESTIMATE_NOTE, OPERATIONS, throughput
from rxlab.cost.profiles import PARAMS, Profile, load_platforms
from rxlab.engine.layout import CN, QS
from rxlab.kernel.tcp import TCP_IP_HEADERS

PLATFORMS = ("x86_64_server", "typical_arm64", "affected_arm64")


@pytest.fixture(scope="module")
def profiles():
    return load_platforms()


@pytest.fixture(scope="module")
def run():
    return rxlab.simulate(rxlab.SimConfig(page_size=4096, strategy="pp_frag", queues=2, ring_size=128,
                                          connections=4, packets=3000, defer_free=False))


def zero_row(run, **counts):
    """A tidy row of a real run with every counter set to zero except ``counts``."""
    row = run.to_frame()
    for c in rxlab.counters.Ctr:
        row[c.name] = 0
    for k, v in counts.items():
        row[k] = v
    return row


def test_every_profile_has_every_parameter_with_a_source(profiles):
    assert set(PLATFORMS) <= set(profiles)
    for p in profiles.values():
        assert set(p.values) == set(PARAMS)
        assert all(p.sources[k].strip() for k in PARAMS)
    assert profiles["x86_64_server"].arch == "x86_64"
    assert "fitted by rxlab.calibrate" in profiles["affected_arm64"].sources["atomic_rmw_remote"]
    # bench_page_pool_simple: 5.4 ns per fast-path alloc+recycle at 3.6 GHz
    x86 = profiles["x86_64_server"]
    assert x86["pp_alloc_fast"] + x86["pp_recycle_cached"] == pytest.approx(5.4 * 3.6, abs=0.1)


@pytest.mark.parametrize("change,needle", [
    ({"atomic_rmw": -3.0}, "typical_arm64.atomic_rmw=-3.0 is not allowed: a number in 1.0..2000.0 (cycles)"),
    ({"rx_cores": 2.5}, "typical_arm64.rx_cores=2.5 is not allowed: an integer in 1..512"),
    ({"clock_ghz": float("nan")}, "typical_arm64.clock_ghz=nan is not allowed"),
    ({"iommu": True}, "typical_arm64.iommu=True is not allowed"),
    ({"warp_drive": 1.0}, "typical_arm64.warp_drive=1.0 is not allowed: one of clock_ghz"),
])
def test_bad_values_name_platform_field_and_range(profiles, change, needle):
    with pytest.raises(ValueError, match=None) as e:
        profiles["typical_arm64"].with_values(**change)
    assert needle in str(e.value)


def test_missing_value_source_or_arch(profiles):
    p = profiles["x86_64_server"]
    values = dict(p.values)
    del values["dma_map"]
    with pytest.raises(ValueError, match=r"x86_64_server.dma_map=None is not allowed: required"):
        Profile("x86_64_server", "", "x86_64", values, p.sources)
    with pytest.raises(ValueError, match=r"x86_64_server.dma_map.source='' is not allowed"):
        Profile("x86_64_server", "", "x86_64", p.values, {**p.sources, "dma_map": ""})
    with pytest.raises(ValueError, match=r"x86_64_server.arch='sparc' is not allowed"):
        Profile("x86_64_server", "", "sparc", p.values, p.sources)


def test_file_errors(tmp_path):
    f = tmp_path / "platforms.toml"
    f.write_text('[box]\narch = "arm64"\nclock_ghz = 3.0\n')
    with pytest.raises(ValueError, match=r"box.clock_ghz=3.0 is not allowed: an inline table"):
        load_platforms(f)
    with pytest.raises(ValueError, match=r"platform='nope' is not allowed: one of x86_64_server"):
        rxlab.platform("nope")
    f.write_text('[box]\nbase = "later"\n[later]\narch = "arm64"\n')
    with pytest.raises(ValueError, match=r"box.base='later' is not allowed: a platform defined above it"):
        load_platforms(f)


def test_a_variant_takes_its_base_parameters_and_sources(profiles):
    t, a = profiles["typical_arm64"], profiles["affected_arm64"]
    own = {"clock_ghz", "stack_per_packet", "atomic_rmw_remote"}  # what data/platforms.toml gives it
    assert set(a.values) == set(t.values) and a.arch == t.arch
    assert all(a.values[k] == t.values[k] and a.sources[k] == t.sources[k] for k in set(t.values) - own)
    assert a["stack_per_packet"] != t["stack_per_packet"] and "fitted" in a.sources["stack_per_packet"]


def test_rows_must_be_tidy_result_rows(run, profiles):
    with pytest.raises(ValueError, match=r"rows\['atomic_rmw_remote'\]=None is not allowed: a column of Result"):
        throughput(run.to_frame().drop(columns="atomic_rmw_remote"), profiles["x86_64_server"])
    with pytest.raises(ValueError, match=r"rows='list' is not allowed: a Result"):
        throughput([1, 2], profiles["x86_64_server"])


def test_cycles_per_packet_by_hand(run, profiles):
    p = profiles["typical_arm64"]
    row = zero_row(run, packets=1000, atomic_rmw=500, atomic_rmw_remote=200, dma_map=1000, dma_unmap=1000,
                   ptr_ring_produce=250, refcnt_read_remote=100, bytes_copied=64000, page_alloc_order3=10)
    want = (p["stack_per_packet"] + 0.3 * p["atomic_rmw"] + 0.2 * p["atomic_rmw_remote"] + p["dma_map"]
            + p["dma_unmap"] + 0.25 * p["ptr_ring_produce"] + 0.1 * p["cacheline_transfer"]
            + 64 * p["copy_per_byte"] + 0.01 * p["page_alloc_order3"])
    assert rxlab.cost.pricing.cycles_per_packet(row, p)[0] == pytest.approx(want)
    # behind an IOMMU the same counts are priced with the IOMMU costs
    q = p.with_values(iommu=1, source="test")
    extra = q["dma_map_iommu"] - p["dma_map"] + q["dma_unmap_iommu"] - p["dma_unmap"]
    assert rxlab.cost.pricing.cycles_per_packet(row, q)[0] == pytest.approx(want + extra)


def test_three_bounds_and_which_binds(run, profiles):
    p = profiles["x86_64_server"]
    row = zero_row(run, packets=1000)  # the stack cost alone
    mtu = int(row["mtu"][0])
    payload = mtu - TCP_IP_HEADERS
    line_sim = float(row["link_gbps"][0]) * payload / (mtu + 38)
    row["goodput_gbps"] = line_sim * 0.99  # the link, not the window, limited the simulation
    t = throughput(row, p).iloc[0]
    cores = int(row["rx_queues_busy"][0])
    assert t.rx_cores == cores >= 1
    assert t.pps_per_core == pytest.approx(p["clock_ghz"] * 1e9 / p["stack_per_packet"])
    assert t.gbps_cpu == pytest.approx(cores * t.pps_per_core * payload * 8 / 1e9)
    assert t.gbps_line == pytest.approx(p["link_gbps"] * payload / (mtu + 38))
    assert t.gbps_window == np.inf
    assert (t.gbps, t.binds) == (min(t.gbps_line, t.gbps_cpu), "line" if t.gbps_line < t.gbps_cpu else "cpu")
    slow = p.with_values(stack_per_packet=20000.0, source="test")
    assert throughput(row, slow).binds[0] == "cpu"
    row["goodput_gbps"] = 3.0
    t = throughput(row, p).iloc[0]
    assert (t.gbps, t.binds, t.gbps_window) == (3.0, "window", 3.0)
    assert t.note == ESTIMATE_NOTE and "ESTIMATE" in t.note


def test_rx_cores_are_the_queues_that_received_packets(run, profiles):
    busy = run.metrics()["rx_queues_busy"]
    assert busy == len(set(run.conn[:, CN.queue])) == (run.qstats[:, QS.rx_packets] > 0).sum()
    row = run.to_frame()
    row["rx_queues_busy"] = 1
    assert throughput(row, profiles["x86_64_server"]).rx_cores[0] == 1
    row["rx_queues_busy"] = 16
    assert throughput(row, profiles["x86_64_server"]).rx_cores[0] == 16
    assert throughput(row, profiles["x86_64_server"].with_values(rx_cores=3, source="t")).rx_cores[0] == 3


def test_attribution_is_a_perf_top(run, profiles):
    p = profiles["affected_arm64"]
    att = rxlab.attribution_frame(run, p)
    assert list(att.columns) == ["row", "platform", "category", "operation", "counter", "count_per_packet",
                                 "parameter", "cycles_per_op", "cycles_per_packet", "source", "share"]
    assert len(att) == len(OPERATIONS) and "ESTIMATE" in att.attrs["note"]
    assert att["cycles_per_packet"].is_monotonic_decreasing  # costliest first
    params = p.frame()
    assert len(params) == len(PARAMS) and params.source.str.len().min() > 0
    assert att["share"].sum() == pytest.approx(1.0)
    assert att["cycles_per_packet"].sum() == pytest.approx(rxlab.throughput(run, p).cycles_per_packet[0])
    remote = att.set_index("operation").loc["atomic_rmw_remote"]
    pk = run.metrics()["packets"]
    assert remote.count_per_packet == pytest.approx(run.counter("atomic_rmw_remote") / pk)
    assert remote.count_per_packet > 0  # frees on the reading CPU: cross-CPU refcount traffic
    assert remote.cycles_per_op == p["atomic_rmw_remote"] and "fitted" in remote.source


def test_frames_are_priced_without_the_result(run, profiles):
    """A cached tidy frame (here through CSV) prices exactly as the live Result, row by row."""
    other = rxlab.simulate(run.config.replace(strategy="full_page"))
    frame = pd.concat([run.to_frame(), other.to_frame()], ignore_index=True)
    cached = pd.read_csv(io.StringIO(frame.to_csv(index=False)))
    p = profiles["x86_64_server"]
    both = throughput(cached, p)
    for i, r in enumerate((run, other)):
        one = rxlab.throughput(r, p).iloc[0]
        assert both.gbps[i] == pytest.approx(one.gbps) and both.binds[i] == one.binds
    priced = rxlab.cost.pricing.price(cached, [profiles[n] for n in PLATFORMS])
    assert len(priced) == 6 and set(priced.platform) == set(PLATFORMS)
    # full pages are DMA-mapped and unmapped by the driver per packet; fragments are mapped per page
    att = rxlab.attribution_frame(cached, p)
    unmap = att[att.operation == "dma_unmap"].set_index("row").count_per_packet
    assert unmap[1] == pytest.approx(1.0, abs=0.01)
    # fragments: unmapped only when a page leaves its pool (ptr_ring full on cross-CPU returns)
    assert unmap[0] == pytest.approx(run.counter("dma_unmap") / run.metrics()["packets"]) and unmap[0] < 0.5


def test_mechanism_steps(run, profiles):
    """From full pages to fragments one mechanism at a time: each step swaps only its own counts, the
    last step is the target's estimate, and a window that binds hides every CPU saving behind it."""
    full = rxlab.simulate(run.config.replace(strategy="full_page"))
    p = profiles["typical_arm64"]
    steps = rxlab.cost.pricing.mechanism_steps(full, run, p)
    assert list(steps["mechanism"]) == ["base", "window", *rxlab.cost.pricing.CATEGORIES]
    assert steps["gbps"].iloc[0] == pytest.approx(rxlab.throughput(full, p).gbps[0])
    assert steps["gbps"].iloc[-1] == pytest.approx(rxlab.throughput(run, p).gbps[0])
    assert steps["cycles_per_packet"].iloc[-1] == pytest.approx(rxlab.throughput(run, p).cycles_per_packet[0])
    assert steps["delta_gbps"].sum() == pytest.approx(steps["gbps"].iloc[-1] - steps["gbps"].iloc[0])
    assert "ESTIMATE" in steps["note"].iloc[0]
    # the dma step moves the cycles by exactly the difference of the two runs' dma cycles per packet
    dma = [rxlab.attribution_frame(r, p).groupby("category").cycles_per_packet.sum()["dma"] for r in (full, run)]
    s = steps.set_index("mechanism")
    before = s.loc[rxlab.cost.pricing.CATEGORIES[rxlab.cost.pricing.CATEGORIES.index("dma") - 1], "cycles_per_packet"]
    assert s.loc["dma", "cycles_per_packet"] == pytest.approx(before - dma[0] + dma[1])
    # a base held by a small window: a CPU-only step gives nothing until the window is swapped
    row = full.to_frame()
    row["goodput_gbps"] = 1.0
    rest = tuple(c for c in rxlab.cost.pricing.CATEGORIES if c != "dma")
    held = rxlab.cost.pricing.mechanism_steps(row, run, p, order=("dma", "window", *rest))
    assert list(held["binds"][:2]) == ["window", "window"] and held["delta_gbps"].iloc[1] == 0
    with pytest.raises(ValueError, match="target.connections"):
        rxlab.cost.pricing.mechanism_steps(full, rxlab.simulate(run.config.replace(connections=8)), p)
    with pytest.raises(ValueError, match="order"):
        rxlab.cost.pricing.mechanism_steps(full, run, p, order=("window", "tlb"))
    with pytest.raises(ValueError, match="order=.*each of window"):  # a partial order ends short of the target
        rxlab.cost.pricing.mechanism_steps(full, run, p, order=("dma", "window"))


def test_every_defer_attempt_pays_the_defer_count_atomic(profiles):
    """skb_attempt_defer_free() increments defer_count before it finds the list full: the
    atomic is priced per attempt, the llist_add only for the skbs really deferred."""
    r = rxlab.simulate(rxlab.SimConfig(packets=2000, queues=2, connections=64, gro=False, app_read_us=10.0,
                                       skb_defer_max=8))
    assert r.counter("skb_defer_full") > 0 and r.counter("skb_defer_free") > 0
    att = rxlab.attribution_frame(r, profiles["typical_arm64"]).set_index("operation")["count_per_packet"]
    pk = r.metrics()["packets"]
    assert att["skb_attempt_defer_free: defer_count inc"] == pytest.approx(
        (r.counter("skb_defer_free") + r.counter("skb_defer_full")) / pk)
    assert att["skb_defer_free: llist_add"] == pytest.approx(r.counter("skb_defer_free") / pk)
