"""7z archives, listed and read without extracting anything, with the standard library only.

:func:`sevenz_members` parses a 7z archive's headers (an encoded, LZMA-compressed header is
expanded within the budget) and returns its files as :class:`Member` objects, the way
:func:`ssdf_ai.scan.containers.tar_members` does for tar. Nothing is written to disk and
nothing is executed.

Every coder chain of single-input coders that the standard library can run is decoded:
Copy, LZMA, LZMA2, Deflate and BZip2, followed by any of the BCJ filters (x86, PowerPC,
IA-64, ARM, ARM-Thumb, SPARC) and Delta. LZMA2 and its filters run as one
:mod:`lzma` raw filter chain; a filter after another coder runs in :mod:`lzma` over that
coder's output framed as LZMA2 *uncompressed* chunks. Encrypted folders (AES-256) and other
coders (PPMd, BCJ2, Zstandard, Deflate64, ARM64 ...) are reported, naming the coder and the
members, and their members are not returned.

A folder (a solid block) is decoded once, front to back, as its members are read in order;
only the folder being read is kept open. Every byte decoded, skipped ones included, is spent
from the :class:`Budget`, and the folder's output is held to ``limits.max_ratio`` against the
packed bytes read. Counts in the header are checked against the bytes that could hold them
before anything is allocated.
"""

from __future__ import annotations

import bz2
import dataclasses
import lzma
import stat
import struct
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO, Protocol

from ssdf_ai.findings import Finding
from ssdf_ai.scan import rules
from ssdf_ai.scan._types import MIB, Budget, LimitExceeded, Member
from ssdf_ai.scan.containers import (
    _CHUNK,
    _CODEC_ERRORS,
    _RATIO_GRACE,
    _STEP,
    MemberReadError,
    _Decoder,
    _Findings,
    _member_address,
    _read_at,
    _ZlibDecoder,
    display_name,
    unsafe_name_reasons,
)

__all__ = ["sevenz_members"]

MAGIC = b"7z\xbc\xaf\x27\x1c"
_SIGNATURE = struct.Struct("<6sBBIQQI")  # magic, version, start header CRC, next header
_SIG_SIZE = _SIGNATURE.size  # 32

# Property ids (7-Zip's DOC/7zFormat.txt).
_END, _HEADER, _ARCHIVE_PROPERTIES, _ADDITIONAL_STREAMS, _MAIN_STREAMS, _FILES_INFO = range(6)
_PACK_INFO, _UNPACK_INFO, _SUBSTREAMS_INFO, _SIZE, _CRC, _FOLDER = range(6, 12)
_CODERS_UNPACK_SIZE, _NUM_UNPACK_STREAM, _EMPTY_STREAM, _EMPTY_FILE, _ANTI, _NAME = range(12, 18)
_WIN_ATTRIBUTES = 21
_ENCODED_HEADER = 23

_MAX_CODERS = 64  # per folder, as in 7-Zip
_MAX_CODER_STREAMS = 64
_MAX_ENCODED_HEADERS = 4  # an encoded header that decodes to another encoded header ...
_MAX_NAMES_LISTED = 10
_MAX_GAP_SCAN = 16 * MIB
_LZMA2_CHUNK = 1 << 16  # largest LZMA2 uncompressed chunk
_MIN_DICT = 1 << 12

_ATTR_UNIX_EXTENSION = 0x8000

_COPY, _LZMA, _LZMA2, _DEFLATE, _BZIP2 = "Copy", "LZMA", "LZMA2", "Deflate", "BZip2"
_AES = "AES-256"

# Coders the scanner decodes; each filter maps to its liblzma filter id.
_FILTERS: dict[bytes, tuple[str, int]] = {
    b"\x03": ("Delta", lzma.FILTER_DELTA),
    b"\x03\x03\x01\x03": ("BCJ x86", lzma.FILTER_X86),
    b"\x04": ("BCJ x86", lzma.FILTER_X86),
    b"\x03\x03\x02\x05": ("BCJ PowerPC", lzma.FILTER_POWERPC),
    b"\x05": ("BCJ PowerPC", lzma.FILTER_POWERPC),
    b"\x03\x03\x04\x01": ("BCJ IA-64", lzma.FILTER_IA64),
    b"\x06": ("BCJ IA-64", lzma.FILTER_IA64),
    b"\x03\x03\x05\x01": ("BCJ ARM", lzma.FILTER_ARM),
    b"\x07": ("BCJ ARM", lzma.FILTER_ARM),
    b"\x03\x03\x07\x01": ("BCJ ARM-Thumb", lzma.FILTER_ARMTHUMB),
    b"\x08": ("BCJ ARM-Thumb", lzma.FILTER_ARMTHUMB),
    b"\x03\x03\x08\x05": ("BCJ SPARC", lzma.FILTER_SPARC),
    b"\x09": ("BCJ SPARC", lzma.FILTER_SPARC),
}
_CODECS: dict[bytes, str] = {
    b"\x00": _COPY,
    b"\x03\x01\x01": _LZMA,
    b"\x21": _LZMA2,
    b"\x04\x01\x08": _DEFLATE,
    b"\x04\x02\x02": _BZIP2,
}
# Coders recognised but not decoded, named in findings.
_OTHER_CODERS: dict[bytes, str] = {
    b"\x06\xf1\x07\x01": _AES,
    b"\x03\x04\x01": "PPMd",
    b"\x03\x03\x01\x1b": "BCJ2",
    b"\x04\x01\x09": "Deflate64",
    b"\x04\xf7\x11\x01": "Zstandard",
    b"\x04\xf7\x11\x02": "Brotli",
    b"\x04\xf7\x11\x04": "LZ4",
    b"\x0a": "BCJ ARM64",
    b"\x0b": "BCJ RISC-V",
    b"\x06\xf1\x01\x01": "ZipCrypto",
    b"\x06\xf1\x03\x03": "RAR 2.9 AES",
}


