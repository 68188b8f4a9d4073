"""The runner through the real path: official OpenAI SDK -> local wire server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import llmlab
from llmlab import DatasetError
from llmlab.evals import (
    EvalSuite,
    Includes,
    ModelGraded,
    load_suite,
    result_input,
    run_eval,
    show_run,
)
from llmlab.models import Request, scripted
from llmlab.store import CallFilter, Store, get_eval_results, recent_calls
from llmlab.testing import WireServer

from .conftest import write_suite

MODEL = "openai/gpt-4o-mini"


async def test_minimal_suite_runs_and_links_every_call(
    openai_env: WireServer, llmlab_store: Store, tmp_path: Path
) -> None:
    suite = load_suite(write_suite(tmp_path, 20, fail_every=5))
    run = await run_eval(suite, model=MODEL, concurrency=100, cache=False)
    assert run.status == "finished"
    assert run.summary["cases"] == 20 and run.summary["passed"] == 16
    assert run.pass_rate == 0.8 and not run.threshold_met  # min_pass_rate defaults to 1.0
    assert openai_env.count("/v1/chat/completions") == 20
    results = get_eval_results(llmlab_store, run.id)
    assert sorted(int(r.case_id) for r in results) == list(range(20))
    failed = [r for r in results if not r.passed]
    assert {r.case_id for r in failed} == {"0", "5", "10", "15"}
    assert failed[0].output == "echo: say w0" and failed[0].score == 0.0
    assert failed[0].case_data["input"] == "say w0" and failed[0].prompt == "say w0"
    calls = recent_calls(llmlab_store, CallFilter(eval_run=run.id), limit=100)
    assert len(calls) == 20
    assert {(c.sample_id, c.epoch) for c in calls} == {(str(i), 1) for i in range(20)}
    assert {r.call_id for r in results} == {c.id for c in calls}


async def test_429_storm_finishes_with_backoff(openai_env: WireServer, tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path, 30))
    openai_env.faults.add("429", 40, retry_after=0.01)
    run = await run_eval(
        suite,
        model=MODEL,
        concurrency=20,
        cache=False,
        model_options={"max_retries": 8, "base_delay_s": 0.01},
    )
    assert run.summary["results"] == 30 and run.summary["passed"] == 30
    assert openai_env.count("/v1/chat/completions") == 70  # 30 answers + 40 refusals


async def test_injected_5xx_are_recorded_per_case(
    openai_env: WireServer, llmlab_store: Store, tmp_path: Path
) -> None:
    suite = load_suite(write_suite(tmp_path, 20))
    openai_env.faults.add("500", 3)
    openai_env.faults.add("503", 2)
    run = await run_eval(
        suite, model=MODEL, concurrency=1, cache=False, model_options={"max_retries": 0}
    )
    assert run.status == "finished"
    assert run.summary["results"] == 20
    assert run.summary["errors"]["results"] == 5 and run.summary["errored_cases"] == 5
    errors = [r for r in get_eval_results(llmlab_store, run.id) if r.status == "error"]
    assert len(errors) == 5
    assert all(r.output is None and r.errored and not r.passed for r in errors)
    assert sum("500" in (r.error or "") for r in errors) == 3
    assert sum("503" in (r.error or "") for r in errors) == 2


async def test_slow_case_does_not_stall_the_others(tmp_path: Path, llmlab_db: str) -> None:
    import asyncio

    done: list[str] = []

    async def reply(request: Request) -> str:
        text = request.messages[-1].content
        if text == "slow":
            await asyncio.sleep(0.5)
        done.append(text)
        return text

    scripted("slowpoke", function=reply)
    cases = [{"id": "slow", "input": "slow"}] + [{"input": f"q{i}"} for i in range(30)]
    suite = EvalSuite(name="slow", prompt="{{ input }}", cases=cases, scorers=[Includes("q")])
    run = await run_eval(suite, model="scripted/slowpoke", concurrency=4, cache=False)
    assert run.summary["results"] == 31
    assert done[-1] == "slow"  # 30 quick cases finished while the slow one waited


async def test_garbage_judge_verdicts_are_errored_scores(
    openai_env: WireServer, tmp_path: Path, llmlab_store: Store
) -> None:
    openai_env.replies.set(
        lambda prompt: "I'd say it is fine!" if prompt.startswith("You are grading") else "ok"
    )
    extra = "  - judge: 'The answer mentions {{ target }}'\n"
    suite = load_suite(write_suite(tmp_path, 6, extra=extra))
    run = await run_eval(suite, model=MODEL, cache=False)
    assert run.status == "finished" and run.summary["results"] == 6
    assert run.summary["errored_cases"] == 6 and run.summary["passed"] == 0
    assert run.summary["judge"]["calls"] == 6
    results = get_eval_results(llmlab_store, run.id)
    assert all("unparsable judge verdict" in (r.error or "") for r in results)
    assert all(r.output == "ok" for r in results)
    judge_calls = recent_calls(
        llmlab_store, CallFilter(eval_run=run.id, tags={"role": "judge"}), limit=50
    )
    assert len(judge_calls) == 6


async def test_judge_cost_and_tokens_are_reported_apart(tmp_path: Path, llmlab_db: str) -> None:
    scripted("answerer", function=lambda request: "Paris is the capital")
    scripted("grader", function=lambda request: '{"reasoning": "correct", "score": 0.9}')
    suite = EvalSuite(
        name="judged",
        prompt="Capital of {{ country }}?",
        cases=[{"country": "France", "target": "Paris"}, {"country": "Peru", "target": "Lima"}],
        scorers=[ModelGraded("mentions {{ target }}", model="scripted/grader")],
    )
    run = await run_eval(suite, model="scripted/answerer", cache=False)
    s = run.summary
    assert s["passed"] == 2 and s["mean_score"] == pytest.approx(0.9)
    assert s["output_tokens"] == 2 * 4
    assert s["judge"]["calls"] == 2
    assert s["judge"]["output_tokens"] == 2 * 4  # the verdict's words
    assert s["judge"]["input_tokens"] > s["input_tokens"]


async def test_epochs_trials_cache_and_consistency(tmp_path: Path, llmlab_db: str) -> None:
    calls: list[str] = []

    def reply(request: Request) -> str:
        text = request.messages[-1].content
        calls.append(text)
        # Case "b" passes on every other call: a flaky case.
        return "yes" if text == "a" or calls.count("b") % 2 else "no"

    scripted("flaky", function=reply)
    suite = EvalSuite(
        name="trials",
        prompt="{{ input }}",
        cases=[{"id": "a", "input": "a"}, {"id": "b", "input": "b"}],
        scorers=[Includes("yes")],
        reducer="majority",
    )
    first = await run_eval(suite, model="scripted/flaky", epochs=4, concurrency=1)
    assert first.summary["results"] == 8 and len(calls) == 8
    trials = first.summary["trials"]
    assert trials["epochs"] == 4 and trials["consistency"] == 0.5
    assert 0 < trials["mean_flip_rate"] < 1 and "pass@4" in trials and "pass^4" in trials
    # The same command again: a finished run is not resumed; the cache answers every trial.
    second = await run_eval(suite, model="scripted/flaky", epochs=4, concurrency=1)
    assert second.id != first.id and not second.resumed
    assert second.summary["cache_hits"] == 8 and len(calls) == 8
    assert second.summary["trials"] == trials


def test_malformed_dataset_line_names_file_and_line(tmp_path: Path) -> None:
    suite_path = write_suite(tmp_path, 3)
    data = tmp_path / "samples.jsonl"
    data.write_text(data.read_text() + '{"id": "x", "input": \n')
    with pytest.raises(DatasetError) as info:
        load_suite(suite_path)
    assert str(info.value).startswith(f"{data}:4: not valid JSON")


async def test_missing_field_fails_before_any_call(tmp_path: Path, llmlab_db: str) -> None:
    bot = scripted("unused", function=lambda request: "x")
    bot.history.clear()
    suite = EvalSuite(
        name="t",
        prompt="{{ input }}",
        cases=[{"id": "one", "input": "a", "target": "a"}, {"id": "two", "input": "b"}],
        scorers=[Includes("{{ target }}")],
    )
    with pytest.raises(Exception, match=r"case 'two'.*'target'"):
        await run_eval(suite, model="scripted/unused")
    assert bot.history == []


async def test_show_run_lists_failed_cases_with_input(tmp_path: Path, llmlab_db: str) -> None:
    scripted("half", function=lambda request: request.messages[-1].content)
    suite = EvalSuite(
        name="show",
        prompt="{{ input }}",
        cases=[{"id": str(i), "input": f"v{i}"} for i in range(4)],
        scorers=[Includes("v1")],
    )
    run = await run_eval(suite, model="scripted/half")
    shown = show_run(run.id, failed_only=True)
    assert [r.case_id for r in shown.results] == ["0", "2", "3"]
    assert result_input(shown.results[0]) == "v0"
    assert shown.to_dict()["results"][0]["input"] == "v0"


async def test_missing_field_of_custom_or_judge_scorer_fails_before_any_call(
    tmp_path: Path, llmlab_db: str
) -> None:
    from llmlab import TemplateError
    from llmlab.evals import FunctionScorer

    bot = scripted("unused2", function=lambda request: "x")
    bot.history.clear()
    cases = [{"id": "one", "input": "a", "target": "a"}, {"id": "two", "input": "b"}]
    custom = FunctionScorer(
        lambda output, expected, want: want in output, params={"want": "{{ target }}"}
    )
    for scorer in (custom, ModelGraded("mentions {{ target }}", model="scripted/unused2")):
        suite = EvalSuite(name="t", prompt="{{ input }}", cases=cases, scorers=[scorer])
        with pytest.raises(TemplateError, match=r"<inline>:2: case 'two'.*'target'"):
            await run_eval(suite, model="scripted/unused2")
    assert bot.history == []


def test_a_run_without_a_judge_loads_neither_calibration_jinja_nor_sqlalchemy(
    tmp_path: Path,
) -> None:
    # Start-up counts in the runner's CPU per case: calibration (and the statistics it
    # pulls in) is loaded only for suites with a model-graded scorer, Jinja2 only for a
    # template that is more than a lone ``{{ name }}``, and on a migrated SQLite file the
    # run, its results and its calls go through sqlite3 (no SQLAlchemy).
    suite = write_suite(tmp_path, 3)
    Store(str(tmp_path / "run.db")).close()  # created and migrated, as a second run finds it
    code = (
        "import sys\n"
        "from llmlab.evals import load_suite, run_eval_sync\n"
        "from llmlab.models import scripted\n"
        "scripted('echo', function=lambda request: 'w0 w1 w2')\n"
        f"run = run_eval_sync(load_suite({str(suite)!r}), model='scripted/echo', cache=False)\n"
        "print(run.summary['passed'], run.summary['judges'],\n"
        "      'llmlab.evals._calibration' in sys.modules, 'jinja2' in sys.modules,\n"
        "      'sqlalchemy' in sys.modules)\n"
        "from llmlab.store import default_store, get_eval_results\n"
        "print(len(get_eval_results(default_store(), run.id)))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(llmlab.__file__).parents[1]),
        "LLMLAB_DB": str(tmp_path / "run.db"),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3", "{}", "False", "False", "False", "3"]


def test_the_eval_run_command_loads_no_sqlalchemy_numpy_or_statistics(
    tmp_path: Path, wire_server: WireServer
) -> None:
    # `llmlab eval run` imports what its commands use when they run: a plain run on a
    # migrated SQLite file loads neither the store's SQLAlchemy nor the statistics.
    suite = write_suite(tmp_path, 3)
    Store(str(tmp_path / "run.db")).close()
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(llmlab.__file__).parents[1]),
        "LLMLAB_DB": str(tmp_path / "run.db"),
        "OPENAI_BASE_URL": wire_server.openai_base_url,
        "OPENAI_API_KEY": "sk-test-evals",
    }
    args = [sys.executable, "-X", "importtime", "-m", "llmlab", "eval", "run", str(suite)]
    done = subprocess.run(
        [*args, "-m", "openai/gpt-4o-mini", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"passed": 3' in done.stdout
    loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "llmlab.evals._runner" in loaded  # the run happened in this process
    assert not {"sqlalchemy", "numpy", "llmlab.evals._history"} & loaded
