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
    "60eb41609f1239a5390d0599fe7dc5cf8e4c98da37f919c22de824ce40abddda",
    "ba67a8b890ba5ee8373bc15614e9a0d1d7c4fb3e32375de247954aa9968e826b",
    "dcc80696d10b0949e6b023219e6a5fd279043548368be3c2687580171153c431",
    "38a6910736f5950e977c2e76c4ffea91a026a9cacdc7f34dea72c36a49d701fb",
    "16ff4addd0af021a1bdeca338be81c7e34cf49b3f0ef22c555278950982735e3",
    "4275bfc92d6a3f6928f2369009c603ffa482705f73969519cb73dcb4c01c93bf",
    "e9a418b7606a96dc788b3190a2711b049b8b5e681491b0b8d39a64dc2ab62f17",
    "0b9db5763e8fa9d5eb00aab1211119a72e5ca42944b41964d45426d8230cfb77",
    "62dd2ec3674f862630221feef575ede3500edf12141ef1a0d00a4107ed4478c7",
    "656e70380c8f4178a5c085890d3caae075e38dadca80cd46f48a855562c7a11d",
    "411fcb2587f7f54c059c5c2730e59dd21ba7da98369c624b2e9c74d9249f475c",
    "9f2c242f50fb8bdf01458143928cd251b27385ea6937082f2b56f965a8a6dd9c",
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
