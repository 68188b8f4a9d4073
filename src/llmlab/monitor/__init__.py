"""Monitoring: call records, budgets, alerts, stats and rollups, OpenTelemetry export."""

from llmlab.monitor._alerts import Alert, configure_alerts, flush_alerts
from llmlab.monitor._budgets import (
    Budget,
    BudgetStatus,
    Reservation,
    budget_status,
    list_budget_definitions,
    remove_budget,
    reserve_budget,
    set_budget,
)
from llmlab.monitor._record import CallRecord, CallStatus, new_call_id
from llmlab.monitor._recorder import (
    BatchHook,
    BatchListener,
    add_batch_hook,
    add_batch_listener,
    flush,
    record,
    remove_batch_hook,
    remove_batch_listener,
)
from llmlab.monitor._rollups import rebuild_rollups
from llmlab.monitor._stats import GROUP_BY, GroupStats, StatsReport, call_stats
from llmlab.monitor._window import parse_window

__all__ = [
    "GROUP_BY",
    "Alert",
    "BatchHook",
    "BatchListener",
    "Budget",
    "BudgetStatus",
    "CallRecord",
    "CallStatus",
    "GroupStats",
    "Reservation",
    "StatsReport",
    "add_batch_hook",
    "add_batch_listener",
    "budget_status",
    "call_stats",
    "configure_alerts",
    "flush",
    "flush_alerts",
    "list_budget_definitions",
    "new_call_id",
    "parse_window",
    "rebuild_rollups",
    "record",
    "remove_batch_hook",
    "remove_batch_listener",
    "remove_budget",
    "reserve_budget",
    "set_budget",
]
