"""Comparing two assessments: what changed since an earlier run (PO.4.1: track throughout
the life cycle)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.findings import Outcome
from ssdf_ai.report.base import Report

if TYPE_CHECKING:
    from rich.console import RenderableType

    from ssdf_ai.assess.model import Assessment


class Change(BaseModel):
    """One task or control whose outcome changed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    before: Outcome | None
    after: Outcome | None


class CompareReport(Report):
    """What changed between an earlier assessment and this one.

    Attributes:
        project: The project.
        before_run: The run that recorded the earlier assessment.
        before_created: When it was made.
        after_created: When the current one was made.
        score_before: Its score.
        score_after: The current score.
        tasks: Tasks whose outcome changed.
        controls: Controls whose outcome changed.
        findings_opened: Fingerprints of findings open now but not before.
        findings_closed: Fingerprints of findings open before but not now.
    """

    report_type: ClassVar[str] = "assessment-compare"

    project: str
    before_run: int | None
    before_created: dt.datetime
    after_created: dt.datetime
    score_before: float
    score_after: float
    tasks: list[Change] = Field(default_factory=list)
    controls: list[Change] = Field(default_factory=list)
    findings_opened: list[str] = Field(default_factory=list)
    findings_closed: list[str] = Field(default_factory=list)

    def terminal(self) -> RenderableType:
        """The score change, then each changed task and control."""
        from rich.console import Group
        from rich.table import Table

        delta = self.score_after - self.score_before
        head = (
            f"[bold]{self.project}[/bold]: score {self.score_before:.1f} -> "
            f"{self.score_after:.1f} ({delta:+.1f}) since the assessment of "
            f"{self.before_created:%Y-%m-%d %H:%M} UTC"
            + (f" (run {self.before_run})" if self.before_run is not None else "")
        )
        parts: list[RenderableType] = [head]
        for title, changes in (("tasks", self.tasks), ("controls", self.controls)):
            if not changes:
                parts.append(f"no {title} changed")
                continue
            table = Table(title=f"{title} that changed", title_justify="left")
            for column in ("id", "before", "after"):
                table.add_column(column)
            for c in changes:
                table.add_row(c.id, c.before or "-", c.after or "-")
            parts.append(table)
        parts.append(
            f"findings opened: {len(self.findings_opened)}, closed: {len(self.findings_closed)}"
        )
        return Group(*parts)


def _changes(before: dict[str, Outcome], after: dict[str, Outcome]) -> list[Change]:
    ids = list(after) + [i for i in before if i not in after]
    return [
        Change(id=i, before=before.get(i), after=after.get(i))
        for i in ids
        if before.get(i) != after.get(i)
    ]


def compare(before: Assessment, after: Assessment) -> CompareReport:
    """Compare two assessments of the same project.

    Args:
        before: The earlier assessment.
        after: The later one.

    Returns:
        What changed.
    """
    before_findings = {f.fingerprint for f in before.findings}
    after_findings = {f.fingerprint for f in after.findings}
    return CompareReport(
        project=after.project,
        before_run=before.run_id,
        before_created=before.created,
        after_created=after.created,
        score_before=before.score,
        score_after=after.score,
        tasks=_changes(
            {t.task_id: t.outcome for t in before.tasks},
            {t.task_id: t.outcome for t in after.tasks},
        ),
        controls=_changes(
            {c.meta.id: c.result.outcome for c in before.controls},
            {c.meta.id: c.result.outcome for c in after.controls},
        ),
        findings_opened=sorted(after_findings - before_findings),
        findings_closed=sorted(before_findings - after_findings),
    )
