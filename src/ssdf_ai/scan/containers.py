"""Zip and tar archives and compressed streams, listed and read without extracting anything.

Pure functions over the file object they are given: nothing is written to disk, nothing is
loaded, and every byte that is decompressed is counted against the file's :class:`Budget`.

* :func:`zip_members` reads a zip archive the way PyTorch's reader (miniz) does: the end of
  central directory record and the central directory are authoritative; each entry's local
  header is read only to find its data and to compare it with the central entry. Where the
  two disagree, or where data sits outside every entry, a ``SSDF-SCAN-010`` finding says so,
  and the member is still returned under the central directory's view.
* :func:`tar_members` lists an uncompressed tar archive with :mod:`tarfile` (never
  ``extract``); links, devices and FIFOs are reported, never followed.
* :func:`decompress` expands gzip, zlib, bzip2, xz and LZ4 streams with a hard output cap and
  a compression-ratio limit.

Problems found while *reading* a member (a CRC mismatch, a corrupt or truncated stream, bytes
past the declared size, a missing optional decompressor) raise :class:`MemberReadError`,
which carries the finding and whatever bytes could be read: the engine records the finding
and still analyses ``exc.data`` when it is not ``None``, because a lenient loader (PyTorch
does not check CRCs) would load those bytes too. Limits raise :class:`LimitExceeded`.
"""

from __future__ import annotations

import bz2
import dataclasses
import lzma
import stat
import struct
import zlib
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Protocol

from ssdf_ai.findings import Finding, Severity
from ssdf_ai.scan import rules
from ssdf_ai.scan._types import KIB, MIB, Budget, LimitExceeded, Member

if TYPE_CHECKING:
    import tarfile

__all__ = [
    "CODECS",
    "MemberReadError",
    "decompress",
    "display_name",
    "tar_members",
    "unsafe_name_reasons",
    "zip_members",
]

CODECS = frozenset({"gzip", "bz2", "xz", "lz4", "zlib"})

_CHUNK = 64 * KIB  # compressed input fed per step (granularity of the ratio check)
_STEP = 1 * MIB  # most output produced per decompressor call
_RATIO_GRACE = 1 * MIB  # output below this is never judged by ratio
_MAX_SAME_KIND = 20  # findings of one kind per archive before they are summarised
_MAX_GAP_SCAN = 16 * MIB  # bytes outside every entry searched for hidden local headers

# Zip record layouts (APPNOTE.TXT 6.3.10, sections 4.3.7, 4.3.12, 4.3.14-4.3.16).
_EOCD = struct.Struct("<4sHHHHIIH")
_EOCD_SIG = b"PK\x05\x06"
_EOCD64_LOC = struct.Struct("<4sIQI")
_EOCD64_LOC_SIG = b"PK\x06\x07"
_EOCD64 = struct.Struct("<4sQHHIIQQQQ")
_EOCD64_SIG = b"PK\x06\x06"
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_CENTRAL_SIG = b"PK\x01\x02"
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_SIG = b"PK\x03\x04"
_DESCRIPTOR_SIG = b"PK\x07\x08"
_MAX_COMMENT = 0xFFFF

_FLAG_ENCRYPTED = 0x0001
_FLAG_DESCRIPTOR = 0x0008
_FLAG_STRONG_ENCRYPTION = 0x0040
_FLAG_UTF8 = 0x0800
_COMPARED_FLAGS = _FLAG_ENCRYPTED | _FLAG_DESCRIPTOR | _FLAG_STRONG_ENCRYPTION | _FLAG_UTF8

# Zstandard (93) needs Python 3.14's compression.zstd; until then it is reported unread.
_STORED, _DEFLATED, _BZIP2, _LZMA = 0, 8, 12, 14
_METHOD_NAMES = {_STORED: "stored", _DEFLATED: "deflate", _BZIP2: "bzip2", _LZMA: "lzma"}

_U16_MAX = 0xFFFF
_U32_MAX = 0xFFFFFFFF


class MemberReadError(Exception):
    """A member (or compressed stream) was read, but not cleanly.

    Attributes:
        finding: What went wrong, ready to report.
        data: The bytes that could be read (what a lenient loader would see), or ``None``
            when nothing usable was read. Analyse them when present.
    """

    def __init__(self, finding: Finding, data: bytes | None = None) -> None:
        super().__init__(finding.message)
        self.finding = finding
        self.data = data


# --------------------------------------------------------------------------------------------
# findings helpers


