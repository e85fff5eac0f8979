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
    "d9f4b130a5d3c174b514765da0d80aa76027b86b09cd5a18c790914238c542af",
    "ba257ee4d2310465ffd2a010df484c5da0dac084dba22ca8e43208b64d5924d3",
    "836764add99b843e9cf206fd45e5247c8d6782b5647064d2bc3486d3587a667d",
    "f3c5f45f8444685b037ccda05fc44f1e1fb372a74814fca784da96be25698b83",
    "80d5c7509ac7aeb00167b365acd0822a7f7c51d0f6f89e3d3632e6d9d3e3d9c9",
    "b0b5b6832ac24846a1102249a090a9c3c726cf9815c2fb8daef538e07d81aa6d",
    "318de8643d21c831e4a766ba2a173d8e2a6f9fd4efa89a9d5051a86287584c54",
    "8f5c7c92122996be05f9ea748e4f28e9d7c7a98ee617453eb7cfe2a485bb46c6",
    "4a3eb0ce45df40b232c6c96b1387605e7860e19f816078036b74982b62b39cc4",
    "99700ccc67e2f40a6a69cdfd3f9be0be8e119e54f787b0581090706efa698b96",
    "8ad4e357530a78cb29851e420f3adc5733ba18f44acd24a42062e785bb5975c0",
    "af9369510019b569d6b8348431fe33cc6c33c397ec15f6fdbdd1b937c0ca3f67",
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
