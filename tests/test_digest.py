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
    "8fa6544a84295d78085373f13615a03bb30336efd9d6d6f858448adf816be168",
    "c983e6e175aa589ea167bbaaca2b239f1a0d92f80476bc94d07c02fb1dee2e36",
    "91ba891d545c12d890a010fa5ee2d1b7f8a124237e2177d010d366347b05501c",
    "ff8079aad771e0bcf4dfd9c6c270e31e262aab7b7223821dc5150e2a012591f1",
    "6a0177964da9beaa43731d7651c41d22aa8f0f1390cfe7f036ce3a9d07678dc4",
    "7235e814b6744925dd4f1484b32f00c59a1ee39f58dea5db4154ebfb8a985b94",
    "7470b8ece7c7686421196d909c13a5c10020a42f650ecb8e91207deab42c9f32",
    "46373d267eed62af260cba04ed80f4dae6be63bc907bf8d2b08a4700ff916f9c",
    "af4f22c3e9be922044bf21444730eef198f023d2ea5872da2677f6949b6bc5d6",
    "94987f58c72e869ef77126669d124f8c2a3e1f4ecdc94134bfd078811e04819e",
    "adba7d9203b0021e55a86d1191d73e31e93367d398a1b51025fab74b4383a8df",
    "df56f1431e27e9f4b75f214ab1e1b6935118cd93831ce0ca33906814df352c85",
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
