"""A week of the support app's traffic, with one slow and costly prompt version (lab 10).

``make_week(store, seed)`` records about 750 priced calls over the last six and a half
days: six prompt versions and some calls made with no prompt at all. The roles are dealt
to the versions at random, so each seed hides the slow and costly version elsewhere:

- *slow and costly*: a verbose version (long examples, long answers): the highest p95
  latency and the highest cost per call of every version;
- *busiest*: the most calls, cheap ones: the highest total cost (the first row of
  ``llmlab monitor stats``, which sorts by total cost);
- *spiky*: fast, but three calls hit a 60–90 s timeout: the highest mean, p99 and max
  latency, while its p95 stays low;
- *normal* (three of them);
- and calls with no prompt version (a nightly report): the highest cost per call of all,
  under the key ``(none)``, which is not a prompt version.

Every figure depends on the seed only. Returns ``{group key: role}``.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from llmlab.monitor import CallRecord, flush, new_call_id, record
from llmlab.pricing import price_tokens
from llmlab.store import Store

VERSIONS = (
    ("support-reply", 1),
    ("support-reply", 2),
    ("support-reply", 3),
    ("support-reply", 4),
    ("classify-ticket", 1),
    ("classify-ticket", 2),
)
ROLES = ("slow and costly", "busiest", "spiky", "normal", "normal", "normal")
NO_PROMPT = "(none)"
_WEEK_S = 6.5 * 86400

# role: (calls low, calls high, input tokens, output tokens, median latency s, sigma)
_PLANS: dict[str, tuple[int, int, tuple[int, int], tuple[int, int], float, float]] = {
    "slow and costly": (30, 45, (1500, 2200), (350, 500), 2.4, 0.25),
    "busiest": (400, 480, (300, 400), (80, 120), 0.7, 0.3),
    "spiky": (62, 70, (250, 400), (60, 120), 0.7, 0.3),
    "normal": (40, 60, (250, 400), (60, 120), 0.7, 0.3),
    NO_PROMPT: (20, 30, (3000, 4000), (600, 800), 1.2, 0.2),
}


def _calls(
    store: Store, rng: random.Random, now: datetime, role: str, prompt: tuple[str, int] | None
) -> None:
    low, high, inputs, outputs, median, sigma = _PLANS[role]
    model = "gpt-4o" if role != "normal" else rng.choice(("gpt-4o", "gpt-4o-mini"))
    feature = "triage" if prompt is not None and prompt[0] == "classify-ticket" else "support"
    count = rng.randint(low, high)
    latencies = [rng.lognormvariate(0, sigma) * median for _ in range(count)]
    if role == "spiky":  # under 5% of its calls: the p95 does not see them, the mean does
        for i in rng.sample(range(count), 3):
            latencies[i] = rng.uniform(60.0, 90.0)
    for latency in latencies:
        tokens_in, tokens_out = rng.randint(*inputs), rng.randint(*outputs)
        quote = price_tokens("openai", model, input_tokens=tokens_in, output_tokens=tokens_out)
        record(
            CallRecord(
                id=new_call_id(),
                started_at=now - timedelta(seconds=rng.uniform(60.0, _WEEK_S)),
                provider="openai",
                requested_model=model,
                resolved_model=model,
                duration_s=latency,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                cost=quote.cost,
                currency=quote.currency,
                cost_status=quote.status,
                price_source=quote.source,
                finish_reason="stop",
                tags={"feature": feature},
                prompt_name=prompt[0] if prompt else None,
                prompt_version=prompt[1] if prompt else None,
            ),
            store=store,
        )


def make_week(store: Store, seed: int) -> dict[str, str]:
    """Record a week of traffic in ``store``; ``{group key: role}`` (``name@version``)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    roles = list(ROLES)
    rng.shuffle(roles)
    truth: dict[str, str] = {}
    for (name, version), role in zip(VERSIONS, roles, strict=True):
        _calls(store, rng, now, role, (name, version))
        truth[f"{name}@{version}"] = role
    _calls(store, rng, now, NO_PROMPT, None)
    truth[NO_PROMPT] = "no prompt version"
    flush(store=store)
    return truth
