"""Every counter is documented once, under its own name."""

from rxlab.counters import DOC, N_COUNTERS, Ctr


def test_every_counter_documented():
    assert list(DOC) == [c.name for c in Ctr]
    assert [int(c) for c in Ctr] == list(range(N_COUNTERS))
    assert all(meaning and source for meaning, source in DOC.values())
