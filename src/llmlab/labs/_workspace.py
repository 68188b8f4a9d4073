"""The learner's side: a workspace folder holding one folder per started lab.

``llmlab labs start 4`` copies the lab's starter into ``./llmlab-labs/04-slug/`` (or
``--dir``) and leaves a marker file there. Files the learner has edited are never
overwritten: a start on an existing folder only adds what is missing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from llmlab._errors import InputError
from llmlab.labs._lab import Lab, load_labs

__all__ = [
    "MARKER",
    "WORKSPACE_DIR",
    "CopyResult",
    "copy_starter",
    "find_workspace",
    "lab_in_folder",
    "learner_files",
    "reset_starter",
    "solution_files",
    "starter_files",
]

WORKSPACE_DIR = "llmlab-labs"
MARKER = ".llmlab-lab.json"


@dataclass(frozen=True, slots=True)
class CopyResult:
    """What a start copied and what it left alone."""

    lab_dir: Path
    copied: tuple[str, ...]
    kept: tuple[str, ...]
    """Files already there and edited: left as they are."""


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def starter_files(lab: Lab) -> list[str]:
    """The starter's files, relative to the lab folder."""
    return _files(lab.starter)


def solution_files(lab: Lab) -> list[str]:
    """The reference solution's files, relative to its folder."""
    return _files(lab.solution)


def learner_files(lab: Lab, lab_dir: Path) -> list[Path]:
    """The files the learner edits (what ``watch`` looks at)."""
    return [lab_dir / name for name in lab.files]


def _marker(folder: Path) -> dict[str, str]:
    marker = folder / MARKER
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        return {"lab": str(data["lab"]), "workspace": str(data.get("workspace", folder.parent))}
    except (ValueError, KeyError, TypeError):
        raise InputError(
            "the lab marker is damaged; run `llmlab labs start` again", path=marker
        ) from None


def find_workspace(start: Path) -> Path:
    """The workspace for a folder: the one a lab folder was started in, or ``./llmlab-labs``."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return Path(_marker(folder)["workspace"])
        if folder.name == WORKSPACE_DIR:
            return folder
        if (folder / WORKSPACE_DIR).is_dir():
            return folder / WORKSPACE_DIR
    return here / WORKSPACE_DIR


def lab_in_folder(start: Path) -> tuple[Lab, Path, Path] | None:
    """The lab whose folder holds ``start`` (through its marker): lab, folder, workspace."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            data = _marker(folder)
            for lab in load_labs():
                if lab.slug == data["lab"]:
                    return lab, folder, Path(data["workspace"])
    return None


def copy_starter(lab: Lab, lab_dir: Path, workspace: Path | None = None) -> CopyResult:
    """Copy the starter into ``lab_dir``; files already there are never overwritten.

    ``workspace`` (default: the folder above) is what progress is kept under.
    """
    lab_dir.mkdir(parents=True, exist_ok=True)
    copied: list[str] = []
    kept: list[str] = []
    for name in starter_files(lab):
        source, target = lab.starter / name, lab_dir / name
        if target.exists():
            if _digest(target) != _digest(source):
                kept.append(name)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(name)
    marker = {
        "version": 1,
        "lab": lab.slug,
        "number": lab.number,
        "workspace": str(workspace or lab_dir.resolve().parent),
    }
    (lab_dir / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return CopyResult(lab_dir=lab_dir, copied=tuple(copied), kept=tuple(kept))


def reset_starter(lab: Lab, lab_dir: Path, workspace: Path | None = None) -> list[str]:
    """Put every starter file back as it was (the learner's edits are lost)."""
    restored = []
    for name in starter_files(lab):
        target = lab_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lab.starter / name, target)
        restored.append(name)
    copy_starter(lab, lab_dir, workspace)  # the marker
    return restored
