"""Parse a NumPy ``.npy`` header without loading the array or evaluating code.

The format (``numpy/lib/format.py``, NEP 1): the magic ``\\x93NUMPY``, a major and minor
version byte (1.0, 2.0 or 3.0), the header length (2 bytes little-endian in 1.0, 4 bytes in
2.0 and 3.0), then the header: the ``repr`` of a dict with exactly the keys ``descr``,
``fortran_order`` and ``shape``, latin-1 in 1.0/2.0 and UTF-8 in 3.0, padded with spaces and
a newline. The array data follows. When the dtype holds Python objects, the data is a pickle
that ``np.load(allow_pickle=True)`` unpickles; the engine analyses it from ``data_offset``.

The header is read with :func:`ast.literal_eval`, as NumPy itself does (``safe_eval``), but
only after the header has been capped at :data:`MAX_HEADER_CHARS`: ``literal_eval`` builds
literals only and never calls anything, and the cap bounds its time and memory. NumPy's own
default cap without ``allow_pickle`` is 10 000 characters.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import math
import re
import struct
import tokenize
from typing import BinaryIO

from ssdf_ai.findings import Finding, Severity
from ssdf_ai.scan import rules
from ssdf_ai.scan._types import MIB, ScanLimits

__all__ = ["MAGIC", "MAX_HEADER_CHARS", "NpyInfo", "parse_npy"]

MAGIC = b"\x93NUMPY"
MAX_HEADER_CHARS = 1 * MIB

_LENGTH_FORMAT = {(1, 0): ("<H", "latin-1"), (2, 0): ("<I", "latin-1"), (3, 0): ("<I", "utf-8")}
_KEYS = frozenset({"descr", "fortran_order", "shape"})

# A dtype as ``dtype.str`` writes it: byte order, kind, item size, datetime unit.
_SIMPLE = re.compile(r"[<>|=]?([A-Za-z?])(\d{0,18})(\[[A-Za-z0-9]+\])?")
# Kinds whose item size is the number after them (U counts 4-byte code points).
_SIZED_KINDS = frozenset("biufcSUVaMm")
# Single-character type codes NumPy accepts without a size (platform-dependent sizes).
_TYPE_CODES = frozenset("?bBhHiIlLqQpPnNefdgFDGSUVaMm")
# Kinds whose items are Python objects (``O``) or references NumPy pickles (``T``,
# StringDType, reports ``hasobject``).
_OBJECT_KINDS = frozenset("OT")


@dataclasses.dataclass(frozen=True)
class NpyInfo:
    """What an ``.npy`` header declares.

    Attributes:
        version: Format version, ``(1, 0)``, ``(2, 0)`` or ``(3, 0)``.
        dtype: The ``descr`` as written (a ``repr`` for structured dtypes).
        shape: The array's shape.
        fortran_order: Whether the data is in column-major order.
        data_offset: Where the data (or, for object arrays, the pickle) starts.
        is_object: The dtype holds Python objects anywhere (also in structured fields):
            the data is a pickle, loaded only with ``allow_pickle=True``.
    """

    version: tuple[int, int]
    dtype: str
    shape: tuple[int, ...]
    fortran_order: bool
    data_offset: int
    is_object: bool


class _BadDescr(Exception):  # noqa: N818 - internal signal
    pass


@dataclasses.dataclass
class _Descr:
    is_object: bool
    itemsize: int | None  # None when it cannot be told from the header alone
    standard: bool  # in the form ``np.save`` writes


def parse_npy(
    f: BinaryIO, size: int, *, path: str, limits: ScanLimits
) -> tuple[NpyInfo | None, list[Finding]]:
    """Parse an ``.npy`` header and check the data fits in the file.

    Args:
        f: The file, seekable; the ``.npy`` content starts at offset 0 (for ``.npz``, the
            engine passes each member's bytes).
        size: Its size in bytes.
        path: The file, for findings.
        limits: ``max_header_bytes`` (with :data:`MAX_HEADER_CHARS`) bounds the header.

    Returns:
        The header (``None`` when it cannot be parsed) and ``SSDF-SCAN-003`` findings: bad
        magic or version, header too long or malformed, a dtype the scanner cannot size,
        data shorter than the header declares. Reporting object arrays (``SSDF-SCAN-011``)
        and analysing their pickle is the engine's job, from ``is_object`` and
        ``data_offset``.
    """
    findings: list[Finding] = []

    def fail(message: str, severity: Severity | None = None) -> None:
        findings.append(
            rules.finding(
                rules.UNPARSEABLE, message, path=path, address="npy header", severity=severity
            )
        )

    f.seek(0)
    prefix = f.read(8)
    if len(prefix) < 8 or not prefix.startswith(MAGIC):
        fail("not a NumPy .npy file (bad magic); its content was not checked")
        return None, findings
    version = (prefix[6], prefix[7])
    if version not in _LENGTH_FORMAT:
        fail(f"unknown .npy format version {version[0]}.{version[1]}; not checked")
        return None, findings
    length_format, encoding = _LENGTH_FORMAT[version]
    length_size = struct.calcsize(length_format)
    raw_length = f.read(length_size)
    if len(raw_length) < length_size:
        fail("the .npy header length is cut short (truncated file)")
        return None, findings
    (header_len,) = struct.unpack(length_format, raw_length)
    data_offset = 8 + length_size + header_len
    cap = min(MAX_HEADER_CHARS, limits.max_header_bytes)
    if header_len > cap:
        fail(f"the .npy header is {header_len} bytes, more than the {cap} the scanner parses")
        return None, findings
    if data_offset > size:
        fail("the .npy header runs past the end of the file (truncated file)")
        return None, findings
    raw = f.read(header_len)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        fail(f"the .npy header is not valid {encoding}")
        return None, findings
    header = _literal(text, legacy=version < (3, 0))
    if not isinstance(header, dict) or set(header) != _KEYS:
        fail(
            "the .npy header is not a dict of exactly 'descr', 'fortran_order' and 'shape'; "
            "not checked"
        )
        return None, findings
    shape, fortran, descr = header["shape"], header["fortran_order"], header["descr"]
    if not isinstance(shape, tuple) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        fail(f"the .npy shape {shape!r} is not a tuple of non-negative ints; not checked")
        return None, findings
    if not isinstance(fortran, bool):
        fail(f"the .npy fortran_order {fortran!r} is not a bool; not checked")
        return None, findings
    try:
        parsed = _describe(descr, depth=0)
    except _BadDescr as exc:
        fail(f"the .npy descr {descr!r} is not a dtype: {exc}; not checked")
        return None, findings
    if not parsed.standard:
        fail(
            f"the .npy descr {descr!r} is not in the form np.save writes; its size was not checked",
            Severity.MEDIUM,
        )
    info = NpyInfo(
        version=version,
        dtype=descr if isinstance(descr, str) else repr(descr),
        shape=shape,
        fortran_order=fortran,
        data_offset=data_offset,
        is_object=parsed.is_object,
    )
    if parsed.is_object:
        if data_offset >= size:
            fail("the object array's pickle is missing (the file ends after the header)")
    elif parsed.itemsize is not None:
        needed = math.prod(shape) * parsed.itemsize
        if data_offset + needed > size:
            fail(
                f"the array needs {needed} bytes of data but the file holds "
                f"{size - data_offset} (truncated file)"
            )
    return info, findings


def _literal(text: str, *, legacy: bool) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    if not legacy:
        return None
    # Files written by Python 2 may carry long literals such as ``(3L, 4L)``; NumPy drops
    # the ``L`` token after a number for format versions 1.0 and 2.0.
    try:
        tokens: list[tokenize.TokenInfo] = []
        after_number = False
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if after_number and token.type == tokenize.NAME and token.string == "L":
                continue
            tokens.append(token)
            after_number = token.type == tokenize.NUMBER
        return ast.literal_eval(tokenize.untokenize(tokens))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, tokenize.TokenError):
        return None


def _describe(descr: object, *, depth: int) -> _Descr:
    if depth > 32:
        raise _BadDescr("nested too deeply")
    if isinstance(descr, str):
        return _describe_string(descr)
    if not isinstance(descr, list) or not descr:
        raise _BadDescr("neither a string nor a non-empty list of fields")
    is_object, standard = False, True
    itemsize: int | None = 0
    for field in descr:
        if not isinstance(field, tuple | list) or len(field) not in (2, 3):
            raise _BadDescr(f"field {field!r} is not (name, dtype) or (name, dtype, shape)")
        name, inner = field[0], field[1]
        if not isinstance(name, str) and not (
            isinstance(name, tuple | list)
            and len(name) == 2
            and all(isinstance(n, str) for n in name)
        ):
            raise _BadDescr(f"field name {name!r} is not a string or (title, name)")
        sub = _describe(inner, depth=depth + 1)
        count = 1
        if len(field) == 3:
            dims = field[2] if isinstance(field[2], tuple) else (field[2],)
            if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
                raise _BadDescr(f"field shape {field[2]!r} is not non-negative ints")
            count = math.prod(dims)
        is_object = is_object or sub.is_object
        standard = standard and sub.standard
        itemsize = (
            None if itemsize is None or sub.itemsize is None else itemsize + sub.itemsize * count
        )
    return _Descr(is_object=is_object, itemsize=itemsize, standard=standard)


def _describe_string(descr: str) -> _Descr:
    match = _SIMPLE.fullmatch(descr.strip())
    if match is None:
        # Names ('float64', 'object'), comma lists ('i4,O') and subarrays ('(2,)O') are
        # accepted by np.dtype but never written by np.save: judge objects conservatively.
        is_object = "object" in descr or any(kind in descr for kind in _OBJECT_KINDS)
        return _Descr(is_object=is_object, itemsize=None, standard=False)
    kind, digits, unit = match.group(1), match.group(2), match.group(3)
    if kind in _OBJECT_KINDS:
        return _Descr(is_object=True, itemsize=None, standard=True)
    if unit is not None and kind not in "Mm":
        raise _BadDescr(f"{descr!r} has a unit but is not a datetime")
    if digits and kind in _SIZED_KINDS:
        n = int(digits)
        return _Descr(is_object=False, itemsize=4 * n if kind == "U" else n, standard=True)
    if not digits and kind in _TYPE_CODES:
        return _Descr(is_object=False, itemsize=None, standard=True)
    raise _BadDescr(f"{descr!r} is not a known dtype")
