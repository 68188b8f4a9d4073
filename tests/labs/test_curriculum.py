"""The curriculum itself: every lab well formed, and `labs verify` over all of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmlab.labs import (
    TRACKS,
    criterion_kinds,
    find_lab,
    load_labs,
    solution_files,
    starter_files,
    verify_labs,
)
from llmlab.store import Store

from .conftest import SOLUTIONS, run


def test_every_lab_is_well_formed() -> None:
    labs = load_labs()
    assert len(labs) >= 10
    assert len({lab.number for lab in labs}) == len(labs)
    assert {lab.track for lab in labs} <= set(TRACKS)
    registered = criterion_kinds()
    for lab in labs:
        assert lab.brief.startswith(f"# Lab {lab.number} ·"), lab.name
        assert lab.hints, lab.name
        assert all(c.kind in registered for c in lab.criteria), lab.name
        starter = set(starter_files(lab))
        assert set(lab.files) <= starter, lab.name
        assert set(lab.data_files) <= starter, lab.name
        # a solution only replaces files the learner edits
        assert set(solution_files(lab)) <= set(lab.files) | starter, lab.name
        second = SOLUTIONS / lab.name
        assert second.is_dir(), f"no second solution for {lab.name}"
        for path in second.iterdir():
            assert path.name in lab.files, f"{path} is not a learner file"
            assert path.read_text() != (lab.solution / path.name).read_text()


def test_labs_are_found_by_number_slug_and_folder_name() -> None:
    lab = find_lab("4")
    assert find_lab("prompt-engineering") is lab
    assert find_lab("04-prompt-engineering") is lab


def _cheap() -> list[str]:
    return [lab.name for lab in load_labs() if not lab.uses_model]


@pytest.mark.parametrize("name", _cheap())
def test_verify_a_lab_without_the_model(name: str, llmlab_store: Store) -> None:
    results = verify_labs([find_lab(name)], alternates=SOLUTIONS)
    assert [(r.stage, r.ok) for r in results] == [
        ("starter", True),
        ("reference", True),
        ("alternate", True),
    ], [r.detail for r in results]


@pytest.mark.slow
def test_labs_verify_the_whole_curriculum(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    llmlab_store: Store,
) -> None:
    """Curriculum CI on the embedded model: starter fails, both solutions pass."""
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    code, out, _ = run(capsys, "labs", "verify")
    assert code == 0, out
    assert f"{3 * len(load_labs())}/{3 * len(load_labs())} stages as expected" in out
