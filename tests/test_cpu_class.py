"""Every operation on the CPU that pays it, and the ptr_ring producer lock's contention.

The engine counts what the reading CPUs do apart from what the NAPI CPUs do (Result.counters is
their sum); the readers' own work (tcp_recvmsg, bytes_to_user) is counted; every ptr_ring produce
is counted by how many CPUs returned into its pool in the same read period.
"""

import functools

import numpy as np
import pytest

from rxlab import SimConfig, simulate
from rxlab.counters import PTR_RING_CPUS, READER_PREFIX, Ctr

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
