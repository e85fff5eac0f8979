"""The RX path simulation: conservation, invariants, the seed's fallback rules, failure injection,
reconfiguration and determinism. simulate() itself checks every invariant at the end of a run
and, after teardown, that nothing leaked."""

import json
import os
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as hst

from rxlab.cli import main
from rxlab.counters import Ctr
from rxlab.engine.layout import CN, QS
from rxlab.kernel.rss import flow_queues
from rxlab.model.config import Reconfig, SimConfig, xdp_only
from rxlab.model.simulate import simulate
from rxlab.model.strategies import STRATEGIES

NOJIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"
N = 400 if NOJIT else 4000  # packets per run: the interpreted pass runs the same paths, shorter


def outcomes(r):
    """Every arriving packet ends in exactly one of these."""
    q = r.qstats.sum(axis=0)
    return int(q[QS.rx_alloc_fail] + q[QS.xdp_drop] + q[QS.xdp_tx] + q[QS.xdp_redirect] + q[QS.acks]
               + q[QS.skb_table_full]
               + r.conn[:, CN.rmem_drops].sum() + r.conn[:, CN.dup_data].sum() + r.conn[:, CN.ofo_drops].sum()
               + r.conn[:, CN.zwin_drops].sum() + r.conn[:, CN.oow_drops].sum() + r.conn[:, CN.packets].sum()
               + r.conn[:, CN.ofo_segs].sum())


@hst.composite
def configs(draw):
    xdp = draw(hst.one_of(hst.just(()), hst.lists(hst.integers(0, 4), min_size=4, max_size=4).filter(any)))
    kw = {
        "page_size": draw(hst.sampled_from([4096, 16384, 65536])),
        "mtu": draw(hst.sampled_from([576, 1500, 1714, 1715, 3000, 9000])),
        "strategy": draw(hst.sampled_from(tuple(STRATEGIES))),
        "xdp": tuple(x / sum(xdp) for x in xdp),
        "ring_size": 128 if NOJIT else draw(hst.sampled_from([128, 256])),
        "queues": draw(hst.integers(1, 3)),
        "connections": draw(hst.integers(1, 12)),
        "app_cpus": draw(hst.sampled_from(["remote", "napi"])),
        "ack_fraction": draw(hst.sampled_from([0.0, 0.3])),
        "gro": draw(hst.booleans()),
        "clone_fraction": draw(hst.sampled_from([0.0, 0.2])),
        "tcp_rmem": draw(hst.sampled_from([16384, 131072, 6291456])),
        "truesize_honest": draw(hst.booleans()),
        "reader": draw(hst.sampled_from(["woken", "periodic"])),
        "app_read_us": draw(hst.sampled_from([5.0, 200.0])),
        "wake_us": draw(hst.sampled_from([2.0, 48.0])),
        "defer_free": draw(hst.booleans()),
        "xdp_hold_us": draw(hst.sampled_from([1.0, 50.0])),
        "alloc_fail_rate": draw(hst.sampled_from([0.0, 0.05])),
        "dma_map_fail_rate": draw(hst.sampled_from([0.0, 0.05])),
        "seed": draw(hst.integers(0, 2**32 - 1)),
        "packets": draw(hst.integers(50, 100 if NOJIT else 3000)),
    }
    try:
        return SimConfig(**kw)
    except ValueError:  # e.g. XDP with an MTU above MANA_XDP_MTU_MAX: the kernel refuses it too
        assume(False)


@settings(max_examples=8 if NOJIT else 200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cfg=configs())
def test_conservation_and_invariants(cfg):
    r = simulate(cfg)
    assert int(r.qstats[:, QS.rx_packets].sum()) == cfg.packets
    assert outcomes(r) == cfg.packets
    q = r.qstats.sum(axis=0)
    assert q[QS.rx_alloc_fail] >= q[QS.alloc_fail_injected] + q[QS.dma_map_fail_injected]
    assert (r.conn[:, CN.delivered] <= r.conn[:, CN.packets] * cfg.mtu).all()
    # one ratio sample per data packet sent (acks and dropped acks are not data)
    data_in = r.conn[:, CN.packets].sum() + r.conn[:, CN.rmem_drops].sum()
    assert data_in <= r.ratio_hist.sum() <= cfg.packets - q[QS.acks]


@pytest.mark.parametrize("page_size,mtu,xdp", [(4096, 9000, ()), (16384, 9000, ()), (4096, 1500, xdp_only("pass")),
                                                (65536, 1500, xdp_only("pass"))])
