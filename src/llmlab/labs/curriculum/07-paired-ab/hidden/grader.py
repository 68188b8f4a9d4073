"""Lab 7: run the learner's release script against a fresh registry, then read what it left.

The store starts with prompt ``ticket-router`` v1 in production. The model is a
recording (``scripted/lab07-recorded``): for each case and prompt version it answers as
``results.csv`` says that version did (right team when 1, a wrong one when 0), so the
learner's comparisons are real eval runs through the real runner, fast and the same
every time. The decisions are checked against llmlab's own paired test
(``compare_runs``) on the learner's runs.
"""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
from pathlib import Path
from typing import Any

import yaml

import llmlab
from llmlab.evals import Comparison, compare_runs, list_runs
from llmlab.labs._learner import call_learner, learner_callable, load_learner_module
from llmlab.models import Request, scripted
from llmlab.prompts import PromptRegistry, PromptVersion
from llmlab.store import Store, using_store

_LAB = Path(__file__).parent.parent
NAME = "ticket-router"
MODEL = "lab07-recorded"
FILES = {label: f"{label}.txt" for label in ("v1", "v2", "v3", "v4")}
TEAMS = ("billing", "shipping", "technical", "account")


def _plain(text: str) -> str:
    return " ".join(text.split())


def _recording() -> dict[str, str]:
    """Rendered prompt (whitespace collapsed) -> the answer that version gave."""
    cases = yaml.safe_load((_LAB / "starter" / "cases.yaml").read_text(encoding="utf-8"))
    with (_LAB / "hidden" / "results.csv").open(newline="") as f:
        results = {row["case"]: row for row in csv.DictReader(f)}
    answers: dict[str, str] = {}
    for label, file in FILES.items():
        version = PromptVersion(template=(_LAB / "starter" / file).read_text(encoding="utf-8"))
        for case in cases:
            request = version.to_request(ticket=case["ticket"])
            text = _plain("\n".join(m.content for m in request.messages))
            right = str(case["team"])
            wrong = TEAMS[(TEAMS.index(right) + 1) % len(TEAMS)]
            answers[text] = right if results[case["id"]][label] == "1" else wrong
    return answers


def _answerer(answers: dict[str, str]) -> Any:
    def answer(request: Request) -> str:
        text = _plain("\n".join(m.content for m in request.messages))
        return answers.get(text, "(a prompt this recording does not know)")

    return answer


def _numbers(registry: PromptRegistry) -> dict[str, int]:
    """Which registered version number holds each lab file's template."""
    by_text = {_plain(str(v.template)): v.version or 0 for v in registry.versions(NAME)}
    found: dict[str, int] = {}
    for label, file in FILES.items():
        number = by_text.get(_plain((_LAB / "starter" / file).read_text(encoding="utf-8")))
        if number:
            found[label] = number
    return found


def _runs(store: Store) -> dict[int, str]:
    """The newest finished eval run of each version of the prompt (as compare leaves them)."""
    newest: dict[int, str] = {}
    for listing in list_runs(limit=200, store=store):  # newest first
        run = listing.run
        head, sep, number = run.name.rpartition(f".{NAME}-v")
        if sep and head and number.isdigit() and run.status == "finished":
            newest.setdefault(int(number), run.id)
    return newest


def _describe(c: Comparison) -> str:
    t = c.primary
    k_a, k_b = round(t.a_mean * t.n), round(t.b_mean * t.n)
    return (
        f"{k_b}/{t.n} vs {k_a}/{t.n}, discordant {t.b_only} vs {t.a_only}, "
        f"p = {t.p_adjusted:.3f} (paired, Holm)"
    )


def _candidate(
    label: str, numbers: dict[str, int], runs: dict[int, str], moves: list[Any], store: Store
) -> dict[str, object]:
    name = f"{label} against v1: promoted if and only if the paired test shows a win"
    if label not in numbers:
        return {"name": name, "passed": False, "measured": f"{FILES[label]} is not registered"}
    number = numbers[label]
    if number not in runs or numbers["v1"] not in runs:
        return {
            "name": name,
            "passed": False,
            "measured": f"no comparison run of {label} and v1 in the store",
            "distance": "compare them on the suite's cases (compare_prompt_versions)",
        }
    c = compare_runs(runs[numbers["v1"]], runs[number], store=store)
    win = c.primary.significant and c.primary.difference.estimate > 0
    promoted = any(m.to_version == number and m.kind != "rollback" for m in moves)
    return {
        "name": name,
        "passed": promoted == win,
        "measured": f"{_describe(c)}: {'a significant win' if win else 'no significant win'}; "
        f"{'promoted' if promoted else 'not promoted'}",
        "bar": "the label follows the test",
        "distance": "promoted without a significant win"
        if promoted
        else "a significant win left unpromoted",
    }


