"""The local OSV advisory database: import, fetch and query (PW.4.4, RV.1.1 R3).

Advisories in the `OSV format <https://ossf.github.io/osv-schema/>`_ are imported into a
SQLite file (the standard library's :mod:`sqlite3`; default ``PROJECT/.ssdf/advisories.sqlite``)
from a single JSON file, a folder of them, or a zip such as OSV's ``PyPI/all.zip`` export, which
:func:`download` fetches. :func:`import_advisories` validates every record, counts the malformed
ones and upserts the rest by id, keeping the newer ``modified``; :class:`AdvisoryDatabase`
answers "which advisories affect this package at this version" with the semantics of the OSV
schema's ``ECOSYSTEM`` ranges compared in PEP 440 order.

Nothing here executes or imports what it reads, and every input is bounded: record size,
zip member count, per-member and total uncompressed size, download size and time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from ssdf_ai.code._cvss import base_score, score_severity
from ssdf_ai.errors import InputError
from ssdf_ai.findings import Severity

DEFAULT_URL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
DB_NAME = "advisories.sqlite"
ECOSYSTEM = "PyPI"
MAX_RECORD_BYTES = 4 * 1024 * 1024
MAX_ZIP_MEMBERS = 500_000
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024
DOWNLOAD_TIMEOUT = 60.0
MAX_DOWNLOAD_SECONDS = 1800.0
# Malformed records are counted; the first few are named in the report.
MAX_PROBLEMS_KEPT = 50
_NAME_NORMALISE = re.compile(r"[-_.]+")
_SEVERITY_WORDS = {
    "LOW": Severity.LOW,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "CRITICAL": Severity.CRITICAL,
}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS advisories (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS affected (
    advisory_id TEXT NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
    name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS affected_name ON affected(name);
CREATE INDEX IF NOT EXISTS affected_advisory ON affected(advisory_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def normalise_name(name: str) -> str:
    """A package name normalised as PEP 503 says (lower case, runs of ``-_.`` as ``-``)."""
    return _NAME_NORMALISE.sub("-", name).lower()


def default_path(root: Path) -> Path:
    """The default database of the project at ``root``: ``root/.ssdf/advisories.sqlite``."""
    return root / ".ssdf" / DB_NAME


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except (InvalidVersion, TypeError):
        return None


@dataclasses.dataclass(frozen=True, slots=True)
class Range:
    """One ``ECOSYSTEM`` range of an affected package: its events in the order given.

    Attributes:
        events: ``(kind, version)`` with kind ``introduced``, ``fixed``, ``last_affected``
            or ``limit``.
    """

    events: tuple[tuple[str, str], ...]

    def affects(self, version: Version) -> bool:
        """Whether ``version`` lies in this range (OSV schema, "Evaluation").

        Events are sorted by version; walking up to ``version``, ``introduced`` opens the
        range, ``fixed`` closes it at that version and ``last_affected`` just after it;
        ``limit`` bounds everything above it. ``introduced: "0"`` is below every version.
        Events whose version PEP 440 cannot parse are ignored.
        """
        parsed: list[tuple[Version, int, str]] = []
        order = {"introduced": 0, "last_affected": 1, "fixed": 2, "limit": 3}
        limits: list[Version] = []
        for kind, text in self.events:
            value = Version("0") if kind == "introduced" and text == "0" else _version(text)
            if value is None or kind not in order:
                continue
            if kind == "limit":
                limits.append(value)
            else:
                parsed.append((value, order[kind], kind))
        if limits and not any(version < limit for limit in limits):
            return False
        affected = False
        for value, _rank, kind in sorted(parsed):
            if kind == "introduced" and version >= value:
                affected = True
            elif (kind == "fixed" and version >= value) or (
                kind == "last_affected" and version > value
            ):
                affected = False
        return affected

    def fixed(self) -> list[Version]:
        """The ``fixed`` versions of this range, parsed."""
        found = [_version(v) for k, v in self.events if k == "fixed"]
        return [v for v in found if v is not None]

    def boundaries(self) -> list[Version]:
        """Every version named by this range's events (``introduced: "0"`` as ``0``)."""
        found = [Version("0") if v == "0" else _version(v) for _k, v in self.events]
        return [v for v in found if v is not None]


