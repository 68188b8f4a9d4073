"""Lab 7: prompt versions in the registry, a paired A/B, a promotion, a rollback.

`llmlab labs check` runs `main()` against a fresh store in which prompt
`ticket-router` has one version, v1.txt, carrying the `production` label. The check
then reads what your script left in the registry: the versions, where `production`
points, and its history (promotions and rollbacks).

Today's script is what a hurried team does: register the candidates and promote the
newest, without measuring anything. Make it a real release process (see the brief).
"""

from __future__ import annotations

from pathlib import Path

from llmlab.prompts import PromptRegistry, PromptVersion

HERE = Path(__file__).parent
NAME = "ticket-router"


def main() -> None:
    registry = PromptRegistry()
    newest = None
    for file in ("v2.txt", "v3.txt"):
        newest, _ = registry.add(NAME, PromptVersion(template=(HERE / file).read_text()))
    assert newest is not None
    registry.promote(NAME, newest.version or 0)
