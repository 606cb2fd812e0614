"""``ssdf init``, ``ssdf config validate`` and ``ssdf config show`` through the real CLI."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from ssdf_ai.config import Area, load_config, load_config_file

Ssdf = Callable[..., tuple[int, str, str]]


@pytest.mark.parametrize("kind", ["ai-model-producer", "ai-system-producer", "acquirer"])
def test_init_writes_a_config_that_validates(tmp_path: Path, ssdf: Ssdf, kind: str) -> None:
    code, stdout, stderr = ssdf("init", tmp_path, "--name", 'Churn "v2"', "--kind", kind)
    assert (code, stderr) == (0, "")
    assert "wrote" in stdout
    path = tmp_path / "ssdf.toml"
    loaded = load_config_file(path)
    assert loaded.config.project.name == 'Churn "v2"'
    assert loaded.config.project.kind.value == kind
    # The example roles cover every area PO.2.1.R1 names, and nothing warns.
    assert {a for r in loaded.config.roles for a in r.covers} == set(Area)
    assert loaded.warnings == ()
    assert all(r.reviewed == dt.date.today() for r in loaded.config.roles)
    code, stdout, _ = ssdf("config", "validate", tmp_path)
    assert code == 0
    assert "valid" in stdout


def test_init_explains_sections_with_task_ids(tmp_path: Path, ssdf: Ssdf) -> None:
    assert ssdf("init", tmp_path)[0] == 0
    text = (tmp_path / "ssdf.toml").read_text()
    for section, task in [
        ("[project]", "PO.2.1"),
        ("[paths]", "PW.4.4"),
        ("[[roles]]", "PO.2.1.R1"),
        ("[responsibility]", "PO.2.1.N1"),
        ("[[requirements]]", "PO.1.3"),
        ("[checks]", "PO.4.1"),
        ("[store]", "PO.3.3"),
        ("[data]", "PS.3.2 R2"),
        ("[[models]]", "PS.3.1 R2"),
    ]:
        assert section in text
        assert task in text
    assert "unsafe_" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_init_detects_folders(tmp_path: Path, ssdf: Ssdf) -> None:
    for folder in ("models", "data", "datasets", "src"):
        (tmp_path / folder).mkdir()
    (tmp_path / "train.py").write_text("")
    code, stdout, _ = ssdf("init", tmp_path, "-f", "json")
    assert code == 0
    report = json.loads(stdout)
    assert report["report"] == "config-init"
    assert report["detected"] == {
        "models": ["models"],
        "datasets": ["data", "datasets"],
        "code": ["src", "*.py"],
    }
    paths = load_config(tmp_path).config.paths
    assert (paths.models, paths.datasets, paths.code) == (
        ("models",),
        ("data", "datasets"),
        ("src", "*.py"),
    )


def test_init_without_folders_checks_the_whole_project(tmp_path: Path, ssdf: Ssdf) -> None:
    assert ssdf("init", tmp_path)[0] == 0
    paths = load_config(tmp_path).config.paths
    assert paths.models == paths.datasets == paths.code == (".",)


def test_init_refuses_to_overwrite(tmp_path: Path, ssdf: Ssdf) -> None:
    (tmp_path / "ssdf.toml").write_text("# mine\n")
    code, stdout, stderr = ssdf("init", tmp_path)
    assert code == 2
    assert "already exists" in stderr
    assert "--force" in stderr
    assert (tmp_path / "ssdf.toml").read_text() == "# mine\n"
    code, stdout, _ = ssdf("init", tmp_path, "--force")
    assert code == 0
    assert "replaced" in stdout
    assert tomllib.loads((tmp_path / "ssdf.toml").read_text())["project"]


def test_init_into_missing_directory(tmp_path: Path, ssdf: Ssdf) -> None:
    code, _, stderr = ssdf("init", tmp_path / "nope")
    assert code == 2
    assert "not a directory" in stderr


def test_init_rejects_unknown_kind(tmp_path: Path, ssdf: Ssdf) -> None:
    code, _, stderr = ssdf("init", tmp_path, "--kind", "vendor")
    assert code == 2
    assert "ai-model-producer" in stderr
    assert not (tmp_path / "ssdf.toml").exists()


def test_validate_without_config_exits_2_with_hint(tmp_path: Path, ssdf: Ssdf) -> None:
    code, stdout, stderr = ssdf("config", "validate", tmp_path)
    assert (code, stdout) == (2, "")
    assert "no ssdf configuration found" in stderr
    assert "ssdf init" in stderr


def test_validate_json_report(
    write_config: Callable[..., Path], valid_text: str, ssdf: Ssdf
) -> None:
    path = write_config(valid_text + "\n[checks]\nunsafe_accept_stale_evidence = true\n")
    code, stdout, _ = ssdf("config", "validate", path.parent, "--format", "json")
    assert code == 0
    report = json.loads(stdout)
    assert report["report"] == "config-validation"
    assert report["valid"] is True
    assert report["file"] == str(path)
    assert report["source"] == "ssdf.toml"
    assert report["project"] == "churn"
    assert [r["name"] for r in report["roles"]] == ["ML engineering", "MLOps"]
    assert report["roles"][0]["covers"] == ["ai-model-development"]
    assert report["requirements"] == 1
    assert report["responsibility"] == {"PS.2.1": "model-provider"}
    [warning] = report["warnings"]
    assert warning["key"] == "checks.unsafe_accept_stale_evidence"
    assert warning["where"] == f"{path}:36"


def test_validate_terminal_report_lists_warnings(
    write_config: Callable[..., Path], valid_text: str, ssdf: Ssdf
) -> None:
    path = write_config(valid_text + "\n[checks]\nunsafe_allow_unscanned = true\n")
    code, stdout, _ = ssdf("config", "validate", path)
    assert code == 0
    assert f"valid: {path}" in stdout
    assert "churn" in stdout
    assert "ML engineering" in stdout
    assert "1 warning(s)" in stdout
    assert "unsafe setting on" in stdout


def test_validate_searches_upwards(
    write_config: Callable[..., Path], valid_text: str, ssdf: Ssdf
) -> None:
    path = write_config(valid_text)
    deep = path.parent / "src" / "pkg"
    deep.mkdir(parents=True)
    code, stdout, _ = ssdf("config", "validate", deep, "-f", "json")
    assert code == 0
    assert json.loads(stdout)["file"] == str(path)


def test_show_fills_in_defaults(tmp_path: Path, ssdf: Ssdf) -> None:
    code, stdout, _ = ssdf("config", "show", tmp_path)
    assert code == 0
    assert "no configuration file: defaults" in stdout
    shown = tomllib.loads(stdout)
    assert shown["checks"]["fail_on"] == "low"
    assert shown["checks"]["evidence"]["max_age_days"] == 90
    assert shown["paths"]["models"] == ["."]
    code, stdout, _ = ssdf("config", "show", tmp_path, "-f", "json")
    report = json.loads(stdout)
    assert report["report"] == "config"
    assert report["source"] == "defaults"
    assert report["file"] is None
    assert report["config"]["checks"]["require_approval_for"] == ["high", "critical"]


def test_help_lists_the_commands() -> None:
    ssdf = Path(sys.executable).with_name("ssdf")
    result = subprocess.run([ssdf, "--help"], capture_output=True, text=True, check=True)
    assert "init" in result.stdout
    assert "config" in result.stdout
    result = subprocess.run([ssdf, "config", "--help"], capture_output=True, text=True, check=True)
    assert "validate" in result.stdout
    assert "show" in result.stdout


def test_help_does_not_import_pydantic() -> None:
    code = "import sys, ssdf_ai.cli; print('pydantic' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.stdout.strip() == "True":
        # Another command group may import pydantic at start-up; this module must not.
        code = "import sys, ssdf_ai.cli.config; print('ssdf_ai.config' in sys.modules)"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False"


def test_show_prints_long_values_unwrapped(
    write_config: Callable[..., Path], valid_text: str, ssdf: Ssdf
) -> None:
    long_text = "Models are scanned before use. " * 8
    path = write_config(valid_text.replace("Models are scanned before use.", long_text.strip()))
    code, stdout, _ = ssdf("config", "show", path)
    assert code == 0
    assert tomllib.loads(stdout)["requirements"][0]["text"] == long_text.strip()


def test_init_warns_when_pyproject_already_configures(tmp_path: Path, ssdf: Ssdf) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.ssdf.project]\nname = "x"\nkind = "acquirer"\n')
    code, stdout, _ = ssdf("init", tmp_path, "-f", "json")
    assert code == 0
    [warning] = json.loads(stdout)["warnings"]
    assert warning["key"] == "tool.ssdf"


def test_validate_a_pyproject_file(tmp_path: Path, ssdf: Ssdf) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "pkg"\n\n[tool.ssdf.project]\nkind = "acquirer"\n')
    code, stdout, _ = ssdf("config", "validate", path, "-f", "json")
    assert code == 0
    report = json.loads(stdout)
    assert (report["source"], report["project"]) == ("pyproject.toml", "pkg")
    assert any(w["key"] == "tool.ssdf.roles" for w in report["warnings"])
    path.write_text('[tool.ssdf.project]\nname = "pkg"\nkind = "buyer"\n')
    code, _, stderr = ssdf("config", "validate", path)
    assert code == 2
    assert f"{path}:3: tool.ssdf.project.kind: 'buyer' is not an allowed value" in stderr


def test_init_quotes_hostile_names(tmp_path: Path, ssdf: Ssdf) -> None:
    name = 'x"\n[checks]\nunsafe_allow_unscanned = true\n# \x7f'
    assert ssdf("init", tmp_path, "--name", name)[0] == 0
    loaded = load_config(tmp_path)
    assert loaded.config.project.name == name
    assert loaded.config.checks.unsafe_allow_unscanned is False


def test_json_reports_match_their_schemas(
    write_config: Callable[..., Path], valid_text: str, ssdf: Ssdf
) -> None:
    import jsonschema

    from ssdf_ai.config import ConfigShowReport, ConfigValidationReport, InitReport
    from ssdf_ai.report.schema import schema_for

    path = write_config(valid_text + "\n[checks]\nunsafe_allow_unscanned = true\n")
    for args, cls in [
        (("config", "validate", path), ConfigValidationReport),
        (("config", "show", path), ConfigShowReport),
        (("init", path.parent / "sub"), InitReport),
    ]:
        if cls is InitReport:
            (path.parent / "sub").mkdir()
        code, stdout, _ = ssdf(*args, "-f", "json")
        assert code == 0
        document = json.loads(stdout)
        assert document["report"] == cls.report_type
        jsonschema.validate(document, schema_for(cls))
