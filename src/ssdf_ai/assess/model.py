"""The assessment's data model: controls, their results, task verdicts, roll-ups and scores.

One :class:`Assessment` is what ``ssdf assess`` produces. It is self-contained: every renderer
(terminal, JSON, HTML, Markdown, OSCAL, the CISA form) and every importer works from it alone,
without the registry or the store.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.findings import Finding, Outcome
from ssdf_ai.report.base import Report

if TYPE_CHECKING:
    from rich.console import RenderableType

CONTROL_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"


class Effort(enum.StrEnum):
    """How much work the remediation of a control takes."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Basis(enum.StrEnum):
    """What a task's verdict rests on."""

    AUTOMATED = "automated"  # at least one control evaluated evidence
    ATTESTED = "attested"  # only a person's signed attestation
    INHERITED = "inherited"  # another party performs it (shared responsibility)
    NONE = "none"  # nothing: needs attestation


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ControlMeta(_Frozen):
    """A control's metadata, kept as data (docs/controls.md is generated from it).

    Attributes:
        id: Stable id, lower-case words joined by hyphens (``roles-defined``).
        title: A short name.
        question: The yes/no question the control answers.
        task_ids: SP 800-218A task ids it bears on (``PO.2.1``).
        item_ids: Item ids it bears on (``PO.2.1.R1``).
        motivation: Why it matters.
        remediation: The exact ``ssdf`` command or action that fixes it.
        effort: How much work the remediation takes.
    """

    id: str = Field(pattern=CONTROL_ID_PATTERN)
    title: str
    question: str
    task_ids: tuple[str, ...] = Field(min_length=1)
    item_ids: tuple[str, ...] = ()
    motivation: str
    remediation: str
    effort: Effort


EvidenceKind = Literal[
    "file",
    "config",
    "run",
    "artifact",
    "finding",
    "attestation",
    "waiver",
    "approval",
    "assessment",
]


class EvidenceLink(_Frozen):
    """A piece of evidence a control used.

    Attributes:
        kind: What it is.
        ref: Where to find it: a project-relative path, ``config:checks.fail_on``, a run id, an
            artifact or envelope digest (``sha256:…``), a finding fingerprint.
        note: What it showed.
        observed_at: When the evidence was produced, where known (for freshness).
    """

    kind: EvidenceKind
    ref: str
    note: str | None = None
    observed_at: dt.datetime | None = None


class ControlResult(_Frozen):
    """The outcome of one control, with its reason and the evidence it used.

    Attributes:
        control_id: The control.
        outcome: satisfied, not-satisfied, partial, not-applicable, waived, stale or unknown.
        rationale: Why, in a sentence a person can check.
        evidence: The evidence used.
        waiver: Digest of the waiver envelope that turned a failure into ``waived``.
    """

    control_id: str = Field(pattern=CONTROL_ID_PATTERN)
    outcome: Outcome
    rationale: str
    evidence: tuple[EvidenceLink, ...] = ()
    waiver: str | None = None


class ControlEntry(_Frozen):
    """A control's metadata and its result, as an assessment carries them."""

    meta: ControlMeta
    result: ControlResult


class AttestationSummary(_Frozen):
    """A person's signed statement about a task or item, after verification.

    Attributes:
        digest: SHA-256 of the DSSE envelope (``sha256:…``), as kept in the store.
        subject_id: The task or item id attested (``PO.2.2`` or ``PO.2.2.R1``).
        task_id: The task it counts for.
        statement: What the person states.
        by: Who signed it.
        role: The role they signed in.
        created: When it was signed.
        expires: When it stops counting.
        evidence: Files attached to it, by digest.
        expired: Whether it had expired at assessment time (then the task is stale).
    """

    digest: str
    subject_id: str
    task_id: str
    statement: str
    by: str
    role: str
    created: dt.datetime
    expires: dt.datetime
    evidence: tuple[EvidenceLink, ...] = ()
    expired: bool = False


class WaiverSummary(_Frozen):
    """A signed waiver of a failing finding or control, and the approvals it collected.

    Attributes:
        digest: SHA-256 of the waiver's DSSE envelope.
        target: ``finding:<fingerprint>`` or ``control:<control id>``.
        justification: Why the risk is accepted.
        by: Who asked for it.
        role: Their role.
        created: When it was signed.
        expires: When it stops counting.
        needs_approval: Whether the configuration requires a human approver for it.
        approved_by: People whose valid approvals it carries.
        valid: Whether it takes effect (signed, unexpired, approved where needed).
        reason: Why not, when it does not.
    """

    digest: str
    target: str
    justification: str
    by: str
    role: str
    created: dt.datetime
    expires: dt.datetime
    needs_approval: bool
    approved_by: tuple[str, ...] = ()
    valid: bool
    reason: str | None = None


class RejectedRecord(_Frozen):
    """A signed record that was refused, and why (bad signature, unknown signer, expired…)."""

    digest: str
    kind: Literal["attestation", "waiver", "approval", "assessment"]
    reason: str


class FindingStatus(_Frozen):
    """An open finding from the newest evidence, and whether a waiver covers it."""

    finding: Finding
    run_id: int | None = None
    fingerprint: str
    waiver: str | None = None


