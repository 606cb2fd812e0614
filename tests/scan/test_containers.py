"""Zip and tar listing and bounded decompression, on real and hostile archives."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import sys
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest
from container_fixtures import (
    SMALL_LIMITS,
    Entry,
    budget,
    build_zip,
    tar_bytes,
    tar_info,
)

from ssdf_ai.findings import Finding
from ssdf_ai.scan import rules
from ssdf_ai.scan._types import MIB, Budget, LimitExceeded, Member, ScanLimits
from ssdf_ai.scan.containers import (
    MemberReadError,
    decompress,
    display_name,
    tar_members,
    unsafe_name_reasons,
    zip_members,
)


def list_zip(data: bytes, b: Budget | None = None) -> tuple[list[Member], list[Finding]]:
    return zip_members(io.BytesIO(data), len(data), path="a.zip", budget=b or budget())


def list_tar(data: bytes, b: Budget | None = None) -> tuple[list[Member], list[Finding]]:
    return tar_members(io.BytesIO(data), len(data), path="a.tar", budget=b or budget())


def rule_ids(findings: list[Finding]) -> list[str]:
    return sorted(f.rule_id for f in findings)


def zipfile_bytes(files: dict[str, tuple[bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, (data, method) in files.items():
            z.writestr(name, data, compress_type=method)
    return buf.getvalue()


class CountingFile(io.BytesIO):
    """Counts the bytes read, to prove the parser reads only what it needs."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, n: int | None = -1) -> bytes:
        out = super().read(n)
        self.bytes_read += len(out)
        return out


# -- zip: ordinary archives -------------------------------------------------------------------


def test_zipfile_archive_every_method_reads_back_clean() -> None:
    payload = b"model weights " * 500
    data = zipfile_bytes(
        {
            "stored.bin": (payload, zipfile.ZIP_STORED),
            "deflate.bin": (payload, zipfile.ZIP_DEFLATED),
            "bzip2.bin": (payload, zipfile.ZIP_BZIP2),
            "lzma.bin": (payload, zipfile.ZIP_LZMA),
            "folder/": (b"", zipfile.ZIP_STORED),
            "empty.txt": (b"", zipfile.ZIP_STORED),
        }
    )
    b = budget()
    members, findings = list_zip(data, b)
    assert findings == []
    assert [m.name for m in members] == [
        "stored.bin",
        "deflate.bin",
        "bzip2.bin",
        "lzma.bin",
        "empty.txt",
    ]
    assert all(m.read() == payload for m in members[:4])
    assert members[4].read() == b""
    assert b.members == 6
    assert b.expanded == 4 * len(payload)


def test_streamed_zipfile_with_data_descriptors_is_clean(tmp_path: Path) -> None:
    # Writing to an unseekable stream makes zipfile use data descriptors, as torch does.
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.buf = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: bytes) -> int:  # type: ignore[override]
            self.buf += b
            return len(b)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.txt", b"alpha" * 100)
        with z.open("b.txt", "w") as w:
            w.write(b"beta" * 100)
    members, findings = list_zip(bytes(sink.buf))
    assert findings == []
    assert [m.read() for m in members] == [b"alpha" * 100, b"beta" * 100]


def test_force_zip64_local_headers_are_understood() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("big.bin", "w", force_zip64=True) as w:
            w.write(b"x" * 1000)
        z.writestr("small.bin", b"y")
    members, findings = list_zip(buf.getvalue())
    assert findings == []
    assert [m.read() for m in members] == [b"x" * 1000, b"y"]


def test_zip64_end_records_and_extra_fields() -> None:
    entries = [Entry("a/data.pkl", b"\x80\x04K\x01.", method=8), Entry("a/data/0", b"\0" * 64)]
    data = build_zip(entries, zip64=True)
    # The hand-made archive is a valid ZIP64 archive for Python's reader too.
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.read("a/data.pkl") == b"\x80\x04K\x01."
    members, findings = list_zip(data)
    assert findings == []
    assert [(m.name, m.size, m.read()) for m in members] == [
        ("a/data.pkl", 5, b"\x80\x04K\x01."),
        ("a/data/0", 64, b"\0" * 64),
    ]


