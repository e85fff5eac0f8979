"""Running the analysis notebooks: parameters injected papermill-style, key results read back.

A notebook's first code cell is tagged ``parameters`` (the papermill convention) and sets
``quick = False``. :func:`execute` inserts a cell tagged ``injected-parameters`` right after it
(``quick = True`` for tests and ``rxlab report --quick``), runs every cell with nbclient in a
fresh kernel that imports this same ``rxlab``, and returns the executed notebook.

A notebook states its key numbers with :func:`record` (a small table for the reader, and a
JSON bundle under :data:`RECORD_MIME` that :func:`records` reads back), so tests assert on
what the notebook itself computed.
"""

import html
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

import rxlab
from rxlab.errors import bad

NOTEBOOK_DIR = Path(rxlab.__file__).resolve().parents[1] / "notebooks"
RECORD_MIME = "application/vnd.rxlab.record+json"
TIMEOUT_S = 600  # per cell


def notebook_paths(folder=NOTEBOOK_DIR):
    """Every notebook of ``folder``, in name order (00_, 01_, ...)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise bad("notebooks", str(folder), "an existing folder of NN_*.ipynb (rxlab report needs a source checkout)")
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def _plain(v):
    """A JSON-ready scalar (numpy ints and floats become Python ones)."""
    if isinstance(v, (bool, str)) or v is None:
        return v
    return int(v) if float(v).is_integer() and not isinstance(v, float) else float(v)


def record(**values):
    """Show the notebook's key results as a table and keep them for :func:`records`."""
    from IPython.display import display

    values = {k: _plain(v) for k, v in values.items()}
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in values.items())
    display({RECORD_MIME: values, "text/html": f'<table class="rxlab-record">{rows}</table>'}, raw=True)


def records(nb):
    """The values every :func:`record` call of an executed notebook stored, merged in cell order."""
    out = {}
    for cell in nb.cells:
        for o in cell.get("outputs", ()):
            if RECORD_MIME in o.get("data", {}):
                data = o["data"][RECORD_MIME]
                out.update(json.loads(data) if isinstance(data, str) else data)
    return out


def inject_parameters(nb, **params):
    """Insert a cell tagged ``injected-parameters`` after the ``parameters`` cell (papermill's way)."""
    at = next((i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", ())), None)
    if at is None:
        raise ValueError("notebook has no cell tagged 'parameters'")
    src = "\n".join(f"{k} = {v!r}" for k, v in params.items())
    cell = nbformat.v4.new_code_cell(src, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(at + 1, cell)
    return nb


class _ThisPython(KernelSpecManager):
    """The kernel is this interpreter, whatever ``python3`` kernelspec the user has installed."""

    def get_kernel_spec(self, kernel_name):
        return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                          display_name=f"Python ({sys.executable})", language="python")


def execute(path, quick=True, timeout=TIMEOUT_S):
    """Run notebook ``path`` (with ``quick`` injected) in a fresh kernel and return it executed.

    The kernel is this Python, started in the notebook's folder with this ``rxlab`` first on its
    path, so the notebooks run against the package that runs them."""
    path = Path(path)
    nb = inject_parameters(nbformat.read(path, as_version=4), quick=quick)
    root = str(Path(rxlab.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    km = KernelManager(kernel_name="python3", kernel_spec_manager=_ThisPython())
    client = NotebookClient(nb, km=km, timeout=timeout, resources={"metadata": {"path": str(path.parent)}})
    # the kernel's own stderr is only its start-up chatter; a cell's error comes back through the
    # protocol (CellExecutionError) and a crash as DeadKernelError
    client.execute(env=env, stderr=subprocess.DEVNULL)
    return nb
