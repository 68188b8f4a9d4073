"""Evaluation-driven development: datasets, scorers, the runner, statistics, reports.

Quick start (the seed's shape)::

    from llmlab.evals import EvalCase, LLMEvaluator
    result = LLMEvaluator(cases).evaluate(my_function, my_scorer)

Suites through the model call path::

    suite = load_suite("suite.yaml")
    run = await run_eval(suite, model="openai/gpt-4o-mini", concurrency=20, epochs=3)
    verdict = gate_run(run, baseline="latest-good-run-id")
"""

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
from llmlab.evals._builtin import Exact, Includes, JsonValid, KeyTerms, Length, Regex
from llmlab.evals._calibration import (
    AgreementReport,
    ScorerAgreement,
    calibration_status,
    judge_key,
    measure_agreement,
)
from llmlab.evals._case import EvalCase
from llmlab.evals._combine import FunctionScorer, Weighted
from llmlab.evals._consistency import JudgeConsistency, judge_consistency
from llmlab.evals._dataset import load_dataset
from llmlab.evals._evaluator import CaseFailure, EvalResult, LLMEvaluator
from llmlab.evals._frontier import Frontier, FrontierOption, cost_quality_frontier
from llmlab.evals._gate import EvalGate, gate_run
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
from llmlab.evals._judge import ModelGraded, parse_verdict
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
from llmlab.evals._registry import load_callable, registered_scorers, scorer, scorers_from_spec
from llmlab.evals._report import to_junit, to_markdown
from llmlab.evals._rescore import rescore_run
from llmlab.evals._runner import EvalRun, Progress, run_eval, run_eval_sync
from llmlab.evals._score import JudgeUsage, Score, Scorer
from llmlab.evals._similarity import Similarity
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
from llmlab.evals._suite import EvalSuite, SuiteSpec, load_suite
from llmlab.evals._summary import CaseOutcome, reduce_cases, summarize

__all__ = [
    "Agreement",
    "AgreementReport",
    "CalibrationError",
    "Confusion",
    "CorrectedRate",
    "Frontier",
    "FrontierOption",
    "HumanLabel",
    "JudgeConsistency",
    "LabelledRun",
    "ScorerAgreement",
    "agreement",
    "attach_labels",
    "calibration_status",
    "cohens_kappa",
    "corrected_pass_rate",
    "cost_quality_frontier",
    "judge_consistency",
    "judge_key",
    "load_labels",
    "measure_agreement",
    "rogan_gladen",
    "run_labels",
    "unlabelled_results",
    "CaseFailure",
    "CaseOutcome",
    "Comparison",
    "EvalCase",
    "EvalGate",
    "EvalResult",
    "EvalRun",
    "EvalSuite",
    "Exact",
    "FunctionScorer",
    "Includes",
    "Interval",
    "JsonValid",
    "JudgeUsage",
    "KeyTerms",
    "LLMEvaluator",
    "Length",
    "ModelGraded",
    "PairedTest",
    "Progress",
    "Regex",
    "RunDetail",
    "RunListing",
    "Score",
    "Scorer",
    "Similarity",
    "SuiteSpec",
    "Weighted",
    "bootstrap_mean_ci",
    "case_verdicts",
    "compare_runs",
    "consistency",
    "flip_rate",
    "gate_run",
    "holm",
    "list_runs",
    "load_callable",
    "load_dataset",
    "load_suite",
    "mcnemar_exact",
    "paired_bootstrap",
    "paired_test",
    "pass_at_k",
    "pass_hat_k",
    "parse_verdict",
    "reduce_cases",
    "reduce_epochs",
    "registered_scorers",
    "rescore_run",
    "resolve_run",
    "result_input",
    "run_eval",
    "run_eval_sync",
    "sample_size_mcnemar",
    "sample_size_paired_mean",
    "scorer",
    "scorers_from_spec",
    "show_run",
    "standard_error",
    "summarize",
    "to_junit",
    "to_markdown",
    "wilson_interval",
]