def test_fallback_to_one_buffer_per_page_is_visible_in_counters(page_size, mtu, xdp):
    r = simulate(SimConfig(page_size=page_size, mtu=mtu, xdp=xdp, packets=N, queues=2))
    assert r.geometry.frag_count == 1
    assert r.counter("pp_frag_alloc") == 0
    # driver-mapped: a map and an unmap per refill (counters cover traffic, not the initial ring fill)
    assert r.counter("dma_map") == r.counter("dma_unmap") == N


def test_fragments_are_pool_mapped():
    r = simulate(SimConfig(page_size=65536, mtu=1500, packets=N, queues=2))
    assert r.counter("pp_frag_alloc") == N
    # the pool maps each page once: pages, not packets
    assert r.counter("dma_map") == r.counter("page_alloc_order0") and r.counter("dma_map") < N / 20
    assert r.counter("dma_unmap") == 0


@pytest.mark.parametrize("strategy", ["pp_frag", "full_page", "page_frag_cache"])
def test_alloc_failure_injection_is_counted_exactly(strategy):
    r = simulate(SimConfig(strategy=strategy, packets=N, alloc_fail_rate=0.1, dma_map_fail_rate=0.05))
    q = r.qstats.sum(axis=0)
    assert q[QS.alloc_fail_injected] > N / 20
    # the driver's own mappings fail in every strategy; a fragment pool's page_pool_dma_map() too,
    # and a refill that then finds no page drops its packet like any failed allocation
    pool_maps = r.counter("dma_map_fail") - q[QS.dma_map_fail_injected]
    driver = q[QS.alloc_fail_injected] + q[QS.dma_map_fail_injected]
    if r.geometry.frag_count > 1 and strategy != "page_frag_cache":
        assert pool_maps > 0 and q[QS.rx_alloc_fail] >= driver
    else:
        assert pool_maps == 0 and q[QS.rx_alloc_fail] == driver
    assert outcomes(r) == N


def test_small_receive_buffer_limits_goodput_by_window():
    # slow readers and a small sk_rcvbuf: senders meet a closed window and wait for the next read's
    # window update, goodput falls; readers woken by their data in 2 µs keep the window open
    fast = simulate(SimConfig(packets=N, connections=4))
    slow = simulate(SimConfig(packets=N, tcp_rmem=8192, reader="periodic", app_read_us=1000.0, connections=4))
    assert slow.metrics()["rwnd_stalls"] > 10 * max(1, fast.metrics()["rwnd_stalls"])
    assert slow.goodput_gbps < fast.goodput_gbps / 10
    assert outcomes(slow) == N


def test_honest_truesize_shrinks_the_window():
    # 4 KB pages: the driver reports 2112 bytes a packet, the buffer pins 2304 (half a page + sk_buff)
    kw = {"packets": 4000, "tcp_rmem": 65536, "reader": "periodic", "app_read_us": 500.0, "connections": 4}
    lie, honest = simulate(SimConfig(**kw)), simulate(SimConfig(truesize_honest=True, **kw))
    ratio = 2112 / 2304
    assert honest.goodput_gbps < lie.goodput_gbps
    assert honest.goodput_gbps == pytest.approx(lie.goodput_gbps * ratio, rel=0.05)


def test_xdp_attach_with_failed_preallocation_keeps_the_old_configuration():
    cfg = SimConfig(packets=3 * N, reconfigs=(Reconfig(N, xdp=xdp_only("drop"), fail=True),))
    r = simulate(cfg)
    (ev,) = r.events
    assert not ev["ok"] and "Insufficient memory" in ev["error"]
    assert r.qstats[:, QS.xdp_drop].sum() == 0  # no program was attached
    assert r.geometry.frag_count == 2 and r.counter("pp_frag_alloc") > 0


def test_xdp_attach_and_detach_recreate_the_queues():
    cfg = SimConfig(packets=3 * N, reconfigs=(Reconfig(N, xdp=xdp_only("drop")), Reconfig(2 * N, xdp=())))
    r = simulate(cfg)
    assert [e["ok"] for e in r.events] == [True, True]
    assert r.qstats[:, QS.xdp_drop].sum() == N
    # XDP_DROP keeps the pre-allocated (non-pool) page for the next refill: xdp_save_va
    assert r.counter("xdp_save_reuse") > 0


