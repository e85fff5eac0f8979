"""The seed claims a sweep figure draws: which rows of ``data/claims.csv`` apply to a sweep over one
axis with the other fields held, as :class:`ClaimMark` objects (rxlab.views.panel draws them)."""

from dataclasses import dataclass

from rxlab.cost.profiles import load_platforms
from rxlab.data import load_claims
from rxlab.errors import bad
from rxlab.studies.claims.verdicts import claimed_text

PANEL_AXES = ("mtu", "page_size", "xdp", "connections")
"""The axes a sweep panel (rxlab.views.panel) sweeps; every other field is held."""
SKU_PLATFORMS = {"affected": "affected_arm64", "typical": "typical_arm64", "x86_64": "x86_64_server"}
"""A claim's ``sku`` condition as the platform profile (data/platforms.toml) that stands for it."""
VARIANT_STRATEGIES = {"pre": "full_page", "post": "pp_frag"}
"""A claim's ``variant`` condition (MANA before/after the fragment patch) as the strategy simulating it."""
# claim quantity -> (the figure's quantity, sign): gains and shortfalls of fragments behind full
# pages share one axis, the gain of each strategy over full_page in percent (a shortfall is minus it)
_PANEL_QUANTITY = {"buffers_per_page": ("buffers_per_page", 1), "frag_path_max_mtu": ("buffers_per_page", 1),
                   "line_rate": ("gbps", 1), "throughput_gain": ("gain_pct", 1), "frag_shortfall": ("gain_pct", -1),
                   "frag_shortfall_onset": ("gain_pct", 1)}
_GAIN_BASE = "full_page"
CLAIMS_DRIVER = "mana"
"""The driver every seed claim is about (the seed threads discuss MANA's RX buffers)."""


@dataclass(frozen=True)
class ClaimMark:
    """One seed claim as a sweep figure draws it.

    ``quantity``: the figure's axis it belongs on (``buffers_per_page``, ``gbps``: the throughput
    ESTIMATE, ``gain_pct``: a strategy's gain over full_page in percent); ``strategy``: the series it
    is about (None: none in particular). ``kind``: ``point`` (``y`` at ``x`` on the swept axis),
    ``level`` (``y`` along the whole axis, or over ``x``..``x_high`` when the claim names a range of
    the swept field), ``band`` (``y``..``y_high`` likewise), ``vline`` (``x`` on the swept axis: a
    threshold the claim names). Values are the claim's (data/claims.csv), in the figure's sign: a
    shortfall of S% is a gain of -S%."""

    id: str
    quantity: str
    kind: str
    label: str
    strategy: str | None = None
    x: float | None = None
    x_high: float | None = None
    y: float | None = None
    y_high: float | None = None


def _cond_value(field, text):
    if field == "xdp":
        return text == "1"
    return int(text)


def _held_value(field, v):
    if field == "xdp":
        return bool(v) and v not in ("off", "()")
    return int(v)


def claim_marks(axis, held, platform=None, driver=CLAIMS_DRIVER):
    """The seed claims of ``data/claims.csv`` that apply to a sweep over ``axis`` (one of
    :data:`PANEL_AXES`) with the other fields at ``held`` ({field: value}: page_size, mtu, xdp,
    connections; ``arch`` too unless ``platform`` gives it) and, for throughput, priced on
    ``platform`` (a profile name), as :class:`ClaimMark` objects, in the order of claims.csv.

    A claim applies when every condition it states on a field other than the swept one matches the
    held value (a ``connections=lo..hi`` range: the held count inside it), its ``sku`` is the
    platform (:data:`SKU_PLATFORMS`), its ``arch`` the platform's, and its quantity is one the figure
    draws; a condition on the swept field places it on the axis. Claims about atomics or truesize
    are not about these axes and never apply; nor does any about another ``driver`` than
    :data:`CLAIMS_DRIVER`. This is the one place that decides where a claim is drawn: the sweep
    panels, the notebooks' exported pages and ``explore.html`` all draw these marks."""
    if axis not in PANEL_AXES:
        raise bad("axis", axis, "one of " + ", ".join(PANEL_AXES))
    if driver != CLAIMS_DRIVER:
        return []
    profiles = load_platforms() if platform is not None else {}
    if platform is not None and platform not in profiles:
        raise bad("platform", platform, "one of " + ", ".join(profiles))
    arch = profiles[platform].arch if platform is not None else held.get("arch", "arm64")
    out = []
    for _, c in load_claims().iterrows():
        if c["quantity"] not in _PANEL_QUANTITY:
            continue
        quantity, sign = _PANEL_QUANTITY[c["quantity"]]
        cond = c["conditions"]
        sku = cond.get("sku")
        if sku is not None and (platform is None or SKU_PLATFORMS.get(sku) != platform):
            continue
        if quantity in ("gbps", "gain_pct") and platform is None:
            continue
        if cond.get("arch", arch) != arch:
            continue
        compare = cond.get("compare", "")
        num, _, den = compare.partition("/")
        if quantity == "gain_pct" and compare and den != _GAIN_BASE:
            continue
        x = x_high = None
        ok = True
        for f in ("page_size", "mtu", "xdp", "connections"):
            if f not in cond:
                continue
            lo, _, hi = cond[f].partition("..")
            lo = _cond_value(f, lo)
            hi = _cond_value(f, hi) if hi else None
            if f == axis:
                x, x_high = float(lo), (float(hi) if hi is not None else None)
            elif f not in held:
                ok = False
            elif hi is None:
                ok = ok and _held_value(f, held[f]) == lo
            else:
                ok = ok and lo <= _held_value(f, held[f]) <= hi
        if not ok:
            continue
        strategy = VARIANT_STRATEGIES.get(cond.get("variant")) or (num or None)
        value, high = float(c["value"]), float(c["value_high"])
        label = f"{c['id']}: {claimed_text(c['comparison'], c['value'], c['value_high'])} {c['unit']}"
        if c["quantity"] in ("frag_path_max_mtu", "frag_shortfall_onset"):
            # a threshold on the swept field itself
            on = "mtu" if c["quantity"] == "frag_path_max_mtu" else "connections"
            if axis != on:
                continue
            out.append(ClaimMark(c["id"], quantity, "vline", label, strategy, x=value))
            continue
        y = sign * value + 0.0  # no -0.0
        if c["comparison"] == "range":
            out.append(ClaimMark(c["id"], quantity, "band", label, strategy, x, x_high, y, sign * high))
        elif x is not None and x_high is None:
            out.append(ClaimMark(c["id"], quantity, "point", label, strategy, x=x, y=y))
        else:
            out.append(ClaimMark(c["id"], quantity, "level", label, strategy, x, x_high, y))
    return out
