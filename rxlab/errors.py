"""The one error helper: every bad input names the field, the value and what is allowed."""


def bad(field, value, allowed):
    """Return a ValueError naming ``field``, its ``value`` and the ``allowed`` range or set."""
    return ValueError(f"{field}={value!r} is not allowed: {allowed}")


def check_int_range(field, value, lo, hi):
    """Validate an integer in [lo, hi] (inclusive) and return it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(field, value, f"an integer in {lo}..{hi}")
    if not lo <= value <= hi:
        raise bad(field, value, f"{lo}..{hi}")
    return value


def check_choice(field, value, choices):
    """Validate that ``value`` is one of ``choices`` and return it."""
    if value not in choices:
        raise bad(field, value, "one of " + ", ".join(repr(c) for c in choices))
    return value
