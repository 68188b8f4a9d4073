"""Reading and writing prompt versions, labels, experiments, exposures and feedback.

Every query returns frozen row objects (datetimes UTC-aware); JSON columns come back as
their free-form values. Business rules (what a label means, how arms are assigned) live
in ``llmlab.prompts``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from sqlalchemy import Float, case, cast, func, select, update
from sqlalchemy.exc import IntegrityError

from llmlab._json import JsonObject, JsonValue
from llmlab.store._metadata import Money, money_float
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
from llmlab.store._upsert import upsert

if TYPE_CHECKING:
    from llmlab.store._handle import Store

__all__ = [
    "ArmDocument",
    "CallStats",
    "EvalStats",
    "ExperimentRow",
    "ExposureCounts",
    "LabelMove",
    "LabelRow",
    "Moments",
    "PromptRow",
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

Moments = tuple[int, float, float]
"""(n, sum, sum of squares) of a metric, for means with intervals."""


@dataclass(frozen=True, slots=True)
class PromptRow:
    """One stored prompt version (``template`` is JSON text for a chat prompt)."""

    name: str
    version: int
    hash: str
    kind: str  # text | chat
    template: str
    syntax: str
    variables: JsonObject
    config: JsonObject
    meta: JsonObject
    """Free-form metadata (stored as JSON)."""
    message: str | None
    author: str | None
    created_at: datetime
    archived: bool


@dataclass(frozen=True, slots=True)
class LabelRow:
    """Where one label of a prompt points."""

    name: str
    label: str
    version: int
    updated_at: datetime
    updated_by: str | None


@dataclass(frozen=True, slots=True)
class LabelMove:
    """One entry of a label's history."""

    name: str
    label: str
    from_version: int | None
    to_version: int
    kind: str  # move | rollback
    actor: str | None
    at: datetime

    def to_dict(self) -> JsonObject:
        """JSON-ready form (``at`` as ISO text)."""
        return {
            "name": self.name,
            "label": self.label,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "kind": self.kind,
            "actor": self.actor,
            "at": self.at.isoformat(),
        }


class ArmDocument(TypedDict):
    """One arm as the ``arms`` JSON column stores it."""

    name: str
    version: int
    weight: float
    winner: NotRequired[bool]


@dataclass(frozen=True, slots=True)
class ExperimentRow:
    """One stored experiment; ``arms`` and ``allocation`` are its JSON columns."""

    name: str
    prompt_name: str
    arms: list[ArmDocument]
    allocation: list[list[Any]]  # [[start, end, arm], ...]
    salt: str
    status: str  # running | stopped
    description: str | None
    created_at: datetime
    created_by: str | None
    updated_at: datetime
    stopped_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExposureCounts:
    """Units exposed to one arm, and their exposures in total."""

    units: int
    exposures: int


@dataclass(frozen=True, slots=True)
class CallStats:
    """Aggregates of one group of calls (a prompt version or an experiment arm)."""

    calls: int
    errors: int
    total_cost: Decimal | None
    """Sum of the calls' costs; None when no call was priced."""
    duration_s: Moments
    input_tokens: Moments
    output_tokens: Moments
    cost: Moments
    """Only priced calls count: unpriced calls have no cost."""


@dataclass(frozen=True, slots=True)
class EvalStats:
    """Eval results made with one prompt version (through their calls)."""

    runs: int
    score: Moments
    passed: float


def _prompt_row(r: Any) -> PromptRow:
    return PromptRow(
        name=r.name,
        version=int(r.version),
        hash=r.hash,
        kind=r.kind,
        template=r.template,
        syntax=r.syntax,
        variables=r.variables or {},
        config=r.config or {},
        meta=r.meta or {},
        message=r.message,
        author=r.author,
        created_at=r.created_at,
        archived=bool(r.archived),
    )


# -- prompt versions -------------------------------------------------------------------


