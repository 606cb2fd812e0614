"""The reports of ``ssdf keys generate``, ``ssdf attest``, ``ssdf waive`` and ``ssdf approve``.

Only pydantic and rich are imported here (no ``cryptography``, no SQLAlchemy), so the classes
are cheap to load for rendering and JSON Schema generation. No report ever carries a private
key or a passphrase: the key report names the private key's file, nothing more.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.report.base import Report

if TYPE_CHECKING:
    from rich.console import RenderableType

    from ssdf_ai.assess.decisions import DecisionResult


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ") if moment else "-"


def signer_snippet(name: str, public_key: str) -> str:
    """The ``[[signers]]`` entry to add to ssdf.toml for a key pair.

    Args:
        name: The signer's name, as in ``roles.holders``.
        public_key: The public key's path relative to the project root, with ``/``.

    Returns:
        TOML text.
    """
    import json

    # JSON string quoting is valid TOML basic-string quoting for these names and paths.
    return f"[[signers]]\nname = {json.dumps(name)}\npublic_key = {json.dumps(public_key)}\n"


class KeyReport(Report):
    """What ``ssdf keys generate`` wrote.

    Attributes:
        name: The signer's name.
        private_key: Path of the private key file (mode 0600); keep it secret.
        public_key: Path of the public key file (mode 0644); commit it.
        public_key_config: The public key's path as ssdf.toml names it (project-relative
            where it lies inside the project).
        key_id: SHA-256 of the public key's PEM text.
        encrypted: Whether the private key is protected by a passphrase.
        snippet: The ``[[signers]]`` entry to add to ssdf.toml.
        gitignore: A ``.gitignore`` written beside the keys to keep ``*.key`` out of git.
        warnings: Anything weak about the result (an unencrypted key, a key outside the
            project).
    """

    report_type: ClassVar[str] = "keys-generate"

    name: str
    private_key: str
    public_key: str
    public_key_config: str
    key_id: str
    encrypted: bool
    snippet: str
    gitignore: str | None = None
    warnings: list[str] = Field(default_factory=list)

    def text(self) -> str:
        """Where the keys are, and the snippet to paste into ssdf.toml, as plain text.

        ``ssdf keys generate`` prints this rather than a rich view, so that no path and no
        line of the snippet is ever wrapped or cropped.
        """
        state = "encrypted" if self.encrypted else "NOT encrypted"
        lines = [
            f"Private key: {self.private_key}",
            f"             mode 0600, {state}; keep it secret",
            f"Public key:  {self.public_key}",
            "             commit it",
            f"Key id:      {self.key_id}",
        ]
        if self.gitignore:
            lines.append(f"Wrote {self.gitignore} so that *.key stays out of git")
        lines += [f"warning: {w}" for w in self.warnings]
        lines += ["", "Add to ssdf.toml:", self.snippet.rstrip()]
        return "\n".join(lines) + "\n"

    def terminal(self) -> RenderableType:
        """The plain text of :meth:`text`, unwrapped."""
        from rich.text import Text

        return Text(self.text(), no_wrap=True, overflow="ignore")


class EvidenceRef(BaseModel):
    """A file attached to an attestation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    sha256: str


class DecisionReport(Report):
    """What ``ssdf attest``, ``ssdf waive`` or ``ssdf approve`` signed and stored.

    Attributes:
        kind: attestation, waiver or approval.
        digest: ``sha256:…`` of the stored DSSE envelope.
        subject: The task or item id attested, or the waiver's target.
        by: Who signed.
        role: The role they signed in.
        created: When it was signed (UTC).
        expires: When it stops counting; ``None`` for an approval that follows its waiver.
        run_id: The evidence-store run that recorded it.
        evidence: Files attached to an attestation.
        waiver: For an approval, the waiver it approves.
        needs_approval: For a waiver, whether it takes effect only once approved.
        next_step: What to do next, if anything (such as the approve command to run).
    """

    report_type: ClassVar[str] = "decision"

    kind: Literal["attestation", "waiver", "approval"]
    digest: str
    subject: str
    by: str
    role: str
    created: dt.datetime
    expires: dt.datetime | None = None
    run_id: int
    evidence: list[EvidenceRef] = Field(default_factory=list)
    waiver: str | None = None
    needs_approval: bool | None = None
    next_step: str | None = None

    @classmethod
    def from_result(cls, result: DecisionResult) -> DecisionReport:
        """Build the report of a stored decision.

        Args:
            result: What :mod:`ssdf_ai.assess.decisions` stored.

        Returns:
            The report, with the next step for a waiver that needs approval.
        """
        next_step = None
        if result.kind == "waiver" and result.needs_approval:
            roles = " or ".join(repr(r) for r in result.approver_roles)
            short = result.digest.removeprefix("sha256:")[:12]
            next_step = (
                f"this waiver takes effect once a holder of {roles} approves it: "
                f"ssdf approve {short} --by NAME --role ROLE --key KEY"
                if roles
                else "this waiver needs approval, but checks.approver_roles is empty: "
                "add an approver role to ssdf.toml"
            )
        return cls(
            kind=result.kind,
            digest=result.digest,
            subject=result.subject,
            by=result.by,
            role=result.role,
            created=result.created,
            expires=result.expires,
            run_id=result.run_id,
            evidence=[EvidenceRef(name=n, sha256=d) for n, d in result.evidence],
            waiver=result.waiver,
            needs_approval=result.needs_approval,
            next_step=next_step,
        )

    def terminal(self) -> RenderableType:
        """A short table of what was signed, then the next step."""
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table(
            title=f"Signed {self.kind} (run {self.run_id})", title_justify="left", show_header=False
        )
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        label = "subject" if self.kind == "attestation" else "target"
        rows = [
            ("digest", self.digest),
            (label, self.subject),
            ("by", f"{self.by} ({self.role})"),
            ("created", _when(self.created)),
            ("expires", _when(self.expires) if self.expires else "with the waiver"),
        ]
        if self.waiver:
            rows.append(("waiver", self.waiver))
        rows += [("evidence", f"{e.name}  sha256:{e.sha256[:16]}…") for e in self.evidence]
        for field, value in rows:
            table.add_row(field, _escape(value))
        parts: list[RenderableType] = [table]
        if self.next_step:
            parts.append(Text(self.next_step, style="yellow"))
        return Group(*parts)
