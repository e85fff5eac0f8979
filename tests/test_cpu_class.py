"""Every operation on the CPU that pays it, and the ptr_ring producer lock's contention.

The engine counts what the reading CPUs do apart from what the NAPI CPUs do (Result.counters is
their sum); the readers' own work (tcp_recvmsg, bytes_to_user) is counted; a ptr_ring produce is
contended when other CPUs' produces into its pool fall within its hold of the producer lock, in
model time, and waits for each of them.
"""

import functools

import numpy as np
import pytest

from rxlab import SimConfig, attribution_frame, load_platforms, simulate, throughput
from rxlab.cost.pricing import OPERATIONS, cycles_per_packet
from rxlab.counters import READER_PREFIX, Ctr

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
def test_contended_produces_are_some_of_the_produces(kw):
    r = run(**kw)
    for counts in (r.counters, r.counters_reader):
        contended, wait = counts[Ctr.ptr_ring_produce_contended], counts[Ctr.ptr_ring_lock_wait]
        assert 0 <= contended <= counts[Ctr.ptr_ring_produce] and contended <= wait
        assert (wait == 0) == (contended == 0)
    if kw.get("app_cpus") == "napi":  # each pool's produces all come from its own NAPI CPU
        assert r.counters[Ctr.ptr_ring_produce] > 0 and r.counters[Ctr.ptr_ring_produce_contended] == 0


def test_more_readers_into_one_pool_wait_longer():
    """One queue: its pool takes every free; more reading CPUs returning into it at the same
    instants share more of their holds, and each contended produce waits for more of them."""
    def wait_per_produce(readers):
        r = run(queues=1, connections=20, reader_cpus=readers, defer_free=False, reader="periodic", app_read_us=1.0)
        assert r.counters[Ctr.ptr_ring_produce] > 0
        return r.counters[Ctr.ptr_ring_lock_wait] / r.counters[Ctr.ptr_ring_produce]

    waits = [wait_per_produce(k) for k in (1, 2, 4, 20)]
    assert waits[0] == 0 and waits == sorted(waits) and waits[-1] > waits[1]


def test_only_produces_within_a_hold_of_each_other_contend():
    """The producer lock in model time (rxlab.engine.page_pool._producer_lock), on the engine's
    core: a CPU returning a page in the hold where other CPUs returned pages into the same pool is
    contended and waits a hold for each; a CPU's produces at one instant take its next holds, one
    after the other; produces into another pool, or long after, do not contend."""
    from rxlab.engine import page_pool, skb
    from rxlab.engine.layout import BufKind, G
    from rxlab.engine.state import make_state

    st = make_state(n_pools=2, n_cpus=4)
    for q in (0, 1):
        page_pool.pool_create(st, q, 64, 0, 0, 0, 4096, 3, 0)  # NAPI on CPU 3: 0..2 return to the ring
    st.glob[G.lock_hold_ps] = 26400
    pages = {q: [page_pool.pp_alloc_pages(st, q, 0) for _ in range(8)] for q in (0, 1)}

    def put(q, cpu, t):
        pid = pages[q].pop()
        st.glob[G.lock_now] = int(t * 1e6) // st.glob[G.lock_hold_ps]  # page_pool.ptr_ring_clock
        skb.buf_put(st, skb.buf_new(st, pid, 0, 4096, BufKind.pp_page, q), cpu, 0)  # not NAPI: the ptr_ring
        return int(st.c[Ctr.ptr_ring_produce_contended]), int(st.c[Ctr.ptr_ring_lock_wait])

    assert put(0, 1, 10.0) == (0, 0)  # hold 378 (10 µs / 26.4 ns)
    assert put(0, 2, 10.0) == (1, 1)  # the same hold as CPU 1's: waits for it
    assert put(0, 2, 10.0) == (1, 1)  # CPU 2's next produce at that instant: its next hold, 379, free
    assert put(0, 0, 10.0) == (2, 3)  # hold 378 again: waits for CPUs 1 and 2
    assert put(1, 1, 10.0) == (2, 3)  # CPU 1's next hold, 379, in the other pool: alone there
    assert put(0, 0, 10.01) == (3, 4)  # CPU 0's next hold, 379: CPU 2's
    assert put(0, 1, 10.5) == (3, 4)  # long after: alone
    assert int(st.c[Ctr.ptr_ring_produce]) == 7


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


def test_a_contended_produce_costs_a_hold_per_produce_it_waits_for(profiles):
    """Per ptr_ring produce, the model charges ptr_ring_produce, plus ptr_ring_contention for each
    hold of another CPU it waited for (ptr_ring_lock_wait): a hold taken from another CPU, fitted to
    bench_page_pool_cross_cpu (tests/test_calibrate.py checks the fit and the range)."""
    p = profiles["x86_64_server"]
    base = run(connections=16, defer_free=False).to_frame()
    for c in Ctr:
        base[c.name] = base[READER_PREFIX + c.name] = 0
    base["packets"] = 1000

    def per_produce(wait, prof):
        row = base.copy()
        row["ptr_ring_produce"] = row[f"{READER_PREFIX}ptr_ring_produce"] = 1000
        row["ptr_ring_lock_wait"] = row[f"{READER_PREFIX}ptr_ring_lock_wait"] = 1000 * wait
        return cycles_per_packet(row, prof, "reader")[0]

    for prof in (p, p.end("low"), p.end("high")):
        for wait in (0, 1, 3):
            assert per_produce(wait, prof) == pytest.approx(prof["ptr_ring_produce"]
                                                           + wait * prof["ptr_ring_contention"])
    assert "bench_page_pool_cross_cpu" in p.sources["ptr_ring_contention"]
    arm = profiles["typical_arm64"]
    assert arm.classes["ptr_ring_contention"] == "assumed" and "no cross-CPU" in arm.sources["ptr_ring_contention"]


def test_contention_is_priced_from_the_engine_counts(profiles):
    r = run(queues=1, connections=20, reader_cpus=20, defer_free=False, reader="periodic", app_read_us=1.0)
    p = profiles["x86_64_server"]
    att = attribution_frame(r, p)
    lock = att[(att.category == "contention") & (att.cpu_class == "reader")].iloc[0]
    extra = r.counter("ptr_ring_lock_wait", "reader")
    assert extra > 0 and lock.count_per_packet == pytest.approx(extra / r.metrics()["packets"])
    assert lock.cycles_per_packet == pytest.approx(lock.count_per_packet * p["ptr_ring_contention"])
