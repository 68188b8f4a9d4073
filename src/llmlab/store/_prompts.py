"""Reading and writing prompt versions, labels, experiments, exposures and feedback.

Rows go in and out as plain dicts keyed by column name; datetimes come back UTC-aware.
Business rules (what a label means, how arms are assigned) live in ``llmlab.prompts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Float, and_, case, cast, func, select, update
from sqlalchemy.exc import IntegrityError

from llmlab.store._metadata import Money, money_float
from llmlab.store._sqlite import begin_write
from llmlab.store._tables_calls import calls
from llmlab.store._tables_evals import eval_results
from llmlab.store._tables_prompts import (
    experiments,
    exposures,
    feedback,
    label_history,
    prompt_labels,
    prompts,
)

__all__ = [
    "arm_call_stats",
    "arm_exposure_counts",
    "arm_feedback_stats",
    "call_exists",
    "find_prompt_rows",
    "get_experiment_row",
    "insert_experiment_row",
    "insert_feedback_row",
    "insert_prompt_version",
    "label_history_rows",
    "list_experiment_rows",
    "list_prompt_rows",
    "move_label",
    "prompt_call_stats",
    "prompt_eval_stats",
    "prompt_labels_of",
    "record_exposure",
    "set_prompt_archived",
    "update_experiment_row",
]


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in mapping.items()}


# -- prompt versions -------------------------------------------------------------------


def insert_prompt_version(engine: Engine, values: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """Insert a version of ``values["name"]`` with the next number, unless its hash exists.

    Returns ``(row, created)``: the existing row and False when the same content
    (``name``, ``hash``) is already registered.
    """
    for attempt in range(3):
        try:
            with begin_write(engine) as conn:
                existing = conn.execute(
                    select(prompts).where(
                        prompts.c.name == values["name"], prompts.c.hash == values["hash"]
                    )
                ).first()
                if existing is not None:
                    return _row(existing._mapping), False
                top = conn.execute(
                    select(func.max(prompts.c.version)).where(prompts.c.name == values["name"])
                ).scalar()
                row = {**values, "version": int(top or 0) + 1}
                conn.execute(prompts.insert().values(**row))
                return _row(row), True
        except IntegrityError:
            # another process took the number or the hash first; look again
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def find_prompt_rows(
    engine: Engine,
    name: str,
    *,
    version: int | None = None,
    hash_prefix: str | None = None,
) -> list[dict[str, Any]]:
    """Versions of ``name`` matching a number or a hash prefix (archived included)."""
    query = select(prompts).where(prompts.c.name == name)
    if version is not None:
        query = query.where(prompts.c.version == version)
    if hash_prefix is not None:
        query = query.where(prompts.c.hash.startswith(hash_prefix, autoescape=True))
    with engine.connect() as conn:
        return [_row(r._mapping) for r in conn.execute(query.order_by(prompts.c.version))]


def list_prompt_rows(
    engine: Engine, name: str | None = None, *, include_archived: bool = False
) -> list[dict[str, Any]]:
    """Versions of one prompt, or of all, ordered by name and number."""
    query = select(prompts)
    if name is not None:
        query = query.where(prompts.c.name == name)
    if not include_archived:
        query = query.where(prompts.c.archived.is_(False))
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(prompts.c.name, prompts.c.version))
        return [_row(r._mapping) for r in rows]


def set_prompt_archived(engine: Engine, name: str, version: int, archived: bool) -> bool:
    """Archive or restore one version; False when it does not exist."""
    with begin_write(engine) as conn:
        result = conn.execute(
            update(prompts)
            .where(prompts.c.name == name, prompts.c.version == version)
            .values(archived=archived)
        )
        return result.rowcount > 0


# -- labels ----------------------------------------------------------------------------


def prompt_labels_of(engine: Engine, name: str | None = None) -> list[dict[str, Any]]:
    """Label rows (name, label, version, updated_at, updated_by)."""
    query = select(prompt_labels)
    if name is not None:
        query = query.where(prompt_labels.c.name == name)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(prompt_labels.c.name, prompt_labels.c.label))
        return [_row(r._mapping) for r in rows]


def move_label(
    engine: Engine,
    name: str,
    label: str,
    version: int,
    *,
    actor: str | None,
    kind: str = "move",
    at: datetime | None = None,
) -> dict[str, Any] | None:
    """Point ``label`` at ``version`` and record the move; None (no history) if it already is."""
    now = at or datetime.now(UTC)
    with begin_write(engine) as conn:
        current = conn.execute(
            select(prompt_labels.c.version).where(
                prompt_labels.c.name == name, prompt_labels.c.label == label
            )
        ).scalar()
        if current == version:
            return None
        values = {"version": version, "updated_at": now, "updated_by": actor}
        if current is None:
            conn.execute(prompt_labels.insert().values(name=name, label=label, **values))
        else:
            conn.execute(
                update(prompt_labels)
                .where(prompt_labels.c.name == name, prompt_labels.c.label == label)
                .values(**values)
            )
        move = {
            "name": name,
            "label": label,
            "from_version": current,
            "to_version": version,
            "kind": kind,
            "actor": actor,
            "at": now,
        }
        conn.execute(label_history.insert().values(**move))
        return move


def label_history_rows(engine: Engine, name: str, label: str | None = None) -> list[dict[str, Any]]:
    """Every recorded move of the prompt's labels, oldest first."""
    query = select(label_history).where(label_history.c.name == name)
    if label is not None:
        query = query.where(label_history.c.label == label)
    with engine.connect() as conn:
        return [_row(r._mapping) for r in conn.execute(query.order_by(label_history.c.id))]


