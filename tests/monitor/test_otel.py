"""OpenTelemetry: GenAI spans and metrics, in memory and over OTLP/HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from llmlab.monitor import _otel, disable_otel, enable_otel, flush, record
from llmlab.store import Store

from ._calls import make_calls
from ._receiver import receiver


def test_calls_become_genai_spans_and_metrics(store: Store) -> None:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    try:
        enable_otel(tracer_provider, meter_provider, store=store)
        calls = make_calls(6, start=datetime.now(UTC) - timedelta(minutes=1), span=timedelta(0))
        calls[0].status = "ok"
        calls[0].resolved_model = "gpt-4o-mini-2024-07-18"
        calls[0].prompt_name, calls[0].prompt_version = "summarize", 3
        calls[0].cache_write_tokens = 5
        for c in calls:
            record(c, store=store)
        flush(store=store)
        finished: dict[Any, Any] = {
            dict(s.attributes or {})["llmlab.call_id"]: s for s in spans.get_finished_spans()
        }
        assert len(finished) == 6
        span = finished[calls[0].id]
        attrs = dict(span.attributes)
        assert span.name == "chat gpt-4o-mini"
        assert attrs["gen_ai.operation.name"] == "chat"
        assert attrs["gen_ai.provider.name"] == "openai"
        assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
        assert attrs["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
        assert attrs["gen_ai.usage.input_tokens"] == calls[0].input_tokens
        assert attrs["gen_ai.usage.output_tokens"] == calls[0].output_tokens
        assert attrs["gen_ai.usage.cache_read.input_tokens"] == 40
        assert attrs["gen_ai.usage.cache_creation.input_tokens"] == 5
        assert attrs["llmlab.cost"] == pytest.approx(float(calls[0].cost or 0))
        assert (attrs["llmlab.prompt.name"], attrs["llmlab.prompt.version"]) == ("summarize", 3)
        assert span.end_time - span.start_time == pytest.approx(calls[0].duration_s * 1e9, rel=1e-6)
        data: Any = reader.get_metrics_data()
        metrics = {
            m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
        }
        usage: Any = metrics["gen_ai.client.token.usage"]
        duration: Any = metrics["gen_ai.client.operation.duration"]
        assert usage.unit == "{token}" and duration.unit == "s"
        assert tuple(duration.data.data_points[0].explicit_bounds) == _otel.DURATION_BUCKETS
        # The GenAI semantic conventions' advisory boundaries, written out (not the constants).
        assert duration.data.data_points[0].explicit_bounds[-3:] == (20.48, 40.96, 81.92)
        assert usage.data.data_points[0].explicit_bounds[:3] == (1.0, 4.0, 16.0)
        assert usage.data.data_points[0].explicit_bounds[-1] == 67108864.0
        assert len(_otel.DURATION_BUCKETS) == len(_otel.TOKEN_BUCKETS) == 14
        assert tuple(usage.data.data_points[0].explicit_bounds) == tuple(
            map(float, _otel.TOKEN_BUCKETS)
        )
        assert sum(p.count for p in duration.data.data_points) == 6
        types = {p.attributes["gen_ai.token.type"] for p in usage.data.data_points}
        assert types == {"input", "output"}
    finally:
        disable_otel(store=store)
        tracer_provider.shutdown()
        meter_provider.shutdown()


def test_otlp_http_export_when_endpoint_is_set(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiver() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
        for c in make_calls(3, start=datetime.now(UTC), span=timedelta(0)):
            record(c, store=store)
        flush(store=store)
        disable_otel(store=store)  # shuts the providers down: flushes spans and metrics
        assert collector.wait_for("/v1/traces", 1)
        assert collector.wait_for("/v1/metrics", 1)


def test_no_export_without_endpoint(store: Store) -> None:
    assert _otel.export_rows([], store=store) == 0
    assert _otel._state(store).current() is None


def test_export_belongs_to_the_store(store: Store, tmp_path: Path) -> None:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    with Store(str(tmp_path / "other.db")) as other:
        enable_otel(tracer_provider, meter_provider, store=other)
        for c in make_calls(2, start=datetime.now(UTC), span=timedelta(0)):
            record(c, store=store)  # not exported: export is on for the other store
        assert flush(store=store)
        assert spans.get_finished_spans() == ()
        record(make_calls(1, start=datetime.now(UTC), span=timedelta(0))[0], store=other)
        assert flush(store=other)
        assert len(spans.get_finished_spans()) == 1
    tracer_provider.shutdown()
    meter_provider.shutdown()
