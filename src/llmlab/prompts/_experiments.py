"""Online experiments: a prompt's traffic split between versions, sticky per unit.

An experiment maps arms to versions of one prompt, with weights. ``assign`` hashes the
unit (user id, session id, request key) with the experiment's salt, so a unit keeps its
arm across processes and restarts; ``ramp`` changes weights moving as few units as
possible (see ``_assign``); ``stop`` sends every unit to the winner (or the first arm).
Definitions are cached with the store handle for ``ttl_s`` seconds, so ``assign`` does
not touch the database on the hot path.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from llmlab._errors import InputError, NotFoundError
from llmlab._json import JsonObject
from llmlab.prompts._assign import Allocation, unit_point
from llmlab.prompts._refs import check_label, check_name, current_actor
from llmlab.prompts._registry import PromptCache, nearest_names, prompt_registry
from llmlab.prompts._version import PromptVersion
from llmlab.store import Store, resolve_store
from llmlab.store import _prompts as rows
from llmlab.store._prompts import ArmDocument, ExperimentRow

__all__ = [
    "Arm",
    "Experiment",
    "Experiments",
    "assign",
    "clear_prompt_cache",
    "experiments",
]


@dataclass(frozen=True, slots=True)
class Arm:
    """One arm: a name, the prompt version it serves and its weight."""

    name: str
    version: int
    weight: float


@dataclass(frozen=True, slots=True)
class Experiment:
    """An experiment's definition and its current allocation."""

    name: str
    prompt: str
    arms: tuple[Arm, ...]
    salt: str
    allocation: Allocation
    status: str  # running | stopped
    winner: str | None
    description: str | None
    created_at: datetime
    stopped_at: datetime | None

    def assign(self, unit: str) -> str:
        """The arm of ``unit``: sticky while running; the winner (or first arm) once stopped."""
        if self.status != "running":
            return self.winner or self.arms[0].name
        return self.allocation.arm_of(unit_point(self.salt, unit))

    def arm(self, name: str) -> Arm:
        """The arm called ``name``; NotFoundError listing the arms otherwise."""
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise NotFoundError("arm", f"{self.name}/{name}", candidates=[a.name for a in self.arms])

    def to_dict(self) -> JsonObject:
        """JSON-ready form (times as ISO text)."""
        return {
            "name": self.name,
            "prompt": self.prompt,
            "status": self.status,
            "winner": self.winner,
            "arms": [{"name": a.name, "version": a.version, "weight": a.weight} for a in self.arms],
            "salt": self.salt,
            "description": self.description,
            "created_at": self.created_at.isoformat(),
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
        }


def _from_row(row: ExperimentRow) -> Experiment:
    stored = row.arms
    arms = tuple(Arm(str(a["name"]), int(a["version"]), float(a["weight"])) for a in stored)
    winner = next((str(a["name"]) for a in stored if a.get("winner")), None)
    return Experiment(
        name=row.name,
        prompt=row.prompt_name,
        arms=arms,
        salt=row.salt,
        allocation=Allocation.from_segments(row.allocation),
        status=row.status,
        winner=winner,
        description=row.description,
        created_at=row.created_at,
        stopped_at=row.stopped_at,
    )


def _segments(allocation: Allocation) -> list[list[Any]]:
    return [list(segment) for segment in allocation.segments]


def _arms_json(arms: tuple[Arm, ...], winner: str | None = None) -> list[ArmDocument]:
    out: list[ArmDocument] = []
    for a in arms:
        arm: ArmDocument = {"name": a.name, "version": a.version, "weight": a.weight}
        if a.name == winner:
            arm["winner"] = True
        out.append(arm)
    return out


