"""What-if arithmetic on the cost model (rxlab.cost.whatif), on hand-made tidy rows with
hand-computed answers: no simulation."""

import math

import numpy as np
import pandas as pd
import pytest

import rxlab
from rxlab.cost.pricing import cycles_by_category, cycles_per_packet, throughput
from rxlab.cost.whatif import PRICED, cycles_needed, gain_band, gain_pct, parameter_needed, throughput_gain
from rxlab.counters import READER_PREFIX, Ctr

pytestmark = pytest.mark.no_engine  # no engine code here: the compiled pass only (CONTRIBUTING.md)

ONE_CORE = 3.0e9 / 1000 * 1448 * 8 / 1e9  # Gbps: 3 GHz / 1000 cycles per packet x 1448 payload bytes = 34.752


@pytest.fixture(scope="module")
def prof():
    """Round costs: 3 GHz, 1000 cycles of stack per packet, atomics 20 (local) and 100 (remote), DMA
    map + unmap 40 + 30 cycles (500 + 2000 behind an IOMMU)."""
    return rxlab.platform("typical_arm64").with_values(
        source="test", clock_ghz=3.0, stack_per_packet=1000.0, atomic_rmw=20.0, atomic_rmw_remote=100.0,
        dma_map=40.0, dma_unmap=30.0, dma_map_iommu=500.0, dma_unmap_iommu=2000.0)


def row(**counts):
    """A tidy row of one stream (one busy RX core) at MTU 1500 over 1000 packets, every counter 0
    but ``counts``, not window-limited."""
    r = {k: (str(v) if isinstance(v, tuple) else v) for k, v in rxlab.SimConfig(connections=1).to_dict().items()}
    r.update({c.name: 0 for c in Ctr})
    r.update({READER_PREFIX + c.name: 0 for c in Ctr})  # everything on the NAPI CPU
    r.update(packets=1000, rx_queues_busy=1, reader_cpus_busy=1, goodput_gbps=0.99 * 200 * 1448 / 1538)
    r.update(counts)
    return pd.DataFrame([r])


def test_gain_pct():
    assert gain_pct(100.0, 250.0) == 150.0
    assert gain_pct(200.0, 150.0) == -25.0
    assert list(gain_pct(np.array([10.0, 40.0]), np.array([15.0, 10.0]))) == [50.0, -75.0]


def test_throughput_gain_by_hand(prof):
    base = row(dma_map=1000, dma_unmap=1000)  # 1000 + 40 + 30 = 1070 cycles per packet
    target = row()  # 1000 cycles per packet
    assert cycles_per_packet(pd.concat([base, target]), prof).tolist() == [1070.0, 1000.0]
    assert throughput(target, prof).gbps_cpu[0] == pytest.approx(ONE_CORE)
    # CPU-bound (34.8 Gbps < the 188 Gbps line): the bound grows as 1 / cycles
    for bound in ("gbps", "gbps_cpu"):
        assert throughput_gain(base, target, prof, bound)[0] == pytest.approx(7.0)
    assert throughput_gain(base, target, prof, "gbps_line")[0] == 0.0
    pair = throughput_gain(pd.concat([base, target]), pd.concat([target, base]), prof)
    assert pair == pytest.approx([7.0, 1000 / 1070 * 100 - 100])


def test_throughput_gain_errors(prof):
    with pytest.raises(ValueError, match="bound='gbps_total' is not allowed: one of gbps"):
        throughput_gain(row(), row(), prof, "gbps_total")
    with pytest.raises(ValueError, match="as many rows as base"):
        throughput_gain(row(), pd.concat([row(), row()]), prof)


def test_cycles_needed_by_hand(prof):
    assert cycles_needed(row(), prof, ONE_CORE / 2)[0] == pytest.approx(2000.0)  # half the Gbps: twice the cycles
    assert cycles_needed(row(), prof, ONE_CORE)[0] == pytest.approx(1000.0)
    two = pd.concat([row(), row(dma_map=1000, dma_unmap=1000)])
    assert cycles_needed(two, prof, [ONE_CORE / 4, ONE_CORE]) == pytest.approx([4000.0, 1000.0])


