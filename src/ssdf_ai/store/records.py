"""What the evidence store hands back: plain, frozen records of runs, subjects, artifacts and
findings.

These models carry no database state, so they can be rendered, written to JSON, put into an
evidence archive's manifest and read back from it. Importing this module is cheap (pydantic
only; no SQLAlchemy).
"""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.evidence import SHA256_PATTERN, Artifact, Subject, SubjectKind
from ssdf_ai.findings import Finding


class RunStatus(enum.StrEnum):
    """Where a recorded run stands.

    A run is committed as ``running`` when it starts and finalized when it ends. A run that
    stays ``running`` after its process is gone was interrupted (killed, or the machine lost
    power): what it recorded before that is intact, but it never finished.
    """

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class RunRecord(BaseModel):
    """One recorded invocation of a tool: who ran what, where and when, and how it ended.

    Attributes:
        id: The run's id in this store.
        tool: The tool that ran (``ssdf-ai`` for our own commands).
        tool_version: Its version.
        command: The command, such as ``evidence add``.
        argv: The full argument vector.
        host: The host name it ran on.
        user: The user it ran as, where known.
        started_at: When it started (UTC).
        finished_at: When it ended (UTC); ``None`` while running or if interrupted.
        exit_code: Its exit code, once finished.
        status: running, finished or failed.
        subject_ids: The subjects the run examined, with or without findings.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    tool: str
    tool_version: str
    command: str
    argv: tuple[str, ...] = ()
    host: str
    user: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
    exit_code: int | None = None
    status: RunStatus
    subject_ids: tuple[int, ...] = ()


class SubjectRecord(BaseModel):
    """A stored :class:`~ssdf_ai.evidence.Subject` with its id.

    Attributes:
        id: The subject's id in this store.
        kind: model, dataset, repository or file.
        name: Its stable name, usually a path relative to the project root.
        digest: SHA-256 of its content, where known.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    kind: SubjectKind
    name: str
    digest: str | None = Field(default=None, pattern=SHA256_PATTERN)

    def subject(self) -> Subject:
        """Return the plain :class:`~ssdf_ai.evidence.Subject`."""
        return Subject(kind=self.kind, name=self.name, digest=self.digest)


class ArtifactRecord(BaseModel):
    """A stored artifact: the :class:`~ssdf_ai.evidence.Artifact` plus where it came from.

    Attributes:
        id: The artifact's id in this store.
        run_id: The run that recorded it.
        subject_id: The subject it is about, if any.
        kind: What it is, such as ``scan-report`` or ``data-card``.
        media_type: Its IANA media type.
        digest: SHA-256 of its bytes; the blob's name.
        size: Its length in bytes.
        producer: The tool (and version) that produced it.
        name: A file name to give it on export.
        created_at: When it was recorded (UTC).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    run_id: int
    subject_id: int | None = None
    kind: str
    media_type: str
    digest: str = Field(pattern=SHA256_PATTERN)
    size: int = Field(ge=0)
    producer: str
    name: str | None = None
    created_at: datetime

    def artifact(self) -> Artifact:
        """Return the plain :class:`~ssdf_ai.evidence.Artifact`."""
        return Artifact(
            kind=self.kind,
            media_type=self.media_type,
            digest=self.digest,
            size=self.size,
            producer=self.producer,
            name=self.name,
        )


class FindingRecord(BaseModel):
    """A stored :class:`~ssdf_ai.findings.Finding` with the run and subject it belongs to.

    Attributes:
        id: The finding's id in this store.
        run_id: The run that recorded it.
        subject_id: The subject it is about, if any.
        finding: The finding itself, exactly as recorded.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    run_id: int
    subject_id: int | None = None
    finding: Finding


class RunDetail(BaseModel):
    """A run with everything it recorded.

    Attributes:
        run: The run.
        subjects: The subjects it examined or that its artifacts and findings are about.
        artifacts: The artifacts it recorded, in order.
        findings: The findings it recorded, in order.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    run: RunRecord
    subjects: list[SubjectRecord] = Field(default_factory=list)
    artifacts: list[ArtifactRecord] = Field(default_factory=list)
    findings: list[FindingRecord] = Field(default_factory=list)
