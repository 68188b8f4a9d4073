"""Monitoring: call records, budgets, alerts, stats and rollups, OpenTelemetry export."""

from llmlab.monitor._alert_rules import (
    AlertRule,
    check_alert_rules,
    list_rules,
    remove_alert_rule,
    set_alert_rule,
)
from llmlab.monitor._alerts import Alert, configure_alerts, flush_alerts, recent_alerts
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
from llmlab.monitor._capture import capture_content
from llmlab.monitor._export import export_calls
from llmlab.monitor._llm_monitor import LLMMonitor
from llmlab.monitor._otel import disable_otel, enable_otel
from llmlab.monitor._record import CallRecord, CallStatus, new_call_id
from llmlab.monitor._recorder import (
    BatchHook,
    BatchListener,
    Recorder,
    add_batch_hook,
    add_batch_listener,
    flush,
    record,
    remove_batch_hook,
    remove_batch_listener,
)
from llmlab.monitor._reprice import RepriceReport, reprice_calls
from llmlab.monitor._rollups import rebuild_rollups
from llmlab.monitor._stats import GROUP_BY, GroupStats, StatsReport, call_stats
from llmlab.monitor._window import parse_window

__all__ = [
    "GROUP_BY",
    "Alert",
    "AlertRule",
    "BatchHook",
    "BatchListener",
    "Budget",
    "BudgetStatus",
    "CallRecord",
    "CallStatus",
    "GroupStats",
    "LLMMonitor",
    "Recorder",
    "Reservation",
    "RepriceReport",
    "StatsReport",
    "add_batch_hook",
    "add_batch_listener",
    "budget_status",
    "call_stats",
    "capture_content",
    "check_alert_rules",
    "configure_alerts",
    "disable_otel",
    "enable_otel",
    "export_calls",
    "flush",
    "flush_alerts",
    "list_budget_definitions",
    "list_rules",
    "new_call_id",
    "parse_window",
    "rebuild_rollups",
    "remove_alert_rule",
    "recent_alerts",
    "record",
    "remove_batch_hook",
    "remove_batch_listener",
    "remove_budget",
    "reprice_calls",
    "reserve_budget",
    "set_alert_rule",
    "set_budget",
]
