"""``sweep(grid) -> DataFrame``: every run of a grid, from the result cache when it is there,
otherwise computed serially, on a local process pool or on a Dask cluster, and cached as soon as
it arrives, so an interrupted sweep resumes where it stopped.

Interrupted (Ctrl-C, SIGTERM, kill -9, a worker lost) at any moment, a sweep leaves every run
it finished in the cache, whole, and no half-written result under a result's name; its pool
workers exit at once (Linux: the kernel kills them with their parent, PR_SET_PDEATHSIG), and
the same sweep started again computes only the runs that are missing.
"""

import itertools
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from dataclasses import asdict, is_dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm.auto import tqdm

from rxlab.errors import SystemFailure, bad, check_int_range
from rxlab.model.config import FIELDS
from rxlab.model.simulate import simulate
from rxlab.studies import cache as _cache
from rxlab.studies.grid import count_runs, expand

MAX_RUNS = 10_000
"""Runs a sweep starts at most unless ``max_runs=`` (``--max-runs``) says more: a grid is a
product, and one more field of ten values makes it ten times longer."""

PACKETS_PER_SECOND = 20e6  # compiled engine, one core (BENCHMARKS.md: 21-28 M)
SECONDS_PER_RUN = 0.05  # building, checking and writing a run, whatever its length


def estimate_seconds(runs, packets, workers):
    """A rough wall-clock time for ``runs`` runs of ``packets`` packets in all on ``workers``
    processes, compiled engine (the first compile, ~45 s, not included)."""
    return (runs * SECONDS_PER_RUN + packets / PACKETS_PER_SECOND) / max(1, min(workers, runs))


