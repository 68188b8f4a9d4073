"""The eval tables on PostgreSQL: runs, results written once, resume after a partial run."""

from __future__ import annotations

import dataclasses

import pytest

from llmlab.evals import EvalSuite, Includes, compare_runs, list_runs, run_eval, show_run
from llmlab.models import scripted
from llmlab.store import Store, eval_result_keys, get_eval_results, insert_eval_results

pytestmark = pytest.mark.postgres


async def test_run_and_duplicate_results_on_postgres(pg_url: str) -> None:
    suite = EvalSuite(
        name="pg",
        prompt="{{ input }}",
        cases=[{"id": str(i), "input": f"w{i}"} for i in range(12)],
        scorers=[Includes("w1")],
    )
    with Store(pg_url) as store:
        scripted("pg", function=lambda request: "echo " + request.messages[-1].content, store=store)
        run = await run_eval(suite, model="scripted/pg", store=store, epochs=2)
        assert run.summary["results"] == 24 and run.summary["passed"] == 3  # w1, w10, w11
        rows = get_eval_results(store, run.id)
        assert rows[0].case_data["input"] == "w0" and rows[0].created_at is not None
        insert_eval_results(store, [dataclasses.replace(rows[0], id=None)])
        assert len(get_eval_results(store, run.id)) == 24  # the duplicate was skipped
        assert len(eval_result_keys(store, run.id)) == 24
        assert [r.run.id for r in list_runs(store=store)] == [run.id]
        assert [r.case_id for r in show_run(run.id, failed_only=True, store=store).results][:2] == [
            "0",
            "0",
        ]
        assert compare_runs(run.id, run.id, store=store).n == 12
