"""Benchmark: how long `llmlab labs check` takes for each lab, on the reference solution.

Each lab is checked once in a fresh process (so the embedded model's load is counted,
as a learner's `llmlab labs check` pays it), on a copy of its starter with the reference
solution applied. Wall time and the process's CPU time (user + system, all threads) are
reported with the machine's load average, because on a shared machine the wall time
says more about the neighbours than about the lab.

Reproduce (from the repository root)::

    .venv/bin/python bench/bench_labs.py              # every lab; prints a Markdown table
    .venv/bin/python bench/bench_labs.py 3 4          # some labs

Not a test: numbers depend on the machine. Goal (issue 12): each check ≤ 60 s on 2 cores.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from llmlab.labs import copy_starter, find_lab, load_labs  # noqa: E402

_CHILD = """
import sys
from pathlib import Path
import llmlab
from llmlab.labs import check_lab, find_lab
from llmlab.store import set_default_store
store = llmlab.open(sys.argv[3])
set_default_store(store)
report = check_lab(find_lab(sys.argv[1]), Path(sys.argv[2]))
store.close()
sys.exit(0 if report.passed else 1)
"""


def _overlay(source: Path, target: Path) -> None:
    for path in source.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(path.read_bytes())


def bench(ref: str) -> dict[str, object]:
    lab = find_lab(ref)
    with tempfile.TemporaryDirectory() as tmp:
        lab_dir = Path(tmp) / lab.name
        copy_starter(lab, lab_dir)
        _overlay(lab.solution, lab_dir)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, lab.name, str(lab_dir), str(Path(tmp) / "b.db")],
            env=env,
            check=False,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "lab": lab.name,
        "model": lab.uses_model,
        "passed": done.returncode == 0,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "load": round(load, 1),
    }


def main(argv: list[str]) -> int:
    refs = argv or [lab.name for lab in load_labs()]
    rows = [bench(ref) for ref in refs]
    print(f"cores: {os.cpu_count()}")
    print("| lab | model | passed | wall | CPU | load avg at start |")
    print("|-----|-------|--------|-----:|----:|------------------:|")
    for row in rows:
        print(
            f"| {row['lab']} | {'yes' if row['model'] else 'no'} | "
            f"{'yes' if row['passed'] else 'NO'} | {row['wall_s']} s | {row['cpu_s']} s | "
            f"{row['load']} |"
        )
    out = ROOT / "bench" / "results" / "bench_labs.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(row["passed"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
