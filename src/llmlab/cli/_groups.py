"""Imports every CLI group module so that its commands register on the root app.

Each module owns one noun group (``eval``, ``prompts``, ``monitor`` ...) and adds itself
to ``llmlab.cli._app.app``.
"""

from __future__ import annotations

import llmlab.cli._alerts  # noqa: F401
import llmlab.cli._budgets  # noqa: F401
import llmlab.cli._db  # noqa: F401
import llmlab.cli._eval  # noqa: F401
import llmlab.cli._experiments  # noqa: F401
import llmlab.cli._labs  # noqa: F401
import llmlab.cli._models  # noqa: F401
import llmlab.cli._monitor  # noqa: F401
import llmlab.cli._prompts  # noqa: F401
import llmlab.cli._run  # noqa: F401

__all__: list[str] = []
