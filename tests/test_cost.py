"""The cost model: profiles and their validation, cycles per packet by operation, the three
throughput bounds, attribution, and pricing tidy rows without the live Result."""

import io

import numpy as np
import pandas as pd
import pytest

import rxlab
from rxlab.cost.pricing import DEVICE_CATEGORY, ESTIMATE_NOTE, OPERATIONS, TPA_NOTE, throughput
from rxlab.cost.profiles import CLASSES, HELD, PARAMS, Profile, load_platforms
from rxlab.engine.layout import CN, QS
from rxlab.kernel.tcp import TCP_IP_HEADERS

PLATFORMS = ("x86_64_server", "typical_arm64", "affected_arm64")


@pytest.fixture(scope="module")
def profiles():
    return load_platforms()


@pytest.fixture(scope="module")
def run(simulated):
    """Four connections on two queues, frees on the reading CPUs (shared with test_robustness)."""
    return simulated(rxlab.SimConfig(page_size=4096, strategy="pp_frag", queues=2, ring_size=128,
                                     connections=4, packets=3000, defer_free=False))


@pytest.fixture(scope="module")
def full(run, simulated):
    """``run`` with a full page per buffer."""
    return simulated(run.config.replace(strategy="full_page"))


def zero_row(run, **counts):
    """A tidy row of a real run with every counter set to zero except ``counts``."""
    row = run.to_frame()
    for c in rxlab.counters.Ctr:
        row[c.name] = 0
        row[rxlab.counters.READER_PREFIX + c.name] = 0  # what is left, on the NAPI CPUs
    for k, v in counts.items():
        row[k] = v
    return row


def test_every_profile_has_every_parameter_with_a_source(profiles):
    assert set(PLATFORMS) <= set(profiles)
    for p in profiles.values():
        assert set(p.values) == set(PARAMS)
        assert all(p.sources[k].strip() for k in PARAMS)
        assert all(p.lows[k] <= p.values[k] <= p.highs[k] for k in PARAMS)
        assert set(p.classes.values()) <= set(CLASSES)
    assert profiles["x86_64_server"].arch == "x86_64"
    # nothing in any profile is fitted to the table it is judged against
    assert not any("fitted" in src for p in profiles.values() for src in p.sources.values())
    # bench_page_pool_simple: 5.4 ns per fast-path alloc+recycle at 3.6 GHz
    x86 = profiles["x86_64_server"]
    assert x86["pp_alloc_fast"] + x86["pp_recycle_cached"] == pytest.approx(5.4 * 3.6, abs=0.1)
    # ARM64 costs are the published ARM64 figures (Huawei server, Graviton), converted at 3.0 GHz
    arm = profiles["affected_arm64"]
    assert arm["pp_alloc_fast"] + arm["pp_recycle_cached"] == pytest.approx(29.35 * 3.0, abs=0.1)
    assert arm["atomic_rmw"] == pytest.approx(5.8 * 3.0) and arm["atomic_rmw_remote"] == pytest.approx(47 * 3.0)
    assert arm.classes["atomic_rmw_remote"] == "measured" and arm.classes["stack_per_packet"] == "assumed"
    # held at their value: the configuration, and the clock (published times converted at it)
    assert all(p.end(s)[k] == p[k] for p in profiles.values() for s in ("low", "high") for k in HELD)


