"""Signed records change verdicts end to end: waivers with approvals pass the gate, and another
party's signed assessment supplies the verdicts of the tasks it performs."""

from __future__ import annotations

import base64
import json
import os
import pickle
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from example_helpers import fix_planted_mistakes, record_adversarial_samples
from ssdf_ai.assess.controls import load_registry
from ssdf_ai.cli import app
from ssdf_ai.code.controls import CONTROLS as CODE_CONTROLS
from ssdf_ai.findings import Finding, Severity
from ssdf_ai.integrity.controls import CONTROLS as INTEGRITY_CONTROLS
from ssdf_ai.provenance.controls import CONTROLS as PROVENANCE_CONTROLS

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


class _Payload:
    """Pickling this builds a payload that would run a command if it were ever unpickled."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo this must never run",))


def project(tmp_path: Path, name: str = "churn") -> Path:
    """A copy of the example whose gate looks at controls and findings, with its models scanned
    by the real `ssdf scan`. Pickle-based models are accepted (fail_on medium, and the
    safe-serialization control is not required); signing, provenance, releases and the code
    and environment checks have tests of their own, so their controls are not required either
    (and the gate does not run the code checks: the signing keys these tests make sit in the
    project, where `ssdf secrets` rightly reports them)."""
    root = tmp_path / name
    shutil.copytree(REPO / "examples" / "churn", root)
    config = root / "ssdf.toml"
    required = [
        c.id
        for c in load_registry(plugins=False).controls
        if c.id != "safe-serialization"
        and c not in INTEGRITY_CONTROLS
        and c not in PROVENANCE_CONTROLS
        and c not in CODE_CONTROLS
    ]
    config.write_text(
        config.read_text().replace(
            'fail_on = "low"\n',
            'fail_on = "medium"\nrequire_evidence_for = []\n'
            f"required_controls = {json.dumps(required)}\n",
        )
    )
    ok(
        "evidence", "add", root / "data" / "DATA_CARD.md", "--kind", "data-card",
        "--subject", root / "data" / "customers.csv", "--subject-kind", "dataset",
        "--project", root,
    )  # fmt: skip
    scan(root)
    data = root / "data" / "customers.csv"
    ok("data", "register", data, "--source", "file:generate_data.py", "--license", "Apache-2.0",
       "--provenance", "known", "--project", root)  # fmt: skip
    ok("data", "check", data, "--check", "text", "--check", "duplicates", "--check",
       "integrity", "--project", root)  # fmt: skip
    record_adversarial_samples(root)
    return root


def scan(root: Path) -> list[Finding]:
    code, out, err = ssdf(
        "scan", root / "models", root / "third_party", "--project", root, "--format", "json"
    )
    assert code in (0, 1), err
    return [Finding.from_dict(f) for f in json.loads(out)["findings"]]


def plant_malicious_model(root: Path) -> Finding:
    """A pickled 'model' carrying a payload, found by the real scanner: its critical finding."""
    (root / "third_party" / "model.pkl").write_bytes(pickle.dumps(_Payload(), protocol=4))
    (critical,) = [f for f in scan(root) if f.severity is Severity.CRITICAL]
    return critical


def gate_failures(root: Path) -> tuple[int, list[str]]:
    code, out, err = ssdf("gate", root, "--format", "json", "--no-run-checks")
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
    finding = plant_malicious_model(root)
    target = f"finding:{finding.fingerprint}"
    assert gate_failures(root) == (1, ["control:models-scanned", target])

    digest = waive(root, target, priya)
    # Critical severity is in require_approval_for: the waiver alone does not count.
    assert gate_failures(root) == (1, ["control:models-scanned", target])
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
    finding = plant_malicious_model(root)
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
    # PS.1.1 also asks for least-privilege storage (environment-least-privilege): with the
    # example's planted CI mistakes fixed, the real `ssdf env` satisfies it.
    fix_planted_mistakes(root)
    ok("env", root, "--project", root)
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
