"""safetensors header validation: real files are clean, each broken rule is reported."""

from __future__ import annotations

import io
import struct
from typing import Any

import pytest
from container_fixtures import SMALL_LIMITS, safetensors_bytes

from ssdf_ai.findings import Finding, Severity
from ssdf_ai.scan import rules
from ssdf_ai.scan._types import ScanLimits
from ssdf_ai.scan.safetensors_check import DTYPE_BITS, check_safetensors


def check(data: bytes, limits: ScanLimits = SMALL_LIMITS) -> list[Finding]:
    return check_safetensors(io.BytesIO(data), len(data), path="m.safetensors", limits=limits)


def test_files_written_by_safetensors_numpy_are_clean() -> None:
    np = pytest.importorskip("numpy")
    st_numpy = pytest.importorskip("safetensors.numpy")
    tensors = {
        "weight": np.arange(12, dtype=np.float32).reshape(3, 4),
        "bias": np.zeros(3, dtype=np.float64),
        "mask": np.ones((2, 2), dtype=np.bool_),
        "ids": np.arange(5, dtype=np.int64),
        "small": np.arange(3, dtype=np.uint8),
        "empty": np.zeros((0, 4), dtype=np.float16),
        "scalar": np.array(1.5, dtype=np.float32),
    }
    data = st_numpy.save(tensors, metadata={"format": "np", "source": "test"})
    assert check(data) == []


def test_files_written_by_safetensors_torch_are_clean() -> None:
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    tensors = {
        "a": torch.randn(4, 4),
        "b": torch.zeros(3, dtype=torch.bfloat16),
        "c": torch.zeros(2, dtype=torch.float8_e4m3fn),
        "d": torch.zeros(2, dtype=torch.float8_e5m2),
        "e": torch.zeros(5, dtype=torch.int16),
        "f": torch.zeros(7, dtype=torch.complex64),
    }
    assert check(st_torch.save(tensors, metadata={"format": "pt"})) == []


def tensor(dtype: str, shape: list[int], begin: int, end: int) -> dict[str, Any]:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def test_sub_byte_dtypes_are_sized_in_bits() -> None:
    assert check(safetensors_bytes({"x": tensor("F4", [4], 0, 2)}, b"\0\0")) == []
    assert check(safetensors_bytes({"x": tensor("F6_E2M3", [4], 0, 3)}, b"\0" * 3)) == []
    assert len(check(safetensors_bytes({"x": tensor("F4", [3], 0, 2)}, b"\0\0"))) == 1


def test_every_listed_dtype_has_a_size() -> None:
    assert {"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16"} <= set(
        DTYPE_BITS
    )
    assert {"I32", "U32", "F32", "F64", "I64", "U64"} <= set(DTYPE_BITS)


GOOD = {"a": tensor("F32", [2], 0, 8), "b": tensor("U8", [4], 8, 12)}
GOOD_DATA = b"\0" * 12

