"""A store seeded the way a user fills it: eval runs, prompts, an experiment, budgets and
calls, all made through the CLI and the library against the local wire server."""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from llmlab.cli import main
from llmlab.store import Store, set_default_store
from llmlab.testing import WireServer

pytest.importorskip("fastapi")

MODEL = "openai/gpt-4o-mini"
SUITE = """\
name: {name}
prompt: "{{{{ input }}}}"
dataset: samples.jsonl
scorers:
  - includes: "{{{{ target }}}}"
"""


@dataclass(frozen=True)
class Seeded:
    """The seeded store and what is in it."""

    store: Store
    url: str
    run_a: str
    run_b: str
    other_run: str
    prompt: str
    experiment: str


def cli(*args: str) -> tuple[int, str]:
    """Run ``llmlab ARGS`` in process: (exit code, stdout)."""
    out = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
    return code, out.getvalue()


def cli_json(*args: str) -> Any:
    code, out = cli(*args, "--json")
    assert code in (0, 1), out
    return json.loads(out)


def write_suite(folder: Path, name: str, n: int, fail: set[int]) -> Path:
    """A suite over ``n`` cases; the wire server echoes the prompt, so a case passes when
    its target is in the prompt and fails for the cases in ``fail``."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "samples.jsonl").open("w") as handle:
        for i in range(n):
            target = "absent" if i in fail else f"w{i}"
            tags = ["even" if i % 2 == 0 else "odd"]
            row = {"id": f"case-{i:02d}", "input": f"say w{i}", "target": target, "tags": tags}
            handle.write(json.dumps(row) + "\n")
    suite = folder / "suite.yaml"
    suite.write_text(SUITE.format(name=name))
    return suite


def _seed(root: Path) -> dict[str, str]:
    suite_a = write_suite(root / "a", "qa", 24, {0, 5, 10})
    suite_b = write_suite(root / "b", "qa", 24, {0, 3, 7, 11, 15, 19})
    other = write_suite(root / "c", "summaries", 6, set())
    run_a = cli_json("eval", "run", str(suite_a), "--model", MODEL, "--no-cache")["run_id"]
    run_b = cli_json("eval", "run", str(suite_b), "--model", MODEL, "--no-cache")["run_id"]
    other_run = cli_json("eval", "run", str(other), "--model", MODEL, "--no-cache")["run_id"]
    assert cli("prompts", "add", "greet", "-t", "Hello {{ name }}", "-l", "production")[0] == 0
    assert cli("prompts", "add", "greet", "-t", "Hi there, {{ name }}!", "-m", "friendlier")[0] == 0
    assert cli("prompts", "add", "summarize", "-t", "Summarize: {{ text }}")[0] == 0
    code, out = cli(
        "experiments", "create", "greet-ab", "--prompt", "greet", "--arm", "control=1",
        "--arm", "friendly=2", "--description", "Is the friendlier greeting better?",
    )  # fmt: skip
    assert code == 0, out
    assert cli("budgets", "set", "monthly", "5", "--soft")[0] == 0
    assert cli("run", "What is 2+2?", "--model", MODEL)[0] == 0
    return {"run_a": run_a, "run_b": run_b, "other_run": other_run}


def _calls_through_prompts() -> None:
    from llmlab.monitor import flush
    from llmlab.prompts import call_experiment_sync, call_prompt_sync, record_feedback

    for user in ("alice", "bob", "carol"):
        call_prompt_sync("greet@production", {"name": user}, model=MODEL, tags={"user": user})
    made = [
        call_experiment_sync("greet-ab", f"user-{unit}", {"name": f"u{unit}"}, model=MODEL)
        for unit in range(8)
    ]
    flush()  # feedback needs the calls stored
    for i, response in enumerate(made):
        assert response.call_id is not None
        record_feedback(response.call_id, 0.5 + 0.05 * i, comment="seeded")


@contextlib.contextmanager
def seeding(url: str, root: Path, server: WireServer) -> Iterator[Seeded]:
    """The store at ``url`` seeded through the CLI and the library, then open (and not
    the default handle: the dashboard is given its store explicitly) while the block runs."""
    server.reset()
    saved = {k: os.environ.get(k) for k in ("LLMLAB_DB", "OPENAI_BASE_URL", "OPENAI_API_KEY")}
    os.environ.update(
        LLMLAB_DB=url, OPENAI_BASE_URL=server.openai_base_url, OPENAI_API_KEY="sk-test-web-123456"
    )
    store = Store(url)
    previous = set_default_store(store)
    try:
        ids = _seed(root)
        _calls_through_prompts()
    finally:
        set_default_store(previous)
        store.close()  # flushes the recorded calls
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.reset()
    with Store(url) as store:
        yield Seeded(store, url, ids["run_a"], ids["run_b"], ids["other_run"], "greet", "greet-ab")


@pytest.fixture(scope="session")
def seeded(
    _llmlab_wire_server_session: WireServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    """One seeded SQLite store shared by the web tests (they only read it, or move labels
    of their own)."""
    root = tmp_path_factory.mktemp("web")
    with seeding(f"sqlite:///{root / 'llmlab.db'}", root, _llmlab_wire_server_session) as s:
        yield s
