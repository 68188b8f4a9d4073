"""Runs with a scripted answerer and a scripted judge, for the calibration tests.

The answerer answers case ``i`` with ``right`` or ``wrong`` (``wrong_cases``); the judge
reads the answer and passes it, except where it is told to err: ``judge_misses`` (right
answers it fails) and ``judge_false_passes`` (wrong answers it passes).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

from llmlab.evals import EvalRun, load_suite, run_eval
from llmlab.models import Request, scripted

JUDGE_SUITE = """\
name: {name}
prompt: "Q{{{{ id }}}}: {{{{ input }}}}"
dataset: cases.jsonl
judge_model: scripted/{judge}
scorers:
  - judge: "Is the answer right?"
{extra}"""


def _case_of(request: Request) -> str:
    text = request.messages[-1].content
    return text.split("Q", 1)[1].split(":", 1)[0]


def write_judge_suite(folder: Path, n: int, *, name: str, judge: str, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "cases.jsonl").open("w") as handle:
        for i in range(n):
            handle.write(json.dumps({"id": str(i), "input": f"question {i}"}) + "\n")
    path = folder / "suite.yaml"
    path.write_text(JUDGE_SUITE.format(name=name, judge=judge, extra=extra))
    return path


def answerer(name: str, wrong_cases: Iterable[int]) -> None:
    wrong = {str(i) for i in wrong_cases}

    def reply(request: Request) -> str:
        case = _case_of(request)
        return f"answer {case} " + ("wrong" if case in wrong else "right")

    scripted(name, function=reply)


def judge(
    name: str,
    *,
    misses: Iterable[int] = (),
    false_passes: Iterable[int] = (),
    unparsable: Iterable[int] = (),
    reply: Callable[[str, bool], str] | None = None,
) -> None:
    """A judge that reads ``answer <case> right|wrong`` in its prompt."""
    miss = {str(i) for i in misses}
    fake = {str(i) for i in false_passes}
    broken = {str(i) for i in unparsable}

    def verdict(request: Request) -> str:
        text = request.messages[-1].content
        answer = text.split("[The assistant's answer]", 1)[1].split("[Rubric]", 1)[0].split()
        case, right = answer[1], answer[2] == "right"
        if reply is not None:
            return reply(case, right)
        if case in broken:
            return "I cannot decide"
        passed = (right and case not in miss) or (not right and case in fake)
        return json.dumps({"reasoning": "checked", "score": 1 if passed else 0})

    scripted(name, function=verdict)


async def judged_run(
    folder: Path,
    n: int,
    *,
    name: str,
    wrong: Iterable[int] = (),
    misses: Iterable[int] = (),
    false_passes: Iterable[int] = (),
    unparsable: Iterable[int] = (),
    extra: str = "",
) -> EvalRun:
    """Run a judged suite of ``n`` cases; the answerer and judge are named after ``name``."""
    answerer(f"{name}-answer", wrong)
    judge(f"{name}-judge", misses=misses, false_passes=false_passes, unparsable=unparsable)
    suite = load_suite(write_judge_suite(folder, n, name=name, judge=f"{name}-judge", extra=extra))
    return await run_eval(suite, model=f"scripted/{name}-answer", cache=False)
