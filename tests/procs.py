"""Child processes of the tests (tests/test_robustness.py, tests/test_sweep.py): started in a session of
their own, seen through /proc, and never left behind."""

import os
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path


def _stat(pid):
    """The fields of /proc/<pid>/stat after the command name: state, parent, ..."""
    return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()


def alive(pid):
    """Running, not a zombie."""
    try:
        return _stat(pid)[0] != "Z"
    except OSError:
        return False


def children(pid):
    """Live (not zombie) child processes of ``pid``."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            f = _stat(stat.parent.name)
        except OSError:
            continue
        if f[1] == str(pid) and f[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def cpu_seconds(pid):
    """User and system CPU time of ``pid`` so far."""
    f = _stat(pid)
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(predicate, seconds=120.0):
    """Poll until ``predicate()`` is true (a deadline against hangs, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@contextmanager
def started(argv, **popen):
    """``subprocess.Popen(argv, **popen)`` in a session of its own. On the way out, if the test has
    not reaped it (a check failed first, or it hangs), its whole process group is killed and reaped:
    no test leaves processes behind."""
    p = subprocess.Popen(argv, start_new_session=True, **popen)
    try:
        yield p
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
