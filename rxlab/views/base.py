"""The one panel base: every figure a reader moves goes state -> configurations -> runs -> prices ->
gains -> drawing -> caption -> static HTML through :class:`Panel`. A notebook's sweep panel
(:mod:`rxlab.views.panel`), the explorer's run (:mod:`rxlab.views.widgets`) and the report's
explorable pages (:func:`export_html`: the same panel drawn at every state of a small grid, swapped
by a script in the page) differ only in the steps they override. ARCHITECTURE.md's "Add a panel"
recipe says which.
"""

import html
import itertools
import json
from typing import ClassVar

import pandas as pd

from rxlab.cost.pricing import ESTIMATE_NOTE, throughput
from rxlab.cost.profiles import load_platforms
from rxlab.model.config import SimConfig
from rxlab.studies import cache as _cache
from rxlab.studies.sweep import plain, sweep
from rxlab.views.plots import png_base64

PANEL_MIME = "application/vnd.rxlab.sweep-panel+json"
"""A sweep panel's state in a notebook's output: ``rxlab report`` exports the panel from it."""
PRICE_COLUMNS = ("gbps", "gbps_low", "gbps_high", "binds")
"""The throughput ESTIMATE's columns :meth:`Panel.price` adds to each run's row."""


class Panel:
    """A figure over the simulation at one ``state`` ({field: value}; the fields :attr:`CONTROLS`
    names are the ones a reader sets). :meth:`render` runs the pipeline; each step is a method a
    panel overrides:

    - :meth:`configs`: ``[(series, x, SimConfig or the reason it is refused)]``, the points;
    - :meth:`run`: the rows of the valid points (default: :func:`rxlab.sweep` through the result
      cache, ``progress(done, total)`` called as runs arrive), with ``series`` and ``x`` columns;
    - :meth:`price`: the throughput ESTIMATE under ``state["platform"]`` (:data:`PRICE_COLUMNS`);
    - :meth:`gains`: columns derived across points (default: none);
    - :meth:`draw`: a matplotlib Figure of the priced frame;
    - :meth:`caption`: what the figure shows, as plain text: the release, platform and packets
      always named.

    After :meth:`render`: ``points``, ``frame``, ``figure``, ``png``, ``text`` and ``last`` (runs
    computed, read from the cache and refused)."""

    CONTROLS: ClassVar[dict] = {}
    """{state field: label} of the controls a reader moves, in the order they show."""
    DPI = 100
    PALETTE = False  # 256 colours: a third of the bytes, for pages that carry many figures

    def __init__(self, state=None, cache=None, packets=None):
        self.state = {**self.defaults(), **(state or {})}
        unknown = set(self.state) - set(self.defaults())
        if unknown:
            raise ValueError(f"{min(unknown)} is not allowed: one of {', '.join(self.defaults())}")
        self.cache = _cache.study_cache_dir() if cache is None else cache
        self.packets = packets
        self.profiles = load_platforms()
        self.points, self.frame, self.figure, self.png, self.text = [], pd.DataFrame(), None, None, ""
        self.last = {"computed": 0, "cached": 0, "invalid": 0}

    def defaults(self):
        """{field: default value} of every state field."""
        return {}

    def key(self):
        """The state's fields that change the figure, as text (equal keys: one figure)."""
        return "|".join(f"{k}={self.state[k]}" for k in self.CONTROLS if k in self.state)

    # -- the pipeline ----------------------------------------------------------------------------
    def configs(self):
        raise NotImplementedError

    def run(self, points, progress=None):
        valid = [(s, x, c) for s, x, c in points if isinstance(c, SimConfig)]
        if not valid:
            self.last = {"computed": 0, "cached": 0, "invalid": len(points)}
            return pd.DataFrame()
        df = plain(sweep([c for _, _, c in valid], cache=self.cache, workers=1, progress=progress or False))
        stats = df.attrs["sweep"]
        self.last = {"computed": stats["computed"], "cached": stats["cached"], "invalid": len(points) - len(valid)}
        df["series"] = [s for s, _, _ in valid]
        df["x"] = [x for _, x, _ in valid]
        return df

    def price(self, frame):
        t = throughput(frame, self.profiles[self.state["platform"]])
        return pd.concat([frame, t[list(PRICE_COLUMNS)]], axis=1)

    def gains(self, frame):
        return frame

    def draw(self, frame):
        raise NotImplementedError

    def caption(self):
        raise NotImplementedError

    def render(self, progress=None):
        """Run the pipeline at the current state; returns the panel."""
        self.points = self.configs()
        frame = self.run(self.points, progress)
        self.frame = self.gains(self.price(frame)) if not frame.empty else frame
        self.figure = self.draw(self.frame)
        self.png = png_base64(self.figure, dpi=self.DPI, palette=self.PALETTE) if self.figure is not None else None
        self.text = self.caption()
        return self

    def static_html(self):
        """The panel at its state as plain HTML: the figure inlined, the caption, the ESTIMATE note."""
        if self.png is None:
            return f'<p class="rxlab-error">{html.escape(self.text)}</p>'
        return (f'<figure class="rxlab-panel"><img alt="{html.escape(self.text, quote=True)}" '
                f'src="data:image/png;base64,{self.png}" style="max-width: 100%">'
                f"<figcaption>{html.escape(self.text)}</figcaption></figure>"
                f'<p style="font-size: 10px">{html.escape(ESTIMATE_NOTE)}</p>')