def duration_text(seconds):
    """``seconds`` as "40 s", "12 min" or "3.5 h"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _table(result):
    """A run as a one-row table: Result.to_frame() (configuration, counters, metrics)."""
    return pa.Table.from_pandas(result.to_frame(), preserve_index=False)


def _run(cfg):
    return _table(simulate(cfg))


@contextmanager
def _signals_after():
    """Hold SIGINT and SIGTERM until the block ends, then deliver them: a run that finished
    before the signal is stored before the sweep stops. Only the main thread sets handlers (a
    sweep in another thread is interrupted in the main thread, never mid-store in this one)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = []
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    previous = {s: h for s, h in previous.items() if h is not None}  # None: a handler not set from Python
    for s in previous:
        signal.signal(s, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for s in dict.fromkeys(held):
            signal.raise_signal(s)  # now to the handler the sweep's caller set


def _run_stored(cfg, store, key):
    """One run, written to the cache by the process that ran it (a worker shares the disk)."""
    result = simulate(cfg)
    with _signals_after():
        table = store.put(key, _table(result))
        store.release(key)
    return table


def _run_in_pool(cfg, store, key):
    """_run_stored() in a pool worker, replying nothing: the sweep reads the table back from the
    store. A reply this small reaches the result pipe in one write (under PIPE_BUF), so a worker
    killed mid-reply (Ctrl-C and SIGTERM kill the workers) never leaves half a message there: the
    executor's result thread would wait for the rest forever, and the sweep's exit with it."""
    _run_stored(cfg, store, key)


# Each executor yields (configuration, table) for every run of ``todo``, already in ``store``.

def _serial(todo, store, keys):
    for cfg in todo:
        yield cfg, _run_stored(cfg, store, keys[cfg])


def _die_with_parent():
    """Linux: have the kernel SIGKILL this process when the thread that forked it dies
    (prctl PR_SET_PDEATHSIG), whatever this process is doing; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return False


def _exit_with_parent():
    """Pool worker initializer: exit as soon as the sweep's process is gone (even by kill -9),
    instead of running on or waiting forever for work that will never come. A watcher thread
    waits on multiprocessing's sentinel of the sweep's process, so it notices within the run in
    progress, or at once when that run releases the GIL. A forked worker's parent thread is the
    sweep's, so on Linux the kernel also kills it at once, even mid-run in compiled code that
    holds the GIL (a fork server's worker has the server for parent, which stays until its
    workers exit)."""
    sweep = multiprocessing.parent_process()
    _die_with_parent()
    if not sweep.is_alive():  # the sweep died before the worker asked to die with it
        os._exit(1)
    # the sweep's process handles Ctrl-C and SIGTERM and stops its workers (_stop_workers); a
    # worker neither prints a KeyboardInterrupt of its own nor inherits a handler that would keep
    # it alive, but holds SIGTERM while it stores a finished run (_run_stored)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def watch():
        sweep.join()
        os._exit(1)  # mid-run at worst: a .tmp file is left, never a result

    threading.Thread(target=watch, daemon=True).start()


STORE_SECONDS = 10
"""How long an interrupted sweep waits for its pool workers to store the runs they finished."""


def _stop_workers(processes):
    """SIGTERM every pool worker: one mid-run dies at once (SIGTERM's default action, even in
    compiled code that holds the GIL), one storing a finished run holds the signal until the run is
    stored (_run_stored), then dies. Whatever is left after :data:`STORE_SECONDS` is killed."""
    for p in processes:
        p.terminate()
    deadline = time.monotonic() + STORE_SECONDS
    waiting = {p.sentinel: p for p in processes}
    while waiting and time.monotonic() < deadline:
        for sentinel in multiprocessing.connection.wait(list(waiting), deadline - time.monotonic()):
            del waiting[sentinel]
    for p in waiting.values():
        p.kill()


def _start_method():
    """fork where the platform has it: workers start at once, with the engine loaded, and
    scripts need no "if __name__ == '__main__'" guard. Not in a Jupyter kernel: it runs threads
    of its own (heartbeat, IOPub, ...), and a lock another thread held at a fork stays locked in
    the child forever. There, workers come from a fork server, a single-threaded process started
    for the purpose (a notebook has no main module for it to import again)."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and "ipykernel" not in sys.modules:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _processes(todo, store, keys, workers):
    """``workers`` processes; ``todo`` (the runs' iterator) is drawn one run per free worker, so
    that each run is claimed only as it starts."""
    # The first run here: the engine is then compiled (or loaded from numba's cache) once, and
    # the workers forked from this process start with it, instead of each compiling at once.
    todo = iter(todo)
    first = next(todo, None)
    if first is None:
        return
    yield first, _run_stored(first, store, keys[first])
    method = _start_method()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                             initializer=_exit_with_parent) as ex:
        futures = {}
        try:
            while True:
                for cfg in itertools.islice(todo, workers - len(futures)):
                    futures[ex.submit(_run_in_pool, cfg, store, keys[cfg])] = cfg
                if not futures:
                    break
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for f in done:
                    f.result()
                    cfg = futures.pop(f)
                    store.release(keys[cfg])  # the worker released it; this process holds it no more
                    table = store.get(keys[cfg], cfg)
                    if table is None:
                        raise SystemFailure(f"the run {keys[cfg]} a pool worker wrote to {store.path(keys[cfg])} "
                                            "cannot be read back")
                    yield cfg, table
        except BrokenProcessPool:
            raise SystemFailure("a pool worker died (killed by a signal: the OOM killer, or kill -9); the runs "
                                "that finished are cached, and the same sweep started again resumes") from None
        except (KeyboardInterrupt, GeneratorExit):  # Ctrl-C, SIGTERM: stop the runs in progress now
            _stop_workers(list((getattr(ex, "_processes", None) or {}).values()))
            raise
        finally:  # an error, or the caller stopped: start no further run
            ex.shutdown(cancel_futures=True)


def _claimed(todo, store, keys, others):
    """The runs of ``todo`` this sweep computes, each claimed as it starts (ResultCache.claim);
    one another sweep on the same cache claimed, or stored since this one read the cache, goes
    to ``others``."""
    for cfg in todo:
        if not store.claim(keys[cfg]):
            others.append(cfg)
        elif store.get(keys[cfg], cfg) is not None:
            store.release(keys[cfg])
            others.append(cfg)
        else:
            yield cfg


