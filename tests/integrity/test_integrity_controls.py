"""The integrity controls on evidence made by the real commands: `ssdf init`, `ssdf keys
generate`, `ssdf sign`, `ssdf verify` and `ssdf watch` in a project under tmp_path, then
`ssdf assess --format json` (or, for evidence that has grown old, the assessment at a later
time, as tests/assess/test_controls.py does)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ssdf_ai.assess.evaluate import assess_facts, gather_facts
from ssdf_ai.cli import app
from ssdf_ai.config import load_config
from ssdf_ai.findings import Outcome
from ssdf_ai.integrity.controls import CONTROLS, signature_parent

IDS = (
    "models-signed",
    "signatures-verified",
    "datasets-signed",
    "integrity-monitored",
    "signature-chain",
    "signatures-archived",
)
TASKS = ("PS.1.2", "PS.1.3", "PS.2.1", "PS.3.1")


def ssdf(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str | Path) -> str:
    code, out, err = ssdf(*args)
    assert code == 0, out + err
    return out


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project with one model and one dataset; the signing key lives outside it."""
    root = tmp_path / "p"
    root.mkdir()
    ok("init", root, "--name", "p")
    config = root / "ssdf.toml"
    text = config.read_text()
    for key, value in (("models", "models"), ("datasets", "data")):
        assert f'{key} = ["."]' in text
        text = text.replace(f'{key} = ["."]', f'{key} = ["{value}"]')
    config.write_text(text)
    ok("keys", "generate", "alice", "--unsafe-no-passphrase", "--out", tmp_path / "keys",
       "--project", root)  # fmt: skip
    model = root / "models" / "m1"
    model.mkdir(parents=True)
    (model / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    (model / "config.json").write_text('{"hidden_size": 8}\n')
    (root / "data").mkdir()
    (root / "data" / "train.csv").write_text("a,b\n1,2\n")
    return root


def key(root: Path, suffix: str) -> Path:
    return root.parent / "keys" / f"alice.{suffix}"


def sign(root: Path, path: str, *extra: str | Path, kind: str = "model") -> None:
    ok("sign", root / path, "--key", key(root, "key"), "--kind", kind, "--project", root, *extra)


def verify(root: Path, path: str, kind: str = "model") -> int:
    code, out, err = ssdf(
        "verify", root / path, "--key", key(root, "pub"), "--kind", kind, "--project", root
    )
    assert code in (0, 1), out + err
    return code


def assess(root: Path) -> dict[str, dict[str, Any]]:
    """`ssdf assess --format json`: the controls and tasks by id."""
    code, out, err = ssdf("assess", root, "--format", "json", "--no-record")
    assert code == 0, err
    data = json.loads(out)
    return {
        **{c["meta"]["id"]: c["result"] for c in data["controls"]},
        **{t["task_id"]: t for t in data["tasks"]},
    }


def outcomes(root: Path) -> dict[str, str]:
    got = assess(root)
    return {i: got[i]["outcome"] for i in IDS}


def rationale(root: Path, control_id: str) -> str:
    return str(assess(root)[control_id]["rationale"])


def sign_and_verify_all(root: Path) -> None:
    sign(root, "models/m1")
    sign(root, "data", kind="dataset")
    assert verify(root, "models/m1") == 0
    assert verify(root, "data", "dataset") == 0


def test_controls_are_registered_with_metadata() -> None:
    code, out, _ = ssdf("controls", "list", "--format", "json")
    assert code == 0
    listed = {c["id"]: c for c in json.loads(out)["controls"]}
    for control in CONTROLS:
        assert control.id in listed
        meta = listed[control.id]
        assert meta["question"]
        assert meta["motivation"]
        assert "`ssdf " in meta["remediation"]
        assert set(meta["task_ids"]) <= set(TASKS)
    assert {c.id for c in CONTROLS} == set(IDS)


def test_every_control_needs_evidence_before_signing(root: Path) -> None:
    got = assess(root)
    for control_id in IDS:
        result = got[control_id]
        assert result["outcome"] == Outcome.NOT_SATISFIED, control_id
        assert "no " in result["rationale"], control_id
    assert "ssdf sign" in got["models-signed"]["rationale"]
    for task in TASKS:
        assert got[task]["outcome"] == Outcome.NOT_SATISFIED, task


def test_all_pass_after_sign_and_verify(root: Path) -> None:
    sign_and_verify_all(root)
    # PS.1.3 also asks for least-privilege storage of the weights (environment-least-privilege,
    # tests/code): the real `ssdf env` records that check.
    ok("env", root, "--project", root)
    got = assess(root)
    for control_id in IDS:
        assert got[control_id]["outcome"] == Outcome.SATISFIED, got[control_id]
    for task in TASKS:
        # PS.3.1 also needs a release archive (release-archived; tests/provenance), and PS.1.2 a
        # check of the data against its registration (data-integrity-monitored; tests/data).
        wanted = Outcome.PARTIAL if task in ("PS.3.1", "PS.1.2") else Outcome.SATISFIED
        assert got[task]["outcome"] == wanted, task
        assert got[task]["basis"] == "automated"
    assert "models/m1" in got["models-signed"]["rationale"]
    assert "covering all 1 model file(s)" in got["models-signed"]["rationale"]
    links = got["signatures-archived"]["evidence"]
    assert {link["kind"] for link in links} == {"artifact"}


def test_signed_but_not_yet_verified(root: Path) -> None:
    sign(root, "models/m1")
    got = outcomes(root)
    assert got["models-signed"] == Outcome.SATISFIED
    assert got["signature-chain"] == Outcome.SATISFIED
    assert got["signatures-archived"] == Outcome.SATISFIED
    assert got["signatures-verified"] == Outcome.NOT_SATISFIED
    assert got["integrity-monitored"] == Outcome.NOT_SATISFIED
    assert got["datasets-signed"] == Outcome.NOT_SATISFIED
    assert "not verified since their newest signature: models/m1" in rationale(
        root, "signatures-verified"
    )


def test_a_failed_verification_fails_and_a_passing_one_clears_it(root: Path) -> None:
    sign_and_verify_all(root)
    weights = root / "models" / "m1" / "model.safetensors"
    original = weights.read_bytes()
    weights.write_bytes(original[:-1] + b"!")
    assert verify(root, "models/m1") == 1
    got = assess(root)
    for control_id in ("models-signed", "signatures-verified", "integrity-monitored"):
        result = got[control_id]
        assert result["outcome"] == Outcome.NOT_SATISFIED, control_id
        assert "SSDF-SIGN-002" in result["rationale"], control_id
        assert "model.safetensors" in result["rationale"], control_id
    assert got["PS.1.3"]["outcome"] == Outcome.NOT_SATISFIED
    # The dataset is untouched: its controls are unaffected.
    assert got["datasets-signed"]["outcome"] == Outcome.SATISFIED

    weights.write_bytes(original)
    assert verify(root, "models/m1") == 0
    assert set(outcomes(root).values()) == {Outcome.SATISFIED}


def test_a_tampered_dataset_fails_datasets_signed(root: Path) -> None:
    sign_and_verify_all(root)
    (root / "data" / "train.csv").write_text("a,b\n1,3\n")
    assert verify(root, "data", "dataset") == 1
    got = outcomes(root)
    assert got["datasets-signed"] == Outcome.NOT_SATISFIED
    assert got["signatures-verified"] == Outcome.NOT_SATISFIED
    assert got["models-signed"] == Outcome.SATISFIED


def test_unsigned_model_and_dataset_paths_are_partial(root: Path) -> None:
    sign_and_verify_all(root)
    other = root / "models" / "m2"
    other.mkdir()
    (other / "weights.pt").write_bytes(b"not really a pickle")
    config = root / "ssdf.toml"
    config.write_text(
        config.read_text().replace('datasets = ["data"]', 'datasets = ["data", "eval"]')
    )
    (root / "eval").mkdir()
    (root / "eval" / "test.csv").write_text("a\n1\n")
    got = assess(root)
    assert got["models-signed"]["outcome"] == Outcome.PARTIAL
    assert "1 of 2 model file(s)" in got["models-signed"]["rationale"]
    assert "models/m2/weights.pt" in got["models-signed"]["rationale"]
    assert got["datasets-signed"]["outcome"] == Outcome.PARTIAL
    assert "eval" in got["datasets-signed"]["rationale"]

    sign(root, "models/m2")
    sign(root, "eval", kind="dataset")
    got = assess(root)
    assert got["models-signed"]["outcome"] == Outcome.SATISFIED
    assert got["datasets-signed"]["outcome"] == Outcome.SATISFIED
    # The new signatures are not verified yet.
    assert got["signatures-verified"]["outcome"] == Outcome.PARTIAL


def test_old_verifications_are_stale_but_signatures_are_not(root: Path) -> None:
    sign_and_verify_all(root)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=91)  # max_age_days is 90
    facts = gather_facts(root, load_config(root), now=later, url=None)
    assessment = assess_facts(facts)
    got = {c.meta.id: c.result for c in assessment.controls}
    assert got["signatures-verified"].outcome is Outcome.STALE
    assert "more than 90 days ago" in got["signatures-verified"].rationale
    assert got["integrity-monitored"].outcome is Outcome.STALE
    # What a signature covers does not change with time.
    for control_id in (
        "models-signed",
        "datasets-signed",
        "signature-chain",
        "signatures-archived",
    ):
        assert got[control_id].outcome is Outcome.SATISFIED, control_id


