"""``rxlab`` / ``python -m rxlab`` as a user runs them."""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from rxlab.cli import main, parser
from rxlab.kernel.releases import NEWEST
from rxlab.model import config, defaults
from rxlab.model.strategies import STRATEGIES

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


def test_geometry_without_hardware_gro(capsys):
    """bnxt with rx-gro-hw off: no TPA, and bnxt_set_ring_params() gives MTU 1500 no aggregation ring, the
    frame in a head of SKB_DATA_ALIGN(1524) + ALIGN(XDP_PACKET_HEADROOM, 8) + 320 = 1536 + 256 + 320 bytes."""
    assert main(["geometry", "--driver", "bnxt", "--no-gro-hw", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["agg_ring_size"], d["tpa_bufs"], d["alloc_size"]) == (0, 0, 2112)
    assert main(["geometry", "--driver", "bnxt", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tpa_bufs"] == 256


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


ROOT = Path(__file__).resolve().parents[1]


def _help(command):
    return " ".join(subparser(command).format_help().split())


def subparser(command):
    p = parser()
    return next(a for a in p._actions if isinstance(a, argparse._SubParsersAction)).choices[command]


def test_simulate_help_explains_every_option():
    """Each option says what it is and its default as a number, its range from config.py's tables."""
    opts = {a.dest: " ".join(a.help.split()) for a in subparser("simulate")._actions if a.help}
    assert set(config.MEANING) == set(config.FIELDS)
    resolved = config.SimConfig()
    for name in set(config.FIELDS) - {"reconfigs"}:
        assert config.MEANING[name][0].split(" (")[0] in opts[name], name
        v = getattr(resolved, name)
        text = ("on" if v else "off") if isinstance(v, bool) else f"{v:g}" if isinstance(v, float) else v
        assert f"default {'none' if name in ('xdp', 'fixes') else text}" in opts[name], (name, opts[name])
    for name, (lo, hi) in config.INT_RANGES.items():
        if name not in ("queues", "reader_cpus"):  # their upper end depends on another field
            assert f"{lo}..{hi}" in opts[name], name
    for name, (lo, hi) in config.REAL_RANGES.items():
        assert f"{lo:g}..{hi:.0f}" in opts[name], name
    assert f"default {resolved.ring_size} (Linux {NEWEST}'s" in opts["ring_size"]
    assert f"default {resolved.queues} (Linux {NEWEST}'s" in opts["queues"]
    assert all(f"{s.name} ({s.summary})" in opts["strategy"] for s in STRATEGIES.values())
    assert "[bytes]" in opts["tcp_rmem"] and "[µs]" in opts["app_read_us"] and "[Gbps]" in opts["link_gbps"]


def test_claims_help_gives_numbers():
    text = _help("claims")
    assert f"default {defaults.CLAIMS.quick:,}" in text and f"{defaults.CLAIMS.full:,}" in text
    assert "QUICK_PACKETS" not in text


def test_simulate_echoes_its_configuration_and_the_estimate(capsys):
    small = ["--packets", "2000", "--queues", "2", "--ring-size", "128", "--connections", "8"]
    assert main(["simulate", *small, "--platform", "typical_arm64", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["config"]["kernel"] == NEWEST and d["config"]["strategy"] == "pp_frag"  # resolved, not None
    assert (d["config"]["queues"], d["config"]["ring_size"], d["config"]["tcp_rmem"]) == (
        2, 128, config.SimConfig().tcp_rmem)
    e = d["estimate"]
    assert e["platform"] == "typical_arm64" and e["gbps_low"] <= e["gbps"] <= e["gbps_high"]
    assert e["binds"] in ("line", "cpu", "reader_cpu", "window", "device") and "ESTIMATE" in e["note"]
    assert main(["simulate", *small, "--platform", "typical_arm64"]) == 0
    out = capsys.readouterr().out
    assert f"configuration (Linux {NEWEST}; given: ring_size=128, queues=2, connections=8, packets=2000)" in out
    assert re.search(r"^  ring_size +128$", out, re.MULTILINE) and re.search(r"^  strategy +pp_frag$", out, re.MULTILINE)
    assert re.search(r"^throughput on typical_arm64: [\d.]+ Gbps \[[\d.]+\.\.[\d.]+\], bound by ", out, re.MULTILINE)
    assert re.search(r"^  mem_peak_bytes +[\d.]+ (KiB|MiB)$", out, re.MULTILINE)  # bytes with their unit


def test_example_grid_runs_with_the_default_out(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RXLAB_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["sweep", "--grid", str(ROOT / "examples" / "grid.toml"), "--workers", "1", "--no-progress"]) == 0
    df = pd.read_parquet(tmp_path / "grid.parquet")
    assert len(df) == 4 and set(df["strategy"]) == {"full_page", "pp_frag"}
    assert "written to grid.parquet" in capsys.readouterr().out


@pytest.mark.jit_only  # the README's simulate runs 20,000 packets on 16 queues
def test_readme_shell_commands_run_as_written(tmp_path, monkeypatch):
    """Every `rxlab ...` the README shows runs (from the checkout's root, as a reader would); the
    claims and report commands, minutes long, are run by test_claims and test_report."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("RXLAB_CACHE_DIR", str(tmp_path / "cache"))
    commands = re.findall(r"`rxlab ([a-z][^`]*)`", (ROOT / "README.md").read_text())
    assert {c.split()[0] for c in commands} >= {"geometry", "simulate", "sweep", "claims", "kernels"}
    for c in commands:
        argv = c.replace("[--json]", "").split()
        if argv[0] in ("claims", "report"):
            parser().parse_args(argv)
            continue
        if argv[0] == "sweep":
            argv += ["--out", str(tmp_path / "grid.parquet")]
        assert main(argv) == 0, c
