"""A lab as data: one folder with ``lab.toml``, a brief, starter files, a solution, hidden data.

Layout of ``curriculum/NN-slug/``::

    lab.toml      number, slug, title, track, files, hints, [[criteria]]
    brief.md      what to do, shown by `labs start`
    starter/      copied into the learner's folder
    solution/     the reference solution (same file names as starter/)
    hidden/       held-out cases and grader data the learner never sees

Adding a lab is adding a folder: the criteria name *kinds* the grader already knows
(``llmlab.labs._criteria``) and point at the lab's own data.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from llmlab._errors import ConfigError, NotFoundError

__all__ = ["CURRICULUM", "TRACKS", "Criterion", "Lab", "find_lab", "load_labs"]

CURRICULUM = Path(__file__).parent / "curriculum"
TRACKS = ("Evaluate", "Version & experiment", "Monitor", "Ship")


@dataclass(frozen=True, slots=True)
class Criterion:
    """One pass criterion of a lab: a grader kind and its parameters from ``lab.toml``."""

    kind: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Lab:
    """One lab of the curriculum."""

    number: int
    slug: str
    title: str
    track: str
    practice: str
    files: tuple[str, ...]
    hints: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    folder: Path
    uses_model: bool = False
    seconds: int = 0
    """The check's rough duration on a 2-core machine (shown before long checks)."""
    data_files: tuple[str, ...] = field(default=())
    """Read-only files copied next to the learner's files (data to look at)."""

    @property
    def name(self) -> str:
        """``NN-slug``, the default folder name in the learner's workspace."""
        return f"{self.number:02d}-{self.slug}"

    @property
    def brief(self) -> str:
        return (self.folder / "brief.md").read_text(encoding="utf-8")

    @property
    def starter(self) -> Path:
        return self.folder / "starter"

    @property
    def solution(self) -> Path:
        return self.folder / "solution"

    @property
    def hidden(self) -> Path:
        return self.folder / "hidden"


def _read(folder: Path) -> Lab:
    path = folder / "lab.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        lab = Lab(
            number=int(data["number"]),
            slug=str(data["slug"]),
            title=str(data["title"]),
            track=str(data["track"]),
            practice=str(data.get("practice", "")),
            files=tuple(str(f) for f in data["files"]),
            hints=tuple(str(h) for h in data.get("hints", [])),
            criteria=tuple(
                Criterion(kind=str(c["kind"]), params={k: v for k, v in c.items() if k != "kind"})
                for c in data["criteria"]
            ),
            folder=folder,
            uses_model=bool(data.get("uses_model", False)),
            seconds=int(data.get("seconds", 0)),
            data_files=tuple(str(f) for f in data.get("data_files", [])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: missing or malformed field {exc}") from None
    if lab.track not in TRACKS:
        raise ConfigError(f"{path}: track {lab.track!r} is not one of {', '.join(TRACKS)}")
    return lab


@cache
def load_labs(root: Path = CURRICULUM) -> tuple[Lab, ...]:
    """Every lab under ``root``, by number."""
    labs = [_read(folder) for folder in sorted(root.iterdir()) if (folder / "lab.toml").is_file()]
    return tuple(sorted(labs, key=lambda lab: lab.number))


def find_lab(ref: str | int, labs: tuple[Lab, ...] | None = None) -> Lab:
    """A lab by number (``4``, ``"04"``), slug or ``NN-slug``.

    Raises:
        NotFoundError: no lab answers to ``ref``.
    """
    labs = labs if labs is not None else load_labs()
    text = str(ref).strip()
    for lab in labs:
        if text.isdigit() and int(text) == lab.number:
            return lab
        if text in (lab.slug, lab.name):
            return lab
    raise NotFoundError("lab", text, candidates=[lab.name for lab in labs])
