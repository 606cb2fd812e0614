"""What the assessment renderers share: outcome order and labels, the remediation list, open
findings and the score breakdown.

Private to :mod:`ssdf_ai.report`; every function is pure and works from one
:class:`~ssdf_ai.assess.model.Assessment` alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ssdf_ai.assess.model import Effort
from ssdf_ai.findings import Outcome

if TYPE_CHECKING:
    from ssdf_ai.assess.model import (
        Assessment,
        ControlEntry,
        FindingStatus,
        TaskVerdict,
        WaiverSummary,
    )

OUTCOME_ORDER: tuple[Outcome, ...] = (
    Outcome.SATISFIED,
    Outcome.WAIVED,
    Outcome.PARTIAL,
    Outcome.STALE,
    Outcome.NEEDS_ATTESTATION,
    Outcome.NOT_SATISFIED,
    Outcome.UNKNOWN,
    Outcome.INHERITED,
    Outcome.NOT_APPLICABLE,
)
"""The order outcomes are shown in: done first, then partly done, then not done, then the rest."""

OUTCOME_LABEL: dict[Outcome, str] = {
    Outcome.SATISFIED: "satisfied",
    Outcome.WAIVED: "waived",
    Outcome.PARTIAL: "partial",
    Outcome.STALE: "stale",
    Outcome.NEEDS_ATTESTATION: "needs attestation",
    Outcome.NOT_SATISFIED: "not satisfied",
    Outcome.UNKNOWN: "unknown",
    Outcome.INHERITED: "inherited",
    Outcome.NOT_APPLICABLE: "not applicable",
}
"""How each outcome reads in a sentence."""

DONE: frozenset[Outcome] = frozenset(
    {Outcome.SATISFIED, Outcome.WAIVED, Outcome.NOT_APPLICABLE, Outcome.INHERITED}
)
"""Outcomes that ask nothing more of this project (inherited ones ask it of another party)."""

ATTENTION: tuple[Outcome, ...] = (
    Outcome.NOT_SATISFIED,
    Outcome.NEEDS_ATTESTATION,
    Outcome.UNKNOWN,
    Outcome.STALE,
    Outcome.PARTIAL,
)
"""Outcomes that need work, in the order a reader should take them."""

PRIORITY_RANK: dict[str, int] = {"High": 0, "Medium": 1, "Low": 2}
EFFORT_RANK: dict[Effort, int] = {Effort.LOW: 0, Effort.MEDIUM: 1, Effort.HIGH: 2}


def utc(when: dt.datetime) -> dt.datetime:
    """Return ``when`` as an aware UTC time (a naive time is taken to be UTC already)."""
    if when.tzinfo is None or when.utcoffset() is None:
        return when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


def stamp(when: dt.datetime) -> str:
    """Return ``when`` as ``2024-07-26T12:00:00+00:00`` (UTC, whole seconds)."""
    return utc(when).isoformat(timespec="seconds")


def day(when: dt.datetime) -> str:
    """Return ``when`` as a UTC date and time for people: ``2024-07-26 12:00 UTC``."""
    return utc(when).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Remediation:
    """One control to fix, with the most urgent task it bears on.

    Attributes:
        entry: The control and its result.
        priority: The highest priority among the tasks it bears on (``High`` first).
        task_ids: The tasks it bears on.
    """

    entry: ControlEntry
    priority: str
    task_ids: tuple[str, ...]


def remediations(assessment: Assessment) -> list[Remediation]:
    """Return the controls that are not satisfied, most urgent and cheapest first.

    A control counts when its outcome is not satisfied, partial, stale or unknown (waived and
    not-applicable controls ask nothing). The order is the highest priority of the tasks the
    control bears on, then effort (low first: quick wins), then the control id.

    Args:
        assessment: The assessment.

    Returns:
        The remediation list.
    """
    priority = {t.task_id: t.priority for t in assessment.tasks}
    out: list[Remediation] = []
    for entry in assessment.controls:
        if entry.result.outcome in DONE:
            continue
        ranks = [PRIORITY_RANK[priority[t]] for t in entry.meta.task_ids if t in priority]
        best = min(ranks, default=PRIORITY_RANK["Low"])
        name = next(k for k, v in PRIORITY_RANK.items() if v == best)
        out.append(Remediation(entry, name, entry.meta.task_ids))
    out.sort(
        key=lambda r: (PRIORITY_RANK[r.priority], EFFORT_RANK[r.entry.meta.effort], r.entry.meta.id)
    )
    return out


def waivers_by_digest(assessment: Assessment) -> dict[str, WaiverSummary]:
    """Return the assessment's waivers keyed by envelope digest."""
    return {w.digest: w for w in assessment.waivers}


