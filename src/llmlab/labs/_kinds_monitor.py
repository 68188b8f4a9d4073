"""Criterion kinds on the monitor: an instrumented app, a triage from stats, a budgeted job.

Each runs the learner's code in a fresh store of its own, against a priced hosted model
served on loopback (``_monitor_sandbox``): the money is real, nothing leaves the machine.

``monitor_instrumented``: every model call of the learner's app function must be recorded
once, linked to a registered version of the named prompt (whose text is what was sent)
and carry the named tags.

``monitor_triage``: a lab function seeds a store with a week of traffic in which the slow
and costly prompt version is dealt at random on every check; the learner's function must
name the version the tool's own stats single out, with its p95 latency and cost per call.

``monitor_budget_job``: the learner's batch job gets more items than its cap pays for: a
hard budget within the cap must cover its calls, spend must stay under it, the job must
stop at the first refusal and return its count, and a rerun on the spent budget returns 0.
"""

from __future__ import annotations

import contextlib
import functools
import io
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import llmlab.monitor as monitor  # its names load on first use (PEP 562)
from llmlab._errors import BudgetExceeded, ConfigError, InputError, NotFoundError
from llmlab.labs._context import GradeContext, criterion_kind, lab_callable
from llmlab.labs._learner import call_learner, learner_callable, load_learner_module
from llmlab.labs._monitor_sandbox import (
    alerts_unlogged,
    call_ids,
    check_seed,
    fresh_store,
    hosted_model,
    new_calls,
    ticket_lines,
)
from llmlab.labs._results import CriterionResult, percent
from llmlab.models import Model
from llmlab.store import CallRow, Store

if TYPE_CHECKING:
    from llmlab.monitor import Budget, GroupStats
    from llmlab.prompts import PromptRegistry, PromptVersion
    from llmlab.testing import WireServer

__all__: list[str] = []

_NO_PROMPT = "(none)"
_TRAPS = {
    "busiest": "the most calls and the highest total cost, but cheap per call",
    "spiky": "a few timeouts raise its mean and p99, its p95 is low",
    "no prompt version": "calls made with no prompt version: not a version",
    "normal": "an ordinary version",
}
# Jinja tags and {field}s: what is left of a template is text that must be sent as written.
_TEMPLATE_FIELDS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{[^{}]*\}", re.DOTALL)


def _tickets(ctx: GradeContext, params: Mapping[str, Any]) -> list[str]:
    return ticket_lines(ctx.lab_file(str(params.get("tickets", "hidden/tickets.txt"))))


def _per(period: str) -> str:
    return "in total" if period == "total" else f"a {period}"


def _money(amount: Decimal) -> str:
    return f"${amount:.4f}"


# --- part 1: an instrumented app ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _AppCall:
    """One call of the learner's app: what it sent, what was recorded, what it returned."""

    label: str
    customer: str
    sent: tuple[str, ...]
    rows: tuple[CallRow, ...]
    answer: object
    reply: str


def _static_parts(version: PromptVersion) -> list[str]:
    template = version.template
    texts = [template] if isinstance(template, str) else [message.content for message in template]
    parts: list[str] = []
    for text in texts:
        parts += [p.strip() for p in _TEMPLATE_FIELDS.split(text) if p.strip()]
    return parts


def _link_problem(call: _AppCall, prompt: str, registry: PromptRegistry) -> str | None:
    """Why the call's record is not linked to a registered version of ``prompt`` (or None)."""
    for row in call.rows:
        if row.prompt_name is None:
            return "recorded with no prompt version"
        if row.prompt_name != prompt or row.prompt_version is None:
            return f"recorded with prompt {row.prompt_name}@{row.prompt_version}"
        try:
            version = registry.get(f"{prompt}:{row.prompt_version}")
        except NotFoundError:
            return f"{prompt}@{row.prompt_version} is not registered in the store"
        if row.prompt_hash is not None and row.prompt_hash != version.version_hash:
            return f"its hash {row.prompt_hash} is not that of {prompt}@{row.prompt_version}"
        sent = "\n".join(call.sent)
        missing = [part for part in _static_parts(version) if part not in sent]
        if missing:
            return f"{prompt}@{row.prompt_version}'s text {missing[0][:40]!r} was not sent"
    return None


