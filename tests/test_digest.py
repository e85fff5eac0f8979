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
    "014b8310d76ed109bf59baaa97eb40c8ef9714cf8aab0fda28577a781f2db4bb",
    "5e17a003c087261cfdd09ddd3fbb89b44046c76ebf501040082a77e008a5a10f",
    "b15d12698167999c07712aab0a834704a6b77483ad083f07972588fbf1b46877",
    "ad16e89b418d298afc51e6ed6130f112a9feebe78331da38339ce355a0a326e9",
    "fb2479dc345a06b8b627e47b29bc9bdf5b61658136df40a1ea6bf3083e133ff8",
    "1cb07c6cc79a939d3f5ef33c82cccf6cedbdf07e07842c5fe9820a227ca3eb28",
    "6b4aaa654298ac4d84af1f672a698b0cbbddd3bb5b899187ce504b1fc6b5aaa1",
    "cd1a4223f6a68752148f5ad7f3b9d4178fbff48b8859a61f45549ba394c6906c",
    "eedbc86fa925babb587943f3cdeaafdfb36304e7bcc4cdc43725ecc415d9cd59",
    "43065ec07b0320e827ab4c3da05db66fa32f9d86e681f9bc6a6b7dc6b490b62f",
    "2b4d8400a65ae3bb2522f4983d45b80e12aeb9d1380ec5edc4888b1a0d8c4ed5",
    "ded00cc74c904e148eaf6caefd1e62c3f718c4e1820c208c01743293ad0d128c",
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
