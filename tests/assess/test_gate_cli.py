"""`ssdf assess`, `ssdf gate` and `ssdf controls` end to end on copies of the example project."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from example_helpers import fix_planted_mistakes, record_adversarial_samples
from ssdf_ai.cli import app
from ssdf_ai.findings import Finding, Severity
from ssdf_ai.store import EvidenceStore

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "docs" / "schema"


def ssdf(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "churn"
    shutil.copytree(REPO / "examples" / "churn", root)
    return root


def make_passable(root: Path, *, release: bool = True) -> None:
    """Let the example meet every control: evidence recorded, its model and data signed and
    verified, its own model trained under `ssdf record` from registered data and released
    (unless ``release`` is false), its models scanned; the gate then looks only at controls
    and findings."""
    config = root / "ssdf.toml"
    text = config.read_text().replace(
        'fail_on = "low"\n',
        'fail_on = "low"\nrequire_evidence_for = []\n',
    )
    config.write_text(text)
    code, _, err = ssdf(
        "evidence", "add", root / "data" / "DATA_CARD.md", "--kind", "data-card",
        "--subject", root / "data" / "customers.csv", "--subject-kind", "dataset",
        "--project", root,
    )  # fmt: skip
    assert code == 0, err
    sign_and_verify(root)
    if release:
        train_and_release(root)
        check_data(root)
        record_adversarial_samples(root)
    scan(root)
    fix_planted_mistakes(root)


def check_data(root: Path) -> None:
    """`ssdf data check` of the registered data: the checks this synthetic table passes (its
    churn labels are noisy by design, so the label check would list leads to review)."""
    code, out, err = ssdf(
        "data", "check", root / "data" / "customers.csv", "--check", "text", "--check",
        "duplicates", "--check", "integrity", "--project", root,
    )  # fmt: skip
    assert code == 0, out + err


def train_and_release(root: Path) -> None:
    """Train the example's model with the real `ssdf record` from registered data, sign and
    verify it, and write its BOMs, cards and release; the outputs go beside the project. The
    signing key of `sign_and_verify` becomes a trusted signer (its public half in the
    project, as [[signers]] needs)."""
    keys, out = root.parent / "keys", root.parent / "out"
    (root / "keys").mkdir(exist_ok=True)
    out.mkdir(exist_ok=True)
    shutil.copy(keys / "release.pub", root / "keys" / "release.pub")
    with (root / "ssdf.toml").open("a") as handle:
        handle.write('\n[[signers]]\nname = "release"\npublic_key = "keys/release.pub"\n')
    model = root / "models" / "churn-model.skops"
    code, out_text, err = ssdf(
        "data", "register", root / "data" / "customers.csv", "--source", "file:generate_data.py",
        "--license", "Apache-2.0", "--provenance", "known", "--project", root,
    )  # fmt: skip
    assert code == 0, out_text + err
    trained = subprocess.run(
        [
            Path(sys.executable).with_name("ssdf"), "record", "--project", root, "--name", "train",
            "--dataset", "data/customers.csv", "--config", "config/train.toml", "--input",
            "train.py", "--output", "models/churn-model.skops", "--output", "models/metrics.json",
            "--key", keys / "release.key", "--", sys.executable, "train.py",
        ],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    signature = root / "signatures" / "churn-model.sig"
    for args in (
        ("sign", model, "--key", keys / "release.key", "--signature", signature),
        ("verify", model, "--key", keys / "release.pub", "--signature", signature),
        ("bom", model, "--output", out / "churn.cdx.json", "--spdx-output",
         out / "churn.spdx.json"),
        ("card", model, "--output", out / "MODEL_CARD.md"),
        ("card", root / "data" / "customers.csv", "--data", "--output", out / "DATA_CARD.md"),
        ("release", "build", model, "--version", "1.0.0", "--key", keys / "release.key",
         "--out", out),
    ):  # fmt: skip
        code, out_text, err = ssdf(*args, "--project", root)
        assert code == 0, out_text + err


def sign_and_verify(root: Path) -> None:
    """Sign the acquired model and the dataset with the real `ssdf sign` and verify them; the
    key and the signatures stay out of the scanned model folders."""
    keys, signatures = root.parent / "keys", root / "signatures"
    code, _, err = ssdf(
        "keys", "generate", "release", "--unsafe-no-passphrase", "--out", keys,
        "--project", root, "--quiet",
    )  # fmt: skip
    assert code == 0, err
    for path, kind in (("third_party", "model"), ("data", "dataset")):
        sig = signatures / f"{path}.sig"
        for args in (
            ("sign", root / path, "--key", keys / "release.key", "--signature", sig),
            ("verify", root / path, "--key", keys / "release.pub", "--signature", sig),
        ):
            code, out, err = ssdf(*args, "--kind", kind, "--project", root, "--quiet")
            assert code == 0, out + err


def scan(root: Path) -> list[Finding]:
    """Scan the example's model paths with the real `ssdf scan`; return its findings."""
    code, out, err = ssdf(
        "scan", root / "models", root / "third_party", "--project", root, "--format", "json"
    )
    assert code in (0, 1), err
    return [Finding.from_dict(f) for f in json.loads(out)["findings"]]


def plant_unknown_global(root: Path) -> None:
    """A pickle whose only global is off the allowlist: a medium finding, not a dangerous one."""
    (root / "models" / "thing.pkl").write_bytes(b"\x80\x02cmymodule\nThing\n)\x81.")


def schema(name: str) -> dict[str, object]:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())  # type: ignore[no-any-return]


