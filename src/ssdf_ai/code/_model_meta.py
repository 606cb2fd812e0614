"""Reading the text a model file carries as metadata, by content, without loading the model.

Each reader returns ``(address, text)`` pairs, ``text`` written as ``"key": "value"`` so that the
keyed-token detector sees the name next to the value. Every length, count and size is checked
against the file's size and a fixed limit before anything is read; nothing is executed,
imported or unpickled. A file that breaks its format raises :class:`MetadataError`, which the
secret scan records as a file it could not scan.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import BinaryIO

# safetensors' own reader refuses headers over 100 MB (safetensors/src/tensor.rs MAX_HEADER_SIZE).
MAX_SAFETENSORS_HEADER = 100_000_000
MAX_STRING = 16 * 1024 * 1024  # one metadata string (chat templates run to a few hundred KiB)
MAX_TOTAL = 64 * 1024 * 1024  # all metadata text of one file
MAX_GGUF_KV = 1_000_000
MAX_GGUF_ELEMENTS = 50_000_000  # array elements walked (and skipped) in one file
# String elements are walked one by one (each has its own length): real vocabularies and merge
# lists hold a few hundred thousand.
MAX_GGUF_STRING_ELEMENTS = 2_000_000
MAX_ONNX_FIELDS = 1_000_000
MAX_KERAS_MEMBER = 16 * 1024 * 1024
KERAS_MEMBERS = ("config.json", "metadata.json")
MODEL_SUFFIXES = frozenset({".safetensors", ".gguf", ".onnx", ".keras"})

Metadata = list[tuple[str, str]]


class MetadataError(Exception):
    """The file breaks its format or a limit; the message says which (no secret in it)."""


def read_metadata(path: Path) -> Metadata:
    """The metadata text of the model file at ``path``, by its suffix.

    Raises:
        MetadataError: The file is malformed or over a limit.
    """
    suffix = path.suffix.lower()
    if suffix == ".keras":
        return keras_metadata(path)
    with path.open("rb") as f:
        size = path.stat().st_size
        if suffix == ".safetensors":
            return safetensors_metadata(f, size)
        if suffix == ".gguf":
            return gguf_metadata(f, size)
        if suffix == ".onnx":
            return onnx_metadata(f, size)
    raise MetadataError(f"not a model file suffix: {suffix}")


def _pair(key: str, value: str) -> str:
    return f"{json.dumps(key)}: {json.dumps(value)}"


def safetensors_metadata(f: BinaryIO, size: int) -> Metadata:
    """The ``__metadata__`` string map of a safetensors file (8-byte LE length + JSON header)."""
    head = f.read(8)
    if len(head) < 8:
        raise MetadataError("shorter than the 8-byte safetensors header length")
    (length,) = struct.unpack("<Q", head)
    if length > min(size - 8, MAX_SAFETENSORS_HEADER):
        raise MetadataError(
            f"header length {length:,} exceeds the file or the {MAX_SAFETENSORS_HEADER:,}-byte "
            "limit"
        )
    try:
        header = json.loads(f.read(length))
    except (ValueError, RecursionError) as error:
        raise MetadataError(f"header is not JSON: {error}") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if meta is None:
        return []
    if not isinstance(meta, dict):
        raise MetadataError("__metadata__ is not an object")
    return [
        (f"__metadata__ {key}", _pair(str(key), value if isinstance(value, str) else str(value)))
        for key, value in meta.items()
    ]


class _Reader:
    """Bounded little-endian reads from a binary file."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f = f
        self.size = size
        self.text_bytes = 0

    def take(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise MetadataError("ends inside a value")
        return data

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack("<Q", self.take(8))[0])

    def skip(self, n: int) -> None:
        if self.f.tell() + n > self.size:
            raise MetadataError("a length runs past the end of the file")
        self.f.seek(n, 1)

    def string(self, wide: bool, *, keep: bool = True) -> str | None:
        n = self.u64() if wide else self.u32()
        if self.f.tell() + n > self.size:
            raise MetadataError(f"a string of {n:,} bytes runs past the end of the file")
        if not keep or n > MAX_STRING:
            self.skip(n)
            return None
        self.text_bytes += n
        if self.text_bytes > MAX_TOTAL:
            raise MetadataError(f"over {MAX_TOTAL:,} bytes of metadata text")
        return self.take(n).decode("utf-8", "replace")


# GGUF value types (ggml/docs/gguf.md): fixed sizes; 8 is a string, 9 an array.
_GGUF_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_GGUF_STRING = 8
_GGUF_ARRAY = 9


