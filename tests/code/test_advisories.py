"""The local OSV advisory database: import from a file, a folder and a zip (bounded), malformed
records, upserts, OSV range semantics in PEP 440 order, CVSS v3 scores, and the download from a
real local HTTP server."""

from __future__ import annotations

import copy
import http.server
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from ssdf_ai.code._cvss import base_score, score_severity
from ssdf_ai.code.advisories import (
    AdvisoryDatabase,
    Limits,
    download,
    import_advisories,
    parse_record,
)
from ssdf_ai.errors import InputError
from ssdf_ai.findings import Severity


def torch_advisory(**changes: Any) -> dict[str, Any]:
    """GHSA-53q9-r3pm-6pq6 as OSV serves it (CVE-2025-32434: torch.load weights_only bypass)."""
    record: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": "GHSA-53q9-r3pm-6pq6",
        "modified": "2025-04-23T18:30:00Z",
        "published": "2025-04-17T21:15:20Z",
        "aliases": ["CVE-2025-32434"],
        "summary": "PyTorch: `torch.load` with `weights_only=True` leads to remote code execution",
        "details": "A Remote Command Execution (RCE) vulnerability exists in PyTorch when "
        "loading a model using torch.load with weights_only=True.",
        "severity": [
            {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H"}
        ],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "torch", "purl": "pkg:pypi/torch"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.6.0"}]}
                ],
                "versions": ["2.5.0", "2.5.1"],
                "database_specific": {"source": "https://github.com/advisories"},
            }
        ],
        "references": [
            {
                "type": "ADVISORY",
                "url": "https://github.com/pytorch/pytorch/security/advisories/GHSA-53q9-r3pm-6pq6",
            }
        ],
        "database_specific": {
            "cwe_ids": ["CWE-502"],
            "github_reviewed": True,
            "severity": "CRITICAL",
        },
    }
    record.update(changes)
    return record


def transformers_advisory(**changes: Any) -> dict[str, Any]:
    """PYSEC-2024-227-style record for transformers (CVE-2024-11392: deserialization in
    MobileViTV2 configs), with a CVSS v3 vector and no stated rating."""
    record: dict[str, Any] = {
        "id": "PYSEC-2024-227",
        "modified": "2024-11-27T10:00:00Z",
        "published": "2024-11-22T21:15:00Z",
        "aliases": ["CVE-2024-11392", "GHSA-qxrp-vhvm-j765"],
        "details": "Hugging Face Transformers MobileViTV2 Deserialization of Untrusted Data "
        "Remote Code Execution Vulnerability.\nUser interaction is required.",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"}],
        "affected": [
            {
                "package": {
                    "ecosystem": "PyPI",
                    "name": "transformers",
                    "purl": "pkg:pypi/transformers",
                },
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.48.0"}]}
                ],
            }
        ],
    }
    record.update(changes)
    return record


def requests_advisory() -> dict[str, Any]:
    """A non-ML advisory with two ranges and a last_affected event."""
    return {
        "id": "GHSA-9wx4-h78v-vm56",
        "modified": "2024-06-10T00:00:00Z",
        "aliases": ["CVE-2024-35195"],
        "summary": "Requests Session object does not verify requests after making first "
        "request with verify=False",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "requests"},
                "ranges": [
                    {
                        "type": "ECOSYSTEM",
                        "events": [{"introduced": "2.0.0"}, {"fixed": "2.32.0"}],
                    },
                    {
                        "type": "ECOSYSTEM",
                        "events": [{"introduced": "1.0.0"}, {"last_affected": "1.2.3"}],
                    },
                ],
            }
        ],
        "database_specific": {"severity": "MODERATE"},
    }


