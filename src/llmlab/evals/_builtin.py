"""Built-in scorers: exact, includes, regex, JSON (valid + schema), length, key terms."""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Literal

from llmlab.evals._score import Score, TemplatedScorer

__all__ = ["Exact", "Includes", "JsonValid", "KeyTerms", "Length", "Regex"]

_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(?P<body>.*?)\n?```\s*$", re.DOTALL)


def _as_bool(score: bool, explanation: str) -> Score:
    return Score(value=1.0 if score else 0.0, explanation="" if score else explanation)


class Exact(TemplatedScorer):
    """The output equals ``value`` (stripped of surrounding whitespace by default)."""

    name = "exact"

    def __init__(self, value: Any, *, case_sensitive: bool = True, strip: bool = True) -> None:
        super().__init__(value=value, case_sensitive=case_sensitive, strip=strip)

    def check(self, output: str, **p: Any) -> Score:
        want, got = str(p["value"]), output
        if p["strip"]:
            want, got = want.strip(), got.strip()
        if not p["case_sensitive"]:
            want, got = want.casefold(), got.casefold()
        return _as_bool(want == got, f"expected exactly {want!r}")


class Includes(TemplatedScorer):
    """The output contains ``value`` (one string, or a list: ``mode`` any or all)."""

    name = "includes"

    def __init__(
        self,
        value: Any,
        *,
        mode: Literal["any", "all"] = "any",
        case_sensitive: bool = True,
    ) -> None:
        if mode not in ("any", "all"):
            raise ValueError(f"includes: mode must be 'any' or 'all', not {mode!r}")
        super().__init__(value=value, mode=mode, case_sensitive=case_sensitive)

    def check(self, output: str, **p: Any) -> Score:
        value = p["value"]
        needles = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
        if not p["case_sensitive"]:
            output = output.casefold()
            needles = [n.casefold() for n in needles]
        found = [n in output for n in needles]
        ok = all(found) if p["mode"] == "all" else any(found)
        missing = [n for n, f in zip(needles, found, strict=True) if not f]
        return _as_bool(ok, f"missing {missing!r}")


@functools.lru_cache(maxsize=256)
def _regex(pattern: str, flags: str) -> re.Pattern[str]:
    value = 0
    for flag in flags:
        value |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}[flag]
    return re.compile(pattern, value)


class Regex(TemplatedScorer):
    """The output matches ``pattern`` (searched anywhere, or the whole of it)."""

    name = "regex"

    def __init__(self, pattern: Any, *, flags: str = "", fullmatch: bool = False) -> None:
        if set(flags) - set("imsx"):
            raise ValueError(f"regex: flags may hold i, m, s, x, not {flags!r}")
        super().__init__(pattern=pattern, flags=flags, fullmatch=fullmatch)
        if "pattern" not in self._templated:  # a fixed pattern that cannot compile is a typo
            try:
                _regex(str(pattern), flags)
            except re.error as exc:
                raise ValueError(f"regex {pattern!r} does not compile: {exc}") from None

    def check(self, output: str, **p: Any) -> Score:
        try:
            compiled = _regex(str(p["pattern"]), p["flags"])
        except re.error as exc:
            return Score.error(f"regex {p['pattern']!r} does not compile: {exc}")
        match = compiled.fullmatch(output) if p["fullmatch"] else compiled.search(output)
        return _as_bool(match is not None, f"no match for {p['pattern']!r}")


class JsonValid(TemplatedScorer):
    """The output is JSON (a fenced ```json block is accepted) and matches ``schema``."""

    name = "json"

    def __init__(self, schema: Any = None) -> None:
        if isinstance(schema, dict):
            # Lazy: jsonschema (~0.07 s to import) only for suites with a schema scorer.
            import jsonschema

            try:
                jsonschema.validators.validator_for(schema).check_schema(schema)
            except jsonschema.exceptions.SchemaError as exc:
                where = "/".join(str(part) for part in exc.absolute_path) or "(root)"
                raise ValueError(f"invalid JSON Schema at {where}: {exc.message}") from None
        super().__init__(schema=schema)

    def check(self, output: str, **p: Any) -> Score:
        fenced = _FENCE.match(output)
        text = fenced.group("body") if fenced else output
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return Score(value=0.0, explanation=f"not JSON: {exc.msg}")
        schema = p["schema"]
        if isinstance(schema, dict):
            import jsonschema  # already loaded by __init__

            error = jsonschema.exceptions.best_match(
                jsonschema.validators.validator_for(schema)(schema).iter_errors(data)
            )
            if error is not None:
                path = "/".join(str(part) for part in error.absolute_path) or "(root)"
                return Score(value=0.0, explanation=f"schema: {path}: {error.message}")
        return Score(value=1.0)


class Length(TemplatedScorer):
    """The output's length (characters or words) lies within ``min`` and ``max``."""

    name = "length"

    def __init__(
        self,
        *,
        min: Any = None,  # noqa: A002  (the YAML spelling)
        max: Any = None,  # noqa: A002
        unit: Literal["chars", "words"] = "chars",
    ) -> None:
        if unit not in ("chars", "words"):
            raise ValueError(f"length: unit must be 'chars' or 'words', not {unit!r}")
        super().__init__(min=min, max=max, unit=unit)

    def check(self, output: str, **p: Any) -> Score:
        size = len(output.split()) if p["unit"] == "words" else len(output)
        low = None if p["min"] is None else int(p["min"])
        high = None if p["max"] is None else int(p["max"])
        ok = (low is None or size >= low) and (high is None or size <= high)
        return _as_bool(ok, f"length {size} {p['unit']} not in [{low}, {high}]")


class KeyTerms(TemplatedScorer):
    """The fraction of ``terms`` the output contains (case-insensitive by default)."""

    name = "key_terms"

    def __init__(self, terms: Any, *, case_sensitive: bool = False) -> None:
        super().__init__(terms=terms, case_sensitive=case_sensitive)

    def check(self, output: str, **p: Any) -> Score:
        terms = p["terms"]
        if isinstance(terms, str):
            terms = [t.strip() for t in terms.split(",") if t.strip()]
        terms = [str(t) for t in terms]
        if not terms:
            return Score.error("key_terms: no terms given")
        haystack = output if p["case_sensitive"] else output.lower()
        present = [t for t in terms if (t if p["case_sensitive"] else t.lower()) in haystack]
        missing = [t for t in terms if t not in present]
        return Score(
            value=len(present) / len(terms),
            explanation=f"missing {missing!r}" if missing else "",
        )
