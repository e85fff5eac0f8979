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
    "29b09b0324fb41bde68a117f3014bc943f47fe37d153eba58562bf84e11a3422",
    "7464432a5bb36f585eb1ee256e07c7d658c758c29018bdec8d4c923ff3b05b1a",
    "9c30077ccde6c9ddb01aa6d0d69aae6001682e6c4486791474415fa5cee2e6ab",
    "e1159b862184b9093ba5648e562bf4096c51a676381f7310ccbdca5fbf610d70",
    "50264f334463432829108f4c2d9d8aeae2fb4427b28132bee813f4017c3f3907",
    "577c44a6824e8f33581c9721128f7f573a5b61afb52dea758149a3adca1c653b",
    "7a1b9ef85e6eb5f2358f132879d2124578ef918699af5d7de9e2f9ab405912ce",
    "4a4bded600b05e1a8b863d8232eb303f4051eb3e76dc61f1aa9868d10ae7f8d2",
    "64f9e505e78428b72a20c509359e59e66dbcaeeb5a506f871e51b7b7561074dc",
    "83eb534c990d93e86477e471be2dcb85afc79c4cfd7be4d6fb5b3a110eb09355",
    "38425b5d46ac477a1e1b5e47c35b3434740bc4789e8ccb561da86bda1a3e3c8e",
    "bdfb5a3ce93b174c364e2494a49e8535accf83df17ab54d3c4a2168cd8c8adf6",
    "87a0d89e684aa7ec11a00f7b5582e454b4b829b317a2b5f92569f33968dff65a",
    "0e7e890eedf10da1f000dd1adb23d5d3dd16ae3ded0f1335e7f0c1d773012723",
    "005a43737cb8f86a02bd5dbe025b7b05f16896b904f0ac6a1af8faa6abc719e8",
    "a5a6f5225b83e4a043bf935debb1c68ff08db3794ba317fc0e582259c10e65fb",
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