def _tag_problem(call: _AppCall, fixed: Mapping[str, str], per_call: str) -> str | None:
    wanted = {**fixed, per_call: call.customer}
    for row in call.rows:
        wrong = [k for k, v in wanted.items() if row.tags.get(k) != v]
        if wrong:
            got = ", ".join(f"{k}={row.tags.get(k)}" for k in wrong)
            return f"recorded {got}; wanted " + ", ".join(f"{k}={wanted[k]}" for k in wrong)
    return None


def _run_app(
    fn: Callable[..., Any],
    path: Path,
    server: WireServer,
    model: Model,
    tickets: Sequence[str],
    rng: random.Random,
) -> list[_AppCall]:
    calls: list[_AppCall] = []
    for number, ticket in enumerate(tickets, 1):
        customer = f"cus_{rng.randrange(16**6):06x}"
        reply = f"Thanks for writing: we are on it (reference {rng.randrange(10**6):06d})."
        server.replies.enqueue(reply)
        before_ids, before_requests = call_ids(model.store), len(server.requests)
        answer = call_learner(fn, path, ticket, customer, model)
        server.replies.clear()
        requests = server.requests[before_requests:]
        sent = tuple(
            str(message.get("content"))
            for request in requests
            if isinstance(request.body, dict)
            for message in request.body.get("messages", [])
            if isinstance(message, dict)
        )
        rows = tuple(new_calls(model.store, before_ids))
        calls.append(_AppCall(f"{number} ({customer})", customer, sent, rows, answer, reply))
    return calls


@criterion_kind("monitor_instrumented")
def monitor_instrumented(ctx: GradeContext, params: Mapping[str, Any]) -> list[CriterionResult]:
    """Parameters: ``file``, ``function`` (called as ``fn(ticket, customer, model)``),
    ``model`` (an ``openai/`` model name), ``prompt`` (the prompt name the calls must be
    linked to), ``tags`` (fixed tags), ``per_call_tag`` (the tag carrying the customer),
    ``tickets`` (lab file, one per line), ``calls``."""
    path = ctx.learner(str(params.get("file", "app.py")))
    prompt = str(params["prompt"])
    fixed = {str(k): str(v) for k, v in dict(params.get("tags", {})).items()}
    per_call = str(params.get("per_call_tag", "customer"))
    rng = random.Random(check_seed())
    tickets = rng.sample(_tickets(ctx, params), int(params.get("calls", 4)))
    with fresh_store("app") as store, hosted_model(store, str(params["model"])) as hosted:
        module = load_learner_module(path)
        fn = learner_callable(module, str(params.get("function", "reply_to_ticket")), path)
        calls = _run_app(fn, path, hosted[0], hosted[1], tickets, rng)
        # Loaded when graded: llmlab.prompts would slow every `llmlab labs` command's start.
        from llmlab.prompts import PromptRegistry

        registry = PromptRegistry(store=store)
        links = [_link_problem(call, prompt, registry) for call in calls]
    once = [
        None
        if len(call.rows) == len(call.sent) and call.rows
        else f"{len(call.rows)} calls recorded for {len(call.sent)} model requests"
        for call in calls
    ]
    answers = [None if c.answer == c.reply else f"returned {c.answer!r:.60}" for c in calls]
    tags = [_tag_problem(call, fixed, per_call) for call in calls]
    wanted_tags = ", ".join(f"{k}={v}" for k, v in fixed.items()) + f", {per_call}=<customer>"
    return [
        _per_call(
            "each model call recorded once, the reply returned",
            [a or b for a, b in zip(once, answers, strict=True)],
            calls,
            "record through the call path (a `get_model` model) once, and return the reply",
        ),
        _per_call(
            f"calls linked to a registered version of {prompt!r}",
            [o or link for o, link in zip(once, links, strict=True)],
            calls,
            f"register the prompt as {prompt!r} and call through that version",
        ),
        _per_call(
            f"calls tagged {wanted_tags}",
            [o or t for o, t in zip(once, tags, strict=True)],
            calls,
            "put the tags on the request",
        ),
    ]


