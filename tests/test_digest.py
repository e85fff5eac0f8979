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
    "c9d809a426b4f80a7c4c9cc8e96313d8952fe8932a6f9c72322257b902714059",
    "b7a72c4144cdccf1cc2db81e07fe93b38f7e60df8101004bc998258abb253a80",
    "2333caf07e855ad81d8fe0b6ec646d29ccd2e18d8c23154f403ca614943385eb",
    "bdd4f3782b2f6f2d2fbddd37481fd9e901a6776a1fd0b2121bb7cbb510e40d7f",
    "9e6e0c586d35754fb6c1b883b7ea18ef2ca4e52d0265cad95e0f892d6c09c68b",
    "8f9283985dcfce3c7a2ea43d7efa5cd938bdcf0bbf11c1739b5f36706f1548fd",
    "74cfdf58ff66af3061c0be9b01192e17608a3afd0dfadfb90a96ea7bfa82adb7",
    "773829fd5e2f388508954d033e9e630f40c211c400895f2d18a3df56cef02f13",
    "a8462813de0f0c87f3fc8a07013e4ed608e4c95711ed00da58335bff65f1ec5a",
    "fa1fe2a0db22c1cefaead572e660d010d95465ee76c8e5abeaafcba04ae3d424",
    "d13310ba0ec0d54c657042eaa82e78e011e32e42979a5d80ee0b14212658607f",
    "615b05a79a855c95f5843028ee86cdd40a31a506d0a4998ff797f86c26fae2d0",
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
