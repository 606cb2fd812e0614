"""SARIF output validated against the official OASIS SARIF 2.1.0 schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ssdf_ai.findings import Confidence, Finding, Location, Severity
from ssdf_ai.report import OutputFormat, render
from ssdf_ai.report.base import FindingsReport, Report


@pytest.fixture(scope="module")
def sarif_validator(shared_dir: Path) -> jsonschema.Draft7Validator:
    schema = json.loads((shared_dir / "schemas" / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft7Validator(schema)


FINDINGS = [
    Finding(
        rule_id="SSDF-TEST-001",
        severity=Severity.CRITICAL,
        message="pickle imports os.system",
        location=Location(path="models/model.pkl", address="opcode 12"),
        cwe=("CWE-502",),
        task_ids=("PW.4.4", "PW.4.4.R2"),
        remediation="convert the model to safetensors",
    ),
    Finding(
        rule_id="SSDF-TEST-002",
        severity=Severity.LOW,
        confidence=Confidence.MEDIUM,
        message="hard-coded token",
        location=Location(path="train.py", line=3, column=7),
    ),
    Finding(rule_id="SSDF-TEST-002", severity=Severity.LOW, message="no location at all"),
    Finding(
        rule_id="SSDF-TEST-003",
        severity=Severity.MEDIUM,
        message="only a logical address",
        location=Location(address="tensor layer.0.weight"),
    ),
]


@pytest.mark.parametrize("findings", [FINDINGS, []], ids=["findings", "empty"])
def test_sarif_validates_against_official_schema(
    sarif_validator: jsonschema.Draft7Validator, findings: list[Finding]
) -> None:
    text = render(FindingsReport(findings=findings), OutputFormat.SARIF)
    log = json.loads(text)
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert not errors, errors[0].message if errors else ""
    run = log["runs"][0]
    assert len(run["results"]) == len(findings)


def test_sarif_content_maps_findings() -> None:
    log = json.loads(render(FindingsReport(findings=FINDINGS), OutputFormat.SARIF))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["SSDF-TEST-001", "SSDF-TEST-002", "SSDF-TEST-003"]
    assert rules[0]["properties"]["security-severity"] == "9.5"
    assert "PW.4.4.R2" in rules[0]["properties"]["tags"]
    assert "external/cwe/cwe-502" in rules[0]["properties"]["tags"]
    first, second = run["results"][:2]
    assert first["level"] == "error"
    assert first["ruleIndex"] == 0
    assert first["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "opcode 12"
    assert second["level"] == "note"
    assert second["ruleIndex"] == 1
    region = second["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 7}
    assert "locations" not in run["results"][2]


def test_sarif_refused_for_reports_without_findings() -> None:
    from ssdf_ai.errors import InputError

    with pytest.raises(InputError, match="sarif"):
        render(Report(), OutputFormat.SARIF)


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [(Severity.INFO, 1), (Severity.CRITICAL, 1), ("none", 0)],
)
def test_exit_code_follows_threshold(fail_on: Severity | str, expected: int) -> None:
    findings = FINDINGS if fail_on != "none" else FINDINGS[1:]
    threshold = Severity.CRITICAL if fail_on == "none" else fail_on
    assert FindingsReport(findings=findings, fail_on=threshold).exit_code() == expected


def test_severity_is_ordered_by_rank_not_alphabet() -> None:
    # As strings "critical" < "high" < "low" < "medium"; as severities the reverse holds.
    assert Severity.CRITICAL > Severity.HIGH > Severity.MEDIUM > Severity.LOW > Severity.INFO
    assert Severity.LOW <= Severity.LOW
    assert max([Severity.MEDIUM, Severity.CRITICAL, Severity.LOW]) is Severity.CRITICAL


def test_terminal_view_shows_brackets_in_input_literally() -> None:
    # Text from scanned input must not be read as rich markup (it would vanish or restyle).
    finding = Finding(
        rule_id="SSDF-TEST-001",
        severity=Severity.HIGH,
        message="member [bold]x[/bold] changed",
        location=Location(path="a.tar", address="blobs/[red]"),
    )
    text = render(FindingsReport(findings=[finding]), OutputFormat.TERMINAL, color=False, width=200)
    assert "[bold]x[/bold]" in text
    assert "a.tar (blobs/[red])" in text


def test_report_without_its_own_view_shows_its_data() -> None:
    text = render(Report(), OutputFormat.TERMINAL, color=False)
    assert '"report": "report"' in text
    assert '"name": "ssdf-ai"' in text