def _coder_name(method: bytes) -> str:
    if method in _CODECS:
        return _CODECS[method]
    if method in _FILTERS:
        return _FILTERS[method][0]
    return _OTHER_CODERS.get(method, f"coder {method.hex() or '(empty id)'}")


class _HeaderError(Exception):
    """The 7z header breaks the format."""


class _Unsupported(Exception):  # noqa: N818 - a reason, reported as a finding
    """A folder the scanner cannot decode (encrypted, or an unsupported coder)."""

    def __init__(self, reason: str, *, encrypted: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.encrypted = encrypted


# --------------------------------------------------------------------------------------------
# header structures


class _Buf:
    """A cursor over header bytes; every read is bounds-checked."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    @property
    def left(self) -> int:
        return len(self.data) - self.pos

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise _HeaderError("the header ends early")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def take(self, n: int) -> bytes:
        if n < 0 or n > self.left:
            raise _HeaderError(f"a field of {n} bytes runs past the end of the header")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u32(self) -> int:
        value: int = struct.unpack("<I", self.take(4))[0]
        return value

    def number(self) -> int:
        """7z's variable-length UINT64: leading 1-bits of the first byte count extra bytes."""
        first = self.byte()
        mask = 0x80
        value = 0
        for i in range(8):
            if not first & mask:
                return value | ((first & (mask - 1)) << (8 * i))
            value |= self.byte() << (8 * i)
            mask >>= 1
        return value

    def count(self, what: str, most: int) -> int:
        """A count that must not pass ``most`` (what the remaining bytes could describe)."""
        n = self.number()
        if n > most:
            raise _HeaderError(f"the header declares {n} {what}, more than it could describe")
        return n

    def bits(self, n: int) -> list[bool]:
        raw = self.take((n + 7) // 8)
        return [bool(raw[i >> 3] & (0x80 >> (i & 7))) for i in range(n)]

    def digests(self, n: int) -> list[int | None]:
        all_defined = self.byte()
        defined = [True] * n if all_defined else self.bits(n)
        raw = self.take(4 * sum(defined))
        values = iter(struct.unpack(f"<{len(raw) // 4}I", raw))
        return [next(values) if d else None for d in defined]

    def expect(self, prop: int, where: str) -> None:
        found = self.byte()
        if found != prop:
            raise _HeaderError(f"property {found} where {where} expected property {prop}")


@dataclasses.dataclass
class _Coder:
    method: bytes
    num_in: int
    num_out: int
    props: bytes


@dataclasses.dataclass
class _Folder:
    coders: list[_Coder]
    bind_pairs: list[tuple[int, int]]  # (coder input stream, coder output stream)
    packed: list[int]  # coder input streams fed from packed streams, in pack order
    unpack_sizes: list[int] = dataclasses.field(default_factory=list)  # per output stream
    crc: int | None = None

    @property
    def main_out(self) -> int:
        bound = {out for _, out in self.bind_pairs}
        return next(i for i in range(len(self.unpack_sizes)) if i not in bound)

    @property
    def size(self) -> int:
        return self.unpack_sizes[self.main_out]

    def names(self) -> str:
        return " + ".join(_coder_name(c.method) for c in self.coders)


@dataclasses.dataclass
class _Streams:
    pack_pos: int = 0
    pack_sizes: list[int] = dataclasses.field(default_factory=list)
    folders: list[_Folder] = dataclasses.field(default_factory=list)
    # Per folder: (size, crc) of each of its substreams (the files' data, back to back).
    substreams: list[list[tuple[int, int | None]]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _File:
    name: str
    has_stream: bool = True
    is_dir: bool = False
    is_anti: bool = False
    attributes: int | None = None


def _read_pack_info(buf: _Buf, streams: _Streams) -> None:
    streams.pack_pos = buf.number()
    count = buf.count("packed streams", buf.left)
    while True:
        prop = buf.byte()
        if prop == _END:
            break
        if prop == _SIZE:
            streams.pack_sizes = [buf.number() for _ in range(count)]
        elif prop == _CRC:
            buf.digests(count)
        else:
            raise _HeaderError(f"unexpected property {prop} in the pack info")
    if len(streams.pack_sizes) != count:
        raise _HeaderError("the pack info gives no sizes")


def _read_folder(buf: _Buf) -> _Folder:
    num_coders = buf.count("coders in a folder", _MAX_CODERS)
    if num_coders == 0:
        raise _HeaderError("a folder without coders")
    coders: list[_Coder] = []
    for _ in range(num_coders):
        flags = buf.byte()
        if flags & 0xC0:
            raise _HeaderError(f"coder flags {flags:#04x} (alternative methods) are not defined")
        method = buf.take(flags & 0x0F)
        num_in = num_out = 1
        if flags & 0x10:
            num_in = buf.count("coder input streams", _MAX_CODER_STREAMS)
            num_out = buf.count("coder output streams", _MAX_CODER_STREAMS)
        props = buf.take(buf.count("bytes of coder properties", buf.left)) if flags & 0x20 else b""
        coders.append(_Coder(method, num_in, num_out, props))
    total_in = sum(c.num_in for c in coders)
    total_out = sum(c.num_out for c in coders)
    if total_out == 0:
        raise _HeaderError("a folder whose coders have no output")
    pairs: list[tuple[int, int]] = []
    for _ in range(total_out - 1):
        in_index, out_index = buf.number(), buf.number()
        if in_index >= total_in or out_index >= total_out:
            raise _HeaderError("a folder binds a stream that does not exist")
        pairs.append((in_index, out_index))
    if len({i for i, _ in pairs}) != len(pairs) or len({o for _, o in pairs}) != len(pairs):
        raise _HeaderError("a folder binds one stream twice")
    num_packed = total_in - len(pairs)
    if num_packed < 1:
        raise _HeaderError("a folder with no packed stream")
    if num_packed == 1:
        bound_in = {i for i, _ in pairs}
        packed = [i for i in range(total_in) if i not in bound_in]
    else:
        packed = [buf.number() for _ in range(num_packed)]
        if any(p >= total_in for p in packed):
            raise _HeaderError("a folder reads a packed stream into an input that does not exist")
    return _Folder(coders, pairs, packed)


def _read_unpack_info(buf: _Buf, streams: _Streams) -> None:
    buf.expect(_FOLDER, "the unpack info")
    count = buf.count("folders", buf.left // 2)
    if buf.byte() != 0:
        raise _HeaderError("folders stored outside the header are not supported")
    streams.folders = [_read_folder(buf) for _ in range(count)]
    buf.expect(_CODERS_UNPACK_SIZE, "the unpack info")
    for folder in streams.folders:
        total_out = sum(c.num_out for c in folder.coders)
        folder.unpack_sizes = [buf.number() for _ in range(total_out)]
    while True:
        prop = buf.byte()
        if prop == _END:
            break
        if prop == _CRC:
            for folder, crc in zip(streams.folders, buf.digests(count), strict=True):
                folder.crc = crc
        else:
            raise _HeaderError(f"unexpected property {prop} in the unpack info")


def _read_substreams(buf: _Buf, streams: _Streams, budget: Budget) -> None:
    folders = streams.folders
    counts = [1] * len(folders)
    sizes: list[list[int]] | None = None
    digests: list[int | None] | None = None
    while True:
        prop = buf.byte()
        if prop == _END:
            break
        if prop == _NUM_UNPACK_STREAM:
            room = budget.limits.max_members - budget.members
            counts = [buf.count("substreams in a folder", buf.left + 1) for _ in folders]
            if sum(counts) > room:
                raise LimitExceeded(
                    f"a 7z header declares {sum(counts)} streams, more than max_members "
                    f"({budget.limits.max_members})"
                )
        elif prop == _SIZE:
            sizes = []
            for folder, n in zip(folders, counts, strict=True):
                parts = [buf.number() for _ in range(max(n - 1, 0))]
                rest = folder.size - sum(parts)
                if rest < 0:
                    raise _HeaderError("substream sizes add up to more than their folder")
                sizes.append([*parts, rest] if n else [])
        elif prop == _CRC:
            unknown = sum(n for f, n in zip(folders, counts, strict=True) if not _inherits(f, n))
            digests = buf.digests(unknown)
        else:
            raise _HeaderError(f"unexpected property {prop} in the substreams info")
    if sizes is None:
        if any(n > 1 for n in counts):
            raise _HeaderError("a folder holds several files but their sizes are not given")
        sizes = [[f.size] * n for f, n in zip(folders, counts, strict=True)]
    pending = iter(digests or [])
    streams.substreams = []
    for folder, n, folder_sizes in zip(folders, counts, sizes, strict=True):
        if _inherits(folder, n):
            crcs: list[int | None] = [folder.crc]
        else:
            crcs = [next(pending, None) if digests is not None else None for _ in range(n)]
        streams.substreams.append(list(zip(folder_sizes, crcs, strict=True)))


def _inherits(folder: _Folder, n: int) -> bool:
    """A folder's single substream has the folder's CRC."""
    return n == 1 and folder.crc is not None


def _read_streams(buf: _Buf, budget: Budget) -> _Streams:
    streams = _Streams()
    seen_substreams = False
    while True:
        prop = buf.byte()
        if prop == _END:
            break
        if prop == _PACK_INFO:
            _read_pack_info(buf, streams)
        elif prop == _UNPACK_INFO:
            _read_unpack_info(buf, streams)
        elif prop == _SUBSTREAMS_INFO:
            _read_substreams(buf, streams, budget)
            seen_substreams = True
        else:
            raise _HeaderError(f"unexpected property {prop} in the streams info")
    if not seen_substreams:
        streams.substreams = [[(f.size, f.crc)] for f in streams.folders]
    return streams


def _skip_properties(buf: _Buf) -> None:
    while buf.byte() != 0:
        buf.take(buf.count("bytes of an archive property", buf.left))


def _read_files(buf: _Buf, budget: Budget, streams_total: int) -> list[_File]:
    count = buf.count("files", streams_total + 8 * buf.left)
    room = budget.limits.max_members - budget.members
    if count > room:
        raise LimitExceeded(
            f"a 7z header declares {count} files, more than max_members "
            f"({budget.limits.max_members})"
        )
    empty_stream: list[bool] = [False] * count
    num_empty = 0
    empty_file: list[bool] = []
    anti: list[bool] = []
    names: list[str] = []
    attributes: list[int | None] = []
    while True:
        prop = buf.byte()
        if prop == _END:
            break
        body = _Buf(buf.take(buf.count("bytes of a file property", buf.left)))
        if prop == _EMPTY_STREAM:
            empty_stream = body.bits(count)
            num_empty = sum(empty_stream)
        elif prop == _EMPTY_FILE:
            empty_file = body.bits(num_empty)
        elif prop == _ANTI:
            anti = body.bits(num_empty)
        elif prop == _NAME:
            if body.byte() != 0:
                raise _HeaderError("file names stored outside the header are not supported")
            raw = body.take(body.left)
            if len(raw) % 2:
                raise _HeaderError("the file names are not UTF-16")
            names = raw.decode("utf-16-le", "replace").split("\x00")
            if len(names) <= count or names[count:] != [""]:
                raise _HeaderError(f"the header lists {len(names) - 1} names for {count} files")
            names = names[:count]
        elif prop == _WIN_ATTRIBUTES:
            defined = [True] * count if body.byte() else body.bits(count)
            if body.byte() != 0:
                raise _HeaderError("attributes stored outside the header are not supported")
            attributes = [body.u32() if d else None for d in defined]
        # Times, start positions, comments and padding carry nothing the scan needs.
    files: list[_File] = []
    empty_index = 0
    for i in range(count):
        budget.spend_member()
        item = _File(name=names[i] if names else "")
        item.attributes = attributes[i] if attributes else None
        if empty_stream[i]:
            item.has_stream = False
            is_file = empty_index < len(empty_file) and empty_file[empty_index]
            item.is_anti = empty_index < len(anti) and anti[empty_index]
            item.is_dir = not is_file
            empty_index += 1
        files.append(item)
    return files


@dataclasses.dataclass
class _Header:
    streams: _Streams
    files: list[_File]


def _read_header(buf: _Buf, budget: Budget) -> _Header:
    streams = _Streams()
    files: list[_File] = []
    while True:
        prop = buf.byte()
        if prop == _END:
            break
        if prop == _ARCHIVE_PROPERTIES:
            _skip_properties(buf)
        elif prop == _ADDITIONAL_STREAMS:
            _read_streams(buf, budget)  # only for external data, which is not supported
        elif prop == _MAIN_STREAMS:
            streams = _read_streams(buf, budget)
        elif prop == _FILES_INFO:
            files = _read_files(buf, budget, sum(len(s) for s in streams.substreams))
        else:
            raise _HeaderError(f"unexpected property {prop} in the header")
    return _Header(streams, files)


# --------------------------------------------------------------------------------------------
# decoding


class _Source(Protocol):
    def read(self, n: int) -> bytes: ...


class _Stage(_Source, Protocol):
    error: str | None


class _Packed:
    """A folder's packed bytes, read from the archive as they are needed."""

    def __init__(self, f: BinaryIO, offset: int, size: int, budget: Budget) -> None:
        self._f = f
        self._pos = offset
        self._left = size
        self._budget = budget
        self.fed = 0

    def read(self, n: int) -> bytes:
        n = min(n, self._left)
        if n <= 0:
            return b""
        self._budget.check_time()  # a decoder may eat much input for little output
        data = _read_at(self._f, self._pos, n)
        self._pos += len(data)
        self._left = self._left - len(data) if data else 0
        self.fed += len(data)
        return data


class _Cut:
    """A coder that copies (7z "Copy"): its input, cut at its declared size."""

    def __init__(self, source: _Source, size: int) -> None:
        self._source = source
        self._left = size
        self.error: str | None = None

    def read(self, n: int) -> bytes:
        data = self._source.read(min(n, self._left)) if self._left > 0 else b""
        self._left -= len(data)
        return data


class _Decoded:
    """One coder's output: ``make()`` decoding ``source``, cut at the coder's declared size.

    An LZMA stream in 7z usually has no end marker: decoding stops at the declared size.
    Errors are recorded in :attr:`error` and end the output.
    """

    def __init__(
        self,
        source: _Source,
        make: Callable[[], _Decoder],
        size: int,
        what: str,
        *,
        multistream: bool = False,
    ) -> None:
        self._source = source
        self._make = make
        self._left = size
        self._what = what
        self._multistream = multistream
        self._pending = b""
        self._done = False
        self.error: str | None = None
        try:
            self._decoder = make()
        except (*_CODEC_ERRORS, MemoryError) as exc:
            self._decoder = _Ended()
            self.error = f"the {what} decoder cannot be set up ({type(exc).__name__}: {exc})"
            self._done = True

    def read(self, n: int) -> bytes:
        n = min(n, self._left)
        idle = 0
        while not self._done and n > 0:
            decoder = self._decoder
            if decoder.eof:
                rest = self._pending + decoder.unused_data
                if not (self._multistream and rest):
                    self._done = True
                    break
                self._decoder = decoder = self._make()  # bzip2 streams written back to back
                self._pending = rest
            data = b""
            if decoder.needs_input:
                data, self._pending = self._pending, b""
                if not data:
                    data = self._source.read(_CHUNK)
                if not data:
                    self._done = True
                    break
            try:
                out = decoder.decompress(data, n)
            except _CODEC_ERRORS as exc:
                self.error = f"corrupt {self._what} data ({type(exc).__name__}: {exc})"
                self._done = True
                break
            if out:
                self._left -= len(out)
                return out
            idle = 0 if data else idle + 1
            if idle > 2:  # the decoder asks for nothing and produces nothing
                self._done = True
        return b""


class _Ended:
    """A decoder that has nothing to give (one that could not be set up)."""

    eof = True
    needs_input = False
    unused_data = b""

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        return b""


class _Lzma2Framed:
    """Bytes framed as LZMA2 uncompressed chunks, so that liblzma's BCJ and Delta filters
    (which must be followed by LZMA or LZMA2) can run over any coder's output."""

    def __init__(self, source: _Source) -> None:
        self._source = source
        self._first = True
        self._ended = False

    def read(self, n: int) -> bytes:
        if self._ended:
            return b""
        data = self._source.read(min(n, _LZMA2_CHUNK))
        if not data:
            self._ended = True
            return b"\x00"  # end of the LZMA2 stream: the filters flush
        control = 1 if self._first else 2  # uncompressed chunk, (1: with dictionary reset)
        self._first = False
        return bytes((control,)) + (len(data) - 1).to_bytes(2, "big") + data


def _filter_spec(coder: _Coder) -> dict[str, Any]:
    name, filter_id = _FILTERS[coder.method]
    props = coder.props
    if filter_id == lzma.FILTER_DELTA:
        if len(props) != 1:
            raise _Unsupported(f"Delta with {len(props)} bytes of properties")
        return {"id": filter_id, "dist": props[0] + 1}
    if len(props) == 0:
        return {"id": filter_id}
    if len(props) == 4:
        return {"id": filter_id, "start_offset": struct.unpack("<I", props)[0]}
    raise _Unsupported(f"{name} with {len(props)} bytes of properties")


def _lzma_spec(coder: _Coder, out_size: int) -> dict[str, Any]:
    """LZMA/LZMA2 filter options; the dictionary is never larger than the output needs."""
    props = coder.props
    need = max(out_size, _MIN_DICT)
    if _CODECS[coder.method] == _LZMA2:
        if len(props) != 1 or props[0] > 40:
            raise _HeaderError(f"invalid LZMA2 properties {props.hex()}")
        code = props[0]
        dict_size = 0xFFFFFFFF if code == 40 else (2 | (code & 1)) << (code // 2 + 11)
        return {"id": lzma.FILTER_LZMA2, "dict_size": max(min(dict_size, need), _MIN_DICT)}
    if len(props) != 5 or props[0] >= 9 * 5 * 5:
        raise _HeaderError(f"invalid LZMA properties {props.hex()}")
    d = props[0]
    if d % 9 + (d // 9) % 5 > 4:
        raise _Unsupported(f"LZMA with lc + lp = {d % 9 + (d // 9) % 5} (liblzma decodes up to 4)")
    (dict_size,) = struct.unpack("<I", props[1:])
    return {
        "id": lzma.FILTER_LZMA1,
        "lc": d % 9,
        "lp": (d // 9) % 5,
        "pb": d // 45,
        "dict_size": max(min(dict_size, need), _MIN_DICT),
    }


def _raw(filters: list[dict[str, Any]]) -> Callable[[], _Decoder]:
    def make() -> _Decoder:
        return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters)

    return make


def _chain(folder: _Folder) -> list[tuple[_Coder, int]]:
    """The folder's coders in decoding order (packed side first), with each one's output size.

    Raises:
        _Unsupported: Encryption, a coder the scanner does not decode, or a coder graph that
            is not a single chain.
    """
    coders = folder.coders
    for coder in coders:
        if _coder_name(coder.method) == _AES:
            raise _Unsupported(f"encrypted ({folder.names()})", encrypted=True)
    for coder in coders:
        if coder.method not in _CODECS and coder.method not in _FILTERS:
            name = _coder_name(coder.method)
            chain = f" (coders {folder.names()})" if len(coders) > 1 else ""
            raise _Unsupported(f"compressed with {name}{chain}")
    if any(c.num_in != 1 or c.num_out != 1 for c in coders) or len(folder.packed) != 1:
        raise _Unsupported(f"a coder graph that is not a chain ({folder.names()})")
    # With one input and one output per coder, stream i is coder i's on both sides.
    feeds = dict(folder.bind_pairs)  # input stream -> the output stream that feeds it
    order = [folder.main_out]
    while order[-1] in feeds and len(order) <= len(coders):
        order.append(feeds[order[-1]])
    if len(order) != len(coders) or order[-1] != folder.packed[0]:
        raise _HeaderError(f"the coders of a folder do not form one chain ({folder.names()})")
    return [(coders[i], folder.unpack_sizes[i]) for i in reversed(order)]


def _filter_run(chain: list[tuple[_Coder, int]], start: int, most: int) -> int:
    """How many filters (at most ``most``) follow one another in ``chain`` from ``start``."""
    end = start
    while end < len(chain) and end - start < most and chain[end][0].method in _FILTERS:
        end += 1
    return end - start


def _pipeline(chain: list[tuple[_Coder, int]], packed: _Packed) -> tuple[_Source, list[_Stage]]:
    """Stack the decoders of a chain over its packed bytes; return the output and the stages."""
    stream: _Source = packed
    stages: list[_Stage] = []
    i = 0
    while i < len(chain):
        coder, size = chain[i]
        codec = _CODECS.get(coder.method)
        stage: _Stage
        if codec is None:
            # Filters (liblzma takes three before its LZMA2) over bytes framed as LZMA2.
            group = chain[i : i + _filter_run(chain, i, 3)]
            filters = [_filter_spec(c) for c, _ in reversed(group)]
            filters.append({"id": lzma.FILTER_LZMA2, "dict_size": _MIN_DICT})
            what = " + ".join(_FILTERS[c.method][0] for c, _ in group)
            stage = _Decoded(_Lzma2Framed(stream), _raw(filters), group[-1][1], what)
        elif codec == _LZMA2:
            # LZMA2 ends with an end marker, so the filters after it join its chain.
            group = chain[i : i + 1 + _filter_run(chain, i + 1, 3)]
            filters = [_filter_spec(c) for c, _ in reversed(group[1:])]
            filters.append(_lzma_spec(coder, size))
            what = " + ".join(_coder_name(c.method) for c, _ in group)
            stage = _Decoded(stream, _raw(filters), group[-1][1], what)
        else:
            group = chain[i : i + 1]
            if codec == _COPY:
                stage = _Cut(stream, size)
            elif codec == _LZMA:
                stage = _Decoded(stream, _raw([_lzma_spec(coder, size)]), size, codec)
            elif codec == _DEFLATE:
                stage = _Decoded(stream, lambda: _ZlibDecoder(-zlib.MAX_WBITS), size, codec)
            else:
                stage = _Decoded(stream, bz2.BZ2Decompressor, size, codec, multistream=True)
        i += len(group)
        stages.append(stage)
        stream = stage
    return stream, stages


@dataclasses.dataclass
class _Plan:
    """How to decode one folder: where its packed bytes are, and its coders in order."""

    index: int
    offset: int
    packed_size: int
    size: int
    chain: list[tuple[_Coder, int]]
    crc: int | None


class _FolderReader:
    """A folder decoded front to back; bytes are served (or skipped) in order."""

    def __init__(self, f: BinaryIO, plan: _Plan, budget: Budget) -> None:
        self.plan = plan
        self.pos = 0
        self._budget = budget
        self._packed = _Packed(f, plan.offset, plan.packed_size, budget)
        self._out, self._stages = _pipeline(plan.chain, self._packed)

    def take(self, n: int, *, keep: bool) -> tuple[bytearray, str | None]:
        """Decode the next ``n`` bytes (kept or skipped); a problem ends them early."""
        buf = bytearray()
        got = 0
        ratio = self._budget.limits.max_ratio
        while got < n:
            self._budget.check_time()
            piece = self._out.read(min(_STEP, n - got))
            if not piece:
                return buf, self._problem()
            got += len(piece)
            self.pos += len(piece)
            self._budget.spend_bytes(len(piece))
            if keep:
                buf += piece
            fed = self._packed.fed
            if self.pos > _RATIO_GRACE and self.pos > ratio * max(fed, 1):
                raise LimitExceeded(
                    f"compression ratio above {ratio}:1 ({self.pos} bytes from {fed})"
                )
        return buf, None

    def _problem(self) -> str:
        for stage in self._stages:
            if stage.error is not None:
                return str(stage.error)
        return (
            f"the folder's data ends after {self.pos} of its {self.plan.size} bytes "
            "(truncated or corrupt archive)"
        )


class _Reader:
    """Serves members' bytes, keeping only the folder being read open."""

    def __init__(self, f: BinaryIO, budget: Budget) -> None:
        self._f = f
        self._budget = budget
        self._current: _FolderReader | None = None

    def read(self, plan: _Plan, start: int, size: int) -> tuple[bytes, str | None]:
        reader = self._current
        if reader is None or reader.plan.index != plan.index or reader.pos > start:
            reader = self._current = _FolderReader(self._f, plan, self._budget)
        _, problem = reader.take(start - reader.pos, keep=False)
        if problem is not None:
            return b"", problem
        data, problem = reader.take(size, keep=True)
        if reader.pos >= plan.size:
            self._current = None  # the folder is done: let its decoder go
        return bytes(data), problem


# --------------------------------------------------------------------------------------------
# listing


def sevenz_members(
    f: BinaryIO, size: int, *, path: str, budget: Budget
) -> tuple[list[Member], list[Finding]]:
    """List a 7z archive's files; report what cannot be read, unsafe names and odd types.

    Nothing is extracted. Directories, empty files and anti-items are not members. Symbolic
    links and devices (Unix modes stored by p7zip and py7zr) are reported (``SSDF-SCAN-007``)
    and not returned. Members of an encrypted folder are reported ``SSDF-SCAN-004``, as are
    members compressed with a coder the scanner does not decode; a corrupt header is
    ``SSDF-SCAN-003`` and nothing is returned.

    ``Member.read()`` decodes the member's folder up to and through the member (a solid folder
    is decoded once when its members are read in order), within the budget and the ratio
    limit. It raises :class:`LimitExceeded` when the member's size passes
    ``limits.max_member_bytes`` or a limit is hit, and :class:`MemberReadError` (with the
    bytes read) on corrupt or truncated data or a CRC-32 mismatch.

    Args:
        f: The archive, seekable, starting at offset 0.
        size: Its size in bytes.
        path: The file, for findings.
        budget: The top-level file's budget.

    Returns:
        The members and the findings: ``SSDF-SCAN-003`` (corrupt or truncated headers, header
        CRC mismatches, data outside every stream, streams that belong to no file),
        ``SSDF-SCAN-004`` (encrypted folders or headers, unsupported coders),
        ``SSDF-SCAN-007`` (unsafe names, links, devices).

    Raises:
        LimitExceeded: A header larger than ``limits.max_header_bytes``, more files or
            streams than ``limits.max_members``, an encoded header past the ratio limit, or
            the time limit.
    """
    out = _Findings(path)
    f.seek(0)
    start = f.read(_SIG_SIZE)
    if len(start) < _SIG_SIZE or not start.startswith(MAGIC):
        out.add("unparseable", rules.UNPARSEABLE, "not a 7z archive (truncated signature header)")
        return [], out.done()
    _, major, minor, start_crc, next_offset, next_size, next_crc = _SIGNATURE.unpack(start)
    if major != 0 or zlib.crc32(start[12:]) != start_crc:
        problem = (
            f"unknown 7z format version {major}.{minor}"
            if major != 0
            else "the signature header's CRC does not match"
        )
        out.add(
            "unparseable",
            rules.UNPARSEABLE,
            f"corrupt 7z archive: {problem}; its content was not checked",
            address="offset 0",
        )
        return [], out.done()
    header_start = _SIG_SIZE + next_offset
    if next_size == 0:  # an empty archive
        _check_gaps(f, size, [], out)
        return [], out.done()
    if next_size > budget.limits.max_header_bytes:
        raise LimitExceeded(f"a 7z header of {next_size} bytes")
    if header_start + next_size > size:
        out.add(
            "unparseable",
            rules.UNPARSEABLE,
            f"the 7z header (offset {header_start}, {next_size} bytes) lies past the end of "
            "the file (truncated archive); its content was not checked",
        )
        return [], out.done()
    raw = _read_at(f, header_start, next_size)
    if zlib.crc32(raw) != next_crc:
        out.add(
            "crc",
            rules.UNPARSEABLE,
            "the 7z header's CRC does not match: the archive is corrupt or was altered; the "
            "header was read anyway",
            address=f"offset {header_start}",
        )
    covered = [(header_start, header_start + next_size)]
    try:
        header = _decode_header(f, size, raw, budget, out, covered)
        if header is None:
            return [], out.done()
        plans = _plans(header.streams, size)
    except _HeaderError as exc:
        out.add(
            "unparseable",
            rules.UNPARSEABLE,
            f"corrupt 7z header: {exc}; the content was not checked",
            address=f"offset {header_start}",
        )
        return [], out.done()
    except _Unsupported as exc:
        what = "encrypted" if exc.encrypted else f"{exc.reason}, which the scanner cannot decode"
        out.add(
            "header",
            rules.NOT_SCANNED,
            f"the 7z archive's header is {what}: its file list and content were not checked",
        )
        return [], out.done()
    covered.append(_pack_range(header.streams))
    members = _members(f, header, plans, budget, path, out)
    _check_gaps(f, size, covered, out)
    return members, out.done()


def _pack_range(streams: _Streams) -> tuple[int, int]:
    start = _SIG_SIZE + streams.pack_pos
    return start, start + sum(streams.pack_sizes)


def _decode_header(
    f: BinaryIO,
    size: int,
    raw: bytes,
    budget: Budget,
    out: _Findings,
    covered: list[tuple[int, int]],
) -> _Header | None:
    """Parse the header, expanding encoded headers; ``None`` when one cannot be expanded."""
    for _ in range(_MAX_ENCODED_HEADERS):
        budget.check_time()
        buf = _Buf(raw)
        kind = buf.byte()
        if kind == _HEADER:
            return _read_header(buf, budget)
        if kind != _ENCODED_HEADER:
            raise _HeaderError(f"it starts with property {kind}, not a header")
        streams = _read_streams(buf, budget)
        if not streams.folders:
            raise _HeaderError("an encoded header without a folder")
        covered.append(_pack_range(streams))
        plan = _plans(streams, size)[0]
        if isinstance(plan, str):
            raise _HeaderError(f"the encoded header's {plan}")
        if isinstance(plan, _Unsupported):
            raise plan
        if plan.size > budget.limits.max_header_bytes:
            raise LimitExceeded(f"a 7z header that expands to {plan.size} bytes")
        data, problem = _Reader(f, budget).read(plan, 0, plan.size)
        if problem is not None:
            out.add(
                "unparseable",
                rules.UNPARSEABLE,
                f"the encoded 7z header cannot be expanded: {problem}; the content was not checked",
                address=f"offset {plan.offset}",
            )
            return None
        if plan.crc is not None and zlib.crc32(data) != plan.crc:
            out.add(
                "crc",
                rules.UNPARSEABLE,
                "the encoded 7z header's CRC does not match: the archive is corrupt or was "
                "altered; the header was read anyway",
                address=f"offset {plan.offset}",
            )
        raw = data
    raise _HeaderError(f"more than {_MAX_ENCODED_HEADERS} nested encoded headers")


def _plans(streams: _Streams, size: int) -> list[_Plan | _Unsupported | str]:
    """Each folder's plan, or why it cannot be decoded (``str``: its data is missing)."""
    plans: list[_Plan | _Unsupported | str] = []
    pack_index = 0
    offset = _SIG_SIZE + streams.pack_pos
    for index, folder in enumerate(streams.folders):
        count = len(folder.packed)
        if pack_index + count > len(streams.pack_sizes):
            raise _HeaderError("folders use more packed streams than the archive lists")
        first = offset
        offset += sum(streams.pack_sizes[pack_index : pack_index + count])
        pack_index += count
        try:
            chain = _chain(folder)
            for coder, out_size in chain:  # properties are checked before anything is read
                if coder.method in _FILTERS:
                    _filter_spec(coder)
                elif _CODECS[coder.method] in (_LZMA, _LZMA2):
                    _lzma_spec(coder, out_size)
        except _Unsupported as exc:
            plans.append(exc)
            continue
        except _HeaderError as exc:
            plans.append(f"coders cannot be set up: {exc}")
            continue
        if offset > size:
            plans.append(
                f"data (offset {first}, {offset - first} bytes) runs past the end of the file "
                "(truncated archive)"
            )
            continue
        plans.append(_Plan(index, first, offset - first, folder.size, chain, folder.crc))
    return plans


def _members(
    f: BinaryIO,
    header: _Header,
    plans: list[_Plan | _Unsupported | str],
    budget: Budget,
    path: str,
    out: _Findings,
) -> list[Member]:
    # Where each file's data is, in order: (folder index, offset in the folder, size, crc).
    slots: list[tuple[int, int, int, int | None]] = []
    for index, subs in enumerate(header.streams.substreams):
        at = 0
        for sub_size, crc in subs:
            slots.append((index, at, sub_size, crc))
            at += sub_size
    reader = _Reader(f, budget)
    members: list[Member] = []
    unread: dict[str, list[str]] = {}
    kinds: dict[str, _Unsupported | None] = {}
    next_slot = 0
    for item in header.files:
        shown = _check_name(item, out)
        if not item.has_stream:
            continue  # a directory, an empty file or an anti-item: nothing to scan
        if next_slot >= len(slots):
            out.add(
                "unreadable",
                rules.UNPARSEABLE,
                f"member {shown!r} has no data stream in the archive (corrupt header); it was "
                "not checked",
                address=_member_address(shown),
            )
            continue
        index, start, length, crc = slots[next_slot]
        next_slot += 1
        if _is_special(item, shown, out):
            continue
        plan = plans[index]
        if isinstance(plan, _Plan):
            members.append(_member(reader, plan, start, length, crc, shown, budget, path))
            continue
        reason = plan if isinstance(plan, str) else plan.reason
        unread.setdefault(reason, []).append(shown)
        kinds[reason] = plan if isinstance(plan, _Unsupported) else None
    if next_slot < len(slots):
        out.add(
            "unnamed",
            rules.UNPARSEABLE,
            f"{len(slots) - next_slot} data stream(s) belong to no file in the 7z header "
            "(hidden from extractors); they were not checked",
        )
    for reason, names in unread.items():
        listed = ", ".join(repr(n) for n in names[:_MAX_NAMES_LISTED])
        if len(names) > _MAX_NAMES_LISTED:
            listed += f" and {len(names) - _MAX_NAMES_LISTED} more"
        kind = kinds[reason]
        if kind is None:
            out.add(
                "unread",
                rules.UNPARSEABLE,
                f"a folder's {reason}; its {len(names)} member(s) were not checked: {listed}",
            )
        elif kind.encrypted:
            out.add(
                "unread",
                rules.NOT_SCANNED,
                f"{len(names)} member(s) are {reason}: {listed}; they could not be checked",
            )
        else:
            out.add(
                "unread",
                rules.NOT_SCANNED,
                f"{len(names)} member(s) are {reason}, which the scanner cannot decode: "
                f"{listed}; they were not checked",
            )
    return members


def _check_name(item: _File, out: _Findings) -> str:
    shown = display_name(item.name)
    reasons = unsafe_name_reasons(item.name)
    if reasons:
        out.add(
            "unsafe-name",
            rules.UNSAFE_MEMBER,
            f"member name {item.name!r} is unsafe ({', '.join(reasons)}); analysed as {shown!r}",
            address=_member_address(shown),
        )
    return shown


def _is_special(item: _File, shown: str, out: _Findings) -> bool:
    """Report links and devices (a Unix mode in the attributes); they are not returned."""
    attributes = item.attributes
    if attributes is None or not attributes & _ATTR_UNIX_EXTENSION:
        return False
    mode = attributes >> 16
    labels = {
        stat.S_IFLNK: "a symbolic link; it was not followed",
        stat.S_IFCHR: "a character device",
        stat.S_IFBLK: "a block device",
        stat.S_IFIFO: "a FIFO",
        stat.S_IFSOCK: "a socket",
    }
    label = labels.get(stat.S_IFMT(mode))
    if label is None:
        return False
    out.add(
        "unsafe-type",
        rules.UNSAFE_MEMBER,
        f"member {shown!r} is {label} (unix mode {mode:o})",
        address=_member_address(shown),
    )
    return True


def _member(
    reader: _Reader,
    plan: _Plan,
    start: int,
    length: int,
    crc: int | None,
    shown: str,
    budget: Budget,
    path: str,
) -> Member:
    def read() -> bytes:
        limit = budget.limits.max_member_bytes
        if length > limit:
            raise LimitExceeded(f"member {shown!r} declares {length} bytes, more than {limit}")
        data, problem = reader.read(plan, start, length)
        where = _member_address(shown)
        if problem is not None:
            raise MemberReadError(
                rules.finding(
                    rules.UNPARSEABLE,
                    f"member {shown!r}: {problem}; what follows was not checked",
                    path=path,
                    address=where,
                ),
                data or None,
            )
        actual = zlib.crc32(data)
        if crc is not None and actual != crc:
            raise MemberReadError(
                rules.finding(
                    rules.UNPARSEABLE,
                    f"member {shown!r}: CRC-32 {actual:#010x} does not match the archive's "
                    f"{crc:#010x}: the archive is corrupt or was altered (the bytes were "
                    "analysed as read)",
                    path=path,
                    address=where,
                ),
                data,
            )
        return data

    return Member(name=shown, offset=plan.offset, size=length, read=read)


def _check_gaps(f: BinaryIO, size: int, covered: list[tuple[int, int]], out: _Findings) -> None:
    """Report non-zero bytes that no stream and no header covers (hidden from extractors)."""
    reach = _SIG_SIZE
    gaps: list[tuple[int, int]] = []
    for start, end in sorted(covered):
        if start > reach:
            gaps.append((reach, min(start, size)))
        reach = max(reach, end)
    if reach < size:
        gaps.append((reach, size))
    left = _MAX_GAP_SCAN
    for start, end in gaps:
        if start >= end or left <= 0:
            continue
        length = min(end - start, left)
        left -= length
        if any(_read_at(f, start, length)) or end - start > length:
            out.add(
                "gap",
                rules.UNPARSEABLE,
                f"{end - start} bytes at offsets {start}-{end} are in no 7z stream or header "
                "(hidden from extractors); they were not checked",
                address=f"offset {start}",
            )
