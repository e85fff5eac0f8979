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
    "f766c5369d65b4cc4194d13a460ceee889a706f16fb3d860e3974c2be1dbed17",
    "b6829b2f3fa6fc7b4c5feb99a6d7f9488fa7aa879a57f89754ecdf4188864d7f",
    "0bf19a84c5da77e5701f023e0f8749e7d92ede523d64e9f8d138814a368fd8c1",
    "c55fd1da201546f8ba7b5e69f8d9ad2af4f8151dc838c7e37703a6df86f55bd2",
    "4432beb959a8d3bbe641f4e9148c1c1ba6dfb38e4faf0b8329521dc362bb0441",
    "a0fbc91cbb2670ac763078f3da0b98c7d8b81f0d97dc35b7b2c6554277931851",
    "359498f661d5b6c29d8e4d95d5c7f0c91ff1cd709c3d63dcaebf60d59608169c",
    "bd9224bcbe57581fb21d4f6e1cd5f218a3c3f31fb5266aa5a4193a5e60675877",
    "9d065c69e3a763ff5ee208e7d11649403652f34c52dbe48cbb695a1a7e612e00",
    "6cbd067c029388f1e3cf6d61c1e7836e090dc42e8ec5649b5e06ec6700fcf37c",
    "b41fcaf9270d174c2bf7afbb83208cc4a207b4a6f4da0f7b376218f4e8b4dd75",
    "9517ae19acbf4ca07f330af227857eaa0e3e863a53e03694c04329f84b57b6c6",
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
