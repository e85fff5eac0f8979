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
    "77642504ad9e82fd278f70e48289ebce3d0c8cbd37e1ee74ab9e2a376dd09c4a",
    "502b3a6347b79af2123d36b7c43a735cef08abf9c6f8ae1bd145819ef699fe30",
    "659208e9c4db64e2625980f64e0ed31e75c8d10a4908c5d0702370acfdd3f55c",
    "8fe6feb44cb3625e630992b6893ab3f69874eb31036458e4610074ecd66b418b",
    "89f054636dde7f163f5cc60457168beb91f41b9c59676d436ad765c0ff2a78b3",
    "9d461e00398e1970e3183d0555686899ffc58371fd03dc5ea8d0ce11e63d49fc",
    "7254f0c97bba913f53d684c65b4c598c2d7822ba9a84f7ec18b9df65c06c9255",
    "5e53b18c85b981a33aa5deea8b759fc379ed525945c940efea34c1d677381d44",
    "485729e83122f92ea947e5b084f4043796b04af269b09da135b9b2e1a414e8ed",
    "c0143c9863b69ec201dadc8201d5724aa4f84c5a349676e2ef6e4be4cb5805d0",
    "35ca0d570941b393985ff3de2926127f3abbd36f7d5e90991b9d2c4dc7b9283f",
    "d5ec8b161895f41e71c1677f21bc6cb0d5d872b00932aa291bb0a0723a7310e0",
    "89e38d717b4a324fc85207a07d6aed2e0c7657fcc6d26fbf5269ef192a9ae7c4",
    "f9232ac37dafbf431e5b8f7bf05901edf70e19d4f8a2945af2f82a784bd1f7ef",
    "cf863e69dcae782830139b5498e0c06506433097346a1c67b499bfba11796cad",
    "3d57c276c1e65e0dce12fb1232879d19356e1e1d808e81bea0cc9228306a3109",
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
