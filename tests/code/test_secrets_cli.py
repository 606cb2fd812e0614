"""``ssdf secrets`` through the command line: exit codes, JSON against the report's schema,
SARIF against the official schema, the baseline, and the evidence it records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from ssdf_ai.cli import app
from ssdf_ai.code import secret_rules as rules
from ssdf_ai.code.secrets_report import SecretsReport
from ssdf_ai.report.schema import schema_for

GH = "ghp_" + "Q7x2Lm9Pz4Rt8Vw1Yb6Nc3Kd5Hf0Js2Ga4Ue"
HF = "hf_" + "Xa8Kq2Lm7Np4Rt9Vw3Yb6Zc1Df5Gh0JkLm"
BASELINE = ".ssdf-secrets-baseline.json"


def _run(project: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["secrets", *args, "--project", str(project)])
    return result.exit_code, result.stdout, result.stderr


def _json(project: Path, *args: str, code: int) -> dict[str, Any]:
    exit_code, out, err = _run(project, *args, "--format", "json")
    assert exit_code == code, err + out
    data: dict[str, Any] = json.loads(out)
    return data


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "ssdf.toml").write_text('[project]\nname = "demo"\nkind = "ai-model-producer"\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src/app.py").write_text(f'TOKEN = "{GH}"\n')
    (tmp_path / "src/ok.py").write_text("x = 1\n")
    return tmp_path


def test_exit_codes(project: Path, tmp_path: Path) -> None:
    assert _run(project, str(project), "--no-record")[0] == 1
    assert _run(project, str(project / "src/ok.py"), "--no-record")[0] == 0
    assert _run(project, str(project), "--no-record", "--fail-on", "critical")[0] == 0
    code, _, err = _run(project, str(project / "nope"), "--no-record")
    assert code == 2
    assert "does not exist" in err
    code, _, err = _run(project, str(project), "--no-record", "--fail-on", "worst")
    assert code == 2
    assert "unknown severity" in err


def test_json_validates_against_the_report_schema(project: Path) -> None:
    report = _json(project, str(project), "--no-record", code=1)
    schema = schema_for(SecretsReport)
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(report))
    assert report["report"] == "secrets"
    assert report["kinds"] == {"github-token": 1}
    assert GH not in json.dumps(report)


def test_sarif_validates_against_the_official_schema(project: Path, shared_dir: Path) -> None:
    (project / "id_ed25519").write_text(
        "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n"
        "-----END OPENSSH PRIVATE KEY-----\n"
    )
    code, out, err = _run(project, str(project), "--no-record", "-f", "sarif")
    assert code == 1, err
    sarif = json.loads(out)
    sarif_schema = json.loads((shared_dir / "schemas" / "sarif-schema-2.1.0.json").read_text())
    assert not list(jsonschema.Draft7Validator(sarif_schema).iter_errors(sarif))
    run = sarif["runs"][0]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {
        rules.IN_TREE,
        rules.PRIVATE_KEY_FILE,
    }
    assert GH not in out


def test_terminal_output(project: Path) -> None:
    code, out, _ = _run(project, str(project), "--no-record")
    assert code == 1
    assert "SSDF-SECRET-001" in out
    assert "ghp_…" in out
    assert GH not in out


def test_baseline_round_trip(project: Path) -> None:
    report = _json(project, str(project), "--no-record", "--update-baseline", code=0)
    assert report["baseline_written"]
    assert report["suppressed_count"] == 1
    baseline = json.loads((project / BASELINE).read_text())
    (entry,) = baseline["entries"]
    assert (entry["rule_id"], entry["kind"], entry["path"]) == (
        rules.IN_TREE,
        "github-token",
        "src/app.py",
    )
    assert len(entry["fingerprint"]) == 64
    assert entry["preview"] == "ghp_…"
    assert GH not in (project / BASELINE).read_text()
    # A person fills in a reason; moving the line does not break the match.
    entry["reason"] = "revoked test token"
    (project / BASELINE).write_text(json.dumps(baseline))
    (project / "src/app.py").write_text(f'import os\n\n\nTOKEN = "{GH}"\n')
    report = _json(project, str(project), "--no-record", code=0)
    assert report["findings"] == []
    (suppressed,) = report["suppressed"]
    assert (suppressed["line"], suppressed["reason"]) == (4, "revoked test token")
    # A new secret is reported; the accepted one stays suppressed.
    (project / "src/new.py").write_text(f'HF = "{HF}"\n')
    report = _json(project, str(project), "--no-record", code=1)
    assert [f["location"]["path"] for f in report["findings"]] == ["src/new.py"]
    assert report["suppressed_count"] == 1
    # Updating keeps the reason and the salt.
    _json(project, str(project), "--no-record", "--update-baseline", code=0)
    updated = json.loads((project / BASELINE).read_text())
    assert updated["salt"] == baseline["salt"]
    reasons = {e["path"]: e["reason"] for e in updated["entries"]}
    assert reasons == {"src/app.py": "revoked test token", "src/new.py": None}


def test_the_same_value_elsewhere_is_not_suppressed(project: Path) -> None:
    _json(project, str(project), "--no-record", "--update-baseline", code=0)
    (project / "src/copy.py").write_text(f'TOKEN = "{GH}"\n')
    report = _json(project, str(project), "--no-record", code=1)
    assert [f["location"]["path"] for f in report["findings"]] == ["src/copy.py"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ("[]", "not a JSON object"),
        ('{"version": 2, "salt": "00112233445566778899", "entries": []}', "version must be 1"),
        ('{"version": 1, "salt": "short", "entries": []}', "salt must be"),
        ('{"version": 1, "salt": "00112233445566778899", "entries": {}}', "entries must be"),
        (
            '{"version": 1, "salt": "00112233445566778899", "entries": [{"rule_id": "x", '
            '"kind": "k", "path": "p", "fingerprint": "abc"}]}',
            "fingerprint must be 64 hex",
        ),
    ],
)
def test_malformed_baseline_exits_2(project: Path, text: str, message: str) -> None:
    (project / BASELINE).write_text(text)
    code, _, err = _run(project, str(project), "--no-record")
    assert code == 2
    assert message in err
    assert BASELINE in err
    assert "--update-baseline" in err


def test_explicit_baseline_must_exist(project: Path) -> None:
    code, _, err = _run(project, str(project), "--no-record", "--baseline", "missing.json")
    assert code == 2
    assert "does not exist" in err


def test_recorded_as_evidence(project: Path) -> None:
    from ssdf_ai.store import EvidenceStore

    code, _, err = _run(project, str(project / "src"))
    assert code == 1, err
    with EvidenceStore.open(project, create=False) as store:
        (run,) = [r for r in store.runs() if r.command == "secrets"]
        detail = store.get_run(run.id)
        (subject,) = detail.subjects
        assert (subject.kind.value, subject.name) == ("repository", "src")
        assert [f.finding.rule_id for f in detail.findings] == [rules.IN_TREE]
        (artifact,) = store.artifacts("secrets-report")
        stored = store.read_blob(artifact.digest)
    assert json.loads(stored)["report"] == "secrets"
    assert GH.encode() not in stored
    assert run.exit_code == 1
