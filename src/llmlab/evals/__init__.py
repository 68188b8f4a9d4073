"""Evaluation-driven development: datasets, scorers, the runner, statistics, reports.

Quick start (the seed's shape)::

    from llmlab.evals import EvalCase, LLMEvaluator
    result = LLMEvaluator(cases).evaluate(my_function, my_scorer)

Suites through the model call path::

    suite = load_suite("suite.yaml")
    run = await run_eval(suite, model="openai/gpt-4o-mini", concurrency=20, epochs=3)
    verdict = gate_run(run, baseline="latest-good-run-id")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmlab._lazy import lazy_exports

if TYPE_CHECKING:
    from llmlab.evals._agreement import (
        Agreement,
        CalibrationError,
        Confusion,
        CorrectedRate,
        agreement,
        cohens_kappa,
        corrected_pass_rate,
        rogan_gladen,
    )
    from llmlab.evals._builtin import (
        Exact,
        Includes,
        JsonValid,
        KeyTerms,
        Length,
        Regex,
    )
    from llmlab.evals._calibration import (
        AgreementReport,
        ScorerAgreement,
        calibration_status,
        judge_key,
        measure_agreement,
    )
    from llmlab.evals._case import (
        EvalCase,
    )
    from llmlab.evals._combine import (
        FunctionScorer,
        Weighted,
    )
    from llmlab.evals._consistency import (
        JudgeConsistency,
        judge_consistency,
    )
    from llmlab.evals._dataset import (
        load_dataset,
    )
    from llmlab.evals._evaluator import (
        CaseFailure,
        EvalResult,
        LLMEvaluator,
    )
    from llmlab.evals._frontier import (
        Frontier,
        FrontierOption,
        cost_quality_frontier,
    )
    from llmlab.evals._gate import (
        EvalGate,
        gate_run,
    )
    from llmlab.evals._history import (
        Comparison,
        RunDetail,
        RunListing,
        case_verdicts,
        compare_runs,
        list_runs,
        resolve_run,
        result_input,
        show_run,
    )
    from llmlab.evals._judge import (
        ModelGraded,
        parse_verdict,
    )
    from llmlab.evals._labels import (
        HumanLabel,
        LabelledRun,
        attach_labels,
        load_labels,
        run_labels,
        unlabelled_results,
    )
    from llmlab.evals._paired import (
        PairedTest,
        holm,
        mcnemar_exact,
        paired_bootstrap,
        paired_test,
        sample_size_mcnemar,
        sample_size_paired_mean,
    )
    from llmlab.evals._registry import (
        load_callable,
        registered_scorers,
        scorer,
        scorers_from_spec,
    )
    from llmlab.evals._report import (
        to_junit,
        to_markdown,
    )
    from llmlab.evals._rescore import (
        rescore_run,
    )
    from llmlab.evals._run_summary import (
        ErrorCounts,
        JudgeStatus,
        JudgeTotals,
        Latency,
        Rate,
        RunSummary,
        TrialStats,
        run_summary,
    )
    from llmlab.evals._runner import (
        EvalRun,
        Progress,
        run_eval,
        run_eval_sync,
    )
    from llmlab.evals._score import (
        JudgeUsage,
        Score,
        Scorer,
    )
    from llmlab.evals._similarity import (
        Similarity,
    )
    from llmlab.evals._stats import (
        Interval,
        bootstrap_mean_ci,
        consistency,
        flip_rate,
        pass_at_k,
        pass_hat_k,
        reduce_epochs,
        standard_error,
        wilson_interval,
    )
    from llmlab.evals._suite import (
        EvalSuite,
        SuiteSpec,
        load_suite,
    )
    from llmlab.evals._summary import (
        CaseOutcome,
        reduce_cases,
        summarize,
        summary_of,
    )

# Loaded on first use (PEP 562), so that a command imports only the modules it needs.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "_agreement": (
            "Agreement",
            "CalibrationError",
            "Confusion",
            "CorrectedRate",
            "agreement",
            "cohens_kappa",
            "corrected_pass_rate",
            "rogan_gladen",
        ),
        "_calibration": (
            "AgreementReport",
            "ScorerAgreement",
            "calibration_status",
            "judge_key",
            "measure_agreement",
        ),
        "_frontier": (
            "Frontier",
            "FrontierOption",
            "cost_quality_frontier",
        ),
        "_labels": (
            "HumanLabel",
            "LabelledRun",
            "attach_labels",
            "load_labels",
            "run_labels",
            "unlabelled_results",
        ),
        "_consistency": (
            "JudgeConsistency",
            "judge_consistency",
        ),
        "_builtin": ("Exact", "Includes", "JsonValid", "KeyTerms", "Length", "Regex"),
        "_case": ("EvalCase",),
        "_combine": ("FunctionScorer", "Weighted"),
        "_dataset": ("load_dataset",),
        "_evaluator": ("CaseFailure", "EvalResult", "LLMEvaluator"),
        "_gate": ("EvalGate", "gate_run"),
        "_history": (
            "case_verdicts",
            "Comparison",
            "RunDetail",
            "RunListing",
            "compare_runs",
            "list_runs",
            "resolve_run",
            "result_input",
            "show_run",
        ),
        "_judge": ("ModelGraded", "parse_verdict"),
        "_paired": (
            "PairedTest",
            "holm",
            "mcnemar_exact",
            "paired_bootstrap",
            "paired_test",
            "sample_size_mcnemar",
            "sample_size_paired_mean",
        ),
        "_registry": ("load_callable", "registered_scorers", "scorer", "scorers_from_spec"),
        "_report": ("to_junit", "to_markdown"),
        "_rescore": ("rescore_run",),
        "_runner": ("EvalRun", "Progress", "run_eval", "run_eval_sync"),
        "_score": ("JudgeUsage", "Score", "Scorer"),
        "_similarity": ("Similarity",),
        "_stats": (
            "Interval",
            "bootstrap_mean_ci",
            "consistency",
            "flip_rate",
            "pass_at_k",
            "pass_hat_k",
            "reduce_epochs",
            "standard_error",
            "wilson_interval",
        ),
        "_run_summary": (
            "ErrorCounts",
            "JudgeStatus",
            "JudgeTotals",
            "Latency",
            "Rate",
            "RunSummary",
            "TrialStats",
            "run_summary",
        ),
        "_suite": ("EvalSuite", "SuiteSpec", "load_suite"),
        "_summary": ("CaseOutcome", "reduce_cases", "summarize", "summary_of"),
    },
)

__all__ = [
    "Agreement",
    "AgreementReport",
    "CalibrationError",
    "CaseFailure",
    "CaseOutcome",
    "Comparison",
    "Confusion",
    "CorrectedRate",
    "ErrorCounts",
    "EvalCase",
    "EvalGate",
    "EvalResult",
    "EvalRun",
    "EvalSuite",
    "Exact",
    "Frontier",
    "FrontierOption",
    "FunctionScorer",
    "HumanLabel",
    "Includes",
    "Interval",
    "JsonValid",
    "JudgeConsistency",
    "JudgeStatus",
    "JudgeTotals",
    "JudgeUsage",
    "KeyTerms",
    "LLMEvaluator",
    "LabelledRun",
    "Latency",
    "Length",
    "ModelGraded",
    "PairedTest",
    "Progress",
    "Rate",
    "Regex",
    "RunDetail",
    "RunListing",
    "RunSummary",
    "Score",
    "Scorer",
    "ScorerAgreement",
    "Similarity",
    "SuiteSpec",
    "TrialStats",
    "Weighted",
    "agreement",
    "attach_labels",
    "bootstrap_mean_ci",
    "calibration_status",
    "case_verdicts",
    "cohens_kappa",
    "compare_runs",
    "consistency",
    "corrected_pass_rate",
    "cost_quality_frontier",
    "flip_rate",
    "gate_run",
    "holm",
    "judge_consistency",
    "judge_key",
    "list_runs",
    "load_callable",
    "load_dataset",
    "load_labels",
    "load_suite",
    "mcnemar_exact",
    "measure_agreement",
    "paired_bootstrap",
    "paired_test",
    "parse_verdict",
    "pass_at_k",
    "pass_hat_k",
    "reduce_cases",
    "reduce_epochs",
    "registered_scorers",
    "rescore_run",
    "resolve_run",
    "result_input",
    "rogan_gladen",
    "run_eval",
    "run_eval_sync",
    "run_labels",
    "run_summary",
    "sample_size_mcnemar",
    "sample_size_paired_mean",
    "scorer",
    "scorers_from_spec",
    "show_run",
    "standard_error",
    "summarize",
    "summary_of",
    "to_junit",
    "to_markdown",
    "unlabelled_results",
    "wilson_interval",
]
