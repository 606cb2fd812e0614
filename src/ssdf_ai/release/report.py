"""Reports of ``ssdf release build`` and ``ssdf release verify``."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.report.base import Report

if TYPE_CHECKING:
    from rich.console import RenderableType


class CheckStatus(enum.StrEnum):
    """How one verification check ended."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class ReleaseMember(BaseModel):
    """One file of a release archive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="The file's name inside the release folder.")
    sha256: str
    size: int = Field(ge=0)
    source: str | None = Field(
        default=None, description="Where it came from (an evidence artifact, a file, a module)."
    )


class ReleaseCheck(BaseModel):
    """One check of ``ssdf release verify`` and its result."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    status: CheckStatus
    detail: str = Field(description="What was checked and what was found, in one sentence.")
    problems: list[str] = Field(default_factory=list)


class ReleaseReport(Report):
    """``ssdf release build``: the archive written, what it holds, and what it lacks."""

    report_type: ClassVar[str] = "release"

    archive: str
    sha256: str = Field(description="SHA-256 of the archive file.")
    size: int = Field(ge=0)
    name: str
    version: str
    created: datetime = Field(description="The release time; every member's mtime.")
    model: str = Field(description="The model's path relative to the project root.")
    model_digest: str = Field(description="The model's OMS root digest (from model.sig).")
    signer: str = Field(description="Key id of the key that signed release.sig.")
    members: list[ReleaseMember] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list, description="What the release lacks and why (never silently)."
    )
    run_id: int | None = Field(default=None, description="The evidence run that recorded it.")

    def terminal(self) -> RenderableType:
        """The archive, its members and the notes."""
        from rich.console import Group
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=f"{escape(self.archive)}", title_justify="left")
        table.add_column("member", overflow="fold")
        table.add_column("bytes", justify="right")
        table.add_column("sha256", overflow="fold")
        for m in self.members:
            table.add_row(escape(m.name), str(m.size), m.sha256)
        parts: list[RenderableType] = [
            f"released {escape(self.name)} {escape(self.version)} from {escape(self.model)} "
            f"(model root sha256:{self.model_digest}), signed by key {self.signer}",
            table,
            f"archive sha256:{self.sha256}, {self.size} bytes",
        ]
        parts += [f"[yellow]note: {escape(n)}[/yellow]" for n in self.notes]
        return Group(*parts)


class ReleaseVerifyReport(Report):
    """``ssdf release verify``: every check of a release archive, with its result."""

    report_type: ClassVar[str] = "release-verify"

    archive: str
    sha256: str | None = Field(default=None, description="SHA-256 of the archive file.")
    name: str | None = Field(default=None, description="The release folder's name.")
    version: str | None = None
    model_digest: str | None = Field(default=None, description="The OMS root model.sig names.")
    verified: bool = Field(description="Every check passed (none failed).")
    checks: list[ReleaseCheck] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list, description="What the release's manifest says it lacks."
    )

    @classmethod
    def build(cls, checks: list[ReleaseCheck], **kw: object) -> ReleaseVerifyReport:
        """The report, verified when no check failed."""
        verified = bool(checks) and all(c.status is not CheckStatus.FAILED for c in checks)
        return cls(checks=checks, verified=verified, **kw)

    def exit_code(self) -> int:
        """0 when every check passed or was skipped, 1 when any failed."""
        return 0 if self.verified else 1

    def terminal(self) -> RenderableType:
        """The verdict, then one line per check with its problems."""
        from rich.console import Group
        from rich.markup import escape

        colour = {
            CheckStatus.PASSED: "green",
            CheckStatus.FAILED: "red",
            CheckStatus.SKIPPED: "yellow",
        }
        verdict = "[green]verified[/green]" if self.verified else "[red]NOT verified[/red]"
        parts: list[RenderableType] = [f"{verdict} {escape(self.archive)}"]
        for c in self.checks:
            parts.append(
                f"[{colour[c.status]}]{c.status.value:7}[/{colour[c.status]}] "
                f"{escape(c.name)}: {escape(c.detail)}"
            )
            parts += [f"          [red]- {escape(p)}[/red]" for p in c.problems]
        parts += [f"[yellow]note: {escape(n)}[/yellow]" for n in self.notes]
        return Group(*parts)
