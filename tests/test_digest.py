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
    "5eeabc7f6baf9be7e939c20a0d5cf8dcb4eecb6735f5f7166b8b3a1a085296bf",
    "a9962043c0c4ed41d77c163e1eeb5f5e04193dcddb96b80f05ca0a0367a0f403",
    "0fb6f732e47bdff8fc699064f08a399d8445092a88330358d9b488efb0879d7b",
    "1c775e4fc8ab045e2fcb800a5ce8459f90a9a5a36c2167db83b1e7f6f0433e5c",
    "0b53b8ecf95f435735ac90b15904eccb736d8bc68fe45f4825912aa89888d41e",
    "ad7e61b8c66eeb0799c9741348ad292a5fc6653d6d4ebe3cc4b27d9b6d78b174",
    "5738092f8f615ef103ff361264da107feef993401ddbd7a9458e6568cc00fbcd",
    "4a525f251fed74cc4ccdb7553365afbe01068480d0c25a35ec29f7a9139df2c6",
    "489ef6faf25fabc45fe77bc85647ac19be522f65fd4abace0299a34a7f415ffe",
    "de663b742125ef5942fed74b254b102ca89326a6830d44cb0f829f05ae2f75a9",
    "faeb1ba94f489101fab7fda1fb67b5ad1de98db758e182d513757ae7a29abeb2",
    "ac0f87479a3ecbe3bb2616d8d6c7f5f761d4d6fb980428646c041790bdcbb447",
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
