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
    "3c640e677cadf1a2cfc77f70ce6dc905d69ebf3696f6ad2e845a94d4d8064267",
    "c4f9f15ebc4cf6cb6d5161700049613c29db904e1486265aa472c544a2190d85",
    "372d9f1528414570f209d9352e92b959706c17ea7733cb0e5d57d4d7256eb281",
    "7694eca858a84034de21fdc71d104f35c7b39414d8073286934efb06f2888193",
    "80f4bcb14d6b030bf6c390d14f17cd6ee8548d0c3d32bc0d2f28d6827cc7afbd",
    "c00133a3e3c3f229e437d8054752ceb3aecbbcefce5b249813e6a0d80770dc2b",
    "a2eb53d4169ac8bd5b985b50dc05a6f01cc345087d2d2dfeac14776f7753ba44",
    "0eaa16d7ca27f9882811e736ea4c00b05b83122ac367298d0522d3c80b292236",
    "95c7ec1f11950fc7b4d75c3555ec406565ba9ac5c9440d4107769569c5bffcef",
    "628bf51c0265b6450d787b528d9bffd6fc8811c520f9f4fe0cedc180b8fa2185",
    "26060183de199e3f5b813526a81d019ee4e3db0bc8bee28aaf2a44721e0f41ba",
    "c1015a27f17a6838c725b033a3690d13e086fc653c6b88a56b99ee3f806306a3",
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
