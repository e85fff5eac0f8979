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
    # bnxt_en's page mode: every XDP verdict, copied ACKs; 32 KB fragments of 64 KB pages with failures
    {"driver": "bnxt", "xdp": (0.4, 0.2, 0.2, 0.2), "ack_fraction": 0.2},
    {"driver": "bnxt", "page_size": 65536, "xdp": (0.5, 0.1, 0.1, 0.3), "alloc_fail_rate": 0.02, "seed": 3},
]

EXPECTED = [
    "f73a8540ab499b1350ad8cfd33d8e606dae745cd3e1e712be8847cad56050749",
    "a141dec6f612cbd2ce971369b3ca66adcb534dcedd0e170d736032d2741f210a",
    "2490da2d1cc8168a1868ddfd54019401cc528ced2d17943aa6281da9cf9d509c",
    "8faff586e40a04d8a08de1f65ce02496b7a5d0da986e1977cd53a7b1c130b136",
    "7afd6b7a7bd3fc6e615dac8cc04cc6dbd4420ac4531c501416e712f52eb040c2",
    "ce41fd2944f7a7b3665e42db250799f814229dc4a124fc5b8584441dcf2ddcf0",
    "fd407ce83260e7779368d6e212faf44a39f561a0d6794aac0f0f515d95d77b94",
    "ba190cfb781eec28977738a7c6f6542ac6ad9c554b63226a5df34fc7023fe6b7",
    "c38ffdaa9f8d5daf2e29b17eb9a487eb48df8aa0fc3d67db1a58b2fc980e7739",
    "6d53afca5b02e1e6d34c9b80e016642934e50c6f70adc6e3068f60026ed88ca3",
    "b7cee3a3d995cb27d1ff8708b4b82f3be056cf75858d515ac21d2456d2014786",
    "09d5c075ea4c9bf9bc335cd48f86ba7b456f3e6b5d770a1d3c7cd0be5fb85143",
    "3b69539be107dd9eaab0ea153154058a3261fba6649d580396fbea9d9d1fd1e6",
    "104582a4de9e39d0b1343dd3978f32a1527862702f4dccf5c8a5a0cb3ac63127",
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
