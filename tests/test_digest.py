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
    "a4d053fd68e3c8cc24f21f84cf7c3b55539bd541bd7c8bfaac43a87c5fd6356c",
    "de00fa88e7807efd6be99ad7480c661637a6276e41ab8067657829858032ed2d",
    "d3c3a430dea4769222eb77bc2ea73632238901efc9c861295d920bbc084e95c7",
    "f85de5f4b5bdeb761deecf8a69f82258d54b78f3d48b68f89e77dba0f3ec6091",
    "734e3e5ef885a33de1c4b47677df39e732aec9fc5e8264136dad7c58b34574ea",
    "2c71b9551f64cad6f48447226dee62f6ae1e18fa231bb8bbfb244daee372088f",
    "ec36b3902e22e20cd0853e94af0f2524d145822766780e8a26b80ff5720b93ca",
    "8a53f56c7769b23f9042ee67d2423040f3da4f596a0fa10c6beef999bbbf441f",
    "0b42fcb292b86ac3aa748e80b6434192543aa97e16938e705fb2b9bd59fcc808",
    "09d655d9fa53c008451172fabb0ae6244273545f04d6cd11deff15028cf86507",
    "316027178c51f94cd769a856869da2d7f33467de5bf75e7b18e44c6cbf461d85",
    "c6a20f58228a1c8e2005ec410c4f442716a400f34a807ecc86db9e1d13ff5523",
    "1b5334aa0fca3dbdd3ab82265b4c0a9de91396d3d094d36d5d9033c2550c5a6d",
    "250a9c1f04076cd675b57380837794f241be647a483e041b68d351e1d118d39f",
    "6672020fa7d9a2cc1508e2f404812fd085609a30ea1828f985ab9a97a456e282",
    "8aeb5a1d76b7b7ffca754bb331cc956abd6e4613f5c69c700ac304d57a66ccc7",
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
