"""Judge calibration on a stored run: agreement of each scorer with the human labels,
on a held-out split when asked, and the pass rate of the unlabelled results corrected
for the judge's errors.

Verdicts are compared per result (case and epoch). A scorer's verdict on a result is its
part of the combined score reaching the run's threshold; an errored verdict is left out
(and counted). Labels made on a run also count for runs re-scored from it (same outputs).

A model-graded scorer is known by its *judge key* (a hash of its rubric, template and
judge model): the runner writes the keys into the run summary, each measurement is kept
per key, and a later run with the same judge shows the newest measurement in its summary.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from llmlab._errors import InputError
from llmlab._json import JsonObject, JsonValue
from llmlab.evals._agreement import (
    Agreement,
    CalibrationError,
    CorrectedRate,
    agreement,
    corrected_pass_rate,
)
from llmlab.evals._history import resolve_run
from llmlab.evals._judge import ModelGraded
from llmlab.evals._score import Scorer
from llmlab.evals._suite import EvalSuite
from llmlab.store import (
    CalibrationRow,
    EvalResultRow,
    EvalRunRow,
    LabelRow,
    Store,
    get_eval_results,
    get_eval_run,
    insert_calibration,
    latest_calibrations,
    list_labels,
    resolve_store,
    update_run_summary,
)

__all__ = [
    "AgreementReport",
    "ScorerAgreement",
    "calibration_status",
    "judge_key",
    "judge_summary",
    "judges_of",
    "measure_agreement",
    "parse_split",
]

OVERALL = "score"
"""The name of the combined verdict, for results stored without per-scorer parts."""


def judge_key(scorer: ModelGraded, model: str) -> str:
    """The identity of a judge: its rubric, template, structured flag and model."""
    described = {
        "rubric": scorer.rubric,
        "template": scorer.template,
        "structured": scorer.structured,
        "model": model,
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:32]


def judges_of(scorers: Sequence[tuple[Scorer, float]], default_model: str) -> dict[str, JsonObject]:
    """The model-graded parts of a combined scorer, by name: their judge model and key."""
    out: dict[str, JsonObject] = {}
    for scorer, _ in scorers:
        if isinstance(scorer, ModelGraded):
            model = scorer.model if isinstance(scorer.model, str) else None
            if model is None and scorer.model is not None:
                model = str(getattr(scorer.model, "full_name", scorer.model))
            chosen = model or default_model
            out[scorer.name] = {"model": chosen, "key": judge_key(scorer, chosen)}
    return out


def calibration_status(
    judges: Mapping[str, JsonValue], *, store: Store | None = None
) -> dict[str, JsonObject]:
    """``judges`` (as :func:`judges_of` gives them) with the newest calibration of each:
    ``calibrated`` and, when calibrated, the labels, TPR, TNR, accuracy and kappa."""
    db = resolve_store(store)
    keys = [str(j.get("key")) for j in judges.values() if isinstance(j, Mapping) and j.get("key")]
    found = latest_calibrations(db, keys)
    out: dict[str, JsonObject] = {}
    for name, judge in judges.items():
        if not isinstance(judge, Mapping):
            continue
        row = found.get(str(judge.get("key")))
        status: JsonObject = {**judge, "calibrated": row is not None}
        if row is not None:
            status.update(
                labels=row.n_labels,
                tpr=row.tpr,
                tnr=row.tnr,
                accuracy=row.accuracy,
                kappa=row.kappa,
                calibrated_on=row.run_id,
            )
        out[name] = status
    return out


def parse_split(text: str) -> tuple[float, float]:
    """``"dev=0.4,test=0.6"`` as (dev share, test share).

    Raises:
        InputError: not that shape, or the shares do not add up to 1.
    """
    shares: dict[str, float] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        try:
            shares[key.strip()] = float(value) if sep else -1.0
        except ValueError:
            shares[key.strip()] = -1.0
    if set(shares) != {"dev", "test"} or min(shares.values()) <= 0:
        raise InputError(f"--split {text!r}: expected dev=SHARE,test=SHARE, e.g. dev=0.4,test=0.6")
    if abs(shares["dev"] + shares["test"] - 1) > 1e-9:
        raise InputError(f"--split {text!r}: the dev and test shares must add up to 1")
    return shares["dev"], shares["test"]


@dataclass(frozen=True, slots=True)
class ScorerAgreement:
    """One scorer against the human labels of one run."""

    scorer: str
    model_graded: bool
    labelled: int
    """Labelled results with a verdict of this scorer."""
    errored: int
    """Labelled results whose verdict errored (left out)."""
    overall: Agreement
    dev: Agreement | None
    test: Agreement | None
    unlabelled: int
    corrected: CorrectedRate | None
    problem: str | None
    """Why there is no corrected rate (too few labels, a judge no better than chance)."""

    def to_dict(self) -> JsonObject:
        return {
            "scorer": self.scorer,
            "model_graded": self.model_graded,
            "labelled": self.labelled,
            "errored": self.errored,
            "agreement": self.overall.to_dict(),
            "dev": self.dev.to_dict() if self.dev is not None else None,
            "test": self.test.to_dict() if self.test is not None else None,
            "unlabelled": self.unlabelled,
            "corrected_pass_rate": self.corrected.to_dict() if self.corrected else None,
            "problem": self.problem,
        }


@dataclass(frozen=True, slots=True)
class AgreementReport:
    """Every scorer of a run against its human labels."""

    run_id: str
    threshold: float
    labels: int
    split: tuple[float, float] | None
    seed: int
    scorers: list[ScorerAgreement] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every scorer's pass rate could be corrected."""
        return all(s.problem is None for s in self.scorers)

    def to_dict(self) -> JsonObject:
        return {
            "run_id": self.run_id,
            "threshold": self.threshold,
            "labels": self.labels,
            "split": {"dev": self.split[0], "test": self.split[1]} if self.split else None,
            "seed": self.seed,
            "ok": self.ok,
            "scorers": [s.to_dict() for s in self.scorers],
        }


