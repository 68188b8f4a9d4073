"""What the checks of labs 1, 7, 9 and 12 measure, and the answers they refuse."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from llmlab.labs import check_lab, find_lab
from llmlab.labs._costs import price_override, recorded_costs
from llmlab.models import Request, get_model, scripted
from llmlab.store import Store

from .conftest import apply_solution, run

LAB1 = Path("llmlab-labs/01-first-eval-suite")
LAB7 = Path("llmlab-labs/07-paired-ab")


def _line(out: str, start: str) -> str:
    return next(row for row in out.splitlines() if start in row)


def test_lab1_yaml_suite_runs_and_must_be_the_python_suite(
    learner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "labs", "start", "1")
    assert (LAB1 / "suite.yaml").is_file()
    apply_solution("1", LAB1)
    code, out, _ = run(capsys, "labs", "check", "1")
    assert code == 0, out
    assert "✔ YAML suite: the known-good function passes: 8/8" in out
    assert "✔ same verdict per case as the Python suite: 40/40 verdicts agree" in out

    # one weight changed in the YAML only: the suites are no longer the same
    suite = LAB1 / "suite.yaml"
    text = suite.read_text()
    suite.write_text(text.replace("weight: 1.0", "weight: 2.0", 1))
    code, out, _ = run(capsys, "labs", "check", "1")
    assert code == 1
    line = _line(out, "the YAML suite is the Python suite")
    assert "✘" in line and "7/8 cases identical" in line
    assert "weight 1 in CASES, 2 in the YAML" in out

    # a YAML suite that catches nothing: the real runner's verdicts say so
    suite.write_text(text.split("\nscorers:")[0] + "\nscorers:\n  - length: {min: 1}\n")
    code, out, _ = run(capsys, "labs", "check", "1")
    assert code == 1
    assert "✘ same verdict per case as the Python suite" in out
    assert "✘ YAML suite catches the bug: cut short (held out): 8/8" in out

    # malformed YAML: one line naming file:line, exit 2
    suite.write_text("name: x\nprompt: '{{ input }}'\ndataset: [\n  - a\n")
    code, _, err = run(capsys, "labs", "check", "1")
    assert code == 2
    assert f"{suite.resolve()}:4: malformed YAML" in err and len(err.strip().splitlines()) == 1
    # valid YAML, not a valid suite: the line of the key at fault
    suite.write_text("name: x\nprompt: '{{ input }}'\ndataset: []\nscorers: []\n")
    code, _, err = run(capsys, "labs", "check", "1")
    assert code == 2 and "suite.yaml:4: invalid suite: scorers" in err


_PROMOTES_EVERYTHING = """
import asyncio
from pathlib import Path
from llmlab.evals import load_suite
from llmlab.prompts import PromptRegistry, PromptVersion, compare_prompt_versions

HERE = Path(__file__).parent


def main():
    registry = PromptRegistry()
    suite = load_suite(HERE / "suite.yaml")
    for file in ("v2.txt", "v3.txt", "v4.txt"):
        text = (HERE / file).read_text()
        version, _ = registry.add("ticket-router", PromptVersion(template=text))
        asyncio.run(compare_prompt_versions("ticket-router", 1, version.version, suite))
        registry.promote("ticket-router", version.version)
