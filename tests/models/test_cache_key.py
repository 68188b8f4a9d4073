"""Issue 9 item 11: the response cache key holds everything that decides the answer.

A suite run against one server and then pointed at another (``OPENAI_BASE_URL`` or
``--model-option base_url=``) must ask the other server, not replay the first one's
answers from the cache.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmlab.cli import main
from llmlab.models import Request, cache_key, get_model
from llmlab.store import Store
from llmlab.testing import WireServer

SUITE = """\
name: moved
prompt: "{{ input }}"
dataset: samples.jsonl
scorers:
  - includes: "{{ target }}"
"""


@pytest.fixture
def rejecting() -> Iterator[WireServer]:
    """A second server that refuses every call (401: not retried)."""
    with WireServer() as server:
        server.faults.add("401", 1000)
        yield server


def _suite(folder: Path, n: int = 5) -> Path:
    with (folder / "samples.jsonl").open("w") as handle:
        for i in range(n):
            handle.write(json.dumps({"id": str(i), "input": f"say w{i}", "target": f"w{i}"}) + "\n")
    path = folder / "suite.yaml"
    path.write_text(SUITE)
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    with pytest.raises(SystemExit) as info:
        main(["eval", "run", *args, "--model", "openai/gpt-4o-mini", "--json"])
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), json.loads(out or "{}") if out else {"err": err}


def test_another_base_url_in_the_environment_is_not_answered_from_cache(
    wire_server: WireServer,
    rejecting: WireServer,
    llmlab_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    suite = str(_suite(tmp_path))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-cache")
    monkeypatch.setenv("OPENAI_BASE_URL", wire_server.openai_base_url)
    code, first = _run(capsys, suite)
    assert code == 0 and first["pass_rate"] == 1.0 and wire_server.count() == 5

    monkeypatch.setenv("OPENAI_BASE_URL", rejecting.openai_base_url)
    code, moved = _run(capsys, suite)
    assert rejecting.count() == 5  # every case asked the new server
    assert code == 1 and moved["pass_rate"] == 0.0

    monkeypatch.setenv("OPENAI_BASE_URL", wire_server.openai_base_url)
    code, back = _run(capsys, suite)
    assert code == 0 and wire_server.count() == 5  # the first server's answers are cached


def test_another_base_url_option_is_not_answered_from_cache(
    wire_server: WireServer,
    rejecting: WireServer,
    llmlab_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    suite = str(_suite(tmp_path))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-cache")
    code, _ = _run(capsys, suite, "--model-option", f"base_url={wire_server.openai_base_url}")
    assert code == 0 and wire_server.count() == 5
    code, moved = _run(capsys, suite, "--model-option", f"base_url={rejecting.openai_base_url}")
    assert code == 1 and rejecting.count() == 5 and moved["pass_rate"] == 0.0


def test_key_holds_endpoint_options_and_trial_not_secrets(llmlab_store: Store) -> None:
    request = Request.of("hi")
    models = {
        name: get_model("openai/gpt-4o-mini", **options)
        for name, options in {
            "a": {"base_url": "http://127.0.0.1:1/v1", "api_key": "sk-one"},
            "a, other key": {"base_url": "http://127.0.0.1:1/v1", "api_key": "sk-two"},
            "b": {"base_url": "http://127.0.0.1:2/v1", "api_key": "sk-one"},
            "a, org": {
                "base_url": "http://127.0.0.1:1/v1",
                "api_key": "sk-one",
                "organization": "o",
            },
        }.items()
    }
    keys = {name: model.cache_key(request) for name, model in models.items()}
    assert keys["a"] == keys["a, other key"]  # a secret does not change the answer
    assert len({keys["a"], keys["b"], keys["a, org"]}) == 3
    assert models["a"].cache_key(request, 1) != models["a"].cache_key(request, 2)
    assert keys["a"] != cache_key("openai/gpt-4o-mini", request)
    assert "sk-one" not in json.dumps(keys)


class _Stop(Exception):
    pass


async def test_an_unfinished_run_is_not_resumed_against_another_server(
    wire_server: WireServer,
    rejecting: WireServer,
    llmlab_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from llmlab.evals import load_suite, run_eval

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-cache")
    suite_path = _suite(tmp_path, 10)

    def stop_after_three(state: object) -> None:
        if getattr(state, "done", 0) >= 3:
            raise _Stop

    first_server = {"base_url": wire_server.openai_base_url}
    with pytest.raises(ExceptionGroup):  # the worker's error, through its TaskGroup
        await run_eval(
            load_suite(suite_path),
            model="openai/gpt-4o-mini",
            model_options=first_server,
            concurrency=1,
            progress=stop_after_three,
        )
    other = await run_eval(
        load_suite(suite_path),
        model="openai/gpt-4o-mini",
        model_options={"base_url": rejecting.openai_base_url},
    )
    assert not other.resumed and rejecting.count() == 10  # all of it asked the other server
    again = await run_eval(
        load_suite(suite_path), model="openai/gpt-4o-mini", model_options=first_server
    )
    assert again.resumed and again.reused_results >= 3 and again.pass_rate == 1.0
