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
]

EXPECTED = [
    "14d283cf243828480ef83c69ac619f081c46f08d7cb3c5d0b38b65f5f96cc4d0",
    "8acb2fe6fed0738f39b8ffb3c992f5383e541b5080becb4829fab4901aea9801",
    "f0e61a367402d0c63d8fdbb91e72e99332f6b2707e0251be30afc111f37bf5cf",
    "64d025bb75791be05860d5ec00123ecadeb93ec23f5e9de83e098e5e5cc74337",
    "f4e083157fab48eded09d90844a88a33e07c0535ccb1504ecca6ae2e5fdac927",
    "48d260c7371a57333721171b874baea31e17f35125958b96ade56c0b0dca8716",
    "20a9a8f53f36b0187557b189f3d65d1797195a0a1981ad6675c6430def331278",
    "bbc256a6ab93eecc6e743110ce2a68c154f4a2c8ce68f8cc08cd294191df5eb1",
    "d531b0e02b7215b4da6102eab50dcbae0ea933a12bf84079aed8f8d5014bfb1b",
    "ebb8406f3d8fdc2ef24381a98cd94292ec1790337032f318398e5511a477cd70",
    "e72485f99bf9adbeeccc46e156c407ccc0070b32eb5309efc4b8c1561cde0e63",
    "c30db0936efb267a723172a68df82510fd7e1f15a82849670a8f0f2999932bc5",
    "aced0596b3ceacdaab1c7d74cd0b001a6ee6fe521258203572ea551a0c891cfb",
    "49046b9ff6295cc0736b3b82aabae96a19d304a11c19ba016af59bd45502d06f",
    "24cd98541efceeb95500f5fbfd03aea5322dbb21d264f57b9c0425087262961f",
    "8b5da778f0eca12ea94b1a44e351627e80f3b2493aea0bb10445bccdd9c9b406",
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
