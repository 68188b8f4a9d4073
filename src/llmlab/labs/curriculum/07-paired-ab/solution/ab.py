"""Lab 7 (reference): register, compare paired, promote only on a significant win,
ship v4, find its regression, roll back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from llmlab.evals import load_suite
from llmlab.prompts import PromptRegistry, PromptVersion, compare_prompt_versions

HERE = Path(__file__).parent
NAME = "ticket-router"


def register(registry: PromptRegistry, file: str) -> int:
    version, _ = registry.add(NAME, PromptVersion(template=(HERE / file).read_text()))
    return version.version or 0


def main() -> None:
    registry = PromptRegistry()
    suite = load_suite(HERE / "suite.yaml")
    current = registry.get(f"{NAME}@production").version or 0
    # Each candidate against the version in production when it arrived, on the same
    # cases; `promote` moves the label only on a significant paired win.
    for file in ("v2.txt", "v3.txt"):
        candidate = register(registry, file)
        result = asyncio.run(
            compare_prompt_versions(NAME, current, candidate, suite, promote="production")
        )
        print(f"{file}: {result.verdict}; {result.gate}")
    # v4, an edit of v2, was shipped straight to production; measure it against v2.
    shipped = register(registry, "v4.txt")
    before = registry.get(f"{NAME}@production").version or 0
    registry.promote(NAME, shipped)
    check = asyncio.run(compare_prompt_versions(NAME, before, shipped, suite))
    if check.comparison.regression:
        move = registry.rollback(NAME, "production")
        print(f"v4 regressed ({check.verdict}): production back to v{move.to_version}")