def test_torch_checkpoint_is_listed_from_the_central_directory_only(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "big.pt"
    torch.save({"w": torch.zeros(2 * MIB), "b": torch.ones(3)}, path)  # 8 MiB of tensor
    raw = path.read_bytes()
    f = CountingFile(raw)
    members, findings = zip_members(f, len(raw), path="big.pt", budget=budget())
    assert findings == []
    listed = f.bytes_read
    assert listed < 64 * 1024
    pickle_member = next(m for m in members if m.name.endswith("/data.pkl"))
    assert pickle_member.read().startswith(b"\x80")
    assert f.bytes_read - listed < 4 * 1024  # the pickle only, not the tensors


def test_empty_zip_has_no_members_and_no_findings() -> None:
    members, findings = list_zip(zipfile_bytes({}))
    assert (members, findings) == ([], [])


# -- zip: hostile archives ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown", "reason"),
    [
        ("../../etc/x", "etc/x", "'..' segment"),
        ("/etc/passwd", "etc/passwd", "absolute path"),
        ("C:\\Windows\\x.dll", "Windows/x.dll", "drive letter"),
        ("dir\\..\\..\\x", "dir/x", "backslash"),
        ("a\x00b.pkl", "a\\x00b.pkl", "NUL character"),
        ("a/./b\n", "a/b\\n", "control character"),
    ],
)
def test_unsafe_member_names_are_flagged_and_still_analysed(
    name: str, shown: str, reason: str
) -> None:
    members, findings = list_zip(build_zip([Entry(name, b"payload")]))
    assert [m.name for m in members] == [shown]
    assert members[0].read() == b"payload"
    assert rule_ids(findings) == [rules.UNSAFE_MEMBER]
    assert reason in findings[0].message
    assert reason in unsafe_name_reasons(name)


def test_display_name_of_nothing_is_a_placeholder() -> None:
    assert display_name("../..") == "<unnamed>"
    assert display_name("a/b/") == "a/b/"
    assert unsafe_name_reasons("archive/data.pkl") == []


@pytest.mark.parametrize(
    ("mode", "label"),
    [(stat.S_IFLNK | 0o777, "symbolic link"), (stat.S_IFCHR | 0o600, "character device")],
)
def test_symlink_and_device_entries_are_flagged_and_returned(mode: int, label: str) -> None:
    members, findings = list_zip(
        build_zip([Entry("link", b"/etc/passwd", external_attr=mode << 16)])
    )
    assert [m.read() for m in members] == [b"/etc/passwd"]
    assert rule_ids(findings) == [rules.UNSAFE_MEMBER]
    assert label in findings[0].message


def test_central_and_local_names_differ_member_follows_central_directory() -> None:
    data = build_zip([Entry("archive/data.pkl", b"\x80\x04N.", local_name=b"archive/innocent.txt")])
    members, findings = list_zip(data)
    assert [(m.name, m.read()) for m in members] == [("archive/data.pkl", b"\x80\x04N.")]
    assert rule_ids(findings) == [rules.ZIP_INCONSISTENT]
    assert "innocent.txt" in findings[0].message


def test_method_and_flag_disagreements_are_reported() -> None:
    data = build_zip([Entry("a.bin", b"abc" * 50, method=8, local_method=0, local_flags=0x0001)])
    members, findings = list_zip(data)
    assert [m.read() for m in members] == [b"abc" * 50]  # read as the central entry says
    assert rule_ids(findings) == [rules.ZIP_INCONSISTENT]
    assert "compression method 0 locally, 8 centrally" in findings[0].message
    assert "flags" in findings[0].message


def test_encrypted_entry_is_not_checked_and_says_so() -> None:
    members, findings = list_zip(build_zip([Entry("secret.pkl", b"\x80\x04N.", flags=0x0001)]))
    assert members == []
    assert rule_ids(findings) == [rules.UNPARSEABLE]
    assert "encrypted" in findings[0].message


