"""The options every command shares, exercised through a real typer app and the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ssdf_ai._io import atomic_write, atomic_writer
from ssdf_ai.cli._common import FORMATS_ALL, Output, command
from ssdf_ai.errors import InputError
from ssdf_ai.findings import Finding, Severity
from ssdf_ai.report.base import FindingsReport

app = typer.Typer()


@command(app, "check", formats=FORMATS_ALL)
def _check(
    severity: str = typer.Option("none", help="severity of the one finding, or none"),
    explode: bool = typer.Option(False, help="raise an InputError"),
    *,
    out: Output,
) -> FindingsReport:
    if explode:
        raise InputError("the input is bad", where="somewhere.toml:3", hint="fix line 3")
    findings = []
    if severity != "none":
        findings.append(
            Finding(rule_id="SSDF-TEST-001", severity=Severity(severity), message="a problem")
        )
    return FindingsReport(findings=findings, fail_on=Severity.MEDIUM)


@command(app, "plain")
def _plain(*, out: Output) -> FindingsReport:
    return FindingsReport()


runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_clean_run_exits_zero_with_terminal_table() -> None:
    code, stdout, _ = invoke("check")
    assert code == 0
    assert "No findings" in stdout


@pytest.mark.parametrize(("severity", "code"), [("low", 0), ("medium", 1), ("critical", 1)])
def test_exit_code_follows_findings_threshold(severity: str, code: int) -> None:
    assert invoke("check", "--severity", severity)[0] == code


def test_json_output_parses() -> None:
    code, stdout, _ = invoke("check", "--severity", "high", "--format", "json")
    assert code == 1
    data = json.loads(stdout)
    assert data["report"] == "findings"
    assert data["findings"][0]["severity"] == "high"


def test_output_file_is_written_and_stdout_stays_empty(tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    code, stdout, stderr = invoke("check", "-f", "sarif", "-o", str(target))
    assert code == 0
    assert stdout == ""
    assert json.loads(target.read_text())["version"] == "2.1.0"
    assert "wrote sarif report" in stderr
    assert [p.name for p in tmp_path.iterdir()] == ["report.sarif"]


def test_quiet_prints_nothing() -> None:
    code, stdout, stderr = invoke("check", "--severity", "high", "--quiet")
    assert (code, stdout, stderr) == (1, "", "")


def test_error_is_diagnosed_with_exit_2() -> None:
    code, stdout, stderr = invoke("check", "--explode")
    assert code == 2
    assert stdout == ""
    assert "error: the input is bad" in stderr
    assert "where: somewhere.toml:3" in stderr
    assert "what to do: fix line 3" in stderr


def test_verbose_reraises_with_traceback() -> None:
    result = runner.invoke(app, ["check", "--explode", "--verbose"])
    assert isinstance(result.exception, InputError)


def test_format_not_supported_by_command_is_exit_2() -> None:
    code, _, stderr = invoke("plain", "--format", "sarif")
    assert code == 2
    assert "'sarif' is not one of" in stderr


@pytest.mark.parametrize(
    "args", [["check", "--no-such-option"], ["check", "--format", "xml"], ["nope"]]
)
def test_bad_arguments_exit_2(args: list[str]) -> None:
    assert invoke(*args)[0] == 2


def test_output_into_missing_directory_is_exit_2(tmp_path: Path) -> None:
    code, _, stderr = invoke("check", "-f", "json", "-o", str(tmp_path / "no" / "such.json"))
    assert code == 2
    assert "does not exist" in stderr


def test_atomic_writer_keeps_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    atomic_write(target, "old")

    def crash_mid_write() -> None:
        with atomic_writer(target) as handle:
            handle.write(b"half of the new")
            raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        crash_mid_write()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.parametrize(
    "argv",
    [
        [str(Path(sys.executable).with_name("ssdf")), "--version"],
        [sys.executable, "-m", "ssdf_ai", "--version"],
    ],
)
def test_version_from_the_installed_entry_points(argv: list[str]) -> None:
    from ssdf_ai import __version__

    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.strip() == f"ssdf-ai {__version__}"


def test_help_lists_every_command_group() -> None:
    ssdf = str(Path(sys.executable).with_name("ssdf"))
    result = subprocess.run([ssdf, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    for group in (
        "init",
        "config",
        "profile",
        "evidence",
        "assess",
        "gate",
        "controls",
        "keys",
        "attest",
        "waive",
        "approve",
    ):
        assert group in result.stdout


def test_help_of_every_group_imports_no_heavy_library() -> None:
    # Start-up stays fast only if help never loads pydantic, SQLAlchemy, Alembic or YAML
    # (typer 0.29 did, through its option adapters: see docs/benchmarks.md).
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from ssdf_ai.cli import app\n"
        "for args in ([], ['profile'], ['config'], ['evidence'], ['init'], ['keys'],\n"
        "             ['assess'], ['gate'], ['controls'], ['attest'], ['waive'], ['approve'],\n"
        "             ['scan'], ['convert'], ['hash'], ['sign'], ['verify'], ['diff'],\n"
        "             ['watch'], ['record'], ['provenance'], ['data'], ['bom'], ['card'],\n"
        "             ['release']):\n"
        "    assert CliRunner().invoke(app, [*args, '--help']).exit_code == 0, args\n"
        "heavy = ('pydantic', 'sqlalchemy', 'alembic', 'yaml', 'cryptography', 'torch', 'numpy')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
