"""Packages load their modules lazily: every export resolves, and a call records fully."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LAZY_PACKAGES = (
    "llmlab.store",
    "llmlab.monitor",
    "llmlab.pricing",
    "llmlab.models",
    "llmlab.evals",
)


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_export_resolves_and_is_listed(name: str) -> None:
    package = importlib.import_module(name)
    for export in package.__all__:
        assert getattr(package, export) is not None, export
    assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        package.nope  # noqa: B018 - the lookup is the test


_ONE_CALL = """
import json, sys
import llmlab
from llmlab.models import Request, generate_sync, scripted
from sqlalchemy import text

with llmlab.open(sys.argv[1]) as store:
    scripted("lazy", function=lambda request: "ok", store=store)
    generate_sync(Request.of("hi"), "scripted/lazy", store=store)
    loaded = sorted(sys.modules)
with llmlab.open(sys.argv[1]) as store, store.read() as conn:
    counts = {t: conn.execute(text(f"select count(*) from {t}")).scalar_one()
              for t in ("calls", "call_rollups")}
print(json.dumps({"counts": counts, "modules": loaded}))
"""


def test_a_call_in_a_fresh_process_is_recorded_with_rollups(tmp_path: Path) -> None:
    # The rollups hook registers when its module loads; importing llmlab.monitor no longer
    # loads it, so the recorder must.
    # Twice: the first run creates the database (Alembic loads everything to migrate it).
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-c", _ONE_CALL, str(tmp_path / "lazy.db")],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            check=True,
        )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["counts"]["calls"] == 2
    assert report["counts"]["call_rollups"] > 0
    modules = set(report["modules"])
    # What a single call does not need stays unloaded.
    assert not {"sqlalchemy.dialects.postgresql", "httpx", "yaml", "jsonschema"} & modules
    assert "llmlab.monitor._stats" not in modules and "llmlab.evals" not in modules
