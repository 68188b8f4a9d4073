"""The store: tables, migrations, engines; the one place that writes SQL.

SQLite by default (``.llmlab/llmlab.db``, WAL mode), any SQLAlchemy URL through
``LLMLAB_DB`` (``postgresql+psycopg://...`` for a team).
"""

from __future__ import annotations

import importlib
import re
import sys
from typing import TYPE_CHECKING, Any

from llmlab._lazy import lazy_exports

if TYPE_CHECKING:
    from llmlab.store._cache import (
        CachedResponse,
        cache_clear,
        cache_get,
        cache_put,
    )
    from llmlab.store._calls import (
        CALL_COLUMNS,
        CallFilter,
        CallRow,
        call_filter_clauses,
        insert_calls,
        recent_calls,
    )
    from llmlab.store._engine import (
        database_url,
        safe_url,
        unmigrated_engine,
    )
    from llmlab.store._eval_scores import (
        PairedScores,
        RunScores,
        paired_eval_scores,
        run_eval_scores,
    )
    from llmlab.store._evals import (
        EvalResultRow,
        EvalRunRow,
        create_eval_run,
        eval_result_keys,
        find_eval_runs,
        finish_eval_run,
        get_eval_results,
        get_eval_run,
        insert_eval_results,
        iter_eval_results,
        latest_eval_run_id,
        latest_unfinished_eval_run,
        list_eval_runs,
    )
    from llmlab.store._handle import (
        Store,
        current_default_store,
        default_store,
        open_store,
        resolve_store,
        set_default_store,
        using_store,
    )
    from llmlab.store._labels import (
        CalibrationRow,
        LabelRow,
        delete_labels,
        insert_calibration,
        latest_calibrations,
        list_labels,
        upsert_labels,
    )
    from llmlab.store._labs import (
        LabAttemptRow,
        LabProgressRow,
        add_lab_attempt,
        get_lab_progress,
        lab_attempt_rows,
        lab_progress_rows,
        mark_lab_started,
        update_lab_progress,
    )
    from llmlab.store._metadata import (
        MONEY,
        Money,
        UtcDateTime,
        money_float,
        money_scaled,
    )
    from llmlab.store._migrate import (
        current_revision,
        head_revision,
        upgrade,
    )
    from llmlab.store._money import (
        MONEY_SCALE,
        as_money,
        from_pico,
        to_pico,
    )
    from llmlab.store._monitor import (
        BudgetRow,
        BudgetShortfall,
        LedgerEntry,
        Owner,
        ReservationRow,
        SpentAfter,
        delete_budget,
        heartbeat_reservations,
        list_budgets,
        list_reservations,
        read_usage,
        release_reservations,
        reserve_ledger,
        settle_ledger,
        upsert_budget,
    )
    from llmlab.store._monitor_alerts import (
        AlertRow,
        AlertRuleRow,
        claim_delivery,
        delete_alert_rule,
        due_deliveries,
        insert_alert,
        list_alert_rules,
        list_alerts,
        pending_deliveries,
        set_delivery,
        set_rule_firing,
        upsert_alert_rule,
    )
    from llmlab.store._monitor_calls import (
        CostUpdate,
        PricingInput,
        iter_calls,
        iter_pricing_inputs,
        update_call_costs,
    )
    from llmlab.store._prompts import (
        arm_call_stats,
        arm_exposure_counts,
        arm_feedback_stats,
        call_exists,
        find_prompt_rows,
        get_experiment_row,
        insert_experiment_row,
        insert_feedback_row,
        insert_prompt_version,
        label_history_rows,
        list_experiment_rows,
        list_prompt_rows,
        move_label,
        prompt_call_stats,
        prompt_eval_stats,
        prompt_labels_of,
        record_exposure,
        set_prompt_archived,
        update_experiment_row,
    )
    from llmlab.store._quality import (
        runs_of_suite,
        update_run_summary,
    )
    from llmlab.store._replay_hooks import add_replay_hook
    from llmlab.store._rollups import (
        ROLLUP_KEY_COLUMNS,
        ROLLUP_VALUE_COLUMNS,
        delete_rollups,
        insert_rollups,
        read_rollup_columns,
        stream_call_stats,
        sum_rollup_columns,
        upsert_rollups,
    )
    from llmlab.store._schema import (
        metadata,
    )
    from llmlab.store._spill import (
        replay_spill,
        spill_path,
        spill_rows,
    )
    from llmlab.store._sqlite import (
        begin_write,
    )

