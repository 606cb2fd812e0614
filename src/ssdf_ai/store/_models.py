"""The store's tables, as SQLAlchemy 2 typed declarative models.

The schema itself is owned by the Alembic migrations in ``migrations/versions``; these models
must describe the same tables (a test compares them). Change both together, in a new
migration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and read back timezone-aware.

    SQLite has no time zones; storing naive UTC everywhere keeps ordering and comparison
    correct on every backend.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to naive UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps given to the evidence store must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark a stored naive UTC timestamp as UTC."""
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""


run_subjects = Table(
    "run_subjects",
    Base.metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), primary_key=True),
    Column("subject_id", Integer, ForeignKey("subjects.id"), primary_key=True),
)
"""Which subjects a run examined, including those it found nothing wrong with."""


class RunRow(Base):
    """One invocation of a tool that recorded evidence."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tool: Mapped[str] = mapped_column(String(100))
    tool_version: Mapped[str] = mapped_column(String(100))
    command: Mapped[str] = mapped_column(String(200))
    argv: Mapped[list[str]] = mapped_column(JSON)
    host: Mapped[str] = mapped_column(String(255))
    user: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    exit_code: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))

    subjects: Mapped[list[SubjectRow]] = relationship(secondary=run_subjects, lazy="selectin")


class SubjectRow(Base):
    """A thing evidence is about."""

    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("kind", "name", "digest", name="uq_subjects_identity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(Text)
    digest: Mapped[str | None] = mapped_column(String(64))


class ArtifactRow(Base):
    """A stored piece of evidence; its bytes are the blob named by ``digest``."""

    __tablename__ = "artifacts"
    __table_args__ = (
        Index("ix_artifacts_digest", "digest"),
        Index("ix_artifacts_kind", "kind"),
        Index("ix_artifacts_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    kind: Mapped[str] = mapped_column(String(100))
    media_type: Mapped[str] = mapped_column(String(255))
    digest: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    producer: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FindingRow(Base):
    """A finding; ``data`` holds the full :class:`~ssdf_ai.findings.Finding` as JSON."""

    __tablename__ = "findings"
    __table_args__ = (
        Index("ix_findings_run_id", "run_id"),
        Index("ix_findings_rule_id", "rule_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    rule_id: Mapped[str] = mapped_column(String(50))
    severity: Mapped[str] = mapped_column(String(20))
    task_ids: Mapped[list[str]] = mapped_column(JSON)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
