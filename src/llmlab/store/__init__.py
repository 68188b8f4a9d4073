"""The store: tables, migrations, engines; the one place that writes SQL.

SQLite by default (``.llmlab/llmlab.db``, WAL mode), any SQLAlchemy URL through
``LLMLAB_DB`` (``postgresql+psycopg://...`` for a team).
"""

from llmlab.store._cache import cache_clear, cache_get, cache_put
from llmlab.store._calls import (
    CALL_COLUMNS,
    CallFilter,
    call_filter_clauses,
    insert_calls,
    recent_calls,
)
from llmlab.store._engine import (
    close_engines,
    database_url,
    get_engine,
    safe_url,
    unmigrated_engine,
)
from llmlab.store._evals import (
    create_eval_run,
    eval_result_keys,
    find_eval_runs,
    finish_eval_run,
    get_eval_results,
    get_eval_run,
    insert_eval_results,
    latest_unfinished_eval_run,
    list_eval_runs,
)
from llmlab.store._metadata import MONEY
from llmlab.store._migrate import current_revision, head_revision, upgrade
from llmlab.store._schema import metadata
from llmlab.store._sqlite import begin_write

__all__ = [
    "CALL_COLUMNS",
    "MONEY",
    "CallFilter",
    "begin_write",
    "cache_clear",
    "cache_get",
    "cache_put",
    "call_filter_clauses",
    "close_engines",
    "create_eval_run",
    "current_revision",
    "database_url",
    "eval_result_keys",
    "find_eval_runs",
    "finish_eval_run",
    "get_engine",
    "get_eval_results",
    "get_eval_run",
    "head_revision",
    "insert_calls",
    "insert_eval_results",
    "latest_unfinished_eval_run",
    "list_eval_runs",
    "metadata",
    "recent_calls",
    "safe_url",
    "unmigrated_engine",
    "upgrade",
]
