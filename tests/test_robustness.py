"""Hostile inputs and interruptions (issue 14): every example ends in a one-line error that
names the field, or in a run whose invariants hold; no command prints a traceback for a user
or OS error; interrupted sweeps and reports leave what the README promises.

Items: 1 memory sized from the run, 2 validation in one place, 3 the cache serves only its own
run, 4 OS errors on one line, 5 calibrate at its bounds, 6 the report stops and survives bad
notebooks, 7 the index escapes, 9 huge grids, 10 pool workers die with the sweep, 11 ring sizes
rounded up to a power of two.
"""

import json
import math
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import rxlab
import rxlab.studies.sweep
from rxlab.cli import main
from rxlab.kernel.mana import mana_ring_size, mana_rx_geometry
from rxlab.model.config import SimConfig
from rxlab.model.simulate import simulate
from rxlab.studies import cache as result_cache

ROOT = Path(__file__).resolve().parents[1]
NOJIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
TINY = {"ring_size": 128, "queues": 2, "connections": 8, "max_skbs": 256, "packets": 300}

# "field=value is not allowed: why", or "a=1, b=2 are not allowed: together they ask for ..."
NAMED = re.compile(r"^(grid: )?[A-Za-z_][\w.()\[\]' ]*=.+ (is|are) not allowed: \S.*$")


def assert_named(e, field=None):
    """``e`` is a one-line ValueError naming a field (``field`` if given), its value and what is allowed."""
    msg = str(e)
    assert isinstance(e, ValueError) and "\n" not in msg and NAMED.match(msg), msg
    if field is not None:
        assert re.match(rf"^(grid: )?([\w.()]+=.*, )?{re.escape(field)}=", msg), (field, msg)


def rxlab_cli(*argv, env=None, **kw):
    """``python -m rxlab *argv`` as a user runs it."""
    return subprocess.run([sys.executable, "-m", "rxlab", *argv], cwd=ROOT, env={**ENV, **(env or {})},
                          capture_output=True, text=True, check=False, timeout=600, **kw)


def one_line_error(p, status, needle=""):
    """The command failed with ``status`` and said why on one stderr line, without a traceback."""
    assert p.returncode == status, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr, p.stderr
    last = p.stderr.strip().splitlines()[-1]
    assert needle in last, p.stderr
    return last


def alive(pid):
    """Running, not a zombie."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children(pid):
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            f = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if f[1] == str(pid) and f[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def wait_for(predicate, seconds=120.0):
    """Poll until ``predicate()`` is true (a deadline against hangs, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def read_only_dir(tmp_path):
    """A folder this process cannot create files in, even as root (CI runs as root)."""
    if os.geteuid() == 0:
        return Path("/sys/rxlab-read-only-test")  # sysfs refuses mkdir to everyone
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    return d


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else repr(v))
    if isinstance(v, (int, str)):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + "}"


def quiet(grid, cache, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rxlab.sweep(grid, cache=cache, workers=1, progress=False, **kw)


GRID2 = {"page_size": [4096, 16384], **{k: [v] for k, v in TINY.items()}}


def sweep_argv(tmp_path, *extra, cache=None):
    toml = tmp_path / "g.toml"
    if not toml.exists():
        toml.write_text("\n".join(f"{k} = {toml_value(v)}" for k, v in GRID2.items()))
    return ["sweep", "--grid", str(toml), "--out", str(tmp_path / "o.parquet"), "--cache",
            str(cache or tmp_path / "c"), "--workers", "1", "--no-progress", *extra]


SIMULATE_SMALL = ("simulate", "--packets", "200", "--queues", "1", "--ring-size", "128", "--connections", "2", "--json")


# ---------------------------------------------------------------- 11. ring sizes as the driver rounds them

def test_ring_sizes_round_up_to_a_power_of_two():
    assert [mana_ring_size(n) for n in (128, 129, 1000, 1024, 4097, 8192)] == [128, 256, 1024, 1024, 8192, 8192]
    for n in (127, 8193, 0, 1000.0):
        with pytest.raises(ValueError) as e:
            mana_ring_size(n)
        assert_named(e.value, "ring_size")
    assert mana_rx_geometry(4096, 1500, ring_size=1000) == mana_rx_geometry(4096, 1500, ring_size=1024)
    a, b = SimConfig(ring_size=1000, **{k: v for k, v in TINY.items() if k != "ring_size"}), \
        SimConfig(ring_size=1024, **{k: v for k, v in TINY.items() if k != "ring_size"})
    assert a == b and a.ring_size == 1024 and result_cache.run_key(a) == result_cache.run_key(b)
    ra, rb = simulate(a), simulate(b)
    np.testing.assert_array_equal(ra.counters, rb.counters)


def test_the_cli_says_the_ring_size_it_uses(capsys):
    assert main(["simulate", "--ring-size", "1000", *SIMULATE_SMALL[1:5], *SIMULATE_SMALL[7:]]) == 0
    o = capsys.readouterr()
    assert json.loads(o.out)["config"]["ring_size"] == 1024
    assert o.err == "rxlab simulate: ring_size 1000 runs as 1024 (mana_set_ringparam rounds it up to a power of two)\n"
    assert main(["geometry", "--ring-size", "1000"]) == 0
    o = capsys.readouterr()
    assert "ring_size 1000 runs as 1024" in o.err and re.search(r"^ring_size +1024$", o.out, re.MULTILINE)
