"""Statistics checked against scipy on known data and by property tests."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

import llmlab
from llmlab.evals import (
    bootstrap_mean_ci,
    consistency,
    flip_rate,
    holm,
    mcnemar_exact,
    paired_bootstrap,
    pass_at_k,
    pass_hat_k,
    sample_size_mcnemar,
    standard_error,
    wilson_interval,
)
from llmlab.evals._paired import paired_test
from llmlab.evals._stats import Interval, reduce_epochs


@pytest.mark.parametrize(("k", "n"), [(0, 10), (7, 10), (10, 10), (81, 263), (1, 2)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    ours = wilson_interval(k, n)
    ref = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert (ours.low, ours.high) == pytest.approx((ref.low, ref.high), abs=1e-12)


@pytest.mark.parametrize(("b", "c"), [(0, 0), (3, 0), (5, 12), (40, 41), (200, 150)])
def test_mcnemar_exact_matches_scipy_binomtest(b: int, c: int) -> None:
    expected = 1.0 if b + c == 0 else sps.binomtest(b, b + c, 0.5).pvalue
    assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-9)


def test_standard_error_matches_scipy() -> None:
    data = [0.1, 0.5, 0.9, 1.0, 0.0, 0.7]
    assert standard_error(data) == pytest.approx(sps.sem(data))


def test_bootstrap_ci_close_to_scipy_percentile_bootstrap() -> None:
    rng = np.random.default_rng(1)
    data = rng.uniform(size=200)
    ours = bootstrap_mean_ci(list(data), resamples=4000)
    ref = sps.bootstrap(
        (data,), np.mean, n_resamples=4000, method="percentile", random_state=2
    ).confidence_interval
    assert ours.low == pytest.approx(ref.low, abs=0.01)
    assert ours.high == pytest.approx(ref.high, abs=0.01)
    assert ours.low < ours.estimate < ours.high


def test_bootstrap_ci_of_a_constant_or_empty_sample_needs_no_numpy() -> None:
    # A run that all passed (or all failed) gets its interval without importing numpy
    # (about 0.1 s of CPU at start-up, which the eval runner's budget counts).
    code = (
        "import sys\n"
        "from llmlab.evals._stats import bootstrap_mean_ci\n"
        "print(bootstrap_mean_ci([0.7] * 5), bootstrap_mean_ci([]), 'numpy' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(llmlab.__file__).parents[1])}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().endswith("False")
    assert bootstrap_mean_ci([0.7] * 5) == Interval(0.7, 0.7, 0.7, 0.95)
    assert bootstrap_mean_ci([]) == Interval(0.0, 0.0, 0.0, 0.95)
    varied = bootstrap_mean_ci([0.0, 1.0, 1.0, 0.0, 1.0])
    assert varied.estimate == pytest.approx(0.6)
    assert varied.low < varied.estimate < varied.high


def test_pass_at_k_known_values() -> None:
    # n=10 trials, c=3 correct: pass@1 = 0.3; pass@k by direct enumeration.
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - math.comb(7, 5) / math.comb(10, 5))
    assert pass_at_k(10, 3, 8) == 1.0
    assert pass_hat_k(10, 3, 2) == pytest.approx(3 * 2 / (10 * 9))
    assert pass_hat_k(5, 5, 5) == 1.0


def test_holm_known_values() -> None:
    # Textbook example: p = (0.01, 0.04, 0.03, 0.005) with m = 4.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_flip_rate_and_consistency() -> None:
    assert flip_rate([True, True, True]) == 0.0
    assert flip_rate([True, False]) == 1.0
    assert flip_rate([True, False, False, False]) == pytest.approx(0.5)
    assert consistency([[True, True], [False, False], [True, False]]) == pytest.approx(2 / 3)


def test_reducers() -> None:
    scores = [1.0, 0.0, 1.0]
    passed = [True, False, True]
    mean, mean_ok = reduce_epochs(scores, passed, "mean", threshold=0.7)
    assert mean == pytest.approx(2 / 3) and not mean_ok
    assert reduce_epochs(scores, passed, "median", threshold=0.7) == (1.0, True)
    share, majority_ok = reduce_epochs(scores, passed, "majority", threshold=0.7)
    assert share == pytest.approx(2 / 3) and majority_ok
    assert reduce_epochs(scores, passed, "pass_at_k", threshold=0.7, k=1)[0] == pytest.approx(2 / 3)
    assert reduce_epochs(scores, passed, "pass_hat_k", threshold=0.7) == (0.0, False)


def test_paired_test_verdicts() -> None:
    a = [1.0] * 60 + [0.0] * 40
    b = [1.0] * 60 + [1.0] * 30 + [0.0] * 10
    result = paired_test("pass", a, b, binary=True)
    assert result.b_only == 30 and result.a_only == 0
    assert result.significant and result.verdict().startswith("B better")
    same = paired_test("pass", [1.0, 0.0] * 10, [1.0, 0.0] * 9 + [0.0, 1.0], binary=True)
    assert not same.significant
    assert "no detectable difference" in same.verdict()


def test_sample_size_grows_as_the_difference_shrinks() -> None:
    big = sample_size_mcnemar(0.05, 0.20)
    small = sample_size_mcnemar(0.10, 0.15)
    assert big is not None and small is not None and small > big
    assert sample_size_mcnemar(0.1, 0.1) is None


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=500), st.data())
def test_wilson_contains_the_estimate(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n))
    interval = wilson_interval(k, n)
    assert 0.0 <= interval.low <= k / n <= interval.high <= 1.0


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=30), st.data())
def test_pass_at_k_properties(n: int, data: st.DataObject) -> None:
    c = data.draw(st.integers(min_value=0, max_value=n))
    k = data.draw(st.integers(min_value=1, max_value=n))
    at_k, hat_k = pass_at_k(n, c, k), pass_hat_k(n, c, k)
    assert 0.0 <= hat_k <= c / n + 1e-12 <= at_k + 2e-12 <= 1.0 + 2e-12
    if k > 1:
        assert pass_at_k(n, c, k - 1) <= at_k + 1e-12
        assert pass_hat_k(n, c, k - 1) >= hat_k - 1e-12


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 60), st.integers(0, 60))
def test_mcnemar_is_symmetric_and_a_probability(b: int, c: int) -> None:
    p = mcnemar_exact(b, c)
    assert 0.0 < p <= 1.0
    assert p == mcnemar_exact(c, b)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=8))
def test_holm_is_monotone_and_not_below_raw(ps: list[float]) -> None:
    adjusted = holm(ps)
    assert all(a >= p - 1e-15 and a <= 1.0 for a, p in zip(adjusted, ps, strict=True))
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    assert all(adjusted[i] <= adjusted[j] for i, j in zip(order, order[1:], strict=False))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=40))
def test_paired_bootstrap_of_identical_samples_is_zero(values: list[float]) -> None:
    interval, p = paired_bootstrap(values, values)
    assert interval.low == interval.high == 0.0 and p == 1.0


def test_summary_reports_pass_at_the_suites_k() -> None:
    from llmlab.evals import summarize
    from llmlab.store import EvalResultRow

    rows = [
        EvalResultRow(
            run_id="r", case_id=c, epoch=e, status="ok", score=float(ok), passed=ok, errored=False
        )
        for c, outcomes in (("a", [True, False, False]), ("b", [True, True, True]))
        for e, ok in enumerate(outcomes, start=1)
    ]
    trials = summarize(rows, reducer="pass_at_k", epochs=3, k=2)["trials"]
    assert trials["pass@2"] == pytest.approx((pass_at_k(3, 1, 2) + 1.0) / 2)
    assert trials["pass^2"] == pytest.approx((0.0 + 1.0) / 2)
    assert "pass@3" not in trials
    assert "pass@3" in summarize(rows, epochs=3)["trials"]


def test_summary_folds_cases_and_needs_each_cases_trials_together() -> None:
    from llmlab.evals import reduce_cases, summarize
    from llmlab.store import EvalResultRow

    def row(case: str, epoch: int, ok: bool, tag: str) -> EvalResultRow:
        return EvalResultRow(
            run_id="r",
            case_id=case,
            epoch=epoch,
            status="ok",
            score=1.0 if ok else 0.25,
            passed=ok,
            errored=False,
            scores={"exact": 1.0 if ok else 0.0, "length": 0.5},
            tags=[tag],
        )

    rows = [
        row("a", 1, True, "x"),
        row("a", 2, False, "x"),
        row("b", 1, True, "x"),
        row("b", 2, True, "x"),
        row("c", 1, False, "y"),
        row("c", 2, False, "y"),
    ]
    s = summarize(rows, epochs=2, threshold=0.6)
    outcomes = reduce_cases(rows, threshold=0.6)
    assert s["cases"] == 3 and s["passed"] == sum(o.passed for o in outcomes.values()) == 2
    assert s["mean_score"] == pytest.approx(sum(o.score for o in outcomes.values()) / 3)
    assert s["tags"]["x"]["n"] == 2 and s["tags"]["y"] == {
        "n": 1,
        "passed": 0,
        "pass_rate": 0.0,
        "ci": s["tags"]["y"]["ci"],
    }
    assert s["scorers"] == {"exact": pytest.approx(0.5), "length": pytest.approx(0.5)}
    assert s["trials"]["consistency"] == pytest.approx(2 / 3)  # b always, c never, a flips
    assert s["trials"]["mean_flip_rate"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="results of case 'a' are not together"):
        summarize([rows[0], rows[2], rows[1]])
