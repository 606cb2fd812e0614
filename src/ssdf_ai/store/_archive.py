"""Evidence archives: export a store's runs to one tar file, and verify one without trusting it.

An archive is a tar file (optionally gzip- or xz-compressed) whose first member is
``manifest.json`` and whose other members are the blobs, as ``blobs/sha256/<digest>``. The
manifest holds the records (runs, subjects, artifacts, findings) and a ``files`` map from each
blob member's name to its SHA-256 and size.

Verification reads the archive once, as a stream, and never extracts anything to disk. It
refuses unsafe names (absolute, ``..``), any member that is not a regular file, duplicates, and
stays within fixed limits on member count, total size, manifest size and tar metadata, so a
hostile archive cannot exhaust memory or disk.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import io
import json
import lzma
import re
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ssdf_ai._io import atomic_writer
from ssdf_ai._tar import BoundedReader, guarded_tarinfo, member_kind, unsafe_name
from ssdf_ai._version import __version__
from ssdf_ai.errors import InputError, VerificationError
from ssdf_ai.evidence import SHA256_PATTERN
from ssdf_ai.findings import Finding
from ssdf_ai.store import rules
from ssdf_ai.store._blobs import CHUNK
from ssdf_ai.store.records import ArtifactRecord, FindingRecord, RunRecord, SubjectRecord

if TYPE_CHECKING:
    from ssdf_ai.store._store import EvidenceStore

ARCHIVE_FORMAT: Final = "ssdf-ai-evidence-archive"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
BLOB_PREFIX = "blobs/sha256/"
_BLOB_NAME = re.compile(r"^blobs/sha256/([0-9a-f]{64})$")


class FileEntry(BaseModel):
    """What the manifest records about one member: its digest and size."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str = Field(pattern=SHA256_PATTERN)
    size: int = Field(ge=0)


class ArchiveTool(BaseModel):
    """The tool that wrote an archive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: str


class ArchiveManifest(BaseModel):
    """The ``manifest.json`` of an evidence archive.

    Attributes:
        format: Always ``ssdf-ai-evidence-archive``.
        format_version: The archive format's version (:data:`FORMAT_VERSION`).
        tool: The tool that wrote it.
        created: When it was written (UTC).
        runs: The exported runs.
        subjects: Every subject those runs refer to.
        artifacts: Every artifact those runs recorded.
        findings: Every finding those runs recorded.
        files: Each blob member's name mapped to its SHA-256 and size.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["ssdf-ai-evidence-archive"] = ARCHIVE_FORMAT
    format_version: int = FORMAT_VERSION
    tool: ArchiveTool = Field(
        default_factory=lambda: ArchiveTool(name="ssdf-ai", version=__version__)
    )
    created: datetime
    runs: list[RunRecord]
    subjects: list[SubjectRecord]
    artifacts: list[ArtifactRecord]
    findings: list[FindingRecord]
    files: dict[str, FileEntry]


class ExportResult(BaseModel):
    """What :meth:`EvidenceStore.export` wrote.

    Attributes:
        archive: The archive's path.
        sha256: SHA-256 of the archive file; record or sign it to protect the manifest.
        size: The archive's size in bytes.
        compression: none, gzip or xz.
        runs: Number of runs exported.
        subjects: Number of subjects.
        artifacts: Number of artifact records.
        findings: Number of findings.
        blobs: Number of distinct blobs.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    archive: str
    sha256: str = Field(pattern=SHA256_PATTERN)
    size: int
    compression: Literal["none", "gzip", "xz"]
    runs: int
    subjects: int
    artifacts: int
    findings: int
    blobs: int


class ArchiveLimits(BaseModel):
    """Bounds that verification keeps to, whatever the archive claims.

    Attributes:
        max_members: Most members (and manifest ``files`` entries) accepted.
        max_total_size: Most bytes of member content read, in total (after decompression).
        max_manifest_size: Largest ``manifest.json`` accepted.
        max_metadata_size: Largest pax or GNU long-name header accepted.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_members: int = Field(default=100_000, ge=1)
    max_total_size: int = Field(default=16 << 30, ge=0)
    max_manifest_size: int = Field(default=64 << 20, ge=1)
    max_metadata_size: int = Field(default=64 << 10, ge=512)