class _Findings:
    """Collects findings, summarising a flood of one kind (e.g. 100 000 overlapping entries)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[Finding] = []
        self._counts: dict[str, int] = {}

    def add(
        self,
        kind: str,
        rule_id: str,
        message: str,
        *,
        address: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        count = self._counts.get(kind, 0) + 1
        self._counts[kind] = count
        if count <= _MAX_SAME_KIND:
            self.items.append(
                rules.finding(rule_id, message, path=self.path, address=address, severity=severity)
            )

    def done(self) -> list[Finding]:
        for kind, count in self._counts.items():
            if count > _MAX_SAME_KIND:
                self.items.append(
                    rules.finding(
                        rules.ZIP_INCONSISTENT
                        if kind.startswith("zip")
                        else rules.UNSAFE_MEMBER
                        if kind.startswith("unsafe")
                        else rules.UNPARSEABLE,
                        f"{count - _MAX_SAME_KIND} more problems of the kind {kind!r} "
                        "were not listed one by one",
                        path=self.path,
                    )
                )
        return self.items


def _member_address(name: str, offset: int | None = None) -> str:
    return f"member {name}" if offset is None else f"member {name}, offset {offset}"


# --------------------------------------------------------------------------------------------
# member names


def unsafe_name_reasons(name: str) -> list[str]:
    """Why extracting a member of this name could escape the target directory, if it could.

    Args:
        name: The member name as stored.

    Returns:
        Reasons (empty when the name is safe): absolute path, drive letter, ``..`` segment,
        backslash, NUL or other control character.
    """
    reasons: list[str] = []
    if name.startswith(("/", "\\")):
        reasons.append("absolute path")
    if len(name) >= 2 and name[1] == ":" and name[0].isalpha():
        reasons.append("drive letter")
    if ".." in name.replace("\\", "/").split("/"):
        reasons.append("'..' segment")
    if "\\" in name:
        reasons.append("backslash")
    if "\x00" in name:
        reasons.append("NUL character")
    elif any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        reasons.append("control character")
    return reasons


def display_name(name: str) -> str:
    """A member name made safe to show and to use as a relative path.

    Backslashes become slashes; absolute prefixes, drive letters, empty, ``.`` and ``..``
    segments are dropped; control characters are escaped.

    Args:
        name: The member name as stored.

    Returns:
        The sanitised name (``<unnamed>`` when nothing is left).
    """
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name.replace("\\", "/"))
    if len(text) >= 2 and text[1] == ":" and text[0].isalpha():
        text = text[2:]
    parts = [p for p in text.split("/") if p not in ("", ".", "..")]
    cleaned = "/".join(parts)
    if text.endswith("/") and cleaned:
        cleaned += "/"
    return cleaned or "<unnamed>"


# --------------------------------------------------------------------------------------------
# bounded streaming decompression


class _Decoder(Protocol):
    """The incremental-decompressor shape shared by bz2, lzma and lz4.frame."""

    @property
    def eof(self) -> bool: ...

    @property
    def needs_input(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


class _ZlibDecoder:
    """:func:`zlib.decompressobj` behind the bz2/lzma interface (bounded output per call)."""

    def __init__(self, wbits: int) -> None:
        self._d = zlib.decompressobj(wbits)
        self._tail = b""
        self._more = False

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def needs_input(self) -> bool:
        return not self._more

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        out = self._d.decompress(self._tail + data, max(max_length, 0))
        self._tail = self._d.unconsumed_tail
        # A full output buffer may leave output pending inside zlib even with no tail.
        self._more = bool(self._tail) or (max_length > 0 and len(out) >= max_length)
        return out


def _lz4_decoder() -> _Decoder:
    try:
        import lz4.frame  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415
    except ImportError:
        raise _MissingLz4 from None
    decoder: _Decoder = lz4.frame.LZ4FrameDecompressor()
    return decoder


class _MissingLz4(Exception):  # noqa: N818 - internal signal
    pass


# Exceptions the stdlib and lz4 decompressors raise on corrupt input.
_CODEC_ERRORS = (zlib.error, OSError, lzma.LZMAError, EOFError, RuntimeError, ValueError)


@dataclasses.dataclass
class _Inflated:
    data: bytearray
    consumed: int  # compressed bytes used by the stream (exact once eof)
    eof: bool
    more: bool  # output remained beyond ``limit``
    error: str | None


def _inflate(
    read_chunk: Callable[[], bytes],
    decoder: _Decoder,
    *,
    limit: int,
    budget: Budget,
    output: bytearray,
) -> _Inflated:
    """Run one compressed stream through ``decoder`` within ``limit`` bytes of output.

    Output is appended to ``output`` (shared across the streams of a multi-stream file, so
    the ratio and the cap apply to the whole). Budget bytes are spent as output appears; the
    ratio limit is applied to the output of this call against the input it consumed.
    """
    start = len(output)
    fed = 0
    error: str | None = None
    more = False
    pending = read_chunk()
    fed += len(pending)
    try:
        while True:
            budget.check_time()
            room = limit - (len(output) - start)
            piece = decoder.decompress(pending, min(_STEP, room + 1))
            pending = b""
            if len(piece) > room:
                output += piece[:room]
                budget.spend_bytes(room)
                more = True
                break
            output += piece
            budget.spend_bytes(len(piece))
            produced = len(output) - start
            ratio = budget.limits.max_ratio
            if produced > _RATIO_GRACE and produced > ratio * max(fed, 1):
                raise LimitExceeded(
                    f"compression ratio above {ratio}:1 ({produced} bytes from {fed})"
                )
            if decoder.eof:
                break
            if decoder.needs_input:
                pending = read_chunk()
                if not pending:
                    error = "the compressed stream ends early (truncated)"
                    break
                fed += len(pending)
    except _CODEC_ERRORS as exc:
        error = f"corrupt compressed data ({type(exc).__name__}: {exc})"
    eof = decoder.eof and error is None
    consumed = fed - len(decoder.unused_data or b"") if eof else fed
    return _Inflated(output, consumed, eof, more, error)


def _reader(data: bytes | memoryview, start: int = 0) -> Callable[[], bytes]:
    view = memoryview(data)
    pos = start

    def read_chunk() -> bytes:
        nonlocal pos
        chunk = bytes(view[pos : pos + _CHUNK])
        pos += len(chunk)
        return chunk

    return read_chunk


_MAGIC = {
    "gzip": (b"\x1f\x8b",),
    "bz2": (b"BZh",),
    "xz": (b"\xfd7zXZ\x00",),
    "lz4": (b"\x04\x22\x4d\x18",),
    "zlib": (),
}


def _new_decoder(codec: str) -> _Decoder:
    if codec == "gzip":
        return _ZlibDecoder(16 + zlib.MAX_WBITS)
    if codec == "zlib":
        return _ZlibDecoder(zlib.MAX_WBITS)
    if codec == "bz2":
        return bz2.BZ2Decompressor()
    if codec == "xz":
        return lzma.LZMADecompressor(lzma.FORMAT_AUTO)
    if codec == "lz4":
        return _lz4_decoder()
    raise ValueError(f"unknown codec {codec!r}; expected one of {sorted(CODECS)}")


def decompress(data: bytes, codec: str, *, budget: Budget, path: str) -> bytes:
    """Expand a compressed stream within the budget, never trusting what it declares.

    Concatenated streams (multi-member gzip, bzip2 and xz, several LZ4 frames) are expanded
    one after another, as ``gzip -d`` and Python's modules do. Trailing NUL padding is
    ignored.

    Args:
        data: The compressed bytes.
        codec: One of ``gzip``, ``zlib``, ``bz2``, ``xz`` (also legacy ``.lzma``), ``lz4``.
        budget: The top-level file's budget; every output byte is spent from it.
        path: The file, for findings.

    Returns:
        The expanded bytes.

    Raises:
        LimitExceeded: Output would pass ``min(remaining budget, limits.max_member_bytes)``,
            or the compression ratio passes ``limits.max_ratio`` after the first MiB.
        MemberReadError: The stream is corrupt or truncated, has trailing bytes that are not
            another stream, or needs the optional ``lz4`` package (finding ``SSDF-SCAN-004``,
            ``data`` ``None``); ``data`` holds what was expanded before the problem.
        ValueError: ``codec`` is not one of :data:`CODECS` (a programming error).
    """
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; expected one of {sorted(CODECS)}")
    limits = budget.limits
    cap = min(limits.max_member_bytes, limits.max_expanded_bytes - budget.expanded)
    output = bytearray()
    pos = 0
    streams = 0
    while True:
        try:
            decoder = _new_decoder(codec)
        except _MissingLz4:
            raise MemberReadError(
                rules.finding(
                    rules.NOT_SCANNED,
                    "LZ4-compressed content was not scanned: the optional package 'lz4' is "
                    "not installed",
                    path=path,
                    remediation="pip install lz4 (or the ssdf-ai extra that provides it)",
                )
            ) from None
        result = _inflate(
            _reader(data, pos),
            decoder,
            limit=cap - len(output),
            budget=budget,
            output=output,
        )
        streams += 1
        if result.more:
            raise LimitExceeded(f"{codec} stream expands past {cap} bytes")
        if result.error is not None:
            raise MemberReadError(
                rules.finding(
                    rules.UNPARSEABLE,
                    f"{codec} stream {streams}: {result.error}; what follows was not checked",
                    path=path,
                    address=f"offset {pos}",
                ),
                bytes(output),
            )
        pos += result.consumed
        rest = memoryview(data)[pos:]
        if not rest or not any(rest):
            return bytes(output)
        if not _MAGIC[codec] or not bytes(rest[:6]).startswith(_MAGIC[codec]):
            raise MemberReadError(
                rules.finding(
                    rules.UNPARSEABLE,
                    f"{len(rest)} bytes after the end of the {codec} stream were not checked",
                    path=path,
                    address=f"offset {pos}",
                ),
                bytes(output),
            )


# --------------------------------------------------------------------------------------------
# zip


@dataclasses.dataclass
class _Central:
    index: int
    raw_name: bytes
    name: str
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    header_offset: int
    external_attr: int
    made_by: int
    extra_error: bool


def _read_at(f: IO[bytes], offset: int, length: int) -> bytes:
    if not 0 <= offset < 1 << 62 or length <= 0:  # hostile 64-bit offsets seek nowhere
        return b""
    f.seek(offset)
    return f.read(length)


def _decode_name(raw: bytes, flags: int) -> str:
    if flags & _FLAG_UTF8:
        return raw.decode("utf-8", "replace")
    return raw.decode("cp437")


def _extra_fields(extra: bytes) -> tuple[dict[int, bytes], bool]:
    """Split an extra field into {header id: data}; report a malformed one."""
    fields: dict[int, bytes] = {}
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        if pos + 4 + length > len(extra):
            return fields, True
        fields.setdefault(tag, extra[pos + 4 : pos + 4 + length])
        pos += 4 + length
    return fields, pos != len(extra) and any(extra[pos:])


def _zip64_values(data: bytes, wanted: list[bool]) -> list[int | None]:
    """Read the ZIP64 extended information fields present for each field marked as wanted."""
    values: list[int | None] = []
    pos = 0
    for need in wanted:
        if need and pos + 8 <= len(data):
            values.append(struct.unpack_from("<Q", data, pos)[0])
            pos += 8
        else:
            values.append(None)
    return values


@dataclasses.dataclass
class _EndRecord:
    eocd_pos: int
    entries: int
    cd_size: int
    cd_offset: int
    zip64: bool
    cd_expected_end: int  # where the central directory should end (start of the end records)


def _find_end_record(f: IO[bytes], size: int, out: _Findings) -> _EndRecord | None:
    # Most archives have no comment: try the last 22 bytes before the 64 KiB search.
    tail = _read_at(f, size - _EOCD.size, _EOCD.size)
    if not (tail.startswith(_EOCD_SIG) and tail.endswith(b"\0\0")):
        tail_len = min(size, _EOCD.size + _MAX_COMMENT)
        tail = _read_at(f, size - tail_len, tail_len)
    tail_len = len(tail)
    pos = tail.rfind(_EOCD_SIG)
    while pos >= 0 and pos + _EOCD.size > len(tail):
        pos = tail.rfind(_EOCD_SIG, 0, pos)
    if pos < 0:
        return None
    eocd_pos = size - tail_len + pos
    (_, disk, cd_disk, _, entries, cd_size, cd_offset, comment_len) = _EOCD.unpack_from(tail, pos)
    trailing = size - (eocd_pos + _EOCD.size + comment_len)
    if trailing != 0:
        out.add(
            "zip-trailer",
            rules.ZIP_INCONSISTENT,
            f"the end of central directory record's comment length ({comment_len}) does not "
            f"match the end of the file ({trailing:+d} bytes)",
            address=f"offset {eocd_pos}",
        )
    if disk != 0 or cd_disk != 0:
        out.add(
            "zip-disk",
            rules.ZIP_INCONSISTENT,
            f"the archive claims to span several disks (disk {disk}, central directory on "
            f"disk {cd_disk}); it was read as a single file",
            address=f"offset {eocd_pos}",
        )
    record = _EndRecord(eocd_pos, entries, cd_size, cd_offset, False, eocd_pos)
    # ZIP64 (APPNOTE 4.3.14-4.3.15): a locator right before the EOCD points at the record.
    loc_pos = eocd_pos - _EOCD64_LOC.size
    if loc_pos < 0:
        return record
    loc = _read_at(f, loc_pos, _EOCD64_LOC.size)
    if len(loc) < _EOCD64_LOC.size or not loc.startswith(_EOCD64_LOC_SIG):
        return record
    _, _, rec_offset, _ = _EOCD64_LOC.unpack(loc)
    # PyTorch (miniz) follows the locator's offset; Python's zipfile assumes the record sits
    # right before the locator. Follow the locator, flag a disagreement.
    expected = loc_pos - _EOCD64.size
    raw = _read_at(f, rec_offset, _EOCD64.size) if rec_offset < size else b""
    if len(raw) < _EOCD64.size or not raw.startswith(_EOCD64_SIG):
        if expected >= 0:
            raw = _read_at(f, expected, _EOCD64.size)
        if len(raw) < _EOCD64.size or not raw.startswith(_EOCD64_SIG):
            out.add(
                "zip-zip64",
                rules.ZIP_INCONSISTENT,
                "a ZIP64 locator points at no ZIP64 end of central directory record; the "
                "32-bit record was used",
                address=f"offset {loc_pos}",
            )
            return record
        rec_offset = expected
    if rec_offset != expected:
        out.add(
            "zip-zip64",
            rules.ZIP_INCONSISTENT,
            f"the ZIP64 end record is at offset {rec_offset}, not right before its locator "
            f"({expected}): readers disagree on where it is",
            address=f"offset {loc_pos}",
        )
    (_, _, _, _, disk64, cd_disk64, _, entries64, cd_size64, cd_offset64) = _EOCD64.unpack(raw)
    if disk64 != 0 or cd_disk64 != 0:
        out.add(
            "zip-disk",
            rules.ZIP_INCONSISTENT,
            "the ZIP64 record claims several disks; the archive was read as a single file",
            address=f"offset {rec_offset}",
        )
    return _EndRecord(eocd_pos, entries64, cd_size64, cd_offset64, True, rec_offset)


def _parse_central(cd: bytes, end: _EndRecord, budget: Budget, out: _Findings) -> list[_Central]:
    entries: list[_Central] = []
    pos = 0
    while pos + _CENTRAL.size <= len(cd) and cd.startswith(_CENTRAL_SIG, pos):
        budget.check_time()
        budget.spend_member()
        (
            _,
            made_by,
            _,
            flags,
            method,
            _,
            _,
            crc,
            csize,
            usize,
            nlen,
            xlen,
            clen,
            disk_start,
            _,
            ext_attr,
            offset,
        ) = _CENTRAL.unpack_from(cd, pos)
        name_start = pos + _CENTRAL.size
        if name_start + nlen + xlen + clen > len(cd):
            out.add(
                "zip-central",
                rules.UNPARSEABLE,
                f"central directory entry {len(entries)} runs past the central directory",
                address=f"central directory offset {pos}",
            )
            break
        raw_name = cd[name_start : name_start + nlen]
        extra = cd[name_start + nlen : name_start + nlen + xlen]
        fields, extra_error = _extra_fields(extra)
        if 0x0001 in fields:
            usize64, csize64, offset64, _ = _zip64_values(
                fields[0x0001],
                [usize == _U32_MAX, csize == _U32_MAX, offset == _U32_MAX, disk_start == _U16_MAX],
            )
            usize = usize if usize64 is None else usize64
            csize = csize if csize64 is None else csize64
            offset = offset if offset64 is None else offset64
        entries.append(
            _Central(
                index=len(entries),
                raw_name=raw_name,
                name=_decode_name(raw_name, flags),
                flags=flags,
                method=method,
                crc=crc,
                csize=csize,
                usize=usize,
                header_offset=offset,
                external_attr=ext_attr,
                made_by=made_by,
                extra_error=extra_error,
            )
        )
        pos = name_start + nlen + xlen + clen
    if len(entries) != end.entries:
        out.add(
            "zip-count",
            rules.ZIP_INCONSISTENT,
            f"the end record declares {end.entries} entries but the central directory holds "
            f"{len(entries)}: readers that trust either number see different members",
        )
    if pos != len(cd):
        out.add(
            "zip-count",
            rules.ZIP_INCONSISTENT,
            f"{len(cd) - pos} bytes of the central directory are not central directory entries",
            address=f"central directory offset {pos}",
        )
    return entries


@dataclasses.dataclass
class _Span:
    start: int
    end: int
    name: str


def zip_members(
    f: BinaryIO, size: int, *, path: str, budget: Budget
) -> tuple[list[Member], list[Finding]]:
    """List a zip archive's members the way PyTorch's reader and Python's ``zipfile`` do.

    The end of central directory record (searched for backwards in the last 64 KiB + 22
    bytes; ZIP64 supported) and the central directory are authoritative, as in miniz. Each
    entry's local header is read to locate its data and compared with the central entry.
    Nothing but the end records, the central directory and the local headers is read here;
    a member's data is read only when its ``read()`` is called.

    Members come back in central-directory order (PyTorch names the archive's root folder
    after the first entry), with directories left out. Unsafe names are returned under
    :func:`display_name`; symlink and device entries are returned too (zip readers ignore the
    mode and hand out the bytes). Encrypted entries, entries in an unsupported compression
    method and entries whose local header is missing are not returned: a finding says they
    were not checked.

    ``Member.read()`` seeks in ``f`` (which must stay open, and is not safe to share between
    threads), expands the data within the budget, stops at the declared size and checks the
    CRC-32. It raises :class:`LimitExceeded` when the declared size passes
    ``limits.max_member_bytes`` or a limit is hit while expanding, and
    :class:`MemberReadError` (with the bytes read) on a CRC mismatch, corrupt or truncated
    data, or data longer than declared.

    Args:
        f: The archive, seekable.
        size: Its size in bytes.
        path: The file, for findings.
        budget: The top-level file's budget (members are counted here, bytes on read).

    Returns:
        The members and the findings: ``SSDF-SCAN-003`` (no end record; encrypted,
        unsupported or unreadable members), ``SSDF-SCAN-007`` (unsafe names, links, devices),
        ``SSDF-SCAN-010`` (local/central disagreements, duplicate names, overlapping entries,
        data hidden outside the entries, prepended data, ZIP64 disagreements).

    Raises:
        LimitExceeded: More members than ``limits.max_members`` (counted across the budget),
            a central directory larger than ``limits.max_member_bytes``, or the time limit.
    """
    out = _Findings(path)
    end = _find_end_record(f, size, out) if size >= _EOCD.size else None
    if end is None:
        out.add(
            "unparseable",
            rules.UNPARSEABLE,
            "no zip end of central directory record: the archive is truncated or not a zip; "
            "its content was not checked",
        )
        return [], out.done()
    if end.cd_size > budget.limits.max_member_bytes:
        raise LimitExceeded(f"zip central directory of {end.cd_size} bytes")
    # Python's zipfile tolerates data prepended to the archive (self-extractors) by shifting
    # every offset; miniz does not. Follow zipfile, and say so.
    shift = end.cd_expected_end - end.cd_size - end.cd_offset
    if shift != 0 and end.cd_size > 0:
        if shift > 0 and _read_at(f, end.cd_offset + shift, 4) == _CENTRAL_SIG:
            out.add(
                "zip-prepended",
                rules.ZIP_INCONSISTENT,
                f"{shift} bytes precede the archive and every offset is shifted by them; "
                "Python's zipfile reads it, PyTorch's reader does not",
                address="offset 0",
            )
        elif _read_at(f, end.cd_offset, 4) == _CENTRAL_SIG:
            out.add(
                "zip-trailer",
                rules.ZIP_INCONSISTENT,
                "the central directory does not end where the end record begins "
                f"({-shift:+d} bytes): Python's zipfile and PyTorch's reader disagree",
                address=f"offset {end.cd_offset}",
            )
            shift = 0
        else:
            out.add(
                "unparseable",
                rules.UNPARSEABLE,
                "the central directory is not where the end record says "
                f"(offset {end.cd_offset}, {end.cd_size} bytes); the content was not checked",
            )
            return [], out.done()
    else:
        shift = 0
    cd_start = end.cd_offset + shift
    cd = _read_at(f, cd_start, end.cd_size)
    if len(cd) < end.cd_size:
        out.add(
            "unparseable",
            rules.UNPARSEABLE,
            "the central directory runs past the end of the file (truncated archive)",
            address=f"offset {cd_start}",
        )
    entries = _parse_central(cd, end, budget, out)
    members: list[Member] = []
    spans: list[_Span] = []
    seen: set[bytes] = set()
    for entry in entries:
        budget.check_time()
        member, span = _zip_entry(f, size, entry, shift, budget, path, out)
        if entry.raw_name in seen:
            out.add(
                "zip-duplicate",
                rules.ZIP_INCONSISTENT,
                f"the name {entry.name!r} appears more than once: readers pick different "
                "copies (all were returned)",
                address=_member_address(display_name(entry.name)),
            )
        seen.add(entry.raw_name)
        if member is not None:
            members.append(member)
        if span is not None:
            spans.append(span)
    _check_layout(f, spans, cd_start, out)
    return members, out.done()


def _zip_entry(
    f: IO[bytes],
    size: int,
    entry: _Central,
    shift: int,
    budget: Budget,
    path: str,
    out: _Findings,
) -> tuple[Member | None, _Span | None]:
    shown = display_name(entry.name)
    where = _member_address(shown)
    reasons = unsafe_name_reasons(entry.name)
    if reasons:
        out.add(
            "unsafe-name",
            rules.UNSAFE_MEMBER,
            f"member name {entry.name!r} is unsafe ({', '.join(reasons)}); analysed as {shown!r}",
            address=where,
        )
    mode = entry.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind in (stat.S_IFLNK, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK):
        label = {
            stat.S_IFLNK: "a symbolic link",
            stat.S_IFCHR: "a character device",
            stat.S_IFBLK: "a block device",
            stat.S_IFIFO: "a FIFO",
            stat.S_IFSOCK: "a socket",
        }[kind]
        out.add(
            "unsafe-type",
            rules.UNSAFE_MEMBER,
            f"member {shown!r} is {label} (unix mode {mode:o}); extracting it is unsafe, and "
            "its bytes were analysed as a regular file",
            address=where,
        )
    if entry.extra_error:
        out.add(
            "zip-extra",
            rules.ZIP_INCONSISTENT,
            f"member {shown!r} has a malformed extra field in the central directory",
            address=where,
        )

    offset = entry.header_offset + shift
    header = _read_at(f, offset, _LOCAL.size) if 0 <= offset < size else b""
    if len(header) < _LOCAL.size or not header.startswith(_LOCAL_SIG):
        out.add(
            "unreadable",
            rules.UNPARSEABLE,
            f"member {shown!r}: no local header at offset {offset}, where the central "
            "directory points; its content was not checked",
            address=where,
        )
        return None, None
    (_, _, lflags, lmethod, _, _, lcrc, lcsize, lusize, lnlen, lxlen) = _LOCAL.unpack(header)
    tail = _read_at(f, offset + _LOCAL.size, lnlen + lxlen)
    lname, lextra = tail[:lnlen], tail[lnlen:]
    data_offset = offset + _LOCAL.size + lnlen + lxlen
    _compare_local(entry, shown, lflags, lmethod, lcrc, lcsize, lusize, lname, lextra, out)

    end = data_offset + entry.csize
    span_end = end + (_descriptor_length(f, end, entry) if entry.flags & _FLAG_DESCRIPTOR else 0)
    span = _Span(offset, span_end, shown)
    if entry.raw_name.endswith(b"/") and entry.usize == 0:
        return None, span
    if entry.flags & (_FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION):
        out.add(
            "encrypted",
            rules.UNPARSEABLE,
            f"member {shown!r} is encrypted; its content was not checked",
            address=where,
        )
        return None, span
    if entry.method not in _METHOD_NAMES:
        out.add(
            "method",
            rules.UNPARSEABLE,
            f"member {shown!r} uses compression method {entry.method}, which the scanner "
            "cannot expand (PyTorch reads only stored and deflate); its content was not "
            "checked",
            address=where,
        )
        return None, span
    if end > size:
        out.add(
            "unreadable",
            rules.UNPARSEABLE,
            f"member {shown!r}: its data runs past the end of the file (truncated archive); "
            "its content was not checked",
            address=where,
        )
        return None, span

    def read() -> bytes:
        return _read_zip_member(f, entry, shown, data_offset, budget, path)

    return Member(name=shown, offset=data_offset, size=entry.usize, read=read), span


def _compare_local(
    entry: _Central,
    shown: str,
    lflags: int,
    lmethod: int,
    lcrc: int,
    lcsize: int,
    lusize: int,
    lname: bytes,
    lextra: bytes,
    out: _Findings,
) -> None:
    where = _member_address(shown)
    problems: list[str] = []
    if lname != entry.raw_name:
        problems.append(
            f"the local header names it {_decode_name(lname, lflags)!r} (the central "
            "directory's name is the one PyTorch uses)"
        )
    if lmethod != entry.method:
        problems.append(f"compression method {lmethod} locally, {entry.method} centrally")
    if (lflags ^ entry.flags) & _COMPARED_FLAGS:
        problems.append(f"flags {lflags:#06x} locally, {entry.flags:#06x} centrally")
    if not lflags & _FLAG_DESCRIPTOR:
        fields, _ = _extra_fields(lextra)
        if 0x0001 in fields:
            usize64, csize64 = _zip64_values(
                fields[0x0001], [lusize == _U32_MAX, lcsize == _U32_MAX]
            )
            lusize = lusize if usize64 is None else usize64
            lcsize = lcsize if csize64 is None else csize64
        if (lcrc, lcsize, lusize) != (entry.crc, entry.csize, entry.usize):
            problems.append(
                f"CRC/sizes {lcrc:#010x}/{lcsize}/{lusize} locally, "
                f"{entry.crc:#010x}/{entry.csize}/{entry.usize} centrally"
            )
    if problems:
        out.add(
            "zip-local",
            rules.ZIP_INCONSISTENT,
            f"member {shown!r}: local header disagrees with the central directory: "
            + "; ".join(problems),
            address=where,
        )


def _descriptor_length(f: IO[bytes], end: int, entry: _Central) -> int:
    """Length of the data descriptor after a member's data (APPNOTE 4.3.9)."""
    zip64 = entry.csize >= _U32_MAX or entry.usize >= _U32_MAX
    base = 20 if zip64 else 12
    return base + 4 if _read_at(f, end, 4) == _DESCRIPTOR_SIG else base


