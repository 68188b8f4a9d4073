"""Agreement statistics against hand-computed references and scipy, then on stored runs
through the library and ``llmlab eval agreement``."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from llmlab.cli import main
from llmlab.evals import (
    CalibrationError,
    Confusion,
    agreement,
    attach_labels,
    cohens_kappa,
    corrected_pass_rate,
    judge_consistency,
    measure_agreement,
    rogan_gladen,
)
from llmlab.evals._calibration import parse_split
from llmlab.evals._labels import HumanLabel
from llmlab.models import Request, scripted
from llmlab.store import Store, get_eval_run
from llmlab.testing import WireServer

from .quality import judged_run, write_judge_suite

FIXED = Confusion(tp=40, fn=10, fp=5, tn=45)


def test_confusion_counts_pairs() -> None:
    human = [True, True, True, False, False, False, False]
    judge = [True, False, True, True, False, False, False]
    assert Confusion.of(human, judge) == Confusion(tp=2, fn=1, fp=1, tn=3)


def test_agreement_figures_equal_hand_computed_values() -> None:
    a = agreement(FIXED)
    assert a.tpr is not None and a.tpr.estimate == pytest.approx(40 / 50)
    assert a.tnr is not None and a.tnr.estimate == pytest.approx(45 / 50)
    assert a.precision is not None and a.precision.estimate == pytest.approx(40 / 45)
    assert a.accuracy is not None and a.accuracy.estimate == pytest.approx(85 / 100)
    # kappa by hand: po = 0.85; pe = (50*45 + 50*55) / 100^2 = 0.5; (0.85 - 0.5) / 0.5 = 0.7
    assert a.kappa is not None and a.kappa.estimate == pytest.approx(0.7)
    se = math.sqrt(0.85 * 0.15 / (100 * 0.5**2))  # Cohen (1960)
    assert a.kappa.low == pytest.approx(0.7 - 1.959964 * se, abs=1e-5)
    assert a.kappa.high == pytest.approx(0.7 + 1.959964 * se, abs=1e-5)


@pytest.mark.parametrize(
    ("name", "k", "n"),
    [("tpr", 40, 50), ("tnr", 45, 50), ("precision", 40, 45), ("accuracy", 85, 100)],
)
def test_proportion_intervals_match_scipys_wilson(name: str, k: int, n: int) -> None:
    interval = getattr(agreement(FIXED), name)
    reference = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert interval.low == pytest.approx(reference.low, abs=1e-9)
    assert interval.high == pytest.approx(reference.high, abs=1e-9)


def test_kappa_is_undefined_when_both_raters_give_one_verdict() -> None:
    assert cohens_kappa(Confusion(tp=10, fn=0, fp=0, tn=0)) is None
    perfect = cohens_kappa(Confusion(tp=10, fn=0, fp=0, tn=10))
    assert perfect is not None and perfect.estimate == pytest.approx(1.0)


def test_rogan_gladen_point_estimate() -> None:
    assert rogan_gladen(0.6, 0.8, 0.9) == pytest.approx(0.5 / 0.7)
    assert rogan_gladen(0.1, 1.0, 1.0) == pytest.approx(0.1)  # a perfect judge is exact
    corrected = corrected_pass_rate(60, 100, FIXED)
    assert corrected.raw == pytest.approx(0.5 / 0.7) and corrected.observed == 0.6
    assert corrected.low < corrected.estimate < corrected.high


def _delta_interval(p: float, n: int, c: Confusion) -> tuple[float, float]:
    """Reference: the delta-method normal interval of the Rogan–Gladen estimate with the
    variance of p, TPR and TNR (Greenland 1996, eq. 4)."""
    t, s = c.tp / c.human_pass, c.tn / c.human_fail
    j = t + s - 1
    theta = (p + s - 1) / j
    var = (
        p * (1 - p) / n
        + theta**2 * t * (1 - t) / c.human_pass
        + (1 - theta) ** 2 * s * (1 - s) / c.human_fail
    ) / j**2
    half = 1.959964 * math.sqrt(var)
    return theta - half, theta + half


def test_corrected_interval_matches_the_delta_method_and_carries_calibration_noise() -> None:
    c = Confusion(tp=1600, fn=400, fp=200, tn=1800)  # TPR 0.8, TNR 0.9
    corrected = corrected_pass_rate(12_000, 20_000, c, resamples=20_000)
    low, high = _delta_interval(0.6, 20_000, c)
    assert corrected.low == pytest.approx(low, abs=0.004)
    assert corrected.high == pytest.approx(high, abs=0.004)
    # Without the calibration's own uncertainty the interval would be much narrower.
    p_only = 1.959964 * math.sqrt(0.6 * 0.4 / 20_000) / 0.7
    assert (corrected.high - corrected.low) > 2 * p_only * 1.5


def test_corrected_rate_reproduces_a_reference_bootstrap() -> None:
    corrected = corrected_pass_rate(30, 50, FIXED, resamples=5000, seed=7)
    rng = np.random.default_rng(7)
    p = rng.binomial(50, 0.6, 5000) / 50
    t = rng.binomial(50, 0.8, 5000) / 50
    s = rng.binomial(50, 0.9, 5000) / 50
    values = sorted(
        min(1.0, max(0.0, (pi + si - 1) / (ti + si - 1)))
        for pi, ti, si in zip(p, t, s, strict=True)
        if ti + si > 1
    )
    assert corrected.low == pytest.approx(float(np.quantile(values, 0.025)))
    assert corrected.high == pytest.approx(float(np.quantile(values, 0.975)))


def test_clear_messages_for_a_chance_judge_and_too_few_labels() -> None:
    with pytest.raises(
        CalibrationError, match=r"no better than chance \(TPR 0.40 \+ TNR 0.60 <= 1\)"
    ):
        corrected_pass_rate(5, 10, Confusion(tp=4, fn=6, fp=4, tn=6))
    with pytest.raises(CalibrationError, match=r"too few labels: 3 human pass\(es\) and 20 fail"):
        corrected_pass_rate(5, 10, Confusion(tp=3, fn=0, fp=2, tn=18))


def test_split_parsing() -> None:
    assert parse_split("dev=0.4,test=0.6") == (0.4, 0.6)
    for bad in ("dev=0.4", "dev=0.5,test=0.6", "train=0.5,test=0.5", "dev=x,test=1"):
        with pytest.raises(Exception, match="--split"):
            parse_split(bad)


# --- on stored runs ---------------------------------------------------------------------------


def _labels_for_truth(n: int, wrong: set[int]) -> list[HumanLabel]:
    return [HumanLabel(str(i), passed=i not in wrong) for i in range(n)]


async def test_agreement_of_a_stored_judge_with_labels(tmp_path: Path, llmlab_store: Store) -> None:
    wrong = set(range(0, 40, 4))  # 10 wrong answers of 40
    run = await judged_run(
        tmp_path, 40, name="ag", wrong=wrong, misses=[1, 2, 3], false_passes=[0, 4]
    )
    assert run.summary["judges"]["judge"]["calibrated"] is False
    labelled = attach_labels(run.id, _labels_for_truth(30, wrong), store=llmlab_store)
    assert labelled.stored == 30 and labelled.failed == 8
    report = measure_agreement(run.id, store=llmlab_store)
    (s,) = report.scorers
    assert s.scorer == "judge" and s.model_graded and s.labelled == 30
    # cases 0..29: wrong {0,4,...,28} = 8; judge misses 1,2,3 and passes 0,4 wrongly
    assert s.overall.confusion == Confusion(tp=19, fn=3, fp=2, tn=6)
    assert s.unlabelled == 10 and s.corrected is not None
    # unlabelled cases 30..39: wrong 32, 36 -> the judge passes 8 of 10
    tpr, tnr = 19 / 22, 6 / 8
    assert s.corrected.observed == pytest.approx(0.8)
    assert s.corrected.raw == pytest.approx((0.8 + tnr - 1) / (tpr + tnr - 1))
    assert report.ok

    stored = get_eval_run(llmlab_store, run.id)
    assert stored is not None and stored.summary is not None
    shown = stored.summary["judges"]["judge"]
    assert shown["calibrated"] and shown["labels"] == 30 and shown["tnr"] == pytest.approx(tnr)


async def test_split_holds_out_test_cases(tmp_path: Path, llmlab_store: Store) -> None:
    wrong = set(range(0, 40, 2))
    run = await judged_run(tmp_path, 40, name="sp", wrong=wrong, misses=[1], false_passes=[2])
    attach_labels(run.id, _labels_for_truth(40, wrong), store=llmlab_store)
    report = measure_agreement(run.id, split="dev=0.25,test=0.75", seed=3, store=llmlab_store)
    (s,) = report.scorers
    assert s.dev is not None and s.test is not None
    assert (s.dev.confusion.n, s.test.confusion.n) == (10, 30)
    assert s.overall.confusion.n == 40
    assert s.corrected is not None
    assert s.corrected.tpr == pytest.approx(s.test.tpr.estimate if s.test.tpr else -1)
    again = measure_agreement(run.id, split="dev=0.25,test=0.75", seed=3, store=llmlab_store)
    assert again.scorers[0].test == s.test  # the seed fixes the split


async def test_a_later_run_with_the_same_judge_shows_its_calibration(
    tmp_path: Path, llmlab_store: Store
) -> None:
    wrong = set(range(0, 20, 2))
    first = await judged_run(tmp_path / "a", 20, name="cal", wrong=wrong)
    attach_labels(first.id, _labels_for_truth(20, wrong), store=llmlab_store)
    measure_agreement(first.id, store=llmlab_store)
    second = await judged_run(tmp_path / "b", 20, name="cal", wrong=wrong)
    judge = second.summary["judges"]["judge"]
    assert judge["calibrated"] and judge["calibrated_on"] == first.id
    assert judge["kappa"] == pytest.approx(1.0) and judge["labels"] == 20


async def test_judge_flip_rate_on_the_same_output(tmp_path: Path, llmlab_store: Store) -> None:
    run = await judged_run(tmp_path, 10, name="flip", wrong=[])
    seen: dict[str, int] = {}

    def fickle(request: Request) -> str:
        text = request.messages[-1].content
        case = text.split("[The assistant's answer]", 1)[1].split()[1]
        seen[case] = seen.get(case, 0) + 1
        # cases 0-3 alternate verdicts; the rest always pass
        passed = case not in {"0", "1", "2", "3"} or seen[case] % 2 == 1
        return json.dumps({"reasoning": "x", "score": 1 if passed else 0})

    scripted("flip-judge", function=fickle)
    (c,) = await judge_consistency(run.id, epochs=2, store=llmlab_store)
    assert c.scorer == "judge" and c.outputs == 10 and c.epochs == 2
    assert c.mean_flip_rate == pytest.approx(4 / 10)
    assert c.consistency == pytest.approx(6 / 10)
    assert sorted(c.flipped) == ["0#1", "1#1", "2#1", "3#1"]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out, err


async def test_cli_agreement_exit_codes(
    tmp_path: Path, llmlab_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = set(range(0, 60, 3))
    run = await judged_run(tmp_path, 60, name="cli-ag", wrong=wrong, misses=[1], false_passes=[3])

    code, _, err = cli(capsys, "eval", "agreement", run.id)
    assert code == 2 and "has no human labels" in err and len(err.strip().splitlines()) == 1

    labels = tmp_path / "labels.csv"
    labels.write_text(
        "case_id,label\n" + "".join(f"{i},{'fail' if i in wrong else 'pass'}\n" for i in range(60))
    )
    code, out, _ = cli(capsys, "eval", "label", run.id, "--file", str(labels))
    assert code == 0 and "stored 60 label(s)" in out

    code, out, _ = cli(capsys, "eval", "agreement", run.id, "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"]
    assert data["scorers"][0]["agreement"]["confusion"] == {"tp": 39, "fn": 1, "fp": 1, "tn": 19}

    code, out, _ = cli(capsys, "eval", "agreement", run.id, "--split", "dev=0.4,test=0.6")
    assert code == 0 and "test (held out)" in out and "corrected" in out

    code, _, err = cli(capsys, "eval", "agreement", run.id, "--scorer", "nope")
    assert code == 2 and "has no scorer 'nope'; it has judge" in err

    # Relabel so that too few human fails remain: exit 1 with the reason.
    labels.write_text("case_id,label\n" + "".join(f"{i},pass\n" for i in range(60)))
    cli(capsys, "eval", "label", run.id, "--file", str(labels))
    code, out, _ = cli(capsys, "eval", "agreement", run.id)
    assert code == 1 and "too few labels: 60 human pass(es) and 0 fail(s)" in out


def test_cli_agreement_judge_epochs(
    openai_env: WireServer, tmp_path: Path, llmlab_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    from llmlab.evals import load_suite, run_eval

    # The wire server answers the judge's verdict schema with score 0 every time.
    path = write_judge_suite(tmp_path, 12, name="ep", judge="x")
    path.write_text(path.read_text().replace("scripted/x", "openai/gpt-4o-mini"))
    run = asyncio.run(run_eval(load_suite(path), model="openai/gpt-4o-mini", cache=False))
    assert run.summary["judge"]["calls"] == 12
    attach_labels(run.id, [HumanLabel(str(i), passed=True) for i in range(6)], store=llmlab_store)
    before = openai_env.count("/v1/chat/completions")
    code, out, _ = cli(capsys, "eval", "agreement", run.id, "--epochs", "3", "--json")
    data = json.loads(out)
    assert code == 1  # no human fail among the labels: TNR unknown
    assert data["judge_consistency"][0]["mean_flip_rate"] == 0.0
    assert data["judge_consistency"][0]["outputs"] == 12
    assert openai_env.count("/v1/chat/completions") - before == 36  # 12 outputs x 3 trials


def test_eval_show_says_whether_each_judge_is_calibrated_now(
    tmp_path: Path, llmlab_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = set(range(0, 20, 2))
    before = asyncio.run(judged_run(tmp_path / "a", 20, name="show-cal", wrong=wrong))
    code, out, _ = cli(capsys, "eval", "show", before.id)
    assert code == 0 and "judge judge (scripted/show-cal-judge): NOT calibrated" in out
    later = asyncio.run(judged_run(tmp_path / "b", 20, name="show-cal", wrong=wrong))
    attach_labels(later.id, _labels_for_truth(20, wrong), store=llmlab_store)
    measure_agreement(later.id, store=llmlab_store)
    # The run made before the calibration shows it now, in text and JSON.
    code, out, _ = cli(capsys, "eval", "show", before.id)
    assert code == 0 and "calibrated on 20 labels, TPR 1.000 TNR 1.000 kappa 1.000" in out
    code, out, _ = cli(capsys, "eval", "show", before.id, "--json")
    assert json.loads(out)["run"]["summary"]["judges"]["judge"]["calibrated_on"] == later.id
