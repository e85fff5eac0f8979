"""The one way rxlab writes a file: whole, or not at all."""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` to write; on success it is renamed over ``path``
    (``os.replace`` is atomic), on any error removed. A reader never sees a half-written file, and
    a writer killed mid-way leaves only a dot-named ``.tmp`` file that nothing reads. Concurrent
    writers of one path each get their own temporary name; the last rename wins."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would make reports and results private
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
