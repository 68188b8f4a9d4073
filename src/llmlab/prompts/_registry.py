"""The prompt registry: versions and labels kept in the store, cached with the handle.

Versions are immutable, so a resolved version is cached for the life of the store
handle; labels move, so a label is cached for ``label_ttl_s`` seconds (moves made through
this handle are seen at once). Resolving ``name@production`` from the cache is a few
dict lookups. The cache is a component of the :class:`~llmlab.store.Store`: every
registry on one handle shares it, and it goes away when the handle is closed.
"""

from __future__ import annotations

import difflib
import json
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from llmlab._errors import InputError, NotFoundError
from llmlab._json import JsonObject
from llmlab.prompts._diff import PromptDiff, diff_versions
from llmlab.prompts._refs import LATEST, PRODUCTION, PromptRef, check_label, check_name
from llmlab.prompts._refs import current_actor as _actor
from llmlab.prompts._version import ModelConfig, PromptVersion
from llmlab.store import Store, resolve_store
from llmlab.store import _prompts as rows
from llmlab.store._prompts import LabelMove, PromptRow

__all__ = [
    "LabelMove",
    "PromptArchivedWarning",
    "PromptRegistry",
    "PromptSummary",
    "VersionComparison",
    "get_prompt",
    "nearest_names",
    "prompt_registry",
]


class PromptArchivedWarning(UserWarning):
    """A resolved prompt version is archived (deprecated)."""


class VersionComparison(TypedDict):
    """:meth:`PromptRegistry.compare_versions` in the guide's shape."""

    v1_hash: str
    v2_hash: str
    template_diff: bool
    v1_metadata: JsonObject
    v2_metadata: JsonObject
    diff: JsonObject


