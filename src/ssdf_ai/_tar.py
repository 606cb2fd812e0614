"""Guarded reading of untrusted tar archives, shared by evidence and release verification.

:mod:`tarfile` trusts what it reads: a pax or GNU long-name header is read into memory whatever
size it declares, sparse members are expanded from a map the archive supplies, a compressed
stream is decompressed without bound, and a damaged header after the first member simply ends
the listing as if the archive were complete. The pieces here close those gaps for a reader that
opens an archive as a stream (``mode="r|"``):

* :class:`BoundedReader` hands the tar parser at most a given number of (decompressed) bytes;
* :func:`guarded_tarinfo` makes a :class:`tarfile.TarInfo` class that refuses oversized metadata
  headers and sparse members before they are parsed, and reports a damaged header;
* :func:`unsafe_name` and :func:`member_kind` describe members that must not be written.

What a caller raises, and with which message, stays the caller's: the exception types are passed
in, so each verifier keeps its own handling and wording.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Callable
from typing import Final, NoReturn, Protocol, Self

__all__ = ["METADATA_TYPES", "BoundedReader", "guarded_tarinfo", "member_kind", "unsafe_name"]

#: The tar member types that carry metadata for the next member: pax extended and global
#: headers (``x``, ``g``), Solaris extended headers (``X``) and GNU long names and links
#: (``L``, ``K``).
METADATA_TYPES: Final = (
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
)
_READ_SIZE: Final = 1 << 20
_WINDOWS_DRIVE: Final = re.compile(r"^[A-Za-z]:")


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class BoundedReader:
    """Hands out at most ``limit`` bytes of a stream: bounds decompression bombs.

    Put between a (decompressing) stream and :func:`tarfile.open`. Reading past ``limit`` bytes
    raises ``error(message)`` instead of returning data.

    Args:
        source: The stream to read, usually a decompressor.
        limit: Most bytes handed out, in total.
        error: The exception type (or factory) raised when ``limit`` is passed.
        message: The text it is raised with.

    Attributes:
        count: Bytes read from ``source`` so far.
    """

    def __init__(
        self, source: _Readable, limit: int, error: Callable[[str], Exception], message: str
    ):
        self._source = source
        self._limit = limit
        self._error = error
        self._message = message
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (a chunk when ``size`` is negative).

        Raises:
            Exception: ``error(message)`` once more than ``limit`` bytes were read.
        """
        if size is None or size < 0:
            size = _READ_SIZE
        data = self._source.read(min(size, self._limit - self.count + 1))
        self.count += len(data)
        if self.count > self._limit:
            raise self._error(self._message)
        return data


def guarded_tarinfo(
    max_metadata_size: int,
    *,
    limit_error: Callable[[str], Exception],
    sparse_error: Callable[[str], Exception],
    on_damage: Callable[[str], None],
) -> type[tarfile.TarInfo]:
    """Make a :class:`tarfile.TarInfo` class that checks members before tarfile parses them.

    Pass the result as ``tarinfo=`` to :func:`tarfile.open`.

    Args:
        max_metadata_size: Largest pax or GNU long-name header accepted, in bytes.
        limit_error: Raised, with a message naming the declared size and the limit, for a
            larger metadata header.
        sparse_error: Raised for a sparse member, with ``"a GNU sparse file"`` (old GNU sparse
            type) or ``"a pax sparse file"`` (GNU sparse format 1.0 in pax headers).
        on_damage: Called with the error text of every damaged or truncated header; tarfile
            itself ends the listing silently at one after the first member. The regular end
            of the archive (a zero block) is not damage.

    Returns:
        The guarded ``TarInfo`` subclass.
    """

    class _GuardedTarInfo(tarfile.TarInfo):
        """Refuses oversized metadata headers and sparse files, and reports damaged headers."""

        @classmethod
        def fromtarfile(cls, tarfile_: tarfile.TarFile) -> Self:
            try:
                return super().fromtarfile(tarfile_)
            except tarfile.HeaderError as exc:
                # A zero block is the regular end of the archive; anything else after the
                # first member (garbage, truncation) would otherwise end the listing silently.
                if type(exc).__name__ != "EOFHeaderError":
                    on_damage(str(exc) or type(exc).__name__)
                raise

        def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
            if self.type in METADATA_TYPES and self.size > max_metadata_size:
                raise limit_error(
                    f"a tar metadata header declares {self.size} bytes (limit {max_metadata_size})"
                )
            if self.type == tarfile.GNUTYPE_SPARSE:
                raise sparse_error("a GNU sparse file")
            result: tarfile.TarInfo = super()._proc_member(tarfile_)  # type: ignore[misc]
            return result

        def _proc_gnusparse_10(self, *args: object) -> NoReturn:
            raise sparse_error("a pax sparse file")

    return _GuardedTarInfo


def unsafe_name(name: str) -> str | None:
    """Why a member name is unsafe to extract, or ``None`` if it is a normal relative path.

    The reason reads after "member NAME has": an empty name, a NUL or backslash, an absolute
    (or drive-letter) path, a ``..`` component, or an empty or ``.`` component.
    """
    if not name:
        return "an empty name"
    if "\x00" in name or "\\" in name:
        return "a NUL or backslash in its name"
    if name.startswith("/") or _WINDOWS_DRIVE.match(name):
        return "an absolute path"
    parts = name.split("/")
    if ".." in parts:
        return "a '..' component that climbs out of the archive"
    if "" in parts or "." in parts:
        return "a name not in normal form"
    return None


def member_kind(member: tarfile.TarInfo) -> str:
    """What a member that is not a regular file is, e.g. ``a symbolic link to 'x'``.

    The text reads after "member NAME is"; a member of an unknown type is named by its tar type.
    """
    if member.issym():
        return f"a symbolic link to {member.linkname!r}"
    if member.islnk():
        return f"a hard link to {member.linkname!r}"
    if member.isdir():
        return "a directory"
    if member.ischr() or member.isblk():
        return "a device"
    if member.isfifo():
        return "a FIFO"
    if member.issparse():
        return "a sparse file"
    return f"a member of tar type {member.type!r}"