def _check_layout(f: IO[bytes], spans: list[_Span], cd_start: int, out: _Findings) -> None:
    """Flag overlapping entries and local headers hidden in the bytes no entry covers."""
    spans = sorted(spans, key=lambda s: (s.start, s.end))
    gaps: list[tuple[int, int]] = []
    reach = 0
    previous: _Span | None = None
    for span in spans:
        if previous is not None and span.start < reach:
            out.add(
                "zip-overlap",
                rules.ZIP_INCONSISTENT,
                f"member {span.name!r} overlaps the data of {previous.name!r}: entries that "
                "share bytes are a zip-bomb technique",
                address=f"offset {span.start}",
            )
        elif span.start > reach:
            gaps.append((reach, span.start))
        if span.end > reach:
            reach = span.end
            previous = span
    if reach > cd_start:
        out.add(
            "zip-overlap",
            rules.ZIP_INCONSISTENT,
            "member data overlaps the central directory",
            address=f"offset {cd_start}",
        )
    elif reach < cd_start:
        gaps.append((reach, cd_start))
    budget_left = _MAX_GAP_SCAN
    for start, stop in gaps:
        if budget_left <= 0:
            break
        length = min(stop - start, budget_left)
        budget_left -= length
        data = _read_at(f, start, length)
        hit = data.find(_LOCAL_SIG)
        if hit >= 0:
            out.add(
                "zip-hidden",
                rules.ZIP_INCONSISTENT,
                f"a local file header at offset {start + hit} is not in the central "
                f"directory: {stop - start} bytes between entries (offsets {start}-{stop}) "
                "are hidden from readers that trust the central directory",
                address=f"offset {start + hit}",
            )


