"""The one way rxlab writes a file: whole, or not at all, and only over a regular file."""

import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

from rxlab.errors import bad


def file_kind(mode):
    """What an ``os.lstat()`` mode that is not a regular file's names: "a symlink", "a FIFO", ..."""
    return ("a symlink" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode)
            else "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device node")


def check_target(path, field="path"):
    """Refuse, naming ``field``, a ``path`` that is there and is not a regular file: a write renamed
    over it would turn a symlink, a device node, a FIFO or a socket into a regular file (run as
    root, ``--out /dev/null`` would replace the system's node), or fail on a folder."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:  # nothing there (or a path the write will fail on, and say why)
        return
    if not stat.S_ISREG(mode):
        raise bad(field, str(path), f"a regular file or a new path, not {file_kind(mode)}")


@contextmanager
def atomic_path(path, field="path"):
    """Yield a temporary path beside ``path`` to write; on success it is renamed over ``path``
    (``os.replace`` is atomic), on any error removed. A reader never sees a half-written file, and
    a writer killed mid-way leaves only a dot-named ``.tmp`` file that nothing reads. Concurrent
    writers of one path each get their own temporary name; the last rename wins. ``path`` must be
    a regular file or a new path (:func:`check_target`, naming ``field``)."""
    path = Path(path)
    check_target(path, field)
    # at most 100 bytes of the name: a legal name (255 bytes) and the suffixes would not be one
    name = os.fsdecode(os.fsencode(path.name)[:100])
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would make reports and results private
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
