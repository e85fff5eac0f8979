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
    "2a7b9cbffe830ec04fb2732fa44c98f4bb6a745dd9d982c697a115eb4ae3b223",
    "88509f9e4f9450c29ed07cf418129f0844914a71fd726e6ac29d9341239b1d85",
    "167fcd88b6676840aee765cd0ab946a854e3da28cd644d8f9932ec69d3ad160c",
    "95f62615788af9b4824c0524926b8da8a9a5f64a5adc31ba3fc4ad36c65963e1",
    "9a62305a4dc37438e332022a0bdce59b23488d0b469cc5e9a1c4f94c54edd0bb",
    "3eaaf8b71db9bb8c64ae606c597c629d033711859e00924471b02aa61c78a9b2",
    "7d38d335beb1d5cbdc1bf4296e1b7a76e4845f06999f1ff4f1e0be35a80cdb50",
    "a667f18535b26e437247019d151d7bd4f844fbebd44cc6a6cb3452b6212dc438",
    "9a9dc679daae681cf9f4c404e498c0afd5e592a7b7ca0ec7b80de0009d1dbbfa",
    "485e2255b61eb2d156df8d45949a5145805a2e2a72a3a5bc6b7b8e37e26ad931",
    "1ad2cc2de9e58ed8565cb46803db49cbec9e90ac7ca40e03f2be02480824a2b5",
    "c54a077911554907d43f0bc83d4a925123a02f5b7ce417c0662d96335bcd8ceb",
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
