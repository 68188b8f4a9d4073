"""Template compilation and rendering: sandboxed Jinja2, or the seed's ``{var}`` style.

Jinja2 runs in an immutable sandbox with strict undefined variables, so a template can
neither reach Python internals (``{{ ''.__class__.__mro__ }}``) nor silently render a
missing variable as an empty string. The ``format`` style (``str.format`` fields) accepts
plain names only: ``{x.__class__}`` and ``{x[0]}`` are refused, because attribute and
index lookups are the escape routes of ``str.format``.
"""

from __future__ import annotations

import re
import string
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jinja2
from jinja2 import StrictUndefined, meta, nodes

from llmlab._errors import TemplateError
from llmlab._sandbox import (
    BoundedSandbox,
    RenderLimitError,
    check_format_width,
    check_output,
    render_bounded,
)

__all__ = [
    "CompiledTemplate",
    "PromptVariableWarning",
    "Syntax",
    "compile_template",
    "detect_syntax",
    "fits_format_style",
    "warn_extra",
]

Syntax = Literal["jinja", "format"]

_JINJA_MARKERS = re.compile(r"\{\{|\{%|\{#")
_UNDEFINED = re.compile(r"'([^']+)' is undefined")

# Bounded in size and time (llmlab._sandbox), the same limits as the eval suites' renderer.
_env = BoundedSandbox(
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
)
_formatter = string.Formatter()
# The width and precision of a format spec: [[fill]align][sign][z][#][0][width][,_][.precision]
_SPEC_SIZES = re.compile(r"^(?:.?[<>=^])?[+\- ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?")


class PromptVariableWarning(UserWarning):
    """A render call passed a variable the prompt neither uses nor declares."""


def _format_fields(text: str) -> list[str] | None:
    """The field names of a ``str.format`` template, or None when it does not parse."""
    try:
        parsed = list(_formatter.parse(text))
    except ValueError:
        return None
    out: list[str] = []
    for _, name, spec, _ in parsed:
        if name is None:
            continue
        out.append(name)
        # A spec may hold nested fields ({x:{width}}); str.format evaluates them too, so
        # {x:{y.__class__}} would otherwise slip an attribute lookup past the name check.
        nested = _format_fields(spec) if spec and "{" in spec else []
        if nested is None:
            return None
        out.extend(nested)
    return out


def detect_syntax(texts: list[str]) -> Syntax:
    """Jinja when any Jinja marker appears; ``format`` when there are plain ``{name}`` fields.

    Text with neither is rendered literally by Jinja, so JSON examples inside a prompt
    without Jinja markers stay as written.
    """
    if any(_JINJA_MARKERS.search(t) for t in texts):
        return "jinja"
    for text in texts:
        fields = _format_fields(text)
        if fields is None or not all(f.isidentifier() for f in fields):
            return "jinja"
    if any(_format_fields(t) for t in texts):
        return "format"
    return "jinja"


def fits_format_style(texts: list[str]) -> bool:
    """Every text parses as a ``str.format`` template of plain names, with a field somewhere."""
    parsed = [_format_fields(t) for t in texts]
    names = [f for fields in parsed for f in fields or []]
    return (
        all(p is not None for p in parsed) and bool(names) and all(f.isidentifier() for f in names)
    )


