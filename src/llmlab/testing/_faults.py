"""Faults the wire server injects on demand: what they are and which request gets one.

A fault is chosen per request, in this order:

1. the request's ``x-llmlab-fault`` header (a fault spec, applies to that request only);
2. the rules in :class:`FaultPlan`, first match wins. A rule fires at most ``count`` times
   (``None``: no limit) and, when it has a ``probability``, only on that share of requests.

A fault spec is ``KIND[:key=value,...]``, for example ``429:retry_after=2``,
``503:probability=0.1``, ``drop:after_chunks=3`` or ``hang``. Keys: ``count``,
``probability`` (or ``p``), ``retry_after``, ``after_chunks``, ``api`` (``openai`` or
``anthropic``).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field, replace
from typing import Literal, TypedDict, cast, get_args

from llmlab._errors import ConfigError

__all__ = [
    "FAULT_KINDS",
    "Api",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "RuleOptions",
    "RuleState",
    "parse_fault_spec",
]

FaultKind = Literal["429", "500", "503", "hang", "drop", "malformed", "no_usage"]
"""Named faults:

- ``"429"``: rate limited, with a ``Retry-After`` header when ``retry_after`` is set;
- ``"500"`` / ``"503"``: server error / overloaded (any other 4xx/5xx code works too);
- ``"hang"``: no answer at all until the client gives up (or the server stops);
- ``"drop"``: the connection is closed without a response;
- ``"malformed"``: a 200 whose JSON body (or one stream event) does not parse;
- ``"no_usage"``: a normal reply without its usage object.

For streamed requests ``after_chunks=N`` moves ``hang``, ``drop`` and ``malformed`` to
after the N-th event, so a stream that breaks midway can be tested.
"""
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
Api = Literal["openai", "anthropic"]


class RuleOptions(TypedDict, total=False):
    """The rule options of a fault spec (what is not a field of :class:`Fault`)."""

    count: int
    probability: float
    api: Api


class RuleState(TypedDict):
    """A rule still able to fire, as ``/_control/stats`` shows it."""

    kind: str
    remaining: int | None
    probability: float | None
    retry_after: float | None
    after_chunks: int | None
    api: Api | None
    fired: int


def _check_api(api: str) -> Api:
    if api in get_args(Api):
        return cast(Api, api)
    raise ConfigError(f"fault api must be 'openai' or 'anthropic', got {api!r}")


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault to inject: ``kind`` is a :data:`FaultKind` or an HTTP error code as text."""

    kind: str
    retry_after: float | None = None
    after_chunks: int | None = None

    @property
    def status(self) -> int | None:
        """The HTTP status this fault answers with, or ``None`` for the non-status kinds."""
        return int(self.kind) if self.kind.isdigit() else None


@dataclass(slots=True)
class _Rule:
    fault: Fault
    remaining: int | None
    probability: float | None
    api: Api | None
    fired: int = 0

    def describe(self) -> RuleState:
        return {
            "kind": self.fault.kind,
            "remaining": self.remaining,
            "probability": self.probability,
            "retry_after": self.fault.retry_after,
            "after_chunks": self.fault.after_chunks,
            "api": self.api,
            "fired": self.fired,
        }


def _check_kind(kind: str | int) -> str:
    text = str(kind).strip().lower()
    if text in FAULT_KINDS:
        return text
    if text.isdigit() and 400 <= int(text) <= 599:
        return text
    raise ConfigError(
        f"unknown fault kind {kind!r}: use one of {', '.join(FAULT_KINDS)} or an HTTP code 400-599"
    )


@dataclass
class FaultPlan:
    """The faults a server will inject; safe to change from any thread.

    Example::

        srv.faults.add("429", count=2, retry_after=1.0)   # the next two requests
        srv.faults.add(503, probability=0.1)               # one request in ten, until cleared
        srv.faults.clear()
    """

    seed: int | None = None
    _rules: list[_Rule] = field(default_factory=list, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def add(
        self,
        kind: FaultKind | int | str,
        count: int | None = None,
        *,
        probability: float | None = None,
        retry_after: float | None = None,
        after_chunks: int | None = None,
        api: Api | None = None,
    ) -> None:
        """Inject ``kind`` into coming requests.

        Args:
            kind: a :data:`FaultKind` or an HTTP error code (400-599).
            count: fire at most this many times. Defaults to 1 without ``probability``
                and to no limit with it.
            probability: fire on this share of matching requests (0-1).
            retry_after: seconds sent as ``Retry-After`` (status faults only).
            after_chunks: for streamed requests, break the stream after this many events.
            api: only requests to this API (``"openai"`` or ``"anthropic"``).
        """
        if count is not None and count < 0:
            raise ConfigError(f"fault count must be >= 0, got {count}")
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ConfigError(f"fault probability must be within 0-1, got {probability}")
        if api is not None:
            api = _check_api(api)
        if count is None and probability is None:
            count = 1
        fault = Fault(_check_kind(kind), retry_after=retry_after, after_chunks=after_chunks)
        with self._lock:
            self._rules.append(_Rule(fault, count, probability, api))

    def add_spec(self, spec: str) -> None:
        """Add a rule written as a fault spec, e.g. ``"429:count=2,retry_after=1"``."""
        fault, options = parse_fault_spec(spec)
        self.add(
            fault.kind,
            options.get("count"),
            probability=options.get("probability"),
            retry_after=fault.retry_after,
            after_chunks=fault.after_chunks,
            api=options.get("api"),
        )

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    @property
    def active(self) -> list[RuleState]:
        """The rules still able to fire, as plain dicts."""
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def pick(self, api: Api) -> Fault | None:
        """The fault for the next request to ``api``, consuming one firing of its rule."""
        if not self._rules:  # the common case, without taking the lock
            return None
        with self._lock:
            for rule in self._rules:
                if rule.api is not None and rule.api != api:
                    continue
                if rule.probability is not None and self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                return rule.fault
        return None


def parse_fault_spec(spec: str) -> tuple[Fault, RuleOptions]:
    """Parse ``KIND[:key=value,...]`` into a fault and its rule options (count, probability, api).

    Raises:
        ConfigError: the spec names an unknown kind or key, or a value is not a number.
    """
    kind, _, rest = spec.strip().partition(":")
    options: RuleOptions = {}
    fault = Fault(_check_kind(kind))
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        key = {"p": "probability"}.get(key.strip(), key.strip())
        try:
            if not sep:
                raise ValueError
            if key == "retry_after":
                fault = replace(fault, retry_after=float(value))
            elif key == "after_chunks":
                fault = replace(fault, after_chunks=int(value))
            elif key == "count":
                options["count"] = int(value)
            elif key == "probability":
                options["probability"] = float(value)
            elif key == "api":
                options["api"] = _check_api(value.strip())
            else:
                raise ConfigError(
                    f"fault spec {spec!r}: unknown key {key!r}; use count, probability, "
                    "retry_after, after_chunks or api"
                )
        except ValueError:
            raise ConfigError(
                f"fault spec {spec!r}: {item!r} is not key=number (e.g. 429:retry_after=2)"
            ) from None
    return fault, options