@dataclasses.dataclass(frozen=True, slots=True)
class Affected:
    """An ``affected[]`` entry for a PyPI package.

    Attributes:
        name: The package, PEP 503 normalised.
        ranges: Its ``ECOSYSTEM`` ranges (other range types are not version ranges here).
        versions: The ``versions`` list, as given.
    """

    name: str
    ranges: tuple[Range, ...]
    versions: tuple[str, ...]

    def affects(self, version: Version) -> bool:
        """Whether ``version`` is listed in ``versions`` or lies in one of the ranges."""
        for listed in self.versions:
            parsed = _version(listed)
            if (parsed is not None and parsed == version) or listed == str(version):
                return True
        return any(r.affects(version) for r in self.ranges)


@dataclasses.dataclass(frozen=True, slots=True)
class Advisory:
    """An OSV advisory, as far as dependency checking needs it.

    Attributes:
        id: Its OSV id (``PYSEC-…``, ``GHSA-…``).
        modified: RFC 3339 time it was last changed.
        aliases: Other ids (CVE ids among them).
        summary: One line about it (``details``' first line when there is no summary).
        severity: Its rating, from ``database_specific.severity`` or a CVSS v3 vector;
            ``None`` when it carries neither.
        score: The CVSS v3 base score computed from its vector, if any.
        affected: Its PyPI ``affected[]`` entries.
    """

    id: str
    modified: str
    aliases: tuple[str, ...]
    summary: str
    severity: Severity | None
    score: float | None
    affected: tuple[Affected, ...]

    def affects(self, name: str, version: Version) -> bool:
        """Whether the (normalised) package ``name`` at ``version`` is affected."""
        return any(a.name == name and a.affects(version) for a in self.affected)

    def fix_for(self, name: str, version: Version) -> Version | None:
        """The smallest ``fixed`` version above ``version`` for package ``name``, if any."""
        fixes = [
            fix
            for a in self.affected
            if a.name == name
            for r in a.ranges
            for fix in r.fixed()
            if fix > version
        ]
        return min(fixes) if fixes else None

    def boundaries(self, name: str) -> list[Version]:
        """Every version this advisory names for package ``name`` (events and list)."""
        found: list[Version] = []
        for a in self.affected:
            if a.name != name:
                continue
            for r in a.ranges:
                found += r.boundaries()
            found += [v for v in (_version(x) for x in a.versions) if v is not None]
        return found


class MalformedRecordError(ValueError):
    """An OSV record that does not have the fields matching needs (internal to the import)."""


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MalformedRecordError(f"{what} is missing or not a string")
    return value


def _severity(record: dict[str, Any]) -> tuple[Severity | None, float | None]:
    """The rating and CVSS v3 score of a record: the higher of its stated rating
    (``database_specific.severity``, as GitHub's advisories give it) and its CVSS v3 vectors."""
    found: list[Severity] = []
    score: float | None = None
    specific = record.get("database_specific")
    if isinstance(specific, dict) and isinstance(specific.get("severity"), str):
        word = _SEVERITY_WORDS.get(specific["severity"].strip().upper())
        if word is not None:
            found.append(word)
    entries = list(record.get("severity") or [])
    for affected in record.get("affected") or []:
        if isinstance(affected, dict):
            entries += list(affected.get("severity") or [])
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("type") not in ("CVSS_V3", "CVSS_V31"):
            continue
        value = base_score(entry.get("score", ""))
        if value is not None:
            score = value if score is None else max(score, value)
            found.append(score_severity(value))
    return (max(found) if found else None), score