class ArchiveSummary(BaseModel):
    """What a (parseable) manifest says the archive holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: int
    tool_version: str
    created: datetime
    runs: int
    subjects: int
    artifacts: int
    findings: int


class ArchiveVerification(BaseModel):
    """The result of :func:`verify_archive`.

    Attributes:
        archive: The archive's path.
        sha256: SHA-256 of the archive file.
        members: How many members were read.
        size: How many bytes of member content were read.
        summary: What the manifest says, if it could be read.
        problems: One finding per problem; empty when the archive is intact.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    archive: str
    sha256: str
    members: int
    size: int
    summary: ArchiveSummary | None = None
    problems: list[Finding] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the archive is intact."""
        return not self.problems

    def raise_for_problems(self) -> None:
        """Raise if the archive is not intact.

        Raises:
            VerificationError: Naming the first problem and how many there are.
        """
        if self.problems:
            first = self.problems[0]
            more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            raise VerificationError(
                f"evidence archive failed verification: {first.rule_id} {first.message}{more}",
                where=self.archive,
                hint="do not use this archive; obtain a fresh copy from its producer",
            )


# -- export ---------------------------------------------------------------------------------


class _HashingWriter:
    """Counts and hashes what is written through it."""

    def __init__(self, target: IO[bytes]):
        self._target = target
        self._hasher = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._hasher.update(data)
        self.size += len(data)
        return self._target.write(data)

    def flush(self) -> None:
        self._target.flush()

    def hexdigest(self) -> str:
        return self._hasher.hexdigest()


def _compression(path: Path) -> Literal["none", "gzip", "xz"]:
    name = path.name.lower()
    if name.endswith((".tar.gz", ".tgz")):
        return "gzip"
    if name.endswith((".tar.xz", ".txz")):
        return "xz"
    return "none"


@contextlib.contextmanager
def _compressor(kind: str, target: _HashingWriter) -> Iterator[IO[bytes]]:
    if kind == "gzip":
        # mtime=0 and no file name: the same content gives the same bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=cast(IO[bytes], target), mtime=0) as gz:
            yield cast(IO[bytes], gz)
    elif kind == "xz":
        with lzma.LZMAFile(cast(IO[bytes], target), "wb") as xz:
            yield cast(IO[bytes], xz)
    else:
        yield cast(IO[bytes], target)


def _member(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def export_archive(store: EvidenceStore, path: Path, run_ids: list[int] | None) -> ExportResult:
    """Write an evidence archive of ``run_ids`` (all runs when ``None``) to ``path``.

    Every blob is re-hashed while it is copied into the archive; if one is missing or changed,
    nothing is written.

    Raises:
        InputError: If a run id is unknown, there is nothing to export, or ``path`` cannot
            be written.
        VerificationError: If a blob in the store is missing or was modified.
    """
    ids = list(dict.fromkeys(run_ids)) if run_ids is not None else None
    if ids is None:
        ids = sorted(run.id for run in store.runs())
    if not ids:
        raise InputError(
            "no evidence recorded yet: there is nothing to export",
            where=store.directory,
            hint="record evidence first, e.g. `ssdf evidence add FILE --kind KIND`",
        )
    details = [store.get_run(run_id) for run_id in ids]
    subject_ids = {s.id for d in details for s in d.subjects}
    artifacts = sorted((a for d in details for a in d.artifacts), key=lambda a: a.id)
    findings = sorted((f for d in details for f in d.findings), key=lambda f: f.id)
    sizes = {a.digest: a.size for a in artifacts}
    created = datetime.now(UTC).replace(microsecond=0)
    manifest = ArchiveManifest(
        created=created,
        runs=[d.run for d in details],
        subjects=store.subjects(subject_ids),
        artifacts=artifacts,
        findings=findings,
        files={
            f"{BLOB_PREFIX}{digest}": FileEntry(sha256=digest, size=sizes[digest])
            for digest in sorted(sizes)
        },
    )
    manifest_bytes = manifest.model_dump_json(indent=2).encode("utf-8") + b"\n"
    mtime = int(created.timestamp())
    compression = _compression(path)
    with atomic_writer(path) as handle:
        hashing = _HashingWriter(handle)
        with (
            _compressor(compression, hashing) as sink,
            tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar,
        ):
            tar.addfile(
                _member(MANIFEST_NAME, len(manifest_bytes), mtime), io.BytesIO(manifest_bytes)
            )
            for digest in sorted(sizes):
                with store.blobs.open(digest) as reader:
                    try:
                        tar.addfile(_member(f"{BLOB_PREFIX}{digest}", sizes[digest], mtime), reader)
                    except OSError as exc:  # the blob is shorter than recorded
                        raise VerificationError(
                            f"evidence blob {digest} is shorter than the {sizes[digest]} bytes "
                            "recorded for it",
                            where=reader.path,
                            hint="the store was damaged or tampered with; nothing was exported",
                        ) from exc
                    reader.verify()
    return ExportResult(
        archive=str(path),
        sha256=hashing.hexdigest(),
        size=hashing.size,
        compression=compression,
        runs=len(details),
        subjects=len(manifest.subjects),
        artifacts=len(artifacts),
        findings=len(findings),
        blobs=len(sizes),
    )


# -- verification ---------------------------------------------------------------------------


class _LimitReachedError(Exception):
    """A verification limit was exceeded; reading stops."""


class _UnsupportedMemberError(Exception):
    """A member kind that verification refuses to parse (sparse files)."""


class _HashingReader:
    """Reads a file, hashing everything read (to give the archive's own digest)."""

    def __init__(self, source: IO[bytes]):
        self._source = source
        self._hasher = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self._hasher.update(data)
        return data

    def drain(self) -> str:
        while self.read(CHUNK):
            pass
        return self._hasher.hexdigest()


class _ReadState:
    """The damaged tar header met while reading, if any."""

    def __init__(self) -> None:
        self.bad_header: str | None = None

    def damaged(self, reason: str) -> None:
        self.bad_header = reason


def _open_decompressed(reader: _HashingReader, head: bytes) -> Any:
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=cast(IO[bytes], reader), mode="rb")
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(cast(IO[bytes], reader), "rb")
    if head.startswith(b"BZh"):
        return bz2.BZ2File(cast(IO[bytes], reader), "rb")
    return reader


