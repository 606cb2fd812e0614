"""Parse a GGUF file's header and check its chat templates, never reading tensor data.

The format (``ggml/docs/gguf.md``, reader ``gguf-py/gguf/gguf_reader.py``): the magic
``GGUF``, a little-endian ``uint32`` version (2 or 3), ``uint64`` tensor and metadata counts,
the metadata key/value pairs (a ``gguf_string`` key, a ``uint32`` value type, the value), the
tensor infos (name, ``uint32`` n_dims, ``uint64`` dims, ``uint32`` ggml type, ``uint64``
offset into the data area), padding to ``general.alignment`` (default 32) and the data.

GGUF holds no code, but ``tokenizer.chat_template`` is a Jinja2 template that runtimes
render. A template that reaches Python internals (``__class__``, ``__globals__``,
``lipsum``, ``os.popen``...) is a server-side template injection that runs code in runtimes
rendering it in a non-sandboxed environment (CVE-2024-34359, llama-cpp-python). The template
is matched as text, after decoding escapes and removing quotes, concatenation and
whitespace; it is never compiled or rendered.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from typing import BinaryIO

from ssdf_ai.findings import Finding, Severity
from ssdf_ai.scan import rules
from ssdf_ai.scan._types import MIB, ScanLimits

__all__ = ["GGML_TYPES", "check_gguf", "template_indicators"]

# ggml_type values a current reader accepts (ggml.h), and those it no longer loads.
GGML_TYPES: frozenset[int] = frozenset(
    {0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25}
    | {26, 27, 28, 29, 30, 34, 35, 39, 40, 41}
)
_REMOVED_GGML_TYPES = frozenset({4, 5, 31, 32, 33, 36, 37, 38})

# Metadata value types: fixed sizes in bytes; 8 is a string, 9 an array.
_FIXED_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING = 8
_ARRAY = 9
_TYPE_NAMES = {
    0: "uint8",
    1: "int8",
    2: "uint16",
    3: "int16",
    4: "uint32",
    5: "int32",
    6: "float32",
    7: "bool",
    8: "string",
    9: "array",
    10: "uint64",
    11: "int64",
    12: "float64",
}

_MAX_DIMS = 8
_MAX_ARRAY_DEPTH = 8
_MAX_ELEMENTS = 20_000_000  # all array elements together
_MAX_KEY_BYTES = 64 * 1024
_MAX_TEMPLATE_BYTES = 16 * MIB
_MAX_FINDINGS = 50
_CHUNK = 1 << 20
_TEMPLATE_KEY = "tokenizer.chat_template"


class _MalformedError(Exception):
    """The file breaks the format; the message says where."""


class _LimitError(Exception):
    """A scan bound was hit; the message says which."""


class _Reader:
    """Bounded, buffered reads from a file object, tracking the absolute offset."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f = f
        self.size = size
        self.pos = 0
        self._buf = b""
        self._buf_start = 0

    def read(self, n: int, what: str) -> bytes:
        if n > self.size - self.pos:
            raise _MalformedError(
                f"{what} needs {n} bytes at offset {self.pos}, past the end of the file "
                f"({self.size} bytes)"
            )
        start = self.pos - self._buf_start
        if start < 0 or start + n > len(self._buf):
            self.f.seek(self.pos)
            self._buf = self.f.read(max(n, _CHUNK))
            self._buf_start = self.pos
            start = 0
            if len(self._buf) < n:
                raise _MalformedError(f"{what}: the file ended early at offset {self.pos}")
        self.pos += n
        return self._buf[start : start + n]

    def skip(self, n: int, what: str) -> None:
        if n > self.size - self.pos:
            raise _MalformedError(
                f"{what} needs {n} bytes at offset {self.pos}, past the end of the file "
                f"({self.size} bytes)"
            )
        self.pos += n

    def u32(self, what: str) -> int:
        value: int = struct.unpack("<I", self.read(4, what))[0]
        return value

    def u64(self, what: str) -> int:
        value: int = struct.unpack("<Q", self.read(8, what))[0]
        return value


