"""Lab 10 (monitoring and budgets) cannot be fooled: each plausible wrong answer fails the
criterion it should, with the figure that shows why, and a broken file names its line.

Each kind runs on its own against the local wire server in a fresh store (a few seconds).
"""

from __future__ import annotations

import json
import runpy
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from llmlab import InputError
from llmlab.labs import CriterionResult, GradeContext, criterion_kinds, find_lab
from llmlab.monitor import call_stats
from llmlab.store import Store

from .conftest import apply_solution, run

LAB = find_lab("monitoring-budgets")


def _check(kind: str, lab_dir: Path, store: Store, **files: str) -> dict[str, CriterionResult]:
    """Run one criterion kind of lab 10 on the starter with ``files`` replaced."""
    shutil.copytree(LAB.starter, lab_dir, dirs_exist_ok=True)
    for name, text in files.items():
        (lab_dir / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (criterion,) = [c for c in LAB.criteria if c.kind == kind]
    ctx = GradeContext(lab=LAB, lab_dir=lab_dir, model="unused", store=store)
    return {r.name: r for r in criterion_kinds()[kind](ctx, criterion.params)}


def _one(results: dict[str, CriterionResult], start: str) -> CriterionResult:
    (found,) = [r for name, r in results.items() if name.startswith(start)]
    return found


# --- part 2: the traffic and the triage --------------------------------------------------


def test_every_week_has_one_slow_and_costly_version_and_its_traps(tmp_path: Path) -> None:
    make_week: Any = runpy.run_path(str(LAB.hidden / "traffic.py"))["make_week"]
    for seed in range(6):
        with Store(str(tmp_path / f"{seed}.db")) as store:
            roles = make_week(store, seed)
            groups = call_stats(by="prompt", store=store).groups
        versions = [g for g in groups if g.key != "(none)"]
        culprit = max(versions, key=lambda g: g.latency_p95_s or 0.0)
        assert culprit.key == max(versions, key=lambda g: g.cost_per_call or 0).key
        assert roles[culprit.key] == "slow and costly"
        # the traps: the first row, the highest mean, the costliest call overall
        assert roles[groups[0].key] == "busiest"
        assert roles[max(versions, key=lambda g: g.latency_mean_s or 0.0).key] == "spiky"
        assert max(groups, key=lambda g: g.cost_per_call or 0).key == "(none)"


@pytest.mark.parametrize(
    ("pick", "trap"),
    [
        ("report.groups[0]", "the highest total cost"),
        ("max(versions, key=lambda g: g.latency_mean_s)", "raise its mean"),
        ("max(report.groups, key=lambda g: g.cost_per_call)", "no prompt version"),
    ],
)
def test_triage_falls_into_each_trap(
    pick: str, trap: str, tmp_path: Path, llmlab_store: Store
) -> None:
    triage = f"""
        from llmlab.monitor import call_stats

        def slow_and_costly(store):
            report = call_stats(by="prompt", store=store)
            versions = [g for g in report.groups if g.key != "(none)"]
            top = {pick}
            return {{"prompt": top.key, "p95_latency_s": top.latency_p95_s,
                    "cost_per_call": top.cost_per_call}}
        """
    results = _check("monitor_triage", tmp_path / "lab", llmlab_store, **{"triage.py": triage})
    named = _one(results, "the slow and costly version")
    assert not named.passed and named.measured == "0/3 weeks of fresh traffic"
    assert trap in named.note and "the tool:" in named.note


def test_triage_with_the_mean_names_the_version_but_not_its_figures(
    tmp_path: Path, llmlab_store: Store
) -> None:
    triage = """
        from llmlab.monitor import call_stats

        def slow_and_costly(store):
            versions = [g for g in call_stats(by="prompt", store=store).groups if g.key != "(none)"]
            top = max(versions, key=lambda g: g.cost_per_call)
            return {"prompt": top.key, "p95_latency_s": top.latency_mean_s,
                    "cost_per_call": top.cost / 2}
        """
    results = _check("monitor_triage", tmp_path / "lab", llmlab_store, **{"triage.py": triage})
    assert _one(results, "the slow and costly version").passed
    figures = _one(results, "its p95 latency")
    assert not figures.passed and figures.measured == "0/3 weeks match the tool's stats"
    assert "the tool:" in figures.note


def test_a_triage_that_returns_a_string_is_a_bad_file(tmp_path: Path, llmlab_store: Store) -> None:
    triage = "def slow_and_costly(store):\n    return 'support-reply@2'\n"
    with pytest.raises(InputError, match="must return a dict with 'prompt'"):
        _check("monitor_triage", tmp_path / "lab", llmlab_store, **{"triage.py": triage})


# --- part 1: the instrumented app ----------------------------------------------------------

_APP_HEAD = """
    from llmlab.models import call_links, generate_sync
    from llmlab.monitor import LLMMonitor
    from llmlab.prompts import PromptRegistry, PromptVersion

    TEMPLATE = "Reply to this ticket kindly and briefly.\\n\\nTicket: {{ ticket }}"
    """


def test_a_call_recorded_twice_fails(tmp_path: Path, llmlab_store: Store) -> None:
    app = (
        _APP_HEAD
        + """
    def reply_to_ticket(ticket, customer, model):
        version = PromptRegistry().register("support-reply", PromptVersion(TEMPLATE))
        request = version.to_request(tags={"feature": "support", "customer": customer},
                                     ticket=ticket)
        with call_links(prompt_name="support-reply", prompt_version=version.version):
            response = generate_sync(request, model)
        # recorded again by hand: the spend now counts twice
        LLMMonitor().record_call("gpt-4o", response.usage.input_tokens,
                                 response.usage.output_tokens, 100.0, version.version_hash)
        return response.text
    """
    )
    results = _check("monitor_instrumented", tmp_path / "lab", llmlab_store, **{"app.py": app})
    once = _one(results, "each model call recorded once")
    assert not once.passed and once.measured == "0/4 app calls"
    assert "2 calls recorded for 1 model requests" in once.note


def test_links_to_an_unregistered_or_other_version_fail(
    tmp_path: Path, llmlab_store: Store
) -> None:
    app = (
        _APP_HEAD
        + """
    def reply_to_ticket(ticket, customer, model):
        PromptRegistry().register("support-reply", PromptVersion("Be brief. {{ ticket }}"))
        request = PromptVersion(TEMPLATE).to_request(
            tags={"feature": "support", "customer": customer}, ticket=ticket)
        # version 1 is registered, but it is not the text sent
        with call_links(prompt_name="support-reply", prompt_version=1):
            return generate_sync(request, model).text
    """
    )
    results = _check("monitor_instrumented", tmp_path / "lab", llmlab_store, **{"app.py": app})
    linked = _one(results, "calls linked to a registered version")
    assert not linked.passed and "'Be brief.' was not sent" in linked.note
    assert _one(results, "calls tagged").passed

    unregistered = app.replace("prompt_version=1", "prompt_version=7")
    results = _check(
        "monitor_instrumented", tmp_path / "lab2", llmlab_store, **{"app.py": unregistered}
    )
    assert "support-reply@7 is not registered" in _one(results, "calls linked").note


def test_a_bug_in_the_app_names_its_line(tmp_path: Path, llmlab_store: Store) -> None:
    app = "def reply_to_ticket(ticket, customer, model):\n    return ticket.nope()\n"
    with pytest.raises(InputError) as info:
        _check("monitor_instrumented", tmp_path / "lab", llmlab_store, **{"app.py": app})
    assert info.value.line == 2 and str(info.value.path).endswith("app.py")


# --- part 3: the budgeted batch job --------------------------------------------------------

_JOB = """
    from decimal import Decimal

    from llmlab import BudgetExceeded
    from llmlab.models import Request, generate_sync
    from llmlab.monitor import set_budget

    def run_batch(tickets, model):
        set_budget("nightly", Decimal("{limit}"), period="day", hard={hard})
        done = 0
        for ticket in tickets:
            request = Request.of("Summarise: " + ticket, max_tokens=100, tags={{"job": "n"}})
            {call}
        return done
    """
_CATCH_AND_GO_ON = """try:
                generate_sync(request, model)
                done += 1
            except BudgetExceeded:
                continue"""


def _job(limit: str = "0.02", hard: bool = True, call: str = _CATCH_AND_GO_ON) -> str:
    return _JOB.format(limit=limit, hard=hard, call=call)


def test_a_job_that_keeps_calling_after_the_refusal_fails(
    tmp_path: Path, llmlab_store: Store
) -> None:
    results = _check("monitor_budget_job", tmp_path / "lab", llmlab_store, **{"batch.py": _job()})
    assert _one(results, "a hard budget").passed
    assert _one(results, "spend within the cap").passed  # the budget still held
    stops = _one(results, "the job stops at the first refusal")
    assert not stops.passed
    # a shorter ticket's worst case may still fit after a refusal: so "at least"
    refused, after = (int(part.split()[0]) for part in stops.measured.split(", "))
    assert refused > 1 and after >= refused - 1
    assert "alerts raised" in stops.note


def test_a_refusal_that_escapes_the_job_fails_without_a_traceback(
    tmp_path: Path, llmlab_store: Store
) -> None:
    job = _job(call="generate_sync(request, model)\n            done += 1")
    results = _check("monitor_budget_job", tmp_path / "lab", llmlab_store, **{"batch.py": job})
    clean = _one(results, "it ends cleanly")
    assert not clean.passed and "BudgetExceeded escaped the job" in clean.distance
    assert "returned None" in clean.measured


def test_a_soft_or_lower_budget_fails(tmp_path: Path, llmlab_store: Store) -> None:
    soft = _check(
        "monitor_budget_job", tmp_path / "a", llmlab_store, **{"batch.py": _job(hard=False)}
    )
    assert "is soft" in _one(soft, "a hard budget").measured
    spend = _one(soft, "spend within the cap")
    assert not spend.passed and spend.distance == "over the cap: nothing stopped the job"

    low = _check(
        "monitor_budget_job", tmp_path / "b", llmlab_store, **{"batch.py": _job(limit="0.005")}
    )
    assert _one(low, "a hard budget").passed
    spend = _one(low, "spend within the cap")
    assert not spend.passed and spend.distance == "the job stops long before the cap"


# --- the command line ----------------------------------------------------------------------


def test_cli_a_broken_job_exits_2_then_the_solution_passes(
    learner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lab_dir = Path("llmlab-labs/10-monitoring-budgets")
    code, out, _ = run(capsys, "labs", "start", "10")
    assert code == 0 and (lab_dir / "traffic.py").is_file()
    apply_solution("10", lab_dir)
    batch = lab_dir / "batch.py"
    text = batch.read_text().replace("        done += 1\n", "        done += 1\n        done.x\n")
    batch.write_text(text)
    line = text.splitlines().index("        done.x") + 1
    code, _, err = run(capsys, "labs", "check", "10")
    assert code == 2
    assert f"batch.py:{line}: run_batch(" in err and "AttributeError" in err
    assert "Traceback" not in err

    apply_solution("10", lab_dir)
    code, out, err = run(capsys, "labs", "check", "10")
    assert code == 0, out
    assert "✔ the job stops at the first refusal: 1 refused, 0 calls after" in out
    assert "llmlab alert" not in err  # the sandbox's alerts are in the report, not logged
    code, out, _ = run(capsys, "labs", "progress", "--json")
    assert next(lab for lab in json.loads(out)["labs"] if lab["number"] == 10)["status"] == "done"