def insert_prompt_version(
    store: Store,
    *,
    name: str,
    hash: str,
    kind: str,
    template: str,
    syntax: str,
    variables: Mapping[str, JsonValue],
    config: Mapping[str, JsonValue],
    meta: Mapping[str, JsonValue],
    message: str | None,
    author: str | None,
    created_at: datetime,
) -> tuple[PromptRow, bool]:
    """Insert a version of ``name`` with the next number, unless its hash exists.

    Returns ``(row, created)``: the existing row and False when the same content
    (``name``, ``hash``) is already registered.
    """
    for attempt in range(3):
        try:
            with store.write() as conn:
                existing = conn.execute(
                    select(prompts).where(prompts.c.name == name, prompts.c.hash == hash)
                ).first()
                if existing is not None:
                    return _prompt_row(existing), False
                top = conn.execute(
                    select(func.max(prompts.c.version)).where(prompts.c.name == name)
                ).scalar()
                row = PromptRow(
                    name=name,
                    version=int(top or 0) + 1,
                    hash=hash,
                    kind=kind,
                    template=template,
                    syntax=syntax,
                    variables=dict(variables),
                    config=dict(config),
                    meta=dict(meta),
                    message=message,
                    author=author,
                    created_at=created_at,
                    archived=False,
                )
                conn.execute(
                    prompts.insert().values(
                        {f: getattr(row, f) for f in PromptRow.__dataclass_fields__}
                    )
                )
                return row, True
        except IntegrityError:
            # another process took the number or the hash first; look again
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def find_prompt_rows(
    store: Store,
    name: str,
    *,
    version: int | None = None,
    hash_prefix: str | None = None,
) -> list[PromptRow]:
    """Versions of ``name`` matching a number or a hash prefix (archived included)."""
    query = select(prompts).where(prompts.c.name == name)
    if version is not None:
        query = query.where(prompts.c.version == version)
    if hash_prefix is not None:
        query = query.where(prompts.c.hash.startswith(hash_prefix, autoescape=True))
    with store.read() as conn:
        return [_prompt_row(r) for r in conn.execute(query.order_by(prompts.c.version))]


def list_prompt_rows(
    store: Store, name: str | None = None, *, include_archived: bool = False
) -> list[PromptRow]:
    """Versions of one prompt, or of all, ordered by name and number."""
    query = select(prompts)
    if name is not None:
        query = query.where(prompts.c.name == name)
    if not include_archived:
        query = query.where(prompts.c.archived.is_(False))
    with store.read() as conn:
        rows = conn.execute(query.order_by(prompts.c.name, prompts.c.version))
        return [_prompt_row(r) for r in rows]


def set_prompt_archived(store: Store, name: str, version: int, archived: bool) -> bool:
    """Archive or restore one version; False when it does not exist."""
    with store.write() as conn:
        result = conn.execute(
            update(prompts)
            .where(prompts.c.name == name, prompts.c.version == version)
            .values(archived=archived)
        )
        return result.rowcount > 0


# -- labels ----------------------------------------------------------------------------


def prompt_labels_of(store: Store, name: str | None = None) -> list[LabelRow]:
    """Where the labels of one prompt (or of all) point, by name and label."""
    query = select(prompt_labels)
    if name is not None:
        query = query.where(prompt_labels.c.name == name)
    with store.read() as conn:
        rows = conn.execute(query.order_by(prompt_labels.c.name, prompt_labels.c.label))
        return [LabelRow(r.name, r.label, int(r.version), r.updated_at, r.updated_by) for r in rows]


def move_label(
    store: Store,
    name: str,
    label: str,
    version: int,
    *,
    actor: str | None,
    kind: str = "move",
    at: datetime | None = None,
) -> LabelMove | None:
    """Point ``label`` at ``version`` and record the move; None (no history) if it already is."""
    now = at or datetime.now(UTC)
    with store.write() as conn:
        current = conn.execute(
            select(prompt_labels.c.version).where(
                prompt_labels.c.name == name, prompt_labels.c.label == label
            )
        ).scalar()
        if current == version:
            return None
        values = {"version": version, "updated_at": now, "updated_by": actor}
        stmt = upsert(store.dialect, prompt_labels, ("name", "label"), values)
        conn.execute(stmt.values(name=name, label=label, **values))
        move = LabelMove(name, label, current, version, kind, actor, now)
        conn.execute(label_history.insert().values(move.to_dict() | {"at": now}))
        return move


