"""`ssdf assess` and `ssdf gate` run the code and environment checks that have not run lately,
record them as the commands would, and the code controls read them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ssdf_ai.cli import app
from ssdf_ai.store import EvidenceStore

CHECKS = ["code", "secrets", "deps", "env"]


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    root.mkdir()
    result = CliRunner().invoke(app, ["init", str(root), "--name", "p", "-q"])
    assert result.exit_code == 0, result.stdout + result.stderr
    (root / "train.py").write_text("import torch\nmodel = torch.load(path)\n")
    return root


def _runs(root: Path) -> list[str]:
    with EvidenceStore.open(root, create=False) as store:
        return [r.command for r in reversed(store.runs()) if r.command in CHECKS]


def _assess(root: Path, *args: str) -> dict[str, dict[str, str]]:
    result = CliRunner().invoke(app, ["assess", str(root), "-f", "json", *args])
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    return {c["meta"]["id"]: c["result"] for c in data["controls"]}


def test_assess_runs_each_check_once_a_day_and_reads_it(tmp_path: Path) -> None:
    root = _project(tmp_path)
    controls = _assess(root)
    assert _runs(root) == CHECKS
    code = controls["code-analysed"]
    assert code["outcome"] == "not-satisfied"
    assert "SSDF-CODE-001" in code["rationale"]
    assert controls["environment-least-privilege"]["outcome"] == "satisfied"
    # No advisory database yet: the dependency check says so, as a high finding.
    assert "SSDF-DEP-007" in controls["dependencies-checked"]["rationale"]
    _assess(root)
    assert _runs(root) == CHECKS  # fresh: not run again
    _assess(root, "--checks-max-age", "0")
    assert _runs(root) == CHECKS * 2
    with EvidenceStore.open(root, create=False) as store:
        (run,) = [r for r in store.runs() if r.command == "code"][:1]
        assert run.argv[0] == "ssdf"
        assert run.argv[-1] == "(ran ssdf code .)"


def test_fixed_code_satisfies_the_control_on_the_next_run(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _assess(root)
    (root / "train.py").write_text("import torch\nmodel = torch.load(path, weights_only=True)\n")
    controls = _assess(root, "--checks-max-age", "0")
    assert controls["code-analysed"]["outcome"] == "satisfied"


def test_no_run_checks_and_no_record_leave_the_checks_alone(tmp_path: Path) -> None:
    root = _project(tmp_path)
    controls = _assess(root, "--no-run-checks")
    assert _runs(root) == []
    assert "no code analysis is recorded" in controls["code-analysed"]["rationale"]
    result = CliRunner().invoke(app, ["assess", str(root), "--no-record", "-q"])
    assert result.exit_code == 0
    assert _runs(root) == []


def test_the_gate_runs_them_too(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = CliRunner().invoke(app, ["gate", str(root), "-f", "json"])
    assert result.exit_code == 1
    assert _runs(root) == CHECKS
    addresses = {f["location"]["address"] for f in json.loads(result.stdout)["findings"]}
    assert "control:code-analysed" in addresses


def test_a_check_that_cannot_run_is_reported_and_skipped(tmp_path: Path) -> None:
    """A .git folder that is not a repository makes the checks that read git fail (closed:
    no history, no committed files); the others run, and the assessment goes on."""
    root = _project(tmp_path)
    (root / ".git").mkdir()
    result = CliRunner().invoke(app, ["assess", str(root)])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "ssdf secrets could not run" in result.stderr
    assert "ssdf env could not run" in result.stderr
    assert _runs(root) == ["code", "deps"]