SCRIPT = """(function () {
  var box = document.currentScript.closest("section.rxlab-view");
  var data = JSON.parse(box.querySelector(".rxlab-view-data").textContent);
  var form = box.querySelector(".rxlab-view-controls");
  var img = box.querySelector(".rxlab-view-img"), cap = box.querySelector(".rxlab-view-caption");
  function key() {
    var axis = form.elements.axis ? form.elements.axis.value : null;
    return data.fields.map(function (k) {
      var el = form.elements[k];
      el.disabled = (k === axis);
      return el.value;
    }).join("|");
  }
  function show() {
    var k = key(), i = data.keys[k];
    if (i === undefined) { cap.textContent = "This combination is not in the precomputed grid."; return; }
    img.src = "data:image/png;base64," + data.views[i][0];
    img.setAttribute("data-key", data.views[i][2]);
    cap.textContent = data.views[i][1];
  }
  form.addEventListener("change", show);
  form.hidden = false;
  box.querySelector(".rxlab-view-static").hidden = true;
  key();
})();
"""

STYLE = """
.rxlab-view-controls label { margin-right: 1em; font-size: 13px; white-space: nowrap; }
.rxlab-view-controls select:disabled { opacity: 0.4; }
section.rxlab-view figure { margin: 0.6em 0; }
section.rxlab-view img { max-width: 100%; }
section.rxlab-view figcaption { font-size: 13px; color: #333; }
"""


def _select(name, label, options, selected):
    opts = "".join(f'<option value="{html.escape(str(v), quote=True)}"' + (" selected" if v == selected else "")
                   + f">{html.escape(str(text))}</option>" for v, text in options)
    return f'<label>{html.escape(label)} <select name="{name}">{opts}</select></label>'


def export_html(make, options, default, ident, progress=None):
    """A panel as an explorable HTML fragment over a precomputed grid: ``make(state)`` a
    :class:`Panel` at ``state``; ``options`` {state field: [(value, text)]}, the controls the page
    offers, in order; ``default`` the state shown first (and alone, without scripts). Every state of
    the grid is keyed; states with equal :meth:`Panel.key` share one drawing. Controls (hidden until
    the script runs), the default figure inline, every other in a JSON block, and the script that
    swaps them: nothing is fetched. A control named by the ``axis`` control's value is disabled (the
    swept field holds no value). ``progress(done, total)``: after each state. Returns (html, figures)."""
    fields = list(options)
    views, index, keys = [], {}, {}
    states = list(itertools.product(*([v for v, _ in opts] for opts in options.values())))
    first, labels = None, {}
    for n, values in enumerate(states, 1):
        p = make({**default, **dict(zip(fields, values))})
        k, labels = p.key(), p.CONTROLS
        if k not in index:
            p.render()
            index[k] = len(views)
            views.append((p.png or "", p.text, k))
        keys["|".join(str(v) for v in values)] = index[k]
        if all(default[f] == v for f, v in zip(fields, values)):
            first = index[k]
        if progress:
            progress(n, len(states))
    png, text, key = views[first]
    controls = "".join(_select(f, labels[f], opts, default[f]) for f, opts in options.items())
    data = json.dumps({"fields": fields, "keys": keys, "views": views}, separators=(",", ":")).replace("</", "<\\/")
    return (f'<section class="rxlab-view" id="rxlab-view-{html.escape(ident, quote=True)}">'
            f'<form class="rxlab-view-controls" hidden>{controls}</form>'
            '<p class="rxlab-view-static rxlab-note">Scripts are off: this is the default figure. Turn scripts on '
            "to move the controls (every figure is in this page; nothing is fetched).</p>"
            f'<figure><img class="rxlab-view-img" data-key="{html.escape(key, quote=True)}" '
            f'alt="{html.escape(text, quote=True)}" src="data:image/png;base64,{png}">'
            f'<figcaption class="rxlab-view-caption">{html.escape(text)}</figcaption></figure>'
            f'<script type="application/json" class="rxlab-view-data">{data}</script>'
            f"<script>{SCRIPT}</script></section>"), len(views)