def _verdict(result: EvalResultRow, scorer: str, threshold: float) -> bool | None:
    """The scorer's pass/fail on one result; None when it errored."""
    if scorer == OVERALL and not result.scores:
        return None if result.errored else result.passed
    value = result.scores.get(scorer)
    return None if value is None else value >= threshold


def _labels_with_parents(db: Store, run: EvalRunRow) -> dict[tuple[str, int], LabelRow]:
    chain = [run.id]
    parent = run.parent_run
    while parent is not None and parent not in chain and len(chain) < 20:
        chain.append(parent)
        found = get_eval_run(db, parent)
        parent = found.parent_run if found is not None else None
    labels: dict[tuple[str, int], LabelRow] = {}
    rank = {run_id: i for i, run_id in enumerate(chain)}
    for label in sorted(list_labels(db, chain), key=lambda lb: -rank[lb.run_id]):
        labels[(label.case_id, label.epoch)] = label  # the run's own label wins
    return labels


def _split_cases(cases: Sequence[str], dev: float, seed: int) -> tuple[set[str], set[str]]:
    shuffled = sorted(cases)
    random.Random(seed).shuffle(shuffled)
    n_dev = round(dev * len(shuffled))
    return set(shuffled[:n_dev]), set(shuffled[n_dev:])


def _one_scorer(
    name: str,
    model_graded: bool,
    results: Sequence[EvalResultRow],
    labels: Mapping[tuple[str, int], LabelRow],
    threshold: float,
    split: tuple[set[str], set[str]] | None,
    confidence: float,
    seed: int,
) -> ScorerAgreement:
    pairs: list[tuple[str, bool, bool]] = []  # case, human, judge
    errored = 0
    unlabelled: list[bool] = []
    for r in results:
        verdict = _verdict(r, name, threshold)
        label = labels.get((r.case_id, r.epoch))
        if label is None:
            if verdict is not None:
                unlabelled.append(verdict)
        elif verdict is None:
            errored += 1
        else:
            pairs.append((r.case_id, label.passed, verdict))

    def measured(keep: set[str] | None) -> Agreement:
        chosen = [(h, j) for case, h, j in pairs if keep is None or case in keep]
        return agreement([h for h, _ in chosen], [j for _, j in chosen], confidence)

    overall = measured(None)
    dev = measured(split[0]) if split else None
    test = measured(split[1]) if split else None
    calibration = (test or overall).confusion
    corrected: CorrectedRate | None = None
    problem: str | None = None
    # No unlabelled results: correct the whole run's verdicts (what was labelled too).
    observed = unlabelled or [j for _, _, j in pairs]
    try:
        corrected = corrected_pass_rate(
            sum(observed), len(observed), calibration, confidence=confidence, seed=seed
        )
    except CalibrationError as exc:
        problem = str(exc)
    return ScorerAgreement(
        scorer=name,
        model_graded=model_graded,
        labelled=len(pairs),
        errored=errored,
        overall=overall,
        dev=dev,
        test=test,
        unlabelled=len(unlabelled),
        corrected=corrected,
        problem=problem,
    )


