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
    "a44381a7b222d5a7b366a20f9159f0bdaa6c71f678ebb64d5e8d41a35dd0ae7f",
    "0425e7284cfffa73df7e6add9d80b38aa34080422e6cae3c4ee35b0b0f3cf137",
    "d39593b8973986eecde088417ecdfdeaa6ebf21e2d1c28b4dec92da062a9879c",
    "22693196a7bd2ba9f5cc8f99ad6ef6336a4a41da8b9dd17a3d16729aab395a9d",
    "eca4661dfc4d334228cb27d6b66d44f2fbefc425fca0ea0915eeecb5c02b5bf9",
    "9714a6695e377fdb8d8ac26883b791414f48e63b7861ded68a7aacaf2e3ad9df",
    "7f7d68f1f0845f07c41939623dc5c6e28418ca63dbc1cee9f55129eff08650b0",
    "844450498021b52227402480965995b1c47459344ee51cd972736a037937f099",
    "92ea7bee9490601b56a2b340934c6837b2cdb897c02f09431a7b8792d7e17d6b",
    "80ef20f67a6083b18cff27982ea5bddd8acf6ff79cdeb224d25e962e8d11c56d",
    "ea0859b46e3bc7c134ffaa491372ed6857dbd24706d7870a481b3ab7a4cab605",
    "0d52a7cc6ba0b52bf9571f2d6e853c24b63e899db654e2e76df8d276c781bcd2",
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
