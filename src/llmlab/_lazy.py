"""Lazy re-exports for package ``__init__`` modules (PEP 562).

A package's ``__init__`` names what it re-exports from which private module; a name is
imported the first time it is looked up and then kept in the package's namespace. A CLI
command (or a user's script) so imports only the modules it uses: ``llmlab run`` needs the
call path, not the tables of evals or the numpy-backed statistics.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``.

    Args:
        package: the package's ``__name__``.
        exports: private module name (relative to ``package``) -> the names it exports.

    Returns:
        The pair to assign to ``__getattr__, __dir__`` in the package's ``__init__``.
    """
    where = {name: f"{package}.{module}" for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__
