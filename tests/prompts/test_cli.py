"""The ``llmlab prompts`` and ``llmlab experiments`` commands."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from llmlab.cli import main
from llmlab.models import Request, scripted
from llmlab.monitor import CallRecord, new_call_id
from llmlab.store import Store, insert_calls


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_add_list_show_render_diff_label_rollback(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "prompts",
        "add",
        "greet",
        "--template",
        "Hello {{ name }}",
        "--var",
        "name",
        "-m",
        "first",
    )
    assert code == 0 and out.startswith("greet:1 #") and "(new)" in out
    code, out, _ = run(
        capsys,
        "prompts",
        "add",
        "greet",
        "-t",
        "Hi {{ name }}, {{ tone }}",
        "--var",
        "tone=kind",
        "--label",
        "staging",
        "--temperature",
        "0.3",
    )
    assert out.startswith("greet:2 #")
    code, out, _ = run(capsys, "prompts", "add", "greet", "-t", "Hello {{ name }}", "--var", "name")
    assert "greet:1" in out and "unchanged" in out
    code, out, _ = run(capsys, "prompts", "list", "--json")
    assert json.loads(out) == [
        {
            "name": "greet",
            "versions": 2,
            "latest": 2,
            "labels": {"latest": 2, "staging": 2},
            "updated_at": json.loads(out)[0]["updated_at"],
        }
    ]
    code, out, _ = run(capsys, "prompts", "render", "greet@staging", "--var", "name=Ada")
    assert out == "Hi Ada, kind\n"
    code, out, _ = run(capsys, "prompts", "diff", "greet", "1", "2")
    assert "-Hello {{ name }}" in out and "temperature" in out and "tone" in out
    code, out, _ = run(capsys, "prompts", "label", "greet", "production", "1")
    assert out.strip() == "greet@production: (unset) -> 1"
    run(capsys, "prompts", "label", "greet", "production", "2")
    code, out, _ = run(capsys, "prompts", "label", "greet", "production", "2")
    assert "nothing changed" in out
    code, out, _ = run(capsys, "prompts", "rollback", "greet", "production")
    assert out.strip() == "greet@production: 2 -> 1 (rollback)"
    code, out, _ = run(capsys, "prompts", "history", "greet", "--json")
    assert [
        (m["label"], m["from_version"], m["to_version"], m["kind"]) for m in json.loads(out)
    ] == [
        ("staging", None, 2, "move"),
        ("production", None, 1, "move"),
        ("production", 1, 2, "move"),
        ("production", 2, 1, "rollback"),
    ]
    code, out, _ = run(capsys, "prompts", "show", "greet", "--json")
    shown = json.loads(out)
    assert [(v["version"], v["labels"]) for v in shown] == [
        (1, ["production"]),
        (2, ["latest", "staging"]),
    ]
    code, out, _ = run(capsys, "prompts", "show", "greet:2")
    assert "Hi {{ name }}" in out
    code, out, _ = run(capsys, "prompts", "archive", "greet", "2")
    assert out.strip() == "greet:2 archived"
    code, out, _ = run(capsys, "prompts", "show", "greet", "--json")
    assert [v["version"] for v in json.loads(out)] == [1]


def test_errors_are_one_line_exit_2(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "prompts", "add", "greet", "-t", "Hello {{ name }}")
    code, _, err = run(capsys, "prompts", "show", "gret")
    assert code == 2 and "did you mean: greet" in err and "Traceback" not in err
    code, _, err = run(capsys, "prompts", "render", "greet")
    assert code == 2 and "'name' is missing" in err
    code, _, err = run(capsys, "prompts", "add", "x")
    assert code == 2 and "--template" in err


def test_push_pull(store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "sum.yaml").write_text("template: 'Sum {{ x }}'\nlabels: [production]\n")
    code, out, _ = run(capsys, "prompts", "push", str(folder))
    assert code == 0 and "sum:1" in out and "(new, labels moved: production)" in out
    code, out, _ = run(capsys, "prompts", "push", str(folder), "--json")
    assert json.loads(out)[0]["created"] is False
    code, out, _ = run(capsys, "prompts", "pull", str(tmp_path / "out"))
    assert out.strip().endswith("sum.yaml")
    assert "Sum {{ x }}" in (tmp_path / "out" / "sum.yaml").read_text()


def test_compare_promotes_only_when_b_wins(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def reply(request: Request) -> str:
        text = request.messages[-1].content
        return "yes" if "Say yes" in text else "no"

    scripted("cli-ab", function=reply)
    rows = "\n".join(json.dumps({"input": f"case {i}", "target": "yes"}) for i in range(30))
    (tmp_path / "cases.jsonl").write_text(rows + "\n")
    (tmp_path / "suite.yaml").write_text(
        "name: yn-suite\nprompt: '{{ input }}'\ndataset: cases.jsonl\n"
        "scorers:\n  - includes: '{{ target }}'\n"
    )
    run(capsys, "prompts", "add", "yn", "-t", "Say no: {{ input }}", "--label", "production")
    run(capsys, "prompts", "add", "yn", "-t", "Say yes: {{ input }}")
    suite = str(tmp_path / "suite.yaml")
    code, out, _ = run(
        capsys,
        "prompts",
        "compare",
        "yn",
        "2",
        "1",
        "--suite",
        suite,
        "--model",
        "scripted/cli-ab",
        "--promote",
        "production",
    )
    assert code == 1 and "not moved" in out, _
    code, out, _ = run(
        capsys,
        "prompts",
        "compare",
        "yn",
        "1",
        "2",
        "--suite",
        suite,
        "--model",
        "scripted/cli-ab",
        "--promote",
        "production",
        "--max-cost-increase",
        "10%",
        "--json",
    )
    result = json.loads(out)
    assert code == 0 and result["gate_passed"] and result["promoted"]["to_version"] == 2
    assert result["comparison"]["tests"][0]["b_only_passed"] == 30


def test_experiments_commands(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "prompts", "add", "greet", "-t", "Hello {{ name }}")
    run(capsys, "prompts", "add", "greet", "-t", "Hi {{ name }}")
    code, out, _ = run(
        capsys,
        "experiments",
        "create",
        "tone",
        "--prompt",
        "greet",
        "--arm",
        "control=1",
        "--arm",
        "new=2",
        "--weight",
        "control=90",
        "--weight",
        "new=10",
        "--salt",
        "s",
    )
    assert code == 0 and "control=v1 (90%)" in out and "new=v2 (10%)" in out
    code, out, _ = run(capsys, "experiments", "list", "--json")
    assert json.loads(out)[0]["arms"][1] == {"name": "new", "version": 2, "weight": 10.0}
    code, out, _ = run(capsys, "experiments", "ramp", "tone", "--weight", "new=90")
    assert "new=50.0%" in out
    code, out, _ = run(capsys, "experiments", "report", "tone", "--json")
    report = json.loads(out)
    assert [a["arm"] for a in report["arms"]] == ["control", "new"]
    assert "not enough quality data" in report["verdict"]
    code, out, _ = run(capsys, "experiments", "stop", "tone", "--winner", "new")
    assert "all units now get new" in out
    code, _, err = run(capsys, "experiments", "report", "tonne")
    assert code == 2 and "did you mean: tone" in err


def test_add_from_files(store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t.txt").write_text("Plain {name}\n")
    code, out, _ = run(capsys, "prompts", "add", "plain", "--file", str(tmp_path / "t.txt"))
    assert code == 0 and out.startswith("plain:1 #")
    code, out, _ = run(capsys, "prompts", "render", "plain", "--var", "name=x")
    assert out == "Plain x\n\n"
    (tmp_path / "p.md").write_text("---\nconfig: {temperature: 0.5}\n---\nMd {{ a }}\n")
    code, out, _ = run(capsys, "prompts", "add", "md", "-f", str(tmp_path / "p.md"), "--json")
    assert json.loads(out)["version"] == 1
    code, _, err = run(capsys, "prompts", "add", "md", "-f", str(tmp_path / "p.md"), "--var", "a")
    assert code == 2 and "set them in the file" in err


def test_report_table_with_one_call_per_arm(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    # one call gives a mean without an interval; the table shows the mean, not a crash
    run(capsys, "prompts", "add", "greet", "-t", "Hello {{ name }}")
    run(capsys, "prompts", "add", "greet", "-t", "Hi {{ name }}")
    run(capsys, "experiments", "create", "one", "-p", "greet", "--arm", "a=1", "--arm", "b=2")
    rows = [
        {
            **dataclasses.asdict(
                CallRecord(
                    id=new_call_id(),
                    started_at=datetime.now(UTC),
                    provider="openai",
                    requested_model="gpt-4o-mini",
                    duration_s=0.25 * v,
                    input_tokens=10,
                    output_tokens=5,
                    cost=Decimal("0.001"),
                    cost_status="priced",
                    prompt_name="greet",
                    prompt_version=v,
                )
            ),
            "experiment": "one",
            "arm": arm,
        }
        for v, arm in ((1, "a"), (2, "b"))
    ]
    insert_calls(store, rows)
    code, out, err = run(capsys, "experiments", "report", "one")
    assert code == 0, err
    assert "0.25" in out and "0.5" in out
    code, out, _ = run(capsys, "experiments", "report", "one", "--json")
    latency = json.loads(out)["arms"][0]["latency_s"]
    assert latency == {"n": 1, "mean": 0.25, "low": None, "high": None}