@pytest.mark.parametrize("change,needle", [
    ({"atomic_rmw": -3.0}, "typical_arm64.atomic_rmw=-3.0 is not allowed: a number in 1.0..2000.0 (cycles)"),
    ({"rx_cores": 2.5}, "typical_arm64.rx_cores=2.5 is not allowed: an integer in 1..512"),
    ({"clock_ghz": float("nan")}, "typical_arm64.clock_ghz=nan is not allowed"),
    ({"iommu": True}, "typical_arm64.iommu=True is not allowed"),
    ({"warp_drive": 1.0}, "typical_arm64.warp_drive=1.0 is not allowed: one of clock_ghz"),
    ({"atomic_rmw": 20.0, "ranges": {"atomic_rmw": (25.0, 30.0)}},
     "typical_arm64.atomic_rmw.low=25.0 is not allowed: at most the value 20.0"),
    ({"atomic_rmw": 20.0, "ranges": {"atomic_rmw": (10.0, 15.0)}},
     "typical_arm64.atomic_rmw.high=15.0 is not allowed: at least the value 20.0"),
    ({"atomic_rmw": 20.0, "ranges": {"atomic_rmw": (0.5, 30.0)}},
     "typical_arm64.atomic_rmw.low=0.5 is not allowed: a number in 1.0..2000.0"),
    ({"atomic_rmw": 20.0, "cls": "fitted"}, "typical_arm64.atomic_rmw.class='fitted' is not allowed: one of"),
])
def test_bad_values_name_platform_field_and_range(profiles, change, needle):
    with pytest.raises(ValueError, match=None) as e:
        profiles["typical_arm64"].with_values(**change)
    assert needle in str(e.value)


def test_with_values_makes_a_point_of_an_assumed_value(profiles):
    p = profiles["typical_arm64"].with_values(atomic_rmw_remote=300.0, source="what if")
    assert (p.lows["atomic_rmw_remote"], p.highs["atomic_rmw_remote"], p.classes["atomic_rmw_remote"]) == (
        300.0, 300.0, "assumed")
    q = profiles["typical_arm64"].with_values(atomic_rmw_remote=300.0, source="fit", cls="derived",
                                              ranges={"atomic_rmw_remote": (200.0, 400.0)})
    assert (q.lows["atomic_rmw_remote"], q.highs["atomic_rmw_remote"], q.classes["atomic_rmw_remote"]) == (
        200.0, 400.0, "derived")
    assert q.end("high")["atomic_rmw_remote"] == 400.0 and q.end("low")["stack_per_packet"] == q.lows["stack_per_packet"]


def test_with_values_never_lends_a_changed_value_the_old_source(profiles):
    base = profiles["typical_arm64"]
    p = base.with_values(atomic_rmw_remote=base["atomic_rmw_remote"] * 2, stack_per_packet=base["stack_per_packet"])
    assert p.sources["atomic_rmw_remote"].startswith(f"changed from {base['atomic_rmw_remote']} (whose source was: ")
    assert base.sources["atomic_rmw_remote"] in p.sources["atomic_rmw_remote"]
    assert p.sources["stack_per_packet"] == base.sources["stack_per_packet"]  # unchanged value, same source


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
    # a range and a class are required of every parameter in the file
    f.write_text('[box]\narch = "arm64"\nclock_ghz = { value = 3.0, source = "s" }\n')
    with pytest.raises(ValueError, match=r"box.clock_ghz=.* is not allowed: an inline table .*low = \.\.\., "
                                         r"high = \.\.\., class"):
        load_platforms(f)
    text = (rxlab.data.DATA_DIR / "platforms.toml").read_text()
    f.write_text(text.replace('fragments = "gbps_frag"', 'fragments = "gbps_fragments"'))
    with pytest.raises(ValueError, match=r"affected_arm64.device_factor.fragments='gbps_fragments' is not allowed"):
        load_platforms(f)
    with pytest.raises(ValueError, match=r"platform='nope' is not allowed: one of x86_64_server"):
        rxlab.platform("nope")
    f.write_text('[box]\nbase = "later"\n[later]\narch = "arm64"\n')
    with pytest.raises(ValueError, match=r"box.base='later' is not allowed: a platform defined above it"):
        load_platforms(f)


