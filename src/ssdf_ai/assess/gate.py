"""The gate: does an assessment meet the project's criteria for security checks (PO.4.1)?

``ssdf gate`` exits 1 when it does not, listing each failing control, task and finding with
what would fix it. The criteria come from ``[checks]`` in the configuration:

- every control in ``required_controls`` (every registered control when the list is empty,
  the strict default) must be satisfied or validly waived;
- every open finding at or above ``fail_on`` must be validly waived;
- every task of a priority in ``require_evidence_for`` that no control checks must rest on a
  current attestation (or, for a task another party performs, on that party's imported
  verdict).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from ssdf_ai.errors import InputError
from ssdf_ai.findings import Finding, Location, Outcome, Rule, Severity
from ssdf_ai.report.base import FindingsReport

if TYPE_CHECKING:
    from rich.console import RenderableType

    from ssdf_ai.assess.model import Assessment
    from ssdf_ai.config import ChecksSection

GOOD = (Outcome.SATISFIED, Outcome.WAIVED, Outcome.NOT_APPLICABLE)
PRIORITY_SEVERITY = {"High": Severity.HIGH, "Medium": Severity.MEDIUM, "Low": Severity.LOW}

CONTROL_FAILS = "SSDF-GATE-001"
FINDING_OPEN = "SSDF-GATE-002"
TASK_UNSUPPORTED = "SSDF-GATE-003"

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            id=CONTROL_FAILS,
            name="control-not-satisfied",
            description="A required control is not satisfied and not validly waived.",
            severity=Severity.HIGH,
            task_ids=("PO.4.1",),
        ),
        Rule(
            id=FINDING_OPEN,
            name="finding-above-threshold",
            description="An open finding at or above checks.fail_on is not validly waived.",
            severity=Severity.HIGH,
            task_ids=("PO.4.1",),
        ),
        Rule(
            id=TASK_UNSUPPORTED,
            name="task-without-evidence",
            description="A task no control checks has no current attestation (or imported "
            "verdict) satisfying it.",
            severity=Severity.MEDIUM,
            task_ids=("PO.4.1", "PO.3.3"),
        ),
    )
}


class GateReport(FindingsReport):
    """The gate's verdict: one finding per criterion not met; none when the gate passes.

    Attributes:
        project: The project's name.
        score: The assessment's score.
        assessment_id: The assessment the gate judged.
        criteria: The criteria applied, in words.
        passed: Whether every criterion is met.
    """

    report_type: ClassVar[str] = "gate"

    project: str
    score: float
    assessment_id: str
    criteria: list[str] = Field(default_factory=list)
    passed: bool
    fail_on: Severity = Severity.INFO

    def rules(self) -> list[Rule]:
        """The gate's rules that produced a finding."""
        used = dict.fromkeys(f.rule_id for f in self.findings)
        return [RULES[rule_id] for rule_id in used]

    def terminal(self) -> RenderableType:
        """The verdict, the criteria, then what fails and how to fix it."""
        from rich.console import Group
        from rich.markup import escape
        from rich.table import Table

        verdict = (
            "[bold green]gate passed[/bold green]"
            if self.passed
            else f"[bold red]gate failed[/bold red]: {len(self.findings)} criterion(s) not met"
        )
        head = f"{verdict} for {escape(self.project)} (score {self.score:.1f})\n" + "\n".join(
            f"  - {escape(c)}" for c in self.criteria
        )
        if self.passed:
            return head
        table = Table(title="what fails, and what would fix it", title_justify="left")
        for column in ("rule", "what", "fix"):
            table.add_column(column, overflow="fold")
        for f in self.findings:
            table.add_row(f.rule_id, escape(f.message), escape(f.remediation or ""))
        return Group(head, table)


def gate(assessment: Assessment, checks: ChecksSection) -> GateReport:
    """Judge an assessment against the configured criteria.

    Args:
        assessment: The assessment.
        checks: The ``[checks]`` section of the configuration.

    Returns:
        The gate report (exit code 1 when any criterion is not met).

    Raises:
        InputError: If ``required_controls`` names a control that does not exist.
    """
    known = {entry.meta.id: entry for entry in assessment.controls}
    unknown = [c for c in checks.required_controls if c not in known]
    if unknown:
        raise InputError(
            f"checks.required_controls names unknown controls: {', '.join(unknown)}",
            hint=f"known controls: {', '.join(sorted(known))} (see docs/controls.md)",
        )
    required = list(checks.required_controls) or list(known)
    priorities = {t.task_id: t.priority for t in assessment.tasks}
    failures: list[Finding] = []
    for control_id in required:
        entry = known[control_id]
        if entry.result.outcome in GOOD:
            continue
        top = min(
            (priorities[t] for t in entry.meta.task_ids if t in priorities),
            key=["High", "Medium", "Low"].index,
            default="Low",
        )
        failures.append(
            Finding(
                rule_id=CONTROL_FAILS,
                severity=PRIORITY_SEVERITY[top],
                message=f"control {control_id} is {entry.result.outcome}: {entry.result.rationale}",
                location=Location(address=f"control:{control_id}"),
                task_ids=entry.meta.task_ids,
                remediation=entry.meta.remediation,
            )
        )
    for status in assessment.findings:
        finding = status.finding
        if finding.severity < checks.fail_on or status.waiver:
            continue
        failures.append(
            Finding(
                rule_id=FINDING_OPEN,
                severity=finding.severity,
                message=f"{finding.rule_id} ({finding.severity}) is open: {finding.message}",
                location=dataclasses.replace(
                    finding.location, address=f"finding:{status.fingerprint}"
                ),
                cwe=finding.cwe,
                task_ids=finding.task_ids,
                remediation=(finding.remediation or "fix it and run the check again")
                + f"; or accept the risk: `ssdf waive finding:{status.fingerprint} ...`",
            )
        )
    wanted = set(checks.require_evidence_for)
    for task in assessment.tasks:
        if task.controls or task.priority not in wanted or task.outcome in GOOD:
            continue
        if task.outcome is Outcome.INHERITED:
            continue  # another party's task without its verdict: shown by assess, not gated
        failures.append(
            Finding(
                rule_id=TASK_UNSUPPORTED,
                severity=PRIORITY_SEVERITY[task.priority],
                message=f"task {task.task_id} ({task.priority}) is {task.outcome}"
                + ("" if task.outcome is Outcome.NEEDS_ATTESTATION else f": {task.rationale}"),
                location=Location(address=f"task:{task.task_id}"),
                task_ids=(task.task_id,),
                remediation=f"`ssdf attest {task.task_id} --statement ... --by ... --role ... "
                "--key ...` once the practice is in place",
            )
        )
    criteria = [
        "controls that must be satisfied or waived: "
        + ("all" if not checks.required_controls else ", ".join(checks.required_controls)),
        f"open findings at or above {checks.fail_on.value} must be waived",
        "tasks without a control need a current attestation, for priorities: "
        + (", ".join(checks.require_evidence_for) or "none"),
    ]
    return GateReport(
        project=assessment.project,
        score=assessment.score,
        assessment_id=assessment.id,
        criteria=criteria,
        passed=not failures,
        findings=failures,
    )
