"""Every notebook executes in quick mode, and its recorded numbers are checked against the package."""

import nbformat
import pytest

import rxlab
from rxlab.notebooks import notebook_paths, records


def check_00_explorer(r):
    res = rxlab.simulate(rxlab.SimConfig(packets=r["packets"], samples=100))  # the panel's defaults
    assert r["packets"] == 3000  # quick mode was injected
    assert r["alloc_fast"] == res.counter("alloc_fast") > 0
    assert r["atomic_rmw_per_packet"] == pytest.approx(res.metrics()["atomic_rmw_per_packet"])
    assert r["mem_peak_bytes"] == res.metrics()["mem_peak_bytes"]
    assert r["frags_per_page"] == 2


CHECKS = {name[len("check_"):]: f for name, f in globals().items() if name.startswith("check_")}


def test_every_notebook_is_checked():
    assert sorted(p.stem for p in notebook_paths()) == sorted(CHECKS)


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_committed_clean_with_parameters(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit notebooks without outputs"
    assert "parameters" in code[0].metadata.get("tags", ()) and "quick = False" in code[0].source


@pytest.mark.jit_only  # interpreted, each notebook would take minutes
@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook(path, executed_notebook):
    CHECKS[path.stem](records(executed_notebook(path)))
