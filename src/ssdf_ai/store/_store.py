"""The evidence store: runs, subjects, artifacts and findings in a database, blobs on disk."""

from __future__ import annotations

import contextlib
import getpass
import mimetypes
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ssdf_ai._version import __version__
from ssdf_ai.errors import InputError, StoreError, VerificationError
from ssdf_ai.evidence import Artifact, Subject, SubjectKind
from ssdf_ai.findings import Finding
from ssdf_ai.store import _db, rules
from ssdf_ai.store._blobs import CHUNK, BlobStore, check_digest
from ssdf_ai.store._models import ArtifactRow, FindingRow, RunRow, SubjectRow
from ssdf_ai.store.records import (
    ArtifactRecord,
    FindingRecord,
    RunDetail,
    RunRecord,
    RunStatus,
    SubjectRecord,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ssdf_ai.store._archive import ExportResult

STORE_DIR = ".ssdf"
DATABASE_FILE = "evidence.db"
BLOBS_DIR = "blobs"
TOOL = "ssdf-ai"
MIN_PREFIX = 8


def _now() -> datetime:
    return datetime.now(UTC)


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return None


@contextlib.contextmanager
def _db_errors(action: str, where: str) -> Iterator[None]:
    """Turn database failures (locked, disk full, damaged file) into :class:`StoreError`."""
    try:
        yield
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        reason = str(orig) if orig is not None else str(exc).splitlines()[0]
        raise StoreError(
            f"cannot {action}: {reason}",
            where=where,
            hint="check that the store is writable and not damaged",
        ) from exc


def _run_record(row: RunRow) -> RunRecord:
    return RunRecord(
        id=row.id,
        tool=row.tool,
        tool_version=row.tool_version,
        command=row.command,
        argv=tuple(row.argv),
        host=row.host,
        user=row.user,
        started_at=row.started_at,
        finished_at=row.finished_at,
        exit_code=row.exit_code,
        status=RunStatus(row.status),
        subject_ids=tuple(sorted(s.id for s in row.subjects)),
    )


def _subject_record(row: SubjectRow) -> SubjectRecord:
    return SubjectRecord(id=row.id, kind=SubjectKind(row.kind), name=row.name, digest=row.digest)


def _artifact_record(row: ArtifactRow) -> ArtifactRecord:
    return ArtifactRecord(
        id=row.id,
        run_id=row.run_id,
        subject_id=row.subject_id,
        kind=row.kind,
        media_type=row.media_type,
        digest=row.digest,
        size=row.size,
        producer=row.producer,
        name=row.name,
        created_at=row.created_at,
    )


def _finding_record(row: FindingRow) -> FindingRecord:
    return FindingRecord(
        id=row.id,
        run_id=row.run_id,
        subject_id=row.subject_id,
        finding=Finding.from_dict(row.data),
    )


def validate_kind(kind: str) -> str:
    """Return ``kind`` if it is a valid artifact kind (``data-card``, ``scan-report``, ...).

    Raises:
        InputError: If it is not lower-case words joined by ``-`` or ``.``.
    """
    try:
        Artifact(kind=kind, media_type="-", digest="0" * 64, size=0, producer="-")
    except ValidationError as exc:
        raise InputError(
            f"invalid artifact kind {kind!r}",
            hint="artifact kinds are lower-case words joined by '-' or '.', e.g. data-card",
        ) from exc
    return kind


def guess_media_type(name: str | Path) -> str:
    """Guess a media type from a file name, falling back to ``application/octet-stream``."""
    guessed, _ = mimetypes.guess_type(str(name), strict=False)
    return guessed or "application/octet-stream"


class EvidenceStore:
    """The evidence store of one project.

    Open it with :meth:`open`; record with :meth:`run`; query with :meth:`runs`,
    :meth:`get_run`, :meth:`artifacts`, :meth:`findings`; archive with :meth:`export`. Use it as
    a context manager, or call :meth:`close`.

    Args:
        root: The project root.
        engine: The database engine.
        url: The database URL (for messages; passwords are never shown).
    """

    def __init__(self, root: Path, engine: Engine, url: str):
        self.root = root
        self.directory = root / STORE_DIR
        self.blobs = BlobStore(self.directory / BLOBS_DIR)
        self._engine: Engine | None = engine
        self._where = _db.redact_url(url)
        self._reader = sessionmaker(engine, expire_on_commit=False)
        self._writer = sessionmaker(_db.writer(engine), expire_on_commit=False)

    # -- opening and closing -------------------------------------------------------------

    @classmethod
    def open(cls, root: str | Path, *, url: str | None = None, create: bool = True) -> Self:
        """Open (and if needed create or migrate) the evidence store of a project.

        Args:
            root: The project root; the store lives in ``root/.ssdf``.
            url: A SQLAlchemy database URL; ``None`` for the SQLite file
                ``root/.ssdf/evidence.db``. Blobs are kept under ``root/.ssdf/blobs`` either way.
            create: Whether to create the store when there is none.

        Returns:
            The open store, at the current schema revision.

        Raises:
            StoreError: If there is no store and ``create`` is false, the database cannot be
                read or migrated, or it was written by a newer ssdf-ai.
            InputError: If ``root`` is not a directory.
        """
        root = Path(root)
        if not root.is_dir():
            raise InputError(f"project directory {root} does not exist", where=root)
        directory = root / STORE_DIR
        if url is None:
            database = directory / DATABASE_FILE
            if not database.is_file():
                if not create:
                    raise StoreError(
                        "no evidence recorded yet: there is no evidence store",
                        where=directory,
                        hint="record evidence first, e.g. `ssdf evidence add FILE --kind KIND`",
                    )
                directory.mkdir(mode=0o700, exist_ok=True)
            url = _db.sqlite_url(database)
        elif create:
            directory.mkdir(mode=0o700, exist_ok=True)
        engine = _db.make_engine(url)
        try:
            _db.ensure_schema(engine, create=create, where=_db.redact_url(url))
        except BaseException:
            engine.dispose()
            raise
        store = cls(root, engine, url)
        with contextlib.suppress(OSError):
            store.blobs.sweep_temporary()
        return store

    @staticmethod
    def exists(root: str | Path, *, url: str | None = None) -> bool:
        """Whether there is a store for ``root``, without creating or migrating anything.

        For the default SQLite file this checks that the file exists; with a database URL it
        connects and looks for the schema's revision table.

        Raises:
            StoreError: If the database at ``url`` cannot be reached.
        """
        if url is None:
            return (Path(root) / STORE_DIR / DATABASE_FILE).is_file()
        engine = _db.make_engine(url)
        try:
            with _db_errors("read the evidence store", _db.redact_url(url)), engine.connect() as c:
                return _db.current_revision(c) is not None
        finally:
            engine.dispose()

    def close(self) -> None:
        """Close the database connections. The store cannot be used afterwards."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _session(self, *, write: bool = False) -> Session:
        if self._engine is None:
            raise StoreError("the evidence store is closed", where=self._where)
        return (self._writer if write else self._reader)()

    # -- recording -----------------------------------------------------------------------

    @contextlib.contextmanager
    def run(
        self,
        command: str,
        argv: list[str],
        *,
        tool: str = TOOL,
        tool_version: str = __version__,
    ) -> Iterator[RunRecorder]:
        """Record one run of a tool, with everything it produces.

        The run row is committed (status ``running``) before the block starts; every
        ``add_*`` call is its own committed transaction; when the block ends the run is
        finalized: ``finished`` with the exit code set by
        :meth:`RunRecorder.set_exit_code` (0 if none), or ``failed`` if the block raised.

        Args:
            command: The command being run, such as ``scan``.
            argv: The full argument vector.
            tool: The tool's name.
            tool_version: The tool's version.

        Yields:
            The recorder.

        Raises:
            StoreError: If the store cannot be written.
        """
        row = RunRow(
            tool=tool,
            tool_version=tool_version,
            command=command,
            argv=list(argv),
            host=socket.gethostname(),
            user=_user(),
            started_at=_now(),
            status=RunStatus.RUNNING.value,
        )
        with _db_errors("record a run", self._where), self._session(write=True) as s, s.begin():
            s.add(row)
            s.flush()
            run_id = row.id
        recorder = RunRecorder(self, run_id, f"{tool} {tool_version}")
        failed = False
        try:
            yield recorder
        except BaseException:
            failed = True
            raise
        finally:
            recorder._finish(failed=failed)

    # -- queries -------------------------------------------------------------------------

    def runs(self, limit: int | None = None) -> list[RunRecord]:
        """Return recorded runs, newest first.

        Args:
            limit: At most this many; all when ``None``.
        """
        query = select(RunRow).order_by(RunRow.id.desc()).limit(limit)
        with _db_errors("read runs", self._where), self._session() as s:
            return [_run_record(r) for r in s.scalars(query)]

    def get_run(self, run_id: int) -> RunDetail:
        """Return one run with its subjects, artifacts and findings.

        Raises:
            InputError: If there is no run with this id.
        """
        with _db_errors("read a run", self._where), self._session() as s:
            row = s.get(RunRow, run_id)
            if row is None:
                raise InputError(
                    f"no run with id {run_id} in the evidence store",
                    hint="list the runs with `ssdf evidence list`",
                )
            artifacts = [
                _artifact_record(a)
                for a in s.scalars(
                    select(ArtifactRow).where(ArtifactRow.run_id == run_id).order_by(ArtifactRow.id)
                )
            ]
            findings = [
                _finding_record(f)
                for f in s.scalars(
                    select(FindingRow).where(FindingRow.run_id == run_id).order_by(FindingRow.id)
                )
            ]
            subject_ids = {s_.id for s_ in row.subjects}
            subject_ids |= {a.subject_id for a in artifacts if a.subject_id is not None}
            subject_ids |= {f.subject_id for f in findings if f.subject_id is not None}
            subjects = self._subjects(s, subject_ids)
            return RunDetail(
                run=_run_record(row), subjects=subjects, artifacts=artifacts, findings=findings
            )

    @staticmethod
    def _subjects(session: Session, ids: set[int]) -> list[SubjectRecord]:
        if not ids:
            return []
        query = select(SubjectRow).where(SubjectRow.id.in_(ids)).order_by(SubjectRow.id)
        return [_subject_record(r) for r in session.scalars(query)]

    def subjects(self, ids: set[int] | None = None) -> list[SubjectRecord]:
        """Return stored subjects (those with the given ids, or all), in id order."""
        with _db_errors("read subjects", self._where), self._session() as s:
            if ids is not None:
                return self._subjects(s, ids)
            query = select(SubjectRow).order_by(SubjectRow.id)
            return [_subject_record(r) for r in s.scalars(query)]

    def artifacts(
        self,
        kind: str | None = None,
        subject: str | int | None = None,
        *,
        run_id: int | None = None,
        digest: str | None = None,
        limit: int | None = None,
    ) -> list[ArtifactRecord]:
        """Return recorded artifacts, newest first, optionally filtered.

        Args:
            kind: Only artifacts of this kind.
            subject: Only artifacts about this subject (its id, or its name).
            run_id: Only artifacts recorded by this run.
            digest: Only artifacts with this content digest.
            limit: At most this many.
        """
        query = select(ArtifactRow).order_by(ArtifactRow.id.desc())
        if kind is not None:
            query = query.where(ArtifactRow.kind == kind)
        if isinstance(subject, int):
            query = query.where(ArtifactRow.subject_id == subject)
        elif subject is not None:
            names = select(SubjectRow.id).where(SubjectRow.name == subject)
            query = query.where(ArtifactRow.subject_id.in_(names))
        if run_id is not None:
            query = query.where(ArtifactRow.run_id == run_id)
        if digest is not None:
            query = query.where(ArtifactRow.digest == digest)
        with _db_errors("read artifacts", self._where), self._session() as s:
            return [_artifact_record(r) for r in s.scalars(query.limit(limit))]

    def findings(
        self, run_id: int | None = None, *, limit: int | None = None
    ) -> list[FindingRecord]:
        """Return recorded findings, newest first.

        Args:
            run_id: Only findings of this run.
            limit: At most this many.
        """
        query = select(FindingRow).order_by(FindingRow.id.desc())
        if run_id is not None:
            query = query.where(FindingRow.run_id == run_id)
        with _db_errors("read findings", self._where), self._session() as s:
            return [_finding_record(r) for r in s.scalars(query.limit(limit))]

    def counts(self) -> dict[str, int]:
        """Return how many runs, subjects, artifacts and findings are recorded."""
        with _db_errors("count evidence", self._where), self._session() as s:
            return {
                name: s.scalar(select(func.count()).select_from(model)) or 0
                for name, model in (
                    ("runs", RunRow),
                    ("subjects", SubjectRow),
                    ("artifacts", ArtifactRow),
                    ("findings", FindingRow),
                )
            }

    def resolve_digest(self, prefix: str) -> str:
        """Return the one recorded artifact digest that starts with ``prefix``.

        Args:
            prefix: At least 8 hex digits, optionally after ``sha256:``.

        Raises:
            InputError: If the prefix is too short, not hex, matches nothing or is ambiguous.
        """
        prefix = prefix.lower().removeprefix("sha256:")
        if (
            len(prefix) < MIN_PREFIX
            or len(prefix) > 64
            or not all(c in "0123456789abcdef" for c in prefix)
        ):
            raise InputError(
                f"not a digest or digest prefix: {prefix!r}",
                hint=f"give at least {MIN_PREFIX} hexadecimal digits of an artifact's SHA-256",
            )
        query = (
            select(ArtifactRow.digest)
            .where(ArtifactRow.digest.startswith(prefix, autoescape=True))
            .distinct()
            .limit(2)
        )
        with _db_errors("read artifacts", self._where), self._session() as s:
            matches = list(s.scalars(query))
        if not matches:
            raise InputError(
                f"no artifact with digest {prefix}…",
                hint="list artifacts with `ssdf evidence list --kind artifacts`",
            )
        if len(matches) > 1:
            raise InputError(
                f"digest prefix {prefix} is ambiguous", hint="give more hexadecimal digits"
            )
        return matches[0]

    # -- blobs ---------------------------------------------------------------------------

    def read_blob(self, digest: str) -> bytes:
        """Return the bytes of a blob, after checking them against the digest.

        Raises:
            InputError: If ``digest`` is not a SHA-256 hex digest.
            VerificationError: If the blob is missing or its content does not match.
        """
        return self.blobs.read(check_digest(digest))

    def blob_path(self, digest: str) -> Path:
        """Return where the blob with this digest is kept (it may not exist)."""
        return self.blobs.path(digest)

    # -- verification and export ---------------------------------------------------------

    def check(self) -> tuple[int, list[Finding]]:
        """Check the store: the database's integrity, and every artifact's blob.

        Reads every blob once. Unreferenced blobs (left by an interrupted writer) are not
        problems and are not reported.

        Returns:
            How many blobs were checked, and one finding per problem (rules
            ``SSDF-EVID-001``, ``-002`` and ``-011``); no findings when the store is intact.
        """
        problems: list[Finding] = []
        where = str(self.directory)
        with _db_errors("check the store", self._where), self._session() as s:
            if s.get_bind().dialect.name == "sqlite":
                result = [str(r) for r in s.execute(text("PRAGMA integrity_check")).scalars()]
                if result != ["ok"]:
                    problems.append(
                        rules.finding(
                            rules.STORE_DAMAGED,
                            "the database fails SQLite's integrity check: " + "; ".join(result),
                            path=where,
                        )
                    )
            digests = list(s.scalars(select(ArtifactRow.digest).distinct()))
        for digest in sorted(digests):
            try:
                with self.blobs.open(digest) as reader:
                    reader.verify()
            except VerificationError as exc:
                missing = "missing" in exc.message
                problems.append(
                    rules.finding(
                        rules.MEMBER_MISSING if missing else rules.MEMBER_CHANGED,
                        exc.message,
                        path=where,
                        address=f"blobs/sha256/{digest}",
                    )
                )
        return len(digests), problems

    def export(self, path: str | Path, run_ids: list[int] | None = None) -> ExportResult:
        """Write an evidence archive of some or all runs (see :mod:`ssdf_ai.store._archive`).

        Args:
            path: The archive to write (``.tar``, ``.tar.gz``/``.tgz`` or ``.tar.xz``); written
                atomically.
            run_ids: The runs to include; all when ``None``.

        Returns:
            What was written, with the archive's SHA-256.

        Raises:
            InputError: If a run id is unknown, there is nothing to export, or the
                destination cannot be written.
            VerificationError: If a blob in the store is missing or was modified (nothing is
                written then).
        """
        from ssdf_ai.store._archive import export_archive

        return export_archive(self, Path(path), run_ids)


class RunRecorder:
    """Records what one run produces. Obtain it from :meth:`EvidenceStore.run`.

    Attributes:
        id: The run's id.
    """

    def __init__(self, store: EvidenceStore, run_id: int, producer: str):
        self._store = store
        self.id = run_id
        self._producer = producer
        self._exit_code: int | None = None
        self._done = False

    def _check_open(self) -> None:
        if self._done:
            raise StoreError(f"run {self.id} is already finished; start a new run to record")

    def set_exit_code(self, code: int) -> None:
        """Set the exit code the run is finalized with."""
        self._exit_code = code

    def add_subject(self, subject: Subject) -> int:
        """Record that this run examined ``subject``; return the subject's id.

        A subject with the same kind, name and digest is stored once and shared by runs.
        """
        self._check_open()
        with _db_errors("record a subject", self._store._where):
            try:
                return self._add_subject(subject)
            except IntegrityError:
                # Another process inserted the same subject at the same moment (possible on
                # PostgreSQL; SQLite writers are serialized); now it exists, so look again.
                return self._add_subject(subject)

    def _add_subject(self, subject: Subject) -> int:
        with self._store._session(write=True) as s, s.begin():
            query = select(SubjectRow).where(
                SubjectRow.kind == subject.kind.value,
                SubjectRow.name == subject.name,
                SubjectRow.digest.is_(None)
                if subject.digest is None
                else SubjectRow.digest == subject.digest,
            )
            row = s.scalars(query.limit(1)).first()
            if row is None:
                row = SubjectRow(kind=subject.kind.value, name=subject.name, digest=subject.digest)
                s.add(row)
                s.flush()
            run = s.get(RunRow, self.id)
            if run is None:  # pragma: no cover - the run row is committed first
                raise StoreError(f"run {self.id} vanished from the store")
            if row not in run.subjects:
                run.subjects.append(row)
            return row.id

    def _validate(
        self, kind: str, media_type: str, producer: str | None, name: str | None
    ) -> Artifact:
        validate_kind(kind)
        try:
            return Artifact(
                kind=kind,
                media_type=media_type,
                digest="0" * 64,
                size=0,
                producer=producer or self._producer,
                name=name,
            )
        except ValidationError as exc:
            problem = exc.errors()[0]
            raise InputError(
                f"invalid artifact {'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}",
            ) from exc

    def add_artifact(
        self,
        data: bytes,
        *,
        kind: str,
        media_type: str,
        subject_id: int | None = None,
        name: str | None = None,
        producer: str | None = None,
    ) -> Artifact:
        """Store ``data`` as a blob, then record it as an artifact of this run.

        Args:
            data: The artifact's bytes.
            kind: What it is, such as ``scan-report`` or ``data-card``.
            media_type: Its IANA media type.
            subject_id: The subject it is about (from :meth:`add_subject`).
            name: A file name to give it on export.
            producer: The tool that produced it; defaults to this run's tool and version.

        Returns:
            The recorded artifact.

        Raises:
            InputError: If ``kind`` is malformed or ``subject_id`` is unknown.
        """
        self._check_open()
        template = self._validate(kind, media_type, producer, name)
        digest, size = self._store.blobs.put_bytes(data)
        return self._record(template, digest, size, subject_id)

    def add_artifact_file(
        self,
        path: str | Path,
        *,
        kind: str,
        media_type: str | None = None,
        subject_id: int | None = None,
        name: str | None = None,
        producer: str | None = None,
    ) -> Artifact:
        """Stream a file into the store (hashing while copying), then record it.

        Args:
            path: The file.
            kind: What it is.
            media_type: Its media type; guessed from the file name when ``None``.
            subject_id: The subject it is about.
            name: A file name to give it on export; defaults to the file's name.
            producer: The tool that produced it; defaults to this run's tool and version.

        Returns:
            The recorded artifact.

        Raises:
            InputError: If the file cannot be read, ``kind`` is malformed or ``subject_id``
                is unknown.
        """
        self._check_open()
        source = Path(path)
        template = self._validate(
            kind, media_type or guess_media_type(source), producer, name or source.name
        )
        try:
            with open(source, "rb") as handle:
                digest, size = self._store.blobs.put(iter(lambda: handle.read(CHUNK), b""))
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            raise InputError(f"cannot read {source}: {exc.strerror}", where=source) from exc
        return self._record(template, digest, size, subject_id)

    def _record(
        self, template: Artifact, digest: str, size: int, subject_id: int | None
    ) -> Artifact:
        artifact = template.model_copy(update={"digest": digest, "size": size})
        row = ArtifactRow(
            run_id=self.id,
            subject_id=subject_id,
            kind=artifact.kind,
            media_type=artifact.media_type,
            digest=digest,
            size=size,
            producer=artifact.producer,
            name=artifact.name,
            created_at=_now(),
        )
        self._insert(row, subject_id)
        return artifact

    def add_finding(self, finding: Finding, subject_id: int | None = None) -> int:
        """Record a finding of this run; return its id.

        Raises:
            InputError: If ``subject_id`` is unknown.
        """
        self._check_open()
        row = FindingRow(
            run_id=self.id,
            subject_id=subject_id,
            rule_id=finding.rule_id,
            severity=finding.severity.value,
            task_ids=list(finding.task_ids),
            data=finding.to_dict(),
        )
        self._insert(row, subject_id)
        return row.id

    def _insert(self, row: Any, subject_id: int | None) -> None:
        try:
            with (
                _db_errors("record evidence", self._store._where),
                self._store._session(write=True) as s,
                s.begin(),
            ):
                s.add(row)
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError) and subject_id is not None:
                raise InputError(
                    f"no subject with id {subject_id} in the evidence store",
                    hint="record the subject with add_subject() first and use the id it returns",
                ) from exc
            raise

    def _finish(self, *, failed: bool) -> None:
        if self._done:
            return
        self._done = True
        with (
            _db_errors("finish the run", self._store._where),
            self._store._session(write=True) as s,
            s.begin(),
        ):
            row = s.get(RunRow, self.id)
            if row is None:  # pragma: no cover - the run row is committed first
                return
            row.finished_at = _now()
            row.status = (RunStatus.FAILED if failed else RunStatus.FINISHED).value
            # A run that raised without setting a code has no known exit code.
            row.exit_code = self._exit_code
            if row.exit_code is None and not failed:
                row.exit_code = 0