# Loaded on first use (PEP 562), so that a command imports only the modules it needs.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "_cache": (
        "cache_clear",
        "cache_get",
        "cache_put",
        "CachedResponse",
    ),
    "_calls": (
        "CALL_COLUMNS",
        "call_filter_clauses",
        "CallFilter",
        "CallRow",
        "insert_calls",
        "recent_calls",
    ),
    "_engine": (
        "database_url",
        "safe_url",
        "unmigrated_engine",
    ),
    "_eval_scores": (
        "paired_eval_scores",
        "PairedScores",
        "run_eval_scores",
        "RunScores",
    ),
    "_evals": (
        "create_eval_run",
        "eval_result_keys",
        "EvalResultRow",
        "EvalRunRow",
        "find_eval_runs",
        "finish_eval_run",
        "get_eval_results",
        "get_eval_run",
        "insert_eval_results",
        "iter_eval_results",
        "latest_eval_run_id",
        "latest_unfinished_eval_run",
        "list_eval_runs",
    ),
    "_handle": (
        "current_default_store",
        "default_store",
        "open_store",
        "resolve_store",
        "set_default_store",
        "Store",
        "using_store",
    ),
    "_labels": (
        "CalibrationRow",
        "delete_labels",
        "insert_calibration",
        "LabelRow",
        "latest_calibrations",
        "list_labels",
        "upsert_labels",
    ),
    "_labs": (
        "add_lab_attempt",
        "get_lab_progress",
        "lab_attempt_rows",
        "lab_progress_rows",
        "LabAttemptRow",
        "LabProgressRow",
        "mark_lab_started",
        "update_lab_progress",
    ),
    "_metadata": (
        "MONEY",
        "Money",
        "money_float",
        "money_scaled",
        "UtcDateTime",
    ),
    "_migrate": (
        "current_revision",
        "head_revision",
        "upgrade",
    ),
    "_money": (
        "as_money",
        "from_pico",
        "MONEY_SCALE",
        "to_pico",
    ),
    "_monitor": (
        "BudgetRow",
        "BudgetShortfall",
        "delete_budget",
        "heartbeat_reservations",
        "LedgerEntry",
        "list_budgets",
        "list_reservations",
        "Owner",
        "read_usage",
        "release_reservations",
        "ReservationRow",
        "reserve_ledger",
        "settle_ledger",
        "SpentAfter",
        "upsert_budget",
    ),
    "_monitor_alerts": (
        "AlertRow",
        "AlertRuleRow",
        "claim_delivery",
        "delete_alert_rule",
        "due_deliveries",
        "insert_alert",
        "list_alert_rules",
        "list_alerts",
        "pending_deliveries",
        "set_delivery",
        "set_rule_firing",
        "upsert_alert_rule",
    ),
    "_monitor_calls": (
        "CostUpdate",
        "iter_calls",
        "iter_pricing_inputs",
        "PricingInput",
        "update_call_costs",
    ),
    "_prompts": (
        "arm_call_stats",
        "arm_exposure_counts",
        "arm_feedback_stats",
        "call_exists",
        "find_prompt_rows",
        "get_experiment_row",
        "insert_experiment_row",
        "insert_feedback_row",
        "insert_prompt_version",
        "label_history_rows",
        "list_experiment_rows",
        "list_prompt_rows",
        "move_label",
        "prompt_call_stats",
        "prompt_eval_stats",
        "prompt_labels_of",
        "record_exposure",
        "set_prompt_archived",
        "update_experiment_row",
    ),
    "_quality": (
        "runs_of_suite",
        "update_run_summary",
    ),
    "_rollups": (
        "delete_rollups",
        "insert_rollups",
        "read_rollup_columns",
        "ROLLUP_KEY_COLUMNS",
        "ROLLUP_VALUE_COLUMNS",
        "stream_call_stats",
        "sum_rollup_columns",
        "upsert_rollups",
    ),
    "_schema": ("metadata",),
    "_replay_hooks": ("add_replay_hook",),
    "_spill": (
        "replay_spill",
        "spill_path",
        "spill_rows",
    ),
    "_sqlite": ("begin_write",),
}
_exported, __dir__ = lazy_exports(__name__, _EXPORTS)
_module_of = {name: module for module, names in _EXPORTS.items() for name in names}


# Query functions of the modules that load SQLAlchemy are handed out as small forwarders
# that import their module on the first *call*, not on ``from llmlab.store import f``: the
# monitor and model modules import many of them at the top, and a one-call command on an
# SQLite store (``llmlab run``) calls none of them (it records through _fast_sqlite.py).
_DEFERRED_MODULES = frozenset(
    {
        "_cache",
        "_calls",
        "_eval_scores",
        "_evals",
        "_labels",
        "_labs",
        "_migrate",
        "_monitor",
        "_monitor_alerts",
        "_monitor_calls",
        "_prompts",
        "_quality",
        "_rollups",
        "_spill",
    }
)
_FUNCTION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # classes are CapWords, constants CAPS


