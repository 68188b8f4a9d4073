"""The support app: drafts a reply to a customer's ticket.

In production this runs thousands of times a day and nobody can say which prompt version
costs what, or which customer the calls were for. Make every call land in the monitor
with the prompt version that made it and its tags (see the brief).

The check calls ``reply_to_ticket(ticket, customer, model)`` with ``model`` a priced
hosted model (``openai/gpt-4o``, served by a local test server) in a fresh store.
"""

from llmlab.models import Model, Request, generate_sync

TEMPLATE = (
    "You are a support agent for Acme Cloud. Write a short, friendly reply to this "
    "customer's ticket, and say what happens next.\n\nTicket: {ticket}"
)


def reply_to_ticket(ticket: str, customer: str, model: Model) -> str:
    """The model's reply to ``ticket`` from ``customer`` (an id such as ``cus_3f9a1c``)."""
    request = Request.of(TEMPLATE.format(ticket=ticket), max_tokens=200)
    return generate_sync(request, model).text
