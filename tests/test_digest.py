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
    "383f89945ffd157db5a46f6811ec5352abb0e28bae9c56e694c1d77d2ea5e6a2",
    "d3fcf6bfde1fd0c7a555837a701fcb69e9e4c712319303091e278c2c4bb78051",
    "d4945453b4ba43375fd967234675982057d76b6fc53c4ce4ea3bfcc0f39ecd20",
    "c3a560c27ccd749f01348488c22485b4aa3591f26968c052c5020d8a84527316",
    "7103a0431fe785aeb226b99d7cb32c23f0e636f1ed8f1144257344d1531f787c",
    "404a515055ced4fd98157d3d83f1ee351a0e954376810ca84862719877d23e5e",
    "47ed498b3033a4a7ddc97b62d407576331b599c5641ff630fc0ef3d3100790a0",
    "8a074da3f455ad5ebfade051f43b32a21d3f18d47f4f9a104e42690ca9c811b2",
    "f41c8f9f1436ce376703f4108e6291aba5ffd64d522a87f7ead071917673a86b",
    "eef540e1fb89a2ad3c1a36275d8660064646885d59ce718bae92a7a23ee383c8",
    "5f89fabd1fbfd7ea7e8cae375e74110242d6eb9b9936daad51aace9bd8381386",
    "aa1650f6160743343c952b6709e5ef640d2e7b939f64220b2fc415fbfdd5e74e",
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