def test_unsafe_accept_stale_evidence_keeps_old_verifications(root: Path) -> None:
    sign_and_verify_all(root)
    config = root / "ssdf.toml"
    config.write_text(
        config.read_text().replace("[checks]\n", "[checks]\nunsafe_accept_stale_evidence = true\n")
    )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=91)
    facts = gather_facts(root, load_config(root), now=later, url=None)
    got = {c.meta.id: c.result for c in assess_facts(facts).controls}
    assert got["signatures-verified"].outcome is Outcome.SATISFIED


def test_a_changed_model_must_be_signed_as_a_chain(root: Path, tmp_path: Path) -> None:
    sign_and_verify_all(root)
    v1 = tmp_path / "v1.sig"
    shutil.copy(root / "models" / "m1" / "model.sig", v1)
    (root / "models" / "m1" / "config.json").write_text('{"hidden_size": 16}\n')

    sign(root, "models/m1")  # a new version, without --parent
    got = assess(root)
    assert got["signature-chain"]["outcome"] == Outcome.NOT_SATISFIED
    assert "without naming the previous version" in got["signature-chain"]["rationale"]
    assert got["PS.2.1"]["outcome"] == Outcome.PARTIAL

    sign(root, "models/m1", "--parent", v1)
    assert verify(root, "models/m1") == 0
    got = assess(root)
    assert got["signature-chain"]["outcome"] == Outcome.SATISFIED
    assert "signed as a chain" in got["signature-chain"]["rationale"]
    assert set(outcomes(root).values()) == {Outcome.SATISFIED}

    # The parent is read from the signature kept in the evidence store.
    parent = signature_parent((root / "models" / "m1" / "model.sig").read_bytes())
    assert parent is not None
    assert parent["signature_sha256"] == hashlib.sha256(v1.read_bytes()).hexdigest()


