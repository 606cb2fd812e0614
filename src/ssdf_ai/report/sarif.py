"""SARIF 2.1.0 renderer.

Follows the OASIS SARIF 2.1.0 specification (errata 01); every document is validated against
the official schema in the tests. Rules carry ``properties.security-severity`` so that GitHub
code scanning ranks them, and ``properties.tags`` with the SP 800-218A task ids.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ssdf_ai._version import __version__

if TYPE_CHECKING:
    from ssdf_ai.findings import Finding, Rule
    from ssdf_ai.report.base import FindingsReport

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/ssdf-ai/ssdf-ai"


def _rule(rule: Rule) -> dict[str, Any]:
    tags = ["security", *rule.task_ids, *(f"external/cwe/{c.lower()}" for c in rule.cwe)]
    entry: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.description},
        "defaultConfiguration": {"level": rule.severity.sarif_level},
        "properties": {
            "security-severity": rule.severity.security_severity,
            "severity": rule.severity.value,
            "tags": tags,
        },
    }
    if rule.help_uri:
        entry["helpUri"] = rule.help_uri
    return entry


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": finding.severity.sarif_level,
        "message": {"text": finding.message},
        "properties": {
            "severity": finding.severity.value,
            "confidence": finding.confidence.value,
            "task_ids": list(finding.task_ids),
        },
    }
    loc = finding.location
    location: dict[str, Any] = {}
    if loc.path:
        physical: dict[str, Any] = {"artifactLocation": {"uri": loc.path}}
        if loc.line:
            region: dict[str, Any] = {"startLine": loc.line}
            if loc.column:
                region["startColumn"] = loc.column
            physical["region"] = region
        location["physicalLocation"] = physical
    if loc.address:
        location["logicalLocations"] = [{"fullyQualifiedName": loc.address}]
    if location:
        result["locations"] = [location]
    if finding.remediation:
        result["properties"]["remediation"] = finding.remediation
    return result


def render_sarif(report: FindingsReport) -> str:
    """Render a findings report as a SARIF 2.1.0 log with one run.

    Args:
        report: The report.

    Returns:
        The SARIF JSON text.
    """
    rules = report.rules()
    index = {rule.id: i for i, rule in enumerate(rules)}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ssdf-ai",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "results": [_result(f, index[f.rule_id]) for f in report.findings],
                "properties": {"report": report.report},
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"
