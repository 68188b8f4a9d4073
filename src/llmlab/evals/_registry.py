"""Scorers by name: the built-ins, ``@scorer``-registered functions, import paths.

A suite lists scorers as one-key mappings, optionally with ``weight`` and ``name``::

    scorers:
      - includes: "{{ target }}"                 # shorthand: the main parameter
      - length: {min: 50, max: 150}
        weight: 0.4
      - custom: "my_scorers.py:tone"            # or "package.module:function"
      - tone: {strict: true}                    # a function registered with @scorer
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, overload

from llmlab._errors import InputError
from llmlab.evals._builtin import Exact, Includes, JsonValid, KeyTerms, Length, Regex
from llmlab.evals._combine import FunctionScorer, Weighted
from llmlab.evals._judge import ModelGraded
from llmlab.evals._score import Scorer
from llmlab.evals._similarity import Similarity

__all__ = ["load_callable", "registered_scorers", "scorer", "scorer_from_spec", "scorers_from_spec"]

F = TypeVar("F", bound=Callable[..., Any])

_BUILTINS: dict[str, tuple[Callable[..., Scorer], str | None]] = {
    "exact": (Exact, "value"),
    "includes": (Includes, "value"),
    "contains": (Includes, "value"),
    "regex": (Regex, "pattern"),
    "json": (JsonValid, "schema"),
    "json_schema": (JsonValid, "schema"),
    "length": (Length, None),
    "key_terms": (KeyTerms, "terms"),
    "judge": (ModelGraded, "rubric"),
    "model_graded": (ModelGraded, "rubric"),
    "similarity": (Similarity, "reference"),
}
_REGISTERED: dict[str, Callable[..., Any]] = {}


@overload
def scorer(fn: F, /) -> F: ...
@overload
def scorer(*, name: str | None = None) -> Callable[[F], F]: ...
def scorer(fn: Callable[..., Any] | None = None, /, *, name: str | None = None) -> Any:
    """Register a function as a scorer usable by name in suites.

    The function is ``(output, expected) -> float | bool | Score`` or
    ``(output, case, **params)``; sync or async::

        @scorer
        def polite(output: str, expected: dict) -> float: ...
    """

    def register(f: F) -> F:
        key = name or f.__name__
        if key in _BUILTINS:
            raise ValueError(f"{key!r} is a built-in scorer; register under another name")
        _REGISTERED[key] = f
        return f

    return register(fn) if fn is not None else register


def registered_scorers() -> list[str]:
    """Every scorer name a suite may use."""
    return sorted({*_BUILTINS, *_REGISTERED, "custom"})


def load_callable(target: str, *, base_dir: Path | None = None) -> Callable[..., Any]:
    """A function by ``module:function``, ``module.function`` or ``file.py:function``."""
    module_name, sep, attr = target.partition(":")
    if not sep:
        module_name, _, attr = target.rpartition(".")
    if not module_name or not attr:
        raise InputError(f"scorer {target!r}: write 'module:function' or 'file.py:function'")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            spec = importlib.util.spec_from_file_location(f"llmlab_user_{path.stem}", path)
            if spec is None or spec.loader is None or not path.is_file():
                raise InputError(f"scorer file {str(path)!r} not found")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"scorer {target!r}: cannot import {module_name!r}: {exc}") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise InputError(f"scorer {target!r}: {module_name!r} has no function {attr!r}")
    return fn  # type: ignore[no-any-return]


def _build(kind: str, params: Any, base_dir: Path | None) -> Scorer:
    if kind in ("custom", "python"):
        if isinstance(params, str):
            params = {"function": params}
        if not isinstance(params, Mapping) or "function" not in params:
            raise InputError("custom scorer: give 'function: module:function'")
        rest = {k: v for k, v in params.items() if k != "function"}
        fn = load_callable(str(params["function"]), base_dir=base_dir)
        return FunctionScorer(fn, params=rest)
    if kind in _REGISTERED:
        extra = dict(params) if isinstance(params, Mapping) else {}
        return FunctionScorer(_REGISTERED[kind], name=kind, params=extra)
    factory, main = _BUILTINS.get(kind, (None, None))
    if factory is None:
        raise InputError(f"unknown scorer {kind!r}; known: {', '.join(registered_scorers())}")
    if factory is JsonValid and isinstance(params, Mapping) and "schema" not in params:
        kwargs = {"schema": dict(params)}  # ``json_schema: {type: object, ...}`` is the schema
    elif isinstance(params, Mapping):
        kwargs = dict(params)
    elif params is None or params is True:
        kwargs = {}
    elif main is not None:
        kwargs = {main: params}
    else:
        raise InputError(f"scorer {kind!r} takes a mapping of options")
    try:
        return factory(**kwargs)
    except TypeError as exc:
        raise InputError(f"scorer {kind!r}: bad options {sorted(kwargs)}: {exc}") from None
    except ValueError as exc:
        raise InputError(f"scorer {kind!r}: {exc}") from None


def scorer_from_spec(spec: Any, *, base_dir: Path | None = None) -> tuple[Scorer, float]:
    """One scorer and its weight from a suite entry."""
    if isinstance(spec, str):
        return _build(spec, None, base_dir), 1.0
    if not isinstance(spec, Mapping):
        raise InputError(f"a scorer entry must be a mapping like {{includes: ...}}, not {spec!r}")
    keys = [k for k in spec if k not in ("weight", "name")]
    if len(keys) != 1:
        raise InputError(
            f"a scorer entry names exactly one scorer (plus 'weight', 'name'); got {keys}"
        )
    built = _build(str(keys[0]), spec[keys[0]], base_dir)
    if "name" in spec:
        built.name = str(spec["name"])
    raw = spec.get("weight", 1.0)
    try:
        weight = float("nan") if isinstance(raw, bool) else float(raw)
    except (TypeError, ValueError, OverflowError):
        weight = float("nan")
    if not math.isfinite(weight) or weight < 0:
        raise InputError(f"scorer weight must be a finite number >= 0, not {raw!r}")
    return built, weight


def scorers_from_spec(specs: Any, *, base_dir: Path | None = None) -> Weighted:
    """The suite's scorers combined by weight."""
    if isinstance(specs, Mapping | str):
        specs = [specs]
    if not isinstance(specs, list) or not specs:
        raise InputError("a suite needs 'scorers': a list such as [{includes: '{{ target }}'}]")
    try:
        return Weighted([scorer_from_spec(s, base_dir=base_dir) for s in specs])
    except ValueError as exc:
        raise InputError(str(exc)) from None