def test_a_variant_takes_its_base_parameters_and_sources(profiles):
    """The affected SKU has typical_arm64's CPU costs; what sets it apart is an empirical device
    factor, which is no parameter and prices no operation."""
    t, a = profiles["typical_arm64"], profiles["affected_arm64"]
    own = {"clock_ghz"}  # what data/platforms.toml gives it
    assert set(a.values) == set(t.values) and a.arch == t.arch
    assert all(a.values[k] == t.values[k] and a.sources[k] == t.sources[k] and a.lows[k] == t.lows[k]
               and a.highs[k] == t.highs[k] and a.classes[k] == t.classes[k] for k in set(t.values) - own)
    assert t.device is None and a.device is not None and a.without_device().device is None
    dev = a.device
    assert dev.table == "mana_arm64_4k_connections.csv" and dev.conditions == {"page_size": 4096, "mtu": 1500,
                                                                                "arch": "arm64"}
    assert "EMPIRICAL" in dev.source and "PCIe root port" in dev.root_cause and "erratum" in dev.root_cause


def test_device_factor_is_the_table_over_the_line(profiles):
    """Seed 001's Gbps over the goodput of a 200 Gbps line at MTU 1500 (by hand: 200 x 1448 / 1538),
    interpolated in log2(connections); between two rows its range is the two rows' values."""
    dev = profiles["affected_arm64"].device
    goodput = 200 * (1500 - TCP_IP_HEADERS) / (1500 + 38)
    table = rxlab.data.load_connection_table()
    f, lo, hi = dev.at("fragments", table["connections"])
    assert f * goodput == pytest.approx(table["gbps_frag"]) and (lo == f).all() and (hi == f).all()
    assert dev.at("full_pages", [32])[0][0] * goodput == pytest.approx(183.0)
    f, lo, hi = dev.at("fragments", [8 * 2**0.5, 2, 1024])  # halfway between 8 and 16 in log2; beyond the ends
    assert f[0] * goodput == pytest.approx((140 + 186) / 2) and (lo[0], hi[0]) == pytest.approx((140 / goodput,
                                                                                                  186 / goodput))
    assert f[1] * goodput == pytest.approx(139.0) and f[2] * goodput == pytest.approx(170.0)
    assert list(dev.frame().columns) == ["connections", "mode", "factor"] and len(dev.frame()) == 14


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


@pytest.mark.no_engine
def test_out_of_order_queue_by_hand(run, profiles):
    """An skb after a hole costs the receiver ofo_queue beyond its packet (rb-tree insert, SACK block,
    rb_erase); merges, drops and prunes of the out-of-order queue cost nothing more, and the senders'
    recovery costs the receiver only the segments it gets, counted as packets."""
    for name in PLATFORMS:
        p = profiles[name]
        base = rxlab.cost.pricing.cycles_per_packet(zero_row(run, packets=1000), p)[0]
        assert base == pytest.approx(p["stack_per_packet"])
        row = zero_row(run, packets=1000, TCPOFOQueue=40, TCPOFOMerge=5, TCPOFODrop=7, OfoPruned=2)
        assert rxlab.cost.pricing.cycles_per_packet(row, p)[0] == pytest.approx(base + 40 / 1000 * p["ofo_queue"])
        assert rxlab.cost.pricing.cycles_per_packet(zero_row(run, packets=1000, TCPOFOMerge=5, TCPOFODrop=7,
                                                             OfoPruned=2), p)[0] == pytest.approx(base)
        t = throughput(row, p).iloc[0]
        assert t.cycles_per_packet_low == pytest.approx(p.lows["stack_per_packet"] + 0.04 * p.lows["ofo_queue"])
        assert t.cycles_per_packet_high == pytest.approx(p.highs["stack_per_packet"] + 0.04 * p.highs["ofo_queue"])
    # a run whose senders recovered losses: only TCPOFOQueue of its out-of-order counters is priced
    row = run.to_frame()
    for k in ("RetransSegs", "TCPFastRetrans", "TCPSACKRecovery", "TCPSACKReneging", "TCPLossProbes",
              "TCPLossProbeRecovery", "TCPTimeouts", "TCPWinProbe"):
        row[k] = 1000
    assert rxlab.cost.pricing.cycles_per_packet(row, profiles["x86_64_server"])[0] == pytest.approx(
        rxlab.cost.pricing.cycles_per_packet(run.to_frame(), profiles["x86_64_server"])[0])
    priced = {name for *_, expr, _ in OPERATIONS for name in expr.replace("-", "+").split("+")}
    assert "TCPOFOQueue" in priced and not priced & {"TCPOFOMerge", "TCPOFODrop", "OfoPruned"}
    # an assumption, as its source says: ARM64 at x86's time per skb, converted at each clock
    x86, arm = profiles["x86_64_server"], profiles["typical_arm64"]
    assert {x86.classes["ofo_queue"], arm.classes["ofo_queue"]} == {"assumed"}
    assert arm["ofo_queue"] == pytest.approx(x86["ofo_queue"] / x86["clock_ghz"] * arm["clock_ghz"], abs=0.5)
    assert arm.lows["ofo_queue"] == pytest.approx(x86.lows["ofo_queue"] / x86["clock_ghz"] * arm["clock_ghz"], abs=0.5)
    assert arm.highs["ofo_queue"] == pytest.approx(2 * x86.highs["ofo_queue"] / x86["clock_ghz"] * arm["clock_ghz"],
                                                   abs=0.5)


