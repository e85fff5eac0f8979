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
    "4f122837ce17fbd50794ab8c461efd30bf7d895471c01dc07f089702fb5b7459",
    "ad27f7608f73f44acac6924e1c303383fc2eb14d6e8a663a1e4f979d70c234b1",
    "325d94f3c18b802dea3410c3bc670163594dbaa9ff26ee356443243de42efefe",
    "d6900f8e8a39361f41b751bfec9d1c87b918a34050981db48a3c79232d221239",
    "a1aade829ff1e3d81804d49c537ee1a3aeb11430f9d9e87263b7ddfb39545df0",
    "df06cf55fda1ecb1b7e9c93298e9a262b448666a3299f914490ea27605b0fb28",
    "26b9fe2e365208154c6d3a02878735f7ccfba4137affeb8b0ae30950856e719b",
    "7068fa5154c2fd75db3173dd1b7b49a5175b0957dcffa7b4336c5b95894c440f",
    "ea123cb44f585e5a910bd556c245a706344d561765e6b4c21c7fdae29e6af729",
    "daf12732bde0ef61b053b8c4937a546b0c9de7083b373a711d086c8d72bdcf49",
    "9a674793dd50ee411c486f6b667027fdd7571daef08e8b65c580f51a1e7e02c0",
    "cc7c664930b6141ce6b83a465b15ea2b464379a945ac304ecccd01e07a3adc42",
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
