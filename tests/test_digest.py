"""Every counter of a fixed set of configurations, as one digest per configuration.

A restructuring must leave these identical; a change that means to change what a run computes
updates them in the same commit and bumps MODEL_VERSION (CONTRIBUTING.md).
"""

import hashlib
import json

import numpy as np
import pytest

from rxlab import Reconfig, SimConfig, simulate, xdp_only

KERNEL = "7.1"  # pinned: a new release row, or a new default, moves none of these
CONFIGS = [
    {},
    {"strategy": "full_page", "page_size": 65536, "packets": 20000},
    {"strategy": "pp_frag", "page_size": 65536, "connections": 128, "queues": 16, "packets": 20000},
    {"strategy": "pp_frag_upfront", "page_size": 16384, "mtu": 3000},
    {"strategy": "page_frag_cache", "mtu": 576, "ack_fraction": 0.3, "clone_fraction": 0.2},
    {"strategy": "copybreak", "mtu": 1500, "ack_fraction": 0.5, "copybreak": 256},
    {"xdp": xdp_only("drop"), "strategy": "full_page"},
    {"xdp": (0.4, 0.2, 0.2, 0.2), "app_cpus": "napi", "gro": False},
    {"mtu": 9000, "page_size": 4096, "tcp_rmem": 131072, "truesize_honest": True},
    {"alloc_fail_rate": 0.05, "dma_map_fail_rate": 0.05, "defer_free": False, "seed": 7},
    {"connections": 300, "reader_cpus": 8, "skb_defer_max": 4, "app_read_us": 200.0},
    {"reconfigs": (Reconfig(at_packet=3000, mtu=3000), Reconfig(at_packet=6000, xdp=xdp_only("tx")),
                    Reconfig(at_packet=8000, xdp=(), fail=True))},
]

EXPECTED = [
    "9cde0da25f7ee507b9eb4e7ded9719393410dae585d2fb50ef4a459bfa190550",
    "2583363bce26806d1ed1550dbec71274a47f33c7103a131cd40114a8938b6971",
    "c65865feec721aab3a54cb305e5505e7d9f9976f641528174cbcfae01397d7c8",
    "581d466e6b589c7afef3c0c3572b6b5dcebfa9efc5fcabaf79254586ec61a838",
    "3266b94b013161aab61e5607b9521aaaa1661b8a6ce409f533a7fa929c240a50",
    "2678695f93022843df4a1254e85da46127dfca734f3fea6da51cbe2b66647533",
    "ee1d1cceaa3c9ffdd8a286cf6bf16f8b0a3cfbc4f7d42fb157c3acadd1d6ea03",
    "f628f6ecb18afb4fee493d8b80b799131c203751d5329a330c17f4c4cfb66e4f",
    "1d1a4006714c6a370824a2405e1c381adb497aa69123a767c719c8b6f9f1d747",
    "7b83f6525553d527383fceff1b08b4d7a83d0bb4b1d41ca0d9621c9ecfebc7ec",
    "fadb57081bfe00458d34fdffa285da356b239aa953084a7854a36bbab407a89b",
    "47e6b7da79f1eb2b43f505f3b4c1ed1cbb2ec91ff451a27139d94616eccf5c94",
]


def digest(r):
    """sha256 over every array a Result carries and its scalars."""
    h = hashlib.sha256()
    for a in (r.counters, r.counters_reader, r.qstats, r.conn, r.samples, r.ratio_hist, r.inflight_end):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(json.dumps([float(r.t_us), int(r.mem_used_end), list(r.events)], sort_keys=True).encode())
    return h.hexdigest()


@pytest.mark.jit_only  # 10,000 packets a run; the interpreted pass is cross-checked in test_engine_nojit.py
@pytest.mark.parametrize("i", range(len(CONFIGS)))
def test_counters_digest_is_unchanged(i):
    assert digest(simulate(SimConfig(**{"kernel": KERNEL, "packets": 10_000, **CONFIGS[i]}))) == EXPECTED[i]


def test_the_digest_sees_a_one_count_change():
    r = simulate(SimConfig(packets=200, queues=1, connections=2, ring_size=128))
    before = digest(r)
    r.counters[0] += 1
    assert digest(r) != before
