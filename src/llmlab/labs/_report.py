"""``labs check`` output, in the manner of a good test runner: one line per criterion
(✔/✘, the measured figure, the bar, the distance), then the failing cases in full."""

from __future__ import annotations

from llmlab.labs._results import CaseDetail, CheckReport, CriterionResult

__all__ = ["report_lines"]

_ANSWER_LIMIT = 400


def _block(label: str, text: str) -> list[str]:
    lines = text.splitlines() or [""]
    return [
        f"        {label if i == 0 else ' ' * len(label)} │ {line}" for i, line in enumerate(lines)
    ]


def _case(detail: CaseDetail) -> list[str]:
    score = "error" if detail.score is None else f"{detail.score:.2f}"
    lines = [f"      ✘ case {detail.case_id} · score {score} · {detail.reason or 'failed'}"]
    if detail.prompt is not None:
        lines += _block("prompt  ", detail.prompt)
    answer = detail.answer
    if len(answer) > _ANSWER_LIMIT:
        answer = answer[:_ANSWER_LIMIT] + f"… ({len(detail.answer)} characters)"
    lines += _block("answer  ", answer)
    if detail.expected:
        lines += _block("expected", detail.expected)
    return lines


def _criterion(result: CriterionResult) -> list[str]:
    mark = "·" if not result.gating else "✔" if result.passed else "✘"
    line = f"  {mark} {result.name}: {result.measured}"
    if result.bar:
        line += f", {result.bar}"
    if result.gating and not result.passed and result.distance:
        line += f" — {result.distance}"
    lines = [line]
    if result.note:
        lines.append(f"    ! {result.note}")
    for detail in result.failures:
        lines += _case(detail)
    return lines


def report_lines(report: CheckReport, *, number: int) -> list[str]:
    """The report as lines of text (no colour: the CLI adds it)."""
    how = f" with {report.model} (greedy, fixed seed)" if report.model else ""
    lines = [f"Lab {report.lab} · {report.title}{how}", ""]
    for result in report.criteria:
        lines += _criterion(result)
    gating = [c for c in report.criteria if c.gating]
    met = sum(c.passed for c in gating)
    lines.append("")
    if report.passed:
        lines.append(
            f"PASSED: {met}/{len(gating)} criteria met in {report.duration_s:.1f} s. "
            f"Next: `llmlab labs` for the next lab, "
            f"`llmlab labs solution {number}` to compare with the reference."
        )
    else:
        lines.append(
            f"NOT YET: {met}/{len(gating)} criteria met ({report.duration_s:.1f} s). "
            f"Stuck? `llmlab labs hint {number}`"
        )
    return lines
