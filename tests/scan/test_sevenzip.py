"""7z archives: read with the standard library only, scanned like tar members, never clean when
something could not be read.

Real archives are written by py7zr at test time; hostile ones (lying counts, unsafe names,
empty files) by the small writer below, which lays the header out by hand.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import random
import struct
import tarfile
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from container_fixtures import budget
from hypothesis import given
from hypothesis import strategies as st
from model_fixtures import payload
from test_container_fuzz import FUZZ, LIMITS, MAX_SECONDS, mutated

from ssdf_ai.findings import Finding, Severity
from ssdf_ai.scan import ScanLimits, rules
from ssdf_ai.scan import sevenzip as sz
from ssdf_ai.scan._types import MIB, LimitExceeded
from ssdf_ai.scan.containers import MemberReadError
from ssdf_ai.scan.engine import scan_file

py7zr = pytest.importorskip("py7zr")

SEVEN_Z = b"7z\xbc\xaf\x27\x1c"
# py7zr's filter chains, in its (encoding) order.
FILTERS: dict[str, list[dict[str, int]] | None] = {
    "default-lzma2-bcj": None,
    "lzma2": [{"id": py7zr.FILTER_LZMA2}],
    "lzma1": [{"id": py7zr.FILTER_LZMA}],
    "copy": [{"id": py7zr.FILTER_COPY}],
    "deflate": [{"id": py7zr.FILTER_DEFLATE}],
    "bzip2": [{"id": py7zr.FILTER_BZIP2}],
    "delta-lzma2": [{"id": py7zr.FILTER_DELTA}, {"id": py7zr.FILTER_LZMA2}],
    "delta-lzma1": [{"id": py7zr.FILTER_DELTA}, {"id": py7zr.FILTER_LZMA}],
    "bcj-lzma1": [{"id": py7zr.FILTER_X86}, {"id": py7zr.FILTER_LZMA}],
    "bcj-deflate": [{"id": py7zr.FILTER_X86}, {"id": py7zr.FILTER_DEFLATE}],
    "bcj-copy": [{"id": py7zr.FILTER_X86}, {"id": py7zr.FILTER_COPY}],
    "arm-lzma2": [{"id": py7zr.FILTER_ARM}, {"id": py7zr.FILTER_LZMA2}],
    "sparc-lzma2": [{"id": py7zr.FILTER_SPARC}, {"id": py7zr.FILTER_LZMA2}],
}


def seven_zip(
    files: dict[str, bytes], filters: list[dict[str, int]] | None = None, **options: Any
) -> bytes:
    """A 7z archive written by py7zr (one solid folder, an LZMA2-encoded header)."""
    buffer = io.BytesIO()
    with py7zr.SevenZipFile(buffer, "w", filters=filters, **options) as archive:
        for name, data in files.items():
            archive.writestr(data, name)
    return buffer.getvalue()


def members(data: bytes, limits: ScanLimits | None = None) -> tuple[list[Any], list[Finding]]:
    return sz.sevenz_members(
        io.BytesIO(data), len(data), path="a.7z", budget=budget(limits or LIMITS)
    )


def scan(tmp_path: Path, data: bytes, name: str = "model.7z", **limits: int) -> list[Finding]:
    path = tmp_path / name
    path.write_bytes(data)
    return scan_file(path, name, ScanLimits(**limits)).findings


def critical(findings: list[Finding]) -> list[str | None]:
    return [f.location.address for f in findings if f.severity is Severity.CRITICAL]


def ids(findings: list[Finding]) -> set[str]:
    return {f.rule_id for f in findings}


def binary(size: int, seed: int) -> bytes:
    """Bytes rich in x86 call/jump opcodes, so that the BCJ filters change them."""
    out = bytearray()
    state = seed
    while len(out) < size:
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        out += bytes((0xE8, state & 0xFF, (state >> 8) & 0xFF, 0, 0, state >> 24))
    return bytes(out[:size])


# -- a hand-made writer -----------------------------------------------------------------------


def number(n: int) -> bytes:
    """7z's variable-length UINT64."""
    extra = next(k for k in range(9) if k == 8 or n < 1 << (7 * k + 7))
    if extra == 8:
        return b"\xff" + n.to_bytes(8, "little")
    first = ((0xFF << (8 - extra)) & 0xFF) | (n >> (8 * extra))
    return bytes((first,)) + (n & ((1 << (8 * extra)) - 1)).to_bytes(extra, "little")