def _scorer_names(results: Sequence[EvalResultRow]) -> list[str]:
    names = sorted({name for r in results for name in r.scores})
    return names or [OVERALL]


def _record(db: Store, run: EvalRunRow, report: AgreementReport) -> None:
    """Keep each model-graded scorer's measurement and refresh the run's summary."""
    summary = dict(run.summary or {})
    judges = summary.get("judges")
    if not isinstance(judges, Mapping):
        return
    now = datetime.now(UTC)
    for s in report.scorers:
        judge = judges.get(s.scorer)
        if not isinstance(judge, Mapping) or not judge.get("key") or s.labelled == 0:
            continue
        a = s.test or s.overall
        insert_calibration(
            db,
            CalibrationRow(
                judge_key=str(judge["key"]),
                scorer=s.scorer,
                run_id=run.id,
                n_labels=a.confusion.n,
                tpr=a.tpr.estimate if a.tpr else None,
                tnr=a.tnr.estimate if a.tnr else None,
                accuracy=a.accuracy.estimate if a.accuracy else None,
                kappa=a.kappa.estimate if a.kappa else None,
                measured_at=now,
            ),
        )
    summary["judges"] = calibration_status(judges, store=db)
    update_run_summary(db, run.id, summary)


def measure_agreement(
    run: str,
    *,
    scorer: str | None = None,
    split: str | tuple[float, float] | None = None,
    seed: int = 0,
    confidence: float = 0.95,
    record: bool = True,
    store: Store | None = None,
) -> AgreementReport:
    """Agreement of run ``run``'s scorers (or the one named) with its human labels.

    Args:
        split: ``"dev=0.4,test=0.6"`` or (dev, test) shares: labelled cases are split
            at random (``seed``); agreement is reported on both, and the corrected pass
            rate uses the test split's TPR and TNR (held out from any tuning on dev).
        record: keep the measurement of each model-graded scorer (what later runs with
            the same judge show in their summary).

    Raises:
        InputError: the run has no labels, or no scorer of that name.
    """
    db = resolve_store(store)
    facts = resolve_run(run, store=db)
    labels = _labels_with_parents(db, facts)
    if not labels:
        raise InputError(
            f"run {facts.id} has no human labels; add some with "
            f"'llmlab eval label {facts.id} --file labels.csv' or '--interactive'"
        )
    results = get_eval_results(db, facts.id, brief=True)
    names = _scorer_names(results)
    if scorer is not None:
        if scorer not in names:
            raise InputError(f"run {facts.id} has no scorer {scorer!r}; it has {', '.join(names)}")
        names = [scorer]
    shares = parse_split(split) if isinstance(split, str) else split
    labelled_cases = sorted({case for case, _ in labels})
    parts = _split_cases(labelled_cases, shares[0], seed) if shares else None
    judges = (facts.summary or {}).get("judges") or {}
    report = AgreementReport(
        run_id=facts.id,
        threshold=facts.threshold,
        labels=len(labels),
        split=shares,
        seed=seed,
        scorers=[
            _one_scorer(
                name, name in judges, results, labels, facts.threshold, parts, confidence, seed
            )
            for name in names
        ],
    )
    if record:
        _record(db, facts, report)
    return report


def judge_summary(
    suite: EvalSuite, default_model: str, *, store: Store | None = None
) -> dict[str, JsonObject]:
    """What a run summary says of the suite's model-graded scorers: each one's judge model
    (``default_model`` unless it names its own), judge key, and whether (and how well)
    that judge has been calibrated."""
    judges = judges_of(suite.scorer.parts, default_model)
    return calibration_status(judges, store=store) if judges else {}
