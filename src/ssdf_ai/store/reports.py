"""The reports of ``ssdf evidence``: list, show (run or artifact), add, export and verify.

Only pydantic, rich and the store's plain records are imported here (no SQLAlchemy), so the
report classes are cheap to load for rendering and JSON Schema generation.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from ssdf_ai.findings import Rule
from ssdf_ai.report.base import FindingsReport, Report
from ssdf_ai.store._archive import ArchiveSummary, ExportResult
from ssdf_ai.store.records import (
    ArtifactRecord,
    FindingRecord,
    RunDetail,
    RunRecord,
    SubjectRecord,
)
from ssdf_ai.store.rules import RULES

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import RenderableType
    from rich.table import Table


class ListKind(enum.StrEnum):
    """What ``ssdf evidence list`` lists."""

    RUNS = "runs"
    ARTIFACTS = "artifacts"
    FINDINGS = "findings"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _add_row(table: Table, *cells: str) -> None:
    """Add a row whose cells are shown literally: recorded names never act as rich markup."""
    from rich.markup import escape

    table.add_row(*(escape(cell) for cell in cells))


def _table(title: str | None, *columns: str) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _runs_table(runs: list[RunRecord], title: str | None = None) -> Table:
    table = _table(title, "run", "command", "status", "exit", "started (UTC)", "host", "user")
    for run in runs:
        _add_row(
            table,
            str(run.id),
            run.command,
            run.status.value,
            "" if run.exit_code is None else str(run.exit_code),
            _when(run.started_at),
            run.host,
            run.user or "",
        )
    return table


def _artifacts_table(artifacts: list[ArtifactRecord], title: str | None = None) -> Table:
    table = _table(title, "id", "run", "kind", "digest", "size", "media type", "name")
    for a in artifacts:
        _add_row(
            table,
            str(a.id),
            str(a.run_id),
            a.kind,
            a.digest[:16],
            str(a.size),
            a.media_type,
            a.name or "",
        )
    return table


def _subjects_table(subjects: list[SubjectRecord], title: str | None = None) -> Table:
    table = _table(title, "id", "kind", "name", "digest")
    for s in subjects:
        _add_row(table, str(s.id), s.kind.value, s.name, s.digest or "")
    return table


class EvidenceListReport(Report):
    """What ``ssdf evidence list`` shows: recorded runs, artifacts or findings, newest first.

    Attributes:
        store: Where the store is.
        kind: What is listed.
        total: How many there are in all (the list may be limited).
        runs: The runs, when listing runs.
        artifacts: The artifacts, when listing artifacts.
        findings: The findings, when listing findings.
    """

    report_type: ClassVar[str] = "evidence-list"

    store: str
    kind: ListKind
    total: int = 0
    runs: list[RunRecord] = Field(default_factory=list)
    artifacts: list[ArtifactRecord] = Field(default_factory=list)
    findings: list[FindingRecord] = Field(default_factory=list)

    def _shown(self) -> int:
        return len(self.runs) + len(self.artifacts) + len(self.findings)

    def terminal(self) -> RenderableType:
        """A table of what is listed, or a note that nothing is recorded yet."""
        from rich.console import Group

        if self.total == 0:
            return f"No evidence recorded yet ({self.kind.value}: none in {self.store})."
        if self.kind is ListKind.RUNS:
            table = _runs_table(self.runs)
        elif self.kind is ListKind.ARTIFACTS:
            table = _artifacts_table(self.artifacts)
        else:
            table = _table(None, "id", "run", "severity", "rule", "message")
            for record in self.findings:
                f = record.finding
                _add_row(
                    table,
                    str(record.id),
                    str(record.run_id),
                    f.severity.value,
                    f.rule_id,
                    f.message,
                )
        shown = self._shown()
        if shown < self.total:
            note = (
                f"showing the newest {shown} of {self.total} {self.kind.value}; --limit 0 shows all"
            )
            return Group(table, note)
        return table


class RunReport(FindingsReport):
    """What ``ssdf evidence show RUN`` shows: one run and all it recorded.

    Renderable as SARIF (the run's findings). Showing stored evidence judges nothing, so the
    exit code is 0 whatever the findings.

    Attributes:
        detail: The run, its subjects, artifacts and findings (with their record ids).
    """

    report_type: ClassVar[str] = "evidence-run"

    detail: RunDetail

    def exit_code(self) -> int:
        """Always 0: this report displays recorded evidence."""
        return 0

    def terminal(self) -> RenderableType:
        """The run's details, then its subjects, artifacts and findings."""
        from rich.console import Group
        from rich.markup import escape

        run = self.detail.run
        lines = [
            f"[bold]run {run.id}[/bold]: " + escape(f"{run.tool} {run.tool_version} {run.command}"),
            f"  argv:     {escape(' '.join(run.argv))}",
            f"  status:   {run.status.value}"
            + ("" if run.exit_code is None else f" (exit code {run.exit_code})"),
            f"  started:  {_when(run.started_at)} UTC   finished: {_when(run.finished_at) or '-'}",
            escape(f"  host:     {run.host}" + (f"   user: {run.user}" if run.user else "")),
        ]
        parts: list[RenderableType] = ["\n".join(lines)]
        if self.detail.subjects:
            parts.append(_subjects_table(self.detail.subjects, "subjects"))
        if self.detail.artifacts:
            parts.append(_artifacts_table(self.detail.artifacts, "artifacts"))
        parts.append(super().terminal())
        return Group(*parts)


class ArtifactReport(Report):
    """What ``ssdf evidence show DIGEST`` shows: one piece of evidence and where it came from.

    Attributes:
        digest: The content's SHA-256 (verified against the stored blob).
        size: Its size in bytes.
        records: Every time it was recorded (the same content may be recorded more than once).
        subjects: The subjects those records are about.
        runs: The runs that recorded it.
    """

    report_type: ClassVar[str] = "evidence-artifact"

    digest: str
    size: int
    records: list[ArtifactRecord]
    subjects: list[SubjectRecord] = Field(default_factory=list)
    runs: list[RunRecord] = Field(default_factory=list)

    def terminal(self) -> RenderableType:
        """The digest, then the records, subjects and runs."""
        from rich.console import Group

        parts: list[RenderableType] = [
            f"[bold]sha256:{self.digest}[/bold] ({self.size} bytes, content verified)",
            _artifacts_table(self.records, "recorded as"),
        ]
        if self.subjects:
            parts.append(_subjects_table(self.subjects, "about"))
        if self.runs:
            parts.append(_runs_table(self.runs, "by runs"))
        return Group(*parts)


class AddReport(Report):
    """What ``ssdf evidence add`` recorded.

    Attributes:
        run_id: The run that recorded it.
        artifact: The artifact record.
        subject: The subject it is about, if one was given.
    """

    report_type: ClassVar[str] = "evidence-add"

    run_id: int
    artifact: ArtifactRecord
    subject: SubjectRecord | None = None

    def terminal(self) -> RenderableType:
        """One line per thing recorded."""
        from rich.markup import escape

        a = self.artifact
        text = (
            f"Recorded {a.kind} [bold]sha256:{a.digest}[/bold] "
            f"({a.size} bytes, {escape(a.media_type)}) as artifact {a.id} of run {self.run_id}."
        )
        if self.subject is not None:
            s = self.subject
            text += f"\nSubject: {s.kind.value} {escape(s.name)} sha256:{s.digest}"
        return text


class ExportReport(Report):
    """What ``ssdf evidence export`` wrote.

    Attributes:
        export: The archive written, its SHA-256 and what it holds.
    """

    report_type: ClassVar[str] = "evidence-export"

    export: ExportResult

    def terminal(self) -> RenderableType:
        """A summary of the archive."""
        from rich.markup import escape

        e = self.export
        return (
            f"Wrote {escape(str(e.archive))} ({e.size} bytes, compression {e.compression}): "
            f"{e.runs} run(s), "
            f"{e.subjects} subject(s), {e.artifacts} artifact(s), {e.findings} finding(s), "
            f"{e.blobs} blob(s).\nsha256:{e.sha256}\n"
            "Keep this digest (or sign the archive): it protects the manifest itself."
        )


class VerifyReport(FindingsReport):
    """What ``ssdf evidence verify`` found: one finding per problem; none when intact.

    Attributes:
        target: The archive (or store directory) verified.
        target_kind: ``archive`` or ``store``.
        sha256: The archive file's SHA-256 (archives only).
        members: Archive members read, or blobs checked in a store.
        summary: What the archive's manifest says it holds, if it could be read.
    """

    report_type: ClassVar[str] = "evidence-verify"

    target: str
    target_kind: Literal["archive", "store"]
    sha256: str | None = None
    members: int = 0
    summary: ArchiveSummary | None = None

    def rules(self) -> list[Rule]:
        """The metadata of each verification rule that produced a finding."""
        ids = dict.fromkeys(f.rule_id for f in self.findings)
        return [RULES[rule_id] for rule_id in ids if rule_id in RULES]

    def terminal(self) -> RenderableType:
        """A verdict line, then the findings if any."""
        from rich.console import Group
        from rich.markup import escape

        what = "members" if self.target_kind == "archive" else "blobs"
        head = escape(f"{self.target_kind} {self.target}: {self.members} {what} checked")
        if self.sha256:
            head += f"\nsha256:{self.sha256}"
        if self.summary is not None:
            s = self.summary
            head += (
                f"\nmanifest: format {s.format_version}, written by ssdf-ai {s.tool_version} at "
                f"{_when(s.created)} UTC; {s.runs} run(s), {s.artifacts} artifact(s), "
                f"{s.findings} finding(s)"
            )
        if not self.findings:
            return Group(head, f"[green]Intact: every check passed ({self.target_kind}).[/green]")
        return Group(
            head, f"[red]NOT intact: {len(self.findings)} problem(s).[/red]", super().terminal()
        )
