"""Second solution: the version registered once per store, linked with call_links."""

from llmlab.models import Model, call_links, generate_sync
from llmlab.prompts import PromptRegistry, PromptVersion

TEMPLATE = (
    "You are a support agent for Acme Cloud. Write a short, friendly reply to this "
    "customer's ticket, and say what happens next.\n\nTicket: {ticket}"
)


def reply_to_ticket(ticket: str, customer: str, model: Model) -> str:
    registry = PromptRegistry(store=model.store)
    version, _ = registry.add("support-reply", PromptVersion(TEMPLATE, config={"max_tokens": 200}))
    request = version.to_request(tags={"feature": "support", "customer": customer}, ticket=ticket)
    with call_links(
        prompt_name=version.name,
        prompt_version=version.version,
        prompt_hash=version.version_hash,
    ):
        return generate_sync(request, model).text