def parse_record(record: object) -> Advisory:
    """Validate one OSV record and keep what matching needs.

    Args:
        record: The decoded JSON.

    Returns:
        The advisory (its ``affected`` holds only PyPI entries, possibly none).

    Raises:
        MalformedRecordError: When ``id``, ``modified``, ``affected[].package`` or a range is
            missing or of the wrong shape.
    """
    if not isinstance(record, dict):
        raise MalformedRecordError("the record is not a JSON object")
    ident = _text(record.get("id"), "id")
    modified = _text(record.get("modified"), "modified")
    affected_in = record.get("affected", [])
    if not isinstance(affected_in, list):
        raise MalformedRecordError("affected is not a list")
    affected: list[Affected] = []
    for index, entry in enumerate(affected_in):
        where = f"affected[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("package"), dict):
            raise MalformedRecordError(f"{where}.package is missing")
        package = entry["package"]
        ecosystem = _text(package.get("ecosystem"), f"{where}.package.ecosystem")
        name = _text(package.get("name"), f"{where}.package.name")
        ranges_in = entry.get("ranges", [])
        versions_in = entry.get("versions", [])
        if not isinstance(ranges_in, list) or not isinstance(versions_in, list):
            raise MalformedRecordError(f"{where}.ranges or .versions is not a list")
        if not all(isinstance(v, str) for v in versions_in):
            raise MalformedRecordError(f"{where}.versions holds a non-string")
        ranges: list[Range] = []
        for r_index, item in enumerate(ranges_in):
            r_where = f"{where}.ranges[{r_index}]"
            if not isinstance(item, dict) or not isinstance(item.get("events"), list):
                raise MalformedRecordError(f"{r_where} has no events list")
            kind = _text(item.get("type"), f"{r_where}.type")
            events: list[tuple[str, str]] = []
            for event in item["events"]:
                if not isinstance(event, dict) or len(event) != 1:
                    raise MalformedRecordError(f"{r_where} has an event that is not one key")
                ((key, value),) = event.items()
                if key not in ("introduced", "fixed", "last_affected", "limit"):
                    raise MalformedRecordError(f"{r_where} has an unknown event {key!r}")
                events.append((key, _text(value, f"{r_where} {key}")))
            if kind == "ECOSYSTEM":
                ranges.append(Range(tuple(events)))
        if ecosystem.split(":")[0] == ECOSYSTEM:
            affected.append(Affected(normalise_name(name), tuple(ranges), tuple(versions_in)))
    aliases = record.get("aliases") or []
    summary = record.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        details = record.get("details")
        summary = details.strip().splitlines()[0] if isinstance(details, str) and details else ""
    severity, score = _severity(record)
    return Advisory(
        id=ident,
        modified=modified,
        aliases=tuple(a for a in aliases if isinstance(a, str))
        if isinstance(aliases, list)
        else (),
        summary=summary.strip()[:500],
        severity=severity,
        score=score,
        affected=tuple(affected),
    )


