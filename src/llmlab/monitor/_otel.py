"""OpenTelemetry export of recorded calls (optional extra ``llmlab[otel]``).

Each recorded call becomes a span following the GenAI semantic conventions
(``gen_ai.operation.name``, ``gen_ai.provider.name``, ``gen_ai.request.model``,
``gen_ai.response.model``, ``gen_ai.usage.*``) plus ``llmlab.*`` attributes (cost, prompt
version, experiment arm, eval run), and feeds the ``gen_ai.client.token.usage`` and
``gen_ai.client.operation.duration`` histograms with the conventions' bucket boundaries.

Export starts by itself when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (OTLP over HTTP, the
SDK's standard environment variables apply), or explicitly with :func:`enable_otel`.
Spans are made from the recorder's batches on its writer thread, after the call ended:
they carry the call's real start and end times but are not children of the caller's span.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from llmlab._errors import ConfigError
from llmlab.monitor._recorder import add_batch_listener
from llmlab.store import Store, resolve_store

if TYPE_CHECKING:
    from opentelemetry.metrics import Histogram, MeterProvider
    from opentelemetry.trace import Tracer, TracerProvider

__all__ = [
    "DURATION_BUCKETS",
    "TOKEN_BUCKETS",
    "disable_otel",
    "enable_otel",
    "export_rows",
]

# From the OpenTelemetry GenAI semantic conventions (metrics).
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                 16777216, 67108864)  # fmt: skip
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                    40.96, 81.92)  # fmt: skip
ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
_SCOPE = "llmlab"


class _Exporter:
    def __init__(self, tracer_provider: TracerProvider, meter_provider: MeterProvider) -> None:
        from llmlab import __version__

        self.tracer: Tracer = tracer_provider.get_tracer(_SCOPE, __version__)
        meter = meter_provider.get_meter(_SCOPE, __version__)
        self.tokens: Histogram = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=list(map(float, TOKEN_BUCKETS)),
        )
        self.duration: Histogram = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        )
        self.owned: list[Any] = []


class OtelState:
    """The exporter of one store (a component of the handle); shut down with it."""

    def __init__(self, _store: Store) -> None:
        self.lock = threading.Lock()
        self.exporter: _Exporter | None = None
        self.decided = False  # the environment was looked at, or enable/disable called

    def set(self, exporter: _Exporter | None) -> None:
        """Export through ``exporter`` from now on (None: stop); the old one is shut down."""
        with self.lock:
            old, self.exporter, self.decided = self.exporter, exporter, True
        _shutdown(old)

    def current(self) -> _Exporter | None:
        """The exporter, made from ``OTEL_EXPORTER_OTLP_ENDPOINT`` on first use if set."""
        if self.decided:
            return self.exporter
        with self.lock:
            if not self.decided:
                self.decided = True
                if os.environ.get(ENDPOINT_ENV):
                    try:
                        tp, mp, owned = _otlp_providers(None, None)
                    except ImportError:
                        return None
                    self.exporter = _Exporter(tp, mp)
                    self.exporter.owned = owned
            return self.exporter

    def close(self) -> None:
        """Flush and shut down the providers llmlab made."""
        self.set(None)


def _state(store: Store | None) -> OtelState:
    return resolve_store(store).component(OtelState, OtelState)


def enable_otel(
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    *,
    store: Store | None = None,
) -> None:
    """Export the calls recorded into ``store`` (default: the default handle) through these
    providers (default: new SDK providers with OTLP/HTTP exporters, configured by the
    standard ``OTEL_*`` environment variables).

    Raises:
        ConfigError: the ``otel`` extra is not installed.
    """
    try:
        if tracer_provider is None or meter_provider is None:
            tracer_provider, meter_provider, owned = _otlp_providers(
                tracer_provider, meter_provider
            )
        else:
            owned = []
    except ImportError as exc:
        raise ConfigError(
            f"OpenTelemetry export needs the otel extra: pip install 'llmlab[otel]' ({exc})"
        ) from exc
    exporter = _Exporter(tracer_provider, meter_provider)
    exporter.owned = owned
    _state(store).set(exporter)


def disable_otel(*, store: Store | None = None) -> None:
    """Stop exporting (flushing and shutting down providers llmlab created)."""
    _state(store).set(None)


def _shutdown(exporter: _Exporter | None) -> None:
    if exporter is None:
        return
    for provider in exporter.owned:
        provider.shutdown()


def _otlp_providers(
    tracer_provider: TracerProvider | None, meter_provider: MeterProvider | None
) -> tuple[TracerProvider, MeterProvider, list[Any]]:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "llmlab")})
    owned: list[Any] = []
    if tracer_provider is None:
        sdk_tracer = SdkTracerProvider(resource=resource)
        sdk_tracer.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        tracer_provider = sdk_tracer
        owned.append(sdk_tracer)
    if meter_provider is None:
        reader = PeriodicExportingMetricReader(OTLPMetricExporter())
        sdk_meter = SdkMeterProvider(resource=resource, metric_readers=[reader])
        meter_provider = sdk_meter
        owned.append(sdk_meter)
    return tracer_provider, meter_provider, owned


def _ns(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1e9)


# What an OpenTelemetry attribute may hold (``opentelemetry.util.types.AttributeValue``,
# without importing the optional SDK here).
_Attribute = str | bool | int | float | Sequence[str]


def _attributes(row: Mapping[str, Any]) -> dict[str, _Attribute]:
    attrs: dict[str, _Attribute] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": row["provider"],
        "gen_ai.request.model": row["requested_model"],
        "gen_ai.usage.input_tokens": int(row.get("input_tokens") or 0),
        "gen_ai.usage.output_tokens": int(row.get("output_tokens") or 0),
        "gen_ai.usage.cache_read.input_tokens": int(row.get("cache_read_tokens") or 0),
        "gen_ai.usage.cache_creation.input_tokens": int(row.get("cache_write_tokens") or 0),
        "llmlab.call_id": row["id"],
        "llmlab.cost_status": row.get("cost_status") or "unpriced",
        "llmlab.status": row.get("status") or "ok",
    }
    optional = {
        "gen_ai.response.model": row.get("resolved_model"),
        "gen_ai.usage.reasoning.output_tokens": row.get("reasoning_tokens") or None,
        "llmlab.cost": float(row["cost"]) if row.get("cost") is not None else None,
        "llmlab.currency": row.get("currency") if row.get("cost") is not None else None,
        "llmlab.ttft_s": row.get("ttft_s"),
        "llmlab.prompt.name": row.get("prompt_name"),
        "llmlab.prompt.version": row.get("prompt_version"),
        "llmlab.prompt.hash": row.get("prompt_hash"),
        "llmlab.experiment": row.get("experiment"),
        "llmlab.arm": row.get("arm"),
        "llmlab.eval_run": row.get("eval_run"),
        "error.type": row.get("error_type") if row.get("status") != "ok" else None,
    }
    attrs.update({k: v for k, v in optional.items() if v is not None})
    if row.get("finish_reason"):
        attrs["gen_ai.response.finish_reasons"] = [row["finish_reason"]]
    request = row.get("request")
    if isinstance(request, Mapping):
        for key in ("temperature", "max_tokens", "seed"):
            if request.get(key) is not None:
                attrs[f"gen_ai.request.{key}"] = request[key]
    return attrs


def export_rows(rows: Sequence[Mapping[str, Any]], *, store: Store | None = None) -> int:
    """Export call rows as spans and metrics through ``store``'s exporter now; returns how
    many (0 when export is off)."""
    exporter = _state(store).current()
    if exporter is None:
        return 0
    from opentelemetry.trace import SpanKind, Status, StatusCode

    for row in rows:
        attrs = _attributes(row)
        start = _ns(row["started_at"])
        duration = float(row.get("duration_s") or 0.0)
        span = exporter.tracer.start_span(
            f"chat {row['requested_model']}",
            kind=SpanKind.CLIENT,
            attributes=attrs,
            start_time=start,
        )
        if row.get("status") != "ok":
            span.set_status(Status(StatusCode.ERROR, row.get("error_message") or None))
        span.end(end_time=start + int(duration * 1e9))
        common: dict[str, _Attribute] = {
            k: attrs[k]
            for k in (
                "gen_ai.operation.name",
                "gen_ai.provider.name",
                "gen_ai.request.model",
                "gen_ai.response.model",
                "error.type",
            )
            if k in attrs
        }
        exporter.duration.record(duration, common)
        if row.get("status") == "ok":
            for kind, value in (
                ("input", row.get("input_tokens")),
                ("output", row.get("output_tokens")),
            ):
                exporter.tokens.record(int(value or 0), {**common, "gen_ai.token.type": kind})
    return len(rows)


def _after_batch(store: Store, rows: Sequence[Mapping[str, Any]]) -> None:
    export_rows(rows, store=store)


add_batch_listener(_after_batch)
