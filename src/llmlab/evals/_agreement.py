"""How far to trust a judge: agreement with human labels, and a pass rate corrected for
the judge's errors.

A judge (a model-graded scorer, or any scorer) is a noisy classifier of "pass". Against
human labels it has a confusion matrix (positive = pass)::

                    judge pass   judge fail
    human pass          TP           FN        TPR = TP / (TP + FN)   (sensitivity)
    human fail          FP           TN        TNR = TN / (TN + FP)   (specificity)

When the judge passes a share ``p`` of outputs no human looked at, the true pass rate is
estimated by Rogan and Gladen (1978): ``(p + TNR - 1) / (TPR + TNR - 1)``, defined only
when TPR + TNR > 1 (a judge at or below that is no better than a coin). Its interval
comes from a parametric bootstrap that redraws ``p``, TPR and TNR from their binomials,
so it carries the uncertainty of the calibration as well as of the run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from llmlab._errors import InputError
from llmlab._json import JsonObject
from llmlab.evals._stats import Interval, wilson_interval, z_value

__all__ = [
    "MIN_LABELS_PER_CLASS",
    "Agreement",
    "CalibrationError",
    "Confusion",
    "CorrectedRate",
    "agreement",
    "cohens_kappa",
    "corrected_pass_rate",
    "rogan_gladen",
]

MIN_LABELS_PER_CLASS = 5
"""Human passes and human fails each needed before TPR and TNR mean anything."""


class CalibrationError(InputError):
    """The labels cannot vouch for the judge: too few of them, or a judge no better than
    chance (TPR + TNR <= 1)."""


@dataclass(frozen=True, slots=True)
class Confusion:
    """Human labels (truth) against a judge's verdicts; positive = pass."""

    tp: int
    fn: int
    fp: int
    tn: int

    @classmethod
    def of(cls, human: Sequence[bool], judge: Sequence[bool]) -> Confusion:
        """Count paired verdicts (``human[i]`` and ``judge[i]`` judge the same output)."""
        if len(human) != len(judge):
            raise ValueError("human and judge verdicts must pair up")
        pairs = list(zip(human, judge, strict=True))
        return cls(
            tp=sum(h and j for h, j in pairs),
            fn=sum(h and not j for h, j in pairs),
            fp=sum(j and not h for h, j in pairs),
            tn=sum(not h and not j for h, j in pairs),
        )

    @property
    def n(self) -> int:
        return self.tp + self.fn + self.fp + self.tn

    @property
    def human_pass(self) -> int:
        return self.tp + self.fn

    @property
    def human_fail(self) -> int:
        return self.tn + self.fp

    def to_dict(self) -> dict[str, int]:
        return {"tp": self.tp, "fn": self.fn, "fp": self.fp, "tn": self.tn}


def cohens_kappa(c: Confusion, confidence: float = 0.95) -> Interval | None:
    """Cohen's kappa with its large-sample interval (Cohen, 1960):
    ``SE = sqrt(po (1 - po) / (n (1 - pe)^2))``; None when chance agreement is certain
    (both raters gave one verdict only)."""
    n = c.n
    if n == 0:
        return None
    po = (c.tp + c.tn) / n
    pe = (c.human_pass * (c.tp + c.fp) + c.human_fail * (c.fn + c.tn)) / (n * n)
    if pe >= 1.0:
        return None
    kappa = (po - pe) / (1 - pe)
    se = math.sqrt(po * (1 - po) / (n * (1 - pe) ** 2))
    z = z_value(confidence)
    return Interval(kappa, max(-1.0, kappa - z * se), min(1.0, kappa + z * se), confidence)


def _share(k: int, n: int, confidence: float) -> Interval | None:
    return wilson_interval(k, n, confidence) if n else None


@dataclass(frozen=True, slots=True)
class Agreement:
    """A judge against human labels: the confusion matrix and what follows from it
    (proportions with Wilson intervals; None where the denominator is 0)."""

    confusion: Confusion
    tpr: Interval | None
    tnr: Interval | None
    precision: Interval | None
    accuracy: Interval | None
    kappa: Interval | None

    def to_dict(self) -> JsonObject:
        def figure(value: Interval | None) -> dict[str, float] | None:
            if value is None:
                return None
            return {"estimate": value.estimate, "low": value.low, "high": value.high}

        return {
            "n": self.confusion.n,
            "confusion": self.confusion.to_dict(),
            "tpr": figure(self.tpr),
            "tnr": figure(self.tnr),
            "precision": figure(self.precision),
            "accuracy": figure(self.accuracy),
            "kappa": figure(self.kappa),
        }