@dataclass(frozen=True, slots=True)
class PromptSummary:
    """One prompt in a listing."""

    name: str
    versions: int
    latest: int
    labels: dict[str, int]
    updated_at: datetime

    def to_dict(self) -> JsonObject:
        """JSON-ready form (``updated_at`` as ISO text)."""
        return {
            "name": self.name,
            "versions": self.versions,
            "latest": self.latest,
            "labels": self.labels,
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass
class PromptCache:
    """Resolved versions and labels of one store (a component of the handle)."""

    versions: dict[tuple[str, int], PromptVersion] = field(default_factory=dict)
    hashes: dict[tuple[str, str], int] = field(default_factory=dict)
    # (name, label) -> (version or None when the label is not set, expiry)
    labels: dict[tuple[str, str], tuple[int | None, float]] = field(default_factory=dict)
    refs: dict[str, PromptRef] = field(default_factory=dict)

    @classmethod
    def of(cls, store: Store) -> PromptCache:
        """The cache of ``store`` (made on first use)."""
        return store.component(cls, lambda _: cls())

    def after_fork(self) -> None:
        """Plain data, valid in a forked child too: kept (a pre-forking server's workers
        start with the versions the parent resolved)."""

    def clear(self) -> None:
        """Forget everything cached (another process rewrote the store)."""
        self.versions.clear()
        self.hashes.clear()
        self.labels.clear()
        self.refs.clear()


def _version_from_row(row: PromptRow) -> PromptVersion:
    template: Any = row.template
    if row.kind == "chat":
        template = json.loads(template)
    return PromptVersion(
        template,
        row.variables,
        row.meta,
        config=ModelConfig(**row.config),
        message=row.message,
        author=row.author,
        created_at=row.created_at,
        syntax=row.syntax,  # type: ignore[arg-type]
        name=row.name,
        version=row.version,
        archived=row.archived,
    )


def nearest_names(name: str, options: list[str]) -> list[str]:
    """The options closest to ``name`` (difflib), else the first few, for error messages."""
    close = difflib.get_close_matches(name, options, n=5, cutoff=0.5)
    return close or options[:5]


class PromptRegistry:
    """Prompt versions and labels in a store (the default handle unless ``store`` is given).

    The main API: :meth:`add`, :meth:`get`, :meth:`set_label`, :meth:`diff`. The guide's
    names work as there, as aliases: ``register(name, version, set_active=False)``,
    ``get_active(name)`` and ``compare_versions(name, hash1, hash2)``; versions survive
    the process.

    Args:
        store: the store handle; None uses the default one (``LLMLAB_DB``).
        label_ttl_s: how long a label is cached before it is read again.
    """

    def __init__(self, store: Store | None = None, *, label_ttl_s: float = 5.0) -> None:
        self.store = resolve_store(store)
        self.label_ttl_s = label_ttl_s
        self._cache = PromptCache.of(self.store)

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
        """The guide's name for :meth:`add`; returns only the stored version.

        ``set_active`` points ``production`` at it (as ``add``).
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
        """Store ``version`` under ``name``; identical content returns the existing version.

        ``set_active`` points ``production`` at it; ``label`` points that label at it.

        Returns:
            ``(stored, created)``: the stored version, carrying its name and number, and
            False when identical content was already registered.
        """
        check_name(name)
        if label is not None:
            check_label(label, settable=True)
        template = version.template
        try:
            variables = json.loads(json.dumps(version.variables))
            meta = json.loads(json.dumps(version.metadata, default=str))
        except (TypeError, ValueError) as exc:
            raise InputError(f"prompt {name!r}: variables must be JSON values: {exc}") from None
        row, created = rows.insert_prompt_version(
            self.store,
            name=name,
            hash=version.version_hash,
            kind="text" if isinstance(template, str) else "chat",
            template=template
            if isinstance(template, str)
            else json.dumps([m.model_dump() for m in template], ensure_ascii=False),
            syntax=version.syntax,
            variables=variables,
            config=version.config.to_dict(),
            meta=meta,
            message=version.message or message,
            author=version.author or author or _actor(),
            created_at=version.created_at,
        )
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
        """The guide's name for :meth:`get` with a bare name: the version ``production``
        points at, else the newest one."""
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
        found = rows.find_prompt_rows(self.store, name, version=number)
        if not found:
            existing = rows.find_prompt_rows(self.store, name)
            if not existing:
                raise self._unknown_name(name)
            raise NotFoundError(
                "version",
                f"{name}:{number}",
                candidates=[f"{name}:{r.version}" for r in existing[-5:]],
            )
        version = _version_from_row(found[0])
        self._remember(version)
        return version

    def _by_hash(self, name: str, prefix: str) -> PromptVersion:
        number = self._cache.hashes.get((name, prefix))
        if number is not None:
            return self._by_number(name, number)
        found = rows.find_prompt_rows(self.store, name, hash_prefix=prefix)
        if len(found) > 1:
            raise InputError(
                f"hash {prefix!r} of prompt {name!r} is ambiguous: "
                + ", ".join(f"{r.hash} (:{r.version})" for r in found)
                + "; give more digits"
            )
        if not found:
            existing = rows.find_prompt_rows(self.store, name)
            if not existing:
                raise self._unknown_name(name)
            hashes = [r.hash for r in existing]
            raise NotFoundError(
                "hash",
                f"{name}#{prefix}",
                candidates=[f"{name}#{h}" for h in nearest_names(prefix, hashes)],
            )
        version = _version_from_row(found[0])
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
        versions = rows.list_prompt_rows(self.store, name, include_archived=True)
        if not versions:
            raise self._unknown_name(name)
        expiry = now + self.label_ttl_s
        self._forget_labels(name)
        live = [r for r in versions if not r.archived] or versions
        self._cache.labels[(name, LATEST)] = (live[-1].version, expiry)
        self._cache.labels[(name, PRODUCTION)] = (None, expiry)
        for row in rows.prompt_labels_of(self.store, name):
            self._cache.labels[(name, row.label)] = (row.version, expiry)

    def _unknown_name(self, name: str) -> NotFoundError:
        names = sorted({r.name for r in rows.list_prompt_rows(self.store)})
        error = NotFoundError("prompt", name, candidates=nearest_names(name, names))
        if not names:
            error.args = (
                f"{error.args[0]}: the store {self.store.safe_url} has no prompts yet; "
                "add one with `llmlab prompts add NAME --template TEXT` or "
                "`llmlab prompts push DIR`",
            )
        return error

    # -- listing -------------------------------------------------------------------

    def versions(self, name: str, *, include_archived: bool = False) -> list[PromptVersion]:
        """Every version of ``name``, oldest first (archived ones only if asked)."""
        found = rows.list_prompt_rows(self.store, check_name(name), include_archived=True)
        if not found:
            raise self._unknown_name(name)
        out = [_version_from_row(r) for r in found]
        return [v for v in out if include_archived or not v.archived]

    def labels(self, name: str) -> dict[str, int]:
        """The labels of ``name`` and the versions they point at, ``latest`` included."""
        self._load_labels(check_name(name), time.monotonic())
        return {k[1]: v[0] for k, v in sorted(self._cache.labels.items()) if k[0] == name and v[0]}

    def list_prompts(self, *, include_archived: bool = False) -> list[PromptSummary]:
        """One summary per prompt name that has a version not archived (or any, if asked)."""
        found = rows.list_prompt_rows(self.store, include_archived=include_archived)
        labels: dict[str, dict[str, int]] = {}
        for lab in rows.prompt_labels_of(self.store):
            labels.setdefault(lab.name, {})[lab.label] = lab.version
        by_name: dict[str, list[PromptRow]] = {}
        for row in found:
            by_name.setdefault(row.name, []).append(row)
        return [
            PromptSummary(
                name=name,
                versions=len(group),
                latest=group[-1].version,
                labels={LATEST: group[-1].version, **labels.get(name, {})},
                updated_at=max(r.created_at for r in group),
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
        move = rows.move_label(
            self.store, name, label, target.version or 0, actor=actor or _actor()
        )
        self._forget_labels(name)
        return move

    def promote(
        self, name: str, version: int | str, label: str = PRODUCTION, *, actor: str | None = None
    ) -> LabelMove | None:
        """Shorthand for :meth:`set_label` with the label last (default ``production``)."""
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
        return rows.label_history_rows(self.store, check_name(name), label)

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
        done = rows.move_label(
            self.store, name, label, earlier[-1], actor=actor or _actor(), kind="rollback"
        )
        self._forget_labels(name)
        if done is None:
            raise InputError(f"label {label!r} of prompt {name!r} already points there")
        return done

    # -- diff and archive ----------------------------------------------------------

    def diff(self, name: str, a: int | str, b: int | str) -> PromptDiff:
        """What changed from version ``a`` to ``b`` (numbers or references)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PromptArchivedWarning)
            return diff_versions(self.resolve_version(name, a), self.resolve_version(name, b))

    def compare_versions(self, name: str, hash1: str, hash2: str) -> VersionComparison:
        """The guide's name for :meth:`diff`, by hash (or number), in the guide's shape.

        Returns ``v1_hash``, ``v2_hash``, ``template_diff``, ``v1_metadata``,
        ``v2_metadata`` as the guide does, plus ``diff`` (:meth:`PromptDiff.to_dict`).
        """
        d = self.diff(
            name,
            hash1 if str(hash1).isdigit() else f"#{hash1}",
            hash2 if str(hash2).isdigit() else f"#{hash2}",
        )
        return {
            "v1_hash": d.a.version_hash,
            "v2_hash": d.b.version_hash,
            "template_diff": d.a.template != d.b.template,
            "v1_metadata": d.a.metadata,
            "v2_metadata": d.b.metadata,
            "diff": d.to_dict(),
        }

    def archive(self, name: str, version: int | str, *, archived: bool = True) -> PromptVersion:
        """Hide a version from listings (still resolvable by number or hash, with a warning)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PromptArchivedWarning)
            target = self.resolve_version(name, version)
        assert target.version is not None
        rows.set_prompt_archived(self.store, name, target.version, archived)
        self._cache.versions.pop((name, target.version), None)
        self._forget_labels(name)
        return target.with_identity(name=name, version=target.version, archived=archived)


def prompt_registry(*, store: Store | None = None) -> PromptRegistry:
    """The shared registry of ``store`` (default: the default handle), a component of it."""
    return resolve_store(store).component(PromptRegistry, PromptRegistry)


def get_prompt(ref: str, *, store: Store | None = None) -> PromptVersion:
    """Resolve a prompt reference (``name``, ``name@label``, ``name:N``, ``name#hash``)."""
    return prompt_registry(store=store).get(ref)