def _forwarder(module: str, name: str) -> Any:
    qualified = f"{__name__}.{module}"

    def forward(*args: Any, **kwargs: Any) -> Any:
        # Looked up on every call (a dict lookup once loaded), so a patched function is seen.
        loaded = sys.modules.get(qualified) or importlib.import_module(qualified)
        return getattr(loaded, name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    forward.__module__ = f"{__name__}.{module}"
    forward.__doc__ = f"``llmlab.store.{module}.{name}``, imported on first call."
    return forward


def __getattr__(name: str) -> Any:
    if name == "dashboard":  # the dashboard's read queries: a module of their own
        module = importlib.import_module("llmlab.store._dashboard")
        globals()["dashboard"] = module
        return module
    home = _module_of.get(name)
    if home is not None and home in _DEFERRED_MODULES and _FUNCTION_NAME.match(name):
        if f"{__name__}.{home}" in sys.modules:  # loaded already: the function itself
            return _exported(name)
        forward = globals()[name] = _forwarder(home, name)
        return forward
    return _exported(name)


__all__ = [
    "AlertRow",
    "AlertRuleRow",
    "BudgetRow",
    "BudgetShortfall",
    "CALL_COLUMNS",
    "CachedResponse",
    "CalibrationRow",
    "CallFilter",
    "CallRow",
    "CostUpdate",
    "EvalResultRow",
    "EvalRunRow",
    "LabAttemptRow",
    "LabProgressRow",
    "LabelRow",
    "LedgerEntry",
    "MONEY",
    "MONEY_SCALE",
    "Money",
    "Owner",
    "PairedScores",
    "PricingInput",
    "ROLLUP_KEY_COLUMNS",
    "ROLLUP_VALUE_COLUMNS",
    "ReservationRow",
    "RunScores",
    "SpentAfter",
    "Store",
    "UtcDateTime",
    "add_lab_attempt",
    "add_replay_hook",
    "arm_call_stats",
    "arm_exposure_counts",
    "arm_feedback_stats",
    "as_money",
    "begin_write",
    "cache_clear",
    "cache_get",
    "cache_put",
    "call_exists",
    "call_filter_clauses",
    "claim_delivery",
    "create_eval_run",
    "current_default_store",
    "current_revision",
    "dashboard",
    "database_url",
    "default_store",
    "delete_alert_rule",
    "delete_budget",
    "delete_labels",
    "delete_rollups",
    "due_deliveries",
    "eval_result_keys",
    "find_eval_runs",
    "find_prompt_rows",
    "finish_eval_run",
    "from_pico",
    "get_eval_results",
    "get_eval_run",
    "get_experiment_row",
    "get_lab_progress",
    "head_revision",
    "heartbeat_reservations",
    "insert_alert",
    "insert_calibration",
    "insert_calls",
    "insert_eval_results",
    "insert_experiment_row",
    "insert_feedback_row",
    "insert_prompt_version",
    "insert_rollups",
    "iter_calls",
    "iter_eval_results",
    "iter_pricing_inputs",
    "lab_attempt_rows",
    "lab_progress_rows",
    "label_history_rows",
    "latest_calibrations",
    "latest_eval_run_id",
    "latest_unfinished_eval_run",
    "list_alert_rules",
    "list_alerts",
    "list_budgets",
    "list_eval_runs",
    "list_experiment_rows",
    "list_labels",
    "list_prompt_rows",
    "list_reservations",
    "mark_lab_started",
    "metadata",
    "money_float",
    "money_scaled",
    "move_label",
    "open_store",
    "paired_eval_scores",
    "pending_deliveries",
    "prompt_call_stats",
    "prompt_eval_stats",
    "prompt_labels_of",
    "read_rollup_columns",
    "read_usage",
    "recent_calls",
    "record_exposure",
    "release_reservations",
    "replay_spill",
    "reserve_ledger",
    "resolve_store",
    "run_eval_scores",
    "runs_of_suite",
    "safe_url",
    "set_default_store",
    "set_delivery",
    "set_prompt_archived",
    "set_rule_firing",
    "settle_ledger",
    "spill_path",
    "spill_rows",
    "stream_call_stats",
    "sum_rollup_columns",
    "to_pico",
    "unmigrated_engine",
    "update_call_costs",
    "update_experiment_row",
    "update_lab_progress",
    "update_run_summary",
    "upgrade",
    "upsert_alert_rule",
    "upsert_budget",
    "upsert_labels",
    "upsert_rollups",
    "using_store",
]