def label_history_rows(store: Store, name: str, label: str | None = None) -> list[LabelMove]:
    """Every recorded move of the prompt's labels, oldest first."""
    query = select(label_history).where(label_history.c.name == name)
    if label is not None:
        query = query.where(label_history.c.label == label)
    with store.read() as conn:
        return [
            LabelMove(r.name, r.label, r.from_version, r.to_version, r.kind, r.actor, r.at)
            for r in conn.execute(query.order_by(label_history.c.id))
        ]


# -- experiments -----------------------------------------------------------------------


def _experiment_row(r: Any) -> ExperimentRow:
    return ExperimentRow(
        name=r.name,
        prompt_name=r.prompt_name,
        arms=list(r.arms),
        allocation=list(r.allocation),
        salt=r.salt,
        status=r.status,
        description=r.description,
        created_at=r.created_at,
        created_by=r.created_by,
        updated_at=r.updated_at,
        stopped_at=r.stopped_at,
    )


def insert_experiment_row(store: Store, row: ExperimentRow) -> bool:
    """Insert an experiment; False when the name is taken."""
    values = {f: getattr(row, f) for f in ExperimentRow.__dataclass_fields__}
    try:
        with store.write() as conn:
            conn.execute(experiments.insert().values(values))
    except IntegrityError:
        return False
    return True


def get_experiment_row(store: Store, name: str) -> ExperimentRow | None:
    """The experiment ``name``, or None."""
    with store.read() as conn:
        row = conn.execute(select(experiments).where(experiments.c.name == name)).first()
    return None if row is None else _experiment_row(row)


def list_experiment_rows(store: Store) -> list[ExperimentRow]:
    """Every experiment, oldest first."""
    with store.read() as conn:
        rows = conn.execute(select(experiments).order_by(experiments.c.created_at))
        return [_experiment_row(r) for r in rows]


def update_experiment_row(
    store: Store,
    name: str,
    *,
    arms: Sequence[ArmDocument],
    updated_at: datetime,
    allocation: list[list[Any]] | None = None,
    status: str | None = None,
    stopped_at: datetime | None = None,
) -> bool:
    """Change an experiment's arms (and allocation, status, stop time when given)."""
    values: dict[str, object] = {"arms": list(arms), "updated_at": updated_at}
    if allocation is not None:
        values["allocation"] = allocation
    if status is not None:
        values["status"] = status
    if stopped_at is not None:
        values["stopped_at"] = stopped_at
    with store.write() as conn:
        result = conn.execute(update(experiments).where(experiments.c.name == name).values(values))
        return result.rowcount > 0


def record_exposure(
    store: Store, experiment: str, unit: str, arm: str, at: datetime | None = None
) -> None:
    """Count one exposure of ``unit`` (its current arm, first and last time seen)."""
    now = at or datetime.now(UTC)
    stmt = upsert(
        store.dialect,
        exposures,
        ("experiment", "unit"),
        ("arm", "last_at"),
        update_with={"count": exposures.c.count + 1},
    )
    with store.write() as conn:
        conn.execute(
            stmt.values(experiment=experiment, unit=unit, arm=arm, first_at=now, last_at=now)
        )


def arm_exposure_counts(store: Store, experiment: str) -> dict[str, ExposureCounts]:
    """Per arm: units exposed and total exposures."""
    query = (
        select(exposures.c.arm, func.count(), func.sum(exposures.c.count))
        .where(exposures.c.experiment == experiment)
        .group_by(exposures.c.arm)
    )
    with store.read() as conn:
        return {
            arm: ExposureCounts(int(n), int(total or 0)) for arm, n, total in conn.execute(query)
        }


# -- feedback --------------------------------------------------------------------------


def insert_feedback_row(
    store: Store,
    *,
    call_id: str,
    score: float,
    comment: str | None,
    source: str | None,
    created_at: datetime,
) -> int:
    """Insert one feedback row; returns its id."""
    with store.write() as conn:
        result = conn.execute(
            feedback.insert().values(
                call_id=call_id,
                score=score,
                comment=comment,
                source=source,
                created_at=created_at,
            )
        )
        key = result.inserted_primary_key
        return int(key[0]) if key else 0