def gguf_metadata(f: BinaryIO, size: int) -> Metadata:
    """The string key-values of a GGUF file (version 1-3); arrays are walked past, not read."""
    r = _Reader(f, size)
    if r.take(4) != b"GGUF":
        raise MetadataError("no GGUF magic")
    version = r.u32()
    if version not in (1, 2, 3):
        raise MetadataError(f"unknown GGUF version {version}")
    wide = version >= 2  # version 1 used 32-bit counts and lengths
    r.u64() if wide else r.u32()  # tensor count: tensors are not read
    count = r.u64() if wide else r.u32()
    # A key-value takes at least a length, a type and one byte: a claimed count the file cannot
    # hold is refused before the loop starts.
    if count > MAX_GGUF_KV or count * 13 > size:
        raise MetadataError(f"claims {count:,} key-values, more than the file or limit can hold")
    found: Metadata = []
    elements = strings = 0
    for _ in range(count):
        key = r.string(wide, keep=True) or ""
        kind = r.u32()
        if kind == _GGUF_STRING:
            value = r.string(wide)
            if value is not None:
                found.append((f"gguf {key}", _pair(key, value)))
        elif kind in _GGUF_FIXED:
            r.skip(_GGUF_FIXED[kind])
        elif kind == _GGUF_ARRAY:
            item = r.u32()
            n = r.u64() if wide else r.u32()
            elements += n
            if elements > MAX_GGUF_ELEMENTS:
                raise MetadataError(f"arrays hold over {MAX_GGUF_ELEMENTS:,} elements")
            if item in _GGUF_FIXED:
                r.skip(n * _GGUF_FIXED[item])
            elif item == _GGUF_STRING:
                strings += n
                # Each element takes at least its length field: refuse a count the rest of the
                # file cannot hold before walking it.
                if strings > MAX_GGUF_STRING_ELEMENTS or n * (8 if wide else 4) > size - f.tell():
                    raise MetadataError(
                        f"a string array claims {n:,} elements, more than the file or limit holds"
                    )
                for _ in range(n):
                    r.string(wide, keep=False)
            else:
                raise MetadataError(f"array of unsupported type {item} under {key[:80]!r}")
        else:
            raise MetadataError(f"unknown value type {kind} under {key[:80]!r}")
    return found


def _varint(r: _Reader) -> int:
    value = 0
    for shift in range(0, 70, 7):
        byte = r.take(1)[0]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value
    raise MetadataError("a varint is longer than 10 bytes")


def onnx_metadata(f: BinaryIO, size: int) -> Metadata:
    """ONNX ``ModelProto`` fields 6 (doc_string) and 14 (metadata_props: 1 key, 2 value)."""
    r = _Reader(f, size)
    found: Metadata = []
    fields = 0
    while f.tell() < size:
        fields += 1
        if fields > MAX_ONNX_FIELDS:
            raise MetadataError(f"over {MAX_ONNX_FIELDS:,} top-level fields")
        tag = _varint(r)
        field, wire = tag >> 3, tag & 7
        if wire != 2:
            _skip_scalar(r, wire)
            continue
        n = _varint(r)
        start = f.tell()
        if start + n > size:
            raise MetadataError("a length-delimited field runs past the end of the file")
        if field == 6 and n <= MAX_STRING:
            found.append(("onnx doc_string", _pair("doc_string", _text(r, n))))
        elif field == 14 and n <= MAX_STRING:
            key, value = _entry(r, start + n)
            found.append((f"onnx metadata_props {key[:200]}", _pair(key, value)))
        f.seek(start + n)
    return found


def _skip_scalar(r: _Reader, wire: int) -> None:
    if wire == 0:
        _varint(r)
    elif wire == 1:
        r.skip(8)
    elif wire == 5:
        r.skip(4)
    else:
        raise MetadataError(f"unsupported protobuf wire type {wire}")


def _text(r: _Reader, n: int) -> str:
    r.text_bytes += n
    if r.text_bytes > MAX_TOTAL:
        raise MetadataError(f"over {MAX_TOTAL:,} bytes of metadata text")
    return r.take(n).decode("utf-8", "replace")


def _entry(r: _Reader, end: int) -> tuple[str, str]:
    """A ``StringStringEntryProto`` (1 key, 2 value) ending at ``end``."""
    key = value = ""
    while r.f.tell() < end:
        tag = _varint(r)
        field, wire = tag >> 3, tag & 7
        if wire != 2:
            _skip_scalar(r, wire)
            continue
        n = _varint(r)
        if r.f.tell() + n > end:
            raise MetadataError("a metadata entry runs past its message")
        if field == 1:
            key = _text(r, n)
        elif field == 2:
            value = _text(r, n)
        else:
            r.skip(n)
    return key, value


def keras_metadata(path: Path) -> Metadata:
    """The ``config.json`` and ``metadata.json`` members of a ``.keras`` zip (never loaded)."""
    found: Metadata = []
    try:
        with zipfile.ZipFile(path) as archive:
            for name in KERAS_MEMBERS:
                try:
                    info = archive.getinfo(name)
                except KeyError:
                    continue
                if info.file_size > MAX_KERAS_MEMBER:
                    raise MetadataError(
                        f"{name} is {info.file_size:,} bytes, over {MAX_KERAS_MEMBER:,}"
                    )
                with archive.open(info) as member:
                    # The declared size can lie (a zip bomb): read at most the limit.
                    data = member.read(MAX_KERAS_MEMBER + 1)
                if len(data) > MAX_KERAS_MEMBER:
                    raise MetadataError(f"{name} inflates past {MAX_KERAS_MEMBER:,} bytes")
                found.append((f"keras {name}", data.decode("utf-8", "replace")))
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as error:
        raise MetadataError(f"not a readable zip archive: {error}") from None
    return found
