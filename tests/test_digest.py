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
    # mlx5's striding RQ: linear 2 KB strides; non-linear 256-byte ones (a copied head, fillers)
    {"driver": "mlx5"},
    {"driver": "mlx5", "mtu": 9000, "ack_fraction": 0.3},
    # bnxt_en's page mode: every XDP verdict, copied ACKs; 32 KB fragments of 64 KB pages with failures
    {"driver": "bnxt", "xdp": (0.4, 0.2, 0.2, 0.2), "ack_fraction": 0.2},
    {"driver": "bnxt", "page_size": 65536, "xdp": (0.5, 0.1, 0.1, 0.3), "alloc_fail_rate": 0.02, "seed": 3},
    # bnxt_en's normal mode with hardware GRO (TPA): aggregations ended by the timer, by ACKs, by 64 KB
    {"driver": "bnxt", "ack_fraction": 0.2, "tpa_timer_us": 8.0, "connections": 16},
]

EXPECTED = [
    "9fc0036cf6bfe62149880d291708fcfe104b631c18a4ae73c5d74dde0d427cb9",
    "166ef04452986b36ebe19d5408154fbfa7cb2fef9ce391e11a70d415aa923847",
    "3c4598cc63cf3962ff38741e46311282d6510138c2fa8398c4dda60a878b457f",
    "a44ba35a438559945b21a3cf982adcbf84d18e0f8e6f4ed9404efbad482031f3",
    "f6e9bc763462649e24a59e2db64a85e45bed6b44e28c6add0231d0441bf09935",
    "86cf8c518e53bf749f7fa7ce60100621d045954bcccae9698ce626d2027956bc",
    "cb93012f9cc83c440f184db53c4e55139fbf77675171837c34e433c8343ba5a8",
    "b540708782f3630fdd2fd6af1b92e984ee1e61d395dee00e85c8d930e32f5696",
    "bba28410b76d8d4e9f376e468451c63bea1680020aa0c16aa2a9f08e426a444e",
    "f4ebe7120351bfb2f792c71aa7b085fc48a8d9737d190dfee15842f8e1ec3a11",
    "b92e8deae4e7e0ec74bf2cd60fbc3698fe9987e7a8b0d8353a78a85661f82a1d",
    "d5a32fdcbdecc5775e47227611f77cda99e273b25af024303f0892af8094c472",
    "0a284a6e16e81f41c9e40c09eff8753c9e6e713c875b2221856e52ec0a2ced58",
    "f7b7252fa02aa11e3c0daa3c2b7622607bae089959aaabf94bec27fc9ea3d19a",
    "ee50d62cfb52e230e231b510c47375d4d31a39e9b831fa354692b2e46b8345fb",
    "f45e7a200ea7a9599a7702659fbd768bc617d60019da96d53fae069141efa7ca",
    "7b1df40a172b18771d9c20b525ea166e0eb369ebd2d36fc81d088e897ac21fb7",
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
