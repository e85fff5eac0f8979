"""The lab's pre-save hook keeps notebooks as the repository stores them (rxlab/views/lab.py)."""

import copy
import json
from pathlib import Path

from rxlab.views.lab import command, pre_save_hook, strip_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_a_committed_notebook_is_already_stripped():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = json.loads(path.read_text())
        assert strip_notebook(copy.deepcopy(nb)) == nb, path.name


def test_the_hook_strips_outputs_counts_and_run_metadata_of_notebooks_only():
    nb = {"cells": [{"cell_type": "code", "execution_count": 7, "metadata": {"tags": ["x"], "scrolled": True,
                     "execution": {"shell.execute_reply": "t"}}, "outputs": [{"output_type": "stream"}]},
                    {"cell_type": "markdown", "metadata": {"collapsed": False}, "source": "m"}]}
    model = {"type": "notebook", "content": nb}
    pre_save_hook(model=model, path="a.ipynb", contents_manager=None)
    code, md = model["content"]["cells"]
    assert (code["outputs"], code["execution_count"], code["metadata"]) == ([], None, {"tags": ["x"]})
    assert md == {"cell_type": "markdown", "metadata": {}, "source": "m"}
    text = {"type": "file", "content": "keep me"}
    pre_save_hook(model=text, path="a.txt", contents_manager=None)
    assert text == {"type": "file", "content": "keep me"}


def test_the_lab_command_is_loopback_without_browser_and_strips_on_save():
    cmd = command("notebooks", 9999)
    assert "--ServerApp.ip=127.0.0.1" in cmd and "--no-browser" in cmd and "--allow-root" in cmd
    assert "--ContentsManager.pre_save_hook=rxlab.views.lab.pre_save_hook" in cmd


def test_make_report_and_lab_compile_the_engine_first():
    """`make report` runs `make engine` (the engine compiled into numba's cache, or loaded) before the
    notebooks; `make lab` loads it in the lab's own command before the server starts."""
    import subprocess

    root = NOTEBOOKS.parent
    plan = subprocess.run(["make", "-n", "--no-print-directory", "-o", ".venv/.rxlab-installed", "report"],
                          cwd=root, capture_output=True, text=True, check=True).stdout.splitlines()
    engine = next(i for i, line in enumerate(plan) if "rxlab.views.lab --engine-only" in line)
    assert engine < next(i for i, line in enumerate(plan) if "rxlab report" in line)


def test_engine_only_loads_the_engine_and_starts_no_server(capsys, monkeypatch):
    import os

    from rxlab.views import lab

    monkeypatch.setattr(os, "execv", lambda *a: (_ for _ in ()).throw(AssertionError("a server was started")))
    lab.main(["--engine-only"])
    err = capsys.readouterr().err
    assert "rxlab: engine ready" in err
