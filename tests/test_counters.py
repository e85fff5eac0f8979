"""Every counter is documented once, under its own name."""

from rxlab.counters import DOC, METRICS, N_COUNTERS, Ctr


def test_every_counter_documented():
    assert list(DOC) == [c.name for c in Ctr]
    assert [int(c) for c in Ctr] == list(range(N_COUNTERS))
    assert all(meaning and source for meaning, source in DOC.values())


def test_every_metric_documented():
    from rxlab import SimConfig, simulate

    r = simulate(SimConfig(queues=1, connections=2, ring_size=128, packets=200))
    assert list(r.metrics()) == list(METRICS)
    assert all(meaning and how for meaning, how in METRICS.values())