@pytest.mark.no_engine
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


@pytest.mark.no_engine
def test_a_row_with_hardware_gro_says_how_its_segments_are_priced(run, profiles):
    """Segments bnxt's TPA aggregated cost the host one completion and one skb per aggregation, which
    no profile prices: each is priced as a software-GRO segment, and the note says so."""
    p = profiles["x86_64_server"]
    row = zero_row(run, packets=1000)
    assert TPA_NOTE not in throughput(row, p).note[0]
    row["tpa_packets"] = 900
    t = throughput(row, p).iloc[0]
    assert t.note.startswith(ESTIMATE_NOTE) and t.note.endswith(TPA_NOTE)
    assert t.cycles_per_packet == pytest.approx(p["stack_per_packet"])  # all 1000 at stack_per_packet


@pytest.mark.no_engine
def test_band_prices_every_parameter_at_each_end(run, profiles):
    """gbps_low: every cost at its high end; gbps_high: at its low end; by hand for the stack alone,
    and ordered for a real run."""
    p = profiles["typical_arm64"]
    row = zero_row(run, packets=1000)
    row["goodput_gbps"] = float(row["link_gbps"][0]) * 1448 / 1538  # not window-limited
    row["rx_queues_busy"] = 1
    t = throughput(row, p).iloc[0]
    one_core = (lambda cyc: p["clock_ghz"] * 1e9 / cyc * 1448 * 8 / 1e9)
    assert (t.cycles_per_packet_low, t.cycles_per_packet, t.cycles_per_packet_high) == (
        p.lows["stack_per_packet"], p["stack_per_packet"], p.highs["stack_per_packet"])
    assert t.gbps_low == pytest.approx(one_core(p.highs["stack_per_packet"]))
    assert t.gbps_high == pytest.approx(one_core(p.lows["stack_per_packet"]))
    assert (t.binds_low, t.binds, t.binds_high) == ("cpu", "cpu", "cpu")
    for name in PLATFORMS:
        for dev in (True, False):
            t = throughput(run, profiles[name], device_factor=dev).iloc[0]
            assert t.gbps_low <= t.gbps <= t.gbps_high and t.cycles_per_packet_low <= t.cycles_per_packet \
                <= t.cycles_per_packet_high


