"""Every ``ssdf evidence`` command through the real CLI, with its exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import jsonschema
import pytest
from evidence_helpers import cli, populate, read_members, regular, write_members

from ssdf_ai.store import EvidenceStore
from ssdf_ai.store import rules as r

SSDF = Path(sys.executable).with_name("ssdf")


@pytest.fixture(scope="module")
def sarif_validator(shared_dir: Path) -> jsonschema.Draft7Validator:
    schema = json.loads((shared_dir / "schemas" / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft7Validator(schema)


@pytest.fixture
def card(tmp_path: Path) -> Path:
    path = tmp_path / "data-card.md"
    path.write_text("# Data card\n\nTraining data: public domain texts.\n")
    return path


def test_list_on_a_missing_store_is_not_an_error(project: Path) -> None:
    result = cli("evidence", "list", "--project", project)
    assert result.code == 0
    assert "No evidence recorded yet" in result.stdout
    assert not (project / ".ssdf").exists()  # listing creates nothing
    data = json.loads(cli("evidence", "list", "--project", project, "-f", "json").stdout)
    assert data["report"] == "evidence-list"
    assert data["total"] == 0


def test_add_records_a_file_with_its_subject(project: Path, card: Path) -> None:
    data_dir = project / "data"
    data_dir.mkdir()
    (data_dir / "train.csv").write_text("a,b\n1,2\n")
    result = cli(
        "evidence", "add", card, "--kind", "data-card",
        "--subject", data_dir, "--subject-kind", "dataset",
        "--project", project, "-f", "json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["report"] == "evidence-add"
    artifact = report["artifact"]
    assert artifact["digest"] == hashlib.sha256(card.read_bytes()).hexdigest()
    assert artifact["media_type"] == "text/markdown"
    assert artifact["kind"] == "data-card"
    assert report["subject"]["kind"] == "dataset"
    assert report["subject"]["name"] == "data"
    with EvidenceStore.open(project, create=False) as store:
        [run] = store.runs()
        assert run.command == "evidence add"
        assert run.exit_code == 0
        assert store.read_blob(artifact["digest"]) == card.read_bytes()


def test_add_with_a_file_subject_and_explicit_media_type(project: Path, card: Path) -> None:
    model = project / "model.safetensors"
    model.write_bytes(b"\x00" * 64)
    result = cli(
        "evidence", "add", card, "--kind", "review-record", "--media-type", "text/plain",
        "--subject", model, "--project", project, "-f", "json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["artifact"]["media_type"] == "text/plain"
    assert report["subject"] == {
        "id": 1,
        "kind": "file",
        "name": "model.safetensors",
        "digest": hashlib.sha256(b"\x00" * 64).hexdigest(),
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.md", "--kind", "data-card"], "no file at"),
        (["CARD", "--kind", "Data Card"], "invalid artifact kind"),
        (["CARD", "--kind", "data-card", "--subject", "PROJECT"], "say what the directory"),
        (["CARD", "--kind", "data-card", "--subject-kind", "model"], "needs --subject"),
        (["CARD", "--kind", "data-card", "--subject", "nowhere"], "no such file"),
        (["CARD", "--kind", "data-card", "--subject", "CARD", "--subject-kind", "car"], "unknown"),
    ],
)
def test_add_refuses_bad_input_and_records_nothing(
    project: Path, card: Path, args: list[str], message: str
) -> None:
    args = [str(card) if a == "CARD" else str(project) if a == "PROJECT" else a for a in args]
    result = cli("evidence", "add", *args, "--project", project)
    assert result.code == 2
    assert message in result.stderr
    assert result.stdout == ""
    with EvidenceStore.open(project) as store:
        assert store.runs() == []


def test_list_kinds_and_limit(project: Path) -> None:
    with EvidenceStore.open(project) as store:
        populate(store)
    runs = json.loads(cli("evidence", "list", "--project", project, "-f", "json").stdout)
    assert [run["command"] for run in runs["runs"]] == ["sign", "scan"]
    limited = json.loads(
        cli("evidence", "list", "--project", project, "-f", "json", "--limit", "1").stdout
    )
    assert limited["total"] == 2
    assert len(limited["runs"]) == 1
    text = cli("evidence", "list", "--project", project, "--limit", "1").stdout
    assert "showing the newest 1 of 2" in text
    artifacts = json.loads(
        cli("evidence", "list", "--kind", "artifacts", "--project", project, "-f", "json").stdout
    )
    assert len(artifacts["artifacts"]) == 3
    findings = cli("evidence", "list", "--kind", "findings", "--project", project)
    assert findings.code == 0
    assert "problem number 1" in findings.stdout
    bad = cli("evidence", "list", "--kind", "nonsense", "--project", project)
    assert bad.code == 2
    assert "cannot list" in bad.stderr


def test_show_a_run_as_terminal_json_and_sarif(
    project: Path, sarif_validator: jsonschema.Draft7Validator
) -> None:
    with EvidenceStore.open(project) as store:
        scan_id, _ = populate(store)
    text = cli("evidence", "show", str(scan_id), "--project", project)
    assert text.code == 0  # showing judges nothing, even with high findings
    assert "problem number 1" in text.stdout
    assert "models/m" in text.stdout
    data = json.loads(
        cli("evidence", "show", f"run:{scan_id}", "--project", project, "-f", "json").stdout
    )
    assert data["report"] == "evidence-run"
    assert data["detail"]["run"]["id"] == scan_id
    assert len(data["findings"]) == 2
    sarif = cli("evidence", "show", str(scan_id), "--project", project, "-f", "sarif")
    assert sarif.code == 0
    log = json.loads(sarif.stdout)
    sarif_validator.validate(log)
    assert [res["message"]["text"] for res in log["runs"][0]["results"]] == [
        "problem number 1",
        "problem number 2",
    ]


def test_show_an_artifact_by_digest_prefix(project: Path) -> None:
    with EvidenceStore.open(project) as store:
        populate(store)
    digest = hashlib.sha256(b'{"scan": 1}').hexdigest()
    for ident in (digest, digest[:8], f"sha256:{digest[:10]}"):
        result = cli("evidence", "show", ident, "--project", project, "-f", "json")
        assert result.code == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["report"] == "evidence-artifact"
        assert data["digest"] == digest
        assert len(data["records"]) == 2  # recorded by both runs
        assert len(data["runs"]) == 2
    sarif = cli("evidence", "show", digest[:8], "--project", project, "-f", "sarif")
    assert sarif.code == 2  # an artifact has no findings to give as SARIF
    assert "applies only to reports with findings" in sarif.stderr


@pytest.mark.parametrize(
    ("ident", "message"),
    [("99", "no run with id 99"), ("deadbeef00", "no artifact"), ("xyz", "not a digest")],
)
def test_show_unknown_ids_exit_2(project: Path, ident: str, message: str) -> None:
    with EvidenceStore.open(project) as store:
        populate(store)
    result = cli("evidence", "show", ident, "--project", project)
    assert result.code == 2
    assert message in result.stderr


def test_show_refuses_a_tampered_blob(project: Path) -> None:
    with EvidenceStore.open(project) as store:
        populate(store)
        digest = hashlib.sha256(b"signature bytes").hexdigest()
        blob = store.blob_path(digest)
    blob.chmod(0o644)
    blob.write_bytes(b"forged signature")
    result = cli("evidence", "show", digest[:8], "--project", project)
    assert result.code == 2
    assert "has been modified" in result.stderr


def test_show_and_export_without_a_store_exit_2(project: Path, tmp_path: Path) -> None:
    for args in (["show", "1"], ["export", str(tmp_path / "a.tar")], ["verify"]):
        result = cli("evidence", *args, "--project", project)
        assert result.code == 2, args
        assert "no evidence recorded yet" in result.stderr
        assert "ssdf evidence add" in result.stderr


def test_export_and_verify_round_trip(project: Path, tmp_path: Path) -> None:
    with EvidenceStore.open(project) as store:
        scan_id, _ = populate(store)
    archive = tmp_path / "release-1.0.tar.gz"
    result = cli("evidence", "export", archive, "--project", project, "-f", "json")
    assert result.code == 0, result.stderr
    export = json.loads(result.stdout)["export"]
    assert export["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert export["compression"] == "gzip"
    verified = cli("evidence", "verify", archive, "-f", "json")
    assert verified.code == 0
    data = json.loads(verified.stdout)
    assert data["report"] == "evidence-verify"
    assert data["findings"] == []
    assert data["sha256"] == export["sha256"]
    assert "Intact" in cli("evidence", "verify", archive).stdout

    one = tmp_path / "scan-only.tar"
    result = cli(
        "evidence", "export", one, "--run", str(scan_id), "--project", project, "-f", "json"
    )
    assert json.loads(result.stdout)["export"]["runs"] == 1
    bad = cli("evidence", "export", tmp_path / "x.tar", "--run", "77", "--project", project)
    assert bad.code == 2
    assert "no run with id 77" in bad.stderr
    nowhere = cli("evidence", "export", tmp_path / "no" / "dir.tar", "--project", project)
    assert nowhere.code == 2
    assert "does not exist" in nowhere.stderr


def test_verify_the_store_itself(project: Path) -> None:
    with EvidenceStore.open(project) as store:
        populate(store)
        blob = store.blob_path(hashlib.sha256(b"signature bytes").hexdigest())
    assert cli("evidence", "verify", "--project", project).code == 0
    blob.chmod(0o644)
    blob.write_bytes(b"forged")
    result = cli("evidence", "verify", "--project", project, "-f", "json")
    assert result.code == 1
    assert [f["rule_id"] for f in json.loads(result.stdout)["findings"]] == [r.MEMBER_CHANGED]


def _tampered(exported: Path, tmp_path: Path, how: str) -> Path:
    members = read_members(exported)
    blob = next(i for i, m in enumerate(members) if m.info.name.startswith("blobs/"))
    if how == "changed":
        members[blob].data += b"!"
    elif how == "missing":
        del members[blob]
    elif how == "extra":
        members.append(regular("extra.txt", b"x"))
    elif how == "traversal":
        members.append(regular("../outside.txt", b"x"))
    elif how == "symlink":
        info = tarfile.TarInfo("link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/shadow"
        members[blob] = type(members[blob])(info, b"")
    elif how == "declared-count":
        manifest = json.loads(members[0].data)
        manifest["files"] = {f"f{i}": {"sha256": "0" * 64, "size": 0} for i in range(100_001)}
        members[0].data = json.dumps(manifest).encode()
    return write_members(tmp_path / f"{how}.tar", members)


@pytest.mark.parametrize(
    ("how", "rule"),
    [
        ("changed", r.MEMBER_CHANGED),
        ("missing", r.MEMBER_MISSING),
        ("extra", r.MEMBER_EXTRA),
        ("traversal", r.UNSAFE_NAME),
        ("symlink", r.UNSAFE_TYPE),
        ("declared-count", r.LIMIT_EXCEEDED),
    ],
)
def test_verify_tampered_archive_exits_1_with_findings(
    exported: Path,
    tmp_path: Path,
    how: str,
    rule: str,
    sarif_validator: jsonschema.Draft7Validator,
) -> None:
    path = _tampered(exported, tmp_path, how)
    result = cli("evidence", "verify", path, "-f", "json")
    assert result.code == 1
    rules = [f["rule_id"] for f in json.loads(result.stdout)["findings"]]
    assert rule in rules
    text = cli("evidence", "verify", path)
    assert text.code == 1
    assert "NOT intact" in text.stdout
    sarif = cli("evidence", "verify", path, "-f", "sarif")
    assert sarif.code == 1
    log = json.loads(sarif.stdout)
    sarif_validator.validate(log)
    described = {rule_["id"] for rule_ in log["runs"][0]["tool"]["driver"]["rules"]}
    assert described == set(rules)


def test_verify_limits_are_options(exported: Path) -> None:
    assert cli("evidence", "verify", exported, "--max-members", "2").code == 1
    assert cli("evidence", "verify", exported, "--max-size", "10").code == 1
    assert cli("evidence", "verify", exported).code == 0


@pytest.mark.parametrize("content", [b"", b"hello, I am not a tar file\n" * 30])
def test_verify_non_archive_exits_2(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "not-an-archive.tar"
    path.write_bytes(content)
    result = cli("evidence", "verify", path)
    assert result.code == 2
    assert "not a tar archive" in result.stderr
    missing = cli("evidence", "verify", tmp_path / "absent.tar")
    assert missing.code == 2
    assert "no archive" in missing.stderr


def test_database_url_from_the_environment(project: Path, card: Path, tmp_path: Path) -> None:
    db = tmp_path / "shared-evidence.db"
    env = {**os.environ, "SSDF_DATABASE_URL": f"sqlite:///{db}"}
    out = subprocess.run(
        [SSDF, "evidence", "add", card, "--kind", "data-card", "--project", project],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert db.is_file()
    assert not (project / ".ssdf" / "evidence.db").exists()
    listed = subprocess.run(
        [SSDF, "evidence", "list", "--project", project, "-f", "json"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert json.loads(listed.stdout)["total"] == 1


def test_every_evidence_command_has_help() -> None:
    for name in ("list", "show", "add", "export", "verify"):
        result = cli("evidence", name, "--help")
        assert result.code == 0
        assert "--project" in result.stdout


def test_recorded_names_are_shown_literally_not_as_markup(project: Path) -> None:
    # A file name is input: "[red]" in it must be printed, not taken as rich markup.
    odd = project / "card[bold]x.md"
    odd.write_text("# card\n")
    added = cli("evidence", "add", odd, "--kind", "review", "--subject", odd, "--project", project)
    assert added.code == 0, added.stderr
    assert "card[bold]x.md" in added.stdout
    for args in (("list", "--kind", "artifacts"), ("show", "1")):
        shown = cli("evidence", *args, "--project", project)
        assert shown.code == 0, shown.stderr
        assert "card[bold]x.md" in shown.stdout.replace("\n", "")