def _read_zip_member(
    f: IO[bytes], entry: _Central, shown: str, data_offset: int, budget: Budget, path: str
) -> bytes:
    limits = budget.limits
    where = _member_address(shown, data_offset)
    if entry.usize > limits.max_member_bytes:
        raise LimitExceeded(
            f"member {shown!r} declares {entry.usize} bytes, more than {limits.max_member_bytes}"
        )
    remaining = entry.csize
    f.seek(data_offset)

    def read_chunk() -> bytes:
        nonlocal remaining
        if remaining <= 0:
            return b""
        chunk = f.read(min(_CHUNK, remaining))
        remaining -= len(chunk)
        return chunk

    problem: str | None = None
    mismatch = False  # the problem is a disagreement with what the archive declares
    if entry.method == _STORED:
        buf = bytearray()
        while len(buf) < min(entry.csize, entry.usize):
            budget.check_time()
            chunk = read_chunk()
            if not chunk:
                break
            keep = chunk[: entry.usize - len(buf)]
            buf += keep
            budget.spend_bytes(len(keep))
        if entry.csize != entry.usize:
            mismatch = True
            problem = (
                f"stored member declares {entry.csize} bytes stored but {entry.usize} bytes "
                "of content"
            )
        elif len(buf) < entry.usize:
            problem = "its data ends early (truncated)"
        data = bytes(buf)
    else:
        decoder: _Decoder
        if entry.method == _DEFLATED:
            decoder = _ZlibDecoder(-zlib.MAX_WBITS)
        elif entry.method == _BZIP2:
            decoder = bz2.BZ2Decompressor()
        else:
            decoder = _LzmaZipDecoder()
        result = _inflate(read_chunk, decoder, limit=entry.usize, budget=budget, output=bytearray())
        data = bytes(result.data)
        if result.more:
            mismatch = True
            problem = (
                f"it expands past its declared size of {entry.usize} bytes; readers stop "
                "there, and the rest was not checked"
            )
        elif result.error is not None:
            problem = result.error
        elif len(data) < entry.usize:
            mismatch = True
            problem = f"it expands to {len(data)} bytes, not the declared {entry.usize}"
    if problem is not None:
        raise MemberReadError(
            rules.finding(
                rules.ZIP_INCONSISTENT if mismatch else rules.UNPARSEABLE,
                f"member {shown!r}: {problem}",
                path=path,
                address=where,
            ),
            data,
        )
    if zlib.crc32(data) != entry.crc:
        raise MemberReadError(
            rules.finding(
                rules.ZIP_INCONSISTENT,
                f"member {shown!r}: CRC-32 {zlib.crc32(data):#010x} does not match the "
                f"central directory's {entry.crc:#010x} (PyTorch does not check it and "
                "loads the bytes anyway)",
                path=path,
                address=where,
            ),
            data,
        )
    return data