def test_device_factor_is_a_bound_and_switches_off(run, full, profiles):
    """The affected SKU's device factor caps throughput at factor x line-rate goodput (binds
    "device"), only for the layouts and conditions of seed 001's table; device_factor=False gives
    the CPU model alone, which is typical_arm64's."""
    a, t = profiles["affected_arm64"], profiles["typical_arm64"]
    rows = pd.concat([run.to_frame(), full.to_frame(),
                      rxlab.simulate(run.config.replace(connections=32)).to_frame()], ignore_index=True)
    rows["goodput_gbps"] = 200 * 1448 / 1538  # line-limited in the simulation: no window bound
    rows["rx_queues_busy"] = 16  # CPU to spare: the line or the device binds
    rows["reader_cpus_busy"] = 64
    on, off, typ = throughput(rows, a), throughput(rows, a, device_factor=False), throughput(rows, t)
    pd.testing.assert_frame_equal(off.drop(columns="platform"), typ.drop(columns="platform"))
    assert list(off["binds"]) == ["line"] * 3 and np.isinf(off["gbps_device"]).all()
    assert list(on["binds"]) == ["device"] * 3 and "NOT a CPU cost" in on["note"][0]
    assert list(on["gbps"]) == pytest.approx([139.0, 138.0, 136.0])  # seed 001: 4 frag, 4 full, 32 frag
    assert list(rxlab.cost.pricing.buffer_mode(rows)) == ["fragments", "full_pages", "fragments"]
    # another page size, MTU, layout or an XDP program: the table says nothing there
    for change in ({"page_size": 16384}, {"mtu": 3000}, {"strategy": "page_frag_cache"}, {"xdp": "(1, 0, 0, 0)"}):
        other = rows.iloc[[0]].assign(**change)
        assert np.isnan(throughput(other, a)["device_factor"][0]) and throughput(other, a)["binds"][0] != "device"
    # mechanism_steps: the device is one more mechanism, and the last step is the target's estimate
    steps = rxlab.cost.pricing.mechanism_steps(rows.iloc[[1]], rows.iloc[[0]], a)
    assert list(steps["mechanism"])[-1] == "device" and steps["gbps"].iloc[-1] == pytest.approx(139.0)
    assert steps["gbps"].iloc[-2] == pytest.approx(138.0)  # until then the full pages' ceiling
    assert "device" not in list(rxlab.cost.pricing.mechanism_steps(rows.iloc[[1]], rows.iloc[[0]], a,
                                                                   device_factor=False)["mechanism"])


@pytest.mark.no_engine
def test_rx_cores_are_the_queues_that_received_packets(run, profiles):
    busy = run.metrics()["rx_queues_busy"]
    assert busy == len(set(run.conn[:, CN.queue])) == (run.qstats[:, QS.rx_packets] > 0).sum()
    row = run.to_frame()
    row["rx_queues_busy"] = 1
    assert throughput(row, profiles["x86_64_server"]).rx_cores[0] == 1
    row["rx_queues_busy"] = 16
    assert throughput(row, profiles["x86_64_server"]).rx_cores[0] == 16
    assert throughput(row, profiles["x86_64_server"].with_values(rx_cores=3, source="t")).rx_cores[0] == 3


@pytest.mark.no_engine
def test_attribution_is_a_perf_top(run, profiles):
    p = profiles["affected_arm64"]
    att = rxlab.attribution_frame(run, p)
    assert list(att.columns) == ["row", "platform", "cpu_class", "category", "operation", "counter",
                                 "count_per_packet", "parameter", "param_class", "cycles_per_op", "low", "high",
                                 "cycles_per_packet", "cycles_per_packet_low", "cycles_per_packet_high", "source",
                                 "device_factor", "share"]
    # every operation on each CPU class; 4 KB pages, MTU 1500, fragments: the affected SKU's device
    # factor is its own row, no CPU cost
    assert len(att) == 2 * len(OPERATIONS) + 1 and "ESTIMATE" in att.attrs["note"] and "NOT a CPU" in att.attrs["note"]
    assert list(att.cpu_class.unique()) == ["napi", "none", "reader"]
    for _, g in att.groupby("cpu_class"):
        assert g["cycles_per_packet"].is_monotonic_decreasing  # costliest first
    dev = att[att.category == DEVICE_CATEGORY].iloc[0]
    assert (dev.cycles_per_packet, dev.share, dev.param_class) == (0.0, 0.0, "empirical") and np.isnan(dev.cycles_per_op)
    assert dev.device_factor == pytest.approx(p.device.at("fragments", [4])[0][0]) and "PCIe" in dev.source
    assert len(rxlab.attribution_frame(run, p, device_factor=False)) == 2 * len(OPERATIONS)
    params = p.frame()
    assert len(params) == len(PARAMS) and params.source.str.len().min() > 0
    assert {"low", "high", "class"} <= set(params.columns)
    assert att.groupby("cpu_class")["share"].sum().to_dict() == pytest.approx({"napi": 1.0, "none": 0.0,
                                                                                 "reader": 1.0})
    t = rxlab.throughput(run, p).iloc[0]
    for cls, suffix in (("napi", ""), ("reader", "_reader")):
        for end in ("", "_low", "_high"):
            assert att[att.cpu_class == cls][f"cycles_per_packet{end}"].sum() == pytest.approx(
                t[f"cycles_per_packet{suffix}{end}"])
    remote = att.set_index(["cpu_class", "operation"]).loc[("reader", "atomic_rmw_remote")]
    pk = run.metrics()["packets"]
    assert remote.count_per_packet == pytest.approx(run.counter("atomic_rmw_remote", "reader") / pk)
    assert remote.count_per_packet > 0  # frees on the reading CPU: cross-CPU refcount traffic, paid there
    napi = att.set_index(["cpu_class", "operation"]).loc[("napi", "atomic_rmw_remote")]
    assert napi.count_per_packet == pytest.approx(run.counter("atomic_rmw_remote", "napi") / pk)
    assert remote.cycles_per_op == p["atomic_rmw_remote"] and "core-to-core" in remote.source
    assert (remote.param_class, remote.low, remote.high) == ("measured", p.lows["atomic_rmw_remote"],
                                                             p.highs["atomic_rmw_remote"])


