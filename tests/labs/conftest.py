"""Fixtures for the labs: a learner's working folder with its own database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmlab.cli import main
from llmlab.labs import find_lab
from llmlab.store import Store

SOLUTIONS = Path(__file__).parent / "solutions"


@pytest.fixture
def learner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llmlab_store: Store) -> Iterator[Path]:
    """A fresh folder to work in (the workspace goes to ./llmlab-labs), as the cwd."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.chdir(home)
    yield home


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `llmlab ARGS` in-process: exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out, err


def apply_solution(lab_ref: str, lab_dir: Path, *, alternate: bool = False) -> None:
    """Copy a lab's reference (or second) solution over the learner's files."""
    lab = find_lab(lab_ref)
    source = SOLUTIONS / lab.name if alternate else lab.solution
    for path in source.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            target = lab_dir / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
