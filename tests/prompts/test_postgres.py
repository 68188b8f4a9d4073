"""The registry, labels, experiments and reports on PostgreSQL (the server .ci/run starts)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmlab.models import scripted
from llmlab.prompts import (
    Experiments,
    PromptRegistry,
    PromptVersion,
    call_experiment,
    clear_prompt_cache,
    experiment_report,
    record_feedback,
    version_metrics,
)
from llmlab.store import close_engines

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("LLMLAB_DB", pg_url)
    clear_prompt_cache()
    yield pg_url
    clear_prompt_cache()
    close_engines()


async def test_registry_and_experiment_on_postgres(pg_store: str) -> None:
    registry = PromptRegistry()
    registry.register("greet", PromptVersion("Hi {{ name }}"), set_active=True)
    registry.register("greet", PromptVersion("Hello {{ name }}"))
    assert registry.register("greet", PromptVersion("Hi {{ name }}")).version == 1
    registry.promote("greet", 2)
    assert registry.rollback("greet", "production").to_version == 1
    registry.archive("greet", 2, archived=True)
    assert [v.version for v in registry.versions("greet")] == [1]
    registry.archive("greet", 2, archived=False)

    scripted("pg-exp", function=lambda r: "hello" if "Hello" in r.messages[-1].content else "hi")
    Experiments().create("t", "greet", {"control": 1, "new": 2}, salt="s")
    for i in range(20):
        response = await call_experiment("t", f"u{i}", {"name": "x"}, model="scripted/pg-exp")
        assert response.call_id is not None
        record_feedback(response.call_id, 1.0 if response.text == "hello" else 0.0)
    report = experiment_report("t")
    assert sum(a.metrics.calls for a in report.arms) == 20
    assert sum(a.units for a in report.arms) == 20
    assert {a.arm: a.quality.mean for a in report.arms if a.quality.n} == pytest.approx(
        {a.arm: 1.0 if a.arm == "new" else 0.0 for a in report.arms if a.quality.n}
    )
    metrics = version_metrics(registry.engine, "greet")
    assert sum(m[0].calls for m in metrics.values()) == 20