class Experiments:
    """Experiments in a store (the default handle unless ``store`` is given), cached briefly.

    Args:
        store: the store handle; None uses the default one (``LLMLAB_DB``).
        ttl_s: how long a definition is cached before it is read again.
    """

    def __init__(self, store: Store | None = None, *, ttl_s: float = 5.0) -> None:
        self.store = resolve_store(store)
        self.ttl_s = ttl_s
        self.registry = prompt_registry(store=self.store)
        self._cache: dict[str, tuple[Experiment, float]] = {}

    def clear(self) -> None:
        """Forget the cached definitions (another process changed them)."""
        self._cache.clear()

    def create(
        self,
        name: str,
        prompt: str,
        arms: Mapping[str, int | str],
        weights: Mapping[str, float] | None = None,
        *,
        salt: str | None = None,
        description: str | None = None,
    ) -> Experiment:
        """Start an experiment on ``prompt``: ``arms`` maps arm names to versions.

        Versions are numbers or references (``"#hash"``, ``"@staging"``); weights default
        to equal. The first arm is the control. ``salt`` defaults to a random token, so
        two experiments split the same units independently.
        """
        check_name(name)
        check_name(prompt)
        if len(arms) < 1:
            raise InputError(f"experiment {name!r} needs at least one arm")
        for arm_name in arms:
            check_label(arm_name)
        if salt is not None and not 0 < len(salt.encode()) <= 64:
            # the salt keys BLAKE2b (at most 64 bytes); a longer one would be cut, so two
            # salts sharing their first 64 bytes would split units identically
            raise InputError(f"experiment {name!r}: the salt must be 1 to 64 bytes")
        weights = dict(weights) if weights is not None else dict.fromkeys(arms, 1.0)
        unknown = set(weights) - set(arms)
        if unknown:
            raise InputError(f"weights for unknown arm(s): {', '.join(sorted(unknown))}")
        weights = {a: float(weights.get(a, 0.0)) for a in arms}
        resolved = tuple(
            Arm(a, self.registry.resolve_version(prompt, v).version or 0, weights[a])
            for a, v in arms.items()
        )
        allocation = Allocation.initial(weights)
        now = datetime.now(UTC)
        ok = rows.insert_experiment_row(
            self.store,
            ExperimentRow(
                name=name,
                prompt_name=prompt,
                arms=_arms_json(resolved),
                allocation=_segments(allocation),
                salt=salt if salt is not None else secrets.token_hex(8),
                status="running",
                description=description,
                created_at=now,
                created_by=current_actor(),
                updated_at=now,
            ),
        )
        if not ok:
            raise InputError(f"experiment {name!r} exists already; pick another name")
        return self.get(name, fresh=True)

    def get(self, name: str, *, fresh: bool = False) -> Experiment:
        """The experiment ``name`` (from the cache unless ``fresh`` or expired)."""
        entry = self._cache.get(name)
        now = time.monotonic()
        if entry is not None and not fresh and entry[1] > now:
            return entry[0]
        row = rows.get_experiment_row(self.store, name)
        if row is None:
            names = [r.name for r in rows.list_experiment_rows(self.store)]
            raise NotFoundError("experiment", name, candidates=nearest_names(name, names))
        experiment = _from_row(row)
        self._cache[name] = (experiment, now + self.ttl_s)
        return experiment

    def list(self) -> list[Experiment]:
        """Every experiment, oldest first."""
        return [_from_row(r) for r in rows.list_experiment_rows(self.store)]

    def assign(self, experiment: str, unit: str) -> str:
        """The arm of ``unit`` in ``experiment`` (no database access while cached)."""
        entry = self._cache.get(experiment)
        if entry is None or entry[1] < time.monotonic():
            return self.get(experiment).assign(unit)
        return entry[0].assign(unit)

    def version_for(self, experiment: str, unit: str) -> tuple[str, PromptVersion]:
        """The arm of ``unit`` and the prompt version that arm serves."""
        exp = self.get(experiment)
        arm = exp.assign(unit)
        return arm, self.registry.get(f"{exp.prompt}:{exp.arm(arm).version}")

    def expose(self, experiment: str, unit: str) -> str:
        """Assign ``unit`` and record the exposure (while running); returns the arm."""
        exp = self.get(experiment)
        arm = exp.assign(unit)
        if exp.status == "running":
            rows.record_exposure(self.store, experiment, unit, arm)
        return arm

    def ramp(self, name: str, weights: Mapping[str, float]) -> Experiment:
        """Change the weights; units stay in their arm unless their arm shrank."""
        exp = self.get(name, fresh=True)
        if exp.status != "running":
            raise InputError(f"experiment {name!r} is stopped; create a new one to ramp")
        unknown = set(weights) - {a.name for a in exp.arms}
        if unknown:
            names = ", ".join(a.name for a in exp.arms)
            raise InputError(f"unknown arm(s) {', '.join(sorted(unknown))}; arms: {names}")
        full = {a.name: float(weights.get(a.name, a.weight)) for a in exp.arms}
        allocation = exp.allocation.ramp(full)
        arms = tuple(replace(a, weight=full[a.name]) for a in exp.arms)
        rows.update_experiment_row(
            self.store,
            name,
            arms=_arms_json(arms),
            allocation=_segments(allocation),
            updated_at=datetime.now(UTC),
        )
        return self.get(name, fresh=True)

    def stop(self, name: str, *, winner: str | None = None) -> Experiment:
        """Stop: every unit now gets ``winner`` (default: the first arm, the control).

        Stopping a stopped experiment again keeps its winner unless another is named.
        """
        exp = self.get(name, fresh=True)
        if winner is not None:
            exp.arm(winner)
        if exp.status != "running" and (winner is None or winner == exp.winner):
            return exp
        now = datetime.now(UTC)
        rows.update_experiment_row(
            self.store,
            name,
            arms=_arms_json(exp.arms, winner),
            status="stopped",
            stopped_at=exp.stopped_at or now,
            updated_at=now,
        )
        return self.get(name, fresh=True)


def clear_prompt_cache(*, store: Store | None = None) -> None:
    """Forget the prompt versions, labels and experiments cached for ``store`` (default:
    the default handle), so they are read again (another process rewrote the store)."""
    handle = resolve_store(store)
    cache = handle.peek(PromptCache)
    if cache is not None:
        cache.clear()
    shared = handle.peek(Experiments)
    if shared is not None:
        shared.clear()


def experiments(*, store: Store | None = None) -> Experiments:
    """The shared ``Experiments`` of ``store`` (default: the default handle)."""
    return resolve_store(store).component(Experiments, Experiments)


def assign(experiment: str, unit: str, *, store: Store | None = None) -> str:
    """The sticky arm of ``unit`` in ``experiment`` (:meth:`Experiments.assign` on the
    shared ``Experiments`` of ``store``, default: the default handle)."""
    return experiments(store=store).assign(experiment, unit)
