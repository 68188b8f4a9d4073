"""The rollup hook's two ways of adding a batch (plain Python for small batches, numpy for
large ones) give the same rollup rows, to the bit: sums, money, histograms."""

from __future__ import annotations

import dataclasses
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from llmlab.monitor import CallRecord, _rollups
from llmlab.monitor._rollups import rollup_deltas
from llmlab.store import Store, as_money, insert_calls

from ._calls import make_calls
from .test_stats import AWKWARD_COSTS, _rollup_snapshot

_FIELDS = tuple(field.name for field in dataclasses.fields(CallRecord))


def _rows(n: int, seed: int) -> list[dict[str, Any]]:
    """Varied call rows as the recorder queues them: awkward money, every status, cache
    hits, tags, prompts, arms, runs, calls on both sides of a day boundary."""
    rng = random.Random(seed)
    # Across midnight: the batch spans two days and several hours.
    start = datetime(2026, 11, 29, 22, 10, tzinfo=UTC)
    rows = []
    for i, rec in enumerate(make_calls(n, start=start, span=timedelta(hours=4), seed=seed)):
        rec.cost = AWKWARD_COSTS[i % len(AWKWARD_COSTS)]
        rec.cost_status = "priced" if rec.cost is not None else "unpriced"
        rec.status = rng.choice(["ok", "ok", "ok", "error", "refused"])  # type: ignore[assignment]
        rec.cache_hit = rng.random() < 0.1
        rec.duration_s = rng.choice([0.0, 1e-6, 0.1 + 0.2, rng.lognormvariate(-1, 1.5), 5e4])
        rec.ttft_s = rec.duration_s * rng.random() if i % 3 else None
        rec.output_tokens = rng.randrange(0, 10**6)
        rec.reasoning_tokens = rng.randrange(0, 50)
        if i % 7 == 0:
            rec.experiment, rec.arm = "exp", f"arm{i % 2}"
        if i % 11 == 0:
            rec.eval_run = f"run-{i % 3}"
        row = {name: getattr(rec, name) for name in _FIELDS}
        row["tags"] = dict(rec.tags)
        rows.append(row)
    return rows


@pytest.mark.parametrize("n", [1, 2, 7, 64, 500, 2100])
def test_plain_and_numpy_deltas_are_identical(n: int) -> None:
    rows = _rows(n, seed=n)
    plain = rollup_deltas(rows, vectorised=False)
    vectorised = rollup_deltas(rows, vectorised=True)
    assert list(plain) == list(vectorised)
    for key, values in plain.items():
        other = vectorised[key]
        # Same types too: the writer stores what it is given.
        assert [type(v) for v in values] == [type(v) for v in other], key
        assert values == other, key
    if n > 2:
        assert {"d", "h"} == {key[0] for key in plain}
        assert {"tag:user", "arm", "prompt", "eval_run"} <= {key[2] for key in plain}


def test_small_batches_skip_numpy_large_ones_use_it(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[str] = []
    monkeypatch.setattr(_rollups, "_deltas_numpy", lambda *a: used.append("numpy") or {})
    monkeypatch.setattr(_rollups, "_deltas_plain", lambda *a: used.append("plain") or {})
    rollup_deltas(_rows(_rollups.NUMPY_MIN_BATCH - 1, seed=1))
    rollup_deltas(_rows(_rollups.NUMPY_MIN_BATCH, seed=1))
    assert used == ["plain", "numpy"]


def test_both_paths_store_equal_rollup_rows(store: Store, tmp_path: Path) -> None:
    """The same batches written once through each path: equal rows in the table, byte for
    byte (histograms) and to the pico-dollar, also when a batch merges into rows an
    earlier batch wrote."""
    batches = [_rows(40, seed=3), _rows(25, seed=4), _rows(1, seed=5)]
    snapshots = []
    with Store(str(tmp_path / "other.db")) as other:
        for handle, vectorised in ((store, False), (other, True)):

            def hook(conn: Any, rows: Any, vectorised: bool = vectorised) -> None:
                _rollups.upsert_rollups(
                    conn, rollup_deltas(rows, vectorised=vectorised), _rollups._merge
                )

            for batch in batches:
                insert_calls(handle, [dict(row) for row in batch], in_transaction=hook)
            snapshots.append(_rollup_snapshot(handle))
    plain, vectorised_rows = snapshots
    assert plain == vectorised_rows
    assert sum(v["cost"] for (g, _, d, _k), v in plain.items() if (g, d) == ("d", "all")) == sum(
        (as_money(r["cost"]) for b in batches for r in b if r["cost"] is not None), Decimal(0)
    )


def test_small_batch_without_numpy_in_a_fresh_interpreter() -> None:
    """A one-call batch is added up (and its histograms merged) without importing numpy."""
    code = (
        "import sys\n"
        "from datetime import datetime, UTC\n"
        "from decimal import Decimal\n"
        "from llmlab.monitor._rollups import _merge, rollup_deltas\n"
        "assert 'numpy' not in sys.modules, 'imported at load'\n"
        "row = dict(started_at=datetime.now(UTC), provider='openai', requested_model='m',\n"
        "           cost=Decimal('0.0000001125'), status='ok', duration_s=0.2, ttft_s=0.1,\n"
        "           tags={'user': 'u'})\n"
        "deltas = rollup_deltas([row])\n"
        "values = next(iter(deltas.values()))\n"
        "_merge(values, values)\n"
        "assert 'numpy' not in sys.modules, 'imported by the hook'\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
