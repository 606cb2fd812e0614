"""The report ``ssdf code`` writes: what was analysed, the findings, the suppressed findings."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.findings import Rule, Severity
from ssdf_ai.report.base import FindingsReport

if TYPE_CHECKING:
    from rich.console import RenderableType

    from ssdf_ai.code.analyze import CodeResult


class SuppressedFinding(BaseModel):
    """A finding suppressed by an ``# ssdf: ignore[RULE] justification`` comment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str = Field(description="The rule of the suppressed finding.")
    path: str = Field(description="Its file, relative to the project root when inside it.")
    line: int = Field(ge=1)
    justification: str = Field(min_length=1, description="The reason the comment gives.")
    message: str = Field(description="What the finding said.")


class CodeReport(FindingsReport):
    """What ``ssdf code`` found.

    Attributes:
        path: The file or folder analysed (relative to the project root when inside it).
        files: Python files and notebooks analysed.
        notebooks: Notebooks among them.
        lines: Source lines read.
        not_analysed: Files that could not be parsed (each is also a finding).
        rules_run: The rule ids that ran (all unless ``--rule`` narrowed them).
        counts: Rule id -> findings reported under it.
        suppressed: Findings suppressed with a justification.
        seconds: How long the analysis took.
    """

    report_type: ClassVar[str] = "code"

    path: str
    files: int = Field(ge=0, default=0)
    notebooks: int = Field(ge=0, default=0)
    lines: int = Field(ge=0, default=0)
    not_analysed: int = Field(ge=0, default=0)
    rules_run: list[str] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    suppressed: list[SuppressedFinding] = Field(default_factory=list)
    seconds: float = Field(ge=0, default=0.0)

    @classmethod
    def from_result(
        cls,
        result: CodeResult,
        *,
        path: str,
        rules_run: list[str],
        fail_on: Severity,
    ) -> CodeReport:
        """Build the report from :func:`ssdf_ai.code.analyze.analyze_path`'s result."""
        counts: dict[str, int] = {}
        for finding in result.findings:
            counts[finding.rule_id] = counts.get(finding.rule_id, 0) + 1
        return cls(
            path=path,
            files=result.files,
            notebooks=result.notebooks,
            lines=result.lines,
            not_analysed=result.not_analysed,
            rules_run=rules_run,
            counts=dict(sorted(counts.items())),
            suppressed=[
                SuppressedFinding(
                    rule_id=s.rule_id,
                    path=s.path,
                    line=s.line,
                    justification=s.justification,
                    message=s.message,
                )
                for s in result.suppressed
            ],
            findings=result.findings,
            fail_on=fail_on,
            seconds=round(result.seconds, 3),
        )

    def rules(self) -> list[Rule]:
        """Metadata of every code rule that produced a finding."""
        from ssdf_ai.code import code_rules

        used = {f.rule_id for f in self.findings}
        return [rule for rule_id, rule in code_rules.RULES.items() if rule_id in used]

    def terminal(self) -> RenderableType:
        """A summary line, the per-rule counts, then the findings table."""
        from rich.console import Group
        from rich.markup import escape
        from rich.table import Table

        from ssdf_ai.code import code_rules

        summary = (
            f"{escape(self.path)}: {self.files} file(s) ({self.notebooks} notebook(s)), "
            f"{self.lines} line(s), {len(self.findings)} finding(s), "
            f"{len(self.suppressed)} suppressed"
        )
        if self.not_analysed:
            summary += f", [yellow]{self.not_analysed} not analysed[/yellow]"
        parts: list[RenderableType] = [summary]
        if self.counts:
            table = Table(title="findings by rule")
            for column in ("rule", "name", "count"):
                table.add_column(column)
            for rule_id, count in self.counts.items():
                rule = code_rules.RULES.get(rule_id)
                table.add_row(rule_id, rule.name if rule else "", str(count))
            parts.append(table)
        parts.append(super().terminal())
        return Group(*parts)
