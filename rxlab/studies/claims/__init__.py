"""The claims scoreboard: every row of ``data/claims.csv`` evaluated with rxlab's model.

* :mod:`.verdicts`: the verdict rules and how the scoreboard prints a value and its band;
* :mod:`.evaluators`: one evaluator per claim, and :func:`evaluate_claims`, the scoreboard;
* :mod:`.marks`: the claims a sweep figure draws (:func:`claim_marks`).

The seed studies the evaluators and notebooks share (seed 001's table, seed 000's gain across
releases) are :mod:`rxlab.studies.seeds`.
"""

from rxlab.data import load_claims
from rxlab.studies.claims.evaluators import EVALUATORS, evaluate_claims
from rxlab.studies.claims.marks import PANEL_AXES, ClaimMark, claim_marks
from rxlab.studies.claims.verdicts import (
    VERDICTS,
    band_text,
    claimed_text,
    model_text,
    states_value,
    verdict,
    verdict_slug,
)
from rxlab.studies.seeds import FULL_PACKETS, QUICK_PACKETS

__all__ = ["EVALUATORS", "FULL_PACKETS", "PANEL_AXES", "QUICK_PACKETS", "VERDICTS", "ClaimMark", "band_text",
           "claim_marks", "claimed_text", "evaluate_claims", "load_claims", "model_text", "states_value",
           "verdict", "verdict_slug"]
