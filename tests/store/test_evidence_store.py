"""The evidence store: records round-trip, blobs are checked, bad input is refused."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest
from evidence_helpers import finding, populate

from ssdf_ai.errors import InputError, StoreError, VerificationError
from ssdf_ai.evidence import Subject, SubjectKind
from ssdf_ai.findings import Severity
from ssdf_ai.store import EvidenceStore, RunStatus, digest_path, subject_for_path
from ssdf_ai.store import rules as evid_rules


def test_round_trip_of_runs_subjects_artifacts_findings(store: EvidenceStore) -> None:
    scan_id, sign_id = populate(store)

    runs = store.runs()
    assert [r.id for r in runs] == [sign_id, scan_id]  # newest first
    scan = store.get_run(scan_id)
    assert scan.run.command == "scan"
    assert scan.run.argv == ("scan", "models/")
    assert scan.run.status is RunStatus.FINISHED
    assert scan.run.exit_code == 1
    assert scan.run.finished_at is not None
    assert scan.run.finished_at >= scan.run.started_at
    assert scan.run.started_at.tzinfo is not None
    assert [s.name for s in scan.subjects] == ["models/m"]
    assert scan.run.subject_ids == (scan.subjects[0].id,)
    [artifact] = scan.artifacts
    assert artifact.kind == "scan-report"
    assert artifact.name == "scan.json"
    assert artifact.subject_id == scan.subjects[0].id
    assert artifact.digest == hashlib.sha256(b'{"scan": 1}').hexdigest()
    assert artifact.size == len(b'{"scan": 1}')
    assert artifact.producer.startswith("ssdf-ai ")
    assert [f.finding for f in scan.findings] == [finding(1), finding(2, Severity.LOW)]
    assert scan.findings[0].subject_id == scan.subjects[0].id

    sign = store.get_run(sign_id)
    assert sign.run.exit_code == 0
    assert {a.kind for a in sign.artifacts} == {"signature", "scan-report"}

    assert store.counts() == {"runs": 2, "subjects": 1, "artifacts": 3, "findings": 2}
    assert len(store.artifacts(kind="scan-report")) == 2
    assert len(store.artifacts(subject="models/m")) == 1
    assert len(store.artifacts(subject=scan.subjects[0].id)) == 1
    assert len(store.findings(run_id=scan_id)) == 2
    assert store.findings(run_id=sign_id) == []
    assert store.read_blob(artifact.digest) == b'{"scan": 1}'


def test_records_survive_reopening(project: Path) -> None:
    with EvidenceStore.open(project) as store:
        populate(store)
        before = (store.runs(), store.artifacts(), store.findings(), store.subjects())
    with EvidenceStore.open(project, create=False) as store:
        assert (store.runs(), store.artifacts(), store.findings(), store.subjects()) == before


def test_same_subject_is_stored_once(store: EvidenceStore) -> None:
    subject = Subject(kind=SubjectKind.DATASET, name="data/train", digest="b" * 64)
    with store.run("a", []) as run:
        first = run.add_subject(subject)
        assert run.add_subject(subject) == first
    with store.run("b", []) as run:
        assert run.add_subject(subject) == first
        other = run.add_subject(Subject(kind=SubjectKind.DATASET, name="data/train"))
        assert run.add_subject(Subject(kind=SubjectKind.DATASET, name="data/train")) == other
    assert other != first
    assert len(store.subjects()) == 2


def test_a_run_that_raises_is_recorded_as_failed(store: EvidenceStore) -> None:
    def crash() -> int:
        with store.run("boom", []) as run:
            run.add_finding(finding(1))
            raise RuntimeError(f"crash in run {run.id}")

    with pytest.raises(RuntimeError, match="crash in run") as info:
        crash()
    run_id = int(str(info.value).rsplit(" ", 1)[1])
    detail = store.get_run(run_id)
    assert detail.run.status is RunStatus.FAILED
    assert detail.run.exit_code is None
    assert len(detail.findings) == 1  # what was recorded before the failure stays
    with store.run("ok", []) as run:
        pass
    with pytest.raises(StoreError, match="already finished"):
        run.add_finding(finding(2))


def test_add_artifact_file_streams_and_guesses_media_type(
    store: EvidenceStore, tmp_path: Path
) -> None:
    path = tmp_path / "card.md"
    content = os.urandom(3 * (1 << 20) + 17)  # several read chunks
    path.write_bytes(content)
    with store.run("add", []) as run:
        artifact = run.add_artifact_file(path, kind="data-card")
    assert artifact.media_type == "text/markdown"
    assert artifact.name == "card.md"
    assert artifact.size == len(content)
    assert artifact.digest == hashlib.sha256(content).hexdigest()
    assert store.read_blob(artifact.digest) == content
    blob = store.blob_path(artifact.digest)
    assert blob.parent.name == artifact.digest[:2]
    assert not os.access(blob, os.W_OK) or os.geteuid() == 0  # read-only (root ignores modes)
    assert blob.stat().st_mode & 0o222 == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "Data Card", "media_type": "text/plain"}, "invalid artifact kind"),
        ({"kind": "data-card", "media_type": "text/plain", "subject_id": 999}, "no subject"),
    ],
)
def test_bad_artifact_input_is_an_input_error(
    store: EvidenceStore, kwargs: dict[str, object], message: str
) -> None:
    with store.run("add", []) as run, pytest.raises(InputError, match=message):
        run.add_artifact(b"x", **kwargs)  # type: ignore[arg-type]


def test_missing_artifact_file_is_an_input_error(store: EvidenceStore, tmp_path: Path) -> None:
    with store.run("add", []) as run, pytest.raises(InputError, match="cannot read"):
        run.add_artifact_file(tmp_path / "nope.txt", kind="data-card")


def test_corrupted_blob_is_a_verification_error(store: EvidenceStore) -> None:
    with store.run("add", []) as run:
        artifact = run.add_artifact(b"original evidence", kind="note", media_type="text/plain")
    blob = store.blob_path(artifact.digest)
    blob.chmod(0o644)
    blob.write_bytes(b"forged evidence!!")
    with pytest.raises(VerificationError, match="has been modified"):
        store.read_blob(artifact.digest)
    checked, problems = store.check()
    assert checked == 1
    assert [p.rule_id for p in problems] == [evid_rules.MEMBER_CHANGED]
    blob.unlink()
    with pytest.raises(VerificationError, match="missing"):
        store.read_blob(artifact.digest)
    assert [p.rule_id for p in store.check()[1]] == [evid_rules.MEMBER_MISSING]
    # Recording the same content again repairs the blob.
    with store.run("add", []) as run:
        run.add_artifact(b"original evidence", kind="note", media_type="text/plain")
    assert store.read_blob(artifact.digest) == b"original evidence"
    assert store.check() == (1, [])


def test_export_refuses_a_corrupted_store(store: EvidenceStore, tmp_path: Path) -> None:
    with store.run("add", []) as run:
        artifact = run.add_artifact(b"original evidence", kind="note", media_type="text/plain")
    blob = store.blob_path(artifact.digest)
    blob.chmod(0o644)
    blob.write_bytes(b"forged evidence!!")
    target = tmp_path / "out.tar"
    with pytest.raises(VerificationError):
        store.export(target)
    assert not target.exists()
    assert list(tmp_path.glob(".out.tar.*")) == []  # no temporary file left behind


def test_read_blob_refuses_a_malformed_digest(store: EvidenceStore) -> None:
    with pytest.raises(InputError, match="not a SHA-256 digest"):
        store.read_blob("../../etc/passwd")


def test_resolve_digest_prefix(store: EvidenceStore) -> None:
    populate(store)
    digest = hashlib.sha256(b"signature bytes").hexdigest()
    assert store.resolve_digest(digest[:8]) == digest
    assert store.resolve_digest("sha256:" + digest[:12].upper()) == digest
    with pytest.raises(InputError, match="digest prefix"):
        store.resolve_digest(digest[:7])
    with pytest.raises(InputError, match="no artifact"):
        store.resolve_digest("0" * 8 if not digest.startswith("0" * 8) else "f" * 8)


def test_open_without_create_needs_a_store(project: Path) -> None:
    with pytest.raises(StoreError, match="no evidence recorded yet") as info:
        EvidenceStore.open(project, create=False)
    assert "ssdf evidence add" in info.value.diagnostics()
    assert not (project / ".ssdf").exists()
    assert not EvidenceStore.exists(project)


def test_open_missing_project_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        EvidenceStore.open(tmp_path / "nowhere")


def test_a_damaged_database_file_is_a_store_error(project: Path) -> None:
    (project / ".ssdf").mkdir()
    (project / ".ssdf" / "evidence.db").write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(StoreError, match="cannot read the evidence store"):
        EvidenceStore.open(project)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(store: EvidenceStore) -> None:
    populate(store)
    db = store.directory / "evidence.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # Foreign keys are on for the store's own connections: a dangling run id is refused.
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    insert = text(
        "INSERT INTO findings (run_id, rule_id, severity, task_ids, data) "
        "VALUES (999, 'SSDF-TEST-001', 'low', '[]', '{}')"
    )
    with store._session(write=True) as s, s.begin():
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            s.execute(insert)
        s.rollback()


def test_database_url_selects_another_database(project: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    with EvidenceStore.open(project, url=url) as store:
        populate(store)
    assert (tmp_path / "elsewhere.db").is_file()
    assert not (project / ".ssdf" / "evidence.db").exists()
    assert EvidenceStore.exists(project, url=url)
    with EvidenceStore.open(project, url=url, create=False) as store:
        assert len(store.runs()) == 2


def test_a_bad_database_url_is_a_store_error(project: Path) -> None:
    with pytest.raises(StoreError, match="cannot use the evidence database URL"):
        EvidenceStore.open(project, url="nosuchdialect://x")


def test_closed_store_refuses_work(project: Path) -> None:
    store = EvidenceStore.open(project)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.runs()


def test_directory_digest_follows_content_not_order(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.csv").write_text("1,2\n")
    (data / "sub" / "b.csv").write_text("3,4\n")
    (data / ".ssdf").mkdir()  # the evidence store itself never counts
    (data / ".ssdf" / "x").write_text("ignored")
    first = digest_path(data)
    (data / ".ssdf" / "x").write_text("changed, still ignored")
    assert digest_path(data) == first
    (data / "sub" / "b.csv").write_text("3,5\n")
    changed = digest_path(data)
    assert changed != first
    (data / "sub" / "b.csv").rename(data / "sub" / "c.csv")
    assert digest_path(data) != changed  # names count, not only contents
    subject = subject_for_path(data, SubjectKind.DATASET, root=tmp_path)
    assert subject.name == "data"
    assert subject.digest == digest_path(data)
    with pytest.raises(InputError):
        digest_path(tmp_path / "missing")
