"""Every command's --format json output validates against its published schema in docs/schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from ssdf_ai.cli import app

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "docs" / "schema"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("json") / "churn"
    shutil.copytree(REPO / "examples" / "churn", root)
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["evidence", "add", str(root / "data" / "DATA_CARD.md"), "--kind", "data-card",
         "--subject", str(root / "data" / "customers.csv"), "--subject-kind", "dataset",
         "--project", str(root)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    archive = root.parent / "evidence.tar"
    result = runner.invoke(app, ["evidence", "export", str(archive), "--project", str(root)])
    assert result.exit_code == 0, result.output
    return root


COMMANDS = [
    ["profile", "list"],
    ["profile", "list", "--group", "PW", "--items"],
    ["profile", "show", "PW.4"],
    ["profile", "show", "PW.4.4.R2"],
    ["config", "validate", "{root}"],
    ["config", "show", "{root}"],
    ["evidence", "list", "--project", "{root}"],
    ["evidence", "list", "--kind", "artifacts", "--project", "{root}"],
    ["evidence", "list", "--kind", "findings", "--project", "{root}"],
    ["evidence", "show", "1", "--project", "{root}"],
    ["evidence", "verify", "{root}/../evidence.tar"],
    ["evidence", "verify", "--project", "{root}"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_json_output_matches_published_schema(project: Path, args: list[str]) -> None:
    argv = [a.format(root=project) for a in args] + ["--format", "json"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    schema_file = SCHEMAS / f"{data['report']}.schema.json"
    assert schema_file.is_file(), f"no published schema for report {data['report']!r}"
    schema = json.loads(schema_file.read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(data))
    assert not errors, errors[0]


def test_init_json_output_matches_published_schema(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["init", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    schema = json.loads((SCHEMAS / f"{data['report']}.schema.json").read_text())
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