@dataclasses.dataclass(slots=True)
class ImportResult:
    """What one import did.

    Attributes:
        source: Where the records came from.
        read: Records read.
        added: New advisories.
        updated: Advisories replaced by a newer ``modified``.
        unchanged: Advisories already present at the same or a newer ``modified``.
        malformed: Records that failed validation.
        other_ecosystem: Valid records with no PyPI package (kept out of the database).
        problems: ``where: why`` of the first malformed records.
        newest_modified: The newest ``modified`` in the database after the import.
        total: Advisories in the database after the import.
        digest: SHA-256 of the database file after the import.
        imported_at: When the import finished (UTC, RFC 3339).
    """

    source: str
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    malformed: int = 0
    other_ecosystem: int = 0
    problems: list[str] = dataclasses.field(default_factory=list)
    newest_modified: str | None = None
    total: int = 0
    digest: str | None = None
    imported_at: str | None = None

    def problem(self, where: str, why: str) -> None:
        """Count a malformed record, keeping the first few reasons."""
        self.malformed += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(f"{where}: {why}")


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what an import reads.

    Attributes:
        max_record_bytes: Largest single JSON record.
        max_members: Most members of a zip.
        max_total_bytes: Most bytes decompressed from a zip in all.
    """

    max_record_bytes: int = MAX_RECORD_BYTES
    max_members: int = MAX_ZIP_MEMBERS
    max_total_bytes: int = MAX_TOTAL_BYTES


def _records(source: Path, limits: Limits, result: ImportResult) -> Iterator[tuple[str, bytes]]:
    """``(where, bytes)`` of each candidate record in a file, folder or zip."""
    from ssdf_ai.code._files import iter_files

    if source.is_symlink():
        raise InputError(
            f"{source} is a symbolic link", where=source, hint="give the file or folder itself"
        )
    if source.is_file() and zipfile.is_zipfile(source):
        yield from _zip_records(source, limits, result)
        return
    if not source.exists():
        raise InputError(
            f"{source} does not exist",
            where=source,
            hint="give an OSV JSON file, a folder of them, or a zip such as PyPI/all.zip",
        )
    for entry in iter_files(source, suffixes={".json"}):
        if entry.size > limits.max_record_bytes:
            result.problem(entry.rel, f"larger than {limits.max_record_bytes:,} bytes")
            continue
        with entry.path.open("rb") as handle:
            yield entry.rel, handle.read(limits.max_record_bytes + 1)


def _zip_records(path: Path, limits: Limits, result: ImportResult) -> Iterator[tuple[str, bytes]]:
    """The ``.json`` members of a zip, each read with a bound (the sizes in the zip's own
    directory are not trusted); member names are used only as labels, never as paths."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path} is not a readable zip: {exc}", where=path) from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise InputError(
                f"{path} holds {len(members):,} members, more than {limits.max_members:,}",
                where=path,
                hint="give OSV's PyPI/all.zip or a folder of OSV JSON files",
            )
        total = 0
        for info in members:
            label = f"{path.name}!{info.filename[:200]}"
            if info.is_dir() or not info.filename.lower().endswith(".json"):
                continue
            try:
                with archive.open(info) as handle:
                    data = handle.read(limits.max_record_bytes + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
                result.problem(label, f"cannot be read ({exc})")
                continue
            if len(data) > limits.max_record_bytes:
                result.problem(label, f"larger than {limits.max_record_bytes:,} bytes")
                total += len(data)
            else:
                total += len(data)
                yield label, data
            if total > limits.max_total_bytes:
                raise InputError(
                    f"{path} decompresses to more than {limits.max_total_bytes:,} bytes",
                    where=path,
                    hint="this is not an OSV export; a zip bomb is refused",
                )


class AdvisoryDatabase:
    """The local advisory database: a SQLite file of OSV records, indexed by package name.

    Open it with :meth:`open` (as a context manager); :func:`import_advisories` fills it.
    """

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection

    @classmethod
    def open(cls, path: Path, *, create: bool = False) -> AdvisoryDatabase:
        """Open the database at ``path``.

        Args:
            path: The SQLite file.
            create: Create it (and its folder) when missing.

        Raises:
            InputError: It is missing (and ``create`` is false) or not an advisory database.
        """
        if not path.exists() and not create:
            raise InputError(
                f"the advisory database {path} does not exist",
                where=path,
                hint="run `ssdf advisories update` (or `--from FILE` offline)",
            )
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = sqlite3.connect(path)
            connection.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(
                f"{path} is not an advisory database: {exc}",
                where=path,
                hint="remove it and run `ssdf advisories update` again",
            ) from None
        return cls(path, connection)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> AdvisoryDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def count(self) -> int:
        """How many advisories it holds."""
        row = self._db.execute("SELECT count(*) FROM advisories").fetchone()
        return int(row[0])

    def newest_modified(self) -> str | None:
        """The newest ``modified`` of its advisories (RFC 3339 text compares in time order)."""
        row = self._db.execute("SELECT max(modified) FROM advisories").fetchone()
        return str(row[0]) if row and row[0] is not None else None

    def meta(self, key: str) -> str | None:
        """A stored fact about the database (``updated_at``, ``source``)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def updated_at(self) -> dt.datetime | None:
        """When the last import finished, if any import did."""
        value = self.meta("updated_at")
        if value is None:
            return None
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None

    def for_package(self, name: str) -> list[Advisory]:
        """The advisories that name package ``name`` (any version), sorted by id."""
        rows = self._db.execute(
            "SELECT DISTINCT a.record FROM advisories a JOIN affected f ON f.advisory_id = a.id "
            "WHERE f.name = ? ORDER BY a.id",
            (normalise_name(name),),
        ).fetchall()
        return [parse_record(json.loads(row[0])) for row in rows]

    def affecting(self, name: str, version: str | Version) -> list[Advisory]:
        """The advisories that affect package ``name`` at ``version``.

        An unparsable version matches only advisories that list it verbatim.
        """
        key = normalise_name(name)
        parsed = version if isinstance(version, Version) else _version(version)
        found: list[Advisory] = []
        for advisory in self.for_package(key):
            if parsed is not None:
                if advisory.affects(key, parsed):
                    found.append(advisory)
            elif any(a.name == key and str(version) in a.versions for a in advisory.affected):
                found.append(advisory)
        return found

    def _upsert(self, advisory: Advisory, text: str, result: ImportResult) -> None:
        row = self._db.execute(
            "SELECT modified FROM advisories WHERE id = ?", (advisory.id,)
        ).fetchone()
        if row is not None and _time(row[0]) >= _time(advisory.modified):
            result.unchanged += 1
            return
        self._db.execute("DELETE FROM affected WHERE advisory_id = ?", (advisory.id,))
        self._db.execute(
            "INSERT OR REPLACE INTO advisories (id, modified, record) VALUES (?, ?, ?)",
            (advisory.id, advisory.modified, text),
        )
        self._db.executemany(
            "INSERT INTO affected (advisory_id, name) VALUES (?, ?)",
            [(advisory.id, name) for name in sorted({a.name for a in advisory.affected})],
        )
        if row is None:
            result.added += 1
        else:
            result.updated += 1


def _time(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def sha256_of(path: Path) -> str:
    """SHA-256 (hex) of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_advisories(
    source: Path, database: Path, *, limits: Limits | None = None, label: str | None = None
) -> ImportResult:
    """Import OSV advisories from a JSON file, a folder of them or a zip into ``database``.

    The import is one transaction: it is committed only when at least one record is valid, so
    a bad source leaves the database as it was.

    Args:
        source: The file, folder or zip.
        database: The SQLite file (created when missing).
        limits: Bounds on what is read.
        label: How the source is named in the result (default: the path).

    Returns:
        What was imported.

    Raises:
        InputError: The source is missing, an unreadable or oversized zip, or holds no valid
            record.
    """
    limits = limits or Limits()
    result = ImportResult(source=label or str(source))
    existed, folder_existed = database.exists(), database.parent.exists()
    try:
        return _import(source, database, limits, result)
    except BaseException:
        if not existed:  # a failed first import leaves no empty database behind
            for leftover in (database, database.with_name(database.name + "-journal")):
                leftover.unlink(missing_ok=True)
            if not folder_existed:
                with contextlib.suppress(OSError):
                    database.parent.rmdir()
        raise


def _import(source: Path, database: Path, limits: Limits, result: ImportResult) -> ImportResult:
    with AdvisoryDatabase.open(database, create=True) as db:
        valid = 0
        try:
            for where, data in _records(source, limits, result):
                result.read += 1
                try:
                    document = json.loads(data)
                    advisory = parse_record(document)
                except MalformedRecordError as exc:
                    result.problem(where, str(exc))
                    continue
                except (ValueError, RecursionError) as exc:
                    result.problem(where, f"not JSON ({str(exc)[:100]})")
                    continue
                valid += 1
                if not advisory.affected:
                    result.other_ecosystem += 1
                    continue
                db._upsert(advisory, json.dumps(document, separators=(",", ":")), result)
            if valid == 0:
                raise InputError(
                    f"no valid OSV record in {result.source} ({result.read} read, "
                    f"{result.malformed} malformed)",
                    where=source,
                    hint="give OSV JSON records (id, modified, affected[].package); "
                    + (result.problems[0] if result.problems else "none were found"),
                )
            now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
            db._db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [("updated_at", now), ("source", result.source)],
            )
            db._db.commit()
        except BaseException:
            db._db.rollback()
            raise
        result.imported_at = now
        result.total = db.count()
        result.newest_modified = db.newest_modified()
    result.digest = sha256_of(database)
    return result


