"""Evaluation-driven development: datasets, scorers, the runner, statistics, reports."""

from llmlab.evals._builtin import Exact, Includes, JsonValid, KeyTerms, Length, Regex
from llmlab.evals._case import EvalCase
from llmlab.evals._combine import FunctionScorer, Weighted
from llmlab.evals._dataset import load_dataset
from llmlab.evals._evaluator import CaseFailure, EvalResult, LLMEvaluator
from llmlab.evals._judge import ModelGraded, parse_verdict
from llmlab.evals._paired import (
    PairedTest,
    holm,
    mcnemar_exact,
    paired_bootstrap,
    sample_size_mcnemar,
    sample_size_paired_mean,
)
from llmlab.evals._registry import load_callable, registered_scorers, scorer, scorers_from_spec
from llmlab.evals._score import JudgeUsage, Score, Scorer
from llmlab.evals._stats import (
    Interval,
    bootstrap_mean_ci,
    consistency,
    flip_rate,
    pass_at_k,
    pass_hat_k,
    standard_error,
    wilson_interval,
)

__all__ = [
    "CaseFailure",
    "EvalCase",
    "EvalResult",
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
    "Regex",
    "Score",
    "Scorer",
    "Weighted",
    "bootstrap_mean_ci",
    "consistency",
    "flip_rate",
    "holm",
    "load_callable",
    "load_dataset",
    "mcnemar_exact",
    "paired_bootstrap",
    "pass_at_k",
    "pass_hat_k",
    "parse_verdict",
    "registered_scorers",
    "sample_size_mcnemar",
    "sample_size_paired_mean",
    "scorer",
    "scorers_from_spec",
    "standard_error",
    "wilson_interval",
]
