"""Read queries for the dashboard: typed rows, bounded pages, keyset cursors.

Every function returns at most one page of rows (no page loads a table whole); listings
that can grow without bound (runs, calls) page with a keyset cursor on
``(started_at, id)`` so that page 1,000 costs what page 1 costs. Figures over time are
not computed here: they come from the rollups through ``llmlab.monitor``.
"""

from llmlab.store._calls import (
    CallFilter,
    CallPage,
    CallRow,
    get_call,
    page_calls,
)
from llmlab.store._dash_evals import (
    ResultDetail,
    ResultPage,
    ResultRow,
    RunDetail,
    RunFacets,
    RunPage,
    RunRow,
    get_result,
    get_run_detail,
    page_results,
    page_runs,
    run_facets,
)
from llmlab.store._dash_prompts import (
    LABS_TABLES,
    ExperimentRow,
    LabelMoveRow,
    LabsTable,
    PromptNameRow,
    PromptVersionRow,
    labs_tables,
    list_experiments_page,
    list_prompt_names,
    prompt_label_history,
    prompt_versions,
)
from llmlab.store._keyset import Page, decode_cursor, encode_cursor

__all__ = [
    "CallFilter",
    "CallPage",
    "CallRow",
    "ExperimentRow",
    "LABS_TABLES",
    "LabelMoveRow",
    "LabsTable",
    "Page",
    "PromptNameRow",
    "PromptVersionRow",
    "ResultDetail",
    "ResultPage",
    "ResultRow",
    "RunDetail",
    "RunFacets",
    "RunPage",
    "RunRow",
    "decode_cursor",
    "encode_cursor",
    "get_call",
    "get_result",
    "get_run_detail",
    "labs_tables",
    "list_experiments_page",
    "list_prompt_names",
    "page_calls",
    "page_results",
    "page_runs",
    "prompt_label_history",
    "prompt_versions",
    "run_facets",
]
