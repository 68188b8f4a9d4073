"""Monitoring: call records, budgets, alerts, stats and rollups, OpenTelemetry export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmlab._lazy import lazy_exports

if TYPE_CHECKING:
    from llmlab.monitor._alert_rules import (
        AlertRule,
        check_alert_rules,
        list_rules,
        remove_alert_rule,
        set_alert_rule,
    )
    from llmlab.monitor._alerts import (
        Alert,
        configure_alerts,
        flush_alerts,
        recent_alerts,
    )
    from llmlab.monitor._budgets import (
        Budget,
        BudgetStatus,
        budget_status,
        list_budget_definitions,
        remove_budget,
        set_budget,
    )
    from llmlab.monitor._capture import (
        capture_content,
    )
    from llmlab.monitor._export import (
        export_calls,
    )
    from llmlab.monitor._llm_monitor import (
        LLMMonitor,
    )
    from llmlab.monitor._otel import (
        disable_otel,
        enable_otel,
    )
    from llmlab.monitor._record import (
        CallRecord,
        CallStatus,
        new_call_id,
    )
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
    from llmlab.monitor._reprice import (
        RepriceReport,
        reprice_calls,
    )
    from llmlab.monitor._reserve import (
        Reservation,
        UnpricedRefused,
        areserve_budget,
        charge_budget,
        release_budget,
        reserve_budget,
    )
    from llmlab.monitor._rollups import (
        rebuild_rollups,
    )
    from llmlab.monitor._stats import (
        GROUP_BY,
        GroupStats,
        StatsReport,
        call_stats,
    )
    from llmlab.monitor._window import (
        parse_window,
    )

# Loaded on first use (PEP 562), so that a command imports only the modules it needs.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "_alert_rules": (
            "AlertRule",
            "check_alert_rules",
            "list_rules",
            "remove_alert_rule",
            "set_alert_rule",
        ),
        "_alerts": (
            "Alert",
            "configure_alerts",
            "flush_alerts",
            "recent_alerts",
        ),
        "_budgets": (
            "Budget",
            "budget_status",
            "BudgetStatus",
            "list_budget_definitions",
            "remove_budget",
            "set_budget",
        ),
        "_capture": ("capture_content",),
        "_export": ("export_calls",),
        "_llm_monitor": ("LLMMonitor",),
        "_otel": (
            "disable_otel",
            "enable_otel",
        ),
        "_record": (
            "CallRecord",
            "CallStatus",
            "new_call_id",
        ),
        "_recorder": (
            "add_batch_hook",
            "add_batch_listener",
            "BatchHook",
            "BatchListener",
            "flush",
            "record",
            "Recorder",
            "remove_batch_hook",
            "remove_batch_listener",
        ),
        "_reprice": (
            "reprice_calls",
            "RepriceReport",
        ),
        "_reserve": (
            "areserve_budget",
            "charge_budget",
            "release_budget",
            "Reservation",
            "reserve_budget",
            "UnpricedRefused",
        ),
        "_rollups": ("rebuild_rollups",),
        "_stats": (
            "call_stats",
            "GROUP_BY",
            "GroupStats",
            "StatsReport",
        ),
        "_window": ("parse_window",),
    },
)


__all__ = [
    "Alert",
    "AlertRule",
    "BatchHook",
    "BatchListener",
    "Budget",
    "BudgetStatus",
    "CallRecord",
    "CallStatus",
    "GROUP_BY",
    "GroupStats",
    "LLMMonitor",
    "Recorder",
    "RepriceReport",
    "Reservation",
    "StatsReport",
    "UnpricedRefused",
    "add_batch_hook",
    "add_batch_listener",
    "areserve_budget",
    "budget_status",
    "call_stats",
    "capture_content",
    "charge_budget",
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
    "recent_alerts",
    "record",
    "release_budget",
    "remove_alert_rule",
    "remove_batch_hook",
    "remove_batch_listener",
    "remove_budget",
    "reprice_calls",
    "reserve_budget",
    "set_alert_rule",
    "set_budget",
]
