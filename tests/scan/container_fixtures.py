"""Builders for hostile and ordinary archives used by the container and format tests.

A small zip writer gives full control over what ``zipfile`` would never write: names that
differ between local and central headers, entries that share data, hidden local headers,
ZIP64 end records, lying sizes and CRCs.
"""

from __future__ import annotations

import dataclasses
import io
import json
import struct
import tarfile
import zlib
from typing import Any

from ssdf_ai.scan._types import MIB, Budget, ScanLimits

SMALL_LIMITS = ScanLimits(
    max_member_bytes=8 * MIB,
    max_members=1_000,
    max_expanded_bytes=32 * MIB,
    max_ratio=250,
    max_header_bytes=1 * MIB,
    seconds_per_file=30.0,
)


def budget(limits: ScanLimits = SMALL_LIMITS) -> Budget:
    """A fresh budget under the given limits."""
    return Budget(limits)


@dataclasses.dataclass
class Entry:
    """One zip entry as the hand-made writer should lay it out."""

    name: str | bytes
    data: bytes = b""
    method: int = 0  # 0 stored, 8 deflate; anything else is written as stored bytes
    local_name: bytes | None = None
    flags: int = 0
    local_flags: int | None = None
    local_method: int | None = None
    external_attr: int = 0
    crc: int | None = None  # declared CRC (default: the real one)
    usize: int | None = None  # declared uncompressed size (default: the real one)
    same_local_as: int | None = None  # central entry points at entry i's local header
    gap_before: bytes = b""  # bytes written before this entry's local header


def _raw(name: str | bytes) -> bytes:
    return name.encode("utf-8") if isinstance(name, str) else name


def _compress(entry: Entry) -> bytes:
    if entry.method == 8:
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        return c.compress(entry.data) + c.flush()
    return entry.data


def build_zip(
    entries: list[Entry],
    *,
    prefix: bytes = b"",
    zip64: bool = False,
    comment: bytes = b"",
    declared_count: int | None = None,
    absolute_offsets: bool = False,
) -> bytes:
    """Write a zip archive laid out exactly as described.

    Args:
        entries: The entries, in order.
        prefix: Bytes before the first local header.
        zip64: Write ZIP64 extra fields and end records.
        comment: The archive comment.
        declared_count: The entry count the end record declares (default: the real one).
        absolute_offsets: Record offsets from the start of the file; by default they count
            from the end of ``prefix`` (a zip glued behind other data).
    """
    out = bytearray(prefix)
    base = 0 if absolute_offsets else len(prefix)
    locals_at: list[int] = []
    compressed: list[bytes] = []
    for entry in entries:
        out += entry.gap_before
        data = _compress(entry)
        compressed.append(data)
        crc = zlib.crc32(entry.data) if entry.crc is None else entry.crc
        usize = len(entry.data) if entry.usize is None else entry.usize
        lname = _raw(entry.name) if entry.local_name is None else entry.local_name
        lflags = entry.flags if entry.local_flags is None else entry.local_flags
        lmethod = entry.method if entry.local_method is None else entry.local_method
        locals_at.append(len(out) - base)
        extra = b""
        lcsize, lusize = len(data), usize
        if zip64:
            extra = struct.pack("<HHQQ", 1, 16, usize, len(data))
            lcsize = lusize = 0xFFFFFFFF
        out += struct.pack(
            "<4sHHHHHIIIHH",
            b"PK\x03\x04",
            45 if zip64 else 20,
            lflags,
            lmethod,
            0,
            0x21,
            crc,
            lcsize,
            lusize,
            len(lname),
            len(extra),
        )
        out += lname + extra + data
    cd_start = len(out) - base
    cd = bytearray()
    for i, entry in enumerate(entries):
        data = compressed[i]
        crc = zlib.crc32(entry.data) if entry.crc is None else entry.crc
        usize = len(entry.data) if entry.usize is None else entry.usize
        offset = locals_at[entry.same_local_as if entry.same_local_as is not None else i]
        name = _raw(entry.name)
        csize = len(data)
        extra = b""
        if zip64:
            extra = struct.pack("<HHQQQ", 1, 24, usize, csize, offset)
            usize = csize = offset = 0xFFFFFFFF
        cd += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            (3 << 8) | 45,
            45 if zip64 else 20,
            entry.flags,
            entry.method,
            0,
            0x21,
            crc,
            csize,
            usize,
            len(name),
            len(extra),
            0,
            0,
            0,
            entry.external_attr,
            offset,
        )
        cd += name + extra
    out += cd
    count = len(entries) if declared_count is None else declared_count
    if zip64:
        eocd64_at = len(out) - base
        out += struct.pack(
            "<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(cd), cd_start
        )
        out += struct.pack("<4sIQI", b"PK\x06\x07", 0, eocd64_at, 1)
        out += struct.pack(
            "<4sHHHHIIH",
            b"PK\x05\x06",
            0,
            0,
            0xFFFF,
            0xFFFF,
            0xFFFFFFFF,
            0xFFFFFFFF,
            len(comment),
        )
    else:
        out += struct.pack(
            "<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(cd), cd_start, len(comment)
        )
    return bytes(out + comment)


def tar_bytes(
    members: list[tuple[tarfile.TarInfo, bytes | None]], fmt: int = tarfile.PAX_FORMAT
) -> bytes:
    """A tar archive of the given headers (with data for regular files)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def tar_info(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    """A tar header of the given type."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def safetensors_bytes(header: Any, data: bytes = b"", *, raw_header: bytes | None = None) -> bytes:
    """A safetensors file from a header object (or raw header bytes) and a data area."""
    body = raw_header if raw_header is not None else json.dumps(header).encode("utf-8")
    body += b" " * (-len(body) % 8)
    return struct.pack("<Q", len(body)) + body + data


def npy_bytes(
    header: str | bytes, data: bytes = b"", *, version: tuple[int, int] = (1, 0)
) -> bytes:
    """An ``.npy`` file with a hand-written header."""
    raw = header.encode("latin-1") if isinstance(header, str) else header
    length = struct.pack("<H" if version == (1, 0) else "<I", len(raw))
    return b"\x93NUMPY" + bytes(version) + length + raw + data
