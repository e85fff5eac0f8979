"""The sweep result cache: one small parquet file per run, named by a hash of the run's canonical
configuration and the model version.

Writes go to a temporary file in the same folder and are renamed over the final name
(``os.replace`` is atomic), so a process killed at any moment leaves either a complete result
or none: a half-written file only ever carries a ``.tmp`` name and is never read.
"""

import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from rxlab.atomic import atomic_path

MODEL_VERSION = 6  # 2: reader_cpus, skb_defer_max; 3: Toeplitz RSS; 4: pre-allocation unmaps;
# 5: memory efficiency; 6: kernel releases (SimConfig.kernel, online_cpus; the newest release's defaults)
"""Version of what ``simulate()`` computes. Bump it whenever a change to the engine, the
simulation or ``Result.to_frame()`` changes any number or column a run produces: cached results
of other versions are then no longer found (they stay on disk under ``model-<N>/`` until
deleted). A change that only makes the engine faster keeps it."""

CACHE_ENV = "RXLAB_CACHE_DIR"


def default_cache_dir():
    """``$RXLAB_CACHE_DIR``, else ``.rxlab-cache`` in the current directory (git-ignored)."""
    return Path(os.environ.get(CACHE_ENV) or ".rxlab-cache")


def study_cache_dir():
    """Where the claims scoreboard and the notebooks keep their runs: ``$RXLAB_CACHE_DIR``, else
    ``.rxlab-cache`` at the root of the source checkout rxlab is imported from (git-ignored), so
    ``rxlab claims`` and ``rxlab report`` run from anywhere and the notebooks' kernels (started in
    ``notebooks/``) share one cache; else, for an installed package, :func:`default_cache_dir`."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "rxlab" / "__init__.py").is_file():
        return root / ".rxlab-cache"
    return default_cache_dir()


def run_key(cfg):
    """SHA-256 of the configuration (every field, the seed included) and MODEL_VERSION.

    The configuration must be canonical (as ``rxlab.studies.grid.expand`` makes it: floats as floats,
    XDP fractions as a tuple of floats) so that equal runs hash equally."""
    text = json.dumps({"model_version": MODEL_VERSION, "config": cfg.to_dict()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class ResultCache:
    """Results under ``root/model-<MODEL_VERSION>/<first two hex digits>/<key>.parquet``."""

    def __init__(self, root=None):
        self.root = Path(root) if root is not None else default_cache_dir()

    def path(self, key):
        return self.root / f"model-{MODEL_VERSION}" / key[:2] / f"{key}.parquet"

    def get(self, key):
        """The cached one-row table, or None. An unreadable file (e.g. emptied by a power
        loss, which os.replace does not guard against without fsync) counts as missing and
        is recomputed and overwritten."""
        try:  # one row: ParquetFile without threads reads it ~40% faster than read_table
            with pq.ParquetFile(self.path(key)) as f:
                return f.read(use_threads=False)
        except (OSError, pa.ArrowException):
            return None

    def put(self, key, table):
        """Write ``table`` atomically: to a temporary name, then renamed over the final one."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
