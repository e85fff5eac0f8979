"""Strategies as data (rxlab.model.strategies): ARCHITECTURE.md's "Add a strategy" recipe, followed
by a test that registers a toy strategy in one place and simulates it."""

import pytest

from rxlab import SimConfig, simulate
from rxlab.engine.layout import QS
from rxlab.model.strategies import STRATEGIES, Strategy, lookup, register, unregister


@pytest.fixture
def toy():
    s = register(Strategy("full_page_copybreak", "a page per buffer, short packets copied", "pre",
                          copybreak=True))
    yield s
    unregister(s.name)


def test_a_toy_strategy_registered_in_one_place_simulates(toy):
    kw = {"mtu": 1500, "ack_fraction": 0.5, "copybreak": 256, "packets": 3000, "queues": 2, "connections": 8,
          "ring_size": 128}
    r = simulate(SimConfig(strategy="full_page_copybreak", **kw))
    full, cb = (simulate(SimConfig(strategy=s, **kw)) for s in ("full_page", "copybreak"))
    assert r.geometry.frag_count == full.geometry.frag_count == 1 < cb.geometry.frag_count
    copied = r.qstats[:, QS.copybreak].sum()
    assert copied > 0 and copied == r.qstats[:, QS.acks].sum()  # 52-byte ACKs are copied, data is not
    assert full.qstats[:, QS.copybreak].sum() == 0
    assert r.counter("pp_frag_alloc") == 0 < cb.counter("pp_frag_alloc")  # whole pages, not fragments
    assert r.counter("skb_small_head") == copied


def test_the_builtin_strategies_and_their_switches():
    assert list(STRATEGIES) == ["full_page", "pp_frag", "pp_frag_upfront", "page_frag_cache", "copybreak",
                                "full_page_v3", "full_page_v3_fixed"]
    # seed 001's v3 and 7.0's fix decide truesize whatever the release says
    for kernel in ("6.18", "7.1"):
        assert SimConfig(strategy="full_page_v3", kernel=kernel).geometry().truesize == 2112
        assert SimConfig(strategy="full_page_v3_fixed", kernel=kernel).geometry().truesize == 4352
    assert lookup("full_page").variant == "pre" and lookup("pp_frag").variant == "post"
    assert lookup("pp_frag_upfront").upfront_refs and lookup("page_frag_cache").frag_source == "page_frag_cache"
    assert SimConfig(strategy="copybreak").spec is lookup("copybreak")


def test_registration_is_validated():
    with pytest.raises(ValueError, match="strategy.name='pp_frag' is not allowed: a name not registered yet"):
        register(Strategy("pp_frag", "again", "post"))
    with pytest.raises(ValueError, match="toy.variant='mid' is not allowed: one of 'pre', 'post'"):
        Strategy("toy", "", "mid")
    with pytest.raises(ValueError, match="toy.frag_source='slab' is not allowed"):
        Strategy("toy", "", "post", frag_source="slab")
    with pytest.raises(ValueError, match="strategy='nope' is not allowed: one of 'full_page'"):
        SimConfig(strategy="nope")