def _refuse_private_access(ast: nodes.Template, where: str) -> None:
    """Refuse attribute or item lookups of private names before anything renders."""
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        name: object = None
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            name = node.arg.value
        if isinstance(name, str) and name.startswith("_"):
            raise TemplateError(
                f"access to {name!r} is refused by the sandbox; "
                "templates may only read variables and their public fields",
                path=where,
                line=node.lineno,
            )
    for call in ast.find_all(nodes.Filter):
        if call.name == "attr":
            raise TemplateError(
                "the 'attr' filter is refused by the sandbox; write x.name instead",
                path=where,
                line=call.lineno,
            )


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """One template text, parsed once; ``render`` is the hot path."""

    source: str
    syntax: Syntax
    referenced: frozenset[str]
    jinja: jinja2.Template | None

    def render(self, values: Mapping[str, Any], where: str) -> str:
        """Render with ``values``; errors name ``where`` (the prompt)."""
        if self.jinja is None:
            try:
                return str(check_output(self.source.format_map(values)))
            except KeyError as exc:
                raise _missing(str(exc.args[0]), where) from None
            except RenderLimitError as exc:
                raise TemplateError(f"refused: {exc}", path=where) from None
            except Exception as exc:  # ValueError, TypeError, MemoryError, OverflowError
                raise TemplateError(f"cannot render: {_describe(exc)}", path=where) from None
        try:
            return render_bounded(self.jinja, values)
        except RenderLimitError as exc:
            raise TemplateError(f"refused: {exc}", path=where) from None
        except jinja2.exceptions.SecurityError as exc:
            raise TemplateError(f"refused by the sandbox: {exc}", path=where) from None
        except jinja2.exceptions.UndefinedError as exc:
            match = _UNDEFINED.search(str(exc))
            if match and match.group(1) not in values:
                raise _missing(match.group(1), where) from None
            raise TemplateError(f"cannot render: {exc}", path=where) from None
        except jinja2.exceptions.TemplateError as exc:
            raise TemplateError(f"cannot render: {exc}", path=where) from None
        except Exception as exc:  # MemoryError, OverflowError, TypeError ... from user code
            raise TemplateError(f"cannot render: {_describe(exc)}", path=where) from None


def _describe(exc: Exception) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _check_spec_sizes(spec: str, where: str, lineno: int) -> None:
    """Refuse a ``{x:>99999999}`` width or precision: it renders that many characters."""
    match = _SPEC_SIZES.match(spec)
    if match is None:
        return
    for group, what in ((match.group(1), "width"), (match.group(2), "precision")):
        if group:
            try:
                check_format_width(int(group), f"the field {what}")
            except RenderLimitError as exc:
                raise TemplateError(f"refused: {exc}", path=where, line=lineno) from None


def _missing(name: str, where: str) -> TemplateError:
    return TemplateError(
        f"variable {name!r} is missing; pass it (--var {name}=...) or declare a default for it",
        path=where,
    )


def compile_template(source: str, syntax: Syntax, where: str) -> CompiledTemplate:
    """Parse ``source``; syntax errors and refused constructs name ``where`` and the line."""
    if syntax == "format":
        for lineno, line in enumerate(source.splitlines() or [""], start=1):
            fields = _format_fields(line)
            if fields is None:
                raise TemplateError(
                    "bad {field} syntax (write literal braces as {{ and }})",
                    path=where,
                    line=lineno,
                )
            for _, _, spec, _ in _formatter.parse(line):
                if spec and "{" not in spec:
                    _check_spec_sizes(spec, where, lineno)
            for field in fields:
                if not field.isidentifier():
                    raise TemplateError(
                        f"field {{{field}}} refused: the format style allows plain variable "
                        "names only",
                        path=where,
                        line=lineno,
                    )
        names = _format_fields(source) or []
        return CompiledTemplate(source, "format", frozenset(names), None)
    try:
        ast = _env.parse(source)
    except jinja2.exceptions.TemplateSyntaxError as exc:
        raise TemplateError(
            f"template syntax error: {exc.message}", path=where, line=exc.lineno
        ) from None
    _refuse_private_access(ast, where)
    referenced = frozenset(meta.find_undeclared_variables(ast))
    return CompiledTemplate(source, "jinja", referenced, _env.from_string(ast))


def warn_extra(extra: set[str], where: str) -> None:
    """Warn about variables that the template neither uses nor declares."""
    names = ", ".join(sorted(extra))
    warnings.warn(
        f"{where}: variable(s) {names} are not used by the template nor declared; ignored",
        PromptVariableWarning,
        stacklevel=3,
    )
