"""Every counter of a fixed set of configurations, as one digest per configuration.

A restructuring must leave these identical; a change that means to change what a run computes
updates them in the same commit and bumps MODEL_VERSION (CONTRIBUTING.md).
"""

import hashlib
import json

import numpy as np
import pytest

from rxlab import Reconfig, SimConfig, simulate, xdp_only

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
    "bce5afcfe86a8864af2727b96bf4afdbd8c7b31cac43b2dd0b02c4c9880b41e4",
    "1aed872479c74342b2a7511a25a32a3f6f52c4ff3c8cc79fd8d7688ff6ced614",
    "7127a4571f60ce014e018110b98e5952dad241f3117fb3b1a56b61b3437829c8",
    "84a11aa3034ee5e843d602ca8bc7429cafc199c57be9a74d81a8d60d315bce7d",
    "7b4775589975d3c6220a5c961d92b40249feb5daad4a16ae46e5399457e0d064",
    "59727463b5103411dff58369d8f713ebb1759cb8aae040457c40be3ad3fda590",
    "c2bbc0173215d17654821a02f410a128a33fcb27ba8127eb7acb0c35a7199d70",
    "c17d4d59cc95d97410afd95f75f677e6e22e33f5f25cdf5f51a6abf0c2ef4f93",
    "34a75843c8be572e818fefc836a835a2a1ec5adac037829c57516816260cefe3",
    "3c4f375a307bf6ee8b03a9cd21e2d50ff4b0cc131cd6b4581fc1066f5ee414a4",
    "126f7242ea889ccece12fb129f93125050fbce001f5578adab0491be75c1f5db",
    "99c46f0b22ef6ac97ef7d8e7657dd7119d8a8ef1dc6f78cf6bb1b8f442b720b9",
]


def digest(r):
    """sha256 over every array a Result carries and its scalars."""
    h = hashlib.sha256()
    for a in (r.counters, r.qstats, r.conn, r.samples, r.ratio_hist, r.inflight_end):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(json.dumps([float(r.t_us), int(r.mem_used_end), list(r.events)], sort_keys=True).encode())
    return h.hexdigest()


@pytest.mark.jit_only  # 10,000 packets a run; the interpreted pass is cross-checked in test_engine_nojit.py
@pytest.mark.parametrize("i", range(len(CONFIGS)))
def test_counters_digest_is_unchanged(i):
    assert digest(simulate(SimConfig(**{"packets": 10_000, **CONFIGS[i]}))) == EXPECTED[i]


def test_the_digest_sees_a_one_count_change():
    r = simulate(SimConfig(packets=200, queues=1, connections=2, ring_size=128))
    before = digest(r)
    r.counters[0] += 1
    assert digest(r) != before