def test_unsupported_method_is_not_checked_and_says_so() -> None:
    members, findings = list_zip(build_zip([Entry("a.pkl", b"zstd?", method=93)]))
    assert members == []
    assert rule_ids(findings) == [rules.UNPARSEABLE]
    assert "method 93" in findings[0].message


def test_crc_mismatch_raises_with_the_bytes_a_lenient_loader_reads() -> None:
    members, findings = list_zip(build_zip([Entry("a.pkl", b"\x80\x04N.", crc=0x1234)]))
    assert findings == []
    with pytest.raises(MemberReadError) as caught:
        members[0].read()
    assert caught.value.finding.rule_id == rules.ZIP_INCONSISTENT
    assert "CRC-32" in caught.value.finding.message
    assert caught.value.data == b"\x80\x04N."


def test_member_longer_than_declared_is_cut_at_the_declared_size() -> None:
    members, _ = list_zip(build_zip([Entry("a.bin", b"A" * 1000, method=8, usize=10)]))
    with pytest.raises(MemberReadError) as caught:
        members[0].read()
    assert caught.value.finding.rule_id == rules.ZIP_INCONSISTENT
    assert caught.value.data == b"A" * 10


def test_corrupt_deflate_data_raises_unparseable() -> None:
    raw = bytearray(build_zip([Entry("a.bin", b"hello" * 200, method=8)]))
    raw[30 + 5 : 30 + 5 + 4] = b"\xff\xff\xff\xff"  # inside the deflate stream
    members, _ = list_zip(bytes(raw))
    with pytest.raises(MemberReadError) as caught:
        members[0].read()
    assert caught.value.finding.rule_id in (rules.UNPARSEABLE, rules.ZIP_INCONSISTENT)


def test_declared_size_over_the_member_limit_raises_before_reading() -> None:
    data = zipfile_bytes({"big.bin": (b"\0" * (2 * MIB), zipfile.ZIP_DEFLATED)})
    members, _ = list_zip(data, budget(ScanLimits(max_member_bytes=1 * MIB)))
    with pytest.raises(LimitExceeded, match="declares"):
        members[0].read()


def test_zip_bomb_hits_the_ratio_limit() -> None:
    # 24 MiB of zeros deflate to ~24 KiB (ratio ~1000): refused after the first MiBs.
    data = zipfile_bytes({"bomb.bin": (b"\0" * (24 * MIB), zipfile.ZIP_DEFLATED)})
    assert len(data) < 64 * 1024
    b = budget(ScanLimits(max_member_bytes=64 * MIB, max_expanded_bytes=64 * MIB))
    members, findings = list_zip(data, b)
    assert findings == []
    with pytest.raises(LimitExceeded, match="ratio"):
        members[0].read()
    assert b.expanded <= 20 * MIB


def test_zip_bomb_hits_the_expanded_budget_when_the_ratio_is_allowed() -> None:
    data = zipfile_bytes({"a.bin": (b"\0" * (6 * MIB), zipfile.ZIP_DEFLATED)})
    b = budget(ScanLimits(max_expanded_bytes=4 * MIB, max_ratio=10**6))
    members, _ = list_zip(data, b)
    with pytest.raises(LimitExceeded, match="expanded"):
        members[0].read()


def test_overlapping_entries_bomb_is_flagged_and_counted() -> None:
    # David Fifield's technique: many central entries share one local header and its data.
    kernel = Entry("k", b"\0" * 4096, method=8)
    entries = [kernel] + [
        Entry(f"f{i}", b"\0" * 4096, method=8, same_local_as=0) for i in range(1, 40)
    ]
    data = build_zip(entries)
    members, findings = list_zip(data)
    assert len(members) == 40
    assert set(rule_ids(findings)) == {rules.ZIP_INCONSISTENT}
    assert any("overlaps" in f.message for f in findings)
    assert len(findings) <= 45  # summarised past 20 of a kind, not one per entry
    assert any("more problems" in f.message for f in findings)
    with pytest.raises(LimitExceeded, match="members"):
        list_zip(data, budget(ScanLimits(max_members=10)))