def test_re_signing_unchanged_files_needs_no_chain(root: Path) -> None:
    sign(root, "models/m1")
    sign(root, "models/m1", "--full")
    assert outcomes(root)["signature-chain"] == Outcome.SATISFIED


def test_signature_parent_rejects_what_is_not_a_signature() -> None:
    with pytest.raises(ValueError, match="not a model signature"):
        signature_parent(b'{"mediaType": "x"}')
    with pytest.raises(ValueError, match="not a model signature"):
        signature_parent(b"\xff")


def test_watch_alerts_fail_until_settled(root: Path) -> None:
    sign_and_verify_all(root)
    config = root / "models" / "m1" / "config.json"
    original = config.read_text()
    config.write_text('{"hidden_size": 9}\n')
    code, out, err = ssdf(
        "watch", root / "models" / "m1", "--signature", root / "models" / "m1" / "model.sig",
        "--key", key(root, "pub"), "--once", "--project", root, "--quiet",
    )  # fmt: skip
    assert code == 1, out + err
    got = assess(root)
    monitored = got["integrity-monitored"]
    assert monitored["outcome"] == Outcome.NOT_SATISFIED
    assert "SSDF-INTEG-001" in monitored["rationale"]
    assert "config.json" in monitored["rationale"]
    assert got["models-signed"]["outcome"] == Outcome.NOT_SATISFIED
    # The last verification predates the alert; nothing verified it since.
    assert got["signatures-verified"]["outcome"] == Outcome.SATISFIED

    # Restoring the file and verifying it settles the alert.
    config.write_text(original)
    assert verify(root, "models/m1") == 0
    assert set(outcomes(root).values()) == {Outcome.SATISFIED}