def finding_waived(assessment: Assessment, status: FindingStatus) -> bool:
    """Whether a valid waiver covers an open finding.

    A finding that names a waiver the assessment lists as invalid counts as unwaived (fail
    closed); one that names a waiver the assessment does not list is taken at its word, since
    the evaluation only sets the field for waivers that took effect.

    Args:
        assessment: The assessment.
        status: The finding and its waiver.

    Returns:
        ``True`` when the finding is waived.
    """
    if status.waiver is None:
        return False
    waiver = waivers_by_digest(assessment).get(status.waiver)
    return waiver is None or waiver.valid


def open_findings(assessment: Assessment) -> list[FindingStatus]:
    """Return the open findings that no valid waiver covers, most severe first."""
    found = [f for f in assessment.findings if not finding_waived(assessment, f)]
    return sorted(found, key=lambda f: (-f.finding.severity.rank, f.finding.rule_id, f.fingerprint))


def waived_findings(assessment: Assessment) -> list[FindingStatus]:
    """Return the open findings that a valid waiver covers, most severe first."""
    found = [f for f in assessment.findings if finding_waived(assessment, f)]
    return sorted(found, key=lambda f: (-f.finding.severity.rank, f.finding.rule_id, f.fingerprint))


def attention_tasks(assessment: Assessment) -> list[TaskVerdict]:
    """Return the tasks that need work, by outcome (see :data:`ATTENTION`), then priority."""
    order = {o: i for i, o in enumerate(ATTENTION)}
    tasks = [t for t in assessment.tasks if t.outcome in order]
    position = {t.task_id: i for i, t in enumerate(assessment.tasks)}
    return sorted(
        tasks,
        key=lambda t: (order[t.outcome], PRIORITY_RANK[t.priority], position[t.task_id]),
    )


def task_value(assessment: Assessment, task: TaskVerdict) -> float | None:
    """Return a task's value in the score (0 to 1), or ``None`` when it does not count."""
    if task.outcome in assessment.scoring.excluded:
        return None
    if task.score is not None:
        return task.score
    return assessment.scoring.values.get(task.outcome, 0.0)


@dataclass(frozen=True)
class ScoreBreakdown:
    """The sums behind the score, recomputed from the task verdicts.

    Attributes:
        counted: Tasks that count.
        excluded: Tasks left out (not applicable, inherited).
        weight: The sum of the counted tasks' weights.
        earned: The sum of weight times value.
        score: ``100 * earned / weight``, ``None`` when nothing counts.
    """

    counted: int
    excluded: int
    weight: float
    earned: float
    score: float | None


def score_breakdown(assessment: Assessment) -> ScoreBreakdown:
    """Recompute the score from the task verdicts and the assessment's scoring rules."""
    counted = excluded = 0
    weight = earned = 0.0
    for task in assessment.tasks:
        value = task_value(assessment, task)
        if value is None:
            excluded += 1
            continue
        w = float(assessment.scoring.weights.get(task.priority, 1))
        counted += 1
        weight += w
        earned += w * value
    score = 100.0 * earned / weight if weight else None
    return ScoreBreakdown(counted, excluded, weight, earned, score)


def count_outcomes(tasks: list[TaskVerdict]) -> dict[Outcome, int]:
    """Count tasks per outcome, every outcome present (zero where none)."""
    counts = dict.fromkeys(OUTCOME_ORDER, 0)
    for task in tasks:
        counts[task.outcome] += 1
    return counts
