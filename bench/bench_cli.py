"""CLI start-up and ``llmlab run`` overhead, in CPU seconds (user + system) per command.

Each command runs ``--runs`` times in a fresh interpreter; the CPU of those children is
read from ``getrusage(RUSAGE_CHILDREN)``, so the machine's other load changes the figures
little (wall time would). Goals (issue 8): ``llmlab --help`` and ``llmlab --version``
within 10x a bare ``python -c pass``; ``llmlab run`` on a hosted model at most 0.3 s CPU
more than the same call made by a bare script with the official OpenAI SDK, both against
the local wire server (which runs in this process, so its CPU is not counted).

Reproduce (from the repository root)::

    PYTHONPATH=src .venv/bin/python bench/bench_cli.py            # 10 runs each
    PYTHONPATH=src .venv/bin/python bench/bench_cli.py --runs 20 --importtime
    # before/after: `llmlab run` from another checkout's src/, interleaved with this one
    # and the bare script in one loop (same load), against one wire server and database
    PYTHONPATH=src .venv/bin/python bench/bench_cli.py --runs 10 --compare ../main/src
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

_BARE_SDK = """
import sys
import openai
client = openai.OpenAI(base_url=sys.argv[1], api_key="sk-bench")
stream = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "hi"}],
    stream=True,
    stream_options={"include_usage": True},
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        sys.stdout.write(chunk.choices[0].delta.content)
print()
"""


def _cpu(command: list[str], env: dict[str, str], runs: int) -> float:
    """Mean CPU seconds (user + system) of ``command`` over ``runs`` fresh processes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(runs):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise SystemExit(f"{command} failed ({result.returncode}): {result.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return used / runs


def _cpu_of(command: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + system) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise SystemExit(f"{command} failed ({result.returncode}): {result.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _compare(other_src: str, python: str, env: dict[str, str], base_url: str, runs: int) -> None:
    """``llmlab run`` from ``other_src`` and from this checkout, and the bare SDK script,
    one after the other in each round, so that all three see the same load."""
    here = os.pathsep.join(p for p in sys.path if p)
    there = os.pathsep.join([str(Path(other_src).resolve()), here])
    run = [python, "-m", "llmlab", "run", "hi", "-m", "openai/gpt-4o-mini"]
    variants = {
        "bare OpenAI SDK script": ([python, "-c", _BARE_SDK, base_url], here),
        f"llmlab run, {other_src}": (run, there),
        "llmlab run, this checkout": (run, here),
    }
    totals = dict.fromkeys(variants, 0.0)
    for _ in range(runs):
        for label, (command, path) in variants.items():
            totals[label] += _cpu_of(command, {**env, "PYTHONPATH": path})
    means = {label: total / runs for label, total in totals.items()}
    bare = means["bare OpenAI SDK script"]
    print(f"interleaved, {runs} rounds, CPU per run (user + sys)\n")
    print(f"| {'command':<40} | {'CPU s':>6} | {'over bare':>9} |")
    print(f"|{'-' * 42}|{'-' * 8}|{'-' * 11}|")
    for label, value in means.items():
        over = f"{value - bare:+.3f}" if value != bare else ""
        print(f"| {label:<40} | {value:6.3f} | {over:>9} |")


def _top_imports(command: list[str], env: dict[str, str], count: int = 12) -> list[str]:
    """The heaviest top-level imports of one run (``-X importtime``, cumulative µs)."""
    result = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    rows: list[tuple[int, str]] = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        if cumulative.isdigit() and not name.startswith(" ") and "." not in name.strip():
            rows.append((int(cumulative), name.strip()))
    rows.sort(reverse=True)
    return [f"{name} {us / 1000:.0f} ms" for us, name in rows[:count]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--importtime", action="store_true", help="show what `run` imports")
    parser.add_argument(
        "--compare",
        metavar="SRC",
        help="only compare `llmlab run` from another checkout's src/ with this one",
    )
    args = parser.parse_args()

    from llmlab.testing._server import WireServer

    python = sys.executable
    llmlab = [python, "-m", "llmlab"]
    with tempfile.TemporaryDirectory() as folder, WireServer() as server:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
            "LLMLAB_DB": str(Path(folder) / "bench.db"),
            "OPENAI_BASE_URL": server.openai_base_url,
            "OPENAI_API_KEY": "sk-bench",
        }
        # Create and migrate the database once, as a user's second command would find it.
        subprocess.run([*llmlab, "db", "upgrade"], env=env, check=True, capture_output=True)
        if args.compare:
            _compare(args.compare, python, env, server.openai_base_url, args.runs)
            return
        cases: list[tuple[str, list[str]]] = [
            ("python -c pass", [python, "-c", "pass"]),
            ("llmlab --version", [*llmlab, "--version"]),
            ("llmlab --help", [*llmlab, "--help"]),
            ("llmlab db --help", [*llmlab, "db", "--help"]),
            ("llmlab db current", [*llmlab, "db", "current"]),
            (
                "bare OpenAI SDK, one streamed call",
                [python, "-c", _BARE_SDK, server.openai_base_url],
            ),
            (
                "llmlab run -m openai/gpt-4o-mini",
                [*llmlab, "run", "hi", "-m", "openai/gpt-4o-mini"],
            ),
        ]
        figures = {label: _cpu(command, env, args.runs) for label, command in cases}
        bare = figures["python -c pass"]
        print(f"CPU per command, mean of {args.runs} runs (user + sys)\n")
        print(f"| {'command':<36} | {'CPU s':>7} | {'x bare python':>13} |")
        print(f"|{'-' * 38}|{'-' * 9}|{'-' * 15}|")
        for label, value in figures.items():
            print(f"| {label:<36} | {value:7.3f} | {value / bare:13.1f} |")
        overhead = (
            figures["llmlab run -m openai/gpt-4o-mini"]
            - figures["bare OpenAI SDK, one streamed call"]
        )
        print(f"\nllmlab run over the bare SDK call: {overhead:+.3f} s CPU (goal <= 0.3 s)")
        if args.importtime:
            run = [*llmlab, "run", "hi", "-m", "openai/gpt-4o-mini"]
            print("\nheaviest imports of `llmlab run` (cumulative, wall):")
            for row in _top_imports(run, env):
                print(f"  {row}")


if __name__ == "__main__":
    main()
