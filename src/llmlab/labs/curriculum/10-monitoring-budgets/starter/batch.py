"""The nightly batch job: a one-line summary of every open ticket for the morning report.

Finance allows this job at most $0.02 a night (CAP_USD), a hard cap: past it the job must
stop, say how far it got, and exit cleanly, never crash or overspend.

The check calls ``run_batch(tickets, model)`` with more tickets than the cap pays for and
``model`` a priced hosted model (``openai/gpt-4o``, served by a local test server) in a
fresh store; then it runs the job again, on the spent budget.
"""

from decimal import Decimal

from llmlab.models import Model, Request, generate_sync

CAP_USD = Decimal("0.02")
JOB = "nightly-summaries"


def run_batch(tickets: list[str], model: Model) -> int:
    """Summarise each ticket; returns how many were summarised."""
    done = 0
    for ticket in tickets:
        request = Request.of(
            f"Summarise this support ticket in one line for the morning report:\n\n{ticket}",
            max_tokens=100,
            tags={"job": JOB},
        )
        generate_sync(request, model)
        done += 1
    print(f"summarised {done}/{len(tickets)} tickets")
    return done
