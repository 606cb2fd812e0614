"""The evidence store: who produced which evidence, about what, and when.

A tour (names are imported lazily, so ``import ssdf_ai.store`` does not load SQLAlchemy):

- :class:`EvidenceStore` ``.open(root, *, url=None, create=True)``: the store of a project,
  kept in ``root/.ssdf`` (SQLite ``evidence.db`` by default, any SQLAlchemy URL otherwise; blobs
  in ``.ssdf/blobs``). Migrated to the current schema on open.
- ``with store.run(command, argv) as run:`` a :class:`RunRecorder`: ``add_subject``,
  ``add_artifact``, ``add_artifact_file``, ``add_finding``, ``set_exit_code``. Each call is
  committed at once; blobs are written (atomically) before the rows that name them.
- Queries: ``runs()``, ``get_run(id)``, ``artifacts()``, ``findings()``, ``subjects()``,
  ``counts()``, ``read_blob(digest)`` (digest re-checked), ``check()`` (store consistency).
- Archives (SP 800-218A PS.3.1): ``store.export(path, run_ids)`` writes a tar with a manifest;
  :func:`verify_archive` checks one without extracting it and returns an
  :class:`ArchiveVerification` whose problems are ``SSDF-EVID-*`` findings (see :mod:`.rules`).
- :func:`subject_for_path`: a :class:`~ssdf_ai.evidence.Subject` for a file or directory, with
  its content digest.
- Records handed back are plain pydantic models (:mod:`ssdf_ai.store.records`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssdf_ai._lazy import lazy_exports

if TYPE_CHECKING:
    from ssdf_ai.store._archive import (
        ArchiveLimits,
        ArchiveManifest,
        ArchiveSummary,
        ArchiveVerification,
        ExportResult,
        verify_archive,
    )
    from ssdf_ai.store._store import EvidenceStore, RunRecorder, guess_media_type, validate_kind
    from ssdf_ai.store._subjects import digest_path, subject_for_path
    from ssdf_ai.store.records import (
        ArtifactRecord,
        FindingRecord,
        RunDetail,
        RunRecord,
        RunStatus,
        SubjectRecord,
    )

_LAZY = {
    "EvidenceStore": "ssdf_ai.store._store",
    "RunRecorder": "ssdf_ai.store._store",
    "guess_media_type": "ssdf_ai.store._store",
    "validate_kind": "ssdf_ai.store._store",
    "ArchiveLimits": "ssdf_ai.store._archive",
    "ArchiveManifest": "ssdf_ai.store._archive",
    "ArchiveSummary": "ssdf_ai.store._archive",
    "ArchiveVerification": "ssdf_ai.store._archive",
    "ExportResult": "ssdf_ai.store._archive",
    "verify_archive": "ssdf_ai.store._archive",
    "digest_path": "ssdf_ai.store._subjects",
    "subject_for_path": "ssdf_ai.store._subjects",
    "ArtifactRecord": "ssdf_ai.store.records",
    "FindingRecord": "ssdf_ai.store.records",
    "RunDetail": "ssdf_ai.store.records",
    "RunRecord": "ssdf_ai.store.records",
    "RunStatus": "ssdf_ai.store.records",
    "SubjectRecord": "ssdf_ai.store.records",
}

__all__ = [
    "ArchiveLimits",
    "ArchiveManifest",
    "ArchiveSummary",
    "ArchiveVerification",
    "ArtifactRecord",
    "EvidenceStore",
    "ExportResult",
    "FindingRecord",
    "RunDetail",
    "RunRecord",
    "RunRecorder",
    "RunStatus",
    "SubjectRecord",
    "digest_path",
    "guess_media_type",
    "subject_for_path",
    "validate_kind",
    "verify_archive",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
