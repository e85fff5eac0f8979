"""The one error helper: every bad input names the field, the value and what is allowed.

Two kinds of failure reach the command line: a :class:`ValueError` (from :func:`bad`) is the
user's (exit status 2), a :class:`SystemFailure` or an ``OSError`` is the machine's (exit 1).
"""

import numbers
import reprlib

SHOWN_CHARS = 200
"""A value is shown in an error line up to this many characters (a 5 MB value is not echoed)."""


def shown(value, as_str=False):
    """``repr(value)`` (``str`` if ``as_str``) for an error line: a value nested too deep to repr
    in full is abbreviated, one longer than :data:`SHOWN_CHARS` cut, saying how long it was."""
    try:
        text = str(value) if as_str else repr(value)
    except RecursionError:
        text = reprlib.repr(value)
    if len(text) > SHOWN_CHARS:
        text = f"{text[:SHOWN_CHARS]}... ({len(text):,} characters)"
    return text


def bad(field, value, allowed):
    """Return a ValueError naming ``field``, its ``value`` (:func:`shown`) and the ``allowed`` range or set."""
    return ValueError(f"{field}={shown(value)} is not allowed: {allowed}")


def too_much(fields, asks, allowed):
    """Return a ValueError naming the ``fields`` ({name: value}) that together ask for ``asks``
    (e.g. "7.9 GB of simulation tables") beyond what is ``allowed``."""
    names = ", ".join(f"{k}={shown(v)}" for k, v in fields.items())
    return ValueError(f"{names} {'is' if len(fields) == 1 else 'are'} not allowed: "
                      f"{'it asks' if len(fields) == 1 else 'together they ask'} for {asks}; {allowed}")


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped a command (``signum`` says which): handled as Ctrl-C is, so
    that every ``finally`` runs (kernels shut down, pool workers killed, temporary files removed)."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


class SystemFailure(RuntimeError):
    """The machine, not the input, failed a run (a pool worker killed, a cluster worker lost):
    the command line prints it on one line and exits 1."""


def is_bool(value):
    """True or False, or NumPy's bool scalar (without importing NumPy here)."""
    return isinstance(value, bool) or (type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_"))


def is_int(value):
    """An integer (Python or NumPy), not a bool."""
    return isinstance(value, numbers.Integral) and not is_bool(value)


def is_real(value):
    """A real number (Python or NumPy, integers included), not a bool."""
    return isinstance(value, numbers.Real) and not is_bool(value)


def check_int_range(field, value, lo, hi):
    """Validate an integer in [lo, hi] (inclusive) and return it as a Python int (NumPy
    integer scalars are integers too)."""
    if not is_int(value):
        raise bad(field, value, f"an integer in {lo}..{hi}")
    value = int(value)
    if not lo <= value <= hi:
        raise bad(field, value, f"{lo}..{hi}")
    return value


def check_choice(field, value, choices):
    """Validate that ``value`` is one of ``choices`` and return it."""
    try:
        ok = value in choices
    except TypeError:  # an unhashable value against a dict's keys
        ok = False
    if not ok:
        raise bad(field, value, "one of " + ", ".join(repr(c) for c in choices))
    return value
