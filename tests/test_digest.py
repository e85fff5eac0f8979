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
    "0fc635eb1bd1b942c93268f908bcdd7b9a84bc2c5a5565e156245cec3c8f2ce0",
    "6883d751d0e0d461d4b67b5d6f3dcca9388ceec0cfe27f7317056c16de6a538a",
    "d0a07aa4c6fe0815be14d2e6baee29760c52b6a651c237d7b86a13c1969e5b50",
    "299d52a71b0edac7bab3a72848adf3b790b2d951d838011393cb4d538e482a7a",
    "f004638932756f8a378c8d782cca185d0a516f305811facb0abcdc91c574a623",
    "12a4fc276b57bd54fd2ef59aff9a1db6e7b31a2316b5c08c5ea2a33abb2cd379",
    "6334c75fcd7437a4dcb2be7521ab1ff9d4fba51caf7dd67614cbb76e906c2564",
    "6b187afb57629eb5cb36ce4265540e2859bec0f8c8c35e790b0ef812d23a8386",
    "62dd2ec3674f862630221feef575ede3500edf12141ef1a0d00a4107ed4478c7",
    "d6d95b4270c734f269aa7aba09d5659f3df0ac750c7d0487a4d1d559256a0801",
    "f5bf0457ba30ea1ac791c2a06f0960887feb10e2502d438a31df19b3cb6e7d0c",
    "b0b765d3448587e9b64476c16c12742cddb74e3cafc13bec15bf73b4386e13ad",
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
