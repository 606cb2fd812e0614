"""``ssdf code``: output formats, exit codes, suppressions and the evidence it records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from ssdf_ai.cli import app
from ssdf_ai.code.code_report import CodeReport
from ssdf_ai.evidence import SubjectKind
from ssdf_ai.store import EvidenceStore

UNSAFE = """\
import torch
import yaml
from transformers import AutoModel

state = torch.load("ckpt.pt")  # ssdf: ignore[SSDF-CODE-001] weights come from our signed registry
model = AutoModel.from_pretrained("bert-base-uncased")
cfg = yaml.load(open("c.yaml"))
other = torch.load("other.pt")  # ssdf: ignore[SSDF-CODE-001]
"""


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["code", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "ssdf.toml").write_text('[project]\nname = "demo"\nkind = "ai-model-producer"\n')
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text(UNSAFE)
    (src / "clean.py").write_text("import yaml\ncfg = yaml.safe_load(open('c.yaml'))\n")
    return tmp_path


def _json(project: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = _run(*args, "--project", str(project), "--format", "json")
    assert code in (0, 1), err + out
    return code, json.loads(out)


def test_json_report(project: Path) -> None:
    code, report = _json(project, str(project / "src"), "--no-record")
    assert code == 1
    assert report["report"] == "code"
    assert (report["files"], report["notebooks"], report["path"]) == (2, 0, "src")
    assert report["lines"] == 10
    found = sorted((f["rule_id"], f["location"]["line"]) for f in report["findings"])
    assert found == [
        ("SSDF-CODE-001", 8),
        ("SSDF-CODE-004", 6),
        ("SSDF-CODE-005", 7),
        ("SSDF-CODE-012", 8),
    ]
    assert {f["location"]["path"] for f in report["findings"]} == {"src/train.py"}
    assert report["counts"] == {
        "SSDF-CODE-001": 1,
        "SSDF-CODE-004": 1,
        "SSDF-CODE-005": 1,
        "SSDF-CODE-012": 1,
    }
    assert report["suppressed"] == [
        {
            "rule_id": "SSDF-CODE-001",
            "path": "src/train.py",
            "line": 5,
            "justification": "weights come from our signed registry",
            "message": report["suppressed"][0]["message"],
        }
    ]
    schema = CodeReport.model_json_schema(mode="serialization")
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(report))


def test_sarif_validates_against_the_official_schema(project: Path, shared_dir: Path) -> None:
    code, out, err = _run(
        str(project / "src"), "--project", str(project), "--no-record", "-f", "sarif"
    )
    assert code == 1, err
    sarif = json.loads(out)
    schema = json.loads((shared_dir / "schemas" / "sarif-schema-2.1.0.json").read_text())
    assert not list(jsonschema.Draft7Validator(schema).iter_errors(sarif))
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == {"SSDF-CODE-001", "SSDF-CODE-004", "SSDF-CODE-005", "SSDF-CODE-012"}
    assert rules["SSDF-CODE-004"]["name"] == "unpinned-hub-download"
    assert len(sarif["runs"][0]["results"]) == 4


def test_fail_on_and_rule_filter(project: Path) -> None:
    target = str(project / "src")
    code, report = _json(project, target, "--no-record", "--fail-on", "critical")
    assert code == 0
    assert len(report["findings"]) == 4
    code, report = _json(project, target, "--no-record", "--rule", "ssdf-code-004")
    assert code == 1
    assert [f["rule_id"] for f in report["findings"]] == ["SSDF-CODE-004"]
    assert report["rules_run"] == ["SSDF-CODE-004"]
    code, report = _json(project, str(project / "src" / "clean.py"), "--no-record")
    assert (code, report["findings"], report["path"]) == (0, [], "src/clean.py")


def test_terminal_view(project: Path) -> None:
    code, out, _ = _run(str(project / "src"), "--project", str(project), "--no-record")
    assert code == 1
    assert "2 file(s)" in out
    assert "1 suppressed" in out
    assert "unpinned-hub-download" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.py"], "does not exist"),
        (["src", "--rule", "SSDF-CODE-999"], "unknown rule"),
        (["src", "--fail-on", "severe"], "unknown severity"),
    ],
)
def test_bad_input_exits_2(project: Path, args: list[str], message: str) -> None:
    args = [str(project / args[0]), *args[1:]]
    code, out, err = _run(*args, "--project", str(project), "--no-record")
    assert code == 2
    assert message in err + out
    assert not (project / ".ssdf").exists()


def test_records_a_run_with_subject_findings_and_report(project: Path) -> None:
    code, out, err = _run(str(project / "src"), "--project", str(project), "-f", "json")
    assert code == 1, err
    assert "recorded as run:" in err
    with EvidenceStore.open(project, create=False) as store:
        run = store.runs()[0]
        assert run.command == "code"
        assert run.exit_code == 1
        detail = store.get_run(run.id)
        assert [(s.kind, s.name) for s in detail.subjects] == [(SubjectKind.REPOSITORY, "src")]
        assert len(detail.findings) == 4
        (artifact,) = store.artifacts("code-report", run_id=run.id)
        stored = json.loads(store.read_blob(artifact.digest))
    assert stored == json.loads(out)
