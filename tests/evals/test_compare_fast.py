"""compare_runs and case_verdicts (shared-case columns, arrays, shared bootstrap draws) equals the
straightforward computation: every result row read, reduce_cases, one paired test at a
time with its own bootstrap, McNemar from math.comb, Holm."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from llmlab.evals import case_verdicts, compare_runs, reduce_cases
from llmlab.evals._paired import (
    PairedTest,
    holm,
    mcnemar_exact,
    paired_bootstrap,
    paired_test,
    paired_tests,
    sample_size_mcnemar,
    sample_size_paired_mean,
)
from llmlab.evals._stats import Interval
from llmlab.store import (
    EvalResultRow,
    Store,
    create_eval_run,
    insert_eval_results,
    iter_eval_results,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'llmlab.db'}"
    with Store(url) as handle:
        yield handle


# --- the reference: the computation as it was written before it was made fast ---------


def _ref_mcnemar(b: int, c: int) -> float:
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1))
    return min(1.0, float(2 * tail / (1 << n)))


def _ref_bootstrap(a: Sequence[float], b: Sequence[float]) -> tuple[Interval, float]:
    diff = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    if diff.size == 0:
        return Interval(0.0, 0.0, 0.0), 1.0
    mean = float(diff.mean())
    if float(diff.min()) == float(diff.max()):
        return Interval(mean, mean, mean), (1.0 if mean == 0 else 0.0)
    rng = np.random.default_rng(0)
    means = np.empty(2000)
    chunk = max(1, 200_000 // diff.size)
    for start in range(0, 2000, chunk):
        stop = min(2000, start + chunk)
        idx = rng.integers(0, diff.size, size=(stop - start, diff.size))
        means[start:stop] = diff[idx].mean(axis=1)
    alpha = (1 - 0.95) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    p = min(1.0, max(2 * min(float(np.mean(means <= 0)), float(np.mean(means >= 0))), 1 / 2000))
    return Interval(mean, float(low), float(high)), p


def _ref_test(metric: str, a: list[float], b: list[float], *, binary: bool) -> PairedTest:
    n = len(a)
    interval, p_boot = _ref_bootstrap(a, b)
    a_mean = float(np.mean(a)) if n else 0.0
    b_mean = float(np.mean(b)) if n else 0.0
    if binary:
        a_only = sum(1 for x, y in zip(a, b, strict=True) if x >= 0.5 > y)
        b_only = sum(1 for x, y in zip(a, b, strict=True) if y >= 0.5 > x)
        p = _ref_mcnemar(a_only, b_only)
        needed = sample_size_mcnemar(a_only / n, b_only / n) if n else None
        return PairedTest(metric, n, a_mean, b_mean, interval, p, p, a_only, b_only, needed)
    sd = float(np.std(np.asarray(b) - np.asarray(a), ddof=1)) if n > 1 else 0.0
    needed = sample_size_paired_mean(interval.estimate, sd)
    return PairedTest(metric, n, a_mean, b_mean, interval, p_boot, p_boot, needed_n=needed)


def _ref_compare(store: Store, run_a: str, run_b: str, options: dict[str, Any]) -> dict[str, Any]:
    def outcomes(run: str) -> dict[str, Any]:
        return reduce_cases(
            iter_eval_results(store, run),
            reducer=options.get("reducer", "mean"),
            threshold=0.6,
            k=options.get("k"),
        )

    out_a, out_b = outcomes(run_a), outcomes(run_b)
    common = sorted(set(out_a) & set(out_b))
    tests = [
        _ref_test(
            "pass rate",
            [float(out_a[c].passed) for c in common],
            [float(out_b[c].passed) for c in common],
            binary=True,
        ),
        _ref_test(
            "score",
            [out_a[c].score for c in common],
            [out_b[c].score for c in common],
            binary=False,
        ),
    ]
    names = sorted(
        {n for c in common for n in out_a[c].parts} & {n for c in common for n in out_b[c].parts}
    )
    if len(names) > 1:
        for name in names:
            both = [c for c in common if name in out_a[c].parts and name in out_b[c].parts]
            tests.append(
                _ref_test(
                    f"scorer {name}",
                    [out_a[c].parts[name] for c in both],
                    [out_b[c].parts[name] for c in both],
                    binary=False,
                )
            )
    adjusted = holm([t.p_value for t in tests])
    return {
        "n": len(common),
        "only_a": len(set(out_a) - set(out_b)),
        "only_b": len(set(out_b) - set(out_a)),
        "tests": [replace(t, p_adjusted=p) for t, p in zip(tests, adjusted, strict=True)],
    }


# --- random runs ------------------------------------------------------------------------

# Upper and lower case, digits, an accent: a database collation may order them otherwise
# than Python does, and the bootstrap depends on the order of the cases.
_IDS = [f"{p}{i}" for i in range(60) for p in ("c", "C", "é", "a-", "a_")]


def _store_run(
    store: Store, run_id: str, rng: random.Random, *, epochs: int, options: dict[str, Any]
) -> None:
    ids = rng.sample(_IDS, 220)
    create_eval_run(
        store,
        id=run_id,
        name="random",
        fingerprint="fp",
        model="m",
        n_cases=len(ids),
        epochs=epochs,
        threshold=0.6,
        suite={},
        options=options,
    )
    rows = []
    skill = rng.uniform(0.3, 0.9)
    for case in ids:
        for epoch in range(1, rng.randint(1, epochs) + 1):
            errored = rng.random() < 0.05
            score = None if rng.random() < 0.03 else rng.choice([0.0, 0.25, 0.5, rng.random(), 1.0])
            parts: dict[str, float | None] = {"exact": 1.0 if rng.random() < skill else 0.0}
            if rng.random() < 0.8:  # some cases lack a scorer
                parts["fuzzy"] = None if rng.random() < 0.1 else rng.random()
            if rng.random() < 0.5:
                parts["judge"] = rng.choice([0.0, 0.5, 1.0])
            rows.append(
                EvalResultRow(
                    run_id=run_id,
                    case_id=case,
                    epoch=epoch,
                    status="error" if errored else "ok",
                    score=score,
                    passed=not errored and score is not None and score >= 0.6,
                    errored=errored,
                    scores=parts,
                    created_at=datetime.now(UTC),
                )
            )
    insert_eval_results(store, rows)


@pytest.mark.parametrize(
    ("epochs", "options"),
    [
        (1, {"reducer": "mean"}),
        (1, {"reducer": "majority"}),
        (1, {"reducer": "pass_at_k"}),
        (3, {"reducer": "mean"}),
        (3, {"reducer": "median"}),
        (3, {"reducer": "majority"}),
        (4, {"reducer": "pass_hat_k", "k": 2}),
    ],
)
def test_compare_runs_equals_the_reference_on_random_runs(
    store: Store, epochs: int, options: dict[str, Any]
) -> None:
    rng = random.Random(f"{epochs}{options}")
    for seed in range(2):
        a, b = f"a{seed}", f"b{seed}"
        _store_run(store, a, rng, epochs=epochs, options=options)
        _store_run(store, b, rng, epochs=epochs, options=options)
        expected = _ref_compare(store, a, b, options)
        found = compare_runs(a, b, store=store)
        assert 100 < found.n < 220 and found.only_a > 0 and found.only_b > 0
        assert (found.n, found.only_a, found.only_b) == (
            expected["n"],
            expected["only_a"],
            expected["only_b"],
        )
        assert [t.metric for t in found.tests][:2] == ["pass rate", "score"]
        assert len(found.tests) == 5  # the three scorers, each on the cases both scored
        assert found.tests == expected["tests"]
        reduced = reduce_cases(
            iter_eval_results(store, a),
            reducer=options["reducer"],
            threshold=0.6,
            k=options.get("k"),
        )
        assert case_verdicts(a, store=store) == {
            case: (o.passed, o.score) for case, o in reduced.items()
        }
    assert compare_runs("a0", "a0", store=store).n == len(
        {r.case_id for r in iter_eval_results(store, "a0")}
    )


def test_paired_tests_share_draws_and_equal_each_test_alone() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    a = (rng.random(n) < 0.6).astype(float)
    b = (rng.random(n) < 0.65).astype(float)
    x, y = rng.random(n), rng.random(n)
    same = rng.random(n)
    specs: list[tuple[str, Any, Any, bool]] = [
        ("pass rate", a, b, True),
        ("score", x, y, False),
        ("constant", same, same, False),
        ("fewer", x[:500], y[:500] ** 2, False),
        ("none", x[:0], y[:0], False),
    ]
    together = paired_tests(specs)
    for (metric, xa, yb, binary), found in zip(specs, together, strict=True):
        assert found == paired_test(metric, xa, yb, binary=binary)
        assert found == _ref_test(metric, list(xa), list(yb), binary=binary)
    assert paired_bootstrap(x, y) == _ref_bootstrap(list(x), list(y))


@pytest.mark.parametrize(
    ("b", "c"), [(0, 0), (0, 7), (3, 0), (5, 9), (40, 41), (600, 700), (2100, 1900)]
)
def test_mcnemar_equals_the_sum_of_binomial_coefficients(b: int, c: int) -> None:
    assert mcnemar_exact(b, c) == _ref_mcnemar(b, c)
