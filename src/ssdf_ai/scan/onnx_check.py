"""Check an ONNX model's external data paths and operator domains, without the onnx package.

An ONNX file is a protobuf ``ModelProto`` (``onnx/onnx.proto``). A minimal wire-format reader
walks it straight from the file, seeking past tensor data, bounded in nesting depth and in
the total number of fields read. What it looks at:

- every ``TensorProto`` (graph initializers, sparse initializers, tensors in node attributes,
  in subgraphs of ``If``/``Loop``/``Scan`` and in functions and training info) whose
  ``external_data`` names a ``location``: ONNX loaders open that path relative to the model's
  directory, so an absolute path, a drive letter, a UNC or home path or one whose ``..``
  leaves the directory reads (or, on save, writes) files elsewhere (CWE-22; CVE-2024-27318,
  CVE-2024-5187) -> ``SSDF-SCAN-014``;
- operator domains, of nodes and of ``opset_import``, outside the standard ones and not
  defined by a model-local function: they need a native custom-operator library registered
  at load time -> ``SSDF-SCAN-015`` at medium severity.

A broken wire format is ``SSDF-SCAN-003``; a bound hit is ``SSDF-SCAN-004``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from ssdf_ai.findings import Finding, Severity
from ssdf_ai.scan import rules
from ssdf_ai.scan._types import ScanLimits

__all__ = ["STANDARD_DOMAINS", "check_onnx", "unsafe_location"]

STANDARD_DOMAINS: frozenset[str] = frozenset(
    {"", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training", "com.microsoft"}
)

_MAX_DEPTH = 100  # protobuf's default recursion limit
_MAX_FIELDS = 20_000_000
_MAX_STRING = 64 * 1024
_MAX_FINDINGS = 50
_CHUNK = 1 << 20

_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5

# Field numbers (onnx.proto, IR version 10).
_MODEL_GRAPH, _MODEL_OPSET, _MODEL_TRAINING, _MODEL_FUNCTIONS = 7, 8, 20, 25
_TRAINING_GRAPHS = (1, 2)  # initialization, algorithm
_OPSET_DOMAIN = 1
_GRAPH_NODE, _GRAPH_NAME, _GRAPH_INIT, _GRAPH_SPARSE_INIT = 1, 2, 5, 15
_NODE_NAME, _NODE_OP, _NODE_ATTR, _NODE_DOMAIN = 3, 4, 5, 7
_ATTR_NAME, _ATTR_T, _ATTR_G, _ATTR_TENSORS, _ATTR_GRAPHS = 1, 5, 6, 10, 11
_ATTR_SPARSE, _ATTR_SPARSES = 22, 23
_ATTR_SUBMESSAGES = frozenset(
    {_ATTR_T, _ATTR_G, _ATTR_TENSORS, _ATTR_GRAPHS, _ATTR_SPARSE, _ATTR_SPARSES}
)
_SPARSE_TENSORS = (1, 2)  # values, indices
_TENSOR_NAME, _TENSOR_EXTERNAL, _TENSOR_LOCATION = 8, 13, 14
_ENTRY_KEY, _ENTRY_VALUE = 1, 2
_FUNC_NAME, _FUNC_NODE, _FUNC_OPSET, _FUNC_DOMAIN, _FUNC_ATTR = 1, 7, 9, 10, 11

_DRIVE = re.compile(r"^[A-Za-z]:")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class _MalformedError(Exception):
    """The protobuf wire format is broken; the message says where."""


class _LimitError(Exception):
    """A scan bound was hit."""


def unsafe_location(location: str) -> str | None:
    """Say why an external data ``location`` is unsafe, relative to the model's directory.

    Args:
        location: The ``location`` value of a tensor's ``external_data``.

    Returns:
        The reason, or None for a plain relative path that stays inside the directory.
    """
    if not location:
        return "it is empty"
    if "\0" in location:
        return "it holds a NUL byte"
    if _SCHEME.match(location):
        return "it is a URL"
    if location.startswith(("\\\\", "//")):
        return "it is a UNC or network path"
    if _DRIVE.match(location):
        return "it starts with a drive letter"
    if location.startswith(("/", "\\")):
        return "it is absolute"
    if location.startswith("~"):
        return "it names a home directory"
    depth = 0
    for part in location.replace("\\", "/").split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return "its '..' components leave the model's directory"
        elif part not in ("", "."):
            depth += 1
    return None


class _Walker:
    def __init__(self, f: BinaryIO, size: int, report: rules.CappedFindings) -> None:
        self.f = f
        self.size = size
        self.report = report
        self.fields = 0
        self._buf = b""
        self._buf_start = 0
        self.opsets: dict[str, str] = {}  # custom domain -> where it was first imported
        self.ops: dict[tuple[str, str], str] = {}  # (domain, op_type) -> first node address
        self.functions: set[tuple[str, str]] = set()
        self.has_graph = False

    # --- wire format ------------------------------------------------------------------------

    def _read(self, pos: int, n: int) -> bytes:
        start = pos - self._buf_start
        if start < 0 or start + n > len(self._buf):
            self.f.seek(pos)
            self._buf = self.f.read(max(n, _CHUNK))
            self._buf_start = pos
            start = 0
            if len(self._buf) < n:
                raise _MalformedError(f"the file ended early at offset {pos}")
        return self._buf[start : start + n]

    def _varint(self, pos: int, end: int, what: str) -> tuple[int, int]:
        value = 0
        for i in range(10):
            if pos >= end:
                raise _MalformedError(f"{what}: a varint runs past its message at offset {pos}")
            byte = self._read(pos, 1)[0]
            pos += 1
            value |= (byte & 0x7F) << (7 * i)
            if not byte & 0x80:
                return value & ((1 << 64) - 1), pos
        raise _MalformedError(f"{what}: a varint longer than 10 bytes at offset {pos}")

    def fields_of(self, start: int, end: int, what: str) -> Iterator[tuple[int, int, int, int]]:
        """Yield ``(field, wire type, value or begin, end)`` for each field of a message."""
        pos = start
        while pos < end:
            self.fields += 1
            if self.fields > _MAX_FIELDS:
                raise _LimitError(f"more than {_MAX_FIELDS} protobuf fields")
            tag_at = pos
            tag, pos = self._varint(pos, end, what)
            field, wire = tag >> 3, tag & 7
            if field == 0 or field >= 1 << 29:
                raise _MalformedError(f"{what}: invalid field number {field} at offset {tag_at}")
            if wire == _VARINT:
                value, pos = self._varint(pos, end, what)
                yield field, wire, value, pos
            elif wire in (_FIXED64, _FIXED32):
                width = 8 if wire == _FIXED64 else 4
                if pos + width > end:
                    raise _MalformedError(
                        f"{what}: field {field} at offset {tag_at} runs past its message"
                    )
                pos += width
                yield field, wire, pos - width, pos
            elif wire == _LEN:
                length, pos = self._varint(pos, end, what)
                if length > end - pos:
                    raise _MalformedError(
                        f"{what}: field {field} at offset {tag_at} is {length} bytes long, "
                        f"past the end of its message ({end - pos} bytes left)"
                    )
                yield field, wire, pos, pos + length
                pos += length
            else:
                raise _MalformedError(
                    f"{what}: field {field} at offset {tag_at} has wire type {wire}, "
                    "which ONNX never uses"
                )

    def messages(
        self, start: int, end: int, what: str, depth: int
    ) -> Iterator[tuple[int, int, int]]:
        """Yield ``(field, begin, end)`` for each length-delimited field of a message."""
        if depth > _MAX_DEPTH:
            raise _MalformedError(f"{what}: messages nested deeper than {_MAX_DEPTH}")
        for field, wire, begin, stop in self.fields_of(start, end, what):
            if wire == _LEN:
                yield field, begin, stop

    def text(self, begin: int, end: int) -> str:
        raw = self._read(begin, min(end - begin, _MAX_STRING))
        out = raw.decode("utf-8", errors="replace")
        return out + "..." if end - begin > _MAX_STRING else out

    # --- ONNX messages ----------------------------------------------------------------------

    def model(self) -> None:
        what = "ModelProto"
        for field, begin, end in self.messages(0, self.size, what, 0):
            if field == _MODEL_GRAPH:
                self.has_graph = True
                self.graph(begin, end, "graph", 1)
            elif field == _MODEL_OPSET:
                self.opset(begin, end, "model opset_import", 1)
            elif field == _MODEL_FUNCTIONS:
                self.function(begin, end, 1)
            elif field == _MODEL_TRAINING:
                for sub, b, e in self.messages(begin, end, "training_info", 1):
                    if sub in _TRAINING_GRAPHS:
                        self.graph(b, e, "training_info graph", 2)

    def opset(self, start: int, end: int, where: str, depth: int) -> None:
        domain = ""
        for field, begin, stop in self.messages(start, end, where, depth):
            if field == _OPSET_DOMAIN:
                domain = self.text(begin, stop)
        if domain not in STANDARD_DOMAINS:
            self.opsets.setdefault(domain, where)

    def graph(self, start: int, end: int, where: str, depth: int) -> None:
        name = ""
        parts: list[tuple[int, int, int]] = []
        for field, begin, stop in self.messages(start, end, where, depth):
            if field == _GRAPH_NAME:
                name = self.text(begin, stop)
            elif field in (_GRAPH_NODE, _GRAPH_INIT, _GRAPH_SPARSE_INIT):
                parts.append((field, begin, stop))
        if name:
            where = f"{where} {name!r}"
        for field, begin, stop in parts:
            if field == _GRAPH_NODE:
                self.node(begin, stop, where, depth + 1)
            elif field == _GRAPH_INIT:
                self.tensor(begin, stop, f"{where}, initializer", depth + 1)
            else:
                self.sparse(begin, stop, f"{where}, sparse initializer", depth + 1)

    def node(self, start: int, end: int, where: str, depth: int) -> None:
        name = op_type = domain = ""
        attrs: list[tuple[int, int]] = []
        for field, begin, stop in self.messages(start, end, f"{where}, node", depth):
            if field == _NODE_NAME:
                name = self.text(begin, stop)
            elif field == _NODE_OP:
                op_type = self.text(begin, stop)
            elif field == _NODE_DOMAIN:
                domain = self.text(begin, stop)
            elif field == _NODE_ATTR:
                attrs.append((begin, stop))
        here = f"{where}, node {name or op_type!r}"
        self.ops.setdefault((domain, op_type), here)
        for begin, stop in attrs:
            self.attribute(begin, stop, here, depth + 1)

    def attribute(self, start: int, end: int, where: str, depth: int) -> None:
        name = ""
        parts: list[tuple[int, int, int]] = []
        for field, begin, stop in self.messages(start, end, f"{where}, attribute", depth):
            if field == _ATTR_NAME:
                name = self.text(begin, stop)
            elif field in _ATTR_SUBMESSAGES:
                parts.append((field, begin, stop))
        here = f"{where}, attribute {name!r}"
        for field, begin, stop in parts:
            if field in (_ATTR_G, _ATTR_GRAPHS):
                self.graph(begin, stop, f"{here}, subgraph", depth + 1)
            elif field in (_ATTR_T, _ATTR_TENSORS):
                self.tensor(begin, stop, f"{here}, tensor", depth + 1)
            else:
                self.sparse(begin, stop, f"{here}, sparse tensor", depth + 1)

    def sparse(self, start: int, end: int, where: str, depth: int) -> None:
        for field, begin, stop in self.messages(start, end, where, depth):
            if field in _SPARSE_TENSORS:
                self.tensor(begin, stop, where, depth + 1)

    def tensor(self, start: int, end: int, where: str, depth: int) -> None:
        name = ""
        entries: list[tuple[int, int]] = []
        for field, begin, stop in self.messages(start, end, where, depth):
            if field == _TENSOR_NAME:
                name = self.text(begin, stop)
            elif field == _TENSOR_EXTERNAL:
                entries.append((begin, stop))
        here = f"{where} {name!r}"
        for begin, stop in entries:
            key = value = ""
            for field, b, e in self.messages(begin, stop, f"{here}, external_data", depth + 1):
                if field == _ENTRY_KEY:
                    key = self.text(b, e)
                elif field == _ENTRY_VALUE:
                    value = self.text(b, e)
            if key == "location":
                reason = unsafe_location(value)
                if reason is not None:
                    self.report.add(
                        rules.EXTERNAL_DATA_PATH,
                        f"tensor {name!r} keeps its data in external file {value!r}: {reason}; "
                        "loading the model reads (saving it writes) outside the model's "
                        "directory",
                        here,
                    )
            elif key in ("offset", "length") and not value.isdigit():
                self.report.add(
                    rules.UNPARSEABLE,
                    f"tensor {name!r}: external_data {key} {value!r} is not a number",
                    here,
                    Severity.MEDIUM,
                )

    def function(self, start: int, end: int, depth: int) -> None:
        name = domain = ""
        parts: list[tuple[int, int, int]] = []
        for field, begin, stop in self.messages(start, end, "function", depth):
            if field == _FUNC_NAME:
                name = self.text(begin, stop)
            elif field == _FUNC_DOMAIN:
                domain = self.text(begin, stop)
            elif field in (_FUNC_NODE, _FUNC_OPSET, _FUNC_ATTR):
                parts.append((field, begin, stop))
        self.functions.add((domain, name))
        where = f"function {domain}.{name}" if domain else f"function {name}"
        for field, begin, stop in parts:
            if field == _FUNC_NODE:
                self.node(begin, stop, where, depth + 1)
            elif field == _FUNC_OPSET:
                self.opset(begin, stop, f"{where} opset_import", depth + 1)
            else:
                self.attribute(begin, stop, f"{where}, default", depth + 1)

    def report_domains(self) -> None:
        function_domains = {domain for domain, _ in self.functions}
        used: set[str] = set()
        for (domain, op_type), where in self.ops.items():
            if domain in STANDARD_DOMAINS or (domain, op_type) in self.functions:
                continue
            used.add(domain)
            self.report.add(
                rules.CUSTOM_OPERATOR,
                f"operator {op_type!r} is in the custom domain {domain!r}: running the model "
                "needs a native custom-operator library for it",
                where,
                Severity.MEDIUM,
            )
        for domain, where in self.opsets.items():
            if domain in used or domain in function_domains:
                continue
            self.report.add(
                rules.CUSTOM_OPERATOR,
                f"the model imports the custom operator domain {domain!r}, which needs a "
                "native custom-operator library",
                where,
                Severity.MEDIUM,
            )


def check_onnx(f: BinaryIO, size: int, *, path: str, limits: ScanLimits) -> list[Finding]:
    """Check an ONNX model's external data locations and operator domains.

    Args:
        f: The file, seekable; the ``ModelProto`` starts at offset 0.
        size: Its size in bytes.
        path: The file, for findings.
        limits: Accepted for a uniform signature; the walk has its own fixed bounds (depth
            100, 20 million fields) and reads no tensor data.

    Returns:
        ``SSDF-SCAN-014`` (high) for each unsafe external data location, naming the tensor;
        ``SSDF-SCAN-015`` (medium) for each custom operator domain and op type;
        ``SSDF-SCAN-003`` for a broken wire format; ``SSDF-SCAN-004`` when a bound was hit.
    """
    del limits
    report = rules.CappedFindings(
        path, "ONNX findings", limit=_MAX_FINDINGS, summary_severity=Severity.MEDIUM
    )
    walker = _Walker(f, size, report)
    try:
        walker.model()
    except _MalformedError as exc:
        report.add(rules.UNPARSEABLE, f"malformed ONNX protobuf: {exc}")
    except _LimitError as exc:
        report.add(rules.NOT_SCANNED, f"ONNX model not fully scanned: {exc}")
    else:
        if not walker.has_graph:
            report.add(rules.UNPARSEABLE, "the ONNX model has no graph", severity=Severity.MEDIUM)
    walker.report_domains()
    return report.done()
