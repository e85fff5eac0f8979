"""Verdict rules: a model value and its band against a claim, and how the scoreboard prints both.

Verdicts, from the model's estimate and its band (every profile parameter at its low and at
its high end, rxlab.cost.pricing.throughput):

* ``reproduced``: the estimate satisfies the claim (eq: equal; approx: within 10% of the claim,
  or APPROX_ABS of it when the claim is 0; range: inside; ge/gt/le: satisfied);
* ``within uncertainty``: the estimate does not, but the band reaches values that do;
* ``within tolerance``: neither, but the estimate is near (approx within 2.5x the margin; range
  or ge/gt/le missed by at most 10% of the claimed value; le by APPROX_ABS when it is 0);
* ``not reproduced``: none of these;
* ``outside the model (hardware)``: not reproduced by the CPU model, and a later root cause
  outside anything rxlab models (a hardware fault) explains the measurement; the reason cites it;
* ``contradicted by the data``: the claim's own measured table, evaluated by the same rules,
  does not satisfy it (whatever the model says);
* ``input (not evaluated)``: a profile value states the claim (it was taken from the seed), so the
  model cannot confirm it;
* ``untestable here``: the model cannot tell the claim's cases apart on that platform (an
  empirical figure decides both alike); the reason says why and what the CPU model alone gives;
* ``indeterminate``: across inputs the claim does not state (which kernel its tester ran), the
  answer spans both sides of the tolerance; the reason names what decides it.

Every reason opens with one sentence naming the mechanism that decided the verdict; the details
follow.
"""

import math
import re
from dataclasses import dataclass, field

VERDICTS = ("reproduced", "within uncertainty", "within tolerance", "not reproduced",
            "outside the model (hardware)", "contradicted by the data", "input (not evaluated)", "untestable here",
            "indeterminate")
HARDWARE = "outside the model (hardware)"
CONTRADICTED = "contradicted by the data"
INPUT = "input (not evaluated)"
UNTESTABLE = "untestable here"
INDETERMINATE = "indeterminate"
APPROX_REL = 0.10
APPROX_ABS = {"percent": 2.0, "atomic RMW per allocation": 0.1}  # margin when the claimed value is 0
WIDE = 2.5


def _digits(v, digits):
    """``v`` to ``digits`` significant digits, whole from 10**digits up: never an exponent
    (26442, not 2.644e+04)."""
    return f"{round(v)}" if abs(v) >= 10 ** digits else f"{v:.{digits}g}"


def model_text(v):
    """A model value as the scoreboard prints it: "-" when the model has none."""
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else _digits(v, 4)


def band_text(v, low, high):
    """A model value with its band, ``376 [48.2..466]``; the value alone when the band is a point; the
    band alone, ``[4.47..108]``, when there is no single value (an indeterminate row's range)."""
    if absent(v) and not absent(low) and not absent(high):
        return f"[{_digits(low, 3)}..{_digits(high, 3)}]"
    if absent(v) or absent(low) or absent(high) or low == high == v:
        return model_text(v)
    return f"{model_text(v)} [{_digits(low, 3)}..{_digits(high, 3)}]"


NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?")


def states_value(reason, model):
    """Whether ``reason`` states ``model``: some number in it is the model value rounded to that
    number's decimals and within 5% of it (``+18%`` states 17.66; ``1,714`` states 1714; ``0``
    does not state 0.117)."""
    for n in NUMBER.findall(reason):
        text = n.replace(",", "").lstrip("+")
        v = float(text)
        if round(model, len(text.partition(".")[2])) == v and abs(v - model) <= 0.05 * abs(model):
            return True
    return False


def agreeing_reason(reason, model, unit):
    """``reason``, led by the model's value when it does not state it: the scoreboard's reason must
    agree with its model column (a bool claim reads as the comparison itself)."""
    if absent(model) or unit == "bool" or states_value(reason, model):
        return reason
    return f"{model_text(model)} {unit}: {reason}"


def verdict_slug(v):
    """A verdict as a CSS class name: ``outside the model (hardware)`` -> ``outside-the-model-hardware``."""
    return re.sub(r"[^a-z]+", "-", v.lower()).strip("-")


def _accepted(comparison, claimed, high, unit):
    """The model values the rules call reproduced: (low, high, low end excluded)."""
    if comparison == "eq":
        return claimed, claimed, False
    if comparison == "approx":
        tol = APPROX_REL * abs(claimed) if claimed else APPROX_ABS.get(unit, 0.0)
        return claimed - tol, claimed + tol, False
    if comparison == "range":
        return claimed, high, False
    if comparison == "le":
        return -math.inf, claimed, False
    return claimed, math.inf, comparison == "gt"


def absent(v):
    """Whether ``v`` is no value: None or NaN."""
    return v is None or (isinstance(v, float) and math.isnan(v))


