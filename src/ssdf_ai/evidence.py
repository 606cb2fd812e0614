"""Evidence: what it is about (:class:`Subject`) and what was produced (:class:`Artifact`).

Artifacts are content-addressed by SHA-256: the digest is the identity, and the evidence store
keeps the bytes under ``.ssdf/blobs/sha256/<first two hex digits>/<digest>``.
"""

from __future__ import annotations

import enum
import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

SHA256_PATTERN = r"^[0-9a-f]{64}$"
_CHUNK = 1 << 20


class SubjectKind(enum.StrEnum):
    """What kind of thing evidence is about."""

    MODEL = "model"
    DATASET = "dataset"
    REPOSITORY = "repository"
    FILE = "file"


class Subject(BaseModel):
    """A thing evidence is about: a model, a dataset, a repository or a file.

    Attributes:
        kind: What kind of thing it is.
        name: A stable name, usually the path relative to the project root.
        digest: SHA-256 of its content (for directories, of the sorted manifest of files).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: SubjectKind
    name: str = Field(min_length=1)
    digest: str | None = Field(default=None, pattern=SHA256_PATTERN)


class Artifact(BaseModel):
    """A produced piece of evidence: a report, a signature, a BOM, a data card.

    Attributes:
        kind: What it is, such as ``scan-report`` or ``data-card``.
        media_type: Its IANA media type.
        digest: SHA-256 of its bytes.
        size: Its length in bytes.
        producer: The tool (and version) that produced it.
        name: A file name to give it on export.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    media_type: str
    digest: str = Field(pattern=SHA256_PATTERN)
    size: int = Field(ge=0)
    producer: str
    name: str | None = None


def sha256_bytes(data: bytes) -> str:
    """Return the hex SHA-256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Return the hex SHA-256 digest of a file, read in 1 MiB chunks.

    Args:
        path: The file to hash.

    Returns:
        The lower-case hex digest.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