class TaskVerdict(_Frozen):
    """The verdict on one task of the profile.

    Attributes:
        task_id: The task.
        practice_id: Its practice.
        group_id: Its group.
        priority: High, Medium or Low (the profile's priority).
        party: ``self`` or the party that performs the task (shared responsibility).
        outcome: The rolled-up outcome.
        basis: What the outcome rests on.
        rationale: Why, in one or two sentences.
        controls: Ids of the controls that bear on it.
        attestations: Digests of the attestations that count for it.
        score: Its value in the score (0 to 1), or ``None`` when it does not count.
        imported_from: The party whose signed assessment supplied the verdict, if any.
    """

    task_id: str
    practice_id: str
    group_id: str
    priority: Literal["High", "Medium", "Low"]
    party: str = "self"
    outcome: Outcome
    basis: Basis
    rationale: str
    controls: tuple[str, ...] = ()
    attestations: tuple[str, ...] = ()
    score: float | None = Field(default=None, ge=0, le=1)
    imported_from: str | None = None


class RollUp(_Frozen):
    """A practice's or group's verdict, rolled up from its tasks.

    Attributes:
        id: The practice or group id.
        title: Its title.
        outcome: The rolled-up outcome.
        score: Weighted score 0-100 over the tasks that count, ``None`` when none count.
        counts: How many of its tasks have each outcome.
    """

    id: str
    title: str
    outcome: Outcome
    score: float | None = Field(default=None, ge=0, le=100)
    counts: dict[Outcome, int] = Field(default_factory=dict)


class Coverage(_Frozen):
    """How many tasks rest on automated evidence, on attestation, on another party, on nothing."""

    automated: int = 0
    attested: int = 0
    inherited: int = 0
    none: int = 0

    @property
    def total(self) -> int:
        """All tasks."""
        return self.automated + self.attested + self.inherited + self.none


class ImportedAssessment(_Frozen):
    """Another party's signed assessment whose verdicts were used for the tasks it performs."""

    party: str
    digest: str
    signer: str
    project: str
    created: dt.datetime
    task_ids: tuple[str, ...]


class Scoring(_Frozen):
    """How the score is computed (also written into the report, so readers can check it)."""

    weights: dict[str, int] = Field(default_factory=lambda: {"High": 3, "Medium": 2, "Low": 1})
    values: dict[Outcome, float] = Field(
        default_factory=lambda: {
            Outcome.SATISFIED: 1.0,
            Outcome.WAIVED: 1.0,
            Outcome.PARTIAL: 0.5,
            Outcome.STALE: 0.5,
            Outcome.NOT_SATISFIED: 0.0,
            Outcome.NEEDS_ATTESTATION: 0.0,
            Outcome.UNKNOWN: 0.0,
        }
    )
    excluded: tuple[Outcome, ...] = (Outcome.NOT_APPLICABLE, Outcome.INHERITED)


class Assessment(Report):
    """An assessment of one project against SP 800-218A.

    Attributes:
        id: A unique id (UUID) of this assessment.
        created: When it was made (UTC).
        project: The project's name.
        organization_kind: ai-model-producer, ai-system-producer or acquirer.
        config_file: The configuration it used, if any.
        profile: The profile assessed against.
        score: Weighted score 0-100 (see ``scoring``).
        scoring: How the score is computed.
        coverage: What the task verdicts rest on.
        controls: Every control's metadata and result.
        tasks: One verdict per task, in profile order (48).
        practices: Practice roll-ups (20).
        groups: Group roll-ups (4).
        findings: Open findings from the newest runs, with their waivers.
        attestations: Verified attestations.
        waivers: Waivers, valid or not.
        rejected: Signed records that were refused, with the reason.
        imported: Other parties' assessments whose verdicts were used.
        warnings: Things the reader should know (a plugin control rejected, an unsafe switch
            on, an unreadable store).
        run_id: The evidence-store run that recorded this assessment.
    """

    report_type: ClassVar[str] = "assessment"

    id: str
    created: dt.datetime
    project: str
    organization_kind: str
    config_file: str | None = None
    profile: str = "NIST SP 800-218A (July 2024)"
    score: float = Field(ge=0, le=100)
    scoring: Scoring = Field(default_factory=Scoring)
    coverage: Coverage
    controls: list[ControlEntry] = Field(default_factory=list)
    tasks: list[TaskVerdict] = Field(default_factory=list)
    practices: list[RollUp] = Field(default_factory=list)
    groups: list[RollUp] = Field(default_factory=list)
    findings: list[FindingStatus] = Field(default_factory=list)
    attestations: list[AttestationSummary] = Field(default_factory=list)
    waivers: list[WaiverSummary] = Field(default_factory=list)
    rejected: list[RejectedRecord] = Field(default_factory=list)
    imported: list[ImportedAssessment] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    run_id: int | None = None

    def terminal(self) -> RenderableType:
        """Score, coverage, group and practice roll-ups, then every task."""
        from ssdf_ai.assess._terminal import assessment_view

        return assessment_view(self)
