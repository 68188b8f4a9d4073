"""Item 10: starting the same suite twice in the same second never collides on the run id."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from llmlab.store import Store, create_eval_run, get_eval_run


def _create(store: Store, run_id: str, started_at: datetime) -> str:
    return create_eval_run(
        store,
        id=run_id,
        name="suite",
        fingerprint="f" * 16,
        model="scripted/x",
        n_cases=1,
        epochs=1,
        threshold=0.5,
        suite={"name": "suite"},
        options={},
        started_at=started_at,
    ).id


def test_same_id_twice_gets_a_suffix(store: Store) -> None:
    now = datetime.now(UTC)
    first = _create(store, "suite-20260101-000000-ffffff", now)
    second = _create(store, "suite-20260101-000000-ffffff", now)
    assert first == "suite-20260101-000000-ffffff"
    assert second == "suite-20260101-000000-ffffff-2"
    assert get_eval_run(store, second) is not None


def test_concurrent_starts_all_get_their_own_run(store: Store) -> None:
    # Eight starters that checked "is this id free?" at the same moment, as two
    # `llmlab eval run` processes started in the same second do.
    now = datetime.now(UTC)
    barrier = threading.Barrier(8)
    ids: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            ids.append(_create(store, "race", now))
        except BaseException as exc:  # noqa: BLE001 - the test reports every failure
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(ids) == sorted(["race", *(f"race-{n}" for n in range(2, 9))])