def _theirs(others, store, keys, shared):
    """The runs other sweeps claimed, as they store them (listed in ``shared``); one whose claim
    went without a result (that sweep stopped) or went stale (its process died) is computed here."""
    while others:
        for cfg in list(others):
            table = store.get(keys[cfg], cfg)
            if table is None and store.claim(keys[cfg]):
                # the other sweep may have stored it and let its claim go between the look and the
                # claim: look again before computing it a second time
                table = store.get(keys[cfg], cfg)
                if table is None:
                    table = _run_stored(cfg, store, keys[cfg])
                else:
                    store.release(keys[cfg])
                    shared.append(cfg)
            elif table is not None:
                shared.append(cfg)
            if table is not None:
                others.remove(cfg)
                yield cfg, table
        if others:
            time.sleep(0.2)


def _dask(todo, store, keys, client):
    from distributed import KilledWorker
    from distributed import as_completed as dask_completed

    # the cluster's workers need not share this machine's disk: results are written here
    names = {f"rxlab-run-{keys[cfg]}": cfg for cfg in todo}
    futures = client.map(_run, todo, key=list(names))
    try:
        for f, table in dask_completed(futures, with_results=True):
            cfg = names[f.key]
            with _signals_after():
                table = store.put(keys[cfg], table)
                store.release(keys[cfg])
            yield cfg, table
    except KilledWorker as e:
        raise SystemFailure(f"Dask lost the workers of a run ({e}); the runs that finished are cached, and "
                            "the same sweep started again resumes") from None
    finally:
        client.cancel(futures)


def _cpus():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _attr(v):
    """A value of an invalid grid point as JSON keeps it, so that ``df.to_parquet`` stores
    ``df.attrs``: numbers, text and None as they are; anything else (XDP fractions,
    reconfigurations) as the frame's configuration columns write it, its str()."""
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (list, tuple)):  # Reconfig objects as SimConfig.to_dict() has them
        v = type(v)(asdict(x) if is_dataclass(x) and not isinstance(x, type) else x for x in v)
    return str(v)


def _frame(tables):
    """The rows in grid order; configuration columns as categoricals in grid order."""
    if not tables:
        return pd.DataFrame(columns=list(FIELDS))
    df = pa.concat_tables(tables, promote_options="default").to_pandas()
    for c in FIELDS:
        df[c] = pd.Categorical(df[c], categories=pd.unique(df[c]))
    return df


