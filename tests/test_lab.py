"""The interactive use, end to end: JupyterLab on 127.0.0.1, 00_explorer opened and run in headless Chromium,
a widget moved, and the figure and the counters it shows checked to change; the explorer's figure as wide
as the notebook's cells; the sweep panel beside it moved to another axis, and its figure and the claims it
marks checked to change."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from headless import Watch, launch

from rxlab.views.lab import command

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"

pytestmark = pytest.mark.slow


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def api(base, token, path, method="GET"):
    req = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or "null")


def wait_until_answering(server, base, token, log, what, timeout):
    """Poll the server's /api/status until it answers; fail with its log if it exits or stays silent."""
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            pytest.fail(f"{what} exited ({server.returncode}):\n{log.read_text()}")
        try:
            api(base, token, "/api/status")
            return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"{what} not answering on {base} after {timeout} s:\n{log.read_text()}")
            time.sleep(0.25)


def stop(server, base, token):
    """Ask the server to shut down (it stops its kernels); kill its process group if it does not."""
    try:
        api(base, token, "/api/shutdown", method="POST")
        server.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


@contextmanager
def lab(root_dir, scratch):
    """JupyterLab serving ``root_dir`` on 127.0.0.1 with a token of our own; yields (base URL, token).

    Its settings, data, workspaces and runtime files live in ``scratch`` so no user configuration leaks in; the
    kernel imports the rxlab under test (PYTHONPATH). On exit the server is asked to shut down, which stops
    its kernels; a server that does not is killed with its process group (a kernel, in a session of its
    own, exits when ipykernel's parent poller sees the server gone).
    """
    port, token = free_port(), secrets.token_hex(16)
    base = f"http://{HOST}:{port}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               JUPYTER_CONFIG_DIR=str(scratch / "config"), JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
               # no user kernelspec or lab extension: the python3 kernel is this interpreter's
               JUPYTER_DATA_DIR=str(scratch / "data"),
               JUPYTERLAB_SETTINGS_DIR=str(scratch / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(scratch / "workspaces"))
    cmd = command(root_dir, port, HOST) + [
        f"--IdentityProvider.token={token}",
        # window.jupyterapp, to ask the notebook's session whether its kernel is ready
        "--LabApp.expose_app_in_browser=True"]
    # and no "get notified about official Jupyter news?" toast over the notebook
    news = scratch / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false"}))
    log = scratch / "jupyter.log"
    with open(log, "w") as out:  # the server keeps its own descriptor
        server = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_answering(server, base, token, log, "jupyter lab", 60)
        yield base, token
    finally:
        stop(server, base, token)


def explorer_state(page):
    """The src of the explorer's figure, the text of its counters table (None where not shown), and the
    figure's rendered width over its cell's."""
    return page.evaluate("""() => {
        const img = document.querySelector('.jp-Notebook .rxlab-explorer .widget-output img');
        const table = document.querySelector('.jp-Notebook .rxlab-explorer table.rxlab-counters');
        const cell = img && img.closest('.jp-Cell');
        return {figure: img ? img.src : null, counters: table ? table.innerText : null,
                width: img && cell ? img.getBoundingClientRect().width / cell.getBoundingClientRect().width : 0};
    }""")


def sweep_state(page):
    """The src of the sweep panel's figure and the claim ids its status says it drew."""
    return page.evaluate("""() => {
        const img = document.querySelector('.jp-Notebook .rxlab-sweep-panel .widget-output img');
        const claims = document.querySelector('.jp-Notebook .rxlab-sweep-panel .rxlab-claims');
        return {figure: img ? img.src : null, counters: claims ? claims.innerText : null};
    }""")


def wait_for_change(page, before, timeout, panel=".rxlab-explorer", text="table.rxlab-counters"):
    """Wait until both the figure and the text (the explorer's counters, the sweep panel's claims) of
    ``panel`` differ from ``before`` (and are shown); the caller asserts on what it then reads, so a
    timeout here is not an error of its own."""
    from playwright.sync_api import TimeoutError

    with suppress(TimeoutError):
        page.wait_for_function("""([before, panel, text]) => {
            const img = document.querySelector(`.jp-Notebook ${panel} .widget-output img`);
            const table = document.querySelector(`.jp-Notebook ${panel} ${text}`);
            return img && img.complete && img.naturalWidth > 0 && img.src !== before.figure
                && table && table.innerText !== before.counters;
        }""", arg=[before, panel, text], timeout=timeout)


