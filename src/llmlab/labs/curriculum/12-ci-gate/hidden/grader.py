"""Lab 12: run the learner's gate under pytest on a regressed prompt and on a fixed one.

Both prompts are held out and worded differently from the learner's: the regressed one
still *contains* ``{{ context }}`` (inside a Jinja comment, so it never reaches the
model), so a test that greps the prompt file cannot tell it from the fixed one. A third
run keeps the fixed prompt but hands the gate cases that expect other answers: a gate
that measures fails it, one that judges the prompt's text (or its rendering) passes it.
Each run writes JUnit XML (what CI reads) and records its model calls; the check reads
those calls back and requires that the gate asked the model every case with the prompt
under test, so a verdict must come from measured answers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from llmlab.store import CallRow, Store, recent_calls

_HERE = Path(__file__).parent
_CASES = _HERE.parent / "starter" / "cases.yaml"
_TIMEOUT_S = 900  # generous: a busy machine must not turn a slow gate into a failed one
_SRC = Path(__file__).resolve().parents[5]  # .../src, where llmlab lives
# A phrase of each held-out prompt: a call that carries it was made with that prompt.
_MARKERS = {"regressed.txt": "Use the context to answer", "fixed.txt": "Read the passage"}


class _Outcome(NamedTuple):  # not a dataclass: this file is loaded outside sys.modules
    tests: int
    failures: int
    errors: int
    tail: str
    cases: int = 0
    asked: int = 0
    """Cases the model was asked with the prompt under test (from the recorded calls)."""
    answered: int = 0
    """Of those, cases whose recorded answer holds the expected answer."""


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _calls(work: Path) -> list[CallRow]:
    """Every call recorded by the run: in LLMLAB_DB and in pytest's per-test stores."""
    found: list[CallRow] = []
    paths = [work / "ci.db", *sorted((work / "pytest-tmp").rglob("*.db"))]
    for path in paths:
        if path.is_file():
            store = Store(f"sqlite:///{path}")
            try:
                found += recent_calls(store, limit=2000)
            finally:
                store.close()
    return found


def _measure(calls: list[CallRow], marker: str, cases_file: Path) -> tuple[int, int, int]:
    cases = yaml.safe_load(cases_file.read_text(encoding="utf-8"))
    sent = [(" ".join(_strings(c.request)), c.response_text or "") for c in calls]
    asked = answered = 0
    for case in cases:
        answers = [a for text, a in sent if case["question"] in text and marker in text]
        expected = case["answer"] if isinstance(case["answer"], list) else [case["answer"]]
        if answers:
            asked += 1
            if any(str(e).lower() in a.lower() for a in answers for e in expected):
                answered += 1
    return len(cases), asked, answered


def _run(lab_dir: Path, prompt: str, cases: Path = _CASES) -> _Outcome:
    """pytest on the learner's gate with the held-out ``prompt`` as prompt.txt."""
    with tempfile.TemporaryDirectory(prefix="llmlab-lab12-") as tmp:
        work = Path(tmp)
        shutil.copyfile(lab_dir / "test_gate.py", work / "test_gate.py")
        shutil.copyfile(cases, work / "cases.yaml")
        shutil.copyfile(_HERE / prompt, work / "prompt.txt")
        junit = work / "junit.xml"
        path = os.pathsep.join(filter(None, [str(_SRC), os.environ.get("PYTHONPATH", "")]))
        env = {
            **os.environ,
            "PYTHONPATH": path,
            "LLMLAB_DB": f"sqlite:///{work / 'ci.db'}",
            "LLMLAB_CAPTURE_CONTENT": "1",
        }
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        command += ["test_gate.py", f"--junitxml={junit}", "-o", "junit_family=xunit2"]
        command += [f"--basetemp={work / 'pytest-tmp'}"]
        try:
            done = subprocess.run(
                command,
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return _Outcome(0, 0, 1, f"pytest ran past {_TIMEOUT_S} s and was stopped")
        if not junit.exists():
            tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
            return _Outcome(0, 0, 1, tail[0])
        suite = ET.parse(junit).getroot()
        node = suite if suite.tag == "testsuite" else suite[0]
        tests = int(node.get("tests", 0))
        failures, errors = int(node.get("failures", 0)), int(node.get("errors", 0))
        tail = (done.stdout.strip().splitlines() or [""])[-1]
        n, asked, answered = _measure(_calls(work), _MARKERS[prompt], cases)
        return _Outcome(tests, failures, errors, tail, n, asked, answered)


def _measured(run: _Outcome, which: str) -> dict[str, object]:
    return {
        "name": f"the gate measured the {which} prompt: the model was asked every case",
        "passed": run.cases > 0 and run.asked == run.cases,
        "measured": f"{run.asked}/{run.cases} cases asked with the prompt under test "
        f"(recorded calls); their answers pass {run.answered}/{run.asked}",
        "bar": f"needs {run.cases}/{run.cases}",
        "distance": "a gate must run the prompt on the cases through the model and score "
        "the answers; reading the prompt file proves nothing",
    }


def check(lab_dir: Path, model: str) -> list[dict[str, object]]:
    bad = _run(lab_dir, "regressed.txt")
    good = _run(lab_dir, "fixed.txt")
    wrong = _run(lab_dir, "fixed.txt", _HERE / "mislabelled.yaml")
    return [
        {
            "name": "the gate fails on a regressed prompt (held out)",
            "passed": bad.tests > 0 and bad.failures > 0 and bad.errors == 0,
            "measured": f"JUnit: {bad.tests} tests, {bad.failures} failed, {bad.errors} errors "
            f"({bad.tail})",
            "bar": "needs a failing test",
            "distance": "the gate let a broken prompt through: measure the answers, not the file",
        },
        _measured(bad, "regressed"),
        {
            "name": "the gate passes on a fixed prompt (held out)",
            "passed": good.tests > 0 and good.failures == 0 and good.errors == 0,
            "measured": f"JUnit: {good.tests} tests, {good.failures} failed, "
            f"{good.errors} errors ({good.tail})",
            "bar": "needs every test to pass",
            "distance": "the gate is too strict for a good prompt: check the bar and the scorer",
        },
        _measured(good, "fixed"),
        {
            "name": "the gate fails when the answers are wrong (fixed prompt, held-out cases "
            "that expect other answers)",
            "passed": wrong.failures > 0 and wrong.errors == 0 and wrong.asked == wrong.cases,
            "measured": f"JUnit: {wrong.tests} tests, {wrong.failures} failed, "
            f"{wrong.errors} errors; {wrong.asked}/{wrong.cases} cases asked, their answers "
            f"pass {wrong.answered}/{wrong.asked}",
            "bar": "needs a failing test, every case asked",
            "distance": "the verdict must follow the measured pass rate on the cases in "
            "cases.yaml, not the prompt's text",
        },
    ]
