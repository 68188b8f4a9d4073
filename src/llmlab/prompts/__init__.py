"""Prompt versions, rendering, registry, labels, prompts as files and experiments."""

from llmlab.prompts._assign import Allocation, unit_point
from llmlab.prompts._call import (
    call_experiment,
    call_experiment_sync,
    call_prompt,
    call_prompt_sync,
)
from llmlab.prompts._compare import ABComparison, MetricDelta, compare_prompt_versions
from llmlab.prompts._diff import FieldChange, PromptDiff, diff_versions
from llmlab.prompts._experiments import (
    Arm,
    Experiment,
    Experiments,
    assign,
    clear_prompt_cache,
    experiments,
)
from llmlab.prompts._files import (
    PromptFile,
    PushResult,
    pull_prompts,
    push_prompts,
    read_prompt_file,
)
from llmlab.prompts._metrics import (
    ArmReport,
    CallMetrics,
    ExperimentReport,
    QualityMetrics,
    experiment_report,
    record_feedback,
    version_metrics,
)
from llmlab.prompts._moments import MeanEstimate
from llmlab.prompts._refs import PromptRef
from llmlab.prompts._registry import (
    LabelMove,
    PromptArchivedWarning,
    PromptRegistry,
    PromptSummary,
    get_prompt,
    prompt_registry,
)
from llmlab.prompts._render import PromptVariableWarning
from llmlab.prompts._version import ModelConfig, PromptVersion, content_hash

__all__ = [
    "ABComparison",
    "MetricDelta",
    "compare_prompt_versions",
    "Allocation",
    "Arm",
    "ArmReport",
    "CallMetrics",
    "Experiment",
    "ExperimentReport",
    "Experiments",
    "FieldChange",
    "LabelMove",
    "MeanEstimate",
    "ModelConfig",
    "PromptArchivedWarning",
    "PromptDiff",
    "PromptFile",
    "PromptRef",
    "PromptRegistry",
    "PromptSummary",
    "PromptVariableWarning",
    "PromptVersion",
    "PushResult",
    "QualityMetrics",
    "assign",
    "call_experiment",
    "call_experiment_sync",
    "call_prompt",
    "call_prompt_sync",
    "clear_prompt_cache",
    "content_hash",
    "diff_versions",
    "experiment_report",
    "experiments",
    "get_prompt",
    "prompt_registry",
    "pull_prompts",
    "push_prompts",
    "read_prompt_file",
    "record_feedback",
    "unit_point",
    "version_metrics",
]
