"""Lab 11: the tool's recomputation with llmlab's judge-calibration statistics."""

from __future__ import annotations

import csv
from pathlib import Path

from llmlab.evals import Confusion, agreement, corrected_pass_rate

_DATA = Path(__file__).parent.parent / "starter" / "judgements.csv"
RUN_PASSED, RUN_N = 150, 200  # the judge's verdicts on the new run (in the brief)


def expected(lab_dir: Path) -> dict[str, object]:
    with _DATA.open(newline="") as f:
        rows = list(csv.DictReader(f))
    human = [r["human"] == "1" for r in rows]
    judge = [r["judge"] == "1" for r in rows]
    found = agreement(human, judge)
    c: Confusion = found.confusion
    assert found.tpr is not None and found.tnr is not None and found.kappa is not None
    corrected = corrected_pass_rate(RUN_PASSED, RUN_N, c)
    return {
        "tp": c.tp,
        "fn": c.fn,
        "fp": c.fp,
        "tn": c.tn,
        "tpr": found.tpr.estimate,
        "tnr": found.tnr.estimate,
        "kappa": found.kappa.estimate,
        "raw_pass_rate": RUN_PASSED / RUN_N,
        "corrected_pass_rate": corrected.estimate,
        "corrected_low": corrected.low,
        "corrected_high": corrected.high,
    }
