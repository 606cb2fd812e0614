"""Validate a safetensors file's header against the format, reading only the header.

The format (https://huggingface.co/docs/safetensors, reference implementation
``safetensors/src/tensor.rs``): 8 bytes of little-endian header length N, N bytes of UTF-8
JSON (padded with spaces), then the data area. The JSON maps tensor names to
``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets relative to the data area) and
may hold a ``__metadata__`` map of strings to strings. The reference loader rejects headers
over 100 MB, offsets that leave gaps or overlap, sizes that disagree with dtype and shape,
and a data area that does not end exactly at the end of the file.

The tensors themselves are never read: safetensors cannot run code, so only a malformed
header (a parser-differential or out-of-bounds risk for other readers) is a finding.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any, BinaryIO

from ssdf_ai.findings import Finding, Severity
from ssdf_ai.scan import rules
from ssdf_ai.scan._types import ScanLimits

__all__ = ["DTYPE_BITS", "check_safetensors"]

# Element sizes in bits, as ``Dtype::bitsize`` in the reference implementation (0.8).
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "F8_E4M3FNUZ": 8,
    "F8_E5M2FNUZ": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "F64": 64,
    "I64": 64,
    "U64": 64,
}

_TENSOR_KEYS = frozenset({"dtype", "shape", "data_offsets"})
_U64_MAX = (1 << 64) - 1
_MAX_FINDINGS = 50


class _DuplicateKeyError(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _is_uint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _U64_MAX


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape
        return False
    return True


class _Report:
    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[Finding] = []
        self.dropped = 0

    def add(
        self, message: str, address: str | None = None, severity: Severity | None = None
    ) -> None:
        if len(self.items) >= _MAX_FINDINGS:
            self.dropped += 1
            return
        self.items.append(
            rules.finding(
                rules.INVALID_SAFETENSORS,
                message,
                path=self.path,
                address=address,
                severity=severity,
            )
        )

    def done(self) -> list[Finding]:
        if self.dropped:
            self.items.append(
                rules.finding(
                    rules.INVALID_SAFETENSORS,
                    f"{self.dropped} more header problems were not listed one by one",
                    path=self.path,
                )
            )
        return self.items


def check_safetensors(f: BinaryIO, size: int, *, path: str, limits: ScanLimits) -> list[Finding]:
    """Check a safetensors file's header; read nothing but the length and the header.

    Args:
        f: The file, seekable; the safetensors content starts at offset 0.
        size: Its size in bytes.
        path: The file, for findings.
        limits: ``max_header_bytes`` bounds the header read.

    Returns:
        ``SSDF-SCAN-008`` findings, each naming the tensor (``address="tensor <name>"``) or
        the header part at fault; empty for a valid file.
    """
    report = _Report(path)
    if size < 8:
        report.add(f"the file is {size} bytes, shorter than the 8-byte header length")
        return report.done()
    f.seek(0)
    (n,) = struct.unpack("<Q", f.read(8))
    if n > limits.max_header_bytes:
        report.add(f"header length {n} is above the limit of {limits.max_header_bytes} bytes")
        return report.done()
    if n > size - 8:
        report.add(f"header length {n} runs past the end of the file ({size} bytes)")
        return report.done()
    raw = f.read(n)
    header = _parse_header(raw, report)
    if header is None:
        return report.done()
    _check_tensors(header, size - 8 - n, report)
    return report.done()


def _parse_header(raw: bytes, report: _Report) -> dict[str, Any] | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.add(f"the header is not UTF-8 (byte {exc.start})", "header")
        return None
    if not text.startswith("{"):
        report.add("the header does not start with '{'", "header")
        return None
    try:
        header = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except _DuplicateKeyError as exc:
        report.add(
            f"the header repeats the key {exc.args[0]!r}: readers keep different copies",
            "header",
        )
        return None
    except (ValueError, RecursionError) as exc:
        report.add(f"the header is not valid JSON ({exc})", "header")
        return None
    if not isinstance(header, dict):
        report.add("the header is not a JSON object", "header")
        return None
    if not all(_encodable(key) for key in header):
        report.add("a tensor name holds an unpaired UTF-16 surrogate escape", "header")
    return header


def _check_tensors(header: dict[str, Any], data_len: int, report: _Report) -> None:
    ranges: list[tuple[int, int, str]] = []
    for name, info in header.items():
        where = f"tensor {name!r}"
        if name == "__metadata__":
            _check_metadata(info, report)
            continue
        if not isinstance(info, dict):
            report.add(f"tensor {name!r}: its entry is not an object", where)
            continue
        missing = _TENSOR_KEYS - info.keys()
        if missing:
            report.add(f"tensor {name!r}: missing {', '.join(sorted(missing))}", where)
            continue
        extra = info.keys() - _TENSOR_KEYS
        if extra:
            report.add(
                f"tensor {name!r}: unexpected fields {', '.join(sorted(extra))}",
                where,
                Severity.MEDIUM,
            )
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        bits = DTYPE_BITS.get(dtype) if isinstance(dtype, str) else None
        if bits is None:
            report.add(f"tensor {name!r}: unknown dtype {dtype!r}", where)
        if not isinstance(shape, list) or not all(_is_uint(d) for d in shape):
            report.add(
                f"tensor {name!r}: shape {shape!r} is not a list of non-negative ints", where
            )
            shape = None
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_is_uint(o) for o in offsets)
        ):
            report.add(
                f"tensor {name!r}: data_offsets {offsets!r} is not [begin, end] of "
                "non-negative ints",
                where,
            )
            continue
        begin, end = offsets
        if begin > end:
            report.add(f"tensor {name!r}: data_offsets begin {begin} is after end {end}", where)
            continue
        if end > data_len:
            report.add(
                f"tensor {name!r}: data_offsets end {end} is past the data area ({data_len} bytes)",
                where,
            )
        ranges.append((begin, end, name))
        if bits is None or shape is None:
            continue
        nbits = math.prod(shape) * bits
        if nbits % 8:
            report.add(
                f"tensor {name!r}: {math.prod(shape)} elements of {dtype} are not a whole "
                "number of bytes",
                where,
            )
        elif nbits // 8 > _U64_MAX:
            report.add(f"tensor {name!r}: its size overflows 64 bits", where)
        elif nbits // 8 != end - begin:
            report.add(
                f"tensor {name!r}: dtype {dtype} and shape {shape} need {nbits // 8} bytes, "
                f"data_offsets give {end - begin}",
                where,
            )
    _check_coverage(ranges, data_len, report)


def _check_metadata(meta: object, report: _Report) -> None:
    if meta is None:
        return
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        report.add("__metadata__ is not a map of strings to strings", "__metadata__")


def _check_coverage(ranges: list[tuple[int, int, str]], data_len: int, report: _Report) -> None:
    """Sorted byte ranges must tile the data area exactly (``Metadata::validate``)."""
    reach = 0
    previous = ""
    for begin, end, name in sorted(ranges):
        where = f"tensor {name!r}"
        if begin < reach:
            report.add(f"tensor {name!r}: bytes {begin}-{end} overlap tensor {previous!r}", where)
        elif begin > reach:
            report.add(
                f"tensor {name!r}: {begin - reach} bytes before it (offsets {reach}-{begin}) "
                "belong to no tensor",
                where,
            )
        if end >= reach:
            reach, previous = end, name
    if reach < data_len:
        report.add(
            f"{data_len - reach} bytes after the last tensor (offsets {reach}-{data_len} of "
            "the data area) belong to no tensor",
            "data area",
        )
