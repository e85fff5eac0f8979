"""Running the analysis notebooks: parameters injected papermill-style, key results read back.

A notebook's first code cell is tagged ``parameters`` (the papermill convention) and sets
``quick = False``. :func:`execute` inserts a cell tagged ``injected-parameters`` right after it
(``quick = True`` for tests and ``rxlab report --quick``), runs every cell with nbclient in a
fresh kernel that imports this same ``rxlab``, and returns the executed notebook.

A notebook states its key numbers with :func:`record` (a small table for the reader, and a
JSON bundle under :data:`RECORD_MIME` that :func:`records` reads back), so tests assert on
what the notebook itself computed.
"""

import asyncio
import html
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

import rxlab
from rxlab.errors import Interrupted, bad

NOTEBOOK_DIR = Path(rxlab.__file__).resolve().parents[1] / "notebooks"
RECORD_MIME = "application/vnd.rxlab.record+json"
TIMEOUT_S = 600  # per cell


def notebook_paths(folder=NOTEBOOK_DIR):
    """Every notebook of ``folder``, in name order (00_, 01_, ...)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise bad("notebooks", str(folder), "an existing folder of NN_*.ipynb (rxlab report needs a source checkout)")
    paths = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise bad("notebooks", str(folder), "a folder with at least one NN_*.ipynb notebook (it has none)")
    return paths


def _plain(v):
    """A JSON-ready scalar (numpy ints and floats become Python ones)."""
    if isinstance(v, (bool, str)) or v is None:
        return v
    return int(v) if float(v).is_integer() and not isinstance(v, float) else float(v)


def record(**values):
    """Keep the notebook's key results for :func:`records` (the tests check them), shown as a
    table in a collapsed "checks" section."""
    from IPython.display import display

    from rxlab.views.format import quantity, unit_of

    values = {k: _plain(v) for k, v in values.items()}
    # shown rounded, with the unit the name implies (rxlab.views.format); kept exact for records()
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(quantity(v, unit_of(k)))}</td></tr>"
                   for k, v in values.items())
    # folded away: these are the values tests/test_notebooks.py checks, not what the page shows
    display({RECORD_MIME: values, "text/html": f'<details class="rxlab-checks"><summary>checks: {len(values)} '
             f'values tests/test_notebooks.py verifies</summary><table class="rxlab-record">{rows}</table></details>'},
            raw=True)


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


class _StoppableClient(NotebookClient):
    """A NotebookClient that SIGINT and SIGTERM stop. nbclient's own handlers shut the kernel
    down and let the caller go on (a report would then run its next notebook); these cancel
    the execution instead, after which nbclient still shuts the kernel down, and
    :func:`execute` raises :class:`~rxlab.errors.Interrupted`."""

    stopped_by = None

    async def async_start_new_kernel(self, **kwargs):
        # called by async_setup_kernel right after it installed its handlers: replace them
        loop, task = asyncio.get_running_loop(), asyncio.current_task()

        def stop(signum):
            self.stopped_by = self.stopped_by or signum
            task.cancel()

        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, stop, signum)
            except (RuntimeError, ValueError, NotImplementedError):  # not the main thread, or Windows
                pass
        await super().async_start_new_kernel(**kwargs)


def execute(path, quick=True, timeout=TIMEOUT_S):
    """Run notebook ``path`` (with ``quick`` injected) in a fresh kernel and return it executed.

    The kernel is this Python, started in the notebook's folder with this ``rxlab`` first on its
    path, so the notebooks run against the package that runs them. SIGINT or SIGTERM during the
    run shut the kernel down and raise :class:`~rxlab.errors.Interrupted`."""
    path = Path(path)
    nb = inject_parameters(nbformat.read(path, as_version=4), quick=quick)
    root = str(Path(rxlab.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    # the asynchronous manager: its client awaits the kernel's messages, so the event loop runs
    # and a signal is handled at once (a blocking client sits in zmq until the cell ends)
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=_ThisPython())
    client = _StoppableClient(nb, km=km, timeout=timeout, resources={"metadata": {"path": str(path.parent)}})
    main = threading.current_thread() is threading.main_thread()
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)} if main else {}
    try:
        # the kernel's own stderr is only its start-up chatter; a cell's error comes back through
        # the protocol (CellExecutionError) and a crash as DeadKernelError
        client.execute(env=env, stderr=subprocess.DEVNULL)
    except BaseException:
        if client.stopped_by:
            raise Interrupted(client.stopped_by) from None
        raise
    finally:
        for s, h in handlers.items():  # nbclient leaves SIGTERM at SIG_DFL: the caller's come back
            signal.signal(s, h)
        try:  # nbclient leaves a kernel it did not start (km= given) running: shut it down
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001, S110 - already gone; the exception that got us here matters more
            pass
    if client.stopped_by:
        raise Interrupted(client.stopped_by)
    return nb
