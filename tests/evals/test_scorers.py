"""Built-in scorers, templates in parameters, weighting, custom scorers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmlab import InputError
from llmlab.evals import (
    EvalCase,
    Exact,
    Includes,
    JsonValid,
    KeyTerms,
    Length,
    Regex,
    Score,
    Weighted,
    scorer,
    scorers_from_spec,
)

CASE = EvalCase(input="q", id="c", fields={"target": "Paris", "terms": ["red", "Blue"]})


async def value(s: Any, output: str, case: EvalCase = CASE) -> float:
    result: Score = await s.score(output, case)
    assert not result.errored, result.explanation
    return result.value


async def test_exact_and_includes() -> None:
    assert await value(Exact("{{ target }}"), "  Paris\n") == 1.0
    assert await value(Exact("{{ target }}"), "paris") == 0.0
    assert await value(Exact("{{ target }}", case_sensitive=False), "paris") == 1.0
    assert await value(Includes("{{ target }}"), "It is Paris.") == 1.0
    assert await value(Includes("{{ target }}"), "It is paris.") == 0.0
    assert await value(Includes("{{ target }}", case_sensitive=False), "PARIS!") == 1.0
    assert await value(Includes(["x", "Paris"]), "Paris") == 1.0
    assert await value(Includes(["x", "Paris"], mode="all"), "Paris") == 0.0
    assert await value(Includes("{{ terms }}", mode="all"), "Blue and red") == 1.0


async def test_regex_json_length_key_terms() -> None:
    assert await value(Regex(r"\d{3}"), "abc 123") == 1.0
    assert await value(Regex(r"\d{3}", fullmatch=True), "abc 123") == 0.0
    assert await value(Regex("paris", flags="i"), "PARIS") == 1.0
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert await value(JsonValid(), '{"a": 1}') == 1.0
    assert await value(JsonValid(schema), '```json\n{"a": 1}\n```') == 1.0
    bad = await JsonValid(schema).score('{"a": "x"}', CASE)
    assert bad.value == 0.0 and "a: 'x' is not of type 'integer'" in bad.explanation
    assert await value(JsonValid(), "{nope") == 0.0
    assert await value(Length(min=2, max=4), "abcd") == 1.0
    assert await value(Length(min=2, max=3, unit="words"), "one two three four") == 0.0
    assert await value(KeyTerms("{{ terms }}"), "RED only") == 0.5


async def test_seed_summary_scorer_as_weighted_combination() -> None:
    case = EvalCase(
        input="article",
        expected_properties={
            "min_length": 10,
            "max_length": 40,
            "key_terms": ["kubernetes", "container", "orchestration"],
        },
    )
    combined = Weighted(
        [
            (Length(min="{{ min_length }}", max="{{ max_length }}"), 0.4),
            (KeyTerms("{{ key_terms }}"), 0.6),
        ]
    )
    result = await combined.score("Kubernetes runs containers.", case)
    assert result.value == pytest.approx(0.4 + 0.6 * 2 / 3)
    assert result.parts == {"length": 1.0, "key_terms": pytest.approx(2 / 3)}


async def test_custom_scorers_decorator_and_import_path(tmp_path: Path) -> None:
    @scorer(name="shouty")
    def shouty(output: str, expected: dict[str, Any]) -> bool:
        return output.isupper()

    (tmp_path / "my_scorers.py").write_text(
        "async def startswith(output, case, prefix):\n"
        "    return output.startswith(prefix)\n"
        "def broken(output, expected):\n"
        "    raise RuntimeError('nope')\n"
        "def out_of_range(output, expected):\n"
        "    return 3\n"
    )
    combined = scorers_from_spec(
        [
            {"shouty": None},
            {"custom": {"function": "my_scorers.py:startswith", "prefix": "{{ target }}"}},
        ],
        base_dir=tmp_path,
    )
    assert (await combined.score("PARIS", CASE)).value == 0.5
    assert (await combined.score("Paris", CASE)).parts == {"shouty": 0.0, "startswith": 1.0}
    for name in ("broken", "out_of_range"):
        errored = await scorers_from_spec(
            [{"custom": f"my_scorers.py:{name}"}], base_dir=tmp_path
        ).score("x", CASE)
        assert errored.errored


def test_spec_errors_are_input_errors() -> None:
    with pytest.raises(InputError, match="unknown scorer 'nope'"):
        scorers_from_spec([{"nope": 1}])
    with pytest.raises(InputError, match="exactly one scorer"):
        scorers_from_spec([{"includes": "a", "exact": "b"}])
    with pytest.raises(InputError, match="bad options"):
        scorers_from_spec([{"includes": {"value": "a", "colour": "red"}}])
    with pytest.raises(InputError, match="mode must be"):
        scorers_from_spec([{"includes": {"value": "a", "mode": "some"}}])


async def test_spec_weights_and_shorthand() -> None:
    combined = scorers_from_spec([{"includes": "{{ target }}", "weight": 3}, {"regex": "^Z"}])
    assert (await combined.score("Paris", CASE)).value == pytest.approx(0.75)


def test_bad_fixed_regex_and_schema_fail_at_load() -> None:
    with pytest.raises(InputError, match=r"scorer 'regex': regex '\(\[' does not compile"):
        scorers_from_spec([{"regex": "(["}])
    with pytest.raises(InputError, match=r"invalid JSON Schema at type: 'objject'"):
        scorers_from_spec([{"json": {"schema": {"type": "objject"}}}])
    # A templated pattern is only known per case: checked when it is scored.
    assert scorers_from_spec([{"regex": "{{ target }}"}]) is not None


async def test_json_schema_given_as_the_mapping_itself() -> None:
    combined = scorers_from_spec([{"json_schema": {"type": "object", "required": ["a"]}}])
    assert (await combined.score('{"a": 1}', CASE)).value == 1.0
    assert (await combined.score('{"b": 1}', CASE)).value == 0.0


async def test_python_suite_takes_the_yaml_scorer_spelling() -> None:
    from llmlab.evals import EvalSuite

    suite = EvalSuite(
        name="py",
        prompt="{{ input }}",
        cases=[{"id": "c", "input": "q", "target": "Paris"}],
        scorers=[{"includes": "{{ target }}", "weight": 3}, (Length(max=3), 1.0)],
    )
    result = await suite.scorer.score("Paris", suite.cases[0])
    assert result.parts == {"includes": 1.0, "length": 0.0}
    assert result.value == pytest.approx(0.75)