class _Verifier:
    def __init__(self, path: Path, limits: ArchiveLimits):
        self.path = path
        self.where = str(path)
        self.limits = limits
        self.problems: list[Finding] = []
        self.members = 0
        self.size = 0
        self.seen: dict[str, FileEntry] = {}
        self.manifest_bytes: bytes | None = None
        self.stopped = False

    def problem(self, rule_id: str, message: str, address: str | None = None) -> None:
        self.problems.append(rules.finding(rule_id, message, path=self.where, address=address))

    def stop(self, rule_id: str, message: str, address: str | None = None) -> None:
        self.problem(rule_id, message, address)
        self.stopped = True

    def read_members(self, tar: tarfile.TarFile) -> None:
        while True:
            member = tar.next()
            if member is None:
                return
            # The listing is not needed and would grow with every member; keep memory flat.
            cast(Any, tar).members.clear()
            self.members += 1
            if self.members > self.limits.max_members:
                self.stop(
                    rules.LIMIT_EXCEEDED,
                    f"the archive has more than {self.limits.max_members} members",
                )
                return
            if not self.check_member(tar, member):
                return

    def check_member(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> bool:
        name = member.name
        safe = True
        reason = unsafe_name(name)
        if reason is not None:
            self.problem(rules.UNSAFE_NAME, f"member {name!r} has {reason}", address=name)
            safe = False
        if not member.isreg() or member.issparse():
            self.problem(
                rules.UNSAFE_TYPE,
                f"member {name!r} is {member_kind(member)}, not a regular file",
                address=name,
            )
            safe = False
        if not safe:
            return True
        if name in self.seen or (name == MANIFEST_NAME and self.manifest_bytes is not None):
            self.problem(rules.DUPLICATE_MEMBER, f"member {name!r} appears twice", address=name)
            return True
        remaining = self.limits.max_total_size - self.size
        if member.size > remaining:
            self.stop(
                rules.LIMIT_EXCEEDED,
                f"member {name!r} declares {member.size} bytes, more than the "
                f"{self.limits.max_total_size}-byte limit on the archive's content allows",
                address=name,
            )
            return False
        if name == MANIFEST_NAME and member.size > self.limits.max_manifest_size:
            self.stop(
                rules.LIMIT_EXCEEDED,
                f"manifest.json declares {member.size} bytes "
                f"(limit {self.limits.max_manifest_size})",
                address=name,
            )
            return False
        handle = tar.extractfile(member)
        if handle is None:  # pragma: no cover - regular files always have content
            return True
        hasher = hashlib.sha256()
        keep = name == MANIFEST_NAME
        kept: list[bytes] = []
        size = 0
        while chunk := handle.read(CHUNK):
            hasher.update(chunk)
            size += len(chunk)
            if keep:
                kept.append(chunk)
        self.size += size
        digest = hasher.hexdigest()
        if keep:
            self.manifest_bytes = b"".join(kept)
            return True
        self.seen[name] = FileEntry(sha256=digest, size=size)
        match = _BLOB_NAME.match(name)
        if match and match.group(1) != digest:
            self.problem(
                rules.BLOB_NAME_MISMATCH,
                f"blob {name!r} does not match its name: its content hashes to {digest}",
                address=name,
            )
        return True

    def parse_manifest(self) -> ArchiveManifest | None:
        if self.manifest_bytes is None:
            self.problem(rules.MANIFEST_INVALID, "the archive has no manifest.json")
            return None
        try:
            raw = json.loads(self.manifest_bytes)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.problem(
                rules.MANIFEST_INVALID, f"manifest.json is not valid JSON: {exc}", MANIFEST_NAME
            )
            return None
        if not isinstance(raw, dict) or raw.get("format") != ARCHIVE_FORMAT:
            self.problem(
                rules.MANIFEST_INVALID,
                f"manifest.json is not an ssdf-ai evidence archive manifest "
                f"(format {raw.get('format') if isinstance(raw, dict) else None!r})",
                MANIFEST_NAME,
            )
            return None
        if raw.get("format_version") != FORMAT_VERSION:
            self.problem(
                rules.MANIFEST_INVALID,
                f"manifest.json has format version {raw.get('format_version')!r}; this "
                f"ssdf-ai reads version {FORMAT_VERSION}",
                MANIFEST_NAME,
            )
            return None
        files = raw.get("files")
        if isinstance(files, dict) and len(files) > self.limits.max_members:
            self.problem(
                rules.LIMIT_EXCEEDED,
                f"manifest.json declares {len(files)} members (limit {self.limits.max_members})",
                MANIFEST_NAME,
            )
            return None
        try:
            return ArchiveManifest.model_validate(raw)
        except ValidationError as exc:
            details = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
            )
            self.problem(
                rules.MANIFEST_INVALID,
                f"manifest.json does not follow the archive format: {details}",
                MANIFEST_NAME,
            )
            return None

    def compare(self, manifest: ArchiveManifest) -> None:
        for name, entry in sorted(manifest.files.items()):
            if not _BLOB_NAME.match(name):
                self.problem(
                    rules.MANIFEST_INVALID,
                    f"manifest.json lists {name!r}, which is outside the archive layout "
                    "(blobs/sha256/<digest>)",
                    MANIFEST_NAME,
                )
                continue
            found = self.seen.get(name)
            if found is None:
                self.problem(
                    rules.MEMBER_MISSING,
                    f"member {name!r} is listed in the manifest but not in the archive",
                    address=name,
                )
            elif found != entry:
                self.problem(
                    rules.MEMBER_CHANGED,
                    f"member {name!r} has SHA-256 {found.sha256} and {found.size} bytes; the "
                    f"manifest records {entry.sha256} and {entry.size} bytes",
                    address=name,
                )
        for name in sorted(set(self.seen) - set(manifest.files)):
            self.problem(
                rules.MEMBER_EXTRA,
                f"member {name!r} is in the archive but not listed in the manifest",
                address=name,
            )
        self.check_records(manifest)

    def check_records(self, manifest: ArchiveManifest) -> None:
        run_ids = {r.id for r in manifest.runs}
        subject_ids = {s.id for s in manifest.subjects}
        for artifact in manifest.artifacts:
            address = f"artifact {artifact.id}"
            entry = manifest.files.get(f"{BLOB_PREFIX}{artifact.digest}")
            if entry is None:
                self.problem(
                    rules.MEMBER_MISSING,
                    f"artifact {artifact.id} refers to blob {artifact.digest}, which the "
                    "manifest does not list",
                    address=address,
                )
            elif entry.size != artifact.size:
                self.problem(
                    rules.MANIFEST_INVALID,
                    f"artifact {artifact.id} records {artifact.size} bytes but its blob is "
                    f"listed with {entry.size}",
                    address=address,
                )
        records: list[tuple[str, int, int, int | None]] = [
            ("artifact", a.id, a.run_id, a.subject_id) for a in manifest.artifacts
        ] + [("finding", f.id, f.run_id, f.subject_id) for f in manifest.findings]
        for kind, record_id, run_id, subject_id in records:
            if run_id not in run_ids or (subject_id is not None and subject_id not in subject_ids):
                self.problem(
                    rules.MANIFEST_INVALID,
                    f"{kind} {record_id} refers to a run or subject the manifest does not hold",
                    address=f"{kind} {record_id}",
                )
        for run in manifest.runs:
            if not set(run.subject_ids) <= subject_ids:
                self.problem(
                    rules.MANIFEST_INVALID,
                    f"run {run.id} refers to subjects the manifest does not hold",
                    address=f"run {run.id}",
                )


