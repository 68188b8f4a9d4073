"""Lab 13: the learner's coding of 30 failing traces, and whether the fix moves the rate."""

from __future__ import annotations

import collections
import csv
import json
from pathlib import Path

from llmlab import InputError
from llmlab.evals import wilson_interval
from llmlab.labs import call_learner, learner_callable, load_learner_module

_HERE = Path(__file__).parent
_MIN_HELD_OUT = 30  # of 60: only a fix for the largest failure category gets there
_MIN_REPAIRED = 0.6


def _traces(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _coding(lab_dir: Path) -> dict[str, str]:
    path = lab_dir / "coding.csv"
    ids = {str(t["id"]) for t in _traces(_HERE.parent / "starter" / "traces.jsonl")}
    coded: dict[str, str] = {}
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputError("the file is missing; `llmlab labs reset 13`", path=path) from None
    rows = csv.reader(text.splitlines())
    for number, row in enumerate(rows, 1):
        if number == 1 or not row:
            continue
        if len(row) != 2:
            raise InputError("expected two columns: id,category", path=path, line=number)
        trace, category = row[0].strip(), row[1].strip()
        if trace not in ids:
            raise InputError(f"no trace {trace!r} in traces.jsonl", path=path, line=number)
        if trace in coded:
            raise InputError(f"trace {trace!r} is coded twice", path=path, line=number)
        coded[trace] = category
    return coded


def expected(lab_dir: Path) -> dict[str, object]:
    """The tool's recount of the learner's own coding."""
    counts = collections.Counter(c for c in _coding(lab_dir).values() if c)
    if not counts:
        return {"largest": "(nothing coded yet)", "largest_count": 0}
    (name, count), *_ = counts.most_common(1)
    return {"largest": name, "largest_count": count}


def _fix(lab_dir: Path):  # type: ignore[no-untyped-def]
    path = lab_dir / "fix.py"
    fn = learner_callable(load_learner_module(path), "postprocess", path)
    return lambda answer: str(call_learner(fn, path, answer))


def check(lab_dir: Path, model: str) -> list[dict[str, object]]:
    coded = _coding(lab_dir)
    visible = _traces(_HERE.parent / "starter" / "traces.jsonl")
    done = sum(1 for c in coded.values() if c)
    counts = collections.Counter(c for c in coded.values() if c)
    results: list[dict[str, object]] = [
        {
            "name": "traces coded",
            "passed": done == len(visible),
            "measured": f"{done}/{len(visible)}",
            "bar": f"needs {len(visible)}/{len(visible)}",
            "distance": f"{len(visible) - done} left",
        },
        {
            "name": "failure categories",
            "passed": len(counts) >= 3 and max(counts.values(), default=0) <= 0.8 * len(visible),
            "measured": ", ".join(f"{name} {n}" for name, n in counts.most_common()) or "none",
            "bar": "needs ≥ 3 categories, none with more than 80% of the traces",
            "distance": "split your codes by what went wrong",
        },
    ]
    fix = _fix(lab_dir)
    largest = counts.most_common(1)[0][0] if counts else None
    target = [t for t in visible if largest is not None and coded.get(str(t["id"])) == largest]
    repaired = sum(1 for t in target if fix(str(t["answer"])).strip() == t["expected"])
    share = repaired / len(target) if target else 0.0
    results.append(
        {
            "name": f"the fix repairs the largest category ({largest or 'none'})",
            "passed": bool(target) and share >= _MIN_REPAIRED,
            "measured": f"{repaired}/{len(target)} traces",
            "bar": f"needs ≥ {_MIN_REPAIRED:.0%}",
            "distance": "fix what most failures have in common first",
        }
    )
    held_out = _traces(_HERE / "traces.jsonl")
    before = sum(1 for t in held_out if str(t["answer"]).strip() == t["expected"])
    after = sum(1 for t in held_out if fix(str(t["answer"])).strip() == t["expected"])
    ci = wilson_interval(after, len(held_out))
    results.append(
        {
            "name": "held-out pass rate with the fix",
            "passed": after >= _MIN_HELD_OUT,
            "measured": f"{before}/{len(held_out)} → {after}/{len(held_out)} = "
            f"{after / len(held_out):.0%} [95% CI {ci.low * 100:.0f}–{ci.high * 100:.0f}%]",
            "bar": f"needs ≥ {_MIN_HELD_OUT}/{len(held_out)}",
            "distance": f"{_MIN_HELD_OUT - after} more cases",
        }
    )
    return results