def _per_call(
    name: str, problems: Sequence[str | None], calls: Sequence[_AppCall], advice: str
) -> CriterionResult:
    bad = [(call, problem) for call, problem in zip(calls, problems, strict=True) if problem]
    n = len(calls)
    note = ""
    if bad:
        call, problem = bad[0]
        note = f"app call {call.label}: {problem}"
    return CriterionResult(
        name=name,
        passed=not bad,
        measured=f"{n - len(bad)}/{n} app calls",
        bar=f"needs {n}/{n}",
        distance=advice if bad else "",
        note=note,
    )


# --- part 2: the slow and costly version from the stats ---------------------------------


def _tool_culprit(
    store: Store, roles: Mapping[str, str]
) -> tuple[GroupStats, dict[str, GroupStats]]:
    """The version with the highest p95 latency and cost per call, by the tool's stats."""
    report = monitor.call_stats(by="prompt", store=store)
    groups = {g.key: g for g in report.groups}
    versions = [g for g in report.groups if g.key != _NO_PROMPT]
    slowest = max(versions, key=lambda g: g.latency_p95_s or 0.0)
    costliest = max(versions, key=lambda g: g.cost_per_call or Decimal(0))
    if slowest.key != costliest.key or roles.get(slowest.key) != "slow and costly":
        raise ConfigError("lab 10 is broken: its traffic has no single slow and costly version")
    return slowest, groups


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return float(value)


def _answer_of(value: object, path: Path, name: str) -> tuple[str, float | None, float | None]:
    if not isinstance(value, Mapping) or not isinstance(value.get("prompt"), str):
        raise InputError(
            f"{name} must return a dict with 'prompt' (name@version), 'p95_latency_s' and "
            f"'cost_per_call', not {value!r:.80}",
            path=path,
        )
    return value["prompt"], _number(value.get("p95_latency_s")), _number(value.get("cost_per_call"))


def _close(mine: float | None, truth: float, tolerance: float) -> bool:
    return mine is not None and abs(mine - truth) <= tolerance * abs(truth)


@criterion_kind("monitor_triage")
def monitor_triage(ctx: GradeContext, params: Mapping[str, Any]) -> list[CriterionResult]:
    """Parameters: ``file``, ``function`` (called as ``fn(store)``), ``traffic`` (lab
    function ``(store, seed) -> {group: role}``), ``weeks``, ``latency_tolerance`` and
    ``cost_tolerance`` (relative)."""
    path = ctx.learner(str(params.get("file", "triage.py")))
    name = str(params.get("function", "slow_and_costly"))
    make_week = lab_callable(ctx.lab, str(params["traffic"]))
    latency_tol = float(params.get("latency_tolerance", 0.05))
    cost_tol = float(params.get("cost_tolerance", 0.01))
    seeds = [check_seed() for _ in range(int(params.get("weeks", 3)))]
    named = figures = 0
    notes: list[str] = []
    figure_notes: list[str] = []
    for seed in seeds:
        with fresh_store("triage") as store:
            roles = make_week(store, seed)
            truth, groups = _tool_culprit(store, roles)
            fn = learner_callable(load_learner_module(path), name, path)
            key, p95, cost = _answer_of(call_learner(fn, path, store), path, name)
        tool = f"{truth.key} (p95 {truth.latency_p95_s or 0:.2f} s, ${truth.cost_per_call}/call)"
        if key != truth.key:
            why = _TRAPS.get(roles.get(key, ""), "not a prompt version of this traffic")
            mine = groups.get(key)
            shown = ""
            if mine is not None:
                shown = f" (p95 {mine.latency_p95_s or 0:.2f} s, ${mine.cost_per_call}/call)"
            notes.append(f"week {seed}: you named {key}{shown}: {why}; the tool: {tool}")
            continue
        named += 1
        cost_truth = float(truth.cost_per_call or 0)
        if _close(p95, truth.latency_p95_s or 0.0, latency_tol) and _close(
            cost, cost_truth, cost_tol
        ):
            figures += 1
        else:
            figure_notes.append(f"week {seed}: yours p95 {p95} s, ${cost}/call; the tool: {tool}")
    n = len(seeds)
    replay = f"weeks (seeds) {', '.join(map(str, seeds))}: `python traffic.py SEED` makes one"
    return [
        CriterionResult(
            name="the slow and costly version named",
            passed=named == n,
            measured=f"{named}/{n} weeks of fresh traffic",
            bar=f"needs {n}/{n}",
            distance="" if named == n else "group by prompt version; compare p95 and cost per call",
            note=notes[0] if notes else replay,
        ),
        CriterionResult(
            name="its p95 latency and cost per call",
            passed=figures == n,
            measured=f"{figures}/{n} weeks match the tool's stats",
            bar=f"needs {n}/{n}, p95 ± {percent(latency_tol)}, cost per call ± {percent(cost_tol)}",
            distance="" if figures == n else "the p95 (not the mean), per call (not the total)",
            note=figure_notes[0] if figure_notes else "",
        ),
    ]


