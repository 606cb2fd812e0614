"""Findings: what is wrong, where, how bad, and which SP 800-218A tasks it bears on.

Every capability reports problems as :class:`Finding` objects, and the evidence store, the
assessment and every renderer work on this one type.
"""

from __future__ import annotations

import enum
import hashlib

from pydantic import BaseModel, ConfigDict, Field


class Severity(enum.StrEnum):
    """How bad a finding is. Ordered: ``Severity.LOW < Severity.HIGH``."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the order info < low < medium < high < critical."""
        return _SEVERITY_ORDER.index(self)

    # str defines all four comparisons alphabetically; every one is replaced by rank order.
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __hash__(self) -> int:
        return str.__hash__(self)

    @property
    def sarif_level(self) -> str:
        """The SARIF ``level`` this severity maps to."""
        if self.rank >= Severity.HIGH.rank:
            return "error"
        if self is Severity.MEDIUM:
            return "warning"
        return "note"

    @property
    def security_severity(self) -> str:
        """A CVSS-like score for GitHub code scanning's ``security-severity`` property."""
        return {"info": "0.0", "low": "3.0", "medium": "5.5", "high": "8.0", "critical": "9.5"}[
            self.value
        ]


_SEVERITY_ORDER = list(Severity)


class Confidence(enum.StrEnum):
    """How sure the rule is that the finding is real."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Outcome(enum.StrEnum):
    """The verdict of a control or task evaluation.

    Richer than pass/fail on purpose: an assessment must say when it could not tell.
    ``inherited`` marks a task that another party performs (shared responsibility) and whose
    verdict has not been imported from that party.
    """

    SATISFIED = "satisfied"
    NOT_SATISFIED = "not-satisfied"
    PARTIAL = "partial"
    NOT_APPLICABLE = "not-applicable"
    NEEDS_ATTESTATION = "needs-attestation"
    WAIVED = "waived"
    STALE = "stale"
    UNKNOWN = "unknown"
    INHERITED = "inherited"


class Location(BaseModel):
    """Where a finding is: a file (with optional line and column), or a logical address.

    ``path`` is relative to the project root when the file lies inside it.
    ``address`` names something inside the file that has no line, such as
    ``pickle opcode 42`` or ``tensor layer.0.weight``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str | None = None
    line: int | None = Field(default=None, ge=1)
    column: int | None = Field(default=None, ge=1)
    address: str | None = None


class Finding(BaseModel):
    """One problem found by a rule.

    Attributes:
        rule_id: Stable id of the rule, ``SSDF-<AREA>-<NNN>``.
        severity: How bad it is.
        confidence: How sure the rule is.
        message: One or two sentences a person can act on.
        location: Where it is.
        cwe: CWE ids such as ``CWE-502``.
        task_ids: SP 800-218A task and item ids it bears on, such as ``PW.4.4.R2``.
        remediation: What to do about it, if the rule knows.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str = Field(pattern=r"^SSDF-[A-Z]+-[0-9]{3}$")
    severity: Severity
    confidence: Confidence = Confidence.HIGH
    message: str = Field(min_length=1)
    location: Location = Field(default_factory=Location)
    cwe: tuple[str, ...] = ()
    task_ids: tuple[str, ...] = ()
    remediation: str | None = None

    @property
    def fingerprint(self) -> str:
        """A stable id of this finding across runs: rule and location, not the message.

        Waivers and approvals name findings by fingerprint, so a waiver survives a re-scan
        that finds the same problem in the same place.
        """
        loc = self.location
        key = "\x1f".join([self.rule_id, loc.path or "", str(loc.line or ""), loc.address or ""])
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class Rule(BaseModel):
    """Metadata of a rule, shared by all its findings (used by SARIF and the docs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^SSDF-[A-Z]+-[0-9]{3}$")
    name: str
    description: str
    severity: Severity
    cwe: tuple[str, ...] = ()
    task_ids: tuple[str, ...] = ()
    help_uri: str | None = None

    def finding(
        self,
        message: str,
        *,
        path: str | None = None,
        address: str | None = None,
        severity: Severity | None = None,
        confidence: Confidence = Confidence.HIGH,
        remediation: str | None = None,
    ) -> Finding:
        """A finding under this rule: its id, CWEs and task ids, its severity unless overridden.

        Args:
            message: What was found, and where.
            path: The file concerned.
            address: Where inside it.
            severity: Overrides the rule's severity.
            confidence: How sure the rule is.
            remediation: What to do about it.
        """
        return Finding(
            rule_id=self.id,
            severity=severity or self.severity,
            confidence=confidence,
            message=message,
            location=Location(path=path, address=address),
            cwe=self.cwe,
            task_ids=self.task_ids,
            remediation=remediation,
        )
