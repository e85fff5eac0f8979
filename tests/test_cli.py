"""``rxlab`` / ``python -m rxlab`` as a user runs them."""

import json
import subprocess
import sys

import pytest

from rxlab.cli import main

FIELDS = {"datasize", "alloc_size", "headroom", "frag_count", "order", "pool_size", "truesize", "ring_bytes"}


def test_geometry_json(capsys):
    assert main(["geometry", "--page-size", "65536", "--mtu", "1500", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert FIELDS <= d.keys()
    assert (d["frag_count"], d["alloc_size"], d["pool_size"], d["truesize"]) == (35, 1856, 30, 2112)


def test_geometry_table(capsys):
    assert main(["geometry", "--page-size", "4096", "--mtu", "9000", "--variant", "pre", "--queues", "2"]) == 0
    lines = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert lines["order"] == "2" and lines["alloc_size"] == "9344"
    assert lines["nic_bytes"] == str(2 * 1024 * 16384)


@pytest.mark.parametrize("argv,needle", [
    (["geometry", "--page-size", "5000"], "page_size=5000 is not allowed"),
    (["geometry", "--mtu", "4000", "--xdp"], "mtu=4000 is not allowed: 68..3506"),
    (["geometry", "--ring-size", "9000"], "ring_size=9000 is not allowed: 128..8192"),
    (["geometry", "--arch", "sparc"], "invalid choice: 'sparc'"),
])
def test_errors_are_one_line(argv, needle):
    p = subprocess.run([sys.executable, "-m", "rxlab", *argv], capture_output=True, text=True, check=False)
    assert p.returncode == 2
    assert p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and needle in p.stderr
