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
    "2e813d0c204a9592d021e34af78b85955f6da5bc43ee1d4e379f921d2c7c1b00",
    "b1c1c9d1043b795644389a269ea134b537d9ef9b663e03f2858ecd3ef6c63225",
    "b81fe95a9531bcc1190d60974bae50d3dc8824138dd289d0c4c6e429c58df191",
    "1fa5bbfc16526fb42974fdc4798e0a1eee20431f81a268211905648751dd9540",
    "aed8eb1494aa26205103d905dbce84e6b48956208c258e092736a258d51acad9",
    "425240a713ca8c018309e6d211ae1cebfcb4045a08f9e53943d7c35b539e296c",
    "f12b4f2bec9dc9f455e02d3651e81222c3c5bb91c9e3debd3f9faef7fffdab55",
    "02449f00a62b473ddfbcb9dff08b233b653c6e333fb3fa4ce49ff96493591e09",
    "4c1483d874247d1eda063b0a24a17b465933278c5f7d4d0d7863edb8f3aeda45",
    "b132f346fafcc2fcd99d4fda13dfddcca13a36a7022db115597fd7b8b635733c",
    "249ce09111a348106513ff4e5b53b07506036893279613e1b871214e0a4c9759",
    "bcf4097d8a36a9087afd5cb5380e33e6df1a6450464a4c23918ab781b3539373",
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
