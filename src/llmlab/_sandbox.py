"""Limits on what a template may produce, shared by every renderer of llmlab.

Prompts (``llmlab.prompts``) and eval suites (``llmlab.evals``) render user templates in a
Jinja2 sandbox, which stops escapes to Python internals but not a template that builds a
huge value (``{{ 'x' * 10**10 }}``) or loops for minutes. :class:`BoundedSandbox` refuses
such values before they are built and checks a deadline as the template runs; each
renderer bounds the length of what it returns with :func:`check_output`. Both renderers
live above this module, so neither imports the other.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from jinja2 import Template, nodes, pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

__all__ = [
    "MAX_OUTPUT_CHARS",
    "MAX_RENDER_SECONDS",
    "BoundedSandbox",
    "RenderLimitError",
    "check_output",
    "check_format_width",
    "render_bounded",
    "render_deadline",
]

MAX_OUTPUT_CHARS = 1_000_000
"""The longest text (or list) a template may produce: far above any prompt."""
MAX_RENDER_SECONDS = 2.0
"""The longest a template may take to render."""
_MAX_INT_BITS = 100_000  # ints beyond ~30,000 digits: only a bomb needs them
_PERCENT_WIDTH = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_SIZED_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})

_state = threading.local()


class RenderLimitError(SecurityError):
    """A template passed a size or time limit (a ``SecurityError``, so renderers that
    report the sandbox's refusals report this too)."""


def _too_long(length: int) -> RenderLimitError:
    return RenderLimitError(
        f"the template would produce {length:,} characters or items, more than the "
        f"{MAX_OUTPUT_CHARS:,} allowed"
    )


def check_output(value: Any) -> Any:
    """``value``, unless it is text or a collection longer than :data:`MAX_OUTPUT_CHARS`."""
    if isinstance(value, str | bytes | list | tuple | dict | set) and (
        len(value) > MAX_OUTPUT_CHARS
    ):
        raise _too_long(len(value))
    return value


def render_bounded(template: Template, values: Mapping[str, Any]) -> str:
    """``template`` rendered with ``values`` within the size and time limits.

    The text is built piece by piece, so a loop that writes too much stops at the limit
    instead of after building all of it.
    """
    with render_deadline():
        pieces: list[str] = []
        length = 0
        for piece in template.generate(values):
            length += len(piece)
            check_output_length(length)
            pieces.append(piece)
        return "".join(pieces)


def check_format_width(width: int, what: str) -> None:
    """Refuse a padding width or precision past :data:`MAX_OUTPUT_CHARS`."""
    if width > MAX_OUTPUT_CHARS:
        raise RenderLimitError(
            f"{what} {width:,} is more than the {MAX_OUTPUT_CHARS:,} characters a template "
            "may produce"
        )


class render_deadline:  # noqa: N801 - used as a context manager, like a function
    """Within this block, the sandbox raises once :data:`MAX_RENDER_SECONDS` have passed."""

    def __enter__(self) -> None:
        self._outer = getattr(_state, "deadline", None)
        if self._outer is None:
            _state.deadline = time.monotonic() + MAX_RENDER_SECONDS

    def __exit__(self, *exc: object) -> None:
        _state.deadline = self._outer


def _check_deadline() -> None:
    deadline = getattr(_state, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise RenderLimitError(
            f"the template ran longer than {MAX_RENDER_SECONDS:g} s; simplify its loops"
        )


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            size = _length(seq)
            if size is not None and isinstance(count, int) and size * count > MAX_OUTPUT_CHARS:
                raise _too_long(size * count)
        if (
            isinstance(left, int)
            and isinstance(right, int)
            and left.bit_length() + right.bit_length() > _MAX_INT_BITS
        ):
            raise RenderLimitError("the template multiplies numbers too large to compute")
    elif operator == "**":
        if (
            isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and right > 0
            and left.bit_length() * right > _MAX_INT_BITS
        ):
            raise RenderLimitError(f"{left} ** {right} is too large to compute in a template")
    elif operator == "+":
        sizes = (_length(left), _length(right))
        if sizes[0] is not None and sizes[1] is not None:
            check_output_length(sizes[0] + sizes[1])
    elif operator == "%" and isinstance(left, str):
        _check_percent_format(left)


def check_output_length(length: int) -> None:
    """Refuse a value of ``length`` characters or items before it is built."""
    if length > MAX_OUTPUT_CHARS:
        raise _too_long(length)


def _check_percent_format(text: str) -> None:
    for match in _PERCENT_WIDTH.finditer(text):
        for group in match.groups():
            if group == "*":
                raise RenderLimitError("'*' widths in %-formatting are refused in templates")
            if group is not None:
                check_format_width(int(group), "a %-format width")


def _bounded_range(*args: int) -> Iterator[int]:
    # The sandbox already refuses ranges past 100,000 items; nested loops over them
    # still multiply, so each step checks the deadline.
    for index, value in enumerate(safe_range(*args)):
        if index % 1024 == 0:
            _check_deadline()
        yield value


def _deadline_loop(items: Iterable[Any]) -> Iterator[Any]:
    # What every {% for %} loops over: a loop over a large data list does nothing the
    # sandbox sees (no call, no operator, an empty body), so the loop checks the deadline.
    for index, item in enumerate(items):
        if index % 1024 == 0:
            _check_deadline()
        yield item


_DEADLINE_LOOP = "llmlab_deadline_loop"


def _with_deadline_loops(source: nodes.Template) -> nodes.Template:
    """``source`` with each ``for`` loop's iterable passed through :func:`_deadline_loop`."""
    for loop in source.find_all(nodes.For):
        if not (isinstance(loop.iter, nodes.Filter) and loop.iter.name == _DEADLINE_LOOP):
            loop.iter = nodes.Filter(
                loop.iter, _DEADLINE_LOOP, [], [], None, None, lineno=loop.iter.lineno
            )
    return source


def _sized_filter(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """A size-making filter (center, indent, format ...) with its arguments checked first."""

    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_deadline()
        if name == "format" and isinstance(value, str):
            _check_percent_format(value)
        for arg in (*args, *kwargs.values()):
            if isinstance(arg, int) and not isinstance(arg, bool):
                check_format_width(abs(arg), f"the {name} filter's argument")
        if name == "indent" and args and isinstance(args[0], int) and isinstance(value, str):
            check_output_length(len(value) + (value.count("\n") + 1) * args[0])
        if name == "replace" and len(args) >= 2 and isinstance(value, str):
            grown = value.count(str(args[0])) * len(str(args[1]))
            check_output_length(len(value) + grown)
        return check_output(original(value, *args, **kwargs))

    bounded.__name__ = original.__name__
    return bounded


def _sized_eval_filter(original: Callable[..., Any]) -> Callable[..., Any]:
    # join takes the eval context first: keep that calling convention.
    @pass_eval_context
    def bounded(eval_ctx: EvalContext, value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_deadline()
        items = list(value)
        check_output_length(sum(len(str(item)) for item in items))
        return check_output(original(eval_ctx, items, *args, **kwargs))

    return bounded


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, refusing values past :data:`MAX_OUTPUT_CHARS` before they
    are built and templates that run past their :func:`render_deadline`."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _bounded_range
        for name in ("center", "indent", "format", "replace", "wordwrap", "truncate"):
            self.filters[name] = _sized_filter(name, self.filters[name])
        self.filters["join"] = _sized_eval_filter(self.filters["join"])
        self.filters[_DEADLINE_LOOP] = _deadline_loop

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        # Jinja's hook for changing what a template compiles to: each loop gets a deadline.
        return super()._generate(_with_deadline_loops(source), name, filename, defer_init)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _check_deadline()
        _check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(
        __self,  # noqa: N805 - jinja's own signature, so that no keyword can clash
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        _check_deadline()
        name = getattr(__obj, "__name__", "")
        if isinstance(getattr(__obj, "__self__", None), str):
            if name in _SIZED_METHODS:
                for arg in args:
                    if isinstance(arg, int):
                        check_format_width(arg, f"str.{name}'s width")
            elif name in ("format", "format_map"):
                raise RenderLimitError("str.format is refused in templates; use the format filter")
            elif name == "join" and args:
                items = list(args[0])
                check_output_length(sum(len(str(item)) for item in items))
                args = (items, *args[1:])
            elif name == "replace" and len(args) >= 2:
                text = __obj.__self__
                check_output_length(len(text) + text.count(str(args[0])) * len(str(args[1])))
        return check_output(super().call(__context, __obj, *args, **kwargs))
