"""Loading datasets: JSONL, CSV, YAML files or inline rows, into ``EvalCase`` lists.

A row is a mapping. Reserved keys: ``id`` (else derived from the content), ``weight``,
``tags`` (a list, or a comma-separated string in CSV), ``expected`` (or
``expected_properties``, a mapping). ``input`` and every other key are template
variables. A malformed line or row is a ``DatasetError`` naming file and line.

Every row is checked before a suite makes its first call: a weight that is not a finite
number >= 0, a string with a lone surrogate (which no database or file can store), or a
value nested deeper than ``MAX_DEPTH`` would otherwise fail only after calls were paid.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from llmlab._errors import DatasetError
from llmlab.evals._case import EvalCase, content_id

__all__ = [
    "MAX_DEPTH",
    "case_from_row",
    "check_values",
    "check_weight",
    "load_dataset",
    "load_rows",
]

_RESERVED = {"id", "weight", "tags", "expected", "expected_properties"}

MAX_DEPTH = 64
"""How deep a row's values may nest (lists and mappings): far beyond any real case, far
below the interpreter's recursion limit that JSON encoding and templates run into."""

_SURROGATE = re.compile("[\ud800-\udfff]")


def check_weight(raw: Any, *, path: str | None = None, line: int | None = None) -> float:
    """``raw`` as a case weight: a finite number >= 0 (None or "" mean 1.0).

    Raises:
        DatasetError: anything else (``"nan"``, ``inf``, ``-1``, ``true``, ``"heavy"``).
    """
    if raw is None or raw == "":
        return 1.0
    weight: float | None = None
    if not isinstance(raw, bool):
        try:
            weight = float(raw)
        except (TypeError, ValueError, OverflowError):
            weight = None
    if weight is None or not math.isfinite(weight) or weight < 0:
        raise DatasetError(
            f"'weight' must be a finite number >= 0, not {_shown(raw)}", path=path, line=line
        )
    return weight


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_values(row: Any, *, path: str | None, line: int | None) -> None:
    """Refuse lone surrogates and nesting deeper than ``MAX_DEPTH`` (iteratively: a
    recursive walk would itself overflow on the rows it must refuse)."""
    stack: list[tuple[Any, int]] = [(row, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value, path=path, line=line)
        elif isinstance(value, Mapping | list | tuple):
            if depth >= MAX_DEPTH:
                raise DatasetError(
                    f"values nested more than {MAX_DEPTH} levels deep; flatten the case",
                    path=path,
                    line=line,
                )
            items = value.items() if isinstance(value, Mapping) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _check_text(key, path=path, line=line)
                stack.append((item, depth + 1))


def _check_text(text: str, *, path: str | None, line: int | None) -> None:
    found = _SURROGATE.search(text)
    if found is not None:
        raise DatasetError(
            f"a string holds a lone surrogate (\\u{ord(found.group()):04x}), which is not "
            "text; fix the escape in the file",
            path=path,
            line=line,
        )


def _tags(value: Any, where: tuple[str | None, int | None]) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(t.strip() for t in value.split(",") if t.strip())
    if isinstance(value, list):
        return tuple(str(t) for t in value)
    raise DatasetError(
        f"'tags' must be a list or a comma-separated string, not {type(value).__name__}",
        path=where[0],
        line=where[1],
    )


def case_from_row(
    row: Mapping[str, Any], *, path: str | None = None, line: int | None = None
) -> EvalCase:
    """Turn one dataset row into an ``EvalCase``."""
    if not isinstance(row, Mapping):
        raise DatasetError(
            f"each case must be a mapping of field names to values, not {type(row).__name__}",
            path=path,
            line=line,
        )
    expected = row.get("expected", row.get("expected_properties", {}))
    if expected is None or expected == "":
        expected = {}
    if not isinstance(expected, Mapping):
        raise DatasetError(
            "'expected' must be a mapping (e.g. {\"key_terms\": [...]}); put a single "
            "target in its own field such as 'target'",
            path=path,
            line=line,
        )
    check_values(row, path=path, line=line)
    weight = check_weight(row.get("weight", 1.0), path=path, line=line)
    fields = {k: v for k, v in row.items() if k not in _RESERVED}
    raw_id = row.get("id")
    case_id = str(raw_id) if raw_id not in (None, "") else content_id(dict(row))
    return EvalCase(
        input=fields.get("input", ""),
        expected_properties=dict(expected),
        weight=weight,
        id=case_id,
        tags=_tags(row.get("tags"), (path, line)),
        fields={k: v for k, v in fields.items() if k != "input"},
        source=(path, line) if path is not None else None,
    )


def _jsonl_rows(path: Path) -> Iterable[tuple[int, Any]]:
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                yield number, json.loads(text)
            except RecursionError:
                raise _too_deep(path, number) from None
            except json.JSONDecodeError as exc:
                raise DatasetError(
                    f"not valid JSON ({exc.msg} at column {exc.colno}); each line must be one "
                    "JSON object",
                    path=path,
                    line=number,
                ) from None


def _csv_rows(path: Path) -> Iterable[tuple[int, Any]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise DatasetError("the CSV file has no header row", path=path, line=1)
        width = len(reader.fieldnames)
        start = reader.line_num + 1
        try:
            for row in reader:
                if None in row or any(v is None for v in row.values()):
                    more = "more" if None in row else "fewer"
                    raise DatasetError(
                        f"the row has {more} values than the header's {width} columns",
                        path=path,
                        line=start,
                    )
                yield start, dict(row)
                start = reader.line_num + 1
        except csv.Error as exc:
            raise DatasetError(f"malformed CSV: {exc}", path=path, line=reader.line_num) from None


def _yaml_rows(path: Path) -> Iterable[tuple[int, Any]]:
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except RecursionError:
        raise _too_deep(path, None) from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise DatasetError(f"malformed YAML: {exc.problem}", path=path, line=line) from None
    if isinstance(data, Mapping) and "cases" in data:
        data = data["cases"]
        assert node is not None
        node = next(v for k, v in node.value if k.value == "cases")
    if data is None:
        return
    if not isinstance(data, list) or node is None:
        raise DatasetError("a YAML dataset must be a list of cases (or 'cases: [...]')", path=path)
    for item, item_node in zip(data, node.value, strict=True):
        yield item_node.start_mark.line + 1, item


def _too_deep(path: Path, line: int | None) -> DatasetError:
    return DatasetError(
        f"values nested more than {MAX_DEPTH} levels deep; flatten the case", path=path, line=line
    )


def _undecodable(file: Path, exc: UnicodeDecodeError) -> DatasetError:
    line = None
    with file.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                line = number
                break
    return DatasetError(
        f"not UTF-8 text ({exc.reason}); save the file as UTF-8", path=file, line=line
    )


def load_rows(path: str | Path) -> list[tuple[int, Any]]:
    """The raw rows of a dataset file with their line numbers."""
    file = Path(path)
    if not file.is_file():
        raise DatasetError(
            "dataset file not found; check the path (relative to the suite file)", path=file
        )
    try:
        return _load_rows(file)
    except UnicodeDecodeError as exc:
        raise _undecodable(file, exc) from None


def _load_rows(file: Path) -> list[tuple[int, Any]]:
    suffix = file.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return list(_jsonl_rows(file))
    if suffix == ".csv":
        return list(_csv_rows(file))
    if suffix in (".yaml", ".yml"):
        return list(_yaml_rows(file))
    if suffix == ".json":
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except RecursionError:
            raise _too_deep(file, None) from None
        except json.JSONDecodeError as exc:
            raise DatasetError(f"not valid JSON: {exc.msg}", path=file, line=exc.lineno) from None
        if not isinstance(data, list):
            raise DatasetError("a JSON dataset must be a list of cases", path=file)
        return [(0, row) for row in data]
    raise DatasetError(
        f"unknown dataset format {suffix!r}; use .jsonl, .csv, .yaml or .json", path=file
    )


def _check_unique(cases: Sequence[EvalCase], lines: Sequence[int | None], path: str | None) -> None:
    seen: dict[str, int | None] = {}
    for case, line in zip(cases, lines, strict=True):
        if case.id in seen:
            first = seen[case.id]
            at = f" (first at line {first})" if first else ""
            raise DatasetError(
                f"duplicate case id {case.id!r}{at}; ids must be unique", path=path, line=line
            )
        seen[case.id] = line


def load_dataset(source: str | Path | Sequence[Mapping[str, Any] | EvalCase]) -> list[EvalCase]:
    """Load cases from a file path (JSONL, CSV, YAML, JSON) or a list of rows or cases."""
    if isinstance(source, str | Path):
        path = str(source)
        rows = load_rows(source)
        cases = [case_from_row(row, path=path, line=line or None) for line, row in rows]
        _check_unique(cases, [line or None for line, _ in rows], path)
        return cases
    cases = [
        item if isinstance(item, EvalCase) else case_from_row(item, path="<inline>", line=index)
        for index, item in enumerate(source, start=1)
    ]
    _check_unique(cases, list(range(1, len(cases) + 1)), "<inline>")
    return cases
