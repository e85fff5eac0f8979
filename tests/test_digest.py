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
    "64db6d0432023e936d2c166a116c1c1dcfbd40bae9e9a0ff9b109956df5e86f0",
    "26e1f4eeb700ce93428d42d91406c55307f56f3d515c1cb533cb2fe468831730",
    "f1be1f48793260105dfb8682a5f76626012845ee98be5871519b8e40c26847b2",
    "8ee6e645cc4a424a678aafb0e5ca29d0b8a213ca99ad7380e57f7bb47812bb6d",
    "ad320fc539cb1604014c6a5d5503a6c4a83898d71b0f6e3d49fb0821a191061d",
    "7e5354edd639899b922f3919a5d2c4a180c82a1fe68bc8d1e4767e91b8f4702e",
    "0c4777dcc852f236bee0b8c50abf51013c264990e38070d5aa11917055995edf",
    "61c36a681781bfd631645aedc0ffd8ec95f02a8a1c9f770f7feef830d29a4e44",
    "c9d6a4368d9bbb0f18872446021dd6c8c26edeb68951c226c163d8768d8db688",
    "b5dbb81e6eb90f270527c94e8466e0393532b72cd44bd6df83f7bb1e935d10ad",
    "e488ee01142a0d4be7ca07db892b7a97bd74bb0fd02e2dfdd544e9ac19882562",
    "6e2461647c9dfd46e768bee58e090f09b8930fae07d3ca8af86fd62c325bf0ac",
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
    assert digest(simulate(SimConfig(**{"packets": 10_000, **CONFIGS[i]}))) == EXPECTED[i]


def test_the_digest_sees_a_one_count_change():
    r = simulate(SimConfig(packets=200, queues=1, connections=2, ring_size=128))
    before = digest(r)
    r.counters[0] += 1
    assert digest(r) != before