# --- part 3: a batch job under a hard budget --------------------------------------------


@dataclass(frozen=True, slots=True)
class _JobRun:
    """One run of the learner's job: what it returned and printed, what was recorded."""

    returned: object
    escaped: BudgetExceeded | None
    printed: str
    rows: tuple[CallRow, ...]

    @property
    def ok(self) -> list[CallRow]:
        return [row for row in self.rows if row.status == "ok"]

    @property
    def refused(self) -> list[CallRow]:
        return [row for row in self.rows if row.status == "refused"]

    @property
    def after_refusal(self) -> int:
        """Calls attempted after the first refusal (the rows are in time order)."""
        for index, row in enumerate(self.rows):
            if row.status == "refused":
                return len(self.rows) - index - 1
        return 0

    @property
    def last_line(self) -> str:
        lines = [line.strip() for line in self.printed.splitlines() if line.strip()]
        return lines[-1][:120] if lines else ""


def _run_job(fn: Callable[..., Any], path: Path, items: list[str], model: Model) -> _JobRun:
    escaped: list[BudgetExceeded] = []

    @functools.wraps(fn)
    def job(*args: Any) -> Any:
        # A refusal that escapes the job is the lesson's failure, not a broken file.
        try:
            return fn(*args)
        except BudgetExceeded as exc:
            escaped.append(exc)
            return None

    before = call_ids(model.store)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        returned = call_learner(job, path, items, model)
    rows = tuple(new_calls(model.store, before))
    return _JobRun(returned, escaped[0] if escaped else None, printed.getvalue(), rows)


def _covering_budget(
    budgets: Sequence[Budget], run: _JobRun, cap: Decimal
) -> tuple[Budget | None, str]:
    """The hard budget within ``cap`` that covers every call of the job, or why none does."""
    if not budgets:
        return None, "no budget in the store"
    why = ""
    for budget in budgets:
        covered = sum(
            budget.matches(row.provider, row.requested_model, row.tags, row.prompt_name)
            for row in run.rows
        )
        if not budget.hard:
            why = f"budget {budget.name!r} is soft: it only alerts"
        elif budget.limit > cap:
            why = f"budget {budget.name!r} allows ${budget.limit}, over the ${cap} cap"
        elif budget.period == "run":
            why = f"budget {budget.name!r} counts eval runs only (period run)"
        elif covered < len(run.rows):
            why = f"budget {budget.name!r} ({budget.scope_label}) covers {covered}/{len(run.rows)}"
        else:
            return budget, ""
    return None, why