def test_member_budget_is_shared_across_archives() -> None:
    data = zipfile_bytes({f"f{i}": (b"", zipfile.ZIP_STORED) for i in range(6)})
    shared = budget(ScanLimits(max_members=10))
    list_zip(data, shared)
    with pytest.raises(LimitExceeded):
        list_zip(data, shared)


def test_local_header_hidden_between_entries_is_reported() -> None:
    hidden = build_zip([Entry("evil.pkl", b"\x80\x04N.")])
    hidden_local = hidden[: hidden.index(b"PK\x01\x02")]
    data = build_zip([Entry("a.txt", b"a"), Entry("b.txt", b"b", gap_before=hidden_local)])
    members, findings = list_zip(data)
    assert [m.name for m in members] == ["a.txt", "b.txt"]
    assert rule_ids(findings) == [rules.ZIP_INCONSISTENT]
    assert "not in the central directory" in findings[0].message


def test_missing_local_header_is_reported_and_not_returned() -> None:
    data = bytearray(build_zip([Entry("a.txt", b"a"), Entry("b.txt", b"b")]))
    data[0:4] = b"XXXX"
    members, findings = list_zip(bytes(data))
    assert [m.name for m in members] == ["b.txt"]
    assert rules.UNPARSEABLE in rule_ids(findings)


def test_duplicate_names_are_reported_and_both_returned() -> None:
    members, findings = list_zip(build_zip([Entry("x.pkl", b"one"), Entry("x.pkl", b"two")]))
    assert [m.read() for m in members] == [b"one", b"two"]
    assert rule_ids(findings) == [rules.ZIP_INCONSISTENT]


def test_entry_count_disagreement_is_reported() -> None:
    data = build_zip([Entry("a", b"1"), Entry("b", b"2")], declared_count=1)
    members, findings = list_zip(data)
    assert len(members) == 2
    assert rule_ids(findings) == [rules.ZIP_INCONSISTENT]


def test_prepended_data_is_followed_like_zipfile_and_reported() -> None:
    data = build_zip([Entry("a.txt", b"hello")], prefix=b"#!/bin/sh\nexit 0\n")
    members, findings = list_zip(data)
    assert [m.read() for m in members] == [b"hello"]
    assert rule_ids(findings) == [rules.ZIP_INCONSISTENT]
    assert "precede" in findings[0].message


def test_trailing_bytes_after_the_end_record_are_reported() -> None:
    members, findings = list_zip(build_zip([Entry("a", b"1")]) + b"trailer")
    assert len(members) == 1
    assert rule_ids(findings) == [rules.ZIP_INCONSISTENT]


@pytest.mark.parametrize("cut", [1, 22, 100])
def test_truncated_archive_is_unparseable(cut: int) -> None:
    data = zipfile_bytes({"a.bin": (b"x" * 200, zipfile.ZIP_STORED)})
    members, findings = list_zip(data[:-cut])
    assert members == []
    assert rule_ids(findings) == [rules.UNPARSEABLE]


def test_not_a_zip_is_unparseable() -> None:
    members, findings = list_zip(b"just some text, no archive here")
    assert members == []
    assert rule_ids(findings) == [rules.UNPARSEABLE]


# -- tar ---------------------------------------------------------------------------------------