def sweep(grid, seeds=None, *, cache=None, workers=None, client=None, progress=None, max_runs=MAX_RUNS):
    """Run every configuration of ``grid`` and return one tidy row per (configuration, seed):
    the configuration (categorical columns; ``xdp`` and ``reconfigs`` as their str()), every
    counter and every derived metric, as ``Result.to_frame()`` gives them.

    grid: a dict {field: [values]} (the cartesian product) or a list of configurations (dicts
        or SimConfigs); see ``rxlab.studies.grid.expand``. XDP may be written (), "off", a verdict
        ("pass", ...) or four fractions. Combinations SimConfig refuses are not run: a warning
        says how many, and ``df.attrs["invalid"]`` lists them (the fields and the error; values
        other than numbers and text as their str(), so that ``df.to_parquet`` keeps them).
    seeds: None (each configuration's own seed), a count n (seeds 0..n-1) or a list of seeds.
    cache: the result cache folder (default ``$RXLAB_CACHE_DIR`` or ``.rxlab-cache``). Runs
        found there (same configuration, same ``rxlab.MODEL_VERSION``) are not recomputed.
    workers: processes on this machine (default: one per CPU; 1 runs in this process).
    client: a ``distributed.Client``; runs then go to its cluster (``workers`` must be None).
    progress: show a tqdm progress bar (default: yes, unless the environment variable CI is set),
        or a function ``progress(done, total)`` called with the runs done (from the cache first,
        then each as it arrives) and the sweep's runs: a widget's bar, a log line.
    max_runs: refuse a grid of more runs (configurations x seeds, counted before the grid is
        expanded) than this (default :data:`MAX_RUNS`).

    Concurrent sweeps on one cache share their work: each run is claimed as it starts (a
    ``.claim`` file beside its result), and a sweep that finds a run claimed by another waits for
    its result, counted as from the cache. Temporary files a killed writer left are removed
    when a sweep starts (those older than ``rxlab.studies.cache.STALE_SECONDS``).

    ``df.attrs["sweep"]`` says how many runs there were, how many were computed and how many
    came from the cache, and lists (``bad_cache``) each cached file that was not the result it
    was named for (unreadable, another schema, another configuration's run): those were
    recomputed and overwritten, and a warning names them.
    """
    if client is not None and workers is not None:
        raise bad("workers", workers, "None when client= is given (the cluster has its own workers)")
    if workers is not None:
        check_int_range("workers", workers, 1, 4096)
    if progress is None:
        progress = not os.environ.get("CI")
    report = progress if callable(progress) else None
    max_runs = check_int_range("max_runs", max_runs, 1, 10**12)
    n, n_seeds, packets = count_runs(grid, seeds)
    if n * n_seeds > max_runs:
        raise bad("runs", n * n_seeds, f"at most max_runs={max_runs} ({n:,} configurations x {n_seeds} "
                  f"seed(s), about {duration_text(estimate_seconds(n * n_seeds, packets, workers or _cpus()))} on "
                  f"{workers or _cpus()} workers); raise max_runs (rxlab sweep --max-runs) to run them")
    configs, invalid = expand(grid, seeds)
    if invalid:
        warnings.warn(f"{len(invalid)} configurations of the grid are invalid combinations and were not run "
                      f"(df.attrs['invalid'] lists them); first: {invalid[0]['error']}", stacklevel=2)
    store = _cache.ResultCache(cache)
    keys = {cfg: _cache.run_key(cfg) for cfg in configs}
    tables = {}
    for cfg, key in keys.items():
        t = store.get(key, cfg)
        if t is not None:
            tables[cfg] = t
    for path, why in store.bad:
        warnings.warn(f"rxlab sweep: cache file {path} is {why}: recomputed", stacklevel=2)
    todo = [cfg for cfg in configs if cfg not in tables]
    if todo:
        store.check_writable()  # before the first run, not after it
        store.clean()
    others, shared = [], []  # runs a concurrent sweep on this cache computes; those it stored
    mine = _claimed(todo, store, keys, others)
    if client is not None:
        runs = _dask(list(mine), store, keys, client)
    elif (workers or _cpus()) > 1 and len(todo) > 1:
        runs = _processes(mine, store, keys, min(workers or _cpus(), len(todo) - 1))
    else:
        runs = _serial(mine, store, keys)
    try:
        with closing(runs), tqdm(total=len(configs), initial=len(tables), disable=not progress or report is not None,
                                 desc="rxlab sweep", unit="run") as bar:
            if report:
                report(len(tables), len(configs))
            for cfg, table in itertools.chain(runs, _theirs(others, store, keys, shared)):
                tables[cfg] = table
                bar.update()
                if report:
                    report(len(tables), len(configs))
    finally:  # stopped: the runs this sweep claimed and did not store are free for another
        store.release_all()
    df = _frame([tables[cfg] for cfg in configs])
    computed = len(todo) - len(shared)
    df.attrs["sweep"] = {"runs": len(configs), "computed": computed, "cached": len(configs) - computed,
                         "model_version": _cache.MODEL_VERSION, "cache": str(store.root),
                         "bad_cache": list(store.bad)}
    df.attrs["invalid"] = [{k: _attr(v) for k, v in p.items()} for p in invalid]
    return df


def plain(df):
    """A sweep's frame with its configuration columns in their values' own dtypes (int, float,
    bool, str) instead of categoricals, as ``Result.to_frame()`` has them: they then compare,
    sort, pivot and take min/max as values. ``df.attrs`` is kept."""
    out = df.copy()
    for c in FIELDS:
        if c in out and isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(out[c].cat.categories.dtype)
    return out


def sweep_rows(grid, seeds=None, *, cache=None):
    """``sweep(grid, seeds)`` as the claims scoreboard and the notebooks run it: one row per
    (configuration, seed) in grid order, configuration columns as :func:`plain` values.

    Runs come from the study cache (``cache``, default :func:`rxlab.studies.cache.study_cache_dir`)
    or are computed in this process: a run of these studies takes tens of milliseconds, less than
    starting a process pool, and a Jupyter kernel (several threads) is not safely forked. No
    progress bar: the scoreboard's callers print their own progress, and a bar would be noise in
    a notebook's report page or a CI log."""
    cache = _cache.study_cache_dir() if cache is None else cache
    return plain(sweep(grid, seeds, cache=cache, workers=1, progress=False))