def download(
    url: str,
    folder: Path,
    *,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    timeout: float = DOWNLOAD_TIMEOUT,
    max_seconds: float = MAX_DOWNLOAD_SECONDS,
) -> Path:
    """Download ``url`` (http or https) into a new temporary file in ``folder``, streamed with
    a size limit, a timeout on each wait and a limit on the whole. The caller removes the file.

    Raises:
        InputError: The URL is not http(s), the network fails, the server answers with an
            error, or the download is larger than ``max_bytes``; the hint names ``--from``.
    """
    offline = "download OSV's PyPI/all.zip elsewhere and import it with `--from FILE`"
    if not url.lower().startswith(("https://", "http://")):
        raise InputError(f"--url {url!r} is not an http(s) URL", hint=offline)
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".advisories-", suffix=".zip", dir=folder)
    target = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            request = urllib.request.Request(url, headers={"User-Agent": "ssdf-ai"})  # noqa: S310 - scheme checked above
            with contextlib.closing(urllib.request.urlopen(request, timeout=timeout)) as reply:  # noqa: S310
                size = 0
                # The timeout bounds each socket wait; this bounds a server that drips.
                deadline = time.monotonic() + max_seconds
                for block in iter(lambda: reply.read(1 << 16), b""):
                    size += len(block)
                    if time.monotonic() > deadline:
                        raise InputError(
                            f"the download from {url} took longer than {max_seconds:.0f} s",
                            where=url,
                            hint=offline,
                        )
                    if size > max_bytes:
                        raise InputError(
                            f"the download from {url} is larger than {max_bytes:,} bytes",
                            where=url,
                            hint=offline,
                        )
                    handle.write(block)
    except InputError:
        target.unlink(missing_ok=True)
        raise
    except (urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:
        target.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise InputError(
            f"cannot download the advisories from {url}: {reason}", where=url, hint=offline
        ) from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def open_if_present(path: Path) -> AdvisoryDatabase | None:
    """The database at ``path`` when it exists, else ``None`` (never creates one)."""
    return AdvisoryDatabase.open(path) if path.is_file() else None


def boundaries(advisories: Iterable[Advisory], name: str) -> list[Version]:
    """Every version the advisories name for package ``name``, sorted, without repeats."""
    return sorted({v for a in advisories for v in a.boundaries(name)})