class _LzmaZipDecoder:
    """LZMA as zip stores it (APPNOTE 5.8.8): a 4-byte version/size prefix, then raw LZMA1."""

    def __init__(self) -> None:
        self._head = b""
        self._d: Any = None

    @property
    def eof(self) -> bool:
        return bool(self._d is not None and self._d.eof)

    @property
    def needs_input(self) -> bool:
        return self._d is None or bool(self._d.needs_input)

    @property
    def unused_data(self) -> bytes:
        return b"" if self._d is None else bytes(self._d.unused_data)

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        if self._d is None:
            self._head += data
            if len(self._head) < 4:
                return b""
            (props_size,) = struct.unpack_from("<H", self._head, 2)
            if len(self._head) < 4 + props_size:
                return b""
            props = self._head[4 : 4 + props_size]
            data = self._head[4 + props_size :]
            self._d = lzma.LZMADecompressor(
                lzma.FORMAT_RAW,
                filters=[lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)],  # type: ignore[attr-defined]
            )
        return bytes(self._d.decompress(data, max_length))


# --------------------------------------------------------------------------------------------
# tar


class _BoundedFile:
    """A read-only view of ``f`` that refuses single reads larger than ``limit`` bytes.

    :mod:`tarfile` reads a whole GNU long-name or pax header into memory at once; this keeps
    a header that declares gigabytes from doing so.
    """

    def __init__(self, f: IO[bytes], limit: int) -> None:
        self._f = f
        self._limit = limit

    def read(self, n: int = -1) -> bytes:
        if n < 0 or n > self._limit:
            raise LimitExceeded(f"a tar header of more than {self._limit} bytes")
        return self._f.read(n)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()