def verdict(comparison, claimed, model, high=math.nan, unit="", band=None):
    """(verdict, margin text) of a model value against a claim; ``band`` (low, high): the
    model's uncertainty band, which turns a miss into ``within uncertainty`` when it reaches
    values the claim accepts."""
    if absent(model):
        return "not reproduced", "no model value"
    v, margin = _point_verdict(comparison, claimed, model, high, unit)
    if v == "reproduced" or band is None or any(absent(b) for b in band):
        return v, margin
    lo, hi = min(band), max(band)
    a_lo, a_hi, open_lo = _accepted(comparison, claimed, high, unit)
    if lo <= a_hi and (hi > a_lo if open_lo else hi >= a_lo) and (lo, hi) != (model, model):
        return "within uncertainty", f"band {lo:.3g}..{hi:.3g} reaches the claim; {margin}"
    return v, margin


def _point_verdict(comparison, claimed, model, high, unit):
    if comparison == "eq":
        return ("reproduced" if abs(model - claimed) < 1e-9 else "not reproduced"), "exact"
    if comparison == "approx":
        tol = APPROX_REL * abs(claimed) if claimed else APPROX_ABS.get(unit, 0.0)
        d = abs(model - claimed)
        v = "reproduced" if d <= tol else "within tolerance" if d <= WIDE * tol else "not reproduced"
        return v, f"±{tol:g} (±{WIDE * tol:g} within tolerance)"
    slack = APPROX_REL * max(abs(claimed), abs(high) if not math.isnan(high) else 0.0)
    if comparison == "range":
        miss = max(claimed - model, model - high, 0.0)
    elif comparison == "ge":
        miss = max(claimed - model, 0.0)
    elif comparison == "le":  # "no more than 0%": the approx margin is the tolerance
        miss = max(model - claimed, 0.0)
        slack = slack or APPROX_ABS.get(unit, 0.0)
    else:  # gt
        if model == claimed:
            return "not reproduced", "equal, not greater"
        miss = max(claimed - model, 0.0)
    if miss == 0.0:
        return "reproduced", "inside"
    return ("within tolerance" if miss <= slack else "not reproduced"), f"missed by {miss:.3g}"


@dataclass
class Finding:
    """What an evaluator found: the model's value, ``why``: one sentence naming the mechanism that
    decided it, and ``details``: the figures behind it.

    ``low``/``high``: its band (NaN: an exact count, the band is the point); ``measured``: the
    claimed quantity in the seed's own measured table, when it has one; ``cause``: the platform
    whose cited root cause outside the model (its device's, data/platforms.toml) explains a
    measurement the CPU model alone does not reproduce; ``kind``: ``INPUT`` or ``UNTESTABLE`` when
    the model cannot test the claim, ``INDETERMINATE`` when its answer depends on an unstated input (``model`` is then what the CPU model alone says, if
    anything); ``flags``: why the value itself is not to be trusted (shown beside it);
    ``detail``: structured figures (JSON-ready); ``spread``: for a headline row, the value over
    inputs the seeds do not state (RSS seeds, queue counts: ``over``, its ``low`` and ``high``, and
    ``values`` by variant), which the band already includes."""

    model: float
    why: str
    details: str = ""
    low: float = math.nan
    high: float = math.nan
    measured: float = math.nan
    cause: str = ""
    kind: str = ""
    flags: tuple = ()
    detail: dict = field(default_factory=dict)
    spread: dict = field(default_factory=dict)


def undecided(comparison, claimed, low, high, value_high=math.nan, unit=""):
    """Whether a band ``low``..``high`` is too wide to decide the claim: it reaches values the rules
    call reproduced and values they call not reproduced (not even within tolerance)."""
    if absent(low) or absent(high) or low == high:
        return False
    a_lo, a_hi, open_lo = _accepted(comparison, claimed, value_high, unit)
    reaches = low <= a_hi and (high > a_lo if open_lo else high >= a_lo)
    ends = (_point_verdict(comparison, claimed, x, value_high, unit)[0] for x in (low, high))
    return reaches and "not reproduced" in ends


def claimed_text(comparison, value, value_high=math.nan):
    """A claim as the scoreboard prints it: ``~200``, ``>=180``, ``<=0``, ``15..20``."""
    return {"eq": "", "approx": "~", "ge": ">=", "gt": ">", "le": "<=", "range": ""}[comparison] + f"{value:g}" \
        + (f"..{value_high:g}" if comparison == "range" else "")


def spread_text(spread):
    """A headline row's spread as the scoreboard prints it: ``-15.5..0 over 8 RSS seeds x 16, 32, 64
    queues``; "" when it has none."""
    if not spread:
        return ""
    if absent(spread["low"]):
        return f"none over {spread['over']}"
    return f"{_digits(spread['low'], 3)}..{_digits(spread['high'], 3)} over {spread['over']}"
