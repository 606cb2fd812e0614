"""Check a TensorFlow SavedModel's graph for ops that run Python or touch files.

``saved_model.pb`` is a ``SavedModel`` protocol buffer. TensorFlow loads it by building the
graphs it describes, and the ops of those graphs run when the model is served. Most ops are
arithmetic; a few are not:

* ``PyFunc``, ``PyFuncStateless`` and ``EagerPyFunc`` call a Python function of the process
  that runs the graph (``tf.py_function``): ``SSDF-SCAN-016``, critical.
* ops that read, write or list files (``ReadFile``, ``WriteFile``, ``MatchingFiles``,
  ``Save``/``Restore`` and their variants, file readers and file datasets, ``ImmutableConst``
  which maps a file into memory), and debug or print ops whose attributes send output to a
  ``file://`` URL: ``SSDF-SCAN-017``, medium.

Every normal SavedModel holds a saver: TF1 graphs a ``save/`` name scope (``save/SaveV2``,
``save/RestoreV2``, ``save/MergeV2Checkpoints``, or ``save_1/``... when there are several),
TF2 graphs the functions ``__inference__traced_save_N`` and ``__inference__traced_restore_N``
(called from the ``saver_filename`` placeholder's graph). The checkpoint ops *of that saver*
(:data:`SAVER_OPS`) are not reported there; any other file op there, and every Python op
anywhere, still is.

The reader is a minimal protobuf wire-format parser that only descends into the messages it
needs (field numbers from ``tensorflow/core/protobuf/saved_model.proto``,
``meta_graph.proto``, ``framework/graph.proto``, ``function.proto``, ``node_def.proto``,
``attr_value.proto``), so its nesting depth is fixed; it counts every field it reads and stops
at :data:`MAX_FIELDS`. Malformed wire data is ``SSDF-SCAN-003``. TensorFlow is never needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ssdf_ai.findings import Finding
from ssdf_ai.scan import rules
from ssdf_ai.scan._types import ScanLimits

__all__ = [
    "FILE_OPS",
    "MAX_FIELDS",
    "PYTHON_OPS",
    "SAVER_OPS",
    "URL_OPS",
    "check_savedmodel",
]

PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})

FILE_OPS = frozenset(
    {
        "ReadFile",
        "WriteFile",
        "MatchingFiles",
        "ImmutableConst",
        "Save",
        "SaveV2",
        "SaveSlices",
        "Restore",
        "RestoreV2",
        "RestoreSlice",
        "MergeV2Checkpoints",
        "ReaderRead",
        "ReaderReadV2",
        "ReaderReadUpTo",
        "ReaderReadUpToV2",
        "WholeFileReader",
        "WholeFileReaderV2",
        "TextLineReader",
        "TextLineReaderV2",
        "FixedLengthRecordReader",
        "FixedLengthRecordReaderV2",
        "TFRecordReader",
        "TFRecordReaderV2",
        "LMDBReader",
        "TFRecordDataset",
        "TFRecordDatasetV2",
        "TextLineDataset",
        "FixedLengthRecordDataset",
        "FixedLengthRecordDatasetV2",
        "CSVDataset",
        "CSVDatasetV2",
        "ExperimentalCSVDataset",
        "LMDBDataset",
        "ExperimentalLMDBDataset",
        "DatasetToTFRecord",
        "ExperimentalDatasetToTFRecord",
        "SaveDataset",
        "SaveDatasetV2",
        "LoadDataset",
        "CreateSummaryFileWriter",
    }
)

# Ops that only touch files when an attribute names a file:// URL.
URL_OPS = frozenset(
    {
        "DebugIdentity",
        "DebugIdentityV2",
        "DebugIdentityV3",
        "DebugNanCount",
        "DebugNumericSummary",
        "DebugNumericSummaryV2",
        "PrintV2",
    }
)

# Checkpoint ops every saver holds; not reported inside the saver's scope or functions.
SAVER_OPS = frozenset(
    {
        "SaveV2",
        "RestoreV2",
        "MergeV2Checkpoints",
        "Save",
        "SaveSlices",
        "Restore",
        "RestoreSlice",
    }
)

MAX_FIELDS = 20_000_000
_MAX_FINDINGS = 50
_MAX_STRING = 4096  # longest attribute string looked at for file:// URLs

_SAVER_SCOPE = re.compile(r"^save(?:_\d+)?/")
_SAVER_FUNCTION = re.compile(r"^__inference__traced_(?:save|restore)_\d+$")

# Wire types.
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

# Field numbers.
_SM_META_GRAPHS = 2  # SavedModel.meta_graphs
_MG_GRAPH_DEF = 2  # MetaGraphDef.graph_def
_GD_NODE = 1  # GraphDef.node
_GD_LIBRARY = 2  # GraphDef.library
_LIB_FUNCTION = 1  # FunctionDefLibrary.function
_FD_SIGNATURE = 1  # FunctionDef.signature (OpDef)
_FD_NODE_DEF = 3  # FunctionDef.node_def
_OPDEF_NAME = 1  # OpDef.name
_ND_NAME, _ND_OP, _ND_ATTR = 1, 2, 5  # NodeDef.name, .op, .attr (map<string, AttrValue>)
_MAP_KEY, _MAP_VALUE = 1, 2
_AV_LIST, _AV_S = 1, 2  # AttrValue.list (ListValue), AttrValue.s
_LV_S = 2  # ListValue.s


class _Malformed(Exception):  # noqa: N818 - internal control flow
    pass


class _TooMany(Exception):  # noqa: N818 - internal control flow
    pass


class _Reader:
    """Counts fields across the whole file so that hostile input stays bounded."""

    def __init__(self) -> None:
        self.fields = 0

    def fields_of(self, buf: bytes | memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
        """Yield ``(field number, wire type, value)``; LEN values are memoryviews."""
        view = memoryview(buf)
        pos, end = 0, len(view)
        while pos < end:
            self.fields += 1
            if self.fields > MAX_FIELDS:
                raise _TooMany
            key, pos = _varint(view, pos)
            number, wire = key >> 3, key & 7
            if number == 0:
                raise _Malformed(f"field number 0 at byte {pos}")
            if wire == _VARINT:
                value, pos = _varint(view, pos)
                yield number, wire, value
            elif wire == _I64:
                if pos + 8 > end:
                    raise _Malformed("a 64-bit field runs past the end of its message")
                pos += 8
                yield number, wire, 0
            elif wire == _I32:
                if pos + 4 > end:
                    raise _Malformed("a 32-bit field runs past the end of its message")
                pos += 4
                yield number, wire, 0
            elif wire == _LEN:
                length, pos = _varint(view, pos)
                if length > end - pos:
                    raise _Malformed(
                        f"field {number} declares {length} bytes, more than its message holds"
                    )
                yield number, wire, view[pos : pos + length]
                pos += length
            else:
                raise _Malformed(f"field {number} has unsupported wire type {wire}")


def _varint(view: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    for i in range(10):
        if pos + i >= len(view):
            raise _Malformed("a varint runs past the end of its message")
        byte = view[pos + i]
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos + i + 1
        shift += 7
    raise _Malformed(f"a varint at byte {pos} is longer than 10 bytes")


def _sub(number: int, wire: int, value: int | memoryview) -> memoryview:
    if wire != _LEN or not isinstance(value, memoryview):
        raise _Malformed(f"field {number} should be length-delimited, has wire type {wire}")
    return value


def _text(number: int, wire: int, value: int | memoryview) -> str:
    data = _sub(number, wire, value)
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Malformed(f"field {number} is not UTF-8") from exc


class _Report:
    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[Finding] = []
        self.dropped = 0

    def add(self, rule_id: str, message: str, address: str | None) -> None:
        if len(self.items) >= _MAX_FINDINGS:
            self.dropped += 1
            return
        self.items.append(rules.finding(rule_id, message, path=self.path, address=address))

    def done(self) -> list[Finding]:
        if self.dropped:
            self.items.append(
                rules.finding(
                    rules.CUSTOM_OBJECT,
                    f"{self.dropped} more risky ops were not listed one by one",
                    path=self.path,
                )
            )
        return self.items


def check_savedmodel(pb: bytes, *, path: str, limits: ScanLimits) -> list[Finding]:
    """Check the ops of every graph and function in a ``saved_model.pb``.

    Args:
        pb: The file's bytes.
        path: The scanned file, for findings.
        limits: ``max_member_bytes`` bounds the size accepted.

    Returns:
        ``SSDF-SCAN-016`` (critical) per node running Python, ``SSDF-SCAN-017`` (medium) per
        node touching files outside the standard saver, ``SSDF-SCAN-003`` when the protobuf is
        malformed or too large to read (what was read before is still reported); each
        finding's address names the meta graph, the function and the node.
    """
    report = _Report(path)
    if len(pb) > limits.max_member_bytes:
        report.add(
            rules.UNPARSEABLE,
            f"saved_model.pb is {len(pb)} bytes, above the limit of {limits.max_member_bytes}; "
            "it was not checked",
            None,
        )
        return report.done()
    reader = _Reader()
    graphs = 0
    try:
        for number, wire, value in reader.fields_of(pb):
            if number == _SM_META_GRAPHS:
                _meta_graph(reader, _sub(number, wire, value), graphs, report)
                graphs += 1
    except _Malformed as exc:
        report.add(
            rules.UNPARSEABLE,
            f"saved_model.pb is not a valid SavedModel protobuf ({exc}); what follows was "
            "not checked",
            f"meta graph {graphs}",
        )
    except _TooMany:
        report.add(
            rules.UNPARSEABLE,
            f"saved_model.pb holds more than {MAX_FIELDS} protobuf fields; the rest was not "
            "checked",
            f"meta graph {graphs}",
        )
    else:
        if graphs == 0 and pb:
            report.add(rules.UNPARSEABLE, "saved_model.pb holds no meta graph", None)
    return report.done()


def _meta_graph(reader: _Reader, data: memoryview, index: int, report: _Report) -> None:
    for number, wire, value in reader.fields_of(data):
        if number != _MG_GRAPH_DEF:
            continue
        for g_number, g_wire, g_value in reader.fields_of(_sub(number, wire, value)):
            if g_number == _GD_NODE:
                _node(reader, _sub(g_number, g_wire, g_value), f"meta graph {index}", None, report)
            elif g_number == _GD_LIBRARY:
                _library(reader, _sub(g_number, g_wire, g_value), index, report)


def _library(reader: _Reader, data: memoryview, index: int, report: _Report) -> None:
    for number, wire, value in reader.fields_of(data):
        if number != _LIB_FUNCTION:
            continue
        function = _sub(number, wire, value)
        name = ""
        nodes: list[memoryview] = []
        for f_number, f_wire, f_value in reader.fields_of(function):
            if f_number == _FD_SIGNATURE:
                for s_number, s_wire, s_value in reader.fields_of(_sub(f_number, f_wire, f_value)):
                    if s_number == _OPDEF_NAME:
                        name = _text(s_number, s_wire, s_value)
            elif f_number == _FD_NODE_DEF:
                nodes.append(_sub(f_number, f_wire, f_value))
        where = f"meta graph {index}, function {name or '<unnamed>'}"
        for node in nodes:
            _node(reader, node, where, name, report)


def _node(
    reader: _Reader, data: memoryview, where: str, function: str | None, report: _Report
) -> None:
    name = op = ""
    urls: list[str] = []
    for number, wire, value in reader.fields_of(data):
        if number == _ND_NAME:
            name = _text(number, wire, value)
        elif number == _ND_OP:
            op = _text(number, wire, value)
        elif number == _ND_ATTR:
            urls.extend(_attr_urls(reader, _sub(number, wire, value)))
    address = f"{where}, node {name or '<unnamed>'}"
    in_function = f" in function {function!r}" if function else " in the graph"
    if op in PYTHON_OPS:
        report.add(
            rules.EMBEDDED_CODE,
            f"node {name!r}{in_function} is a {op} op: it calls a Python function of the "
            "process that runs the model",
            address,
        )
    elif op in FILE_OPS:
        if op in SAVER_OPS and _in_saver(name, function):
            return
        report.add(
            rules.CUSTOM_OBJECT,
            f"node {name!r}{in_function} is a {op} op: it reads, writes or lists files "
            "outside the model's standard saver",
            address,
        )
    elif op in URL_OPS and urls:
        report.add(
            rules.CUSTOM_OBJECT,
            f"node {name!r}{in_function} is a {op} op that writes to {urls[0]!r}",
            address,
        )


def _in_saver(name: str, function: str | None) -> bool:
    if function is not None:
        return bool(_SAVER_FUNCTION.match(function))
    return bool(_SAVER_SCOPE.match(name))


def _attr_urls(reader: _Reader, entry: memoryview) -> Iterator[str]:
    """``file://`` URLs among an attribute's string values (``s`` or ``list.s``)."""
    for number, wire, value in reader.fields_of(entry):
        if number != _MAP_VALUE:
            continue
        for a_number, a_wire, a_value in reader.fields_of(_sub(number, wire, value)):
            if a_number == _AV_S:
                yield from _url(_sub(a_number, a_wire, a_value))
            elif a_number == _AV_LIST:
                for l_number, l_wire, l_value in reader.fields_of(_sub(a_number, a_wire, a_value)):
                    if l_number == _LV_S:
                        yield from _url(_sub(l_number, l_wire, l_value))


def _url(data: memoryview) -> Iterator[str]:
    text = bytes(data[:_MAX_STRING]).decode("utf-8", "replace").strip()
    if text.lower().startswith("file://"):
        yield text