def _rollback(
    numbers: dict[str, int], runs: dict[int, str], moves: list[Any], store: Store
) -> dict[str, object]:
    name = "v4 shipped, measured against v2, rolled back"
    v2, v4 = numbers.get("v2"), numbers.get("v4")
    if v2 is None or v4 is None:
        return {"name": name, "passed": False, "measured": "v2.txt or v4.txt is not registered"}
    shipped = [i for i, m in enumerate(moves) if m.to_version == v4 and m.kind != "rollback"]
    if not shipped:
        return {
            "name": name,
            "passed": False,
            "measured": "production never pointed at v4",
            "distance": "ship v4 as the team did (promote it), then measure it",
        }
    if v2 not in runs or v4 not in runs:
        return {
            "name": name,
            "passed": False,
            "measured": "no comparison run of v4 and v2 in the store",
            "distance": "compare v4 with the version it replaced, on the same cases",
        }
    c = compare_runs(runs[v2], runs[v4], store=store)
    rolled = any(
        m.kind == "rollback" and m.from_version == v4 and m.to_version == v2
        for m in moves[shipped[-1] :]
    )
    return {
        "name": name,
        "passed": c.regression and rolled,
        "measured": f"v4 {_describe(c)}: "
        f"{'a significant regression' if c.regression else 'no significant loss'}; "
        f"{'rolled back to v2' if rolled else 'not rolled back'}",
        "bar": "a significant loss is rolled back (registry rollback)",
        "distance": "roll the production label back (PromptRegistry.rollback)",
    }


def _judge(store: Store) -> list[dict[str, object]]:
    registry = PromptRegistry(store, label_ttl_s=0)
    numbers = _numbers(registry)
    runs = _runs(store)
    moves = registry.history(NAME, "production")
    registered = [label for label in ("v2", "v3", "v4") if label in numbers]
    results: list[dict[str, object]] = [
        {
            "name": "candidates registered as versions of ticket-router",
            "passed": len(registered) == 3,
            "measured": ", ".join(f"{lab} = {NAME}:{numbers[lab]}" for lab in registered) or "none",
            "bar": "needs v2, v3 and v4",
        }
    ]
    results += [_candidate(label, numbers, runs, moves, store) for label in ("v2", "v3")]
    results.append(_rollback(numbers, runs, moves, store))
    production = registry.labels(NAME).get("production")
    want = numbers.get("v2")
    shown = next((lab for lab, n in numbers.items() if n == production), f"v{production}")
    results.append(
        {
            "name": "production label at the end",
            "passed": want is not None and production == want,
            "measured": f"{NAME}@production -> {NAME}:{production} ({shown}); "
            f"{len(moves)} moves in its history",
            "bar": "the best version that passed its test",
        }
    )
    return results


def check(lab_dir: Path, model: str) -> list[dict[str, object]]:
    path = lab_dir / "ab.py"
    answers = _recording()
    with tempfile.TemporaryDirectory(prefix="llmlab-lab07-") as tmp:
        store = llmlab.open(f"sqlite:///{tmp}/registry.db")
        try:
            with using_store(store):
                scripted(MODEL, function=_answerer(answers), store=store)
                v1 = (_LAB / "starter" / FILES["v1"]).read_text(encoding="utf-8")
                PromptRegistry(store).add(NAME, PromptVersion(template=v1), set_active=True)
                # loaded here: a registry made at import time gets this store too
                # what the script prints stays out of the report (and of --json)
                with contextlib.redirect_stdout(io.StringIO()):
                    module = load_learner_module(path)
                    call_learner(learner_callable(module, "main", path), path)
                return _judge(store)
        finally:
            store.close()
