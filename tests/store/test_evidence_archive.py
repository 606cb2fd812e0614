"""Evidence archives: export then verify; every kind of tampering and hostile input detected.

Library-level checks here; the CLI's exit codes for the same archives are in
``test_evidence_cli.py``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from evidence_helpers import Member, populate, read_members, regular, write_members

from ssdf_ai.errors import InputError, VerificationError
from ssdf_ai.store import ArchiveLimits, EvidenceStore, verify_archive
from ssdf_ai.store import rules as r


def _rules(path: Path, limits: ArchiveLimits | None = None) -> list[str]:
    return sorted({p.rule_id for p in verify_archive(path, limits).problems})


@pytest.mark.parametrize("name", ["evidence.tar", "evidence.tar.gz", "evidence.tgz", "e.tar.xz"])
def test_export_then_verify_is_intact(store: EvidenceStore, tmp_path: Path, name: str) -> None:
    populate(store)
    path = tmp_path / name
    result = store.export(path)
    assert result.runs == 2
    assert result.artifacts == 3
    assert result.blobs == 2  # the same scan report recorded twice is one blob
    assert result.findings == 2
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.size == path.stat().st_size
    verification = verify_archive(path)
    assert verification.ok, verification.problems
    assert verification.sha256 == result.sha256
    assert verification.members == 3  # manifest + 2 blobs
    assert verification.summary is not None
    assert verification.summary.runs == 2
    verification.raise_for_problems()  # no exception


def test_archive_layout_and_manifest(exported: Path) -> None:
    members = read_members(exported)
    assert members[0].info.name == "manifest.json"
    manifest = json.loads(members[0].data)
    assert manifest["format"] == "ssdf-ai-evidence-archive"
    assert manifest["format_version"] == 1
    assert {m.info.name for m in members[1:]} == set(manifest["files"])
    for m in members[1:]:
        digest = m.info.name.removeprefix("blobs/sha256/")
        assert hashlib.sha256(m.data).hexdigest() == digest
        assert manifest["files"][m.info.name] == {"sha256": digest, "size": len(m.data)}
    assert {a["digest"] for a in manifest["artifacts"]} == {
        n.removeprefix("blobs/sha256/") for n in manifest["files"]
    }


def test_export_of_selected_runs(store: EvidenceStore, tmp_path: Path) -> None:
    scan_id, _ = populate(store)
    path = tmp_path / "one.tar"
    result = store.export(path, run_ids=[scan_id])
    assert (result.runs, result.artifacts, result.findings, result.blobs) == (1, 1, 2, 1)
    assert verify_archive(path).ok


def test_export_refuses_unknown_runs_and_empty_stores(store: EvidenceStore, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nothing to export"):
        store.export(tmp_path / "empty.tar")
    populate(store)
    with pytest.raises(InputError, match="no run with id 42"):
        store.export(tmp_path / "x.tar", run_ids=[42])
    assert not (tmp_path / "x.tar").exists()


def _blob_index(members: list[Member]) -> int:
    return next(i for i, m in enumerate(members) if m.info.name.startswith("blobs/"))


def _tamper(exported: Path, tmp_path: Path, how: str) -> Path:
    members = read_members(exported)
    i = _blob_index(members)
    if how == "changed":
        members[i].data = members[i].data + b" (edited)"
    elif how == "missing":
        del members[i]
    elif how == "extra":
        members.append(regular("blobs/sha256/" + "0" * 64, b""))
    elif how == "extra-other":
        members.append(regular("notes.txt", b"slipped in"))
    elif how == "traversal":
        members.append(regular("../../evil.sh", b"echo pwned"))
    elif how == "absolute":
        members.append(regular("/etc/cron.d/evil", b"* * * * * root sh"))
    elif how == "symlink":
        info = tarfile.TarInfo("blobs/sha256/" + "1" * 64)
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        members.append(Member(info, b""))
    elif how == "hardlink":
        info = tarfile.TarInfo("hard")
        info.type = tarfile.LNKTYPE
        info.linkname = "manifest.json"
        members.append(Member(info, b""))
    elif how == "device":
        info = tarfile.TarInfo("dev")
        info.type = tarfile.CHRTYPE
        info.devmajor, info.devminor = 1, 3
        members.append(Member(info, b""))
    elif how == "directory":
        info = tarfile.TarInfo("blobs")
        info.type = tarfile.DIRTYPE
        members.append(Member(info, b""))
    elif how == "duplicate":
        members.append(Member(members[i].info, b"second copy"))
    elif how == "renamed":  # content under another blob's name, manifest updated to match
        data = b"evil"
        manifest = json.loads(members[0].data)
        old = members[i].info.name
        entry = manifest["files"].pop(old)
        fake = "blobs/sha256/" + "f" * 64
        manifest["files"][fake] = {"sha256": hashlib.sha256(data).hexdigest(), "size": 4}
        del entry
        members[0].data = json.dumps(manifest).encode()
        members[i].info.name = fake
        members[i].data = data
    elif how == "no-manifest":
        del members[0]
    elif how == "bad-json":
        members[0].data = b"{not json"
    elif how == "wrong-format":
        members[0].data = json.dumps({"format": "something-else"}).encode()
    else:  # pragma: no cover
        raise AssertionError(how)
    return write_members(tmp_path / f"tampered-{how}.tar", members)


TAMPERING = {
    "changed": [r.MEMBER_CHANGED, r.BLOB_NAME_MISMATCH],
    "missing": [r.MEMBER_MISSING],
    "extra": [r.MEMBER_EXTRA, r.BLOB_NAME_MISMATCH],
    "extra-other": [r.MEMBER_EXTRA],
    "traversal": [r.UNSAFE_NAME],
    "absolute": [r.UNSAFE_NAME],
    "symlink": [r.UNSAFE_TYPE],
    "hardlink": [r.UNSAFE_TYPE],
    "device": [r.UNSAFE_TYPE],
    "directory": [r.UNSAFE_TYPE],
    "duplicate": [r.DUPLICATE_MEMBER],
    "renamed": [r.MEMBER_MISSING, r.BLOB_NAME_MISMATCH],
    "no-manifest": [r.MANIFEST_INVALID],
    "bad-json": [r.MANIFEST_INVALID],
    "wrong-format": [r.MANIFEST_INVALID],
}


@pytest.mark.parametrize(("how", "expected"), list(TAMPERING.items()))
def test_tampering_is_detected(
    exported: Path, tmp_path: Path, how: str, expected: list[str]
) -> None:
    path = _tamper(exported, tmp_path, how)
    result = verify_archive(path)
    assert not result.ok
    assert sorted({p.rule_id for p in result.problems}) == sorted(expected)
    for problem in result.problems:
        assert problem.task_ids == ("PS.3.1", "PS.2.1")
        assert problem.location.path == str(path)
    with pytest.raises(VerificationError, match="failed verification"):
        result.raise_for_problems()


def test_verification_extracts_nothing(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _tamper(exported, tmp_path, "traversal")
    work = tmp_path / "work" / "dir"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    verify_archive(path)
    assert not (tmp_path / "evil.sh").exists()
    assert list(work.iterdir()) == []


def test_truncated_archive_is_corrupt(exported: Path, tmp_path: Path) -> None:
    data = exported.read_bytes()
    # Cut inside the first blob's content (after the manifest member).
    members = read_members(exported)
    cut = 512 * 3 + len(members[0].data) + 700
    path = tmp_path / "truncated.tar"
    path.write_bytes(data[:cut])
    assert r.ARCHIVE_CORRUPT in _rules(path)


def test_garbage_after_the_first_member_is_corrupt(exported: Path, tmp_path: Path) -> None:
    members = read_members(exported)
    path = write_members(tmp_path / "one.tar", members[:1])
    with tarfile.open(path) as tar:
        first = tar.getmembers()[0]
        end = first.offset_data + ((first.size + 511) // 512) * 512
    raw = bytearray(path.read_bytes())
    raw[end : end + 512] = b"\xff" * 512  # where the end-of-archive marker was
    path.write_bytes(bytes(raw))
    assert r.ARCHIVE_CORRUPT in _rules(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"just some text, not an archive\n" * 40, bytes(range(256)) * 8, b"\x1f\x8bnot gzip"],
    ids=["empty", "text", "binary", "fake-gzip"],
)
def test_not_an_archive_is_an_input_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "not.tar"
    path.write_bytes(content)
    with pytest.raises(InputError, match="not a tar archive"):
        verify_archive(path)


def test_missing_archive_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no archive"):
        verify_archive(tmp_path / "absent.tar")


def test_more_members_than_the_limit(exported: Path, tmp_path: Path) -> None:
    members = read_members(exported)
    members += [regular(f"x{i}", b"") for i in range(10)]
    path = write_members(tmp_path / "many.tar", members)
    assert _rules(path, ArchiveLimits(max_members=5)) == [r.LIMIT_EXCEEDED]


def test_gigantic_declared_member_count_in_manifest(exported: Path, tmp_path: Path) -> None:
    members = read_members(exported)
    manifest = json.loads(members[0].data)
    limit = ArchiveLimits().max_members
    manifest["files"] = {f"f{i}": {"sha256": "0" * 64, "size": 0} for i in range(limit + 1)}
    members[0].data = json.dumps(manifest).encode()
    path = write_members(tmp_path / "declared.tar", members)
    assert _rules(path) == [r.LIMIT_EXCEEDED]


def test_gigantic_declared_member_size(tmp_path: Path) -> None:
    info = tarfile.TarInfo("blobs/sha256/" + "2" * 64)
    info.size = 1 << 40  # one TiB declared, a few bytes present
    header = info.tobuf(tarfile.PAX_FORMAT)
    path = tmp_path / "huge.tar"
    path.write_bytes(header + b"tiny" + b"\0" * 1020)
    assert _rules(path) == [r.LIMIT_EXCEEDED]


def test_oversized_pax_header_is_refused_before_it_is_read(tmp_path: Path) -> None:
    info = tarfile.TarInfo("././@PaxHeader")
    info.type = tarfile.XHDTYPE
    info.size = 1 << 30
    path = tmp_path / "pax.tar"
    path.write_bytes(info.tobuf(tarfile.USTAR_FORMAT) + b"\0" * 4096)
    assert _rules(path) == [r.LIMIT_EXCEEDED]


def test_decompression_bomb_is_bounded(tmp_path: Path) -> None:
    zeros = b"\0" * (1 << 20)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        info = tarfile.TarInfo("blobs/sha256/" + "3" * 64)
        info.size = 64 * len(zeros)
        tar.addfile(info, io.BytesIO(zeros * 64))
    path = tmp_path / "bomb.tar.gz"
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size < 200_000
    assert _rules(path, ArchiveLimits(max_total_size=8 << 20)) == [r.LIMIT_EXCEEDED]
    # Within a generous limit the same archive is read (and is merely not an evidence archive).
    assert _rules(path) == sorted([r.BLOB_NAME_MISMATCH, r.MANIFEST_INVALID])


def test_manifest_larger_than_the_limit(exported: Path) -> None:
    assert _rules(exported, ArchiveLimits(max_manifest_size=64)) == [r.LIMIT_EXCEEDED]


def test_manifest_records_must_be_consistent(exported: Path, tmp_path: Path) -> None:
    members = read_members(exported)
    manifest = json.loads(members[0].data)
    manifest["artifacts"][0]["digest"] = "9" * 64  # points at a blob that is not there
    manifest["findings"][0]["run_id"] = 999  # points at a run that is not there
    members[0].data = json.dumps(manifest).encode()
    path = write_members(tmp_path / "records.tar", members)
    assert _rules(path) == [r.MEMBER_MISSING, r.MANIFEST_INVALID]


def test_every_rule_has_metadata() -> None:
    ids = [
        v
        for k, v in vars(r).items()
        if k.isupper() and isinstance(v, str) and v.startswith("SSDF-")
    ]
    assert sorted(ids) == sorted(r.RULES)
    for rule in r.RULES.values():
        assert rule.cwe
        assert rule.description.endswith(".")