class _Parser:
    def __init__(
        self, f: BinaryIO, size: int, limits: ScanLimits, report: rules.CappedFindings
    ) -> None:
        self.r = _Reader(f, size)
        self.size = size
        self.header_cap = limits.max_header_bytes
        self.report = report
        self.elements = 0
        self.templates: dict[str, str] = {}
        self.alignment = 32

    def _check_cap(self) -> None:
        if self.r.pos > self.header_cap:
            raise _LimitError(
                f"the GGUF header is longer than the limit of {self.header_cap} bytes"
            )

    def string(self, what: str, cap: int) -> tuple[int, bytes | None]:
        """Read a gguf_string's length and, if it is at most ``cap``, its bytes."""
        n = self.r.u64(f"{what} length")
        if n > self.size - self.r.pos:
            raise _MalformedError(
                f"{what} length {n} at offset {self.r.pos - 8} runs past the end of the file"
            )
        if n > cap:
            self.r.skip(n, what)
            return n, None
        return n, self.r.read(n, what)

    def text(self, what: str) -> str:
        n, raw = self.string(what, _MAX_KEY_BYTES)
        if raw is None:
            raise _MalformedError(f"{what} is {n} bytes long, above {_MAX_KEY_BYTES}")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _MalformedError(f"{what} is not UTF-8 (byte {exc.start})") from exc

    def value(self, vtype: int, what: str, depth: int, keep: bool) -> object:
        size = _FIXED_SIZES.get(vtype)
        if size is not None:
            raw = self.r.read(size, what)
            if vtype == 7 and raw[0] > 1:
                raise _MalformedError(f"{what}: bool value {raw[0]} is neither 0 nor 1")
            if vtype == 4 and keep:
                return struct.unpack("<I", raw)[0]
            return None
        if vtype == _STRING:
            n, text = self.string(what, _MAX_TEMPLATE_BYTES if keep else 0)
            if text is None:
                if keep:
                    raise _LimitError(f"{what} is {n} bytes long, above {_MAX_TEMPLATE_BYTES}")
                return None
            return text.decode("utf-8", errors="replace")
        if vtype == _ARRAY:
            if depth >= _MAX_ARRAY_DEPTH:
                raise _MalformedError(f"{what}: arrays nested deeper than {_MAX_ARRAY_DEPTH}")
            item_type = self.r.u32(f"{what} item type")
            count = self.r.u64(f"{what} count")
            if item_type not in _TYPE_NAMES:
                raise _MalformedError(f"{what}: unknown array item type {item_type}")
            least = _FIXED_SIZES.get(item_type, 8 if item_type == _STRING else 12)
            if count > (self.size - self.r.pos) // least:
                raise _MalformedError(
                    f"{what}: {count} items of {_TYPE_NAMES[item_type]} cannot fit in the "
                    f"{self.size - self.r.pos} bytes left"
                )
            self.elements += count
            if self.elements > _MAX_ELEMENTS:
                raise _LimitError(f"more than {_MAX_ELEMENTS} metadata array elements")
            item_size = _FIXED_SIZES.get(item_type)
            if item_size is not None and item_type != 7:
                self.r.skip(count * item_size, what)
            else:
                for i in range(count):
                    self.value(item_type, f"{what}[{i}]", depth + 1, False)
                    if i % 4096 == 0:
                        self._check_cap()
            return None
        raise _MalformedError(f"{what}: unknown value type {vtype}")

    def parse(self) -> None:
        r = self.r
        magic = r.read(4, "magic")
        if magic != b"GGUF":
            raise _MalformedError(f"the magic is {magic!r}, not b'GGUF'")
        version = r.u32("version")
        if version not in (2, 3):
            if struct.unpack(">I", struct.pack("<I", version))[0] in (2, 3):
                raise _LimitError("big-endian GGUF files are not supported by the scanner")
            raise _MalformedError(f"version {version} is not 2 or 3")
        n_tensors = r.u64("tensor count")
        n_kv = r.u64("metadata count")
        left = self.size - r.pos
        if n_kv > left // 13:  # smallest KV: 8-byte key length, 4-byte type, 1-byte value
            raise _MalformedError(f"metadata count {n_kv} cannot fit in the {left} bytes left")
        if n_tensors > left // 24:  # smallest tensor info: 8 + 4 + 4 + 8 bytes
            raise _MalformedError(f"tensor count {n_tensors} cannot fit in the {left} bytes left")
        seen: set[str] = set()
        for i in range(n_kv):
            start = r.pos
            key = self.text(f"metadata key #{i}")
            where = f"metadata {key!r} (offset {start})"
            if key in seen:
                self.report.add(
                    rules.UNPARSEABLE,
                    f"metadata key {key!r} appears twice: readers keep different copies",
                    where,
                )
            seen.add(key)
            vtype = r.u32(f"{where} type")
            is_template = key == _TEMPLATE_KEY or key.startswith(_TEMPLATE_KEY + ".")
            value = self.value(vtype, where, 0, is_template or key == "general.alignment")
            if is_template:
                if isinstance(value, str):
                    self.templates[key] = value
                else:
                    self.report.add(
                        rules.UNPARSEABLE,
                        f"chat template {key!r} is a {_TYPE_NAMES.get(vtype)}, not a string",
                        where,
                        Severity.MEDIUM,
                    )
            elif key == "general.alignment":
                if not isinstance(value, int) or value == 0 or value & (value - 1):
                    raise _MalformedError(
                        "general.alignment is not a uint32 power of two",
                    )
                self.alignment = value
            self._check_cap()
        self.tensors(n_tensors)

    def tensors(self, count: int) -> None:
        r = self.r
        names: set[str] = set()
        offsets: list[tuple[int, str]] = []
        for i in range(count):
            name = self.text(f"tensor #{i} name")
            where = f"tensor {name!r}"
            if name in names:
                self.report.add(rules.UNPARSEABLE, f"tensor name {name!r} appears twice", where)
            names.add(name)
            n_dims = r.u32(f"{where} n_dims")
            if n_dims > _MAX_DIMS:
                raise _MalformedError(f"{where}: {n_dims} dimensions, above {_MAX_DIMS}")
            for d in range(n_dims):
                dim = r.u64(f"{where} dim {d}")
                if dim >= 1 << 63:
                    raise _MalformedError(f"{where}: dim {d} is {dim}, above int64")
            ggml_type = r.u32(f"{where} type")
            if ggml_type in _REMOVED_GGML_TYPES:
                self.report.add(
                    rules.UNPARSEABLE,
                    f"{where}: ggml type {ggml_type} was removed; current readers reject it",
                    where,
                    Severity.MEDIUM,
                )
            elif ggml_type not in GGML_TYPES:
                raise _MalformedError(f"{where}: unknown ggml type {ggml_type}")
            offset = r.u64(f"{where} offset")
            if offset % self.alignment:
                self.report.add(
                    rules.UNPARSEABLE,
                    f"{where}: data offset {offset} is not a multiple of the alignment "
                    f"{self.alignment}",
                    where,
                )
            offsets.append((offset, name))
            if i % 4096 == 0:
                self._check_cap()
        self._check_cap()
        data_start = -(-r.pos // self.alignment) * self.alignment
        data_len = self.size - data_start
        for offset, name in offsets:
            if offset > data_len:
                self.report.add(
                    rules.UNPARSEABLE,
                    f"tensor {name!r}: data offset {offset} is past the data area "
                    f"({max(data_len, 0)} bytes)",
                    f"tensor {name!r}",
                )


def check_gguf(f: BinaryIO, size: int, *, path: str, limits: ScanLimits) -> list[Finding]:
    """Parse a GGUF file's header and check its chat templates for template injection.

    Args:
        f: The file, seekable; the GGUF content starts at offset 0.
        size: Its size in bytes.
        path: The file, for findings.
        limits: ``max_header_bytes`` bounds the metadata and tensor infos read.

    Returns:
        ``SSDF-SCAN-003`` for a malformed header (naming where), ``SSDF-SCAN-004`` when a
        bound was hit, ``SSDF-SCAN-013`` for a chat template that reaches Python internals;
        empty for a well-formed file with benign templates.
    """
    report = rules.CappedFindings(path, "GGUF problems", limit=_MAX_FINDINGS)
    parser = _Parser(f, size, limits, report)
    try:
        parser.parse()
    except _MalformedError as exc:
        report.add(rules.UNPARSEABLE, f"malformed GGUF header: {exc}")
    except _LimitError as exc:
        report.add(rules.NOT_SCANNED, f"GGUF header not fully scanned: {exc}")
    for key, template in parser.templates.items():
        _check_template(key, template, report)
    return report.done()


# --- chat templates -------------------------------------------------------------------------

# Indicators matched on the normalised template; critical ones reach code execution directly.
_CRITICAL: tuple[tuple[str, str], ...] = (
    ("__class__", r"__class__"),
    ("__mro__", r"__mro__"),
    ("__subclasses__", r"__subclasses__"),
    ("__globals__", r"__globals__"),
    ("__builtins__", r"__builtins__"),
    ("__init__", r"__init__"),
    ("__import__", r"__import__"),
    ("__getattribute__", r"__getattribute__"),
    ("__base__", r"__bases?__"),
    ("mro()", r"(?<![a-z0-9_])mro\("),
    ("popen", r"popen"),
    ("os.", r"(?<![a-z0-9_])os\.[a-z_]"),
    ("subprocess", r"subprocess"),
    ("eval(", r"(?<![a-z0-9_])eval\("),
    ("exec(", r"(?<![a-z0-9_])exec\("),
    ("lipsum", r"(?<![a-z0-9_])lipsum(?![a-z0-9_])"),
    ("cycler", r"(?<![a-z0-9_])cycler(?![a-z0-9_])"),
    ("joiner", r"(?<![a-z0-9_])joiner(?![a-z0-9_])"),
    ("request.application", r"(?<![a-z0-9_])request[.|\[]"),
    ("config.", r"(?<![a-z0-9_])config\.(?:__|items|from)"),
    ("self._TemplateReference", r"(?<![a-z0-9_])self\._"),
)
_OTHER_DUNDER = re.compile(r"__[a-z][a-z0-9_]*__")
_CRITICAL_RE = tuple((name, re.compile(pattern)) for name, pattern in _CRITICAL)

_ESCAPE = re.compile(
    r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|N\{[A-Za-z0-9 \-]+\})"
)
# Removed before matching: quotes, string concatenation (~ and +), commas joining lists,
# whitespace and Jinja's whitespace-control dashes inside delimiters.
_NOISE = frozenset("'\"~+, \t\r\n\f\v")
_QUOTE_MAX = 120


