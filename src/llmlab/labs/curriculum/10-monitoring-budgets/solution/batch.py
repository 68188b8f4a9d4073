"""The nightly batch job: a one-line summary of every open ticket for the morning report,
under a hard cap of $0.02 a night."""

from decimal import Decimal

from llmlab import BudgetExceeded
from llmlab.models import Model, Request, generate_sync
from llmlab.monitor import set_budget

CAP_USD = Decimal("0.02")
JOB = "nightly-summaries"


def run_batch(tickets: list[str], model: Model) -> int:
    """Summarise tickets until the cap refuses a call; returns how many were summarised."""
    # A hard budget in the store, not a counter in this process: every call reserves its
    # worst case before it runs, so the cap holds even with other copies of the job running.
    set_budget(JOB, CAP_USD, scope="tag", value=f"job={JOB}", period="day", hard=True)
    done = 0
    for ticket in tickets:
        request = Request.of(
            f"Summarise this support ticket in one line for the morning report:\n\n{ticket}",
            max_tokens=100,
            tags={"job": JOB},
        )
        try:
            generate_sync(request, model)
        except BudgetExceeded as exc:
            print(f"stopped by the budget: {exc}")
            break
        done += 1
    print(f"summarised {done}/{len(tickets)} tickets")
    return done
