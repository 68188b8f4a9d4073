"""The eval tables on PostgreSQL: runs, results written once, resume after a partial run."""

from __future__ import annotations

import pytest

from llmlab.evals import EvalSuite, Includes, list_runs, run_eval
from llmlab.models import scripted
from llmlab.store import eval_result_keys, get_engine, get_eval_results, insert_eval_results

pytestmark = pytest.mark.postgres


async def test_run_and_duplicate_results_on_postgres(pg_url: str) -> None:
    scripted("pg", function=lambda request: "echo " + request.messages[-1].content)
    suite = EvalSuite(
        name="pg",
        prompt="{{ input }}",
        cases=[{"id": str(i), "input": f"w{i}"} for i in range(12)],
        scorers=[Includes("w1")],
    )
    run = await run_eval(suite, model="scripted/pg", db=pg_url, epochs=2)
    assert run.summary["results"] == 24 and run.summary["passed"] == 3  # w1, w10, w11
    engine = get_engine(pg_url)
    rows = get_eval_results(engine, run.id)
    insert_eval_results(engine, [{k: v for k, v in rows[0].items() if k != "id"}])
    assert len(get_eval_results(engine, run.id)) == 24  # the duplicate was skipped
    assert len(eval_result_keys(engine, run.id)) == 24
    assert [r["run_id"] for r in list_runs(db=pg_url)] == [run.id]