"""


def test_lab7_reads_the_registry_and_checks_decisions_against_the_paired_test(
    learner: Path, capsys: pytest.CaptureFixture[str], llmlab_store: Store
) -> None:
    run(capsys, "labs", "start", "7")
    lab = find_lab("7")
    # the starter promotes the newest candidate without measuring anything
    report = check_lab(lab, LAB7, store=llmlab_store)
    found = {c.name.split(":")[0]: c for c in report.criteria}
    assert not report.passed
    assert "no comparison run of v2 and v1" in found["v2 against v1"].measured
    assert "(v3)" in found["production label at the end"].measured

    # compared, but promoted whatever came out: v3 had no significant win
    (LAB7 / "ab.py").write_text(_PROMOTES_EVERYTHING)
    report = check_lab(lab, LAB7, store=llmlab_store)
    found = {c.name.split(":")[0]: c for c in report.criteria}
    assert found["v2 against v1"].passed
    v3 = found["v3 against v1"]
    assert not v3.passed and "no significant win; promoted" in v3.measured
    assert "38/60 vs 36/60" in v3.measured
    assert not found["v4 shipped, measured against v2, rolled back"].passed

    apply_solution("7", LAB7)
    report = check_lab(lab, LAB7, store=llmlab_store)
    assert report.passed, [c.to_dict() for c in report.criteria]
    rollback = next(c for c in report.criteria if c.name.startswith("v4"))
    assert "a significant regression; rolled back to v2" in rollback.measured


def test_lab9_costs_are_the_recorded_calls_priced_by_the_override(
    tmp_path: Path, llmlab_store: Store
) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("version: 1\nprices:\n  scripted/hosted:\n    input: 2\n    output: 10\n")
    scripted("hosted", function=lambda _: "one two", store=llmlab_store)
    model = get_model("scripted/hosted", store=llmlab_store)

    async def calls(tag: str, n: int) -> None:
        for _ in range(n):
            await model.generate(Request.of("a b c d", tags={"lab_run": tag}))
        await model.close_loop_clients()

    with price_override(prices):
        asyncio.run(calls("priced", 3))
    asyncio.run(calls("unpriced", 2))  # outside the block the override is gone

    priced = recorded_costs(llmlab_store, "priced", 3)
    assert (priced.calls, priced.priced, priced.input_tokens) == (3, 3, 12)
    # 4 input tokens at $2/M and 2 output tokens at $10/M, per call
    assert priced.per_call == Decimal("0.000028")
    assert priced.source.startswith("override: ")
    local = recorded_costs(llmlab_store, "unpriced", 2)
    assert (local.calls, local.priced, local.cost) == (2, 0, Decimal(0))


_GREP_ONLY_GATE = """
from pathlib import Path


def test_prompt_keeps_the_context():
    text = (Path(__file__).parent / "prompt.txt").read_text()
    assert "{{ context }}" in text and "question" in text
"""


def test_lab12_a_gate_that_only_greps_the_prompt_is_rejected(
    learner: Path, capsys: pytest.CaptureFixture[str], llmlab_store: Store
) -> None:
    run(capsys, "labs", "start", "12")
    gate = Path("llmlab-labs/12-ci-gate")
    (gate / "test_gate.py").write_text(_GREP_ONLY_GATE)
    report = check_lab(find_lab("12"), gate, store=llmlab_store)
    found = {c.name: c for c in report.criteria}
    assert not report.passed
    # the held-out regressed prompt still contains the variable: the grep passes it
    regressed = found["the gate fails on a regressed prompt (held out)"]
    assert not regressed.passed and "1 tests, 0 failed" in regressed.measured
    measured = [c for name, c in found.items() if name.startswith("the gate measured")]
    assert len(measured) == 2
    assert all(not c.passed and c.measured.startswith("0/6 cases asked") for c in measured)
    wrong = next(c for name, c in found.items() if "answers are wrong" in name)
    assert not wrong.passed and "0/3 cases asked" in wrong.measured


_RENDER_CHECK_GATE = """
from pathlib import Path

import jinja2
import yaml

from llmlab.models import generate_sync

HERE = Path(__file__).parent


def test_every_case_is_asked_and_the_context_reaches_the_prompt():
    template = jinja2.Template((HERE / "prompt.txt").read_text())
    rendered = []
    for case in yaml.safe_load((HERE / "cases.yaml").read_text()):
        prompt = template.render(**case)
        generate_sync(prompt, "local/smollm2", temperature=0, max_tokens=8)
        rendered.append((case, prompt))
    # judges the rendering, not the answers
    assert all(case["context"] in prompt for case, prompt in rendered)
"""


@pytest.mark.slow
def test_lab12_a_gate_that_asks_the_model_but_judges_the_rendering_is_rejected(
    learner: Path, capsys: pytest.CaptureFixture[str], llmlab_store: Store
) -> None:
    run(capsys, "labs", "start", "12")
    gate = Path("llmlab-labs/12-ci-gate")
    (gate / "test_gate.py").write_text(_RENDER_CHECK_GATE)
    report = check_lab(find_lab("12"), gate, store=llmlab_store)
    found = {c.name.split(" (")[0]: c for c in report.criteria}
    assert not report.passed
    # it calls the model on every case, and the regressed prompt's rendering lacks the
    # context: only cases that expect other answers show it never looks at the answers
    assert found["the gate fails on a regressed prompt"].passed
    assert all(c.passed for name, c in found.items() if name.startswith("the gate measured"))
    wrong = found["the gate fails when the answers are wrong"]
    assert not wrong.passed and "0 failed" in wrong.measured and "3/3 cases asked" in wrong.measured
