"""``ssdf env`` end to end: JSON (against the report's schema) and SARIF (against the OASIS
schema), exit codes, evidence, and a repository whose configuration tries to run a command."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from safetensors.numpy import save_file
from typer.testing import CliRunner

from ssdf_ai.cli import app
from ssdf_ai.code import env_rules as rules
from ssdf_ai.code.env_report import EnvReport
from ssdf_ai.report.schema import schema_for

PEM = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
WORKFLOW = """
on: pull_request_target
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
"""


def _git(repo: Path, *args: str) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(repo),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com",  # noqa: S607
         "-c", "init.defaultBranch=main", *args],
        cwd=repo, env=env, check=True, capture_output=True,
    )  # fmt: skip


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["env", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    root.chmod(0o755)
    (root / "ssdf.toml").write_text('[project]\nname = "demo"\nkind = "ai-model-producer"\n')
    return root


@pytest.fixture
def messy(project: Path) -> Path:
    """A repository with one mistake of each area."""
    _git(project, "init", "-q")
    (project / "id_rsa").write_text(PEM)
    (project / "id_rsa").chmod(0o644)
    models = project / "models"
    models.mkdir()
    save_file({"w": np.zeros((2, 2), dtype=np.float32)}, str(models / "policy.safetensors"))
    save_file({"w": np.ones((2, 2), dtype=np.float32)}, str(models / "reward.safetensors"))
    (models / "policy.safetensors").chmod(0o666)
    workflows = project / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "pr.yml").write_text(textwrap.dedent(WORKFLOW).lstrip())
    (workflows / "broken.yaml").write_text("on: [push\n")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "init")
    return project


def _json(path: Path, *args: str, project: Path | None = None) -> tuple[int, dict[str, Any]]:
    code, out, err = _run(str(path), "--project", str(project or path), "-f", "json", *args)
    assert code in (0, 1), err + out
    return code, json.loads(out)


def test_json_report(messy: Path) -> None:
    code, report = _json(messy, "--no-record")
    assert code == 1
    schema = schema_for(EnvReport)
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(report))
    assert report["report"] == "env"
    assert report["path"] == "."
    assert report["git"] is True
    assert report["weights_found"] == 2
    assert report["keys"] == ["id_rsa"]
    found = {
        (f["rule_id"], f["location"]["path"], f["location"]["line"]) for f in report["findings"]
    }
    wf = ".github/workflows/pr.yml"
    assert {
        (rules.KEY_PERMISSIONS, "id_rsa", None),
        (rules.SECRET_COMMITTED, "id_rsa", None),
        (rules.MODEL_PERMISSIONS, "models/policy.safetensors", None),
        (rules.WEIGHTS_COMMITTED, "models/policy.safetensors", None),
        (rules.REWARD_BESIDE, "models/reward.safetensors", None),
        (rules.UNPINNED_ACTION, wf, 6),
        (rules.TOKEN_PERMISSIONS, wf, 3),
        (rules.UNTRUSTED_CHECKOUT, wf, 8),
        (rules.SCRIPT_INJECTION, wf, 9),
        (rules.WORKFLOW_UNCHECKED, ".github/workflows/broken.yaml", None),
    } <= found
    assert report["counts"]["workflows"] == 5
    assert {w["path"]: w["checked"] for w in report["workflows"]} == {
        ".github/workflows/broken.yaml": False,
        wf: True,
    }


def test_sarif_validates(messy: Path, shared_dir: Path) -> None:
    code, out, err = _run(str(messy), "--project", str(messy), "--no-record", "-f", "sarif")
    assert code == 1, err
    sarif = json.loads(out)
    schema = json.loads((shared_dir / "schemas" / "sarif-schema-2.1.0.json").read_text())
    assert not list(jsonschema.Draft7Validator(schema).iter_errors(sarif))
    driver = sarif["runs"][0]["tool"]["driver"]
    assert {rules.SECRET_COMMITTED, rules.SCRIPT_INJECTION} <= {r["id"] for r in driver["rules"]}
    lines = {
        r["ruleId"]: r["locations"][0]["physicalLocation"].get("region", {}).get("startLine")
        for r in sarif["runs"][0]["results"]
    }
    assert lines[rules.SCRIPT_INJECTION] == 9


def test_exit_codes_and_fail_on(project: Path) -> None:
    code, out, err = _run(str(project), "--project", str(project), "--no-record")
    assert code == 0, err
    assert "No findings" in out
    (project / "data").mkdir()
    (project / "data" / "train.csv").write_text("a\n1\n")
    (project / "data" / "train.csv").chmod(0o664)  # group-writable data: medium
    assert _run(str(project), "--project", str(project), "--no-record")[0] == 1
    code, _, _ = _run(str(project), "--project", str(project), "--no-record", "--fail-on", "high")
    assert code == 0
    (project / "ssdf.toml").write_text(
        '[project]\nname = "demo"\nkind = "ai-model-producer"\n[checks]\nfail_on = "critical"\n'
    )
    assert _run(str(project), "--project", str(project), "--no-record")[0] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{root}/absent"], "does not exist"),
        (["{root}/ssdf.toml"], "is not a folder"),
        (["{root}", "--fail-on", "severe"], "unknown severity"),
    ],
)
def test_usage_errors_exit_2(project: Path, args: list[str], message: str) -> None:
    argv = [a.format(root=project) for a in args]
    code, _, err = _run(*argv, "--project", str(project), "--no-record")
    assert code == 2
    assert message in err


def test_records_evidence(messy: Path) -> None:
    code, report = _json(messy)
    assert code == 1
    from ssdf_ai.evidence import SubjectKind
    from ssdf_ai.store import EvidenceStore

    with EvidenceStore.open(messy, create=False) as store:
        runs = [r for r in store.runs() if r.command == "env"]
        assert len(runs) == 1
        detail = store.get_run(runs[0].id)
        assert [(s.kind, s.name) for s in detail.subjects] == [(SubjectKind.REPOSITORY, ".")]
        assert [a.kind for a in detail.artifacts] == ["env-report"]
        assert len(detail.findings) == len(report["findings"])
        assert runs[0].exit_code == 1


def test_subfolder_is_named_relative_to_the_project(project: Path) -> None:
    sub = project / "svc"
    (sub / "keys").mkdir(parents=True)
    (sub / "keys" / "tls.key").write_text("secret\n")
    (sub / "keys" / "tls.key").chmod(0o644)
    code, report = _json(sub, project=project)
    assert code == 1
    assert report["path"] == "svc"
    assert [f["location"]["path"] for f in report["findings"]] == ["svc/keys/tls.key"]
    from ssdf_ai.store import EvidenceStore

    with EvidenceStore.open(project, create=False) as store:
        assert [s.name for s in store.subjects()] == ["svc"]


def test_repository_configuration_cannot_run_commands(project: Path, tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    hook = tmp_path / "fsmonitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {canary}\nexit 1\n")
    hook.chmod(0o755)
    _git(project, "init", "-q")
    (project / ".env").write_text("A=1\n")
    (project / ".env").chmod(0o600)
    save_file({"w": np.zeros(2, dtype=np.float32)}, str(project / "m.safetensors"))
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "init")
    _git(project, "config", "core.fsmonitor", str(hook))
    # The trap is real: plain git runs the command on an ordinary read.
    subprocess.run(
        ["git", "status", "--porcelain"],  # noqa: S607
        cwd=project, capture_output=True, check=False,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"},
    )  # fmt: skip
    assert canary.exists()
    canary.unlink()
    code, report = _json(project, "--no-record")
    assert code == 1
    assert {f["rule_id"] for f in report["findings"]} == {
        rules.SECRET_COMMITTED,
        rules.WEIGHTS_COMMITTED,
    }
    assert not canary.exists()