def agreement(
    human: Sequence[bool] | Confusion, judge: Sequence[bool] = (), confidence: float = 0.95
) -> Agreement:
    """Agreement of a judge's verdicts with human labels (or of a confusion matrix)."""
    c = human if isinstance(human, Confusion) else Confusion.of(human, judge)
    return Agreement(
        confusion=c,
        tpr=_share(c.tp, c.human_pass, confidence),
        tnr=_share(c.tn, c.human_fail, confidence),
        precision=_share(c.tp, c.tp + c.fp, confidence),
        accuracy=_share(c.tp + c.tn, c.n, confidence),
        kappa=cohens_kappa(c, confidence),
    )


def rogan_gladen(observed: float, tpr: float, tnr: float) -> float:
    """The true pass rate behind an observed one, unclipped: (p + TNR - 1) / (TPR + TNR - 1).

    Raises:
        CalibrationError: TPR + TNR <= 1.
    """
    youden = tpr + tnr - 1
    if youden <= 0:
        raise CalibrationError(
            f"the judge is no better than chance (TPR {tpr:.2f} + TNR {tnr:.2f} <= 1): its "
            "pass rate cannot be corrected; fix the rubric or the judge model, then label again"
        )
    return (observed + tnr - 1) / youden


@dataclass(frozen=True, slots=True)
class CorrectedRate:
    """A judge's observed pass rate, corrected for its errors (Rogan–Gladen)."""

    observed: float
    n: int
    estimate: float
    """Clipped to [0, 1] (a raw value outside says the calibration and the run disagree)."""
    raw: float
    low: float
    high: float
    tpr: float
    tnr: float
    confidence: float = 0.95
    dropped: float = 0.0
    """Share of bootstrap draws where TPR + TNR <= 1 (left out of the interval)."""

    def to_dict(self) -> dict[str, float | int]:
        return {
            "observed": self.observed,
            "n": self.n,
            "estimate": self.estimate,
            "raw": self.raw,
            "low": self.low,
            "high": self.high,
            "tpr": self.tpr,
            "tnr": self.tnr,
            "confidence": self.confidence,
            "dropped_draws": self.dropped,
        }


def corrected_pass_rate(
    judge_passed: int,
    n: int,
    calibration: Confusion,
    *,
    confidence: float = 0.95,
    resamples: int = 4000,
    seed: int = 0,
    min_per_class: int = MIN_LABELS_PER_CLASS,
) -> CorrectedRate:
    """The pass rate behind ``judge_passed`` of ``n`` judge verdicts, given the judge's
    confusion matrix against human labels, with a parametric bootstrap interval.

    Each draw redraws the observed rate ~ Binomial(n, p)/n, TPR ~ Binomial(TP + FN, TPR)
    / (TP + FN) and TNR ~ Binomial(TN + FP, TNR) / (TN + FP), corrects, and clips to
    [0, 1]; draws with TPR + TNR <= 1 are left out (``dropped`` says how many).

    Raises:
        CalibrationError: fewer than ``min_per_class`` human passes or fails, no verdicts
            to correct, or a judge no better than chance.
    """
    c = calibration
    if c.human_pass < min_per_class or c.human_fail < min_per_class:
        raise CalibrationError(
            f"too few labels: {c.human_pass} human pass(es) and {c.human_fail} fail(s); TPR "
            f"and TNR need at least {min_per_class} of each (label more results)"
        )
    if n <= 0:
        raise CalibrationError("no judge verdicts to correct")
    if not 0 <= judge_passed <= n:
        raise ValueError(f"judge_passed must lie in [0, {n}], not {judge_passed}")
    p = judge_passed / n
    tpr = c.tp / c.human_pass
    tnr = c.tn / c.human_fail
    raw = rogan_gladen(p, tpr, tnr)
    rng = np.random.default_rng(seed)
    p_star = rng.binomial(n, p, resamples) / n
    tpr_star = rng.binomial(c.human_pass, tpr, resamples) / c.human_pass
    tnr_star = rng.binomial(c.human_fail, tnr, resamples) / c.human_fail
    youden = tpr_star + tnr_star - 1
    usable = youden > 0
    corrected = np.clip((p_star[usable] + tnr_star[usable] - 1) / youden[usable], 0.0, 1.0)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(corrected, [alpha, 1 - alpha])
    estimate = min(1.0, max(0.0, raw))
    return CorrectedRate(
        observed=p,
        n=n,
        estimate=estimate,
        raw=raw,
        low=min(float(low), estimate),
        high=max(float(high), estimate),
        tpr=tpr,
        tnr=tnr,
        confidence=confidence,
        dropped=float(1 - usable.mean()),
    )
