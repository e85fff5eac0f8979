"""Every operation on the CPU that pays it, and the ptr_ring producer lock's contention.

The engine counts what the reading CPUs do apart from what the NAPI CPUs do (Result.counters is
their sum); the readers' own work (tcp_recvmsg, bytes_to_user) is counted; every ptr_ring produce
is counted by how many CPUs returned into its pool in the same read period.
"""

import functools
import itertools

import numpy as np
import pandas as pd
import pytest

from rxlab import SimConfig, attribution_frame, load_platforms, simulate, throughput
from rxlab.cost.pricing import OPERATIONS, cycles_per_packet
from rxlab.counters import PTR_RING_CPUS, READER_PREFIX, Ctr
from rxlab.data import DATA_DIR

SMALL = {"packets": 3000, "ring_size": 128, "samples": 8, "max_skbs": 2048}


@functools.cache
def run(**kw):
    return simulate(SimConfig(**{**SMALL, **kw}))


def test_reader_counts_are_a_part_of_every_counter():
    r = run(connections=16, defer_free=False)
    reader = r.counters_reader
    assert (reader >= 0).all() and (reader <= r.counters).all()
    # without deferral every free happens on a reading CPU, and the readers copy every payload byte
    assert reader[Ctr.skb_free] > 0 and reader[Ctr.bytes_to_user] == r.counters[Ctr.bytes_to_user] > 0
    assert reader[Ctr.skb_build] == 0 and reader[Ctr.alloc_fast] == 0  # the RX path is the NAPI CPU's
    f = r.counters_frame().set_index("counter")
    assert (f["napi"] + f["reader"] == f["value"]).all()
    row = r.to_frame().iloc[0]
    assert all(row[READER_PREFIX + c.name] == reader[c] for c in Ctr)


def test_readers_on_the_napi_cpus_count_there():
    r = run(connections=16, app_cpus="napi")
    assert not r.counters_reader.any() and r.metrics()["reader_cpus_busy"] == 0
    assert r.counters[Ctr.tcp_recvmsg] > 0 and r.counters[Ctr.bytes_to_user] > 0


def test_deferred_frees_are_the_napi_cpus_and_the_attempt_the_readers():
    r = run(connections=16)  # skb_attempt_defer_free on: skbs go back to their NAPI CPU
    assert r.counter("skb_defer_free", "reader") == r.counter("skb_defer_free") > 0
    assert r.counter("skb_free", "reader") == r.counter("skb_defer_full", "reader")
    assert r.counter("tcp_recvmsg", "reader") == r.counter("tcp_recvmsg") > 0


def test_payload_copied_is_the_payload_delivered():
    r = run(connections=4)
    assert r.counters[Ctr.bytes_to_user] == pytest.approx(r.delivered_bytes, rel=1e-9)
    assert r.metrics()["reader_cpus_busy"] == 4


@pytest.mark.parametrize("kw", [{"connections": 16, "defer_free": False}, {"connections": 16, "skb_defer_max": 4},
                                {"connections": 16, "app_cpus": "napi"}, {"strategy": "full_page", "connections": 8,
                                                                          "defer_free": False}])
def test_produces_by_contention_level_sum_to_the_produces(kw):
    r = run(**kw)
    for counts in (r.counters, r.counters_reader):
        assert sum(int(counts[Ctr[n]]) for n in PTR_RING_CPUS) == counts[Ctr.ptr_ring_produce]


def test_more_readers_into_one_pool_contend_more():
    """One queue: its pool takes every free; more reading CPUs returning into it in one read period
    raise the contention level of its produces."""
    def mean_level(readers):
        r = run(queues=1, connections=20, reader_cpus=readers, defer_free=False, app_read_us=1.0)
        n = np.array([r.counters[Ctr[c]] for c in PTR_RING_CPUS], float)
        assert n.sum() > 0
        return (n * np.arange(1, 9)).sum() / n.sum()

    levels = [mean_level(k) for k in (1, 2, 4, 20)]
    assert levels[0] == 1.0 and levels == sorted(levels) and levels[-1] > 4


# -- pricing: each CPU class's cycles, the reading cores' bound, contention ------------------------

@pytest.fixture(scope="module")
def profiles():
    return load_platforms()


def test_a_reader_bound_configuration_binds_on_the_reading_cores(profiles):
    """Sixteen connections read on two CPUs: the reading cores, not the RX cores, bind. A fixed
    sk_rcvbuf (SO_RCVBUF) of 2 MB: a run this short would otherwise end while autotuning still
    grows it from tcp_rmem[1], with the window binding."""
    r = run(connections=16, reader_cpus=2, so_rcvbuf=1 << 20, rmem_max=1 << 21)
    p = profiles["x86_64_server"]
    t = throughput(r, p).iloc[0]
    assert t.reader_cores == r.metrics()["reader_cpus_busy"] == 2 and t.rx_cores > 2
    assert t.binds == "reader_cpu" and t.gbps == t.gbps_reader < min(t.gbps_cpu, t.gbps_line)
    assert t.gbps_reader == pytest.approx(2 * p["clock_ghz"] * 1e9 / t.cycles_per_packet_reader * 1448 * 8 / 1e9)
    assert t.util_reader == pytest.approx(1.0) and 0 < t.util_napi < 1
    assert t.util_napi == pytest.approx(t.gbps / t.gbps_cpu)
    for cls in ("napi", "reader"):
        assert t[f"util_{cls}_low"] <= t[f"util_{cls}"] <= t[f"util_{cls}_high"]
    assert t.gbps_reader_low <= t.gbps_reader <= t.gbps_reader_high
    assert t.cycles_per_packet_reader_low <= t.cycles_per_packet_reader <= t.cycles_per_packet_reader_high


