"""SavedModel graph checks over hand-encoded protobufs (TensorFlow is not needed)."""

from __future__ import annotations

import random

import pytest

from ssdf_ai.findings import Finding, Severity
from ssdf_ai.scan import rules, savedmodel_check
from ssdf_ai.scan._types import ScanLimits
from ssdf_ai.scan.savedmodel_check import FILE_OPS, PYTHON_OPS, check_savedmodel

LIMITS = ScanLimits()

# --------------------------------------------------------------------------------------------
# a minimal protobuf writer (field numbers as in tensorflow's .proto files)


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_len(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(data)) + data


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def attr_entry(key: str, *, s: str | None = None, strings: tuple[str, ...] = ()) -> bytes:
    value = b""
    if s is not None:
        value += field_len(2, s)  # AttrValue.s
    if strings:
        value += field_len(1, b"".join(field_len(2, x) for x in strings))  # AttrValue.list.s
    return field_len(1, key) + field_len(2, value)


def node(name: str, op: str, *attrs: bytes, inputs: tuple[str, ...] = ()) -> bytes:
    body = field_len(1, name) + field_len(2, op)
    body += b"".join(field_len(3, i) for i in inputs)
    body += field_len(4, "/device:CPU:0")
    body += b"".join(field_len(5, a) for a in attrs)
    return body


def function(name: str, *nodes: bytes) -> bytes:
    signature = field_len(1, name) + field_len(2, field_len(1, "x"))  # OpDef name, input_arg
    return field_len(1, signature) + b"".join(field_len(3, n) for n in nodes)


def graph(nodes: list[bytes], functions: tuple[bytes, ...] | list[bytes] = ()) -> bytes:
    body = b"".join(field_len(1, n) for n in nodes)
    if functions:
        body += field_len(2, b"".join(field_len(1, f) for f in functions))
    body += field_len(4, field_varint(1, 1087))  # versions.producer
    return body


def saved_model(*graphs: bytes) -> bytes:
    body = field_varint(1, 1)
    for g in graphs:
        meta_info = field_len(1, field_len(4, "serve"))  # MetaInfoDef.tags
        saver_def = field_len(1, "save/Const:0") + field_len(3, "save/restore_all")
        body += field_len(2, meta_info + field_len(2, g) + field_len(3, saver_def))
    return body


BENIGN_NODES = [
    node("x", "Placeholder", attr_entry("dtype", s="")),
    node("w", "Const"),
    node("dense/MatMul", "MatMul", inputs=("x", "w")),
    node("dense/Add", "Add", inputs=("dense/MatMul", "w")),
    node("save/Const", "Const"),
    node("save/SaveV2", "SaveV2", inputs=("save/Const",)),
    node("save/RestoreV2", "RestoreV2", inputs=("save/Const",)),
    node("save_1/MergeV2Checkpoints", "MergeV2Checkpoints"),
    node("saver_filename", "Placeholder"),
    node("StatefulPartitionedCall_1", "StatefulPartitionedCall", inputs=("saver_filename",)),
    node(
        "dbg",
        "DebugIdentity",
        attr_entry("debug_urls", strings=("grpc://localhost:6064",)),
    ),
]

TF2_SAVER_FUNCTIONS = [
    function(
        "__inference__traced_save_123",
        node("StringJoin", "StringJoin"),
        node("ShardedFilename", "ShardedFilename"),
        node("SaveV2", "SaveV2"),
        node("MergeV2Checkpoints", "MergeV2Checkpoints"),
    ),
    function("__inference__traced_restore_456", node("RestoreV2", "RestoreV2")),
    function("__inference_call_789", node("MatMul", "MatMul"), node("Relu", "Relu")),
]


def check(pb: bytes, limits: ScanLimits = LIMITS) -> list[Finding]:
    return check_savedmodel(pb, path="saved_model.pb", limits=limits)


def rule_ids(findings: list[Finding]) -> list[str]:
    return [f.rule_id for f in findings]


# --------------------------------------------------------------------------------------------
# benign


def test_benign_graph_with_saver_is_clean() -> None:
    assert check(saved_model(graph(BENIGN_NODES, TF2_SAVER_FUNCTIONS))) == []


def test_several_meta_graphs_and_unknown_fields_are_clean() -> None:
    extra = field_len(15, b"\x01\x02") + field_varint(16, 3) + b"\x0d\x00\x00\x00\x00"
    pb = saved_model(graph(BENIGN_NODES), graph(BENIGN_NODES[:3])) + extra
    assert check(pb) == []


def test_real_protobuf_message_encoding_matches_if_available() -> None:
    """A message encoded by the protobuf library (an empty Struct) is read without errors."""
    struct_pb2 = pytest.importorskip("google.protobuf.struct_pb2")
    message = struct_pb2.Struct()
    message.fields["a"].string_value = "b"
    findings = check(field_len(2, field_len(99, message.SerializeToString())))
    assert findings == []


# --------------------------------------------------------------------------------------------
# risky ops


@pytest.mark.parametrize("op", sorted(PYTHON_OPS))
def test_python_ops_are_critical(op: str) -> None:
    findings = check(saved_model(graph([*BENIGN_NODES, node("evil", op)])))
    assert rule_ids(findings) == [rules.EMBEDDED_CODE]
    assert findings[0].severity is Severity.CRITICAL
    assert findings[0].location.address == "meta graph 0, node evil"
    assert op in findings[0].message


def test_python_op_in_saver_scope_is_still_critical() -> None:
    findings = check(saved_model(graph([node("save/PyFunc", "PyFunc")])))
    assert rule_ids(findings) == [rules.EMBEDDED_CODE]