def test_refused_reconfiguration_is_reported():
    r = simulate(SimConfig(packets=N, reconfigs=(Reconfig(N // 2, mtu=9000, xdp=xdp_only("pass")),)))
    assert "MANA_XDP_MTU_MAX" in r.events[0]["error"]


def test_same_seed_same_result_and_seed_matters():
    cfg = SimConfig(packets=N, ack_fraction=0.2, clone_fraction=0.1, alloc_fail_rate=0.02, seed=7)
    a, b, c = simulate(cfg), simulate(cfg), simulate(cfg.replace(seed=8))
    assert np.array_equal(a.counters, b.counters) and np.array_equal(a.conn, b.conn)
    assert a.t_us == b.t_us
    assert not np.array_equal(a.counters, c.counters)


def test_remote_frees_move_cache_lines_unless_deferred():
    base = SimConfig(packets=N, app_cpus="remote", reader="periodic", app_read_us=5.0)
    deferred, remote = simulate(base), simulate(base.replace(defer_free=False))
    assert deferred.counter("atomic_rmw_remote") == 0
    assert remote.counter("atomic_rmw_remote") > 0
    assert remote.counter("recycle_ring") > 0 and deferred.counter("recycle_ring") == 0


def test_upfront_halves_the_refcount_atomics_on_4k_pages():
    a = simulate(SimConfig(packets=N, strategy="pp_frag", reader="periodic", app_read_us=5.0))
    b = simulate(SimConfig(packets=N, strategy="pp_frag_upfront", reader="periodic", app_read_us=5.0))
    assert b.counter("atomic_rmw") < a.counter("atomic_rmw") * 0.6


def test_frames():
    r = simulate(SimConfig(packets=N, samples=10))
    row = r.to_frame()
    assert len(row) == 1 and row["packets"].iloc[0] == N and "alloc_fast" in row
    assert len(r.samples_frame()) == 10 and (r.samples_frame()["mem_used"] > 0).all()
    assert r.counters_frame().set_index("counter").loc["skb_build", "value"] == r.counter("skb_build")
    # the newest release's default: MANA's 16 queues (45b2b84ac6fd)
    assert len(r.queues_frame()) == r.config.queues == 16 and len(r.connections_frame()) == 64
    assert r.truesize_frame()["packets"].sum() == N


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match=r"strategy='x' is not allowed"):
        SimConfig(strategy="x")
    with pytest.raises(ValueError, match=r"xdp.drop=2 is not allowed: a number in 0..1"):
        SimConfig(xdp=(0, 2, 0, 0))
    with pytest.raises(ValueError, match=r"ack_fraction=1.5 is not allowed"):
        SimConfig(ack_fraction=1.5)
    with pytest.raises(ValueError, match=r"mtu=4000 is not allowed: 68..3506"):
        SimConfig(mtu=4000, xdp=xdp_only("pass"))
    with pytest.raises(ValueError, match=r"reconfigs.at_packet=10 is not allowed"):
        SimConfig(packets=10, reconfigs=(Reconfig(10, mtu=1400),))
    with pytest.raises(ValueError, match=r"seed=4294967296 is not allowed: 0..4294967295"):
        SimConfig(seed=2**32)
    with pytest.raises(ValueError, match=r"rcvlowat=1048577 is not allowed: 1..1048576: tcp_set_rcvlowat"):
        SimConfig(tcp_rmem=1 << 21, rcvlowat=(1 << 20) + 1)
    with pytest.raises(ValueError, match=r"reader_cpus=0 is not allowed: an integer in 1..4080 \(4096 CPUs less the 16 NAPI CPUs"):
        SimConfig(reader_cpus=0)
    with pytest.raises(ValueError, match=r"skb_defer_max=-1 is not allowed: 0..1048576"):
        SimConfig(skb_defer_max=-1)


def test_cli_simulate_json(capsys):
    assert main(["simulate", "--packets", "1000", "--strategy", "full_page", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["metrics"]["packets"] == 1000 and d["counters"]["pp_frag_alloc"] == 0
    m = d["metrics"]  # memory efficiency, static and over the run, in the JSON too
    assert 0 <= m["mem_efficiency_worst"] <= m["mem_efficiency_mean"] <= m["mem_efficiency_peak"] <= 1
    assert 0 < m["mem_efficiency_buffer"] <= 1
    assert main(["simulate", "--xdp", "0.5,0.6,0,0"]) == 2


def test_skb_defer_max_bounds_what_a_napi_cpu_takes_back_between_polls():
    """skb_attempt_defer_free(): a reading CPU queues skbs to the NAPI CPU until that CPU's
    defer_count reaches skb_defer_max since its last poll; the rest it frees itself."""
    cfg = SimConfig(packets=N, queues=2, connections=64, gro=False, reader="periodic", app_read_us=10.0)
    roomy, tight, none = (simulate(cfg.replace(skb_defer_max=m)) for m in (1 << 20, 8, 0))
    for r in (roomy, tight, none):  # every skb an application read went one of the two ways
        assert r.counter("skb_defer_free") + r.counter("skb_defer_full") == r.counter("skb_free")
    assert roomy.counter("skb_defer_full") == 0 and none.counter("skb_defer_free") == 0
    # between two polls (64 packets) the NAPI CPU takes at most 7 skbs back
    polls = int(tight.qstats[:, QS.napi_polls].sum())
    assert 0 < tight.counter("skb_defer_free") <= 7 * (polls + 2)
    assert tight.counter("skb_defer_full") > 0
    # deferred skbs recycle directly (the ring only takes a full alloc cache's overflow); skbs
    # freed on the reading CPU go to the ptr_ring
    overflow = {k: r.counter("recycle_ring") + r.counter("recycle_ring_full") - r.counter("recycle_cache_full")
                for k, r in (("roomy", roomy), ("tight", tight))}
    assert overflow["roomy"] == 0 < overflow["tight"]
    assert none.counter("recycle_cached") == 0 == none.counter("recycle_cache_full")
    # skb_defer_max=0 is defer_free=False, operation for operation
    off = simulate(cfg.replace(defer_free=False))
    same = [c.name for c in Ctr if c.name not in ("skb_defer_full",)]
    assert [off.counter(c) for c in same] == [none.counter(c) for c in same]


def test_fragments_freed_on_two_reader_cpus_cost_a_cross_cpu_read_of_their_page():
    """3 fragments per 4 KB page at MTU 1000; a queue's fragments go to one connection for a TSO skb at
    a time (an even number of segments at first: 10, then 20), so a page is shared by two connections
    where a TSO skb ends inside it, once connections outnumber queues. The last fragment's
    page_pool_unref_netmem() reads a struct page line the other reader wrote, unless both readers
    share one CPU: at most one cross-CPU read per recycled page."""
    def seed_where(connections, ok):  # RSS collides: pick a run whose flows spread as the case needs
        return next(s for s in range(100) if ok(Counter(flow_queues(connections, 4, s)).values()))

    # 2,000 packets at least: with TSO senders the first cross-CPU read comes after ~1,500 (none at 1,200)
    cfg = SimConfig(packets=max(N, 2000), queues=4, connections=16, defer_free=False, reader="periodic",
                    app_read_us=5.0, rtt_us=5.0, mtu=1000,
                    seed=seed_where(16, lambda n: len(n) == 4 and min(n) >= 2))  # every queue, two readers or more
    spread, shared = simulate(cfg.replace(reader_cpus=64)), simulate(cfg.replace(reader_cpus=1))
    one_each = simulate(cfg.replace(connections=4, seed=seed_where(4, lambda n: len(n) == 4)))  # one per queue
    for r in (spread, shared, one_each):  # every page came back through the ring, none released
        assert r.counter("recycle_ring") > 0 and r.counter("recycle_cached") == 0
    # a cross-CPU read for a recycled page whose fragments had different readers
    assert 0 < spread.counter("refcnt_read_remote") <= spread.counter("recycle_ring")
    assert shared.counter("refcnt_read_remote") == 0 == one_each.counter("refcnt_read_remote")


def test_memory_efficiency_full_pages_against_fragments_on_64k_pages():
    """On 64 KB pages a full page holds one packet: held/pinned can never pass mtu/PAGE_SIZE (every
    held byte sits in a page of its own); fragments share a page between ~34 buffers and hold more
    per byte pinned at every statistic. Bounds: 0 <= worst <= mean <= peak <= 1."""
    base = {"page_size": 65536, "arch": "arm64", "mtu": 1500, "packets": N, "connections": 4, "queues": 2,
            "ring_size": 256, "reader": "periodic", "app_read_us": 50.0}
    full = simulate(SimConfig(strategy="full_page", **base)).metrics()
    frag = simulate(SimConfig(strategy="pp_frag", **base)).metrics()
    for m in (full, frag):
        assert 0.0 <= m["mem_efficiency_worst"] <= m["mem_efficiency_mean"] <= m["mem_efficiency_peak"] <= 1.0
        assert m["mem_efficiency_peak"] > 0.0
    assert full["mem_efficiency_peak"] <= 1500 / 65536
    for k in ("mem_efficiency_mean", "mem_efficiency_peak"):
        assert frag[k] > full[k], k
