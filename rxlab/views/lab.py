"""JupyterLab as rxlab's notebooks need it: ``make lab`` (``python -m rxlab.views.lab``).

It runs as root in a container, needs no browser on the machine (it prints the URL), fetches
nothing from the internet, compiles the engine before it starts, and strips outputs and volatile
metadata from every notebook it saves (:func:`pre_save_hook`), so notebooks opened, run and saved in
the lab stay as the repository keeps them: without outputs (tests/test_notebooks.py checks it).
"""

import argparse
import os
import sys
import time

# cell metadata that records a run rather than the notebook (JupyterLab's execution timing, the
# classic notebook's collapse/scroll state, nbextension ExecuteTime)
VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def strip_notebook(nb):
    """Remove every output, execution count and volatile cell metadata from a notebook's JSON model
    (a dict, changed in place); returns it."""
    for cell in nb.get("cells", ()):
        for key in VOLATILE_CELL_METADATA:
            cell.get("metadata", {}).pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def pre_save_hook(model, **kwargs):
    """Jupyter Server's ``ContentsManager.pre_save_hook``: strip a notebook before it is written."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        strip_notebook(model["content"])


def command(root_dir, port=8888, ip="127.0.0.1"):
    """The ``jupyter lab`` command line: loopback only, no browser, root allowed, outputs stripped
    on save, and nothing fetched from the internet (no news feed, update check or PyPI listing).
    The token comes from ``$JUPYTER_TOKEN`` when set, else Jupyter makes one and prints it."""
    return [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--ServerApp.ip={ip}",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root_dir}",
            "--ContentsManager.pre_save_hook=rxlab.views.lab.pre_save_hook",
            "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly"]


def warm_engine(log=None):
    """Load the compiled engine (compile it the first time on this machine, saying so with a progress
    bar: rxlab.engine.jit.CompileProgress) before anyone waits on a widget or a notebook for it.
    ``make lab`` and ``make report`` run it first (``make engine``)."""
    from rxlab.model.simulate import simulate

    log = log or sys.stderr
    print("rxlab: loading the compiled engine from numba's cache ...", file=log, flush=True)
    t0 = time.monotonic()
    simulate(queues=1, connections=1, ring_size=128, packets=100)
    print(f"rxlab: engine ready ({time.monotonic() - t0:.0f} s)", file=log, flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m rxlab.views.lab", description=__doc__.splitlines()[0])
    p.add_argument("root_dir", nargs="?", default="notebooks", help="folder to serve (default notebooks/)")
    p.add_argument("--port", type=int, default=8888, help="port on 127.0.0.1 (default 8888)")
    p.add_argument("--engine-only", action="store_true",
                   help="compile (or load) the engine and exit, starting no server (make engine)")
    a = p.parse_args(argv)
    if a.engine_only:
        warm_engine()
        return
    if not os.path.isdir(a.root_dir):
        p.exit(2, f"{p.prog}: error: root_dir={a.root_dir!r} is not allowed: an existing folder\n")
    warm_engine()
    cmd = command(a.root_dir, a.port)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
