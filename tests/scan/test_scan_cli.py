"""``ssdf scan``: exit codes, JSON and SARIF validated against their schemas, evidence recorded."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from model_fixtures import payload, scan_app
from typer.testing import CliRunner

from ssdf_ai.report.schema import schema_for
from ssdf_ai.scan import rules
from ssdf_ai.scan.report import ScanReport


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "ssdf.toml").write_text('[project]\nname = "demo"\nkind = "ai-model-producer"\n')
    models = tmp_path / "models"
    models.mkdir()
    (models / "README.md").write_text("# a model card\n")
    (models / "weights.pkl").write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=4))
    return tmp_path


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(scan_app(), ["scan", *args])
    return result.exit_code, result.stdout


def test_clean_scan_exits_zero_at_medium(project: Path) -> None:
    code, out = _invoke(
        str(project / "models"), "--project", str(project), "--no-record", "--fail-on", "medium"
    )
    assert code == 0, out
    assert "2 file(s) scanned" in out


def test_pickle_fails_at_the_default_threshold(project: Path) -> None:
    # UNSAFE_SERIALIZATION is low and the default fail-on is low.
    code, out = _invoke(str(project / "models"), "--project", str(project), "--no-record")
    assert code == 1
    assert rules.UNSAFE_SERIALIZATION in out


def test_config_fail_on_is_the_default(project: Path) -> None:
    (project / "ssdf.toml").write_text(
        '[project]\nname = "demo"\nkind = "ai-model-producer"\n[checks]\nfail_on = "high"\n'
    )
    code, _ = _invoke(str(project / "models"), "--project", str(project), "--no-record")
    assert code == 0


def test_payload_exits_one(project: Path) -> None:
    (project / "models" / "evil.pkl").write_bytes(payload(project / "CANARY"))
    code, out = _invoke(
        str(project / "models"), "--project", str(project), "--no-record", "--fail-on", "critical"
    )
    assert code == 1
    assert rules.DANGEROUS_GLOBAL in out
    assert not (project / "CANARY").exists()


def test_missing_path_exits_two(project: Path) -> None:
    result = CliRunner().invoke(
        scan_app(), ["scan", str(project / "nope.pt"), "--project", str(project)]
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_bad_severity_exits_two(project: Path) -> None:
    code, _ = _invoke(str(project), "--project", str(project), "--fail-on", "severe")
    assert code == 2


def test_json_matches_the_report_schema(project: Path) -> None:
    code, out = _invoke(
        str(project / "models"), "--project", str(project), "--no-record", "-f", "json"
    )
    document = json.loads(out)
    jsonschema.Draft202012Validator(schema_for(ScanReport)).validate(document)
    assert document["report"] == "scan"
    assert {s["path"] for s in document["scanned"]} == {"models/README.md", "models/weights.pkl"}
    assert document["limits"]["max_depth"] == 5
    assert code == 1


def test_sarif_matches_the_official_schema(project: Path, shared_dir: Path) -> None:
    (project / "models" / "evil.pkl").write_bytes(payload(project / "CANARY"))
    _, out = _invoke(
        str(project / "models"), "--project", str(project), "--no-record", "-f", "sarif"
    )
    schema = json.loads((shared_dir / "schemas" / "sarif-schema-2.1.0.json").read_text())
    document = json.loads(out)
    jsonschema.Draft7Validator(schema).validate(document)
    rule_ids = {r["id"] for r in document["runs"][0]["tool"]["driver"]["rules"]}
    assert rules.DANGEROUS_GLOBAL in rule_ids


def test_scan_is_recorded(project: Path) -> None:
    from ssdf_ai.store import EvidenceStore

    (project / "models" / "evil.pkl").write_bytes(payload(project / "CANARY"))
    code, _ = _invoke(str(project / "models"), "--project", str(project), "-q")
    assert code == 1
    with EvidenceStore.open(project, create=False) as store:
        run = store.runs()[0]
        assert run.command == "scan"
        assert run.exit_code == 1
        detail = store.get_run(run.id)
        names = {s.name: s for s in detail.subjects}
        assert set(names) == {"models/README.md", "models/evil.pkl", "models/weights.pkl"}
        assert names["models/evil.pkl"].kind == "model"
        assert names["models/README.md"].kind == "file"
        assert all(s.digest for s in names.values())
        recorded = {r.finding.rule_id for r in detail.findings}
        assert rules.DANGEROUS_GLOBAL in recorded
        report = [a for a in detail.artifacts if a.kind == "scan-report"]
        assert len(report) == 1
        stored = json.loads(store.read_blob(report[0].digest))
        assert stored["report"] == "scan"


def test_unsafe_allow_unscanned_downgrades_not_scanned(project: Path) -> None:
    (project / "models" / "blob.bin").write_bytes(bytes(range(256)) * 4)
    code, out = _invoke(
        str(project / "models"),
        "--project",
        str(project),
        "--no-record",
        "--fail-on",
        "medium",
        "-f",
        "json",
    )
    assert code == 1
    assert any(f["rule_id"] == rules.NOT_SCANNED for f in json.loads(out)["findings"])
    (project / "ssdf.toml").write_text(
        '[project]\nname = "demo"\nkind = "ai-model-producer"\n'
        "[checks]\nunsafe_allow_unscanned = true\n"
    )
    code, out = _invoke(
        str(project / "models"),
        "--project",
        str(project),
        "--no-record",
        "--fail-on",
        "medium",
        "-f",
        "json",
    )
    assert code == 0
    document = json.loads(out)
    assert document["unscanned_allowed"] is True
    assert {f["severity"] for f in document["findings"] if f["rule_id"] == rules.NOT_SCANNED} == {
        "info"
    }


def test_limits_options_apply(project: Path) -> None:
    code, out = _invoke(
        str(project / "models"),
        "--project",
        str(project),
        "--no-record",
        "--max-member-size",
        "10",
        "--max-depth",
        "1",
        "-f",
        "json",
    )
    document = json.loads(out)
    assert document["limits"]["max_member_bytes"] == 10
    assert document["limits"]["max_depth"] == 1
    assert any(f["rule_id"] == rules.NOT_SCANNED for f in document["findings"])
    assert code == 1


def test_scan_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "import typer\n"
        "from ssdf_ai.cli.scan import register\n"
        "app = typer.Typer()\n"
        "@app.callback()\n"
        "def root() -> None: pass\n"
        "register(app)\n"
        "assert CliRunner().invoke(app, ['scan', '--help']).exit_code == 0\n"
        "heavy = {'pydantic', 'sqlalchemy', 'yaml', 'cryptography', 'torch', 'numpy'}\n"
        "loaded = heavy & {m.split('.')[0] for m in sys.modules}\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