def run_explorer(browser, base, token, shot):
    """Open 00_explorer.ipynb in JupyterLab, run every cell, change the page size and the connections; then
    sweep the panel beside it over MTU instead of connections; return the explorer's state after each
    step, the sweep panel's before and after, and the page's problems."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    watch = Watch(page, lambda url: url.startswith((f"{base}/", "data:", "blob:")))
    try:
        page.goto(f"{base}/lab/tree/00_explorer.ipynb?reset&token={token}", timeout=60_000)
        # run only once the notebook's own kernel is connected and idle (earlier, JupyterLab asks which kernel)
        page.wait_for_function("""() => {
            const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            const kernel = panel && panel.sessionContext && panel.sessionContext.session
                && panel.sessionContext.session.kernel;
            return kernel && panel.title.label === '00_explorer.ipynb'
                && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
        }""", timeout=90_000)
        page.click(".lm-MenuBar-item >> text=Run", timeout=10_000)
        page.click(".lm-Menu-item[data-command='runmenu:run-all']", timeout=10_000)
        page.wait_for_selector(".jp-Notebook .rxlab-explorer table.rxlab-counters", timeout=90_000)
        page.wait_for_selector(".jp-Notebook .rxlab-explorer .widget-output img", timeout=30_000)
        states = [explorer_state(page)]

        dropdown = page.locator(".jp-Notebook .rxlab-explorer .widget-dropdown",
                                has=page.locator("label", has_text="page size"))
        select = dropdown.locator("select")
        # ipywidgets writes each label as the option's value (its text has &nbsp; for the space)
        choice = next(o for o in ("4 KB", "16 KB", "64 KB") if o != select.input_value())
        select.select_option(value=choice, timeout=10_000)
        wait_for_change(page, states[-1], 60_000)
        states.append(explorer_state(page))

        slider = page.locator(".jp-Notebook .rxlab-explorer .widget-slider",
                              has=page.locator("label", has_text="connections"))
        handle = slider.locator(".noUi-handle")
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        handle.focus()
        page.keyboard.press("Home" if at_max else "End")  # to the slider's minimum or maximum
        wait_for_change(page, states[-1], 60_000)
        states.append(explorer_state(page))

        sweep = ".rxlab-sweep-panel"
        page.wait_for_selector(f".jp-Notebook {sweep} .widget-output img", timeout=120_000)
        page.locator(f".jp-Notebook {sweep} .widget-output img").scroll_into_view_if_needed(timeout=10_000)
        sweeps = [sweep_state(page)]
        axis = page.locator(f".jp-Notebook {sweep} .widget-dropdown", has=page.locator("label", has_text="sweep"))
        axis.locator("select").select_option(value="MTU (bytes)", timeout=10_000)
        wait_for_change(page, sweeps[-1], 120_000, sweep, ".rxlab-claims")
        sweeps.append(sweep_state(page))
        return states, sweeps, watch.problems
    finally:
        from playwright.sync_api import Error

        with suppress(Error):  # a failed screenshot must not hide why the test failed
            page.screenshot(path=shot, full_page=True, timeout=30_000)
            print(f"screenshot of 00_explorer in JupyterLab: {shot}")
        page.close()


def test_explorer_in_jupyterlab(tmp_path):
    notebooks = shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    assert (notebooks / "00_explorer.ipynb").exists()
    with launch() as browser, lab(notebooks, tmp_path) as (base, token):
        states, sweeps, problems = run_explorer(browser, base, token, tmp_path / "explorer.png")
    assert not problems
    assert len({s["figure"] for s in states}) == 3, "the figure did not change with each widget"
    assert len({s["counters"] for s in states}) == 3, "the counters did not change with each widget"
    assert min(s["width"] for s in states) > 0.8, "the explorer's figure is squeezed beside its controls"
    # 00_explorer's panel sweeps connections on 4 KB pages (typical ARM64): the no-regression claim over
    # 32-128 connections; over MTU, the fragment threshold and the jumbo fallback
    before, after = sweeps
    assert before["figure"] and after["figure"] and before["figure"] != after["figure"]
    assert "no_regression_arm64" in before["counters"]
    assert "fallback_jumbo_threshold" in after["counters"] and "fallback_jumbo_threshold" not in before["counters"]


NOTEBOOK_WITH_OUTPUTS = {
    "nbformat": 4, "nbformat_minor": 5, "metadata": {},
    "cells": [{"cell_type": "code", "id": "a1", "execution_count": 3, "source": "1 + 1",
               "metadata": {"tags": ["parameters"], "execution": {"iopub.execute_input": "2026-12-02"}},
               "outputs": [{"output_type": "execute_result", "execution_count": 3, "metadata": {},
                            "data": {"text/plain": "2"}}]}]}


def test_make_lab_serves_loopback_as_root_and_saves_without_outputs(tmp_path):
    """`make lab` as people run it (CI runs as root): it answers on 127.0.0.1 with the token it was
    given, and a notebook saved through the lab's contents API lands on disk without outputs."""
    port, token = free_port(), secrets.token_hex(16)
    base = f"http://{HOST}:{port}"
    env = dict(os.environ, JUPYTER_TOKEN=token, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    log = tmp_path / "make-lab.log"
    with open(log, "w") as out:
        # -o: use this interpreter as it is installed, never reinstall from the lab target
        make = ["make", "--no-print-directory", "-o", ".venv/.rxlab-installed", "lab", f"LAB_PORT={port}",
                f"BIN={Path(sys.executable).parent}"]
        server = subprocess.Popen(make, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    name = f"zz_saved_by_test_{secrets.token_hex(4)}.ipynb"
    try:
        wait_until_answering(server, base, token, log, "make lab", 180)  # a cold engine compiles first
        assert f"{HOST}:{port}" in log.read_text()  # it prints the URL to open
        body = json.dumps({"type": "notebook", "format": "json", "content": NOTEBOOK_WITH_OUTPUTS}).encode()
        req = urllib.request.Request(f"{base}/api/contents/{name}", data=body, method="PUT",
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).close()
        saved = json.loads((ROOT / "notebooks" / name).read_text())
        (cell,) = saved["cells"]
        assert cell["outputs"] == [] and cell["execution_count"] is None
        assert cell["metadata"] == {"tags": ["parameters"]}  # the tag stays, the run's timing goes
    finally:
        (ROOT / "notebooks" / name).unlink(missing_ok=True)
        stop(server, base, token)
