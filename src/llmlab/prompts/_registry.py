"""The prompt registry: versions and labels kept in the store, cached in the process.

Versions are immutable, so a resolved version is cached for the life of the process;
labels move, so a label is cached for ``label_ttl_s`` seconds (moves made through this
process are seen at once). Resolving ``name@production`` from the cache is a few dict
lookups.
"""

from __future__ import annotations

import difflib
import json
import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

import llmlab.store as store
from llmlab._errors import InputError, NotFoundError
from llmlab.prompts._diff import PromptDiff, diff_versions
from llmlab.prompts._refs import LATEST, PRODUCTION, PromptRef, check_label, check_name
from llmlab.prompts._refs import current_actor as _actor
from llmlab.prompts._version import ModelConfig, PromptVersion
from llmlab.store import database_url, get_engine

__all__ = [
    "LabelMove",
    "PromptArchivedWarning",
    "PromptRegistry",
    "PromptSummary",
    "clear_version_cache",
    "get_prompt",
    "nearest_names",
    "prompt_registry",
]


class PromptArchivedWarning(UserWarning):
    """A resolved prompt version is archived (deprecated)."""


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


@dataclass(frozen=True, slots=True)
class PromptSummary:
    """One prompt in a listing."""

    name: str
    versions: int
    latest: int
    labels: dict[str, int]
    updated_at: datetime


@dataclass
class _Cache:
    versions: dict[tuple[str, int], PromptVersion] = field(default_factory=dict)
    hashes: dict[tuple[str, str], int] = field(default_factory=dict)
    # (name, label) -> (version or None when the label is not set, expiry)
    labels: dict[tuple[str, str], tuple[int | None, float]] = field(default_factory=dict)
    refs: dict[str, PromptRef] = field(default_factory=dict)


_caches: dict[str, _Cache] = {}


def clear_version_cache() -> None:
    """Forget every cached version and label (tests; another process rewrote the store)."""
    _caches.clear()
    _registries.clear()


def _version_from_row(row: Mapping[str, Any]) -> PromptVersion:
    template: Any = row["template"]
    if row["kind"] == "chat":
        template = json.loads(template)
    return PromptVersion(
        template,
        row["variables"] or {},
        row["meta"] or {},
        config=ModelConfig(**(row["config"] or {})),
        message=row["message"],
        author=row["author"],
        created_at=row["created_at"],
        syntax=row["syntax"],
        name=row["name"],
        version=int(row["version"]),
        archived=bool(row["archived"]),
    )


def nearest_names(name: str, options: list[str]) -> list[str]:
    """The options closest to ``name`` (difflib), else the first few, for error messages."""
    close = difflib.get_close_matches(name, options, n=5, cutoff=0.5)
    return close or options[:5]


