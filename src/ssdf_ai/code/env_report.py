"""The report ``ssdf env`` writes: what was checked, what was found where, and the findings."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.findings import Rule
from ssdf_ai.report.base import FindingsReport

if TYPE_CHECKING:
    from rich.console import RenderableType

    from ssdf_ai.code.env import EnvResult
    from ssdf_ai.findings import Severity

# The lists of files found are cut at this length (the counts stay exact).
MAX_LISTED = 1000


class WorkflowInfo(BaseModel):
    """One CI workflow looked at."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    checked: bool = Field(description="False when it could not be parsed (see the findings).")
    findings: int = Field(ge=0)


class EnvReport(FindingsReport):
    """What ``ssdf env`` found.

    Attributes:
        path: The folder checked, relative to the project root when inside it.
        files_checked: Regular files visited (symbolic links are never followed).
        weights_found: Model weight files recognised by content.
        keys_found: Private keys and credentials files recognised.
        data_files: Dataset files recognised.
        weights: The weight files (at most 1,000 listed).
        keys: The key and credentials files (at most 1,000 listed).
        git: Whether the folder is a git work tree whose tracked files were checked.
        workflows: The CI workflows, each checked or not.
        counts: Findings per check: permissions, git, placement, workflows.
    """

    report_type: ClassVar[str] = "env"

    path: str
    files_checked: int = Field(ge=0, default=0)
    weights_found: int = Field(ge=0, default=0)
    keys_found: int = Field(ge=0, default=0)
    data_files: int = Field(ge=0, default=0)
    weights: list[str] = Field(default_factory=list)
    keys: list[str] = Field(default_factory=list)
    git: bool = False
    workflows: list[WorkflowInfo] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)

    @classmethod
    def from_result(cls, result: EnvResult, *, fail_on: Severity) -> EnvReport:
        """Build the report of a :func:`ssdf_ai.code.env.check_environment` result."""
        return cls(
            findings=list(result.findings),
            fail_on=fail_on,
            path=result.path,
            files_checked=result.files_checked,
            weights_found=len(result.weights),
            keys_found=len(result.keys),
            data_files=result.data_files,
            weights=list(result.weights[:MAX_LISTED]),
            keys=list(result.keys[:MAX_LISTED]),
            git=result.git,
            workflows=[
                WorkflowInfo(path=w.path, checked=w.checked, findings=len(w.findings))
                for w in result.workflows
            ],
            counts=dict(result.counts),
        )

    def rules(self) -> list[Rule]:
        """Metadata of every environment rule that produced a finding."""
        from ssdf_ai.code import env_rules

        used = {f.rule_id for f in self.findings}
        return [rule for rule_id, rule in env_rules.RULES.items() if rule_id in used]

    def terminal(self) -> RenderableType:
        """A summary table of the checks, then the findings table."""
        from rich.console import Group
        from rich.markup import escape
        from rich.table import Table

        unchecked = sum(1 for w in self.workflows if not w.checked)
        table = Table(
            title=f"{escape(self.path)}: {self.files_checked} file(s), "
            f"{self.weights_found} weight file(s), {self.keys_found} key(s), "
            f"{len(self.workflows)} workflow(s)"
        )
        for column in ("check", "looked at", "findings"):
            table.add_column(column)
        table.add_row(
            "permissions",
            f"{self.weights_found} weights, {self.data_files} data, {self.keys_found} keys",
            str(self.counts.get("permissions", 0)),
        )
        table.add_row(
            "git",
            "tracked files and .env" if self.git else "not a git work tree: .gitignore only",
            str(self.counts.get("git", 0)),
        )
        table.add_row(
            "placement", "reward models, weights, data", str(self.counts.get("placement", 0))
        )
        workflows = f"{len(self.workflows)} workflow(s)"
        if unchecked:
            workflows += f", [yellow]{unchecked} not checked[/]"
        table.add_row("workflows", workflows, str(self.counts.get("workflows", 0)))
        return Group(table, super().terminal())
