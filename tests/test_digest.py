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
    "8a94167d25d7c4281ec516b0ad522c7763c1ef4812db4d0ec80124714a4c8d86",
    "e67fda938fabc431f7a45d5d512f549c088031a2a185eeedb4f16b2275ab9690",
    "ec0625dedc014f2ac3e1d589c1827a56553e95062a45d6b9a4a2eaa50fa92174",
    "d94f7ac43d16d73ea7e3cd9498ec12ec3680dd27074086b115a8d34c19c8735f",
    "a769d94057b8e73b2ad20ab14537581ccef5a29b526b11f2f814444d63744904",
    "27037702f84df5ad54072a946aa7164a56535b5c932ef87cd17872e4857d2a9f",
    "e2de602c5d6062d1b26bf54631c6b22fb805a8519d03c1fb5932d68fba520d07",
    "fc9f1e2131e78f774cf450c9927176b818cc5655ea72382f2c32a8f6bb4c69a2",
    "57c892a81457ef5a1a65cc32951c0e5d8dbe8acd26e24f769d8bb7054782e6e5",
    "a615edbb8227f05faf0a266f704ff3d7d60423556746b0c365677738de57019c",
    "09e4913abd65d6ea6860e0f9b95ba488f3ffaedc99f3b6de351e773e8d07b82c",
    "e5d1855f29d229c154fd1bb1c950856923e5b5b7096ca590435097f11710d052",
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
