"""Datasets: formats, ids, reserved keys, and errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmlab import DatasetError, InputError, TemplateError
from llmlab.evals import EvalCase, load_dataset
from llmlab.evals._template import render_text, render_value


def test_jsonl_rows_become_cases(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"id": "1", "input": "2+2?", "target": "4", "tags": ["math"]}\n'
        "\n"
        '{"input": "capital of France?", "target": "Paris", "weight": 2}\n'
    )
    cases = load_dataset(path)
    assert [c.id for c in cases][0] == "1"
    assert cases[0].input == "2+2?"
    assert cases[0].fields == {"target": "4"}
    assert cases[0].tags == ("math",)
    assert cases[1].weight == 2.0
    assert len(cases[1].id) == 12  # derived from content
    assert load_dataset(path)[1].id == cases[1].id  # ... and stable


def test_malformed_jsonl_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"input": "a"}\n{"input": "b"}\n{"input": oops}\n')
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}:3: ")


def test_non_object_line_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"input": "a"}\n[1, 2]\n')
    with pytest.raises(DatasetError, match=r":2: each case must be a mapping"):
        load_dataset(path)


def test_csv_with_tags_and_a_short_row(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text('id,input,target,tags\na,hello,hi,"x, y"\nb,bye,ciao,z\n')
    cases = load_dataset(path)
    assert cases[0].tags == ("x", "y")
    assert cases[1].fields["target"] == "ciao"
    path.write_text("id,input,target\na,hello,hi\nb,bye\n")
    with pytest.raises(DatasetError, match=r"d\.csv:3: the row has fewer values"):
        load_dataset(path)


def test_yaml_dataset_and_its_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        "cases:\n  - input: a\n    expected: {key_terms: [x]}\n  - input: b\n    weight: heavy\n"
    )
    with pytest.raises(DatasetError, match=r"d\.yaml:4: 'weight' must be a finite number"):
        load_dataset(path)
    path.write_text("- input: a\n  expected: {key_terms: [x]}\n")
    (case,) = load_dataset(path)
    assert case.expected_properties == {"key_terms": ["x"]}


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": 1, "input": "a"}\n{"id": "1", "input": "b"}\n')
    with pytest.raises(DatasetError, match=r":2: duplicate case id '1' \(first at line 1\)"):
        load_dataset(path)


def test_inline_rows_and_seed_cases() -> None:
    seed = EvalCase(input="text", expected_properties={"min_length": 5})
    cases = load_dataset([{"input": "x", "target": "y"}, seed])
    assert cases[1] is seed
    assert seed.id and seed.variables()["min_length"] == 5


def test_missing_template_variable_names_variable_and_case() -> None:
    case = EvalCase(input="q", id="case-7")
    with pytest.raises(TemplateError, match=r"case 'case-7'.*'target'"):
        render_text("{{ input }} -> {{ target }}", case.variables(), case_id=case.id)


def test_single_expression_keeps_its_type() -> None:
    assert render_value("{{ terms }}", {"terms": ["a", "b"]}) == ["a", "b"]
    assert render_value({"min": "{{ n }}"}, {"n": 5}) == {"min": 5}
    assert render_value("n={{ n }}", {"n": 5}) == "n=5"


def test_a_lone_variable_renders_as_jinja_does() -> None:
    # The shortcut for a template that is one text variable must agree with Jinja.
    from llmlab._sandbox import MAX_OUTPUT_CHARS
    from llmlab.evals._template import _compile

    values = {"input": "héllo {{ not a template }}\n", "n": 5, "none": "x", "empty": ""}
    for source in ("{{ input }}", "{{input}}", " {{ input }}", "{{ input }}\n", "{{ n }}"):
        assert render_text(source, values) == _compile(source).render(values), source
    assert render_text("{{ none }}", values) == "None"  # Jinja's constant, not the field
    assert render_text("{{ empty }}", values) == ""
    with pytest.raises(TemplateError, match="'missing'"):
        render_text("{{ missing }}", values)
    with pytest.raises(TemplateError, match="characters"):
        render_text("{{ big }}", {"big": "x" * (MAX_OUTPUT_CHARS + 1)})


def test_lone_names_skip_jinja_but_keep_its_rules() -> None:
    from llmlab._sandbox import MAX_OUTPUT_CHARS
    from llmlab.evals._template import _MAX_OUTPUT_CHARS, check_syntax

    assert _MAX_OUTPUT_CHARS == MAX_OUTPUT_CHARS  # the shortcut's copy of the limit
    check_syntax(["{{ input }}", " {{target}} ", {"k": "{{ none }}"}])
    with pytest.raises(TemplateError, match="does not parse"):
        check_syntax("{{ not }}")  # not a name to Jinja: still refused at load
    with pytest.raises(TemplateError, match="does not parse"):
        check_syntax("{{ input }")
    assert render_value("{{ n }}", {"n": [1, 2]}) == [1, 2]
    with pytest.raises(TemplateError, match="'missing'"):
        render_value("{{ missing }}", {"n": 1})


def test_templates_are_sandboxed() -> None:
    with pytest.raises(TemplateError):
        render_text("{{ x.__class__.__mro__[1].__subclasses__() }}", {"x": 1})


def test_missing_field_names_field_case_file_and_line(tmp_path: Path) -> None:
    from llmlab.evals import EvalSuite, Includes, load_suite

    data = tmp_path / "d.jsonl"
    data.write_text('{"input": "a", "target": "a"}\n\n{"input": "b"}\n')
    suite = EvalSuite(
        name="t", prompt="{{ input }}", cases=data, scorers=[Includes("{{ target }}")]
    )
    with pytest.raises(TemplateError) as info:
        suite.check_templates()
    assert info.value.path == str(data) and info.value.line == 3
    assert f"{data}:3: case '" in str(info.value) and "'target'" in str(info.value)
    prompt = EvalSuite(
        name="t", prompt="{{ input }} {{ topic }}", cases=data, scorers=[Includes("a")]
    )
    with pytest.raises(TemplateError, match=rf"{data}:1: case .*'topic'"):
        prompt.render(prompt.cases[0])
    # A template that does not parse is the suite's fault: named when the suite loads.
    (tmp_path / "suite.yaml").write_text(
        "name: t\nprompt: '{{ input }'\ndataset: d.jsonl\nscorers: [{includes: x}]\n"
    )
    with pytest.raises(InputError, match=r"suite\.yaml: template does not parse"):
        load_suite(tmp_path / "suite.yaml")
    (tmp_path / "suite.yaml").write_text(
        "name: t\nprompt: '{{ input }}'\ndataset: d.jsonl\nscorers: [{includes: '{{ target }'}]\n"
    )
    with pytest.raises(InputError, match=r"suite\.yaml: .*does not parse"):
        load_suite(tmp_path / "suite.yaml")


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".yaml"])
def test_non_utf8_dataset_names_file_and_line(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"d{suffix}"
    rows = {
        ".jsonl": b'{"input": "a"}\n{"input": "caf\xe9"}\n',
        ".csv": b"input\na\ncaf\xe9\n",
        ".yaml": b"- input: a\n- input: caf\xe9\n",
    }
    path.write_bytes(rows[suffix])
    with pytest.raises(DatasetError, match=rf"d\{suffix}:\d: not UTF-8 text") as info:
        load_dataset(path)
    assert info.value.line == (3 if suffix == ".csv" else 2)


def test_non_utf8_suite_file_is_an_input_error(tmp_path: Path) -> None:
    from llmlab.evals import load_suite

    (tmp_path / "suite.yaml").write_bytes(b"name: caf\xe9\n")
    with pytest.raises(InputError, match=r"suite\.yaml: not UTF-8 text"):
        load_suite(tmp_path / "suite.yaml")
