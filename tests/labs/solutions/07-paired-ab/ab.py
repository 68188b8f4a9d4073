"""A second correct release script: decisions taken by hand from the paired results."""

from __future__ import annotations

import asyncio
from pathlib import Path

from llmlab.evals import load_suite
from llmlab.prompts import ABComparison, PromptRegistry, PromptVersion, compare_prompt_versions

HERE = Path(__file__).parent
NAME = "ticket-router"
registry = PromptRegistry()


def new_version(file: str) -> int:
    stored = registry.register(NAME, PromptVersion(template=(HERE / file).read_text()))
    return int(stored.version or 0)


def ab(a: int, b: int) -> ABComparison:
    return asyncio.run(compare_prompt_versions(NAME, a, b, load_suite(HERE / "suite.yaml")))


def main() -> None:
    baseline = int(registry.get(NAME).version or 0)  # production
    candidates = [new_version("v2.txt"), new_version("v3.txt")]
    results = {c: ab(baseline, c) for c in candidates}
    winners = [c for c, r in results.items() if r.b_better and not r.b_worse]
    if winners:  # the best significant winner, by its measured pass rate
        best = max(winners, key=lambda c: results[c].comparison.primary.b_mean)
        registry.set_label(NAME, "production", best)
    good = int(registry.get(NAME).version or 0)
    v4 = new_version("v4.txt")
    registry.set_label(NAME, "production", v4)  # shipped last week, untested
    after = ab(good, v4)
    if after.comparison.primary.significant and after.comparison.primary.difference.estimate < 0:
        registry.rollback(NAME, "production")
