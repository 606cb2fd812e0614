"""Content-addressed blob files under ``.ssdf/blobs``.

Layout: ``blobs/sha256/<first two hex digits>/<64 hex digits>``, read-only, one file per
distinct content. New content is streamed into ``blobs/tmp/`` while it is hashed, flushed and
fsynced, then renamed into place (``os.replace``) and the directory fsynced. Temporary files
never live under ``blobs/sha256``, so a crash mid-write leaves at most a stray file in
``blobs/tmp`` that nothing refers to; the store always writes a blob before the database row
that names it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from ssdf_ai.errors import InputError, VerificationError

CHUNK = 1 << 20
DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")
_TEMP_MAX_AGE_S = 24 * 3600


def check_digest(digest: str) -> str:
    """Return ``digest`` if it is 64 lower-case hex digits.

    Raises:
        InputError: If it is not.
    """
    if not DIGEST_RE.match(digest):
        raise InputError(
            f"not a SHA-256 digest: {digest!r}", hint="give 64 lower-case hexadecimal digits"
        )
    return digest


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """The blob files of one store.

    Args:
        root: The ``blobs`` directory (``.ssdf/blobs``).
    """

    def __init__(self, root: Path):
        self.root = root
        self.sha256_dir = root / "sha256"
        self.tmp_dir = root / "tmp"

    def path(self, digest: str) -> Path:
        """Return where the blob with this digest lives (whether or not it exists)."""
        check_digest(digest)
        return self.sha256_dir / digest[:2] / digest

    def put(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Store the concatenated ``chunks`` as a blob, hashing them as they are written.

        Args:
            chunks: The content, in pieces.

        Returns:
            The SHA-256 digest and the size in bytes.
        """
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix="blob-", suffix=".tmp", dir=self.tmp_dir)
        tmp = Path(tmp_name)
        try:
            hasher = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    hasher.update(chunk)
                    handle.write(chunk)
                    size += len(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            digest = hasher.hexdigest()
            final = self.path(digest)
            if not final.parent.is_dir():
                final.parent.mkdir(parents=True, exist_ok=True)
                _fsync_dir(final.parent.parent)
            os.chmod(tmp, 0o444)
            # Replacing an existing blob with the same content is harmless, and repairs one
            # that was damaged on disk.
            os.replace(tmp, final)
            _fsync_dir(final.parent)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return digest, size

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store ``data`` as a blob; return its digest and size."""
        return self.put([data])

    def put_stream(self, source: IO[bytes]) -> tuple[str, int]:
        """Store everything readable from ``source`` as a blob; return its digest and size."""
        return self.put(iter(lambda: source.read(CHUNK), b""))

    @contextlib.contextmanager
    def open(self, digest: str) -> Iterator[VerifyingReader]:
        """Open a blob for reading; its digest is checked when it has been read to the end.

        Raises:
            VerificationError: If the blob is missing, or (on :meth:`VerifyingReader.verify`)
                its content does not match its name.
        """
        path = self.path(digest)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError as exc:
            raise VerificationError(
                f"evidence blob {digest} is missing from the store",
                where=path,
                hint="the store was damaged or edited; restore .ssdf/ from a backup or export",
            ) from exc
        with handle:
            yield VerifyingReader(handle, digest, path)

    def read(self, digest: str) -> bytes:
        """Return a blob's bytes after checking them against its digest.

        Raises:
            VerificationError: If the blob is missing or its content does not match.
        """
        with self.open(digest) as reader:
            data = reader.read()
            reader.verify()
        return data

    def digests(self) -> Iterator[str]:
        """Yield the digest of every blob file present (temporary files are never listed)."""
        if not self.sha256_dir.is_dir():
            return
        for shard in sorted(self.sha256_dir.iterdir()):
            if not shard.is_dir():
                continue
            for entry in sorted(shard.iterdir()):
                if DIGEST_RE.match(entry.name) and entry.name[:2] == shard.name:
                    yield entry.name

    def sweep_temporary(self, max_age_s: float = _TEMP_MAX_AGE_S) -> int:
        """Delete temporary files older than ``max_age_s`` (left by a crashed writer).

        Younger ones may belong to a writer still at work and are left alone.

        Returns:
            How many files were deleted.
        """
        if not self.tmp_dir.is_dir():
            return 0
        cutoff = time.time() - max_age_s
        removed = 0
        for entry in self.tmp_dir.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file() and entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    removed += 1
        return removed


class VerifyingReader:
    """A file-like reader over a blob that hashes what it reads.

    Args:
        handle: The open blob file.
        digest: The digest the content must have.
        path: The blob's path, for error messages.
    """

    def __init__(self, handle: IO[bytes], digest: str, path: Path):
        self._handle = handle
        self._hasher = hashlib.sha256()
        self.digest = digest
        self.path = path
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all when negative), hashing them."""
        data = self._handle.read(size)
        self._hasher.update(data)
        self.size += len(data)
        return data

    def verify(self) -> None:
        """Read whatever is left, then check the content's digest.

        Raises:
            VerificationError: If the content does not match the blob's name.
        """
        while self.read(CHUNK):
            pass
        actual = self._hasher.hexdigest()
        if actual != self.digest:
            raise VerificationError(
                f"evidence blob {self.digest} has been modified: its content hashes to {actual}",
                where=self.path,
                hint="the store was damaged or tampered with; restore .ssdf/ from a backup "
                "or an exported archive",
            )
