"""Sandboxed, strict Jinja2 rendering of prompts and scorer parameters over case fields.

Evals keeps its own small environment (rather than using ``llmlab.prompts``) because
``prompts`` imports ``evals`` for offline A/B runs, never the reverse; both are built on
``llmlab._sandbox.BoundedSandbox``, so a template has the same size and time limits in each.

Jinja2 (and the sandbox built on it) is imported on the first template that needs it: a
suite whose templates are all a lone ``{{ name }}`` (the common ``{{ input }}`` prompt and
``{{ target }}`` parameter) never does, and an eval run does not pay its import at start-up.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from llmlab._errors import TemplateError

if TYPE_CHECKING:
    import jinja2

    from llmlab._sandbox import BoundedSandbox

__all__ = ["check_syntax", "is_template", "render_text", "render_value"]

# A parameter that is one expression and nothing else keeps the expression's type
# (a list of key terms, a number), instead of its string form.
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}\s*$", re.DOTALL)
_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")
_JINJA_CONSTANTS = frozenset({"true", "false", "none"})  # literals in Jinja, not variables
_NOT_A_NAME = frozenset({"not"})  # the one word Jinja refuses as a lone expression
_PLAIN_NAME = re.compile(r"^\s*\{\{\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$")
_EXACT_NAME = re.compile(r"\{\{\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
"""A template that is one variable and nothing else, not even whitespace around it."""
_MAX_OUTPUT_CHARS = 1_000_000
"""``llmlab._sandbox.MAX_OUTPUT_CHARS``, here without importing Jinja2 (a test checks
that the two agree)."""


def is_template(text: str) -> bool:
    """True when ``text`` holds Jinja2 syntax (otherwise it is used as it is)."""
    return "{{" in text or "{%" in text or "{#" in text


def _plain_name(value: str) -> str | None:
    """The variable of a parameter that is a lone ``{{ name }}`` (whitespace allowed)."""
    plain = _PLAIN_NAME.match(value)
    return plain.group("name") if plain is not None else None


@functools.cache
def _env() -> BoundedSandbox:
    import jinja2

    from llmlab._sandbox import BoundedSandbox

    # Bounded in size and time (llmlab._sandbox), the same limits as prompts' renderer.
    return BoundedSandbox(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


@functools.lru_cache(maxsize=512)
def _compile(source: str) -> jinja2.Template:
    import jinja2

    try:
        return _env().from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template does not parse: {exc.message} in {source!r}") from exc


@functools.lru_cache(maxsize=512)
def _compile_expression(expr: str) -> Any:
    import jinja2

    try:
        return _env().compile_expression(expr, undefined_to_none=False)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"expression does not parse: {exc.message} in {expr!r}") from exc


def _fail(exc: Exception, source: str, case_id: str | None, where: str) -> TemplateError:
    import jinja2

    case = f"case {case_id!r}: " if case_id is not None else ""
    message = str(exc)
    match = _UNDEFINED_NAME.search(message)
    if match:
        return TemplateError(
            f"{case}{where} needs the variable {match.group(1)!r}, which the case lacks "
            f"(template {source!r}); add the field to the dataset or fix the template"
        )
    if not isinstance(exc, jinja2.TemplateError):
        message = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return TemplateError(f"{case}{where} failed to render {source!r}: {message}")


def render_text(
    source: str,
    variables: Mapping[str, Any],
    *,
    case_id: str | None = None,
    where: str = "template",
) -> str:
    """Render ``source`` with ``variables``; a missing variable is a ``TemplateError``."""
    if not is_template(source):
        return source
    # ``{{ name }}`` of a text field renders as that text: skip building a Jinja context
    # (the suite's prompt is rendered so for every case, up front).
    exact = _EXACT_NAME.fullmatch(source)
    if exact is not None and exact.group("name").lower() not in _JINJA_CONSTANTS:
        value = variables.get(exact.group("name"))
        if type(value) is str and len(value) <= _MAX_OUTPUT_CHARS:
            return value
    template = _compile(source)
    import jinja2

    from llmlab._sandbox import render_bounded

    try:
        return render_bounded(template, variables)
    except jinja2.TemplateError as exc:
        raise _fail(exc, source, case_id, where) from exc
    except Exception as exc:  # MemoryError, OverflowError, TypeError ... from user code
        raise _fail(exc, source, case_id, where) from exc


def render_value(
    value: Any,
    variables: Mapping[str, Any],
    *,
    case_id: str | None = None,
    where: str = "parameter",
) -> Any:
    """Render a scorer parameter: strings are templates, lists and mappings recursively.

    A string that is exactly one ``{{ expression }}`` yields the expression's value with
    its type kept (``"{{ key_terms }}"`` gives the list).
    """
    if isinstance(value, str):
        if not is_template(value):
            return value
        # ``{{ name }}`` of a defined variable is that value, as Jinja's expression gives
        # it: skip building a Jinja context (about 0.1 ms a case, twice per case in a run).
        name = _plain_name(value)
        if name is not None and name in variables and name.lower() not in _JINJA_CONSTANTS:
            return variables[name]
        match = _SINGLE_EXPRESSION.match(value)
        if match:
            return _render_expression(value, match.group("expr"), variables, case_id, where)
        return render_text(value, variables, case_id=case_id, where=where)
    if isinstance(value, list):
        return [render_value(v, variables, case_id=case_id, where=where) for v in value]
    if isinstance(value, dict):
        return {
            k: render_value(v, variables, case_id=case_id, where=where) for k, v in value.items()
        }
    return value


def _render_expression(
    value: str, expr: str, variables: Mapping[str, Any], case_id: str | None, where: str
) -> Any:
    expression = _compile_expression(expr)
    import jinja2

    from llmlab._sandbox import check_output, render_deadline

    try:
        with render_deadline():
            result = check_output(expression(**variables))
    except jinja2.TemplateError as exc:
        raise _fail(exc, value, case_id, where) from exc
    except Exception as exc:  # MemoryError, OverflowError, TypeError ...
        raise _fail(exc, value, case_id, where) from exc
    if isinstance(result, jinja2.Undefined):
        raise _fail(
            jinja2.UndefinedError(f"{result._undefined_name!r} is undefined"),
            value,
            case_id,
            where,
        )
    return result


def check_syntax(value: Any) -> None:
    """Parse every template in ``value`` (as ``render_value`` would), so a syntax error
    shows when the suite loads rather than as the first case's error."""
    if isinstance(value, str):
        if is_template(value):
            name = _plain_name(value)
            if name is not None and name not in _NOT_A_NAME:
                return  # a lone variable always parses (no need to load Jinja for it)
            match = _SINGLE_EXPRESSION.match(value)
            if match:
                _compile_expression(match.group("expr"))
            else:
                _compile(value)
    elif isinstance(value, list):
        for item in value:
            check_syntax(item)
    elif isinstance(value, dict):
        for item in value.values():
            check_syntax(item)
