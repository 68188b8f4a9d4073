"""The support app: drafts a reply to a customer's ticket, every call recorded with the
prompt version that made it and who it was for."""

from llmlab.models import Model
from llmlab.prompts import PromptRegistry, PromptVersion, call_prompt_sync

TEMPLATE = (
    "You are a support agent for Acme Cloud. Write a short, friendly reply to this "
    "customer's ticket, and say what happens next.\n\nTicket: {{ ticket }}"
)


def reply_to_ticket(ticket: str, customer: str, model: Model) -> str:
    """The model's reply to ``ticket`` from ``customer`` (an id such as ``cus_3f9a1c``)."""
    # Registering the same text again returns the same version: no new version per call.
    version = PromptRegistry().register(
        "support-reply", PromptVersion(TEMPLATE, config={"max_tokens": 200})
    )
    response = call_prompt_sync(
        version,
        {"ticket": ticket},
        model=model,
        tags={"feature": "support", "customer": customer},
    )
    return response.text
