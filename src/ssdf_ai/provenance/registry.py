"""The dataset registry: where each dataset came from, under which licence, how sensitive it is.

A registration is evidence: ``ssdf data register`` records a run ``data register`` with the
dataset as its subject (kind ``dataset``, digest :func:`content_digest`) and one artifact of kind
``dataset-registration`` holding a :class:`DatasetEntry` as JSON. The registry is the newest
registration of each path, read back from the evidence store; older registrations stay as
history. Nothing here trusts a dataset's own files to describe it.

Digests: a single file is named by the SHA-256 of its bytes; a directory by the OpenSSF model
signing root over its files (files method, SHA-256, git files ignored), the same value
``ssdf sign`` records, so a dataset signed and registered carries one digest everywhere.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.errors import InputError

if TYPE_CHECKING:
    from ssdf_ai.store import EvidenceStore

__all__ = [
    "REGISTRATION_KIND",
    "REGISTER_COMMAND",
    "DatasetEntry",
    "Provenance",
    "content_digest",
    "load_registry",
    "lookup",
    "project_path",
]

REGISTER_COMMAND = "data register"
REGISTRATION_KIND = "dataset-registration"
SENSITIVE_CATEGORIES = ("pii", "phi", "pci", "biometric", "financial", "confidential", "minors")


class Provenance(enum.StrEnum):
    """Whether a dataset's origin is known (PW.3.2 N1: unknown provenance is tracked too)."""

    KNOWN = "known"
    UNKNOWN = "unknown"


class DatasetEntry(BaseModel):
    """One registered dataset.

    Attributes:
        path: The dataset's path relative to the project root (POSIX).
        digest: SHA-256 of the file, or the OMS root of the directory, when registered.
        digest_method: ``sha256`` (a file) or ``oms-root`` (a directory).
        source: Where it came from (a URI: ``https://…``, ``s3://…``, ``hf://datasets/…``,
            ``file:…``, or ``internal:…``).
        license: Its licence (an SPDX id or ``LicenseRef-…``; ``NOASSERTION`` if unknown).
        provenance: Whether its origin is known.
        sensitive: Sensitive-data categories it holds (pii, phi, pci …); empty if none.
        description: Free text.
        registered_at: When it was registered (UTC).
        registered_by: Who registered it (the user running the command).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(min_length=1)
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    digest_method: str = Field(pattern=r"^(sha256|oms-root)$")
    source: str = Field(min_length=1)
    license: str = Field(min_length=1)
    provenance: Provenance
    sensitive: tuple[str, ...] = ()
    description: str | None = None
    registered_at: dt.datetime
    registered_by: str | None = None


def content_digest(path: Path) -> tuple[str, str]:
    """The digest that names a dataset, model or file: ``(hex, method)``.

    A file: SHA-256 of its bytes (``sha256``). A directory: the OMS root over its files
    (``oms-root``), as ``ssdf sign`` with default settings computes it.

    Raises:
        InputError: The path does not exist, or holds a symbolic link or special file.
    """
    from ssdf_ai.evidence import sha256_file
    from ssdf_ai.integrity.manifest import Serialization, iter_manifest, root_digest

    if path.is_file():
        return sha256_file(path), "sha256"
    if not path.is_dir():
        raise InputError(f"{path} does not exist", where=path)
    return root_digest(iter_manifest(path, Serialization())), "oms-root"


def project_path(root: Path, path: Path) -> str:
    """``path`` relative to the project ``root`` (POSIX), or as given when outside it."""
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
    return rel or "."


def load_registry(store: EvidenceStore) -> dict[str, DatasetEntry]:
    """The newest registration of every dataset path in the store, by path."""
    entries: dict[str, DatasetEntry] = {}
    for artifact in store.artifacts(REGISTRATION_KIND):  # newest first
        try:
            entry = DatasetEntry.model_validate(json.loads(store.read_blob(artifact.digest)))
        except (ValueError, InputError):
            continue  # a damaged blob is reported by `ssdf evidence verify`
        entries.setdefault(entry.path, entry)
    return entries


def lookup(
    registry: dict[str, DatasetEntry], rel_path: str, digest: str | None = None
) -> DatasetEntry | None:
    """The registration covering ``rel_path`` (itself or a registered folder above it).

    When ``digest`` is given and the entry is for exactly that path, the digests must agree;
    a dataset whose content changed since it was registered is not the registered dataset.
    """
    entry = registry.get(rel_path)
    if entry is not None:
        return entry if digest is None or entry.digest == digest else None
    parts = rel_path.split("/")
    for cut in range(len(parts) - 1, 0, -1):
        parent = registry.get("/".join(parts[:cut]))
        if parent is not None:
            return parent
    return None