def _decode_escape(match: re.Match[str]) -> str:
    body = match.group(1)
    if body[0] in "xuU":
        code = int(body[1:], 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)
    if body[0] == "N":
        try:
            return unicodedata.lookup(body[2:-1])
        except KeyError:
            return match.group(0)
    return chr(int(body, 8))


def _normalise(template: str) -> tuple[str, str, list[int]]:
    """Decode escapes, drop noise, lowercase.

    Returns:
        The decoded template, the normalised text and each normalised char's index in the
        decoded template.
    """
    decoded = _ESCAPE.sub(_decode_escape, template)
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(decoded):
        if ch in _NOISE:
            continue
        chars.append(ch.lower())
        index.append(i)
    return decoded, "".join(chars), index


def _quote(decoded: str, at: int) -> str:
    begin = max(0, at - 40)
    fragment = decoded[begin : begin + _QUOTE_MAX]
    if begin > 0:
        fragment = "..." + fragment
    if begin + _QUOTE_MAX < len(decoded):
        fragment += "..."
    return fragment


def template_indicators(template: str) -> list[tuple[str, str, bool]]:
    """Find the Python-internals indicators in a Jinja2 template, without rendering it.

    Args:
        template: The template text.

    Returns:
        ``(indicator, quoted fragment, critical)`` for each indicator found, in order of
        first appearance; empty for a benign template.
    """
    decoded, normalised, index = _normalise(template)
    hits: list[tuple[int, str, str, bool]] = []
    lowered = decoded.lower()  # keeps word boundaries that removing whitespace joins
    for name, pattern in _CRITICAL_RE:
        match = pattern.search(normalised)
        if match is not None:
            at = index[match.start()]
        else:
            match = pattern.search(lowered)
            if match is None:
                continue
            at = match.start()
        hits.append((at, name, _quote(decoded, at), True))
    known = {name for _, name, _, _ in hits}
    for match in _OTHER_DUNDER.finditer(normalised):
        name = match.group(0)
        if name in known or name in ("__base__", "__bases__"):
            continue
        known.add(name)
        at = index[match.start()]
        hits.append((at, name, _quote(decoded, at), False))
        if len(hits) > 30:
            break
    hits.sort()
    return [(name, fragment, critical) for _, name, fragment, critical in hits]


def _check_template(key: str, template: str, report: rules.CappedFindings) -> None:
    hits = template_indicators(template)
    if not hits:
        return
    names = ", ".join(name for name, _, _ in hits)
    critical = any(c for _, _, c in hits)
    fragment = hits[0][1]
    report.add(
        rules.TEMPLATE_INJECTION,
        f"chat template {key!r} reaches Python internals ({names}): a server-side template "
        f"injection that runs code when the template is rendered; first at: {fragment!r}",
        f"metadata {key!r}",
        Severity.CRITICAL if critical else Severity.HIGH,
    )
