#!/usr/bin/env python3
"""Regenerate the single initial migration ``0001_initial`` from the table metadata.

llmlab has no released schema yet, so instead of stacking migrations we keep one initial
migration and rebuild it whenever a table changes. Every table module must be imported by
``src/llmlab/store/_schema.py``.

Usage (from the repository root)::

    .venv/bin/python scripts/regen_migration.py

It deletes ``src/llmlab/store/migrations/versions/*.py``, autogenerates ``0001_initial.py``
against an empty SQLite database with Alembic, and formats it with ruff when available.
Then run ``.venv/bin/pytest tests/store -q``: the migration test checks that an empty
database upgraded to head matches the metadata on SQLite and PostgreSQL.

Once llmlab has released a schema, stop using this script: add a new revision instead
(``alembic revision --autogenerate`` with the same configuration).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, event

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from llmlab.store._migrate import MIGRATIONS_DIR, alembic_config  # noqa: E402
from llmlab.store._sqlite import sqlite_on_begin, sqlite_on_connect  # noqa: E402

REVISION = "0001_initial"


def main() -> int:
    versions = MIGRATIONS_DIR / "versions"
    for old in versions.glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'empty.db'}")
        event.listen(engine, "connect", sqlite_on_connect(30.0))
        event.listen(engine, "begin", sqlite_on_begin)
        try:
            with engine.begin() as conn:
                command.revision(
                    alembic_config(conn),
                    message="initial schema",
                    autogenerate=True,
                    rev_id=REVISION,
                )
        finally:
            engine.dispose()
    generated = sorted(versions.glob("*.py"))
    if len(generated) != 1:
        print(f"expected one generated migration, found {generated}", file=sys.stderr)
        return 1
    target = versions / f"{REVISION}.py"
    generated[0].rename(target)
    lines = target.read_text(encoding="utf-8").splitlines()
    target.write_text("\n".join(line.rstrip() for line in lines) + "\n", encoding="utf-8")
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if Path(ruff).exists():
        subprocess.run([ruff, "format", "--quiet", str(target)], check=False)
        subprocess.run([ruff, "check", "--fix", "--quiet", str(target)], check=False)
    print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
