"""Signed records change verdicts end to end: waivers with approvals pass the gate, and another
party's signed assessment supplies the verdicts of the tasks it performs."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssdf_ai.cli import app
from ssdf_ai.evidence import Subject, SubjectKind
from ssdf_ai.findings import Finding, Location, Severity
from ssdf_ai.store import EvidenceStore

REPO = Path(__file__).resolve().parents[2]
PRIYA, TOMAS = "Priya Natarajan", "Tomás Ferreira"


def ssdf(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str | Path) -> str:
    code, out, err = ssdf(*args)
    assert code == 0, out + err
    return out


def key_pair(root: Path, name: str) -> tuple[Path, Path]:
    """Generate NAME's key pair in root/keys with the real CLI; register it as a signer."""
    before = set((root / "keys").glob("*.key")) if (root / "keys").exists() else set()
    ok("keys", "generate", name, "--unsafe-no-passphrase", "--project", root, "--quiet")
    (private,) = set((root / "keys").glob("*.key")) - before
    public = private.with_suffix(".pub")
    add_signer(root, name, public)
    return private, public


def add_signer(root: Path, name: str, public: Path) -> None:
    rel = public.relative_to(root).as_posix()
    with (root / "ssdf.toml").open("a") as handle:
        handle.write(f'\n[[signers]]\nname = "{name}"\npublic_key = "{rel}"\n')


def project(tmp_path: Path, name: str = "churn") -> Path:
    root = tmp_path / name
    shutil.copytree(REPO / "examples" / "churn", root)
    config = root / "ssdf.toml"
    config.write_text(
        config.read_text().replace(
            'fail_on = "low"\n', 'fail_on = "low"\nrequire_evidence_for = []\n'
        )
    )
    ok(
        "evidence", "add", root / "data" / "DATA_CARD.md", "--kind", "data-card",
        "--subject", root / "data" / "customers.csv", "--subject-kind", "dataset",
        "--project", root,
    )  # fmt: skip
    return root


def record_finding(root: Path) -> Finding:
    finding = Finding(
        rule_id="SSDF-SCAN-001",
        severity=Severity.HIGH,
        message="pickle imports os.system",
        location=Location(path="third_party/model.pkl", address="opcode 7"),
        task_ids=("PW.4.4",),
    )
    with EvidenceStore.open(root) as store, store.run("scan", ["scan"]) as run:
        subject = run.add_subject(Subject(kind=SubjectKind.MODEL, name="third_party/model.pkl"))
        run.add_finding(finding, subject_id=subject)
    return finding


def gate_failures(root: Path) -> tuple[int, list[str]]:
    code, out, err = ssdf("gate", root, "--format", "json")
    assert code in (0, 1), err
    return code, [f["location"]["address"] for f in json.loads(out)["findings"]]


def waive(root: Path, target: str, key: Path) -> str:
    out = ok(
        "waive", target, "--justification", "sandboxed; replaced in the next release",
        "--by", PRIYA, "--role", "ML engineering", "--key", key, "--expires", "30d",
        "--project", root, "--format", "json",
    )  # fmt: skip
    return str(json.loads(out)["digest"])


def approve(root: Path, digest: str, key: Path, by: str = TOMAS, role: str = "MLOps") -> None:
    ok("approve", digest.removeprefix("sha256:")[:12], "--by", by, "--role", role, "--key", key,
       "--project", root)  # fmt: skip


def test_waived_finding_passes_the_gate_only_once_approved(tmp_path: Path) -> None:
    root = project(tmp_path)
    priya, _ = key_pair(root, PRIYA)
    tomas, _ = key_pair(root, TOMAS)
    finding = record_finding(root)
    target = f"finding:{finding.fingerprint}"
    assert gate_failures(root) == (1, [target])

    digest = waive(root, target, priya)
    # High severity is in require_approval_for: the waiver alone does not count.
    assert gate_failures(root) == (1, [target])
    data = json.loads(ok("assess", root, "--format", "json", "--no-record"))
    (waiver,) = data["waivers"]
    assert waiver["valid"] is False
    assert "needs approval" in waiver["reason"]

    approve(root, digest, tomas)
    assert gate_failures(root) == (0, [])
    data = json.loads(ok("assess", root, "--format", "json", "--no-record"))
    assert data["findings"][0]["waiver"] == digest
    assert data["waivers"][0]["approved_by"] == [TOMAS]