def bits(flags: list[bool]) -> bytes:
    out = bytearray((len(flags) + 7) // 8)
    for i, flag in enumerate(flags):
        if flag:
            out[i >> 3] |= 0x80 >> (i & 7)
    return bytes(out)


def prop(pid: int, body: bytes) -> bytes:
    return bytes((pid,)) + number(len(body)) + body


def wrap(header: bytes, packed: bytes = b"", *, tail: bytes = b"") -> bytes:
    """Signature header + packed data + header, with correct CRCs."""
    rest = struct.pack("<QQI", len(packed), len(header), zlib.crc32(header))
    return (
        SEVEN_Z + b"\x00\x04" + struct.pack("<I", zlib.crc32(rest)) + rest + packed + header + tail
    )


def handmade(
    entries: list[tuple[str, bytes | None]], *, attributes: list[int] | None = None
) -> bytes:
    """A Copy-coded, solid 7z archive. ``None`` data is a directory; ``b""`` an empty file
    (stored as an empty stream, as 7-Zip does)."""
    streams = [data for _, data in entries if data]
    packed = b"".join(streams)
    header = b"\x01"
    if streams:
        header += (
            b"\x04"  # main streams
            + b"\x06" + number(0) + number(1) + b"\x09" + number(len(packed)) + b"\x00"
            + b"\x07\x0b" + number(1) + b"\x00" + number(1) + b"\x01\x00"  # one Copy coder
            + b"\x0c" + number(len(packed)) + b"\x00"
            + b"\x08\x0d" + number(len(streams))
            + b"\x09" + b"".join(number(len(s)) for s in streams[:-1])
            + b"\x0a\x01" + b"".join(struct.pack("<I", zlib.crc32(s)) for s in streams)
            + b"\x00\x00"
        )  # fmt: skip
    empty = [not data for _, data in entries]
    names = b"".join(name.encode("utf-16-le") + b"\0\0" for name, _ in entries)
    files = number(len(entries)) + prop(17, b"\x00" + names)
    if any(empty):
        files += prop(14, bits(empty))
        files += prop(15, bits([data == b"" for _, data in entries if not data]))
    if attributes is not None:
        files += prop(21, b"\x01\x00" + b"".join(struct.pack("<I", a) for a in attributes))
    header += b"\x05" + files + b"\x00\x00"
    return wrap(header, packed)


# -- real archives, every coder -------------------------------------------------------------


@pytest.mark.parametrize("name", list(FILTERS))
def test_every_supported_coder_reads_back_byte_for_byte(name: str) -> None:
    files = {f"dir/file{i}.bin": binary(size, i) for i, size in enumerate((1, 5, 4099, 70001))}
    files["readme.txt"] = b"a model\n" * 500
    data = seven_zip(files, FILTERS[name])
    found, findings = members(data)
    assert findings == []
    assert [m.name for m in found] == list(files)
    assert {m.name: m.read() for m in found} == files


@pytest.mark.parametrize("name", list(FILTERS))
def test_a_payload_in_a_7z_is_critical_and_names_its_member(tmp_path: Path, name: str) -> None:
    canary = tmp_path / "CANARY"
    data = seven_zip(
        {"config.json": b'{"a": 1}', "models/model.pkl": payload(canary)}, FILTERS[name]
    )
    findings = scan(tmp_path, data)
    assert critical(findings), findings
    assert all("member models/model.pkl" in (a or "") for a in critical(findings))
    assert ids(findings) <= {rules.DANGEROUS_GLOBAL, rules.UNSAFE_SERIALIZATION}
    assert not canary.exists()


def test_a_benign_pickle_in_a_7z_is_not_above_low(tmp_path: Path) -> None:
    data = seven_zip({"weights.pkl": pickle.dumps({"w": [1.0, 2.0], "b": [0, 1, 2]})})
    findings = scan(tmp_path, data)
    assert findings
    assert max(f.severity for f in findings) <= Severity.LOW
    assert ids(findings) == {rules.UNSAFE_SERIALIZATION}


def test_the_scan_label_is_7z(tmp_path: Path) -> None:
    path = tmp_path / "m.7z"
    path.write_bytes(seven_zip({"a.txt": b"text\n"}))
    result = scan_file(path, "m.7z", ScanLimits())
    assert result.scanned is not None
    assert result.scanned.format == "7z"
    assert result.findings == []


def test_the_scan_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbid(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a scan called a loading function")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbid)
    canary = tmp_path / "CANARY"
    findings = scan(tmp_path, seven_zip({"model.pkl": payload(canary)}))
    assert critical(findings)
    assert not canary.exists()


def test_nested_7z_inside_a_7z(tmp_path: Path) -> None:
    inner = seven_zip({"evil.pkl": payload(tmp_path / "CANARY")})
    outer = seven_zip({"README.md": b"hi\n", "inner.7z": inner}, [{"id": py7zr.FILTER_LZMA}])
    found = critical(scan(tmp_path, outer))
    assert found
    assert all((a or "").startswith("member inner.7z!evil.pkl") for a in found)


def test_7z_inside_a_tar_gz(tmp_path: Path) -> None:
    inner = seven_zip({"weights/model.pkl": payload(tmp_path / "CANARY")})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("bundle.7z")
        info.size = len(inner)
        tar.addfile(info, io.BytesIO(inner))
    findings = scan(tmp_path, buffer.getvalue(), "model.tar.gz")
    assert critical(findings)
    assert all("member bundle.7z!weights/model.pkl" in (a or "") for a in critical(findings))


def test_a_solid_folder_is_decoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    files = {f"f{i:03}.bin": binary(300, i) for i in range(200)}
    found, _ = members(seven_zip(files))
    opened: list[object] = []
    real = sz._FolderReader

    def counting(*args: Any) -> Any:
        reader = real(*args)
        opened.append(reader)
        return reader

    monkeypatch.setattr(sz, "_FolderReader", counting)
    assert [m.read() for m in found] == list(files.values())
    assert len(opened) == 1
    # Out of order, a member is still read right (the folder is decoded again from the start).
    assert found[3].read() == files["f003.bin"]
    assert len(opened) == 2


def test_folders_with_different_coders_are_read_in_any_order() -> None:
    buffer = io.BytesIO(seven_zip({"a.txt": b"one" * 100, "b.txt": b"two" * 100}))
    with py7zr.SevenZipFile(buffer, "a", filters=FILTERS["bzip2"]) as archive:
        archive.writestr(b"three" * 100, "c.pkl")  # appended: a second folder
    found, findings = members(buffer.getvalue())
    assert findings == []
    assert len({m.offset for m in found}) == 2
    expected = {"a.txt": b"one" * 100, "b.txt": b"two" * 100, "c.pkl": b"three" * 100}
    assert {m.name: m.read() for m in reversed(found)} == expected


def test_a_member_over_the_size_limit_is_skipped_and_the_next_one_still_read(
    tmp_path: Path,
) -> None:
    big = random.Random(7).randbytes(MIB + MIB // 8)
    data = seven_zip(
        {"big.bin": big, "model.pkl": payload(tmp_path / "CANARY")},
        [{"id": py7zr.FILTER_LZMA2, "preset": 1}],
    )
    findings = scan(tmp_path, data, max_member_bytes=MIB)
    assert any(f.rule_id == rules.NOT_SCANNED and "larger" in f.message for f in findings)
    assert critical(findings)


def test_empty_files_and_directories_are_not_members(tmp_path: Path) -> None:
    (tmp_path / "emptydir").mkdir()
    buffer = io.BytesIO()
    with py7zr.SevenZipFile(buffer, "w") as archive:
        archive.write(tmp_path / "emptydir", "emptydir")
        archive.writestr(b"data", "emptydir/a.bin")
    found, findings = members(buffer.getvalue())
    assert [m.name for m in found] == ["emptydir/a.bin"]
    assert findings == []

    data = handmade([("d", None), ("d/empty.pkl", b""), ("d/a.pkl", b"\x80\x04N."), ("z", b"")])
    found, findings = members(data)
    assert [(m.name, m.read()) for m in found] == [("d/a.pkl", b"\x80\x04N.")]
    assert findings == []


def test_an_empty_archive_is_clean() -> None:
    found, findings = members(seven_zip({}))
    assert (found, findings) == ([], [])


def test_symlinks_are_reported_and_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "target.txt"
    target.write_text("x")
    os.symlink("/etc/passwd", tmp_path / "link")
    buffer = io.BytesIO()
    with py7zr.SevenZipFile(buffer, "w") as archive:
        archive.write(tmp_path / "link", "link")
        archive.write(target, "target.txt")
    found, findings = members(buffer.getvalue())
    assert [m.name for m in found] == ["target.txt"]
    [finding] = findings
    assert finding.rule_id == rules.UNSAFE_MEMBER
    assert "symbolic link" in finding.message


def test_unsafe_names_are_reported_and_analysed_under_a_safe_name() -> None:
    data = handmade([("../../evil.pkl", b"\x80\x04N."), ("C:\\Windows\\x.dll", b"MZ")])
    found, findings = members(data)
    assert [m.name for m in found] == ["evil.pkl", "Windows/x.dll"]
    assert [f.rule_id for f in findings] == [rules.UNSAFE_MEMBER] * 2
    assert "'..' segment" in findings[0].message
    assert "drive letter" in findings[1].message


def test_device_attributes_are_reported() -> None:
    fifo = (0o010644 << 16) | 0x8000
    data = handmade([("pipe", b"x"), ("ok", b"y")], attributes=[fifo, 0x20])
    found, findings = members(data)
    assert [m.name for m in found] == ["ok"]
    assert [f.rule_id for f in findings] == [rules.UNSAFE_MEMBER]
    assert "FIFO" in findings[0].message


# -- what cannot be read is reported ----------------------------------------------------------


def test_encrypted_content_is_not_scanned_and_names_the_members(tmp_path: Path) -> None:
    evil = payload(tmp_path / "CANARY")
    data = seven_zip({"model.pkl": evil, "b.txt": b"x"}, password="pw")  # noqa: S106 - a test archive
    found, findings = members(data)
    assert found == []
    [finding] = findings
    assert finding.rule_id == rules.NOT_SCANNED
    assert "encrypted" in finding.message
    assert "AES-256" in finding.message
    assert "'model.pkl'" in finding.message
    assert "'b.txt'" in finding.message
    assert ids(scan(tmp_path, data)) == {rules.NOT_SCANNED}


def test_an_encrypted_header_is_not_scanned(tmp_path: Path) -> None:
    data = seven_zip({"model.pkl": b"x"}, password="pw", header_encryption=True)  # noqa: S106
    findings = scan(tmp_path, data)
    [finding] = findings
    assert finding.rule_id == rules.NOT_SCANNED
    assert "header is encrypted" in finding.message


@pytest.mark.parametrize(("method", "label"), [(py7zr.FILTER_PPMD, "PPMd"), (0x35, "Zstandard")])
def test_an_unsupported_coder_is_not_scanned_and_named(
    tmp_path: Path, method: int, label: str
) -> None:
    try:
        data = seven_zip({"model.pkl": b"\x80\x04N."}, [{"id": method}])
    except Exception as exc:  # noqa: BLE001 - py7zr without the optional codec package
        pytest.skip(f"py7zr cannot write {label}: {exc}")
    [finding] = scan(tmp_path, data)
    assert finding.rule_id == rules.NOT_SCANNED
    assert label in finding.message
    assert "'model.pkl'" in finding.message


@pytest.mark.parametrize("cut", [8, 31, 40, 0.5, 0.9, -1])
def test_a_truncated_7z_is_unparseable(tmp_path: Path, cut: float) -> None:
    data = seven_zip({"model.pkl": payload(tmp_path / "CANARY"), "x.bin": binary(5000, 1)})
    end = int(len(data) * cut) if isinstance(cut, float) else cut
    findings = scan(tmp_path, data[:end])
    assert rules.UNPARSEABLE in ids(findings)


def test_a_signature_followed_by_zeros_is_unparseable(tmp_path: Path) -> None:
    [finding] = scan(tmp_path, SEVEN_Z + b"\0" * 60)
    assert finding.rule_id == rules.UNPARSEABLE


def test_corrupt_compressed_data_is_unparseable_not_clean(tmp_path: Path) -> None:
    files = {"model.pkl": pickle.dumps(list(range(2000))), "b.bin": binary(20000, 3)}
    data = bytearray(seven_zip(files, [{"id": py7zr.FILTER_LZMA2}]))
    for i in range(40, 60):
        data[i] ^= 0x55
    findings = scan(tmp_path, bytes(data))
    assert rules.UNPARSEABLE in ids(findings)


def test_a_crc_mismatch_is_reported_and_the_bytes_still_analysed(tmp_path: Path) -> None:
    evil = payload(tmp_path / "CANARY")
    data = bytearray(seven_zip({"model.pkl": evil}, [{"id": py7zr.FILTER_COPY}]))
    at = data.find(b"touch ") + len(b"touch ")
    data[at] ^= 0x01  # a byte of the command's argument: the pickle still parses
    found, _ = members(bytes(data))
    with pytest.raises(MemberReadError) as caught:
        found[0].read()
    assert "CRC-32" in caught.value.finding.message
    assert caught.value.data is not None
    findings = scan(tmp_path, bytes(data))
    assert critical(findings)
    assert any(f.rule_id == rules.UNPARSEABLE and "CRC-32" in f.message for f in findings)


def test_a_header_crc_mismatch_is_reported() -> None:
    data = bytearray(handmade([("a.pkl", b"\x80\x04N.")]))
    data[28] ^= 0xFF  # the next header's CRC (the start header's CRC still matches)
    struct.pack_into("<I", data, 8, zlib.crc32(data[12:32]))
    found, findings = members(bytes(data))
    assert [m.read() for m in found] == [b"\x80\x04N."]
    assert [f.rule_id for f in findings] == [rules.UNPARSEABLE]
    assert "CRC" in findings[0].message


def test_bytes_hidden_outside_every_stream_are_reported() -> None:
    data = handmade([("a.pkl", b"\x80\x04N.")]) + b"hidden payload"
    _, findings = members(data)
    assert [f.rule_id for f in findings] == [rules.UNPARSEABLE]
    assert "in no 7z stream" in findings[0].message


# -- hostile headers and bombs --------------------------------------------------------------

HUGE = 1 << 60


@pytest.mark.parametrize(
    "header",
    [
        # 2**60 packed streams
        b"\x01\x04\x06" + number(0) + number(HUGE) + b"\x09",
        # 2**60 folders
        b"\x01\x04\x07\x0b" + number(HUGE) + b"\x00",
        # 2**60 coders in a folder
        b"\x01\x04\x07\x0b" + number(1) + b"\x00" + number(HUGE),
        # a property of 2**60 bytes
        b"\x01\x02\x05" + number(HUGE),
        # 2**60 files
        b"\x01\x05" + number(HUGE) + b"\x00\x00",
        # 2**60 substreams in a folder
        b"\x01\x04\x06" + number(0) + number(1) + b"\x09\x01\x00\x07\x0b\x01\x00\x01\x01\x00"
        b"\x0c\x01\x00\x08\x0d" + number(HUGE) + b"\x00\x00\x00",
        # a coder with 2**60 bytes of properties
        b"\x01\x04\x07\x0b\x01\x00\x01\x21\x21" + number(HUGE),
    ],
)
def test_a_header_claiming_huge_counts_is_rejected_quickly(header: bytes) -> None:
    start = time.monotonic()
    found, findings = members(wrap(header))
    assert found == []
    assert [f.rule_id for f in findings] == [rules.UNPARSEABLE]
    assert time.monotonic() - start < MAX_SECONDS


def test_more_files_than_max_members_is_a_limit() -> None:
    header = b"\x01\x05" + number(5000) + prop(14, bits([True] * 5000)) + b"\x00\x00"
    with pytest.raises(LimitExceeded, match="max_members"):
        members(wrap(header))


def test_a_header_larger_than_max_header_bytes_is_a_limit(tmp_path: Path) -> None:
    rest = struct.pack("<QQI", 0, 1 << 40, 0)
    data = SEVEN_Z + b"\x00\x04" + struct.pack("<I", zlib.crc32(rest)) + rest
    findings = scan(tmp_path, data)
    assert ids(findings) == {rules.ARCHIVE_LIMIT}


class _Zeros(io.BufferedIOBase):
    """A seekable stream of zeros, so that py7zr compresses a bomb without holding it."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self._pos = {0: offset, 1: self._pos + offset, 2: self._size + offset}[whence]
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        left = self._size - self._pos
        n = left if size is None or size < 0 else min(size, left)
        self._pos += n
        return bytes(n)

    read1 = read


def test_a_7z_bomb_trips_the_ratio_limit(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with py7zr.SevenZipFile(
        buffer, "w", filters=[{"id": py7zr.FILTER_LZMA2, "preset": 1}]
    ) as archive:
        archive.writef(_Zeros(200 * MIB), "weights.bin")
    data = buffer.getvalue()
    assert len(data) < MIB
    findings = scan(tmp_path, data)
    [limit] = [f for f in findings if f.rule_id == rules.ARCHIVE_LIMIT]
    assert "ratio" in limit.message
    assert "member weights.bin" in (limit.location.address or "")


def test_a_bomb_within_the_ratio_hits_the_expanded_budget(tmp_path: Path) -> None:
    data = seven_zip({"a.bin": bytes(3 * MIB), "b.bin": bytes(3 * MIB)})
    findings = scan(tmp_path, data, max_ratio=100_000, max_expanded_bytes=4 * MIB)
    assert rules.ARCHIVE_LIMIT in ids(findings)


def test_an_oversized_lzma_dictionary_is_clamped() -> None:
    # A declared 4 GiB dictionary for a few bytes of output must not be allocated.
    coder = sz._Coder(b"\x03\x01\x01", 1, 1, b"\x5d\xff\xff\xff\xff")
    assert sz._lzma_spec(coder, 10)["dict_size"] == 1 << 12


# -- fuzzing --------------------------------------------------------------------------------

SEEDS_7Z = {
    "lzma2-bcj": seven_zip({"a/data.pkl": b"\x80\x04N." * 10, "b.txt": b"hello" * 50}),
    "copy-plain-header": handmade([("d", None), ("d/e", b""), ("p.pkl", b"\x80\x02N.")]),
    "bcj-deflate": seven_zip({"x.bin": binary(600, 2)}, FILTERS["bcj-deflate"]),
    "bzip2": seven_zip({"x.bin": b"abc" * 200}, FILTERS["bzip2"]),
}


def _fix_crcs(data: bytes) -> bytes:
    """Recompute the header CRCs so that mutations reach the header parser."""
    raw = bytearray(data)
    if len(raw) < 32:
        return data
    offset, size = struct.unpack_from("<QQ", raw, 12)
    if 32 + offset + size <= len(raw):
        struct.pack_into("<I", raw, 28, zlib.crc32(raw[32 + offset : 32 + offset + size]))
    struct.pack_into("<I", raw, 8, zlib.crc32(raw[12:32]))
    return bytes(raw)


def _run(data: bytes) -> None:
    start = time.monotonic()
    try:
        found, findings = members(data)
    except LimitExceeded:
        return
    assert all(f.rule_id.startswith("SSDF-SCAN-") for f in findings)
    for member in found:
        with contextlib.suppress(LimitExceeded, MemberReadError):
            member.read()
    assert time.monotonic() - start < MAX_SECONDS


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_after_a_7z_signature(data: bytes) -> None:
    _run(SEVEN_Z + data)
    _run(_fix_crcs(SEVEN_Z + b"\x00\x04" + data))


@FUZZ
@given(
    st.sampled_from(sorted(SEEDS_7Z)).flatmap(lambda k: mutated(SEEDS_7Z[k])),
    st.booleans(),
)
def test_mutated_7z_archives(data: bytes, fix: bool) -> None:
    _run(_fix_crcs(data) if fix else data)
