"""The reports of ``ssdf deps`` and ``ssdf advisories update``."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.findings import Rule
from ssdf_ai.report.base import FindingsReport, Report

if TYPE_CHECKING:
    from rich.console import RenderableType


class PackageRow(BaseModel):
    """One package read from a declaration, a lock file or an environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="PEP 503 normalised.")
    version: str | None = Field(default=None, description="The exact version, when known.")
    specifier: str = Field(default="", description="The version specifier as written.")
    source: str = Field(description="The file it was read from, or `installed`.")
    kind: str = Field(description="requirement, pyproject, lock or installed.")
    line: int | None = Field(default=None, ge=1)
    pinned: bool = False
    hashed: bool = False
    ml_framework: bool = False
    marker: str | None = None
    unverifiable: str | None = Field(default=None, description="Why it cannot be checked.")


class AdvisoryMatch(BaseModel):
    """An advisory that affects a package at its version (or a version its specifier allows)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    package: str
    version: str | None = Field(default=None, description="The affected version, if pinned.")
    specifier: str = ""
    source: str
    id: str
    aliases: list[str] = Field(default_factory=list)
    summary: str = ""
    severity: str | None = Field(default=None, description="The advisory's own rating.")
    score: float | None = Field(default=None, description="CVSS v3 base score, if a vector.")
    fixed: str | None = Field(default=None, description="The smallest fix above the version.")
    pinned: bool = True


class DatabaseInfo(BaseModel):
    """The advisory database used."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    present: bool = False
    advisories: int = Field(default=0, ge=0)
    updated_at: str | None = Field(default=None, description="When it was last imported.")
    age_days: float | None = Field(default=None, description="Days since that import.")
    newest_modified: str | None = None


class DepsReport(FindingsReport):
    """What ``ssdf deps`` found.

    Attributes:
        path: The folder or file checked, relative to the project.
        files: Each declaration read -> its kind (requirements, pyproject, lock, installed).
        packages: Every package read.
        advisories: The advisories matched.
        database: The advisory database and its age.
        run_id: The evidence run that recorded it, if recorded.
    """

    report_type: ClassVar[str] = "deps"

    path: str
    files: dict[str, str] = Field(default_factory=dict)
    packages: list[PackageRow] = Field(default_factory=list)
    advisories: list[AdvisoryMatch] = Field(default_factory=list)
    database: DatabaseInfo
    run_id: int | None = None

    def rules(self) -> list[Rule]:
        """Metadata of every dependency rule that produced a finding."""
        from ssdf_ai.code import dep_rules

        used = {f.rule_id for f in self.findings}
        return [rule for rule_id, rule in dep_rules.RULES.items() if rule_id in used]

    def terminal(self) -> RenderableType:
        """A summary line, the advisories matched, then the findings."""
        from rich.console import Group
        from rich.markup import escape
        from rich.table import Table

        db = self.database
        age = f"{db.age_days:.1f} day(s) old" if db.age_days is not None else "no import"
        summary = (
            f"{escape(self.path)}: {len(self.files)} file(s), {len(self.packages)} package(s); "
            f"advisories: {db.advisories} ({age})"
        )
        parts: list[RenderableType] = [summary]
        if self.advisories:
            table = Table(title=f"{len(self.advisories)} advisory match(es)")
            for column in ("package", "version", "advisory", "severity", "fixed in", "summary"):
                table.add_column(column)
            for m in self.advisories:
                ids = ", ".join([m.id, *m.aliases[:2]])
                table.add_row(
                    escape(m.package),
                    escape(m.version or m.specifier or "any"),
                    escape(ids),
                    m.severity or "",
                    escape(m.fixed or ""),
                    escape(m.summary[:80]),
                )
            parts.append(table)
        parts.append(super().terminal())
        return Group(*parts)


class AdvisoriesUpdateReport(Report):
    """What ``ssdf advisories update`` imported.

    Attributes:
        source: Where the advisories came from (a path or a URL).
        database: The advisory database written.
        read: Records read.
        added: New advisories.
        updated: Advisories replaced by a newer ``modified``.
        unchanged: Advisories already present at the same or a newer ``modified``.
        malformed: Records that failed validation (skipped).
        other_ecosystem: Valid records about no PyPI package (skipped).
        problems: The first malformed records: where and why.
        total: Advisories in the database after the import.
        newest_modified: The newest ``modified`` among them.
        imported_at: When the import finished.
        digest: SHA-256 of the database file.
        run_id: The evidence run that recorded the import, if recorded.
    """

    report_type: ClassVar[str] = "advisories-update"

    source: str
    database: str
    read: int = Field(default=0, ge=0)
    added: int = Field(default=0, ge=0)
    updated: int = Field(default=0, ge=0)
    unchanged: int = Field(default=0, ge=0)
    malformed: int = Field(default=0, ge=0)
    other_ecosystem: int = Field(default=0, ge=0)
    problems: list[str] = Field(default_factory=list)
    total: int = Field(default=0, ge=0)
    newest_modified: str | None = None
    imported_at: str | None = None
    digest: str | None = None
    run_id: int | None = None

    def terminal(self) -> RenderableType:
        """One line per figure, then the first malformed records."""
        from rich.markup import escape

        lines = [
            f"imported {escape(self.source)} into {escape(self.database)}",
            f"read {self.read} record(s): {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.malformed} malformed, "
            f"{self.other_ecosystem} not about PyPI",
            f"{self.total} advisories in the database, newest modified "
            f"{self.newest_modified or '-'}",
        ]
        lines += [f"  malformed: {escape(p)}" for p in self.problems[:10]]
        return "\n".join(lines)
