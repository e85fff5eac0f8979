"""``import rxlab`` and ``rxlab geometry`` are pure arithmetic: they load neither numba nor pandas
nor pyarrow (issue 10, fast start). Time is measured in benchmarks/bench_start.py, not here."""

import json
import subprocess
import sys

import pytest

import rxlab

pytestmark = pytest.mark.no_engine  # no engine code here: the compiled pass only (CONTRIBUTING.md)
HEAVY = ("numba", "pandas", "pyarrow", "matplotlib", "nbformat")


def loaded_after(code):
    out = subprocess.run([sys.executable, "-c", code + "\nimport json, sys\n"
                          "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"],
                         capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.mark.parametrize("code", [
    "import rxlab",
    "from rxlab.cli import main; main(['geometry', '--page-size', '65536', '--json'])",
    "from rxlab.cli import main; main(['kernels'])",
    "import rxlab; rxlab.mana_rx_geometry(4096, 1500); rxlab.SimConfig(strategy='full_page').geometry()",
])
def test_no_heavy_import(code):
    assert loaded_after(code).isdisjoint(HEAVY)


def test_the_heavy_names_load_on_first_use():
    assert {"numba", "pandas"} <= loaded_after("import rxlab; rxlab.simulate")
    assert set(rxlab.__all__) <= set(dir(rxlab))
    with pytest.raises(AttributeError, match="no attribute 'simulat'"):
        rxlab.simulat  # noqa: B018