# -- experiments -----------------------------------------------------------------------


def insert_experiment_row(engine: Engine, values: Mapping[str, Any]) -> bool:
    """Insert an experiment; False when the name is taken."""
    try:
        with begin_write(engine) as conn:
            conn.execute(experiments.insert().values(**values))
    except IntegrityError:
        return False
    return True


def get_experiment_row(engine: Engine, name: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(experiments).where(experiments.c.name == name)).first()
    return None if row is None else _row(row._mapping)


def list_experiment_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(experiments).order_by(experiments.c.created_at))
        return [_row(r._mapping) for r in rows]


def update_experiment_row(engine: Engine, name: str, values: Mapping[str, Any]) -> bool:
    with begin_write(engine) as conn:
        result = conn.execute(
            update(experiments).where(experiments.c.name == name).values(**values)
        )
        return result.rowcount > 0


def record_exposure(
    engine: Engine, experiment: str, unit: str, arm: str, at: datetime | None = None
) -> None:
    """Count one exposure of ``unit`` (its current arm, first and last time seen)."""
    now = at or datetime.now(UTC)
    key = and_(exposures.c.experiment == experiment, exposures.c.unit == unit)
    bump = update(exposures).where(key).values(arm=arm, last_at=now, count=exposures.c.count + 1)
    for _ in range(3):
        with begin_write(engine) as conn:
            if conn.execute(bump).rowcount:
                return
        try:
            with begin_write(engine) as conn:
                conn.execute(
                    exposures.insert().values(
                        experiment=experiment, unit=unit, arm=arm, first_at=now, last_at=now
                    )
                )
                return
        except IntegrityError:
            continue  # another process inserted it first: bump instead


def arm_exposure_counts(engine: Engine, experiment: str) -> dict[str, tuple[int, int]]:
    """Per arm: (units exposed, total exposures)."""
    query = (
        select(exposures.c.arm, func.count(), func.sum(exposures.c.count))
        .where(exposures.c.experiment == experiment)
        .group_by(exposures.c.arm)
    )
    with engine.connect() as conn:
        return {arm: (int(n), int(total or 0)) for arm, n, total in conn.execute(query)}


# -- feedback --------------------------------------------------------------------------


def insert_feedback_row(engine: Engine, values: Mapping[str, Any]) -> int:
    """Insert one feedback row; returns its id."""
    with begin_write(engine) as conn:
        result = conn.execute(feedback.insert().values(**values))
        key = result.inserted_primary_key
        return int(key[0]) if key else 0


def call_exists(engine: Engine, call_id: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(calls.c.id).where(calls.c.id == call_id)).first() is not None


