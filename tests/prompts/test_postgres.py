"""PostgreSQL: every store-backed prompts test runs there too (the ``store`` fixture is
parametrized); this one checks a handle given explicitly, not the default one."""

from __future__ import annotations

import pytest

from llmlab.prompts import (
    Experiments,
    PromptRegistry,
    PromptVersion,
    experiment_report,
    version_metrics,
)
from llmlab.store import Store

pytestmark = pytest.mark.postgres


def test_explicit_handle_on_postgres(pg_url: str) -> None:
    with Store(pg_url) as store:
        assert store.dialect == "postgresql"
        registry = PromptRegistry(store)
        registry.register("greet", PromptVersion("Hi {{ name }}"), set_active=True)
        registry.register("greet", PromptVersion("Hello {{ name }}"))
        assert registry.register("greet", PromptVersion("Hi {{ name }}")).version == 1
        registry.promote("greet", 2)
        assert registry.rollback("greet", "production").to_version == 1
        Experiments(store).create("t", "greet", {"control": 1, "new": 2}, salt="s")
        report = experiment_report("t", store=store)
        assert [a.arm for a in report.arms] == ["control", "new"]
        assert version_metrics("greet", store=store) == {}
    with Store(pg_url) as again:
        assert PromptRegistry(again).get("greet").version == 1
