"""The report ``ssdf secrets`` writes: what was scanned, each secret found, what was suppressed."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.findings import Rule
from ssdf_ai.report.base import FindingsReport

if TYPE_CHECKING:
    from rich.console import RenderableType

Origin = Literal["tree", "notebook-source", "notebook-output", "model-metadata", "history"]


class SecretDetail(BaseModel):
    """What the scan knows about one secret, beside its finding (never the secret itself).

    Attributes:
        rule_id: The rule of its finding.
        kind: The detector's kind (``github-token``, ``private-key``...).
        confidence: The detector's confidence.
        preview: The redacted preview (at most 4 characters and ``…``).
        path: The file (relative to the project); for history, the file in its first commit.
        line: Its line in that file (for a notebook, of the ``.ipynb``).
        origin: Where it was found.
        in_working_tree: Whether the value is in the working tree now.
        first_commit: The first commit that added it (history scanned only).
        first_date: That commit's author date (ISO 8601).
        commits: How many commits added it.
        fingerprint: Salted SHA-256 over kind, path and value; set when a baseline is in use.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str
    kind: str
    confidence: str
    preview: str
    path: str
    line: int | None = None
    origin: Origin
    in_working_tree: bool = True
    first_commit: str | None = None
    first_date: str | None = None
    commits: int = Field(default=0, ge=0)
    fingerprint: str | None = None


class SuppressedSecret(BaseModel):
    """A finding the baseline accepts: counted and listed, not reported as a finding."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str
    kind: str
    path: str
    line: int | None = None
    preview: str
    fingerprint: str
    reason: str | None = None


class SkippedFile(BaseModel):
    """A file the scan did not read as text, and why (binary, over a limit, malformed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    reason: str


class SecretsReport(FindingsReport):
    """What ``ssdf secrets`` found.

    Attributes:
        path: The folder or file scanned (relative to the project).
        files_scanned: Files read (text, notebooks, model metadata).
        bytes_scanned: Bytes of those files (model files: their metadata text only).
        notebooks: Notebooks read cell by cell.
        model_files: Model files whose metadata was read.
        history_scanned: Whether git history was scanned.
        since: Commits reachable from this ref were left out of the history scan.
        commits_scanned: Commits whose added lines were scanned.
        history_bytes: Bytes of ``git log`` output read.
        baseline: The baseline file used or written, if any.
        baseline_written: Whether this run wrote the baseline.
        suppressed_count: Findings the baseline accepts.
        suppressed: Those findings.
        kinds: Detector kind -> number of reported findings.
        secrets: One entry per finding, in the same order.
        skipped: Files not scanned, with the reason.
    """

    report_type: ClassVar[str] = "secrets"

    path: str
    files_scanned: int = Field(default=0, ge=0)
    bytes_scanned: int = Field(default=0, ge=0)
    notebooks: int = Field(default=0, ge=0)
    model_files: int = Field(default=0, ge=0)
    history_scanned: bool = False
    since: str | None = None
    commits_scanned: int = Field(default=0, ge=0)
    history_bytes: int = Field(default=0, ge=0)
    baseline: str | None = None
    baseline_written: bool = False
    suppressed_count: int = Field(default=0, ge=0)
    suppressed: list[SuppressedSecret] = Field(default_factory=list)
    kinds: dict[str, int] = Field(default_factory=dict)
    secrets: list[SecretDetail] = Field(default_factory=list)
    skipped: list[SkippedFile] = Field(default_factory=list)

    def rules(self) -> list[Rule]:
        """Metadata of every secret rule that produced a finding."""
        from ssdf_ai.code import secret_rules

        used = {f.rule_id for f in self.findings}
        return [rule for rule_id, rule in secret_rules.RULES.items() if rule_id in used]

    def terminal(self) -> RenderableType:
        """A summary line, then the findings table."""
        from rich.console import Group
        from rich.markup import escape

        scanned = (
            f"{escape(self.path)}: {self.files_scanned} file(s), {self.bytes_scanned:,} bytes, "
            f"{self.notebooks} notebook(s), {self.model_files} model file(s)"
        )
        if self.history_scanned:
            scanned += f", {self.commits_scanned} commit(s) of history"
        lines = [scanned]
        if self.kinds:
            lines.append("by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(self.kinds.items())))
        if self.suppressed_count:
            lines.append(f"suppressed by the baseline: {self.suppressed_count}")
        if self.skipped:
            lines.append(f"not scanned: {len(self.skipped)} file(s) (see --format json)")
        return Group("\n".join(lines), super().terminal())