def verify_archive(path: str | Path, limits: ArchiveLimits | None = None) -> ArchiveVerification:
    """Verify an evidence archive without extracting it.

    Args:
        path: The archive (``.tar``, gzip-, xz- or bzip2-compressed tar).
        limits: Bounds on what is read; the defaults suit evidence (not model weights).

    Returns:
        The verification result; ``result.ok`` is true when the archive is intact, and
        ``result.problems`` lists every problem found otherwise (``SSDF-EVID-*`` findings).
        Call ``result.raise_for_problems()`` to turn problems into a :class:`VerificationError`.

    Raises:
        InputError: If the file is missing, unreadable, or not a (compressed) tar archive.
    """
    path = Path(path)
    limits = limits or ArchiveLimits()
    if not path.is_file():
        raise InputError(f"no archive at {path}", where=path)
    verifier = _Verifier(path, limits)
    state = _ReadState()
    budget = (
        limits.max_total_size
        + limits.max_manifest_size
        + (limits.max_members + 8) * (2 * tarfile.BLOCKSIZE)
        + (1 << 20)
    )
    try:
        source = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", where=path) from exc
    with source:
        raw = _HashingReader(source)
        head = source.read(6)
        source.seek(0)
        try:
            stream = _open_decompressed(raw, head)
            limited = BoundedReader(
                stream,
                budget,
                _LimitReachedError,
                "the archive decompresses to more than the size limit allows",
            )
            tar = tarfile.open(  # noqa: SIM115 - closed below
                fileobj=cast(IO[bytes], limited),
                mode="r|",
                tarinfo=guarded_tarinfo(
                    limits.max_metadata_size,
                    limit_error=_LimitReachedError,
                    sparse_error=_UnsupportedMemberError,
                    on_damage=state.damaged,
                ),
            )
        except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, ValueError) as exc:
            raise InputError(
                f"{path} is not a tar archive ({exc})",
                where=path,
                hint="give the .tar, .tar.gz or .tar.xz file written by `ssdf evidence export`",
            ) from exc
        except (_LimitReachedError, _UnsupportedMemberError, RecursionError) as exc:
            verifier.stop(rules.LIMIT_EXCEEDED, f"the archive's first member is refused: {exc}")
            tar = None
        if tar is not None:
            try:
                with tar:
                    verifier.read_members(tar)
            except _LimitReachedError as exc:
                verifier.stop(rules.LIMIT_EXCEEDED, str(exc))
            except _UnsupportedMemberError as exc:
                verifier.stop(rules.UNSAFE_TYPE, f"the archive holds {exc}, which is refused")
            except RecursionError:
                verifier.stop(rules.LIMIT_EXCEEDED, "the archive chains too many tar headers")
            except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, ValueError) as exc:
                verifier.stop(
                    rules.ARCHIVE_CORRUPT,
                    f"the archive is truncated or damaged after {verifier.members} member(s): "
                    f"{exc}",
                )
            if state.bad_header is not None and not verifier.stopped:
                verifier.stop(
                    rules.ARCHIVE_CORRUPT,
                    f"the archive is truncated or damaged after {verifier.members} member(s): "
                    f"{state.bad_header}",
                )
        summary = None
        if not verifier.stopped:
            manifest = verifier.parse_manifest()
            if manifest is not None:
                summary = ArchiveSummary(
                    format_version=manifest.format_version,
                    tool_version=manifest.tool.version,
                    created=manifest.created,
                    runs=len(manifest.runs),
                    subjects=len(manifest.subjects),
                    artifacts=len(manifest.artifacts),
                    findings=len(manifest.findings),
                )
                verifier.compare(manifest)
        digest = raw.drain()
    return ArchiveVerification(
        archive=str(path),
        sha256=digest,
        members=verifier.members,
        size=verifier.size,
        summary=summary,
        problems=verifier.problems,
    )
