"""The terminal view of an assessment: score, coverage, roll-ups, tasks, remediation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ssdf_ai.findings import Outcome

if TYPE_CHECKING:
    from rich.console import RenderableType

    from ssdf_ai.assess.model import Assessment, RollUp

STYLE = {
    Outcome.SATISFIED: "green",
    Outcome.WAIVED: "cyan",
    Outcome.PARTIAL: "yellow",
    Outcome.STALE: "yellow",
    Outcome.NOT_SATISFIED: "red",
    Outcome.UNKNOWN: "magenta",
    Outcome.NEEDS_ATTESTATION: "bright_black",
    Outcome.INHERITED: "blue",
    Outcome.NOT_APPLICABLE: "bright_black",
}


def outcome_text(outcome: Outcome) -> Text:
    """The outcome as coloured text (the word is always there: never colour alone)."""
    return Text(outcome.value, style=STYLE[outcome])


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _rollup_table(title: str, rows: list[RollUp]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("id", "title", "score", "outcome", "tasks by outcome"):
        table.add_column(column)
    for row in rows:
        counts = ", ".join(f"{n} {o.value}" for o, n in sorted(row.counts.items()))
        table.add_row(
            row.id, escape(row.title), _score(row.score), outcome_text(row.outcome), counts
        )
    return table


def assessment_view(assessment: Assessment) -> RenderableType:
    """Build the terminal view of an assessment.

    Args:
        assessment: The assessment.

    Returns:
        A rich renderable.
    """
    a = assessment
    cov = a.coverage
    head = Text.assemble(
        ("SP 800-218A assessment of ", "bold"),
        (a.project, "bold"),
        f" ({a.organization_kind}), {a.created:%Y-%m-%d %H:%M} UTC\n",
        ("score ", "bold"),
        (f"{a.score:.1f}", "bold"),
        " / 100 (weighted by task priority: High 3, Medium 2, Low 1)\n",
        f"coverage of {cov.total} tasks: {cov.automated} automated evidence, "
        f"{cov.attested} attested, {cov.inherited} inherited, {cov.none} on nothing",
    )
    tasks = Table(title="tasks", title_justify="left")
    for column in ("task", "priority", "outcome", "basis", "why"):
        tasks.add_column(column, overflow="fold")
    for t in a.tasks:
        tasks.add_row(
            t.task_id, t.priority, outcome_text(t.outcome), t.basis.value, escape(t.rationale)
        )
    parts: list[RenderableType] = [
        head,
        _rollup_table("groups", a.groups),
        _rollup_table("practices", a.practices),
        tasks,
    ]
    todo = [c for c in a.controls if c.result.outcome not in (Outcome.SATISFIED, Outcome.WAIVED)]
    if todo:
        fixes = Table(title="remediation", title_justify="left")
        for column in ("control", "tasks", "outcome", "what to do"):
            fixes.add_column(column, overflow="fold")
        for entry in todo:
            fixes.add_row(
                entry.meta.id,
                ", ".join(entry.meta.task_ids),
                outcome_text(entry.result.outcome),
                escape(entry.meta.remediation),
            )
        parts.append(fixes)
    if a.rejected:
        parts.append(
            "[bold]refused signed records[/bold]\n"
            + "\n".join(f"  {r.kind} {r.digest[:19]}: {escape(r.reason)}" for r in a.rejected)
        )
    if a.warnings:
        parts.append("[bold]warnings[/bold]\n" + "\n".join(f"  {escape(w)}" for w in a.warnings))
    return Group(*parts)
