"""The report models every command returns, and the interface renderers rely on.

A command builds one :class:`Report` and hands it to :func:`ssdf_ai.report.render`; the
renderer for the chosen format turns it into text. Reports that carry findings implement
:class:`FindingsReport` and can also be rendered as SARIF.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai._version import __version__
from ssdf_ai.findings import Finding, Rule, Severity

if TYPE_CHECKING:
    from rich.console import RenderableType


class ToolInfo(BaseModel):
    """The tool that produced a report."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "ssdf-ai"
    version: str = __version__


class Report(BaseModel):
    """Base class of every report.

    Subclasses set ``report_type`` (used as the JSON ``report`` field and the schema file name)
    and implement :meth:`terminal`.
    """

    model_config = ConfigDict(extra="forbid")

    report_type: ClassVar[str] = "report"

    report: str = Field(default="", description="The report type; names its JSON Schema.")
    tool: ToolInfo = Field(default_factory=ToolInfo)

    def model_post_init(self, context: Any, /) -> None:
        """Fill in ``report`` from the class's ``report_type``."""
        if not self.report:
            self.report = self.report_type

    def terminal(self) -> RenderableType:
        """Return a rich renderable for the terminal.

        Reports override this with tables; the default shows the report's data as indented,
        highlighted JSON, so a new report type is readable before it has a view of its own.
        """
        from rich.json import JSON

        return JSON(self.model_dump_json(), indent=2)

    def exit_code(self) -> int:
        """Return the process exit code this report calls for: 0 clean, 1 findings."""
        return 0


class FindingsReport(Report):
    """A report that carries findings; renderable as SARIF.

    Attributes:
        findings: The findings, in a stable order.
        fail_on: The severity at or above which the command exits with code 1.
    """

    report_type: ClassVar[str] = "findings"

    findings: list[Finding] = Field(default_factory=list)
    fail_on: Severity = Severity.LOW

    def rules(self) -> list[Rule]:
        """Return the metadata of every rule that produced a finding (for SARIF ``rules``).

        The default derives minimal rules from the findings themselves; capabilities with a
        rule registry override it.
        """
        seen: dict[str, Rule] = {}
        for finding in self.findings:
            if finding.rule_id not in seen:
                seen[finding.rule_id] = Rule(
                    id=finding.rule_id,
                    name=finding.rule_id,
                    description=finding.message,
                    severity=finding.severity,
                    cwe=finding.cwe,
                    task_ids=finding.task_ids,
                )
        return list(seen.values())

    def exit_code(self) -> int:
        """1 when any finding is at or above ``fail_on``, else 0."""
        return 1 if any(f.severity >= self.fail_on for f in self.findings) else 0

    def terminal(self) -> RenderableType:
        """A table of findings, most severe first."""
        from rich.markup import escape
        from rich.table import Table

        if not self.findings:
            return "[green]No findings.[/green]"
        table = Table(title=f"{len(self.findings)} finding(s)")
        for column in ("severity", "rule", "location", "message"):
            table.add_column(column)
        for f in sorted(self.findings, key=lambda f: -f.severity.rank):
            where = f.location.path or ""
            if f.location.line:
                where += f":{f.location.line}"
            if f.location.address:
                where += f" ({f.location.address})" if where else f.location.address
            # Paths and messages come from scanned input: never let them act as rich markup.
            table.add_row(f.severity.value, f.rule_id, escape(where), escape(f.message))
        return table