# -- aggregates ------------------------------------------------------------------------


def _moments(column: Any) -> list[Any]:
    """count, sum and sum of squares of a column (as floats), for means with intervals."""
    # A money column is pico-dollars on SQLite: only money_float turns it into dollars.
    as_float = money_float(column) if isinstance(column.type, Money) else cast(column, Float)
    return [func.count(column), func.sum(as_float), func.sum(as_float * as_float)]


def _stats_from(values: Any, names: tuple[str, ...]) -> dict[str, tuple[int, float, float]]:
    out: dict[str, tuple[int, float, float]] = {}
    for i, name in enumerate(names):
        n, s, ss = values[3 * i : 3 * i + 3]
        out[name] = (int(n or 0), float(s or 0.0), float(ss or 0.0))
    return out


_CALL_METRICS = ("duration_s", "input_tokens", "output_tokens", "cost")


def _call_stats_query(group: Any, *where: Any) -> Any:
    c = calls.c
    cols: list[Any] = [
        group,
        func.count(),
        func.sum(case((c.status != "ok", 1), else_=0)),
        func.sum(c.cost),  # typed like the column: an exact Decimal
    ]
    for metric in _CALL_METRICS:
        cols += _moments(c[metric])
    return select(*cols).where(*where).group_by(group)


def _call_stats(engine: Engine, query: Any) -> dict[Any, dict[str, Any]]:
    out: dict[Any, dict[str, Any]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            key, n, errors, total_cost, *rest = tuple(row)
            out[key] = {
                "calls": int(n),
                "errors": int(errors or 0),
                "total_cost": total_cost if total_cost is None else Decimal(total_cost),
                "moments": _stats_from(rest, _CALL_METRICS),
            }
    return out


def prompt_call_stats(engine: Engine, name: str) -> dict[int, dict[str, Any]]:
    """Per version of ``name``: calls, errors, total cost (Decimal, None when no call was
    priced) and (n, sum, sum of squares) per metric.

    Metrics: duration_s, input_tokens, output_tokens, cost (only calls with a cost count
    for cost: unpriced calls have none).
    """
    query = _call_stats_query(calls.c.prompt_version, calls.c.prompt_name == name)
    return _call_stats(engine, query)


def arm_call_stats(engine: Engine, experiment: str) -> dict[str, dict[str, Any]]:
    """Per arm of ``experiment``: calls, errors and metric moments (see prompt_call_stats)."""
    return _call_stats(engine, _call_stats_query(calls.c.arm, calls.c.experiment == experiment))


def prompt_eval_stats(engine: Engine, name: str) -> dict[int, dict[str, Any]]:
    """Per version of ``name``: eval results made with it (via their calls) and their scores."""
    r = eval_results.c
    query = (
        select(
            calls.c.prompt_version,
            func.count(func.distinct(r.run_id)),
            *_moments(r.score),
            func.sum(case((r.passed.is_(True), 1), else_=0)),
        )
        .select_from(eval_results.join(calls, calls.c.id == r.call_id))
        .where(calls.c.prompt_name == name)
        .group_by(calls.c.prompt_version)
    )
    out: dict[int, dict[str, Any]] = {}
    with engine.connect() as conn:
        for version, runs, n, s, ss, passed in conn.execute(query):
            out[int(version)] = {
                "runs": int(runs),
                "score": (int(n or 0), float(s or 0.0), float(ss or 0.0)),
                "passed": float(passed or 0.0),
            }
    return out


def arm_feedback_stats(engine: Engine, experiment: str) -> dict[str, tuple[int, float, float]]:
    """Per arm: (n, sum, sum of squares) of feedback scores on the experiment's calls."""
    query = (
        select(calls.c.arm, *_moments(feedback.c.score))
        .select_from(feedback.join(calls, calls.c.id == feedback.c.call_id))
        .where(calls.c.experiment == experiment)
        .group_by(calls.c.arm)
    )
    with engine.connect() as conn:
        return {
            arm: (int(n or 0), float(s or 0.0), float(ss or 0.0))
            for arm, n, s, ss in conn.execute(query)
        }
