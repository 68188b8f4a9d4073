"""A run's summary as a typed object: what the runner stores and every report reads.

The stored form is a JSON document (``RunSummary.to_dict()``, version
:data:`SUMMARY_VERSION`); :meth:`RunSummary.from_dict` reads it back, filling what an
older document lacks with the values the reports always assumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from llmlab._json import JsonObject, JsonValue

__all__ = [
    "SUMMARY_VERSION",
    "ErrorCounts",
    "JudgeStatus",
    "JudgeTotals",
    "Latency",
    "Rate",
    "RunSummary",
    "TrialStats",
    "run_summary",
]

SUMMARY_VERSION = 1

_NO_OBJECT: Mapping[str, JsonValue] = {}


def _obj(data: Mapping[str, JsonValue], key: str) -> Mapping[str, JsonValue]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else _NO_OBJECT


def _opt_float(data: Mapping[str, JsonValue], key: str) -> float | None:
    value = data.get(key)
    return float(value) if isinstance(value, int | float) else None


def _float(data: Mapping[str, JsonValue], key: str, default: float = 0.0) -> float:
    value = _opt_float(data, key)
    return default if value is None else value


def _opt_int(data: Mapping[str, JsonValue], key: str) -> int | None:
    value = data.get(key)
    return int(value) if isinstance(value, int | float) else None


def _int(data: Mapping[str, JsonValue], key: str, default: int = 0) -> int:
    value = _opt_int(data, key)
    return default if value is None else value


def _opt_str(data: Mapping[str, JsonValue], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def _bool(data: Mapping[str, JsonValue], key: str, default: bool) -> bool:
    value = data.get(key)
    return bool(value) if value is not None else default


def _pair(data: Mapping[str, JsonValue], key: str) -> tuple[float, float]:
    value = data.get(key)
    if isinstance(value, list | tuple) and len(value) == 2:
        low, high = value
        if isinstance(low, int | float) and isinstance(high, int | float):
            return float(low), float(high)
    return 0.0, 0.0


@dataclass(frozen=True, slots=True)
class Rate:
    """A pass rate with its 95% Wilson interval."""

    n: int
    passed: int
    pass_rate: float
    ci: tuple[float, float]

    def to_dict(self) -> JsonObject:
        ci = list(self.ci)
        return {"n": self.n, "passed": self.passed, "pass_rate": self.pass_rate, "ci": ci}

    @classmethod
    def from_dict(cls, data: Mapping[str, JsonValue]) -> Rate:
        return cls(
            n=_int(data, "n"),
            passed=_int(data, "passed"),
            pass_rate=_float(data, "pass_rate"),
            ci=_pair(data, "ci"),
        )


@dataclass(frozen=True, slots=True)
class TrialStats:
    """How the trials of each case agreed (epochs > 1), and pass@k / pass^k."""

    epochs: int = 1
    consistency: float = 1.0
    mean_flip_rate: float = 0.0
    pass_k: Mapping[str, float] = field(default_factory=dict)
    """``pass@K`` and ``pass^K`` by name, when there is more than one epoch."""

    def to_dict(self) -> JsonObject:
        out: JsonObject = {
            "epochs": self.epochs,
            "consistency": self.consistency,
            "mean_flip_rate": self.mean_flip_rate,
        }
        out.update(self.pass_k)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, JsonValue]) -> TrialStats:
        return cls(
            epochs=_int(data, "epochs", 1),
            consistency=_float(data, "consistency", 1.0),
            mean_flip_rate=_float(data, "mean_flip_rate"),
            pass_k={
                k: float(v)
                for k, v in data.items()
                if k.startswith(("pass@", "pass^")) and isinstance(v, int | float)
            },
        )


@dataclass(frozen=True, slots=True)
class ErrorCounts:
    """Errored results, and the ten most common error messages with their counts."""

    results: int = 0
    kinds: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> JsonObject:
        return {"results": self.results, "kinds": dict(self.kinds)}

    @classmethod
    def from_dict(cls, data: Mapping[str, JsonValue]) -> ErrorCounts:
        kinds = _obj(data, "kinds")
        return cls(
            results=_int(data, "results"),
            kinds={k: int(v) for k, v in kinds.items() if isinstance(v, int | float)},
        )


@dataclass(frozen=True, slots=True)
class JudgeTotals:
    """The calls of the run's model-graded scorers: count, tokens, cost (exact text)."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: str | None = None
    unpriced_results: int = 0

    def to_dict(self) -> JsonObject:
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost": self.cost,
            "unpriced_results": self.unpriced_results,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JsonValue]) -> JudgeTotals:
        return cls(
            calls=_int(data, "calls"),
            input_tokens=_int(data, "input_tokens"),
            output_tokens=_int(data, "output_tokens"),
            cost=_opt_str(data, "cost"),
            unpriced_results=_int(data, "unpriced_results"),
        )


