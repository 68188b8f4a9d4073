"""Human labels: files round-trip into the store, bad files fail at file:line, and
interactive labelling saves each label at once and resumes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmlab import InputError
from llmlab.cli import main
from llmlab.cli._app import app
from llmlab.evals import EvalRun, attach_labels, load_labels, run_labels, unlabelled_results
from llmlab.store import Store

from .quality import judged_run


@pytest.fixture
def run(tmp_path: Path, llmlab_store: Store) -> EvalRun:
    return asyncio.run(judged_run(tmp_path / "suite", 6, name="lab", wrong=[1, 4]))


def test_csv_labels_round_trip(run: EvalRun, tmp_path: Path, llmlab_store: Store) -> None:
    file = tmp_path / "labels.csv"
    file.write_text(
        "case_id,epoch,label,note,labeller\n0,,pass,,\n1,1,FAIL,wrong city,ann\n\n2,,yes,,\n"
    )
    stored = attach_labels(run.id, file, labeller="bob", store=llmlab_store)
    assert (stored.stored, stored.passed, stored.failed, stored.replaced) == (3, 2, 1, 0)
    labels = run_labels(run.id, store=llmlab_store)
    assert [(lb.case_id, lb.epoch, lb.passed, lb.note, lb.labeller) for lb in labels] == [
        ("0", 1, True, None, "bob"),
        ("1", 1, False, "wrong city", "ann"),
        ("2", 1, True, None, "bob"),
    ]
    assert all(lb.source == str(file) and lb.labelled_at.tzinfo is not None for lb in labels)

    # Labelling a result again replaces its label.
    file.write_text("case_id,label\n0,fail\n")
    again = attach_labels(run.id, file, store=llmlab_store)
    assert again.replaced == 1
    assert {lb.case_id: lb.passed for lb in run_labels(run.id, store=llmlab_store)} == {
        "0": False,
        "1": False,
        "2": True,
    }


def test_jsonl_labels_with_scores(run: EvalRun, tmp_path: Path, llmlab_store: Store) -> None:
    file = tmp_path / "labels.jsonl"
    file.write_text(
        json.dumps({"case_id": "3", "score": 0.9})
        + "\n"
        + json.dumps({"id": "4", "score": 0.2, "note": "weak"})
        + "\n"
        + json.dumps({"case_id": "5", "label": True})
        + "\n"
    )
    attach_labels(run.id, file, store=llmlab_store)
    labels = {lb.case_id: lb for lb in run_labels(run.id, store=llmlab_store)}
    # a score passes at the run's threshold (0.7)
    assert labels["3"].passed and labels["3"].score == 0.9
    assert not labels["4"].passed and labels["4"].note == "weak"
    assert labels["5"].passed and labels["5"].score is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "a.csv",
            "case_id,label\n0,pass\n1,maybe\n",
            r"a\.csv:3: label 'maybe' is not pass or fail",
        ),
        (
            "b.csv",
            "case_id,label\n0,pass\n0,fail\n",
            r"b\.csv:3: case '0' epoch 1 is labelled twice",
        ),
        ("c.csv", "case_id,verdict\n0,pass\n", r"c\.csv:2: unknown column\(s\) verdict"),
        ("d.csv", "case_id,label,score\n0,,\n", r"d\.csv:2: give a label \(pass/fail\) or a score"),
        ("e.csv", "case_id,score\n0,1.5\n", r"e\.csv:2: score '1\.5' is not a number in \[0, 1\]"),
        ("f.csv", "case_id,epoch,label\n0,zero,pass\n", r"f\.csv:2: epoch 'zero' is not a whole"),
        ("g.jsonl", '{"case_id": "0", "label": "pass"}\n{oops\n', r"g\.jsonl:2: not valid JSON"),
        ("h.jsonl", '["0", "pass"]\n', r"h\.jsonl:1: each line must be a JSON object"),
        ("i.csv", "label\npass\n", r"i\.csv:2: no case_id"),
        ("j.txt", "", r"j\.txt:1: empty labels file"),
        ("k.yaml", "a: 1\n", r"k\.yaml: a labels file is \.csv or \.jsonl"),
    ],
)
def test_bad_label_files_fail_at_file_and_line(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    file = tmp_path / name
    file.write_text(content)
    with pytest.raises(InputError, match=message):
        load_labels(file)


def test_a_label_for_a_case_the_run_lacks(
    run: EvalRun, tmp_path: Path, llmlab_store: Store
) -> None:
    file = tmp_path / "labels.csv"
    file.write_text("case_id,epoch,label\n0,,pass\n99,,pass\n")
    with pytest.raises(InputError, match=rf"labels\.csv:3: run {run.id} has no case '99'"):
        attach_labels(run.id, file, store=llmlab_store)
    file.write_text("case_id,epoch,label\n0,2,pass\n")
    with pytest.raises(InputError, match=r"labels\.csv:2: .* has no epoch 2 of case '0'"):
        attach_labels(run.id, file, store=llmlab_store)
    assert run_labels(run.id, store=llmlab_store) == []  # nothing stored from a bad file


def test_cli_label_exit_codes(
    run: EvalRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def cli(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as info:
            main(list(args))
        out, err = capsys.readouterr()
        return (info.value.code if isinstance(info.value.code, int) else 0), out, err

    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("case_id,label\n0,pass\n1,fail\n")
    bad.write_text("case_id,label\n0,pass\n1,nope\n")
    code, out, _ = cli("eval", "label", run.id, "--file", str(good), "--json")
    assert code == 0 and json.loads(out)["stored"] == 2
    code, _, err = cli("eval", "label", run.id, "--file", str(bad))
    assert code == 2 and f"{bad}:3: label 'nope' is not pass or fail" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, _, err = cli("eval", "label", run.id)
    assert code == 2 and "give --file LABELS.csv or --interactive" in err
    code, _, err = cli("eval", "label", "no-such-run", "--file", str(good))
    assert code == 2 and "unknown eval run 'no-such-run'" in err


def test_interactive_labelling_saves_each_label_and_resumes(
    run: EvalRun, llmlab_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMLAB_USER", "carol")
    runner = CliRunner()
    # case 0: note then pass; case 1: fail; case 2: skip; case 3: an unknown key, then quit
    first = runner.invoke(
        app, ["eval", "label", run.id, "-i"], input="n\nlooks fine\np\nf\ns\nx\nq\n"
    )
    assert first.exit_code == 0, first.output
    assert "answer 0 right" in first.output and "judge: pass" in first.output
    assert "labelled 2, skipped 1, 3 left" in first.output
    labels = run_labels(run.id, store=llmlab_store)
    assert [(lb.case_id, lb.passed, lb.note, lb.labeller, lb.source) for lb in labels] == [
        ("0", True, "looks fine", "carol", "interactive"),
        ("1", False, None, "carol", "interactive"),
    ]
    assert [r.case_id for r in unlabelled_results(run.id, store=llmlab_store)] == [
        "2",
        "3",
        "4",
        "5",
    ]

    second = runner.invoke(app, ["eval", "label", run.id, "--interactive"], input="p\np\nf\np\n")
    assert second.exit_code == 0, second.output
    assert "labelled 4, skipped 0, 0 left" in second.output
    assert len(run_labels(run.id, store=llmlab_store)) == 6
    done = runner.invoke(app, ["eval", "label", run.id, "--interactive"])
    assert "every result" in done.output


@pytest.mark.postgres
def test_labels_agreement_and_frontier_on_postgres(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmlab.evals import cost_quality_frontier, measure_agreement
    from llmlab.store import using_store

    monkeypatch.setenv("LLMLAB_DB", pg_url)
    with Store(pg_url) as store, using_store(store):
        wrong = set(range(0, 20, 2))
        run = asyncio.run(judged_run(tmp_path, 20, name="pg-lab", wrong=wrong, misses=[1]))
        file = tmp_path / "labels.csv"
        file.write_text("case_id,label\n" + "".join(f"{i},pass\n" for i in range(20)))
        attach_labels(run.id, file, store=store)
        file.write_text(
            "case_id,label\n"
            + "".join(f"{i},{'fail' if i in wrong else 'pass'}\n" for i in range(20))
        )
        assert attach_labels(run.id, file, store=store).replaced == 20
        (s,) = measure_agreement(run.id, store=store).scorers
        assert (s.overall.confusion.tp, s.overall.confusion.fn) == (9, 1)
        assert (s.overall.confusion.tn, s.overall.confusion.fp) == (10, 0)
        again = asyncio.run(judged_run(tmp_path / "b", 20, name="pg-lab", wrong=wrong))
        assert again.summary["judges"]["judge"]["calibrated"]
        frontier = cost_quality_frontier([run.id, again.id], store=store)
        assert frontier.common_cases == 20
