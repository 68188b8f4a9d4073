"""Insert-or-update and insert-or-ignore (store/_upsert.py) through the store functions
that use them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from llmlab.store import (
    Store,
    arm_exposure_counts,
    cache_get,
    cache_put,
    get_lab_progress,
    list_alert_rules,
    mark_lab_started,
    record_exposure,
    upsert_alert_rule,
)
from llmlab.store._monitor_alerts import AlertRuleRow

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_a_second_write_updates_only_what_it_should(store: Store) -> None:
    mark_lab_started(store, "ws", "lab-1", "/a", T0)
    mark_lab_started(store, "ws", "lab-1", "/b", T0 + timedelta(days=1))
    progress = get_lab_progress(store, "ws", "lab-1")
    assert progress is not None
    assert (progress.lab_dir, progress.started_at) == ("/b", T0)  # started once, moved

    for n, arm in enumerate(("a", "a", "b")):
        record_exposure(store, "exp", "unit-1", arm, T0 + timedelta(minutes=n))
    counts = arm_exposure_counts(store, "exp")
    assert set(counts) == {"b"} and (counts["b"].units, counts["b"].exposures) == (1, 3)

    rule = AlertRuleRow("slow", "p95_latency", 300, 2.0, 5, False, T0)
    upsert_alert_rule(store, rule)
    upsert_alert_rule(store, AlertRuleRow("slow", "error_rate", 60, 0.1, 1, False, T0))
    (stored,) = list_alert_rules(store)
    assert (stored.metric, stored.window_s, stored.limit_value) == ("error_rate", 60, 0.1)


def test_the_first_cached_answer_stays(store: Store) -> None:
    cache_put(store, "k" * 64, "openai", "gpt-4o", {"text": "first"})
    cache_put(store, "k" * 64, "openai", "gpt-4o", {"text": "second"})  # no error
    found = cache_get(store, "k" * 64)
    assert found is not None and found.response == {"text": "first"}