_TAR_ERRORS = (ValueError, OverflowError, EOFError, OSError, UnicodeError)  # and TarError


def tar_members(
    f: BinaryIO, size: int, *, path: str, budget: Budget
) -> tuple[list[Member], list[Finding]]:
    """List an uncompressed tar archive's regular files; report links, devices and odd names.

    Compressed tars (``.tar.gz`` ...) come here after :func:`decompress`. Nothing is
    extracted; links are reported (``SSDF-SCAN-007``) and never followed; sparse members are
    reported as not checked. Bytes after the end of the archive that are not zero padding
    are reported, since :mod:`tarfile` stops silently at a corrupt header.

    Args:
        f: The archive, seekable, starting at offset 0.
        size: Its size in bytes.
        path: The file, for findings.
        budget: The top-level file's budget.

    Returns:
        The regular-file members (``read()`` as for :func:`zip_members`; raises
        :class:`MemberReadError` when the data is cut short) and the findings:
        ``SSDF-SCAN-003`` (not a tar, corrupt headers, sparse members, trailing data) and
        ``SSDF-SCAN-007`` (unsafe names, symbolic and hard links, devices, FIFOs).

    Raises:
        LimitExceeded: Too many members, an oversized header, or the time limit.
    """
    import tarfile  # here, not at module level: scanning a checkpoint should not pay for it

    errors = (tarfile.TarError, *_TAR_ERRORS)
    out = _Findings(path)
    members: list[Member] = []
    f.seek(0)
    bounded = _BoundedFile(f, min(budget.limits.max_header_bytes, budget.limits.max_member_bytes))
    try:
        archive = tarfile.TarFile(fileobj=bounded, mode="r")  # type: ignore[arg-type]
    except errors as exc:
        out.add("unparseable", rules.UNPARSEABLE, f"not a readable tar archive: {exc}")
        return [], out.done()
    end_offset = 0
    try:
        while True:
            budget.check_time()
            info = archive.next()
            if info is None:
                break
            budget.spend_member()
            end_offset = max(end_offset, info.offset_data + _tar_block(info.size))
            member = _tar_entry(f, size, info, budget, path, out)
            if member is not None:
                members.append(member)
        end_offset = max(end_offset, archive.offset)
    except errors as exc:
        out.add(
            "unparseable",
            rules.UNPARSEABLE,
            f"corrupt tar header after offset {end_offset}: {exc}; what follows was not checked",
            address=f"offset {end_offset}",
        )
        return members, out.done()
    _check_tar_tail(f, size, end_offset, out)
    return members, out.done()


