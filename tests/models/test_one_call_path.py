"""Only ``get_model`` hands out something callable, and it always goes through the call
path: a bare provider is refused, every call is priced and recorded in the model's store,
and models, scripts and cached answers belong to a store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import llmlab.models
from llmlab import ConfigError, ProviderError
from llmlab.models import (
    Model,
    NotAModelError,
    Provider,
    Request,
    Response,
    ScriptedProvider,
    as_model,
    generate_sync,
    get_model,
    register_provider,
    scripted,
)
from llmlab.models import _registry as registry
from llmlab.monitor import flush
from llmlab.store import Store, cache_get
from llmlab.store._tables_calls import calls as calls_table
from llmlab.testing import WireServer

Keep = Callable[[Any], Any]


def _count_calls(store: Store) -> int:
    assert flush(store)
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(calls_table)).scalar_one())


def test_the_callable_model_is_not_a_provider_and_no_bare_factory_is_exported() -> None:
    assert not issubclass(Model, Provider)
    assert not hasattr(llmlab.models, "create_provider_model")
    assert not hasattr(llmlab.models, "create_provider")
    assert "create_provider" not in llmlab.models.__all__


@pytest.mark.parametrize("bare", [ScriptedProvider("raw"), object(), 42])
def test_generate_sync_refuses_anything_but_a_get_model_model(
    bare: Any, llmlab_store: Store
) -> None:
    with pytest.raises(NotAModelError, match=r"get_model\(\)") as caught:
        generate_sync("hi", bare)
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, TypeError)
    assert _count_calls(llmlab_store) == 0


def test_as_model_resolves_names_and_keeps_models(llmlab_store: Store) -> None:
    model = as_model("scripted/named")
    assert isinstance(model, Model) and model.store is llmlab_store
    assert as_model(model) is model
    with pytest.raises(NotAModelError, match="judge: expected a model"):
        as_model(ScriptedProvider("raw"), what="judge")  # type: ignore[arg-type]


async def test_every_get_model_call_is_priced_and_recorded_in_its_store(
    server: WireServer, close_after: Keep, llmlab_store: Store, tmp_path: Path
) -> None:
    with Store(f"sqlite:///{tmp_path / 'other.db'}") as other:
        here = close_after(get_model("openai/gpt-4o-mini", base_url=server.openai_base_url))
        there = close_after(
            get_model("openai/gpt-4o-mini", store=other, base_url=server.openai_base_url)
        )
        assert here is not there and here.store is llmlab_store and there.store is other
        response = await there.generate(Request.of("priced, please"))
        assert response.cost_status == "priced" and response.cost and response.cost > 0
        assert _count_calls(other) == 1 and _count_calls(llmlab_store) == 0
        await here.generate(Request.of("and here"))
        assert _count_calls(llmlab_store) == 1 and _count_calls(other) == 1


def test_models_are_kept_per_store(llmlab_store: Store, tmp_path: Path) -> None:
    first = get_model("scripted/kept")
    assert get_model("scripted/kept") is first
    assert get_model("scripted/kept", store=llmlab_store) is first
    with Store(f"sqlite:///{tmp_path / 'other.db'}") as other:
        assert get_model("scripted/kept", store=other) is not first


async def test_scripts_belong_to_a_store(llmlab_store: Store, tmp_path: Path) -> None:
    scripted("bot").enqueue("from the default store")
    with Store(f"sqlite:///{tmp_path / 'other.db'}") as other:
        scripted("bot", store=other).enqueue("from the other store")
        assert (await get_model("scripted/bot").generate(Request.of("q"))).text == (
            "from the default store"
        )
        there = get_model("scripted/bot", store=other, max_retries=0)
        assert (await there.generate(Request.of("q"))).text == "from the other store"
        with pytest.raises(ProviderError, match="no reply queued"):
            await there.generate(Request.of("q"))
        assert _count_calls(other) == 2
    assert scripted("bot").pending == 0 and len(scripted("bot").history) == 1


async def test_cached_answers_are_typed_rows_of_the_store(
    server: WireServer, close_after: Keep, llmlab_store: Store
) -> None:
    model = close_after(get_model("openai/gpt-4o-mini", base_url=server.openai_base_url))
    request = Request.of("cache me")
    first = await model.configured(cache=True).generate(request)
    row = cache_get(llmlab_store, model.cache_key(request))
    assert row is not None and (row.provider, row.model) == ("openai", "gpt-4o-mini")
    assert row.response["response"]["text"] == first.text
    assert row.to_dict()["key"] == row.key and row.created_at.tzinfo is not None


def test_a_factory_that_returns_no_provider_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "_registry", registry._Registry())

    def create(model_name: str, /, **options: Any) -> Any:
        return object()

    register_provider("not-a-provider", create)
    with pytest.raises(ConfigError, match="subclass Provider"):
        get_model("not-a-provider/m")


async def test_a_plugin_provider_is_called_only_through_the_call_path(
    monkeypatch: pytest.MonkeyPatch, llmlab_store: Store
) -> None:
    monkeypatch.setattr(registry, "_registry", registry._Registry())
    seen: list[Request] = []

    class Plain(Provider):
        async def generate(self, request: Request) -> Response:
            seen.append(request)
            return Response(text="ok", model=self.name)

    register_provider("plain", lambda name, /, **options: Plain("plain", name))
    response = await get_model("plain/m").generate(Request.of("hi"))
    assert seen and response.call_id and response.cost_status == "unpriced"
    assert response.cost is None  # unknown, never a silent $0
    assert _count_calls(llmlab_store) == 1


@pytest.mark.postgres
async def test_calls_and_cache_on_postgres(
    pg_url: str, server: WireServer, close_after: Keep
) -> None:
    with Store(pg_url) as store:
        scripted("pg", store=store).enqueue("from postgres")
        response = await get_model("scripted/pg", store=store).generate(Request.of("q"))
        assert response.text == "from postgres"
        model = close_after(
            get_model("openai/gpt-4o-mini", store=store, base_url=server.openai_base_url)
        )
        cached = model.configured(cache=True)
        await cached.generate(Request.of("twice"))
        again = await cached.generate(Request.of("twice"))
        assert again.cache_hit and server.count() == 1
        assert cache_get(store, model.cache_key(Request.of("twice"))) is not None
        assert _count_calls(store) == 3


def _answer_in_child(queue: Any) -> None:
    text = generate_sync("from the child", "scripted/forked").text
    flush()  # multiprocessing ends a forked child with os._exit: no exit hooks run
    queue.put(text)


def test_a_forked_worker_keeps_the_scripts_and_records_into_the_store(
    llmlab_store: Store,
) -> None:
    import multiprocessing

    scripted("forked").enqueue("scripted in the parent")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_answer_in_child, args=(queue,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == "scripted in the parent"
    assert _count_calls(llmlab_store) == 1
