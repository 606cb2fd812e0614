"""Reports of ``ssdf hash``, ``ssdf sign``, ``ssdf verify`` and ``ssdf diff``, and the rules of
verification findings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.findings import Finding, Location, Rule, Severity
from ssdf_ai.report.base import FindingsReport, Report

if TYPE_CHECKING:
    from rich.console import RenderableType

    from ssdf_ai.integrity.oms import Change

SIGN_TASKS = ("PS.1.3", "PS.1.3.R2", "PS.1.3.R4", "PS.2.1", "PS.2.1.R1", "PS.2.1.R2", "PS.3.1")

SIGNATURE_INVALID = "SSDF-SIGN-001"
FILE_CHANGED = "SSDF-SIGN-002"
FILE_ADDED = "SSDF-SIGN-003"
FILE_REMOVED = "SSDF-SIGN-004"
STATEMENT_INCONSISTENT = "SSDF-SIGN-005"

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            id=SIGNATURE_INVALID,
            name="signature-not-trusted",
            description="The model signature does not verify with the trusted key, certificate "
            "chain or identity: the statement or signature was altered, or someone else signed.",
            severity=Severity.CRITICAL,
            cwe=("CWE-347",),
            task_ids=SIGN_TASKS,
        ),
        Rule(
            id=FILE_CHANGED,
            name="file-changed",
            description="A signed file (or shard) no longer has the digest the signature records.",
            severity=Severity.HIGH,
            cwe=("CWE-354",),
            task_ids=SIGN_TASKS,
        ),
        Rule(
            id=FILE_ADDED,
            name="file-added",
            description="A file is present that the signature does not cover.",
            severity=Severity.HIGH,
            cwe=("CWE-354",),
            task_ids=SIGN_TASKS,
        ),
        Rule(
            id=FILE_REMOVED,
            name="file-removed",
            description="A file the signature covers is missing.",
            severity=Severity.HIGH,
            cwe=("CWE-354",),
            task_ids=SIGN_TASKS,
        ),
        Rule(
            id=STATEMENT_INCONSISTENT,
            name="statement-inconsistent",
            description="The signed statement contradicts itself: its subject digests do not match "
            "its resources, or it names a resource twice.",
            severity=Severity.CRITICAL,
            cwe=("CWE-345",),
            task_ids=SIGN_TASKS,
        ),
    )
}

_CHANGE_RULES = {"changed": FILE_CHANGED, "added": FILE_ADDED, "removed": FILE_REMOVED}


class SerializationInfo(BaseModel):
    """The hash settings of a manifest (the OMS predicate's ``serialization``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: str
    hash_type: str
    shard_size: int | None = None
    allow_symlinks: bool = False
    ignore_paths: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, data: dict[str, Any]) -> SerializationInfo:
        """From :meth:`Serialization.to_json`."""
        return cls(**data)


class ResourceInfo(BaseModel):
    """One manifest entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    algorithm: str
    digest: str


class ChangeInfo(BaseModel):
    """A difference between a signed manifest and the files, or between two manifests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(description="added, removed or changed")
    name: str
    expected: str | None = Field(default=None, description="Signed digest (hex).")
    actual: str | None = Field(default=None, description="Digest found (hex).")

    @classmethod
    def of(cls, change: Change) -> ChangeInfo:
        """From an :class:`~ssdf_ai.integrity.oms.Change`."""
        return cls(
            kind=change.kind, name=change.name, expected=change.expected, actual=change.actual
        )


def _changes_table(
    changes: list[ChangeInfo], title: str, labels: tuple[str, str] = ("signed digest", "digest now")
) -> RenderableType:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("change")
    table.add_column("file or shard", overflow="fold")
    table.add_column(labels[0], overflow="fold")
    table.add_column(labels[1], overflow="fold")
    for c in changes:
        table.add_row(c.kind, c.name, c.expected or "-", c.actual or "-")
    return table


class HashReport(Report):
    """``ssdf hash``: the manifest of a model or dataset folder."""

    report_type: ClassVar[str] = "hash"

    path: str
    model_name: str
    serialization: SerializationInfo
    root: str = Field(description="OMS root digest: SHA-256 over the raw digests in order.")
    names: str = Field(description="Name-binding digest over names, algorithms and digests.")
    files: int
    bytes: int
    skipped: list[str] = Field(default_factory=list)
    resources: list[ResourceInfo] = Field(default_factory=list)

    def terminal(self) -> RenderableType:
        """The resources, then the root digest."""
        from rich.console import Group
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=f"manifest of {escape(self.path)}", title_justify="left")
        table.add_column("resource", overflow="fold")
        table.add_column(self.serialization.hash_type, overflow="fold")
        for r in self.resources[:200]:
            table.add_row(escape(r.name), r.digest)
        parts: list[RenderableType] = [table]
        if len(self.resources) > 200:
            parts.append(f"... and {len(self.resources) - 200} more (use --format json)")
        parts.append(
            f"{self.files} file(s), {self.bytes} bytes, {len(self.resources)} resource(s); "
            f"root sha256:{self.root}"
        )
        parts += [f"[yellow]skipped {escape(s)}[/yellow]" for s in self.skipped]
        return Group(*parts)