def call_exists(store: Store, call_id: str) -> bool:
    """True when a call with this id was recorded."""
    with store.read() as conn:
        return conn.execute(select(calls.c.id).where(calls.c.id == call_id)).first() is not None


# -- aggregates ------------------------------------------------------------------------


def _moments(column: Any) -> list[Any]:
    """count, sum and sum of squares of a column (as floats), for means with intervals."""
    # A money column is pico-dollars on SQLite: only money_float turns it into dollars.
    as_float = money_float(column) if isinstance(column.type, Money) else cast(column, Float)
    return [func.count(column), func.sum(as_float), func.sum(as_float * as_float)]


def _moments_of(n: Any, total: Any, squares: Any) -> Moments:
    return (int(n or 0), float(total or 0.0), float(squares or 0.0))


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


def _call_stats(store: Store, query: Any) -> dict[Any, CallStats]:
    out: dict[Any, CallStats] = {}
    with store.read() as conn:
        for row in conn.execute(query):
            key, n, errors, total_cost, *m = tuple(row)
            out[key] = CallStats(
                calls=int(n),
                errors=int(errors or 0),
                total_cost=None if total_cost is None else Decimal(total_cost),
                duration_s=_moments_of(*m[0:3]),
                input_tokens=_moments_of(*m[3:6]),
                output_tokens=_moments_of(*m[6:9]),
                cost=_moments_of(*m[9:12]),
            )
    return out


def prompt_call_stats(store: Store, name: str) -> dict[int, CallStats]:
    """Per version of ``name``: calls, errors, total cost and metric moments."""
    query = _call_stats_query(calls.c.prompt_version, calls.c.prompt_name == name)
    return {int(k): v for k, v in _call_stats(store, query).items() if k is not None}


def arm_call_stats(store: Store, experiment: str) -> dict[str, CallStats]:
    """Per arm of ``experiment``: calls, errors and metric moments (see prompt_call_stats)."""
    query = _call_stats_query(calls.c.arm, calls.c.experiment == experiment)
    return {str(k): v for k, v in _call_stats(store, query).items() if k is not None}


def prompt_eval_stats(store: Store, name: str) -> dict[int, EvalStats]:
    """Per version of ``name``: eval results made with it (via their calls) and their scores."""
    r = eval_results.c
    # Walk the linked results and look their calls up, not the prompt's calls (there can
    # be hundreds of thousands of them, few from evals). SQLite's planner, without
    # statistics, would start from the index on prompt_name: compared through an
    # expression, the name cannot pick that index.
    prompt_name: Any = calls.c.prompt_name
    if store.dialect == "sqlite":
        prompt_name = prompt_name.concat("")
    query = (
        select(
            calls.c.prompt_version,
            func.count(func.distinct(r.run_id)),
            *_moments(r.score),
            func.sum(case((r.passed.is_(True), 1), else_=0)),
        )
        .select_from(eval_results.join(calls, calls.c.id == r.call_id))
        .where(r.call_id.is_not(None), prompt_name == name)
        .group_by(calls.c.prompt_version)
    )
    with store.read() as conn:
        return {
            int(version): EvalStats(int(runs), _moments_of(n, s, ss), float(passed or 0.0))
            for version, runs, n, s, ss, passed in conn.execute(query)
            if version is not None
        }


def arm_feedback_stats(store: Store, experiment: str) -> dict[str, Moments]:
    """Per arm: (n, sum, sum of squares) of feedback scores on the experiment's calls."""
    query = (
        select(calls.c.arm, *_moments(feedback.c.score))
        .select_from(feedback.join(calls, calls.c.id == feedback.c.call_id))
        .where(calls.c.experiment == experiment)
        .group_by(calls.c.arm)
    )
    with store.read() as conn:
        return {arm: _moments_of(n, s, ss) for arm, n, s, ss in conn.execute(query)}
