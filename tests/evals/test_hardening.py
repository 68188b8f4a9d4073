"""Issue 9: bad dataset values are refused before the first call, with file:line and exit 2."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from llmlab import DatasetError, InputError
from llmlab.cli import main
from llmlab.evals import (
    EvalCase,
    EvalSuite,
    LLMEvaluator,
    Score,
    Scorer,
    load_dataset,
    load_suite,
    run_eval,
)
from llmlab.testing import WireServer

from .conftest import SUITE_YAML

MODEL = ["--model", "openai/gpt-4o-mini"]


def _suite_with_line(folder: Path, bad_line: str) -> Path:
    """A three-case suite whose second dataset line is ``bad_line``."""
    lines = [
        json.dumps({"id": "1", "input": "say w1", "target": "w1"}),
        bad_line,
        json.dumps({"id": "3", "input": "say w3", "target": "w3"}),
    ]
    (folder / "samples.jsonl").write_text("\n".join(lines) + "\n")
    suite = folder / "suite.yaml"
    suite.write_text(SUITE_YAML)
    return suite


BAD_LINES = {
    "nan string": '{"id": "2", "input": "x", "target": "x", "weight": "nan"}',
    "NaN literal": '{"id": "2", "input": "x", "target": "x", "weight": NaN}',
    "inf": '{"id": "2", "input": "x", "target": "x", "weight": Infinity}',
    "inf string": '{"id": "2", "input": "x", "target": "x", "weight": "inf"}',
    "huge": '{"id": "2", "input": "x", "target": "x", "weight": 1e999}',
    "negative": '{"id": "2", "input": "x", "target": "x", "weight": -1}',
    "word": '{"id": "2", "input": "x", "target": "x", "weight": "heavy"}',
    "bool": '{"id": "2", "input": "x", "target": "x", "weight": true}',
    "list": '{"id": "2", "input": "x", "target": "x", "weight": [1]}',
    "surrogate": '{"id": "2", "input": "a\\ud800b", "target": "x"}',
    "surrogate in key": '{"id": "2", "input": "x", "target": "x", "k\\udfffey": 1}',
    "surrogate nested": '{"id": "2", "input": "x", "target": "x", "expected": {"t": ["\\ud83d"]}}',
    "deep 100000": '{"id": "2", "input": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "deep 500": '{"id": "2", "input": "x", "target": "x", "x": ' + "[" * 500 + "]" * 500 + "}",
}


@pytest.mark.parametrize("bad", list(BAD_LINES.values()), ids=list(BAD_LINES))
def test_bad_values_are_refused_before_any_call(
    bad: str,
    openai_env: WireServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    suite = _suite_with_line(tmp_path, bad)
    with pytest.raises(SystemExit) as info:
        main(["eval", "run", str(suite), *MODEL])
    out, err = capsys.readouterr()
    assert info.value.code == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "samples.jsonl:2: " in lines[0]
    assert "Traceback" not in err
    assert openai_env.count() == 0  # nothing paid
    with pytest.raises(SystemExit):  # nor on a re-run
        main(["eval", "run", str(suite), *MODEL])
    assert openai_env.count() == 0


def test_weight_messages_say_what_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"input": "a"}\n{"input": "b", "weight": "nan"}\n')
    with pytest.raises(DatasetError, match=r"d\.jsonl:2: 'weight' must be a finite number >= 0"):
        load_dataset(path)


def test_good_weights_still_load(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,input,weight\na,x,2.5\nb,y,\nc,z,0\n")
    assert [c.weight for c in load_dataset(path)] == [2.5, 1.0, 0.0]


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_deep_nesting_in_yaml_and_json_files(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"d{suffix}"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(f"[{deep}]" if suffix == ".json" else f"- {deep}\n")
    with pytest.raises(DatasetError, match="nested more than"):
        load_dataset(path)


def test_inline_rows_and_eval_cases_are_checked() -> None:
    with pytest.raises(DatasetError, match=r"<inline>:2: 'weight'"):
        load_dataset([{"input": "a"}, {"input": "b", "weight": math.inf}])
    with pytest.raises(DatasetError, match="lone surrogate"):
        load_dataset([{"input": "a\ud800b"}])
    for weight in (math.nan, -0.5, math.inf):
        with pytest.raises(InputError, match="finite number >= 0"):
            EvalCase(input="x", weight=weight)


def test_nan_in_suite_numbers_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], llmlab_db: str
) -> None:
    (tmp_path / "samples.jsonl").write_text('{"input": "a", "target": "a"}\n')
    for extra in ("temperature: .nan\n", "threshold: .nan\n", "temperature: .inf\n"):
        suite = tmp_path / "suite.yaml"
        suite.write_text(SUITE_YAML + extra)
        with pytest.raises(SystemExit) as info:
            main(["eval", "run", str(suite), *MODEL])
        _, err = capsys.readouterr()
        assert info.value.code == 2, err
        assert len(err.strip().splitlines()) == 1, err
        assert "finite number" in err, err


def test_nan_scorer_weight_is_refused(tmp_path: Path) -> None:
    (tmp_path / "samples.jsonl").write_text('{"input": "a", "target": "a"}\n')
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE_YAML.replace('"{{ target }}"\n', '"{{ target }}"\n    weight: .nan\n'))
    with pytest.raises(InputError, match="scorer weight"):
        load_suite(suite)


class _NanScorer(Scorer):
    name = "nan"

    async def score(self, output: str, case: EvalCase) -> Score:
        return Score(value=math.nan)


async def test_a_scorer_returning_nan_is_an_errored_score_and_json_stays_valid(
    llmlab_db: str,
) -> None:
    from llmlab.models import scripted

    scripted("nan-bot", function=lambda request: "x")
    suite = EvalSuite(
        name="nan", prompt="{{ input }}", cases=[{"input": "a"}], scorers=[_NanScorer()]
    )
    run = await run_eval(suite, model="scripted/nan-bot")
    assert run.summary["errored_cases"] == 1
    json.dumps(run.to_dict(), allow_nan=False, default=str)  # no NaN anywhere
    alone = await _NanScorer().score("x", EvalCase(input="a"))
    assert math.isnan(alone.value)
    result = await LLMEvaluator([EvalCase(input="a")]).aevaluate(lambda t: t, _NanScorer())
    assert result.avg_score == 0.0 and result.failures[0].error is not None


@pytest.mark.parametrize("threshold", [math.nan, 1.5, -0.1, "high"])
def test_similarity_threshold_outside_zero_one_is_an_errored_score(threshold: object) -> None:
    from llmlab.evals import Similarity

    score = Similarity("reference").check("output", reference="reference", threshold=threshold)
    assert score.errored and "not in [0, 1]" in score.explanation


def test_json_run_with_an_infinite_weight_is_refused_not_printed_as_nan(
    openai_env: WireServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        'name: inf\nprompt: "{{ input }}"\nscorers: [{includes: "a"}]\n'
        "dataset:\n  - {input: a, weight: .inf}\n"
    )
    with pytest.raises(SystemExit) as info:
        main(["eval", "run", str(suite), *MODEL, "--json"])
    out, err = capsys.readouterr()
    assert info.value.code == 2 and out == "" and "NaN" not in out
    assert "'weight' must be a finite number >= 0" in err
    assert openai_env.count() == 0


@pytest.mark.parametrize("span", ["99999999d", "9999999999999w", "1e400d", "100001d"])
def test_since_spans_too_long_are_input_errors(span: str) -> None:
    from llmlab.evals._frontier import parse_since

    with pytest.raises(InputError, match="too long a span|expected a span"):
        parse_since(span)


@pytest.mark.parametrize(
    "line",
    [
        '{"case_id": "a\\ud800b", "label": "pass"}',
        '{"case_id": "a", "label": "pass", "note": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"case_id": "a", "label": "pass", "note": ' + "[" * 200 + "]" * 200 + "}",
    ],
    ids=["surrogate", "deep", "nested"],
)
def test_labels_file_with_bad_values_names_file_and_line(tmp_path: Path, line: str) -> None:
    from llmlab.evals import load_labels

    path = tmp_path / "labels.jsonl"
    path.write_text('{"case_id": "x", "label": "fail"}\n' + line + "\n")
    with pytest.raises(InputError) as info:
        load_labels(path)
    assert str(info.value).startswith(f"{path}:2: ")


@pytest.mark.parametrize(
    "prompt", ['"{{ input }} \\ud800"', "[" * 100_000 + "]" * 100_000], ids=["surrogate", "deep"]
)
def test_suite_file_with_a_lone_surrogate_or_deep_nesting_is_refused(
    openai_env: WireServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], prompt: str
) -> None:
    (tmp_path / "samples.jsonl").write_text('{"input": "a", "target": "a"}\n')
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE_YAML.replace('prompt: "{{ input }}"', f"prompt: {prompt}"))
    with pytest.raises(SystemExit) as info:
        main(["eval", "run", str(suite), *MODEL])
    _, err = capsys.readouterr()
    assert info.value.code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"{suite}: " in err.replace("\n", "")
    assert openai_env.count() == 0


async def test_python_cases_with_a_lone_surrogate_are_refused_before_any_call(
    llmlab_db: str,
) -> None:
    from llmlab.models import scripted

    bot = scripted("surrogate-bot", function=lambda request: "x")
    bot.history.clear()
    suite = EvalSuite(
        name="s",
        prompt="{{ input }}",
        cases=[EvalCase(input="fine", id="1"), EvalCase(input="a\ud800b", id="2")],
        scorers=[lambda output, expected: 1.0],
    )
    with pytest.raises(DatasetError, match="case '2'.*lone surrogate"):
        await run_eval(suite, model="scripted/surrogate-bot")
    assert bot.history == []