def test_parameter_needed_by_hand(prof):
    # half the packets release a page with a cross-CPU atomic: 1000 + 0.5 x 100 = 1050 cycles
    r = row(atomic_rmw=500, atomic_rmw_remote=500)
    assert cycles_per_packet(r, prof)[0] == 1050.0
    # for half a core's Gbps (2000 cycles) each of the 0.5 atomics must carry 950 more: 100 + 1900
    assert parameter_needed(r, prof, ONE_CORE / 2, "atomic_rmw_remote")[0] == pytest.approx(2000.0)
    # the parameter also prices skb_attempt_defer_free's defer_count increment: 0.5 + 0.5 per packet
    # (and its llist_add, 0.5 x 20 cycles); 1000 + 100 + 10 = 1110 cycles, twice that needed
    d = row(atomic_rmw=500, atomic_rmw_remote=500, skb_defer_free=500)
    assert cycles_per_packet(d, prof)[0] == 1110.0
    gbps = throughput(d, prof).gbps_cpu[0] / 2
    assert parameter_needed(d, prof, gbps, "atomic_rmw_remote")[0] == pytest.approx(100 + 1110 / 1.0)
    # the stack cost is paid once per packet
    assert parameter_needed(r, prof, ONE_CORE / 2, "stack_per_packet")[0] == pytest.approx(1950.0)
    # a cost that prices nothing in the row moves nothing: NaN (dma_map behind an IOMMU, no DMA at all)
    iommu = prof.with_values(iommu=1, source="test")
    dma = row(dma_map=1000, dma_unmap=1000)
    assert math.isnan(parameter_needed(dma, iommu, 10.0, "dma_map")[0])
    # behind it the map costs 500, the unmap 2000: 3500 cycles; for 7000, the map alone 500 + 3500
    assert parameter_needed(dma, iommu, ONE_CORE / 7, "dma_map_iommu")[0] == pytest.approx(4000.0)
    assert math.isnan(parameter_needed(r, prof, 10.0, "dma_map")[0])


def test_needed_on_the_reading_cores_by_hand(prof):
    """The same arithmetic for the reading cores: one reading core copying 1448 bytes per packet and
    taking half the packets' cross-CPU atomics (reader_* columns), behind two RX cores, carries what
    its cycles allow."""
    p = prof.with_values(source="test", copy_to_user_per_byte=0.5, wakeup_per_read=0.0)
    r = row(atomic_rmw=500, atomic_rmw_remote=500, bytes_to_user=1448 * 1000, reader_atomic_rmw=500,
            reader_atomic_rmw_remote=500, reader_bytes_to_user=1448 * 1000, rx_queues_busy=2)
    t = throughput(r, p).iloc[0]
    assert t.cycles_per_packet == 1000.0 and t.cycles_per_packet_reader == 0.5 * 1448 + 0.5 * 100 == 774.0
    assert t.binds == "reader_cpu" and t.gbps_reader == pytest.approx(ONE_CORE * 1000 / 774)
    assert cycles_needed(r, p, ONE_CORE / 2, "reader")[0] == pytest.approx(2000.0)
    # the reader's 0.5 remote atomics per packet carry the missing 1226 cycles: 100 + 2452
    assert parameter_needed(r, p, ONE_CORE / 2, "atomic_rmw_remote", "reader")[0] == pytest.approx(2552.0)
    with pytest.raises(ValueError, match="cpu_class='disk' is not allowed"):
        cycles_needed(r, p, 1.0, "disk")


def test_parameter_needed_names_a_priced_parameter(prof):
    assert {"stack_per_packet", "atomic_rmw_remote", "dma_unmap_iommu", "cacheline_transfer"} <= set(PRICED)
    for name in ("clock_ghz", "rx_cores", "bogus"):
        with pytest.raises(ValueError, match=f"parameter='{name}' is not allowed: a cost the profile prices"):
            parameter_needed(row(), prof, 10.0, name)


def test_cycles_by_category_by_hand(prof):
    r = row(atomic_rmw=500, atomic_rmw_remote=200, dma_map=1000, dma_unmap=1000, refcnt_read_remote=100,
            ptr_ring_produce=250)
    cat = cycles_by_category(pd.concat([r, row()]), prof)
    want = {"stack": 1000.0, "refcount": 0.3 * 20 + 0.2 * 100 + 0.1 * prof["cacheline_transfer"],
            "dma": 70.0, "page_pool": 0.25 * prof["ptr_ring_produce"], "page_allocator": 0.0, "copy": 0.0}
    assert cat.iloc[0][list(want)].to_dict() == pytest.approx(want)
    assert cat.iloc[1].to_dict() == {**dict.fromkeys(cat.columns, 0.0), "stack": 1000.0}
    assert cat.sum(axis=1).to_numpy() == pytest.approx(cycles_per_packet(pd.concat([r, row()]), prof))


def test_gain_band_by_hand(prof):
    """Both rows priced at the same end: a stack of 500..2000 cycles around 1000 makes the 70
    cycles of DMA worth 14% at the low end, 7% at the value, 3.5% at the high end."""
    p = prof.with_values(stack_per_packet=1000.0, ranges={"stack_per_packet": (500.0, 2000.0)}, source="test")
    gain, low, high = gain_band(row(dma_map=1000, dma_unmap=1000), row(), p)
    assert (gain[0], low[0], high[0]) == pytest.approx((7.0, 3.5, 14.0))
    assert gain_band(row(dma_map=1000, dma_unmap=1000), row(), p, "gbps_cpu")[1][0] == pytest.approx(3.5)
    with pytest.raises(ValueError, match="bound='gbps_line' is not allowed: gbps or gbps_cpu"):
        gain_band(row(), row(), p, "gbps_line")
