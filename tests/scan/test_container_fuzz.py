"""Fuzz the container and format parsers: random and mutated input never crashes them.

The only exceptions allowed out of a parser are :class:`LimitExceeded` and, from reading a
member or decompressing, :class:`MemberReadError`; each input is handled in bounded time.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import tarfile
import time
import zipfile
import zlib

import pytest
from container_fixtures import SMALL_LIMITS, Entry, budget, build_zip, tar_bytes, tar_info
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssdf_ai.scan._types import LimitExceeded, ScanLimits
from ssdf_ai.scan.containers import MemberReadError, decompress, tar_members, zip_members
from ssdf_ai.scan.numpy_check import parse_npy
from ssdf_ai.scan.safetensors_check import check_safetensors
from ssdf_ai.scan.torch_layout import legacy_torch_tar, torch_layout

FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
LIMITS = ScanLimits(
    max_member_bytes=1 << 20,
    max_members=200,
    max_expanded_bytes=4 << 20,
    max_header_bytes=1 << 16,
    seconds_per_file=5.0,
)
MAX_SECONDS = 10.0


def _zip_seed() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x04\x95" + b"x" * 40 + b".", zipfile.ZIP_STORED)
        z.writestr("archive/data/0", b"\0" * 64, zipfile.ZIP_DEFLATED)
        z.writestr("b.bz2", b"abc" * 30, zipfile.ZIP_BZIP2)
        z.writestr("c.xz", b"abc" * 30, zipfile.ZIP_LZMA)
    return buf.getvalue()


def _tar_seed() -> bytes:
    return tar_bytes(
        [
            (tar_info("pickle"), b"\x80\x02N."),
            (tar_info("link", tarfile.SYMTYPE, "/etc/passwd"), None),
            (tar_info("long/" * 30 + "x"), b"data" * 40),
        ]
    )


def _safetensors_seed() -> bytes:
    np = pytest.importorskip("numpy")
    st_numpy = pytest.importorskip("safetensors.numpy")
    out: bytes = st_numpy.save(
        {"a": np.ones((2, 3), dtype=np.float32), "b": np.arange(4, dtype=np.int64)},
        metadata={"k": "v"},
    )
    return out


def _npy_seed(obj: bool) -> bytes:
    np = pytest.importorskip("numpy")
    buf = io.BytesIO()
    array = np.array([1, "a"], dtype=object) if obj else np.zeros(3, dtype=[("a", "<f4")])
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


SEEDS = {
    "zip": _zip_seed(),
    "zip64": build_zip(
        [Entry("a/data.pkl", b"\x80\x04N.", method=8), Entry("b", b"1")], zip64=True
    ),
    "tar": _tar_seed(),
}
STREAMS = {
    "gzip": gzip.compress(b"payload " * 200),
    "zlib": zlib.compress(b"payload " * 200),
    "bz2": bz2.compress(b"payload " * 200),
    "xz": lzma.compress(b"payload " * 200),
}


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        choice = draw(st.integers(0, 3))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if choice == 0 and data:
            data[pos] = draw(st.integers(0, 255))
        elif choice == 1:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif choice == 2:
            del data[pos : pos + draw(st.integers(1, 16))]
        else:
            # Large values in size and offset fields.
            data[pos : pos + 4] = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\0\0\0\0"]))
    return bytes(data)


def _read_all(members: list) -> None:  # type: ignore[type-arg]
    for member in members:
        with contextlib.suppress(LimitExceeded, MemberReadError):
            member.read()


def _run_archive(data: bytes, kind: str) -> None:
    start = time.monotonic()
    lister = zip_members if kind == "zip" else tar_members
    try:
        members, findings = lister(io.BytesIO(data), len(data), path="f", budget=budget(LIMITS))
    except LimitExceeded:
        return
    assert all(f.rule_id.startswith("SSDF-SCAN-") for f in findings)
    names = [m.name for m in members]
    torch_layout(names)
    legacy_torch_tar(names)
    _read_all(members)
    assert time.monotonic() - start < MAX_SECONDS


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_into_every_parser(data: bytes) -> None:
    _run_archive(data, "zip")
    _run_archive(b"PK\x03\x04" + data + b"PK\x05\x06" + data[:18], "zip")
    _run_archive(data, "tar")
    check_safetensors(io.BytesIO(data), len(data), path="f", limits=LIMITS)
    parse_npy(io.BytesIO(data), len(data), path="f", limits=LIMITS)
    parse_npy(io.BytesIO(b"\x93NUMPY\x01\x00" + data), len(data) + 8, path="f", limits=LIMITS)
    for codec in ("gzip", "zlib", "bz2", "xz", "lz4"):
        with contextlib.suppress(LimitExceeded, MemberReadError):
            decompress(data, codec, budget=budget(LIMITS), path="f")


@FUZZ
@given(st.sampled_from(sorted(SEEDS)).flatmap(lambda k: st.tuples(st.just(k), mutated(SEEDS[k]))))
def test_mutated_archives(case: tuple[str, bytes]) -> None:
    kind, data = case
    _run_archive(data, "tar" if kind == "tar" else "zip")


@FUZZ
@given(st.data())
def test_mutated_safetensors_and_npy(data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(["st", "npy", "npy-object"]))
    raw = {"st": SAFETENSORS, "npy": NPY, "npy-object": NPY_OBJECT}[seed]
    blob = data.draw(mutated(raw))
    start = time.monotonic()
    if seed == "st":
        check_safetensors(io.BytesIO(blob), len(blob), path="f", limits=LIMITS)
    else:
        parse_npy(io.BytesIO(blob), len(blob), path="f", limits=LIMITS)
    assert time.monotonic() - start < MAX_SECONDS


@FUZZ
@given(
    st.sampled_from(sorted(STREAMS)).flatmap(lambda k: st.tuples(st.just(k), mutated(STREAMS[k])))
)
def test_mutated_compressed_streams(case: tuple[str, bytes]) -> None:
    codec, blob = case
    with contextlib.suppress(LimitExceeded, MemberReadError):
        decompress(blob, codec, budget=budget(LIMITS), path="f")


SAFETENSORS = _safetensors_seed()
NPY = _npy_seed(obj=False)
NPY_OBJECT = _npy_seed(obj=True)
assert SMALL_LIMITS.max_members > LIMITS.max_members