BAD_HEADERS: list[tuple[str, bytes, str]] = [
    ("too small", b"\x01\x02", "shorter than"),
    ("header past eof", struct.pack("<Q", 1000) + b"{}", "past the end"),
    ("header over limit", struct.pack("<Q", 2 << 20) + b"{" + b" " * (2 << 20), "limit"),
    ("not utf-8", safetensors_bytes(None, raw_header=b'{"\xff": 1}'), "not UTF-8"),
    ("leading space", safetensors_bytes(None, raw_header=b' {"a": 1}'), "start with"),
    ("not json", safetensors_bytes(None, raw_header=b"{nope}"), "not valid JSON"),
    ("not an object", safetensors_bytes(None, raw_header=b"{}[]"), "not valid JSON"),
    ("NaN", safetensors_bytes(None, raw_header=b'{"x": NaN}'), "not valid JSON"),
    (
        "duplicate key",
        safetensors_bytes(
            None,
            raw_header=b'{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, '
            b'"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}',
        )
        + b"\0",
        "repeats the key 'a'",
    ),
    ("metadata not strings", safetensors_bytes({"__metadata__": {"a": 1}}), "__metadata__"),
    ("entry not object", safetensors_bytes({"a": [1, 2]}), "not an object"),
    ("missing field", safetensors_bytes({"a": {"dtype": "U8", "shape": [1]}}), "missing"),
    ("unknown dtype", safetensors_bytes({"a": tensor("F128", [1], 0, 1)}, b"\0"), "unknown dtype"),
    ("negative dim", safetensors_bytes({"a": tensor("U8", [-1], 0, 1)}, b"\0"), "shape"),
    ("bool dim", safetensors_bytes({"a": tensor("U8", [True], 0, 1)}, b"\0"), "shape"),
    (
        "offsets not pair",
        safetensors_bytes({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0]}}, b"\0"),
        "data_offsets",
    ),
    ("begin after end", safetensors_bytes({"a": tensor("U8", [0], 4, 2)}, b"\0" * 4), "after end"),
    (
        "end past data",
        safetensors_bytes({"a": tensor("U8", [8], 0, 8)}, b"\0" * 4),
        "past the data",
    ),
    ("size mismatch", safetensors_bytes({"a": tensor("F32", [3], 0, 8)}, b"\0" * 8), "need 12"),
    (
        "overlap",
        safetensors_bytes({"a": tensor("U8", [8], 0, 8), "b": tensor("U8", [4], 4, 8)}, b"\0" * 8),
        "overlap",
    ),
    ("gap", safetensors_bytes({"a": tensor("U8", [4], 4, 8)}, b"\0" * 8), "belong to no tensor"),
    ("trailing bytes", safetensors_bytes(GOOD, GOOD_DATA + b"\0\0"), "after the last tensor"),
    (
        "huge shape",
        safetensors_bytes({"a": tensor("F64", [2**40, 2**40], 0, 8)}, b"\0" * 8),
        "overflows 64 bits",
    ),
    (
        "lone surrogate name",
        safetensors_bytes(
            None, raw_header=b'{"\\ud800": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}}'
        ),
        "surrogate",
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"), [(d, e) for _, d, e in BAD_HEADERS], ids=[i for i, _, _ in BAD_HEADERS]
)
def test_each_rule_is_reported(data: bytes, expected: str) -> None:
    findings = check(data)
    assert findings, "expected a finding"
    assert {f.rule_id for f in findings} == {rules.INVALID_SAFETENSORS}
    assert any(expected in f.message for f in findings), [f.message for f in findings]


def test_good_handmade_file_is_clean_and_padding_is_allowed() -> None:
    assert check(safetensors_bytes(GOOD, GOOD_DATA)) == []
    assert check(safetensors_bytes({}, b"")) == []
    assert check(safetensors_bytes({"__metadata__": None}, b"")) == []


def test_findings_name_the_tensor() -> None:
    findings = check(safetensors_bytes({"layer.0.weight": tensor("F32", [3], 0, 8)}, b"\0" * 8))
    assert findings[0].location.address == "tensor 'layer.0.weight'"


def test_unexpected_fields_are_medium() -> None:
    header = {"a": {**tensor("U8", [1], 0, 1), "note": "x"}}
    findings = check(safetensors_bytes(header, b"\0"))
    assert [f.severity for f in findings] == [Severity.MEDIUM]


def test_many_problems_are_summarised() -> None:
    header = {f"t{i}": tensor("BAD", [1], i, i + 1) for i in range(200)}
    findings = check(safetensors_bytes(header, b"\0" * 200))
    assert len(findings) == 51
    assert "more header problems" in findings[-1].message


def test_only_the_header_is_read() -> None:
    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, n: int | None = -1) -> bytes:
            out = super().read(n)
            Counting.read_bytes += len(out)
            return out

    data = safetensors_bytes(GOOD, b"\0" * 12) + b""
    big = safetensors_bytes({"w": tensor("U8", [1 << 20], 0, 1 << 20)}, b"\0" * (1 << 20))
    f = Counting(big)
    assert check_safetensors(f, len(big), path="x", limits=SMALL_LIMITS) == []
    assert Counting.read_bytes < 200
    assert check(data) == []