class PromptRegistry:
    """Prompt versions and labels in the store (``LLMLAB_DB`` unless ``url`` is given).

    The seed's API works as there: ``register(name, version, set_active=False)``,
    ``get_active(name)`` (the ``production`` label, else the newest version) and
    ``compare_versions(name, hash1, hash2)``; versions survive the process.
    """

    def __init__(self, url: str | None = None, *, label_ttl_s: float = 5.0) -> None:
        self.url = database_url(url)
        self.label_ttl_s = label_ttl_s
        self._cache = _caches.setdefault(self.url, _Cache())
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = get_engine(self.url)
        return self._engine

    # -- registering ---------------------------------------------------------------

    def register(
        self,
        name: str,
        version: PromptVersion,
        set_active: bool = False,
        *,
        label: str | None = None,
        message: str | None = None,
        author: str | None = None,
    ) -> PromptVersion:
        """Store ``version`` under ``name``; identical content returns the existing version.

        ``set_active`` points ``production`` at it; ``label`` points that label at it.
        Returns the stored version, carrying its name and number.
        """
        return self.add(name, version, set_active, label=label, message=message, author=author)[0]

    def add(
        self,
        name: str,
        version: PromptVersion,
        set_active: bool = False,
        *,
        label: str | None = None,
        message: str | None = None,
        author: str | None = None,
    ) -> tuple[PromptVersion, bool]:
        """Like ``register``, and also says whether a new version was created."""
        check_name(name)
        if label is not None:
            check_label(label, settable=True)
        template = version.template
        try:
            values = {
                "name": name,
                "hash": version.version_hash,
                "kind": "text" if isinstance(template, str) else "chat",
                "template": template
                if isinstance(template, str)
                else json.dumps([m.model_dump() for m in template], ensure_ascii=False),
                "syntax": version.syntax,
                "variables": json.loads(json.dumps(version.variables)),
                "config": version.config.as_dict(),
                "meta": json.loads(json.dumps(version.metadata, default=str)),
                "message": version.message or message,
                "author": version.author or author or _actor(),
                "created_at": version.created_at,
                "archived": False,
            }
        except (TypeError, ValueError) as exc:
            raise InputError(f"prompt {name!r}: variables must be JSON values: {exc}") from None
        row, created = store.insert_prompt_version(self.engine, values)
        stored = _version_from_row(row)
        self._remember(stored)
        self._forget_labels(name)
        if set_active:
            self.set_label(name, PRODUCTION, stored.version or 0)
        if label is not None and not (set_active and label == PRODUCTION):
            self.set_label(name, label, stored.version or 0)
        return stored, created

    # -- resolving -----------------------------------------------------------------

    def get(self, ref: str | PromptRef) -> PromptVersion:
        """Resolve ``name`` (production, else latest), ``name@label``, ``name:N``, ``name#hash``.

        Raises NotFoundError listing the nearest existing names, labels or versions.
        Warns (PromptArchivedWarning) when the version is archived.
        """
        parsed = self._parse(ref)
        if parsed.version is not None:
            found = self._by_number(parsed.name, parsed.version)
        elif parsed.hash is not None:
            found = self._by_hash(parsed.name, parsed.hash)
        else:
            found = self._by_label(parsed.name, parsed.label)
        if found.archived:
            warnings.warn(
                f"prompt {found.name}:{found.version} is archived; consider a newer version",
                PromptArchivedWarning,
                stacklevel=2,
            )
        return found

    def get_active(self, name: str) -> PromptVersion:
        """The version ``production`` points at, else the newest one (seed API)."""
        return self.get(PromptRef(check_name(name)))

    def _parse(self, ref: str | PromptRef) -> PromptRef:
        if isinstance(ref, PromptRef):
            return ref
        parsed = self._cache.refs.get(ref)
        if parsed is None:
            parsed = PromptRef.parse(ref)
            if len(self._cache.refs) < 10_000:
                self._cache.refs[ref] = parsed
        return parsed

    def _remember(self, version: PromptVersion) -> None:
        assert version.name is not None and version.version is not None
        self._cache.versions[(version.name, version.version)] = version
        self._cache.hashes[(version.name, version.version_hash)] = version.version

    def _forget_labels(self, name: str) -> None:
        for key in [k for k in self._cache.labels if k[0] == name]:
            del self._cache.labels[key]

    def _by_number(self, name: str, number: int) -> PromptVersion:
        cached = self._cache.versions.get((name, number))
        if cached is not None and not cached.archived:
            return cached
        rows = store.find_prompt_rows(self.engine, name, version=number)
        if not rows:
            existing = store.find_prompt_rows(self.engine, name)
            if not existing:
                raise self._unknown_name(name)
            raise NotFoundError(
                "version",
                f"{name}:{number}",
                candidates=[f"{name}:{r['version']}" for r in existing[-5:]],
            )
        version = _version_from_row(rows[0])
        self._remember(version)
        return version

    def _by_hash(self, name: str, prefix: str) -> PromptVersion:
        number = self._cache.hashes.get((name, prefix))
        if number is not None:
            return self._by_number(name, number)
        rows = store.find_prompt_rows(self.engine, name, hash_prefix=prefix)
        if len(rows) > 1:
            raise InputError(
                f"hash {prefix!r} of prompt {name!r} is ambiguous: "
                + ", ".join(f"{r['hash']} (:{r['version']})" for r in rows)
                + "; give more digits"
            )
        if not rows:
            existing = store.find_prompt_rows(self.engine, name)
            if not existing:
                raise self._unknown_name(name)
            hashes = [str(r["hash"]) for r in existing]
            raise NotFoundError(
                "hash",
                f"{name}#{prefix}",
                candidates=[f"{name}#{h}" for h in nearest_names(prefix, hashes)],
            )
        version = _version_from_row(rows[0])
        self._remember(version)
        return version

    def _by_label(self, name: str, label: str | None) -> PromptVersion:
        now = time.monotonic()
        wanted = label or PRODUCTION
        entry = self._cache.labels.get((name, wanted))
        if entry is None or entry[1] < now:
            self._load_labels(name, now)
            entry = self._cache.labels.get((name, wanted), (None, 0.0))
        number = entry[0]
        if number is None:
            if label is None:
                return self._by_label(name, LATEST)
            labels = sorted(k[1] for k, v in self._cache.labels.items() if k[0] == name and v[0])
            raise NotFoundError(
                "label",
                f"{name}@{label}",
                candidates=[f"{name}@{x}" for x in nearest_names(label, labels)],
            )
        return self._by_number(name, number)

    def _load_labels(self, name: str, now: float) -> None:
        rows = store.list_prompt_rows(self.engine, name, include_archived=True)
        if not rows:
            raise self._unknown_name(name)
        expiry = now + self.label_ttl_s
        self._forget_labels(name)
        live = [r for r in rows if not r["archived"]] or rows
        self._cache.labels[(name, LATEST)] = (int(live[-1]["version"]), expiry)
        self._cache.labels[(name, PRODUCTION)] = (None, expiry)
        for row in store.prompt_labels_of(self.engine, name):
            self._cache.labels[(name, str(row["label"]))] = (int(row["version"]), expiry)

    def _unknown_name(self, name: str) -> NotFoundError:
        names = sorted({str(r["name"]) for r in store.list_prompt_rows(self.engine)})
        error = NotFoundError("prompt", name, candidates=nearest_names(name, names))
        if not names:
            error.args = (
                f"{error.args[0]}: the store {self.url} has no prompts yet; add one with "
                "`llmlab prompts add NAME --template TEXT` or `llmlab prompts push DIR`",
            )
        return error

    # -- listing -------------------------------------------------------------------

    def versions(self, name: str, *, include_archived: bool = False) -> list[PromptVersion]:
        """Every version of ``name``, oldest first (archived ones only if asked)."""
        rows = store.list_prompt_rows(self.engine, check_name(name), include_archived=True)
        if not rows:
            raise self._unknown_name(name)
        out = [_version_from_row(r) for r in rows]
        return [v for v in out if include_archived or not v.archived]

    def labels(self, name: str) -> dict[str, int]:
        """The labels of ``name`` and the versions they point at, ``latest`` included."""
        self._load_labels(check_name(name), time.monotonic())
        return {k[1]: v[0] for k, v in sorted(self._cache.labels.items()) if k[0] == name and v[0]}

    def list_prompts(self, *, include_archived: bool = False) -> list[PromptSummary]:
        """One summary per prompt name that has a version not archived (or any, if asked)."""
        rows = store.list_prompt_rows(self.engine, include_archived=include_archived)
        labels: dict[str, dict[str, int]] = {}
        for lab in store.prompt_labels_of(self.engine):
            labels.setdefault(str(lab["name"]), {})[str(lab["label"])] = int(lab["version"])
        by_name: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_name.setdefault(str(row["name"]), []).append(row)
        return [
            PromptSummary(
                name=name,
                versions=len(group),
                latest=int(group[-1]["version"]),
                labels={LATEST: int(group[-1]["version"]), **labels.get(name, {})},
                updated_at=max(r["created_at"] for r in group),
            )
            for name, group in sorted(by_name.items())
        ]

    # -- labels --------------------------------------------------------------------

    def set_label(
        self, name: str, label: str, version: int | str, *, actor: str | None = None
    ) -> LabelMove | None:
        """Point ``label`` at ``version`` (a number, or a reference like ``"#hash"``).

        Returns the recorded move, or None when the label already pointed there.
        """
        check_label(label, settable=True)
        target = self.resolve_version(name, version)
        if target.archived:
            raise InputError(
                f"prompt {name}:{target.version} is archived; unarchive it before labelling it"
            )
        move = store.move_label(
            self.engine, name, label, target.version or 0, actor=actor or _actor()
        )
        self._forget_labels(name)
        return None if move is None else LabelMove(**move)

    def promote(
        self, name: str, version: int | str, label: str = PRODUCTION, *, actor: str | None = None
    ) -> LabelMove | None:
        """Move ``label`` (default ``production``) to ``version``."""
        return self.set_label(name, label, version, actor=actor)

    def resolve_version(self, name: str, version: int | str) -> PromptVersion:
        """A version of ``name`` by number (``3``, ``"3"``), ``"#hash"``, ``"@label"`` or
        a bare label name (``"staging"``)."""
        if isinstance(version, int) or str(version).isdigit():
            return self._by_number(check_name(name), int(version))
        text = str(version).strip()
        if not text:
            raise InputError(f"prompt {name!r}: empty version; give N, #hash or @label")
        if text[0] in "@:#":
            return self.get(f"{name}{text}")
        return self.get(f"{name}@{text}")

    def history(self, name: str, label: str | None = None) -> list[LabelMove]:
        """Every label move of ``name`` (or of one label), oldest first."""
        rows = store.label_history_rows(self.engine, check_name(name), label)
        return [LabelMove(**{k: r[k] for k in LabelMove.__slots__}) for r in rows]

    def rollback(self, name: str, label: str, *, actor: str | None = None) -> LabelMove:
        """Move ``label`` back to the version it pointed at before its last move.

        Rollbacks stack: rolling back twice undoes the last two moves.
        """
        check_label(label, settable=True)
        moves = self.history(name, label)
        if not moves:
            labels = sorted(self.labels(name).keys() - {LATEST})
            raise NotFoundError(
                "label",
                f"{name}@{label}",
                candidates=[f"{name}@{x}" for x in nearest_names(label, labels)],
            )
        earlier: list[int | None] = []
        for move in moves:
            if move.kind == "rollback":
                if earlier:
                    earlier.pop()
            else:
                earlier.append(move.from_version)
        if not earlier or earlier[-1] is None:
            raise InputError(
                f"label {label!r} of prompt {name!r} has no earlier version to roll back to"
            )
        done = store.move_label(
            self.engine, name, label, earlier[-1], actor=actor or _actor(), kind="rollback"
        )
        self._forget_labels(name)
        if done is None:
            raise InputError(f"label {label!r} of prompt {name!r} already points there")
        return LabelMove(**done)

    # -- diff and archive ----------------------------------------------------------

    def diff(self, name: str, a: int | str, b: int | str) -> PromptDiff:
        """What changed from version ``a`` to ``b`` (numbers or references)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PromptArchivedWarning)
            return diff_versions(self.resolve_version(name, a), self.resolve_version(name, b))

    def compare_versions(self, name: str, hash1: str, hash2: str) -> dict[str, Any]:
        """The seed's comparison of two versions by hash (or number), plus the full diff."""
        a = self.resolve_version(name, hash1 if str(hash1).isdigit() else f"#{hash1}")
        b = self.resolve_version(name, hash2 if str(hash2).isdigit() else f"#{hash2}")
        d = diff_versions(a, b)
        return {
            "v1_hash": a.version_hash,
            "v2_hash": b.version_hash,
            "template_diff": a.template != b.template,
            "v1_metadata": a.metadata,
            "v2_metadata": b.metadata,
            "diff": d.as_dict(),
        }

    def archive(self, name: str, version: int | str, *, archived: bool = True) -> PromptVersion:
        """Hide a version from listings (still resolvable by number or hash, with a warning)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PromptArchivedWarning)
            target = self.resolve_version(name, version)
        assert target.version is not None
        store.set_prompt_archived(self.engine, name, target.version, archived)
        self._cache.versions.pop((name, target.version), None)
        self._forget_labels(name)
        return target.with_identity(name=name, version=target.version, archived=archived)


_registries: dict[str, PromptRegistry] = {}


def prompt_registry(url: str | None = None) -> PromptRegistry:
    """The shared registry of ``url`` (default: the store named by ``LLMLAB_DB``)."""
    key = url if url is not None else os.environ.get("LLMLAB_DB", "")
    found = _registries.get(key)
    if found is None:
        found = _registries[key] = PromptRegistry(url)
    return found


def get_prompt(ref: str, url: str | None = None) -> PromptVersion:
    """Resolve a prompt reference (``name``, ``name@label``, ``name:N``, ``name#hash``)."""
    return prompt_registry(url).get(ref)
