"""Reading the learner's files: any mistake becomes one ``InputError`` naming file:line.

A learner's Python file runs in a fresh module namespace (never cached in
``sys.modules``), so an edited file is always read again, and an exception it raises is
reported at the innermost line of *that* file, not as a traceback into llmlab.
"""

from __future__ import annotations

import tomllib
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from llmlab._errors import InputError

__all__ = [
    "call_learner",
    "learner_callable",
    "load_learner_module",
    "load_learner_toml",
    "load_learner_yaml",
]


def _missing(path: Path) -> InputError:
    return InputError(
        "the file is missing; run `llmlab labs reset` to restore the starter", path=path
    )


def load_learner_yaml(path: Path) -> Any:
    """Parse a YAML file; a syntax error names its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _missing(path) from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "not valid YAML"
        raise InputError(f"not valid YAML: {problem}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", path=path) from None


def load_learner_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a syntax error names its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _missing(path) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says "... (at line 3, column 7)": keep the words, move the place first
        message = str(exc)
        line = None
        if "(at line " in message:
            head, _, tail = message.rpartition(" (at line ")
            message = head
            line = int(tail.split(",")[0].rstrip(")"))
        raise InputError(f"not valid TOML: {message}", path=path, line=line) from None


def _line_in(exc: BaseException, path: Path) -> int | None:
    """The innermost line of ``path`` in the exception's traceback."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == path:
            line = frame.lineno
    return line


def load_learner_module(path: Path) -> types.ModuleType:
    """Run a learner's Python file as a fresh module.

    Raises:
        InputError: the file does not parse or raises while it runs (file:line).
    """
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _missing(path) from None
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        raise InputError(f"syntax error: {exc.msg}", path=path, line=exc.lineno) from None
    module = types.ModuleType(f"llmlab_lab_{path.stem}")
    module.__file__ = str(path)
    try:
        exec(code, module.__dict__)  # noqa: S102 - the learner's own file, run on purpose
    except Exception as exc:
        raise InputError(
            f"{type(exc).__name__} while loading: {exc}", path=path, line=_line_in(exc, path)
        ) from None
    return module


def learner_callable(module: types.ModuleType, name: str, path: Path) -> Callable[..., Any]:
    """``module.name``, which must be a function."""
    found = getattr(module, name, None)
    if not callable(found):
        raise InputError(f"define a function `{name}` (the lab's checks call it)", path=path)
    return found  # type: ignore[no-any-return]


def call_learner(fn: Callable[..., Any], path: Path, *args: Any) -> Any:
    """Call a learner's function; an exception is reported at its line in ``path``."""
    try:
        return fn(*args)
    except Exception as exc:
        shown = ", ".join(repr(a)[:60] for a in args)
        raise InputError(
            f"{getattr(fn, '__name__', 'function')}({shown}) raised {type(exc).__name__}: {exc}",
            path=path,
            line=_line_in(exc, path),
        ) from None