class SignReport(Report):
    """``ssdf sign``: the signature written and what it covers."""

    report_type: ClassVar[str] = "sign"

    path: str
    signature: str
    signature_sha256: str
    method: str = Field(description="key or certificate (or sigstore).")
    signer: str = Field(
        description="Key id (SHA-256 of the public key PEM) or certificate subject."
    )
    model_name: str
    serialization: SerializationInfo
    root: str
    names: str
    resources: int
    files: int
    bytes_hashed: int
    reused_files: int = Field(
        description="Files whose digests were reused from the previous signature (size and "
        "modification time unchanged)."
    )
    reused_from: str | None = None
    parent: str | None = Field(default=None, description="SHA-256 of the parent signature.")
    seconds: float
    skipped: list[str] = Field(default_factory=list)

    def terminal(self) -> RenderableType:
        """A few lines: what was signed, how, and what was reused."""
        from rich.console import Group
        from rich.markup import escape

        lines = [
            f"signed {escape(self.path)} -> {escape(self.signature)} "
            f"({self.method}, {self.signer})",
            f"{self.files} file(s), {self.resources} resource(s), root sha256:{self.root}",
            f"hashed {self.bytes_hashed} bytes in {self.seconds:.2f} s",
        ]
        if self.reused_files:
            lines.append(
                f"reused the digests of {self.reused_files} unchanged file(s) from "
                f"{escape(self.reused_from or '')} (size and mtime match; --full re-hashes all)"
            )
        if self.parent:
            lines.append(f"parent signature sha256:{self.parent}")
        lines += [f"[yellow]skipped {escape(s)}[/yellow]" for s in self.skipped]
        return Group(*lines)


class VerifyReport(FindingsReport):
    """``ssdf verify``: whether the signature is authentic and the files match it exactly."""

    report_type: ClassVar[str] = "verify"

    path: str
    signature: str
    verified: bool = Field(description="Authentic signature and exactly matching files.")
    method: str | None = None
    signer: str | None = None
    model_name: str = ""
    root: str = ""
    serialization: SerializationInfo | None = None
    files: int = 0
    resources: int = 0
    changes: list[ChangeInfo] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    fail_on: Severity = Severity.LOW

    @classmethod
    def build(
        cls, *, path: str, signature: str, problems: list[str], changes: list[ChangeInfo], **kw: Any
    ) -> VerifyReport:
        """The report with a finding for every problem and every change."""
        findings: list[Finding] = []
        where = Location(path=signature)
        for problem in problems:
            rule = (
                STATEMENT_INCONSISTENT
                if "digest" in problem or "twice" in problem
                else (SIGNATURE_INVALID)
            )
            findings.append(_finding(rule, problem, where))
        for c in changes:
            message = {
                "changed": f"{c.name} changed: signed {c.expected}, now {c.actual}",
                "added": f"{c.name} is not covered by the signature (digest {c.actual})",
                "removed": f"{c.name} is signed (digest {c.expected}) but missing",
            }[c.kind]
            findings.append(
                _finding(_CHANGE_RULES[c.kind], message, Location(path=path, address=c.name))
            )
        verified = not findings
        return cls(
            path=path,
            signature=signature,
            problems=problems,
            changes=changes,
            findings=findings,
            verified=verified,
            **kw,
        )

    def rules(self) -> list[Rule]:
        """The verification rules that produced findings."""
        used = {f.rule_id for f in self.findings}
        return [rule for rule_id, rule in RULES.items() if rule_id in used]

    def exit_code(self) -> int:
        """0 when verified, 1 on any problem or difference."""
        return 0 if self.verified else 1

    def terminal(self) -> RenderableType:
        """Verdict, then every problem and change."""
        from rich.console import Group
        from rich.markup import escape

        parts: list[RenderableType] = []
        if self.verified:
            parts.append(
                f"[green]verified[/green] {escape(self.path)} against {escape(self.signature)}: "
                f"{self.files} file(s), {self.resources} resource(s) match exactly; signed by "
                f"{escape(self.signer or '')} ({self.method}); root sha256:{self.root}"
            )
            return Group(*parts)
        parts.append(
            f"[red]NOT verified[/red] {escape(self.path)} against {escape(self.signature)}"
        )
        parts += [f"[red]- {escape(p)}[/red]" for p in self.problems]
        if self.changes:
            parts.append(_changes_table(self.changes, f"{len(self.changes)} difference(s)"))
        return Group(*parts)


def _finding(rule_id: str, message: str, where: Location) -> Finding:
    return RULES[rule_id].finding(
        message,
        path=where.path,
        address=where.address,
        remediation="do not use the model until the difference is explained; restore the "
        "signed files or sign the new version (ssdf sign --parent OLD.sig)",
    )


class DiffReport(Report):
    """``ssdf diff``: what changed between two signed versions."""

    report_type: ClassVar[str] = "diff"

    old: str
    new: str
    old_root: str
    new_root: str
    old_signer: str | None = None
    new_signer: str | None = None
    chained: bool = Field(description="The new signature records the old one as its parent.")
    problems: list[str] = Field(default_factory=list)
    changes: list[ChangeInfo] = Field(default_factory=list)

    def exit_code(self) -> int:
        """1 when either signature failed verification, else 0."""
        return 1 if self.problems else 0

    def terminal(self) -> RenderableType:
        """The chain status and the changes."""
        from rich.console import Group
        from rich.markup import escape

        parts: list[RenderableType] = [
            f"{escape(self.old)} (root {self.old_root[:16]}...) -> {escape(self.new)} "
            f"(root {self.new_root[:16]}...)",
            "the new version names the old one as its parent"
            if self.chained
            else "[yellow]the new version does not name the old one as its parent[/yellow]",
        ]
        parts += [f"[red]- {escape(p)}[/red]" for p in self.problems]
        if self.changes:
            parts.append(
                _changes_table(
                    self.changes, f"{len(self.changes)} change(s)", ("old digest", "new digest")
                )
            )
        else:
            parts.append("no files changed")
        return Group(*parts)
