"""The dashboard's calls into the library packages (evals, prompts, monitor).

Every figure the dashboard shows that involves statistics is computed by these packages,
exactly as the CLI computes it; this module only calls them with the app's store and turns
their results into JSON-ready data. Keeping every such call here keeps the pages free of
package internals.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from llmlab._json import JsonObject, JsonReady, JsonValue
from llmlab.evals import case_verdicts, compare_runs
from llmlab.monitor import StatsReport, budget_status, call_stats, recent_alerts
from llmlab.prompts import LabelMove, experiment_report, prompt_registry, version_metrics
from llmlab.store import AlertRow, Store

__all__ = [
    "BudgetBar",
    "alerts",
    "budgets",
    "case_outcomes",
    "comparison_json",
    "experiment_json",
    "jsonable",
    "jsonable_object",
    "label_move",
    "prompt_diff_json",
    "redact",
    "stats",
    "version_metrics_json",
]

_SECRET_KEY = re.compile(r"(api[-_]?key|authorization|secret|password|token)", re.IGNORECASE)
_SECRET_VALUE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{6,}|sk-ant-[A-Za-z0-9_\-]{6,})")


def jsonable(value: JsonReady) -> JsonValue:
    """Decimals as exact strings, datetimes as ISO text, containers recursively."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):  # a datetime is a date
        return value.isoformat()
    if isinstance(value, Mapping):
        return jsonable_object(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [jsonable(v) for v in value]
    return value


def jsonable_object(value: Mapping[str, JsonReady]) -> JsonObject:
    """:func:`jsonable` of a JSON object."""
    return {str(k): jsonable(v) for k, v in value.items()}


def redact(value: Any) -> Any:
    """``value`` with anything that looks like a credential replaced: API keys never
    reach a page, even if a provider echoed one into a stored request."""
    if isinstance(value, dict):
        return {
            k: "[redacted]" if _SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _SECRET_VALUE.sub("[redacted]", value)
    return value


def stats(
    store: Store, *, since: str | None, until: str | None = None, by: str | None = None
) -> StatsReport:
    """``llmlab monitor stats``: from the rollups, grouped ``by``."""
    return call_stats(since, until, by=by, store=store)


@dataclass(frozen=True, slots=True)
class BudgetBar:
    """A budget as its bar shows it: spend in the current period against the limit."""

    name: str
    scope: str
    period: str
    period_key: str
    limit: Decimal
    hard: bool
    spent: Decimal
    reserved: Decimal
    used_fraction: float


def budgets(store: Store) -> list[BudgetBar]:
    """Each budget with its spend in the current period."""
    return [
        BudgetBar(
            name=s.budget.name,
            scope=s.budget.scope_label,
            period=s.budget.period,
            period_key=s.period_key,
            limit=s.budget.limit,
            hard=s.budget.hard,
            spent=s.spent,
            reserved=s.reserved,
            used_fraction=s.used_fraction,
        )
        for s in budget_status(store=store)
    ]


def alerts(store: Store, limit: int = 50) -> list[AlertRow]:
    """The newest alerts first."""
    return recent_alerts(limit, store=store)


def comparison_json(store: Store, run_a: str, run_b: str) -> JsonObject:
    """``llmlab eval compare`` as JSON: McNemar, paired bootstrap, Holm (evals computes)."""
    return jsonable_object(compare_runs(run_a, run_b, store=store).to_dict())


def case_outcomes(store: Store, run_id: str) -> dict[str, tuple[bool, float]]:
    """Each case of a run: (passed, score), reduced over its epochs as the evals package
    reduces them (from the results' scoring columns: a 10k-case run is one light read)."""
    return case_verdicts(run_id, store=store)


def version_metrics_json(store: Store, name: str) -> dict[int, JsonObject]:
    """Per version: call metrics and eval quality with intervals (as ``prompts show``)."""
    found = version_metrics(name, store=store)
    return {
        version: {
            "calls": calls.to_dict(),
            "quality": quality.to_dict() if quality is not None else None,
        }
        for version, (calls, quality) in found.items()
    }


def prompt_diff_json(store: Store, name: str, a: str, b: str) -> JsonObject:
    """What changed from version ``a`` to ``b`` (as ``prompts diff``)."""
    diff = prompt_registry(store=store).diff(name, a, b)
    out = jsonable_object(diff.to_dict())
    out["has_changes"] = diff.has_changes
    out["text"] = diff.to_text()
    return out


def label_move(
    store: Store, name: str, label: str, *, version: str | None, actor: str
) -> LabelMove | None:
    """Move ``label`` to ``version`` (``None``: roll it back), recorded in the label
    history exactly as ``prompts label`` / ``prompts rollback`` record it."""
    registry = prompt_registry(store=store)
    if version is None:
        return registry.rollback(name, label, actor=actor)
    return registry.set_label(name, label, version, actor=actor)


def experiment_json(store: Store, name: str) -> JsonObject:
    """``experiments report``: per arm against the control, with the verdict."""
    result: JsonObject = json.loads(
        json.dumps(experiment_report(name, store=store).to_dict(), default=str)
    )
    return result