def test_author_cannot_approve_their_own_waiver(tmp_path: Path) -> None:
    root = project(tmp_path)
    priya, _ = key_pair(root, PRIYA)
    finding = record_finding(root)
    digest = waive(root, f"finding:{finding.fingerprint}", priya)
    code, _, err = ssdf(
        "approve", digest.removeprefix("sha256:")[:12], "--by", PRIYA, "--role", "ML engineering",
        "--key", priya, "--project", root,
    )  # fmt: skip
    assert code == 2
    assert gate_failures(root)[0] == 1


def test_waived_control_is_waived_in_the_assessment_and_passes_the_gate(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "CODEOWNERS").unlink()
    priya, _ = key_pair(root, PRIYA)
    tomas, _ = key_pair(root, TOMAS)
    assert gate_failures(root) == (1, ["control:code-owners"])
    approve(root, waive(root, "control:code-owners", priya), tomas)
    assert gate_failures(root) == (0, [])
    data = json.loads(ok("assess", root, "--format", "json", "--no-record"))
    entry = next(c for c in data["controls"] if c["meta"]["id"] == "code-owners")
    assert entry["result"]["outcome"] == "waived"
    task = next(t for t in data["tasks"] if t["task_id"] == "PS.1.1")
    assert task["outcome"] == "waived"


@pytest.fixture
def shared(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Our project (PO.5.2 assigned to corporate-it) and corporate-it's signed assessment."""
    ours = project(tmp_path, "ours")
    theirs = project(tmp_path, "theirs")
    config = theirs / "ssdf.toml"
    config.write_text(config.read_text().replace('"PO.5.2" = "corporate-it"\n', ""))
    priya, _ = key_pair(theirs, PRIYA)
    ok(
        "attest", "PO.5.2", "--statement", "Developer laptops are managed and hardened (CIS L1).",
        "--by", PRIYA, "--role", "ML engineering", "--key", priya, "--project", theirs,
    )  # fmt: skip
    party_key, party_pub = key_pair(theirs, "corporate-it")
    signed = tmp_path / "corporate-it-assessment.json"
    ok("assess", theirs, "--format", "json", "--sign", party_key, "--output", signed)
    shutil.copy(party_pub, ours / "keys-corporate-it.pub")
    add_signer(ours, "corporate-it", ours / "keys-corporate-it.pub")
    return ours, signed, party_key


def test_import_uses_the_partys_verdict_for_its_tasks(shared: tuple[Path, Path, Path]) -> None:
    ours, signed, _ = shared
    before = json.loads(ok("assess", ours, "--format", "json", "--no-record"))
    task = next(t for t in before["tasks"] if t["task_id"] == "PO.5.2")
    assert (task["outcome"], task["score"]) == ("inherited", None)

    data = json.loads(ok("assess", ours, "--import", signed, "--format", "json", "--no-record"))
    task = next(t for t in data["tasks"] if t["task_id"] == "PO.5.2")
    assert task["outcome"] == "satisfied"
    assert task["basis"] == "inherited"
    assert task["imported_from"] == "corporate-it"
    assert task["score"] == 1.0
    (imported,) = data["imported"]
    assert imported["task_ids"] == ["PO.5.2"]
    assert imported["signer"] == "corporate-it"
    # Only the party's own tasks are taken from its assessment.
    other = next(t for t in data["tasks"] if t["task_id"] == "PO.2.2")
    assert other["outcome"] == "needs-attestation"
    assert data["score"] > before["score"]


def test_tampered_import_is_refused(shared: tuple[Path, Path, Path], tmp_path: Path) -> None:
    ours, signed, _ = shared
    envelope = json.loads(signed.read_text())
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["tasks"][0]["outcome"] = "satisfied"
    payload["score"] = 100.0
    envelope["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(envelope))
    code, out, err = ssdf("assess", ours, "--import", forged, "--no-record")
    assert code == 2
    assert out == ""
    assert "not validly signed by any party" in err


def test_import_signed_by_a_stranger_is_refused(tmp_path: Path) -> None:
    ours = project(tmp_path, "ours")
    stranger = project(tmp_path, "stranger")
    key, _ = key_pair(stranger, "corporate-it")  # same name, a key ours does not trust
    signed = tmp_path / "stranger.json"
    ok("assess", stranger, "--format", "json", "--sign", key, "--output", signed)
    code, _, err = ssdf("assess", ours, "--import", signed, "--no-record")
    assert code == 2
    assert "not validly signed" in err