def test_tar_regular_files_are_returned_and_links_and_devices_reported() -> None:
    data = tar_bytes(
        [
            (tar_info("model/", tarfile.DIRTYPE), None),
            (tar_info("model/weights.bin"), b"w" * 3000),
            (tar_info("model/link", tarfile.SYMTYPE, "/etc/passwd"), None),
            (tar_info("model/hard", tarfile.LNKTYPE, "model/weights.bin"), None),
            (tar_info("model/fifo", tarfile.FIFOTYPE), None),
            (tar_info("model/dev", tarfile.CHRTYPE), None),
            (tar_info("../escape.pkl"), b"\x80\x04N."),
            (tar_info("/abs.pkl"), b"\x80\x04N."),
        ]
    )
    members, findings = list_tar(data)
    assert [(m.name, m.size) for m in members] == [
        ("model/weights.bin", 3000),
        ("escape.pkl", 4),
        ("abs.pkl", 4),
    ]
    assert members[0].read() == b"w" * 3000
    assert rule_ids(findings) == [rules.UNSAFE_MEMBER] * 6
    messages = " ".join(f.message for f in findings)
    for word in ("symbolic link", "hard link", "FIFO", "character device", "'..'", "absolute"):
        assert word in messages


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_tar_formats_and_long_names(fmt: int) -> None:
    name = "deep/" * 5 + "x.pkl" if fmt == tarfile.USTAR_FORMAT else "long/" * 40 + "x.pkl"
    members, findings = list_tar(tar_bytes([(tar_info(name), b"data")], fmt=fmt))
    assert findings == []
    assert [(m.name, m.read()) for m in members] == [(name, b"data")]


def test_tar_sparse_member_is_reported_not_read() -> None:
    info = tar_info("sparse.bin", tarfile.GNUTYPE_SPARSE)
    members, findings = list_tar(tar_bytes([(info, b"")], fmt=tarfile.GNU_FORMAT))
    assert members == []
    assert rule_ids(findings) == [rules.UNPARSEABLE]
    assert "sparse" in findings[0].message


def test_tar_corrupt_header_after_the_first_is_not_silently_ignored() -> None:
    data = bytearray(tar_bytes([(tar_info("a"), b"1" * 10), (tar_info("b"), b"2" * 10)]))
    second = data.index(b"b\0")
    data[second + 148 : second + 156] = b"garbage!"  # the header checksum
    members, findings = list_tar(bytes(data))
    assert [m.name for m in members] == ["a"]
    assert rule_ids(findings) == [rules.UNPARSEABLE]


def test_tar_truncated_data_raises_with_what_was_read() -> None:
    data = tar_bytes([(tar_info("a.bin"), b"x" * 5000)])
    cut = data[: 512 * 2 + 100]  # pax header, file header, 100 bytes of data
    members, _ = list_tar(cut)
    with pytest.raises(MemberReadError) as caught:
        members[-1].read()
    assert caught.value.data is not None
    assert caught.value.data.startswith(b"x")


def test_tar_member_over_the_limit_raises_on_read() -> None:
    data = tar_bytes([(tar_info("a.bin"), b"x" * 5000)])
    members, _ = list_tar(data, budget(ScanLimits(max_member_bytes=1000)))
    with pytest.raises(LimitExceeded):
        members[0].read()


def test_not_a_tar_is_unparseable() -> None:
    members, findings = list_tar(b"\x01" * 2048)
    assert members == []
    assert rule_ids(findings) == [rules.UNPARSEABLE]


def test_tar_member_count_limit() -> None:
    data = tar_bytes([(tar_info(f"f{i}"), b"") for i in range(20)])
    with pytest.raises(LimitExceeded):
        list_tar(data, budget(ScanLimits(max_members=5)))


# -- decompress --------------------------------------------------------------------------------

PAYLOAD = b"".join(i.to_bytes(4, "little") for i in range(50_000))  # ~200 KB, compressible


def _lz4(data: bytes) -> bytes:
    lz4_frame = pytest.importorskip("lz4.frame")
    out: bytes = lz4_frame.compress(data)
    return out


COMPRESSORS = {
    "gzip": gzip.compress,
    "zlib": zlib.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "lz4": _lz4,
}


@pytest.mark.parametrize("codec", sorted(COMPRESSORS))
def test_decompress_round_trips_and_spends_the_budget(codec: str) -> None:
    b = budget()
    assert decompress(COMPRESSORS[codec](PAYLOAD), codec, budget=b, path="p") == PAYLOAD
    assert b.expanded == len(PAYLOAD)


