"""The cost–quality frontier: which (model, prompt version) to choose, by quality and cost
at once.

Every option is a stored run; they are compared on the cases all of them scored (cases
only some have, or that errored somewhere, are reported and left out). An option is on
the *Pareto frontier* when no other option is both strictly cheaper per case and not
worse, "not worse" meaning the paired test on the common cases (exact McNemar on
pass/fail) does not find it significantly worse. The answer also names the cheapest
option whose pass rate is within ``margin`` of the best one's.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from llmlab._errors import InputError
from llmlab._json import JsonObject
from llmlab.evals._history import resolve_run
from llmlab.evals._paired import mcnemar_exact
from llmlab.evals._stats import Interval, reduce_epochs, wilson_interval
from llmlab.pricing import plain_decimal
from llmlab.store import (
    EvalResultRow,
    EvalRunRow,
    Store,
    get_eval_results,
    resolve_store,
    runs_of_suite,
)

__all__ = ["Frontier", "FrontierOption", "cost_quality_frontier", "parse_since"]

_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_LONGEST = timedelta(days=100_000)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> timedelta:
    """``"7d"``, ``"12h"``, ``"30m"``, ``"2w"`` as a time span.

    Raises:
        InputError: not a number followed by s, m, h, d or w.
    """
    match = _SINCE.match(text)
    if match is None:
        raise InputError(f"--since {text!r}: expected a span such as 7d, 12h, 30m or 2w")
    try:
        span = timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    except OverflowError:
        span = _LONGEST + _LONGEST
    if span > _LONGEST:  # "now - span" must stay a date
        raise InputError(f"--since {text!r}: too long a span; give at most 100000d")
    return span


@dataclass(frozen=True, slots=True)
class FrontierOption:
    """One (model, prompt version): its quality and cost on the common cases."""

    run_id: str
    model: str
    prompt_version: str
    cases: int
    quality: Interval
    """Pass rate on the common cases, with its Wilson interval."""
    mean_score: float
    cost_per_case: Decimal | None
    """Model plus judge cost per common case; None when some of it is unpriced."""
    model_cost_per_case: Decimal | None
    judge_cost_per_case: Decimal | None
    latency_p50_s: float | None
    latency_p95_s: float | None
    input_tokens_per_case: float
    output_tokens_per_case: float
    on_frontier: bool = False
    dominated_by: str | None = None
    """The run of an option strictly cheaper and not significantly worse."""

    @property
    def label(self) -> str:
        return f"{self.model} @ {self.prompt_version}"

    def to_dict(self) -> JsonObject:
        def money(value: Decimal | None) -> str | None:
            return plain_decimal(value) if value is not None else None

        return {
            "run_id": self.run_id,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "cases": self.cases,
            "pass_rate": self.quality.estimate,
            "pass_rate_ci": [self.quality.low, self.quality.high],
            "mean_score": self.mean_score,
            "cost_per_case": money(self.cost_per_case),
            "model_cost_per_case": money(self.model_cost_per_case),
            "judge_cost_per_case": money(self.judge_cost_per_case),
            "latency_p50_s": self.latency_p50_s,
            "latency_p95_s": self.latency_p95_s,
            "input_tokens_per_case": self.input_tokens_per_case,
            "output_tokens_per_case": self.output_tokens_per_case,
            "on_frontier": self.on_frontier,
            "dominated_by": self.dominated_by,
        }


@dataclass(frozen=True, slots=True)
class Frontier:
    """Options compared on their common cases, the frontier among them, and the choice."""

    options: list[FrontierOption]
    common_cases: int
    not_shared: dict[str, int]
    """Per run: scored cases left out because not every run scored them."""
    margin: float
    alpha: float
    best: str | None
    cheapest_within_margin: str | None
    superseded: list[str] = field(default_factory=list)
    """Older runs of an option that a newer run of the same option replaced."""

    def option(self, run_id: str) -> FrontierOption:
        return next(o for o in self.options if o.run_id == run_id)

    def to_dict(self) -> JsonObject:
        return {
            "common_cases": self.common_cases,
            "cases_not_shared": self.not_shared,
            "margin": self.margin,
            "alpha": self.alpha,
            "best": self.best,
            "cheapest_within_margin": self.cheapest_within_margin,
            "frontier": [o.run_id for o in self.options if o.on_frontier],
            "superseded_runs": self.superseded,
            "options": [o.to_dict() for o in self.options],
        }

    def to_markdown(self) -> str:
        """A Markdown table, frontier options marked, then the choice in words."""
        out = [
            f"Cost–quality frontier on {self.common_cases} common cases "
            f"(paired McNemar at alpha {self.alpha}):",
            "",
            "| option | pass rate [95% CI] | cost/case | p50 s | p95 s | tokens in/out "
            "| frontier |",
            "|---|---|---|---|---|---|---|",
        ]
        for o in self.options:
            cost = (
                f"${plain_decimal(o.cost_per_case)}" if o.cost_per_case is not None else "unpriced"
            )
            p50 = f"{o.latency_p50_s:.3f}" if o.latency_p50_s is not None else "-"
            p95 = f"{o.latency_p95_s:.3f}" if o.latency_p95_s is not None else "-"
            mark = "**yes**" if o.on_frontier else f"no (dominated by `{o.dominated_by}`)"
            out.append(
                f"| `{o.label}` (`{o.run_id}`) | {o.quality.estimate:.1%} "
                f"[{o.quality.low:.1%}–{o.quality.high:.1%}] | {cost} | {p50} | {p95} | "
                f"{o.input_tokens_per_case:.0f}/{o.output_tokens_per_case:.0f} | {mark} |"
            )
        out.append("")
        if self.best is not None:
            out.append(f"Best pass rate: `{self.best}`.")
        if self.cheapest_within_margin is not None:
            out.append(
                f"Cheapest within {self.margin:.1%} of the best: `{self.cheapest_within_margin}`."
            )
        for run_id, n in self.not_shared.items():
            if n:
                out.append(f"{n} case(s) of `{run_id}` not scored by every run: left out.")
        return "\n".join(out) + "\n"


def _prompt_version(run: EvalRunRow) -> str:
    suite = run.suite
    explicit = suite.get("prompt_version") or (suite.get("tags") or {}).get("prompt_version")
    if explicit:
        return str(explicit)
    described = {"prompt": suite.get("prompt"), "system": suite.get("system")}
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class _Outcome:
    score: float
    passed: bool


def _reduce(run: EvalRunRow, results: Sequence[EvalResultRow]) -> dict[str, _Outcome]:
    """Each case's scored trials reduced as the run's summary does (errored trials left
    out; a case with none scored is absent)."""
    trials: dict[str, list[EvalResultRow]] = {}
    for r in results:
        if not r.errored:
            trials.setdefault(r.case_id, []).append(r)
    reducer = str(run.options.get("reducer", "mean"))
    k = run.options.get("k")
    out = {}
    for case, scored in trials.items():
        score, passed = reduce_epochs(
            [r.score or 0.0 for r in scored],
            [r.passed for r in scored],
            reducer,
            threshold=run.threshold,
            k=k,
        )
        out[case] = _Outcome(score, passed)
    return out


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _sum(values: Sequence[Decimal | None]) -> Decimal | None:
    if any(v is None for v in values):
        return None
    return sum((v for v in values if v is not None), Decimal(0))


@dataclass(slots=True)
class _Loaded:
    run: EvalRunRow
    results: list[EvalResultRow]
    outcomes: dict[str, _Outcome]


def _load(db: Store, run: EvalRunRow) -> _Loaded:
    results = get_eval_results(db, run.id, brief=True)
    return _Loaded(run, results, _reduce(run, results))


def _option(loaded: _Loaded, common: set[str]) -> FrontierOption:
    n = len(common)
    kept = [r for r in loaded.results if r.case_id in common]
    passed = sum(loaded.outcomes[c].passed for c in common)
    model_cost = _sum([r.cost for r in kept])
    judge_costs = [r.judge_cost for r in kept if r.judge_cost is not None]
    judge_cost = sum(judge_costs, Decimal(0))
    per = Decimal(n) if n else Decimal(1)
    durations = [r.duration_s for r in kept if r.duration_s is not None]
    return FrontierOption(
        run_id=loaded.run.id,
        model=loaded.run.model,
        prompt_version=_prompt_version(loaded.run),
        cases=n,
        quality=wilson_interval(passed, n),
        mean_score=statistics.fmean(loaded.outcomes[c].score for c in common) if n else 0.0,
        cost_per_case=(model_cost + judge_cost) / per if model_cost is not None else None,
        model_cost_per_case=model_cost / per if model_cost is not None else None,
        judge_cost_per_case=judge_cost / per,
        latency_p50_s=_percentile(durations, 0.5),
        latency_p95_s=_percentile(durations, 0.95),
        input_tokens_per_case=sum(r.input_tokens for r in kept) / n if n else 0.0,
        output_tokens_per_case=sum(r.output_tokens for r in kept) / n if n else 0.0,
    )


def _significantly_worse(a: _Loaded, b: _Loaded, common: Sequence[str], alpha: float) -> bool:
    """True when ``a`` passes significantly fewer common cases than ``b`` (exact McNemar)."""
    a_only = sum(a.outcomes[c].passed and not b.outcomes[c].passed for c in common)
    b_only = sum(b.outcomes[c].passed and not a.outcomes[c].passed for c in common)
    return b_only > a_only and mcnemar_exact(a_only, b_only) < alpha


def _runs(
    db: Store, refs: Sequence[str], suite: str | None, since: str | timedelta | None
) -> list[EvalRunRow]:
    if refs and suite:
        raise InputError("give runs or --suite, not both")
    if refs:
        return [resolve_run(ref, store=db) for ref in refs]
    if not suite:
        raise InputError("give the runs to compare, or --suite NAME [--since 7d]")
    span = parse_since(since) if isinstance(since, str) else since
    found = runs_of_suite(db, suite, since=datetime.now(UTC) - span if span else None)
    if not found:
        window = f" in the last {since}" if since else ""
        raise InputError(f"no finished runs of suite {suite!r}{window}")
    return found


def _newest_per_option(runs: Sequence[EvalRunRow]) -> tuple[list[EvalRunRow], list[str]]:
    newest: dict[tuple[str, str], EvalRunRow] = {}
    superseded: list[str] = []
    for run in sorted(runs, key=lambda r: r.started_at, reverse=True):
        key = (run.model, _prompt_version(run))
        if key in newest:
            if run.id != newest[key].id:
                superseded.append(run.id)
            continue
        newest[key] = run
    return list(newest.values()), superseded


def cost_quality_frontier(
    runs: Sequence[str] = (),
    *,
    suite: str | None = None,
    since: str | timedelta | None = None,
    margin: float = 0.02,
    alpha: float = 0.05,
    store: Store | None = None,
) -> Frontier:
    """The cost–quality frontier of ``runs`` (ids, prefixes or ``latest``), or of the
    finished runs of ``suite`` started within ``since`` (``"7d"``); the newest run of
    each (model, prompt version) stands for it.

    Raises:
        InputError: no runs, or they share no scored case.
    """
    if not 0 <= margin < 1:
        raise InputError(f"--margin {margin}: expected a share in [0, 1), e.g. 0.02")
    db = resolve_store(store)
    chosen, superseded = _newest_per_option(_runs(db, runs, suite, since))
    loaded = [_load(db, run) for run in chosen]
    common = set.intersection(*(set(x.outcomes) for x in loaded))
    if not common:
        raise InputError(
            "the runs share no scored case: compare runs of the same suite "
            f"({', '.join(x.run.id for x in loaded)})"
        )
    ordered = sorted(common)
    options = {x.run.id: _option(x, common) for x in loaded}
    by_id = {x.run.id: x for x in loaded}
    final: list[FrontierOption] = []
    for option in options.values():
        dominator = None
        if option.cost_per_case is not None:
            for other in sorted(
                options.values(), key=lambda o: (o.cost_per_case or Decimal(0), -o.quality.estimate)
            ):
                if (
                    other.run_id != option.run_id
                    and other.cost_per_case is not None
                    and other.cost_per_case < option.cost_per_case
                    and not _significantly_worse(
                        by_id[other.run_id], by_id[option.run_id], ordered, alpha
                    )
                ):
                    dominator = other.run_id
                    break
        final.append(
            replace(
                option,
                on_frontier=dominator is None and option.cost_per_case is not None,
                dominated_by=dominator,
            )
        )
    final.sort(key=lambda o: (o.cost_per_case is None, o.cost_per_case or 0, -o.quality.estimate))
    best = max(final, key=lambda o: (o.quality.estimate, -(o.cost_per_case or 0)))
    within = [
        o
        for o in final
        if o.cost_per_case is not None and o.quality.estimate >= best.quality.estimate - margin
    ]
    cheapest = min(within, key=lambda o: o.cost_per_case or 0) if within else None
    return Frontier(
        options=final,
        common_cases=len(common),
        not_shared={x.run.id: len(set(x.outcomes) - common) for x in loaded},
        margin=margin,
        alpha=alpha,
        best=best.run_id,
        cheapest_within_margin=cheapest.run_id if cheapest else None,
        superseded=superseded,
    )
