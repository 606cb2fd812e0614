"""``.npy`` header parsing: real files from NumPy, and malformed or hostile headers."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from container_fixtures import SMALL_LIMITS, budget, npy_bytes

from ssdf_ai.findings import Finding
from ssdf_ai.scan import rules
from ssdf_ai.scan.containers import zip_members
from ssdf_ai.scan.numpy_check import NpyInfo, parse_npy

np = pytest.importorskip("numpy")


def parse(data: bytes) -> tuple[NpyInfo | None, list[Finding]]:
    return parse_npy(io.BytesIO(data), len(data), path="a.npy", limits=SMALL_LIMITS)


def saved(array: Any, **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True, **kwargs)
    return buf.getvalue()


def header_end(data: bytes) -> int:
    # NumPy's own reader says where the data starts (private before 2.0 and after).
    impl = getattr(np.lib, "_format_impl", np.lib.format)
    f = io.BytesIO(data)
    version = np.lib.format.read_magic(f)
    impl._read_array_header(f, version, max_header_size=10**6)
    return f.tell()


ARRAYS: list[tuple[str, Any, bool]] = [
    ("float", np.arange(12, dtype=np.float64).reshape(3, 4), False),
    ("fortran", np.asfortranarray(np.ones((3, 2), dtype=np.int32)), False),
    ("scalar", np.array(3, dtype=np.uint8), False),
    ("empty", np.zeros((0, 5), dtype=np.float32), False),
    ("bool", np.array([True, False]), False),
    ("unicode", np.array(["ab", "cde"]), False),
    ("bytes", np.array([b"ab", b"c"]), False),
    ("datetime", np.array(["2024-01-01"], dtype="datetime64[ns]"), False),
    ("complex", np.zeros(3, dtype=np.complex128), False),
    ("void", np.zeros(2, dtype="V8"), False),
    ("structured", np.zeros(3, dtype=[("x", "<f4"), ("Obj", "<i8", (2,))]), False),
    ("aligned", np.zeros(2, dtype=np.dtype([("a", "i1"), ("b", "f8")], align=True)), False),
    ("titled", np.zeros(2, dtype=[(("title", "name"), "<i4")]), False),
    ("nested", np.zeros(2, dtype=[("outer", [("inner", "<u2")])]), False),
    ("object", np.array([1, "two", None], dtype=object), True),
    ("object field", np.zeros(2, dtype=[("a", "<f4"), ("b", "O")]), True),
    ("nested object", np.zeros(1, dtype=[("outer", [("inner", "O", (2,))])]), True),
]


@pytest.mark.parametrize(
    ("array", "is_object"), [(a, o) for _, a, o in ARRAYS], ids=[i for i, _, _ in ARRAYS]
)
def test_files_written_by_numpy(array: Any, is_object: bool) -> None:
    data = saved(array)
    info, findings = parse(data)
    assert findings == []
    assert info is not None
    assert info.version == (1, 0)
    assert info.shape == array.shape
    assert info.is_object is is_object
    assert info.data_offset == header_end(data)
    assert info.fortran_order is (array.flags.f_contiguous and not array.flags.c_contiguous)
    if is_object:
        assert data[info.data_offset] == 0x80  # the pickle the engine analyses


@pytest.mark.parametrize("version", [(2, 0), (3, 0)])
def test_format_versions_two_and_three(version: tuple[int, int]) -> None:
    array = np.zeros(3, dtype=[("ünïcode", "<f4")]) if version == (3, 0) else np.ones(4)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, version=version)
    info, findings = parse(buf.getvalue())
    assert findings == []
    assert info is not None
    assert info.version == version
    assert info.data_offset == header_end(buf.getvalue())


def test_npz_members_are_npy_files(tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    np.savez_compressed(path, a=np.arange(10), b=np.array([{"k": 1}], dtype=object))
    raw = path.read_bytes()
    members, findings = zip_members(io.BytesIO(raw), len(raw), path="arrays.npz", budget=budget())
    assert findings == []
    results = {}
    for member in members:
        content = member.read()
        info, found = parse(content)
        assert found == []
        assert info is not None
        results[member.name] = info.is_object
    assert results == {"a.npy": False, "b.npy": True}


GOOD_HEADER = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n"

BAD: list[tuple[str, bytes, str]] = [
    ("bad magic", b"\x93NUMPX\x01\x00" + b"\0" * 20, "bad magic"),
    ("too short", b"\x93NUM", "bad magic"),
    ("unknown version", npy_bytes(GOOD_HEADER, version=(9, 9)), "version 9.9"),
    ("cut length", b"\x93NUMPY\x02\x00\x10", "cut short"),
    ("header past eof", b"\x93NUMPY\x01\x00\xff\x00{}", "past the end"),
    (
        "header over cap",
        b"\x93NUMPY\x02\x00" + (2 << 20).to_bytes(4, "little") + b"{",
        "more than",
    ),
    ("not a dict", npy_bytes("[1, 2, 3]\n"), "not a dict"),
    ("missing key", npy_bytes("{'descr': '<f8', 'shape': (2,)}\n"), "not a dict"),
    (
        "extra key",
        npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}\n"),
        "not a dict",
    ),
    (
        "code in header",
        npy_bytes(
            "{'descr': __import__('os').system('touch /tmp/pwned-npy'), "
            "'fortran_order': False, 'shape': (1,)}\n"
        ),
        "not a dict",
    ),
    (
        "negative shape",
        npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}\n"),
        "shape",
    ),
    ("list shape", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': [2]}\n"), "shape"),
    (
        "fortran not bool",
        npy_bytes("{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}\n"),
        "fortran_order",
    ),
    ("bad descr", npy_bytes("{'descr': 7, 'fortran_order': False, 'shape': (2,)}\n"), "descr"),
    (
        "bad field",
        npy_bytes("{'descr': [('a',)], 'fortran_order': False, 'shape': (2,)}\n"),
        "descr",
    ),
    (
        "unknown kind",
        npy_bytes("{'descr': '<z8', 'fortran_order': False, 'shape': (2,)}\n"),
        "descr",
    ),
    ("short data", npy_bytes(GOOD_HEADER, b"\0" * 15), "truncated"),
    (
        "missing pickle",
        npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (2,)}\n"),
        "pickle is missing",
    ),
    ("not latin-1 v3", npy_bytes(b"{'descr': '\xff'}\n", version=(3, 0)), "not valid utf-8"),
]


@pytest.mark.parametrize(
    ("data", "expected"), [(d, e) for _, d, e in BAD], ids=[i for i, _, _ in BAD]
)
def test_malformed_headers_are_unparseable(data: bytes, expected: str) -> None:
    info, findings = parse(data)
    assert [f.rule_id for f in findings] == [rules.UNPARSEABLE]
    assert expected in findings[0].message, findings[0].message
    if expected not in ("truncated", "pickle is missing"):
        assert info is None
    assert not Path("/tmp/pwned-npy").exists()


def test_python2_long_literals_are_accepted_like_numpy() -> None:
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 1L), }\n"
    info, findings = parse(npy_bytes(header, b"\0" * 16))
    assert findings == []
    assert info is not None
    assert info.shape == (2, 1)


@pytest.mark.parametrize(
    ("descr", "is_object"),
    [("'i4,O'", True), ("'(2,)O'", True), ("'object'", True), ("'float64'", False)],
)
def test_descr_forms_np_save_never_writes_are_flagged(descr: str, is_object: bool) -> None:
    header = f"{{'descr': {descr}, 'fortran_order': False, 'shape': (1,)}}\n"
    info, findings = parse(npy_bytes(header, b"\x80" + b"\0" * 64))
    assert info is not None
    assert info.is_object is is_object
    assert [f.rule_id for f in findings] == [rules.UNPARSEABLE]


def test_string_dtype_counts_as_object() -> None:
    header = "{'descr': 'T', 'fortran_order': False, 'shape': (1,)}\n"
    info, _ = parse(npy_bytes(header, b"\x80\x04N."))
    assert info is not None
    assert info.is_object