def _tar_block(n: int) -> int:
    return (n + 511) // 512 * 512


def _check_tar_tail(f: IO[bytes], size: int, end_offset: int, out: _Findings) -> None:
    if end_offset >= size:
        return
    tail = _read_at(f, end_offset, min(size - end_offset, MIB))
    if any(tail) or size - end_offset > MIB:
        out.add(
            "tar-tail",
            rules.UNPARSEABLE,
            f"{size - end_offset} bytes after the last tar member are not zero padding "
            "(a corrupt header ends tarfile's listing silently); they were not checked",
            address=f"offset {end_offset}",
        )


def _tar_entry(
    f: IO[bytes], size: int, info: tarfile.TarInfo, budget: Budget, path: str, out: _Findings
) -> Member | None:
    shown = display_name(info.name)
    where = _member_address(shown)
    reasons = unsafe_name_reasons(info.name)
    if reasons:
        out.add(
            "unsafe-name",
            rules.UNSAFE_MEMBER,
            f"member name {info.name!r} is unsafe ({', '.join(reasons)}); analysed as {shown!r}",
            address=where,
        )
    if info.issym() or info.islnk():
        label = "symbolic link" if info.issym() else "hard link"
        out.add(
            "unsafe-type",
            rules.UNSAFE_MEMBER,
            f"member {shown!r} is a {label} to {info.linkname!r}; it was not followed",
            address=where,
        )
        return None
    if info.ischr() or info.isblk() or info.isfifo():
        label = "character device" if info.ischr() else "block device" if info.isblk() else "FIFO"
        out.add(
            "unsafe-type",
            rules.UNSAFE_MEMBER,
            f"member {shown!r} is a {label}",
            address=where,
        )
        return None
    if info.isdir():
        return None
    if info.issparse():
        out.add(
            "sparse",
            rules.UNPARSEABLE,
            f"member {shown!r} is a sparse file; its content was not checked",
            address=where,
        )
        return None
    offset, declared = info.offset_data, info.size

    def read() -> bytes:
        limits = budget.limits
        if declared > limits.max_member_bytes:
            raise LimitExceeded(
                f"member {shown!r} declares {declared} bytes, more than {limits.max_member_bytes}"
            )
        f.seek(offset)
        buf = bytearray()
        while len(buf) < declared:
            budget.check_time()
            chunk = f.read(min(_CHUNK * 16, declared - len(buf)))
            if not chunk:
                break
            buf += chunk
            budget.spend_bytes(len(chunk))
        if len(buf) < declared:
            raise MemberReadError(
                rules.finding(
                    rules.UNPARSEABLE,
                    f"member {shown!r}: its data ends after {len(buf)} of {declared} bytes "
                    "(truncated archive)",
                    path=path,
                    address=_member_address(shown, offset),
                ),
                bytes(buf),
            )
        return bytes(buf)

    if offset > size:
        out.add(
            "unreadable",
            rules.UNPARSEABLE,
            f"member {shown!r}: its data starts past the end of the file",
            address=where,
        )
        return None
    return Member(name=shown, offset=offset, size=declared, read=read)