def write_records(folder: Path, *records: dict[str, Any]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for record in records:
        path = folder / f"{record['id']}.json"
        path.write_text(json.dumps(record))
        paths.append(path)
    return paths


def osv_zip(path: Path, *records: dict[str, Any], extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in records:
            archive.writestr(f"{record['id']}.json", json.dumps(record))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "db" / "advisories.sqlite"
    write_records(tmp_path / "osv", torch_advisory(), transformers_advisory(), requests_advisory())
    import_advisories(tmp_path / "osv", path)
    return path


def test_import_from_a_folder_counts_and_queries(tmp_path: Path) -> None:
    write_records(tmp_path / "osv" / "sub", torch_advisory(), transformers_advisory())
    result = import_advisories(tmp_path / "osv", tmp_path / "a.sqlite")
    assert (result.read, result.added, result.malformed) == (2, 2, 0)
    assert result.total == 2
    assert result.newest_modified == "2025-04-23T18:30:00Z"
    assert result.digest is not None
    assert len(result.digest) == 64
    with AdvisoryDatabase.open(tmp_path / "a.sqlite") as database:
        found = database.affecting("Torch", "2.5.1")
        assert [a.id for a in found] == ["GHSA-53q9-r3pm-6pq6"]
        assert found[0].aliases == ("CVE-2025-32434",)
        assert found[0].severity is Severity.CRITICAL
        assert database.affecting("torch", "2.6.0") == []
        assert database.updated_at() is not None


def test_import_from_one_file_and_from_a_zip(tmp_path: Path) -> None:
    [single] = write_records(tmp_path / "one", torch_advisory())
    assert import_advisories(single, tmp_path / "a.sqlite").added == 1
    archive = osv_zip(
        tmp_path / "all.zip",
        torch_advisory(),
        transformers_advisory(),
        extra={"../../escape.json": json.dumps(requests_advisory()).encode(), "README": b"x"},
    )
    result = import_advisories(archive, tmp_path / "a.sqlite")
    # The member named ../../escape.json is read as a record, never used as a path.
    assert (result.read, result.added, result.unchanged) == (3, 2, 1)
    assert not (tmp_path.parent / "escape.json").exists()
    assert result.total == 3


def test_upsert_keeps_the_newer_modified(tmp_path: Path) -> None:
    database = tmp_path / "a.sqlite"
    write_records(tmp_path / "v1", torch_advisory())
    import_advisories(tmp_path / "v1", database)
    newer = torch_advisory(modified="2025-05-01T00:00:00Z", summary="updated summary")
    write_records(tmp_path / "v2", newer)
    assert import_advisories(tmp_path / "v2", database).updated == 1
    older = torch_advisory(modified="2025-01-01T00:00:00Z", summary="stale summary")
    write_records(tmp_path / "v3", older)
    again = import_advisories(tmp_path / "v3", database)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1)
    with AdvisoryDatabase.open(database) as opened:
        [advisory] = opened.for_package("torch")
        assert advisory.summary == "updated summary"
        assert opened.count() == 1


def test_malformed_records_are_counted_and_reported(tmp_path: Path) -> None:
    no_id = torch_advisory()
    del no_id["id"]
    bad_range = transformers_advisory()
    bad_range["affected"][0]["ranges"][0]["events"] = [{"introduced": "0", "fixed": "1"}]
    no_package = requests_advisory()
    no_package["id"] = "GHSA-xxxx-no-package"
    del no_package["affected"][0]["package"]
    folder = tmp_path / "osv"
    folder.mkdir()
    (folder / "no-id.json").write_text(json.dumps(no_id))
    (folder / "bad-range.json").write_text(json.dumps(bad_range))
    (folder / "no-package.json").write_text(json.dumps(no_package))
    (folder / "not-json.json").write_text("{nope")
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    write_records(folder, requests_advisory())
    result = import_advisories(folder, tmp_path / "a.sqlite")
    assert (result.read, result.added, result.malformed) == (6, 1, 5)
    reasons = "\n".join(result.problems)
    assert "no-id.json: id is missing" in reasons
    assert "bad-range.json: affected[0].ranges[0] has an event that is not one key" in reasons
    assert "no-package.json: affected[0].package is missing" in reasons
    assert "not-json.json: not JSON" in reasons
    assert "deep.json: not JSON" in reasons


def test_nothing_valid_is_an_error_and_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    database = tmp_path / "a.sqlite"
    write_records(tmp_path / "good", torch_advisory())
    import_advisories(tmp_path / "good", database)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.json").write_text('{"id": 1}')
    with pytest.raises(InputError, match="no valid OSV record") as caught:
        import_advisories(tmp_path / "bad", database)
    assert "x.json: id is missing" in (caught.value.hint or "")
    with AdvisoryDatabase.open(database) as opened:
        assert opened.count() == 1


def test_a_failed_first_import_leaves_no_database_behind(tmp_path: Path) -> None:
    """No empty database (and no folder made for it) after a first import that fails: a later
    `ssdf deps` then says the advisories were never imported, not that the database is empty."""
    (tmp_path / "bad.json").write_text('{"id": ')
    database = tmp_path / "store" / "advisories.sqlite"
    with pytest.raises(InputError, match="no valid OSV record"):
        import_advisories(tmp_path / "bad.json", database)
    assert not database.exists()
    assert not database.parent.exists()


def test_missing_source_and_non_database_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        import_advisories(tmp_path / "nope", tmp_path / "a.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InputError, match="not an advisory database"):
        AdvisoryDatabase.open(junk)


def test_zip_bomb_and_member_count_are_bounded(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(5):
            archive.writestr(f"big{index}.json", b" " * (2 << 20))
        archive.writestr("GHSA-ok.json", json.dumps(torch_advisory()))
    assert bomb.stat().st_size < 100_000
    limits = Limits(max_record_bytes=1 << 20, max_total_bytes=3 << 20)
    with pytest.raises(InputError, match="decompresses to more than"):
        import_advisories(bomb, tmp_path / "a.sqlite", limits=limits)
    # Per-member bound alone: oversized members are malformed, the rest imports.
    result = import_advisories(bomb, tmp_path / "a.sqlite", limits=Limits(max_record_bytes=1 << 20))
    assert (result.malformed, result.added) == (5, 1)
    assert "larger than 1,048,576 bytes" in result.problems[0]
    many = osv_zip(tmp_path / "many.zip", *[torch_advisory(id=f"GHSA-{i}") for i in range(20)])
    with pytest.raises(InputError, match="holds 20 members, more than 10"):
        import_advisories(many, tmp_path / "a.sqlite", limits=Limits(max_members=10))


def test_symlinked_records_are_not_followed(tmp_path: Path) -> None:
    outside = write_records(tmp_path / "outside", transformers_advisory())[0]
    folder = tmp_path / "osv"
    write_records(folder, torch_advisory())
    (folder / "link.json").symlink_to(outside)
    result = import_advisories(folder, tmp_path / "a.sqlite")
    assert (result.read, result.added) == (1, 1)


RANGE_CASES = [
    # (events, versions list, version, affected)
    ([{"introduced": "0"}, {"fixed": "2.6.0"}], [], "2.5.1", True),
    ([{"introduced": "0"}, {"fixed": "2.6.0"}], [], "2.6.0", False),
    ([{"introduced": "0"}, {"fixed": "2.6.0"}], [], "2.6.0rc1", True),  # pre-release before fix
    ([{"introduced": "0"}, {"fixed": "2.6.0"}], [], "2.6.0.post1", False),
    ([{"introduced": "0"}, {"fixed": "2.6.0"}], [], "0.0.1", True),
    ([{"introduced": "1.0"}, {"fixed": "1.5"}], [], "0.9", False),
    ([{"introduced": "1.0"}, {"fixed": "1.5"}], [], "1.0.0", True),  # 1.0 == 1.0.0 in PEP 440
    ([{"introduced": "1.0"}, {"last_affected": "1.2"}], [], "1.2", True),
    ([{"introduced": "1.0"}, {"last_affected": "1.2"}], [], "1.2.1", False),
    (
        [{"introduced": "1.0"}, {"fixed": "1.5"}, {"introduced": "2.0"}, {"fixed": "2.1"}],
        [],
        "1.7",
        False,
    ),
    (
        [{"introduced": "1.0"}, {"fixed": "1.5"}, {"introduced": "2.0"}, {"fixed": "2.1"}],
        [],
        "2.0.5",
        True,
    ),
    ([{"introduced": "0"}, {"limit": "3.0"}], [], "2.9", True),
    ([{"introduced": "0"}, {"limit": "3.0"}], [], "3.0", False),
    ([{"introduced": "2.0"}], [], "9.9", True),  # never fixed
    ([], ["1.3.0"], "1.3", True),  # versions list, compared as versions
    ([], ["1.3.0"], "1.3.1", False),
    ([{"introduced": "0"}, {"fixed": "not a version"}], [], "1.0", True),  # bad event ignored
]


@pytest.mark.parametrize(("events", "versions", "version", "expected"), RANGE_CASES)
def test_range_semantics(
    events: list[dict[str, str]], versions: list[str], version: str, expected: bool
) -> None:
    record = torch_advisory()
    record["affected"][0]["versions"] = versions
    record["affected"][0]["ranges"] = [{"type": "ECOSYSTEM", "events": events}] if events else []
    advisory = parse_record(record)
    assert advisory.affects("torch", Version(version)) is expected


def test_multiple_ranges_other_range_types_and_fix_versions() -> None:
    advisory = parse_record(requests_advisory())
    assert advisory.affects("requests", Version("1.2.0"))
    assert not advisory.affects("requests", Version("1.5"))
    assert advisory.affects("requests", Version("2.31.0"))
    assert advisory.fix_for("requests", Version("2.31.0")) == Version("2.32.0")
    assert advisory.fix_for("requests", Version("1.2.0")) == Version("2.32.0")
    assert advisory.severity is Severity.MEDIUM  # MODERATE
    git_only = torch_advisory()
    git_only["affected"][0]["ranges"] = [
        {
            "type": "GIT",
            "repo": "https://github.com/pytorch/pytorch",
            "events": [{"introduced": "0"}],
        }
    ]
    git_only["affected"][0]["versions"] = []
    assert not parse_record(git_only).affects("torch", Version("2.0"))


def test_other_ecosystems_are_kept_out(tmp_path: Path) -> None:
    npm = copy.deepcopy(torch_advisory(id="GHSA-npm"))
    npm["affected"][0]["package"] = {"ecosystem": "npm", "name": "torch"}
    write_records(tmp_path / "osv", npm, torch_advisory())
    result = import_advisories(tmp_path / "osv", tmp_path / "a.sqlite")
    assert (result.added, result.other_ecosystem) == (1, 1)


@pytest.mark.parametrize(
    ("vector", "score", "severity"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, Severity.CRITICAL),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8, Severity.HIGH),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, Severity.CRITICAL),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, Severity.MEDIUM),  # typical XSS
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N", 3.3, Severity.LOW),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, Severity.HIGH),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, Severity.INFO),
    ],
)
def test_cvss_v3_base_scores(vector: str, score: float, severity: Severity) -> None:
    assert base_score(vector) == score
    assert score_severity(score) is severity


