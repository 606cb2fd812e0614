"""ONNX checks: real models are clean; unsafe external data paths and custom domains found."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from container_fixtures import SMALL_LIMITS
from hypothesis import given, settings
from hypothesis import strategies as st

from ssdf_ai.findings import Finding, Severity
from ssdf_ai.scan import rules
from ssdf_ai.scan.onnx_check import check_onnx, unsafe_location

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
helper = onnx.helper
TP = onnx.TensorProto


def check(data: bytes) -> list[Finding]:
    return check_onnx(io.BytesIO(data), len(data), path="m.onnx", limits=SMALL_LIMITS)


def rule_ids(findings: list[Finding]) -> list[str]:
    return [f.rule_id for f in findings]


def make_model(
    nodes: list[Any] | None = None, opsets: list[Any] | None = None, big: bool = False
) -> Any:
    shape = [64, 64] if big else [2, 2]
    weight = onnx.numpy_helper.from_array(np.ones(shape, dtype=np.float32), name="W")
    graph = helper.make_graph(
        nodes or [helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm")],
        "main",
        [helper.make_tensor_value_info("X", TP.FLOAT, shape)],
        [helper.make_tensor_value_info("Y", TP.FLOAT, shape)],
        initializer=[weight],
    )
    return helper.make_model(graph, opset_imports=opsets or [helper.make_opsetid("", 17)])


def test_plain_model_is_clean() -> None:
    assert check(make_model().SerializeToString()) == []


def test_control_flow_and_ml_domains_are_clean() -> None:
    then = helper.make_graph(
        [helper.make_node("Identity", ["X"], ["T"])],
        "then",
        [],
        [helper.make_tensor_value_info("T", TP.FLOAT, [2, 2])],
    )
    other = helper.make_graph(
        [helper.make_node("Neg", ["X"], ["E"])],
        "else",
        [],
        [helper.make_tensor_value_info("E", TP.FLOAT, [2, 2])],
    )
    nodes = [
        helper.make_node("Constant", [], ["C"], value=helper.make_tensor("c", TP.BOOL, [], [1])),
        helper.make_node("If", ["C"], ["Y"], then_branch=then, else_branch=other),
        helper.make_node("Normalizer", ["X"], ["Z"], domain="ai.onnx.ml", norm="MAX"),
        helper.make_node("FusedMatMul", ["X", "W"], ["Q"], domain="com.microsoft"),
    ]
    opsets = [
        helper.make_opsetid("", 17),
        helper.make_opsetid("ai.onnx.ml", 3),
        helper.make_opsetid("com.microsoft", 1),
    ]
    assert check(make_model(nodes, opsets).SerializeToString()) == []


def save_external(tmp_path: Path) -> Path:
    out = tmp_path / "model.onnx"
    onnx.save_model(
        make_model(big=True),
        str(out),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="weights.bin",
        size_threshold=0,
    )
    return out


def test_external_data_with_relative_location_is_clean(tmp_path: Path) -> None:
    out = save_external(tmp_path)
    assert (tmp_path / "weights.bin").exists()
    assert check(out.read_bytes()) == []


@pytest.mark.parametrize(
    "location",
    ["../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini", "\\\\host\\share\\w", "a/../../b"],
)
def test_unsafe_external_location_is_found(tmp_path: Path, location: str) -> None:
    model = onnx.load_model(str(save_external(tmp_path)), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    findings = check(model.SerializeToString())
    assert rule_ids(findings) == [rules.EXTERNAL_DATA_PATH]
    assert findings[0].severity is Severity.HIGH
    assert "'W'" in findings[0].message
    assert location in findings[0].message or repr(location)[1:-1] in findings[0].message


def test_unsafe_location_in_subgraph_attribute_tensor() -> None:
    tensor = helper.make_tensor("k", TP.FLOAT, [1], [1.0])
    tensor.data_location = TP.EXTERNAL
    tensor.ClearField("float_data")
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "/etc/shadow"
    body = helper.make_graph(
        [helper.make_node("Constant", [], ["K"], value=tensor)],
        "body",
        [],
        [helper.make_tensor_value_info("K", TP.FLOAT, [1])],
    )
    loop = helper.make_node("Loop", ["", ""], ["Y"], body=body, name="loop")
    findings = check(make_model([loop]).SerializeToString())
    assert rule_ids(findings) == [rules.EXTERNAL_DATA_PATH]
    assert "subgraph" in (findings[0].location.address or "")


@pytest.mark.parametrize(
    ("location", "safe"),
    [
        ("weights.bin", True),
        ("sub/dir/w.bin", True),
        ("a/../w.bin", True),
        ("./w.bin", True),
        ("", False),
        ("..", False),
        ("~/w.bin", False),
        ("file:///etc/passwd", False),
        ("//server/x", False),
        ("d:w.bin", False),
        ("a\0b", False),
    ],
)
def test_unsafe_location_rules(location: str, safe: bool) -> None:
    assert (unsafe_location(location) is None) is safe


def test_custom_domain_is_found() -> None:
    nodes = [helper.make_node("Pwn", ["X"], ["Y"], domain="evil.custom", name="bad")]
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("evil.custom", 1)]
    findings = check(make_model(nodes, opsets).SerializeToString())
    assert rule_ids(findings) == [rules.CUSTOM_OPERATOR]
    assert findings[0].severity is Severity.MEDIUM
    assert "evil.custom" in findings[0].message
    assert "Pwn" in findings[0].message


def test_custom_opset_without_nodes_is_found() -> None:
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("my.ops", 1)]
    findings = check(make_model(None, opsets).SerializeToString())
    assert rule_ids(findings) == [rules.CUSTOM_OPERATOR]
    assert "my.ops" in findings[0].message


def test_model_local_function_is_not_a_custom_op() -> None:
    func = helper.make_function(
        "local.fn",
        "Double",
        ["A"],
        ["B"],
        [helper.make_node("Add", ["A", "A"], ["B"])],
        [helper.make_opsetid("", 17)],
    )
    nodes = [helper.make_node("Double", ["X"], ["Y"], domain="local.fn")]
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("local.fn", 1)]
    model = make_model(nodes, opsets)
    model.functions.append(func)
    assert check(model.SerializeToString()) == []


def test_custom_op_inside_function_is_found() -> None:
    func = helper.make_function(
        "local.fn",
        "Wrap",
        ["A"],
        ["B"],
        [helper.make_node("Native", ["A"], ["B"], domain="vendor.ops")],
        [helper.make_opsetid("vendor.ops", 1)],
    )
    model = make_model([helper.make_node("Wrap", ["X"], ["Y"], domain="local.fn")])
    model.functions.append(func)
    findings = check(model.SerializeToString())
    assert rule_ids(findings) == [rules.CUSTOM_OPERATOR]
    assert "vendor.ops" in findings[0].message


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\x3a\xff\xff\xff\x0f", "past the end"),  # graph length beyond EOF
        (b"\x3a", "varint"),
        (b"\x08" + b"\xff" * 11, "longer than 10"),
        (b"\x00\x01", "invalid field number 0"),
        (b"\x3b\x00", "wire type 3"),
        (b"\x3a\x02\x0a\x05", "past the end"),  # node inside the graph overruns
        (b"not a protobuf at all", ""),
    ],
)
def test_malformed_is_unparseable(data: bytes, needle: str) -> None:
    findings = check(data)
    assert rules.UNPARSEABLE in rule_ids(findings)
    assert any(needle in f.message for f in findings)


def test_empty_file_has_no_graph() -> None:
    findings = check(b"")
    assert rule_ids(findings) == [rules.UNPARSEABLE]
    assert "no graph" in findings[0].message


def ld(field: int, payload: bytes) -> bytes:
    """Encode a length-delimited protobuf field (payloads here stay under 2**21 bytes)."""
    n = len(payload)
    varint = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        varint += bytes([byte | (0x80 if n else 0)])
        if not n:
            break
    return bytes([field << 3 | 2]) + varint + payload


def test_deep_nesting_is_unparseable() -> None:
    graph = b""
    for _ in range(40):  # graph > node > attribute > graph: three levels each
        graph = ld(1, ld(5, ld(6, graph)))
    findings = check(ld(7, graph))
    assert rule_ids(findings) == [rules.UNPARSEABLE]
    assert "nested deeper" in findings[0].message


def test_hand_encoded_custom_node() -> None:
    node = ld(4, b"Pwn") + ld(7, b"x.y")
    assert rule_ids(check(ld(7, ld(1, node)))) == [rules.CUSTOM_OPERATOR]


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.binary(max_size=200), st.integers(0, 10_000))
def test_fuzz_never_raises(noise: bytes, where: int) -> None:
    nodes = [helper.make_node("Pwn", ["X"], ["Y"], domain="evil.custom")]
    base = make_model(nodes).SerializeToString()
    where %= len(base)
    mutated = base[:where] + noise + base[where + len(noise) :]
    for data in (mutated, noise):
        assert all(isinstance(f, Finding) for f in check(data))