def test_readers_on_the_napi_cpus_have_no_bound_of_their_own(profiles):
    t = throughput(run(connections=16, app_cpus="napi"), profiles["x86_64_server"]).iloc[0]
    assert t.reader_cores == 0 and np.isinf(t.gbps_reader) and t.util_reader == 0 and t.binds != "reader_cpu"
    assert t.cycles_per_packet_reader == 0


def test_each_class_is_priced_with_its_own_counts(profiles):
    """The reading CPUs' cycles are their counts priced; the RX cores' the rest; the copy to user
    and the wake-ups are the reader's alone."""
    r = run(connections=16, defer_free=False)
    p = profiles["typical_arm64"]
    att = attribution_frame(r, p)
    pk = r.metrics()["packets"]
    reader = att[att.cpu_class == "reader"].set_index("operation")
    assert reader.loc["copy to user (skb_copy_datagram_iter)", "cycles_per_packet"] == pytest.approx(
        r.counter("bytes_to_user") / pk * p["copy_to_user_per_byte"])
    assert reader.loc["wake-up, context switch and recvmsg per read", "count_per_packet"] == pytest.approx(
        r.counter("tcp_recvmsg") / pk)
    assert reader.loc["per-packet stack (CQE, napi_build_skb, GRO, TCP)", "cycles_per_packet"] == 0
    t = throughput(r, p).iloc[0]
    assert reader["cycles_per_packet"].sum() == pytest.approx(t.cycles_per_packet_reader)
    assert t.cycles_per_packet_reader > 0
    assert cycles_per_packet(r, p, "reader")[0] == pytest.approx(t.cycles_per_packet_reader)
    # moved, not added: the two classes together price every count once
    both = att[att.cpu_class != "none"].groupby("operation")["count_per_packet"].sum()
    assert both["atomic_rmw_remote"] == pytest.approx(r.counter("atomic_rmw_remote") / pk)


def test_cross_cpu_struct_page_accesses_cost_a_core_to_core_handoff(profiles):
    """An atomic, a store or a read on a struct page line another CPU wrote last is priced at the
    platform's measured core-to-core cache-line handoff."""
    for p in profiles.values():
        for name in ("atomic_rmw_remote", "cacheline_transfer"):
            assert p.classes[name] == "measured" and "handoff" in p.sources[name]
        assert p["cacheline_transfer"] == p["atomic_rmw_remote"] > p["atomic_rmw"]
    ops = {o[1]: o[3] for o in OPERATIONS}
    assert ops["atomic_rmw_remote"] == "atomic_rmw_remote"
    assert ops["refcnt_store_remote"] == ops["refcnt_read_remote"] == "cacheline_transfer"


def test_a_produce_costs_more_with_every_cpu_returning_into_the_pool(profiles):
    """Per ptr_ring produce, the model charges ptr_ring_produce plus ptr_ring_contention per other
    CPU returning into the pool in the same window: rising with the returners, as the published
    bench_page_pool_cross_cpu figures (data/page_pool_cross_cpu.csv) rise, whose extra time per page
    over one returner lies inside the model's band at every published CPU count."""
    p = profiles["x86_64_server"]
    base = run(connections=16, defer_free=False).to_frame()
    for c in Ctr:
        base[c.name] = base[READER_PREFIX + c.name] = 0
    base["packets"] = 1000

    def per_produce(k, prof):
        row = base.copy()
        row[f"ptr_ring_produce_cpus_{k}"] = row["ptr_ring_produce"] = 1000
        row[f"{READER_PREFIX}ptr_ring_produce_cpus_{k}"] = row[f"{READER_PREFIX}ptr_ring_produce"] = 1000
        return cycles_per_packet(row, prof, "reader")[0]

    for prof in (p, p.end("low"), p.end("high")):
        cost = [per_produce(k, prof) for k in range(1, 9)]
        assert cost[0] == pytest.approx(prof["ptr_ring_produce"])
        assert cost == pytest.approx([prof["ptr_ring_produce"] + (k - 1) * prof["ptr_ring_contention"]
                                      for k in range(1, 9)])
        assert all(b > a for a, b in itertools.pairwise(cost))
    bench = pd.read_csv(DATA_DIR / "page_pool_cross_cpu.csv")
    one = float(bench[bench.returning_cpus == 1].ns_per_page.iloc[0])
    for r in bench[bench.returning_cpus > 1].itertuples():
        extra = (r.ns_per_page - one) * p["clock_ghz"]  # ns at the profile's clock, as its costs are
        n = r.returning_cpus - 1
        assert n * p.lows["ptr_ring_contention"] - 1 <= extra <= n * p.highs["ptr_ring_contention"] + 1, r
    assert "bench_page_pool_cross_cpu" in p.sources["ptr_ring_contention"]
    arm = profiles["typical_arm64"]
    assert arm.classes["ptr_ring_contention"] == "assumed" and "no cross-CPU" in arm.sources["ptr_ring_contention"]


def test_contention_is_priced_from_the_engine_counts(profiles):
    r = run(queues=1, connections=20, reader_cpus=20, defer_free=False, app_read_us=1.0)
    p = profiles["x86_64_server"]
    att = attribution_frame(r, p)
    lock = att[(att.category == "contention") & (att.cpu_class == "reader")].iloc[0]
    extra = sum((k - 1) * r.counter(f"ptr_ring_produce_cpus_{k}", "reader") for k in range(2, 9))
    assert extra > 0 and lock.count_per_packet == pytest.approx(extra / r.metrics()["packets"])
    assert lock.cycles_per_packet == pytest.approx(lock.count_per_packet * p["ptr_ring_contention"])