def test_frames_are_priced_without_the_result(run, full, profiles):
    """A cached tidy frame (here through CSV) prices exactly as the live Result, row by row."""
    other = full
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
    unmap = att[att.operation == "dma_unmap"].groupby("row").count_per_packet.sum()  # on either CPU class
    assert unmap[1] == pytest.approx(1.0, abs=0.01)
    # fragments: unmapped only when a page leaves its pool (ptr_ring full on cross-CPU returns)
    assert unmap[0] == pytest.approx(run.counter("dma_unmap") / run.metrics()["packets"]) and unmap[0] < 0.5


def test_mechanism_steps(run, full, profiles):
    """From full pages to fragments one mechanism at a time: each step swaps only its own counts, the
    last step is the target's estimate, and a window that binds hides every CPU saving behind it."""
    p = profiles["typical_arm64"]
    steps = rxlab.cost.pricing.mechanism_steps(full, run, p)
    assert list(steps["mechanism"]) == ["base", "window", *rxlab.cost.pricing.CATEGORIES]
    assert steps["gbps"].iloc[0] == pytest.approx(rxlab.throughput(full, p).gbps[0])
    assert steps["gbps"].iloc[-1] == pytest.approx(rxlab.throughput(run, p).gbps[0])
    assert steps["cycles_per_packet"].iloc[-1] == pytest.approx(rxlab.throughput(run, p).cycles_per_packet[0])
    assert steps["delta_gbps"].sum() == pytest.approx(steps["gbps"].iloc[-1] - steps["gbps"].iloc[0])
    assert "ESTIMATE" in steps["note"].iloc[0]
    # the dma step moves the cycles by exactly the difference of the two runs' dma cycles per packet
    dma = [rxlab.attribution_frame(r, p).query("cpu_class == 'napi'").groupby("category").cycles_per_packet.sum()["dma"]
           for r in (full, run)]
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
    r = rxlab.simulate(rxlab.SimConfig(packets=2000, queues=2, connections=64, gro=False, reader="periodic", app_read_us=10.0,
                                       skb_defer_max=8))
    assert r.counter("skb_defer_full") > 0 and r.counter("skb_defer_free") > 0
    att = rxlab.attribution_frame(r, profiles["typical_arm64"]).groupby("operation")["count_per_packet"].sum()
    pk = r.metrics()["packets"]
    assert att["skb_attempt_defer_free: defer_count inc"] == pytest.approx(
        (r.counter("skb_defer_free") + r.counter("skb_defer_full")) / pk)
    assert att["skb_defer_free: llist_add"] == pytest.approx(r.counter("skb_defer_free") / pk)
