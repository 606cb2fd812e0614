"""Evaluation: run every control over the facts, roll outcomes up to tasks, practices and
groups, and score the result by the profile's priorities.

:func:`gather_facts` reads the project and its evidence store once; :func:`assess_facts` is a
pure function of those facts (and of other parties' imported verdicts), so it is easy to test
and to run anywhere.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ssdf_ai.assess._facts import Facts
from ssdf_ai.assess.controls import Control, Registry, load_registry
from ssdf_ai.assess.model import (
    Assessment,
    Basis,
    ControlEntry,
    ControlResult,
    Coverage,
    FindingStatus,
    ImportedAssessment,
    RollUp,
    Scoring,
    TaskVerdict,
)
from ssdf_ai.findings import Outcome

if TYPE_CHECKING:
    from ssdf_ai.config import LoadedConfig
    from ssdf_ai.profile import Catalog, Task
    from ssdf_ai.store import EvidenceStore

GOOD = frozenset({Outcome.SATISFIED, Outcome.WAIVED})
FAILING = frozenset({Outcome.NOT_SATISFIED, Outcome.PARTIAL, Outcome.STALE, Outcome.UNKNOWN})
IGNORED = frozenset({Outcome.NOT_APPLICABLE, Outcome.INHERITED})


def combine(outcomes: Iterable[Outcome]) -> Outcome:
    """Roll several outcomes (of controls, or of tasks) into one.

    Not-applicable and inherited outcomes do not count unless nothing else is there. All good
    is satisfied (waived if any was waived); good and stale is stale; good with unknown is
    unknown; a mix of good and bad is partial; only bad is not satisfied.

    Args:
        outcomes: The outcomes to combine.

    Returns:
        The combined outcome.
    """
    given = list(outcomes)
    relevant = {o for o in given if o not in IGNORED}
    if not relevant:
        return Outcome.INHERITED if Outcome.INHERITED in given else Outcome.NOT_APPLICABLE
    if relevant <= {Outcome.SATISFIED}:
        return Outcome.SATISFIED
    if relevant <= GOOD:
        return Outcome.WAIVED
    if relevant <= GOOD | {Outcome.STALE}:
        return Outcome.STALE
    if relevant <= GOOD | {Outcome.STALE, Outcome.UNKNOWN}:
        return Outcome.UNKNOWN
    if len(relevant) == 1:
        return next(iter(relevant))
    if relevant & (GOOD | {Outcome.PARTIAL, Outcome.STALE}):
        return Outcome.PARTIAL
    return Outcome.NOT_SATISFIED


def gather_facts(root: Path, loaded: LoadedConfig, *, now: dt.datetime, url: str | None) -> Facts:
    """Read the project and its evidence store once.

    Args:
        root: The project root.
        loaded: Its configuration.
        now: The assessment's time (UTC).
        url: The store's database URL, or ``None`` for the default file.

    Returns:
        The facts. A store that cannot be read is recorded in ``store_error``, not raised:
        the controls that need it answer ``unknown``.
    """
    from ssdf_ai.errors import Error
    from ssdf_ai.store import EvidenceStore

    facts = Facts(root=root, loaded=loaded, now=now)
    if not EvidenceStore.exists(root, url=url):
        return facts
    facts.store_present = True
    try:
        with EvidenceStore.open(root, url=url, create=False) as store:
            _read_store(facts, store)
    except Error as error:
        facts.store_error = error.message
    return facts


def _read_store(facts: Facts, store: EvidenceStore) -> None:
    from ssdf_ai.assess._facts import HISTORY_COMMANDS, MAX_HISTORY_RUNS
    from ssdf_ai.assess.decisions import load_decisions

    facts.runs = store.runs()
    facts.artifacts = store.artifacts()
    facts.blobs = store.blobs
    for run in facts.runs:  # newest first: the first run of each command is its latest
        detail = None
        if run.command in HISTORY_COMMANDS:
            kept = facts.history.setdefault(run.command, [])
            if len(kept) < MAX_HISTORY_RUNS:
                detail = store.get_run(run.id)
                kept.append(detail)
        if run.finished_at is not None and run.command not in facts.latest:
            facts.latest[run.command] = detail or store.get_run(run.id)
    open_findings = [
        (record.run_id, record.finding)
        for detail in sorted(facts.latest.values(), key=lambda d: d.run.id)
        for record in detail.findings
    ]
    by_fingerprint = {finding.fingerprint: finding for _, finding in open_findings}
    facts.decisions = load_decisions(store, facts.loaded, now=facts.now, findings=by_fingerprint)
    waived = {
        w.target.removeprefix("finding:"): w.digest
        for w in facts.decisions.waivers
        if w.valid and w.target.startswith("finding:")
    }
    facts.findings = [
        FindingStatus(
            finding=finding,
            run_id=run_id,
            fingerprint=finding.fingerprint,
            waiver=waived.get(finding.fingerprint),
        )
        for run_id, finding in open_findings
    ]


def _run_control(control: Control, facts: Facts) -> ControlResult:
    try:
        result = control.evaluate(facts)
    except Exception as exc:  # noqa: BLE001 - a failing control is "unknown", never a crash
        return control.result(Outcome.UNKNOWN, f"the control failed: {type(exc).__name__}: {exc}")
    if result.control_id != control.id:
        return control.result(
            Outcome.UNKNOWN, f"the control returned a result for {result.control_id!r}"
        )
    return result


def _apply_freshness(result: ControlResult, facts: Facts) -> ControlResult:
    """A satisfied result whose dated evidence is all older than the maximum age is stale."""
    dated = [link.observed_at for link in result.evidence if link.observed_at is not None]
    if (
        result.outcome is not Outcome.SATISFIED
        or not dated
        or not all(facts.is_stale(moment) for moment in dated)
        or facts.loaded.config.checks.unsafe_accept_stale_evidence
    ):
        return result
    days = facts.loaded.config.checks.evidence.max_age_days
    return result.model_copy(
        update={
            "outcome": Outcome.STALE,
            "rationale": f"{result.rationale} (but its evidence is older than {days} days)",
        }
    )


def _apply_waivers(result: ControlResult, facts: Facts) -> ControlResult:
    if result.outcome not in FAILING or facts.decisions is None:
        return result
    target = f"control:{result.control_id}"
    for waiver in facts.decisions.waivers:
        if waiver.valid and waiver.target == target:
            return result.model_copy(
                update={
                    "outcome": Outcome.WAIVED,
                    "waiver": waiver.digest,
                    "rationale": f"{result.rationale} (waived by {waiver.by} until "
                    f"{waiver.expires.date().isoformat()}: {waiver.justification})",
                }
            )
    return result


def _task_verdict(
    task: Task,
    practice_id: str,
    group_id: str,
    results: Sequence[tuple[Control, ControlResult]],
    facts: Facts,
    imported: Mapping[str, tuple[ImportedAssessment, TaskVerdict]],
    scoring: Scoring,
) -> TaskVerdict:
    base = {
        "task_id": task.id,
        "practice_id": practice_id,
        "group_id": group_id,
        "priority": task.priority.value,
        "controls": tuple(control.id for control, _ in results),
    }
    party = facts.loaded.config.party_for(task.id)
    if party != "self":
        if task.id in imported:
            source, theirs = imported[task.id]
            return TaskVerdict(
                **base,
                party=party,
                outcome=theirs.outcome,
                basis=Basis.INHERITED,
                rationale=f"performed by {party}; its signed assessment says {theirs.outcome}: "
                f"{theirs.rationale}",
                score=_score(theirs.outcome, scoring),
                imported_from=source.party,
            )
        return TaskVerdict(
            **base,
            party=party,
            outcome=Outcome.INHERITED,
            basis=Basis.INHERITED,
            rationale=f"performed by {party} (shared responsibility); import its signed "
            "assessment with `ssdf assess --import` to use its verdict",
        )
    attestations = [
        a for a in (facts.decisions.attestations if facts.decisions else []) if a.task_id == task.id
    ]
    current = [a for a in attestations if not a.expired]
    digests = tuple(a.digest for a in attestations)
    if results:
        outcome = combine(result.outcome for _, result in results)
        failing = [f"{c.id}: {r.rationale}" for c, r in results if r.outcome not in GOOD]
        rationale = (
            "; ".join(failing)
            if failing
            else "; ".join(f"{c.id}: {r.rationale}" for c, r in results)
        )
        basis = Basis.AUTOMATED
    elif current:
        outcome, basis = Outcome.SATISFIED, Basis.ATTESTED
        rationale = "attested by " + ", ".join(
            f"{a.by} ({a.role}) until {a.expires.date().isoformat()}" for a in current
        )
    elif attestations:
        outcome, basis = Outcome.STALE, Basis.ATTESTED
        rationale = "every attestation has expired: " + ", ".join(
            f"{a.by} on {a.expires.date().isoformat()}" for a in attestations
        )
    else:
        outcome, basis = Outcome.NEEDS_ATTESTATION, Basis.NONE
        rationale = (
            "no control checks this task and nobody has attested to it; "
            f"`ssdf attest {task.id} --statement ...` records a signed statement"
        )
    return TaskVerdict(
        **base,
        outcome=outcome,
        basis=basis,
        rationale=rationale,
        attestations=digests,
        score=_score(outcome, scoring),
    )


def _score(outcome: Outcome, scoring: Scoring) -> float | None:
    if outcome in scoring.excluded:
        return None
    return scoring.values.get(outcome, 0.0)


def weighted_score(tasks: Iterable[TaskVerdict], scoring: Scoring) -> float | None:
    """The priority-weighted score, 0-100, of the tasks that count; ``None`` if none count.

    Args:
        tasks: Task verdicts.
        scoring: Weights per priority and values per outcome.

    Returns:
        ``100 * sum(weight * value) / sum(weight)`` over tasks with a score.
    """
    total = weight_sum = 0.0
    for task in tasks:
        if task.score is None:
            continue
        weight = scoring.weights[task.priority]
        total += weight * task.score
        weight_sum += weight
    return round(100 * total / weight_sum, 1) if weight_sum else None


def _rollup(node_id: str, title: str, tasks: Sequence[TaskVerdict], scoring: Scoring) -> RollUp:
    counts: dict[Outcome, int] = {}
    for task in tasks:
        counts[task.outcome] = counts.get(task.outcome, 0) + 1
    return RollUp(
        id=node_id,
        title=title,
        outcome=combine(t.outcome for t in tasks),
        score=weighted_score(tasks, scoring),
        counts=counts,
    )


def assess_facts(
    facts: Facts,
    *,
    catalog: Catalog | None = None,
    registry: Registry | None = None,
    imported: Sequence[tuple[ImportedAssessment, Assessment]] = (),
) -> Assessment:
    """Evaluate every control and roll the outcomes up into an :class:`Assessment`.

    Args:
        facts: The facts gathered for the project.
        catalog: The profile (the packaged SP 800-218A catalog by default).
        registry: The controls (built-in plus plugins by default).
        imported: Other parties' verified assessments, with how they were imported.

    Returns:
        The assessment (not yet recorded in the store).
    """
    from ssdf_ai.profile import load_catalog

    catalog = catalog or load_catalog()
    registry = registry or load_registry()
    scoring = Scoring()
    results = [
        (c, _apply_waivers(_apply_freshness(_run_control(c, facts), facts), facts))
        for c in registry.controls
    ]
    by_task: dict[str, list[tuple[Control, ControlResult]]] = {}
    for control, result in results:
        for task_id in control.meta.task_ids:
            by_task.setdefault(task_id, []).append((control, result))
    theirs: dict[str, tuple[ImportedAssessment, TaskVerdict]] = {}
    for source, assessment in imported:
        for verdict in assessment.tasks:
            if verdict.task_id in source.task_ids:
                theirs[verdict.task_id] = (source, verdict)
    tasks: list[TaskVerdict] = []
    practices: list[RollUp] = []
    groups: list[RollUp] = []
    for group in catalog.groups:
        group_tasks: list[TaskVerdict] = []
        for practice in group.practices:
            practice_tasks = [
                _task_verdict(
                    task,
                    practice.id,
                    group.id,
                    by_task.get(task.id, []),
                    facts,
                    theirs,
                    scoring,
                )
                for task in practice.tasks
            ]
            practices.append(_rollup(practice.id, practice.title, practice_tasks, scoring))
            group_tasks.extend(practice_tasks)
        groups.append(_rollup(group.id, group.title, group_tasks, scoring))
        tasks.extend(group_tasks)
    coverage = Coverage(
        automated=sum(t.basis is Basis.AUTOMATED for t in tasks),
        attested=sum(t.basis is Basis.ATTESTED for t in tasks),
        inherited=sum(t.basis is Basis.INHERITED for t in tasks),
        none=sum(t.basis is Basis.NONE for t in tasks),
    )
    warnings = list(registry.warnings)
    if facts.store_error:
        warnings.append(f"the evidence store could not be read: {facts.store_error}")
    warnings.extend(f"{w.key}: {w.message}" for w in facts.loaded.warnings)
    decisions = facts.decisions
    return Assessment(
        id=str(uuid.uuid4()),
        created=facts.now,
        project=facts.loaded.config.project.name,
        organization_kind=facts.loaded.config.project.kind.value,
        config_file=str(facts.loaded.path) if facts.loaded.path else None,
        score=weighted_score(tasks, scoring) or 0.0,
        scoring=scoring,
        coverage=coverage,
        controls=[ControlEntry(meta=c.meta, result=r) for c, r in results],
        tasks=tasks,
        practices=practices,
        groups=groups,
        findings=facts.findings,
        attestations=list(decisions.attestations) if decisions else [],
        waivers=list(decisions.waivers) if decisions else [],
        rejected=list(decisions.rejected) if decisions else [],
        imported=[source for source, _ in imported],
        warnings=warnings,
    )
