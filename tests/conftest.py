"""Shared fixtures."""

import pytest

from rxlab.studies.cache import CACHE_ENV
from rxlab.views.notebooks import execute

_executed = {}


@pytest.fixture(scope="session", autouse=True)
def session_result_cache(tmp_path_factory):
    """One sweep result cache for the whole session, outside the checkout: ``$RXLAB_CACHE_DIR``
    points at a fresh temporary folder: the session starts from an empty cache, a run is computed
    once and served to every later test that needs it (seed 001's table to test_calibrate,
    test_claims and test_report's scoreboard), notebook kernels (which inherit the environment)
    share it, and nothing is written into the checkout."""
    path = tmp_path_factory.mktemp("rxlab-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(path))
        yield path


@pytest.fixture(scope="session")
def executed_notebook():
    """``executed_notebook(path)``: the notebook run once per session in quick mode (test_notebooks
    checks its numbers, test_report renders it)."""
    def get(path):
        if path not in _executed:
            _executed[path] = execute(path, quick=True)
        return _executed[path]
    return get


@pytest.fixture
def counted(monkeypatch):
    """The configurations the sweeps of a test simulated in this process (rxlab.studies.sweep's
    simulate()), in order."""
    import rxlab.studies.sweep as sweep_module

    ran, real = [], sweep_module.simulate

    def counting(cfg):
        ran.append(cfg)
        return real(cfg)

    monkeypatch.setattr(sweep_module, "simulate", counting)
    return ran
