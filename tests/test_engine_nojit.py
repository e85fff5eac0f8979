"""The compiled engine and the interpreted one (NUMBA_DISABLE_JIT=1) compute the same runs.

The same source runs both ways, but numba compiles its own integer and float semantics and its own
random generator; the digests of tests/test_digest.py are only checked compiled. Here a few small
configurations that draw every kind of random number (acks, clones, XDP verdicts, injected
failures) run in this process, compiled, and in a subprocess with the JIT disabled, and every
array of the two Results must hash the same.
"""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from test_digest import digest

from rxlab import Reconfig, SimConfig, simulate, xdp_only

SMALL = {"packets": 2000, "queues": 2, "connections": 4, "ring_size": 128, "samples": 20, "max_skbs": 512}
CONFIGS = [
    {"strategy": "page_frag_cache", "ack_fraction": 0.3, "clone_fraction": 0.2},
    {"strategy": "copybreak", "ack_fraction": 0.5, "app_cpus": "napi"},
    {"xdp": (0.4, 0.2, 0.2, 0.2), "gro": False, "skb_defer_max": 4},
    {"strategy": "full_page", "alloc_fail_rate": 0.05, "dma_map_fail_rate": 0.05, "seed": 7},
    {"mtu": 9000, "tcp_rmem": 65536, "truesize_honest": True, "queues": 1},
    {"reconfigs": (Reconfig(at_packet=500, mtu=3000), Reconfig(at_packet=1000, xdp=xdp_only("tx")),
                   Reconfig(at_packet=1500, xdp=(), fail=True))},
    # mlx5's striding RQ, non-linear: stride arithmetic, fillers, failed WQEs
    {"driver": "mlx5", "mtu": 9000, "ack_fraction": 0.3, "alloc_fail_rate": 0.02, "queues": 1},
    # bnxt_en's page mode: its verdict draws, then the refill's injected failures
    {"driver": "bnxt", "xdp": (0.4, 0.2, 0.2, 0.2), "ack_fraction": 0.2, "alloc_fail_rate": 0.02},
]
FIELDS = ("counters", "counters_reader", "qstats", "conn", "samples", "ratio_hist", "inflight_end")


def digests(r):
    """A sha256 per array of the Result (with its dtype and shape), of its scalars and events, and
    test_digest's digest of the whole."""
    out = {}
    for name in FIELDS:
        a = np.ascontiguousarray(getattr(r, name))
        out[name] = hashlib.sha256(f"{a.dtype}{a.shape}".encode() + a.tobytes()).hexdigest()
    out["scalars"] = hashlib.sha256(json.dumps([float(r.t_us).hex(), int(r.mem_used_end), int(r.page_bytes),
                                                list(r.events)], sort_keys=True).encode()).hexdigest()
    out["all"] = digest(r)
    return out


def run_all():
    return [digests(simulate(SimConfig(**{**SMALL, **kw}))) for kw in CONFIGS]


def mismatches(compiled, interpreted):
    """``config i: <field>`` for every digest that differs or is missing on one side."""
    out = []
    if len(compiled) != len(interpreted):
        out.append(f"{len(compiled)} compiled runs, {len(interpreted)} interpreted")
    for i, (a, b) in enumerate(zip(compiled, interpreted)):
        for field in sorted(set(a) | set(b)):
            if a.get(field) != b.get(field):
                out.append(f"config {i}: {field}")
    return out


CHILD = """
import json
from numba.core import config
assert config.DISABLE_JIT, "the subprocess must run the engine interpreted"
from rxlab.engine.loop import run
assert not hasattr(run, "signatures"), "the engine in the subprocess must be plain Python"
import test_engine_nojit
print(json.dumps(test_engine_nojit.run_all()))
"""


def interpreted_run_all():
    """run_all() in a subprocess with NUMBA_DISABLE_JIT=1 and this process's sys.path."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=600,
                         check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.jit_only
@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="this process must run compiled")
def test_compiled_and_interpreted_engines_give_identical_results():
    from rxlab.engine.loop import run

    assert hasattr(run, "signatures"), "the engine in this process must be numba's compiled dispatcher"
    compiled = run_all()
    assert run.signatures, "the compiled engine ran"
    interpreted = interpreted_run_all()
    assert mismatches(compiled, interpreted) == []


def test_mismatches_names_each_differing_field():
    a = [{"counters": "x", "conn": "y", "all": "z"}, {"counters": "x", "all": "z"}]
    assert mismatches(a, [dict(d) for d in a]) == []
    b = [{"counters": "x", "conn": "Y", "all": "Z"}, {"counters": "x"}]
    assert mismatches(a, b) == ["config 0: all", "config 0: conn", "config 1: all"]
    assert mismatches(a, a[:1]) == ["2 compiled runs, 1 interpreted"]


def test_digests_see_a_one_count_change_in_every_array():
    r = simulate(SimConfig(**{**SMALL, "packets": 200, "queues": 1, "connections": 2}))
    before = digests(r)
    for name in FIELDS:
        getattr(r, name).flat[0] += 1
        after = digests(r)
        assert {k for k in after if after[k] != before[k]} == {name, "all"}, name
        before = after
