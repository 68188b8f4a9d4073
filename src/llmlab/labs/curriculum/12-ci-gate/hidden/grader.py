"""Lab 12: run the learner's gate under pytest on a regressed prompt and on a fixed one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

_HERE = Path(__file__).parent
_TIMEOUT_S = 900  # generous: a busy machine must not turn a slow gate into a failed one
_SRC = Path(__file__).resolve().parents[5]  # .../src, where llmlab lives


def _run(lab_dir: Path, prompt: Path, model: str) -> tuple[int, int, int, str]:
    """pytest on the learner's gate with ``prompt`` as prompt.txt: tests, failures, errors."""
    with tempfile.TemporaryDirectory(prefix="llmlab-lab12-") as tmp:
        work = Path(tmp)
        for name in ("test_gate.py", "cases.yaml"):
            shutil.copyfile(lab_dir / name, work / name)
        shutil.copyfile(prompt, work / "prompt.txt")
        junit = work / "junit.xml"
        path = os.pathsep.join(filter(None, [str(_SRC), os.environ.get("PYTHONPATH", "")]))
        env = {**os.environ, "PYTHONPATH": path, "LLMLAB_DB": str(work / "ci.db")}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        command += ["test_gate.py", f"--junitxml={junit}", "-o", "junit_family=xunit2"]
        try:
            done = subprocess.run(
                command,
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return 0, 0, 1, f"pytest ran past {_TIMEOUT_S} s and was stopped"
        if not junit.exists():
            tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
            return 0, 0, 1, tail[0]
        suite = ET.parse(junit).getroot()
        node = suite if suite.tag == "testsuite" else suite[0]
        tests = int(node.get("tests", 0))
        failures, errors = int(node.get("failures", 0)), int(node.get("errors", 0))
        tail = (done.stdout.strip().splitlines() or [""])[-1]
        return tests, failures, errors, tail


def check(lab_dir: Path, model: str) -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    bad = _run(lab_dir, _HERE / "regressed.txt", model)
    good = _run(lab_dir, _HERE / "fixed.txt", model)
    results.append(
        {
            "name": "the gate fails on a regressed prompt (held out)",
            "passed": bad[0] > 0 and bad[1] > 0 and bad[2] == 0,
            "measured": f"JUnit: {bad[0]} tests, {bad[1]} failed, {bad[2]} errors ({bad[3]})",
            "bar": "needs a failing test",
            "distance": "the gate let a broken prompt through: measure the answers, not the file",
        }
    )
    results.append(
        {
            "name": "the gate passes on a fixed prompt (held out)",
            "passed": good[0] > 0 and good[1] == 0 and good[2] == 0,
            "measured": f"JUnit: {good[0]} tests, {good[1]} failed, {good[2]} errors ({good[3]})",
            "bar": "needs every test to pass",
            "distance": "the gate is too strict for a good prompt: check the bar and the scorer",
        }
    )
    return results
