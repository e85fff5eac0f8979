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
    "0ced592b74d829a0fa9ad68f3372746ab937e8ff5f8cd817e7b96785ca950c1c",
    "1e4ebcae3ed1a9ccf9952792fe2b253db961c097cb032189ac3be49682935bc3",
    "89b4a2c3067b1b1ecc29fcdd41dade1d0d1a267c51221dfbd278baea6e1e5ce3",
    "450fff991fef96ad31f4c195769cace52aa31b56aacc6bcedf066511810a1287",
    "833e6096198534aec8d9980459ee6f636fdd77e639d6f84943f00cd3f20bf395",
    "b8f16ca7072e88913c52661a6cb75176ba610bf0d7cfa6da162c0f2d6964b804",
    "9b22d7e6da13cdfa0c98a2eaf55d022ce95c3c9460530489a44cbb32371a6863",
    "d798963cb8fe870bc3bc8b0759eb727c848eb2f81946ffd414e315548348dfc3",
    "688f10a7de84723467711c9ec24d973a21364a4c23a2de40adaa265f56258592",
    "834ae2789dcee6194cb4bc86782c516b24d6a4d02590ccc5b99ff348ab1c4ab4",
    "ae7b4d3d7fbcad5debdf0d228e6712c1fdb3bbc15908a4c8c3bc55bd6fd4cc96",
    "be8eb492926d6e6306a13144d2bfddbb0cc2d684308029892726aa1cfd987e26"
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