@dataclass(frozen=True, slots=True)
class Latency:
    """Seconds per result (None: no result was timed)."""

    mean: float | None = None
    p50: float | None = None
    p95: float | None = None

    def to_dict(self) -> JsonObject:
        return {"mean": self.mean, "p50": self.p50, "p95": self.p95}

    @classmethod
    def from_dict(cls, data: Mapping[str, JsonValue]) -> Latency:
        return cls(
            mean=_opt_float(data, "mean"),
            p50=_opt_float(data, "p50"),
            p95=_opt_float(data, "p95"),
        )


@dataclass(frozen=True, slots=True)
class JudgeStatus:
    """A model-graded scorer's judge and its newest calibration against human labels."""

    model: str
    key: str | None = None
    calibrated: bool = False
    labels: int | None = None
    tpr: float | None = None
    tnr: float | None = None
    accuracy: float | None = None
    kappa: float | None = None
    calibrated_on: str | None = None
    """The run whose labels measured it."""

    def to_dict(self) -> JsonObject:
        out: JsonObject = {"model": self.model, "key": self.key, "calibrated": self.calibrated}
        if self.calibrated:
            out.update(
                labels=self.labels,
                tpr=self.tpr,
                tnr=self.tnr,
                accuracy=self.accuracy,
                kappa=self.kappa,
                calibrated_on=self.calibrated_on,
            )
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, JsonValue]) -> JudgeStatus:
        return cls(
            model=str(data.get("model")),
            key=_opt_str(data, "key"),
            calibrated=_bool(data, "calibrated", False),
            labels=_opt_int(data, "labels"),
            tpr=_opt_float(data, "tpr"),
            tnr=_opt_float(data, "tnr"),
            accuracy=_opt_float(data, "accuracy"),
            kappa=_opt_float(data, "kappa"),
            calibrated_on=_opt_str(data, "calibrated_on"),
        )


