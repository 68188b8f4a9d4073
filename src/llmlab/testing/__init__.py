"""Test support: a local OpenAI/Anthropic wire-format server and the pytest plugin.

Product code must not import this package; tests, benchmarks and labs do.

Names load on first use: pytest imports this package for its plugin in every session, and
the server's dependencies (aiohttp, pydantic) would otherwise slow down every test run.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmlab.testing._faults import FAULT_KINDS, Fault, FaultKind, FaultPlan, parse_fault_spec
    from llmlab.testing._replies import ReplyScript, count_tokens, echo_reply
    from llmlab.testing._server import WireServer
    from llmlab.testing._state import RecordedRequest, ServerConfig

__all__ = [
    "FAULT_KINDS",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "RecordedRequest",
    "ReplyScript",
    "ServerConfig",
    "WireServer",
    "count_tokens",
    "echo_reply",
    "parse_fault_spec",
]

_HOMES = {
    "FAULT_KINDS": "_faults",
    "Fault": "_faults",
    "FaultKind": "_faults",
    "FaultPlan": "_faults",
    "parse_fault_spec": "_faults",
    "ReplyScript": "_replies",
    "count_tokens": "_replies",
    "echo_reply": "_replies",
    "WireServer": "_server",
    "RecordedRequest": "_state",
    "ServerConfig": "_state",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