@pytest.mark.parametrize("codec", ["gzip", "bz2", "xz", "lz4"])
def test_decompress_concatenated_streams(codec: str) -> None:
    blob = COMPRESSORS[codec](b"first ") + COMPRESSORS[codec](b"second")
    assert decompress(blob, codec, budget=budget(), path="p") == b"first second"


def test_legacy_lzma_alone_goes_through_xz() -> None:
    blob = lzma.compress(PAYLOAD, format=lzma.FORMAT_ALONE)
    assert decompress(blob, "xz", budget=budget(), path="p") == PAYLOAD


@pytest.mark.parametrize("codec", sorted(COMPRESSORS))
def test_decompression_bomb_is_refused_by_ratio(codec: str) -> None:
    bomb = COMPRESSORS[codec](b"\0" * (24 * MIB))
    # LZ4 tops out near 255:1, so the limit here is lower than the default 250.
    limits = ScanLimits(max_member_bytes=64 * MIB, max_expanded_bytes=64 * MIB, max_ratio=100)
    b = budget(limits)
    with pytest.raises(LimitExceeded, match="ratio"):
        decompress(bomb, codec, budget=b, path="p")
    assert b.expanded <= 20 * MIB


def test_decompress_output_cap_is_the_member_limit() -> None:
    data = os.urandom(2 * MIB)  # incompressible: the ratio never trips
    with pytest.raises(LimitExceeded, match="expands past"):
        decompress(
            gzip.compress(data), "gzip", budget=budget(ScanLimits(max_member_bytes=MIB)), path="p"
        )


def test_decompress_output_cap_is_the_remaining_budget() -> None:
    b = budget()
    b.spend_bytes(SMALL_LIMITS.max_expanded_bytes - 1000)
    with pytest.raises(LimitExceeded):
        decompress(gzip.compress(os.urandom(5000)), "gzip", budget=b, path="p")


def test_decompress_truncated_stream_returns_what_it_could() -> None:
    blob = gzip.compress(os.urandom(300_000))
    with pytest.raises(MemberReadError) as caught:
        decompress(blob[:-5000], "gzip", budget=budget(), path="p")
    assert caught.value.finding.rule_id == rules.UNPARSEABLE
    assert caught.value.data


def test_decompress_corrupt_stream() -> None:
    with pytest.raises(MemberReadError) as caught:
        decompress(b"BZh9" + b"\x00" * 64, "bz2", budget=budget(), path="p")
    assert "corrupt" in caught.value.finding.message


def test_decompress_trailing_garbage_is_reported_with_the_data() -> None:
    with pytest.raises(MemberReadError) as caught:
        decompress(gzip.compress(b"abc") + b"hidden pickle", "gzip", budget=budget(), path="p")
    assert caught.value.data == b"abc"
    assert "after the end" in caught.value.finding.message


def test_decompress_ignores_zero_padding() -> None:
    assert (
        decompress(gzip.compress(b"abc") + b"\0" * 512, "gzip", budget=budget(), path="p") == b"abc"
    )


def test_decompress_without_lz4_is_not_scanned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lz4", None)
    monkeypatch.setitem(sys.modules, "lz4.frame", None)
    with pytest.raises(MemberReadError) as caught:
        decompress(b"\x04\x22\x4d\x18", "lz4", budget=budget(), path="p")
    assert caught.value.finding.rule_id == rules.NOT_SCANNED
    assert "lz4" in caught.value.finding.message
    assert caught.value.data is None


def test_decompress_unknown_codec_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown codec"):
        decompress(b"", "zstd", budget=budget(), path="p")


def test_tar_oversized_long_name_header_is_refused() -> None:
    data = tar_bytes([(tar_info("n" * 3000), b"x")], fmt=tarfile.GNU_FORMAT)
    with pytest.raises(LimitExceeded, match="tar header"):
        list_tar(data, budget(ScanLimits(max_header_bytes=1024)))