def test_read_file_outside_saver_is_medium() -> None:
    findings = check(saved_model(graph([*BENIGN_NODES, node("loader/ReadFile", "ReadFile")])))
    assert rule_ids(findings) == [rules.CUSTOM_OBJECT]
    assert findings[0].severity is Severity.MEDIUM
    assert "loader/ReadFile" in (findings[0].location.address or "")


def test_read_file_inside_saver_scope_is_still_medium() -> None:
    findings = check(saved_model(graph([node("save/ReadFile", "ReadFile")])))
    assert rule_ids(findings) == [rules.CUSTOM_OBJECT]


def test_saver_ops_outside_saver_are_medium() -> None:
    findings = check(
        saved_model(graph([node("saver/SaveV2", "SaveV2"), node("restore", "RestoreV2")]))
    )
    assert rule_ids(findings) == [rules.CUSTOM_OBJECT, rules.CUSTOM_OBJECT]


@pytest.mark.parametrize("op", sorted(FILE_OPS))
def test_every_file_op_is_medium(op: str) -> None:
    assert rule_ids(check(saved_model(graph([node("n", op)])))) == [rules.CUSTOM_OBJECT]


def test_function_library_py_func_is_critical() -> None:
    functions = [*TF2_SAVER_FUNCTIONS, function("__inference_f_1", node("py", "EagerPyFunc"))]
    findings = check(saved_model(graph(BENIGN_NODES, functions)))
    assert rule_ids(findings) == [rules.EMBEDDED_CODE]
    assert findings[0].location.address == "meta graph 0, function __inference_f_1, node py"


def test_file_op_in_other_function_is_medium_but_not_in_saver_functions() -> None:
    functions = [
        function("__inference__traced_save_9", node("w", "WriteFile"), node("s", "SaveV2")),
        function("__inference_serve_2", node("r", "RestoreV2")),
    ]
    findings = check(saved_model(graph([], functions)))
    assert rule_ids(findings) == [rules.CUSTOM_OBJECT, rules.CUSTOM_OBJECT]
    addresses = [f.location.address for f in findings]
    assert addresses == [
        "meta graph 0, function __inference__traced_save_9, node w",
        "meta graph 0, function __inference_serve_2, node r",
    ]


def test_debug_and_print_ops_writing_files_are_medium() -> None:
    nodes = [
        node("d1", "DebugIdentity", attr_entry("debug_urls", strings=("file:///tmp/dump",))),
        node("p", "PrintV2", attr_entry("output_stream", s="file:///tmp/leak.txt")),
        node("p2", "PrintV2", attr_entry("output_stream", s="stderr")),
    ]
    findings = check(saved_model(graph(nodes)))
    assert rule_ids(findings) == [rules.CUSTOM_OBJECT, rules.CUSTOM_OBJECT]
    assert "file:///tmp/dump" in findings[0].message


def test_second_meta_graph_is_checked() -> None:
    findings = check(saved_model(graph(BENIGN_NODES), graph([node("e", "PyFunc")])))
    assert [f.location.address for f in findings] == ["meta graph 1, node e"]


def test_findings_are_capped() -> None:
    findings = check(saved_model(graph([node(f"n{i}", "PyFunc") for i in range(70)])))
    assert len(findings) == 51
    assert "20 more" in findings[-1].message


# --------------------------------------------------------------------------------------------
# malformed


@pytest.mark.parametrize(
    "pb",
    [
        b"\x12\x05ab",  # meta_graphs runs past the end
        b"\x12",  # length missing
        b"\xff" * 11,  # varint too long
        b"\x10\x01",  # meta_graphs as a varint
        b"\x0b\x00",  # group wire type
        b"\x00\x01",  # field number 0
        field_len(2, field_len(2, field_len(1, field_len(2, b"\xff\xfe")))),  # op not UTF-8
        field_len(2, field_len(2, b"\x0a\x09abc")),  # node runs past its graph
        b"junk that is not a protobuf",
        field_varint(1, 1),  # a schema version and no meta graph
    ],
)
def test_malformed_is_unparseable(pb: bytes) -> None:
    findings = check(pb)
    assert rules.UNPARSEABLE in rule_ids(findings)


def test_findings_before_malformed_part_are_kept() -> None:
    pb = saved_model(graph([node("e", "PyFunc")])) + b"\x12\x7f"
    assert rule_ids(check(pb)) == [rules.EMBEDDED_CODE, rules.UNPARSEABLE]


def test_empty_file_is_clean() -> None:
    assert check(b"") == []


def test_too_large_is_unparseable() -> None:
    pb = saved_model(graph(BENIGN_NODES))
    findings = check(pb, ScanLimits(max_member_bytes=10))
    assert rule_ids(findings) == [rules.UNPARSEABLE]


def test_field_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(savedmodel_check, "MAX_FIELDS", 20)
    findings = check(saved_model(graph(BENIGN_NODES)))
    assert rule_ids(findings) == [rules.UNPARSEABLE]
    assert "more than 20" in findings[0].message


def test_fuzz_never_raises() -> None:
    rng = random.Random(218)
    base = saved_model(graph([*BENIGN_NODES, node("e", "PyFunc")], TF2_SAVER_FUNCTIONS))
    for _ in range(1500):
        data = bytearray(base)
        for _ in range(rng.randint(1, 6)):
            choice = rng.random()
            pos = rng.randrange(len(data))
            if choice < 0.5:
                data[pos] = rng.randrange(256)
            elif choice < 0.75:
                del data[pos : pos + rng.randint(1, 8)]
            else:
                data[pos:pos] = rng.randbytes(rng.randint(1, 8))
        findings = check(bytes(data))
        assert all(f.rule_id in rules.RULES for f in findings)
        assert len(findings) <= 51
    for _ in range(500):
        assert isinstance(check(rng.randbytes(rng.randint(0, 200))), list)