def _job_results(
    first: _JobRun,
    rerun: _JobRun,
    budgets: Sequence[Budget],
    alerts: Sequence[str],
    cap: Decimal,
    min_used: float,
) -> list[CriterionResult]:
    budget, why = _covering_budget(budgets, first, cap)
    spent = sum((row.cost or Decimal(0) for row in first.ok + rerun.ok), Decimal(0))
    used = float(spent / cap)
    refused = len(first.refused)
    stopped = refused == 1 and first.after_refusal == 0
    counted = (
        first.escaped is None
        and rerun.escaped is None
        and first.returned == len(first.ok)
        and type(first.returned) is int
        and rerun.returned == 0
        and type(rerun.returned) is int
    )
    crashed = first.escaped or rerun.escaped
    return [
        CriterionResult(
            name=f"a hard budget within ${cap} covers the job's calls",
            passed=budget is not None,
            measured=why
            if budget is None
            else f"{budget.name!r}: hard, ${budget.limit} "
            f"{_per(budget.period)}, {budget.scope_label}",
            bar="needs a hard budget on every call of the job",
            distance="set one in the job (llmlab.monitor.set_budget)" if budget is None else "",
        ),
        CriterionResult(
            name="spend within the cap, the allowance used",
            passed=spent <= cap and used >= min_used,
            measured=f"{_money(spent)} of ${cap} ({percent(used)}) on "
            f"{len(first.ok) + len(rerun.ok)} calls",
            bar=f"needs ≤ ${cap} and ≥ {percent(min_used)} of it",
            distance="over the cap: nothing stopped the job"
            if spent > cap
            else "the job stops long before the cap",
        ),
        CriterionResult(
            name="the job stops at the first refusal",
            passed=stopped,
            measured=f"{refused} refused, {first.after_refusal} calls after the first refusal",
            bar="needs 1 refusal, nothing after it",
            distance="no refusal: nothing refused the job's calls"
            if refused == 0
            else "stop at the refusal: the next item would be refused too",
            note=f"{len(alerts)} alerts raised, the last: {alerts[0]}" if alerts else "",
        ),
        CriterionResult(
            name="it ends cleanly and reports its count",
            passed=counted,
            measured=f"returned {first.returned!r} ({len(first.ok)} items done); "
            f"a rerun on the spent budget returned {rerun.returned!r}",
            bar="needs the count of items done, and 0 on the rerun",
            distance=f"BudgetExceeded escaped the job: {crashed}"
            if crashed
            else "return how many items were done",
            note=f"the job printed: {first.last_line}" if first.last_line else "",
        ),
    ]


@criterion_kind("monitor_budget_job")
def monitor_budget_job(ctx: GradeContext, params: Mapping[str, Any]) -> list[CriterionResult]:
    """Parameters: ``file``, ``function`` (called as ``fn(items, model)``, returns the
    count done), ``model`` (an ``openai/`` model name), ``limit`` (the cap in dollars),
    ``min_used`` (fraction of the cap the job must use), ``items`` ([low, high] per run),
    ``tickets`` (lab file the items are drawn from)."""
    path = ctx.learner(str(params.get("file", "batch.py")))
    cap = Decimal(str(params["limit"]))
    low, high = (int(n) for n in params.get("items", (60, 80)))
    rng = random.Random(check_seed())
    lines = _tickets(ctx, params)
    items = [
        f"#{rng.randrange(10**5):05d} {rng.choice(lines)}" for _ in range(rng.randint(low, high))
    ]
    with (
        alerts_unlogged(),
        fresh_store("batch") as store,
        hosted_model(store, str(params["model"])) as hosted,
    ):
        module = load_learner_module(path)
        fn = learner_callable(module, str(params.get("function", "run_batch")), path)
        first = _run_job(fn, path, items, hosted[1])
        # The next night resumes where the job stopped: the item refused comes first
        # again, with the same worst case, so a spent budget refuses it for certain.
        rest = items[len(first.ok) :] or [f"#{n:05d} {rng.choice(lines)}" for n in range(10)]
        rerun = _run_job(fn, path, rest, hosted[1])
        budgets = monitor.list_budget_definitions(store=store)
        alerts = [alert.message for alert in monitor.recent_alerts(store=store)]
    min_used = float(params.get("min_used", 0.8))
    return _job_results(first, rerun, budgets, alerts, cap, min_used)
