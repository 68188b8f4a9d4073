"""Pieces of the wire server without HTTP: fault plans, reply rules, schemas; the fixtures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from llmlab._errors import ConfigError
from llmlab.testing import FaultPlan, ServerConfig, WireServer, parse_fault_spec
from llmlab.testing._replies import ReplyScript, plan_turn, sample_from_schema, truncate_words
from llmlab.testing._state import WireState


def test_fault_count_and_api_filter() -> None:
    plan = FaultPlan()
    plan.add("503", count=2, api="anthropic")
    plan.add("drop")
    first = plan.pick("openai")  # the anthropic-only rule is skipped
    assert first is not None and first.kind == "drop"
    assert [rule["kind"] for rule in plan.active] == ["503"]  # drop used up
    assert plan.pick("openai") is None
    kinds = [f.kind if f else None for f in (plan.pick("anthropic") for _ in range(3))]
    assert kinds == ["503", "503", None]
    assert plan.active == []


def test_fault_probability_is_seeded_and_unlimited() -> None:
    def run(seed: int) -> list[bool]:
        plan = FaultPlan(seed=seed)
        plan.add("429", probability=0.3)
        return [plan.pick("openai") is not None for _ in range(200)]

    hits = run(7)
    assert hits == run(7)
    assert 30 < sum(hits) < 90


def test_fault_spec_parsing() -> None:
    fault, options = parse_fault_spec("429:count=3,retry_after=1.5,api=openai")
    assert (fault.kind, fault.retry_after, fault.status) == ("429", 1.5, 429)
    assert options == {"count": 3, "api": "openai"}
    fault, options = parse_fault_spec("drop:after_chunks=2,p=0.5")
    assert (fault.after_chunks, fault.status, options) == (2, None, {"probability": 0.5})
    assert parse_fault_spec("529")[0].status == 529
    for bad in ("teapot", "200", "429:retry_after=soon", "429:colour=red", "429:count"):
        with pytest.raises(ConfigError):
            parse_fault_spec(bad)
    with pytest.raises(ConfigError, match="probability"):
        FaultPlan().add("500", probability=2)


def test_reply_rules() -> None:
    script = ReplyScript()
    turn = plan_turn(model="m", texts=["sys words", "a b c"], prompt="a b c", script=script)
    assert (turn.reply, turn.input_tokens, turn.output_tokens) == ("echo: a b c", 5, 4)
    script.set({"known": "mapped"})
    assert script.reply_for("unknown") is None
    assert script.reply_for("known") == "mapped"
    script.enqueue("q1")
    assert script.reply_for("known") == "q1"
    script.clear()
    assert script.reply_for("known") is None


def test_truncate_words_keeps_spacing() -> None:
    assert truncate_words("a  b\nc d", 3) == "a  b\nc"
    assert truncate_words("a b", 5) == "a b"
    assert truncate_words("a b", 0) == ""


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"x": {"type": ["integer", "null"], "minimum": 4}}},
        {"type": "array", "items": {"type": "boolean"}, "minItems": 3},
        {"type": "string", "maxLength": 4},
        {"type": "number", "exclusiveMinimum": 1},
        {"const": "fixed"},
        {"oneOf": [{"type": "null"}, {"type": "string"}]},
        {"type": "object", "properties": {"s": {"type": "string", "minLength": 40}}},
    ],
)
def test_schema_samples_validate(schema: dict[str, Any]) -> None:
    jsonschema.validate(sample_from_schema(schema, "echo: hi"), schema)


def test_recursive_schema_terminates() -> None:
    schema = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
                },
                "required": ["name", "next"],
            }
        },
        "$ref": "#/$defs/Node",
    }
    jsonschema.validate(sample_from_schema(schema, "t"), schema)


def test_jitter_stays_within_bounds() -> None:
    state = WireState(ServerConfig(latency_ms=100, jitter_ms=20), seed=1)
    delays = [state.delay_s() for _ in range(100)]
    assert all(0.1 <= d <= 0.12 for d in delays)
    assert len(set(delays)) > 50
    assert state.delay_s(override_ms=0) <= 0.02


def test_product_code_does_not_import_testing() -> None:
    # The one exception (docs/architecture.md): a lab's grader may start the wire server
    # as an offline stand-in for a hosted provider, importing it inside the check.
    package = Path(__file__).resolve().parents[2] / "src" / "llmlab"
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "testing" not in path.relative_to(package).parts
        and path.parent.name != "labs"
        and "llmlab.testing" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
    labs = [p for p in (package / "labs").glob("*.py") if "llmlab.testing" in p.read_text()]
    for path in labs:  # only imported inside functions: `import llmlab.labs` loads no server
        assert "\nfrom llmlab.testing" not in path.read_text(encoding="utf-8"), path.name
        assert "\nimport llmlab.testing" not in path.read_text(encoding="utf-8"), path.name


def test_wire_server_fixture_starts_fresh(wire_server: WireServer) -> None:
    assert wire_server.count() == 0
    assert wire_server.faults.active == []
    assert wire_server.config.latency_ms == 0
    assert wire_server.openai_base_url == wire_server.url + "/v1"
    wire_server.config.latency_ms = 500  # undone by the next test's reset
    wire_server.faults.add("hang")


def test_reset_restores_defaults() -> None:
    with WireServer(latency_ms=5, max_recorded=2) as srv:
        srv.config.latency_ms = 50
        srv.faults.add("500")
        srv.replies.enqueue("x")
        srv.reset()
        assert srv.config.latency_ms == 5
        assert srv.faults.active == []
        assert srv.replies.reply_for("p") is None


def test_config_is_validated() -> None:
    with pytest.raises(ValueError):
        WireServer(latency_ms=-1)
    with pytest.raises(ValueError):
        WireServer(no_such_option=1)


def test_llmlab_db_points_at_a_fresh_file(llmlab_db: str) -> None:
    assert os.environ["LLMLAB_DB"] == llmlab_db
    assert llmlab_db.startswith("sqlite:///") and llmlab_db.endswith("llmlab.db")


async def test_async_context_manager_and_restart() -> None:
    srv = WireServer()
    async with srv:
        first = srv.port
        assert first != 0
    assert srv.count() == 0
    with srv:  # a stopped server can be started again (on the same port when free)
        assert srv.url.endswith(f":{srv.port}")


def test_junk_request_fields_get_an_answer_not_a_crash() -> None:
    from llmlab.testing._anthropic_wire import anthropic_turn
    from llmlab.testing._openai_wire import openai_turn

    script = ReplyScript()
    junk = {"model": "m", "messages": 5, "stop": 7, "response_format": "json"}
    assert openai_turn(junk, script).reply == "echo: "
    good = [{"role": "user", "content": "a b"}]
    assert openai_turn({"model": "m", "messages": good, "stop": 7}, script).reply == "echo: a b"
    body = {"model": "m", "messages": good, "stop_sequences": "x", "output_format": {}}
    assert anthropic_turn(body, script).reply == "echo: a b"
    assert anthropic_turn({"model": "m", "messages": {"role": "user"}}, script).reply == "echo: "


def test_fault_spec_api_is_checked_where_it_is_read() -> None:
    with pytest.raises(ConfigError, match="fault api must be 'openai' or 'anthropic'"):
        parse_fault_spec("429:api=azure")
