"""Offline A/B: two prompt versions through the same eval suite, compared case by case.

Both versions run through ``llmlab.evals``' runner on the same cases (each run is
resumable, and its calls carry the prompt version); the verdict is ``evals``' paired
comparison (McNemar on pass/fail, paired bootstrap on scores, Holm-corrected). Token,
cost and latency differences are paired per case too, with bootstrap intervals. A label
moves only when B is significantly better and within the cost and latency budgets.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from llmlab._errors import InputError
from llmlab._json import JsonObject
from llmlab.evals import (
    Comparison,
    EvalCase,
    EvalRun,
    EvalSuite,
    Interval,
    Progress,
    compare_runs,
    paired_bootstrap,
    run_eval,
)
from llmlab.models import Request, call_links
from llmlab.prompts._registry import LabelMove, PromptRegistry, prompt_registry
from llmlab.prompts._version import PromptVersion
from llmlab.store import Store, get_eval_results

__all__ = ["ABComparison", "MetricDelta", "compare_prompt_versions"]

_METRICS = ("input_tokens", "output_tokens", "cost", "duration_s")


class _VersionSuite(EvalSuite):
    """A suite whose requests come from one prompt version instead of its own prompt."""

    def __init__(self, base: EvalSuite, version: PromptVersion) -> None:
        # share the loaded cases and scorers of the base suite (nothing is re-read)
        self.__dict__.update(base.__dict__)
        self.version = version
        ref = f"{version.name}:{version.version}#{version.version_hash}"
        self.spec = {**(base.spec or {"name": base.name}), "prompt": ref}
        self.name = f"{base.name}.{version.name}-v{version.version}"
        self._requests: dict[str, Request] = {}

    def request(self, case: EvalCase) -> Request:
        known = self.version.referenced_variables
        values = {k: v for k, v in case.variables().items() if k in known}
        base = self.version.to_request(tags={"eval": self.name, **self.tags}, **values)
        options = {k: v for k, v in self.request_options.items() if getattr(base, k) is None}
        return base.model_copy(update=options) if options else base

    def render(self, case: EvalCase) -> tuple[str, str | None]:
        # The runner renders each case once and builds its request per trial from the
        # rendered text; a version may be chat messages, so keep the whole request.
        request = self.request(case)
        text = "\n\n".join(f"[{m.role}] {m.content}" for m in request.messages)
        self._requests[text] = request
        return text, None

    def request_for(self, prompt: str, system: str | None) -> Request:
        return self._requests[prompt]


@dataclass(frozen=True, slots=True)
class MetricDelta:
    """Mean per case of a metric for A and B, and the paired difference B - A."""

    metric: str
    a: float
    b: float
    difference: Interval

    @property
    def relative(self) -> float:
        """(B - A) / A; 0 when both are 0, infinite when only A is 0."""
        if self.a == 0:
            return 0.0 if self.b == 0 else float("inf")
        return (self.b - self.a) / self.a

    def to_dict(self) -> JsonObject:
        """JSON-ready form."""
        d = self.difference
        return {
            "a": self.a,
            "b": self.b,
            "difference": d.estimate,
            "difference_ci": [d.low, d.high],
            "relative": None if self.relative == float("inf") else self.relative,
        }


@dataclass(frozen=True, slots=True)
class ABComparison:
    """The outcome of ``compare_prompt_versions``."""

    name: str
    a: PromptVersion
    b: PromptVersion
    run_a: EvalRun
    run_b: EvalRun
    comparison: Comparison
    deltas: dict[str, MetricDelta]
    b_better: bool
    b_worse: bool
    gate_passed: bool
    """B is significantly better and within the budgets."""
    gate: str
    """Why the label did (or would) move or not, in words."""
    promoted: LabelMove | None = None

    @property
    def verdict(self) -> str:
        return self.comparison.verdict()

    def to_dict(self) -> JsonObject:
        """JSON-ready form (the comparison as ``Comparison.to_dict``)."""
        return {
            "prompt": self.name,
            "a": {"version": self.a.version, "hash": self.a.version_hash, "run": self.run_a.id},
            "b": {"version": self.b.version, "hash": self.b.version_hash, "run": self.run_b.id},
            "verdict": self.verdict,
            "b_better": self.b_better,
            "b_worse": self.b_worse,
            "comparison": self.comparison.to_dict(),
            "deltas": {k: v.to_dict() for k, v in self.deltas.items()},
            "gate_passed": self.gate_passed,
            "gate": self.gate,
            "promoted": None
            if self.promoted is None
            else {"label": self.promoted.label, "to_version": self.promoted.to_version},
        }


def _per_case(store: Store, run_id: str) -> dict[str, dict[str, float]]:
    """Mean of each metric per case over its epochs (errored trials count as measured)."""
    rows = get_eval_results(store, run_id)
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        for metric in _METRICS:
            value = getattr(row, metric)
            if value is not None:
                sums[row.case_id][metric].append(float(value))
    return {
        case: {m: statistics.fmean(v) for m, v in metrics.items() if v}
        for case, metrics in sums.items()
    }


def _deltas(store: Store, run_a: str, run_b: str) -> dict[str, MetricDelta]:
    a, b = _per_case(store, run_a), _per_case(store, run_b)
    out: dict[str, MetricDelta] = {}
    for metric in _METRICS:
        common = sorted(c for c in a.keys() & b.keys() if metric in a[c] and metric in b[c])
        if not common:
            continue
        xs = [a[c][metric] for c in common]
        ys = [b[c][metric] for c in common]
        interval, _ = paired_bootstrap(xs, ys)
        out[metric] = MetricDelta(metric, statistics.fmean(xs), statistics.fmean(ys), interval)
    return out


def _gate(
    better: bool,
    worse: bool,
    deltas: Mapping[str, MetricDelta],
    max_cost_increase: float | None,
    max_latency_increase: float | None,
) -> tuple[bool, str]:
    if worse:
        return False, "B is significantly worse"
    if not better:
        return False, "B is not significantly better"
    for metric, limit, what in (
        ("cost", max_cost_increase, "cost"),
        ("duration_s", max_latency_increase, "latency"),
    ):
        delta = deltas.get(metric)
        if limit is None or delta is None:
            continue
        if delta.relative > limit:
            return False, (
                f"B is better but its {what} rises {delta.relative:+.1%} per case, "
                f"over the allowed {limit:+.1%}"
            )
    return True, "B is significantly better and within budget"


async def compare_prompt_versions(
    name: str,
    a: int | str,
    b: int | str,
    suite: EvalSuite,
    *,
    epochs: int | None = None,
    model: str | None = None,
    promote: str | None = None,
    max_cost_increase: float | None = None,
    max_latency_increase: float | None = None,
    concurrency: int = 10,
    cache: bool = False,
    store: Store | None = None,
    registry: PromptRegistry | None = None,
    progress: Callable[[str, Progress], None] | None = None,
) -> ABComparison:
    """Run versions ``a`` and ``b`` of prompt ``name`` on ``suite``'s cases and compare.

    ``promote``: move this label to B only if B is significantly better (the paired
    verdict: pass rate, McNemar, Holm-corrected), not significantly worse on the mean
    score, and not over ``max_cost_increase`` / ``max_latency_increase`` (relative
    increases per case: 0.1 = +10%).

    ``cache`` is off by default: answers replayed from the response cache cost nothing
    and take no time, so cost and latency deltas would compare a measurement with a
    replay.

    ``store`` holds the prompt and receives the runs (default: ``registry``'s store, else
    the default handle).
    """
    reg = registry or prompt_registry(store=store)
    handle = reg.store if store is None else store
    va, vb = reg.resolve_version(name, a), reg.resolve_version(name, b)
    if va.version_hash == vb.version_hash:
        raise InputError(f"{name}: A and B are the same version ({va.version}); pick two")
    runs: list[EvalRun] = []
    for version in (va, vb):
        version_suite = _VersionSuite(suite, version)
        report: Callable[[Progress], None] | None = None
        if progress is not None:
            label = f"{name}:{version.version}"

            def report(p: Progress, label: str = label) -> None:
                progress(label, p)

        with call_links(
            prompt_name=version.name,
            prompt_version=version.version,
            prompt_hash=version.version_hash,
        ):
            runs.append(
                await run_eval(
                    version_suite,
                    model=model or version.config.model or suite.model,
                    epochs=epochs,
                    store=handle,
                    concurrency=concurrency,
                    cache=cache,
                    progress=report,
                )
            )
    comparison = compare_runs(runs[0].id, runs[1].id, store=handle)
    # "better" is the verdict evals prints (its primary test: pass rate, McNemar), so the
    # gate never promotes while the verdict says "no detectable difference"; a
    # significant drop in the mean score blocks promotion too.
    primary = comparison.primary
    better = primary.significant and primary.difference.estimate > 0
    worse = any(
        t.significant and t.difference.estimate < 0
        for t in comparison.tests
        if t.metric in ("pass rate", "score")
    )
    deltas = _deltas(handle, runs[0].id, runs[1].id)
    ok, gate = _gate(better, worse, deltas, max_cost_increase, max_latency_increase)
    moved = None
    if promote is not None:
        if ok:
            moved = reg.set_label(name, promote, vb.version or 0)
            gate += f"; {promote} -> {name}:{vb.version}" if moved else f"; {promote} already there"
        else:
            gate += f"; {promote} not moved"
    return ABComparison(
        name, va, vb, runs[0], runs[1], comparison, deltas, better, worse, ok, gate, moved
    )
