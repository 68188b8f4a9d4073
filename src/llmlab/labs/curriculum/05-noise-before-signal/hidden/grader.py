"""Lab 5: the tool's recomputation from the recorded samples, and the gate's stability."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

from llmlab.evals import flip_rate, pass_at_k, pass_hat_k

_SAMPLES = Path(__file__).parent.parent / "starter" / "samples.jsonl"
_STABLE = 0.95  # the gate must give the same verdict at least this often
_MAX_TRIALS = 10


def _outcomes(case: str, mode: str) -> list[bool]:
    rows = [json.loads(line) for line in _SAMPLES.read_text().splitlines() if line.strip()]
    return [bool(r["passed"]) for r in rows if r["case"] == case and r["mode"] == mode]


def expected(lab_dir: Path) -> dict[str, object]:
    hot, greedy = _outcomes("france", "hot"), _outcomes("france", "greedy")
    n, c = len(hot), sum(hot)
    return {
        "france_hot_pass_rate": c / n,
        "france_hot_flip_rate": flip_rate(hot),
        "france_greedy_flip_rate": flip_rate(greedy),
        "france_pass_at_3": pass_at_k(n, c, 3),
        "france_pass_hat_3": pass_hat_k(n, c, 3),
    }


def _gate_pass_probability(p: float, trials: int, threshold: int) -> float:
    return sum(
        math.comb(trials, k) * p**k * (1 - p) ** (trials - k) for k in range(threshold, trials + 1)
    )


def check(lab_dir: Path, model: str) -> list[dict[str, object]]:
    answers = tomllib.loads((lab_dir / "answers.toml").read_text())
    trials, threshold = answers.get("trials"), answers.get("threshold")
    if not isinstance(trials, int) or not isinstance(threshold, int):
        return [
            {
                "name": "gate",
                "passed": False,
                "measured": "trials and threshold unset",
                "bar": "set both as whole numbers in answers.toml",
            }
        ]
    if not 1 <= threshold <= trials:
        return [
            {
                "name": "gate",
                "passed": False,
                "measured": f"{threshold} of {trials}",
                "bar": "needs 1 ≤ threshold ≤ trials",
            }
        ]
    cases = sorted({json.loads(line)["case"] for line in _SAMPLES.read_text().splitlines() if line})
    results: list[dict[str, object]] = [
        {
            "name": "trials per case",
            "passed": trials <= _MAX_TRIALS,
            "measured": f"{trials} (gate: ≥ {threshold} of {trials} pass)",
            "bar": f"needs ≤ {_MAX_TRIALS} (each trial is a call)",
        }
    ]
    for case in cases:
        hot = _outcomes(case, "hot")
        p = sum(hot) / len(hot)
        gate = _gate_pass_probability(p, trials, threshold)
        if 0.2 < p < 0.8:
            results.append(
                {
                    "name": f"gate on {case} (p = {p:.2f}, too noisy to call)",
                    "passed": True,
                    "gating": False,
                    "measured": f"passes {gate:.1%} of CI runs",
                }
            )
            continue
        good = p >= 0.8
        same = gate if good else 1 - gate
        verdict = "passes" if good else "fails"
        results.append(
            {
                "name": f"gate on {case} (p = {p:.2f}: should {'pass' if good else 'fail'})",
                "passed": same >= _STABLE,
                "measured": f"{verdict} {same:.1%} of CI runs",
                "bar": f"needs ≥ {_STABLE:.0%}",
                "distance": "more trials, or move the threshold",
            }
        )
    return results
