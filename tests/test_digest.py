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
    "8d43c5dfef19cd4120f9568bb8560c5fe9335f70f4eddd1af4ea8b1592643c67",
    "43aba2dcd608b560a07a3e6947b55a0fa4e6bdee2823d037c6427b8428cc3d11",
    "ea7ac9e154e4ef1b8a6599f0af63153b1dcc368615ad22443ad6067d2e68e087",
    "2a01a1d96a58b6349a89230eb0a47c44c14e853980530c047afbff5e46a40d3e",
    "66f6ba35f21b13cec606e1f748254c98af5c5bc80286a2a578895ccb8ca72587",
    "ee6816861c84b32777cbd5bdcd8736969c792c699e4eae89919b695ebcdb3de5",
    "a27d8f3eb811a3969ac18c783f32f3629999e108f1a58fa6a1b40ce57f8f5afe",
    "8d53fdaba56e4dfbdd220793e0f749f1626eb5278eb65453ce17ffdf0b528a95",
    "b342741d69f82879e3bce5b78bb851b118efb073bb20630c67ccedebe7176d1d",
    "0aa17458e0f5b5de45f79436cdc24d56a1c780c4042f30623795391129646597",
    "852a25875fd7c3ded6d10c08d6b136c4f97f6d4ca1c9c6e5982531c389c3d7cb",
    "a647eb54138d10aab029f27536122041499fbf8e733ddb1dc65376c8c302a898",
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
