#!/usr/bin/env python3
"""Benchmark: prompt resolution from the in-process cache, rendering, arm assignment.

Run from the repository root::

    .venv/bin/python bench/bench_prompts.py          # SQLite in a temporary folder
    .venv/bin/python bench/bench_prompts.py --json   # machine-readable

Goals (issue 4): resolving ``name@production`` from the cache <= 20 us; rendering a typical
template <= 50 us; assigning a unit to an experiment arm <= 10 us. Each figure is the
median of several timed rounds of many calls (per call), after a warm-up.
Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from llmlab.prompts import (  # noqa: E402
    Experiments,
    PromptRegistry,
    PromptVersion,
    assign,
)
from llmlab.store import Store, using_store  # noqa: E402

TYPICAL = """\
You are a support assistant for {{ product }}.
Answer the customer's question in a {{ tone }} tone, in at most {{ max_words }} words.
{% if context %}Use only this context:
{% for doc in context %}- {{ doc.title }}: {{ doc.text }}
{% endfor %}{% endif %}
Question: {{ question }}
"""

CONTEXT = [
    {"title": "Refunds", "text": "Refunds are issued within 14 days of purchase."},
    {"title": "Shipping", "text": "Orders ship within two business days."},
    {"title": "Support", "text": "Support is available 9-17 CET on weekdays."},
]


def per_call_us(fn: Callable[[], object], n: int, rounds: int = 7) -> float:
    """Median over rounds of the mean time per call, in microseconds."""
    for _ in range(min(n, 1000)):
        fn()
    results = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        results.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="calls per round")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        Store(str(Path(tmp) / "bench.db")) as store,
        using_store(store),  # assign() below uses the default handle, as a user's code would
    ):
        registry = PromptRegistry(store)
        registry.register("support", PromptVersion("Old: {{ question }}"), set_active=True)
        typical = registry.register("support", PromptVersion(TYPICAL, {"tone": "friendly"}))
        registry.promote("support", typical.version or 0)
        Experiments(store).create(
            "support-tone", "support", {"control": 1, "new": 2}, {"control": 9, "new": 1}
        )
        assert registry.get("support@production").version == 2
        units = [f"user-{i}" for i in range(args.n)]
        it = iter(units * 100)
        values = {
            "product": "Acme Cloud",
            "max_words": 80,
            "context": CONTEXT,
            "question": "How long does a refund take?",
        }
        plain = PromptVersion("Summarize in {words} words: {text}")
        figures = {
            "resolve name@production (cached)": (
                per_call_us(lambda: registry.get("support@production"), args.n),
                20.0,
            ),
            "resolve name (production, cached)": (
                per_call_us(lambda: registry.get("support"), args.n),
                20.0,
            ),
            "render typical Jinja template": (
                per_call_us(lambda: typical.render(**values), args.n),
                50.0,
            ),
            "render {var} format template": (
                per_call_us(lambda: plain.render(words=50, text="some text"), args.n),
                50.0,
            ),
            "assign(experiment, unit)": (
                per_call_us(lambda: assign("support-tone", next(it)), args.n),
                10.0,
            ),
        }
    if args.json:
        print(json.dumps({k: {"us": round(v, 2), "goal_us": g} for k, (v, g) in figures.items()}))
        return 0
    print("| operation | per call | goal | met |")
    print("|---|---:|---:|:---:|")
    for name, (value, goal) in figures.items():
        print(f"| {name} | {value:.2f} µs | ≤ {goal:.0f} µs | {'yes' if value <= goal else 'NO'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
