"""How much of a hard budget concurrent calls can use, through the real call path.

N calls start at once (official OpenAI SDK over HTTP to the local wire server, 200 ms
latency) against a hard budget of K worst cases; prints the share of the budget spent,
the calls answered and refused, the wall time, and checks the limit held. Run once with
the bounded wait for other calls' reservations (default) and once without it
(``--wait 0``, what llmlab did before).

Usage (from the repository root)::

    .venv/bin/python bench/bench_budget_concurrency.py [--calls 50] [--fits 12] [--wait 5]
        [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENAI_API_KEY", "sk-bench-0000000000000000")

from llmlab import BudgetExceeded  # noqa: E402
from llmlab.models import Request, get_model  # noqa: E402
from llmlab.monitor import budget_status, set_budget  # noqa: E402
from llmlab.store import Store  # noqa: E402
from llmlab.testing import WireServer  # noqa: E402


async def run(calls: int, fits: int, wait: float, url: str) -> None:
    os.environ["LLMLAB_BUDGET_WAIT_S"] = str(wait)
    with WireServer() as server, Store(url) as store:
        server.config.latency_ms = 200
        model = get_model("openai/gpt-4o-mini", base_url=server.openai_base_url, store=store)
        request = Request.of("hello there", max_tokens=4)
        worst = model._worst_case(request)
        assert worst is not None
        limit = worst * fits
        set_budget("bench", limit, period="total", store=store)

        async def one() -> bool:
            try:
                await model.generate(request)
            except BudgetExceeded:
                return False
            return True

        started = time.perf_counter()
        outcomes = await asyncio.gather(*(one() for _ in range(calls)))
        wall = time.perf_counter() - started
        await model.aclose()
        (status,) = budget_status(store=store)
        assert status.spent <= limit, "limit passed"
        print(
            f"wait {wait:g} s: {calls} calls, budget of {fits} worst cases: "
            f"{status.spent / limit:.1%} used, {outcomes.count(True)} answered, "
            f"{outcomes.count(False)} refused, {wall:.2f} s, limit held"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--fits", type=int, default=12)
    parser.add_argument("--wait", type=float, default=5.0)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(run(args.calls, args.fits, args.wait, url))


if __name__ == "__main__":
    main()