def test_assess_json_is_complete_recorded_and_matches_schema(example: Path) -> None:
    code, out, err = ssdf("assess", example, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    jsonschema.validate(data, schema("assessment"), cls=jsonschema.Draft202012Validator)
    assert len(data["tasks"]) == 48
    assert data["run_id"] is not None
    with EvidenceStore.open(example, create=False) as store:
        stored = store.artifacts(kind="assessment")
        assert len(stored) == 1
        assert json.loads(store.read_blob(stored[0].digest))["id"] == data["id"]


def test_assess_no_record_leaves_no_store(example: Path) -> None:
    code, out, _ = ssdf("assess", example, "--no-record")
    assert code == 0
    assert "SP 800-218A assessment of churn" in out
    assert not (example / ".ssdf").exists()


def test_gate_fails_on_the_example_and_says_what_fixes_it(example: Path) -> None:
    code, out, _ = ssdf("gate", example, "--format", "json")
    assert code == 1
    report = json.loads(out)
    jsonschema.validate(report, schema("gate"), cls=jsonschema.Draft202012Validator)
    assert report["passed"] is False
    rules = {f["rule_id"] for f in report["findings"]}
    # Unmet controls, open findings (the example's planted mistakes, found by the code and
    # environment checks the gate ran first) and tasks without evidence.
    assert rules == {"SSDF-GATE-001", "SSDF-GATE-002", "SSDF-GATE-003"}
    addresses = {f["location"]["address"] for f in report["findings"]}
    assert "control:models-scanned" in addresses
    assert {"control:code-analysed", "control:secrets-absent"} <= addresses
    assert "task:PW.1.1" in addresses
    assert all(f["remediation"] for f in report["findings"])


def test_gate_passes_when_every_criterion_is_met(example: Path) -> None:
    make_passable(example)
    code, out, err = ssdf("gate", example)
    assert code == 0, out + err
    assert "gate passed" in out


@pytest.mark.parametrize(("fail_on", "failing"), [("low", 2), ("medium", 1), ("high", 0)])
def test_gate_fails_on_open_findings_at_or_above_the_threshold(
    example: Path, fail_on: str, failing: int
) -> None:
    plant_unknown_global(example)
    make_passable(example, release=False)
    config = example / "ssdf.toml"
    text = config.read_text().replace('fail_on = "low"', f'fail_on = "{fail_on}"')
    # Pickle-based models are accepted here; this test is about the findings threshold.
    controls = ", ".join(f'"{c}"' for c in ("models-scanned", "evidence-fresh"))
    config.write_text(text.replace("[checks]\n", f"[checks]\nrequired_controls = [{controls}]\n"))
    findings = {f.fingerprint: f for f in scan(example)}
    assert {f.rule_id for f in findings.values()} == {"SSDF-SCAN-002", "SSDF-SCAN-009"}
    got, out, err = ssdf("gate", example, "--format", "sarif")
    assert got == (1 if failing else 0), err
    results = json.loads(out)["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["SSDF-GATE-002"] * failing
    for result in results:
        fqn = result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        assert findings[fqn.removeprefix("finding:")].severity >= Severity(fail_on)


def test_gate_rejects_unknown_required_control(example: Path) -> None:
    config = example / "ssdf.toml"
    config.write_text(
        config.read_text().replace(
            'fail_on = "low"', 'fail_on = "low"\nrequired_controls = ["nope"]'
        )
    )
    code, _, err = ssdf("gate", example)
    assert code == 2
    assert "unknown controls: nope" in err


def test_compare_shows_what_changed(example: Path) -> None:
    assert ssdf("assess", example, "--quiet", "--no-run-checks")[0] == 0
    make_passable(example)
    code, out, err = ssdf("assess", example, "--compare", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    jsonschema.validate(report, schema("assessment-compare"), cls=jsonschema.Draft202012Validator)
    changed = {c["id"]: (c["before"], c["after"]) for c in report["controls"]}
    assert changed["evidence-fresh"] == ("not-satisfied", "satisfied")
    assert changed["code-analysed"] == ("not-satisfied", "satisfied")
    assert report["score_after"] > report["score_before"]
    assert report["before_run"] is not None


def test_compare_without_an_earlier_assessment_is_exit_2(example: Path) -> None:
    code, _, err = ssdf("assess", example, "--compare")
    assert code == 2
    assert "no assessment recorded before this one" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sign", "ssdf.toml"], "--sign applies to --format json"),
        (["--against", "1"], "--against needs --compare"),
        (["--compare", "--format", "html"], "--compare writes terminal or json"),
        (["--format", "pdf"], "pdf"),
    ],
)
def test_assess_usage_errors_exit_2(example: Path, args: list[str], message: str) -> None:
    args = [a.replace("ssdf.toml", str(example / "ssdf.toml")) for a in args]
    code, out, err = ssdf("assess", example, *args)
    assert code == 2
    assert message in err
    assert out == ""


def test_controls_list(example: Path) -> None:
    code, out, _ = ssdf("controls", "list", "--format", "json")
    assert code == 0
    data = json.loads(out)
    jsonschema.validate(data, schema("controls"), cls=jsonschema.Draft202012Validator)
    ids = [c["id"] for c in data["controls"]]
    assert "roles-defined" in ids
    assert len(ids) == len(set(ids))


def test_docs_controls_page_is_generated_from_the_registry() -> None:
    from ssdf_ai.assess.controls import load_registry
    from ssdf_ai.assess.docs import render_controls_markdown

    expected = render_controls_markdown([c.meta for c in load_registry(plugins=False).controls])
    committed = (REPO / "docs" / "controls.md").read_text()
    assert committed == expected, "docs/controls.md is stale: run `make docs`"
