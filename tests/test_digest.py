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
    "5d10a521ece1bd7553acecf64fc9d1e872da7d53ddc2eb9c81e3ed1e611a882f",
    "28fc75b1872b9189db63b5c25ff0c26e818f950622db33f65db74ce489fc8ebc",
    "e08613498c1da11e783a5740efd26cd65ba89fb8c359c98a42d1cd66b0ba2661",
    "6a6c221fe2fb9a92bdaf7fcba6f2125c6c05dd1fdc5237912bbf3f72f86ffb3f",
    "a8b1ffb564d64c53fb00dc2ca5b5c92a81098060a230541f8008d4ad87cc8b97",
    "bdf2dc1a142af1fc41936e0d995086d535b9d6a44e5ffc4a4da67a0273fb475d",
    "9f8b0a647d33b4b2b4c6410e058b3607b985dd8936c1df2acffaed26225757e1",
    "ae4921df6d11b785d6364f9139c3fc4ec5d34e8984d02041c4452d68b89e19f5",
    "4e46beffb14cb448c0dcf786d080d62a9bb852e8118e7b6d0b88b41c27ea60c4",
    "896a7ad50ff270b6de35ce0f658ea0703caf033e497c04c08f884ce3d6587538",
    "1ebe0cac635286c0865b6ec49971dc20dfdc4c2304427b67e20765b2296f667b",
    "a46af189f566e6d2898908211ca6057e91dffd6030e02b17c31c94176a1a808e",
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
