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
    "34ff466c05f24c0a9727c09594bbcf221d41c3c6a40386f4b1a15eca453a8c6f",
    "1bc2b2ecfe678a39dc5128d825008a0a3eb5dc761e12721f4986beb1abd95a7e",
    "07f31cddcaf90a72d04af10f29d09896f00a9581fedf141d0f4639da4766f25c",
    "67f64a14952b96933e774927382a7c2846f81e039a8ac5157f1f3bd951562c87",
    "4e73801123a273ce8740a7fb3a2bace9a9d5c7483babf01fd98c6bb55161de85",
    "67ff89551680dfb3ec601c8337d6eb129eb38e7fd0cc43d5d82f5c450f8da349",
    "bf173698511e4f01d9a66de3dea69fda4c1d356fe3a12ee9319686566e02d77c",
    "30b892f15fbac568124488736b8d5b9b953a55af4cda99bf373b7aff6b6cfb60",
    "1f5510fc64781ca9cac4f2ad833957cb8fef229a3f96cbbdb1f6764b4630ce39",
    "3819bb429b87612e305e167d9e9d080886ba7b590aec85acdcdfd73f9ebd610f",
    "dc81cad97bd95a6be92b14f5b36046d349709edfa4d5ba65e804d9f2d7c39550",
    "6c3dbbf88f038b23583ff31163d139395301464347733d3b55cff1ff78236ff5",
    "9b21b8498984df40b887f411f62faa2775b4e973fa08f44d1b97b4fad9bd0995",
    "9aa859a8bd18c21db9d83f80538cb56da06caa2cc3e9f12bc343586234676951",
    "fd4162b2c4b5d823ed849c1278a9afeef7688eddccd728de13ade94bc29f69c1",
    "aa278953374c01b527464e869774ea96d8a2ddb02fb5b3f09f12b98d56f12db5",
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