@dataclass(frozen=True, slots=True)
class RunSummary:
    """Everything a report shows about a run (pass rate over scored cases, intervals,
    trials, tags, errors, cost, latency, judges).

    An errored result is not a fail: ``pass_rate`` and ``mean_score`` are over the
    ``scored_cases``; ``errored_cases`` are counted apart, and ``threshold_met`` also
    needs ``errors_within_limit``. Money is exact decimal text (None: nothing priced).
    """

    cases: int
    scored_cases: int
    results: int
    passed: int
    pass_rate: float
    threshold_met: bool
    version: int = SUMMARY_VERSION
    expected_results: int | None = None
    complete: bool = False
    failed: int = 0
    errored_cases: int = 0
    errored_results: int = 0
    max_errors: int = 0
    errors_within_limit: bool = True
    pass_rate_ci: tuple[float, float] = (0.0, 0.0)
    threshold: float = 0.7
    min_pass_rate: float = 1.0
    reducer: str = "mean"
    mean_score: float = 0.0
    mean_score_ci: tuple[float, float] = (0.0, 0.0)
    weighted_mean_score: float = 0.0
    standard_error: float = 0.0
    scorers: Mapping[str, float] = field(default_factory=dict)
    """Each scorer's mean over the scored cases (several when the scorer is combined)."""
    tags: Mapping[str, Rate] = field(default_factory=dict)
    trials: TrialStats = field(default_factory=TrialStats)
    errors: ErrorCounts = field(default_factory=ErrorCounts)
    cost: str | None = None
    unpriced_results: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_hits: int = 0
    judge: JudgeTotals = field(default_factory=JudgeTotals)
    latency_s: Latency = field(default_factory=Latency)
    judges: Mapping[str, JudgeStatus] | None = None
    """The model-graded scorers' judges (None: the runner did not add them)."""

    def to_dict(self) -> JsonObject:
        """The stored JSON document (keys in the order reports and ``--json`` show)."""
        out: JsonObject = {
            "version": self.version,
            "cases": self.cases,
            "scored_cases": self.scored_cases,
            "results": self.results,
            "expected_results": self.expected_results,
            "complete": self.complete,
            "passed": self.passed,
            "failed": self.failed,
            "errored_cases": self.errored_cases,
            "errored_results": self.errored_results,
            "max_errors": self.max_errors,
            "errors_within_limit": self.errors_within_limit,
            "pass_rate": self.pass_rate,
            "pass_rate_ci": list(self.pass_rate_ci),
            "threshold": self.threshold,
            "min_pass_rate": self.min_pass_rate,
            "threshold_met": self.threshold_met,
            "reducer": self.reducer,
            "mean_score": self.mean_score,
            "mean_score_ci": list(self.mean_score_ci),
            "weighted_mean_score": self.weighted_mean_score,
            "standard_error": self.standard_error,
            "scorers": dict(self.scorers),
            "tags": {tag: rate.to_dict() for tag, rate in self.tags.items()},
            "trials": self.trials.to_dict(),
            "errors": self.errors.to_dict(),
            "cost": self.cost,
            "unpriced_results": self.unpriced_results,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_hits": self.cache_hits,
            "judge": self.judge.to_dict(),
            "latency_s": self.latency_s.to_dict(),
        }
        if self.judges is not None:
            out["judges"] = {name: j.to_dict() for name, j in self.judges.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, JsonValue]) -> RunSummary:
        """A stored summary; what an older document lacks takes its default."""
        cases = _int(data, "cases")
        errored = _int(data, "errored_results")
        judges = data.get("judges")
        tags = _obj(data, "tags")
        return cls(
            version=_int(data, "version", SUMMARY_VERSION),
            cases=cases,
            scored_cases=_int(data, "scored_cases", cases),
            results=_int(data, "results"),
            expected_results=_opt_int(data, "expected_results"),
            complete=_bool(data, "complete", False),
            passed=_int(data, "passed"),
            failed=_int(data, "failed"),
            errored_cases=_int(data, "errored_cases"),
            errored_results=errored,
            max_errors=_int(data, "max_errors", errored),
            errors_within_limit=_bool(data, "errors_within_limit", True),
            pass_rate=_float(data, "pass_rate"),
            pass_rate_ci=_pair(data, "pass_rate_ci"),
            threshold=_float(data, "threshold", 0.7),
            min_pass_rate=_float(data, "min_pass_rate", 1.0),
            threshold_met=_bool(data, "threshold_met", False),
            reducer=str(data.get("reducer") or "mean"),
            mean_score=_float(data, "mean_score"),
            mean_score_ci=_pair(data, "mean_score_ci"),
            weighted_mean_score=_float(data, "weighted_mean_score"),
            standard_error=_float(data, "standard_error"),
            scorers={
                k: float(v) for k, v in _obj(data, "scorers").items() if isinstance(v, int | float)
            },
            tags={k: Rate.from_dict(v) for k, v in tags.items() if isinstance(v, Mapping)},
            trials=TrialStats.from_dict(_obj(data, "trials")),
            errors=ErrorCounts.from_dict(_obj(data, "errors")),
            cost=_opt_str(data, "cost"),
            unpriced_results=_int(data, "unpriced_results"),
            input_tokens=_int(data, "input_tokens"),
            output_tokens=_int(data, "output_tokens"),
            cache_hits=_int(data, "cache_hits"),
            judge=JudgeTotals.from_dict(_obj(data, "judge")),
            latency_s=Latency.from_dict(_obj(data, "latency_s")),
            judges=(
                {k: JudgeStatus.from_dict(v) for k, v in judges.items() if isinstance(v, Mapping)}
                if isinstance(judges, Mapping)
                else None
            ),
        )


def run_summary(data: Mapping[str, JsonValue] | None) -> RunSummary | None:
    """A stored summary document as a :class:`RunSummary` (None: the run has none yet)."""
    return RunSummary.from_dict(data) if data else None