@pytest.mark.parametrize(
    "vector",
    [
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # incomplete
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # unknown value
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",  # CVSS v2
    ],
)
def test_invalid_or_other_cvss_vectors_give_no_score(vector: str) -> None:
    assert base_score(vector) is None


def test_severity_from_a_vector_when_no_rating_is_stated() -> None:
    advisory = parse_record(transformers_advisory())
    assert advisory.score == 8.8
    assert advisory.severity is Severity.HIGH
    assert advisory.summary.startswith("Hugging Face Transformers MobileViTV2")  # from details


class _ZipHandler(http.server.BaseHTTPRequestHandler):
    payload = b""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path != "/PyPI/all.zip":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """A real HTTP server on localhost serving an OSV zip built here."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in (torch_advisory(), transformers_advisory()):
            archive.writestr(f"{record['id']}.json", json.dumps(record))
    handler = type("Handler", (_ZipHandler,), {"payload": buffer.getvalue()})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_download_streams_to_a_temporary_file(server: str, tmp_path: Path) -> None:
    fetched = download(f"{server}/PyPI/all.zip", tmp_path)
    assert fetched.parent == tmp_path
    assert zipfile.is_zipfile(fetched)
    assert import_advisories(fetched, tmp_path / "a.sqlite").added == 2
    with pytest.raises(InputError, match="larger than 100 bytes"):
        download(f"{server}/PyPI/all.zip", tmp_path, max_bytes=100)
    with pytest.raises(InputError, match="took longer than 0 s"):
        download(f"{server}/PyPI/all.zip", tmp_path, max_seconds=0)
    with pytest.raises(InputError, match="cannot download") as caught:
        download(f"{server}/missing.zip", tmp_path)
    assert "--from" in (caught.value.hint or "")
    # The failed downloads left no temporary file behind.
    assert {p.name for p in tmp_path.iterdir()} == {"a.sqlite", fetched.name}


def test_download_refuses_other_schemes(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not an http"):
        download("file:///etc/passwd", tmp_path)
