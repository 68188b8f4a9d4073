"""Eval suites: dataset + prompt + model + scorers + threshold + trials.

In YAML (the dataset path is relative to the file; the prompt and scorer parameters are
Jinja2 templates over each case's fields)::

    name: bench
    prompt: "{{ input }}"
    dataset: samples.jsonl
    scorers:
      - includes: "{{ target }}"

or in Python: ``EvalSuite(name=..., prompt=..., cases=[...], scorers=[...])``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmlab._errors import InputError, TemplateError
from llmlab._limits import MAX_EPOCHS
from llmlab.evals._case import EvalCase, located
from llmlab.evals._combine import FunctionScorer, Weighted, as_scorer
from llmlab.evals._dataset import check_values, load_dataset
from llmlab.evals._judge import ModelGraded
from llmlab.evals._registry import scorer_from_spec, scorers_from_spec
from llmlab.evals._score import Scorer, TemplatedScorer
from llmlab.evals._template import check_syntax, render_text, render_value
from llmlab.models import Request

__all__ = ["EvalSuite", "Reducer", "SuiteSpec", "load_suite"]

Reducer = Literal["mean", "median", "majority", "pass_at_k", "pass_hat_k"]


class SuiteSpec(BaseModel):
    """A suite file's fields."""

    # NaN or infinity in a threshold, temperature or weight would pass the bounds checks
    # silently (NaN compares false) and surface only after calls were paid.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    version: int = 1
    name: str
    description: str = ""
    prompt: str
    system: str | None = None
    dataset: str | list[dict[str, Any]]
    scorers: list[Any] = Field(min_length=1)
    model: str | None = None
    judge_model: str | None = None
    threshold: float = Field(default=0.7, ge=0, le=1)
    """A case passes when its score reaches this."""
    min_pass_rate: float = Field(default=1.0, ge=0, le=1)
    """The run passes (exit 0) when this share of cases pass."""
    max_errors: int = Field(default=0, ge=0)
    """The run fails when more results than this errored (could not be scored)."""
    epochs: int = Field(default=1, ge=1, le=MAX_EPOCHS)
    reducer: Reducer = "mean"
    k: int | None = Field(default=None, ge=1)
    temperature: float | None = None
    max_tokens: int | None = Field(default=None, gt=0)
    seed: int | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class EvalSuite:
    """A suite ready to run: its cases loaded and its scorers built."""

    def __init__(
        self,
        *,
        name: str,
        prompt: str | Callable[[EvalCase], str],
        cases: Sequence[EvalCase | Mapping[str, Any]] | str | Path,
        scorers: Sequence[Scorer | Callable[..., Any] | tuple[Any, float] | Mapping[str, Any] | str]
        | Scorer,
        system: str | None = None,
        model: str | None = None,
        judge_model: str | None = None,
        threshold: float = 0.7,
        min_pass_rate: float = 1.0,
        max_errors: int = 0,
        epochs: int = 1,
        reducer: Reducer = "mean",
        k: int | None = None,
        request_options: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        spec: Mapping[str, Any] | None = None,
        path: Path | None = None,
    ) -> None:
        self.name = name
        self.prompt = prompt
        self.system = system
        check_syntax([prompt if isinstance(prompt, str) else "", system or ""])
        self.cases = load_dataset(cases)
        if isinstance(scorers, Scorer):
            self.scorer = scorers if isinstance(scorers, Weighted) else Weighted([(scorers, 1.0)])
        else:
            parts = [
                s
                if isinstance(s, tuple)
                else scorer_from_spec(s, base_dir=path.parent if path else None)
                if isinstance(s, Mapping | str)  # the YAML spelling: {"includes": "..."}
                else (as_scorer(s), 1.0)
                for s in scorers
            ]
            self.scorer = Weighted(parts)
        self.model = model
        self.judge_model = judge_model
        self.threshold = threshold
        self.min_pass_rate = min_pass_rate
        self.max_errors = max_errors
        self.epochs = epochs
        self.reducer: Reducer = reducer
        self.k = k
        self.request_options = dict(request_options or {})
        self.tags = dict(tags or {})
        self.spec = dict(spec) if spec is not None else None
        self.path = path

    @classmethod
    def from_spec(cls, spec: SuiteSpec, *, base_dir: Path, path: Path | None = None) -> EvalSuite:
        """Build a suite from parsed fields; relative paths are taken from ``base_dir``."""
        dataset: Any = spec.dataset
        if isinstance(dataset, str):
            dataset = Path(dataset) if Path(dataset).is_absolute() else base_dir / dataset
        options = {
            key: value
            for key, value in (
                ("temperature", spec.temperature),
                ("max_tokens", spec.max_tokens),
                ("seed", spec.seed),
            )
            if value is not None
        }
        return cls(
            name=spec.name,
            prompt=spec.prompt,
            system=spec.system,
            cases=dataset,
            scorers=scorers_from_spec(spec.scorers, base_dir=base_dir),
            model=spec.model,
            judge_model=spec.judge_model,
            threshold=spec.threshold,
            min_pass_rate=spec.min_pass_rate,
            max_errors=spec.max_errors,
            epochs=spec.epochs,
            reducer=spec.reducer,
            k=spec.k,
            request_options=options,
            tags=spec.tags,
            spec=spec.model_dump(mode="json"),
            path=path,
        )

    def render(self, case: EvalCase) -> tuple[str, str | None]:
        """The prompt and system prompt for one case, rendered over its fields."""
        variables = case.variables()
        try:
            if callable(self.prompt):
                text = self.prompt(case)
            else:
                text = render_text(self.prompt, variables, case_id=case.id, where="prompt")
            system = (
                render_text(self.system, variables, case_id=case.id, where="system prompt")
                if self.system
                else None
            )
        except TemplateError as exc:
            raise located(exc, case) from None
        return text, system

    def request_for(self, prompt: str, system: str | None) -> Request:
        """The request that sends a rendered prompt with the suite's options and tags."""
        tags = {"eval": self.name, **self.tags}
        return Request.of(prompt, system=system, tags=tags, **self.request_options)

    def request(self, case: EvalCase) -> Request:
        """The request for one case: the prompt rendered over the case's fields."""
        return self.request_for(*self.render(case))

    def check_templates(self) -> None:
        """Render every case's parameters once, so a missing field fails before any call."""
        for scorer, _ in self.scorer.parts:
            if isinstance(scorer, TemplatedScorer):
                scorer.prepare(self.cases)
            elif isinstance(scorer, FunctionScorer | ModelGraded):
                # Rendered again when scoring; checked here so a missing field is an
                # input error before any call, not a crash halfway through the run.
                params = scorer.params if isinstance(scorer, FunctionScorer) else scorer.rubric
                for case in self.cases:
                    try:
                        render_value(
                            params,
                            {**case.variables(), "output": ""},
                            case_id=case.id,
                            where=f"scorer {scorer.name!r}",
                        )
                    except TemplateError as exc:
                        raise located(exc, case) from None

    def release(self) -> None:
        """Forget what ``check_templates`` prepared (after a run)."""
        for scorer, _ in self.scorer.parts:
            if isinstance(scorer, TemplatedScorer):
                scorer.prepare(())

    def fingerprint(self, *, model: str, epochs: int, extra: Mapping[str, Any]) -> str:
        """A hash of everything that defines a run: suite, cases, model and options."""
        digest = hashlib.sha256()
        described: Any = self.spec
        if described is None:
            described = {
                "name": self.name,
                "prompt": self.prompt if isinstance(self.prompt, str) else repr(self.prompt),
                "system": self.system,
                "scorers": [(repr(s), w) for s, w in self.scorer.parts],
                "threshold": self.threshold,
                "reducer": self.reducer,
                "options": self.request_options,
            }
        head = {"suite": described, "model": model, "epochs": epochs, "extra": dict(extra)}
        digest.update(json.dumps(head, sort_keys=True, default=str).encode())
        for case in self.cases:
            digest.update(case.id.encode())
            digest.update(json.dumps(case.variables(), sort_keys=True, default=str).encode())
        return digest.hexdigest()


def load_suite(path: str | Path) -> EvalSuite:
    """Load a suite file (YAML)."""
    file = Path(path)
    if not file.is_file():
        raise InputError("suite file not found", path=file)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise InputError(f"malformed YAML: {exc.problem}", path=file, line=line) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason}); save it as UTF-8", path=file) from None
    except RecursionError:
        raise InputError("values nested too deep", path=file) from None
    if not isinstance(data, dict):
        raise InputError("a suite file is a mapping with name, prompt, dataset, scorers", path=file)
    check_values(data, path=str(file), line=None)  # lone surrogates, deep nesting
    try:
        spec = SuiteSpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(suite)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InputError(f"invalid suite: {problems}", path=file) from None
    try:
        return EvalSuite.from_spec(spec, base_dir=file.resolve().parent, path=file)
    except InputError as exc:
        if exc.path is not None:
            raise
        raise InputError(str(exc), path=file) from None
