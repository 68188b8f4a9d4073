"""The whole schema: importing this module registers every table on ``metadata``.

Each domain defines its tables in its own ``_tables_<domain>.py``. When you add such a
module, add one line ``import llmlab.store._tables_<domain>  # noqa: F401`` here, then
regenerate the migration (``scripts/regen_migration.py``).
"""

from __future__ import annotations

import llmlab.store._tables_cache  # noqa: F401
import llmlab.store._tables_calls  # noqa: F401
import llmlab.store._tables_evals  # noqa: F401
import llmlab.store._tables_labels  # noqa: F401
import llmlab.store._tables_labs  # noqa: F401
import llmlab.store._tables_monitor  # noqa: F401
import llmlab.store._tables_prompts  # noqa: F401
from llmlab.store._metadata import metadata

__all__ = ["metadata"]
