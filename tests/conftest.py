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
def simulated():
    """``simulated(cfg)``: ``rxlab.simulate(cfg)`` run once per session, the same Result to every
    test that asks for ``cfg`` (tests read a Result, never change it)."""
    from rxlab.model.simulate import simulate

    runs = {}

    def get(cfg):
        if cfg not in runs:
            runs[cfg] = simulate(cfg)
        return runs[cfg]
    return get


@pytest.fixture(scope="session")
def executed_notebook():
    """``executed_notebook(path)``: the notebook run once per session in quick mode (test_notebooks
    checks its numbers, test_report renders it)."""
    def get(path):
        if path not in _executed:
            _executed[path] = execute(path, quick=True)
        return _executed[path]
    return get


@pytest.fixture(scope="session")
def quick_claims(session_result_cache):
    """The scoreboard of ``rxlab claims`` (QUICK_PACKETS a run), evaluated once per session: the
    browser's index page, ``rxlab claims`` and ``rxlab report`` show it (``served``)."""
    from rxlab.studies.claims import QUICK_PACKETS, evaluate_claims

    return evaluate_claims(packets=QUICK_PACKETS)


@pytest.fixture(scope="session")
def quick_reports(tmp_path_factory, executed_notebook, quick_claims):
    """The reports built once per session in quick mode, as ``rxlab report --quick`` does
    (tests/test_report.py runs the command itself), for the browser (tests/test_browser.py) and the
    explorable page's checks (tests/test_report.py): from the notebooks this session executed and
    its claims, each notebook's panel over two releases, and explore.html over a small grid
    (``grid``, ``platforms``, ``kernels``). Returns those, ``out`` (the folder) and ``failed``."""
    import io
    import types

    import rxlab
    from rxlab.studies.claims import QUICK_PACKETS
    from rxlab.views import explorable, notebooks, panel
    from rxlab.views.report import build_reports

    # the grid holds what the browser moves (release, swept axis, XDP) and one value of the rest: its
    # 48 states draw in seconds, where the 384 of two platforms, MTUs and page sizes took a minute
    built = types.SimpleNamespace(out=tmp_path_factory.mktemp("reports"), platforms=("typical_arm64",),
                                  kernels=(rxlab.SimConfig().kernel, "6.6"),
                                  grid={"mtu": (1500,), "page_size": (65536,), "xdp": ("off", "pass"),
                                        "connections": (1,)})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(notebooks, "execute", lambda path, quick: executed_notebook(path))
        mp.setattr(explorable, "PLATFORMS", built.platforms)
        mp.setattr(explorable, "KERNELS", built.kernels)
        # each notebook's panel over two releases, nothing else: seconds, not minutes
        mp.setattr(panel, "EXPORT_KERNELS", built.kernels)
        mp.setattr(panel, "EXPORT_PLATFORMS", ())
        mp.setattr(panel, "EXPORT_HELD", {k: () for k in panel.EXPORT_HELD})
        mp.setattr(panel, "EXPORT_DRIVERS", ())  # the page's own driver: test_report checks the others
        _, built.failed = build_reports(built.out, quick=True, claims=(quick_claims, QUICK_PACKETS),
                                        explore={"grid": built.grid}, log=io.StringIO())
    return built


@pytest.fixture
def served_claims(quick_claims, monkeypatch):
    """``rxlab claims`` and ``rxlab report --quick`` in this test get :func:`quick_claims`' frame (a
    copy) instead of evaluating it again; a call with another packet count fails the test."""
    from rxlab.studies import claims

    def evaluate(packets):
        assert packets == claims.QUICK_PACKETS, packets
        return quick_claims.copy(deep=True)

    monkeypatch.setattr(claims, "evaluate_claims", evaluate)


@pytest.fixture(autouse=True)
def no_engine_means_no_simulation(request, monkeypatch):
    """A test marked ``no_engine`` runs in the compiled pass only: compiled or interpreted it is the
    same test, as it runs no engine code. If it would run in the interpreted pass otherwise and builds
    an engine state in this process (rxlab.model.simulate's make_state), it fails: drop the mark."""
    marks = {m.name for m in request.node.iter_markers()}
    if "no_engine" not in marks or marks & {"jit_only", "slow"}:
        yield
        return
    import rxlab.model.simulate as sim

    built, real = [], sim.make_state

    def make_state(*a, **kw):
        built.append(kw)
        return real(*a, **kw)

    monkeypatch.setattr(sim, "make_state", make_state)
    yield
    assert not built, "marked no_engine, but it simulates: drop the mark (the interpreted pass must run it)"


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
