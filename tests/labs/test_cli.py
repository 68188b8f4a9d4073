"""`llmlab labs` end to end: start, check, hint, reset, solution, progress, list."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from llmlab.labs import find_lab, load_labs
from llmlab.store import Store, lab_attempt_rows

from .conftest import apply_solution, run

LAB1 = Path("llmlab-labs/01-first-eval-suite")


def test_list_shows_every_lab_not_started_and_the_next(
    learner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "labs", "list", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["total"] == len(load_labs()) >= 10
    assert data["done"] == 0
    assert data["next"] == 1
    assert {lab["status"] for lab in data["labs"]} == {"not started"}
    tracks = {lab["track"] for lab in data["labs"]}
    assert {"Evaluate", "Version & experiment"} <= tracks

    code, out, _ = run(capsys, "labs")
    assert code == 0
    assert "0/" in out and "next: lab 1" in out and "llmlab labs start 1" in out


def test_start_fail_solve_pass_progress(
    learner: Path, capsys: pytest.CaptureFixture[str], llmlab_store: Store
) -> None:
    code, out, _ = run(capsys, "labs", "start", "1")
    assert code == 0
    assert "First eval suite" in out and "llmlab labs check 1" in out
    assert (LAB1 / "suite.py").is_file() and (LAB1 / "articles.yaml").is_file()

    code, out, _ = run(capsys, "labs", "check", "1")
    assert code == 1
    # the measured figure, the bar and the distance
    assert "✘ cases in the suite: 2 cases, needs ≥ 8 — 6 more cases" in out
    assert "✘ catches the bug: cut short (held out): 2/2 = 100% [95% CI 34–100%] pass" in out
    assert "NOT YET" in out

    apply_solution("1", LAB1)
    code, out, _ = run(capsys, "labs", "check", "1")
    assert code == 0, out
    assert "✔ the known-good function passes: 8/8 = 100% [95% CI 68–100%]" in out
    assert "PASSED" in out

    code, out, _ = run(capsys, "labs", "progress", "--json")
    data = json.loads(out)
    assert data["done"] == 1
    assert data["tracks"]["Evaluate"]["done"] == 1
    lab1 = next(lab for lab in data["labs"] if lab["number"] == 1)
    assert lab1["status"] == "done" and lab1["attempts"] == 2

    workspace = str((learner / "llmlab-labs").resolve())
    attempts = lab_attempt_rows(llmlab_store, workspace, "first-eval-suite")
    assert [a.outcome for a in attempts] == ["passed", "failed"]
    assert attempts[0].criteria[0]["name"] == "cases in the suite"

    code, out, _ = run(capsys, "labs")
    assert "✔ done" in out and "next: lab 2" in out


def test_check_inside_the_lab_folder_needs_no_number(
    learner: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "labs", "start", "2")
    monkeypatch.chdir(Path("llmlab-labs/02-scorer-bugs/"))
    code, out, _ = run(capsys, "labs", "check", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["lab"] == "02-scorer-bugs" and report["passed"] is False
    visible = report["criteria"][0]
    assert visible["measured"].startswith("8/16 = 50%")
    assert visible["failures"][0]["answer"] == "1,242"


def test_broken_learner_files_exit_2_naming_file_and_line(
    learner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "labs", "start", "1")
    suite = LAB1 / "suite.py"
    suite.write_text("x = 1\ndef score(output, expected)\n    return 1.0\n")
    code, _, err = run(capsys, "labs", "check", "1")
    assert code == 2
    assert f"{suite.resolve()}:2: syntax error" in err
    assert "Traceback" not in err

    # an exception raised in the learner's scorer names its line too
    apply_solution("1", LAB1)
    text = suite.read_text().replace("value = 0.0\n", 'value = 0.0\n    raise ValueError("oops")\n')
    suite.write_text(text)
    line = text.splitlines().index('    raise ValueError("oops")') + 1
    code, _, err = run(capsys, "labs", "check", "1")
    assert code == 2
    assert f"suite.py:{line}: " in err and "ValueError: oops" in err

    run(capsys, "labs", "start", "6")
    answers = Path("llmlab-labs/06-intervals/answers.toml")
    answers.write_text("a_low = 0.4\na_high = = 0.9\n")
    code, _, err = run(capsys, "labs", "check", "6")
    assert code == 2
    assert "answers.toml:2: not valid TOML" in err

    # a label line without the human's verdict is named, not a KeyError
    run(capsys, "labs", "start", "2")
    labels = Path("llmlab-labs/02-scorer-bugs/labels.jsonl")
    rows = labels.read_text().splitlines()
    rows[2] = '{"id": "l03", "output": "12", "expected": "12"}'
    labels.write_text("\n".join(rows) + "\n")
    code, _, err = run(capsys, "labs", "check", "2")
    assert code == 2
    assert "labels.jsonl:3: a label is an object with output, expected and human" in err
    assert "Traceback" not in err


def test_start_never_overwrites_and_reset_restores(
    learner: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "labs", "start", "2")
    scorer = Path("llmlab-labs/02-scorer-bugs/scorer.py")
    starter = (find_lab("2").starter / "scorer.py").read_text()
    scorer.write_text("def score(output, expected):\n    return 0.5\n")
    (scorer.parent / "labels.jsonl").unlink()

    code, out, _ = run(capsys, "labs", "start", "2")
    assert code == 0
    assert "kept your edited scorer.py" in out
    assert scorer.read_text().endswith("return 0.5\n")
    assert (scorer.parent / "labels.jsonl").is_file()  # a missing file comes back

    # reset asks first; "no" keeps the edits
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    code, _, _ = run(capsys, "labs", "reset", "2")
    assert code == 1
    assert scorer.read_text().endswith("return 0.5\n")

    code, out, _ = run(capsys, "labs", "reset", "2", "--yes")
    assert code == 0 and "restored" in out
    assert scorer.read_text() == starter


def test_hints_come_one_more_each_time(learner: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "labs", "start", "2")
    hints = find_lab("2").hints
    _, out, _ = run(capsys, "labs", "hint", "2")
    assert out.count("hint ") == 1 and hints[0] in out
    _, out, _ = run(capsys, "labs", "hint", "2")
    assert out.count("hint ") == 2 and hints[1] in out
    for _ in range(len(hints)):
        _, out, _ = run(capsys, "labs", "hint", "2")
    assert out.count("hint ") == len(hints) and "every hint" in out


def test_solution_only_after_passing_or_on_reveal(
    learner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "labs", "start", "6")
    code, _, err = run(capsys, "labs", "solution", "6")
    assert code == 2 and "has not passed yet" in err
    code, out, _ = run(capsys, "labs", "solution", "6", "--reveal", "--yes")
    assert code == 0 and "cases_needed = 294" in out

    apply_solution("6", Path("llmlab-labs/06-intervals"))
    assert run(capsys, "labs", "check", "6")[0] == 0
    code, out, _ = run(capsys, "labs", "solution", "6")
    assert code == 0 and "cases_needed = 294" in out


def test_numbers_are_checked_against_the_tools_recomputation(
    learner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "labs", "start", "6")
    answers = Path("llmlab-labs/06-intervals/answers.toml")
    apply_solution("6", answers.parent)
    text = answers.read_text().replace("a_low = 0.3968", "a_low = 0.42")
    answers.write_text(text)
    code, out, _ = run(capsys, "labs", "check", "6")
    assert code == 1
    line = next(row for row in out.splitlines() if "a_low" in row)
    assert "✘" in line and "too high by more than 0.01" in line
    assert "0.3968" not in line  # the tool's figure is not handed out


def test_unknown_lab_is_an_input_error(learner: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "labs", "start", "99")
    assert code == 2 and "unknown lab '99'" in err


def test_start_into_another_folder_keeps_one_workspace(
    learner: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = learner.parent / "elsewhere" / "intervals"
    code, _, _ = run(capsys, "labs", "start", "6", "--dir", str(elsewhere))
    assert code == 0 and (elsewhere / "answers.toml").is_file()
    apply_solution("6", elsewhere)
    assert run(capsys, "labs", "check", "6")[0] == 0  # found from the workspace
    monkeypatch.chdir(elsewhere)
    assert run(capsys, "labs", "check")[0] == 0  # found from inside the folder
    monkeypatch.chdir(learner)
    data = json.loads(run(capsys, "labs", "progress", "--json")[1])
    lab6 = next(lab for lab in data["labs"] if lab["number"] == 6)
    assert lab6["status"] == "done" and lab6["attempts"] == 2
    assert lab6["dir"] == str(elsewhere.resolve())


def test_a_bad_prompt_file_is_reported_before_any_model_call(
    learner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "labs", "start", "4")
    prompt = Path("llmlab-labs/04-prompt-engineering/prompt.yaml")
    prompt.write_text('prompt: "Sentiment? {{ review }}"\nmax_tokens: 24: 3\n')
    code, _, err = run(capsys, "labs", "check", "4")
    assert code == 2 and "prompt.yaml:2: not valid YAML" in err

    prompt.write_text('prompt: "Sentiment? {{ review }}"\ntemperature: 0.9\n')
    code, _, err = run(capsys, "labs", "check", "4")
    assert code == 2
    assert "prompt.yaml:2: temperature: Extra inputs are not permitted" in err

    prompt.write_text('prompt: "Sentiment? {{ review }"\n')
    code, _, err = run(capsys, "labs", "check", "4")
    assert code == 2 and "prompt.yaml:1: " in err and "does not parse" in err
