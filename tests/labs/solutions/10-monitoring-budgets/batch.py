"""Second solution: one event loop for the whole job, a total budget over all calls."""

import asyncio
from decimal import Decimal

import llmlab
from llmlab.models import Model, Request
from llmlab.monitor import set_budget

CAP_USD = Decimal("0.02")
JOB = "nightly-summaries"


async def _summarise(tickets: list[str], model: Model) -> int:
    for done, ticket in enumerate(tickets):
        prompt = f"Summarise this support ticket in one line for the morning report:\n\n{ticket}"
        try:
            await model.generate(Request.of(prompt, max_tokens=100, tags={"job": JOB}))
        except llmlab.BudgetExceeded:
            print(f"budget reached after {done} of {len(tickets)} tickets; stopping")
            return done
    print(f"all {len(tickets)} tickets summarised")
    return len(tickets)


def run_batch(tickets: list[str], model: Model) -> int:
    set_budget("nightly-cap", CAP_USD, scope="all", period="total", store=model.store)
    try:
        return asyncio.run(_summarise(tickets, model))
    finally:
        asyncio.run(model.aclose())
