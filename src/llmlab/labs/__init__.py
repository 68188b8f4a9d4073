"""The labs: a hands-on curriculum graded on the same eval, prompt and monitoring machinery.

A lab is data (``curriculum/NN-slug/`` with ``lab.toml``, a brief, starter files, a
reference solution and hidden held-out data); grading runs the criteria its
``lab.toml`` names. ``llmlab labs`` is the command line over this package.
"""

from llmlab.labs._context import GradeContext, Kind, criterion_kind, criterion_kinds
from llmlab.labs._grade import DEFAULT_LAB_MODEL, check_lab, record_attempt
from llmlab.labs._lab import CURRICULUM, TRACKS, Criterion, Lab, find_lab, load_labs
from llmlab.labs._learner import (
    call_learner,
    learner_callable,
    load_learner_module,
    load_learner_toml,
    load_learner_yaml,
)
from llmlab.labs._progress import (
    LabStatus,
    Status,
    lab_statuses,
    next_lab,
    progress_of,
    reveal_solution,
    show_hint,
    start_progress,
)
from llmlab.labs._report import report_lines
from llmlab.labs._results import CaseDetail, CheckReport, CriterionResult, fraction_text
from llmlab.labs._verify import VerifyResult, verify_labs
from llmlab.labs._watch import watch_files
from llmlab.labs._workspace import (
    MARKER,
    WORKSPACE_DIR,
    CopyResult,
    copy_starter,
    find_workspace,
    lab_in_folder,
    learner_files,
    reset_starter,
    solution_files,
    starter_files,
)

__all__ = [
    "CURRICULUM",
    "DEFAULT_LAB_MODEL",
    "MARKER",
    "TRACKS",
    "WORKSPACE_DIR",
    "CaseDetail",
    "CheckReport",
    "CopyResult",
    "Criterion",
    "CriterionResult",
    "GradeContext",
    "Kind",
    "Lab",
    "LabStatus",
    "Status",
    "VerifyResult",
    "call_learner",
    "check_lab",
    "copy_starter",
    "criterion_kind",
    "criterion_kinds",
    "find_lab",
    "find_workspace",
    "fraction_text",
    "lab_in_folder",
    "lab_statuses",
    "learner_callable",
    "learner_files",
    "load_labs",
    "load_learner_module",
    "load_learner_toml",
    "load_learner_yaml",
    "next_lab",
    "progress_of",
    "record_attempt",
    "report_lines",
    "reset_starter",
    "reveal_solution",
    "show_hint",
    "solution_files",
    "start_progress",
    "starter_files",
    "verify_labs",
    "watch_files",
]
