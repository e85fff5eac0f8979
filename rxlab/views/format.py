"""Numbers as a reader wants them: meaningful digits, with units; tables of a readable size.

``number(131.42181503427068)`` is ``131.4``, ``quantity(6.710886e7, "bytes")`` is ``64 MiB``;
:func:`table` shows a frame with every column formatted by its unit (guessed from its name by
:func:`unit_of`), at most ``max_rows`` rows, the whole table attached to the page as CSV. The
notebooks' tables and :func:`rxlab.views.notebooks.record` use them.
"""

import base64
import html
import math
import re

DIGITS = 4  # significant digits shown below 1000; larger numbers as whole numbers
MAX_ROWS = 25

# column names (or their endings) and the unit their values are in
BYTE_NAMES = ("truesize", "truesize_pinned", "alloc_size", "datasize", "headroom", "page_size", "tcp_rmem",
              "under_reported", "pool_size_bytes", "bytes_copied_total")
UNIT_PATTERNS = ((r"(_bytes|_bytes_\w+)$", "bytes"), (r"(^|_)mib($|_)", "MiB"), (r"gbps", "Gbps"),
                 (r"(_pct|percent|_pct_\w+)$", "%"), (r"(^|_)us$", "µs"), (r"_mhz$", "MHz"))


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) or type(v).__module__ == "numpy" and \
        hasattr(v, "dtype") and v.dtype.kind in "iuf"


def number(v, digits=DIGITS):
    """``v`` rounded to ``digits`` significant digits (whole numbers from 1000 up, with thousands
    separators); integers exactly; NaN as ``-``; anything else as ``str(v)``."""
    if not _is_number(v):
        return str(v)
    if isinstance(v, int) or (hasattr(v, "dtype") and v.dtype.kind in "iu"):
        return f"{int(v):,}"
    v = float(v)
    if math.isnan(v):
        return "-"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v == 0:
        return "0"
    if abs(v) >= 10 ** (digits - 1):
        return f"{round(v):,}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(v))))
    text = f"{v:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def bytes_text(n):
    """A byte count in the unit that reads best: ``64 MiB``, ``1.5 GiB``, ``64 KiB``, ``2,112 B``."""
    if not _is_number(n) or math.isnan(float(n)):
        return number(n)
    n = float(n)
    for unit, size in (("GiB", 2**30), ("MiB", 2**20)):
        if abs(n) >= size:
            return f"{number(n / size)} {unit}"
    if abs(n) >= 1024 and n % 1024 == 0:
        return f"{int(n) // 1024} KiB"
    if abs(n) >= 64 * 1024:
        return f"{number(n / 1024)} KiB"
    return f"{number(round(n) if n == round(n) else n)} B"


def quantity(v, unit=""):
    """``v`` with its unit: bytes in B/KiB/MiB/GiB, anything else as ``number(v) unit``."""
    if unit == "bytes":
        return bytes_text(v)
    text = number(v)
    if not unit or text == "-" or not _is_number(v):
        return text
    return f"{text}{'' if unit == '%' else ' '}{unit}"


def unit_of(name):
    """The unit a column or record name implies (``ring_bytes`` -> ``bytes``, ``gbps_cpu`` ->
    ``Gbps``, ``under_reported_pct`` -> ``%``), or ``""``."""
    name = str(name).lower()
    if name in BYTE_NAMES:
        return "bytes"
    for pattern, unit in UNIT_PATTERNS:
        if re.search(pattern, name):
            return unit
    return ""


class Table:
    """A frame for display: formatted by unit, at most ``max_rows`` rows (the whole table attached
    as a CSV link when it has more). ``frame`` is the data, unchanged."""

    def __init__(self, frame, max_rows=MAX_ROWS, caption="", units=None, name="table"):
        self.frame, self.max_rows, self.caption, self.name = frame, max_rows, caption, name
        self.units = {c: (units or {}).get(c, unit_of(c)) for c in frame.columns}

    def formatters(self):
        def fmt(unit):
            # a number and its unit never split across lines (a no-break space); text wraps
            return lambda v: quantity(v, unit).replace(" ", "\u00a0") if _is_number(v) else str(v)
        return {c: fmt(self.units.get(c, unit_of(c))) for c in self.shown().columns}

    def shown(self):
        """The frame as displayed, with no index column: a meaningful index (named, or of labels)
        becomes ordinary columns under its names, row positions are dropped; the columns' own name and
        levels fold into one header row (``gbps low``)."""
        import pandas as pd

        f = self.frame
        # unnamed integers are row positions (0..n-1, or what filtering and concatenation left)
        plain = f.index.nlevels == 1 and f.index.name is None and pd.api.types.is_integer_dtype(f.index)
        if isinstance(f.columns, pd.MultiIndex):
            f = f.set_axis([" ".join(str(x) for x in c if str(x)) for c in f.columns], axis=1)
        # an index without a name gets an empty header: name it where the frame is made
        f = f.rename_axis(columns=None).rename_axis([n or "" for n in f.index.names])
        return f.reset_index(drop=plain)

    def _repr_html_(self):
        frame = self.shown()
        shown = frame.head(self.max_rows)
        body = shown.to_html(formatters=self.formatters(), classes="rxlab-table", border=0, escape=True,
                             na_rep="-", index=False)
        # column names break after their underscores only (``frags_per_<wbr>page``), never mid-word
        body = re.sub(r"(<th[^>]*>)([^<]*)(</th>)", lambda m: m[1] + m[2].replace("_", "_<wbr>") + m[3], body)
        cap = f'<p class="rxlab-table-caption">{html.escape(self.caption)}</p>' if self.caption else ""
        more = ""
        if len(self.frame) > self.max_rows:
            csv = base64.b64encode(frame.to_csv(index=False).encode()).decode()
            more = (f'<p class="rxlab-table-more">{len(shown)} of {len(self.frame)} rows shown; the whole table: '
                    f'<a download="{html.escape(self.name, quote=True)}.csv" '
                    f'href="data:text/csv;base64,{csv}">{html.escape(self.name)}.csv</a> '
                    f"({len(self.frame)} rows x {self.frame.shape[1]} columns)</p>")
        return f'<div class="rxlab-table-wrap">{cap}{body}{more}</div>'

    def __repr__(self):
        shown = self.shown().head(self.max_rows)
        text = shown.to_string(formatters=self.formatters(), index=False)
        if len(self.frame) > self.max_rows:
            text += f"\n... {len(self.frame) - self.max_rows} more rows"
        return text


def table(frame, max_rows=MAX_ROWS, caption="", units=None, name="table"):
    """``frame`` for display in a notebook or report: see :class:`Table`. ``units``: {column: unit}
    where the name does not say it."""
    return Table(frame, max_rows, caption, units, name)
